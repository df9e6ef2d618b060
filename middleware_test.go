package sessionauth_test

import (
	"context"
	"errors"
	"io"
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
	"github.com/sessionauth/sessionauth/store/storetest"
)

const (
	challengePlain   = `Bearer`
	challengeInvalid = `Bearer error="invalid_token"`
)

func bearerRequest(authorization ...string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	for _, a := range authorization {
		r.Header.Add("Authorization", a)
	}
	return r
}

func TestBearerTokenAcceptsRFC6750Credentials(t *testing.T) {
	tests := []struct{ header, token string }{
		{"Bearer abc", "abc"},
		{"bearer abc", "abc"},
		{"BEARER abc", "abc"},
		{"BeArEr abc", "abc"},
		{"Bearer    abc", "abc"},
		{"Bearer aZ09-._~+/", "aZ09-._~+/"},
		{"Bearer abc=", "abc="},
		{"Bearer abc==", "abc=="},
		{"Bearer " + strings.Repeat("a", sessionauth.MaxAuthorizationLength-len("Bearer ")), strings.Repeat("a", sessionauth.MaxAuthorizationLength-len("Bearer "))},
	}
	for _, tt := range tests {
		t.Run(tt.header[:min(len(tt.header), 24)], func(t *testing.T) {
			got, err := sessionauth.BearerToken(bearerRequest(tt.header))
			require.NoError(t, err)
			assert.Equal(t, tt.token, got)
		})
	}
}

// malformedBearerHeaders are Authorization values that name the Bearer scheme
// (or try to) but are not one RFC 6750 b64token credential.
var malformedBearerHeaders = map[string]string{
	"empty value":                  "",
	"scheme only":                  "Bearer",
	"scheme and spaces only":       "Bearer   ",
	"tab after scheme":             "Bearer\tabc",
	"trailing tab":                 "Bearer abc\t",
	"trailing space":               "Bearer abc ",
	"space inside token":           "Bearer abc def",
	"comma":                        "Bearer abc,def",
	"auth-param form":              `Bearer token="abc"`,
	"double quotes":                `Bearer "abc"`,
	"single quote":                 "Bearer abc'",
	"padding in the middle":        "Bearer ab=c",
	"padding only":                 "Bearer ==",
	"non-ASCII in token":           "Bearer abcé",
	"non-ASCII scheme":             "Bеarer abc", // Cyrillic е
	"NUL":                          "Bearer abc\x00",
	"DEL":                          "Bearer abc\x7f",
	"CR LF":                        "Bearer abc\r\nX-Injected: 1",
	"leading space":                " Bearer abc",
	"scheme with comma":            "Bearer, abc",
	"over the length cap":          "Bearer " + strings.Repeat("a", sessionauth.MaxAuthorizationLength),
	"other scheme over length cap": "Basic " + strings.Repeat("a", sessionauth.MaxAuthorizationLength),
}

func TestBearerTokenRejectsMalformedCredentials(t *testing.T) {
	for name, header := range malformedBearerHeaders {
		t.Run(name, func(t *testing.T) {
			got, err := sessionauth.BearerToken(bearerRequest(header))
			assert.ErrorIs(t, err, sessionauth.ErrMalformedToken)
			assert.Empty(t, got)
		})
	}
}

func TestBearerTokenCapsHeaderAtMaxAuthorizationLength(t *testing.T) {
	prefix := "Bearer "
	at := prefix + strings.Repeat("a", sessionauth.MaxAuthorizationLength-len(prefix))
	require.Len(t, at, sessionauth.MaxAuthorizationLength)
	_, err := sessionauth.BearerToken(bearerRequest(at))
	assert.NoError(t, err)
	_, err = sessionauth.BearerToken(bearerRequest(at + "a"))
	assert.ErrorIs(t, err, sessionauth.ErrMalformedToken)
}

func TestBearerTokenReportsNoTokenWithoutBearerCredentials(t *testing.T) {
	tests := map[string][]string{
		"no header":               nil,
		"basic":                   {"Basic dXNlcjpwYXNz"},
		"basic, lower":            {"basic dXNlcjpwYXNz"},
		"scheme alone":            {"Negotiate"},
		"digest params":           {`Digest username="u", realm="r"`},
		"bearer-like":             {"Bearers abc"},
		"scheme glued to a token": {"Bearerabc"},
	}
	for name, headers := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := sessionauth.BearerToken(bearerRequest(headers...))
			assert.ErrorIs(t, err, sessionauth.ErrNoToken)
		})
	}
}

