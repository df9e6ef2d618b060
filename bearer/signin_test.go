package bearer_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionauth/sessionauth"
	"github.com/sessionauth/sessionauth/authapi"
	"github.com/sessionauth/sessionauth/bearer"
	"github.com/sessionauth/sessionauth/password"
	"github.com/sessionauth/sessionauth/ratelimit"
	"github.com/sessionauth/sessionauth/store/memstore"
)

const adaPassword = "ada-secret-Pw93"

// signInServer is a real server with authapi's endpoints, one account
// (ada@example.com) and a route /whoami behind Require.
func signInServer(t *testing.T, lim authapi.Limiter) (*httptest.Server, *sessionauth.Manager) {
	t.Helper()
	store := memstore.New(memstore.Config{})
	t.Cleanup(func() { _ = store.Close() })
	m, err := sessionauth.New(sessionauth.Config{Store: store})
	require.NoError(t, err)
	h, err := password.New(password.Params{Memory: 64, Time: 1})
	require.NoError(t, err)
	hash, err := h.Hash(context.Background(), adaPassword)
	require.NoError(t, err)
	api, err := authapi.New(authapi.Config{
		Manager: m, Hasher: h, Limiter: lim,
		Accounts: func(_ context.Context, name string) (authapi.Account, error) {
			if name != "ada@example.com" {
				return authapi.Account{}, authapi.ErrNoSuchAccount
			}
			return authapi.Account{UserID: "ada", PasswordHash: hash}, nil
		},
	})
	require.NoError(t, err)
	mux := http.NewServeMux()
	api.Register(mux)
	mux.Handle("GET /whoami", m.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := sessionauth.FromContext(r.Context())
		_, _ = w.Write([]byte(s.UserID))
	})))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, m
}

func TestSignInReturnsTheSessionOfTheEndpoint(t *testing.T) {
	srv, m := signInServer(t, nil)
	s, err := bearer.SignIn(context.Background(), nil, srv.URL+"/auth/sign-in", "ada@example.com", adaPassword)
	require.NoError(t, err)
	got, err := m.Authenticate(context.Background(), s.Token)
	require.NoError(t, err)
	assert.Equal(t, "ada", got.UserID)
	assert.True(t, got.ExpiresAt.Equal(s.ExpiresAt))
	assert.True(t, got.IdleExpiresAt.Equal(s.IdleExpiresAt))
}

func TestSignInReportsRefusalAndThrottlingWithoutSecrets(t *testing.T) {
	lim, err := ratelimit.New(ratelimit.Config{AccountClient: ratelimit.Rule{Limit: 1, Window: time.Minute}})
	require.NoError(t, err)
	srv, _ := signInServer(t, lim)
	url := srv.URL + "/auth/sign-in"

	_, err = bearer.SignIn(context.Background(), nil, url, "ada@example.com", "wrong-Pw11")
	require.ErrorIs(t, err, bearer.ErrInvalidCredentials)
	assert.NotContains(t, err.Error(), "wrong-Pw11")

	_, err = bearer.SignIn(context.Background(), nil, url, "ada@example.com", adaPassword)
	var throttled *bearer.ThrottledError
	require.True(t, errors.As(err, &throttled), "error %v", err)
	assert.Equal(t, time.Minute, throttled.RetryAfter)
	assert.NotContains(t, err.Error(), adaPassword)

	_, err = bearer.SignIn(context.Background(), nil, srv.URL+"/nowhere", "ada@example.com", adaPassword)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "404")
}

func TestPasswordSignInFeedsTheTransportsRefresh(t *testing.T) {
	srv, m := signInServer(t, nil)
	signIns := 0
	signIn := bearer.PasswordSignIn(nil, srv.URL+"/auth/sign-in", "ada@example.com", adaPassword)
	src := bearer.NewSource("", func(ctx context.Context) (string, error) {
		signIns++
		return signIn(ctx)
	})
	api := &http.Client{Transport: &bearer.Transport{Origin: srv.URL, Source: src}}
	get := func() string {
		resp, err := api.Get(srv.URL + "/whoami")
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return string(body)
	}
	assert.Equal(t, "ada", get())
	assert.Equal(t, 1, signIns)
	_, err := m.RevokeUser(context.Background(), "ada", nil)
	require.NoError(t, err)
	assert.Equal(t, "ada", get(), "the 401 made the Transport sign in again and resend")
	assert.Equal(t, 2, signIns)
}
