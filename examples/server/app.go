package main

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/sessionauth/sessionauth"
	"github.com/sessionauth/sessionauth/access/memaccess"
	"github.com/sessionauth/sessionauth/authapi"
	"github.com/sessionauth/sessionauth/password"
	"github.com/sessionauth/sessionauth/ratelimit"
)

type appConfig struct {
	store         sessionauth.Store
	storeTimeout  time.Duration // 0 means sessionauth.DefaultStoreTimeout
	idleTimeout   time.Duration
	lifetime      time.Duration
	touchInterval time.Duration
	demoPassword  string
	log           *slog.Logger
	now           func() time.Time // the clock of sessions and sign-in limits; nil means time.Now
	passwordCost  int              // bcrypt cost of the seeded demo hashes; 0 means bcrypt.DefaultCost
	hashParams    password.Params  // argon2id parameters of upgraded hashes; zero means the defaults

	// limits keeps the sign-in counts, in the sessions' own store so that
	// every instance on it shares them; nil means an in-process
	// ratelimit.Memory.
	limits ratelimit.Store
	// trustedProxies are the proxies whose X-Forwarded-For names the
	// client (-trusted-proxies).
	trustedProxies []netip.Prefix

	// storeName names the sessions' place in a shared store: the table of
	// the postgres store, the key prefix of the redis store. "" means the
	// store's default. Tests give each their own.
	storeName string
	// wrapStore, if set, wraps the store that run opens (tests inject
	// faults with it).
	wrapStore func(sessionauth.Store) sessionauth.Store
}

// app is the management API: its handlers only do the application's work;
// sessions, sign-in, roles and error bodies are the library's.
type app struct {
	m      *sessionauth.Manager
	auth   *authapi.API
	access *memaccess.Access
	users  *directory
	keys   *keyStore
	log    *slog.Logger

	requestTimeout time.Duration // the deadline of every request
}

func newApp(cfg appConfig) (*app, error) {
	users, access, keys, err := seedDemo(cfg.demoPassword, cfg.passwordCost)
	if err != nil {
		return nil, err
	}
	mcfg := sessionauth.Config{
		Store:         cfg.store,
		StoreTimeout:  cfg.storeTimeout,
		IdleTimeout:   cfg.idleTimeout,
		Lifetime:      cfg.lifetime,
		TouchInterval: cfg.touchInterval,
		Logger:        cfg.log,
		Now:           cfg.now,
		Access:        access,
	}
	if sessionauth.DevMode {
		// Built with -tags sessionauth_dev: the development token acts as
		// the demo owner, on Acme's projects only.
		mcfg.DevPrincipal = &sessionauth.DevPrincipal{UserID: ownerID, ProjectRoles: map[string]sessionauth.Role{
			"proj_acme_web": sessionauth.RoleOwner, "proj_acme_mobile": sessionauth.RoleOwner,
		}}
	}
	m, err := sessionauth.New(mcfg)
	if err != nil {
		return nil, err
	}
	storeTimeout := cmp.Or(cfg.storeTimeout, sessionauth.DefaultStoreTimeout)
	auth, err := newAuthAPI(m, users, cfg, storeTimeout)
	if err != nil {
		return nil, err
	}
	return &app{m: m, auth: auth, access: access, users: users, keys: keys, log: cfg.log,
		requestTimeout: storeTimeout + requestSlack}, nil
}

// newAuthAPI returns the sign-in and session endpoints: authapi verifies
// the passwords of users (and upgrades their hashes), under limits kept in
// cfg.limits whose every call is bounded by storeTimeout, as the Manager
// bounds its own store calls.
func newAuthAPI(m *sessionauth.Manager, users *directory, cfg appConfig, storeTimeout time.Duration) (*authapi.API, error) {
	hasher, err := password.New(cfg.hashParams)
	if err != nil {
		return nil, err
	}
	var limits ratelimit.Store = ratelimit.NewMemory()
	if cfg.limits != nil {
		limits = boundedLimits{cfg.limits, storeTimeout}
	}
	// The default rules: 5 attempts per account per minute, 5 per account
	// and client address per 5 minutes, 50 per address per minute (see
	// ratelimit.Config for why these and not a lockout).
	limiter, err := ratelimit.New(ratelimit.Config{Store: limits})
	if err != nil {
		return nil, err
	}
	return authapi.New(authapi.Config{
		Manager:        m,
		Accounts:       users.account,
		SaveHash:       users.saveHash,
		ShowUser:       users.show,
		Hasher:         hasher,
		Limiter:        limiter,
		TrustedProxies: cfg.trustedProxies,
		Logger:         cfg.log,
		Now:            cfg.now,
	})
}

// routes returns the API's handler; every request is bounded by
// requestTimeout and every response carries nosniff.
func (a *app) routes() http.Handler {
	mux := http.NewServeMux()
	req := a.m.Require

	// The session routes of the README's table, one by one: authapi's
	// other routes (POST /auth/revoke-sessions) are not this API's.
	mux.HandleFunc("POST /auth/sign-in", a.auth.SignIn)
	mux.Handle("POST /auth/sign-out", req(http.HandlerFunc(a.auth.SignOut)))
	mux.Handle("GET /auth/session", req(http.HandlerFunc(a.auth.Session)))
	mux.Handle("GET /auth/sessions", req(http.HandlerFunc(a.auth.Sessions)))
	mux.Handle("DELETE /auth/sessions/{id}", req(http.HandlerFunc(a.auth.RevokeSession)))
	mux.Handle("POST /auth/revoke-other-sessions", req(http.HandlerFunc(a.auth.RevokeOtherSessions)))

	mux.Handle("GET /projects", req(http.HandlerFunc(a.listProjects)))
	mux.Handle("GET /keys/api", req(http.HandlerFunc(a.listKeys)))
	mux.Handle("POST /keys/api", req(http.HandlerFunc(a.createKey)))
	mux.Handle("DELETE /keys/api/{id}", req(http.HandlerFunc(a.deleteKey)))

	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeMessage(w, http.StatusNotFound, "Not Found")
	})
	return nosniff(withDeadline(mux, a.requestTimeout, a.log))
}

// nosniff makes every response, of every route, error and fallback
// included, carry X-Content-Type-Options: nosniff, so that no browser reads
// a JSON answer (one holding a token, say) as HTML or script.
func nosniff(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		next.ServeHTTP(w, r)
	})
}

// session returns the request's session; Require guarantees there is one.
func session(r *http.Request) *sessionauth.Session {
	s, _ := sessionauth.FromContext(r.Context())
	return s
}

// maxBody bounds every request body this API reads.
const maxBody = 4 << 10

// decodeJSON reads exactly one JSON object of at most maxBody bytes into v,
// rejecting unknown fields and trailing data.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("trailing data after the JSON object")
	}
	return nil
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		writeMessage(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, _ = w.Write(body)
}

func writeMessage(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"message": msg})
}

func badRequest(w http.ResponseWriter, format string, args ...any) {
	writeMessage(w, http.StatusBadRequest, fmt.Sprintf(format, args...))
}
