// Package storetest is the conformance suite of session stores: what a store
// must do for a sessionauth.Manager (and an scs application) to be correct on
// it. Every store of this module passes it, and so must a third-party store.
//
// A store's test calls Run with a factory that returns a fresh, empty store
// for each subtest:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T, clock *storetest.Clock) storetest.Harness {
//			s, err := mystore.New(mystore.Config{Now: clock.Now, SweepInterval: time.Hour})
//			require.NoError(t, err)
//			return storetest.Harness{Store: s, Sweep: s.Sweep, Close: s.Close}
//		})
//	}
//
// What runs depends on what the store is, detected by type assertion:
//
//   - every store (a plain scs store is enough) runs the core: Find, Commit
//     and Delete, Commit overwriting exactly, expiry, an scs application
//     over HTTP, and the Manager on top: create, authenticate and revoke;
//     expiry judged to the nanosecond at the idle and the absolute deadline;
//     a session refused as expired deleted, so that a clock stepped back
//     cannot revive it; and no store write within TouchInterval of Create;
//   - a store that is not a sessionauth.SessionStore (a plain scs store)
//     also checks that the Manager never rewrites what it read there:
//     SetValues and Rotate fail with sessionauth.ErrNotSupported, and
//     authentication never writes, so use does not extend a session;
//   - a sessionauth.CtxStore runs the core through its Ctx methods. The
//     suite calls the Ctx form of every method a store has one of, and the
//     plain forms of a CtxStore only when it is also a SessionStore (some
//     scs stores, such as goredisstore, panic in their plain forms);
//   - a sessionauth.IterableStore or IterableCtxStore runs All (AllCtx
//     when the store has it), and the Manager's listing and per-user
//     revocation through it;
//   - a sessionauth.SessionStore runs everything: Get (which hands back a
//     record it still holds after its expiry, with that expiry), Put that
//     never shortens a session, Touch, Update and Rename that never create
//     and only move an expiry forward, the per-user index and DeleteUser
//     atomic with Rename, SetValues and Rotate, the concurrent cases (touch
//     against update, touch against delete, revoke against authenticate),
//     no write within TouchInterval of another Manager's touch, and the
//     revocation cases: every read-then-write of the Manager (SetValues,
//     Rotate, a request's touch) paused between its read and its write
//     while Revoke, RevokeID or RevokeUser runs on another Manager, a
//     rotation paused after its rename, a revocation of a session rotated
//     before it, and the same pairs raced freely for thousands of rounds
//     on an in-memory store (a sessionauth.NonBlockingStore), hundreds on
//     others, fewer with -short, where not one session may survive;
//   - a SessionStore that is also a sessionauth.SessionLoader runs
//     LoadSession against Get: the same session, a held expired session
//     with its expiry, every write seen at once by every caller, and no
//     session from a record that does not decode;
//   - a Harness with Sweep runs the sweep tests, and every store runs the
//     check that Close leaves no goroutine behind;
//   - a Harness with Peer runs the multi-instance tests: two Managers, each
//     on its own instance of the store and its own clock, behind real HTTP
//     listeners, as two processes of one application would be.
//
// The interleavings are forced with Wrapper, which wraps any store, keeps
// exactly its interfaces, counts its calls and runs hooks that pause, fail,
// hang or corrupt them; a store's own tests use it for the same purposes.
//
// Stores whose clock cannot be injected (a Redis server expires keys by its
// own clock, a database may use now()) set Harness.WallClock: the suite then
// skips the tests that need to move the store's time to an exact instant and
// checks expiry with deadlines an hour in the past or the future instead;
// the Manager-level expiry tests still run, on a clock of the Manager's own.
// A store that drops expired records by itself (Redis, by TTL) sets
// Harness.DropsExpired.
//
// A store that talks to a server also calls RunOutage with the store behind
// something the test can cut (a TCP proxy), to check that an outage is
// answered with 503 and that the Manager recovers without a restart.
//
// Times in the suite are whole milliseconds, so a store may keep expiries to
// the millisecond (Redis PEXPIREAT, PostgreSQL timestamptz); a store that
// keeps them to the nanosecond says so with Harness.Nanoseconds. A test that
// needs a capability the store lacks is skipped with the reason, so `go test
// -v` shows what a store was not checked for.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionauth/sessionauth"
	"github.com/sessionauth/sessionauth/sessionauthtest"
)

