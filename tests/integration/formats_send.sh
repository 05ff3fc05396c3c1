#!/bin/bash
# formats_send.sh - destinations that want a wire format: send converts the
# canonical message to the destination's format (validated), signs it and
# enqueues it under an id derived from the message id; deliver carries it
# over mutual TLS to a loopback sink; the delivered edXML and report packet
# verify against the trust store and convert back to the same message; a
# destination without a format still gets the canonical message.
. tests/lib.sh
P=$TOP/$B/pki
sh "$TOP/certs/mkpki.sh" "$P" >/dev/null || { not_ok "make the test PKI"; finish; exit 1; }
cat "$P/hub.pem" "$P/chain.pem" >"$TMP/hub-full.pem"
cat "$P/ministry-ec.pem" "$P/chain.pem" >"$TMP/ministry-full.pem"
SINK=$TOP/tests/tools/sink.py
EX=$TOP/conf/examples
PIDS=()
trap 'kill "${PIDS[@]}" 2>/dev/null; rm -rf "$TMP"' EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
start_sink() { # name port
	mkdir -p "$TMP/$1"
	python3 "$SINK" --port "$2" --cert "$TMP/hub-full.pem" --key "$P/hub.key" \
		--ca "$P/root.pem" --log "$TMP/$1.log" --save "$TMP/$1" >"$TMP/$1.out" 2>&1 &
	PIDS+=($!)
	for _ in $(seq 50); do grep -q ready "$TMP/$1.out" 2>/dev/null && return 0; sleep 0.1; done
	return 1
}
CAN=$(port) EDX=$(port) RPT=$(port)
start_sink canon "$CAN" && start_sink edx "$EDX" && start_sink rpt "$RPT" ||
	{ not_ok "start the sinks"; finish; exit 1; }

dest() { # name port [format]
	cat <<EOD
  $1:
    url: https://127.0.0.1:$2/v1/messages
    ca: $P/root.pem
    cert: $TMP/ministry-full.pem
    key: $P/ministry-ec.key
    timeout_ms: 5000
${3:+    format: $3}
EOD
}
cat >"$TMP/g.yaml" <<EOC
gateway:
  name: ministry
  organization: {orgId: 000.00.00.G12, name: Bộ Tài chính}
  data_dir: $TMP/var
signing:
  key: $P/ministry-ec.key
  cert: $P/ministry-ec.pem
  chain: $P/chain.pem
destinations:
$(dest canon "$CAN")
$(dest axis "$EDX" edxml)
$(dest reporting "$RPT" report-packet-json)
routes:
  - kinds: [task.progress]
    to: [canon, axis]
  - kinds: [indicator.report]
    to: [reporting]
EOC
expect_exit "a destination may name a wire format" 0 "$LIENTHONG" config check "$TMP/g.yaml"
sed 's/format: edxml/format: edifact/' "$TMP/g.yaml" >"$TMP/bad.yaml"
expect_exit "an unknown wire format is a configuration error" 1 "$LIENTHONG" config check "$TMP/bad.yaml"

PROG=0b9e8f7a-6d5c-4b3a-9f1e-1584a0000309
REP=3f1c2a9e-5b7d-4c1e-9a2b-1584a0000001
expect_exit "send converts for the destinations that want a format" 0 \
	"$LIENTHONG" send -c "$TMP/g.yaml" "$EX/task-progress-1584-II-9.json" "$EX/indicator-report-2024-targets.xml"
cp "$TMP/out" "$TMP/sent"
check "the canonical message goes to the destination without a format" grep -q "^$PROG -> canon\$" "$TMP/sent"
check "the edXML variant goes to the edXML destination" grep -q " -> axis (application/xml of $PROG)" "$TMP/sent"
check "the report packet goes to the reporting system" grep -q " -> reporting (application/jose+json of $REP)" "$TMP/sent"
check "the indicator report has no canonical copy queued (no such route)" test "$(grep -c "^$REP" "$TMP/sent")" -eq 0
EDX_ID=$(sed -n 's/^\([0-9a-f-]*\) -> axis .*/\1/p' "$TMP/sent")
RPT_ID=$(sed -n 's/^\([0-9a-f-]*\) -> reporting .*/\1/p' "$TMP/sent")
# without signing (ECDSA signatures differ on each run) the same files
# sent again are the same bytes under the same ids: nothing new is queued
sed -e '/^signing:/,/^  chain:/d' -e "s#data_dir: .*#data_dir: $TMP/var-unsigned#" "$TMP/g.yaml" >"$TMP/u.yaml"
"$LIENTHONG" send -c "$TMP/u.yaml" "$EX/task-progress-1584-II-9.json" "$EX/indicator-report-2024-targets.xml" >"$TMP/first" 2>&1
expect_exit "sending the same files again queues nothing new" 0 \
	"$LIENTHONG" send -c "$TMP/u.yaml" "$EX/task-progress-1584-II-9.json" "$EX/indicator-report-2024-targets.xml"
check "... the variants keep their ids" test "$(grep -c '(already queued)' "$TMP/out")" -eq 3
check "... the same ids as with signing" grep -q "^$EDX_ID -> axis" "$TMP/first"
check "unsigned, the report packet is plain JSON" grep -q " -> reporting (application/json of $REP)" "$TMP/first"
expect_exit "deliver" 0 "$LIENTHONG" deliver -c "$TMP/g.yaml" --once --linger-ms 200
check "the canonical message arrived" test -s "$TMP/canon/$PROG"
check "the edXML arrived under its own idempotency key" test -s "$TMP/edx/$EDX_ID"
check "the report packet arrived" test -s "$TMP/rpt/$RPT_ID"
expect_exit "the delivered edXML is signed and verifies" 0 \
	"$LIENTHONG" verify --trust "$P/trust" "$TMP/edx/$EDX_ID"
expect_exit "the delivered report packet (JWS) verifies" 0 \
	"$LIENTHONG" verify --trust "$P/trust" "$TMP/rpt/$RPT_ID"
expect_exit "the delivered edXML converts back" 0 \
	"$LIENTHONG" convert --from edxml --to json "$TMP/edx/$EDX_ID"
python3 - "$TMP/out" "$EX/task-progress-1584-II-9.json" <<'EOF' && ok "... to the message sent" || not_ok "... to the message sent"
import json, sys
sys.exit(0 if json.load(open(sys.argv[1])) == json.load(open(sys.argv[2])) else 1)
EOF
check "the edXML carries status code 06 (finished)" grep -q '<StatusCode>06</StatusCode>' "$TMP/edx/$EDX_ID"
finish
