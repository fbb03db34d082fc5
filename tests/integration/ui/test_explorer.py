#!/usr/bin/env python3
"""test_explorer.py CASE: the explorer (/ui/) in a real headless chromium (cdp.py) against a real
scittd started here on 127.0.0.1 with a temporary data directory, and statements signed and
registered with the real scitt CLI. Attacker cases put a proxy (this file, loopback) between
the browser and scittd that tampers with what the page verifies; the page must say FAILED.

Environment: SCITT_BINARY_DIR (the build tree). Screenshots go to
$SCITT_BINARY_DIR/test-artifacts/ui/. Exit 0 = pass, 1 = fail (a missing chromium is a failure).
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import cbor2

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cdp import Browser, BrowserError  # noqa: E402

BIN = os.path.abspath(os.environ.get("SCITT_BINARY_DIR", "build"))
SCITTD = os.path.join(BIN, "server", "scittd")
SCITT = os.path.join(BIN, "tools", "scitt")
ART = os.path.join(BIN, "test-artifacts", "ui")

checks = 0
fails = 0


def ok(cond, what, detail=""):
    global checks, fails
    checks += 1
    if cond:
        print("ok: " + what)
    else:
        fails += 1
        print("FAIL: " + what + (": " + str(detail)[:2000] if detail != "" else ""))
    return cond


class Scittd:
    def __init__(self, tmp, *extra, port=0, data="data"):
        self.data = os.path.join(tmp, data)
        self.log = open(os.path.join(tmp, "scittd.log"), "ab")
        self.proc = subprocess.Popen(
            [SCITTD, "--data", self.data, "--listen", "127.0.0.1:%d" % port, "--platform", "virtual",
             "--insecure-virtual", "--print-ports", *extra],
            stdout=subprocess.PIPE, stderr=self.log)
        line = self.proc.stdout.readline().decode()
        m = re.match(r"READY port=(\d+)", line)
        if not m:
            self.stop()
            raise RuntimeError("scittd did not start: " + line)
        self.port = int(m.group(1))
        self.url = "http://127.0.0.1:" + m.group(1)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


class Signer:
    """Signs statements with the scitt CLI (an ES256 key with a self-signed certificate)."""

    def __init__(self, tmp):
        self.tmp = tmp
        self.n = 0
        self.run(SCITT, "keygen", "--out", "ci", "--self-signed-cert", "--subject", "CI signer")

    def run(self, *args):
        r = subprocess.run(args, cwd=self.tmp, capture_output=True, timeout=60)
        if r.returncode != 0:
            raise RuntimeError("%s: %s %s" % (" ".join(args), r.stdout, r.stderr))
        return r.stdout.decode()

    def register(self, url, iss, sub, payload, ctype="application/json"):
        self.n += 1
        name = "s%d" % self.n
        with open(os.path.join(self.tmp, name + ".json"), "wb") as f:
            f.write(payload)
        out = self.run(SCITT, "sign", "--key", "ci.key", "--cert", "ci.crt", "--iss", iss,
                       "--sub", sub, "--payload", name + ".json", "--content-type", ctype,
                       "--out", name + ".stmt", "--json")
        entry_id = json.loads(out)["entry_id"]
        self.run(SCITT, "register", "--url", url, name + ".stmt", "--out", name + ".ts")
        return entry_id


class Proxy:
    """A loopback HTTP proxy to scittd that applies self.mode to some responses."""

    def __init__(self, upstream):
        self.upstream = upstream
        self.mode = None
        proxy = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_GET(self):
                req = urllib.request.Request(proxy.upstream + self.path,
                                             headers={k: v for k, v in self.headers.items()
                                                      if k.lower() in ("accept", "last-event-id")})
                try:
                    with urllib.request.urlopen(req, timeout=30) as r:
                        status, headers, body = r.status, r.headers, r.read()
                except urllib.error.HTTPError as e:
                    status, headers, body = e.code, e.headers, e.read()
                body = proxy.tamper(self.path, body)
                self.send_response(status)
                for k, v in headers.items():
                    if k.lower() not in ("content-length", "connection", "date", "server"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.srv.daemon_threads = True
        self.url = "http://127.0.0.1:%d" % self.srv.server_address[1]
        self.thread = threading.Thread(target=self.srv.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.srv.shutdown()
        self.srv.server_close()

    def tamper(self, path, body):
        m = self.mode
        if m is None:
            return body
        if path.endswith("/statement") and m in ("proof", "receipt-sig", "payload", "size",
                                                  "no-receipt"):
            return tamper_statement(body, m)
        if path == "/jwks" and m == "key":
            return other_key(body)
        if path == "/checkpoint" and m == "fork":
            lines = body.decode().split("\n")
            root = bytearray(__import__("base64").b64decode(lines[2]))
            root[0] ^= 1
            lines[2] = __import__("base64").b64encode(bytes(root)).decode()
            return "\n".join(lines).encode()
        if m in SERVICE_MODES:
            return tamper_service(self, path, body, m)
        if path.startswith("/proofs/consistency") and m == "consistency":
            rec = cbor2.loads(body)
            un = rec.value[1]
            p = cbor2.loads(un[396][-2][0])
            p[2][0] = bytes([p[2][0][0] ^ 1]) + p[2][0][1:]
            un[396][-2][0] = cbor2.dumps(p)
            return cbor2.dumps(rec)
        return body


# ---- tampering with what the service page checks ----

SERVICE_MODES = ("note-sig", "note-key", "cosig", "drop-cosig", "witness-set", "policy-sig",
                 "policy-entry", "identity", "identity-key")


def b64(b):
    import base64
    return base64.b64encode(b).decode()


def unb64(s):
    import base64
    return base64.b64decode(s)


def note_parts(body):
    text = body.decode()
    at = text.index("\n\n")
    return text[:at + 1], [ln for ln in text[at + 2:].split("\n") if ln]


def note_join(text, sigs):
    return (text + "\n" + "".join(ln + "\n" for ln in sigs)).encode()


def flip_sig_line(line, at=-5):
    dash, name, blob = line.split(" ")
    raw = bytearray(unb64(blob))
    raw[at] ^= 1
    return " ".join([dash, name, b64(bytes(raw))])


def attacker_vkey(proxy, origin):
    """An Ed25519 note key of the attacker's (C2SP vkey, same name), made once per proxy."""
    import hashlib
    from cryptography.hazmat.primitives.asymmetric import ed25519
    from cryptography.hazmat.primitives import serialization
    if getattr(proxy, "evil", None) is None:
        k = ed25519.Ed25519PrivateKey.generate()
        pub = k.public_key().public_bytes(serialization.Encoding.Raw,
                                          serialization.PublicFormat.Raw)
        kid = hashlib.sha256(origin.encode() + b"\n\x01" + pub).digest()[:4]
        proxy.evil = (k, kid, "%s+%s+%s" % (origin, kid.hex(), b64(b"\x01" + pub)))
    return proxy.evil


