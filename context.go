package sessionauth

import (
	"context"
	"fmt"
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

// withContext returns a shallow copy of r whose context carries s, and g
// when hasGrant, as r.WithContext(NewContext(r.Context(), s)) does, in one
// allocation instead of two: the copy of the request and its context are
// one object. (The request WithContext makes does not escape once inlined,
// which it is.)
func withContext(r *http.Request, s *Session, g Grant, hasGrant bool) *http.Request {
	x := &requestWithContext{ctx: requestContext{Context: r.Context(), s: s, g: g, hasGrant: hasGrant}}
	x.r = *r.WithContext(&x.ctx)
	return &x.r
}

type requestWithContext struct {
	r   http.Request
	ctx requestContext
}

// requestContext is the context of a request that Require or RequireRole let
// through: its parent with a session and, after RequireRole, a grant, which
// FromContext and GrantFromContext find as they find NewContext's.
type requestContext struct {
	context.Context
	s        *Session
	g        Grant
	hasGrant bool
}

func (c *requestContext) Value(key any) any {
	switch key {
	case sessionKey:
		return c.s
	case grantKey:
		if c.hasGrant {
			return &c.g
		}
	}
	return c.Context.Value(key)
}

// String names the context for debugging, as the context package's own do,
// without printing the session.
func (c *requestContext) String() string {
	name := "sessionauth.session"
	if c.hasGrant {
		name = "sessionauth.grant"
	}
	if p, ok := c.Context.(fmt.Stringer); ok {
		return p.String() + ".WithValue(" + name + ")"
	}
	return "context.WithValue(" + name + ")"
}
