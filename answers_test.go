package sessionauth_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/synctest"
	"time"

	scsmemstore "github.com/alexedwards/scs/v2/memstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionauth/sessionauth"
	"github.com/sessionauth/sessionauth/store/memstore"
	"github.com/sessionauth/sessionauth/store/storetest"
)

// Every byte of a token comes from crypto/rand: across a few hundred tokens,
// each of the 32 positions takes many values. A token filled only in part
// (a short read ignored, a slice cut at half) leaves positions constant.
func TestTokenBytesVaryAtEveryPosition(t *testing.T) {
	h := newHarness(t, sessionauth.Config{})
	const n = 300
	var seen [32]map[byte]bool
	for i := range seen {
		seen[i] = map[byte]bool{}
	}
	for range n {
		token, _ := h.create(t, "user-1")
		raw, err := base64.RawURLEncoding.Strict().DecodeString(token)
		require.NoError(t, err)
		require.Len(t, raw, 32)
		for i, b := range raw {
			seen[i][b] = true
		}
	}
	for i := range seen {
		// 300 uniform draws from 256 values give about 178 distinct ones;
		// fewer than 100 would be a broken source.
		assert.Greater(t, len(seen[i]), 100, "byte %d of the token takes too few values", i)
	}
}

// The store key is the lowercase hex SHA-256 of the token, computed here with
// crypto/sha256 rather than with the package's own helper.
func TestStoreKeyIsTheSHA256OfTheTokenComputedIndependently(t *testing.T) {
	h := newHarness(t, sessionauth.Config{})
	token, _ := h.create(t, "alice")
	sum := sha256.Sum256([]byte(token))
	want := hex.EncodeToString(sum[:])

	puts := h.callsOf(storetest.OpPut)
	require.Len(t, puts, 1)
	assert.Equal(t, want, puts[0].Key)
	_, found, err := h.mem.Find(want)
	require.NoError(t, err)
	assert.True(t, found, "the record is stored under sha256(token)")
	assert.Equal(t, want, sessionauth.KeyForToken(token))
}

func TestManagerErrorAnswersWithoutARequest(t *testing.T) {
	h := newHarness(t, sessionauth.Config{})
	for _, tc := range []struct {
		err    error
		status int
		body   string
	}{
		{sessionauth.ErrUnavailable, 503, `{"message":"Service Unavailable"}`},
		{sessionauth.ErrUnknownSession, 401, `{"message":"Unauthorized"}`},
		{sessionauth.ErrForbidden, 403, `{"message":"You don't have access to this project"}`},
		{context.DeadlineExceeded, 500, `{"message":"Internal Server Error"}`},
	} {
		rec := httptest.NewRecorder()
		require.NotPanics(t, func() { h.m.Error(rec, nil, tc.err) })
		assert.Equal(t, tc.status, rec.Code)
		assert.Equal(t, tc.body, rec.Body.String())
	}
}

func TestNilSessionHasNoValues(t *testing.T) {
	var s *sessionauth.Session
	assert.NotPanics(t, func() { assert.Empty(t, s.Value("org")) })
}

// A store that cannot serve a request is refused by New, not discovered by
// the first request (which would panic in a net/http handler: the client
// gets a dropped connection, not a 503).
func TestNewRefusesStoresThatCannotServe(t *testing.T) {
	for name, store := range map[string]sessionauth.Store{
		"nil":                      nil,
		"nil *memstore.Store":      (*memstore.Store)(nil),
		"zero memstore.Store":      &memstore.Store{},
		"nil *scs memstore":        (*scsmemstore.MemStore)(nil),
		"nil pointer to a wrapper": (*struct{ *scsmemstore.MemStore })(nil),
	} {
		t.Run(name, func(t *testing.T) {
			m, err := sessionauth.New(sessionauth.Config{Store: store})
			assert.Error(t, err)
			assert.Nil(t, m)
		})
	}
}

func TestNewBoundsDurationsAtMaxDuration(t *testing.T) {
	store := memstore.New(memstore.Config{})
	t.Cleanup(func() { _ = store.Close() })
	_, err := sessionauth.New(sessionauth.Config{Store: store, Lifetime: sessionauth.MaxDuration + time.Nanosecond})
	assert.Error(t, err)
	_, err = sessionauth.New(sessionauth.Config{Store: store, IdleTimeout: sessionauth.MaxDuration + time.Nanosecond})
	assert.Error(t, err)
	_, err = sessionauth.New(sessionauth.Config{Store: store, IdleTimeout: sessionauth.MaxDuration, Lifetime: sessionauth.MaxDuration})
	assert.NoError(t, err)
}

