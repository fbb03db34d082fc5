#!/bin/sh
# attest.sh SCITT SCITTD TEST_DATA ATTEST_FIXTURES CLI_FIXTURES
# scitt attest export / verify and scitt verify --service-bundle. Against real scittd instances on
# the INSECURE virtual platform (this machine has no TEE): export, refusal without
# --allow-insecure-virtual, receipts trusted through the bundle, another instance's bundle, a
# tampered identity, a wrong measurement, nonces, a re-bound issuer. Offline with the real
# SEV-SNP samples: a bare report with its certificates at the pinned time, fields as expected.json
# lists them, flipped bytes, wrong roots, policy, and SNP bundles made by attest_fixtures.
SCITT=$1
SCITTD=$2
DATA=$3
FIXTURES=$4
CLI_FIXTURES=$5
. "$(dirname "$0")/lib.sh"
cd "$T" || exit 2
SNP=$DATA/tee/sev-snp
AT=2025-07-01T00:00:00Z
# The virtual platform's measurement: SHA-384 of the scittd binary.
MEAS=$(sha384sum "$SCITTD" | cut -c1-96)
OTHER=$(printf 'ab%.0s' $(seq 48))

# expected N FIELD: FIELD of the Nth report in expected.json (1 virtee, 2 go-sev-guest).
expected() {
    grep "\"$2\":" "$SNP/expected.json" | sed -n "${1}p" |
        sed 's/^[^:]*: *"\{0,1\}\([^",]*\)"\{0,1\},\{0,1\} *$/\1/'
}

start_scittd "$T/d1"
URL1=$URL

step "attest export"
expect 0 "export the service bundle" "$SCITT" attest export --url "$URL1" --out b1.cbor
has "$T/out" "platform virtual (INSECURE" "export says the platform is insecure"
expect 0 "inspect the service bundle" "$SCITT" inspect b1.cbor
has "$T/out" "/ service bundle / {" "named a service bundle, not a configuration"
has "$T/out" '"identity": <<{' "the identity's nested CBOR decoded"
has "$T/out" '"evidence": <<{' "the evidence's nested CBOR decoded"
has "$T/out" '"type": "scittd-insecure-virtual-v1"' "down to its fields"
expect 0 "export --json" "$SCITT" attest export --url "$URL1" --out b1.cbor --json
has "$T/out" '"platform":"virtual","insecure":true' "JSON names the platform"
has "$T/out" '"issuer":"scittd.local"' "JSON names the issuer"
printf 'my precious key\n' >precious.key
cp precious.key precious.orig
expect 2 "export refuses to replace a file that is not a bundle" "$SCITT" attest export \
    --url "$URL1" --out precious.key
one_line "refusal message"
has "$T/err" "not a service bundle: not replacing it" "the message says why"
cmp -s precious.key precious.orig && echo "ok: the file is untouched" ||
    { fails=$((fails + 1)); echo "FAIL: the file was replaced"; }
checks=$((checks + 1))
expect 2 "export: a path with no /attestation" "$SCITT" attest export --url "$URL1/nothing" \
    --out x.cbor
has "$T/err" "404" "the HTTP status is named"
expect 2 "export: nothing listens" "$SCITT" attest export --url http://127.0.0.1:1 --out x.cbor
expect 2 "export: no --out" "$SCITT" attest export --url "$URL1"
expect 2 "export: a nonce that is not hex" "$SCITT" attest export --url "$URL1" --out x.cbor \
    --nonce xyz
[ -f x.cbor ] && { fails=$((fails + 1)); echo "FAIL: x.cbor written"; } || echo "ok: nothing written"
checks=$((checks + 1))
if command -v python3 >/dev/null 2>&1; then
    # A web server that answers /attestation with something that is not a bundle.
    mkdir www && printf '{"not": "a bundle"}' >www/attestation
    python3 -m http.server 0 --bind 127.0.0.1 --directory www >web.log 2>&1 &
    WEB=$!
    i=0
    while [ $i -lt 50 ] && ! grep -q "port" web.log; do sleep 0.1; i=$((i + 1)); done
    WPORT=$(sed -n 's/.* port \([0-9]*\).*/\1/p' web.log | head -1)
    cp b1.cbor keep.cbor
    expect 1 "export: a 200 answer that is not a bundle" "$SCITT" attest export \
        --url "http://127.0.0.1:$WPORT" --out keep.cbor
    has "$T/err" "not a service bundle" "the message says what is wrong"
    cmp -s keep.cbor b1.cbor && echo "ok: the old bundle is kept" ||
        { fails=$((fails + 1)); echo "FAIL: the old bundle was replaced"; }
    checks=$((checks + 1))
    kill "$WEB"
    wait "$WEB" 2>/dev/null