def tamper_service(proxy, path, body, m):
    origin = proxy.origin
    if path in ("/checkpoint", "/checkpoint/latest") and m in ("note-sig", "note-key", "cosig",
                                                               "drop-cosig"):
        text, sigs = note_parts(body)
        logline = [ln for ln in sigs if ln.split(" ")[1] == origin]
        cosigs = [ln for ln in sigs if ln.split(" ")[1] != origin]
        if m == "note-sig":
            logline = [flip_sig_line(logline[0])]
        elif m == "note-key":  # the attacker's own key signs, and /.well-known names it
            k, kid, _ = attacker_vkey(proxy, origin)
            logline = ["\u2014 %s %s" % (origin, b64(kid + k.sign(text.encode())))]
        elif m == "cosig":
            cosigs[0] = flip_sig_line(cosigs[0])
        elif m == "drop-cosig":
            cosigs = cosigs[1:]
        return note_join(text, logline + cosigs)
    if path == "/.well-known/transparency-configuration" and m in ("note-key", "policy-entry"):
        c = cbor2.loads(body)
        if m == "note-key":
            c["checkpoint_vkey"] = attacker_vkey(proxy, origin)[2]
        else:
            c["policy_entry"] = 0
        return cbor2.dumps(c)
    if path == "/witnesses" and m == "witness-set":
        j = json.loads(body)
        j["witnesses"] = j["witnesses"][:1]  # a service that drops a witness and the quorum
        j["policy"] = None
        return json.dumps(j).encode()
    if path.endswith("/statement") and m == "policy-sig" and path.split("/")[2] in proxy.policy_ids:
        st = cbor2.loads(body)
        prot, unprot, payload, sig = st.value
        return cbor2.dumps(cbor2.CBORTag(18, [prot, unprot, payload, flip(sig, 7)]))
    if path == "/attestation" and m in ("identity", "identity-key"):
        import hashlib
        b = cbor2.loads(body)
        ident = cbor2.loads(b["identity"])
        if m == "identity":  # another issuer, the evidence left as it is
            ident[3] = "https://attacker.example"
            b["identity"] = cbor2.dumps(ident)
        else:  # another receipt key, and (unsigned virtual evidence) a matching binding
            from cryptography.hazmat.primitives.asymmetric import ec
            nums = ec.generate_private_key(ec.SECP256R1()).public_key().public_numbers()
            key = dict(ident[1])
            key[-2], key[-3] = nums.x.to_bytes(32, "big"), nums.y.to_bytes(32, "big")
            ident[1] = key
            b["identity"] = cbor2.dumps(ident)
            ev = cbor2.loads(b["evidence"])
            ev["report_data"] = hashlib.sha256(b["identity"]).digest() + ev["report_data"][32:]
            b["evidence"] = cbor2.dumps(ev)
        return cbor2.dumps(b)
    return body


