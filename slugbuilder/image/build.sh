#!/bin/bash
# deis-slug-build: runs in a build container. It compiles the tree in
# /tmp/build with a buildpack (Heroku buildpack API) and writes the slug
# to /tmp/out/slug.tgz and the buildpack's name to /tmp/out/buildpack.
#   /tmp/build  the pushed tree, copied in before the container starts
#   /tmp/env    the app's config, one file per var (ENV_DIR)
#   /cache      the app's build cache, kept between builds
#   /tmp/ca     extra CA certificates to trust (extra.crt), optional
set -eo pipefail
. /usr/local/lib/deis/buildpack.sh

build=/tmp/build cache=/cache env_dir=/tmp/env out=/tmp/out
order="go nodejs python static procfile"

if [ -s /tmp/ca/extra.crt ]; then
	cat /tmp/ca/extra.crt >>/etc/ssl/certs/ca-certificates.crt
fi

# pick_buildpack sets bp (its directory) and id (what the build records).
pick_buildpack() {
	local url="" ref=""
	[ -f "$env_dir/BUILDPACK_URL" ] && url=$(tr -d '\r\n' <"$env_dir/BUILDPACK_URL")
	if [ -z "$url" ]; then
		for id in $order; do
			if /buildpacks/$id/bin/detect "$build" >/dev/null 2>&1; then
				bp=/buildpacks/$id
				return
			fi
		done
		fail "No buildpack detected this app: add a go.mod, package.json, requirements.txt, index.html or Procfile, or set BUILDPACK_URL"
	fi
	id=$url
	case $url in
	*://* | git@*)
		case $url in *#*) ref=${url##*#} url=${url%#*} ;; esac
		topic "Fetching buildpack $url${ref:+ at $ref}"
		git clone -q --depth 1 ${ref:+--branch "$ref"} "$url" /tmp/buildpack 2>&1 | indent ||
			fail "Could not clone BUILDPACK_URL $url"
		bp=/tmp/buildpack
		;;
	*)
		[ "${url#/}" = "$url" ] && url=/buildpacks/$url
		bp=$(realpath -m "$url")
		case $bp in /buildpacks/?*) ;; *) fail "BUILDPACK_URL $url is neither a git URL nor a buildpack under /buildpacks" ;; esac
		[ -d "$bp" ] || fail "BUILDPACK_URL $url: no such buildpack"
		;;
	esac
	[ -x "$bp/bin/compile" ] || fail "BUILDPACK_URL $url has no bin/compile"
}

# procfile_types prints the app's Procfile as "type: command" lines.
procfile_types() {
	[ -f "$build/Procfile" ] || return 0
	sed -nE 's/^([a-z0-9][a-z0-9_-]*):[[:space:]]*(.*[^[:space:]])[[:space:]]*$/\1: \2/p' "$build/Procfile"
}

# default_types prints the default_process_types of bin/release's YAML as
# "type: command" lines (one level of "type: command" maps, as buildpacks
# write them; surrounding quotes are removed).
default_types() {
	awk '/^default_process_types:/ { on = 1; next }
	     /^[^ \t]/ { on = 0 }
	     on && /^[ \t]+[a-z0-9][a-z0-9_-]*:/ {
	       sub(/^[ \t]+/, ""); t = $0; sub(/:.*/, "", t); c = $0; sub(/^[^:]+:[ \t]*/, "", c)
	       if (c ~ /^".*"$/ || c ~ /^\047.*\047$/) c = substr(c, 2, length(c) - 2)
	       if (c != "") print t ": " c }' /tmp/release.yml
}

# types lists the types of "type: command" lines: "web, worker".
types() { cut -d: -f1 | paste -sd, - | sed 's/,/, /g'; }

pick_buildpack
name=$("$bp/bin/detect" "$build") || fail "App not compatible with buildpack: $id"
echo "$id" >"$out/buildpack"
topic "$name app detected"
"$bp/bin/compile" "$build" "$cache" "$env_dir"

: >/tmp/release.yml
if [ -x "$bp/bin/release" ]; then
	"$bp/bin/release" "$build" >/tmp/release.yml
fi
topic "Discovering process types"
declared=$(procfile_types)
added=$(default_types | while IFS= read -r line; do
	grep -q "^${line%%:*}:" <<<"$declared" || echo "$line"
done)
echo "       Procfile declares types -> $(types <<<"$declared" | sed 's/^$/(none)/')"
if [ -n "$added" ]; then
	echo "       Default types for buildpack -> $(types <<<"$added")"
	# The Procfile wins: defaults only add the types it does not declare.
	{ [ -f "$build/Procfile" ] && [ -n "$(tail -c1 "$build/Procfile")" ] && echo; echo "$added"; } >>"$build/Procfile"
fi

tar -C "$build" --numeric-owner --owner=0 --group=0 -czf "$out/slug.tgz" .
size=$(stat -c %s "$out/slug.tgz")
topic "Compressed slug size: $(awk -v s="$size" 'BEGIN { if (s < 1048576) printf "%dK", (s + 1023) / 1024; else printf "%.1fM", s / 1048576 }')"
