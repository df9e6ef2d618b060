package sessionauthtest_test

// These tests are written as an application's tests would be: a small API
// protected by RequireRole and Authorize, and one short test per behaviour.

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionauth/sessionauth"
	"github.com/sessionauth/sessionauth/sessionauthtest"
)

// keysAPI keeps API key names per project: developers list and create them,
// admins delete them all.
type keysAPI struct {
	m    *sessionauth.Manager
	mu   sync.Mutex
	keys map[string][]string // project ID -> key names
}

func newKeysAPI(m *sessionauth.Manager) http.Handler {
	a := &keysAPI{m: m, keys: map[string][]string{}}
	project := sessionauth.ProjectFromPath("project")
	mux := http.NewServeMux()
	mux.Handle("GET /projects/{project}/keys", m.RequireRole(sessionauth.RoleDeveloper, project)(http.HandlerFunc(a.list)))
	mux.Handle("DELETE /projects/{project}/keys", m.RequireRole(sessionauth.RoleAdmin, project)(http.HandlerFunc(a.deleteAll)))
	mux.Handle("POST /keys", m.Require(http.HandlerFunc(a.create)))
	return mux
}

func (a *keysAPI) list(w http.ResponseWriter, r *http.Request) {
	g, _ := sessionauth.GrantFromContext(r.Context())
	a.mu.Lock()
	keys := append([]string{}, a.keys[g.ProjectID]...)
	a.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"projectId": g.ProjectID, "role": g.Role, "keys": keys})
}

