#!/usr/bin/env python3
"""test_events.py CASE: GET /events (server-sent events) and `scitt monitor` against a real
scittd on 127.0.0.1 (started here, temporary data directory). Statements are signed here with
python3-cryptography (an ES256 key and a self-signed certificate, which the development policy
admits) so that thousands can be registered quickly, or with the scitt CLI.

Environment: SCITT_BINARY_DIR. Exit 0 = pass, 1 = fail.
"""
import hashlib
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import datetime

import cbor2
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_explorer as tx  # noqa: E402
from test_explorer import Scittd, ok  # noqa: E402

SCITT = tx.SCITT


class PySigner:
    def __init__(self):
        self.key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "events test")])
        now = datetime.datetime.now(datetime.timezone.utc)
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                .public_key(self.key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(days=1))
                .not_valid_after(now + datetime.timedelta(days=30))
                .sign(self.key, hashes.SHA256()))
        self.der = cert.public_bytes(serialization.Encoding.DER)
        self.n = 0

    def statement(self, iss, sub, payload):
        prot = cbor2.dumps({1: -7, 3: "application/json", 15: {1: iss, 2: sub}, 33: self.der})
        tbs = cbor2.dumps(["Signature1", prot, b"", payload])
        r, s = decode_dss_signature(self.key.sign(tbs, ec.ECDSA(hashes.SHA256())))
        sig = r.to_bytes(32, "big") + s.to_bytes(32, "big")
        return cbor2.dumps(cbor2.CBORTag(18, [prot, {}, payload, sig]))


class Registrar:
    """Registers statements over one keep-alive connection; returns their indexes."""

    def __init__(self, port):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def register(self, stmt):
        self.conn.request("POST", "/entries", body=stmt, headers={"Content-Type": "application/cose"})
        r = self.conn.getresponse()
        body = r.read()
        if r.status != 201:
            raise RuntimeError("registration answered %d" % r.status)
        proof = cbor2.loads(cbor2.loads(body).value[1][396][-1][0])
        return proof[1]

    def close(self):
        self.conn.close()


class Events:
    """A raw /events reader: parses the SSE stream into events."""

    def __init__(self, port, query="", last_id=None, rcvbuf=None):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.connect(("127.0.0.1", port))
        hdr = "GET /events%s HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n" % query
        if last_id is not None:
            hdr += "Last-Event-ID: %s\r\n" % last_id
        self.sock.sendall((hdr + "\r\n").encode())
        self.buf = b""
        self.head = None
        self.eof = False

    def _fill(self, timeout):
        self.sock.settimeout(timeout)
        try:
            d = self.sock.recv(65536)
        except socket.timeout:
            return False
        except ConnectionResetError:
            d = b""
        if not d:
            self.eof = True
            return False
        self.buf += d
        return True

    def read_head(self, timeout=10):
        end = time.time() + timeout
        while b"\r\n\r\n" not in self.buf and time.time() < end and not self.eof:
            self._fill(0.5)
        if b"\r\n\r\n" not in self.buf:
            raise RuntimeError("no response head")
        self.head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        return self.head.decode()

    def events(self, want, timeout=20, kind="entry"):
        """Reads until @p want events of @p kind arrived (or the timeout); returns them all."""
        out = []
        end = time.time() + timeout
        while time.time() < end:
            while b"\n\n" in self.buf:
                block, self.buf = self.buf.split(b"\n\n", 1)
                ev = {"event": "message", "id": None, "data": ""}
                for line in block.decode().split("\n"):
                    if line.startswith(":") or not line:
                        continue
                    k, _, v = line.partition(":")
                    ev[k] = v[1:] if v.startswith(" ") else v
                if ev["data"] or ev["event"] != "message":
                    out.append(ev)
            if sum(1 for e in out if e["event"] == kind) >= want:
                break
            if self.eof:
                break
            self._fill(min(0.5, max(0.01, end - time.time())))
        return out

    def close(self):
        self.sock.close()


def entries(evs):
    return [json.loads(e["data"]) for e in evs if e["event"] == "entry"]


