#!/bin/sh
# oci_plain.sh SCITT
# Plain HTTP to a registry's services off loopback needs --plain-http. A real registry
# (docker-registry on loopback, plain HTTP, which a loopback registry may speak) whose token
# authentication sends clients to a realm on a TEST-NET-1 address (192.0.2.1, RFC 5737: never
# routed), over plain http. Without --plain-http, scitt refuses the realm with a message naming
# the flag, and connect(2) (traced with strace) is never called for that address, so no
# credentials could have left; with --plain-http it does try that address.
SCITT=$1
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
. "$HERE/registry.sh"
trap 'stop_registries; cleanup' EXIT INT TERM
cd "$T" || exit 2
for tool in docker-registry strace curl; do
    command -v "$tool" >/dev/null || {
        echo "FAIL: $tool is missing (scripts/install-deps.sh installs it)"
        exit 1
    }
done
REALM=http://192.0.2.1:9/token

step "a loopback registry whose token realm is plain HTTP on a TEST-NET address"
reg_certs || exit 1
start_registry P "$(printf 'auth:\n  token:\n    realm: %s\n    service: test-registry\n    issuer: test-issuer\n    rootcertbundle: %s' \
    "$REALM" "$T/reg-tls/ca.crt")" plain
P=$REG_P
code=$(curl -s -o /dev/null -D hdr -w '%{http_code}' "http://$P/v2/")
checks=$((checks + 1))
if [ "$code" = 401 ] && grep -qF "realm=\"$REALM\"" hdr; then
    echo "ok: the registry challenges with the plain-HTTP realm"
else
    fails=$((fails + 1))
    echo "FAIL: the registry answered $code: $(cat hdr)"
fi
expect 0 "a trust file" "$SCITT" keygen --out svc

# traced CODE DESC TRACE ARGS...: runs scitt under strace, its connect(2) calls in TRACE.
traced() {
    want=$1
    desc=$2
    tr=$3
    shift 3
    expect "$want" "$desc" strace -f -qq -e trace=connect -o "$T/$tr" "$SCITT" "$@"
}
# connects_to TRACE ADDRESS: did the traced run call connect(2) for ADDRESS?
connects_to() {
    grep -q "connect(.*inet_addr(\"$2\")" "$T/$1" 2>/dev/null
}

step "without --plain-http: refused before any connection to it"
traced 2 "verify --image is refused" t1 verify --image "$P/team/app:1" --trust svc.pub
has "$T/err" "the token realm $REALM is plain HTTP (give --plain-http to allow it)" \
    "the message names the realm and the flag"
checks=$((checks + 1))
if connects_to t1 127.0.0.1 && ! connects_to t1 192.0.2.1; then
    echo "ok: the registry was reached, the realm's address never connected to"
else
    fails=$((fails + 1))
    echo "FAIL: connect(2) calls:"
    grep connect "$T/t1" | sed 's/^/  | /'
fi

step "with --plain-http: the realm is used"
# The address is never answered: once scitt has called connect(2) for it, it is stopped (its own
# deadline is 30 s).
strace -f -qq -e trace=connect -o "$T/t2" "$SCITT" verify --image "$P/team/app:1" \
    --trust svc.pub --plain-http >"$T/out" 2>"$T/err" &
ST=$!
i=0
while [ $i -lt 200 ] && ! connects_to t2 192.0.2.1 && kill -0 "$ST" 2>/dev/null; do
    sleep 0.1
    i=$((i + 1))
done
checks=$((checks + 1))
if connects_to t2 192.0.2.1; then
    echo "ok: scitt connected to the realm's address"
else
    fails=$((fails + 1))
    echo "FAIL: no connect(2) to 192.0.2.1:"
    grep connect "$T/t2" | sed 's/^/  | /'
    sed 's/^/  stderr: /' "$T/err"
fi
# scitt itself is stopped (strace, stopped, would leave it running): its pid heads the line
sp=$(grep 'connect(.*inet_addr("192.0.2.1")' "$T/t2" | head -1 | cut -d' ' -f1)
[ -n "$sp" ] && kill -TERM "$sp" 2>/dev/null
kill -TERM "$ST" 2>/dev/null
wait "$ST" 2>/dev/null
lacks "$T/err" "is plain HTTP" "not refused"

stop_registries
finish
