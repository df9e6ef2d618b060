package redisstore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/sessionauth/sessionauth/internal/testenv"
	"github.com/sessionauth/sessionauth/sessionauthtest"
	"github.com/sessionauth/sessionauth/store/redisstore"
)

// newClient returns a client of the test server, or of addr instead of the
// server's address when addr is not "" (to go through a proxy).
func newClient(tb testing.TB, addr string) *redis.Client {
	tb.Helper()
	opts, err := redis.ParseURL(testenv.RedisURL(tb))
	require.NoError(tb, err)
	if addr != "" {
		opts.Addr = addr
	}
	opts.ContextTimeoutEnabled = true // New requires it
	c := redis.NewClient(opts)
	tb.Cleanup(func() { _ = c.Close() })
	return c
}

// uniquePrefix returns a key prefix no other test uses, and deletes its keys
// when the test ends, so that tests and packages share one server safely.
func uniquePrefix(tb testing.TB, c redis.UniversalClient) string {
	tb.Helper()
	var b [8]byte
	_, _ = rand.Read(b[:])
	prefix := "sessionauth-test-" + hex.EncodeToString(b[:])
	tb.Cleanup(func() {
		ctx := context.Background()
		del := func(ctx context.Context, n *redis.Client) error {
			keys, err := n.Keys(ctx, "{"+prefix+"}*").Result()
			if err == nil && len(keys) > 0 {
				err = n.Del(ctx, keys...).Err()
			}
			return err
		}
		if cc, ok := c.(*redis.ClusterClient); ok {
			_ = cc.ForEachMaster(ctx, del)
		} else if n, ok := c.(*redis.Client); ok {
			_ = del(ctx, n)
		}
	})
	return prefix
}

// fixture is a Store on the test server with its own prefix and clock.
type fixture struct {
	store  *redisstore.Store
	client *redis.Client
	clock  *sessionauthtest.Clock
	prefix string
}

func newFixture(tb testing.TB) *fixture {
	tb.Helper()
	c := newClient(tb, "")
	f := &fixture{client: c, clock: newClock(), prefix: uniquePrefix(tb, c)}
	s, err := redisstore.New(c, redisstore.Config{Prefix: f.prefix, Now: f.clock.Now})
	require.NoError(tb, err)
	f.store = s
	return f
}

func (f *fixture) sessionKey(key string) string { return "{" + f.prefix + "}:s:" + key }
func (f *fixture) indexKey(user string) string  { return "{" + f.prefix + "}:u:" + user }

// newClock returns a clock started far from the real time: the store must
// take expiry from its clock, not from Redis's.
func newClock() *sessionauthtest.Clock {
	return sessionauthtest.NewClock(time.Date(2031, 3, 4, 5, 6, 7, 890123456, time.UTC))
}

// randomKey returns a store key of the shape the Manager uses.
func randomKey() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
