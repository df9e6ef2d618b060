package memstore_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/sessionauth/sessionauth"
	"github.com/sessionauth/sessionauth/store/memstore"
)

// fakeClock is the store's clock in these tests; it moves only when told.
type fakeClock struct{ ns atomic.Int64 }

func newFakeClock() *fakeClock {
	c := &fakeClock{}
	c.ns.Store(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC).UnixNano())
	return c
}

func (c *fakeClock) Now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *fakeClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// newStore returns a store without a sweep goroutine on a fake clock.
func newStore(t *testing.T) (*memstore.Store, *fakeClock) {
	t.Helper()
	clock := newFakeClock()
	s := memstore.New(memstore.Config{Now: clock.Now, SweepInterval: -1})
	t.Cleanup(func() { _ = s.Close() })
	return s, clock
}

func get(t *testing.T, s *memstore.Store, key string) ([]byte, time.Time, bool) {
	t.Helper()
	data, exp, found, err := s.Get(context.Background(), key)
	require.NoError(t, err)
	return data, exp, found
}

func TestFindAndCommitFollowSCSSemantics(t *testing.T) {
	s, clock := newStore(t)
	now := clock.Now()

	data, found, err := s.Find("missing")
	require.NoError(t, err)
	assert.False(t, found)
	assert.Nil(t, data)

	value := []byte("v1")
	require.NoError(t, s.Commit("k", value, now.Add(time.Hour)))
	value[0] = 'X' // the store keeps its own copy
	data, found, err = s.Find("k")
	require.NoError(t, err)
	require.True(t, found)
	assert.Equal(t, []byte("v1"), data)

	// Commit overwrites data and expiry exactly, even to an earlier expiry.
	require.NoError(t, s.Commit("k", []byte("v2"), now.Add(time.Minute)))
	data, exp, found := get(t, s, "k")
	require.True(t, found)
	assert.Equal(t, []byte("v2"), data)
	assert.True(t, exp.Equal(now.Add(time.Minute)))

	ctxData, found, err := s.FindCtx(context.Background(), "k")
	require.NoError(t, err)
	assert.True(t, found)
	assert.Equal(t, data, ctxData)
	require.NoError(t, s.CommitCtx(context.Background(), "k2", []byte("w"), now.Add(time.Minute)))

	// A record is live strictly before its expiry.
	clock.Advance(time.Minute - time.Nanosecond)
	_, found, err = s.Find("k")
	require.NoError(t, err)
	assert.True(t, found)
	clock.Advance(time.Nanosecond)
	_, found, err = s.Find("k")
	require.NoError(t, err)
	assert.False(t, found)
	_, found, err = s.FindCtx(context.Background(), "k2")
	require.NoError(t, err)
	assert.False(t, found)
}

func TestDeleteRemovesRecordAndIgnoresMissingKey(t *testing.T) {
	s, clock := newStore(t)
	require.NoError(t, s.Commit("k", []byte("v"), clock.Now().Add(time.Hour)))
	require.NoError(t, s.Delete("k"))
	_, found, err := s.Find("k")
	require.NoError(t, err)
	assert.False(t, found)
	assert.Zero(t, s.Len())
	assert.NoError(t, s.Delete("k"))
	assert.NoError(t, s.DeleteCtx(context.Background(), "never-there"))
}

func TestAllReturnsOnlyLiveRecords(t *testing.T) {
	s, clock := newStore(t)
	all, err := s.All()
	require.NoError(t, err)
	assert.NotNil(t, all, "scs wants an empty map, not nil")
	assert.Empty(t, all)

	now := clock.Now()
	require.NoError(t, s.Commit("short", []byte("a"), now.Add(time.Minute)))
	require.NoError(t, s.Commit("long", []byte("b"), now.Add(time.Hour)))
	require.NoError(t, s.Put(context.Background(), "user", "u1", []byte("c"), now.Add(time.Hour)))
	clock.Advance(time.Minute)

	all, err = s.All()
	require.NoError(t, err)
	assert.Equal(t, map[string][]byte{"long": []byte("b"), "user": []byte("c")}, all)
	allCtx, err := s.AllCtx(context.Background())
	require.NoError(t, err)
	assert.Equal(t, all, allCtx)
}

