#!/bin/sh
# The configuration file: every error at once as FILE:LINE, refused modes,
# the command line over the file, queue limits from [queue NAME], reload by
# SIGHUP and by `pipectl reload` (what changes, what waits for a restart,
# a bad file changing nothing), and the per-user limit on unfinished
# executions.
. "$(dirname "$0")/lib.sh"
need python3
set -e

# status_field KEY: a field of `pipectl status --json`.
status_field() {
	pctl status --json >"$TMP/status.json" &&
	    python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' \
	    "$TMP/status.json" "$1"
}

# --- every error at once ---------------------------------------------------
cat >bad.conf <<'EOF'
# a comment
socket = relative/sock
max_paralel = 4
max_parallel = 0
journal_sync = sometimes

  indented = 1
a line without equals
max_parallel = 3
[queue]
max_parallel = 2
[queue render]
max_parallel = many
limit = 3
[two words]
k = v
retention_days = 10
EOF
chmod 600 bad.conf
expect_exit 2 "a bad configuration file: exit 2" \
	"$PIPELINED" --foreground --config "$TMP/bad.conf" --socket "$SOCK" \
	--state-dir "$STATE"
for want in \
	"bad.conf:2: socket 'relative/sock' is not an absolute path" \
	"bad.conf:3: unknown setting 'max_paralel' (did you mean 'max_parallel'?)" \
	"bad.conf:4: max_parallel '0': must be 1 to 100000" \
	"bad.conf:5: journal_sync 'sometimes': must be batch, always or off" \
	"bad.conf:7: indented line" \
	"bad.conf:8: expected KEY = VALUE or [SECTION]" \
	"bad.conf:9: 'max_parallel' given twice" \
	"bad.conf:11: [queue] needs a name" \
	"bad.conf:13: [queue render] max_parallel: 'many'" \
	"bad.conf:14: unknown setting 'limit' in [queue render]" \
	"bad.conf:16: unknown section [two words]"; do
	check "error reported: $want" grep -qF "$want" "$TMP/err"
done
check "every error at once, each once (11 lines)" is 11 "$(wc -l <"$TMP/err")"
check "nothing created on a bad file" test ! -e "$STATE"

printf 'max_parallel = 2\n' >ww.conf
chmod 666 ww.conf
expect_exit 2 "a world-writable configuration file is refused" \
	"$PIPELINED" --foreground --config "$TMP/ww.conf" --socket "$SOCK" \
	--state-dir "$STATE"
check "  and says why" grep -q "ww.conf: refused: writable by others (mode 0666)" "$TMP/err"
expect_exit 2 "a missing --config file is an error" \
	"$PIPELINED" --foreground --config "$TMP/nonexistent.conf" \
	--socket "$SOCK" --state-dir "$STATE"
check "  naming the file" grep -q "nonexistent.conf: No such file" "$TMP/err"

printf '[nosuchrunner]\nurl = x\n' >runner.conf
expect_exit 2 "a section for a runner that does not exist: exit 2" \
	"$PIPELINED" --foreground --config "$TMP/runner.conf" --socket "$SOCK" \
	--state-dir "$STATE" --runner-dir "$TMP"
check "  naming file and line" \
	grep -q "runner.conf:2: \[nosuchrunner\]: no runner named" "$TMP/err"

expect_exit 2 "command-line values are checked as the file's are" \
	"$PIPELINED" --foreground --config "$CONF" --max-parallel 0
check "  with the same words" \
	grep -q -- "--max-parallel '0': must be 1 to 100000" "$TMP/err"

# The sample file, every setting uncommented, is valid (admin_group and the
# celery section need a group and a plugin this machine may not have).
sed 's/^# \([a-z_]* = \)/\1/; s/^# \[queue/[queue/' \
	"$EXAMPLES/pipelined.conf" | grep -v '^admin_group\|^broker' >sample.conf
check "examples/pipelined.conf, uncommented, is valid" \
	"$PIPELINED" --config "$TMP/sample.conf" --verify --state-dir "$TMP/s2"
check "  (and sets what it shows)" grep -q '^max_parallel = 8' sample.conf

# --- the command line over the file ------------------------------------------
cat >"$CONF" <<EOF
max_parallel = 2
retention_days = 7
max_pending_per_user = 2

[queue serial]
max_parallel = 1
EOF
daemon_start --max-parallel 5
check "the command line wins over the file (max_parallel 5)" \
	is 5 "$(status_field max_parallel)"

