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
	"github.com/sessionauth/sessionauth/sessionauthtest"
	"github.com/sessionauth/sessionauth/store/memstore"
)

// newStore returns a store without a sweep goroutine on a fake clock.
func newStore(t *testing.T) (*memstore.Store, *sessionauthtest.Clock) {
	t.Helper()
	clock := sessionauthtest.NewClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
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

// The conformance suite (storetest_test.go) covers the store's contract:
// Find, Commit, Delete, All, Put, Touch, ListUser and DeleteUser. The tests
// here cover what is the memory store's own: its copies of callers' slices,
// what it holds until a sweep, its sweep goroutine and its decode cache.

func TestCommitKeepsItsOwnCopyOfTheData(t *testing.T) {
	s, clock := newStore(t)
	value := []byte("v1")
	require.NoError(t, s.Commit("k", value, clock.Now().Add(time.Hour)))
	value[0] = 'X'
	data, found, err := s.Find("k")
	require.NoError(t, err)
	require.True(t, found)
	assert.Equal(t, []byte("v1"), data)
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
func newManager(t *testing.T, s *memstore.Store, clock *sessionauthtest.Clock) *sessionauth.Manager {
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
