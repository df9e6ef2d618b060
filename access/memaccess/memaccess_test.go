package memaccess_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionauth/sessionauth"
	"github.com/sessionauth/sessionauth/access/memaccess"
)

// newAcmeGlobex returns an Access with organizations acme (projects
// acme-api, acme-web) and globex (project globex-app), and no members.
func newAcmeGlobex(t *testing.T) *memaccess.Access {
	t.Helper()
	a := memaccess.New()
	require.NoError(t, a.AddOrganization("acme", "Acme"))
	require.NoError(t, a.AddOrganization("globex", "Globex"))
	require.NoError(t, a.AddProject("acme-api", "API", "acme"))
	require.NoError(t, a.AddProject("acme-web", "Web", "acme"))
	require.NoError(t, a.AddProject("globex-app", "App", "globex"))
	return a
}

func roleOf(t *testing.T, a *memaccess.Access, userID, projectID string) sessionauth.Role {
	t.Helper()
	r, err := a.Role(context.Background(), userID, projectID)
	require.NoError(t, err)
	return r
}

func TestEffectiveRoleIsTheHigherOfOrgAndProject(t *testing.T) {
	const (
		none = sessionauth.NoRole
		dev  = sessionauth.RoleDeveloper
		adm  = sessionauth.RoleAdmin
		own  = sessionauth.RoleOwner
	)
	tests := []struct {
		org, project, want sessionauth.Role
	}{
		{none, none, none},
		{dev, none, dev}, {adm, none, adm}, {own, none, own},
		{none, dev, dev}, {none, adm, adm}, {none, own, own},
		{dev, adm, adm}, {dev, own, own}, {adm, own, own},
		// A project role never lowers what the organization grants.
		{own, dev, own}, {adm, dev, adm}, {own, adm, own},
		{adm, adm, adm},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("org %s project %s", tt.org, tt.project), func(t *testing.T) {
			a := newAcmeGlobex(t)
			require.NoError(t, a.SetOrgRole("acme", "u1", tt.org))
			require.NoError(t, a.SetProjectRole("acme-api", "u1", tt.project))

			assert.Equal(t, tt.want, roleOf(t, a, "u1", "acme-api"))
			assert.Equal(t, tt.org, roleOf(t, a, "u1", "acme-web"), "a project role stays on its project")
			assert.Equal(t, none, roleOf(t, a, "u1", "globex-app"), "roles stay in their organization")
		})
	}
}

func TestWithoutAccessIsNoRole(t *testing.T) {
	a := newAcmeGlobex(t)
	require.NoError(t, a.SetOrgRole("acme", "u1", sessionauth.RoleOwner))
	require.NoError(t, a.SetProjectRole("globex-app", "u2", sessionauth.RoleOwner))

	tests := []struct{ name, user, project string }{
		{"user with no membership", "stranger", "acme-api"},
		{"project of another organization", "u1", "globex-app"},
		{"unknown project", "u1", "nope"},
		{"organization ID used as project ID", "u1", "acme"},
		{"empty project ID", "u1", ""},
		{"empty user ID", "", "acme-api"},
		{"another project of a project member's organization", "u2", "acme-api"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, sessionauth.NoRole, roleOf(t, a, tt.user, tt.project))
		})
	}
}