// Harness is what a store's factory hands to Run for one subtest.
type Harness struct {
	// Store is the store under test: fresh, empty and not shared with any
	// other subtest. Required. It must be at least an scs store; the suite
	// runs more the more interfaces it implements (see the package doc).
	Store sessionauth.Store

	// WallClock reports that the store decides expiry by a clock the suite
	// cannot set (a server's, or the real time) instead of the Clock
	// passed to the factory. The suite then reads the Clock as the real
	// time, and skips the tests that move time to an exact instant.
	// Default: false, the store honours the Clock.
	WallClock bool

	// Nanoseconds reports that the store keeps an expiry to the
	// nanosecond, as a time.Time does, rather than to the millisecond. The
	// suite then also checks Get and the expiry instant at that resolution.
	// Default: false, millisecond expiries are enough.
	Nanoseconds bool

	// DropsExpired reports that the store may drop an expired record by
	// itself before any sweep (Redis expires keys by their TTL). The
	// suite then accepts that Get no longer finds a record once it has
	// expired, which the SessionStore contract allows. Default: false, the
	// store holds an expired record until it is deleted or swept, and Get
	// returns it with its past expiry.
	DropsExpired bool

	// Sweep, if set, deletes the records expired at the store's clock now
	// and reports how many it deleted. The suite checks that it deletes
	// exactly the expired records and never a live one, even while they
	// are written. Leave the store's own background sweep rare (an hour)
	// so that it does not delete records before Sweep counts them.
	Sweep func(ctx context.Context) (int, error)

	// Close, if set, stops the store's background work and releases what
	// the factory opened for it. The suite calls it once at the end of each
	// subtest, and one subtest checks that no goroutine started by the
	// factory survives it. Clients shared between subtests belong outside
	// the factory, created before Run.
	Close func() error

	// Peer, if set, opens a second instance of Store on the same data, as
	// a second process of the application would: a second client or
	// connection pool on the same server and key prefix or table, a second
	// Store on the same file. The new instance decides expiry by clock,
	// which the suite sets to the same instant as the first one's and then
	// moves on its own. A store that lives in one process may return the
	// same Store (its own clock then stays in charge). The suite uses the
	// returned Harness's Store and Close only, and calls Close when the
	// subtest ends. Default: nil, the multi-instance tests are skipped.
	Peer func(t *testing.T, clock *Clock) Harness
}

// Clock is the clock of a subtest, the same fake clock as
// sessionauthtest's. A store that honours it decides expiry by Now; the
// suite moves it forward to put records exactly at, before and after their
// expiry. It is safe for concurrent use.
type Clock = sessionauthtest.Clock

func newClock() *Clock {
	return sessionauthtest.NewClock(time.Now().Truncate(time.Millisecond))
}

// need is a capability a test requires of the store.
type need int

const (
	needFull     need = 1 << iota // sessionauth.SessionStore
	needIterable                  // sessionauth.IterableStore
	needClock                     // honours the injected Clock
	needSweep                     // Harness.Sweep
	needPeer                      // Harness.Peer
	needNanos                     // Harness.Nanoseconds
	needLoader                    // sessionauth.SessionLoader
	needPlain                     // not a sessionauth.SessionStore
)

// testCase is one subtest of the suite.
type testCase struct {
	name  string
	needs need
	fn    func(t *testing.T, e *env)
}

