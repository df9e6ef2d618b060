#!/usr/bin/env bash
# The project's test command: what the README tells users to run and what CI
# runs (.ci/run). It checks formatting, vets and lints both builds (default
# and -tags sessionauth_dev), starts Redis and PostgreSQL when they are not
# answering, and runs the whole suite under the race detector in both builds.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "gofmt"
unformatted=$(gofmt -l .)
if [ -n "$unformatted" ]; then
	echo "gofmt needed on:"; echo "$unformatted"; exit 1
fi

step "go vet (default build, then -tags sessionauth_dev)"
go vet ./...
go vet -tags sessionauth_dev ./...

step "staticcheck"
staticcheck=(go run honnef.co/go/tools/cmd/staticcheck@v0.8.2)
"${staticcheck[@]}" ./...
"${staticcheck[@]}" -tags sessionauth_dev ./...

step "go test -race (default build)"
go test -race -count=1 ./...

step "go test -race -tags sessionauth_dev"
go test -race -count=1 -tags sessionauth_dev ./...

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