else
    echo "skip: no python3 for a web server that serves a non-bundle"
fi

step "attest verify (virtual)"
expect 1 "virtual evidence is refused without --allow-insecure-virtual" "$SCITT" attest verify \
    b1.cbor
one_line "refusal message"
has "$T/err" "INSECURE virtual platform" "the message names the reason"
has "$T/err" "--allow-insecure-virtual" "the message names the flag"
has "$T/out" "verdict:       NOT VERIFIED" "the verdict"
expect 0 "accepted with --allow-insecure-virtual" "$SCITT" attest verify b1.cbor \
    --allow-insecure-virtual
has "$T/out" "verdict:       INSECURE" "the verdict says INSECURE"
has "$T/out" "measurement:   $MEAS" "the measurement is SHA-384 of the scittd binary"
has "$T/out" "issuer:        scittd.local" "the identity's issuer"
has "$T/out" "receipt key:   kid " "the identity's receipt key"
has "$T/out" "note key:      scittd.local+" "the identity's checkpoint key"
has "$T/err" "WARNING: INSECURE" "a warning on stderr"
expect 0 "--expect-measurement (SHA-384 of the binary) --json" "$SCITT" attest verify b1.cbor \
    --allow-insecure-virtual --expect-measurement "$MEAS" --json
has "$T/out" '"verdict":"insecure"' "JSON verdict"
has "$T/out" "\"measurement\":\"$MEAS\"" "JSON measurement"
has "$T/out" '"origin":"scittd.local"' "JSON origin"
expect 1 "a wrong --expect-measurement" "$SCITT" attest verify b1.cbor --allow-insecure-virtual \
    --expect-measurement "$OTHER"
has "$T/err" "launch measurement $MEAS is not the one expected" "the message names the measurement"
expect 1 "--expect-host-data cannot be met by virtual evidence" "$SCITT" attest verify b1.cbor \
    --allow-insecure-virtual --expect-host-data "$(printf '00%.0s' $(seq 32))"
has "$T/err" "no HOST_DATA" "the message says why"
expect 2 "--expect-measurement of the wrong length" "$SCITT" attest verify b1.cbor \
    --expect-measurement abcd
expect 2 "--expect-report-data does not apply to a bundle" "$SCITT" attest verify b1.cbor \
    --expect-report-data "$(printf '00%.0s' $(seq 64))"
expect 2 "an unreadable input" "$SCITT" attest verify nothing.cbor
expect 1 "an input that is neither bundle nor report" "$SCITT" attest verify precious.key
has "$T/err" "neither a service bundle nor an SNP report" "the message says what it is not"
cp b1.cbor tampered.cbor
# Flip one bit of the issuer text inside the identity document ("scittd.local" -> "rcittd.local").
OFF=$(grep -abo "scittd.local" tampered.cbor | head -1 | cut -d: -f1)
flip tampered.cbor "$OFF"
expect 1 "a flipped byte in the identity" "$SCITT" attest verify tampered.cbor \
    --allow-insecure-virtual
has "$T/err" "does not bind this identity document" "the binding fails"
cp b1.cbor truncated.cbor
dd if=b1.cbor of=truncated.cbor bs=1 count=100 2>/dev/null
expect 1 "a truncated bundle" "$SCITT" attest verify truncated.cbor --allow-insecure-virtual

step "nonce round trip"
N1=00112233445566778899aabbccddeeff
N2=00112233445566778899aabbccddeef0
expect 0 "export --nonce (fresh evidence)" "$SCITT" attest export --url "$URL1" --out bn.cbor \
    --nonce "$N1" --json
has "$T/out" "\"nonce\":\"$N1\"" "JSON names the nonce"
expect 0 "verify with the same --nonce" "$SCITT" attest verify bn.cbor --allow-insecure-virtual \
    --nonce "$N1" --json
