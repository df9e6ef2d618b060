package storetest

import (
	"bytes"
	"errors"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionauth/sessionauth"
)

// The Manager on top of the store: what users of the store rely on.
func managerCases() []testCase {
	return []testCase{
		{"ManagerCreateAuthenticateRevoke", 0, testManagerCreateAuthenticateRevoke},
		{"ManagerStoresOnlyTheTokenHash", needIterable, testManagerStoresOnlyHash},
		{"ManagerRotate", 0, testManagerRotate},
		{"ManagerSetValues", 0, testManagerSetValues},
		{"ManagerListAndRevokeUser", 0, testManagerListRevokeUser},
		{"ManagerRevokeID", 0, testManagerRevokeID},
		{"ManagerIdleTimeoutAndTouch", needFull | needClock, testManagerIdleAndTouch},
		{"ManagerConcurrentTouchAndSetValues", needFull, testManagerConcurrentTouchSetValues},
		{"ManagerConcurrentRevokeAndAuthenticate", needFull, testManagerConcurrentRevokeAndAuthenticate},
	}
}

// manager returns a Manager on the store and the suite's clock.
func (e *env) manager(t *testing.T, idle, lifetime, touch time.Duration) *sessionauth.Manager {
	t.Helper()
	m, err := sessionauth.New(sessionauth.Config{
		Store:         e.store,
		IdleTimeout:   idle,
		Lifetime:      lifetime,
		TouchInterval: touch,
		Now:           e.now,
		Logger:        slog.New(slog.DiscardHandler),
	})
	require.NoError(t, err)
	return m
}

// defaultManager is a Manager with the package defaults: 30 minutes idle,
// 12 hours lifetime, a touch a minute at most.
func (e *env) defaultManager(t *testing.T) *sessionauth.Manager {
	return e.manager(t, 0, 0, 0)
}

// rejected checks that err rejects a request as a client error (401): the
// token does not authenticate, and the store did not fail.
func rejected(t *testing.T, err error, msg string) {
	t.Helper()
	if assert.Error(t, err, msg) {
		assert.Equal(t, 401, sessionauth.StatusCode(err), "%s: %v", msg, err)
	}
}

func testManagerCreateAuthenticateRevoke(t *testing.T, e *env) {
	ctx := t.Context()
	m := e.defaultManager(t)
	md := sessionauth.Metadata{IP: "192.0.2.1", UserAgent: "storetest", Values: map[string]string{"org": "acme"}}
	tok, created, err := m.Create(ctx, "alice", md)
	require.NoError(t, err)

	s, err := m.Authenticate(ctx, tok)
	require.NoError(t, err)
	assert.Equal(t, created.ID, s.ID)
	assert.Equal(t, "alice", s.UserID)
	assert.Equal(t, md, s.Metadata)
	assertTime(t, "created at", created.CreatedAt, s.CreatedAt)
	assertTime(t, "expires at", created.ExpiresAt, s.ExpiresAt)

	_, err = m.Authenticate(ctx, newToken(t))
	assert.ErrorIs(t, err, sessionauth.ErrUnknownSession, "a token never issued")

	require.NoError(t, m.Revoke(ctx, s))
	_, err = m.Authenticate(ctx, tok)
	assert.ErrorIs(t, err, sessionauth.ErrUnknownSession, "a revoked token")
	assert.NoError(t, m.Revoke(ctx, s), "revoking twice is not an error")
}

func testManagerStoresOnlyHash(t *testing.T, e *env) {
	ctx := t.Context()
	m := e.defaultManager(t)
	tok, _, err := m.Create(ctx, "alice", sessionauth.Metadata{})
	require.NoError(t, err)

	all := e.all(t)
	require.Len(t, all, 1)
	for key, data := range all {
		assert.Equal(t, sessionauth.KeyForToken(tok), key, "the store key is the token's hash")
		assert.False(t, bytes.Contains(data, []byte(tok)), "the record holds the token")
	}
}

func testManagerRotate(t *testing.T, e *env) {
	ctx := t.Context()
	m := e.defaultManager(t)
	old, s, err := m.Create(ctx, "alice", sessionauth.Metadata{Values: map[string]string{"org": "acme"}})
	require.NoError(t, err)

	tok, rotated, err := m.Rotate(ctx, s)
	if e.full == nil {
		// A rotation is a read and a write, which a plain scs store
		// cannot make safe against a revocation in between.
		assert.ErrorIs(t, err, sessionauth.ErrNotSupported, "Rotate on a plain scs store")
		_, err = m.Authenticate(ctx, old)
		assert.NoError(t, err, "a refused Rotate leaves the session")
		return
	}
	require.NoError(t, err)
	assert.NotEqual(t, old, tok)
	assert.Equal(t, s.ID, rotated.ID, "the session keeps its ID")

	_, err = m.Authenticate(ctx, old)
	assert.ErrorIs(t, err, sessionauth.ErrUnknownSession, "the old token stops working")
	got, err := m.Authenticate(ctx, tok)
	require.NoError(t, err, "the new token works")
	assert.Equal(t, s.ID, got.ID)
	assert.Equal(t, "acme", got.Value("org"), "the session keeps its values")
	assertTime(t, "expires at", s.ExpiresAt, got.ExpiresAt)

	_, _, err = m.Rotate(ctx, s)
	assert.ErrorIs(t, err, sessionauth.ErrUnknownSession, "rotating the old session again")
}

