#!/bin/sh
# `make bench`: runs every benchmark built in the build directory, keeps each one's output in
# <build>/bench-out/, and writes bench/RESULTS.md: the machine, the date, the commands, a table of
# the headline figures with their ceilings, ratios and targets, and every figure printed.
#
# Environment: SCALE_ENTRIES (default 10000000) and SCALE_DIR (default <build>/bench-scale) for
# the scale benchmark, whose ledger is built once and reused; SCALE_ENTRIES=0 skips it.
# RESULTS names the report (default bench/RESULTS.md).
set -eu
build=${1:-build}
out="$build/bench-out"
results=${RESULTS:-bench/RESULTS.md}
scale_entries=${SCALE_ENTRIES:-10000000}
scale_dir=${SCALE_DIR:-$build/bench-scale}
mkdir -p "$out"

# name | command line (run from the repository root)
runs="merkle_bench|$build/bench/merkle_bench
cose_bench|$build/bench/cose_bench 2
check_bench|$build/bench/check_bench 2
ledger_bench|$build/bench/ledger_bench 1000000
tee_bench|$build/bench/tee_bench
http_bench|$build/bench/http_bench
tools_bench|$build/bench/tools_bench
load|$build/bench/load --scittd $build/server/scittd --seconds 10 --rate 5000
scale|$build/bench/scale --scittd $build/server/scittd --entries $scale_entries --dir $scale_dir"

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
echo "$runs" | while IFS='|' read -r name cmd; do
    bin=${cmd%% *}
    rm -f "$out/$name.txt"
    if [ ! -x "$bin" ]; then
        echo "== $name: not built, skipped"
        continue
    fi
    if [ "$name" = scale ] && [ "$scale_entries" = 0 ]; then
        echo "== $name: SCALE_ENTRIES=0, skipped"
        continue
    fi
    echo "== $name: $cmd"
    # each benchmark starts with the data written by the one before it on disk, not in flight
    sync
    t0=$(date +%s)
    # shellcheck disable=SC2086
    if ! $cmd >"$out/$name.txt" 2>"$out/$name.err"; then
        echo "$name failed; its stderr:" >&2
        tail -20 "$out/$name.err" >&2
        exit 1
    fi
    cat "$out/$name.txt"
    echo "   ($(($(date +%s) - t0)) s)"
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# fig FILE NAME: the value of "NAME: value unit" in FILE (empty when absent)
fig() {
    [ -f "$out/$1.txt" ] || return 0
    awk -v n="$2" 'index($0, n ": ") == 1 { v = substr($0, length(n) + 3); split(v, a, " "); print a[1] }' "$out/$1.txt"
}
# row LABEL VALUE UNIT BASELINE-LABEL BASELINE RATIO TARGET-TEXT OP LIMIT [RATIO-OP RATIO-LIMIT]
row() {
    awk -v label="$1" -v value="$2" -v unit="$3" -v blabel="$4" -v base="$5" -v ratio="$6" \
        -v target="$7" -v op="$8" -v lim="$9" -v rop="${10:-}" -v rlim="${11:-}" 'BEGIN {
        if (value == "") { printf "| %s | not measured | | | %s | — |\n", label, target; exit }
        ok = (op == ">=") ? value + 0 >= lim + 0 : (op == "<=") ? value + 0 <= lim + 0 : 1
        if (rop != "" && ratio != "") ok = ok && ((rop == ">=") ? ratio + 0 >= rlim + 0 : ratio + 0 <= rlim + 0)
        b = (base == "") ? "" : sprintf("%s %s", blabel, base)
        r = (ratio == "") ? "" : sprintf("%.3f", ratio)
        verdict = (target == "") ? "" : (ok ? "met" : "**missed**")
        printf "| %s | %s %s | %s | %s | %s | %s |\n", label, value, unit, b, r, target, verdict
    }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a != "" && b != "" && b + 0 > 0) printf "%.3f", a / b }'; }

cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
cores=$(nproc)
mem=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
fs=$(df -T "$scale_dir" 2>/dev/null | awk 'NR == 2 { print $2 }' || true)
[ -n "$fs" ] || fs=$(df -T . | awk 'NR == 2 { print $2 }')

