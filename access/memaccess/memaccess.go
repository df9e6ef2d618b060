// Package memaccess is an in-memory sessionauth.AccessResolver: organizations,
// projects and memberships kept in the process, for tests and for
// applications small enough to hold them there. It is to AccessResolver what
// memstore is to a session store.
//
//	access := memaccess.New()
//	m, err := sessionauth.New(sessionauth.Config{Store: store, Access: access})
package memaccess

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/sessionauth/sessionauth"
)

// Errors of Access, returned wrapped.
var (
	// ErrUnknownOrganization: no organization has the given ID.
	ErrUnknownOrganization = errors.New("memaccess: unknown organization")
	// ErrUnknownProject: no project has the given ID.
	ErrUnknownProject = errors.New("memaccess: unknown project")
)

// Project is a project as Access knows it. Its JSON form is
// {"id","name","organizationId"}.
type Project struct {
	ID             string `json:"id"`
	Name           string `json:"name"`
	OrganizationID string `json:"organizationId"`
}

// ProjectRole is a project and a user's effective role on it. Its JSON form
// is {"id","name","organizationId","role"}.
type ProjectRole struct {
	Project
	Role sessionauth.Role `json:"role"`
}

// Access is an in-memory sessionauth.AccessResolver for applications and tests
// that keep organizations, projects and memberships in the process: a user
// holds a role on an organization, which applies to every project of the
// organization, and may hold a role on a single project, which raises it
// there. The effective role is the higher of the two, so a project
// membership never takes away what the organization grants.
//
// It is safe for concurrent use, and changes take effect on the next Role
// call: granting, changing and withdrawing roles while serving requests is
// what it is for. Nothing is persisted. The zero value is an empty
// Access, ready to use.
type Access struct {
	mu       sync.RWMutex
	orgs     map[string]*memOrg
	projects map[string]*memProject
	users    map[string]map[scope]sessionauth.Role // user ID -> memberships
}

type memOrg struct {
	name     string
	projects map[string]struct{}
}

type memProject struct {
	name, org string
}

// scope is what a membership is on: an organization or a project. The two
// kinds of ID may overlap.
type scope struct {
	org bool
	id  string
}

var _ sessionauth.AccessResolver = (*Access)(nil)

// New returns an empty Access.
//
//	access := memaccess.New()
//	m, err := sessionauth.New(sessionauth.Config{Store: store, Access: access})
func New() *Access {
	return &Access{
		orgs:     make(map[string]*memOrg),
		projects: make(map[string]*memProject),
		users:    make(map[string]map[scope]sessionauth.Role),
	}
}

// AddOrganization adds the organization id, or renames it if it exists. The
// ID must be non-empty.
func (a *Access) AddOrganization(id, name string) error {
	if id == "" {
		return errors.New("memaccess: empty organization ID")
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if o, ok := a.orgs[id]; ok {
		o.name = name
		return nil
	}
	if a.orgs == nil {
		a.orgs = make(map[string]*memOrg)
		a.projects = make(map[string]*memProject)
	}
	a.orgs[id] = &memOrg{name: name, projects: make(map[string]struct{})}
	return nil
}

// AddProject adds the project id to the organization orgID, or renames it
// and moves it there if it exists; its own memberships stay with it. It fails
// with ErrUnknownOrganization if orgID does not exist, and refuses an ID that
// Authorize would never accept (see sessionauth.MaxProjectIDLength).
func (a *Access) AddProject(id, name, orgID string) error {
	if !sessionauth.ValidProjectID(id) {
		return fmt.Errorf("memaccess: invalid project ID %.64q: 1 to %d bytes of UTF-8 without control characters",
			id, sessionauth.MaxProjectIDLength)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	o, ok := a.orgs[orgID]
	if !ok {
		return fmt.Errorf("%w %q", ErrUnknownOrganization, orgID)
	}
	if p, ok := a.projects[id]; ok {
		delete(a.orgs[p.org].projects, id)
		p.name, p.org = name, orgID
	} else {
		a.projects[id] = &memProject{name: name, org: orgID}
	}
	o.projects[id] = struct{}{}
	return nil
}

// SetOrgRole gives userID the role r on the organization orgID and so on all
// its projects, replacing any role there; sessionauth.NoRole removes the membership. It
// fails with ErrUnknownOrganization or sessionauth.ErrUnknownRole.
func (a *Access) SetOrgRole(orgID, userID string, r sessionauth.Role) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := a.orgs[orgID]; !ok {
		return fmt.Errorf("%w %q", ErrUnknownOrganization, orgID)
	}
	return a.setRole(userID, scope{org: true, id: orgID}, r)
}

// SetProjectRole gives userID the role r on the project projectID, replacing
// any project role there; sessionauth.NoRole removes the membership. A role on the
// project's organization still applies. It fails with ErrUnknownProject or
// sessionauth.ErrUnknownRole.
func (a *Access) SetProjectRole(projectID, userID string, r sessionauth.Role) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := a.projects[projectID]; !ok {
		return fmt.Errorf("%w %q", ErrUnknownProject, projectID)
	}
	return a.setRole(userID, scope{id: projectID}, r)
}

