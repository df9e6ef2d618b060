package bearer_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionauth/sessionauth"
	"github.com/sessionauth/sessionauth/bearer"
	"github.com/sessionauth/sessionauth/store/memstore"
)

// api is a real HTTP server whose routes are protected by Manager.Require on
// a memstore, with counters of what reached it.
type api struct {
	srv   *httptest.Server
	m     *sessionauth.Manager
	hits  atomic.Int32 // requests received, accepted or not
	conns atomic.Int32 // TCP connections accepted

	mu          sync.Mutex
	signInAuthz []string // Authorization headers seen by POST /auth/sign-in
}

// newAPI starts the server; routes adds handlers to its mux before it starts.
func newAPI(t *testing.T, routes ...func(*http.ServeMux)) *api {
	t.Helper()
	store := memstore.New(memstore.Config{SweepInterval: -1})
	t.Cleanup(func() { _ = store.Close() })
	m, err := sessionauth.New(sessionauth.Config{
		Store:  store,
		Logger: slog.New(slog.DiscardHandler),
	})
	require.NoError(t, err)
	a := &api{m: m}

	mux := http.NewServeMux()
	// GET or POST anything: echoes the session's user and the body.
	mux.Handle("/", m.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := sessionauth.FromContext(r.Context())
		body, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "user=%s body=%s", s.UserID, body)
	})))
	// A sign-in endpoint, open to anonymous callers as a real one is.
	mux.HandleFunc("POST /auth/sign-in", func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		a.signInAuthz = append(a.signInAuthz, r.Header.Get("Authorization"))
		a.mu.Unlock()
		user, _ := io.ReadAll(r.Body)
		token, _, err := m.Create(r.Context(), string(user), sessionauth.Metadata{})
		if err != nil {
			http.Error(w, "sign-in failed", http.StatusInternalServerError)
			return
		}
		_, _ = io.WriteString(w, token)
	})
	for _, add := range routes {
		add(mux)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.hits.Add(1)
		mux.ServeHTTP(w, r)
	}))
	srv.Config.ConnState = func(_ net.Conn, state http.ConnState) {
		if state == http.StateNew {
			a.conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	a.srv = srv
	return a
}

// token returns the token of a new session of user.
func (a *api) token(t *testing.T, user string) string {
	t.Helper()
	token, _, err := a.m.Create(context.Background(), user, sessionauth.Metadata{})
	require.NoError(t, err)
	return token
}

// revokedToken returns a well-formed token whose session has ended: what a
// client holds after an idle timeout or a sign-out elsewhere.
func (a *api) revokedToken(t *testing.T, user string) string {
	t.Helper()
	token := a.token(t, user)
	s, err := a.m.Authenticate(context.Background(), token)
	require.NoError(t, err)
	require.NoError(t, a.m.Revoke(context.Background(), s))
	return token
}

// counter is a sign-in function that mints a session for user and counts its
// calls.
type counter struct {
	calls atomic.Int32
	fn    func(ctx context.Context) (string, error)
}

func (c *counter) signIn(ctx context.Context) (string, error) {
	c.calls.Add(1)
	return c.fn(ctx)
}

func (a *api) signInAs(t *testing.T, user string) *counter {
	return &counter{fn: func(context.Context) (string, error) {
		token, _, err := a.m.Create(context.Background(), user, sessionauth.Metadata{})
		return token, err
	}}
}

// client returns an http.Client whose Transport targets the api, on a base
// transport of its own so that tests do not share connections.
func (a *api) client(t *testing.T, src bearer.TokenSource) *http.Client {
	t.Helper()
	base := &http.Transport{}
	t.Cleanup(base.CloseIdleConnections)
	return &http.Client{Transport: &bearer.Transport{Origin: a.srv.URL, Source: src, Base: base}}
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(b)
}

func TestTransportAttachesTheToken(t *testing.T) {
	a := newAPI(t)
	signIn := a.signInAs(t, "ada")
	c := a.client(t, bearer.NewSource(a.token(t, "ada"), signIn.signIn))

	req, err := http.NewRequest(http.MethodGet, a.srv.URL+"/projects", nil)
	require.NoError(t, err)
	resp, err := c.Do(req)
	require.NoError(t, err)

	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "user=ada body=", readAll(t, resp))
	assert.Empty(t, req.Header.Get("Authorization"), "the caller's request must not be modified")
	assert.Equal(t, int32(1), a.hits.Load())
	assert.Zero(t, signIn.calls.Load(), "a valid token needs no sign-in")
}

