package sessionauth

import (
	"context"
	"net/http"
)

type contextKey struct{ name string }

var (
	sessionKey = &contextKey{"session"}
	grantKey   = &contextKey{"grant"}
)

// NewContext returns a copy of ctx that carries s, as Require does. Handler
// tests use it to call a handler with a session without a store.
func NewContext(ctx context.Context, s *Session) context.Context {
	return context.WithValue(ctx, sessionKey, s)
}

// FromContext returns the session that Require or Optional attached to ctx.
//
//	s, ok := sessionauth.FromContext(r.Context())
func FromContext(ctx context.Context) (*Session, bool) {
	s, ok := ctx.Value(sessionKey).(*Session)
	return s, ok && s != nil
}

// GrantFromContext returns the Grant that RequireRole attached to ctx.
//
//	g, _ := sessionauth.GrantFromContext(r.Context())
func GrantFromContext(ctx context.Context) (Grant, bool) {
	g, ok := ctx.Value(grantKey).(*Grant)
	if !ok || g == nil {
		return Grant{}, false
	}
	return *g, true
}

// withSession returns a shallow copy of r whose context carries s, as
// r.WithContext(NewContext(r.Context(), s)) does, in one allocation instead
// of two: the copy of the request and its context are one object. (The
// request WithContext makes does not escape once inlined, which it is.)
func withSession(r *http.Request, s *Session) *http.Request {
	x := &requestWithContext{ctx: requestContext{Context: r.Context(), s: s}}
	x.r = *r.WithContext(&x.ctx)
	return &x.r
}

// withGrant is withSession with the grant of RequireRole, still in one
// allocation.
func withGrant(r *http.Request, s *Session, g Grant) *http.Request {
	x := &requestWithGrant{g: g}
	x.ctx = requestContext{Context: r.Context(), s: s, g: &x.g}
	x.r = *r.WithContext(&x.ctx)
	return &x.r
}

type requestWithContext struct {
	r   http.Request
	ctx requestContext
}

type requestWithGrant struct {
	requestWithContext
	g Grant
}

// requestContext is the context of a request that Require or RequireRole let
// through: its parent with a session and, after RequireRole, a grant, which
// FromContext and GrantFromContext find as they find NewContext's. It has no
// String method: printed, it shows the session's address, never its data.
type requestContext struct {
	context.Context
	s *Session
	g *Grant // nil but after RequireRole
}

func (c *requestContext) Value(key any) any {
	switch key {
	case sessionKey:
		return c.s
	case grantKey:
		if c.g != nil {
			return c.g
		}
	}
	return c.Context.Value(key)
}
