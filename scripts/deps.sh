#!/bin/sh
# Install the Debian packages pipelined needs that are not installed yet.
# Usage: scripts/deps.sh build|test
# "build" is what building and running needs; "test" adds what the test
# suite needs.  apt-get update runs first whenever something is missing.
set -eu

build_pkgs="build-essential autoconf automake libtool pkg-config
libevent-dev libbsd-dev libmsgpack-dev libyaml-dev libjansson-dev libinih-dev
libsystemd-dev libhiredis-dev check"
# systemd: systemd-analyze and systemd-socket-activate for the unit tests;
# the Celery runner's tests start a private Redis and stock Celery workers;
# strace injects I/O errors into the journal (tests/e2e/faults.sh).
test_pkgs="clang libclang-rt-14-dev llvm clang-tidy graphviz systemd
redis-server python3-celery python3-redis strace"

case "${1:-build}" in
build) want=$build_pkgs ;;
test) want="$build_pkgs $test_pkgs" ;;
*) echo "usage: $0 build|test" >&2; exit 2 ;;
esac

missing=
for p in $want; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
	sudo=
elif command -v sudo >/dev/null 2>&1; then
	sudo=sudo
else
	echo "deps: missing packages:$missing; run as root to install them" >&2
	exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
# shellcheck disable=SC2086
$sudo apt-get install -y -q --no-install-recommends $missing
