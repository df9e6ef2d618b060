package authapi_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/sessionauth/sessionauth"
	"github.com/sessionauth/sessionauth/authapi"
	"github.com/sessionauth/sessionauth/bearer"
	"github.com/sessionauth/sessionauth/password"
	"github.com/sessionauth/sessionauth/store/memstore"
)

// users stands for the application's own user table: sign-in name to user
// ID and password hash.
type users map[string]authapi.Account

func (u users) lookup(_ context.Context, email string) (authapi.Account, error) {
	a, ok := u[email]
	if !ok {
		return a, authapi.ErrNoSuchAccount
	}
	return a, nil
}

func (u users) saveHash(_ context.Context, userID, hash string) error {
	for email, a := range u {
		if a.UserID == userID {
			u[email] = authapi.Account{UserID: userID, PasswordHash: hash}
		}
	}
	return nil
}

// An application's whole wiring for sign-in, sign-out, sessions and
// revocation: a Manager, the endpoints, a mux.
func Example() {
	store := memstore.New(memstore.Config{})
	defer store.Close()
	m, err := sessionauth.New(sessionauth.Config{Store: store})
	if err != nil {
		log.Fatal(err)
	}
	db := newUsers() // the application's users
	api, err := authapi.New(authapi.Config{Manager: m, Accounts: db.lookup, SaveHash: db.saveHash})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	api.Register(mux) // POST /auth/sign-in, GET /auth/sessions, ...

	// A client signs in with one call and calls the API with the token.
	srv := httptest.NewServer(mux)
	defer srv.Close()
	s, err := bearer.SignIn(context.Background(), nil, srv.URL+"/auth/sign-in", "ada@example.com", "correct horse")
	if err != nil {
		log.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/auth/sessions", nil)
	req.Header.Set("Authorization", "Bearer "+s.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	fmt.Println(resp.Status, resp.Header.Get("Content-Type"), resp.Header.Get("X-Content-Type-Options"))

	_, err = bearer.SignIn(context.Background(), nil, srv.URL+"/auth/sign-in", "ada@example.com", "wrong")
	fmt.Println(err)
	// Output:
	// 200 OK application/json nosniff
	// bearer: sign-in refused: wrong name or password
}

func newUsers() users {
	h, err := password.New(password.Params{})
	if err != nil {
		log.Fatal(err)
	}
	hash, err := h.Hash(context.Background(), "correct horse")
	if err != nil {
		log.Fatal(err)
	}
	return users{"ada@example.com": {UserID: "ada", PasswordHash: hash}}
}
