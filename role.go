package sessionauth

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Role is what a user may do on a project: RoleDeveloper < RoleAdmin <
// RoleOwner. The zero value, NoRole, is no access at all. Roles compare with
// the ordering operators, but AtLeast is the safer question: it also refuses
// NoRole and values that are not roles.
//
// A Role encodes as its lowercase name in JSON and any other text format
// (MarshalText, UnmarshalText). Only the three roles have a text form: NoRole
// and unknown values fail to encode, and any other text fails to decode, so a
// role read from a request or a database is either a real role or an error.
// Tag an optional Role field `json:",omitempty"` to leave NoRole out.
type Role uint8

// The roles, in increasing order of privilege.
const (
	// NoRole is the zero Role: the user has no access.
	NoRole Role = iota
	// RoleDeveloper works with a project's resources, such as API keys.
	RoleDeveloper
	// RoleAdmin also manages the project and its members.
	RoleAdmin
	// RoleOwner may do anything, including deleting the project.
	RoleOwner
)

// ErrUnknownRole is returned, wrapped, for text that names no role and for
// Role values that are not roles.
var ErrUnknownRole = errors.New("sessionauth: unknown role")

var roleNames = [...]string{RoleDeveloper: "developer", RoleAdmin: "admin", RoleOwner: "owner"}

// ParseRole returns the Role named s: "owner", "admin" or "developer". Case
// does not matter (ASCII only: "Admin" is RoleAdmin), because role names often
// come from configuration files and database enums spelt by people, and no two
// roles differ only in case. Anything else, including "", surrounding spaces
// and "none", fails with an error wrapping ErrUnknownRole: an unknown role is
// never mistaken for the least privileged one.
func ParseRole(s string) (Role, error) {
	for r := RoleDeveloper; r <= RoleOwner; r++ {
		// Equal lengths keep the fold ASCII: a non-ASCII rune that folds
		// to a letter of a name (the Kelvin sign to k) is longer than it.
		if len(s) == len(roleNames[r]) && strings.EqualFold(s, roleNames[r]) {
			return r, nil
		}
	}
	const maxQuoted = 32 // the input may be anything a client sent
	if len(s) > maxQuoted {
		s = s[:maxQuoted] + "..."
	}
	return NoRole, fmt.Errorf("%w %q", ErrUnknownRole, s)
}

// Valid reports whether r is one of RoleDeveloper, RoleAdmin and RoleOwner.
func (r Role) Valid() bool { return RoleDeveloper <= r && r <= RoleOwner }

// AtLeast reports whether r grants at least what required does: both are
// roles and r ranks at or above required. NoRole and invalid values on either
// side make it false, so a check against a corrupt value fails closed.
//
//	if role.AtLeast(sessionauth.RoleAdmin) { ... }
func (r Role) AtLeast(required Role) bool {
	return r.Valid() && required.Valid() && r >= required
}

// String returns the role's name ("owner", "admin", "developer"), "none" for
// NoRole, and "Role(n)" for a value that is not a role.
func (r Role) String() string {
	switch {
	case r.Valid():
		return roleNames[r]
	case r == NoRole:
		return "none"
	default:
		return "Role(" + strconv.Itoa(int(r)) + ")"
	}
}

// MarshalText returns the role's name. NoRole and invalid values fail with
// ErrUnknownRole.
func (r Role) MarshalText() ([]byte, error) {
	if !r.Valid() {
		return nil, fmt.Errorf("%w: %v has no text form", ErrUnknownRole, r)
	}
	return []byte(roleNames[r]), nil
}

// UnmarshalText sets r to the role named by text, as ParseRole does.
func (r *Role) UnmarshalText(text []byte) error {
	parsed, err := ParseRole(string(text))
	if err != nil {
		return err
	}
	*r = parsed
	return nil
}
