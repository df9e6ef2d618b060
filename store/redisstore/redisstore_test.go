package redisstore_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionauth/sessionauth"
	"github.com/sessionauth/sessionauth/internal/testenv"
	"github.com/sessionauth/sessionauth/store/redisstore"
)

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
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
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
			assertTTL(t, f, key, t0.Add(tt.wantAfter).Sub(f.clock.Now()))
		})
	}
}

// assertTTL checks that Redis will reclaim the session about when it
// expires: never before (that would sign its user out), and not long after.
func assertTTL(t *testing.T, f *fixture, key string, want time.Duration) {
	t.Helper()
	assertKeyTTL(t, f, f.sessionKey(key), want)
}

func assertKeyTTL(t *testing.T, f *fixture, redisKey string, want time.Duration) {
	t.Helper()
	ttl, err := f.client.PTTL(context.Background(), redisKey).Result()
	require.NoError(t, err)
	assert.GreaterOrEqual(t, ttl, want, "Redis must not delete it before it expires")
	assert.LessOrEqual(t, ttl, want+2*time.Second, "Redis must delete it soon after it expires")
}

func TestTouchOnlyMovesALiveExpiryForward(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	key := randomKey()
	t0 := f.clock.Now()
	require.NoError(t, f.store.Put(ctx, key, "alice", []byte("data"), t0.Add(time.Hour)))

	require.NoError(t, f.store.Touch(ctx, key, t0.Add(2*time.Hour)))
	require.NoError(t, f.store.Touch(ctx, key, t0.Add(90*time.Minute)))

	data, exp, found, err := f.store.Get(ctx, key)
	require.NoError(t, err)
	require.True(t, found)
	assert.Equal(t, []byte("data"), data, "a touch never changes the data")
	assert.True(t, exp.Equal(t0.Add(2*time.Hour)), "expiry %v, want the later touch", exp)
	assertTTL(t, f, key, 2*time.Hour)

	score, err := f.client.ZScore(ctx, f.indexKey("alice"), key).Result()
	require.NoError(t, err)
	assert.Equal(t, float64(t0.Add(2*time.Hour).UnixMilli()+1), score, "the index follows the touch (rounded up to the ms)")
	assertKeyTTL(t, f, f.indexKey("alice"), 2*time.Hour) // the index lives as long as its latest member
}

func TestTouchIgnoresMissingAndExpiredSessions(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	missing, expired := randomKey(), randomKey()
	t0 := f.clock.Now()
	require.NoError(t, f.store.Put(ctx, expired, "alice", []byte("x"), t0.Add(time.Minute)))
	f.clock.Advance(time.Minute)

	require.NoError(t, f.store.Touch(ctx, missing, t0.Add(time.Hour)))
	require.NoError(t, f.store.Touch(ctx, expired, t0.Add(time.Hour)))

	n, err := f.client.Exists(ctx, f.sessionKey(missing)).Result()
	require.NoError(t, err)
	assert.Zero(t, n, "a touch does not create a session")
	_, exp, found, err := f.store.Get(ctx, expired)
	require.NoError(t, err)
	require.True(t, found, "Redis still holds it: its TTL has a second of slack")
	assert.True(t, exp.Equal(t0.Add(time.Minute)), "a touch does not move an expired session's expiry: %v", exp)
	_, found, err = f.store.Find(expired)
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
	members, err := f.client.ZRange(ctx, f.indexKey("alice"), 0, -1).Result()
	require.NoError(t, err)
	assert.Equal(t, []string{a2}, members, "the index holds exactly the kept session")
}

func TestUserIndexLeavesNoGarbage(t *testing.T) {
	t.Parallel()

	t.Run("deleting every session deletes the index", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		ctx := context.Background()
		k1, k2 := randomKey(), randomKey()
		require.NoError(t, f.store.Put(ctx, k1, "alice", []byte("x"), f.clock.Now().Add(time.Hour)))
		require.NoError(t, f.store.Put(ctx, k2, "alice", []byte("x"), f.clock.Now().Add(time.Hour)))
		require.NoError(t, f.store.Delete(k1))
		require.NoError(t, f.store.DeleteCtx(ctx, k2))
		assertNoKeys(t, f)
	})

	t.Run("expired members are trimmed with their sessions on the next write", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		ctx := context.Background()
		old, fresh := randomKey(), randomKey()
		require.NoError(t, f.store.Put(ctx, old, "alice", []byte("x"), f.clock.Now().Add(time.Minute)))
		f.clock.Advance(2 * time.Minute)
		require.NoError(t, f.store.Put(ctx, fresh, "alice", []byte("x"), f.clock.Now().Add(time.Hour)))

		members, err := f.client.ZRange(ctx, f.indexKey("alice"), 0, -1).Result()
		require.NoError(t, err)
		assert.Equal(t, []string{fresh}, members)
		n, err := f.client.Exists(ctx, f.sessionKey(old)).Result()
		require.NoError(t, err)
		assert.Zero(t, n, "the expired session is deleted, not left to its TTL")
	})

	t.Run("listing trims and an emptied index disappears", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		ctx := context.Background()
		require.NoError(t, f.store.Put(ctx, randomKey(), "alice", []byte("x"), f.clock.Now().Add(time.Minute)))
		f.clock.Advance(time.Minute)
		recs, err := f.store.ListUser(ctx, "alice")
		require.NoError(t, err)
		assert.Empty(t, recs)
		assertNoKeys(t, f)
	})

	t.Run("the index expires with its latest member", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		ctx := context.Background()
		require.NoError(t, f.store.Put(ctx, randomKey(), "alice", []byte("x"), f.clock.Now().Add(3*time.Hour)))
		require.NoError(t, f.store.Put(ctx, randomKey(), "alice", []byte("x"), f.clock.Now().Add(time.Hour)))
		assertKeyTTL(t, f, f.indexKey("alice"), 3*time.Hour)
	})

	t.Run("a Commit over a user's session removes it from the index", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		ctx := context.Background()
		key := randomKey()
		require.NoError(t, f.store.Put(ctx, key, "alice", []byte("x"), f.clock.Now().Add(time.Hour)))
		require.NoError(t, f.store.Commit(key, []byte("scs"), f.clock.Now().Add(time.Hour)))
		n, err := f.client.Exists(ctx, f.indexKey("alice")).Result()
		require.NoError(t, err)
		assert.Zero(t, n)
		recs, err := f.store.ListUser(ctx, "alice")
		require.NoError(t, err)
		assert.Empty(t, recs)
	})

	t.Run("a Put for another user moves the session between indexes", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		ctx := context.Background()
		key := randomKey()
		require.NoError(t, f.store.Put(ctx, key, "alice", []byte("x"), f.clock.Now().Add(time.Hour)))
		require.NoError(t, f.store.Put(ctx, key, "bob", []byte("y"), f.clock.Now().Add(time.Hour)))
		alice, err := f.store.ListUser(ctx, "alice")
		require.NoError(t, err)
		assert.Empty(t, alice)
		bob, err := f.store.ListUser(ctx, "bob")
		require.NoError(t, err)
		require.Len(t, bob, 1)
		assert.Equal(t, key, bob[0].Key)
	})
}

