package sessionauth_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionauth/sessionauth"
	"github.com/sessionauth/sessionauth/store/memstore"
)

// hostileFixture is a route protected by Require over a real listener, and
// tokens of sessions in every state a token can be in.
type hostileFixture struct {
	srv     *httptest.Server
	log     *logCapture
	handled atomic.Int32

	valid, revoked, idleExpired, lifetimeExpired  string
	rotatedAway, signedOutEverywhere, revokedByID string
	foreign                                       string // valid, but for another store
	validID                                       string // the session ID of valid
}

func newHostileFixture(t *testing.T) *hostileFixture {
	t.Helper()
	ctx := context.Background()
	f := &hostileFixture{log: newLogCapture()}
	clock := newTestClock()
	store := memstore.New(memstore.Config{Now: clock.Now, SweepInterval: -1})
	m, err := sessionauth.New(sessionauth.Config{
		Store: store, IdleTimeout: 30 * time.Minute, Lifetime: time.Hour, TouchInterval: time.Minute,
		Logger: f.log.logger(), Now: clock.Now,
	})
	require.NoError(t, err)
	create := func(user string) (string, *sessionauth.Session) {
		tok, s, err := m.Create(ctx, user, sessionauth.Metadata{})
		require.NoError(t, err)
		return tok, s
	}

	f.idleExpired, _ = create("mallory")
	f.lifetimeExpired, _ = create("oscar")
	for range 2 { // used every 25 minutes: the idle timeout never strikes
		clock.Advance(25 * time.Minute)
		_, err := m.Authenticate(ctx, f.lifetimeExpired)
		require.NoError(t, err)
	}
	clock.Advance(11 * time.Minute) // 61 minutes: past the lifetime
	_, err = m.Authenticate(ctx, f.lifetimeExpired)
	require.Error(t, err)

	var s *sessionauth.Session
	f.valid, s = create("alice")
	f.validID = s.ID
	f.revoked, s = create("alice")
	require.NoError(t, m.Revoke(ctx, s))
	f.rotatedAway, s = create("alice")
	_, _, err = m.Rotate(ctx, s)
	require.NoError(t, err)
	f.revokedByID, s = create("alice")
	require.NoError(t, m.RevokeID(ctx, "alice", s.ID))
	f.signedOutEverywhere, _ = create("bob")
	_, err = m.RevokeUser(ctx, "bob", nil)
	require.NoError(t, err)

	other, err := sessionauth.New(sessionauth.Config{Store: memstore.New(memstore.Config{SweepInterval: -1}), Logger: f.log.logger()})
	require.NoError(t, err)
	f.foreign, _, err = other.Create(ctx, "alice", sessionauth.Metadata{})
	require.NoError(t, err)

	f.srv = httptest.NewServer(m.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.handled.Add(1)
		_, _ = io.WriteString(w, "secret")
	})))
	t.Cleanup(f.srv.Close)
	return f
}

// hostileCase is one request. Exactly one of build and raw is set: build
// adjusts a GET /protected that the http client sends; raw is sent as is over
// a TCP connection, for what the client refuses to send.
type hostileCase struct {
	name    string
	build   func(r *http.Request)
	raw     string
	noToken bool // no credentials presented: the challenge carries no error
}

func bearer(values ...string) func(*http.Request) {
	return func(r *http.Request) { r.Header["Authorization"] = values }
}

// rawGET is a request with the given header lines, ready for the wire.
func rawGET(headerLines ...string) string {
	return "GET /protected HTTP/1.1\r\nHost: localhost\r\n" + strings.Join(headerLines, "\r\n") + "\r\nConnection: close\r\n\r\n"
}

// nonCanonical returns tok with its last character changed so that it
// carries bits a 32-byte token never has: the same bytes under base64
// decoders that ignore them, a different token to this package.
func nonCanonical(tok string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	i := strings.IndexByte(alphabet, tok[len(tok)-1])
	return tok[:len(tok)-1] + string(alphabet[i|1])
}

