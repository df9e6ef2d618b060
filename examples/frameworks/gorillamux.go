package frameworks

import (
	"net/http"

	"github.com/gorilla/mux"

	"github.com/sessionauth/sessionauth"
)

// GorillaMux is the recipe for github.com/gorilla/mux: m.Require is a
// mux.MiddlewareFunc as it is. Use on a subrouter protects its routes;
// wrapping a handler protects one route. Path variables come from mux.Vars.
//
// gorilla/mux runs Use middleware only once a route has matched, so a
// request for an unknown path or with the wrong method gets its 404 or 405
// before authentication.
func GorillaMux(m *sessionauth.Manager) http.Handler {
	r := mux.NewRouter()
	r.HandleFunc("/healthz", healthz).Methods(http.MethodGet)

	projects := r.PathPrefix("/projects").Subrouter()
	projects.Use(m.Require)
	projects.HandleFunc("/{id}", func(w http.ResponseWriter, r *http.Request) {
		showProject(w, r, mux.Vars(r)["id"])
	}).Methods(http.MethodGet)

	r.Handle("/keys/{id}", m.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		deleteKey(w, r, mux.Vars(r)["id"])
	}))).Methods(http.MethodDelete)
	return r
}
