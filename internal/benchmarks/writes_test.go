package benchmarks_test

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sessionauth/sessionauth"
	"github.com/sessionauth/sessionauth/store/memstore"
	"github.com/sessionauth/sessionauth/store/sqlitestore"
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

func benchmarkTouchWrites(b *testing.B, newStore func(now func() time.Time) sessionauth.SessionStore) {
	var clock atomic.Int64
	clock.Store(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	now := func() time.Time { return time.Unix(0, clock.Load()) }
	store, counter := countWrites(newStore(now))
	m, err := sessionauth.New(sessionauth.Config{Store: store, Now: now, Logger: discardLogger})
	must(b, err)
	h, failures := sessionHandler()
	h = m.Require(h)

	b.ReportAllocs()
	var writes, intervals int64
	for b.Loop() {
		token, _, err := m.Create(context.Background(), benchUser, benchMetadata)
		must(b, err)
		req := newRequest(b, token)
		before := counter.Load()
		for range touchRequests {
			clock.Add(int64(touchStep))
			h.ServeHTTP(httptest.NewRecorder(), req)
		}
		writes += counter.Load() - before
		intervals += touchRequests * int64(touchStep) / int64(m.TouchInterval())
	}
	if n := failures.Load(); n > 0 {
		b.Fatalf("%d requests without the session", n)
	}
	b.ReportMetric(float64(writes)/float64(intervals), "writes/interval")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(int64(b.N)*touchRequests), "ns/request")
}

// writeCounter is a SessionStore that counts the writes made through it:
// Put, Touch and the scs Commit.
type writeCounter struct {
	sessionauth.SessionStore
	writes *atomic.Int64
}

// loaderWriteCounter is a writeCounter for a store with the SessionLoader
// fast path, so that the Manager finds the same capabilities on it as on the
// store it wraps.
type loaderWriteCounter struct {
	writeCounter
	sessionauth.SessionLoader
}

// countWrites wraps s to count its writes in the returned counter.
func countWrites(s sessionauth.SessionStore) (sessionauth.SessionStore, *atomic.Int64) {
	c := writeCounter{SessionStore: s, writes: new(atomic.Int64)}
	if l, ok := s.(sessionauth.SessionLoader); ok {
		return loaderWriteCounter{c, l}, c.writes
	}
	return c, c.writes
}

func (c writeCounter) Put(ctx context.Context, key, userID string, data []byte, expiry time.Time) error {
	c.writes.Add(1)
	return c.SessionStore.Put(ctx, key, userID, data, expiry)
}

func (c writeCounter) Touch(ctx context.Context, key string, expiry time.Time) error {
	c.writes.Add(1)
	return c.SessionStore.Touch(ctx, key, expiry)
}

func (c writeCounter) CommitCtx(ctx context.Context, key string, data []byte, expiry time.Time) error {
	c.writes.Add(1)
	return c.SessionStore.CommitCtx(ctx, key, data, expiry)
}

func (c writeCounter) Commit(key string, data []byte, expiry time.Time) error {
	c.writes.Add(1)
	return c.SessionStore.Commit(key, data, expiry)
}
