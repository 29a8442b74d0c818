#!/usr/bin/env bash
# test.sh runs every test tier on this machine: it sets the machine up
# (scripts/setup-debian.sh), vets, runs all tests on SQLite, then runs the
# store and end-to-end suites again on PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup-debian.sh
export PATH=/usr/local/go/bin:$PATH
export DEIS_TEST_POSTGRES_URL=${DEIS_TEST_POSTGRES_URL:-postgres://deis:deis@127.0.0.1:5432/deis_test?sslmode=disable}

echo "-----> go vet" >&2
go vet ./...
# Build the base, node and runner images once, before packages race to
# build them in parallel (on a fresh machine that is debootstrap + apt).
echo "-----> images" >&2
go test -count=1 -timeout 30m -run 'TestEnsureNodeImages' ./nodes/
echo "-----> tests (SQLite)" >&2
go test -count=1 -timeout 30m ./...
echo "-----> store and end-to-end tests (PostgreSQL)" >&2
DEIS_TEST_DATABASE=$DEIS_TEST_POSTGRES_URL go test -count=1 -timeout 30m ./store/... ./e2e/...
echo "-----> all tests passed" >&2
