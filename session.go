package sessionauth

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"slices"
	"sync"
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
	if i := lastColon(ip); i >= 0 {
		ip = ip[:i]
	}
	ip = trimBrackets(ip)
	return Metadata{IP: truncateUTF8(ip, maxIPLen), UserAgent: truncateUTF8(r.UserAgent(), maxUserAgentLen)}
}

func lastColon(s string) int {
	for i := len(s) - 1; i >= 0; i-- {
		switch s[i] {
		case ':':
			return i
		case ']':
			return -1
		}
	}
	return -1
}

func trimBrackets(s string) string {
	if len(s) >= 2 && s[0] == '[' && s[len(s)-1] == ']' {
		return s[1 : len(s)-1]
	}
	return s
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
	store  Store
	ctx    CtxStore      // nil unless store is one
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
		store:        cfg.Store,
		idle:         cmp.Or(cfg.IdleTimeout, DefaultIdleTimeout),
		lifetime:     cmp.Or(cfg.Lifetime, DefaultLifetime),
		log:          cfg.Logger,
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
	switch _, nonBlocking := cfg.Store.(NonBlockingStore); {
	case nonBlocking || cfg.StoreTimeout < 0:
	case cfg.StoreTimeout == 0:
		m.timeout = DefaultStoreTimeout
	default:
		m.timeout = cfg.StoreTimeout
	}
	if m.log == nil {
		m.log = slog.Default()
	}
	if m.now == nil {
		m.now = time.Now
	}
	if m.errorHandler == nil {
		m.errorHandler = WriteError
	}
	m.challenge, m.challengeErr = challenges(cfg.Realm)
	m.onEvent = cfg.OnEvent
	m.ctx, _ = cfg.Store.(CtxStore)
	m.full, _ = cfg.Store.(SessionStore)
	m.loader, _ = cfg.Store.(SessionLoader)
	switch it := cfg.Store.(type) {
	case IterableCtxStore:
		m.iter = it.AllCtx
	case IterableStore:
		m.iter = func(context.Context) (map[string][]byte, error) { return it.All() }
	}
	m.touches.init()
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
	if v == nil {
		return true
	}
	switch r := reflect.ValueOf(v); r.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Chan, reflect.Func, reflect.Interface:
		return r.IsNil()
	}
	return false
}

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
		IdleExpiresAt: now.Add(m.idle),
		Metadata:      md,
	}
	if s.IdleExpiresAt.After(s.ExpiresAt) {
		s.IdleExpiresAt = s.ExpiresAt
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
	if s, ok := m.devSession(token); ok {
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
	var s *Session
	var err error
	if m.loader != nil {
		sctx, cancel := m.storeContext(ctx)
		s, err = m.loader.LoadSession(sctx, hash, now)
		err = m.callError(ctx, sctx, err)
		cancel()
		if errors.Is(err, ErrCorruptRecord) {
			m.logCorrupt(ctx, err) // as get does
			s, err = nil, nil
		}
	} else {
		s, err = m.get(ctx, storeKey(hash))
	}
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
		m.storeFailed(ctx, nil, opDeleteExpired, s, err)
	}
}

// maybeTouch pushes s's idle deadline forward, capped at the absolute one, if
// the uncapped deadline would move by at least TouchInterval and no other
// request of this process already did so.
func (m *Manager) maybeTouch(ctx context.Context, hash [32]byte, s *Session, now time.Time) *Session {
	// Decide on the uncapped deadline: near the absolute deadline the capped
	// one moves by less than TouchInterval, and skipping that last touch
	// would end a session in use before its Lifetime.
	// The test every request makes is on integer nanoseconds, the form the
	// record stores: time.Time's Add and Sub, which handle monotonic
	// readings and saturate, cost more than the rest of the test together.
	if m.full == nil {
		return s // a plain scs store cannot extend without a rewrite (see Store)
	}
	idleNS := s.IdleExpiresAt.UnixNano()
	if now.UnixNano()+int64(m.idle)-idleNS < int64(m.touchEvery) || idleNS >= s.ExpiresAt.UnixNano() {
		return s
	}
	want := now.Add(m.idle)
	if !m.touches.claim(hash, want, now, m.touchEvery) {
		return s
	}
	target := want
	if target.After(s.ExpiresAt) {
		target = s.ExpiresAt
	}
	sctx, cancel := m.storeContext(ctx)
	err := m.callError(ctx, sctx, m.full.Touch(sctx, s.ref.key, target))
	cancel()
	if err != nil {
		m.storeFailed(ctx, nil, opTouch, s, err)
		return s
	}
	t := *s
	t.IdleExpiresAt = target
	t.LastUsedAt = now.UTC()
	return &t
}

