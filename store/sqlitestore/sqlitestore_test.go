package sqlitestore_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/sessionauth/sessionauth"
	"github.com/sessionauth/sessionauth/store/sqlitestore"
)

func newPath(t *testing.T) string {
	t.Helper()
	return filepath.Join(t.TempDir(), "sessions.db")
}

func open(t *testing.T, path string, cfg sqlitestore.Config) *sqlitestore.Store {
	t.Helper()
	s, err := sqlitestore.Open(context.Background(), path, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, s.Close()) })
	return s
}

// rawDB opens the file directly, the way an operator's sqlite3 shell would.
func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	return db
}

func queryInt(t *testing.T, db *sql.DB, query string) int {
	t.Helper()
	var n int
	require.NoError(t, db.QueryRow(query).Scan(&n))
	return n
}

func TestReopenKeepsSessionsAndSchema(t *testing.T) {
	ctx := t.Context()
	path := newPath(t)
	key, data, exp := sessionauth.KeyForToken("token"), []byte("record"), time.Now().Add(time.Hour)

	s, err := sqlitestore.Open(context.Background(), path, sqlitestore.Config{})
	require.NoError(t, err)
	require.NoError(t, s.Put(ctx, key, "alice", data, exp))
	require.NoError(t, s.Close())

	s = open(t, path, sqlitestore.Config{})
	got, gotExp, found, err := s.Get(ctx, key)
	require.NoError(t, err)
	require.True(t, found, "a session survives closing and reopening the store")
	assert.Equal(t, data, got)
	assert.True(t, exp.Equal(gotExp))

	db := rawDB(t, path)
	assert.Equal(t, 1, queryInt(t, db, `SELECT version FROM sessionauth_schema`))
	assert.Equal(t, 1, queryInt(t, db, `SELECT count(*) FROM sessionauth_schema`), "one version row, however often opened")
	var mode string
	require.NoError(t, db.QueryRow(`PRAGMA journal_mode`).Scan(&mode))
	assert.Equal(t, "wal", mode)
	assert.Equal(t, 8192, queryInt(t, db, `PRAGMA page_size`), "a new file gets the page size of flat lookups")
	assert.Zero(t, queryInt(t, db, `PRAGMA user_version`), "user_version is left to the application")
}

func TestOpenAndNewRefuseANewerSchema(t *testing.T) {
	path := newPath(t)
	s, err := sqlitestore.Open(context.Background(), path, sqlitestore.Config{})
	require.NoError(t, err)
	require.NoError(t, s.Close())
	db := rawDB(t, path)
	_, err = db.Exec(`UPDATE sessionauth_schema SET version = 99`)
	require.NoError(t, err)

	_, err = sqlitestore.Open(context.Background(), path, sqlitestore.Config{})
	require.ErrorIs(t, err, sqlitestore.ErrSchemaTooNew)
	assert.Contains(t, err.Error(), "version 99")
	_, err = sqlitestore.New(context.Background(), db, sqlitestore.Config{})
	assert.ErrorIs(t, err, sqlitestore.ErrSchemaTooNew)
	assert.Equal(t, 99, queryInt(t, db, `SELECT version FROM sessionauth_schema`), "the refused file is left as it was")
}

// TestNewSharesTheApplicationsDatabase creates the store's tables next
// to the application's own, which it must leave alone, and leaves the
// caller's *sql.DB open on Close.
func TestNewSharesTheApplicationsDatabase(t *testing.T) {
	ctx := t.Context()
	db, err := sql.Open("sqlite", walDSN(newPath(t)))
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	_, err = db.Exec(`CREATE TABLE sessions (token TEXT PRIMARY KEY, data BLOB, expiry REAL); PRAGMA user_version = 7`)
	require.NoError(t, err)

	s, err := sqlitestore.New(context.Background(), db, sqlitestore.Config{})
	require.NoError(t, err)
	key := sessionauth.KeyForToken("token")
	require.NoError(t, s.Put(ctx, key, "alice", []byte("x"), time.Now().Add(time.Hour)))
	require.NoError(t, s.Close())

	require.NoError(t, db.Ping(), "Close leaves the caller's database open")
	assert.Equal(t, 7, queryInt(t, db, `PRAGMA user_version`))
	assert.Zero(t, queryInt(t, db, `SELECT count(*) FROM sessions`), "the application's table is untouched")
	assert.Equal(t, 1, queryInt(t, db, `SELECT count(*) FROM sessionauth_sessions`))
}

