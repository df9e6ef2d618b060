// Package sqlitestore is a session store on a SQLite file, through
// modernc.org/sqlite: pure Go, no cgo, no server to install. It is the
// embedded default of sessionauth: sessions survive a restart.
//
//	store, err := sqlitestore.New("sessions.db", sqlitestore.Config{})
//	if err != nil {
//		return err
//	}
//	defer store.Close()
//	m, err := sessionauth.New(sessionauth.Config{Store: store})
//
// It implements every capability a sessionauth.Manager can use
// (sessionauth.SessionStore: per-user listing and revocation, and a touch
// that only moves an expiry forward and never rewrites data; and
// sessionauth.SessionLoader, through which a request reads the row but does
// not decode it again while it is unchanged), and it is also
// a store for github.com/alexedwards/scs/v2 (scs.Store, scs.CtxStore,
// scs.IterableStore and scs.IterableCtxStore): a SQLite store for scs
// applications that need no cgo.
//
// # Durability
//
// New opens the file in WAL mode with synchronous=FULL: when a write returns,
// it is on disk. A created session survives the process being killed and the
// machine losing power, and so does a revocation: a revoked token never comes
// back after a crash. Writes are rare (the Manager touches a session at most
// once per TouchInterval), so the fsync a write costs is cheap insurance.
//
// # Concurrency
//
// A Store is safe for concurrent use. It writes through a single connection,
// so that its writes queue in Go instead of contending for SQLite's lock, and
// reads through read-only connections, which WAL lets run alongside the
// writer: readers never wait for a writer. Lookups run on connections
// reserved for them, so that concurrent requests do not contend for a
// connection pool's lock.
//
// Any number of processes on one machine may share one file, each with its
// own Store: their reads run concurrently, and their writes take turns, each
// waiting up to Config.BusyTimeout for the others. The file must be on a
// local file system (WAL relies on shared memory, which network file systems
// do not provide). Processes on several machines need a shared server
// instead: see the redisstore and pgstore packages.
//
// Every call honours its context: one cancelled or past its deadline returns
// promptly with an error wrapping the context's error, even while another
// process holds the write lock. SQLite's own wait for a lock (busy_timeout)
// cannot be interrupted, so the Store's connections do not use it: a call
// that meets SQLITE_BUSY waits and retries in Go, for up to
// Config.BusyTimeout and never past its context.
//
// # Performance
//
// A lookup is one search of a B-tree keyed by the token hash. New creates
// files with 8 KiB pages, so that the tree of a million sessions is three
// levels deep, and maps the file into the read connections' memory
// (Config.MmapSize), so that visiting a page needs no system call: a lookup
// among a million sessions costs 1.3 to 1.5 times one among a thousand
// (BenchmarkLookup).
//
// # Schema
//
// Sessions live in the table sessionauth_sessions, keyed by the hex SHA-256
// of their token (never the token), with indexes on the user and the expiry.
// The schema version is kept in the table sessionauth_schema rather than in
// PRAGMA user_version, so the file may be the application's own database. New
// creates or upgrades the schema on first use, and refuses a file whose
// schema is newer than this package (ErrSchemaTooNew).
//
// # Expiry
//
// A session is live strictly before its expiry, by Config.Now. Get and
// LoadSession return a row the file still holds even if it has expired, with
// its expiry, for the Manager to judge by its own clock and delete; every
// other read and every write treats an expired row as absent. A background
// sweep deletes expired sessions in bounded batches to reclaim space, and
// stops on Close.
package sqlitestore

import (
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver

	"github.com/sessionauth/sessionauth"
	"github.com/sessionauth/sessionauth/internal/unixnano"
)

// Config configures a Store. The zero value means the defaults.
type Config struct {
	// BusyTimeout is how long a call retries SQLITE_BUSY, which SQLite
	// answers while another process (or another Store, or the
	// application's own connections with NewFromDB) holds the write lock,
	// or closes the file, before the call fails with that error. A call
	// never waits past its context, whatever BusyTimeout is. Default: 5
	// seconds.
	BusyTimeout time.Duration

	// MmapSize is how many bytes of the file the read connections map
	// into memory (PRAGMA mmap_size): a lookup then reads the pages it
	// visits without a system call, which keeps a lookup among a million
	// sessions within a small factor of one among a thousand. The cost: an
	// I/O error under a mapped page crashes the process instead of failing
	// the call; a negative value turns mapping off. Only New applies it.
	// Default: 1 GiB, about two million sessions.
	MmapSize int64

	// MaxReadConns is how many read connections New reserves for lookups
	// (Get and LoadSession), each with the lookup prepared on it; the other
	// reads share as many more. Each also keeps up to 1024 of the sessions
	// it decoded last (about 450 KB for typical sessions, 4 MB at worst).
	// Only New applies it. Default: GOMAXPROCS, at least 4.
	MaxReadConns int

	// SweepInterval is how often the background sweep deletes expired
	// sessions. A negative value disables it (call Sweep yourself).
	// Default: 5 minutes.
	SweepInterval time.Duration

	// SweepBatch is how many expired sessions one sweep statement deletes
	// at most; a sweep runs statements until none is left, and other
	// writes go in between, so a large backlog never holds the write lock
	// for long. Default: 1000.
	SweepBatch int

	// Now is the clock that decides expiry. Default: time.Now.
	Now func() time.Time

	// Logger receives failures of the background sweep. Default:
	// slog.Default().
	Logger *slog.Logger
}

