//go:build !sessionauth_dev

package sessionauth

import (
	"context"
	"log/slog"
)

// DevMode reports whether this binary accepts the development token: false,
// it was built without the sessionauth_dev tag.
const DevMode = false

type devState struct{}

func (m *Manager) initDev(p *DevPrincipal) {
	if p != nil {
		m.log.LogAttrs(context.Background(), slog.LevelWarn, "sessionauth: Config.DevPrincipal is ignored: this binary was built without the sessionauth_dev tag")
	}
}

// devSession never matches: the development token is not compiled in.
func (m *Manager) devSession(string) (*Session, bool) { return nil, false }

// devRole never answers: there is no development session in this build.
func (m *Manager) devRole(*Session, string) (Role, bool) { return NoRole, false }
