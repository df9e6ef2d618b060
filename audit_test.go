package sessionauth_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionauth/sessionauth"
	"github.com/sessionauth/sessionauth/access/memaccess"
	"github.com/sessionauth/sessionauth/sessionauthtest"
	"github.com/sessionauth/sessionauth/store/memstore"
	"github.com/sessionauth/sessionauth/store/storetest"
)

// TestMain routes the default slog logger, which every Manager without a
// Config.Logger uses, into a buffer at Debug level, and after the whole
// suite fails the run if any line looks like a token or a token hash. Tests
// with their own logger check it themselves with logCapture.assertNoSecrets.
func TestMain(m *testing.M) {
	flag.Parse()
	var out io.Writer = &suiteLog
	if testing.Verbose() {
		out = io.MultiWriter(&suiteLog, os.Stderr)
	}
	slog.SetDefault(slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: slog.LevelDebug})))
	code := m.Run()
	if leaks := secretShaped(suiteLog.String()); len(leaks) > 0 {
		fmt.Fprintf(os.Stderr, "FAIL: the default logger received token- or hash-shaped strings:\n%s\n", strings.Join(leaks, "\n"))
		code = 1
	}
	os.Exit(code)
}

var suiteLog lockedBuffer

// A token is 43 characters of base64url, a store key 64 hex digits; either
// standing alone in a log line is a leak whichever test issued it.
var (
	tokenShaped = regexp.MustCompile(`(?:^|[^A-Za-z0-9_-])([A-Za-z0-9_-]{43})(?:[^A-Za-z0-9_-]|$)`)
	hashShaped  = regexp.MustCompile(`(?:^|[^0-9A-Fa-f])([0-9A-Fa-f]{64})(?:[^0-9A-Fa-f]|$)`)
)

func secretShaped(log string) []string {
	var leaks []string
	for _, line := range strings.Split(log, "\n") {
		if tokenShaped.MatchString(line) || hashShaped.MatchString(line) {
			leaks = append(leaks, line)
		}
	}
	return leaks
}

// logCapture is a Debug-level JSON logger whose output a test inspects.
type logCapture struct {
	buf lockedBuffer
}

func newLogCapture() *logCapture { return &logCapture{} }

func (c *logCapture) logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(&c.buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func (c *logCapture) String() string { return c.buf.String() }

// records returns the logged records, each as its JSON fields.
func (c *logCapture) records(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(c.String()), "\n") {
		if line == "" {
			continue
		}
		var rec map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &rec), line)
		out = append(out, rec)
	}
	return out
}

// find returns the records whose message is msg.
func (c *logCapture) find(t *testing.T, msg string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, rec := range c.records(t) {
		if rec["msg"] == msg {
			out = append(out, rec)
		}
	}
	return out
}

// assertNoSecrets checks that no token of tokens, nor its store key in
// either case, nor anything shaped like one, appears in text.
func assertNoSecrets(t *testing.T, text string, tokens ...string) {
	t.Helper()
	for _, tok := range tokens {
		key := sessionauth.KeyForToken(tok)
		assert.NotContains(t, text, tok, "a token leaked")
		assert.NotContains(t, text, key, "a token's hash leaked")
		assert.NotContains(t, text, strings.ToUpper(key), "a token's hash leaked")
	}
	assert.Empty(t, secretShaped(text), "token- or hash-shaped strings")
}

// eventLog collects the events of Config.OnEvent.
type eventLog struct {
	mu     sync.Mutex
	events []sessionauth.Event
}

func (l *eventLog) record(_ context.Context, e sessionauth.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, e)
}

func (l *eventLog) all() []sessionauth.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]sessionauth.Event(nil), l.events...)
}

func (l *eventLog) ofKind(k sessionauth.EventKind) []sessionauth.Event {
	var out []sessionauth.Event
	for _, e := range l.all() {
		if e.Kind == k {
			out = append(out, e)
		}
	}
	return out
}

// auditServer is a small API over a real listener whose Manager logs to a
// capture and records events, on a memstore behind a fault wrapper.
type auditServer struct {
	*httptest.Server
	m      *sessionauth.Manager
	store  *storetest.Wrapper
	clock  *sessionauthtest.Clock
	log    *logCapture
	events *eventLog
	tokens []string // every token the server handed out
	mu     sync.Mutex
	// storeLag is how far, in ns, the store's clock lags behind clock.
	storeLag atomic.Int64
}

