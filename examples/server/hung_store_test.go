package main

import (
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionauth/sessionauth"
)

// errorLine matches a line the server logs at ERROR.
var errorLine = regexp.MustCompile(`(?m)^time=\S+ level=ERROR `)

// TestHungStoreIsA503WithinTheStoreTimeout runs the server on Redis and on
// PostgreSQL through a proxy that, once the server is up and a user signed
// in, accepts connections and never answers: the database is there but
// silent, the failure that no "connection refused" reveals. Every request
// that needs the store gets the JSON 503 within -store-timeout and a margin,
// not when the client gives up; the log says so at ERROR; and once the
// database answers again, the session works.
func TestHungStoreIsA503WithinTheStoreTimeout(t *testing.T) {
	t.Parallel()
	const storeTimeout = 300 * time.Millisecond
	const answerWithin = 2 * time.Second // storeTimeout + the request's slack + scheduling
	for _, store := range sharedStores {
		t.Run(store.name, func(t *testing.T) {
			t.Parallel()
			storeURL, name := store.open(t)
			proxied, proxy := throughProxy(t, storeURL)
			s := startServer(t, []string{"-store", store.name, "-store-url", proxied,
				"-store-timeout", storeTimeout.String()}, withStoreName(name))
			token := s.signIn(t, "owner@example.com")
			require.Equal(t, http.StatusOK, s.do(t, http.MethodGet, "/projects", token, nil).status)

			proxy.Hang()
			requests := []struct {
				method, path, token string
				body                any
			}{
				{http.MethodGet, "/projects", token, nil},
				{http.MethodGet, "/auth/sessions", token, nil},
				{http.MethodPost, "/auth/sign-out", token, nil},
				{http.MethodPost, "/auth/sign-in", "", map[string]string{"email": "admin@example.com", "password": demoPassword}},
			}
			for _, req := range requests {
				start := time.Now()
				r := s.do(t, req.method, req.path, req.token, req.body)
				elapsed := time.Since(start)
				assertUnavailable(t, r, "%s %s", req.method, req.path)
				assert.Less(t, elapsed, answerWithin, "%s %s answered after %v", req.method, req.path, elapsed)
			}
			logs := s.logs.String()
			assert.Regexp(t, errorLine, logs, "the outage is logged at ERROR")
			assertNoSecret(t, logs, token, "the log")

			proxy.Restore()
			// The store's clients find their connections closed and dial
			// again; a few requests may meet a dead connection first.
			var r response
			for range 10 {
				if r = s.do(t, http.MethodGet, "/projects", token, nil); r.status == http.StatusOK {
					break
				}
				assertUnavailable(t, r, "a failure while reconnecting")
			}
			assert.Equal(t, http.StatusOK, r.status, "the session outlived the outage; body: %s", r.body)
		})
	}
}

// stuckStore is a store without context support (a plain scs store) whose
// Find, once armed, blocks until released, whatever the request's deadline:
// only the request deadline can answer the client.
type stuckStore struct {
	sessionauth.Store
	armed   chan struct{} // closed to arm
	release chan struct{} // closed to release
}

func (s *stuckStore) Find(key string) ([]byte, bool, error) {
	select {
	case <-s.armed:
		<-s.release
	default:
	}
	return s.Store.Find(key)
}

// TestStoreThatIgnoresItsDeadlineIsCutAtTheRequestDeadline runs the server on
// a store whose calls cannot be interrupted: a request stuck in it gets the
// JSON 503 at -store-timeout plus the request's slack, and the log an ERROR
// line. (TestRequestPastItsDeadlineGetsTheJSON503 shows that what the handler
// writes afterwards is dropped.)
func TestStoreThatIgnoresItsDeadlineIsCutAtTheRequestDeadline(t *testing.T) {
	t.Parallel()
	const storeTimeout = 100 * time.Millisecond
	store := &stuckStore{armed: make(chan struct{}), release: make(chan struct{})}
	s := startServer(t, []string{"-store", "memory", "-store-timeout", storeTimeout.String()}, func(cfg *appConfig) {
		cfg.wrapStore = func(opened sessionauth.Store) sessionauth.Store {
			store.Store = opened
			return store
		}
	})
	token := s.signIn(t, "owner@example.com")
	require.Equal(t, http.StatusOK, s.do(t, http.MethodGet, "/projects", token, nil).status)

	close(store.armed)
	start := time.Now()
	r := s.do(t, http.MethodGet, "/projects", token, nil)
	elapsed := time.Since(start)
	assertUnavailable(t, r)
	assert.GreaterOrEqual(t, elapsed, storeTimeout+requestSlack, "cut at the request deadline, not before")
	assert.Less(t, elapsed, storeTimeout+requestSlack+time.Second)
	s.logs.waitFor(t, regexp.MustCompile(`level=ERROR msg="request cut: no answer within the request deadline" method=GET path=/projects`))

	close(store.release)
	assert.Equal(t, http.StatusOK, s.do(t, http.MethodGet, "/projects", token, nil).status,
		"the server answers again once the store does")
}