// Defaults of Config.
const (
	DefaultBusyTimeout   = 5 * time.Second
	DefaultSweepInterval = 5 * time.Minute
	DefaultSweepBatch    = 1000
	DefaultMmapSize      = 1 << 30
)

// pageSize is the page size of a file New creates. Twice SQLite's default:
// the B-tree of a million sessions is then three levels deep instead of
// four, for writes that are each a few kilobytes larger.
const pageSize = 8192

// Store is a session store on a SQLite database. It is safe for concurrent
// use. Call Close to stop its sweep and close what it opened. A Store must be
// made by New or NewFromDB: every method of a zero Store fails (see Check).
type Store struct {
	read  *sql.DB // the caller's pool with NewFromDB
	write *sql.DB // nil with NewFromDB
	owned bool    // New opened read and write: Close closes them
	now   func() time.Time
	log   *slog.Logger
	batch int

	// busyTimeout bounds how long a call retries SQLITE_BUSY (see retry).
	busyTimeout time.Duration
	// onBusy, if set, is called each time a call meets SQLITE_BUSY and is
	// about to wait and retry: a hook for tests.
	onBusy func()

	// conn is the one connection every write runs on, held for the life
	// of the Store, with SQLite's busy wait off (see retry). writeSlot
	// holds the turn to use it, which a write waits for under its
	// context; closed is set under it by Close. With NewFromDB, conn is
	// one of the caller's connections, and restore resets what the Store
	// changed on it before Close gives it back.
	conn      *sql.Conn
	writeSlot chan struct{}
	closed    bool
	restore   []string

	// readers are New's dedicated read connections, each with its own
	// lookup statement, taken and given back by Get; nil with NewFromDB,
	// whose Get runs get on the caller's pool. A Get through a pool-level
	// statement locks the pool's mutex and searches the statement's
	// per-connection list on every call, which two cores contend for.
	// Close receives every reader back and then closes the channel.
	readers chan *reader

	get, listUser, all                               *sql.Stmt // on read
	put, commit, update, touch, rename, del, delUser *sql.Stmt // on conn
	sweep                                            *sql.Stmt // on conn

	stopSweep context.CancelFunc
	sweepDone chan struct{}
	closeOnce sync.Once
	closeErr  error
}

var (
	_ sessionauth.SessionStore     = (*Store)(nil)
	_ sessionauth.SessionLoader    = (*Store)(nil)
	_ sessionauth.IterableStore    = (*Store)(nil)
	_ sessionauth.IterableCtxStore = (*Store)(nil)
	_ sessionauth.CheckedStore     = (*Store)(nil)
)

// errNotMade is the error of every call on a Store that New or NewFromDB did
// not make.
var errNotMade = errors.New("sqlitestore: the Store was not made by New or NewFromDB")

// Check implements sessionauth.CheckedStore: it fails for a nil *Store and
// for a Store that New or NewFromDB did not make, on which every other call
// fails too. It does no I/O, and does not report a closed Store.
func (s *Store) Check() error {
	if s == nil || s.sweepDone == nil {
		return errNotMade
	}
	return nil
}