// cases lists the suite in the order it runs: the core that any scs store
// must pass first, then the full SessionStore contract, then scs and the Manager on
// top, then two instances of the store side by side, then background work.
func cases() []testCase {
	var all []testCase
	all = append(all, coreCases()...)
	all = append(all, sessionStoreCases()...)
	all = append(all, primitiveCases()...)
	all = append(all, loaderCases()...)
	all = append(all, scsCases()...)
	all = append(all, managerCases()...)
	all = append(all, expiryCases()...)
	all = append(all, interleavingCases()...)
	all = append(all, peerCases()...)
	all = append(all, sweepCases()...)
	return all
}

// Run runs the conformance suite as subtests of t. newStore is called at the
// start of every subtest with that subtest's t and a fresh Clock, and returns
// a fresh, empty store; the suite closes it (Harness.Close) when the subtest
// ends. Subtests run one after the other, never in parallel.
func Run(t *testing.T, newStore func(t *testing.T, clock *Clock) Harness) {
	t.Helper()
	for _, tc := range cases() {
		t.Run(tc.name, func(t *testing.T) {
			e := setup(t, newStore)
			if reason := e.lacks(tc.needs); reason != "" {
				t.Skip("the store " + reason)
			}
			tc.fn(t, e)
		})
	}
}

// env is a subtest's view of the store under test.
type env struct {
	h        Harness
	clock    *Clock
	store    sessionauth.Store
	ctxStore sessionauth.CtxStore     // nil unless the store is one
	full     sessionauth.SessionStore // nil unless the store is one
	iterable bool                     // an IterableStore or IterableCtxStore
	// plain reports whether the suite may call the plain scs methods of a
	// CtxStore: only on a SessionStore, whose contract includes them. A
	// third-party CtxStore may support only the Ctx forms (scs's
	// goredisstore panics in the plain ones by design).
	plain    bool
	loader   sessionauth.SessionLoader // nil unless the store is one
	newStore func(t *testing.T, clock *Clock) Harness
}

func setup(t *testing.T, newStore func(t *testing.T, clock *Clock) Harness) *env {
	t.Helper()
	clock := newClock()
	h := newStore(t, clock)
	if h.Store == nil {
		t.Fatal("storetest: the factory returned a Harness without a Store")
	}
	if h.Close != nil {
		t.Cleanup(func() {
			if err := h.Close(); err != nil {
				t.Errorf("closing the store: %v", err)
			}
		})
	}
	e := &env{h: h, clock: clock, store: h.Store, newStore: newStore}
	e.ctxStore, _ = h.Store.(sessionauth.CtxStore)
	e.full, _ = h.Store.(sessionauth.SessionStore)
	_, iter := h.Store.(sessionauth.IterableStore)
	_, iterCtx := h.Store.(sessionauth.IterableCtxStore)
	e.iterable = iter || iterCtx
	e.plain = e.ctxStore == nil || e.full != nil
	e.loader, _ = h.Store.(sessionauth.SessionLoader)
	return e
}

// lacks returns why the store cannot run a test that needs n, or "".
func (e *env) lacks(n need) string {
	switch {
	case n&needFull != 0 && e.full == nil:
		return "is not a sessionauth.SessionStore"
	case n&needIterable != 0 && !e.iterable:
		return "is neither a sessionauth.IterableStore nor an IterableCtxStore"
	case n&needPlain != 0 && e.full != nil:
		return "is a sessionauth.SessionStore (the test is for plain scs stores)"
	case n&needLoader != 0 && e.loader == nil:
		return "is not a sessionauth.SessionLoader"
	case n&needClock != 0 && e.h.WallClock:
		return "decides expiry by a wall clock the suite cannot move"
	case n&needSweep != 0 && e.h.Sweep == nil:
		return "has no Harness.Sweep"
	case n&needNanos != 0 && !e.h.Nanoseconds:
		return "keeps expiries to the millisecond (Harness.Nanoseconds is false)"
	case n&needPeer != 0 && e.h.Peer == nil:
		return "has no Harness.Peer"
	}
	return ""
}

// managerClock returns the clock of a Manager in a test that moves the
// Manager's time to exact instants: the suite's Clock on a store that
// honours it, or, on a wall-clock store, a Clock of its own that starts at
// the real time and that only the Manager reads (the Manager judges expiry
// by its own clock; the store then holds the records well past the test).
func (e *env) managerClock() *Clock {
	if !e.h.WallClock {
		return e.clock
	}
	return sessionauthtest.NewClock(e.now())
}

