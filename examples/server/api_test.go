package main

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionauth/sessionauth"
)

// tokenShape is a session token: 32 random bytes in base64url, no padding.
var tokenShape = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

func TestSignInIssuesATokenOnlyForTheRightPassword(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	const password = "correct horse battery staple"
	s := startServer(t, append([]string{"-demo-password", password, "-lifetime", "3h"}, sqliteStore(t)...), withClock(clock))

	t.Run("right password", func(t *testing.T) {
		r := s.do(t, http.MethodPost, "/auth/sign-in", "", map[string]string{"email": "owner@example.com", "password": password})
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		assert.Equal(t, "application/json", r.header.Get("Content-Type"))
		assert.Equal(t, "no-store", r.header.Get("Cache-Control"), "a response carrying a token must not be cached")
		body := decode[signInBody](t, r)
		assert.Regexp(t, tokenShape, body.Token)
		assert.True(t, clock.Now().Add(3*time.Hour).Equal(body.ExpiresAt),
			"expiresAt %v is sign-in time plus -lifetime", body.ExpiresAt)

		again := s.do(t, http.MethodPost, "/auth/sign-in", "", map[string]string{"email": "owner@example.com", "password": password})
		require.Equal(t, http.StatusOK, again.status)
		assert.NotEqual(t, body.Token, decode[signInBody](t, again).Token, "every sign-in gets its own token")
	})

	// Wrong password and unknown email must look the same, so that the
	// answer does not tell an attacker which emails have accounts.
	refused := []struct {
		name            string
		email, password string
	}{
		{"wrong password", "owner@example.com", "wrong"},
		{"default password when another is set", "owner@example.com", demoPassword},
		{"empty password", "owner@example.com", ""},
		{"unknown email", "nobody@example.com", password},
		{"unknown email and wrong password", "nobody@example.com", "wrong"},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			r := s.do(t, http.MethodPost, "/auth/sign-in", "", map[string]string{"email": tt.email, "password": tt.password})
			assert.Equal(t, http.StatusUnauthorized, r.status)
			assert.Equal(t, bodyUnauthorized, string(r.body))
			assert.Equal(t, "application/json", r.header.Get("Content-Type"))
			assert.Equal(t, "Bearer", r.header.Get("WWW-Authenticate"), "every 401 carries a challenge")
		})
	}

	malformed := []struct{ name, body string }{
		{"no body", ""},
		{"not JSON", "email=owner@example.com&password=x"},
		{"unknown field", `{"email":"owner@example.com","password":"x","admin":true}`},
		{"two objects", `{"email":"owner@example.com","password":"x"}{}`},
		{"oversized", `{"email":"` + strings.Repeat("a", 8<<10) + `","password":"x"}`},
	}
	for _, tt := range malformed {
		t.Run(tt.name, func(t *testing.T) {
			r := s.do(t, http.MethodPost, "/auth/sign-in", "", tt.body)
			assert.Equal(t, http.StatusBadRequest, r.status, "body: %s", r.body)
			assert.Equal(t, "application/json", r.header.Get("Content-Type"))
		})
	}
}

// protectedRoutes are every route that needs a session.
var protectedRoutes = []struct {
	method, path string
	body         any
}{
	{http.MethodPost, "/auth/sign-out", nil},
	{http.MethodGet, "/auth/session", nil},
	{http.MethodGet, "/auth/sessions", nil},
	{http.MethodDelete, "/auth/sessions/some-session", nil},
	{http.MethodPost, "/auth/revoke-other-sessions", nil},
	{http.MethodGet, "/projects", nil},
	{http.MethodGet, "/keys/api", nil},
	{http.MethodGet, "/keys/api?projectId=proj_acme_web", nil},
	{http.MethodPost, "/keys/api", map[string]string{"projectId": "proj_acme_web", "description": "x"}},
	{http.MethodDelete, "/keys/api/key_x", nil},
}

