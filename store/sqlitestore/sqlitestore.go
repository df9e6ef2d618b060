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
// writer: readers never wait for a writer and never see SQLITE_BUSY. Lookups
// run on connections reserved for them, so that concurrent requests do not
// contend for a connection pool's lock.
//
// Any number of processes on one machine may share one file, each with its
// own Store: their reads run concurrently, and their writes take turns, each
// waiting up to Config.BusyTimeout for the others. The file must be on a
// local file system (WAL relies on shared memory, which network file systems
// do not provide). Processes on several machines need a shared server
// instead: see the redisstore and pgstore packages.
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
// Every read checks the expiry itself: a session is live strictly before its
// expiry, by Config.Now (LoadSession: at the instant the Manager passes). A background sweep deletes expired sessions in
// bounded batches to reclaim space, and stops on Close.
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
	"math"
	"net/url"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"time"

	"modernc.org/sqlite" // the "sqlite" database/sql driver, and its errors

	"github.com/sessionauth/sessionauth"
)

// Config configures a Store. The zero value means the defaults.
type Config struct {
	// BusyTimeout is how long a write waits for the write lock of another
	// process (or another Store on the same file) before it fails, and how
	// long opening a connection retries while another one closes the file. Only New
	// applies it; with NewFromDB, set busy_timeout in the DSN. Default: 5
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
// use. Call Close to stop its sweep and close what it opened.
type Store struct {
	read, write *sql.DB // the same pool when the caller supplied it
	owned       bool    // New opened read and write: Close closes them
	now         func() time.Time
	log         *slog.Logger
	batch       int

	// busyTimeout bounds how long opening a reserved read connection
	// retries SQLITE_BUSY (see retryBusy).
	busyTimeout time.Duration

	// readers are New's dedicated read connections, each with its own
	// lookup statement, taken and given back by Get; nil with NewFromDB,
	// whose Get runs get on the caller's pool. A Get through a pool-level
	// statement locks the pool's mutex and searches the statement's
	// per-connection list on every call, which two cores contend for.
	// Close receives every reader back and then closes the channel.
	readers chan *reader

	get, listUser, all                      *sql.Stmt // on read
	put, commit, touch, del, delUser, sweep *sql.Stmt // on write

	stopSweep context.CancelFunc
	sweepDone chan struct{}
	closeOnce sync.Once
	closeErr  error
}

var (
	_ sessionauth.SessionStore  = (*Store)(nil)
	_ sessionauth.SessionLoader = (*Store)(nil)
	_ sessionauth.IterableStore = (*Store)(nil)
)

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
	busy := strconv.FormatInt(cmp.Or(cfg.BusyTimeout, DefaultBusyTimeout).Milliseconds(), 10)
	mmap := cmp.Or(cfg.MmapSize, DefaultMmapSize)
	if mmap < 0 {
		mmap = 0
	}

	// One write connection: the Store's writes queue for it in Go, and
	// _txlock=immediate makes any transaction take the write lock up
	// front rather than fail to upgrade a read lock. The driver runs the
	// _pragma list before _journal_mode, as it must: the page size of a
	// new file can no longer change once it is in WAL mode.
	write, err := sql.Open("sqlite", dsn(abs, url.Values{
		"_busy_timeout": {busy},
		"_pragma":       {"page_size(" + strconv.Itoa(pageSize) + ")"},
		"_journal_mode": {"WAL"},
		"_synchronous":  {"FULL"},
		"_txlock":       {"immediate"},
	}))
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: opening the database: %w", err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	write.SetConnMaxIdleTime(0)
	busyTimeout := cmp.Or(cfg.BusyTimeout, DefaultBusyTimeout)
	if err := retryBusy(busyTimeout, func() error { return checkWAL(write) }); err != nil {
		write.Close()
		return nil, err
	}
	// Migrate before the read pool opens, so that it never sees a file
	// without the schema.
	if err := retryBusy(busyTimeout, func() error { return migrate(context.Background(), write) }); err != nil {
		write.Close()
		return nil, err
	}

	read, err := sql.Open("sqlite", dsn(abs, url.Values{
		"_busy_timeout": {busy},
		"_pragma":       {"mmap_size(" + strconv.FormatInt(mmap, 10) + ")"},
		"_query_only":   {"1"},
	}))
	if err != nil {
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

	s, err := newStore(read, write, true, cfg)
	if err != nil {
		read.Close()
		write.Close()
		return nil, err
	}
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
	args [2]driver.NamedValue
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
func (r *reader) lookup(key string, now int64) (data []byte, exp int64, found bool, err error) {
	err = r.query(key, now, func(row []byte, e int64) error {
		// A driver may reuse the buffers it hands to Next.
		data, exp, found = bytes.Clone(row), e, true
		return nil
	})
	return data, exp, found, err
}

// load is lookup for LoadSession; it is called inside r.conn.Raw. A row
// equal to the one this reader decoded last under key gives the same
// session again, without decoding it.
func (r *reader) load(key string, now int64) (sess *sessionauth.Session, err error) {
	found := false
	defer func() {
		if !found {
			delete(r.decoded, key) // revoked or expired: keep nothing of it
		}
	}()
	err = r.query(key, now, func(row []byte, exp int64) error {
		found = true
		if d, ok := r.decoded[key]; ok && d.exp == exp && d.data == string(row) {
			sess = d.sess
			return nil
		}
		s, err := sessionauth.DecodeSession(key, row, time.Unix(0, exp))
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
func (r *reader) query(key string, now int64, found func(data []byte, exp int64) error) error {
	r.args[0] = driver.NamedValue{Ordinal: 1, Value: key}
	r.args[1] = driver.NamedValue{Ordinal: 2, Value: now}
	// The caller's context was checked before; the lookup is not
	// interrupted, like every Get (see there).
	rows, err := r.get.QueryContext(context.Background(), r.args[:])
	r.args = [2]driver.NamedValue{}
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

// open reserves a connection for r and prepares the lookup on it. On failure
// r stays empty, for a later Get to try again.
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
		stmt, err := cp.PrepareContext(ctx, qGet)
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
// "sqlite" driver of modernc.org/sqlite, creating or upgrading its schema. It
// uses db as configured, for reads and writes alike: for the guarantees of
// New, open it in WAL mode with a busy timeout, for example with the DSN
// "file:app.db?_busy_timeout=5000&_journal_mode=WAL&_synchronous=FULL&_txlock=immediate".
// Close leaves db open.
func NewFromDB(db *sql.DB, cfg Config) (*Store, error) {
	if db == nil {
		return nil, errors.New("sqlitestore: nil *sql.DB")
	}
	if err := migrate(context.Background(), db); err != nil {
		return nil, err
	}
	return newStore(db, db, false, cfg)
}

// dsn is the modernc.org/sqlite DSN of the file at the absolute path abs.
// The path is escaped, so that a '?' or '#' in it cannot start the query.
func dsn(abs string, q url.Values) string {
	return "file:" + (&url.URL{Path: filepath.ToSlash(abs)}).EscapedPath() + "?" + q.Encode()
}

// checkWAL fails unless the database is in WAL mode: on a file system that
// cannot hold its shared memory, SQLite silently keeps the rollback journal,
// under which readers and the writer block each other.
// retryBusy runs f until it succeeds, fails with anything but SQLITE_BUSY, or
// timeout has passed. SQLite's busy handler (busy_timeout) waits for locks,
// but opening a connection to a WAL file at the moment the last connection
// of another Store or process closes it (checkpointing and removing the WAL)
// answers SQLITE_BUSY at once, without calling it: that wait is done here.
func retryBusy(timeout time.Duration, f func() error) error {
	deadline := time.Now().Add(timeout)
	wait := time.Millisecond
	for {
		err := f()
		if err == nil || !isBusy(err) || time.Now().After(deadline) {
			return err
		}
		time.Sleep(wait)
		wait = min(2*wait, 50*time.Millisecond)
	}
}

// isBusy reports whether err is SQLite's SQLITE_BUSY, in any extended form.
func isBusy(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqliteBusy
}

// sqliteBusy is SQLITE_BUSY, the primary result code of a lock that could
// not be taken.
const sqliteBusy = 5

func checkWAL(db *sql.DB) error {
	var mode string
	if err := db.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil {
		return fmt.Errorf("sqlitestore: opening the database: %w", err)
	}
	if mode != "wal" {
		return fmt.Errorf("sqlitestore: the database cannot be put in WAL mode (journal mode %q)", mode)
	}
	return nil
}

// The statements of the store. Expiries are Unix nanoseconds; a record is
// live strictly before its expiry.
const (
	qGet = `SELECT data, expiry FROM sessionauth_sessions WHERE key = ?1 AND expiry > ?2`

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

	qTouch      = `UPDATE sessionauth_sessions SET expiry = ?1 WHERE key = ?2 AND expiry < ?1 AND expiry > ?3`
	qDelete     = `DELETE FROM sessionauth_sessions WHERE key = ?1`
	qListUser   = `SELECT key, data, expiry FROM sessionauth_sessions WHERE user_id = ?1 AND expiry > ?2`
	qDeleteUser = `DELETE FROM sessionauth_sessions WHERE user_id = ?1 AND key <> ?2 RETURNING expiry`
	qAll        = `SELECT key, data FROM sessionauth_sessions WHERE expiry > ?1`

	// One statement selects and deletes, under the write lock: a record a
	// Put revives cannot be deleted on the strength of its old expiry.
	qSweep = `DELETE FROM sessionauth_sessions WHERE key IN
		(SELECT key FROM sessionauth_sessions WHERE expiry <= ?1 LIMIT ?2)`
)

func newStore(read, write *sql.DB, owned bool, cfg Config) (*Store, error) {
	s := &Store{
		read:      read,
		write:     write,
		owned:     owned,
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
	prepared := []struct {
		stmt  **sql.Stmt
		db    *sql.DB
		query string
	}{
		{&s.get, read, qGet},
		{&s.listUser, read, qListUser},
		{&s.all, read, qAll},
		{&s.put, write, qPut},
		{&s.commit, write, qCommit},
		{&s.touch, write, qTouch},
		{&s.del, write, qDelete},
		{&s.delUser, write, qDeleteUser},
		{&s.sweep, write, qSweep},
	}
	for _, p := range prepared {
		stmt, err := p.db.Prepare(p.query)
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

// Close stops the background sweep, waiting for a running one to stop, and
// closes the database if New opened it. Calls after Close fail. Close is
// idempotent and returns the same error every time.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.stopSweep()
		<-s.sweepDone
		errs := []error{s.closeReaders(), s.closeStmts()}
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
	for _, stmt := range []*sql.Stmt{s.get, s.listUser, s.all, s.put, s.commit, s.touch, s.del, s.delUser, s.sweep} {
		if stmt != nil {
			errs = append(errs, stmt.Close())
		}
	}
	return errors.Join(errs...)
}

// Bounds of the instants an int64 of Unix nanoseconds can hold.
var (
	minTime = time.Unix(0, math.MinInt64)
	maxTime = time.Unix(0, math.MaxInt64)
)

// unixNano is t in Unix nanoseconds, clamped to the int64 range (where
// time.UnixNano is undefined): the zero Time is long expired, not a random
// instant.
func unixNano(t time.Time) int64 {
	switch {
	case t.Before(minTime):
		return math.MinInt64
	case t.After(maxTime):
		return math.MaxInt64
	}
	return t.UnixNano()
}

// blob returns data as a value SQLite stores as a blob: nil would be NULL.
func blob(data []byte) []byte {
	if data == nil {
		return []byte{}
	}
	return data
}

// Get implements sessionauth.SessionStore. A context cancelled before the
// call fails it; one cancelled during it does not interrupt the lookup. A
// lookup is one B-tree search that never waits for a writer, over in
// microseconds, while watching the context would cost two goroutines per
// call (one in database/sql, one in the driver) on every request.
func (s *Store) Get(ctx context.Context, key string) ([]byte, time.Time, bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, time.Time{}, false, fmt.Errorf("sqlitestore: get: %w", err)
	}
	if s.readers != nil {
		return s.lookup(ctx, key)
	}
	return s.getAt(ctx, key, unixNano(s.now()))
}

// getAt is Get through the pool, for a Store without reserved readers
// (NewFromDB): the record under key if it is live at now.
func (s *Store) getAt(ctx context.Context, key string, now int64) ([]byte, time.Time, bool, error) {
	var data []byte
	var exp int64
	err := s.get.QueryRowContext(context.WithoutCancel(ctx), key, now).Scan(&data, &exp)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, time.Time{}, false, nil
	case err != nil:
		return nil, time.Time{}, false, fmt.Errorf("sqlitestore: get: %w", err)
	}
	return data, time.Unix(0, exp), true, nil
}

// lookup is Get on a reader.
func (s *Store) lookup(ctx context.Context, key string) ([]byte, time.Time, bool, error) {
	var data []byte
	var exp int64
	var found bool
	now := unixNano(s.now())
	err := s.withReader(ctx, func(r *reader) error {
		var err error
		data, exp, found, err = r.lookup(key, now)
		return err
	})
	switch {
	case err != nil:
		return nil, time.Time{}, false, fmt.Errorf("sqlitestore: get: %w", err)
	case !found:
		return nil, time.Time{}, false, nil
	}
	return data, time.Unix(0, exp), true, nil
}

// LoadSession implements sessionauth.SessionLoader. It reads the row on
// every call, as Get does, so that a revocation or a write by any process
// shows at once; what it saves is decoding it again: each reserved read
// connection keeps the sessions it decoded last (up to 1024), and hands one
// back while its row is byte for byte the one it decoded. A record that does
// not decode is an error wrapping sessionauth.ErrCorruptRecord.
func (s *Store) LoadSession(ctx context.Context, hash [32]byte, now time.Time) (*sessionauth.Session, error) {
	var buf [2 * len(hash)]byte // one allocation for the key, not two
	hex.Encode(buf[:], hash[:])
	key := string(buf[:])
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("sqlitestore: get: %w", err)
	}
	if s.readers == nil {
		data, exp, found, err := s.getAt(ctx, key, unixNano(now))
		if err != nil || !found {
			return nil, err
		}
		sess, err := sessionauth.DecodeSession(key, data, exp)
		if err != nil {
			return nil, fmt.Errorf("sqlitestore: get: %w", err)
		}
		return sess, nil
	}
	var sess *sessionauth.Session
	err := s.withReader(ctx, func(r *reader) error {
		var err error
		sess, err = r.load(key, unixNano(now))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: get: %w", err)
	}
	return sess, nil
}

// withReader runs f inside the connection of a reader, waiting for a reader
// as long as ctx allows and opening its connection if need be.
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
		open := func() error { return r.open(context.WithoutCancel(ctx), s.read) }
		if err := retryBusy(s.busyTimeout, open); err != nil {
			return err
		}
	}
	return r.conn.Raw(func(any) error { return f(r) })
}

// errStoreClosed is the error of a Get after Close.
var errStoreClosed = errors.New("store closed")

// Put implements sessionauth.SessionStore: it never shortens the expiry of a
// live record.
func (s *Store) Put(ctx context.Context, key, userID string, data []byte, expiry time.Time) error {
	if _, err := s.put.ExecContext(ctx, key, userID, blob(data), unixNano(expiry)); err != nil {
		return fmt.Errorf("sqlitestore: put: %w", err)
	}
	return nil
}

// Touch implements sessionauth.SessionStore.
func (s *Store) Touch(ctx context.Context, key string, expiry time.Time) error {
	if _, err := s.touch.ExecContext(ctx, unixNano(expiry), key, unixNano(s.now())); err != nil {
		return fmt.Errorf("sqlitestore: touch: %w", err)
	}
	return nil
}

// ListUser implements sessionauth.SessionStore.
func (s *Store) ListUser(ctx context.Context, userID string) ([]sessionauth.Record, error) {
	if userID == "" {
		return nil, nil // records written through scs belong to nobody
	}
	rows, err := s.listUser.QueryContext(ctx, userID, unixNano(s.now()))
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: list user: %w", err)
	}
	defer rows.Close()
	var out []sessionauth.Record
	for rows.Next() {
		var r sessionauth.Record
		var exp int64
		if err := rows.Scan(&r.Key, &r.Data, &exp); err != nil {
			return nil, fmt.Errorf("sqlitestore: list user: %w", err)
		}
		r.Expiry = time.Unix(0, exp)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlitestore: list user: %w", err)
	}
	return out, nil
}

// DeleteUser implements sessionauth.SessionStore. It deletes the user's
// expired records too, but counts only the live ones.
func (s *Store) DeleteUser(ctx context.Context, userID, except string) (int, error) {
	if userID == "" {
		return 0, nil
	}
	now := unixNano(s.now())
	rows, err := s.delUser.QueryContext(ctx, userID, except)
	if err != nil {
		return 0, fmt.Errorf("sqlitestore: delete user: %w", err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var exp int64
		if err := rows.Scan(&exp); err != nil {
			return 0, fmt.Errorf("sqlitestore: delete user: %w", err)
		}
		if exp > now {
			n++
		}
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("sqlitestore: delete user: %w", err)
	}
	return n, nil
}

// Find implements scs.Store.
func (s *Store) Find(key string) ([]byte, bool, error) {
	return s.FindCtx(context.Background(), key)
}

// FindCtx implements scs.CtxStore.
func (s *Store) FindCtx(ctx context.Context, key string) ([]byte, bool, error) {
	data, _, found, err := s.Get(ctx, key)
	return data, found, err
}

// Commit implements scs.Store: it sets the data and expiry of key exactly,
// as scs expects, and the record belongs to no user.
func (s *Store) Commit(key string, data []byte, expiry time.Time) error {
	return s.CommitCtx(context.Background(), key, data, expiry)
}

// CommitCtx implements scs.CtxStore.
func (s *Store) CommitCtx(ctx context.Context, key string, data []byte, expiry time.Time) error {
	if _, err := s.commit.ExecContext(ctx, key, blob(data), unixNano(expiry)); err != nil {
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
	if _, err := s.del.ExecContext(ctx, key); err != nil {
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
	rows, err := s.all.QueryContext(ctx, unixNano(s.now()))
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: all: %w", err)
	}
	defer rows.Close()
	out := make(map[string][]byte)
	for rows.Next() {
		var key string
		var data []byte
		if err := rows.Scan(&key, &data); err != nil {
			return nil, fmt.Errorf("sqlitestore: all: %w", err)
		}
		out[key] = data
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlitestore: all: %w", err)
	}
	return out, nil
}
