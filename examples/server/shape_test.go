package main

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// jsonKeys returns the sorted keys of the JSON object data.
func jsonKeys(t *testing.T, data []byte) []string {
	t.Helper()
	var fields map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(data, &fields), "body: %s", data)
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// assertTimestamps checks that each named field of the JSON object data is
// a string in RFC 3339, as encoding/json writes a time.Time.
func assertTimestamps(t *testing.T, data []byte, names ...string) {
	t.Helper()
	var fields map[string]any
	require.NoError(t, json.Unmarshal(data, &fields))
	for _, name := range names {
		s, ok := fields[name].(string)
		if assert.True(t, ok, "%s is a string in %s", name, data) {
			_, err := time.Parse(time.RFC3339Nano, s)
			assert.NoError(t, err, "%s", name)
		}
	}
}

// The keys of a session in GET /auth/session and GET /auth/sessions.
var sessionKeys = []string{"createdAt", "current", "expiresAt", "id", "idleExpiresAt", "ip", "lastUsedAt", "userAgent"}

// assertJSONAnswer checks the status and the headers of a JSON answer.
func assertJSONAnswer(t *testing.T, r response, status int) {
	t.Helper()
	assert.Equal(t, status, r.status, "body: %s", r.body)
	assert.Equal(t, "application/json", r.header.Get("Content-Type"))
	assert.Equal(t, "no-store", r.header.Get("Cache-Control"))
}

