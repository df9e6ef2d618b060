// Package memstore is an in-memory session store: the default for tests and
// for applications that run as a single process and accept that a restart
// signs everybody out.
//
//	store := memstore.New()
//	defer store.Close()
//	m, err := sessionauth.New(sessionauth.Config{Store: store})
//
// It implements every capability a sessionauth.Manager can use
// (sessionauth.SessionStore and the sessionauth.SessionLoader fast path, which
// hands back already decoded sessions so that authenticating a request
// allocates nothing), and it is also an scs store (scs.Store, scs.CtxStore,
// scs.IterableStore, scs.IterableCtxStore) for applications of
// github.com/alexedwards/scs/v2.
//
// Expired sessions are invisible as soon as they expire; a background sweep
// only reclaims their memory, and stops on Close.
package memstore

import (
	"bytes"
	"context"
	"encoding/hex"
	"sync"
	"time"

	"github.com/sessionauth/sessionauth"
)

// Config configures a Store. The zero value means the defaults.
type Config struct {
	// SweepInterval is how often expired sessions are deleted to free
	// memory. A negative value disables the sweep. Default: one minute.
	SweepInterval time.Duration
	// Now is the clock that decides expiry. Default: time.Now.
	Now func() time.Time
}

// Store is an in-memory session store. It is safe for concurrent use. Call
// Close to stop its sweep goroutine.
type Store struct {
	now func() time.Time

	mu    sync.RWMutex
	items map[string]*entry              // store key -> entry
	users map[string]map[string]struct{} // user ID -> store keys

	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

// entry is one stored record. Entries are never modified once published in
// items: a write replaces the entry, so LoadSession can hand out sess without
// copying it.
type entry struct {
	data   []byte
	expiry int64  // Unix ns; the entry is live strictly before it
	userID string // "" for a record written through the scs interface
	sess   *sessionauth.Session
}

var (
	_ sessionauth.SessionStore  = (*Store)(nil)
	_ sessionauth.SessionLoader = (*Store)(nil)
	_ sessionauth.IterableStore = (*Store)(nil)
)

// New returns a Store with the default configuration.
func New() *Store { return NewWithConfig(Config{}) }

// NewWithConfig returns a Store configured by cfg.
func NewWithConfig(cfg Config) *Store {
	s := &Store{
		now:   cfg.Now,
		items: make(map[string]*entry),
		users: make(map[string]map[string]struct{}),
		stop:  make(chan struct{}),
		done:  make(chan struct{}),
	}
	if s.now == nil {
		s.now = time.Now
	}
	interval := cfg.SweepInterval
	if interval == 0 {
		interval = time.Minute
	}
	if interval < 0 {
		close(s.done)
		return s
	}
	go s.sweepLoop(interval)
	return s
}

// Close stops the sweep goroutine and waits for it to exit. The store stays
// usable. Close is idempotent.
func (s *Store) Close() error {
	s.closeOnce.Do(func() { close(s.stop) })
	<-s.done
	return nil
}

func (s *Store) sweepLoop(interval time.Duration) {
	defer close(s.done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.Sweep()
		}
	}
}

// Sweep deletes every expired session now and reports how many it deleted.
// It only frees memory: expired sessions are already invisible.
func (s *Store) Sweep() int {
	now := s.now().UnixNano()
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for key, e := range s.items {
		if e.expiry <= now {
			s.deleteLocked(key, e)
			n++
		}
	}
	return n
}

// Len returns the number of stored records, expired ones not yet swept
// included.
func (s *Store) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.items)
}

func (s *Store) live(e *entry, now int64) bool { return e != nil && now < e.expiry }

// LoadSession implements sessionauth.SessionLoader: the decoded session
// stored under the hex of hash, or nil. It does not allocate.
func (s *Store) LoadSession(_ context.Context, hash [32]byte, now time.Time) (*sessionauth.Session, error) {
	var key [64]byte
	hex.Encode(key[:], hash[:])
	s.mu.RLock()
	e := s.items[string(key[:])]
	s.mu.RUnlock()
	if !s.live(e, now.UnixNano()) {
		return nil, nil
	}
	if e.sess != nil {
		return e.sess, nil
	}
	// Written through the scs interface: decode it on the way out.
	sess, err := sessionauth.DecodeSession(string(key[:]), e.data, time.Unix(0, e.expiry))
	if err != nil {
		return nil, nil
	}
	return sess, nil
}

// Get implements sessionauth.SessionStore.
func (s *Store) Get(_ context.Context, key string) ([]byte, time.Time, bool, error) {
	s.mu.RLock()
	e := s.items[key]
	s.mu.RUnlock()
	if !s.live(e, s.now().UnixNano()) {
		return nil, time.Time{}, false, nil
	}
	return e.data, time.Unix(0, e.expiry), true, nil
}

