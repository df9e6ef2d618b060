package sqlitestore_test

import (
	"crypto/sha256"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/sessionauth/sessionauth"
	"github.com/sessionauth/sessionauth/store/sqlitestore"
)

// TestZeroStoreFailsEveryCall calls every exported method on a Store that no
// constructor made, and every method the Store defines itself on a nil
// *Store: each fails (a count is zero), none panics, and a Manager refuses
// such a store.
func TestZeroStoreFailsEveryCall(t *testing.T) {
	exp := time.Now().Add(time.Hour)
	key := sessionauth.KeyForToken("token")
	// The scs methods without a context are promoted from a field of the
	// Store, which a nil *Store does not have: only the methods the Store
	// defines itself are nil-safe (and sessionauth.New refuses a nil store).
	forwarded := map[string]bool{"Find": true, "Commit": true, "Delete": true, "All": true}
	for name, s := range map[string]*sqlitestore.Store{"zero value": {}, "nil pointer": nil} {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			calls := map[string]func() error{
				"Check": s.Check,
				"Get":   func() error { _, _, _, err := s.Get(ctx, key); return err },
				"LoadSession": func() error {
					sess, err := s.LoadSession(ctx, sha256.Sum256([]byte("token")), time.Now())
					assert.Nil(t, sess)
					return err
				},
				"Put":    func() error { return s.Put(ctx, key, "alice", []byte("v"), exp) },
				"Update": func() error { ok, err := s.Update(ctx, key, []byte("v"), exp); assert.False(t, ok); return err },
				"Touch":  func() error { return s.Touch(ctx, key, exp) },
				"Rename": func() error { ok, err := s.Rename(ctx, key, key+"x"); assert.False(t, ok); return err },
				"ListUser": func() error {
					list, err := s.ListUser(ctx, "alice")
					assert.Empty(t, list)
					return err
				},
				"DeleteUser": func() error { n, err := s.DeleteUser(ctx, "alice", ""); assert.Zero(t, n); return err },
				"Find":       func() error { _, found, err := s.Find(key); assert.False(t, found); return err },
				"FindCtx":    func() error { _, found, err := s.FindCtx(ctx, key); assert.False(t, found); return err },
				"Commit":     func() error { return s.Commit(key, []byte("v"), exp) },
				"CommitCtx":  func() error { return s.CommitCtx(ctx, key, []byte("v"), exp) },
				"Delete":     func() error { return s.Delete(key) },
				"DeleteCtx":  func() error { return s.DeleteCtx(ctx, key) },
				"All":        func() error { all, err := s.All(); assert.Empty(t, all); return err },
				"AllCtx":     func() error { all, err := s.AllCtx(ctx); assert.Empty(t, all); return err },
				"Sweep":      func() error { n, err := s.Sweep(ctx); assert.Zero(t, n); return err },
				"Close":      s.Close,
			}
			for method, call := range calls {
				if s == nil && forwarded[method] {
					continue
				}
				var err error
				if assert.NotPanics(t, func() { err = call() }, method) {
					assert.Error(t, err, method)
				}
			}
			assert.Error(t, s.Close(), "a second Close fails too")
			_, err := sessionauth.New(sessionauth.Config{Store: s})
			assert.Error(t, err, "a Manager refuses the store")
		})
	}
}

func TestCheckPassesForAStoreAConstructorMade(t *testing.T) {
	forEachConstructor(t, sqlitestore.Config{SweepInterval: -1}, func(t *testing.T, s *sqlitestore.Store, _ string) {
		assert.NoError(t, s.Check())
	})
}
