#!/bin/sh
# A full disk (docs/journal.md "Writing", docs/reliability.md T8): the state
# directory on a 2 MiB tmpfs, filled while a task runs.  Submissions then
# fail with a clear error naming the journal (exit 1), reads keep working,
# pipectl status says the journal is unavailable, gc fails, the running
# task goes on but no other starts; once space is freed submissions work
# again within seconds, the waiting task starts, and after a restart no
# acknowledged execution is lost and the task's end is recorded.
# Needs root (mount); skipped where mounting is not permitted.
. "$(dirname "$0")/lib.sh"
need python3
set -e

MNT=
umount_state() {
	if [ -n "$MNT" ]; then
		umount "$MNT" 2>/dev/null || umount -l "$MNT" 2>/dev/null ||
		    echo "warning: cannot unmount $MNT" >&2
		MNT=
	fi
}
# The daemon must be gone before the unmount, and the unmount done before
# lib.sh removes $TMP.
# shellcheck disable=SC2154
trap '_jd_rc=$?; set +e; kill_leftovers; umount_state; (exit $_jd_rc); cleanup' EXIT

mkdir -p "$STATE"
if [ "$(id -u)" -ne 0 ] || ! mount -t tmpfs -o size=2M,mode=0700 tmpfs "$STATE" 2>"$TMP/mount.err"; then
	echo "SKIP: cannot mount a tmpfs for the state directory ($(cat "$TMP/mount.err" 2>/dev/null || echo "not root"))"
	finished=1
	exit 77
fi
MNT=$STATE

# ids: the ids `pipectl list` shows, in order.
ids() {
	pctl list --limit 100000 --json | python3 -c \
	    'import json,sys; print(" ".join(sorted((str(e["id"]) for e in json.load(sys.stdin)), key=int)))'
}
# avail: free KiB on the state directory's file system.
avail() {
	df -Pk "$STATE" | awk 'NR == 2 { print $4 }'
}
# can_submit: a submission is acknowledged (its id added to acked).
can_submit() {
	if _id=$(pctl run p.yaml 2>"$TMP/can.err"); then
		echo "$_id" >>acked
		return 0
	fi
	return 1
}

daemon_start --max-parallel 4
newdir disk
: >acked
printf 'name: small\ntasks:\n  t: {run: "echo small $PIPELINE_EXECUTION_ID"}\n' >p.yaml
printf 'name: long\ntasks:\n  t: {run: "echo started; while [ ! -e go ]; do sleep 0.05; done; echo ended"}\n  u: {run: "touch u.ran"}\n' >long.yaml
for _ in 1 2 3; do
	run_exec p.yaml
	echo "$ID" >>acked
done
submit long.yaml
LONG=$ID
echo "$LONG" >>acked
check "full disk: the long task runs" wait_for sh -c \
	'"$1" --socket "$2" logs "$3/t" 2>/dev/null | grep -q started' sh "$PIPECTL" "$SOCK" "$LONG"

# Fill the file system: dd stops at ENOSPC.
set +e
dd if=/dev/zero of="$STATE/filler" bs=4k >/dev/null 2>"$TMP/dd.err"
rc=$?
set -e
check "full disk: dd filled the state directory (ENOSPC, 0 KiB left)" \
	sh -c 'test "$1" -ne 0 && grep -q "No space left" "$2" && test "$3" -eq 0' \
	sh "$rc" "$TMP/dd.err" "$(avail)"
# The segment's last page may still take a few records: submit until the
# journal refuses (each acknowledged one is kept).
n=0
while [ $n -lt 200 ] && can_submit; do
	n=$((n + 1))
done
echo "full disk: $n more submissions were acknowledged before the journal refused"
check "full disk: submissions are refused once the journal cannot be written" test $n -lt 200
expect_exit 1 "full disk: pipectl run exits 1" pctl run p.yaml
check "full disk: the error names the journal" grep -q "journal" "$TMP/err"
echo "  (pipectl said: $(cat "$TMP/err"))"
expect_exit 1 "full disk: pipectl retry is refused too" pctl retry 1
check "full disk: and its error names the journal" grep -q "journal" "$TMP/err"
expect_exit 0 "full disk: reads work: pipectl list" pctl list
check "full disk: list shows every acknowledged execution" \
	is "$(sort -n acked | tr '\n' ' ' | sed 's/ $//')" "$(ids)"
expect_exit 0 "full disk: reads work: pipectl show" pctl show 1
expect_exit 0 "full disk: reads work: pipectl status" pctl status
check "full disk: pipectl status shows the journal UNAVAILABLE" \
	grep -q "UNAVAILABLE: .*" "$TMP/out"
check "full disk: pipectl status --json: available false" \
	is False "$(pctl status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["journal"]["available"])')"
check "full disk: the daemon is still there" proc_alive "$DAEMON_PID"
check "full disk: the long task is still running" \
	is RUNNING "$(sx "$LONG" 'inst("t")["status"]')"
# The task ends while nothing can be written: its records wait in memory.
touch go
task_done() {
	[ "$(sx "$LONG" 'inst("t")["status"]')" = DONE ]
}
check "full disk: the long task ends (in memory) while the disk is full" \
	wait_for -t 10 task_done
check "full disk: still refusing submissions" sh -c '! "$1" --socket "$2" run p.yaml 2>/dev/null' \
	sh "$PIPECTL" "$SOCK"
# Its child is ready, but nothing starts while the journal cannot record it.
sleep 1.5
check "full disk: the next task does not start (PENDING, not run)" \
	is "PENDING no" "$(sx "$LONG" 'inst("u")["status"]') $(test -e u.ran && echo ran || echo no)"
expect_exit 1 "full disk: pipectl gc fails (exit 1): the journal cannot be compacted" \
	pctl gc --older-than 1ms
check "full disk: and removed nothing" \
	is "$(sort -n acked | tr '\n' ' ' | sed 's/ $//')" "$(ids)"

# Free the space: within a few seconds (a retry a second) it works again.
t0=$(now_cs)
rm -f "$STATE/filler"
check "freed: submissions work again within 5 s" wait_for -t 5 can_submit
t1=$(now_cs)
echo "freed: the first submission was acknowledged $((t1 - t0))0 ms after the space came back"
check "freed: pipectl status: the journal available again" \
	is True "$(pctl status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["journal"]["available"])')"
ID=$(tail -n 1 acked)
check "freed: the new execution runs to DONE" wait_exec "$ID"
check "freed: the waiting task ran, its execution DONE" wait_exec "$LONG"
check "freed: (it ran once)" test -e u.ran
run_exec p.yaml
echo "$ID" >>acked
pctl show "$LONG" --json >long.before
daemon_stop
expect_exit 0 "freed: --verify on the journal after the full disk: no damage" \
	"$PIPELINED" --verify --state-dir "$STATE"
daemon_start --max-parallel 4
check "after a restart: every acknowledged execution is there ($(wc -l <acked | tr -d ' ') of them), no other" \
	is "$(sort -n acked | tr '\n' ' ' | sed 's/ $//')" "$(ids)"
check "after a restart: the end of the task that finished during the full disk was recorded" \
	is "DONE" "$(sx "$LONG" 'd["status"]')"
pctl show "$LONG" --json >long.after
check "after a restart: that execution byte-identical to before the restart" cmp long.before long.after
check "after a restart: its log holds what it printed before the disk was full" \
	like "started*" "$(pctl logs "$LONG/t" | tr "\n" "|")"
daemon_stop
umount "$MNT"
check "the tmpfs is unmounted" sh -c '! grep -q " $1 " /proc/mounts' sh "$MNT"
MNT=

finish