def flip(b, i=0):
    return b[:i] + bytes([b[i] ^ 1]) + b[i + 1:]


def tamper_statement(body, mode):
    st = cbor2.loads(body)
    prot, unprot, payload, sig = st.value
    if mode == "payload":
        return cbor2.dumps(cbor2.CBORTag(18, [prot, unprot, flip(payload, len(payload) - 2), sig]))
    if mode == "no-receipt":
        return cbor2.dumps(cbor2.CBORTag(18, [prot, {}, payload, sig]))
    rec = cbor2.loads(unprot[394][0])
    rprot, runprot, rpayload, rsig = rec.value
    if mode == "receipt-sig":
        rsig = flip(rsig, 5)
    else:
        proof = cbor2.loads(runprot[396][-1][0])
        if mode == "proof":
            proof[2][0] = flip(proof[2][0], 3)
        elif mode == "size":
            proof[0] += 1  # another tree size than the one signed
        runprot[396][-1][0] = cbor2.dumps(proof)
    unprot[394][0] = cbor2.dumps(cbor2.CBORTag(18, [rprot, runprot, rpayload, rsig]))
    return cbor2.dumps(cbor2.CBORTag(18, [prot, unprot, payload, sig]))


def other_key(body):
    """The same kid, another P-256 key: what a compromised or impersonating server would serve."""
    from cryptography.hazmat.primitives.asymmetric import ec
    import base64
    j = json.loads(body)
    nums = ec.generate_private_key(ec.SECP256R1()).public_key().public_numbers()
    b64 = lambda n: base64.urlsafe_b64encode(n.to_bytes(32, "big")).rstrip(b"=").decode()
    for k in j["keys"]:
        if k.get("kty") == "EC":
            k["x"], k["y"] = b64(nums.x), b64(nums.y)
    return json.dumps(j).encode()


def page(b, url, timeout=30):
    # through about:blank, so that every page is a fresh load (not a same-document hash change)
    b.navigate("about:blank")
    b.wait_for("location.href === 'about:blank'")
    b.navigate(url)
    b.wait_for("document.body && document.body.dataset.state === 'done'", timeout)
    return b.eval("document.getElementById('main').innerText")


def verdict(b):
    return b.eval("document.body.dataset.verdict || ''")


def shot(b, name):
    os.makedirs(ART, exist_ok=True)
    b.screenshot(os.path.join(ART, name + ".png"))


def setup(tmp, *extra):
    srv = Scittd(tmp, *extra)
    signer = Signer(tmp)
    return srv, signer


# ---- cases ----

