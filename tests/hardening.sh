#!/bin/sh
# The programs we install are built hardened (configure.ac): position
# independent (PIE, for ASLR), full RELRO (relocations read-only after
# start: GNU_RELRO and BIND_NOW), a non-executable stack, the stack
# protector and _FORTIFY_SOURCE's checked libc calls.  Read from the
# binaries themselves with readelf, so a change of flags cannot quietly
# drop one.  A sanitizer build turns FORTIFY off (its interceptors and
# ASan's clash): that check is then skipped, and says so.
set -u
: "${top_builddir:=..}"
fails=0

if ! command -v readelf >/dev/null 2>&1; then
	echo "SKIP: readelf not found (binutils)"
	exit 77
fi

# check DESC CMD...: run CMD, report ok or FAIL.
check() {
	desc=$1
	shift
	if "$@" >/dev/null 2>&1; then
		echo "ok: $desc"
	else
		echo "FAIL: $desc"
		fails=$((fails + 1))
	fi
}

# The Celery runner plugin is installed too, when it is built (hiredis).
progs="daemon/pipelined client/pipectl"
if [ -f "$top_builddir/runners/.libs/celery.so" ]; then
	progs="$progs runners/.libs/celery.so"
fi
for prog in $progs; do
	bin=$top_builddir/$prog
	name=$(basename "$prog")
	if [ ! -f "$bin" ]; then
		echo "FAIL: $bin not built"
		fails=$((fails + 1))
		continue
	fi
	check "$name: PIE (ELF type DYN)" \
	    sh -c "readelf -h '$bin' | grep -q 'Type: *DYN'"
	check "$name: RELRO segment" \
	    sh -c "readelf -lW '$bin' | grep -q GNU_RELRO"
	check "$name: BIND_NOW (full RELRO)" \
	    sh -c "readelf -dW '$bin' | grep -Eq 'BIND_NOW|FLAGS_1.*NOW'"
	check "$name: stack not executable" \
	    sh -c "readelf -lW '$bin' | grep GNU_STACK | grep -vq RWE"
	check "$name: stack protector" \
	    sh -c "readelf --dyn-syms -W '$bin' | grep -q __stack_chk_fail"
	if readelf --dyn-syms -W "$bin" | grep -q __asan_init; then
		echo "ok: $name: FORTIFY not checked (sanitizer build)"
	else
		check "$name: FORTIFY (checked libc calls)" \
		    sh -c "readelf --dyn-syms -W '$bin' | grep -Eq '__[a-z]+_chk@'"
	fi
done

# A plugin exports its entry point and nothing else (-fvisibility=hidden).
if [ -f "$top_builddir/runners/.libs/celery.so" ]; then
	check "celery.so: exports pipelined_runner_v1 only" \
	    sh -c "test \"\$(readelf --dyn-syms -W '$top_builddir/runners/.libs/celery.so' |
	    awk '\$5 == \"GLOBAL\" && \$7 != \"UND\" { print \$8 }')\" = pipelined_runner_v1"
fi

if [ "$fails" -ne 0 ]; then
	echo "hardening: $fails checks failed"
	exit 1
fi
echo "hardening: all checks passed"
