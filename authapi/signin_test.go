package authapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/netip"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionauth/sessionauth"
	"github.com/sessionauth/sessionauth/authapi"
)

func TestSignInAnswersTokenAndDeadlinesExactly(t *testing.T) {
	f := newFixture(t)
	r := f.signInAs(t, "ada@example.com", adaPassword)
	require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)

	var fields map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(r.body, &fields))
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	assert.Equal(t, []string{"expiresAt", "idleExpiresAt", "token"}, keys)

	body := decode[struct {
		Token                    string
		ExpiresAt, IdleExpiresAt time.Time
	}](t, r)
	assert.Regexp(t, `^[A-Za-z0-9_-]{43}$`, body.Token)
	now := f.clock.Now()
	assert.True(t, now.Add(f.m.Lifetime()).Equal(body.ExpiresAt), "expiresAt %v", body.ExpiresAt)
	assert.True(t, now.Add(f.m.IdleTimeout()).Equal(body.IdleExpiresAt), "idleExpiresAt %v", body.IdleExpiresAt)

	s, err := f.m.Authenticate(context.Background(), body.Token)
	require.NoError(t, err, "the token is a live session")
	assert.Equal(t, "u-ada", s.UserID)
	assert.Equal(t, "127.0.0.1", s.IP, "the session remembers the client address")
}

func TestSignInRefusesWrongPasswordAndUnknownNameAlike(t *testing.T) {
	f := newFixture(t)
	for _, tt := range []struct{ name, email, pw, user string }{
		{"wrong password", "ada@example.com", "wrong", "u-ada"},
		{"empty password", "ada@example.com", "", "u-ada"},
		{"another account's password", "ada@example.com", bobPassword, "u-ada"},
		{"wrong bcrypt password", "bob@example.com", adaPassword, "u-bob"},
		{"unknown name", "nobody@example.com", adaPassword, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := len(f.eventsOf(sessionauth.EventSignInFailed))
			assertRefused(t, f.signInAs(t, tt.email, tt.pw))
			events := f.eventsOf(sessionauth.EventSignInFailed)
			require.Len(t, events, before+1, "a failed sign-in is an audit event")
			e := events[len(events)-1]
			assert.Equal(t, tt.user, e.UserID)
			assert.Equal(t, "127.0.0.1", e.RemoteAddr)
			assert.Equal(t, "/auth/sign-in", e.Path)
		})
	}
	sessions, err := f.m.List(context.Background(), "u-ada")
	require.NoError(t, err)
	assert.Empty(t, sessions, "no refusal created a session")
}

// badRequest is the exact answer to a sign-in body that is not exactly one
// JSON object of the two fields.
const badRequest = `{"message":"Bad Request: expected {\"email\",\"password\"}"}`

