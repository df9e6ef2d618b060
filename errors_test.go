package sessionauth_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionauth/sessionauth"
	"github.com/sessionauth/sessionauth/store/storetest"
)

func TestStatusCodeMapsSentinelsEvenWhenWrapped(t *testing.T) {
	tests := []struct {
		err  error
		code int
	}{
		{sessionauth.ErrNoToken, http.StatusUnauthorized},
		{sessionauth.ErrMalformedToken, http.StatusUnauthorized},
		{sessionauth.ErrUnknownSession, http.StatusUnauthorized},
		{sessionauth.ErrSessionExpired, http.StatusUnauthorized},
		{sessionauth.ErrInvalidCredentials, http.StatusUnauthorized},
		{sessionauth.ErrForbidden, http.StatusForbidden},
		{sessionauth.ErrUnavailable, http.StatusServiceUnavailable},
		{sessionauth.ErrNotSupported, http.StatusInternalServerError},
		{sessionauth.ErrInvalidMetadata, http.StatusInternalServerError},
		{errors.New("anything else"), http.StatusInternalServerError},
	}
	for _, tt := range tests {
		t.Run(tt.err.Error(), func(t *testing.T) {
			assert.Equal(t, tt.code, sessionauth.StatusCode(tt.err))
			assert.Equal(t, tt.code, sessionauth.StatusCode(fmt.Errorf("context: %w", tt.err)))
			assert.Equal(t, tt.code, sessionauth.StatusCode(errors.Join(errors.New("cause"), tt.err)))
		})
	}
	// A store failure wraps its cause; the cause never turns it into a 401.
	assert.Equal(t, http.StatusServiceUnavailable,
		sessionauth.StatusCode(fmt.Errorf("%w: %w", sessionauth.ErrUnavailable, context.DeadlineExceeded)))
}

func TestWriteErrorWritesExactJSONResponses(t *testing.T) {
	const plain, invalid = "Bearer", `Bearer error="invalid_token"`
	tests := []struct {
		err       error
		code      int
		body      string
		challenge string
	}{
		{sessionauth.ErrUnknownSession, 401, `{"message":"Unauthorized"}`, invalid},
		{sessionauth.ErrNoToken, 401, `{"message":"Unauthorized"}`, plain},
		{sessionauth.ErrSessionExpired, 401, `{"message":"Unauthorized"}`, invalid},
		{sessionauth.ErrInvalidCredentials, 401, `{"message":"Unauthorized"}`, plain},
		{sessionauth.ErrForbidden, 403, `{"message":"You don't have access to this project"}`, ""},
		{fmt.Errorf("%w: redis: connection refused", sessionauth.ErrUnavailable), 503, `{"message":"Service Unavailable"}`, ""},
		{errors.New("boom: panic at line 42"), 500, `{"message":"Internal Server Error"}`, ""},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.code)+" "+tt.err.Error(), func(t *testing.T) {
			w := httptest.NewRecorder()
			sessionauth.WriteError(w, httptest.NewRequest(http.MethodGet, "/", nil), tt.err)
			assert.Equal(t, tt.code, w.Code)
			assert.Equal(t, tt.body, w.Body.String(), "the body never describes the cause")
			assert.Equal(t, []string{"application/json"}, w.Header().Values("Content-Type"))
			assert.Equal(t, strconv.Itoa(len(tt.body)), w.Header().Get("Content-Length"))
			assert.Equal(t, "no-store", w.Header().Get("Cache-Control"))
			assert.Equal(t, "nosniff", w.Header().Get("X-Content-Type-Options"))
			assert.Equal(t, tt.challenge, w.Header().Get("WWW-Authenticate"), "every 401, and only a 401, carries a challenge")
		})
	}
	assert.Equal(t, `{"message":"Unauthorized"}`, sessionauth.BodyUnauthorized)
	assert.Equal(t, `{"message":"You don't have access to this project"}`, sessionauth.BodyForbidden)
}

func TestSentinelErrorsArePrefixedWithPackageName(t *testing.T) {
	for _, err := range []error{
		sessionauth.ErrNoToken, sessionauth.ErrMalformedToken, sessionauth.ErrUnknownSession, sessionauth.ErrInvalidCredentials,
		sessionauth.ErrSessionExpired, sessionauth.ErrForbidden, sessionauth.ErrUnavailable,
		sessionauth.ErrNotSupported, sessionauth.ErrInvalidMetadata, sessionauth.ErrCorruptRecord,
	} {
		assert.True(t, strings.HasPrefix(err.Error(), "sessionauth: "), err.Error())
	}
}

// secretsOf returns the forms in which a token could leak: the token, its
// store key in both cases of hex, and its hash in base64.
func secretsOf(token string) []string {
	key := sessionauth.KeyForToken(token)
	sum := sha256.Sum256([]byte(token))
	return []string{token, key, strings.ToUpper(key), base64.StdEncoding.EncodeToString(sum[:]), base64.RawURLEncoding.EncodeToString(sum[:])}
}