func (f *hostileFixture) cases() []hostileCase {
	v := f.valid
	nearLimit := http.DefaultMaxHeaderBytes - 4096 // what the server accepts, less room for the other headers
	var std [32]byte
	_, _ = rand.Read(std[:])
	cases := []hostileCase{
		// Schemes.
		{name: "no Authorization header", build: func(*http.Request) {}, noToken: true},
		{name: "empty Authorization header", build: bearer("")},
		{name: "scheme alone", build: bearer("Bearer")},
		{name: "Basic credentials", build: bearer("Basic YWxpY2U6aHVudGVyMg=="), noToken: true},
		{name: "Digest credentials", build: bearer(`Digest username="alice", response="x"`), noToken: true},
		{name: "valid token under another scheme", build: bearer("Token " + v), noToken: true},
		{name: "valid token with no scheme", build: bearer(v), noToken: true},
		{name: "scheme with a suffix", build: bearer("Bearerx " + v), noToken: true},
		{name: "scheme truncated", build: bearer("Bear " + v), noToken: true},
		{name: "scheme followed by a colon", build: bearer("Bearer: " + v)},
		{name: "scheme followed by equals", build: bearer("Bearer=" + v)},
		{name: "scheme followed by a comma", build: bearer("Bearer," + v)},
		{name: "scheme twice", build: bearer("Bearer Bearer " + v)},
		{name: "homoglyph scheme", build: bearer("Bеarer " + v)}, // Cyrillic е
		{name: "fullwidth scheme", build: bearer("Ｂｅａｒｅｒ " + v)}, // U+FF22...
		// Spacing.
		{name: "tab after the scheme", build: bearer("Bearer\t" + v)},
		{name: "no-break space after the scheme", build: bearer("Bearer\u00a0" + v)},
		{name: "ideographic space after the scheme", build: bearer("Bearer\u3000" + v)},
		{name: "space inside the token", build: bearer("Bearer " + v[:20] + " " + v[20:])},
		{name: "second token after a space", build: bearer("Bearer " + v + " " + v)},
		{name: "second token after a comma", build: bearer("Bearer " + v + "," + v)},
		{name: "zero-width space before the token", build: bearer("Bearer \u200b" + v)},
		// Token shape and length.
		{name: "one character short", build: bearer("Bearer " + v[:len(v)-1])},
		{name: "one character long", build: bearer("Bearer " + v + "A")},
		{name: "base64 padding appended", build: bearer("Bearer " + v + "=")},
		{name: "non-canonical last character", build: bearer("Bearer " + nonCanonical(v))},
		{name: "token in upper case", build: bearer("Bearer " + strings.ToUpper(v))},
		{name: "standard base64 of 32 bytes", build: bearer("Bearer " + base64.StdEncoding.EncodeToString(std[:]))},
		{name: "the store key of a valid token", build: bearer("Bearer " + sessionauth.KeyForToken(v))},
		{name: "the session ID of a valid session", build: bearer("Bearer " + f.validID)},
		{name: "a JWT", build: bearer("Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbGljZSJ9.")},
		{name: "one past the parser's cap", build: bearer("Bearer " + strings.Repeat("A", sessionauth.MaxAuthorizationLength))},
		{name: "just below the server's header limit", build: bearer("Bearer " + strings.Repeat("A", nearLimit))},
		{name: "valid token after spaces up to the header limit", build: bearer("Bearer" + strings.Repeat(" ", nearLimit) + v)},
		// Non-ASCII.
		{name: "UTF-8 token", build: bearer("Bearer tökén")},
		{name: "UTF-8 after a valid token", build: bearer("Bearer " + v + "é")},
		{name: "Latin-1 byte in the token", build: bearer("Bearer " + v[:42] + "\xff")},
		{name: "invalid UTF-8 only", build: bearer("Bearer \xc3\x28\xa0\xa1")},
		// Duplicate headers.
		{name: "the valid token twice", build: bearer("Bearer "+v, "Bearer "+v)},
		{name: "valid then junk", build: bearer("Bearer "+v, "Bearer junk")},
		{name: "empty then valid", build: bearer("", "Bearer "+v)},
		{name: "Basic then valid", build: bearer("Basic YWxpY2U6aHVudGVyMg==", "Bearer "+v)},
		// Elsewhere than the Authorization header.
		{name: "token in the query", build: func(r *http.Request) { r.URL.RawQuery = "access_token=" + v }, noToken: true},
		{name: "token in a form body", build: func(r *http.Request) {
			r.Method = http.MethodPost
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			body := url.Values{"access_token": {v}}.Encode()
			r.Body, r.ContentLength = io.NopCloser(strings.NewReader(body)), int64(len(body))
		}, noToken: true},
		{name: "token in a cookie", build: func(r *http.Request) {
			r.AddCookie(&http.Cookie{Name: "access_token", Value: v})
			r.AddCookie(&http.Cookie{Name: "session", Value: v})
		}, noToken: true},
		{name: "token in X-Auth-Token", build: func(r *http.Request) { r.Header.Set("X-Auth-Token", v) }, noToken: true},
		{name: "token in Proxy-Authorization", build: func(r *http.Request) { r.Header.Set("Proxy-Authorization", "Bearer "+v) }, noToken: true},
		{name: "junk header and a valid token in the query", build: func(r *http.Request) {
			r.Header.Set("Authorization", "Bearer junk")
			r.URL.RawQuery = "access_token=" + v
		}},
		// Tokens of sessions that are not live.
		{name: "revoked session", build: bearer("Bearer " + f.revoked)},
		{name: "revoked session, lower-case scheme", build: bearer("bearer " + f.revoked)},
		{name: "revoked session, many spaces", build: bearer("BEARER     " + f.revoked)},
		{name: "session revoked by ID", build: bearer("Bearer " + f.revokedByID)},
		{name: "session of a user signed out everywhere", build: bearer("Bearer " + f.signedOutEverywhere)},
		{name: "session past its idle timeout", build: bearer("Bearer " + f.idleExpired)},
		{name: "session past its lifetime though in use", build: bearer("Bearer " + f.lifetimeExpired)},
		{name: "token rotated away", build: bearer("Bearer " + f.rotatedAway)},
		{name: "token of another store's session", build: bearer("Bearer " + f.foreign)},
		// Sent raw: what the client normalises or refuses.
		{name: "raw: two Authorization lines, second lower-case", raw: rawGET("Authorization: Bearer "+v, "authorization: Bearer "+v)},
		{name: "raw: header name in upper case, revoked token", raw: rawGET("AUTHORIZATION: Bearer " + f.revoked)},
		{name: "raw: no space after the colon, revoked token", raw: rawGET("Authorization:Bearer " + f.revoked)},
		{name: "raw: tab-separated valid token", raw: rawGET("Authorization: Bearer\t" + v)},
		{name: "raw: bytes 0x80-0xff in the token", raw: rawGET("Authorization: Bearer " + v[:40] + "\x80\xfe\xff")},
		{name: "raw: header folded onto a second line, revoked token", raw: rawGET("Authorization: Bearer", " "+f.revoked)},
	}
	if !sessionauth.DevMode {
		cases = append(cases, hostileCase{name: "the development token in a default build", build: bearer("Bearer test-token")})
	}
	return cases
}

