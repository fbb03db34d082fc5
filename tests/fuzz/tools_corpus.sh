#!/bin/sh
# Writes the seed corpora of the scitt tool's fuzz targets (tests/fuzz/corpus/tools_*, receipt_ccf)
# from a build directory: HTTP responses shaped like scittd's, archives made by GNU tar, receipts
# made by cli_fixtures (keys made at run time and not kept), and the synthetic SNP reports of the
# tee corpus. Run from the repository root:  sh tests/fuzz/tools_corpus.sh build
set -eu
B=${1:-build}
C=tests/fuzz/corpus
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

mkdir -p $C/client_http_response $C/tools_tar $C/tools_oci $C/tools_snp_file $C/tools_diag \
    $C/tools_bundle $C/tools_legacy $C/receipt_ccf $C/tools_attest

# HTTP responses: sized, chunked with trailers, interim 100, 202 + Location, 204, problem details.
H=$C/client_http_response
printf 'HTTP/1.1 200 OK\r\nContent-Type: application/cbor\r\nContent-Length: 3\r\n\r\n\x82\x01\x02' >$H/sized
printf 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;x=y\r\nWiki\r\n5\r\npedia\r\n0\r\nT: v\r\n\r\n' >$H/chunked
printf 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nLocation: /entries/%064d\r\nContent-Length: 1\r\n\r\n\xa0' 0 >$H/interim
printf 'HTTP/1.1 202 Accepted\r\nLocation: /entries/%064d\r\nRetry-After: 1\r\nContent-Length: 0\r\n\r\n' 0 >$H/accepted
printf 'HTTP/1.1 204 No Content\r\nRetry-After: 1\r\nCache-Control: no-store\r\n\r\n' >$H/pending
printf 'HTTP/1.1 404 Not Found\r\nContent-Type: application/concise-problem-details+cbor\r\nContent-Length: 19\r\n\r\n\xa2\x20\x69Not Found\x21\x65later' >$H/problem
printf 'HTTP/1.0 200 OK\r\n\r\nuntil the end' >$H/close

# tar: an OCI layout as docker save writes it, ustar and PAX, with a long name.
mkdir -p $T/oci/blobs/sha256
printf '{"imageLayoutVersion":"1.0.0"}' >$T/oci/oci-layout
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%064d","size":2},"layers":[]}' 0 >$T/man.json
MAN=$(sha256sum $T/man.json | cut -c1-64)
cp $T/man.json $T/oci/blobs/sha256/$MAN
printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"io.containerd.image.name":"reg.example/app:1","org.opencontainers.image.ref.name":"1"}}]}' \
    "$MAN" "$(wc -c <$T/man.json)" >$T/oci/index.json
printf '[{"Config":"c.json","RepoTags":["reg.example/app:1"],"Layers":[]}]' >$T/oci/manifest.json
(cd $T/oci && tar --format=ustar -cf $T/ustar.tar oci-layout index.json manifest.json blobs)
mkdir -p $T/oci/$(printf 'd%.0s' $(seq 120))
printf 'x' >$T/oci/$(printf 'd%.0s' $(seq 120))/long
(cd $T/oci && tar --format=pax -cf $T/pax.tar index.json d*)
(cd $T/oci && tar --format=gnu -cf $T/gnu.tar index.json d*)
cp $T/ustar.tar $C/tools_tar/ustar
cp $T/pax.tar $C/tools_tar/pax
cp $T/gnu.tar $C/tools_tar/gnu

# OCI JSON: the index, the manifest, docker's manifest.json, a reference.
cp $T/oci/index.json $C/tools_oci/index
cp $T/man.json $C/tools_oci/manifest
cp $T/oci/manifest.json $C/tools_oci/docker-manifest
printf 'reg.example:5000/team/app:1.2@sha256:%s' "$MAN" >$C/tools_oci/ref

# SNP report files: the tee corpus's synthetic reports, raw and as hex and base64 text.
for r in report-v2 report-v5; do
    tail -c +2 tests/fuzz/corpus/tee_parse/$r >$C/tools_snp_file/$r.bin
    od -An -v -tx1 $C/tools_snp_file/$r.bin | tr -d ' \n' >$C/tools_snp_file/$r.hex
    base64 $C/tools_snp_file/$r.bin >$C/tools_snp_file/$r.b64
