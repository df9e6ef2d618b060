package sessionauth_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionauth/sessionauth"
	"github.com/sessionauth/sessionauth/access/memaccess"
	"github.com/sessionauth/sessionauth/store/memstore"
)

func TestParseRoleAcceptsTheThreeRolesInAnyASCIICase(t *testing.T) {
	tests := []struct {
		in   string
		want sessionauth.Role
	}{
		{"developer", sessionauth.RoleDeveloper},
		{"admin", sessionauth.RoleAdmin},
		{"owner", sessionauth.RoleOwner},
		{"Owner", sessionauth.RoleOwner},
		{"ADMIN", sessionauth.RoleAdmin},
		{"DeVeLoPeR", sessionauth.RoleDeveloper},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := sessionauth.ParseRole(tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestParseRoleRejectsAnythingElse(t *testing.T) {
	for _, in := range []string{
		"", "none", "root", "member", "dev", "developers", " owner", "owner ", "owner\n",
		"0", "1", "3", "own\x00er", "ädmin", "admın", // dotless i must not fold to i
		strings.Repeat("owner", 100),
	} {
		t.Run(fmt.Sprintf("%q", in), func(t *testing.T) {
			got, err := sessionauth.ParseRole(in)
			require.ErrorIs(t, err, sessionauth.ErrUnknownRole)
			assert.Equal(t, sessionauth.NoRole, got, "an unknown role must never come back as a role")
			assert.LessOrEqual(t, len(err.Error()), 80, "the error must not echo unbounded input")
		})
	}
}

func TestRoleStringNamesEveryValue(t *testing.T) {
	tests := []struct {
		role sessionauth.Role
		want string
	}{
		{sessionauth.NoRole, "none"},
		{sessionauth.RoleDeveloper, "developer"},
		{sessionauth.RoleAdmin, "admin"},
		{sessionauth.RoleOwner, "owner"},
		{sessionauth.Role(9), "Role(9)"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, tt.role.String())
	}
}

func TestRoleJSONRoundTripsByName(t *testing.T) {
	type member struct {
		User string           `json:"user"`
		Role sessionauth.Role `json:"role"`
	}
	for _, role := range []sessionauth.Role{sessionauth.RoleDeveloper, sessionauth.RoleAdmin, sessionauth.RoleOwner} {
		t.Run(role.String(), func(t *testing.T) {
			data, err := json.Marshal(member{User: "u1", Role: role})
			require.NoError(t, err)
			assert.JSONEq(t, `{"user":"u1","role":"`+role.String()+`"}`, string(data))

			var back member
			require.NoError(t, json.Unmarshal(data, &back))
			assert.Equal(t, role, back.Role)
		})
	}
}

func TestRoleJSONRefusesWhatIsNotARole(t *testing.T) {
	for _, role := range []sessionauth.Role{sessionauth.NoRole, sessionauth.Role(4), sessionauth.Role(255)} {
		_, err := json.Marshal(struct{ Role sessionauth.Role }{role})
		assert.ErrorIs(t, err, sessionauth.ErrUnknownRole, "encoding %v", role)
	}
	for _, in := range []string{`{"role":""}`, `{"role":"superuser"}`, `{"role":"none"}`, `{"role":3}`} {
		var v struct {
			Role sessionauth.Role `json:"role"`
		}
		err := json.Unmarshal([]byte(in), &v)
		assert.Error(t, err, "decoding %s", in)
		assert.Equal(t, sessionauth.NoRole, v.Role, "decoding %s", in)
	}
}

func TestRoleOmitemptyLeavesNoRoleOut(t *testing.T) {
	data, err := json.Marshal(struct {
		Role sessionauth.Role `json:"role,omitempty"`
	}{})
	require.NoError(t, err)
	assert.Equal(t, `{}`, string(data))
}

func TestRoleAtLeastOverEveryPair(t *testing.T) {
	const (
		none = sessionauth.NoRole
		dev  = sessionauth.RoleDeveloper
		adm  = sessionauth.RoleAdmin
		own  = sessionauth.RoleOwner
		bad  = sessionauth.Role(7)
	)
	tests := []struct {
		held, required sessionauth.Role
		want           bool
	}{
		{dev, dev, true}, {dev, adm, false}, {dev, own, false},
		{adm, dev, true}, {adm, adm, true}, {adm, own, false},
		{own, dev, true}, {own, adm, true}, {own, own, true},
		{none, dev, false}, {none, adm, false}, {none, own, false},
		// A check against something that is not a role fails closed.
		{none, none, false}, {own, none, false}, {bad, dev, false}, {bad, own, false}, {own, bad, false},
	}
	for _, tt := range tests {
		t.Run(tt.held.String()+"/"+tt.required.String(), func(t *testing.T) {
			assert.Equal(t, tt.want, tt.held.AtLeast(tt.required))
		})
	}
}

// roleWorld is a server with organizations acme (projects acme-api and
// acme-web) and globex (project globex-app), routes guarded by RequireRole,
// and a way to sign users in.
type roleWorld struct {
	m      *sessionauth.Manager
	access *memaccess.Access
	srv    *httptest.Server
	logs   *lockedBuffer
}

func newRoleWorld(t *testing.T, resolver sessionauth.AccessResolver) *roleWorld {
	t.Helper()
	access := memaccess.New()
	require.NoError(t, access.AddOrganization("acme", "Acme"))
	require.NoError(t, access.AddOrganization("globex", "Globex"))
	require.NoError(t, access.AddProject("acme-api", "API", "acme"))
	require.NoError(t, access.AddProject("acme-web", "Web", "acme"))
	require.NoError(t, access.AddProject("globex-app", "App", "globex"))
	if resolver == nil {
		resolver = access
	}

	store := memstore.New(memstore.Config{})
	t.Cleanup(func() { store.Close() })
	logs := &lockedBuffer{}
	m, err := sessionauth.New(sessionauth.Config{
		Store:  store,
		Access: resolver,
		Logger: slog.New(slog.NewTextHandler(logs, nil)),
	})
	require.NoError(t, err)

	granted := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, ok := sessionauth.FromContext(r.Context())
		if !ok {
			http.Error(w, "no session in context", http.StatusInternalServerError)
			return
		}
		g, ok := sessionauth.GrantFromContext(r.Context())
		if !ok {
			http.Error(w, "no grant in context", http.StatusInternalServerError)
			return
		}
		fmt.Fprintf(w, "%s %s %s", s.UserID, g.Role, g.ProjectID)
	})
	mux := http.NewServeMux()
	for _, role := range []sessionauth.Role{sessionauth.RoleDeveloper, sessionauth.RoleAdmin, sessionauth.RoleOwner} {
		mux.Handle("GET /projects/{projectID}/"+role.String(),
			m.RequireRole(role, sessionauth.ProjectFromPath("projectID"))(granted))
	}
	mux.Handle("GET /keys", m.RequireRole(sessionauth.RoleDeveloper, sessionauth.ProjectFromQuery("projectId"))(granted))
	mux.Handle("GET /inside-require/{projectID}",
		m.Require(m.RequireRole(sessionauth.RoleAdmin, sessionauth.ProjectFromPath("projectID"))(granted)))
	mux.Handle("GET /inside-optional/{projectID}",
		m.Optional(m.RequireRole(sessionauth.RoleAdmin, sessionauth.ProjectFromPath("projectID"))(granted)))
	// The function form: the project comes from the body.
	mux.Handle("POST /keys", m.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			ProjectID string `json:"projectId"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		role, err := m.Authorize(r.Context(), body.ProjectID, sessionauth.RoleDeveloper)
		if err != nil {
			m.Error(w, r, err)
			return
		}
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, "created in %s as %s", body.ProjectID, role)
	})))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &roleWorld{m: m, access: access, srv: srv, logs: logs}
}

// signIn creates a session for userID and returns its token.
func (w *roleWorld) signIn(t *testing.T, userID string) string {
	t.Helper()
	token, _, err := w.m.Create(context.Background(), userID, sessionauth.Metadata{})
	require.NoError(t, err)
	return token
}

type roleReply struct {
	status    int
	body      string
	challenge string
}

// send makes a request to the world's server with token as bearer token
// (none if empty) and returns the answer.
func (w *roleWorld) send(t *testing.T, method, path, token, body string, header http.Header) roleReply {
	t.Helper()
	req, err := http.NewRequest(method, w.srv.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	for k, v := range header {
		req.Header[k] = v
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := w.srv.Client().Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	if res.StatusCode >= 400 {
		assert.Equal(t, "application/json", res.Header.Get("Content-Type"), "error responses are JSON")
	}
	return roleReply{status: res.StatusCode, body: string(data), challenge: res.Header.Get("WWW-Authenticate")}
}

func (w *roleWorld) get(t *testing.T, path, token string) roleReply {
	t.Helper()
	return w.send(t, http.MethodGet, path, token, "", nil)
}

func TestRequireRoleOverEveryHeldAndRequiredRole(t *testing.T) {
	const (
		dev = sessionauth.RoleDeveloper
		adm = sessionauth.RoleAdmin
		own = sessionauth.RoleOwner
	)
	tests := []struct {
		held, required sessionauth.Role
		want           int
	}{
		{dev, dev, http.StatusOK}, {dev, adm, http.StatusForbidden}, {dev, own, http.StatusForbidden},
		{adm, dev, http.StatusOK}, {adm, adm, http.StatusOK}, {adm, own, http.StatusForbidden},
		{own, dev, http.StatusOK}, {own, adm, http.StatusOK}, {own, own, http.StatusOK},
	}
	for _, level := range []string{"organization", "project"} {
		for _, tt := range tests {
			t.Run(fmt.Sprintf("%s %s needs %s", level, tt.held, tt.required), func(t *testing.T) {
				w := newRoleWorld(t, nil)
				if level == "organization" {
					require.NoError(t, w.access.SetOrgRole("acme", "u1", tt.held))
				} else {
					require.NoError(t, w.access.SetProjectRole("acme-api", "u1", tt.held))
				}
				token := w.signIn(t, "u1")

				got := w.get(t, "/projects/acme-api/"+tt.required.String(), token)
				assert.Equal(t, tt.want, got.status)
				if tt.want == http.StatusOK {
					assert.Equal(t, "u1 "+tt.held.String()+" acme-api", got.body, "the handler sees the held role, not the required one")
				} else {
					assert.Equal(t, sessionauth.BodyForbidden, got.body)
					assert.Empty(t, got.challenge, "a 403 is not an authentication challenge")
				}
			})
		}
	}
}

func TestRequireRoleRefusesProjectsWithoutAccess(t *testing.T) {
	// Where member is set, the user owns organization acme: every path
	// below still names no project of acme's that the user can reach.
	tests := []struct {
		name   string
		member bool
		path   string
	}{
		{"no membership at all", false, "/projects/acme-api/developer"},
		{"a project of another organization", true, "/projects/globex-app/developer"},
		{"an unknown project", true, "/projects/nope/developer"},
		{"an organization ID as project", true, "/projects/acme/developer"},
		{"an empty query parameter", true, "/keys?projectId="},
		{"a missing query parameter", true, "/keys"},
		{"a repeated query parameter", true, "/keys?projectId=acme-api&projectId=globex-app"},
		{"a repeated query parameter, other order", true, "/keys?projectId=globex-app&projectId=acme-api"},
		{"a query parameter of another case", true, "/keys?projectid=acme-api"},
		{"an unparsable query", true, "/keys?projectId=acme-api&x=%zz"},
		{"an overlong project ID", true, "/projects/" + strings.Repeat("a", sessionauth.MaxProjectIDLength+1) + "/developer"},
		{"a control character", true, "/projects/acme-api%0A/developer"},
		{"invalid UTF-8", true, "/projects/acme-api%FF/developer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newRoleWorld(t, nil)
			if tt.member {
				require.NoError(t, w.access.SetOrgRole("acme", "u1", sessionauth.RoleOwner))
			}
			got := w.get(t, tt.path, w.signIn(t, "u1"))
			assert.Equal(t, http.StatusForbidden, got.status)
			assert.Equal(t, sessionauth.BodyForbidden, got.body)
		})
	}
}

func TestRequireRoleReadsTheQueryParameter(t *testing.T) {
	w := newRoleWorld(t, nil)
	require.NoError(t, w.access.SetProjectRole("acme-web", "u1", sessionauth.RoleDeveloper))
	token := w.signIn(t, "u1")

	got := w.get(t, "/keys?projectId=acme-web", token)
	assert.Equal(t, http.StatusOK, got.status)
	assert.Equal(t, "u1 developer acme-web", got.body)
}

func TestRequireRoleWithoutValidSessionIs401(t *testing.T) {
	w := newRoleWorld(t, nil)
	require.NoError(t, w.access.SetOrgRole("acme", "u1", sessionauth.RoleOwner))
	token := w.signIn(t, "u1")
	revokedToken := w.signIn(t, "u1")
	s, err := w.m.Authenticate(context.Background(), revokedToken)
	require.NoError(t, err)
	require.NoError(t, w.m.Revoke(context.Background(), s))

	tests := []struct {
		name, path, token, challenge string
	}{
		{"no token", "/projects/acme-api/developer", "", "Bearer"},
		{"no token, unknown project", "/projects/nope/owner", "", "Bearer"},
		{"unknown token", "/projects/acme-api/developer", strings.Repeat("A", 43), `Bearer error="invalid_token"`},
		{"revoked token", "/projects/acme-api/developer", revokedToken, `Bearer error="invalid_token"`},
		{"no token, query form", "/keys?projectId=acme-api", "", "Bearer"},
		{"no token behind Optional", "/inside-optional/acme-api", "", "Bearer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := w.get(t, tt.path, tt.token)
			assert.Equal(t, http.StatusUnauthorized, got.status)
			assert.Equal(t, sessionauth.BodyUnauthorized, got.body)
			assert.Equal(t, tt.challenge, got.challenge)
		})
	}
	// The same routes pass with the valid token, so the 401s above are the
	// token's doing.
	assert.Equal(t, http.StatusOK, w.get(t, "/projects/acme-api/developer", token).status)
	assert.Equal(t, http.StatusOK, w.get(t, "/inside-optional/acme-api", token).status)
}

func TestRequireRoleInsideRequireUsesItsSession(t *testing.T) {
	w := newRoleWorld(t, nil)
	require.NoError(t, w.access.SetOrgRole("acme", "admin1", sessionauth.RoleAdmin))
	require.NoError(t, w.access.SetOrgRole("acme", "dev1", sessionauth.RoleDeveloper))

	assert.Equal(t, roleReply{status: http.StatusOK, body: "admin1 admin acme-api"},
		w.get(t, "/inside-require/acme-api", w.signIn(t, "admin1")))
	got := w.get(t, "/inside-require/acme-api", w.signIn(t, "dev1"))
	assert.Equal(t, http.StatusForbidden, got.status)
	assert.Equal(t, sessionauth.BodyForbidden, got.body)
}

func TestRoleChangesTakeEffectOnTheNextRequest(t *testing.T) {
	w := newRoleWorld(t, nil)
	token := w.signIn(t, "u1")
	const path = "/projects/acme-api/admin"
	steps := []struct {
		name   string
		change func() error
		want   int
	}{
		{"no membership yet", func() error { return nil }, http.StatusForbidden},
		{"made developer of the organization", func() error { return w.access.SetOrgRole("acme", "u1", sessionauth.RoleDeveloper) }, http.StatusForbidden},
		{"made admin of the project", func() error { return w.access.SetProjectRole("acme-api", "u1", sessionauth.RoleAdmin) }, http.StatusOK},
		{"project role withdrawn", func() error { return w.access.SetProjectRole("acme-api", "u1", sessionauth.NoRole) }, http.StatusForbidden},
		{"promoted to owner of the organization", func() error { return w.access.SetOrgRole("acme", "u1", sessionauth.RoleOwner) }, http.StatusOK},
		{"demoted to developer", func() error { return w.access.SetOrgRole("acme", "u1", sessionauth.RoleDeveloper) }, http.StatusForbidden},
		{"made owner again", func() error { return w.access.SetOrgRole("acme", "u1", sessionauth.RoleOwner) }, http.StatusOK},
		{"removed as a user", func() error { w.access.RemoveUser("u1"); return nil }, http.StatusForbidden},
	}
	for _, step := range steps {
		require.NoError(t, step.change(), step.name)
		assert.Equal(t, step.want, w.get(t, path, token).status, step.name)
	}
}

func TestRequireRoleIgnoresEverythingButTokenAndProject(t *testing.T) {
	w := newRoleWorld(t, nil)
	require.NoError(t, w.access.SetOrgRole("acme", "dev1", sessionauth.RoleDeveloper))
	require.NoError(t, w.access.SetOrgRole("acme", "boss", sessionauth.RoleOwner))
	token := w.signIn(t, "dev1")

	spoof := http.Header{
		"X-User-Id":       {"boss"},
		"X-Role":          {"owner"},
		"X-Forwarded-For": {"127.0.0.1"},
		"Cookie":          {"role=owner; user=boss"},
	}
	got := w.send(t, http.MethodGet, "/projects/acme-api/owner?role=owner&userId=boss&projectId=acme-web", token, "", spoof)
	assert.Equal(t, http.StatusForbidden, got.status)
	assert.Equal(t, sessionauth.BodyForbidden, got.body)
}

func TestAuthorizeFromTheBody(t *testing.T) {
	w := newRoleWorld(t, nil)
	require.NoError(t, w.access.SetProjectRole("acme-api", "dev1", sessionauth.RoleDeveloper))
	token := w.signIn(t, "dev1")

	tests := []struct {
		body, token string
		status      int
		want        string
	}{
		{`{"projectId":"acme-api"}`, token, http.StatusCreated, "created in acme-api as developer"},
		{`{"projectId":"acme-web"}`, token, http.StatusForbidden, sessionauth.BodyForbidden},
		{`{"projectId":"globex-app"}`, token, http.StatusForbidden, sessionauth.BodyForbidden},
		{`{"projectId":""}`, token, http.StatusForbidden, sessionauth.BodyForbidden},
		{`{}`, token, http.StatusForbidden, sessionauth.BodyForbidden},
		{`{"projectId":"acme-api"}`, "", http.StatusUnauthorized, sessionauth.BodyUnauthorized},
	}
	for _, tt := range tests {
		got := w.send(t, http.MethodPost, "/keys", tt.token, tt.body, nil)
		assert.Equal(t, tt.status, got.status, tt.body)
		assert.Equal(t, tt.want, got.body, tt.body)
	}
}

func TestResolverFailureIs503NotAPassNorASignOut(t *testing.T) {
	cause := errors.New("access database unreachable")
	w := newRoleWorld(t, sessionauth.AccessResolverFunc(func(context.Context, string, string) (sessionauth.Role, error) {
		return sessionauth.RoleOwner, cause // the role must be ignored
	}))
	token := w.signIn(t, "u1")

	for _, path := range []string{"/projects/acme-api/developer", "/keys?projectId=acme-api", "/inside-require/acme-api"} {
		got := w.get(t, path, token)
		assert.Equal(t, http.StatusServiceUnavailable, got.status, path)
		assert.Equal(t, sessionauth.BodyUnavailable, got.body, path)
	}
	got := w.send(t, http.MethodPost, "/keys", token, `{"projectId":"acme-api"}`, nil)
	assert.Equal(t, http.StatusServiceUnavailable, got.status)
	assert.Contains(t, w.logs.String(), cause.Error(), "the cause is logged for the operator")
	assert.NotContains(t, w.logs.String(), token)
}

// brokenRoleStore is a session store whose every call fails.
type brokenRoleStore struct{}

var errRoleStoreDown = errors.New("store down")

func (brokenRoleStore) Find(string) ([]byte, bool, error)      { return nil, false, errRoleStoreDown }
func (brokenRoleStore) Commit(string, []byte, time.Time) error { return errRoleStoreDown }
func (brokenRoleStore) Delete(string) error                    { return errRoleStoreDown }

func TestRequireRoleStoreFailureIs503(t *testing.T) {
	access := memaccess.New()
	m, err := sessionauth.New(sessionauth.Config{
		Store:  brokenRoleStore{},
		Access: access,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	require.NoError(t, err)
	h := m.RequireRole(sessionauth.RoleDeveloper, sessionauth.ProjectFromPath("projectID"))(
		http.HandlerFunc(func(http.ResponseWriter, *http.Request) { t.Error("the handler must not run") }))

	req := httptest.NewRequest(http.MethodGet, "/projects/p1", nil)
	req.SetPathValue("projectID", "p1")
	req.Header.Set("Authorization", "Bearer "+strings.Repeat("A", sessionauth.TokenLength))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
	assert.Equal(t, sessionauth.BodyUnavailable, rec.Body.String())
}

func TestAuthorizeErrors(t *testing.T) {
	access := memaccess.New()
	require.NoError(t, access.AddOrganization("acme", "Acme"))
	require.NoError(t, access.AddProject("p1", "P1", "acme"))
	require.NoError(t, access.SetProjectRole("p1", "u1", sessionauth.RoleAdmin))
	cause := errors.New("connection refused")

	tests := []struct {
		name      string
		resolver  sessionauth.AccessResolver // nil: Config.Access unset
		session   bool
		projectID string
		required  sessionauth.Role
		wantRole  sessionauth.Role
		wantErr   error // nil for success; checked with errors.Is
		status    int   // StatusCode of the error
		asked     bool  // the resolver was consulted
	}{
		{"granted", access, true, "p1", sessionauth.RoleDeveloper, sessionauth.RoleAdmin, nil, 0, true},
		{"role too low", access, true, "p1", sessionauth.RoleOwner, sessionauth.NoRole, sessionauth.ErrForbidden, 403, true},
		{"no membership", access, true, "p2", sessionauth.RoleDeveloper, sessionauth.NoRole, sessionauth.ErrForbidden, 403, true},
		{"no session", access, false, "p1", sessionauth.RoleDeveloper, sessionauth.NoRole, sessionauth.ErrNoToken, 401, false},
		{"empty project", access, true, "", sessionauth.RoleDeveloper, sessionauth.NoRole, sessionauth.ErrForbidden, 403, false},
		{"overlong project", access, true, strings.Repeat("p", sessionauth.MaxProjectIDLength+1), sessionauth.RoleDeveloper, sessionauth.NoRole, sessionauth.ErrForbidden, 403, false},
		{"NUL in project", access, true, "p1\x00", sessionauth.RoleDeveloper, sessionauth.NoRole, sessionauth.ErrForbidden, 403, false},
		{"invalid UTF-8 project", access, true, "p1\xff", sessionauth.RoleDeveloper, sessionauth.NoRole, sessionauth.ErrForbidden, 403, false},
		{"resolver says forbidden", resolverReturning(sessionauth.RoleOwner, fmt.Errorf("hidden: %w", sessionauth.ErrForbidden)), true, "p1", sessionauth.RoleDeveloper, sessionauth.NoRole, sessionauth.ErrForbidden, 403, true},
		{"resolver fails", resolverReturning(sessionauth.RoleOwner, cause), true, "p1", sessionauth.RoleDeveloper, sessionauth.NoRole, cause, 503, true},
		{"resolver times out", resolverReturning(sessionauth.NoRole, context.DeadlineExceeded), true, "p1", sessionauth.RoleDeveloper, sessionauth.NoRole, sessionauth.ErrUnavailable, 503, true},
		{"resolver returns a non-role", resolverReturning(sessionauth.Role(42), nil), true, "p1", sessionauth.RoleDeveloper, sessionauth.NoRole, nil, 500, true},
		{"required is NoRole", access, true, "p1", sessionauth.NoRole, sessionauth.NoRole, nil, 500, false},
		{"required is not a role", access, true, "p1", sessionauth.Role(9), sessionauth.NoRole, nil, 500, false},
		{"no resolver configured", nil, true, "p1", sessionauth.RoleDeveloper, sessionauth.NoRole, nil, 500, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var asked bool
			var cfg sessionauth.Config
			cfg.Store = memstore.New(memstore.Config{})
			t.Cleanup(func() { cfg.Store.(*memstore.Store).Close() })
			if tt.resolver != nil {
				cfg.Access = sessionauth.AccessResolverFunc(func(ctx context.Context, userID, projectID string) (sessionauth.Role, error) {
					asked = true
					assert.Equal(t, "u1", userID)
					assert.Equal(t, tt.projectID, projectID)
					return tt.resolver.Role(ctx, userID, projectID)
				})
			}
			m, err := sessionauth.New(cfg)
			require.NoError(t, err)
			ctx := context.Background()
			if tt.session {
				ctx = sessionauth.NewContext(ctx, &sessionauth.Session{ID: "s1", UserID: "u1"})
			}

			role, err := m.Authorize(ctx, tt.projectID, tt.required)
			assert.Equal(t, tt.wantRole, role)
			assert.Equal(t, tt.asked, asked, "resolver consulted")
			if tt.status == 0 {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Equal(t, tt.status, sessionauth.StatusCode(err))
			if tt.wantErr != nil {
				assert.ErrorIs(t, err, tt.wantErr)
			}
			if tt.status != http.StatusServiceUnavailable {
				assert.NotErrorIs(t, err, sessionauth.ErrUnavailable)
			}
		})
	}
}

func resolverReturning(r sessionauth.Role, err error) sessionauth.AccessResolver {
	return sessionauth.AccessResolverFunc(func(context.Context, string, string) (sessionauth.Role, error) { return r, err })
}

func TestRequireRolePanicsOnMistakesWhenRoutesAreBuilt(t *testing.T) {
	store := memstore.New(memstore.Config{})
	t.Cleanup(func() { store.Close() })
	withAccess, err := sessionauth.New(sessionauth.Config{Store: store, Access: memaccess.New()})
	require.NoError(t, err)
	withoutAccess, err := sessionauth.New(sessionauth.Config{Store: store})
	require.NoError(t, err)
	fromPath := sessionauth.ProjectFromPath("projectID")

	tests := []struct {
		name     string
		m        *sessionauth.Manager
		required sessionauth.Role
		project  sessionauth.ProjectFunc
	}{
		{"NoRole required", withAccess, sessionauth.NoRole, fromPath},
		{"a value that is not a role", withAccess, sessionauth.Role(4), fromPath},
		{"nil ProjectFunc", withAccess, sessionauth.RoleAdmin, nil},
		{"no Config.Access", withoutAccess, sessionauth.RoleAdmin, fromPath},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Panics(t, func() { tt.m.RequireRole(tt.required, tt.project) })
		})
	}
	assert.NotPanics(t, func() { withAccess.RequireRole(sessionauth.RoleOwner, fromPath) })
}

func TestGrantFromContextWithoutRequireRole(t *testing.T) {
	_, ok := sessionauth.GrantFromContext(context.Background())
	assert.False(t, ok)
}

// RequireRole guards a route by the caller's role on the project named in the
// path; the handler learns the role it was granted.
func ExampleManager_RequireRole() {
	access := memaccess.New()
	_ = access.AddOrganization("acme", "Acme")
	_ = access.AddProject("api", "Public API", "acme")
	_ = access.SetOrgRole("acme", "alice", sessionauth.RoleOwner)
	_ = access.SetProjectRole("api", "bob", sessionauth.RoleDeveloper)

	store := memstore.New(memstore.Config{})
	defer store.Close()
	m, err := sessionauth.New(sessionauth.Config{Store: store, Access: access})
	if err != nil {
		panic(err)
	}

	mux := http.NewServeMux()
	mux.Handle("DELETE /projects/{projectID}/keys/{keyID}",
		m.RequireRole(sessionauth.RoleAdmin, sessionauth.ProjectFromPath("projectID"))(
			http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				g, _ := sessionauth.GrantFromContext(r.Context())
				fmt.Fprintf(w, "key %s of %s deleted by an %s", r.PathValue("keyID"), g.ProjectID, g.Role)
			})))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	for _, user := range []string{"alice", "bob"} {
		token, _, _ := m.Create(context.Background(), user, sessionauth.Metadata{})
		req, _ := http.NewRequest(http.MethodDelete, srv.URL+"/projects/api/keys/k1", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		fmt.Println(user, res.StatusCode, string(body))
	}
	// Output:
	// alice 200 key k1 of api deleted by an owner
	// bob 403 {"message":"You don't have access to this project"}
}

// Authorize is the form for handlers that learn the project from the body.
func ExampleManager_Authorize() {
	access := memaccess.New()
	_ = access.AddOrganization("acme", "Acme")
	_ = access.AddProject("api", "Public API", "acme")
	_ = access.SetProjectRole("api", "bob", sessionauth.RoleDeveloper)

	store := memstore.New(memstore.Config{})
	defer store.Close()
	m, err := sessionauth.New(sessionauth.Config{Store: store, Access: access})
	if err != nil {
		panic(err)
	}

	createKey := func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			ProjectID string `json:"projectId"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		if _, err := m.Authorize(r.Context(), body.ProjectID, sessionauth.RoleDeveloper); err != nil {
			m.Error(w, r, err)
			return
		}
		w.WriteHeader(http.StatusCreated)
		fmt.Fprint(w, "created")
	}

	s := &sessionauth.Session{UserID: "bob"} // as Require would find it
	for _, body := range []string{`{"projectId":"api"}`, `{"projectId":"other"}`} {
		req := httptest.NewRequest(http.MethodPost, "/keys/api", strings.NewReader(body))
		req = req.WithContext(sessionauth.NewContext(req.Context(), s))
		rec := httptest.NewRecorder()
		createKey(rec, req)
		fmt.Println(rec.Code, rec.Body.String())
	}
	// Output:
	// 201 created
	// 403 {"message":"You don't have access to this project"}
}

func ExampleParseRole() {
	for _, s := range []string{"admin", "Owner", "superuser"} {
		role, err := sessionauth.ParseRole(s)
		fmt.Println(role, err, role.AtLeast(sessionauth.RoleAdmin))
	}
	// Output:
	// admin <nil> true
	// owner <nil> true
	// none sessionauth: unknown role "superuser" false
}
