package sessionauthtest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/sessionauth/sessionauth"
	"github.com/sessionauth/sessionauth/access/memaccess"
	"github.com/sessionauth/sessionauth/store/memstore"
)

// TB is the part of testing.TB that this package uses. *testing.T,
// *testing.B and *testing.F satisfy it, and so does any type with these four
// methods, such as the T of another test framework.
type TB interface {
	Helper()
	Cleanup(func())
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
}

// DefaultOrganization is the ID of the organization that Env.User creates
// to hold a project named by On that does not exist yet.
const DefaultOrganization = "test-org"

// start is where every Env's clock starts: a fixed instant, so that session
// timestamps, and any golden output that shows them, are the same each run.
var start = time.Date(2025, time.January, 1, 0, 0, 0, 0, time.UTC)

// Env is a Manager wired for tests, with the parts a test reaches into. Its
// fields are set by New and must not be reassigned. An Env is safe for
// concurrent use, so parallel subtests may share one, each passing its own t.
type Env struct {
	// Manager is the Manager under test: hand it to the application's
	// routes. Its store is an in-memory one that only this Env uses, and
	// Config.Access is Access unless WithConfig replaced it.
	Manager *sessionauth.Manager
	// Access holds the organizations, projects and roles. User adds to it;
	// a test may also change it directly, and the next request sees the
	// change.
	Access *memaccess.Access
	// Clock is the time of the Manager and of its store.
	Clock *Clock

	ownAccess bool       // Manager.Config.Access is Access
	mu        sync.Mutex // makes "create the project or organization if missing, then grant" atomic
}

// Option changes what New builds.
type Option func(*options)

type options struct {
	configure []func(*sessionauth.Config)
}

// WithConfig lets configure change the sessionauth.Config before New builds
// the Manager. The Config it receives already has Store, Access and Now set
// to the environment's memory store, Access, Clock and test logger; configure typically
// sets IdleTimeout, Lifetime, TouchInterval, Logger, ErrorHandler or Realm.
// It may replace Store or Access too, but then env.Clock no longer governs
// the store's expiry, or User can no longer grant roles (it fails the test
// when asked to).
//
//	env := sessionauthtest.New(t, sessionauthtest.WithConfig(func(c *sessionauth.Config) {
//		c.IdleTimeout = 5 * time.Minute
//	}))
func WithConfig(configure func(*sessionauth.Config)) Option {
	return func(o *options) {
		if configure != nil {
			o.configure = append(o.configure, configure)
		}
	}
}

// New returns an Env: a Manager with default settings on a fresh in-memory
// store, an empty memaccess.Access as its Config.Access, a Clock that starts
// at 2025-01-01 00:00:00 UTC as its Config.Now and the store's clock, and as
// its Config.Logger the test's own log (t.Logf, at Debug) when t has a
// Logf method, as *testing.T does, or a logger that discards. The
// store runs no background goroutine and is closed by t.Cleanup. New ends
// the test with t.Fatalf if the configuration is invalid.
//
//	env := sessionauthtest.New(t)
func New(t TB, opts ...Option) *Env {
	t.Helper()
	var o options
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	clock := NewClock(start)
	// Expired sessions are invisible to reads whatever the sweep does, so
	// a test store needs no sweep goroutine to stop or to leak.
	store := memstore.New(memstore.Config{SweepInterval: -1, Now: clock.Now})
	t.Cleanup(func() { _ = store.Close() })
	access := memaccess.New()
	cfg := sessionauth.Config{Store: store, Access: access, Now: clock.Now, Logger: logger(t)}
	for _, configure := range o.configure {
		configure(&cfg)
	}
	m, err := sessionauth.New(cfg)
	if err != nil {
		t.Fatalf("sessionauthtest: %v", err)
		return nil
	}
	own, _ := cfg.Access.(*memaccess.Access)
	return &Env{Manager: m, Access: access, Clock: clock, ownAccess: own == access}
}

// Membership is a role of a user on a project (On) or an organization
// (OnOrg), for Env.User and Env.Token.
type Membership struct {
	org  bool
	id   string
	role sessionauth.Role
}

// On is the role r on the project projectID. If the project does not exist
// in env.Access, User creates it, named after its ID, in
// DefaultOrganization; an existing project stays where it is. sessionauth.NoRole
// creates the project and removes the user's role on it, for a test of a
// user who sees a project but has no role there.
//
//	env.User(t, "ada", sessionauthtest.On("web", sessionauth.RoleAdmin))
func On(projectID string, r sessionauth.Role) Membership {
	return Membership{id: projectID, role: r}
}

