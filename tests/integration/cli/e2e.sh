#!/bin/sh
# e2e.sh SCITT SCITTD TEST_DATA CLI_FIXTURES
# The CLI against a real scittd (free port, temporary data directory, stopped at the end):
# keygen -> sign (payload, detached, OCI layout, docker archive, image reference, measurement,
# SNP report, hash envelope) -> register -> keys -> verify (and its failures) -> query -> get ->
# inspect -> audit (live, static copy, tampered copies).
SCITT=$1
SCITTD=$2
DATA=$3
FIXTURES=$4
. "$(dirname "$0")/lib.sh"
cd "$T" || exit 2

start_scittd "$T/data"

step keygen
expect 0 "keygen: ES256 key with a self-signed certificate" \
    "$SCITT" keygen --out ci --self-signed-cert --subject "CI signer"
expect 0 "keygen: ES384 CA" "$SCITT" keygen --out ca --alg ES384 --self-signed-cert --ca \
    --subject "Release CA"
expect 0 "keygen: a leaf issued by the CA, with its did:x509" \
    "$SCITT" keygen --out rel --issuer ca --subject release-signer --json
DID=$(json_field did_x509)
has "$T/out" '"did_x509":"did:x509:0:sha256:' "keygen names the leaf's did:x509"
expect 0 "keygen: EdDSA" "$SCITT" keygen --out ed --alg EdDSA --self-signed-cert --subject ed
expect 0 "keygen: PS256" "$SCITT" keygen --out rsa --alg PS256 --self-signed-cert --subject rsa
expect 2 "keygen refuses to overwrite a key" "$SCITT" keygen --out ci
one_line "keygen overwrite message"
expect 2 "keygen: unknown algorithm" "$SCITT" keygen --out x --alg RS256
expect 0 "keygen --help" "$SCITT" keygen --help
has "$T/out" "Example" "keygen --help has an example"

step sign
printf '{"name":"app","version":"1.2.3"}\n' >sbom.json
printf 'not the payload\n' >other.json
expect 0 "sign a payload (x5chain)" "$SCITT" sign --key ci.key --cert ci.crt \
    --iss https://ci.example/app --sub app --payload sbom.json --content-type application/json \
    --out sbom.stmt --json
SBOM_ID=$(json_field entry_id)
expect 0 "sign a detached payload" "$SCITT" sign --key ci.key --cert ci.crt \
    --iss https://ci.example/app --sub app --payload sbom.json --detached --out det.stmt
expect 0 "sign with EdDSA" "$SCITT" sign --key ed.key --cert ed.crt --iss https://ed.example \
    --sub ed --payload sbom.json --out ed.stmt
expect 0 "sign with PS256" "$SCITT" sign --key rsa.key --cert rsa.crt --iss https://rsa.example \
    --sub rsa --payload sbom.json --out rsa.stmt
expect 0 "sign without a certificate (kid)" "$SCITT" sign --key ci.key --iss https://ci.example \
    --sub app --payload sbom.json --out kid.stmt
expect 2 "sign: the certificate of another key" "$SCITT" sign --key ed.key --cert ci.crt \
    --iss https://x.example --sub s --payload sbom.json --out x.stmt
one_line "sign key/certificate mismatch message"
expect 2 "sign: --iss missing" "$SCITT" sign --key ci.key --payload sbom.json --out x.stmt
expect 2 "sign: two sources" "$SCITT" sign --key ci.key --iss https://x --sub s \
    --payload sbom.json --measurement snp:00 --out x.stmt

# An OCI image layout made here: a config blob, a manifest, an index naming it.
mkdir -p oci/blobs/sha256
printf '{"imageLayoutVersion":"1.0.0"}' >oci/oci-layout
printf '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}' >cfg.json
CFG=$(sha256sum cfg.json | cut -c1-64)
cp cfg.json "oci/blobs/sha256/$CFG"
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[]}' \
    "$CFG" "$(wc -c <cfg.json)" >manifest.json
