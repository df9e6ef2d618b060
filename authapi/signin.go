package authapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sessionauth/sessionauth"
	"github.com/sessionauth/sessionauth/password"
)

// MaxBody bounds the sign-in request body, in bytes.
const MaxBody = 4 << 10

// maxNameLen bounds the sign-in name (an email address is at most 254): a
// longer one is refused as no account's, without asking Config.Accounts.
const maxNameLen = 320

type signInResponse struct {
	Token         string    `json:"token"`
	ExpiresAt     time.Time `json:"expiresAt"`
	IdleExpiresAt time.Time `json:"idleExpiresAt"`
}

// SignIn answers POST /auth/sign-in: it checks {"email","password"} against
// the account and answers 200 {"token","expiresAt","idleExpiresAt"} with a
// new session, or 401 for a wrong password, an unknown name or a missing one
// alike, after the same work. See the package documentation for the other
// answers.
//
// The request's Content-Type is not checked: the token is in the response
// body, which a page of another origin cannot read, and no cookie is set, so
// a cross-site form that posts credentials gains nothing; the body is
// decoded strictly all the same.
func (a *API) SignIn(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	name, pw, complete, err := decodeCredentials(http.MaxBytesReader(w, r.Body, MaxBody), a.nameField)
	if err != nil {
		writeMessage(w, http.StatusBadRequest, fmt.Sprintf(`Bad Request: expected {"%s","password"}`, a.nameField))
		return
	}
	client := a.clientAddr(r)
	if a.canonical != nil {
		name = a.canonical(name)
	}
	account := strings.ToLower(strings.TrimSpace(name))
	lctx, cancel := a.limiterContext(ctx)
	wait, err := a.limiter.Attempt(lctx, account, limitKey(client), a.now())
	cancel()
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
	if !complete || len(name) > maxNameLen {
		// No account has such a name, and no password is the empty one:
		// refused, after the work of an unknown name.
		if err := a.hasher.VerifyNone(ctx, pw); err != nil {
			a.m.Error(w, r, fmt.Errorf("%w: checking the password: %w", sessionauth.ErrUnavailable, err))
			return
		}
		a.refuse(w, r, "", client)
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

	lctx, cancel = a.limiterContext(ctx)
	err = a.limiter.Succeeded(lctx, account, limitKey(client))
	cancel()
	if err != nil {
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

var errBadBody = errors.New("authapi: malformed sign-in body")

// decodeCredentials reads exactly one JSON object whose only fields are the
// name under nameField and "password", each a string or null, each at most
// once (encoding/json would accept a field twice, the last one winning), and
// nothing after it; anything else is errBadBody. complete is false when
// either field is missing or null: that is not a malformed request but a
// credential that no account has, which the caller refuses as such.
func decodeCredentials(body io.Reader, nameField string) (name, pw string, complete bool, err error) {
	dec := json.NewDecoder(body)
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return "", "", false, errBadBody
	}
	var seenName, seenPW, gotName, gotPW bool
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return "", "", false, errBadBody
		}
		v, err := dec.Token()
		if err != nil {
			return "", "", false, errBadBody
		}
		s, isString := v.(string)
		if !isString && v != nil { // nil is JSON's null
			return "", "", false, errBadBody
		}
		switch {
		case k == nameField && !seenName:
			name, seenName, gotName = s, true, isString
		case k == "password" && !seenPW:
			pw, seenPW, gotPW = s, true, isString
		default:
			return "", "", false, errBadBody
		}
	}
	if t, err := dec.Token(); err != nil || t != json.Delim('}') {
		return "", "", false, errBadBody
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return "", "", false, errBadBody
	}
	return name, pw, gotName && gotPW, nil
}

// limiterContext bounds one call to the Limiter by LimiterTimeout.
func (a *API) limiterContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if a.limitFor < 0 {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, a.limitFor)
}
