#!/bin/sh
# Injected I/O errors (docs/reliability.md, T3, "Injected I/O
# errors"): strace, attached to the running daemon, makes one journal
# system call fail.
#  - fdatasync EIO at the Nth sync (the sync thread's: -f): the daemon
#    stops (abort) before acknowledging the batch that sync was for: with
#    one client submitting one after the other, each submission its own
#    batch, exactly N-1 are acknowledged.
#  - pwrite64 ENOSPC at the Nth write: that submission gets the error
#    journal_unavailable, the segment keeps its last good size, reads go
#    on, and submissions work again after the retry (a second).
#  - rename EIO in gc: the rotation's (the daemon stays in its segment)
#    and the snapshot's (gc fails, nothing removed); the daemon goes on.
#  - fsync EIO of the directory at each of gc's three: the daemon stops.
# After each case the daemon restarts: no acknowledged submission lost,
# and gc all or nothing.  N: PIPELINED_FAULTS_N (default a sample; soak:
# "all", 1 to 100).  Needs strace and ptrace: skipped (77) without.
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/tests/e2e/ackload.sh"
need python3 strace
set -e
if ! strace -f -o /dev/null true 2>/dev/null; then
	echo "SKIP: strace cannot trace here (ptrace not permitted)"
	finished=1
	exit 77
fi
case ${PIPELINED_FAULTS_N:-} in
"") NS="1 2 3 4 7 16 31 64 100 $(($(rand 90) + 8))" ;;
all) NS=$(seq 1 100) ;;
*) NS=$PIPELINED_FAULTS_N ;;
esac

# strace_attach INJECT: attach strace to the daemon (every thread),
# injecting INJECT; its log in strace.log.
strace_attach() {
	rm -f strace.err
	strace -f -o strace.log -e trace="${1%%:*}" -e inject="$1" \
	    -p "$DAEMON_PID" 2>strace.err &
	STRACE_PID=$!
	if ! wait_for -t 20 grep -qs attached strace.err; then
		echo "  strace did not attach: $(cat strace.err)" >&2
		return 1
	fi
}

# strace_detach: stop strace (if the daemon did not take it along).
strace_detach() {
	kill -INT "$STRACE_PID" 2>/dev/null || :
	wait_for -t 10 proc_dead "$STRACE_PID" || kill -KILL "$STRACE_PID" 2>/dev/null || :
	wait "$STRACE_PID" 2>/dev/null || :
}

# died: the daemon is gone; its exit status in $died_rc.
died() {
	proc_alive "$DAEMON_PID" && return 1
	set +e
	wait "$DAEMON_PID"
	died_rc=$?
	set -e
	DAEMON_PID=
	return 0
}

# fresh [ARGS...]: a daemon on an empty state directory whose one "held"
# slot is taken, so that submissions of q.yaml only write their creation:
# one batch each, and no task is spawned while strace is attached.
fresh() {
	[ -z "$DAEMON_PID" ] || daemon_stop
	rm -rf "$STATE" go holding acks.* seen.json
	daemon_start --max-parallel 4 --queue held=1 "$@"
	submit holder.yaml
	wait_for test -e holding
}

# submit_n K: submission number K of client 0 (acknowledged: to acks.0).
submit_n() {
	if _id=$(pctl run q.yaml --input client=0 --input n="$1" 2>sub.err); then
		echo "$_id 0 $1" >>acks.0
		return 0
	fi
	return 1
}

# restart_check WHAT: restart, then every acknowledged id must be there.
restart_check() {
	cp acks.0 acks.snap
	daemon_start --max-parallel 4 --queue held=1
	pctl list --limit 100000 --json >post.json
	if ! check_state post.json; then
		fail "$1: after the restart, acknowledged submissions are missing"
	fi
	touch go
	daemon_stop
}

# segment: the newest segment's size.
segment_size() {
	_s=$(ls "$STATE/journal"/seg-*.pjl | tail -n 1)
	stat -c %s "$_s"
}

newdir faults
printf 'name: queued\ntasks:\n  t: {run: "true", queue: held}\n' >q.yaml
printf 'name: holder\ntasks:\n  h: {run: "touch holding; while [ ! -e go ]; do sleep 0.05; done", queue: held}\n' >holder.yaml
printf 'name: small\ntasks:\n  t: {run: "echo small"}\n' >p.yaml

# --- fdatasync EIO ------------------------------------------------------
bad_sync=0
for n in $NS; do
	fresh
	: >acks.0
	strace_attach "fdatasync:error=EIO:when=$n"
	k=0
	while [ $k -lt $((n + 5)) ]; do
		k=$((k + 1))
		submit_n $k || break
	done
	if ! wait_for -t 20 died; then
		bad_sync=$((bad_sync + 1))
		echo "  (fdatasync EIO at $n: the daemon is still running)" >&2
		strace_detach
		daemon_stop
		continue
	fi
	strace_detach
	acked=$(wc -l <acks.0 | tr -d ' ')
	if [ "$died_rc" -eq 0 ] || [ "$acked" -ne $((n - 1)) ] ||
	    ! grep -q "fdatasync(.*EIO.*INJECTED" strace.log; then
		bad_sync=$((bad_sync + 1))
		echo "  (fdatasync EIO at $n: exit $died_rc, $acked acknowledged, want $((n - 1)))" >&2
	fi
	restart_check "fdatasync EIO at $n"
