#!/bin/sh
# How tasks end (docs/runners.md): the outcome messages and figures,
# timeouts (the process tree gone), retries (attempts, PIPELINE_ATTEMPT, the
# log markers, retry_delay), and cancel killing a whole tree, setsid
# grandchildren included.
. "$(dirname "$0")/lib.sh"
need python3
set -e

daemon_start --max-parallel 8

# field ID TASK EXPR-ON-i: a Python expression on task TASK's instance 0.
field() {
	sx "$1" "(lambda i: $3)(inst(\"$2\"))"
}

# --- outcome messages -----------------------------------------------------
newdir outcomes
cat >p.yaml <<'EOF'
name: outcomes
keep_going: true
ordering: {}
tasks:
  ok:      {run: 'true'}
  exit3:   {run: 'exit 3'}
  sig9:    {run: 'kill -9 $$'}
  sig15:   {argv: [sh, -c, 'kill -TERM $$']}
  missing: {argv: [/nonexistent/prog, arg]}
  nopath:  {argv: [no-such-program-e2e]}
  noexec:  {argv: [/etc/passwd]}
  badcwd:  {run: 'true', cwd: /nonexistent-dir}
EOF
run_exec p.yaml
check "outcomes: the execution is RUNTIME_ERROR (keep_going: everything ran)" \
	is RUNTIME_ERROR "$(sx "$ID" 'd["status"]')"
check "outcome: exit 0 -> DONE 'exited with status 0', exit_code 0" \
	is "DONE|exited with status 0|0|None" \
	"$(field "$ID" ok '"|".join(map(str, [i["status"], i["message"], i["exit_code"], i["signal"]]))')"
check "outcome: exit 3 -> RUNTIME_ERROR 'exited with status 3', exit_code 3" \
	is "RUNTIME_ERROR|exited with status 3|3|None" \
	"$(field "$ID" exit3 '"|".join(map(str, [i["status"], i["message"], i["exit_code"], i["signal"]]))')"
check "outcome: SIGKILL -> 'killed by signal 9 (SIGKILL)', signal 9" \
	is "RUNTIME_ERROR|killed by signal 9 (SIGKILL)|None|9" \
	"$(field "$ID" sig9 '"|".join(map(str, [i["status"], i["message"], i["exit_code"], i["signal"]]))')"
check "outcome: SIGTERM -> 'killed by signal 15 (SIGTERM)'" \
	is "RUNTIME_ERROR|killed by signal 15 (SIGTERM)|15" \
	"$(field "$ID" sig15 '"|".join(map(str, [i["status"], i["message"], i["signal"]]))')"
check "outcome: missing program -> 'cannot run ...: No such file or directory'" \
	like "RUNTIME_ERROR|cannot run*/nonexistent/prog*: No such file or directory" \
	"$(field "$ID" missing 'i["status"] + "|" + i["message"]')"
check "outcome: program not in PATH -> 'cannot run ...: No such file or directory'" \
	like "RUNTIME_ERROR|cannot run*no-such-program-e2e*: No such file or directory" \
	"$(field "$ID" nopath 'i["status"] + "|" + i["message"]')"
check "outcome: not executable -> 'cannot run ...: Permission denied'" \
	like "RUNTIME_ERROR|cannot run*/etc/passwd*: Permission denied" \
	"$(field "$ID" noexec 'i["status"] + "|" + i["message"]')"
check "outcome: a missing cwd -> RUNTIME_ERROR naming it and the errno text" \
	like "RUNTIME_ERROR|*/nonexistent-dir*No such file or directory*" \
	"$(field "$ID" badcwd 'i["status"] + "|" + i["message"]')"
check "outcome: pid, times, attempts and CPU figures recorded for a run task" \
	is "True True True 1 True" \
	"$(field "$ID" exit3 '" ".join(map(str, [i["pid"] > 1, i["started"] is not None, i["completed"] >= i["started"], i["attempts"], i["cpu_user_us"] >= 0 and i["cpu_system_us"] >= 0]))')"