# --- [queue NAME] from the file ----------------------------------------------
newdir queue
cat >q.yaml <<'EOF'
name: serial
tasks:
  a: {run: 'mkdir ../lock && sleep 0.3 && rmdir ../lock', queue: serial, iterate: [1, 2, 3, 4]}
EOF
run_exec q.yaml
check "[queue serial] max_parallel = 1: instances never overlap" \
	is DONE "$(sx "$ID" 'd["status"]')"

# --- the per-user limit on unfinished executions ------------------------------
newdir pending
cat >slow.yaml <<'EOF'
name: slow
tasks:
  a: {run: 'sleep 30'}
EOF
submit slow.yaml
A=$ID
submit slow.yaml
B=$ID
expect_exit 1 "a third unfinished execution is refused (max_pending_per_user 2)" \
	pctl run slow.yaml
check "  with a clear message" grep -q "max_pending_per_user" "$TMP/err"
check "  and nothing created (the queue run, A and B)" \
	is 3 "$(status_field executions)"
pctl cancel "$A" >/dev/null
wait_exec "$A" || :
submit slow.yaml
C=$ID
check "once one is final another is accepted" test "$C" -gt "$B"
pctl cancel "$B" >/dev/null
pctl cancel "$C" >/dev/null
wait_exec "$B" || :
wait_exec "$C" || :

# --- reload --------------------------------------------------------------------
daemon_stop
daemon_start
check "from the file: max_parallel 2" is 2 "$(status_field max_parallel)"
sed -i 's/^max_parallel = 2/max_parallel = 4/' "$CONF"
expect_exit 0 "pipectl reload" pctl reload
check "  says what it did" grep -q "max_parallel 4" "$TMP/out"
check "  and it took effect" is 4 "$(status_field max_parallel)"

sed -i 's/^max_parallel = 4/max_parallel = 6/' "$CONF"
kill -HUP "$DAEMON_PID"
status_is() {
	[ "$(status_field "$1")" = "$2" ]
}
check "SIGHUP reloads too" wait_for status_is max_parallel 6
check "  and logs it" grep -q "reloaded .*max_parallel 6" "$DAEMON_LOG"

sed -i 's/^max_parallel = 6/journal_sync = off\nmax_parallel = 3/' "$CONF"
expect_exit 0 "a reload with a setting bound at start" pctl reload
check "  names what waits for a restart" \
	grep -q "kept until a restart: journal_sync" "$TMP/out"
check "  and applies the rest" is 3 "$(status_field max_parallel)"

# max_frame raised by a reload holds for connections already open: one
# connected before sends a frame between the old and the new limit.
sed -i '1i max_frame = 64K' "$CONF"
expect_exit 0 "a reload lowering max_frame to 64K" pctl reload
cat >"$TMP/frame.py" <<'EOF'
import os, sys, time
from rawclient import connect, frame, pack, reply
s = connect(sys.argv[1], timeout=20)
while not os.path.exists(sys.argv[2]):
    time.sleep(0.05)
body = pack({"v": 1, "id": 7, "op": "hello", "pad": b"p" * 100000})
s.sendall(frame(body))
r = reply(s)
sys.exit(0 if r is not None and r.get("id") == 7 and r.get("ok") else 1)
EOF
PYTHONPATH="$top_srcdir/tests/e2e" python3 "$TMP/frame.py" "$SOCK" \
    "$TMP/frame.go" &
FRAMEPY=$!
sed -i 's/^max_frame = 64K$/max_frame = 1M/' "$CONF"
sleep 0.5
expect_exit 0 "a reload raising max_frame to 1M" pctl reload
touch "$TMP/frame.go"
check "  a connection opened before sends a 100 KB frame: answered" \
	wait "$FRAMEPY"
pctl status --json >"$TMP/status.json"
check "  the journal is still synced as at start" \
	is batch "$(jpy "$TMP/status.json" 'd["journal"]["sync"]')"

sed -i '1i max_parallel = lots' "$CONF"
expect_exit 1 "a reload of a bad file fails" pctl reload
check "  naming file and line" grep -q "pipelined.conf:.*max_parallel 'lots'" \
	"$TMP/err"
check "  and changes nothing" is 3 "$(status_field max_parallel)"
newdir after
run_exec "$EXAMPLES/hello.yaml"
check "the daemon runs on after a failed reload" \
	is DONE "$(sx "$ID" 'd["status"]')"

finish
