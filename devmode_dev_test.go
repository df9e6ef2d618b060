//go:build sessionauth_dev

package sessionauth_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionauth/sessionauth"
	"github.com/sessionauth/sessionauth/access/memaccess"
	"github.com/sessionauth/sessionauth/store/memstore"
)

const devTestToken = "test-token"

// newDevServer returns a Manager configured with p and resolver, its log, and
// a server with GET /whoami behind Require and GET
// /projects/{projectID}/{role} behind RequireRole(role).
func newDevServer(t *testing.T, p *sessionauth.DevPrincipal, resolver sessionauth.AccessResolver) (*sessionauth.Manager, *lockedBuffer, *httptest.Server) {
	t.Helper()
	store := memstore.New(memstore.Config{})
	t.Cleanup(func() { store.Close() })
	logs := &lockedBuffer{}
	m, err := sessionauth.New(sessionauth.Config{
		Store:        store,
		Access:       resolver,
		DevPrincipal: p,
		Logger:       slog.New(slog.NewTextHandler(logs, nil)),
	})
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("GET /whoami", m.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := sessionauth.FromContext(r.Context())
		fmt.Fprint(w, s.UserID)
	})))
	for _, role := range []sessionauth.Role{sessionauth.RoleDeveloper, sessionauth.RoleAdmin, sessionauth.RoleOwner} {
		mux.Handle("GET /projects/{projectID}/"+role.String(), m.RequireRole(role, sessionauth.ProjectFromPath("projectID"))(
			http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				g, _ := sessionauth.GrantFromContext(r.Context())
				fmt.Fprint(w, g.Role)
			})))
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return m, logs, srv
}

func devGet(t *testing.T, srv *httptest.Server, path, authorization string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, srv.URL+path, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", authorization)
	res, err := srv.Client().Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res.StatusCode, string(body)
}

// failingResolver fails every call: the development session must pass role
// checks without it.
var failingResolver = sessionauth.AccessResolverFunc(func(context.Context, string, string) (sessionauth.Role, error) {
	return sessionauth.NoRole, errors.New("the resolver was asked")
})

func TestDevModeIsOnWithTheDevTag(t *testing.T) {
	assert.True(t, sessionauth.DevMode)
}

func TestDevTokenAuthenticatesTheDevPrincipal(t *testing.T) {
	tests := []struct {
		name      string
		principal *sessionauth.DevPrincipal
		wantUser  string
	}{
		{"not configured", nil, sessionauth.DefaultDevUserID},
		{"zero principal", &sessionauth.DevPrincipal{}, "dev-user"},
		{"configured user", &sessionauth.DevPrincipal{UserID: "alice"}, "alice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _, srv := newDevServer(t, tt.principal, failingResolver)

			for _, header := range []string{"Bearer " + devTestToken, "bearer   " + devTestToken} {
				status, body := devGet(t, srv, "/whoami", header)
				assert.Equal(t, http.StatusOK, status, header)
				assert.Equal(t, tt.wantUser, body, header)
			}
			s, err := m.Authenticate(context.Background(), devTestToken)
			require.NoError(t, err)
			assert.Equal(t, tt.wantUser, s.UserID)

			for _, near := range []string{"Test-Token", "test-token ", "test-tokens", "test-toke", "test_token"} {
				_, err := m.Authenticate(context.Background(), near)
				assert.ErrorIs(t, err, sessionauth.ErrUnknownSession, "%q", near)
			}
		})
	}
}

func TestDevModeWarnsOnceAtNew(t *testing.T) {
	_, logs, srv := newDevServer(t, &sessionauth.DevPrincipal{UserID: "alice"}, failingResolver)
	afterNew := logs.String()
	assert.Equal(t, 1, strings.Count(afterNew, "level=WARN"), afterNew)
	assert.Contains(t, afterNew, "DEVELOPMENT BUILD")
	assert.Contains(t, afterNew, devTestToken, "the warning says which token is accepted")
	assert.Contains(t, afterNew, "alice")

	for range 3 {
		status, _ := devGet(t, srv, "/projects/p1/owner", "Bearer "+devTestToken)
		require.Equal(t, http.StatusOK, status)
	}
	assert.Equal(t, afterNew, logs.String(), "requests add no warnings")
}

