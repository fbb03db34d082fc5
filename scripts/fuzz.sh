#!/bin/sh
# Runs every libFuzzer target in BUILD for SECONDS each, on a scratch copy of its seed corpus
# (new inputs land in BUILD/fuzz-corpus/<target>; copy the interesting ones into the tree), and
# ends with one line per target: executions, rate and corpus size. A crash, leak or timeout is
# kept as BUILD/fuzz-artifacts/<target>/crash-* and fails the run once every target has run.
set -eu
build=$1
seconds=$2
src=$(cd "$(dirname "$0")/.." && pwd)
summary=$(mktemp)
failed=""
found=0
for bin in "$build"/tests/fuzz/fuzz_*; do
    [ -x "$bin" ] || continue
    found=$((found + 1))
    name=$(basename "$bin" | sed 's/^fuzz_//')
    work="$build/fuzz-corpus/$name"
    art="$build/fuzz-artifacts/$name"
    mkdir -p "$work" "$art"
    cp -n "$src/tests/fuzz/corpus/$name"/* "$work"/ 2>/dev/null || true
    echo "== $name ($seconds s)"
    log="$art/last.log"
    if "$bin" -max_total_time="$seconds" -print_final_stats=1 -artifact_prefix="$art/" \
        "$work" >"$log" 2>&1; then
        status=ok
    else
        status=FAILED
        failed="$failed $name"
        grep -E 'ERROR|SUMMARY|invariant|fuzz:' "$log" | head -5 || true
    fi
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | tail -1)
    files=$(find "$work" -type f | wc -l)
    rate=$(awk -v e="${execs:-0}" -v s="$seconds" 'BEGIN { printf "%.0f", e / s }')
    printf '%-20s %12s execs %8s/s %6s corpus %5s MB  %s\n' "$name" "${execs:-0}" "$rate" \
        "$files" "${rss:-?}" "$status" >>"$summary"
done
echo "== summary ($seconds s per target)"
cat "$summary"
rm -f "$summary"
if [ "$found" = 0 ]; then
    echo "fuzz: no fuzz_* binaries in $build/tests/fuzz (configure with -DFUZZ=ON and clang)" >&2
    exit 1
fi
if [ -n "$failed" ]; then
    echo "fuzz: failed:$failed (inputs in $build/fuzz-artifacts/)" >&2
    exit 1
fi
