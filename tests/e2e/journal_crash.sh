#!/bin/sh
# Crashes (docs/journal.md "Replay", docs/reliability.md T13 and T1):
# kill -9 of the daemon with tasks running (they become RUNTIME_ERROR
# "interrupted: daemon restarted", never run again, their processes are
# killed at the restart, the failure policy goes on, ids are not reused);
# then the kill loop: clients submitting all the time, the daemon SIGKILLed
# at a random moment and restarted, PIPELINED_KILL_LOOPS times (default
# 200): no acknowledged submission lost, no duplicate id, no status going
# back, --verify finding nothing but a torn tail, the daemon starting every
# time.
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/tests/e2e/ackload.sh"
need python3
set -e

# crash: SIGKILL the daemon and reap it.
crash() {
	kill -KILL "$DAEMON_PID"
	wait "$DAEMON_PID" 2>/dev/null || :
	DAEMON_PID=
}

# log_since N: the daemon's log after its first N lines.
log_since() {
	tail -n +$(($1 + 1)) "$DAEMON_LOG"
}

# nlines FILE: its line count (0 when missing).
nlines() {
	if [ -f "$1" ]; then
		wc -l <"$1" | tr -d ' '
	else
		echo 0
	fi
}

# --- kill -9 with tasks running (T13) ---------------------------------------
daemon_start --max-parallel 8
newdir kill9
# Every task appends its pid to side.ID.TASK[.INDEX] when it starts.
cat >fan.yaml <<'EOF'
name: crash-fan
ordering: {}
tasks:
  fan:
    run: 'echo $$ >>"side.$PIPELINE_EXECUTION_ID.fan.$TASK_INDEX"; exec sleep 60'
    iterate: [0, 1, 2, 3]
  tree: {run: 'echo $$ >>"side.$PIPELINE_EXECUTION_ID.tree"; setsid sleep 60 & echo $! >"grand.$PIPELINE_EXECUTION_ID"; exec sleep 60'}
  after: {run: 'echo $$ >>"side.$PIPELINE_EXECUTION_ID.after"', parents: [fan]}
EOF
# One task runs, one waits for the execution's only slot; with keep_going
# the waiting one runs after the restart, without it it is cancelled.
cat >slot.yaml <<'EOF'
name: crash-slot
max_parallel: 1
ordering: {}
tasks:
  s: {run: 'echo $$ >>"side.$PIPELINE_EXECUTION_ID.s"; exec sleep 60'}
  z: {run: 'echo $$ >>"side.$PIPELINE_EXECUTION_ID.z"'}
EOF
sed 's/^name: crash-slot/name: crash-slot-kg\nkeep_going: true/' slot.yaml >slot-kg.yaml
submit fan.yaml
FAN=$ID
submit slot.yaml
SLOT=$ID
submit slot-kg.yaml
SLOTKG=$ID
running() {
	for _f in "side.$FAN.fan.0" "side.$FAN.fan.1" "side.$FAN.fan.2" "side.$FAN.fan.3" \
	    "side.$FAN.tree" "grand.$FAN" "side.$SLOT.s" "side.$SLOTKG.s"; do
		test -s "$_f" || return 1
	done
	for _id in "$FAN" "$SLOT" "$SLOTKG"; do
		pctl show "$_id" --json >"$TMP/r.json" || return 1
		[ "$(jpy "$TMP/r.json" 'd["status"]')" = RUNNING ] || return 1
	done
}
check "kill -9: 6 tasks running (and a grandchild), 2 waiting" wait_for -t 20 running
TASK_PIDS=$(pids_in side.*)
GRAND=$(pids_in grand.*)
crash
all_alive() {
	for _p in "$@"; do
		proc_alive "$_p" || return 1
	done
}
# shellcheck disable=SC2086
check "kill -9: after the crash the task processes are still there (for the restart to deal with)" \
	all_alive $TASK_PIDS $GRAND
expect_exit 0 "kill -9: --verify on the crashed journal: no damage" \
	"$PIPELINED" --verify --state-dir "$STATE"
