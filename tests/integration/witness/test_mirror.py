#!/usr/bin/env python3
"""`scitt mirror` against a real scittd: a verified static copy (checkpoint, tiles, bundles) that
scitt audit accepts as a read path, kept up incrementally; a forked log (a copy of the data
directory registering another entry under the same key), a rolled-back log (an older copy of the
data directory) and a copy with a tampered entry bundle are refused and publish nothing.

    test_mirror.py SCITT SCITTD
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import json
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

SCITT, SCITTD = sys.argv[1], sys.argv[2]
checks = 0
failures = 0
procs = []


def check(cond, what):
    global checks, failures
    checks += 1
    if not cond:
        failures += 1
        print("FAIL:", what, flush=True)


def run(*args, cwd=None):
    return subprocess.run(list(args), cwd=cwd, capture_output=True, text=True)


def start_scittd(tmp, data):
    log = open(os.path.join(tmp, os.path.basename(data) + ".log"), "a+")
    at = log.tell()
    p = subprocess.Popen([SCITTD, "--data", data, "--listen", "127.0.0.1:0", "--platform",
                          "virtual", "--insecure-virtual", "--log-level", "info"],
                         stderr=log, stdout=subprocess.DEVNULL)
    procs.append(p)
    for _ in range(400):
        log.seek(at)
        text = log.read()
        if "event=listening" in text and "port=" in text.split("event=listening", 1)[1]:
            port = int(text.split("event=listening", 1)[1].split("port=")[1].split()[0])
            return p, "http://127.0.0.1:%d" % port
        if p.poll() is not None:
            break
        time.sleep(0.05)
    raise SystemExit("scittd did not start")


def stop(p):
    p.send_signal(signal.SIGTERM)
    p.wait(60)


def listing(d):
    out = {}
    for top, dirs, files in os.walk(d):
        dirs[:] = [x for x in dirs if x != ".scitt-mirror"]
        for f in files:
            p = os.path.join(top, f)
            out[os.path.relpath(p, d)] = open(p, "rb").read()
    return out


def main():
    tmp = tempfile.mkdtemp(prefix="mirror-")
    try:
        body(tmp)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d checks, %d failures" % (checks, failures))
    return 1 if failures or checks == 0 else 0


def body(tmp):
    r = run(SCITT, "keygen", "--out", "ci", "--self-signed-cert", "--subject", "CI signer", cwd=tmp)
    check(r.returncode == 0, "keygen: " + r.stderr)

    def register(url, name):
        r = harness.sign(SCITT, tmp, name)
        check(r.returncode == 0, "sign %s: %s" % (name, r.stderr))
        r = run(SCITT, "register", "--url", url, name + ".stmt", "--out", name + ".ts", cwd=tmp)
        check(r.returncode == 0, "register %s: %s" % (name, r.stderr))

    def mirror(url, out, *extra):
        return run(SCITT, "mirror", "--url", url, "--out", out, "--json", *extra, cwd=tmp)

    data = os.path.join(tmp, "log")
    p, url = start_scittd(tmp, data)
    for i in range(3):
        register(url, "e%d" % i)
    m = os.path.join(tmp, "m")
    r = mirror(url, m)
    served = urllib.request.urlopen(url + "/checkpoint").read()
    size0 = int(served.split(b"\n")[1])  # the log's own first entries included
    check(r.returncode == 0 and json.loads(r.stdout)["size"] == size0,
          "first mirror: " + r.stdout + r.stderr)
    files = listing(m)
    check(files.get("checkpoint") == served, "the copy's checkpoint is the service's")
    check(any(f.startswith("tile/0/") for f in files) and
          any(f.startswith("tile/entries/") for f in files),
          "hash tiles and entry bundles copied: %s" % sorted(files))
    r = run(SCITT, "audit", "--url", m, "--state", "audit-m", "--json", cwd=tmp)
    check(r.returncode == 0, "scitt audit accepts the copy as a read path: " + r.stdout + r.stderr)

    # an older copy of the data directory, for the rollback below
    stop(p)
    backup = os.path.join(tmp, "log-backup")
    subprocess.run(["cp", "-a", "--sparse=always", data, backup], check=True)
    p, url = start_scittd(tmp, data)
    for i in range(3, 5):
        register(url, "e%d" % i)
    r = mirror(url, m)
    check(r.returncode == 0 and json.loads(r.stdout)["old_size"] == size0 and
          json.loads(r.stdout)["size"] == size0 + 2,
          "incremental mirror, two entries more: " + r.stdout + r.stderr)
    r = run(SCITT, "audit", "--url", m, "--state", "audit-m", "--json", cwd=tmp)
    check(r.returncode == 0, "the grown copy audits incrementally: " + r.stdout + r.stderr)

    # a fork: a copy of the data directory registering another entry under the same key
    stop(p)
    fork_data = os.path.join(tmp, "log-fork")
    subprocess.run(["cp", "-a", "--sparse=always", data, fork_data], check=True)
    p, url = start_scittd(tmp, data)
    register(url, "honest")
    r = mirror(url, m)
    check(r.returncode == 0 and json.loads(r.stdout)["size"] == size0 + 3,
          "mirror of the original: " + r.stdout + r.stderr)
    before = listing(m)
    fork, furl = start_scittd(tmp, fork_data)
    register(furl, "forked")
    register(furl, "forked2")
    r = mirror(furl, m)
    check(r.returncode == 1 and "nothing published" in r.stderr,
          "a forked log is refused: " + r.stdout + r.stderr)
    check(listing(m) == before, "the fork published nothing into the copy")
    stop(fork)

    # a rollback: the older copy of the data directory served again
    stop(p)
    old, ourl = start_scittd(tmp, backup)
    r = mirror(ourl, m)
    check(r.returncode == 1 and "shrank" in r.stderr, "a rolled-back log is refused: " + r.stderr)
    check(listing(m) == before, "the rollback published nothing")
    stop(old)

    # a static copy with one entry bundle changed: a fresh mirror of it publishes nothing
    t = os.path.join(tmp, "t")
    shutil.copytree(m, t, ignore=shutil.ignore_patterns(".scitt-mirror"))
    bundles = sorted(f for f in listing(t) if f.startswith("tile/entries/"))
    b = os.path.join(t, bundles[-1])
    raw = bytearray(open(b, "rb").read())
    raw[len(raw) // 2] ^= 1
    open(b, "wb").write(bytes(raw))
    n = os.path.join(tmp, "n")
    r = mirror(t, n)
    check(r.returncode == 1 and not os.path.exists(os.path.join(n, "checkpoint")) and
          not any(f.startswith("tile/") for f in listing(n)),
          "a copy with a tampered bundle is refused, nothing published: " + r.stderr)
    r = run(SCITT, "mirror", "--url", url, cwd=tmp)
    check(r.returncode == 2, "--out is required (exit 2)")


if __name__ == "__main__":
    sys.exit(main())
