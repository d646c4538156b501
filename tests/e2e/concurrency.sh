#!/bin/sh
# Many clients at once, the concurrency limits (daemon-wide, per execution,
# per queue), fairness across executions, two daemons side by side, and
# SIGTERM with running tasks (prompt exit 0, the task trees gone, the tasks
# recorded CANCELLED "daemon stopping").
. "$(dirname "$0")/lib.sh"
need python3
set -e

daemon_start --max-parallel 3 --queue serial=1

# --- two daemons side by side ---------------------------------------------------
# Each must keep its own tasks: the same execution id and task name in both
# must not collide (cgroups), and one stopping must not disturb the other.
# First thing, so that both daemons count executions from 1.
if [ -n "$DAEMON_CG" ]; then
	newdir two
	cat >p.yaml <<'EOF'
name: side
tasks:
  a: {run: 'sleep 1; cat /proc/self/cgroup >cg.$PIPELINE_EXECUTION_ID.$$'}
EOF
	sh -c 'echo $$ >"$1/cgroup.procs"; shift; exec "$@"' sh "$DAEMON_CG" \
		"$PIPELINED" --foreground --socket "$TMP/sock2" \
		--state-dir "$TMP/state2" >"$TMP/daemon2.log" 2>&1 &
	D2=$!
	pctl2() {
		"$PIPECTL" --socket "$TMP/sock2" "$@"
	}
	wait_for pctl2 status >/dev/null 2>&1 || :
	submit p.yaml
	ID1=$ID
	ID2=$(pctl2 run p.yaml)
	check "two daemons: both run an execution with the same id" is "$ID1" "$ID2"
	set +e
	wait_exec "$ID1"
	rc1=$?
	timeout 30 "$PIPECTL" --socket "$TMP/sock2" wait "$ID2" >/dev/null
	rc2=$?
	set -e
	check "two daemons: the same execution id and task name: both end DONE" \
		is "0 0" "$rc1 $rc2"
	kill -TERM "$D2"
	set +e
	wait "$D2"
	rc=$?
	set -e
	check "two daemons: the second one exits 0" is 0 "$rc"
	rm -f cg.*
	run_exec p.yaml
	check "two daemons: after the other stopped, tasks still get a cgroup" \
		is cgroup "$(sx "$ID" 'inst("a").get("isolation")')"
	check "  (the task saw itself in a cgroup of its own)" \
		sh -c 'grep -q "^0::/..*/task-[0-9][0-9]*\$" cg.$1.* 2>/dev/null' \
		sh "$ID"
else
	skip "two daemons side by side" "no cgroup of our own"
fi

# --- 50 clients submitting at once -------------------------------------------
newdir fifty
printf 'name: fifty\ntasks:\n  t: {run: "echo $PIPELINE_EXECUTION_ID >out.$PIPELINE_EXECUTION_ID"}\n' >p.yaml
pids=
i=0
while [ $i -lt 50 ]; do
	pctl run p.yaml --json >"sub.$i" 2>"err.$i" &
	pids="$pids $!"
	i=$((i + 1))
done
bad=0
for p in $pids; do
	wait "$p" || bad=$((bad + 1))
done
check "50 concurrent submissions: every pipectl run exits 0" is 0 "$bad"
cat sub.* | python3 -c 'import json,sys; print("\n".join(str(json.loads(l)["id"]) for l in sys.stdin))' \
	| sort -n >ids
check "50 concurrent submissions: 50 distinct ids" is "50 50" \
	"$(wc -l <ids | tr -d ' ') $(sort -u ids | wc -l | tr -d ' ')"
