#!/bin/sh
# interop.sh SCITT SCITTD INTEROP_HOME
# Both directions with the independent harness (label interop, needs the interop fixture):
# a fresh fixture from @transmute/cose verified by `scitt verify`, and a transparent statement
# registered in a real scittd and written by `scitt register`, verified by the harness.
SCITT=$1
SCITTD=$2
H=$3
. "$(dirname "$0")/lib.sh"
cd "$T" || exit 2
. "$H/lib/env.sh" || exit 2
node=${SCITT_INTEROP_NODE:-$SCITT_INTEROP_INSTALLED_NODE}

step "a fresh @transmute/cose fixture, verified by scitt"
mkdir js
(cd "$H/js" && "$node" make-fixture.mjs "$T/js") >/dev/null || { echo "FAIL: make-fixture"; exit 1; }
expect 0 "transparent statement (two receipts)" "$SCITT" verify js/transparent-statement.cbor \
    --trust js/services.jwks.json --issuer-key js/issuer.jwk.json
expect 0 "statement + receipt" "$SCITT" verify js/statement.cbor --receipt js/receipt.cbor \
    --trust js/service.jwk.json --json
has "$T/out" '"ok":true' "verified"

step "scitt register output, verified by the harness"
start_scittd "$T/data"
"$SCITT" keygen --out ci --self-signed-cert --subject ci >/dev/null
printf '{"interop":true}' >p.json
"$SCITT" sign --key ci.key --cert ci.crt --iss https://ci.example --sub interop --payload p.json \
    --out p.stmt >/dev/null
expect 0 "register" "$SCITT" register --url "$URL" p.stmt --out p.ts
expect 0 "keys --jwks" "$SCITT" keys --url "$URL" --jwks --out keys.jwks
expect 0 "verify-receipt (@transmute/cose) accepts scitt's transparent statement" \
    "$H/bin/verify-receipt" --key keys.jwks --transparent p.ts --issuer-key ci.pub
has "$T/out" "RESULT: OK" "the harness says OK"
expect 0 "cose-check (cbor2, cryptography) accepts scitt's statement" \
    "$H/bin/cose-check" p.stmt --key ci.pub --require-tag --deterministic
stop_scittd

finish