func testManagerSetValues(t *testing.T, e *env) {
	ctx := t.Context()
	m := e.defaultManager(t)
	tok, s, err := m.Create(ctx, "alice", sessionauth.Metadata{Values: map[string]string{"org": "acme", "theme": "dark"}})
	require.NoError(t, err)

	_, err = m.SetValues(ctx, s, map[string]string{"org": "globex", "theme": "", "project": "p1"})
	want := map[string]string{"org": "globex", "project": "p1"}
	if e.full == nil {
		assert.ErrorIs(t, err, sessionauth.ErrNotSupported, "SetValues on a plain scs store")
		want = map[string]string{"org": "acme", "theme": "dark"}
	} else {
		require.NoError(t, err)
	}
	got, err := m.Authenticate(ctx, tok)
	require.NoError(t, err)
	assert.Equal(t, want, got.Values)
}

func testManagerListRevokeUser(t *testing.T, e *env) {
	ctx := t.Context()
	m := e.defaultManager(t)
	var toks []string
	var ids []string
	var sessions []*sessionauth.Session
	for range 3 {
		tok, s, err := m.Create(ctx, "alice", sessionauth.Metadata{})
		require.NoError(t, err)
		toks, ids, sessions = append(toks, tok), append(ids, s.ID), append(sessions, s)
		e.advance(time.Second)
	}
	bob, _, err := m.Create(ctx, "bob", sessionauth.Metadata{})
	require.NoError(t, err)

	list, err := m.List(ctx, "alice")
	if e.full == nil && !e.iterable {
		assert.ErrorIs(t, err, sessionauth.ErrNotSupported, "List on a store that can neither list nor iterate")
		_, err = m.RevokeUser(ctx, "alice", nil)
		assert.ErrorIs(t, err, sessionauth.ErrNotSupported, "RevokeUser on a store that can neither list nor iterate")
		return
	}
	require.NoError(t, err)
	listed := make([]string, len(list))
	for i, s := range list {
		listed[i] = s.ID
	}
	if e.h.WallClock {
		assert.ElementsMatch(t, ids, listed)
	} else {
		assert.Equal(t, []string{ids[2], ids[1], ids[0]}, listed, "newest first")
	}

	n, err := m.RevokeUser(ctx, "alice", sessions[0])
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	_, err = m.Authenticate(ctx, toks[0])
	assert.NoError(t, err, "the kept session still works")
	for _, tok := range toks[1:] {
		_, err = m.Authenticate(ctx, tok)
		assert.ErrorIs(t, err, sessionauth.ErrUnknownSession, "the user's other sessions are revoked")
	}
	_, err = m.Authenticate(ctx, bob)
	assert.NoError(t, err, "another user's session still works")

	n, err = m.RevokeUser(ctx, "alice", nil)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	list, err = m.List(ctx, "alice")
	require.NoError(t, err)
	assert.Empty(t, list)
}

func testManagerRevokeID(t *testing.T, e *env) {
	ctx := t.Context()
	m := e.defaultManager(t)
	tok, s, err := m.Create(ctx, "alice", sessionauth.Metadata{})
	require.NoError(t, err)
	other, _, err := m.Create(ctx, "alice", sessionauth.Metadata{})
	require.NoError(t, err)

	err = m.RevokeID(ctx, "bob", s.ID)
	if e.full == nil && !e.iterable {
		assert.ErrorIs(t, err, sessionauth.ErrNotSupported)
		return
	}
	assert.ErrorIs(t, err, sessionauth.ErrUnknownSession, "a user cannot revoke another user's session")
	_, err = m.Authenticate(ctx, tok)
	require.NoError(t, err)

	require.NoError(t, m.RevokeID(ctx, "alice", s.ID))
	_, err = m.Authenticate(ctx, tok)
	assert.ErrorIs(t, err, sessionauth.ErrUnknownSession)
	_, err = m.Authenticate(ctx, other)
	assert.NoError(t, err, "only the named session is revoked")
}

