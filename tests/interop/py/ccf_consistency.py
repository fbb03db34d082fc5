#!/usr/bin/env python3
"""ccf_consistency.py OUTDIR

Independent maker of CCF consistency receipts (draft-ietf-scitt-receipts-ccf-profile-06,
section 4) on cbor2, hashlib and cryptography, for checking a verifier written elsewhere.

The tree is the one of the draft's sample set: leaf i = SHA-256(56 zero bytes || uint64 i),
nodes SHA-256(left || right) (no prefixes), split at the largest power of two below the size.
The proof is derived from RFC 9162 section 2.1.4.1 as the draft says it relates to it: the same
digests in the same order as RFC 9162's PROOF(m, D[n]) (SUBPROOF), with R_m as the anchor when
m is a power of two and the first element of that proof as the anchor otherwise; each element
is tagged left when its subtree lies inside the older tree (it then belongs to both trees).
(This is a different construction from tests/ccf_util.h, which walks from the anchor node.)

Each receipt is a COSE_Sign1 with protected {1: -7, 4: kid, 395: 2}, unprotected
{396: {-2: [bstr proof]}}, a nil payload and an ES256 signature over
["Signature1", protected, h'', R_n]; kid is the base64url text of the key's RFC 9679
thumbprint. Writes OUTDIR/key.pem, OUTDIR/NAME.cbor and OUTDIR/manifest.txt with lines
"NAME OLD_SIZE OLD_ROOT_HEX EXPECT" (EXPECT ok or bad; OLD_SIZE 0 means "not given").
"""
import base64
import hashlib
import os
import sys

import cbor2
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

N = 1000
LEAVES = [hashlib.sha256(bytes(56) + i.to_bytes(8, "big")).digest() for i in range(N)]
_memo = {}


def H(a, b):
    return hashlib.sha256(a + b).digest()


def split(n):
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(lo, hi):
    if (lo, hi) not in _memo:
        if hi - lo == 1:
            _memo[(lo, hi)] = LEAVES[lo]
        else:
            k = split(hi - lo)
            _memo[(lo, hi)] = H(mth(lo, lo + k), mth(lo + k, hi))
    return _memo[(lo, hi)]


def subproof(m, lo, hi, b):
    """RFC 9162 SUBPROOF(m, D[lo:hi], b) as a list of node ranges."""
    n = hi - lo
    if m == n:
        return [] if b else [(lo, hi)]
    k = split(n)
    if m <= k:
        return subproof(m, lo, lo + k, b) + [(lo + k, hi)]
    return subproof(m - k, lo + k, hi, False) + [(lo, lo + k)]


def proof(m, n):
    nodes = subproof(m, 0, n, True)
    if m & (m - 1) == 0:
        anchor = (0, m)
    else:
        anchor, nodes = nodes[0], nodes[1:]
    path = [[hi <= m and lo < anchor[0], mth(lo, hi)] for lo, hi in nodes]
    return mth(*anchor), path


def encode(anchor, path):
    return cbor2.dumps({1: anchor, 2: path})


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    nums = key.public_key().public_numbers()
    x, y = nums.x.to_bytes(32, "big"), nums.y.to_bytes(32, "big")
    thumb = hashlib.sha256(cbor2.dumps({1: 2, -1: 1, -2: x, -3: y}, canonical=True)).digest()
    kid = base64.urlsafe_b64encode(thumb).rstrip(b"=")
    with open(os.path.join(out, "key.pem"), "wb") as f:
        f.write(key.public_key().public_bytes(serialization.Encoding.PEM,
                                              serialization.PublicFormat.SubjectPublicKeyInfo))
    prot = cbor2.dumps({1: -7, 4: kid, 395: 2}, canonical=True)
    manifest = []

    def receipt(name, proof_bytes, newer, m, older, expect):
        tbs = cbor2.dumps(["Signature1", prot, b"", newer])
        r, s = decode_dss_signature(key.sign(tbs, ec.ECDSA(hashes.SHA256())))
        sig = r.to_bytes(32, "big") + s.to_bytes(32, "big")
        body = cbor2.dumps(cbor2.CBORTag(18, [prot, {396: {-2: [proof_bytes]}}, None, sig]))
        with open(os.path.join(out, name + ".cbor"), "wb") as f:
            f.write(body)
        manifest.append(f"{name} {m} {older.hex()} {expect}")

    pairs = [(m, n) for n in (2, 3, 5, 8, 13, 64, 68, 100) for m in range(1, n)]
    pairs += [(23, 68), (37, 45), (100, 1000), (3, 512), (1, 1000), (999, 1000), (512, 1000)]
    for m, n in pairs:
        anchor, path = proof(m, n)
        receipt(f"ok-{m}-{n}", encode(anchor, path), mth(0, n), m, mth(0, m), "ok")
    # tampered, from 23 -> 68 (the draft sample set's base case)
    m, n = 23, 68
    anchor, path = proof(m, n)
    older, newer = mth(0, m), mth(0, n)
    flipped = [list(e) for e in path]
    flipped[0][0] = not flipped[0][0]
    receipt("bad-flipped-tag", encode(anchor, flipped), newer, m, older, "bad")
    receipt("bad-zero-anchor", encode(bytes(32), path), newer, m, older, "bad")
    receipt("bad-reversed", encode(anchor, path[::-1]), newer, m, older, "bad")
    receipt("bad-truncated", encode(anchor, path[:-1]), newer, m, older, "bad")
    receipt("bad-extended", encode(anchor, path + [[False, bytes(32)]]), newer, m, older, "bad")
    receipt("bad-old-root", encode(anchor, path), newer, m, mth(0, m + 1), "bad")
    receipt("bad-new-root", encode(anchor, path), mth(0, n + 1), m, older, "bad")
    # 8 -> 12 from the anchor [4, 8) with [0, 4) as a left sibling: folds to R_8 and R_12, but
    # the anchor of a proof from 8 must be R_8 (refused when the size is given, sound without)
    nc = encode(mth(4, 8), [[True, mth(0, 4)], [False, mth(8, 12)]])
    receipt("bad-noncanonical-8-12", nc, mth(0, 12), 8, mth(0, 8), "bad")
    receipt("ok-noncanonical-8-12-no-size", nc, mth(0, 12), 0, mth(0, 8), "ok")
    with open(os.path.join(out, "manifest.txt"), "w") as f:
        f.write("\n".join(manifest) + "\n")
    print(f"{len(manifest)} receipts in {out}")


if __name__ == "__main__":
    main()