func TestBearerTokenRejectsTwoAuthorizationHeaders(t *testing.T) {
	for _, second := range []string{"Bearer abc", "Bearer def", "Basic dXNlcjpwYXNz", ""} {
		_, err := sessionauth.BearerToken(bearerRequest("Bearer abc", second))
		assert.ErrorIs(t, err, sessionauth.ErrMalformedToken, "second header %q", second)
	}
}

// assertUnauthorized checks the exact 401 response and its challenge.
func assertUnauthorized(t *testing.T, code int, header http.Header, body, challenge string) {
	t.Helper()
	assert.Equal(t, http.StatusUnauthorized, code)
	assert.Equal(t, `{"message":"Unauthorized"}`, body)
	assert.Equal(t, "application/json", header.Get("Content-Type"))
	assert.Equal(t, []string{challenge}, header.Values("WWW-Authenticate"))
}

// countingHandler counts the requests that reach it.
type countingHandler struct{ n atomic.Int64 }

func (c *countingHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.n.Add(1)
	userHandler.ServeHTTP(w, r)
}

func TestRequireRejectsMalformedHeadersWithInvalidTokenChallenge(t *testing.T) {
	h := newHarness(t, sessionauth.Config{})
	token, _ := h.create(t, "user-1")
	next := &countingHandler{}
	protected := h.m.Require(next)

	headers := map[string][]string{
		"two valid headers":  {"Bearer " + token, "Bearer " + token},
		"tab separator":      {"Bearer\t" + token},
		"comma after token":  {"Bearer " + token + ","},
		"quoted token":       {`Bearer "` + token + `"`},
		"non-ASCII in token": {"Bearer " + token[:20] + "é" + token[21:]},
		"control byte":       {"Bearer " + token + "\x01"},
		"unknown token":      {"Bearer " + strings.Repeat("A", 43)},
		"wrong-shape token":  {"Bearer abc"},
	}
	for name, header := range malformedBearerHeaders {
		headers["malformed: "+name] = []string{header}
	}
	for name, hs := range headers {
		t.Run(name, func(t *testing.T) {
			w := do(protected, hs...)
			assertUnauthorized(t, w.Code, w.Header(), w.Body.String(), challengeInvalid)
		})
	}
	assert.Zero(t, next.n.Load(), "no rejected request may reach the handler")
}

func TestRequireAnswersMissingCredentialsWithPlainChallenge(t *testing.T) {
	h := newHarness(t, sessionauth.Config{})
	next := &countingHandler{}
	for name, hs := range map[string][]string{
		"no header":    nil,
		"basic scheme": {"Basic dXNlcjpwYXNz"},
	} {
		t.Run(name, func(t *testing.T) {
			w := do(h.m.Require(next), hs...)
			assertUnauthorized(t, w.Code, w.Header(), w.Body.String(), challengePlain)
		})
	}
	assert.Zero(t, next.n.Load())
}

func TestRequireChallengeCarriesConfiguredRealm(t *testing.T) {
	tests := []struct{ realm, plain, invalid string }{
		{"", `Bearer`, `Bearer error="invalid_token"`},
		{"api", `Bearer realm="api"`, `Bearer realm="api", error="invalid_token"`},
		{`a "b" \c`, `Bearer realm="a \"b\" \\c"`, `Bearer realm="a \"b\" \\c", error="invalid_token"`},
		{"x\r\ny", `Bearer realm="xy"`, `Bearer realm="xy", error="invalid_token"`},
	}
	for _, tt := range tests {
		t.Run(tt.realm, func(t *testing.T) {
			h := newHarness(t, sessionauth.Config{Realm: tt.realm})
			w := do(h.m.Require(userHandler))
			assertUnauthorized(t, w.Code, w.Header(), w.Body.String(), tt.plain)
			w = do(h.m.Require(userHandler), "Bearer abc")
			assertUnauthorized(t, w.Code, w.Header(), w.Body.String(), tt.invalid)
		})
	}
}

