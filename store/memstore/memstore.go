// Package memstore is an in-memory session store: the default for tests and
// for applications that run as a single process and accept that a restart
// signs everybody out.
//
//	store := memstore.New(memstore.Config{})
//	defer store.Close()
//	m, err := sessionauth.New(sessionauth.Config{Store: store})
//
// It implements every capability a sessionauth.Manager can use
// (sessionauth.SessionStore and the sessionauth.SessionLoader fast path, which
// hands back already decoded sessions so that authenticating a request takes
// no lock and allocates nothing), and it is also an scs store (scs.Store,
// scs.CtxStore, scs.IterableStore, scs.IterableCtxStore) for applications of
// github.com/alexedwards/scs/v2.
//
// # Memory
//
// A stored session costs its encoded record plus a fixed overhead; one in use
// also keeps its decoded form from its first request after a write until the
// next sweep, so that later requests need not decode it again. BENCHMARKS.md
// gives the bytes per session that BenchmarkLookup in this package measures.
//
// Expired sessions are invisible as soon as they expire; a background sweep
// only reclaims their memory, and stops on Close.
package memstore

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sessionauth/sessionauth"
	"github.com/sessionauth/sessionauth/internal/scsforward"
	"github.com/sessionauth/sessionauth/internal/sweeper"
	"github.com/sessionauth/sessionauth/internal/unixnano"
)

// Config configures a Store. The zero value means the defaults.
type Config struct {
	// SweepInterval is how often expired sessions are deleted to free
	// memory. A negative value disables the background sweep (call Sweep
	// yourself). Default: one minute (DefaultSweepInterval).
	SweepInterval time.Duration

	// Now is the clock that decides expiry. Default: time.Now.
	Now func() time.Time
}

// DefaultSweepInterval is the default of Config.SweepInterval.
const DefaultSweepInterval = time.Minute

// Store is an in-memory session store. It is safe for concurrent use. Call
// Close to stop its sweep goroutine.
//
// Authenticating a request (LoadSession, and Get of a Manager's key) takes
// no lock, so it scales with the cores; writes take turns.
//
// Find, Commit, Delete and All (scs.Store, scs.IterableStore) are FindCtx,
// CommitCtx, DeleteCtx and AllCtx without a deadline. Every method of a zero
// Store fails with ErrNotBuilt. A nil *Store is not a store: sessionauth.New
// refuses it, and its scs methods without a context panic.
type Store struct {
	scsMethods

	now func() time.Time

	// hashed holds the records whose key is a lowercase hex SHA-256, keyed
	// by the 32 bytes. The pointer is read without a lock; mu guards
	// writing it and the table it points to.
	hashed atomic.Pointer[table]

	mu         sync.RWMutex
	count      int                            // entries in the table, expired ones not yet swept included
	used       int                            // slots of the table holding an entry or a tombstone
	users      map[string][][32]byte          // user ID -> keys in the table
	other      map[string]*entry              // every other key (an scs application's) -> entry
	otherUsers map[string]map[string]struct{} // user ID -> keys in other

	sweeper *sweeper.Loop
}

// entry is one stored record. Entries are never modified once published: a
// write replaces the entry, so readers need no lock to use one. The one
// exception is sess, a cache that readers fill.
type entry struct {
	hash   [32]byte // the key, for entries of the table
	expiry int64    // Unix ns; the entry is live strictly before it
	userID string   // "" for a record written through the scs interface
	data   string   // a string, 8 bytes smaller than a slice: Get copies it out
	// sess is data decoded, set by the first LoadSession after the write
	// (undecodable if data is not a session record) and dropped by Sweep:
	// the store keeps the decoded form only of the sessions in use.
	sess atomic.Pointer[sessionauth.Session]
}

// scsMethods gives Store scs's methods without a context; the alias keeps the
// embedded field unexported.
type scsMethods = scsforward.Methods[*Store]

// undecodable is the cached decoded form of data that is not a session
// record, such as an scs application's.
var undecodable = new(sessionauth.Session)

var (
	_ sessionauth.SessionStore     = (*Store)(nil)
	_ sessionauth.SessionLoader    = (*Store)(nil)
	_ sessionauth.IterableStore    = (*Store)(nil)
	_ sessionauth.IterableCtxStore = (*Store)(nil)
	_ sessionauth.NonBlockingStore = (*Store)(nil)
	_ sessionauth.CheckedStore     = (*Store)(nil)
)

