#!/bin/sh
# The scheduling rules (docs/runners.md) as seen from the tasks themselves:
# the tasks write timestamps and pids, the checks compare them.  The seed's
# three runner tests, parallelism on local and its absence on eager, rule 3
# (pipeline results independent), rule 4 (iterator instances before any
# child; a failed instance kills its siblings and cancels the children) and
# keep_going.
. "$(dirname "$0")/lib.sh"
need python3
set -e

# overlap A_START A_END B_START B_END: the two intervals intersect.
overlap() {
	before "$1" "$4" && before "$3" "$2"
}

# all_before LATER EARLIER...: every EARLIER timestamp <= LATER.
all_before() {
	_later=$1
	shift
	for _e in "$@"; do
		before "$_e" "$_later" || return 1
	done
}

daemon_start --max-parallel 6

# --- seed test 1: parentless tasks run in definition order (eager) --------
newdir eager-order
cat >p.yaml <<'EOF'
name: eager-order
runner: eager
ordering: {}
tasks:
  zulu:  {run: 'echo "zulu $(date +%s%N)" >>seq; sleep 0.2; echo "zulu $(date +%s%N)" >>seq'}
  alpha: {run: 'echo "alpha $(date +%s%N)" >>seq; sleep 0.2; echo "alpha $(date +%s%N)" >>seq'}
  mike:  {run: 'echo "mike $(date +%s%N)" >>seq; sleep 0.2; echo "mike $(date +%s%N)" >>seq'}
  bravo: {run: 'echo "bravo $(date +%s%N)" >>seq; sleep 0.2; echo "bravo $(date +%s%N)" >>seq'}
EOF
run_exec p.yaml
check "eager: execution DONE with runner eager" \
	is "DONE eager" "$(sx "$ID" 'd["status"] + " " + d["runner"]')"
check "eager: parentless tasks start and end in definition order, one at a time" \
	is "zulu zulu alpha alpha mike mike bravo bravo" \
	"$(awk '{ printf "%s%s", sep, $1; sep = " " }' seq)"
check "eager: the tasks' timestamps are strictly increasing" \
	awk 'NR > 1 && $2 <= prev { exit 1 } { prev = $2 } END { exit NR != 8 }' seq

# --- seed test 2: a child declared before its parent waits for it -------
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
run_exec p.yaml
check "child before parent: execution DONE" is DONE "$(sx "$ID" 'd["status"]')"
check "child before parent: the child starts after its parent ended" \
	before parent.end child.start

# --- seed test 3: the first task fails, the chained second is cancelled --
newdir chain-fail
cat >p.yaml <<'EOF'
name: chain-fail
tasks:
  first:  {run: 'touch first.ran; exit 1'}
  second: {run: 'touch second.ran'}
EOF
run_exec p.yaml
check "chain: execution RUNTIME_ERROR" \
	is RUNTIME_ERROR "$(sx "$ID" 'd["status"]')"
check "chain: first ran and failed" sh -c \
	'test -f first.ran && test "$1" = "RUNTIME_ERROR exited with status 1"' \
	sh "$(sx "$ID" 'inst("first")["status"] + " " + inst("first")["message"]')"
check "chain: second CANCELLED because of its parent, never started" \
	is "CANCELLED cancelled: parent first failed None" \
	"$(sx "$ID" 'inst("second")["status"] + " " + inst("second")["message"] + " " + str(inst("second")["started"])')"
check "chain: second's marker file absent" test ! -e second.ran

# --- parallelism: local overlaps parentless tasks, eager never does -------
newdir local-overlap
cat >p.yaml <<'EOF'
name: overlap
ordering: {}
tasks:
  one: {run: 'date +%s%N >one.start; sleep 1; date +%s%N >one.end'}
  two: {run: 'date +%s%N >two.start; sleep 1; date +%s%N >two.end'}
