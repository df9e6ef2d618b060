package pgstore_test

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/sessionauth/sessionauth/store/pgstore"
)

func TestGetReturnsWhatPutWroteToTheNanosecond(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	key := randomKey()
	exp := f.clock.Now().Add(30*time.Minute + 123*time.Nanosecond)

	require.NoError(t, f.store.Put(ctx, key, "alice", []byte("record"), exp))

	data, got, found, err := f.store.Get(ctx, key)
	require.NoError(t, err)
	require.True(t, found)
	assert.Equal(t, []byte("record"), data)
	assert.True(t, got.Equal(exp), "expiry %v, want %v", got, exp)

	_, _, found, err = f.store.Get(ctx, randomKey())
	require.NoError(t, err)
	assert.False(t, found, "a key never written is not found")
}

func TestSessionIsLiveStrictlyBeforeItsExpiry(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	key := randomKey()
	require.NoError(t, f.store.Put(ctx, key, "alice", []byte("x"), f.clock.Now().Add(time.Minute)))

	f.clock.Advance(time.Minute - time.Nanosecond)
	_, _, found, err := f.store.Get(ctx, key)
	require.NoError(t, err)
	assert.True(t, found, "one nanosecond before the expiry")

	f.clock.Advance(time.Nanosecond)
	_, _, found, err = f.store.Get(ctx, key)
	require.NoError(t, err)
	assert.False(t, found, "at the expiry")
	_, found, err = f.store.FindCtx(ctx, key)
	require.NoError(t, err)
	assert.False(t, found, "scs Find agrees")
}

func TestPutNeverShortensALiveSession(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		age       time.Duration // clock advance between the two Puts
		second    time.Duration // second expiry, from the first Put's clock
		wantAfter time.Duration // expected expiry, from the first Put's clock
	}{
		{"later expiry wins", 0, 2 * time.Hour, 2 * time.Hour},
		{"earlier expiry keeps the stored one", 0, 30 * time.Minute, time.Hour},
		{"expired record takes the new expiry", 90 * time.Minute, 100 * time.Minute, 100 * time.Minute},
	}
	f := newFixture(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			key := randomKey()
			t0 := f.clock.Now()
			require.NoError(t, f.store.Put(ctx, key, "alice", []byte("v1"), t0.Add(time.Hour)))
			f.clock.Advance(tt.age)
			require.NoError(t, f.store.Put(ctx, key, "alice", []byte("v2"), t0.Add(tt.second)))

			data, exp, found, err := f.store.Get(ctx, key)
			require.NoError(t, err)
			require.True(t, found)
			assert.Equal(t, []byte("v2"), data, "the data is always replaced")
			assert.True(t, exp.Equal(t0.Add(tt.wantAfter)), "expiry %v, want %v", exp, t0.Add(tt.wantAfter))
		})
	}
}

func TestTouchOnlyMovesALiveExpiryForward(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	key, missing, expired := randomKey(), randomKey(), randomKey()
	t0 := f.clock.Now()
	require.NoError(t, f.store.Put(ctx, key, "alice", []byte("data"), t0.Add(time.Hour)))
	require.NoError(t, f.store.Put(ctx, expired, "alice", []byte("x"), t0.Add(time.Minute)))
	f.clock.Advance(time.Minute)

	require.NoError(t, f.store.Touch(ctx, key, t0.Add(2*time.Hour)))
	require.NoError(t, f.store.Touch(ctx, key, t0.Add(90*time.Minute)))
	require.NoError(t, f.store.Touch(ctx, missing, t0.Add(time.Hour)))
	require.NoError(t, f.store.Touch(ctx, expired, t0.Add(time.Hour)))

	data, exp, found, err := f.store.Get(ctx, key)
	require.NoError(t, err)
	require.True(t, found)
	assert.Equal(t, []byte("data"), data, "a touch never changes the data")
	assert.True(t, exp.Equal(t0.Add(2*time.Hour)), "expiry %v, want the later touch", exp)

	var n int
	require.NoError(t, f.pool.QueryRow(ctx, "SELECT count(*) FROM "+f.table+" WHERE key = $1", missing).Scan(&n))
	assert.Zero(t, n, "a touch does not create a session")
	_, _, found, err = f.store.Get(ctx, expired)
	require.NoError(t, err)
	assert.False(t, found, "a touch does not revive an expired session")
}