// Revoke ends session s at once: its token stops working on the next request
// of every process that shares the store, and so does the token of any
// rotation of s that raced it. Revoking a session that is already gone is not
// an error.
func (m *Manager) Revoke(ctx context.Context, s *Session) error {
	if s == nil || s.ref == nil {
		return nil // not from a store: the dev session, or a zero Session
	}
	if err := m.delete(ctx, s.ref.key); err != nil {
		return err
	}
	if m.full != nil {
		// A Rotate that won the race moved the session to a new key
		// before the delete; it cannot move it after (Rename needs the old
		// key), so chasing the ID once more finds it for good.
		if _, err := m.deleteID(ctx, s.UserID, s.ID); err != nil {
			return err
		}
	}
	m.emit(ctx, Event{Kind: EventSessionRevoked, SessionID: s.ID, UserID: s.UserID})
	return nil
}

// RevokeID ends the session of userID whose ID is sessionID, the form a
// "sign out that device" request takes, wherever a concurrent Rotate moved
// it. It returns ErrUnknownSession if userID has no such live session, so a
// user cannot revoke another's.
func (m *Manager) RevokeID(ctx context.Context, userID, sessionID string) error {
	found, err := m.deleteID(ctx, userID, sessionID)
	switch {
	case err != nil:
		return err
	case !found:
		return ErrUnknownSession
	}
	m.emit(ctx, Event{Kind: EventSessionRevoked, SessionID: sessionID, UserID: userID})
	return nil
}

// maxChase bounds how many times deleteID lists a user's sessions: each
// round that finds the session again means a Rotate moved it in between,
// which only the holder of its current token can do, that fast.
const maxChase = 16

// deleteID deletes every record of userID that holds session sessionID, and
// lists again until none is left, so that a Rotate moving the session while
// it works cannot save it. It reports whether it found one.
func (m *Manager) deleteID(ctx context.Context, userID, sessionID string) (found bool, err error) {
	for range maxChase {
		sessions, err := m.List(ctx, userID)
		if err != nil {
			return found, err
		}
		hit := false
		for _, s := range sessions {
			if s.ID != sessionID {
				continue
			}
			hit = true
			if err := m.delete(ctx, s.ref.key); err != nil {
				return found, err
			}
		}
		if !hit {
			return found, nil
		}
		found = true
	}
	return found, fmt.Errorf("%w: session %s kept moving while it was revoked", ErrUnavailable, sessionID)
}

// RevokeUser ends every session of userID except keep (none if keep is nil),
// for "sign out everywhere" and "sign out other devices". It reports how many
// sessions it ended. Stores that are neither SessionStore nor IterableStore
// return ErrNotSupported.
func (m *Manager) RevokeUser(ctx context.Context, userID string, keep *Session) (int, error) {
	except := ""
	if keep != nil && keep.ref != nil {
		except = keep.ref.key
	}
	if m.full != nil {
		sctx, cancel := m.storeContext(ctx)
		n, err := m.full.DeleteUser(sctx, userID, except)
		err = m.callError(ctx, sctx, err)
		cancel()
		m.userRevoked(ctx, userID, keep, n, err)
		return n, err
	}
	records, err := m.scanUser(ctx, userID)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, s := range records {
		if s.ref.key == except {
			continue
		}
		if err := m.delete(ctx, s.ref.key); err != nil {
			m.userRevoked(ctx, userID, keep, n, err)
			return n, err
		}
		n++
	}
	m.userRevoked(ctx, userID, keep, n, nil)
	return n, nil
}

