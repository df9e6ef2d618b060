package sessionauth_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/sessionauth/sessionauth"
	"github.com/sessionauth/sessionauth/sessionauthtest"
	"github.com/sessionauth/sessionauth/store/memstore"
	"github.com/sessionauth/sessionauth/store/storetest"
)

// newTestClock returns the fake clock of a Manager and its store: it moves
// only when a test moves it.
func newTestClock() *sessionauthtest.Clock {
	return sessionauthtest.NewClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
}

// errInjected is the failure the harness's store returns when a test
// switches faults on. It deliberately names no key.
var errInjected = errors.New("injected store failure")

// The operations a test fails together: the reads, and the calls that write
// or delete.
var (
	readOps = []storetest.Op{storetest.OpGet, storetest.OpFind, storetest.OpAll,
		storetest.OpListUser, storetest.OpLoadSession}
	writeOps = []storetest.Op{storetest.OpPut, storetest.OpUpdate, storetest.OpTouch,
		storetest.OpRename, storetest.OpCommit, storetest.OpDelete, storetest.OpDeleteUser}
)

// withoutLoader hides a store's SessionLoader fast path, so that the Manager
// reads through Get.
type withoutLoader struct {
	sessionauth.SessionStore
	sessionauth.IterableStore
}

// storeCall is one call the harness's store received, with its arguments
// and the store clock's time when it was made.
type storeCall struct {
	storetest.Call
	at time.Time
}

// lockedBuffer is a bytes.Buffer that log handlers and the test can share.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// harness is a Manager over a memstore behind a storetest.Wrapper that
// records every call and fails on demand, both on one fake clock, logging
// into a buffer.
type harness struct {
	clock *sessionauthtest.Clock
	mem   *memstore.Store
	w     *storetest.Wrapper
	m     *sessionauth.Manager
	logs  *lockedBuffer

	mu    sync.Mutex
	calls []storeCall
}

// harnessOpts chooses how a harness is built.
type harnessOpts struct {
	noLoader bool                                // hide the SessionLoader fast path from the Manager
	handler  func(io *lockedBuffer) slog.Handler // default: a debug-level text handler
}

// newHarness returns a harness whose Manager is configured by cfg; Store, Now
// and Logger are filled in unless cfg sets them.
func newHarness(t testing.TB, cfg sessionauth.Config, opts ...harnessOpts) *harness {
	t.Helper()
	var o harnessOpts
	if len(opts) > 0 {
		o = opts[0]
	}
	h := &harness{clock: newTestClock(), logs: &lockedBuffer{}}
	h.mem = memstore.New(memstore.Config{Now: h.clock.Now, SweepInterval: -1})
	t.Cleanup(func() { _ = h.mem.Close() })
	if o.noLoader {
		h.w = storetest.Wrap(withoutLoader{h.mem, h.mem})
	} else {
		h.w = storetest.Wrap(h.mem)
	}
	// The recording hooks come first, so that they see the calls that a
	// test's Fail hooks then fail.
	for _, op := range append(slices.Clone(readOps), writeOps...) {
		h.w.On(op, storetest.Hook{Before: h.record})
	}
	if cfg.Store == nil {
		cfg.Store = h.w.Store()
	}
	if cfg.Now == nil {
		cfg.Now = h.clock.Now
	}
	if cfg.Logger == nil {
		var handler slog.Handler = slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug})
		if o.handler != nil {
			handler = o.handler(h.logs)
		}
		cfg.Logger = slog.New(handler)
	}
	m, err := sessionauth.New(cfg)
	require.NoError(t, err)
	h.m = m
	return h
}

func (h *harness) record(c *storetest.Call) error {
	rec := storeCall{Call: *c, at: h.clock.Now()}
	rec.Data = bytes.Clone(c.Data)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.calls = append(h.calls, rec)
	return nil
}

// callsOf returns the recorded calls whose op is one of ops (all when none).
func (h *harness) callsOf(ops ...storetest.Op) []storeCall {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []storeCall
	for _, c := range h.calls {
		if len(ops) == 0 || slices.Contains(ops, c.Op) {
			out = append(out, c)
		}
	}
	return out
}

// writes returns the calls that wrote a record's data or expiry.
func (h *harness) writes() []storeCall {
	return h.callsOf(storetest.OpPut, storetest.OpUpdate, storetest.OpTouch, storetest.OpRename, storetest.OpCommit)
}

func (h *harness) resetCalls() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.calls = nil
}