ID=$(sed -n 's/.*"identity":{"sha256":"\([0-9a-f]*\)".*/\1/p' "$T/out")
has "$T/out" "\"report_data\":\"$ID$N1$(printf '00%.0s' $(seq 16))\"" \
    "REPORT_DATA = SHA-256(identity) || nonce, zero-padded"
expect 1 "verify with another --nonce" "$SCITT" attest verify bn.cbor --allow-insecure-virtual \
    --nonce "$N2"
has "$T/err" "bound to another nonce" "the message says so"
expect 1 "verify without --nonce" "$SCITT" attest verify bn.cbor --allow-insecure-virtual
has "$T/err" "bound to a nonce" "the message asks for the nonce"
expect 1 "the static bundle with a --nonce" "$SCITT" attest verify b1.cbor \
    --allow-insecure-virtual --nonce "$N1"

step "register, then verify --service-bundle"
"$SCITT" keygen --out ci --self-signed-cert --subject ci >/dev/null
printf '{"app":1}\n' >p.json
"$SCITT" sign --key ci.key --cert ci.crt --iss https://ci.example/app --sub app --payload p.json \
    --out st.cbor >/dev/null
expect 0 "register" "$SCITT" register --url "$URL1" st.cbor --out reg.cbor --json
EID=$(json_field entry_id)
expect 0 "get the transparent statement" "$SCITT" get --url "$URL1" "$EID" --statement \
    --out ts.cbor
expect 0 "verify with the bundle's receipt key (INSECURE allowed)" "$SCITT" verify ts.cbor \
    --service-bundle b1.cbor --allow-insecure-virtual
has "$T/out" "ok   service bundle: b1.cbor: INSECURE virtual evidence accepted" "bundle check"
has "$T/out" "(service bundle b1.cbor)" "the receipt key came from the bundle"
has "$T/out" "ok   receipt 1 issuer: the receipt names \"scittd.local\"" "issuer checked"
has "$T/out" "verified INSECURELY" "the verdict says INSECURE"
has "$T/err" "WARNING: INSECURE" "a warning on stderr"
expect 0 "verify --service-bundle --expect-measurement --json" "$SCITT" verify ts.cbor \
    --service-bundle b1.cbor --allow-insecure-virtual --expect-measurement "$MEAS" --json
has "$T/out" '"trust_file":"service bundle b1.cbor"' "JSON names the bundle as the trust"
has "$T/out" '"insecure":true' "JSON says insecure"
has "$T/out" '"service_bundle":{"ok":true,"verdict":"insecure"' "JSON carries the bundle"
expect 1 "verify --service-bundle without --allow-insecure-virtual" "$SCITT" verify ts.cbor \
    --service-bundle b1.cbor
one_line "refusal message"
has "$T/err" "service bundle: b1.cbor: the evidence is from the INSECURE virtual platform" \
    "the message names the bundle and the reason"
expect 1 "verify --service-bundle with a wrong --expect-measurement" "$SCITT" verify ts.cbor \
    --service-bundle b1.cbor --allow-insecure-virtual --expect-measurement "$OTHER"
has "$T/err" "is not the one expected" "the measurement is named"
expect 1 "verify --service-bundle with a tampered identity" "$SCITT" verify ts.cbor \
    --service-bundle tampered.cbor --allow-insecure-virtual
has "$T/err" "does not bind this identity document" "the binding fails"
expect 0 "verify --service-bundle with the nonce bundle and its --nonce" "$SCITT" verify ts.cbor \
    --service-bundle bn.cbor --allow-insecure-virtual --nonce "$N1"
expect 1 "verify --service-bundle with the nonce bundle and another --nonce" "$SCITT" verify \
    ts.cbor --service-bundle bn.cbor --allow-insecure-virtual --nonce "$N2"
expect 1 "verify --service-bundle: a file that is not a bundle" "$SCITT" verify ts.cbor \
    --service-bundle precious.key --allow-insecure-virtual
expect 2 "verify --service-bundle: a missing file" "$SCITT" verify ts.cbor \
    --service-bundle none.cbor --allow-insecure-virtual
expect 2 "verify: --expect-measurement without --service-bundle" "$SCITT" verify ts.cbor \
    --trust b1.cbor --expect-measurement "$MEAS"
