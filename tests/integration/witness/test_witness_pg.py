#!/usr/bin/env python3
"""scittd's witness coordinator when the log cannot be read: its log in a real PostgreSQL
(--storage), one `scitt witness serve`, --witness-interval-ms 5000. A registration on the idle log
is witnessed in a round of its own; a second one right after waits for the interval, and the
database stops meanwhile (as a crash of its host would). The round's read of the newest head then
fails, and must be tried again later (once a second), not at once and again: a coordinator that
retries at once spins a core and writes a `witness_round` warning per failed read. When the
database is back, the newest head is witnessed.

The server runs as `nobody` when the test runs as root (PostgreSQL refuses root), as
tests/pg_server.h does for the C tests.

    test_witness_pg.py SCITT SCITTD
"""
import os
import pwd
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import check, run, start, get  # noqa: E402

import cbor2  # noqa: E402

SCITT, SCITTD = sys.argv[1], sys.argv[2]
PG_BIN = "/usr/lib/postgresql/15/bin"


def as_nobody():
    if os.geteuid() == 0:
        pw = pwd.getpwnam("nobody")
        os.setgid(pw.pw_gid)
        os.setuid(pw.pw_uid)


def pg(cwd, *args):
    return subprocess.run([os.path.join(PG_BIN, args[0])] + list(args[1:]), cwd=cwd,
                          preexec_fn=as_nobody, capture_output=True, text=True, timeout=120)


def pg_start(d, port):
    r = pg(d, "pg_ctl", "-D", os.path.join(d, "data"), "-l", os.path.join(d, "server.log"), "-o",
           "-p %d -k %s -c listen_addresses=127.0.0.1" % (port, d), "-w", "-t", "60", "start")
    return check(r.returncode == 0, "PostgreSQL started: " + r.stderr + r.stdout)


def warnings(log):
    return open(log).read().count("event=witness_round")


def body(tmp):
    d = os.path.join(tmp, "pg")
    os.mkdir(d, 0o700)
    if os.geteuid() == 0:
        pw = pwd.getpwnam("nobody")
        os.chmod(tmp, 0o755)
        os.chown(d, pw.pw_uid, pw.pw_gid)
    r = pg(d, "initdb", "-D", os.path.join(d, "data"), "-U", "scitt", "-A", "trust", "-E", "UTF8")
    if not check(r.returncode == 0, "initdb: " + r.stderr):
        return
    port = harness.free_port()
    if not pg_start(d, port):
        return
    try:
        scenario(tmp, d, port)
    finally:
        pg(d, "pg_ctl", "-D", os.path.join(d, "data"), "-m", "immediate", "-w", "stop")


def scenario(tmp, d, pgport):
    r = run(SCITT, "keygen", "--out", "ci", "--self-signed-cert", "--subject", "CI signer", cwd=tmp)
    check(r.returncode == 0, "keygen: " + r.stderr)
    for i in range(2):
        r = harness.sign(SCITT, tmp, "s%d" % i, '{"n": %d}' % i)
        check(r.returncode == 0, "sign %d: %s" % (i, r.stderr))
    base = [SCITTD, "--platform", "virtual", "--insecure-virtual", "--log-level", "info",
            "--data", os.path.join(tmp, "data"), "--listen", "127.0.0.1:0", "--storage",
            "postgresql://scitt@127.0.0.1:%d/postgres" % pgport, "--lease-ms", "0"]
    p, port = start(base, os.path.join(tmp, "scittd0.log"))
    url = "http://127.0.0.1:%d" % port
    vkey = cbor2.loads(get(url, "/.well-known/transparency-configuration")[1])["checkpoint_vkey"]
    harness.stop(p)
    wkey = os.path.join(tmp, "w.key")
    wvkey = run(SCITT, "witness", "keygen", "--name", "w.test", "--out", wkey).stdout.strip()
    w, wport = start([SCITT, "witness", "serve", "--key", wkey, "--state",
                      os.path.join(tmp, "wstate"), "--log", vkey, "--listen", "127.0.0.1:0"],
                     os.path.join(tmp, "w.log"))
    log = os.path.join(tmp, "scittd.log")
    p, port = start(base + ["--witness", "http://127.0.0.1:%d=%s" % (wport, wvkey),
                            "--witness-interval-ms", "5000"], log)
    url = "http://127.0.0.1:%d" % port

    def register(i):
        r = run(SCITT, "register", "--url", url, "s%d.stmt" % i, "--out", "s%d.ts" % i, cwd=tmp)
        return check(r.returncode == 0, "register %d: %s" % (i, r.stderr))

    def witnessed():
        st, cp = get(url, "/checkpoint")
        return int(cp.split(b"\n")[1]) if st == 200 else -1

    if not register(0):
        return
    t0 = time.time()
    while time.time() < t0 + 30 and witnessed() < 1:
        time.sleep(0.02)
    check(witnessed() == 1, "the idle log's first head is witnessed at once")
    if not register(1):
        return
    t1 = time.time()
    st, latest = get(url, "/checkpoint/latest")
    want = int(latest.split(b"\n")[1]) if st == 200 else 2
    r = pg(d, "pg_ctl", "-D", os.path.join(d, "data"), "-m", "immediate", "-w", "stop")
    check(r.returncode == 0, "PostgreSQL stopped: " + r.stderr)
    check(time.time() - t0 < 4.5, "the database stopped before the second head's round was due "
          "(%.2f s after the first; the interval is 5 s)" % (time.time() - t0))
    # the round is due 5 s after the first: the read fails from then on; watch four seconds of it
    time.sleep(max(0.0, t0 + 5.0 - time.time()))
    n0 = warnings(log)
    time.sleep(4)
    n = warnings(log) - n0
    check(n <= 8, "a failed read of the newest head is tried again once a second, not at once "
          "(%d witness_round warnings in 4 s)" % n)
    check(p.poll() is None, "scittd still runs")
    if not pg_start(d, pgport):
        return
    while time.time() < t1 + 60 and witnessed() < want:
        time.sleep(0.1)
    check(witnessed() == want, "with the database back the newest head (%d) is witnessed (%d)"
          % (want, witnessed()))
    harness.stop(p)
    harness.stop(w)


def main():
    return harness.main("witness-pg-", body)


if __name__ == "__main__":
    sys.exit(main())
