package sessionauth_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionauth/sessionauth"
	"github.com/sessionauth/sessionauth/access/memaccess"
)

type parentKey struct{}

// The context a handler behind Require, Optional or RequireRole gets is the
// request's own with the session (and the grant) added: the parent's values, deadline and cancellation go
// through, the request the middleware received is left as it was, and the
// context prints without the session.
func TestMiddlewareContextKeepsTheRequestContext(t *testing.T) {
	for name, wrap := range map[string]func(*sessionauth.Manager, http.Handler) http.Handler{
		"Require":  (*sessionauth.Manager).Require,
		"Optional": (*sessionauth.Manager).Optional,
		"RequireRole": func(m *sessionauth.Manager, h http.Handler) http.Handler {
			return m.RequireRole(sessionauth.RoleDeveloper, func(*http.Request) string { return "web" })(h)
		},
	} {
		t.Run(name, func(t *testing.T) {
			access := memaccess.New()
			require.NoError(t, access.AddOrganization("acme", "Acme"))
			require.NoError(t, access.AddProject("web", "Web", "acme"))
			require.NoError(t, access.SetProjectRole("web", "user-1", sessionauth.RoleAdmin))
			h := newHarness(t, sessionauth.Config{Access: access})
			token, s := h.create(t, "user-1")
			deadline := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
			parent, cancelDeadline := context.WithDeadline(context.WithValue(context.Background(), parentKey{}, "parent value"), deadline)
			defer cancelDeadline()
			parent, cancel := context.WithCancelCause(parent)

			var ctx, derived context.Context
			var cancelDerived context.CancelFunc
			handler := wrap(h.m, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				ctx = r.Context()
				// A context the handler derives is cancelled with the
				// request: the common cancellation path must find the
				// request's cancelCtx through the session's context.
				derived, cancelDerived = context.WithTimeout(ctx, time.Hour)
			}))
			r := httptest.NewRequestWithContext(parent, http.MethodGet, "/", nil)
			r.Header.Set("Authorization", "Bearer "+token)
			w := httptest.NewRecorder()
			handler.ServeHTTP(w, r)
			require.Equal(t, http.StatusOK, w.Code)
			require.NotNil(t, ctx)
			defer cancelDerived()

			got, ok := sessionauth.FromContext(ctx)
			require.True(t, ok)
			assert.Equal(t, s.ID, got.ID)
			assert.Equal(t, "parent value", ctx.Value(parentKey{}))
			if g, ok := sessionauth.GrantFromContext(ctx); name == "RequireRole" {
				assert.True(t, ok)
				assert.Equal(t, sessionauth.Grant{ProjectID: "web", Role: sessionauth.RoleAdmin}, g)
			} else {
				assert.False(t, ok)
			}
			d, ok := ctx.Deadline()
			assert.True(t, ok)
			assert.True(t, d.Equal(deadline))
			assert.NotContains(t, fmt.Sprint(ctx), s.ID)
			assert.NotContains(t, fmt.Sprint(ctx), token)

			_, ok = sessionauth.FromContext(r.Context())
			assert.False(t, ok, "the middleware changed the request it was given")

			assert.NoError(t, ctx.Err())
			cause := fmt.Errorf("client went away")
			cancel(cause)
			assert.ErrorIs(t, ctx.Err(), context.Canceled)
			assert.Equal(t, cause, context.Cause(ctx))
			// Cancellation propagates synchronously: no waiting.
			select {
			case <-derived.Done():
			default:
				t.Fatal("a context derived in the handler outlived the request")
			}
		})
	}
}
