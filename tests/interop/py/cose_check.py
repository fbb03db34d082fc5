#!/usr/bin/python3
"""cose-check: a strict COSE_Sign1 checker for the scittd interoperability tests.

Decoding is done by cbor2 and every signature is verified by cryptography (pyca); this script
adds a byte-level well-formedness and deterministic-encoding scan (RFC 8949 section 4.2.1) that
cbor2 does not make, and the structural rules of RFC 9052 and RFC 9942 COSE Receipts.

  cose-check MSG [--key KEY]... [--payload FILE | --payload-hex HEX] [--alg N]...
             [--require-tag] [--deterministic]

MSG is a file of binary CBOR (- reads standard input). KEY is PEM (public key, certificate or
private key) or a JWK / JWKS file; every key is tried. Exit status: 0 every check passed, 1 a
check failed, 2 usage or input error; on 0 and 1 the last line is "RESULT: OK" or "RESULT: FAIL".
"""
import argparse
import base64
import json
import struct
import sys

import cbor2
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

ALG = {-7: "ES256", -35: "ES384", -36: "ES512", -8: "EdDSA", -37: "PS256", -38: "PS384", -39: "PS512"}
EC_ALG = {-7: (ec.SECP256R1, hashes.SHA256, 32), -35: (ec.SECP384R1, hashes.SHA384, 48),
          -36: (ec.SECP521R1, hashes.SHA512, 66)}
PS_ALG = {-37: hashes.SHA256, -38: hashes.SHA384, -39: hashes.SHA512}
LABEL_ALG, LABEL_KID, LABEL_X5CHAIN, LABEL_CWT = 1, 4, 33, 15
LABEL_RECEIPTS, LABEL_VDS, LABEL_VDP = 394, 395, 396


class Usage(Exception):
    pass


class Problems:
    def __init__(self):
        self.errors = []

    def error(self, msg):
        self.errors.append(msg)
        print("FAIL: " + msg)

    @staticmethod
    def note(msg):
        print(msg)


# ---------------------------------------------------------------------------------------------
# The byte-level scan (RFC 8949 appendix C): well-formedness always, preferred serialisation and
# sorted map keys as errors under --deterministic and as warnings otherwise.

