package pgstore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionauth/sessionauth/internal/testenv"
	"github.com/sessionauth/sessionauth/ratelimit"
	"github.com/sessionauth/sessionauth/ratelimit/ratelimittest"
	"github.com/sessionauth/sessionauth/store/pgstore"
)

// limitPool returns a new pool on the test database.
func limitPool(t *testing.T) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), testenv.PostgresURL(t))
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	return pool
}

// limitTable returns a table name no other test uses, and drops the table
// when the test ends.
func limitTable(t *testing.T, pool *pgxpool.Pool) string {
	t.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	table := "sessionauth_limit_test_" + hex.EncodeToString(b[:])
	t.Cleanup(func() { _, _ = pool.Exec(context.Background(), "DROP TABLE IF EXISTS "+table) })
	return table
}

func newLimitStore(t *testing.T, pool *pgxpool.Pool, table string) *pgstore.LimitStore {
	t.Helper()
	s, err := pgstore.NewLimitStore(context.Background(), pool, pgstore.LimitConfig{Table: table})
	require.NoError(t, err)
	return s
}

func TestLimitStoreConformance(t *testing.T) {
	pool := limitPool(t)
	ratelimittest.Run(t, func(t *testing.T) ratelimit.Store {
		return newLimitStore(t, pool, limitTable(t, pool))
	})
}

// TestLimitersOnTwoPoolsShareCounts: two app instances, each with its own
// pool and Limiter, on one table.
func TestLimitersOnTwoPoolsShareCounts(t *testing.T) {
	p1, p2 := limitPool(t), limitPool(t)
	table := limitTable(t, p1)
	newLimiter := func(p *pgxpool.Pool) *ratelimit.Limiter {
		l, err := ratelimit.New(ratelimit.Config{Store: newLimitStore(t, p, table)})
		require.NoError(t, err)
		return l
	}
	a, b := newLimiter(p1), newLimiter(p2)
	ctx := context.Background()
	now := ratelimittest.Start
	for i := range 5 {
		retry, err := []*ratelimit.Limiter{a, b}[i%2].Attempt(ctx, "alice@example.com", fmt.Sprintf("192.0.2.%d", i), now)
		require.NoError(t, err)
		require.Zero(t, retry, "attempt %d", i+1)
	}
	for _, l := range []*ratelimit.Limiter{a, b} {
		retry, err := l.Attempt(ctx, "alice@example.com", "203.0.113.9", now)
		require.NoError(t, err)
		assert.Positive(t, retry)
	}
}

func TestLimitSweepDeletesOnlyRowsThatRanOut(t *testing.T) {
	pool := limitPool(t)
	table := limitTable(t, pool)
	s, err := pgstore.NewLimitStore(context.Background(), pool, pgstore.LimitConfig{Table: table, SweepEvery: -1})
	require.NoError(t, err)
	ctx := context.Background()
	now := ratelimittest.Start
	for i := range 10 {
		_, err := s.Take(ctx, fmt.Sprint("short", i), 5, time.Minute, now) // runs out after 12 s
		require.NoError(t, err)
	}
	for range 5 {
		_, err := s.Take(ctx, "long", 5, time.Hour, now) // runs out after an hour
		require.NoError(t, err)
	}
	n, err := s.Sweep(ctx, now.Add(time.Minute))
	require.NoError(t, err)
	assert.Equal(t, 10, n)
	var rows int
	require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM "+table).Scan(&rows))
	assert.Equal(t, 1, rows)
	retry, err := s.Take(ctx, "long", 5, time.Hour, now.Add(time.Minute))
	require.NoError(t, err)
	assert.Positive(t, retry, "the live row kept its count")
}

func TestLimitStoreSweepsEveryNTakes(t *testing.T) {
	pool := limitPool(t)
	table := limitTable(t, pool)
	s, err := pgstore.NewLimitStore(context.Background(), pool, pgstore.LimitConfig{Table: table, SweepEvery: 10})
	require.NoError(t, err)
	ctx := context.Background()
	now := ratelimittest.Start
	for i := range 9 {
		_, err := s.Take(ctx, fmt.Sprint(i), 5, time.Minute, now)
		require.NoError(t, err)
	}
	_, err = s.Take(ctx, "tenth", 5, time.Minute, now.Add(time.Hour))
	require.NoError(t, err)
	var rows int
	require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM "+table).Scan(&rows))
	assert.Equal(t, 1, rows, "the tenth Take swept the nine that ran out")
}

func TestLimitTableIsCheckedAndCreated(t *testing.T) {
	pool := limitPool(t)
	ctx := context.Background()
	for _, bad := range []string{"Limits", "1limits", "limits; DROP TABLE x", "a.b", ""} {
		if bad == "" {
			continue // the default
		}
		_, err := pgstore.NewLimitStore(ctx, pool, pgstore.LimitConfig{Table: bad})
		assert.Error(t, err, bad)
	}
	table := limitTable(t, pool)
	newLimitStore(t, pool, table)
	newLimitStore(t, pool, table) // a second instance finds it
	var exists bool
	require.NoError(t, pool.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", table).Scan(&exists))
	assert.True(t, exists)
}

func TestLimitStoreFailureIsAnError(t *testing.T) {
	pool := limitPool(t)
	s := newLimitStore(t, pool, limitTable(t, pool))
	// A closed pool answers as an unreachable database does: with an error.
	pool.Close()
	ctx := context.Background()
	_, err := s.Take(ctx, "k", 5, time.Minute, ratelimittest.Start)
	assert.ErrorContains(t, err, "pgstore: limit take")
	assert.ErrorContains(t, s.Reset(ctx, "k"), "pgstore: limit reset")

	_, err = pgstore.NewLimitStore(ctx, pool, pgstore.LimitConfig{})
	assert.ErrorContains(t, err, "pgstore: creating the limit table")
}
