package sessionauth

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
)

// Require is middleware that lets a request through only with a valid
// session, which the handler reads with FromContext. Otherwise it answers 401
// {"message":"Unauthorized"} with a WWW-Authenticate challenge, or 503 when
// the store fails.
//
//	mux.Handle("GET /projects", m.Require(listProjects))
func (m *Manager) Require(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := m.authenticateRequest(r, true)
		if err != nil {
			m.Error(w, r, err)
			return
		}
		next.ServeHTTP(w, withSession(r, s))
	})
}

// Optional is middleware for routes open to anonymous users: a request
// without credentials goes through with no session; one with a valid token
// goes through with its session. A presented token that is not valid is
// still a 401 (the client believes it is signed in and must learn it is not),
// and a store failure is still a 503.
//
//	mux.Handle("GET /", m.Optional(home))
func (m *Manager) Optional(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := m.authenticateRequest(r, false)
		switch {
		case errors.Is(err, ErrNoToken):
			next.ServeHTTP(w, r)
		case err != nil:
			m.Error(w, r, err)
		default:
			next.ServeHTTP(w, withSession(r, s))
		}
	})
}

// AuthenticateRequest authenticates the bearer token of r, as Require does,
// for code that is not middleware. It reports failures as audit events, but
// not a missing token (only the caller knows whether that is one) nor a
// store failure (pass it to Error, which reports it).
func (m *Manager) AuthenticateRequest(r *http.Request) (*Session, error) {
	return m.authenticateRequest(r, false)
}

// authenticateRequest reports every failure but store failures, which
// Manager.Error reports, and ErrNoToken unless the route requires a session:
// only its caller knows whether a missing token is a failure.
func (m *Manager) authenticateRequest(r *http.Request, required bool) (*Session, error) {
	token, wellFormed, err := bearerToken(r)
	var s *Session
	switch {
	case err != nil:
	case wellFormed:
		s, err = m.authenticateWellFormed(r.Context(), token)
	default:
		s, err = m.authenticate(r.Context(), token)
	}
	if err != nil {
		if required || !errors.Is(err, ErrNoToken) {
			m.authFailed(r.Context(), r, token, s, err)
		}
		return nil, err
	}
	return s, nil
}

// Error answers a rejected request through the Manager's ErrorHandler: it
// sets X-Content-Type-Options: nosniff, the WWW-Authenticate challenge on
// every 401 (without an error code for ErrNoToken and ErrInvalidCredentials,
// where no token was refused), logs store failures, and
// writes the response. Handlers use it to answer with the same bodies as the
// middleware, e.g. m.Error(w, r, sessionauth.ErrForbidden).
//
// r may be nil (for a response written outside a request's handler); then
// nothing of a request is logged.
func (m *Manager) Error(w http.ResponseWriter, r *http.Request, err error) {
	ctx := context.Background()
	if r != nil {
		ctx = r.Context()
	}
	// A replaced ErrorHandler writes its own body, but the challenge and
	// nosniff are set here, so that no 401 lacks one and no error body is
	// sniffed into something a browser would run.
	w.Header().Set("X-Content-Type-Options", "nosniff")
	switch StatusCode(err) {
	case http.StatusUnauthorized:
		w.Header().Set("WWW-Authenticate", challengeFor(err, m.challenge, m.challengeErr))
	case http.StatusServiceUnavailable:
		s, _ := FromContext(ctx)
		m.reportOn(ctx, r, s, Event{Kind: EventStoreFailure, Err: err})
	case http.StatusInternalServerError:
		attrs := []slog.Attr{slog.Any("error", err)}
		if r != nil {
			attrs = append(attrs, slog.String("method", r.Method), slog.String("path", r.URL.Path))
		}
		m.log.LogAttrs(ctx, slog.LevelError, "sessionauth: request failed", attrs...)
	}
	m.errorHandler(w, r, err)
}
