#!/bin/sh
# pipectl against a live daemon (docs/protocol.md): run's outputs and exit
# codes, logs (plain, --follow while the task runs, the output cap), list
# and its filters, the JSON shapes of show and list, watch events in order,
# wait's exit codes, status.
. "$(dirname "$0")/lib.sh"
need python3
set -e

daemon_start --max-parallel 4

# --- run: outputs and exit codes -------------------------------------------
newdir run
printf 'name: ok\ntasks:\n  t: {run: "echo hi"}\n' >ok.yaml
printf 'name: bad\ntasks:\n  t: {run: "exit 5"}\n' >bad.yaml
printf 'name: broken\ntasks:\n  t: {run: "true", parents: [nope]}\n' >broken.yaml
expect_exit 0 "run: submits and exits 0" pctl run ok.yaml
check "run: prints the execution id alone on a line" grep -qx '[1-9][0-9]*' "$TMP/out"
OKID=$(cat "$TMP/out")
expect_exit 0 "run --json" pctl run ok.yaml --json
check "run --json: prints {\"id\": N}, N the next id" \
	is "{'id': $((OKID + 1))}" "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])))' "$TMP/out")"
expect_exit 0 "run --wait: exit 0 when the execution ends DONE" pctl run ok.yaml --wait
printf 'name: lines\ntasks:\n  first: {run: "true"}\n  second: {run: "true"}\n' >lines.yaml
expect_exit 0 "run --wait (output not a terminal)" pctl run lines.yaml --wait
LID=$(head -n 1 "$TMP/out")
check "run --wait (not a terminal): a line per status change, the first task's too" \
	sh -c 'grep -q "^$1/0/first/0 RUNNING" "$2" && grep -q "^$1/0/first/0 DONE" "$2" &&
	       grep -q "^$1/0/second/0 DONE" "$2" && grep -q "^$1 DONE" "$2"' sh "$LID" "$TMP/out"
expect_exit 1 "run --wait: exit 1 when it ends otherwise" pctl run bad.yaml --wait
check "run --wait: the outcome is shown" grep -q "exited with status 5" "$TMP/out"
expect_exit 1 "run --wait --json on a failure" pctl run bad.yaml --wait --json
check "run --wait --json: the final object as show --json prints it" \
	is "bad RUNTIME_ERROR 1" \
	"$(jpy "$TMP/out" 'd["pipeline"] + " " + d["status"] + " " + str(len(d["results"]))')"
cp "$TMP/out" waitjson.out
pctl show "$(jpy waitjson.out 'd["id"]')" --json >show.out
check "run --wait --json: the same object as pipectl show --json" python3 -c \
	'import json,sys; sys.exit(json.load(open(sys.argv[1])) != json.load(open(sys.argv[2])))' \
	waitjson.out show.out
expect_exit 2 "run: an invalid pipeline is exit 2, nothing submitted" pctl run broken.yaml
check "run: the error is given as FILE:LINE:COL" grep -q 'broken.yaml:3:[0-9]*: .*nope' "$TMP/err"
expect_exit 2 "run: a missing file is exit 2" pctl run nope.yaml
expect_exit 3 "run: an unreachable daemon is exit 3" \
	"$PIPECTL" --socket "$TMP/no-such.sock" run ok.yaml

# --- logs ---------------------------------------------------------------------
newdir logs
cat >p.yaml <<'EOF'
name: logs
iterate: [only]
tasks:
  talk:
    run: 'printf "out 1\n"; printf "err 1\n" >&2; printf "no newline"'
    iterate: [x, y]
EOF
run_exec p.yaml
expect_exit 0 "logs: a task result's output" pctl logs "$ID/0/talk/1"
check "logs: the bytes as written, stdout and stderr together" \
	is "$(printf 'out 1\nerr 1\nno newline')" "$(cat "$TMP/out")"
check "logs: no trailing newline added" test "$(tail -c 10 "$TMP/out")" = "no newline"
expect_exit 4 "logs: an unknown task is exit 4" pctl logs "$ID/0/nope/0"
expect_exit 4 "logs: an unknown instance is exit 4" pctl logs "$ID/0/talk/7"
expect_exit 4 "logs: an unknown execution is exit 4" pctl logs 99999/0/talk/0
expect_exit 2 "logs: a malformed address is exit 2" pctl logs "x/y"

