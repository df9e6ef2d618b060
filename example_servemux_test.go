package sessionauth_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/sessionauth/sessionauth"
	"github.com/sessionauth/sessionauth/store/memstore"
)

// Require wraps single routes of the Go 1.22 ServeMux: the pattern carries
// the method and the path wildcards, and the handler reads them with
// r.PathValue and the session with FromContext. Routes left unwrapped stay
// open.
func ExampleManager_Require_serveMux() {
	store := memstore.New(memstore.Config{})
	defer store.Close()
	m, err := sessionauth.New(sessionauth.Config{Store: store})
	if err != nil {
		log.Fatal(err)
	}

	mux := http.NewServeMux()
	mux.Handle("GET /projects/{id}", m.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := sessionauth.FromContext(r.Context())
		fmt.Fprintf(w, "project %s for %s", r.PathValue("id"), s.UserID)
	})))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	})

	srv := httptest.NewServer(mux)
	defer srv.Close()
	token, _, err := m.Create(context.Background(), "ada", sessionauth.Metadata{})
	if err != nil {
		log.Fatal(err)
	}
	for _, call := range []struct{ path, token string }{
		{"/projects/42", ""},
		{"/projects/42", token},
		{"/healthz", ""},
	} {
		label := "without token"
		if call.token != "" {
			label = "with token"
		}
		req, _ := http.NewRequest(http.MethodGet, srv.URL+call.path, nil)
		if call.token != "" {
			req.Header.Set("Authorization", "Bearer "+call.token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Println(call.path, label+":", resp.StatusCode, string(body))
	}
	// Output:
	// /projects/42 without token: 401 {"message":"Unauthorized"}
	// /projects/42 with token: 200 project 42 for ada
	// /healthz without token: 200 ok
}

// Require can also guard a whole subtree: mount a ServeMux of protected
// routes under a prefix. The inner mux sees the full path, so its patterns
// (and path values) are written as usual.
func ExampleManager_Require_serveMuxSubtree() {
	store := memstore.New(memstore.Config{})
	defer store.Close()
	m, err := sessionauth.New(sessionauth.Config{Store: store})
	if err != nil {
		log.Fatal(err)
	}

	api := http.NewServeMux()
	api.HandleFunc("DELETE /api/keys/{id}", func(w http.ResponseWriter, r *http.Request) {
		s, _ := sessionauth.FromContext(r.Context())
		fmt.Fprintf(w, "%s deleted key %s", s.UserID, r.PathValue("id"))
	})
	mux := http.NewServeMux()
	mux.Handle("/api/", m.Require(api))

	srv := httptest.NewServer(mux)
	defer srv.Close()
	token, _, err := m.Create(context.Background(), "ada", sessionauth.Metadata{})
	if err != nil {
		log.Fatal(err)
	}
	for _, auth := range []string{"", "Bearer " + token} {
		req, _ := http.NewRequest(http.MethodDelete, srv.URL+"/api/keys/k1", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Println(resp.StatusCode, string(body))
	}
	// Output:
	// 401 {"message":"Unauthorized"}
	// 200 ada deleted key k1
}