def case_pages(tmp):
    srv, signer = setup(tmp)
    b = Browser()
    try:
        ids = [signer.register(srv.url, "https://ci.example/app", "app",
                               json.dumps({"name": "app", "version": "1.%d" % i}).encode())
               for i in range(5)]
        other = signer.register(srv.url, "https://other.example", "lib", b'{"name":"lib"}')
        with urllib.request.urlopen(srv.url + "/ui/") as r:
            csp = r.headers.get("Content-Security-Policy", "")
            ok("script-src 'self'" in csp and "default-src 'none'" in csp and
               "unsafe-inline" not in csp, "/ui/ has a strict CSP", csp)
            ok(r.headers.get("X-Frame-Options") == "DENY", "/ui/ refuses framing")
            html = r.read().decode()
            ok("<script>" not in html and " style=" not in html and "http" not in
               html.replace("http-equiv", ""), "no inline script or style, no other origin")
        b.open_page()
        text = page(b, srv.url + "/ui/#/log")
        ok("Tree size\t7" in text, "log page shows the tree size", text)
        shot(b, "log")
        text = page(b, srv.url + "/ui/#/entry/" + ids[2])
        ok(verdict(b) == "ok", "entry page verifies a good entry in the browser", text)
        ok("https://ci.example/app" in text and "CI signer" in text and '"version": "1.2"' in text,
           "entry page shows iss, the x5chain subject and the JSON payload", text)
        ok("matches the pin" in text or "pinned now" in text, "the receipt key is pinned", text)
        n = b.eval("document.querySelectorAll('ol.path li').length")
        ok(n and n >= 3, "the proof path is drawn up the tree (%s nodes)" % n)
        shot(b, "entry")
        text = page(b, srv.url + "/ui/#/entry/index/6")
        ok(verdict(b) == "ok" and other in text, "entry by index", text)
        text = page(b, srv.url + "/ui/#/search?iss=" + urllib.parse.quote("https://ci.example/app"))
        found = b.eval("[...document.querySelectorAll('#result-table a')].map(a => a.getAttribute('href'))")
        ok(found == ["#/entry/" + i for i in ids], "search by issuer finds what was registered", found)
        shot(b, "search")
        digest = __import__("hashlib").sha256(b'{"name":"lib"}').hexdigest()
        page(b, srv.url + "/ui/#/search?digest=sha256:" + digest)
        found = b.eval("[...document.querySelectorAll('#result-table a')].map(a => a.getAttribute('href'))")
        ok(found == ["#/entry/" + other], "search by payload digest with a sha256: prefix", found)
        page(b, srv.url + "/ui/#/search?sub=app&limit=2")
        ok(b.eval("document.querySelectorAll('#result-table tr').length") == 6,
           "search by subject (5 rows)")
        text = page(b, srv.url + "/ui/#/service")
        ok("pinned" in text and "ES256" in text, "service page lists the pinned keys", text)
        shot(b, "service")
        # the form: keyboard-reachable fields with labels, deep link of the result
        page(b, srv.url + "/ui/#/search")
        labelled = b.eval("[...document.querySelectorAll('input')].every(i => i.labels && i.labels.length === 1)")
        ok(labelled, "every input has a label")
        b.eval("document.getElementById('q-sub').value = 'lib'; "
               "document.getElementById('search-form').requestSubmit(); true")
        b.wait_for("location.hash === '#/search?sub=lib' && document.body.dataset.state === 'done'")
        ok(b.eval("document.querySelectorAll('#result-table tr').length") == 2,
           "submitting the form deep-links the query")
        # phone width: nothing wider than the screen
        b.send("Emulation.setDeviceMetricsOverride", {"width": 375, "height": 800,
                                                      "deviceScaleFactor": 1, "mobile": True})
        page(b, srv.url + "/ui/#/entry/" + ids[0])
        ok(b.eval("document.documentElement.scrollWidth <= window.innerWidth"),
           "the entry page fits a phone width",
           b.eval("[document.documentElement.scrollWidth, window.innerWidth]"))
        shot(b, "entry-phone")
        ok(b.problems() == [], "no console errors, exceptions or CSP violations", b.problems())
    finally:
        b.close()
        srv.stop()


