package storetest

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/sessionauth/sessionauth"
)

//go:generate go run gen_wrapper.go

// Op names a store method that a Wrapper intercepts. The plain scs form and
// the Ctx form of a method share one Op: Find covers Find and FindCtx.
type Op string

// The operations of a store, as a Wrapper names and counts them.
const (
	OpFind        Op = "Find"   // Find, FindCtx
	OpCommit      Op = "Commit" // Commit, CommitCtx
	OpDelete      Op = "Delete" // Delete, DeleteCtx
	OpAll         Op = "All"    // All, AllCtx
	OpGet         Op = "Get"
	OpPut         Op = "Put"
	OpUpdate      Op = "Update"
	OpTouch       Op = "Touch"
	OpRename      Op = "Rename"
	OpListUser    Op = "ListUser"
	OpDeleteUser  Op = "DeleteUser"
	OpLoadSession Op = "LoadSession"
)

// writeOps are the operations that write a record's data or expiry.
var writeOps = []Op{OpCommit, OpPut, OpUpdate, OpTouch, OpRename}

// Call is one call of a store method as a Hook sees it. Before the store
// answers it holds the arguments; after, the results too. A hook may change
// either: a Before hook the arguments the store receives (Ctx, Data,
// Expiry), an After hook the results the caller receives.
type Call struct {
	Op Op
	// Ctx is the call's context: context.Background() for a plain scs
	// method, which takes none.
	Ctx context.Context
	// Key is the record's key: the old key of Rename, the hex of the hash
	// of LoadSession, the except key of DeleteUser; "" for All and
	// ListUser. It is secret: never log it.
	Key string
	// NewKey is Rename's new key.
	NewKey string
	// UserID is the user of Put, ListUser and DeleteUser.
	UserID string
	// Data is the data written (Commit, Put, Update) or read (Find, Get).
	Data []byte
	// Expiry is the expiry written (Commit, Put, Update, Touch) or read
	// (Get).
	Expiry time.Time
	// Now is LoadSession's instant.
	Now time.Time

	// Found is the found result of Find and Get.
	Found bool
	// OK is the result of Update (updated) and Rename (renamed).
	OK bool
	// N is DeleteUser's count.
	N int
	// Records is ListUser's result.
	Records []sessionauth.Record
	// All is All's result.
	All map[string][]byte
	// Session is LoadSession's result.
	Session *sessionauth.Session
	// Err is the error the caller receives: the store's, or a Before
	// hook's, in which case the store was not called.
	Err error
}

// Hook runs around the calls of one Op. Before runs before the store is
// called; an error from it fails the call with that error and the store is
// not called. After runs once the call is answered (by the store or by a
// Before hook's error) and may change its results. Hooks run on the
// caller's goroutine, so one that blocks blocks the call. Either may be nil.
type Hook struct {
	Before func(c *Call) error
	After  func(c *Call)
}

// Wrapper wraps a store to watch and break it in tests: it counts the calls
// of every operation, and runs hooks that can pause a call, fail it, hang it
// until its context ends, or corrupt what it returns. Every store's tests
// use it, as does the conformance suite to force the interleavings that a
// store must survive.
//
//	w := storetest.Wrap(store)
//	w.Fail(storetest.OpTouch, errors.New("disk full"))
//	m, _ := sessionauth.New(sessionauth.Config{Store: w.Store()})
//
// Store returns the wrapped store. It implements exactly the interfaces of
// the store it wraps, among sessionauth.Store, CtxStore, SessionStore,
// IterableStore, IterableCtxStore, SessionLoader and CheckedStore, so a
// Manager over it takes the same paths as over the store itself. It never
// implements sessionauth.NonBlockingStore, even over one: a wrapped call may
// hang, so the Manager must bound it with its StoreTimeout. A store's other
// methods (Close, Sweep) are not wrapped; call them on the store.
//
// A Wrapper is safe for concurrent use; hooks may be added and removed
// while calls run.
type Wrapper struct {
	inner sessionauth.Store
	outer sessionauth.Store

	mu     sync.Mutex
	hooks  map[Op][]*Hook
	counts map[Op]int
}

// Wrap returns a Wrapper around store, with no hook.
func Wrap(store sessionauth.Store) *Wrapper {
	w := &Wrapper{inner: store, hooks: make(map[Op][]*Hook), counts: make(map[Op]int)}
	w.outer = w.view()
	return w
}

// Store returns the wrapped store, the one to hand to a Manager.
func (w *Wrapper) Store() sessionauth.Store { return w.outer }

// Unwrap returns the store that w wraps.
func (w *Wrapper) Unwrap() sessionauth.Store { return w.inner }

// On runs h around every call of op from now on, after the hooks added
// before it, until remove is called.
func (w *Wrapper) On(op Op, h Hook) (remove func()) {
	hp := &h
	w.mu.Lock()
	w.hooks[op] = append(w.hooks[op], hp)
	w.mu.Unlock()
	return func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		hs := w.hooks[op]
		for i, x := range hs {
			if x == hp {
				// A fresh slice: a call in flight keeps iterating the old one.
				w.hooks[op] = append(hs[:i:i], hs[i+1:]...)
				return
			}
		}
	}
}

// Fail makes every call of the ops fail with err, without reaching the
// store, until remove is called.
func (w *Wrapper) Fail(err error, ops ...Op) (remove func()) {
	return w.onEach(ops, Hook{Before: func(*Call) error { return err }})
}

