#!/usr/bin/env python3
"""scrapi_wire.py URL STATEMENT LARGE_STATEMENT OUTDIR

An independent client (urllib, gzip, hashlib and cbor2 only) of a running transparency service,
for the wire points of RFC 9943 and C2SP tlog-tiles:

1. media types (RFC 9943): POST /entries with Content-Type application/scitt-statement+cose and
   Accept application/scitt-receipt+cose gives a receipt labelled so; GET
   /entries/{id}/statement with Accept application/scitt-statement+cose gives the transparent
   statement labelled so (written to OUTDIR/ts.cbor for a receipt verifier);
2. gzip (RFC 9110 content coding): the level-0 hash tile and the entry bundle fetched with
   Accept-Encoding: gzip come with Content-Encoding: gzip and inflate to the identity bytes; the
   bundle's entries (uint16 big-endian length prefixes) hash, as RFC 9162 leaves
   SHA-256(0x00 || entry), to the tile's hashes, and the registered statement is among them;
3. an entry over 65,535 bytes (a bundle length prefix cannot say it) is refused at registration
   with RFC 9290 concise problem details (CBOR, detail text), and the tree does not grow.

Prints "RESULT: OK" and exits 0 when every check holds, else "FAIL: ..." and exits 1.
"""
import gzip
import hashlib
import sys
import time
import urllib.error
import urllib.request

import cbor2

url, stmt_path, large_path, out = sys.argv[1:5]
checks = 0


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def ok(msg):
    global checks
    checks += 1
    print("ok: " + msg)


def call(method, path, body=None, headers=None):
    req = urllib.request.Request(url + path, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, dict((k.lower(), v) for k, v in r.headers.items()), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict((k.lower(), v) for k, v in e.headers.items()), e.read()


def registered_form(stmt):
    tag = cbor2.loads(stmt)
    prot, _, payload, sig = tag.value
    return cbor2.dumps(cbor2.CBORTag(18, [prot, {}, payload, sig]))


def tree_size():
    st, _, body = call("GET", "/checkpoint")
    if st != 200:
        fail(f"GET /checkpoint: {st}")
    return int(body.split(b"\n")[1])


stmt = open(stmt_path, "rb").read()
entry = registered_form(stmt)
entry_id = hashlib.sha256(entry).hexdigest()

# 1. media types
st, h, body = call("POST", "/entries", stmt, {"Content-Type": "application/scitt-statement+cose",
                                               "Accept": "application/scitt-receipt+cose"})
for _ in range(100):
    if st != 202:
        break
    time.sleep(0.1)
    st, h, body = call("GET", h.get("location", "/entries/" + entry_id).replace(url, ""), None,
                       {"Accept": "application/scitt-receipt+cose"})
if st not in (200, 201):
    fail(f"POST /entries as application/scitt-statement+cose: {st} {body[:200]!r}")
if h.get("content-type") != "application/scitt-receipt+cose":
    fail(f"the receipt is labelled {h.get('content-type')!r}")
receipt = cbor2.loads(body)
if not isinstance(receipt, cbor2.CBORTag) or receipt.tag != 18:
    fail("the receipt is not a tagged COSE_Sign1")
ok("POST application/scitt-statement+cose -> application/scitt-receipt+cose")
st, h, body = call("GET", f"/entries/{entry_id}/statement",
                   headers={"Accept": "application/scitt-statement+cose"})
if st != 200 or h.get("content-type") != "application/scitt-statement+cose":
    fail(f"GET statement: {st} {h.get('content-type')!r}")
if registered_form(body) != entry:
    fail("the transparent statement is not the statement registered")
open(out + "/ts.cbor", "wb").write(body)
ok("GET /entries/{id}/statement -> application/scitt-statement+cose")
st, h, _ = call("GET", f"/entries/{entry_id}/statement")
if st != 200 or h.get("content-type") != "application/cose":
    fail(f"without Accept the statement is labelled {h.get('content-type')!r}, not application/cose")
ok("without Accept: application/cose, as before")

# 2. gzip of the hash tile and the entry bundle
size = tree_size()
if size < 2 or size > 256:
    fail(f"tree size {size}: this check reads one partial tile")
suffix = "" if size == 256 else f".p/{size}"
tiles = {}
for name in (f"/tile/0/000{suffix}", f"/tile/entries/000{suffix}"):
    st, h, plain = call("GET", name)
    if st != 200 or h.get("content-encoding"):
        fail(f"GET {name}: {st}, content-encoding {h.get('content-encoding')!r}")
    st, h, zipped = call("GET", name, headers={"Accept-Encoding": "gzip"})
    if st != 200 or h.get("content-encoding") != "gzip":
        fail(f"GET {name} with Accept-Encoding gzip: {st}, {h.get('content-encoding')!r}")
    if gzip.decompress(zipped) != plain:
        fail(f"{name}: the gzip body does not inflate to the identity body")
    tiles[name] = plain
    ok(f"{name}: gzip inflates to the identity bytes ({len(zipped)} of {len(plain)} bytes)")
hashes = tiles[f"/tile/0/000{suffix}"]
bundle = tiles[f"/tile/entries/000{suffix}"]
entries, i = [], 0
while i < len(bundle):
    if i + 2 > len(bundle):
        fail("a truncated length prefix in the bundle")
    n = int.from_bytes(bundle[i:i + 2], "big")
    entries.append(bundle[i + 2:i + 2 + n])
    i += 2 + n
if len(entries) != size or len(hashes) != 32 * size:
    fail(f"{len(entries)} entries and {len(hashes) // 32} hashes for a tree of {size}")
for k, e in enumerate(entries):
    if hashlib.sha256(b"\x00" + e).digest() != hashes[32 * k:32 * k + 32]:
        fail(f"entry {k} of the bundle does not hash to its tile hash")
if entry not in entries:
    fail("the registered statement is not in the bundle")
ok(f"the bundle's {size} entries hash to the tile's leaf hashes, ours among them")

# 3. an entry over 65,535 bytes
large = open(large_path, "rb").read()
if len(registered_form(large)) <= 65535:
    fail("the large statement is not over 65,535 bytes")
st, h, body = call("POST", "/entries", large, {"Content-Type": "application/cose"})
if st not in (400, 413):
    fail(f"an entry of {len(large)} bytes: {st}, not refused")
if h.get("content-type") != "application/concise-problem-details+cbor":
    fail(f"the refusal is labelled {h.get('content-type')!r}")
problem = cbor2.loads(body)
if not isinstance(problem.get(-2), str) or not problem[-2]:
    fail(f"the problem details have no detail: {problem!r}")
if tree_size() != size:
    fail("the tree grew")
ok(f"an entry of {len(large)} bytes refused ({st}): {problem.get(-1)!r}: {problem[-2]!r}")
print(f"{checks} checks")
print("RESULT: OK")
