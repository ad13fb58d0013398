#!/bin/sh
# compare.sh [revision] [checkbench flags]: builds checkbench from this
# tree and from revision (default main, with this tree's checkbench copied
# in), then runs both in turn on the same load and prints their medians.
#
#	internal/checkbench/compare.sh main -n 1000 -l 20ms -c 32 -runs 3
set -eu
rev=${1:-main}
[ $# -gt 0 ] && shift
root=$(git rev-parse --show-toplevel)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/old"
git -C "$root" archive "$rev" | tar -x -C "$tmp/old"
rm -rf "$tmp/old/internal/checkbench"
cp -R "$root/internal/checkbench" "$tmp/old/internal/checkbench"
(cd "$tmp/old" && go build -o "$tmp/checkbench-$rev" ./internal/checkbench)
(cd "$root" && go build -o "$tmp/checkbench-tree" ./internal/checkbench)
cd "$tmp" && "./checkbench-tree" -against "./checkbench-$rev" "$@"
