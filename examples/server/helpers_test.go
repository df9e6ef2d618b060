package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"golang.org/x/crypto/bcrypt"

	"github.com/sessionauth/sessionauth"
	"github.com/sessionauth/sessionauth/password"
	"github.com/sessionauth/sessionauth/store/memstore"
)

// TestMain fails the package if a test leaves a goroutine behind: every
// in-process server must stop completely when its context ends.
func TestMain(m *testing.M) {
	code := m.Run()
	removeBuiltBinaries()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			os.Stderr.WriteString("goroutine leak: " + err.Error() + "\n")
			code = 1
		}
	}
	os.Exit(code)
}

// demoPassword is the server's default -demo-password.
const demoPassword = "demo-password"

// lockedBuffer collects a server's log lines; the server writes it from its
// own goroutines while the test reads it or waits for a line.
type lockedBuffer struct {
	mu      sync.Mutex
	b       bytes.Buffer
	changed chan struct{} // closed and replaced on every write
}

func newLockedBuffer() *lockedBuffer { return &lockedBuffer{changed: make(chan struct{})} }

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	close(l.changed)
	l.changed = make(chan struct{})
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// waitFor waits until the log matches re and returns the match and its
// submatches. It gives up after a minute: a server that has not logged the
// line by then never will.
func (l *lockedBuffer) waitFor(t *testing.T, re *regexp.Regexp) []string {
	t.Helper()
	deadline := time.NewTimer(time.Minute)
	defer deadline.Stop()
	for {
		l.mu.Lock()
		m := re.FindStringSubmatch(l.b.String())
		changed := l.changed
		l.mu.Unlock()
		if m != nil {
			return m
		}
		select {
		case <-changed:
		case <-deadline.C:
			t.Fatalf("no log line matches %q; log:\n%s", re, l)
		}
	}
}

// fakeClock is the sessions' clock in tests of expiry: it moves only when the
// test advances it.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

// newFakeClock returns a clock a day ahead of the real one. The stores keep
// their own real clock for housekeeping (a sweep, a Put of an already expired
// record); being ahead, the fake clock lets only the Manager, which the test
// drives, decide when a session expires.
func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Now().UTC().Add(24 * time.Hour).Truncate(time.Second)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// withClock makes the server's sessions use c.
func withClock(c *fakeClock) func(*appConfig) {
	return func(cfg *appConfig) { cfg.now = c.Now }
}

// withStoreName gives the server's sessions their own table (postgres) or key
// prefix (redis), so that tests running in parallel on one database do not
// see each other's sessions.
func withStoreName(name string) func(*appConfig) {
	return func(cfg *appConfig) { cfg.storeName = name }
}

// testServer is the example server running in this process on a real
// loopback listener.
type testServer struct {
	url    string
	addr   string
	logs   *lockedBuffer
	client *http.Client
	stop   func() error // ends run as SIGTERM would and returns its error
}

// fastPasswords seeds the demo hashes at bcrypt's minimum cost and upgrades
// them to argon2id of 64 KiB and one pass: the default costs make every
// sign-in and every start take seconds under the race detector. The built
// binaries of binary_test.go keep the real costs.
func fastPasswords(cfg *appConfig) {
	cfg.passwordCost = bcrypt.MinCost
	cfg.hashParams = password.Params{Memory: 64, Time: 1}
}

// memoryStore is the -store flag of the in-memory store.
var memoryStore = []string{"-store", "memory"}

// sqliteStore returns the flags of a SQLite store in a new file of the test's
// temporary directory. SQLite is the default store: only the file is named.
func sqliteStore(t *testing.T) []string {
	return []string{"-db", filepath.Join(t.TempDir(), "sessions.db")}
}

// localStore is a store of the server's own machine, as server flags.
type localStore struct {
	name string
	args func(t *testing.T) []string
}

// localStores are the stores the tests of session behaviour run on.
var localStores = []localStore{
	{"memory", func(*testing.T) []string { return memoryStore }},
	{"sqlite", sqliteStore},
}

// startServer runs the server with args on 127.0.0.1:0, with fastPasswords
// and opts, until the test ends, then checks that it shut down cleanly.
func startServer(t *testing.T, args []string, opts ...func(*appConfig)) *testServer {
	t.Helper()
	opts = append([]func(*appConfig){fastPasswords}, opts...)
	ctx, cancel := context.WithCancel(context.Background())
	logs := newLockedBuffer()
	addrc := make(chan string, 1)
	errc := make(chan error, 1)
	args = append([]string{"-addr", "127.0.0.1:0"}, args...)
	go func() {
		errc <- run(ctx, args, logs, func(addr string) { addrc <- addr }, opts...)
	}()
	var addr string
	select {
	case addr = <-addrc:
	case err := <-errc:
		cancel()
		t.Fatalf("server did not start: %v\nlog:\n%s", err, logs)
	}
	transport := &http.Transport{}
	s := &testServer{
		url:    "http://" + addr,
		addr:   addr,
		logs:   logs,
		client: &http.Client{Transport: transport, Timeout: 30 * time.Second},
	}
	var once sync.Once
	var runErr error
	s.stop = func() error {
		once.Do(func() {
			transport.CloseIdleConnections()
			cancel()
			runErr = <-errc
		})
		return runErr
	}
	t.Cleanup(func() {
		assert.NoError(t, s.stop(), "run returns nil after a graceful shutdown")
	})
	return s
}

