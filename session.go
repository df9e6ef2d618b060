package sessionauth

import (
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"time"
	"unicode/utf8"
)

// Session is one signed-in session of a user, as the store holds it. It never
// carries the token or the token's hash: every field is safe to log and to
// show to its user.
//
// A *Session handed to a handler may be shared between requests; treat it as
// read-only.
type Session struct {
	// ID identifies the session to people and logs: 22 characters of
	// base64url, random and unrelated to the token. It survives Rotate.
	ID string
	// UserID is the application's identifier of the signed-in user.
	UserID string
	// CreatedAt is when the session was created (when the user signed in).
	CreatedAt time.Time
	// LastUsedAt is when the session last authenticated a request, accurate
	// to within the Manager's TouchInterval.
	LastUsedAt time.Time
	// IdleExpiresAt is when the session expires unless it is used before.
	// It never lies after ExpiresAt.
	IdleExpiresAt time.Time
	// ExpiresAt is the absolute end of the session, whatever its use.
	ExpiresAt time.Time

	Metadata

	ref *sessionRef // a pointer, so that fmt's %+v prints an address, not the key
}

// sessionRef holds what identifies a session to the store.
type sessionRef struct {
	key  string        // hex SHA-256 of the token: secret
	idle time.Duration // the idle timeout the session was created with
}

// Metadata is the small application data a session carries: where it was
// created and what the application wants to remember about it, such as the
// active organization. Sizes are bounded: IP 64 bytes, UserAgent 512 bytes
// (Create truncates longer ones), and at most 16 Values of at most 64-byte
// keys and 1 KiB values.
type Metadata struct {
	// IP is the client address the session was created from.
	IP string
	// UserAgent is the User-Agent the session was created with.
	UserAgent string
	// Values are application key/value pairs. Treat the map as read-only;
	// change it with Manager.SetValues.
	Values map[string]string
}

// Value returns the value of key in s.Values, or "".
// It is safe on a nil *Session.
func (s *Session) Value(key string) string {
	if s == nil {
		return ""
	}
	return s.Values[key]
}

// LogValue makes a Session log as its ID and user: never a token or hash.
func (s *Session) LogValue() slog.Value {
	return slog.GroupValue(slog.String("id", s.ID), slog.String("user", s.UserID))
}

// expiry is the instant at which s stops being valid.
func (s *Session) expiry() time.Time {
	if s.IdleExpiresAt.Before(s.ExpiresAt) {
		return s.IdleExpiresAt
	}
	return s.ExpiresAt
}

// validAt reports whether s authenticates a request at now. A session is
// valid strictly before its expiry: at the expiry instant it is expired.
func (s *Session) validAt(now time.Time) bool {
	return now.Before(s.expiry())
}

func (md *Metadata) validate() error {
	switch {
	case len(md.IP) > maxIPLen || !utf8.ValidString(md.IP):
		return fmt.Errorf("%w: IP must be at most %d bytes of UTF-8", ErrInvalidMetadata, maxIPLen)
	case len(md.UserAgent) > maxUserAgentLen || !utf8.ValidString(md.UserAgent):
		return fmt.Errorf("%w: user agent must be at most %d bytes of UTF-8", ErrInvalidMetadata, maxUserAgentLen)
	case len(md.Values) > maxValues:
		return fmt.Errorf("%w: at most %d values", ErrInvalidMetadata, maxValues)
	}
	for k, v := range md.Values {
		if k == "" || len(k) > maxValueKeyLen || len(v) > maxValueLen || !utf8.ValidString(k) || !utf8.ValidString(v) {
			return fmt.Errorf("%w: value keys must be 1 to %d bytes and values at most %d bytes, of UTF-8",
				ErrInvalidMetadata, maxValueKeyLen, maxValueLen)
		}
	}
	return nil
}

// RequestMetadata returns the Metadata of a sign-in request: the peer address
// of the connection (not X-Forwarded-For, which a client can forge; an
// application behind a proxy sets IP itself) and the User-Agent, truncated to
// its size limit.
func RequestMetadata(r *http.Request) Metadata {
	ip := r.RemoteAddr
	if host, _, err := net.SplitHostPort(ip); err == nil {
		ip = host
	} else if len(ip) >= 2 && ip[0] == '[' && ip[len(ip)-1] == ']' {
		ip = ip[1 : len(ip)-1] // an IPv6 address without a port
	}
	return Metadata{IP: truncateUTF8(ip, maxIPLen), UserAgent: truncateUTF8(r.UserAgent(), maxUserAgentLen)}
}

// truncateUTF8 cuts s to at most n bytes without splitting a character, and
// replaces invalid UTF-8, so the result always passes validate.
func truncateUTF8(s string, n int) string {
	if !utf8.ValidString(s) {
		s = string([]rune(s))
	}
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// cloneValues copies v; an empty map becomes nil, as in a decoded record.
func cloneValues(v map[string]string) map[string]string {
	if len(v) == 0 {
		return nil
	}
	return maps.Clone(v)
}
