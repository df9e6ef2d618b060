// Package sessionauth protects net/http APIs with server-side session tokens
// sent as "Authorization: Bearer <token>": the way a product's management API
// is protected when its users sign in to a dashboard and then call the API
// with their session token.
//
// A Manager issues, authenticates, rotates and revokes sessions kept in a
// Store; Require and Optional are the middleware:
//
//	store := memstore.New(memstore.Config{}) // or sqlitestore, redisstore, pgstore
//	defer store.Close()
//	m, err := sessionauth.New(sessionauth.Config{Store: store})
//	if err != nil { ... }
//
//	// Sign-in handler, after checking the password:
//	token, s, err := m.Create(r.Context(), user.ID, sessionauth.RequestMetadata(r))
//
//	// Protected routes:
//	mux.Handle("GET /projects", m.Require(http.HandlerFunc(listProjects)))
//
//	func listProjects(w http.ResponseWriter, r *http.Request) {
//		s, _ := sessionauth.FromContext(r.Context())
//		... s.UserID ...
//	}
//
// # Tokens
//
// A token is 32 bytes from crypto/rand in base64url without padding (43
// characters). It exists in the return value of Create or Rotate and in the
// requests of the client, nowhere else: the store holds only its SHA-256, and
// no log line or error of this package contains it or its hash. Session.ID is
// a separate random identifier that is safe to show and to log.
//
// Only the Authorization header is read, parsed strictly as RFC 6750 §2.1
// says: tokens in the URL query, a form body or a cookie are ignored.
//
// # Expiry
//
// A session expires after IdleTimeout without use and in any case at Lifetime
// after its creation. Using a session pushes its idle deadline forward, but
// writes the store at most once per TouchInterval per session, however many
// requests it serves: a session used at least every IdleTimeout-TouchInterval
// lives until Lifetime. Revocation is immediate for every process sharing the
// store: sessions are never cached.
//
// # Errors
//
// Rejected requests get exact JSON bodies with Content-Type application/json:
//
//	401 {"message":"Unauthorized"}                           no, malformed, unknown, revoked or expired token
//	403 {"message":"You don't have access to this project"}  valid session, no access or role too low
//	503 {"message":"Service Unavailable"}                    the store failed or timed out
//
// A 401 carries a WWW-Authenticate: Bearer challenge (with
// error="invalid_token" when a token was presented). A store failure is never
// a 401, which would sign everybody out, and never a 200.
//
// # Stores
//
// Stores follow the contract of github.com/alexedwards/scs/v2, so every scs
// store can back a Manager for the core operations and this module's stores
// serve scs applications. This module's stores also implement SessionStore:
// per-user listing and revocation, and touches that only move an expiry
// forward and never overwrite data written concurrently.
//
// # Development token
//
// Binaries built with the build tag sessionauth_dev accept a fixed
// development token for Config.DevPrincipal, to try an API with curl without
// signing in. In every other build that token is an unknown token and the
// code that would accept it is not compiled in. DevMode reports which build
// this is.
package sessionauth
