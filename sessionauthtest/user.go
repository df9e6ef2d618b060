package sessionauthtest

import (
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/sessionauth/sessionauth"
)

// User is a signed-in user of an Env: its ID, its session and the session's
// token. The zero User is anonymous: its requests carry no Authorization
// header.
type User struct {
	// ID is the user's ID, Session.UserID.
	ID string
	// Token is the session token that a sign-in would hand the client.
	Token string
	// Session is the session as Manager.Create returned it; pass it to
	// Manager.Revoke or SetValues to act on it. After Manager.Rotate, set
	// Token and Session to what Rotate returned.
	Session *sessionauth.Session
}

// Request returns a request to be served by a handler, as
// httptest.NewRequest builds it (and panics on a target it cannot parse),
// with "Authorization: Bearer <token>" unless u is anonymous. Use it to set
// more headers before Do; a client of a real server needs http.NewRequest
// and the Token instead.
func (u *User) Request(method, target string, body io.Reader) *http.Request {
	r := httptest.NewRequest(method, target, body)
	if u != nil && u.Token != "" {
		r.Header.Set("Authorization", "Bearer "+u.Token)
	}
	return r
}

// Do serves u.Request(method, target, body) with h and returns the recorded
// response. h is the handler the application mounts, middleware included, so
// the test goes through the same checks as production.
//
//	rec := admin.Do(api, "GET", "/projects/web/keys", nil)
func (u *User) Do(h http.Handler, method, target string, body io.Reader) *httptest.ResponseRecorder {
	return Do(h, u.Request(method, target, body))
}

// Do serves r with h and returns the recorded response.
//
//	rec := sessionauthtest.Do(api, httptest.NewRequest("GET", "/projects", nil))
func Do(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec
}
