package sessionauth_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/sessionauth/sessionauth"
	"github.com/sessionauth/sessionauth/store/memstore"
)

// get sends a GET to url with the token, if any, and prints the answer.
func get(url, token string) {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	fmt.Println(res.StatusCode, string(body))
}

// A protected API: Require lets a request through only with a valid session.
func ExampleManager_Require() {
	store := memstore.New(memstore.Config{})
	defer store.Close()
	m, err := sessionauth.New(sessionauth.Config{Store: store})
	if err != nil {
		panic(err)
	}

	mux := http.NewServeMux()
	mux.Handle("GET /whoami", m.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := sessionauth.FromContext(r.Context())
		fmt.Fprintf(w, "hello %s", s.UserID)
	})))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	token, _, err := m.Create(context.Background(), "user-1", sessionauth.Metadata{})
	if err != nil {
		panic(err)
	}
	get(srv.URL+"/whoami", token)
	get(srv.URL+"/whoami", "")
	// Output:
	// 200 hello user-1
	// 401 {"message":"Unauthorized"}
}

// Create returns the token once: hand it to the client. The Session is safe to
// show and to log.
func ExampleManager_Create() {
	store := memstore.New(memstore.Config{})
	defer store.Close()
	m, _ := sessionauth.New(sessionauth.Config{Store: store})

	token, s, err := m.Create(context.Background(), "user-1", sessionauth.Metadata{
		IP:     "203.0.113.7",
		Values: map[string]string{"org": "acme"},
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(len(token), s.UserID, s.Value("org"), s.ExpiresAt.Sub(s.CreatedAt))
	// Output: 43 user-1 acme 12h0m0s
}

// Sign-out: revoke the session of the request; its token stops working at once.
func ExampleManager_Revoke() {
	store := memstore.New(memstore.Config{})
	defer store.Close()
	m, _ := sessionauth.New(sessionauth.Config{Store: store})
	ctx := context.Background()

	token, s, _ := m.Create(ctx, "user-1", sessionauth.Metadata{})
	if err := m.Revoke(ctx, s); err != nil {
		panic(err)
	}
	_, err := m.Authenticate(ctx, token)
	fmt.Println(errors.Is(err, sessionauth.ErrUnknownSession))
	// Output: true
}

// Sign out every other device of a user, keeping the current session.
func ExampleManager_RevokeUser() {
	store := memstore.New(memstore.Config{})
	defer store.Close()
	m, _ := sessionauth.New(sessionauth.Config{Store: store})
	ctx := context.Background()

	_, laptop, _ := m.Create(ctx, "user-1", sessionauth.Metadata{UserAgent: "laptop"})
	_, _, _ = m.Create(ctx, "user-1", sessionauth.Metadata{UserAgent: "phone"})
	_, _, _ = m.Create(ctx, "user-1", sessionauth.Metadata{UserAgent: "tablet"})

	n, err := m.RevokeUser(ctx, "user-1", laptop)
	if err != nil {
		panic(err)
	}
	left, _ := m.List(ctx, "user-1")
	fmt.Println(n, len(left), left[0].UserAgent)
	// Output: 2 1 laptop
}

// Rotate after a change of privilege: the old token dies, the session lives on.
func ExampleManager_Rotate() {
	store := memstore.New(memstore.Config{})
	defer store.Close()
	m, _ := sessionauth.New(sessionauth.Config{Store: store})
	ctx := context.Background()

	oldToken, s, _ := m.Create(ctx, "user-1", sessionauth.Metadata{})
	newToken, rotated, err := m.Rotate(ctx, s)
	if err != nil {
		panic(err)
	}
	_, errOld := m.Authenticate(ctx, oldToken)
	_, errNew := m.Authenticate(ctx, newToken)
	fmt.Println(rotated.ID == s.ID, errOld != nil, errNew == nil)
	// Output: true true true
}

// Handlers answer with the library's exact bodies through Manager.Error.
func ExampleManager_Error() {
	store := memstore.New(memstore.Config{})
	defer store.Close()
	m, _ := sessionauth.New(sessionauth.Config{Store: store})

	rec := httptest.NewRecorder()
	m.Error(rec, httptest.NewRequest(http.MethodGet, "/", nil), sessionauth.ErrForbidden)
	fmt.Println(rec.Code, rec.Body.String())
	// Output: 403 {"message":"You don't have access to this project"}
}

// Parse the bearer token of a request without the middleware.
func ExampleBearerToken() {
	r := httptest.NewRequest(http.MethodGet, "/?access_token=ignored", nil)
	r.Header.Set("Authorization", "bearer   abc.DEF-123")
	token, err := sessionauth.BearerToken(r)
	fmt.Println(token, err)

	r.Header.Set("Authorization", "Basic dXNlcjpwYXNz")
	_, err = sessionauth.BearerToken(r)
	fmt.Println(err)
	// Output:
	// abc.DEF-123 <nil>
	// sessionauth: no bearer token
}
