package frameworks

import (
	"net/http"

	"github.com/sessionauth/sessionauth"
)

// ServeMux is the recipe for the standard library's ServeMux (Go 1.22 and
// later): wrap each protected handler in m.Require where it is registered,
// or wrap a whole ServeMux of protected routes mounted under a prefix. Path
// wildcards come from r.PathValue.
func ServeMux(m *sessionauth.Manager) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", healthz)

	// A group: a ServeMux of protected routes behind one m.Require. It sees
	// the full path, so its patterns are written as usual.
	projects := http.NewServeMux()
	projects.HandleFunc("GET /projects/{id}", func(w http.ResponseWriter, r *http.Request) {
		showProject(w, r, r.PathValue("id"))
	})
	mux.Handle("/projects/", m.Require(projects))

	// One route.
	mux.Handle("DELETE /keys/{id}", m.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		deleteKey(w, r, r.PathValue("id"))
	})))
	return mux
}