def case_tampered(tmp):
    srv, signer = setup(tmp)
    proxy = Proxy(srv.url)
    b = Browser()
    try:
        ids = [signer.register(srv.url, "https://ci.example/app", "app", b'{"n":%d}' % i)
               for i in range(6)]
        b.open_page()
        text = page(b, proxy.url + "/ui/#/entry/" + ids[3])
        ok(verdict(b) == "ok", "through the honest proxy the entry verifies (control)", text)
        want = {
            "proof": "signature does not verify",
            "receipt-sig": "signature does not verify",
            "payload": "hashes to entry ID",
            "size": "signature is for",
            "no-receipt": "no receipt",
            "key": "but this browser pinned",
        }
        for mode, msg in want.items():
            proxy.mode = mode
            text = page(b, proxy.url + "/ui/#/entry/" + ids[3])
            ok(verdict(b) == "failed" and "VERIFICATION FAILED" in text and msg in text,
               "a tampered %s is shown as failed" % mode, text)
            if mode == "proof":
                shot(b, "entry-tampered")
        # a key swap is caught by the pin; in a fresh browser (no pin) the substituted key does
        # not verify the real signature either
        b.close()
        b = Browser()
        b.open_page()
        proxy.mode = "key"
        text = page(b, proxy.url + "/ui/#/entry/" + ids[3])
        ok(verdict(b) == "failed" and "signature does not verify" in text,
           "another key under the same kid fails in a fresh browser", text)
        proxy.mode = None
    finally:
        b.close()
        proxy.stop()
        srv.stop()


def case_consistency(tmp):
    srv, signer = setup(tmp)
    proxy = Proxy(srv.url)
    b = Browser()
    try:
        signer.register(srv.url, "https://ci.example/app", "app", b'{"n":1}')
        b.open_page()
        page(b, proxy.url + "/ui/#/log")
        ok(verdict(b) == "warn", "first visit remembers the checkpoint")
        for i in range(3):
            signer.register(srv.url, "https://ci.example/app", "app", b'{"n":%d}' % (i + 2))
        text = page(b, proxy.url + "/ui/#/log")
        ok(verdict(b) == "ok" and "grew from size 2 to 5" in text,
           "the log page verifies consistency with the checkpoint seen last", text)
        signer.register(srv.url, "https://ci.example/app", "app", b'{"n":9}')
        proxy.mode = "consistency"
        text = page(b, proxy.url + "/ui/#/log")
        ok(verdict(b) == "failed", "a tampered consistency proof is shown as failed", text)
        shot(b, "log-failed")
        proxy.mode = "fork"
        text = page(b, proxy.url + "/ui/#/log")
        ok(verdict(b) == "failed", "a checkpoint with another root (fork) is shown as failed", text)
        proxy.mode = None
        text = page(b, proxy.url + "/ui/#/log")
        ok(verdict(b) == "ok", "the honest log verifies again from the remembered state", text)
        # this browser saw another tree at the same size (the service showed it a fork then):
        # an honest proof from the service's own old root must not pass for the remembered one
        signer.register(srv.url, "https://ci.example/app", "app", b'{"n":10}')
        b.eval("(() => { const s = JSON.parse(localStorage.getItem('scittd.checkpoint'));"
               " s.root = (s.root[0] === '0' ? '1' : '0') + s.root.slice(1);"
               " localStorage.setItem('scittd.checkpoint', JSON.stringify(s)); return 1; })()")
        text = page(b, proxy.url + "/ui/#/log")
        ok(verdict(b) == "failed" and "old root" in text,
           "a proof that does not start from the remembered root is shown as failed", text)
        ok(b.problems() == [] or all("404" in p for p in b.problems()), "no script errors",
           b.problems())
    finally:
        b.close()
        proxy.stop()
        srv.stop()


