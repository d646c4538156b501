#!/bin/sh
# The Celery runner (celery.so) against real components: a private
# redis-server on a free loopback port and stock Celery workers running
# contrib/celery's module, all started here and stopped at the end.
#
# A fan-out spread across two workers; the scheduling rules (the local
# runner's scenarios, with --runner celery); a failed instance killing its
# siblings on the other worker; outcomes, output and retries as for local
# tasks; queue routing; cancel of queued and reserved tasks (they never
# run); a worker killed with SIGKILL ("worker lost"); the broker stopped
# and restarted mid-run, and unreachable (a clear outcome, never a hang).
#
# Skipped (77) without redis-server, Debian's python3-celery or a
# celery.so (built only with hiredis); CI installs them all.
. "$(dirname "$0")/lib.sh"
need python3 redis-server redis-cli
CELERY_PY=/usr/bin/python3
if ! "$CELERY_PY" -c 'import celery, redis' 2>/dev/null; then
	echo "SKIP: python3-celery (and python3-redis) not installed for $CELERY_PY"
	finished=1
	exit 77
fi
CELERY_SO="$top_builddir/runners/.libs/celery.so"
if [ ! -f "$CELERY_SO" ]; then
	echo "SKIP: $CELERY_SO not built (configure found no hiredis)"
	finished=1
	exit 77
fi
set -e

WORKER_DIR="$top_srcdir/contrib/celery"
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BROKER="redis://127.0.0.1:$PORT/0"
REDIS_PID=
W1= W2= W3=

rcli() {
	redis-cli -p "$PORT" "$@"
}

# Redis on its own, in $TMP (so that kill_leftovers gets it too).
redis_start() {
	(cd "$TMP" && exec redis-server --bind 127.0.0.1 --port "$PORT" \
	    --save '' --appendonly no --logfile "$TMP/redis.log") &
	REDIS_PID=$!
	wait_for -t 10 sh -c 'redis-cli -p "$1" ping 2>/dev/null | grep -q PONG' \
	    sh "$PORT" || { fail "redis-server did not start"; exit 1; }
}

redis_stop() {
	kill -TERM "$REDIS_PID" 2>/dev/null || :
	wait "$REDIS_PID" 2>/dev/null || :
	REDIS_PID=
}

# worker_start NAME QUEUES: a worker with 2 processes, its cwd in $TMP;
# its pid goes to $WPID once it says it is ready.
worker_start() {
	mkdir -p "$TMP/workers"
	(cd "$TMP/workers" && PYTHONPATH="$WORKER_DIR" \
	    PYTHONDONTWRITEBYTECODE=1 PIPELINED_CELERY_BROKER="$BROKER" \
	    exec "$CELERY_PY" -m celery -A pipelined_worker worker \
	    --concurrency 2 --loglevel INFO -n "$1@%h" -Q "$2" \
	    --logfile "$TMP/$1.log" >"$TMP/$1.out" 2>&1) &
	WPID=$!
	if ! wait_for -t 60 grep -qs "$1@.* ready\." "$TMP/$1.log"; then
		fail "worker $1 did not start"
		sed 's/^/  worker: /' "$TMP/$1.out" "$TMP/$1.log" >&2 || :
		exit 1
	fi
}

# Stop what we started (SIGTERM: a warm shutdown), before lib.sh's cleanup.
celery_cleanup() {
	for _p in $W1 $W2 $W3; do
		kill -TERM "$_p" 2>/dev/null || :
	done
	for _p in $W1 $W2 $W3; do
		wait_for -t 10 proc_dead "$_p" || kill -KILL "$_p" 2>/dev/null || :
	done
	[ -z "$REDIS_PID" ] || redis_stop
}
trap '_crc=$?; set +e; celery_cleanup; (exit $_crc); cleanup' EXIT

# crun FILE [ARGS...]: run to the end with the Celery runner.
crun() {
	run_exec "$@" --runner celery
}

