package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// ErrSchemaTooNew is returned by Open and New for a database whose
// sessionauth schema was written by a newer version of this package: this
// version cannot know how to read it, and upgrading the application is the
// fix.
var ErrSchemaTooNew = errors.New("sqlitestore: the database schema is newer than this version of sqlitestore")

// migrations[i] upgrades the schema from version i to version i+1. Released
// migrations never change: a new schema is a new entry.
var migrations = [][]string{
	// 1: the sessions table. A WITHOUT ROWID table keyed by the token
	// hash finds a session in one B-tree search, not an index search and
	// then a table search.
	{
		`CREATE TABLE sessionauth_sessions (
			key     TEXT    NOT NULL PRIMARY KEY,
			user_id TEXT    NOT NULL,
			data    BLOB    NOT NULL,
			expiry  INTEGER NOT NULL
		) WITHOUT ROWID`,
		`CREATE INDEX sessionauth_sessions_user ON sessionauth_sessions (user_id, expiry)`,
		`CREATE INDEX sessionauth_sessions_expiry ON sessionauth_sessions (expiry)`,
	},
}

// schemaVersion is the version this package writes and reads.
var schemaVersion = len(migrations)

// migrate brings the schema of conn's database to schemaVersion in one
// transaction. It takes the write lock first (BEGIN IMMEDIATE), so that
// processes opening a new file at the same time migrate it once, one after
// the other.
func migrate(ctx context.Context, conn *sql.Conn) (err error) {
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return fmt.Errorf("sqlitestore: migrating the schema: %w", err)
	}
	defer func() {
		if err != nil {
			// The error that matters is the one that stopped the
			// migration; a failed rollback leaves nothing committed.
			_, _ = conn.ExecContext(context.Background(), "ROLLBACK")
		}
	}()

	version, err := readVersion(ctx, conn)
	if err != nil {
		return fmt.Errorf("sqlitestore: migrating the schema: %w", err)
	}
	if version > schemaVersion {
		return fmt.Errorf("%w: the database has version %d, this package knows versions up to %d",
			ErrSchemaTooNew, version, schemaVersion)
	}
	for v := version; v < schemaVersion; v++ {
		for _, stmt := range migrations[v] {
			if _, err := conn.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("sqlitestore: migrating the schema to version %d: %w", v+1, err)
			}
		}
	}
	if version != schemaVersion {
		if _, err := conn.ExecContext(ctx, `UPDATE sessionauth_schema SET version = ?`, schemaVersion); err != nil {
			return fmt.Errorf("sqlitestore: migrating the schema: %w", err)
		}
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		return fmt.Errorf("sqlitestore: migrating the schema: %w", err)
	}
	return nil
}

// readVersion returns the schema version, creating the version table (at
// version 0) in a database that has none.
func readVersion(ctx context.Context, conn *sql.Conn) (int, error) {
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS sessionauth_schema (version INTEGER NOT NULL)`); err != nil {
		return 0, err
	}
	var version int
	err := conn.QueryRowContext(ctx, `SELECT version FROM sessionauth_schema`).Scan(&version)
	if errors.Is(err, sql.ErrNoRows) {
		_, err = conn.ExecContext(ctx, `INSERT INTO sessionauth_schema (version) VALUES (0)`)
	}
	return version, err
}