func newAuditServer(t *testing.T) *auditServer {
	t.Helper()
	a := &auditServer{clock: newTestClock(), log: newLogCapture(), events: &eventLog{}}
	storeNow := func() time.Time { return a.clock.Now().Add(-time.Duration(a.storeLag.Load())) }
	mem := memstore.New(memstore.Config{Now: storeNow, SweepInterval: -1})
	a.store = storetest.Wrap(withoutLoader{mem, mem})
	access := memaccess.New()
	require.NoError(t, access.AddOrganization("acme", "Acme"))
	require.NoError(t, access.AddProject("p-1", "Rockets", "acme"))
	require.NoError(t, access.SetProjectRole("p-1", "bob", sessionauth.RoleDeveloper))
	m, err := sessionauth.New(sessionauth.Config{
		Access:        access,
		Store:         a.store.Store(),
		IdleTimeout:   30 * time.Minute,
		Lifetime:      12 * time.Hour,
		TouchInterval: time.Minute,
		Logger:        a.log.logger(),
		Now:           a.clock.Now,
		OnEvent:       a.events.record,
	})
	require.NoError(t, err)
	a.m = m

	mux := http.NewServeMux()
	mux.HandleFunc("POST /sign-in", func(w http.ResponseWriter, r *http.Request) {
		token, _, err := m.Create(r.Context(), r.FormValue("user"), sessionauth.RequestMetadata(r))
		if err != nil {
			m.Error(w, r, err)
			return
		}
		a.issued(token)
		_, _ = io.WriteString(w, token)
	})
	mux.Handle("GET /me", m.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := sessionauth.FromContext(r.Context())
		_, _ = io.WriteString(w, s.UserID)
	})))
	mux.Handle("POST /rotate", m.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := sessionauth.FromContext(r.Context())
		token, _, err := m.Rotate(r.Context(), s)
		if err != nil {
			m.Error(w, r, err)
			return
		}
		a.issued(token)
		_, _ = io.WriteString(w, token)
	})))
	mux.Handle("POST /sign-out", m.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := sessionauth.FromContext(r.Context())
		if err := m.Revoke(r.Context(), s); err != nil {
			m.Error(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})))
	mux.Handle("DELETE /sessions/{id}", m.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := sessionauth.FromContext(r.Context())
		if err := m.RevokeID(r.Context(), s.UserID, r.PathValue("id")); err != nil {
			m.Error(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})))
	mux.Handle("POST /revoke-other-sessions", m.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := sessionauth.FromContext(r.Context())
		if _, err := m.RevokeUser(r.Context(), s.UserID, s); err != nil {
			m.Error(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})))
	mux.Handle("DELETE /projects/{id}", m.RequireRole(sessionauth.RoleAdmin, sessionauth.ProjectFromPath("id"))(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })))
	mux.Handle("POST /projects/{id}/keys", m.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := m.Authorize(r.Context(), r.PathValue("id"), sessionauth.RoleOwner); err != nil {
			m.Error(w, r, err)
			return
		}
		w.WriteHeader(http.StatusCreated)
	})))
	a.Server = httptest.NewServer(mux)
	t.Cleanup(a.Close)
	return a
}

func (a *auditServer) issued(token string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.tokens = append(a.tokens, token)
}

func (a *auditServer) allTokens() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.tokens...)
}

// do sends a request with an optional bearer token and returns status and
// body.
func (a *auditServer) do(t *testing.T, method, path, token string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, a.URL+path, nil)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return send(t, req)
}

func send(t *testing.T, req *http.Request) (int, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(body)
}

func (a *auditServer) signIn(t *testing.T, user string) string {
	t.Helper()
	resp, err := http.PostForm(a.URL+"/sign-in", map[string][]string{"user": {user}})
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	return string(body)
}

func (a *auditServer) session(t *testing.T, token string) *sessionauth.Session {
	t.Helper()
	s, err := a.m.Authenticate(context.Background(), token)
	require.NoError(t, err)
	return s
}

