package sessionauthtest

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
)

// SignIn signs in through the application's own sign-in endpoint: it posts
// {"email","password"} to POST /auth/sign-in of h (the handler the
// application mounts, as authapi.API.Register sets it up) and returns the
// signed-in User, its Session read back from env.Manager. It ends the test
// with t.Fatalf unless the answer is 200 with a token of a live session.
//
//	ada := env.SignIn(t, api, "ada@example.com", "correct horse")
func (e *Env) SignIn(t TB, h http.Handler, email, password string) *User {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"email": email, "password": password})
	r := httptest.NewRequest(http.MethodPost, "/auth/sign-in", strings.NewReader(string(body)))
	r.Header.Set("Content-Type", "application/json")
	rec := Do(h, r)
	if rec.Code != http.StatusOK {
		t.Fatalf("sessionauthtest: sign-in of %q: status %d, body %.200s", email, rec.Code, rec.Body.String())
		return nil
	}
	var out struct{ Token string }
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || out.Token == "" {
		t.Fatalf("sessionauthtest: sign-in of %q: no token in the answer", email)
		return nil
	}
	s, err := e.Manager.Authenticate(context.Background(), out.Token)
	if err != nil {
		t.Fatalf("sessionauthtest: sign-in of %q: the token is not a live session: %v", email, err)
		return nil
	}
	return &User{ID: s.UserID, Token: out.Token, Session: s}
}
