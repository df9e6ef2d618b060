package sqlitestore_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/alexedwards/scs/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionauth/sessionauth/store/sqlitestore"
)

// TestSCSSessionManager runs an scs application on the store: a session
// written in one request is read back in the next through its cookie, lives
// in the SQLite file under the cookie's token, and is gone once destroyed.
func TestSCSSessionManager(t *testing.T) {
	store := open(t, newPath(t), sqlitestore.Config{})
	sm := scs.New()
	sm.Store = store

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
		io.WriteString(w, sm.GetString(r.Context(), "message"))
	})
	mux.HandleFunc("DELETE /session", func(w http.ResponseWriter, r *http.Request) {
		if err := sm.Destroy(r.Context()); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
	srv := httptest.NewServer(sm.LoadAndSave(mux))
	defer srv.Close()
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

	do("PUT", "/message", "hello from scs")
	assert.Equal(t, "hello from scs", do("GET", "/message", ""), "the session came back through its cookie")

	u, err := url.Parse(srv.URL)
	require.NoError(t, err)
	cookies := jar.Cookies(u)
	require.Len(t, cookies, 1)
	token := cookies[0].Value
	_, found, err := store.Find(token)
	require.NoError(t, err)
	assert.True(t, found, "the session is stored under its scs token")
	all, err := store.All()
	require.NoError(t, err)
	assert.Len(t, all, 1)

	do("DELETE", "/session", "")
	_, found, err = store.Find(token)
	require.NoError(t, err)
	assert.False(t, found, "Destroy deleted the stored session")
	assert.Empty(t, do("GET", "/message", ""))
}
