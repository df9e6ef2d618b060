package storetest_test

import (
	"testing"

	"github.com/alexedwards/scs/v2/memstore"

	"github.com/sessionauth/sessionauth/store/storetest"
)

// TestSCSMemstore runs the core of the suite on scs's own in-memory store:
// any scs store can back a Manager for the core operations.
func TestSCSMemstore(t *testing.T) {
	storetest.Run(t, func(t *testing.T, _ *storetest.Clock) storetest.Harness {
		// No cleanup goroutine: scs's StopCleanup races with the start of
		// that goroutine, so a store that starts one cannot be stopped
		// reliably in a test.
		return storetest.Harness{Store: memstore.NewWithCleanupInterval(0), WallClock: true}
	})
}
