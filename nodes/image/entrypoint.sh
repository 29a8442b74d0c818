#!/bin/sh
# entrypoint.sh is PID 1 of a node container on the docker provider: it makes
# the container behave like a small VM (LAB.md): cgroups remounted read-write
# so the node's own dockerd can run containers, then sshd, dockerd and nginx
# when installed. Services installed later (by the bootstrap recipe) are
# started by that recipe.
set -u

remount_cgroups() {
  for d in /sys/fs/cgroup/*; do
    [ -d "$d" ] && [ ! -L "$d" ] || continue
    name=${d##*/}
    umount "$d" 2>/dev/null || continue
    case "$name" in
      unified) mount -t cgroup2 none "$d" ;;
      systemd) mount -t cgroup -o none,name=systemd cgroup "$d" ;;
      *) mount -t cgroup -o "$name" cgroup "$d" ;;
    esac
  done
}
remount_cgroups

mkdir -p /run/sshd /var/lib/deis /var/log/deis
ssh-keygen -A >/dev/null 2>&1
/usr/sbin/sshd -E /var/log/deis/sshd.log

if command -v dockerd >/dev/null 2>&1; then
  rm -f /var/run/docker.pid
  dockerd >/var/log/deis/dockerd.log 2>&1 &
fi
if command -v nginx >/dev/null 2>&1; then
  nginx
fi

trap 'exit 0' TERM INT
while :; do sleep 3600 & wait $!; done