MAN=$(sha256sum manifest.json | cut -c1-64)
cp manifest.json "oci/blobs/sha256/$MAN"
printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"io.containerd.image.name":"registry.example/team/app:1.2.3","org.opencontainers.image.ref.name":"1.2.3"}}]}' \
    "$MAN" "$(wc -c <manifest.json)" >oci/index.json
expect 0 "sign --oci-layout (did:x509 issuer, chain)" "$SCITT" sign --key rel.key \
    --chain rel.chain.pem --iss "$DID" --oci-layout oci --out img.stmt --json
has "$T/out" "\"digest\":\"$MAN\"" "the OCI statement's payload is the manifest digest"
has "$T/out" '"sub":"registry.example/team/app"' "sub defaults to the repository"
has "$T/out" "\"location\":\"oci://registry.example/team/app@sha256:$MAN\"" "260 names the image"
has "$T/out" '"preimage_content_type":"application/vnd.oci.image.manifest.v1+json"' \
    "259 is the manifest media type"
expect 0 "inspect the image statement" "$SCITT" inspect img.stmt
has "$T/out" "/ payload hash alg / 258: -16 / SHA-256 /" "inspect names 258"
has "$T/out" "/ x5chain / 33: [" "inspect shows the x5chain"
has "$T/out" "CN=release-signer" "inspect names the leaf certificate"
# A layout as skopeo copy ... oci:DIR:latest writes it: ref.name is the bare tag.
mkdir -p skopeo && cp -r oci/blobs oci/oci-layout skopeo/
printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"latest"}}]}' \
    "$MAN" "$(wc -c <manifest.json)" >skopeo/index.json
expect 2 "sign --oci-layout: a bare tag is not taken for the repository" "$SCITT" sign \
    --key ci.key --iss https://x --sub s --oci-layout skopeo --out x.stmt
one_line "bare tag message"
has "$T/err" "--image-name REPO" "the message says to give --image-name"
[ ! -e x.stmt ] && echo "ok: nothing written" || { fails=$((fails + 1)); echo "FAIL: x.stmt"; }
expect 0 "sign --oci-layout --image-name with a bare-tag layout" "$SCITT" sign --key ci.key \
    --iss https://x --oci-layout skopeo --image-name registry.example/team/app --out sk.stmt --json
has "$T/out" "\"location\":\"oci://registry.example/team/app@sha256:$MAN\"" "260 names the repository"
(cd oci && tar -cf ../img.tar oci-layout index.json blobs)
expect 0 "sign --docker-archive" "$SCITT" sign --key rel.key --chain rel.chain.pem --iss "$DID" \
    --docker-archive img.tar --ref 1.2.3 --out img2.stmt --json
has "$T/out" "\"digest\":\"$MAN\"" "the archive gives the same digest"
(cd oci && tar -cf ../old.tar oci-layout blobs)
expect 2 "sign: a docker save archive without index.json" "$SCITT" sign --key ci.key \
    --iss https://x --sub s --docker-archive old.tar --out x.stmt
has "$T/err" "Docker 25" "the message says why"
printf 'x' >>"oci/blobs/sha256/$MAN"
expect 1 "sign: a manifest blob that does not hash to its name" "$SCITT" sign --key ci.key \
    --iss https://x --sub s --oci-layout oci --out x.stmt
cp manifest.json "oci/blobs/sha256/$MAN"
expect 0 "sign --image REF@sha256:HEX --index" "$SCITT" sign --key ci.key --cert ci.crt \
    --iss https://ci.example/app --image "registry.example/team/app:1.2.3@sha256:$MAN" --index \
    --out ref.stmt --json
has "$T/out" '"preimage_content_type":"application/vnd.oci.image.index.v1+json"' "--index"
expect 2 "sign --image without a digest, no registry there" "$SCITT" sign --key ci.key --iss https://x \
    --image 127.0.0.1:1/app:1 --out x.stmt

MEAS=$(printf 'ab%.0s' $(seq 48))
expect 0 "sign --measurement snp with host_data and svn" "$SCITT" sign --key ci.key \
    --cert ci.crt --iss https://ci.example/uvm --sub uvm --measurement "snp:$MEAS" \
    --host-data "$(printf '01%.0s' $(seq 32))" --svn 7 --out meas.stmt --json
