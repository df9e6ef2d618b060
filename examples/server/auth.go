package main

import (
	"errors"
	"net/http"
	"time"

	"github.com/sessionauth/sessionauth"
)

type signInRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

type signInResponse struct {
	Token         string    `json:"token"`
	ExpiresAt     time.Time `json:"expiresAt"`
	IdleExpiresAt time.Time `json:"idleExpiresAt"`
}

// signIn checks the password and starts a session. Wrong email and wrong
// password get the same 401 after the same work, so neither the body nor the
// timing tells which part was wrong.
func (a *app) signIn(w http.ResponseWriter, r *http.Request) {
	var req signInRequest
	if err := decodeJSON(w, r, &req); err != nil {
		badRequest(w, "Bad Request: expected {\"email\",\"password\"}")
		return
	}
	user, ok := a.users.authenticate(req.Email, req.Password)
	if !ok {
		a.log.Info("sign-in refused", "remote", r.RemoteAddr)
		// 401 with the same body as a bad token; HTTP wants a challenge on
		// every 401, and the one that fits is the API's own scheme.
		w.Header().Set("WWW-Authenticate", "Bearer")
		sessionauth.WriteError(w, r, sessionauth.ErrUnknownSession)
		return
	}
	token, s, err := a.m.Create(r.Context(), user.ID, sessionauth.RequestMetadata(r))
	if err != nil {
		a.m.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, signInResponse{Token: token, ExpiresAt: s.ExpiresAt, IdleExpiresAt: s.IdleExpiresAt})
}

func (a *app) signOut(w http.ResponseWriter, r *http.Request) {
	if err := a.m.Revoke(r.Context(), session(r)); err != nil {
		a.m.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type userJSON struct {
	ID    string `json:"id"`
	Email string `json:"email"`
	Name  string `json:"name"`
}

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

func toSessionJSON(s *sessionauth.Session, current *sessionauth.Session) sessionJSON {
	return sessionJSON{
		ID:            s.ID,
		CreatedAt:     s.CreatedAt,
		LastUsedAt:    s.LastUsedAt,
		IdleExpiresAt: s.IdleExpiresAt,
		ExpiresAt:     s.ExpiresAt,
		IP:            s.IP,
		UserAgent:     s.UserAgent,
		Current:       s.ID == current.ID,
	}
}

func (a *app) currentSession(w http.ResponseWriter, r *http.Request) {
	s := session(r)
	u := a.users.byID(s.UserID)
	if u == nil {
		a.m.Error(w, r, sessionauth.ErrUnknownSession)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"user":    userJSON{ID: u.ID, Email: u.Email, Name: u.Name},
		"session": toSessionJSON(s, s),
	})
}

func (a *app) listSessions(w http.ResponseWriter, r *http.Request) {
	current := session(r)
	list, err := a.m.List(r.Context(), current.UserID)
	if err != nil {
		a.m.Error(w, r, err)
		return
	}
	out := make([]sessionJSON, 0, len(list))
	for _, s := range list {
		out = append(out, toSessionJSON(s, current))
	}
	writeJSON(w, http.StatusOK, map[string]any{"sessions": out})
}

// revokeSession signs out one of the user's own sessions; the ID of another
// user's session is answered like an unknown one.
func (a *app) revokeSession(w http.ResponseWriter, r *http.Request) {
	err := a.m.RevokeID(r.Context(), session(r).UserID, r.PathValue("id"))
	switch {
	case errors.Is(err, sessionauth.ErrUnknownSession):
		writeMessage(w, http.StatusNotFound, "Not Found")
	case err != nil:
		a.m.Error(w, r, err)
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

func (a *app) revokeOtherSessions(w http.ResponseWriter, r *http.Request) {
	s := session(r)
	n, err := a.m.RevokeUser(r.Context(), s.UserID, s)
	if err != nil {
		a.m.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]int{"revoked": n})
}
