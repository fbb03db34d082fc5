#!/bin/sh
# attest_dcap.sh SCITT TEST_DATA ATTEST_FIXTURES SCITTD
# scitt attest verify and scitt verify --service-bundle with Intel TDX and SGX evidence, offline
# with the real samples of tests/data/dcap at their pinned times: bare quotes with --collateral,
# every printed field, the TCB status (OutOfDate refused unless --accept-tcb names it), pinned
# MRTD, RTMRs, MRENCLAVE, MRSIGNER and REPORTDATA (right and wrong), a flipped byte, a time
# outside the collateral, and bundles made by attest_fixtures: the quote binds somebody else's
# identity, a bundle without collateral, the other platform's evidence. scitt sign with
# --tdx-quote, --sgx-quote and tdx:MRTD,rtmrN=HEX; with --collateral, registered under a policy
# whose "tee" rule verifies the evidence at iat, and audited after the collateral expired.
# scittd --platform tdx where there is no TDX.
SCITT=$1
DATA=$2
FIXTURES=$3
SCITTD=$4
. "$(dirname "$0")/lib.sh"
cd "$T" || exit 2
D=$DATA/dcap
AT=2025-07-15T00:00:00Z
SGX_AT=2025-08-20T00:00:00Z
TDXQ=$D/tdx-automata/quote.bin
TDXC=$D/tdx-automata/collateral
SGXQ=$D/sgx-automata/quote.bin
SGXC=$D/sgx-automata/collateral
MRTD=935be7742dd89c6a4df6dba8353d89041ae0f052beef993b1e7f4524d3bc57650df20e5582158352e1240b3f1fed55d8
MRENCLAVE=a4f45c39dac622cb1dd32ddb35a52ec92db41d0fa88a1c911c49e59c534f61cd
MRSIGNER=8f2dbc0f9c5d3378d596974b2deed1f93223cc49242899f83809bcc92546132c
Z48=$(printf '00%.0s' $(seq 48))
Z64=$(printf '00%.0s' $(seq 64))
OTHER48=$(printf 'ab%.0s' $(seq 48))
OTHER32=$(printf 'ab%.0s' $(seq 32))

step "a bare TDX quote"
expect 1 "OutOfDate is refused by default" "$SCITT" attest verify "$TDXQ" --collateral "$TDXC" \
    --at $AT
has "$T/out" "tcb_status:    OutOfDate" "the status is printed"
has "$T/err" "TCB status is OutOfDate, which is not accepted" "the refusal names the status"
expect 1 "--accept-tcb without OutOfDate still refuses" "$SCITT" attest verify "$TDXQ" \
    --collateral "$TDXC" --at $AT --accept-tcb UpToDate,SWHardeningNeeded
expect 0 "--accept-tcb OutOfDate admits it" "$SCITT" attest verify "$TDXQ" --collateral "$TDXC" \
    --at $AT --accept-tcb UpToDate,OutOfDate --expect-mrtd "$MRTD"
for f in "mrtd:          $MRTD" "rtmr0:" "rtmr3:" "mrseam:        ffc97a88" "fmspc:         00806f050000" \
    "advisory_ids:  INTEL-SA-00960" "PCK CRL checked" "VERIFIED: an Intel TDX quote"; do
    has "$T/out" "$f" "printed: $f"
done
expect 1 "the wrong MRTD" "$SCITT" attest verify "$TDXQ" --collateral "$TDXC" --at $AT \
    --accept-tcb OutOfDate --expect-mrtd "$OTHER48"
has "$T/err" "MRTD $MRTD is not the one expected" "the message names MRTD"
expect 0 "RTMR0 as it is (zeros)" "$SCITT" attest verify "$TDXQ" --collateral "$TDXC" --at $AT \
    --accept-tcb OutOfDate --expect-mrtd "$MRTD" --expect-rtmr 0="$Z48"
expect 1 "the wrong RTMR2" "$SCITT" attest verify "$TDXQ" --collateral "$TDXC" --at $AT \
    --accept-tcb OutOfDate --expect-mrtd "$MRTD" --expect-rtmr 2="$OTHER48"
