#!/bin/sh
# Line coverage of a fuzz target's corpus ("make fuzz-coverage"): run the
# coverage build of the target once over every input - the work corpus of
# the last "make fuzz" when there is one, else the checked-in seeds and
# reproducers - and report what the given source files (for the frame
# target, lib/proto.c: the decoder) and the whole target cover.
#
# Usage: coverage.sh TOP_SRCDIR OUTDIR TARGET FILE...  (OUTDIR/cov/
# fuzz_TARGET built by fuzz.mk MODE=cov; FILEs relative to TOP_SRCDIR).
# Writes OUTDIR/cov/TARGET.txt: every line of the FILEs with its count.
set -eu
top=$(cd "$1" && pwd -P)
out=$2
t=$3
shift 3
files=
for f in "$@"; do
	files="$files $top/$f"
done
bin=$out/cov/fuzz_$t

tool() {
	for name in "$1-14" "$1"; do
		if command -v "$name" >/dev/null 2>&1; then
			echo "$name"
			return
		fi
	done
	echo "fuzz-coverage: $1 not found (on Debian: apt-get install llvm)" >&2
	exit 1
}
profdata=$(tool llvm-profdata)
cov=$(tool llvm-cov)

if [ -d "$out/work/$t" ] && [ -n "$(ls "$out/work/$t")" ]; then
	set -- "$out/work/$t"
else
	set -- "$top/fuzz/corpus/$t"
	[ -d "$top/fuzz/regress/$t" ] && set -- "$@" "$top/fuzz/regress/$t"
fi
inputs=$(find "$@" -type f | wc -l)
rm -f "$out/cov/$t".*.profraw
LLVM_PROFILE_FILE="$out/cov/$t.%p.profraw" "$bin" -runs=0 "$@" \
    >"$out/cov/$t.run.log" 2>&1
"$profdata" merge -sparse "$out/cov/$t".*.profraw -o "$out/cov/$t.profdata"
echo "fuzz-coverage: $t over $inputs inputs ($*)"
# shellcheck disable=SC2086
"$cov" report "$bin" -instr-profile="$out/cov/$t.profdata" $files |
    sed "s|^$top/||"
# shellcheck disable=SC2086
"$cov" show "$bin" -instr-profile="$out/cov/$t.profdata" $files \
    >"$out/cov/$t.txt"
echo "fuzz-coverage: every line with its count: $out/cov/$t.txt"
"$cov" report "$bin" -instr-profile="$out/cov/$t.profdata" |
    tail -n 1 | sed 's/^/fuzz-coverage: whole target: /'
