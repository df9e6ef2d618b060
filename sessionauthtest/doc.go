// Package sessionauthtest helps an application test its own handlers behind
// sessionauth: New gives a Manager on an in-memory store, an in-memory access
// resolver and a clock the test controls; Env.User signs a user in with
// roles on projects and returns a real session; requests as that user go
// through the application's own routes and middleware; and the assertions
// check the library's exact error responses. A handler test needs no setup
// beyond that:
//
//	func TestDeleteProject(t *testing.T) {
//		env := sessionauthtest.New(t)
//		api := newAPI(env.Manager, env.Access) // the application's routes
//
//		rec := env.User(t, "ada", sessionauthtest.On("web", sessionauth.RoleOwner)).Do(api, "DELETE", "/projects/web", nil)
//		if rec.Code != http.StatusNoContent {
//			t.Errorf("owner: status %d", rec.Code)
//		}
//
//		rec = env.User(t, "bob", sessionauthtest.On("web", sessionauth.RoleDeveloper)).Do(api, "DELETE", "/projects/web", nil)
//		sessionauthtest.AssertForbidden(t, rec)
//
//		rec = sessionauthtest.Do(api, httptest.NewRequest("DELETE", "/projects/web", nil))
//		sessionauthtest.AssertUnauthorized(t, rec)
//	}
//
// Nothing is mocked: tokens are minted by Manager.Create, checked by the
// application's Require and RequireRole, and roles come from a
// memaccess.Access that the test can change between requests. A
// token stops working when the test revokes its session or moves env.Clock
// past the idle timeout, exactly as in production.
//
// # Time
//
// The Manager and the store read env.Clock, which starts at 2025-01-01
// 00:00:00 UTC and moves only when the test calls Advance or Set, so expiry
// tests take no time and session timestamps are the same on every run.
//
// # Development token
//
// In a test binary built with the sessionauth_dev tag, env.Manager accepts
// the development token as every Manager of such a build does; shape its
// principal with WithConfig and Config.DevPrincipal. Tests that expect it to
// be refused belong in the default build.
//
// # Test frameworks
//
// Functions take a TB, the part of testing.TB this package uses: a
// *testing.T, *testing.B or *testing.F, or the T of another framework.
// Assertions report with Errorf and return whether they passed, like
// testify's assert; setup failures (New, Env.User) end the test with Fatalf.
// The package itself depends on no assertion library.
package sessionauthtest
