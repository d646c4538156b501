# Shared helpers for the end-to-end tests (sourced, POSIX sh).
# The tests run from the build tree: top_builddir and top_srcdir come from
# the test environment (tests/Makefile.am), with fallbacks for a manual run.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
PIPECTL="$top_builddir/client/pipectl"
EXAMPLES="$top_srcdir/examples"
DATA="$top_srcdir/tests/data"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/pipelined-e2e.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
failures=0
checks=0

fail() {
	echo "FAIL: $*" >&2
	failures=$((failures + 1))
}

# check DESCRIPTION COMMAND...: the command must succeed.
check() {
	desc=$1
	shift
	checks=$((checks + 1))
	if "$@"; then
		echo "ok: $desc"
	else
		fail "$desc"
	fi
}

# expect_exit CODE DESCRIPTION COMMAND...: run and compare the exit status;
# stdout and stderr are kept in $TMP/out and $TMP/err.
expect_exit() {
	want=$1
	desc=$2
	shift 2
	checks=$((checks + 1))
	set +e
	"$@" >"$TMP/out" 2>"$TMP/err"
	got=$?
	set -e
	if [ "$got" -eq "$want" ]; then
		echo "ok: $desc"
	else
		fail "$desc: exit $got, want $want"
		sed 's/^/  stdout: /' "$TMP/out" >&2
		sed 's/^/  stderr: /' "$TMP/err" >&2
	fi
}

# The end of every test: exit 1 if any check failed.
finish() {
	echo "$checks checks, $failures failed"
	[ "$failures" -eq 0 ]
}