# workers_of FILE...: the distinct worker names the files hold, sorted.
workers_of() {
	cat "$@" 2>/dev/null | sed 's/@.*//' | sort -u | tr '\n' ' ' | sed 's/ $//'
}

# overlap A_START A_END B_START B_END: the two intervals intersect.
overlap() {
	before "$1" "$4" && before "$3" "$2"
}

redis_start
worker_start w1 celery
W1=$WPID
worker_start w2 celery,second
W2=$WPID

mkdir -p "$TMP/runners"
cp "$CELERY_SO" "$TMP/runners/celery.so"
# cdaemon [BROKER]: the daemon with the Celery runner's test settings.
cdaemon() {
	daemon_start --max-parallel 2 --runner-dir "$TMP/runners" \
	    --runner-option "celery.broker=${1:-$BROKER}" \
	    --runner-option celery.worker_timeout=5s \
	    --runner-option celery.broker_timeout=4s
}
cdaemon
pctl status >status.out
check "the daemon loaded celery.so and lists where from" \
	grep -q "celery: $TMP/runners/celery.so" status.out

# --- a fan-out of 20 across both workers -----------------------------------
newdir fanout
cat >p.yaml <<'EOF'
name: fanout
tasks:
  fan:
    run: 'echo "$PIPELINED_WORKER" >"worker.$TASK_INDEX"; date +%s%N >"start.$TASK_INDEX"; sleep 0.3; date +%s%N >"end.$TASK_INDEX"'
    iterate_command: seq 20
  join:
    run: 'ls worker.* | wc -l >joined; date +%s%N >join.start'
    parents: [fan]
EOF
crun p.yaml
check "fan-out: 20 instances DONE, then the join (runner celery)" \
	is "DONE celery 20 DONE" \
	"$(sx "$ID" 'd["status"] + " " + d["runner"] + " " + str(sum(i["status"] == "DONE" for i in task("fan")["instances"])) + " " + inst("join")["status"]')"
check "fan-out: spread across both workers" is "w1 w2" "$(workers_of worker.*)"
check "fan-out: the join started after all 20 (rule 4), and saw 20" \
	sh -c 'test "$(tr -d " " <joined)" = 20 && for f in end.*; do [ "$(cat "$f")" -le "$(cat join.start)" ] || exit 1; done'
check "fan-out: more than --max-parallel 2 ran at once (the fleet sets the pace)" \
	python3 -c 'import sys
ev = sorted([(int(open("start.%d" % i).read()), 1) for i in range(20)] +
    [(int(open("end.%d" % i).read()), -1) for i in range(20)])
n = top = 0
for _, d in ev:
    n += d
    top = max(top, n)
sys.exit(top < 3)'

# --- queue routing --------------------------------------------------------
newdir routing
cat >p.yaml <<'EOF'
name: routing
ordering: {}
tasks:
  second:
    run: 'echo "$PIPELINED_WORKER" >"second.$TASK_INDEX"; sleep 0.2'
    iterate: [1, 2, 3, 4, 5, 6]
    queue: second
  plain:
    run: 'echo "$PIPELINED_WORKER" >"plain.$TASK_INDEX"; sleep 0.2'
    iterate: [1, 2, 3, 4, 5, 6]
EOF
crun p.yaml
check "routing: execution DONE" is DONE "$(sx "$ID" 'd["status"]')"
check "routing: queue second ran only on w2 (the one worker consuming it)" \
	is w2 "$(workers_of second.*)"
check "routing: tasks without a queue use the default queue (celery)" \
	test -n "$(workers_of plain.*)"

# --- the scheduling rules, as for the local runner -----------------------
newdir child-first
cat >p.yaml <<'EOF'
name: child-first
tasks:
  child:
    run: 'date +%s%N >child.start'
    parents: [parent]
  parent:
    run: 'sleep 0.3; date +%s%N >parent.end'
