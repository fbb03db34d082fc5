#!/usr/bin/env python3
"""An independent reading of the C2SP texts signed-note, tlog-checkpoint, tlog-cosignature,
tlog-witness and tlog-policy, written from the specifications for the tests (Debian python3 and
python3-cryptography only). It shares no code with the C implementation; the tests use it to
check what scittd and `scitt witness` produce, and to produce what they consume.

    c2sp.py verify-note NOTE_FILE LOG_VKEY [WITNESS_VKEY...]   prints the cosigners that verify
    c2sp.py verify-policy NOTE_FILE POLICY_FILE               exit 0 when the quorum is met
    c2sp.py verify-witnessed TS_FILE POLICY_FILE              a transparent statement whose
        receipts carry their cosigned checkpoint (scittd's ?witnessed=1, label -65538): each
        checkpoint meets the policy and is the tree the receipt's RFC 9162 inclusion proof of the
        statement's registered form leads to (python3-cbor2 for this mode)
"""
import base64
import hashlib
import struct
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (Ed25519PrivateKey,
                                                               Ed25519PublicKey)
from cryptography.hazmat.primitives import serialization

EM_DASH = "\u2014"
TYPE_ED25519 = 0x01
TYPE_COSIG = 0x04


class Bad(Exception):
    pass


def key_id(name, sig_type, pub):
    return hashlib.sha256(name.encode() + b"\n" + bytes([sig_type]) + pub).digest()[:4]


def raw_public(priv):
    return priv.public_key().public_bytes(serialization.Encoding.Raw,
                                          serialization.PublicFormat.Raw)


def vkey(name, sig_type, pub):
    return "%s+%s+%s" % (name, key_id(name, sig_type, pub).hex(),
                         base64.b64encode(bytes([sig_type]) + pub).decode())


def parse_vkey(text):
    name, kid, b64 = text.strip().split("+", 2)
    raw = base64.b64decode(b64, validate=True)
    if len(raw) != 33 or raw[0] not in (TYPE_ED25519, TYPE_COSIG):
        raise Bad("unsupported vkey")
    if key_id(name, raw[0], raw[1:]).hex() != kid:
        raise Bad("vkey key ID mismatch")
    return {"name": name, "type": raw[0], "pub": raw[1:], "id": bytes.fromhex(kid)}


def split_note(note):
    """(text, [(name, blob)]) of a signed note (bytes)."""
    s = note.decode("utf-8")
    at = s.rfind("\n\n")
    if at < 0 or not s.endswith("\n"):
        raise Bad("not a signed note")
    text, sigs = s[:at + 1], s[at + 2:]
    lines = []
    for line in sigs[:-1].split("\n"):
        if not line.startswith(EM_DASH + " "):
            raise Bad("bad signature line")
        name, b64 = line[2:].rsplit(" ", 1)
        lines.append((name, base64.b64decode(b64, validate=True)))
    return text, lines


def parse_checkpoint(text):
    lines = text.split("\n")
    if len(lines) < 4 or not lines[0]:
        raise Bad("bad checkpoint")
    size = lines[1]
    if not size.isdigit() or (size != "0" and size.startswith("0")):
        raise Bad("bad checkpoint size")
    root = base64.b64decode(lines[2], validate=True)
    if len(root) != 32:
        raise Bad("bad checkpoint root")
    return lines[0], int(size), root


def sign_note(text, name, priv):
    sig = priv.sign(text.encode())
    blob = key_id(name, TYPE_ED25519, raw_public(priv)) + sig
    return "%s\n%s %s %s\n" % (text, EM_DASH, name, base64.b64encode(blob).decode())


def cosign_line(text, name, priv, when):
    msg = ("cosignature/v1\ntime %d\n" % when).encode() + text.encode()
    blob = key_id(name, TYPE_COSIG, raw_public(priv)) + struct.pack(">Q", when) + priv.sign(msg)
    return "%s %s %s\n" % (EM_DASH, name, base64.b64encode(blob).decode())


def verify_log_sig(note, log):
    """The checkpoint (origin, size, root, text) when the log key signed it, else Bad."""
    text, lines = split_note(note)
    ok = False
    for name, blob in lines:
        if name == log["name"] and blob[:4] == log["id"]:
            if len(blob) != 68:
                raise Bad("log signature of the wrong length")
            try:
                Ed25519PublicKey.from_public_bytes(log["pub"]).verify(blob[4:], text.encode())
            except InvalidSignature:
                raise Bad("log signature does not verify")
            ok = True
    if not ok:
        raise Bad("no signature by the log key")
    origin, size, root = parse_checkpoint(text)
    if origin != log["name"]:
        raise Bad("origin is not the log key's name")
    return origin, size, root, text


def verify_cosigs(note, witnesses):
    """{name: time} of the witnesses (vkey dicts) whose cosignature verifies; Bad if one of
    theirs does not."""
    text, lines = split_note(note)
    found = {}
    for name, blob in lines:
        for w in witnesses:
            if name == w["name"] and blob[:4] == w["id"]:
                if len(blob) != 76:
                    raise Bad("cosignature of the wrong length")
                when = struct.unpack(">Q", blob[4:12])[0]
                if when == 0:
                    raise Bad("cosignature with time 0")
                msg = ("cosignature/v1\ntime %d\n" % when).encode() + text.encode()
                try:
                    Ed25519PublicKey.from_public_bytes(w["pub"]).verify(blob[12:], msg)
                except InvalidSignature:
                    raise Bad("cosignature by %s does not verify" % name)
                found[name] = when
    return found