// New opens (creating it if needed) the SQLite database at path and returns
// a Store on it, with its schema created or upgraded. It fails with an error
// wrapping ErrSchemaTooNew if the file was written by a newer version of this
// package. Close closes the database.
func New(path string, cfg Config) (*Store, error) {
	if path == "" {
		return nil, errors.New("sqlitestore: empty database path")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: database path: %w", err)
	}
	mmap := cmp.Or(cfg.MmapSize, DefaultMmapSize)
	if mmap < 0 {
		mmap = 0
	}
	busyTimeout := cmp.Or(cfg.BusyTimeout, DefaultBusyTimeout)

	// One write connection: the Store's writes queue for it in Go. No
	// busy_timeout, on it or the read connections: SQLite's busy wait
	// ignores the context, so retry waits instead. The driver runs the
	// _pragma list before _journal_mode, as it must: the page size of a
	// new file can no longer change once it is in WAL mode.
	write, err := sql.Open("sqlite", dsn(abs, url.Values{
		"_pragma":       {"page_size(" + strconv.Itoa(pageSize) + ")"},
		"_journal_mode": {"WAL"},
		"_synchronous":  {"FULL"},
	}))
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: opening the database: %w", err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	write.SetConnMaxIdleTime(0)
	var conn *sql.Conn
	err = retryBusy(context.Background(), busyTimeout, nil, func() error {
		var err error
		if conn, err = write.Conn(context.Background()); err != nil {
			return err
		}
		return checkWAL(conn)
	})
	if err != nil {
		if conn != nil {
			conn.Close()
		}
		write.Close()
		return nil, fmt.Errorf("sqlitestore: opening the database: %w", err)
	}
	// Migrate before the read pool opens, so that it never sees a file
	// without the schema.
	err = retryBusy(context.Background(), busyTimeout, nil, func() error { return migrate(context.Background(), conn) })
	if err != nil {
		conn.Close()
		write.Close()
		return nil, err
	}

	read, err := sql.Open("sqlite", dsn(abs, url.Values{
		"_pragma":     {"mmap_size(" + strconv.FormatInt(mmap, 10) + ")"},
		"_query_only": {"1"},
	}))
	if err != nil {
		conn.Close()
		write.Close()
		return nil, fmt.Errorf("sqlitestore: opening the database: %w", err)
	}
	// n connections are reserved for Get (openReaders), and as many more
	// serve the other reads.
	n := cmp.Or(cfg.MaxReadConns, max(4, runtime.GOMAXPROCS(0)))
	read.SetMaxOpenConns(2 * n)
	read.SetMaxIdleConns(n)
	read.SetConnMaxLifetime(0)
	read.SetConnMaxIdleTime(0)

	s, err := newStore(read, conn, cfg)
	if err != nil {
		conn.Close()
		read.Close()
		write.Close()
		return nil, err
	}
	s.write, s.owned = write, true
	s.openReaders(n)
	return s, nil
}

// reader is a read connection reserved for Get, with the lookup prepared on
// it as a statement of the driver: a lookup runs inside conn.Raw, without
// database/sql's per-query bookkeeping (its rows, their dependency on the
// statement, argument conversion), which was a third of a request's
// allocations. conn is nil until the first Get that takes the reader opens
// it. Only the Get holding the reader uses it, args and dest.
type reader struct {
	conn *sql.Conn
	get  driverStmt
	args [1]driver.NamedValue
	dest [2]driver.Value
	// decoded holds the sessions this reader decoded last, by key, for
	// LoadSession to return again while their rows are unchanged.
	decoded map[string]decodedSession
}

// decodedSession is a row as LoadSession read it and the session it decoded.
type decodedSession struct {
	data string
	exp  int64
	sess *sessionauth.Session
}

// A reader keeps at most maxDecoded sessions, of rows of at most
// maxDecodedRow bytes (a session with a browser's User-Agent and a few
// Values is about 300): about 450 KB per reader for typical sessions, 4 MB
// at worst, times Config.MaxReadConns readers.
const (
	maxDecoded    = 1024
	maxDecodedRow = 1024
)

// driverStmt is what a reader needs of the driver's statement.
type driverStmt interface {
	driver.Stmt
	driver.StmtQueryContext
}

// lookup runs the prepared lookup; it is called inside r.conn.Raw.
func (r *reader) lookup(key string) (data []byte, exp int64, found bool, err error) {
	err = r.query(key, func(row []byte, e int64) error {
		// A driver may reuse the buffers it hands to Next.
		data, exp, found = bytes.Clone(row), e, true
		return nil
	})
	return data, exp, found, err
}

// load is lookup for LoadSession; it is called inside r.conn.Raw. A row
// equal, bytes and expiry, to the one this reader decoded last under key
// gives the same session again, without decoding it: any write to the row
// (a touch included) changes one or the other.
func (r *reader) load(key string) (sess *sessionauth.Session, err error) {
	found := false
	defer func() {
		if !found {
			delete(r.decoded, key) // revoked or swept: keep nothing of it
		}
	}()
	err = r.query(key, func(row []byte, exp int64) error {
		found = true
		if d, ok := r.decoded[key]; ok && d.exp == exp && d.data == string(row) {
			sess = d.sess
			return nil
		}
		s, err := sessionauth.DecodeSession(key, row, unixnano.Time(exp))
		if err != nil {
			delete(r.decoded, key)
			return err
		}
		if len(row) > maxDecodedRow {
			delete(r.decoded, key)
			sess = s
			return nil
		}
		if r.decoded == nil {
			r.decoded = make(map[string]decodedSession)
		}
		if _, ok := r.decoded[key]; !ok && len(r.decoded) >= maxDecoded {
			for k := range r.decoded { // one at random
				delete(r.decoded, k)
				break
			}
		}
		r.decoded[key] = decodedSession{data: string(row), exp: exp, sess: s}
		sess = s
		return nil
	})
	return sess, err
}