func TestEveryRouteRefusesRequestsWithoutAValidToken(t *testing.T) {
	t.Parallel()
	s := startServer(t, sqliteStore(t))
	valid := s.signIn(t, "owner@example.com")

	for _, route := range protectedRoutes {
		t.Run("no token "+route.method+" "+route.path, func(t *testing.T) {
			r := s.do(t, route.method, route.path, "", route.body)
			assertUnauthorized(t, r)
			assert.Equal(t, "Bearer", r.header.Get("WWW-Authenticate"), "no error code when no token was sent")
		})
	}

	invalidToken := `Bearer error="invalid_token"`
	credentials := []struct {
		name      string
		header    http.Header
		path      string
		challenge string
	}{
		{"another scheme", http.Header{"Authorization": {"Basic b3duZXI6ZGVtby1wYXNzd29yZA=="}}, "/projects", "Bearer"},
		{"scheme without token", http.Header{"Authorization": {"Bearer"}}, "/projects", invalidToken},
		{"characters outside b64token", http.Header{"Authorization": {"Bearer " + valid[:20] + "{}" + valid[22:]}}, "/projects", invalidToken},
		{"token never issued", authHeader(strings.Repeat("A", 43)), "/projects", invalidToken},
		{"token of the right shape off by one character", authHeader(flipLast(valid)), "/projects", invalidToken},
		{"the development token", authHeader("test-token"), "/auth/sessions", invalidToken},
		{"two Authorization headers", http.Header{"Authorization": {"Bearer " + valid, "Bearer " + valid}}, "/projects", invalidToken},
		{"token in the query", nil, "/projects?access_token=" + valid, "Bearer"},
	}
	for _, tt := range credentials {
		t.Run(tt.name, func(t *testing.T) {
			if tt.name == "the development token" && sessionauth.DevMode {
				t.Skip("a sessionauth_dev build accepts the development token; TestDevelopmentTokenFollowsTheBuild covers it")
			}
			r := s.doHeaders(t, http.MethodGet, tt.path, nil, tt.header)
			assertUnauthorized(t, r)
			assert.Equal(t, tt.challenge, r.header.Get("WWW-Authenticate"))
		})
	}

	t.Run("scheme in any case with several spaces", func(t *testing.T) {
		r := s.doHeaders(t, http.MethodGet, "/projects", nil, http.Header{"Authorization": {"bEaReR   " + valid}})
		assert.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
	})
}

// flipLast returns token with its last character changed.
func flipLast(token string) string {
	last := byte('A')
	if token[len(token)-1] == 'A' {
		last = 'B'
	}
	return token[:len(token)-1] + string(last)
}

// TestDocumentedKeysRequest sends the request of the documentation, byte for
// byte what `curl -X GET http://127.0.0.1:8080/keys/api -H "Authorization:
// Bearer ..." -H "Content-Type: application/json"` sends: a GET without a
// body that still declares a JSON content type.
func TestDocumentedKeysRequest(t *testing.T) {
	t.Parallel()
	s := startServer(t, sqliteStore(t))
	token := s.signIn(t, "owner@example.com")

	req, err := http.NewRequest(http.MethodGet, s.url+"/keys/api", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "curl/8.5.0")
	req.Header.Set("Accept", "*/*")
	resp, err := s.client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()

	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	var body struct {
		APIKeys []map[string]any `json:"apiKeys"`
	}
	require.NoError(t, decodeReader(resp.Body, &body))
	assert.ElementsMatch(t, []string{"proj_acme_web/CI deploys", "proj_acme_mobile/Crash reporter"}, keyNames(body.APIKeys))
}

// keyNames names each API key of a listing as projectId/description.
func keyNames(keys []map[string]any) []string {
	names := []string{}
	for _, k := range keys {
		names = append(names, k["projectId"].(string)+"/"+k["description"].(string))
	}
	return names
}