# A valid virtual bundle for the same keys under another issuer: anybody can make one, which is
# why virtual evidence is refused by default; the receipts name scittd.local, so it still fails.
expect 0 "attest_fixtures: re-bind the keys to another issuer" "$FIXTURES" rebind b1.cbor \
    evil.example rebound.cbor
expect 0 "the re-bound bundle verifies as virtual evidence" "$SCITT" attest verify rebound.cbor \
    --allow-insecure-virtual --expect-measurement "$MEAS"
has "$T/out" "issuer:        evil.example" "it names the other issuer"
expect 1 "receipts must name the bundle's issuer" "$SCITT" verify ts.cbor \
    --service-bundle rebound.cbor --allow-insecure-virtual
has "$T/out" "FAIL receipt 1 issuer: the receipt names \"scittd.local\", not the service" \
    "the issuer check fails"

step "another scittd instance (over https)"
stop_scittd
"$CLI_FIXTURES" "$T/fx" >/dev/null || { echo "FAIL: cli_fixtures"; exit 1; }
start_scittd "$T/d2" --tls-cert "$T/fx/tls/cert.pem" --tls-key "$T/fx/tls/key.pem"
expect 2 "export over https without the CA: untrusted" "$SCITT" attest export --url "$URL" \
    --out b2.cbor
has "$T/err" "not trusted" "the TLS failure is named"
expect 0 "export the other instance's bundle (--cacert)" "$SCITT" attest export --url "$URL" \
    --cacert "$T/fx/tls/cert.pem" --out b2.cbor
expect 0 "it is a valid (virtual) bundle" "$SCITT" attest verify b2.cbor --allow-insecure-virtual \
    --expect-measurement "$MEAS"
expect 1 "verify with the other instance's bundle (other keys)" "$SCITT" verify ts.cbor \
    --service-bundle b2.cbor --allow-insecure-virtual
has "$T/out" "no trusted key has this kid" "the receipt key is not the bundle's"
stop_scittd

step "SEV-SNP samples offline: a bare report with its certificates"
V=$SNP/virtee-milan
G=$SNP/go-sev-guest-milan
expect 0 "virtee Milan report (hex) + VCEK (DER) + chain (PEM) at the pinned time" "$SCITT" \
    attest verify "$V/report_milan.hex" --certs "$V/vcek_milan.der" --certs "$V/cert_chain_milan" \
    --at "$AT" --json
has "$T/out" '"verdict":"verified"' "verified"
for f in measurement report_data host_data chip_id report_id policy reported_tcb current_version; do
    has "$T/out" "\"$f\":\"$(expected 1 $f)\"" "$f as expected.json lists it"
done
has "$T/out" "\"vmpl\":$(expected 1 vmpl)," "vmpl as expected.json lists it"
has "$T/out" "\"version\":$(expected 1 version)," "version as expected.json lists it"
has "$T/out" '"bootloader":3,"tee":0,"snp":8,"microcode":115' "TCB parts as expected.json lists them"
has "$T/out" '"product":"Milan","product_name":"Milan-B0"' "the product"
has "$T/out" '"ark_sha256":"69d063b45344d26a2e94e1f4210de49ef555308287d4c174445c95639a540bcd"' \
    "the pinned Milan root"
expect 0 "the same report in binary, text output" "$SCITT" attest verify "$V/report_milan.bin" \
    --certs "$V/vcek_milan.der" --certs "$V/cert_chain_milan" --at "$AT"
has "$T/out" "verdict:       VERIFIED: signed by AMD firmware on a genuine Milan chip" "verdict"
has "$T/out" "warning:       the measurement was not checked" "an unchecked measurement is named"
has "$T/out" "reported_tcb:  0x7308000000000003 (bl 3, tee 0, snp 8, ucode 115)" "the TCB"
expect 0 "--expect-measurement (the report's)" "$SCITT" attest verify "$V/report_milan.bin" \
    --certs "$V/vcek_milan.der" --certs "$V/cert_chain_milan" --at "$AT" \
    --expect-measurement "$(expected 1 measurement)"
lacks "$T/out" "warning:" "no warning when the measurement is checked"
expect 1 "a wrong --expect-measurement" "$SCITT" attest verify "$V/report_milan.bin" \
    --certs "$V/vcek_milan.der" --certs "$V/cert_chain_milan" --at "$AT" \
    --expect-measurement "$OTHER"
