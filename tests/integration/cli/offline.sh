#!/bin/sh
# offline.sh SCITT CLI_FIXTURES TEST_DATA
# scitt verify and inspect with no service at all: CCF ledger receipts (vds 2) and 2023-era labels
# built by cli_fixtures from their profiles' rules, and the receipts @transmute/cose made for the
# independent harness (tests/data/interop/fixtures/js, read in place).
SCITT=$1
FIXTURES=$2
DATA=$3
. "$(dirname "$0")/lib.sh"
cd "$T" || exit 2
"$FIXTURES" "$T/fx" >/dev/null || { echo "FAIL: cli_fixtures"; exit 1; }
JS=$DATA/interop/fixtures/js

step "CCF receipts (vds 2)"
expect 0 "verify with a CCF trust store directory" "$SCITT" verify fx/ccf/transparent.cbor \
    --trust fx/ccf/store --issuer-key fx/ccf/issuer.pem --json
has "$T/out" '"vds":2' "the receipt is a CCF receipt"
has "$T/out" '"trust_file":"fx/ccf/store/service.json"' "the key came from the trust store"
has "$T/out" '{"check":"issuer signature","result":"ok"' "issuer signature checked"
expect 0 "verify with one service-parameters file" "$SCITT" verify fx/ccf/transparent.cbor \
    --trust fx/ccf/store/service.json
has "$T/out" "CCF ledger inclusion verified" "text output names the profile"
expect 0 "verify with the service certificate (PEM)" "$SCITT" verify fx/ccf/transparent.cbor \
    --trust fx/ccf/service-cert.pem
expect 0 "verify with the service's JWKS (hex kid, as Azure serves /jwks)" "$SCITT" verify \
    fx/ccf/transparent.cbor --trust fx/ccf/jwks.json
expect 0 "verify a statement with a separate CCF receipt" "$SCITT" verify fx/ccf/statement.cbor \
    --receipt fx/ccf/receipt.cbor --trust fx/ccf/store
expect 1 "verify: a flipped bit in the CCF proof" "$SCITT" verify fx/ccf/tampered.cbor \
    --trust fx/ccf/store
one_line "CCF failure message"
expect 1 "verify: the CCF receipt with other keys" "$SCITT" verify fx/ccf/transparent.cbor \
    --trust "$JS/services.jwks.json"
expect 1 "verify: a CCF receipt for another statement" "$SCITT" verify "$JS/statement.cbor" \
    --receipt fx/ccf/receipt.cbor --trust fx/ccf/store
expect 0 "inspect a CCF transparent statement" "$SCITT" inspect fx/ccf/transparent.cbor
has "$T/out" "/ vds / 395: 2 / CCF_LEDGER_SHA256 /" "vds 2 named"
has "$T/out" '"ccf.v1": {' "the CCF header is shown"

step "2023-era labels"
expect 1 "verify: legacy labels are refused by default" "$SCITT" verify \
    fx/legacy/transparent.cbor --trust fx/legacy/service.pem
expect 0 "verify --legacy-labels" "$SCITT" verify fx/legacy/transparent.cbor \
    --trust fx/legacy/service.pem --legacy-labels --issuer-key fx/legacy/issuer.pem --json
has "$T/out" '"legacy_labels":true' "the receipt used the 2023 labels"
has "$T/out" '"leaf_index":2' "index from the -222 proof"
has "$T/out" '"iss":"https://issuer.example/cli-test"' "iss from CWT claims at 13"
expect 1 "verify --legacy-labels with another key" "$SCITT" verify fx/legacy/transparent.cbor \
    --trust fx/ccf/service-cert.pem --legacy-labels
expect 0 "inspect names the 2023 labels" "$SCITT" inspect fx/legacy/transparent.cbor
has "$T/out" "/ receipts (2023 label) / -333: [" "-333 named"
has "$T/out" "/ vds (2023 label) / -111: 1" "-111 named"

step "receipts made by @transmute/cose (the independent harness's fixtures)"
expect 0 "transparent statement with two receipts, JWKS" "$SCITT" verify \
    "$JS/transparent-statement.cbor" --trust "$JS/services.jwks.json" \
    --issuer-key "$JS/issuer.jwk.json"
has "$T/out" "ok   receipt 2" "both receipts verified"
expect 0 "statement + receipt.cbor, one JWK" "$SCITT" verify "$JS/statement.cbor" \
    --receipt "$JS/receipt.cbor" --trust "$JS/service.jwk.json" --json
has "$T/out" '"tree_size":6' "tree size 6"
has "$T/out" '"leaf_index":4' "leaf 4"
expect 0 "entries/0004.cbor (the same entry) + receipt.cbor" "$SCITT" verify \
    "$JS/entries/0004.cbor" --receipt "$JS/receipt.cbor" --trust "$JS/service.jwk.json"
expect 0 "inspect a JWKS" "$SCITT" inspect "$JS/services.jwks.json"
has "$T/out" 'kid "ed25519-service-1", EdDSA' "the JWKS keys are listed"
expect 0 "statement + the Ed25519 receipt" "$SCITT" verify "$JS/statement.cbor" \
    --receipt "$JS/receipt-ed25519.cbor" --trust "$JS/services.jwks.json"
expect 0 "a PEM service key finds its receipt by JWK thumbprint" "$SCITT" verify \
    "$JS/statement.cbor" --receipt "$JS/receipt.cbor" --trust "$JS/service.pem"
expect 0 "--any: one of two receipts is enough" "$SCITT" verify \
    "$JS/transparent-statement.cbor" --trust "$JS/service.pem" --any
expect 1 "without --any both receipts must verify" "$SCITT" verify \
    "$JS/transparent-statement.cbor" --trust "$JS/service.pem"
expect 1 "an entry the receipt is not for" "$SCITT" verify "$JS/entries/0003.cbor" \
    --receipt "$JS/receipt.cbor" --trust "$JS/service.jwk.json"
expect 1 "typed-array tag 64 in 394 is refused" "$SCITT" verify \
    "$JS/negative/transparent-statement-receipt-tag64.cbor" --trust "$JS/services.jwks.json"

step "usage"
expect 2 "unknown command" "$SCITT" frobnicate
one_line "unknown command message"
expect 2 "unknown option" "$SCITT" verify --frob x
one_line "unknown option message"
expect 0 "scitt --help" "$SCITT" --help
for c in keygen sign register verify get keys inspect query audit export-tiles; do
    expect 0 "$c --help" "$SCITT" $c --help
    has "$T/out" "Example" "$c --help has an example"
done
expect 2 "verify: a trust file that is not one" "$SCITT" verify "$JS/statement.cbor" \
    --trust "$JS/log.json"
expect 2 "verify: an unreadable --receipt" "$SCITT" verify "$JS/statement.cbor" \
    --receipt "$T/none.cbor" --trust "$JS/service.jwk.json"
expect 2 "export-tiles: not a data directory" "$SCITT" export-tiles --data "$T" --out "$T/x"

finish
