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
printf 'name: app\nversion: 1.2.3\n' >text.yaml
expect 2 "inspect a text file" "$SCITT" inspect text.yaml
one_line "inspect text message"
has "$T/err" "text.yaml is a text file, not a COSE statement" "it says what the file is"
expect 1 "verify a text file" "$SCITT" verify text.yaml --trust "$JS/services.jwks.json"
has "$T/out" "not a COSE statement: a text file, not CBOR" "verify says so too"
lacks "$T/out" "CBOR tag not allowed here" "no CBOR jargon for a text file"
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

step "the verifier's own checks (statements no scittd would register)"
V=fx/verify
K="--trust $V/service.pem"
expect 0 "a self-asserted x5chain: receipts and signature verify" "$SCITT" verify $V/forged.ts $K
has "$T/out" "skip issuer: \"https://release.example\" is claimed but not established" \
    "the issuer is reported as not established"
has "$T/out" "verified, issuer not established: $V/forged.ts (claimed iss" \
    "the verdict does not call the issuer verified"
lacks "$T/out" "ok   issuer: " "no ok line for the issuer"
expect 1 "--iss with a forged issuer (anyone's self-signed chain)" "$SCITT" verify $V/forged.ts \
    $K --iss https://release.example
has "$T/err" "iss: \"https://release.example\" is claimed but not established" \
    "the message says the issuer is not established"
has "$T/err" "give --issuer-roots PEM or --issuer-key FILE, or use a did:x509 issuer" \
    "the message says what to add"
one_line "forged issuer message"
expect 0 "--iss with the issuer's key pinned" "$SCITT" verify $V/forged.ts $K \
    --iss https://release.example --issuer-key $V/forged.pub --json
has "$T/out" '"issuer_established":true,"issuer_established_by":"issuer-key"' "established by the key"
expect 1 "--iss with another issuer's chain as --issuer-roots" "$SCITT" verify $V/forged.ts $K \
    --iss https://release.example --issuer-roots $V/ca.crt
DID=$(cat $V/did.txt)
expect 0 "--iss did:x509 resolves without --did-x509" "$SCITT" verify $V/did.ts $K --iss "$DID"
has "$T/out" "ok   did:x509: iss resolves against the x5chain" "the DID was resolved"
has "$T/out" "established: did:x509 resolves against the x5chain whose leaf signed" "and established"
expect 1 "a did:x509 iss with a chain of another CA, no flag needed" "$SCITT" verify \
    $V/did-other-ca.ts $K
has "$T/out" "FAIL did:x509: CA fingerprint does not match" "the DID does not resolve"
expect 1 "... and with --iss" "$SCITT" verify $V/did-other-ca.ts $K --iss "$DID"
expect 1 "x5t naming another certificate than the x5chain leaf" "$SCITT" verify $V/x5t.ts $K
has "$T/err" "x5t: names another certificate than the x5chain leaf" "the message names x5t"
expect 1 "CWT exp in 2020, checked now" "$SCITT" verify $V/expired.ts $K
has "$T/err" "validity: the statement expired at 2020-01-01T00:00:00Z (CWT exp)" "exp named"
expect 0 "... checked --at 2019-06-01" "$SCITT" verify $V/expired.ts $K --at 2019-06-01T00:00:00Z
expect 1 "... --at 2020-01-01T00:00:00Z (exp itself is too late)" "$SCITT" verify $V/expired.ts $K \
    --at 2020-01-01T00:00:00Z
expect 1 "CWT nbf in 2100, checked now" "$SCITT" verify $V/notyet.ts $K
has "$T/err" "validity: the statement is not valid before 2100-01-01T00:00:00Z (CWT nbf)" "nbf named"
expect 0 "... checked --at 4102444800 (Unix seconds)" "$SCITT" verify $V/notyet.ts $K \
    --at 4102444800
expect 2 "--at that is not a time" "$SCITT" verify $V/notyet.ts $K --at tomorrow
expect 1 "a detached payload given, no issuer key: it cannot be checked" "$SCITT" verify \
    $V/detached.ts $K --payload $V/detached.payload
has "$T/err" "payload: $V/detached.payload cannot be checked: the payload is detached and no issuer key is known" \
    "the message says why"
expect 0 "... with the issuer key: checked" "$SCITT" verify $V/detached.ts $K \
    --payload $V/detached.payload --issuer-key $V/detached.pub
has "$T/out" "ok   payload: $V/detached.payload is the payload the issuer signed" "payload checked"
printf 'another payload' >other.payload
expect 1 "... another payload with the issuer key" "$SCITT" verify $V/detached.ts $K \
    --payload other.payload --issuer-key $V/detached.pub
PD=$(sha256sum $V/detached.payload | cut -c1-64)
expect 1 "--digest of a detached payload nobody checked" "$SCITT" verify $V/detached.ts $K \
    --digest "sha256:$PD"
has "$T/err" "digest: the payload is detached and was not checked" "the message says why"
expect 0 "... once the payload is checked" "$SCITT" verify $V/detached.ts $K --digest "sha256:$PD" \
    --payload $V/detached.payload --issuer-key $V/detached.pub
H=$(cat $V/sha384.hex)
expect 1 "--digest sha256:<SHA-384 hex> of a SHA-384 envelope" "$SCITT" verify $V/sha384.ts $K \
    --digest "sha256:$H"
has "$T/err" "digest: --digest names sha256, but the statement's digest is sha384" "prefix checked"
expect 0 "--digest sha384:<hex>" "$SCITT" verify $V/sha384.ts $K --digest "sha384:$H" --json
has "$T/out" '"digest_alg":"sha384"' "JSON names the digest algorithm"
expect 0 "--digest without a prefix" "$SCITT" verify $V/sha384.ts $K --digest "$H"
expect 2 "--digest with an unknown prefix" "$SCITT" verify $V/sha384.ts $K --digest "md5:$H"
expect 0 "an x5chain only in the unprotected header is ignored" "$SCITT" verify $V/unprot.ts $K
has "$T/out" "skip x5chain: only in the unprotected header" "it says so"
has "$T/out" "skip issuer signature: not checked" "the unprotected leaf's key is not used"
expect 1 "... and --issuer-roots cannot validate it" "$SCITT" verify $V/unprot.ts $K \
    --issuer-roots $V/unprot.crt
expect 1 "... nor does it establish --iss" "$SCITT" verify $V/unprot.ts $K \
    --iss https://release.example

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
