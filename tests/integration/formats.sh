#!/bin/bash
# formats.sh - the format adapters through the real binary: every example
# converts to every format that carries its kind and back without losing a
# field; the edXML output validates with xmllint against our schema; the
# real edXML samples of the national document exchange axis parse into
# task assignments, receipts and progress with the right organization ids,
# codes, dates and status codes; hostile and invalid edXML is refused.
# SDMX needs the official schemas of ../shared (skipped when absent).
. tests/lib.sh
EX=$TOP/conf/examples
HOS=$TOP/tests/data/hostile
EDX=$SHARED/testsuites/edxml
SDMX=$SHARED/testsuites/sdmx
if [ -f "$SDMX/sdmx-ml-3.0/schemas/SDMXMessage.xsd" ]; then
	export LIENTHONG_SDMX_DIR=$SDMX
	have_sdmx=1
else
	have_sdmx=0
fi

# same JSON message, observations compared as a multiset (SDMX groups
# them by series)
same() {
	python3 - "$1" "$2" <<'EOF'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
def norm(m):
    p = m.get("payload", {})
    if "observations" in p:
        p["observations"] = sorted(json.dumps(o, sort_keys=True) for o in p["observations"])
    return m
sys.exit(0 if norm(a) == norm(b) else 1)
EOF
}

quiet() { "$@" >/dev/null 2>&1; }

formats_of() { # kind -> the formats that carry it
	case "$1" in
	task.assignment | task.progress | receipt) echo edxml ;;
	indicator.report)
		echo report-packet report-packet-json
		[ $have_sdmx = 1 ] && echo sdmx-ml sdmx-json
		;;
	esac
}

kind_of() {
	python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["kind"])' "$1"
}

