package storetest

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionauth/sessionauth"
)

// RunNotBuilt checks a store that no constructor built, on its zero value
// and on a nil pointer of its type: every exported method that returns an
// error, called by reflection (so that a method added later is covered too)
// with a live context and zero arguments, fails with an error wrapping
// notBuilt, returns zero values besides, and does not panic; and
// sessionauth.New refuses both. On the nil pointer the scs methods without a
// context (Find, Commit, Delete, All) are left out, since a store may
// promote them from a field that a nil pointer does not have.
//
//	storetest.RunNotBuilt(t, &mystore.Store{}, (*mystore.Store)(nil), mystore.ErrNotBuilt)
func RunNotBuilt(t *testing.T, zero, nilPointer sessionauth.Store, notBuilt error) {
	t.Helper()
	promoted := map[string]bool{"Find": true, "Commit": true, "Delete": true, "All": true}
	for name, s := range map[string]sessionauth.Store{"zero value": zero, "nil pointer": nilPointer} {
		t.Run(name, func(t *testing.T) {
			v := reflect.ValueOf(s)
			called := 0
			for i := range v.NumMethod() {
				method, typ := v.Type().Method(i).Name, v.Method(i).Type()
				if typ.NumOut() == 0 || typ.Out(typ.NumOut()-1) != errType || v.IsNil() && promoted[method] {
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
				assert.ErrorIs(t, err, notBuilt, method)
				for _, o := range out[:len(out)-1] {
					assert.True(t, o.IsZero(), "%s returns nothing but its error", method)
				}
			}
			require.GreaterOrEqual(t, called, 10, "the methods of Store, CtxStore and SessionStore at least")
			_, err := sessionauth.New(sessionauth.Config{Store: s})
			assert.Error(t, err, "a Manager refuses the store")
		})
	}
}

var (
	errType = reflect.TypeFor[error]()
	ctxType = reflect.TypeFor[context.Context]()
)

// RunHungStore checks that every method of s that takes a context (s being a
// store whose server accepts connections and never answers) returns an
// error, zero results besides, within bound of a deadline of timeout, called
// by reflection (strings non-empty, other arguments zero) so that a method
// added later is covered too.
//
//	storetest.RunHungStore(t, store, 200*time.Millisecond, time.Second)
func RunHungStore(t *testing.T, s sessionauth.Store, timeout, bound time.Duration) {
	t.Helper()
	typ := reflect.TypeOf(s)
	for i := range typ.NumMethod() {
		m := typ.Method(i)
		if m.Type.NumIn() < 2 || m.Type.In(1) != ctxType {
			continue
		}
		t.Run(m.Name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), timeout)
			defer cancel()
			args := []reflect.Value{reflect.ValueOf(s), reflect.ValueOf(ctx)}
			for j := 2; j < m.Type.NumIn(); j++ {
				a := reflect.New(m.Type.In(j)).Elem()
				if a.Kind() == reflect.String {
					a.SetString("storetest") // "" may be answered without asking the server
				}
				args = append(args, a)
			}
			start := time.Now()
			var out []reflect.Value
			require.NotPanics(t, func() { out = m.Func.Call(args) })
			assert.Less(t, time.Since(start), bound, "the call ended at its deadline")
			if last := out[len(out)-1]; last.Type() == errType {
				assert.False(t, last.IsNil(), "a hung store is an error")
				for _, o := range out[:len(out)-1] {
					assert.True(t, o.IsZero(), "%s returns nothing but its error", m.Name)
				}
			}
		})
	}
}
