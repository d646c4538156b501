#!/bin/sh
# Throughput of the Celery runner against plain Celery.  Run from a
# configured (ordinary, non-sanitizer) build tree with celery.so built:
# bench/bench_celery.sh (make bench runs it too).
#
#   N trivial tasks (/bin/true, a fan-out of one task) through pipelined's
#   Celery runner, against the same N tasks sent from Python as a plain
#   Celery group (group(run_task.s(spec) ...).apply_async().get()); both
#   on the same private Redis and the same 2 workers x 2 processes running
#   contrib/celery's module, so the difference is what the daemon costs.
#   ROUNDS pairs, alternating; for each side the best and median wall time
#   (tasks/s), the median of the per-pair ratios, and the CPU time every
#   process involved spent per task (Redis, workers and their commands,
#   the daemon or the Python client): on a shared machine wall times move
#   with the neighbours' load, CPU per task much less.
set -eu
N=${N:-2000}
ROUNDS=${ROUNDS:-5}
PY=${CELERY_PY:-/usr/bin/python3}
builddir=$(pwd)
srcdir=$(cd "$(dirname "$0")/.." && pwd)
if [ ! -f "$builddir/runners/.libs/celery.so" ] ||
    ! command -v redis-server >/dev/null 2>&1 ||
    ! "$PY" -c 'import celery, redis' 2>/dev/null; then
	echo "bench_celery: needs celery.so (hiredis), redis-server and python3-celery; skipped"
	exit 0
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pipelined-bench-celery.XXXXXX")
pids=
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || :; done
	sleep 1
	for p in $pids; do kill -KILL "$p" 2>/dev/null || :; done
	rm -rf "$tmp"
}
trap cleanup EXIT
port=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
broker="redis://127.0.0.1:$port/0"
pipectl() { "$builddir/client/pipectl" --socket "$tmp/sock" "$@"; }

(cd "$tmp" && exec redis-server --bind 127.0.0.1 --port "$port" --save '' \
    --appendonly no --logfile "$tmp/redis.log") &
redis=$!
pids="$pids $redis"
workers=
for w in b1 b2; do
	(cd "$tmp" && PYTHONPATH="$srcdir/contrib/celery" \
	    PYTHONDONTWRITEBYTECODE=1 PIPELINED_CELERY_BROKER="$broker" \
	    exec "$PY" -m celery -A pipelined_worker worker --concurrency 2 \
	    --loglevel WARNING -n "$w@%h" --logfile "$tmp/$w.log" \
	    >"$tmp/$w.out" 2>&1) &
	workers="$workers $!"
done
pids="$pids $workers"
mkdir "$tmp/runners"
cp "$builddir/runners/.libs/celery.so" "$tmp/runners/"
# shellcheck disable=SC2086
"$builddir/daemon/pipelined" --foreground --socket "$tmp/sock" \
    --state-dir "$tmp/state" --runner-dir "$tmp/runners" \
    --runner-option "celery.broker=$broker" --log-level warning \
    ${BENCH_DAEMON_ARGS:-} &
daemon=$!
pids="$pids $daemon"
i=0
until pipectl status >/dev/null 2>&1; do
	i=$((i + 1)); [ $i -lt 100 ] || { echo "daemon did not start" >&2; exit 1; }
	sleep 0.1
done
# Both workers answer a ping.
(cd "$tmp" && PYTHONPATH="$srcdir/contrib/celery" PIPELINED_CELERY_BROKER="$broker" \
    "$PY" -c 'import sys, time
from pipelined_worker import app
for _ in range(60):
    if len(app.control.ping(timeout=1)) >= 2:
        sys.exit(0)
    time.sleep(0.5)
sys.exit("workers did not start")')

# cpu_ticks PID...: CPU ticks (user + system, reaped children included)
# of the processes and their children (the workers' pool processes).
cpu_ticks() {
	for p in "$@"; do
		echo "$p"
		cat "/proc/$p/task/$p/children" 2>/dev/null | tr ' ' '\n'
	done | awk 'NF { f = "/proc/" $1 "/stat"; if ((getline l < f) > 0) {
	    sub(/.*\) /, "", l); split(l, a, " "); t += a[12] + a[13] + a[14] + a[15] }
	    close(f) } END { print t + 0 }'
}
hz=$(getconf CLK_TCK)