done

# Receipts and statements from cli_fixtures; diag seeds of every kind.
$B/tests/integration/cli/cli_fixtures $T/fx >/dev/null
cp $T/fx/ccf/transparent.cbor $C/tools_diag/ccf-transparent
cp $T/fx/legacy/transparent.cbor $C/tools_diag/legacy-transparent
cp $T/fx/ccf/receipt.cbor $C/tools_diag/ccf-receipt
printf '\xa2\x20\x69Not Found\x21\x65later' >$C/tools_diag/problem
printf '\x81\xa4\x01\x02\x20\x01\x21\x41\x01\x22\x41\x02' >$C/tools_diag/keyset
printf '\xa1\x66issuer\x61a' >$C/tools_diag/config
# [u16 len][entry][receipt]: the registered form is the statement with an empty unprotected map.
seed() { # seed ENTRY RECEIPT OUT
    n=$(wc -c <"$1")
    printf "$(printf '\\%03o\\%03o' $((n / 256)) $((n % 256)))" >"$3"
    cat "$1" "$2" >>"$3"
}
seed $T/fx/ccf/statement.cbor $T/fx/ccf/receipt.cbor $C/receipt_ccf/statement-receipt
cp $T/fx/legacy/transparent.cbor $C/tools_legacy/legacy-statement
seed $T/fx/legacy/statement.cbor $T/fx/legacy/receipt.cbor $C/tools_legacy/statement-receipt
# Bundles: three entries, then two of which one is empty.
printf '\x02\x00\x02ab\x00\x00\x00\x01c' >$C/tools_bundle/three
printf '\x01\x00\x00\x00\x03xyz' >$C/tools_bundle/two

# Attestation inputs: a selector byte, then the input. Bundles and reports from the other corpora,
# the tee corpus's self-made certificates in every form files come in, option values.
A=$C/tools_attest
mkdir -p $A
sel() { # sel SELECTOR_OCTAL FILE OUT
    printf "\\$1" >"$3"
    cat "$2" >>"$3"
}
sel 000 $C/attest_verify/virtual $A/kind-virtual
sel 000 $C/attest_verify/snp $A/kind-snp
sel 000 $C/tools_snp_file/report-v2.hex $A/kind-report-hex
sel 000 $C/tools_snp_file/report-v5.bin $A/kind-report-bin
for s in pem-bundle table thim aci-b64 vcek-milan vcek-turin; do
    tail -c +2 $C/tee_parse/$s >$T/cert
    sel 001 $T/cert $A/certs-$s
done
printf '\002milan:bl=3,tee=0,snp=8,ucode=115' >$A/min-tcb-parts
printf '\002turin:fmc=1,bl=2,tee=0,snp=4,ucode=9' >$A/min-tcb-turin
printf '\002genoa:0x1b00000000000007' >$A/min-tcb-raw
printf '\0032025-07-01T00:00:00Z' >$A/time-rfc3339
printf '\0031751328000' >$A/time-unix
printf '\0032024-02-29T23:59:59Z' >$A/time-leap
echo "seeds written under $C"

# What scittd answers: problem details (plain and tag 38), configuration, a query page.
mkdir -p $C/client_wire
/usr/bin/python3 - "$C/client_wire" <<'PY'
import sys, cbor2
d = sys.argv[1]
def w(name, obj):
    open(f"{d}/{name}", "wb").write(cbor2.dumps(obj, canonical=True))
w("problem", {-1: "Not Found", -2: "Receipt with entry ID 00 not known to this service"})
w("problem-tag38", {-1: cbor2.CBORTag(38, ["en", "Rejected"]), -2: "no", -4: 400})
w("config", {"issuer": "scittd.local", "origin": "scittd.local", "checkpoint_vkey":
             "scittd.local+7230b870+AXJYZH5FGB+Z4bDcHJvdFkl0kdHEUFYf8dpMh+uecXFj",
             "policy_entry": 0})
row = {"iss": "https://ci.example/app", "sub": "app", "index": 1, "digest": "00" * 32,
       "entry_id": "ab" * 32, "registered": 1767225600, "content_type": "application/json"}
w("query-page", {"next": 2, "entries": [row]})
w("query-last", {"next": None, "entries": []})
PY