func TestTransportReplacesTheCallersAuthorizationHeader(t *testing.T) {
	a := newAPI(t)
	c := a.client(t, bearer.NewSource(a.token(t, "ada"), nil))

	req, err := http.NewRequest(http.MethodGet, a.srv.URL+"/", nil)
	require.NoError(t, err)
	req.Header.Add("Authorization", "Basic dXNlcjpwYXNz")
	req.Header.Add("Authorization", "Bearer other")
	resp, err := c.Do(req)
	require.NoError(t, err)

	assert.Equal(t, http.StatusOK, resp.StatusCode, "exactly one Authorization header, the source's")
	assert.Equal(t, "user=ada body=", readAll(t, resp))
	assert.Equal(t, []string{"Basic dXNlcjpwYXNz", "Bearer other"}, req.Header.Values("Authorization"))
}

func TestTransportSignsInOnFirstUseWithoutAToken(t *testing.T) {
	a := newAPI(t)
	signIn := a.signInAs(t, "ada")
	c := a.client(t, bearer.NewSource("", signIn.signIn))

	resp, err := c.Get(a.srv.URL + "/")
	require.NoError(t, err)

	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "user=ada body=", readAll(t, resp))
	assert.Equal(t, int32(1), signIn.calls.Load())
	assert.Equal(t, int32(1), a.hits.Load(), "the first request already carries the token")
}

func TestTransportRefreshesOnceAndRetriesAfter401(t *testing.T) {
	for _, method := range []string{http.MethodGet, http.MethodHead, http.MethodDelete, http.MethodOptions} {
		t.Run(method, func(t *testing.T) {
			a := newAPI(t)
			signIn := a.signInAs(t, "ada")
			c := a.client(t, bearer.NewSource(a.revokedToken(t, "ada"), signIn.signIn))

			req, err := http.NewRequest(method, a.srv.URL+"/thing", nil)
			require.NoError(t, err)
			resp, err := c.Do(req)
			require.NoError(t, err)
			_ = readAll(t, resp)

			assert.Equal(t, http.StatusOK, resp.StatusCode)
			assert.Equal(t, int32(1), signIn.calls.Load())
			assert.Equal(t, int32(2), a.hits.Load(), "the rejected request and its retry")
		})
	}
}

func TestTransportReturnsA401ToTheRetryWithoutLooping(t *testing.T) {
	a := newAPI(t)
	// The sign-in "succeeds" with a token the server does not know either.
	// Should the Transport loop, the second sign-in fails the request
	// instead of letting the test spin.
	signIn := &counter{}
	signIn.fn = func(context.Context) (string, error) {
		if signIn.calls.Load() > 1 {
			return "", errors.New("signed in twice")
		}
		return a.revokedToken(t, "ada"), nil
	}
	c := a.client(t, bearer.NewSource(a.revokedToken(t, "ada"), signIn.signIn))

	resp, err := c.Get(a.srv.URL + "/")
	require.NoError(t, err)

	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Equal(t, sessionauth.BodyUnauthorized, readAll(t, resp))
	assert.Equal(t, int32(1), signIn.calls.Load())
	assert.Equal(t, int32(2), a.hits.Load(), "one request and one retry, no more")
}

func TestTransportDrainsTheRejectedResponseSoTheRetryReusesTheConnection(t *testing.T) {
	a := newAPI(t)
	signIn := a.signInAs(t, "ada")
	c := a.client(t, bearer.NewSource(a.revokedToken(t, "ada"), signIn.signIn))

	for range 3 {
		resp, err := c.Get(a.srv.URL + "/")
		require.NoError(t, err)
		require.Equal(t, "user=ada body=", readAll(t, resp))
	}

	assert.Equal(t, int32(4), a.hits.Load())
	assert.Equal(t, int32(1), a.conns.Load(), "every request, the 401 and its retry included, on one connection")
}

func TestTransportRetriesABodyThatGetBodyReplays(t *testing.T) {
	a := newAPI(t)
	signIn := a.signInAs(t, "ada")
	c := a.client(t, bearer.NewSource(a.revokedToken(t, "ada"), signIn.signIn))

	// http.NewRequest sets GetBody for a *strings.Reader.
	req, err := http.NewRequest(http.MethodPost, a.srv.URL+"/keys", strings.NewReader(`{"projectId":"p1"}`))
	require.NoError(t, err)
	require.NotNil(t, req.GetBody)
	resp, err := c.Do(req)
	require.NoError(t, err)

	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, `user=ada body={"projectId":"p1"}`, readAll(t, resp), "the retry carries the whole body")
	assert.Equal(t, int32(1), signIn.calls.Load())
	assert.Equal(t, int32(2), a.hits.Load())
}

