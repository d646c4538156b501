#!/bin/sh
# The journal (docs/journal.md): the history is byte-identical
# across a SIGTERM restart (T9); retry runs only what did not succeed and
# the links survive a restart; gc and --max-executions remove finished
# executions and their logs, compact into a snapshot, and ids go on after a
# restart; the journal_sync modes, and group commit batching fdatasync
# (strace).  Crashes: journal_crash.sh; damage and the lock:
# journal_damage.sh; a full disk: journal_disk.sh.
. "$(dirname "$0")/lib.sh"
need python3
set -e

# snap DIR: `pipectl list --json` and `show --json` and `show` of every
# execution into DIR (list.json, ID.json, ID.txt).
snap() {
	rm -rf "$1"
	mkdir -p "$1"
	pctl list --limit 100000 --json >"$1/list.json"
	for _id in $(jpy "$1/list.json" '" ".join(str(e["id"]) for e in d)'); do
		pctl show "$_id" --json >"$1/$_id.json"
		pctl show "$_id" >"$1/$_id.txt"
	done
}

# same_snap A B: the same files in both, byte for byte (cmp).
same_snap() {
	_bad=0
	if [ "$(cd "$1" && ls)" != "$(cd "$2" && ls)" ]; then
		echo "  not the same files: $(cd "$1" && ls | tr '\n' ' ')" \
		    "vs $(cd "$2" && ls | tr '\n' ' ')" >&2
		return 1
	fi
	for _f in "$1"/*; do
		if ! cmp -s "$_f" "$2/${_f##*/}"; then
			echo "  ${_f##*/} differs:" >&2
			diff "$_f" "$2/${_f##*/}" | head -n 6 | sed 's/^/    /' >&2
			# JSON on one line: say which fields.
			case $_f in
			*.json) python3 - "$_f" "$2/${_f##*/}" <<'EOF' >&2 ;;
import json, sys
def flat(v, p=""):
    if isinstance(v, dict):
        for k in v:
            yield from flat(v[k], p + "." + k)
    elif isinstance(v, list):
        for i, x in enumerate(v):
            yield from flat(x, "%s[%d]" % (p, i))
    else:
        yield p, v
a = dict(flat(json.load(open(sys.argv[1]))))
b = dict(flat(json.load(open(sys.argv[2]))))
for k in sorted(set(a) | set(b)):
    if a.get(k, "<none>") != b.get(k, "<none>"):
        print("    %s: %r -> %r" % (k, a.get(k, "<none>"), b.get(k, "<none>")))
EOF
			esac
			_bad=1
		fi
	done
	return $_bad
}

# nlines FILE: its line count (0 when missing).
nlines() {
	if [ -f "$1" ]; then
		wc -l <"$1" | tr -d ' '
	else
		echo 0
	fi
}

# --- 1. the history is byte-identical across a SIGTERM restart (T9) ---------
daemon_start --max-parallel 4
newdir history
cat >done.yaml <<'EOF'
name: hist-done
description: static task iterator, inputs, a chain
tasks:
  first: {run: 'echo "first $PIPELINE_INPUT_WHO"', inputs: [who]}
  fan:
    run: 'echo "item $TASK_INDEX: $TASK_OBJECT"'
    iterate: [a, {k: 1}, 3]
    parents: [first]
  last: {argv: [sh, -c, 'echo "$1"', sh, '{{input.who}} {{execution.id}}'], parents: [fan]}
EOF
cat >failed.yaml <<'EOF'
name: hist-failed
keep_going: true
ordering: {}
tasks:
  bad: {run: 'echo failing >&2; exit 3'}
  killed: {run: 'kill -9 $$'}
  slow: {run: 'sleep 5', timeout: 200ms, kill_grace: 100ms}
  other: {run: 'echo independent'}
  child: {run: 'echo never', parents: [bad]}
EOF
cat >cancel.yaml <<'EOF'
name: hist-cancel
tasks:
  hold: {run: 'echo $$ >hold.pid; exec sleep 60'}
  after: {run: 'echo never'}
EOF
cat >iter.yaml <<'EOF'
name: hist-iter
iterate_command: 'printf "north\nsouth\n"'
tasks:
  list: {run: 'printf "x-%s\n" 1 2 >"items.$PIPELINE_RESULT_INDEX"'}
  each:
    run: 'echo "$PIPELINE_OBJECT $TASK_OBJECT"'
    iterate_command: 'cat "items.$PIPELINE_RESULT_INDEX"'
    parents: [list]
EOF
cat >static.yaml <<'EOF'
name: hist-static
iterate: [one, {two: 2}]
tasks:
  t: {run: 'echo "$PIPELINE_OBJECT"'}
