#!/bin/sh
# Run each fuzz target for FUZZ_SECONDS (default 60) over a copy of its
# seeds and kept reproducers, one target after the other; fail on any
# crash, leak, out-of-memory or timeout, naming the reproducer.
#
# Usage: run.sh SRCDIR OUTDIR TARGET...   (run by "make fuzz" in fuzz/)
# OUTDIR/fuzz/fuzz_TARGET must be built (fuzz.mk).  Per target, the work
# corpus is OUTDIR/work/TARGET, reproducers go to OUTDIR/artifacts/TARGET/
# and the fuzzer's output to OUTDIR/TARGET.log.  FUZZ_JOBS=N (default 1)
# runs N fuzzing processes at once (libFuzzer's -fork=N), each target then
# getting N x FUZZ_SECONDS of CPU.  FUZZ_ARGS adds libFuzzer options.
set -u
src=$1
out=$2
shift 2
secs=${FUZZ_SECONDS:-60}
jobs=${FUZZ_JOBS:-1}
failed=
# Fork mode forgives out-of-memory and timeouts unless told not to.
fork=
if [ "$jobs" -gt 1 ]; then
	fork="-fork=$jobs -ignore_ooms=0 -ignore_timeouts=0 -ignore_crashes=0"
fi
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

# One figure from libFuzzer's final statistics (not in fork mode).
stat() {
	sed -n "s/^stat::$1: *//p" "$2" | tail -n 1
}

# The number of runs of the last status line ("#1234 ..." or "#1234: ...").
runs() {
	sed -n 's/^#\([0-9][0-9]*\)[:	 ].*/\1/p' "$1" | tail -n 1
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
	echo "fuzz: $t for ${secs}s x $jobs over $seeds inputs ($log)"
	start=$(date +%s)
	# shellcheck disable=SC2086
	"$bin" -max_total_time="$secs" -rss_limit_mb=512 -malloc_limit_mb=64 \
	    -timeout=1 -max_len="$(max_len "$t")" -dict="$src/$t.dict" \
	    -artifact_prefix="$art/" -print_final_stats=1 $fork \
	    ${FUZZ_ARGS:-} "$work" >"$log" 2>&1
	rc=$?
	took=$(($(date +%s) - start))
	n=$(runs "$log")
	rss=$(stat peak_rss_mb "$log")
	corpus=$(ls "$work" | wc -l)
	kib=$(($(cat "$work"/* | wc -c) / 1024))
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1)
	echo "fuzz: $t: ${n:-?} runs in ${took}s ($(( ${n:-0} / (took > 0 ? took : 1) )) exec/s), corpus $seeds -> $corpus files (${kib} KiB), $cov, peak RSS ${rss:-?} MB"
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
