#!/bin/sh
# Writes the seed corpora of the DCAP fuzz targets from the real samples in tests/data/dcap:
# dcap_quote gets every quote; dcap_collateral gets every collateral file behind its selector
# byte (scitt_dcap_item), the SGX extension of every PCK certificate (7), dates (8) and accept
# lists (9). Run from the repository root: sh tests/fuzz/dcap_corpus.sh
set -eu
data=tests/data/dcap
q=tests/fuzz/corpus/dcap_quote
c=tests/fuzz/corpus/dcap_collateral
mkdir -p "$q" "$c"
for s in tdx-spr-e4 tdx-automata tdx-gcp sgx-automata sgx-mobilecoin; do
    cp "$data/$s/quote.bin" "$q/seed-$s"
done
i=0
for f in tcb_info.json tcb_info_issuer_chain.pem qe_identity.json qe_identity_issuer_chain.pem \
         pck_crl.der pck_crl_issuer_chain.pem root_ca_crl.der; do
    for s in tdx-spr-e4 tdx-automata sgx-automata sgx-mobilecoin; do
        [ -f "$data/$s/collateral/$f" ] || continue
        { printf "\\$(printf %03o $i)"; cat "$data/$s/collateral/$f"; } > "$c/seed-$i-$s"
    done
    i=$((i + 1))
done
# the SGX extension value of each PCK certificate (the DER inside the extension's OCTET STRING)
for s in tdx-spr-e4 tdx-automata tdx-gcp sgx-automata sgx-mobilecoin; do
    python3 - "$data/$s/quote.bin" "$c/seed-7-$s" <<'PY'
import re, subprocess, sys
q = open(sys.argv[1], "rb").read()
pem = q[q.index(b"-----BEGIN"):].split(b"-----END CERTIFICATE-----")[0] + b"-----END CERTIFICATE-----\n"
der = subprocess.run(["openssl", "x509", "-outform", "DER"], input=pem, capture_output=True, check=True).stdout
oid = bytes.fromhex("06092a864886f84d010d01")
at = der.index(oid) + len(oid)
assert der[at] == 0x04 and der[at + 1] == 0x82
n = int.from_bytes(der[at + 2:at + 4], "big")
open(sys.argv[2], "wb").write(b"\x07" + der[at + 4:at + 4 + n])
PY
done
printf '\0102025-07-07T09:06:43Z' > "$c/seed-8-date"
printf '\0102024-02-29T23:59:59Z' > "$c/seed-8-leap"
printf '\011UpToDate,SWHardeningNeeded' > "$c/seed-9-accept"
printf '\011OutOfDate' > "$c/seed-9-one"
