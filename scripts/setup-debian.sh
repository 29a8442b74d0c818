#!/usr/bin/env bash
# setup-debian.sh installs and starts everything deis needs on a fresh
# Debian/Ubuntu machine: the Go toolchain (from the Go module proxy when the
# machine has none or an old one), gcc for cgo SQLite, git, OpenSSH, nginx,
# the Docker engine (docker.io) and a PostgreSQL server for the test suite.
# It is idempotent: a second run only checks that the services are up.
set -euo pipefail

log() { printf -- '-----> %s\n' "$*" >&2; }

need_pkgs=()
GO_VERSION=${GO_VERSION:-1.26.8}
if [ "$(id -u)" -ne 0 ]; then
  exec sudo -E "$0" "$@"
fi

for p in unzip make gcc libc6-dev git openssh-client openssh-server nginx docker.io debootstrap postgresql ca-certificates curl; do
  dpkg -s "$p" >/dev/null 2>&1 || need_pkgs+=("$p")
done
if [ ${#need_pkgs[@]} -gt 0 ]; then
  log "installing ${need_pkgs[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
fi

# Go: keep a go >= 1.26 on PATH, else fetch the toolchain module the way
# GOTOOLCHAIN does (proxy.golang.org serves golang.org/toolchain zips).
export PATH=/usr/local/go/bin:$PATH
gov=$(go env GOVERSION 2>/dev/null || true)
case "$gov" in
  go1.2[6-9]*|go1.[3-9]*) ;;
  *)
    log "installing Go $GO_VERSION"
    arch=$(dpkg --print-architecture)
    tmp=$(mktemp -d)
    curl -fsSL -o "$tmp/go.zip" "https://proxy.golang.org/golang.org/toolchain/@v/v0.0.1-go$GO_VERSION.linux-$arch.zip"
    unzip -q "$tmp/go.zip" -d "$tmp"
    rm -rf /usr/local/go && mv "$tmp/golang.org/toolchain@v0.0.1-go$GO_VERSION.linux-$arch" /usr/local/go
    chmod -R a+rX /usr/local/go
    rm -rf "$tmp"
    ;;
esac

# The Docker engine: start it when no daemon answers.
if ! docker version >/dev/null 2>&1; then
  log "starting dockerd"
  rm -f /var/run/docker.pid
  nohup dockerd >/var/log/dockerd.log 2>&1 &
  for _ in $(seq 1 60); do docker version >/dev/null 2>&1 && break; sleep 1; done
  docker version >/dev/null 2>&1 || { echo "dockerd did not start; see /var/log/dockerd.log" >&2; exit 1; }
fi

# PostgreSQL: the Debian cluster, started if not running, with a deis role and
# a deis_test database used by the store and end-to-end suites.
pgver=$(ls /usr/lib/postgresql | sort -V | tail -1)
if ! pg_lsclusters -h 2>/dev/null | grep -q .; then
  log "creating PostgreSQL $pgver cluster"
  pg_createcluster "$pgver" main >/dev/null
fi
if ! pg_lsclusters -h | awk '{print $4}' | grep -q online; then
  log "starting PostgreSQL"
  pg_ctlcluster "$pgver" main start
fi
for _ in $(seq 1 30); do su postgres -c "psql -qAtc 'select 1'" >/dev/null 2>&1 && break; sleep 1; done
su postgres -c "psql -qAtc \"select 1 from pg_roles where rolname='deis'\"" | grep -q 1 ||
  su postgres -c "psql -qc \"create role deis login superuser password 'deis'\""
su postgres -c "psql -qAtc \"select 1 from pg_database where datname='deis_test'\"" | grep -q 1 ||
  su postgres -c "createdb -O deis deis_test"
log "machine ready (docker $(docker version -f '{{.Server.Version}}'), postgres $pgver)"