has "$T/out" "\"digest\":\"$MEAS\"" "the measurement is the payload"
expect 0 "inspect the measurement statement" "$SCITT" inspect meas.stmt
has "$T/out" "/ payload hash alg / 258: -43 / SHA-384 /" "SNP measurements are SHA-384"
has "$T/out" '"tee": "sev-snp"' "the tee claim"
has "$T/out" '"svn": 7' "the svn claim"
expect 2 "sign: a 47-byte SNP measurement" "$SCITT" sign --key ci.key --iss https://x --sub s \
    --measurement "snp:$(printf 'ab%.0s' $(seq 47))" --out x.stmt
expect 0 "sign --snp-report (virtee Milan report, hex)" "$SCITT" sign --key ci.key --cert ci.crt \
    --iss https://ci.example/uvm --sub uvm \
    --snp-report "$DATA/tee/sev-snp/virtee-milan/report_milan.hex" --out report.stmt --json
has "$T/out" '"digest":"7a1e5c266c0108dbc9bb94fa926951320940915d0aafb42464bd88b579ea158d3e1a0dc39b2c60bd95b9c480cd81841f' \
    "the report's measurement (as expected.json lists it)"
expect 0 "sign --snp-report (binary)" "$SCITT" sign --key ci.key --cert ci.crt \
    --iss https://ci.example/uvm --sub uvm \
    --snp-report "$DATA/tee/sev-snp/virtee-milan/report_milan.bin" --out report2.stmt
expect 2 "sign --snp-report: not a report" "$SCITT" sign --key ci.key --iss https://x --sub s \
    --snp-report sbom.json --out x.stmt
printf 'package policy\nallow := true\n' >policy.rego
expect 0 "sign --policy-file (host_data = SHA-256 of the policy)" "$SCITT" sign --key ci.key \
    --cert ci.crt --iss https://ci.example/aci --sub aci --measurement "snp:$MEAS" \
    --policy-file policy.rego --out aci.stmt
expect 0 "inspect shows host_data" "$SCITT" inspect aci.stmt
has "$T/out" "\"host_data\": h'$(sha256sum policy.rego | cut -c1-64)'" "host_data is the hash"
expect 0 "sign --hash-envelope" "$SCITT" sign --key ci.key --cert ci.crt \
    --iss https://ci.example/app --sub app --hash-envelope sbom.json \
    --preimage-content-type application/spdx+json --location https://ci.example/sbom.json \
    --out hash.stmt --json
has "$T/out" "\"digest\":\"$(sha256sum sbom.json | cut -c1-64)\"" "the envelope holds SHA-256"

step register
expect 0 "register (201)" "$SCITT" register --url "$URL" sbom.stmt --out sbom.ts \
    --receipt-out sbom.receipt --json
has "$T/out" "\"entry_id\":\"$SBOM_ID\"" "the entry ID is the one sign predicted"
has "$T/out" '"already_registered":false' "a first registration is not reported as a repeat"
expect 0 "register --async (202, polling)" "$SCITT" register --url "$URL" img.stmt --async \
    --out img.ts
for s in ed rsa meas report hash ref; do
    expect 0 "register $s" "$SCITT" register --url "$URL" $s.stmt --out $s.ts
done
expect 0 "register again: the same entry (idempotent)" "$SCITT" register --url "$URL" sbom.stmt \
    --out again.ts --json
has "$T/out" "\"entry_id\":\"$SBOM_ID\"" "the same entry ID"
has "$T/out" '"already_registered":true' "reported as already registered (JSON)"
expect 0 "register again (text)" "$SCITT" register --url "$URL" sbom.stmt --out again.ts
has "$T/out" "already registered sbom.stmt: entry $SBOM_ID" "reported as already registered"
expect 0 "register the transparent statement again" "$SCITT" register --url "$URL" sbom.ts \
    --out again2.ts --json
has "$T/out" '"replaced_receipts":1' "the earlier receipt of this service is replaced"
expect 0 "register the transparent statement (text)" "$SCITT" register --url "$URL" sbom.ts \
    --out again3.ts
