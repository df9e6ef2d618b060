package sessionauth_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
	scsmemstore "github.com/alexedwards/scs/v2/memstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionauth/sessionauth"
	"github.com/sessionauth/sessionauth/sessionauthtest"
	"github.com/sessionauth/sessionauth/store/memstore"
	"github.com/sessionauth/sessionauth/store/storetest"
)

// Our stores satisfy scs's store interfaces at compile time.
var (
	_ scs.Store            = (*memstore.Store)(nil)
	_ scs.CtxStore         = (*memstore.Store)(nil)
	_ scs.IterableStore    = (*memstore.Store)(nil)
	_ scs.IterableCtxStore = (*memstore.Store)(nil)
)

// newSCSBackedManager returns a Manager on scs's memstore. The Manager's clock
// starts at the real time and only moves forward, so the scs store, which
// decides expiry on the real clock, keeps every record the Manager considers
// live; the Manager checks the deadlines itself. The store is wrapped, to
// count its writes; it keeps exactly scs's methods: no context variants and
// no SessionStore extras.
func newSCSBackedManager(t *testing.T) (*sessionauth.Manager, *storetest.Wrapper, *sessionauthtest.Clock) {
	t.Helper()
	store := storetest.Wrap(scsmemstore.NewWithCleanupInterval(0))
	clock := newTestClock()
	clock.Set(time.Now())
	m, err := sessionauth.New(sessionauth.Config{Store: store.Store(), Now: clock.Now, IdleTimeout: 30 * time.Minute, TouchInterval: time.Minute})
	require.NoError(t, err)
	return m, store, clock
}

// On a plain scs store the Manager creates, authenticates and revokes, and
// never writes back what it read: a rewrite could undo a revocation that
// landed between the read and the write.
func TestManagerRunsOnSCSMemstore(t *testing.T) {
	m, store, clock := newSCSBackedManager(t)
	ctx := context.Background()
	protected := m.Require(userHandler)
	status := func(token string) int { return do(protected, "Bearer "+token).Code }

	token, s, err := m.Create(ctx, "alice", sessionauth.Metadata{Values: map[string]string{"org": "acme"}})
	require.NoError(t, err)
	_, found, err := store.Unwrap().Find(sessionauth.KeyForToken(token))
	require.NoError(t, err)
	require.True(t, found, "the record is stored under the hashed token")
	assert.Equal(t, http.StatusOK, status(token))

	_, err = m.SetValues(ctx, s, map[string]string{"org": "globex"})
	assert.ErrorIs(t, err, sessionauth.ErrNotSupported)
	_, _, err = m.Rotate(ctx, s)
	assert.ErrorIs(t, err, sessionauth.ErrNotSupported)

	// The Manager enforces the idle deadline although the scs store, on the
	// real clock, still holds the record; use does not extend it.
	clock.Advance(29 * time.Minute)
	require.Equal(t, http.StatusOK, status(token))
	clock.Advance(time.Minute)
	assert.Equal(t, http.StatusUnauthorized, status(token), "IdleTimeout after Create, however used")

	// Revoke is immediate.
	other, s2, err := m.Create(ctx, "alice", sessionauth.Metadata{})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, status(other))
	require.NoError(t, m.Revoke(ctx, s2))
	assert.Equal(t, http.StatusUnauthorized, status(other))
}

// A touch on a plain scs store would be a read followed by a Commit of the
// whole record, which could undo a revocation or move the expiry back; so
// authenticating never writes to such a store, whatever the clocks say.
func TestManagerOnSCSMemstoreAuthenticationNeverWrites(t *testing.T) {
	m, store, clock := newSCSBackedManager(t)
	token, _, err := m.Create(context.Background(), "alice", sessionauth.Metadata{})
	require.NoError(t, err)
	commits := store.Calls(storetest.OpCommit)

	ahead := newTestClock()
	ahead.Set(clock.Now().Add(10 * time.Minute))
	other, err := sessionauth.New(sessionauth.Config{Store: store.Store(), Now: ahead.Now, IdleTimeout: 30 * time.Minute, TouchInterval: time.Minute})
	require.NoError(t, err)
	for _, step := range []time.Duration{0, 5 * time.Minute, 10 * time.Minute, 14 * time.Minute} {
		clock.Set(ahead.Now().Add(-10*time.Minute + step))
		_, err = m.Authenticate(context.Background(), token)
		require.NoError(t, err)
		_, err = other.Authenticate(context.Background(), token)
		require.NoError(t, err)
		ahead.Advance(time.Minute)
	}
	assert.Equal(t, commits, store.Calls(storetest.OpCommit), "no request rewrote the record")
}