// ErrNotBuilt is the error of every method of a Store that New did not
// build (a zero value, or a nil pointer except for the scs methods without a
// context), which fails instead of panicking.
var ErrNotBuilt = errors.New("memstore: Store not built by New")

// built reports whether s was built by a constructor: the zero Store and a
// nil *Store have no table.
func (s *Store) built() bool { return s != nil && s.hashed.Load() != nil }

// Check implements sessionauth.CheckedStore: it fails for a Store that no
// constructor built.
func (s *Store) Check() error {
	if !s.built() {
		return ErrNotBuilt
	}
	return nil
}

// NeverBlocks implements sessionauth.NonBlockingStore: every call is a
// memory access under at most a short lock, so the Manager does not time it.
func (s *Store) NeverBlocks() {}

// New returns a Store configured by cfg, whose background sweep runs until
// Close.
//
//	store := memstore.New(memstore.Config{})
func New(cfg Config) *Store {
	s := &Store{
		now:        cfg.Now,
		users:      make(map[string][][32]byte),
		other:      make(map[string]*entry),
		otherUsers: make(map[string]map[string]struct{}),
	}
	s.scsMethods = scsMethods{S: s}
	s.hashed.Store(newTable(minTableSize, rand.Uint64()))
	if s.now == nil {
		s.now = time.Now
	}
	interval := cfg.SweepInterval
	if interval == 0 {
		interval = DefaultSweepInterval
	}
	// A memory sweep cannot fail: there is nothing to report.
	s.sweeper = sweeper.Start(interval, s.Sweep, nil)
	return s
}

// Close stops the background sweep and waits for it to exit. The store stays
// usable. Close is idempotent.
func (s *Store) Close() error {
	if !s.built() {
		return ErrNotBuilt
	}
	s.sweeper.Stop()
	return nil
}

// Sweep deletes every expired session now and reports how many it deleted,
// and drops the decoded form of every other session, which its next request
// decodes again. It only frees memory: expired sessions are already
// invisible. It holds up writes, not reads, while it runs, and never fails
// but on a Store that New did not build. ctx is unused: Sweep never blocks
// on I/O.
func (s *Store) Sweep(_ context.Context) (int, error) {
	if !s.built() {
		return 0, ErrNotBuilt
	}
	now := s.now().UnixNano()
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.hashed.Load()
	n := 0
	dirty := make(map[string]struct{})
	for i := range t.slots {
		e := t.slots[i].Load()
		switch {
		case e == nil || e == tombstone:
		case e.expiry <= now:
			t.slots[i].Store(tombstone)
			s.count--
			if e.userID != "" {
				dirty[e.userID] = struct{}{}
			}
			n++
		case e.sess.Load() != nil:
			// Drop the decoded form: a session in use decodes again on
			// its next request, one idle since the last sweep costs only
			// its record until it is used again.
			e.sess.Store(nil)
		}
	}
	// Dropping keys user by user, not one key at a time, keeps a sweep
	// linear however many sessions a user had.
	for userID := range dirty {
		keys := s.users[userID][:0]
		for _, h := range s.users[userID] {
			if e := t.find(&h); e != nil && e.userID == userID {
				keys = append(keys, h)
			}
		}
		s.setUserKeysLocked(userID, keys)
	}
	for key, e := range s.other {
		if e.expiry <= now {
			s.deleteOtherLocked(key, e)
			n++
		}
	}
	// Shrink a table that the sweep left mostly empty, and drop the
	// tombstones of a table that the sweep left cluttered.
	if size := tableSize(s.count); size < len(t.slots)/4 || (s.used-s.count)*4 > len(t.slots) {
		s.rehashLocked(size)
	}
	return n, nil
}

