package authapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionauth/sessionauth"
	"github.com/sessionauth/sessionauth/authapi"
	"github.com/sessionauth/sessionauth/password"
	"github.com/sessionauth/sessionauth/store/memstore"
)

// An application whose lookup ignores "+tags" declares it with
// CanonicalName: then "ada+1@example.com", "ada+2@example.com", ... are one
// account to the limits, and the 6th guess is refused, not a fresh budget.
func TestCanonicalNameGivesVariantsOfANameOneBudget(t *testing.T) {
	untag := func(name string) string {
		local, domain, ok := strings.Cut(name, "@")
		if !ok {
			return name
		}
		local, _, _ = strings.Cut(local, "+")
		return local + "@" + domain
	}
	f := newFixture(t, func(c *authapi.Config) {
		c.Limiter = limiter(5, 20, 100)
		c.CanonicalName = untag
	})
	for i := range 5 {
		assertRefused(t, f.signInAs(t, "ada+"+string(rune('a'+i))+"@example.com", "wrong"))
	}
	r := f.signInAs(t, "ada+z@example.com", "wrong")
	assert.Equal(t, http.StatusTooManyRequests, r.status, "a sixth variant shares the account's budget")

	f.clock.Advance(time.Minute)
	f.signIn(t, "ada+again@example.com", adaPassword) // Accounts got the canonical name
}

// hungLimiter never answers: a limiter store that accepts connections and
// stops replying.
type hungLimiter struct{}

func (hungLimiter) Attempt(ctx context.Context, _, _ string, _ time.Time) (time.Duration, error) {
	<-ctx.Done()
	return 0, ctx.Err()
}

func (hungLimiter) Succeeded(ctx context.Context, _, _ string) error {
	<-ctx.Done()
	return ctx.Err()
}

// A hung limiter is a 503 when LimiterTimeout passes, even for a request
// without a deadline of its own: sign-in fails closed, and in time.
func TestHungLimiterIsA503WithinLimiterTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := memstore.New(memstore.Config{SweepInterval: -1})
		defer store.Close()
		m, err := sessionauth.New(sessionauth.Config{Store: store})
		require.NoError(t, err)
		h, err := password.New(cheap)
		require.NoError(t, err)
		api, err := authapi.New(authapi.Config{
			Manager: m, Hasher: h, Limiter: hungLimiter{}, LimiterTimeout: 250 * time.Millisecond,
			Accounts: func(context.Context, string) (authapi.Account, error) {
				return authapi.Account{}, authapi.ErrNoSuchAccount
			},
		})
		require.NoError(t, err)

		req := httptest.NewRequest(http.MethodPost, "/auth/sign-in", strings.NewReader(`{"email":"ada@example.com","password":"x"}`))
		rec := httptest.NewRecorder()
		start := time.Now()
		api.SignIn(rec, req)
		assert.Equal(t, 250*time.Millisecond, time.Since(start))
		assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
		assert.Equal(t, `{"message":"Service Unavailable"}`, rec.Body.String())
	})
}
