package main

import (
	"context"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// from returns a client of s whose connections come from the loopback
// address ip (Linux routes all of 127.0.0.0/8 to lo), so that the server sees
// another peer without any proxy header.
func (s *testServer) from(t *testing.T, ip string) *testServer {
	t.Helper()
	local := net.ParseIP(ip)
	require.NotNil(t, local)
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: local}}
	transport := &http.Transport{DialContext: dialer.DialContext}
	t.Cleanup(transport.CloseIdleConnections)
	c := *s
	c.client = &http.Client{Transport: transport, Timeout: 30 * time.Second}
	return &c
}

// signInWith posts email and password to s's sign-in.
func (s *testServer) signInWith(t *testing.T, email, password string) response {
	t.Helper()
	return s.do(t, http.MethodPost, "/auth/sign-in", "", map[string]string{"email": email, "password": password})
}

// assertThrottled checks the 429 of the sign-in limits and returns its
// Retry-After.
func assertThrottled(t *testing.T, r response) time.Duration {
	t.Helper()
	assert.Equal(t, http.StatusTooManyRequests, r.status, "body: %s", r.body)
	assert.Equal(t, `{"message":"Too Many Requests"}`, string(r.body))
	assert.Equal(t, "application/json", r.header.Get("Content-Type"))
	assert.Empty(t, r.header.Get("WWW-Authenticate"), "a throttled sign-in refuses no credential: none was checked")
	secs, err := strconv.Atoi(r.header.Get("Retry-After"))
	if assert.NoError(t, err, "Retry-After %q is whole seconds", r.header.Get("Retry-After")) {
		assert.Positive(t, secs)
	}
	return time.Duration(secs) * time.Second
}

// TestSixthWrongPasswordIsThrottled sends five wrong passwords for one
// account, a second apart on the server's clock, from one client address and
// from two: the sixth is a 429 with Retry-After, the right password too
// (it is not even checked) until Retry-After has passed, and then it signs
// in. The limits are the server's defaults: 5 per account and address per 5
// minutes, 5 per account per minute.
func TestSixthWrongPasswordIsThrottled(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		clients []string // the attempts go round these peers
		// wantRetry is the Retry-After of the sixth attempt: the rule
		// that refuses it refills one attempt per interval, counted from
		// the first of the five, 4 s before.
		wantRetry time.Duration
	}{
		// 5 per account and address per 5 minutes: one back a minute.
		{"one address", []string{"127.0.0.1"}, 56 * time.Second},
		// 3 and 3: neither address reaches its own limit, the account's
		// 5 per minute refuses, one back every 12 s.
		{"two addresses", []string{"127.0.0.2", "127.0.0.3"}, 8 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clock := newFakeClock()
			s := startServer(t, sqliteStore(t), withClock(clock))
			var clients []*testServer
			for _, ip := range tt.clients {
				clients = append(clients, s.from(t, ip))
			}
			client := func(i int) *testServer { return clients[i%len(clients)] }

			for i := range 5 {
				assertUnauthorized(t, client(i).signInWith(t, "admin@example.com", "wrong"))
				if i < 4 {
					clock.Advance(time.Second)
				}
			}
			retry := assertThrottled(t, client(5).signInWith(t, "admin@example.com", "wrong"))
			assert.Equal(t, tt.wantRetry, retry)

			clock.Advance(retry - time.Second)
			assertThrottled(t, client(5).signInWith(t, "admin@example.com", demoPassword))
			clock.Advance(time.Second)
			r := client(5).signInWith(t, "admin@example.com", demoPassword)
			require.Equal(t, http.StatusOK, r.status, "after Retry-After the right password signs in; body: %s", r.body)

			token := decode[signInBody](t, r).Token
			assert.Equal(t, tt.clients[5%len(tt.clients)], currentSession(t, s, token).Session.IP,
				"the server saw the dialled peer")
			client(0).signIn(t, "owner@example.com") // another account was never throttled
		})
	}
}

