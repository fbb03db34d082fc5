#!/bin/sh
# interop.sh SCITT SCITTD INTEROP_HOME
# Both directions with the independent harness (label interop, needs the interop fixture):
# RFC 9943 media types, gzip of tiles and bundles and the 65,535-byte entry limit seen by an
# independent client (tests/interop/py/scrapi_wire.py);
# a fresh fixture from @transmute/cose verified by `scitt verify`; a transparent statement
# registered in a real scittd and written by `scitt register`, verified by the harness; what
# `scitt sign` makes with every algorithm (attached, detached, hash envelope) through the strict
# Python checker; a static `scitt export-tiles` copy through the Go tlog checker; and the
# operation flow of older SCRAPI drafts (scittd --compat-operations) driven by a strict
# pyscitt-style client on cbor2 and by `scitt register`, each result verified by
# @transmute/cose; and a pyscitt-style key lookup: the receipt's kid read as ASCII text is the
# kid of exactly one /jwks key, which verifies the receipt's signature.
SCITT=$1
SCITTD=$2
H=$3
. "$(dirname "$0")/lib.sh"
cd "$T" || exit 2
. "$H/lib/env.sh" || exit 2
PYKID=$(cd "$(dirname "$0")/../../interop/py" && pwd)/receipt_kid.py
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
expect 0 "a pyscitt-style client (cbor2, cryptography): the receipt kid as text is a /jwks kid" \
    /usr/bin/python3 "$PYKID" p.ts keys.jwks
has "$T/out" "RESULT: OK" "the receipt was matched to its /jwks key by kid and verified"
step "RFC 9943 media types, gzip tiles and bundles, the 65,535-byte entry limit: an independent client"
printf '{"wire":true}' >w.json
"$SCITT" sign --key ci.key --cert ci.crt --iss https://ci.example --sub interop-wire \
    --payload w.json --out w.stmt >/dev/null
/usr/bin/python3 -c 'import sys; open(sys.argv[1], "w").write("\"" + "z" * 70000 + "\"")' big.json
"$SCITT" sign --key ci.key --cert ci.crt --iss https://ci.example --sub interop-big \
    --payload big.json --out big.stmt >/dev/null 2>&1
mkdir -p wire
expect 0 "media types, gzip, entry size (urllib, gzip, cbor2)" /usr/bin/python3 \
    "$(dirname "$PYKID")/scrapi_wire.py" "$URL" w.stmt big.stmt wire
has "$T/out" "RESULT: OK" "the wire checks pass"
expect 0 "verify-receipt (@transmute/cose) accepts the statement fetched as scitt-statement+cose" \
    "$H/bin/verify-receipt" --key keys.jwks --transparent wire/ts.cbor --issuer-key ci.pub
has "$T/out" "RESULT: OK" "the harness says OK"
expect 0 "cose-check (cbor2, cryptography) accepts scitt's statement" \
    "$H/bin/cose-check" p.stmt --key ci.pub --require-tag --deterministic