EOF
submit p.yaml --runner local
LOCAL=$ID
newdir eager-disjoint
cp ../local-overlap/p.yaml .
submit p.yaml --runner eager
EAGER=$ID
wait_exec "$LOCAL" || :
wait_exec "$EAGER" || :
cd "$TMP/local-overlap"
check "local: both tasks DONE" is "DONE DONE" \
	"$(sx "$LOCAL" 'inst("one")["status"] + " " + inst("two")["status"]')"
check "local: the two 1-second tasks overlap in time" \
	overlap one.start one.end two.start two.end
cd "$TMP/eager-disjoint"
check "eager (--runner): both tasks DONE, runner eager" is "DONE DONE eager" \
	"$(sx "$EAGER" 'inst("one")["status"] + " " + inst("two")["status"] + " " + d["runner"]')"
check "eager: the two tasks never overlap (one ends before two starts)" \
	before one.end two.start

# --- rule 3: pipeline results run independently ---------------------------
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
run_exec p.yaml
check "rule 3: execution ends RUNTIME_ERROR" \
	is RUNTIME_ERROR "$(sx "$ID" 'd["status"]')"
check "rule 3: the failing result is RUNTIME_ERROR, its second task CANCELLED" \
	is "RUNTIME_ERROR RUNTIME_ERROR CANCELLED" \
	"$(sx "$ID" '" ".join([d["results"][1]["status"], inst("work", 0, 1)["status"], inst("after", 0, 1)["status"]])')"
check "rule 3: the other results ran to completion (DONE)" is "DONE DONE" \
	"$(sx "$ID" 'd["results"][0]["status"] + " " + d["results"][2]["status"]')"
check "rule 3: the other results' tasks left their markers" \
	test -s work.ok1 -a -s work.ok2 -a -e after.ok1 -a -e after.ok2
check "rule 3: nothing ran after the failure in the failed result" \
	test ! -e work.bad -a ! -e after.bad

newdir rule3-eager
sed 's/name: rule3/name: rule3-eager/; s/\[ok1, bad, ok2\]/[bad, ok1, ok2]/' \
	../rule3/p.yaml >p.yaml
run_exec p.yaml --runner eager
check "rule 3 (eager, failing item first): the later results still run, DONE" \
	is "RUNTIME_ERROR DONE DONE" \
	"$(sx "$ID" '" ".join(r["status"] for r in d["results"])')"
check "rule 3 (eager): the later results' markers present" \
	test -e after.ok1 -a -e after.ok2 -a ! -e after.bad

# --- rule 4: an iterator task's instances all end before any child starts -
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
run_exec p.yaml
check "rule 4: execution DONE, fan has 3 DONE instances" is "DONE DONE DONE DONE" \
	"$(sx "$ID" 'd["status"] + " " + " ".join(i["status"] for i in task("fan")["instances"])')"
check "rule 4: the child starts after every instance ended" \
	all_before child.start fan.0.end fan.1.end fan.2.end

# --- rule 4: a failed instance kills its siblings, cancels the child ------
newdir rule4-fail
cat >p.yaml <<'EOF'
name: rule4-fail
max_parallel: 4
tasks:
  fan:
    run: |
      echo $$ >"pid.$TASK_INDEX"
      if [ "$TASK_INDEX" = 1 ]; then
        n=0
        while [ $n -lt 100 ] && ! [ -s pid.0 -a -s pid.2 -a -s pid.3 ]; do
          sleep 0.05; n=$((n + 1))
        done
        exit 3
      fi
      sleep 30 & echo $! >"grandchild.$TASK_INDEX"; wait
    iterate: [a, b, c, d, e]
  child:
    run: 'touch child.ran'
    parents: [fan]
EOF
t0=$(now_cs)
run_exec p.yaml
t1=$(now_cs)
check "rule 4 failure: the execution ends within 5 s (siblings sleep 30 s)" \
	test $((t1 - t0)) -lt 500
check "rule 4 failure: instance 1 RUNTIME_ERROR 'exited with status 3'" \
	is "RUNTIME_ERROR exited with status 3" \
	"$(sx "$ID" 'inst("fan", 1)["status"] + " " + inst("fan", 1)["message"]')"