def case_events_stream(tmp):
    srv = Scittd(tmp)
    reg = Registrar(srv.port)
    sg = PySigner()
    try:
        watch = Events(srv.port, "?sub=watched")
        head = watch.read_head()
        ok(" 200 " in head.split("\r\n")[0] and "text/event-stream" in head and
           "Content-Length" not in head, "GET /events answers a stream", head)
        everything = Events(srv.port)
        everything.read_head()
        time.sleep(0.3)
        want = []
        for i in range(3):
            want.append(reg.register(sg.statement("https://ci.example", "watched", b'{"i":%d}' % i)))
            reg.register(sg.statement("https://ci.example", "other", b'{"o":%d}' % i))
        evs = watch.events(3)
        got = entries(evs)
        ok([e["index"] for e in got] == want, "the subscriber to sub=watched gets exactly its entries",
           got)
        ok([e["id"] for e in evs if e["event"] == "entry"] == [str(i) for i in want],
           "event ids are the entry indexes")
        ok(got and got[0]["sub"] == "watched" and got[0]["iss"] == "https://ci.example" and
           got[0]["content_type"] == "application/json" and
           got[0]["digest"] == hashlib.sha256(b'{"i":0}').hexdigest() and
           re.fullmatch("[0-9a-f]{64}", got[0]["entry_id"]) and got[0]["registered"] > 1.7e9,
           "an event carries index, entry_id, iss, sub, content type, digest and time", got[:1])
        allev = everything.events(6)
        ok([e["index"] for e in entries(allev)] == list(range(1, 7)),
           "an unfiltered subscriber gets every new entry", allev)
        more = everything.events(1, timeout=3, kind="checkpoint")
        ok(any(e["event"] == "checkpoint" for e in allev + more), "checkpoint events announce new sizes")
        watch.close()
        # resume: Last-Event-ID = the first watched index -> the two after it, nothing else
        r = Events(srv.port, "?sub=watched", last_id=want[0])
        r.read_head()
        got = entries(r.events(2, timeout=10))
        ok([e["index"] for e in got] == want[1:], "Last-Event-ID resumes after that entry", got)
        ok(entries(r.events(1, timeout=1)) == [], "and repeats nothing")
        r.close()
        r = Events(srv.port, "?from=0&digest=sha256:" + hashlib.sha256(b'{"o":1}').hexdigest())
        r.read_head()
        got = entries(r.events(1, timeout=10))
        ok(len(got) == 1 and got[0]["sub"] == "other", "?from=0 replays the log; digest filter with sha256:",
           got)
        r.close()
        for q, hdr in (("", "Last-Event-ID: -1"), ("?from=x", None), ("?digest=zz", None)):
            c = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)
            c.request("GET", "/events" + q, headers=dict([hdr.split(": ")]) if hdr else {})
            resp = c.getresponse()
            ok(resp.status == 400 and "concise-problem" in resp.getheader("Content-Type", ""),
               "400 with problem details for %s" % (q or hdr))
            c.close()
        everything.close()
    finally:
        reg.close()
        srv.stop()


def case_events_slow_reader(tmp):
    """A subscriber that never reads is dropped once its bounded buffer is full; the others
    get everything, and the server's memory stays bounded."""
    srv = Scittd(tmp)
    reg = Registrar(srv.port)
    sg = PySigner()
    try:
        slow = Events(srv.port, rcvbuf=4096)
        slow.read_head()
        fast = Events(srv.port)
        fast.read_head()
        time.sleep(0.3)
        n = 2500
        sub = "s" * 1000  # about 1.2 kB per event: 3 MB in all
        got = []
        for i in range(n):
            reg.register(sg.statement("https://ci.example", sub, b'{"i":%d}' % i))
            if i % 200 == 0:
                got += entries(fast.events(10**9, timeout=0.01))
        got += entries(fast.events(n - len(got), timeout=30))
        ok(len(got) == n and [e["index"] for e in got] == list(range(1, n + 1)),
           "the reading subscriber got all %d entries in order" % n, len(got))
        with open(os.path.join(tmp, "scittd.log")) as f:
            log = f.read()
        ok("event=events_drop" in log and "reason=slow_reader" in log,
           "the subscriber that does not read is dropped (logged)")
        # what the slow socket can still read ends with the connection closed
        end = time.time() + 30
        while not slow.eof and time.time() < end:
            slow._fill(1)
            slow.buf = b""
        ok(slow.eof, "its connection is closed")
        status = open("/proc/%d/status" % srv.proc.pid).read()
        rss = int(re.search(r"VmRSS:\s+(\d+)", status).group(1))
        # AddressSanitizer's shadow memory and quarantine (256 MiB) dwarf what is measured here
        asan = b"__asan_init" in open(tx.SCITTD, "rb").read()
        limit = (600 if asan else 200) * 1024
        ok(rss < limit, "scittd's resident memory stays bounded (%d kB < %d kB)" % (rss, limit))
        slow.close()
        fast.close()
    finally:
        reg.close()
        srv.stop()