has "$T/out" "replaced the earlier receipt from this service" "said in text too"
expect 2 "register: --out that cannot be written after registering" "$SCITT" register \
    --url "$URL" sbom.stmt --out no/such/dir/x.ts
one_line "--out failure message"
has "$T/err" "registered as entry $SBOM_ID, but cannot write no/such/dir/x.ts" \
    "the message names the entry"
has "$T/err" "scitt get --url $URL $SBOM_ID --statement --out FILE" "and how to fetch it again"
expect 2 "register --out - with --json" "$SCITT" register --url "$URL" sbom.stmt --out - --json
expect 1 "register: a detached payload is rejected" "$SCITT" register --url "$URL" det.stmt
one_line "rejection message"
has "$T/err" "400 Payload Missing" "the message carries the problem details (RFC 9290 title)"
expect 1 "register: no x5chain, rejected by the development policy" "$SCITT" register \
    --url "$URL" kid.stmt
expect 2 "register: not a statement" "$SCITT" register --url "$URL" sbom.json
expect 2 "register: nothing listens" "$SCITT" register --url http://127.0.0.1:1 sbom.stmt
one_line "connection failure message"
has "$T/err" "POST http://127.0.0.1:1/entries: cannot connect" "the message names the URL"
head -c 70000 /dev/zero | tr '\0' 'x' >big.bin
expect 0 "sign a 70 kB payload" "$SCITT" sign --key ci.key --cert ci.crt \
    --iss https://ci.example/app --sub big --payload big.bin --out big.stmt
has "$T/err" "warning: the statement is" "sign warns above the default limit"
has "$T/err" "--hash-envelope" "and names the hash envelope"
expect 0 "sign a small payload: no warning" "$SCITT" sign --key ci.key --cert ci.crt \
    --iss https://ci.example/app --sub small --payload sbom.json --out small.stmt
lacks "$T/err" "warning" "no warning under the limit"
expect 2 "register: a statement over the service's limit (413)" "$SCITT" register --url "$URL" \
    big.stmt --out big.ts
one_line "413 message"
has "$T/err" "limit of 65535 bytes" "the problem details state the limit"
has "$T/err" "scitt sign --hash-envelope" "scitt suggests the hash envelope"

step keys
expect 0 "keys (COSE_Key_Set) and the configuration" "$SCITT" keys --url "$URL" --out keys.cbor \
    --config config.cbor --json
expect 0 "keys --jwks" "$SCITT" keys --url "$URL" --jwks --out keys.jwks
cp keys.cbor keys.before
expect 2 "keys: an existing --out is not replaced" "$SCITT" keys --url "$URL" --out keys.cbor
one_line "keys overwrite message"
has "$T/err" "keys.cbor exists: --force replaces it" "the message names --force"
expect 2 "keys: an existing --config is not replaced" "$SCITT" keys --url "$URL" --out k2.cbor \
    --config config.cbor
expect 0 "keys --force" "$SCITT" keys --url "$URL" --out keys.cbor --force
cmp -s keys.cbor keys.before && echo "ok: same keys" || { fails=$((fails + 1)); echo "FAIL: keys"; }
expect 0 "keys --out -" "$SCITT" keys --url "$URL" --out -
cmp -s "$T/out" keys.before && echo "ok: --out - writes the key set to stdout, nothing else" ||
    { fails=$((fails + 1)); echo "FAIL: keys --out - output"; }
"$SCITT" keygen --out other >/dev/null

step verify
expect 0 "verify (COSE_Key_Set, payload compared)" "$SCITT" verify sbom.ts --trust keys.cbor \
    --payload sbom.json
has "$T/out" "ok   issuer signature: verified with the x5chain leaf" "issuer signature checked"
expect 0 "verify (JWKS)" "$SCITT" verify sbom.ts --trust keys.jwks --json
has "$T/out" '"trust_file":"keys.jwks"' "JSON names the trust file"
has "$T/out" '"leaf_index":1' "JSON has the index"
has "$T/out" '"size_signed":true' "the tree size is signed"
expect 0 "verify the image: x5chain against the CA, did:x509" "$SCITT" verify img.ts \
    --trust keys.cbor --issuer-roots ca.crt --did-x509
