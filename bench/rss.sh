#!/usr/bin/env bash
# rss.sh prints the resident memory of an idle deis-controller: started on a
# fresh SQLite data dir, given one user, one formation and ten apps, then
# left alone for a few seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
make -s build
dir=$(mktemp -d)
trap 'kill $pid 2>/dev/null; rm -rf "$dir"' EXIT
bin/deis-controller --data-dir "$dir/data" --listen 127.0.0.1:18765 2>"$dir/log" &
pid=$!
for _ in $(seq 50); do curl -fsS http://127.0.0.1:18765/healthz >/dev/null 2>&1 && break; sleep 0.1; done
export HOME=$dir
root=$PWD
cd "$dir" # apps:create adds a git remote only inside a repository: not this one
"$root"/bin/deis register http://127.0.0.1:18765 --username bench --password bench-password --email b@example.com >/dev/null
"$root"/bin/deis formations:create dev --domain example.com >/dev/null
for i in $(seq 10); do "$root"/bin/deis apps:create "app-$i" --formation dev >/dev/null; done
sleep 5
echo "idle controller RSS: $(awk '/VmRSS/ {print $2, $3}' /proc/$pid/status)"
