#!/bin/sh
# Install what is missing, build, and run every test:
#  1. the whole suite under ASan+UBSan with warnings as errors, built with
#     --enable-crashsim too, so that the power-loss tests (e2e/crashsim*.sh)
#     run instead of skipping;
#  2. the fuzz targets, FUZZ_SECONDS (default 150) each on every CPU:
#     2 CPUs x 150 s = 5 CPU-minutes per target (docs/reliability.md);
#  3. a clang build with warnings as errors, and clang-tidy;
#  4. "make distcheck" of an ordinary build (warnings as errors too).
# Build trees go to build-test/, build-clang/ and build-dist/ under the
# checkout.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
jobs=$(nproc 2>/dev/null || echo 2)

scripts/deps.sh test
./autogen.sh

fail() {
	echo "test.sh: $1 failed" >&2
	for log in "$2"/tests/test-suite.log; do
		[ -f "$log" ] && cat "$log" >&2
	done
	exit 1
}

echo "== sanitizer build and test suite"
rm -rf build-test && mkdir build-test
(cd build-test && ../configure --enable-werror --enable-sanitizers \
	--enable-crashsim -q &&
	make -j"$jobs" -s &&
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	make -j"$jobs" -s check) || fail "sanitizer test suite" build-test

echo "== fuzzing: ${FUZZ_SECONDS:-150}s per target on $jobs CPUs"
(cd build-test && make -s fuzz FUZZ_SECONDS="${FUZZ_SECONDS:-150}" \
	FUZZ_JOBS="$jobs") || fail "fuzzing" build-test

echo "== clang build (warnings as errors) and clang-tidy"
rm -rf build-clang && mkdir build-clang
(cd build-clang && CC=clang ../configure --enable-werror -q &&
	make -j"$jobs" -s && make -j"$jobs" -s check TESTS=) ||
	fail "clang build" build-clang
scripts/tidy.sh build-clang || fail "clang-tidy" build-clang

# The suite once more from the tarball, in an ordinary build: the longest
# tests at a smaller size, since the sanitizer run has run them in full.
echo "== distcheck"
rm -rf build-dist && mkdir build-dist
(cd build-dist && ../configure --enable-werror -q &&
	PIPELINED_KILL_LOOPS=10 PIPELINED_STRESS_RESULTS=500 \
	PIPELINED_LOAD_ROUNDS=1 make -j"$jobs" -s distcheck \
	    DISTCHECK_CONFIGURE_FLAGS=--enable-werror) ||
	fail "distcheck" build-dist/pipelined-*/_build/sub

echo "test.sh: all tests passed"
