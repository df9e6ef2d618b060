// Package testenv reads the environment that names the services the
// module's tests run against (Redis and PostgreSQL), so that every test
// skips, or fails, in the same way when one is missing.
package testenv

import (
	"os"
	"testing"
)

// The environment variables that scripts/test.sh sets.
const (
	// RedisEnv holds the URL of the Redis server for tests,
	// e.g. redis://127.0.0.1:6379/0.
	RedisEnv = "SESSIONAUTH_REDIS_URL"
	// PostgresEnv holds the URL of the PostgreSQL database for tests,
	// e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable.
	PostgresEnv = "SESSIONAUTH_POSTGRES_URL"
	// RequireServicesEnv set to "1" turns a missing service URL from a
	// skipped test into a failed one, so that CI cannot pass by skipping.
	RequireServicesEnv = "SESSIONAUTH_REQUIRE_SERVICES"
)

// RedisURL returns the URL of the test Redis server (see URL).
func RedisURL(tb testing.TB) string {
	tb.Helper()
	return URL(tb, RedisEnv, "redis://127.0.0.1:6379/0", "Redis")
}

// PostgresURL returns the URL of the test PostgreSQL database (see URL).
func PostgresURL(tb testing.TB) string {
	tb.Helper()
	return URL(tb, PostgresEnv, "postgres://postgres@127.0.0.1:5432/test?sslmode=disable", "PostgreSQL")
}

// URL returns the value of the environment variable env, the URL of the
// service named what. When it is empty, tb is skipped with a message that
// shows example, or failed when RequireServicesEnv is "1".
func URL(tb testing.TB, env, example, what string) string {
	tb.Helper()
	url := os.Getenv(env)
	if url == "" {
		if os.Getenv(RequireServicesEnv) == "1" {
			tb.Fatalf("%s is not set but %s=1", env, RequireServicesEnv)
		}
		tb.Skipf("set %s (e.g. %s) to run the %s tests", env, example, what)
	}
	return url
}
