package sessionauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"
)

// AccessResolver tells which role a user holds on a project. The application
// implements it over its own data and sets it as Config.Access; Authorize and
// RequireRole ask it on every request and never cache the answer, so a role
// granted or withdrawn in the application holds from the next request on.
//
// Role returns NoRole and a nil error when the user has no access, including
// when the project does not exist: the caller then answers 403 either way,
// and a client cannot tell a hidden project from a missing one. An error
// wrapping ErrForbidden means the same. Any other error means the answer is
// unknown (a database outage, a cancelled context): the request fails with
// ErrUnavailable, a 503, never a pass. Role must be safe for concurrent use.
//
// memaccess.Access (package access/memaccess) is a ready in-memory
// implementation. An application that keeps memberships in SQL, with a role
// on an organization applying to all its projects and a role on a single
// project able to raise it there, can answer with one query and take the
// higher of the two roles:
//
//	-- organizations(id), projects(id, organization_id),
//	-- org_members(organization_id, user_id, role),
//	-- project_members(project_id, user_id, role)
//	SELECT om.role, pm.role
//	FROM projects p
//	LEFT JOIN org_members om ON om.organization_id = p.organization_id AND om.user_id = $1
//	LEFT JOIN project_members pm ON pm.project_id = p.id AND pm.user_id = $1
//	WHERE p.id = $2
//
// No row, or two NULLs, is NoRole. Parse each non-NULL role with ParseRole
// and return the higher: a stored role this package does not know is an
// error, not a guess.
type AccessResolver interface {
	Role(ctx context.Context, userID, projectID string) (Role, error)
}

// AccessResolverFunc adapts a function to an AccessResolver.
type AccessResolverFunc func(ctx context.Context, userID, projectID string) (Role, error)

// Role calls f(ctx, userID, projectID).
func (f AccessResolverFunc) Role(ctx context.Context, userID, projectID string) (Role, error) {
	return f(ctx, userID, projectID)
}

// MaxProjectIDLength is the longest project ID, in bytes, that Authorize and
// RequireRole pass to the AccessResolver. A longer one is refused with
// ErrForbidden, as are empty IDs, invalid UTF-8 and control characters: no
// application issues such IDs, and a client must not be able to make the
// resolver's database fail (a 503) by sending one.
const MaxProjectIDLength = 256

// ValidProjectID reports whether id could name a project: 1 to
// MaxProjectIDLength bytes of UTF-8 without control characters. Authorize
// refuses any other ID (403) without asking the AccessResolver, so a
// resolver that stores projects should refuse to create one.
func ValidProjectID(id string) bool {
	return id != "" && len(id) <= MaxProjectIDLength && utf8.ValidString(id) && !strings.ContainsFunc(id, isCTL)
}

// isCTL reports whether r is an ASCII control character. In valid UTF-8 no
// byte of a longer character is one, so it also serves byte by byte.
func isCTL(r rune) bool { return r < 0x20 || r == 0x7f }

// Authorize answers "may the session in ctx act on projectID with at least
// the required role?" for handlers that learn the project from the request
// body or their own data. It returns the session's role on the project, or
//
//   - ErrNoToken (a 401) when ctx carries no session: the handler is not
//     behind Require, or is behind Optional and the request is anonymous;
//   - ErrForbidden (a 403) when the user has no access to the project, the
//     project does not exist, projectID is empty or not a plausible ID (see
//     MaxProjectIDLength), or the role is below required;
//   - ErrUnavailable (a 503) wrapping the resolver's error;
//   - another error (a 500) when Config.Access is not set, required is not a
//     role, or the resolver returns a value that is not a role.
//
// Only the session's user ID and projectID decide: nothing else in the
// request is consulted. Answer a failure with m.Error:
//
//	role, err := m.Authorize(r.Context(), body.ProjectID, sessionauth.RoleDeveloper)
//	if err != nil {
//		m.Error(w, r, err)
//		return
//	}
func (m *Manager) Authorize(ctx context.Context, projectID string, required Role) (Role, error) {
	s, ok := FromContext(ctx)
	if !ok {
		return NoRole, ErrNoToken
	}
	return m.authorize(ctx, nil, s, projectID, required)
}

