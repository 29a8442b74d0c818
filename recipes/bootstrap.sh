#!/bin/sh
# bootstrap.sh brings a bare Debian/Ubuntu host to the node baseline: the
# Docker engine and nginx installed and running, and deis's directories.
# Every step checks first and applies only when needed; each change prints
# one "changed <what>" line, and the last line is "ok".
set -eu
export DEBIAN_FRONTEND=noninteractive

pkgs=""
command -v dockerd >/dev/null 2>&1 || pkgs="$pkgs docker.io"
command -v nginx >/dev/null 2>&1 || pkgs="$pkgs nginx"
command -v curl >/dev/null 2>&1 || pkgs="$pkgs curl"
if [ -n "$pkgs" ]; then
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends $pkgs ca-certificates >/dev/null
  echo "changed packages:$pkgs"
fi

has_systemd() { [ -d /run/systemd/system ]; }

if ! docker info >/dev/null 2>&1; then
  # A dockerd already starting (a node's own init) only needs waiting for.
  if ! pgrep -x dockerd >/dev/null 2>&1; then
    if has_systemd; then
      systemctl enable --now docker >/dev/null 2>&1
    else
      rm -f /var/run/docker.pid
      nohup dockerd >/var/log/dockerd.log 2>&1 </dev/null &
    fi
    echo "changed service:docker"
  fi
  i=0
  until docker info >/dev/null 2>&1; do
    i=$((i+1)); [ $i -lt 300 ] || { echo "dockerd did not start" >&2; tail -5 /var/log/dockerd.log >&2 || true; exit 1; }
    sleep 0.2
  done
fi

if ! pgrep -x nginx >/dev/null 2>&1; then
  if has_systemd; then systemctl enable --now nginx >/dev/null 2>&1; else nginx; fi
  echo "changed service:nginx"
fi

for d in /var/lib/deis/slugs /var/lib/deis/state /var/log/deis; do
  if [ ! -d "$d" ]; then mkdir -p "$d"; echo "changed dir:$d"; fi
done
echo ok
