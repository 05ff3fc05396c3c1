#!/bin/bash
# server_limits.sh - refusals of the HTTPS server as a client sees them
# (issue 23): a body over server.limits.max_body_bytes, sent with a
# Content-Length (read to its end, then answered: lingering close, so the
# client reads the 413 instead of a reset, and the connection stays
# usable), with Expect: 100-continue (answered at once, no body read) and
# chunked, is answered 413 with an RFC 9457 problem in the request's
# format (JSON or XML), audited and counted in /metrics; 401, 403, 404
# and 405 are problems in XML to XML requests (schemas/openapi.yaml).
. tests/lib.sh
P=$TOP/$B/pki
sh "$TOP/certs/mkpki.sh" "$P" >/dev/null || { not_ok "make the test PKI"; finish; exit 1; }
command -v curl >/dev/null || { skip "curl not installed"; finish; exit 0; }
SERVE_PID=
cleanup() {
	[ -n "$SERVE_PID" ] && kill "$SERVE_PID" 2>/dev/null && wait "$SERVE_PID" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
URL=https://127.0.0.1:$PORT
for c in ministry-ec partner-a partner-b; do
	cat "$P/$c.pem" "$P/chain.pem" >"$TMP/$c-full.pem"
done
cat >"$TMP/g.yaml" <<EOC
gateway:
  name: ministry
  organization: {orgId: 000.00.00.G12, name: Test}
  data_dir: $TMP/var
log: {level: info, file: $TMP/serve.log}
audit: {store: $TMP/audit.db}
signing:
  key: $P/ministry-ec.key
  cert: $P/ministry-ec.pem
  chain: $P/chain.pem
trust:
  dir: $P/trust
server:
  listen: 127.0.0.1
  port: $PORT
  tls: {cert: $TMP/ministry-ec-full.pem, key: $P/ministry-ec.key}
  limits: {max_body_bytes: 65536, max_connections: 8, timeout_s: 5}
partners:
  - name: vpcp
    subject: "CN=Partner Agency A,O=Lienthong Test PKI,C=VN"
    orgId: 000.00.00.G22
    kinds: [task.assignment]
    receivers: [000.00.00.G12]
EOC
"$LIENTHONG" serve -c "$TMP/g.yaml" >"$TMP/serve.out" 2>"$TMP/serve.err" &
SERVE_PID=$!
up=0
for _ in $(seq 100); do
	curl -sk --max-time 2 "$URL/healthz" >/dev/null 2>&1 && { up=1; break; }
	kill -0 "$SERVE_PID" 2>/dev/null || break
	sleep 0.1
done
[ $up = 1 ] && ok "serve starts" || { not_ok "serve starts: $(cat "$TMP/serve.err")"; finish; exit 1; }

# raw requests over TLS: exactly the framing a test needs
check "oversized bodies: 413 problems in the request's format, lingering close, connection kept" \
	python3 - "$PORT" "$P" "$TMP" <<'PY'
import json, socket, ssl, sys, xml.dom.minidom
port, pki, tmp = int(sys.argv[1]), sys.argv[2], sys.argv[3]

def conn():
    ctx = ssl.create_default_context(cafile=pki + "/root.pem")
    ctx.load_cert_chain(tmp + "/partner-a-full.pem", pki + "/partner-a.key")
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    return ctx.wrap_socket(s, server_hostname="127.0.0.1")

def answer(s):
    data = b""
    while b"\r\n\r\n" not in data:
        c = s.recv(65536)
        if not c:
            raise SystemExit("connection closed before an answer: %r" % data)
        data += c
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    hdr = {k.strip().lower(): v.strip() for k, _, v in (l.partition(":") for l in lines[1:])}
    n = int(hdr.get("content-length", "0"))
    while len(body) < n:
        c = s.recv(65536)
        if not c:
            break
        body += c
    return int(lines[0].split()[1]), hdr, body[:n]

def problem(status, hdr, body, xml_wanted, what):
    if status != 413:
        raise SystemExit("%s: status %d, wanted 413" % (what, status))
    ct = hdr.get("content-type", "")
    if xml_wanted:
        if ct != "application/problem+xml":
            raise SystemExit("%s: content type %r" % (what, ct))
        d = xml.dom.minidom.parseString(body)
        st = d.getElementsByTagName("status")[0].firstChild.data
    else:
        if ct != "application/problem+json":
            raise SystemExit("%s: content type %r" % (what, ct))
        st = json.loads(body)["status"]
    if int(st) != 413 or b"max_body_bytes" not in body:
        raise SystemExit("%s: problem body %r" % (what, body))
    print("ok", what)

big = b"<a>" + b"x" * 300000 + b"</a>"
for ct, x in (("application/xml", True), ("application/jose+json", False)):
    s = conn()
    s.sendall(b"POST /v1/messages HTTP/1.1\r\nHost: t\r\nContent-Type: %s\r\n"
              b"Content-Length: %d\r\n\r\n" % (ct.encode(), len(big)) + big)
    problem(*answer(s), x, "Content-Length body over the limit, " + ct)
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
    st, _, b = answer(s)
    if st != 200 or b != b"ok\n":
        raise SystemExit("the connection is not usable after the 413: %d %r" % (st, b))
# Expect: 100-continue: answered before any body is sent
s = conn()
s.sendall(b"POST /v1/messages HTTP/1.1\r\nHost: t\r\nContent-Type: application/xml\r\n"
          b"Expect: 100-continue\r\nContent-Length: %d\r\n\r\n" % len(big))
st, hdr, b = answer(s)
problem(st, hdr, b, True, "Expect: 100-continue over the limit, answered before the body")
# chunked, over the limit after some chunks
s = conn()
s.sendall(b"POST /v1/messages HTTP/1.1\r\nHost: t\r\nContent-Type: application/jose+json\r\n"
          b"Transfer-Encoding: chunked\r\n\r\n" +
          b"".join(b"%x\r\n%s\r\n" % (8000, b"y" * 8000) for _ in range(40)) + b"0\r\n\r\n")
problem(*answer(s), False, "chunked body over the limit")
s.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
if answer(s)[0] != 200:
    raise SystemExit("the connection is not usable after the chunked 413")
# chunked under the limit still reaches the pipeline (an unsigned body: 400)
s = conn()
s.sendall(b"POST /v1/messages HTTP/1.1\r\nHost: t\r\nContent-Type: application/xml\r\n"
          b"Transfer-Encoding: chunked\r\n\r\n5\r\n<a/>\n\r\n0\r\n\r\n")
st = answer(s)[0]
if st in (413, 200):
    raise SystemExit("a small chunked body: status %d" % st)
print("ok small chunked body passed on (%d)" % st)
PY
# curl, as a user would: a 1 MB file (curl sends Expect: 100-continue)
head -c 1048576 /dev/zero | tr '\0' a >"$TMP/big.xml"
ST=$(curl -sS --max-time 30 --cacert "$P/root.pem" --cert "$TMP/partner-a-full.pem" --key "$P/partner-a.key" \
	-H "Content-Type: application/xml" --data-binary "@$TMP/big.xml" -o "$TMP/resp" -w '%{http_code} %{content_type}' \
	"$URL/v1/messages" 2>"$TMP/curl.err")
[ "$ST" = "413 application/problem+xml" ] && ok "curl --data-binary of 1 MB: 413 problem+xml" ||
	not_ok "curl --data-binary of 1 MB: '$ST' $(cat "$TMP/curl.err")"
ST=$(curl -sS --max-time 30 --cacert "$P/root.pem" --cert "$TMP/partner-a-full.pem" --key "$P/partner-a.key" \
	-H "Content-Type: application/xml" -H "Expect:" --data-binary "@$TMP/big.xml" -o "$TMP/resp" -w '%{http_code}' \
	"$URL/v1/messages" 2>"$TMP/curl.err")
[ "$ST" = 413 ] && ok "curl without Expect: the 413, not a reset" || not_ok "curl without Expect: '$ST' $(cat "$TMP/curl.err")"
ST=$(curl -sS --max-time 30 --cacert "$P/root.pem" --cert "$TMP/partner-a-full.pem" --key "$P/partner-a.key" \
	-H "Content-Type: application/jose+json" -H "Transfer-Encoding: chunked" --data-binary "@$TMP/big.xml" \
	-o "$TMP/resp" -w '%{http_code} %{content_type}' "$URL/v1/messages" 2>"$TMP/curl.err")
[ "$ST" = "413 application/problem+json" ] && ok "curl chunked: 413 problem+json" || not_ok "curl chunked: '$ST' $(cat "$TMP/curl.err")"

# 401, 403, 404, 405 in XML to XML requests, JSON otherwise
xreq() { # name want-status want-type curl-args...
	local n=$1 want=$2 type=$3; shift 3
	ST=$(curl -sS --max-time 10 --cacert "$P/root.pem" -o "$TMP/resp" -w '%{http_code} %{content_type}' "$@" 2>"$TMP/curl.err")
	if [ "$ST" = "$want $type" ] && { [ "$type" != application/problem+xml ] || xmllint --noout "$TMP/resp" 2>/dev/null; }; then
		ok "$n: $want $type"
	else
		not_ok "$n: '$ST', wanted '$want $type': $(head -c 200 "$TMP/resp")"
	fi
}
A=(--cert "$TMP/partner-a-full.pem" --key "$P/partner-a.key")
B_=(--cert "$TMP/partner-b-full.pem" --key "$P/partner-b.key")
X=(-H "Content-Type: application/xml" --data-binary "<a/>")
xreq "401 without a client certificate, XML request" 401 application/problem+xml "${X[@]}" "$URL/v1/messages"
xreq "401 without a client certificate, JSON request" 401 application/problem+json -H "Content-Type: application/jose+json" --data-binary "{}" "$URL/v1/messages"
xreq "403 for a certificate that is no partner, XML request" 403 application/problem+xml "${B_[@]}" "${X[@]}" "$URL/v1/messages"
xreq "404 for an unknown resource, XML request" 404 application/problem+xml "${A[@]}" "${X[@]}" "$URL/v1/nothing"
xreq "404 with Accept: application/xml and no body" 404 application/problem+xml "${A[@]}" -H "Accept: application/xml" "$URL/nothing"
xreq "404 without a format: JSON" 404 application/problem+json "${A[@]}" "$URL/nothing"
xreq "405 for another method, XML request" 405 application/problem+xml "${A[@]}" -X PUT "${X[@]}" "$URL/v1/messages"
xreq "405 on /healthz, Accept: text/xml" 405 application/problem+xml -H "Accept: text/xml" -X DELETE "$URL/healthz"

# audited and counted
curl -sS --max-time 10 --cacert "$P/root.pem" "$URL/metrics" >"$TMP/metrics"
n413=$(sed -n 's/^lienthong_http_requests_total{code="413"} \([0-9]*\)$/\1/p' "$TMP/metrics")
[ "${n413:-0}" -ge 7 ] && ok "the 413s are counted in /metrics ($n413)" || not_ok "413s in /metrics: '${n413:-none}'"
kill "$SERVE_PID" && wait "$SERVE_PID" 2>/dev/null
SERVE_PID=
"$LIENTHONG" audit ls -c "$TMP/g.yaml" --format json >"$TMP/audit.json" 2>"$TMP/audit.err"
n=$(grep -c 'larger than 65536 bytes' "$TMP/audit.json")
[ "$n" -ge 7 ] && ok "the 413s are in the audit log ($n entries)" || not_ok "413s in the audit log: $n ($(head -c 300 "$TMP/audit.err"))"
finish
