package sessionauth

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
)

// Sentinel errors. Compare with errors.Is: most are returned wrapped.
var (
	// ErrNoToken: the request carries no bearer credentials (no
	// Authorization header, or one of another scheme such as Basic).
	ErrNoToken = errors.New("sessionauth: no bearer token")
	// ErrMalformedToken: the Authorization header is not a well-formed
	// RFC 6750 bearer credential, or there is more than one.
	ErrMalformedToken = errors.New("sessionauth: malformed bearer token")
	// ErrUnknownSession: the token is not the token of a live session: never
	// issued, revoked, rotated away, or not of this package's shape.
	ErrUnknownSession = errors.New("sessionauth: unknown session")
	// ErrSessionExpired: the session exists but its idle or absolute
	// deadline has passed.
	ErrSessionExpired = errors.New("sessionauth: session expired")
	// ErrInvalidCredentials: a sign-in presented a name and password that
	// do not match an account. It is the same 401 as a bad token, with the
	// challenge but without error="invalid_token" (no token was presented),
	// so the answer does not tell which part was wrong.
	ErrInvalidCredentials = errors.New("sessionauth: invalid credentials")
	// ErrForbidden: the session is valid but may not act on the project, or
	// its role there is too low.
	ErrForbidden = errors.New("sessionauth: no access to this project")
	// ErrUnavailable: the session store (or the access resolver) failed or
	// timed out. The cause is wrapped. It is a 503, never a 401: a store
	// outage must not sign everybody out, nor let anybody in.
	ErrUnavailable = errors.New("sessionauth: session store unavailable")
	// ErrNotSupported: the store lacks a capability the call needs.
	ErrNotSupported = errors.New("sessionauth: not supported by the store")
	// ErrInvalidMetadata: session metadata exceeds its size limits or is
	// not UTF-8.
	ErrInvalidMetadata = errors.New("sessionauth: invalid session metadata")
)

// The bodies of the error responses, byte for byte.
const (
	BodyUnauthorized = `{"message":"Unauthorized"}`
	BodyForbidden    = `{"message":"You don't have access to this project"}`
	BodyUnavailable  = `{"message":"Service Unavailable"}`
	BodyInternal     = `{"message":"Internal Server Error"}`
)

// StatusCode returns the HTTP status for an error of this package: 401 for a
// missing, malformed, unknown or expired token or invalid credentials, 403 for ErrForbidden, 503 for
// ErrUnavailable and 500 for anything else.
func StatusCode(err error) int {
	switch {
	case errors.Is(err, ErrNoToken), errors.Is(err, ErrMalformedToken),
		errors.Is(err, ErrUnknownSession), errors.Is(err, ErrSessionExpired),
		errors.Is(err, ErrInvalidCredentials):
		return http.StatusUnauthorized
	case errors.Is(err, ErrForbidden):
		return http.StatusForbidden
	case errors.Is(err, ErrUnavailable):
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}

// WriteError is the default Config.ErrorHandler: it writes the JSON response
// for err with the status of StatusCode. The body never describes the cause:
// 401 is {"message":"Unauthorized"}, 403 is {"message":"You don't have access
// to this project"}, 503 and 500 are generic. A 401 always carries a
// WWW-Authenticate challenge, as HTTP requires: the one already set (as
// Manager.Error sets it, with the Manager's realm), or else "Bearer", with
// error="invalid_token" when a token was presented and refused.
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	code := StatusCode(err)
	body := BodyInternal
	switch code {
	case http.StatusUnauthorized:
		if w.Header().Get("WWW-Authenticate") == "" {
			plain, invalid := challenges("")
			w.Header().Set("WWW-Authenticate", challengeFor(err, plain, invalid))
		}
		body = BodyUnauthorized
	case http.StatusForbidden:
		body = BodyForbidden
	case http.StatusServiceUnavailable:
		body = BodyUnavailable
	}
	writeJSON(w, code, body)
}

func writeJSON(w http.ResponseWriter, code int, body string) {
	h := w.Header()
	h["Content-Type"] = []string{"application/json"}
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_, _ = w.Write([]byte(body))
}

// challenges returns the WWW-Authenticate values of RFC 6750 §3: without an
// error code when no token was presented, with error="invalid_token" when one
// was and it is not accepted.
func challenges(realm string) (plain, invalid string) {
	if realm == "" {
		return "Bearer", `Bearer error="invalid_token"`
	}
	plain = `Bearer realm="` + quoteEscape(realm) + `"`
	return plain, plain + `, error="invalid_token"`
}

// challengeFor picks the challenge of a 401 for err: invalid when a token
// was presented and refused, plain when none was (a missing token, or a
// sign-in whose credentials did not match).
func challengeFor(err error, plain, invalid string) string {
	if errors.Is(err, ErrNoToken) || errors.Is(err, ErrInvalidCredentials) {
		return plain
	}
	return invalid
}

func quoteEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isCTL(rune(c)) {
			continue // no control bytes in a header
		}
		if c == '"' || c == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(c)
	}
	return b.String()
}
