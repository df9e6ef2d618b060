package pgstore_test

import (
	"context"
	"testing"

	"github.com/sessionauth/sessionauth/store/memstore"
	"github.com/sessionauth/sessionauth/store/pgstore"
	"github.com/sessionauth/sessionauth/store/storetest"
)

// BenchmarkRequest measures one authenticated request on pgstore: one
// prepared SELECT per request. memstore, measured in the same run, is the
// baseline.
func BenchmarkRequest(b *testing.B) {
	b.Run("memstore", func(b *testing.B) {
		store := memstore.New(memstore.Config{})
		b.Cleanup(func() { _ = store.Close() })
		storetest.BenchmarkRequest(b, store)
	})
	b.Run("pgstore", func(b *testing.B) {
		pool := newPool(b, "", 0)
		store, err := pgstore.New(context.Background(), pool, pgstore.Config{Table: uniqueTable(b, pool)})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = store.Close() })
		storetest.BenchmarkRequest(b, store)
	})
}
