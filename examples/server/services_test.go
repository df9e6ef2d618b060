package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionauth/sessionauth/internal/tcpproxy"
	"github.com/sessionauth/sessionauth/internal/testenv"
)

// sharedStore is a store that several machines share, as the server's flags
// and the name of the test's own table or key prefix (see withStoreName).
type sharedStore struct {
	name string
	// open returns the store's URL (a skip or a failure when the service is
	// not configured) and the test's own name in it, which is removed when
	// the test ends.
	open func(t *testing.T) (storeURL, name string)
}

var sharedStores = []sharedStore{
	{"redis", redisForTest},
	{"postgres", postgresForTest},
}

// flags returns the server's flags for the store and the test's own table or
// key prefix in it (see withStoreName).
func (s sharedStore) flags(t *testing.T) (args []string, storeName string) {
	storeURL, storeName := s.open(t)
	return []string{"-store", s.name, "-store-url", storeURL}, storeName
}

// namedFlags is a store as the server's flags and the test's own table or
// key prefix in it ("" where the store is the test's own, as a SQLite file).
type namedFlags struct {
	name  string
	flags func(t *testing.T) (args []string, storeName string)
}

// uniqueName returns a name no other test uses: letters, digits and
// underscores, as a table name and a key prefix must be.
func uniqueName(t *testing.T) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "sessionauth_example_" + hex.EncodeToString(b[:])
}

// postgresForTest returns the test database's URL and a table of the test's
// own, dropped with the server's limits table beside it when the test ends (after the servers it started, which stop
// first).
func postgresForTest(t *testing.T) (storeURL, table string) {
	t.Helper()
	storeURL = testenv.PostgresURL(t)
	table = uniqueName(t)
	t.Cleanup(func() {
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, storeURL)
		if !assert.NoError(t, err, "dropping the test's table") {
			return
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, "DROP TABLE IF EXISTS "+table+", "+table+"_limits")
		assert.NoError(t, err)
		// pgstore records the schema version of each table it manages.
		_, _ = conn.Exec(ctx, "DELETE FROM sessionauth_schema WHERE table_name = $1", table)
	})
	return storeURL, table
}

// redisForTest returns the test Redis server's URL and a key prefix of the
// test's own, whose keys (sessions and sign-in limits) are deleted when the
// test ends.
func redisForTest(t *testing.T) (storeURL, prefix string) {
	t.Helper()
	storeURL = testenv.RedisURL(t)
	prefix = uniqueName(t)
	t.Cleanup(func() {
		opts, err := redis.ParseURL(storeURL)
		if !assert.NoError(t, err, "deleting the test's keys") {
			return
		}
		client := redis.NewClient(opts)
		defer client.Close()
		ctx := context.Background()
		// redisstore's session keys all start with "{prefix}:", those of
		// its LimitStore with "prefix:limit:".
		for _, pattern := range []string{"{" + prefix + "}:*", prefix + ":limit:*"} {
			iter := client.Scan(ctx, 0, pattern, 1000).Iterator()
			for iter.Next(ctx) {
				assert.NoError(t, client.Del(ctx, iter.Val()).Err())
			}
			assert.NoError(t, iter.Err())
		}
	})
	return storeURL, prefix
}

// throughProxy starts a TCP proxy to the server of storeURL and returns the
// URL that reaches the server through it.
func throughProxy(t *testing.T, storeURL string) (string, *tcpproxy.Proxy) {
	t.Helper()
	u, err := url.Parse(storeURL)
	require.NoError(t, err, "the service's URL must be a URL, not key=value pairs")
	require.NotEmpty(t, u.Host, "the service's URL names its host")
	p := tcpproxy.New(t, u.Host)
	u.Host = p.Addr()
	return u.String(), p
}
