# Helpers the embedded buildpacks source from the builder image
# (/usr/local/lib/deis/buildpack.sh). Heroku conventions: "-----> " starts a
# step, sub-output is indented seven spaces, " !     " marks an error.

topic() { echo "-----> $*"; }

# indent indents its input live (sed -u: no buffering, so output streams),
# dropping blank lines.
indent() { sed -u '/^[[:space:]]*$/d; s/^/       /'; }

# fail prints an error and exits: the last line a build prints is the error
# the controller reports, so nothing may be printed after it.
fail() {
	echo " !     $*" >&2
	exit 1
}

# export_env ENV_DIR REGEX exports the app's config vars whose names match
# REGEX (one file per var in ENV_DIR, the Heroku buildpack API).
export_env() {
	local dir=$1 re=$2 f name
	[ -d "$dir" ] || return 0
	for f in "$dir"/*; do
		[ -f "$f" ] || continue
		name=${f##*/}
		if [[ $name =~ $re ]]; then
			export "$name=$(cat "$f")"
		fi
	done
}

# vendor_libs LIBDIR FILE... copies into LIBDIR every shared library the
# ELF FILEs need that the runner image lacks, and points FILEs and the
# copies at LIBDIR with a relative RUNPATH, so the slug runs at /app
# without LD_LIBRARY_PATH. The runner's libraries are listed in the builder
# image (the runner is the same base image plus ca-certificates).
vendor_libs() {
	local libdir=$1 f n p rel
	shift
	mkdir -p "$libdir"
	for f in "$@"; do
		ldd "$f" 2>/dev/null | awk '/=> \//{print $1, $3}'
	done | sort -u | while read -r n p; do
		grep -qxF "$n" /usr/local/share/deis/runner-libs || cp -L "$p" "$libdir/$n"
	done
	for f in "$@"; do
		rel=$(realpath --relative-to="$(dirname "$(realpath "$f")")" "$libdir")
		patchelf --set-rpath "\$ORIGIN/$rel" "$f"
	done
	for f in "$libdir"/*.so*; do
		[ -f "$f" ] && patchelf --set-rpath '$ORIGIN' "$f"
	done
	return 0
}

# release_web prints a bin/release document with one default process
# type, web: CMD (none when CMD is empty).
release_web() {
	echo "---"
	if [ -n "$1" ]; then
		echo "default_process_types:"
		echo "  web: $1"
	else
		echo "default_process_types: {}"
	fi
}