// create starts a session for userID and fails the test on error.
func (h *harness) create(t testing.TB, userID string) (string, *sessionauth.Session) {
	t.Helper()
	token, s, err := h.m.Create(context.Background(), userID, sessionauth.Metadata{})
	require.NoError(t, err)
	return token, s
}

// storeExpiry returns the expiry the store holds for token, and whether the
// store holds a live record for it.
func (h *harness) storeExpiry(t testing.TB, token string) (time.Time, bool) {
	t.Helper()
	_, exp, found, err := h.mem.Get(context.Background(), sessionauth.KeyForToken(token))
	require.NoError(t, err)
	return exp, found
}

// storeModes runs f against a Manager with and without the SessionLoader
// fast path, since the two read the store differently.
func storeModes(t *testing.T, f func(t *testing.T, o harnessOpts)) {
	t.Run("loader", func(t *testing.T) { f(t, harnessOpts{}) })
	t.Run("get", func(t *testing.T) { f(t, harnessOpts{noLoader: true}) })
}

// userHandler answers 200 with the user of the request's session, or
// "anonymous".
var userHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	if s, ok := sessionauth.FromContext(r.Context()); ok {
		_, _ = w.Write([]byte(s.UserID))
		return
	}
	_, _ = w.Write([]byte("anonymous"))
})

// do serves one GET through h with the given Authorization header values.
func do(h http.Handler, authorization ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	for _, a := range authorization {
		r.Header.Add("Authorization", a)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// authStatus authenticates token through Require and returns the status.
func (h *harness) authStatus(token string) int {
	return do(h.m.Require(userHandler), "Bearer "+token).Code
}

func TestNewAppliesDocumentedDefaults(t *testing.T) {
	tests := []struct {
		name                  string
		cfg                   sessionauth.Config
		idle, lifetime, touch time.Duration
	}{
		{"zero config", sessionauth.Config{}, 30 * time.Minute, 12 * time.Hour, time.Minute},
		{"touch is a tenth of a short idle timeout", sessionauth.Config{IdleTimeout: 5 * time.Minute}, 5 * time.Minute, 12 * time.Hour, 30 * time.Second},
		{"touch stays one minute for a long idle timeout", sessionauth.Config{IdleTimeout: 2 * time.Hour}, 2 * time.Hour, 12 * time.Hour, time.Minute},
		{"explicit values win", sessionauth.Config{IdleTimeout: time.Hour, Lifetime: 24 * time.Hour, TouchInterval: 5 * time.Minute}, time.Hour, 24 * time.Hour, 5 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, tt.cfg)
			assert.Equal(t, tt.idle, h.m.IdleTimeout())
			assert.Equal(t, tt.lifetime, h.m.Lifetime())
			assert.Equal(t, tt.touch, h.m.TouchInterval())
			assert.Equal(t, sessionauth.DefaultIdleTimeout, 30*time.Minute)
			assert.Equal(t, sessionauth.DefaultLifetime, 12*time.Hour)
			assert.Equal(t, sessionauth.DefaultTouchInterval, time.Minute)
		})
	}
}

func TestNewRejectsInconsistentConfig(t *testing.T) {
	store := memstore.New(memstore.Config{SweepInterval: -1})
	tests := []struct {
		name string
		cfg  sessionauth.Config
	}{
		{"no store", sessionauth.Config{}},
		{"touch interval equal to idle timeout", sessionauth.Config{Store: store, IdleTimeout: time.Minute, TouchInterval: time.Minute}},
		{"touch interval above idle timeout", sessionauth.Config{Store: store, IdleTimeout: time.Minute, TouchInterval: time.Hour}},
		{"explicit touch interval above a short idle timeout", sessionauth.Config{Store: store, IdleTimeout: 30 * time.Second, TouchInterval: time.Minute}},
		{"negative idle timeout", sessionauth.Config{Store: store, IdleTimeout: -time.Minute}},
		{"negative lifetime", sessionauth.Config{Store: store, Lifetime: -time.Hour}},
		{"negative touch interval", sessionauth.Config{Store: store, TouchInterval: -time.Second}},
		{"idle timeout too short for any touch interval", sessionauth.Config{Store: store, IdleTimeout: 5 * time.Nanosecond}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := sessionauth.New(tt.cfg)
			assert.Error(t, err)
			assert.Nil(t, m)
		})
	}
}