has "$T/err" "RTMR is not the expected value" "the message names the RTMR"
expect 1 "an SGX pin on a TD" "$SCITT" attest verify "$TDXQ" --collateral "$TDXC" --at $AT \
    --accept-tcb OutOfDate --expect-mrenclave "$OTHER32"
expect 0 "REPORTDATA as it is" "$SCITT" attest verify "$TDXQ" --collateral "$TDXC" --at $AT \
    --accept-tcb OutOfDate --expect-report-data "$Z64"
expect 1 "another REPORTDATA (a quote bound to another key or nonce)" "$SCITT" attest verify \
    "$TDXQ" --collateral "$TDXC" --at $AT --accept-tcb OutOfDate \
    --expect-report-data "$OTHER32$OTHER32"
expect 1 "a time after the collateral's window" "$SCITT" attest verify "$TDXQ" \
    --collateral "$TDXC" --at 2025-09-01T00:00:00Z --accept-tcb OutOfDate
cp "$TDXQ" q.bin
flip q.bin 300
expect 1 "a flipped byte of the TD report" "$SCITT" attest verify q.bin --collateral "$TDXC" \
    --at $AT --accept-tcb OutOfDate
has "$T/err" "quote signature does not verify" "the signature check names it"
expect 0 "the GCP quote is UpToDate with the same FMSPC's collateral" "$SCITT" attest verify \
    "$D/tdx-gcp/quote.bin" --collateral "$TDXC" --at $AT --json
for f in '"tee":"tdx"' '"tcb_status":"UpToDate"' '"advisory_ids":[]' '"fmspc":"00806f050000"' \
    '"mrtd":"dae67181' '"rtmr":["3fa2f61f' '"mrseam":"ffc97a88' '"report_data":"0000'; do
    has "$T/out" "$f" "JSON: $f"
done
expect 2 "a bare quote without --collateral" "$SCITT" attest verify "$TDXQ" --at $AT
one_line "the missing collateral"
mkdir empty
expect 2 "an empty --collateral directory" "$SCITT" attest verify "$TDXQ" --collateral empty
expect 2 "--accept-tcb Revoked" "$SCITT" attest verify "$TDXQ" --collateral "$TDXC" \
    --accept-tcb Revoked
expect 2 "--expect-rtmr 4=" "$SCITT" attest verify "$TDXQ" --collateral "$TDXC" \
    --expect-rtmr 4="$Z48"
expect 2 "--expect-rtmr twice for one RTMR" "$SCITT" attest verify "$TDXQ" --collateral "$TDXC" \
    --expect-rtmr 1="$Z48" --expect-rtmr 1="$Z48"
expect 2 "--nonce with a bare quote" "$SCITT" attest verify "$TDXQ" --collateral "$TDXC" \
    --nonce 0102

step "a bare SGX quote"
expect 1 "SWHardeningNeeded is refused by default" "$SCITT" attest verify "$SGXQ" \
    --collateral "$SGXC" --at $SGX_AT
expect 0 "admitted with --accept-tcb SWHardeningNeeded and the right MRENCLAVE, MRSIGNER" \
    "$SCITT" attest verify "$SGXQ" --collateral "$SGXC" --at $SGX_AT \
    --accept-tcb SWHardeningNeeded --expect-mrenclave "$MRENCLAVE" --expect-mrsigner "$MRSIGNER" \
    --json
for f in '"tee":"sgx"' '"tcb_status":"SWHardeningNeeded"' '"advisory_ids":["INTEL-SA-00615"]' \
    "\"mrenclave\":\"$MRENCLAVE\"" "\"mrsigner\":\"$MRSIGNER\"" '"isv_prod_id":0' '"isv_svn":0' \
    '"fmspc":"00606a000000"'; do
    has "$T/out" "$f" "JSON: $f"
done
expect 1 "the wrong MRENCLAVE" "$SCITT" attest verify "$SGXQ" --collateral "$SGXC" \
    --at $SGX_AT --accept-tcb SWHardeningNeeded --expect-mrenclave "$OTHER32"
