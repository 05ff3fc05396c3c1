#!/bin/bash
# serve_formats.sh - `lienthong serve` as a hub that only forwards: no drop
# folder (drop_dir: false); a partner's signed indicator report and task
# progress are routed onward, converted by the gateway for the
# destinations that name a format (report packet, edXML), signed with the
# gateway's key, and delivered over mutual TLS to loopback sinks; the
# destination without a format gets the partner's exact bytes. A message
# that cannot be converted for one destination (a task progress for a
# report-packet destination) is logged and audited as forward-refused and
# still reaches the others.
. tests/lib.sh
P=$TOP/$B/pki
sh "$TOP/certs/mkpki.sh" "$P" >/dev/null || { not_ok "make the test PKI"; finish; exit 1; }
command -v curl >/dev/null || { skip "curl not installed"; finish; exit 0; }
for c in ministry-ec hub; do cat "$P/$c.pem" "$P/chain.pem" >"$TMP/$c-full.pem"; done
EX=$TOP/conf/examples
PIDS=()
trap 'kill "${PIDS[@]}" 2>/dev/null; [ -n "$KEEP" ] || rm -rf "$TMP"' EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
start_sink() { # name port
	mkdir -p "$TMP/$1"
	python3 "$TOP/tests/tools/sink.py" --port "$2" --cert "$TMP/ministry-ec-full.pem" --key "$P/ministry-ec.key" \
		--ca "$P/root.pem" --log "$TMP/$1.log" --save "$TMP/$1" >"$TMP/$1.out" 2>&1 &
	PIDS+=($!)
	for _ in $(seq 50); do grep -q ready "$TMP/$1.out" 2>/dev/null && return 0; sleep 0.1; done
	return 1
}
CAN=$(port) RPT=$(port) EDX=$(port) PORT=$(port)
start_sink canon "$CAN" && start_sink rpt "$RPT" && start_sink edx "$EDX" ||
	{ not_ok "start the sinks"; finish; exit 1; }
dest() { # name port [format]
	cat <<EOD
  $1:
    url: https://127.0.0.1:$2/v1/messages
    ca: $P/root.pem
    cert: $TMP/hub-full.pem
    key: $P/hub.key
    timeout_ms: 5000
${3:+    format: $3}
EOD
}
cat >"$TMP/hub.yaml" <<EOC
gateway:
  name: hub
  organization: {orgId: 000.00.00.G16, name: "Nền tảng tích hợp, chia sẻ dữ liệu quốc gia"}
  data_dir: $TMP/var
log: {level: info, file: $TMP/serve.log}
audit: {store: $TMP/audit.db}
signing: {key: $P/hub.key, cert: $P/hub.pem, chain: $P/chain.pem}
trust: {dir: $P/trust}
server:
  listen: 127.0.0.1
  port: $PORT
  tls: {cert: $TMP/hub-full.pem, key: $P/hub.key}
  drop_dir: false
partners:
  - name: ministry
    subject: "CN=Ministry of Finance Gateway,O=Lienthong Test PKI,C=VN"
    orgId: 000.00.00.G12
    kinds: [indicator.report, task.progress]
    receivers: ["*"]
destinations:
$(dest canon "$CAN")
$(dest reporting "$RPT" report-packet)
$(dest axis "$EDX" edxml)
routes:
  - kinds: [indicator.report]
    to: [canon, reporting]
  - kinds: [task.progress]
    to: [canon, axis, reporting]
EOC
expect_exit "serve --check accepts drop_dir: false and destinations with formats" 0 \
	"$LIENTHONG" serve -c "$TMP/hub.yaml" --check
sed 's/drop_dir: false/drop_dir: true/' "$TMP/hub.yaml" >"$TMP/bad.yaml"
expect_exit "drop_dir: true is refused (a folder or false)" 1 "$LIENTHONG" serve -c "$TMP/bad.yaml" --check

sign() { "$LIENTHONG" sign --key "$P/ministry-ec.key" --cert "$P/ministry-ec.pem" --chain "$P/chain.pem" \
	--format flattened "$1" >"$2"; }
sign "$EX/indicator-report-2024-targets.json" "$TMP/ir.jws"
# the hub's partner speaks for the ministry itself: the progress report of
# its unit (000.01.12.G12) is sent here under the ministry's own orgId
sed '6s/000.01.12.G12/000.00.00.G12/' "$EX/task-progress-1584-II-9.json" >"$TMP/tp.json"
sign "$TMP/tp.json" "$TMP/tp.jws"
IR=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$EX/indicator-report-2024-targets.json")
TP=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$EX/task-progress-1584-II-9.json")