EOF
crun p.yaml
check "rule 1: execution DONE" is DONE "$(sx "$ID" 'd["status"]')"
check "rule 1: the child starts after its parent ended" before parent.end child.start

newdir chain-fail
cat >p.yaml <<'EOF'
name: chain-fail
tasks:
  first:  {run: 'touch first.ran; exit 1'}
  second: {run: 'touch second.ran'}
EOF
crun p.yaml
check "chain: first RUNTIME_ERROR 'exited with status 1'" \
	is "RUNTIME_ERROR exited with status 1" \
	"$(sx "$ID" 'inst("first")["status"] + " " + inst("first")["message"]')"
check "chain: second CANCELLED because of its parent, never started" \
	is "CANCELLED cancelled: parent first failed None" \
	"$(sx "$ID" 'inst("second")["status"] + " " + inst("second")["message"] + " " + str(inst("second")["started"])')"
check "chain: second never ran" test ! -e second.ran

newdir overlap
cat >p.yaml <<'EOF'
name: overlap
ordering: {}
tasks:
  one: {run: 'date +%s%N >one.start; sleep 1; date +%s%N >one.end'}
  two: {run: 'date +%s%N >two.start; sleep 1; date +%s%N >two.end'}
EOF
crun p.yaml
check "rule 2: parentless tasks run at once, in parallel (they overlap)" \
	overlap one.start one.end two.start two.end

newdir rule3
cat >p.yaml <<'EOF'
name: rule3
iterate: [ok1, bad, ok2]
tasks:
  work:
    run: 'if [ "$PIPELINE_OBJECT" = bad ]; then exit 4; fi; sleep 0.3; date +%s%N >"work.$PIPELINE_OBJECT"'
  after:
    run: 'touch "after.$PIPELINE_OBJECT"'
EOF
crun p.yaml
check "rule 3: the failing result RUNTIME_ERROR, the others DONE" \
	is "DONE RUNTIME_ERROR DONE" \
	"$(sx "$ID" '" ".join(r["status"] for r in d["results"])')"
check "rule 3: the other results ran to the end, nothing after the failure" \
	test -e after.ok1 -a -e after.ok2 -a ! -e after.bad -a ! -e work.bad

newdir rule4-order
cat >p.yaml <<'EOF'
name: rule4-order
tasks:
  fan:
    run: 'sleep "$TASK_OBJECT"; date +%s%N >"fan.$TASK_INDEX.end"'
    iterate: ["0.1", "0.5", "0.2"]
  child:
    run: 'date +%s%N >child.start'
    parents: [fan]
EOF
crun p.yaml
check "rule 4: the child starts after every instance ended" \
	sh -c 'for f in fan.0.end fan.1.end fan.2.end; do [ "$(cat $f)" -le "$(cat child.start)" ] || exit 1; done'

newdir keep-going
cat >p.yaml <<'EOF'
name: keep-going
keep_going: true
tasks:
  bad:      {run: 'date +%s%N >bad.end; exit 1'}
  badchild: {run: 'touch badchild.ran', parents: [bad]}
  slow:     {run: 'sleep 0.4; touch slow.ran'}
  after:    {run: 'date +%s%N >after.start', parents: [slow]}
EOF
crun p.yaml
check "keep_going: the independent branch DONE, the failed one's child CANCELLED" \
	is "DONE DONE CANCELLED" \
	"$(sx "$ID" 'inst("slow")["status"] + " " + inst("after")["status"] + " " + inst("badchild")["status"]')"