// TestSessionRoutesKeepTheirAnswers pins, field by field, what every session
// route of the README's table answers: its status, its JSON keys and their
// types, and its exact error bodies. Clients outside this repository parse
// these answers; the server's move onto package authapi must not change one.
func TestSessionRoutesKeepTheirAnswers(t *testing.T) {
	t.Parallel()
	s := startServer(t, sqliteStore(t))
	signIn := func(t *testing.T, body any) response {
		t.Helper()
		return s.do(t, http.MethodPost, "/auth/sign-in", "", body)
	}

	t.Run("POST /auth/sign-in 200", func(t *testing.T) {
		r := signIn(t, map[string]string{"email": "owner@example.com", "password": demoPassword})
		assertJSONAnswer(t, r, http.StatusOK)
		assert.Equal(t, []string{"expiresAt", "idleExpiresAt", "token"}, jsonKeys(t, r.body))
		assertTimestamps(t, r.body, "expiresAt", "idleExpiresAt")
		assert.Regexp(t, tokenShape, decode[signInBody](t, r).Token)
	})

	refusals := []struct {
		name string
		body any
	}{
		{"wrong password", map[string]string{"email": "owner@example.com", "password": "wrong"}},
		{"unknown email", map[string]string{"email": "nobody@example.com", "password": demoPassword}},
		{"missing password", `{"email":"owner@example.com"}`},
		{"null password", `{"email":"owner@example.com","password":null}`},
		{"missing email", `{"password":"` + demoPassword + `"}`},
		{"null email", `{"email":null,"password":"` + demoPassword + `"}`},
		{"empty object", `{}`},
		{"email over 254 bytes", map[string]string{"email": strings.Repeat("a", 255) + "@example.com", "password": demoPassword}},
	}
	for _, tt := range refusals {
		t.Run("POST /auth/sign-in 401 "+tt.name, func(t *testing.T) {
			r := signIn(t, tt.body)
			assertJSONAnswer(t, r, http.StatusUnauthorized)
			assert.Equal(t, bodyUnauthorized, string(r.body))
			assert.Equal(t, "Bearer", r.header.Get("WWW-Authenticate"))
		})
	}

	malformed := []struct{ name, body string }{
		{"no body", ""},
		{"not JSON", "email=owner@example.com&password=x"},
		{"an array", `[{"email":"owner@example.com","password":"x"}]`},
		{"a number for the password", `{"email":"owner@example.com","password":1}`},
		{"unknown field", `{"email":"owner@example.com","password":"x","admin":true}`},
		{"two objects", `{"email":"owner@example.com","password":"x"}{}`},
		{"trailing data", `{"email":"owner@example.com","password":"x"} x`},
		{"over 4 KiB", `{"email":"` + strings.Repeat("a", 8<<10) + `","password":"x"}`},
	}
	for _, tt := range malformed {
		t.Run("POST /auth/sign-in 400 "+tt.name, func(t *testing.T) {
			r := signIn(t, tt.body)
			assertJSONAnswer(t, r, http.StatusBadRequest)
			assert.Equal(t, `{"message":"Bad Request: expected {\"email\",\"password\"}"}`, string(r.body))
			assert.Empty(t, r.header.Get("WWW-Authenticate"))
		})
	}

	token := s.signIn(t, "owner@example.com")
	other := s.signIn(t, "owner@example.com")

	t.Run("GET /auth/session 200", func(t *testing.T) {
		r := s.do(t, http.MethodGet, "/auth/session", token, nil)
		assertJSONAnswer(t, r, http.StatusOK)
		assert.Equal(t, []string{"session", "user"}, jsonKeys(t, r.body))
		var body map[string]json.RawMessage
		require.NoError(t, json.Unmarshal(r.body, &body))
		assert.JSONEq(t, `{"id":"user_owner","email":"owner@example.com","name":"Olivia Owner"}`, string(body["user"]))
		assert.Equal(t, sessionKeys, jsonKeys(t, body["session"]))
		assertTimestamps(t, body["session"], "createdAt", "lastUsedAt", "idleExpiresAt", "expiresAt")
		assert.True(t, decode[currentView](t, r).Session.Current)
	})

	t.Run("GET /auth/sessions 200", func(t *testing.T) {
		r := s.do(t, http.MethodGet, "/auth/sessions", token, nil)
		assertJSONAnswer(t, r, http.StatusOK)
		assert.Equal(t, []string{"sessions"}, jsonKeys(t, r.body))
		var body struct{ Sessions []json.RawMessage }
		require.NoError(t, json.Unmarshal(r.body, &body))
		require.Len(t, body.Sessions, 3, "the owner's three sign-ins")
		for _, raw := range body.Sessions {
			assert.Equal(t, sessionKeys, jsonKeys(t, raw))
			assertTimestamps(t, raw, "createdAt", "lastUsedAt", "idleExpiresAt", "expiresAt")
		}
	})

	t.Run("DELETE /auth/sessions/{id} 404", func(t *testing.T) {
		r := s.do(t, http.MethodDelete, "/auth/sessions/no-such-session", token, nil)
		assertJSONAnswer(t, r, http.StatusNotFound)
		assert.Equal(t, `{"message":"Not Found"}`, string(r.body))
	})

	t.Run("DELETE /auth/sessions/{id} 204", func(t *testing.T) {
		id := currentSession(t, s, other).Session.ID
		r := s.do(t, http.MethodDelete, "/auth/sessions/"+id, token, nil)
		assert.Equal(t, http.StatusNoContent, r.status, "body: %s", r.body)
		assert.Empty(t, r.body)
	})

	t.Run("POST /auth/revoke-other-sessions 200", func(t *testing.T) {
		// The first sign-in of the test and this one; other's is revoked.
		s.signIn(t, "owner@example.com")
		r := s.do(t, http.MethodPost, "/auth/revoke-other-sessions", token, nil)
		assertJSONAnswer(t, r, http.StatusOK)
		assert.Equal(t, `{"revoked":2}`, string(r.body))
	})

	t.Run("POST /auth/sign-out 204", func(t *testing.T) {
		r := s.do(t, http.MethodPost, "/auth/sign-out", token, nil)
		assert.Equal(t, http.StatusNoContent, r.status, "body: %s", r.body)
		assert.Empty(t, r.body)
		assert.Empty(t, r.header.Get("Content-Type"))
	})

	t.Run("a route outside the table 404", func(t *testing.T) {
		for _, path := range []string{"/auth/revoke-sessions", "/nope"} {
			r := s.do(t, http.MethodPost, path, token, nil)
			assertJSONAnswer(t, r, http.StatusNotFound)
			assert.Equal(t, `{"message":"Not Found"}`, string(r.body))
		}
	})
}