// TestHostileRequestsAreUnauthorized sends malformed and hostile requests
// through Require over a real listener. Every one is answered 401 with the
// exact body and challenge, and none reaches the handler; a valid token, the
// control, does.
func TestHostileRequestsAreUnauthorized(t *testing.T) {
	f := newHostileFixture(t)
	cases := f.cases()
	require.GreaterOrEqual(t, len(cases), 40)

	status, _, body := f.send(t, hostileCase{build: bearer("Bearer " + f.valid)})
	require.Equal(t, http.StatusOK, status, "the control: a valid token gets in")
	require.Equal(t, "secret", body)
	f.handled.Store(0)

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, header, body := f.send(t, tc)
			assert.Equal(t, http.StatusUnauthorized, status)
			assert.Equal(t, sessionauth.BodyUnauthorized, body)
			assert.Equal(t, "application/json", header.Get("Content-Type"))
			want := `Bearer error="invalid_token"`
			if tc.noToken {
				want = "Bearer"
			}
			assert.Equal(t, want, header.Get("WWW-Authenticate"))
		})
	}
	assert.Zero(t, f.handled.Load(), "no hostile request reached the handler")
	assertNoSecrets(t, f.log.String(), f.valid, f.revoked, f.idleExpired, f.lifetimeExpired,
		f.rotatedAway, f.signedOutEverywhere, f.revokedByID, f.foreign)
}