has "$T/err" "MRENCLAVE is not one of the allowed values" "the message names MRENCLAVE"
expect 1 "the wrong MRSIGNER" "$SCITT" attest verify "$SGXQ" --collateral "$SGXC" \
    --at $SGX_AT --accept-tcb SWHardeningNeeded --expect-mrsigner "$OTHER32"
expect 1 "a TDX pin on an enclave" "$SCITT" attest verify "$SGXQ" --collateral "$SGXC" \
    --at $SGX_AT --accept-tcb SWHardeningNeeded --expect-mrtd "$MRTD"
expect 1 "the TDX collateral for an SGX quote" "$SCITT" attest verify "$SGXQ" \
    --collateral "$TDXC" --at $SGX_AT --accept-tcb SWHardeningNeeded

step "bundles"
expect 0 "make the bundles" "$FIXTURES" dcap "$DATA" .
expect 1 "a TDX bundle: OutOfDate refused by default" "$SCITT" attest verify tdx.bundle --at $AT
expect 1 "a TDX bundle whose quote binds somebody else's identity" "$SCITT" attest verify \
    tdx.bundle --at $AT --accept-tcb OutOfDate --expect-mrtd "$MRTD"
has "$T/err" "does not bind this identity document" "the binding is what fails"
has "$T/out" "mrtd:          $MRTD" "the verified fields are printed"
expect 1 "a TDX bundle without collateral" "$SCITT" attest verify tdx-bare.bundle --at $AT \
    --accept-tcb OutOfDate
has "$T/err" "no DCAP collateral" "the message says so"
expect 1 "... with --collateral it gets to the binding" "$SCITT" attest verify tdx-bare.bundle \
    --at $AT --accept-tcb OutOfDate --collateral "$TDXC"
has "$T/err" "does not bind this identity document" "the binding is what fails"
expect 1 "an SGX bundle binds somebody else's identity" "$SCITT" attest verify sgx.bundle \
    --at $SGX_AT --accept-tcb SWHardeningNeeded
has "$T/err" "does not bind this identity document" "the binding is what fails"
expect 1 "a TDX quote presented as SGX evidence" "$SCITT" attest verify tdx-as-sgx.bundle \
    --at $AT --accept-tcb OutOfDate
has "$T/err" "another TEE than the bundle's platform" "the message says so"
expect 1 "an SGX quote presented as TDX evidence" "$SCITT" attest verify sgx-as-tdx.bundle \
    --at $SGX_AT --accept-tcb SWHardeningNeeded
has "$T/err" "another TEE than the bundle's platform" "the message says so"
expect 1 "a TDX bundle with an SNP measurement pin" "$SCITT" attest verify tdx.bundle --at $AT \
    --accept-tcb OutOfDate --expect-host-data "$OTHER32"

step "scitt verify --service-bundle"
printf 'x' >ts.cbor
expect 2 "a TDX bundle needs --expect-mrtd" "$SCITT" verify ts.cbor --service-bundle tdx.bundle
has "$T/err" "--expect-mrtd is required" "the message says so"
expect 2 "an SGX bundle needs --expect-mrenclave or --expect-mrsigner" "$SCITT" verify ts.cbor \
    --service-bundle sgx.bundle
has "$T/err" "--expect-mrenclave or --expect-mrsigner is required" "the message says so"
expect 1 "the TDX bundle is refused before any receipt is trusted" "$SCITT" verify ts.cbor \
    --service-bundle tdx.bundle --expect-mrtd "$MRTD" --accept-tcb OutOfDate
has "$T/err" "service bundle: tdx.bundle" "the bundle check fails"
expect 2 "TDX options without a bundle" "$SCITT" verify ts.cbor --trust x --expect-mrtd "$MRTD"

step "scitt sign: TDX and SGX measurement statements"
"$SCITT" keygen --out k >/dev/null 2>&1
expect 0 "--tdx-quote" "$SCITT" sign --key k.key --iss https://builder.example --sub td \
    --tdx-quote "$D/tdx-gcp/quote.bin" --out t.cose
