package pgstore_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/sessionauth/sessionauth"
	"github.com/sessionauth/sessionauth/store/memstore"
	"github.com/sessionauth/sessionauth/store/pgstore"
)

// BenchmarkRequest measures one authenticated GET through Manager.Require
// into a handler that reads the session: one prepared SELECT per request (the
// Manager touches at most once per TouchInterval). memstore, measured in the
// same run, is the baseline.
func BenchmarkRequest(b *testing.B) {
	b.Run("memstore", func(b *testing.B) {
		store := memstore.New()
		b.Cleanup(func() { _ = store.Close() })
		benchmarkRequest(b, store)
	})
	b.Run("pgstore", func(b *testing.B) {
		pool := newPool(b, "", 0)
		store, err := pgstore.New(context.Background(), pool, pgstore.Config{Table: uniqueTable(b, pool)})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = store.Close() })
		benchmarkRequest(b, store)
	})
}

func benchmarkRequest(b *testing.B, store sessionauth.Store) {
	m, err := sessionauth.New(sessionauth.Config{Store: store})
	if err != nil {
		b.Fatal(err)
	}
	token, _, err := m.Create(context.Background(), "user-1", sessionauth.Metadata{})
	if err != nil {
		b.Fatal(err)
	}
	var failed bool
	h := m.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, ok := sessionauth.FromContext(r.Context())
		if !ok || s.UserID != "user-1" {
			failed = true
		}
	}))
	req := httptest.NewRequest(http.MethodGet, "/projects", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(w, req)
	}
	if failed || w.code != 0 {
		b.Fatalf("request rejected with %d", w.code)
	}
}

// discardWriter is a ResponseWriter that costs nothing, so the benchmark
// measures the middleware and the store, not a response recorder.
type discardWriter struct {
	h    http.Header
	code int
}

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (d *discardWriter) WriteHeader(code int)        { d.code = code }
