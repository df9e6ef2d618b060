// Package scsforward gives a store the context-free methods of an scs store
// (scs.Store and scs.IterableStore) in terms of the context forms it
// implements (scs.CtxStore and scs.IterableCtxStore), so that every store
// writes each operation once and the two forms cannot drift apart.
package scsforward

import (
	"context"
	"time"
)

// ctxStore is what a store implements itself.
type ctxStore interface {
	FindCtx(ctx context.Context, key string) ([]byte, bool, error)
	CommitCtx(ctx context.Context, key string, data []byte, expiry time.Time) error
	DeleteCtx(ctx context.Context, key string) error
	AllCtx(ctx context.Context) (map[string][]byte, error)
}

// Methods gives a store scs's context-free methods, each calling its context
// form with context.Background(). A store embeds it through an unexported
// alias, so that no exported field appears, and its constructor sets S to
// the store itself:
//
//	type scsMethods = scsforward.Methods[*Store]
//	s.scsMethods = scsMethods{S: s}
//
// In a zero Store, S is a nil pointer, so the call reaches the store's own
// nil-safe method, which reports that no constructor built it.
type Methods[S ctxStore] struct{ S S }

// Find implements scs.Store: FindCtx without a deadline.
func (m Methods[S]) Find(key string) ([]byte, bool, error) {
	return m.S.FindCtx(context.Background(), key)
}

// Commit implements scs.Store: CommitCtx without a deadline.
func (m Methods[S]) Commit(key string, data []byte, expiry time.Time) error {
	return m.S.CommitCtx(context.Background(), key, data, expiry)
}

// Delete implements scs.Store: DeleteCtx without a deadline.
func (m Methods[S]) Delete(key string) error {
	return m.S.DeleteCtx(context.Background(), key)
}

// All implements scs.IterableStore: AllCtx without a deadline.
func (m Methods[S]) All() (map[string][]byte, error) {
	return m.S.AllCtx(context.Background())
}
