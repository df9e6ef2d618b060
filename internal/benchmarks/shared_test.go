package benchmarks_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/sessionauth/sessionauth"
	"github.com/sessionauth/sessionauth/internal/testenv"
	"github.com/sessionauth/sessionauth/store/pgstore"
	"github.com/sessionauth/sessionauth/store/redisstore"
)

// benchName returns a name for the keys or the table of one benchmark run,
// so that runs and tests can share a server.
func benchName(prefix string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// newRedisManager returns a Manager on a redisstore on the server of
// SESSIONAUTH_REDIS_URL (skipping b when it is not set) and the token of one
// session of benchUser. The store's keys are deleted when b ends.
func newRedisManager(b *testing.B) (*sessionauth.Manager, string) {
	opts, err := redis.ParseURL(testenv.RedisURL(b))
	must(b, err)
	opts.ContextTimeoutEnabled = true // redisstore.New refuses a client that ignores deadlines
	client := redis.NewClient(opts)
	prefix := benchName("sessionauth-bench-")
	b.Cleanup(func() {
		ctx := context.Background()
		if keys, err := client.Keys(ctx, "{"+prefix+"}*").Result(); err == nil && len(keys) > 0 {
			_ = client.Del(ctx, keys...).Err()
		}
		_ = client.Close()
	})
	store, err := redisstore.New(client, redisstore.Config{Prefix: prefix})
	must(b, err)
	b.Cleanup(func() { _ = store.Close() })
	return newManager(b, sessionauth.Config{Store: store})
}

// newPostgresManager returns a Manager on a pgstore in the database of
// SESSIONAUTH_POSTGRES_URL (skipping b when it is not set) and the token of
// one session of benchUser. The store's table is dropped when b ends.
func newPostgresManager(b *testing.B) (*sessionauth.Manager, string) {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, testenv.PostgresURL(b))
	must(b, err)
	table := benchName("sessionauth_bench_")
	b.Cleanup(func() {
		_, _ = pool.Exec(ctx, "DROP TABLE IF EXISTS "+table)
		_, _ = pool.Exec(ctx, "DELETE FROM sessionauth_schema WHERE table_name = $1", table)
		pool.Close()
	})
	store, err := pgstore.New(ctx, pool, pgstore.Config{Table: table})
	must(b, err)
	b.Cleanup(func() { _ = store.Close() })
	return newManager(b, sessionauth.Config{Store: store})
}
