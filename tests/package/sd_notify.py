#!/usr/bin/env python3
"""scittd speaks the sd_notify protocol of Type=notify units: READY=1 only once every listener
accepts connections, STOPPING=1 when it starts to shut down. The test plays the service manager:
it binds the datagram socket named by NOTIFY_SOCKET and watches what arrives.

usage: sd_notify.py SCITTD"""
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

SCITTD = sys.argv[1]
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)


def manager(tmp, abstract=False):
    """The manager's end: a datagram socket and the NOTIFY_SOCKET value naming it."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    if abstract:
        name = "scittd-notify-test-%d-%d" % (os.getpid(), time.monotonic_ns())
        s.bind("\0" + name)
        return s, "@" + name
    path = os.path.join(tmp, "notify.sock")
    s.bind(path)
    return s, path


def receive(sock, timeout):
    sock.settimeout(timeout)
    try:
        return sock.recv(4096).decode()
    except socket.timeout:
        return None


def start(tmp, notify, listens):
    env = dict(os.environ, NOTIFY_SOCKET=notify)
    args = [SCITTD, "--data", os.path.join(tmp, "data"), "--platform", "virtual",
            "--insecure-virtual", "--print-ports", "--log-level", "warn"]
    for addr in listens:
        args += ["--listen", addr]
    return subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def healthz(port):
    c = socket.create_connection(("127.0.0.1", port), timeout=10)
    c.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    reply = b""
    while True:
        chunk = c.recv(4096)
        if not chunk:
            break
        reply += chunk
    c.close()
    return reply.split(b"\r\n", 1)[0].decode(errors="replace")


def ready_then_stopping(abstract):
    kind = "abstract socket" if abstract else "socket path"
    with tempfile.TemporaryDirectory() as tmp:
        sock, notify = manager(tmp, abstract)
        p = start(tmp, notify, ["127.0.0.1:0", "127.0.0.1:0"])
        msg = receive(sock, 60)
        check(msg is not None and "READY=1" in msg.split("\n"),
              "%s: READY=1 arrives (got %r)" % (kind, msg))
        # --print-ports is written before READY=1, so the line is there already.
        line = p.stdout.readline().strip()
        ports = [int(x) for x in line.split("=", 1)[1].split(",")] if "=" in line else []
        check(len(ports) == 2, "%s: two listeners (%r)" % (kind, line))
        for port in ports:
            status = healthz(port)
            check(status.startswith("HTTP/1.1 200"),
                  "%s: listener %d answers as soon as READY=1 came (%s)" % (kind, port, status))
        p.send_signal(signal.SIGTERM)
        msg = receive(sock, 30)
        check(msg is not None and "STOPPING=1" in msg.split("\n"),
              "%s: STOPPING=1 arrives on SIGTERM (got %r)" % (kind, msg))
        rc = p.wait(timeout=60)
        check(rc == 0, "%s: scittd exits 0 after STOPPING=1 (rc=%d)" % (kind, rc))
        check(receive(sock, 0.5) is None, "%s: nothing else is sent" % kind)
        sock.close()


def no_ready_when_a_listener_fails():
    """The second listener's port is taken: scittd must fail without ever saying READY=1."""
    with tempfile.TemporaryDirectory() as tmp:
        sock, notify = manager(tmp)
        taken = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        p = start(tmp, notify, ["127.0.0.1:0", "127.0.0.1:%d" % port])
        _, err = p.communicate(timeout=60)
        check(p.returncode != 0, "port in use: scittd fails (rc=%d)" % p.returncode)
        msg = receive(sock, 1)
        check(msg is None, "port in use: no READY=1 is sent (got %r)" % msg)
        taken.close()
        sock.close()


def unreachable_manager_is_not_fatal():
    """A NOTIFY_SOCKET nobody listens on: scittd logs it and serves anyway."""
    with tempfile.TemporaryDirectory() as tmp:
        p = start(tmp, os.path.join(tmp, "nobody.sock"), ["127.0.0.1:0"])
        line = p.stdout.readline().strip()
        check(line.startswith("READY port="), "unreachable manager: scittd starts (%r)" % line)
        if line.startswith("READY port="):
            status = healthz(int(line.split("=", 1)[1]))
            check(status.startswith("HTTP/1.1 200"), "unreachable manager: it serves (%s)" % status)
        p.send_signal(signal.SIGTERM)
        _, err = p.communicate(timeout=60)
        check("event=notify" in err and "nobody.sock" in err,
              "unreachable manager: the failure is logged (event=notify)")
        check(p.returncode == 0, "unreachable manager: clean exit (rc=%d)" % p.returncode)


ready_then_stopping(abstract=False)
ready_then_stopping(abstract=True)
no_ready_when_a_listener_fails()
unreachable_manager_is_not_fatal()
print("%d failed" % len(failures))
sys.exit(1 if failures else 0)
