package sessionauth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
)

// MaxAuthorizationLength caps the Authorization header the parser looks at,
// in bytes. A longer header is rejected as malformed without being scanned.
const MaxAuthorizationLength = 1024

type contextKey struct{ name string }

var sessionKey = &contextKey{"session"}

// NewContext returns a copy of ctx that carries s, as Require does. Handler
// tests use it to call a handler with a session without a store.
func NewContext(ctx context.Context, s *Session) context.Context {
	return context.WithValue(ctx, sessionKey, s)
}

// withSession returns a shallow copy of r whose context carries s, as
// r.WithContext(NewContext(r.Context(), s)) does, in one allocation instead
// of two: the copy of the request and its context are one object. (The
// request WithContext makes does not escape once inlined, which it is.)
func withSession(r *http.Request, s *Session) *http.Request {
	x := &requestWithSession{ctx: sessionContext{Context: r.Context(), s: s}}
	x.r = *r.WithContext(&x.ctx)
	return &x.r
}

type requestWithSession struct {
	r   http.Request
	ctx sessionContext
}

// sessionContext is the context of a request that Require let through: its
// parent with a session, which FromContext finds as it finds NewContext's.
type sessionContext struct {
	context.Context
	s *Session
}

func (c *sessionContext) Value(key any) any {
	if key == sessionKey {
		return c.s
	}
	return c.Context.Value(key)
}

// String names the context for debugging, as the context package's own do,
// without printing the session.
func (c *sessionContext) String() string {
	if p, ok := c.Context.(fmt.Stringer); ok {
		return p.String() + ".WithValue(sessionauth.session)"
	}
	return "context.WithValue(sessionauth.session)"
}

// FromContext returns the session that Require or Optional attached to ctx.
//
//	s, ok := sessionauth.FromContext(r.Context())
func FromContext(ctx context.Context) (*Session, bool) {
	s, ok := ctx.Value(sessionKey).(*Session)
	return s, ok && s != nil
}

// BearerToken extracts the token from the request's Authorization header as
// RFC 6750 §2.1 defines it: the scheme "Bearer" in any case, one or more
// spaces, then a b64token (ALPHA DIGIT - . _ ~ + / followed by any "=").
// It fails with ErrNoToken when there is no Authorization header or it names
// another scheme, and with ErrMalformedToken for anything else that is not
// exactly one well-formed bearer credential, including two Authorization
// headers. Tokens in the URL query, a form body or a cookie are never read.
func BearerToken(r *http.Request) (string, error) {
	token, _, err := bearerToken(r)
	return token, err
}

// bearerToken is BearerToken that also reports whether the token has the
// exact shape of the tokens this package issues (wellFormedToken), so that
// the middleware scans the token once, not twice.
func bearerToken(r *http.Request) (token string, wellFormed bool, err error) {
	values := r.Header["Authorization"]
	switch len(values) {
	case 0:
		return "", false, ErrNoToken
	case 1:
	default:
		return "", false, ErrMalformedToken
	}
	return parseCredentials(values[0])
}

func parseBearer(h string) (string, error) {
	token, _, err := parseCredentials(h)
	return token, err
}

// parseCredentials is parseBearer that also reports whether the token is
// well formed (see bearerToken).
func parseCredentials(h string) (token string, wellFormed bool, err error) {
	if len(h) > MaxAuthorizationLength {
		return "", false, ErrMalformedToken
	}
	var rest string
	if len(h) > len("bearer") && h[len("bearer")] == ' ' && isBearer(h[:len("bearer")]) {
		rest = h[len("bearer"):] // the usual "Bearer <token>"
	} else {
		i := 0
		for i < len(h) && isTokenChar(h[i]) {
			i++
		}
		scheme := h[:i]
		rest = h[i:]
		if !isBearer(scheme) {
			if scheme != "" && (rest == "" || rest[0] == ' ') {
				return "", false, ErrNoToken // another scheme, such as Basic
			}
			return "", false, ErrMalformedToken
		}
		if rest == "" || rest[0] != ' ' {
			return "", false, ErrMalformedToken
		}
	}
	for rest != "" && rest[0] == ' ' {
		rest = rest[1:]
	}
	// Base64url is a subset of b64token: a token of this package's shape
	// needs no other scan.
	if wellFormedToken(rest) {
		return rest, true, nil
	}
	if !isB64Token(rest) {
		return "", false, ErrMalformedToken
	}
	return rest, false, nil
}

