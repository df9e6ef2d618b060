package storetest

import (
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionauth/sessionauth"
)

// Expiry and writes through the Manager, on every store: the Manager judges
// expiry by its own clock to the nanosecond, deletes what it refuses as
// expired, and writes the store at most once per TouchInterval.
func expiryCases() []testCase {
	return []testCase{
		{"ManagerExpiresASessionAtTheExactInstant", 0, testManagerExactExpiry},
		{"ManagerDeletesASessionItRefusesAsExpired", 0, testManagerDeletesExpired},
		{"ManagerWritesNothingWithinTouchIntervalOfCreate", 0, testManagerNoWriteAfterCreate},
		{"ManagerWritesNothingWithinTouchIntervalOfAnotherManagersTouch", needFull, testManagerNoWriteAfterPeerTouch},
		{"ManagerOnAPlainStoreNeverRewritesWhatItRead", needPlain, testManagerPlainNeverRewrites},
	}
}

// newManager returns a Manager on store with clock and the given durations.
func newManager(t *testing.T, store sessionauth.Store, clock *Clock, idle, lifetime, touch time.Duration) *sessionauth.Manager {
	t.Helper()
	m, err := sessionauth.New(sessionauth.Config{
		Store:         store,
		IdleTimeout:   idle,
		Lifetime:      lifetime,
		TouchInterval: touch,
		Now:           clock.Now,
		Logger:        slog.New(slog.DiscardHandler),
	})
	require.NoError(t, err)
	return m
}

func testManagerExactExpiry(t *testing.T, e *env) {
	tests := []struct {
		name           string
		idle, lifetime time.Duration
		uses           []time.Duration // uses that keep the session alive, from creation, on a SessionStore
		deadline       time.Duration   // from creation
	}{
		{"idle", 30 * time.Minute, 12 * time.Hour, nil, 30 * time.Minute},
		// On a plain scs store use does not extend a session, so the
		// idle timeout there is set past the lifetime.
		{"lifetime", 30 * time.Minute, time.Hour, []time.Duration{20 * time.Minute, 40 * time.Minute}, time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			clock := e.managerClock()
			idle := tt.idle
			if e.full == nil && tt.uses != nil {
				idle, tt.uses = 2*tt.lifetime, nil
			}
			m := newManager(t, e.store, clock, idle, tt.lifetime, time.Minute)
			t0 := clock.Now()
			before, _, err := m.Create(ctx, "alice", sessionauth.Metadata{})
			require.NoError(t, err)
			at, _, err := m.Create(ctx, "alice", sessionauth.Metadata{})
			require.NoError(t, err)
			for _, u := range tt.uses {
				clock.Set(t0.Add(u))
				for _, tok := range []string{before, at} {
					_, err := m.Authenticate(ctx, tok)
					require.NoError(t, err, "a use at %v", u)
				}
			}

			clock.Set(t0.Add(tt.deadline - time.Nanosecond))
			s, err := m.Authenticate(ctx, before)
			require.NoError(t, err, "valid a nanosecond before the deadline")
			assert.Equal(t, "alice", s.UserID)
			clock.Set(t0.Add(tt.deadline))
			_, err = m.Authenticate(ctx, at)
			assert.ErrorIs(t, err, sessionauth.ErrSessionExpired, "refused at the deadline")
		})
	}
}

func testManagerDeletesExpired(t *testing.T, e *env) {
	ctx := t.Context()
	clock := e.managerClock()
	m := newManager(t, e.store, clock, 30*time.Minute, 12*time.Hour, time.Minute)
	t0 := clock.Now()
	token, _, err := m.Create(ctx, "alice", sessionauth.Metadata{})
	require.NoError(t, err)

	clock.Set(t0.Add(30 * time.Minute))
	_, err = m.Authenticate(ctx, token)
	require.ErrorIs(t, err, sessionauth.ErrSessionExpired)

	// The clock steps back (an NTP correction, a second instance behind):
	// a session refused once must stay refused.
	clock.Set(t0.Add(10 * time.Minute))
	_, err = m.Authenticate(ctx, token)
	assert.ErrorIs(t, err, sessionauth.ErrUnknownSession, "the session refused as expired was not deleted")
	_, found := e.find(t, sessionauth.KeyForToken(token))
	assert.False(t, found, "the record of a session refused as expired is gone")
}

