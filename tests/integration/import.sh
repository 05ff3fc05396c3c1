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

# numbered rows with a title, per appendix, straight from the pipe tables:
# prints "APPENDIX COUNT" lines. The title column is found by its header
# ("Nhiệm vụ..."); in a table with a "Mới | Chuyển tiếp" second header the
# title is in either of the two columns after the unit.
count_rows() {
	awk -F'|' '
	function trim(s) { gsub(/^[ \t]+|[ \t]+$/, "", s); return s }
	/^PHỤ LỤC/ { app = $0; sub(/^PHỤ LỤC */, "", app); inapp = 1; hdr = 0; next }
	!/^\|/ { if ($0 != "") hdr = 0; next }
	!inapp { next }
	hdr == 0 { hdr = 1; tcol = 0; alt = 0; ind = 0
		for (i = 2; i < NF; i++) { h = trim($i)
			if (h ~ /^Nhiệm vụ/ && !tcol) tcol = i
			if (h ~ /^Lĩnh vực/) ind = 1 }
		next }
	/^\|[-: |]+$/ { next }
	{ n = trim($2); sub(/\.$/, "", n)
	  if (trim($2) == "Mới" || trim($3) == "Chuyển tiếp") { alt = 1; next }
	  if (ind || !tcol || n !~ /^[0-9]+(\.[0-9]+)*$/) next
	  t = trim($(tcol)); if (alt) t = t trim($(tcol + 1))
	  if (t != "") cnt[app]++ }
	END { for (a in cnt) print a, cnt[a] }' "$1" | sort
}

imp() { "$LIENTHONG" import "$@"; }

# --- 004: 1584/QĐ-BTC ----------------------------------------------------
expect_exit "import 004 exits 0" 0 imp --adapter plan-tables "$S004"
cp "$TMP/out" "$TMP/004.jsonl"; cp "$TMP/err" "$TMP/004.err"
want=$(count_rows "$S004" | awk '{s += $2} END {print s}')
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

finish
