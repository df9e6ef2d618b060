package pgstore_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/sessionauth/sessionauth/internal/testenv"
	"github.com/sessionauth/sessionauth/store/pgstore"
)

// The conformance suite checks what Touch and DeleteUser return; these
// check the rows they leave in the table.

func TestTouchOfAMissingKeyWritesNoRow(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	missing := randomKey()
	require.NoError(t, f.store.Touch(ctx, missing, f.clock.Now().Add(time.Hour)))
	var n int
	require.NoError(t, f.pool.QueryRow(ctx, "SELECT count(*) FROM "+f.table+" WHERE key = $1", missing).Scan(&n))
	assert.Zero(t, n, "a touch does not create a session")
}

func TestDeleteUserDeletesTheUsersExpiredRowsToo(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	t0 := f.clock.Now()
	kept := randomKey()
	require.NoError(t, f.store.Put(ctx, kept, "alice", []byte("x"), t0.Add(time.Hour)))
	require.NoError(t, f.store.Put(ctx, randomKey(), "alice", []byte("x"), t0.Add(time.Hour)))
	require.NoError(t, f.store.Put(ctx, randomKey(), "alice", []byte("x"), t0.Add(time.Minute)))
	f.clock.Advance(time.Minute)

	n, err := f.store.DeleteUser(ctx, "alice", kept)
	require.NoError(t, err)
	assert.Equal(t, 1, n, "the expired session is not counted")
	var rows int
	require.NoError(t, f.pool.QueryRow(ctx, "SELECT count(*) FROM "+f.table+" WHERE user_id = 'alice'").Scan(&rows))
	assert.Equal(t, 1, rows, "the expired session of alice went too")
}

func TestSweepDeletesOnlyExpiredSessions(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	live := randomKey()
	require.NoError(t, f.store.Put(ctx, live, "alice", []byte("x"), f.clock.Now().Add(time.Hour)))
	const expired = 2500 // more than one sweep batch
	_, err := f.pool.Exec(ctx, `INSERT INTO `+f.table+` (key, user_id, data, expiry)
SELECT md5(g::text), 'bob', '\x00', $1 FROM generate_series(1, $2) g`, f.clock.Now().Add(time.Minute).UnixNano(), expired)
	require.NoError(t, err)
	f.clock.Advance(time.Minute)

	n, err := f.store.Sweep(ctx)
	require.NoError(t, err)
	assert.Equal(t, expired, n)
	var rows int
	require.NoError(t, f.pool.QueryRow(ctx, "SELECT count(*) FROM "+f.table).Scan(&rows))
	assert.Equal(t, 1, rows)
	_, _, found, err := f.store.Get(ctx, live)
	require.NoError(t, err)
	assert.True(t, found)
}

// Not parallel: goleak compares against the goroutines running before it.
func TestCloseStopsTheSweep(t *testing.T) {
	pool := newPool(t, "", 0)
	table := uniqueTable(t, pool)
	ignore := goleak.IgnoreCurrent()
	s, err := pgstore.New(context.Background(), pool, pgstore.Config{Table: table, SweepInterval: time.Millisecond})
	require.NoError(t, err)
	require.NoError(t, s.Close())
	require.NoError(t, s.Close(), "Close is idempotent")
	goleak.VerifyNone(t, ignore)
}

func TestSweepRunsInTheBackground(t *testing.T) {
	t.Parallel()
	pool := newPool(t, "", 0)
	table := uniqueTable(t, pool)
	c := newClock()
	s, err := pgstore.New(context.Background(), pool, pgstore.Config{Table: table, Now: c.Now, SweepInterval: time.Millisecond})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	ctx := context.Background()
	require.NoError(t, s.Put(ctx, randomKey(), "alice", []byte("x"), c.Now().Add(time.Second)))
	c.Advance(time.Second)

	// The sweep's ticker is real time; poll the table until it has run.
	assert.Eventually(t, func() bool {
		var n int
		return pool.QueryRow(ctx, "SELECT count(*) FROM "+table).Scan(&n) == nil && n == 0
	}, 10*time.Second, 5*time.Millisecond)
}

