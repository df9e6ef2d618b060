package pgstore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/sessionauth/sessionauth/internal/testenv"
	"github.com/sessionauth/sessionauth/sessionauthtest"
	"github.com/sessionauth/sessionauth/store/pgstore"
)

// newPool returns a pool on the test database, through the TCP proxy at addr
// when addr is not "", with at most maxConns connections (0: pgx's default).
func newPool(tb testing.TB, addr string, maxConns int32) *pgxpool.Pool {
	tb.Helper()
	cfg, err := pgxpool.ParseConfig(testenv.PostgresURL(tb))
	require.NoError(tb, err)
	if addr != "" {
		host, port, err := net.SplitHostPort(addr)
		require.NoError(tb, err)
		cfg.ConnConfig.Host = host
		n, err := strconv.ParseUint(port, 10, 16)
		require.NoError(tb, err)
		cfg.ConnConfig.Port = uint16(n)
		cfg.ConnConfig.Fallbacks = nil
	}
	if maxConns > 0 {
		cfg.MaxConns = maxConns
	}
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	require.NoError(tb, err)
	tb.Cleanup(pool.Close)
	return pool
}

// uniqueTable returns a table name no other test uses, and drops the table
// when the test ends, so that tests run in parallel on one database.
func uniqueTable(tb testing.TB, pool *pgxpool.Pool) string {
	tb.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	table := "sessionauth_test_" + hex.EncodeToString(b[:])
	tb.Cleanup(func() {
		ctx := context.Background()
		_, _ = pool.Exec(ctx, "DROP TABLE IF EXISTS "+table)
		_, _ = pool.Exec(ctx, "DELETE FROM sessionauth_schema WHERE table_name = $1", table)
	})
	return table
}

// fixture is a Store on its own table with its own clock.
type fixture struct {
	store *pgstore.Store
	pool  *pgxpool.Pool
	clock *sessionauthtest.Clock
	table string
}

func newFixture(tb testing.TB) *fixture {
	tb.Helper()
	pool := newPool(tb, "", 0)
	f := &fixture{pool: pool, clock: newClock(), table: uniqueTable(tb, pool)}
	s, err := pgstore.New(context.Background(), pool, pgstore.Config{Table: f.table, Now: f.clock.Now, SweepInterval: -1})
	require.NoError(tb, err)
	tb.Cleanup(func() { _ = s.Close() })
	f.store = s
	return f
}

// newClock returns a clock started far from the real time: the store must
// take expiry from its clock, not from the database's.
func newClock() *sessionauthtest.Clock {
	return sessionauthtest.NewClock(time.Date(2031, 3, 4, 5, 6, 7, 890123456, time.UTC))
}

// randomKey returns a store key of the shape the Manager uses.
func randomKey() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
