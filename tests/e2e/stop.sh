#!/bin/sh
# Restart and stop at scale (docs/reliability.md, T13 and T14), beside the
# small cases of journal_crash.sh (kill -9 with a few tasks running) and
# concurrency.sh (SIGTERM with a few tasks running):
#
#  - kill -9 with 50 tasks running, some of them in their second attempt:
#    after the restart all 50 are RUNTIME_ERROR "interrupted: daemon
#    restarted", none RUNNING, none run again (each side file holds one
#    line per journaled attempt), no old task process alive;
#  - SIGTERM while tasks run and clients submit: exit 0 within the longest
#    kill_grace + 1 s, the journal's last record CLEAN_SHUTDOWN (--verify),
#    the running task results CANCELLED "daemon stopping", every
#    acknowledged submission there; a second daemon started during the
#    stop exits 100 and leaves the lock alone (journal_damage.sh checks
#    that it leaves every journal file alone too).
. "$(dirname "$0")/lib.sh"
need python3
set -e

# nlines FILE: its line count (0 when missing).
nlines() {
	if [ -f "$1" ]; then
		wc -l <"$1" | tr -d ' '
	else
		echo 0
	fi
}

# --- kill -9 with 50 tasks running (T13) ----------------------------------------
daemon_start --max-parallel 64
newdir kill9
# Each appends its pid to side.INDEX at every attempt; items "r" fail
# their first attempt, so that they are in their second at the kill;
# items "g" leave a setsid grandchild (its pid in grand.INDEX).
cat >p.yaml <<EOF
name: fifty
iterate: [$(i=0; while [ $i -lt 50 ]; do
	case $((i % 5)) in 0) printf 'r' ;; 1) printf 'g' ;; *) printf 's' ;; esac
	i=$((i + 1)); [ $i -lt 50 ] && printf ', '; done)]
tasks:
  t:
    retries: 1
    retry_delay: 250ms
    run: |
      echo \$\$ >>side.\$PIPELINE_RESULT_INDEX
      case \$PIPELINE_OBJECT in
      r) [ "\$PIPELINE_ATTEMPT" -gt 1 ] || exit 3 ;;
      g) setsid sleep 60 & echo \$! >grand.\$PIPELINE_RESULT_INDEX ;;
      esac
      echo \$PIPELINE_ATTEMPT >>attempt.\$PIPELINE_RESULT_INDEX
      exec sleep 60
EOF
submit p.yaml
FIFTY=$ID
all_running() {
	[ "$(cat attempt.* 2>/dev/null | wc -l)" -eq 50 ]
}
check "kill -9: 50 tasks running (10 in their second attempt, 10 with a grandchild)" \
	wait_for -t 60 all_running
TASK_PIDS=$(pids_in side.* grand.*)
kill -KILL "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null || :
DAEMON_PID=
daemon_start --max-parallel 64
wait_exec "$FIFTY" 60 || :
check "kill -9: all 50 RUNTIME_ERROR 'interrupted: daemon restarted'" \
	is "50 RUNTIME_ERROR interrupted: daemon restarted" \
	"$(sx "$FIFTY" '" ".join(sorted(set("%d %s %s" % (len(d["results"]), r["tasks"][0]["instances"][0]["status"], r["tasks"][0]["instances"][0]["message"]) for r in d["results"])))')"
check "kill -9: nothing left RUNNING" is 0 \
	"$(pctl list --status RUNNING --json >running.json && jpy running.json 'len(d)')"
# shellcheck disable=SC2016
check "kill -9: no task ran again: each side file holds one line per journaled attempt" \
	is "" "$(sx "$FIFTY" '" ".join("%d:%d/%d" % (r["index"], len(open("side.%d" % r["index"]).read().split()), r["tasks"][0]["instances"][0]["attempts"]) for r in d["results"] if len(open("side.%d" % r["index"]).read().split()) != r["tasks"][0]["instances"][0]["attempts"])')"
check "kill -9: the retried ones were in their second attempt" is "10" \
	"$(sx "$FIFTY" 'len([r for r in d["results"] if r["tasks"][0]["instances"][0]["attempts"] == 2])')"
# shellcheck disable=SC2086
check "kill -9: no old task process alive (grandchildren included)" \
	wait_for -t 10 all_dead $TASK_PIDS
sleep 1
# shellcheck disable=SC2016
check "kill -9: and still none ran again a second later" \
	is "" "$(sx "$FIFTY" '" ".join(str(r["index"]) for r in d["results"] if len(open("side.%d" % r["index"]).read().split()) != r["tasks"][0]["instances"][0]["attempts"])')"

# --- SIGTERM under load (T14) -------------------------------------------------------
newdir term
# Long tasks: plain, with a setsid grandchild, and stubborn ones that
# ignore SIGTERM (killed at their 2 s kill_grace, the longest here).
cat >long.yaml <<'EOF'
name: long
iterate: [plain, plain, plain, plain, tree, tree, stubborn, stubborn]
tasks:
  t:
    kill_grace: 2s
    run: |
      echo $$ >pid.$PIPELINE_RESULT_INDEX
      case $PIPELINE_OBJECT in
      tree) setsid sleep 60 & echo $! >grand.$PIPELINE_RESULT_INDEX ;;
      stubborn) trap '' TERM ;;
      esac
      while :; do sleep 0.1; done