// authorize is Authorize and RequireRole for session s, which report every
// 403 as an audit event. A project ID that is not plausible is left out of
// it: it came from the client and could be anything, of any length.
func (m *Manager) authorize(ctx context.Context, r *http.Request, s *Session, projectID string, required Role) (Role, error) {
	role, err := m.roleAtLeast(ctx, s, projectID, required)
	if errors.Is(err, ErrForbidden) {
		if !ValidProjectID(projectID) {
			projectID = ""
		}
		m.reportOn(ctx, r, s, Event{Kind: EventAccessDenied, ProjectID: projectID, Role: required.String()})
	}
	return role, err
}

// roleAtLeast returns the role of s on projectID if it is at least required.
func (m *Manager) roleAtLeast(ctx context.Context, s *Session, projectID string, required Role) (Role, error) {
	if !required.Valid() {
		return NoRole, fmt.Errorf("sessionauth: required role %v is not a role", required)
	}
	if m.access == nil {
		return NoRole, errors.New("sessionauth: Config.Access is not set")
	}
	if !ValidProjectID(projectID) {
		return NoRole, ErrForbidden
	}
	role, isDev := m.dev.roleOn(s, projectID)
	if !isDev {
		var err error
		role, err = m.access.Role(ctx, s.UserID, projectID)
		switch {
		case errors.Is(err, ErrForbidden):
			return NoRole, ErrForbidden
		case err != nil:
			return NoRole, fmt.Errorf("%w: access resolver: %w", ErrUnavailable, err)
		case role != NoRole && !role.Valid():
			return NoRole, fmt.Errorf("sessionauth: access resolver returned %v, which is not a role", role)
		}
	}
	if !role.AtLeast(required) {
		return NoRole, ErrForbidden
	}
	return role, nil
}

// ProjectFunc returns the ID of the project a request acts on, "" if the
// request names none. RequireRole calls it after authenticating the request.
// Any func(*http.Request) string will do, e.g. one reading a router's path
// parameter:
//
//	func(r *http.Request) string { return chi.URLParam(r, "projectID") }
type ProjectFunc func(r *http.Request) string

// ProjectFromPath returns a ProjectFunc that reads the path wildcard name of
// an http.ServeMux pattern, such as "projectID" in "GET /projects/{projectID}".
func ProjectFromPath(name string) ProjectFunc {
	return func(r *http.Request) string { return r.PathValue(name) }
}

// ProjectFromQuery returns a ProjectFunc that reads the URL query parameter
// name. A query that does not parse, or that repeats the parameter, names no
// project (a 403): with two values, the check and the handler might not read
// the same one.
func ProjectFromQuery(name string) ProjectFunc {
	return func(r *http.Request) string {
		q, err := url.ParseQuery(r.URL.RawQuery)
		if v := q[name]; err == nil && len(v) == 1 {
			return v[0]
		}
		return ""
	}
}

// Grant is what RequireRole established for a request: the project it acts
// on and the session's role there, which may be higher than the one required.
type Grant struct {
	ProjectID string
	Role      Role
}

// RequireRole returns middleware that lets a request through only if its
// session holds at least the required role on the project that project names.
// It authenticates the request itself unless Require or Optional already put
// a session in the context, so it needs no other middleware, and the handler
// finds the session with FromContext and the role with GrantFromContext.
// Rejections are those of Require and Authorize, answered with m.Error: 401
// {"message":"Unauthorized"}, 403 {"message":"You don't have access to this
// project"} (also when the request names no project), 503 when the store or
// the resolver fails.
//
//	mux.Handle("DELETE /projects/{projectID}",
//		m.RequireRole(sessionauth.RoleOwner, sessionauth.ProjectFromPath("projectID"))(deleteProject))
//
// RequireRole panics if required is not a role, project is nil or
// Config.Access is not set: these are mistakes in the program, found when the
// routes are built rather than on a request.
func (m *Manager) RequireRole(required Role, project ProjectFunc) func(http.Handler) http.Handler {
	switch {
	case !required.Valid():
		panic(fmt.Sprintf("sessionauth: RequireRole: %v is not a role", required))
	case project == nil:
		panic("sessionauth: RequireRole: nil ProjectFunc")
	case m.access == nil:
		panic("sessionauth: RequireRole needs Config.Access")
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx := r.Context()
			s, ok := FromContext(ctx)
			if !ok {
				var err error
				if s, err = m.authenticateRequest(r, true); err != nil {
					m.Error(w, r, err)
					return
				}
			}
			projectID := project(r)
			role, err := m.authorize(ctx, r, s, projectID, required)
			if err != nil {
				m.Error(w, r, err)
				return
			}
			next.ServeHTTP(w, withGrant(r, s, Grant{ProjectID: projectID, Role: role}))
		})
	}
}
