#!/usr/bin/env bash
# test.sh runs every test tier on this machine, after setting it up
# (scripts/setup-debian.sh):
#   1. unit: pure code, real SQLite, nginx and the git CLI; no Docker
#      (what a plain `go test ./...` runs, anywhere);
#   2. docker (-tags docker): node containers, the runtime recipe, builds;
#   3. e2e (-tags e2e): the real binaries driven by the CLI against node
#      containers;
#   then the store-backed tiers again on PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup-debian.sh
export PATH=/usr/local/go/bin:$PATH
export DEIS_TEST_POSTGRES_URL=${DEIS_TEST_POSTGRES_URL:-postgres://deis:deis@127.0.0.1:5432/deis_test?sslmode=disable}
step() { printf -- '-----> %s\n' "$*" >&2; }

step "gofmt and go vet"
unformatted=$(gofmt -l $(git ls-files '*.go'))
[ -z "$unformatted" ] || { echo "gofmt would change: $unformatted" >&2; exit 1; }
go vet ./...
go vet -tags docker,e2e ./...

step "unit tier (SQLite)"
go test -count=1 -timeout 10m ./...

# The request decoders and the git command parser take input from anyone:
# each is fuzzed for a bounded time.
step "fuzz (20 s each)"
go test -run '^$' -fuzz '^FuzzDecode$' -fuzztime 20s ./api/
go test -run '^$' -fuzz '^FuzzParseCommand$' -fuzztime 20s ./gitreceive/

# Build the base, node and runner images once, before packages race to
# build them in parallel (on a fresh machine that is debootstrap + apt).
step "images"
go test -count=1 -timeout 30m -tags docker -run 'TestEnsureNodeImages' ./nodes/

docker_pkgs=(./nodes/... ./recipes/... ./slugbuilder/... ./cmd/deis-node/)
step "docker and end-to-end tiers (SQLite)"
go test -count=1 -timeout 30m -tags docker,e2e "${docker_pkgs[@]}" ./e2e/...

step "store-backed tiers (PostgreSQL)"
DEIS_TEST_DATABASE=$DEIS_TEST_POSTGRES_URL go test -count=1 -timeout 30m -tags e2e \
  ./store/... ./api/ ./deploy/ ./converge/ ./nodes/ ./e2e/...
step "all tests passed"
