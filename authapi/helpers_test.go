package authapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/sessionauth/sessionauth"
	"github.com/sessionauth/sessionauth/authapi"
	"github.com/sessionauth/sessionauth/password"
	"github.com/sessionauth/sessionauth/ratelimit"
	"github.com/sessionauth/sessionauth/sessionauthtest"
	"github.com/sessionauth/sessionauth/store/memstore"
)

// Passwords of the test accounts. Each is distinctive, so a log that held
// one would show it.
const (
	adaPassword = "ada-password-Zq81"
	bobPassword = "bob-password-Xk27"
)

// cheap are argon2id parameters that make a check take microseconds: the
// tests are about the endpoints, not the cost.
var cheap = password.Params{Memory: 64, Time: 1}

// fixture is a real HTTP server with the endpoints on memstore, accounts
// ada (argon2id hash, user u-ada) and bob (bcrypt hash, user u-bob), one
// clock for sessions and limits, and every log line and audit event kept.
type fixture struct {
	url    string
	m      *sessionauth.Manager
	clock  *sessionauthtest.Clock
	logs   *syncBuffer
	hasher *password.Hasher

	mu     sync.Mutex
	hashes map[string]string // user ID -> stored hash
	saved  map[string]string // user ID -> hash SaveHash received
	events []sessionauth.Event
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newFixture(t *testing.T, configure ...func(*authapi.Config)) *fixture {
	t.Helper()
	f := &fixture{
		clock:  sessionauthtest.NewClock(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)),
		logs:   &syncBuffer{},
		hashes: map[string]string{},
		saved:  map[string]string{},
	}
	logger := slog.New(slog.NewJSONHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	store := memstore.New(memstore.Config{SweepInterval: -1, Now: f.clock.Now})
	t.Cleanup(func() { _ = store.Close() })
	m, err := sessionauth.New(sessionauth.Config{
		Store: store, Now: f.clock.Now, Logger: logger,
		OnEvent: func(_ context.Context, e sessionauth.Event) {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.events = append(f.events, e)
		},
	})
	require.NoError(t, err)
	f.m = m
	f.hasher, err = password.New(cheap)
	require.NoError(t, err)
	adaHash, err := f.hasher.Hash(context.Background(), adaPassword)
	require.NoError(t, err)
	bobHash, err := bcrypt.GenerateFromPassword([]byte(bobPassword), bcrypt.MinCost)
	require.NoError(t, err)
	f.hashes["u-ada"], f.hashes["u-bob"] = adaHash, string(bobHash)
	ids := map[string]string{"ada@example.com": "u-ada", "bob@example.com": "u-bob"}

	cfg := authapi.Config{
		Manager: m,
		Accounts: func(_ context.Context, name string) (authapi.Account, error) {
			id, ok := ids[strings.ToLower(name)]
			if !ok {
				return authapi.Account{}, authapi.ErrNoSuchAccount
			}
			f.mu.Lock()
			defer f.mu.Unlock()
			return authapi.Account{UserID: id, PasswordHash: f.hashes[id]}, nil
		},
		SaveHash: func(_ context.Context, userID, hash string) error {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.saved[userID], f.hashes[userID] = hash, hash
			return nil
		},
		ShowUser: func(_ context.Context, userID string) (any, error) {
			return map[string]string{"id": userID, "name": strings.TrimPrefix(userID, "u-")}, nil
		},
		Hasher: f.hasher,
		Logger: logger,
		Now:    f.clock.Now,
	}
	for _, c := range configure {
		c(&cfg)
	}
	api, err := authapi.New(cfg)
	require.NoError(t, err)
	mux := http.NewServeMux()
	api.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	f.url = srv.URL
	return f
}

// limiter returns the sign-in limiter with the given limits per account and
// client, per account, and per client, all per minute.
func limiter(accountClient, account, client int) authapi.Limiter {
	l, err := ratelimit.New(ratelimit.Config{
		AccountClient: ratelimit.Rule{Limit: accountClient, Window: time.Minute},
		Account:       ratelimit.Rule{Limit: account, Window: time.Minute},
		Client:        ratelimit.Rule{Limit: client, Window: time.Minute},
	})
	if err != nil {
		panic(err)
	}
	return l
}

type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request and checks what every answer of the package carries.
func (f *fixture) do(t *testing.T, method, path, token string, body string, header ...string) response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, f.url+path, rd)
	require.NoError(t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"), "%s %s", method, path)
	assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"), "%s %s", method, path)
	if resp.StatusCode != http.StatusNoContent {
		assert.Equal(t, "application/json", resp.Header.Get("Content-Type"), "%s %s", method, path)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: data}
}

func credentials(email, pw string) string {
	b, _ := json.Marshal(map[string]string{"email": email, "password": pw})
	return string(b)
}

func (f *fixture) signInAs(t *testing.T, email, pw string, header ...string) response {
	t.Helper()
	return f.do(t, http.MethodPost, "/auth/sign-in", "", credentials(email, pw), header...)
}

// signIn signs in and returns the token; it must succeed.
func (f *fixture) signIn(t *testing.T, email, pw string, header ...string) string {
	t.Helper()
	r := f.signInAs(t, email, pw, header...)
	require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
	var body struct{ Token string }
	require.NoError(t, json.Unmarshal(r.body, &body))
	return body.Token
}

func assertRefused(t *testing.T, r response) {
	t.Helper()
	assert.Equal(t, http.StatusUnauthorized, r.status)
	assert.Equal(t, sessionauth.BodyUnauthorized, string(r.body))
	assert.Equal(t, "Bearer", r.header.Get("WWW-Authenticate"), "every refusal of a credential carries the challenge")
}

func (f *fixture) eventsOf(kind sessionauth.EventKind) []sessionauth.Event {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []sessionauth.Event
	for _, e := range f.events {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

func decode[T any](t *testing.T, r response) T {
	t.Helper()
	var v T
	require.NoError(t, json.Unmarshal(r.body, &v), "body: %s", r.body)
	return v
}
