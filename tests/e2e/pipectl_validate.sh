#!/bin/sh
# pipectl validate and graph on the examples and on broken files, and the
# command-line conventions: help, version, exit codes.
. "$(dirname "$0")/lib.sh"
set -e

for f in "$EXAMPLES"/*.yaml; do
	expect_exit 0 "validate $(basename "$f")" "$PIPECTL" validate "$f"
done

expect_exit 0 "validate hello" "$PIPECTL" validate "$EXAMPLES/hello.yaml"
check "hello: summary and flat order" sh -c "
	grep -qx 'tasks: 4' '$TMP/out' &&
	grep -qx 'edges: 4' '$TMP/out' &&
	grep -qx 'iterators: wave (3 items)' '$TMP/out' &&
	grep -qx 'flat order: greet count wave bye' '$TMP/out'"

expect_exit 0 "validate from stdin" sh -c \
	"'$PIPECTL' validate - < '$EXAMPLES/regional-report.yaml'"
check "stdin: pipeline iterator listed" \
	grep -qx 'iterators: pipeline (3 items); sum (4 items)' "$TMP/out"

# Every error of a broken file, exactly, in file order, and exit 2.
expect_exit 2 "validate broken file" "$PIPECTL" validate "$DATA/broken.yaml"
sed "s|^$DATA/||" "$TMP/err" > "$TMP/err.rel"
check "broken file: every error as FILE:LINE:COL" \
	diff -u "$DATA/broken.expected" "$TMP/err.rel"
check "broken file: nothing on stdout" test ! -s "$TMP/out"

expect_exit 2 "validate cycle" "$PIPECTL" validate "$DATA/cycle.yaml"
check "cycle named" grep -q 'cycle.yaml:10:15: cycle: build -> test -> package -> build' "$TMP/err"

expect_exit 2 "validate missing file" "$PIPECTL" validate "$TMP/nope.yaml"
check "missing file message" grep -q 'nope.yaml: cannot open: No such file' "$TMP/err"
expect_exit 2 "validate without a file" "$PIPECTL" validate
check "usage shown" grep -q '^usage: pipectl validate FILE' "$TMP/err"
expect_exit 2 "validate with two files" "$PIPECTL" validate a b

# graph: DOT with every edge and iterator tasks marked.
expect_exit 0 "graph hello" "$PIPECTL" graph "$EXAMPLES/hello.yaml"
check "graph: edges" sh -c "
	grep -q '\"greet\" -> \"count\";' '$TMP/out' &&
	grep -q '\"greet\" -> \"wave\";' '$TMP/out' &&
	grep -q '\"count\" -> \"bye\";' '$TMP/out' &&
	grep -q '\"wave\" -> \"bye\";' '$TMP/out' &&
	test \$(grep -c -- '->' '$TMP/out') -eq 4"
check "graph: iterator marked" grep -q '"wave" \[shape=box3d' "$TMP/out"
if command -v dot >/dev/null 2>&1; then
	check "graph: dot accepts it" dot -Tsvg -o "$TMP/g.svg" "$TMP/out"
fi
expect_exit 2 "graph broken file" "$PIPECTL" graph "$DATA/broken.yaml"

# Output that cannot be written is a failure, not a silent success.
if [ -w /dev/full ]; then
	expect_exit 1 "graph to a full disk" sh -c \
	    "'$PIPECTL' graph '$EXAMPLES/hello.yaml' > /dev/full"
	check "full disk: said so" grep -q 'writing the output' "$TMP/err"
	expect_exit 1 "--help to a full disk" sh -c \
	    "'$PIPECTL' --help > /dev/full"
fi

# Conventions.
expect_exit 0 "--help" "$PIPECTL" --help
check "--help lists commands" grep -q '^  validate' "$TMP/out"
expect_exit 0 "--version" "$PIPECTL" --version
check "--version prints it" grep -q '^pipectl [0-9]' "$TMP/out"
expect_exit 0 "validate --help" "$PIPECTL" validate --help
check "command help" grep -q 'FILE:LINE:COL' "$TMP/out"
expect_exit 0 "graph -h" "$PIPECTL" graph -h
expect_exit 2 "no command" "$PIPECTL"
expect_exit 2 "unknown command" "$PIPECTL" frobnicate
check "unknown command named" grep -q "unknown command 'frobnicate'" "$TMP/err"
expect_exit 2 "unknown global option" "$PIPECTL" --frob validate x

finish
