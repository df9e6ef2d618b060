package bearer_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/sessionauth/sessionauth"
	"github.com/sessionauth/sessionauth/authapi"
	"github.com/sessionauth/sessionauth/bearer"
	"github.com/sessionauth/sessionauth/password"
	"github.com/sessionauth/sessionauth/store/memstore"
)

// exampleAPI serves authapi's endpoints and GET /whoami for one user,
// ada@example.com, whose password is "correct horse battery".
func exampleAPI() (*httptest.Server, func()) {
	ctx := context.Background()
	store := memstore.New(memstore.Config{})
	m, err := sessionauth.New(sessionauth.Config{Store: store})
	if err != nil {
		log.Fatal(err)
	}
	h, err := password.New(password.Params{})
	if err != nil {
		log.Fatal(err)
	}
	hash, err := h.Hash(ctx, "correct horse battery")
	if err != nil {
		log.Fatal(err)
	}
	api, err := authapi.New(authapi.Config{Manager: m, Hasher: h,
		Accounts: func(_ context.Context, name string) (authapi.Account, error) {
			if name != "ada@example.com" {
				return authapi.Account{}, authapi.ErrNoSuchAccount
			}
			return authapi.Account{UserID: "ada", PasswordHash: hash}, nil
		}})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	api.Register(mux)
	mux.Handle("GET /whoami", m.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := sessionauth.FromContext(r.Context())
		fmt.Fprint(w, s.UserID)
	})))
	srv := httptest.NewServer(mux)
	return srv, func() { srv.Close(); store.Close() }
}

// Signing in is one call; the session it returns carries the token.
func ExampleSignIn() {
	srv, done := exampleAPI()
	defer done()
	ctx := context.Background()

	s, err := bearer.SignIn(ctx, nil, srv.URL+"/auth/sign-in", "ada@example.com", "correct horse battery")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(s.Token), s.ExpiresAt.After(s.IdleExpiresAt))
	// Output: 43 true
}

// A client that signs in with a password on first use, and again whenever
// the API rejects its token.
func ExamplePasswordSignIn() {
	srv, done := exampleAPI()
	defer done()

	src := bearer.NewSource("", bearer.PasswordSignIn(nil, srv.URL+"/auth/sign-in", "ada@example.com", "correct horse battery"))
	client := &http.Client{Transport: &bearer.Transport{Origin: srv.URL, Source: src}}

	resp, err := client.Get(srv.URL + "/whoami")
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.StatusCode, string(body))
	// Output: 200 ada
}