// Len returns the number of stored records, expired ones not yet swept
// included.
func (s *Store) Len() int {
	if !s.built() {
		return 0
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.count + len(s.other)
}

// parseKey returns the 32 bytes of key if key is 64 lowercase hex digits,
// the form of every key a Manager writes. Other keys are kept as strings, so
// that a key reads back exactly as it was written.
func parseKey(key string) (h [32]byte, ok bool) {
	if len(key) != 64 {
		return h, false
	}
	for i := range h {
		hi, ok1 := hexValue(key[2*i])
		lo, ok2 := hexValue(key[2*i+1])
		if !ok1 || !ok2 {
			return h, false
		}
		h[i] = hi<<4 | lo
	}
	return h, true
}

func hexValue(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

// lookup returns the entry under key, live or not, or nil.
func (s *Store) lookup(key string) *entry {
	if h, ok := parseKey(key); ok {
		return s.hashed.Load().find(&h)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.other[key]
}

// lookupLocked is lookup for a holder of mu.
func (s *Store) lookupLocked(key string) *entry {
	if h, ok := parseKey(key); ok {
		return s.hashed.Load().find(&h)
	}
	return s.other[key]
}

func live(e *entry, now int64) bool { return e != nil && now < e.expiry }

// LoadSession implements sessionauth.SessionLoader: the decoded session
// stored under the hex of hash, expired or not, or nil. It takes no lock and,
// but for the first call after a write or a sweep, which decodes the record,
// does not allocate. A record under that key that is not a session record is
// an error wrapping sessionauth.ErrCorruptRecord.
func (s *Store) LoadSession(_ context.Context, hash [32]byte, _ time.Time) (*sessionauth.Session, error) {
	if s == nil {
		return nil, ErrNotBuilt
	}
	t := s.hashed.Load()
	if t == nil {
		return nil, ErrNotBuilt
	}
	e := t.find(&hash)
	if e == nil {
		return nil, nil
	}
	sess := e.sess.Load()
	if sess == nil {
		sess = e.decode()
	}
	if sess == undecodable {
		return nil, errUndecodable
	}
	return sess, nil
}

// errUndecodable is LoadSession's error for a record under a key of the
// Manager's shape that is not a session record; the Manager logs it and
// treats the session as absent.
var errUndecodable = fmt.Errorf("memstore: record is not a session: %w", sessionauth.ErrCorruptRecord)

// decode decodes e's record and caches the result in e. Concurrent callers
// may both decode; the first to store wins and the others return its
// session, so every request sees the same *Session until the next write or
// sweep. It never returns nil, even when a sweep drops the cache meanwhile.
func (e *entry) decode() *sessionauth.Session {
	sess, err := sessionauth.DecodeSession(hex.EncodeToString(e.hash[:]), []byte(e.data), unixnano.Time(e.expiry))
	if err != nil {
		sess = undecodable
	}
	if !e.sess.CompareAndSwap(nil, sess) {
		// Another caller stored first; unless a sweep has dropped it
		// since, return that one.
		if cur := e.sess.Load(); cur != nil {
			return cur
		}
	}
	return sess
}

// Get implements sessionauth.SessionStore: the record under key until a
// sweep drops it, expired or not. The data is a copy.
func (s *Store) Get(_ context.Context, key string) ([]byte, time.Time, bool, error) {
	if !s.built() {
		return nil, time.Time{}, false, ErrNotBuilt
	}
	e := s.lookup(key)
	if e == nil {
		return nil, time.Time{}, false, nil
	}
	return []byte(e.data), unixnano.Time(e.expiry), true, nil
}

// Put implements sessionauth.SessionStore: it never shortens the expiry of a
// live record.
func (s *Store) Put(_ context.Context, key, userID string, data []byte, expiry time.Time) error {
	if !s.built() {
		return ErrNotBuilt
	}
	exp := unixnano.From(expiry)
	s.mu.Lock()
	defer s.mu.Unlock()
	if old := s.lookupLocked(key); live(old, s.now().UnixNano()) && old.expiry > exp {
		exp = old.expiry
	}
	s.setLocked(key, &entry{data: string(data), expiry: exp, userID: userID})
	return nil
}

// Update implements sessionauth.SessionStore: under the write lock, it
// replaces the data of a live record and keeps the later expiry.
func (s *Store) Update(_ context.Context, key string, data []byte, expiry time.Time) (bool, error) {
	if !s.built() {
		return false, ErrNotBuilt
	}
	exp := unixnano.From(expiry)
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.lookupLocked(key)
	if !live(old, s.now().UnixNano()) {
		return false, nil
	}
	s.setLocked(key, &entry{data: string(data), expiry: max(exp, old.expiry), userID: old.userID})
	return true, nil
}

// Rename implements sessionauth.SessionStore: under the write lock, it moves
// a live record and its place in its user's index to newKey.
func (s *Store) Rename(_ context.Context, oldKey, newKey string) (bool, error) {
	if !s.built() {
		return false, ErrNotBuilt
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.lookupLocked(oldKey)
	if !live(old, s.now().UnixNano()) {
		return false, nil
	}
	s.deleteLocked(oldKey)
	s.setLocked(newKey, &entry{data: old.data, expiry: old.expiry, userID: old.userID})
	return true, nil
}

// Touch implements sessionauth.SessionStore.
func (s *Store) Touch(_ context.Context, key string, expiry time.Time) error {
	if !s.built() {
		return ErrNotBuilt
	}
	exp := unixnano.From(expiry)
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.lookupLocked(key)
	if !live(old, s.now().UnixNano()) || exp <= old.expiry {
		return nil
	}
	s.setLocked(key, &entry{data: old.data, expiry: exp, userID: old.userID})
	return nil
}

// ListUser implements sessionauth.SessionStore.
func (s *Store) ListUser(_ context.Context, userID string) ([]sessionauth.Record, error) {
	if !s.built() {
		return nil, ErrNotBuilt
	}
	now := s.now().UnixNano()
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []sessionauth.Record
	t := s.hashed.Load()
	for _, h := range s.users[userID] {
		if e := t.find(&h); live(e, now) {
			out = append(out, record(hex.EncodeToString(h[:]), e))
		}
	}
	for key := range s.otherUsers[userID] {
		if e := s.other[key]; live(e, now) {
			out = append(out, record(key, e))
		}
	}
	return out, nil
}

func record(key string, e *entry) sessionauth.Record {
	return sessionauth.Record{Key: key, Data: []byte(e.data), Expiry: unixnano.Time(e.expiry)}
}

// DeleteUser implements sessionauth.SessionStore.
func (s *Store) DeleteUser(_ context.Context, userID, except string) (int, error) {
	if !s.built() {
		return 0, ErrNotBuilt
	}
	now := s.now().UnixNano()
	keep, keepHashed := parseKey(except)
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	if keys, ok := s.users[userID]; ok {
		var kept [][32]byte
		for _, h := range keys {
			if keepHashed && h == keep {
				kept = append(kept, h)
				continue
			}
			if e := s.deleteHashedLocked(&h); live(e, now) {
				n++
			}
		}
		s.setUserKeysLocked(userID, kept)
	}
	for key := range s.otherUsers[userID] {
		if key == except {
			continue
		}
		e := s.other[key]
		if live(e, now) {
			n++
		}
		s.deleteOtherLocked(key, e)
	}
	return n, nil
}

// FindCtx implements scs.CtxStore: the data of a live record. Unlike Get,
// it reports an expired record as missing, as scs expects.
func (s *Store) FindCtx(ctx context.Context, key string) ([]byte, bool, error) {
	data, exp, found, err := s.Get(ctx, key)
	if !found || !s.now().Before(exp) {
		return nil, false, err
	}
	return data, true, nil
}

// CommitCtx implements scs.CtxStore: it sets the data and expiry of key
// exactly, as scs expects, and the record belongs to no user.
func (s *Store) CommitCtx(_ context.Context, key string, data []byte, expiry time.Time) error {
	if !s.built() {
		return ErrNotBuilt
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.setLocked(key, &entry{data: string(data), expiry: unixnano.From(expiry)})
	return nil
}

// DeleteCtx implements scs.CtxStore. Deleting a missing key is not an
// error.
func (s *Store) DeleteCtx(_ context.Context, key string) error {
	if !s.built() {
		return ErrNotBuilt
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deleteLocked(key)
	return nil
}

// deleteLocked removes key and its place in its user's index.
func (s *Store) deleteLocked(key string) {
	if h, ok := parseKey(key); ok {
		if e := s.deleteHashedLocked(&h); e != nil {
			s.unindexLocked(e.userID, &h)
		}
	} else if e, ok := s.other[key]; ok {
		s.deleteOtherLocked(key, e)
	}
}

// AllCtx implements scs.IterableCtxStore: every live record by key.
func (s *Store) AllCtx(context.Context) (map[string][]byte, error) {
	if !s.built() {
		return nil, ErrNotBuilt
	}
	now := s.now().UnixNano()
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make(map[string][]byte)
	t := s.hashed.Load()
	for i := range t.slots {
		if e := t.slots[i].Load(); e != nil && e != tombstone && live(e, now) {
			out[hex.EncodeToString(e.hash[:])] = []byte(e.data)
		}
	}
	for key, e := range s.other {
		if live(e, now) {
			out[key] = []byte(e.data)
		}
	}
	return out, nil
}
