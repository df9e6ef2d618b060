package storetest

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func scsCases() []testCase {
	return []testCase{
		{"SCSSessionManagerRunsOnTheStore", 0, testSCSSessionManager},
	}
}

// testSCSSessionManager runs an scs application on the store: a value put in
// one request comes back in the next through the session cookie, the record
// lives under the cookie's token, follows a token renewal, is visited by
// scs's Iterate on a store that can list, and is gone once the session is
// destroyed.
func testSCSSessionManager(t *testing.T, e *env) {
	sm := scs.New()
	sm.Store = e.store
	sm.Lifetime = time.Hour
	mux := http.NewServeMux()
	mux.HandleFunc("PUT /message", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		sm.Put(r.Context(), "message", string(body))
	})
	mux.HandleFunc("GET /message", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, sm.GetString(r.Context(), "message"))
	})
	mux.HandleFunc("POST /renew", func(w http.ResponseWriter, r *http.Request) {
		if err := sm.RenewToken(r.Context()); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
	mux.HandleFunc("DELETE /session", func(w http.ResponseWriter, r *http.Request) {
		if err := sm.Destroy(r.Context()); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
	srv := httptest.NewServer(sm.LoadAndSave(mux))
	t.Cleanup(srv.Close)
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	client := &http.Client{Jar: jar}
	do := func(method, path, body string) string {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), method, srv.URL+path, strings.NewReader(body))
		require.NoError(t, err)
		resp, err := client.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return string(b)
	}
	u, err := url.Parse(srv.URL)
	require.NoError(t, err)
	// token returns the session token in the cookie jar.
	token := func() string {
		t.Helper()
		cookies := jar.Cookies(u)
		require.Len(t, cookies, 1)
		return cookies[0].Value
	}
	// stored reports whether the store holds a live record under key, and
	// checks that All agrees when the store can list.
	stored := func(key string) bool {
		t.Helper()
		_, found := e.find(t, key)
		if e.iterable {
			all := e.all(t)
			_, listed := all[key]
			assert.Equal(t, found, listed, "All agrees with Find")
			if found {
				assert.Len(t, all, 1, "All lists the one session")
			} else {
				assert.Empty(t, all)
			}
		}
		return found
	}

	do(http.MethodPut, "/message", "hello from scs")
	assert.Equal(t, "hello from scs", do(http.MethodGet, "/message", ""), "the session came back through its cookie")
	first := token()
	assert.True(t, stored(first), "the session is stored under its scs token")

	do(http.MethodPost, "/renew", "")
	renewed := token()
	require.NotEqual(t, first, renewed)
	assert.Equal(t, "hello from scs", do(http.MethodGet, "/message", ""), "the session survives a renewal")
	_, found := e.find(t, first)
	assert.False(t, found, "the renewal deleted the old token's record")
	assert.True(t, stored(renewed))

	if e.iterable {
		n := 0
		require.NoError(t, sm.Iterate(t.Context(), func(ctx context.Context) error {
			n++
			assert.Equal(t, "hello from scs", sm.GetString(ctx, "message"))
			return nil
		}))
		assert.Equal(t, 1, n, "scs's Iterate visits the one session")
	}

	do(http.MethodDelete, "/session", "")
	assert.False(t, stored(renewed), "Destroy deleted the stored session")
	assert.Empty(t, do(http.MethodGet, "/message", ""))
}
