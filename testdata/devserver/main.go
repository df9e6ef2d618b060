// Command devserver is a small API protected by sessionauth with a development
// principal configured. The dev-mode tests build it with and without the
// sessionauth_dev tag to check which binary carries the development token.
package main

import (
	"flag"
	"fmt"
	"log"
	"net/http"

	"github.com/sessionauth/sessionauth"
	"github.com/sessionauth/sessionauth/access/memaccess"
	"github.com/sessionauth/sessionauth/store/memstore"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address")
	flag.Parse()

	store := memstore.New(memstore.Config{})
	defer store.Close()
	access := memaccess.New()
	m, err := sessionauth.New(sessionauth.Config{
		Store:        store,
		Access:       access,
		DevPrincipal: &sessionauth.DevPrincipal{UserID: "dev", Role: sessionauth.RoleAdmin},
	})
	if err != nil {
		log.Fatal(err)
	}

	mux := http.NewServeMux()
	mux.Handle("GET /whoami", m.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := sessionauth.FromContext(r.Context())
		fmt.Fprintln(w, s.UserID)
	})))
	mux.Handle("GET /projects/{projectID}", m.RequireRole(sessionauth.RoleDeveloper, sessionauth.ProjectFromPath("projectID"))(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			g, _ := sessionauth.GrantFromContext(r.Context())
			fmt.Fprintln(w, g.ProjectID, g.Role)
		})))
	log.Fatal(http.ListenAndServe(*addr, mux))
}