func TestProjectsListsAccessibleProjectsWithEffectiveRoles(t *testing.T) {
	a := newAcmeGlobex(t)
	require.NoError(t, a.AddProject("acme-docs", "Docs", "acme"))
	require.NoError(t, a.SetOrgRole("acme", "u1", sessionauth.RoleDeveloper))
	require.NoError(t, a.SetProjectRole("acme-web", "u1", sessionauth.RoleAdmin))
	require.NoError(t, a.SetProjectRole("globex-app", "u1", sessionauth.RoleOwner))
	require.NoError(t, a.SetOrgRole("globex", "u2", sessionauth.RoleAdmin))

	want := []memaccess.ProjectRole{
		{Project: memaccess.Project{ID: "acme-api", Name: "API", OrganizationID: "acme"}, Role: sessionauth.RoleDeveloper},
		{Project: memaccess.Project{ID: "acme-docs", Name: "Docs", OrganizationID: "acme"}, Role: sessionauth.RoleDeveloper},
		{Project: memaccess.Project{ID: "acme-web", Name: "Web", OrganizationID: "acme"}, Role: sessionauth.RoleAdmin},
		{Project: memaccess.Project{ID: "globex-app", Name: "App", OrganizationID: "globex"}, Role: sessionauth.RoleOwner},
	}
	assert.Equal(t, want, a.Projects("u1"))
	assert.Equal(t, []memaccess.ProjectRole{
		{Project: memaccess.Project{ID: "globex-app", Name: "App", OrganizationID: "globex"}, Role: sessionauth.RoleAdmin},
	}, a.Projects("u2"))
	assert.Empty(t, a.Projects("stranger"))

	// A lower project role does not lower the listed role, whatever the
	// order in which memberships are visited.
	require.NoError(t, a.SetOrgRole("acme", "u3", sessionauth.RoleAdmin))
	require.NoError(t, a.SetProjectRole("acme-api", "u3", sessionauth.RoleDeveloper))
	require.NoError(t, a.SetProjectRole("acme-web", "u3", sessionauth.RoleDeveloper))
	for _, p := range a.Projects("u3") {
		assert.Equal(t, sessionauth.RoleAdmin, p.Role, p.ID)
	}

	// Each listed role is the one Role answers.
	for _, p := range a.Projects("u1") {
		assert.Equal(t, p.Role, roleOf(t, a, "u1", p.ID), p.ID)
	}

	// The caller owns the slice.
	got := a.Projects("u1")
	got[0].Role = sessionauth.RoleOwner
	assert.Equal(t, want, a.Projects("u1"))
}

func TestProjectRoleJSON(t *testing.T) {
	a := newAcmeGlobex(t)
	require.NoError(t, a.SetOrgRole("globex", "u1", sessionauth.RoleAdmin))

	data, err := json.Marshal(map[string]any{"projects": a.Projects("u1")})
	require.NoError(t, err)
	assert.Equal(t, `{"projects":[{"id":"globex-app","name":"App","organizationId":"globex","role":"admin"}]}`, string(data))
}

func TestProjectLookup(t *testing.T) {
	a := newAcmeGlobex(t)
	p, ok := a.Project("acme-web")
	require.True(t, ok)
	assert.Equal(t, memaccess.Project{ID: "acme-web", Name: "Web", OrganizationID: "acme"}, p)
	_, ok = a.Project("nope")
	assert.False(t, ok)
}

func TestRefusesInvalidChanges(t *testing.T) {
	a := newAcmeGlobex(t)
	tests := []struct {
		name    string
		change  func() error
		wantErr error // nil: any error
	}{
		{"project in an unknown organization", func() error { return a.AddProject("p", "P", "initech") }, memaccess.ErrUnknownOrganization},
		{"org role in an unknown organization", func() error { return a.SetOrgRole("initech", "u1", sessionauth.RoleOwner) }, memaccess.ErrUnknownOrganization},
		{"project role on an unknown project", func() error { return a.SetProjectRole("nope", "u1", sessionauth.RoleOwner) }, memaccess.ErrUnknownProject},
		{"org role that is not a role", func() error { return a.SetOrgRole("acme", "u1", sessionauth.Role(8)) }, sessionauth.ErrUnknownRole},
		{"project role that is not a role", func() error { return a.SetProjectRole("acme-api", "u1", sessionauth.Role(8)) }, sessionauth.ErrUnknownRole},
		{"empty user ID", func() error { return a.SetOrgRole("acme", "", sessionauth.RoleOwner) }, nil},
		{"empty organization ID", func() error { return a.AddOrganization("", "Nameless") }, nil},
		{"empty project ID", func() error { return a.AddProject("", "Nameless", "acme") }, nil},
		{"project ID Authorize would refuse", func() error {
			return a.AddProject(strings.Repeat("p", sessionauth.MaxProjectIDLength+1), "Long", "acme")
		}, nil},
		{"project ID with a control character", func() error { return a.AddProject("p\n", "P", "acme") }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.change()
			require.Error(t, err)
			if tt.wantErr != nil {
				assert.ErrorIs(t, err, tt.wantErr)
			}
		})
	}
	// Nothing was granted or created by the refused changes.
	assert.Empty(t, a.Projects("u1"))
	assert.Empty(t, a.Projects(""))
	_, ok := a.Project("p")
	assert.False(t, ok)
}