// Put implements sessionauth.SessionStore: it never shortens the expiry of a
// live record.
func (s *Store) Put(_ context.Context, key, userID string, data []byte, expiry time.Time) error {
	exp := expiry.UnixNano()
	s.mu.Lock()
	defer s.mu.Unlock()
	if old := s.items[key]; s.live(old, s.now().UnixNano()) && old.expiry > exp {
		exp = old.expiry
	}
	e := &entry{data: bytes.Clone(data), expiry: exp, userID: userID}
	e.sess, _ = sessionauth.DecodeSession(key, e.data, time.Unix(0, exp))
	s.setLocked(key, e)
	return nil
}

// Touch implements sessionauth.SessionStore.
func (s *Store) Touch(_ context.Context, key string, expiry time.Time) error {
	exp := expiry.UnixNano()
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.items[key]
	if !s.live(old, s.now().UnixNano()) || exp <= old.expiry {
		return nil
	}
	e := &entry{data: old.data, expiry: exp, userID: old.userID}
	if old.sess != nil {
		e.sess, _ = sessionauth.DecodeSession(key, e.data, time.Unix(0, exp))
	}
	s.items[key] = e
	return nil
}

// ListUser implements sessionauth.SessionStore.
func (s *Store) ListUser(_ context.Context, userID string) ([]sessionauth.Record, error) {
	now := s.now().UnixNano()
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []sessionauth.Record
	for key := range s.users[userID] {
		if e := s.items[key]; s.live(e, now) {
			out = append(out, sessionauth.Record{Key: key, Data: e.data, Expiry: time.Unix(0, e.expiry)})
		}
	}
	return out, nil
}

// DeleteUser implements sessionauth.SessionStore.
func (s *Store) DeleteUser(_ context.Context, userID, except string) (int, error) {
	now := s.now().UnixNano()
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for key := range s.users[userID] {
		if key == except {
			continue
		}
		e := s.items[key]
		if s.live(e, now) {
			n++
		}
		s.deleteLocked(key, e)
	}
	return n, nil
}

// Find implements scs.Store.
func (s *Store) Find(key string) ([]byte, bool, error) {
	data, _, found, err := s.Get(context.Background(), key)
	return data, found, err
}

// FindCtx implements scs.CtxStore.
func (s *Store) FindCtx(ctx context.Context, key string) ([]byte, bool, error) {
	data, _, found, err := s.Get(ctx, key)
	return data, found, err
}

// Commit implements scs.Store: it sets the data and expiry of key exactly,
// as scs expects, and the record belongs to no user.
func (s *Store) Commit(key string, data []byte, expiry time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.setLocked(key, &entry{data: bytes.Clone(data), expiry: expiry.UnixNano()})
	return nil
}

// CommitCtx implements scs.CtxStore.
func (s *Store) CommitCtx(_ context.Context, key string, data []byte, expiry time.Time) error {
	return s.Commit(key, data, expiry)
}

// Delete implements scs.Store. Deleting a missing key is not an error.
func (s *Store) Delete(key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.items[key]; ok {
		s.deleteLocked(key, e)
	}
	return nil
}

// DeleteCtx implements scs.CtxStore.
func (s *Store) DeleteCtx(_ context.Context, key string) error { return s.Delete(key) }

// All implements scs.IterableStore: every live record by key.
func (s *Store) All() (map[string][]byte, error) {
	now := s.now().UnixNano()
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make(map[string][]byte)
	for key, e := range s.items {
		if s.live(e, now) {
			out[key] = e.data
		}
	}
	return out, nil
}

// AllCtx implements scs.IterableCtxStore.
func (s *Store) AllCtx(context.Context) (map[string][]byte, error) { return s.All() }

func (s *Store) setLocked(key string, e *entry) {
	if old, ok := s.items[key]; ok && old.userID != e.userID {
		s.unindexLocked(key, old.userID)
	}
	s.items[key] = e
	if e.userID != "" {
		keys := s.users[e.userID]
		if keys == nil {
			keys = make(map[string]struct{})
			s.users[e.userID] = keys
		}
		keys[key] = struct{}{}
	}
}

func (s *Store) deleteLocked(key string, e *entry) {
	delete(s.items, key)
	if e != nil {
		s.unindexLocked(key, e.userID)
	}
}

func (s *Store) unindexLocked(key, userID string) {
	if userID == "" {
		return
	}
	if keys := s.users[userID]; keys != nil {
		delete(keys, key)
		if len(keys) == 0 {
			delete(s.users, userID)
		}
	}
}