# --- timeouts -------------------------------------------------------------
newdir timeout
cat >p.yaml <<'EOF'
name: timeout
keep_going: true
ordering: {}
tasks:
  sleeper:
    run: 'echo $$ >sleeper.pid; sleep 30 & echo $! >sleeper.child; wait'
    timeout: 300ms
  stubborn:
    run: 'trap "" TERM; echo $$ >stubborn.pid; while :; do sleep 0.1; done'
    timeout: 300ms
    kill_grace: 300ms
EOF
t0=$(now_cs)
run_exec p.yaml
t1=$(now_cs)
check "timeout: both end well before their 30 s (within 5 s)" test $((t1 - t0)) -lt 500
check "timeout: RUNTIME_ERROR 'timed out after 300ms'" \
	is "RUNTIME_ERROR timed out after 300ms" \
	"$(field "$ID" sleeper 'i["status"] + " " + i["message"]')"
check "timeout: the task and its child are gone" \
	wait_for -t 3 gone sleeper.pid sleeper.child
check "timeout ignoring SIGTERM: SIGKILL after kill_grace, 'timed out after 300ms'" \
	is "RUNTIME_ERROR timed out after 300ms 9" \
	"$(field "$ID" stubborn 'i["status"] + " " + i["message"] + " " + str(i["signal"])')"
check "timeout ignoring SIGTERM: the process is gone" \
	wait_for -t 3 gone stubborn.pid

# --- retries --------------------------------------------------------------
newdir retries
cat >p.yaml <<'EOF'
name: retries
keep_going: true
ordering: {}
tasks:
  always:
    run: 'echo "attempt $PIPELINE_ATTEMPT"; date +%s%N >"always.$PIPELINE_ATTEMPT"; exit 7'
    retries: 2
    retry_delay: 300ms
  second:
    run: 'echo "try $PIPELINE_ATTEMPT"; [ "$PIPELINE_ATTEMPT" -ge 2 ]'
    retries: 3
EOF
run_exec p.yaml
check "retries: a task failing every time ends RUNTIME_ERROR after retries+1 attempts" \
	is "RUNTIME_ERROR exited with status 7 3" \
	"$(field "$ID" always 'i["status"] + " " + i["message"] + " " + str(i["attempts"])')"
pctl logs "$ID/always" >always.log
printf '%s\n' "attempt 1" "[pipelined: attempt 2]" "attempt 2" \
	"[pipelined: attempt 3]" "attempt 3" >always.want
check "retries: the log holds every attempt, PIPELINE_ATTEMPT 1..3 and the markers" \
	diff -u always.want always.log
check "retries: each retry waits retry_delay (300ms) after the failed attempt" \
	python3 -c 'import sys; a = [int(open("always.%d" % n).read()) for n in (1, 2, 3)]
sys.exit(not (a[1] - a[0] >= 300e6 and a[2] - a[1] >= 300e6))'
check "retries: a task that succeeds on its second attempt ends DONE, attempts 2" \
	is "DONE 2" "$(field "$ID" second 'i["status"] + " " + str(i["attempts"])')"
check "retries: and its log shows attempts 1 and 2 only" \
	is "try 1|[pipelined: attempt 2]|try 2" \
	"$(pctl logs "$ID/second" | tr '\n' '|' | sed 's/|$//')"

newdir retry-more
cat >p.yaml <<'EOF'
name: retry-timeout
tasks:
  slow:
    run: 'echo "try $PIPELINE_ATTEMPT"; exec sleep 30'
    timeout: 200ms
    retries: 1
EOF
run_exec p.yaml
check "retries: a timed-out attempt is retried; the last one decides" \
	is "RUNTIME_ERROR timed out after 200ms 2" \
	"$(field "$ID" slow 'i["status"] + " " + i["message"] + " " + str(i["attempts"])')"
