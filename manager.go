package sessionauth

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"time"
)

// Config configures a Manager. The zero value of every field but Store means
// its documented default.
type Config struct {
	// Store holds the sessions. Required. Any scs store works for create,
	// authenticate and revoke; a SessionStore (every store in this module)
	// adds extension by use, listing, per-user revocation, SetValues and
	// Rotate, with writes that never undo a revocation.
	Store Store

	// StoreTimeout bounds every store call that can block on I/O: a store
	// that does not answer within it fails the call with ErrUnavailable
	// (a 503), logged at ERROR. Calls of a NonBlockingStore (memstore) are
	// not timed. A store without context support (a plain scs.Store)
	// cannot be interrupted. Default: 3 seconds. Negative: no deadline
	// beyond the caller's context.
	StoreTimeout time.Duration

	// IdleTimeout is how long a session stays valid without being used.
	// Default: 30 minutes, the inactivity limit OWASP ASVS sets for
	// applications that hold sensitive data. At most MaxDuration.
	IdleTimeout time.Duration

	// Lifetime is the absolute lifetime of a session, however often it is
	// used; the user signs in again after it. Default: 12 hours, a working
	// day, the ASVS level 2 re-authentication period. At most MaxDuration:
	// there is no "never", so that every expiry is a real instant.
	Lifetime time.Duration

	// TouchInterval bounds how stale the stored idle deadline may get: a
	// request writes the store only when pushing the deadline forward would
	// move it by at least TouchInterval (or, near the end, up to the
	// absolute deadline), so a session costs at most one store write per
	// TouchInterval however many requests it makes, and a session used at
	// least every IdleTimeout-TouchInterval never expires before Lifetime.
	// Must be less than IdleTimeout. Default: one minute, or IdleTimeout/10
	// if that is shorter.
	TouchInterval time.Duration

	// Logger receives store failures and security-relevant warnings. Tokens
	// and their hashes are never logged. Default: slog.Default().
	Logger *slog.Logger

	// OnEvent, if set, receives every audit Event (sessions created,
	// rotated, revoked and expired, failed authentications, denied access,
	// store failures) after it has been logged to Logger. It is called
	// synchronously, often on a request's goroutine and concurrently, so it
	// must be safe for concurrent use and quick: hand slow work to another
	// goroutine. Default: nil, events are only logged.
	OnEvent func(ctx context.Context, e Event)

	// Now is the clock. Default: time.Now. Tests inject a fake one.
	Now func() time.Time

	// ErrorHandler writes the response when a request is rejected: err is
	// one of this package's sentinel errors, possibly wrapped (use
	// errors.Is and StatusCode). The WWW-Authenticate challenge is already
	// set on 401s when it is called. Default: WriteError, the exact JSON
	// bodies of the package documentation.
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)

	// Realm, if set, is sent as the realm of the WWW-Authenticate
	// challenge. Default: no realm.
	Realm string

	// DevPrincipal is the identity that the development token stands for in
	// binaries built with the sessionauth_dev build tag; it has no effect
	// in any other build. Default: see DevPrincipal.
	DevPrincipal *DevPrincipal

	// Access tells which role a user holds on a project, for Authorize and
	// RequireRole, which ask it on every request. Default: none; RequireRole
	// then panics and Authorize fails.
	Access AccessResolver
}

// Defaults of Config.
const (
	DefaultIdleTimeout   = 30 * time.Minute
	DefaultLifetime      = 12 * time.Hour
	DefaultTouchInterval = time.Minute
	DefaultStoreTimeout  = 3 * time.Second
)

// MaxDuration is the longest IdleTimeout or Lifetime New accepts: ten years
// of 365 days, far enough for any session and near enough that no expiry
// reaches the year 2262, where Unix nanoseconds end.
const MaxDuration = 10 * 365 * 24 * time.Hour