# every example, both canonical forms, to every format and back
for f in "$EX"/*.json "$EX"/*.xml; do
	b=$(basename "$f")
	"$LIENTHONG" convert --to json "$f" >"$TMP/canon.json" 2>/dev/null
	kind=$(kind_of "$TMP/canon.json")
	fmts=$(formats_of "$kind")
	if [ -z "$fmts" ]; then
		expect_exit "$b: a $kind goes to no wire format" 1 "$LIENTHONG" convert --to edxml "$f"
		check "$b: the refusal names the kind" grep -q "does not carry '$kind'" "$TMP/err"
		continue
	fi
	for fmt in $fmts; do
		expect_exit "$b -> $fmt" 0 "$LIENTHONG" convert --to "$fmt" "$f"
		cp "$TMP/out" "$TMP/wire"
		case $fmt in
		edxml) xsd=edxml-qcvn102.xsd ;;
		report-packet) xsd=report-packet-1.xsd ;;
		*) xsd= ;;
		esac
		if [ -n "$xsd" ]; then
			check "$b -> $fmt validates with xmllint" \
				quiet xmllint --noout --schema "$TOP/schemas/$xsd" "$TMP/wire"
		fi
		expect_exit "$b -> $fmt -> json" 0 "$LIENTHONG" convert --from "$fmt" --to json "$TMP/wire"
		cp "$TMP/out" "$TMP/back.json"
		check "$b -> $fmt -> json keeps every field" same "$TMP/canon.json" "$TMP/back.json"
		expect_exit "$b -> $fmt -> xml" 0 "$LIENTHONG" convert --from "$fmt" --to xml "$TMP/wire"
		check "$b -> $fmt -> xml is a valid canonical message" quiet "$LIENTHONG" validate "$TMP/out"
	done
done
if [ $have_sdmx = 0 ]; then
	skip "sdmx-ml and sdmx-json conversions: $SDMX is absent (the official SDMX schemas are not shipped)"
fi

# real data: every task and indicator report imported from a seed plan
# document (1584/QĐ-BTC) goes to each of its formats and back unchanged
seed=$(ls "$SHARED"/seeds/004_*.txt 2>/dev/null | head -1)
if [ -n "$seed" ]; then
	mkdir -p "$TMP/imp"
	expect_exit "import the seed plan 004" 0 "$LIENTHONG" import --adapter plan-tables --deterministic -o "$TMP/imp" "$seed"
	n=0 bad=0
	for f in "$TMP/imp"/*.json; do
		for fmt in $(formats_of "$(kind_of "$f")"); do
			n=$((n + 1))
			if ! "$LIENTHONG" convert --to "$fmt" "$f" >"$TMP/w" 2>"$TMP/e" ||
				! "$LIENTHONG" convert --from "$fmt" --to json "$TMP/w" >"$TMP/b.json" 2>>"$TMP/e" ||
				! same "$f" "$TMP/b.json"; then
				bad=$((bad + 1))
				echo "    $(basename "$f") via $fmt: $(head -1 "$TMP/e")"
			fi
		done
	done
	check "seed 004: $n conversions to a wire format and back keep every field" test "$n" -ge 21 -a "$bad" -eq 0
else
	skip "seed documents: $SHARED/seeds is absent"
fi

# the real edXML samples
if [ -d "$EDX" ]; then
	for f in "$EDX"/*.edxml; do
		b=$(basename "$f")
		check "sample $b validates with xmllint" quiet xmllint --noout --schema "$TOP/schemas/edxml-qcvn102.xsd" "$f"
		expect_exit "sample $b parses" 0 "$LIENTHONG" convert --from edxml --to json "$f"
		cp "$TMP/out" "$TMP/$b.json"
		check "sample $b is a valid canonical message" quiet "$LIENTHONG" validate "$TMP/$b.json"
	done
	field() { # file python-expression
		python3 -c "import json,sys; m=json.load(open(sys.argv[1])); p=m['payload']; print($2)" "$1"
	}
	expect_field() { # name file expression wanted
		local got
		got=$(field "$2" "$3")
		if [ "$got" = "$4" ]; then ok "$1"; else not_ok "$1: got '$got', wanted '$4'"; fi
	}
	d=$TMP/edoc_update.edxml.json
	expect_field "document: a task assignment" "$d" 'm["kind"]' task.assignment
	expect_field "document: from the Government Office" "$d" 'm["sender"]["orgId"]' 000.00.00.G22
	expect_field "document: to three agencies" "$d" '",".join(r["orgId"] for r in m["receivers"])' \
		000.00.00.H41,000.00.00.H14,000.00.00.G17
	expect_field "document: its code" "$d" 'p["sourceDocument"]' 7816/VPCP-TTĐT
	expect_field "document: the subject is the title" "$d" 'p["title"]' \
		'V/v kết nối, liên thông phần mềm quản lý văn bản'
	expect_field "document: due date" "$d" 'p["timeline"]["due"]' 2018-09-28
	expect_field "document: created from its trace" "$d" 'm["created"]' 2018-09-28T00:00:00+07:00
	expect_field "document: task id from the DocumentId" "$d" 'p["taskId"]' \
		'000.00.00.G22,2015/09/30,7816/VPCP-TTĐT'
	expect_field "document: the attachment is named in the notes" "$d" \
		'"1896_QD-TTg_m_294779.doc" in p["notes"]' True
	expect_field "document: the signer is named in the notes" "$d" \
		'"Nguyen Thanh Phuc" in p["notes"]' True
	for s in inbox_01:receipt:accepted acceptance_03:receipt:accepted finish_06:task.progress:done; do
		IFS=: read -r name kind value <<<"$s"
		j=$TMP/status_$name.edxml.json
		expect_field "status $name: a $kind" "$j" 'm["kind"]' "$kind"
		expect_field "status $name: $value" "$j" 'p.get("outcome", p.get("status"))' "$value"
		expect_field "status $name: from Nghe An" "$j" 'm["sender"]["orgId"]' 000.00.00.H41
		expect_field "status $name: answers the Government Office" "$j" 'm["receivers"][0]["orgId"]' 000.00.00.G22
		expect_field "status $name: timestamp" "$j" 'p.get("time", p.get("reportedAt"))' 2015-09-20T11:08:36+07:00
		expect_field "status $name: correlates with the document's id" "$j" 'm["correlationId"]' \
			"$(field "$d" 'm["id"]')"
	done
	expect_field "finish: 100 % complete" "$TMP/status_finish_06.edxml.json" 'p["percentComplete"]' 100
	expect_field "receipts name the document they answer" "$TMP/status_inbox_01.edxml.json" \
		'p["messageId"]' "$(field "$d" 'm["id"]')"
else
	skip "edXML samples: $EDX is absent"
fi

# hostile and invalid edXML is refused, nothing leaks
for f in "$HOS"/*.xml; do
	timeout 10 "$LIENTHONG" convert --from edxml --to json "$f" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	if [ $rc -eq 1 ] && ! grep -q 'root:' "$TMP/out" "$TMP/err"; then
		ok "hostile edxml refused: $(basename "$f")"
	else
		not_ok "hostile edxml: $(basename "$f"): exit $rc: $(head -2 "$TMP/err")"
	fi
done
# the same for the indicator formats: hostile input never reaches a mapping
for fmt in report-packet report-packet-json sdmx-ml sdmx-json; do
	case $fmt in sdmx-*) [ $have_sdmx = 1 ] || continue ;; esac
	for f in "$HOS"/*; do
		case "$fmt:$f" in *-json:*.xml | report-packet:*.json | sdmx-ml:*.json) continue ;; esac
		timeout 10 "$LIENTHONG" convert --from $fmt --to json "$f" >"$TMP/out" 2>"$TMP/err"
		rc=$?
		if [ $rc -eq 1 ] && ! grep -q 'root:' "$TMP/out" "$TMP/err"; then
			ok "hostile $fmt refused: $(basename "$f")"
		else
			not_ok "hostile $fmt: $(basename "$f"): exit $rc: $(head -2 "$TMP/err")"
		fi
	done
done
deep=$TMP/deep.edxml
{
	echo '<edXML xmlns="http://www.mic.gov.vn/TBT/QCVN_102_2016">'
	for _ in $(seq 200); do printf '<a>'; done
	for _ in $(seq 200); do printf '</a>'; done
	echo '</edXML>'
} >"$deep"
expect_exit "edxml nested 200 deep is refused" 1 "$LIENTHONG" convert --from edxml --to json "$deep"
check "the depth refusal says why" grep -q 'deeper than the limit' "$TMP/err"
"$LIENTHONG" convert --to edxml "$EX/task-progress-1584-II-9.json" >"$TMP/p.edxml"
sed 's/<StatusCode>06</<StatusCode>99</' "$TMP/p.edxml" >"$TMP/bad-code.edxml"
expect_exit "an unknown status code is refused" 1 "$LIENTHONG" convert --from edxml --to json "$TMP/bad-code.edxml"
check "the refusal is located (FILE:LINE)" grep -q 'bad-code.edxml:[0-9]*:.*StatusCode' "$TMP/err"
sed 's/<OrganId>000.01.12.G12</<OrganId>G12</' "$TMP/p.edxml" >"$TMP/bad-org.edxml"
expect_exit "a malformed organization id is refused" 1 "$LIENTHONG" convert --from edxml --to json "$TMP/bad-org.edxml"
sed 's|<Timestamp>2024/06/20 16:00:00<|<Timestamp>2024-06-20 16:00<|' "$TMP/p.edxml" >"$TMP/bad-ts.edxml"
expect_exit "a timestamp in another form is refused" 1 "$LIENTHONG" convert --from edxml --to json "$TMP/bad-ts.edxml"
sed 's|<Timestamp>2024/06/20 16:00:00<|<Timestamp>20/06/2024 16:00:00<|' "$TMP/p.edxml" >"$TMP/vn-ts.edxml"
expect_exit "a dd/MM/yyyy timestamp is accepted" 0 "$LIENTHONG" convert --from edxml --to json "$TMP/vn-ts.edxml"
check "and read as the same time" grep -q '"reportedAt": "2024-06-20T16:00:00+07:00"' "$TMP/out"

# usage
expect_exit "convert from an unknown format is a usage error" 2 "$LIENTHONG" convert --from csv --to json "$EX/plan-1584.json"
expect_exit "convert to an unknown format is a usage error" 2 "$LIENTHONG" convert --to edifact "$EX/plan-1584.json"
expect_exit "a canonical message is not edXML" 1 "$LIENTHONG" convert --from edxml --to json "$EX/plan-1584.xml"
finish