# --- rule 4 across hosts: a failed instance kills its siblings ------------
# Instance 1 fails once a sibling runs on the other worker.
newdir rule4-fail
cat >p.yaml <<'EOF'
name: rule4-fail
max_parallel: 4
tasks:
  fan:
    run: |
      echo $$ >"pid.$TASK_INDEX"; echo "$PIPELINED_WORKER" >"worker.$TASK_INDEX"
      if [ "$TASK_INDEX" = 1 ]; then
        n=0
        while [ $n -lt 200 ]; do
          for w in worker.0 worker.2 worker.3; do
            if [ -s "$w" ] && [ "$(cat $w)" != "$PIPELINED_WORKER" ]; then exit 3; fi
          done
          sleep 0.05; n=$((n + 1))
        done
        exit 3
      fi
      sleep 30 & echo $! >"grandchild.$TASK_INDEX"; wait
    iterate: [a, b, c, d, e]
    kill_grace: 2s
  child:
    run: 'touch child.ran'
    parents: [fan]
EOF
t0=$(now_cs)
crun p.yaml
t1=$(now_cs)
check "rule 4 failure: the execution ends within 15 s (siblings sleep 30 s)" \
	test $((t1 - t0)) -lt 1500
check "rule 4 failure: instance 1 RUNTIME_ERROR, the fan fails with it" \
	is "RUNTIME_ERROR exited with status 3|RUNTIME_ERROR instance 1 failed: exited with status 3" \
	"$(sx "$ID" 'inst("fan", 1)["status"] + " " + inst("fan", 1)["message"] + "|" + task("fan")["status"] + " " + task("fan")["message"]')"
check "rule 4 failure: siblings ran on both workers" is "w1 w2" "$(workers_of worker.*)"
check "rule 4 failure: the siblings on both workers and their children are gone" \
	wait_for -t 10 gone pid.0 pid.2 pid.3 grandchild.*
check "rule 4 failure: every other instance CANCELLED 'cancelled: instance 1 of fan failed'" \
	is "4" \
	"$(sx "$ID" 'str(sum(inst("fan", i)["status"] + " " + inst("fan", i)["message"] == "CANCELLED cancelled: instance 1 of fan failed" for i in (0, 2, 3, 4)))')"
check "rule 4 failure: the pending instance (max_parallel 4) never started" \
	sh -c 'test ! -e pid.4 && test "$1" = "None"' sh "$(sx "$ID" 'str(inst("fan", 4)["started"])')"
check "rule 4 failure: the child is CANCELLED and never ran" \
	sh -c 'test ! -e child.ran && test "$1" = "CANCELLED cancelled: parent fan failed"' sh \
	"$(sx "$ID" 'inst("child")["status"] + " " + inst("child")["message"]')"

# --- outcomes, output, retries: as for local tasks -------------------------
newdir outcomes
cat >p.yaml <<'EOF'
name: outcomes
keep_going: true
ordering: {}
tasks:
  ok:      {run: 'echo "out $PIPELINE_TASK"; echo "err" >&2'}
  exit3:   {run: 'exit 3'}
  sig9:    {run: 'kill -9 $$'}
  missing: {argv: [/nonexistent/prog, arg]}
  nopath:  {argv: [no-such-program-e2e]}
  noexec:  {argv: [/etc/passwd]}
  badcwd:  {run: 'true', cwd: /nonexistent-dir}
  sleeper:
    run: 'echo $$ >sleeper.pid; sleep 30 & echo $! >sleeper.child; wait'
    timeout: 300ms
  stubborn:
    run: 'trap "" TERM; echo $$ >stubborn.pid; while :; do sleep 0.1; done'
    timeout: 300ms
    kill_grace: 300ms
  big:     {run: 'seq 1 30000; echo last line'}
  flaky:
    run: 'echo "try $PIPELINE_ATTEMPT"; [ "$PIPELINE_ATTEMPT" -ge 2 ]'
    retries: 2
EOF
crun p.yaml
# field TASK EXPR-ON-i: a Python expression on task TASK's instance 0.
field() {
	sx "$ID" "(lambda i: $2)(inst(\"$1\"))"
}
check "outcome: exit 0 -> DONE 'exited with status 0', exit_code 0" \
	is "DONE|exited with status 0|0" "$(field ok '"|".join(map(str, [i["status"], i["message"], i["exit_code"]]))')"
