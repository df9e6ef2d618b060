// Package authapi is a ready-made set of HTTP endpoints for signing in and
// managing sessions on top of a sessionauth.Manager: sign-in, sign-out, the
// current session, the user's sessions, and revoking one, all others, or
// all. An application supplies only what is its own: how to find an account
// by its sign-in name (its user ID and stored password hash), optionally how
// to save an upgraded hash and what to show of a user. Verifying passwords,
// their timing, sign-in limits and hash upgrades are the package's job.
//
//	api, err := authapi.New(authapi.Config{Manager: m, Accounts: lookup})
//	api.Register(mux) // POST /auth/sign-in, GET /auth/sessions, ...
//
// # Answers
//
//	POST   /auth/sign-in {"email","password"}  200 {"token","expiresAt","idleExpiresAt"}
//	POST   /auth/sign-out                      204
//	GET    /auth/session                       200 {"user":...,"session":{...,"current":true}}
//	GET    /auth/sessions                      200 {"sessions":[{"id",...,"current"}]}
//	DELETE /auth/sessions/{id}                 204; 404 for an ID that is not one of the user's
//	POST   /auth/revoke-other-sessions         200 {"revoked":n}
//	POST   /auth/revoke-sessions               200 {"revoked":n}, the current session included
//
// Every response carries Content-Type (but a 204, which has no content),
// Cache-Control: no-store and X-Content-Type-Options: nosniff. Errors are
// {"message":...}: 400 for a body that is not exactly one JSON object of the
// two fields, each a string or null (at most 4 KiB, no unknown or repeated
// field, nothing after it); 401 {"message":"Unauthorized"} with a
// WWW-Authenticate challenge for every refused credential (wrong password,
// unknown name, a name or password missing or null, bad token alike, each
// after the same work); 429 with Retry-After in seconds when the sign-in
// limits are reached; and 503 when the session store, the account lookup or
// the limiter fails: sign-in fails closed.
//
// The sign-in's Content-Type is not checked, so that any client that sends
// the JSON body is served as it was by hand-written handlers: the token is
// in the response body, not in a cookie, so a cross-site form that posts
// credentials (the attack a Content-Type check stops) gets a token that its
// page cannot read and the browser does not keep.
//
// # Sign-in limits
//
// Every sign-in attempt, before its password is checked, is counted by the
// Limiter under the account (the sign-in name, trimmed and lower-cased) and
// the client address; a successful sign-in clears the account's counts but
// never the address's, so one valid account cannot reset the budget of an
// address trying many accounts. The client address is the connection's
// peer, unless that peer is in Config.TrustedProxies: then X-Forwarded-For
// is read from the right, through trusted hops only, and the first
// untrusted address is the client. An IPv6 client is counted by its /64,
// which one host usually holds whole.
//
// Failed sign-ins (sessionauth.EventSignInFailed) and throttled ones
// (sessionauth.EventSignInThrottled) are audit events of the Manager: logged
// to its Logger and handed to its OnEvent. Neither passwords nor tokens are
// ever logged.
package authapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/sessionauth/sessionauth"
	"github.com/sessionauth/sessionauth/password"
	"github.com/sessionauth/sessionauth/ratelimit"
)

// ErrNoSuchAccount is what Config.Accounts returns (possibly wrapped) when no
// account has the sign-in name, and Config.ShowUser when the user is gone.
var ErrNoSuchAccount = errors.New("authapi: no such account")

// Account is what the application knows of a user at sign-in.
type Account struct {
	// UserID identifies the user; it becomes the session's UserID.
	UserID string
	// PasswordHash is the stored hash of the user's password: argon2id in
	// PHC format (as password.Hasher makes them) or bcrypt.
	PasswordHash string
}

// Limiter counts sign-in attempts; *ratelimit.Limiter is one.
type Limiter interface {
	// Attempt counts an attempt of account from client and returns 0 if it
	// may go on, or how long the client must wait.
	Attempt(ctx context.Context, account, client string, now time.Time) (retryAfter time.Duration, err error)
	// Succeeded clears the account's counts, never the client's.
	Succeeded(ctx context.Context, account, client string) error
}

