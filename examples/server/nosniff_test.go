package main

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestEveryResponseCarriesNosniff sends every route of the API, with and
// without a session, the sign-in with each of its answers, and requests no
// route serves: each answer, success, error or fallback, carries
// X-Content-Type-Options: nosniff. (Every other test checks it too, through
// doHeaders.)
func TestEveryResponseCarriesNosniff(t *testing.T) {
	t.Parallel()
	s := startServer(t, memoryStore)
	token := s.signIn(t, "owner@example.com")
	check := func(t *testing.T, r response, what string) {
		t.Helper()
		assert.Equal(t, "nosniff", r.header.Get("X-Content-Type-Options"), "%s: %d %s", what, r.status, r.body)
	}

	for _, route := range protectedRoutes {
		what := route.method + " " + route.path
		check(t, s.do(t, route.method, route.path, "", route.body), what+" without a token")
		check(t, s.do(t, route.method, route.path, "not-a-token", route.body), what+" with a bad token")
	}
	for _, route := range protectedRoutes {
		if route.path == "/auth/sign-out" {
			continue // last, as it ends the session
		}
		check(t, s.do(t, route.method, route.path, token, route.body), route.method+" "+route.path)
	}
	check(t, s.do(t, http.MethodPost, "/keys/api", token, "{"), "POST /keys/api 400")
	check(t, s.do(t, http.MethodPost, "/auth/sign-out", token, nil), "POST /auth/sign-out")

	signIn := func(body any) response { return s.do(t, http.MethodPost, "/auth/sign-in", "", body) }
	check(t, signIn(map[string]string{"email": "admin@example.com", "password": demoPassword}), "sign-in 200")
	check(t, signIn("{"), "sign-in 400")
	for range 5 {
		check(t, signIn(map[string]string{"email": "developer@example.com", "password": "wrong"}), "sign-in 401")
	}
	r := signIn(map[string]string{"email": "developer@example.com", "password": "wrong"})
	assert.Equal(t, http.StatusTooManyRequests, r.status)
	check(t, r, "sign-in 429")

	for _, req := range []struct{ method, path string }{
		{http.MethodGet, "/"},
		{http.MethodGet, "/no/such/route"},
		{http.MethodGet, "/auth/sign-in"},
		{http.MethodPut, "/auth/sessions"},
		{http.MethodPost, "/auth/revoke-sessions"},
	} {
		check(t, s.do(t, req.method, req.path, token, nil), req.method+" "+req.path)
	}
}
