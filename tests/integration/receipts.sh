#!/bin/bash
# receipts.sh - delivery you can prove: the sender checks what each
# destination answers. Sinks on loopback answer with forged receipts (alg
# none, a key outside the trust store, a trusted certificate that is not
# the destination's, a receipt for another id, one binding other bytes, an
# unsigned one, a bare acknowledgement where a receipt is required): none
# is ever "receipt verified", each is a failed attempt with its reason,
# retried, then dead-lettered. A real receipt from our own `serve`
# verifies and is shown by queue show. The same file sent twice, signed
# with an EC key and with an RSA key, is "already queued".
. tests/lib.sh
P=$TOP/$B/pki
sh "$TOP/certs/mkpki.sh" "$P" >/dev/null || { not_ok "make the test PKI"; finish; exit 1; }
SINK=$TOP/tests/tools/sink.py
PIDS=()
trap 'kill "${PIDS[@]}" 2>/dev/null; rm -rf "$TMP"' EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
for c in hub ministry-ec ministry-rsa; do cat "$P/$c.pem" "$P/chain.pem" >"$TMP/$c-full.pem"; done
HUB_SUBJECT="CN=National Data Exchange Hub,O=Lienthong Test PKI,C=VN"

# The answer of a sink: a receipt made by the mode's rules, MSG_ID and
# SHA256 (of the bytes received) given by sink.py
cat >"$TMP/answer.sh" <<'EOS'
#!/bin/bash
mode=$1; P=$2; L=$3; T=$(mktemp -d)
id=$MSG_ID sha=$SHA256 outcome=accepted key=hub
case $mode in
other-id) id=0b9e8f7a-6d5c-4b3a-9f1e-00000000ffff ;;
other-hash) sha=$(printf 'other bytes' | sha256sum | cut -d' ' -f1) ;;
rejected) outcome=rejected ;;
sender) key=ministry-ec ;;
rogue) key=rogue ;;
esac
printf '{"kind":"receipt","id":"6a1c1f0e-0000-4000-8000-000000000001","payload":{"messageId":"%s","sha256":"%s","outcome":"%s","time":"2026-12-06T00:00:00Z"}}' \
	"$id" "$sha" "$outcome" >"$T/r.json"
case $mode in
bare) printf '{"ok": true}' ;;
unsigned) cat "$T/r.json" ;;
none) python3 -c 'import base64,sys
b=lambda s: base64.urlsafe_b64encode(s).rstrip(b"=").decode()
print(b(b"{\"alg\":\"none\"}") + "." + b(open(sys.argv[1],"rb").read()) + ".")' "$T/r.json" ;;
rogue) "$L" sign --key "$P/rogue.key" --cert "$P/rogue.pem" "$T/r.json" ;;
*) "$L" sign --key "$P/$key.key" --cert "$P/$key.pem" --chain "$P/chain.pem" "$T/r.json" ;;
esac
rm -rf "$T"
EOS
chmod +x "$TMP/answer.sh"

MODES="good bare unsigned none rogue sender other-id other-hash rejected"
declare -A PORTS
for m in $MODES; do
	PORTS[$m]=$(port)
	python3 "$SINK" --port "${PORTS[$m]}" --cert "$TMP/hub-full.pem" --key "$P/hub.key" \
		--ca "$P/root.pem" --log "$TMP/$m.log" \
		--answer-cmd "$TMP/answer.sh $m $P $LIENTHONG" >"$TMP/$m.out" 2>&1 &
	PIDS+=($!)
done
for m in $MODES; do
	for _ in $(seq 50); do grep -q ready "$TMP/$m.out" 2>/dev/null && break; sleep 0.1; done
done

conf() { # file data_dir key-name
	cat >"$1" <<EOC
gateway:
  name: ministry
  organization: {orgId: 000.00.00.G12, name: Bộ Tài chính}
  data_dir: $2
audit: {store: $2/audit.db}
signing:
  key: $P/$3.key
  cert: $P/$3.pem
  chain: $P/chain.pem
trust:
  dir: $P/trust
destinations:
$(for m in $MODES; do cat <<EOD
  $m:
    url: https://127.0.0.1:${PORTS[$m]}/v1/messages
    ca: $P/root.pem
    cert: $TMP/ministry-ec-full.pem
    key: $P/ministry-ec.key
    receipt: required
    receipt_signer: "$HUB_SUBJECT"
    retry: {max_attempts: 2, backoff_ms: 100, backoff_max_ms: 200}
EOD
done)
routes:
  - kinds: [indicator.report]
    to: [$(echo $MODES | tr ' ' ',')]
EOC
}
conf "$TMP/g.yaml" "$TMP/var" ministry-ec
expect_exit "the configuration with receipt policies is valid" 0 "$LIENTHONG" config check "$TMP/g.yaml"