count_done() {
	[ "$(pctl list --pipeline fifty --status DONE --limit 100 --json |
	    python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" -eq 50 ]
}
check "50 concurrent submissions: all 50 executions end DONE" wait_for -t 60 count_done
check "50 concurrent submissions: pipectl list shows the 50" \
	is 51 "$(pctl list --pipeline fifty --limit 100 | wc -l | tr -d ' ')"
check "50 concurrent submissions: each task ran once, in its own execution" \
	sh -c 'for id in $(cat ids); do test "$(cat "out.$id")" = "$id" || exit 1; done;
	       test "$(ls out.* | wc -l)" -eq 50'

# --- 20 clients following their executions at once --------------------------
newdir twenty
printf 'name: twenty\ntasks:\n  a: {run: "sleep 0.1"}\n  b: {run: "true"}\n' >p.yaml
pids=
i=0
while [ $i -lt 20 ]; do
	timeout 60 "$PIPECTL" --socket "$SOCK" run p.yaml --wait >"wait.$i" 2>&1 &
	pids="$pids $!"
	i=$((i + 1))
done
bad=0
for p in $pids; do
	wait "$p" || bad=$((bad + 1))
done
check "20 concurrent run --wait: all exit 0 (each saw its execution DONE)" is 0 "$bad"

# --- the concurrency limits ----------------------------------------------------
# most DIR: the most task intervals (DIR/*.start, DIR/*.end) open at once.
most() {
	python3 - "$1" <<'EOF'
import glob, sys
ev = []
for s in glob.glob(sys.argv[1] + "/*.start"):
    ev.append((int(open(s).read()), 1))
    ev.append((int(open(s[:-6] + ".end").read()), -1))
ev.sort(key=lambda e: (e[0], e[1]))
n = top = 0
for _, d in ev:
    n += d
    top = max(top, n)
print(top)
EOF
}
newdir limits
mkdir daemon exec queue
cat >daemon.yaml <<'EOF'
name: limit-daemon
ordering: {}
tasks:
  t1: {run: 'date +%s%N >daemon/$PIPELINE_TASK.start; sleep 0.3; date +%s%N >daemon/$PIPELINE_TASK.end'}
  t2: {run: 'date +%s%N >daemon/$PIPELINE_TASK.start; sleep 0.3; date +%s%N >daemon/$PIPELINE_TASK.end'}
  t3: {run: 'date +%s%N >daemon/$PIPELINE_TASK.start; sleep 0.3; date +%s%N >daemon/$PIPELINE_TASK.end'}
  t4: {run: 'date +%s%N >daemon/$PIPELINE_TASK.start; sleep 0.3; date +%s%N >daemon/$PIPELINE_TASK.end'}
  t5: {run: 'date +%s%N >daemon/$PIPELINE_TASK.start; sleep 0.3; date +%s%N >daemon/$PIPELINE_TASK.end'}
  t6: {run: 'date +%s%N >daemon/$PIPELINE_TASK.start; sleep 0.3; date +%s%N >daemon/$PIPELINE_TASK.end'}
EOF
sed 's/limit-daemon/limit-exec/; s|daemon/|exec/|g; s/^tasks:/max_parallel: 2\ntasks:/' \
	daemon.yaml >exec.yaml
sed 's/limit-daemon/limit-queue/; s|daemon/|queue/|g; /run:/s/}$/, queue: serial}/' \
	daemon.yaml | sed '/t[4-6]:/d' >queue.yaml
run_exec daemon.yaml
check "daemon --max-parallel 3: 6 parallel tasks, never more than 3 at once (and 3 reached)" \
	is 3 "$(most daemon)"
run_exec exec.yaml
check "pipeline max_parallel 2: never more than 2 at once (and 2 reached)" \
	is 2 "$(most exec)"
run_exec queue.yaml
check "--queue serial=1: the queue's tasks one at a time" is 1 "$(most queue)"

# Fairness: with one slot (queue serial) held, two executions of four ready
# tasks each queue up; once the slot frees they must take turns.
newdir fair
printf 'name: hold\ntasks:\n  h: {run: "while [ ! -e go ]; do sleep 0.05; done", queue: serial}\n' >hold.yaml
for x in A B; do
	{
		printf 'name: fair-%s\nordering: {}\ntasks:\n' "$x"
		for t in t1 t2 t3 t4; do
			printf '  %s: {run: "echo %s $PIPELINE_TASK >>order", queue: serial}\n' "$t" "$x"
		done
	} >"$x.yaml"
done
submit hold.yaml
HOLD=$ID
submit A.yaml
FA=$ID
submit B.yaml
FB=$ID
touch go
wait_exec "$HOLD" || :
wait_exec "$FA" || :
wait_exec "$FB" || :
check "fairness: two executions' ready tasks alternate for one slot" \
	is "A t1|B t1|A t2|B t2|A t3|B t3|A t4|B t4" "$(tr '\n' '|' <order | sed 's/|$//')"

# --- SIGTERM with running tasks ----------------------------------------------------
newdir sigterm
cat >p.yaml <<'EOF'
name: sigterm
ordering: {}
tasks:
  plain:    {run: 'echo $$ >plain.pid; exec sleep 60'}
  tree:     {run: 'echo $$ >tree.pid; sleep 60 & echo $! >tree.child; setsid sleep 60 & echo $! >tree.setsid; wait'}
  stubborn: {run: 'trap "" TERM; echo $$ >stubborn.pid; while :; do sleep 0.1; done', kill_grace: 1s}
  later:    {run: 'touch later.ran', parents: [plain]}
EOF
submit p.yaml
STOPPED=$ID
check "SIGTERM: the tasks run" wait_for -t 10 sh -c \
	'test -s plain.pid -a -s tree.pid -a -s tree.child -a -s tree.setsid -a -s stubborn.pid'
pctl watch "$STOPPED" --json >watch.out 2>watch.err &
WATCH=$!
wait_for -t 10 connections_at_least 2 || :
t0=$(now_cs)
daemon_stop
t1=$(now_cs)
check "SIGTERM: the daemon exits within 5 s (kill_grace 1s is the longest)" \
	test $((t1 - t0)) -lt 500
check "SIGTERM: every task process is gone" \
	wait_for -t 3 gone plain.pid tree.pid tree.child stubborn.pid
if have_cgroups; then
	check "SIGTERM: the setsid grandchild too (cgroup)" wait_for -t 3 gone tree.setsid
else
	skip "SIGTERM: the setsid grandchild too" "no cgroups for tasks"
fi
check "SIGTERM: the pending task never ran" test ! -e later.ran
check "SIGTERM: the socket is removed" test ! -e "$SOCK"
wait_for -t 5 proc_dead "$WATCH" || kill "$WATCH" 2>/dev/null || :
wait "$WATCH" 2>/dev/null || :
check "SIGTERM: a watcher saw the execution end CANCELLED 'daemon stopping' before the exit" \
	python3 -c '
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
st = dict((e["address"], (e["status"], e["message"])) for e in ev)
i = sys.argv[2]
want = [i + "/0/plain/0", i + "/0/tree/0", i + "/0/stubborn/0", i]
missing = [a for a in want if a not in st or st[a][0] != "CANCELLED"]
if missing:
    print("  not seen CANCELLED: %s" % missing, file=sys.stderr)
sys.exit(bool(missing))' watch.out "$STOPPED"
daemon_start
check "SIGTERM: after a restart the running tasks are recorded CANCELLED 'daemon stopping'" \
	is "CANCELLED daemon stopping|CANCELLED daemon stopping|CANCELLED daemon stopping" \
	"$(sx "$STOPPED" '"|".join(inst(t)["status"] + " " + inst(t)["message"] for t in ("plain", "tree", "stubborn"))')"
check "SIGTERM: and the execution CANCELLED" is CANCELLED "$(sx "$STOPPED" 'd["status"]')"

finish