expect 0 "inspect it" "$SCITT" inspect t.cose
has "$T/out" "h'dae67181d3d65e07" "the payload is MRTD"
has "$T/out" '"tee": "tdx"' "the tee claim"
has "$T/out" "\"rtmr0\": h'3fa2f61f" "RTMR0 as a claim"
has "$T/out" '"rtmr3": h'"'"'0000' "RTMR3 as a claim"
has "$T/out" "258: -43" "SHA-384"
expect 0 "--sgx-quote" "$SCITT" sign --key k.key --iss https://builder.example --sub enc \
    --sgx-quote "$SGXQ" --out s.cose
expect 0 "inspect it" "$SCITT" inspect s.cose
has "$T/out" "h'$MRENCLAVE'" "the payload is MRENCLAVE"
has "$T/out" "\"mrsigner\": h'$MRSIGNER'" "MRSIGNER as a claim"
has "$T/out" '"isv_prod_id": 0' "the ISV product ID"
has "$T/out" '"svn": 0' "the ISV SVN"
expect 2 "a TDX quote given as --sgx-quote" "$SCITT" sign --key k.key --iss https://b.example \
    --sub e --sgx-quote "$TDXQ" --out x.cose
has "$T/err" "is a TDX quote: give --tdx-quote" "the message says which"
expect 0 "--measurement tdx:MRTD,rtmr1=HEX" "$SCITT" sign --key k.key --iss https://b.example \
    --sub e --measurement "tdx:$MRTD,rtmr1=$OTHER48" --out m.cose
expect 0 "inspect it" "$SCITT" inspect m.cose
has "$T/out" "\"rtmr1\": h'abab" "RTMR1 as a claim"
expect 2 "an RTMR on an SGX measurement" "$SCITT" sign --key k.key --iss https://b.example \
    --sub e --measurement "sgx:$MRENCLAVE,rtmr1=$OTHER48" --out m.cose
expect 2 "rtmr4" "$SCITT" sign --key k.key --iss https://b.example --sub e \
    --measurement "tdx:$MRTD,rtmr4=$OTHER48" --out m.cose
expect 2 "rtmr1 twice" "$SCITT" sign --key k.key --iss https://b.example --sub e \
    --measurement "tdx:$MRTD,rtmr1=$OTHER48,rtmr1=$OTHER48" --out m.cose
expect 2 "an RTMR of 47 bytes" "$SCITT" sign --key k.key --iss https://b.example --sub e \
    --measurement "tdx:$MRTD,rtmr0=$(printf 'ab%.0s' $(seq 47))" --out m.cose

step "registration policy: TDX evidence judged at iat (scittd, then scitt audit)"
# The tdx-gcp quote is UpToDate with the tdx-automata collateral at $AT; every piece of that
# collateral has expired since, so the service and the auditor both decide at the statement's iat.
GCPQ=$D/tdx-gcp/quote.bin
T_AT=1752537600 # $AT
expect 0 "sign --tdx-quote --collateral (iat $AT)" "$SCITT" sign --key k.key \
    --iss https://builder.example --sub td --tdx-quote "$GCPQ" --collateral "$TDXC" \
    --iat $T_AT --out ev.cose
expect 0 "inspect it" "$SCITT" inspect ev.cose
has "$T/out" '"dcap_quote": h' "the quote in the protected header"
has "$T/out" '"pck_crl.der": h' "the collateral in the protected header"
expect 0 "signed today with the same collateral" "$SCITT" sign --key k.key \
    --iss https://builder.example --sub td --tdx-quote "$GCPQ" --collateral "$TDXC" \
    --out stale.cose
expect 0 "an OutOfDate platform" "$SCITT" sign --key k.key --iss https://builder.example \
    --sub td --tdx-quote "$TDXQ" --collateral "$TDXC" --iat $T_AT --out ood.cose
expect 0 "the quote alone (no --collateral)" "$SCITT" sign --key k.key \
    --iss https://builder.example --sub td --tdx-quote "$GCPQ" --iat $T_AT --out bare.cose
