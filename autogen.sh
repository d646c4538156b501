#!/bin/sh
# Generate the configure script and Makefile.in files from a fresh clone.
set -e
cd "$(dirname "$0")"
autoreconf --force --install
