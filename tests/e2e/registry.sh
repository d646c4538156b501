#!/bin/sh
# Registered pipelines (docs/configuration.md, docs/pipeline-format.md): the
# pipelines directory, read at start and on reload (pipelines_dir may
# change); valid, invalid (every error as FILE:LINE:COL), refused
# (group-writable) files and two files of one name; pipectl run NAME, an
# unknown or refused name (exit 4), an invalid one recording a CONFIG_ERROR
# execution; pipectl pipelines and its digest (runs, last status, success
# rate; a file of the same name not counted), surviving a restart; graph
# NAME; an edit picked up by reload and by SIGHUP while an execution started
# before keeps its definition; and, as root, user: (a non-administrator may
# not run another user's pipeline, root and that user may, and the tasks
# really run as it).
. "$(dirname "$0")/lib.sh"
need python3
set -e

PD="$TMP/pipelines.d"
mkdir "$PD"
chmod 755 "$PD"

# pl NAME EXPR: EXPR on the `pipectl pipelines --json` entry of NAME (e;
# None when there is none), d being the whole list; printed as jpy does.
pl() {
	pctl pipelines --json >"$TMP/pl.json" || return 1
	python3 - "$TMP/pl.json" "$1" "$2" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
es = [e for e in d if e["name"] == sys.argv[2]]
e = es[0] if es else None
v = eval(sys.argv[3])
print(v if isinstance(v, str) else json.dumps(v, sort_keys=True))
EOF
}

# pl_is NAME EXPR WANT: pl gives WANT (for wait_for).
pl_is() {
	[ "$(pl "$1" "$2")" = "$3" ]
}

# --- a missing directory, then the one of the configuration -------------
printf 'pipelines_dir = %s/none\n' "$TMP" >"$CONF"
daemon_start
expect_exit 0 "pipelines: a missing directory is no error" pctl pipelines
check "  and an empty registry" grep -q "^no registered pipelines" "$TMP/out"
check "  (--json: [])" is "[]" "$(pctl pipelines --json)"
check "  said at start" grep -q "0 registered pipelines in $TMP/none" \
	"$DAEMON_LOG"

cat >"$PD/flaky.yaml" <<'EOF'
name: flaky
description: exits with the code it is given
tasks:
  work:
    run: 'exit "${PIPELINE_INPUT_CODE:-0}"'
EOF
cat >"$PD/chain.yaml" <<'EOF'
name: chain
tasks:
  a: {run: 'true'}
  b: {run: 'true', parents: [a]}
  c: {run: 'true', parents: [a]}
EOF
cat >"$PD/broken.yaml" <<'EOF'
name: broken
tasks:
  a:
    run: 'true'
    parents: [nope]
    colour: red
EOF
cat >"$PD/loose.yaml" <<'EOF'
name: loose
tasks: {a: {run: 'true'}}
EOF
chmod 664 "$PD/loose.yaml"
printf 'name: twin\ntasks: {a: {run: "true"}}\n' >"$PD/twin1.yaml"
printf '# the same name\nname: twin\ntasks: {b: {run: "true"}}\n' \
	>"$PD/twin2.yaml"
printf 'name: notes\ntasks: {a: {run: "true"}}\n' >"$PD/notes.txt"
printf 'pipelines_dir = %s\n' "$PD" >"$CONF"
expect_exit 0 "reload reads the new pipelines_dir" pctl reload
check "  and says what it found" grep -qF \
	"6 registered pipelines in $PD (2 valid, 3 invalid, 1 refused)" \
	"$TMP/out"

# --- what the registry holds ------------------------------------------------
check "valid: flaky, with its description and task count" \
	is "valid 1 exits with the code it is given" \
	"$(pl flaky '"%s %d %s" % (e["status"], e["tasks"], e["description"])')"
check "  and its file" is "$PD/flaky.yaml" "$(pl flaky 'e["file"]')"
check "invalid: broken, with every error as FILE:LINE:COL" \
	is 'false invalid 2' \
	"$(pl broken '"%s %s %d" % (json.dumps(e["valid"]), e["status"], len(e["errors"]))')"
check "  the unknown parent" like "$PD/broken.yaml:5:*nope*" \
	"$(pl broken 'e["errors"][0]')"
check "  the unknown key" like "$PD/broken.yaml:6:5:*colour*" \
	"$(pl broken 'e["errors"][1]')"
