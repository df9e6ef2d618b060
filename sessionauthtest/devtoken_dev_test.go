//go:build sessionauth_dev

package sessionauthtest_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/sessionauth/sessionauth"
	"github.com/sessionauth/sessionauth/sessionauthtest"
)

func TestDevUserCarriesTheDevelopmentToken(t *testing.T) {
	env := sessionauthtest.New(t, sessionauthtest.WithConfig(func(c *sessionauth.Config) {
		c.DevPrincipal = &sessionauth.DevPrincipal{UserID: "dev-ada"}
	}))
	dev := env.DevUser(t)
	assert.Equal(t, sessionauthtest.DevToken, dev.Token)
	assert.Equal(t, "dev-ada", dev.ID)
	rec := dev.Do(env.Manager.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := sessionauth.FromContext(r.Context())
		_, _ = w.Write([]byte(s.UserID))
	})), http.MethodGet, "/", nil)
	assert.Equal(t, "dev-ada", rec.Body.String())
}