func TestNoRoleRemovesOnlyThatMembership(t *testing.T) {
	a := newAcmeGlobex(t)
	require.NoError(t, a.SetOrgRole("acme", "u1", sessionauth.RoleAdmin))
	require.NoError(t, a.SetProjectRole("acme-api", "u1", sessionauth.RoleOwner))
	require.NoError(t, a.SetOrgRole("acme", "u2", sessionauth.RoleDeveloper))
	require.NoError(t, a.SetProjectRole("acme-api", "u2", sessionauth.RoleOwner))

	require.NoError(t, a.SetProjectRole("acme-api", "u1", sessionauth.NoRole))
	assert.Equal(t, sessionauth.RoleAdmin, roleOf(t, a, "u1", "acme-api"), "the org role remains")
	assert.Equal(t, sessionauth.RoleOwner, roleOf(t, a, "u2", "acme-api"), "other users keep theirs")

	require.NoError(t, a.SetOrgRole("acme", "u1", sessionauth.NoRole))
	assert.Equal(t, sessionauth.NoRole, roleOf(t, a, "u1", "acme-api"))
	assert.Empty(t, a.Projects("u1"))
	assert.Equal(t, sessionauth.RoleDeveloper, roleOf(t, a, "u2", "acme-web"))

	require.NoError(t, a.SetOrgRole("acme", "never-member", sessionauth.NoRole), "removing what is not there is fine")
}

func TestRemovals(t *testing.T) {
	tests := []struct {
		name   string
		remove func(a *memaccess.Access)
		want   map[string]sessionauth.Role // u1's role per project after the removal
	}{
		{"user", func(a *memaccess.Access) { a.RemoveUser("u1") },
			map[string]sessionauth.Role{"acme-api": sessionauth.NoRole, "acme-web": sessionauth.NoRole, "globex-app": sessionauth.NoRole}},
		{"project", func(a *memaccess.Access) { a.RemoveProject("acme-api") },
			map[string]sessionauth.Role{"acme-api": sessionauth.NoRole, "acme-web": sessionauth.RoleDeveloper, "globex-app": sessionauth.RoleAdmin}},
		{"organization", func(a *memaccess.Access) { a.RemoveOrganization("acme") },
			map[string]sessionauth.Role{"acme-api": sessionauth.NoRole, "acme-web": sessionauth.NoRole, "globex-app": sessionauth.RoleAdmin}},
		{"unknown ones", func(a *memaccess.Access) {
			a.RemoveUser("nobody")
			a.RemoveProject("nope")
			a.RemoveOrganization("initech")
		}, map[string]sessionauth.Role{"acme-api": sessionauth.RoleOwner, "acme-web": sessionauth.RoleDeveloper, "globex-app": sessionauth.RoleAdmin}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newAcmeGlobex(t)
			require.NoError(t, a.SetOrgRole("acme", "u1", sessionauth.RoleDeveloper))
			require.NoError(t, a.SetProjectRole("acme-api", "u1", sessionauth.RoleOwner))
			require.NoError(t, a.SetOrgRole("globex", "u1", sessionauth.RoleAdmin))

			tt.remove(a)
			for project, want := range tt.want {
				assert.Equal(t, want, roleOf(t, a, "u1", project), project)
			}
			assert.Len(t, a.Projects("u1"), countRoles(tt.want))
		})
	}
}

func countRoles(m map[string]sessionauth.Role) int {
	n := 0
	for _, r := range m {
		if r != sessionauth.NoRole {
			n++
		}
	}
	return n
}

func TestRemovedProjectComesBackWithoutItsMembers(t *testing.T) {
	a := newAcmeGlobex(t)
	require.NoError(t, a.SetProjectRole("acme-api", "u1", sessionauth.RoleOwner))
	a.RemoveProject("acme-api")
	require.NoError(t, a.AddProject("acme-api", "API again", "acme"))
	assert.Equal(t, sessionauth.NoRole, roleOf(t, a, "u1", "acme-api"), "a new project with an old ID inherits no members")

	require.NoError(t, a.SetOrgRole("globex", "u2", sessionauth.RoleOwner))
	a.RemoveOrganization("globex")
	require.NoError(t, a.AddOrganization("globex", "Globex again"))
	require.NoError(t, a.AddProject("globex-app", "App", "globex"))
	assert.Equal(t, sessionauth.NoRole, roleOf(t, a, "u2", "globex-app"))
}

