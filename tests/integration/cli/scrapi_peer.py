#!/usr/bin/env python3
"""scrapi_peer.py MODE RECEIPT LOG: a loopback HTTP responder (127.0.0.1, a free port printed as
"PORT <n>") answering a registration in the shapes Microsoft's Code Transparency service
publishes in its API description (azure-rest-api-specs,
specification/confidentialledger/Microsoft.CodeTransparency, main.tsp, versions
"2025-01-31-preview" and "2026-03-26"), so that `scitt register` is shown to work with that peer's
published format. RECEIPT is the file served as the receipt (a real one, from scittd, so the
result verifies). Every request is appended to LOG as "METHOD PATH auth=yes|no host=HOST t=SECONDS"
before it is answered.

  ops        2025-01-31-preview: POST /entries -> 202, Location /operations/2.131, Retry-After as
             an HTTP-date 2 s ahead, CBOR {"OperationID", "Status": "running"}; GET
             /operations/2.131 -> 202 without body (OperationStatusPending, Retry-After: 1), then
             200 {"Status": "running"} without Retry-After, then 200 {"EntryID": "2.131",
             "Status": "succeeded"}; GET /entries/2.131 -> 200 application/cose, the receipt.
  failed     as ops, but the operation ends 200 {"Status": "failed", "Error": {-1: title,
             -2: detail}} (the error shape of the description's comment).
  seeother   2026-03-26: POST /entries -> 303 See Other, Location /entries/2.132 and
             x-ms-ccf-transaction-id; GET /entries/2.132 -> 302 Found to itself with
             Retry-After: 1 twice (ReceiptEntryPending), then 200 application/scitt-receipt+cose.
  elsewhere  POST /entries -> 303 to the same server named as http://localhost:PORT (another
             origin: the token must not follow), which serves the receipt.
  loop       POST /entries -> 303 /r/1, GET /r/N -> 302 /r/N+1, forever.
  running    POST -> 202 /operations/9.9; the operation stays "running" (Retry-After: 1).
"""
import email.utils
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def head(major, n):
    if n < 24:
        return bytes([major << 5 | n])
    for size, code in ((1, 24), (2, 25), (4, 26), (8, 27)):
        if n < 1 << (8 * size):
            return bytes([major << 5 | code]) + n.to_bytes(size, "big")
    raise ValueError(n)


def enc(v):
    if isinstance(v, str):
        b = v.encode()
        return head(3, len(b)) + b
    if isinstance(v, int):
        return head(0, v) if v >= 0 else head(1, -1 - v)
    if isinstance(v, dict):
        return head(5, len(v)) + b"".join(enc(k) + enc(x) for k, x in v.items())
    raise TypeError(v)


MODE, RECEIPT, LOG = sys.argv[1], open(sys.argv[2], "rb").read(), sys.argv[3]
polls = {"n": 0}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, headers=(), body=b"", ctype=None):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        if ctype:
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def record(self):
        with open(LOG, "a") as f:
            f.write("%s %s auth=%s host=%s t=%.3f\n" % (
                self.command, self.path, "yes" if self.headers.get("Authorization") else "no",
                self.headers.get("Host"), time.monotonic()))

    def receipt(self, ctype="application/cose"):
        self.answer(200, body=RECEIPT, ctype=ctype)

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        self.rfile.read(n)
        self.record()
        port = self.server.server_address[1]
        if MODE in ("ops", "failed", "running"):
            op = "9.9" if MODE == "running" else "2.131"
            date = email.utils.formatdate(time.time() + 2, usegmt=True)
            self.answer(202, [("Location", "/operations/" + op), ("Retry-After", date)],
                        enc({"OperationID": op, "Status": "running"}), "application/cbor")
        elif MODE == "seeother":
            self.answer(303, [("Location", "/entries/2.132"),
                              ("x-ms-ccf-transaction-id", "2.132")])
        elif MODE == "elsewhere":
            self.answer(303, [("Location", "http://localhost:%d/entries/3.7" % port)])
        elif MODE == "loop":
            self.answer(303, [("Location", "/r/1")])
        else:
            self.answer(500)

    def do_GET(self):
        self.record()
        path = self.path.split("?")[0]
        if path.startswith("/operations/"):
            polls["n"] += 1
            n = polls["n"]
            if MODE == "running" or n == 2:
                self.answer(200, [("Retry-After", "1")] if MODE == "running" else [],
                            enc({"OperationID": path[12:], "Status": "running"}),
                            "application/cbor")
            elif n == 1:
                self.answer(202, [("Location", path), ("Retry-After", "1")])
            elif MODE == "failed":
                self.answer(200, body=enc({"Status": "failed", "Error": {
                    -1: "Bad Signature Algorithm",
                    -2: "Signed Statement contained a non supported algorithm"}}),
                    ctype="application/cbor")
            else:
                self.answer(200, [("Location", "/entries/2.131")],
                            enc({"EntryID": "2.131", "Status": "succeeded"}), "application/cbor")
        elif path == "/entries/2.131" or path == "/entries/3.7":
            self.receipt()
        elif path == "/entries/2.132":
            polls["n"] += 1
            if polls["n"] <= 2:
                self.answer(302, [("Location", "/entries/2.132"), ("Retry-After", "1")])
            else:
                self.receipt("application/scitt-receipt+cose")
        elif path.startswith("/r/"):
            self.answer(302, [("Location", "/r/%d" % (int(path[3:]) + 1))])
        else:
            self.answer(404)


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print("PORT %d" % server.server_address[1], flush=True)
server.serve_forever()