"$LIENTHONG" serve -c "$TMP/hub.yaml" >"$TMP/serve.out" 2>"$TMP/serve.err" &
SERVE=$!
PIDS+=("$SERVE")
URL=https://127.0.0.1:$PORT
for _ in $(seq 100); do curl -sk "$URL/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
check "serve starts without a drop folder" grep -q "drop folder '(off)'" "$TMP/serve.log"
post() { # file
	curl -sS --max-time 30 --cacert "$P/root.pem" --cert "$TMP/ministry-ec-full.pem" --key "$P/ministry-ec.key" \
		-H "Content-Type: application/jose+json" --data-binary "@$1" -o "$TMP/resp" -w '%{http_code}' \
		"$URL/v1/messages" 2>"$TMP/curl.err"
}
check "the indicator report is accepted" test "$(post "$TMP/ir.jws")" = 200
check "the task progress is accepted" test "$(post "$TMP/tp.jws")" = 200

# delivery follows the commit in other threads: wait (bounded) for the sinks
for _ in $(seq 150); do
	[ "$(ls "$TMP/canon" | wc -l)" -ge 2 ] && [ "$(ls "$TMP/rpt" | wc -l)" -ge 1 ] &&
		[ "$(ls "$TMP/edx" | wc -l)" -ge 1 ] && break
	sleep 0.1
done
check "the destination without a format gets the partner's exact bytes" \
	sh -c "cmp -s '$TMP/ir.jws' '$TMP/canon/$IR' && cmp -s '$TMP/tp.jws' '$TMP/canon/$TP'"
RPT_FILE=$(ls "$TMP/rpt" | head -1)
EDX_FILE=$(ls "$TMP/edx" | head -1)
check "the reporting system gets one message: a report packet of the indicator report" \
	sh -c "[ \$(ls '$TMP/rpt' | wc -l) -eq 1 ] && [ -n '$RPT_FILE' ] && [ '$RPT_FILE' != '$IR' ] && grep -q 'ReportPacket\|reportPacket\|<Report' '$TMP/rpt/$RPT_FILE'"
check "... signed by the hub (lienthong verify against the trust store)" \
	sh -c "'$LIENTHONG' verify --trust '$P/trust' '$TMP/rpt/$RPT_FILE' | grep -q 'National Data Exchange Hub'"
check "... and by xmlsec1, an independent verifier" \
	sh -c "xmlsec1 --verify --trusted-pem '$P/root.pem' --untrusted-pem '$P/chain.pem' '$TMP/rpt/$RPT_FILE' >/dev/null 2>&1"
python3 -c 'import re,sys; s=open(sys.argv[1]).read(); open(sys.argv[2],"w").write(re.sub(r"<([A-Za-z]+:)?Signature[ >].*</([A-Za-z]+:)?Signature>","",s,flags=re.S))' \
	"$TMP/rpt/$RPT_FILE" "$TMP/rpt-bare.xml"
check "... converting back to the report sent" sh -c "'$LIENTHONG' convert --from report-packet --to json '$TMP/rpt-bare.xml' >'$TMP/back.json'"
python3 - "$TMP/back.json" "$EX/indicator-report-2024-targets.json" <<'EOF' && ok "... with the same observations" || not_ok "... with the same observations"
import json, sys
a, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
sys.exit(0 if a["payload"] == b["payload"] and a["id"] == b["id"] else 1)
EOF
check "the document axis gets the task progress as edXML signed by the hub" \
	sh -c "[ -n '$EDX_FILE' ] && '$LIENTHONG' verify --trust '$P/trust' '$TMP/edx/$EDX_FILE' | grep -q 'National Data Exchange Hub'"
for _ in $(seq 50); do grep -q '"forward-refused"' "$TMP/serve.log" && break; sleep 0.1; done
check "the task progress, which no report packet carries, is logged as forward-refused" \
	sh -c "grep '\"forward-refused\"' '$TMP/serve.log' | grep -q 'does not carry'"
check "no drop folder was made" test ! -e "$TMP/var/drop"
kill "$SERVE" && wait "$SERVE"
check "serve stops cleanly (SIGTERM)" test $? -eq 0
check "the forward-refused step is in the audit log, with the reason" \
	sh -c "'$LIENTHONG' audit ls -c '$TMP/hub.yaml' --format json | grep 'forward-refused' | grep -q 'does not carry'"
expect_exit "... which verifies" 0 "$LIENTHONG" audit verify -c "$TMP/hub.yaml" --trust "$P/trust"
finish