EOF
cat >retries.yaml <<'EOF'
name: hist-retries
tasks:
  flaky:
    run: 'echo "attempt $PIPELINE_ATTEMPT"; [ "$PIPELINE_ATTEMPT" -ge 3 ]'
    retries: 3
    retry_delay: 50ms
EOF
cat >invalid.yaml <<'EOF'
name: hist-invalid
tasks:
  t: {run: 'true', inputs: [missing]}
EOF
cat >badcmd.yaml <<'EOF'
name: hist-badcmd
iterate_command: 'echo cannot list >&2; exit 2'
tasks:
  t: {run: 'true'}
EOF
run_exec done.yaml --input who=me --input-json '{"n": [1, 2], "o": {"p": null}}'
H_DONE=$ID
run_exec failed.yaml
run_exec iter.yaml
run_exec static.yaml
run_exec retries.yaml
H_RETRIES=$ID
run_exec invalid.yaml
run_exec badcmd.yaml
submit cancel.yaml
H_CANCEL=$ID
wait_for test -s hold.pid || :
pctl cancel "$H_CANCEL" >/dev/null
wait_exec "$H_CANCEL" || :
expect_exit 0 "history: retry of a DONE execution (all carried)" pctl retry "$H_RETRIES" --wait
expect_exit 1 "history: retry of a failed execution" pctl retry $((H_DONE + 1)) --wait
check "history: the executions ended as meant" \
	is "DONE RUNTIME_ERROR DONE DONE DONE VALIDATION_ERROR CONFIG_ERROR CANCELLED" \
	"$(for i in $(seq "$H_DONE" $((H_CANCEL))); do sx "$i" 'd["status"]'; done | tr '\n' ' ' | sed 's/ $//')"
check "history: a task killed by a signal, one timed out, one retried to DONE" \
	is "9|RUNTIME_ERROR|DONE 3" \
	"$(sx $((H_DONE + 1)) 'str(inst("killed")["signal"]) + "|" + inst("slow")["status"]')|$(sx "$H_RETRIES" 'inst("flaky")["status"] + " " + str(inst("flaky")["attempts"])')"
snap before
daemon_stop
daemon_start --max-parallel 4
snap after
check "history: list --json, show --json and show of all $(jpy before/list.json 'len(d)') executions byte-identical after a SIGTERM restart" \
	same_snap before after
# A second restart reads what the first restart wrote.
daemon_stop
daemon_start --max-parallel 4
snap again
check "history: and after a second restart" same_snap before again
submit static.yaml
check "history: a new submission gets the next id" \
	is $(($(jpy before/list.json 'max(e["id"] for e in d)') + 1)) "$ID"
wait_exec "$ID" || :

# --- 5. retry: only what did not succeed runs, the links survive -----------
newdir retry
cat >p.yaml <<'EOF'
name: retry
keep_going: true
tasks:
  a: {run: 'echo run >>runs.a'}
  fan:
    run: 'echo run >>"runs.fan.$TASK_INDEX"; if [ "$TASK_OBJECT" = two ] && [ ! -e fixed ]; then sleep 1; exit 4; fi'
    iterate_command: 'echo run >>runs.items; printf "one\ntwo\nthree\n"'
    parents: [a]
  join: {run: 'echo run >>runs.join', parents: [fan]}
  side: {run: 'echo run >>runs.side'}
EOF
run_exec p.yaml
R1=$ID
check "retry: the first run: fan/1 failed, its siblings DONE, join CANCELLED" \
	is "RUNTIME_ERROR|DONE RUNTIME_ERROR DONE|CANCELLED|DONE" \
	"$(sx "$R1" 'd["status"] + "|" + " ".join(i["status"] for i in task("fan")["instances"]) + "|" + task("join")["status"] + "|" + task("side")["status"]')"
touch fixed
expect_exit 0 "retry: pipectl retry ID --wait ends DONE" pctl retry "$R1" --wait
R2=$(head -n 1 "$TMP/out")
check "retry: the new execution has the next id" is $((R1 + 1)) "$R2"
check "retry: only the failed instance and what follows it ran again (runs: a fan.0 fan.1 fan.2 join side items)" \
	is "1 1 2 1 1 1 1" \
	"$(for f in a fan.0 fan.1 fan.2 join side items; do nlines "runs.$f"; done | tr '\n' ' ' | sed 's/ $//')"
# pipectl show: the lines that say "done in execution R1".
carried() {
	pctl show "$R2" | awk -v w="done in execution $R1" \
	    'index($0, w) { print $1 ($2 ~ /^(one|two|three)$/ ? "/" $2 : "") }' | tr '\n' ' ' | sed 's/ $//'
}
check "retry: pipectl show: carried ones say 'done in execution $R1' (a, fan/0, fan/2, side), no other" \
	is "a 0/one 2/three side" "$(carried)"
