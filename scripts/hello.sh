#!/bin/sh
# Install what is missing, build, and check examples/hello.yaml with the
# freshly built pipectl.  The build tree is build/ under the checkout.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
jobs=$(nproc 2>/dev/null || echo 2)

scripts/deps.sh build
./autogen.sh
mkdir -p build
cd build
[ -f Makefile ] || ../configure -q
make -j"$jobs" -s

./client/pipectl validate ../examples/hello.yaml