// setRole sets or, for sessionauth.NoRole, removes userID's membership on s. a.mu is
// held and s exists.
func (a *Access) setRole(userID string, s scope, r sessionauth.Role) error {
	switch {
	case userID == "":
		return errors.New("memaccess: empty user ID")
	case r != sessionauth.NoRole && !r.Valid():
		return fmt.Errorf("%w: %v", sessionauth.ErrUnknownRole, r)
	}
	u := a.users[userID]
	if r == sessionauth.NoRole {
		delete(u, s)
		if len(u) == 0 {
			delete(a.users, userID)
		}
		return nil
	}
	if u == nil {
		u = make(map[scope]sessionauth.Role)
		if a.users == nil {
			a.users = make(map[string]map[scope]sessionauth.Role)
		}
		a.users[userID] = u
	}
	u[s] = r
	return nil
}

// RemoveUser removes every membership of userID, as when the user is deleted.
func (a *Access) RemoveUser(userID string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.users, userID)
}

// RemoveProject removes the project id and every membership on it. Removing
// a project that does not exist does nothing.
func (a *Access) RemoveProject(id string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.removeProject(id)
}

func (a *Access) removeProject(id string) {
	p, ok := a.projects[id]
	if !ok {
		return
	}
	delete(a.orgs[p.org].projects, id)
	delete(a.projects, id)
	a.removeMemberships(scope{id: id})
}

// removeMemberships removes every user's membership on s, and the users
// left with none. It visits every user: removals are rare, lookups are not.
func (a *Access) removeMemberships(s scope) {
	for userID, u := range a.users {
		delete(u, s)
		if len(u) == 0 {
			delete(a.users, userID)
		}
	}
}

// RemoveOrganization removes the organization id, its projects and every
// membership on them. Removing one that does not exist does nothing.
func (a *Access) RemoveOrganization(id string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	o, ok := a.orgs[id]
	if !ok {
		return
	}
	for p := range o.projects {
		a.removeProject(p)
	}
	delete(a.orgs, id)
	a.removeMemberships(scope{org: true, id: id})
}

// Role returns the effective role of userID on projectID: the higher of its
// organization role and its project role, sessionauth.NoRole if it has neither or the
// project does not exist. The error is always nil.
func (a *Access) Role(_ context.Context, userID, projectID string) (sessionauth.Role, error) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	p, ok := a.projects[projectID]
	u := a.users[userID]
	if !ok || u == nil {
		return sessionauth.NoRole, nil
	}
	return max(u[scope{org: true, id: p.org}], u[scope{id: projectID}]), nil
}

// Project returns the project id, for handlers that must find the project of
// a resource before checking a role on it.
func (a *Access) Project(id string) (Project, bool) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	p, ok := a.projects[id]
	if !ok {
		return Project{}, false
	}
	return Project{ID: id, Name: p.name, OrganizationID: p.org}, true
}

// Projects returns the projects userID can access, with its effective role on
// each, ordered by project ID. The slice is the caller's.
func (a *Access) Projects(userID string) []ProjectRole {
	a.mu.RLock()
	defer a.mu.RUnlock()
	u := a.users[userID]
	if u == nil {
		return nil
	}
	roles := make(map[string]sessionauth.Role)
	for s, r := range u {
		if !s.org {
			roles[s.id] = max(roles[s.id], r)
			continue
		}
		for id := range a.orgs[s.id].projects {
			roles[id] = max(roles[id], r)
		}
	}
	out := make([]ProjectRole, 0, len(roles))
	for id, r := range roles {
		p := a.projects[id]
		out = append(out, ProjectRole{Project: Project{ID: id, Name: p.name, OrganizationID: p.org}, Role: r})
	}
	slices.SortFunc(out, func(x, y ProjectRole) int { return cmp.Compare(x.ID, y.ID) })
	return out
}