{
	echo "name: bench-celery"
	echo "tasks:"
	echo "  t:"
	echo "    argv: [/bin/true]"
	echo "    iterate_command: seq $N"
} >"$tmp/fan.yaml"
{
	echo "name: warm-up"
	echo "tasks:"
	echo "  t: {argv: [/bin/true], iterate_command: seq 40}"
} >"$tmp/warm.yaml"

# The plain Celery side: the same spec the runner sends (argv, the
# environment a task gets, cwd, timeout, limits), as one group.  Prints
# the wall time and its own CPU ticks.
cat >"$tmp/plain.py" <<'EOF'
import os, sys, time
n = int(sys.argv[1])
from celery import group
from pipelined_worker import run_task
env = {k: os.environ[k] for k in ("PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG") if k in os.environ}
env.update(PIPELINE_NAME="bench-celery", PIPELINE_EXECUTION_ID="1", PIPELINE_RESULT_INDEX="0",
           PIPELINE_TASK="t", PIPELINE_ATTEMPT="1", PIPELINE_INPUT="{}")
spec = {"argv": ["/bin/true"], "env": env, "cwd": os.getcwd(), "timeout": None,
        "kill_grace": 10.0, "output_cap": 16777216,
        "limits": {"memory": -1, "cpu_time_ms": -1, "open_files": -1, "processes": -1},
        "attempt": 1}
specs = []
for i in range(n):
    s = dict(spec, address="1/0/t/%d" % i)
    s["env"] = dict(env, TASK_INDEX=str(i), TASK_OBJECT=str(i + 1))
    specs.append(s)
t0 = time.time()
res = group(run_task.s(s) for s in specs).apply_async()
out = res.get(timeout=1200)
t1 = time.time()
bad = sum(1 for r in out if r.get("exit_code") != 0)
if bad:
    sys.exit("plain Celery: %d tasks failed" % bad)
t = os.times()
print("%.3f %d" % (t1 - t0, round((t.user + t.system) * os.sysconf("SC_CLK_TCK"))))
EOF

plain() {
	(cd "$tmp" && PYTHONPATH="$srcdir/contrib/celery" \
	    PIPELINED_CELERY_BROKER="$broker" "$PY" "$tmp/plain.py" "$1")
}

pipectl run "$tmp/warm.yaml" --runner celery --wait >/dev/null
plain 40 >/dev/null

# Each line: pipelined seconds, its CPU ticks, plain seconds, its ticks.
: >"$tmp/rounds"
r=0
while [ $r -lt "$ROUNDS" ]; do
	# shellcheck disable=SC2086
	c0=$(cpu_ticks $redis $workers $daemon)
	a=$(date +%s.%N)
	pipectl run "$tmp/fan.yaml" --runner celery --wait >/dev/null
	b=$(date +%s.%N)
	# shellcheck disable=SC2086
	c1=$(cpu_ticks $redis $workers $daemon)
	set -- $(plain "$N")
	# shellcheck disable=SC2086
	c2=$(cpu_ticks $redis $workers $daemon)
	echo "$a $b $((c1 - c0)) $1 $((c2 - c1 + $2))" |
	    awk '{ printf "%.3f %d %.3f %d\n", $2 - $1, $3, $4, $5 }' >>"$tmp/rounds"
	r=$((r + 1))
done

echo "== $N trivial tasks, 2 Celery workers x 2 processes, $ROUNDS rounds"
awk -v n="$N" -v hz="$hz" '
    function median(v, k,    i, j, t) {
	for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++)
	    if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
	return k % 2 ? v[(k + 1) / 2] : (v[k / 2] + v[k / 2 + 1]) / 2
    }
    { pl[NR] = $1; plc[NR] = $2; py[NR] = $3; pyc[NR] = $4; q[NR] = $3 / $1 }
    END {
	k = NR
	for (i = 1; i <= k; i++) { cp += plc[i]; cy += pyc[i] }
	mp = median(pl, k); my = median(py, k)
	printf "%-27s best %.2f s (%.0f tasks/s), median %.2f s (%.0f tasks/s), CPU %.2f ms/task\n",
	    "pipelined --runner celery", pl[1], n / pl[1], mp, n / mp, 1000 * cp / hz / n / k
	printf "%-27s best %.2f s (%.0f tasks/s), median %.2f s (%.0f tasks/s), CPU %.2f ms/task\n",
	    "plain Celery group", py[1], n / py[1], my, n / my, 1000 * cy / hz / n / k
	printf "pipelined / plain Celery: throughput (median of pairs) %.0f%%, CPU per task %.0f%%\n",
	    100 * median(q, k), 100 * cp / cy
    }' "$tmp/rounds"
