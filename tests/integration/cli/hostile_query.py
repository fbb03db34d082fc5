#!/usr/bin/env python3
"""hostile_query.py MODE COUNT_FILE: a /query server on 127.0.0.1 (a free port, printed as
"PORT <n>" on stdout) that pages the way a hostile or broken service could, so that `scitt query`
is shown to end anyway. It writes how many requests it has answered to COUNT_FILE (before each
answer is sent).

  empty    every page is empty and names the next cursor (cursor + 1), forever
  trickle  every page holds one entry and names the next cursor, forever
  stuck    every page holds one entry and names the cursor it was asked for
  slow     as trickle, but each answer takes a second
  finite   three pages of one entry each, then "next": null (what an honest service does)
"""
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


def head(major, n):
    if n < 24:
        return bytes([major << 5 | n])
    for size, code in ((1, 24), (2, 25), (4, 26), (8, 27)):
        if n < 1 << (8 * size):
            return bytes([major << 5 | code]) + n.to_bytes(size, "big")
    raise ValueError(n)


def text(s):
    b = s.encode()
    return head(3, len(b)) + b


def uint(n):
    return head(0, n)


def row(index):
    fields = [
        ("entry_id", text("%064x" % index)),
        ("index", uint(index)),
        ("registered", uint(1767225600 + index)),
        ("iss", text("https://issuer.example")),
        ("sub", text("app")),
        ("content_type", text("application/json")),
        ("digest", text("%064x" % (index + 1))),
    ]
    return head(5, len(fields)) + b"".join(text(k) + v for k, v in fields)


def page(rows, nxt):
    body = head(5, 2) + text("entries") + head(4, len(rows)) + b"".join(rows)
    return body + text("next") + (b"\xf6" if nxt is None else uint(nxt))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    answered = 0

    def log_message(self, *args):
        pass

    def do_GET(self):
        url = urlparse(self.path)
        cursor = int(parse_qs(url.query).get("cursor", ["0"])[0])
        mode = self.server.mode
        if url.path != "/query":
            body, status = b"", 404
        elif mode == "empty":
            body, status = page([], cursor + 1), 200
        elif mode == "stuck":
            body, status = page([row(cursor)], max(cursor, 1)), 200
        elif mode == "finite":
            body, status = page([row(cursor)], cursor + 1 if cursor < 2 else None), 200
        else:
            if mode == "slow":
                time.sleep(1)
            body, status = page([row(cursor)], cursor + 1), 200
        # Counted before the answer leaves, and the file replaced whole, so a reader that has the
        # answer never sees a count without it or a half-written file.
        with self.server.lock:
            Handler.answered += 1
            tmp = self.server.count_file + ".tmp"
            with open(tmp, "w") as f:
                f.write("%d\n" % Handler.answered)
            os.replace(tmp, self.server.count_file)
        self.send_response(status)
        self.send_header("Content-Type", "application/cbor")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.mode = sys.argv[1]
    server.count_file = sys.argv[2]
    server.lock = threading.Lock()
    server.daemon_threads = True
    print("PORT %d" % server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
