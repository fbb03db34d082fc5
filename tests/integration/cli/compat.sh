#!/bin/sh
# compat.sh SCITT SCITTD: `scitt register` with the registration flows of older SCRAPI drafts.
#  1. against a real scittd started with --compat-operations (202, /operations/{id}, CBOR
#     operation bodies), the result verified with the service's keys;
#  2. against scrapi_peer.py, a loopback responder answering in the shapes of Microsoft's Code
#     Transparency API description (versions 2025-01-31-preview and 2026-03-26: operations, 303
#     See Other and 302 Found while pending, Retry-After as seconds and as an HTTP date, the
#     api-version query parameter), serving the receipt scittd gave, so the result verifies too;
#     and the redirect rules: no bearer token to another origin, at most 5 redirects, a running
#     operation bounded by --timeout.
SCITT=$1
SCITTD=$2
PEER=$(cd "$(dirname "$0")" && pwd)/scrapi_peer.py
. "$(dirname "$0")/lib.sh"
cd "$T" || exit 2
command -v python3 >/dev/null || { echo "FAIL: python3 is required (scripts/install-deps.sh)"; exit 1; }

"$SCITT" keygen --out ci --self-signed-cert --subject "CI signer" >/dev/null || exit 1
printf '{"name":"app"}\n' >app.json
"$SCITT" sign --key ci.key --cert ci.crt --iss https://ci.example/app --sub app \
    --payload app.json --out app.stmt >/dev/null || exit 1

step "scittd --compat-operations"
start_scittd "$T/data" --compat-operations
expect 0 "register through /operations/{id}" "$SCITT" register --url "$URL" app.stmt \
    --out app.ts --receipt-out app.receipt --json
ID=$(json_field entry_id)
has "$T/out" '"entry_id":"' "the entry ID from the operation"
expect 0 "keys" "$SCITT" keys --url "$URL" --out keys.cbor
expect 0 "the transparent statement verifies" "$SCITT" verify app.ts --trust keys.cbor
expect 0 "get the entry the operation named" "$SCITT" get --url "$URL" "$ID" --out got.receipt
stop_scittd

# peer MODE: starts scrapi_peer.py; sets URL and SERVER_PID; requests go to $T/log.
peer() {
    rm -f "$T/log" "$T/port"
    python3 "$PEER" "$1" app.receipt "$T/log" >"$T/port" 2>"$T/peer.err" &
    SERVER_PID=$!
    i=0
    while [ $i -lt 100 ] && ! grep -q PORT "$T/port" 2>/dev/null; do
        sleep 0.1
        i=$((i + 1))
    done
    port=$(sed -n 's/^PORT //p' "$T/port")
    [ -n "$port" ] || { echo "FAIL: the $1 responder did not start"; cat "$T/peer.err"; exit 1; }
    URL=http://127.0.0.1:$port
    echo "== responder $1 at $URL"
}
unpeer() {
    kill "$SERVER_PID" 2>/dev/null
    wait "$SERVER_PID" 2>/dev/null
    SERVER_PID=
}
# logged PATTERN COUNT DESCRIPTION: COUNT requests in $T/log match PATTERN (grep -E).
logged() {
    checks=$((checks + 1))
    n=$(grep -Ec -- "$1" "$T/log" 2>/dev/null)
    if [ "$n" = "$2" ]; then
        echo "ok: $3"
    else
        fails=$((fails + 1))
        echo "FAIL: $3: $n requests match $1, expected $2"
        sed 's/^/  | /' "$T/log"
    fi
}
# gap_at_least N M SECONDS DESCRIPTION: request M came at least SECONDS after request N.
gap_at_least() {
    checks=$((checks + 1))
    a=$(sed -n "$1s/.* t=//p" "$T/log")
    b=$(sed -n "$2s/.* t=//p" "$T/log")
    if [ -n "$a" ] && [ -n "$b" ] && awk "BEGIN{exit !($b - $a >= $3)}"; then
        echo "ok: $4 ($a -> $b)"
    else
        fails=$((fails + 1))
        echo "FAIL: $4: requests $1 and $2 at $a and $b, less than $3 s apart"
        sed 's/^/  | /' "$T/log"
    fi
}

