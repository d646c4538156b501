# Shared helpers for the end-to-end tests (sourced, POSIX sh).
# The tests run from the build tree: top_builddir and top_srcdir come from
# the test environment (tests/Makefile.am), with fallbacks for a manual run.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
PIPECTL="$top_builddir/client/pipectl"
PIPELINED="$top_builddir/daemon/pipelined"
EXAMPLES="$top_srcdir/examples"
DATA="$top_srcdir/tests/data"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/pipelined-e2e.XXXXXX")
TMP=$(cd "$TMP" && pwd -P)
failures=0
checks=0
finished=0
DAEMON_PID=
DAEMON_CG=
SOCK="$TMP/sock"
STATE="$TMP/state"
DAEMON_LOG="$TMP/daemon.log"
# The daemon's configuration file: empty unless a test writes it, so that
# no file of the machine's (/etc/pipelined/pipelined.conf) takes part.
CONF="$TMP/pipelined.conf"
: >"$CONF"

fail() {
	echo "FAIL: $*" >&2
	failures=$((failures + 1))
}

# check DESCRIPTION COMMAND...: the command must succeed.
check() {
	desc=$1
	shift
	checks=$((checks + 1))
	if "$@"; then
		echo "ok: $desc"
	else
		fail "$desc"
	fi
}

# expect_exit CODE DESCRIPTION COMMAND...: run and compare the exit status;
# stdout and stderr are kept in $TMP/out and $TMP/err.
expect_exit() {
	want=$1
	desc=$2
	shift 2
	checks=$((checks + 1))
	set +e
	"$@" >"$TMP/out" 2>"$TMP/err"
	got=$?
	set -e
	if [ "$got" -eq "$want" ]; then
		echo "ok: $desc"
	else
		fail "$desc: exit $got, want $want"
		sed 's/^/  stdout: /' "$TMP/out" >&2
		sed 's/^/  stderr: /' "$TMP/err" >&2
	fi
}

# skip DESCRIPTION REASON: a check that cannot be made here, said so.
skip() {
	echo "skip: $1 ($2)"
}

# need PROGRAM...: skip the whole test (exit 77) without one of them.
need() {
	for _n in "$@"; do
		if ! command -v "$_n" >/dev/null 2>&1; then
			echo "SKIP: $_n is not installed"
			finished=1
			exit 77
		fi
	done
}

# The end of every test: exit 1 if any check failed.
finish() {
	if [ -n "$DAEMON_PID" ]; then
		daemon_stop
	fi
	echo "$checks checks, $failures failed"
	finished=1
	[ "$failures" -eq 0 ]
}

# --- time and processes ---------------------------------------------------