def case_hostile_text(tmp):
    """Statement fields are shown as text, never as markup."""
    srv, signer = setup(tmp)
    b = Browser()
    try:
        evil = '<img src=x id=injected onerror="document.title=1">'
        eid = signer.register(srv.url, "https://ci.example/app", evil,
                              ('{"x":"%s</pre><script>alert(1)</script>"}' % evil).encode())
        b.open_page()
        text = page(b, srv.url + "/ui/#/entry/" + eid)
        ok(verdict(b) == "ok", "the entry verifies", text)
        ok(b.eval("document.getElementById('injected') === null && "
                  "document.querySelectorAll('main script, main img').length === 0"),
           "sub and payload are not interpreted as markup")
        ok(evil in text, "they are shown as text")
        page(b, srv.url + "/ui/#/search?sub=" + urllib.parse.quote(evil))
        ok(b.eval("document.getElementById('injected') === null"), "search results too")
    finally:
        b.close()
        srv.stop()


def case_disabled(tmp):
    srv = Scittd(tmp, "--no-ui")
    try:
        try:
            urllib.request.urlopen(srv.url + "/ui/")
            ok(False, "--no-ui: /ui/ is not served")
        except urllib.error.HTTPError as e:
            ok(e.code == 404, "--no-ui: /ui/ is not served (404)", e.code)
        with urllib.request.urlopen(srv.url + "/checkpoint") as r:
            ok(r.status == 200, "--no-ui: the API is still served")
    finally:
        srv.stop()


