#!/bin/sh
# sd_notify (docs/systemd.md), against a listener that stands in for systemd
# on NOTIFY_SOCKET: READY=1 only once the journal is replayed and the socket
# answers, STATUS= with the running and queued counts and at most once a
# second, RELOADING=1 then READY=1 on SIGHUP, STOPPING=1 on SIGTERM; each
# from the service's main process, a detaching daemon included.
. "$(dirname "$0")/lib.sh"
need python3
set -e
# Only the daemons this test points at the listener notify anyone.
unset NOTIFY_SOCKET

# The listener: one line per datagram in $NLOG, "PID SECONDS TEXT" (the
# sender's pid from SCM_CREDENTIALS, monotonic time, the lines joined with
# "|").  At the first READY=1 it runs `pipectl status` and
# `pipectl list --json` at once and logs their outcome as "# status RC N"
# (N: executions listed): that is what a unit ordered after us would see.
cat >"$TMP/listen.py" <<'EOF'
import os, socket, struct, subprocess, sys, time
path, log, pipectl, sock = sys.argv[1:5]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
s.bind(path)
s.settimeout(1)
out = open(log, "a", buffering=1)
ready_seen = False
end = time.monotonic() + 300       # stops by itself
while time.monotonic() < end:
    try:
        data, anc, _, _ = s.recvmsg(4096, socket.CMSG_SPACE(12))
    except socket.timeout:
        continue
    pid = -1
    for level, kind, cdata in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
            pid = struct.unpack("iII", cdata[:12])[0]
    text = data.decode(errors="replace").strip("\n").replace("\n", "|")
    out.write("%d %.3f %s\n" % (pid, time.monotonic(), text))
    if not ready_seen and "READY=1" in text.split("|"):
        ready_seen = True
        st = subprocess.run([pipectl, "--socket", sock, "status"],
                            capture_output=True, timeout=10)
        ls = subprocess.run([pipectl, "--socket", sock, "list", "--json"],
                            capture_output=True, timeout=10)
        n = ls.stdout.decode().count('"id"') if ls.returncode == 0 else -1
        out.write("# status %d %d\n" % (st.returncode, n))
EOF

NSOCK="$TMP/notify.sock"
NLOG="$TMP/notify.log"
LISTENER=

# listen: start the listener on a fresh socket and log.
listen() {
	stop_listening
	rm -f "$NSOCK" "$NLOG"
	: >"$NLOG"
	python3 "$TMP/listen.py" "$NSOCK" "$NLOG" "$PIPECTL" "$SOCK" &
	LISTENER=$!
	wait_for test -S "$NSOCK"
}

stop_listening() {
	if [ -n "$LISTENER" ]; then
		kill "$LISTENER" 2>/dev/null || :
		wait "$LISTENER" 2>/dev/null || :
		LISTENER=
	fi
}

# got PATTERN: a datagram (its "|"-joined text) matches the grep pattern.
got() {
	grep -v '^#' "$NLOG" | cut -d' ' -f3- | grep -q -- "$1"
}

# senders: the distinct pids datagrams came from.
senders() {
	grep -v '^#' "$NLOG" | cut -d' ' -f1 | sort -u | tr '\n' ' ' |
	    sed 's/ $//'
}

# --- a state directory with history to replay ------------------------------
daemon_start
newdir fill
printf 'name: quick\ntasks:\n  t: {run: "true"}\n' >quick.yaml
i=0
while [ $i -lt 20 ]; do
	submit quick.yaml
	i=$((i + 1))
done
wait_exec "$ID" || :
daemon_stop

# --- READY after the replay, once the socket answers ----------------------
listen
NOTIFY_SOCKET=$NSOCK
export NOTIFY_SOCKET
daemon_start --max-parallel 2
unset NOTIFY_SOCKET
MAIN=$DAEMON_PID
check "READY=1 arrives" wait_for got '^READY=1|STATUS='
check "READY=1 arrives once" is 1 "$(grep -c 'READY=1' "$NLOG")"
check "READY=1 carries a STATUS= with the counts" \
	got '^READY=1|STATUS=0 running, 0 queued$'
check "at READY=1 pipectl status answers at once" \
	wait_for grep -q '^# status 0 ' "$NLOG"
check "at READY=1 the journal is replayed: all 20 executions are listed" \
	grep -q '^# status 0 20$' "$NLOG"

# --- STATUS= follows the counts, at most once a second --------------------
newdir status
printf 'name: slow\ntasks:\n  t: {run: "sleep 3"}\n' >slow.yaml
submit slow.yaml
SLOW=$ID
check "STATUS= says a task runs" wait_for got '^STATUS=1 running, 0 queued$'
wait_exec "$SLOW" || :
check "STATUS= says when nothing runs again" \
	wait_for sh -c 'tail -n 1 "$1" | grep -q "STATUS=0 running, 0 queued$"' \
	sh "$NLOG"