func testManagerNoWriteAfterCreate(t *testing.T, e *env) {
	ctx := t.Context()
	w := Wrap(e.store)
	clock := e.managerClock()
	m := newManager(t, w.Store(), clock, 30*time.Minute, 12*time.Hour, time.Minute)
	t0 := clock.Now()
	token, _, err := m.Create(ctx, "alice", sessionauth.Metadata{})
	require.NoError(t, err)
	require.Equal(t, 1, w.Writes(), "Create writes the session once")
	w.ResetCalls()

	for _, d := range []time.Duration{0, time.Second, time.Minute - time.Nanosecond} {
		clock.Set(t0.Add(d))
		_, err := m.Authenticate(ctx, token)
		require.NoError(t, err)
	}
	assert.Zero(t, w.Writes(), "a request within TouchInterval of Create wrote the store")

	clock.Set(t0.Add(time.Minute))
	_, err = m.Authenticate(ctx, token)
	require.NoError(t, err)
	if e.full != nil {
		assert.Equal(t, 1, w.Calls(OpTouch), "a request TouchInterval after Create touches")
	}
	assert.Equal(t, w.Calls(OpTouch), w.Writes(), "a touch is the only write of a request")
}

func testManagerNoWriteAfterPeerTouch(t *testing.T, e *env) {
	ctx := t.Context()
	wa, wb := Wrap(e.store), Wrap(e.store)
	clock := e.managerClock()
	a := newManager(t, wa.Store(), clock, 30*time.Minute, 12*time.Hour, time.Minute)
	b := newManager(t, wb.Store(), clock, 30*time.Minute, 12*time.Hour, time.Minute)
	t0 := clock.Now()
	token, _, err := a.Create(ctx, "alice", sessionauth.Metadata{})
	require.NoError(t, err)
	wa.ResetCalls()

	clock.Set(t0.Add(5 * time.Minute))
	_, err = b.Authenticate(ctx, token)
	require.NoError(t, err)
	require.Equal(t, 1, wb.Calls(OpTouch), "B touches five minutes after Create")

	// A has never touched the session: only the stored deadline that B
	// wrote tells it that a write now would be too soon.
	for _, d := range []time.Duration{5 * time.Minute, 6*time.Minute - time.Nanosecond} {
		clock.Set(t0.Add(d))
		_, err := a.Authenticate(ctx, token)
		require.NoError(t, err)
	}
	assert.Zero(t, wa.Writes(), "a request within TouchInterval of another Manager's touch wrote the store")

	clock.Set(t0.Add(6 * time.Minute))
	_, err = a.Authenticate(ctx, token)
	require.NoError(t, err)
	assert.Equal(t, 1, wa.Calls(OpTouch), "TouchInterval after B's touch, A touches")
}

func testManagerPlainNeverRewrites(t *testing.T, e *env) {
	ctx := t.Context()
	w := Wrap(e.store)
	clock := e.managerClock()
	m := newManager(t, w.Store(), clock, 30*time.Minute, 12*time.Hour, time.Minute)
	t0 := clock.Now()
	token, s, err := m.Create(ctx, "alice", sessionauth.Metadata{Values: map[string]string{"org": "acme"}})
	require.NoError(t, err)
	w.ResetCalls()

	_, err = m.SetValues(ctx, s, map[string]string{"org": "globex"})
	assert.ErrorIs(t, err, sessionauth.ErrNotSupported, "SetValues")
	_, _, err = m.Rotate(ctx, s)
	assert.ErrorIs(t, err, sessionauth.ErrNotSupported, "Rotate")

	// However often and late the session is used, nothing is written: a
	// rewrite of what a request read could undo a revocation, and could
	// move the expiry back.
	for d := time.Duration(0); d < 30*time.Minute; d += 7 * time.Minute {
		clock.Set(t0.Add(d))
		got, err := m.Authenticate(ctx, token)
		require.NoError(t, err)
		assert.Equal(t, "acme", got.Value("org"), "the values are unchanged")
	}
	clock.Set(t0.Add(30*time.Minute - time.Nanosecond))
	_, err = m.Authenticate(ctx, token)
	require.NoError(t, err)
	assert.Zero(t, w.Writes(), "authentication on a plain scs store wrote it")
	assert.Zero(t, w.Calls(OpDelete))

	clock.Set(t0.Add(30 * time.Minute))
	_, err = m.Authenticate(ctx, token)
	assert.ErrorIs(t, err, sessionauth.ErrSessionExpired, "use does not extend a session on a plain scs store")
}
