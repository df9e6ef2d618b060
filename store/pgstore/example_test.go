package pgstore_test

import (
	"context"
	"fmt"
	"log"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sessionauth/sessionauth"
	"github.com/sessionauth/sessionauth/store/pgstore"
)

// The store takes the application's own pool; New creates its table on
// first use.
func ExampleNew() {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, "postgres://app@127.0.0.1:5432/app")
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
	store, err := pgstore.New(ctx, pool, pgstore.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close() // stops the sweep; before pool.Close
	_, _ = sessionauth.New(sessionauth.Config{Store: store})
}

// Open suits a URL taken from a flag or the environment; Close closes the
// pool it made.
func ExampleOpen() {
	store, err := pgstore.Open(context.Background(), "postgres://app@127.0.0.1:5432/app", pgstore.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	_, _ = sessionauth.New(sessionauth.Config{Store: store})
}

// Applications that run their own migrations apply Schema and set
// ManualSchema.
func ExampleSchema() {
	sql, err := pgstore.Schema("sessions")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(sql)
	// Output:
	// CREATE TABLE IF NOT EXISTS sessions (
	// 	key     text COLLATE "C" PRIMARY KEY,
	// 	user_id text COLLATE "C",
	// 	data    bytea NOT NULL,
	// 	expiry  bigint NOT NULL
	// );
	// COMMENT ON COLUMN sessions.key IS 'hex SHA-256 of the session token: a secret';
	// COMMENT ON COLUMN sessions.user_id IS 'owner of the session; NULL for sessions written through scs';
	// COMMENT ON COLUMN sessions.expiry IS 'Unix time in nanoseconds; the session is live strictly before it';
	// CREATE INDEX IF NOT EXISTS sessions_user_idx ON sessions (user_id, expiry) WHERE user_id IS NOT NULL;
	// CREATE INDEX IF NOT EXISTS sessions_expiry_idx ON sessions (expiry);
}
