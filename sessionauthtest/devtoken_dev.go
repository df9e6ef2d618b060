//go:build sessionauth_dev

package sessionauthtest

import "context"

// DevToken is the development token, which a Manager accepts in binaries
// built with the sessionauth_dev tag. It exists in this package only in
// such builds, so that the string never enters a default build, not even
// through a test helper.
const DevToken = "test-token"

// DevUser returns the User the development token stands for: its Token is
// DevToken and its ID and Session are the development session's, as
// Config.DevPrincipal (see WithConfig) shapes it. It ends the test with
// t.Fatalf if env.Manager does not accept the token.
//
//	rec := env.DevUser(t).Do(api, "GET", "/projects", nil)
func (e *Env) DevUser(t TB) *User {
	t.Helper()
	s, err := e.Manager.Authenticate(context.Background(), DevToken)
	if err != nil {
		t.Fatalf("sessionauthtest: the development token is refused: %v", err)
		return nil
	}
	return &User{ID: s.UserID, Token: DevToken, Session: s}
}
