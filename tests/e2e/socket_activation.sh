#!/bin/sh
# Socket activation (docs/systemd.md): started by systemd-socket-activate, as
# systemd starts pipelined.service from pipelined.socket, the daemon takes
# the socket it is given, runs a pipeline through it, and leaves the socket
# file alone when it exits.  More than one socket, or a socket of the wrong
# kind, is a clear error.
. "$(dirname "$0")/lib.sh"
need systemd-socket-activate python3
set -e

# activate LOG ARGS...: systemd-socket-activate ARGS in the test's cgroup
# (as daemon_start does), its pid in $DAEMON_PID.  The launcher passes on
# only the variables named with -E: the sanitizers' options among them.
activate() {
	_log=$1
	shift
	_env=
	for _v in ASAN_OPTIONS UBSAN_OPTIONS LANG; do
		eval "_set=\${$_v+set}"
		[ -z "$_set" ] || _env="$_env -E $_v"
	done
	# shellcheck disable=SC2086
	set -- systemd-socket-activate $_env "$@"
	[ -n "$DAEMON_CG" ] || daemon_cgroup
	if [ -n "$DAEMON_CG" ]; then
		sh -c 'echo $$ >"$1/cgroup.procs" 2>/dev/null; shift; exec "$@"' \
		    sh "$DAEMON_CG" "$@" >>"$_log" 2>&1 &
	else
		"$@" >>"$_log" 2>&1 &
	fi
	DAEMON_PID=$!
}

# reap PID: wait for it (at most 15 s); its exit status in $RC.
reap() {
	wait_for -t 15 proc_dead "$1" || kill -KILL "$1" 2>/dev/null || :
	set +e
	wait "$1"
	RC=$?
	set -e
}

# --- a pipeline through the passed socket ---------------------------------
activate "$DAEMON_LOG" -l "$SOCK" -- "$PIPELINED" --foreground \
	--state-dir "$STATE"
check "the launcher listens on the socket before the daemon runs" \
	wait_for test -S "$SOCK"
# The first connection starts the daemon; it waits in the queue meanwhile.
expect_exit 0 "pipectl status through the passed socket" pctl status --json
check "the daemon says it uses the socket systemd passed" \
	grep -q "using the socket passed by systemd" "$DAEMON_LOG"
check "status names the passed socket" \
	is "$SOCK" "$(jpy "$TMP/out" 'd["socket"]')"
check "the daemon is the launcher's process (exec, no fork)" \
	is "$DAEMON_PID" "$(jpy "$TMP/out" 'd["pid"]')"
run_exec "$EXAMPLES/hello.yaml"
check "a pipeline runs to DONE through the passed socket" \
	is DONE "$(sx "$ID" 'd["status"]')"
expect_exit 0 "pipectl logs through the passed socket" \
	pctl logs "$ID/bye"
check "the task's output comes back" grep -q goodbye "$TMP/out"
daemon_stop
check "the socket file is still there after the daemon exits" test -S "$SOCK"

# --- a daemon on its own socket still removes it ---------------------------
daemon_start
daemon_stop
check "without socket activation the daemon removes its socket at exit" \
	test ! -e "$SOCK"

# --- two sockets: refused --------------------------------------------------
LOG2="$TMP/two.log"
activate "$LOG2" -l "$TMP/a.sock" -l "$TMP/b.sock" -- "$PIPELINED" \
	--foreground --state-dir "$TMP/state2"
wait_for test -S "$TMP/a.sock" || :
"$PIPECTL" --socket "$TMP/a.sock" status >/dev/null 2>&1 || :
reap "$DAEMON_PID"
DAEMON_PID=
check "two passed sockets: the daemon exits 1" is 1 "$RC"
check "two passed sockets: the error says what is wanted" \
	grep -q "systemd passed 2 file descriptors; pipelined takes exactly one" \
	"$LOG2"

# --- a datagram socket: refused --------------------------------------------
LOG3="$TMP/dgram.log"
activate "$LOG3" --datagram -l "$TMP/d.sock" -- "$PIPELINED" \
	--foreground --state-dir "$TMP/state3"
wait_for test -S "$TMP/d.sock" || :
python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.sendto(b"wake up", sys.argv[1])' "$TMP/d.sock"
reap "$DAEMON_PID"
DAEMON_PID=
check "a datagram socket: the daemon exits 1" is 1 "$RC"
check "a datagram socket: the error names the socket wanted" \
	grep -q "is not a listening Unix stream socket" "$LOG3"

finish
