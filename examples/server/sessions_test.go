package main

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type sessionView struct {
	ID            string    `json:"id"`
	CreatedAt     time.Time `json:"createdAt"`
	LastUsedAt    time.Time `json:"lastUsedAt"`
	IdleExpiresAt time.Time `json:"idleExpiresAt"`
	ExpiresAt     time.Time `json:"expiresAt"`
	IP            string    `json:"ip"`
	UserAgent     string    `json:"userAgent"`
	Current       bool      `json:"current"`
}

type currentView struct {
	User struct {
		ID    string `json:"id"`
		Email string `json:"email"`
		Name  string `json:"name"`
	} `json:"user"`
	Session sessionView `json:"session"`
}

// currentSession returns GET /auth/session of token, which must succeed.
func currentSession(t *testing.T, s *testServer, token string) currentView {
	t.Helper()
	r := s.do(t, http.MethodGet, "/auth/session", token, nil)
	require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
	assertNoSecret(t, string(r.body), token, "GET /auth/session")
	return decode[currentView](t, r)
}

// listSessions returns GET /auth/sessions of token, which must succeed.
func listSessions(t *testing.T, s *testServer, token string) []sessionView {
	t.Helper()
	r := s.do(t, http.MethodGet, "/auth/sessions", token, nil)
	require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
	assertNoSecret(t, string(r.body), token, "GET /auth/sessions")
	return decode[struct {
		Sessions []sessionView `json:"sessions"`
	}](t, r).Sessions
}

func sessionIDs(list []sessionView) []string {
	ids := []string{}
	for _, s := range list {
		ids = append(ids, s.ID)
	}
	return ids
}

// TestSessionLifecycle walks what a user does with their sessions: look at
// the current one, list them, sign out another device, sign out every other
// device, sign out. Each step depends on the previous ones.
func TestSessionLifecycle(t *testing.T) {
	t.Parallel()
	for _, store := range localStores {
		t.Run(store.name, func(t *testing.T) {
			t.Parallel()
			testSessionLifecycle(t, store.args(t))
		})
	}
}

func testSessionLifecycle(t *testing.T, storeArgs []string) {
	s := startServer(t, storeArgs)
	laptop := s.signIn(t, "owner@example.com")
	phone := s.signIn(t, "owner@example.com")
	admin := s.signIn(t, "admin@example.com")
	var laptopID, phoneID, adminID string

	t.Run("the current session and its user, without the token", func(t *testing.T) {
		cur := currentSession(t, s, laptop)
		assert.Equal(t, ownerID, cur.User.ID)
		assert.Equal(t, "owner@example.com", cur.User.Email)
		assert.NotEmpty(t, cur.User.Name)
		assert.True(t, cur.Session.Current)
		assert.NotEmpty(t, cur.Session.ID)
		assert.Equal(t, "127.0.0.1", cur.Session.IP, "the session remembers where it signed in from")
		assert.False(t, cur.Session.ExpiresAt.Before(cur.Session.IdleExpiresAt), "the idle deadline never lies after the absolute one")
		laptopID = cur.Session.ID
		phoneID = currentSession(t, s, phone).Session.ID
		adminID = currentSession(t, s, admin).Session.ID
		assert.NotEqual(t, laptopID, phoneID)
	})

	t.Run("the user's sessions, the current one marked, without tokens", func(t *testing.T) {
		list := listSessions(t, s, laptop)
		assert.ElementsMatch(t, []string{laptopID, phoneID}, sessionIDs(list), "another user's session is not listed")
		for _, v := range list {
			assert.Equal(t, v.ID == laptopID, v.Current, "session %s", v.ID)
		}
		r := s.do(t, http.MethodGet, "/auth/sessions", laptop, nil)
		assertNoSecret(t, string(r.body), phone, "GET /auth/sessions")
	})

	t.Run("another user's session cannot be revoked", func(t *testing.T) {
		r := s.do(t, http.MethodDelete, "/auth/sessions/"+adminID, laptop, nil)
		assert.Equal(t, http.StatusNotFound, r.status, "body: %s", r.body)
		assert.Equal(t, http.StatusOK, s.do(t, http.MethodGet, "/projects", admin, nil).status, "the admin is still signed in")
	})

	t.Run("revoking one session ends its token at once", func(t *testing.T) {
		r := s.do(t, http.MethodDelete, "/auth/sessions/"+phoneID, laptop, nil)
		assert.Equal(t, http.StatusNoContent, r.status, "body: %s", r.body)
		assertUnauthorized(t, s.do(t, http.MethodGet, "/projects", phone, nil))
		assert.Equal(t, []string{laptopID}, sessionIDs(listSessions(t, s, laptop)))

		again := s.do(t, http.MethodDelete, "/auth/sessions/"+phoneID, laptop, nil)
		assert.Equal(t, http.StatusNotFound, again.status, "a revoked session is gone")
	})

	t.Run("revoking the other sessions keeps the current one", func(t *testing.T) {
		tablet := s.signIn(t, "owner@example.com")
		desktop := s.signIn(t, "owner@example.com")
		r := s.do(t, http.MethodPost, "/auth/revoke-other-sessions", laptop, nil)
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		assert.JSONEq(t, `{"revoked":2}`, string(r.body))
		assertUnauthorized(t, s.do(t, http.MethodGet, "/projects", tablet, nil))
		assertUnauthorized(t, s.do(t, http.MethodGet, "/projects", desktop, nil))
		assert.Equal(t, http.StatusOK, s.do(t, http.MethodGet, "/projects", laptop, nil).status)
		assert.Equal(t, http.StatusOK, s.do(t, http.MethodGet, "/projects", admin, nil).status, "other users keep their sessions")
		assert.Equal(t, []string{laptopID}, sessionIDs(listSessions(t, s, laptop)))
	})

	t.Run("signing out ends the token", func(t *testing.T) {
		r := s.do(t, http.MethodPost, "/auth/sign-out", laptop, nil)
		assert.Equal(t, http.StatusNoContent, r.status, "body: %s", r.body)
		assert.Empty(t, r.body)
		for _, path := range []string{"/projects", "/auth/session", "/keys/api"} {
			after := s.do(t, http.MethodGet, path, laptop, nil)
			assertUnauthorized(t, after)
			assert.Equal(t, `Bearer error="invalid_token"`, after.header.Get("WWW-Authenticate"), path)
		}
		assertUnauthorized(t, s.do(t, http.MethodPost, "/auth/sign-out", laptop, nil))
		assert.Equal(t, http.StatusOK, s.do(t, http.MethodGet, "/projects", admin, nil).status)
	})

	t.Run("no token reached the log", func(t *testing.T) {
		logs := s.logs.String()
		require.NotEmpty(t, logs)
		for _, token := range []string{laptop, phone, admin} {
			assertNoSecret(t, logs, token, "the log")
		}
	})
}
