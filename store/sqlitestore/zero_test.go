package sqlitestore_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/sessionauth/sessionauth/store/sqlitestore"
	"github.com/sessionauth/sessionauth/store/storetest"
)

// A Store that no constructor made fails every call with ErrNotBuilt and
// never panics, and a Manager refuses it.
func TestZeroStoreFailsEveryCall(t *testing.T) {
	storetest.RunNotBuilt(t, &sqlitestore.Store{}, (*sqlitestore.Store)(nil), sqlitestore.ErrNotBuilt)
}

func TestCheckPassesForAStoreAConstructorMade(t *testing.T) {
	forEachConstructor(t, sqlitestore.Config{SweepInterval: -1}, func(t *testing.T, s *sqlitestore.Store, _ string) {
		assert.NoError(t, s.Check())
	})
}
