#!/bin/sh
# Runs every libFuzzer target in BUILD for SECONDS each, on a scratch copy of its seed corpus
# (new inputs land in BUILD/fuzz-corpus/<target>; copy the interesting ones into the tree).
set -eu
build=$1
seconds=$2
src=$(cd "$(dirname "$0")/.." && pwd)
for bin in "$build"/tests/fuzz/fuzz_*; do
    [ -x "$bin" ] || continue
    name=$(basename "$bin" | sed 's/^fuzz_//')
    work="$build/fuzz-corpus/$name"
    mkdir -p "$work"
    cp -n "$src/tests/fuzz/corpus/$name"/* "$work"/ 2>/dev/null || true
    echo "== $name ($seconds s)"
    "$bin" -max_total_time="$seconds" -print_final_stats=1 "$work" 2>&1 | grep -E 'stat::number_of_executed_units|stat::peak_rss_mb|ERROR|SUMMARY' || true
done
