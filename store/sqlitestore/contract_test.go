package sqlitestore_test

import (
	"crypto/sha256"
	"database/sql"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionauth/sessionauth"
	"github.com/sessionauth/sessionauth/store/sqlitestore"
)

// keys returns the keys of records.
func keys(records []sessionauth.Record) []string {
	out := make([]string, 0, len(records))
	for _, r := range records {
		out = append(out, r.Key)
	}
	return out
}

func TestUpdateChangesOnlyALiveRecord(t *testing.T) {
	clk := newClock()
	forEachConstructor(t, sqlitestore.Config{Now: clk.Now, SweepInterval: -1}, func(t *testing.T, s *sqlitestore.Store, path string) {
		ctx := t.Context()
		now := clk.Now()
		live, gone, expired := sessionauth.KeyForToken("live"), sessionauth.KeyForToken("gone"), sessionauth.KeyForToken("expired")
		require.NoError(t, s.Put(ctx, live, "alice", []byte("old"), now.Add(time.Hour)))
		require.NoError(t, s.Put(ctx, gone, "alice", []byte("old"), now.Add(time.Hour)))
		require.NoError(t, s.DeleteCtx(ctx, gone))
		require.NoError(t, s.Put(ctx, expired, "alice", []byte("old"), now.Add(-time.Second)))

		updated, err := s.Update(ctx, live, []byte("new"), now.Add(time.Minute))
		require.NoError(t, err)
		assert.True(t, updated)
		data, exp, found, err := s.Get(ctx, live)
		require.NoError(t, err)
		require.True(t, found)
		assert.Equal(t, []byte("new"), data)
		assert.True(t, now.Add(time.Hour).Equal(exp), "an earlier expiry does not shorten the record: %v", exp)
		updated, err = s.Update(ctx, live, []byte("newer"), now.Add(2*time.Hour))
		require.NoError(t, err)
		assert.True(t, updated)
		_, exp, _, err = s.Get(ctx, live)
		require.NoError(t, err)
		assert.True(t, now.Add(2*time.Hour).Equal(exp), "a later expiry extends it: %v", exp)
		list, err := s.ListUser(ctx, "alice")
		require.NoError(t, err)
		assert.Equal(t, []string{live}, keys(list), "the record keeps its user")

		updated, err = s.Update(ctx, gone, []byte("new"), now.Add(time.Hour))
		require.NoError(t, err)
		assert.False(t, updated, "a deleted record is not updated")
		_, _, found, err = s.Get(ctx, gone)
		require.NoError(t, err)
		assert.False(t, found, "Update never creates a record")

		updated, err = s.Update(ctx, expired, []byte("new"), now.Add(time.Hour))
		require.NoError(t, err)
		assert.False(t, updated, "an expired record is not updated")
		data, exp, found, err = s.Get(ctx, expired)
		require.NoError(t, err)
		require.True(t, found, "the expired record is still held")
		assert.Equal(t, []byte("old"), data, "its data is untouched")
		assert.True(t, now.Add(-time.Second).Equal(exp), "and it stays expired: %v", exp)

		updated, err = s.Update(ctx, live, nil, now.Add(2*time.Hour))
		require.NoError(t, err)
		assert.True(t, updated, "nil data is a valid update")
		data, _, found, err = s.Get(ctx, live)
		require.NoError(t, err)
		require.True(t, found)
		assert.Empty(t, data)
		assert.Equal(t, "blob", queryString(t, rawDB(t, path), `SELECT typeof(data) FROM sessionauth_sessions WHERE key = '`+live+`'`),
			"nil data is stored as an empty blob, as by Put, not NULL")
	})
}

func queryString(t *testing.T, db *sql.DB, query string, args ...any) string {
	t.Helper()
	var s string
	require.NoError(t, db.QueryRow(query, args...).Scan(&s))
	return s
}