class Scan:
    def __init__(self, data, where, out, deterministic):
        self.data, self.where, self.out, self.det = data, where, out, deterministic
        self.pos = 0

    def bad(self, msg):
        raise ValueError("%s: %s at byte %d" % (self.where, msg, self.pos))

    def style(self, msg):
        if self.det:
            self.out.error("%s: not deterministic: %s" % (self.where, msg))
        else:
            self.out.note("warning: %s: %s" % (self.where, msg))

    def take(self, n):
        if n > len(self.data) - self.pos:
            self.bad("truncated")
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return b

    def head(self):
        start = self.pos
        ib = self.take(1)[0]
        major, ai = ib >> 5, ib & 31
        if ai < 24:
            return major, ai, ai, start
        if ai in (28, 29, 30):
            self.bad("reserved additional information %d" % ai)
        if ai == 31:
            return major, ai, None, start
        size = 1 << (ai - 24)
        arg = int.from_bytes(self.take(size), "big")
        if major != 7:
            limit = 24 if size == 1 else 1 << (8 * size // 2)
            if arg < limit:
                self.style("argument %d not in its shortest form" % arg)
        return major, ai, arg, start

    def item(self):
        """Scans one data item; returns its encoded bytes."""
        major, ai, arg, start = self.head()
        if major in (0, 1):
            if arg is None:
                self.bad("indefinite length on an integer")
        elif major in (2, 3):
            if arg is None:
                self.style("indefinite-length string")
                while True:
                    if self.pos < len(self.data) and self.data[self.pos] == 0xFF:
                        self.pos += 1
                        break
                    m, _, n, _ = self.head()
                    if m != major or n is None:
                        self.bad("bad chunk in an indefinite-length string")
                    self.text(self.take(n)) if major == 3 else self.take(n)
            else:
                chunk = self.take(arg)
                if major == 3:
                    self.text(chunk)
        elif major == 4:
            if arg is None:
                self.style("indefinite-length array")
                while not self.brk():
                    self.item()
            else:
                for _ in range(arg):
                    self.item()
        elif major == 5:
            keys = []
            if arg is None:
                self.style("indefinite-length map")
                while not self.brk():
                    keys.append(self.item())
                    self.item()
            else:
                for _ in range(arg):
                    keys.append(self.item())
                    self.item()
            if len(set(keys)) != len(keys):
                self.bad("duplicate map key")
            if keys != sorted(keys):
                self.style("map keys not in bytewise lexicographic order")
        elif major == 6:
            if arg is None:
                self.bad("indefinite length on a tag")
            self.item()
        else:
            if ai == 24 and arg < 32:
                self.bad("two-byte simple value below 32")
            if ai == 31:
                self.bad("break outside an indefinite-length item")
            if ai in (25, 26, 27):
                self.float_form(ai, arg)
        return self.data[start:self.pos]

    def brk(self):
        if self.pos >= len(self.data):
            self.bad("truncated")
        if self.data[self.pos] == 0xFF:
            self.pos += 1
            return True
        return False

    def text(self, b):
        try:
            b.decode("utf-8")
        except UnicodeDecodeError:
            self.bad("invalid UTF-8")

    def float_form(self, ai, arg):
        value = {25: lambda: struct.unpack(">e", arg.to_bytes(2, "big"))[0],
                 26: lambda: struct.unpack(">f", arg.to_bytes(4, "big"))[0],
                 27: lambda: struct.unpack(">d", arg.to_bytes(8, "big"))[0]}[ai]()
        for fmt, shorter in ((">e", 25), (">f", 26)):
            if shorter >= ai:
                break
            try:
                if struct.unpack(fmt, struct.pack(fmt, value))[0] == value or value != value:
                    self.style("float not in its shortest form")
                    return
            except (OverflowError, struct.error):
                pass

    def whole(self):
        self.item()
        if self.pos != len(self.data):
            self.bad("%d trailing bytes" % (len(self.data) - self.pos))


def strict_loads(data, where, out, deterministic):
    Scan(data, where, out, deterministic).whole()
    return cbor2.loads(data)


# ---------------------------------------------------------------------------------------------
# Keys

def load_keys(path):
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise Usage("cannot read key %s: %s" % (path, e.strerror))
    text = raw.strip()
    keys = []
    if text.startswith(b"{"):
        try:
            doc = json.loads(text)
        except ValueError as e:
            raise Usage("%s: not JSON: %s" % (path, e))
        for jwk in doc.get("keys", [doc]):
            keys.append(jwk_key(jwk, path))
    elif b"-----BEGIN" in text:
        for block in text.split(b"-----END ")[:-1]:
            begin = block.index(b"-----BEGIN ")
            kind = block[begin + 11:block.index(b"-----", begin + 11)]
            pem = block[begin:] + b"-----END " + kind + b"-----\n"
            try:
                if kind == b"CERTIFICATE":
                    keys.append(x509.load_pem_x509_certificate(pem).public_key())
                elif b"PRIVATE" in kind:
                    keys.append(serialization.load_pem_private_key(pem, None).public_key())
                else:
                    keys.append(serialization.load_pem_public_key(pem))
            except ValueError as e:
                raise Usage("%s: %s: %s" % (path, kind.decode(), e))
    else:
        try:
            keys.append(serialization.load_der_public_key(raw))
        except ValueError:
            raise Usage("%s: not PEM, DER, JWK or JWKS" % path)
    if not keys:
        raise Usage("%s: no key" % path)
    return keys


def b64u(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def jwk_key(jwk, path):
    try:
        if jwk["kty"] == "EC":
            curve = {"P-256": ec.SECP256R1, "P-384": ec.SECP384R1, "P-521": ec.SECP521R1}[jwk["crv"]]()
            x, y = (int.from_bytes(b64u(jwk[c]), "big") for c in ("x", "y"))
            return ec.EllipticCurvePublicNumbers(x, y, curve).public_key()
        if jwk["kty"] == "OKP":
            cls = {"Ed25519": ed25519.Ed25519PublicKey, "Ed448": ed448.Ed448PublicKey}[jwk["crv"]]
            return cls.from_public_bytes(b64u(jwk["x"]))
        if jwk["kty"] == "RSA":
            n, e = (int.from_bytes(b64u(jwk[c]), "big") for c in ("n", "e"))
            return rsa.RSAPublicNumbers(e, n).public_key()
    except (KeyError, ValueError) as e:
        raise Usage("%s: bad JWK: %s" % (path, e))
    raise Usage("%s: unsupported JWK kty %s" % (path, jwk.get("kty")))


def verify(key, alg, tbs, sig):
    """True when @sig over @tbs verifies with @key under COSE algorithm @alg; None when the key
    does not fit the algorithm."""
    try:
        if alg in EC_ALG:
            curve, digest, width = EC_ALG[alg]
            if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, curve):
                return None
            if len(sig) != 2 * width:
                return False
            r, s = int.from_bytes(sig[:width], "big"), int.from_bytes(sig[width:], "big")
            key.verify(encode_dss_signature(r, s), tbs, ec.ECDSA(digest()))
        elif alg == -8:
            if not isinstance(key, (ed25519.Ed25519PublicKey, ed448.Ed448PublicKey)):
                return None
            key.verify(sig, tbs)
        elif alg in PS_ALG:
            if not isinstance(key, rsa.RSAPublicKey):
                return None
            digest = PS_ALG[alg]()
            key.verify(sig, tbs, padding.PSS(padding.MGF1(digest), digest.digest_size), digest)
        else:
            return None
    except InvalidSignature:
        return False
    return True


# ---------------------------------------------------------------------------------------------
# COSE

def as_sign1(item, where, out, require_tag):
    if isinstance(item, cbor2.CBORTag):
        if item.tag != 18:
            out.error("%s: tag %d, not 18 (COSE_Sign1)" % (where, item.tag))
            return None
        item = item.value
    elif require_tag:
        out.error("%s: not tagged 18 (COSE_Sign1)" % where)
    if not (isinstance(item, list) and len(item) == 4):
        out.error("%s: not an array of 4" % where)
        return None
    prot, unprot, payload, sig = item
    if not isinstance(prot, bytes) or not isinstance(unprot, dict) or not isinstance(sig, bytes) \
            or not (payload is None or isinstance(payload, bytes)):
        out.error("%s: not [protected bstr, unprotected map, payload bstr / nil, signature bstr]" % where)
        return None
    return item


def typed_array(v):
    return isinstance(v, cbor2.CBORTag) and 64 <= v.tag <= 87


def check_headers(where, prot_map, unprot, out, det):
    if not isinstance(prot_map, dict):
        out.error("%s: protected header is not a map" % where)
        return False
    for label in set(prot_map) & set(unprot):
        out.error("%s: label %r in both the protected and the unprotected header" % (where, label))
    headers = dict(unprot)
    headers.update(prot_map)
    if LABEL_ALG not in prot_map:
        out.error("%s: no alg in the protected header" % where)
    elif not isinstance(prot_map[LABEL_ALG], (int, str)) or isinstance(prot_map[LABEL_ALG], bool):
        out.error("%s: alg is not an int or text" % where)
    if LABEL_KID in headers and not isinstance(headers[LABEL_KID], bytes):
        out.error("%s: kid is not a bstr%s" % (where, " (typed-array tag)" if typed_array(headers[LABEL_KID]) else ""))
    if LABEL_X5CHAIN in headers:
        chain = headers[LABEL_X5CHAIN]
        if not (isinstance(chain, bytes) or (isinstance(chain, list) and chain and all(isinstance(c, bytes) for c in chain))):
            out.error("%s: x5chain is not a bstr or an array of bstr" % where)
    if LABEL_VDS in prot_map and (not isinstance(prot_map[LABEL_VDS], int) or isinstance(prot_map[LABEL_VDS], bool)):
        out.error("%s: vds (395) is not an int" % where)
    if LABEL_CWT in prot_map and not isinstance(prot_map[LABEL_CWT], dict):
        out.error("%s: CWT claims (15) are not a map" % where)
    if LABEL_RECEIPTS in unprot:
        receipts = unprot[LABEL_RECEIPTS]
        if not isinstance(receipts, list) or not receipts:
            out.error("%s: 394 is not a non-empty array" % where)
        else:
            for i, r in enumerate(receipts):
                here = "%s receipt %d" % (where, i)
                if not isinstance(r, bytes):
                    out.error("%s: not a bstr%s" % (here, " (typed-array tag)" if typed_array(r) else ""))
                    continue
                try:
                    inner = strict_loads(r, here, out, det)
                except ValueError as e:
                    out.error(str(e))
                    continue
                check_message(inner, here, out, det, True, None, None, b"")
    if LABEL_VDP in unprot:
        check_proofs(where, unprot[LABEL_VDP], out, det)
    return True


def check_proofs(where, vdp, out, det):
    if not isinstance(vdp, dict):
        out.error("%s: 396 is not a map" % where)
        return
    for kind, proofs in vdp.items():
        if not isinstance(proofs, list) or not proofs or not all(isinstance(p, bytes) for p in proofs):
            out.error("%s: 396 / %r is not an array of bstr" % (where, kind))
            continue
        for i, p in enumerate(proofs):
            here = "%s proof %r/%d" % (where, kind, i)
            try:
                a, b, path = strict_loads(p, here, out, det)
            except (ValueError, TypeError):
                out.error("%s: not [uint, uint, [+ bstr]]" % here)
                continue
            if not (isinstance(a, int) and isinstance(b, int) and a >= 0 and b >= 0 and isinstance(path, list)
                    and all(isinstance(h, bytes) and len(h) == 32 for h in path)):
                out.error("%s: not [uint, uint, [+ bstr32]]" % here)
            elif kind == -1 and b >= a:
                out.error("%s: leaf index %d is not below tree size %d" % (here, b, a))
            else:
                out.note("%s: [%d, %d, %d hashes]" % (here, a, b, len(path)))


def check_message(item, where, out, det, require_tag, keys, payload, aad, algs=None):
    msg = as_sign1(item, where, out, require_tag)
    if msg is None:
        return
    prot, unprot, attached, sig = msg
    try:
        prot_map = strict_loads(prot, where + " protected header", out, det) if prot else {}
    except ValueError as e:
        out.error(str(e))
        return
    if not check_headers(where, prot_map, unprot, out, det):
        return
    alg = prot_map.get(LABEL_ALG)
    out.note("%s: alg %r (%s), %d protected and %d unprotected labels, payload %s" % (
        where, alg, ALG.get(alg, "unknown"), len(prot_map), len(unprot),
        "detached" if attached is None else "%d bytes" % len(attached)))
    if keys is None:
        return
    if algs and alg not in algs:
        out.error("%s: alg %r is not one of --alg %s" % (where, alg, algs))
        return
    body = attached if attached is not None else payload
    if body is None:
        out.error("%s: the payload is detached: give --payload or --payload-hex" % where)
        return
    if attached is not None and payload is not None:
        out.error("%s: the payload is attached and one was given too" % where)
        return
    tbs = cbor2.dumps(["Signature1", prot, aad, body])
    results = [verify(k, alg, tbs, sig) for k in keys]
    if True in results:
        out.note("ok: %s: %s signature verified by cryptography" % (where, ALG.get(alg, alg)))
    elif False in results:
        out.error("%s: %s signature does not verify with the given key%s" % (
            where, ALG.get(alg, alg), "s" if len(keys) > 1 else ""))
    else:
        out.error("%s: no given key is for alg %r" % (where, alg))


class ArgumentParser(argparse.ArgumentParser):
    def error(self, message):
        raise Usage(message)


def main(argv):
    ap = ArgumentParser(prog="cose-check", description=__doc__.split("\n\n")[1])
    ap.add_argument("message")
    ap.add_argument("--key", action="append", default=[])
    ap.add_argument("--payload")
    ap.add_argument("--payload-hex")
    ap.add_argument("--alg", type=int, action="append")
    ap.add_argument("--require-tag", action="store_true")
    ap.add_argument("--deterministic", action="store_true")

    args = ap.parse_args(argv)
    if args.payload and args.payload_hex:
        raise Usage("give --payload or --payload-hex, not both")
    try:
        data = sys.stdin.buffer.read() if args.message == "-" else open(args.message, "rb").read()
        payload = open(args.payload, "rb").read() if args.payload else None
    except OSError as e:
        raise Usage("cannot read %s: %s" % (e.filename, e.strerror))
    if args.payload_hex:
        try:
            payload = bytes.fromhex(args.payload_hex.strip())
        except ValueError:
            raise Usage("--payload-hex is not hex")
    keys = [k for path in args.key for k in load_keys(path)] if args.key else None
    out = Problems()
    try:
        item = strict_loads(data, "message", out, args.deterministic)
    except ValueError as e:
        out.error(str(e))
    else:
        check_message(item, "message", out, args.deterministic, args.require_tag, keys, payload, b"", args.alg)
        if keys is None:
            out.note("signature NOT verified (no --key)")
    print("RESULT: FAIL (%d)" % len(out.errors) if out.errors else "RESULT: OK")
    return 1 if out.errors else 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except Usage as e:
        print("cose-check: %s" % e, file=sys.stderr)
        sys.exit(2)