# required without a signer pinned: refused at load
sed 's/^    receipt_signer: .*//' "$TMP/g.yaml" >"$TMP/nopin.yaml"
expect_exit "receipt: required without receipt_signer is a configuration error" 1 "$LIENTHONG" send -c "$TMP/nopin.yaml" "$TOP/conf/examples/indicator-report-2024-targets.json"
check "... naming the key" grep -q "destinations.good.receipt: required needs receipt_signer" "$TMP/err"
sed 's/receipt: required/receipt: sometimes/' "$TMP/g.yaml" >"$TMP/badpol.yaml"
expect_exit "an unknown receipt policy is a configuration error" 1 "$LIENTHONG" send -c "$TMP/badpol.yaml" "$TOP/conf/examples/indicator-report-2024-targets.json"

MSG=$TOP/conf/examples/indicator-report-2024-targets.json
ID=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$MSG")
expect_exit "send to the nine sinks" 0 "$LIENTHONG" send -c "$TMP/g.yaml" "$MSG"
"$LIENTHONG" deliver -c "$TMP/g.yaml" --once --linger-ms 1500 >"$TMP/deliver.out" 2>&1
"$LIENTHONG" queue -c "$TMP/g.yaml" show "$ID" >"$TMP/show"
"$LIENTHONG" queue -c "$TMP/g.yaml" ls >"$TMP/ls"
state() { awk -v d="$1" '$0 ~ " "d" " {print}' "$TMP/ls"; }
check "a receipt signed by the destination, naming the message and its bytes: delivered" \
	sh -c "grep -q ' good .*done' '$TMP/ls'"
check "... and queue show says it was verified, by whom" \
	grep -q "checked: receipt verified: signed by $HUB_SUBJECT (ES256), accepted" "$TMP/show"
for m in bare unsigned none rogue sender other-id other-hash; do
	check "$m: never delivered (dead after its attempts)" sh -c "grep -q ' $m .*dead' '$TMP/ls'"
	check "$m: attempted twice (a failed attempt is retried)" test "$(wc -l <"$TMP/$m.log")" -eq 2
done
check "bare acknowledgement: the reason says a receipt is required" grep -q "attempt bare .*no receipt in the answer.*required" "$TMP/show"
check "unsigned receipt: the reason" grep -q "attempt unsigned .*an unsigned receipt" "$TMP/show"
check "alg none: the reason names the signature" grep -q "attempt none .*the receipt's signature: " "$TMP/show"
check "key outside the trust store: untrusted" grep -q "attempt rogue .*the receipt's signature: untrusted" "$TMP/show"
check "a trusted certificate that is not the destination's: refused, naming both" \
	grep -q "attempt sender .*signed by 'CN=Ministry of Finance Gateway.*not by the destination ('$HUB_SUBJECT')" "$TMP/show"
check "a receipt for another message: refused" grep -q "attempt other-id .*names another message" "$TMP/show"
check "a receipt binding other bytes: refused" grep -q "attempt other-hash .*binds other bytes" "$TMP/show"
check "a verified receipt saying rejected: dead at once" sh -c "grep -q ' rejected .*dead' '$TMP/ls' && test \$(wc -l <'$TMP/rejected.log') -eq 1"
check "only one receipt was kept: the verified one" test "$(grep -c '^  receipt from ' "$TMP/show")" -eq 1
AUD=(audit ls -c "$TMP/g.yaml")
"$LIENTHONG" "${AUD[@]}" --kind receipt >"$TMP/aud" 2>&1
check "the audit log has one receipt entry (the verified one)" test "$(grep -c receipt "$TMP/aud")" -eq 1
"$LIENTHONG" "${AUD[@]}" --kind attempt >"$TMP/aud" 2>&1
check "... and every failed attempt, audited" test "$(grep -c 'retry\|failed' "$TMP/aud")" -ge 15
"$LIENTHONG" audit verify -c "$TMP/g.yaml" >"$TMP/out" 2>&1
check "audit verify passes" test $? -eq 0