// Hang makes every call of the ops wait, without reaching the store, until
// its context ends, and then fail with the context's error: a store that
// does not answer. A plain scs method has no context and waits until
// release is called, after which every call (waiting or new) goes to the
// store again. Call release before the test ends.
func (w *Wrapper) Hang(ops ...Op) (release func()) {
	done := make(chan struct{})
	remove := w.onEach(ops, Hook{Before: func(c *Call) error {
		select {
		case <-c.Ctx.Done():
			return c.Ctx.Err()
		case <-done:
			return nil
		}
	}})
	var once sync.Once
	return func() { once.Do(func() { remove(); close(done) }) }
}

// Corrupt makes the ops that read records return them with their data
// replaced by corrupt(data): Find, Get, All and ListUser. LoadSession, which
// returns decoded sessions, instead fails as a store must for a record that
// does not decode: with an error wrapping sessionauth.ErrCorruptRecord. It
// lasts until remove is called.
func (w *Wrapper) Corrupt(corrupt func(data []byte) []byte, ops ...Op) (remove func()) {
	return w.onEach(ops, Hook{After: func(c *Call) {
		if c.Err != nil {
			return
		}
		switch c.Op {
		case OpFind, OpGet:
			if c.Found {
				c.Data = corrupt(c.Data)
			}
		case OpAll:
			all := make(map[string][]byte, len(c.All))
			for k, v := range c.All {
				all[k] = corrupt(v)
			}
			c.All = all
		case OpListUser:
			rs := make([]sessionauth.Record, len(c.Records))
			for i, r := range c.Records {
				r.Data = corrupt(r.Data)
				rs[i] = r
			}
			c.Records = rs
		case OpLoadSession:
			if c.Session != nil {
				c.Session = nil
				c.Err = fmt.Errorf("storetest: injected corrupt record: %w", sessionauth.ErrCorruptRecord)
			}
		}
	}})
}

func (w *Wrapper) onEach(ops []Op, h Hook) (remove func()) {
	removes := make([]func(), len(ops))
	for i, op := range ops {
		removes[i] = w.On(op, h)
	}
	return func() {
		for _, r := range removes {
			r()
		}
	}
}

// Pause holds one call of a store at a point of the caller's choosing until
// the test releases it: the way to force an interleaving.
type Pause struct {
	reached chan struct{}
	release chan struct{}
	relOnce sync.Once
	remove  func()
}

// PauseBefore holds the next call of any of ops on key ("": on any key)
// before it reaches the store, until Release. Only that one call is held;
// the calls after it pass. The hold ignores the call's context, so that a
// slow test cannot turn a pause into a timeout; Release in a t.Cleanup so
// that a failed test does not leave a call held.
func (w *Wrapper) PauseBefore(key string, ops ...Op) *Pause {
	return w.pause(key, ops, true)
}

// PauseAfter is PauseBefore, but holds the call after the store answered
// and before the caller sees the answer: between a read and the write that
// follows it.
func (w *Wrapper) PauseAfter(key string, ops ...Op) *Pause {
	return w.pause(key, ops, false)
}

func (w *Wrapper) pause(key string, ops []Op, before bool) *Pause {
	p := &Pause{reached: make(chan struct{}), release: make(chan struct{})}
	var mu sync.Mutex
	taken := false
	hold := func(c *Call) {
		if key != "" && c.Key != key {
			return
		}
		mu.Lock()
		first := !taken
		taken = true
		mu.Unlock()
		if !first {
			return
		}
		close(p.reached)
		<-p.release
	}
	h := Hook{After: hold}
	if before {
		h = Hook{Before: func(c *Call) error { hold(c); return nil }}
	}
	p.remove = w.onEach(ops, h)
	return p
}

// Reached is closed once the paused call is held.
func (p *Pause) Reached() <-chan struct{} { return p.reached }

// Release lets the held call go on, and lets every later call pass. It may
// be called more than once, and before the call is reached.
func (p *Pause) Release() {
	p.relOnce.Do(func() {
		p.remove()
		close(p.release)
	})
}

// Calls returns how many calls of op the store received, counting those
// that a hook failed.
func (w *Wrapper) Calls(op Op) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.counts[op]
}

// Writes returns how many calls wrote a record's data or expiry: Commit,
// Put, Update, Touch and Rename. Deletes are not writes here.
func (w *Wrapper) Writes() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, op := range writeOps {
		n += w.counts[op]
	}
	return n
}

// ResetCalls sets every count back to zero.
func (w *Wrapper) ResetCalls() {
	w.mu.Lock()
	defer w.mu.Unlock()
	clear(w.counts)
}

// do counts c, runs its hooks, and calls the store with call unless a
// Before hook failed it.
func (w *Wrapper) do(c *Call, call func(c *Call) error) {
	w.mu.Lock()
	w.counts[c.Op]++
	hooks := w.hooks[c.Op]
	w.mu.Unlock()
	for _, h := range hooks {
		if h.Before == nil {
			continue
		}
		if c.Err = h.Before(c); c.Err != nil {
			break
		}
	}
	if c.Err == nil {
		c.Err = call(c)
	}
	for _, h := range hooks {
		if h.After != nil {
			h.After(c)
		}
	}
}