// TestAuditTrailOfAFullScenario drives every kind of event through a real
// server and checks that each is delivered to OnEvent and logged at its
// level with the facts that identify it, and that neither the events nor
// the log hold any token or token hash the server issued.
func TestAuditTrailOfAFullScenario(t *testing.T) {
	a := newAuditServer(t)

	aliceLaptop := a.signIn(t, "alice")
	alicePhone := a.signIn(t, "alice")
	bob1 := a.signIn(t, "bob")
	bob2 := a.signIn(t, "bob")
	phone := a.session(t, alicePhone)
	created := a.events.ofKind(sessionauth.EventSessionCreated)
	require.Len(t, created, 4)
	assert.Equal(t, "alice", created[0].UserID)
	assert.Equal(t, "127.0.0.1", created[0].RemoteAddr)
	assert.Len(t, created[0].SessionID, 22)

	before := len(a.events.all())
	status, _ := a.do(t, "GET", "/me", aliceLaptop)
	require.Equal(t, http.StatusOK, status)
	a.clock.Advance(5 * time.Minute) // the next request touches the session
	status, _ = a.do(t, "GET", "/me", aliceLaptop)
	require.Equal(t, http.StatusOK, status)
	assert.Len(t, a.events.all(), before, "a successful authentication, touch included, is no event")

	status, rotated := a.do(t, "POST", "/rotate", aliceLaptop)
	require.Equal(t, http.StatusOK, status)
	status, _ = a.do(t, "GET", "/me", aliceLaptop)
	assert.Equal(t, http.StatusUnauthorized, status, "the rotated-away token")

	status, _ = a.do(t, "DELETE", "/sessions/"+phone.ID, rotated)
	require.Equal(t, http.StatusNoContent, status)
	status, _ = a.do(t, "POST", "/revoke-other-sessions", bob2)
	require.Equal(t, http.StatusNoContent, status)
	status, _ = a.do(t, "POST", "/sign-out", rotated)
	require.Equal(t, http.StatusNoContent, status)

	status, _ = a.do(t, "DELETE", "/projects/p-1", bob2)
	require.Equal(t, http.StatusForbidden, status, "developer, not admin")
	status, _ = a.do(t, "POST", "/projects/"+strings.Repeat("x", 300)+"/keys", bob2)
	require.Equal(t, http.StatusForbidden, status, "no such project")

	status, _ = a.do(t, "GET", "/me", "")
	require.Equal(t, http.StatusUnauthorized, status)
	status, _ = a.do(t, "GET", "/me", "not-a-token")
	require.Equal(t, http.StatusUnauthorized, status)
	status, _ = a.do(t, "GET", "/me", bob1)
	require.Equal(t, http.StatusUnauthorized, status, "revoked by revoke-other-sessions")

	touchFails := a.store.Fail(errDiskOnFire, storetest.OpTouch)
	a.clock.Advance(5 * time.Minute)
	status, _ = a.do(t, "GET", "/me", bob2)
	require.Equal(t, http.StatusOK, status, "a failed touch does not fail the request")
	getFails := a.store.Fail(errDiskOnFire, storetest.OpGet)
	status, _ = a.do(t, "GET", "/me", bob2)
	require.Equal(t, http.StatusServiceUnavailable, status)
	touchFails()
	getFails()

	// The store hides sessions past their expiry by its own clock; the
	// Manager notices expiry itself when the store's clock lags behind.
	a.storeLag.Store(int64(time.Hour))
	a.clock.Advance(time.Hour)
	status, _ = a.do(t, "GET", "/me?x=1", bob2)
	require.Equal(t, http.StatusUnauthorized, status, "expired")

	rot := a.events.ofKind(sessionauth.EventSessionRotated)
	if assert.Len(t, rot, 1) {
		assert.Equal(t, "alice", rot[0].UserID)
		assert.Equal(t, created[0].SessionID, rot[0].SessionID, "rotation keeps the session ID")
	}
	rev := a.events.ofKind(sessionauth.EventSessionRevoked)
	if assert.Len(t, rev, 2) {
		assert.Equal(t, phone.ID, rev[0].SessionID)
		assert.Equal(t, created[0].SessionID, rev[1].SessionID)
	}
	users := a.events.ofKind(sessionauth.EventUserSessionsRevoked)
	if assert.Len(t, users, 1) {
		assert.Equal(t, "bob", users[0].UserID)
		assert.Equal(t, 1, users[0].Count)
		assert.Equal(t, created[3].SessionID, users[0].SessionID, "the session kept")
	}
	denied := a.events.ofKind(sessionauth.EventAccessDenied)
	if assert.Len(t, denied, 2) {
		assert.Equal(t, sessionauth.Event{
			Kind: sessionauth.EventAccessDenied, Time: denied[0].Time, SessionID: created[3].SessionID, UserID: "bob",
			ProjectID: "p-1", Role: "admin", Method: "DELETE", Path: "/projects/p-1", RemoteAddr: denied[0].RemoteAddr,
		}, denied[0], "RequireRole reports the request")
		assert.NotEmpty(t, denied[0].RemoteAddr)
		assert.Equal(t, sessionauth.Event{
			Kind: sessionauth.EventAccessDenied, Time: denied[1].Time, SessionID: created[3].SessionID, UserID: "bob",
			Role: "owner",
		}, denied[1], "Authorize knows no request, and leaves out an implausible project ID")
	}
	failed := a.events.ofKind(sessionauth.EventAuthFailed)
	var reasons []sessionauth.Reason
	for _, e := range failed {
		reasons = append(reasons, e.Reason)
		assert.Equal(t, "/me", e.Path)
		assert.Equal(t, "GET", e.Method)
		assert.NotEmpty(t, e.RemoteAddr)
		assert.Empty(t, e.SessionID, "a failed authentication knows no session")
	}
	assert.Equal(t, []sessionauth.Reason{sessionauth.ReasonUnknown, sessionauth.ReasonMissing,
		sessionauth.ReasonMalformed, sessionauth.ReasonUnknown}, reasons)
	expired := a.events.ofKind(sessionauth.EventSessionExpired)
	if assert.Len(t, expired, 1) {
		assert.Equal(t, created[3].SessionID, expired[0].SessionID)
		assert.Equal(t, "bob", expired[0].UserID)
		assert.Equal(t, sessionauth.ReasonExpired, expired[0].Reason)
		assert.Equal(t, "/me", expired[0].Path, "the path, without the query")
		assert.Equal(t, a.clock.Now(), expired[0].Time)
	}
	storeFailures := a.events.ofKind(sessionauth.EventStoreFailure)
	if assert.Len(t, storeFailures, 2) {
		assert.Equal(t, "touch", storeFailures[0].Op)
		assert.Equal(t, created[3].SessionID, storeFailures[0].SessionID)
		assert.ErrorIs(t, storeFailures[0].Err, errDiskOnFire)
		assert.ErrorIs(t, storeFailures[1].Err, sessionauth.ErrUnavailable)
		assert.ErrorIs(t, storeFailures[1].Err, errDiskOnFire)
		assert.Equal(t, "/me", storeFailures[1].Path)
	}

	// Every event is logged once, at its level, with its kind.
	levels := map[string]string{}
	logged := 0
	for _, rec := range a.log.records(t) {
		kind, ok := rec["event"].(string)
		if !ok {
			continue // not an event: the development build's warning
		}
		logged++
		if op, _ := rec["op"].(string); op != "" {
			kind += "/" + op
		}
		levels[kind] = rec["level"].(string)
	}
	assert.Equal(t, map[string]string{
		"session_created": "INFO", "session_rotated": "INFO", "session_revoked": "INFO",
		"user_sessions_revoked": "INFO", "access_denied": "INFO", "auth_failed": "DEBUG",
		"session_expired": "INFO", "store_failure/touch": "WARN", "store_failure": "ERROR",
	}, levels)
	assert.Equal(t, len(a.events.all()), logged)
	assert.Len(t, a.log.find(t, "sessionauth: extending session failed; the request goes on"), 1)

	tokens := a.allTokens()
	require.Len(t, tokens, 5)
	assertNoSecrets(t, a.log.String(), tokens...)
	assertNoSecrets(t, fmt.Sprintf("%+v", a.events.all()), tokens...)
}

