// Package pgstore is a session store on PostgreSQL, through
// github.com/jackc/pgx/v5, for applications that run several instances and
// already keep their data in PostgreSQL: every instance sees a session
// created, touched or revoked by any other on its very next request.
//
//	pool, err := pgxpool.New(ctx, "postgres://app@db/app")
//	store, err := pgstore.New(ctx, pool, pgstore.Config{})
//	defer store.Close()
//	m, err := sessionauth.New(sessionauth.Config{Store: store})
//
// It implements sessionauth.SessionStore, and it is an scs store
// (scs.Store, scs.CtxStore, scs.IterableStore, scs.IterableCtxStore) for
// applications of github.com/alexedwards/scs/v2.
//
// # Schema
//
// New creates the sessions table and its indexes (on the user and on the
// expiry) on first use, records the schema version in the table
// sessionauth_schema, and migrates older tables. Applications that run their
// own migrations take the SQL from Schema and set Config.ManualSchema.
// Expiries are Unix nanoseconds in a bigint, compared against the store's
// clock (Config.Now) in every query: a session is live strictly before its
// expiry, whenever the sweep deletes it. Get alone returns a row that has
// expired but is still in the table, with its expiry, so that the Manager
// judges it by its own clock (see sessionauth.SessionStore).
//
// # Writes after reads
//
// Update, Touch and Rename are each one UPDATE that changes a row only if it
// is still there and live, so a revocation (a DELETE) that commits between
// the Manager's read and its write holds: the UPDATE finds no row. Rename
// rewrites the row's primary key in place, so the user it belongs to moves
// with it, and a DeleteUser running at the same time either sees the renamed
// row (PostgreSQL re-checks a row updated under it) or makes the Rename find
// nothing.
//
// # Deadlines
//
// Every call passes its context to pgx, which gives up at the context's
// deadline even on a server that accepted the connection and never answers.
//
// # Statements
//
// Every query is a fixed SQL text with parameters. pgx's default query mode,
// QueryExecModeCacheStatement, prepares each one once per connection and
// reuses it, so authenticating a request is one execution of a prepared
// SELECT by primary key. Behind a connection pooler in transaction mode
// (PgBouncer before 1.21), configure the pool with QueryExecModeExec or
// QueryExecModeSimpleProtocol instead.
//
// # Sweep
//
// A goroutine deletes expired sessions every SweepInterval, in batches, to
// reclaim space; it decides nothing about access. Close stops it.
package pgstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sessionauth/sessionauth"
	"github.com/sessionauth/sessionauth/internal/scsforward"
	"github.com/sessionauth/sessionauth/internal/sweeper"
	"github.com/sessionauth/sessionauth/internal/unixnano"
)

// Config configures a Store. The zero value means the defaults.
type Config struct {
	// Table is the name of the sessions table: 1 to 48 lower-case letters,
	// digits and underscores, resolved through the connection's
	// search_path. Indexes are named after it. Default: "sessionauth_sessions".
	Table string

	// ManualSchema stops New from creating and migrating the table: the
	// application has applied Schema(Table) itself. New still checks that
	// the table can be read. Default: false (New manages the schema).
	ManualSchema bool

	// SweepInterval is how often the background sweep deletes expired
	// sessions. A negative value disables it (call Sweep yourself).
	// Default: 5 minutes (DefaultSweepInterval).
	SweepInterval time.Duration

	// Now is the clock that decides expiry. Default: time.Now.
	Now func() time.Time

	// Logger receives failures of the background sweep. Default:
	// slog.Default().
	Logger *slog.Logger
}

// DefaultSweepInterval is the default of Config.SweepInterval.
const DefaultSweepInterval = 5 * time.Minute

// sweepBatch bounds the rows one DELETE of the sweep removes, so that the
// sweep never holds many row locks or builds one huge transaction.
const sweepBatch = 1000

// Store is a session store on PostgreSQL. It is safe for concurrent use.
// Call Close to stop its sweep. Every method of a zero Store fails with
// ErrNotBuilt.
//
// Find, Commit, Delete and All (scs.Store, scs.IterableStore) are FindCtx,
// CommitCtx, DeleteCtx and AllCtx without a deadline. A nil *Store is not a
// store: sessionauth.New refuses it, and its scs methods without a context
// panic.
type Store struct {
	scsMethods

	pool  *pgxpool.Pool
	owned bool // opened by Open: Close closes the pool
	now   func() time.Time
	log   *slog.Logger
	q     queries

	sweeper   *sweeper.Loop
	closeOnce sync.Once
}

