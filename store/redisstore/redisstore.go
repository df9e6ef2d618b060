// Package redisstore is a session store on Redis, through
// github.com/redis/go-redis/v9, for applications that run several instances:
// every instance sees a session created, touched or revoked by any other on
// its very next request.
//
//	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
//	store, err := redisstore.New(client, redisstore.Config{})
//	m, err := sessionauth.New(sessionauth.Config{Store: store})
//
// It implements sessionauth.SessionStore, and it is an scs store
// (scs.Store, scs.CtxStore, scs.IterableStore, scs.IterableCtxStore) for
// applications of github.com/alexedwards/scs/v2. Redis 7.0 or later is
// required.
//
// # Keys
//
// With the default Prefix "sessionauth", a session lives in the string
// "{sessionauth}:s:<store key>" (a small header with its exact expiry and its
// user, then the data), and a user's sessions are indexed in the sorted set
// "{sessionauth}:u:<user ID>", whose members are store keys scored by their
// expiry in Unix milliseconds.
//
// # Cost
//
// Authenticating a request is one GET. Writes (create, touch, update, rename,
// revoke) are one Lua script each, which checks and updates a session and its
// user's index atomically: an update or a rename that lands after a
// revocation finds nothing and changes nothing. A Manager touches a session
// at most once per TouchInterval.
//
// # Expiry
//
// Redis deletes an expired session by itself: every session key has a TTL,
// which a touch only moves forward (PEXPIRE ... GT). The TTL is the time left
// by the store's clock (Config.Now) plus a second, so that neither skew
// between the application's clock and Redis's nor network latency makes Redis
// delete a session before it expires.
// What decides whether a session is live is the exact expiry in the value,
// checked against Config.Now on every read: a session is dead at its expiry,
// to the nanosecond, whenever Redis reclaims it. Get alone returns a session
// that Redis still holds after its expiry, with that expiry, so that the
// Manager judges it by its own clock (see sessionauth.SessionStore).
//
// # Deadlines
//
// go-redis ignores a context's deadline unless the client's
// ContextTimeoutEnabled option is set: a call on a Redis that accepts the
// connection and never answers would then wait for the client's read
// timeout (3 seconds by default, or forever when set to -1), past the
// Manager's Config.StoreTimeout. Open sets the option; New refuses a
// *redis.Client, *redis.ClusterClient or *redis.Ring without it, and for any
// other redis.UniversalClient it is the caller's to set.
//
// A user's index never keeps garbage for long: deleting a session removes
// it from the index in the same script; expired members are trimmed (and
// their sessions deleted) whenever the user's sessions are written or
// listed; and the index key's own TTL is that of its latest member, so the
// index of a user who stops signing in vanishes with their last session.
//
// # Cluster, Sentinel and replicas
//
// Every key of a Store carries the hash tag "{Prefix}", so all of them live
// in one Cluster slot. That is what lets a single script update a session and
// its user's index (Redis runs a script only over keys of one slot) and what
// keeps revocation exact; the price is that one Store's sessions live on one
// shard rather than spreading over the cluster. Sessions are a few hundred
// bytes, so a shard holds millions of them; an application that needs more
// can split its users over several Stores with distinct Prefixes.
//
// Sentinel deployments work through redis.NewFailoverClient or
// redis.NewUniversalClient. Do not send reads to replicas (ReadOnly,
// RouteByLatency, RouteRandomly): a replica lags its primary, and a session
// revoked on the primary would still authenticate on the replica.
//
// Run Redis with maxmemory-policy noeviction. Revoking every session of a
// user, revoking one by ID and following a rotation find sessions through
// the user's index key; a Redis that evicts keys under memory pressure could
// drop that index and leave its sessions working after "sign out
// everywhere". Revoking a session by its token deletes its key directly and
// holds whatever the policy.
package redisstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sessionauth/sessionauth"
	"github.com/sessionauth/sessionauth/internal/scsforward"
	"github.com/sessionauth/sessionauth/internal/unixnano"
)

// Config configures a Store. The zero value means the defaults.
type Config struct {
	// Prefix names the store's keys: every key starts with "{" + Prefix +
	// "}:". The braces make Prefix the Redis Cluster hash tag of every key
	// (see the package documentation). Stores with different Prefixes share
	// a Redis database without seeing each other's sessions. It must not
	// contain '{' or '}'. Default: "sessionauth".
	Prefix string

	// Now is the clock that decides expiry. Default: time.Now.
	Now func() time.Time

	// Logger receives a warning when All meets values under Prefix that
	// the store did not write (it never logs their keys). Default:
	// slog.Default().
	Logger *slog.Logger
}

