package main

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// serviceURL returns the URL in the environment variable env (set by
// scripts/test.sh), skipping the test when it is unset, or failing it when
// SESSIONAUTH_REQUIRE_SERVICES=1 says the service must be there.
func serviceURL(t *testing.T, env string) string {
	t.Helper()
	url := os.Getenv(env)
	if url == "" {
		if os.Getenv("SESSIONAUTH_REQUIRE_SERVICES") == "1" {
			t.Fatalf("%s is not set but SESSIONAUTH_REQUIRE_SERVICES=1", env)
		}
		t.Skipf("set %s to run the server on that store (scripts/test.sh does)", env)
	}
	return url
}

// TestInstancesSharingAStoreSeeEachOthersRevocations runs two servers on one
// store, as two instances of an application behind a load balancer: a
// session signed in on one works on the other, and a sign-out or revocation
// on one holds on the other from the next request on.
//
// Redis and PostgreSQL hold the server's sessions under its default key
// prefix and table, which other servers on the same database share, so the
// test only ends sessions it created.
func TestInstancesSharingAStoreSeeEachOthersRevocations(t *testing.T) {
	t.Parallel()
	stores := []struct {
		name string
		args func(t *testing.T) []string
	}{
		{"sqlite", func(t *testing.T) []string {
			return []string{"-store", "sqlite", "-db", filepath.Join(t.TempDir(), "shared.db")}
		}},
		{"redis", func(t *testing.T) []string {
			return []string{"-store", "redis", "-store-url", serviceURL(t, "SESSIONAUTH_REDIS_URL")}
		}},
		{"postgres", func(t *testing.T) []string {
			return []string{"-store", "postgres", "-store-url", serviceURL(t, "SESSIONAUTH_POSTGRES_URL")}
		}},
	}
	for _, store := range stores {
		t.Run(store.name, func(t *testing.T) {
			t.Parallel()
			args := store.args(t)
			a := startServer(t, args)
			b := startServer(t, args)
			works := func(t *testing.T, s *testServer, token string) {
				t.Helper()
				r := s.do(t, http.MethodGet, "/projects", token, nil)
				assert.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
			}

			t.Run("sign-out on one instance ends the session on the other", func(t *testing.T) {
				token := a.signIn(t, "owner@example.com")
				works(t, b, token)
				require.Equal(t, http.StatusNoContent, b.do(t, http.MethodPost, "/auth/sign-out", token, nil).status)
				assertUnauthorized(t, a.do(t, http.MethodGet, "/projects", token, nil))
			})

			t.Run("revoking a device on one instance ends it on the other", func(t *testing.T) {
				laptop := b.signIn(t, "developer@example.com")
				phone := b.signIn(t, "developer@example.com")
				t.Cleanup(func() { a.do(t, http.MethodPost, "/auth/sign-out", laptop, nil) })
				phoneID := currentSession(t, b, phone).Session.ID
				assert.Contains(t, sessionIDs(listSessions(t, a, laptop)), phoneID, "one instance lists the sessions of the other")

				require.Equal(t, http.StatusNoContent, a.do(t, http.MethodDelete, "/auth/sessions/"+phoneID, laptop, nil).status)
				assertUnauthorized(t, b.do(t, http.MethodGet, "/projects", phone, nil))
				works(t, b, laptop)
				works(t, a, laptop)
			})
		})
	}
}