func TestTransportDoesNotRetryABodyItCannotReplay(t *testing.T) {
	for _, method := range []string{http.MethodPost, http.MethodPut} {
		t.Run(method, func(t *testing.T) {
			a := newAPI(t)
			signIn := a.signInAs(t, "ada")
			c := a.client(t, bearer.NewSource(a.revokedToken(t, "ada"), signIn.signIn))

			// A stream: http.NewRequest cannot set GetBody for it.
			req, err := http.NewRequest(method, a.srv.URL+"/upload", io.NopCloser(strings.NewReader("chunk")))
			require.NoError(t, err)
			require.Nil(t, req.GetBody)
			resp, err := c.Do(req)
			require.NoError(t, err)

			assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
			assert.Equal(t, sessionauth.BodyUnauthorized, readAll(t, resp))
			assert.Equal(t, int32(1), a.hits.Load(), "not resent")

			// The token was refreshed all the same: the caller's next
			// attempt goes through without another sign-in.
			req, err = http.NewRequest(method, a.srv.URL+"/upload", io.NopCloser(strings.NewReader("chunk")))
			require.NoError(t, err)
			resp, err = c.Do(req)
			require.NoError(t, err)
			assert.Equal(t, http.StatusOK, resp.StatusCode)
			assert.Equal(t, "user=ada body=chunk", readAll(t, resp))
			assert.Equal(t, int32(1), signIn.calls.Load())
		})
	}
}

func TestTransportKeepsTheTokenWithinItsOriginAcrossRedirects(t *testing.T) {
	var mu sync.Mutex
	var elsewhere []http.Header
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		elsewhere = append(elsewhere, r.Header.Clone())
		mu.Unlock()
		_, _ = io.WriteString(w, "landed")
	}))
	t.Cleanup(other.Close)
	a := newAPI(t, func(mux *http.ServeMux) {
		mux.HandleFunc("/away", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, other.URL+"/landing", http.StatusFound)
		})
		mux.HandleFunc("/here", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/home", http.StatusFound)
		})
	})
	// Same host (127.0.0.1), another port: another origin, to which
	// http.Client's own header forwarding rules would not stop a token.
	require.NotEqual(t, a.srv.URL, other.URL)
	c := a.client(t, bearer.NewSource(a.token(t, "ada"), nil))

	resp, err := c.Get(a.srv.URL + "/away")
	require.NoError(t, err)
	assert.Equal(t, "landed", readAll(t, resp))
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, elsewhere, 1)
	assert.Empty(t, elsewhere[0].Values("Authorization"), "the other origin must not receive the token")

	resp, err = c.Get(a.srv.URL + "/here")
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "user=ada body=", readAll(t, resp), "a redirect within the origin keeps the token")
}

func TestTransportSendsRequestsToOtherOriginsUntouched(t *testing.T) {
	a := newAPI(t)
	var mu sync.Mutex
	var got [][]string
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Header.Values("Authorization"))
		mu.Unlock()
		w.WriteHeader(http.StatusUnauthorized)
	}))
	t.Cleanup(other.Close)
	signIn := a.signInAs(t, "ada")
	c := a.client(t, bearer.NewSource(a.token(t, "ada"), signIn.signIn))

	req, err := http.NewRequest(http.MethodGet, other.URL+"/", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Basic b3RoZXI6YXBp")
	resp, err := c.Do(req)
	require.NoError(t, err)
	_ = readAll(t, resp)

	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, [][]string{{"Basic b3RoZXI6YXBp"}}, got, "once, with the caller's own header, not the token")
	assert.Zero(t, signIn.calls.Load(), "a 401 from another origin says nothing about the token")
}

func TestTransportLetsTheSignInUseTheSameClient(t *testing.T) {
	a := newAPI(t)
	var c *http.Client
	signIn := &counter{fn: func(ctx context.Context) (string, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.srv.URL+"/auth/sign-in", strings.NewReader("ada"))
		if err != nil {
			return "", err
		}
		resp, err := c.Do(req)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return string(b), err
	}}
	c = a.client(t, bearer.NewSource(a.revokedToken(t, "ada"), signIn.signIn))

	resp, err := c.Get(a.srv.URL + "/")
	require.NoError(t, err)

	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "user=ada body=", readAll(t, resp))
	assert.Equal(t, int32(1), signIn.calls.Load())
	a.mu.Lock()
	defer a.mu.Unlock()
	assert.Equal(t, []string{""}, a.signInAuthz, "the sign-in request carries no token")
}

func TestTransportReturnsSignInErrors(t *testing.T) {
	a := newAPI(t)
	stale := a.revokedToken(t, "ada")
	errBadPassword := errors.New("bad password")
	signIn := &counter{fn: func(context.Context) (string, error) { return "", errBadPassword }}
	c := a.client(t, bearer.NewSource(stale, signIn.signIn))

	_, err := c.Get(a.srv.URL + "/")

	require.Error(t, err)
	assert.ErrorIs(t, err, errBadPassword)
	assert.NotContains(t, err.Error(), stale)
	assert.Equal(t, int32(1), a.hits.Load())
}

