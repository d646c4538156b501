#!/bin/sh
# The load test (tests/e2e/load.sh, docs/reliability.md T15) at its full
# size: 256 clients each submitting PER executions a round, ROUNDS rounds
# without and with 1000 idle and 100 slowloris connections.  Prints the
# test's figures and its verdict.  Run from a configured build tree
# (ordinary, non-sanitizer, for figures): make bench-clients.
set -eu
top_builddir=$(pwd)
top_srcdir=$(cd "$(dirname "$0")/.." && pwd)
export top_builddir top_srcdir
PIPELINED_LOAD_PER=${PER:-10}
PIPELINED_LOAD_ROUNDS=${ROUNDS:-5}
export PIPELINED_LOAD_PER PIPELINED_LOAD_ROUNDS
log=$(mktemp "${TMPDIR:-/tmp}/pipelined-bench.XXXXXX")
trap 'rm -f "$log"' EXIT
set +e
sh "$top_srcdir/tests/e2e/load.sh" >"$log" 2>&1
rc=$?
set -e
grep -v '^  daemon: ' "$log" | grep -v '^ok: '
echo "load average $(cut -d ' ' -f 1-3 /proc/loadavg)"
exit "$rc"