// DefaultPrefix is the default of Config.Prefix.
const DefaultPrefix = "sessionauth"

// Store is a session store on Redis. It is safe for concurrent use and
// holds no goroutine of its own.
//
// Find, Commit, Delete and All (scs.Store, scs.IterableStore) are FindCtx,
// CommitCtx, DeleteCtx and AllCtx without a deadline. A nil *Store is not a
// store: sessionauth.New refuses it, and its scs methods without a context
// panic.
type Store struct {
	scsMethods

	client  redis.UniversalClient
	owned   bool // opened by Open: Close closes the client
	now     func() time.Time
	log     *slog.Logger
	session string // key prefix of sessions: "{Prefix}:s:"
	user    string // key prefix of user indexes: "{Prefix}:u:"
	pattern string // SCAN pattern matching every session key
}

// scsMethods gives Store scs's methods without a context; the alias keeps the
// embedded field unexported.
type scsMethods = scsforward.Methods[*Store]

var (
	_ sessionauth.SessionStore     = (*Store)(nil)
	_ sessionauth.IterableStore    = (*Store)(nil)
	_ sessionauth.IterableCtxStore = (*Store)(nil)
	_ sessionauth.CheckedStore     = (*Store)(nil)
)

// ErrNotBuilt is the error of every method of a Store that Open or New did
// not build (a zero value, or a nil pointer except for the scs methods
// without a context), which fails instead of panicking.
var ErrNotBuilt = errors.New("redisstore: Store not built by Open or New")

// New returns a Store that keeps its sessions through client, which may be
// a *redis.Client, a *redis.ClusterClient, a Sentinel failover client or a
// *redis.Ring. New sends nothing to Redis; the client stays the caller's to
// close. It fails for an invalid Config, and for a client whose
// ContextTimeoutEnabled option is off (see Deadlines in the package
// documentation): set it when you build the client.
//
//	client := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true})
func New(client redis.UniversalClient, cfg Config) (*Store, error) {
	if err := checkClient(client); err != nil {
		return nil, err
	}
	prefix := cfg.Prefix
	if prefix == "" {
		prefix = DefaultPrefix
	}
	if strings.ContainsAny(prefix, "{}") {
		return nil, errors.New("redisstore: Config.Prefix must not contain '{' or '}'")
	}
	s := &Store{
		client:  client,
		now:     cfg.Now,
		session: "{" + prefix + "}:s:",
		user:    "{" + prefix + "}:u:",
		pattern: "{" + globEscape(prefix) + "}:s:*",
	}
	s.scsMethods = scsMethods{S: s}
	if s.now == nil {
		s.now = time.Now
	}
	s.log = cfg.Logger
	if s.log == nil {
		s.log = slog.Default()
	}
	return s, nil
}

// errIgnoresDeadlines is the error of New and NewLimitStore for a client that
// would not let a context's deadline bound its calls.
var errIgnoresDeadlines = errors.New("redisstore: the client's ContextTimeoutEnabled option is off: go-redis would ignore context deadlines and a hung Redis would hold requests past their timeout")

// checkClient fails for a nil client and for one whose options say it
// ignores context deadlines.
func checkClient(client redis.UniversalClient) error {
	switch {
	case client == nil:
		return errors.New("redisstore: nil client")
	case !honoursDeadlines(client):
		return errIgnoresDeadlines
	}
	return nil
}

// honoursDeadlines reports whether client lets a context's deadline bound
// its calls, as far as its options can tell; a client of another type is
// assumed to.
func honoursDeadlines(client redis.UniversalClient) bool {
	switch c := client.(type) {
	case *redis.Client:
		return c.Options().ContextTimeoutEnabled
	case *redis.ClusterClient:
		return c.Options().ContextTimeoutEnabled
	case *redis.Ring:
		return c.Options().ContextTimeoutEnabled
	}
	return true
}

// Check implements sessionauth.CheckedStore: it fails with ErrNotBuilt for a
// Store that Open or New did not build. It sends nothing to Redis.
func (s *Store) Check() error {
	if s == nil || s.client == nil {
		return ErrNotBuilt
	}
	return nil
}

