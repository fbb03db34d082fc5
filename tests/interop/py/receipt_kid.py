#!/usr/bin/env python3
"""receipt_kid.py TRANSPARENT_STATEMENT JWKS [--expect-no-text-kid]

A relying party in the manner of pyscitt (microsoft/scitt-ccf-ledger, pyscitt/verify.py), on the
independent libraries cbor2 and cryptography: for every receipt in the statement's unprotected
header 394 it reads the protected kid (4) as ASCII text, takes the one key of the JWKS whose
"kid" is that text, and verifies the receipt with it: the RFC 9162 inclusion path from the leaf
SHA-256(0x00 || registered statement) to the root, then the ES256/ES384 signature over
["Signature1", protected, h'', root]. Prints "RESULT: OK" and exits 0 when every receipt
verifies this way; exits 1 otherwise, saying why.

With --expect-no-text-kid it checks the opposite: that such a client cannot match the receipt
(its kid is not ASCII text, or names no JWKS key), as for receipts whose kid is raw bytes.
"""
import base64
import hashlib
import json
import sys

import cbor2
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

KID, RECEIPTS, VDS, VDP = 4, 394, 395, 396
CURVES = {"P-256": (ec.SECP256R1(), hashes.SHA256(), -7), "P-384": (ec.SECP384R1(), hashes.SHA384(), -35)}


def b64url(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def root_from_path(leaf, index, size, path):
    """RFC 9162 section 2.1.3.2."""
    if index >= size:
        raise ValueError("index not below size")
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            raise ValueError("path too long")
        if fn & 1 or fn == sn:
            r = hashlib.sha256(b"\x01" + p + r).digest()
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = hashlib.sha256(b"\x01" + r + p).digest()
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ValueError("path too short")
    return r


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    expect_none = "--expect-no-text-kid" in sys.argv
    stmt = cbor2.loads(open(args[0], "rb").read())
    jwks = json.load(open(args[1]))["keys"]
    if not isinstance(stmt, cbor2.CBORTag) or stmt.tag != 18:
        fail("not a tagged COSE_Sign1")
    prot, unprot, payload, sig = stmt.value
    receipts = unprot.get(RECEIPTS)
    if not receipts:
        fail("no receipts (394)")
    registered = cbor2.dumps(cbor2.CBORTag(18, [prot, {}, payload, sig]))
    leaf = hashlib.sha256(b"\x00" + registered).digest()
    for n, raw in enumerate(receipts):
        rc = cbor2.loads(raw)
        rprot_bytes, runprot, rpayload, rsig = rc.value
        rprot = cbor2.loads(rprot_bytes)
        try:
            kid = rprot[KID].decode("ascii")  # what pyscitt does with a receipt's kid
        except (KeyError, UnicodeDecodeError) as e:
            if expect_none:
                print(f"receipt {n}: kid is not ASCII text ({type(e).__name__}): no key can match")
                continue
            fail(f"receipt {n}: the kid cannot be read as text: {e!r}")
        keys = [k for k in jwks if k.get("kid") == kid]
        if expect_none:
            if keys:
                fail(f"receipt {n}: kid {kid!r} matched a JWKS key")
            print(f"receipt {n}: kid {kid!r} names no JWKS key")
            continue
        if len(keys) != 1:
            fail(f"receipt {n}: {len(keys)} JWKS keys have kid {kid!r} (have {[k.get('kid') for k in jwks]})")
        jwk = keys[0]
        if rprot.get(VDS) != 1 or rpayload is not None:
            fail(f"receipt {n}: not an RFC 9162 receipt with a detached root")
        size, index, path = cbor2.loads(runprot[VDP][-1][0])
        root = root_from_path(leaf, index, size, path)
        curve, digest, alg = CURVES[jwk["crv"]]
        if rprot.get(1) != alg:
            fail(f"receipt {n}: alg {rprot.get(1)} is not the key's {alg}")
        pub = ec.EllipticCurvePublicNumbers(int.from_bytes(b64url(jwk["x"]), "big"),
                                            int.from_bytes(b64url(jwk["y"]), "big"), curve).public_key()
        half = len(rsig) // 2
        der = encode_dss_signature(int.from_bytes(rsig[:half], "big"), int.from_bytes(rsig[half:], "big"))
        tbs = cbor2.dumps(["Signature1", rprot_bytes, b"", root])
        try:
            pub.verify(der, tbs, ec.ECDSA(digest))
        except InvalidSignature:
            fail(f"receipt {n}: the signature does not verify with the key of kid {kid!r}")
        print(f"receipt {n}: kid {kid!r} is JWKS key {jwk['kid']!r}; index {index} of {size} verified")
    print("RESULT: OK")


if __name__ == "__main__":
    main()