reg=$(fig load registrations)
ceil=$(fig load ceiling_ecdsa_p256_verify)
reads=$(fig scale receipt_reads)
hceil=$(fig scale http_ceiling)
at_scale=$(fig scale registrations_at_scale)
empty=$(fig scale registrations_empty)
tv=$(fig cose_bench transparent_verify)
raw2=$(fig cose_bench ecdsa_p256_verify_raw_again)
chk=$(fig check_bench service_check)
chkraw=$(fig check_bench ecdsa_p256_verify_raw)
la=$(fig ledger_bench ledger_append)
lraw=$(fig ledger_bench lmdb_raw_append)

{
    echo "# Benchmark results"
    echo
    echo "Written by \`make bench\` (scripts/bench.sh); every figure below comes from the run"
    echo "described here, and every ceiling was measured in the same run as the figure it bounds."
    echo
    echo "- date: $started (UTC)"
    echo "- machine: $cpu, $cores cores, $mem, $(uname -sr), data on $fs"
    echo "- load average (1, 5, 15 min) before: $load_before; after: $load_after"
    echo "- commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
    echo
    echo "## Headline figures"
    echo
    echo "| figure | measured | ceiling / baseline (same run) | ratio | target | |"
    echo "| --- | --- | --- | --- | --- | --- |"
    row "registrations, closed loop, receipt in the 201 (load)" "$reg" "/s" "ECDSA P-256 verify, all cores" "$ceil" "$(ratio "$reg" "$ceil")" "≥ 10,000/s and ratio ≥ 0.3" ">=" 10000 ">=" 0.3
    row "latency p99 at 5,000/s offered (load)" "$(fig load latency_p99)" "ms" "" "" "" "≤ 50 ms" "<=" 50
    row "latency p999 at 5,000/s offered (load)" "$(fig load latency_p999)" "ms" "" "" "" "≤ 100 ms" "<=" 100
    row "receipt reads, random entries, at $scale_entries entries (scale)" "$reads" "/s" "GET /healthz" "$hceil" "$(ratio "$reads" "$hceil")" "≥ 20,000/s" ">=" 20000
    row "registrations at $scale_entries entries vs empty (scale)" "$at_scale" "/s" "empty ledger" "$empty" "$(ratio "$at_scale" "$empty")" "ratio ≥ 0.8" ">=" 0 ">=" 0.8
    row "restart at $scale_entries entries, exec to READY (scale)" "$(fig scale restart)" "ms" "" "" "" "≤ 1,000 ms" "<=" 1000
    row "storage overhead at $scale_entries entries (scale)" "$(fig scale storage_overhead)" "B/entry" "" "" "" "≤ 200 B/entry" "<=" 200
    row "offline verification: issuer signature + receipt (cose_bench)" "$tv" "/s" "raw ECDSA P-256 verify" "$raw2" "$(ratio "$tv" "$raw2")" "ratio ≥ 0.85" ">=" 0 ">=" 0.85
    row "check stage alone, one thread (check_bench)" "$chk" "/s" "raw ECDSA P-256 verify" "$chkraw" "$(ratio "$chk" "$chkraw")" "" "" ""
    row "ledger append, durable, no HTTP (ledger_bench)" "$la" "entries/s" "raw LMDB append" "$lraw" "$(ratio "$la" "$lraw")" "" "" ""
    echo
    echo "Building the scale ledger took $(fig scale fill) s ($(fig scale fill_rate) entries/s, every"
    echo "statement signed and checked) and it takes $(fig scale disk) bytes on disk; later runs reuse it."
    echo
    echo "## Commands"
    echo
    echo '```'
    echo "$runs" | cut -d'|' -f2
    echo '```'
    echo
    echo "## Every figure"
    for f in "$out"/*.txt; do
        [ -f "$f" ] || continue
        echo
        echo "### $(basename "$f" .txt)"
        echo
        echo '```'
        cat "$f"
        echo '```'
    done
} >"$results"
echo "wrote $results"