check "retry: show --json: carried DONE 'done in execution $R1', the rerun ones not" \
	is "done in execution $R1|done in execution $R1,exited with status 0,done in execution $R1|exited with status 0|done in execution $R1" \
	"$(sx "$R2" 'inst("a")["message"] + "|" + ",".join(i["message"] for i in task("fan")["instances"]) + "|" + inst("join")["message"] + "|" + inst("side")["message"]')"
check "retry: show --json links both ways (retry_of, retried_by)" \
	is "$R1 None|None $R2" \
	"$(sx "$R2" 'str(d["retry_of"]) + " " + str(d["retried_by"])')|$(sx "$R1" 'str(d["retry_of"]) + " " + str(d["retried_by"])')"
snap before
daemon_stop
daemon_start --max-parallel 4
snap after
check "retry: both executions byte-identical after a SIGTERM restart (links included)" \
	same_snap before after
check "retry: nothing ran again at the restart" \
	is "1 1 2 1 1 1 1" \
	"$(for f in a fan.0 fan.1 fan.2 join side items; do nlines "runs.$f"; done | tr '\n' ' ' | sed 's/ $//')"

# --- 6. gc, --max-executions, the snapshot -----------------------------------
# ids: the ids `pipectl list` shows, in order.
ids() {
	pctl list --limit 100000 --json | python3 -c \
	    'import json,sys; print(" ".join(sorted((str(e["id"]) for e in json.load(sys.stdin)), key=int)))'
}
# journal_ok: one snapshot, and no segment that it covers (every segment
# starts after the snapshot's last sequence number).
journal_ok() {
	python3 - "$STATE/journal" <<'EOF'
import os, sys
names = os.listdir(sys.argv[1])
snaps = [n for n in names if n.startswith("snap-") and n.endswith(".pjl")]
segs = [n for n in names if n.startswith("seg-") and n.endswith(".pjl")]
if len(snaps) != 1:
    sys.exit("  want one snapshot, got %s" % sorted(names))
last = int(snaps[0][5:21], 16)
covered = [s for s in segs if int(s[4:20], 16) <= last]
if covered or not segs:
    sys.exit("  segments covered by %s: %s (all: %s)" % (snaps[0], covered, sorted(names)))
EOF
}
newdir gc
printf 'name: gc\ntasks:\n  t: {run: "echo out $PIPELINE_EXECUTION_ID"}\n' >p.yaml
printf 'name: gc-hold\ntasks:\n  t: {run: "while [ ! -e go ]; do sleep 0.05; done"}\n' >hold.yaml
daemon_stop
daemon_start --max-parallel 4
submit hold.yaml
HOLD=$ID
for i in 1 2 3; do
	run_exec p.yaml
done
LAST=$ID
check "gc: the 3 finished executions have logs directories" \
	sh -c 'for id in $(($1 - 2)) $(($1 - 1)) $1; do [ -d "$2/logs/$id" ] || exit 1; done' \
	sh "$LAST" "$STATE"
NBEFORE=$(ids | wc -w)
expect_exit 0 "gc: pipectl gc --older-than 1ms exits 0" pctl gc --older-than 1ms
check "gc: it says how many went: all finished ones, not the running one" \
	is "removed $((NBEFORE - 1)) executions" "$(cat "$TMP/out")"
check "gc: list holds only the unfinished execution" is "$HOLD" "$(ids)"
check "gc: the removed executions' logs directories are gone" \
	sh -c 'for id in $(seq 1 "$1"); do [ "$id" = "$2" ] || [ ! -e "$3/logs/$id" ] || exit 1; done' \
	sh "$LAST" "$HOLD" "$STATE"
expect_exit 4 "gc: show of a removed execution: not found" pctl show "$LAST"
check "gc: the journal holds a snapshot and no segment it covers" journal_ok
touch go
check "gc: the unfinished execution still ends DONE" wait_exec "$HOLD"
expect_exit 0 "gc: a second gc removes it now" pctl gc --older-than 1ms
check "gc: removed 1, list is empty" is "removed 1 execution|" "$(cat "$TMP/out")|$(ids)"
daemon_stop
check "gc: --verify after gc: no damage" sh -c \
	'"$1" --verify --state-dir "$2" >verify.out && grep -qx "no damage" verify.out &&
	 grep -q "after snapshot snap-" verify.out' sh "$PIPELINED" "$STATE"
daemon_start --max-parallel 4 --max-executions 2
check "gc: after a restart the list is still empty" is "" "$(ids)"
submit p.yaml
check "gc: ids go on after a restart: a new submit gets $((LAST + 1))" is $((LAST + 1)) "$ID"
FIRST=$ID
wait_exec "$ID" || :
for i in 2 3 4; do
	run_exec p.yaml
done
check "gc: --max-executions 2: the 4 executions are kept until a gc" \
	is "$FIRST $((FIRST + 1)) $((FIRST + 2)) $((FIRST + 3))" "$(ids)"
