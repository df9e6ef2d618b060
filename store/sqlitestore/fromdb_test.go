package sqlitestore_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionauth/sessionauth"
	"github.com/sessionauth/sessionauth/store/sqlitestore"
)

func TestNewRefusesADatabaseNotInWALMode(t *testing.T) {
	db := rawDB(t, newPath(t)) // the rollback journal, SQLite's default
	_, err := sqlitestore.New(context.Background(), db, sqlitestore.Config{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "WAL")
	assert.Zero(t, queryInt(t, db, `SELECT count(*) FROM sqlite_schema WHERE name LIKE 'sessionauth%'`),
		"nothing is created in a refused database")
	assert.Equal(t, 0, db.Stats().InUse, "the connection taken is given back")
}

func TestNewRefusesAPoolOfOneConnection(t *testing.T) {
	db, err := sql.Open("sqlite", walDSN(newPath(t)))
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	db.SetMaxOpenConns(1)
	_, err = sqlitestore.New(context.Background(), db, sqlitestore.Config{})
	assert.Error(t, err, "the Store would hold the only connection, and its reads would wait forever")
}

// TestNewTakesOneConnectionAndGivesItBackAsItWas: the Store changes
// busy_timeout and synchronous on the connection it writes on, and on no
// other; Close resets them.
func TestNewTakesOneConnectionAndGivesItBackAsItWas(t *testing.T) {
	ctx := t.Context()
	db, err := sql.Open("sqlite", walDSN(newPath(t))+"&_synchronous=NORMAL")
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	db.SetMaxOpenConns(2)
	pragmas := func(conn *sql.Conn) (busy, sync int) {
		require.NoError(t, conn.QueryRowContext(ctx, "PRAGMA busy_timeout").Scan(&busy))
		require.NoError(t, conn.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&sync))
		return busy, sync
	}

	s, err := sqlitestore.New(context.Background(), db, sqlitestore.Config{SweepInterval: -1})
	require.NoError(t, err)
	require.NoError(t, s.Put(ctx, sessionauth.KeyForToken("t"), "alice", []byte("v"), time.Now().Add(time.Hour)))
	other, err := db.Conn(ctx) // the one the Store does not hold
	require.NoError(t, err)
	busy, sync := pragmas(other)
	assert.Equal(t, 5000, busy, "the caller's other connections keep their busy_timeout")
	assert.Equal(t, 1, sync, "and their synchronous (NORMAL)")
	require.NoError(t, other.Close())

	require.NoError(t, s.Close())
	assert.Equal(t, 0, db.Stats().InUse, "Close gives the connection back")
	a, err := db.Conn(ctx)
	require.NoError(t, err)
	defer a.Close()
	b, err := db.Conn(ctx)
	require.NoError(t, err)
	defer b.Close()
	for _, conn := range []*sql.Conn{a, b} {
		busy, sync := pragmas(conn)
		assert.Equal(t, 5000, busy, "busy_timeout as the DSN set it")
		assert.Equal(t, 1, sync, "synchronous as the DSN set it")
	}
}
