package redisstore_test

import (
	"testing"

	"github.com/sessionauth/sessionauth/store/memstore"
	"github.com/sessionauth/sessionauth/store/redisstore"
	"github.com/sessionauth/sessionauth/store/storetest"
)

// BenchmarkRequest measures one authenticated request on redisstore: one
// Redis GET per request. memstore, measured in the same run, is the
// baseline.
func BenchmarkRequest(b *testing.B) {
	b.Run("memstore", func(b *testing.B) {
		store := memstore.New(memstore.Config{})
		b.Cleanup(func() { _ = store.Close() })
		storetest.BenchmarkRequest(b, store)
	})
	b.Run("redisstore", func(b *testing.B) {
		client := newClient(b, "")
		store, err := redisstore.New(client, redisstore.Config{Prefix: uniquePrefix(b, client)})
		if err != nil {
			b.Fatal(err)
		}
		storetest.BenchmarkRequest(b, store)
	})
}