func TestRenameMovesTheLiveRecordAndItsUserIndex(t *testing.T) {
	clk := newClock()
	forEachConstructor(t, sqlitestore.Config{Now: clk.Now, SweepInterval: -1}, func(t *testing.T, s *sqlitestore.Store, _ string) {
		ctx := t.Context()
		exp := clk.Now().Add(time.Hour)
		oldKey, newKey, other := sessionauth.KeyForToken("old"), sessionauth.KeyForToken("new"), sessionauth.KeyForToken("other")
		require.NoError(t, s.Put(ctx, oldKey, "alice", []byte("record"), exp))
		require.NoError(t, s.Put(ctx, other, "alice", []byte("other"), exp))

		renamed, err := s.Rename(ctx, oldKey, newKey)
		require.NoError(t, err)
		assert.True(t, renamed)
		_, _, found, err := s.Get(ctx, oldKey)
		require.NoError(t, err)
		assert.False(t, found, "the old key is gone")
		data, gotExp, found, err := s.Get(ctx, newKey)
		require.NoError(t, err)
		require.True(t, found, "the new key holds the record")
		assert.Equal(t, []byte("record"), data)
		assert.True(t, exp.Equal(gotExp), "with its expiry: %v", gotExp)

		list, err := s.ListUser(ctx, "alice")
		require.NoError(t, err)
		assert.ElementsMatch(t, []string{newKey, other}, keys(list), "ListUser sees the new key, not the old")
		n, err := s.DeleteUser(ctx, "alice", other)
		require.NoError(t, err)
		assert.Equal(t, 1, n, "DeleteUser finds the renamed record under its user")
		_, _, found, err = s.Get(ctx, newKey)
		require.NoError(t, err)
		assert.False(t, found, "and deletes it")
	})
}

func TestRenameOfAMissingOrExpiredKeyChangesNothing(t *testing.T) {
	clk := newClock()
	forEachConstructor(t, sqlitestore.Config{Now: clk.Now, SweepInterval: -1}, func(t *testing.T, s *sqlitestore.Store, _ string) {
		ctx := t.Context()
		missing, expired, newKey := sessionauth.KeyForToken("missing"), sessionauth.KeyForToken("expired"), sessionauth.KeyForToken("new")
		renamed, err := s.Rename(ctx, missing, newKey)
		require.NoError(t, err)
		assert.False(t, renamed, "a missing key is not renamed")

		past := clk.Now().Add(-time.Nanosecond)
		require.NoError(t, s.Put(ctx, expired, "alice", []byte("record"), past))
		renamed, err = s.Rename(ctx, expired, newKey)
		require.NoError(t, err)
		assert.False(t, renamed, "an expired record is not renamed")

		_, _, found, err := s.Get(ctx, newKey)
		require.NoError(t, err)
		assert.False(t, found, "no record appears under the new key")
		_, exp, found, err := s.Get(ctx, expired)
		require.NoError(t, err)
		assert.True(t, found, "the expired record stays where it was")
		assert.True(t, past.Equal(exp))
	})
}

// TestRenameOntoAHeldKeyFails covers a newKey that exists, which the
// contract rules out (the Manager renames to a fresh random key): the call
// fails, moves nothing, and its error does not name either key.
func TestRenameOntoAHeldKeyFails(t *testing.T) {
	clk := newClock()
	forEachConstructor(t, sqlitestore.Config{Now: clk.Now, SweepInterval: -1}, func(t *testing.T, s *sqlitestore.Store, _ string) {
		ctx := t.Context()
		exp := clk.Now().Add(time.Hour)
		a, b := sessionauth.KeyForToken("a"), sessionauth.KeyForToken("b")
		require.NoError(t, s.Put(ctx, a, "alice", []byte("a"), exp))
		require.NoError(t, s.Put(ctx, b, "bob", []byte("b"), exp))

		renamed, err := s.Rename(ctx, a, b)
		require.Error(t, err)
		assert.False(t, renamed)
		assert.NotContains(t, err.Error(), a)
		assert.NotContains(t, err.Error(), b)
		for key, want := range map[string]string{a: "a", b: "b"} {
			data, _, found, err := s.Get(ctx, key)
			require.NoError(t, err)
			require.True(t, found)
			assert.Equal(t, []byte(want), data, "both records are as they were")
		}
	})
}

