#!/bin/bash
# lienthong import: the plan-tables adapter over the seed plan documents
# (../shared/seeds) and the csv adapter over tests/data/import. Counts of
# numbered task rows are taken independently of the adapter with awk over
# the appendix pipe tables and compared with what the import produced.
. "${TOP:-.}/tests/lib.sh"
SEEDS=$SHARED/seeds

if ! ls "$SEEDS"/004_*.txt >/dev/null 2>&1; then
	skip "seed documents absent ($SEEDS)"
	finish
	exit 0
fi
S004=$(ls "$SEEDS"/004_*.txt) S001=$(ls "$SEEDS"/001_*.txt)
S002=$(ls "$SEEDS"/002_*.txt)

# Rows of each appendix straight from the pipe tables, one line per
# appendix: "APPENDIX NUMBERED SUBROWS MERGED GROUPS". NUMBERED: a number
# (1, 2.1, 3.3.12) and a title; SUBROWS: no number but a title; MERGED: no
# number, no title, some text; GROUPS: a number but no title. The title
# column is found by its header ("Nhiệm vụ..."); after a "Mới | Chuyển
# tiếp" second header the title is in either of the two columns.
count_rows() {
	awk -F'|' '
	function trim(s) { gsub(/^[ \t]+|[ \t]+$/, "", s); return s }
	/^PHỤ LỤC/ { app = $0; sub(/^PHỤ LỤC */, "", app); inapp = 1; hdr = 0; next }
	!/^\|/ { if ($0 != "") hdr = 0; next }
	!inapp { next }
	hdr == 0 { hdr = 1; tcol = 0; alt = 0; ind = 0; apps[app] = 1
		for (i = 2; i < NF; i++) { h = trim($i)
			if (h ~ /^Nhiệm vụ/ && !tcol) tcol = i
			if (h ~ /^Lĩnh vực/) ind = 1 }
		next }
	/^\|[-: |]+$/ { next }
	{ n = trim($2); sub(/\.$/, "", n)
	  if (n == "Mới" || trim($3) == "Chuyển tiếp") { alt = 1; next }
	  if (n ~ /^[0-9][0-9][0-9][0-9]-[0-9][0-9][0-9][0-9]$/) next  # period sub-header
	  if (ind || !tcol) next
	  t = trim($(tcol)); if (alt) t = t trim($(tcol + 1))
	  all = ""; for (i = 2; i < NF; i++) all = all trim($i)
	  if (all == "" || n ~ /^[IVXLC]+$/ || n ~ /^[IVXLC]+\. /) next
	  if (n ~ /^[0-9]+(\.[0-9]+)*$/) { if (t != "") num[app]++; else grp[app]++ }
	  else if (n == "" && t != "") sub_[app]++
	  else merged[app]++ }
	END { for (a in apps) if (num[a] + 0) print a, num[a] + 0, sub_[a] + 0, merged[a] + 0, grp[a] + 0 }' "$1" | sort
}