has "$T/out" "ok   x5chain: validates" "x5chain checked"
has "$T/out" "ok   did:x509: iss resolves" "did:x509 checked"
expect 0 "verify as a deploy gate: --digest, --sub, --iss" "$SCITT" verify img.ts \
    --trust keys.cbor --digest "sha256:$MAN" --sub registry.example/team/app --iss "$DID" --json
has "$T/out" "\"digest\":\"$MAN\"" "JSON carries the signed digest"
expect 1 "verify: another image digest" "$SCITT" verify img.ts --trust keys.cbor \
    --digest "sha256:$CFG"
has "$T/err" "digest: the signed digest is not" "the message names the digest check"
expect 1 "verify: another subject" "$SCITT" verify img.ts --trust keys.cbor --sub other/app
expect 1 "verify: x5chain against an unrelated root" "$SCITT" verify img.ts --trust keys.cbor \
    --issuer-roots ci.crt
expect 1 "verify --did-x509 with an https issuer" "$SCITT" verify sbom.ts --trust keys.cbor \
    --did-x509
for s in ed rsa meas report ref; do
    expect 0 "verify $s" "$SCITT" verify $s.ts --trust keys.cbor
done
expect 0 "verify the hash envelope with its preimage" "$SCITT" verify hash.ts --trust keys.cbor \
    --payload sbom.json
has "$T/out" "ok   preimage: sbom.json: hashes to the signed digest" "preimage checked"
expect 1 "verify: wrong preimage" "$SCITT" verify hash.ts --trust keys.cbor --payload other.json
expect 1 "verify: wrong payload" "$SCITT" verify sbom.ts --trust keys.cbor --payload other.json
one_line "wrong payload message"
expect 1 "verify: wrong service key" "$SCITT" verify sbom.ts --trust other.pub
has "$T/err" "no trusted key" "the message says no key matched"
cp sbom.ts flipped.ts
flip flipped.ts -1
expect 1 "verify: a flipped byte in the issuer signature" "$SCITT" verify flipped.ts \
    --trust keys.cbor
has "$T/out" "FAIL issuer signature" "the issuer signature fails"
cp sbom.receipt flipped.receipt
flip flipped.receipt -1
expect 1 "verify: a flipped byte in the receipt signature" "$SCITT" verify sbom.stmt \
    --receipt flipped.receipt --trust keys.cbor
expect 0 "verify a plain statement with its receipt file" "$SCITT" verify sbom.stmt \
    --receipt sbom.receipt --trust keys.cbor
expect 1 "verify: another entry's receipt" "$SCITT" verify ed.stmt --receipt sbom.receipt \
    --trust keys.cbor
expect 1 "verify: detached payload, wrong --payload" "$SCITT" verify det.stmt \
    --receipt sbom.receipt --trust keys.cbor --payload other.json --json
has "$T/out" '{"check":"issuer signature","result":"failed"' "issuer signature over the wrong payload"
expect 1 "verify: detached payload, right --payload (receipt is another entry's)" "$SCITT" \
    verify det.stmt --receipt sbom.receipt --trust keys.cbor --payload sbom.json --json
has "$T/out" '{"check":"issuer signature","result":"ok"' "issuer signature over the right payload"
expect 2 "verify: no --trust" "$SCITT" verify sbom.ts
expect 2 "verify: a missing file" "$SCITT" verify nothing.ts --trust keys.cbor

step query
expect 0 "query --sub" "$SCITT" query --url "$URL" --sub app --json
has "$T/out" "$SBOM_ID" "the statement is listed by subject"
expect 0 "query --digest (the image's manifest digest)" "$SCITT" query --url "$URL" \
    --digest "$MAN" --json
has "$T/out" '"sub":"registry.example/team/app"' "the image statement is found by digest"
expect 0 "query --digest sha256:HEX (as registries write it)" "$SCITT" query --url "$URL" \
    --digest "sha256:$MAN" --json
