package redisstore_test

import (
	"os"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/sessionauth/sessionauth/store/redisstore"
	"github.com/sessionauth/sessionauth/store/storetest"
)

// TestConformance runs the suite with a fresh key prefix per subtest on one
// client. The store decides expiry by the suite's clock (Redis's TTLs only
// reclaim memory), so no test is skipped for a wall clock; the sweep tests
// are, since Redis expires keys by itself and the store has no sweep. The
// Peer is a Store on the same prefix through a client of its own, as a second
// application process would have.
func TestConformance(t *testing.T) {
	client := newClient(t, "")
	storetest.Run(t, func(t *testing.T, clock *storetest.Clock) storetest.Harness {
		prefix := uniquePrefix(t, client)
		s, err := redisstore.New(client, redisstore.Config{Prefix: prefix, Now: clock.Now})
		require.NoError(t, err)
		return storetest.Harness{Store: s, Nanoseconds: true, DropsExpired: true,
			Peer: func(t *testing.T, clock *storetest.Clock) storetest.Harness {
				peer, err := redisstore.New(newClient(t, ""), redisstore.Config{Prefix: prefix, Now: clock.Now})
				require.NoError(t, err)
				return storetest.Harness{Store: peer}
			},
		}
	})
}

// TestConformanceCluster runs the suite on Redis Cluster when
// SESSIONAUTH_REDIS_CLUSTER_ADDRS lists nodes of a cluster (host:port,...).
// It is the check of the one-slot design (see the package documentation):
// every script touches only keys of the store's hash slot, and All finds the
// slot's node. scripts/test.sh starts no cluster, so CI skips it.
func TestConformanceCluster(t *testing.T) {
	addrs := os.Getenv("SESSIONAUTH_REDIS_CLUSTER_ADDRS")
	if addrs == "" {
		t.Skip("set SESSIONAUTH_REDIS_CLUSTER_ADDRS=host:port,... to run the suite on a Redis Cluster")
	}
	client := redis.NewClusterClient(&redis.ClusterOptions{Addrs: strings.Split(addrs, ","), ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = client.Close() })
	storetest.Run(t, func(t *testing.T, clock *storetest.Clock) storetest.Harness {
		s, err := redisstore.New(client, redisstore.Config{Prefix: uniquePrefix(t, client), Now: clock.Now})
		require.NoError(t, err)
		return storetest.Harness{Store: s, DropsExpired: true}
	})
}