check "refused: a group-writable file" is refused "$(pl loose 'e["status"]')"
check "  with the reason" like "$PD/loose.yaml: refused: writable by its group*" \
	"$(pl loose 'e["errors"][0]')"
check "one name in two files: both invalid" is "invalid invalid" \
	"$(pl twin '" ".join(x["status"] for x in d if x["name"] == "twin")')"
check "  each naming the other" like \
	"$PD/twin1.yaml:1:7: name 'twin' is also given by $PD/twin2.yaml*" \
	"$(pl twin 'e["errors"][0]')"
check "only *.yaml files are read" is null "$(pl notes 'e')"
expect_exit 0 "pipelines: a table" pctl pipelines
check "  with a header" grep -q "^NAME *STATUS *RUNS *LAST *SUCCESS *FILE" \
	"$TMP/out"
check "  an invalid one followed by its errors" \
	sh -c 'grep -A2 "^broken *invalid" "$1" | grep -q "^    $2/broken.yaml:5:"' \
	sh "$TMP/out" "$PD"
check "  a refused one too" \
	sh -c 'grep -A1 "^loose *refused" "$1" | grep -q "^    .*writable by its group"' \
	sh "$TMP/out"

# --- running by name and the digest -------------------------------------------
newdir runs
check "no runs yet" is '{"last_execution": null, "last_run": null, "last_status": null, "runs": 0, "success_rate": null}' \
	"$(pl flaky 'e["digest"]')"
expect_exit 0 "run NAME --wait: DONE" pctl run flaky --input code=0 --wait
OK_ID=$(head -n 1 "$TMP/out")
expect_exit 1 "run NAME --wait: a failure" pctl run flaky --input code=3 --wait
FAIL_ID=$(head -n 1 "$TMP/out")
check "  it is a registered run" is "flaky RUNTIME_ERROR" \
	"$(sx "$FAIL_ID" '"%s %s" % (d["registered"], d["status"])')"
check "digest: 2 runs, the last failed, 50% succeeded" \
	is "2 RUNTIME_ERROR $FAIL_ID 0.5" \
	"$(pl flaky '"%d %s %d %s" % (e["digest"]["runs"], e["digest"]["last_status"], e["digest"]["last_execution"], e["digest"]["success_rate"])')"
check "  last_run is the last submission (RFC 3339 UTC)" \
	is "$(sx "$FAIL_ID" 'd["submitted"]')" "$(pl flaky 'e["digest"]["last_run"]')"
pctl pipelines >pipelines.out
check "  the table says so" \
	grep -q "^flaky *valid *2 *RUNTIME_ERROR [0-9-]* [0-9:]* *50% *$PD/flaky.yaml" \
	pipelines.out
cp "$PD/flaky.yaml" flaky-copy.yaml
run_exec flaky-copy.yaml
check "a file of the same name is not a registered run" \
	is "None 2" "$(sx "$ID" 'str(d.get("registered"))') $(pl flaky 'e["digest"]["runs"]')"
expect_exit 4 "run: an unknown name is exit 4" pctl run no-such-pipeline
check "  saying so" grep -q "no registered pipeline named 'no-such-pipeline'" \
	"$TMP/err"
expect_exit 4 "run: a refused one is exit 4" pctl run loose
check "  saying why" grep -q "writable by its group" "$TMP/err"
expect_exit 2 "run: a missing file is still a file (.yaml)" pctl run flaky.yaml
expect_exit 1 "run: an invalid one records an execution that fails" \
	pctl run broken --wait
BROKEN_ID=$(head -n 1 "$TMP/out")
check "  CONFIG_ERROR" is CONFIG_ERROR "$(sx "$BROKEN_ID" 'd["status"]')"
check "  with its errors as FILE:LINE:COL" \
	like "registered pipeline broken is not valid (2 errors): $PD/broken.yaml:5:*; $PD/broken.yaml:6:5:*" \
	"$(sx "$BROKEN_ID" 'd["message"]')"
check "  nothing ran" is "[]" "$(sx "$BROKEN_ID" 'd["results"]')"
check "  counted in its digest" is "1 CONFIG_ERROR 0.0" \
	"$(pl broken '"%d %s %s" % (e["digest"]["runs"], e["digest"]["last_status"], e["digest"]["success_rate"])')"