cat >q.yaml <<'EOF'
name: retry-cancel
tasks:
  flaky:
    run: 'echo "$PIPELINE_ATTEMPT" >>tries; exit 1'
    retries: 3
    retry_delay: 1s
EOF
submit q.yaml
check "retries: the first attempt failed" wait_for -t 10 test -s tries
expect_exit 0 "retries: cancel during retry_delay" pctl cancel "$ID"
wait_exec "$ID" || :
check "retries: cancelled during retry_delay: CANCELLED, attempts 1" \
	is "CANCELLED 1" "$(field "$ID" flaky 'i["status"] + " " + str(i["attempts"])')"
sleep 1.2
check "retries: and no attempt ran after the cancel (1.2 s later)" is 1 "$(cat tries)"

# --- cancel kills the whole tree, setsid grandchildren included -----------
newdir cancel
cat >p.yaml <<'EOF'
name: cancel
tasks:
  tree:
    run: |
      echo $$ >task.pid
      setsid sh -c 'echo $$ >grandchild.pid; exec sleep 60' &
      sleep 60 & echo $! >child.pid
      wait
  later:
    run: 'touch later.ran'
EOF
submit p.yaml
check "cancel: the task and its grandchildren started" \
	wait_for -t 10 sh -c 'test -s task.pid -a -s child.pid -a -s grandchild.pid'
check "cancel: the grandchild left the task's session (setsid)" \
	test "$(ps -o sid= -p "$(cat grandchild.pid)" | tr -d ' ')" = "$(cat grandchild.pid)"
expect_exit 0 "cancel: pipectl cancel ID" pctl cancel "$ID"
check "cancel: the reply says what was cancelled" grep -q "cancelled" "$TMP/out"
check "cancel: the task and its child are gone" \
	wait_for -t 3 gone task.pid child.pid
if have_cgroups; then
	check "cancel: its setsid grandchild is gone too (cgroup)" \
		wait_for -t 3 gone grandchild.pid
else
	skip "cancel: its setsid grandchild is gone too" "no cgroups for tasks"
fi
wait_exec "$ID" || :
check "cancel: the execution is CANCELLED" is CANCELLED "$(sx "$ID" 'd["status"]')"
check "cancel: the running task CANCELLED 'cancelled by user $(id -un)'" \
	is "CANCELLED cancelled by user $(id -un)" \
	"$(field "$ID" tree 'i["status"] + " " + i["message"]')"
check "cancel: the pending task CANCELLED too, never started" \
	sh -c 'test ! -e later.ran && test "$1" = "CANCELLED None"' sh \
	"$(field "$ID" later 'i["status"] + " " + str(i["started"])')"
if have_cgroups; then
	check "cancel: the task ran in its own cgroup" \
		is cgroup "$(field "$ID" tree 'i.get("isolation", "")')"
else
	skip "cancel: the task ran in its own cgroup" "no writable cgroup v2 tree"
fi
expect_exit 0 "cancel: cancelling a final execution again succeeds" pctl cancel "$ID"
expect_exit 4 "cancel: an unknown execution is exit 4" pctl cancel 99999

# Cancel of a single task execution leaves the rest of the execution going.
newdir cancel-task
cat >p.yaml <<'EOF'
name: cancel-task
keep_going: true
ordering: {}
tasks:
  victim: {run: 'echo $$ >victim.pid; exec sleep 60'}
  other:  {run: 'while [ ! -e go ]; do sleep 0.05; done; touch other.done'}
EOF
submit p.yaml
check "cancel task: the victim runs" wait_for -t 10 test -s victim.pid
expect_exit 0 "cancel task: pipectl cancel ID/victim" pctl cancel "$ID/victim"
check "cancel task: the victim's process is gone" \
	wait_for -t 3 gone victim.pid
touch go
wait_exec "$ID" || :
check "cancel task: the victim CANCELLED, the other task went on to DONE" \
	is "CANCELLED DONE" \
	"$(sx "$ID" 'inst("victim")["status"] + " " + inst("other")["status"]')"

finish
