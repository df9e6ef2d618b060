package pgstore

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sessionauth/sessionauth/internal/unixnano"
	"github.com/sessionauth/sessionauth/ratelimit"
)

// LimitConfig configures a LimitStore. The zero value means the defaults.
type LimitConfig struct {
	// Table is the name of the limits table: 1 to 48 lower-case letters,
	// digits and underscores, not starting with a digit. NewLimitStore
	// creates it if it is missing. Default: "sessionauth_limits".
	Table string

	// SweepEvery is how many Takes pass between two sweeps: the Take that
	// completes the count then deletes up to LimitSweepBatch rows whose
	// state has run out, before it returns. A negative value turns the
	// sweep off (call Sweep yourself). Default: 1000.
	SweepEvery int
}

// Defaults of LimitConfig, and the most rows one sweep deletes.
const (
	DefaultLimitTable      = "sessionauth_limits"
	DefaultLimitSweepEvery = 1000
	LimitSweepBatch        = 1000
)

// LimitStore is a ratelimit.Store on PostgreSQL: every app instance whose
// Limiter uses a LimitStore on the same table sees the same counts. It is
// safe for concurrent use and holds no goroutine.
//
// A key's state is one row (key, tat): its GCRA "theoretical arrival time"
// in Unix nanoseconds of the caller's clock, not the database's. A Take is
// one INSERT ... ON CONFLICT DO UPDATE ... WHERE, which PostgreSQL runs
// atomically on the row's latest version whatever the isolation level: of
// any number of concurrent Takes, exactly as many as fit are admitted. A
// refused Take writes nothing (a second statement reads the row for the
// Retry-After). A row whose state has run out behaves as no row: the next
// Take overwrites it, and a sweep deletes it (see LimitConfig.SweepEvery).
type LimitStore struct {
	pool                     *pgxpool.Pool
	take, read, reset, sweep string
	sweepEvery               int64
	takes                    atomic.Int64
}

var _ ratelimit.Store = (*LimitStore)(nil)

var limitTableName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,47}$`)

// limitSchemaLock is the advisory lock under which NewLimitStore creates a
// table, so that instances starting together do not race CREATE TABLE IF NOT
// EXISTS (which can fail on a concurrent creation).
const limitSchemaLock = 0x5e55_1011_0000_0001

// NewLimitStore returns a LimitStore on pool, creating its table (and the
// index its sweep uses) if missing. The pool stays the caller's to close.
func NewLimitStore(ctx context.Context, pool *pgxpool.Pool, cfg LimitConfig) (*LimitStore, error) {
	if pool == nil {
		return nil, errors.New("pgstore: nil pool")
	}
	table := cfg.Table
	if table == "" {
		table = DefaultLimitTable
	}
	if !limitTableName.MatchString(table) {
		return nil, fmt.Errorf("pgstore: limit table name %q must be 1 to 48 lower-case letters, digits and underscores, not starting with a digit", table)
	}
	t := pgx.Identifier{table}.Sanitize()
	index := pgx.Identifier{table + "_tat_idx"}.Sanitize()
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(limitSchemaLock)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS `+t+` (
			key text PRIMARY KEY,
			tat bigint NOT NULL
		)`); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `CREATE INDEX IF NOT EXISTS `+index+` ON `+t+` (tat)`)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("pgstore: creating the limit table: %w", err)
	}
	every := int64(cfg.SweepEvery)
	if every == 0 {
		every = DefaultLimitSweepEvery
	}
	return &LimitStore{
		pool: pool,
		// $2 now, $3 interval, $4 capacity (nanoseconds). A new row fits
		// always (capacity >= interval); an existing one if its state,
		// advanced by one interval, stays within capacity of now.
		take: `INSERT INTO ` + t + ` AS l (key, tat) VALUES ($1, $2::bigint + $3::bigint)
			ON CONFLICT (key) DO UPDATE SET tat = GREATEST(l.tat, $2::bigint) + $3::bigint
			WHERE GREATEST(l.tat, $2::bigint) + $3::bigint - $4::bigint <= $2::bigint
			RETURNING tat`,
		read:  `SELECT tat FROM ` + t + ` WHERE key = $1`,
		reset: `DELETE FROM ` + t + ` WHERE key = $1`,
		// The condition on tat is checked again on the row's latest
		// version, so a row that a Take moved on meanwhile stays.
		sweep: `DELETE FROM ` + t + ` WHERE tat <= $1 AND key IN
			(SELECT key FROM ` + t + ` WHERE tat <= $1 LIMIT $2)`,
		sweepEvery: every,
	}, nil
}

// Take implements ratelimit.Store.
func (s *LimitStore) Take(ctx context.Context, key string, limit int, window time.Duration, now time.Time) (time.Duration, error) {
	rule := ratelimit.Rule{Limit: limit, Window: window}
	if err := rule.Validate(); err != nil {
		return 0, err
	}
	ns := unixnano.From(now)
	if s.sweepEvery > 0 && s.takes.Add(1)%s.sweepEvery == 0 {
		// Reclaiming space only: a failure here is the database's, and
		// the Take below reports it.
		_, _ = s.Sweep(ctx, now)
	}
	// A refused Take reads the row to say how long to wait; if the row
	// changed in between (a Reset, a sweep) so that the event now fits,
	// take again rather than answer a wait that is no longer true.
	for range 3 {
		var tat int64
		err := s.pool.QueryRow(ctx, s.take, key, ns, int64(rule.Interval()), int64(rule.Capacity())).Scan(&tat)
		switch {
		case err == nil:
			return 0, nil
		case !errors.Is(err, pgx.ErrNoRows):
			return 0, fmt.Errorf("pgstore: limit take: %w", err)
		}
		err = s.pool.QueryRow(ctx, s.read, key).Scan(&tat)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			continue
		case err != nil:
			return 0, fmt.Errorf("pgstore: limit take: %w", err)
		}
		if _, retry := rule.Step(tat, ns); retry > 0 {
			return retry, nil
		}
	}
	return rule.Interval(), nil
}

// Reset implements ratelimit.Store.
func (s *LimitStore) Reset(ctx context.Context, key string) error {
	if _, err := s.pool.Exec(ctx, s.reset, key); err != nil {
		return fmt.Errorf("pgstore: limit reset: %w", err)
	}
	return nil
}

// Sweep deletes up to LimitSweepBatch rows whose state has run out at now
// (they behave as absent) and returns how many it deleted. Take calls it
// every LimitConfig.SweepEvery Takes; call it yourself when that is off.
func (s *LimitStore) Sweep(ctx context.Context, now time.Time) (int, error) {
	tag, err := s.pool.Exec(ctx, s.sweep, unixnano.From(now), LimitSweepBatch)
	if err != nil {
		return 0, fmt.Errorf("pgstore: limit sweep: %w", err)
	}
	return int(tag.RowsAffected()), nil
}