// The longest Lifetime, on a clock near the end of Unix nanoseconds, gives a
// session that works, not one whose expiry wrapped into the past.
func TestLongestLifetimeNearYear2262IsNotDeadOnArrival(t *testing.T) {
	for _, start := range []time.Time{
		time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2260, 1, 1, 0, 0, 0, 0, time.UTC), // + 10 years is past 2262
	} {
		clock := newTestClock()
		clock.Set(start)
		store := memstore.New(memstore.Config{Now: clock.Now, SweepInterval: -1})
		m, err := sessionauth.New(sessionauth.Config{Store: store, Now: clock.Now,
			IdleTimeout: sessionauth.MaxDuration, Lifetime: sessionauth.MaxDuration})
		require.NoError(t, err)
		token, s, err := m.Create(context.Background(), "alice", sessionauth.Metadata{})
		require.NoError(t, err)
		assert.True(t, s.ExpiresAt.After(start), "%v", start)
		clock.Advance(24 * time.Hour)
		_, err = m.Authenticate(context.Background(), token)
		assert.NoError(t, err, "session created at %v", start)
	}
}

// A store that never answers gives 503 when Config.StoreTimeout passes, even
// when the request itself has no deadline, and the cut call is logged at
// ERROR as an outage.
func TestStoreTimeoutAnswersAHungStoreWith503(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mem := memstore.New(memstore.Config{SweepInterval: -1})
		store := storetest.Wrap(withoutLoader{mem, mem})
		log := newLogCapture()
		m, err := sessionauth.New(sessionauth.Config{Store: store.Store(), Logger: log.logger(), StoreTimeout: 250 * time.Millisecond})
		require.NoError(t, err)
		token, _, err := m.Create(context.Background(), "ivan", sessionauth.Metadata{})
		require.NoError(t, err)
		_, returned := watch(store, storetest.OpGet)
		defer store.Hang(storetest.OpGet)()

		req := httptest.NewRequest("GET", "/hung", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		start := time.Now()
		m.Require(userHandler).ServeHTTP(rec, req)

		assert.Equal(t, 250*time.Millisecond, time.Since(start), "answered when the store timeout passed")
		assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
		assert.Equal(t, `{"message":"Service Unavailable"}`, rec.Body.String())
		assert.ErrorIs(t, <-returned, context.DeadlineExceeded)
		lines := log.find(t, "sessionauth: request failed")
		require.Len(t, lines, 1)
		assert.Equal(t, "ERROR", lines[0]["level"])
		assert.Contains(t, lines[0]["error"], "no answer within 250ms")
		assertNoSecrets(t, log.String(), token)
	})
}

// Every kind of store call is bounded, not only the read of a request.
func TestStoreTimeoutBoundsEveryOperation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mem := memstore.New(memstore.Config{SweepInterval: -1})
		store := storetest.Wrap(withoutLoader{mem, mem})
		m, err := sessionauth.New(sessionauth.Config{Store: store.Store(), StoreTimeout: time.Second})
		require.NoError(t, err)
		ctx := context.Background()
		_, s, err := m.Create(ctx, "ivan", sessionauth.Metadata{})
		require.NoError(t, err)
		defer store.Hang(storetest.OpGet, storetest.OpPut, storetest.OpUpdate, storetest.OpRename,
			storetest.OpDelete, storetest.OpListUser, storetest.OpDeleteUser)()
		calls := map[string]func() error{
			"Create":    func() error { _, _, err := m.Create(ctx, "ivan", sessionauth.Metadata{}); return err },
			"SetValues": func() error { _, err := m.SetValues(ctx, s, map[string]string{"k": "v"}); return err },
			"Rotate":    func() error { _, _, err := m.Rotate(ctx, s); return err },
			"Revoke":    func() error { return m.Revoke(ctx, s) },
			"RevokeID":  func() error { return m.RevokeID(ctx, "ivan", s.ID) },
			"RevokeUser": func() error {
				_, err := m.RevokeUser(ctx, "ivan", nil)
				return err
			},
			"List": func() error { _, err := m.List(ctx, "ivan"); return err },
		}
		for name, call := range calls {
			start := time.Now()
			err := call()
			assert.ErrorIs(t, err, sessionauth.ErrUnavailable, name)
			assert.ErrorIs(t, err, context.DeadlineExceeded, name)
			assert.Equal(t, time.Second, time.Since(start), name)
		}
	})
}

// A session refused as expired is deleted at once, so a clock stepped back
// (NTP, a VM restored) cannot make it valid again before the sweep.
func TestExpiredSessionStaysDeadWhenTheClockStepsBack(t *testing.T) {
	storeModes(t, func(t *testing.T, o harnessOpts) {
		h := newHarness(t, sessionauth.Config{IdleTimeout: 30 * time.Minute, TouchInterval: time.Minute}, o)
		token, _ := h.create(t, "alice")
		h.clock.Advance(30 * time.Minute)
		_, err := h.m.Authenticate(context.Background(), token)
		require.ErrorIs(t, err, sessionauth.ErrSessionExpired)

		h.clock.Advance(-10 * time.Minute)
		_, err = h.m.Authenticate(context.Background(), token)
		assert.ErrorIs(t, err, sessionauth.ErrUnknownSession)
		_, held := h.storeExpiry(t, token)
		assert.False(t, held, "the record is gone")
	})
}

