package memstore

import (
	"encoding/binary"
	"sync/atomic"
)

// table is an open-addressing hash table (linear probing) of the entries
// whose key is a lowercase hex SHA-256, which is every key a Manager writes.
// It holds the 32 bytes rather than the 64 characters, and it is read without
// a lock: slots are atomic pointers to immutable entries, and a writer that
// needs a larger table builds a new one and publishes it whole, so a reader
// sees either table complete. Readers therefore never contend with each other
// for a cache line, however many cores authenticate at once. Writers hold
// Store.mu.
type table struct {
	slots []atomic.Pointer[entry]
	mask  uint64 // len(slots)-1; len(slots) is a power of two
	seed  uint64
}

// tombstone marks the slot of a deleted entry, so that probes for the keys
// placed after it go on past it. Compared by identity, never by key.
var tombstone = new(entry)

const (
	minTableSize = 16
	// A table is rebuilt when more than maxLoadNum/maxLoadDen of its slots
	// hold an entry or a tombstone, so that a probe always ends at an
	// empty slot, and soon.
	maxLoadNum, maxLoadDen = 3, 4
)

func newTable(size int, seed uint64) *table {
	return &table{slots: make([]atomic.Pointer[entry], size), mask: uint64(size - 1), seed: seed}
}

// start is where the probe for h begins. A Manager's keys are hashes of
// random tokens already, but an application may write hex keys of its own
// that are not random, so every byte of the key is mixed, with a per-store
// seed, rather than its first bytes taken as they are. Keys are never chosen
// by clients, so this needs no cryptographic strength, only speed.
func (t *table) start(h *[32]byte) uint64 {
	const m1, m2 = 0xbf58476d1ce4e5b9, 0x94d049bb133111eb
	x := (binary.LittleEndian.Uint64(h[0:]) ^ t.seed) * m1
	x = (x ^ binary.LittleEndian.Uint64(h[8:])) * m2
	x = (x ^ binary.LittleEndian.Uint64(h[16:])) * m1
	x = (x ^ binary.LittleEndian.Uint64(h[24:])) * m2
	return (x ^ x>>32) & t.mask
}

// find returns the entry under h, or nil. It is safe without any lock.
func (t *table) find(h *[32]byte) *entry {
	for i := t.start(h); ; i = (i + 1) & t.mask {
		e := t.slots[i].Load()
		if e == nil {
			return nil
		}
		if e != tombstone && e.hash == *h {
			return e
		}
	}
}

// tableSize is the smallest table size that holds n entries below the
// maximum load with room to grow.
func tableSize(n int) int {
	size := minTableSize
	for size*maxLoadNum/maxLoadDen < 2*n {
		size *= 2
	}
	return size
}

// setLocked stores e under key, replacing any entry there, and keeps the
// per-user indexes in step.
func (s *Store) setLocked(key string, e *entry) {
	h, hashed := parseKey(key)
	if !hashed {
		s.setOtherLocked(key, e)
		return
	}
	e.hash = h
	old := s.putHashedLocked(e)
	if old != nil && old.userID == e.userID {
		return
	}
	if old != nil {
		s.unindexLocked(old.userID, &h)
	}
	if e.userID != "" {
		s.users[e.userID] = append(s.users[e.userID], h)
	}
}

// putHashedLocked stores e in the table under e.hash and returns the entry
// it replaced, if any.
func (s *Store) putHashedLocked(e *entry) *entry {
	t := s.hashed.Load()
	free := -1
	i := t.start(&e.hash)
	for ; ; i = (i + 1) & t.mask {
		cur := t.slots[i].Load()
		if cur == nil {
			break
		}
		if cur == tombstone {
			if free < 0 {
				free = int(i)
			}
			continue
		}
		if cur.hash == e.hash {
			t.slots[i].Store(e)
			return cur
		}
	}
	// A new key: the first tombstone on its probe, or the empty slot
	// that ended it. Either is where a probe for it will look first.
	if free >= 0 {
		t.slots[free].Store(e)
	} else {
		t.slots[i].Store(e)
		s.used++
	}
	s.count++
	if s.used*maxLoadDen > len(t.slots)*maxLoadNum {
		s.rehashLocked(tableSize(s.count))
	}
	return nil
}

// deleteHashedLocked removes the entry under h from the table and returns
// it, or nil if there is none. It leaves the user index to the caller.
func (s *Store) deleteHashedLocked(h *[32]byte) *entry {
	t := s.hashed.Load()
	for i := t.start(h); ; i = (i + 1) & t.mask {
		cur := t.slots[i].Load()
		if cur == nil {
			return nil
		}
		if cur != tombstone && cur.hash == *h {
			t.slots[i].Store(tombstone)
			s.count--
			return cur
		}
	}
}

// rehashLocked publishes a table of size slots holding the live entries of
// the current one and no tombstones. Readers go on with whichever table they
// loaded: both hold the same entries.
func (s *Store) rehashLocked(size int) {
	old := s.hashed.Load()
	t := newTable(size, old.seed)
	for i := range old.slots {
		e := old.slots[i].Load()
		if e == nil || e == tombstone {
			continue
		}
		j := t.start(&e.hash)
		for t.slots[j].Load() != nil {
			j = (j + 1) & t.mask
		}
		t.slots[j].Store(e)
	}
	s.used = s.count
	s.hashed.Store(t)
}

// unindexLocked removes h from the keys of userID. A user holds few keys, so
// a scan is cheap; Sweep and DeleteUser, which remove many, do not use it.
func (s *Store) unindexLocked(userID string, h *[32]byte) {
	if userID == "" {
		return
	}
	keys := s.users[userID]
	for i := range keys {
		if keys[i] == *h {
			keys[i] = keys[len(keys)-1]
			s.setUserKeysLocked(userID, keys[:len(keys)-1])
			return
		}
	}
}

func (s *Store) setUserKeysLocked(userID string, keys [][32]byte) {
	if len(keys) == 0 {
		delete(s.users, userID)
		return
	}
	s.users[userID] = keys
}

// setOtherLocked is setLocked for a key that is not a hex SHA-256.
func (s *Store) setOtherLocked(key string, e *entry) {
	old := s.other[key]
	if old != nil && old.userID != e.userID {
		s.unindexOtherLocked(key, old.userID)
	}
	s.other[key] = e
	if e.userID != "" {
		keys := s.otherUsers[e.userID]
		if keys == nil {
			keys = make(map[string]struct{})
			s.otherUsers[e.userID] = keys
		}
		keys[key] = struct{}{}
	}
}

func (s *Store) deleteOtherLocked(key string, e *entry) {
	delete(s.other, key)
	if e != nil {
		s.unindexOtherLocked(key, e.userID)
	}
}

func (s *Store) unindexOtherLocked(key, userID string) {
	if userID == "" {
		return
	}
	if keys := s.otherUsers[userID]; keys != nil {
		delete(keys, key)
		if len(keys) == 0 {
			delete(s.otherUsers, userID)
		}
	}
}
