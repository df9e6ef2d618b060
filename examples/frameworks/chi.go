package frameworks

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/sessionauth/sessionauth"
)

// Chi is the recipe for github.com/go-chi/chi: m.Require is chi middleware
// as it is. r.Use(m.Require) in a Route or Group protects every route in it;
// r.With(m.Require) protects one route. Path parameters come from
// chi.URLParam.
func Chi(m *sessionauth.Manager) http.Handler {
	r := chi.NewRouter()
	r.Get("/healthz", healthz)

	r.Route("/projects", func(r chi.Router) {
		r.Use(m.Require)
		r.Get("/{id}", func(w http.ResponseWriter, r *http.Request) {
			showProject(w, r, chi.URLParam(r, "id"))
		})
	})

	r.With(m.Require).Delete("/keys/{id}", func(w http.ResponseWriter, r *http.Request) {
		deleteKey(w, r, chi.URLParam(r, "id"))
	})
	return r
}