has "$T/err" "is not the one expected" "the measurement is named"
expect 0 "--expect-report-data (the report's)" "$SCITT" attest verify "$V/report_milan.bin" \
    --certs "$V/vcek_milan.der" --certs "$V/cert_chain_milan" --at "$AT" \
    --expect-report-data "$(expected 1 report_data)"
expect 1 "another --expect-report-data" "$SCITT" attest verify "$V/report_milan.bin" \
    --certs "$V/vcek_milan.der" --certs "$V/cert_chain_milan" --at "$AT" \
    --expect-report-data "$(printf '00%.0s' $(seq 64))"
has "$T/err" "REPORT_DATA is not the expected value" "the reason"
expect 0 "--min-tcb equal to the reported TCB" "$SCITT" attest verify "$V/report_milan.bin" \
    --certs "$V/vcek_milan.der" --certs "$V/cert_chain_milan" --at "$AT" \
    --min-tcb milan:bl=3,tee=0,snp=8,ucode=115
expect 0 "--min-tcb as a raw TCB, and for another product" "$SCITT" attest verify \
    "$V/report_milan.bin" --certs "$V/vcek_milan.der" --certs "$V/cert_chain_milan" --at "$AT" \
    --min-tcb milan:0x7308000000000003 --min-tcb genoa:bl=99,snp=99
expect 1 "--min-tcb above the reported TCB" "$SCITT" attest verify "$V/report_milan.bin" \
    --certs "$V/vcek_milan.der" --certs "$V/cert_chain_milan" --at "$AT" \
    --min-tcb milan:bl=3,tee=0,snp=9,ucode=115
has "$T/err" "below the minimum" "the reason"
expect 2 "--min-tcb with fmc on Milan" "$SCITT" attest verify "$V/report_milan.bin" \
    --certs "$V/vcek_milan.der" --min-tcb milan:fmc=1
expect 2 "--min-tcb for an unknown product" "$SCITT" attest verify "$V/report_milan.bin" \
    --certs "$V/vcek_milan.der" --min-tcb rome:bl=1
cp "$V/report_milan.bin" flipped.bin
flip flipped.bin 80
expect 1 "a flipped report byte (REPORT_DATA)" "$SCITT" attest verify flipped.bin \
    --certs "$V/vcek_milan.der" --certs "$V/cert_chain_milan" --at "$AT"
has "$T/err" "the report signature does not verify" "the signature check fails"
cp "$V/report_milan.bin" flipped2.bin
flip flipped2.bin -20
expect 1 "a flipped signature byte" "$SCITT" attest verify flipped2.bin \
    --certs "$V/vcek_milan.der" --certs "$V/cert_chain_milan" --at "$AT"
cp "$V/vcek_milan.der" vcek.der
flip vcek.der -10
expect 1 "a flipped VCEK signature byte" "$SCITT" attest verify "$V/report_milan.bin" \
    --certs vcek.der --certs "$V/cert_chain_milan" --at "$AT"
has "$T/err" "the VCEK is not signed by the ASK" "the chain fails"
cp "$V/vcek_milan.der" vcek40.der
flip vcek40.der 40
expect 1 "a flipped VCEK byte at 40" "$SCITT" attest verify "$V/report_milan.bin" \
    --certs vcek40.der --certs "$V/cert_chain_milan" --at "$AT"
expect 1 "the Genoa root and ASK for a Milan VCEK" "$SCITT" attest verify "$V/report_milan.bin" \
    --certs "$V/vcek_milan.der" --certs "$SNP/amd-certs/genoa_ask.pem" \
    --certs "$SNP/amd-certs/genoa_ark.pem" --at "$AT"
expect 1 "before the VCEK's validity" "$SCITT" attest verify "$V/report_milan.bin" \
    --certs "$V/vcek_milan.der" --certs "$V/cert_chain_milan" --at 2023-01-01T00:00:00Z
has "$T/err" "not yet valid" "the reason"
expect 1 "the go-sev-guest VCEK for the virtee report (another chip)" "$SCITT" attest verify \
    "$V/report_milan.bin" --certs "$G/vcek.testcer" --certs "$G/milan.testcer" --at "$AT"