step "2025-01-31-preview: 202 and /operations/{id}"
peer ops
expect 0 "register through the operation" env SCITT_TOKEN=s3cret "$SCITT" register --url "$URL" \
    app.stmt --api-version 2025-01-31-preview --out ops.ts --receipt-out ops.receipt --json
has "$T/out" '"entry_id":"2.131"' "the entry ID the operation named"
expect 0 "the transparent statement verifies" "$SCITT" verify ops.ts --trust keys.cbor
logged '^POST /entries\?api-version=2025-01-31-preview auth=yes' 1 "POST with api-version and token"
logged '^GET /operations/2\.131\?api-version=2025-01-31-preview auth=yes' 3 \
    "three polls of the operation (202, running, succeeded), token on the same origin"
logged '^GET /entries/2\.131\?api-version=2025-01-31-preview' 1 "then the receipt"
# request 1 is scitt's look for the statement (GET /entries/{its digest}), request 2 the POST
gap_at_least 2 3 1 "the first poll waited for the Retry-After HTTP date"
gap_at_least 3 4 1 "the second poll waited for Retry-After: 1"
gap_at_least 4 5 0.45 "the third poll backed off (no Retry-After)"
unpeer

step "an operation that failed"
peer failed
expect 1 "register reports the failure" "$SCITT" register --url "$URL" app.stmt --out f.ts
one_line "failure message"
has "$T/err" "Bad Signature Algorithm" "it carries the operation's error title"
has "$T/err" "non supported algorithm" "and detail"
[ ! -e f.ts ] && echo "ok: nothing written" || { fails=$((fails + 1)); echo "FAIL: f.ts written"; }
unpeer

step "2026-03-26: 303 See Other, 302 Found while pending"
peer seeother
expect 0 "register through the redirects" env SCITT_TOKEN=s3cret "$SCITT" register --url "$URL" \
    app.stmt --api-version 2026-03-26 --out so.ts --json
has "$T/out" '"entry_id":"2.132"' "the entry ID from the Location"
expect 0 "the transparent statement verifies" "$SCITT" verify so.ts --trust keys.cbor
logged '^GET /entries/2\.132\?api-version=2026-03-26 auth=yes' 3 "302, 302, then the receipt"
gap_at_least 3 4 1 "a 302 with Retry-After: 1 is waited for"
unpeer

step "a redirect to another origin"
peer elsewhere
expect 0 "register follows it" env SCITT_TOKEN=s3cret "$SCITT" register --url "$URL" app.stmt \
    --api-version 2026-03-26 --out el.ts
logged '^POST /entries\?api-version=2026-03-26 auth=yes' 1 "the token goes to the service"
logged '^GET /entries/3\.7 auth=no host=localhost' 1 "neither token nor api-version to another origin"
unpeer

step "a redirect loop"
peer loop
expect 2 "register stops" timeout 30 "$SCITT" register --url "$URL" app.stmt --out lo.ts
one_line "loop message"
has "$T/err" "more than 5 redirects" "the message says why"
logged '^GET /r/' 5 "five redirects followed, no more"
unpeer

step "an operation that never ends"
peer running
expect 2 "register gives up at --timeout" timeout 30 "$SCITT" register --url "$URL" app.stmt \
    --timeout 3 --out run.ts
has "$T/err" "no receipt within 3 s" "the message says so"
checks=$((checks + 1))
n=$(grep -c '^GET /operations/9\.9' "$T/log")
if [ "$n" -ge 1 ] && [ "$n" -le 3 ]; then
    echo "ok: polled at the Retry-After pace ($n polls in 3 s)"
else
    fails=$((fails + 1))
    echo "FAIL: $n polls in 3 s with Retry-After: 1"
fi
unpeer

expect 2 "--api-version with a character it cannot carry" "$SCITT" register --url "$URL" \
    app.stmt --api-version 'a&b=c'
one_line "api-version message"
finish