func TestConcurrentOpenersMigrateOnce(t *testing.T) {
	path := newPath(t)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			s, err := sqlitestore.Open(context.Background(), path, sqlitestore.Config{})
			if !assert.NoError(t, err) {
				return
			}
			assert.NoError(t, s.Close())
		})
	}
	wg.Wait()
	db := rawDB(t, path)
	assert.Equal(t, 1, queryInt(t, db, `SELECT version FROM sessionauth_schema`))
	assert.Equal(t, 1, queryInt(t, db, `SELECT count(*) FROM sessionauth_schema`))
}

func TestPathIsTakenLiterally(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a dir?x=1#frag", "sessions 100%.db")
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o700))
	s := open(t, path, sqlitestore.Config{})
	require.NoError(t, s.Commit("k", []byte("v"), time.Now().Add(time.Hour)))
	_, err := os.Stat(path)
	assert.NoError(t, err, "the database is the file at the path given, '?', '#' and '%' included")
}

// TestConcurrentReadersAndWritersNeverFail hammers one store from many
// goroutines: writers queue for the write connection and readers run beside
// them, so no call fails with SQLITE_BUSY.
func TestConcurrentReadersAndWritersNeverFail(t *testing.T) {
	ctx := t.Context()
	s := open(t, newPath(t), sqlitestore.Config{})
	keys := make([]string, 50)
	for i := range keys {
		keys[i] = sessionauth.KeyForToken(strconv.Itoa(i))
		require.NoError(t, s.Put(ctx, keys[i], "alice", []byte("v"), time.Now().Add(time.Hour)))
	}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 50 {
				key := keys[(w*50+i)%len(keys)]
				assert.NoError(t, s.Put(ctx, key, "alice", []byte(strconv.Itoa(i)), time.Now().Add(time.Hour)))
				assert.NoError(t, s.Touch(ctx, key, time.Now().Add(2*time.Hour)))
			}
		})
	}
	for r := range 8 {
		wg.Go(func() {
			for i := range 100 {
				_, _, found, err := s.Get(ctx, keys[(r+i)%len(keys)])
				assert.NoError(t, err)
				assert.True(t, found)
			}
			_, err := s.ListUser(ctx, "alice")
			assert.NoError(t, err)
		})
	}
	wg.Wait()
}

// TestTwoStoresOnOneFile is two processes sharing a file: each has its own
// connections, and their writes wait for each other instead of failing. That
// a revocation through one is seen by the other at once is the conformance
// suite's multi-instance check (the Peer in TestConformance).
func TestTwoStoresOnOneFile(t *testing.T) {
	ctx := t.Context()
	path := newPath(t)
	a, b := open(t, path, sqlitestore.Config{}), open(t, path, sqlitestore.Config{})

	var wg sync.WaitGroup
	for i, s := range []*sqlitestore.Store{a, b} {
		wg.Go(func() {
			for j := range 100 {
				key := sessionauth.KeyForToken(strconv.Itoa(i*1000 + j))
				assert.NoError(t, s.Put(ctx, key, "alice", []byte("v"), time.Now().Add(time.Hour)))
			}
		})
	}
	wg.Wait()
	for _, s := range []*sqlitestore.Store{a, b} {
		list, err := s.ListUser(ctx, "alice")
		require.NoError(t, err)
		assert.Len(t, list, 200, "each store sees the writes of both")
	}
}

func TestSweepDeletesInBatches(t *testing.T) {
	ctx := t.Context()
	now := time.Now()
	path := newPath(t)
	s := open(t, path, sqlitestore.Config{SweepInterval: -1, SweepBatch: 10, Now: func() time.Time { return now }})
	for i := range 45 {
		exp := now.Add(-time.Minute)
		if i%9 == 0 {
			exp = now.Add(time.Minute)
		}
		require.NoError(t, s.Put(ctx, sessionauth.KeyForToken(strconv.Itoa(i)), "alice", []byte("v"), exp))
	}
	n, err := s.Sweep(ctx)
	require.NoError(t, err)
	assert.Equal(t, 40, n, "every expired session, over several batches")
	assert.Equal(t, 5, queryInt(t, rawDB(t, path), `SELECT count(*) FROM sessionauth_sessions`))
}

