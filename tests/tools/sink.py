#!/usr/bin/env python3
"""sink.py - a receiving platform for the forwarding tests, on loopback.

HTTPS with a required client certificate (or plain HTTP without --cert).
Every POST is logged as one line "ID STATUS" to --log, ID being the
Idempotency-Key header, so a test can count deliveries by message id the
way a deduplicating receiver would. --down-until EPOCH answers 503 until
then (a platform that is down); --status N always answers N.
"""
import argparse, http.server, ssl, threading, time, sys

ap = argparse.ArgumentParser()
ap.add_argument("--port", type=int, required=True)
ap.add_argument("--cert"); ap.add_argument("--key"); ap.add_argument("--ca")
ap.add_argument("--log", required=True)
ap.add_argument("--down-until", type=float, default=0)
ap.add_argument("--status", type=int, default=200)
ap.add_argument("--save", help="keep each accepted body as DIR/ID")
ap.add_argument("--token", help="KEY:SECRET: require a bearer token from POST /token")
ap.add_argument("--answer-cmd",
                help="answer each accepted post with what this shell command prints"
                     " (run with MSG_ID and SHA256 of the body in its environment)")
ap.add_argument("--rotate-every", type=int, default=0,
                help="invalidate the token after this many accepted posts")
a = ap.parse_args()
lock = threading.Lock()
state = {"token": None, "n": 0, "issued": 0}
out = open(a.log, "a", buffering=1)

class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *args):
        pass
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        data = self.rfile.read(n)
        if a.token and self.path == "/token":
            import json
            req = json.loads(data)
            ok = "%s:%s" % (req.get("accessKey"), req.get("secretKey")) == a.token
            with lock:
                state["issued"] += 1
                state["token"] = "tok-%d" % state["issued"] if ok else state["token"]
                out.write("TOKEN %d %.3f\n" % (200 if ok else 403, time.time()))
            body = json.dumps({"access_token": state["token"], "expires_in": 3600}).encode() if ok else b"{}"
            self.send_response(200 if ok else 403)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        key = self.headers.get("Idempotency-Key", "-")
        status = 503 if time.time() < a.down_until else a.status
        if a.token:
            with lock:
                if self.headers.get("Authorization") != "Bearer %s" % state["token"]:
                    status = 401
                elif status < 300:
                    state["n"] += 1
                    if a.rotate_every and state["n"] % a.rotate_every == 0:
                        state["token"] = None
        with lock:
            out.write("%s %d %.3f\n" % (key, status, time.time()))
            if a.save and status < 300 and "/" not in key:
                open("%s/%s" % (a.save, key), "wb").write(data)
        body = b'{"ok": true}' if status < 300 else b'{"error": "refused"}'
        ctype = "application/json"
        if a.answer_cmd and status < 300:
            import hashlib, os, subprocess
            env = dict(os.environ, MSG_ID=key, SHA256=hashlib.sha256(data).hexdigest())
            body = subprocess.run(a.answer_cmd, shell=True, env=env,
                                  stdout=subprocess.PIPE).stdout
            ctype = "application/jose+json"
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

srv = http.server.ThreadingHTTPServer(("127.0.0.1", a.port), H)
srv.daemon_threads = True
if a.cert:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(a.cert, a.key)
    ctx.load_verify_locations(a.ca)
    ctx.verify_mode = ssl.CERT_REQUIRED
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
print("ready", flush=True)
srv.serve_forever()