# optional: a bare acknowledgement is fine, a wrong receipt still is not
conf "$TMP/o.yaml" "$TMP/var-opt" ministry-ec
sed -i 's/receipt: required/receipt: optional/' "$TMP/o.yaml"
for m in $MODES; do : >"$TMP/$m.log"; done
"$LIENTHONG" send -c "$TMP/o.yaml" "$MSG" >/dev/null 2>&1
"$LIENTHONG" deliver -c "$TMP/o.yaml" --once --linger-ms 1500 >/dev/null 2>&1
"$LIENTHONG" queue -c "$TMP/o.yaml" ls >"$TMP/ls"
check "optional: a bare acknowledgement completes" sh -c "grep -q ' bare .*done' '$TMP/ls'"
check "optional: a present but forged receipt does not" sh -c "grep -q ' none .*dead' '$TMP/ls' && grep -q ' sender .*dead' '$TMP/ls' && grep -q ' other-hash .*dead' '$TMP/ls'"
check "optional: the good receipt completes" sh -c "grep -q ' good .*done' '$TMP/ls'"

# the trust store's allowed algorithms hold for receipts too
conf "$TMP/a.yaml" "$TMP/var-alg" ministry-ec
sed -i "s#^  dir: $P/trust#  dir: $P/trust\n  algorithms: [PS256, RS256]#" "$TMP/a.yaml"
: >"$TMP/good.log"
"$LIENTHONG" send -c "$TMP/a.yaml" "$MSG" >/dev/null 2>&1
"$LIENTHONG" deliver -c "$TMP/a.yaml" --once --linger-ms 1500 >/dev/null 2>&1
"$LIENTHONG" queue -c "$TMP/a.yaml" show "$ID" >"$TMP/show"
check "trust.algorithms without ES256: the hub's ES256 receipt is refused, naming the algorithm" \
	grep -q "attempt good .*unsupported algorithm.*ES256" "$TMP/show"

# a real receipt from our own serve, pinned to the hub's subject
HPORT=$(port)
cat >"$TMP/hub.yaml" <<EOC
gateway:
  name: hub
  organization: {orgId: 000.00.00.G16, name: Hub}
  data_dir: $TMP/hubvar
signing: {key: $P/hub.key, cert: $P/hub.pem, chain: $P/chain.pem}
trust: {dir: $P/trust}
server:
  listen: 127.0.0.1
  port: $HPORT
  tls: {cert: $TMP/hub-full.pem, key: $P/hub.key}
partners:
  - name: ministry
    subject: "CN=Ministry of Finance Gateway,O=Lienthong Test PKI,C=VN"
    orgId: 000.00.00.G12
    kinds: [indicator.report, task.progress]
    receivers: ["*"]
EOC
"$LIENTHONG" serve -c "$TMP/hub.yaml" >"$TMP/hub.out" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do
	curl -sk "https://127.0.0.1:$HPORT/healthz" --cert "$TMP/ministry-ec-full.pem" --key "$P/ministry-ec.key" >/dev/null 2>&1 && break
	sleep 0.1
done
for k in ministry-ec ministry-rsa; do
	# one message per key: the hub keeps the first bytes it got for an id
	python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); m["id"]=sys.argv[2]; json.dump(m,open(sys.argv[3],"w"),ensure_ascii=False)' \
		"$TOP/conf/examples/indicator-report-2024-targets.json" \
		"$([ $k = ministry-ec ] && echo 5d1f0a3e-7c2b-4e8a-9b61-0000000000e1 || echo 5d1f0a3e-7c2b-4e8a-9b61-0000000000a1)" "$TMP/m-$k.json"
	MSG=$TMP/m-$k.json
	ID=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$MSG")
	cat >"$TMP/r-$k.yaml" <<EOC
gateway:
  name: ministry
  organization: {orgId: 000.00.00.G12, name: Bộ Tài chính}
  data_dir: $TMP/var-$k
signing: {key: $P/$k.key, cert: $P/$k.pem, chain: $P/chain.pem}
trust: {dir: $P/trust}
destinations:
  hub:
    url: https://127.0.0.1:$HPORT/v1/messages
    ca: $P/root.pem
    cert: $TMP/ministry-ec-full.pem
    key: $P/ministry-ec.key
    receipt: required
    receipt_signer: "$HUB_SUBJECT"
routes:
  - kinds: [indicator.report]
    to: [hub]
