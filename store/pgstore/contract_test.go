package pgstore_test

import (
	"context"
	"errors"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionauth/sessionauth/store/pgstore"
	"github.com/sessionauth/sessionauth/store/storetest"
)

// These tests check, on the rows in the table, the writes that must never
// bring back a revoked session (Update, Rename) and the faults that must
// have an answer (hung servers, unbuilt stores).

// countRows returns how many rows of f's table match where (SQL, with $1 as
// arg).
func (f *fixture) countRows(t *testing.T, where string, arg any) int {
	t.Helper()
	var n int
	require.NoError(t, f.pool.QueryRow(context.Background(), "SELECT count(*) FROM "+f.table+" WHERE "+where, arg).Scan(&n))
	return n
}

func TestUpdateReplacesTheDataOfALiveRowAndKeepsItsUser(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		given time.Duration // expiry given to Update, from the Put's clock
		want  time.Duration // expiry afterwards, from the Put's clock
	}{
		{"a later expiry moves the row", 2 * time.Hour, 2 * time.Hour},
		{"an earlier expiry keeps the stored one", 30 * time.Minute, time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			ctx := context.Background()
			key, t0 := randomKey(), f.clock.Now()
			require.NoError(t, f.store.Put(ctx, key, "alice", []byte("v1"), t0.Add(time.Hour)))
			f.clock.Advance(time.Minute)

			updated, err := f.store.Update(ctx, key, []byte("v2"), t0.Add(tt.given))
			require.NoError(t, err)
			assert.True(t, updated)
			recs, err := f.store.ListUser(ctx, "alice")
			require.NoError(t, err)
			require.Len(t, recs, 1, "the row keeps its user")
			assert.Equal(t, key, recs[0].Key)
			assert.Equal(t, []byte("v2"), recs[0].Data)
			assert.True(t, recs[0].Expiry.Equal(t0.Add(tt.want)), "expiry %v, want %v", recs[0].Expiry, t0.Add(tt.want))
		})
	}
}

func TestUpdateOfADeletedOrExpiredRowChangesNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	deleted, expired, t0 := randomKey(), randomKey(), f.clock.Now()
	require.NoError(t, f.store.Put(ctx, deleted, "alice", []byte("v1"), t0.Add(time.Hour)))
	require.NoError(t, f.store.Delete(deleted))
	require.NoError(t, f.store.Put(ctx, expired, "bob", []byte("v1"), t0.Add(time.Minute)))
	f.clock.Advance(time.Minute)

	updated, err := f.store.Update(ctx, deleted, []byte("v2"), t0.Add(2*time.Hour))
	require.NoError(t, err)
	assert.False(t, updated, "a revoked session is not written back")
	assert.Zero(t, f.countRows(t, "key = $1", deleted), "Update created no row")

	updated, err = f.store.Update(ctx, expired, []byte("v2"), t0.Add(2*time.Hour))
	require.NoError(t, err)
	assert.False(t, updated, "an expired session is not revived")
	data, exp, found, err := f.store.Get(ctx, expired)
	require.NoError(t, err)
	require.True(t, found, "the row is still in the table")
	assert.Equal(t, []byte("v1"), data)
	assert.True(t, exp.Equal(t0.Add(time.Minute)), "expiry %v unchanged", exp)
}