// Manager issues, authenticates and revokes sessions. Create one with New;
// it is safe for concurrent use and holds no background goroutine, so it
// needs no Close (close the store instead).
type Manager struct {
	ctx    CtxStore      // the store, through plainStore if it is not one
	full   SessionStore  // nil unless store is one
	loader SessionLoader // nil unless store is one
	iter   func(context.Context) (map[string][]byte, error)

	idle, lifetime, touchEvery time.Duration
	timeout                    time.Duration // 0: store calls are not timed

	log          *slog.Logger
	onEvent      func(context.Context, Event)
	now          func() time.Time
	errorHandler func(http.ResponseWriter, *http.Request, error)
	challenge    string // WWW-Authenticate without error
	challengeErr string // WWW-Authenticate with error="invalid_token"

	touches touchLimiter
	dev     devState
	access  AccessResolver
}

// New returns a Manager for cfg, or an error if cfg is inconsistent or its
// store unusable (nil, a nil pointer, or a CheckedStore whose Check fails).
func New(cfg Config) (*Manager, error) {
	if isNil(cfg.Store) {
		return nil, errors.New("sessionauth: Config.Store is required")
	}
	if c, ok := cfg.Store.(CheckedStore); ok {
		if err := c.Check(); err != nil {
			return nil, fmt.Errorf("sessionauth: Config.Store: %w", err)
		}
	}
	m := &Manager{
		idle:         cmp.Or(cfg.IdleTimeout, DefaultIdleTimeout),
		lifetime:     cmp.Or(cfg.Lifetime, DefaultLifetime),
		log:          cmp.Or(cfg.Logger, slog.Default()),
		onEvent:      cfg.OnEvent,
		now:          cfg.Now,
		errorHandler: cfg.ErrorHandler,
		access:       cfg.Access,
	}
	m.touchEvery = cfg.TouchInterval
	if m.touchEvery == 0 {
		m.touchEvery = min(DefaultTouchInterval, m.idle/10)
	}
	switch {
	case m.idle < 0 || m.lifetime < 0 || m.touchEvery < 0:
		return nil, errors.New("sessionauth: negative duration in Config")
	case m.touchEvery >= m.idle:
		return nil, fmt.Errorf("sessionauth: TouchInterval (%v) must be less than IdleTimeout (%v)", m.touchEvery, m.idle)
	case m.touchEvery == 0:
		return nil, fmt.Errorf("sessionauth: IdleTimeout (%v) too short", m.idle)
	case m.idle > MaxDuration || m.lifetime > MaxDuration:
		return nil, fmt.Errorf("sessionauth: IdleTimeout and Lifetime must be at most %v", MaxDuration)
	}
	if _, nonBlocking := cfg.Store.(NonBlockingStore); !nonBlocking && cfg.StoreTimeout >= 0 {
		m.timeout = cmp.Or(cfg.StoreTimeout, DefaultStoreTimeout)
	}
	if m.now == nil {
		m.now = time.Now
	}
	if m.errorHandler == nil {
		m.errorHandler = WriteError
	}
	m.challenge, m.challengeErr = challenges(cfg.Realm)
	m.ctx, _ = cfg.Store.(CtxStore)
	if m.ctx == nil {
		m.ctx = plainStore{cfg.Store}
	}
	m.full, _ = cfg.Store.(SessionStore)
	m.loader, _ = cfg.Store.(SessionLoader)
	switch it := cfg.Store.(type) {
	case IterableCtxStore:
		m.iter = it.AllCtx
	case IterableStore:
		m.iter = func(context.Context) (map[string][]byte, error) { return it.All() }
	}
	m.initDev(cfg.DevPrincipal)
	return m, nil
}

// IdleTimeout returns the Manager's idle timeout.
func (m *Manager) IdleTimeout() time.Duration { return m.idle }

// Lifetime returns the Manager's absolute session lifetime.
func (m *Manager) Lifetime() time.Duration { return m.lifetime }

// TouchInterval returns the Manager's touch interval.
func (m *Manager) TouchInterval() time.Duration { return m.touchEvery }

