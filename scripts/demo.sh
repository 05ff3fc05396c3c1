#!/bin/bash
# demo.sh - what `make demo` runs: the gateway's main job on loopback with
# embedded defaults and no external services. Today that is: validate the
# example messages of the Ministry of Finance (plans, tasks, indicator
# targets derived from 1584/QĐ-BTC and 844/QĐ-BTC), convert them between
# XML and JSON, sign and verify them against the test PKI, and show that
# hostile and tampered input is refused; send to two sinks; import the
# seed plan tables; then two gateways of the same binary (ministry, hub):
# the indicator targets imported from the seed plan table flow ministry ->
# hub as SDMX-ML (canonical JSON, said so, when the SDMX schemas of
# ../shared are absent), a partner's task assignment flows partner ->
# ministry -> drop folder, each with a signed receipt; everything started
# is stopped.
set -u
LIENTHONG=${LIENTHONG:-bin/lienthong}
OUT=${DEMO_OUT:-build/demo}
EX=conf/examples
mkdir -p "$OUT"
if [ -t 1 ]; then B1=$(printf '\033[1m') B0=$(printf '\033[0m'); else B1= B0=; fi
step() { printf '\n%s== %s%s\n' "$B1" "$*" "$B0"; }
run() { printf '$ %s\n' "$*" >&2; "$@"; }
fail() { echo "demo: $*" >&2; exit 1; }

