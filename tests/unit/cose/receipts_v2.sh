#!/bin/sh
# Receipt kids across the format change (docs/receipts.md, "Keys and kids"):
#  - receipts with text kids (tests/data/vectors/scittd-receipts-v2: the base64url of the RFC 9679
#    thumbprint, the /jwks kid) verify with `scitt verify` against the COSE_Key_Set and the JWKS
#    the service served, and against the same keys with the raw thumbprint kid (a key set saved
#    before); a pyscitt-style client (cbor2, cryptography) matches the ES256 one to its JWKS key;
#  - receipts issued before (scittd-receipts-v1: 32 raw thumbprint bytes) verify against their
#    keys as the service publishes them now (text kid), and a pyscitt-style client cannot match
#    them, which is why the kid changed;
#  - a kid that names another key does not verify.
#   receipts_v2.sh SCITT TEST_DATA TMPDIR SRC
set -u
scitt=$1 v1=$2/vectors/scittd-receipts-v1 v2=$2/vectors/scittd-receipts-v2 t=$3 src=$4
rm -rf "$t" && mkdir -p "$t" || exit 2
fail() { echo "FAIL: $*"; exit 1; }
py=/usr/bin/python3
# rekid IN OUT raw|text: the same COSE_Key_Set with each kid as raw thumbprint bytes or as text
rekid() {
    "$py" - "$1" "$2" "$3" <<'PY' || exit 2
import base64, sys, cbor2
keys = cbor2.loads(open(sys.argv[1], "rb").read())
for k in keys:
    kid = k[2]
    if sys.argv[3] == "raw" and len(kid) == 43:
        k[2] = base64.urlsafe_b64decode(kid + b"=")
    elif sys.argv[3] == "text" and len(kid) == 32:
        k[2] = base64.urlsafe_b64encode(kid).rstrip(b"=")
    else:
        sys.exit("unexpected kid length %d" % len(kid))
open(sys.argv[2], "wb").write(cbor2.dumps(keys))
PY
}
for a in es256 eddsa; do
    for keys in "$v2/$a.scitt-keys" "$v2/$a.jwks"; do
        out=$("$scitt" verify "$v2/$a.transparent.cbor" --trust "$keys" 2>&1) ||
            fail "v2 $a does not verify with $keys: $out"
    done
    rekid "$v2/$a.scitt-keys" "$t/$a.raw.scitt-keys" raw
    out=$("$scitt" verify "$v2/$a.transparent.cbor" --trust "$t/$a.raw.scitt-keys" 2>&1) ||
        fail "v2 $a does not verify with raw-kid keys: $out"
    # the v1 keys as the service publishes them now
    rekid "$v1/$a.scitt-keys" "$t/$a.v1text.scitt-keys" text
done
for pair in es256-text-label:es256 eddsa-alg-8-text-label:eddsa; do
    f=${pair%%:*} k=${pair#*:}
    out=$("$scitt" verify "$v1/$f.transparent.cbor" --trust "$t/$k.v1text.scitt-keys" 2>&1) ||
        fail "v1 $f does not verify with its keys under text kids: $out"
done
# another service's key under the same kid form: refused
if out=$("$scitt" verify "$v2/es256.transparent.cbor" --trust "$t/es256.v1text.scitt-keys" 2>&1)
then
    fail "v2 es256 verified with another service's keys: $out"
fi
out=$("$py" "$src/tests/interop/py/receipt_kid.py" "$v2/es256.transparent.cbor" "$v2/es256.jwks") ||
    fail "pyscitt-style client on v2: $out"
echo "$out" | grep -q "RESULT: OK" || fail "pyscitt-style client on v2: $out"
out=$("$py" "$src/tests/interop/py/receipt_kid.py" "$v1/es256-text-label.transparent.cbor" \
    "$v2/es256.jwks" --expect-no-text-kid) || fail "pyscitt-style client on v1: $out"
echo "$out" | grep -q "not ASCII text" || fail "the v1 kid read as text: $out"
echo "OK: text-kid receipts verify against every key form; receipts issued before still verify"