func TestCreateReturnsSessionWithDeadlinesAndMetadata(t *testing.T) {
	h := newHarness(t, sessionauth.Config{IdleTimeout: 30 * time.Minute, Lifetime: 12 * time.Hour})
	md := sessionauth.Metadata{IP: "203.0.113.7", UserAgent: "curl/8", Values: map[string]string{"org": "acme"}}
	token, s, err := h.m.Create(context.Background(), "user-1", md)
	require.NoError(t, err)
	now := h.clock.Now()

	assert.Len(t, s.ID, 22)
	assert.NotContains(t, token, s.ID)
	assert.Equal(t, "user-1", s.UserID)
	assert.True(t, s.CreatedAt.Equal(now))
	assert.True(t, s.LastUsedAt.Equal(now))
	assert.True(t, s.IdleExpiresAt.Equal(now.Add(30*time.Minute)))
	assert.True(t, s.ExpiresAt.Equal(now.Add(12*time.Hour)))
	assert.Equal(t, md.IP, s.IP)
	assert.Equal(t, md.UserAgent, s.UserAgent)
	assert.Equal(t, "acme", s.Value("org"))

	md.Values["org"] = "changed by the caller"
	assert.Equal(t, "acme", s.Value("org"), "the session must not alias the caller's map")

	got, err := h.m.Authenticate(context.Background(), token)
	require.NoError(t, err)
	assert.Equal(t, s.ID, got.ID)
	assert.Equal(t, "acme", got.Value("org"))
	assert.Equal(t, md.IP, got.IP)
}

func TestAuthenticateRejectsUnknownToken(t *testing.T) {
	h := newHarness(t, sessionauth.Config{})
	h.create(t, "user-1")
	other, _, err := newHarness(t, sessionauth.Config{}).m.Create(context.Background(), "user-1", sessionauth.Metadata{})
	require.NoError(t, err)

	_, err = h.m.Authenticate(context.Background(), other)
	assert.ErrorIs(t, err, sessionauth.ErrUnknownSession)
	assert.Equal(t, http.StatusUnauthorized, h.authStatus(other))
}

// assertRejected checks that token no longer authenticates, as an expired or
// unknown session: a 401, never a 503.
func assertRejected(t *testing.T, h *harness, token string) {
	t.Helper()
	_, err := h.m.Authenticate(context.Background(), token)
	require.Error(t, err)
	assert.True(t, errors.Is(err, sessionauth.ErrSessionExpired) || errors.Is(err, sessionauth.ErrUnknownSession), "got %v", err)
	assert.Equal(t, http.StatusUnauthorized, sessionauth.StatusCode(err))
}

func assertAccepted(t *testing.T, h *harness, token string) *sessionauth.Session {
	t.Helper()
	s, err := h.m.Authenticate(context.Background(), token)
	require.NoError(t, err, "at %v", h.clock.Now())
	return s
}

func TestSessionExpiresAtIdleTimeoutExactly(t *testing.T) {
	storeModes(t, func(t *testing.T, o harnessOpts) {
		const idle = 30 * time.Minute
		h := newHarness(t, sessionauth.Config{IdleTimeout: idle}, o)
		before, _ := h.create(t, "user-1")
		at, s := h.create(t, "user-1")

		h.clock.Set(s.CreatedAt.Add(idle - time.Nanosecond))
		assertAccepted(t, h, before)

		h.clock.Set(s.CreatedAt.Add(idle))
		assertRejected(t, h, at)
		assert.Equal(t, http.StatusUnauthorized, h.authStatus(at))
	})
}

func TestUseExtendsIdleDeadline(t *testing.T) {
	storeModes(t, func(t *testing.T, o harnessOpts) {
		const idle = 30 * time.Minute
		h := newHarness(t, sessionauth.Config{IdleTimeout: idle, TouchInterval: time.Minute}, o)
		token, s := h.create(t, "user-1")

		h.clock.Advance(20 * time.Minute)
		used := assertAccepted(t, h, token)
		assert.True(t, used.IdleExpiresAt.Equal(h.clock.Now().Add(idle)))
		assert.True(t, used.LastUsedAt.Equal(h.clock.Now()))
		assert.True(t, used.CreatedAt.Equal(s.CreatedAt))

		// 30 minutes after creation, but only 10 after the last use.
		h.clock.Advance(10 * time.Minute)
		assertAccepted(t, h, token)
	})
}

