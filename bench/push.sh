#!/usr/bin/env bash
# push.sh measures git push to serving for the Go and Node samples on one
# docker node (proxy + runtime): a first push (cold build cache) and a
# second push of a commit that changes no dependency (warm cache). Each line
# splits the total into build (in the build container), rollout (slug and
# image to the node, start, health, proxy switch, drain) and the rest
# (git receive, archive, slug store, release). The first push is the first
# deploy onto a freshly scaled node; nodes:scale's own time is printed first.
# SAMPLES=hello-go runs only the Go sample.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
make -s build
work=$(mktemp -d)
port=18768 sshport=18769
bin/deis-controller --data-dir "$work/data" --listen 127.0.0.1:$port --ssh-listen 127.0.0.1:$sshport --drain 1s 2>"$work/log" &
pid=$!
cleanup() {
  HOME=$work "$root"/bin/deis formations:destroy pb --confirm pb >/dev/null 2>&1 || true
  kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$work"
}
trap cleanup EXIT
for _ in $(seq 50); do curl -fsS http://127.0.0.1:$port/healthz >/dev/null 2>&1 && break; sleep 0.1; done
export HOME=$work
deis() { "$root"/bin/deis "$@"; }
deis register http://127.0.0.1:$port --username bench --password bench-password --email b@example.com >/dev/null
mkdir -p -m 700 "$HOME/.ssh" && ssh-keygen -q -t ed25519 -N '' -f "$HOME/.ssh/id_ed25519"
deis keys:add >/dev/null
export GIT_SSH_COMMAND="ssh -i $HOME/.ssh/id_ed25519 -o IdentitiesOnly=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR"
deis formations:create pb --flavor docker >/dev/null
s=$(date +%s%N)
deis nodes:scale pb runtime=1 >/dev/null 2>&1
printf '%-28s total %6d ms\n' "nodes:scale runtime=1" "$(( ($(date +%s%N) - s) / 1000000 ))"

push() { # app label
  local s=$(date +%s%N) out
  out=$(cd "$work/$1" && git push -q deis main 2>&1) || { echo "$out" >&2; exit 1; }
  local total=$(( ($(date +%s%N) - s) / 1000000 ))
  local built=$(echo "$out" | sed -n 's/.*Built in \([0-9.]*\)\(m\?s\).*/\1 \2/p' | awk '{ print ($2=="ms") ? $1 : $1*1000 }')
  local rolled=$(echo "$out" | sed -n 's/.*rolled out in \([0-9.]*\)\(m\?s\).*/\1 \2/p' | awk '{ print ($2=="ms") ? $1 : $1*1000 }')
  printf '%-28s total %6d ms = build %6.0f + rollout %6.0f + receive/store/release %5.0f\n' "$2" "$total" "$built" "$rolled" "$((total - ${built%.*} - ${rolled%.*}))"
}
for sample in ${SAMPLES:-hello-go node-hello}; do
  app=${sample%-*}-bench
  cp -r "$root/samples/$sample" "$work/$app"
  (cd "$work/$app" && git init -q -b main && git add -A && git -c user.name=b -c user.email=b@x commit -qm one && deis apps:create "$app" --formation pb >/dev/null)
  push "$app" "$sample first push (cold)"
  (cd "$work/$app" && echo "$(date)" > NOTES && git add -A && git -c user.name=b -c user.email=b@x commit -qm two)
  push "$app" "$sample second push (warm)"
done
