package sessionauthtest_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/sessionauth/sessionauth"
	"github.com/sessionauth/sessionauth/access/memaccess"
	"github.com/sessionauth/sessionauth/sessionauthtest"
)

var clockStart = time.Date(2025, time.January, 1, 0, 0, 0, 0, time.UTC)

func TestNew_ManagerAndStoreReadTheClock(t *testing.T) {
	env := sessionauthtest.New(t)
	ctx := context.Background()
	u := env.User(t, "ada")
	assert.Equal(t, clockStart, u.Session.CreatedAt)
	assert.Equal(t, clockStart.Add(env.Manager.IdleTimeout()), u.Session.IdleExpiresAt)

	// SetValues reads the session through the store's own expiry check:
	// it finds a session created at the fake time only if the store reads
	// the fake clock too.
	_, err := env.Manager.SetValues(ctx, u.Session, map[string]string{"org": "acme"})
	require.NoError(t, err)

	env.Clock.Advance(env.Manager.IdleTimeout())
	_, err = env.Manager.Authenticate(ctx, u.Token)
	assert.Equal(t, 401, sessionauth.StatusCode(err), "expired: %v", err)
	sessions, err := env.Manager.List(ctx, "ada")
	require.NoError(t, err)
	assert.Empty(t, sessions)
}

func TestNew_DefaultsAreTheLibrarys(t *testing.T) {
	env := sessionauthtest.New(t)
	assert.Equal(t, sessionauth.DefaultIdleTimeout, env.Manager.IdleTimeout())
	assert.Equal(t, sessionauth.DefaultLifetime, env.Manager.Lifetime())
	assert.Equal(t, clockStart, env.Clock.Now())
}

func TestNew_StartsNoGoroutine(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	env := sessionauthtest.New(t)
	env.User(t, "ada", sessionauthtest.On("web", sessionauth.RoleOwner))
}

func TestNew_InvalidConfigFailsTheTest(t *testing.T) {
	f := runFake(func(t *fakeT) {
		sessionauthtest.New(t, sessionauthtest.WithConfig(func(c *sessionauth.Config) {
			c.IdleTimeout = time.Minute
			c.TouchInterval = time.Minute
		}))
		t.Errorf("New returned")
	})
	require.Len(t, f.failures(), 1)
	assert.Contains(t, f.fatal, "TouchInterval")
}

func TestWithConfig_SeesTheEnvironmentsPartsAndAppliesInOrder(t *testing.T) {
	var seen sessionauth.Config
	env := sessionauthtest.New(t,
		sessionauthtest.WithConfig(func(c *sessionauth.Config) {
			seen = *c
			c.IdleTimeout = 10 * time.Minute
		}),
		sessionauthtest.WithConfig(nil),
		sessionauthtest.WithConfig(func(c *sessionauth.Config) {
			assert.Equal(t, 10*time.Minute, c.IdleTimeout, "runs after the first")
			c.IdleTimeout *= 2
		}),
	)
	assert.NotNil(t, seen.Store)
	assert.Same(t, env.Access, seen.Access)
	require.NotNil(t, seen.Now)
	env.Clock.Advance(time.Hour)
	assert.Equal(t, env.Clock.Now(), seen.Now())
	assert.Equal(t, 20*time.Minute, env.Manager.IdleTimeout())
}

func TestUser_TokenAuthenticatesAsTheUser(t *testing.T) {
	env := sessionauthtest.New(t)
	u := env.User(t, "ada")
	assert.Equal(t, "ada", u.ID)
	assert.Len(t, u.Token, 43)

	s, err := env.Manager.Authenticate(context.Background(), u.Token)
	require.NoError(t, err)
	assert.Equal(t, "ada", s.UserID)
	assert.Equal(t, u.Session.ID, s.ID)
}

func TestToken_AuthenticatesAsTheUserWithItsRoles(t *testing.T) {
	env := sessionauthtest.New(t)
	token := env.Token(t, "ada", sessionauthtest.On("web", sessionauth.RoleAdmin))

	s, err := env.Manager.Authenticate(context.Background(), token)
	require.NoError(t, err)
	assert.Equal(t, "ada", s.UserID)
	role, err := env.Manager.Authorize(sessionauth.NewContext(context.Background(), s), "web", sessionauth.RoleDeveloper)
	require.NoError(t, err)
	assert.Equal(t, sessionauth.RoleAdmin, role)
}

