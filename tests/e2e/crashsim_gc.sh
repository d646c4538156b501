#!/bin/sh
# Crashes at each step of compaction and rotation (docs/reliability.md,
# T7, "Crash simulation"): a dry run of pipelined-crashsim traces every
# journal call that `pipectl gc` makes (its rotation: the
# SEGMENT_END written and synced, the new segment created, written,
# synced, renamed, the directory synced; the snapshot created, written,
# synced, renamed, the directory synced; the covered segments unlinked,
# the directory synced), and every call of a rotation that a submission's
# batch causes (segments of 8 KiB: each batch fills one).  Then, for each
# of those calls, just before it and just after it: a SIGKILL (model
# kill: nothing lost) and a simulated power loss (model psow; in the soak
# also sector, without powersafe overwrite), on a copy of the same
# journal.  The normal daemon then starts (0 failed starts), --verify
# finds damage only where writes were not synced yet, nothing half made
# (.tmp) stays behind, and:
#  - gc: the history is the one before gc or the one gc leaves, all or
#    nothing, every execution byte for byte as before (show --json); a
#    second gc leaves exactly what the first should have;
#  - rotation: the history before, plus the submission if it was
#    acknowledged (and maybe if not); a new submission works.
# Each crash must come at the very call the dry run numbered (the crash
# report names it), so that no step goes untested unnoticed.
#   PIPELINED_CRASHSIM_STEP_LOOPS   crashes per call, side and model
#                                   (default 1; soak 20)
#   PIPELINED_CRASHSIM_STEP_MODELS  the models (default "kill psow";
#                                   soak "kill psow sector")
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/tests/e2e/ackload.sh"
need python3
set -e

need_crashsim
ROUNDS=${PIPELINED_CRASHSIM_STEP_LOOPS:-1}
MODELS=${PIPELINED_CRASHSIM_STEP_MODELS:-kill psow}
NORMAL=$PIPELINED

# ids: the ids `pipectl list` shows, in order.
ids() {
	pctl list --limit 100000 --json | python3 -c \
	    'import json,sys; print(" ".join(sorted((str(e["id"]) for e in json.load(sys.stdin)), key=int)))'
}

# shows DIR IDS...: `pipectl show --json` of each id into DIR/ID.json.
shows() {
	_d=$1
	shift
	rm -rf "$_d"
	mkdir -p "$_d"
	for _id; do
		pctl show "$_id" --json >"$_d/$_id.json"
	done
}

# same_shows A B IDS...: the same show --json, byte for byte.
same_shows() {
	_a=$1
	_b=$2
	shift 2
	for _id; do
		if ! cmp -s "$_a/$_id.json" "$_b/$_id.json"; then
			echo "  execution $_id differs after the crash" >&2
			return 1
		fi
	done
}

# crashsim_start: pipelined-crashsim in place of the daemon (the
# PIPELINED_CRASHSIM_* variables exported by the caller).
crashsim_start() {
	PIPELINED=$CRASHSIM
	daemon_start --max-parallel 4
	PIPELINED=$NORMAL
}

# crashsim_wait: the crashed daemon is gone; its exit status in $cs_rc.
crashsim_wait() {
	if ! wait_for -t 30 proc_dead "$DAEMON_PID"; then
		kill -KILL "$DAEMON_PID" 2>/dev/null || :
	fi
	set +e
	wait "$DAEMON_PID"
	cs_rc=$?
	set -e
	DAEMON_PID=
}

newdir steps
kl_yaml
printf 'name: one\ntasks:\n  t: {run: "echo one $PIPELINE_EXECUTION_ID"}\n' >one.yaml
cat >iter.yaml <<'EOF'
name: iter
iterate_command: 'printf "north\nsouth\n"'
tasks:
  each:
    run: 'echo "$PIPELINE_OBJECT $TASK_OBJECT"'
    iterate_command: 'printf "x\ny\n"'
EOF
printf 'name: bad\ntasks:\n  t: {run: "true", inputs: [missing]}\n' >invalid.yaml