func TestRenameMovesTheRowWithItsUser(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	oldKey, newKey, other, t0 := randomKey(), randomKey(), randomKey(), f.clock.Now()
	require.NoError(t, f.store.Put(ctx, oldKey, "alice", []byte("data"), t0.Add(time.Hour)))
	require.NoError(t, f.store.Put(ctx, other, "alice", []byte("other"), t0.Add(time.Hour)))
	f.clock.Advance(time.Minute)

	renamed, err := f.store.Rename(ctx, oldKey, newKey)
	require.NoError(t, err)
	assert.True(t, renamed)

	_, _, found, err := f.store.Get(ctx, oldKey)
	require.NoError(t, err)
	assert.False(t, found, "the old key is gone")
	data, exp, found, err := f.store.Get(ctx, newKey)
	require.NoError(t, err)
	require.True(t, found)
	assert.Equal(t, []byte("data"), data)
	assert.True(t, exp.Equal(t0.Add(time.Hour)), "expiry %v", exp)

	recs, err := f.store.ListUser(ctx, "alice")
	require.NoError(t, err)
	require.Len(t, recs, 2)
	assert.ElementsMatch(t, []string{newKey, other}, []string{recs[0].Key, recs[1].Key})
	n, err := f.store.DeleteUser(ctx, "alice", other)
	require.NoError(t, err)
	assert.Equal(t, 1, n, "DeleteUser finds the renamed session")
	assert.Zero(t, f.countRows(t, "key = $1", newKey), "revoking the user revokes the renamed session")
}

func TestRenameOfAMissingOrExpiredRowChangesNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	missing, expired, t0 := randomKey(), randomKey(), f.clock.Now()
	require.NoError(t, f.store.Put(ctx, expired, "alice", []byte("x"), t0.Add(time.Minute)))
	f.clock.Advance(time.Minute)

	for name, key := range map[string]string{"missing": missing, "expired": expired} {
		newKey := randomKey()
		renamed, err := f.store.Rename(ctx, key, newKey)
		require.NoError(t, err, name)
		assert.False(t, renamed, name)
		assert.Zero(t, f.countRows(t, "key = $1", newKey), "%s: no row under the new key", name)
	}
	assert.Equal(t, 1, f.countRows(t, "key = $1", expired), "the expired row stays, for the Manager to judge")
}

func TestRenameOntoAnExistingKeyIsAnErrorWithoutTheKey(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	a, b := randomKey(), randomKey()
	require.NoError(t, f.store.Put(ctx, a, "alice", []byte("a"), f.clock.Now().Add(time.Hour)))
	require.NoError(t, f.store.Put(ctx, b, "bob", []byte("b"), f.clock.Now().Add(time.Hour)))

	renamed, err := f.store.Rename(ctx, a, b)
	require.Error(t, err)
	assert.False(t, renamed)
	var pgErr *pgconn.PgError
	assert.False(t, errors.As(err, &pgErr), "PostgreSQL's detail quotes the key: it must not reach the caller")
	assert.NotContains(t, err.Error(), a)
	assert.NotContains(t, err.Error(), b)
	for key, want := range map[string]string{a: "a", b: "b"} {
		data, _, found, err := f.store.Get(ctx, key)
		require.NoError(t, err)
		require.True(t, found)
		assert.Equal(t, want, string(data))
	}
}

func TestGetReturnsAnExpiredRowTheTableStillHolds(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	key, t0 := randomKey(), f.clock.Now()
	require.NoError(t, f.store.Put(ctx, key, "alice", []byte("data"), t0.Add(time.Minute)))
	f.clock.Advance(time.Minute)

	data, exp, found, err := f.store.Get(ctx, key)
	require.NoError(t, err)
	require.True(t, found, "the Manager judges expiry by its own clock")
	assert.Equal(t, []byte("data"), data)
	assert.True(t, exp.Equal(t0.Add(time.Minute)), "expiry %v", exp)

	// Everything else treats it as absent.
	_, found, err = f.store.Find(key)
	require.NoError(t, err)
	assert.False(t, found, "Find")
	all, err := f.store.All()
	require.NoError(t, err)
	assert.Empty(t, all, "All")
	recs, err := f.store.ListUser(ctx, "alice")
	require.NoError(t, err)
	assert.Empty(t, recs, "ListUser")
}

func TestNilDataIsStoredAsEmptyData(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	exp := f.clock.Now().Add(time.Hour)
	put, commit := randomKey(), randomKey()
	require.NoError(t, f.store.Put(ctx, put, "alice", nil, exp))
	require.NoError(t, f.store.Commit(commit, nil, exp))
	require.NoError(t, f.store.Put(ctx, randomKey(), "alice", []byte("x"), exp))
	for _, key := range []string{put, commit} {
		data, _, found, err := f.store.Get(ctx, key)
		require.NoError(t, err)
		require.True(t, found)
		assert.Empty(t, data)
	}
	updated, err := f.store.Update(ctx, put, nil, exp)
	require.NoError(t, err)
	assert.True(t, updated)
}

