package sessionauth

// DevPrincipal is the identity that the development token ("Bearer" followed
// by the token named in the package documentation) stands for in binaries
// built with the sessionauth_dev build tag. In every other build the token is
// unknown and a configured DevPrincipal only causes a warning, so the same
// application code compiles in both builds.
type DevPrincipal struct {
	// UserID is the user the development session belongs to.
	// Default: "dev-user".
	UserID string
}

// DefaultDevUserID is the UserID of the development session when
// Config.DevPrincipal leaves it empty.
const DefaultDevUserID = "dev-user"
