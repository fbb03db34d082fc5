#!/bin/sh
# Runs every benchmark binary that exists in the build directory and prints their figures.
set -eu
build=${1:-build}
for b in merkle_bench cose_bench ledger_bench tee_bench http_bench load; do
    if [ -x "$build/bench/$b" ]; then
        echo "== $b"
        "$build/bench/$b"
    fi
done