func TestSessionExpiresAtLifetimeExactlyDespiteUse(t *testing.T) {
	storeModes(t, func(t *testing.T, o harnessOpts) {
		const lifetime = 2 * time.Hour
		h := newHarness(t, sessionauth.Config{IdleTimeout: 30 * time.Minute, Lifetime: lifetime, TouchInterval: time.Minute}, o)
		token, s := h.create(t, "user-1")
		end := s.CreatedAt.Add(lifetime)

		for h.clock.Now().Add(7 * time.Minute).Before(end) {
			h.clock.Advance(7 * time.Minute)
			got := assertAccepted(t, h, token)
			assert.False(t, got.IdleExpiresAt.After(end), "the idle deadline must never pass the absolute one")
			assert.True(t, got.ExpiresAt.Equal(end))
		}
		h.clock.Set(end.Add(-time.Nanosecond))
		assertAccepted(t, h, token)
		h.clock.Set(end)
		assertRejected(t, h, token)
	})
}

// A session used at least every IdleTimeout-TouchInterval must stay valid at
// every instant until its Lifetime. The lifetimes below put the last use at
// every phase of the final touch interval, including the one where the capped
// deadline moves by less than TouchInterval.
func TestSessionUsedEveryIdleMinusTouchIntervalStaysValidUntilLifetime(t *testing.T) {
	const idle, touch = 30 * time.Minute, time.Minute
	const period = idle - touch
	lifetimes := []time.Duration{
		10 * time.Minute, // shorter than the idle timeout
		59*time.Minute + 30*time.Second,
		59*time.Minute + 59*time.Second,
		60 * time.Minute,
		60*time.Minute + 30*time.Second,
		89 * time.Minute,
		12 * time.Hour,
	}
	for _, lifetime := range lifetimes {
		t.Run(lifetime.String(), func(t *testing.T) {
			storeModes(t, func(t *testing.T, o harnessOpts) {
				h := newHarness(t, sessionauth.Config{IdleTimeout: idle, Lifetime: lifetime, TouchInterval: touch}, o)
				token, s := h.create(t, "user-1")
				end := s.CreatedAt.Add(lifetime)
				for h.clock.Now().Add(period).Before(end) {
					h.clock.Advance(period)
					assertAccepted(t, h, token)
				}
				// The schedule's next use falls after the end; every
				// instant before the end is within one period of the
				// last use, so the session must still be valid there.
				h.clock.Set(end.Add(-time.Nanosecond))
				assertAccepted(t, h, token)
				h.clock.Set(end)
				assertRejected(t, h, token)
			})
		})
	}
}

func TestSessionWithLifetimeShorterThanIdleTimeoutEndsAtLifetime(t *testing.T) {
	h := newHarness(t, sessionauth.Config{IdleTimeout: 30 * time.Minute, Lifetime: 10 * time.Minute})
	token, s := h.create(t, "user-1")
	assert.True(t, s.IdleExpiresAt.Equal(s.ExpiresAt), "the idle deadline is capped by the absolute one")
	assert.True(t, s.ExpiresAt.Equal(s.CreatedAt.Add(10*time.Minute)))

	h.clock.Set(s.ExpiresAt.Add(-time.Nanosecond))
	assertAccepted(t, h, token)
	h.clock.Set(s.ExpiresAt)
	assertRejected(t, h, token)
}

func TestAuthenticateWritesStoreAtMostOncePerTouchIntervalUnderSequentialRequests(t *testing.T) {
	storeModes(t, func(t *testing.T, o harnessOpts) {
		const touch = time.Minute
		const span = 10 * touch
		h := newHarness(t, sessionauth.Config{IdleTimeout: 30 * time.Minute, TouchInterval: touch}, o)
		token, _ := h.create(t, "user-1")
		h.resetCalls()

		for elapsed := time.Duration(0); elapsed < span; elapsed += 250 * time.Millisecond {
			h.clock.Advance(250 * time.Millisecond)
			for range 4 {
				require.Equal(t, http.StatusOK, h.authStatus(token))
			}
		}
		writes := h.writes()
		assert.Len(t, writes, int(span/touch), "one write per touch interval: no more, and no fewer")
		for i := 1; i < len(writes); i++ {
			assert.GreaterOrEqual(t, writes[i].at.Sub(writes[i-1].at), touch, "writes %d and %d", i-1, i)
		}
		for _, w := range writes {
			assert.Equal(t, storetest.OpTouch, w.Op, "an authenticated request only ever touches the expiry")
		}
	})
}