# The same four numbers from the import output (JSON lines in $1).
count_out() {
	jq -r 'select(.kind == "task.assignment") | .payload |
		(.taskId | capture(":(PL(?<a>[^.]+)\\.)?") | .a // "-") + " " +
		(if (.numbering[-1] | test("^[a-z]$")) then "s" else "n" end) + " " +
		([(.notes // "") | split("\n")[] | select(startswith("Dòng bổ sung: "))] | length | tostring) + " " +
		([(.notes // "") | split("\n")[] | select(startswith("Nhóm "))] | length | tostring)' "$1" |
	awk '{ a[$1] = 1; if ($2 == "n") n[$1]++; else s[$1]++; m[$1] += $3 }
		# group notes repeat on each task under the group: count headings once
		{ if ($4 > 0) g[$1] = 1 }
		END { for (k in a) print k, n[k] + 0, s[k] + 0, m[k] + 0 }' | sort
}

imp() { "$LIENTHONG" import "$@"; }

# --- 004: 1584/QĐ-BTC ----------------------------------------------------
expect_exit "import 004 exits 0" 0 imp --adapter plan-tables "$S004"
cp "$TMP/out" "$TMP/004.jsonl"; cp "$TMP/err" "$TMP/004.err"
want=$(count_rows "$S004" | awk '{s += $2} END {print s}')
check "004: appendix II rows: 20 numbered, no sub-rows, no text rows" [ "$(count_rows "$S004")" = "II 20 0 0 0" ]
check "004: independent count of numbered rows is 20" [ "$want" = 20 ]
got=$(jq -r 'select(.kind == "task.assignment") | .payload.taskId' "$TMP/004.jsonl" | wc -l)
check "004: 20 task.assignment messages (got $got)" [ "$got" = 20 ]
check "004: one plan" [ "$(jq -r 'select(.kind == "plan") | .kind' "$TMP/004.jsonl" | wc -l)" = 1 ]
check "004: plan embeds the 20 tasks and 21 targets" \
	[ "$(jq -r 'select(.kind == "plan") | "\(.payload.tasks | length) \(.payload.indicatorTargets | length) \(.payload.documentNumber) \(.payload.issueDate)"' "$TMP/004.jsonl")" = "20 21 1584/QĐ-BTC 2024-07-08" ]
obs=$(jq -r 'select(.kind == "indicator.report") | .payload.observations | length' "$TMP/004.jsonl")
check "004: one indicator.report with 21 observations (got $obs)" [ "$obs" = 21 ]
check "004: tax targets 100, 90, 90" [ "$(jq -r 'select(.kind == "indicator.report") | .payload.observations[] | select(.dimensions[0].value == "tax") | "\(.code)=\(.value)"' "$TMP/004.jsonl" | tr '\n' ' ')" = "DVCTT.TOAN_TRINH=100 DVCTT.HS_XU_LY_TRUC_TUYEN=90 DVCTT.HS_PHAT_SINH_TRUC_TUYEN=90 " ]
check "004: seven fields" [ "$(jq -r 'select(.kind == "indicator.report") | .payload.observations[].dimensions[0].value' "$TMP/004.jsonl" | sort -u | tr '\n' ' ')" = "accounting-auditing customs insurance it-statistics securities tax treasury " ]
task() { jq -c --arg id "$1" 'select(.payload.taskId == $id) | .payload' "$TMP/004.jsonl"; }
check "004: II.9 due 2024-06-30 (Quý II năm 2024), quarter" [ "$(task '1584/QĐ-BTC:II.9' | jq -r '"\(.timeline.kind) \(.timeline.start) \(.timeline.due) \(.timeline.raw)"')" = "quarter 2024-04-01 2024-06-30 Quý II năm 2024" ]
check "004: II.9 lead units Cục THTK + Các Tổng cục thuộc Bộ" [ "$(task '1584/QĐ-BTC:II.9' | jq -r '[.leadUnits[].name] | join("|")')" = "Cục THTK|Các Tổng cục thuộc Bộ" ]
check "004: II.9 numbering [II, 9]" [ "$(task '1584/QĐ-BTC:II.9' | jq -c .numbering)" = '["II","9"]' ]
check "004: II.4 Quý 3 năm 2024 due 2024-09-30" [ "$(task '1584/QĐ-BTC:II.4' | jq -r .timeline.due)" = 2024-09-30 ]
check "004: I.1 year 2024, coordinating Cục CST + Cục THTK" [ "$(task '1584/QĐ-BTC:I.1' | jq -r '"\(.timeline.kind) \(.timeline.due) \([.coordinatingUnits[].name] | join("|"))"')" = "year 2024-12-31 Cục CST|Cục THTK" ]
check "004: II.2.1 under II.2" [ "$(task '1584/QĐ-BTC:II.2.1' | jq -c .numbering)" = '["II","2","2.1"]' ]
check "004: II.6 on-request" [ "$(task '1584/QĐ-BTC:II.6' | jq -r .timeline.kind)" = on-request ]
check "004: II.12 per-roadmap, three lead units" [ "$(task '1584/QĐ-BTC:II.12' | jq -r '"\(.timeline.kind) \(.leadUnits | length)"')" = "per-roadmap 3" ]
check "004: II.1 ongoing" [ "$(task '1584/QĐ-BTC:II.1' | jq -r .timeline.kind)" = ongoing ]
check "004: ids are fresh UUIDv4" [ "$(jq -r .id "$TMP/004.jsonl" | grep -c '^[0-9a-f]\{8\}-[0-9a-f]\{4\}-4[0-9a-f]\{3\}-[89ab]')" = 22 ]
check "004: default envelope" [ "$(jq -r '"\(.sender.orgId) \(.receivers[0].orgId) \(.classification)"' "$TMP/004.jsonl" | sort -u)" = "000.00.00.G12 000.00.00.G23 internal" ]
check "004: created in +07:00" [ "$(jq -r .created "$TMP/004.jsonl" | grep -vc '+07:00$')" = 0 ]

# -o DIR, validated again by lienthong validate
expect_exit "import 004 -o DIR" 0 imp --adapter plan-tables -o "$TMP/o004" "$S004"
check "004: 22 files" [ "$(ls "$TMP/o004" | wc -l)" = 22 ]
expect_exit "004: lienthong validate on the -o output" 0 "$LIENTHONG" validate "$TMP"/o004/*.json

# deterministic ids: same twice, distinct per message, v5
imp --adapter plan-tables --deterministic "$S004" 2>/dev/null | jq -r .id >"$TMP/d1"
imp --adapter plan-tables --deterministic "$S004" 2>/dev/null | jq -r .id >"$TMP/d2"
check "--deterministic: same ids on re-import" cmp -s "$TMP/d1" "$TMP/d2"
check "--deterministic: 22 distinct v5 ids" [ "$(sort -u "$TMP/d1" | grep -c '^[0-9a-f]\{8\}-[0-9a-f]\{4\}-5')" = 22 ]
check "--sender/--receiver override" [ "$(imp --adapter plan-tables --sender 000.00.00.G99=Khác --receiver "000.00.00.G16=Nền tảng" "$S004" 2>/dev/null | jq -r '"\(.sender.orgId) \(.receivers | length) \(.receivers[0].orgId)"' | sort -u)" = "000.00.00.G99 1 000.00.00.G16" ]
expect_exit "unknown adapter is a usage error" 2 imp --adapter nope "$S004"
expect_exit "missing input is an I/O error" 3 imp --adapter plan-tables "$TMP/none.txt"

# --- 001 and 002: every numbered row of every appendix ---------------------
for f in 001 002; do
	eval src=\$S$f
	expect_exit "import $f exits 0" 0 imp --adapter plan-tables -o "$TMP/o$f" "$src"
	cat "$TMP"/o$f/*.json | jq -c . >"$TMP/$f.jsonl"
	cp "$TMP/err" "$TMP/$f.err"
	check "$f: no message failed validation" grep -q ' 0 invalid, 0 rows not mapped' "$TMP/$f.err"
	expect_exit "$f: lienthong validate on the -o output" 0 "$LIENTHONG" validate "$TMP"/o$f/*.json
	count_rows "$src" | awk '{print $1, $2, $3, $4}' >"$TMP/$f.want"
	count_out "$TMP/$f.jsonl" >"$TMP/$f.got"
	if cmp -s "$TMP/$f.want" "$TMP/$f.got"; then
		ok "$f: numbered, sub-rows and merged rows per appendix match the tables: $(tr '\n' ';' <"$TMP/$f.want")"
	else
		not_ok "$f: per appendix: tables say $(tr '\n' ';' <"$TMP/$f.want") import gave $(tr '\n' ';' <"$TMP/$f.got")"
	fi
	check "$f: task ids unique" [ -z "$(jq -r 'select(.kind == "task.assignment") | .payload.taskId' "$TMP/$f.jsonl" | sort | uniq -d)" ]
	check "$f: one plan holding every task" [ "$(jq -r 'select(.kind == "plan") | .payload.tasks | length' "$TMP/$f.jsonl")" = "$(jq -r 'select(.kind == "task.assignment") | .kind' "$TMP/$f.jsonl" | wc -l)" ]
done
# the counts themselves (read off the tables by hand)
check "001: 61 tasks in appendix 01, 6 in appendix 02" [ "$(cat "$TMP/001.want" | tr '\n' ';')" = "01 61 0 0;02 6 0 0;" ]
check "002: 43 + 2 sub-rows + 10 merged; 66 + 64 sub-rows; 14" [ "$(cat "$TMP/002.want" | tr '\n' ';')" = "01 43 2 10;02 66 64 0;03 14 0 0;" ]
t1() { jq -c --arg id "$2" 'select(.payload.taskId == $id) | .payload' "$TMP/$1.jsonl"; }
check "001: 3.3.12 numbering [II, 3, 3.3, 3.3.12]" [ "$(t1 001 '844/QĐ-BTC:PL01.II.3.3.12' | jq -c .numbering)" = '["II","3","3.3","3.3.12"]' ]
check "001: two period columns: I.5 range 2019-06-01..2025-12-31" [ "$(t1 001 '844/QĐ-BTC:PL01.I.5' | jq -r '"\(.timeline.kind) \(.timeline.start) \(.timeline.end) \(.timeline.raw)"')" = "range 2019-06-01 2025-12-31 2019-2020: Tháng 6/2019; 2021-2025: 2021-2025" ]
check "001: units without separators split (I.1 coordinating)" [ "$(t1 001 '844/QĐ-BTC:PL01.I.1' | jq -r '[.coordinatingUnits[].name] | join("|")')" = "Cục KHTC|TCT|TCHQ|KBNN|UBCKNN|TCDTNN|Các đơn vị liên quan" ]
check "001: Quý II/2019 due 2019-06-30" [ "$(t1 001 '844/QĐ-BTC:PL01.I.19' | jq -r .timeline.due)" = 2019-06-30 ]
check "001: appendix 02 lead ministry and focal unit" [ "$(t1 001 '844/QĐ-BTC:PL02.1' | jq -r '"\(.leadMinistry.name)|\(.focalUnit.name)"')" = "Bộ Thông tin và Truyền thông|Cục THTK" ]
check "001: Hàng năm is recurring" [ "$(t1 001 '844/QĐ-BTC:PL01.I.12' | jq -r .timeline.kind)" = recurring ]
check "002: continuing project status" [ "$(t1 002 '1754/QĐ-BTC:PL01.I.20' | jq -r '"\(.status) \(.timeline.kind) \(.timeline.end)"')" = "continuing range 2027-12-31" ]
check "002: sub-row 2.1.a under II.2.1" [ "$(t1 002 '1754/QĐ-BTC:PL02.II.2.1.a' | jq -c '[.numbering, .leadUnits[0].name]')" = '[["II","2.1","a"],"UBCKNN"]' ]
check "002: text rows of project I.2 kept in its notes" [ "$(t1 002 '1754/QĐ-BTC:PL01.I.2' | jq -r '.notes' | grep -c '^Dòng bổ sung: ')" = 10 ]
check "002: Theo lộ trình của Bộ Công an is per-roadmap" [ "$(t1 002 '1754/QĐ-BTC:PL03.3' | jq -r '"\(.timeline.kind) \(.leadMinistry.name)"')" = "per-roadmap Bộ Công an" ]

S003=$(ls "$SEEDS"/003_*.txt)
expect_exit "003 (a news article): nothing imported, exit 0" 0 imp --adapter plan-tables "$S003"
check "003: the reason is reported" grep -q 'no document number' "$TMP/err"
check "003: no message written" [ ! -s "$TMP/out" ]

finish