has "$T/err" "another chip" "hwID mismatch named"
expect 1 "the go-sev-guest report allows debugging" "$SCITT" attest verify "$G/attestation.bin" \
    --certs "$G/vcek.testcer" --certs "$G/milan.testcer" --at "$AT" --json
has "$T/out" '"check":"SCITT_TEE_POLICY_DEBUG"' "the policy check named"
has "$T/out" '"debug":true' "debug shown"
for f in measurement report_data chip_id policy reported_tcb current_version; do
    has "$T/out" "\"$f\":\"$(expected 2 $f)\"" "go-sev-guest $f as expected.json lists it"
done
expect 1 "the go-sev-guest report with the ASK/ARK from the trust directory" "$SCITT" attest \
    verify "$G/attestation.bin" --certs "$G/vcek.testcer" \
    --certs "$SNP/amd-certs/go-sev-guest-trust/ask_ark_milan.pem" --at "$AT"
has "$T/err" "allows debugging" "authentic, refused by policy"
expect 2 "a bare report without --certs" "$SCITT" attest verify "$V/report_milan.bin"
expect 2 "--nonce does not apply to a bare report" "$SCITT" attest verify "$V/report_milan.bin" \
    --certs "$V/vcek_milan.der" --nonce 01
printf 'not a certificate' >bad.pem
expect 1 "--certs that holds no certificate" "$SCITT" attest verify "$V/report_milan.bin" \
    --certs bad.pem --at "$AT"
expect 2 "--at that is not a time" "$SCITT" attest verify "$V/report_milan.bin" \
    --certs "$V/vcek_milan.der" --at 2025-02-30T00:00:00Z

step "SEV-SNP service bundles offline"
expect 0 "attest_fixtures snp" "$FIXTURES" snp "$DATA" "$T"
expect 1 "an SNP bundle around the virtee report: the binding fails" "$SCITT" attest verify \
    snp.bundle --at "$AT" --json
has "$T/out" '"check":"SCITT_TEE_POLICY_REPORT_DATA"' "the chain and signature passed, the binding not"
has "$T/out" "\"measurement\":\"$(expected 1 measurement)\"" "the fields are shown anyway"
has "$T/out" '"issuer":"snp.example"' "the identity is shown"
expect 1 "an SNP bundle with a wrong --expect-measurement" "$SCITT" attest verify snp.bundle \
    --at "$AT" --expect-measurement "$OTHER"
has "$T/err" "is not the one expected" "the measurement fails before the binding"
expect 1 "--allow-insecure-virtual changes nothing for SNP" "$SCITT" attest verify snp.bundle \
    --at "$AT" --allow-insecure-virtual
has "$T/err" "does not bind this identity document" "the binding still fails"
expect 1 "an SNP bundle without endorsements" "$SCITT" attest verify snp-bare.bundle --at "$AT"
has "$T/err" "no VCEK (or VLEK) certificate was given" "the missing endorsements are named"
expect 1 "... with --certs added: up to the binding" "$SCITT" attest verify snp-bare.bundle \
    --at "$AT" --certs "$V/vcek_milan.der" --certs "$V/cert_chain_milan"
has "$T/err" "does not bind this identity document" "the endorsements were used"
expect 2 "verify --service-bundle with SNP evidence needs --expect-measurement" "$SCITT" verify \
    ts.cbor --service-bundle snp.bundle
has "$T/err" "--expect-measurement is required" "the message says so"
expect 1 "verify --service-bundle with the SNP bundle" "$SCITT" verify ts.cbor \
    --service-bundle snp.bundle --expect-measurement "$(expected 1 measurement)"
has "$T/err" "service bundle: snp.bundle" "the bundle check fails"

step "usage"
expect 0 "attest --help" "$SCITT" attest --help
has "$T/out" "Example" "attest --help has an example"
for c in export verify; do
    expect 0 "attest $c --help" "$SCITT" attest $c --help
    has "$T/out" "Example" "attest $c --help has an example"
done
expect 0 "verify --help names --service-bundle" "$SCITT" verify --help
has "$T/out" "--service-bundle FILE" "documented"
expect 2 "attest: unknown subcommand" "$SCITT" attest frob
one_line "unknown subcommand message"
expect 2 "attest verify: no input" "$SCITT" attest verify

finish
