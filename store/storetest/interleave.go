package storetest

import (
	"context"
	"errors"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionauth/sessionauth"
)

// No write undoes a revocation: every Manager operation that reads a session
// and then writes it (SetValues, Rotate, the touch of a request) is paused
// between its read and its write while a revocation runs to completion on
// another Manager, and the revoked session must stay revoked under every
// token it ever had. The stress case races the same pairs freely.
func interleavingCases() []testCase {
	return []testCase{
		{"WriteAfterReadNeverUndoesARevocation", needFull, testWriteAfterReadVsRevocation},
		{"RevokeReachesASessionRotatedBeforeIt", needFull, testRevokeAfterRotate},
		{"RevocationReachesASessionRotatedWhileItRuns", needFull, testRevocationDuringRotate},
		{"RacingWritesNeverResurrectARevokedSession", needFull, testRacingWritesVsRevocations},
	}
}

// managerWrite is a Manager operation that reads a session and then writes
// it.
type managerWrite struct {
	name  string
	reads []Op // the read before the write (the first of them the store serves)
	write Op
	due   bool // the clock must move for the write to be due (a touch)
	// run runs the operation on session s of token tok, and returns the
	// new token if it made one.
	run func(ctx context.Context, m *sessionauth.Manager, tok string, s *sessionauth.Session) (string, error)
}

var managerWrites = []managerWrite{
	{"SetValues", []Op{OpGet}, OpUpdate, false,
		func(ctx context.Context, m *sessionauth.Manager, _ string, s *sessionauth.Session) (string, error) {
			_, err := m.SetValues(ctx, s, map[string]string{"org": "globex"})
			return "", err
		}},
	{"Rotate", []Op{OpGet}, OpRename, false,
		func(ctx context.Context, m *sessionauth.Manager, _ string, s *sessionauth.Session) (string, error) {
			tok, _, err := m.Rotate(ctx, s)
			return tok, err
		}},
	{"Touch", []Op{OpGet, OpLoadSession}, OpTouch, true,
		func(ctx context.Context, m *sessionauth.Manager, tok string, _ *sessionauth.Session) (string, error) {
			_, err := m.Authenticate(ctx, tok)
			return "", err
		}},
}

// revocation is a way to end a session.
type revocation struct {
	name string
	run  func(ctx context.Context, m *sessionauth.Manager, s *sessionauth.Session) error
}

var revocations = []revocation{
	{"Revoke", func(ctx context.Context, m *sessionauth.Manager, s *sessionauth.Session) error {
		return m.Revoke(ctx, s)
	}},
	{"RevokeID", func(ctx context.Context, m *sessionauth.Manager, s *sessionauth.Session) error {
		return m.RevokeID(ctx, s.UserID, s.ID)
	}},
	{"RevokeUser", func(ctx context.Context, m *sessionauth.Manager, s *sessionauth.Session) error {
		_, err := m.RevokeUser(ctx, s.UserID, nil)
		return err
	}},
}

// interleavingManager is the Manager of the interleaving tests: sessions that
// would live for hours, and touches due a minute after the last.
func interleavingManager(t *testing.T, store sessionauth.Store, clock *Clock, touch time.Duration) *sessionauth.Manager {
	return newManager(t, store, clock, time.Hour, 100*time.Hour, touch)
}

// waitFor waits for ch to close: a pause to be reached, an operation to
// end. The bound only turns a deadlock into a failure.
func waitFor(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(30 * time.Second):
		t.Fatalf("%s: not within 30 s", what)
	}
}

// revokedEverywhere reports why session s is not revoked under every one of
// tokens on m, or "" if it is: no token authenticates, and no record of s's
// user holds s's ID.
func revokedEverywhere(ctx context.Context, m *sessionauth.Manager, s *sessionauth.Session, tokens ...string) (string, error) {
	for i, tok := range tokens {
		_, err := m.Authenticate(ctx, tok)
		switch {
		case err == nil:
			if i == 0 {
				return "the revoked session authenticates under its original token", nil
			}
			return "the revoked session authenticates under the token of its rotation", nil
		case !errors.Is(err, sessionauth.ErrUnknownSession):
			return "", err
		}
	}
	list, err := m.List(ctx, s.UserID)
	if err != nil {
		return "", err
	}
	for _, l := range list {
		if l.ID == s.ID {
			return "the user's sessions still list the revoked session", nil
		}
	}
	return "", nil
}

func assertRevoked(t *testing.T, m *sessionauth.Manager, s *sessionauth.Session, tokens ...string) {
	t.Helper()
	why, err := revokedEverywhere(t.Context(), m, s, tokens...)
	require.NoError(t, err)
	assert.Empty(t, why)
}

func testWriteAfterReadVsRevocation(t *testing.T, e *env) {
	for _, wr := range managerWrites {
		for _, rv := range revocations {
			t.Run(wr.name+"/"+rv.name, func(t *testing.T) {
				ctx := t.Context()
				clock := e.managerClock()
				w := Wrap(e.store)
				a := interleavingManager(t, w.Store(), clock, time.Minute)
				b := interleavingManager(t, e.store, clock, time.Minute)
				tok, s, err := a.Create(ctx, "alice", sessionauth.Metadata{Values: map[string]string{"org": "acme"}})
				require.NoError(t, err)
				if wr.due {
					clock.Set(clock.Now().Add(2 * time.Minute))
				}

				p := w.PauseAfter(sessionauth.KeyForToken(tok), wr.reads...)
				t.Cleanup(p.Release)
				var newTok string
				var aErr error
				done := make(chan struct{})
				go func() {
					defer close(done)
					newTok, aErr = wr.run(ctx, a, tok, s)
				}()
				waitFor(t, p.Reached(), wr.name+" reaching its read")
				require.NoError(t, rv.run(ctx, b, s), "the revocation")
				p.Release()
				waitFor(t, done, wr.name+" ending")

				require.Equal(t, 1, w.Calls(wr.write), "%s went on to its write after the revocation", wr.name)
				if wr.write != OpTouch {
					// The session was live at the read, so only the
					// write can tell the operation that it is gone.
					assert.ErrorIs(t, aErr, sessionauth.ErrUnknownSession, "%s of a session revoked after its read", wr.name)
				} else if aErr != nil {
					assert.ErrorIs(t, aErr, sessionauth.ErrUnknownSession)
				}
				assertRevoked(t, b, s, tok, newTok)
				_, _, found := e.get(t, sessionauth.KeyForToken(tok))
				assert.False(t, found, "the write left a record under the revoked key")
			})
		}
	}
}

