#!/usr/bin/env python3
"""A real scittd, three `scitt witness serve` processes and `scitt witness collect` with a 2-of-3
tlog-policy: the cosigned checkpoint meets the quorum (checked again by c2sp.py, written from the
C2SP texts alone), a missing quorum names the missing witnesses, and a fork (a copy of the log's
data directory that then registers other entries under the same key) is refused by every witness.

    test_witness_log.py SCITT SCITTD
"""
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

import cbor2
import faulthandler
faulthandler.dump_traceback_later(int(os.environ.get("WITNESS_TEST_TRACE", "0")) or 86400, exit=True)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import c2sp  # noqa: E402

SCITT, SCITTD = sys.argv[1], sys.argv[2]
C2SP_PY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "c2sp.py")
from harness import check, run, start, stop  # noqa: E402
import harness  # noqa: E402


def start_scittd(tmp, data):
    return start([SCITTD, "--data", data, "--listen", "127.0.0.1:0", "--platform", "virtual",
                  "--insecure-virtual", "--log-level", "info",
                  "--cosigned-checkpoint", os.path.join(tmp, "served-" + os.path.basename(data))],
                 os.path.join(tmp, os.path.basename(data) + ".log"), "event=listening")


def register(tmp, url, name):
    r = harness.sign(SCITT, tmp, name)
    check(r.returncode == 0, "sign %s: %s" % (name, r.stderr))
    r = run(SCITT, "register", "--url", url, name + ".stmt", "--out", name + ".ts", cwd=tmp)
    check(r.returncode == 0, "register %s: %s" % (name, r.stderr))


def collect(tmp, url, state, out):
    return run(SCITT, "witness", "collect", "--url", url, "--policy", "log.policy", "--state",
               state, "--out", out, "--timeout-ms", "5000", cwd=tmp)


def main():
    return harness.main("witness-log-", body, tail=1500)


