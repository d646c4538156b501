#!/bin/sh
# What a task's process gets (docs/pipeline-format.md, docs/security.md):
# exactly the documented environment and nothing of the daemon's own, env
# precedence, argv placeholders, iterator items as compact JSON, only fds
# 0-2 with stdin /dev/null, umask 022, the working directory.
. "$(dirname "$0")/lib.sh"
need python3
set -e

# The daemon gets variables of its own that must not reach the tasks.
LEAKME=1
LANG=C.UTF-8
export LEAKME LANG
daemon_start --max-parallel 4
unset LEAKME

# names FILE: the variable names of an `env` dump, sorted, on one line.
names() {
	sed -n 's/=.*//p' "$1" | sort | tr '\n' ' ' | sed 's/ $//'
}

# val FILE NAME: the value of NAME in an `env` dump.
val() {
	sed -n "s/^$2=//p" "$1"
}

pw_field() {
	getent passwd "$(id -un)" | cut -d: -f"$1"
}

# --- the exact environment, no iterator ----------------------------------
newdir env-plain
cat >p.yaml <<'EOF'
name: env-plain
env: {ALPHA: pipeline, BETA: pipeline}
tasks:
  dump:
    argv: [env]
    env: {BETA: task, GAMMA: task}
EOF
submit p.yaml --input-json '{"date": "2026-11-27", "my-key.x": 1, "obj": {"a": [1, null]}}' \
	--input who=me
wait_exec "$ID" || :
pctl logs "$ID/dump" >env.out
check "env: task DONE" is DONE "$(sx "$ID" 'inst("dump")["status"]')"
check "env: exactly the task environment's names (no iterator: no PIPELINE_OBJECT, TASK_OBJECT)" \
	is "ALPHA BETA GAMMA HOME LANG LOGNAME PATH PIPELINE_ATTEMPT PIPELINE_EXECUTION_ID PIPELINE_INPUT PIPELINE_INPUT_DATE PIPELINE_INPUT_MY_KEY_X PIPELINE_INPUT_OBJ PIPELINE_INPUT_WHO PIPELINE_NAME PIPELINE_RESULT_INDEX PIPELINE_TASK SHELL TASK_INDEX USER" \
	"$(names env.out)"
check "env: nothing of the daemon's environment leaks (LEAKME, ASAN_OPTIONS)" \
	sh -c '! grep -q "^LEAKME=\|^ASAN_OPTIONS=\|^top_srcdir=" env.out'
check "env: HOME, USER, LOGNAME, SHELL of the run-as user" \
	is "$(pw_field 6) $(id -un) $(id -un) $(pw_field 7)" \
	"$(val env.out HOME) $(val env.out USER) $(val env.out LOGNAME) $(val env.out SHELL)"
check "env: PATH set, LANG from the daemon" sh -c \
	'test -n "$1" && test "$2" = C.UTF-8' sh "$(val env.out PATH)" "$(val env.out LANG)"
check "env: the task's env overrides the pipeline's" \
	is "pipeline task task" \
	"$(val env.out ALPHA) $(val env.out BETA) $(val env.out GAMMA)"
check "env: PIPELINE_NAME, _EXECUTION_ID, _RESULT_INDEX, _TASK, TASK_INDEX, _ATTEMPT" \
	is "env-plain $ID 0 dump 0 1" \
	"$(val env.out PIPELINE_NAME) $(val env.out PIPELINE_EXECUTION_ID) $(val env.out PIPELINE_RESULT_INDEX) $(val env.out PIPELINE_TASK) $(val env.out TASK_INDEX) $(val env.out PIPELINE_ATTEMPT)"
check "env: PIPELINE_INPUT is the input data as JSON" \
	is '{"date": "2026-11-27", "my-key.x": 1, "obj": {"a": [1, null]}, "who": "me"}' \
	"$(val env.out PIPELINE_INPUT | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin), sort_keys=True))')"
check "env: PIPELINE_INPUT_<KEY>: upper-cased, other chars _, non-strings JSON" \
	is '2026-11-27|1|{"a":[1,null]}|me' \
	"$(val env.out PIPELINE_INPUT_DATE)|$(val env.out PIPELINE_INPUT_MY_KEY_X)|$(val env.out PIPELINE_INPUT_OBJ)|$(val env.out PIPELINE_INPUT_WHO)"

# --- unquoted env values keep their source text (docs/pipeline-format.md) -
newdir env-text
cat >p.yaml <<'EOF'
name: env-text
env: {MODE: 0755, COUNT: 12}
tasks:
  dump:
    argv: [env]
    env: {RATIO: 1.50, FLAG: true}
EOF
expect_exit 0 "env text: pipectl validate accepts unquoted scalar env values" \
	pctl validate p.yaml
expect_exit 0 "env text: pipectl run submits them too" pctl run p.yaml
ID=$(cat "$TMP/out")
if [ -n "$ID" ]; then
	wait_exec "$ID" || :
	check "env text: values as written: 0755 12 1.50 true" is "0755 12 1.50 true" \
		"$(pctl logs "$ID/dump" | sed -n 's/^\(MODE\|COUNT\|RATIO\|FLAG\)=//p' | tr '\n' ' ' | sed 's/ $//')"
fi

# --- with both iterators: the objects, strings as is, others compact JSON -
newdir env-iter
cat >p.yaml <<'EOF'
name: env-iter
iterate: [plain, {region: us, n: 2}]
tasks:
  dump:
    run: 'env >"env.$PIPELINE_RESULT_INDEX.$TASK_INDEX"'
    iterate: ["a b", [1, "x"], 7, true]