// A whole life of sessions (sign-in, use, touch, failed touch, outage,
// corrupt record, rotation, revocation) is logged at debug level by both
// slog handlers; neither the logs nor any error string may hold a token or
// its hash.
func TestNoTokenOrStoreKeyInLogsOrErrorStrings(t *testing.T) {
	handlers := map[string]func(*lockedBuffer) slog.Handler{
		"text": func(b *lockedBuffer) slog.Handler {
			return slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug})
		},
		"json": func(b *lockedBuffer) slog.Handler {
			return slog.NewJSONHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug, AddSource: true})
		},
	}
	for name, handler := range handlers {
		t.Run(name, func(t *testing.T) {
			storeModes(t, func(t *testing.T, o harnessOpts) {
				o.handler = handler
				h := newHarness(t, sessionauth.Config{
					IdleTimeout: 30 * time.Minute, TouchInterval: time.Minute,
					DevPrincipal: &sessionauth.DevPrincipal{UserID: "dev"},
				}, o)
				ctx := context.Background()
				var tokens []string
				var errs []error
				note := func(err error) {
					if err != nil {
						errs = append(errs, err)
					}
				}
				create := func(userID string) *sessionauth.Session {
					tok, s, err := h.m.Create(ctx, userID, sessionauth.Metadata{IP: "192.0.2.9", UserAgent: "agent"})
					require.NoError(t, err)
					tokens = append(tokens, tok)
					return s
				}
				get := func(token string) int {
					return do(h.m.Require(userHandler), "Bearer "+token).Code
				}

				a := create("alice")
				create("alice")
				b := create("bob")
				h.clock.Advance(2 * time.Minute)
				require.Equal(t, http.StatusOK, get(tokens[0])) // touch

				touchFails := h.w.Fail(errInjected, storetest.OpTouch) // failed touch: a warning
				h.clock.Advance(2 * time.Minute)
				require.Equal(t, http.StatusOK, get(tokens[1]))
				touchFails()

				readsFail := h.w.Fail(errInjected, readOps...) // outage: errors and 503s
				require.Equal(t, http.StatusServiceUnavailable, get(tokens[0]))
				require.Equal(t, http.StatusServiceUnavailable, do(h.m.Optional(userHandler), "Bearer "+tokens[2]).Code)
				// A client that also puts its token in the URL: the failure
				// log names the request, but not its query.
				inURL := httptest.NewRequest(http.MethodGet, "/projects?access_token="+tokens[1], nil)
				inURL.Header.Set("Authorization", "Bearer "+tokens[1])
				w := httptest.NewRecorder()
				h.m.Require(userHandler).ServeHTTP(w, inURL)
				require.Equal(t, http.StatusServiceUnavailable, w.Code)
				_, err := h.m.Authenticate(ctx, tokens[0])
				note(err)
				_, err = h.m.List(ctx, "alice")
				note(err)
				readsFail()
				writesFail := h.w.Fail(errInjected, writeOps...)
				note(h.m.Revoke(ctx, b))
				_, _, err = h.m.Rotate(ctx, a)
				note(err)
				_, err = h.m.SetValues(ctx, a, map[string]string{"k": "v"})
				note(err)
				_, _, err = h.m.Create(ctx, "carol", sessionauth.Metadata{})
				note(err)
				writesFail()

				// A corrupt record under a user's index is logged when listed.
				garbage := plantableToken(t)
				tokens = append(tokens, garbage)
				require.NoError(t, h.mem.Put(ctx, sessionauth.KeyForToken(garbage), "alice", []byte("not a record"), h.clock.Now().Add(time.Hour)))
				_, err = h.m.List(ctx, "alice")
				require.NoError(t, err)
				_, err = h.m.Authenticate(ctx, garbage)
				note(err)

				rotated, r, err := h.m.Rotate(ctx, a)
				require.NoError(t, err)
				tokens = append(tokens, rotated)
				require.Equal(t, http.StatusUnauthorized, get(tokens[0]))
				_, err = h.m.Authenticate(ctx, tokens[0])
				note(err)
				require.NoError(t, h.m.Revoke(ctx, r))
				_, err = h.m.Authenticate(ctx, rotated)
				note(err)
				_, err = h.m.RevokeUser(ctx, "alice", nil)
				note(err)
				note(h.m.RevokeID(ctx, "alice", b.ID))
				h.clock.Advance(time.Hour)
				_, err = h.m.Authenticate(ctx, tokens[2])
				note(err)

				// Applications log sessions; a session logs as its ID.
				logger := slog.New(handler(h.logs))
				logger.Info("signed in", "session", a, "rotated", r)
				logger.Info("value", "session", *a)

				logs := h.logs.String()
				require.Contains(t, logs, a.ID, "the run logged sessions by ID")
				require.Contains(t, logs, "extending session failed")
				require.Contains(t, logs, "request failed")
				require.Contains(t, logs, "unreadable session record")
				require.GreaterOrEqual(t, len(errs), 8)
				dumps := []string{logs}
				for _, err := range errs {
					dumps = append(dumps, err.Error(), fmt.Sprintf("%+v %#v", err, err))
				}
				for _, s := range []*sessionauth.Session{a, b, r} {
					dumps = append(dumps, fmt.Sprintf("%v %+v %#v", s, s, s), fmt.Sprintf("%+v", *s))
				}
				for _, tok := range tokens {
					for _, secret := range secretsOf(tok) {
						for _, d := range dumps {
							assert.NotContains(t, d, secret)
						}
					}
				}
			})
		})
	}
}

// plantableToken returns a random string of the exact shape of a token, for
// planting records the Manager never issued.
func plantableToken(t *testing.T) string {
	t.Helper()
	h := newHarness(t, sessionauth.Config{})
	tok, _ := h.create(t, "nobody")
	return tok
}
