package sqlitestore

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/sessionauth/sessionauth"
	"github.com/sessionauth/sessionauth/internal/scsforward"
	"github.com/sessionauth/sessionauth/internal/sweeper"
	"github.com/sessionauth/sessionauth/internal/unixnano"
)

// Config configures a Store. The zero value means the defaults.
type Config struct {
	// BusyTimeout is how long a call retries SQLITE_BUSY, which SQLite
	// answers while another process (or another Store, or the
	// application's own connections with New) holds the write lock, or
	// closes the file, before the call fails with that error. A call never
	// waits past its context, whatever BusyTimeout is. Default: 5 seconds
	// (DefaultBusyTimeout).
	BusyTimeout time.Duration

	// MmapSize is how many bytes of the file the read connections map
	// into memory (PRAGMA mmap_size): a lookup then reads the pages it
	// visits without a system call, which keeps a lookup among a million
	// sessions within a small factor of one among a thousand. The cost: an
	// I/O error under a mapped page crashes the process instead of failing
	// the call; a negative value turns mapping off. Only Open applies it.
	// Default: 1 GiB (DefaultMmapSize), about two million sessions.
	MmapSize int64

	// MaxReadConns is how many read connections Open reserves for lookups
	// (Get and LoadSession), each with the lookup prepared on it; the other
	// reads share as many more. Each also keeps up to 1024 of the sessions
	// it decoded last (about 450 KB for typical sessions, 4 MB at worst).
	// Only Open applies it. Default: GOMAXPROCS, at least 4.
	MaxReadConns int

	// SweepInterval is how often the background sweep deletes expired
	// sessions. A negative value disables it (call Sweep yourself).
	// Default: 5 minutes (DefaultSweepInterval).
	SweepInterval time.Duration

	// SweepBatch is how many expired sessions one sweep statement deletes
	// at most; a sweep runs statements until none is left, and other
	// writes go in between, so a large backlog never holds the write lock
	// for long. Default: 1000 (DefaultSweepBatch).
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

// Store is a session store on a SQLite database. It is safe for concurrent
// use. Call Close to stop its sweep and close what it opened. A Store must be
// built by Open or New: every method of a zero Store fails with ErrNotBuilt.
//
// Find, Commit, Delete and All (scs.Store, scs.IterableStore) are FindCtx,
// CommitCtx, DeleteCtx and AllCtx without a deadline. A nil *Store is not a
// store: sessionauth.New refuses it, and its scs methods without a context
// panic.
type Store struct {
	scsMethods

	read  *sql.DB // the caller's pool with New
	write *sql.DB // nil with New
	owned bool    // Open opened read and write: Close closes them
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
	// context; closed is set under it by Close. With New, conn is
	// one of the caller's connections, and restore resets what the Store
	// changed on it before Close gives it back.
	conn      *sql.Conn
	writeSlot chan struct{}
	closed    bool
	restore   []string

	// readers are Open's dedicated read connections, each with its own
	// lookup statement, taken and given back by Get; nil with New,
	// whose Get runs get on the caller's pool. A Get through a pool-level
	// statement locks the pool's mutex and searches the statement's
	// per-connection list on every call, which two cores contend for.
	// Close receives every reader back and then closes the channel.
	readers chan *reader

	get, listUser, all                               *sql.Stmt // on read
	put, commit, update, touch, rename, del, delUser *sql.Stmt // on conn
	sweep                                            *sql.Stmt // on conn

	sweeper   *sweeper.Loop
	closeOnce sync.Once
	closeErr  error
}

// scsMethods gives Store scs's methods without a context; the alias keeps the
// embedded field unexported.
type scsMethods = scsforward.Methods[*Store]

var (
	_ sessionauth.SessionStore     = (*Store)(nil)
	_ sessionauth.SessionLoader    = (*Store)(nil)
	_ sessionauth.IterableStore    = (*Store)(nil)
	_ sessionauth.IterableCtxStore = (*Store)(nil)
	_ sessionauth.CheckedStore     = (*Store)(nil)
)

// ErrNotBuilt is the error of every method of a Store that Open or New did
// not build (a zero value, or a nil pointer except for the scs methods
// without a context), which fails instead of panicking.
var ErrNotBuilt = errors.New("sqlitestore: Store not built by Open or New")

// Check implements sessionauth.CheckedStore: it fails with ErrNotBuilt for a
// Store that Open or New did not build, on which every other call fails too.
// It does no I/O, and does not report a closed Store.
func (s *Store) Check() error {
	if s == nil || s.conn == nil {
		return ErrNotBuilt
	}
	return nil
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

// poolLookup is lookup for a Store without reserved readers (New's),
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

// FindCtx implements scs.CtxStore: unlike Get, it reports an expired record
// as missing, as scs expects.
func (s *Store) FindCtx(ctx context.Context, key string) ([]byte, bool, error) {
	data, exp, found, err := s.lookup(ctx, key)
	if err != nil || !found || exp <= unixnano.From(s.now()) {
		return nil, false, err
	}
	return data, true, nil
}

// CommitCtx implements scs.CtxStore: it sets the data and expiry of key
// exactly, as scs expects, and the record belongs to no user.
func (s *Store) CommitCtx(ctx context.Context, key string, data []byte, expiry time.Time) error {
	if err := s.Check(); err != nil {
		return err
	}
	if _, err := s.exec(ctx, s.commit, key, blob(data), unixnano.From(expiry)); err != nil {
		return fmt.Errorf("sqlitestore: commit: %w", err)
	}
	return nil
}

// DeleteCtx implements scs.CtxStore. Deleting a missing key is not an
// error.
func (s *Store) DeleteCtx(ctx context.Context, key string) error {
	if err := s.Check(); err != nil {
		return err
	}
	if _, err := s.exec(ctx, s.del, key); err != nil {
		return fmt.Errorf("sqlitestore: delete: %w", err)
	}
	return nil
}

// AllCtx implements scs.IterableCtxStore: every live record by key.
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