def body(tmp):
    r = run(SCITT, "keygen", "--out", "ci", "--self-signed-cert", "--subject", "CI signer", cwd=tmp)
    check(r.returncode == 0, "keygen: " + r.stderr)
    data_a = os.path.join(tmp, "log-a")
    log, port = start_scittd(tmp, data_a)
    url = "http://127.0.0.1:%d" % port
    cfg = cbor2.loads(urllib.request.urlopen(url + "/.well-known/transparency-configuration").read())
    log_vkey = cfg["checkpoint_vkey"]

    witnesses = []
    for i in range(3):
        d = os.path.join(tmp, "w%d" % i)
        os.makedirs(d)
        vk = run(SCITT, "witness", "keygen", "--name", "w%d.test" % i, "--out",
                 os.path.join(d, "key")).stdout.strip()
        cmd = [SCITT, "witness", "serve", "--key", os.path.join(d, "key"), "--state",
               os.path.join(d, "state"), "--log", log_vkey, "--listen", "127.0.0.1:0"]
        p, wport = start(cmd, os.path.join(tmp, "w%d.log" % i), "event=listening")
        witnesses.append({"cmd": cmd, "proc": p, "port": wport, "vkey": vk, "dir": d})
    policy = "log %s %s\n" % (log_vkey, url)
    for i, w in enumerate(witnesses):
        policy += "witness W%d %s http://127.0.0.1:%d\n" % (i, w["vkey"], w["port"])
    policy += "group two-of-three 2 W0 W1 W2\nquorum two-of-three\n"
    open(os.path.join(tmp, "log.policy"), "w").write(policy)

    register(tmp, url, "first")
    register(tmp, url, "second")
    served = os.path.join(tmp, "served-log-a")

    def get(path):
        try:
            with urllib.request.urlopen(url + path) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()
    st, _ = get("/checkpoint")
    check(st == 503, "no cosigned checkpoint yet: GET /checkpoint is 503 (got %d)" % st)
    st, head = get("/checkpoint/latest")
    check(st == 200 and head.count(b"\xe2\x80\x94") == 1, "/checkpoint/latest: the signed head")
    open(served, "wb").write(head.replace(b"\n\n", b"\n\n\xe2\x80\x94 x AAAA\n", 1)[:-1])
    st, _ = get("/checkpoint")
    check(st == 503, "a malformed cosigned file is not served (got %d)" % st)
    other = c2sp.Ed25519PrivateKey.from_private_bytes(bytes(32))
    open(served, "w").write(c2sp.sign_note(head.decode().split("\n\n")[0] + "\n",
                                           log_vkey.split("+")[0], other))
    st, _ = get("/checkpoint")
    check(st == 503, "a checkpoint signed by another key is not served (got %d)" % st)
    r = collect(tmp, url, "col", "cp1")
    check(r.returncode == 0, "collect meets the 2-of-3 quorum: " + r.stderr)
    check(r.stderr.count("result=cosigned") == 3, "all three witnesses cosigned: " + r.stderr)
    r = run("/usr/bin/python3", C2SP_PY, "verify-policy", "cp1", "log.policy", cwd=tmp)
    check(r.returncode == 0, "the independent verifier accepts the cosigned checkpoint: " + r.stderr)
    r = collect(tmp, url, "col", served)
    st, body_ = get("/checkpoint")
    check(st == 200 and body_ == open(served, "rb").read() and body_.count(b"\xe2\x80\x94") == 4,
          "GET /checkpoint serves the cosigned checkpoint (log signature + 3 cosignatures)")
    open(os.path.join(tmp, "fetched"), "wb").write(body_)
    r = run("/usr/bin/python3", C2SP_PY, "verify-policy", "fetched", "log.policy", cwd=tmp)
    check(r.returncode == 0, "what /checkpoint serves meets the policy (independent check)")

    # growth: the witnesses get a consistency proof from the log
    for n in range(5):
        register(tmp, url, "more%d" % n)
    r = collect(tmp, url, "col", "cp2")
    check(r.returncode == 0 and r.stderr.count("result=cosigned") == 3,
          "collect after growth (consistency proofs): " + r.stderr)
    r = run("/usr/bin/python3", C2SP_PY, "verify-policy", "cp2", "log.policy", cwd=tmp)
    check(r.returncode == 0, "independent verifier, after growth: " + r.stderr)
    text = open(os.path.join(tmp, "cp2"), "rb").read()
    found = c2sp.verify_cosigs(text, [c2sp.parse_vkey(w["vkey"]) for w in witnesses])
    check(len(found) == 3, "three cosignature/v1 lines verify independently")

    # a relying party, offline: receipts against the cosigned checkpoint and the policy
    r = run(SCITT, "keys", "--url", url, "--out", "keys.cbor", cwd=tmp)
    check(r.returncode == 0, "scitt keys: " + r.stderr)
    r = run(SCITT, "verify", "more4.ts", "--trust", "keys.cbor", "--witness-policy", "log.policy",
            "--checkpoint", "cp2", cwd=tmp)
    check(r.returncode == 0, "verify --witness-policy: a receipt at the witnessed size: " + r.stderr)
    r = run(SCITT, "verify", "first.ts", "--trust", "keys.cbor", "--witness-policy", "log.policy",
            "--checkpoint", "cp2", cwd=tmp)
    check(r.returncode == 1 and "--consistency" in r.stderr,
          "an older receipt needs a consistency proof: " + r.stderr)
    q = r.stderr.split("GET ")[1].split(")")[0] if "GET " in r.stderr else "/proofs/consistency"
    open(os.path.join(tmp, "cons"), "wb").write(urllib.request.urlopen(url + q).read())
    r = run(SCITT, "verify", "first.ts", "--trust", "keys.cbor", "--witness-policy", "log.policy",
            "--checkpoint", "cp2", "--consistency", "cons", cwd=tmp)
    check(r.returncode == 0, "an older receipt with the log's consistency receipt: " + r.stderr)
    r = run(SCITT, "verify", "second.ts", "--trust", "keys.cbor", "--witness-policy", "log.policy",
            "--checkpoint", "cp2", "--consistency", "cons", cwd=tmp)
    check(r.returncode == 1, "a consistency receipt from another size is refused: " + r.stderr)
    r = run(SCITT, "verify", "more4.ts", "--trust", "keys.cbor", "--checkpoint", "cp2",
            "--witness-policy", "log.policy", "--json", cwd=tmp)
    check('"witnessed"' in r.stdout, "--json reports the witnessed check")
    strict = open(os.path.join(tmp, "log.policy")).read().replace(
        "group two-of-three 2 W0 W1 W2\nquorum two-of-three", "group all3 all W0 W1 W2\nquorum all3")
    open(os.path.join(tmp, "all.policy"), "w").write(strict)

    # a fresh collector (no remembered sizes) learns each witness's size from its 409
    register(tmp, url, "third")
    r = collect(tmp, url, "col-fresh", "cp3")
    check(r.returncode == 0 and r.stderr.count("result=cosigned") == 3,
          "a collector without state learns the sizes from 409: " + r.stderr)

    # one witness down: 2 of 3 still meet the quorum; two down: the missing are named
    stop(witnesses[2]["proc"])
    register(tmp, url, "fourth")
    r = collect(tmp, url, "col", "cp4")
    check(r.returncode == 0, "two of three witnesses meet the quorum: " + r.stderr)
    stop(witnesses[1]["proc"])
    register(tmp, url, "fifth")
    r = collect(tmp, url, "col", "cp5")
    check(r.returncode == 1 and "missing: W1, W2" in r.stderr,
          "one of three: exit 1 naming the missing witnesses: " + r.stderr)
    check(not os.path.exists(os.path.join(tmp, "cp5")), "nothing written without the quorum")
    # the independent verifier agrees that one cosignature is not enough
    one = open(os.path.join(tmp, "cp4"), "rb").read().decode()
    lines = one.split("\n")
    head = one[:one.rindex("\n\n") + 2]
    sig_lines = [l for l in one[len(head):].split("\n") if l]
    single = head + sig_lines[0] + "\n" + sig_lines[1] + "\n"
    open(os.path.join(tmp, "cp-single"), "w").write(single)
    r = run("/usr/bin/python3", C2SP_PY, "verify-policy", "cp-single", "log.policy", cwd=tmp)
    check(r.returncode == 1, "independent verifier refuses one cosignature of 2-of-3")
    r = run(SCITT, "verify", "fourth.ts", "--trust", "keys.cbor", "--witness-policy", "log.policy",
            "--checkpoint", "cp-single", cwd=tmp)
    check(r.returncode == 1 and "missing: W1, W2" in r.stderr,
          "verify names the missing witnesses: " + r.stderr)
    r = run(SCITT, "verify", "fourth.ts", "--trust", "keys.cbor", "--witness-policy", "all.policy",
            "--checkpoint", "cp4", cwd=tmp)
    check(r.returncode == 1 and "missing: W2" in r.stderr,
          "cp4 lacks W2 under an all-of-three policy: " + r.stderr)
    r = run(SCITT, "verify", "fourth.ts", "--trust", "keys.cbor", "--witness-policy", "log.policy",
            "--checkpoint", "cp4", cwd=tmp)
    check(r.returncode == 0, "cp4 meets 2-of-3 for the receipt of its size: " + r.stderr)
    r = run(SCITT, "witness", "collect", "--url", url, "--policy", "nonexistent", "--state", "x",
            cwd=tmp)
    check(r.returncode == 2, "collect with a missing policy file: exit 2")
    del lines

    # restart the two witnesses (their state survives)
    for w in witnesses[1:]:
        w["proc"], _ = start(w["cmd"] + ["--listen", "127.0.0.1:%d" % w["port"]],
                             os.path.join(tmp, os.path.basename(w["dir"]) + "-2.log"),
                             "event=listening")

    # a fork: copy the data directory; the original and the copy then register different
    # entries under the same key
    stop(log)
    data_f = os.path.join(tmp, "log-fork")
    subprocess.run(["cp", "-a", "--sparse=always", data_a, data_f], check=True)
    log, port = start_scittd(tmp, data_a)
    url = "http://127.0.0.1:%d" % port
    register(tmp, url, "honest-entry")
    r = collect(tmp, url, "col", "cp6")
    check(r.returncode == 0 and r.stderr.count("result=cosigned") == 3,
          "the original log's next checkpoint is cosigned by all three: " + r.stderr)
    fork, fport = start_scittd(tmp, data_f)
    furl = "http://127.0.0.1:%d" % fport
    register(tmp, furl, "forked-entry")
    r = collect(tmp, furl, "col-fork", "cp-fork")
    check(r.returncode == 1 and r.stderr.count("result=failed") == 3,
          "every witness refuses the fork: " + r.stderr)
    check("missing: W0, W1, W2" in r.stderr, "the fork's collector names all witnesses missing")
    # the fork's receipt is of another tree than the witnessed one at the same size
    r = run(SCITT, "verify", "forked-entry.ts", "--trust", "keys.cbor", "--witness-policy",
            "log.policy", "--checkpoint", "cp6", cwd=tmp)
    check(r.returncode == 1 and "split view" in r.stderr,
          "a receipt from the fork fails against the witnessed checkpoint: " + r.stderr)
    refusals = 0
    for w in witnesses:
        m = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % w["port"]).read().decode()
        for status in ("409", "422"):
            for line in m.split("\n"):
                if line.startswith('scitt_witness_add_checkpoint_total{status="%s"}' % status):
                    refusals += int(line.split()[-1])
    check(refusals >= 3, "the witnesses' metrics count the refusals (%d)" % refusals)
    stop(fork)
    stop(log)
    for w in witnesses:
        if w["proc"].poll() is None:
            stop(w["proc"])


if __name__ == "__main__":
    sys.exit(main())