def case_events_closed_reader(tmp):
    """A subscriber that closes its connection gives its slot back at once, not at the stream's
    next write (a heartbeat, 15 s away, for a filter nothing matches): 1,024 streams (the bound;
    one more gets 503) are closed, and 1,024 new ones are all admitted right after."""
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 4096:
        ok(False, "this case needs 4,096 file descriptors (hard limit %d)" % hard)
        return
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 4096), hard))
    srv = Scittd(tmp, "--max-conns-per-ip", "3000")  # scittd inherits the raised limit

    def open_all(n):
        subs = []
        for _ in range(n):
            e = Events(srv.port, "?sub=nobody")
            subs.append(e)
        heads = [e.read_head().split("\r\n")[0] for e in subs]
        return subs, heads

    try:
        first, heads = open_all(1024)
        ok(all(" 200 " in h for h in heads), "1,024 subscribers admitted",
           [h for h in heads if " 200 " not in h][:3])
        extra = Events(srv.port, "?sub=nobody")
        h = extra.read_head()
        ok(" 503 " in h.split("\r\n")[0], "the 1,025th is refused (503)", h)
        extra.close()
        for e in first:
            e.close()
        time.sleep(1.0)
        second, heads = open_all(1024)
        refused = [h for h in heads if " 200 " not in h]
        ok(not refused, "1,024 new subscribers admitted 1 s after the first closed (%d refused)"
           % len(refused), refused[:3])
        for e in second:
            e.close()
    finally:
        srv.stop()


class Monitor:
    def __init__(self, tmp, url, *args):
        self.out = open(os.path.join(tmp, "monitor.out"), "ab")
        self.err = open(os.path.join(tmp, "monitor.err"), "ab")
        self.proc = subprocess.Popen([SCITT, "monitor", "--url", url, "--state",
                                      os.path.join(tmp, "mstate"), "--interval", "0.2", *args],
                                     stdout=self.out, stderr=self.err)

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.out.close()
        self.err.close()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.out.close()
        self.err.close()
        return self.proc.returncode


def lines(tmp):
    with open(os.path.join(tmp, "monitor.out")) as f:
        return [json.loads(l) for l in f if l.strip()]


def wait_lines(tmp, n, timeout=30):
    end = time.time() + timeout
    while time.time() < end:
        got = lines(tmp)
        if len(got) >= n:
            time.sleep(0.5)  # anything extra (a repeat) would show now
            return lines(tmp)
        time.sleep(0.1)
    return lines(tmp)