step "1. Validate every example message (XML against schemas/message-1.xsd, JSON against schemas/message-1.schema.json, then business rules)"
run "$LIENTHONG" validate "$EX"/*.json "$EX"/*.xml || fail "an example did not validate"

step "2. Convert the 2024 online-service indicator targets (1584/QĐ-BTC, Appendix I) from JSON to XML and back"
run "$LIENTHONG" convert --to xml "$EX/indicator-report-2024-targets.json" >"$OUT/indicators.xml" || fail "convert"
sed -n '1,12p' "$OUT/indicators.xml"; echo "  ... ($(wc -l <"$OUT/indicators.xml") lines in $OUT/indicators.xml)"
run "$LIENTHONG" convert --to json "$OUT/indicators.xml" >"$OUT/indicators.json" || fail "convert back"
python3 -c 'import json,sys; a,b=(json.load(open(p)) for p in sys.argv[1:]); sys.exit(a!=b)' \
	"$EX/indicator-report-2024-targets.json" "$OUT/indicators.json" &&
	echo "round trip JSON -> XML -> JSON: identical"

step "3. Refuse what must be refused"
run "$LIENTHONG" validate tests/data/invalid/secret.json; echo "(exit $?: a secret message is refused everywhere)"
run "$LIENTHONG" validate tests/data/hostile/xxe-passwd.xml; echo "(exit $?: external entity refused, nothing of /etc/passwd read)"
run "$LIENTHONG" validate tests/data/invalid/timeline-reversed.json; echo "(exit $?: business rule, located by JSON Pointer)"

step "4. Sign and verify with the test PKI (certs/mkpki.sh; throwaway keys in $OUT/pki)"
sh certs/mkpki.sh "$OUT/pki" >/dev/null || fail "cannot make the test PKI"
P=$OUT/pki
run "$LIENTHONG" sign --key "$P/ministry-ec.key" --cert "$P/ministry-ec.pem" --chain "$P/chain.pem" \
	"$EX/task-assignment-1584-II-9.xml" >"$OUT/task-signed.xml" || fail "sign XML"
run "$LIENTHONG" verify --trust "$P/trust" "$OUT/task-signed.xml" || fail "verify XML"
if command -v xmlsec1 >/dev/null; then
	printf 'independent check, xmlsec1 --verify: '
	xmlsec1 --verify --trusted-pem "$P/root.pem" --enabled-key-data x509 \
		"$OUT/task-signed.xml" 2>&1 | grep -E '^(OK|FAIL)'
fi
run "$LIENTHONG" sign --key "$P/ministry-ec.key" --cert "$P/ministry-ec.pem" --chain "$P/chain.pem" \
	--format flattened "$EX/indicator-report-2024-targets.json" >"$OUT/indicators.jws" || fail "sign JSON"
run "$LIENTHONG" verify --trust "$P/trust" "$OUT/indicators.jws" || fail "verify JWS"
sed 's/Quý II năm 2024/Quý III năm 2024/' "$OUT/task-signed.xml" >"$OUT/task-tampered.xml"
run "$LIENTHONG" verify --trust "$P/trust" "$OUT/task-tampered.xml"; echo "(exit $?: one changed word breaks the digest)"
run "$LIENTHONG" sign --key "$P/revoked.key" --cert "$P/revoked.pem" --chain "$P/chain.pem" \
	"$EX/receipt-accepted.xml" >"$OUT/revoked-signed.xml"
run "$LIENTHONG" verify --trust "$P/trust" "$OUT/revoked-signed.xml"; echo "(exit $?: revoked signer)"

step "5. Report once, deliver to many: send the indicator targets and a task to two national platforms (local sinks on loopback, mutual TLS)"
cat "$P/hub.pem" "$P/chain.pem" >"$OUT/hub-full.pem"
cat "$P/ministry-ec.pem" "$P/chain.pem" >"$OUT/ministry-full.pem"
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
SINK_PIDS=()
trap 'kill "${SINK_PIDS[@]}" 2>/dev/null' EXIT
for name in hub report; do
	p=$(port)
	eval "PORT_$name=$p"
	: >"$OUT/$name-received.log"
	python3 tests/tools/sink.py --port "$p" --cert "$OUT/hub-full.pem" --key "$P/hub.key" \
		--ca "$P/root.pem" --log "$OUT/$name-received.log" >"$OUT/$name.out" 2>&1 &
	SINK_PIDS+=($!)
done
rm -rf "$OUT/var"
cat >"$OUT/demo.yaml" <<EOC
gateway:
  name: ministry
  organization: {orgId: 000.00.00.G12, name: Bộ Tài chính}
  data_dir: var
destinations:
  data-platform:
    url: https://127.0.0.1:$PORT_hub/v1/messages
    ca: pki/root.pem
    cert: ministry-full.pem
    key: pki/ministry-ec.key
  reporting-system:
    url: https://127.0.0.1:$PORT_report/v1/messages
    ca: pki/root.pem
    cert: ministry-full.pem
    key: pki/ministry-ec.key
routes:
  - kinds: [indicator.report, plan]
    to: [data-platform, reporting-system]
  - kinds: [task.assignment, task.progress]
    to: [data-platform]
EOC
sleep 0.5
run "$LIENTHONG" send -c "$OUT/demo.yaml" "$EX/indicator-report-2024-targets.json" \
	"$EX/plan-1584.xml" "$EX/task-progress-1584-II-9.json" || fail "send"
run "$LIENTHONG" deliver -c "$OUT/demo.yaml" --once || fail "deliver"
run "$LIENTHONG" queue -c "$OUT/demo.yaml" ls
echo "the data platform received $(wc -l <"$OUT/hub-received.log") messages, the reporting system $(wc -l <"$OUT/report-received.log") ($OUT/*-received.log)"
kill "${SINK_PIDS[@]}" 2>/dev/null

if "$LIENTHONG" help import >/dev/null 2>&1 && ls ../shared/seeds/004_*.txt >/dev/null 2>&1; then
	step "6. Import the plan tables of 1584/QĐ-BTC (../shared/seeds/004) into canonical messages"
	run "$LIENTHONG" import --adapter plan-tables -o "$OUT/import-004" ../shared/seeds/004_*.txt || fail "import"
	run "$LIENTHONG" validate "$OUT"/import-004/* | tail -3
fi

if "$LIENTHONG" help audit >/dev/null 2>&1; then
	step "7. The audit log"
	echo "see docs/AUDIT.md; 'lienthong audit ls -c CONF' lists what was exchanged"
fi

if "$LIENTHONG" help serve >/dev/null 2>&1; then
	step "8. Two gateways of the same binary: the ministry (conf/ministry.yaml, :7443) and the national hub (conf/hub.yaml, :8443); a partner agency sends a signed task assignment over mutual TLS"
	sh certs/mkpki.sh >/dev/null || fail "cannot make the test PKI in certs/out"
	C=certs/out
	for n in ministry-ec hub partner-a; do # older certs/out: the full chains
		[ -f $C/$n-full.pem ] || cat $C/$n.pem $C/chain.pem >$C/$n-full.pem
	done
	rm -rf var/ministry var/hub && mkdir -p var
	# the indicator targets: imported from the seed plan table (step 6), or
	# the committed example derived from the same table
	TARGETS=
	if ls ../shared/seeds/004_*.txt >/dev/null 2>&1; then # step 6 ran
		TARGETS=$(ls "$OUT"/import-004/*-indicator-report.json 2>/dev/null | head -1)
	fi
	if [ -n "$TARGETS" ]; then
		echo "indicator targets: imported from the seed plan table ($TARGETS)"
	else
		TARGETS=$EX/indicator-report-2024-targets.json
		echo "indicator targets: the seed plan tables (../shared/seeds) are absent, so the committed example $TARGETS (the same table of 1584/QĐ-BTC) is sent"
	fi
	# SDMX-ML needs the official SDMX schemas (docs/FORMATS.md)
	SDMX=${LIENTHONG_SDMX_DIR:-../shared/testsuites/sdmx}
	MCONF=conf/ministry.yaml
	if [ -f "$SDMX/SDMXMessage.xsd" ] || [ -f "$SDMX/sdmx-ml-3.0/schemas/SDMXMessage.xsd" ]; then
		export LIENTHONG_SDMX_DIR=$SDMX
		HUB_FORMAT="SDMX-ML 3.0"
		echo "the ministry sends them to the hub as SDMX-ML 3.0 (destination national-hub has format: sdmx-ml; schemas from $SDMX)"
	else
		# same folder depth as conf/, so the relative paths stay right
		MCONF=var/ministry-canonical.yaml
		grep -v '^    format: sdmx-ml' conf/ministry.yaml >"$MCONF"
		HUB_FORMAT="canonical JSON"
		echo "NOTE: the SDMX schemas are absent ($SDMX, see docs/FORMATS.md): the ministry falls back to canonical JSON for the hub ($MCONF is conf/ministry.yaml without format: sdmx-ml)"
	fi
	echo "the ministry queues its indicator targets for the national hub (the gateway it starts next delivers them):"
	run "$LIENTHONG" send -c "$MCONF" "$TARGETS" | tee "$OUT/send-hub.out" || fail "send"
	# the hub files it under the message id (a wire variant names it: "of ID")
	HUB_ID=$(sed -n -e 's/^.* -> national-hub (.* of \([0-9a-f-]*\))$/\1/p' \
		-e 's/^\([0-9a-f-]*\) -> national-hub$/\1/p' "$OUT/send-hub.out" | head -1)
	GW_PIDS=()
	trap 'kill "${SINK_PIDS[@]}" "${GW_PIDS[@]}" 2>/dev/null' EXIT
	"$LIENTHONG" serve -c conf/hub.yaml 2>"$OUT/hub-serve.log" &
	GW_PIDS+=($!)
	"$LIENTHONG" serve -c "$MCONF" 2>"$OUT/ministry-serve.log" &
	GW_PIDS+=($!)
	for p in 7443 8443; do
		for _ in $(seq 50); do curl -s --cacert $C/root.pem https://127.0.0.1:$p/healthz >/dev/null 2>&1 && break; sleep 0.1; done
	done
	curl -s --cacert $C/root.pem https://127.0.0.1:7443/readyz >/dev/null || fail "the ministry gateway did not start (see $OUT/ministry-serve.log; ports 7443 and 8443 must be free)"
	run "$LIENTHONG" sign --key $C/partner-a.key --cert $C/partner-a.pem --chain $C/chain.pem \
		"$EX/task-assignment-from-vpcp.xml" >"$OUT/vpcp-task.xml" || fail "sign as the partner"
	run curl -sS --cacert $C/root.pem --cert $C/partner-a-full.pem --key $C/partner-a.key \
		-H 'Content-Type: application/xml' --data-binary @"$OUT/vpcp-task.xml" \
		-o "$OUT/vpcp-receipt.xml" -w 'HTTP %{http_code}\n' https://127.0.0.1:7443/v1/messages || fail "post"
	printf 'receipt signed by: '
	"$LIENTHONG" verify --trust $C/trust "$OUT/vpcp-receipt.xml" || fail "the receipt does not verify"
	echo "receipt binds sha256 $(sed -n 's:.*<sha256>\([0-9a-f]*\)</sha256>.*:\1:p' "$OUT/vpcp-receipt.xml")"
	echo "             the bytes sent: $(sha256sum <"$OUT/vpcp-task.xml" | cut -d' ' -f1)"
	for _ in $(seq 100); do [ -n "$(ls var/ministry/drop 2>/dev/null)" ] && break; sleep 0.1; done
	echo "internal drop folder: $(ls var/ministry/drop)"
	run curl -sS --cacert $C/root.pem --cert $C/partner-a-full.pem --key $C/partner-a.key \
		-H 'Content-Type: application/xml' --data-binary @"$OUT/vpcp-task.xml" \
		-o /dev/null -w 'the same message again: HTTP %{http_code} with the original receipt\n' https://127.0.0.1:7443/v1/messages
	run curl -sS --cacert $C/root.pem -o /dev/null -w 'without a client certificate: HTTP %{http_code}\n' \
		-H 'Content-Type: application/xml' --data-binary @"$OUT/vpcp-task.xml" https://127.0.0.1:7443/v1/messages
	echo "the partner sends another task assignment as edXML (QCVN 102:2016), signed; the ministry answers with an edXML status message:"
	sed 's/c2b7e1f0-9d44-4b0e-a1d2-000844020001/c2b7e1f0-9d44-4b0e-a1d2-0008440200e1/' \
		"$EX/task-assignment-from-vpcp.json" >"$OUT/vpcp-task2.json"
	run "$LIENTHONG" convert --to edxml "$OUT/vpcp-task2.json" >"$OUT/vpcp-task2.edxml" || fail "convert to edXML"
	run "$LIENTHONG" sign --key $C/partner-a.key --cert $C/partner-a.pem --chain $C/chain.pem \
		"$OUT/vpcp-task2.edxml" >"$OUT/vpcp-task2-signed.edxml" || fail "sign the edXML as the partner"
	run curl -sS --cacert $C/root.pem --cert $C/partner-a-full.pem --key $C/partner-a.key \
		-H 'Content-Type: application/edxml+xml' --data-binary @"$OUT/vpcp-task2-signed.edxml" \
		-o "$OUT/vpcp-receipt2.edxml" -w 'HTTP %{http_code}\n' https://127.0.0.1:7443/v1/messages || fail "post edXML"
	printf 'edXML receipt signed by: '
	"$LIENTHONG" verify --trust $C/trust "$OUT/vpcp-receipt2.edxml" || fail "the edXML receipt does not verify"
	echo "edXML StatusCode $(sed -n 's:.*<StatusCode>\([0-9]*\)</StatusCode>.*:\1:p' "$OUT/vpcp-receipt2.edxml") (03: accepted), in $OUT/vpcp-receipt2.edxml"
	for _ in $(seq 100); do [ -f var/ministry/drop/c2b7e1f0-9d44-4b0e-a1d2-0008440200e1.json ] && break; sleep 0.1; done
	echo "internal drop folder now: $(ls var/ministry/drop | tr '\n' ' ')(the edXML as received, and the canonical task assignment .json)"

	step "9. The ministry's gateway has forwarded the queued indicator targets to the hub ($HUB_FORMAT over mutual TLS), which answered with a signed receipt"
	for _ in $(seq 100); do [ -n "$(ls var/hub/drop 2>/dev/null)" ] && break; sleep 0.1; done
	echo "hub drop folder: $(ls var/hub/drop | tr '\n' ' ')"
	# the ministry checked the hub's receipt before calling it delivered
	# (receipt: required, receipt_signer: the hub; docs/DELIVERY.md)
	OUT_ID=$(sed -n 's/^\([0-9a-f-]*\)\( (already queued)\)\{0,1\} -> national-hub.*/\1/p' "$OUT/send-hub.out" | head -1)
	for _ in $(seq 100); do
		"$LIENTHONG" queue -c "$MCONF" show "$OUT_ID" 2>/dev/null | grep -q 'checked: receipt verified' && break
		sleep 0.1
	done
	"$LIENTHONG" queue -c "$MCONF" show "$OUT_ID" | grep 'checked:' ||
		fail "the ministry did not verify the hub's receipt for $OUT_ID (see $OUT/ministry-serve.log)"
	"$LIENTHONG" queue -c "$MCONF" show "$OUT_ID" | grep -q 'checked: receipt verified' ||
		fail "the hub's receipt for $OUT_ID did not verify"
	run "$LIENTHONG" queue -c "$MCONF" ls
	if [ -n "$HUB_ID" ]; then
		run curl -sS --cacert $C/root.pem --cert $C/ministry-ec-full.pem --key $C/ministry-ec.key \
			-o "$OUT/hub-receipt" -w 'the hub'"'"'s receipt for %{url}: HTTP %{http_code}\n' \
			"https://127.0.0.1:8443/v1/messages/$HUB_ID/receipt"
		printf 'hub receipt signed by: '
		"$LIENTHONG" verify --trust $C/trust "$OUT/hub-receipt" || echo "(the hub's receipt did not verify)"
		echo "it binds sha256 $(python3 - "$OUT/hub-receipt" <<'PY'
