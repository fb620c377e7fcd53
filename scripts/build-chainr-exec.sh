#!/bin/sh
# Builds chainr-exec, the wrapper of Kubernetes job containers (src/executors/kubernetes/chainr-exec.c),
# as a static executable: it runs in job images that have no shell and no C library.
# Usage: scripts/build-chainr-exec.sh <output file>. Needs a C compiler and a static C library
# (Debian: gcc and libc6-dev).
set -eu
out=${1:?usage: scripts/build-chainr-exec.sh <output file>}
src="$(dirname "$0")/../src/executors/kubernetes/chainr-exec.c"
${CC:-cc} -static -Os -s -Wall -Wextra -Werror -o "$out" "$src"