// isBearer reports whether scheme is "Bearer" in any case. Setting bit 5
// lowers an ASCII letter's case and maps no other byte to a letter, so the
// test is exact.
func isBearer(scheme string) bool {
	return len(scheme) == len("bearer") &&
		scheme[0]|0x20 == 'b' && scheme[1]|0x20 == 'e' && scheme[2]|0x20 == 'a' &&
		scheme[3]|0x20 == 'r' && scheme[4]|0x20 == 'e' && scheme[5]|0x20 == 'r'
}

// isTokenChar reports whether c may appear in an auth-scheme (RFC 9110 token).
func isTokenChar(c byte) bool { return charClass[c]&classTChar != 0 }

// isB64Token reports whether s matches 1*( ALPHA / DIGIT / "-" / "." / "_" /
// "~" / "+" / "/" ) *"=".
func isB64Token(s string) bool {
	i := 0
	for i < len(s) && charClass[s[i]]&classB64Token != 0 {
		i++
	}
	if i == 0 {
		return false
	}
	for i < len(s) && s[i] == '=' {
		i++
	}
	return i == len(s)
}

// Character classes of the bearer syntax, in one table, so that scanning a
// header costs a load and a test per byte instead of a chain of comparisons:
// every request scans its token twice (b64token here, the token shape in
// Authenticate).
const (
	classTChar     = 1 << iota // RFC 9110 tchar: may appear in an auth-scheme
	classB64Token              // RFC 6750 b64token, without its trailing "="
	classBase64URL             // RFC 4648 base64url: the tokens this package issues
)

var charClass = func() (t [256]uint8) {
	for c := range 256 {
		alnum := 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9'
		if alnum || strings.IndexByte("!#$%&'*+-.^_`|~", byte(c)) >= 0 {
			t[c] |= classTChar
		}
		if alnum || strings.IndexByte("-._~+/", byte(c)) >= 0 {
			t[c] |= classB64Token
		}
		if alnum || c == '-' || c == '_' {
			t[c] |= classBase64URL
		}
	}
	return t
}()

func asciiEqualFold(s, lower string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// Require is middleware that lets a request through only with a valid
// session, which the handler reads with FromContext. Otherwise it answers 401
// {"message":"Unauthorized"} with a WWW-Authenticate challenge, or 503 when
// the store fails.
//
//	mux.Handle("GET /projects", m.Require(listProjects))
func (m *Manager) Require(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := m.authenticateRequest(r)
		if err != nil {
			if errors.Is(err, ErrNoToken) {
				m.authFailed(r.Context(), r, "", nil, err)
			}
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
		s, err := m.authenticateRequest(r)
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
	return m.authenticateRequest(r)
}

// authenticateRequest reports every failure but ErrNoToken, which only its
// caller knows to be one, and store failures, which Manager.Error reports.
func (m *Manager) authenticateRequest(r *http.Request) (*Session, error) {
	token, wellFormed, err := bearerToken(r)
	if err != nil {
		if !errors.Is(err, ErrNoToken) {
			m.authFailed(r.Context(), r, "", nil, err)
		}
		return nil, err
	}
	var s *Session
	if wellFormed {
		s, err = m.authenticateWellFormed(r.Context(), token)
	} else {
		s, err = m.authenticate(r.Context(), token)
	}
	if err != nil {
		m.authFailed(r.Context(), r, token, s, err)
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
		m.storeFailed(ctx, r, "", s, err)
	case http.StatusInternalServerError:
		attrs := []slog.Attr{slog.Any("error", err)}
		if r != nil {
			attrs = append(attrs, slog.String("method", r.Method), slog.String("path", r.URL.Path))
		}
		m.log.LogAttrs(ctx, slog.LevelError, "sessionauth: request failed", attrs...)
	}
	m.errorHandler(w, r, err)
}
