#!/usr/bin/env python3
"""A real scittd with two `scitt witness serve` processes and an all-of-two policy:
 - without --receipts-wait-for-witnesses the 201 carries the plain receipt, and
   `scitt register --witnessed` fetches the witnessed one (GET /entries/{id}?witnessed=1);
 - with it, the 201 itself carries the cosigned checkpoint (checked by scitt verify
   --witness-policy offline and by c2sp.py); with a witness down the 201 comes after
   --receipts-witness-timeout-ms with the plain receipt (counted in the metrics), and
   `scitt register --witnessed` then fails within its --timeout naming the entry;
 - the option without --witness stops the start.

    test_witness_wait.py SCITT SCITTD
"""
import os
import signal
import subprocess
import sys
import time

import cbor2

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import c2sp  # noqa: E402

SCITT, SCITTD = sys.argv[1], sys.argv[2]
C2SP_PY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "c2sp.py")
from harness import check, run, start, stop, get  # noqa: E402
import harness  # noqa: E402


def carried(ts_path):
    """The cosigned checkpoint the statement's receipt carries (unprotected -65538), or None."""
    ts = cbor2.loads(open(ts_path, "rb").read())
    rec = cbor2.loads(ts.value[1][394][-1])
    return rec.value[1].get(-65538)


def main():
    return harness.main("witness-wait-", body)


