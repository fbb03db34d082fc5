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

step "--json on failure: a JSON error object on stdout, for every command"
# nothing listens on port 1; each command fails after option parsing, in the network
for args in "register --url http://127.0.0.1:1/pfx x.stmt" \
    "get --url http://127.0.0.1:1/pfx $(printf 'a%.0s' $(seq 64)) --out got.x" \
    "keys --url http://127.0.0.1:1/pfx --out keys.x" "query --url http://127.0.0.1:1/pfx" \
    "attest export --url http://127.0.0.1:1/pfx --out att.x" \
    "audit --url http://127.0.0.1:1/pfx --state st"; do
    cmd=${args%% --url*}
    printf '\322\204' >x.stmt # any COSE_Sign1 would do: the statement is never sent
    # shellcheck disable=SC2086
    "$SCITT" $args --json >"$T/out" 2>"$T/err"
    got=$?
    checks=$((checks + 1))
    if [ "$got" = 2 ] && grep -q '^{"error":".*","command":".*","exit_status":2}$' "$T/out" ||
        { [ "$cmd" = audit ] && grep -q '"result"' "$T/out"; }; then
        echo "ok: $cmd --json: $(head -c 160 "$T/out")"
    else
        fails=$((fails + 1))
        echo "FAIL: $cmd --json on failure: exit $got, stdout:"
        sed 's/^/  | /' "$T/out"
    fi
done
expect 2 "keygen --json on a usage error" "$SCITT" keygen --json
has "$T/out" '"exit_status":2}' "a JSON error object too"

step "network errors name the whole URL"
expect 2 "keys, nothing listening" "$SCITT" keys --url http://127.0.0.1:1/scitt/v1 --out k.x
has "$T/err" "GET http://127.0.0.1:1/scitt/v1/.well-known/scitt-keys: cannot connect" \
    "method, scheme, host, port and path prefix"
one_line "connection message"

step "help, -h, version and usage errors"
expect 0 "scitt help register" "$SCITT" help register
has "$T/out" "usage: scitt register" "the command's help"
for c in keygen sign register verify attach get keys inspect query audit monitor export-tiles \
    attest witness; do
    expect 0 "scitt $c -h" "$SCITT" $c -h
    has "$T/out" "usage: scitt $c" "$c -h is its --help"
done
expect 2 "scitt help nosuch" "$SCITT" help nosuch
one_line "help of an unknown command"
expect 0 "scitt version" "$SCITT" version
has "$T/out" "scitt " "prints the version"
expect 0 "scitt --version" "$SCITT" --version
expect 2 "query --digest sha256:xyz is a usage error" "$SCITT" query --url http://127.0.0.1:1 \
    --digest sha256:xyz
expect 2 "verify --digest sha256:xyz is a usage error (it exited 1, as a failed check)" \
    "$SCITT" verify x.ts --trust k.cbor --digest sha256:xyz
one_line "verify digest usage message"
has "$T/err" "--digest is [ALG:]HEX" "the message says what a digest is"
expect 2 "an unknown option" "$SCITT" verify --no-such-option x
expect 2 "an unknown command" "$SCITT" frobnicate

step "a URL that is not http(s)"
expect 2 "query --url ftp://example.org is refused" "$SCITT" query --url ftp://example.org
check "  saying why" grep -q "ftp://example.org" "$T/err"

finish