check "outcome: exit 3 -> 'exited with status 3'" \
	is "RUNTIME_ERROR|exited with status 3|3" "$(field exit3 '"|".join(map(str, [i["status"], i["message"], i["exit_code"]]))')"
check "outcome: SIGKILL -> 'killed by signal 9 (SIGKILL)', signal 9" \
	is "RUNTIME_ERROR|killed by signal 9 (SIGKILL)|9" "$(field sig9 '"|".join(map(str, [i["status"], i["message"], i["signal"]]))')"
check "outcome: missing program -> 'cannot run /nonexistent/prog: No such file or directory'" \
	is "RUNTIME_ERROR|cannot run /nonexistent/prog: No such file or directory" "$(field missing 'i["status"] + "|" + i["message"]')"
check "outcome: program not in PATH -> 'cannot run no-such-program-e2e: ...'" \
	is "cannot run no-such-program-e2e: No such file or directory" "$(field nopath 'i["message"]')"
check "outcome: not executable -> 'cannot run /etc/passwd: Permission denied'" \
	is "cannot run /etc/passwd: Permission denied" "$(field noexec 'i["message"]')"
check "outcome: a missing cwd names it" \
	is "cannot change to directory /nonexistent-dir: No such file or directory" "$(field badcwd 'i["message"]')"
check "timeout: 'timed out after 300ms', the task and its child gone" \
	sh -c 'test "$1" = "RUNTIME_ERROR timed out after 300ms" && test -s sleeper.pid' sh \
	"$(field sleeper 'i["status"] + " " + i["message"]')"
check "timeout: the timed-out task's processes are gone" \
	wait_for -t 5 gone sleeper.pid sleeper.child stubborn.pid
check "timeout ignoring SIGTERM: SIGKILL after kill_grace, signal 9" \
	is "timed out after 300ms 9" "$(field stubborn 'i["message"] + " " + str(i["signal"])')"
check "output: stdout and stderr of the task, in its log" \
	is "out ok|err" "$(pctl logs "$ID/ok" | tr '\n' '|' | sed 's/|$//')"
pctl logs "$ID/big" >big.log
check "output: a long output keeps its tail and says what was cut" \
	sh -c 'head -n 1 big.log | grep -q "^\[pipelined: [0-9]* earlier bytes of output not kept" && tail -n 1 big.log | grep -qx "last line" && [ "$(wc -c <big.log)" -le 66000 ]'
check "retries: attempt 2 succeeds; its log holds both attempts and the marker" \
	sh -c 'test "$1" = "DONE 2" && test "$2" = "try 1|[pipelined: attempt 2]|try 2"' sh \
	"$(field flaky 'i["status"] + " " + str(i["attempts"])')" \
	"$(pctl logs "$ID/flaky" | tr '\n' '|' | sed 's/|$//')"

# --- cancel: queued and reserved tasks never run, running ones are killed --
newdir cancel-busy
cat >p.yaml <<'EOF'
name: cancel-busy
tasks:
  fan:
    run: 'echo $$ >"pid.$TASK_INDEX"; exec sleep 30'
    iterate_command: seq 12
    kill_grace: 1s
EOF
submit p.yaml --runner celery
check "cancel: the workers' 4 processes run 4 instances" \
	wait_for -t 20 sh -c '[ "$(ls pid.* 2>/dev/null | wc -l)" -ge 4 ]'
sleep 0.3
ls pid.* >started
expect_exit 0 "cancel: pipectl cancel ID" pctl cancel "$ID"
set +e
wait_exec "$ID" 20
rc=$?
set -e
check "cancel: the execution ends within 20 s" test "$rc" -ne 124
check "cancel: every instance CANCELLED 'cancelled by user'" \
	is "12" "$(sx "$ID" 'str(sum(i["status"] == "CANCELLED" and i["message"].startswith("cancelled by user") for i in task("fan")["instances"]))')"