func TestDevPrincipalRoles(t *testing.T) {
	const (
		none = sessionauth.NoRole
		dev  = sessionauth.RoleDeveloper
		adm  = sessionauth.RoleAdmin
		own  = sessionauth.RoleOwner
	)
	tests := []struct {
		name      string
		principal *sessionauth.DevPrincipal
		path      string
		want      int
		wantRole  string
	}{
		{"default is owner on any project", nil, "/projects/anything/owner", http.StatusOK, "owner"},
		{"zero principal is owner too", &sessionauth.DevPrincipal{UserID: "alice"}, "/projects/p1/owner", http.StatusOK, "owner"},
		{"role everywhere, enough", &sessionauth.DevPrincipal{Role: dev}, "/projects/p1/developer", http.StatusOK, "developer"},
		{"role everywhere, too low", &sessionauth.DevPrincipal{Role: dev}, "/projects/p1/admin", http.StatusForbidden, ""},
		{"project role, enough", &sessionauth.DevPrincipal{ProjectRoles: map[string]sessionauth.Role{"p1": adm}}, "/projects/p1/admin", http.StatusOK, "admin"},
		{"project role, too low", &sessionauth.DevPrincipal{ProjectRoles: map[string]sessionauth.Role{"p1": adm}}, "/projects/p1/owner", http.StatusForbidden, ""},
		{"only the listed projects", &sessionauth.DevPrincipal{ProjectRoles: map[string]sessionauth.Role{"p1": adm}}, "/projects/p2/developer", http.StatusForbidden, ""},
		{"project role overrides role", &sessionauth.DevPrincipal{Role: own, ProjectRoles: map[string]sessionauth.Role{"p1": dev}}, "/projects/p1/admin", http.StatusForbidden, ""},
		{"role applies to unlisted projects", &sessionauth.DevPrincipal{Role: adm, ProjectRoles: map[string]sessionauth.Role{"p1": dev}}, "/projects/p2/admin", http.StatusOK, "admin"},
		{"NoRole on a project refuses it", &sessionauth.DevPrincipal{Role: own, ProjectRoles: map[string]sessionauth.Role{"p1": none}}, "/projects/p1/developer", http.StatusForbidden, ""},
		{"a value that is not a role grants nothing", &sessionauth.DevPrincipal{Role: sessionauth.Role(9)}, "/projects/p1/developer", http.StatusForbidden, ""},
		{"an implausible project ID is refused", nil, "/projects/p1%0A/developer", http.StatusForbidden, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, srv := newDevServer(t, tt.principal, failingResolver)
			status, body := devGet(t, srv, tt.path, "Bearer "+devTestToken)
			assert.Equal(t, tt.want, status)
			if tt.want == http.StatusOK {
				assert.Equal(t, tt.wantRole, body)
			} else {
				assert.Equal(t, sessionauth.BodyForbidden, body)
			}
		})
	}
}

func TestDevPrincipalIsCopiedAtNew(t *testing.T) {
	p := &sessionauth.DevPrincipal{UserID: "alice", Role: sessionauth.RoleDeveloper, ProjectRoles: map[string]sessionauth.Role{"p1": sessionauth.RoleOwner}}
	_, _, srv := newDevServer(t, p, failingResolver)
	p.UserID = "mallory"
	p.Role = sessionauth.RoleOwner
	p.ProjectRoles["p1"] = sessionauth.NoRole
	p.ProjectRoles["p2"] = sessionauth.RoleOwner

	_, user := devGet(t, srv, "/whoami", "Bearer "+devTestToken)
	assert.Equal(t, "alice", user)
	status, _ := devGet(t, srv, "/projects/p1/owner", "Bearer "+devTestToken)
	assert.Equal(t, http.StatusOK, status)
	status, _ = devGet(t, srv, "/projects/p2/admin", "Bearer "+devTestToken)
	assert.Equal(t, http.StatusForbidden, status)
}

// A real session of the development user ID is an ordinary session: the
// resolver decides its roles, not the DevPrincipal.
func TestStoredSessionOfTheDevUserGetsNoDevRoles(t *testing.T) {
	access := memaccess.New()
	require.NoError(t, access.AddOrganization("acme", "Acme"))
	require.NoError(t, access.AddProject("acme-api", "API", "acme"))
	m, _, srv := newDevServer(t, &sessionauth.DevPrincipal{UserID: "alice"}, access)
	token, _, err := m.Create(context.Background(), "alice", sessionauth.Metadata{})
	require.NoError(t, err)

	status, _ := devGet(t, srv, "/projects/acme-api/developer", "Bearer "+token)
	assert.Equal(t, http.StatusForbidden, status)
	status, _ = devGet(t, srv, "/projects/acme-api/developer", "Bearer "+devTestToken)
	assert.Equal(t, http.StatusOK, status)

	require.NoError(t, access.SetProjectRole("acme-api", "alice", sessionauth.RoleAdmin))
	status, body := devGet(t, srv, "/projects/acme-api/developer", "Bearer "+token)
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, "admin", body)
}