check "rule 4 failure: the fan task execution RUNTIME_ERROR" \
	is "RUNTIME_ERROR instance 1 failed: exited with status 3" \
	"$(sx "$ID" 'task("fan")["status"] + " " + task("fan")["message"]')"
# The failure is fan's; the child's cancellation is its consequence.
check "rule 4 failure: the execution ends RUNTIME_ERROR (fan's failure), not CANCELLED" \
	is "RUNTIME_ERROR task fan: instance 1 failed: exited with status 3" \
	"$(sx "$ID" 'd["status"] + " " + d["message"]')"
check "rule 4 failure: the running siblings had started (pids recorded)" \
	test -s pid.0 -a -s pid.2 -a -s pid.3
check "rule 4 failure: the siblings and their children are gone" \
	wait_for -t 3 gone pid.0 pid.2 pid.3 grandchild.*
check "rule 4 failure: running siblings CANCELLED 'cancelled: instance 1 of fan failed'" \
	is "CANCELLED cancelled: instance 1 of fan failed|CANCELLED cancelled: instance 1 of fan failed|CANCELLED cancelled: instance 1 of fan failed" \
	"$(sx "$ID" '"|".join(inst("fan", i)["status"] + " " + inst("fan", i)["message"] for i in (0, 2, 3))')"
check "rule 4 failure: the pending instance (max_parallel 4) never started" \
	is "CANCELLED None" \
	"$(sx "$ID" 'inst("fan", 4)["status"] + " " + str(inst("fan", 4)["started"])')"
check "rule 4 failure: pending instance left no pid file" test ! -e pid.4
check "rule 4 failure: the child is CANCELLED and never started" \
	is "CANCELLED None cancelled: parent fan failed" \
	"$(sx "$ID" 'inst("child")["status"] + " " + str(inst("child")["started"]) + " " + inst("child")["message"]')"
check "rule 4 failure: the child's marker file is absent" test ! -e child.ran

# --- keep_going ----------------------------------------------------------
# bad fails at once; slow is still running then; slow's child can only
# start after the failure.
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
run_exec p.yaml
check "keep_going true: execution RUNTIME_ERROR" \
	is RUNTIME_ERROR "$(sx "$ID" 'd["status"]')"
check "keep_going true: the independent branch ran to the end (DONE DONE)" \
	is "DONE DONE" "$(sx "$ID" 'inst("slow")["status"] + " " + inst("after")["status"]')"
check "keep_going true: the branch's child started after the failure" \
	before bad.end after.start
check "keep_going true: only the failed task's descendant is CANCELLED" \
	sh -c 'test ! -e badchild.ran && test "$1" = CANCELLED' sh \
	"$(sx "$ID" 'inst("badchild")["status"]')"

newdir stop-on-failure
sed 's/keep_going: true/keep_going: false/; s/name: keep-going/name: stop-on-failure/' \
	../keep-going/p.yaml >p.yaml
run_exec p.yaml
check "keep_going false: execution RUNTIME_ERROR" \
	is RUNTIME_ERROR "$(sx "$ID" 'd["status"]')"
check "keep_going false: the running independent task finished, DONE" \
	sh -c 'test -e slow.ran && test "$1" = DONE' sh "$(sx "$ID" 'inst("slow")["status"]')"
check "keep_going false: the pending independent task is CANCELLED, never ran" \
	sh -c 'test ! -e after.start && test "$1" = "CANCELLED None"' sh \
	"$(sx "$ID" 'inst("after")["status"] + " " + str(inst("after")["started"])')"

newdir default-policy
grep -v keep_going ../stop-on-failure/p.yaml | sed 's/stop-on-failure/default-policy/' >p.yaml
run_exec p.yaml
check "keep_going by default (false): the pending independent task is CANCELLED" \
	sh -c 'test ! -e after.start && test "$1" = CANCELLED' sh \
	"$(sx "$ID" 'inst("after")["status"]')"

finish
