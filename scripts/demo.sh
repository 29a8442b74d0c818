#!/usr/bin/env bash
# demo.sh is the main job on one machine: set the machine up, build deis,
# start a controller, register, make a formation of two docker nodes,
# `git push deis main` the sample in samples/hello-go (built by the Go
# buildpack in a build container), change its config and scale it, and show
# it answering through the proxy.
# The controller keeps running afterwards; the script prints how to use it.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
./scripts/setup-debian.sh
export PATH=/usr/local/go/bin:$root/bin:$PATH

demo=${DEIS_DEMO_DIR:-/tmp/deis-demo}
listen=${DEIS_DEMO_LISTEN:-127.0.0.1:8000}
step() { printf -- '-----> %s\n' "$*" >&2; }

step "building deis, deis-controller, deis-node"
make -s build

if [ -f "$demo/controller.pid" ] && kill "$(cat "$demo/controller.pid")" 2>/dev/null; then
  step "stopped the previous demo controller"
  sleep 1
fi
rm -rf "$demo" && mkdir -p "$demo/home"
export HOME=$demo/home   # the demo's CLI state stays in the demo dir

step "starting deis-controller on $listen (logs: $demo/controller.log)"
deis-controller --data-dir "$demo/data" --listen "$listen" --ssh-listen "${DEIS_DEMO_SSH_LISTEN:-127.0.0.1:2222}" >"$demo/controller.log" 2>&1 &
echo $! >"$demo/controller.pid"
for _ in $(seq 1 50); do curl -fsS "http://$listen/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
curl -fsS "http://$listen/healthz" >/dev/null || { cat "$demo/controller.log" >&2; exit 1; }

step "deis register http://$listen"
deis register "http://$listen" --username demo --password demo-password --email demo@example.com
mkdir -p -m 700 "$HOME/.ssh"
ssh-keygen -q -t ed25519 -N '' -C demo -f "$HOME/.ssh/id_ed25519"
deis keys:add
deis whoami

step "deis formations:create dev --flavor docker && deis nodes:scale dev runtime=2"
deis formations:create dev --flavor docker
deis nodes:scale dev runtime=2
deis nodes:list dev

step "deis apps:create hello (in a git repository of samples/hello-go)"
app=$demo/hello-go
cp -r samples/hello-go "$app"
git -C "$app" init -q -b main
git -C "$app" add . && git -C "$app" -c user.name=demo -c user.email=demo@example.com commit -qm "hello"
(cd "$app" && deis apps:create hello --formation dev && git remote -v)

step "git push deis main"
# The controller's host key is new with each demo: it is pinned in the demo's
# own known_hosts (ssh reads ~/.ssh of the real user, whatever HOME says).
export GIT_SSH_COMMAND="ssh -i $HOME/.ssh/id_ed25519 -o IdentitiesOnly=yes -o StrictHostKeyChecking=accept-new -o UserKnownHostsFile=$HOME/.ssh/known_hosts"
git -C "$app" push deis main

step "deis config:set GREETING='hello, world' && deis scale web=2"
(cd "$app" && deis config:set "GREETING=hello, world" && deis scale web=2 && deis ps && deis releases:list)
url=$(cd "$app" && deis apps:open)
step "curl $url"
for _ in $(seq 40); do curl -fsS "$url" 2>/dev/null && break; sleep 0.25; done
curl -fsS "$url"

step "done: the controller is still running (pid $(cat "$demo/controller.pid"))"
cat >&2 <<MSG
Use it with:
  export PATH=$root/bin:\$PATH HOME=$HOME
  cd $app && deis apps:info
Stop it with: kill \$(cat $demo/controller.pid)
MSG