func TestUser_EachCallIsAnotherSession(t *testing.T) {
	env := sessionauthtest.New(t)
	laptop := env.User(t, "ada")
	phone := env.User(t, "ada")
	assert.NotEqual(t, laptop.Token, phone.Token)
	assert.NotEqual(t, laptop.Session.ID, phone.Session.ID)

	sessions, err := env.Manager.List(context.Background(), "ada")
	require.NoError(t, err)
	assert.Len(t, sessions, 2)
}

func TestUser_CreatesMissingProjectsInTheDefaultOrganization(t *testing.T) {
	env := sessionauthtest.New(t)
	env.User(t, "ada", sessionauthtest.On("web", sessionauth.RoleAdmin), sessionauthtest.On("ops", sessionauth.RoleDeveloper))

	assert.Equal(t, []memaccess.ProjectRole{
		{Project: memaccess.Project{ID: "ops", Name: "ops", OrganizationID: sessionauthtest.DefaultOrganization}, Role: sessionauth.RoleDeveloper},
		{Project: memaccess.Project{ID: "web", Name: "web", OrganizationID: sessionauthtest.DefaultOrganization}, Role: sessionauth.RoleAdmin},
	}, env.Access.Projects("ada"))
}

func TestUser_LeavesExistingProjectsWhereTheyAre(t *testing.T) {
	env := sessionauthtest.New(t)
	require.NoError(t, env.Access.AddOrganization("acme", "Acme Inc."))
	require.NoError(t, env.Access.AddProject("web", "Web shop", "acme"))

	env.User(t, "ada", sessionauthtest.On("web", sessionauth.RoleOwner))
	p, ok := env.Access.Project("web")
	require.True(t, ok)
	assert.Equal(t, memaccess.Project{ID: "web", Name: "Web shop", OrganizationID: "acme"}, p)
}

func TestUser_OrganizationRoleCoversItsProjects(t *testing.T) {
	env := sessionauthtest.New(t)
	env.AddProject(t, "web", "acme")
	env.AddProject(t, "ops", "acme")
	env.AddProject(t, "erp", "initech")
	env.User(t, "ada", sessionauthtest.OnOrg("acme", sessionauth.RoleAdmin), sessionauthtest.OnOrg("globex", sessionauth.RoleOwner))

	ctx := context.Background()
	for project, want := range map[string]sessionauth.Role{"web": sessionauth.RoleAdmin, "ops": sessionauth.RoleAdmin, "erp": sessionauth.NoRole} {
		role, err := env.Access.Role(ctx, "ada", project)
		require.NoError(t, err)
		assert.Equal(t, want, role, project)
	}
	env.AddProject(t, "portal", "globex")
	role, err := env.Access.Role(ctx, "ada", "portal")
	require.NoError(t, err)
	assert.Equal(t, sessionauth.RoleOwner, role, "OnOrg created globex, and the role holds for its later projects")
}

func TestUser_MembershipReplacesTheRoleThereAndKeepsTheOthers(t *testing.T) {
	env := sessionauthtest.New(t)
	env.User(t, "ada", sessionauthtest.On("web", sessionauth.RoleOwner), sessionauthtest.On("ops", sessionauth.RoleOwner))
	env.User(t, "ada", sessionauthtest.On("web", sessionauth.RoleDeveloper))
	env.User(t, "ada")

	ctx := context.Background()
	web, err := env.Access.Role(ctx, "ada", "web")
	require.NoError(t, err)
	ops, err := env.Access.Role(ctx, "ada", "ops")
	require.NoError(t, err)
	assert.Equal(t, sessionauth.RoleDeveloper, web, "lowered")
	assert.Equal(t, sessionauth.RoleOwner, ops, "untouched")
}

func TestUser_NoRoleLeavesTheProjectWithoutTheUser(t *testing.T) {
	env := sessionauthtest.New(t)
	env.User(t, "ada", sessionauthtest.On("web", sessionauth.RoleOwner))
	env.User(t, "ada", sessionauthtest.On("web", sessionauth.NoRole), sessionauthtest.On("ops", sessionauth.NoRole))

	assert.Empty(t, env.Access.Projects("ada"))
	_, ok := env.Access.Project("ops")
	assert.True(t, ok, "the project exists for other users")
}

