package sqlitestore_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionauth/sessionauth/ratelimit"
	"github.com/sessionauth/sessionauth/ratelimit/ratelimittest"
	"github.com/sessionauth/sessionauth/store/sqlitestore"
)

func openLimitStore(t *testing.T, path string, cfg sqlitestore.LimitConfig) *sqlitestore.LimitStore {
	t.Helper()
	s, err := sqlitestore.OpenLimitStore(context.Background(), path, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// TestLimitStoreConformance runs the suite on each way to get a LimitStore:
// its own connection, the session Store's write connection, and a pool of
// the caller's with several connections, whose concurrent Takes contend for
// SQLite's write lock itself.
func TestLimitStoreConformance(t *testing.T) {
	t.Run("Open", func(t *testing.T) {
		ratelimittest.Run(t, func(t *testing.T) ratelimit.Store {
			return openLimitStore(t, filepath.Join(t.TempDir(), "limits.db"), sqlitestore.LimitConfig{})
		})
	})
	t.Run("SessionStore", func(t *testing.T) {
		ratelimittest.Run(t, func(t *testing.T) ratelimit.Store {
			store, err := sqlitestore.Open(context.Background(), filepath.Join(t.TempDir(), "sessions.db"), sqlitestore.Config{SweepInterval: -1})
			require.NoError(t, err)
			t.Cleanup(func() { _ = store.Close() })
			s, err := store.LimitStore(context.Background(), sqlitestore.LimitConfig{})
			require.NoError(t, err)
			return s
		})
	})
	t.Run("CallersPool", func(t *testing.T) {
		ratelimittest.Run(t, func(t *testing.T) ratelimit.Store {
			db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "app.db")+"?_busy_timeout=10000&_journal_mode=WAL")
			require.NoError(t, err)
			db.SetMaxOpenConns(8)
			t.Cleanup(func() { _ = db.Close() })
			s, err := sqlitestore.NewLimitStore(context.Background(), db, sqlitestore.LimitConfig{Table: "app_limits"})
			require.NoError(t, err)
			return s
		})
	})
}

// TestLimitCountsSurviveARestart: a Limiter on the file refuses the 6th
// attempt after the process that counted the first five has gone.
func TestLimitCountsSurviveARestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sessions.db")
	ctx := context.Background()
	now := ratelimittest.Start
	first, err := sqlitestore.OpenLimitStore(context.Background(), path, sqlitestore.LimitConfig{})
	require.NoError(t, err)
	l, err := ratelimit.New(ratelimit.Config{Store: first})
	require.NoError(t, err)
	for i := range 5 {
		retry, err := l.Attempt(ctx, "alice@example.com", fmt.Sprintf("192.0.2.%d", i), now)
		require.NoError(t, err)
		require.Zero(t, retry)
	}
	require.NoError(t, first.Close())

	again := openLimitStore(t, path, sqlitestore.LimitConfig{})
	l, err = ratelimit.New(ratelimit.Config{Store: again})
	require.NoError(t, err)
	retry, err := l.Attempt(ctx, "alice@example.com", "203.0.113.9", now)
	require.NoError(t, err)
	assert.Positive(t, retry)
}

// TestLimitStoresOnOneFileShareCounts: two processes' stores on one file
// (here two connections of their own) see one count.
func TestLimitStoresOnOneFileShareCounts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sessions.db")
	a := openLimitStore(t, path, sqlitestore.LimitConfig{})
	b := openLimitStore(t, path, sqlitestore.LimitConfig{})
	ctx := context.Background()
	for i := range 4 {
		retry, err := []*sqlitestore.LimitStore{a, b}[i%2].Take(ctx, "k", 4, time.Minute, ratelimittest.Start)
		require.NoError(t, err)
		require.Zero(t, retry)
	}
	for _, s := range []*sqlitestore.LimitStore{a, b} {
		retry, err := s.Take(ctx, "k", 4, time.Minute, ratelimittest.Start)
		require.NoError(t, err)
		assert.Equal(t, 15*time.Second, retry)
	}
}

func TestLimitSweepDeletesOnlyRowsThatRanOut(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sessions.db")
	s := openLimitStore(t, path, sqlitestore.LimitConfig{SweepEvery: 10})
	ctx := context.Background()
	now := ratelimittest.Start
	for range 5 {
		_, err := s.Take(ctx, "long", 5, time.Hour, now)
		require.NoError(t, err)
	}
	for i := range 4 {
		_, err := s.Take(ctx, fmt.Sprint("short", i), 5, time.Minute, now)
		require.NoError(t, err)
	}
	_, err := s.Take(ctx, "tenth", 5, time.Minute, now.Add(time.Minute)) // sweeps
	require.NoError(t, err)

	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	require.NoError(t, err)
	defer db.Close()
	var keys []string
	rows, err := db.Query("SELECT key FROM sessionauth_limits ORDER BY key")
	require.NoError(t, err)
	for rows.Next() {
		var k string
		require.NoError(t, rows.Scan(&k))
		keys = append(keys, k)
	}
	require.NoError(t, rows.Err())
	assert.Equal(t, []string{"long", "tenth"}, keys, "the tenth Take swept the rows that ran out, and only those")

	n, err := s.Sweep(ctx, now.Add(2*time.Hour))
	require.NoError(t, err)
	assert.Equal(t, 2, n)
}

func TestLimitTableNameIsChecked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sessions.db")
	for _, bad := range []string{"Limits", "1limits", "limits; DROP TABLE x", "a.b"} {
		_, err := sqlitestore.OpenLimitStore(context.Background(), path, sqlitestore.LimitConfig{Table: bad})
		assert.Error(t, err, bad)
	}
}

func TestLimitStoreFailureIsAnError(t *testing.T) {
	s, err := sqlitestore.OpenLimitStore(context.Background(), filepath.Join(t.TempDir(), "sessions.db"), sqlitestore.LimitConfig{})
	require.NoError(t, err)
	require.NoError(t, s.Close())
	ctx := context.Background()
	_, err = s.Take(ctx, "k", 5, time.Minute, ratelimittest.Start)
	assert.ErrorContains(t, err, "sqlitestore: limit take")
	assert.ErrorContains(t, s.Reset(ctx, "k"), "sqlitestore: limit reset")
}