expect_exit 1 "run: a name given twice is CONFIG_ERROR too" pctl run twin --wait
check "  naming both files" like "*twin1.yaml:1:7: name 'twin' is also given by*twin2.yaml*" \
	"$(sx "$(head -n 1 "$TMP/out")" 'd["message"]')"
expect_exit 2 "retry of an invalid run: refused" pctl retry "$BROKEN_ID"
check "  saying to run it again by name" grep -q "run it again by name" \
	"$TMP/err"
expect_exit 1 "retry of a registered run (failing again)" \
	pctl retry "$FAIL_ID" --wait
check "  counts for the pipeline too" is "3 flaky" \
	"$(pl flaky 'e["digest"]["runs"]') $(sx "$(head -n 1 "$TMP/out")" 'd["registered"]')"

# --- graph NAME -------------------------------------------------------------------
expect_exit 0 "graph NAME" pctl graph chain
cp "$TMP/out" graph-name.dot
pctl graph "$PD/chain.yaml" >graph-file.dot
check "  the same graph as of its file" cmp -s graph-name.dot graph-file.dot
check "  with its edges" grep -q '"a" -> "c"' graph-name.dot
expect_exit 2 "graph NAME of an invalid one: exit 2" pctl graph broken
check "  with its errors" grep -q "$PD/broken.yaml:5:" "$TMP/err"
expect_exit 4 "graph NAME: an unknown name is exit 4" pctl graph no-such-pipeline

# --- an edit, reloaded, while a run of the old one goes on -------------------------
newdir edit
cat >"$PD/slow.yaml" <<'EOF'
name: slow
tasks:
  first:
    run: 'while [ ! -e go ]; do sleep 0.05; done; echo v1 >version'
  second:
    run: 'echo v1 >>version'
EOF
expect_exit 0 "reload: a new file" pctl reload
submit slow
OLD=$ID
first_runs() {
	is RUNNING "$(sx "$OLD" 'inst("first")["status"]')" 2>/dev/null
}
check "  the old one runs" wait_for first_runs
cat >"$PD/slow.yaml" <<'EOF'
name: slow
tasks:
  only:
    run: 'echo v2 >version2'
EOF
expect_exit 0 "reload: the edit" pctl reload
check "  the registry has the new definition" is 1 "$(pl slow 'e["tasks"]')"
touch go
wait_exec "$OLD" || :
check "the execution started before keeps its definition" \
	is "DONE first second" \
	"$(sx "$OLD" 'd["status"] + " " + " ".join(t["name"] for t in d["results"][0]["tasks"])')"
check "  and ran it" is "v1 v1" "$(cat version | tr '\n' ' ' | sed 's/ $//')"
run_exec slow
check "a new run has the new one" is "DONE only" \
	"$(sx "$ID" 'd["status"] + " " + " ".join(t["name"] for t in d["results"][0]["tasks"])')"
check "  and ran it" is v2 "$(cat version2)"

printf '# the same name\nname: twin-two\ntasks: {b: {run: "true"}}\n' \
	>"$PD/twin2.yaml"
kill -HUP "$DAEMON_PID"
check "SIGHUP reads the directory again" wait_for pl_is twin 'e["status"]' valid
check "  the renamed one too" is valid "$(pl twin-two 'e["status"]')"
check "  and logs what it read" grep -q "reloaded .*registered pipelines in $PD" \
	"$DAEMON_LOG"
printf 'max_parallel = nope\n' >>"$CONF"
rm "$PD/chain.yaml"
expect_exit 1 "a reload with a bad configuration fails" pctl reload
check "  and leaves the registered pipelines alone" is valid \
	"$(pl chain 'e["status"]')"
sed -i '/^max_parallel = nope$/d' "$CONF"
expect_exit 0 "  until a good one" pctl reload
check "  which drops the removed file" is null "$(pl chain 'e')"

# --- user: --------------------------------------------------------------------------
UA=plra$$
UB=plrb$$
users_made=
drop_users() {
	if [ -n "$users_made" ]; then
		userdel "$UA" 2>/dev/null || :
		userdel "$UB" 2>/dev/null || :
	fi
}
trap '_reg_rc=$?; drop_users; (exit $_reg_rc); cleanup' EXIT

# as USER COMMAND...: run a command as another user.
as() {
	_u=$1
	shift
	setpriv --reuid="$_u" --regid="$_u" --init-groups "$@"
}