# shellcheck disable=SC2046
check "cancel: the running instances' processes are gone" \
	wait_for -t 10 gone $(cat started)
sleep 2
check "cancel: no queued or reserved instance started afterwards" \
	sh -c 'ls pid.* | cmp -s - started'
check "cancel: nothing of it is left in the broker's queue" \
	is 0 "$(rcli LLEN celery)"

# A task whose queue no worker consumes: cancelled while queued, it is
# taken off the queue (LREM of the bytes pushed) and never runs, even once
# a worker for that queue comes.
newdir cancel-queued
cat >p.yaml <<'EOF'
name: cancel-queued
tasks:
  parked: {run: 'touch parked.ran', queue: doomed}
EOF
submit p.yaml --runner celery
check "cancel queued: the message waits in queue doomed" \
	wait_for -t 10 sh -c '[ "$(redis-cli -p "$1" LLEN doomed)" = 1 ]' sh "$PORT"
expect_exit 0 "cancel queued: pipectl cancel" pctl cancel "$ID"
wait_exec "$ID" 10 || :
check "cancel queued: CANCELLED, and the queue is empty (LREM)" \
	is "CANCELLED 0" "$(sx "$ID" 'inst("parked")["status"]') $(rcli LLEN doomed)"
worker_start w3 doomed
W3=$WPID
sleep 1
check "cancel queued: a worker for its queue came, and it never ran" test ! -e parked.ran

# --- a worker killed with SIGKILL mid-task: "worker lost" ------------------
newdir worker-lost
cat >p.yaml <<'EOF'
name: worker-lost
tasks:
  long:
    run: 'echo $$ >long.pid; sleep 60 & echo $! >long.child; wait'
    queue: doomed
EOF
submit p.yaml --runner celery
check "worker lost: the task runs on w3" wait_for -t 20 test -s long.child
kill -KILL "$W3"
t0=$(now_cs)
wait_exec "$ID" 30 || :
t1=$(now_cs)
W3=
check "worker lost: RUNTIME_ERROR 'worker lost: ...w3...' within worker_timeout (5s) + 5 s" \
	sh -c 'case $1 in "RUNTIME_ERROR worker lost: "*w3@*) test "$2" -lt 1000 ;; *) echo "  got: $1" >&2; exit 1 ;; esac' \
	sh "$(sx "$ID" 'inst("long")["status"] + " " + inst("long")["message"]')" $((t1 - t0))
check "worker lost: the command and its child did not outlive their worker" \
	wait_for -t 10 gone long.pid long.child

# --- the broker stopped and restarted mid-run ------------------------------
newdir redis-restart
cat >p.yaml <<'EOF'
name: redis-restart
tasks:
  fan:
    run: 'echo $$ >"pid.$TASK_INDEX"; sleep 2; echo done'
    iterate: [a, b, c, d, e, f]
EOF
submit p.yaml --runner celery
check "broker restart: tasks run" wait_for -t 20 sh -c '[ "$(ls pid.* 2>/dev/null | wc -l)" -ge 2 ]'
redis_stop
sleep 1
redis_start
t0=$(now_cs)
set +e
wait_exec "$ID" 90
rc=$?
set -e
t1=$(now_cs)
check "broker restart: the execution ends (no hang), in $(((t1 - t0) / 100)) s" test "$rc" -ne 124
check "broker restart: every instance has a final status with a clear message" \
	sh -c 'test "$1" = 6' sh "$(sx "$ID" 'str(sum(i["status"] == "DONE" or (i["status"] in ("RUNTIME_ERROR", "CANCELLED") and any(w in i["message"] for w in ("broker", "worker", "cancelled", "Celery"))) for i in task("fan")["instances"]))')"
sx "$ID" '"\n".join("  broker restart: %s %s" % (i["status"], i["message"]) for i in task("fan")["instances"])'

