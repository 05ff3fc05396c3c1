#!/usr/bin/env python3
"""tsa.py - an RFC 3161 time-stamping authority on loopback for the tests:
plain HTTP, each POSTed application/timestamp-query answered with what
`openssl ts -reply` makes of it (the TSA's key and certificate from
--config, an openssl.cnf with a [tsa] section). --down-until EPOCH answers
503 until then (a TSA that is down). Every request is logged as one line
"STATUS" to --log. Prints "ready" when listening."""
import argparse, http.server, os, subprocess, tempfile, threading, time

ap = argparse.ArgumentParser()
ap.add_argument("--port", type=int, required=True)
ap.add_argument("--config", required=True)
ap.add_argument("--log", required=True)
ap.add_argument("--down-until", type=float, default=0)
a = ap.parse_args()
lock = threading.Lock()
out = open(a.log, "a", buffering=1)


class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, body, ctype):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        out.write("%d\n" % status)

    def do_POST(self):
        data = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if time.time() < a.down_until:
            return self.answer(503, b"down\n", "text/plain")
        with lock, tempfile.TemporaryDirectory() as d:
            q, r = os.path.join(d, "q.tsq"), os.path.join(d, "r.tsr")
            open(q, "wb").write(data)
            p = subprocess.run(["openssl", "ts", "-reply", "-config", a.config,
                                "-queryfile", q, "-out", r],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            if p.returncode != 0:
                return self.answer(400, p.stderr, "text/plain")
            self.answer(200, open(r, "rb").read(), "application/timestamp-reply")


s = http.server.ThreadingHTTPServer(("127.0.0.1", a.port), H)
print("ready", flush=True)
s.serve_forever()