func TestAuthenticateWritesStoreAtMostOncePerTouchIntervalUnderConcurrentRequests(t *testing.T) {
	storeModes(t, func(t *testing.T, o harnessOpts) {
		const touch = time.Minute
		const step = 5 * time.Second
		const steps = 60 // five touch intervals of fake time
		h := newHarness(t, sessionauth.Config{IdleTimeout: 30 * time.Minute, TouchInterval: touch}, o)
		token, _ := h.create(t, "user-1")
		h.resetCalls()
		start := h.clock.Now()

		// At each instant of fake time, a burst of goroutines hammers the
		// session at once.
		for range steps {
			h.clock.Advance(step)
			var wg sync.WaitGroup
			for range 8 {
				wg.Go(func() {
					for range 4 {
						if code := h.authStatus(token); code != http.StatusOK {
							t.Errorf("status %d", code)
						}
					}
				})
			}
			wg.Wait()
		}

		writes := h.writes()
		span := h.clock.Now().Sub(start)
		require.NotEmpty(t, writes, "the session must be touched")
		assert.LessOrEqual(t, len(writes), int(span/touch)+1)
		// Each write was decided at a different instant, at least one
		// touch interval after the previous: their targets say when.
		targets := make([]time.Time, len(writes))
		for i, w := range writes {
			require.Equal(t, storetest.OpTouch, w.Op)
			targets[i] = w.Expiry
		}
		slices.SortFunc(targets, time.Time.Compare)
		for i := 1; i < len(targets); i++ {
			assert.GreaterOrEqual(t, targets[i].Sub(targets[i-1]), touch)
		}
	})
}

func TestTouchNeverMovesExpiryBackward(t *testing.T) {
	storeModes(t, func(t *testing.T, o harnessOpts) {
		h := newHarness(t, sessionauth.Config{IdleTimeout: 30 * time.Minute, TouchInterval: time.Minute}, o)
		token, _ := h.create(t, "user-1")

		// Another process whose clock runs ahead touches the session.
		ahead := newTestClock()
		ahead.Set(h.clock.Now().Add(10 * time.Minute))
		other, err := sessionauth.New(sessionauth.Config{Store: h.w.Store(), Now: ahead.Now, IdleTimeout: 30 * time.Minute, TouchInterval: time.Minute})
		require.NoError(t, err)
		_, err = other.Authenticate(context.Background(), token)
		require.NoError(t, err)
		far, ok := h.storeExpiry(t, token)
		require.True(t, ok)
		require.True(t, far.Equal(ahead.Now().Add(30*time.Minute)))

		// This process, five minutes behind it, must not pull it back.
		h.clock.Advance(5 * time.Minute)
		s := assertAccepted(t, h, token)
		assert.True(t, s.IdleExpiresAt.Equal(far))
		got, _ := h.storeExpiry(t, token)
		assert.True(t, got.Equal(far), "expiry moved from %v to %v", far, got)
		for _, w := range h.callsOf(storetest.OpTouch) {
			assert.False(t, w.Expiry.Before(h.clock.Now().Add(30*time.Minute)))
		}
	})
}

func TestTouchNeverPassesAbsoluteDeadline(t *testing.T) {
	h := newHarness(t, sessionauth.Config{IdleTimeout: 30 * time.Minute, Lifetime: time.Hour, TouchInterval: time.Minute})
	token, s := h.create(t, "user-1")
	for range 60 {
		h.clock.Advance(time.Minute - time.Nanosecond)
		if h.clock.Now().Before(s.ExpiresAt) {
			assertAccepted(t, h, token)
		}
	}
	touches := h.callsOf(storetest.OpTouch)
	require.NotEmpty(t, touches)
	for _, w := range touches {
		assert.False(t, w.Expiry.After(s.ExpiresAt), "touch to %v past %v", w.Expiry, s.ExpiresAt)
	}
	assert.True(t, touches[len(touches)-1].Expiry.Equal(s.ExpiresAt), "the last touch reaches the absolute deadline")
}