# The journal every case starts from: 3 executions gc removes, 3 it keeps.
daemon_start --max-parallel 4
for f in one.yaml kl.yaml iter.yaml; do
	run_exec "$f" --input client=x --input n=1
done
OLD=$(ids)
sleep 2
for f in iter.yaml kl.yaml one.yaml; do
	run_exec "$f" --input client=x --input n=2
done
FULL=$(ids)
KEPT=$(echo "$FULL" | cut -d ' ' -f 4-)
NEXT=$(($(echo "$FULL" | tr ' ' '\n' | tail -n 1) + 1))
# gc's cut: halfway between the older ones' end and the newer ones' start.
CUT_MS=$(pctl list --limit 100000 --json | python3 -c '
import datetime, json, sys
old = set(int(i) for i in sys.argv[1].split())
def ms(t):
    return datetime.datetime.fromisoformat(t.replace("Z", "+00:00")).timestamp() * 1000
l = json.load(sys.stdin)
a = max(ms(e["completed"]) for e in l if e["id"] in old)
b = min(ms(e["submitted"]) for e in l if e["id"] not in old)
print(int((a + b) / 2))' "$OLD")
# shellcheck disable=SC2086
shows before $FULL
daemon_stop
cp -a "$STATE" template

# older: gc's --older-than for the cut, from now.
older() {
	python3 -c 'import sys, time; print("%dms" % (time.time() * 1000 - int(sys.argv[1])))' "$CUT_MS"
}

# fresh_state: the template's journal.
fresh_state() {
	rm -rf "$STATE"
	cp -a template "$STATE"
}

# action gc|rotate: what the crashes interrupt; $acked says whether
# rotate's submission was acknowledged.
action() {
	acked=
	case $1 in
	gc) pctl gc --older-than "$(older)" >action.out 2>&1 || : ;;
	rotate)
		if pctl run invalid.yaml >action.out 2>&1; then
			acked=$(cat action.out)
		fi
		;;
	esac
}

# trace_calls SCENARIO: the dry run; the numbers of the calls the action
# makes into $calls, their names into calls.SCENARIO.
trace_calls() {
	fresh_state
	rm -f trace
	export PIPELINED_CRASHSIM_TRACE="$PWD/trace" PIPELINED_CRASHSIM_SEGMENT_MAX="$2"
	crashsim_start
	_n0=$(wc -l <trace)
	action "$1"
	_n1=$(wc -l <trace)
	daemon_stop
	unset PIPELINED_CRASHSIM_TRACE
	sed -n "$((_n0 + 1)),${_n1}p" trace | sed "s|$STATE/journal/||" >"calls.$1"
	calls=$(cut -d ' ' -f 1 "calls.$1")
	echo "$1: the action makes $(wc -l <"calls.$1" | tr -d ' ') journal calls:" \
	    "$(cut -d ' ' -f 2 "calls.$1" | tr '\n' ' ')"
}

# no_tmp: nothing the crash left half made (a .tmp) stays behind.
no_tmp() {
	for _f in "$STATE"/journal/*.tmp; do
		if [ -e "$_f" ]; then
			echo "  left behind: ${_f##*/}" >&2
			return 1
		fi
	done
}

# check_gc: the history after a crash inside gc, then a second gc.
check_gc() {
	_got=$(ids)
	case $_got in
	"$FULL") n_old=$((n_old + 1)) ;;
	"$KEPT") n_new=$((n_new + 1)) ;;
	*) echo "  ids $_got, want $FULL or $KEPT" >&2; return 1 ;;
	esac
	no_tmp || return 1
	# shellcheck disable=SC2086
	shows after $_got
	# shellcheck disable=SC2086
	same_shows before after $_got || return 1
	pctl gc --older-than "$(older)" >gc.out 2>&1 || {
		echo "  the second gc failed: $(cat gc.out)" >&2
		return 1
	}
	_got=$(ids)
	if [ "$_got" != "$KEPT" ]; then
		echo "  after a second gc: ids $_got, want $KEPT" >&2
		return 1
	fi
}

