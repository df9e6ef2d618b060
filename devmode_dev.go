//go:build sessionauth_dev

package sessionauth

import (
	"cmp"
	"context"
	"crypto/subtle"
	"log/slog"
	"maps"
	"time"
)

// DevMode reports whether this binary accepts the development token: true,
// it was built with the sessionauth_dev tag.
const DevMode = true

// devToken is accepted as a bearer token in this build only.
const devToken = "test-token"

type devState struct {
	session  *Session
	role     Role            // on projects that projects does not name
	projects map[string]Role // read-only once New returns
}

func (m *Manager) initDev(p *DevPrincipal) {
	var principal DevPrincipal
	if p != nil {
		principal = *p
	}
	principal.UserID = cmp.Or(principal.UserID, DefaultDevUserID)
	if principal.Role == NoRole && len(principal.ProjectRoles) == 0 {
		principal.Role = RoleOwner
	}
	m.dev.role = principal.Role
	m.dev.projects = maps.Clone(principal.ProjectRoles)
	far := time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	m.dev.session = &Session{
		ID:            "dev-session",
		UserID:        principal.UserID,
		CreatedAt:     m.now().UTC(),
		LastUsedAt:    m.now().UTC(),
		IdleExpiresAt: far,
		ExpiresAt:     far,
	}
	m.log.LogAttrs(context.Background(), slog.LevelWarn, "sessionauth: DEVELOPMENT BUILD: the bearer token "+devToken+
		" authenticates anyone as "+principal.UserID+"; never deploy a binary built with -tags sessionauth_dev",
		slog.String("user", principal.UserID), slog.String("role", principal.Role.String()),
		slog.Int("projectRoles", len(principal.ProjectRoles)))
}

// match returns the development session if token is the development token.
func (d *devState) match(token string) (*Session, bool) {
	if len(token) == len(devToken) && subtle.ConstantTimeCompare([]byte(token), []byte(devToken)) == 1 {
		return d.session, true
	}
	return nil, false
}

// roleOn returns the configured role of the development session s on
// projectID. It reports false for every other session, which the
// AccessResolver decides. The session is recognised by identity: only match
// hands out this pointer, so no stored or forged session can pass for it.
func (d *devState) roleOn(s *Session, projectID string) (Role, bool) {
	if s != d.session || s == nil {
		return NoRole, false
	}
	if r, ok := d.projects[projectID]; ok {
		return r, true
	}
	return d.role, true
}