func TestTouchNeverOverwritesConcurrentSetValues(t *testing.T) {
	storeModes(t, func(t *testing.T, o harnessOpts) {
		h := newHarness(t, sessionauth.Config{IdleTimeout: 30 * time.Minute, TouchInterval: time.Minute}, o)
		token, s := h.create(t, "user-1")

		// Rounds of 15 s: a touch every fourth round, racing the SetValues
		// of its round.
		want := map[string]string{}
		for i := range 64 {
			h.clock.Advance(15 * time.Second)
			var wg sync.WaitGroup
			for range 4 {
				wg.Go(func() {
					for range 3 {
						if _, err := h.m.Authenticate(context.Background(), token); err != nil {
							t.Errorf("authenticate: %v", err)
						}
					}
				})
			}
			k, v := fmt.Sprintf("k%02d", i%16), fmt.Sprintf("v%d", i)
			_, err := h.m.SetValues(context.Background(), s, map[string]string{k: v})
			require.NoError(t, err)
			want[k] = v
			wg.Wait()
		}

		require.NotEmpty(t, h.callsOf(storetest.OpTouch))
		got := assertAccepted(t, h, token)
		assert.Equal(t, want, got.Values, "every SetValues change survives the touches")

		var latest time.Time
		for _, w := range h.writes() {
			if w.Expiry.After(latest) {
				latest = w.Expiry
			}
		}
		exp, ok := h.storeExpiry(t, token)
		require.True(t, ok)
		assert.True(t, exp.Equal(latest), "store expiry %v, latest written %v", exp, latest)
	})
}

func TestSetValuesSetsAndRemovesKeys(t *testing.T) {
	h := newHarness(t, sessionauth.Config{})
	token, s, err := h.m.Create(context.Background(), "user-1", sessionauth.Metadata{Values: map[string]string{"org": "acme", "theme": "dark"}})
	require.NoError(t, err)

	updated, err := h.m.SetValues(context.Background(), s, map[string]string{"org": "globex", "theme": "", "lang": "fr"})
	require.NoError(t, err)
	want := map[string]string{"org": "globex", "lang": "fr"}
	assert.Equal(t, want, updated.Values)
	assert.Equal(t, want, assertAccepted(t, h, token).Values)
	assert.Equal(t, map[string]string{"org": "acme", "theme": "dark"}, s.Values, "the old session is not modified")

	_, err = h.m.SetValues(context.Background(), s, map[string]string{"k": string(make([]byte, 2000))})
	assert.ErrorIs(t, err, sessionauth.ErrInvalidMetadata)

	require.NoError(t, h.m.Revoke(context.Background(), s))
	_, err = h.m.SetValues(context.Background(), s, map[string]string{"org": "x"})
	assert.ErrorIs(t, err, sessionauth.ErrUnknownSession)
	_, err = h.m.SetValues(context.Background(), nil, nil)
	assert.ErrorIs(t, err, sessionauth.ErrUnknownSession)
}

func TestRevokeIsImmediate(t *testing.T) {
	storeModes(t, func(t *testing.T, o harnessOpts) {
		h := newHarness(t, sessionauth.Config{}, o)
		token, s := h.create(t, "user-1")
		// A second process sharing the store has just used the session.
		other, err := sessionauth.New(sessionauth.Config{Store: h.w.Store(), Now: h.clock.Now})
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, do(other.Require(userHandler), "Bearer "+token).Code)
		require.Equal(t, http.StatusOK, h.authStatus(token))

		require.NoError(t, h.m.Revoke(context.Background(), s))

		assert.Equal(t, http.StatusUnauthorized, h.authStatus(token))
		assert.Equal(t, http.StatusUnauthorized, do(other.Require(userHandler), "Bearer "+token).Code)
		assert.NoError(t, h.m.Revoke(context.Background(), s), "revoking a revoked session is not an error")
		assert.NoError(t, h.m.Revoke(context.Background(), nil))
	})
}

func TestRevokeIDRevokesOnlyTheUsersOwnSession(t *testing.T) {
	h := newHarness(t, sessionauth.Config{})
	aliceToken, alice := h.create(t, "alice")
	bobToken, bob := h.create(t, "bob")

	err := h.m.RevokeID(context.Background(), "alice", bob.ID)
	assert.ErrorIs(t, err, sessionauth.ErrUnknownSession)
	assert.Equal(t, http.StatusOK, h.authStatus(bobToken), "alice cannot revoke bob's session")

	assert.ErrorIs(t, h.m.RevokeID(context.Background(), "alice", "no-such-id"), sessionauth.ErrUnknownSession)

	require.NoError(t, h.m.RevokeID(context.Background(), "alice", alice.ID))
	assert.Equal(t, http.StatusUnauthorized, h.authStatus(aliceToken))
	assert.Equal(t, http.StatusOK, h.authStatus(bobToken))
}

