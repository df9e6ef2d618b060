#!/usr/bin/env bash
# The project's full check: what the README calls the full command and what
# CI runs (.ci/run). It checks formatting, vets and lints both builds (default
# and -tags sessionauth_dev), starts Redis and PostgreSQL when they are not
# answering, then builds and tests every module ON ITS OWN (GOWORK=off), so
# that the workspace never hides a dependency version a user would get, with
# the race detector, in both builds. About 4 minutes on 2 cores with a warm
# module cache.
#
# The quick check, from the repository root, covers every module through the
# workspace (go.work) in about 40 seconds once built:
#
#	go test github.com/sessionauth/sessionauth/...
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

# Every module of the repository, root first. ./... never crosses a go.mod,
# so each is checked from its own directory.
modules=(. store/sqlitestore store/redisstore store/pgstore examples/server examples/frameworks internal/benchmarks)
all=github.com/sessionauth/sessionauth/...

step "gofmt"
unformatted=$(gofmt -l .)
if [ -n "$unformatted" ]; then
	echo "gofmt needed on:"; echo "$unformatted"; exit 1
fi

step "go vet and staticcheck, every module, default build and -tags sessionauth_dev"
staticcheck=(go run honnef.co/go/tools/cmd/staticcheck@v0.8.2)
go vet "$all"
go vet -tags sessionauth_dev "$all"
"${staticcheck[@]}" "$all"
"${staticcheck[@]}" -tags sessionauth_dev "$all"

# --- begin: services for store/redisstore and store/pgstore -----------------
# The Redis and PostgreSQL store tests run against real servers. Unless the
# URLs point elsewhere, make sure the local servers answer (starting them if
# need be, waiting at most 30 s), and make those tests fail instead of skip.
step "Redis and PostgreSQL for the store tests"
redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }
postgres_up() { pg_isready -q -h 127.0.0.1 -p 5432 && psql -qtA -h 127.0.0.1 -U postgres -d test -c 'SELECT 1' >/dev/null 2>&1; }
wait_until() { # wait_until NAME CHECK
	local _
	for _ in $(seq 60); do
		if "$2"; then echo "$1 is up"; return 0; fi
		sleep 0.5
	done
	echo "$1 did not answer within 30 s" >&2
	return 1
}
if [ -z "${SESSIONAUTH_REDIS_URL:-}" ]; then
	if ! redis_up; then
		echo "starting redis-server"
		redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null
	fi
	wait_until Redis redis_up
	export SESSIONAUTH_REDIS_URL="redis://127.0.0.1:6379/0"
fi
if [ -z "${SESSIONAUTH_POSTGRES_URL:-}" ]; then
	if ! postgres_up; then
		echo "starting PostgreSQL"
		pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start || true
	fi
	wait_until PostgreSQL postgres_up
	export SESSIONAUTH_POSTGRES_URL="postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
fi
export SESSIONAUTH_REQUIRE_SERVICES=1
# --- end: services for store/redisstore and store/pgstore -------------------

for m in "${modules[@]}"; do
	step "module $m on its own (GOWORK=off): build, go test -race, both builds"
	(
		cd "$m"
		export GOWORK=off
		go build ./...
		go test -race -count=1 ./...
		go test -race -count=1 -tags sessionauth_dev ./...
	)
done

# Every benchmark once, so that a change that breaks one (each fails when a
# request does not get its session) fails here rather than in the next
# person's measurement. -short skips the stores of a million sessions.
step "benchmarks, one iteration each (-short)"
go test -run '^$' -bench . -benchtime 1x -short "$all"

# --- fuzz (owned by the hardening work; keep this block together) ---
# Each native fuzz target runs for a fixed budget on top of its seed corpus
# and testdata/fuzz, which the plain test runs above already replay. The
# budget is a count of executions (10 to 20 s each on two cores), not a
# duration: a duration races Go's fuzz coordinator, which then fails the run
# with a bare "context deadline exceeded" and no crasher (go.dev/issue/75804,
# unfixed before Go 1.27). FUZZTIME overrides it, in either form.
for target in FuzzParseBearer FuzzDecodeSession; do
	step "fuzz $target for ${FUZZTIME:-200000x}"
	go test -run '^$' -fuzz "^${target}\$" -fuzztime "${FUZZTIME:-200000x}" .
done
# --- end fuzz ---
