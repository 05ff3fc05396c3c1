#!/bin/bash
# profile.sh - profile mappings rename the report packet's fields for a
# receiving system: convert --profile renames on output and reverses on
# input (canonical -> renamed packet -> canonical gives the message back,
# XML and JSON); bad profiles are refused with FILE:LINE: key; input that
# does not follow the profile is refused; a destination's profile: makes
# send deliver the renamed packet (signed, verifiable) to a loopback sink,
# and what arrives converts back to the message sent.
. tests/lib.sh
EX=$TOP/conf/examples
VN=$TOP/conf/profiles/report-packet-vn.yaml
MSG=$EX/indicator-report-2024-targets.json

same() { # two JSON files hold the same value
	python3 -c 'import json,sys; sys.exit(0 if json.load(open(sys.argv[1])) == json.load(open(sys.argv[2])) else 1)' "$1" "$2"
}

"$LIENTHONG" convert --to json "$MSG" >"$TMP/orig.json" 2>"$TMP/err" || not_ok "the example converts to json"

# --- convert, both forms ---------------------------------------------------
expect_exit "convert --to report-packet --profile" 0 "$LIENTHONG" convert --to report-packet --profile "$VN" "$MSG"
cp "$TMP/out" "$TMP/vn.xml"
check "... the root has the profile's name and namespace" \
	grep -q '^<GoiTinBaoCao xmlns="urn:example:bao-cao-chinh-phu:goi-tin:1" phienBan="1.0">' "$TMP/vn.xml"
check "... elements and attributes are renamed" \
	grep -q '<ChiTieu maChiTieu="DVCTT.TOAN_TRINH"' "$TMP/vn.xml"
check "... none of our names is left" \
	test "$(grep -cE '<(/)?(ReportPacket|Header|Indicator|Value|Amount)\b| (code|indicator|valueType)=' "$TMP/vn.xml")" -eq 0
expect_exit "convert --from report-packet --profile --to json" 0 \
	"$LIENTHONG" convert --from report-packet --profile "$VN" --to json "$TMP/vn.xml"
check "... gives the original canonical message" same "$TMP/out" "$TMP/orig.json"
expect_exit "... and --to xml too" 0 \
	"$LIENTHONG" convert --from report-packet --profile "$VN" --to xml "$TMP/vn.xml"

expect_exit "convert --to report-packet-json --profile" 0 \
	"$LIENTHONG" convert --to report-packet-json --profile "$VN" "$MSG"
cp "$TMP/out" "$TMP/vn.json"
check "... members are renamed" python3 -c '
import json, sys
p = json.load(open(sys.argv[1]))
ok = set(p) == {"phienBan", "thongTinGoiTin", "baoCao", "danhMucChiTieu", "duLieuChiTieu"}
ok = ok and p["duLieuChiTieu"][0]["chiTieu"] == "DVCTT.TOAN_TRINH" and "giaTri" in p["duLieuChiTieu"][0]
sys.exit(0 if ok else 1)' "$TMP/vn.json"
expect_exit "convert --from report-packet-json --profile --to json" 0 \
	"$LIENTHONG" convert --from report-packet-json --profile "$VN" --to json "$TMP/vn.json"
check "... gives the original canonical message" same "$TMP/out" "$TMP/orig.json"

# a profile that renames only a few fields leaves the rest alone
cat >"$TMP/few.yaml" <<'EOF'
profile: report-packet-1
json:
  names:
    indicator: MaChiTieu
    value: GiaTri
EOF
expect_exit "a partial profile" 0 "$LIENTHONG" convert --to report-packet-json --profile "$TMP/few.yaml" "$MSG"
cp "$TMP/out" "$TMP/few.json"
check "... renames what it names and keeps the rest" \
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))["indicatorData"][0]; sys.exit(0 if "MaChiTieu" in d and "GiaTri" in d and "valueType" in d else 1)' "$TMP/few.json"
expect_exit "... and converts back" 0 \
	"$LIENTHONG" convert --from report-packet-json --profile "$TMP/few.yaml" --to json "$TMP/few.json"
check "... to the original" same "$TMP/out" "$TMP/orig.json"

# --- input that does not follow the profile ---------------------------------
"$LIENTHONG" convert --to report-packet "$MSG" >"$TMP/ours.xml"
expect_exit "our own namespace under a profile with its own is refused" 1 \
	"$LIENTHONG" convert --from report-packet --profile "$VN" --to json "$TMP/ours.xml"
