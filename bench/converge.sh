#!/usr/bin/env bash
# converge.sh measures, on the local Docker engine (warm image cache):
#   - nodes:scale of 1 and of 4 docker nodes (provisioning time),
#   - a no-op converge of 1 node and of 4 nodes (formations:converge),
#   - the rollout of a config change on 2 runtime + 1 proxy nodes.
# Each figure is the median of RUNS runs (default 5), wall time of the CLI
# command (which waits for the job or rollout to end).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-5}
root=$PWD
make -s build
work=$(mktemp -d)
port=18767
bin/deis-controller --data-dir "$work/data" --listen 127.0.0.1:$port --drain 1s 2>"$work/log" &
pid=$!
cleanup() {
  HOME=$work "$root"/bin/deis formations:destroy b1 --confirm b1 >/dev/null 2>&1 || true
  HOME=$work "$root"/bin/deis formations:destroy b2 --confirm b2 >/dev/null 2>&1 || true
  kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$work"
}
trap cleanup EXIT
for _ in $(seq 50); do curl -fsS http://127.0.0.1:$port/healthz >/dev/null 2>&1 && break; sleep 0.1; done
export HOME=$work
cd "$work"
deis() { "$root"/bin/deis "$@"; }
ms() { local s=$(date +%s%N); "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; exit 1; }; echo $(( ($(date +%s%N) - s) / 1000000 )); }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
report() { printf '%-48s median %6s ms  (runs: %s)\n' "$1" "$(echo "$2" | tr ' ' '\n' | median)" "$2"; }

deis register http://127.0.0.1:$port --username bench --password bench-password --email b@example.com >/dev/null

# Provisioning: scale a docker layer 0 -> N, then back to 0 (untimed).
deis formations:create b1 --flavor docker >/dev/null
for n in 1 4; do
  t=""
  for _ in $(seq "$runs"); do
    t="$t $(ms deis nodes:scale b1 runtime=$n)"
    deis nodes:scale b1 runtime=0 >/dev/null 2>&1
  done
  report "nodes:scale to $n docker node(s)" "$t"
done

# No-op converge of 1 and of 4 nodes running one app container each.
slug="$work/slug.tgz"
mkdir -p "$work/slug/bin" && (cd "$root/samples/hello-go" && CGO_ENABLED=0 go build -o "$work/slug/bin/hello-go" .)
cp "$root/samples/hello-go/Procfile" "$work/slug/" && tar -C "$work/slug" -czf "$slug" .
deis nodes:scale b1 runtime=1 >/dev/null 2>&1
deis apps:create hello --formation b1 >/dev/null
deis builds:create --app hello --slug "$slug" >/dev/null 2>&1
deis formations:converge b1 >/dev/null 2>&1
t=""; for _ in $(seq "$runs"); do t="$t $(ms deis formations:converge b1)"; done
report "no-op converge, 1 node" "$t"
deis nodes:scale b1 runtime=4 >/dev/null 2>&1
deis scale --app hello web=4 >/dev/null 2>&1
deis formations:converge b1 >/dev/null 2>&1
t=""; for _ in $(seq "$runs"); do t="$t $(ms deis formations:converge b1)"; done
report "no-op converge, 4 nodes" "$t"
deis apps:destroy --app hello --confirm hello >/dev/null 2>&1
deis formations:destroy b1 --confirm b1 >/dev/null 2>&1

# Rollout of a config change: 2 runtime nodes, 1 proxy node, web=2.
deis formations:create b2 >/dev/null
deis layers:create b2 runtime docker --proxy n >/dev/null
deis layers:create b2 proxy docker --runtime n >/dev/null
deis nodes:scale b2 runtime=2 proxy=1 >/dev/null 2>&1
deis apps:create web --formation b2 >/dev/null
deis builds:create --app web --slug "$slug" >/dev/null 2>&1
deis scale --app web web=2 >/dev/null 2>&1
t=""; for i in $(seq "$runs"); do t="$t $(ms deis config:set --app web "N=$i")"; done
report "config:set rollout, 2 runtime + 1 proxy (drain 1s)" "$t"