// assertNoKeys checks that the store left nothing under its prefix.
func assertNoKeys(t *testing.T, f *fixture) {
	t.Helper()
	keys, err := f.client.Keys(context.Background(), "{"+f.prefix+"}*").Result()
	require.NoError(t, err)
	assert.Empty(t, keys)
}

func TestAllReturnsLiveSessions(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	want := map[string][]byte{}
	for i := range 600 { // more than one SCAN batch
		key := randomKey()
		data := []byte{byte(i), byte(i >> 8)}
		require.NoError(t, f.store.Commit(key, data, f.clock.Now().Add(time.Hour)))
		want[key] = data
	}
	require.NoError(t, f.store.Put(ctx, randomKey(), "alice", []byte("short"), f.clock.Now().Add(time.Second)))
	f.clock.Advance(time.Second)

	all, err := f.store.All()
	require.NoError(t, err)
	assert.Equal(t, want, all)

	other := newFixture(t)
	all, err = other.store.AllCtx(ctx)
	require.NoError(t, err)
	assert.Empty(t, all, "another prefix sees none of them")
}

func TestPrefixesIsolateStores(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	other, err := redisstore.New(f.client, redisstore.Config{Prefix: f.prefix + "-other", Now: f.clock.Now})
	require.NoError(t, err)
	t.Cleanup(func() {
		keys, _ := f.client.Keys(ctx, "{"+f.prefix+"-other}*").Result()
		if len(keys) > 0 {
			f.client.Del(ctx, keys...)
		}
	})
	key := randomKey()
	require.NoError(t, f.store.Put(ctx, key, "alice", []byte("x"), f.clock.Now().Add(time.Hour)))

	_, _, found, err := other.Get(ctx, key)
	require.NoError(t, err)
	assert.False(t, found)
	n, err := other.DeleteUser(ctx, "alice", "")
	require.NoError(t, err)
	assert.Zero(t, n)
	_, _, found, err = f.store.Get(ctx, key)
	require.NoError(t, err)
	assert.True(t, found)
}

func TestNewRejectsAnInvalidConfig(t *testing.T) {
	t.Parallel()
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}) // never dialled
	t.Cleanup(func() { _ = client.Close() })
	for _, prefix := range []string{"a{b", "a}b", "{tag}"} {
		_, err := redisstore.New(client, redisstore.Config{Prefix: prefix})
		assert.Error(t, err, "prefix %q", prefix)
	}
	_, err := redisstore.New(nil, redisstore.Config{})
	assert.Error(t, err)
}

func TestCorruptValueIsAnErrorNotASession(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	key := randomKey()
	require.NoError(t, f.client.Set(ctx, f.sessionKey(key), "not a session", time.Hour).Err())

	_, _, found, err := f.store.Get(ctx, key)
	assert.False(t, found)
	assert.ErrorIs(t, err, sessionauth.ErrCorruptRecord)
	assert.False(t, strings.Contains(err.Error(), key))
}

func TestOpenOwnsItsClient(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := redisstore.Open(ctx, testenv.RedisURL(t), redisstore.Config{Prefix: "sessionauth-test-open"})
	require.NoError(t, err)
	_, _, _, err = s.Get(ctx, randomKey())
	require.NoError(t, err)
	require.NoError(t, s.Close())
	_, _, _, err = s.Get(ctx, randomKey())
	assert.ErrorIs(t, err, redis.ErrClosed, "Close closed the client Open made")

	_, err = redisstore.Open(ctx, "redis://:secret-password@127.0.0.1:1/0?max_retries=-1", redisstore.Config{})
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "secret-password")
	_, err = redisstore.Open(ctx, "http://:secret-password@127.0.0.1/0", redisstore.Config{})
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "secret-password")
}
