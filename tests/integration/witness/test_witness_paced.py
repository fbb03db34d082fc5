#!/usr/bin/env python3
"""How scittd paces its witness rounds.

1. Rounds start at most every --witness-interval-ms: forty registrations from four clients at
once (signed heads far more often than that) are witnessed in at most elapsed / interval + 2
rounds (scittd_witness_rounds_total), every head signed meanwhile is covered by a later round's
newer head (the newest head is witnessed), and an isolated registration after the log was idle
starts a round of its own. The option is bounded (0..60000).

2. A witness that answers 429 (its per-client rate limit) slows the log down, it does not fail
its rounds: one scittd, one `scitt witness serve --rate-limit 1 --rate-burst 1` as its only
witness, registrations from four clients at once (signed heads faster than the witness allows).
scittd paces that witness (counted in scittd_witness_rate_limited_total) instead of ending
rounds as missed quorums (which wait a back-off of 1 s and more: the head-to-witnessed p99 of
bench/witness_bench went to about 1 s that way), and the newest head is witnessed.

    test_witness_paced.py SCITT SCITTD
"""
import os
import sys
import threading
import time

import urllib.request

import cbor2

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import check, run, start, get  # noqa: E402

SCITT, SCITTD = sys.argv[1], sys.argv[2]


def metric(text, prefix):
    return sum(float(line.split()[-1]) for line in text.split("\n") if line.startswith(prefix))