func TestProjectsListsTheUsersProjectsWithTheirRoles(t *testing.T) {
	t.Parallel()
	s := startServer(t, sqliteStore(t))
	acme := func(role string) string {
		return `{"projects":[
			{"id":"proj_acme_mobile","name":"Acme Mobile","organizationId":"org_acme","role":"` + role + `"},
			{"id":"proj_acme_web","name":"Acme Web","organizationId":"org_acme","role":"` + role + `"}]}`
	}
	tests := []struct {
		email string
		want  string
	}{
		{"owner@example.com", acme("owner")},
		{"admin@example.com", acme("admin")},
		{"developer@example.com", acme("developer")},
		{"outsider@example.com", `{"projects":[
			{"id":"proj_globex_portal","name":"Globex Portal","organizationId":"org_globex","role":"owner"}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.email, func(t *testing.T) {
			r := s.do(t, http.MethodGet, "/projects", s.signIn(t, tt.email), nil)
			require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
			assert.Equal(t, "application/json", r.header.Get("Content-Type"))
			assert.JSONEq(t, tt.want, string(r.body))
		})
	}
}

func TestKeysListingFollowsProjectAccess(t *testing.T) {
	t.Parallel()
	s := startServer(t, sqliteStore(t))
	tokens := signInAll(t, s)
	tests := []struct {
		name  string
		email string
		query string
		want  []string // nil: 403
	}{
		{"owner sees every Acme key", "owner@example.com", "", []string{"proj_acme_web/CI deploys", "proj_acme_mobile/Crash reporter"}},
		{"developer sees every Acme key", "developer@example.com", "", []string{"proj_acme_web/CI deploys", "proj_acme_mobile/Crash reporter"}},
		{"outsider sees only Globex keys", "outsider@example.com", "", []string{"proj_globex_portal/Billing sync"}},
		{"filter on a project", "developer@example.com", "?projectId=proj_acme_web", []string{"proj_acme_web/CI deploys"}},
		{"filter on another project", "admin@example.com", "?projectId=proj_acme_mobile", []string{"proj_acme_mobile/Crash reporter"}},
		{"outsider on an Acme project", "outsider@example.com", "?projectId=proj_acme_web", nil},
		{"Acme owner on a Globex project", "owner@example.com", "?projectId=proj_globex_portal", nil},
		{"project that does not exist", "owner@example.com", "?projectId=proj_nope", nil},
		{"empty project", "owner@example.com", "?projectId=", nil},
		{"project named twice, the allowed one first", "outsider@example.com", "?projectId=proj_globex_portal&projectId=proj_acme_web", nil},
		{"the same allowed project named twice", "outsider@example.com", "?projectId=proj_globex_portal&projectId=proj_globex_portal", nil},
		{"project named twice, the forbidden one first", "outsider@example.com", "?projectId=proj_acme_web&projectId=proj_globex_portal", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s.do(t, http.MethodGet, "/keys/api"+tt.query, tokens[tt.email], nil)
			if tt.want == nil {
				assertForbidden(t, r)
				return
			}
			require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
			keys := decode[struct {
				APIKeys []map[string]any `json:"apiKeys"`
			}](t, r).APIKeys
			assert.ElementsMatch(t, tt.want, keyNames(keys))
			for _, k := range keys {
				assert.NotContains(t, k, "key", "a listing never shows a key's secret")
			}
		})
	}
}

// signInAll signs every demo user in once.
func signInAll(t *testing.T, s *testServer) map[string]string {
	t.Helper()
	tokens := map[string]string{}
	for _, email := range []string{"owner@example.com", "admin@example.com", "developer@example.com", "outsider@example.com"} {
		tokens[email] = s.signIn(t, email)
	}
	return tokens
}

type createdKey struct {
	ID          string `json:"id"`
	ProjectID   string `json:"projectId"`
	Description string `json:"description"`
	Prefix      string `json:"prefix"`
	CreatedBy   string `json:"createdBy"`
	Key         string `json:"key"`
}

// keyIDs lists the IDs of the API keys token sees in projectID.
func keyIDs(t *testing.T, s *testServer, token, projectID string) []string {
	t.Helper()
	r := s.do(t, http.MethodGet, "/keys/api?projectId="+projectID, token, nil)
	require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
	var ids []string
	for _, k := range decode[struct {
		APIKeys []createdKey `json:"apiKeys"`
	}](t, r).APIKeys {
		ids = append(ids, k.ID)
	}
	return ids
}

func TestCreatingAKeyNeedsDeveloperOnTheProject(t *testing.T) {
	t.Parallel()
	s := startServer(t, sqliteStore(t))
	tokens := signInAll(t, s)
	tests := []struct {
		email, project string
		userID         string // "" when refused
	}{
		{"owner@example.com", "proj_acme_web", ownerID},
		{"admin@example.com", "proj_acme_mobile", adminID},
		{"developer@example.com", "proj_acme_web", developerID},
		{"outsider@example.com", "proj_globex_portal", outsiderID},
		{"outsider@example.com", "proj_acme_web", ""},
		{"developer@example.com", "proj_globex_portal", ""},
		{"owner@example.com", "proj_nope", ""},
	}
	for _, tt := range tests {
		t.Run(tt.email+" on "+tt.project, func(t *testing.T) {
			description := "key of " + tt.email + " on " + tt.project
			r := s.do(t, http.MethodPost, "/keys/api", tokens[tt.email],
				map[string]string{"projectId": tt.project, "description": description})
			if tt.userID == "" {
				assertForbidden(t, r)
				for _, email := range []string{"owner@example.com", "outsider@example.com"} {
					listing := s.do(t, http.MethodGet, "/keys/api", tokens[email], nil)
					assert.NotContains(t, string(listing.body), description, "a refused key was not created")
				}
				return
			}
			require.Equal(t, http.StatusCreated, r.status, "body: %s", r.body)
			assert.Equal(t, "application/json", r.header.Get("Content-Type"))
			k := decode[createdKey](t, r)
			assert.Equal(t, tt.project, k.ProjectID)
			assert.Equal(t, description, k.Description)
			assert.Equal(t, tt.userID, k.CreatedBy)
			require.NotEmpty(t, k.Key, "the secret is shown once, on creation")
			assert.True(t, strings.HasPrefix(k.Key, k.Prefix), "prefix %q begins key", k.Prefix)
			assert.Less(t, len(k.Prefix), len(k.Key)/2, "the prefix reveals little of the secret")
			assert.Contains(t, keyIDs(t, s, tokens[tt.email], tt.project), k.ID)
		})
	}

	badBodies := []struct{ name, body string }{
		{"no body", ""},
		{"unknown field", `{"projectId":"proj_acme_web","description":"x","role":"owner"}`},
		{"description too long", `{"projectId":"proj_acme_web","description":"` + strings.Repeat("x", 201) + `"}`},
	}
	for _, tt := range badBodies {
		t.Run(tt.name, func(t *testing.T) {
			r := s.do(t, http.MethodPost, "/keys/api", tokens["owner@example.com"], tt.body)
			assert.Equal(t, http.StatusBadRequest, r.status, "body: %s", r.body)
		})
	}
}

func TestDeletingAKeyNeedsAdminOnItsProject(t *testing.T) {
	t.Parallel()
	s := startServer(t, sqliteStore(t))
	tokens := signInAll(t, s)
	owner := tokens["owner@example.com"]
	newKey := func(t *testing.T) string {
		r := s.do(t, http.MethodPost, "/keys/api", owner, map[string]string{"projectId": "proj_acme_web", "description": t.Name()})
		require.Equal(t, http.StatusCreated, r.status, "body: %s", r.body)
		return decode[createdKey](t, r).ID
	}

	tests := []struct {
		email   string
		deleted bool
	}{
		{"owner@example.com", true},
		{"admin@example.com", true},
		{"developer@example.com", false},
		{"outsider@example.com", false},
	}
	for _, tt := range tests {
		t.Run(tt.email, func(t *testing.T) {
			id := newKey(t)
			r := s.do(t, http.MethodDelete, "/keys/api/"+id, tokens[tt.email], nil)
			if tt.deleted {
				assert.Equal(t, http.StatusNoContent, r.status, "body: %s", r.body)
				assert.Empty(t, r.body)
				assert.NotContains(t, keyIDs(t, s, owner, "proj_acme_web"), id)
			} else {
				assertForbidden(t, r)
				assert.Contains(t, keyIDs(t, s, owner, "proj_acme_web"), id)
			}
		})
	}

	t.Run("a key already deleted", func(t *testing.T) {
		id := newKey(t)
		require.Equal(t, http.StatusNoContent, s.do(t, http.MethodDelete, "/keys/api/"+id, owner, nil).status)
		assertForbidden(t, s.do(t, http.MethodDelete, "/keys/api/"+id, owner, nil))
	})
	t.Run("a key that never existed", func(t *testing.T) {
		assertForbidden(t, s.do(t, http.MethodDelete, "/keys/api/key_nope", tokens["admin@example.com"], nil))
	})
	t.Run("another organization's key", func(t *testing.T) {
		outsider := tokens["outsider@example.com"]
		globex := keyIDs(t, s, outsider, "proj_globex_portal")
		require.NotEmpty(t, globex)
		assertForbidden(t, s.do(t, http.MethodDelete, "/keys/api/"+globex[0], owner, nil))
		assert.Contains(t, keyIDs(t, s, outsider, "proj_globex_portal"), globex[0])
	})
}

// TestDevelopmentTokenFollowsTheBuild runs in both builds of the test suite:
// a sessionauth_dev build accepts the development token as the demo owner on
// Acme's projects, any other build refuses it like any unknown token.
func TestDevelopmentTokenFollowsTheBuild(t *testing.T) {
	t.Parallel()
	s := startServer(t, sqliteStore(t))
	projects := s.do(t, http.MethodGet, "/projects", "test-token", nil)
	if !sessionauth.DevMode {
		assertUnauthorized(t, projects)
		assert.NotContains(t, strings.ToLower(s.logs.String()), "development build", "a default build does not announce a development token")
		return
	}
	require.Equal(t, http.StatusOK, projects.status, "body: %s", projects.body)
	assert.JSONEq(t, `{"projects":[
		{"id":"proj_acme_mobile","name":"Acme Mobile","organizationId":"org_acme","role":"owner"},
		{"id":"proj_acme_web","name":"Acme Web","organizationId":"org_acme","role":"owner"}]}`, string(projects.body))
	assertForbidden(t, s.do(t, http.MethodGet, "/keys/api?projectId=proj_globex_portal", "test-token", nil))
	assert.Contains(t, s.logs.String(), "DEVELOPMENT BUILD", "a development build says so when it starts")
}
