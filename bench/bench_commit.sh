#!/bin/sh
# Group commit (docs/reliability.md, T11): CLIENTS clients each submitting
# PER tiny executions one after another (bench_submit), against a daemon
# with journal_sync batch and one with always.  Each mode runs twice: as
# is, for throughput and acknowledgement latency (p50, p99), and under
# strace -f -c (the journal syncs in a thread of its own, hence -f), for
# the fdatasync calls the whole run made, start and stop included.  Gate:
# at most 0.25 fdatasync per acknowledgement in batch mode.  Run from a
# configured (ordinary, non-sanitizer) build tree: make bench-commit.
set -eu
CLIENTS=${CLIENTS:-64}
PER=${PER:-200}
. "$(dirname "$0")/common.sh"
acks=$((CLIENTS * PER))

# start [WRAPPER...]: a fresh daemon in MODE, under the wrapper if any.
start() {
	rm -rf "$tmp/state"
	"$@" "$builddir/daemon/pipelined" --foreground --config "$tmp/conf" \
	    --socket "$tmp/sock" --state-dir "$tmp/state" --log-level warning \
	    --journal-sync "$mode" --max-pending-per-user $((acks + 1)) \
	    --max-connections $((CLIENTS + 64)) &
	pid=$!
	until pipectl status >/dev/null 2>&1; do
		kill -0 "$pid" 2>/dev/null || { echo "pipelined died" >&2; exit 1; }
		sleep 0.05
	done
}

stop() {
	kill -TERM "$pid"
	wait "$pid"
	pid=
}

if command -v strace >/dev/null 2>&1; then
	have_strace=true
else
	have_strace=false
	echo "strace is not installed: no fdatasync count"
fi
ratio=
for mode in batch always; do
	start
	"$builddir/bench/bench_submit" -s "$tmp/sock" -c "$CLIENTS" -n "$PER" |
	    sed "s/^/$mode: /"
	stop
	$have_strace || continue
	# The wrapper is strace: -f follows the sync thread; --seccomp-bpf
	# stops the daemon only at the traced call.
	start strace -f --seccomp-bpf -c -e trace=fdatasync -o "$tmp/strace.$mode"
	"$builddir/bench/bench_submit" -s "$tmp/sock" -c "$CLIENTS" -n "$PER" >/dev/null
	# SIGTERM the daemon, not strace: strace writes its count once it ends.
	kill -TERM "$(pgrep -P "$pid" -x pipelined || echo "$pid")"
	wait "$pid"
	pid=
	n=$(awk '$NF == "fdatasync" { print $4 }' "$tmp/strace.$mode")
	r=$(echo "scale=3; ${n:-0} / $acks" | bc)
	echo "$mode: strace: $n fdatasync calls for $acks acknowledgements:" \
	    "$r per acknowledgement (start and stop included)"
	[ "$mode" != batch ] || ratio=$r
done
echo "load average $(cut -d ' ' -f 1-3 /proc/loadavg)"
if [ -n "$ratio" ]; then
	echo "batch: $ratio fdatasync per acknowledgement (gate 0.25)"
	[ "$(echo "$ratio <= 0.25" | bc)" -eq 1 ]
fi
