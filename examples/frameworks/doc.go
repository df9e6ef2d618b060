// Package frameworks shows sessionauth's middleware in the Go routers people
// use. The middleware is a plain func(http.Handler) http.Handler, so routers
// built on net/http take it as it is (the Go 1.22 ServeMux, chi, gorilla/mux),
// and routers with their own handler types take it through their adapter
// (echo.WrapMiddleware) or a few lines of glue (GinMiddleware).
//
// Each function builds the same small API, so the recipes compare line for
// line:
//
//	GET    /healthz        open to anyone: "ok"
//	GET    /projects/{id}  a protected group: "project <id> for <user>"
//	DELETE /keys/{id}      one protected route: "key <id> deleted by <user>"
//
// Without a valid token the protected routes answer 401
// {"message":"Unauthorized"}; with one, the handler reads the session with
// sessionauth.FromContext on the request's context and the path parameter the
// router's way.
//
// This directory is a module of its own, so that the routers never become
// dependencies of sessionauth.
package frameworks

import (
	"fmt"
	"io"
	"net/http"

	"github.com/sessionauth/sessionauth"
)

func healthz(w http.ResponseWriter, _ *http.Request) {
	_, _ = io.WriteString(w, "ok")
}

// showProject and deleteKey are the application's handlers: plain net/http,
// the session from the request's context, the path parameter passed in by
// each router's glue.
func showProject(w http.ResponseWriter, r *http.Request, id string) {
	s, _ := sessionauth.FromContext(r.Context())
	fmt.Fprintf(w, "project %s for %s", id, s.UserID)
}

func deleteKey(w http.ResponseWriter, r *http.Request, id string) {
	s, _ := sessionauth.FromContext(r.Context())
	fmt.Fprintf(w, "key %s deleted by %s", id, s.UserID)
}
