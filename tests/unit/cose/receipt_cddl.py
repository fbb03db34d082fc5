#!/usr/bin/python3
"""Checks COSE Receipts against the CDDL of RFC 9942 (vds 1, RFC9162_SHA256) and transparent
statements against RFC 9943's `394 => [+ bstr .cbor Receipt]`. A checker for these rules only,
written from the CDDL (no general CDDL tool is packaged for Debian 12):

  inclusion-proof   = bstr .cbor [ tree-size: uint, leaf-index: uint, inclusion-path: [ + bstr ] ]
  consistency-proof = bstr .cbor [ tree-size-1: uint, tree-size-2: uint,
                                   consistency-path: [ + bstr ] ]
  Receipt = #6.18([
     protected:   bstr .cbor { &(alg:1) => int, &(vds:395) => int, * label => any },
     unprotected: { &(vdp:396) => { &(inclusion-proof:-1) => [ + inclusion-proof ] //
                                    &(consistency-proof:-2) => [ + consistency-proof ] },
                    * label => any },
     payload: bstr / nil,
     signature: bstr ])
  label = int / tstr

  receipt_cddl.py FILE|DIR...    every *.cbor of a DIR; a file whose 394 header is present is
                                 read as a transparent statement, else as a receipt
  receipt_cddl.py --self-test    shows the checker refuses what the CDDL forbids

Exit 0 when every file matches, 1 when one does not (named on stderr), 2 on usage errors.
"""
import os
import sys

import cbor2


class Bad(Exception):
    pass


def is_uint(v):
    return isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 2**64


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool) and -(2**64) <= v < 2**64


def is_label(v):
    return is_int(v) or isinstance(v, str)


def loads_one(data, what):
    try:
        return cbor2.loads(bytes(data))
    except Exception as e:  # cbor2 raises several types; all mean "not one CBOR item"
        raise Bad(f"{what}: not CBOR: {e}")


def check_proof(b, what):
    if not isinstance(b, bytes):
        raise Bad(f"{what}: not a bstr")
    p = loads_one(b, what)
    if not isinstance(p, list) or len(p) != 3:
        raise Bad(f"{what}: not a 3-element array")
    if not is_uint(p[0]) or not is_uint(p[1]):
        raise Bad(f"{what}: sizes or index not uint")
    path = p[2]
    if not isinstance(path, list) or len(path) < 1:
        raise Bad(f"{what}: path is not [+ bstr] (empty or not an array)")
    for i, h in enumerate(path):
        if not isinstance(h, bytes):
            raise Bad(f"{what}: path[{i}] is not a bstr")


def check_receipt(item, what):
    if not isinstance(item, cbor2.CBORTag) or item.tag != 18:
        raise Bad(f"{what}: not tag 18")
    m = item.value
    if not isinstance(m, list) or len(m) != 4:
        raise Bad(f"{what}: not a 4-element array")
    prot_b, unprot, payload, sig = m
    if not isinstance(prot_b, bytes):
        raise Bad(f"{what}: protected is not a bstr")
    prot = loads_one(prot_b, f"{what}.protected")
    if not isinstance(prot, dict):
        raise Bad(f"{what}: protected is not a map")
    for k in prot:
        if not is_label(k):
            raise Bad(f"{what}: protected label {k!r} is not int / tstr")
    if not is_int(prot.get(1)):
        raise Bad(f"{what}: protected alg (1) missing or not int")
    if not is_int(prot.get(395)):
        raise Bad(f"{what}: protected vds (395) missing or not int")
    if not isinstance(unprot, dict):
        raise Bad(f"{what}: unprotected is not a map")
    for k in unprot:
        if not is_label(k):
            raise Bad(f"{what}: unprotected label {k!r} is not int / tstr")
    vdp = unprot.get(396)
    if not isinstance(vdp, dict) or len(vdp) != 1 or next(iter(vdp)) not in (-1, -2):
        raise Bad(f"{what}: vdp (396) is not {{-1: ...}} or {{-2: ...}}")
    kind, proofs = next(iter(vdp.items()))
    if not isinstance(proofs, list) or len(proofs) < 1:
        raise Bad(f"{what}: proofs are not [+ proof]")
    for i, p in enumerate(proofs):
        check_proof(p, f"{what}.396.{kind}[{i}]")
    if payload is not None and not isinstance(payload, bytes):
        raise Bad(f"{what}: payload is not bstr / nil")
    if not isinstance(sig, bytes):
        raise Bad(f"{what}: signature is not a bstr")
    return "inclusion" if kind == -1 else "consistency"


def check_file(data, what):
    item = loads_one(data, what)
    if isinstance(item, cbor2.CBORTag) and isinstance(item.value, list) and len(item.value) == 4 \
            and isinstance(item.value[1], dict) and 394 in item.value[1]:
        rs = item.value[1][394]
        if not isinstance(rs, list) or len(rs) < 1:
            raise Bad(f"{what}: 394 is not [+ bstr .cbor Receipt]")
        for i, r in enumerate(rs):
            if not isinstance(r, bytes):
                raise Bad(f"{what}: 394[{i}] is not a bstr")
            check_receipt(loads_one(r, f"{what}.394[{i}]"), f"{what}.394[{i}]")
        return "transparent"
    return check_receipt(item, what)


def self_test():
    """Receipts that break one rule each must be refused; the unbroken one accepted."""
    def receipt(path, vdp_key=-1, prot=None, payload=None, tag=18):
        p = cbor2.dumps({1: -7, 395: 1} if prot is None else prot)
        proof = cbor2.dumps([2, 1, path])
        return cbor2.dumps(cbor2.CBORTag(tag, [p, {396: {vdp_key: [proof]}}, payload, b"s"]))
    good = receipt([b"\x00" * 32])
    check_file(good, "good")
    bad = {
        "empty path": receipt([]),
        "path of text": receipt(["x"]),
        "no vds": receipt([b"\x00" * 32], prot={1: -7}),
        "no alg": receipt([b"\x00" * 32], prot={395: 1}),
        "proof type -3": receipt([b"\x00" * 32], vdp_key=-3),
        "text payload": receipt([b"\x00" * 32], payload="root"),
        "tag 98": receipt([b"\x00" * 32], tag=98),
    }
    for name, data in bad.items():
        try:
            check_file(data, name)
        except Bad:
            continue
        print(f"receipt_cddl: self-test: accepted a receipt with {name}", file=sys.stderr)
        return 1
    print(f"receipt_cddl: self-test: refused all {len(bad)} broken receipts, accepted the good one")
    return 0


def main(argv):
    if argv == ["--self-test"]:
        return self_test()
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    files = []
    for a in argv:
        if os.path.isdir(a):
            files += sorted(os.path.join(a, f) for f in os.listdir(a) if f.endswith(".cbor"))
        else:
            files.append(a)
    if not files:
        print("receipt_cddl: no files to check", file=sys.stderr)
        return 2
    counts = {}
    for f in files:
        try:
            with open(f, "rb") as fh:
                data = fh.read()
        except OSError as e:
            print(f"receipt_cddl: {e}", file=sys.stderr)
            return 2
        try:
            kind = check_file(data, os.path.basename(f))
        except Bad as e:
            print(f"receipt_cddl: FAIL {e}", file=sys.stderr)
            return 1
        counts[kind] = counts.get(kind, 0) + 1
    print("receipt_cddl: OK " + ", ".join(f"{n} {k}" for k, n in sorted(counts.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
