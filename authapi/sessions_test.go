package authapi_test

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

func (f *fixture) sessions(t *testing.T, token string) []sessionView {
	t.Helper()
	r := f.do(t, http.MethodGet, "/auth/sessions", token, "")
	require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
	assert.NotContains(t, string(r.body), token)
	return decode[struct{ Sessions []sessionView }](t, r).Sessions
}

func (f *fixture) currentID(t *testing.T, token string) string {
	t.Helper()
	r := f.do(t, http.MethodGet, "/auth/session", token, "")
	require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
	return decode[struct{ Session sessionView }](t, r).Session.ID
}

func TestSessionEndpointsWalkThrough(t *testing.T) {
	f := newFixture(t)
	laptop := f.signIn(t, "ada@example.com", adaPassword, "User-Agent", "laptop")
	f.clock.Advance(time.Second)
	phone := f.signIn(t, "ada@example.com", adaPassword, "User-Agent", "phone")
	bob := f.signIn(t, "bob@example.com", bobPassword)

	t.Run("the current session and user, without the token", func(t *testing.T) {
		r := f.do(t, http.MethodGet, "/auth/session", laptop, "")
		require.Equal(t, http.StatusOK, r.status)
		assert.NotContains(t, string(r.body), laptop)
		v := decode[struct {
			User    map[string]string
			Session sessionView
		}](t, r)
		assert.Equal(t, map[string]string{"id": "u-ada", "name": "ada"}, v.User, "what ShowUser shows")
		assert.True(t, v.Session.Current)
		assert.Equal(t, "laptop", v.Session.UserAgent)
		assert.Equal(t, "127.0.0.1", v.Session.IP)
		assert.True(t, f.clock.Now().Add(-time.Second).Equal(v.Session.CreatedAt))
	})

	laptopID, phoneID, bobID := f.currentID(t, laptop), f.currentID(t, phone), f.currentID(t, bob)

	t.Run("the user's sessions, newest first, the current one marked", func(t *testing.T) {
		list := f.sessions(t, laptop)
		require.Len(t, list, 2, "bob's session is not listed")
		assert.Equal(t, []string{phoneID, laptopID}, []string{list[0].ID, list[1].ID})
		assert.Equal(t, []bool{false, true}, []bool{list[0].Current, list[1].Current})
		assert.NotContains(t, string(f.do(t, http.MethodGet, "/auth/sessions", laptop, "").body), phone)
	})

	t.Run("another user's session is not found", func(t *testing.T) {
		r := f.do(t, http.MethodDelete, "/auth/sessions/"+bobID, laptop, "")
		assert.Equal(t, http.StatusNotFound, r.status)
		assert.JSONEq(t, `{"message":"Not Found"}`, string(r.body))
		assert.Equal(t, http.StatusOK, f.do(t, http.MethodGet, "/auth/session", bob, "").status, "bob is still signed in")
	})

	t.Run("revoking one session by ID", func(t *testing.T) {
		r := f.do(t, http.MethodDelete, "/auth/sessions/"+phoneID, laptop, "")
		assert.Equal(t, http.StatusNoContent, r.status)
		assert.Empty(t, r.body)
		assert.Equal(t, http.StatusUnauthorized, f.do(t, http.MethodGet, "/auth/session", phone, "").status)
		assert.Equal(t, http.StatusNotFound, f.do(t, http.MethodDelete, "/auth/sessions/"+phoneID, laptop, "").status)
	})

	t.Run("revoking the other sessions keeps the current one", func(t *testing.T) {
		tablet := f.signIn(t, "ada@example.com", adaPassword)
		desktop := f.signIn(t, "ada@example.com", adaPassword)
		r := f.do(t, http.MethodPost, "/auth/revoke-other-sessions", laptop, "")
		require.Equal(t, http.StatusOK, r.status)
		assert.Equal(t, `{"revoked":2}`, string(r.body))
		for _, tok := range []string{tablet, desktop} {
			assert.Equal(t, http.StatusUnauthorized, f.do(t, http.MethodGet, "/auth/session", tok, "").status)
		}
		assert.Equal(t, []string{laptopID}, []string{f.sessions(t, laptop)[0].ID})
		assert.Equal(t, http.StatusOK, f.do(t, http.MethodGet, "/auth/session", bob, "").status, "other users keep theirs")
	})

	t.Run("revoking all sessions ends the current one too", func(t *testing.T) {
		other := f.signIn(t, "ada@example.com", adaPassword)
		r := f.do(t, http.MethodPost, "/auth/revoke-sessions", other, "")
		require.Equal(t, http.StatusOK, r.status)
		assert.Equal(t, `{"revoked":2}`, string(r.body))
		for _, tok := range []string{laptop, other} {
			assert.Equal(t, http.StatusUnauthorized, f.do(t, http.MethodGet, "/auth/session", tok, "").status)
		}
	})

	t.Run("signing out ends the token", func(t *testing.T) {
		r := f.do(t, http.MethodPost, "/auth/sign-out", bob, "")
		assert.Equal(t, http.StatusNoContent, r.status)
		after := f.do(t, http.MethodGet, "/auth/sessions", bob, "")
		assert.Equal(t, http.StatusUnauthorized, after.status)
		assert.Equal(t, `Bearer error="invalid_token"`, after.header.Get("WWW-Authenticate"))
	})
}

func TestSessionRoutesRefuseRequestsWithoutAToken(t *testing.T) {
	f := newFixture(t)
	for _, rt := range []struct{ method, path string }{
		{http.MethodPost, "/auth/sign-out"},
		{http.MethodGet, "/auth/session"},
		{http.MethodGet, "/auth/sessions"},
		{http.MethodDelete, "/auth/sessions/x"},
		{http.MethodPost, "/auth/revoke-other-sessions"},
		{http.MethodPost, "/auth/revoke-sessions"},
	} {
		r := f.do(t, rt.method, rt.path, "", "")
		assertRefused(t, r)
	}
}
