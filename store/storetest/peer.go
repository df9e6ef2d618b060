package storetest

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionauth/sessionauth"
	"github.com/sessionauth/sessionauth/sessionauthtest"
)

// Two instances of the application on one store: what a deployment behind a
// load balancer relies on. Both need Harness.Peer.
func peerCases() []testCase {
	return []testCase{
		{"TwoInstancesRevocationOnOneHoldsOnTheOtherAtOnce", needPeer, testPeerRevocation},
		{"TwoInstancesTouchesNeverShortenTheExpiry", needPeer | needFull | needClock, testPeerTouches},
	}
}

// instance is one process of the application: a Manager on its own instance
// of the store, with its own clock, behind a real HTTP listener whose
// handler answers with the session's user.
type instance struct {
	store   sessionauth.Store
	clock   *Clock
	manager *sessionauth.Manager
	srv     *httptest.Server
}

// instances returns the suite's store as instance A and a Peer of it as
// instance B, whose clock starts at A's time.
func (e *env) instances(t *testing.T) (a, b *instance) {
	t.Helper()
	clock := sessionauthtest.NewClock(e.now())
	peer := e.h.Peer(t, clock)
	if peer.Store == nil {
		t.Fatal("storetest: Peer returned a Harness without a Store")
	}
	if peer.Close != nil {
		t.Cleanup(func() {
			if err := peer.Close(); err != nil {
				t.Errorf("closing the peer store: %v", err)
			}
		})
	}
	return newInstance(t, e.store, e.clock), newInstance(t, peer.Store, clock)
}

func newInstance(t *testing.T, store sessionauth.Store, clock *Clock) *instance {
	t.Helper()
	m, err := sessionauth.New(sessionauth.Config{
		Store:         store,
		Now:           clock.Now,
		IdleTimeout:   30 * time.Minute,
		TouchInterval: time.Minute,
		Lifetime:      12 * time.Hour,
		Logger:        slog.New(slog.DiscardHandler),
	})
	require.NoError(t, err)
	srv := httptest.NewServer(m.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := sessionauth.FromContext(r.Context())
		_, _ = io.WriteString(w, s.UserID)
	})))
	t.Cleanup(srv.Close)
	return &instance{store: store, clock: clock, manager: m, srv: srv}
}

// get sends a request with token to the instance's listener and returns the
// status and body of the response.
func (in *instance) get(t *testing.T, token string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, in.srv.URL, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := in.srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(body)
}

func testPeerRevocation(t *testing.T, e *env) {
	ctx := t.Context()
	a, b := e.instances(t)

	token, _, err := a.manager.Create(ctx, "alice", sessionauth.Metadata{})
	require.NoError(t, err)
	code, body := b.get(t, token)
	require.Equal(t, http.StatusOK, code, "a session created on A authenticates on B")
	assert.Equal(t, "alice", body)
	code, _ = a.get(t, token)
	require.Equal(t, http.StatusOK, code)

	s, err := b.manager.Authenticate(ctx, token)
	require.NoError(t, err)
	require.NoError(t, b.manager.Revoke(ctx, s))

	code, body = a.get(t, token)
	assert.Equal(t, http.StatusUnauthorized, code, "A rejects the token on the very next request")
	assert.Equal(t, sessionauth.BodyUnauthorized, body)
}

func testPeerTouches(t *testing.T, e *env) {
	ctx := t.Context()
	a, b := e.instances(t)
	t0 := a.clock.Now()

	token, _, err := a.manager.Create(ctx, "alice", sessionauth.Metadata{})
	require.NoError(t, err)
	key := sessionauth.KeyForToken(token)
	expiry := func() time.Time {
		t.Helper()
		_, exp, found := e.get(t, key)
		require.True(t, found)
		return exp
	}
	assertTime(t, "expiry at creation", t0.Add(30*time.Minute), expiry())

	// The instances' clocks disagree: each request pushes the deadline from
	// its own clock, and the store keeps the latest deadline ever written.
	steps := []struct {
		in      *instance
		advance time.Duration
		want    time.Duration // expected stored expiry, from t0
	}{
		{a, 10 * time.Minute, 40 * time.Minute}, // A touches
		{b, 5 * time.Minute, 40 * time.Minute},  // B is behind: no shortening
		{b, 15 * time.Minute, 50 * time.Minute}, // B touches past A
		{a, 5 * time.Minute, 50 * time.Minute},  // A at t0+15m is behind
		{a, 10 * time.Minute, 55 * time.Minute}, // A at t0+25m touches again
	}
	for i, st := range steps {
		st.in.clock.Advance(st.advance)
		code, _ := st.in.get(t, token)
		require.Equal(t, http.StatusOK, code, "step %d", i)
		assertTime(t, "expiry after step "+strconv.Itoa(i), t0.Add(st.want), expiry())
	}

	// A stale writer on B (its clock behind) cannot pull the deadline back
	// with a touch, nor with a full write of the session.
	full, ok := b.store.(sessionauth.SessionStore)
	require.True(t, ok, "the Peer of a SessionStore is a SessionStore")
	require.NoError(t, full.Touch(ctx, key, t0.Add(45*time.Minute)))
	data, _, found, err := full.Get(ctx, key)
	require.NoError(t, err)
	require.True(t, found)
	require.NoError(t, full.Put(ctx, key, "alice", data, t0.Add(45*time.Minute)))
	assertTime(t, "expiry after stale writes from B", t0.Add(55*time.Minute), expiry())
}