func TestListUserAndDeleteUser(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	t0 := f.clock.Now()
	a1, a2, a3, old, b1 := randomKey(), randomKey(), randomKey(), randomKey(), randomKey()
	for _, w := range []struct {
		key, user string
		ttl       time.Duration
	}{{a1, "alice", time.Hour}, {a2, "alice", time.Hour}, {a3, "alice", time.Hour}, {old, "alice", time.Minute}, {b1, "bob", time.Hour}} {
		require.NoError(t, f.store.Put(ctx, w.key, w.user, []byte(w.key[:8]), t0.Add(w.ttl)))
	}
	f.clock.Advance(time.Minute)

	recs, err := f.store.ListUser(ctx, "alice")
	require.NoError(t, err)
	got := map[string]string{}
	for _, r := range recs {
		got[r.Key] = string(r.Data)
		assert.True(t, r.Expiry.Equal(t0.Add(time.Hour)))
	}
	assert.Equal(t, map[string]string{a1: a1[:8], a2: a2[:8], a3: a3[:8]}, got, "live sessions of alice only")

	n, err := f.store.DeleteUser(ctx, "alice", a2)
	require.NoError(t, err)
	assert.Equal(t, 2, n, "two live sessions deleted, the kept one and the expired one not counted")
	for key, want := range map[string]bool{a1: false, a2: true, a3: false, b1: true} {
		_, _, found, err := f.store.Get(ctx, key)
		require.NoError(t, err)
		assert.Equal(t, want, found)
	}
	var rows int
	require.NoError(t, f.pool.QueryRow(ctx, "SELECT count(*) FROM "+f.table+" WHERE user_id = 'alice'").Scan(&rows))
	assert.Equal(t, 1, rows, "the expired session of alice went too")
}

func TestCommitSetsTheExpiryExactlyAndOwnsNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	key := randomKey()
	t0 := f.clock.Now()
	require.NoError(t, f.store.Put(ctx, key, "alice", []byte("a"), t0.Add(time.Hour)))
	require.NoError(t, f.store.Commit(key, []byte("b"), t0.Add(time.Minute)))

	data, found, err := f.store.Find(key)
	require.NoError(t, err)
	require.True(t, found)
	assert.Equal(t, []byte("b"), data)
	_, exp, _, err := f.store.Get(ctx, key)
	require.NoError(t, err)
	assert.True(t, exp.Equal(t0.Add(time.Minute)), "scs may shorten a session: Commit is exact")
	recs, err := f.store.ListUser(ctx, "alice")
	require.NoError(t, err)
	assert.Empty(t, recs, "a session rewritten through scs belongs to no user")

	require.NoError(t, f.store.Delete(key))
	_, found, err = f.store.Find(key)
	require.NoError(t, err)
	assert.False(t, found)
	require.NoError(t, f.store.DeleteCtx(ctx, key), "deleting a missing key is not an error")
}

func TestAllReturnsLiveSessions(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	want := map[string][]byte{}
	for i := range 20 {
		key := randomKey()
		data := []byte{byte(i), 'x'}
		require.NoError(t, f.store.CommitCtx(ctx, key, data, f.clock.Now().Add(time.Hour)))
		want[key] = data
	}
	require.NoError(t, f.store.Put(ctx, randomKey(), "alice", []byte("short"), f.clock.Now().Add(time.Second)))
	f.clock.Advance(time.Second)

	all, err := f.store.All()
	require.NoError(t, err)
	assert.Equal(t, want, all)
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
	assert.ErrorContains(t, err, "newer")
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

func TestErrorsNeverContainTheKey(t *testing.T) {
	t.Parallel()
	direct := newPool(t, "", 0)
	p := newProxy(t, direct.Config().ConnConfig.Host+":"+strconv.Itoa(int(direct.Config().ConnConfig.Port)))
	s, err := pgstore.New(context.Background(), newPool(t, p.Addr(), 0), pgstore.Config{Table: uniqueTable(t, direct), SweepInterval: -1})
	require.NoError(t, err)
	p.Cut()
	ctx := context.Background()
	key := randomKey()
	exp := time.Now().Add(time.Hour)

	errs := map[string]error{}
	_, _, _, errs["Get"] = s.Get(ctx, key)
	errs["Put"] = s.Put(ctx, key, "alice", []byte("x"), exp)
	errs["Touch"] = s.Touch(ctx, key, exp)
	errs["Delete"] = s.Delete(key)
	errs["Commit"] = s.Commit(key, []byte("x"), exp)
	_, errs["DeleteUser"] = s.DeleteUser(ctx, "alice", key)
	for op, err := range errs {
		require.Error(t, err, op)
		assert.NotContains(t, err.Error(), key, op)
		assert.NotContains(t, err.Error(), key[:16], op)
	}
}

func TestOpenOwnsItsPool(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	probe := newPool(t, "", 0)
	table := uniqueTable(t, probe)
	s, err := pgstore.Open(ctx, postgresURL(t), pgstore.Config{Table: table})
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
