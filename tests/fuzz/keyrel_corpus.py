#!/usr/bin/env python3
"""Writes the seed corpus of the keyrel_join fuzz target (tests/fuzz/corpus/keyrel_join).

Byte 0 picks the parser (0: a join bundle, 1: a holder's answer). The seeds are valid join
bundles with virtual evidence (bound, and bound to another challenge), bundles of other
platforms, near-misses of the join request (another type, short fields, a point off the curve),
and answers with the right framing around random ciphertext. P-256 points come from the
`cryptography` package. Run from the repository root:  python3 tests/fuzz/keyrel_corpus.py
"""
import hashlib
import os

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives import serialization

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "keyrel_join")


def head(major, n):
    if n < 24:
        return bytes([major << 5 | n])
    if n < 256:
        return bytes([major << 5 | 24, n])
    if n < 65536:
        return bytes([major << 5 | 25]) + n.to_bytes(2, "big")
    return bytes([major << 5 | 26]) + n.to_bytes(4, "big")


def uint(n):
    return head(0, n)


def bstr(b):
    return head(2, len(b)) + b


def tstr(s):
    b = s.encode()
    return head(3, len(b)) + b


def cmap(pairs):
    return head(5, len(pairs)) + b"".join(k + v for k, v in pairs)


def point():
    k = ec.generate_private_key(ec.SECP256R1())
    return k.public_key().public_bytes(serialization.Encoding.X962,
                                       serialization.PublicFormat.UncompressedPoint)


def request(challenge, pub, typ="scittd-key-join-v1"):
    return cmap([(uint(1), tstr(typ)), (uint(2), bstr(challenge)), (uint(3), bstr(pub))])


def virtual(meas, rd):
    return cmap([(tstr("type"), tstr("scittd-insecure-virtual-v1")),
                 (tstr("insecure"), b"\xf5"),
                 (tstr("measurement"), bstr(meas)),
                 (tstr("report_data"), bstr(rd))])


def bundle(platform, identity, evidence, endorsements=None):
    pairs = [(tstr("evidence"), bstr(evidence)), (tstr("identity"), bstr(identity)),
             (tstr("platform"), tstr(platform))]
    if endorsements is not None:
        pairs.append((tstr("endorsements"), bstr(endorsements)))
    return cmap(pairs)


def main():
    os.makedirs(ROOT, exist_ok=True)
    ch = bytes(range(0xA0, 0xC0))
    pub = point()
    req = request(ch, pub)
    meas = b"\x42" * 48
    rd = hashlib.sha256(req).digest() + ch
    seeds = {
        "join_virtual_bound": b"\x00" + bundle("virtual", req, virtual(meas, rd)),
        "join_virtual_other_challenge":
            b"\x00" + bundle("virtual", req, virtual(meas, rd[:32] + b"\x00" * 32)),
        "join_virtual_other_measurement":
            b"\x00" + bundle("virtual", req, virtual(b"\x43" * 48, rd)),
        "join_snp_garbage": b"\x00" + bundle("snp", req, b"\x02" + b"\x00" * 1183, b"not pem"),
        "join_tdx_garbage": b"\x00" + bundle("tdx", req, b"\x04\x00" + b"\x00" * 630, b"\xa0"),
        "join_other_type": b"\x00" + bundle("virtual", request(ch, pub, "scittd-key-join-v2"),
                                            virtual(meas, rd)),
        "join_short_challenge": b"\x00" + bundle("virtual", request(ch[:31], pub),
                                                 virtual(meas, rd)),
        "join_off_curve": b"\x00" + bundle("virtual", request(ch, pub[:-1] + bytes([pub[-1] ^ 1])),
                                           virtual(meas, rd)),
        "answer_framed": b"\x01" + b"SCKREL01" + point() + b"SCSEAL01" + os.urandom(12 + 40 + 16),
        "answer_short": b"\x01" + b"SCKREL01" + point() + b"SCSEAL01" + os.urandom(20),
        "answer_bad_point": b"\x01" + b"SCKREL01" + b"\x04" + b"\x01" * 64 + b"SCSEAL01" +
                            os.urandom(40),
    }
    for name, data in seeds.items():
        with open(os.path.join(ROOT, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
