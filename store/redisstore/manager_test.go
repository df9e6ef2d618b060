package redisstore_test

import (
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/sessionauth/sessionauth/internal/tcpproxy"
	"github.com/sessionauth/sessionauth/internal/testenv"
	"github.com/sessionauth/sessionauth/store/redisstore"
	"github.com/sessionauth/sessionauth/store/storetest"
)

// TestRedisOutageIs503AndRecoversWithoutRestart runs the store through a TCP
// proxy that the test cuts: Redis goes away without stopping the server that
// other tests share.
func TestRedisOutageIs503AndRecoversWithoutRestart(t *testing.T) {
	t.Parallel()
	opts, err := redis.ParseURL(testenv.RedisURL(t))
	require.NoError(t, err)
	p := tcpproxy.New(t, opts.Addr)
	// No retries: each failing call of the outage fails at once instead of
	// backing off three times.
	opts.Addr, opts.MaxRetries, opts.ContextTimeoutEnabled = p.Addr(), -1, true
	client := redis.NewClient(opts)
	t.Cleanup(func() { _ = client.Close() })
	store, err := redisstore.New(client, redisstore.Config{Prefix: uniquePrefix(t, newClient(t, ""))})
	require.NoError(t, err)
	storetest.RunOutage(t, store, p.Cut, p.Restore)
}