func TestTransportReturnsThe401OfAFixedToken(t *testing.T) {
	a := newAPI(t)
	c := a.client(t, bearer.NewSource(a.revokedToken(t, "ada"), nil))

	resp, err := c.Get(a.srv.URL + "/")
	require.NoError(t, err)

	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Equal(t, `Bearer error="invalid_token"`, resp.Header.Get("WWW-Authenticate"))
	assert.Equal(t, sessionauth.BodyUnauthorized, readAll(t, resp))
	assert.Equal(t, int32(1), a.hits.Load())
}

func TestTransportRefusesMalformedTokensWithoutSendingThem(t *testing.T) {
	for name, token := range map[string]string{
		"header injection": "abc\r\nX-Evil: 1",
		"space":            "abc def",
		"too long":         strings.Repeat("a", 2000),
		"padding inside":   "ab=c",
	} {
		t.Run(name, func(t *testing.T) {
			a := newAPI(t)
			c := a.client(t, bearer.NewSource(token, nil))

			_, err := c.Get(a.srv.URL + "/")

			require.Error(t, err)
			assert.NotContains(t, err.Error(), token)
			assert.Zero(t, a.hits.Load())
		})
	}
}

// closeRecorder is a request body that records whether it was closed.
type closeRecorder struct {
	io.Reader
	closed atomic.Bool
}

func (b *closeRecorder) Close() error { b.closed.Store(true); return nil }

func TestTransportRejectsAMisconfigurationAndClosesTheBody(t *testing.T) {
	src := bearer.NewSource("tok", nil)
	for _, tc := range []struct {
		name string
		tr   *bearer.Transport
	}{
		{"no origin", &bearer.Transport{Source: src}},
		{"no scheme", &bearer.Transport{Origin: "api.example.com", Source: src}},
		{"other scheme", &bearer.Transport{Origin: "ftp://api.example.com", Source: src}},
		{"path", &bearer.Transport{Origin: "https://api.example.com/v1", Source: src}},
		{"query", &bearer.Transport{Origin: "https://api.example.com/?a=b", Source: src}},
		{"user info", &bearer.Transport{Origin: "https://u:p@api.example.com", Source: src}},
		{"no host", &bearer.Transport{Origin: "https://:443", Source: src}},
		{"no source", &bearer.Transport{Origin: "https://api.example.com"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := &closeRecorder{Reader: strings.NewReader("x")}
			req, err := http.NewRequest(http.MethodPost, "https://api.example.com/", body)
			require.NoError(t, err)

			resp, err := tc.tr.RoundTrip(req)

			require.Error(t, err)
			assert.Nil(t, resp)
			assert.True(t, body.closed.Load(), "RoundTrip must close the body on error")
		})
	}
}

// refreshCounter is a TokenSource that counts the Refresh calls that have
// begun, and closes allIn when the n-th begins.
type refreshCounter struct {
	bearer.TokenSource
	n       int32
	entered atomic.Int32
	allIn   chan struct{}
}

func (r *refreshCounter) Refresh(ctx context.Context, stale string) (string, error) {
	if r.entered.Add(1) == r.n {
		close(r.allIn)
	}
	return r.TokenSource.Refresh(ctx, stale)
}

func TestTransportSharesOneSignInAmongConcurrentRequests(t *testing.T) {
	const n = 16
	a := newAPI(t)
	signIn := a.signInAs(t, "ada")
	src := &refreshCounter{n: n, allIn: make(chan struct{})}
	mint := signIn.fn
	// The sign-in holds on until all n requests have been rejected and
	// asked for a fresh token, so that they all overlap with it.
	signIn.fn = func(ctx context.Context) (string, error) {
		select {
		case <-src.allIn:
			return mint(ctx)
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
	src.TokenSource = bearer.NewSource(a.revokedToken(t, "ada"), signIn.signIn)
	c := a.client(t, src)
	// A bound for a broken Transport, so that it fails rather than hangs.
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()

	var wg sync.WaitGroup
	results := make([]string, n)
	for i := range n {
		wg.Go(func() {
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.srv.URL+"/", strings.NewReader(fmt.Sprint(i)))
			if err != nil {
				results[i] = err.Error()
				return
			}
			resp, err := c.Do(req)
			if err != nil {
				results[i] = err.Error()
				return
			}
			body, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			results[i] = fmt.Sprintf("%d %s", resp.StatusCode, body)
		})
	}
	wg.Wait()

	for i, got := range results {
		assert.Equal(t, fmt.Sprintf("200 user=ada body=%d", i), got, "request %d", i)
	}
	assert.Equal(t, int32(n), src.entered.Load())
	assert.Equal(t, int32(1), signIn.calls.Load(), "requests rejected with the same token share one sign-in")
	assert.Equal(t, int32(2*n), a.hits.Load())
}
