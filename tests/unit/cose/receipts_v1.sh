#!/bin/sh
# Receipts issued before the tree size moved to label -65537 and Ed25519 receipts to alg -19
# (tests/data/vectors/scittd-receipts-v1: the text label "tree_size", alg -7 and -8) still verify
# with `scitt verify`; the same file with one signature byte changed does not.
#   receipts_v1.sh SCITT TEST_DATA TMPDIR
set -u
scitt=$1 v=$2/vectors/scittd-receipts-v1 t=$3
rm -rf "$t" && mkdir -p "$t" || exit 2
fail() { echo "FAIL: $*"; exit 1; }
for pair in es256-text-label:es256 eddsa-alg-8-text-label:eddsa; do
    f=${pair%%:*} k=${pair#*:}
    out=$("$scitt" verify "$v/$f.transparent.cbor" --trust "$v/$k.scitt-keys" 2>&1) ||
        fail "$f does not verify: $out"
    echo "$out" | grep -q "inclusion verified: index 1 in a tree of 2 (size signed)" ||
        fail "$f: the signed size was not read: $out"
    # flip a byte of the receipt's signature: the last 64-byte bstr before the statement's own
    # payload and signature, which take the last 70 bytes and more
    python3 - "$v/$f.transparent.cbor" "$t/$f.bad" <<'PY' || exit 2
import sys
d = bytearray(open(sys.argv[1], 'rb').read())
i = d.rfind(b'\x58\x40', 0, len(d) - 70)
d[i + 10] ^= 1
open(sys.argv[2], 'wb').write(bytes(d))
PY
    if out=$("$scitt" verify "$t/$f.bad" --trust "$v/$k.scitt-keys" 2>&1); then
        fail "$f with a changed receipt signature verified: $out"
    fi
done
echo "OK: both receipts issued before verify, and fail when changed"
