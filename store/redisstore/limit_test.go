package redisstore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionauth/sessionauth/internal/testenv"
	"github.com/sessionauth/sessionauth/ratelimit"
	"github.com/sessionauth/sessionauth/ratelimit/ratelimittest"
	"github.com/sessionauth/sessionauth/store/redisstore"
)

// limitPrefix returns a prefix no other test uses, and deletes its keys
// when the test ends.
func limitPrefix(t *testing.T, c *redis.Client) string {
	t.Helper()
	var b [8]byte
	_, _ = rand.Read(b[:])
	prefix := "sessionauth-limit-test-" + hex.EncodeToString(b[:])
	t.Cleanup(func() {
		ctx := context.Background()
		iter := c.Scan(ctx, 0, prefix+":*", 100).Iterator()
		for iter.Next(ctx) {
			_ = c.Del(ctx, iter.Val()).Err()
		}
	})
	return prefix
}

func TestLimitStoreConformance(t *testing.T) {
	c := newClient(t, "")
	ratelimittest.Run(t, func(t *testing.T) ratelimit.Store {
		s, err := redisstore.NewLimitStore(c, redisstore.LimitConfig{Prefix: limitPrefix(t, c)})
		require.NoError(t, err)
		return s
	})
}

// TestLimitStoreConformanceCluster runs the suite on Redis Cluster when
// SESSIONAUTH_REDIS_CLUSTER_ADDRS lists nodes of a cluster: each script
// touches one key, wherever its slot is. scripts/test.sh starts no cluster,
// so CI skips it.
func TestLimitStoreConformanceCluster(t *testing.T) {
	addrs := os.Getenv("SESSIONAUTH_REDIS_CLUSTER_ADDRS")
	if addrs == "" {
		t.Skip("set SESSIONAUTH_REDIS_CLUSTER_ADDRS=host:port,... to run the suite on a Redis Cluster")
	}
	client := redis.NewClusterClient(&redis.ClusterOptions{Addrs: strings.Split(addrs, ","), ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = client.Close() })
	ratelimittest.Run(t, func(t *testing.T) ratelimit.Store {
		var b [8]byte
		_, _ = rand.Read(b[:])
		s, err := redisstore.NewLimitStore(client, redisstore.LimitConfig{Prefix: "sessionauth-limit-test-" + hex.EncodeToString(b[:])})
		require.NoError(t, err)
		return s
	})
}

// TestLimitersOnTwoClientsShareCounts: two app instances, each with its own
// client and Limiter, on one server: the account's sixth attempt is refused
// whichever instance gets it.
func TestLimitersOnTwoClientsShareCounts(t *testing.T) {
	c1, c2 := newClient(t, ""), newClient(t, "")
	prefix := limitPrefix(t, c1)
	newLimiter := func(c *redis.Client) *ratelimit.Limiter {
		s, err := redisstore.NewLimitStore(c, redisstore.LimitConfig{Prefix: prefix})
		require.NoError(t, err)
		l, err := ratelimit.New(ratelimit.Config{Store: s})
		require.NoError(t, err)
		return l
	}
	a, b := newLimiter(c1), newLimiter(c2)
	ctx := context.Background()
	now := ratelimittest.Start
	for i := range 5 {
		l := []*ratelimit.Limiter{a, b}[i%2]
		retry, err := l.Attempt(ctx, "alice@example.com", []string{"192.0.2.1", "198.51.100.7"}[i%2], now)
		require.NoError(t, err)
		require.Zero(t, retry, "attempt %d", i+1)
	}
	for _, l := range []*ratelimit.Limiter{a, b} {
		retry, err := l.Attempt(ctx, "alice@example.com", "203.0.113.9", now)
		require.NoError(t, err)
		assert.Positive(t, retry)
	}
	require.NoError(t, b.Succeeded(ctx, "alice@example.com", "203.0.113.9"))
	retry, err := a.Attempt(ctx, "alice@example.com", "203.0.113.9", now)
	require.NoError(t, err)
	assert.Zero(t, retry, "a success on one instance clears the account on the other")
}

// TestLimitKeyExpiresWhenItsStateRunsOut: Redis holds a key only while its
// state matters, and the key holds no raw name.
func TestLimitKeyExpiresWhenItsStateRunsOut(t *testing.T) {
	c := newClient(t, "")
	prefix := limitPrefix(t, c)
	s, err := redisstore.NewLimitStore(c, redisstore.LimitConfig{Prefix: prefix})
	require.NoError(t, err)
	ctx := context.Background()
	for range 3 {
		_, err := s.Take(ctx, "k", 5, time.Minute, ratelimittest.Start)
		require.NoError(t, err)
	}
	ttl, err := c.PTTL(ctx, prefix+":limit:k").Result()
	require.NoError(t, err)
	// Three events of a 12 s interval run out in 36 s.
	assert.InDelta(t, 36*time.Second, ttl, float64(2*time.Second))
	v, err := c.Get(ctx, prefix+":limit:k").Int64()
	require.NoError(t, err)
	assert.Equal(t, ratelimittest.Start.Add(36*time.Second).UnixMicro(), v, "the state is the caller's clock, in microseconds")
}

func TestLimitStoreFailureIsAnError(t *testing.T) {
	opts, err := redis.ParseURL(testenv.RedisURL(t))
	require.NoError(t, err)
	opts.Addr = "127.0.0.1:1" // nothing listens there
	opts.MaxRetries = -1
	opts.ContextTimeoutEnabled = true
	c := redis.NewClient(opts)
	t.Cleanup(func() { _ = c.Close() })
	s, err := redisstore.NewLimitStore(c, redisstore.LimitConfig{})
	require.NoError(t, err)
	_, err = s.Take(context.Background(), "k", 5, time.Minute, ratelimittest.Start)
	assert.ErrorContains(t, err, "redisstore: limit take")
	assert.ErrorContains(t, s.Reset(context.Background(), "k"), "redisstore: limit reset")
}