EOF
run_exec p.yaml
check "env iterators: 8 task results DONE" is DONE "$(sx "$ID" 'd["status"]')"
check "env iterators: PIPELINE_OBJECT and TASK_OBJECT present with iterators" \
	sh -c 'grep -q "^PIPELINE_OBJECT=" env.0.0 && grep -q "^TASK_OBJECT=" env.0.0'
check "env iterators: a string item as is" \
	is "plain|a b" "$(val env.0.0 PIPELINE_OBJECT)|$(val env.0.0 TASK_OBJECT)"
check "env iterators: other items as compact JSON" \
	is '{"region":"us","n":2}|[1,"x"]|7|true' \
	"$(val env.1.1 PIPELINE_OBJECT)|$(val env.1.1 TASK_OBJECT)|$(val env.1.2 TASK_OBJECT)|$(val env.1.3 TASK_OBJECT)"
check "env iterators: PIPELINE_RESULT_INDEX and TASK_INDEX follow the items" \
	is "1 3" "$(val env.1.3 PIPELINE_RESULT_INDEX) $(val env.1.3 TASK_INDEX)"
check "env iterators: show --json gives each object as the item itself" \
	is '["plain", {"n": 2, "region": "us"}, "a b", [1, "x"], 7, true]' \
	"$(sx "$ID" '[d["results"][0]["object"], d["results"][1]["object"]] + [i["object"] for i in task("dump")["instances"]]')"

# --- argv placeholders; none in run ---------------------------------------
newdir placeholders
cat >p.yaml <<'EOF'
name: placeholders
iterate: [pobj]
tasks:
  args:
    argv: [/bin/sh, -c, 'printf "%s\n" "$@" >"args.$TASK_INDEX"', sh,
      '{{pipeline.object}}', '{{task.object}}', '{{input.foo}}',
      '{{execution.id}}', '{{task.index}}', 'pre-{{input.bar}}-post',
      '{{ task.object }}', '$PIPELINE_NAME']
    iterate: ["x y", {a: [1, "b"]}]
  shell:
    run: 'echo "{{execution.id}} {{input.foo}}" >shell.out'
EOF
run_exec p.yaml --input "foo=it's \$HOME" --input-json '{"bar": {"z": null}}'
check "placeholders: execution DONE" is DONE "$(sx "$ID" 'd["status"]')"
printf '%s\n' pobj 'x y' "it's \$HOME" "$ID" 0 'pre-{"z":null}-post' 'x y' \
	'$PIPELINE_NAME' >want.0
printf '%s\n' pobj '{"a":[1,"b"]}' "it's \$HOME" "$ID" 1 'pre-{"z":null}-post' \
	'{"a":[1,"b"]}' '$PIPELINE_NAME' >want.1
check "placeholders: argv substituted, one argument each, no shell expansion" \
	diff -u want.0 args.0
check "placeholders: non-string item and input as compact JSON" \
	diff -u want.1 args.1
check "placeholders: a run line is left as written" \
	is "{{execution.id}} {{input.foo}}" "$(cat shell.out)"

# --- file descriptors, stdin, stdout+stderr, umask, cwd -------------------
newdir fds
mkdir sub
cat >p.yaml <<'EOF'
name: fds
ordering: {}
tasks:
  shellfd: {run: 'ls /proc/self/fd >fd.shell'}
  argvfd:  {argv: [ls, /proc/self/fd]}
  stdin:   {run: 'readlink /proc/self/fd/0 >stdin.out; cat >stdin.data'}
  streams: {run: 'echo to-out; echo to-err >&2; echo to-out-again'}
  umask:   {run: 'umask >umask.out; touch made; stat -c %a made >mode.out'}
  cwd:     {run: 'pwd -P >cwd.out'}
  subcwd:  {run: 'pwd -P >../subcwd.out', cwd: sub}
EOF
# Extra descriptors open in pipectl must not reach the tasks either.
run_exec p.yaml 7>/dev/null 9<p.yaml
check "fds: execution DONE" is DONE "$(sx "$ID" 'd["status"]')"
check "fds: only 0 1 2 open in a task (and ls's own directory fd)" \
	is "0 1 2 3" "$(tr '\n' ' ' <fd.shell | sed 's/ $//')"
check "fds: the same for an argv task, read from its output log" \
	is "0 1 2 3" "$(pctl logs "$ID/argvfd" | tr '\n' ' ' | sed 's/ $//')"
check "fds: stdin is /dev/null (reads end at once, nothing read)" \
	sh -c 'test "$(cat stdin.out)" = /dev/null && test ! -s stdin.data'
check "fds: stdout and stderr go together into the log, in order" \
	is "to-out to-err to-out-again" "$(pctl logs "$ID/streams" | tr '\n' ' ' | sed 's/ $//')"
check "umask 022: files made 644" is "0022 644" "$(cat umask.out) $(cat mode.out)"
check "cwd: the submitting client's directory by default" is "$TMP/fds" "$(cat cwd.out)"
check "cwd: a relative task cwd is taken from there" is "$TMP/fds/sub" "$(cat subcwd.out)"

# --- without LANG in the daemon's environment, none in the task's ---------
daemon_stop
unset LANG
daemon_start
newdir env-nolang
printf 'name: nolang\ntasks:\n  dump: {argv: [env]}\n' >p.yaml
run_exec p.yaml
pctl logs "$ID/dump" >env.out
check "env: no LANG when the daemon has none" \
	is "HOME LOGNAME PATH PIPELINE_ATTEMPT PIPELINE_EXECUTION_ID PIPELINE_INPUT PIPELINE_NAME PIPELINE_RESULT_INDEX PIPELINE_TASK SHELL TASK_INDEX USER" \
	"$(names env.out)"
check "env: PIPELINE_INPUT is {} without input" is "{}" "$(val env.out PIPELINE_INPUT)"

finish