func testRevokeAfterRotate(t *testing.T, e *env) {
	ctx := t.Context()
	clock := e.managerClock()
	a := interleavingManager(t, e.store, clock, time.Minute)
	b := interleavingManager(t, e.store, clock, time.Minute)
	tok, s, err := a.Create(ctx, "alice", sessionauth.Metadata{})
	require.NoError(t, err)
	other, _, err := a.Create(ctx, "alice", sessionauth.Metadata{})
	require.NoError(t, err)

	// Another request rotated the session; the sign-out still holds the
	// session as it was before.
	rotated, _, err := a.Rotate(ctx, s)
	require.NoError(t, err)
	require.NoError(t, b.Revoke(ctx, s))
	assertRevoked(t, b, s, tok, rotated)
	_, err = b.Authenticate(ctx, other)
	assert.NoError(t, err, "Revoke ends only its own session")
}

func testRevocationDuringRotate(t *testing.T, e *env) {
	for _, rv := range revocations {
		t.Run(rv.name, func(t *testing.T) {
			ctx := t.Context()
			clock := e.managerClock()
			w := Wrap(e.store)
			a := interleavingManager(t, w.Store(), clock, time.Minute)
			b := interleavingManager(t, e.store, clock, time.Minute)
			tok, s, err := a.Create(ctx, "alice", sessionauth.Metadata{})
			require.NoError(t, err)

			// The Rename is done but Rotate has not returned: the
			// revocation holds the old key, the session is under the
			// new one.
			p := w.PauseAfter(sessionauth.KeyForToken(tok), OpRename)
			t.Cleanup(p.Release)
			var newTok string
			done := make(chan struct{})
			go func() {
				defer close(done)
				newTok, _, err = a.Rotate(ctx, s)
			}()
			waitFor(t, p.Reached(), "Rotate reaching its rename")
			require.NoError(t, rv.run(ctx, b, s), "the revocation")
			p.Release()
			waitFor(t, done, "Rotate ending")
			require.NoError(t, err, "the rotation itself succeeded before the revocation")
			assertRevoked(t, b, s, tok, newTok)
		})
	}
}

// testRacingWritesVsRevocations races each write against each revocation,
// many times, and counts the sessions that survived their revocation under
// any token. So that the race covers every point of both operations, one of
// them starts at a random instant within the other's duration, measured
// first on sessions of their own.
func testRacingWritesVsRevocations(t *testing.T, e *env) {
	rounds := 200
	if e.nonBlocking() {
		rounds = 2000
	}
	if testing.Short() {
		rounds /= 4
	}
	perPair := max(1, rounds/(len(managerWrites)*len(revocations)))
	clock := e.managerClock()
	a := interleavingManager(t, e.store, clock, time.Millisecond)
	b := interleavingManager(t, e.store, clock, time.Millisecond)
	for _, wr := range managerWrites {
		for _, rv := range revocations {
			t.Run(wr.name+"/"+rv.name, func(t *testing.T) {
				ctx := t.Context()
				session := func() (string, *sessionauth.Session) {
					tok, s, err := a.Create(ctx, "alice", sessionauth.Metadata{})
					require.NoError(t, err)
					if wr.due {
						clock.Set(clock.Now().Add(2 * time.Millisecond))
					}
					return tok, s
				}
				var spanA, spanB time.Duration
				for range 3 {
					tok, s := session()
					start := time.Now()
					_, err := wr.run(ctx, a, tok, s)
					require.NoError(t, err)
					spanA = max(spanA, time.Since(start))
					start = time.Now()
					require.NoError(t, rv.run(ctx, b, s))
					spanB = max(spanB, time.Since(start))
				}

				resurrected := 0
				for i := range perPair {
					tok, s := session()
					var delayA, delayB time.Duration
					if i%2 == 0 {
						delayB = rand.N(spanA + 1)
					} else {
						delayA = rand.N(spanB + 1)
					}
					start := make(chan struct{})
					var newTok string
					var aErr, bErr error
					var wg sync.WaitGroup
					wg.Go(func() { <-start; spin(delayA); newTok, aErr = wr.run(ctx, a, tok, s) })
					wg.Go(func() { <-start; spin(delayB); bErr = rv.run(ctx, b, s) })
					close(start)
					wg.Wait()
					require.NoError(t, bErr, "the revocation")
					if aErr != nil {
						require.ErrorIs(t, aErr, sessionauth.ErrUnknownSession, wr.name)
					}
					why, err := revokedEverywhere(ctx, b, s, tok, newTok)
					require.NoError(t, err)
					if why != "" {
						resurrected++
						t.Log(why)
					}
				}
				assert.Zero(t, resurrected, "revoked sessions that survived, of %d", perPair)
			})
		}
	}
}

// spin busy-waits for d: a sleep would wait for the timer's granularity,
// far longer than an operation on an in-memory store.
func spin(d time.Duration) {
	for end := time.Now().Add(d); time.Now().Before(end); {
		runtime.Gosched()
	}
}