check "... saying where and why" grep -q "ours.xml:2: namespace 'urn:lienthong:report-packet:1' is not the namespace of this profile" "$TMP/err"
sed 's/maChiTieu="DVCTT.TOAN_TRINH"/code="DVCTT.TOAN_TRINH"/' "$TMP/vn.xml" >"$TMP/mixed.xml"
expect_exit "a name of ours the profile renames is refused" 1 \
	"$LIENTHONG" convert --from report-packet --profile "$VN" --to json "$TMP/mixed.xml"
check "... naming the line and the profile's name" \
	grep -q "mixed.xml:$(grep -n 'code="DVCTT.TOAN_TRINH"' "$TMP/mixed.xml" | cut -d: -f1): attribute 'code' is not a name of this profile (it calls it 'maChiTieu')" "$TMP/err"
sed 's/"maGoiTin"/"packetId"/' "$TMP/vn.json" >"$TMP/mixed.json"
expect_exit "... in JSON too" 1 \
	"$LIENTHONG" convert --from report-packet-json --profile "$VN" --to json "$TMP/mixed.json"
check "... naming the JSON Pointer" grep -q "mixed.json: /thongTinGoiTin/packetId: 'packetId' is not a member name of this profile" "$TMP/err"
sed 's|<SoLieu>100</SoLieu>|<SoLieu>1x0</SoLieu>|' "$TMP/vn.xml" >"$TMP/bad.xml"
expect_exit "a renamed packet that is not valid is refused" 1 \
	"$LIENTHONG" convert --from report-packet --profile "$VN" --to json "$TMP/bad.xml"
check "... by our schema, at the input's line" \
	grep -q "bad.xml:$(grep -n '1x0' "$TMP/bad.xml" | head -1 | cut -d: -f1): .*Amount.*1x0" "$TMP/err"

# --- refused profiles --------------------------------------------------------
cat >"$TMP/p1.yaml" <<'EOF'
profile: report-packet-1
xml:
  names:
    code: MaChiTieu
    indicator: MaChiTieu
    name: 1ten
    Amount: Value
EOF
expect_exit "a profile with bad names is refused" 1 "$LIENTHONG" convert --to report-packet --profile "$TMP/p1.yaml" "$MSG"
check "... two fields with one name: FILE:LINE: key" grep -q "p1.yaml:5: xml.names.indicator: 'MaChiTieu' is already the name of 'code'" "$TMP/err"
check "... not an XML name" grep -q "p1.yaml:6: xml.names.name: '1ten' is not an XML name" "$TMP/err"
check "... the name of a field the profile keeps" grep -q "p1.yaml:7: xml.names.Amount: 'Value' is the name of the field 'Value'" "$TMP/err"
check "... nothing on stdout" test ! -s "$TMP/out"
printf 'profile: report-packet-1\njson:\n  names:\n    indicatorCode: MaChiTieu\n' >"$TMP/p2.yaml"
expect_exit "a field the packet does not have is refused" 1 "$LIENTHONG" convert --to report-packet-json --profile "$TMP/p2.yaml" "$MSG"
check "... naming the line and key" grep -q "p2.yaml:4: json.names.indicatorCode: " "$TMP/err"
expect_exit "a profile is for the report packet only" 2 \
	"$LIENTHONG" convert --to edxml --profile "$VN" "$EX/task-assignment-1584-II-9.json"
expect_exit "--profile needs a report packet side" 2 "$LIENTHONG" convert --to json --profile "$VN" "$MSG"
expect_exit "a missing profile is an I/O error" 3 "$LIENTHONG" convert --to report-packet --profile "$TMP/none.yaml" "$MSG"

# --- send to a destination with a profile -----------------------------------
P=$TOP/$B/pki
sh "$TOP/certs/mkpki.sh" "$P" >/dev/null || { not_ok "make the test PKI"; finish; exit 1; }
cat "$P/hub.pem" "$P/chain.pem" >"$TMP/hub-full.pem"
cat "$P/ministry-ec.pem" "$P/chain.pem" >"$TMP/ministry-full.pem"
PIDS=()
trap 'kill "${PIDS[@]}" 2>/dev/null; rm -rf "$TMP"' EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PORT=$(port)
mkdir -p "$TMP/sink"
python3 "$TOP/tests/tools/sink.py" --port "$PORT" --cert "$TMP/hub-full.pem" --key "$P/hub.key" \
	--ca "$P/root.pem" --log "$TMP/sink.log" --save "$TMP/sink" >"$TMP/sink.out" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do grep -q ready "$TMP/sink.out" 2>/dev/null && break; sleep 0.1; done
