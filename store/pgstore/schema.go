package pgstore

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5"
)

// DefaultTable is the default of Config.Table.
const DefaultTable = "sessionauth_sessions"

// SchemaVersion is the version of the table layout this package reads and
// writes. New brings a table at an older version up to it, and refuses a
// table at a newer one (written by a later release of this package).
const SchemaVersion = 1

// ErrSchemaTooNew is returned by New and Open for a sessions table whose
// schema version is newer than SchemaVersion: a later release of this
// package wrote it, this one cannot know how to read it, and upgrading the
// application is the fix.
var ErrSchemaTooNew = errors.New("pgstore: the table's schema is newer than this version of pgstore")

// versionTable records the schema version of every sessions table in the
// database, one row per table.
const versionTable = "sessionauth_schema"

// migrationLock is the advisory lock that serializes every migration of this
// package in a database ("sessiona" in ASCII), so that instances starting
// together never run DDL concurrently.
const migrationLock int64 = 0x73657373696f6e61

// migrations[i] brings a table from version i to version i+1. Each one is
// idempotent, so that a table created by hand from Schema migrates cleanly.
var migrations = []func(table string) string{
	func(t string) string {
		return strings.ReplaceAll(`CREATE TABLE IF NOT EXISTS $t (
	key     text COLLATE "C" PRIMARY KEY,
	user_id text COLLATE "C",
	data    bytea NOT NULL,
	expiry  bigint NOT NULL
);
COMMENT ON COLUMN $t.key IS 'hex SHA-256 of the session token: a secret';
COMMENT ON COLUMN $t.user_id IS 'owner of the session; NULL for sessions written through scs';
COMMENT ON COLUMN $t.expiry IS 'Unix time in nanoseconds; the session is live strictly before it';
CREATE INDEX IF NOT EXISTS $t_user_idx ON $t (user_id, expiry) WHERE user_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS $t_expiry_idx ON $t (expiry);
`, "$t", t)
	},
}

var tableName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,47}$`)

func checkTable(table string) error {
	if !tableName.MatchString(table) {
		return fmt.Errorf("pgstore: table name %q must be 1 to 48 lower-case letters, digits and underscores, not starting with a digit", table)
	}
	return nil
}

// Schema returns the SQL that creates table, with its indexes, at
// SchemaVersion: for applications that run their own migrations and set
// Config.ManualSchema. It fails for a name that Config.Table would refuse.
//
//	sql, err := pgstore.Schema(pgstore.DefaultTable)
func Schema(table string) (string, error) {
	if err := checkTable(table); err != nil {
		return "", err
	}
	var b strings.Builder
	for _, m := range migrations {
		b.WriteString(m(table))
	}
	return b.String(), nil
}

// migrate brings table up to SchemaVersion in one transaction.
func migrate(ctx context.Context, db beginner, table string) error {
	tx, err := db.Begin(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", migrationLock); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS `+versionTable+` (
	table_name text PRIMARY KEY,
	version    integer NOT NULL
)`); err != nil {
		return err
	}
	var version int
	err = tx.QueryRow(ctx, `SELECT version FROM `+versionTable+` WHERE table_name = $1`, table).Scan(&version)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return err
	}
	if version > SchemaVersion {
		return fmt.Errorf("%w: table %s is at version %d, this package reads version %d",
			ErrSchemaTooNew, table, version, SchemaVersion)
	}
	for v := version; v < SchemaVersion; v++ {
		if _, err := tx.Exec(ctx, migrations[v](table)); err != nil {
			return fmt.Errorf("migrating to version %d: %w", v+1, err)
		}
	}
	if _, err := tx.Exec(ctx, `INSERT INTO `+versionTable+` (table_name, version) VALUES ($1, $2)
ON CONFLICT (table_name) DO UPDATE SET version = excluded.version`, table, SchemaVersion); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

type beginner interface {
	Begin(ctx context.Context) (pgx.Tx, error)
}