expect 2 "--collateral needs a quote" "$SCITT" sign --key k.key --iss https://builder.example \
    --sub td --measurement "tdx:$MRTD" --collateral "$TDXC" --out x.cose
mkdir badc && cp "$TDXC"/* badc/ && printf '{"tcbInfo":' >badc/tcb_info.json
expect 2 "--collateral with a broken TCB info" "$SCITT" sign --key k.key \
    --iss https://builder.example --sub td --tdx-quote "$GCPQ" --collateral badc --out x.cose
has "$T/err" "tcb_info.json" "the message names the file"
PEM=$(awk '{printf "%s\\n", $0}' k.pub)
printf '{"version": 1, "issuers": [{"iss": "https://builder.example", "keys": ["%s"], "tee": {"platform": "tdx", "evidence": true}}, {"iss": "https://workload.example", "keys": ["%s"], "tee": {"platform": "tdx", "evidence": true, "attested_issuer": true}}]}\n' \
    "$PEM" "$PEM" >tee-policy.json
printf 'an SBOM' >sbom.txt
expect 0 "sign --payload --attest-quote --collateral" "$SCITT" sign --key k.key \
    --iss https://workload.example --sub sbom --payload sbom.txt --attest-quote "$GCPQ" \
    --collateral "$TDXC" --iat $T_AT --out att.cose
expect 2 "--attest-quote without --collateral" "$SCITT" sign --key k.key \
    --iss https://workload.example --sub sbom --payload sbom.txt --attest-quote "$GCPQ" \
    --out x.cose
expect 2 "--attest-quote that is no quote" "$SCITT" sign --key k.key \
    --iss https://workload.example --sub sbom --payload sbom.txt --attest-quote sbom.txt \
    --collateral "$TDXC" --out x.cose
has "$T/err" "not a DCAP quote" "the message says why"
start_scittd "$T/dpol" --policy tee-policy.json
expect 0 "admitted: UpToDate at its iat" "$SCITT" register --url "$URL" ev.cose --out ev.ts
expect 1 "refused: the collateral is not current at today's iat" "$SCITT" register \
    --url "$URL" stale.cose --out x.ts
has "$T/err" "evidence at iat" "the refusal names the evidence"
expect 1 "refused: OutOfDate" "$SCITT" register --url "$URL" ood.cose --out x.ts
has "$T/err" "TCB status" "the refusal names the TCB status"
expect 1 "refused: a measurement statement without its evidence" "$SCITT" register \
    --url "$URL" bare.cose --out x.ts
has "$T/err" '("dcap_quote")' "the refusal names what is missing"
expect 1 "refused: the quote's REPORTDATA names another key than ours" "$SCITT" register \
    --url "$URL" att.cose --out x.ts
has "$T/err" "does not bind the key that signed the statement" "the refusal names the binding"
expect 0 "the auditor replays the log today, after the collateral expired" "$SCITT" audit \
    --url "$URL" --state ast --json
has "$T/out" '"discrepancies":[]' "no discrepancy"
has "$T/out" '"undecidable":[]' "nothing undecidable: the instant is the logged iat"
stop_scittd

step "scittd --platform tdx without TDX"
mkdir tsm
expect 2 "refused: no TDX guest answers" "$SCITTD" --data d1 --listen 127.0.0.1:0 \
    --platform tdx --tee-configfs "$T/tsm" --sev-guest "$T/nothing" --dcap-collateral "$TDXC"
has "$T/err" "no TDX guest" "the message says so"
expect 2 "--platform tdx is a known value, tpm is not" "$SCITTD" --data d1 --platform tpm

step "usage"
expect 0 "attest verify --help names the Intel options" "$SCITT" attest verify --help
for o in --collateral --accept-tcb --expect-mrtd --expect-rtmr --expect-mrenclave \
    --expect-mrsigner; do
    has "$T/out" "$o" "documented: $o"
done
expect 0 "verify --help names them" "$SCITT" verify --help
has "$T/out" "--expect-mrtd" "documented"

finish
