package pgstore_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sessionauth/sessionauth/store/pgstore"
	"github.com/sessionauth/sessionauth/store/storetest"
)

// TestConformance runs the suite with a fresh table per subtest on one pool.
// The background sweep runs, rarely, so that the suite sees Close stop it.
// The Peer is a Store on the same table through a pool of its own, as a
// second application process would have.
func TestConformance(t *testing.T) {
	pool := newPool(t, "", 0)
	storetest.Run(t, func(t *testing.T, clock *storetest.Clock) storetest.Harness {
		table := uniqueTable(t, pool)
		s, err := pgstore.New(t.Context(), pool, pgstore.Config{Table: table, Now: clock.Now, SweepInterval: time.Hour})
		require.NoError(t, err)
		return storetest.Harness{Store: s, Sweep: s.Sweep, Close: s.Close, Nanoseconds: true,
			Peer: func(t *testing.T, clock *storetest.Clock) storetest.Harness {
				peer, err := pgstore.New(t.Context(), newPool(t, "", 0), pgstore.Config{Table: table, Now: clock.Now, SweepInterval: -1})
				require.NoError(t, err)
				return storetest.Harness{Store: peer, Close: peer.Close}
			},
		}
	})
}
