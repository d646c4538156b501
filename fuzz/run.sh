#!/bin/sh
# Run each fuzz target for FUZZ_SECONDS (default 60) over a copy of its
# seeds and kept reproducers, one target after the other; fail on any
# crash, leak, out-of-memory or timeout, naming the reproducer.
#
# Usage: run.sh SRCDIR OUTDIR TARGET...   (run by "make fuzz" in fuzz/)
# OUTDIR/fuzz/fuzz_TARGET must be built (fuzz.mk).  Per target, the work
# corpus is OUTDIR/work/TARGET, reproducers go to OUTDIR/artifacts/TARGET/
# and the fuzzer's output to OUTDIR/TARGET.log.  FUZZ_ARGS adds options.
set -u
src=$1
out=$2
shift 2
secs=${FUZZ_SECONDS:-60}
failed=
# A smaller quarantine than ASan's 256 MB keeps the whole process well
# under -rss_limit_mb while still catching a use of recently freed memory.
ASAN_OPTIONS=${ASAN_OPTIONS:-quarantine_size_mb=64}
export ASAN_OPTIONS

# Longest input per target: a few requests; a pipeline file; a journal.
max_len() {
	case $1 in
	frame) echo 16384 ;;
	load) echo 16384 ;;
	journal) echo 32768 ;;
	*) echo 4096 ;;
	esac
}

# One figure from libFuzzer's final statistics.
stat() {
	sed -n "s/^stat::$1: *//p" "$2" | tail -n 1
}

for t in "$@"; do
	bin=$out/fuzz/fuzz_$t
	work=$out/work/$t
	art=$out/artifacts/$t
	log=$out/$t.log
	rm -rf "$work" "$art"
	mkdir -p "$work" "$art"
	cp "$src/corpus/$t"/* "$work"/
	if [ -d "$src/regress/$t" ]; then
		cp "$src/regress/$t"/* "$work"/ 2>/dev/null
	fi
	seeds=$(ls "$work" | wc -l)
	echo "fuzz: $t for ${secs}s over $seeds inputs ($log)"
	# shellcheck disable=SC2086
	"$bin" -max_total_time="$secs" -rss_limit_mb=512 -malloc_limit_mb=64 \
	    -timeout=1 -max_len="$(max_len "$t")" -dict="$src/$t.dict" \
	    -artifact_prefix="$art/" -print_final_stats=1 ${FUZZ_ARGS:-} \
	    "$work" >"$log" 2>&1
	rc=$?
	runs=$(stat number_of_executed_units "$log")
	speed=$(stat average_exec_per_sec "$log")
	rss=$(stat peak_rss_mb "$log")
	corpus=$(ls "$work" | wc -l)
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1)
	echo "fuzz: $t: ${runs:-?} runs, ${speed:-?} exec/s, corpus $seeds -> $corpus, $cov, peak RSS ${rss:-?} MB"
	found=$(ls "$art" 2>/dev/null | grep -v '^slow-unit-')
	if [ "$rc" -ne 0 ] || [ -n "$found" ]; then
		echo "fuzz: $t FAILED (exit $rc); the end of $log:" >&2
		tail -n 40 "$log" >&2
		for f in $found; do
			echo "fuzz: $t: reproducer $art/$f" >&2
		done
		echo "fuzz: replay one with $bin FILE, or the plain build's" \
		    "fuzz/replay_$t FILE; keep it in $src/regress/$t/" >&2
		failed="$failed $t"
	fi
done
if [ -n "$failed" ]; then
	echo "fuzz: failed:$failed" >&2
	exit 1
fi
echo "fuzz: all targets passed"