# ---- RFC 9162 Merkle tree (for proofs in tests) -----------------------------------------------

def leaf_hash(entry):
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(a, b):
    return hashlib.sha256(b"\x01" + a + b).digest()


def mth(leaves):
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return leaves[0]
    k = 1
    while k * 2 < n:
        k *= 2
    return node_hash(mth(leaves[:k]), mth(leaves[k:]))


def subproof(m, leaves, b):
    n = len(leaves)
    if m == n:
        return [] if b else [mth(leaves)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return subproof(m, leaves[:k], b) + [mth(leaves[k:])]
    return subproof(m - k, leaves[k:], False) + [mth(leaves[:k])]


def consistency_proof(m, leaves):
    """RFC 9162 PROOF(m, D[n]) for 0 < m < n."""
    return subproof(m, leaves, True)


def inclusion_root(index, size, leaf, path):
    """RFC 9162 section 2.1.3.2: the root an inclusion proof leads to."""
    if index >= size:
        raise Bad("index beyond size")
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            raise Bad("proof too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn != 0 and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise Bad("proof too short")
    return r


def verify_witnessed(ts_bytes, policy):
    """Checks every receipt of a transparent statement against the checkpoint it carries."""
    import cbor2
    ts = cbor2.loads(ts_bytes)
    if not isinstance(ts, cbor2.CBORTag) or ts.tag != 18 or len(ts.value) != 4:
        raise Bad("not a tagged COSE_Sign1")
    prot, unprot, payload, sig = ts.value
    registered = cbor2.dumps(cbor2.CBORTag(18, [prot, {}, payload, sig]))
    leaf = leaf_hash(registered)
    receipts = unprot.get(394) or []
    if not receipts:
        raise Bad("no receipts")
    sizes = []
    for rb in receipts:
        r = cbor2.loads(rb)
        rprot, runprot = cbor2.loads(r.value[0]), r.value[1]
        note = runprot.get(-65538)
        if not isinstance(note, str):
            raise Bad("the receipt carries no cosigned checkpoint")
        met, missing = policy_met(note.encode(), policy)
        if not met:
            raise Bad("quorum not met; missing: " + ", ".join(missing))
        _, cp_size, cp_root = parse_checkpoint(split_note(note.encode())[0])
        size, index, path = cbor2.loads(runprot[396][-1][0])
        if rprot.get(-65537) != size or cp_size != size:
            raise Bad("the checkpoint's size is not the receipt's signed size")
        if inclusion_root(index, size, leaf, path) != cp_root:
            raise Bad("the inclusion proof does not lead to the witnessed root")
        sizes.append(size)
    return sizes


# ---- tlog-policy ------------------------------------------------------------------------------

def parse_policy(text):
    logs, witnesses, groups, quorum = [], {}, {}, None
    for raw in text.split("\n"):
        f = raw.replace("\t", " ").split()
        if not f or f[0].startswith("#"):
            continue
        if f[0] == "log":
            logs.append(parse_vkey(f[1]))
        elif f[0] == "witness":
            witnesses[f[1]] = parse_vkey(f[2])
        elif f[0] == "group":
            members = f[3:]
            k = len(members) if f[2] == "all" else 1 if f[2] == "any" else int(f[2])
            for m in members:
                if m not in witnesses and m not in groups:
                    raise Bad("undefined member")
            groups[f[1]] = (k, members)
        elif f[0] == "quorum":
            if quorum is not None:
                raise Bad("two quorums")
            quorum = f[1]
        else:
            raise Bad("unknown line")
    if quorum is None:
        raise Bad("no quorum")
    return logs, witnesses, groups, quorum


def policy_met(note, policy):
    logs, witnesses, groups, quorum = policy
    ok = False
    for log in logs:
        try:
            verify_log_sig(note, log)
            ok = True
        except Bad:
            pass
    if not ok:
        raise Bad("no policy log signed the checkpoint")
    found = verify_cosigs(note, list(witnesses.values()))
    names = {n for n, w in witnesses.items() if w["name"] in found}

    def sat(name):
        if name == "none":
            return True
        if name in witnesses:
            return name in names
        k, members = groups[name]
        return sum(1 for m in members if sat(m)) >= k
    return sat(quorum), sorted(set(witnesses) - names)


def main(argv):
    if len(argv) >= 4 and argv[1] == "verify-note":
        note = open(argv[2], "rb").read()
        verify_log_sig(note, parse_vkey(argv[3]))
        found = verify_cosigs(note, [parse_vkey(v) for v in argv[4:]])
        for name in sorted(found):
            print(name, found[name])
        return 0
    if len(argv) == 4 and argv[1] == "verify-policy":
        note = open(argv[2], "rb").read()
        met, missing = policy_met(note, parse_policy(open(argv[3]).read()))
        if not met:
            print("quorum not met; missing: " + ", ".join(missing), file=sys.stderr)
            return 1
        return 0
    if len(argv) == 4 and argv[1] == "verify-witnessed":
        sizes = verify_witnessed(open(argv[2], "rb").read(), parse_policy(open(argv[3]).read()))
        print("witnessed at " + ", ".join(str(n) for n in sizes))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except Bad as e:
        print("c2sp.py: %s" % e, file=sys.stderr)
        sys.exit(1)
