package main

import (
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionauth/sessionauth"
)

// outageStore wraps the server's store and fails every call while down is
// set, the way a database that went away does.
type outageStore struct {
	sessionauth.Store
	down atomic.Bool
}

var errStoreDown = errors.New("injected outage: connection refused")

func (s *outageStore) Find(key string) ([]byte, bool, error) {
	if s.down.Load() {
		return nil, false, errStoreDown
	}
	return s.Store.Find(key)
}

func (s *outageStore) Commit(key string, b []byte, expiry time.Time) error {
	if s.down.Load() {
		return errStoreDown
	}
	return s.Store.Commit(key, b, expiry)
}

func (s *outageStore) Delete(key string) error {
	if s.down.Load() {
		return errStoreDown
	}
	return s.Store.Delete(key)
}

func (s *outageStore) All() (map[string][]byte, error) {
	if s.down.Load() {
		return nil, errStoreDown
	}
	return s.Store.(sessionauth.IterableStore).All()
}

// TestStoreOutageIsA503NotALogout takes the session store down under the
// running server: requests get 503 with the generic body, never 401 (the
// client would throw its token away) nor 200, and the log says why; when the
// store is back, the sessions are too.
func TestStoreOutageIsA503NotALogout(t *testing.T) {
	t.Parallel()
	store := &outageStore{}
	s := startServer(t, sqliteStore(t), func(cfg *appConfig) {
		cfg.wrapStore = func(opened sessionauth.Store) sessionauth.Store {
			store.Store = opened
			return store
		}
	})
	token := s.signIn(t, "owner@example.com")
	require.Equal(t, http.StatusOK, s.do(t, http.MethodGet, "/projects", token, nil).status)

	store.down.Store(true)
	requests := []struct {
		method, path, token string
		body                any
	}{
		{http.MethodGet, "/projects", token, nil},
		{http.MethodGet, "/keys/api", token, nil},
		{http.MethodGet, "/auth/sessions", token, nil},
		{http.MethodPost, "/auth/sign-out", token, nil},
		{http.MethodPost, "/auth/sign-in", "", map[string]string{"email": "admin@example.com", "password": demoPassword}},
	}
	for _, req := range requests {
		assertUnavailable(t, s.do(t, req.method, req.path, req.token, req.body), "%s %s", req.method, req.path)
	}
	logs := s.logs.String()
	assert.Contains(t, logs, errStoreDown.Error(), "the log says what failed")
	assertNoSecret(t, logs, token, "the log")

	store.down.Store(false)
	assert.Equal(t, http.StatusOK, s.do(t, http.MethodGet, "/projects", token, nil).status,
		"the session outlived the outage")
}
