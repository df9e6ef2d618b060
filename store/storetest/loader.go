package storetest

import (
	"context"
	"crypto/sha256"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionauth/sessionauth"
)

// The SessionLoader contract: the fast path hands back what Get and
// DecodeSession would, never a session older than the record.
func loaderCases() []testCase {
	return []testCase{
		{"LoadSessionReturnsWhatGetDecodesTo", needFull | needLoader, testLoadEqualsGet},
		{"LoadSessionFollowsEveryWrite", needFull | needLoader, testLoadFollowsWrites},
		{"LoadSessionHandsBackExpiredSessionsWithTheirExpiry", needFull | needLoader | needClock, testLoadExpiry},
		{"LoadSessionOfAnUndecodableRecordIsNoSession", needFull | needLoader, testLoadUndecodable},
		{"LoadSessionSeesWritesOfAnotherInstanceAtOnce", needFull | needLoader | needPeer, testLoadSeesPeerWrites},
	}
}

// load calls LoadSession for token at now and fails the test on an error.
func (e *env) load(t *testing.T, token string, now time.Time) *sessionauth.Session {
	t.Helper()
	s, err := e.loader.LoadSession(t.Context(), sha256.Sum256([]byte(token)), now)
	require.NoError(t, err)
	return s
}

// decoded is the session Get and DecodeSession give for token.
func (e *env) decoded(t *testing.T, token string) *sessionauth.Session {
	t.Helper()
	key := sessionauth.KeyForToken(token)
	data, exp, found := e.get(t, key)
	require.True(t, found, "Get finds the session")
	s, err := sessionauth.DecodeSession(key, data, exp)
	require.NoError(t, err)
	return s
}

// loadEverywhere calls LoadSession for token from several goroutines at
// once, many times, so that every connection or shard of a store that keeps
// decoded sessions per connection serves it, and checks that each call
// returns a session equal to want (nil: none).
func (e *env) loadEverywhere(t *testing.T, token string, want *sessionauth.Session) {
	t.Helper()
	hash := sha256.Sum256([]byte(token))
	now := e.now()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			for range 16 {
				got, err := e.loader.LoadSession(context.Background(), hash, now)
				switch {
				case err != nil:
					errs <- err
					return
				case want == nil && got != nil:
					errs <- errors.New("LoadSession returned a session where there is none")
					return
				case want != nil && (got == nil || !assert.ObjectsAreEqual(*want, *got)):
					errs <- errors.New("LoadSession returned a session other than the record's")
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func testLoadEqualsGet(t *testing.T, e *env) {
	m := e.defaultManager(t)
	token, created, err := m.Create(t.Context(), "alice", sessionauth.Metadata{
		IP: "192.0.2.1", UserAgent: "curl/8.5.0", Values: map[string]string{"org": "acme"},
	})
	require.NoError(t, err)

	got := e.load(t, token, e.now())
	require.NotNil(t, got, "LoadSession finds a session the Manager created")
	assert.Equal(t, *e.decoded(t, token), *got)
	assert.Equal(t, created.ID, got.ID)
	assert.Equal(t, "acme", got.Value("org"))
	e.loadEverywhere(t, token, got)

	assert.Nil(t, e.load(t, newToken(t), e.now()), "no session under an unknown token")
}

func testLoadFollowsWrites(t *testing.T, e *env) {
	ctx := t.Context()
	m := e.defaultManager(t)
	token, created, err := m.Create(ctx, "alice", sessionauth.Metadata{Values: map[string]string{"org": "acme"}})
	require.NoError(t, err)
	e.loadEverywhere(t, token, e.decoded(t, token))

	// New data under the same key, as SetValues writes.
	_, err = m.SetValues(ctx, created, map[string]string{"org": "globex"})
	require.NoError(t, err)
	updated := e.decoded(t, token)
	require.Equal(t, "globex", updated.Value("org"))
	e.loadEverywhere(t, token, updated)

	// A later expiry alone, as a touch writes.
	key := sessionauth.KeyForToken(token)
	require.NoError(t, e.full.Touch(ctx, key, updated.IdleExpiresAt.Add(time.Minute)))
	touched := e.decoded(t, token)
	assertTime(t, "idle expiry after the touch", updated.IdleExpiresAt.Add(time.Minute), touched.IdleExpiresAt)
	e.loadEverywhere(t, token, touched)

	// Revoked: gone at once, however often it was loaded before.
	require.NoError(t, m.Revoke(ctx, created))
	e.loadEverywhere(t, token, nil)
}

// testLoadExpiry checks that LoadSession hands back a held session with its
// own expiry whatever the instant passed, so that the Manager judges it: live
// before its expiry, and, from the expiry on, either gone or returned with
// that expiry, never as a live session.
func testLoadExpiry(t *testing.T, e *env) {
	m := e.defaultManager(t)
	token, created, err := m.Create(t.Context(), "alice", sessionauth.Metadata{})
	require.NoError(t, err)
	exp := created.IdleExpiresAt
	require.NotNil(t, e.load(t, token, exp.Add(-time.Millisecond)), "live just before its expiry")
	for _, at := range []time.Time{exp, exp.Add(time.Hour)} {
		e.advance(at.Sub(e.now()))
		if s := e.load(t, token, at); s != nil {
			assertTime(t, "the idle expiry of a held expired session", exp, s.IdleExpiresAt)
		}
	}
}

func testLoadUndecodable(t *testing.T, e *env) {
	ctx := t.Context()
	token := newToken(t)
	key := sessionauth.KeyForToken(token)
	// An scs application's record under a key of the Manager's shape.
	require.NoError(t, e.full.Put(ctx, key, "alice", []byte("not a session record"), e.live()))

	s, err := e.loader.LoadSession(ctx, sha256.Sum256([]byte(token)), e.now())
	assert.Nil(t, s, "no session from a record that does not decode")
	if err != nil {
		assert.ErrorIs(t, err, sessionauth.ErrCorruptRecord, "the only error LoadSession may give for it")
	}
	_, err = e.defaultManager(t).Authenticate(ctx, token)
	rejected(t, err, "the Manager rejects the token as unknown, not as a store failure")
}

func testLoadSeesPeerWrites(t *testing.T, e *env) {
	ctx := t.Context()
	a, b := e.instances(t)
	token, created, err := b.manager.Create(ctx, "alice", sessionauth.Metadata{Values: map[string]string{"org": "acme"}})
	require.NoError(t, err)
	e.loadEverywhere(t, token, e.decoded(t, token))

	// The other instance changes the session, then revokes it; this one's
	// LoadSession follows at once, whatever it decoded before.
	_, err = b.manager.SetValues(ctx, created, map[string]string{"org": "globex"})
	require.NoError(t, err)
	updated := e.decoded(t, token)
	require.Equal(t, "globex", updated.Value("org"), "Get on this instance sees the other's write")
	e.loadEverywhere(t, token, updated)
	s, err := a.manager.Authenticate(ctx, token)
	require.NoError(t, err)
	assert.Equal(t, "globex", s.Value("org"))

	require.NoError(t, b.manager.Revoke(ctx, created))
	e.loadEverywhere(t, token, nil)
}