// queries are the store's SQL texts for its table.
type queries struct {
	get, find, put, commit, update, touch, rename, del, listUser, deleteUser, all, sweep string
}

func newQueries(t string) queries {
	r := strings.NewReplacer("$t", t)
	return queries{
		get:  r.Replace(`SELECT data, expiry FROM $t WHERE key = $1`),
		find: r.Replace(`SELECT data FROM $t WHERE key = $1 AND expiry > $2`),
		// A live row keeps the later of its expiry and the new one; a dead
		// row takes the new one.
		put: r.Replace(`INSERT INTO $t AS s (key, user_id, data, expiry) VALUES ($1, $2, $3, $4)
ON CONFLICT (key) DO UPDATE SET user_id = excluded.user_id, data = excluded.data,
	expiry = CASE WHEN s.expiry > $5 THEN greatest(s.expiry, excluded.expiry) ELSE excluded.expiry END`),
		commit: r.Replace(`INSERT INTO $t (key, user_id, data, expiry) VALUES ($1, NULL, $2, $3)
ON CONFLICT (key) DO UPDATE SET user_id = NULL, data = excluded.data, expiry = excluded.expiry`),
		update:   r.Replace(`UPDATE $t SET data = $2, expiry = greatest(expiry, $3) WHERE key = $1 AND expiry > $4`),
		touch:    r.Replace(`UPDATE $t SET expiry = $2 WHERE key = $1 AND expiry > $3 AND expiry < $2`),
		rename:   r.Replace(`UPDATE $t SET key = $2 WHERE key = $1 AND expiry > $3`),
		del:      r.Replace(`DELETE FROM $t WHERE key = $1`),
		listUser: r.Replace(`SELECT key, data, expiry FROM $t WHERE user_id = $1 AND expiry > $2`),
		deleteUser: r.Replace(`WITH d AS (DELETE FROM $t WHERE user_id = $1 AND key <> $2 RETURNING expiry)
SELECT count(*) FROM d WHERE expiry > $3`),
		all: r.Replace(`SELECT key, data FROM $t WHERE expiry > $1`),
		// The outer condition is re-checked on a row that a concurrent Put
		// revived after the subquery picked it, so the sweep skips it.
		sweep: r.Replace(`DELETE FROM $t WHERE key IN (SELECT key FROM $t WHERE expiry <= $1 LIMIT ` +
			fmt.Sprint(sweepBatch) + `) AND expiry <= $1`),
	}
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
var ErrNotBuilt = errors.New("pgstore: Store not built by Open or New")

// uniqueViolation is PostgreSQL's SQLSTATE for a duplicate key.
const uniqueViolation = "23505"

// errRenameTarget is returned by Rename onto a key that exists. It replaces
// PostgreSQL's unique violation, whose detail quotes the key.
var errRenameTarget = errors.New("pgstore: rename: the new key already exists")

// Check implements sessionauth.CheckedStore: it fails with ErrNotBuilt for a
// Store that Open or New did not build. It sends nothing to the database.
func (s *Store) Check() error {
	if s == nil || s.pool == nil {
		return ErrNotBuilt
	}
	return nil
}

// New returns a Store that keeps its sessions in pool's database. Unless
// cfg.ManualSchema is set, it creates or migrates the table first (see the
// package documentation); it fails if the database cannot be reached, the
// table cannot be created or read, or cfg is invalid. The pool stays the
// caller's to close, after the Store's Close.
func New(ctx context.Context, pool *pgxpool.Pool, cfg Config) (*Store, error) {
	if pool == nil {
		return nil, errors.New("pgstore: nil pool")
	}
	table := cfg.Table
	if table == "" {
		table = DefaultTable
	}
	if err := checkTable(table); err != nil {
		return nil, err
	}
	if cfg.ManualSchema {
		if _, err := pool.Exec(ctx, `SELECT key, user_id, data, expiry FROM `+table+` WHERE false`); err != nil {
			return nil, fmt.Errorf("pgstore: checking table %s: %w", table, err)
		}
	} else if err := migrate(ctx, pool, table); err != nil {
		return nil, fmt.Errorf("pgstore: creating table %s: %w", table, err)
	}
	s := &Store{pool: pool, now: cfg.Now, log: cfg.Logger, q: newQueries(table)}
	s.scsMethods = scsMethods{S: s}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	interval := cfg.SweepInterval
	if interval == 0 {
		interval = DefaultSweepInterval
	}
	s.sweeper = sweeper.Start(interval, s.Sweep, func(err error) {
		s.log.LogAttrs(context.Background(), slog.LevelWarn, "pgstore: deleting expired sessions failed", slog.Any("error", err))
	})
	return s, nil
}

// Open connects to the database at url (a postgres:// URL or key=value
// string, as pgxpool.ParseConfig reads it) and returns a Store, as New does,
// that owns the pool: Close closes it.
func Open(ctx context.Context, url string, cfg Config) (*Store, error) {
	poolCfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx's message quotes the URL, with the password redacted only
		// on a best-effort basis.
		return nil, errors.New("pgstore: invalid PostgreSQL URL")
	}
	pool, err := pgxpool.NewWithConfig(ctx, poolCfg)
	if err != nil {
		return nil, fmt.Errorf("pgstore: %w", err)
	}
	s, err := New(ctx, pool, cfg)
	if err != nil {
		pool.Close()
		return nil, err
	}
	s.owned = true
	return s, nil
}

