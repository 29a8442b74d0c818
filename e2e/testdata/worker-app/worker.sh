#!/bin/sh
# A background process: it takes no traffic and listens on nothing, it
# says so every two seconds. With /tmp/crash present it exits 3 at once, as
# a crashing app does (the e2e tests create it, then kill the process).
if [ -f /tmp/crash ]; then
  echo "worker: crashing"
  exit 3
fi
echo $$ >/tmp/worker.pid
echo "worker started with GREETING=${GREETING:-}"
while :; do
  echo "tick"
  sleep 2
done