// TestEventLevels pins the level each kind of event is logged at: the
// defaults operators rely on to keep scanners out of their logs and store
// outages in them.
func TestEventLevels(t *testing.T) {
	for _, tc := range []struct {
		e    sessionauth.Event
		want slog.Level
	}{
		{sessionauth.Event{Kind: sessionauth.EventSessionCreated}, slog.LevelInfo},
		{sessionauth.Event{Kind: sessionauth.EventSessionRotated}, slog.LevelInfo},
		{sessionauth.Event{Kind: sessionauth.EventSessionRevoked}, slog.LevelInfo},
		{sessionauth.Event{Kind: sessionauth.EventUserSessionsRevoked}, slog.LevelInfo},
		{sessionauth.Event{Kind: sessionauth.EventSessionExpired}, slog.LevelInfo},
		{sessionauth.Event{Kind: sessionauth.EventAccessDenied}, slog.LevelInfo},
		{sessionauth.Event{Kind: sessionauth.EventAuthFailed, Reason: sessionauth.ReasonMissing}, slog.LevelDebug},
		{sessionauth.Event{Kind: sessionauth.EventAuthFailed, Reason: sessionauth.ReasonUnknown}, slog.LevelDebug},
		{sessionauth.Event{Kind: sessionauth.EventStoreFailure, Err: errDiskOnFire}, slog.LevelError},
		{sessionauth.Event{Kind: sessionauth.EventStoreFailure, Err: context.DeadlineExceeded}, slog.LevelError},
		{sessionauth.Event{Kind: sessionauth.EventStoreFailure, Op: "touch", Err: errDiskOnFire}, slog.LevelWarn},
		{sessionauth.Event{Kind: sessionauth.EventStoreFailure, Err: fmt.Errorf("x: %w", context.Canceled)}, slog.LevelInfo},
	} {
		t.Run(fmt.Sprintf("%s/%s/%s/%v", tc.e.Kind, tc.e.Reason, tc.e.Op, tc.e.Err), func(t *testing.T) {
			assert.Equal(t, tc.want, tc.e.Level())
		})
	}
}

