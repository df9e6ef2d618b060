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

# --- examples/frameworks ------------------------------------------------------
# The framework recipes are a module of their own, so that chi, gorilla/mux,
# gin and echo never enter the library's go.mod; "./..." above stops at its
# go.mod, hence this block.
step "examples/frameworks (own module): vet, staticcheck, go test -race"
(
	cd examples/frameworks
	go vet ./...
	"${staticcheck[@]}" ./...
	go test -race -count=1 ./...
)
# --- end examples/frameworks --------------------------------------------------
