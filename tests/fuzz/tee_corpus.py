#!/usr/bin/env python3
"""Writes the seed corpora of the tee fuzz targets (tests/fuzz/corpus/tee_parse, tee_verify).

The certificates are made here with the openssl CLI: a self-made AMD-shaped chain (RSASSA-PSS
SHA-384 salt 48, KDS extensions), never the real AMD certificates, which stay in the shared
samples. tee_verify seeds are mutation lists over the real reports the target loads itself.
Run from the repository root:  python3 tests/fuzz/tee_corpus.py
"""
import base64
import json
import os
import struct
import subprocess
import tempfile

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
PSS = ["-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:48",
       "-sigopt", "rsa_mgf1_md:sha384", "-sha384"]


def run(*args, cwd):
    subprocess.run(list(args), cwd=cwd, check=True, capture_output=True)


def der_hex(b):
    return ":".join("%02x" % x for x in b)


def kds_ext(product, tcb, hwid):
    """openssl extension config lines for a VCEK with the KDS extensions."""
    lines = ["1.3.6.1.4.1.3704.1.1=DER:02:01:%02x" % (1 if product == "Turin" else 0),
             "1.3.6.1.4.1.3704.1.2=DER:16:%02x:%s" % (len(product), der_hex(product.encode()))]
    for arc, value in tcb.items():
        lines.append("1.3.6.1.4.1.3704.1.3.%d=DER:02:01:%02x" % (arc, value))
    lines.append("1.3.6.1.4.1.3704.1.4=DER:%s" % der_hex(hwid))
    return "[v]\n" + "\n".join(lines) + "\n"


def make_chain(d, product, tcb, hwid):
    run("openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
        "-out", "ark.key", cwd=d)
    run("openssl", "req", "-x509", "-new", "-key", "ark.key", "-subj", "/CN=ARK-" + product,
        "-days", "3650", *PSS, "-out", "ark.pem", cwd=d)
    run("openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
        "-out", "ask.key", cwd=d)
    run("openssl", "req", "-new", "-key", "ask.key", "-subj", "/CN=SEV-" + product,
        "-out", "ask.csr", cwd=d)
    run("openssl", "x509", "-req", "-in", "ask.csr", "-CA", "ark.pem", "-CAkey", "ark.key",
        "-set_serial", "1", "-days", "3650", *PSS, "-out", "ask.pem", cwd=d)
    run("openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384",
        "-out", "vcek.key", cwd=d)
    run("openssl", "req", "-new", "-key", "vcek.key", "-subj", "/CN=SEV-VCEK", "-out",
        "vcek.csr", cwd=d)
    with open(os.path.join(d, "ext.cnf"), "w") as f:
        f.write(kds_ext(product, tcb, hwid))
    run("openssl", "x509", "-req", "-in", "vcek.csr", "-CA", "ask.pem", "-CAkey", "ask.key",
        "-set_serial", "0", "-days", "3650", *PSS, "-extfile", "ext.cnf", "-extensions", "v",
        "-out", "vcek.pem", cwd=d)
    out = {}
    for name in ("ark", "ask", "vcek"):
        pem = open(os.path.join(d, name + ".pem")).read()
        der = subprocess.run(["openssl", "x509", "-outform", "der"], input=pem.encode(),
                             check=True, capture_output=True).stdout
        out[name] = (pem, der)
    return out


def report(version=2, signer_info=0, cpuid=None, sig=True):
    b = bytearray(0x4A0)
    struct.pack_into("<IIQ", b, 0, version, 0, 0x30000)
    struct.pack_into("<I", b, 0x34, 1)
    struct.pack_into("<Q", b, 0x38, 0x7308000000000003)
    struct.pack_into("<I", b, 0x48, signer_info)
    b[0x50:0x90] = bytes(range(64))
    struct.pack_into("<Q", b, 0x180, 0x7308000000000003)
    if cpuid:
        b[0x188:0x18B] = bytes(cpuid)
    b[0x1A0:0x1E0] = bytes([0xd4]) * 64
    b[0x1E8:0x1EB] = bytes([4, 52, 1])
    if sig:
        b[0x2A0] = 1  # r = 1, s = 1: parseable, never a valid signature
        b[0x2E8] = 1
    return bytes(b)


def table(ders):
    entries = [bytes.fromhex("63da758de6644564adc5f4b93be8accd"),
               bytes.fromhex("4ab7b379bbac4fe4a02f05aef327c782"),
               bytes.fromhex("c0b406a4a80349529743 3fb6014cd0ae".replace(" ", ""))]
    off = (len(ders) + 1) * 24
    head, body = b"", b""
    for guid, der in zip(entries, ders):
        head += guid + struct.pack("<II", off + len(body), len(der))
        body += der
    return head + bytes(24) + body


def write(target, name, data):
    d = os.path.join(ROOT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def main():
    with tempfile.TemporaryDirectory() as d:
        milan = make_chain(d, "Milan-B0", {1: 3, 2: 0, 3: 8, 4: 0, 5: 0, 6: 0, 7: 0, 8: 0x73},
                           bytes([0xd4]) * 64)
    with tempfile.TemporaryDirectory() as d:
        turin = make_chain(d, "Turin", {9: 1, 1: 2, 2: 0, 3: 5, 5: 0, 6: 0, 7: 0, 8: 9},
                           bytes.fromhex("1e550a8ee5cf9f4d"))
    write("tee_parse", "report-v2", b"\x00" + report())
    write("tee_parse", "report-v3-turin", b"\x00" + report(3, cpuid=(0x1A, 0x02, 0)))
    write("tee_parse", "report-v5", b"\x00" + report(5, cpuid=(0x19, 0x01, 0)))
    write("tee_parse", "report-unsigned", b"\x00" + report(signer_info=2, sig=False))
    ders = [milan["vcek"][1], milan["ask"][1], milan["ark"][1]]
    write("tee_parse", "table", b"\x01" + table(ders) + bytes(64))
    write("tee_parse", "table-empty", b"\x01" + bytes(24))
    pem = milan["ark"][0] + milan["vcek"][0] + milan["ask"][0]
    write("tee_parse", "pem-bundle", b"\x02" + pem.encode())
    thim = {"vcekCert": milan["vcek"][0], "tcbm": "7308000000000003",
            "certificateChain": milan["ask"][0] + milan["ark"][0], "cacheControl": "86400"}
    write("tee_parse", "thim", b"\x03" + json.dumps(thim).encode())
    write("tee_parse", "aci-b64", b"\x04" + base64.b64encode(b"package policy\n") + b"\n")
    write("tee_parse", "vcek-milan", b"\x05" + milan["vcek"][1])
    write("tee_parse", "vcek-turin", b"\x05" + turin["vcek"][1])

    write("tee_verify", "virtee", b"\x00")
    write("tee_verify", "go-sev-guest", b"\x01")
    write("tee_verify", "flip-family-id", b"\x00" + bytes([0x00, 0x15, 0x80]))
    write("tee_verify", "flip-r", b"\x01" + bytes([0x02, 0xA0, 0x01]))
    write("tee_verify", "flip-chip-id", b"\x00" + bytes([0x01, 0xA0, 0x01]))
    write("tee_verify", "flip-tcb", b"\x01" + bytes([0x01, 0x86, 0x01]))
    write("tee_verify", "cut", b"\x02" + bytes([0x04, 0x9F]))
    write("tee_verify", "vlek-signer", b"\x04" + bytes([0x00, 0x48, 0x04]))


if __name__ == "__main__":
    main()