check "kill -9: --verify: 3 unfinished, the last run stopped without a clean shutdown" \
	sh -c 'grep -q "(3 unfinished)" "$1" && grep -qx "last run stopped without a clean shutdown" "$1"' \
	sh "$TMP/out"
LOGLINES=$(wc -l <"$DAEMON_LOG")
daemon_start --max-parallel 8
check "kill -9: the restarted daemon logs that the last run did not stop cleanly" \
	sh -c 'tail -n +$(($1 + 1)) "$2" | grep -q "the last run did not stop cleanly"' \
	sh "$LOGLINES" "$DAEMON_LOG"
# shellcheck disable=SC2086
check "kill -9: no old task process alive after the restart" \
	wait_for -t 5 all_dead $TASK_PIDS
if have_cgroups; then
	# shellcheck disable=SC2086
	check "kill -9: nor the setsid grandchild (killed through the old cgroup)" \
		wait_for -t 5 all_dead $GRAND
else
	skip "kill -9: the setsid grandchild killed" "no cgroups for tasks"
fi
for id in "$FAN" "$SLOT" "$SLOTKG"; do
	wait_exec "$id" 30 || :
done
check "kill -9: the running task results are RUNTIME_ERROR 'interrupted: daemon restarted'" \
	is "RUNTIME_ERROR interrupted: daemon restarted|RUNTIME_ERROR interrupted: daemon restarted|RUNTIME_ERROR interrupted: daemon restarted|RUNTIME_ERROR interrupted: daemon restarted|RUNTIME_ERROR interrupted: daemon restarted|RUNTIME_ERROR interrupted: daemon restarted|RUNTIME_ERROR interrupted: daemon restarted" \
	"$(sx "$FAN" '"|".join(i["status"] + " " + i["message"] for i in task("fan")["instances"] + task("tree")["instances"])')|$(sx "$SLOT" 'inst("s")["status"] + " " + inst("s")["message"]')|$(sx "$SLOTKG" 'inst("s")["status"] + " " + inst("s")["message"]')"
check "kill -9: then the rules: the child CANCELLED; the waiting task CANCELLED, with keep_going DONE" \
	is "CANCELLED|CANCELLED|DONE" \
	"$(sx "$FAN" 'inst("after")["status"]')|$(sx "$SLOT" 'inst("z")["status"]')|$(sx "$SLOTKG" 'inst("z")["status"]')"
check "kill -9: the three executions end RUNTIME_ERROR, nothing left RUNNING" \
	is "RUNTIME_ERROR RUNTIME_ERROR RUNTIME_ERROR|0" \
	"$(for id in "$FAN" "$SLOT" "$SLOTKG"; do sx "$id" 'd["status"]'; done | tr '\n' ' ' | sed 's/ $//')|$(pctl list --status RUNNING --json >running.json && jpy running.json 'len(d)')"
check "kill -9: every task that ran before the crash ran once (one line per side file), none again" \
	is "1 1 1 1 1 1 1" \
	"$(for f in "side.$FAN.fan.0" "side.$FAN.fan.1" "side.$FAN.fan.2" "side.$FAN.fan.3" "side.$FAN.tree" "side.$SLOT.s" "side.$SLOTKG.s"; do nlines "$f"; done | tr '\n' ' ' | sed 's/ $//')"
check "kill -9: what never started before the crash: cancelled ones never ran, the keep_going one once" \
	is "0 0 1" "$(nlines "side.$FAN.after") $(nlines "side.$SLOT.z") $(nlines "side.$SLOTKG.z")"
submit slot-kg.yaml
check "kill -9: ids are not reused: a new submission gets $((SLOTKG + 1))" is $((SLOTKG + 1)) "$ID"
daemon_stop

# --- the kill loop (T1) --------------------------------------------------------
# PIPELINED_KILL_LOOPS kills (default 200, about 7 minutes under ASan on 2
# cores: each kill costs a 0-2 s wait, the restart, --verify and the
# checks), PIPELINED_KILL_CLIENTS clients submitting all the time
# (default 4).
LOOPS=${PIPELINED_KILL_LOOPS:-200}
CLIENTS=${PIPELINED_KILL_CLIENTS:-4}
newdir loop
kl_yaml