// TestBackgroundSweep runs in a synctest bubble, so the sweep's ticker fires
// on fake time.
func TestBackgroundSweep(t *testing.T) {
	path := newPath(t)
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		s, err := sqlitestore.Open(context.Background(), path, sqlitestore.Config{SweepInterval: time.Minute})
		require.NoError(t, err)
		defer s.Close()
		require.NoError(t, s.Put(ctx, sessionauth.KeyForToken("expired"), "alice", []byte("v"), time.Now().Add(30*time.Second)))
		require.NoError(t, s.Put(ctx, sessionauth.KeyForToken("live"), "alice", []byte("v"), time.Now().Add(2*time.Minute)))

		time.Sleep(time.Minute)
		synctest.Wait()
		n, err := s.Sweep(ctx)
		require.NoError(t, err)
		assert.Zero(t, n, "the background sweep already deleted the expired session")
		_, _, found, err := s.Get(ctx, sessionauth.KeyForToken("live"))
		require.NoError(t, err)
		assert.True(t, found)
	})
}

func TestCallsAfterCloseFail(t *testing.T) {
	ctx := t.Context()
	s, err := sqlitestore.Open(context.Background(), newPath(t), sqlitestore.Config{})
	require.NoError(t, err)
	require.NoError(t, s.Close())
	assert.NoError(t, s.Close(), "Close is idempotent")

	_, _, _, err = s.Get(ctx, "k")
	assert.Error(t, err, "a closed store fails; it does not report sessions missing")
	assert.Error(t, s.Put(ctx, "k", "alice", []byte("v"), time.Now().Add(time.Hour)))
}

// TestCloseDuringLookups closes a store while lookups share its few read
// connections: every lookup finds the session or fails, none hangs or reports
// it missing, and Close leaves no goroutine behind.
func TestCloseDuringLookups(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	ctx := t.Context()
	s, err := sqlitestore.Open(context.Background(), newPath(t), sqlitestore.Config{MaxReadConns: 1, SweepInterval: -1})
	require.NoError(t, err)
	key := sessionauth.KeyForToken("token")
	require.NoError(t, s.Put(ctx, key, "alice", []byte("v"), time.Now().Add(time.Hour)))

	var wg sync.WaitGroup
	started := make(chan struct{}, 8)
	for range 8 {
		wg.Go(func() {
			for i := 0; ; i++ {
				data, _, found, err := s.Get(ctx, key)
				if i == 0 {
					started <- struct{}{}
				}
				if err != nil {
					return
				}
				if !assert.True(t, found, "a live session is found until Close") {
					return
				}
				assert.Equal(t, []byte("v"), data)
			}
		})
	}
	for range 8 {
		<-started
	}
	require.NoError(t, s.Close())
	wg.Wait()
}

// TestErrorsNeverContainTheKey makes every method fail and checks that no
// error carries the key: it is as good as the token to whoever reads logs.
func TestErrorsNeverContainTheKey(t *testing.T) {
	key := sessionauth.KeyForToken("secret token")
	exp := time.Now().Add(time.Hour)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()

	s, err := sqlitestore.Open(context.Background(), newPath(t), sqlitestore.Config{})
	require.NoError(t, err)
	require.NoError(t, s.Put(t.Context(), key, "alice", []byte("v"), exp))
	calls := map[string]func() error{
		"Get":        func() error { _, _, _, err := s.Get(cancelled, key); return err },
		"Put":        func() error { return s.Put(cancelled, key, "alice", []byte("v"), exp) },
		"Touch":      func() error { return s.Touch(cancelled, key, exp) },
		"DeleteUser": func() error { _, err := s.DeleteUser(cancelled, "alice", key); return err },
		"CommitCtx":  func() error { return s.CommitCtx(cancelled, key, []byte("v"), exp) },
		"DeleteCtx":  func() error { return s.DeleteCtx(cancelled, key) },
		"FindCtx":    func() error { _, _, err := s.FindCtx(cancelled, key); return err },
	}
	check := func(t *testing.T) {
		for name, call := range calls {
			err := call()
			if assert.Error(t, err, name) {
				assert.NotContains(t, err.Error(), key, name)
				assert.NotContains(t, err.Error(), "secret token", name)
			}
		}
	}
	t.Run("cancelled context", check)
	require.NoError(t, s.Close())
	t.Run("closed store", check)
}

func TestOpenAndNewRejectBadConfig(t *testing.T) {
	_, err := sqlitestore.Open(context.Background(), "", sqlitestore.Config{})
	assert.Error(t, err)
	_, err = sqlitestore.Open(context.Background(), newPath(t), sqlitestore.Config{SweepBatch: -1})
	assert.Error(t, err)
	_, err = sqlitestore.New(context.Background(), nil, sqlitestore.Config{})
	assert.Error(t, err)
	_, err = sqlitestore.Open(context.Background(), filepath.Join(t.TempDir(), "missing-dir", "sessions.db"), sqlitestore.Config{})
	assert.Error(t, err, "a directory that does not exist")
	assert.False(t, errors.Is(err, sqlitestore.ErrSchemaTooNew))
}