# check_rotate: the history after a crash inside a rotation.
check_rotate() {
	_got=$(ids)
	case $_got in
	"$FULL")
		[ -z "$acked" ] || { echo "  acknowledged $acked lost" >&2; return 1; }
		n_old=$((n_old + 1))
		;;
	"$FULL $NEXT") n_new=$((n_new + 1)) ;;
	*) echo "  ids $_got, want $FULL [$NEXT]" >&2; return 1 ;;
	esac
	no_tmp || return 1
	# shellcheck disable=SC2086
	shows after $FULL
	# shellcheck disable=SC2086
	same_shows before after $FULL || return 1
	pctl run invalid.yaml >/dev/null 2>&1 || {
		echo "  a new submission failed" >&2
		return 1
	}
}

# crash_steps SCENARIO SEGMENT_MAX: every call of the action, both sides,
# both models, ROUNDS times.
crash_steps() {
	trace_calls "$1" "$2"
	_bad=0
	_runs=0
	n_old=0
	n_new=0
	_t0=$(now_cs)
	for _call in $calls; do
		for _side in before after; do
			for _model in $MODELS; do
				_r=0
				while [ $_r -lt "$ROUNDS" ]; do
					_r=$((_r + 1))
					_runs=$((_runs + 1))
					_kind=$(grep "^$_call " "calls.$1" | cut -d ' ' -f 2)
					_seed=$(rand 65536)
					_what="$1: $_model $_side call $_call ($(grep "^$_call " "calls.$1" | cut -d ' ' -f 2-3), seed $_seed)"
					fresh_state
					rm -f report
					export PIPELINED_CRASHSIM="any:$_call:$_side" \
					    PIPELINED_CRASHSIM_MODEL="$_model" \
					    PIPELINED_CRASHSIM_SEED="$_seed" \
					    PIPELINED_CRASHSIM_REPORT="$PWD/report"
					crashsim_start
					action "$1"
					crashsim_wait
					unset PIPELINED_CRASHSIM PIPELINED_CRASHSIM_MODEL \
					    PIPELINED_CRASHSIM_SEED PIPELINED_CRASHSIM_REPORT
					_want=86
					[ "$_model" != kill ] || _want=137
					if [ "$cs_rc" -ne "$_want" ]; then
						echo "  $_what: exit $cs_rc, not $_want" >&2
						_bad=$((_bad + 1))
						continue
					fi
					if ! grep -q "^crash .*(call $_call, $_side $_kind) model $_model\$" report; then
						echo "  $_what: the crash came elsewhere: $(head -n 1 report 2>/dev/null)" >&2
						_bad=$((_bad + 1))
						continue
					fi
					"$NORMAL" --verify --state-dir "$STATE" >verify.out 2>&1 || :
					: >known.damage
					if ! python3 "$top_srcdir/tests/e2e/crashsim_check.py" \
					    report verify.out known.damage >/dev/null; then
						echo "  $_what: damage where writes were synced" >&2
						sed 's/^/    /' verify.out report >&2 || :
						_bad=$((_bad + 1))
					fi
					if ! grep -q "next id $NEXT\$" verify.out &&
					    ! grep -q "next id $((NEXT + 1))\$" verify.out; then
						echo "  $_what: $(grep "next id" verify.out)" >&2
						_bad=$((_bad + 1))
					fi
					daemon_start --max-parallel 4
					if ! "check_$1"; then
						echo "  ($_what)" >&2
						_bad=$((_bad + 1))
					fi
					daemon_stop
				done
			done
		done
	done
	unset PIPELINED_CRASHSIM_SEGMENT_MAX
	echo "$1: $_runs crashes in $((($(now_cs) - _t0) / 100)) s, $_bad failed;" \
	    "history after: as before $n_old, as the $1 left it $n_new"
	check "$1: a crash at each of its journal calls, before and after, SIGKILL and power loss: the history whole" \
		test "$_bad" -eq 0
}

crash_steps gc 67108864
crash_steps rotate 8192

finish
