#!/usr/bin/env python3
"""Writes the seed corpora of the witness fuzz targets (tests/fuzz/corpus/witness_request,
tlog_policy). Checkpoints are signed here with tests/integration/witness/c2sp.py by the key the target trusts
(seed bytes 0x00..0x1f, origin fuzz.example/log) over leaves "0", "1", ...; the target remembers
size 3. The `spec-example` seed is the request body example of the C2SP tlog-witness text.
Run from the repository root:  python3 tests/fuzz/witness_corpus.py
"""
import hashlib
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration", "witness"))
import c2sp  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402

ORIGIN = "fuzz.example/log"
LOG = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
WIT = Ed25519PrivateKey.from_private_bytes(bytes(range(32, 64)))
SPEC_EXAMPLE = (
    "old 20852014\n"
    "PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\n"
    "jrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=\n"
    "5+pKlUdi2LeF/BcMHBn+Ku6yhPGNCswZZD1X/6QgPd8=\n"
    "/6WVhPs2CwSsb5rYBH5cjHV/wSmA79abXAwhXw3Kj/0=\n"
    "\n"
    "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n"
    "\u2014 example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5"
    "/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n")


def leaves(n, fork_from=None):
    out = []
    for i in range(n):
        e = str(i).encode() if fork_from is None or i < fork_from else b"fork" + str(i).encode()
        out.append(c2sp.leaf_hash(e))
    return out


def checkpoint(ls, origin=ORIGIN, key=LOG):
    text = "%s\n%d\n%s\n" % (origin, len(ls), c2sp.base64.b64encode(c2sp.mth(ls)).decode())
    return c2sp.sign_note(text, origin, key)


def body(old, proof, note):
    return ("old %d\n" % old + "".join(c2sp.base64.b64encode(h).decode() + "\n" for h in proof)
            + "\n" + note)


def write(target, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    raw = data.encode() if isinstance(data, str) else data
    with open(os.path.join(d, hashlib.sha1(raw).hexdigest()), "wb") as f:
        f.write(raw)


def main():
    h3, h9 = leaves(3), leaves(9)
    f9 = leaves(9, fork_from=2)
    seeds = [
        body(0, [], checkpoint(h3)),
        body(3, c2sp.consistency_proof(3, h9), checkpoint(h9)),
        body(3, [], checkpoint(h3)),
        body(3, c2sp.consistency_proof(3, f9), checkpoint(f9)),          # a fork
        body(3, c2sp.consistency_proof(3, h9)[:-1], checkpoint(h9)),     # a short proof
        body(3, [], checkpoint(leaves(3, fork_from=1))),                 # same size, other root
        body(9, [], checkpoint(h3)),                                     # old above size
        body(3, c2sp.consistency_proof(3, h9), checkpoint(h9, key=WIT)),  # untrusted key
        body(3, c2sp.consistency_proof(3, h9), checkpoint(h9, origin="other.example/log")),
        body(0, [], checkpoint(h3) + c2sp.cosign_line(
            checkpoint(h3).split("\n\n")[0] + "\n", "w.example", WIT, 1700000000)),
        SPEC_EXAMPLE,
    ]
    for s in seeds:
        write("witness_request", s)
    wv = c2sp.vkey("w.example", c2sp.TYPE_COSIG, c2sp.raw_public(WIT))
    lv = c2sp.vkey(ORIGIN, c2sp.TYPE_ED25519, c2sp.raw_public(LOG))
    policies = [
        "log %s\nwitness A %s\nquorum A\n" % (lv, wv),
        "# comment\nlog %s https://log.example/\n\nwitness A %s http://w/\n"
        "group g any A\ngroup h all g\nquorum h\n" % (lv, wv),
        "quorum none\n",
        "witness A %s\ngroup g 2 A\nquorum g\n" % wv,
        "witness A %s\nquorum A\nquorum A\n" % wv,
    ]
    for p in policies:
        write("tlog_policy", p)


if __name__ == "__main__":
    main()


def receipt_seeds():
    """Consistency receipts shaped as scittd's /proofs/consistency answers (3 -> 7), unsigned:
    the reader under test never checks the signature."""
    import cbor2
    proof = cbor2.dumps([3, 7, [bytes([i]) * 32 for i in range(3)]])
    for unprot in ({396: {-2: [proof]}}, {4: b"kid", 396: {-2: [proof], -1: []}},
                   {396: {-2: [proof, proof]}}, {396: {-2: [cbor2.dumps([3, 8, []])]}}):
        msg = cbor2.CBORTag(18, [cbor2.dumps({1: -7, 395: 1}), unprot, None, bytes(64)])
        write("tools_witness_http", cbor2.dumps(msg))


if __name__ == "__main__":
    receipt_seeds()