// TestControlBytesNeverReachTheHandler sends Authorization headers with
// control bytes, which net/http's client refuses to send and its server
// refuses to parse (400), and one beyond the server's header limit (431).
// Whichever layer answers, the request is refused and never reaches the
// handler; if it reached the Manager it would be a 401 with the exact body.
func TestControlBytesNeverReachTheHandler(t *testing.T) {
	f := newHostileFixture(t)
	v := f.valid
	for _, tc := range []struct{ name, raw string }{
		{"NUL after the token", rawGET("Authorization: Bearer " + v + "\x00")},
		{"NUL inside the scheme", rawGET("Authorization: Bea\x00rer " + v)},
		{"bare CR inside the token", rawGET("Authorization: Bearer " + v[:20] + "\r" + v[20:])},
		{"bare LF splitting the header", "GET /protected HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer\n" + v + "\r\nConnection: close\r\n\r\n"},
		{"DEL after the token", rawGET("Authorization: Bearer " + v + "\x7f")},
		{"ESC before the token", rawGET("Authorization: Bearer \x1b" + v)},
		{"vertical tab as separator", rawGET("Authorization: Bearer\x0b" + v)},
		{"form feed as separator", rawGET("Authorization: Bearer\x0c" + v)},
		{"space before the colon", rawGET("Authorization : Bearer " + v)},
		{"beyond the server's header limit", rawGET("Authorization: Bearer " + strings.Repeat("A", http.DefaultMaxHeaderBytes+8192))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, header, body := f.send(t, hostileCase{raw: tc.raw})
			switch status {
			case http.StatusBadRequest, http.StatusRequestHeaderFieldsTooLarge:
				// net/http refused it before any handler ran.
			case http.StatusUnauthorized:
				assert.Equal(t, sessionauth.BodyUnauthorized, body)
				assert.Equal(t, `Bearer error="invalid_token"`, header.Get("WWW-Authenticate"))
			default:
				t.Errorf("status %d, want 400, 431 or 401", status)
			}
		})
	}
	assert.Zero(t, f.handled.Load(), "no request reached the handler")
}

// send performs tc and returns the response's status, header and body.
func (f *hostileFixture) send(t *testing.T, tc hostileCase) (int, http.Header, string) {
	t.Helper()
	if tc.raw != "" {
		return rawRoundTrip(t, f.srv.Listener.Addr().String(), tc.raw)
	}
	req, err := http.NewRequest("GET", f.srv.URL+"/protected", nil)
	require.NoError(t, err)
	tc.build(req)
	resp, err := f.srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, resp.Header, string(body)
}

// rawRoundTrip writes req to a new connection to addr and reads the
// response.
func rawRoundTrip(t *testing.T, addr, req string) (int, http.Header, string) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer conn.Close()
	// A guard against a hung server, not a wait: a healthy one answers at once.
	require.NoError(t, conn.SetDeadline(time.Now().Add(30*time.Second)))
	_, err = io.WriteString(conn, req)
	require.NoError(t, err)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, resp.Header, string(body)
}