rm -rf "$STATE"
daemon_start --max-parallel 8
clients_start "$CLIENTS"
t0=$(now_cs)
i=0
bad_verify=0
bad_state=0
bad_damage=0
torn=0
while [ $i -lt "$LOOPS" ]; do
	i=$((i + 1))
	rand_sleep
	# The acknowledgements are read before the list that must hold them.
	cat acks.[0-9]* >acks.snap
	lists="pre.json post.json"
	if ! pctl list --limit 1000000 --json >pre.json 2>list.err; then
		bad_state=$((bad_state + 1))
		echo "  (kill $i: pipectl list before it failed: $(cat list.err))" >&2
		lists=post.json
	fi
	crash
	if ! verify_crashed; then
		bad_verify=$((bad_verify + 1))
		echo "  (--verify after kill $i)" >&2
	fi
	daemon_start --max-parallel 8
	pctl list --limit 1000000 --json >post.json
	# shellcheck disable=SC2086
	if ! check_state $lists; then
		bad_state=$((bad_state + 1))
		echo "  (kill $i: pre.json before it, post.json after the restart)" >&2
	fi
	if pctl status | grep -q "DAMAGE at start"; then
		bad_damage=$((bad_damage + 1))
		pctl status | grep "at start" | sed 's/^/  /' >&2
	fi
done
clients_stop
t1=$(now_cs)
NACKS=$(cat acks.[0-9]* | wc -l | tr -d ' ')
echo "kill loop: $LOOPS kills in $(((t1 - t0) / 100)) s, $NACKS acknowledged submissions, $torn torn tails cut"
check "kill loop: the daemon started after each of the $LOOPS kills" test "$i" -eq "$LOOPS"
check "kill loop: submissions were acknowledged all along (at least one per kill)" \
	test "$NACKS" -ge "$LOOPS"
check "kill loop: after every kill and restart: every acknowledged id there with its input, no duplicate, no status back" \
	test "$bad_state" -eq 0
check "kill loop: --verify after every kill: no damage but a torn tail" test "$bad_verify" -eq 0
check "kill loop: pipectl status after every restart: no damage found at start but torn tails" \
	test "$bad_damage" -eq 0
# The end: everything final, every acknowledged id answers show.
alldone() {
	[ "$(pctl list --limit 1000000 --json | python3 -c 'import json,sys
print(len([e for e in json.load(sys.stdin) if e["status"] in ("PENDING", "RUNNING")]))')" = 0 ]
}
check "kill loop: at the end every execution ends" wait_for -t 120 alldone
cat acks.[0-9]* >acks.snap
pctl list --limit 1000000 --json >end.json
check "kill loop: at the end: acknowledged ids, inputs, statuses as before, nothing unfinished" \
	check_state --final end.json
show_all() {
	cut -d ' ' -f 1 acks.snap | xargs -P 4 -n 100 sh -c \
	    'p=$1 s=$2; shift 2; for id; do "$p" --socket "$s" show "$id" >/dev/null 2>&1 || echo "$id"; done' \
	    sh "$PIPECTL" "$SOCK" >show.failed
	[ ! -s show.failed ] && return 0
	echo "  pipectl show fails for $(wc -l <show.failed) ids: $(head -n 10 show.failed | tr '\n' ' ')" >&2
	return 1
}
check "kill loop: pipectl show of each of the $NACKS acknowledged ids exits 0" show_all
daemon_stop
expect_exit 0 "kill loop: --verify after the last (clean) stop: no damage" \
	"$PIPELINED" --verify --state-dir "$STATE"
check "kill loop: --verify: the last run stopped cleanly, nothing unfinished" \
	sh -c 'grep -qx "last run stopped cleanly" "$1" && grep -q "(0 unfinished)" "$1"' sh "$TMP/out"

finish
