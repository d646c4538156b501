#!/bin/sh
# Runner plugins: the loader (the runner directory, the versioned entry
# point, the ownership and permission checks, refusals that say why and
# never stop the daemon), pipectl status listing them, and the example
# plugin examples/runners/dryrun.so walking real pipelines.
. "$(dirname "$0")/lib.sh"
need python3
set -e

DRYRUN="$top_builddir/examples/runners/.libs/dryrun.so"
BADABI="$top_builddir/tests/plugins/.libs/badabi.so"
RUNNERS="$TMP/runners"
mkdir -p "$RUNNERS"
chmod 755 "$RUNNERS"
cp "$DRYRUN" "$RUNNERS/dryrun.so"
cp "$BADABI" "$RUNNERS/badabi.so"
# Group-writable: anyone in the group could swap the code the daemon runs.
cp "$DRYRUN" "$RUNNERS/loose.so"
chmod 664 "$RUNNERS/loose.so"
# Not a shared object at all.
echo "not an ELF file" >"$RUNNERS/garbage.so"
chmod 644 "$RUNNERS/dryrun.so" "$RUNNERS/badabi.so" "$RUNNERS/garbage.so"
# Not NAME.so: never looked at.
cp "$BADABI" "$RUNNERS/other.so.1"

daemon_start --runner-dir "$RUNNERS"

check "loader: dryrun.so loaded" \
	grep -q "loaded runner dryrun from $RUNNERS/dryrun.so" "$DAEMON_LOG"
check "loader: a plugin for ABI 999 is refused, naming both versions" \
	grep -q "runner plugin refused: $RUNNERS/badabi.so: runner badabi was built for ABI version 999; this pipelined has version 1" "$DAEMON_LOG"
check "loader: a group-writable plugin is refused, saying why" \
	grep -q "runner plugin refused: $RUNNERS/loose.so: not loaded: writable by its group (mode 0664)" "$DAEMON_LOG"
check "loader: a file that is not a shared object is refused" \
	grep -q "runner plugin refused: $RUNNERS/garbage.so: " "$DAEMON_LOG"
check "loader: only NAME.so files are looked at" \
	sh -c '! grep -q "other.so.1" "$1"' sh "$DAEMON_LOG"

pctl status >status.out
check "status: the runners, dryrun among them, and where it came from" \
	sh -c 'grep -q "^runners *local, eager, dryrun$" status.out &&
	    grep -q "dryrun: $1/dryrun.so" status.out &&
	    grep -q "^runner dir *$1$" status.out' sh "$RUNNERS"
check "status --json: plugins [{name, path}] and runner_dir" \
	is "[{\"name\": \"dryrun\", \"path\": \"$RUNNERS/dryrun.so\"}] $RUNNERS" \
	"$(pctl status --json | python3 -c 'import json, sys; d = json.load(sys.stdin); print(json.dumps(d["plugins"]), d["runner_dir"])')"

newdir refused
printf 'name: r\ntasks:\n  a: {run: "true"}\n' >p.yaml
expect_exit 2 "a refused plugin's runner does not exist" pctl run p.yaml --runner badabi
check "the refusal says which runners there are" grep -q "badabi" "$TMP/err"

# --- dryrun: the graph walked, nothing run, each command described --------
newdir dryrun
cat >p.yaml <<'EOF'
name: dry
env: {SECRET_TOKEN: "s3cr3t-value"}
tasks:
  fetch:
    argv: [./fetch, --date, "{{input.date}}", "it's quoted"]
    timeout: 90s
    queue: net
  split:
    run: 'touch split.ran; echo "$PIPELINE_INPUT_DATE"'
    parents: [fetch]
    iterate: [eu, us]
  join:
    run: 'touch join.ran'
    parents: [split]
EOF
t0=$(now_cs)
run_exec p.yaml --runner dryrun --input date=2026-11-27
check "dryrun: the execution is DONE, every task DONE, runner dryrun" \
	is "DONE dryrun DONE DONE DONE DONE" \
	"$(sx "$ID" '" ".join([d["status"], d["runner"], inst("fetch")["status"], inst("split", 0)["status"], inst("split", 1)["status"], inst("join")["status"]])')"
check "dryrun: nothing ran" test ! -e split.ran -a ! -e join.ran
check "dryrun: the order of the graph holds (fetch, then split, then join)" \
	sh -c 'test "$1" = True' sh \
	"$(sx "$ID" 'str(inst("fetch")["completed"] <= inst("split", 0)["started"] and max(inst("split", i)["completed"] for i in (0, 1)) <= inst("join")["started"])')"
pctl logs "$ID/fetch" >fetch.log
check "dryrun: the log shows the command, placeholders filled, shell-quoted" \
	grep -qx "  command: ./fetch --date 2026-11-27 'it'\\\\''s quoted'" fetch.log
check "dryrun: the log shows the directory, timeout and queue" \
	sh -c 'grep -qx "  cwd: $1" fetch.log && grep -q "^  timeout: 90000ms" fetch.log && grep -qx "  queue: net" fetch.log' \
	sh "$TMP/dryrun"
check "dryrun: environment names are listed, never their values" \
	sh -c 'grep -q "^  env:.* SECRET_TOKEN" fetch.log && grep -q " PIPELINE_INPUT_DATE" fetch.log && ! grep -q s3cr3t fetch.log'
pctl logs "$ID/split/1" >split1.log
check "dryrun: each instance of an iterator gets its own description" \
	grep -q "^  command: /bin/sh -c" split1.log

finish
