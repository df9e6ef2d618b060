//go:build sessionauth_dev

package sessionauth

import (
	"cmp"
	"context"
	"crypto/subtle"
	"log/slog"
	"time"
)

// DevMode reports whether this binary accepts the development token: true,
// it was built with the sessionauth_dev tag.
const DevMode = true

// devToken is accepted as a bearer token in this build only.
const devToken = "test-token"

type devState struct {
	session *Session
}

func (m *Manager) initDev(p *DevPrincipal) {
	var principal DevPrincipal
	if p != nil {
		principal = *p
	}
	principal.UserID = cmp.Or(principal.UserID, DefaultDevUserID)
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
		slog.String("user", principal.UserID))
}

func (m *Manager) devSession(token string) (*Session, bool) {
	if len(token) == len(devToken) && subtle.ConstantTimeCompare([]byte(token), []byte(devToken)) == 1 {
		return m.dev.session, true
	}
	return nil, false
}
