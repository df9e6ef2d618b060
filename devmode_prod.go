//go:build !sessionauth_dev

package sessionauth

import (
	"context"
	"log/slog"
)

// DevMode reports whether this binary accepts the development token: false,
// it was built without the sessionauth_dev tag.
const DevMode = false

// devState is empty: this build has no development session.
type devState struct{}

func (m *Manager) initDev(p *DevPrincipal) {
	if p != nil {
		m.log.LogAttrs(context.Background(), slog.LevelWarn, "sessionauth: Config.DevPrincipal is ignored: this binary was built without the sessionauth_dev tag")
	}
}

// match never matches: the development token is not compiled in.
func (devState) match(string) (*Session, bool) { return nil, false }

// roleOn never answers: no session is the development session.
func (devState) roleOn(*Session, string) (Role, bool) { return NoRole, false }
