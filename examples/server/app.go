package main

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/sessionauth/sessionauth"
)

type appConfig struct {
	store         sessionauth.Store
	storeTimeout  time.Duration // 0 means sessionauth.DefaultStoreTimeout
	idleTimeout   time.Duration
	lifetime      time.Duration
	touchInterval time.Duration
	demoPassword  string
	log           *slog.Logger
	now           func() time.Time // the sessions' clock; nil means time.Now
	passwordCost  int              // bcrypt cost of the demo passwords; 0 means bcrypt.DefaultCost

	// storeName names the sessions' place in a shared store: the table of
	// the postgres store, the key prefix of the redis store. "" means the
	// store's default. Tests give each their own.
	storeName string
	// wrapStore, if set, wraps the store that run opens (tests inject
	// faults with it).
	wrapStore func(sessionauth.Store) sessionauth.Store
}

// app is the management API: its handlers only do the application's work;
// sessions, roles and error bodies are the library's.
type app struct {
	m      *sessionauth.Manager
	access *sessionauth.MemoryAccess
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
	return &app{m: m, access: access, users: users, keys: keys, log: cfg.log,
		requestTimeout: cmp.Or(cfg.storeTimeout, sessionauth.DefaultStoreTimeout) + requestSlack}, nil
}

// routes returns the API's handler; every request is bounded by
// requestTimeout.
func (a *app) routes() http.Handler {
	mux := http.NewServeMux()
	req := a.m.Require

	mux.HandleFunc("POST /auth/sign-in", a.signIn)
	mux.Handle("POST /auth/sign-out", req(http.HandlerFunc(a.signOut)))
	mux.Handle("GET /auth/session", req(http.HandlerFunc(a.currentSession)))
	mux.Handle("GET /auth/sessions", req(http.HandlerFunc(a.listSessions)))
	mux.Handle("DELETE /auth/sessions/{id}", req(http.HandlerFunc(a.revokeSession)))
	mux.Handle("POST /auth/revoke-other-sessions", req(http.HandlerFunc(a.revokeOtherSessions)))

	mux.Handle("GET /projects", req(http.HandlerFunc(a.listProjects)))
	mux.Handle("GET /keys/api", req(http.HandlerFunc(a.listKeys)))
	mux.Handle("POST /keys/api", req(http.HandlerFunc(a.createKey)))
	mux.Handle("DELETE /keys/api/{id}", req(http.HandlerFunc(a.deleteKey)))

	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeMessage(w, http.StatusNotFound, "Not Found")
	})
	return withDeadline(mux, a.requestTimeout, a.log)
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
