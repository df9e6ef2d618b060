package frameworks_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionauth/sessionauth"
	"github.com/sessionauth/sessionauth/examples/frameworks"
	"github.com/sessionauth/sessionauth/store/memstore"
)

func TestMain(m *testing.M) {
	gin.SetMode(gin.TestMode) // no debug banner
	os.Exit(m.Run())
}

func newManager(t *testing.T) *sessionauth.Manager {
	t.Helper()
	store := memstore.New(memstore.Config{SweepInterval: -1})
	t.Cleanup(func() { _ = store.Close() })
	m, err := sessionauth.New(sessionauth.Config{Store: store, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	return m
}

func get(t *testing.T, method, url, token string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(body)
}

func TestEveryRecipeProtectsItsRoutes(t *testing.T) {
	recipes := []struct {
		name   string
		router func(*sessionauth.Manager) http.Handler
	}{
		{"ServeMux", frameworks.ServeMux},
		{"chi", frameworks.Chi},
		{"gorilla/mux", frameworks.GorillaMux},
		{"gin", frameworks.Gin},
		{"echo", frameworks.Echo},
	}
	for _, recipe := range recipes {
		t.Run(recipe.name, func(t *testing.T) {
			m := newManager(t)
			srv := httptest.NewServer(recipe.router(m))
			t.Cleanup(srv.Close)
			ctx := context.Background()
			token, _, err := m.Create(ctx, "ada", sessionauth.Metadata{})
			require.NoError(t, err)
			revoked, s, err := m.Create(ctx, "ada", sessionauth.Metadata{})
			require.NoError(t, err)
			require.NoError(t, m.Revoke(ctx, s))

			for _, tc := range []struct {
				name, method, path, token string
				status                    int
				body                      string
			}{
				{"open route without token", http.MethodGet, "/healthz", "", http.StatusOK, "ok"},
				{"group without token", http.MethodGet, "/projects/42", "", http.StatusUnauthorized, sessionauth.BodyUnauthorized},
				{"group with revoked token", http.MethodGet, "/projects/42", revoked, http.StatusUnauthorized, sessionauth.BodyUnauthorized},
				{"group with token", http.MethodGet, "/projects/42", token, http.StatusOK, "project 42 for ada"},
				{"route without token", http.MethodDelete, "/keys/k1", "", http.StatusUnauthorized, sessionauth.BodyUnauthorized},
				{"route with revoked token", http.MethodDelete, "/keys/k1", revoked, http.StatusUnauthorized, sessionauth.BodyUnauthorized},
				{"route with token", http.MethodDelete, "/keys/k1", token, http.StatusOK, "key k1 deleted by ada"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					resp, body := get(t, tc.method, srv.URL+tc.path, tc.token)

					assert.Equal(t, tc.status, resp.StatusCode)
					assert.Equal(t, tc.body, body)
					if tc.status == http.StatusUnauthorized {
						assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
						assert.Contains(t, resp.Header.Get("WWW-Authenticate"), "Bearer")
					}
				})
			}
		})
	}
}

func TestGinMiddlewareStopsTheChainOnlyWhenTheMiddlewareAnswers(t *testing.T) {
	m := newManager(t)
	token, _, err := m.Create(context.Background(), "ada", sessionauth.Metadata{})
	require.NoError(t, err)

	var mu sync.Mutex
	var reached []string
	r := gin.New()
	r.Use(frameworks.GinMiddleware(m.Optional))
	r.Use(func(c *gin.Context) {
		user := "anonymous"
		if s, ok := sessionauth.FromContext(c.Request.Context()); ok {
			user = s.UserID
		}
		mu.Lock()
		reached = append(reached, user)
		mu.Unlock()
		c.Next()
	})
	r.GET("/", func(c *gin.Context) { c.String(http.StatusOK, "home") })
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)

	for _, tc := range []struct {
		name, token string
		status      int
		reached     []string
	}{
		{"anonymous request goes on", "", http.StatusOK, []string{"anonymous"}},
		{"session reaches later gin handlers", token, http.StatusOK, []string{"ada"}},
		{"rejected token stops the chain", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", http.StatusUnauthorized, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mu.Lock()
			reached = nil
			mu.Unlock()
			resp, _ := get(t, http.MethodGet, srv.URL+"/", tc.token)

			assert.Equal(t, tc.status, resp.StatusCode)
			mu.Lock()
			defer mu.Unlock()
			assert.Equal(t, tc.reached, reached)
		})
	}
}