// Close stops the sweep and waits for it to return, then closes the pool if
// the Store was made by Open. Close is idempotent. A Store made by New stays
// usable after Close, without its sweep.
func (s *Store) Close() error {
	if err := s.Check(); err != nil {
		return err
	}
	s.closeOnce.Do(func() {
		s.sweeper.Stop()
		if s.owned {
			s.pool.Close()
		}
	})
	return nil
}

// Sweep deletes every expired session now, in batches, and reports how many
// it deleted. It only reclaims space: expired sessions are already invisible.
func (s *Store) Sweep(ctx context.Context) (int, error) {
	if err := s.Check(); err != nil {
		return 0, err
	}
	total := 0
	for {
		tag, err := s.pool.Exec(ctx, s.q.sweep, unixnano.From(s.now()))
		if err != nil {
			return total, wrap("sweep", err)
		}
		total += int(tag.RowsAffected())
		if tag.RowsAffected() < sweepBatch {
			return total, nil
		}
	}
}

// bytea returns data for the NOT NULL bytea column: pgx sends a nil slice as
// NULL, and scs and the Manager may both write empty data as nil. Binding
// nil as empty data is preferred to dropping NOT NULL: a new schema version
// would make every instance still running the previous release refuse the
// table (ErrSchemaTooNew) during a rolling upgrade, and no reader tells nil
// from empty data.
func bytea(data []byte) []byte {
	if data == nil {
		return []byte{}
	}
	return data
}

// wrap adds the operation to a database error. It never adds a key: keys
// are secrets, and pgx does not put query arguments in its errors.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("pgstore: %s: %w", op, err)
}

// Get implements sessionauth.SessionStore with one prepared SELECT. It
// returns a row that has expired but is still in the table, with its expiry.
func (s *Store) Get(ctx context.Context, key string) ([]byte, time.Time, bool, error) {
	if err := s.Check(); err != nil {
		return nil, time.Time{}, false, err
	}
	var data []byte
	var expiry int64
	err := s.pool.QueryRow(ctx, s.q.get, key).Scan(&data, &expiry)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, time.Time{}, false, nil
	}
	if err != nil {
		return nil, time.Time{}, false, wrap("get", err)
	}
	return data, unixnano.Time(expiry), true, nil
}

// Put implements sessionauth.SessionStore: it never shortens the expiry of a
// live session.
func (s *Store) Put(ctx context.Context, key, userID string, data []byte, expiry time.Time) error {
	if err := s.Check(); err != nil {
		return err
	}
	var user any // NULL for no user, as the scs interface writes
	if userID != "" {
		user = userID
	}
	_, err := s.pool.Exec(ctx, s.q.put, key, user, bytea(data), unixnano.From(expiry), unixnano.From(s.now()))
	return wrap("put", err)
}

// Update implements sessionauth.SessionStore with one UPDATE of a live row.
func (s *Store) Update(ctx context.Context, key string, data []byte, expiry time.Time) (bool, error) {
	if err := s.Check(); err != nil {
		return false, err
	}
	tag, err := s.pool.Exec(ctx, s.q.update, key, bytea(data), unixnano.From(expiry), unixnano.From(s.now()))
	if err != nil {
		return false, wrap("update", err)
	}
	return tag.RowsAffected() == 1, nil
}

