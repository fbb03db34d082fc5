#!/usr/bin/env python3
"""A registry token service for the OCI tests (distribution's token authentication), on loopback.

token_server.py PORT_FILE TLS_CERT TLS_KEY SIGN_CERT SIGN_KEY USER PASSWORD SERVICE ISSUER LOG

Answers GET /token?service=...&scope=repository:NAME:ACTIONS with {"token": JWT} when the Basic
credentials are USER:PASSWORD (401 otherwise), the JWT signed ES256 by SIGN_KEY with SIGN_CERT in
its x5c header (the registry trusts that certificate as its rootcertbundle) and granting the
actions asked for. Every request is appended to LOG (path and whether credentials came). It binds
port 0 and writes the port it got to PORT_FILE; it stops on SIGTERM.
"""
import base64
import http.server
import json
import ssl
import sys
import time
import urllib.parse

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

(port_file, tls_cert, tls_key, sign_cert, sign_key, user, password, service, issuer,
 log) = sys.argv[1:11]

with open(sign_cert, "rb") as f:
    CERT_DER = x509.load_pem_x509_certificate(f.read()).public_bytes(serialization.Encoding.DER)
with open(sign_key, "rb") as f:
    KEY = serialization.load_pem_private_key(f.read(), None)


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def token(scope):
    access = []
    if scope:
        kind, name, actions = scope.split(":", 2)
        access.append({"type": kind, "name": name, "actions": actions.split(",")})
    now = int(time.time())
    header = {"typ": "JWT", "alg": "ES256", "x5c": [base64.b64encode(CERT_DER).decode()]}
    claims = {"iss": issuer, "sub": user, "aud": service, "exp": now + 300, "nbf": now - 10,
              "iat": now, "jti": b64url(str(time.time_ns()).encode()), "access": access}
    signing_input = (b64url(json.dumps(header).encode()) + "." +
                     b64url(json.dumps(claims).encode())).encode()
    r, s = decode_dss_signature(KEY.sign(signing_input, ec.ECDSA(hashes.SHA256())))
    return signing_input.decode() + "." + b64url(r.to_bytes(32, "big") + s.to_bytes(32, "big"))


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        auth = self.headers.get("Authorization", "")
        want = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        with open(log, "a") as f:
            f.write(f"{self.path} credentials={'yes' if auth else 'no'}\n")
        q = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
        if auth != want or q.get("service", [""])[0] != service:
            self.send_response(401)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = json.dumps({"token": token(q.get("scope", [""])[0])}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


srv = http.server.HTTPServer(("127.0.0.1", 0), Handler)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(tls_cert, tls_key)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
with open(port_file + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
import os  # noqa: E402

os.rename(port_file + ".tmp", port_file)
import signal  # noqa: E402

signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
srv.serve_forever()