step "scitt sign, every algorithm and form, through the strict checker (cbor2, cryptography)"
printf 'an artifact\n' >artifact.bin
for pair in ES256:-7 ES384:-35 ES512:-36 EdDSA:-8 PS256:-37; do
    alg=${pair%%:*}
    num=${pair#*:}
    "$SCITT" keygen --out "k-$alg" --alg "$alg" --self-signed-cert --subject "ci-$alg" >/dev/null ||
        { echo "FAIL: keygen $alg"; fails=$((fails + 1)); continue; }
    expect 0 "sign $alg attached" "$SCITT" sign --key "k-$alg.key" --cert "k-$alg.crt" \
        --iss https://ci.example --sub "alg/$alg" --payload p.json --out "a-$alg.stmt"
    expect 0 "cose-check: $alg attached" "$H/bin/cose-check" "a-$alg.stmt" --key "k-$alg.pub" \
        --require-tag --deterministic --alg "$num"
    has "$T/out" "RESULT: OK" "$alg attached: the checker says OK"
    expect 0 "sign $alg detached" "$SCITT" sign --key "k-$alg.key" --cert "k-$alg.crt" \
        --iss https://ci.example --sub "alg/$alg" --payload p.json --detached --out "d-$alg.stmt"
    expect 0 "cose-check: $alg detached, payload supplied" "$H/bin/cose-check" "d-$alg.stmt" \
        --key "k-$alg.pub" --payload p.json --require-tag --deterministic
    printf 'x' >other.json
    expect 1 "cose-check: $alg detached, another payload fails" "$H/bin/cose-check" \
        "d-$alg.stmt" --key "k-$alg.pub" --payload other.json --require-tag
    expect 0 "sign $alg hash envelope" "$SCITT" sign --key "k-$alg.key" --cert "k-$alg.crt" \
        --iss https://ci.example --sub "alg/$alg" --hash-envelope artifact.bin \
        --preimage-content-type application/octet-stream --out "h-$alg.stmt"
    expect 0 "cose-check: $alg hash envelope" "$H/bin/cose-check" "h-$alg.stmt" \
        --key "k-$alg.pub" --require-tag --deterministic
    expect 0 "register the $alg statement" "$SCITT" register --url "$URL" "a-$alg.stmt" \
        --out "a-$alg.ts"
done

step "a static export-tiles copy, checked by the Go tlog harness (x/mod sumdb)"
expect 0 "configuration" "$SCITT" keys --url "$URL" --out keys.cbor --config config.cbor
expect 0 "inspect the configuration" "$SCITT" inspect config.cbor
vkey=$(sed -n 's/.*"checkpoint_vkey": "\([^"]*\)".*/\1/p' "$T/out")
expect 0 "export-tiles while scittd runs" "$SCITT" export-tiles --data "$T/data" --out static
expect 0 "tlogcheck: the exported checkpoint" "$H/bin/tlogcheck" checkpoint -vkey "$vkey" \
    static/checkpoint
has "$T/out" "RESULT: OK" "checkpoint OK"
size=$(sed -n 2p static/checkpoint)
for idx in 0 $((size / 2)) $((size - 1)); do
    expect 0 "tlogcheck: inclusion of entry $idx from the static tiles and bundles" \
        "$H/bin/tlogcheck" inclusion -vkey "$vkey" -tiles "$T/static" -index "$idx" -from-bundle
done
cp static/checkpoint old.checkpoint
# One more statement the service accepts (the hash envelope, not registered yet), so the tree
# grows and the consistency check below compares two different sizes.
expect 0 "register one more statement" "$SCITT" register --url "$URL" "h-ES256.stmt" \
    --out late.ts
expect 0 "export-tiles after one more registration" "$SCITT" export-tiles --data "$T/data" \
    --out static
new_size=$(sed -n 2p static/checkpoint)
checks=$((checks + 1))
if [ -n "$size" ] && [ -n "$new_size" ] && [ "$new_size" -gt "$size" ]; then
    echo "ok: the tree grew from $size to $new_size"
else
    echo "FAIL: the tree did not grow (before: '$size', after: '$new_size')"
    fails=$((fails + 1))
fi
expect 0 "tlogcheck: consistency of the two exported checkpoints" "$H/bin/tlogcheck" \
    consistency -vkey "$vkey" -old old.checkpoint -new static/checkpoint -tiles "$T/static"
has "$T/out" "RESULT: OK" "consistency OK"
stop_scittd

step "the operation flow of older SCRAPI drafts (scittd --compat-operations)"
start_scittd "$T/data-compat" --compat-operations
expect 0 "keys --jwks (compat)" "$SCITT" keys --url "$URL" --jwks --out compat.jwks
# A client in the manner of pyscitt, with the independent CBOR library (cbor2): POST, the 202's
# operation, GET /operations/{id} after each Retry-After until it succeeded, then the
# transparent statement of the entry it names.
expect 0 "a pyscitt-style client (cbor2) registers through /operations/{id}" /usr/bin/python3 - \
    "$URL" p.stmt py.ts <<'PY'
import sys, time, urllib.request, cbor2
url, stmt, out = sys.argv[1:4]
req = urllib.request.Request(url + "/entries", data=open(stmt, "rb").read(), method="POST",
                             headers={"Content-Type": "application/cose"})
with urllib.request.urlopen(req) as r:
    assert r.status == 202, r.status
    loc, op = r.headers["Location"], cbor2.loads(r.read())
    # the keys exactly as the published API description spells them (case matters here)
    assert set(op) == {"OperationID", "Status"} and op["Status"] == "running", op
    assert loc == "/operations/" + op["OperationID"], (loc, op)
    wait = int(r.headers["Retry-After"])
for _ in range(60):
    time.sleep(wait)
    with urllib.request.urlopen(url + loc) as r:
        op = cbor2.loads(r.read())
        wait = int(r.headers.get("Retry-After", "1"))
    if op["Status"] != "running":
        break
assert set(op) == {"EntryID", "Status"} and op["Status"] == "succeeded", op
with urllib.request.urlopen(url + "/entries/" + op["EntryID"] + "/statement") as r:
    open(out, "wb").write(r.read())
print("entry", op["EntryID"])
PY
expect 0 "verify-receipt (@transmute/cose) accepts what the compat flow gave it" \
    "$H/bin/verify-receipt" --key compat.jwks --transparent py.ts --issuer-key ci.pub
has "$T/out" "RESULT: OK" "the harness says OK"
expect 0 "the pyscitt-style client matches the compat receipt's kid with /jwks" \
    /usr/bin/python3 "$PYKID" py.ts compat.jwks
has "$T/out" "RESULT: OK" "kid matched and receipt verified"
expect 0 "scitt register through /operations/{id}" "$SCITT" register --url "$URL" \
    "a-ES384.stmt" --out compat.ts
expect 0 "verify-receipt (@transmute/cose) accepts scitt's transparent statement (compat)" \
    "$H/bin/verify-receipt" --key compat.jwks --transparent compat.ts --issuer-key k-ES384.pub
has "$T/out" "RESULT: OK" "the harness says OK"
stop_scittd

finish
