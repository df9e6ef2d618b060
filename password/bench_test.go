package password_test

import (
	"context"
	"testing"

	"github.com/sessionauth/sessionauth/password"
)

// BenchmarkHash is the cost of hashing one password with the default
// parameters.
func BenchmarkHash(b *testing.B) {
	h := newHasher(b, password.Params{})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.Hash(context.Background(), "correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerify is the cost of one check with the default parameters, on
// one goroutine.
func BenchmarkVerify(b *testing.B) {
	h := newHasher(b, password.Params{})
	hash, err := h.Hash(context.Background(), "correct horse battery staple")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := h.Verify(context.Background(), "wrong", hash); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyParallel is the throughput of checks with the default
// parameters and MaxConcurrent (GOMAXPROCS): checks/s is the number of
// sign-ins per second the machine can verify (run with -cpu 2 for 2 cores).
func BenchmarkVerifyParallel(b *testing.B) {
	h := newHasher(b, password.Params{})
	hash, err := h.Hash(context.Background(), "correct horse battery staple")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, _, err := h.Verify(context.Background(), "wrong", hash); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "checks/s")
}