newdir follow
cat >p.yaml <<'EOF'
name: follow
tasks:
  talk:
    run: |
      echo "line 1"
      n=0
      while [ ! -e go ] && [ $n -lt 200 ]; do sleep 0.05; n=$((n + 1)); done
      for i in 2 3 4 5; do sleep 0.25; echo "line $i"; done
EOF
submit p.yaml
(pctl logs --follow "$ID/talk"; echo "exit $?") | while IFS= read -r line; do
	echo "$(date +%s%N) $line"
done >follow.out &
FOLLOW=$!
check "logs --follow: the first line arrives while the task still runs" \
	wait_for -t 10 grep -q ' line 1$' follow.out
check "logs --follow: (the task is RUNNING then)" \
	is RUNNING "$(sx "$ID" 'inst("talk")["status"]')"
touch go
check "logs --follow: it ends by itself once the task is final" \
	wait_for -t 10 proc_dead "$FOLLOW"
wait "$FOLLOW" || :
check "logs --follow: every line, in order, then exit 0" \
	is "line 1|line 2|line 3|line 4|line 5|exit 0" \
	"$(cut -d' ' -f2- follow.out | tr '\n' '|' | sed 's/|$//')"
check "logs --follow: the lines came as written (line 2 >= 0.3 s before line 5)" \
	awk '$3 == 2 { t2 = $1 } $3 == 5 { t5 = $1 } END { exit !(t5 - t2 >= 300000000) }' \
	follow.out
check "logs --follow: the task ended DONE" is DONE "$(sx "$ID" 'inst("talk")["status"]')"
expect_exit 0 "logs --follow on a final task prints it all and ends" \
	timeout 10 "$PIPECTL" --socket "$SOCK" logs "$ID/talk" -f
check "logs -f after the end: the whole output" \
	is "line 1 line 2 line 3 line 4 line 5" "$(tr '\n' ' ' <"$TMP/out" | sed 's/ $//')"

newdir cap
cat >p.yaml <<'EOF'
name: cap
tasks:
  big:
    run: 'i=0; while [ $i -lt 500 ]; do echo "0123456789 line $i"; i=$((i + 1)); done; echo done >finished'
    limits: {output: 1K}
EOF
run_exec p.yaml
pctl logs "$ID/big" >big.log
head -c 1024 big.log >big.log.head
check "output cap: the task still ran to the end, DONE" \
	sh -c 'test -e finished && test "$1" = DONE' sh "$(sx "$ID" 'inst("big")["status"]')"
check "output cap: the log starts with the first line" \
	is "0123456789 line 0" "$(head -n 1 big.log)"
check "output cap: the cut is marked '[pipelined: output cut at 1K]' at the end" \
	is "[pipelined: output cut at 1K]" "$(tail -n 1 big.log)"
check "output cap: at most 1K of output kept before the mark" \
	test "$(sed '$d' big.log | wc -c)" -le 1025
check "output cap: the kept bytes are the first 1K written" sh -c \
	'i=0; while [ $i -lt 500 ]; do echo "0123456789 line $i"; i=$((i + 1)); done |
	 head -c 1024 | cmp -s - "$1"' sh big.log.head

# --- list ---------------------------------------------------------------------
newdir list
printf 'name: list-old\ntasks:\n  t: {run: "true"}\n' >old.yaml
printf 'name: list-a\ntasks:\n  t: {run: "while [ ! -e go ]; do sleep 0.05; done"}\n' >a.yaml
printf 'name: list-b\ntasks:\n  t: {run: "while [ ! -e go ]; do sleep 0.05; done; exit 1"}\n' >b.yaml
run_exec old.yaml
OLD=$ID
# Age for --since: what it filters on is the submission time.
sleep 1.5
submit a.yaml; A1=$ID
submit a.yaml; A2=$ID
submit b.yaml; B=$ID
check "list --since 1s: only what was submitted in the last second" \
	is "[$B, $A2, $A1]" "$(pctl list --since 1s --json | python3 -c 'import json,sys; print([e["id"] for e in json.load(sys.stdin)])')"
check "list --status RUNNING: the three unfinished ones" \
	is "[$B, $A2, $A1]" "$(pctl list --status RUNNING --json | python3 -c 'import json,sys; print([e["id"] for e in json.load(sys.stdin)])')"
touch go
wait_exec "$A1" || :
wait_exec "$A2" || :
wait_exec "$B" || :
lids() {
	pctl list "$@" --json | python3 -c 'import json,sys; print([e["id"] for e in json.load(sys.stdin)])'
}
check "list --pipeline: only that pipeline's executions, newest first" \
	is "[$A2, $A1]" "$(lids --pipeline list-a)"