func TestPutNeverShortensExpiryOfLiveRecord(t *testing.T) {
	s, clock := newStore(t)
	ctx := context.Background()
	now := clock.Now()

	require.NoError(t, s.Put(ctx, "k", "u1", []byte("v1"), now.Add(time.Hour)))
	require.NoError(t, s.Put(ctx, "k", "u1", []byte("v2"), now.Add(time.Minute)))
	data, exp, found := get(t, s, "k")
	require.True(t, found)
	assert.Equal(t, []byte("v2"), data, "the data is replaced")
	assert.True(t, exp.Equal(now.Add(time.Hour)), "the expiry is kept: got %v", exp)

	require.NoError(t, s.Put(ctx, "k", "u1", []byte("v3"), now.Add(2*time.Hour)))
	_, exp, _ = get(t, s, "k")
	assert.True(t, exp.Equal(now.Add(2*time.Hour)), "a later expiry is taken")

	// An expired record does not hold its old expiry against a new Put.
	require.NoError(t, s.Put(ctx, "old", "u1", []byte("v"), now.Add(time.Minute)))
	clock.Advance(time.Minute)
	require.NoError(t, s.Put(ctx, "old", "u1", []byte("w"), clock.Now().Add(time.Second)))
	_, exp, found = get(t, s, "old")
	require.True(t, found)
	assert.True(t, exp.Equal(clock.Now().Add(time.Second)))
}

func TestTouchOnlyMovesExpiryForwardAndKeepsData(t *testing.T) {
	s, clock := newStore(t)
	ctx := context.Background()
	now := clock.Now()
	require.NoError(t, s.Put(ctx, "k", "u1", []byte("data"), now.Add(time.Hour)))

	require.NoError(t, s.Touch(ctx, "k", now.Add(2*time.Hour)))
	data, exp, _ := get(t, s, "k")
	assert.True(t, exp.Equal(now.Add(2*time.Hour)))
	assert.Equal(t, []byte("data"), data)

	require.NoError(t, s.Touch(ctx, "k", now.Add(time.Minute)))
	_, exp, _ = get(t, s, "k")
	assert.True(t, exp.Equal(now.Add(2*time.Hour)), "a touch never moves the expiry back")
}

func TestTouchIsNoOpForMissingOrExpiredKey(t *testing.T) {
	s, clock := newStore(t)
	ctx := context.Background()
	require.NoError(t, s.Touch(ctx, "missing", clock.Now().Add(time.Hour)))
	_, _, found := get(t, s, "missing")
	assert.False(t, found)
	assert.Zero(t, s.Len(), "a touch creates nothing")

	require.NoError(t, s.Put(ctx, "k", "u1", []byte("v"), clock.Now().Add(time.Minute)))
	clock.Advance(time.Minute)
	require.NoError(t, s.Touch(ctx, "k", clock.Now().Add(time.Hour)))
	_, found, err := s.Find("k")
	require.NoError(t, err)
	assert.False(t, found, "a touch never resurrects an expired record")
}