# --- the broker unreachable ------------------------------------------------
redis_stop
newdir unreachable
cat >p.yaml <<'EOF'
name: unreachable
tasks:
  one: {run: 'touch one.ran'}
EOF
t0=$(now_cs)
submit p.yaml --runner celery
check "unreachable: the daemon keeps serving meanwhile" sh -c '"$1" --socket "$2" status >/dev/null' sh "$PIPECTL" "$SOCK"
wait_exec "$ID" 30 || :
t1=$(now_cs)
check "unreachable: RUNTIME_ERROR saying the broker cannot be reached, after broker_timeout (4s)" \
	sh -c 'case $1 in "RUNTIME_ERROR cannot reach the Celery broker (redis://127.0.0.1:"*"); gave up after 4s") test "$2" -lt 1500 ;; *) echo "  got: $1" >&2; exit 1 ;; esac' \
	sh "$(sx "$ID" 'inst("one")["status"] + " " + inst("one")["message"]')" $((t1 - t0))
redis_start
newdir reconnected
cat >p.yaml <<'EOF'
name: reconnected
tasks:
  one: {run: 'touch one.ran'}
EOF
crun p.yaml
check "broker back: the daemon reconnected, a new execution runs to DONE" \
	is "DONE exited with status 0 ran" \
	"$(sx "$ID" 'inst("one")["status"] + " " + inst("one")["message"]') $(test -e one.ran && echo ran)"

# --- the daemon stopping: what runs on the workers is revoked --------------
newdir daemon-stop
cat >p.yaml <<'EOF'
name: daemon-stop
tasks:
  long: {run: 'echo $$ >long.pid; exec sleep 60', kill_grace: 2s}
EOF
submit p.yaml --runner celery
STOPPED=$ID
check "daemon stop: the task runs on a worker" wait_for -t 20 test -s long.pid
daemon_stop
check "daemon stop: its process on the worker is gone" wait_for -t 10 gone long.pid
cdaemon
check "daemon stop: the task was recorded CANCELLED 'daemon stopping'" \
	is "CANCELLED daemon stopping" \
	"$(sx "$STOPPED" 'inst("long")["status"] + " " + inst("long")["message"]')"

# --- a broker with a password ----------------------------------------------
# Connections already open (the workers') stay authenticated.
rcli CONFIG SET requirepass 's3cr3t' >/dev/null
export REDISCLI_AUTH=s3cr3t
daemon_stop
cdaemon "redis://:xyzzy-not-it@127.0.0.1:$PORT/0"
newdir password
cat >p.yaml <<'EOF'
name: password
tasks:
  parked: {run: 'touch parked.ran', queue: nobody}
EOF
submit p.yaml --runner celery
wait_exec "$ID" 30 || :
check "password: a wrong one fails the task, saying the broker refused AUTH" \
	sh -c 'case $1 in "RUNTIME_ERROR cannot reach the Celery broker"*AUTH*) ;; *) echo "  got: $1" >&2; exit 1 ;; esac' \
	sh "$(sx "$ID" 'inst("parked")["status"] + " " + inst("parked")["message"]')"
check "password: never in a message or the log" \
	sh -c '! grep -q xyzzy "$1" && case $2 in *xyzzy*) exit 1 ;; esac' \
	sh "$DAEMON_LOG" "$(sx "$ID" 'inst("parked")["message"]')"
daemon_stop
cdaemon "redis://:s3cr3t@127.0.0.1:$PORT/0"
submit p.yaml --runner celery
check "password: the right one connects, and the task is queued" \
	wait_for -t 10 sh -c '[ "$(redis-cli -p "$1" LLEN nobody)" = 1 ]' sh "$PORT"
expect_exit 0 "password: cancel it" pctl cancel "$ID"
wait_exec "$ID" 10 || :
check "password: cancelled and unqueued" \
	is "CANCELLED 0" "$(sx "$ID" 'inst("parked")["status"]') $(rcli LLEN nobody)"

finish
