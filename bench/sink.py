#!/usr/bin/env python3
"""sink.py - the receiving end of bench_large.sh: an HTTPS server on
loopback that requires a client certificate (mutual TLS against CA), reads
each POSTed body whole (Content-Length or chunked), appends one line
"UNIX_TIME BYTES SHA256 CONTENT_TYPE" to LOG (flushed, so the bench can
wait for it) and answers 200 {"ok": true}. Nginx's sink cannot say what
arrived; this one lets the bench check that the message arrived byte for
byte.

usage: sink.py PORT CERT KEY CA LOG
"""
import hashlib, http.server, ssl, sys, time


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            out = bytearray()
            while True:
                n = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if n == 0:
                    while self.rfile.readline().strip():
                        pass
                    return bytes(out)
                out += self.rfile.read(n)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length", "0")))

    def do_POST(self):
        data = self.body()
        h = hashlib.sha256(data).hexdigest()
        with open(self.server.log, "a") as f:
            f.write("%.6f %d %s %s\n" % (time.time(), len(data), h,
                                         self.headers.get("Content-Type", "-")))
        out = b'{"ok": true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)


def main():
    if len(sys.argv) != 6:
        sys.stderr.write("usage: sink.py PORT CERT KEY CA LOG\n")
        return 2
    port, cert, key, ca, log = sys.argv[1:6]
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(cert, key)
    ctx.load_verify_locations(ca)
    ctx.verify_mode = ssl.CERT_REQUIRED
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", int(port)), Handler)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    srv.log = log
    open(log, "a").close()
    srv.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
