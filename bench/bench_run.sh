#!/bin/sh
# Throughput of pipelined against make, ninja and a raw spawn loop, the
# journal's cost, and the daemon's memory per pending task result.  Run
# from a configured (ordinary, non-sanitizer) build tree: make bench.
#
#   N independent /bin/true tasks and an N-long chain of them, through
#   pipelined (local runner, --max-parallel 2), make -j2 and ninja -j2;
#   the raw limit: posix_spawn of /bin/true with 2 in flight;
#   pipelined again with journal_sync off, for what the journal costs;
#   NSLOW independent tasks of 5 ms (/bin/sleep 0.005) through pipelined
#   with the journal on and off and through make -j2: what the per-task
#   costs come to for tasks that do something;
#   ROUNDS runs of each (default 3), the best and the median shown;
#   daemon RSS idle and with PENDING task results waiting.
set -eu
N=${N:-2000}
NSLOW=${NSLOW:-400}
PENDING=${PENDING:-10000}
ROUNDS=${ROUNDS:-3}
. "$(dirname "$0")/common.sh"

now() { date +%s.%N; }

# gen_yaml independent|chain FILE [COUNT [ARG...]]: COUNT tasks (N) that
# run /bin/true, or the ARGs.
gen_yaml() {
	_shape=$1 _file=$2 _n=${3:-$N}
	shift 2
	[ $# -gt 0 ] && shift
	_argv=$(IFS=,; echo "${*:-/bin/true}")
	{
		echo "name: bench-$_shape"
		[ "$_shape" = independent ] && echo "ordering: {}"
		echo "tasks:"
		i=0
		while [ $i -lt "$_n" ]; do
			echo "  t$i: {argv: [$_argv]}"
			i=$((i + 1))
		done
	} > "$_file"
}

# gen_make independent|chain FILE [COUNT [ARG...]]: the same for make.
gen_make() {
	_shape=$1 _file=$2 _n=${3:-$N}
	shift 2
	[ $# -gt 0 ] && shift
	_cmd=${*:-/bin/true}
	{
		printf 'all:'
		i=0; while [ $i -lt "$_n" ]; do printf ' t%d' $i; i=$((i + 1)); done
		printf '\n.PHONY: all'
		i=0; while [ $i -lt "$_n" ]; do printf ' t%d' $i; i=$((i + 1)); done
		printf '\n'
		i=0
		while [ $i -lt "$_n" ]; do
			if [ "$_shape" = chain ] && [ $i -gt 0 ]; then
				printf 't%d: t%d\n\t@%s\n' $i $((i - 1)) "$_cmd"
			else
				printf 't%d:\n\t@%s\n' $i "$_cmd"
			fi
			i=$((i + 1))
		done
	} > "$_file"
}

gen_ninja() {	# gen_ninja independent|chain FILE
	{
		printf 'rule t\n  command = /bin/true\n'
		i=0
		while [ $i -lt "$N" ]; do
			if [ "$1" = chain ] && [ $i -gt 0 ]; then
				printf 'build t%d: t || t%d\n' $i $((i - 1))
			else
				printf 'build t%d: t\n' $i
			fi
			i=$((i + 1))
		done
	} > "$2"
}

rss_kib() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }

# daemon_start SYNC: a fresh daemon, journal_sync SYNC, on a new state
# directory; daemon_stop.
daemon_start() {
	rm -rf "$tmp/state"
	"$builddir/daemon/pipelined" --foreground --config "$tmp/conf" \
	    --socket "$tmp/sock" --state-dir "$tmp/state" --max-parallel 2 \
	    --journal-sync "$1" --log-level warning &
	pid=$!
	i=0
	until pipectl status >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -lt 100 ] || { echo "daemon did not start" >&2; exit 1; }
		sleep 0.1
	done
}
daemon_stop() {
	kill "$pid"
	wait "$pid" || :
	pid=
}

