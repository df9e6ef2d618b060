package authapi

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/sessionauth/sessionauth"
)

type sessionJSON struct {
	ID            string    `json:"id"`
	CreatedAt     time.Time `json:"createdAt"`
	LastUsedAt    time.Time `json:"lastUsedAt"`
	IdleExpiresAt time.Time `json:"idleExpiresAt"`
	ExpiresAt     time.Time `json:"expiresAt"`
	IP            string    `json:"ip"`
	UserAgent     string    `json:"userAgent"`
	Current       bool      `json:"current"`
}

func toJSON(s, current *sessionauth.Session) sessionJSON {
	return sessionJSON{
		ID: s.ID, CreatedAt: s.CreatedAt, LastUsedAt: s.LastUsedAt,
		IdleExpiresAt: s.IdleExpiresAt, ExpiresAt: s.ExpiresAt,
		IP: s.IP, UserAgent: s.UserAgent, Current: s.ID == current.ID,
	}
}

// current returns the request's session, which Require put there. A handler
// mounted without Require answers 401 rather than panic.
func (a *API) current(w http.ResponseWriter, r *http.Request) (*sessionauth.Session, bool) {
	s, ok := sessionauth.FromContext(r.Context())
	if !ok {
		a.m.Error(w, r, sessionauth.ErrNoToken)
	}
	return s, ok
}

// SignOut answers POST /auth/sign-out: it revokes the current session, 204.
func (a *API) SignOut(w http.ResponseWriter, r *http.Request) {
	s, ok := a.current(w, r)
	if !ok {
		return
	}
	if err := a.m.Revoke(r.Context(), s); err != nil {
		a.m.Error(w, r, err)
		return
	}
	noContent(w)
}

// Session answers GET /auth/session: {"user": ..., "session": {...}}, the
// user as Config.ShowUser shows it and the current session, never its token.
func (a *API) Session(w http.ResponseWriter, r *http.Request) {
	s, ok := a.current(w, r)
	if !ok {
		return
	}
	u, err := a.showUser(r.Context(), s.UserID)
	switch {
	case errors.Is(err, ErrNoSuchAccount):
		a.m.Error(w, r, sessionauth.ErrUnknownSession)
		return
	case err != nil:
		a.m.Error(w, r, fmt.Errorf("%w: showing the user: %w", sessionauth.ErrUnavailable, err))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"user": u, "session": toJSON(s, s)})
}

// Sessions answers GET /auth/sessions: {"sessions": [...]}, the user's live
// sessions, newest first, the current one with "current": true.
func (a *API) Sessions(w http.ResponseWriter, r *http.Request) {
	cur, ok := a.current(w, r)
	if !ok {
		return
	}
	list, err := a.m.List(r.Context(), cur.UserID)
	if err != nil {
		a.m.Error(w, r, err)
		return
	}
	out := make([]sessionJSON, 0, len(list))
	for _, s := range list {
		out = append(out, toJSON(s, cur))
	}
	writeJSON(w, http.StatusOK, map[string]any{"sessions": out})
}

// RevokeSession answers DELETE /auth/sessions/{id}: 204 once the user's
// session of that ID is revoked, 404 if the user has none (another user's
// session ID is answered like an unknown one).
func (a *API) RevokeSession(w http.ResponseWriter, r *http.Request) {
	s, ok := a.current(w, r)
	if !ok {
		return
	}
	err := a.m.RevokeID(r.Context(), s.UserID, a.sessionID(r))
	switch {
	case errors.Is(err, sessionauth.ErrUnknownSession):
		writeMessage(w, http.StatusNotFound, "Not Found")
	case err != nil:
		a.m.Error(w, r, err)
	default:
		noContent(w)
	}
}

// RevokeOtherSessions answers POST /auth/revoke-other-sessions: every session
// of the user but the current one ends, {"revoked": n}.
func (a *API) RevokeOtherSessions(w http.ResponseWriter, r *http.Request) {
	if s, ok := a.current(w, r); ok {
		a.revokeUser(w, r, s.UserID, s)
	}
}

// RevokeSessions answers POST /auth/revoke-sessions: every session of the
// user ends, the current one too, {"revoked": n}.
func (a *API) RevokeSessions(w http.ResponseWriter, r *http.Request) {
	if s, ok := a.current(w, r); ok {
		a.revokeUser(w, r, s.UserID, nil)
	}
}

func (a *API) revokeUser(w http.ResponseWriter, r *http.Request, userID string, keep *sessionauth.Session) {
	n, err := a.m.RevokeUser(r.Context(), userID, keep)
	if err != nil {
		a.m.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]int{"revoked": n})
}
