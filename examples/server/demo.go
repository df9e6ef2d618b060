package main

import (
	"net/http"

	"github.com/sessionauth/sessionauth"
	"github.com/sessionauth/sessionauth/access/memaccess"
)

// The demo users' IDs. The owner is also the development principal of a
// binary built with -tags sessionauth_dev.
const (
	ownerID     = "user_owner"
	adminID     = "user_admin"
	developerID = "user_developer"
	outsiderID  = "user_outsider"
)

// seedDemo creates the demo data: organization Acme with two projects and an
// owner, an admin and a developer; organization Globex with one project and
// its owner, who has no access to Acme. Each project starts with one API key.
func seedDemo(password string, cost int) (*directory, *memaccess.Access, *keyStore, error) {
	users := newDirectory(cost)
	for _, u := range []struct{ id, email, name string }{
		{ownerID, "owner@example.com", "Olivia Owner"},
		{adminID, "admin@example.com", "Adam Admin"},
		{developerID, "developer@example.com", "Dana Developer"},
		{outsiderID, "outsider@example.com", "Oscar Outsider"},
	} {
		if err := users.add(u.id, u.email, u.name, password); err != nil {
			return nil, nil, nil, err
		}
	}

	access := memaccess.New()
	for _, step := range []error{
		access.AddOrganization("org_acme", "Acme"),
		access.AddOrganization("org_globex", "Globex"),
		access.AddProject("proj_acme_web", "Acme Web", "org_acme"),
		access.AddProject("proj_acme_mobile", "Acme Mobile", "org_acme"),
		access.AddProject("proj_globex_portal", "Globex Portal", "org_globex"),
		access.SetOrgRole("org_acme", ownerID, sessionauth.RoleOwner),
		access.SetOrgRole("org_acme", adminID, sessionauth.RoleAdmin),
		access.SetOrgRole("org_acme", developerID, sessionauth.RoleDeveloper),
		access.SetOrgRole("org_globex", outsiderID, sessionauth.RoleOwner),
	} {
		if step != nil {
			return nil, nil, nil, step
		}
	}

	keys := newKeyStore()
	keys.create("proj_acme_web", "CI deploys", ownerID)
	keys.create("proj_acme_mobile", "Crash reporter", adminID)
	keys.create("proj_globex_portal", "Billing sync", outsiderID)
	return users, access, keys, nil
}

// listProjects answers GET /projects: the projects the user can access, with
// the user's role on each.
func (a *app) listProjects(w http.ResponseWriter, r *http.Request) {
	projects := a.access.Projects(session(r).UserID)
	if projects == nil {
		projects = []memaccess.ProjectRole{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"projects": projects})
}
