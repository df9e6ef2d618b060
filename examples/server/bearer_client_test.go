package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionauth/sessionauth/bearer"
	"github.com/sessionauth/sessionauth/store/memstore"
)

// TestBearerTransportAgainstTheExampleServer drives the example API the way a
// user's command-line tool would: sign in through the API with the same
// client, lose the session, and carry on without the caller noticing.
func TestBearerTransportAgainstTheExampleServer(t *testing.T) {
	store := memstore.New(memstore.Config{})
	t.Cleanup(func() { _ = store.Close() })
	const password = "bearer-client-password"
	cfg := appConfig{store: store, demoPassword: password, log: slog.New(slog.DiscardHandler)}
	fastPasswords(&cfg)
	a, err := newApp(cfg)
	require.NoError(t, err)
	srv := httptest.NewServer(a.routes())
	t.Cleanup(srv.Close)

	var api *http.Client
	var signIns atomic.Int32
	src := bearer.NewSource("", func(ctx context.Context) (string, error) {
		signIns.Add(1)
		body := strings.NewReader(fmt.Sprintf(`{"email":"developer@example.com","password":%q}`, password))
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/auth/sign-in", body)
		if err != nil {
			return "", err
		}
		resp, err := api.Do(req)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return "", fmt.Errorf("sign-in: %s", resp.Status)
		}
		var out struct{ Token string }
		return out.Token, json.NewDecoder(resp.Body).Decode(&out)
	})
	base := &http.Transport{}
	t.Cleanup(base.CloseIdleConnections)
	api = &http.Client{Transport: &bearer.Transport{Origin: srv.URL, Source: src, Base: base}}

	call := func(method, path string, body []byte) (int, string) {
		t.Helper()
		var r io.Reader
		if body != nil {
			r = bytes.NewReader(body)
		}
		req, err := http.NewRequest(method, srv.URL+path, r)
		require.NoError(t, err)
		resp, err := api.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, string(b)
	}

	status, body := call(http.MethodGet, "/auth/session", nil)
	require.Equal(t, http.StatusOK, status, body)
	assert.Contains(t, body, `"email":"developer@example.com"`)
	assert.Equal(t, int32(1), signIns.Load(), "signed in on first use")

	status, _ = call(http.MethodPost, "/auth/sign-out", nil)
	require.Equal(t, http.StatusNoContent, status)

	// The held token is dead: the POST is rejected, the Transport signs in
	// again and resends it with its body.
	status, body = call(http.MethodPost, "/keys/api", []byte(`{"projectId":"proj_acme_web","description":"ci"}`))
	assert.Equal(t, http.StatusCreated, status, body)
	assert.Contains(t, body, `"description":"ci"`)
	assert.Equal(t, int32(2), signIns.Load())
}