func (a *keysAPI) deleteAll(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	delete(a.keys, r.PathValue("project"))
	a.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// create takes the project from the JSON body, so it asks Authorize itself.
func (a *keysAPI) create(w http.ResponseWriter, r *http.Request) {
	var req struct {
		ProjectID string `json:"projectId"`
		Name      string `json:"name"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<10)).Decode(&req); err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	if _, err := a.m.Authorize(r.Context(), req.ProjectID, sessionauth.RoleDeveloper); err != nil {
		a.m.Error(w, r, err)
		return
	}
	s, _ := sessionauth.FromContext(r.Context())
	a.mu.Lock()
	a.keys[req.ProjectID] = append(a.keys[req.ProjectID], req.Name)
	a.mu.Unlock()
	writeJSON(w, http.StatusCreated, map[string]string{"name": req.Name, "createdBy": s.UserID})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func TestListKeys_AdminGets200(t *testing.T) {
	env := sessionauthtest.New(t)
	rec := env.User(t, "ada", sessionauthtest.On("web", sessionauth.RoleAdmin)).Do(newKeysAPI(env.Manager), "GET", "/projects/web/keys", nil)
	assert.JSONEq(t, `{"projectId":"web","role":"admin","keys":[]}`, rec.Body.String())
}

func TestDeleteKeys_DeveloperGets403(t *testing.T) {
	env := sessionauthtest.New(t)
	rec := env.User(t, "bob", sessionauthtest.On("web", sessionauth.RoleDeveloper)).Do(newKeysAPI(env.Manager), "DELETE", "/projects/web/keys", nil)
	sessionauthtest.AssertForbidden(t, rec)
}

func TestListKeys_WithoutTokenGets401(t *testing.T) {
	env := sessionauthtest.New(t)
	rec := sessionauthtest.Do(newKeysAPI(env.Manager), httptest.NewRequest("GET", "/projects/web/keys", nil))
	sessionauthtest.AssertUnauthorized(t, rec)
}

func TestListKeys_IdleSessionGets401(t *testing.T) {
	env := sessionauthtest.New(t)
	api := newKeysAPI(env.Manager)
	dev := env.User(t, "bob", sessionauthtest.On("web", sessionauth.RoleDeveloper))

	env.Clock.Advance(env.Manager.IdleTimeout() - time.Nanosecond)
	require.Equal(t, http.StatusOK, dev.Do(api, "GET", "/projects/web/keys", nil).Code, "still within the idle timeout")

	env.Clock.Advance(env.Manager.IdleTimeout())
	sessionauthtest.AssertUnauthorized(t, dev.Do(api, "GET", "/projects/web/keys", nil))
}

func TestListKeys_RevokedSessionGets401(t *testing.T) {
	env := sessionauthtest.New(t)
	api := newKeysAPI(env.Manager)
	dev := env.User(t, "bob", sessionauthtest.On("web", sessionauth.RoleDeveloper))
	require.Equal(t, http.StatusOK, dev.Do(api, "GET", "/projects/web/keys", nil).Code)

	require.NoError(t, env.Manager.Revoke(context.Background(), dev.Session))
	sessionauthtest.AssertUnauthorized(t, dev.Do(api, "GET", "/projects/web/keys", nil))
}

func TestListKeys_ByRole(t *testing.T) {
	env := sessionauthtest.New(t)
	api := newKeysAPI(env.Manager)
	env.AddProject(t, "web", "acme")
	env.AddProject(t, "ops", "initech")

	tests := []struct {
		name        string
		memberships []sessionauthtest.Membership
		wantStatus  int
	}{
		{"owner", []sessionauthtest.Membership{sessionauthtest.On("web", sessionauth.RoleOwner)}, http.StatusOK},
		{"admin", []sessionauthtest.Membership{sessionauthtest.On("web", sessionauth.RoleAdmin)}, http.StatusOK},
		{"developer", []sessionauthtest.Membership{sessionauthtest.On("web", sessionauth.RoleDeveloper)}, http.StatusOK},
		{"developer of the organization", []sessionauthtest.Membership{sessionauthtest.OnOrg("acme", sessionauth.RoleDeveloper)}, http.StatusOK},
		{"owner of another organization", []sessionauthtest.Membership{sessionauthtest.OnOrg("initech", sessionauth.RoleOwner)}, http.StatusForbidden},
		{"owner of another project", []sessionauthtest.Membership{sessionauthtest.On("ops", sessionauth.RoleOwner)}, http.StatusForbidden},
		{"member without a role", []sessionauthtest.Membership{sessionauthtest.On("web", sessionauth.NoRole)}, http.StatusForbidden},
		{"no membership", nil, http.StatusForbidden},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			user := env.User(t, tc.name, tc.memberships...)
			assert.Equal(t, tc.wantStatus, user.Do(api, "GET", "/projects/web/keys", nil).Code)
		})
	}
}

func TestCreateKey_ChecksTheProjectOfTheBody(t *testing.T) {
	env := sessionauthtest.New(t)
	api := newKeysAPI(env.Manager)
	dev := env.User(t, "bob", sessionauthtest.On("web", sessionauth.RoleDeveloper))

	rec := dev.Do(api, "POST", "/keys", strings.NewReader(`{"projectId":"web","name":"ci"}`))
	assert.Equal(t, http.StatusCreated, rec.Code)
	assert.JSONEq(t, `{"name":"ci","createdBy":"bob"}`, rec.Body.String())

	rec = dev.Do(api, "POST", "/keys", strings.NewReader(`{"projectId":"ops","name":"ci"}`))
	sessionauthtest.AssertForbidden(t, rec)
}

func TestDeleteKeys_RoleWithdrawnGets403OnTheNextRequest(t *testing.T) {
	env := sessionauthtest.New(t)
	api := newKeysAPI(env.Manager)
	admin := env.User(t, "ada", sessionauthtest.On("web", sessionauth.RoleAdmin))
	require.Equal(t, http.StatusNoContent, admin.Do(api, "DELETE", "/projects/web/keys", nil).Code)

	require.NoError(t, env.Access.SetProjectRole("web", "ada", sessionauth.RoleDeveloper))
	sessionauthtest.AssertForbidden(t, admin.Do(api, "DELETE", "/projects/web/keys", nil))
}

func TestListKeys_ShortIdleTimeoutFromConfig(t *testing.T) {
	env := sessionauthtest.New(t, sessionauthtest.WithConfig(func(c *sessionauth.Config) { c.IdleTimeout = 5 * time.Minute }))
	dev := env.User(t, "bob", sessionauthtest.On("web", sessionauth.RoleDeveloper))
	env.Clock.Advance(5 * time.Minute)
	sessionauthtest.AssertUnauthorized(t, dev.Do(newKeysAPI(env.Manager), "GET", "/projects/web/keys", nil))
}

func TestListKeys_ResolverOutageGets503(t *testing.T) {
	env := sessionauthtest.New(t, sessionauthtest.WithConfig(func(c *sessionauth.Config) {
		c.Access = sessionauth.AccessResolverFunc(func(context.Context, string, string) (sessionauth.Role, error) {
			return sessionauth.NoRole, errors.New("database is down")
		})
		c.Logger = slog.New(slog.DiscardHandler)
	}))
	rec := env.User(t, "bob").Do(newKeysAPI(env.Manager), "GET", "/projects/web/keys", nil)
	sessionauthtest.AssertUnavailable(t, rec)
}

func TestListKeys_OverARealServer(t *testing.T) {
	env := sessionauthtest.New(t)
	srv := httptest.NewServer(newKeysAPI(env.Manager))
	t.Cleanup(srv.Close)
	token := env.Token(t, "bob", sessionauthtest.On("web", sessionauth.RoleDeveloper))

	get := func() *http.Response {
		req, err := http.NewRequestWithContext(t.Context(), "GET", srv.URL+"/projects/web/keys", nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := srv.Client().Do(req)
		require.NoError(t, err)
		t.Cleanup(func() { res.Body.Close() })
		return res
	}
	require.Equal(t, http.StatusOK, get().StatusCode)

	_, err := env.Manager.RevokeUser(t.Context(), "bob", nil)
	require.NoError(t, err)
	sessionauthtest.AssertUnauthorized(t, get())
}