EOC
	"$LIENTHONG" send -c "$TMP/r-$k.yaml" "$MSG" >"$TMP/s1" 2>&1
	"$LIENTHONG" send -c "$TMP/r-$k.yaml" "$MSG" >"$TMP/s2" 2>&1
	check "$k: the same file sent twice is already queued" grep -q "^$ID (already queued) -> hub" "$TMP/s2"
	sed 's/"value": "100"/"value": "99"/' "$MSG" >"$TMP/other.json"
	expect_exit "$k: the same id with other content is still refused" 1 "$LIENTHONG" send -c "$TMP/r-$k.yaml" "$TMP/other.json"
	"$LIENTHONG" deliver -c "$TMP/r-$k.yaml" --once >/dev/null 2>&1
	"$LIENTHONG" queue -c "$TMP/r-$k.yaml" show "$ID" >"$TMP/show"
	check "$k: our own serve's receipt verifies (signed by the hub, binding the bytes sent)" \
		grep -q "checked: receipt verified: signed by $HUB_SUBJECT" "$TMP/show"
	"$LIENTHONG" queue -c "$TMP/r-$k.yaml" ls >"$TMP/ls"
	check "$k: delivered once" sh -c "grep -q ' hub .*done' '$TMP/ls'"
done

# destinations that want a wire format get the gateway's conversion, and
# the receipt binds those bytes under the converted message's own id: our
# own serve's receipt of edXML (sent as application/xml, read by the hub
# as edXML), and the good sink's receipt of a report packet made with a
# profile (field names renamed, which no hub here reads), verify too
for v in "edxml task-progress-1584-II-9 5d1f0a3e-7c2b-4e8a-9b61-0000000000f1 $HPORT" \
	"report-packet indicator-report-2024-targets 5d1f0a3e-7c2b-4e8a-9b61-0000000000f2 ${PORTS[good]} $TOP/conf/profiles/report-packet-vn.yaml"; do
	set -- $v
	# sent by the ministry itself (the hub's partner "ministry")
	python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); m["id"]=sys.argv[2]
m["sender"]={"orgId": "000.00.00.G12", "name": "Bộ Tài chính"}; json.dump(m,open(sys.argv[3],"w"),ensure_ascii=False)' \
		"$TOP/conf/examples/$2.json" "$3" "$TMP/v-$1.json"
	cat >"$TMP/v-$1.yaml" <<EOC
gateway:
  name: ministry
  organization: {orgId: 000.00.00.G12, name: Bộ Tài chính}
  data_dir: $TMP/var-v-$1
signing: {key: $P/ministry-ec.key, cert: $P/ministry-ec.pem, chain: $P/chain.pem}
trust: {dir: $P/trust}
destinations:
  hub:
    url: https://127.0.0.1:$4/v1/messages
    ca: $P/root.pem
    cert: $TMP/ministry-ec-full.pem
    key: $P/ministry-ec.key
    format: $1
${5:+    profile: $5}
    receipt: required
    receipt_signer: "$HUB_SUBJECT"
routes:
  - kinds: [indicator.report, task.progress]
    to: [hub]
EOC
	"$LIENTHONG" send -c "$TMP/v-$1.yaml" "$TMP/v-$1.json" >"$TMP/s1" 2>&1
	"$LIENTHONG" send -c "$TMP/v-$1.yaml" "$TMP/v-$1.json" >"$TMP/s2" 2>&1
	# the converted message has an id of its own, derived from the
	# canonical one: "ID -> hub (application/xml of CANONICAL-ID)"
	VID=$(sed -n "s/^\([0-9a-f-]*\) -> hub (.* of $3)\$/\1/p" "$TMP/s1")
	check "$1${5:+ with a profile}: queued as a variant of the canonical message" test -n "$VID"
	check "$1${5:+ with a profile}: the same file sent twice is already queued" grep -q "^$VID (already queued) -> hub" "$TMP/s2"
	"$LIENTHONG" deliver -c "$TMP/v-$1.yaml" --once >/dev/null 2>&1
	"$LIENTHONG" queue -c "$TMP/v-$1.yaml" show "$VID" >"$TMP/show"
	check "$1${5:+ with a profile}: the hub's receipt of the converted bytes verifies" \
		grep -q "checked: receipt verified: signed by $HUB_SUBJECT" "$TMP/show"
	"$LIENTHONG" queue -c "$TMP/v-$1.yaml" ls >"$TMP/ls"
	check "$1${5:+ with a profile}: delivered once" sh -c "grep -q ' hub .*done' '$TMP/ls'"
done
finish