func TestAddProjectAgainRenamesAndMoves(t *testing.T) {
	a := newAcmeGlobex(t)
	require.NoError(t, a.SetOrgRole("acme", "acme-owner", sessionauth.RoleOwner))
	require.NoError(t, a.SetOrgRole("globex", "globex-dev", sessionauth.RoleDeveloper))
	require.NoError(t, a.SetProjectRole("acme-api", "guest", sessionauth.RoleAdmin))

	require.NoError(t, a.AddProject("acme-api", "API v2", "globex"))
	p, ok := a.Project("acme-api")
	require.True(t, ok)
	assert.Equal(t, memaccess.Project{ID: "acme-api", Name: "API v2", OrganizationID: "globex"}, p)
	assert.Equal(t, sessionauth.NoRole, roleOf(t, a, "acme-owner", "acme-api"), "the old organization's roles no longer apply")
	assert.Equal(t, sessionauth.RoleDeveloper, roleOf(t, a, "globex-dev", "acme-api"), "the new organization's roles apply")
	assert.Equal(t, sessionauth.RoleAdmin, roleOf(t, a, "guest", "acme-api"), "project members stay")
	assert.Len(t, a.Projects("acme-owner"), 1, "acme keeps only acme-web")

	require.NoError(t, a.AddOrganization("acme", "Acme Corp"))
	assert.Equal(t, sessionauth.RoleOwner, roleOf(t, a, "acme-owner", "acme-web"), "renaming keeps members")
}

func TestIsSafeForConcurrentUse(t *testing.T) {
	a := newAcmeGlobex(t)
	var wg sync.WaitGroup
	for i := range 4 {
		user := fmt.Sprintf("u%d", i)
		wg.Go(func() {
			for j := range 200 {
				role := sessionauth.Role(j%3 + 1)
				assert.NoError(t, a.SetOrgRole("acme", user, role))
				assert.NoError(t, a.SetProjectRole("acme-web", user, role))
				project := fmt.Sprintf("p-%s-%d", user, j)
				assert.NoError(t, a.AddProject(project, "P", "globex"))
				a.RemoveProject(project)
			}
		})
		wg.Go(func() {
			for range 200 {
				r, err := a.Role(context.Background(), user, "acme-api")
				assert.NoError(t, err)
				assert.True(t, r.Valid() || r == sessionauth.NoRole)
				for _, p := range a.Projects(user) {
					assert.True(t, p.Role.Valid(), "listed projects carry a role")
				}
				_, _ = a.Project("acme-web")
			}
		})
	}
	wg.Wait()
	for i := range 4 {
		assert.Len(t, a.Projects(fmt.Sprintf("u%d", i)), 2, "acme-api and acme-web, none of the removed projects")
	}
}

// An Access holds organizations, projects and memberships; Projects lists
// what a user can reach, ready to encode for a "GET /projects" endpoint.
func Example() {
	access := memaccess.New()
	_ = access.AddOrganization("acme", "Acme")
	_ = access.AddProject("api", "Public API", "acme")
	_ = access.AddProject("web", "Website", "acme")
	_ = access.SetOrgRole("acme", "carol", sessionauth.RoleDeveloper)
	_ = access.SetProjectRole("web", "carol", sessionauth.RoleAdmin) // raises her role on web only

	data, _ := json.Marshal(map[string]any{"projects": access.Projects("carol")})
	fmt.Println(string(data))
	// Output:
	// {"projects":[{"id":"api","name":"Public API","organizationId":"acme","role":"developer"},{"id":"web","name":"Website","organizationId":"acme","role":"admin"}]}
}

func TestZeroAccessIsUsable(t *testing.T) {
	var a memaccess.Access
	r, err := a.Role(context.Background(), "u", "p")
	require.NoError(t, err)
	assert.Equal(t, sessionauth.NoRole, r)
	assert.Empty(t, a.Projects("u"))
	_, ok := a.Project("p")
	assert.False(t, ok)
	assert.NotPanics(t, func() { a.RemoveUser("u"); a.RemoveProject("p"); a.RemoveOrganization("o") })
	require.NoError(t, a.AddOrganization("o", "Org"))
	require.NoError(t, a.AddProject("p", "P", "o"))
	require.NoError(t, a.SetProjectRole("p", "u", sessionauth.RoleAdmin))
	r, err = a.Role(context.Background(), "u", "p")
	require.NoError(t, err)
	assert.Equal(t, sessionauth.RoleAdmin, r)
	assert.True(t, strings.HasPrefix(a.Projects("u")[0].ID, "p"))
}