# timed NAME CMD...: run CMD ROUNDS times; print the best and the median
# rate of TASKS (N) tasks, and leave the best time in $best.
timed() {
	_name=$1
	shift
	: >"$tmp/times"
	_r=0
	while [ $_r -lt "$ROUNDS" ]; do
		a=$(now); "$@" >/dev/null; b=$(now)
		echo "$a $b" | awk '{ printf "%.4f\n", $2 - $1 }' >>"$tmp/times"
		_r=$((_r + 1))
	done
	best=$(sort -n "$tmp/times" | head -n 1)
	_med=$(sort -n "$tmp/times" | awk '{ t[NR] = $1 } END { print t[int((NR + 1) / 2)] }')
	awk -v n="${TASKS:-$N}" -v b="$best" -v m="$_med" -v name="$_name" 'BEGIN {
		printf "%s: best %.3f s (%.0f tasks/s), median %.3f s (%.0f tasks/s)\n",
		    name, b, n / b, m, n / m }'
}

# journal_share WHAT ON OFF: throughput with the journal against without.
journal_share() {
	awk -v on="$2" -v off="$3" -v s="$1" 'BEGIN {
		printf "%s: with the journal (batch), %.0f%% of the throughput without\n",
		    s, 100 * off / on }'
}

daemon_start batch
echo "== memory"
idle=$(rss_kib "$pid")
echo "daemon RSS idle: $idle KiB"
{
	echo "name: bench-pending"
	echo "max_parallel: 1"
	echo "tasks:"
	echo "  block: {run: sleep 600}"
	printf '  many:\n    argv: [/bin/true]\n    parents: [block]\n    iterate: ['
	i=0
	while [ $i -lt "$PENDING" ]; do
		[ $i -gt 0 ] && printf ','
		printf '%d' $i
		i=$((i + 1))
	done
	printf ']\n'
} > "$tmp/pending.yaml"
id=$(pipectl run "$tmp/pending.yaml")
sleep 1
busy=$(rss_kib "$pid")
echo "daemon RSS with $PENDING pending task results: $busy KiB (+$((busy - idle)) KiB, $(( (busy - idle) * 1024 / PENDING )) bytes each)"
pipectl cancel "$id" >/dev/null
pipectl wait "$id" >/dev/null || true

echo "== $N trivial tasks, 2 at a time"
"$builddir/bench/bench_spawn" -n "$N" -j 2
for shape in independent chain; do
	gen_yaml $shape "$tmp/$shape.yaml"
	gen_make $shape "$tmp/$shape.mk"
	mkdir -p "$tmp/ninja-$shape"
	gen_ninja $shape "$tmp/ninja-$shape/build.ninja"
	timed "pipelined $shape" pipectl run "$tmp/$shape.yaml" --wait
	eval "batch_$shape=\$best"
	timed "make -j2 $shape" make -s -j2 -B -f "$tmp/$shape.mk"
	if command -v ninja >/dev/null 2>&1; then
		# -t clean: every round builds everything again.
		timed "ninja -j2 $shape" sh -c \
		    'ninja -C "$1" -t clean >/dev/null && ninja -C "$1" -j2' \
		    sh "$tmp/ninja-$shape"
	fi
done
echo "daemon RSS after all that (history kept in memory): $(rss_kib "$pid") KiB"
daemon_stop

echo "== the journal's cost: journal_sync off"
daemon_start off
for shape in independent chain; do
	timed "pipelined $shape, journal_sync off" \
	    pipectl run "$tmp/$shape.yaml" --wait
	eval "on=\$batch_$shape"
	journal_share "$shape" "$on" "$best"
done
daemon_stop

echo "== $NSLOW tasks of 5 ms, 2 at a time"
gen_yaml independent "$tmp/slow.yaml" "$NSLOW" /bin/sleep 0.005
gen_make independent "$tmp/slow.mk" "$NSLOW" /bin/sleep 0.005
TASKS=$NSLOW
for sync in batch off; do
	daemon_start $sync
	timed "pipelined, journal_sync $sync" pipectl run "$tmp/slow.yaml" --wait
	eval "slow_$sync=\$best"
	daemon_stop
done
journal_share "5 ms tasks" "$slow_batch" "$slow_off"
timed "make -j2" make -s -j2 -B -f "$tmp/slow.mk"
