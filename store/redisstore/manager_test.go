package redisstore_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionauth/sessionauth"
	"github.com/sessionauth/sessionauth/store/redisstore"
)

// instance is one "app instance": a Manager with its own Redis connection,
// store and clock, behind a real HTTP listener.
type instance struct {
	store   *redisstore.Store
	manager *sessionauth.Manager
	clock   *clock
	srv     *httptest.Server
}

func newInstance(t *testing.T, client *redis.Client, prefix string, c *clock) *instance {
	t.Helper()
	store, err := redisstore.New(client, redisstore.Config{Prefix: prefix, Now: c.Now})
	require.NoError(t, err)
	m, err := sessionauth.New(sessionauth.Config{
		Store:         store,
		Now:           c.Now,
		IdleTimeout:   30 * time.Minute,
		TouchInterval: time.Minute,
		Lifetime:      12 * time.Hour,
	})
	require.NoError(t, err)
	srv := httptest.NewServer(m.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := sessionauth.FromContext(r.Context())
		_, _ = io.WriteString(w, s.UserID)
	})))
	t.Cleanup(srv.Close)
	return &instance{store: store, manager: m, clock: c, srv: srv}
}

// get sends an authenticated request and returns the status and body.
func (in *instance) get(t *testing.T, token string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, in.srv.URL, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := in.srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(body)
}

func TestRevocationOnOneInstanceHoldsOnTheOtherAtOnce(t *testing.T) {
	t.Parallel()
	clientA, clientB := newClient(t, ""), newClient(t, "")
	prefix := uniquePrefix(t, clientA)
	a := newInstance(t, clientA, prefix, newClock())
	b := newInstance(t, clientB, prefix, newClock())
	ctx := context.Background()

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

func TestTouchesFromTwoInstancesNeverShortenTheExpiry(t *testing.T) {
	t.Parallel()
	clientA, clientB := newClient(t, ""), newClient(t, "")
	prefix := uniquePrefix(t, clientA)
	a := newInstance(t, clientA, prefix, newClock())
	b := newInstance(t, clientB, prefix, newClock())
	ctx := context.Background()
	t0 := a.clock.Now()

	token, _, err := a.manager.Create(ctx, "alice", sessionauth.Metadata{})
	require.NoError(t, err)
	key := sessionauth.KeyForToken(token)
	expiry := func() time.Time {
		t.Helper()
		_, exp, found, err := a.store.Get(ctx, key)
		require.NoError(t, err)
		require.True(t, found)
		return exp
	}
	require.True(t, expiry().Equal(t0.Add(30*time.Minute)))

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
		assert.True(t, expiry().Equal(t0.Add(st.want)), "step %d: expiry %v, want t0+%v", i, expiry().Sub(t0), st.want)
	}

	// A stale writer on B (its clock behind) cannot pull the deadline back
	// with a touch, nor with a full write of the session.
	require.NoError(t, b.store.Touch(ctx, key, t0.Add(45*time.Minute)))
	data, _, _, err := b.store.Get(ctx, key)
	require.NoError(t, err)
	require.NoError(t, b.store.Put(ctx, key, "alice", data, t0.Add(45*time.Minute)))
	assert.True(t, expiry().Equal(t0.Add(55*time.Minute)))
}

func TestRedisOutageIs503AndRecoversWithoutRestart(t *testing.T) {
	t.Parallel()
	opts, err := redis.ParseURL(redisURL(t))
	require.NoError(t, err)
	p := newProxy(t, opts.Addr)
	client := newClient(t, p.Addr())
	in := newInstance(t, client, uniquePrefix(t, newClient(t, "")), newClock())
	ctx := context.Background()

	token, _, err := in.manager.Create(ctx, "alice", sessionauth.Metadata{})
	require.NoError(t, err)
	code, _ := in.get(t, token)
	require.Equal(t, http.StatusOK, code)

	p.Cut()
	for range 3 {
		code, body := in.get(t, token)
		assert.Equal(t, http.StatusServiceUnavailable, code, "a store outage is not a logout")
		assert.Equal(t, sessionauth.BodyUnavailable, body)
	}
	_, _, err = in.manager.Create(ctx, "bob", sessionauth.Metadata{})
	assert.ErrorIs(t, err, sessionauth.ErrUnavailable)

	p.Restore()
	code, body := in.get(t, token)
	assert.Equal(t, http.StatusOK, code, "the same Manager works again once Redis is back")
	assert.Equal(t, "alice", body)
}

func TestSCSSessionManagerRunsOnTheStore(t *testing.T) {
	t.Parallel()
	client := newClient(t, "")
	store, err := redisstore.New(client, redisstore.Config{Prefix: uniquePrefix(t, client)})
	require.NoError(t, err)

	sm := scs.New()
	sm.Store = store
	sm.Lifetime = time.Hour
	mux := http.NewServeMux()
	mux.HandleFunc("/put", func(w http.ResponseWriter, r *http.Request) { sm.Put(r.Context(), "msg", "hello") })
	mux.HandleFunc("/get", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, sm.GetString(r.Context(), "msg"))
	})
	mux.HandleFunc("/destroy", func(w http.ResponseWriter, r *http.Request) {
		require.NoError(t, sm.Destroy(r.Context()))
	})
	srv := httptest.NewServer(sm.LoadAndSave(mux))
	t.Cleanup(srv.Close)
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	hc := &http.Client{Jar: jar}
	get := func(path string) string {
		t.Helper()
		resp, err := hc.Get(srv.URL + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return string(b)
	}

	get("/put")
	assert.Equal(t, "hello", get("/get"), "the cookie round trip finds the session in Redis")
	all, err := store.All()
	require.NoError(t, err)
	assert.Len(t, all, 1)
	get("/destroy")
	assert.Equal(t, "", get("/get"))
	all, err = store.All()
	require.NoError(t, err)
	assert.Empty(t, all)
}
