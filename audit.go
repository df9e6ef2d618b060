package sessionauth

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"
)

// EventKind names what an audit Event reports.
type EventKind string

// The kinds of audit events. Each names the slog level it is logged at by
// default (see Event.Level).
const (
	// EventSessionCreated: Create stored a new session. Info.
	EventSessionCreated EventKind = "session_created"
	// EventSessionRotated: Rotate gave a session a new token; the old one
	// no longer works. Info.
	EventSessionRotated EventKind = "session_rotated"
	// EventSessionRevoked: Revoke or RevokeID ended one session. Info.
	EventSessionRevoked EventKind = "session_revoked"
	// EventUserSessionsRevoked: RevokeUser ended Count sessions of UserID;
	// SessionID is the session it kept, if any. Info.
	EventUserSessionsRevoked EventKind = "user_sessions_revoked"
	// EventSessionExpired: a request presented the token of a session whose
	// idle or absolute deadline had passed and was refused. It is the
	// authentication failure of Reason ReasonExpired, a kind of its own
	// because, unlike the others, it names the session and its user. Stores
	// hide a session once it expires by their own clock, so the Manager
	// sees, and reports, an expired session only while the store still
	// returns it (its clock behind the Manager's, or a store that keeps
	// expired records); later, the token is ReasonUnknown. Info.
	EventSessionExpired EventKind = "session_expired"
	// EventAuthFailed: a request was refused for Reason ReasonMissing,
	// ReasonMalformed or ReasonUnknown. Debug: scanners and clients
	// holding revoked tokens produce these by the thousand, and they tell
	// an operator nothing that a counter in OnEvent would not.
	EventAuthFailed EventKind = "auth_failed"
	// EventAccessDenied: a valid session was refused access to ProjectID,
	// where it needed at least Role. Info.
	EventAccessDenied EventKind = "access_denied"
	// EventStoreFailure: the session store (or the access resolver) failed;
	// Err holds the cause and Op the store operation when known. Manager.Error
	// reports it for every 503 it answers, so Require and Optional do too;
	// a failed touch, which no caller sees, is reported where it happens
	// (Op "touch"). Error; Warn for a failed touch, which did not fail the
	// request; Info when the request's own context was cancelled, which is a
	// client that went away rather than a store in trouble.
	EventStoreFailure EventKind = "store_failure"
	// EventSignInFailed: a sign-in (package authapi) was refused for a
	// wrong name or password; UserID is set when the name was an
	// account's. Info.
	EventSignInFailed EventKind = "sign_in_failed"
	// EventSignInThrottled: a sign-in was refused with 429 because its
	// account or client address had used up its attempts. Warn.
	EventSignInThrottled EventKind = "sign_in_throttled"
)

// Reason says why an authentication failed.
type Reason string

// The reasons of EventAuthFailed and EventSessionExpired.
const (
	// ReasonMissing: no bearer credentials (no Authorization header, or one
	// of another scheme).
	ReasonMissing Reason = "missing"
	// ReasonMalformed: an Authorization header that is not one well-formed
	// bearer credential, or a token that is not of the shape this package
	// issues.
	ReasonMalformed Reason = "malformed"
	// ReasonUnknown: a well-formed token of no live session: never issued,
	// revoked or rotated away.
	ReasonUnknown Reason = "unknown"
	// ReasonExpired: the token of a session past its deadline.
	ReasonExpired Reason = "expired"
)

// Event is one entry of the audit trail. The Manager logs every event to its
// Logger and then hands it to Config.OnEvent, if set.
//
// An event identifies a session by its ID and user, never by token or token
// hash, so every field is safe to log and to store. Fields that do not apply
// to a kind are zero.
type Event struct {
	Kind EventKind
	// Time is when it happened, by the Manager's clock.
	Time time.Time

	// SessionID and UserID identify the session concerned, when known.
	SessionID string
	UserID    string

	// Reason says why an authentication failed.
	Reason Reason
	// Count is how many sessions EventUserSessionsRevoked ended.
	Count int
	// ProjectID and Role are the project and the least role that
	// EventAccessDenied was about.
	ProjectID string
	Role      string
	// Op is the store operation that failed, when known, and Err the
	// failure.
	Op  string
	Err error

	// Method, Path and RemoteAddr describe the request the event arose from,
	// when there was one (Path without the query, which may hold secrets).
	// For EventSessionCreated, RemoteAddr is the session's Metadata.IP.
	Method     string
	Path       string
	RemoteAddr string
}

// Level returns the slog level the Manager logs e at, as each EventKind
// documents.
func (e Event) Level() slog.Level {
	switch e.Kind {
	case EventAuthFailed:
		return slog.LevelDebug
	case EventSignInThrottled:
		return slog.LevelWarn
	case EventStoreFailure:
		switch {
		case errors.Is(e.Err, context.Canceled):
			return slog.LevelInfo
		case e.Op == opTouch || e.Op == opDeleteExpired:
			return slog.LevelWarn
		}
		return slog.LevelError
	}
	return slog.LevelInfo
}

