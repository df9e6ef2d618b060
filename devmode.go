package sessionauth

// DevPrincipal is the identity that the fixed development token (see
// "Development token" in the package documentation) stands for in binaries
// built with the sessionauth_dev build tag. In every other build the token is
// unknown and a configured DevPrincipal only causes a warning, so the same
// application code compiles in both builds.
//
// The development session's roles are the ones configured here, and only
// those: Config.Access is never asked about it. A developer who reaches for
// the token wants every endpoint to answer without seeding memberships for a
// fake user, hence the default of owner everywhere; set Role or ProjectRoles
// to try the API with less. Values that are not roles grant nothing. Role
// checks still need Config.Access, so that they behave alike in every build.
type DevPrincipal struct {
	// UserID is the user the development session belongs to. Set it to a
	// user of the application's data to see that user's resources.
	// Default: "dev-user".
	UserID string

	// Role is the development session's role on every project, existing or
	// not, that ProjectRoles does not name. Default: RoleOwner when
	// ProjectRoles is empty, NoRole (only the projects of ProjectRoles)
	// otherwise.
	Role Role

	// ProjectRoles maps project IDs to the development session's role there,
	// overriding Role. Map a project to NoRole to test a refusal. New copies
	// the map: later changes have no effect.
	ProjectRoles map[string]Role
}

// DefaultDevUserID is the UserID of the development session when
// Config.DevPrincipal leaves it empty.
const DefaultDevUserID = "dev-user"
