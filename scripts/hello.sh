#!/bin/sh
# Install what is missing, build, start a private pipelined on a socket
# under build/, run examples/hello.yaml to the end, show its result and
# stop the daemon.  Needs root only to install packages.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
jobs=$(nproc 2>/dev/null || echo 2)

scripts/deps.sh build
./autogen.sh
mkdir -p build
cd build
[ -f Makefile ] || ../configure -q
make -j"$jobs" -s

run=$PWD/run
rm -rf "$run"
mkdir -p "$run"
pipectl() { ./client/pipectl --socket "$run/pipelined.sock" "$@"; }

# Without --foreground, pipelined returns once its socket listens.
./daemon/pipelined --socket "$run/pipelined.sock" --state-dir "$run/state"
trap 'kill "$(cat "$run/pid" 2>/dev/null)" 2>/dev/null || true' EXIT
pipectl status --json | sed -n 's/.*"pid":\([0-9]*\).*/\1/p' > "$run/pid"

status=0
pipectl run ../examples/hello.yaml --wait || status=$?
echo
echo "== output of every task"
for task in greet count wave/0 wave/1 wave/2 bye; do
	echo "-- $task"
	pipectl logs "1/$task"
done

kill "$(cat "$run/pid")"
trap - EXIT
exit "$status"