// now is the store's current time as the suite sees it: the real time on a
// wall-clock store, which ignores the Clock.
func (e *env) now() time.Time {
	if e.h.WallClock {
		return time.Now().Truncate(time.Millisecond)
	}
	return e.clock.Now()
}

// live is an expiry comfortably in the future, for any clock.
func (e *env) live() time.Time { return e.now().Add(time.Hour) }

// dead is an expiry comfortably in the past, for any clock.
func (e *env) dead() time.Time { return e.now().Add(-time.Hour) }

// advance moves an injected clock forward by d. On a wall clock it does
// nothing, since real time moves by itself; tests that need time to be at an
// exact instant declare needClock instead.
func (e *env) advance(d time.Duration) {
	if !e.h.WallClock {
		e.clock.Advance(d)
	}
}

// newToken returns a fresh token of the shape the Manager issues, which is
// also the shape of an scs token (32 random bytes, base64url).
func newToken(t *testing.T) string {
	t.Helper()
	var b [32]byte
	_, err := rand.Read(b[:])
	if err != nil {
		t.Fatalf("reading random bytes: %v", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// newKey returns a fresh store key as the Manager writes them: the hex
// SHA-256 of a token.
func newKey(t *testing.T) string {
	t.Helper()
	return sessionauth.KeyForToken(newToken(t))
}

// newData returns n random bytes to store as a record.
func newData(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("reading random bytes: %v", err)
	}
	return b
}

// assertTime checks that got is the same instant as want, whatever their
// locations; what names the time in the failure message.
func assertTime(t *testing.T, what string, want, got time.Time) bool {
	t.Helper()
	if want.Equal(got) {
		return true
	}
	t.Errorf("%s: want %v, got %v (off by %v)", what, want.UTC(), got.UTC(), got.Sub(want))
	return false
}

// find reads key through FindCtx when the store has it, Find otherwise, and
// fails the test on an error.
func (e *env) find(t *testing.T, key string) (data []byte, found bool) {
	t.Helper()
	var err error
	if e.ctxStore != nil {
		data, found, err = e.ctxStore.FindCtx(t.Context(), key)
	} else {
		data, found, err = e.store.Find(key)
	}
	require.NoError(t, err)
	return data, found
}

// commit writes key through CommitCtx when the store has it, Commit
// otherwise, and fails the test on an error.
func (e *env) commit(t *testing.T, key string, data []byte, expiry time.Time) {
	t.Helper()
	var err error
	if e.ctxStore != nil {
		err = e.ctxStore.CommitCtx(t.Context(), key, data, expiry)
	} else {
		err = e.store.Commit(key, data, expiry)
	}
	require.NoError(t, err)
}

// del deletes key through DeleteCtx when the store has it, Delete otherwise,
// and fails the test on an error.
func (e *env) del(t *testing.T, key string) {
	t.Helper()
	var err error
	if e.ctxStore != nil {
		err = e.ctxStore.DeleteCtx(t.Context(), key)
	} else {
		err = e.store.Delete(key)
	}
	require.NoError(t, err)
}

// all lists the store through AllCtx when it has it, All otherwise; on a
// store that may also be called plainly, it checks that the two agree.
func (e *env) all(t *testing.T) map[string][]byte {
	t.Helper()
	ic, hasCtx := e.store.(sessionauth.IterableCtxStore)
	it, hasPlain := e.store.(sessionauth.IterableStore)
	var m map[string][]byte
	var err error
	if hasCtx {
		m, err = ic.AllCtx(t.Context())
	} else {
		m, err = it.All()
	}
	require.NoError(t, err)
	if hasCtx && hasPlain && e.plain {
		mp, err := it.All()
		require.NoError(t, err)
		assert.Equal(t, m, mp, "All agrees with AllCtx")
	}
	return m
}
