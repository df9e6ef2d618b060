package memstore_test

import (
	"context"
	"crypto/sha256"
	"log/slog"
	"math/rand/v2"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/sessionauth/sessionauth"
	"github.com/sessionauth/sessionauth/store/memstore"
)

// benchPopulation is a store filled with n sessions made by a Manager, the
// SHA-256 of their tokens, and what they cost in memory.
type benchPopulation struct {
	store  *memstore.Store
	hashes [][32]byte
	now    time.Time
	// stored is the heap growth per session after Create, loaded after
	// every session has also been authenticated once.
	stored, loaded float64
	// record is the mean size of the encoded records.
	record float64
}

// benchPopulations caches populations for the life of the test process:
// a million sessions take seconds to create, and a benchmark function may
// run more than once (-count).
var benchPopulations struct {
	sync.Mutex
	m map[int]*benchPopulation
}

// population returns a store of n sessions of n/4 users, each created with
// the metadata of a command-line client, as the request benchmarks use.
func population(b *testing.B, n int) *benchPopulation {
	benchPopulations.Lock()
	defer benchPopulations.Unlock()
	if p, ok := benchPopulations.m[n]; ok {
		return p
	}
	if benchPopulations.m == nil {
		benchPopulations.m = make(map[int]*benchPopulation)
	}
	start := time.Now()
	p := &benchPopulation{hashes: make([][32]byte, n), now: time.Now()}
	ctx := context.Background()
	md := sessionauth.Metadata{IP: "192.0.2.10", UserAgent: "curl/8.5.0"}

	before := heapAlloc()
	p.store = memstore.NewWithConfig(memstore.Config{SweepInterval: -1})
	// Audit events are discarded: logging a million of them is not what
	// this measures.
	m, err := sessionauth.New(sessionauth.Config{Store: p.store, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	users := max(1, n/4)
	for i := range n {
		token, _, err := m.Create(ctx, "user-"+strconv.Itoa(i%users), md)
		if err != nil {
			b.Fatal(err)
		}
		p.hashes[i] = sha256.Sum256([]byte(token))
	}
	p.stored = float64(heapAlloc()-before) / float64(n)
	for _, h := range p.hashes {
		if s, err := p.store.LoadSession(ctx, h, p.now); s == nil || err != nil {
			b.Fatalf("LoadSession: %v, %v", s, err)
		}
	}
	p.loaded = float64(heapAlloc()-before) / float64(n)

	// Every session has the same metadata and a user ID of about the same
	// length: one record stands for all.
	data, _, found, err := p.store.Get(ctx, keyOf(p.hashes[0]))
	if err != nil || !found {
		b.Fatalf("Get: %v, %v", found, err)
	}
	p.record = float64(len(data))
	b.Logf("created %d sessions in %v", n, time.Since(start).Round(time.Millisecond))
	benchPopulations.m[n] = p
	return p
}

func keyOf(h [32]byte) string {
	const hexdigits = "0123456789abcdef"
	var key [64]byte
	for i, c := range h {
		key[2*i], key[2*i+1] = hexdigits[c>>4], hexdigits[c&15]
	}
	return string(key[:])
}

// heapAlloc is the live heap after a full collection.
func heapAlloc() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// BenchmarkLookup authenticates random sessions through the SessionLoader
// fast path, in stores of 1,000 and 1,000,000 sessions, and reports the
// memory a session costs: bytes/session once created, bytes/session-loaded
// once also authenticated (LoadSession keeps the decoded session), and
// record-bytes, the size of the encoded record included in both.
func BenchmarkLookup(b *testing.B) {
	for _, size := range []struct {
		name string
		n    int
	}{{"1k", 1_000}, {"1M", 1_000_000}} {
		b.Run(size.name, func(b *testing.B) {
			p := population(b, size.n)
			// Random sessions, as a server's traffic asks for them: at
			// a million, far more than the CPU caches hold.
			rng := rand.New(rand.NewPCG(1, 2))
			sample := make([][32]byte, 1<<16)
			for i := range sample {
				sample[i] = p.hashes[rng.IntN(size.n)]
			}
			ctx := context.Background()
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				s, err := p.store.LoadSession(ctx, sample[i%len(sample)], p.now)
				if s == nil || err != nil {
					b.Fatalf("LoadSession: %v, %v", s, err)
				}
				i++
			}
			b.ReportMetric(p.stored, "bytes/session")
			b.ReportMetric(p.loaded, "bytes/session-loaded")
			b.ReportMetric(p.record, "record-bytes")
		})
	}
}
