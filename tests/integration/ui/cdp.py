"""cdp.py: drives Debian's headless chromium over the DevTools protocol on a pipe
(--remote-debugging-pipe: commands on fd 3, answers and events on fd 4, each message JSON ended
by a NUL byte). No websocket, no third-party module. Used by test_explorer.py."""
import json
import os
import shutil
import subprocess
import tempfile
import time


class BrowserError(Exception):
    pass


def find_chromium():
    for name in ("chromium", "chromium-browser"):
        p = shutil.which(name)
        if p:
            return p
    return None


class Browser:
    def __init__(self, width=1280, height=900, user_data=None):
        exe = find_chromium()
        if not exe:
            raise BrowserError("chromium not found (scripts/install-deps.sh installs it)")
        self.tmp = tempfile.mkdtemp(prefix="scitt-chromium.")
        self.user_data = user_data or os.path.join(self.tmp, "profile")
        # fds 3 and 4 in the child: it reads commands from 3 and writes to 4
        c_in_r, self.w = os.pipe()
        self.r, c_out_w = os.pipe()
        args = [exe, "--headless=new", "--remote-debugging-pipe", "--no-first-run",
                "--no-default-browser-check", "--disable-gpu", "--disable-extensions",
                "--disable-background-networking", "--disable-sync", "--mute-audio",
                "--user-data-dir=" + self.user_data, "--window-size=%d,%d" % (width, height)]
        if os.geteuid() == 0:
            args.append("--no-sandbox")  # chromium refuses to run its sandbox as root
        def fds():
            import fcntl
            # move both ends above 4 first, so that neither dup2 clobbers the other
            a = fcntl.fcntl(c_in_r, fcntl.F_DUPFD, 10)
            b = fcntl.fcntl(c_out_w, fcntl.F_DUPFD, 10)
            os.dup2(a, 3)  # inheritable: survives the exec
            os.dup2(b, 4)
        self.log = open(os.path.join(self.tmp, "chromium.log"), "wb")
        # close_fds=False: fds 3 and 4 are made in preexec_fn, after which close_fds would close
        # them; every other descriptor of this process is close-on-exec (Python's default)
        self.proc = subprocess.Popen(args, close_fds=False, preexec_fn=fds,
                                     stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log)
        os.close(c_in_r)
        os.close(c_out_w)
        self.buf = b""
        self.next_id = 0
        self.events = []
        self.session = None

    def close(self):
        try:
            self.send("Browser.close", timeout=5)
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for fd in (self.w, self.r):
            try:
                os.close(fd)
            except OSError:
                pass
        self.log.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def _read_msg(self, deadline):
        import select
        while b"\0" not in self.buf:
            left = deadline - time.time()
            if left <= 0:
                raise BrowserError("timeout waiting for chromium")
            ready, _, _ = select.select([self.r], [], [], left)
            if ready:
                chunk = os.read(self.r, 1 << 20)
                if not chunk:
                    raise BrowserError("chromium closed the pipe (see its log)")
                self.buf += chunk
        msg, self.buf = self.buf.split(b"\0", 1)
        return json.loads(msg)

    def send(self, method, params=None, session=True, timeout=30):
        self.next_id += 1
        mid = self.next_id
        m = {"id": mid, "method": method, "params": params or {}}
        if session and self.session:
            m["sessionId"] = self.session
        os.write(self.w, json.dumps(m).encode() + b"\0")
        deadline = time.time() + timeout
        while True:
            msg = self._read_msg(deadline)
            if msg.get("id") == mid:
                if "error" in msg:
                    raise BrowserError("%s: %s" % (method, msg["error"]))
                return msg.get("result", {})
            if "method" in msg:
                self.events.append(msg)

    def open_page(self):
        t = self.send("Target.createTarget", {"url": "about:blank"}, session=False)
        a = self.send("Target.attachToTarget", {"targetId": t["targetId"], "flatten": True},
                      session=False)
        self.session = a["sessionId"]
        for dom in ("Page", "Runtime", "Log"):
            self.send(dom + ".enable")

    def navigate(self, url):
        self.send("Page.navigate", {"url": url})

    def eval(self, expr):
        r = self.send("Runtime.evaluate", {"expression": expr, "returnByValue": True,
                                           "awaitPromise": True})
        if "exceptionDetails" in r:
            raise BrowserError("evaluate %s: %s" % (expr, r["exceptionDetails"]))
        return r["result"].get("value")

    def wait_for(self, expr, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                v = self.eval(expr)
            except BrowserError:
                v = None
            if v:
                return v
            time.sleep(0.1)
        raise BrowserError("timeout waiting for " + expr)

    def screenshot(self, path):
        import base64
        r = self.send("Page.captureScreenshot", {"format": "png"})
        with open(path, "wb") as f:
            f.write(base64.b64decode(r["data"]))

    def problems(self):
        """Console errors, uncaught exceptions and CSP violations seen so far."""
        out = []
        for e in self.events:
            m, p = e.get("method"), e.get("params", {})
            if m == "Runtime.exceptionThrown":
                out.append("exception: " + json.dumps(p.get("exceptionDetails", {}))[:400])
            elif m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                out.append("console.error: " + json.dumps(p.get("args", []))[:400])
            elif m == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
                out.append("log: " + p["entry"].get("text", "")[:400])
        return out
