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
func TestConformance(t *testing.T) {
	pool := newPool(t, "", 0)
	storetest.Run(t, func(t *testing.T, clock *storetest.Clock) storetest.Harness {
		s, err := pgstore.New(t.Context(), pool, pgstore.Config{
			Table:         uniqueTable(t, pool),
			Now:           clock.Now,
			SweepInterval: time.Hour,
		})
		require.NoError(t, err)
		return storetest.Harness{Store: s, Sweep: s.Sweep, Close: s.Close}
	})
}
