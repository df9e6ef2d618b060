package sessionauth_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
	scsmemstore "github.com/alexedwards/scs/v2/memstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionauth/sessionauth"
	"github.com/sessionauth/sessionauth/store/memstore"
)

// Our stores satisfy scs's store interfaces at compile time.
var (
	_ scs.Store            = (*memstore.Store)(nil)
	_ scs.CtxStore         = (*memstore.Store)(nil)
	_ scs.IterableStore    = (*memstore.Store)(nil)
	_ scs.IterableCtxStore = (*memstore.Store)(nil)
)

// countingSCSStore wraps scs's own memstore and counts its writes. It has
// exactly scs's methods: no context variants and no SessionStore extras.
type countingSCSStore struct {
	*scsmemstore.MemStore

	mu      sync.Mutex
	commits []time.Time // expiry of each Commit
}

func (s *countingSCSStore) Commit(key string, b []byte, expiry time.Time) error {
	s.mu.Lock()
	s.commits = append(s.commits, expiry)
	s.mu.Unlock()
	return s.MemStore.Commit(key, b, expiry)
}

func (s *countingSCSStore) commitCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.commits)
}

// newSCSBackedManager returns a Manager on scs's memstore. The Manager's clock
// starts at the real time and only moves forward, so the scs store, which
// decides expiry on the real clock, keeps every record the Manager considers
// live; the Manager checks the deadlines itself.
func newSCSBackedManager(t *testing.T) (*sessionauth.Manager, *countingSCSStore, *stepClock) {
	t.Helper()
	store := &countingSCSStore{MemStore: scsmemstore.NewWithCleanupInterval(0)}
	clock := newStepClock()
	clock.Set(time.Now())
	m, err := sessionauth.New(sessionauth.Config{Store: store, Now: clock.Now, IdleTimeout: 30 * time.Minute, TouchInterval: time.Minute})
	require.NoError(t, err)
	return m, store, clock
}

func TestManagerRunsOnSCSMemstore(t *testing.T) {
	m, store, clock := newSCSBackedManager(t)
	ctx := context.Background()
	protected := m.Require(userHandler)
	status := func(token string) int { return do(protected, "Bearer "+token).Code }

	token, s, err := m.Create(ctx, "alice", sessionauth.Metadata{Values: map[string]string{"org": "acme"}})
	require.NoError(t, err)
	_, found, err := store.Find(sessionauth.KeyForToken(token))
	require.NoError(t, err)
	require.True(t, found, "the record is stored under the hashed token")
	assert.Equal(t, http.StatusOK, status(token))

	// Touch: a plain scs store gets the whole record rewritten, once per
	// touch interval, with the idle deadline moved forward.
	commits := store.commitCount()
	clock.Advance(5 * time.Minute)
	for range 10 {
		require.Equal(t, http.StatusOK, status(token))
	}
	assert.Equal(t, commits+1, store.commitCount())
	data, found, err := store.Find(sessionauth.KeyForToken(token))
	require.NoError(t, err)
	require.True(t, found)
	stored, err := sessionauth.DecodeSession(sessionauth.KeyForToken(token), data, time.Time{})
	require.NoError(t, err)
	assert.True(t, stored.IdleExpiresAt.Equal(clock.Now().Add(30*time.Minute)))
	assert.True(t, stored.LastUsedAt.Equal(clock.Now()))
	assert.Equal(t, "acme", stored.Value("org"))

	// SetValues rewrites the record with the new value and the same deadlines.
	updated, err := m.SetValues(ctx, s, map[string]string{"org": "globex"})
	require.NoError(t, err)
	assert.True(t, updated.IdleExpiresAt.Equal(stored.IdleExpiresAt))

	// Rotate: same session under a new token; the old one is gone.
	newToken, rotated, err := m.Rotate(ctx, s)
	require.NoError(t, err)
	assert.Equal(t, s.ID, rotated.ID)
	assert.Equal(t, "globex", rotated.Value("org"))
	assert.Equal(t, http.StatusUnauthorized, status(token))
	assert.Equal(t, http.StatusOK, status(newToken))
	_, found, err = store.Find(sessionauth.KeyForToken(token))
	require.NoError(t, err)
	assert.False(t, found)

	// The Manager enforces the idle deadline although the scs store, on the
	// real clock, still holds the record.
	idle, _, err := m.Create(ctx, "alice", sessionauth.Metadata{})
	require.NoError(t, err)
	clock.Advance(5 * time.Minute)
	require.Equal(t, http.StatusOK, status(newToken))
	clock.Advance(25 * time.Minute)
	assert.Equal(t, http.StatusUnauthorized, status(idle), "unused for the idle timeout")
	assert.Equal(t, http.StatusOK, status(newToken), "used 25 minutes ago")

	// Revoke is immediate.
	require.NoError(t, m.Revoke(ctx, rotated))
	assert.Equal(t, http.StatusUnauthorized, status(newToken))
}

func TestManagerOnSCSMemstoreNeverMovesExpiryBackward(t *testing.T) {
	m, store, clock := newSCSBackedManager(t)
	token, _, err := m.Create(context.Background(), "alice", sessionauth.Metadata{})
	require.NoError(t, err)

	ahead := newStepClock()
	ahead.Set(clock.Now().Add(10 * time.Minute))
	other, err := sessionauth.New(sessionauth.Config{Store: store, Now: ahead.Now, IdleTimeout: 30 * time.Minute, TouchInterval: time.Minute})
	require.NoError(t, err)
	_, err = other.Authenticate(context.Background(), token)
	require.NoError(t, err)

	clock.Advance(5 * time.Minute)
	commits := store.commitCount()
	s, err := m.Authenticate(context.Background(), token)
	require.NoError(t, err)
	assert.True(t, s.IdleExpiresAt.Equal(ahead.Now().Add(30*time.Minute)))
	assert.Equal(t, commits, store.commitCount(), "no rewrite to an earlier deadline")
}

// Listing and revoking a user's sessions fall back to scanning an
// IterableStore, and skip records that are not sessions of this package (an
// scs application may share the store).
func TestManagerOnSCSMemstoreListsAndRevokesUserThroughIteration(t *testing.T) {
	m, store, clock := newSCSBackedManager(t)
	ctx := context.Background()
	require.NoError(t, store.MemStore.Commit("scs-app-token", []byte("gob data of an scs app"), time.Now().Add(time.Hour)))

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
	_, found, err := store.Find("scs-app-token")
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
	newToken, rotated, err := m.Rotate(ctx, s)
	require.NoError(t, err)
	require.NoError(t, m.Revoke(ctx, rotated))
	assert.Equal(t, http.StatusUnauthorized, do(m.Require(userHandler), "Bearer "+newToken).Code)
}
