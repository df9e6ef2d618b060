package sqlitestore

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"
	"runtime"
	"strconv"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver

	"github.com/sessionauth/sessionauth/internal/sweeper"
)

// pageSize is the page size of a file Open creates. Twice SQLite's default:
// the B-tree of a million sessions is then three levels deep instead of
// four, for writes that are each a few kilobytes larger.
const pageSize = 8192

// Open opens (creating it if needed) the SQLite database at path and returns
// a Store that owns it, with its schema created or upgraded: Close closes the
// database. It fails with an error wrapping ErrSchemaTooNew if the file was
// written by a newer version of this package, and gives up when ctx is done.
//
//	store, err := sqlitestore.Open(ctx, "sessions.db", sqlitestore.Config{})
func Open(ctx context.Context, path string, cfg Config) (*Store, error) {
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
	err = retryBusy(ctx, busyTimeout, nil, func() error {
		var err error
		if conn, err = write.Conn(ctx); err != nil {
			return err
		}
		return checkWAL(ctx, conn)
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
	err = retryBusy(ctx, busyTimeout, nil, func() error { return migrate(ctx, conn) })
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

	s, err := newStore(ctx, read, conn, cfg)
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

// New returns a Store on a database the caller opened, and still owns, with
// the "sqlite" driver of modernc.org/sqlite, creating or upgrading its
// schema, for an application that keeps its sessions in its own database
// file. It gives up when ctx is done.
//
//	db, err := sql.Open("sqlite", "file:app.db?_journal_mode=WAL&_busy_timeout=5000")
//	store, err := sqlitestore.New(ctx, db, sqlitestore.Config{})
//
// The database must be in WAL mode, so that reads never wait for a write:
// New fails otherwise (a DSN's _journal_mode=WAL sets it, once and for good,
// in the file). The Store takes one connection of db for its writes and holds
// it until Close, as Open's Store holds its own: db must allow at least two
// open connections, and New fails if it allows only one. On that
// connection the Store sets synchronous=FULL, so that a revocation is on disk
// when it returns, and turns SQLite's busy wait off, to wait for the write
// lock itself under each call's context and Config.BusyTimeout (see Config);
// Close resets both and gives the connection back. The rest of the DSN is the
// caller's: the Store's reads run on db's other connections, as configured.
// A WAL reader meets a lock only in rare moments (while a crashed process's
// WAL is recovered, say), and a busy_timeout in the DSN makes it wait for it
// in SQLite, where no context can end the wait; without one, the Store waits
// itself, as for a write. Close leaves db open.
func New(ctx context.Context, db *sql.DB, cfg Config) (*Store, error) {
	if db == nil {
		return nil, errors.New("sqlitestore: nil *sql.DB")
	}
	if db.Stats().MaxOpenConnections == 1 {
		return nil, errors.New("sqlitestore: the *sql.DB allows one connection, and the Store holds one for its writes: allow at least two")
	}
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
	if err := retryBusy(ctx, busyTimeout, nil, func() error { return checkWAL(ctx, conn) }); err != nil {
		return fail(fmt.Errorf("sqlitestore: opening the database: %w", err))
	}
	if err := retryBusy(ctx, busyTimeout, nil, func() error { return migrate(ctx, conn) }); err != nil {
		return fail(err)
	}
	s, err := newStore(ctx, db, conn, cfg)
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
func checkWAL(ctx context.Context, conn *sql.Conn) error {
	var mode string
	if err := conn.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return err
	}
	if mode != "wal" {
		return fmt.Errorf("the database is not in WAL mode (journal mode %q)", mode)
	}
	return nil
}

// newStore prepares the statements of a Store that reads through read and
// writes on conn, and starts its sweep.
func newStore(ctx context.Context, read *sql.DB, conn *sql.Conn, cfg Config) (*Store, error) {
	s := &Store{
		read:      read,
		conn:      conn,
		writeSlot: make(chan struct{}, 1),
		now:       cfg.Now,
		log:       cmp.Or(cfg.Logger, slog.Default()),
		batch:     cmp.Or(cfg.SweepBatch, DefaultSweepBatch),

		busyTimeout: cmp.Or(cfg.BusyTimeout, DefaultBusyTimeout),
	}
	s.scsMethods = scsMethods{S: s}
	if cfg.Now == nil {
		s.now = time.Now
	}
	if s.batch < 0 {
		return nil, errors.New("sqlitestore: negative SweepBatch")
	}
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

	s.sweeper = sweeper.Start(cmp.Or(cfg.SweepInterval, DefaultSweepInterval), s.Sweep, func(err error) {
		s.log.LogAttrs(context.Background(), slog.LevelWarn, "sqlitestore: sweeping expired sessions failed", slog.Any("error", err))
	})
	return s, nil
}

// Close stops the background sweep, waiting for a running one to stop, waits
// for the writes under way, and closes the database if Open opened it (with
// New, it gives back the connection it took). Calls after Close fail.
// Close is idempotent and returns the same error every time.
func (s *Store) Close() error {
	if err := s.Check(); err != nil {
		return err
	}
	s.closeOnce.Do(func() {
		s.sweeper.Stop()
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

// closeStmts closes the prepared statements, those that exist.
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
