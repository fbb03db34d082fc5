#!/usr/bin/env python3
"""A witness as a real process on loopback, driven over HTTP with checkpoints and proofs made by
c2sp.py (an independent reading of the C2SP texts), which also checks every cosignature the
witness returns: `scitt witness serve`, or with --scittd the witness role of scittd
(--witness-key, --witness-log), which must answer exactly the same, and whose key is sealed in
place with --keystore-key.

    test_witness_daemon.py SCITT [--scittd SCITTD]
"""
import base64
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import http.client

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import c2sp  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402

SCITT = sys.argv[1]
SCITTD = sys.argv[3] if len(sys.argv) > 3 and sys.argv[2] == "--scittd" else None
# the names of the metrics each witness exports
M_TOTAL = "scittd_witness_role_add_checkpoint_total" if SCITTD else "scitt_witness_add_checkpoint_total"
M_SIZE = "scittd_witness_role_cosigned_size" if SCITTD else "scitt_witness_cosigned_size"
M_LIMITED = "scittd_http_rate_limited_total" if SCITTD else "scitt_witness_rate_limited_total"
ORIGIN = "log.test/a"
LOG = Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))
OTHER = Ed25519PrivateKey.from_private_bytes(bytes(range(2, 34)))
LOG_VKEY = c2sp.vkey(ORIGIN, c2sp.TYPE_ED25519, c2sp.raw_public(LOG))

checks = 0
failures = 0
STARTED = []  # every witness process, stopped at the end whatever happened


def check(cond, what):
    global checks, failures
    checks += 1
    if not cond:
        failures += 1
        print("FAIL:", what, flush=True)


def leaves(n, fork_from=None):
    return [c2sp.leaf_hash((b"entry-%d" if fork_from is None or i < fork_from else b"fork-%d") % i)
            for i in range(n)]


def note(ls, origin=ORIGIN, key=LOG):
    text = "%s\n%d\n%s\n" % (origin, len(ls), base64.b64encode(c2sp.mth(ls)).decode())
    return c2sp.sign_note(text, origin, key)


def body(old, ls, proof_leaves=None, origin=ORIGIN, key=LOG, mutate=None):
    proof = []
    if 0 < old < len(ls):
        proof = c2sp.consistency_proof(old, proof_leaves if proof_leaves is not None else ls)
    if mutate == "flip":
        proof[-1] = bytes([proof[-1][0] ^ 1]) + proof[-1][1:]
    elif mutate == "short":
        proof = proof[:-1]
    elif mutate == "long":
        proof = proof + [bytes(32)]
    return ("old %d\n" % old + "".join(base64.b64encode(h).decode() + "\n" for h in proof)
            + "\n" + note(ls, origin, key)).encode()