# now_cs: a monotonic clock in hundredths of a second (no fork).
now_cs() {
	read -r _up _ </proc/uptime
	_s=${_up%.*}
	_f=${_up#*.}
	echo $((_s * 100 + ${_f#0}))
}

# proc_alive PID: the process exists and is not a zombie.  Orphans are not
# reaped on every machine (PID 1 may not wait), so a dead task can stay a
# zombie for good: the state letter after "(comm)" in /proc/PID/stat says.
proc_alive() {
	_stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$_stat" ] || return 1
	_stat=${_stat##*) }
	case ${_stat%% *} in
	Z | X | x | "") return 1 ;;
	esac
	return 0
}

proc_dead() {
	! proc_alive "$1"
}

# all_dead PID...: none of them is alive.
all_dead() {
	for _p in "$@"; do
		if proc_alive "$_p"; then
			return 1
		fi
	done
	return 0
}

# wait_for [-t SECONDS] COMMAND...: run the command every 50 ms until it
# succeeds (0) or the time is up (1; default 10 s).  The timeout is an upper
# bound, never the thing tested.
wait_for() {
	_limit=10
	if [ "$1" = -t ]; then
		_limit=$2
		shift 2
	fi
	_end=$(($(now_cs) + _limit * 100))
	while :; do
		if "$@"; then
			return 0
		fi
		if [ "$(now_cs)" -ge "$_end" ]; then
			return 1
		fi
		sleep 0.05
	done
}

# file_lines FILE N: FILE exists and has at least N lines.
file_lines() {
	[ -f "$1" ] && [ "$(wc -l <"$1")" -ge "$2" ]
}

# pids_in FILE...: the pids written (one a line) in the files.
pids_in() {
	cat "$@" 2>/dev/null | tr -cs '0-9' '\n' | sed '/^$/d'
}

# gone FILE...: every pid the files hold is dead, and there is at least one.
gone() {
	_pids=$(pids_in "$@")
	if [ -z "$_pids" ]; then
		echo "  no pid recorded in $*" >&2
		return 1
	fi
	# shellcheck disable=SC2086
	all_dead $_pids
}

# --- the daemon -----------------------------------------------------------

# pctl ARGS...: pipectl talking to this test's daemon.
pctl() {
	"$PIPECTL" --socket "$SOCK" "$@"
}

# A cgroup of our own for the daemon (as a service manager would give it),
# so that tests running side by side do not share the daemon's task cgroup
# root, and so that whatever a failed test leaves behind can be killed.
daemon_cgroup() {
	DAEMON_CG=
	[ "$(id -u)" -eq 0 ] || return 0
	_mnt=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
	[ -n "$_mnt" ] || return 0
	_own=$(sed -n 's/^0:://p' /proc/self/cgroup)
	_cg="$_mnt${_own%/}/pipelined-e2e.$$"
	if mkdir "$_cg" 2>/dev/null; then
		DAEMON_CG=$_cg
	fi
}

# daemon_start [ARGS...]: start pipelined in the foreground on a private
# socket and state directory, logging to $DAEMON_LOG; return once
# `pipectl status` answers (at most 10 s).  Extra variables for the daemon's
# environment: export them before the call.
daemon_start() {
	[ -z "$DAEMON_PID" ] || daemon_stop
	[ -n "$DAEMON_CG" ] || daemon_cgroup
	if [ -n "$DAEMON_CG" ]; then
		sh -c 'echo $$ >"$1/cgroup.procs" 2>/dev/null; shift; exec "$@"' \
		    sh "$DAEMON_CG" "$PIPELINED" --foreground --config "$CONF" \
		    --socket "$SOCK" --state-dir "$STATE" "$@" \
		    >>"$DAEMON_LOG" 2>&1 &
	else
		"$PIPELINED" --foreground --config "$CONF" --socket "$SOCK" \
		    --state-dir "$STATE" "$@" >>"$DAEMON_LOG" 2>&1 &
	fi
	DAEMON_PID=$!
	_end=$(($(now_cs) + 1000))
	while ! pctl status >/dev/null 2>&1; do
		if ! proc_alive "$DAEMON_PID" || [ "$(now_cs)" -ge "$_end" ]; then
			fail "daemon_start: pipelined did not come up"
			sed 's/^/  daemon: /' "$DAEMON_LOG" >&2
			kill -KILL "$DAEMON_PID" 2>/dev/null || :
			wait "$DAEMON_PID" 2>/dev/null || :
			DAEMON_PID=
			exit 1
		fi
		sleep 0.05
	done
}

# daemon_stop: SIGTERM, wait (at most 15 s) and check it exits with 0.
daemon_stop() {
	_pid=$DAEMON_PID
	DAEMON_PID=
	checks=$((checks + 1))
	kill -TERM "$_pid" 2>/dev/null || :
	if ! wait_for -t 15 proc_dead "$_pid"; then
		fail "daemon_stop: pipelined still running 15 s after SIGTERM"
		kill -KILL "$_pid" 2>/dev/null || :
	fi
	set +e
	wait "$_pid"
	_rc=$?
	set -e
	if [ "$_rc" -eq 0 ]; then
		echo "ok: daemon exits 0 on SIGTERM"
	else
		fail "daemon exits 0 on SIGTERM: exit $_rc"
		tail -n 40 "$DAEMON_LOG" | sed 's/^/  daemon: /' >&2
	fi
}

# Kill whatever is left: the daemon, the processes in its cgroup, and any
# process working in $TMP (tasks run where pipectl ran: in $TMP).
kill_leftovers() {
	if [ -n "$DAEMON_PID" ]; then
		kill -KILL "$DAEMON_PID" 2>/dev/null || :
		wait "$DAEMON_PID" 2>/dev/null || :
		DAEMON_PID=
	fi
	if [ -n "$DAEMON_CG" ] && [ -d "$DAEMON_CG" ]; then
		echo 1 >"$DAEMON_CG/cgroup.kill" 2>/dev/null || :
		wait_for -t 5 sh -c 'find "$1" -depth -type d -exec rmdir {} + \
		    2>/dev/null; [ ! -d "$1" ]' sh "$DAEMON_CG" ||
		    echo "warning: cannot remove $DAEMON_CG" >&2
	fi
	for _d in /proc/[0-9]*; do
		_p=${_d#/proc/}
		[ "$_p" != $$ ] || continue
		case $(readlink "$_d/cwd" 2>/dev/null) in
		"$TMP" | "$TMP"/*) kill -KILL "$_p" 2>/dev/null || : ;;
		esac
	done
}

cleanup() {
	_rc=$?
	trap - EXIT HUP INT TERM
	set +e
	if [ "$finished" -eq 0 ]; then
		echo "ERROR: the test stopped before its end (exit $_rc)" >&2
		[ "$_rc" -ne 0 ] || _rc=1
	fi
	if [ "$_rc" -ne 0 ] && [ "$_rc" -ne 77 ] && [ -s "$DAEMON_LOG" ]; then
		tail -n 60 "$DAEMON_LOG" | sed 's/^/  daemon: /' >&2
	fi
	kill_leftovers
	cd /
	rm -rf "$TMP"
	exit "$_rc"
}
trap cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

# Tasks run in the directory pipectl runs in: keep them in $TMP.
cd "$TMP"

# --- submitting and inspecting --------------------------------------------

# submit FILE [ARGS...]: `pipectl run`; the execution id goes to $ID.
submit() {
	ID=
	if pctl run "$@" >"$TMP/submit.out" 2>"$TMP/submit.err"; then
		ID=$(cat "$TMP/submit.out")
	else
		fail "submit $*: exit $?"
		sed 's/^/  stderr: /' "$TMP/submit.err" >&2
		ID=0
	fi
}

# wait_exec ID [SECONDS]: `pipectl wait`, bounded (default 60 s); its exit
# status (0 DONE, 1 otherwise, 124 time out).
wait_exec() {
	timeout "${2:-60}" "$PIPECTL" --socket "$SOCK" wait "$1" >/dev/null 2>&1
}

# run_exec FILE [ARGS...]: submit and wait for the end; the id is in $ID.
run_exec() {
	submit "$@"
	set +e
	wait_exec "$ID"
	_rc=$?
	set -e
	if [ "$_rc" -eq 124 ]; then
		fail "execution $ID of $1 did not end within 60 s"
	fi
}

# jpy FILE EXPR: evaluate a Python expression on the JSON document in FILE
# (bound to d) and print it: text as is, anything else as JSON.
jpy() {
	python3 - "$1" "$2" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
def task(name, r=0):
    return [t for t in d["results"][r]["tasks"] if t["name"] == name][0]
def inst(name, i=0, r=0):
    return task(name, r)["instances"][i]
v = eval(sys.argv[2])
print(v if isinstance(v, str) else json.dumps(v, sort_keys=True))
EOF
}

# sx ID EXPR: jpy on `pipectl show ID --json`, with task(name[, r]) and
# inst(name[, i[, r]]) to reach a task execution and a task result.
sx() {
	pctl show "$1" --json >"$TMP/show.json" || return 1
	jpy "$TMP/show.json" "$2"
}

# is EXPECTED ACTUAL...: string equality, showing both when different.
is() {
	_want=$1
	shift
	_got="$*"
	if [ "$_got" = "$_want" ]; then
		return 0
	fi
	echo "  want: $_want" >&2
	echo "  got:  $_got" >&2
	return 1
}

# like PATTERN ACTUAL...: shell pattern match, showing both when not.
like() {
	_pat=$1
	shift
	_got="$*"
	# shellcheck disable=SC2254
	case $_got in
	$_pat) return 0 ;;
	esac
	echo "  want like: $_pat" >&2
	echo "  got:       $_got" >&2
	return 1
}

# newdir NAME: a fresh directory under $TMP to work in; pipectl runs from
# there, so that is where the tasks run too.
newdir() {
	mkdir -p "$TMP/$1"
	cd "$TMP/$1"
}

# num FILE: the number in FILE (a timestamp a task wrote), or -1.
num() {
	_v=$(cat "$1" 2>/dev/null) || _v=
	case $_v in
	'' | *[!0-9]*) echo -1 ;;
	*) echo "$_v" ;;
	esac
}

# before A B: timestamp file A holds a number <= the one in B, both set.
before() {
	_a=$(num "$1")
	_b=$(num "$2")
	if [ "$_a" -ge 0 ] && [ "$_b" -ge 0 ] && [ "$_a" -le "$_b" ]; then
		return 0
	fi
	echo "  $1=$_a is not before $2=$_b" >&2
	return 1
}

# connections_at_least N: the daemon counts N client connections or more
# (the asking pipectl included): how a test knows a follower is attached.
connections_at_least() {
	_c=$(pctl status --json 2>/dev/null | python3 -c \
	    'import json,sys; print(json.load(sys.stdin)["connections"])') || return 1
	[ "$_c" -ge "$1" ]
}

# have_cgroups: the daemon gives tasks cgroups (it says so when it starts);
# only then can cancel reach a grandchild that left with setsid.
have_cgroups() {
	grep -q "tasks get cgroups" "$DAEMON_LOG"
}
