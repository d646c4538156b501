#!/bin/sh
# Iterators and inputs (docs/pipeline-format.md): a task iterator computed
# from what a parent wrote, empty iterators, a failing iterate_command
# (task: RUNTIME_ERROR with the last line of its stderr, children cancelled;
# pipeline: CONFIG_ERROR), a pipeline iterate_command, and required inputs.
. "$(dirname "$0")/lib.sh"
need python3
set -e

daemon_start --max-parallel 4

# --- dynamic task iterator from the parent's output ------------------------
newdir dynamic
cat >p.yaml <<'EOF'
name: dynamic
tasks:
  gen:
    run: 'printf "p1\n\np2 with space\n{\"k\": 1}\n" >items.txt'
  fan:
    run: 'printf "%s" "$TASK_OBJECT" >"out.$TASK_INDEX"'
    iterate_command: 'cat items.txt'
    parents: [gen]
  join:
    run: 'cat out.0 out.1 out.2 >joined'
    parents: [fan]
EOF
run_exec p.yaml
check "dynamic: execution DONE" is DONE "$(sx "$ID" 'd["status"]')"
check "dynamic: one instance per non-empty line the parent wrote" \
	is '3 ["p1", "p2 with space", "{\"k\": 1}"]' \
	"$(sx "$ID" 'str(len(task("fan")["instances"])) + " " + json.dumps([i["object"] for i in task("fan")["instances"]])')"
check "dynamic: each instance got its line as TASK_OBJECT" \
	is 'p1|p2 with space|{"k": 1}' "$(cat out.0)|$(cat out.1)|$(cat out.2)"
check "dynamic: the child ran after them" test -s joined

# --- empty iterators --------------------------------------------------------
newdir empty
cat >p.yaml <<'EOF'
name: empty
ordering: {}
tasks:
  list:    {run: 'touch list.ran', iterate: []}
  command: {run: 'touch command.ran', iterate_command: 'true'}
  blank:   {run: 'touch blank.ran', iterate_command: 'printf "\n\n"'}
  after:   {run: 'touch after.ran', parents: [list, command, blank]}
EOF
run_exec p.yaml
check "empty: execution DONE" is DONE "$(sx "$ID" 'd["status"]')"
check "empty: an empty list is DONE 'no items', no instances" \
	like "DONE|*no items*|0" \
	"$(sx "$ID" 'task("list")["status"] + "|" + task("list")["message"] + "|" + str(len(task("list")["instances"]))')"
check "empty: an iterate_command printing nothing is DONE 'no items'" \
	like "DONE|*no items*|0" \
	"$(sx "$ID" 'task("command")["status"] + "|" + task("command")["message"] + "|" + str(len(task("command")["instances"]))')"
check "empty: blank lines only count as no items" \
	like "DONE|*no items*|0" \
	"$(sx "$ID" 'task("blank")["status"] + "|" + task("blank")["message"] + "|" + str(len(task("blank")["instances"]))')"
check "empty: nothing of them ran, their child did" \
	test ! -e list.ran -a ! -e command.ran -a ! -e blank.ran -a -e after.ran

# --- a failing task iterate_command ---------------------------------------
newdir badcmd
cat >p.yaml <<'EOF'
name: badcmd
tasks:
  fan:
    run: 'touch fan.ran'
    iterate_command: 'echo item; echo first problem >&2; echo the last line >&2; exit 4'
  child:
    run: 'touch child.ran'
    parents: [fan]
EOF
run_exec p.yaml
check "iterate_command fails: the task execution RUNTIME_ERROR with stderr's last line" \
	like "RUNTIME_ERROR|*the last line*" \
	"$(sx "$ID" 'task("fan")["status"] + "|" + task("fan")["message"]')"
check "iterate_command fails: the message gives the exit status" \
	like "*status 4*" "$(sx "$ID" 'task("fan")["message"]')"
check "iterate_command fails: no instance ran" test ! -e fan.ran
check "iterate_command fails: the child CANCELLED, never ran" \
	sh -c 'test ! -e child.ran && test "$1" = CANCELLED' sh "$(sx "$ID" 'task("child")["status"]')"
check "iterate_command fails: the execution RUNTIME_ERROR" \
	is RUNTIME_ERROR "$(sx "$ID" 'd["status"]')"

