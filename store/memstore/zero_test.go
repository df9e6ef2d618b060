package memstore_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionauth/sessionauth"
	"github.com/sessionauth/sessionauth/store/memstore"
)

// TestAStoreNotBuiltByNewFailsEveryCall calls, by reflection so that a
// method added later is covered too, every method that returns an error on a
// Store that New did not make, and every such method the Store defines itself
// on a nil *Store: each fails with ErrNotBuilt, none panics, and a Manager
// refuses such a store.
func TestAStoreNotBuiltByNewFailsEveryCall(t *testing.T) {
	errType := reflect.TypeFor[error]()
	ctxType := reflect.TypeFor[context.Context]()
	// The scs methods without a context are promoted from a field of the
	// Store, which a nil *Store does not have: only the methods the Store
	// defines itself are nil-safe (and sessionauth.New refuses a nil store).
	forwarded := map[string]bool{"Find": true, "Commit": true, "Delete": true, "All": true}
	for name, s := range map[string]*memstore.Store{"zero value": {}, "nil pointer": nil} {
		t.Run(name, func(t *testing.T) {
			v := reflect.ValueOf(s)
			called := 0
			for i := range v.NumMethod() {
				method, typ := v.Type().Method(i).Name, v.Method(i).Type()
				if typ.NumOut() == 0 || typ.Out(typ.NumOut()-1) != errType || s == nil && forwarded[method] {
					continue
				}
				args := make([]reflect.Value, typ.NumIn())
				for j := range args {
					if typ.In(j) == ctxType {
						args[j] = reflect.ValueOf(t.Context())
					} else {
						args[j] = reflect.Zero(typ.In(j))
					}
				}
				var out []reflect.Value
				if !assert.NotPanics(t, func() { out = v.Method(i).Call(args) }, method) {
					continue
				}
				called++
				err, _ := out[len(out)-1].Interface().(error)
				assert.ErrorIs(t, err, memstore.ErrNotBuilt, method)
				for _, o := range out[:len(out)-1] {
					assert.True(t, o.IsZero(), "%s returns nothing but its error", method)
				}
			}
			require.GreaterOrEqual(t, called, 15, "the methods of SessionStore, SessionLoader and scs at least")
			assert.Zero(t, s.Len(), "an unbuilt store holds nothing")
			_, err := sessionauth.New(sessionauth.Config{Store: s})
			assert.Error(t, err, "a Manager refuses the store")
		})
	}
}