// TestInstancesShareSignInLimits runs two servers on one store, as two
// instances behind a load balancer: wrong passwords sent to both in turn
// add up, and the sixth is refused by an instance that itself admitted only
// two, because the counts live in the shared store (the SQLite file, Redis,
// PostgreSQL), not in either process.
func TestInstancesShareSignInLimits(t *testing.T) {
	t.Parallel()
	stores := []namedFlags{{"sqlite", func(t *testing.T) ([]string, string) {
		return []string{"-store", "sqlite", "-db", filepath.Join(t.TempDir(), "shared.db")}, ""
	}}}
	for _, shared := range sharedStores {
		stores = append(stores, namedFlags{shared.name, shared.flags})
	}
	for _, store := range stores {
		t.Run(store.name, func(t *testing.T) {
			t.Parallel()
			clock := newFakeClock()
			args, name := store.flags(t)
			a := startServer(t, args, withStoreName(name), withClock(clock))
			b := startServer(t, args, withStoreName(name), withClock(clock))
			instances := []*testServer{a, b}
			for i := range 5 {
				assertUnauthorized(t, instances[i%2].signInWith(t, "developer@example.com", "wrong"))
				clock.Advance(time.Second)
			}
			assertThrottled(t, b.signInWith(t, "developer@example.com", demoPassword))
			assertThrottled(t, a.signInWith(t, "developer@example.com", demoPassword))

			// A correct sign-in on one instance clears the account's
			// counts for both.
			clock.Advance(time.Minute)
			a.signIn(t, "developer@example.com")
			for range 4 {
				assertUnauthorized(t, b.signInWith(t, "developer@example.com", "wrong"))
			}
		})
	}
}

// TestTrustedProxiesNameTheClient sends sign-ins through a "proxy" at
// 127.0.0.1 that appends the client's address to X-Forwarded-For. With
// -trusted-proxies naming it, each client address has its own budget on an
// account and the session records the client; without, the header is the
// client's own word and is ignored: every attempt is the proxy's.
func TestTrustedProxiesNameTheClient(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		args    []string
		trusted bool
	}{
		{"-trusted-proxies 127.0.0.1/32", []string{"-trusted-proxies", "127.0.0.1/32"}, true},
		{"no -trusted-proxies", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clock := newFakeClock()
			s := startServer(t, append(tt.args, "-store", "memory"), withClock(clock))
			signIn := func(t *testing.T, client, password string) response {
				t.Helper()
				return s.doHeaders(t, http.MethodPost, "/auth/sign-in",
					map[string]string{"email": "admin@example.com", "password": password},
					http.Header{"X-Forwarded-For": {client}})
			}

			r := signIn(t, "203.0.113.9", demoPassword)
			require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
			wantIP := "127.0.0.1"
			if tt.trusted {
				wantIP = "203.0.113.9"
			}
			assert.Equal(t, wantIP, currentSession(t, s, decode[signInBody](t, r).Token).Session.IP)

			for range 5 {
				assertUnauthorized(t, signIn(t, "203.0.113.1", "wrong"))
			}
			// 12 s on, the account has one attempt back (5 per minute);
			// the address that spent five has none (5 per 5 minutes).
			clock.Advance(12 * time.Second)
			assertThrottled(t, signIn(t, "203.0.113.1", "wrong"))
			other := signIn(t, "203.0.113.2", "wrong")
			if tt.trusted {
				assertUnauthorized(t, other)
			} else {
				assertThrottled(t, other)
			}
		})
	}
}

// TestDemoUsersMoveToArgon2idAtSignIn checks the example's SaveHash: a demo
// user's seeded bcrypt hash is replaced by an argon2id one at the first
// sign-in, and the password works against it, the wrong one not.
func TestDemoUsersMoveToArgon2idAtSignIn(t *testing.T) {
	t.Parallel()
	cfg := appConfig{demoPassword: demoPassword, log: discardLogger()}
	fastPasswords(&cfg)
	a, s := startApp(t, cfg)
	hash := func() string {
		acct, err := a.users.account(context.Background(), "owner@example.com")
		require.NoError(t, err)
		return acct.PasswordHash
	}
	require.Regexp(t, `^\$2a\$`, hash(), "seeded as bcrypt")

	s.signIn(t, "owner@example.com")
	assert.Regexp(t, `^\$argon2id\$v=19\$m=64,t=1,p=1\$`, hash(), "upgraded at sign-in")
	upgraded := hash()
	s.signIn(t, "owner@example.com")
	assertUnauthorized(t, s.signInWith(t, "owner@example.com", "wrong"))
	assert.Equal(t, upgraded, hash(), "a current hash is left alone")
	assert.Regexp(t, `^\$2a\$`, func() string {
		acct, err := a.users.account(context.Background(), "admin@example.com")
		require.NoError(t, err)
		return acct.PasswordHash
	}(), "another user's hash is untouched until they sign in")
}