// OnOrg is the role r on the organization orgID, which applies to all its
// projects (see Env.AddProject). If the organization does not exist, User
// creates it, named after its ID.
func OnOrg(orgID string, r sessionauth.Role) Membership {
	return Membership{org: true, id: orgID, role: r}
}

// String returns the membership as "role on project ID" or "role on
// organization ID", for failure messages.
func (ms Membership) String() string {
	kind := "project"
	if ms.org {
		kind = "organization"
	}
	return fmt.Sprintf("%v on %s %q", ms.role, kind, ms.id)
}

// User signs userID in: it gives userID the memberships in env.Access, then
// creates a session with env.Manager.Create and returns it with its token.
// A membership replaces the user's role on that project or organization and
// leaves its other roles alone, so calling User again for the same user adds
// a second session (another device) and, if given, changes roles. It ends
// the test with t.Fatalf if userID is empty, a membership is invalid (not a
// role, or an ID memaccess.Access refuses), WithConfig replaced Config.Access
// while memberships are given, or the store fails.
//
//	admin := env.User(t, "ada", sessionauthtest.On("web", sessionauth.RoleAdmin))
func (e *Env) User(t TB, userID string, memberships ...Membership) *User {
	t.Helper()
	if userID == "" {
		t.Fatalf("sessionauthtest: empty user ID")
		return nil
	}
	if err := e.grant(userID, memberships); err != nil {
		t.Fatalf("sessionauthtest: user %q: %v", userID, err)
		return nil
	}
	token, s, err := e.Manager.Create(context.Background(), userID, sessionauth.Metadata{})
	if err != nil {
		t.Fatalf("sessionauthtest: creating a session for %q: %v", userID, err)
		return nil
	}
	return &User{ID: userID, Token: token, Session: s}
}

// Token is User for tests that only need the token, such as a client of a
// real server:
//
//	req.Header.Set("Authorization", "Bearer "+env.Token(t, "ada"))
func (e *Env) Token(t TB, userID string, memberships ...Membership) string {
	t.Helper()
	u := e.User(t, userID, memberships...)
	if u == nil {
		return ""
	}
	return u.Token
}

// AddProject adds the project projectID, named after its ID, to the
// organization orgID, creating the organization if it does not exist; an
// existing project moves there and keeps its members. Use it to place
// projects under a role given with OnOrg. It ends the test with t.Fatalf
// for an ID that memaccess.Access refuses.
//
//	env.AddProject(t, "web", "acme")
func (e *Env) AddProject(t TB, projectID, orgID string) {
	t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.addProject(projectID, orgID); err != nil {
		t.Fatalf("sessionauthtest: %v", err)
	}
}

// grant applies memberships to userID, creating what they name if needed.
func (e *Env) grant(userID string, memberships []Membership) error {
	if len(memberships) == 0 {
		return nil
	}
	if !e.ownAccess {
		return errors.New("memberships need Config.Access to be env.Access, which WithConfig replaced")
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, ms := range memberships {
		if err := e.apply(userID, ms); err != nil {
			return fmt.Errorf("%v: %w", ms, err)
		}
	}
	return nil
}

func (e *Env) apply(userID string, ms Membership) error {
	if ms.org {
		err := e.Access.SetOrgRole(ms.id, userID, ms.role)
		if !errors.Is(err, memaccess.ErrUnknownOrganization) {
			return err
		}
		if err := e.Access.AddOrganization(ms.id, ms.id); err != nil {
			return err
		}
		return e.Access.SetOrgRole(ms.id, userID, ms.role)
	}
	if _, ok := e.Access.Project(ms.id); !ok {
		if err := e.addProject(ms.id, DefaultOrganization); err != nil {
			return err
		}
	}
	return e.Access.SetProjectRole(ms.id, userID, ms.role)
}

// addProject adds or moves a project, creating its organization if it does
// not exist; an existing organization keeps its name. e.mu is held.
func (e *Env) addProject(projectID, orgID string) error {
	err := e.Access.AddProject(projectID, projectID, orgID)
	if !errors.Is(err, memaccess.ErrUnknownOrganization) {
		return err
	}
	if err := e.Access.AddOrganization(orgID, orgID); err != nil {
		return err
	}
	return e.Access.AddProject(projectID, projectID, orgID)
}
