package sessionauthtest_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionauth/sessionauth"
	"github.com/sessionauth/sessionauth/sessionauthtest"
)

// libraryResponse is the response the Manager writes for err.
func libraryResponse(t *testing.T, err error) *httptest.ResponseRecorder {
	env := sessionauthtest.New(t, sessionauthtest.WithConfig(func(c *sessionauth.Config) {
		c.Logger = slog.New(slog.DiscardHandler) // a 503 is logged
	}))
	rec := httptest.NewRecorder()
	env.Manager.Error(rec, httptest.NewRequest("GET", "/", nil), err)
	return rec
}

// response builds a response that differs from the library's as a test says.
func response(status int, contentType, challenge, body string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	if contentType != "" {
		rec.Header().Set("Content-Type", contentType)
	}
	if challenge != "" {
		rec.Header().Set("WWW-Authenticate", challenge)
	}
	rec.WriteHeader(status)
	_, _ = io.WriteString(rec, body)
	return rec
}

type assertion func(sessionauthtest.TB, *httptest.ResponseRecorder) bool

var (
	unauthorized assertion = sessionauthtest.AssertUnauthorized[*httptest.ResponseRecorder]
	forbidden    assertion = sessionauthtest.AssertForbidden[*httptest.ResponseRecorder]
	unavailable  assertion = sessionauthtest.AssertUnavailable[*httptest.ResponseRecorder]
)

func TestAssert_PassesOnTheLibrarysResponses(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		assert assertion
	}{
		{"401 without a token", sessionauth.ErrNoToken, unauthorized},
		{"401 for a bad token", sessionauth.ErrUnknownSession, unauthorized},
		{"403", sessionauth.ErrForbidden, forbidden},
		{"503", sessionauth.ErrUnavailable, unavailable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := libraryResponse(t, tc.err)
			f := runFake(func(ft *fakeT) { assert.True(t, tc.assert(ft, rec)) })
			assert.Empty(t, f.failures())
		})
	}
}

func TestAssert_ReportsEachDifference(t *testing.T) {
	const json = "application/json"
	tests := []struct {
		name   string
		assert assertion
		rec    *httptest.ResponseRecorder
		want   []string // substrings of the one failure message
	}{
		{"success instead of 401", unauthorized, response(200, json, "Bearer", sessionauth.BodyUnauthorized), []string{"status 200, want 401"}},
		{"403 instead of 401", unauthorized, libraryResponse(t, sessionauth.ErrForbidden),
			[]string{"status 403, want 401", `want "{\"message\":\"Unauthorized\"}"`, "WWW-Authenticate"}},
		{"charset in Content-Type", unauthorized, response(401, json+"; charset=utf-8", "Bearer", sessionauth.BodyUnauthorized), []string{"Content-Type"}},
		{"no Content-Type", forbidden, response(403, "", "", sessionauth.BodyForbidden), []string{"Content-Type [], want [application/json]"}},
		{"body in another case", unauthorized, response(401, json, "Bearer", `{"message":"unauthorized"}`), []string{`body "{\"message\":\"unauthorized\"}"`}},
		{"body with a newline", forbidden, response(403, json, "", sessionauth.BodyForbidden+"\n"), []string{"body "}},
		{"no challenge", unauthorized, response(401, json, "", sessionauth.BodyUnauthorized), []string{`WWW-Authenticate "", want a Bearer challenge`}},
		{"another scheme's challenge", unauthorized, response(401, json, `Basic realm="x"`, sessionauth.BodyUnauthorized), []string{"WWW-Authenticate"}},
		{"scheme prefix only", unauthorized, response(401, json, "Bearerish", sessionauth.BodyUnauthorized), []string{"WWW-Authenticate"}},
		{"500 instead of 503", unavailable, libraryResponse(t, io.ErrUnexpectedEOF), []string{"status 500, want 503", "body "}},
		{"nil recorder", forbidden, nil, []string{"got nil"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := runFake(func(ft *fakeT) { assert.False(t, tc.assert(ft, tc.rec)) })
			require.Len(t, f.failures(), 1)
			for _, w := range tc.want {
				assert.Contains(t, f.failures()[0], w)
			}
		})
	}
}

func TestAssert_QuotesALongBodyShort(t *testing.T) {
	rec := response(401, "application/json", "Bearer", strings.Repeat("x", 10_000))
	f := runFake(func(ft *fakeT) { sessionauthtest.AssertUnauthorized(ft, rec) })
	require.Len(t, f.failures(), 1)
	assert.Less(t, len(f.failures()[0]), 600)
	assert.Contains(t, f.failures()[0], "(10000 bytes)")
}

func TestAssert_RealResponseBodyStaysReadable(t *testing.T) {
	env := sessionauthtest.New(t)
	srv := httptest.NewServer(env.Manager.Require(http.NotFoundHandler()))
	t.Cleanup(srv.Close)
	req, err := http.NewRequestWithContext(t.Context(), "GET", srv.URL, nil)
	require.NoError(t, err)
	res, err := srv.Client().Do(req)
	require.NoError(t, err)
	defer res.Body.Close()

	assert.True(t, sessionauthtest.AssertUnauthorized(t, res))
	f := runFake(func(ft *fakeT) { sessionauthtest.AssertForbidden(ft, res) })
	assert.Len(t, f.failures(), 1, "the second assertion reads the same body")
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	assert.Equal(t, sessionauth.BodyUnauthorized, string(body))
}

func TestAssert_NilResponseFails(t *testing.T) {
	f := runFake(func(ft *fakeT) { sessionauthtest.AssertUnauthorized(ft, (*http.Response)(nil)) })
	require.Len(t, f.failures(), 1)
	assert.Contains(t, f.failures()[0], "got nil")
}
