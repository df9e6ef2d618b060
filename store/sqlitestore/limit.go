package sqlitestore

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/sessionauth/sessionauth/internal/unixnano"
	"github.com/sessionauth/sessionauth/ratelimit"
)

// LimitConfig configures a LimitStore. The zero value means the defaults.
type LimitConfig struct {
	// Table is the name of the limits table: 1 to 48 lower-case letters,
	// digits and underscores, not starting with a digit. The LimitStore
	// creates it if it is missing. Default: "sessionauth_limits".
	Table string

	// SweepEvery is how many Takes pass between two sweeps: the Take that
	// completes the count then deletes up to LimitSweepBatch rows whose
	// state has run out, before it returns. A negative value turns the
	// sweep off (call Sweep yourself). Default: 1000.
	SweepEvery int

	// BusyTimeout is how long a Take waits for the write lock of another
	// process or connection. Only OpenLimitStore applies it. Default: 5
	// seconds.
	BusyTimeout time.Duration
}

// Defaults of LimitConfig, and the most rows one sweep deletes.
const (
	DefaultLimitTable      = "sessionauth_limits"
	DefaultLimitSweepEvery = 1000
	LimitSweepBatch        = 1000
)

// LimitStore is a ratelimit.Store in a SQLite file: the counts persist
// across restarts, and every process on the machine that opens the file
// shares them. It is safe for concurrent use and holds no goroutine.
//
// A key's state is one row (key, tat): its GCRA "theoretical arrival time"
// in Unix nanoseconds of the caller's clock. A Take reads, decides and writes
// the row in one IMMEDIATE transaction, which holds the file's write lock
// from its start: no other Take, in this process or another, comes between
// its read and its write. A refused Take writes nothing. A row whose state
// has run out behaves as no row: the next Take overwrites it, and a sweep
// deletes it (see LimitConfig.SweepEvery).
type LimitStore struct {
	// tx runs f in an IMMEDIATE transaction, committed if f succeeds.
	tx                        func(ctx context.Context, f func(*sql.Conn) error) error
	close                     func() error
	read, write, reset, sweep string
	sweepEvery                int64
	takes                     atomic.Int64
}

var _ ratelimit.Store = (*LimitStore)(nil)

var limitTableName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,47}$`)

// OpenLimitStore opens (creating it if needed) the SQLite database at path
// through one connection of its own, in WAL mode with synchronous=FULL as Open
// does, and returns a LimitStore that owns it. It may be the sessions' file. Close
// closes the connection. In a process that has a Store on the file,
// Store.LimitStore is better: its Takes then queue in Go with the session
// writes instead of waiting for SQLite's lock. It gives up when ctx is done.
func OpenLimitStore(ctx context.Context, path string, cfg LimitConfig) (*LimitStore, error) {
	if path == "" {
		return nil, errors.New("sqlitestore: empty database path")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: database path: %w", err)
	}
	busy := cmp.Or(cfg.BusyTimeout, DefaultBusyTimeout)
	db, err := sql.Open("sqlite", dsn(abs, url.Values{
		"_busy_timeout": {strconv.FormatInt(busy.Milliseconds(), 10)},
		"_journal_mode": {"WAL"},
		"_synchronous":  {"FULL"},
	}))
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: opening the database: %w", err)
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	s, err := retryBusyLimit(ctx, busy, func() (*LimitStore, error) { return newLimitStore(ctx, poolTx(db), db.Close, cfg) })
	if err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// NewLimitStore returns a LimitStore on a database the caller opened, and
// still owns, with the "sqlite" driver of modernc.org/sqlite (set a busy
// timeout in its DSN, as New says), creating its table if missing. Close
// leaves db open.
func NewLimitStore(ctx context.Context, db *sql.DB, cfg LimitConfig) (*LimitStore, error) {
	if db == nil {
		return nil, errors.New("sqlitestore: nil *sql.DB")
	}
	return newLimitStore(ctx, poolTx(db), func() error { return nil }, cfg)
}

// LimitStore returns a LimitStore in the Store's file, on its write
// connection: Takes and session writes queue for it in Go. It creates its
// table if missing. The LimitStore works until the Store is closed; its
// Close does nothing.
func (s *Store) LimitStore(ctx context.Context, cfg LimitConfig) (*LimitStore, error) {
	if err := s.Check(); err != nil {
		return nil, err
	}
	tx := func(ctx context.Context, f func(*sql.Conn) error) error {
		return s.writing(ctx, func() error { return connTx(ctx, s.conn, f) })
	}
	return newLimitStore(ctx, tx, func() error { return nil }, cfg)
}

// retryBusyLimit is retryBusy for a constructor: a connection opening while
// another closes the file may see SQLITE_BUSY at once.
func retryBusyLimit(ctx context.Context, timeout time.Duration, f func() (*LimitStore, error)) (*LimitStore, error) {
	var s *LimitStore
	err := retryBusy(ctx, timeout, nil, func() error {
		var err error
		s, err = f()
		return err
	})
	return s, err
}

// newLimitStore returns a LimitStore whose transactions run through tx,
// creating its table if missing; close is its Close.
func newLimitStore(ctx context.Context, tx func(context.Context, func(*sql.Conn) error) error, close func() error, cfg LimitConfig) (*LimitStore, error) {
	table := cmp.Or(cfg.Table, DefaultLimitTable)
	if !limitTableName.MatchString(table) {
		return nil, fmt.Errorf("sqlitestore: limit table name %q must be 1 to 48 lower-case letters, digits and underscores, not starting with a digit", table)
	}
	s := &LimitStore{
		tx:    tx,
		close: close,
		read:  `SELECT tat FROM ` + table + ` WHERE key = ?1`,
		write: `INSERT INTO ` + table + ` (key, tat) VALUES (?1, ?2)
			ON CONFLICT (key) DO UPDATE SET tat = excluded.tat`,
		reset: `DELETE FROM ` + table + ` WHERE key = ?1`,
		sweep: `DELETE FROM ` + table + ` WHERE key IN
			(SELECT key FROM ` + table + ` WHERE tat <= ?1 LIMIT ?2)`,
		sweepEvery: int64(cmp.Or(cfg.SweepEvery, DefaultLimitSweepEvery)),
	}
	err := s.tx(ctx, func(conn *sql.Conn) error {
		if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS `+table+` (
			key TEXT NOT NULL PRIMARY KEY,
			tat INTEGER NOT NULL
		) WITHOUT ROWID`); err != nil {
			return err
		}
		_, err := conn.ExecContext(ctx, `CREATE INDEX IF NOT EXISTS `+table+`_tat ON `+table+` (tat)`)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: creating the limit table: %w", err)
	}
	return s, nil
}