// isNil reports whether v is nil or a nil pointer, map, slice, channel or
// function in an interface, which would panic on the first request.
func isNil(v any) bool {
	r := reflect.ValueOf(v)
	return !r.IsValid() || slices.Contains(nilable, r.Kind()) && r.IsNil()
}

var nilable = []reflect.Kind{reflect.Pointer, reflect.Map, reflect.Slice, reflect.Chan, reflect.Func, reflect.Interface}

// Create starts a session for userID and returns its token and the session.
// The token is returned here and nowhere else: hand it to the client and drop
// it. Metadata is validated against its size limits (ErrInvalidMetadata); the
// UserAgent is truncated rather than rejected.
//
//	token, s, err := m.Create(ctx, user.ID, sessionauth.RequestMetadata(r))
func (m *Manager) Create(ctx context.Context, userID string, md Metadata) (string, *Session, error) {
	md.UserAgent = truncateUTF8(md.UserAgent, maxUserAgentLen)
	md.Values = cloneValues(md.Values)
	token, err := newToken(rand.Reader)
	if err != nil {
		return "", nil, err
	}
	rawID, err := newSessionID(rand.Reader)
	if err != nil {
		return "", nil, err
	}
	now := m.now().UTC()
	s := &Session{
		ID:            base64.RawURLEncoding.EncodeToString(rawID),
		UserID:        userID,
		CreatedAt:     now,
		LastUsedAt:    now,
		ExpiresAt:     now.Add(m.lifetime),
		IdleExpiresAt: now.Add(min(m.idle, m.lifetime)),
		Metadata:      md,
	}
	data, err := encodeRecord(s, rawID, m.idle)
	if err != nil {
		return "", nil, err
	}
	s.ref = &sessionRef{key: storeKey(hashToken(token)), idle: m.idle}
	if err := m.put(ctx, s.ref.key, userID, data, s.IdleExpiresAt); err != nil {
		return "", nil, err
	}
	m.emit(ctx, Event{Kind: EventSessionCreated, SessionID: s.ID, UserID: userID, RemoteAddr: md.IP})
	return token, s, nil
}

// Authenticate returns the live session of token and pushes its idle deadline
// forward (writing the store at most once per TouchInterval). It fails with
// ErrUnknownSession for a token that is malformed, unknown or revoked,
// ErrSessionExpired for an expired one, and ErrUnavailable (wrapping the
// cause) when the store fails. A failed touch is logged, not returned: the
// session was valid. Failures other than the store's are audit events.
func (m *Manager) Authenticate(ctx context.Context, token string) (*Session, error) {
	s, err := m.authenticate(ctx, token)
	if err != nil {
		m.authFailed(ctx, nil, token, s, err)
		return nil, err
	}
	return s, nil
}

// authenticate is Authenticate without audit events. With ErrSessionExpired
// it also returns the expired session, for the event to name it.
func (m *Manager) authenticate(ctx context.Context, token string) (*Session, error) {
	// Only a sessionauth_dev build knows the development token.
	if s, ok := m.dev.match(token); ok {
		return s, nil
	}
	if !wellFormedToken(token) {
		return nil, ErrUnknownSession
	}
	return m.authenticateWellFormed(ctx, token)
}

// authenticateWellFormed is authenticate for a token that wellFormedToken
// accepts, which the development token, shorter, is not.
func (m *Manager) authenticateWellFormed(ctx context.Context, token string) (*Session, error) {
	hash := hashToken(token)
	now := m.now()
	s, err := m.load(ctx, hash, now)
	switch {
	case err != nil:
		return nil, err
	case s == nil:
		return nil, ErrUnknownSession
	case !s.validAt(now):
		m.dropExpired(ctx, s)
		return s, ErrSessionExpired
	}
	return m.maybeTouch(ctx, hash, s, now), nil
}