def case_monitor_restart(tmp):
    srv = Scittd(tmp)
    sg = PySigner()
    want = []
    mon = None
    try:
        reg = Registrar(srv.port)
        for i in range(2):
            want.append(reg.register(sg.statement("https://ci.example", "watched", b'{"a":%d}' % i)))
            reg.register(sg.statement("https://ci.example", "other", b'{"b":%d}' % i))
        mon = Monitor(tmp, srv.url, "--sub", "watched", "--json")
        got = wait_lines(tmp, 2)
        ok([g["index"] for g in got] == want, "the monitor reports the existing statements", got)
        # the monitor is killed; statements arrive meanwhile
        mon.kill()
        want.append(reg.register(sg.statement("https://ci.example", "watched", b'{"a":9}')))
        mon = Monitor(tmp, srv.url, "--sub", "watched", "--json")
        got = wait_lines(tmp, 3)
        ok([g["index"] for g in got] == want, "after its restart: the new one, nothing repeated", got)
        # the server restarts (same port, same data); the monitor keeps going
        reg.close()
        port = srv.port
        srv.stop()
        time.sleep(1)
        srv = Scittd(tmp, port=port)
        reg = Registrar(srv.port)
        for i in range(3):
            want.append(reg.register(sg.statement("https://ci.example", "watched", b'{"c":%d}' % i)))
            reg.register(sg.statement("https://ci.example", "other", b'{"d":%d}' % i))
        reg.close()
        got = wait_lines(tmp, 6)
        ok([g["index"] for g in got] == want,
           "across a server restart: exactly the registrations for the subject", got)
        ok(all(g["sub"] == "watched" and re.fullmatch("[0-9a-f]{64}", g["entry_id"]) for g in got),
           "each report is a JSON line with the entry")
        rc = mon.stop()
        mon = None
        ok(rc == 0, "SIGTERM stops the monitor with status 0", rc)
        # --exec: the entry in the environment
        out = os.path.join(tmp, "exec.out")
        r = subprocess.run([SCITT, "monitor", "--url", srv.url, "--state", os.path.join(tmp, "m2"),
                            "--sub", "watched", "--once", "--exec",
                            'echo "$SCITT_ENTRY_INDEX $SCITT_SUB $SCITT_ENTRY_ID" >> ' + out],
                           capture_output=True, timeout=60)
        rows = open(out).read().split("\n") if os.path.exists(out) else []
        ok(r.returncode == 0 and [int(x.split()[0]) for x in rows if x] == want and
           all(x.split()[1] == "watched" for x in rows if x), "--exec runs CMD with the entry in its environment",
           (r.returncode, r.stderr, rows))
        r = subprocess.run([SCITT, "monitor", "--url", srv.url, "--state", os.path.join(tmp, "m3"),
                            "--sub", "watched", "--once", "--exec", "exit 3"],
                           capture_output=True, timeout=60)
        ok(r.returncode == 2 and b"--exec failed" in r.stderr, "a failing --exec stops it (exit 2)",
           (r.returncode, r.stderr))
    finally:
        if mon:
            mon.stop()
        srv.stop()


def case_monitor_fork(tmp):
    """The data directory copied and diverged: the monitor alarms."""
    srv = Scittd(tmp)
    sg = PySigner()
    mon = None
    try:
        reg = Registrar(srv.port)
        reg.register(sg.statement("https://ci.example", "watched", b'{"a":1}'))
        reg.close()
        port = srv.port
        srv.stop()
        # cp keeps the LMDB files sparse (their map sizes are far larger than their data)
        subprocess.run(["cp", "-a", "--sparse=always", os.path.join(tmp, "data"),
                        os.path.join(tmp, "fork")], check=True, timeout=60)
        srv = Scittd(tmp, port=port)
        reg = Registrar(srv.port)
        reg.register(sg.statement("https://ci.example", "watched", b'{"a":2}'))
        reg.close()
        mon = Monitor(tmp, srv.url, "--sub", "watched", "--json")
        got = wait_lines(tmp, 2)
        ok(len(got) == 2, "the monitor follows the original log", got)
        # the copy diverges: another statement at the same index, then one more
        srv.stop()
        srv = Scittd(tmp, port=port, data="fork")
        reg = Registrar(srv.port)
        reg.register(sg.statement("https://evil.example", "watched", b'{"a":"forked"}'))
        reg.register(sg.statement("https://evil.example", "watched", b'{"a":"more"}'))
        reg.close()
        try:
            mon.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
        rc = mon.stop()
        mon = None
        err = open(os.path.join(tmp, "monitor.err")).read()
        ok(rc == 1 and "ALARM" in err, "the forked log makes the monitor alarm (exit 1)", (rc, err))
        got = lines(tmp)
        ok(any("alarm" in g for g in got) and not any(g.get("iss") == "https://evil.example" for g in got),
           "an alarm line, and nothing from the fork reported", got)
    finally:
        if mon:
            mon.stop()
        srv.stop()


CASES = {"events_stream": case_events_stream, "events_slow_reader": case_events_slow_reader,
         "events_closed_reader": case_events_closed_reader,
         "monitor_restart": case_monitor_restart, "monitor_fork": case_monitor_fork}


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in CASES:
        print("usage: test_events.py " + "|".join(CASES))
        return 2
    tmp = tempfile.mkdtemp(prefix="scitt-events.")
    try:
        CASES[sys.argv[1]](tmp)
    except (RuntimeError, OSError) as e:
        ok(False, "the case ran to its end", repr(e))
    finally:
        if tx.fails:
            for name in ("scittd.log", "monitor.err"):
                p = os.path.join(tmp, name)
                if os.path.exists(p):
                    print("--- " + name)
                    print(open(p, errors="replace").read()[-3000:])
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d checks, %d failed" % (tx.checks, tx.fails))
    return 1 if tx.fails or tx.checks == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