def body(tmp):
    r = run(SCITT, "keygen", "--out", "ci", "--self-signed-cert", "--subject", "CI signer", cwd=tmp)
    check(r.returncode == 0, "keygen: " + r.stderr)
    data = os.path.join(tmp, "log")
    base = [SCITTD, "--data", data, "--listen", "127.0.0.1:0", "--platform", "virtual",
            "--insecure-virtual", "--log-level", "info"]

    r = subprocess.run(base + ["--receipts-wait-for-witnesses"], capture_output=True, text=True,
                       timeout=60)
    check(r.returncode == 2 and "--receipts-wait-for-witnesses needs at least one --witness"
          in r.stderr, "the option without --witness stops the start: %s" % r.stderr[-300:])

    p, port = start(base, os.path.join(tmp, "scittd.log"), "event=listening")
    url = "http://127.0.0.1:%d" % port
    cfg = cbor2.loads(get(url, "/.well-known/transparency-configuration")[1])
    log_vkey = cfg["checkpoint_vkey"]
    r = run(SCITT, "keys", "--url", url, "--out", "keys.cbor", cwd=tmp)
    check(r.returncode == 0, "scitt keys: " + r.stderr)
    stop(p)

    wit = []
    for i in range(2):
        d = os.path.join(tmp, "w%d" % i)
        os.makedirs(d)
        vk = run(SCITT, "witness", "keygen", "--name", "w%d.test" % i, "--out",
                 os.path.join(d, "key")).stdout.strip()
        cmd = [SCITT, "witness", "serve", "--key", os.path.join(d, "key"), "--state",
               os.path.join(d, "state"), "--log", log_vkey]
        wp, wport = start(cmd + ["--listen", "127.0.0.1:0"], os.path.join(tmp, "w%d.log" % i),
                          "event=listening")
        wit.append({"cmd": cmd, "proc": wp, "port": wport, "vkey": vk,
                    "url": "http://127.0.0.1:%d" % wport})
    policy = os.path.join(tmp, "log.policy")
    open(policy, "w").write("log %s\n" % log_vkey + "".join(
        "witness W%d %s %s\n" % (i, w["vkey"], w["url"]) for i, w in enumerate(wit)) +
        "group both 2 W0 W1\nquorum both\n")
    wargs = ["--witness-policy", policy]
    for w in wit:
        wargs += ["--witness", "%s=%s" % (w["url"], w["vkey"])]

    def register(url, name, *extra):
        r = harness.sign(SCITT, tmp, name)
        check(r.returncode == 0, "sign %s: %s" % (name, r.stderr))
        t0 = time.monotonic()
        r = run(SCITT, "register", "--url", url, name + ".stmt", "--out", name + ".ts",
                "--trust", "keys.cbor", *extra, cwd=tmp)
        return r, time.monotonic() - t0

    def verified(name, what):
        ts = os.path.join(tmp, name + ".ts")
        r = run(SCITT, "verify", ts, "--trust", "keys.cbor", "--witness-policy", policy, cwd=tmp)
        check(r.returncode == 0 and "same root as the witnessed checkpoint" in r.stdout + r.stderr,
              "%s: scitt verify --witness-policy offline: %s" % (what, r.stdout + r.stderr))
        r = run("/usr/bin/python3", C2SP_PY, "verify-witnessed", ts, policy)
        check(r.returncode == 0, "%s: c2sp.py verify-witnessed: %s" % (what, r.stderr))

    # without the option: the 201 does not wait; register --witnessed asks for the witnessed one
    p, port = start(base + wargs, os.path.join(tmp, "scittd.log"), "event=listening")
    url = "http://127.0.0.1:%d" % port
    r, _ = register(url, "plain")
    check(r.returncode == 0 and carried(os.path.join(tmp, "plain.ts")) is None,
          "without the option the 201's receipt carries no checkpoint: " + r.stderr)
    r, _ = register(url, "fetched", "--witnessed", "--json", "--timeout", "30")
    check(r.returncode == 0 and '"witnessed":true' in r.stdout,
          "register --witnessed fetches the witnessed receipt: " + r.stdout + r.stderr)
    if r.returncode == 0:
        verified("fetched", "register --witnessed (GET ?witnessed=1)")
    stop(p)

    # with it: the 201 carries the cosigned checkpoint
    wait = base + wargs + ["--receipts-wait-for-witnesses", "--receipts-witness-timeout-ms",
                           "3000"]
    p, port = start(wait, os.path.join(tmp, "scittd.log"), "event=listening")
    url = "http://127.0.0.1:%d" % port
    for i in range(3):
        r, secs = register(url, "waited%d" % i)
        check(r.returncode == 0 and carried(os.path.join(tmp, "waited%d.ts" % i)) is not None,
              "the 201 waited for the witnesses: its receipt carries the checkpoint (%.2f s) %s"
              % (secs, r.stderr))
        if r.returncode == 0:
            verified("waited%d" % i, "the 201's witnessed receipt")
    r, _ = register(url, "waited-json", "--witnessed", "--json")
    check(r.returncode == 0 and '"witnessed":true' in r.stdout,
          "register --witnessed takes the 201's witnessed receipt: " + r.stdout + r.stderr)

    # a witness down: the policy cannot be met; the 201 comes at the timeout, plain
    stop(wit[1]["proc"], signal.SIGKILL)
    r, secs = register(url, "timeout")
    check(r.returncode == 0 and carried(os.path.join(tmp, "timeout.ts")) is None and
          2.5 <= secs < 20,
          "with a witness down the 201 comes after the timeout with the plain receipt "
          "(%.2f s): %s" % (secs, r.stderr))
    st, m = get(url, "/metrics")
    m = m.decode()
    check('scittd_witness_waited_total{result="timeout"} 1' in m and
          'scittd_witness_waited_total{result="witnessed"} 4' in m,
          "the metrics count the witnessed and the timed-out waits:\n" +
          "\n".join(x for x in m.split("\n") if "waited" in x))
    r, secs = register(url, "timeout2", "--witnessed", "--timeout", "6")
    check(r.returncode == 2 and "no witnessed receipt within --timeout" in r.stderr and
          not os.path.exists(os.path.join(tmp, "timeout2.ts")),
          "register --witnessed without a quorum fails, naming the entry, writing nothing: " +
          r.stderr)
    stop(p)
    log = open(os.path.join(tmp, "scittd.log")).read()
    check("event=stopped clean=1" in log, "scittd stops cleanly with waits behind it")
    for w in wit:
        if w["proc"].poll() is None:
            stop(w["proc"])


if __name__ == "__main__":
    sys.exit(main())