submit hold.yaml
HOLD=$ID
expect_exit 0 "gc: pipectl gc with --max-executions 2" pctl gc
check "gc: --max-executions 2: the 2 newest finished ones are kept, and the unfinished one" \
	is "removed 3 executions|$((FIRST + 3)) $HOLD" "$(cat "$TMP/out")|$(ids)"
check "gc: the journal holds a snapshot and no segment it covers" journal_ok
wait_exec "$HOLD" || :
snap before
daemon_stop
daemon_start --max-parallel 4
snap after
check "gc: the history after a restart on the snapshot is identical" same_snap before after
check "gc: the restart read the snapshot" \
	sh -c 'tail -n 8 "$1" | grep -q "after snapshot snap-"' sh "$DAEMON_LOG"

# --- 8. journal_sync modes, group commit --------------------------------------
newdir sync
# fdatasyncs DIR SUBMISSIONS CLIENTS: attach strace to the daemon, make
# SUBMISSIONS submissions from CLIENTS concurrent clients (held, so that no
# task starts: only submissions write), print the number of fdatasync calls.
status_sync() {
	pctl status | grep -q "sync $1\$"
}
hold_ready() {
	test -e holding
}
# -f: the syncs may come from a thread.  No task may be spawned while
# strace is attached (a vfork under strace -f can hang both at detach, seen
# with strace 6.1): the submitted tasks wait in a queue held by another.
fdatasyncs() {
	strace -f -c -e trace=fdatasync -o "$1/strace" -p "$DAEMON_PID" \
	    2>"$1/strace.err" &
	_st=$!
	wait_for grep -q attached "$1/strace.err" 2>/dev/null || :
	_c=0
	_pids=
	while [ $_c -lt "$3" ]; do
		(
			_n=0
			while [ $_n -lt $(($2 / $3)) ]; do
				pctl run q.yaml >>"$1/acks.$_c" || exit 1
				_n=$((_n + 1))
			done
		) &
		_pids="$_pids $!"
		_c=$((_c + 1))
	done
	_bad=0
	for _p in $_pids; do
		wait "$_p" || _bad=1
	done
	kill -INT "$_st"
	if ! wait_for -t 10 proc_dead "$_st"; then
		echo "  strace did not detach within 10 s" >&2
		kill -KILL "$_st"
	fi
	wait "$_st" || :
	[ $_bad -eq 0 ] || echo "  a client failed" >&2
	awk '$NF == "fdatasync" { n = $4 } END { print n + 0 }' "$1/strace"
}
cat >hello.yaml <<'EOF'
name: hello
tasks:
  hi: {run: 'echo hello'}
EOF
cat >q.yaml <<'EOF'
name: queued
tasks:
  t: {run: 'true', queue: held}
EOF
printf 'name: holder\ntasks:\n  h: {run: "touch holding; while [ ! -e go ]; do sleep 0.05; done", queue: held}\n' >holder.yaml
if strace -f -o /dev/null true 2>/dev/null; then
	HAVE_STRACE=1
else
	HAVE_STRACE=
fi
for mode in always off batch; do
	daemon_stop
	rm -f go holding acks.*
	mkdir -p "$mode"
	daemon_start --max-parallel 4 --journal-sync "$mode" --queue held=1
	run_exec hello.yaml
	check "journal_sync $mode: a hello run ends DONE" is DONE "$(sx "$ID" 'd["status"]')"
	check "journal_sync $mode: pipectl status says so" status_sync "$mode"
	if [ -z "$HAVE_STRACE" ]; then
		skip "journal_sync $mode: counting fdatasync" "strace cannot trace here"
		continue
	fi
	submit holder.yaml
	HOLDER=$ID
	if ! wait_for hold_ready; then
		fail "journal_sync $mode: the holder task did not start"
		continue
	fi
	n=$(fdatasyncs "$mode" 50 10)
	acks=$(cat "$mode"/acks.* | grep -c '^[0-9][0-9]*$' || :)
	check "journal_sync $mode: 50 submissions by 10 clients all acknowledged" is 50 "$acks"
	echo "journal_sync $mode: $n fdatasync for $acks acknowledged submissions" \
	    "(ratio $(awk -v n="$n" -v a="$acks" 'BEGIN { printf "%.2f", a ? n / a : -1 }'))"
	case $mode in
	always)
		check "journal_sync always: at least one fdatasync per submission" \
			test "$n" -ge "$acks" ;;
	off)
		check "journal_sync off: no fdatasync at all" is 0 "$n" ;;
	batch)
		check "journal_sync batch: fewer fdatasync than acknowledgements (group commit)" \
			test "$n" -lt "$acks" -a "$n" -gt 0 ;;
	esac
	touch go
	wait_exec "$HOLDER" || :
done

finish