func TestRequireAttachesSessionForHandler(t *testing.T) {
	h := newHarness(t, sessionauth.Config{})
	token, s := h.create(t, "user-1")
	var got *sessionauth.Session
	handler := h.m.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ = sessionauth.FromContext(r.Context())
	}))
	w := do(handler, "Bearer "+token)
	assert.Equal(t, http.StatusOK, w.Code)
	require.NotNil(t, got)
	assert.Equal(t, s.ID, got.ID)
	assert.Equal(t, "user-1", got.UserID)

	r := bearerRequest("Bearer " + token)
	viaCall, err := h.m.AuthenticateRequest(r)
	require.NoError(t, err)
	assert.Equal(t, s.ID, viaCall.ID)
}

// serveHTTP starts a real listener for h and returns a request sender.
func serveHTTP(t *testing.T, h http.Handler) func(r *http.Request) (int, http.Header, string) {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return func(r *http.Request) (int, http.Header, string) {
		t.Helper()
		u, err := url.Parse(srv.URL)
		require.NoError(t, err)
		r.URL.Scheme, r.URL.Host, r.Host, r.RequestURI = u.Scheme, u.Host, u.Host, ""
		res, err := srv.Client().Do(r)
		require.NoError(t, err)
		defer res.Body.Close()
		body, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		return res.StatusCode, res.Header, string(body)
	}
}

func TestRequireOverHTTPAcceptsSchemeInAnyCaseAndRejectsTwoHeaders(t *testing.T) {
	h := newHarness(t, sessionauth.Config{})
	token, _ := h.create(t, "user-1")
	send := serveHTTP(t, h.m.Require(userHandler))

	for _, scheme := range []string{"Bearer ", "bearer ", "BEARER ", "BeArEr ", "Bearer    "} {
		code, _, body := send(bearerRequest(scheme + token))
		assert.Equal(t, http.StatusOK, code, "%q", scheme)
		assert.Equal(t, "user-1", body)
	}
	code, header, body := send(bearerRequest("Bearer "+token, "Bearer "+token))
	assertUnauthorized(t, code, header, body, challengeInvalid)
}

// A token anywhere but the Authorization header is never read: RFC 6750
// allows the query and form body, and this library refuses both, because
// URLs end up in logs and form tokens invite CSRF.
func TestRequireIgnoresTokensOutsideAuthorizationHeader(t *testing.T) {
	h := newHarness(t, sessionauth.Config{})
	token, _ := h.create(t, "user-1")
	next := &countingHandler{}
	send := serveHTTP(t, h.m.Require(next))

	query := httptest.NewRequest(http.MethodGet, "/?access_token="+token, nil)
	form := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(url.Values{"access_token": {token}}.Encode()))
	form.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	cookie := httptest.NewRequest(http.MethodGet, "/", nil)
	cookie.AddCookie(&http.Cookie{Name: "access_token", Value: token})
	cookie.AddCookie(&http.Cookie{Name: "session", Value: token})
	other := httptest.NewRequest(http.MethodGet, "/", nil)
	other.Header.Set("X-Access-Token", token)
	other.Header.Set("Proxy-Authorization", "Bearer "+token)

	for name, r := range map[string]*http.Request{"query": query, "form": form, "cookie": cookie, "other headers": other} {
		t.Run(name, func(t *testing.T) {
			code, header, body := send(r)
			assertUnauthorized(t, code, header, body, challengePlain)
		})
	}
	assert.Zero(t, next.n.Load())
}

func TestOptionalLetsAnonymousRequestsThroughWithoutSession(t *testing.T) {
	h := newHarness(t, sessionauth.Config{})
	for name, hs := range map[string][]string{"no header": nil, "basic scheme": {"Basic dXNlcjpwYXNz"}} {
		t.Run(name, func(t *testing.T) {
			w := do(h.m.Optional(userHandler), hs...)
			assert.Equal(t, http.StatusOK, w.Code)
			assert.Equal(t, "anonymous", w.Body.String())
			assert.Empty(t, w.Header().Values("WWW-Authenticate"))
		})
	}
}

