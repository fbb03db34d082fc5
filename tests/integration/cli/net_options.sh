#!/bin/sh
# The network options as one group (tools/net.h): every command that talks to a service takes
# --url, --cacert, --timeout and --json, lists them in one block of its --help with its own
# --timeout default and bounds, and enforces exactly those bounds. No service is needed: every
# case is refused, or gets past option parsing, before any request.
#   net_options.sh SCITT
SCITT=$1
. "$(dirname "$0")/lib.sh"

# check DESCRIPTION COMMAND...: passes when COMMAND succeeds.
check() {
    desc=$1
    shift
    checks=$((checks + 1))
    if "$@" >/dev/null 2>&1; then
        echo "ok: $desc"
    else
        fails=$((fails + 1))
        echo "FAIL: $desc"
    fi
}

# command, --timeout default, lowest, highest
while read -r cmd def lo hi; do
    cmd=$(echo "$cmd" | tr _ ' ')
    step "scitt $cmd"
    # shellcheck disable=SC2086
    expect 0 "$cmd --help" "$SCITT" $cmd --help
    for o in "--url URL" "--cacert FILE" "--timeout S" "--json"; do
        n=$(grep -c -- "^  $o  " "$T/out")
        check "$cmd --help lists $o once in the option block ($n)" test "$n" = 1
    done
    check "$cmd --help states --timeout's default $def and bounds $lo..$hi" \
        grep -q -- "^  --timeout S .*(default $def; $lo\.\.$hi)$" "$T/out"
    # shellcheck disable=SC2086
    expect 2 "$cmd --timeout $((hi + 1)) is refused" "$SCITT" $cmd --url http://127.0.0.1:9 --timeout $((hi + 1))
    check "  with the command's bounds" grep -q -- "--timeout must be $lo\.\.$hi seconds" "$T/err"
    if [ "$lo" -gt 0 ]; then
        # shellcheck disable=SC2086
        expect 2 "$cmd --timeout $((lo - 1)) is refused" "$SCITT" $cmd --url http://127.0.0.1:9 --timeout $((lo - 1))
        check "  with the command's bounds" grep -q -- "--timeout must be $lo\.\.$hi seconds" "$T/err"
    fi
    # shellcheck disable=SC2086
    "$SCITT" $cmd --url http://127.0.0.1:9 --timeout "$hi" --json >"$T/out" 2>"$T/err"
    check "$cmd --timeout $hi --json get past option parsing" sh -c "! grep -q -- '--timeout must\|unknown option' '$T/err'"
    # shellcheck disable=SC2086
    expect 2 "$cmd --timeout x is refused" "$SCITT" $cmd --url http://127.0.0.1:9 --timeout x
done <<EOF_CMDS
register 60 1 86400
get 0 0 86400
refresh 30 1 3600
keys 30 1 3600
query 60 1 3600
attest_export 30 1 3600
audit 30 1 3600
EOF_CMDS

step "a URL that is not http(s)"
expect 2 "query --url ftp://example.org is refused" "$SCITT" query --url ftp://example.org
check "  saying why" grep -q "ftp://example.org" "$T/err"

finish