func TestSignInRejectsMalformedRequests(t *testing.T) {
	f := newFixture(t)
	for _, tt := range []struct{ name, body string }{
		{"no body", ""},
		{"not JSON", "email=ada@example.com&password=x"},
		{"unknown field", `{"email":"ada@example.com","password":"x","admin":true}`},
		{"field in another case", `{"Email":"ada@example.com","password":"x"}`},
		{"duplicate key", `{"email":"bob@example.com","email":"ada@example.com","password":"x"}`},
		{"duplicate null key", `{"email":null,"email":"ada@example.com","password":"x"}`},
		{"duplicate password", `{"email":"ada@example.com","password":"x","password":"` + adaPassword + `"}`},
		{"trailing data", `{"email":"ada@example.com","password":"x"} x`},
		{"two objects", `{"email":"ada@example.com","password":"x"}{}`},
		{"number as name", `{"email":1,"password":"x"}`},
		{"object as password", `{"email":"ada@example.com","password":{}}`},
		{"boolean as password", `{"email":"ada@example.com","password":false}`},
		{"array", `[{"email":"ada@example.com","password":"x"}]`},
		{"null body", `null`},
		{"unterminated", `{"email":"ada@example.com","password":"x"`},
		{"oversized", `{"email":"ada@example.com","password":"` + strings.Repeat("a", 5<<10) + `"}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := f.do(t, http.MethodPost, "/auth/sign-in", "", tt.body)
			assert.Equal(t, http.StatusBadRequest, r.status)
			assert.Equal(t, badRequest, string(r.body))
			assert.Empty(t, r.header.Get("WWW-Authenticate"), "a malformed request is not a refused credential")
		})
	}
	assert.Empty(t, f.eventsOf(sessionauth.EventSignInFailed), "a malformed request is no sign-in attempt")
}

// A name or password that is missing or null is a credential no account
// has, not a malformed request: the same 401 as a wrong password, counted by
// the limits and reported alike, never a sign-in, even for an account whose
// password is empty.
func TestSignInRefusesMissingOrNullFieldsLikeAWrongPassword(t *testing.T) {
	f := newFixture(t, func(c *authapi.Config) { c.Limiter = limiter(100, 100, 100) })
	emptyHash, err := f.hasher.Hash(context.Background(), "")
	require.NoError(t, err)
	f.mu.Lock()
	f.hashes["u-ada"] = emptyHash
	f.mu.Unlock()
	require.Equal(t, http.StatusOK, f.signInAs(t, "ada@example.com", "").status, "ada's password is now the empty one")

	for _, tt := range []struct{ name, body string }{
		{"missing password", `{"email":"ada@example.com"}`},
		{"null password", `{"email":"ada@example.com","password":null}`},
		{"missing name", `{"password":""}`},
		{"null name", `{"email":null,"password":""}`},
		{"both null", `{"email":null,"password":null}`},
		{"empty object", `{}`},
		{"name over 320 bytes", credentials(strings.Repeat("a", 321), "")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := len(f.eventsOf(sessionauth.EventSignInFailed))
			assertRefused(t, f.do(t, http.MethodPost, "/auth/sign-in", "", tt.body))
			assert.Len(t, f.eventsOf(sessionauth.EventSignInFailed), before+1, "a refused sign-in is an audit event")
		})
	}
	sessions, err := f.m.List(context.Background(), "u-ada")
	require.NoError(t, err)
	assert.Len(t, sessions, 1, "only the sign-in with the password made a session")
}

func TestMissingPasswordsCountTowardsTheLimits(t *testing.T) {
	f := newFixture(t, func(c *authapi.Config) { c.Limiter = limiter(5, 20, 100) })
	for range 5 {
		assertRefused(t, f.do(t, http.MethodPost, "/auth/sign-in", "", `{"email":"ada@example.com"}`))
	}
	r := f.signInAs(t, "ada@example.com", adaPassword)
	assert.Equal(t, http.StatusTooManyRequests, r.status, "body: %s", r.body)
}

// The sign-in reads any Content-Type, or none, as JSON: the token is in the
// answer's body, which a cross-site form's page cannot read, so there is no
// forgery to stop, and the body is parsed strictly whatever its label.
func TestSignInIgnoresTheContentType(t *testing.T) {
	f := newFixture(t)
	for _, ct := range []string{"application/json", "application/json; charset=utf-8", "text/plain", "application/x-www-form-urlencoded", ""} {
		t.Run(ct, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodPost, f.url+"/auth/sign-in", strings.NewReader(credentials("ada@example.com", adaPassword)))
			require.NoError(t, err)
			if ct != "" {
				req.Header.Set("Content-Type", ct)
			}
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			assert.Equal(t, http.StatusOK, resp.StatusCode)
			assert.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
		})
	}
}

func TestSixthWrongPasswordIsThrottledWithRetryAfter(t *testing.T) {
	f := newFixture(t, func(c *authapi.Config) { c.Limiter = limiter(5, 20, 100) })
	for range 5 {
		assertRefused(t, f.signInAs(t, "ada@example.com", "wrong"))
		f.clock.Advance(time.Second)
	}
	r := f.signInAs(t, "ada@example.com", "wrong")
	assert.Equal(t, http.StatusTooManyRequests, r.status)
	assert.JSONEq(t, `{"message":"Too Many Requests"}`, string(r.body))
	// 5 per minute refills one attempt every 12 s: the first of the five,
	// 5 s ago, is refilled in 7 s.
	assert.Equal(t, "7", r.header.Get("Retry-After"))

	right := f.signInAs(t, "ada@example.com", adaPassword)
	assert.Equal(t, http.StatusTooManyRequests, right.status, "while throttled even the right password waits: it is not checked")
	events := f.eventsOf(sessionauth.EventSignInThrottled)
	require.Len(t, events, 2, "a throttled sign-in is an audit event")
	assert.Equal(t, "127.0.0.1", events[0].RemoteAddr)

	f.clock.Advance(7 * time.Second)
	f.signIn(t, "ada@example.com", adaPassword)
}

func TestRetryAfterRoundsUp(t *testing.T) {
	f := newFixture(t, func(c *authapi.Config) { c.Limiter = limiter(1, 20, 100) })
	assertRefused(t, f.signInAs(t, "ada@example.com", "wrong"))
	f.clock.Advance(59*time.Second + 500*time.Millisecond)
	r := f.signInAs(t, "ada@example.com", "wrong")
	require.Equal(t, http.StatusTooManyRequests, r.status)
	assert.Equal(t, "1", r.header.Get("Retry-After"), "half a second left is one second, never zero")
}

func TestSuccessClearsTheAccountsFailuresButNotTheClients(t *testing.T) {
	// 3 attempts per account and client, 6 per client.
	f := newFixture(t, func(c *authapi.Config) { c.Limiter = limiter(3, 20, 6) })
	assertRefused(t, f.signInAs(t, "ada@example.com", "wrong"))
	assertRefused(t, f.signInAs(t, "ada@example.com", "wrong"))
	f.signIn(t, "ada@example.com", adaPassword) // third attempt: clears ada's counts

	for range 3 {
		// Uncleared, the account's count would be 4 and up: 429.
		assertRefused(t, f.signInAs(t, "ada@example.com", "wrong"))
	}
	// Six attempts from this address: the client's count was not cleared,
	// so a seventh, on any account, waits.
	r := f.signInAs(t, "bob@example.com", bobPassword)
	assert.Equal(t, http.StatusTooManyRequests, r.status, "body: %s", r.body)
	assert.NotEmpty(t, r.header.Get("Retry-After"))
}

// The test server's peer is 127.0.0.1. Without trusted proxies, whatever
// X-Forwarded-For says is ignored: the address is counted and recorded.
func TestXForwardedForFromUntrustedPeerIsIgnored(t *testing.T) {
	f := newFixture(t, func(c *authapi.Config) { c.Limiter = limiter(5, 20, 100) })
	token := f.signIn(t, "ada@example.com", adaPassword, "X-Forwarded-For", "198.51.100.7")
	s, err := f.m.Authenticate(context.Background(), token)
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1", s.IP)

	for i := range 5 {
		assertRefused(t, f.signInAs(t, "bob@example.com", "wrong", "X-Forwarded-For", netip.AddrFrom4([4]byte{203, 0, 113, byte(i)}).String()))
	}
	r := f.signInAs(t, "bob@example.com", "wrong", "X-Forwarded-For", "203.0.113.99")
	assert.Equal(t, http.StatusTooManyRequests, r.status, "a forged header does not buy a fresh budget")
}

func TestXForwardedForIsReadThroughTrustedProxiesOnly(t *testing.T) {
	f := newFixture(t, func(c *authapi.Config) {
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("10.0.0.0/8")}
	})
	for _, tt := range []struct {
		name, xff, want string
	}{
		{"no header: the proxy itself", "", "127.0.0.1"},
		{"one hop", "203.0.113.9", "203.0.113.9"},
		{"a forged entry left of the client", "1.2.3.4, 203.0.113.9", "203.0.113.9"},
		{"through a second trusted proxy", "203.0.113.9, 10.1.2.3", "203.0.113.9"},
		{"IPv4-mapped IPv6", "::ffff:203.0.113.9", "203.0.113.9"},
		{"IPv6", "2001:db8::1", "2001:db8::1"},
		{"garbage from a trusted hop stops at that hop", "203.0.113.9, not-an-ip, 10.1.2.3", "10.1.2.3"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var header []string
			if tt.xff != "" {
				header = []string{"X-Forwarded-For", tt.xff}
			}
			token := f.signIn(t, "ada@example.com", adaPassword, header...)
			s, err := f.m.Authenticate(context.Background(), token)
			require.NoError(t, err)
			assert.Equal(t, tt.want, s.IP)
		})
	}
}

// failingLimiter fails every call, as a limiter whose store is down does.
type failingLimiter struct{}

func (failingLimiter) Attempt(context.Context, string, string, time.Time) (time.Duration, error) {
	return 0, errors.New("redis: connection refused")
}

func (failingLimiter) Succeeded(context.Context, string, string) error {
	return errors.New("redis: connection refused")
}

func TestLimiterFailureFailsClosed(t *testing.T) {
	f := newFixture(t, func(c *authapi.Config) { c.Limiter = failingLimiter{} })
	r := f.signInAs(t, "ada@example.com", adaPassword)
	assert.Equal(t, http.StatusServiceUnavailable, r.status)
	assert.Equal(t, sessionauth.BodyUnavailable, string(r.body))
	assert.Empty(t, r.header.Get("Retry-After"))
	sessions, err := f.m.List(context.Background(), "u-ada")
	require.NoError(t, err)
	assert.Empty(t, sessions, "the right password did not sign in while the limits were unknown")
	assert.Len(t, f.eventsOf(sessionauth.EventStoreFailure), 1, "the outage is reported")
}

func TestAccountLookupFailureIs503(t *testing.T) {
	f := newFixture(t, func(c *authapi.Config) {
		c.Accounts = func(context.Context, string) (authapi.Account, error) {
			return authapi.Account{}, errors.New("database is down")
		}
	})
	r := f.signInAs(t, "ada@example.com", adaPassword)
	assert.Equal(t, http.StatusServiceUnavailable, r.status)
	assert.Empty(t, r.header.Get("WWW-Authenticate"), "an outage is not a refusal")
}

func TestBcryptHashIsUpgradedToArgon2idOnSignIn(t *testing.T) {
	f := newFixture(t)
	f.signIn(t, "bob@example.com", bobPassword)
	f.mu.Lock()
	saved := f.saved["u-bob"]
	f.mu.Unlock()
	require.True(t, strings.HasPrefix(saved, "$argon2id$v=19$m=64,t=1,p=1$"), "saved %q", saved)
	ok, rehash, err := f.hasher.Verify(context.Background(), bobPassword, saved)
	require.NoError(t, err)
	assert.True(t, ok)
	assert.False(t, rehash, "the new hash has the current parameters")

	f.signIn(t, "bob@example.com", bobPassword) // now against the argon2id hash
	f.signIn(t, "ada@example.com", adaPassword)
	f.mu.Lock()
	defer f.mu.Unlock()
	assert.NotContains(t, f.saved, "u-ada", "a current hash is left alone")
}

func TestMalformedStoredHashIsRefusedAndLogged(t *testing.T) {
	f := newFixture(t)
	f.mu.Lock()
	f.hashes["u-ada"] = "$argon2id$v=19$m=4294967295,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5"
	f.mu.Unlock()
	assertRefused(t, f.signInAs(t, "ada@example.com", adaPassword))
	assert.Contains(t, f.logs.String(), "malformed")
}

func TestNoPasswordOrTokenInLogs(t *testing.T) {
	f := newFixture(t, func(c *authapi.Config) { c.Limiter = limiter(2, 20, 100) })
	tokens := []string{
		f.signIn(t, "ada@example.com", adaPassword),
		f.signIn(t, "bob@example.com", bobPassword), // upgrades the hash
	}
	assertRefused(t, f.signInAs(t, "ada@example.com", bobPassword))
	assertRefused(t, f.signInAs(t, "ada@example.com", adaPassword+"x"))
	assertRefused(t, f.signInAs(t, "nobody@example.com", adaPassword))
	assert.Equal(t, http.StatusTooManyRequests, f.signInAs(t, "ada@example.com", adaPassword+"y").status)
	assert.Equal(t, http.StatusNoContent, f.do(t, http.MethodPost, "/auth/sign-out", tokens[0], "").status)
	assert.Equal(t, http.StatusUnauthorized, f.do(t, http.MethodGet, "/auth/session", tokens[0], "").status)

	logs := f.logs.String()
	require.Contains(t, logs, string(sessionauth.EventSignInFailed), "the log was captured")
	require.Contains(t, logs, string(sessionauth.EventSignInThrottled))
	for _, secret := range append(tokens, adaPassword, bobPassword) {
		assert.NotContains(t, logs, secret)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	assert.NotContains(t, logs, f.saved["u-bob"], "nor a password hash")
}
