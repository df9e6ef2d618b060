// Package sessionauth protects net/http APIs with server-side session tokens
// sent as "Authorization: Bearer <token>": the way a product's management API
// is protected when its users sign in to a dashboard and then call the API
// with their session token.
//
// # Manager and middleware
//
// A Manager issues, authenticates, rotates and revokes sessions kept in a
// store. Require lets a request through only with a valid session, which the
// handler reads with FromContext; Optional also lets anonymous requests
// through:
//
//	store := memstore.New(memstore.Config{})
//	defer store.Close()
//	m, err := sessionauth.New(sessionauth.Config{Store: store})
//	if err != nil {
//		log.Fatal(err)
//	}
//
//	mux := http.NewServeMux()
//	mux.Handle("GET /projects/{id}", m.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
//		s, _ := sessionauth.FromContext(r.Context())
//		fmt.Fprintf(w, "project %s for %s", r.PathValue("id"), s.UserID)
//	})))
//
// Sign-in creates a session with Manager.Create once the application knows who
// the user is; package authapi serves ready-made sign-in, sign-out and session
// endpoints, with password checks and sign-in limits, on top of a Manager.
//
// A token is 32 bytes from crypto/rand in base64url without padding (43
// characters). It exists in the return value of Create or Rotate and in the
// requests of the client, nowhere else: the store holds only its SHA-256, and
// no log line or error of this package contains it or its hash. Session.ID is
// a separate random identifier that is safe to show and to log. Only the
// Authorization header is read, parsed strictly as RFC 6750 §2.1 says: tokens
// in the URL query, a form body or a cookie are ignored.
//
// A session expires after IdleTimeout without use and in any case at Lifetime
// after its creation. Using a session pushes its idle deadline forward, but
// writes the store at most once per TouchInterval per session, however many
// requests it serves. Revocation is immediate for every process sharing the
// store: sessions are never cached, and no write can undo a revocation.
//
// Rejected requests get exact JSON bodies with Content-Type application/json:
//
//	401 {"message":"Unauthorized"}                           no, malformed, unknown, revoked or expired token
//	403 {"message":"You don't have access to this project"}  valid session, no access or role too low
//	503 {"message":"Service Unavailable"}                    the store failed or did not answer within StoreTimeout
//
// A 401 carries a WWW-Authenticate: Bearer challenge (with
// error="invalid_token" when a token was presented). A store failure is never
// a 401, which would sign everybody out, and never a 200.
//
// # Roles
//
// Roles are owner > admin > developer, held per organization or project and
// asked of the application's AccessResolver on every check (package
// access/memaccess has an in-memory one). RequireRole guards a route on the
// project the request names; Authorize answers for a project a handler found
// itself; GrantFromContext tells the handler which role let it in.
//
// # Stores
//
// Stores follow the contract of github.com/alexedwards/scs/v2, so every scs
// store can back a Manager for create, authenticate and revoke, and the
// stores of this project (store/memstore here; sqlitestore, redisstore and
// pgstore, each a module of its own) serve scs applications. They also
// implement SessionStore, whose writes change a record only if it still
// exists, atomically in the store: listing and revoking a user's sessions,
// extension by use, SetValues and Rotate need it. store/storetest is the
// conformance suite.
//
// # Development token
//
// Binaries built with the build tag sessionauth_dev accept a fixed
// development token for Config.DevPrincipal, to try an API with curl without
// signing in. In every other build that token is an unknown token and the
// code that would accept it is not compiled in. DevMode reports which build
// this is.
package sessionauth