// TestGetReturnsAnExpiredRecordItStillHolds: Get and LoadSession hand back
// a held record past its expiry, with that expiry, so that the Manager can
// refuse and delete it; every other method treats it as absent.
func TestGetReturnsAnExpiredRecordItStillHolds(t *testing.T) {
	clk := newClock()
	forEachConstructor(t, sqlitestore.Config{Now: clk.Now, SweepInterval: -1}, func(t *testing.T, s *sqlitestore.Store, _ string) {
		ctx := t.Context()
		m, err := sessionauth.New(sessionauth.Config{Store: s, Now: clk.Now, IdleTimeout: time.Hour, Lifetime: time.Hour})
		require.NoError(t, err)
		token, _, err := m.Create(ctx, "alice", sessionauth.Metadata{})
		require.NoError(t, err)
		key := sessionauth.KeyForToken(token)
		wantData, wantExp, found, err := s.Get(ctx, key)
		require.NoError(t, err)
		require.True(t, found)

		clk.add(time.Hour) // the expiry instant: expired from now on
		data, exp, found, err := s.Get(ctx, key)
		require.NoError(t, err)
		require.True(t, found, "Get returns an expired record the store holds")
		assert.Equal(t, wantData, data)
		assert.True(t, wantExp.Equal(exp), "with its past expiry %v", exp)
		assert.False(t, exp.After(clk.Now()), "the expiry is not in the future")

		sess, err := s.LoadSession(ctx, sha256.Sum256([]byte(token)), clk.Now())
		require.NoError(t, err)
		require.NotNil(t, sess, "LoadSession returns it too")
		assert.Equal(t, "alice", sess.UserID)
		assert.True(t, sess.IdleExpiresAt.Equal(exp))

		_, found, err = s.FindCtx(ctx, key)
		require.NoError(t, err)
		assert.False(t, found, "Find does not")
		all, err := s.AllCtx(ctx)
		require.NoError(t, err)
		assert.NotContains(t, all, key, "nor does All")
		list, err := s.ListUser(ctx, "alice")
		require.NoError(t, err)
		assert.Empty(t, list, "nor ListUser")
		require.NoError(t, s.Touch(ctx, key, clk.Now().Add(time.Hour)))
		_, exp, _, err = s.Get(ctx, key)
		require.NoError(t, err)
		assert.True(t, wantExp.Equal(exp), "Touch does not revive it")

		_, err = m.Authenticate(ctx, token)
		assert.ErrorIs(t, err, sessionauth.ErrSessionExpired, "the Manager refuses it")
		_, _, found, err = s.Get(ctx, key)
		require.NoError(t, err)
		assert.False(t, found, "and deletes it, so a clock stepped back cannot revive it")
	})
}

// TestLoadSessionReusesADecodedSessionOnlyForAnIdenticalRow checks the
// decode cache of the reserved readers: the same *Session while the row is
// unchanged, expired or not, and a new one as soon as its data or expiry
// changes.
func TestLoadSessionReusesADecodedSessionOnlyForAnIdenticalRow(t *testing.T) {
	ctx := t.Context()
	clk := newClock()
	s := open(t, newPath(t), sqlitestore.Config{Now: clk.Now, SweepInterval: -1, MaxReadConns: 1})
	m, err := sessionauth.New(sessionauth.Config{Store: s, Now: clk.Now, IdleTimeout: time.Hour, Lifetime: 10 * time.Hour})
	require.NoError(t, err)
	token, _, err := m.Create(ctx, "alice", sessionauth.Metadata{})
	require.NoError(t, err)
	hash, key := sha256.Sum256([]byte(token)), sessionauth.KeyForToken(token)
	load := func() *sessionauth.Session {
		t.Helper()
		sess, err := s.LoadSession(ctx, hash, clk.Now())
		require.NoError(t, err)
		require.NotNil(t, sess)
		return sess
	}

	first := load()
	assert.Same(t, first, load(), "an unchanged row gives the session decoded before")

	data, exp, _, err := s.Get(ctx, key)
	require.NoError(t, err)
	require.NoError(t, s.Touch(ctx, key, exp.Add(time.Nanosecond)))
	touched := load()
	assert.NotSame(t, first, touched, "a new expiry, same data: decoded again")
	assert.True(t, exp.Add(time.Nanosecond).Equal(touched.IdleExpiresAt))

	withValues, err := m.SetValues(ctx, touched, map[string]string{"theme": "dark"})
	require.NoError(t, err)
	changed, _, _, err := s.Get(ctx, key)
	require.NoError(t, err)
	updated, err := s.Update(ctx, key, changed, exp) // the expiry stays: only the data changed
	require.NoError(t, err)
	require.True(t, updated)
	got := load()
	assert.NotSame(t, touched, got, "new data, same expiry: decoded again")
	assert.Equal(t, withValues.Metadata.Values, got.Metadata.Values)

	require.NoError(t, s.Put(ctx, key, "alice", data, exp))
	again := load()
	assert.NotSame(t, got, again, "the old bytes back: decoded again")
	assert.Empty(t, again.Metadata.Values, "never the stale session")
	clk.add(2 * time.Hour)
	assert.Same(t, again, load(), "expiry passing changes no row: the same session, for the Manager to judge")

	require.NoError(t, s.DeleteCtx(ctx, key))
	sess, err := s.LoadSession(ctx, hash, clk.Now())
	require.NoError(t, err)
	assert.Nil(t, sess, "a deleted row gives no session")
}