func TestRevokeUserEndsEverySessionOfTheUser(t *testing.T) {
	h := newHarness(t, sessionauth.Config{})
	var tokens []string
	for range 3 {
		tok, _ := h.create(t, "alice")
		tokens = append(tokens, tok)
	}
	bobToken, _ := h.create(t, "bob")

	n, err := h.m.RevokeUser(context.Background(), "alice", nil)
	require.NoError(t, err)
	assert.Equal(t, 3, n)
	for _, tok := range tokens {
		assert.Equal(t, http.StatusUnauthorized, h.authStatus(tok))
	}
	assert.Equal(t, http.StatusOK, h.authStatus(bobToken))
}

func TestRevokeUserKeepsTheGivenSession(t *testing.T) {
	h := newHarness(t, sessionauth.Config{})
	var tokens []string
	var keep *sessionauth.Session
	for i := range 3 {
		tok, s := h.create(t, "alice")
		tokens = append(tokens, tok)
		if i == 1 {
			keep = s
		}
	}
	n, err := h.m.RevokeUser(context.Background(), "alice", keep)
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	assert.Equal(t, http.StatusUnauthorized, h.authStatus(tokens[0]))
	assert.Equal(t, http.StatusOK, h.authStatus(tokens[1]))
	assert.Equal(t, http.StatusUnauthorized, h.authStatus(tokens[2]))
}

func TestListReturnsLiveSessionsNewestFirstWithoutTokens(t *testing.T) {
	h := newHarness(t, sessionauth.Config{IdleTimeout: 30 * time.Minute})
	expiredToken, _ := h.create(t, "alice")
	var ids, secrets []string
	secrets = append(secrets, expiredToken, sessionauth.KeyForToken(expiredToken))
	h.clock.Advance(20 * time.Minute)
	for range 3 {
		tok, s := h.create(t, "alice")
		ids = append([]string{s.ID}, ids...)
		secrets = append(secrets, tok, sessionauth.KeyForToken(tok))
		h.clock.Advance(time.Minute)
	}
	h.create(t, "bob")
	h.clock.Advance(8 * time.Minute) // the first session is now idle for 31 minutes

	list, err := h.m.List(context.Background(), "alice")
	require.NoError(t, err)
	var got []string
	for _, s := range list {
		got = append(got, s.ID)
		assert.Equal(t, "alice", s.UserID)
		dump := fmt.Sprintf("%+v %#v %v", s, s, *s)
		for _, secret := range secrets {
			assert.NotContains(t, dump, secret)
		}
	}
	assert.Equal(t, ids, got)

	none, err := h.m.List(context.Background(), "carol")
	require.NoError(t, err)
	assert.Empty(t, none)
}

func TestRotateIssuesNewTokenForSameSessionAndKillsOldOne(t *testing.T) {
	storeModes(t, func(t *testing.T, o harnessOpts) {
		h := newHarness(t, sessionauth.Config{IdleTimeout: 30 * time.Minute, TouchInterval: time.Minute}, o)
		oldToken, s, err := h.m.Create(context.Background(), "user-1", sessionauth.Metadata{IP: "198.51.100.2", Values: map[string]string{"org": "acme"}})
		require.NoError(t, err)
		h.clock.Advance(5 * time.Minute)
		used := assertAccepted(t, h, oldToken) // touched: the new token must keep this deadline

		newToken, rotated, err := h.m.Rotate(context.Background(), used)
		require.NoError(t, err)
		assert.NotEqual(t, oldToken, newToken)
		assert.Len(t, newToken, sessionauth.TokenLength)
		assert.Equal(t, http.StatusUnauthorized, h.authStatus(oldToken))
		assert.Equal(t, http.StatusOK, h.authStatus(newToken))

		got := assertAccepted(t, h, newToken)
		for _, r := range []*sessionauth.Session{rotated, got} {
			assert.Equal(t, s.ID, r.ID)
			assert.Equal(t, s.UserID, r.UserID)
			assert.Equal(t, s.Values, r.Values)
			assert.Equal(t, s.IP, r.IP)
			assert.True(t, r.CreatedAt.Equal(s.CreatedAt))
			assert.True(t, r.ExpiresAt.Equal(s.ExpiresAt))
			assert.True(t, r.IdleExpiresAt.Equal(used.IdleExpiresAt))
		}

		_, _, err = h.m.Rotate(context.Background(), used)
		assert.ErrorIs(t, err, sessionauth.ErrUnknownSession, "the old session cannot be rotated again")
		_, _, err = h.m.Rotate(context.Background(), nil)
		assert.ErrorIs(t, err, sessionauth.ErrUnknownSession)
	})
}