// Open connects to the Redis server at url ("redis://[[user]:password@]host
// [:port][/db]", or "rediss://" for TLS, as redis.ParseURL reads it), checks
// that it answers, and returns a Store that owns the connection: Close closes
// it. For Cluster or Sentinel, build the client yourself and call New. Errors
// never repeat the URL, which may hold a password.
func Open(ctx context.Context, url string, cfg Config) (*Store, error) {
	opts, err := redis.ParseURL(url)
	if err != nil {
		return nil, errors.New("redisstore: invalid Redis URL")
	}
	// Without it go-redis ignores the deadline of every ctx it is given.
	opts.ContextTimeoutEnabled = true
	client := redis.NewClient(opts)
	if err := client.Ping(ctx).Err(); err != nil {
		_ = client.Close()
		return nil, fmt.Errorf("redisstore: connecting to Redis: %w", err)
	}
	s, err := New(client, cfg)
	if err != nil {
		_ = client.Close()
		return nil, err
	}
	s.owned = true
	return s, nil
}

// Close closes the client if the Store was made by Open, and does nothing
// for a Store made by New, whose client belongs to the caller.
func (s *Store) Close() error {
	if err := s.Check(); err != nil {
		return err
	}
	if s.owned {
		return s.client.Close()
	}
	return nil
}

// globEscape escapes the characters that SCAN's MATCH treats as special.
func globEscape(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		switch c {
		case '*', '?', '[', ']', '\\':
			b.WriteByte('\\')
		}
		b.WriteByte(c)
	}
	return b.String()
}

// wrap adds the operation to a Redis error. It never adds a key: keys are
// secrets.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("redisstore: %s: %w", op, err)
}

// Get implements sessionauth.SessionStore with a single GET. It returns a
// session that Redis still holds after its expiry, with that expiry; a
// value the store did not write is an error wrapping
// sessionauth.ErrCorruptRecord.
func (s *Store) Get(ctx context.Context, key string) ([]byte, time.Time, bool, error) {
	if err := s.Check(); err != nil {
		return nil, time.Time{}, false, err
	}
	v, err := s.client.Get(ctx, s.session+key).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, time.Time{}, false, nil
	}
	if err != nil {
		return nil, time.Time{}, false, wrap("get", err)
	}
	data, expiry, err := decodeValue(v)
	if err != nil {
		return nil, time.Time{}, false, err
	}
	return data, unixnano.Time(expiry), true, nil
}

// Put implements sessionauth.SessionStore: it never shortens the expiry of a
// live session.
func (s *Store) Put(ctx context.Context, key, userID string, data []byte, expiry time.Time) error {
	return s.write(ctx, "put", key, userID, data, expiry, true)
}

func (s *Store) write(ctx context.Context, op, key, userID string, data []byte, expiry time.Time, keepLater bool) error {
	if err := s.Check(); err != nil {
		return err
	}
	v, err := encodeValue(expiry, userID, data)
	if err != nil {
		return err
	}
	keys := []string{s.session + key}
	if userID != "" {
		keys = append(keys, s.user+userID)
	}
	keep := "0"
	if keepLater {
		keep = "1"
	}
	err = putScript.Run(ctx, s.client, keys, v, instant(s.now()), keep, key, s.user, s.session).Err()
	return wrap(op, err)
}

// Update implements sessionauth.SessionStore with one script, which checks
// that the session is live and rewrites it atomically.
func (s *Store) Update(ctx context.Context, key string, data []byte, expiry time.Time) (bool, error) {
	if err := s.Check(); err != nil {
		return false, err
	}
	n, err := updateScript.Run(ctx, s.client, []string{s.session + key},
		data, instant(expiry), instant(s.now()), key, s.user).Int()
	if err != nil {
		return false, wrap("update", err)
	}
	return n == 1, nil
}

// Rename implements sessionauth.SessionStore with one script, which moves
// the value with its TTL (RENAME) and its user's index entry atomically.
// A newKey that already holds a value is an error.
func (s *Store) Rename(ctx context.Context, oldKey, newKey string) (bool, error) {
	if err := s.Check(); err != nil {
		return false, err
	}
	n, err := renameScript.Run(ctx, s.client, []string{s.session + oldKey, s.session + newKey},
		instant(s.now()), oldKey, newKey, s.user).Int()
	if err != nil {
		return false, wrap("rename", err)
	}
	return n == 1, nil
}

// Touch implements sessionauth.SessionStore.
func (s *Store) Touch(ctx context.Context, key string, expiry time.Time) error {
	if err := s.Check(); err != nil {
		return err
	}
	err := touchScript.Run(ctx, s.client, []string{s.session + key},
		instant(expiry), instant(s.now()), key, s.user).Err()
	return wrap("touch", err)
}

