"""The scaffold the witness tests share: checks counted, commands run, daemons started on free
loopback ports (their port read from their log), HTTP reads, and the main wrapper that stops
every process started and prints the logs of a failed run.

    import harness as h
    h.check(cond, "what"); p, port = h.start(cmd, log, "event=listening"); h.main("prefix-", body)
    h.sign(SCITT, tmp, "name") signs a statement; h.free_port() a loopback port nobody listens on
"""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

checks = 0
failures = 0
procs = []


def check(cond, what):
    global checks, failures
    checks += 1
    if not cond:
        failures += 1
        print("FAIL:", what, flush=True)
    return cond


def run(*args, cwd=None, timeout=300):
    return subprocess.run(list(args), cwd=cwd, capture_output=True, text=True, timeout=timeout)


def start(cmd, log_path, marker="event=listening"):
    """Starts @cmd with stderr appended to @log_path; waits for @marker followed by port=N in
    what it writes from now on. Returns (process, port)."""
    log = open(log_path, "a+")
    at = log.tell()
    p = subprocess.Popen(cmd, stderr=log, stdout=subprocess.DEVNULL)
    procs.append(p)
    for _ in range(600):
        log.seek(at)
        text = log.read()
        if marker in text and "port=" in text.split(marker, 1)[1]:
            return p, int(text.split(marker, 1)[1].split("port=")[1].split()[0])
        if p.poll() is not None:
            break
        time.sleep(0.05)
    log.seek(0)
    raise SystemExit("did not start: %s\n%s" % (cmd, log.read()[-3000:]))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def sign(scitt, tmp, name, payload=None):
    """Signs a JSON statement with the CI key `scitt keygen --out ci` made in @tmp: subject @name,
    payload @payload (else {"artifact": name}), written to tmp/<name>.stmt. The finished run."""
    path = os.path.join(tmp, name + ".json")
    with open(path, "w") as f:
        f.write(payload if payload is not None else '{"artifact": "%s"}' % name)
    return run(scitt, "sign", "--key", "ci.key", "--cert", "ci.crt", "--iss",
               "https://ci.example/app", "--sub", name, "--payload", path, "--content-type",
               "application/json", "--out", name + ".stmt", cwd=tmp)


def stop(p, sig=signal.SIGTERM):
    p.send_signal(sig)
    p.wait(60)


def get(url, path, data=None, timeout=30):
    """GET (or POST @data) url+path: (status, body bytes)."""
    try:
        with urllib.request.urlopen(url + path, data=data, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def main(prefix, body, tail=2000):
    """Runs body(tmp) in a fresh temporary folder; 0 when at least one check ran and none failed."""
    tmp = tempfile.mkdtemp(prefix=prefix)
    try:
        body(tmp)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        if failures:
            for f in sorted(os.listdir(tmp)):
                if f.endswith(".log"):
                    print("--- %s\n%s" % (f, open(os.path.join(tmp, f)).read()[-tail:]))
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d checks, %d failures" % (checks, failures))
    return 1 if failures or checks == 0 else 0