func TestListUserAndDeleteUserUseThePerUserIndex(t *testing.T) {
	s, clock := newStore(t)
	ctx := context.Background()
	now := clock.Now()
	require.NoError(t, s.Put(ctx, "a1", "alice", []byte("1"), now.Add(time.Hour)))
	require.NoError(t, s.Put(ctx, "a2", "alice", []byte("2"), now.Add(time.Hour)))
	require.NoError(t, s.Put(ctx, "a3", "alice", []byte("3"), now.Add(time.Hour)))
	require.NoError(t, s.Put(ctx, "a-old", "alice", []byte("x"), now.Add(time.Minute)))
	require.NoError(t, s.Put(ctx, "b1", "bob", []byte("b"), now.Add(time.Hour)))
	require.NoError(t, s.Commit("scs", []byte("s"), now.Add(time.Hour)))
	clock.Advance(time.Minute)

	keys := func(user string) map[string]string {
		recs, err := s.ListUser(ctx, user)
		require.NoError(t, err)
		out := map[string]string{}
		for _, r := range recs {
			out[r.Key] = string(r.Data)
			assert.True(t, r.Expiry.Equal(now.Add(time.Hour)))
		}
		return out
	}
	assert.Equal(t, map[string]string{"a1": "1", "a2": "2", "a3": "3"}, keys("alice"), "live records only")
	assert.Equal(t, map[string]string{"b1": "b"}, keys("bob"))
	assert.Empty(t, keys("nobody"))

	// A Commit over a user's record takes it out of the user's index, and a
	// Put under another user moves it.
	require.NoError(t, s.Commit("a3", []byte("scs now"), now.Add(time.Hour)))
	require.NoError(t, s.Put(ctx, "b1", "alice", []byte("moved"), now.Add(time.Hour)))
	assert.Equal(t, map[string]string{"a1": "1", "a2": "2", "b1": "moved"}, keys("alice"))
	assert.Empty(t, keys("bob"))

	n, err := s.DeleteUser(ctx, "alice", "a2")
	require.NoError(t, err)
	assert.Equal(t, 2, n, "live records deleted, the kept one excluded")
	assert.Equal(t, map[string]string{"a2": "2"}, keys("alice"))
	_, _, found := get(t, s, "a3")
	assert.True(t, found, "a record that left the index is not the user's any more")
	_, _, found = get(t, s, "scs")
	assert.True(t, found)

	n, err = s.DeleteUser(ctx, "alice", "")
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.Empty(t, keys("alice"))
	n, err = s.DeleteUser(ctx, "nobody", "")
	require.NoError(t, err)
	assert.Zero(t, n)
}

func TestSweepFreesExpiredRecordsOnly(t *testing.T) {
	s, clock := newStore(t)
	ctx := context.Background()
	now := clock.Now()
	for i := range 5 {
		require.NoError(t, s.Put(ctx, fmt.Sprintf("short%d", i), "alice", []byte("x"), now.Add(time.Minute)))
		require.NoError(t, s.Commit(fmt.Sprintf("scs%d", i), []byte("x"), now.Add(time.Minute)))
	}
	require.NoError(t, s.Put(ctx, "long", "alice", []byte("x"), now.Add(time.Hour)))
	require.NoError(t, s.Commit("scs-long", []byte("x"), now.Add(time.Hour)))

	assert.Zero(t, sweep(t, s), "nothing has expired yet")
	clock.Advance(time.Minute)
	assert.Equal(t, 12, s.Len(), "expired records are invisible but still held until a sweep")
	assert.Equal(t, 10, sweep(t, s))
	assert.Equal(t, 2, s.Len())
	_, _, found := get(t, s, "long")
	assert.True(t, found)
	recs, err := s.ListUser(ctx, "alice")
	require.NoError(t, err)
	assert.Len(t, recs, 1)
}

func TestBackgroundSweepRunsEachIntervalAndStopsOnClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := memstore.New(memstore.Config{SweepInterval: time.Minute})
		require.NoError(t, s.Put(context.Background(), "k", "u1", []byte("v"), time.Now().Add(30*time.Second)))
		require.NoError(t, s.Put(context.Background(), "keep", "u1", []byte("v"), time.Now().Add(time.Hour)))

		// In the bubble, sleeping advances the fake clock at once.
		time.Sleep(59 * time.Second)
		synctest.Wait()
		assert.Equal(t, 2, s.Len(), "no sweep before the first interval")
		time.Sleep(time.Second)
		synctest.Wait()
		assert.Equal(t, 1, s.Len(), "the sweep ran at one minute")

		require.NoError(t, s.Close())
		// synctest.Test fails if a goroutine of the bubble outlives it.
	})
}

func TestCloseStopsSweepGoroutineWithoutLeak(t *testing.T) {
	before := goleak.IgnoreCurrent()
	s := memstore.New(memstore.Config{})
	require.NoError(t, s.Close())
	goleak.VerifyNone(t, before)
	assert.NoError(t, s.Close(), "Close is idempotent")

	// The store stays usable after Close.
	require.NoError(t, s.Put(context.Background(), "k", "u", []byte("v"), time.Now().Add(time.Hour)))
	_, _, found := get(t, s, "k")
	assert.True(t, found)
}