// Listing and revoking a user's sessions fall back to scanning an
// IterableStore, and skip records that are not sessions of this package (an
// scs application may share the store).
func TestManagerOnSCSMemstoreListsAndRevokesUserThroughIteration(t *testing.T) {
	m, store, clock := newSCSBackedManager(t)
	ctx := context.Background()
	require.NoError(t, store.Unwrap().Commit("scs-app-token", []byte("gob data of an scs app"), time.Now().Add(time.Hour)))

	var tokens []string
	var sessions []*sessionauth.Session
	for range 3 {
		tok, s, err := m.Create(ctx, "alice", sessionauth.Metadata{})
		require.NoError(t, err)
		tokens = append(tokens, tok)
		sessions = append(sessions, s)
		clock.Advance(time.Minute)
	}
	bobToken, _, err := m.Create(ctx, "bob", sessionauth.Metadata{})
	require.NoError(t, err)

	list, err := m.List(ctx, "alice")
	require.NoError(t, err)
	require.Len(t, list, 3)
	for i, s := range list {
		assert.Equal(t, sessions[2-i].ID, s.ID, "newest first")
	}

	assert.ErrorIs(t, m.RevokeID(ctx, "bob", sessions[0].ID), sessionauth.ErrUnknownSession)
	require.NoError(t, m.RevokeID(ctx, "alice", sessions[0].ID))
	n, err := m.RevokeUser(ctx, "alice", sessions[2])
	require.NoError(t, err)
	assert.Equal(t, 1, n)

	protected := m.Require(userHandler)
	assert.Equal(t, http.StatusUnauthorized, do(protected, "Bearer "+tokens[0]).Code)
	assert.Equal(t, http.StatusUnauthorized, do(protected, "Bearer "+tokens[1]).Code)
	assert.Equal(t, http.StatusOK, do(protected, "Bearer "+tokens[2]).Code)
	assert.Equal(t, http.StatusOK, do(protected, "Bearer "+bobToken).Code)
	_, found, err := store.Unwrap().Find("scs-app-token")
	require.NoError(t, err)
	assert.True(t, found, "a record of another application is left alone")
}

// plainSCSStore has only scs.Store's three methods.
type plainSCSStore struct{ s *scsmemstore.MemStore }

func (p plainSCSStore) Delete(key string) error                      { return p.s.Delete(key) }
func (p plainSCSStore) Find(key string) ([]byte, bool, error)        { return p.s.Find(key) }
func (p plainSCSStore) Commit(k string, b []byte, e time.Time) error { return p.s.Commit(k, b, e) }

func TestManagerOnNonIterableStoreReportsListingUnsupported(t *testing.T) {
	m, err := sessionauth.New(sessionauth.Config{Store: plainSCSStore{scsmemstore.NewWithCleanupInterval(0)}})
	require.NoError(t, err)
	ctx := context.Background()
	token, s, err := m.Create(ctx, "alice", sessionauth.Metadata{})
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, do(m.Require(userHandler), "Bearer "+token).Code)

	_, err = m.List(ctx, "alice")
	assert.ErrorIs(t, err, sessionauth.ErrNotSupported)
	_, err = m.RevokeUser(ctx, "alice", nil)
	assert.ErrorIs(t, err, sessionauth.ErrNotSupported)
	assert.ErrorIs(t, m.RevokeID(ctx, "alice", s.ID), sessionauth.ErrNotSupported)

	// The core operations need nothing more.
	require.NoError(t, m.Revoke(ctx, s))
	assert.Equal(t, http.StatusUnauthorized, do(m.Require(userHandler), "Bearer "+token).Code)
}
