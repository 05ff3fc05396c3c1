#!/bin/bash
# trust_algs.sh - the trust store's allow-list in the server: `lienthong
# serve` with `trust: {algorithms: [PS256, ES256]}` refuses a message
# signed with RS256 (XML-DSig and JWS) as an unsupported algorithm and
# accepts PS256, both in the verification workers (the default) and in
# the event loop (workers: 0); names that cannot be allowed (none, HS256,
# unknown) are refused by the configuration check. The receipts are signed
# as signing: xml_alg rsa-pss-sha512 and jws_alg PS384 say.
. tests/lib.sh
P=$TOP/$B/pki
sh "$TOP/certs/mkpki.sh" "$P" >/dev/null || { not_ok "make the test PKI"; finish; exit 1; }
command -v curl >/dev/null || { skip "curl not installed"; finish; exit 0; }
SERVE_PID=
cleanup() {
	[ -n "$SERVE_PID" ] && kill "$SERVE_PID" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
for c in ministry-ec partner-a; do
	cat "$P/$c.pem" "$P/chain.pem" >"$TMP/$c-full.pem"
done
EX=$TOP/conf/examples
TA_XML=$EX/task-assignment-from-vpcp.xml
TA_JSON=$EX/task-assignment-from-vpcp.json
ID=c2b7e1f0-9d44-4b0e-a1d2-0008440200

conf() { # file workers algorithms
	cat >"$1" <<EOC
gateway:
  name: ministry
  organization: {orgId: 000.00.00.G12, name: Bộ Tài chính}
  data_dir: $TMP/var-$2
log: {level: info, file: $TMP/serve.log}
signing:
  key: $P/ministry-rsa.key
  cert: $P/ministry-rsa.pem
  chain: $P/chain.pem
  xml_alg: rsa-pss-sha512
  jws_alg: PS384
trust:
  dir: $P/trust
  algorithms: $3
server:
  listen: 127.0.0.1
  port: $PORT
  tls: {cert: $TMP/ministry-ec-full.pem, key: $P/ministry-ec.key}
  workers: $2
  drop_dir: false
partners:
  - name: vpcp
    subject: "CN=Partner Agency A,O=Lienthong Test PKI,C=VN"
    orgId: 000.00.00.G22
    kinds: [task.assignment]
    receivers: [000.00.00.G12]
EOC
}

# ---- the configuration check ---------------------------------------------------
PORT=$(port)
for bad in "[none]" "[PS256, HS256]" "[PS256, XS256]" "[]"; do
	conf "$TMP/bad.yaml" 2 "$bad"
	expect_exit "trust.algorithms $bad is refused by serve --check" 1 \
		"$LIENTHONG" serve -c "$TMP/bad.yaml" --check
done
conf "$TMP/good.yaml" 2 "[PS256, ES256]"
expect_exit "trust.algorithms [PS256, ES256] is accepted" 0 \
	"$LIENTHONG" serve -c "$TMP/good.yaml" --check

# ---- messages: RS256 and PS256, XML and JSON, each with its own id ---------------
n=10
for alg in RS256 PS256; do
	for w in 2 0; do
		n=$((n + 1))
		sed "s/${ID}01/${ID}$n/" "$TA_XML" >"$TMP/m.xml"
		"$LIENTHONG" sign --alg "$alg" --key "$P/partner-a.key" --cert "$P/partner-a.pem" \
			--chain "$P/chain.pem" "$TMP/m.xml" >"$TMP/$alg-$w.xml"
		n=$((n + 1))
		sed "s/${ID}01/${ID}$n/" "$TA_JSON" >"$TMP/m.json"
		"$LIENTHONG" sign --alg "$alg" --format flattened --key "$P/partner-a.key" \
			--cert "$P/partner-a.pem" --chain "$P/chain.pem" "$TMP/m.json" >"$TMP/$alg-$w.jws"
	done
done

post() { # file content-type -> status in $ST, body in $TMP/resp
	ST=$(curl -sS --max-time 30 --cacert "$P/root.pem" --cert "$TMP/partner-a-full.pem" \
		--key "$P/partner-a.key" -H "Content-Type: $2" --data-binary "@$1" \
		-o "$TMP/resp" -w '%{http_code}' "https://127.0.0.1:$PORT/v1/messages" 2>"$TMP/curl.err")
}
expect_status() { # name want [text in the answer]
	if [ "$ST" = "$2" ] && { [ -z "${3:-}" ] || grep -q "$3" "$TMP/resp"; }; then
		ok "$1 ($2)"
	else
		not_ok "$1: status $ST, wanted $2${3:+ with '$3'}"
		head -c 400 "$TMP/resp" | sed 's/^/    /'
	fi
}

for w in 2 0; do
	PORT=$(port)
	conf "$TMP/ministry.yaml" "$w" "[PS256, ES256]"
	: >"$TMP/serve.log"
	"$LIENTHONG" serve -c "$TMP/ministry.yaml" >"$TMP/serve.out" 2>"$TMP/serve.err" &
	SERVE_PID=$!
	up=0
	for _ in $(seq 100); do
		curl -sk "https://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && up=1 && break
		kill -0 "$SERVE_PID" 2>/dev/null || break
		sleep 0.1
	done
	if [ $up = 0 ]; then
		not_ok "serve starts (workers: $w): $(cat "$TMP/serve.err")"
		continue
	fi
	ok "serve starts with trust.algorithms [PS256, ES256] (workers: $w)"
	post "$TMP/RS256-$w.xml" application/xml
	expect_status "workers $w: XML signed with RS256 is refused" 422 "RS256"
	post "$TMP/RS256-$w.jws" application/json
	expect_status "workers $w: JWS signed with RS256 is refused" 422 "RS256"
	post "$TMP/PS256-$w.xml" application/xml
	expect_status "workers $w: XML signed with PS256 is accepted" 200
	check "workers $w: the XML receipt is signed with sha512-rsa-MGF1 (xml_alg rsa-pss-sha512)" \
		sh -c "grep -q 'xmldsig-more#sha512-rsa-MGF1' '$TMP/resp' &&
			'$LIENTHONG' verify --trust '$P/trust' '$TMP/resp' >/dev/null"
	post "$TMP/PS256-$w.jws" application/json
	expect_status "workers $w: JWS signed with PS256 is accepted" 200
	check "workers $w: the JWS receipt is signed with PS384 (jws_alg PS384)" \
		sh -c "python3 -c 'import base64,json,sys; h=json.load(open(sys.argv[1]))[\"protected\"]; sys.exit(json.loads(base64.urlsafe_b64decode(h+\"==\"))[\"alg\"]!=\"PS384\")' '$TMP/resp' &&
			'$LIENTHONG' verify --trust '$P/trust' '$TMP/resp' >/dev/null"
	# SIGHUP reads trust.algorithms again, in the loop's verifier and in
	# each worker's: RS256 added, the message it refused is accepted
	conf "$TMP/ministry.yaml" "$w" "[PS256, ES256, RS256]"
	kill -HUP "$SERVE_PID"
	for _ in $(seq 100); do grep -q '"reloaded ' "$TMP/serve.log" && break; sleep 0.1; done
	post "$TMP/RS256-$w.xml" application/xml
	expect_status "workers $w: after SIGHUP with RS256 allowed, XML signed with RS256 is accepted" 200
	post "$TMP/RS256-$w.jws" application/json
	expect_status "workers $w: ... and JWS signed with RS256" 200
	kill "$SERVE_PID" 2>/dev/null
	wait "$SERVE_PID" 2>/dev/null
	SERVE_PID=
done
finish