// query runs the prepared lookup and passes the row it found, if any, to
// found; the row's data is valid only until found returns.
func (r *reader) query(key string, found func(data []byte, exp int64) error) error {
	r.args[0] = driver.NamedValue{Ordinal: 1, Value: key}
	// The caller's context was checked before; the lookup itself is not
	// interrupted (see Get).
	rows, err := r.get.QueryContext(context.Background(), r.args[:])
	r.args = [1]driver.NamedValue{}
	if err != nil {
		return err
	}
	defer rows.Close()
	defer func() { r.dest = [2]driver.Value{} }()
	switch err := rows.Next(r.dest[:]); {
	case errors.Is(err, io.EOF):
		return nil
	case err != nil:
		return err
	}
	exp, ok := r.dest[1].(int64)
	if !ok {
		return fmt.Errorf("expiry of type %T", r.dest[1])
	}
	switch v := r.dest[0].(type) {
	case nil:
		return found(nil, exp)
	case []byte:
		return found(v, exp)
	default:
		return fmt.Errorf("data of type %T", v)
	}
}

// openReaders makes n slots for the connections Get reserves; the other
// reads (ListUser, All) share the rest of the pool. A slot's connection opens
// on its first use, as a pool's would: opening one while another Store on
// the file closes may fail with SQLITE_BUSY, which should fail that Get, not
// New.
func (s *Store) openReaders(n int) {
	s.readers = make(chan *reader, n)
	for range n {
		s.readers <- new(reader)
	}
}

// open reserves a connection for r and prepares the lookup on it, waiting
// for the pool no longer than ctx allows. On failure r stays empty, for a
// later Get to try again.
func (r *reader) open(ctx context.Context, db *sql.DB) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	err = conn.Raw(func(dc any) error {
		cp, ok := dc.(driver.ConnPrepareContext)
		if !ok {
			return fmt.Errorf("driver connection %T cannot prepare", dc)
		}
		stmt, err := cp.PrepareContext(context.WithoutCancel(ctx), qGet)
		if err != nil {
			return err
		}
		if r.get, ok = stmt.(driverStmt); !ok {
			stmt.Close()
			return fmt.Errorf("driver statement %T cannot query", stmt)
		}
		return nil
	})
	if err != nil {
		conn.Close()
		return err
	}
	r.conn = conn
	return nil
}

// closeReaders waits for every reader to come back from the Gets using
// them, closes them, and closes the channel, so that a later Get fails.
func (s *Store) closeReaders() error {
	if s.readers == nil {
		return nil
	}
	var errs []error
	for range cap(s.readers) {
		r := <-s.readers
		if r.conn != nil {
			errs = append(errs, r.conn.Raw(func(any) error { return r.get.Close() }), r.conn.Close())
		}
	}
	close(s.readers)
	return errors.Join(errs...)
}

// NewFromDB returns a Store on a database the caller opened with the
// "sqlite" driver of modernc.org/sqlite, creating or upgrading its schema,
// for an application that keeps its sessions in its own database file:
//
//	db, err := sql.Open("sqlite", "file:app.db?_journal_mode=WAL&_busy_timeout=5000")
//	store, err := sqlitestore.NewFromDB(db, sqlitestore.Config{})
//
// The database must be in WAL mode, so that reads never wait for a write:
// NewFromDB fails otherwise (a DSN's _journal_mode=WAL sets it, once and for
// good, in the file). The Store takes one connection of db for its writes and
// holds it until Close, as New's Store holds its own: db must allow at least
// two open connections, and NewFromDB fails if it allows only one. On that
// connection the Store sets synchronous=FULL, so that a revocation is on disk
// when it returns, and turns SQLite's busy wait off, to wait for the write
// lock itself under each call's context and Config.BusyTimeout (see Config);
// Close resets both and gives the connection back. The rest of the DSN is the
// caller's: the Store's reads run on db's other connections, as configured.
// A WAL reader meets a lock only in rare moments (while a crashed process's
// WAL is recovered, say), and a busy_timeout in the DSN makes it wait for it
// in SQLite, where no context can end the wait; without one, the Store waits
// itself, as for a write. Close leaves db open.
func NewFromDB(db *sql.DB, cfg Config) (*Store, error) {
	if db == nil {
		return nil, errors.New("sqlitestore: nil *sql.DB")
	}
	if db.Stats().MaxOpenConnections == 1 {
		return nil, errors.New("sqlitestore: the *sql.DB allows one connection, and the Store holds one for its writes: allow at least two")
	}
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: opening the database: %w", err)
	}
	restore, err := takeConn(ctx, conn)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("sqlitestore: opening the database: %w", err)
	}
	fail := func(err error) (*Store, error) {
		return nil, errors.Join(err, giveBack(conn, restore))
	}
	busyTimeout := cmp.Or(cfg.BusyTimeout, DefaultBusyTimeout)
	if err := retryBusy(ctx, busyTimeout, nil, func() error { return checkWAL(conn) }); err != nil {
		return fail(fmt.Errorf("sqlitestore: opening the database: %w", err))
	}
	if err := retryBusy(ctx, busyTimeout, nil, func() error { return migrate(ctx, conn) }); err != nil {
		return fail(err)
	}
	s, err := newStore(db, conn, cfg)
	if err != nil {
		return fail(err)
	}
	s.restore = restore
	return s, nil
}

