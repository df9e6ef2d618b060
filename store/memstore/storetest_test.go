package memstore_test

import (
	"testing"
	"time"

	"github.com/sessionauth/sessionauth/store/memstore"
	"github.com/sessionauth/sessionauth/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, clock *storetest.Clock) storetest.Harness {
		// The background sweep runs, so that the suite's Close check has
		// a goroutine to see stopped, but rarely, so that Sweep counts
		// what the suite expired.
		s := memstore.New(memstore.Config{Now: clock.Now, SweepInterval: time.Hour})
		return storetest.Harness{
			Store:       s,
			Sweep:       s.Sweep,
			Close:       s.Close,
			Nanoseconds: true,
			// Two Managers in one process share the one store.
			Peer: func(*testing.T, *storetest.Clock) storetest.Harness {
				return storetest.Harness{Store: s}
			},
		}
	})
}