has "$T/out" '"sub":"registry.example/team/app"' "found with the sha256: prefix too"
expect 0 "query --iss (did:x509)" "$SCITT" query --url "$URL" --iss "$DID"
has "$T/out" "sub=registry.example/team/app" "found by issuer"
expect 0 "query --limit 2 (text)" "$SCITT" query --url "$URL" --limit 2
[ "$(wc -l <"$T/out")" = 2 ] && echo "ok: two rows" || { fails=$((fails + 1)); echo "FAIL: rows"; }
expect 0 "query --after (nothing in the future)" "$SCITT" query --url "$URL" \
    --after 2099-01-01T00:00:00Z --json
has "$T/out" '{"entries":[],"next":null,"truncated":false}' "empty result"

step get
expect 0 "get --statement" "$SCITT" get --url "$URL" "$SBOM_ID" --statement --out got.ts
expect 0 "verify what get returned" "$SCITT" verify got.ts --trust keys.cbor
expect 0 "get the receipt" "$SCITT" get --url "$URL" "$SBOM_ID" --out got.receipt
expect 2 "get: an existing --out is not replaced" "$SCITT" get --url "$URL" "$SBOM_ID" \
    --out got.receipt
has "$T/err" "got.receipt exists: --force replaces it" "the message names --force"
expect 0 "get --force" "$SCITT" get --url "$URL" "$SBOM_ID" --out got.receipt --force
expect 0 "get --out -" "$SCITT" get --url "$URL" "$SBOM_ID" --out -
"$SCITT" inspect "$T/out" >/dev/null && echo "ok: --out - wrote the receipt alone" ||
    { fails=$((fails + 1)); echo "FAIL: get --out - output is not a receipt"; }
expect 0 "inspect the receipt (proof decoded)" "$SCITT" inspect got.receipt
has "$T/out" "/ receipt /" "a receipt"
has "$T/out" "/ leaf index / 1" "the proof is decoded"
expect 2 "get: unknown entry" "$SCITT" get --url "$URL" \
    "$(printf '0%.0s' $(seq 64))" --out x
has "$T/err" "404 Not Found" "problem details in the message"
expect 2 "get: not an entry ID" "$SCITT" get --url "$URL" xyz --out x

step inspect
expect 0 "inspect a transparent statement" "$SCITT" inspect sbom.ts --json
has "$T/out" '"kind":"transparent statement"' "kind"
has "$T/out" '"receipts":1' "one receipt"
expect 0 "inspect a key set" "$SCITT" inspect keys.cbor
has "$T/out" "/ COSE_Key_Set /" "key set"
has "$T/out" "/ kty / 1: 2 / EC2 /" "kty named"
expect 0 "inspect the configuration" "$SCITT" inspect config.cbor
has "$T/out" '"checkpoint_vkey"' "configuration"
curl -s -o problem.cbor "$URL/entries/$(printf '0%.0s' $(seq 64))"
expect 0 "inspect problem details" "$SCITT" inspect problem.cbor
has "$T/out" "/ title / -1: \"Not Found\"" "problem details named"
curl -s -o cp.txt "$URL/checkpoint"
expect 0 "inspect a checkpoint" "$SCITT" inspect cp.txt
has "$T/out" "origin: scittd.local" "checkpoint origin"
expect 2 "inspect: not CBOR" "$SCITT" inspect policy.rego

step audit
expect 0 "audit: first run pins the keys" "$SCITT" audit --url "$URL" --state st
has "$T/out" "OK: 0 discrepancies" "clean audit"
has "$T/out" "is a registration policy" "the policy entry is found"
[ -f st/vkey ] && [ -f st/keys.cbor ] && [ -f st/state.cbor ] && echo "ok: state saved" ||
    { fails=$((fails + 1)); echo "FAIL: state files"; }
expect 0 "register another statement" "$SCITT" register --url "$URL" ed.stmt --out ed2.ts
"$SCITT" sign --key ci.key --cert ci.crt --iss https://ci.example/app --sub app2 \
    --payload other.json --out more.stmt >/dev/null