// discardLogger returns a logger that drops everything.
func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// startApp serves the app of cfg, on a memstore unless cfg names a store,
// on a real loopback listener until the test ends. Unlike startServer it
// gives the test the app itself, to look at what the handlers changed.
func startApp(t *testing.T, cfg appConfig) (*app, *testServer) {
	t.Helper()
	if cfg.store == nil {
		store := memstore.New(memstore.Config{})
		t.Cleanup(func() { _ = store.Close() })
		cfg.store = store
	}
	a, err := newApp(cfg)
	require.NoError(t, err)
	srv := httptest.NewServer(a.routes())
	t.Cleanup(srv.Close)
	transport := &http.Transport{}
	t.Cleanup(transport.CloseIdleConnections)
	return a, &testServer{url: srv.URL, addr: srv.Listener.Addr().String(), logs: newLockedBuffer(),
		client: &http.Client{Transport: transport, Timeout: 30 * time.Second}}
}

// response is a server's answer, read in full.
type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request with the bearer token (none if token is "") and a JSON
// body (none if body is nil; a string is sent as is).
func (s *testServer) do(t *testing.T, method, path, token string, body any) response {
	t.Helper()
	return s.doHeaders(t, method, path, body, authHeader(token))
}

// authHeader is the Authorization header of token, none if token is "".
func authHeader(token string) http.Header {
	h := http.Header{}
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
	return h
}

func (s *testServer) doHeaders(t *testing.T, method, path string, body any, header http.Header) response {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		data, err := json.Marshal(b)
		require.NoError(t, err)
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, s.url+path, rd)
	require.NoError(t, err)
	for k, vs := range header {
		req.Header[k] = vs
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := s.client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	// Every answer of the server, whatever the route or the error.
	assert.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"), "%s %s: %d %s", method, path, resp.StatusCode, data)
	return response{status: resp.StatusCode, header: resp.Header, body: data}
}

func decodeReader(r io.Reader, v any) error { return json.NewDecoder(r).Decode(v) }

// decode unmarshals a JSON response body into a T.
func decode[T any](t *testing.T, r response) T {
	t.Helper()
	var v T
	require.NoError(t, json.Unmarshal(r.body, &v), "body: %s", r.body)
	return v
}

type signInBody struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expiresAt"`
}

// signIn signs email in with the demo password and returns the token.
func (s *testServer) signIn(t *testing.T, email string) string {
	t.Helper()
	r := s.do(t, http.MethodPost, "/auth/sign-in", "", map[string]string{"email": email, "password": demoPassword})
	require.Equal(t, http.StatusOK, r.status, "sign-in of %s: %s", email, r.body)
	return decode[signInBody](t, r).Token
}

// The contract's error bodies, byte for byte. They are written out, not
// taken from the library's constants, so that a change of a constant fails
// these tests as it would fail the server's clients.
const (
	bodyUnauthorized = `{"message":"Unauthorized"}`
	bodyForbidden    = `{"message":"You don't have access to this project"}`
	bodyUnavailable  = `{"message":"Service Unavailable"}`
)

// assertUnauthorized checks the exact 401 of the contract, with a bearer
// challenge of RFC 6750 §3.
func assertUnauthorized(t *testing.T, r response) {
	t.Helper()
	assert.Equal(t, http.StatusUnauthorized, r.status)
	assert.Equal(t, bodyUnauthorized, string(r.body))
	assert.Equal(t, "application/json", r.header.Get("Content-Type"))
	assert.True(t, strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer"),
		"WWW-Authenticate %q is a bearer challenge", r.header.Get("WWW-Authenticate"))
}

// assertForbidden checks the exact 403 of the contract.
func assertForbidden(t *testing.T, r response) {
	t.Helper()
	assert.Equal(t, http.StatusForbidden, r.status)
	assert.Equal(t, bodyForbidden, string(r.body))
	assert.Equal(t, "application/json", r.header.Get("Content-Type"))
}

// assertUnavailable checks the exact 503 of the contract: a store failure is
// never a 401, which would make the client throw its token away.
func assertUnavailable(t *testing.T, r response, msgAndArgs ...any) {
	t.Helper()
	assert.Equal(t, http.StatusServiceUnavailable, r.status, msgAndArgs...)
	assert.Equal(t, bodyUnavailable, string(r.body), msgAndArgs...)
	assert.Equal(t, "application/json", r.header.Get("Content-Type"), msgAndArgs...)
	assert.Empty(t, r.header.Get("WWW-Authenticate"), msgAndArgs...)
}

// assertNoSecret checks that text holds neither the token nor the key the
// store files it under.
func assertNoSecret(t *testing.T, text, token, what string) {
	t.Helper()
	assert.NotContains(t, text, token, "%s holds a token", what)
	assert.NotContains(t, text, sessionauth.KeyForToken(token), "%s holds a token's store key", what)
}