if [ "$(id -u)" -ne 0 ]; then
	skip "user: checks" "they need root to create users"
elif ! command -v useradd >/dev/null || ! command -v setpriv >/dev/null; then
	skip "user: checks" "useradd or setpriv is missing"
else
	useradd -M -r -d / -s /bin/sh "$UA"
	users_made=1
	useradd -M -r -d / -s /bin/sh "$UB"
	# Let the test users reach the socket and a directory to work in.
	chmod 755 "$TMP"
	chmod 666 "$SOCK"
	OUT="$TMP/users"
	mkdir "$OUT"
	chmod 1777 "$OUT"
	cd "$OUT"
	cat >"$PD/asuser.yaml" <<EOF
name: asuser
user: $UA
cwd: $OUT
tasks:
  who:
    run: 'id -u >"uid.\$PIPELINE_EXECUTION_ID"; echo "\$USER \$HOME"'
EOF
	cat >"$PD/asroot.yaml" <<'EOF'
name: asroot
user: root
tasks: {who: {run: 'id -u'}}
EOF
	cat >"$PD/asnobody.yaml" <<'EOF'
name: asnobody
user: no-such-user-here
tasks: {who: {run: 'id -u'}}
EOF
	expect_exit 0 "reload with user: pipelines" pctl reload
	check "  user: is listed" is "$UA" "$(pl asuser 'e["user"]')"
	expect_exit 0 "root (an administrator) runs another user's pipeline" \
		pctl run asuser --wait
	ID=$(head -n 1 "$TMP/out")
	check "  its task ran as that user" is "$(id -u "$UA")" "$(cat "uid.$ID")"
	check "  the execution is root's, run as $UA" is "root $UA asuser" \
		"$(sx "$ID" '"%s %s %s" % (d["owner"]["user"], d["run_as"], d["registered"])')"
	expect_exit 4 "a non-administrator may not run it" \
		as "$UB" "$PIPECTL" --socket "$SOCK" run asuser
	check "  forbidden, saying why" grep -q \
		"pipeline asuser runs as user $UA: only administrators and $UA may run it" \
		"$TMP/err"
	expect_exit 4 "  nor one that runs as root" \
		as "$UB" "$PIPECTL" --socket "$SOCK" run asroot
	expect_exit 0 "the user it runs as may run it" \
		as "$UA" "$PIPECTL" --socket "$SOCK" run asuser --wait
	ID=$(head -n 1 "$TMP/out")
	check "  as themselves, owning the execution" is "$(id -u "$UA") $UA" \
		"$(cat "uid.$ID") $(sx "$ID" 'd["owner"]["user"]')"
	expect_exit 0 "a non-administrator runs a pipeline without user:" \
		as "$UB" "$PIPECTL" --socket "$SOCK" run flaky --wait
	ID=$(head -n 1 "$TMP/out")
	check "  as themselves" is "$UB" "$(sx "$ID" 'd["owner"]["user"]')"
	as "$UB" "$PIPECTL" --socket "$SOCK" pipelines --json >ub.json
	check "a user's digest counts only what they may see" is "1 0" \
		"$(jpy ub.json '"%d %d" % ([e for e in d if e["name"] == "flaky"][0]["digest"]["runs"], [e for e in d if e["name"] == "asuser"][0]["digest"]["runs"])')"
	check "  an administrator's counts every run" is "4 2" \
		"$(pl flaky 'e["digest"]["runs"]') $(pl asuser 'e["digest"]["runs"]')"
	expect_exit 1 "user: naming no user: CONFIG_ERROR" pctl run asnobody --wait
	check "  naming the user" like "*no user named 'no-such-user-here'*" \
		"$(sx "$(head -n 1 "$TMP/out")" 'd["message"]')"
	cd "$TMP"
fi

# --- a restart --------------------------------------------------------------------
pl flaky 'e["digest"]' >digest.before
pl broken 'e["digest"]' >>digest.before
daemon_stop
daemon_start
pl flaky 'e["digest"]' >digest.after
pl broken 'e["digest"]' >>digest.after
check "the digest survives a restart" cmp -s digest.before digest.after
check "  (and is not empty)" is 1 "$(pl broken 'e["digest"]["runs"]')"
check "  runs keep their registered name" is flaky "$(sx "$OK_ID" 'd["registered"]')"

drop_users
users_made=
finish