// Rename implements sessionauth.SessionStore with one UPDATE of a live row's
// key. A newKey that already holds a row, live or not, is an error.
func (s *Store) Rename(ctx context.Context, oldKey, newKey string) (bool, error) {
	if err := s.Check(); err != nil {
		return false, err
	}
	tag, err := s.pool.Exec(ctx, s.q.rename, oldKey, newKey, unixnano.From(s.now()))
	if pgErr := (*pgconn.PgError)(nil); errors.As(err, &pgErr) && pgErr.Code == uniqueViolation {
		return false, errRenameTarget
	}
	if err != nil {
		return false, wrap("rename", err)
	}
	return tag.RowsAffected() == 1, nil
}

// Touch implements sessionauth.SessionStore.
func (s *Store) Touch(ctx context.Context, key string, expiry time.Time) error {
	if err := s.Check(); err != nil {
		return err
	}
	_, err := s.pool.Exec(ctx, s.q.touch, key, unixnano.From(expiry), unixnano.From(s.now()))
	return wrap("touch", err)
}

// ListUser implements sessionauth.SessionStore.
func (s *Store) ListUser(ctx context.Context, userID string) ([]sessionauth.Record, error) {
	if err := s.Check(); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, s.q.listUser, userID, unixnano.From(s.now()))
	if err != nil {
		return nil, wrap("list user", err)
	}
	var out []sessionauth.Record
	var r sessionauth.Record
	var expiry int64
	_, err = pgx.ForEachRow(rows, []any{&r.Key, &r.Data, &expiry}, func() error {
		out = append(out, sessionauth.Record{Key: r.Key, Data: r.Data, Expiry: unixnano.Time(expiry)})
		r.Data = nil // scanning into a nil slice allocates a fresh one per row
		return nil
	})
	if err != nil {
		return nil, wrap("list user", err)
	}
	return out, nil
}

// DeleteUser implements sessionauth.SessionStore.
func (s *Store) DeleteUser(ctx context.Context, userID, except string) (int, error) {
	if err := s.Check(); err != nil {
		return 0, err
	}
	var n int
	err := s.pool.QueryRow(ctx, s.q.deleteUser, userID, except, unixnano.From(s.now())).Scan(&n)
	if err != nil {
		return 0, wrap("delete user", err)
	}
	return n, nil
}

// FindCtx implements scs.CtxStore: unlike Get, it reports an expired row as
// not found.
func (s *Store) FindCtx(ctx context.Context, key string) ([]byte, bool, error) {
	if err := s.Check(); err != nil {
		return nil, false, err
	}
	var data []byte
	err := s.pool.QueryRow(ctx, s.q.find, key, unixnano.From(s.now())).Scan(&data)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, wrap("find", err)
	}
	return data, true, nil
}

// CommitCtx implements scs.CtxStore: it sets the data and expiry of key
// exactly, as scs expects, and the session belongs to no user.
func (s *Store) CommitCtx(ctx context.Context, key string, data []byte, expiry time.Time) error {
	if err := s.Check(); err != nil {
		return err
	}
	_, err := s.pool.Exec(ctx, s.q.commit, key, bytea(data), unixnano.From(expiry))
	return wrap("commit", err)
}

// DeleteCtx implements scs.CtxStore. Deleting a missing key is not an
// error.
func (s *Store) DeleteCtx(ctx context.Context, key string) error {
	if err := s.Check(); err != nil {
		return err
	}
	_, err := s.pool.Exec(ctx, s.q.del, key)
	return wrap("delete", err)
}

// AllCtx implements scs.IterableCtxStore: every live session by key.
func (s *Store) AllCtx(ctx context.Context) (map[string][]byte, error) {
	if err := s.Check(); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, s.q.all, unixnano.From(s.now()))
	if err != nil {
		return nil, wrap("all", err)
	}
	out := make(map[string][]byte)
	var key string
	var data []byte
	_, err = pgx.ForEachRow(rows, []any{&key, &data}, func() error {
		out[key] = data
		data = nil
		return nil
	})
	if err != nil {
		return nil, wrap("all", err)
	}
	return out, nil
}