# A burst: 40 executions of a 0.2 s task, two at a time: the counts
# change some 120 times in about 4 s.
printf 'name: short\ntasks:\n  t: {run: "sleep 0.2"}\n' >short.yaml
BEFORE=$(grep -c 'STATUS=' "$NLOG")
T0=$(now_cs)
i=0
while [ $i -lt 40 ]; do
	submit short.yaml
	i=$((i + 1))
done
wait_exec "$ID" || :
check "STATUS= settles on 0 running, 0 queued after the burst" \
	wait_for -t 5 sh -c 'tail -n 1 "$1" | grep -q "STATUS=0 running, 0 queued$"' \
	sh "$NLOG"
SECS=$(( ($(now_cs) - T0) / 100 + 2 ))
SENT=$(( $(grep -c 'STATUS=' "$NLOG") - BEFORE ))
check "STATUS= follows the burst: $SENT updates in about $SECS s" \
	test "$SENT" -ge 2
check "STATUS= is rate-limited: $SENT updates, not more than $SECS" \
	test "$SENT" -le "$SECS"
check "STATUS= showed queued executions during the burst" \
	got '^STATUS=2 running, [1-9][0-9]* queued$'
check "consecutive STATUS= updates are about a second apart or more" python3 -c '
import sys
t = [float(l.split()[1]) for l in open(sys.argv[1])
     if not l.startswith("#") and l.split()[2].startswith("STATUS=")]
gaps = [b - a for a, b in zip(t, t[1:])]
sys.exit(0 if all(g >= 0.8 for g in gaps) else
         print("gaps:", ["%.3f" % g for g in gaps]) or 1)' "$NLOG"

# --- SIGHUP: RELOADING=1, then READY=1 -------------------------------------
kill -HUP "$MAIN"
check "SIGHUP: RELOADING=1 with MONOTONIC_USEC" \
	wait_for got '^RELOADING=1|MONOTONIC_USEC=[0-9][0-9]*$'
check "SIGHUP: READY=1 after RELOADING=1" \
	wait_for sh -c 'grep -v "^#" "$1" | cut -d" " -f3- |
	    sed -n "/^RELOADING=1/,\$p" | grep -q "^READY=1"' sh "$NLOG"
expect_exit 0 "after the reload the daemon still answers" pctl status

# --- SIGTERM: STOPPING=1 ---------------------------------------------------
newdir stop
printf 'name: long\ntasks:\n  t: {run: "sleep 30"}\n' >long.yaml
submit long.yaml
wait_for got '^STATUS=1 running'
daemon_stop
check "SIGTERM: STOPPING=1 arrives" got '^STOPPING=1'
check "SIGTERM: STOPPING=1 says it is stopping in STATUS=" \
	got '^STOPPING=1|STATUS=stopping: '
check "every notification came from the daemon's own pid" \
	is "$MAIN" "$(senders)"

# --- a detaching daemon: its parent says READY=1 and names the child ------
listen
rm -f "$SOCK"
NOTIFY_SOCKET=$NSOCK "$PIPELINED" --socket "$SOCK" --state-dir "$STATE" \
	>>"$DAEMON_LOG" 2>&1 &
PARENT=$!
set +e
wait "$PARENT"
RC=$?
set -e
check "detaching: the parent exits 0 once the daemon is ready" is 0 "$RC"
CHILD=$(pctl status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])')
check "detaching: READY=1 comes from the parent, naming the daemon MAINPID" \
	wait_for grep -q "^$PARENT [0-9.]* READY=1|MAINPID=$CHILD\$" "$NLOG"
check "detaching: pipectl status answered at READY=1" \
	grep -q '^# status 0 ' "$NLOG"
check "detaching: then STATUS= from the daemon itself" \
	wait_for grep -q "^$CHILD [0-9.]* STATUS=0 running, 0 queued\$" "$NLOG"
kill -TERM "$CHILD"
check "detaching: STOPPING=1 from the daemon" \
	wait_for grep -q "^$CHILD [0-9.]* STOPPING=1" "$NLOG"
check "detaching: the daemon exits" wait_for -t 15 proc_dead "$CHILD"
check "detaching: only the parent and the daemon notified" \
	is "$(printf '%s\n' "$PARENT" "$CHILD" | sort -u | tr '\n' ' ' |
	    sed 's/ $//')" "$(senders)"

# --- without NOTIFY_SOCKET nothing is sent ---------------------------------
listen
daemon_start
kill -HUP "$DAEMON_PID"
daemon_stop
check "without NOTIFY_SOCKET no notification is sent" test ! -s "$NLOG"

stop_listening
finish
