package benchmarks_test

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/sessionauth/sessionauth"
	"github.com/sessionauth/sessionauth/sessionauthtest"
	"github.com/sessionauth/sessionauth/store/memstore"
	"github.com/sessionauth/sessionauth/store/sqlitestore"
	"github.com/sessionauth/sessionauth/store/storetest"
)

// touchRequests is how many requests one operation of BenchmarkTouchWrites
// sends on one session, and touchStep how far the clock moves between two:
// the run covers touchRequests*touchStep/TouchInterval = 100 touch
// intervals, at a thousand requests per interval.
const (
	touchRequests = 100_000
	touchStep     = sessionauth.DefaultTouchInterval / 1000
)

// BenchmarkTouchWrites sends 100,000 authenticated requests through Require
// on one session while an injected clock moves 60 ms per request, and counts
// the store writes they cause. It reports writes/interval, the writes per
// session per TouchInterval (invariant 4 says at most 1), and ns/request,
// which includes the writes.
func BenchmarkTouchWrites(b *testing.B) {
	b.Run("memstore", func(b *testing.B) {
		benchmarkTouchWrites(b, func(now func() time.Time) sessionauth.SessionStore {
			s := memstore.New(memstore.Config{Now: now, SweepInterval: -1})
			b.Cleanup(func() { _ = s.Close() })
			return s
		})
	})
	b.Run("sqlitestore", func(b *testing.B) {
		benchmarkTouchWrites(b, func(now func() time.Time) sessionauth.SessionStore {
			s, err := sqlitestore.Open(context.Background(), filepath.Join(b.TempDir(), "sessions.db"), sqlitestore.Config{Now: now, SweepInterval: -1})
			must(b, err)
			b.Cleanup(func() { _ = s.Close() })
			return s
		})
	})
}

// benchmarkTouchWrites counts the writes through a storetest.Wrapper, which,
// like any wrapper that can hang, hides a memstore's NonBlockingStore: the
// Manager bounds every call with its StoreTimeout on either store.
func benchmarkTouchWrites(b *testing.B, newStore func(now func() time.Time) sessionauth.SessionStore) {
	clock := sessionauthtest.NewClock(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	store := storetest.Wrap(newStore(clock.Now))
	m, err := sessionauth.New(sessionauth.Config{Store: store.Store(), Now: clock.Now, Logger: discardLogger})
	must(b, err)
	h, failures := sessionHandler()
	h = m.Require(h)

	b.ReportAllocs()
	var writes, intervals int64
	for b.Loop() {
		token, _, err := m.Create(context.Background(), benchUser, benchMetadata)
		must(b, err)
		req := newRequest(b, token)
		before := store.Writes()
		for range touchRequests {
			clock.Advance(touchStep)
			h.ServeHTTP(httptest.NewRecorder(), req)
		}
		writes += int64(store.Writes() - before)
		intervals += touchRequests * int64(touchStep) / int64(m.TouchInterval())
	}
	if n := failures.Load(); n > 0 {
		b.Fatalf("%d requests without the session", n)
	}
	b.ReportMetric(float64(writes)/float64(intervals), "writes/interval")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(int64(b.N)*touchRequests), "ns/request")
}
