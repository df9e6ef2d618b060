package redisstore_test

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionauth/sessionauth"
	"github.com/sessionauth/sessionauth/store/redisstore"
	"github.com/sessionauth/sessionauth/store/storetest"
)

// These tests check, on the keys Redis holds, the writes that must never
// bring back a revoked session (Update, Rename) and the faults that must
// have an answer (corrupt values, hung servers, unbuilt stores).

func TestUpdateReplacesTheDataOfALiveSessionAndKeepsItsUser(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		given time.Duration // expiry given to Update, from the Put's clock
		want  time.Duration // expiry afterwards, from the Put's clock
	}{
		{"a later expiry moves the session, its TTL and its index entry", 2 * time.Hour, 2 * time.Hour},
		{"an earlier expiry keeps the stored one", 30 * time.Minute, time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			ctx := context.Background()
			key, t0 := randomKey(), f.clock.Now()
			require.NoError(t, f.store.Put(ctx, key, "alice", []byte("v1"), t0.Add(time.Hour)))

			updated, err := f.store.Update(ctx, key, []byte("v2"), t0.Add(tt.given))
			require.NoError(t, err)
			assert.True(t, updated)

			data, exp, found, err := f.store.Get(ctx, key)
			require.NoError(t, err)
			require.True(t, found)
			assert.Equal(t, []byte("v2"), data)
			assert.True(t, exp.Equal(t0.Add(tt.want)), "expiry %v, want %v", exp, t0.Add(tt.want))
			assertTTL(t, f, key, t0.Add(tt.want).Sub(f.clock.Now()))
			score, err := f.client.ZScore(ctx, f.indexKey("alice"), key).Result()
			require.NoError(t, err, "the session stays in its user's index")
			assert.Equal(t, float64(t0.Add(tt.want).UnixMilli()+1), score)
			recs, err := f.store.ListUser(ctx, "alice")
			require.NoError(t, err)
			require.Len(t, recs, 1)
			assert.Equal(t, []byte("v2"), recs[0].Data)
		})
	}
}

func TestUpdateOfADeletedOrExpiredSessionChangesNothing(t *testing.T) {
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
	n, err := f.client.Exists(ctx, f.sessionKey(deleted), f.indexKey("alice")).Result()
	require.NoError(t, err)
	assert.Zero(t, n, "Update created neither the session nor an index")

	updated, err = f.store.Update(ctx, expired, []byte("v2"), t0.Add(2*time.Hour))
	require.NoError(t, err)
	assert.False(t, updated, "an expired session is not revived")
	data, exp, found, err := f.store.Get(ctx, expired)
	require.NoError(t, err)
	require.True(t, found, "Redis still holds it")
	assert.Equal(t, []byte("v1"), data)
	assert.True(t, exp.Equal(t0.Add(time.Minute)), "expiry %v unchanged", exp)
}

func TestRenameMovesTheSessionItsTTLAndItsIndexEntry(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	oldKey, newKey, other, t0 := randomKey(), randomKey(), randomKey(), f.clock.Now()
	require.NoError(t, f.store.Put(ctx, oldKey, "alice", []byte("data"), t0.Add(time.Hour)))
	require.NoError(t, f.store.Put(ctx, other, "alice", []byte("other"), t0.Add(time.Hour)))

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
	assertTTL(t, f, newKey, time.Hour) // RENAME keeps the TTL

	members, err := f.client.ZRange(ctx, f.indexKey("alice"), 0, -1).Result()
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{newKey, other}, members, "the index names the new key, not the old")
	recs, err := f.store.ListUser(ctx, "alice")
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{newKey, other}, []string{recs[0].Key, recs[1].Key})

	n, err := f.store.DeleteUser(ctx, "alice", other)
	require.NoError(t, err)
	assert.Equal(t, 1, n, "DeleteUser finds the renamed session")
	_, _, found, err = f.store.Get(ctx, newKey)
	require.NoError(t, err)
	assert.False(t, found, "revoking the user revokes the renamed session")
}

func TestRenameOfAMissingOrExpiredSessionChangesNothing(t *testing.T) {
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
		n, err := f.client.Exists(ctx, f.sessionKey(newKey)).Result()
		require.NoError(t, err)
		assert.Zero(t, n, "%s: nothing is created under the new key", name)
	}
	_, _, found, err := f.store.Get(ctx, expired)
	require.NoError(t, err)
	assert.True(t, found, "the expired session stays where it was, for the Manager to judge")
	members, err := f.client.ZRange(ctx, f.indexKey("alice"), 0, -1).Result()
	require.NoError(t, err)
	assert.Equal(t, []string{expired}, members)
}

func TestRenameOntoAnExistingKeyIsAnErrorAndChangesNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	a, b := randomKey(), randomKey()
	require.NoError(t, f.store.Put(ctx, a, "alice", []byte("a"), f.clock.Now().Add(time.Hour)))
	require.NoError(t, f.store.Put(ctx, b, "bob", []byte("b"), f.clock.Now().Add(time.Hour)))

	renamed, err := f.store.Rename(ctx, a, b)
	require.Error(t, err)
	assert.False(t, renamed)
	assert.NotContains(t, err.Error(), a)
	assert.NotContains(t, err.Error(), b)
	for key, want := range map[string]string{a: "a", b: "b"} {
		data, _, found, err := f.store.Get(ctx, key)
		require.NoError(t, err)
		require.True(t, found)
		assert.Equal(t, want, string(data))
	}
}

