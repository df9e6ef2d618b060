package main

import (
	"net/http"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestInstancesSharingAStoreSeeEachOthersRevocations runs two servers on one
// store, as two instances of an application behind a load balancer: a
// session signed in on one works on the other, and a sign-out or revocation
// on one holds on the other from the next request on.
func TestInstancesSharingAStoreSeeEachOthersRevocations(t *testing.T) {
	t.Parallel()
	stores := []namedFlags{{"sqlite", func(t *testing.T) ([]string, string) {
		return []string{"-store", "sqlite", "-db", filepath.Join(t.TempDir(), "shared.db")}, ""
	}}}
	for _, shared := range sharedStores {
		stores = append(stores, namedFlags{shared.name, shared.flags})
	}
	for _, store := range stores {
		t.Run(store.name, func(t *testing.T) {
			t.Parallel()
			args, name := store.flags(t)
			a := startServer(t, args, withStoreName(name))
			b := startServer(t, args, withStoreName(name))
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
