package sessionauthtest_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/sessionauth/sessionauth"
	"github.com/sessionauth/sessionauth/sessionauthtest"
)

// newProjectAPI is the application under test in the examples: its routes
// are protected by the Manager it is given, as in production.
func newProjectAPI(m *sessionauth.Manager) http.Handler {
	mux := http.NewServeMux()
	project := sessionauth.ProjectFromPath("project")
	mux.Handle("GET /projects/{project}/keys", m.RequireRole(sessionauth.RoleDeveloper, project)(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			g, _ := sessionauth.GrantFromContext(r.Context())
			fmt.Fprintf(w, "keys of %s, role %s", g.ProjectID, g.Role)
		})))
	mux.Handle("DELETE /projects/{project}", m.RequireRole(sessionauth.RoleOwner, project)(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusNoContent)
		})))
	return mux
}

// A handler test: an environment, then one line per request as a user with
// a role, and the library's exact responses checked for the refusals. In a
// _test.go file the body of run is the body of func TestXxx(t *testing.T).
func Example() {
	run(func(t sessionauthtest.TB) {
		env := sessionauthtest.New(t)
		api := newProjectAPI(env.Manager)

		rec := env.User(t, "ada", sessionauthtest.On("web", sessionauth.RoleAdmin)).Do(api, "GET", "/projects/web/keys", nil)
		fmt.Println(rec.Code, rec.Body)

		rec = env.User(t, "ada").Do(api, "DELETE", "/projects/web", nil)
		sessionauthtest.AssertForbidden(t, rec)

		rec = sessionauthtest.Do(api, httptest.NewRequest("GET", "/projects/web/keys", nil))
		sessionauthtest.AssertUnauthorized(t, rec)
	})
	// Output:
	// 200 keys of web, role admin
	// PASS
}

// Expiry without sleeping: the Manager and its store read env.Clock.
func ExampleClock_Advance() {
	run(func(t sessionauthtest.TB) {
		env := sessionauthtest.New(t)
		api := newProjectAPI(env.Manager)
		dev := env.User(t, "bob", sessionauthtest.On("web", sessionauth.RoleDeveloper))

		env.Clock.Advance(env.Manager.IdleTimeout() - time.Second)
		fmt.Println(dev.Do(api, "GET", "/projects/web/keys", nil).Code) // in use: the deadline moves on

		env.Clock.Advance(env.Manager.IdleTimeout())
		sessionauthtest.AssertUnauthorized(t, dev.Do(api, "GET", "/projects/web/keys", nil))
	})
	// Output:
	// 200
	// PASS
}

// Configuration the test cares about goes through WithConfig; the store, the
// access resolver and the clock stay the environment's.
func ExampleWithConfig() {
	run(func(t sessionauthtest.TB) {
		env := sessionauthtest.New(t, sessionauthtest.WithConfig(func(c *sessionauth.Config) {
			c.IdleTimeout = 5 * time.Minute
		}))
		fmt.Println(env.Manager.IdleTimeout())
	})
	// Output:
	// 5m0s
	// PASS
}

// A role on an organization applies to all its projects; AddProject puts
// projects in it.
func ExampleOnOrg() {
	run(func(t sessionauthtest.TB) {
		env := sessionauthtest.New(t)
		env.AddProject(t, "web", "acme")
		env.AddProject(t, "mobile", "acme")
		env.User(t, "carol", sessionauthtest.OnOrg("acme", sessionauth.RoleOwner))

		for _, p := range env.Access.Projects("carol") {
			fmt.Println(p.ID, p.OrganizationID, p.Role)
		}
	})
	// Output:
	// mobile acme owner
	// web acme owner
	// PASS
}

// Revocation is immediate: the user's next request is a 401.
func ExampleUser_Do() {
	run(func(t sessionauthtest.TB) {
		env := sessionauthtest.New(t)
		api := newProjectAPI(env.Manager)
		owner := env.User(t, "dan", sessionauthtest.On("web", sessionauth.RoleOwner))

		fmt.Println(owner.Do(api, "DELETE", "/projects/web", nil).Code)
		if err := env.Manager.Revoke(context.Background(), owner.Session); err != nil {
			t.Fatalf("revoke: %v", err)
		}
		sessionauthtest.AssertUnauthorized(t, owner.Do(api, "DELETE", "/projects/web", nil))
	})
	// Output:
	// 204
	// PASS
}

// A real server and client: Token is the session token a sign-in would have
// returned.
func ExampleEnv_Token() {
	run(func(t sessionauthtest.TB) {
		env := sessionauthtest.New(t)
		srv := httptest.NewServer(newProjectAPI(env.Manager))
		defer srv.Close()

		token := env.Token(t, "erin", sessionauthtest.On("web", sessionauth.RoleDeveloper))
		req, _ := http.NewRequest("GET", srv.URL+"/projects/web/keys", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("GET: %v", err)
		}
		defer res.Body.Close()
		fmt.Println(res.StatusCode)
	})
	// Output:
	// 200
	// PASS
}