// testManagerIdleAndTouch walks a session through its life on the store:
// use pushes the idle deadline, the lifetime caps it, idleness ends it.
func testManagerIdleAndTouch(t *testing.T, e *env) {
	ctx := t.Context()
	m := e.manager(t, 30*time.Minute, time.Hour, time.Minute)
	start := e.now()
	tok, _, err := m.Create(ctx, "alice", sessionauth.Metadata{})
	require.NoError(t, err)
	key := sessionauth.KeyForToken(tok)

	e.advance(20 * time.Minute)
	s, err := m.Authenticate(ctx, tok)
	require.NoError(t, err)
	assertTime(t, "idle deadline after use", start.Add(50*time.Minute), s.IdleExpiresAt)
	if e.full != nil {
		_, exp, _, err := e.full.Get(ctx, key)
		require.NoError(t, err)
		assertTime(t, "stored expiry after use", start.Add(50*time.Minute), exp)
	}

	e.advance(20 * time.Minute) // past the first idle deadline
	s, err = m.Authenticate(ctx, tok)
	require.NoError(t, err, "use kept the session alive past its first idle deadline")
	assertTime(t, "idle deadline capped by the lifetime", start.Add(time.Hour), s.IdleExpiresAt)

	e.advance(20*time.Minute - time.Millisecond)
	_, err = m.Authenticate(ctx, tok)
	require.NoError(t, err, "live until the end of its lifetime")
	e.advance(time.Millisecond)
	_, err = m.Authenticate(ctx, tok)
	rejected(t, err, "ended at its lifetime")

	idle, _, err := m.Create(ctx, "alice", sessionauth.Metadata{})
	require.NoError(t, err)
	e.advance(30*time.Minute - time.Millisecond)
	_, err = m.Authenticate(ctx, idle)
	require.NoError(t, err, "live a millisecond before its idle deadline")
	// That use moved the deadline: wait a full idle period.
	e.advance(30 * time.Minute)
	_, err = m.Authenticate(ctx, idle)
	rejected(t, err, "ended by idleness")
}

// testManagerConcurrentTouchSetValues races requests that touch a session
// against a writer that changes its values: no value is lost, and the stored
// expiry is the latest any request pushed it to.
func testManagerConcurrentTouchSetValues(t *testing.T, e *env) {
	ctx := t.Context()
	m := e.manager(t, time.Hour, 100*time.Hour, time.Millisecond)
	tok, s, err := m.Create(ctx, "alice", sessionauth.Metadata{})
	require.NoError(t, err)

	const writes, keys = 64, 16
	done := make(chan struct{})
	latest := make([]time.Time, 3) // the latest idle deadline each goroutine saw
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(done)
		cur := s
		for i := range writes {
			var err error
			cur, err = m.SetValues(ctx, cur, map[string]string{"k" + strconv.Itoa(i%keys): strconv.Itoa(i)})
			if err != nil {
				t.Errorf("SetValues: %v", err)
				return
			}
			latest[0] = later(latest[0], cur.IdleExpiresAt)
		}
	})
	for g := 1; g < len(latest); g++ {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				e.advance(time.Millisecond)
				got, err := m.Authenticate(ctx, tok)
				if err != nil {
					t.Errorf("Authenticate: %v", err)
					return
				}
				latest[g] = later(latest[g], got.IdleExpiresAt)
			}
		})
	}
	wg.Wait()

	want := make(map[string]string)
	for i := writes - keys; i < writes; i++ {
		want["k"+strconv.Itoa(i%keys)] = strconv.Itoa(i)
	}
	key := sessionauth.KeyForToken(tok)
	data, exp, found, err := e.full.Get(ctx, key)
	require.NoError(t, err)
	require.True(t, found)
	got, err := sessionauth.DecodeSession(key, data, exp)
	require.NoError(t, err)
	assert.Equal(t, want, got.Values, "every value written survives the touches")
	maxSeen := s.IdleExpiresAt
	for _, l := range latest {
		maxSeen = later(maxSeen, l)
	}
	assertTime(t, "stored expiry", maxSeen, exp)
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// testManagerConcurrentRevokeAndAuthenticate races requests against a
// revocation: a request that starts after Revoke returned never
// authenticates, and no touch in flight brings the session back.
func testManagerConcurrentRevokeAndAuthenticate(t *testing.T, e *env) {
	ctx := t.Context()
	m := e.manager(t, time.Hour, 100*time.Hour, time.Millisecond)
	for range 5 {
		tok, s, err := m.Create(ctx, "alice", sessionauth.Metadata{})
		require.NoError(t, err)
		var revoked atomic.Bool
		var warm sync.WaitGroup // every request loop has authenticated a few times
		var wg sync.WaitGroup
		for range 3 {
			warm.Add(1)
			wg.Go(func() {
				warmed := sync.OnceFunc(warm.Done)
				defer warmed()
				ok, after := 0, 0
				for after < 10 {
					startedRevoked := revoked.Load()
					e.advance(time.Millisecond)
					_, err := m.Authenticate(ctx, tok)
					switch {
					case startedRevoked && err == nil:
						t.Error("a request that started after Revoke returned authenticated")
						return
					case err != nil && !errors.Is(err, sessionauth.ErrUnknownSession):
						t.Errorf("Authenticate: %v", err)
						return
					case err == nil:
						if ok++; ok == 5 {
							warmed()
						}
					}
					if startedRevoked {
						after++
					}
				}
			})
		}
		warm.Wait()
		require.NoError(t, m.Revoke(ctx, s))
		revoked.Store(true)
		wg.Wait()

		_, err = m.Authenticate(ctx, tok)
		assert.ErrorIs(t, err, sessionauth.ErrUnknownSession)
		_, _, found, err := e.full.Get(ctx, sessionauth.KeyForToken(tok))
		require.NoError(t, err)
		require.False(t, found, "a touch brought a revoked session back")
	}
}
