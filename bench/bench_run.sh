#!/bin/sh
# Throughput of pipelined against make, ninja and a raw spawn loop, and
# the daemon's memory per pending task result.  Run from a configured
# (ordinary, non-sanitizer) build tree: make bench.
#
#   N independent /bin/true tasks and an N-long chain of them, through
#   pipelined (local runner, --max-parallel 2), make -j2 and ninja -j2;
#   the raw limit: posix_spawn of /bin/true with 2 in flight;
#   daemon RSS idle and with PENDING task results waiting.
set -eu
N=${N:-2000}
PENDING=${PENDING:-10000}
builddir=$(pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pipelined-bench.XXXXXX")
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
pipectl() { "$builddir/client/pipectl" --socket "$tmp/sock" "$@"; }

now() { date +%s.%N; }
rate() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { printf "%.3f s, %.0f tasks/s", b - a, n / (b - a) }'; }

gen_yaml() {	# gen_yaml independent|chain FILE
	{
		echo "name: bench-$1"
		[ "$1" = independent ] && echo "ordering: {}"
		echo "tasks:"
		i=0
		while [ $i -lt "$N" ]; do
			echo "  t$i: {argv: [/bin/true]}"
			i=$((i + 1))
		done
	} > "$2"
}

gen_make() {	# gen_make independent|chain FILE
	{
		printf 'all:'
		i=0; while [ $i -lt "$N" ]; do printf ' t%d' $i; i=$((i + 1)); done
		printf '\n.PHONY: all'
		i=0; while [ $i -lt "$N" ]; do printf ' t%d' $i; i=$((i + 1)); done
		printf '\n'
		i=0
		while [ $i -lt "$N" ]; do
			if [ "$1" = chain ] && [ $i -gt 0 ]; then
				printf 't%d: t%d\n\t@/bin/true\n' $i $((i - 1))
			else
				printf 't%d:\n\t@/bin/true\n' $i
			fi
			i=$((i + 1))
		done
	} > "$2"
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

"$builddir/daemon/pipelined" --foreground --socket "$tmp/sock" \
    --state-dir "$tmp/state" --max-parallel 2 --log-level warning &
pid=$!
i=0
until pipectl status >/dev/null 2>&1; do
	i=$((i + 1)); [ $i -lt 100 ] || { echo "daemon did not start" >&2; exit 1; }
	sleep 0.1
done

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
	a=$(now); pipectl run "$tmp/$shape.yaml" --wait >/dev/null; b=$(now)
	echo "pipelined $shape: $(rate "$N" "$a" "$b")"
	a=$(now); make -s -j2 -f "$tmp/$shape.mk" >/dev/null; b=$(now)
	echo "make -j2 $shape: $(rate "$N" "$a" "$b")"
	if command -v ninja >/dev/null 2>&1; then
		a=$(now); ninja -C "$tmp/ninja-$shape" -j2 >/dev/null; b=$(now)
		echo "ninja -j2 $shape: $(rate "$N" "$a" "$b")"
	fi
done

echo "daemon RSS after all that (history kept in memory): $(rss_kib "$pid") KiB"
