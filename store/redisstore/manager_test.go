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
	store, err := redisstore.New(newClient(t, p.Addr()), redisstore.Config{Prefix: uniquePrefix(t, newClient(t, ""))})
	require.NoError(t, err)
	storetest.RunOutage(t, store, p.Cut, p.Restore)
}
