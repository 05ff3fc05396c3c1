#!/bin/bash
# audit.sh - the verifiable audit log end to end on loopback: send and
# deliver to a local sink (one platform accepts, one answers 400), then
# audit ls/show/verify/prove/checkpoint/consistency; an auditor checks the
# proofs with nothing but the proof, the checkpoint and the CA; a log
# tampered with through sqlite fails `audit verify`, naming the entry.
. tests/lib.sh
P=$TOP/$B/pki
sh "$TOP/certs/mkpki.sh" "$P" >/dev/null || { not_ok "make the test PKI"; finish; exit 1; }
cat "$P/hub.pem" "$P/chain.pem" >"$TMP/hub-full.pem"
cat "$P/ministry-ec.pem" "$P/chain.pem" >"$TMP/ministry-full.pem"
SINK=$TOP/tests/tools/sink.py
PIDS=()
trap 'kill "${PIDS[@]}" 2>/dev/null; rm -rf "$TMP"' EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
start_sink() { # name port [args]
	local name=$1 p=$2; shift 2
	python3 "$SINK" --port "$p" --cert "$TMP/hub-full.pem" --key "$P/hub.key" \
		--ca "$P/root.pem" --log "$TMP/$name.log" "$@" >"$TMP/$name.out" 2>&1 &
	PIDS+=($!)
	for _ in $(seq 50); do grep -q ready "$TMP/$name.out" 2>/dev/null && return 0; sleep 0.1; done
	return 1
}
HUB=$(port) BAD=$(port)
start_sink hub "$HUB" && start_sink bad "$BAD" --status 400 ||
	{ not_ok "start the sinks"; finish; exit 1; }

cat >"$TMP/g.yaml" <<EOC
gateway:
  name: ministry
  organization: {orgId: 000.00.00.G12, name: Bộ Tài chính}
  data_dir: $TMP/var
signing:
  key: $P/ministry-ec.key
  cert: $P/ministry-ec.pem
  chain: $P/chain.pem
trust:
  dir: $P/trust
destinations:
  hub:
    url: https://127.0.0.1:$HUB/v1/messages
    ca: $P/root.pem
    cert: $TMP/ministry-full.pem
    key: $P/ministry-ec.key
  bad:
    url: https://127.0.0.1:$BAD/v1/messages
    ca: $P/root.pem
    cert: $TMP/ministry-full.pem
    key: $P/ministry-ec.key
routes:
  - kinds: [indicator.report]
    to: [hub]
  - kinds: [task.progress]
    to: [bad]
audit:
  checkpoint_interval_s: 0
  archive: true
  retention_days: 30
EOC
expect_exit "a configuration with audit: is valid" 0 "$LIENTHONG" config check "$TMP/g.yaml"
AUD=(--config "$TMP/g.yaml")

python3 - "$TMP/m" "$TOP/conf/examples/indicator-report-2024-targets.json" <<'EOP'
import json, sys, uuid, os
d, ex = sys.argv[1], sys.argv[2]
os.makedirs(d, exist_ok=True)
m = json.load(open(ex))
for i in range(5):
    m["id"] = str(uuid.uuid5(uuid.NAMESPACE_URL, "audit-%d" % i))
    json.dump(m, open("%s/r%d.json" % (d, i), "w"), ensure_ascii=False)