done
check "fdatasync EIO at sync N ($(echo $NS | tr '\n' ' ')): the daemon stops (non-zero) having acknowledged exactly the N-1 batches synced" \
	test "$bad_sync" -eq 0

# With journal_sync=always the syncs are the event loop's own.
fresh --journal-sync always
: >acks.0
strace_attach "fdatasync:error=EIO:when=5"
k=0
while [ $k -lt 10 ] && submit_n $((k + 1)); do
	k=$((k + 1))
done
if wait_for -t 20 died; then
	check "fdatasync EIO, journal_sync=always: the daemon stops (exit $died_rc), $k submissions acknowledged before" \
	    test "$died_rc" -ne 0 -a "$k" -lt 10
else
	fail "fdatasync EIO, journal_sync=always: the daemon runs on"
fi
strace_detach
restart_check "fdatasync EIO, journal_sync=always"

# --- pwrite64 ENOSPC ------------------------------------------------------
bad_write=0
for n in $NS; do
	fresh
	: >acks.0
	strace_attach "pwrite64:error=ENOSPC:when=$n"
	k=0
	failed=
	while [ $k -lt $((n + 1)) ]; do
		k=$((k + 1))
		size=$(segment_size)
		if ! submit_n $k; then
			failed=$k
			break
		fi
	done
	after=$(segment_size)
	why=
	if [ "$failed" != "$n" ]; then
		why="submission ${failed:-none} failed, not $n"
	elif ! grep -q journal_unavailable sub.err && ! grep -qi "journal" sub.err; then
		why="the error does not name the journal: $(cat sub.err)"
	elif [ "$after" != "$size" ]; then
		why="the segment has $after bytes, $size before"
	elif ! pctl list --json >list.json || ! pctl show 1 >/dev/null; then
		why="reads failed while the journal was unavailable"
	elif ! wait_for -t 10 submit_n $((k + 1)); then
		why="submissions did not work again"
	fi
	strace_detach
	if [ -n "$why" ]; then
		bad_write=$((bad_write + 1))
		echo "  (pwrite64 ENOSPC at $n: $why)" >&2
	fi
	restart_check "pwrite64 ENOSPC at $n"
done
check "pwrite64 ENOSPC at write N: that submission fails (journal), the segment keeps its size, reads work, then writes again" \
	test "$bad_write" -eq 0

# --- gc: rename EIO, directory fsync EIO ------------------------------------
# gc_setup: 3 finished executions to remove, then strace.
gc_ids() {
	pctl list --limit 100000 --json | python3 -c \
	    'import json,sys; print(" ".join(sorted((str(e["id"]) for e in json.load(sys.stdin)), key=int)))'
}
gc_setup() {
	fresh
	: >acks.0
	for _ in 1 2 3; do
		run_exec p.yaml
	done
	# The holder (the first id) is unfinished: gc keeps it.
	BEFORE=$(gc_ids)
	strace_attach "$1"
}
# gc_after WHAT WANT...: after a restart the ids are one of WANT.
gc_after() {
	_what=$1
	shift
	[ -z "$DAEMON_PID" ] || daemon_stop
	expect_exit 0 "$_what: --verify after it: no damage" \
	    "$PIPELINED" --verify --state-dir "$STATE"
	daemon_start --max-parallel 4 --queue held=1
	_got=$(gc_ids)
	for _w; do
		if [ "$_got" = "$_w" ]; then
			echo "ok: $_what: after a restart the history is whole ($_got)"
			checks=$((checks + 1))
			touch go
			daemon_stop
			return 0
		fi
	done
	fail "$_what: after a restart: ids $_got, want one of: $*"
	touch go
	daemon_stop
}

gc_setup "rename:error=EIO:when=1"
expect_exit 0 "rename EIO in gc's rotation: gc still works" pctl gc --older-than 1ms
check "rename EIO in gc's rotation: the daemon runs on and says so" sh -c \
    'kill -0 "$1" && grep -q "staying in" "$2"' sh "$DAEMON_PID" "$DAEMON_LOG"
strace_detach
check "rename EIO in gc's rotation: the finished executions went" is "${BEFORE%% *}" "$(gc_ids)"
gc_after "rename EIO in gc's rotation" "${BEFORE%% *}"

gc_setup "rename:error=EIO:when=2"
expect_exit 1 "rename EIO of gc's snapshot: gc fails" pctl gc --older-than 1ms
strace_detach
check "rename EIO of gc's snapshot: the daemon runs on, nothing removed, no .tmp left" sh -c \
    'kill -0 "$1" && ! ls "$2"/journal/*.tmp >/dev/null 2>&1' sh "$DAEMON_PID" "$STATE"
check "rename EIO of gc's snapshot: nothing removed" is "$BEFORE" "$(gc_ids)"
gc_after "rename EIO of gc's snapshot" "$BEFORE"

for n in 1 2 3; do
	gc_setup "fsync:error=EIO:when=$n"
	set +e
	pctl gc --older-than 1ms >/dev/null 2>&1
	set -e
	died_rc=0
	if wait_for -t 20 died; then
		check "fsync EIO of the directory, gc's sync $n: the daemon stops (exit $died_rc)" \
		    test "$died_rc" -ne 0
	else
		fail "fsync EIO of the directory, gc's sync $n: the daemon runs on"
	fi
	strace_detach
	gc_after "fsync EIO of the directory, gc's sync $n" "$BEFORE" "${BEFORE%% *}"
done

finish
