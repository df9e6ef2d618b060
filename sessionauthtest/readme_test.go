package sessionauthtest_test

import (
	"testing"

	"github.com/sessionauth/sessionauth"
	"github.com/sessionauth/sessionauth/sessionauthtest"
)

// The README's three-line handler test, as it stands there.
func TestDeleteNeedsOwner(t *testing.T) {
	env := sessionauthtest.New(t)
	rec := env.User(t, "ada", sessionauthtest.On("web", sessionauth.RoleAdmin)).Do(newProjectAPI(env.Manager), "DELETE", "/projects/web", nil)
	sessionauthtest.AssertForbidden(t, rec) // 403 and the exact body
}