grep -q ready "$TMP/sink.out" || { not_ok "start the sink"; finish; exit 1; }
dest() { # name format [profile]
	cat <<EOD
  $1:
    url: https://127.0.0.1:$PORT/v1/messages
    ca: $P/root.pem
    cert: $TMP/ministry-full.pem
    key: $P/ministry-ec.key
    timeout_ms: 5000
    format: $2
${3:+    profile: $3}
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
$(dest vn report-packet "$VN")
$(dest plain report-packet)
routes:
  - kinds: [indicator.report]
    to: [vn, plain]
EOC
expect_exit "a destination may name a profile" 0 "$LIENTHONG" config check "$TMP/g.yaml"
sed "s#profile: $VN#profile: $TMP/p1.yaml#" "$TMP/g.yaml" >"$TMP/badp.yaml"
expect_exit "config check refuses a destination's bad profile" 1 "$LIENTHONG" config check "$TMP/badp.yaml"
check "... with the profile's FILE:LINE: key" grep -q "p1.yaml:5: xml.names.indicator:" "$TMP/err"
expect_exit "send refuses a destination's bad profile, queueing nothing" 3 \
	"$LIENTHONG" send -c "$TMP/badp.yaml" "$MSG"
check "... with the profile's FILE:LINE: key" grep -q "p1.yaml:5: xml.names.indicator:" "$TMP/err"
sed 's/format: report-packet$/format: edxml/' "$TMP/g.yaml" >"$TMP/edx.yaml"
expect_exit "a profile on a destination that is not a report packet is refused" 1 \
	"$LIENTHONG" send -c "$TMP/edx.yaml" "$MSG"
check "... naming the key" grep -q "destinations.vn.profile: a profile renames the fields of the report packet" "$TMP/err"

REP=3f1c2a9e-5b7d-4c1e-9a2b-1584a0000001
expect_exit "send converts with the destination's profile" 0 "$LIENTHONG" send -c "$TMP/g.yaml" "$MSG"
cp "$TMP/out" "$TMP/sent"
VN_ID=$(sed -n 's/^\([0-9a-f-]*\) -> vn .*/\1/p' "$TMP/sent")
PL_ID=$(sed -n 's/^\([0-9a-f-]*\) -> plain .*/\1/p' "$TMP/sent")
check "... one variant for the profile, another without" test -n "$VN_ID" -a -n "$PL_ID" -a "$VN_ID" != "$PL_ID"
expect_exit "deliver" 0 "$LIENTHONG" deliver -c "$TMP/g.yaml" --once --linger-ms 200
check "the renamed packet arrived" grep -q '<GoiTinBaoCao xmlns="urn:example:bao-cao-chinh-phu:goi-tin:1"' "$TMP/sink/$VN_ID"
check "the plain packet arrived with our names" grep -q '<ReportPacket xmlns="urn:lienthong:report-packet:1"' "$TMP/sink/$PL_ID"
expect_exit "the renamed packet is signed and verifies" 0 "$LIENTHONG" verify --trust "$P/trust" "$TMP/sink/$VN_ID"

# unsigned, what arrives converts back to the message sent
sed -e '/^signing:/,/^  chain:/d' -e "s#data_dir: .*#data_dir: $TMP/var-unsigned#" "$TMP/g.yaml" >"$TMP/u.yaml"
rm -f "$TMP/sink/$VN_ID"
"$LIENTHONG" send -c "$TMP/u.yaml" "$MSG" >"$TMP/sent2" 2>&1
check "unsigned, the variant keeps its id" grep -q "^$VN_ID -> vn" "$TMP/sent2"
expect_exit "... and is delivered" 0 "$LIENTHONG" deliver -c "$TMP/u.yaml" --once --linger-ms 200
expect_exit "what arrived converts back with the profile" 0 \
	"$LIENTHONG" convert --from report-packet --profile "$VN" --to json "$TMP/sink/$VN_ID"
check "... to the message sent" same "$TMP/out" "$TMP/orig.json"
finish