# --- pipeline iterate_command ----------------------------------------------
newdir pipeline-cmd
echo north >regions
echo south >>regions
cat >p.yaml <<'EOF'
name: pipeline-cmd
iterate_command: 'cat regions; echo; echo "$EXTRA"'
env: {EXTRA: east}
tasks:
  one: {run: 'echo "$PIPELINE_OBJECT" >"one.$PIPELINE_RESULT_INDEX"'}
  two: {argv: [sh, -c, 'echo "$1" >"two.$PIPELINE_RESULT_INDEX"', sh, '{{pipeline.object}}']}
EOF
run_exec p.yaml
check "pipeline iterate_command: DONE, one result per non-empty line (with the pipeline env)" \
	is 'DONE ["north", "south", "east"]' \
	"$(sx "$ID" 'd["status"] + " " + json.dumps([r["object"] for r in d["results"]])')"
check "pipeline iterate_command: every result ran both tasks with its object" \
	is "north south east|north south east" \
	"$(cat one.0 one.1 one.2 | tr '\n' ' ' | sed 's/ $//')|$(cat two.0 two.1 two.2 | tr '\n' ' ' | sed 's/ $//')"

newdir pipeline-badcmd
cat >p.yaml <<'EOF'
name: pipeline-badcmd
iterate_command: 'echo a; echo cannot list regions >&2; exit 2'
tasks:
  t: {run: 'touch t.ran'}
EOF
run_exec p.yaml
check "pipeline iterate_command fails: the execution CONFIG_ERROR with stderr's last line" \
	like "CONFIG_ERROR|*cannot list regions*" "$(sx "$ID" 'd["status"] + "|" + d["message"]')"
check "pipeline iterate_command fails: no task ran" test ! -e t.ran

newdir pipeline-empty
printf 'name: pipeline-empty\niterate: []\ntasks:\n  t: {run: "touch t.ran"}\n' >p.yaml
run_exec p.yaml
check "pipeline iterator empty: DONE at once, no results, nothing ran" \
	sh -c 'test ! -e t.ran && test "$1" = "DONE 0"' sh \
	"$(sx "$ID" 'd["status"] + " " + str(len(d["results"]))')"

# --- inputs ------------------------------------------------------------------
newdir inputs
cat >p.yaml <<'EOF'
name: inputs
tasks:
  needs:
    run: 'echo "$PIPELINE_INPUT_DATE $PIPELINE_INPUT_ZONE" >needs.out'
    inputs: [date, zone, region]
  placeholder:
    argv: [sh, -c, 'echo "$1" >placeholder.out', sh, '{{input.who}}']
EOF
run_exec p.yaml --input date=2026-11-27
check "inputs missing: VALIDATION_ERROR naming the missing keys (not the given one)" \
	sh -c 'case $1 in VALIDATION_ERROR\|*zone*) ;; *) exit 1 ;; esac &&
	       case $1 in *region*) ;; *) exit 1 ;; esac &&
	       case $1 in *date*) exit 1 ;; esac' sh \
	"$(sx "$ID" 'inst("needs")["status"] + "|" + inst("needs")["message"]')"
check "inputs missing: the execution is VALIDATION_ERROR and nothing ran" \
	sh -c 'test ! -e needs.out -a ! -e placeholder.out && test "$1" = VALIDATION_ERROR' \
	sh "$(sx "$ID" 'd["status"]')"
run_exec p.yaml --input date=2026-11-27 --input zone=UTC --input region=eu \
	--input who=me --input extra=ignored
check "inputs given: the same pipeline runs DONE" is DONE "$(sx "$ID" 'd["status"]')"
check "inputs given: the tasks saw them" \
	is "2026-11-27 UTC|me" "$(cat needs.out)|$(cat placeholder.out)"
check "inputs given: show --json has the input data" \
	is '{"date": "2026-11-27", "extra": "ignored", "region": "eu", "who": "me", "zone": "UTC"}' \
	"$(sx "$ID" 'd["input"]')"
run_exec p.yaml --input date=1 --input zone=2 --input region=3
check "inputs: a placeholder's {{input.KEY}} is required too" \
	like "VALIDATION_ERROR|*who*" \
	"$(sx "$ID" 'inst("placeholder")["status"] + "|" + inst("placeholder")["message"]')"

finish
