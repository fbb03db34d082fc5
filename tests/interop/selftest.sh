#!/bin/sh
# selftest.sh DEST DATA: the installed harness (DEST) says yes to what is right and no to what is
# wrong, so an interop test that passes means the library accepted our output. Each case checks
# the exit status and, for 0 and 1, the closing RESULT line. DATA is tests/data.
set -u
H=$1
D=$2/interop/fixtures/js
fails=0
cases=0
t=$(mktemp -d) || exit 2
trap 'rm -rf "$t"' EXIT

expect() { # WANT DESCRIPTION COMMAND...
    want=$1
    what=$2
    shift 2
    cases=$((cases + 1))
    out=$("$@" 2>&1)
    rc=$?
    last=$(printf '%s\n' "$out" | tail -n 1)
    case "$want:$rc:$last" in
    0:0:"RESULT: OK"* | 1:1:"RESULT: FAIL"* | 2:2:*) echo "ok   $what" ;;
    *)
        printf '%s\n' "$out"
        echo "FAIL $what: wanted exit $want, got $rc"
        fails=$((fails + 1))
        ;;
    esac
}

# A copy of FILE with the byte at OFFSET (negative: from the end) xored with 1.
flip() {
    python3 - "$1" "$2" "$3" <<'EOF'
import sys
b = bytearray(open(sys.argv[1], "rb").read())
b[int(sys.argv[2])] ^= 1
open(sys.argv[3], "wb").write(b)
EOF
}

V=$H/bin/verify-receipt
expect 0 "verify-receipt: the fixture's transparent statement, both receipts, issuer signature" \
    "$V" --key "$D/services.jwks.json" --transparent "$D/transparent-statement.cbor" --issuer-key "$D/issuer.jwk.json"
expect 0 "verify-receipt: statement + receipt with root, size and index pinned" \
    "$V" --key "$D/service.pem" --statement "$D/statement.cbor" --receipt "$D/receipt.cbor" \
    --expect-root "$(cat "$D/root-old.hex")" --expect-size 6 --expect-index 4
expect 1 "verify-receipt: another root pinned" \
    "$V" --key "$D/service.pem" --statement "$D/statement.cbor" --receipt "$D/receipt.cbor" \
    --expect-root "$(cat "$D/root-new.hex")"
expect 1 "verify-receipt: another size pinned" \
    "$V" --key "$D/service.pem" --statement "$D/statement.cbor" --receipt "$D/receipt.cbor" --expect-size 7
expect 1 "verify-receipt: a statement the receipt is not for" \
    "$V" --key "$D/service.pem" --statement "$D/entries/0003.cbor" --receipt "$D/receipt.cbor"
expect 1 "verify-receipt: the Ed25519 receipt under the ES256 key only" \
    "$V" --key "$D/service.pem" --statement "$D/statement.cbor" --receipt "$D/receipt-ed25519.cbor"
flip "$D/receipt-ed25519.cbor" -1 "$t/ed-flipped.cbor"
expect 1 "verify-receipt: the Ed25519 receipt with a flipped signature bit (cose-kit)" \
    "$V" --key "$D/services.jwks.json" --statement "$D/statement.cbor" --receipt "$t/ed-flipped.cbor"
expect 1 "verify-receipt: the issuer signature under another key" \
    "$V" --key "$D/services.jwks.json" --transparent "$D/transparent-statement.cbor" --issuer-key "$D/service.jwk.json"
expect 1 "verify-receipt: a kid that is a tag-64 typed array" \
    "$V" --key "$D/services.jwks.json" --statement "$D/statement.cbor" --receipt "$D/negative/receipt-kid-tag64.cbor"
expect 1 "verify-receipt: a receipt in 394 that is a tag-64 typed array" \
    "$V" --key "$D/services.jwks.json" --transparent "$D/negative/transparent-statement-receipt-tag64.cbor"
expect 0 "verify-receipt: consistency 6 -> 11" \
    "$V" --key "$D/service.pem" --consistency "$D/consistency-receipt.cbor" \
    --old-root "$(cat "$D/root-old.hex")" --new-root "$(cat "$D/root-new.hex")"
expect 1 "verify-receipt: consistency 6 -> 11 from another old root" \
    "$V" --key "$D/service.pem" --consistency "$D/consistency-receipt.cbor" \
    --old-root "$(cat "$D/root-4.hex")" --new-root "$(cat "$D/root-new.hex")"
expect 0 "verify-receipt: consistency 4 -> 11 in RFC 9162 form" \
    "$V" --key "$D/service.pem" --consistency "$D/consistency-receipt-4-11-rfc9162.cbor" \
    --old-root "$(cat "$D/root-4.hex")" --new-root "$(cat "$D/root-new.hex")" --proof-style rfc9162
expect 1 "verify-receipt: consistency 4 -> 11 in the library's form, read as RFC 9162" \
    "$V" --key "$D/service.pem" --consistency "$D/consistency-receipt-4-11-libform.cbor" \
    --old-root "$(cat "$D/root-4.hex")" --new-root "$(cat "$D/root-new.hex")" --proof-style rfc9162
expect 0 "verify-receipt: the library's form, read as the library's" \
    "$V" --key "$D/service.pem" --consistency "$D/consistency-receipt-4-11-libform.cbor" \
    --old-root "$(cat "$D/root-4.hex")" --new-root "$(cat "$D/root-new.hex")" --proof-style transmute
expect 2 "verify-receipt: no key" "$V" --transparent "$D/transparent-statement.cbor"
expect 2 "verify-receipt: a missing file" "$V" --key "$D/service.pem" --transparent "$t/none.cbor"