// ListUser implements sessionauth.SessionStore.
func (s *Store) ListUser(ctx context.Context, userID string) ([]sessionauth.Record, error) {
	if err := s.Check(); err != nil {
		return nil, err
	}
	if userID == "" {
		return nil, nil
	}
	res, err := listScript.Run(ctx, s.client, []string{s.user + userID},
		instant(s.now()), s.session, userID).Slice()
	if err != nil {
		return nil, wrap("list user", err)
	}
	out := make([]sessionauth.Record, 0, len(res)/2)
	for i := 0; i+1 < len(res); i += 2 {
		key, ok1 := res[i].(string)
		v, ok2 := res[i+1].(string)
		if !ok1 || !ok2 {
			return nil, errCorrupt
		}
		data, expiry, err := decodeValue([]byte(v))
		if err != nil {
			return nil, err
		}
		out = append(out, sessionauth.Record{Key: key, Data: data, Expiry: unixnano.Time(expiry)})
	}
	return out, nil
}

// DeleteUser implements sessionauth.SessionStore.
func (s *Store) DeleteUser(ctx context.Context, userID, except string) (int, error) {
	if err := s.Check(); err != nil {
		return 0, err
	}
	if userID == "" {
		return 0, nil
	}
	n, err := deleteUserScript.Run(ctx, s.client, []string{s.user + userID},
		instant(s.now()), s.session, userID, except).Int()
	return n, wrap("delete user", err)
}

// FindCtx implements scs.CtxStore: unlike Get, it reports an expired
// session as not found.
func (s *Store) FindCtx(ctx context.Context, key string) ([]byte, bool, error) {
	data, expiry, found, err := s.Get(ctx, key)
	if err != nil || !found || unixnano.From(expiry) <= nanos(s.now()) {
		return nil, false, err
	}
	return data, true, nil
}

// CommitCtx implements scs.CtxStore: it sets the data and expiry of key
// exactly, as scs expects, and the session belongs to no user.
func (s *Store) CommitCtx(ctx context.Context, key string, data []byte, expiry time.Time) error {
	return s.write(ctx, "commit", key, "", data, expiry, false)
}

// DeleteCtx implements scs.CtxStore. Deleting a missing key is not an
// error.
func (s *Store) DeleteCtx(ctx context.Context, key string) error {
	if err := s.Check(); err != nil {
		return err
	}
	err := deleteScript.Run(ctx, s.client, []string{s.session + key}, key, s.user).Err()
	return wrap("delete", err)
}

// scanBatch is the COUNT hint of SCAN and the size of each MGET.
const scanBatch = 256

// AllCtx implements scs.IterableCtxStore: every live session by key. It
// walks the keyspace with SCAN, so its cost grows with the size of the Redis
// database. A value under the prefix that the store did not write is
// skipped, and Config.Logger is warned once per call that there were such
// values.
func (s *Store) AllCtx(ctx context.Context) (map[string][]byte, error) {
	if err := s.Check(); err != nil {
		return nil, err
	}
	now := nanos(s.now())
	out := make(map[string][]byte)
	foreign := 0
	var mu sync.Mutex
	scan := func(ctx context.Context, c redis.Cmdable) error {
		flush := func(keys []string) error {
			vals, err := c.MGet(ctx, keys...).Result()
			if err != nil {
				return err
			}
			mu.Lock()
			defer mu.Unlock()
			for i, x := range vals {
				v, ok := x.(string)
				if !ok {
					continue // deleted since the SCAN
				}
				data, expiry, err := decodeValue([]byte(v))
				if err != nil {
					foreign++
					continue
				}
				if expiry > now {
					out[strings.TrimPrefix(keys[i], s.session)] = data
				}
			}
			return nil
		}
		it := c.Scan(ctx, 0, s.pattern, scanBatch).Iterator()
		keys := make([]string, 0, scanBatch)
		for it.Next(ctx) {
			if keys = append(keys, it.Val()); len(keys) == scanBatch {
				if err := flush(keys); err != nil {
					return err
				}
				keys = keys[:0]
			}
		}
		if err := it.Err(); err != nil {
			return err
		}
		if len(keys) > 0 {
			return flush(keys)
		}
		return nil
	}
	var err error
	switch c := s.client.(type) {
	case *redis.ClusterClient:
		// SCAN walks a single node; asking every master finds the
		// store's slot wherever the cluster has put it.
		err = c.ForEachMaster(ctx, func(ctx context.Context, n *redis.Client) error { return scan(ctx, n) })
	case *redis.Ring:
		err = c.ForEachShard(ctx, func(ctx context.Context, n *redis.Client) error { return scan(ctx, n) })
	default:
		err = scan(ctx, s.client)
	}
	if err != nil {
		return nil, wrap("scan", err)
	}
	if foreign > 0 {
		s.log.LogAttrs(ctx, slog.LevelWarn, "redisstore: skipped values under the store's prefix that it did not write",
			slog.Int("count", foreign))
	}
	return out, nil
}