EOP
ID=$(python3 -c 'import uuid; print(uuid.uuid5(uuid.NAMESPACE_URL, "audit-2"))')
PROG=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$TOP/conf/examples/task-progress-1584-II-9.json")
expect_exit "send: 5 reports and a progress report queued, an invalid one refused" 1 \
	"$LIENTHONG" send -c "$TMP/g.yaml" "$TMP"/m/*.json "$TOP/conf/examples/task-progress-1584-II-9.json" \
	"$TOP/tests/data/invalid/bad-uuid.json"
"$LIENTHONG" deliver -c "$TMP/g.yaml" --once >"$TMP/out" 2>&1
check "deliver: 5 delivered, 1 dead" grep -q "5 delivered, 0 to retry, 1 dead" "$TMP/out"

# ls, with its filters and formats
expect_exit "audit ls" 0 "$LIENTHONG" audit ls "${AUD[@]}"
cp "$TMP/out" "$TMP/ls"
for ev in refused validated signed queued attempt delivered receipt dead-lettered; do
	check "audit ls shows '$ev' entries" grep -q " $ev " "$TMP/ls"
done
check "each of the 5 reports is validated, signed, queued, attempted, delivered, with a receipt" \
	test "$(awk '$3 ~ /^(validated|signed|queued|attempt|delivered|receipt)$/ && $5=="indicator.report"' "$TMP/ls" | wc -l)" -eq 30
"$LIENTHONG" audit ls "${AUD[@]}" --kind dead-lettered >"$TMP/out"
check "--kind dead-lettered: the progress report, with the 400" \
	test "$(wc -l <"$TMP/out")" -eq 1 -a "$(grep -c "$PROG.*HTTP 400" "$TMP/out")" -eq 1
"$LIENTHONG" audit ls "${AUD[@]}" --outcome refused >"$TMP/out"
check "--outcome refused: the invalid message with the reason" grep -q "refused.*invalid" "$TMP/out"
"$LIENTHONG" audit ls "${AUD[@]}" --partner hub --kind delivered >"$TMP/out"
check "--partner hub --kind delivered: 5" test "$(wc -l <"$TMP/out")" -eq 5
"$LIENTHONG" audit ls "${AUD[@]}" --since 2999-01-01 >"$TMP/out"
check "--since in the future: nothing" test ! -s "$TMP/out"
"$LIENTHONG" audit ls "${AUD[@]}" --until "$(date -u +%Y-%m-%dT%H:%M:%SZ -d '+1 hour')" >"$TMP/out"
check "--until in an hour: everything" test "$(wc -l <"$TMP/out")" -eq "$(wc -l <"$TMP/ls")"
"$LIENTHONG" audit ls "${AUD[@]}" --format json >"$TMP/ls.json"
check "--format json: an array of the same entries, each with a digest of the bytes" python3 - "$TMP/ls.json" "$(wc -l <"$TMP/ls")" <<'EOP'
import json, sys
a = json.load(open(sys.argv[1]))
assert len(a) == int(sys.argv[2]), len(a)
assert [e["index"] for e in a] == list(range(len(a)))
assert all(len(e["digest"]) == 64 for e in a if e["event"] in ("validated", "signed", "queued"))
assert any(e["signer"].find("CN=") >= 0 for e in a if e["event"] == "signed")
EOP
"$LIENTHONG" audit ls "${AUD[@]}" --format csv >"$TMP/ls.csv"
check "--format csv: header and one row per entry (python csv reads it)" python3 - "$TMP/ls.csv" "$(wc -l <"$TMP/ls")" <<'EOP'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
assert len(rows) == int(sys.argv[2]) and rows[0]["index"] == "0"
EOP
expect_exit "--format xml is a usage error" 2 "$LIENTHONG" audit ls "${AUD[@]}" --format xml
expect_exit "--since nonsense is a usage error" 2 "$LIENTHONG" audit ls "${AUD[@]}" --since yesterday

# show: one message's life in order
"$LIENTHONG" audit show "${AUD[@]}" "$ID" >"$TMP/show"
check "audit show lists the message's entries in order" \
	test "$(awk 'NR%2==1{print $3}' "$TMP/show" | tr '\n' ' ')" = "validated signed queued attempt delivered receipt "
expect_exit "audit show of an unknown id: exit 1" 1 "$LIENTHONG" audit show "${AUD[@]}" no-such-id

# proofs, checked by an auditor with only the checkpoint and the CA
expect_exit "audit verify: the log holds" 0 "$LIENTHONG" audit verify "${AUD[@]}"
check "... its checkpoints checked against the gateway's own signing certificate" \
	grep -q "checkpoint signatures checked against the gateway's signing certificate '.*ministry-ec.pem'" "$TMP/out"
sed '/^signing:/,/^  chain:/d; /^trust:/,/^  dir:/d' "$TMP/g.yaml" >"$TMP/nosig.yaml"
expect_exit "audit verify without signing: or trust: holds (exit 0)" 0 "$LIENTHONG" audit verify -c "$TMP/nosig.yaml"
check "... but says the checkpoint signatures were not checked" grep -q "checkpoint signatures NOT checked" "$TMP/out"
expect_exit "... and --require-signed makes that an error" 1 "$LIENTHONG" audit verify -c "$TMP/nosig.yaml" --require-signed
expect_exit "audit prove exports the inclusion proof" 0 "$LIENTHONG" audit prove "${AUD[@]}" "$ID" -o "$TMP/proof.json"
expect_exit "audit checkpoint --get latest writes the signed checkpoint" 0 \
	"$LIENTHONG" audit checkpoint "${AUD[@]}" --get latest -o "$TMP/cp1.jws"
# -o to a FIFO, /dev/null or through a symlink: written in place, never
# replaced by the atomic rename (issue 23)
mkfifo "$TMP/cp.fifo"
cat "$TMP/cp.fifo" >"$TMP/cp.fromfifo" &
fifo_reader=$!
expect_exit "audit checkpoint -o FIFO writes into the FIFO" 0 \
	"$LIENTHONG" audit checkpoint "${AUD[@]}" --get latest -o "$TMP/cp.fifo"
wait "$fifo_reader"
check "... the FIFO stays a FIFO" test -p "$TMP/cp.fifo"
check "... and the reader got the checkpoint" cmp -s "$TMP/cp.fromfifo" "$TMP/cp1.jws"
expect_exit "audit checkpoint -o /dev/null" 0 \
	"$LIENTHONG" audit checkpoint "${AUD[@]}" --get latest -o /dev/null
check "... /dev/null stays a character device" test -c /dev/null
ln -s cp.target "$TMP/cp.link"
expect_exit "audit checkpoint -o SYMLINK follows the link" 0 \
	"$LIENTHONG" audit checkpoint "${AUD[@]}" --get latest -o "$TMP/cp.link"
check "... the link stays a link to the written file" sh -c "test -L '$TMP/cp.link' && cmp -s '$TMP/cp.target' '$TMP/cp1.jws'"
mkdir "$TMP/auditor"
cp "$TMP/proof.json" "$TMP/cp1.jws" "$TMP/auditor/"
cp -r "$P/trust" "$TMP/auditor/ca"
expect_exit "verify-proof with only the checkpoint and the CA" 0 \
	"$LIENTHONG" audit verify-proof "$TMP/auditor/proof.json" --checkpoint "$TMP/auditor/cp1.jws" --trust "$TMP/auditor/ca"
check "... says which entries and who signed" grep -q "proof holds: 6 entries of message '$ID' in checkpoint 1 .* signed by .*CN=" "$TMP/out"
cp "$TMP/out" "$TMP/out.first"
expect_exit "verify-proof with the signer's certificate as the key" 0 \
	"$LIENTHONG" audit verify-proof "$TMP/proof.json" --key "$P/ministry-ec.pem"
expect_exit "verify-proof --origin ministry --signer SUBJECT: holds" 0 \
	"$LIENTHONG" audit verify-proof "$TMP/proof.json" --trust "$P/trust" --origin ministry \
	--signer "$(sed -n 's/.* signed by //p' "$TMP/out.first")"
check "... and says the log's name" grep -q "of log 'ministry' signed by .*CN=" "$TMP/out"
expect_exit "verify-proof --origin of another gateway: refused" 1 \
	"$LIENTHONG" audit verify-proof "$TMP/proof.json" --trust "$P/trust" --origin hub
check "... naming both names" grep -q "of the log 'ministry', not 'hub'" "$TMP/err"
expect_exit "verify-proof --signer of another subject: refused" 1 \
	"$LIENTHONG" audit verify-proof "$TMP/proof.json" --trust "$P/trust" --signer "CN=Someone Else"
check "... naming the real signer" grep -q "is signed by '.*CN=.*', not 'CN=Someone Else'" "$TMP/err"
expect_exit "verify-proof with another party's key: refused" 1 \
	"$LIENTHONG" audit verify-proof "$TMP/proof.json" --key "$P/partner-b.pem"
mkdir "$TMP/rogue" && cp "$P/rogue-root.pem" "$TMP/rogue/"
expect_exit "verify-proof against a CA nobody trusts: refused" 1 \
	"$LIENTHONG" audit verify-proof "$TMP/proof.json" --trust "$TMP/rogue"
python3 - "$TMP/proof.json" "$TMP/proof-bad.json" <<'EOP'
import json, sys
p = json.load(open(sys.argv[1]))
p["entries"][4]["entry"]["outcome"] = "failed"
json.dump(p, open(sys.argv[2], "w"))
EOP
expect_exit "a proof with an altered entry: refused" 1 \
	"$LIENTHONG" audit verify-proof "$TMP/proof-bad.json" --checkpoint "$TMP/cp1.jws" --trust "$P/trust"
check "... naming the entry" grep -q "entry [0-9]* ($ID, delivered) is not proven" "$TMP/err"
# the auditor's re-implementation printed in docs/AUDIT.md agrees
sed -n '/^<!-- begin verify-inclusion.py -->$/,/^<!-- end verify-inclusion.py -->$/p' "$TOP/docs/AUDIT.md" |
	sed '1,2d;$d' | sed '$d' >"$TMP/verify-inclusion.py"
python3 -c 'import base64,json,sys; j=json.load(open(sys.argv[1])); p=j["payload"]; print(base64.urlsafe_b64decode(p+"="*(-len(p)%4)).decode())' \
	"$TMP/cp1.jws" >"$TMP/cp1.json"
expect_exit "docs/AUDIT.md's Python verifier accepts the proof" 0 python3 "$TMP/verify-inclusion.py" "$TMP/proof.json" "$TMP/cp1.json"
expect_exit "... and refuses the altered one" 1 python3 "$TMP/verify-inclusion.py" "$TMP/proof-bad.json" "$TMP/cp1.json"
expect_exit "verify-proof without --trust or --key: usage" 2 "$LIENTHONG" audit verify-proof "$TMP/proof.json"
expect_exit "verify-proof of a missing file: I/O" 3 \
	"$LIENTHONG" audit verify-proof "$TMP/none.json" --trust "$P/trust"

# a second checkpoint after more traffic, and the consistency between them
"$LIENTHONG" queue -c "$TMP/g.yaml" retry "$PROG" >/dev/null 2>&1
"$LIENTHONG" queue -c "$TMP/g.yaml" drop "$PROG" >/dev/null 2>&1
"$LIENTHONG" audit show "${AUD[@]}" "$PROG" >"$TMP/out"
check "queue retry and drop are audited" grep -q " retry .* dropped \| dropped " "$TMP/out"
expect_exit "audit checkpoint publishes checkpoint 2" 0 "$LIENTHONG" audit checkpoint "${AUD[@]}" -o "$TMP/cp2.jws"
check "... with a larger tree" grep -q "^checkpoint 2: " "$TMP/err"
expect_exit "audit consistency --from 1 --to 2" 0 \
	"$LIENTHONG" audit consistency "${AUD[@]}" --from 1 --to 2 -o "$TMP/cons.json"
expect_exit "verify-consistency with only the two checkpoints and the CA" 0 \
	"$LIENTHONG" audit verify-consistency "$TMP/cons.json" --from "$TMP/cp1.jws" --to "$TMP/cp2.jws" --trust "$P/trust"
check "... naming the checkpoints, the log and the signer" \
	grep -q "checkpoint 1 (.* entries) is a prefix of checkpoint 2 (.* entries) of log 'ministry' signed by .*CN=" "$TMP/out"
expect_exit "verify-consistency --origin of another gateway: refused" 1 \
	"$LIENTHONG" audit verify-consistency "$TMP/cons.json" --trust "$P/trust" --origin hub
expect_exit "an old proof still verifies against its own checkpoint" 0 \
	"$LIENTHONG" audit verify-proof "$TMP/proof.json" --checkpoint "$TMP/cp1.jws" --trust "$P/trust"
expect_exit "... but not against the newer one" 1 \
	"$LIENTHONG" audit verify-proof "$TMP/proof.json" --checkpoint "$TMP/cp2.jws" --trust "$P/trust"

# tampering with the store
DB=$TMP/var/audit.db
sqlrun() { python3 -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.executescript(sys.argv[2]); c.commit()' "$DB" "$1"; }
cp "$DB" "$TMP/audit.orig"
sqlrun "UPDATE entries SET outcome='failed' WHERE idx=7"
expect_exit "a changed entry: audit verify fails" 1 "$LIENTHONG" audit verify "${AUD[@]}"
check "... naming entry 7" grep -q "entry 7 (" "$TMP/err"
cp "$TMP/audit.orig" "$DB"
sqlrun "DELETE FROM entries WHERE idx=12"
expect_exit "a deleted entry: audit verify fails" 1 "$LIENTHONG" audit verify "${AUD[@]}"
check "... naming entry 12" grep -q "entry 12 is missing" "$TMP/err"
cp "$TMP/audit.orig" "$DB"
sqlrun "UPDATE entries SET idx=-1 WHERE idx=3; UPDATE entries SET idx=3 WHERE idx=9; UPDATE entries SET idx=9 WHERE idx=-1"
expect_exit "two swapped entries: audit verify fails" 1 "$LIENTHONG" audit verify "${AUD[@]}"
check "... naming entry 3" grep -q "entry 3 (" "$TMP/err"
cp "$TMP/audit.orig" "$DB"
expect_exit "restored: audit verify holds again" 0 "$LIENTHONG" audit verify "${AUD[@]}"

# two writers of one log: deliver runs (as serve does) while send queues
sed "s|data_dir: $TMP/var\$|data_dir: $TMP/var2|" "$TMP/g.yaml" >"$TMP/g2.yaml"
python3 - "$TMP/m2" "$TOP/conf/examples/indicator-report-2024-targets.json" <<'EOP'
import json, sys, uuid, os
d, ex = sys.argv[1], sys.argv[2]
os.makedirs(d, exist_ok=True)
m = json.load(open(ex))
for i in range(8):
    m["id"] = str(uuid.uuid5(uuid.NAMESPACE_URL, "audit-two-%d" % i))
    json.dump(m, open("%s/r%d.json" % (d, i), "w"), ensure_ascii=False)
EOP
"$LIENTHONG" deliver -c "$TMP/g2.yaml" >"$TMP/deliver2.out" 2>&1 &
DPID=$!
PIDS+=($DPID)
for i in 0 2 4 6; do
	"$LIENTHONG" send -c "$TMP/g2.yaml" "$TMP/m2/r$i.json" "$TMP/m2/r$((i + 1)).json" >/dev/null 2>&1 ||
		not_ok "send r$i and r$((i + 1)) while deliver runs"
	sleep 0.3 # let deliver commit between the sends
done
for _ in $(seq 100); do
	"$LIENTHONG" audit ls -c "$TMP/g2.yaml" --kind receipt 2>/dev/null | wc -l | grep -qx 8 && break
	sleep 0.1
done
kill -TERM "$DPID"; wait "$DPID" 2>/dev/null
"$LIENTHONG" audit ls -c "$TMP/g2.yaml" --format json >"$TMP/two.json" 2>"$TMP/err"
check "deliver and send wrote one log: every entry of both kept, indexes contiguous" python3 - "$TMP/two.json" <<'EOP'
import json, sys, collections
a = json.load(open(sys.argv[1]))
assert [e["index"] for e in a] == list(range(len(a))), "indexes not contiguous"
per = collections.Counter(e["msgId"] for e in a)
assert len(per) == 8, per
ev = collections.Counter(e["event"] for e in a)
for k in ("validated", "signed", "queued", "attempt", "delivered", "receipt"):
    assert ev[k] == 8, (k, ev)
assert len(a) == 48, len(a)
EOP
expect_exit "... and audit verify holds" 0 "$LIENTHONG" audit verify -c "$TMP/g2.yaml"

# usage
expect_exit "audit without a subcommand: usage" 2 "$LIENTHONG" audit
expect_exit "audit verify without -c: usage" 2 "$LIENTHONG" audit verify
sed '/^audit:/,$d' "$TMP/g.yaml" >"$TMP/noaudit.yaml"
expect_exit "a configuration without audit: is refused" 1 "$LIENTHONG" audit ls -c "$TMP/noaudit.yaml"
finish
