package bearer_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/sessionauth/sessionauth"
	"github.com/sessionauth/sessionauth/bearer"
	"github.com/sessionauth/sessionauth/store/memstore"
)

// A client that signs in on first use, and again when its session ends.
func ExampleTransport() {
	// The API: a route protected by sessionauth.
	store := memstore.New(memstore.Config{})
	defer store.Close()
	m, err := sessionauth.New(sessionauth.Config{Store: store})
	if err != nil {
		log.Fatal(err)
	}
	srv := httptest.NewServer(m.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := sessionauth.FromContext(r.Context())
		fmt.Fprintf(w, "hello %s", s.UserID)
	})))
	defer srv.Close()

	// The client. A real signIn posts credentials to the API's sign-in
	// endpoint; this one creates the session directly.
	signIns := 0
	src := bearer.NewSource("", func(ctx context.Context) (string, error) {
		signIns++
		token, _, err := m.Create(ctx, "ada", sessionauth.Metadata{})
		return token, err
	})
	api := &http.Client{Transport: &bearer.Transport{Origin: srv.URL, Source: src}}

	get := func() {
		resp, err := api.Get(srv.URL + "/projects")
		if err != nil {
			log.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		fmt.Println(resp.StatusCode, string(body), "sign-ins:", signIns)
	}
	get()
	// The user signs out everywhere: the held token is now rejected, so the
	// Transport signs in again and resends the request.
	if _, err := m.RevokeUser(context.Background(), "ada", nil); err != nil {
		log.Fatal(err)
	}
	get()
	// Output:
	// 200 hello ada sign-ins: 1
	// 200 hello ada sign-ins: 2
}

// A fixed token, as a script holding a token from the dashboard would use:
// with no sign-in function, a 401 reaches the caller.
func ExampleNewSource_fixedToken() {
	store := memstore.New(memstore.Config{})
	defer store.Close()
	m, err := sessionauth.New(sessionauth.Config{Store: store})
	if err != nil {
		log.Fatal(err)
	}
	srv := httptest.NewServer(m.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})))
	defer srv.Close()
	token, s, err := m.Create(context.Background(), "ada", sessionauth.Metadata{})
	if err != nil {
		log.Fatal(err)
	}

	api := &http.Client{Transport: &bearer.Transport{Origin: srv.URL, Source: bearer.NewSource(token, nil)}}
	for range 2 {
		resp, err := api.Get(srv.URL)
		if err != nil {
			log.Fatal(err)
		}
		resp.Body.Close()
		fmt.Println(resp.StatusCode)
		_ = m.Revoke(context.Background(), s)
	}
	// Output:
	// 200
	// 401
}