// TestAuthenticationOutsideMiddlewareIsAudited proves that Authenticate,
// called directly, reports its failures without request facts, and that a
// success is silent.
func TestAuthenticationOutsideMiddlewareIsAudited(t *testing.T) {
	a := newAuditServer(t)
	token := a.signIn(t, "carol")
	n := len(a.events.all())
	_, err := a.m.Authenticate(context.Background(), token)
	require.NoError(t, err)
	assert.Len(t, a.events.all(), n)

	_, err = a.m.Authenticate(context.Background(), "short")
	require.ErrorIs(t, err, sessionauth.ErrUnknownSession)
	failed := a.events.ofKind(sessionauth.EventAuthFailed)
	if assert.Len(t, failed, 1) {
		assert.Equal(t, sessionauth.ReasonMalformed, failed[0].Reason)
		assert.Empty(t, failed[0].Path)
	}
	assertNoSecrets(t, a.log.String(), token)
}

// TestSuccessfulAuthenticationDoesNotAllocate guards the hot path against
// the audit trail: with the in-memory store, authenticating a live session
// that needs no touch allocates nothing.
func TestSuccessfulAuthenticationDoesNotAllocate(t *testing.T) {
	clock := newTestClock()
	store := memstore.New(memstore.Config{Now: clock.Now, SweepInterval: -1})
	var armed atomic.Bool
	m, err := sessionauth.New(sessionauth.Config{Store: store, Now: clock.Now, OnEvent: func(context.Context, sessionauth.Event) {
		if armed.Load() {
			t.Error("an event for a successful authentication")
		}
	}})
	require.NoError(t, err)
	token, _, err := m.Create(context.Background(), "dave", sessionauth.Metadata{})
	require.NoError(t, err)
	armed.Store(true)
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "Bearer "+token)
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := m.AuthenticateRequest(r); err != nil {
			t.Fatal(err)
		}
	})
	assert.Zero(t, allocs)
}

// TestRoleCheckWithoutSessionReportsMissingToken proves that RequireRole,
// which authenticates by itself, reports a request without credentials as
// Require does.
func TestRoleCheckWithoutSessionReportsMissingToken(t *testing.T) {
	a := newAuditServer(t)
	status, body := a.do(t, "DELETE", "/projects/p-1", "")
	require.Equal(t, http.StatusUnauthorized, status)
	assert.Equal(t, sessionauth.BodyUnauthorized, body)
	failed := a.events.ofKind(sessionauth.EventAuthFailed)
	if assert.Len(t, failed, 1) {
		assert.Equal(t, sessionauth.ReasonMissing, failed[0].Reason)
		assert.Equal(t, "/projects/p-1", failed[0].Path)
	}
	assert.Empty(t, a.events.ofKind(sessionauth.EventAccessDenied))
}