def post(url, stmt):
    req = urllib.request.Request(url + "/entries", data=stmt, method="POST",
                                 headers={"Content-Type": "application/cose"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.status


def newest(url, path):
    st, cp = get(url, path)
    return int(cp.split(b"\n")[1]) if st == 200 else -1


def interval(tmp, base, wvkey, wport):
    """Part 1: --witness-interval-ms 400 (the witness without a low rate limit)."""
    for bad in ("60001", "-1", "x"):
        r = run(SCITTD, "--witness-interval-ms", bad, "--check-config")
        check(r.returncode != 0 and "witness-interval-ms" in r.stderr,
              "--witness-interval-ms %s is refused with one line naming it (%s)" % (bad, r.stderr))
    p, port = start(base + ["--witness", "http://127.0.0.1:%d=%s" % (wport, wvkey),
                            "--witness-interval-ms", "400"], os.path.join(tmp, "scittd-i.log"))
    url = "http://127.0.0.1:%d" % port
    stmts = [open(os.path.join(tmp, "s%d.stmt" % i), "rb").read() for i in range(40)]
    deadline = time.time() + 30
    while time.time() < deadline and newest(url, "/checkpoint") < 0:
        time.sleep(0.05)  # the round of the head scittd starts with (size 0 is not witnessed)
    rounds0 = metric(get(url, "/metrics")[1].decode(), "scittd_witness_rounds_total ")
    t0 = time.time()
    statuses = []

    def client(k):
        for i in range(k, 40, 4):
            statuses.append(post(url, stmts[i]))
    clients = [threading.Thread(target=client, args=(k,)) for k in range(4)]
    for t in clients:
        t.start()
    for t in clients:
        t.join()
    want = newest(url, "/checkpoint/latest")
    check(statuses == [201] * 40 and want >= 40, "forty registrations (%s, size %d)"
          % (sorted(set(statuses)), want))
    deadline = time.time() + 30
    while time.time() < deadline and newest(url, "/checkpoint") < want:
        time.sleep(0.02)
    elapsed = time.time() - t0
    rounds = metric(get(url, "/metrics")[1].decode(), "scittd_witness_rounds_total ") - rounds0
    check(newest(url, "/checkpoint") >= want, "the newest head (%d) is witnessed" % want)
    bound = elapsed / 0.4 + 2
    check(0 < rounds <= bound, "at most elapsed / interval + 2 rounds: %d in %.2f s (bound %.1f)"
          % (rounds, elapsed, bound))
    # the lag counts from the oldest head a round covers: heads signed while a round was open
    # waited for the next one, most of the interval, and the histogram shows it
    m = get(url, "/metrics")[1].decode()
    count = metric(m, "scittd_witness_lag_milliseconds_count ")
    under = metric(m, 'scittd_witness_lag_milliseconds_bucket{le="250"} ')
    check(count - under >= 1, "a head's wait for its round is in the lag (%d of %d rounds over "
          "250 ms)" % (count - under, count))
    # an isolated registration on an idle log starts its round at once: one more round, and its
    # head is witnessed well before two intervals passed
    time.sleep(0.5)
    r0 = metric(get(url, "/metrics")[1].decode(), "scittd_witness_rounds_total ")
    t1 = time.time()
    r = harness.sign(SCITT, tmp, "idle", '{"n": "idle"}')
    check(r.returncode == 0, "sign: " + r.stderr)
    t1 = time.time()
    check(post(url, open(os.path.join(tmp, "idle.stmt"), "rb").read()) == 201, "idle register")
    want = newest(url, "/checkpoint/latest")
    while time.time() < t1 + 30 and newest(url, "/checkpoint") < want:
        time.sleep(0.005)
    took = time.time() - t1
    r1 = metric(get(url, "/metrics")[1].decode(), "scittd_witness_rounds_total ")
    check(newest(url, "/checkpoint") >= want and r1 == r0 + 1,
          "the idle registration's head is witnessed in one round of its own (%d rounds, %.3f s)"
          % (r1 - r0, took))
    harness.stop(p)


def body(tmp):
    r = run(SCITT, "keygen", "--out", "ci", "--self-signed-cert", "--subject", "CI signer", cwd=tmp)
    check(r.returncode == 0, "keygen: " + r.stderr)
    base = [SCITTD, "--platform", "virtual", "--insecure-virtual", "--log-level", "info",
            "--data", os.path.join(tmp, "data"), "--listen", "127.0.0.1:0"]
    p, port = start(base, os.path.join(tmp, "scittd.log"))
    url = "http://127.0.0.1:%d" % port
    vkey = cbor2.loads(get(url, "/.well-known/transparency-configuration")[1])["checkpoint_vkey"]
    harness.stop(p)
    for i in range(56):
        r = harness.sign(SCITT, tmp, "s%d" % i, '{"n": %d}' % i)
        check(r.returncode == 0, "sign %d: %s" % (i, r.stderr))
    wkey = os.path.join(tmp, "w.key")
    wvkey = run(SCITT, "witness", "keygen", "--name", "w.test", "--out", wkey).stdout.strip()
    w, wport = start([SCITT, "witness", "serve", "--key", wkey, "--state",
                      os.path.join(tmp, "wstate"), "--log", vkey, "--listen", "127.0.0.1:0",
                      "--rate-limit", "1", "--rate-burst", "1"], os.path.join(tmp, "w.log"))
    w2, w2port = start([SCITT, "witness", "serve", "--key", wkey, "--state",
                        os.path.join(tmp, "w2state"), "--log", vkey, "--listen", "127.0.0.1:0"],
                       os.path.join(tmp, "w2.log"))
    interval(tmp, base, wvkey, w2port)
    harness.stop(w2)
    p, port = start(base + ["--witness", "http://127.0.0.1:%d=%s" % (wport, wvkey)],
                    os.path.join(tmp, "scittd.log"))
    url = "http://127.0.0.1:%d" % port

    def client(k):
        for i in range(40 + k, 56, 4):
            r = run(SCITT, "register", "--url", url, "s%d.stmt" % i, "--out", "s%d.ts" % i,
                    cwd=tmp)
            check(r.returncode == 0, "register %d: %s" % (i, r.stderr))
    clients = [threading.Thread(target=client, args=(k,)) for k in range(4)]
    for t in clients:
        t.start()
    for t in clients:
        t.join()
    st, latest = get(url, "/checkpoint/latest")
    want = int(latest.split(b"\n")[1])
    deadline = time.time() + 60
    size = -1
    while time.time() < deadline and size < want:
        st, cp = get(url, "/checkpoint")
        size = int(cp.split(b"\n")[1]) if st == 200 else -1
        time.sleep(0.1)
    check(size >= want, "the newest head (%d) is witnessed (%d)" % (want, size))
    m = get(url, "/metrics")[1].decode()
    limited = metric(m, "scittd_witness_rate_limited_total{")
    missed = metric(m, "scittd_witness_quorum_missed_total ")
    failed = metric(m, "scittd_witness_failures_total{")
    check(limited > 0, "the witness answered 429 and scittd counted it (%s)" % limited)
    check(missed == 0 and failed == 0,
          "a 429 is not a missed round nor a failure (missed %s, failures %s)" % (missed, failed))
    time.sleep(1)  # the witness's rate limit covers this read too
    st, wm = get("http://127.0.0.1:%d" % wport, "/metrics")
    wm = wm.decode(errors="replace") if st == 200 else ""
    check(metric(wm, "scitt_witness_rate_limited_total ") >= limited,
          "the witness's own count of 429s agrees")
    harness.stop(p)
    harness.stop(w)


def main():
    return harness.main("witness-paced-", body)


if __name__ == "__main__":
    sys.exit(main())
