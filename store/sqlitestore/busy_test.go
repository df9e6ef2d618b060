package sqlitestore_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"modernc.org/sqlite"

	"github.com/sessionauth/sessionauth"
	"github.com/sessionauth/sessionauth/store/sqlitestore"
)

// holdWriteLock takes the write lock of the file at path from a connection
// of its own, as another process would, and returns the function that
// releases it (also called at cleanup).
func holdWriteLock(t *testing.T, path string) (release func()) {
	t.Helper()
	db, err := sql.Open("sqlite", walDSN(path))
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	conn, err := db.Conn(t.Context())
	require.NoError(t, err)
	_, err = conn.ExecContext(t.Context(), "BEGIN IMMEDIATE")
	require.NoError(t, err)
	released := false
	release = func() {
		if !released {
			released = true
			_, err := conn.ExecContext(context.Background(), "ROLLBACK")
			assert.NoError(t, err)
			assert.NoError(t, conn.Close())
		}
	}
	t.Cleanup(release)
	return release
}

// writes are the calls of a Store that take the write lock.
func writes(s *sqlitestore.Store, key string) map[string]func(ctx context.Context) error {
	exp := time.Now().Add(time.Hour)
	return map[string]func(ctx context.Context) error{
		"Put":        func(ctx context.Context) error { return s.Put(ctx, key, "alice", []byte("v"), exp) },
		"Update":     func(ctx context.Context) error { _, err := s.Update(ctx, key, []byte("v"), exp); return err },
		"Touch":      func(ctx context.Context) error { return s.Touch(ctx, key, exp) },
		"Rename":     func(ctx context.Context) error { _, err := s.Rename(ctx, key, key+"2"); return err },
		"DeleteUser": func(ctx context.Context) error { _, err := s.DeleteUser(ctx, "alice", ""); return err },
		"CommitCtx":  func(ctx context.Context) error { return s.CommitCtx(ctx, key, []byte("v"), exp) },
		"DeleteCtx":  func(ctx context.Context) error { return s.DeleteCtx(ctx, key) },
		"Sweep":      func(ctx context.Context) error { _, err := s.Sweep(ctx); return err },
	}
}

// TestWritesEndAtTheirDeadlineWhileAnotherProcessHoldsTheWriteLock: SQLite's
// own wait for a lock ignores the context, so a write would wait out the
// whole BusyTimeout (a minute here); the Store's wait ends at the deadline.
// Reads go on meanwhile.
func TestWritesEndAtTheirDeadlineWhileAnotherProcessHoldsTheWriteLock(t *testing.T) {
	const deadline = 100 * time.Millisecond
	forEachConstructor(t, sqlitestore.Config{BusyTimeout: time.Minute, SweepInterval: -1}, func(t *testing.T, s *sqlitestore.Store, path string) {
		key := sessionauth.KeyForToken("token")
		require.NoError(t, s.Put(t.Context(), key, "alice", []byte("v"), time.Now().Add(time.Hour)))
		holdWriteLock(t, path)

		for name, write := range writes(s, key) {
			ctx, cancel := context.WithTimeout(t.Context(), deadline)
			start := time.Now()
			err := write(ctx)
			elapsed := time.Since(start)
			cancel()
			assert.ErrorIs(t, err, context.DeadlineExceeded, name)
			assert.Less(t, elapsed, deadline+2*time.Second, "%s returns at its deadline, not after BusyTimeout", name)
		}

		_, _, found, err := s.Get(t.Context(), key)
		require.NoError(t, err)
		assert.True(t, found, "a read does not wait for the writer")
		list, err := s.ListUser(t.Context(), "alice")
		require.NoError(t, err)
		assert.Len(t, list, 1)
	})
}

// TestACancelledWaitForTheWriteLockEndsAtOnce cancels the context of a write
// at the moment it meets the held lock.
func TestACancelledWaitForTheWriteLockEndsAtOnce(t *testing.T) {
	forEachConstructor(t, sqlitestore.Config{BusyTimeout: time.Minute, SweepInterval: -1}, func(t *testing.T, s *sqlitestore.Store, path string) {
		cancels := make(chan context.CancelFunc, 1)
		sqlitestore.SetOnBusy(s, func() {
			select {
			case cancel := <-cancels:
				cancel()
			default:
			}
		})
		holdWriteLock(t, path)
		for name, write := range writes(s, sessionauth.KeyForToken("token")) {
			ctx, cancel := context.WithCancel(t.Context())
			cancels <- cancel
			err := write(ctx)
			cancel()
			assert.ErrorIs(t, err, context.Canceled, name)
			assert.True(t, isBusy(err), "%s: the error tells what it waited for: %v", name, err)
		}
	})
}

// TestAWriteWaitsOutAHeldWriteLock releases the lock once a write has met it:
// the write then succeeds instead of failing with SQLITE_BUSY.
func TestAWriteWaitsOutAHeldWriteLock(t *testing.T) {
	forEachConstructor(t, sqlitestore.Config{BusyTimeout: time.Minute, SweepInterval: -1}, func(t *testing.T, s *sqlitestore.Store, path string) {
		met := make(chan struct{}, 1)
		sqlitestore.SetOnBusy(s, func() {
			select {
			case met <- struct{}{}:
			default:
			}
		})
		release := holdWriteLock(t, path)
		key := sessionauth.KeyForToken("token")
		done := make(chan error, 1)
		go func() { done <- s.Put(t.Context(), key, "alice", []byte("v"), time.Now().Add(time.Hour)) }()
		<-met
		release()
		require.NoError(t, <-done)
		_, _, found, err := s.Get(t.Context(), key)
		require.NoError(t, err)
		assert.True(t, found)
	})
}

func TestBusyTimeoutBoundsTheWaitForTheWriteLock(t *testing.T) {
	forEachConstructor(t, sqlitestore.Config{BusyTimeout: 20 * time.Millisecond, SweepInterval: -1}, func(t *testing.T, s *sqlitestore.Store, path string) {
		holdWriteLock(t, path)
		err := s.Put(context.Background(), sessionauth.KeyForToken("token"), "alice", []byte("v"), time.Now().Add(time.Hour))
		assert.True(t, isBusy(err), "without a deadline, the write fails with SQLITE_BUSY after BusyTimeout: %v", err)
	})
}

func isBusy(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == 5
}

// TestACancelledContextFailsEveryCall: each call with a done context fails
// with an error wrapping the context's.
func TestACancelledContextFailsEveryCall(t *testing.T) {
	forEachConstructor(t, sqlitestore.Config{SweepInterval: -1}, func(t *testing.T, s *sqlitestore.Store, _ string) {
		key := sessionauth.KeyForToken("token")
		require.NoError(t, s.Put(t.Context(), key, "alice", []byte("v"), time.Now().Add(time.Hour)))
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		calls := writes(s, key)
		calls["Get"] = func(ctx context.Context) error { _, _, _, err := s.Get(ctx, key); return err }
		calls["LoadSession"] = func(ctx context.Context) error {
			_, err := s.LoadSession(ctx, sha256.Sum256([]byte("token")), time.Now())
			return err
		}
		calls["FindCtx"] = func(ctx context.Context) error { _, _, err := s.FindCtx(ctx, key); return err }
		calls["ListUser"] = func(ctx context.Context) error { _, err := s.ListUser(ctx, "alice"); return err }
		calls["AllCtx"] = func(ctx context.Context) error { _, err := s.AllCtx(ctx); return err }
		for name, call := range calls {
			assert.ErrorIs(t, call(ctx), context.Canceled, name)
		}
	})
}