check "list --status RUNTIME_ERROR" is "[$B]" "$(lids --status RUNTIME_ERROR --pipeline list-b)"
check "list --status DONE --pipeline list-a" is "[$A2, $A1]" "$(lids --status DONE --pipeline list-a)"
check "list --limit 2: the two newest" is "[$B, $A2]" "$(lids --limit 2)"
check "list --since 1h: the old one too" like "*, $OLD*" "$(lids --since 1h)"
check "list: newest first, ids distinct" python3 -c '
import json, subprocess, sys
l = json.loads(subprocess.check_output(sys.argv[1:] + ["list", "--json"]))
ids = [e["id"] for e in l]
sys.exit(ids != sorted(ids, reverse=True) or len(set(ids)) != len(ids))' \
	"$PIPECTL" --socket "$SOCK"
check "list --pipeline with no match: an empty array" is "[]" "$(lids --pipeline nothing-here)"
expect_exit 0 "list (table)" pctl list --pipeline list-a
check "list table: a header and one line per execution" sh -c \
	'test "$(wc -l <"$1")" -eq 3 && head -n 1 "$1" | grep -q "ID.*PIPELINE.*STATUS"' sh "$TMP/out"
expect_exit 2 "list --status BOGUS is a usage error" pctl list --status BOGUS
expect_exit 2 "list --limit 0 is a usage error" pctl list --limit 0
expect_exit 2 "list --since soon is a usage error" pctl list --since soon

# --- JSON shapes --------------------------------------------------------------
newdir shapes
cat >p.yaml <<'EOF'
name: shapes
iterate: [eu, us]
tasks:
  fetch: {run: 'true'}
  render:
    run: 'true'
    iterate: [p1, p2]
    parents: [fetch]
EOF
run_exec p.yaml --input date=2026-11-27
pctl show "$ID" --json >show.json
pctl list --json >list.json
cat >shape.py <<'EOF'
import json, re, sys
show = json.load(open("show.json"))
lst = json.load(open("list.json"))
which = sys.argv[1]
# The keys of pipectl show --json, level by level.
SPEC = {
    "execution": {"id", "pipeline", "status", "message", "runner", "owner",
                  "submitted", "started", "completed", "input", "results"},
    "result": {"index", "object", "status", "started", "completed", "tasks"},
    "task": {"name", "parents", "status", "started", "completed",
             "instances"},
    "instance": {"index", "object", "status", "message", "pid", "exit_code",
                 "signal", "attempts", "started", "completed", "cpu_user_us",
                 "cpu_system_us", "max_rss_kib"},
}
# What pipelined sends beyond those (docs/protocol.md, "show").
EXTRA = {
    "execution": {"iterator", "retry_of", "retried_by"},
    "result": {"message"},
    "task": {"iterator", "message"},
    "instance": {"isolation"},
}
TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
objs = [("execution", show)]
for r in show["results"]:
    objs.append(("result", r))
    for t in r["tasks"]:
        objs.append(("task", t))
        for i in t["instances"]:
            objs.append(("instance", i))
bad = []
if which == "spec-keys":
    for lvl, o in objs:
        missing = SPEC[lvl] - set(o)
        if missing:
            bad.append("%s lacks %s" % (lvl, sorted(missing)))
elif which == "no-other-keys":
    for lvl, o in objs:
        other = set(o) - SPEC[lvl] - EXTRA[lvl]
        if other:
            bad.append("%s has other keys: %s" % (lvl, sorted(other)))
elif which == "types":
    for lvl, o in objs:
        for k in ("submitted", "started", "completed"):
            if k in o and not (o[k] is None or TIME.match(o[k])):
                bad.append("%s %s=%r is not RFC 3339 UTC with µs" % (lvl, k, o[k]))
    e = show
    if not (isinstance(e["id"], int) and isinstance(e["owner"]["uid"], int)
            and isinstance(e["owner"]["user"], str)
            and e["input"] == {"date": "2026-11-27"}
            and [r["object"] for r in e["results"]] == ["eu", "us"]
            and e["results"][0]["tasks"][1]["parents"] == ["fetch"]
            and [i["object"] for i in e["results"][0]["tasks"][1]["instances"]] == ["p1", "p2"]):
        bad.append("values: %r" % e)
    for lvl, o in objs:
        if lvl == "instance":
            if not all(isinstance(o[k], int) for k in
                       ("pid", "exit_code", "attempts", "cpu_user_us",
                        "cpu_system_us", "max_rss_kib")) or o["signal"] is not None:
                bad.append("instance figures: %r" % o)
