#!/bin/bash
# What a shared library of scittd exports, checked on the built file:
#   exports.sh LIB.so [HEADER...]
#  - every defined dynamic symbol is a public name scitt_[a-z0-9]... (no scitt__ internal, no
#    LMDB mdb_, libuv uv_, libpq PQ/pg_ name, nothing else), so -fvisibility=hidden and SCITT_API
#    are in force;
#  - it needs neither LMDB, libuv, libpq nor p11-kit (DT_NEEDED: PKCS#11 signing is in
#    libscitt_pkcs11, linked by scitt and scittd only) and leaves none of their names undefined;
#  - every function the given public headers declare SCITT_API is exported (a forgotten mark).
set -u
lib=$1
shift
fails=0
fail() { echo "FAIL $*"; fails=$((fails + 1)); }
[ -f "$lib" ] || { echo "FAIL no such library: $lib"; exit 1; }
defined=$(nm -D --defined-only "$lib" | awk 'NF == 3 { print $3 }' | sort -u)
[ -n "$defined" ] || fail "$lib exports nothing"
# (__odr_asan.NAME: AddressSanitizer's one-definition-rule marker beside an exported variable.)
bad=$(echo "$defined" | grep -vE '^scitt_[a-z0-9][a-z0-9_]*$' | grep -vE '^(_init|_fini|__odr_asan\..*)$' | tr '\n' ' ')
[ -z "$bad" ] || fail "$lib exports names that are not public scitt_ API: $bad"
internal=$(echo "$defined" | grep -E '^(scitt__|mdb_|uv_|PQ|pg_)' | tr '\n' ' ')
[ -z "$internal" ] || fail "$lib exports internals: $internal"
needed=$(readelf -d "$lib" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p' | tr '\n' ' ')
if echo "$needed" | grep -qE 'liblmdb|libuv|libpq|libp11-kit'; then fail "$lib needs $needed"; fi
undef=$(nm -D --undefined-only "$lib" | awk '{ print $NF }' | grep -E '^(mdb_|uv_|PQ|p11_kit_)' | tr '\n' ' ')
[ -z "$undef" ] || fail "$lib leaves undefined: $undef"
declared=$(for h in "$@"; do
    # A declaration may be wrapped before its name: join such lines first. Data (extern const)
    # counts too.
    sed -e ':a' -e '/^SCITT_API[^(;]*$/{N;s/\n/ /;ba}' "$h" |
        sed -n -e 's/^SCITT_API \(.*[ *]\)\?\(scitt_[a-z0-9_]*\)(.*/\2/p' \
            -e 's/^SCITT_API extern .*[ *]\(scitt_[a-z0-9_]*\)[[;].*/\1/p'
done | sort -u)
n=$(echo "$declared" | grep -c .)
[ $# -eq 0 ] || [ "$n" -gt 0 ] || fail "no SCITT_API declaration found in $*"
missing=$(comm -23 <(echo "$declared") <(echo "$defined") | tr '\n' ' ')
[ -z "${missing// /}" ] || fail "declared SCITT_API but not exported by $lib: $missing"
echo "$lib: $(echo "$defined" | wc -l) exported symbols, $n declared functions checked, $fails failures"
[ "$fails" -eq 0 ]