// Operations whose failure leaves the request's answer as it was.
const (
	opTouch         = "touch"
	opDeleteExpired = "delete expired"
)

// eventMessages are the log messages of the kinds of events.
var eventMessages = map[EventKind]string{
	EventSessionCreated:      "sessionauth: session created",
	EventSessionRotated:      "sessionauth: session token rotated",
	EventSessionRevoked:      "sessionauth: session revoked",
	EventUserSessionsRevoked: "sessionauth: sessions of user revoked",
	EventSessionExpired:      "sessionauth: expired session refused",
	EventAuthFailed:          "sessionauth: authentication failed",
	EventSignInFailed:        "sessionauth: sign-in refused",
	EventSignInThrottled:     "sessionauth: sign-in throttled",
	EventAccessDenied:        "sessionauth: access denied",
	EventStoreFailure:        "sessionauth: session store failed",
}

func (e *Event) message() string {
	switch {
	case e.Kind != EventStoreFailure:
	case e.Op == opTouch:
		return "sessionauth: extending session failed; the request goes on"
	case e.Op == opDeleteExpired:
		return "sessionauth: deleting an expired session failed; it was refused"
	case e.Method != "":
		return "sessionauth: request failed"
	}
	return cmp.Or(eventMessages[e.Kind], "sessionauth: "+string(e.Kind))
}

// emit delivers e: to the Logger at e's level, then to OnEvent. It is only
// ever called on failures and on writes, never for a request that
// authenticates, so the hot path pays nothing for the audit trail.
func (m *Manager) emit(ctx context.Context, e Event) {
	if e.Time.IsZero() {
		e.Time = m.now()
	}
	if level := e.Level(); m.log.Enabled(ctx, level) {
		attrs := append(make([]slog.Attr, 0, 10), slog.String("event", string(e.Kind)))
		for _, a := range [...]struct{ k, v string }{
			{"session", e.SessionID}, {"user", e.UserID}, {"reason", string(e.Reason)},
			{"project", e.ProjectID}, {"role", e.Role}, {"op", e.Op},
			{"method", e.Method}, {"path", e.Path}, {"remote", e.RemoteAddr},
		} {
			if a.v != "" {
				attrs = append(attrs, slog.String(a.k, a.v))
			}
		}
		if e.Kind == EventUserSessionsRevoked {
			attrs = append(attrs, slog.Int("count", e.Count))
		}
		if e.Err != nil {
			attrs = append(attrs, slog.Any("error", e.Err))
		}
		m.log.LogAttrs(ctx, level, e.message(), attrs...)
	}
	if m.onEvent != nil {
		m.onEvent(ctx, e)
	}
}

// Report logs e and hands it to Config.OnEvent, as the Manager does with its
// own events, filling in Time and the facts of r (which may be nil) but
// keeping a RemoteAddr already set (a client address resolved through trusted
// proxies). It lets packages built on the Manager, such as authapi, add to
// the same audit trail; never put a token or password in e.
func (m *Manager) Report(ctx context.Context, r *http.Request, e Event) {
	if r != nil {
		e.Method = r.Method
		if r.URL != nil {
			e.Path = r.URL.Path
		}
		e.RemoteAddr = cmp.Or(e.RemoteAddr, r.RemoteAddr)
	}
	m.emit(ctx, e)
}

// reportOn is Report for an event about session s, if s is not nil.
func (m *Manager) reportOn(ctx context.Context, r *http.Request, s *Session, e Event) {
	if s != nil {
		e.SessionID, e.UserID = s.ID, s.UserID
	}
	m.Report(ctx, r, e)
}

// authFailed reports the refusal of a request (r, nil outside middleware)
// that presented token, or none. s is the session of an expired token.
func (m *Manager) authFailed(ctx context.Context, r *http.Request, token string, s *Session, err error) {
	e := Event{Kind: EventAuthFailed}
	switch {
	case errors.Is(err, ErrNoToken):
		e.Reason = ReasonMissing
	case errors.Is(err, ErrMalformedToken):
		e.Reason = ReasonMalformed
	case errors.Is(err, ErrSessionExpired):
		e.Kind, e.Reason = EventSessionExpired, ReasonExpired
	case errors.Is(err, ErrUnknownSession):
		e.Reason = ReasonUnknown
		if !wellFormedToken(token) {
			e.Reason = ReasonMalformed
		}
	default:
		return // a store failure: the caller's Manager.Error reports it
	}
	m.reportOn(ctx, r, s, e) // s is nil but for an expired session
}

// userRevoked reports that RevokeUser ended n sessions of userID, if it ended
// any or succeeded.
func (m *Manager) userRevoked(ctx context.Context, userID string, keep *Session, n int, err error) {
	if err != nil && n == 0 {
		return
	}
	e := Event{Kind: EventUserSessionsRevoked, UserID: userID, Count: n}
	if keep != nil && keep.ref != nil {
		e.SessionID = keep.ID
	}
	m.emit(ctx, e)
}