C=$H/bin/cose-check
expect 0 "cose-check: the fixture statement" "$C" "$D/statement.cbor" --key "$D/issuer.jwk.json" --require-tag
expect 1 "cose-check: its protected header is not in deterministic order" \
    "$C" "$D/statement.cbor" --key "$D/issuer.jwk.json" --deterministic
flip "$D/statement.cbor" -1 "$t/flipped.cbor"
expect 1 "cose-check: a flipped signature bit" "$C" "$t/flipped.cbor" --key "$D/issuer.jwk.json"
expect 1 "cose-check: another key" "$C" "$D/statement.cbor" --key "$D/service.jwk.json"
expect 1 "cose-check: an alg that is not allowed" "$C" "$D/statement.cbor" --key "$D/issuer.jwk.json" --alg -8
cat "$D/statement.cbor" >"$t/trailing.cbor" && printf '\000' >>"$t/trailing.cbor"
expect 1 "cose-check: a trailing byte" "$C" "$t/trailing.cbor" --key "$D/issuer.jwk.json"
head -c 100 "$D/statement.cbor" >"$t/short.cbor"
expect 1 "cose-check: a truncated message" "$C" "$t/short.cbor"
expect 0 "cose-check: the receipt's signature over the root" \
    "$C" "$D/receipt.cbor" --key "$D/service.pem" --payload-hex "$(cat "$D/root-old.hex")" --require-tag
expect 1 "cose-check: the receipt's signature over another root" \
    "$C" "$D/receipt.cbor" --key "$D/service.pem" --payload-hex "$(cat "$D/root-new.hex")"
expect 1 "cose-check: a tag-64 receipt in 394" \
    "$C" "$D/negative/transparent-statement-receipt-tag64.cbor" --key "$D/issuer.jwk.json"
expect 1 "cose-check: a kid that is a tag-64 typed array" \
    "$C" "$D/negative/receipt-kid-tag64.cbor" --key "$D/service.pem" --payload-hex "$(cat "$D/root-old.hex")"
expect 2 "cose-check: a missing file" "$C" "$t/none.cbor"

T=$H/bin/tlogcheck
"$T" mkfixture -dir "$t/log" -n1 200 -n2 300 -name example.com/selftest >/dev/null &&
    "$T" mkfixture -dir "$t/other" -n1 1 -n2 2 -name example.com/selftest >/dev/null ||
    { echo "FAIL tlogcheck mkfixture"; exit 1; }
expect 0 "tlogcheck: a checkpoint" "$T" checkpoint -vkey "@$t/log/vkey.txt" -origin example.com/selftest "$t/log/checkpoint"
expect 1 "tlogcheck: another origin" "$T" checkpoint -vkey "@$t/log/vkey.txt" -origin example.com/other "$t/log/checkpoint"
expect 1 "tlogcheck: another key of the same name" "$T" checkpoint -vkey "@$t/other/vkey.txt" "$t/log/checkpoint"
sed 's/^300$/301/' "$t/log/checkpoint" >"$t/tampered"
expect 1 "tlogcheck: a changed size" "$T" checkpoint -vkey "@$t/log/vkey.txt" "$t/tampered"
for i in 0 255 256 299; do
    expect 0 "tlogcheck: inclusion of entry $i from its bundle" \
        "$T" inclusion -vkey "@$t/log/vkey.txt" -tiles "$t/log" -index "$i" -from-bundle
done
expect 0 "tlogcheck: entry 199 against the older checkpoint" \
    "$T" inclusion -vkey "@$t/log/vkey.txt" -tiles "$t/log" -checkpoint "$t/log/checkpoint.200" -index 199 -from-bundle
expect 1 "tlogcheck: an index past the end" "$T" inclusion -vkey "@$t/log/vkey.txt" -tiles "$t/log" -index 300 -from-bundle
printf 'tlogcheck fixture entry 6\n' >"$t/entry"
expect 1 "tlogcheck: entry 5 with the bytes of entry 6" \
    "$T" inclusion -vkey "@$t/log/vkey.txt" -tiles "$t/log" -index 5 -entry "$t/entry"
cp "$t/log/tile/0/000" "$t/tile" && flip "$t/tile" 40 "$t/log/tile/0/000"
expect 1 "tlogcheck: a flipped bit in a hash tile" \
    "$T" inclusion -vkey "@$t/log/vkey.txt" -tiles "$t/log" -index 3 -from-bundle
cp "$t/tile" "$t/log/tile/0/000"
cp "$t/log/tile/entries/000" "$t/bundle" && flip "$t/bundle" 10 "$t/log/tile/entries/000"
expect 1 "tlogcheck: a flipped bit in an entry bundle" \
    "$T" inclusion -vkey "@$t/log/vkey.txt" -tiles "$t/log" -index 0 -from-bundle
cp "$t/bundle" "$t/log/tile/entries/000"
expect 0 "tlogcheck: consistency 200 -> 300" \
    "$T" consistency -vkey "@$t/log/vkey.txt" -old "$t/log/checkpoint.200" -new "$t/log/checkpoint" -tiles "$t/log"
expect 1 "tlogcheck: consistency with the checkpoints swapped" \
    "$T" consistency -vkey "@$t/log/vkey.txt" -old "$t/log/checkpoint" -new "$t/log/checkpoint.200" -tiles "$t/log"
expect 2 "tlogcheck: no key" "$T" checkpoint "$t/log/checkpoint"

echo "$((cases - fails)) passed, $fails failed"
[ "$fails" = 0 ]
