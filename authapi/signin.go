package authapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sessionauth/sessionauth"
	"github.com/sessionauth/sessionauth/password"
)

// MaxBody bounds the sign-in request body, in bytes.
const MaxBody = 4 << 10

// maxNameLen bounds the sign-in name (an email address is at most 254).
const maxNameLen = 320

type signInResponse struct {
	Token         string    `json:"token"`
	ExpiresAt     time.Time `json:"expiresAt"`
	IdleExpiresAt time.Time `json:"idleExpiresAt"`
}

// SignIn answers POST /auth/sign-in: it checks {"email","password"} against
// the account and answers 200 {"token","expiresAt","idleExpiresAt"} with a
// new session, or 401 for a wrong password or unknown name alike, after the
// same work. See the package documentation for the other answers.
func (a *API) SignIn(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if !isJSON(r.Header.Get("Content-Type")) {
		writeMessage(w, http.StatusUnsupportedMediaType, "Unsupported Media Type: expected application/json")
		return
	}
	name, pw, err := decodeCredentials(http.MaxBytesReader(w, r.Body, MaxBody), a.nameField)
	if err != nil {
		writeMessage(w, http.StatusBadRequest, fmt.Sprintf(`Bad Request: expected {"%s","password"}`, a.nameField))
		return
	}
	client := a.clientAddr(r)
	account := strings.ToLower(strings.TrimSpace(name))
	wait, err := a.limiter.Attempt(ctx, account, limitKey(client), a.now())
	switch {
	case err != nil:
		a.m.Error(w, r, fmt.Errorf("%w: sign-in limiter: %w", sessionauth.ErrUnavailable, err))
		return
	case wait > 0:
		a.m.Report(ctx, r, sessionauth.Event{Kind: sessionauth.EventSignInThrottled, RemoteAddr: client})
		w.Header().Set("Retry-After", strconv.FormatInt(int64((wait+time.Second-1)/time.Second), 10))
		writeMessage(w, http.StatusTooManyRequests, "Too Many Requests")
		return
	}

	acct, err := a.accounts(ctx, name)
	if errors.Is(err, ErrNoSuchAccount) {
		err = a.hasher.VerifyNone(ctx, pw)
		if err == nil {
			a.refuse(w, r, "", client)
			return
		}
	}
	if err != nil {
		a.m.Error(w, r, fmt.Errorf("%w: looking up the account: %w", sessionauth.ErrUnavailable, err))
		return
	}
	ok, rehash, err := a.hasher.Verify(ctx, pw, acct.PasswordHash)
	switch {
	case errors.Is(err, password.ErrMalformedHash):
		a.log.LogAttrs(ctx, slog.LevelError, "authapi: the stored password hash of a user is malformed; sign-in refused",
			slog.String("user", acct.UserID))
		a.refuse(w, r, acct.UserID, client)
		return
	case err != nil:
		a.m.Error(w, r, fmt.Errorf("%w: checking the password: %w", sessionauth.ErrUnavailable, err))
		return
	case !ok:
		a.refuse(w, r, acct.UserID, client)
		return
	}

	if err := a.limiter.Succeeded(ctx, account, limitKey(client)); err != nil {
		a.log.LogAttrs(ctx, slog.LevelWarn, "authapi: clearing the sign-in limits of an account failed",
			slog.String("user", acct.UserID), slog.Any("error", err))
	}
	if rehash && a.saveHash != nil {
		a.upgrade(r, acct.UserID, pw)
	}
	md := sessionauth.RequestMetadata(r)
	md.IP = client
	token, s, err := a.m.Create(ctx, acct.UserID, md)
	if err != nil {
		a.m.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, signInResponse{Token: token, ExpiresAt: s.ExpiresAt, IdleExpiresAt: s.IdleExpiresAt})
}

// refuse answers a wrong name or password, and reports it.
func (a *API) refuse(w http.ResponseWriter, r *http.Request, userID, client string) {
	a.m.Report(r.Context(), r, sessionauth.Event{Kind: sessionauth.EventSignInFailed, UserID: userID, RemoteAddr: client})
	a.m.Error(w, r, sessionauth.ErrInvalidCredentials)
}

// upgrade replaces the stored hash of userID with one of the current
// parameters. Failing, it logs: the user signs in all the same.
func (a *API) upgrade(r *http.Request, userID, pw string) {
	hash, err := a.hasher.Hash(r.Context(), pw)
	if err == nil {
		err = a.saveHash(r.Context(), userID, hash)
	}
	if err != nil {
		a.log.LogAttrs(r.Context(), slog.LevelWarn, "authapi: upgrading a password hash failed",
			slog.String("user", userID), slog.Any("error", err))
	}
}

func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == "application/json"
}

var errBadBody = errors.New("authapi: malformed sign-in body")

// decodeCredentials reads exactly one JSON object holding two strings, the
// name under nameField and "password": no other field, no field twice (which
// encoding/json would accept, the last one winning), nothing after it.
func decodeCredentials(body io.Reader, nameField string) (name, pw string, err error) {
	dec := json.NewDecoder(body)
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return "", "", errBadBody
	}
	var seenName, seenPW bool
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return "", "", errBadBody
		}
		v, err := dec.Token()
		s, isString := v.(string)
		if err != nil || !isString {
			return "", "", errBadBody
		}
		switch {
		case k == nameField && !seenName:
			name, seenName = s, true
		case k == "password" && !seenPW:
			pw, seenPW = s, true
		default:
			return "", "", errBadBody
		}
	}
	if t, err := dec.Token(); err != nil || t != json.Delim('}') {
		return "", "", errBadBody
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return "", "", errBadBody
	}
	if !seenName || !seenPW || len(name) > maxNameLen {
		return "", "", errBadBody
	}
	return name, pw, nil
}