// dropExpired deletes the record of a session refused as expired, so that
// it can never authenticate again, even if a clock steps back before the
// store's sweep would have reclaimed it. A failure is logged: the refusal
// stands either way.
func (m *Manager) dropExpired(ctx context.Context, s *Session) {
	if err := m.delete(ctx, s.ref.key); err != nil {
		m.reportOn(ctx, nil, s, Event{Kind: EventStoreFailure, Op: opDeleteExpired, Err: err})
	}
}

// Rotate replaces the token of session s: it returns a new token for the same
// session (same ID, user, data and deadlines) and the old token stops working,
// in one atomic step of the store. Rotate after a change of privilege, so a
// token seen before it is worthless. It fails with ErrUnknownSession if s was
// revoked or rotated already, ErrSessionExpired if it has expired, and
// ErrNotSupported on a store that is not a SessionStore.
func (m *Manager) Rotate(ctx context.Context, s *Session) (string, *Session, error) {
	if s == nil || s.ref == nil {
		return "", nil, ErrUnknownSession
	}
	if m.full == nil {
		return "", nil, fmt.Errorf("%w: Rotate needs a SessionStore", ErrNotSupported)
	}
	cur, err := m.get(ctx, s.ref.key)
	switch {
	case err != nil:
		return "", nil, err
	case cur == nil:
		return "", nil, ErrUnknownSession
	case !cur.validAt(m.now()):
		return "", nil, ErrSessionExpired
	}
	token, err := newToken(rand.Reader)
	if err != nil {
		return "", nil, err
	}
	newKey := storeKey(hashToken(token))
	sctx, cancel := m.storeContext(ctx)
	renamed, err := m.full.Rename(sctx, s.ref.key, newKey)
	err = m.callError(ctx, sctx, err)
	cancel()
	switch {
	case err != nil:
		return "", nil, err
	case !renamed:
		return "", nil, ErrUnknownSession
	}
	cur.ref = &sessionRef{key: newKey, idle: cur.ref.idle}
	m.emit(ctx, Event{Kind: EventSessionRotated, SessionID: cur.ID, UserID: cur.UserID})
	return token, cur, nil
}

// SetValues changes the Values of session s: each key is set to its value,
// and a key whose value is "" is removed. It re-reads the stored session and
// writes it back only if it still exists, atomically in the store, so it
// never undoes a concurrent revocation and never shortens the expiry. It
// returns the updated session, ErrUnknownSession if s was revoked, rotated or
// has expired, and ErrNotSupported on a store that is not a SessionStore.
func (m *Manager) SetValues(ctx context.Context, s *Session, values map[string]string) (*Session, error) {
	if s == nil || s.ref == nil {
		return nil, ErrUnknownSession
	}
	if m.full == nil {
		return nil, fmt.Errorf("%w: SetValues needs a SessionStore", ErrNotSupported)
	}
	cur, err := m.get(ctx, s.ref.key)
	if err != nil {
		return nil, err
	}
	if cur == nil || !cur.validAt(m.now()) {
		return nil, ErrUnknownSession
	}
	merged := make(map[string]string, len(cur.Values)+len(values))
	maps.Copy(merged, cur.Values)
	for k, v := range values {
		if v == "" {
			delete(merged, k)
		} else {
			merged[k] = v
		}
	}
	cur.Values = cloneValues(merged) // nil when empty, as decoded
	rawID, err := base64.RawURLEncoding.DecodeString(cur.ID)
	if err != nil || len(rawID) != sessionIDLen {
		return nil, fmt.Errorf("%w: session ID", ErrCorruptRecord)
	}
	data, err := encodeRecord(cur, rawID, cur.ref.idle)
	if err != nil {
		return nil, err
	}
	sctx, cancel := m.storeContext(ctx)
	updated, err := m.full.Update(sctx, cur.ref.key, data, cur.expiry())
	err = m.callError(ctx, sctx, err)
	cancel()
	switch {
	case err != nil:
		return nil, err
	case !updated:
		return nil, ErrUnknownSession
	}
	return cur, nil
}