// List returns the live sessions of userID, newest first. Sessions carry no
// token, so the list is safe to show to the user.
func (m *Manager) List(ctx context.Context, userID string) ([]*Session, error) {
	var sessions []*Session
	if m.full != nil {
		sctx, cancel := m.storeContext(ctx)
		records, err := m.full.ListUser(sctx, userID)
		err = m.callError(ctx, sctx, err)
		cancel()
		if err != nil {
			return nil, err
		}
		for _, r := range records {
			s, err := DecodeSession(r.Key, r.Data, r.Expiry)
			if err != nil {
				m.logCorrupt(ctx, err)
				continue
			}
			sessions = append(sessions, s)
		}
	} else {
		var err error
		if sessions, err = m.scanUser(ctx, userID); err != nil {
			return nil, err
		}
	}
	now := m.now()
	sessions = slices.DeleteFunc(sessions, func(s *Session) bool { return s.UserID != userID || !s.validAt(now) })
	slices.SortFunc(sessions, func(a, b *Session) int {
		return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	return sessions, nil
}

// scanUser is List and RevokeUser for a store that only iterates.
func (m *Manager) scanUser(ctx context.Context, userID string) ([]*Session, error) {
	if m.iter == nil {
		return nil, fmt.Errorf("%w: the store can neither list a user's sessions nor iterate", ErrNotSupported)
	}
	sctx, cancel := m.storeContext(ctx)
	all, err := m.iter(sctx)
	err = m.callError(ctx, sctx, err)
	cancel()
	if err != nil {
		return nil, err
	}
	var out []*Session
	for key, data := range all {
		s, err := DecodeSession(key, data, time.Time{})
		if err != nil || s.UserID != userID {
			continue // not ours: an scs application may share the store
		}
		out = append(out, s)
	}
	return out, nil
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
	merged := cloneValues(cur.Values)
	for k, v := range values {
		if v == "" {
			delete(merged, k)
			continue
		}
		if merged == nil {
			merged = make(map[string]string, len(values))
		}
		merged[k] = v
	}
	cur.Values = merged
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

func cloneValues(v map[string]string) map[string]string {
	if len(v) == 0 {
		return nil
	}
	c := make(map[string]string, len(v))
	for k, x := range v {
		c[k] = x
	}
	return c
}

// get returns the decoded session stored under key, nil if there is none. A
// corrupt record counts as none and is logged.
func (m *Manager) get(ctx context.Context, key string) (*Session, error) {
	data, expiry, found, err := m.getRaw(ctx, key)
	if errors.Is(err, ErrCorruptRecord) {
		m.logCorrupt(ctx, err)
		return nil, nil
	}
	if err != nil || !found {
		return nil, err
	}
	s, err := DecodeSession(key, data, expiry)
	if err != nil {
		m.logCorrupt(ctx, err)
		return nil, nil
	}
	return s, nil
}

func (m *Manager) logCorrupt(ctx context.Context, err error) {
	m.log.LogAttrs(ctx, slog.LevelError, "sessionauth: unreadable session record treated as absent", slog.Any("error", err))
}

func (m *Manager) getRaw(ctx context.Context, key string) (data []byte, expiry time.Time, found bool, err error) {
	sctx, cancel := m.storeContext(ctx)
	defer cancel()
	switch {
	case m.full != nil:
		data, expiry, found, err = m.full.Get(sctx, key)
	case m.ctx != nil:
		data, found, err = m.ctx.FindCtx(sctx, key)
	default:
		data, found, err = m.store.Find(key)
	}
	return data, expiry, found, m.callError(ctx, sctx, err)
}

func (m *Manager) put(ctx context.Context, key, userID string, data []byte, expiry time.Time) error {
	sctx, cancel := m.storeContext(ctx)
	defer cancel()
	var err error
	switch {
	case m.full != nil:
		err = m.full.Put(sctx, key, userID, data, expiry)
	case m.ctx != nil:
		err = m.ctx.CommitCtx(sctx, key, data, expiry)
	default:
		err = m.store.Commit(key, data, expiry)
	}
	return m.callError(ctx, sctx, err)
}

func (m *Manager) delete(ctx context.Context, key string) error {
	sctx, cancel := m.storeContext(ctx)
	defer cancel()
	var err error
	if m.ctx != nil {
		err = m.ctx.DeleteCtx(sctx, key)
	} else {
		err = m.store.Delete(key)
	}
	return m.callError(ctx, sctx, err)
}

// storeContext returns the context of one store call: ctx bounded by the
// StoreTimeout, or ctx itself for a NonBlockingStore. Call cancel when the
// call returns.
func (m *Manager) storeContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if m.timeout == 0 {
		return ctx, noCancel
	}
	return context.WithTimeout(ctx, m.timeout)
}

func noCancel() {}

// callError turns the error of a store call made under sctx, derived from
// ctx, into the Manager's: nil stays nil, a corrupt record stays
// ErrCorruptRecord (no session, not an outage), and anything else is
// ErrUnavailable. A call cut by the StoreTimeout says so and wraps
// context.DeadlineExceeded, whatever the store returned, so that it is
// logged as an outage; a call cut because the caller went away keeps the
// caller's context error.
func (m *Manager) callError(ctx, sctx context.Context, err error) error {
	switch {
	case err == nil || errors.Is(err, ErrUnavailable):
		return err
	case errors.Is(err, ErrCorruptRecord):
		return err
	case sctx != ctx && ctx.Err() == nil && errors.Is(sctx.Err(), context.DeadlineExceeded):
		return fmt.Errorf("%w: no answer within %v (%w): %w", ErrUnavailable, m.timeout, context.DeadlineExceeded, err)
	}
	return fmt.Errorf("%w: %w", ErrUnavailable, err)
}

// touchLimiter remembers, per session, the idle deadline this process last
// wrote, so that a burst of concurrent requests on one session writes the
// store once, not once per request. It only ever suppresses writes: a
// forgotten entry costs one extra write, never a wrong answer.
type touchLimiter struct {
	mu        sync.Mutex
	last      map[[32]byte]int64 // SHA-256 of token -> deadline written, Unix ns
	pruneSize int
}

const minPruneSize = 1024

func (l *touchLimiter) init() {
	l.last = make(map[[32]byte]int64)
	l.pruneSize = minPruneSize
}

// claim reports whether the caller should write target for hash; it records
// the claim so that other requests within interval of it do not.
func (l *touchLimiter) claim(hash [32]byte, target, now time.Time, interval time.Duration) bool {
	t := target.UnixNano()
	l.mu.Lock()
	defer l.mu.Unlock()
	if prev, ok := l.last[hash]; ok && t-prev < int64(interval) {
		return false
	}
	l.last[hash] = t
	if len(l.last) >= l.pruneSize {
		// Entries of sessions whose written deadline has passed are dead
		// weight; dropping them keeps the map near the live session count.
		n := now.UnixNano()
		for h, d := range l.last {
			if d <= n {
				delete(l.last, h)
			}
		}
		l.pruneSize = max(minPruneSize, 2*len(l.last))
	}
	return true
}