expect 0 "register one more" "$SCITT" register --url "$URL" more.stmt
expect 0 "audit: incremental" "$SCITT" audit --url "$URL" --state st --json
has "$T/out" '"ok":true' "clean"
has "$T/out" 'consistency receipt verified' "consistency receipt checked"
has "$T/out" '"replayed":1' "only the new entry is replayed"
expect 0 "audit: nothing new" "$SCITT" audit --url "$URL" --state st
# Past one tile: 260 more entries, so level-0 tiles fill and a level-1 tile appears.
i=0
ok=0
while [ $i -lt 260 ]; do
    printf '{"build":%d}\n' $i >n.json
    "$SCITT" sign --key ci.key --cert ci.crt --iss https://ci.example/app --sub many \
        --payload n.json --out n.stmt >/dev/null &&
        "$SCITT" register --url "$URL" n.stmt --out n.ts >/dev/null && ok=$((ok + 1))
    i=$((i + 1))
done
checks=$((checks + 1))
[ $ok = 260 ] && echo "ok: 260 more registered" || { fails=$((fails + 1)); echo "FAIL: $ok of 260"; }
expect 0 "audit: incremental across a tile boundary" "$SCITT" audit --url "$URL" --state st --json
has "$T/out" '"replayed":260' "the 260 new entries are replayed"
has "$T/out" '"ok":true' "clean"
expect 0 "export-tiles while scittd runs" "$SCITT" export-tiles --data "$T/data" --out static \
    --keys keys.cbor --config config.cbor
expect 0 "audit the static copy from scratch" "$SCITT" audit --url "file://$T/static" \
    --state st-static
has "$T/out" "OK: 0 discrepancies" "static copy audits clean"
expect 0 "audit the static copy with the live state (pins must match)" "$SCITT" audit \
    --url static --state st
expect 0 "export-tiles again keeps what exists" "$SCITT" export-tiles --data "$T/data" \
    --out static --json
has "$T/out" '"written":0' "nothing rewritten"
cp -r static bad-tile
flip bad-tile/tile/0/000 40
expect 1 "audit: a tampered hash tile" "$SCITT" audit --url bad-tile --state st-bad1
has "$T/out" "DISCREPANCY: entry 1: its leaf hash differs" "the exact index and reason"
one_line "audit discrepancy message"
cp -r static bad-level1
TILE1=$(ls bad-level1/tile/1/000.p/* | head -1)
flip "$TILE1" 7
expect 1 "audit: a tampered level-1 tile" "$SCITT" audit --url bad-level1 --state st-bad3
has "$T/out" "DISCREPANCY: tile 1/0: hash 0 differs from the hash of the 8-level subtree" \
    "the level-1 hash is recomputed from the level-0 tile"
cp -r static bad-bundle
flip bad-bundle/tile/entries/000 -10
expect 1 "audit: a tampered entry bundle" "$SCITT" audit --url bad-bundle --state st-bad2
has "$T/out" "DISCREPANCY: entry" "discrepancy names the entry"
cp -r static bad-cp
flip bad-cp/checkpoint 20
expect 1 "audit: a checkpoint that does not verify" "$SCITT" audit --url bad-cp --state st
[ -f st-bad1/state.cbor ] && { fails=$((fails + 1)); echo "FAIL: state saved after a failed audit"; } ||
    echo "ok: no state saved after a failed audit"
expect 2 "audit: no --state" "$SCITT" audit --url "$URL"

step https
stop_scittd
"$FIXTURES" "$T/fx" >/dev/null || { echo "FAIL: fixtures"; exit 1; }
start_scittd "$T/data" --tls-cert "$T/fx/tls/cert.pem" --tls-key "$T/fx/tls/key.pem"
expect 2 "https without the CA: untrusted" "$SCITT" keys --url "$URL" --out x.cbor
has "$T/err" "not trusted" "the TLS failure is named"
expect 2 "http:// to the TLS port" "$SCITT" keys --url "http://${URL#https://}" --out x.cbor
one_line "plain http to TLS message"
has "$T/err" "it speaks TLS, use https://" "the message says the server wants https"
expect 0 "https with --cacert" "$SCITT" register --url "$URL" --cacert "$T/fx/tls/cert.pem" \
    rsa.stmt --out rsa2.ts
expect 0 "audit over https" "$SCITT" audit --url "$URL" --cacert "$T/fx/tls/cert.pem" --state st
stop_scittd

finish