class Witness:
    def __init__(self, tmp, name="w.test/1", extra=()):
        self.tmp = tmp
        self.key = os.path.join(tmp, "w.key")
        self.data = os.path.join(tmp, "data")
        self.state = os.path.join(self.data, "witness-state") if SCITTD else os.path.join(tmp, "state")
        if not os.path.exists(self.key):
            out = subprocess.run([SCITT, "witness", "keygen", "--name", name, "--out", self.key],
                                 check=True, capture_output=True, text=True).stdout
            self.vkey = out.strip()
        else:
            self.vkey = subprocess.run([SCITT, "witness", "vkey", "--key", self.key], check=True,
                                       capture_output=True, text=True).stdout.strip()
        self.extra = list(extra)
        self.proc = None

    def start(self, expect_fail=False):
        self.log = open(os.path.join(self.tmp, "witness.log"), "ab+")
        if SCITTD:
            cmd = [SCITTD, "--data", self.data, "--platform", "virtual", "--insecure-virtual",
                   "--listen", "127.0.0.1:0", "--header-timeout-ms", "1500", "--body-timeout-ms",
                   "1500", "--witness-key", self.key, "--witness-log", ORIGIN + "=" + LOG_VKEY]
        else:
            cmd = [SCITT, "witness", "serve", "--key", self.key, "--state", self.state,
                   "--log", LOG_VKEY, "--listen", "127.0.0.1:0", "--timeout-ms", "1500"]
        self.proc = subprocess.Popen(cmd + self.extra, stderr=subprocess.PIPE)
        STARTED.append(self.proc)
        line = ""
        while True:  # scittd logs a few lines before it listens
            got = self.proc.stderr.readline().decode()
            line += got
            if not got or "event=listening" in got:
                break
        if expect_fail:
            self.proc.wait(30)
            return self.proc.returncode, line
        check("event=listening" in line, "witness started: " + line)
        line = line.split("event=listening", 1)[1]
        self.port = int(line.split("port=")[1].split()[0])
        threading.Thread(target=self._drain, daemon=True).start()
        return 0, line

    def _drain(self):
        for line in self.proc.stderr:
            self.log.write(line)
            self.log.flush()

    def kill(self, sig=signal.SIGKILL):
        self.proc.send_signal(sig)
        self.proc.wait(10)
        return self.proc.returncode

    def request(self, method, path, data=None, headers=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        c.request(method, path, body=data, headers=headers or {})
        r = c.getresponse()
        out = (r.status, r.getheader("Content-Type"), r.read())
        c.close()
        return out

    def add(self, data):
        return self.request("POST", "/add-checkpoint", data)


def cosigned(w, data, status_body):
    """Checks a 200 answer: the lines are cosignatures by w's key over the submitted checkpoint."""
    status, ctype, resp = status_body
    if status != 200:
        return None
    n = data.split(b"\n\n", 1)[1]
    found = c2sp.verify_cosigs(n + resp, [c2sp.parse_vkey(w.vkey)])
    check(len(found) == 1 and list(found.values())[0] > 0,
          "the 200 answer carries a valid cosignature (independent check)")
    c2sp.verify_log_sig(n, c2sp.parse_vkey(LOG_VKEY))
    return found


def test_protocol(tmp):
    w = Witness(tmp)
    w.start()
    st, ct, b = w.request("GET", "/witness/vkey")
    check(st == 200 and b.decode().strip() == w.vkey, "GET /witness/vkey is the key's vkey")
    check(w.vkey.split("+")[2].startswith("B"), "the witness vkey has type 0x04")

    H = leaves(40)
    F = leaves(40, fork_from=5)
    d = body(0, H[:3])
    check(cosigned(w, d, w.add(d)) is not None, "first checkpoint (old 0) is cosigned")
    d = body(3, H[:9])
    check(cosigned(w, d, w.add(d)) is not None, "a consistent growth 3 -> 9 is cosigned")

    def refused(data, status, what, size_body=None):
        st, ct, b = w.add(data)
        check(st == status, "%s: status %d (got %d %r)" % (what, status, st, b[:80]))
        if size_body is not None:
            check(ct == "text/x.tlog.size" and b == size_body,
                  "%s: 409 body is the latest size as text/x.tlog.size (got %r %r)" % (what, ct, b))

    # a fork: another root at the cosigned size, and a grown fork with its own proof
    refused(body(9, F[:9]), 409, "fork at the cosigned size", b"9\n")
    refused(body(9, F[:20]), 422, "grown fork with a proof from the fork")
    refused(body(9, F[:20], proof_leaves=H[:20]), 422, "fork with the honest tree's proof")
    refused(body(0, F[:20]), 409, "fork claiming a fresh start", b"9\n")
    # an old checkpoint
    refused(body(3, H[:3]), 409, "rollback to an older checkpoint", b"9\n")
    refused(body(9, H[:5]), 400, "old size above the checkpoint size")
    # bad proofs
    for m in ("flip", "short", "long"):
        refused(body(9, H[:17], mutate=m), 422, "bad proof (%s)" % m)
    # a wrong origin, another key
    refused(body(9, H[:17], origin="log.test/b"), 404, "unknown origin")
    refused(body(9, H[:17], key=OTHER), 403, "checkpoint signed by an untrusted key")
    # malformed requests
    refused(b"old 9\n", 400, "no checkpoint")
    refused(b"old 09\n\n" + note(H[:9]).encode(), 400, "leading zero in old")
    st, _, _ = w.request("POST", "/add-checkpoint", b"x" * 10,
                         {"Content-Length": str(200000)})
    check(st == 413, "a body over the bound is refused (413), got %d" % st)
    s = socket.create_connection(("127.0.0.1", w.port))
    s.sendall(b"POST /add-checkpoint HTTP/1.1\r\nHost: x\r\n\r\n")
    check(s.recv(100).startswith(b"HTTP/1.1 411"), "POST without Content-Length gets 411")
    s.close()
    st, _, _ = w.request("GET", "/add-checkpoint")
    check(st == 405, "GET /add-checkpoint is 405")

    # a slow client holds one connection, not the witness
    slow = socket.create_connection(("127.0.0.1", w.port))
    slow.sendall(b"POST /add-checkpoint HTTP/1.1\r\n")
    t0 = time.monotonic()
    d = body(9, H[:17])
    check(cosigned(w, d, w.add(d)) is not None and time.monotonic() - t0 < 1.0,
          "a request is served while a slow client is connected")
    slow.settimeout(5)
    check(slow.recv(100).startswith(b"HTTP/1.1 408"), "the slow client gets 408 at the deadline")
    slow.close()

    st, _, m = w.request("GET", "/metrics")
    m = m.decode()
    check(M_TOTAL + '{status="409"} 3' in m, "metrics count the 409 refusals:\n" + m)
    check(M_SIZE + '{origin="log.test/a"} 17' in m, "metrics: cosigned size")

    # the state cannot be recorded (its file replaced by a non-empty folder, so the rename over
    # it fails): nothing is cosigned, the answer is 503, and the state is as before
    recs = [os.path.join(w.state, f) for f in os.listdir(w.state) if f.endswith(".checkpoint")]
    check(len(recs) == 1, "the log's state file is there (%s)" % recs)
    for rec in recs[:1]:
        os.rename(rec, rec + ".saved")
        os.makedirs(os.path.join(rec, "x"))
        st, _, b = w.add(body(17, H[:20]))
        check(st == 503, "a state that cannot be written: 503, no cosignature (got %d %r)"
              % (st, b[:60]))
        os.rmdir(os.path.join(rec, "x"))
        os.rmdir(rec)
        os.rename(rec + ".saved", rec)
        refused(body(0, H[:20]), 409, "the failed write left the latest size", b"17\n")

    # a second witness on the same state is refused
    other = Witness(tmp)
    rc, line = other.start(expect_fail=True)
    # (scittd: its data directory's lock, which holds the witness state, refuses it first)
    check(rc != 0 and ("in use by another scittd" if SCITTD else "another witness") in line,
          "a second process on the state folder refused: " + line[-300:])
    check(w.kill(signal.SIGTERM) == 0, "SIGTERM stops the witness cleanly")

    # the state survives; a corrupt state file stops the start rather than forgetting
    w.start()
    refused(body(0, H[:20]), 409, "after restart the latest size is kept", b"17\n")
    w.kill()
    path = [os.path.join(w.state, f) for f in os.listdir(w.state) if f.endswith(".checkpoint")]
    check(len(path) == 1, "one state file per log")
    open(path[0], "w").write("garbage\n")
    rc, line = Witness(tmp).start(expect_fail=True)
    check(rc != 0 and "unreadable witness state" in line,
          "corrupt state refuses to start: " + line[-300:])


def test_rate_limit(tmp):
    """A client address over --rate-limit gets 429 with Retry-After, counted; others are not."""
    w = Witness(tmp, extra=["--rate-limit", "1", "--rate-burst", "3"])
    w.start()
    answers = []
    for _ in range(8):
        c = http.client.HTTPConnection("127.0.0.1", w.port, timeout=10)
        c.request("GET", "/witness/vkey")
        r = c.getresponse()
        answers.append((r.status, r.getheader("Retry-After")))
        r.read()
        c.close()
    ok = [a for a in answers if a[0] == 200]
    limited = [a for a in answers if a[0] == 429]
    check(3 <= len(ok) <= 4 and len(limited) == 8 - len(ok),
          "a burst of 3 at 1/s: the rest answered 429 (%s)" % answers)
    check(all(a[1] == "1" for a in limited), "429 carries Retry-After: 1")
    time.sleep(2.2)
    st, _, m = w.request("GET", "/metrics")
    check(st == 200 and "%s %d" % (M_LIMITED, len(limited)) in m.decode(),
          "the refusals are counted in /metrics")
    check(w.kill(signal.SIGTERM) == 0, "stopped")


def test_crash(tmp, rounds=12):
    """SIGKILL the witness at random moments while honest and forked checkpoints race; across all
    restarts no size is ever cosigned with two roots, and it never cosigns a smaller tree."""
    w = Witness(tmp)
    H = leaves(400)
    F = leaves(400, fork_from=3)
    roots = {}
    latest = 0
    rng = random.Random(7)
    for r in range(rounds):
        w.start()
        stop = time.monotonic() + rng.uniform(0.05, 0.4)
        while time.monotonic() < stop:
            try:
                st, ct, b = w.add(body(0, H[:1]))  # learn the latest size
                old = int(b) if st == 409 else 1
                tree = F if rng.random() < 0.3 else H
                size = min(len(H), old + rng.randint(0, 9))
                d = body(old, tree[:size], proof_leaves=tree[:size])
                st, ct, b = w.add(d)
            except (OSError, http.client.HTTPException, ValueError):
                break
            if st == 200:
                cosigned(w, d, (st, ct, b))
                root = c2sp.mth(tree[:size])
                check(roots.setdefault(size, root) == root, "size %d cosigned with two roots" % size)
                check(size >= latest, "a smaller tree cosigned after %d: %d" % (latest, size))
                latest = size
        if rng.random() < 0.5:
            # kill in the middle of a request
            threading.Thread(target=lambda: w.add(body(latest, H[:latest + 5])), daemon=True).start()
            time.sleep(rng.uniform(0, 0.005))
        w.kill()
    w.start()
    st, ct, b = w.add(body(0, H[:1]))
    check(st == 409 and int(b) >= latest, "after the last kill the witness remembers >= %d" % latest)
    size = int(b)
    if size > 3:
        # the other branch at the remembered size (the two trees differ past leaf 3)
        other = F if roots.get(size, c2sp.mth(H[:size])) == c2sp.mth(H[:size]) else H
        st, _, _ = w.add(body(size, other[:size]))
        check(st == 409, "after the kills the other branch at the latest size is refused")
    w.kill()
    check(len(roots) > 3, "the crash test cosigned several sizes (%d)" % len(roots))


def test_sealed(tmp):
    """scittd only: with --keystore-key on the virtual platform the witness key is sealed like
    the service keys: a plain key file is sealed in place at the first start (the same vkey, its
    cosignatures valid), opens again at a restart under the same key, and a sealed file is refused
    under another keystore key and without one (fresh data directories: the witness key alone is
    the reason)."""
    kk = []
    for i in range(2):
        kk.append(os.path.join(tmp, "keystore%d.key" % i))
        with open(kk[i], "w") as f:
            f.write(os.urandom(32).hex() + "\n")
        os.chmod(kk[i], 0o600)
    w = Witness(os.path.join(tmp, "1"), extra=["--keystore-key", kk[0]])
    plain = open(w.key, "rb").read()
    w.start()
    sealed = open(w.key, "rb").read()
    check(sealed.startswith(b"SCSEAL01") and plain.split(b"\n")[-2] not in sealed,
          "the plain key file was sealed in place")
    check(os.stat(w.key).st_mode & 0o077 == 0, "the sealed file is readable by its owner only")
    st, _, vk = w.request("GET", "/witness/vkey")
    check(st == 200 and vk.decode().strip() == w.vkey, "the same witness key after sealing")
    H = leaves(20)
    d = body(0, H[:5])
    check(cosigned(w, d, w.add(d)) is not None, "a cosignature by the sealed key")
    check(w.kill(signal.SIGTERM) == 0, "stopped")
    w.start()
    check(open(w.key, "rb").read() == sealed, "a sealed file is used as it is")
    d = body(5, H[:9])
    check(cosigned(w, d, w.add(d)) is not None, "after a restart the sealed key opens and cosigns")
    check(w.kill(signal.SIGTERM) == 0, "stopped")
    # the separate daemon given the sealed file: refused, saying so
    r = subprocess.run([SCITT, "witness", "serve", "--key", w.key, "--state",
                        os.path.join(tmp, "state"), "--log", LOG_VKEY, "--listen", "127.0.0.1:0"],
                       capture_output=True, text=True, timeout=30)
    check(r.returncode == 2 and "sealed by scittd --witness-key" in r.stderr,
          "scitt witness serve refuses a sealed key naming what it is: " + r.stderr)
    for name, extra, why in (("2", ["--keystore-key", kk[1]], "sealed under another key"),
                             ("3", [], "no sealing key")):
        o = Witness(os.path.join(tmp, name), extra=extra)
        with open(o.key, "wb") as f:
            f.write(sealed)
        rc, line = o.start(expect_fail=True)
        check(rc != 0 and "--witness-key" in line and why in line,
              "a sealed witness key %s is refused: %s" % ("under another key" if extra else
                                                          "without --keystore-key", line[-300:]))


def test_sealed_links(tmp):
    """scittd only: sealing the witness key in place leaves no plain copy of it behind. A
    --witness-key that is a symbolic link (the rename would replace the link and leave its target
    plain) or a file with another hard link (the other name keeps the plain bytes) is refused
    with one line where it would be sealed, and every name still holds the key as given; so is a
    key whose folder takes no new file, with a line that says so."""
    kk = os.path.join(tmp, "keystore.key")
    with open(kk, "w") as f:
        f.write(os.urandom(32).hex() + "\n")
    os.chmod(kk, 0o600)
    real = os.path.join(tmp, "real.key")
    subprocess.run([SCITT, "witness", "keygen", "--name", "w.test/1", "--out", real], check=True,
                   capture_output=True)
    plain = open(real, "rb").read()
    for name, what, make in (("4", "symbolic link", os.symlink), ("5", "hard link", os.link)):
        make(real, os.path.join(tmp, name, "w.key"))
        o = Witness(os.path.join(tmp, name), extra=["--keystore-key", kk])
        try:
            rc, line = o.start(expect_fail=True)
        except subprocess.TimeoutExpired:
            o.kill()
            rc, line = 0, "it started and serves"
        check(rc != 0 and "--witness-key" in line and what in line,
              "a --witness-key that is a %s is refused where it would be sealed: %s" %
              (what, line[-300:]))
        check(open(real, "rb").read() == plain and open(o.key, "rb").read() == plain,
              "no name of the key is left plain beside a sealed one (%s)" % what)
        check(what != "symbolic link" or os.path.islink(o.key), "the link is left as it was")
    # where the sealed file cannot be written beside the key (a read-only /etc under systemd's
    # ProtectSystem=strict, a folder owned by root; here a name too long for the temporary file,
    # which fails the same way whoever runs the test): one line that says so, the key untouched
    o = Witness(os.path.join(tmp, "6"), extra=["--keystore-key", kk])
    longer = os.path.join(tmp, "6", "k" * 250)
    os.rename(o.key, longer)
    o.key = longer
    mine = open(o.key, "rb").read()
    rc, line = o.start(expect_fail=True)
    check(rc != 0 and "cannot write the sealed key in its place" in line and "folder" in line,
          "a key whose folder takes no new file is refused, saying why: " + line[-300:])
    check(open(o.key, "rb").read() == mine, "the key is left as given")


def main():
    tmp = tempfile.mkdtemp(prefix="witness-test-")
    try:
        os.makedirs(os.path.join(tmp, "a"))
        os.makedirs(os.path.join(tmp, "b"))
        os.makedirs(os.path.join(tmp, "c"))
        for d in ("1", "2", "3", "4", "5", "6"):
            os.makedirs(os.path.join(tmp, "d", d))
        test_protocol(os.path.join(tmp, "a"))
        test_crash(os.path.join(tmp, "b"))
        test_rate_limit(os.path.join(tmp, "c"))
        if SCITTD:
            test_sealed(os.path.join(tmp, "d"))
            test_sealed_links(os.path.join(tmp, "d"))
    finally:
        for p in STARTED:
            if p.poll() is None:
                p.kill()
                p.wait()
        for d in ("a", "b", "c", "d/1", "d/2", "d/3", "d/4", "d/5", "d/6"):
            p = os.path.join(tmp, d, "witness.log")
            if failures and os.path.exists(p):
                print(open(p, "rb").read().decode(errors="replace")[-3000:])
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d checks, %d failures" % (checks, failures))
    return 1 if failures or checks == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