elif which == "list":
    if not isinstance(lst, list):
        bad.append("list --json is not an array")
    mine = [e for e in lst if e["id"] == show["id"]]
    want = dict(show)
    del want["results"]
    if len(mine) != 1 or mine[0] != want:
        bad.append("list entry %r != show without results %r" % (mine, want))
    for e in lst:
        if "results" in e:
            bad.append("list entry %d has results" % e["id"])
for b in bad:
    print("  " + b, file=sys.stderr)
sys.exit(1 if bad else 0)
EOF
check "show --json: every base key at every level" python3 shape.py spec-keys
check "show --json: no keys beyond the base ones but the known additions" \
	python3 shape.py no-other-keys
check "show --json: times RFC 3339 UTC with microseconds, values and figures typed" \
	python3 shape.py types
check "list --json: an array of the show objects without results" python3 shape.py list
expect_exit 4 "show: an unknown execution is exit 4" pctl show 99999
expect_exit 2 "show: a non-numeric id is a usage error" pctl show abc

# --- watch ------------------------------------------------------------------------
newdir watch
printf 'name: canary\ntasks:\n  t: {run: "true"}\n' >canary.yaml
cat >p.yaml <<'EOF'
name: watched
tasks:
  a: {run: 'true'}
  b: {run: 'exit 2'}
  c: {run: 'true'}
EOF
pctl watch --json >all.out 2>all.err &
WATCH=$!
# The watch is live once it reports a canary execution.
n=0
while :; do
	submit canary.yaml
	wait_exec "$ID" || :
	if wait_for -t 1 grep -q "\"address\":\"$ID\",\"level\":\"execution\",\"status\":\"DONE\"" all.out; then
		break
	fi
	n=$((n + 1))
	[ $n -lt 10 ] || break
done
run_exec p.yaml
check "watch --json: the execution's final event arrives" \
	wait_for -t 10 grep -q "\"address\":\"$ID\",\"level\":\"execution\",\"status\":\"RUNTIME_ERROR\"" all.out
kill "$WATCH" 2>/dev/null || :
wait "$WATCH" 2>/dev/null || :
cat >events.py <<'EOF'
import json, re, sys
eid = int(sys.argv[2])
ev = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
mine = [e for e in ev if e["execution"] == eid]
which = sys.argv[3]
bad = []
if which == "shape":
    for e in ev:
        if set(e) != {"execution", "address", "level", "status", "message", "time"}:
            bad.append("keys %s" % sorted(e))
        elif e["level"] not in ("execution", "pipeline_result", "task_execution", "task_result") \
                or not re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$", e["time"]) \
                or not isinstance(e["message"], str):
            bad.append("values %r" % e)
elif which == "order":
    want = [("execution", "%d" % eid, "PENDING", None),
            ("task_result", "%d/0/a/0" % eid, "RUNNING", None),
            ("execution", "%d" % eid, "RUNNING", None),
            ("task_result", "%d/0/a/0" % eid, "DONE", "exited with status 0"),
            ("task_execution", "%d/0/a" % eid, "DONE", None),
            ("task_result", "%d/0/b/0" % eid, "RUNNING", None),
            ("task_result", "%d/0/b/0" % eid, "RUNTIME_ERROR", "exited with status 2"),
            ("task_execution", "%d/0/b" % eid, "RUNTIME_ERROR", None),
            ("task_result", "%d/0/c/0" % eid, "CANCELLED", "cancelled: parent b failed"),
            ("pipeline_result", "%d/0" % eid, "RUNTIME_ERROR", None),
            ("execution", "%d" % eid, "RUNTIME_ERROR", None)]
    i = 0
    for e in mine:
        if i < len(want):
            lvl, addr, st, msg = want[i]
            if (e["level"], e["address"], e["status"]) == (lvl, addr, st) and \
                    (msg is None or e["message"] == msg):
                i += 1
    if i < len(want):
        bad.append("missing, in order: %r" % (want[i],))
    if not mine or (mine[-1]["level"], mine[-1]["status"]) != ("execution", "RUNTIME_ERROR"):
        bad.append("the last event is not the execution's final one")