// takeConn sets up conn, one of the caller's connections, for the Store's
// writes, and returns the statements that undo it.
func takeConn(ctx context.Context, conn *sql.Conn) (restore []string, err error) {
	var busy, sync int64
	if err := conn.QueryRowContext(ctx, "PRAGMA busy_timeout").Scan(&busy); err != nil {
		return nil, err
	}
	if err := conn.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&sync); err != nil {
		return nil, err
	}
	restore = []string{
		"PRAGMA busy_timeout = " + strconv.FormatInt(busy, 10),
		"PRAGMA synchronous = " + strconv.FormatInt(sync, 10),
	}
	for _, q := range []string{"PRAGMA busy_timeout = 0", "PRAGMA synchronous = FULL"} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return nil, errors.Join(err, giveBack(conn, restore))
		}
	}
	return restore, nil
}

// giveBack runs restore on conn and returns it to its pool.
func giveBack(conn *sql.Conn, restore []string) error {
	var errs []error
	for _, q := range restore {
		if _, err := conn.ExecContext(context.Background(), q); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(append(errs, conn.Close())...)
}

// dsn is the modernc.org/sqlite DSN of the file at the absolute path abs.
// The path is escaped, so that a '?' or '#' in it cannot start the query.
func dsn(abs string, q url.Values) string {
	return "file:" + (&url.URL{Path: filepath.ToSlash(abs)}).EscapedPath() + "?" + q.Encode()
}

// checkWAL fails unless the database is in WAL mode: on a file system that
// cannot hold its shared memory, SQLite silently keeps the rollback journal,
// under which readers and the writer block each other.
func checkWAL(conn *sql.Conn) error {
	var mode string
	if err := conn.QueryRowContext(context.Background(), "PRAGMA journal_mode").Scan(&mode); err != nil {
		return err
	}
	if mode != "wal" {
		return fmt.Errorf("the database is not in WAL mode (journal mode %q)", mode)
	}
	return nil
}

// The statements of the store. Expiries are Unix nanoseconds; a record is
// live strictly before its expiry. Each write is one statement, so one atomic
// step: it checks that the record is live and changes it under the write
// lock, and a revocation cannot land between the two.
const (
	// Get returns a row the file holds, expired or not: the Manager
	// judges expiry (see sessionauth.SessionStore).
	qGet = `SELECT data, expiry FROM sessionauth_sessions WHERE key = ?1`

	// The later expiry wins, so that a Put racing a Touch never shortens a
	// session. No need to tell live from expired records: a new expiry
	// earlier than an expired one is itself past, so the record stays
	// expired either way.
	qPut = `INSERT INTO sessionauth_sessions (key, user_id, data, expiry) VALUES (?1, ?2, ?3, ?4)
		ON CONFLICT (key) DO UPDATE SET
			user_id = excluded.user_id,
			data = excluded.data,
			expiry = max(expiry, excluded.expiry)`

	// scs semantics: data and expiry exactly as given, owned by no user.
	qCommit = `INSERT INTO sessionauth_sessions (key, user_id, data, expiry) VALUES (?1, '', ?2, ?3)
		ON CONFLICT (key) DO UPDATE SET user_id = '', data = excluded.data, expiry = excluded.expiry`

	qUpdate = `UPDATE sessionauth_sessions SET data = ?2, expiry = max(expiry, ?3) WHERE key = ?1 AND expiry > ?4`
	qTouch  = `UPDATE sessionauth_sessions SET expiry = ?1 WHERE key = ?2 AND expiry < ?1 AND expiry > ?3`

	// A new primary key moves the row, data, expiry and user, in one
	// statement. A newKey that exists fails the statement (a UNIQUE
	// constraint, whose message names the column, not the key), and then
	// nothing moves.
	qRename = `UPDATE sessionauth_sessions SET key = ?2 WHERE key = ?1 AND expiry > ?3`

	qDelete     = `DELETE FROM sessionauth_sessions WHERE key = ?1`
	qListUser   = `SELECT key, data, expiry FROM sessionauth_sessions WHERE user_id = ?1 AND expiry > ?2`
	qDeleteUser = `DELETE FROM sessionauth_sessions WHERE user_id = ?1 AND key <> ?2 RETURNING expiry`
	qAll        = `SELECT key, data FROM sessionauth_sessions WHERE expiry > ?1`

	// One statement selects and deletes, under the write lock: a record a
	// Put revives cannot be deleted on the strength of its old expiry.
	qSweep = `DELETE FROM sessionauth_sessions WHERE key IN
		(SELECT key FROM sessionauth_sessions WHERE expiry <= ?1 LIMIT ?2)`
)

// newStore prepares the statements of a Store that reads through read and
// writes on conn, and starts its sweep.
func newStore(read *sql.DB, conn *sql.Conn, cfg Config) (*Store, error) {
	s := &Store{
		read:      read,
		conn:      conn,
		writeSlot: make(chan struct{}, 1),
		now:       cfg.Now,
		log:       cmp.Or(cfg.Logger, slog.Default()),
		batch:     cmp.Or(cfg.SweepBatch, DefaultSweepBatch),
		sweepDone: make(chan struct{}),

		busyTimeout: cmp.Or(cfg.BusyTimeout, DefaultBusyTimeout),
	}
	if cfg.Now == nil {
		s.now = time.Now
	}
	if s.batch < 0 {
		return nil, errors.New("sqlitestore: negative SweepBatch")
	}
	ctx := context.Background()
	prepare := func(q string) (*sql.Stmt, error) { return read.PrepareContext(ctx, q) }
	prepareWrite := func(q string) (*sql.Stmt, error) { return conn.PrepareContext(ctx, q) }
	prepared := []struct {
		stmt    **sql.Stmt
		prepare func(string) (*sql.Stmt, error)
		query   string
	}{
		{&s.get, prepare, qGet},
		{&s.listUser, prepare, qListUser},
		{&s.all, prepare, qAll},
		{&s.put, prepareWrite, qPut},
		{&s.commit, prepareWrite, qCommit},
		{&s.update, prepareWrite, qUpdate},
		{&s.touch, prepareWrite, qTouch},
		{&s.rename, prepareWrite, qRename},
		{&s.del, prepareWrite, qDelete},
		{&s.delUser, prepareWrite, qDeleteUser},
		{&s.sweep, prepareWrite, qSweep},
	}
	for _, p := range prepared {
		stmt, err := p.prepare(p.query)
		if err != nil {
			s.closeStmts()
			return nil, fmt.Errorf("sqlitestore: preparing statements: %w", err)
		}
		*p.stmt = stmt
	}

	interval := cmp.Or(cfg.SweepInterval, DefaultSweepInterval)
	ctx, cancel := context.WithCancel(context.Background())
	s.stopSweep = cancel
	if interval < 0 {
		close(s.sweepDone)
	} else {
		go s.sweepLoop(ctx, interval)
	}
	return s, nil
}

// Close stops the background sweep, waiting for a running one to stop, waits
// for the writes under way, and closes the database if New opened it (with
// NewFromDB, it gives back the connection it took). Calls after Close fail.
// Close is idempotent and returns the same error every time.
func (s *Store) Close() error {
	if err := s.Check(); err != nil {
		return err
	}
	s.closeOnce.Do(func() {
		s.stopSweep()
		<-s.sweepDone
		s.writeSlot <- struct{}{}
		s.closed = true
		<-s.writeSlot
		errs := []error{s.closeReaders(), s.closeStmts(), giveBack(s.conn, s.restore)}
		if s.owned {
			// The write connection closes last: the last connection
			// to close checkpoints the WAL into the database file.
			errs = append(errs, s.read.Close(), s.write.Close())
		}
		if err := errors.Join(errs...); err != nil {
			s.closeErr = fmt.Errorf("sqlitestore: closing: %w", err)
		}
	})
	return s.closeErr
}

func (s *Store) closeStmts() error {
	var errs []error
	for _, stmt := range []*sql.Stmt{
		s.get, s.listUser, s.all,
		s.put, s.commit, s.update, s.touch, s.rename, s.del, s.delUser, s.sweep,
	} {
		if stmt != nil {
			errs = append(errs, stmt.Close())
		}
	}
	return errors.Join(errs...)
}

// blob returns data as a value SQLite stores as a blob: nil would be NULL.
func blob(data []byte) []byte {
	if data == nil {
		return []byte{}
	}
	return data
}

// Get implements sessionauth.SessionStore: it returns the row under key
// while the file holds it, with its expiry, even if that has passed.
//
// A context done before the call, or while it waits for a connection or
// retries SQLITE_BUSY, fails it; one done during the lookup does not
// interrupt it. A lookup is one B-tree search that never waits for a writer,
// over in microseconds, while handing the context to the driver would cost a
// goroutine per call on every request, and SQLite checks for an interrupt
// only between the steps of a statement, which a disk read does not end any
// sooner.
func (s *Store) Get(ctx context.Context, key string) ([]byte, time.Time, bool, error) {
	data, exp, found, err := s.lookup(ctx, key)
	if err != nil || !found {
		return nil, time.Time{}, false, err
	}
	return data, unixnano.Time(exp), true, nil
}

// lookup is Get, with the expiry in Unix nanoseconds.
func (s *Store) lookup(ctx context.Context, key string) (data []byte, exp int64, found bool, err error) {
	if err := s.Check(); err != nil {
		return nil, 0, false, err
	}
	if err := ctx.Err(); err != nil {
		return nil, 0, false, fmt.Errorf("sqlitestore: get: %w", err)
	}
	if s.readers == nil {
		return s.poolLookup(ctx, key)
	}
	err = s.withReader(ctx, func(r *reader) error {
		var err error
		data, exp, found, err = r.lookup(key)
		return err
	})
	if err != nil {
		return nil, 0, false, fmt.Errorf("sqlitestore: get: %w", err)
	}
	return data, exp, found, nil
}

// poolLookup is lookup for a Store without reserved readers (NewFromDB),
// through the pool.
func (s *Store) poolLookup(ctx context.Context, key string) (data []byte, exp int64, found bool, err error) {
	err = s.retry(ctx, func() error {
		err := s.get.QueryRowContext(context.WithoutCancel(ctx), key).Scan(&data, &exp)
		found = err == nil
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		return err
	})
	if err != nil {
		return nil, 0, false, fmt.Errorf("sqlitestore: get: %w", err)
	}
	return data, exp, found, nil
}

// LoadSession implements sessionauth.SessionLoader: the session of the row
// under the hash's key while the file holds it, expired or not (now is not
// needed: the Manager judges expiry). It reads the row on every call, as Get
// does, so that a revocation or a write by any process shows at once; what
// it saves is decoding it again: each reserved read connection keeps the
// sessions it decoded last (up to 1024), and hands one back while its row,
// data and expiry, is byte for byte the one it decoded. A record that does
// not decode is an error wrapping sessionauth.ErrCorruptRecord. The context
// is honoured as by Get.
func (s *Store) LoadSession(ctx context.Context, hash [32]byte, _ time.Time) (*sessionauth.Session, error) {
	if err := s.Check(); err != nil {
		return nil, err
	}
	var buf [2 * len(hash)]byte // one allocation for the key, not two
	hex.Encode(buf[:], hash[:])
	key := string(buf[:])
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("sqlitestore: get: %w", err)
	}
	if s.readers == nil {
		data, exp, found, err := s.lookup(ctx, key)
		if err != nil || !found {
			return nil, err
		}
		sess, err := sessionauth.DecodeSession(key, data, unixnano.Time(exp))
		if err != nil {
			return nil, fmt.Errorf("sqlitestore: get: %w", err)
		}
		return sess, nil
	}
	var sess *sessionauth.Session
	err := s.withReader(ctx, func(r *reader) error {
		var err error
		sess, err = r.load(key)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: get: %w", err)
	}
	return sess, nil
}

// withReader runs f inside the connection of a reader, waiting for a reader
// as long as ctx allows, opening its connection if need be, and retrying f
// while it meets SQLITE_BUSY.
func (s *Store) withReader(ctx context.Context, f func(*reader) error) error {
	var r *reader
	var ok bool
	select {
	case r, ok = <-s.readers:
	default:
		select {
		case r, ok = <-s.readers:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if !ok {
		return errStoreClosed
	}
	defer func() { s.readers <- r }()
	if r.conn == nil {
		if err := s.retry(ctx, func() error { return r.open(ctx, s.read) }); err != nil {
			return err
		}
	}
	return s.retry(ctx, func() error { return r.conn.Raw(func(any) error { return f(r) }) })
}

// errStoreClosed is the error of a call after Close.
var errStoreClosed = errors.New("store closed")

// exec runs stmt, a statement on the write connection, as a write (see
// writing), and returns how many rows it changed.
func (s *Store) exec(ctx context.Context, stmt *sql.Stmt, args ...any) (int64, error) {
	return s.execAt(ctx, stmt, func(int64) []any { return args })
}

// Put implements sessionauth.SessionStore: it never shortens the expiry of a
// live record.
func (s *Store) Put(ctx context.Context, key, userID string, data []byte, expiry time.Time) error {
	if err := s.Check(); err != nil {
		return err
	}
	if _, err := s.exec(ctx, s.put, key, userID, blob(data), unixnano.From(expiry)); err != nil {
		return fmt.Errorf("sqlitestore: put: %w", err)
	}
	return nil
}

// Update implements sessionauth.SessionStore, in one statement: the record
// changes only if it is live when the statement runs, under the write lock.
// Nil data is stored as empty, as by Put.
func (s *Store) Update(ctx context.Context, key string, data []byte, expiry time.Time) (bool, error) {
	if err := s.Check(); err != nil {
		return false, err
	}
	n, err := s.execAt(ctx, s.update, func(now int64) []any {
		return []any{key, blob(data), unixnano.From(expiry), now}
	})
	if err != nil {
		return false, fmt.Errorf("sqlitestore: update: %w", err)
	}
	return n > 0, nil
}

// Touch implements sessionauth.SessionStore.
func (s *Store) Touch(ctx context.Context, key string, expiry time.Time) error {
	if err := s.Check(); err != nil {
		return err
	}
	_, err := s.execAt(ctx, s.touch, func(now int64) []any {
		return []any{unixnano.From(expiry), key, now}
	})
	if err != nil {
		return fmt.Errorf("sqlitestore: touch: %w", err)
	}
	return nil
}

// Rename implements sessionauth.SessionStore, in one statement that gives
// the live row of oldKey the key newKey. It fails, moving nothing, if newKey
// is in the file, even expired.
func (s *Store) Rename(ctx context.Context, oldKey, newKey string) (bool, error) {
	if err := s.Check(); err != nil {
		return false, err
	}
	n, err := s.execAt(ctx, s.rename, func(now int64) []any {
		return []any{oldKey, newKey, now}
	})
	if err != nil {
		return false, fmt.Errorf("sqlitestore: rename: %w", err)
	}
	return n > 0, nil
}

// execAt is exec for a statement that tells live from expired rows: args
// gets the store's clock reading, taken for each attempt, so that a retry
// after a wait does not judge expiry at an instant already past.
func (s *Store) execAt(ctx context.Context, stmt *sql.Stmt, args func(now int64) []any) (int64, error) {
	var n int64
	err := s.writing(ctx, func() error {
		res, err := stmt.ExecContext(ctx, args(unixnano.From(s.now()))...)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}

// ListUser implements sessionauth.SessionStore.
func (s *Store) ListUser(ctx context.Context, userID string) ([]sessionauth.Record, error) {
	if err := s.Check(); err != nil {
		return nil, err
	}
	if userID == "" {
		return nil, nil // records written through scs belong to nobody
	}
	var out []sessionauth.Record
	err := s.retry(ctx, func() error {
		out = nil
		rows, err := s.listUser.QueryContext(ctx, userID, unixnano.From(s.now()))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var r sessionauth.Record
			var exp int64
			if err := rows.Scan(&r.Key, &r.Data, &exp); err != nil {
				return err
			}
			r.Expiry = unixnano.Time(exp)
			out = append(out, r)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: list user: %w", err)
	}
	return out, nil
}

// DeleteUser implements sessionauth.SessionStore, in one statement. It
// deletes the user's expired records too, but counts only the live ones.
func (s *Store) DeleteUser(ctx context.Context, userID, except string) (int, error) {
	if err := s.Check(); err != nil {
		return 0, err
	}
	if userID == "" {
		return 0, nil
	}
	n := 0
	err := s.writing(ctx, func() error {
		n = 0
		now := unixnano.From(s.now())
		rows, err := s.delUser.QueryContext(ctx, userID, except)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var exp int64
			if err := rows.Scan(&exp); err != nil {
				return err
			}
			if exp > now {
				n++
			}
		}
		return rows.Err()
	})
	if err != nil {
		return 0, fmt.Errorf("sqlitestore: delete user: %w", err)
	}
	return n, nil
}

// Find implements scs.Store.
func (s *Store) Find(key string) ([]byte, bool, error) {
	return s.FindCtx(context.Background(), key)
}

// FindCtx implements scs.CtxStore: unlike Get, it reports an expired record
// as missing, as scs expects.
func (s *Store) FindCtx(ctx context.Context, key string) ([]byte, bool, error) {
	data, exp, found, err := s.lookup(ctx, key)
	if err != nil || !found || exp <= unixnano.From(s.now()) {
		return nil, false, err
	}
	return data, true, nil
}

// Commit implements scs.Store: it sets the data and expiry of key exactly,
// as scs expects, and the record belongs to no user.
func (s *Store) Commit(key string, data []byte, expiry time.Time) error {
	return s.CommitCtx(context.Background(), key, data, expiry)
}

// CommitCtx implements scs.CtxStore.
func (s *Store) CommitCtx(ctx context.Context, key string, data []byte, expiry time.Time) error {
	if err := s.Check(); err != nil {
		return err
	}
	if _, err := s.exec(ctx, s.commit, key, blob(data), unixnano.From(expiry)); err != nil {
		return fmt.Errorf("sqlitestore: commit: %w", err)
	}
	return nil
}

// Delete implements scs.Store. Deleting a missing key is not an error.
func (s *Store) Delete(key string) error {
	return s.DeleteCtx(context.Background(), key)
}

// DeleteCtx implements scs.CtxStore.
func (s *Store) DeleteCtx(ctx context.Context, key string) error {
	if err := s.Check(); err != nil {
		return err
	}
	if _, err := s.exec(ctx, s.del, key); err != nil {
		return fmt.Errorf("sqlitestore: delete: %w", err)
	}
	return nil
}

// All implements scs.IterableStore: every live record by key.
func (s *Store) All() (map[string][]byte, error) {
	return s.AllCtx(context.Background())
}

// AllCtx implements scs.IterableCtxStore.
func (s *Store) AllCtx(ctx context.Context) (map[string][]byte, error) {
	if err := s.Check(); err != nil {
		return nil, err
	}
	var out map[string][]byte
	err := s.retry(ctx, func() error {
		out = make(map[string][]byte)
		rows, err := s.all.QueryContext(ctx, unixnano.From(s.now()))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var key string
			var data []byte
			if err := rows.Scan(&key, &data); err != nil {
				return err
			}
			out[key] = data
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: all: %w", err)
	}
	return out, nil
}