func TestGetReturnsAnExpiredSessionRedisStillHolds(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	key, t0 := randomKey(), f.clock.Now()
	require.NoError(t, f.store.Put(ctx, key, "alice", []byte("data"), t0.Add(time.Minute)))
	f.clock.Advance(2 * time.Minute)

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
	n, err := f.store.DeleteUser(ctx, "alice", "")
	require.NoError(t, err)
	assert.Zero(t, n, "DeleteUser does not count it")
}

func TestCorruptValueIsACorruptRecordForGetAndFind(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	key := randomKey()
	require.NoError(t, f.client.Set(ctx, f.sessionKey(key), "not a session", time.Hour).Err())

	_, found, err := f.store.FindCtx(ctx, key)
	assert.False(t, found)
	require.ErrorIs(t, err, sessionauth.ErrCorruptRecord, "the Manager answers 401, not 503")
	assert.NotContains(t, err.Error(), key)
	_, _, found, err = f.store.Get(ctx, key)
	assert.False(t, found)
	assert.ErrorIs(t, err, sessionauth.ErrCorruptRecord)
}

// syncBuffer is a bytes.Buffer safe for a logger to write from any goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func TestAllSkipsForeignValuesAndWarnsOncePerCallWithoutTheirKeys(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	var logs syncBuffer
	s, err := redisstore.New(f.client, redisstore.Config{Prefix: f.prefix, Now: f.clock.Now,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	require.NoError(t, err)
	live := randomKey()
	require.NoError(t, s.Put(ctx, live, "alice", []byte("data"), f.clock.Now().Add(time.Hour)))
	foreign := []string{randomKey(), randomKey()}
	for _, k := range foreign {
		require.NoError(t, f.client.Set(ctx, f.sessionKey(k), "written by someone else", time.Hour).Err())
	}

	all, err := s.AllCtx(ctx)
	require.NoError(t, err, "a foreign value does not fail the whole listing")
	assert.Equal(t, map[string][]byte{live: []byte("data")}, all)

	out := logs.String()
	assert.Equal(t, 1, strings.Count(out, "\n"), "one warning per call: %s", out)
	assert.Contains(t, out, "level=WARN")
	assert.Contains(t, out, "count=2")
	for _, k := range append(foreign, live) {
		assert.NotContains(t, out, k, "keys are secrets")
	}
}

func TestAStoreNotBuiltByNewFailsEveryCallWithoutPanicking(t *testing.T) {
	t.Parallel()
	storetest.RunNotBuilt(t, &redisstore.Store{}, (*redisstore.Store)(nil), redisstore.ErrNotBuilt)
	require.NoError(t, newFixture(t).store.Check(), "a Store built by New passes Check")
}

func TestNewAndNewLimitStoreRefuseAClientThatIgnoresContextDeadlines(t *testing.T) {
	t.Parallel()
	const addr = "127.0.0.1:1" // never dialled
	for _, enabled := range []bool{false, true} {
		clients := map[string]redis.UniversalClient{
			"Client":        redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: enabled}),
			"ClusterClient": redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{addr}, ContextTimeoutEnabled: enabled}),
			"Ring":          redis.NewRing(&redis.RingOptions{Addrs: map[string]string{"a": addr}, ContextTimeoutEnabled: enabled}),
			"FailoverClient": redis.NewFailoverClient(&redis.FailoverOptions{MasterName: "m",
				SentinelAddrs: []string{addr}, ContextTimeoutEnabled: enabled}),
		}
		for kind, c := range clients {
			t.Cleanup(func() { _ = c.Close() })
			_, err := redisstore.New(c, redisstore.Config{})
			_, limitErr := redisstore.NewLimitStore(c, redisstore.LimitConfig{})
			if enabled {
				assert.NoError(t, err, "%s with ContextTimeoutEnabled", kind)
				assert.NoError(t, limitErr, "limit store on a %s with ContextTimeoutEnabled", kind)
			} else {
				assert.ErrorContains(t, err, "ContextTimeoutEnabled", "%s without ContextTimeoutEnabled", kind)
				assert.ErrorContains(t, limitErr, "ContextTimeoutEnabled", "limit store on a %s without ContextTimeoutEnabled", kind)
			}
		}
	}
}

// hungServer listens on a free port and accepts connections that it never
// answers: a Redis that hangs rather than refuses.
func hungServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return ln.Addr().String()
}

// deadlineBound is how long a call with a 200 ms deadline may take: the
// deadline with room for a loaded machine, and well short of go-redis's own
// 3 s read timeout, which is what a call that ignored its ctx would wait.
const deadlineBound = time.Second

func TestEveryCallEndsAtItsContextDeadlineOnAHungServer(t *testing.T) {
	t.Parallel()
	addr := hungServer(t)

	t.Run("Open", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := redisstore.Open(ctx, "redis://"+addr+"/0", redisstore.Config{})
		assert.Error(t, err)
		assert.Less(t, time.Since(start), deadlineBound, "Open builds a client that honours deadlines")
	})

	client := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = client.Close() })
	s, err := redisstore.New(client, redisstore.Config{})
	require.NoError(t, err)
	storetest.RunHungStore(t, s, 200*time.Millisecond, deadlineBound)
}
