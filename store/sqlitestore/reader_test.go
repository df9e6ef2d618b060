package sqlitestore

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLookupsEndAtTheirDeadlineWaitingForAReader takes every reserved reader,
// as lookups in flight would: a lookup waits for one only as long as its
// context allows.
func TestLookupsEndAtTheirDeadlineWaitingForAReader(t *testing.T) {
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "sessions.db"), Config{MaxReadConns: 1, SweepInterval: -1})
	require.NoError(t, err)
	defer s.Close()
	r := <-s.readers
	for name, lookup := range map[string]func(ctx context.Context) error{
		"Get": func(ctx context.Context) error { _, _, _, err := s.Get(ctx, "k"); return err },
		"LoadSession": func(ctx context.Context) error {
			_, err := s.LoadSession(ctx, sha256.Sum256([]byte("token")), time.Now())
			return err
		},
		"FindCtx": func(ctx context.Context) error { _, _, err := s.FindCtx(ctx, "k"); return err },
	} {
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
		err := lookup(ctx)
		cancel()
		assert.ErrorIs(t, err, context.DeadlineExceeded, name)
	}
	s.readers <- r
	_, _, _, err = s.Get(t.Context(), "k")
	assert.NoError(t, err, "the reader back, lookups run again")
}

// TestTheWriteConnectionIsDurableAndLeavesWaitingToTheStore checks the
// connection each constructor writes on: synchronous=FULL, so that a write
// is on disk when it returns, and no busy_timeout, whose wait would ignore
// the context.
func TestTheWriteConnectionIsDurableAndLeavesWaitingToTheStore(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sessions.db")
	s, err := Open(context.Background(), path, Config{SweepInterval: -1})
	require.NoError(t, err)
	defer s.Close()
	db, err := sql.Open("sqlite", "file:"+path+"?_busy_timeout=5000&_synchronous=OFF")
	require.NoError(t, err)
	defer db.Close()
	fromDB, err := New(context.Background(), db, Config{SweepInterval: -1})
	require.NoError(t, err)
	defer fromDB.Close()

	for name, s := range map[string]*Store{"Open": s, "New": fromDB} {
		var busy, sync int
		require.NoError(t, s.conn.QueryRowContext(t.Context(), "PRAGMA busy_timeout").Scan(&busy))
		require.NoError(t, s.conn.QueryRowContext(t.Context(), "PRAGMA synchronous").Scan(&sync))
		assert.Zero(t, busy, name)
		assert.Equal(t, 2, sync, "%s: FULL", name)
	}
}