// A session is valid strictly before its deadline: one nanosecond before it
// authenticates, at the instant it does not, on the idle and on the absolute
// deadline.
func TestSessionEndsAtItsDeadlineInstant(t *testing.T) {
	storeModes(t, func(t *testing.T, o harnessOpts) {
		for _, cfg := range []sessionauth.Config{
			{IdleTimeout: 30 * time.Minute, Lifetime: time.Hour},
			{IdleTimeout: time.Hour, Lifetime: 30 * time.Minute},
		} {
			// Two sessions, since using one before its deadline extends it.
			h := newHarness(t, cfg, o)
			before, _ := h.create(t, "alice")
			at, _ := h.create(t, "alice")
			h.clock.Advance(30*time.Minute - time.Nanosecond)
			_, err := h.m.Authenticate(context.Background(), before)
			require.NoError(t, err, "1 ns before the deadline")
			h.clock.Advance(time.Nanosecond)
			_, err = h.m.Authenticate(context.Background(), at)
			assert.ErrorIs(t, err, sessionauth.ErrSessionExpired, "at the deadline")
		}
	})
}

// A record that does not decode is no session (401 and a log line) on the
// read path of a store without the loader fast path, even when the store
// itself reports it as corrupt, as the Redis store does: never a 503.
func TestCorruptRecordIsNoSessionOnEveryReadPath(t *testing.T) {
	storeModes(t, func(t *testing.T, o harnessOpts) {
		h := newHarness(t, sessionauth.Config{}, o)
		token, s := h.create(t, "alice")
		require.NoError(t, h.mem.Put(context.Background(), sessionauth.KeyForToken(token), "alice", []byte("not a record"), s.IdleExpiresAt))
		assert.Equal(t, http.StatusUnauthorized, do(h.m.Require(userHandler), "Bearer "+token).Code)
		assert.Contains(t, h.logs.String(), "unreadable session record treated as absent")
	})
	mem := memstore.New(memstore.Config{SweepInterval: -1})
	store := storetest.Wrap(withoutLoader{mem, mem})
	logs := newLogCapture()
	m, err := sessionauth.New(sessionauth.Config{Store: store.Store(), Logger: logs.logger()})
	require.NoError(t, err)
	token, _, err := m.Create(context.Background(), "alice", sessionauth.Metadata{})
	require.NoError(t, err)
	entered, returned := watch(store, storetest.OpGet)
	store.Fail(fmtCorrupt, storetest.OpGet)
	assert.Equal(t, http.StatusUnauthorized, do(m.Require(userHandler), "Bearer "+token).Code)
	assert.Len(t, logs.find(t, "sessionauth: unreadable session record treated as absent"), 1)
	assert.Equal(t, storetest.OpGet, <-entered, "the read reached the store")
	assert.ErrorIs(t, <-returned, sessionauth.ErrCorruptRecord)
}

var fmtCorrupt = &wrapErr{msg: "redisstore: get: value too short", err: sessionauth.ErrCorruptRecord}

type wrapErr struct {
	msg string
	err error
}

func (e *wrapErr) Error() string { return e.msg + ": " + e.err.Error() }
func (e *wrapErr) Unwrap() error { return e.err }

// ctxOnlyIterable is a store with only the context forms of scs's
// interfaces, as scs's goredisstore is: All without a context is missing.
type ctxOnlyIterable struct{ m *memstore.Store }

func (c ctxOnlyIterable) Find(string) ([]byte, bool, error) { panic("Find without a context") }
func (c ctxOnlyIterable) Commit(string, []byte, time.Time) error {
	panic("Commit without a context")
}
func (c ctxOnlyIterable) Delete(string) error { panic("Delete without a context") }
func (c ctxOnlyIterable) FindCtx(ctx context.Context, k string) ([]byte, bool, error) {
	return c.m.FindCtx(ctx, k)
}
func (c ctxOnlyIterable) CommitCtx(ctx context.Context, k string, b []byte, e time.Time) error {
	return c.m.CommitCtx(ctx, k, b, e)
}
func (c ctxOnlyIterable) DeleteCtx(ctx context.Context, k string) error { return c.m.DeleteCtx(ctx, k) }
func (c ctxOnlyIterable) AllCtx(ctx context.Context) (map[string][]byte, error) {
	return c.m.AllCtx(ctx)
}

func TestManagerListsAndRevokesThroughAllCtx(t *testing.T) {
	mem := memstore.New(memstore.Config{})
	t.Cleanup(func() { _ = mem.Close() })
	m, err := sessionauth.New(sessionauth.Config{Store: ctxOnlyIterable{mem}})
	require.NoError(t, err)
	ctx := context.Background()
	t1, s1, err := m.Create(ctx, "alice", sessionauth.Metadata{})
	require.NoError(t, err)
	_, _, err = m.Create(ctx, "alice", sessionauth.Metadata{})
	require.NoError(t, err)

	list, err := m.List(ctx, "alice")
	require.NoError(t, err)
	assert.Len(t, list, 2)
	n, err := m.RevokeUser(ctx, "alice", s1)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.Equal(t, http.StatusOK, do(m.Require(userHandler), "Bearer "+t1).Code)
	require.NoError(t, m.RevokeID(ctx, "alice", s1.ID))
	assert.Equal(t, http.StatusUnauthorized, do(m.Require(userHandler), "Bearer "+t1).Code)
}