func TestRotateRefusesExpiredSession(t *testing.T) {
	h := newHarness(t, sessionauth.Config{IdleTimeout: 30 * time.Minute})
	token, s := h.create(t, "user-1")
	h.clock.Advance(30 * time.Minute)
	_, _, err := h.m.Rotate(context.Background(), s)
	require.Error(t, err)
	assert.Equal(t, http.StatusUnauthorized, sessionauth.StatusCode(err))
	assertRejected(t, h, token)
}

// Run under -race: sign-ins, requests, revocations and expiry sweeps on one
// session at once. Every answer is 200 or 401 (never 503, never a panic),
// and once a revocation has returned, no request started after it passes.
func TestConcurrentCreateAuthenticateRevokeSweepOnOneSession(t *testing.T) {
	before := goleak.IgnoreCurrent()
	clock := newTestClock()
	// A real sweep goroutine on a short real-time ticker, plus explicit
	// sweeps: both race the requests.
	mem := memstore.New(memstore.Config{Now: clock.Now, SweepInterval: time.Millisecond})
	m, err := sessionauth.New(sessionauth.Config{
		Store: mem, Now: clock.Now, IdleTimeout: 30 * time.Minute, TouchInterval: time.Minute,
		Logger: slog.New(slog.NewTextHandler(&lockedBuffer{}, nil)),
	})
	require.NoError(t, err)
	protected := m.Require(userHandler)
	// Sessions that expire during the run, for the sweeps to reclaim.
	for range 50 {
		_, _, err := m.Create(context.Background(), "alice", sessionauth.Metadata{})
		require.NoError(t, err)
	}
	clock.Advance(29 * time.Minute)
	token, shared, err := m.Create(context.Background(), "alice", sessionauth.Metadata{})
	require.NoError(t, err)

	var revoked atomic.Bool
	var authenticators atomic.Int64
	var ok200, ok401 atomic.Int64
	check := func(name string, f func()) func() {
		return func() {
			defer func() {
				if p := recover(); p != nil {
					t.Errorf("%s panicked: %v", name, p)
				}
			}()
			f()
		}
	}
	var wg sync.WaitGroup
	for range 4 {
		authenticators.Add(1)
		wg.Go(check("authenticate", func() {
			defer authenticators.Add(-1)
			for range 300 {
				after := revoked.Load()
				switch code := do(protected, "Bearer "+token).Code; {
				case code == http.StatusOK && after:
					t.Errorf("200 after the session was revoked")
				case code == http.StatusOK:
					ok200.Add(1)
				case code == http.StatusUnauthorized:
					ok401.Add(1)
				default:
					t.Errorf("status %d", code)
				}
			}
		}))
	}
	wg.Go(check("create", func() {
		for range 200 {
			tok, s, err := m.Create(context.Background(), "alice", sessionauth.Metadata{})
			if err != nil {
				t.Errorf("create: %v", err)
				return
			}
			if code := do(protected, "Bearer "+tok).Code; code != http.StatusOK && code != http.StatusUnauthorized {
				t.Errorf("new session: status %d", code)
			}
			if _, err := m.List(context.Background(), "alice"); err != nil {
				t.Errorf("list: %v", err)
			}
			if s.UserID != "alice" {
				t.Errorf("user %q", s.UserID)
			}
		}
	}))
	wg.Go(check("revoke", func() {
		for ok200.Load() < 50 && authenticators.Load() > 0 {
			runtime.Gosched()
		}
		if err := m.Revoke(context.Background(), shared); err != nil {
			t.Errorf("revoke: %v", err)
		}
		revoked.Store(true)
		if _, err := m.RevokeUser(context.Background(), "alice", nil); err != nil {
			t.Errorf("revoke user: %v", err)
		}
	}))
	wg.Go(check("sweep", func() {
		// 200 steps of 5 s: the planted sessions expire a minute in, and
		// the shared one, touched or not, outlives the run.
		for range 200 {
			clock.Advance(5 * time.Second)
			_, _ = mem.Sweep(context.Background())
		}
	}))
	wg.Wait()
	require.NoError(t, mem.Close())

	assert.GreaterOrEqual(t, ok200.Load(), int64(50))
	assert.Positive(t, ok401.Load())
	live, err := m.List(context.Background(), "alice")
	require.NoError(t, err)
	assert.Equal(t, len(live), mem.Len(), "the sweeps reclaimed every expired session")
	assert.Equal(t, http.StatusUnauthorized, do(protected, "Bearer "+token).Code)
	goleak.VerifyNone(t, before)
}
