# Sourced by the benchmark scripts, run from a build tree: builddir, a
# scratch directory $tmp removed at exit (the daemon $pid, when set,
# killed first), an empty configuration file $tmp/conf (so that no file
# of the machine's takes part), and pipectl on the scratch socket.
builddir=$(pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pipelined-bench.XXXXXX")
pid=
cleanup() {
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null || :
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
: >"$tmp/conf"
pipectl() { "$builddir/client/pipectl" --socket "$tmp/sock" "$@"; }