EOF
cat >short.yaml <<'EOF'
name: short
ordering: {}
tasks:
  a: {run: 'sleep 0.$(($$ % 3))', kill_grace: 2s}
  b: {run: 'exit $(($$ % 2))', kill_grace: 2s}
EOF
submit long.yaml
LONG=$ID
# client N: submit until told to stop, logging every acknowledged id.
client() {
	set +e
	while [ ! -e stop ]; do
		if _id=$(pctl run short.yaml 2>/dev/null); then
			echo "$_id" >>"acks.$1"
		else
			sleep 0.05
		fi
	done
}
cpids=
for c in 1 2 3 4; do
	: >"acks.$c"
	client $c &
	cpids="$cpids $!"
done
long_running() {
	[ "$(cat pid.* grand.* 2>/dev/null | wc -l)" -eq 10 ]
}
check "SIGTERM: 8 long tasks running (2 with a grandchild, 2 ignoring SIGTERM)" \
	wait_for -t 60 long_running
acked() {
	[ "$(cat acks.* | wc -l)" -ge 20 ]
}
check "SIGTERM: clients submitting meanwhile (20 acknowledged)" wait_for -t 60 acked
TASK_PIDS=$(pids_in pid.* grand.*)
STOPPING=$DAEMON_PID
DAEMON_PID=
mtime_lock() {
	stat -c '%s %.9Y' "$STATE/lock"
}
LOCK0=$(mtime_lock)
t0=$(now_cs)
kill -TERM "$STOPPING"
# A second daemon while the first one stops (its stubborn tasks hold it
# for their kill_grace).
# (Bounded: were the first one gone already, it would start and stay.)
alive_then=false
if proc_alive "$STOPPING"; then
	alive_then=true
fi
set +e
timeout 20 "$PIPELINED" --foreground --config "$CONF" --socket "$TMP/sock2" \
    --state-dir "$STATE" >second.out 2>second.err
rc=$?
set -e
wait_for -t 30 proc_dead "$STOPPING" || :
t1=$(now_cs)
set +e
wait "$STOPPING"
rc1=$?
set -e
touch stop
for p in $cpids; do
	wait "$p" || :
done
echo "SIGTERM: the daemon exited after $(((t1 - t0) * 10)) ms (status $rc1);" \
	"load average $(cut -d ' ' -f 1-3 /proc/loadavg)"
check "SIGTERM: exit status 0" is 0 "$rc1"
check "SIGTERM: exit within the longest kill_grace (2 s) + 1 s" test $((t1 - t0)) -le 300
if $alive_then; then
	check "SIGTERM: a second daemon started during the stop exits 100" is 100 "$rc"
	check "  (saying who holds the lock)" grep -q "in use by another pipelined (pid $STOPPING)" second.err
else
	skip "SIGTERM: a second daemon started during the stop exits 100" \
	    "the first one was gone before the second started"
fi
check "SIGTERM: the lock file untouched by the second daemon" is "$LOCK0" "$(mtime_lock)"
# shellcheck disable=SC2086
check "SIGTERM: no task process left (grandchildren included)" wait_for -t 5 all_dead $TASK_PIDS
expect_exit 0 "SIGTERM: --verify: no damage" "$PIPELINED" --verify --state-dir "$STATE"
check "SIGTERM: --verify: the last record is CLEAN_SHUTDOWN, nothing unfinished" \
	sh -c 'grep -qx "last run stopped cleanly" "$1" && grep -q "(0 unfinished)" "$1"' sh "$TMP/out"
daemon_start
check "SIGTERM: the running task results CANCELLED 'daemon stopping'" \
	is "8 CANCELLED daemon stopping" \
	"$(sx "$LONG" '" ".join(sorted(set("%d %s %s" % (len(d["results"]), r["tasks"][0]["instances"][0]["status"], r["tasks"][0]["instances"][0]["message"]) for r in d["results"])))')"
check "SIGTERM: the execution CANCELLED" is CANCELLED "$(sx "$LONG" 'd["status"]')"
pctl list --limit 1000000 --json >list.json
check "SIGTERM: every acknowledged submission is there and final" python3 -c '
import json, sys
st = dict((e["id"], e["status"]) for e in json.load(open("list.json")))
acked = [int(l) for f in sys.argv[1:] for l in open(f) if l.strip()]
bad = [(i, st.get(i)) for i in acked if st.get(i) not in ("DONE", "RUNTIME_ERROR", "CANCELLED")]
print("  %d acknowledged, %d not there or not final%s" % (len(acked), len(bad), bad[:5] and ": %s" % bad[:5] or ""))
sys.exit(1 if bad else 0)' acks.*

finish
