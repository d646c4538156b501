#!/bin/sh
# clang-tidy over lib/, daemon/, client/ and the runner plugins
# (examples/runners/, and runners/ when hiredis is installed) with the
# checked-in .clang-tidy (bugprone-*, cert-*, the exceptions explained
# there): print every finding, and fail when there is one.
#
# Usage: scripts/tidy.sh [BUILDDIR]
# BUILDDIR is a configured build tree, for config.h (default: build-tidy
# under the checkout, configured here when it is not yet).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

tidy=
for name in clang-tidy-14 clang-tidy; do
	if command -v "$name" >/dev/null 2>&1; then
		tidy=$name
		break
	fi
done
if [ -z "$tidy" ]; then
	echo "tidy: clang-tidy not found (on Debian: apt-get install clang-tidy)" >&2
	exit 1
fi

build=${1:-build-tidy}
if [ ! -f "$build/config.h" ]; then
	[ -x configure ] || ./autogen.sh
	mkdir -p "$build"
	(cd "$build" && "$top/configure" -q)
fi
build=$(cd "$build" && pwd)

msgpack=msgpack-c
pkg-config --exists msgpack-c || msgpack=msgpack
pkgs="libevent libbsd-overlay yaml-0.1 jansson $msgpack libsystemd inih"
sources="lib/*.c lib/runners/*.c daemon/*.c client/*.c examples/runners/*.c"
if pkg-config --exists hiredis; then
	pkgs="$pkgs hiredis"
	sources="$sources runners/celery/*.c"
fi
# The build's include paths and definitions, without _FORTIFY_SOURCE:
# fortified calls become __*_chk builtins that the checks do not know.
flags="-std=gnu11 -I$top/lib -I$top/lib/runners -I$top/include \
-I$top/daemon -I$top/client -I$top/runners/celery -I$build \
$(pkg-config --cflags $pkgs) \
-DPL_RUNNER_DIR=\"/usr/lib/pipelined/runners\" -DPL_SYSCONFDIR=\"/etc\""

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
jobs=$(nproc 2>/dev/null || echo 2)
# One clang-tidy per file, as many at once as there are CPUs; each
# writes its own report, gathered in file order afterwards.  The files of
# the crash-simulation build only (configure --enable-crashsim) are
# checked as that build compiles them.
# shellcheck disable=SC2086
ls $sources |
    xargs -P "$jobs" -I{} sh -c \
    'x=; grep -q "^#ifndef PIPELINED_CRASHSIM" "$2" && x=-DPIPELINED_CRASHSIM
    "$1" --quiet "$2" -- $3 $x >"$4/$(echo "$2" | tr / _).txt" 2>/dev/null || :' \
    sh "$tidy" {} "$flags" "$out"
# shellcheck disable=SC2086
files=$(ls $sources | wc -l)
cat "$out"/*.txt
found=$(cat "$out"/*.txt | grep -c -E '^[^ ].*: (warning|error): ' || :)
echo "tidy: $files files, $found findings ($tidy, checks in .clang-tidy)"
[ "$found" -eq 0 ]