func TestSchemaIsCreatedVersionedAndIndexed(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()

	var version int
	require.NoError(t, f.pool.QueryRow(ctx, "SELECT version FROM sessionauth_schema WHERE table_name = $1", f.table).Scan(&version))
	assert.Equal(t, pgstore.SchemaVersion, version)

	rows, err := f.pool.Query(ctx, "SELECT indexdef FROM pg_indexes WHERE tablename = $1", f.table)
	require.NoError(t, err)
	var defs []string
	for rows.Next() {
		var d string
		require.NoError(t, rows.Scan(&d))
		defs = append(defs, d)
	}
	require.NoError(t, rows.Err())
	joined := ""
	for _, d := range defs {
		joined += d + "\n"
	}
	assert.Contains(t, joined, "(key)", "primary key")
	assert.Contains(t, joined, "(user_id, expiry)", "index for a user's sessions")
	assert.Contains(t, joined, "(expiry)", "index for the sweep")

	again, err := pgstore.New(ctx, f.pool, pgstore.Config{Table: f.table, SweepInterval: -1})
	require.NoError(t, err, "New on an existing table is a no-op")
	require.NoError(t, again.Close())
}

func TestConcurrentNewOnOneTableSucceeds(t *testing.T) {
	t.Parallel()
	pool := newPool(t, "", 0)
	table := uniqueTable(t, pool)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() {
			s, err := pgstore.New(context.Background(), pool, pgstore.Config{Table: table, SweepInterval: -1})
			if err == nil {
				err = s.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for _, err := range errs {
		assert.NoError(t, err)
	}
}

func TestNewRefusesANewerSchema(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	_, err := f.pool.Exec(ctx, "UPDATE sessionauth_schema SET version = $1 WHERE table_name = $2", pgstore.SchemaVersion+1, f.table)
	require.NoError(t, err)
	_, err = pgstore.New(ctx, f.pool, pgstore.Config{Table: f.table, SweepInterval: -1})
	assert.ErrorIs(t, err, pgstore.ErrSchemaTooNew)
}

func TestManualSchema(t *testing.T) {
	t.Parallel()
	pool := newPool(t, "", 0)
	table := uniqueTable(t, pool)
	ctx := context.Background()
	cfg := pgstore.Config{Table: table, ManualSchema: true, SweepInterval: -1}

	_, err := pgstore.New(ctx, pool, cfg)
	assert.Error(t, err, "the table does not exist yet")

	sql, err := pgstore.Schema(table)
	require.NoError(t, err)
	_, err = pool.Exec(ctx, sql)
	require.NoError(t, err)
	s, err := pgstore.New(ctx, pool, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	key := randomKey()
	require.NoError(t, s.Put(ctx, key, "alice", []byte("x"), time.Now().Add(time.Hour)))
	_, _, found, err := s.Get(ctx, key)
	require.NoError(t, err)
	assert.True(t, found)
	var n int
	require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM sessionauth_schema WHERE table_name = $1", table).Scan(&n))
	assert.Zero(t, n, "a manual schema is left alone")
}

func TestInvalidTableNamesAreRefused(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"Sessions", "1sessions", "sessions; DROP TABLE x", `"quoted"`, "public.sessions", "a_name_that_is_far_too_long_for_an_index_suffix_xyz"} {
		_, err := pgstore.Schema(name)
		assert.Error(t, err, name)
	}
	pool, err := pgxpool.New(context.Background(), "postgres://127.0.0.1:1/none") // never dialled
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	_, err = pgstore.New(context.Background(), pool, pgstore.Config{Table: "Bad"})
	assert.Error(t, err)
	_, err = pgstore.New(context.Background(), nil, pgstore.Config{})
	assert.Error(t, err)
}

func TestQueriesArePreparedStatements(t *testing.T) {
	t.Parallel()
	pool := newPool(t, "", 1) // one connection: the one whose statements we inspect
	table := uniqueTable(t, pool)
	ctx := context.Background()
	s, err := pgstore.New(ctx, pool, pgstore.Config{Table: table, SweepInterval: -1})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })

	_, _, _, err = s.Get(ctx, randomKey())
	require.NoError(t, err)
	var n int
	require.NoError(t, pool.QueryRow(ctx,
		"SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE 'SELECT data, expiry FROM ' || $1 || ' WHERE%'", table).Scan(&n))
	assert.Equal(t, 1, n, "Get runs a prepared statement")
}

func TestOpenOwnsItsPool(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	probe := newPool(t, "", 0)
	table := uniqueTable(t, probe)
	s, err := pgstore.Open(ctx, testenv.PostgresURL(t), pgstore.Config{Table: table})
	require.NoError(t, err)
	_, _, _, err = s.Get(ctx, randomKey())
	require.NoError(t, err)
	require.NoError(t, s.Close())
	_, _, _, err = s.Get(ctx, randomKey())
	assert.Error(t, err, "Close closed the pool Open made")

	_, err = pgstore.Open(ctx, "postgres://u:secret-password@127.0.0.1:1/db?connect_timeout=x", pgstore.Config{})
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "secret-password")
	_, err = pgstore.Open(ctx, "postgres://u:secret-password@127.0.0.1:1/db", pgstore.Config{})
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "secret-password")
}
