#!/bin/sh
# Replay cost (docs/reliability.md, T10): a journal of RECORDS records
# (default 1,000,000; bench_journal writes them the way the daemon does),
# then pipelined started on it RUNS times: the time until its socket
# answers (the journal is replayed before it listens), the CPU time it
# took, and its memory then (VmRSS, and VmHWM, the peak during the
# replay).  Gate: under 10 s and under 512 MiB.  Run from a configured
# (ordinary, non-sanitizer) build tree: make bench-replay.
set -eu
RECORDS=${RECORDS:-1000000}
RUNS=${RUNS:-3}
. "$(dirname "$0")/common.sh"
kib() { awk -v k="$1" '$1 == k ":" { print $2 }' "/proc/$pid/status"; }
# cpu_s: the daemon's user + system time so far, in seconds: on a shared
# machine a steadier figure than the wall time.
cpu_s() {
	awk -v hz="$(getconf CLK_TCK)" '{ i = index($0, ") ");
	    split(substr($0, i + 2), f, " "); printf "%.2f", (f[12] + f[13]) / hz }' \
	    "/proc/$pid/stat"
}

mkdir "$tmp/state"
a=$(date +%s.%N)
"$builddir/bench/bench_journal" -n "$RECORDS" "$tmp/state"
b=$(date +%s.%N)
echo "journal: $(du -sk "$tmp/state/journal" | cut -f 1) KiB in" \
    "$(ls "$tmp/state/journal" | grep -c '^seg-') segments, written in" \
    "$(echo "$b - $a" | bc) s"

worst_s=0
worst_hwm=0
i=0
while [ $i -lt "$RUNS" ]; do
	i=$((i + 1))
	a=$(date +%s.%N)
	"$builddir/daemon/pipelined" --foreground --config "$tmp/conf" \
	    --socket "$tmp/sock" --state-dir "$tmp/state" --log-level warning &
	pid=$!
	until pipectl status >/dev/null 2>&1; do
		kill -0 "$pid" 2>/dev/null || { echo "pipelined died" >&2; exit 1; }
		sleep 0.01
	done
	b=$(date +%s.%N)
	s=$(echo "$b - $a" | bc)
	hwm=$(kib VmHWM)
	echo "run $i: ready after $s s (CPU $(cpu_s) s); RSS $(kib VmRSS) KiB," \
	    "peak $hwm KiB;" \
	    "$(pipectl status | awk '$1 == "executions" { print $2 }') executions;" \
	    "load average $(cut -d ' ' -f 1-3 /proc/loadavg)"
	kill -TERM "$pid"
	wait "$pid"
	pid=
	worst_s=$(echo "if ($s > $worst_s) $s else $worst_s" | bc)
	[ "$hwm" -le "$worst_hwm" ] || worst_hwm=$hwm
done
echo "worst of $RUNS: ready after $worst_s s (gate 10 s), peak RSS" \
    "$((worst_hwm / 1024)) MiB (gate 512 MiB)"
[ "$(echo "$worst_s < 10" | bc)" -eq 1 ] && [ "$worst_hwm" -lt $((512 * 1024)) ]