import base64, json, re, sys
s = open(sys.argv[1]).read()
try:  # a JWS (canonical JSON) or an XML-DSig receipt
	p = json.loads(s)["payload"]
	print(json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))["payload"]["sha256"])
except ValueError:
	print(re.search(r"<sha256>([0-9a-f]{64})</sha256>", s).group(1))
PY
) of what the hub received ($OUT/hub-receipt)"
		[ -f "var/hub/drop/$HUB_ID.xml" ] && sed -n '1,4p' "var/hub/drop/$HUB_ID.xml" | cut -c1-160
	fi
	curl -s --cacert $C/root.pem https://127.0.0.1:7443/metrics | grep -E '^lienthong_(http_requests_total|deliveries|messages_accepted)'
	kill -TERM "${GW_PIDS[@]}"; wait "${GW_PIDS[@]}" 2>/dev/null
	run "$LIENTHONG" audit ls -c "$MCONF"
	run "$LIENTHONG" audit verify -c "$MCONF"
	echo "both gateways stopped (SIGTERM); their logs: $OUT/ministry-serve.log, $OUT/hub-serve.log;"
	echo "inboxes: var/ministry/inbox.db, var/hub/inbox.db; drop folders: var/ministry/drop (the partner's task), var/hub/drop (the targets: the bytes received and, for SDMX-ML, the canonical .json)"
fi

step "Done. Outputs are in $OUT/; run 'make test' for the full test suite."