// blockedOn waits until n backends of the test database are waiting for a
// lock while running a statement that starts with prefix.
func blockedOn(t *testing.T, pool *pgxpool.Pool, prefix string, n int) {
	t.Helper()
	require.Eventually(t, func() bool {
		var got int
		err := pool.QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity
WHERE wait_event_type = 'Lock' AND starts_with(query, $1)`, prefix).Scan(&got)
		return err == nil && got == n
	}, 10*time.Second, 5*time.Millisecond)
}

// TestRenameAndDeleteUserNeverLeaveASessionBehind forces the two orders in
// which a Rename and a DeleteUser of the same row can commit: a test
// transaction holds the row's lock while both queue behind it, one after
// the other, and then lets them go. Whichever runs first, the user has no
// session left.
func TestRenameAndDeleteUserNeverLeaveASessionBehind(t *testing.T) {
	t.Parallel()
	for _, renameFirst := range []bool{true, false} {
		name := "DeleteUser first"
		if renameFirst {
			name = "Rename first"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			ctx := context.Background()
			oldKey, newKey := randomKey(), randomKey()
			require.NoError(t, f.store.Put(ctx, oldKey, "alice", []byte("x"), f.clock.Now().Add(time.Hour)))

			lock, err := f.pool.Begin(ctx)
			require.NoError(t, err)
			defer func() { _ = lock.Rollback(ctx) }()
			_, err = lock.Exec(ctx, "SELECT 1 FROM "+f.table+" WHERE key = $1 FOR UPDATE", oldKey)
			require.NoError(t, err)

			var renamed atomic.Bool
			var deleted atomic.Int64
			var wg sync.WaitGroup
			rename := func() {
				wg.Go(func() {
					ok, err := f.store.Rename(ctx, oldKey, newKey)
					assert.NoError(t, err)
					renamed.Store(ok)
				})
				blockedOn(t, f.pool, "UPDATE "+f.table+" SET key", 1)
			}
			deleteUser := func() {
				wg.Go(func() {
					n, err := f.store.DeleteUser(ctx, "alice", "")
					assert.NoError(t, err)
					deleted.Store(int64(n))
				})
				blockedOn(t, f.pool, "WITH d AS (DELETE FROM "+f.table, 1)
			}
			if renameFirst {
				rename()
				deleteUser()
			} else {
				deleteUser()
				rename()
			}
			require.NoError(t, lock.Rollback(ctx))
			wg.Wait()

			assert.Equal(t, renameFirst, renamed.Load(), "Rename moves the row only if it ran first")
			assert.Equal(t, int64(1), deleted.Load(), "DeleteUser deletes the session wherever it is")
			assert.Zero(t, f.countRows(t, "user_id = $1", "alice"), "nothing of alice survives")
		})
	}
}

// TestUpdateQueuedBehindADeleteCreatesNothing forces a revocation to commit
// between the Manager's read and its Update.
func TestUpdateQueuedBehindADeleteCreatesNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	key := randomKey()
	require.NoError(t, f.store.Put(ctx, key, "alice", []byte("v1"), f.clock.Now().Add(time.Hour)))
	_, _, found, err := f.store.Get(ctx, key) // the Manager's read
	require.NoError(t, err)
	require.True(t, found)

	revoke, err := f.pool.Begin(ctx)
	require.NoError(t, err)
	defer func() { _ = revoke.Rollback(ctx) }()
	_, err = revoke.Exec(ctx, "DELETE FROM "+f.table+" WHERE key = $1", key)
	require.NoError(t, err)
	var updated atomic.Bool
	var wg sync.WaitGroup
	wg.Go(func() {
		ok, err := f.store.Update(ctx, key, []byte("v2"), f.clock.Now().Add(2*time.Hour))
		assert.NoError(t, err)
		updated.Store(ok)
	})
	blockedOn(t, f.pool, "UPDATE "+f.table+" SET data", 1)
	require.NoError(t, revoke.Commit(ctx))
	wg.Wait()

	assert.False(t, updated.Load())
	assert.Zero(t, f.countRows(t, "key = $1", key), "the revoked session stays revoked")
}

func TestAStoreNotBuiltByNewFailsEveryCallWithoutPanicking(t *testing.T) {
	t.Parallel()
	storetest.RunNotBuilt(t, &pgstore.Store{}, (*pgstore.Store)(nil), pgstore.ErrNotBuilt)
	require.NoError(t, newFixture(t).store.Check(), "a Store built by New passes Check")
}

// stallProxy forwards connections to a target until Stall; from then on it
// drops every byte both ways and accepts new connections that it never
// answers: a database that hangs rather than refuses.
type stallProxy struct {
	ln      net.Listener
	target  string
	stalled atomic.Bool
	mu      sync.Mutex
	conns   []net.Conn
}

func newStallProxy(t *testing.T, target string) *stallProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &stallProxy{ln: ln, target: target, conns: []net.Conn{}}
	go p.serve()
	t.Cleanup(p.Close)
	return p
}

// Close stops the proxy and drops every connection it holds, so that a
// client waiting on one (pgx sends a cancel request for a query it gave up
// on, and waits up to 15 s for it) fails at once. Close is idempotent.
func (p *stallProxy) Close() {
	_ = p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		_ = c.Close()
	}
	p.conns = nil
}

func (p *stallProxy) Addr() string { return p.ln.Addr().String() }

func (p *stallProxy) Stall() { p.stalled.Store(true) }

func (p *stallProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		if !p.hold(c) || p.stalled.Load() {
			continue
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			continue
		}
		if !p.hold(up) {
			_ = c.Close()
			continue
		}
		go p.pipe(c, up)
		go p.pipe(up, c)
	}
}

// hold keeps c to close with the proxy, or closes it and reports false if
// the proxy is closed.
func (p *stallProxy) hold(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.conns == nil {
		_ = c.Close()
		return false
	}
	p.conns = append(p.conns, c)
	return true
}

func (p *stallProxy) pipe(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if err != nil {
			_ = dst.Close()
			return
		}
		if !p.stalled.Load() {
			if _, err := dst.Write(buf[:n]); err != nil {
				_ = src.Close()
				return
			}
		}
	}
}

// deadlineBound is how long a call with a 200 ms deadline may take: the
// deadline with room for a loaded machine, and far short of forever, which
// is what a call that ignored its ctx would wait on a hung server.
const deadlineBound = time.Second

func TestEveryCallEndsAtItsContextDeadlineOnAHungDatabase(t *testing.T) {
	t.Parallel()
	direct := newPool(t, "", 0)
	table := uniqueTable(t, direct)
	s, err := pgstore.New(context.Background(), direct, pgstore.Config{Table: table, SweepInterval: -1})
	require.NoError(t, err, "the table exists before the database hangs")
	require.NoError(t, s.Close())
	cfg := direct.Config().ConnConfig
	p := newStallProxy(t, net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port))))
	pool := newPool(t, p.Addr(), 2)
	t.Cleanup(p.Close) // before the pool's Close, which waits for its connections
	s, err = pgstore.New(context.Background(), pool, pgstore.Config{Table: table, SweepInterval: -1})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	p.Stall()

	for _, manual := range []bool{true, false} {
		t.Run("New/ManualSchema="+strconv.FormatBool(manual), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			start := time.Now()
			_, err := pgstore.New(ctx, pool, pgstore.Config{Table: table, ManualSchema: manual, SweepInterval: -1})
			assert.Error(t, err)
			assert.Less(t, time.Since(start), deadlineBound)
		})
	}
	storetest.RunHungStore(t, s, 200*time.Millisecond, deadlineBound)
}