elif which == "advance":
    FINAL = {"DONE", "CONFIG_ERROR", "VALIDATION_ERROR", "RUNTIME_ERROR", "CANCELLED"}
    rank = lambda s: 0 if s == "PENDING" else 1 if s == "RUNNING" else 2
    last = {}
    for e in mine:
        p = last.get(e["address"])
        if p is not None and (p in FINAL or rank(e["status"]) < rank(p)):
            bad.append("%s: %s after %s" % (e["address"], e["status"], p))
        last[e["address"]] = e["status"]
    times = [e["time"] for e in mine]
    if times != sorted(times):
        bad.append("event times go back")
for b in bad:
    print("  " + b, file=sys.stderr)
sys.exit(1 if bad else 0)
EOF
check "watch --json: every line has exactly execution/address/level/status/message/time" \
	python3 events.py all.out "$ID" shape
check "watch --json: the expected transitions, in order, the execution's last" \
	python3 events.py all.out "$ID" order
check "watch --json: statuses only advance; nothing after a final status" \
	python3 events.py all.out "$ID" advance

# watch ID: follows one execution and ends once it is final.
cat >gate.yaml <<'EOF'
name: gated
tasks:
  a: {run: 'while [ ! -e go ]; do sleep 0.05; done; sleep 0.3'}
  b: {run: 'true'}
EOF
submit gate.yaml
GATED=$ID
pctl watch "$GATED" --json >one.out 2>one.err &
WATCH=$!
wait_for -t 10 connections_at_least 2 || :
touch go
check "watch ID: ends by itself once the execution is final" wait_for -t 15 proc_dead "$WATCH"
set +e
wait "$WATCH"
rc=$?
set -e
check "watch ID: exit 0" is 0 "$rc"
check "watch ID: only that execution's events" python3 -c '
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
sys.exit(not ev or any(e["execution"] != int(sys.argv[2]) for e in ev))' one.out "$GATED"
check "watch ID: a's end, b's run, and the final DONE last" python3 -c '
import json, sys
ev = [(e["address"], e["status"]) for e in map(json.loads, open(sys.argv[1]))]
i = sys.argv[2]
w = [(i + "/0/a/0", "DONE"), (i + "/0/b/0", "RUNNING"), (i + "/0/b/0", "DONE"), (i, "DONE")]
sys.exit(not all(x in ev for x in w) or ev[-1] != (i, "DONE") or
         ev.index(w[0]) > ev.index(w[1]))' one.out "$GATED"
expect_exit 0 "watch ID of a final execution ends at once" \
	timeout 10 "$PIPECTL" --socket "$SOCK" watch "$GATED" --json
expect_exit 4 "watch of an unknown execution is exit 4" \
	timeout 10 "$PIPECTL" --socket "$SOCK" watch 99999

# --- wait -------------------------------------------------------------------------
newdir wait
printf 'name: w-ok\ntasks:\n  t: {run: "while [ ! -e go ]; do sleep 0.05; done"}\n' >ok.yaml
printf 'name: w-bad\ntasks:\n  t: {run: "exit 1"}\n' >bad.yaml
submit ok.yaml
OKID=$ID
timeout 30 "$PIPECTL" --socket "$SOCK" wait "$OKID" >wait.out 2>&1 &
WAITER=$!
check "wait: blocks while the execution runs" sh -c \
	'sleep 0.3; kill -0 "$1" && test "$2" = RUNNING' sh "$WAITER" "$(sx "$OKID" 'd["status"]')"
touch go
set +e
wait "$WAITER"
rc=$?
set -e
check "wait: exit 0 once it ends DONE" is 0 "$rc"
check "wait: one line with id, pipeline and status" grep -q "^$OKID .*w-ok.*DONE" wait.out
run_exec bad.yaml
expect_exit 1 "wait: exit 1 for an execution that ended otherwise" pctl wait "$ID"
expect_exit 4 "wait: exit 4 for an unknown id" pctl wait 99999
expect_exit 2 "wait: exit 2 without an id" pctl wait

# --- status -----------------------------------------------------------------------
expect_exit 0 "status --json" pctl status --json
check "status: nothing running, queued or unfinished; every execution counted" \
	is "0 0 0 $ID" "$(jpy "$TMP/out" '"%d %d %d %d" % (d["running"], d["queued"], d["unfinished"], d["executions"])')"
check "status: the daemon's pid, socket and state directory" \
	is "$DAEMON_PID $SOCK $STATE" "$(jpy "$TMP/out" '"%d %s %s" % (d["pid"], d["socket"], d["state_dir"])')"

finish
