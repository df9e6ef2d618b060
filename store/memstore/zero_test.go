package memstore_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/sessionauth/sessionauth/store/memstore"
	"github.com/sessionauth/sessionauth/store/storetest"
)

// A Store that New did not make fails every call with ErrNotBuilt, never
// panics, holds nothing, and a Manager refuses it.
func TestAStoreNotBuiltByNewFailsEveryCall(t *testing.T) {
	storetest.RunNotBuilt(t, &memstore.Store{}, (*memstore.Store)(nil), memstore.ErrNotBuilt)
	assert.Zero(t, (&memstore.Store{}).Len(), "an unbuilt store holds nothing")
	assert.Zero(t, (*memstore.Store)(nil).Len())
}
