//go:build !sessionauth_dev

package sessionauth_test

import (
	"context"
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

func TestDevModeIsOffWithoutTheDevTag(t *testing.T) {
	assert.False(t, sessionauth.DevMode)
}

func TestDevTokenIsUnknownWithoutTheDevTag(t *testing.T) {
	principals := []struct {
		name string
		p    *sessionauth.DevPrincipal
	}{
		{"not configured", nil},
		{"configured", &sessionauth.DevPrincipal{UserID: "alice", Role: sessionauth.RoleOwner}},
	}
	for _, pr := range principals {
		t.Run(pr.name, func(t *testing.T) {
			store := memstore.New(memstore.Config{})
			t.Cleanup(func() { store.Close() })
			access := memaccess.New()
			require.NoError(t, access.AddOrganization("acme", "Acme"))
			require.NoError(t, access.AddProject("p1", "P1", "acme"))
			require.NoError(t, access.SetOrgRole("acme", "alice", sessionauth.RoleOwner))
			m, err := sessionauth.New(sessionauth.Config{
				Store: store, Access: access, DevPrincipal: pr.p,
				Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
			})
			require.NoError(t, err)

			_, err = m.Authenticate(context.Background(), "test-token")
			assert.ErrorIs(t, err, sessionauth.ErrUnknownSession)

			ok := http.HandlerFunc(func(http.ResponseWriter, *http.Request) { t.Error("the handler must not run") })
			mux := http.NewServeMux()
			mux.Handle("GET /whoami", m.Require(ok))
			mux.Handle("GET /projects/{projectID}", m.RequireRole(sessionauth.RoleDeveloper, sessionauth.ProjectFromPath("projectID"))(ok))
			srv := httptest.NewServer(mux)
			t.Cleanup(srv.Close)

			for _, path := range []string{"/whoami", "/projects/p1"} {
				req, err := http.NewRequest(http.MethodGet, srv.URL+path, nil)
				require.NoError(t, err)
				req.Header.Set("Authorization", "Bearer test-token")
				res, err := srv.Client().Do(req)
				require.NoError(t, err)
				body, err := io.ReadAll(res.Body)
				res.Body.Close()
				require.NoError(t, err)
				assert.Equal(t, http.StatusUnauthorized, res.StatusCode, path)
				assert.Equal(t, sessionauth.BodyUnauthorized, string(body), path)
				assert.Equal(t, `Bearer error="invalid_token"`, res.Header.Get("WWW-Authenticate"), path)
			}
		})
	}
}

func TestDevPrincipalOnlyWarnsWithoutTheDevTag(t *testing.T) {
	tests := []struct {
		name      string
		p         *sessionauth.DevPrincipal
		wantWarns int
	}{
		{"configured", &sessionauth.DevPrincipal{UserID: "alice"}, 1},
		{"not configured", nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := memstore.New(memstore.Config{})
			t.Cleanup(func() { store.Close() })
			var logs strings.Builder
			_, err := sessionauth.New(sessionauth.Config{
				Store: store, DevPrincipal: tt.p,
				Logger: slog.New(slog.NewTextHandler(&logs, nil)),
			})
			require.NoError(t, err)
			assert.Equal(t, tt.wantWarns, strings.Count(logs.String(), "level=WARN"), logs.String())
			assert.Equal(t, tt.wantWarns, strings.Count(logs.String(), "\n"), "nothing else is logged")
			if tt.wantWarns > 0 {
				assert.Contains(t, logs.String(), "sessionauth_dev", "the warning says why the principal is ignored")
			}
		})
	}
}