func TestNegativeSweepIntervalStartsNoGoroutine(t *testing.T) {
	before := goleak.IgnoreCurrent()
	s := memstore.New(memstore.Config{SweepInterval: -1})
	goleak.VerifyNone(t, before)
	assert.NoError(t, s.Close())
}

// newManager returns a Manager over s on clock, to make real session records.
func newManager(t *testing.T, s *memstore.Store, clock *fakeClock) *sessionauth.Manager {
	t.Helper()
	m, err := sessionauth.New(sessionauth.Config{Store: s, Now: clock.Now, IdleTimeout: 30 * time.Minute, TouchInterval: time.Minute})
	require.NoError(t, err)
	return m
}

// createAndLoad creates a session of alice through m and loads it once.
func createAndLoad(t *testing.T, s *memstore.Store, m *sessionauth.Manager, now time.Time) (token string, created, loaded *sessionauth.Session, hash [32]byte) {
	t.Helper()
	token, created, err := m.Create(context.Background(), "alice", sessionauth.Metadata{IP: "192.0.2.1", Values: map[string]string{"org": "acme"}})
	require.NoError(t, err)
	hash = sha256.Sum256([]byte(token))
	loaded, err = s.LoadSession(context.Background(), hash, now)
	require.NoError(t, err)
	require.NotNil(t, loaded)
	return token, created, loaded, hash
}

func TestLoadSessionReturnsSharedDecodedSession(t *testing.T) {
	s, clock := newStore(t)
	ctx := context.Background()
	token, created, first, hash := createAndLoad(t, s, newManager(t, s, clock), clock.Now())
	second, err := s.LoadSession(ctx, hash, clock.Now())
	require.NoError(t, err)
	assert.Same(t, first, second, "decoded once, shared by every request")
	assert.Equal(t, created.ID, first.ID)
	assert.Equal(t, "alice", first.UserID)
	assert.Equal(t, "acme", first.Value("org"))
	assert.Equal(t, "192.0.2.1", first.IP)
	assert.True(t, first.IdleExpiresAt.Equal(created.IdleExpiresAt))

	// A touch publishes a new decoded session; the old one is unchanged.
	require.NoError(t, s.Touch(ctx, sessionauth.KeyForToken(token), created.IdleExpiresAt.Add(5*time.Minute)))
	touched, err := s.LoadSession(ctx, hash, clock.Now())
	require.NoError(t, err)
	assert.NotSame(t, first, touched)
	assert.True(t, touched.IdleExpiresAt.Equal(created.IdleExpiresAt.Add(5*time.Minute)))
	assert.True(t, first.IdleExpiresAt.Equal(created.IdleExpiresAt))

	// An expired session the store still holds is handed back for the
	// Manager to judge (and delete).
	got, err := s.LoadSession(ctx, hash, touched.IdleExpiresAt.Add(time.Hour))
	require.NoError(t, err)
	assert.Same(t, touched, got)

	missing, err := s.LoadSession(ctx, sha256.Sum256([]byte("no such token")), clock.Now())
	require.NoError(t, err)
	assert.Nil(t, missing)
}

func TestSweepDropsDecodedSessionsAndKeepsThemLoadable(t *testing.T) {
	s, clock := newStore(t)
	m := newManager(t, s, clock)
	ctx := context.Background()
	token, created, first, hash := createAndLoad(t, s, m, clock.Now())

	assert.Zero(t, sweep(t, s), "nothing has expired")
	again, err := s.LoadSession(ctx, hash, clock.Now())
	require.NoError(t, err)
	require.NotNil(t, again)
	assert.NotSame(t, first, again, "the sweep dropped the decoded session, so it was decoded again")
	assert.Equal(t, *first, *again)
	assert.Equal(t, created.ID, again.ID)
	assert.Equal(t, "acme", again.Value("org"))
	_, err = m.Authenticate(ctx, token)
	require.NoError(t, err, "the session still authenticates")
}