class Witness:
    def __init__(self, tmp, name, log_vkey):
        d = os.path.join(tmp, "w-" + name)
        os.makedirs(d)
        key = os.path.join(d, "key")
        r = subprocess.run([SCITT, "witness", "keygen", "--name", name + ".test", "--out", key],
                           capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise RuntimeError("witness keygen: " + r.stderr)
        self.vkey = r.stdout.strip()
        self.log = open(os.path.join(tmp, "w-%s.log" % name), "w+")
        self.proc = subprocess.Popen([SCITT, "witness", "serve", "--key", key, "--state",
                                      os.path.join(d, "state"), "--log", log_vkey, "--listen",
                                      "127.0.0.1:0"], stdout=subprocess.DEVNULL, stderr=self.log)
        for _ in range(400):
            self.log.seek(0)
            t = self.log.read()
            m = re.search(r"event=listening.*?port=(\d+)", t)
            if m:
                self.url = "http://127.0.0.1:" + m.group(1)
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError("witness did not start: " + t)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(20)
        self.log.close()


def case_service(tmp):
    """The service page: checkpoint signature, witnesses (two, both required) and their
    cosignatures, the policy history (two policy statements: a change), the attestation binding;
    each tampered in turn through the proxy must be shown as failed."""
    first = Scittd(tmp, "--origin", "ui.test")
    cfg = cbor2.loads(urllib.request.urlopen(
        first.url + "/.well-known/transparency-configuration").read())
    first.stop()
    wits = [Witness(tmp, n, cfg["checkpoint_vkey"]) for n in ("wa", "wb")]
    pol = os.path.join(tmp, "witness.policy")
    with open(pol, "w") as f:
        f.write("log %s\n" % cfg["checkpoint_vkey"])
        for i, w in enumerate(wits):
            f.write("witness W%d %s %s\n" % (i, w.vkey, w.url))
        f.write("group both 2 W0 W1\nquorum both\n")
    # another registration policy than the first start's: a second policy statement (a change)
    rp = os.path.join(tmp, "policy.json")
    with open(rp, "w") as f:
        f.write('{"version": 1, "development": true, "clock_skew_seconds": 120,'
                ' "issuers": [{"iss_prefix": "", "self_signed": true}]}')
    extra = ["--origin", "ui.test", "--policy", rp, "--witness-policy", pol]
    for w in wits:
        extra += ["--witness", "%s=%s" % (w.url, w.vkey)]
    srv = Scittd(tmp, *extra)
    signer = Signer(tmp)
    proxy = Proxy(srv.url)
    proxy.origin = "ui.test"
    b = Browser()
    try:
        signer.register(srv.url, "https://ci.example/app", "app", b'{"n":1}')
        deadline = time.time() + 30
        while True:
            try:
                with urllib.request.urlopen(srv.url + "/checkpoint") as r:
                    note = r.read().decode()
                if note.count("\u2014") == 3 and note.split("\n")[1] == "3":
                    break
            except urllib.error.HTTPError:
                pass
            if time.time() > deadline:
                raise RuntimeError("no witnessed checkpoint of size 3")
            time.sleep(0.2)
        q = json.loads(urllib.request.urlopen(urllib.request.Request(
            srv.url + "/query?sub=scittd/registration-policy",
            headers={"Accept": "application/json"})).read())
        proxy.policy_ids = [e["entry_id"] for e in q["entries"]]
        ok(len(proxy.policy_ids) == 2, "two policy statements in the log", q)
        b.open_page()
        text = page(b, proxy.url + "/ui/#/service")
        vs = b.eval("Object.fromEntries([...document.querySelectorAll('.verdict[data-verdict]')]"
                    ".map(x => [x.id, x.dataset.verdict]))")
        ok(vs.get("verdict-note") == "ok", "the checkpoint's note signature verifies", text)
        ok(vs.get("verdict-witness") == "ok" and "cosigned by W0, W1" in text,
           "both cosignatures verify and meet the policy", text)
        ok(vs.get("verdict-policy") == "ok" and "POLICY CHANGE" in text and
           b.eval("document.querySelectorAll('#policy-history tr.ok a').length") == 2,
           "the policy history: two statements verified, the second a change, linked", text)
        ok(vs.get("verdict-attest") == "warn" and "INSECURE" in text and
           "REPORT_DATA[0:32] = SHA-256(identity document)" in text,
           "the attestation binding is checked (virtual: INSECURE)", text)
        ok(verdict(b) == "warn", "page verdict: warn (the insecure platform)", vs)
        shot(b, "service")
        text = page(b, proxy.url + "/ui/#/log")
        ok(verdict(b) != "failed" and "signed by the log key" in text and "W0, W1" in text,
           "the log page checks the note signature and names the witnesses", text)
        want = {
            "note-sig": ("note", "signature by the log key ui.test does not verify"),
            "note-key": ("note", "is not the key this browser pinned"),
            "cosig": ("witness", "cosignature of witness W0 does not verify"),
            "drop-cosig": ("witness", "do not meet the policy's quorum"),
            "witness-set": ("witness", "changed since this browser pinned them"),
            "policy-sig": ("policy", "does not verify with the service key"),
            "policy-entry": ("policy", "the policy in force is entry 0"),
            "identity": ("attest", "does not bind the identity document"),
            "identity-key": ("attest", "is not one of the keys at /jwks"),
        }
        for mode, (sec, msg) in want.items():
            proxy.mode = mode
            text = page(b, proxy.url + "/ui/#/service")
            got = b.eval("(document.getElementById('verdict-%s') || {dataset: {}}).dataset.verdict"
                         % sec)
            box = b.eval("(document.getElementById('verdict-%s') || {}).innerText || ''" % sec)
            ok(got == "failed" and verdict(b) == "failed" and msg in box,
               "a tampered %s is shown as failed (%s)" % (mode, msg), box or text)
            if mode == "cosig":
                shot(b, "service-tampered")
        proxy.mode = "note-sig"
        text = page(b, proxy.url + "/ui/#/log")
        ok(verdict(b) == "failed" and "does not verify" in text,
           "the log page fails a tampered checkpoint signature", text)
        proxy.mode = None
        page(b, proxy.url + "/ui/#/service")
        ok(verdict(b) == "warn", "honest again: verified (warn: insecure platform)")
        ok(b.problems() == [], "no console errors, exceptions or CSP violations", b.problems())
    finally:
        b.close()
        proxy.stop()
        srv.stop()
        for w in wits:
            w.stop()


CASES = {"pages": case_pages, "service": case_service, "tampered": case_tampered, "consistency": case_consistency,
         "hostile_text": case_hostile_text, "disabled": case_disabled}


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in CASES:
        print("usage: test_explorer.py " + "|".join(CASES))
        return 2
    tmp = tempfile.mkdtemp(prefix="scitt-ui.")
    try:
        CASES[sys.argv[1]](tmp)
    except (BrowserError, RuntimeError) as e:
        ok(False, "the case ran to its end", e)
    finally:
        if fails:
            log = os.path.join(tmp, "scittd.log")
            if os.path.exists(log):
                print(open(log, errors="replace").read()[-3000:])
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d checks, %d failed" % (checks, fails))
    return 1 if fails or checks == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