// Config configures an API. Manager and Accounts are required; the zero value
// of every other field means its default.
type Config struct {
	// Manager creates, lists and revokes the sessions and protects the
	// session routes with its Require. Required.
	Manager *sessionauth.Manager

	// Accounts returns the account whose sign-in name is name, exactly as
	// the client sent it (normalize it as the application's accounts
	// are), or an error wrapping ErrNoSuchAccount if there is none. Any
	// other error is a 503. Required.
	Accounts func(ctx context.Context, name string) (Account, error)

	// SaveHash stores hash as the new password hash of userID. Sign-in
	// calls it after a correct password whose stored hash is bcrypt or
	// argon2id with older parameters, so that hashes move to the current
	// parameters as users sign in. A failure is logged; the sign-in
	// succeeds anyway. Default: nil, hashes are never upgraded.
	SaveHash func(ctx context.Context, userID, hash string) error

	// ShowUser returns what GET /auth/session shows of the user, as a value
	// encoding/json marshals; an error wrapping ErrNoSuchAccount makes it a
	// 401 (the user is gone), any other a 503. Default: {"id": userID}.
	ShowUser func(ctx context.Context, userID string) (any, error)

	// Hasher checks passwords. Default: password.New(password.Params{}).
	Hasher *password.Hasher

	// Limiter counts sign-in attempts. Default: an in-process
	// ratelimit.Limiter, which an application of several instances
	// replaces with one on a shared store.
	Limiter Limiter

	// TrustedProxies are the proxies whose X-Forwarded-For is believed.
	// Default: none, the client is the connection's peer.
	TrustedProxies []netip.Prefix

	// NameField is the JSON field of the sign-in name. Default: "email".
	NameField string

	// CanonicalName maps a sign-in name to the form the application
	// matches accounts by: both Accounts and the sign-in limits then see
	// that form, so that variants of one name (another case, accents,
	// "+tags", dots, whatever the application's lookup ignores) share one
	// budget of attempts. Set it whenever Accounts matches names more
	// loosely than by case and surrounding space. Default: nil, Accounts
	// gets the name as sent and the limits count it trimmed and
	// lower-cased.
	CanonicalName func(name string) string

	// LimiterTimeout bounds each call to the Limiter, whose store may be a
	// database: a limiter that does not answer in time fails the sign-in
	// with 503, as a failing one does. Default:
	// sessionauth.DefaultStoreTimeout. Negative: no bound beyond the
	// request's context.
	LimiterTimeout time.Duration

	// SessionID returns the session ID of a DELETE /auth/sessions/{id}
	// request. Default: r.PathValue("id"), which net/http's ServeMux and
	// chi (v5.1 and later) set.
	SessionID func(r *http.Request) string

	// Logger receives failures that answer no request: a hash that could
	// not be upgraded, a limiter that could not be cleared. Default:
	// slog.Default().
	Logger *slog.Logger

	// Now is the clock of the sign-in limits. Default: time.Now.
	Now func() time.Time
}

// API serves the endpoints. Create one with New; it is safe for concurrent
// use.
type API struct {
	m         *sessionauth.Manager
	accounts  func(context.Context, string) (Account, error)
	saveHash  func(context.Context, string, string) error
	showUser  func(context.Context, string) (any, error)
	hasher    *password.Hasher
	limiter   Limiter
	trusted   []netip.Prefix
	nameField string
	canonical func(string) string
	limitFor  time.Duration
	sessionID func(*http.Request) string
	log       *slog.Logger
	now       func() time.Time
}

// New returns an API for cfg, or an error if Manager or Accounts is missing.
// Without a Hasher it makes one, which takes as long as one sign-in.
func New(cfg Config) (*API, error) {
	switch {
	case cfg.Manager == nil:
		return nil, errors.New("authapi: Config.Manager is required")
	case cfg.Accounts == nil:
		return nil, errors.New("authapi: Config.Accounts is required")
	}
	a := &API{
		m: cfg.Manager, accounts: cfg.Accounts, saveHash: cfg.SaveHash, showUser: cfg.ShowUser,
		hasher: cfg.Hasher, limiter: cfg.Limiter, trusted: cfg.TrustedProxies,
		nameField: cfg.NameField, canonical: cfg.CanonicalName, limitFor: cfg.LimiterTimeout,
		sessionID: cfg.SessionID, log: cfg.Logger, now: cfg.Now,
	}
	if a.hasher == nil {
		h, err := password.New(password.Params{})
		if err != nil {
			return nil, err
		}
		a.hasher = h
	}
	if a.limiter == nil {
		l, err := ratelimit.New(ratelimit.Config{})
		if err != nil {
			return nil, err
		}
		a.limiter = l
	}
	if a.limitFor == 0 {
		a.limitFor = sessionauth.DefaultStoreTimeout
	}
	if a.nameField == "" {
		a.nameField = "email"
	}
	if a.nameField == "password" {
		return nil, errors.New(`authapi: Config.NameField cannot be "password"`)
	}
	if a.sessionID == nil {
		a.sessionID = func(r *http.Request) string { return r.PathValue("id") }
	}
	if a.log == nil {
		a.log = slog.Default()
	}
	if a.now == nil {
		a.now = time.Now
	}
	if a.showUser == nil {
		a.showUser = func(_ context.Context, id string) (any, error) { return map[string]string{"id": id}, nil }
	}
	return a, nil
}

// Route is one endpoint: its method, its path pattern (with "{id}" for the
// session ID) and its handler, the session routes already wrapped in the
// Manager's Require.
type Route struct {
	Method, Pattern string
	Handler         http.Handler
}

// Routes returns every endpoint under prefix (such as "/auth"), to mount on
// any router:
//
//	for _, rt := range api.Routes("/auth") { r.Method(rt.Method, rt.Pattern, rt.Handler) }
func (a *API) Routes(prefix string) []Route {
	req := a.m.Require
	return []Route{
		{http.MethodPost, prefix + "/sign-in", http.HandlerFunc(a.SignIn)},
		{http.MethodPost, prefix + "/sign-out", req(http.HandlerFunc(a.SignOut))},
		{http.MethodGet, prefix + "/session", req(http.HandlerFunc(a.Session))},
		{http.MethodGet, prefix + "/sessions", req(http.HandlerFunc(a.Sessions))},
		{http.MethodDelete, prefix + "/sessions/{id}", req(http.HandlerFunc(a.RevokeSession))},
		{http.MethodPost, prefix + "/revoke-other-sessions", req(http.HandlerFunc(a.RevokeOtherSessions))},
		{http.MethodPost, prefix + "/revoke-sessions", req(http.HandlerFunc(a.RevokeSessions))},
	}
}

// Register mounts every endpoint under /auth on mux.
//
//	api.Register(mux)
func (a *API) Register(mux *http.ServeMux) {
	for _, rt := range a.Routes("/auth") {
		mux.Handle(rt.Method+" "+rt.Pattern, rt.Handler)
	}
}