// Run under -race: a sweep that drops decoded sessions while requests load
// them never makes a live session look absent.
func TestLoadSessionDuringSweepsNeverMissesALiveSession(t *testing.T) {
	s, clock := newStore(t)
	m := newManager(t, s, clock)
	ctx := context.Background()
	token, _, err := m.Create(ctx, "alice", sessionauth.Metadata{})
	require.NoError(t, err)
	hash := sha256.Sum256([]byte(token))

	stop := make(chan struct{})
	var sweeps sync.WaitGroup
	sweeps.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
				_, _ = s.Sweep(context.Background())
			}
		}
	})
	var misses atomic.Int64
	var loads sync.WaitGroup
	for range 4 {
		loads.Go(func() {
			for range 2000 {
				if sess, err := s.LoadSession(ctx, hash, clock.Now()); sess == nil || err != nil {
					misses.Add(1)
				}
			}
		})
	}
	loads.Wait()
	close(stop)
	sweeps.Wait()
	assert.Zero(t, misses.Load(), "loads that found no session")
}

func TestLoadSessionDecodesRecordsWrittenThroughSCSInterface(t *testing.T) {
	s, clock := newStore(t)
	ctx := context.Background()
	// A session record written by a Manager on another store, copied in
	// with Commit as an scs-level migration would.
	other, _ := newStore(t)
	token, created, err := newManager(t, other, clock).Create(ctx, "alice", sessionauth.Metadata{})
	require.NoError(t, err)
	key := sessionauth.KeyForToken(token)
	data, exp, found := get(t, other, key)
	require.True(t, found)
	require.NoError(t, s.Commit(key, data, exp))

	got, err := s.LoadSession(ctx, sha256.Sum256([]byte(token)), clock.Now())
	require.NoError(t, err)
	require.NotNil(t, got)
	assert.Equal(t, created.ID, got.ID)

	// Data under a session key that is not a session record is no
	// session, and says why, every time.
	require.NoError(t, s.Commit(sessionauth.KeyForToken("scs"), []byte("gob"), clock.Now().Add(time.Hour)))
	for range 2 {
		got, err = s.LoadSession(ctx, sha256.Sum256([]byte("scs")), clock.Now())
		require.ErrorIs(t, err, sessionauth.ErrCorruptRecord)
		assert.Nil(t, got)
	}
}

// Run under -race: every operation at once on a few keys.
func TestConcurrentOperationsAreSafe(t *testing.T) {
	s, clock := newStore(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	for w := range 6 {
		wg.Go(func() {
			for i := range 300 {
				key := fmt.Sprintf("k%d", i%4)
				switch (w + i) % 9 {
				case 0:
					assert.NoError(t, s.Put(ctx, key, "alice", []byte("v"), clock.Now().Add(time.Minute)))
				case 1:
					assert.NoError(t, s.Touch(ctx, key, clock.Now().Add(2*time.Minute)))
				case 2:
					_, _, _, err := s.Get(ctx, key)
					assert.NoError(t, err)
				case 3:
					assert.NoError(t, s.Commit(key, []byte("scs"), clock.Now().Add(time.Minute)))
				case 4:
					assert.NoError(t, s.Delete(key))
				case 5:
					_, err := s.ListUser(ctx, "alice")
					assert.NoError(t, err)
				case 6:
					_, err := s.DeleteUser(ctx, "alice", key)
					assert.NoError(t, err)
				case 7:
					_, err := s.All()
					assert.NoError(t, err)
				case 8:
					_, _ = s.Sweep(context.Background())
					clock.Advance(time.Second)
				}
			}
		})
	}
	wg.Wait()
	// The index stayed consistent: deleting the user removes every record
	// that Put wrote (Touch keeps data), leaving only Commit's.
	_, err := s.DeleteUser(ctx, "alice", "")
	require.NoError(t, err)
	all, err := s.All()
	require.NoError(t, err)
	for key, data := range all {
		assert.Equal(t, "scs", string(data), key)
	}
}