// poolTx runs transactions on connections of db.
func poolTx(db *sql.DB) func(context.Context, func(*sql.Conn) error) error {
	return func(ctx context.Context, f func(*sql.Conn) error) error {
		conn, err := db.Conn(ctx)
		if err != nil {
			return err
		}
		defer conn.Close()
		return connTx(ctx, conn, f)
	}
}

// connTx runs f in an IMMEDIATE transaction on conn (so that it holds the
// write lock from the start, whatever the DSN's _txlock), and commits if f
// succeeds.
func connTx(ctx context.Context, conn *sql.Conn, f func(*sql.Conn) error) (err error) {
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			// The error that matters is the one that stopped the
			// transaction; a failed rollback leaves nothing committed.
			_, _ = conn.ExecContext(context.Background(), "ROLLBACK")
		}
	}()
	if err := f(conn); err != nil {
		return err
	}
	_, err = conn.ExecContext(ctx, "COMMIT")
	return err
}

// Take implements ratelimit.Store.
func (s *LimitStore) Take(ctx context.Context, key string, limit int, window time.Duration, now time.Time) (time.Duration, error) {
	rule := ratelimit.Rule{Limit: limit, Window: window}
	if err := rule.Validate(); err != nil {
		return 0, err
	}
	ns := unixnano.From(now)
	var retry time.Duration
	err := s.tx(ctx, func(conn *sql.Conn) error {
		tat := int64(math.MinInt64)
		err := conn.QueryRowContext(ctx, s.read, key).Scan(&tat)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		var next int64
		if next, retry = rule.Step(tat, ns); retry > 0 {
			return nil // nothing written: the commit only ends the transaction
		}
		_, err = conn.ExecContext(ctx, s.write, key, next)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("sqlitestore: limit take: %w", err)
	}
	if s.sweepEvery > 0 && s.takes.Add(1)%s.sweepEvery == 0 {
		// Reclaiming space only: a failure here is the file's, and the
		// next Take reports it.
		_, _ = s.Sweep(ctx, now)
	}
	return retry, nil
}

// Reset implements ratelimit.Store.
func (s *LimitStore) Reset(ctx context.Context, key string) error {
	err := s.tx(ctx, func(conn *sql.Conn) error {
		_, err := conn.ExecContext(ctx, s.reset, key)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlitestore: limit reset: %w", err)
	}
	return nil
}

// Sweep deletes up to LimitSweepBatch rows whose state has run out at now
// (they behave as absent) and returns how many it deleted. Take calls it
// every LimitConfig.SweepEvery Takes; call it yourself when that is off.
func (s *LimitStore) Sweep(ctx context.Context, now time.Time) (int, error) {
	var n int64
	err := s.tx(ctx, func(conn *sql.Conn) error {
		res, err := conn.ExecContext(ctx, s.sweep, unixnano.From(now), LimitSweepBatch)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("sqlitestore: limit sweep: %w", err)
	}
	return int(n), nil
}

// Close closes the database if OpenLimitStore opened it; otherwise it does
// nothing.
func (s *LimitStore) Close() error {
	if err := s.close(); err != nil {
		return fmt.Errorf("sqlitestore: closing: %w", err)
	}
	return nil
}