func TestOptionalAttachesValidSession(t *testing.T) {
	h := newHarness(t, sessionauth.Config{})
	token, _ := h.create(t, "user-1")
	w := do(h.m.Optional(userHandler), "Bearer "+token)
	assert.Equal(t, http.StatusOK, w.Code)
	assert.Equal(t, "user-1", w.Body.String())
}

func TestOptionalRejectsPresentedInvalidToken(t *testing.T) {
	h := newHarness(t, sessionauth.Config{IdleTimeout: time.Hour})
	revokedToken, revoked := h.create(t, "user-1")
	require.NoError(t, h.m.Revoke(context.Background(), revoked))
	expiredToken, _ := h.create(t, "user-1")
	h.clock.Advance(time.Hour)
	next := &countingHandler{}

	for name, hs := range map[string][]string{
		"unknown":   {"Bearer " + strings.Repeat("A", 43)},
		"revoked":   {"Bearer " + revokedToken},
		"expired":   {"Bearer " + expiredToken},
		"malformed": {"Bearer a,b"},
		"two":       {"Bearer a", "Bearer b"},
	} {
		t.Run(name, func(t *testing.T) {
			w := do(h.m.Optional(next), hs...)
			assertUnauthorized(t, w.Code, w.Header(), w.Body.String(), challengeInvalid)
		})
	}
	assert.Zero(t, next.n.Load())
}

func TestFromContextReportsOnlyAttachedSessions(t *testing.T) {
	_, ok := sessionauth.FromContext(context.Background())
	assert.False(t, ok)
	_, ok = sessionauth.FromContext(sessionauth.NewContext(context.Background(), nil))
	assert.False(t, ok, "a nil session is no session")

	s := &sessionauth.Session{ID: "id", UserID: "u"}
	got, ok := sessionauth.FromContext(sessionauth.NewContext(context.Background(), s))
	assert.True(t, ok)
	assert.Same(t, s, got)
}

func TestErrorAnswersForbiddenWithExactBody(t *testing.T) {
	h := newHarness(t, sessionauth.Config{})
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.m.Error(w, r, errors.Join(errors.New("project p-1"), sessionauth.ErrForbidden))
	})
	w := do(handler)
	assert.Equal(t, http.StatusForbidden, w.Code)
	assert.Equal(t, `{"message":"You don't have access to this project"}`, w.Body.String())
	assert.Equal(t, "application/json", w.Header().Get("Content-Type"))
	assert.Empty(t, w.Header().Values("WWW-Authenticate"), "a 403 carries no challenge")
}

func TestErrorHandlerReplacementIsUsedWithChallengeAlreadySet(t *testing.T) {
	var seen []error
	custom := func(w http.ResponseWriter, r *http.Request, err error) {
		seen = append(seen, err)
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(sessionauth.StatusCode(err))
		_, _ = io.WriteString(w, "custom")
	}
	h := newHarness(t, sessionauth.Config{ErrorHandler: custom, Realm: "api"})

	w := do(h.m.Require(userHandler))
	assert.Equal(t, http.StatusUnauthorized, w.Code)
	assert.Equal(t, "custom", w.Body.String())
	assert.Equal(t, `Bearer realm="api"`, w.Header().Get("WWW-Authenticate"))

	w = do(h.m.Require(userHandler), "Bearer "+strings.Repeat("A", 43))
	assert.Equal(t, "custom", w.Body.String())
	assert.Equal(t, `Bearer realm="api", error="invalid_token"`, w.Header().Get("WWW-Authenticate"))

	assert.Equal(t, "nosniff", w.Header().Get("X-Content-Type-Options"), "set before the handler runs")

	// A sign-in refusal presented no token: the challenge has no error code.
	w = do(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.m.Error(w, r, sessionauth.ErrInvalidCredentials)
	}))
	assert.Equal(t, http.StatusUnauthorized, w.Code)
	assert.Equal(t, `Bearer realm="api"`, w.Header().Get("WWW-Authenticate"))

	require.Len(t, seen, 3)
	assert.ErrorIs(t, seen[0], sessionauth.ErrNoToken)
	assert.ErrorIs(t, seen[1], sessionauth.ErrUnknownSession)
	assert.ErrorIs(t, seen[2], sessionauth.ErrInvalidCredentials)
}

