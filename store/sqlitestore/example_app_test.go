package sqlitestore_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"

	"github.com/sessionauth/sessionauth"
	"github.com/sessionauth/sessionauth/authapi"
	"github.com/sessionauth/sessionauth/bearer"
	"github.com/sessionauth/sessionauth/password"
	"github.com/sessionauth/sessionauth/ratelimit"
	"github.com/sessionauth/sessionauth/store/sqlitestore"
)

// userTable stands for the application's own users: sign-in name to user ID
// and stored password hash.
type userTable map[string]*authapi.Account

func (u userTable) Lookup(_ context.Context, email string) (authapi.Account, error) {
	if a, ok := u[email]; ok {
		return *a, nil
	}
	return authapi.Account{}, authapi.ErrNoSuchAccount
}

func (u userTable) SaveHash(_ context.Context, userID, hash string) error {
	for _, a := range u {
		if a.UserID == userID {
			a.PasswordHash = hash
			return nil
		}
	}
	return errors.New("no such user")
}

// A new application's whole wiring for sign-in, sign-out, the current
// session, the user's sessions and revocation, on the embedded SQLite store,
// and a client that signs in with one call.
func Example_application() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	hasher, err := password.New(password.Params{})
	if err != nil {
		log.Fatal(err)
	}
	hash, err := hasher.Hash(ctx, "correct horse battery")
	if err != nil {
		log.Fatal(err)
	}
	users := userTable{"ada@example.com": {UserID: "user-1", PasswordHash: hash}}
	path := filepath.Join(dir, "sessions.db")

	store, err := sqlitestore.Open(ctx, path, sqlitestore.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	m, err := sessionauth.New(sessionauth.Config{Store: store})
	if err != nil {
		log.Fatal(err)
	}
	api, err := authapi.New(authapi.Config{Manager: m, Accounts: users.Lookup, SaveHash: users.SaveHash})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	api.Register(mux) // POST /auth/sign-in, /auth/sign-out; GET /auth/session, /auth/sessions; ...
	mux.Handle("GET /me", m.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := sessionauth.FromContext(r.Context())
		fmt.Fprintln(w, "signed in as", s.UserID)
	})))

	srv := httptest.NewServer(mux)
	defer srv.Close()
	s, err := bearer.SignIn(ctx, nil, srv.URL+"/auth/sign-in", "ada@example.com", "correct horse battery")
	if err != nil {
		log.Fatal(err)
	}
	req, _ := http.NewRequest("GET", srv.URL+"/me", nil)
	req.Header.Set("Authorization", "Bearer "+s.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	fmt.Println(resp.Status)
	// Output: 200 OK
}

// With several instances of the application, the sign-in limits must be
// shared too: here in the SQLite file, next to the sessions (redisstore and
// pgstore have a LimitStore as well).
func ExampleStore_LimitStore() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	store, err := sqlitestore.Open(ctx, filepath.Join(dir, "sessions.db"), sqlitestore.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	m, err := sessionauth.New(sessionauth.Config{Store: store})
	if err != nil {
		log.Fatal(err)
	}
	users := userTable{}

	limits, err := store.LimitStore(ctx, sqlitestore.LimitConfig{})
	if err != nil {
		log.Fatal(err)
	}
	limiter, err := ratelimit.New(ratelimit.Config{Store: limits})
	if err != nil {
		log.Fatal(err)
	}
	api, err := authapi.New(authapi.Config{Manager: m, Accounts: users.Lookup, Limiter: limiter})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(api != nil)
	// Output: true
}