func TestUser_SharedByParallelSubtests(t *testing.T) {
	env := sessionauthtest.New(t)
	t.Run("group", func(t *testing.T) {
		for i := range 8 {
			t.Run(fmt.Sprint(i), func(t *testing.T) {
				t.Parallel()
				user := fmt.Sprintf("user-%d", i)
				env.User(t, user, sessionauthtest.On("shared", sessionauth.RoleAdmin), sessionauthtest.OnOrg("acme", sessionauth.RoleDeveloper))
				role, err := env.Access.Role(context.Background(), user, "shared")
				require.NoError(t, err)
				assert.Equal(t, sessionauth.RoleAdmin, role)
			})
		}
	})
	p, ok := env.Access.Project("shared")
	require.True(t, ok)
	assert.Equal(t, sessionauthtest.DefaultOrganization, p.OrganizationID)
}

func TestUser_FailsTheTest(t *testing.T) {
	replaced := sessionauthtest.WithConfig(func(c *sessionauth.Config) {
		c.Access = memaccess.New()
	})
	tests := []struct {
		name        string
		opts        []sessionauthtest.Option
		userID      string
		memberships []sessionauthtest.Membership
		wantFatal   string
	}{
		{"empty user ID", nil, "", nil, "empty user ID"},
		{"not a role", nil, "ada", []sessionauthtest.Membership{sessionauthtest.On("web", sessionauth.Role(9))}, "unknown role"},
		{"empty project ID", nil, "ada", []sessionauthtest.Membership{sessionauthtest.On("", sessionauth.RoleAdmin)}, "invalid project ID"},
		{"project ID with a control character", nil, "ada", []sessionauthtest.Membership{sessionauthtest.On("a\nb", sessionauth.RoleAdmin)}, "invalid project ID"},
		{"empty organization ID", nil, "ada", []sessionauthtest.Membership{sessionauthtest.OnOrg("", sessionauth.RoleAdmin)}, "empty organization ID"},
		{"zero Membership", nil, "ada", []sessionauthtest.Membership{{}}, "invalid project ID"},
		{"memberships after WithConfig replaced Access", []sessionauthtest.Option{replaced}, "ada", []sessionauthtest.Membership{sessionauthtest.On("web", sessionauth.RoleAdmin)}, "Config.Access"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := runFake(func(ft *fakeT) {
				env := sessionauthtest.New(ft, tc.opts...)
				env.User(ft, tc.userID, tc.memberships...)
				ft.Errorf("User returned")
			})
			require.Len(t, f.failures(), 1, f.failures())
			assert.Contains(t, f.fatal, tc.wantFatal)
			assert.Contains(t, f.fatal, "sessionauthtest: ")
		})
	}
}

func TestUser_WithoutMembershipsWorksWhenAccessIsReplaced(t *testing.T) {
	env := sessionauthtest.New(t, sessionauthtest.WithConfig(func(c *sessionauth.Config) { c.Access = nil }))
	u := env.User(t, "ada")
	_, err := env.Manager.Authenticate(context.Background(), u.Token)
	assert.NoError(t, err)
}

func TestAddProject_MovesAProjectWithItsMembers(t *testing.T) {
	env := sessionauthtest.New(t)
	env.User(t, "ada", sessionauthtest.On("web", sessionauth.RoleAdmin))
	env.AddProject(t, "web", "acme")

	p, ok := env.Access.Project("web")
	require.True(t, ok)
	assert.Equal(t, "acme", p.OrganizationID)
	role, err := env.Access.Role(context.Background(), "ada", "web")
	require.NoError(t, err)
	assert.Equal(t, sessionauth.RoleAdmin, role)
}

func TestAddProject_InvalidIDFailsTheTest(t *testing.T) {
	f := runFake(func(ft *fakeT) {
		sessionauthtest.New(ft).AddProject(ft, "", "acme")
		ft.Errorf("AddProject returned")
	})
	require.Len(t, f.failures(), 1, f.failures())
	assert.Contains(t, f.fatal, "invalid project ID")
}
