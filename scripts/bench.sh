#!/bin/sh
# `make bench`: runs every benchmark built in the build directory, keeps each one's output in
# <build>/bench-out/, and writes bench/RESULTS.md: the machine, the date, the commands, a table of
# the headline figures with their ceilings, ratios and targets, and every figure printed.
#
# Environment: SCALE_ENTRIES (default 10000000) and SCALE_DIR (default <build>/bench-scale) for
# the scale benchmark, whose ledger is built once and reused; SCALE_ENTRIES=0 skips it.
# RESULTS names the report (default bench/RESULTS.md). BENCH_TMPDIR (default <build>/bench-tmp)
# is where the other benchmarks make their data directories (their TMPDIR): on the build's disk,
# since the durable figures refuse a file system kept in memory and /tmp often is one.
#
# A benchmark that fails (any response that is not what it should be counts as a failure) keeps
# its figures and "error:" lines in <build>/bench-out/NAME.txt; the others still run, the report
# lists the errors, and the script exits 1.
set -eu
build=${1:-build}
out="$build/bench-out"
results=${RESULTS:-bench/RESULTS.md}
scale_entries=${SCALE_ENTRIES:-10000000}
scale_dir=${SCALE_DIR:-$build/bench-scale}
TMPDIR=${BENCH_TMPDIR:-$build/bench-tmp}
export TMPDIR
mkdir -p "$out" "$TMPDIR"
rm -f "$out"/*.failed

# name | command line (run from the repository root)
runs="merkle_bench|$build/bench/merkle_bench
cose_bench|$build/bench/cose_bench 2
check_bench|$build/bench/check_bench 2
ledger_bench|$build/bench/ledger_bench 1000000
tee_bench|$build/bench/tee_bench
http_bench|$build/bench/http_bench
tools_bench|$build/bench/tools_bench
load|$build/bench/load --scittd $build/server/scittd --seconds 10 --rate 5000
readflood|$build/bench/readflood --scittd $build/server/scittd --seconds 10 --rate 2000
pkcs11_load|bench/pkcs11_load.sh $build --seconds 10 --rate 2000
pg_load|$build/bench/load --scittd $build/server/scittd --seconds 10 --rate 5000 --storage new
failover|bench/failover.sh $build 20
pg_reads|$build/bench/pg_reads --scittd $build/server/scittd --entries 20000 --seconds 5
witness_bench|$build/bench/witness_bench --scittd $build/server/scittd --scitt $build/tools/scitt --seconds 9
events_bench|$build/bench/events_bench --scittd $build/server/scittd --seconds 10 --rate 5000 --subscribers 1000
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
        cat "$out/$name.txt"
        echo "$name failed; its stderr:" >&2
        tail -20 "$out/$name.err" >&2
        touch "$out/$name.failed"
        continue
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
# row LABEL VALUE UNIT BASELINE-LABEL BASELINE RATIO TARGET-TEXT OP LIMIT RATIO-OP RATIO-LIMIT HOW
# (HOW: the short "how measured" text: policy, file system, cache state, sampling)
row() {
    awk -v label="$1" -v value="$2" -v unit="$3" -v blabel="$4" -v base="$5" -v ratio="$6" \
        -v target="$7" -v op="$8" -v lim="$9" -v rop="${10:-}" -v rlim="${11:-}" \
        -v how="${12:-}" 'BEGIN {
        if (value == "") { printf "| %s | not measured | | | %s | — | %s |\n", label, target, how; exit }
        ok = (op == ">=") ? value + 0 >= lim + 0 : (op == "<=") ? value + 0 <= lim + 0 : 1
        if (rop != "" && ratio != "") ok = ok && ((rop == ">=") ? ratio + 0 >= rlim + 0 : ratio + 0 <= rlim + 0)
        b = (base == "") ? "" : sprintf("%s %s", blabel, base)
        r = (ratio == "") ? "" : sprintf("%.3f", ratio)
        verdict = (target == "") ? "" : (ok ? "met" : "**missed**")
        printf "| %s | %s %s | %s | %s | %s | %s | %s |\n", label, value, unit, b, r, target, verdict, how
    }'
}
# failed_list: the benchmarks that exited non-zero in this run
failed_list() { for f in "$out"/*.failed; do [ -f "$f" ] && printf '%s ' "$(basename "$f" .failed)"; done; true; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a != "" && b != "" && b + 0 > 0) printf "%.3f", a / b }'; }

cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
cores=$(nproc)
mem=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
# fs NAME: the file system benchmark NAME wrote to, from its "filesystem: TYPE PATH" line
fs() { f=$(fig "$1" filesystem | head -1); echo "${f:-unknown}"; }

# --- figures: load (registrations and latency, production and development policies) ---
reg=$(fig load registrations_production)
reg_dev=$(fig load registrations_development)
ceil=$(fig load ceiling_ecdsa_p256_verify)
# sampled TEXT N: "every TEXT" when N is 1, else "every Nth TEXT" ("" when N is unknown)
sampled() { case "${2:-}" in "") ;; 1) echo "every $1" ;; *) echo "every ${2}th $1" ;; esac; }
load_how="only 201s whose receipt verifies count ($(sampled 201 "$(fig load verify_every)") checked by the client), any other response fails the run; data on $(fs load)"
load_cpu="the client shares the cores: $(fig load client_cpu_per_request) µs of client CPU per request (receipt checks included)"
load_prod="production policy (x5chain leaf from a root CA, validated to it by x509_roots at every registration); $load_how; scittd's own CPU $(fig load server_cpu_per_registration_production) µs per registration, $load_cpu"
load_dev="development policy (the x5chain leaf's key, no path validation), in rounds alternating with the production row; $load_how; scittd's own CPU $(fig load server_cpu_per_registration_development) µs per registration, $load_cpu"
lat_prod="$load_prod; $(fig load unanswered_production) requests unanswered at the end count at their age then"
lat_dev="$load_dev; $(fig load unanswered_development) requests unanswered at the end count at their age then"
# --- figures: pkcs11_load (the receipt key in a SoftHSM2 token vs the keystore's, same run) ---
reg_p11=$(fig pkcs11_load registrations_pkcs11_key)
reg_p11_file=$(fig pkcs11_load registrations_file_key)
p11_how="development policy, both daemons in alternating rounds; scittd --receipt-key pkcs11: with an ES256 key in SoftHSM2 (one token signature per batch, $(fig pkcs11_load entries_per_batch_pkcs11_key) entries per batch; $(fig pkcs11_load server_cpu_per_registration_pkcs11_key) µs of scittd CPU per registration against $(fig pkcs11_load server_cpu_per_registration_file_key)); only 201s whose receipt verifies count; data on $(fs pkcs11_load)"
# --- figures: pg_load (the log in PostgreSQL vs LMDB, same run) and failover (PostgreSQL) ---
reg_pg=$(fig pg_load registrations_postgresql)
reg_pg_lmdb=$(fig pg_load registrations_lmdb)
pg_how="development policy, both daemons in alternating rounds; scittd --storage on a PostgreSQL server the bench starts on the same machine and disk (PostgreSQL's defaults: fsync and synchronous_commit on, so every 201 follows a WAL flush), one instance with its lease; $(fig pg_load entries_per_batch_postgresql) entries per batch against $(fig pg_load entries_per_batch_lmdb); $(fig pg_load server_cpu_per_registration_postgresql) µs of scittd CPU per registration against $(fig pg_load server_cpu_per_registration_lmdb) (the database's own CPU not counted); only 201s whose receipt verifies count; data on $(fs pg_load)"
pg_lat_how="$pg_how; $(fig pg_load unanswered_postgresql) requests unanswered at the end count at their age then"
pgr_how="GET /entries/{id} round robin over $(fig pg_reads entries | cut -d' ' -f1) entries, closed loop, 32 connections (split between the instances for two); a second instance on the same database with the first's service keys; the database, the instances and the client on the same 2 cores; every 16th receipt verified; $(fig pg_reads server_cpu_per_read_pg) µs of scittd CPU per read against $(fig pg_reads server_cpu_per_read_lmdb) on LMDB (the database's own CPU not counted); data on $(fs pg_reads)"
fo_how="three scittd instances on one PostgreSQL (--lease-ms $(fig failover failover_lease | cut -d' ' -f1)), a client registering through each; the sequencing instance SIGKILLed at a random moment under load $(fig failover failover_kills) times; from the kill to three 201s through the survivors; every round checked for lost entries and forks"
# --- figures: readflood (registration latency alone and beside a flood of costly queries) ---
flood_p99=$(fig readflood registration_p99_query_flood)
alone_p99=$(fig readflood registration_p99_alone)
flood_how="development policy; 2,000/s offered, every 201's receipt verified; beside $(fig readflood queries_per_s) queries/s that each read $(fig readflood entries_per_query) entries ($(fig readflood queries_refused) answered 503); $(fig readflood unanswered_query_flood) registrations unanswered at the end count at their age; data on $(fs readflood)"
# --- figures: scale (10M entries: reads warm and cold, registrations, restart, storage) ---
reads=$(fig scale receipt_reads)
cold=$(fig scale receipt_reads_cold)
hceil=$(fig scale http_ceiling)
at_scale=$(fig scale registrations_at_scale)
empty=$(fig scale registrations_empty)
scale_fs=$(fs scale)
read_check="200s only, $(sampled receipt "$(fig scale read_verify_every)") verified"
warm_how="warm: $(fig scale warm_reads_entries) entries spread over the log read round robin after one untimed pass over all of them ($(fig scale page_cache_warm) % of the data files in the page cache then); $read_check; data on $scale_fs"
cold_how="cold-ish: $(fig scale cold_reads_entries) random entries over the whole log read once each, scittd restarted after the data files' pages were dropped (POSIX_FADV_DONTNEED; in cache $(fig scale page_cache_cold_before) % → $(fig scale page_cache_cold_dropped) %, $(fig scale page_cache_cold_after) % after the reads); $read_check; data on $scale_fs"
scale_reg_how="development policy; only 201s whose receipt verifies (every one checked); best of 3 alternating rounds; the index read into the page cache before ($(fig scale page_cache_index_at_scale) % resident), the data file as the reads left it; data on $scale_fs"
# --- figures: cose_bench (offline verification, cold and cached) ---
tv_cold=$(fig cose_bench transparent_verify_cold)
pair=$(fig cose_bench ecdsa_p256_verify_raw_pair)
tv_cached=$(fig cose_bench transparent_verify_cached)
raw2=$(fig cose_bench ecdsa_p256_verify_raw_again)
# --- figures: check_bench (the check stage in process, both policies) ---
chk=$(fig check_bench service_check)
chk_prod=$(fig check_bench service_check_production)
chkraw=$(fig check_bench ecdsa_p256_verify_raw)
# --- figures: witness_bench (three witnesses configured vs none, head signed -> witnessed) ---
wreg=$(fig witness_bench registrations_witnessed)
wnone=$(fig witness_bench registrations_none)
wit_how="development policy; three scitt witness serve on loopback, all required, their state on $(fig witness_bench witness_state | sed 's|/scitt-witness-bench.*||') (witnesses elsewhere: their fsyncs are not the log's); $(fig witness_bench witness_rounds_during_closed_loops) rounds during the closed loops; 3 alternating rounds each; data on $(fs witness_bench)"
lag_how="from a 201 to GET /checkpoint serving a witnessed checkpoint of at least the newest size (polled every 0.5 ms), scittd --witness-interval-ms 100 (the default)"
lag_idle="one registration at a time on an idle log (each after the interval passed): $lag_how"
lag_busy="registrations back to back (each as soon as the last was witnessed, so its round waits for the interval): $lag_how"
# --- figures: events_bench (1,000 /events subscribers vs none at 5,000/s offered, same run) ---
ev_reg=$(fig events_bench registrations_subscribers)
ev_none=$(fig events_bench registrations_none)
ev_how="development policy, 5,000/s offered in phases alternating with and without $(fig events_bench subscribers | cut -d' ' -f1) subscribers (990 watching one subject each, 10 every entry); every 4th 201's receipt verified; $(fig events_bench events_delivered) events delivered, each subscriber's checked; scittd's resident memory at most $(fig events_bench server_rss_max_subscribers) MiB with them, $(fig events_bench server_rss_max_none) MiB without; data on $(fs events_bench)"
# --- figures: ledger_bench ---
la=$(fig ledger_bench ledger_append)
lraw=$(fig ledger_bench lmdb_raw_append)

{
    echo "# Benchmark results"
    echo
    echo "Written by \`make bench\` (scripts/bench.sh); every figure below comes from the run"
    echo "described here, and every ceiling was measured in the same run as the figure it bounds."
    echo
    echo "- date: $started (UTC)"
    echo "- machine: $cpu, $cores cores, $mem, $(uname -sr); file systems: load on $(fs load), scale on $(fs scale), ledger_bench on $(fs ledger_bench)"
    echo "- load average (1, 5, 15 min) before: $load_before; after: $load_after"
    echo "- commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
    echo
    echo "## Headline figures"
    echo
    echo "| figure | measured | ceiling / baseline (same run) | ratio | target | | how measured |"
    echo "| --- | --- | --- | --- | --- | --- | --- |"
    # --- rows: load (production policy headline, development policy beside it) ---
    row "registrations, closed loop, receipt in the 201, production policy (load)" "$reg" "/s" "ECDSA P-256 verify, all cores" "$ceil" "$(ratio "$reg" "$ceil")" "≥ 10,000/s and ratio ≥ 0.3" ">=" 10000 ">=" 0.3 "$load_prod"
    row "registrations, closed loop, development policy (load)" "$reg_dev" "/s" "ECDSA P-256 verify, all cores" "$ceil" "$(ratio "$reg_dev" "$ceil")" "" "" "" "" "" "$load_dev"
    row "latency p99 at 5,000/s offered, production policy (load)" "$(fig load latency_production_p99)" "ms" "" "" "" "≤ 50 ms" "<=" 50 "" "" "$lat_prod"
    row "latency p999 at 5,000/s offered, production policy (load)" "$(fig load latency_production_p999)" "ms" "" "" "" "≤ 100 ms" "<=" 100 "" "" "$lat_prod"
    row "latency p99 at 5,000/s offered, development policy (load)" "$(fig load latency_development_p99)" "ms" "" "" "" "" "" "" "" "" "$lat_dev"
    row "registrations, closed loop, receipt key in a PKCS#11 token (pkcs11_load)" "$reg_p11" "/s" "keystore key, same run" "$reg_p11_file" "$(ratio "$reg_p11" "$reg_p11_file")" "" "" "" "" "" "$p11_how"
    row "registration latency p99 at 2,000/s beside a /query flood (readflood)" "$flood_p99" "ms" "alone, same run" "$alone_p99" "$(ratio "$flood_p99" "$alone_p99")" "" "" "" "" "" "$flood_how"
    # --- rows: pg_load, failover (PostgreSQL) ---
    row "registrations, closed loop, log in PostgreSQL (pg_load)" "$reg_pg" "/s" "LMDB, same run" "$reg_pg_lmdb" "$(ratio "$reg_pg" "$reg_pg_lmdb")" "ratio ≥ 0.4" ">=" 0 ">=" 0.4 "$pg_how"
    row "latency p99 at 5,000/s offered, log in PostgreSQL (pg_load)" "$(fig pg_load latency_postgresql_p99)" "ms" "LMDB, same run" "$(fig pg_load latency_lmdb_p99)" "$(ratio "$(fig pg_load latency_postgresql_p99)" "$(fig pg_load latency_lmdb_p99)")" "" "" "" "" "" "$pg_lat_how"
    row "receipt reads, log in PostgreSQL, one instance (pg_reads)" "$(fig pg_reads reads_pg_one)" "/s" "LMDB, same run" "$(fig pg_reads reads_lmdb)" "$(ratio "$(fig pg_reads reads_pg_one)" "$(fig pg_reads reads_lmdb)")" "" "" "" "" "" "$pgr_how"
    row "receipt reads, log in PostgreSQL, two instances (pg_reads)" "$(fig pg_reads reads_pg_two)" "/s" "one instance, same run" "$(fig pg_reads reads_pg_one)" "$(ratio "$(fig pg_reads reads_pg_two)" "$(fig pg_reads reads_pg_one)")" "" "" "" "" "" "$pgr_how"
    row "failover, leader killed to next 201, p50 (failover)" "$(fig failover failover_p50)" "s" "" "" "" "" "" "" "" "" "$fo_how"
    row "failover, leader killed to next 201, max (failover)" "$(fig failover failover_max)" "s" "" "" "" "≤ 5 s" "<=" 5 "" "" "$fo_how"
    # --- rows: scale ---
    row "receipt reads, warm, at $scale_entries entries (scale)" "$reads" "/s" "GET /healthz" "$hceil" "$(ratio "$reads" "$hceil")" "≥ 20,000/s" ">=" 20000 "" "" "$warm_how"
    row "receipt reads, cold-ish, random over the whole log, at $scale_entries entries (scale)" "$cold" "/s" "warm receipt reads" "$reads" "$(ratio "$cold" "$reads")" "" "" "" "" "" "$cold_how"
    row "registrations at $scale_entries entries vs empty (scale)" "$at_scale" "/s" "empty ledger" "$empty" "$(ratio "$at_scale" "$empty")" "ratio ≥ 0.8" ">=" 0 ">=" 0.8 "$scale_reg_how"
    row "restart at $scale_entries entries, exec to READY (scale)" "$(fig scale restart)" "ms" "" "" "" "≤ 1,000 ms" "<=" 1000 "" "" "median of 3; data on $scale_fs"
    search_how="GET /query, 20 rows, JSON, time to the first row, $(fig scale search_wrong) wrong answers (every answer checked against what was built); p50 by subject $(fig scale search_sub_p50) ms, by issuer $(fig scale search_iss_p50) ms, by digest $(fig scale search_digest_p50) ms, by time $(fig scale search_time_range_p50) ms; after the cold reads; data on $scale_fs"
    row "search p99 by subject at $scale_entries entries (scale)" "$(fig scale search_sub_p99)" "ms" "" "" "" "" "" "" "" "" "$search_how"
    row "search p99 by issuer, from a random cursor, at $scale_entries entries (scale)" "$(fig scale search_iss_p99)" "ms" "" "" "" "" "" "" "" "" "$search_how"
    row "search p99 by payload digest at $scale_entries entries (scale)" "$(fig scale search_digest_p99)" "ms" "" "" "" "" "" "" "" "" "$search_how"
    row "search p99 by a second of registration time at $scale_entries entries (scale)" "$(fig scale search_time_range_p99)" "ms" "" "" "" "" "" "" "" "" "$search_how"
    row "storage overhead at $scale_entries entries (scale)" "$(fig scale storage_overhead)" "B/entry" "" "" "" "≤ 200 B/entry" "<=" 200 "" "" "allocated blocks as built; data on $scale_fs"
    # --- rows: cose_bench (offline verification) ---
    row "offline verification, cold: issuer signature + receipt (cose_bench)" "$tv_cold" "/s" "two raw ECDSA P-256 verifies" "$pair" "$(ratio "$tv_cold" "$pair")" "ratio ≥ 0.85" ">=" 0 ">=" 0.85 "every receipt against its own tree head, no signature memo (a relying party verifying one statement); in process, one thread, no disk"
    row "offline verification, cached receipt signature (cose_bench)" "$tv_cached" "/s" "raw ECDSA P-256 verify" "$raw2" "$(ratio "$tv_cached" "$raw2")" "" "" "" "" "" "1,024 receipts share one tree head: its signature is memoised (verified once), the issuer signature and every proof are checked each time; in process, one thread"
    # --- rows: check_bench ---
    row "check stage alone, one thread, development policy (check_bench)" "$chk" "/s" "raw ECDSA P-256 verify" "$chkraw" "$(ratio "$chk" "$chkraw")" "" "" "" "" "" "x5chain leaf key through the key cache; in process"
    row "check stage alone, one thread, production policy (check_bench)" "$chk_prod" "/s" "raw ECDSA P-256 verify" "$chkraw" "$(ratio "$chk_prod" "$chkraw")" "" "" "" "" "" "x5chain validated to the root CA at every check; in process"
    # --- rows: witness_bench ---
    row "registrations, closed loop, three witnesses configured (witness_bench)" "$wreg" "/s" "no witnesses, same run" "$wnone" "$(ratio "$wreg" "$wnone")" "ratio ≥ 0.95" ">=" 0 ">=" 0.95 "$wit_how"
    row "head signed to witnessed, idle log, p50 (witness_bench)" "$(fig witness_bench witness_lag_idle_p50)" "ms" "" "" "" "" "" "" "" "" "$lag_idle"
    row "head signed to witnessed, idle log, p99 (witness_bench)" "$(fig witness_bench witness_lag_idle_p99)" "ms" "" "" "" "" "" "" "" "" "$lag_idle"
    row "head signed to witnessed, back to back, p50 (witness_bench)" "$(fig witness_bench witness_lag_busy_p50)" "ms" "" "" "" "" "" "" "" "" "$lag_busy"
    row "head signed to witnessed, back to back, p99 (witness_bench)" "$(fig witness_bench witness_lag_busy_p99)" "ms" "" "" "" "" "" "" "" "" "$lag_busy"
    # --- rows: events_bench ---
    row "registrations at 5,000/s offered with 1,000 /events subscribers (events_bench)" "$ev_reg" "/s" "no subscriber, same run" "$ev_none" "$(ratio "$ev_reg" "$ev_none")" "" "" "" "" "" "$ev_how"
    row "registration latency p99 with 1,000 /events subscribers (events_bench)" "$(fig events_bench latency_subscribers_p99)" "ms" "no subscriber, same run" "$(fig events_bench latency_none_p99)" "$(ratio "$(fig events_bench latency_subscribers_p99)" "$(fig events_bench latency_none_p99)")" "" "" "" "" "" "$ev_how"
    row "event lag p99, 201 to the subscriber (events_bench)" "$(fig events_bench event_lag_p99)" "ms" "" "" "" "" "" "" "" "" "from the load client receiving a 201 to a subscriber receiving its event; p50 $(fig events_bench event_lag_p50) ms"
    # --- rows: ledger_bench ---
    row "ledger append, durable, no HTTP (ledger_bench)" "$la" "entries/s" "raw LMDB append" "$lraw" "$(ratio "$la" "$lraw")" "" "" "" "" "" "durable LMDB commits on $(fs ledger_bench) (tmpfs refused)"
    echo
    # --- errors: every "error:" line of every benchmark, and the benchmarks that failed ---
    errs=$(for f in "$out"/*.txt; do
        [ -f "$f" ] && grep 'error:' "$f" | sed "s|^|$(basename "$f" .txt): |"
    done || true)
    failed=$(failed_list)
    if [ -n "$errs$failed" ]; then
        echo "## Errors"
        echo
        [ -z "$failed" ] || echo "Failed: $failed"
        echo
        echo '```'
        echo "$errs"
        echo '```'
        echo
    fi
    if [ -n "$(fig scale fill)" ]; then
        echo "Building the scale ledger took $(fig scale fill) s ($(fig scale fill_rate) entries/s, every"
        echo "statement signed and checked) and it takes $(fig scale disk) bytes on disk; later runs reuse it."
        echo
    fi
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
if [ -n "$(failed_list)" ]; then
    echo "benchmarks failed: $(failed_list)" >&2
    exit 1
fi