func TestFailingStoreAnswers503NeverPassOrLogout(t *testing.T) {
	storeModes(t, func(t *testing.T, o harnessOpts) {
		h := newHarness(t, sessionauth.Config{}, o)
		token, _ := h.create(t, "user-1")
		readsFail := h.w.Fail(errInjected, readOps...)
		next := &countingHandler{}

		for name, mw := range map[string]func(http.Handler) http.Handler{"Require": h.m.Require, "Optional": h.m.Optional} {
			t.Run(name, func(t *testing.T) {
				w := do(mw(next), "Bearer "+token)
				assert.Equal(t, http.StatusServiceUnavailable, w.Code)
				assert.Equal(t, sessionauth.BodyUnavailable, w.Body.String())
				assert.Equal(t, "application/json", w.Header().Get("Content-Type"))
				assert.Empty(t, w.Header().Values("WWW-Authenticate"), "a store failure is not a logout")
			})
		}
		assert.Zero(t, next.n.Load(), "a store failure must not let the request through")
		logs := h.logs.String()
		assert.Equal(t, 2, strings.Count(logs, "level=ERROR"), logs)
		assert.Contains(t, logs, "sessionauth: request failed")
		assert.Contains(t, logs, errInjected.Error(), "the log names the cause")

		_, err := h.m.Authenticate(context.Background(), token)
		assert.ErrorIs(t, err, sessionauth.ErrUnavailable)
		assert.ErrorIs(t, err, errInjected)

		readsFail()
		assert.Equal(t, http.StatusOK, h.authStatus(token), "the session outlives the outage")
	})
}

func TestFailingStoreWritesFailOperationsWithErrUnavailable(t *testing.T) {
	h := newHarness(t, sessionauth.Config{})
	_, s := h.create(t, "user-1")
	writesFail := h.w.Fail(errInjected, writeOps...)
	ctx := context.Background()

	_, _, err := h.m.Create(ctx, "user-1", sessionauth.Metadata{})
	assert.ErrorIs(t, err, sessionauth.ErrUnavailable)
	assert.ErrorIs(t, h.m.Revoke(ctx, s), sessionauth.ErrUnavailable)
	_, err = h.m.RevokeUser(ctx, "user-1", nil)
	assert.ErrorIs(t, err, sessionauth.ErrUnavailable)
	_, err = h.m.SetValues(ctx, s, map[string]string{"k": "v"})
	assert.ErrorIs(t, err, sessionauth.ErrUnavailable)
	_, _, err = h.m.Rotate(ctx, s)
	assert.ErrorIs(t, err, sessionauth.ErrUnavailable)

	writesFail()
	h.w.Fail(errInjected, readOps...)
	_, err = h.m.List(ctx, "user-1")
	assert.ErrorIs(t, err, sessionauth.ErrUnavailable)
	assert.ErrorIs(t, h.m.RevokeID(ctx, "user-1", s.ID), sessionauth.ErrUnavailable)
}

func TestFailedTouchLetsRequestSucceedAndLogsWarning(t *testing.T) {
	storeModes(t, func(t *testing.T, o harnessOpts) {
		h := newHarness(t, sessionauth.Config{IdleTimeout: 30 * time.Minute, TouchInterval: time.Minute}, o)
		token, s := h.create(t, "user-1")
		h.w.Fail(errInjected, storetest.OpTouch)
		h.clock.Advance(5 * time.Minute)

		w := do(h.m.Require(userHandler), "Bearer "+token)
		assert.Equal(t, http.StatusOK, w.Code)
		assert.Equal(t, "user-1", w.Body.String())
		require.Len(t, h.callsOf(storetest.OpTouch), 1, "the touch was attempted")
		exp, _ := h.storeExpiry(t, token)
		assert.True(t, exp.Equal(s.IdleExpiresAt), "the failed touch changed nothing")

		logs := h.logs.String()
		assert.Contains(t, logs, "level=WARN")
		assert.Contains(t, logs, "sessionauth: extending session failed")
		assert.Contains(t, logs, s.ID, "the warning names the session by its ID")
		assert.NotContains(t, logs, "level=ERROR")
	})
}
