package redisstore_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sessionauth/sessionauth/store/redisstore"
	"github.com/sessionauth/sessionauth/store/storetest"
)

// TestConformance runs the suite with a fresh key prefix per subtest on one
// client. The store decides expiry by the suite's clock (Redis's TTLs only
// reclaim memory), so no test is skipped for a wall clock; the sweep tests
// are, since Redis expires keys by itself and the store has no sweep.
func TestConformance(t *testing.T) {
	client := newClient(t, "")
	storetest.Run(t, func(t *testing.T, clock *storetest.Clock) storetest.Harness {
		s, err := redisstore.New(client, redisstore.Config{Prefix: uniquePrefix(t, client), Now: clock.Now})
		require.NoError(t, err)
		return storetest.Harness{Store: s}
	})
}
