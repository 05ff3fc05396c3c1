#!/bin/bash
# import_csv.sh - lienthong import with the csv and sqlite adapters and a
# mapping file: the example exports of conf/mappings (1584/QĐ-BTC Appendix
# I targets, task progress rows) map to valid messages equal to the
# hand-written examples; hostile and broken rows are reported with
# FILE:LINE and the reason, never dropped or invented; a bad mapping is
# refused with its line; the same mapping reads an SQLite table.
. "${TOP:-.}/tests/lib.sh"
M=$TOP/conf/mappings
J() { python3 -c "$@"; }

# 1. the Appendix I targets: 21 rows -> one indicator.report of 21
#    observations, the same as conf/examples/indicator-report-2024-targets
"$LIENTHONG" import --adapter csv --mapping "$M/indicator-targets-2024.yaml" \
	"$M/indicator-targets-2024.csv" >"$TMP/targets.jsonl" 2>"$TMP/err"
check "targets: exit 0" test $? -eq 0
check "targets: one message from 21 rows" test "$(wc -l <"$TMP/targets.jsonl")" -eq 1
check "targets: summary on stderr" grep -q "1 messages written (0 plan, 0 task.assignment, 1 indicator.report), 0 invalid, 0 rows not mapped" "$TMP/err"
J '
import json, sys
a = json.loads(open(sys.argv[1]).readline())
b = json.load(open(sys.argv[2]))
k = lambda o: json.dumps(o, sort_keys=True, ensure_ascii=False)
assert a["kind"] == "indicator.report" and len(a["payload"]["observations"]) == 21
assert sorted(map(k, a["payload"]["observations"])) == sorted(map(k, b["payload"]["observations"]))
for f in ("period", "reportingUnit", "sourceDocument"):
    assert a["payload"][f] == b["payload"][f], f
' "$TMP/targets.jsonl" "$TOP/conf/examples/indicator-report-2024-targets.json" 2>"$TMP/py"
check "targets: the 7 fields x 3 indicators equal the hand-made example" test $? -eq 0

# deterministic: the same export twice gives byte-identical messages
"$LIENTHONG" import --adapter csv --mapping "$M/indicator-targets-2024.yaml" \
	--deterministic -o "$TMP/d1" "$M/indicator-targets-2024.csv" 2>/dev/null
"$LIENTHONG" import --adapter csv --mapping "$M/indicator-targets-2024.yaml" \
	--deterministic -o "$TMP/d2" "$M/indicator-targets-2024.csv" 2>/dev/null
check "deterministic: the same bytes twice" diff -r "$TMP/d1" "$TMP/d2"
check "deterministic: created is the mapping's date" grep -q '"created": "2024-07-08T00:00:00+07:00"' "$TMP"/d1/*.json
expect_exit "deterministic: the file validates" 0 "$LIENTHONG" validate "$TMP"/d1/*.json

# 2. task progress: quoted fields with commas, doubled quotes and a line
#    break; units across reorganizations; Vietnamese dates and periods
"$LIENTHONG" import --adapter csv --mapping "$M/task-progress.yaml" \
	"$M/task-progress.csv" >"$TMP/progress.jsonl" 2>"$TMP/err"
check "progress: exit 0, 5 messages" test $? -eq 0 -a "$(wc -l <"$TMP/progress.jsonl")" -eq 5
J '
import json, sys
ms = [json.loads(l) for l in open(sys.argv[1])]
by = {m["payload"]["taskRef"]: m for m in ms}
m = by["1584/QĐ-BTC:II.9"]
assert m["payload"]["period"] == "2024-Q2" and m["payload"]["status"] == "done"
assert m["payload"]["percentComplete"] == 100
# Cục THTK is Cục CNTT since 2025: name and orgId of today, sender too
assert m["payload"]["reporter"] == {"orgId": "000.01.12.G12", "name": "Cục Công nghệ thông tin và Chuyển đổi số"}, m["payload"]["reporter"]
assert m["sender"] == m["payload"]["reporter"]
m = by["1584/QĐ-BTC:II.6"]
assert m["payload"]["reporter"]["name"] == "Cục Thuế"   # Tổng cục Thuế
assert m["payload"]["period"] == "2024-Q3"
assert m["payload"]["reportedAt"] == "2024-09-30T00:00:00+07:00"  # ngày 30 tháng 9 năm 2024
assert "\"Kho bạc\"" in m["payload"]["narrative"]
m = by["1584/QĐ-BTC:II.7"]
assert "Cổng DVC quốc gia. Còn lại" in m["payload"]["narrative"]     # the line break
assert m["payload"]["reporter"]["orgId"] == "000.03.12.G12"          # TCHQ
assert by["1584/QĐ-BTC:II.10"]["payload"]["period"] == "2024-10"     # Tháng 10/2024
assert by["1584/QĐ-BTC:II.10"]["payload"]["status"] == "overdue"
assert "narrative" not in by["1584/QĐ-BTC:II.11.2"]["payload"]         # optional, empty
' "$TMP/progress.jsonl" 2>"$TMP/py"
check "progress: fields, units, dates and periods as written in the export" test $? -eq 0 || sed 's/^/    /' "$TMP/py"

# 2b. the tasks of 1584/QĐ-BTC Appendix II as a tracker's CSV export: the
#     same 20 tasks, titles and normalized deadlines as the plan-tables
#     adapter reads from the seed document itself
"$LIENTHONG" import --adapter csv --mapping "$M/task-assignments-1584.yaml" \
	"$M/task-assignments-1584.csv" >"$TMP/tasks.jsonl" 2>"$TMP/err"
check "tasks: exit 0, 20 task.assignment" test $? -eq 0 -a "$(wc -l <"$TMP/tasks.jsonl")" -eq 20
J '
import json, sys
t = {m["payload"]["taskId"]: m["payload"] for m in map(json.loads, open(sys.argv[1]))}
p = t["1584/QĐ-BTC:II.9"]
assert p["timeline"] == {"raw": "Quý II năm 2024", "kind": "quarter", "start": "2024-04-01", "end": "2024-06-30", "due": "2024-06-30"}, p["timeline"]
assert p["leadUnits"][0] == {"orgId": "000.01.12.G12", "name": "Cục Công nghệ thông tin và Chuyển đổi số"}
assert p["leadUnits"][1] == {"name": "Các Tổng cục thuộc Bộ"}   # not in the list: kept, no id
assert t["1584/QĐ-BTC:II.12"]["leadUnits"][0]["name"] == "Cục Thuế"   # Tổng cục Thuế
assert "leadUnits" not in t["1584/QĐ-BTC:II.2"]                     # empty cell, optional
' "$TMP/tasks.jsonl" 2>"$TMP/py"
check "tasks: II.9 due 2024-06-30, led by Cục CNTT (Cục THTK)" test $? -eq 0 || sed 's/^/    /' "$TMP/py"
S004=$(ls "$SHARED"/seeds/004_*.txt 2>/dev/null)
if [ -n "$S004" ]; then
	"$LIENTHONG" import --adapter plan-tables "$S004" >"$TMP/plan.jsonl" 2>/dev/null
	J '
import json, sys
csv = {m["payload"]["taskId"]: m["payload"] for m in map(json.loads, open(sys.argv[1]))}
doc = {m["payload"]["taskId"]: m["payload"] for m in map(json.loads, open(sys.argv[2])) if m["kind"] == "task.assignment"}
assert sorted(csv) == sorted(doc), (sorted(set(csv) ^ set(doc)))
for k in doc:
    assert csv[k]["title"] == doc[k]["title"], k
    assert csv[k]["timeline"] == doc[k]["timeline"], (k, csv[k]["timeline"], doc[k]["timeline"])
' "$TMP/tasks.jsonl" "$TMP/plan.jsonl" 2>"$TMP/py"
	check "tasks: the same task ids, titles and timelines as plan-tables over the seed" test $? -eq 0 ||
		sed 's/^/    /' "$TMP/py"
else
	skip "tasks: seed 004 absent, no cross-check with plan-tables"
fi

# 3. broken rows: each reported with FILE:LINE and why, the good ones kept
{
	head -1 "$M/task-progress.csv"
	echo '1584/QĐ-BTC:II.1,Quý 1 năm 2024,Đã hoàn thành,100%,ok,Cục THTK,14/5/2024'
	echo '1584/QĐ-BTC:II.2,Quý 5 năm 2024,Đã hoàn thành,100%,x,Cục THTK,14/5/2024'
	echo '1584/QĐ-BTC:II.3,Quý 1 năm 2024,Làm xong,100%,x,Cục THTK,14/5/2024'
	echo '1584/QĐ-BTC:II.4,Quý 1 năm 2024,Đã hoàn thành,100%,x,Cục Không Tồn Tại,14/5/2024'
	echo '1584/QĐ-BTC:II.5,Quý 1 năm 2024,Đã hoàn thành,100%,"x"y,Cục THTK,14/5/2024'
	echo '1584/QĐ-BTC:II.6,Quý 1 năm 2024,Đã hoàn thành,abc,x,Cục THTK,14/5/2024'
	echo '1584/QĐ-BTC:II.1,Quý 1 năm 2024,Đã hoàn thành,100%,again,Cục THTK,14/5/2024'
	echo '1584/QĐ-BTC:II.7,Quý 1 năm 2024,Đã hoàn thành,100%,x,Cục THTK,31/2/2024'
	echo 'short,row'
	echo '1584/QĐ-BTC:II.8,Quý 1 năm 2024,Đã hoàn thành,100%,"never closed,Cục THTK,14/5/2024'
	echo 'x,y'
} >"$TMP/bad.csv"
"$LIENTHONG" import --adapter csv --mapping "$M/task-progress.yaml" "$TMP/bad.csv" \
	>"$TMP/bad.jsonl" 2>"$TMP/err"
check "bad rows: the one good row is written" test "$(wc -l <"$TMP/bad.jsonl")" -eq 1
check "bad rows: 9 rows not mapped in the summary" grep -q "1 messages written.*0 invalid, 9 rows not mapped" "$TMP/err"
check "bad rows: the unclosed quote swallows the rest, nothing invented after it" sh -c "! grep -q 'bad.csv:12' '$TMP/err'"
while IFS='|' read -r line why; do
	check "bad rows: line $line reported: $why" grep -qF "bad.csv:$line: $why" "$TMP/err"
done <<'EOF'
3|column 'Kỳ báo cáo' ('Quý 5 năm 2024'): 'Quý 5 năm 2024' is not a reporting period
4|column 'Tình trạng' ('Làm xong'): 'Làm xong' is not in code list 'status'
5|column 'Đơn vị báo cáo' ('Cục Không Tồn Tại'): 'Cục Không Tồn Tại' is not in code list 'units'
6|field 5: text after its closing quote
7|column 'Tỷ lệ hoàn thành' ('abc'): 'abc' is not a number
8|record key '1584/QĐ-BTC:II.1|Quý 1 năm 2024' repeats the row of
9|column 'Ngày báo cáo' ('31/2/2024')
10|the row has 2 fields, the header has 7
11|field 5: the quote opened on line 11 is never closed
EOF
# an unquoted comma inside a value shifts the columns after it: refused
{
	head -1 "$M/task-progress.csv"
	echo '1584/QĐ-BTC:II.1,Quý 1 năm 2024,Đã hoàn thành,100%,Đã xong, đúng hạn,Cục THTK,14/5/2024'
} >"$TMP/shift.csv"
"$LIENTHONG" import --adapter csv --mapping "$M/task-progress.yaml" "$TMP/shift.csv" >"$TMP/out" 2>"$TMP/err"
check "shifted row: refused, not mapped with its columns moved" test ! -s "$TMP/out"
check "shifted row: says why" grep -q "shift.csv:2: the row has 8 fields, the header has 7 (a value holding ',' must be quoted)" "$TMP/err"

# an error inside a quoted cell (a NUL byte, a cell over 1 MiB) followed by
# a line break and a complete forged row: the rest of the cell stays the
# cell, it never becomes a row of its own (record injection)
FORGED='1584/QĐ-BTC:II.9,Quý 2 năm 2024,Đã hoàn thành,100%,forged,Cục THTK,14/5/2024'
{
	head -1 "$M/task-progress.csv"
	printf '1584/QĐ-BTC:II.1,Quý 1 năm 2024,Đã hoàn thành,100%%,"x\0y\n%s\n""z"" end",Cục THTK,14/5/2024\n' "$FORGED"
	echo '1584/QĐ-BTC:II.2,Quý 1 năm 2024,Đã hoàn thành,100%,ok,Cục THTK,14/5/2024'
} >"$TMP/nul.csv"
"$LIENTHONG" import --adapter csv --mapping "$M/task-progress.yaml" "$TMP/nul.csv" >"$TMP/out" 2>"$TMP/err"
check "NUL in a quoted cell: the forged row inside it is not written" sh -c "! grep -q forged '$TMP/out'"
check "NUL in a quoted cell: the row after the cell is written" test "$(wc -l <"$TMP/out")" -eq 1 -a "$(grep -c 'II.2"' "$TMP/out")" -eq 1
check "NUL in a quoted cell: one row not mapped, located" grep -q "1 messages written.*1 rows not mapped" "$TMP/err"
check "NUL in a quoted cell: FILE:LINE: why" grep -q "nul.csv:2: field 5: a NUL byte" "$TMP/err"
python3 - "$TMP/long.csv" "$FORGED" <<'EOP'
import sys
with open(sys.argv[1], "w", encoding="utf-8") as f:
    f.write("Mã nhiệm vụ,Kỳ báo cáo,Tình trạng,Tỷ lệ hoàn thành,Nội dung,Đơn vị báo cáo,Ngày báo cáo\n")
    f.write('1584/QĐ-BTC:II.1,Quý 1 năm 2024,Đã hoàn thành,100%,"' + "x" * (1 << 20) + "\n" + sys.argv[2] + '\n",Cục THTK,14/5/2024\n')
    f.write("1584/QĐ-BTC:II.2,Quý 1 năm 2024,Đã hoàn thành,100%,ok,Cục THTK,14/5/2024\n")
EOP
"$LIENTHONG" import --adapter csv --mapping "$M/task-progress.yaml" "$TMP/long.csv" >"$TMP/out" 2>"$TMP/err"
check "a quoted cell over 1 MiB: the forged row inside it is not written" sh -c "! grep -q forged '$TMP/out'"
check "a quoted cell over 1 MiB: the row after it is written" test "$(wc -l <"$TMP/out")" -eq 1 -a "$(grep -c 'II.2"' "$TMP/out")" -eq 1
check "a quoted cell over 1 MiB: FILE:LINE: why" grep -q "long.csv:2: field 5 is longer than 1048576 bytes" "$TMP/err"
# a row of 4096 fields and a trailing delimiter: refused with the
# reason, and the rows after it keep their line numbers
python3 - "$TMP/wide.csv" <<'EOP'
import sys
with open(sys.argv[1], "w", encoding="utf-8", newline="") as f:
    f.write("Mã nhiệm vụ,Kỳ báo cáo,Tình trạng,Tỷ lệ hoàn thành,Nội dung,Đơn vị báo cáo,Ngày báo cáo\n")
    f.write(",".join(["1"] * 4096) + ",\n")
    f.write("1584/QĐ-BTC:II.2,Quý 1 năm 2024,Đã hoàn thành,100%,ok,Cục THTK,14/5/2024\n")
    f.write("1584/QĐ-BTC:II.3,Quý 9 năm 2024,Đã hoàn thành,100%,ok,Cục THTK,14/5/2024\n")
EOP
"$LIENTHONG" import --adapter csv --mapping "$M/task-progress.yaml" "$TMP/wide.csv" >"$TMP/out" 2>"$TMP/err"
check "4096 fields and a trailing delimiter: the reason given" grep -q "wide.csv:2: more than 4096 fields$" "$TMP/err"
check "4096 fields and a trailing delimiter: later rows on their own line" grep -q "wide.csv:4: column 'Kỳ báo cáo'" "$TMP/err"
check "4096 fields and a trailing delimiter: the good row written" test "$(wc -l <"$TMP/out")" -eq 1

# 4. a mapping file that is wrong is refused with its line, nothing written
sed 's/transforms: \[integer\]/transforms: [integer, rot13]/' "$M/task-progress.yaml" >"$TMP/badmap.yaml"
sed -i "s#file: ../units.yaml#file: $TOP/conf/units.yaml#" "$TMP/badmap.yaml"
expect_exit "bad mapping: exit 1" 1 "$LIENTHONG" import --adapter csv --mapping "$TMP/badmap.yaml" "$M/task-progress.csv"
check "bad mapping: FILE:LINE: key" grep -q "badmap.yaml:$(grep -n rot13 "$TMP/badmap.yaml" | cut -d: -f1): fields.3.transforms.1" "$TMP/err"
check "bad mapping: nothing on stdout" test ! -s "$TMP/out"
sed 's/column: Tình trạng/column: Trạng thái/' "$M/task-progress.yaml" >"$TMP/nocol.yaml"
sed -i "s#file: ../units.yaml#file: $TOP/conf/units.yaml#" "$TMP/nocol.yaml"
expect_exit "missing column: exit 1" 1 "$LIENTHONG" import --adapter csv --mapping "$TMP/nocol.yaml" "$M/task-progress.csv"
check "missing column: named with the mapping's line and the input's columns" \
	grep -q "nocol.yaml:[0-9]*: fields.2.column: no column 'Trạng thái' in .*task-progress.csv (its columns: 'Mã nhiệm vụ'" "$TMP/err"
expect_exit "no mapping: usage of the csv adapter" 2 "$LIENTHONG" import --adapter csv "$M/task-progress.csv"
check "no mapping: says a mapping is needed" grep -q "needs a mapping file" "$TMP/err"
expect_exit "missing input: exit 3" 3 "$LIENTHONG" import --adapter csv --mapping "$M/task-progress.yaml" "$TMP/none.csv"
check "missing input: named" grep -q "cannot open '$TMP/none.csv'" "$TMP/err"

# 5. the sqlite adapter: the same rows in a table, the same mapping plus a
#    query; the database is opened read-only
if command -v sqlite3 >/dev/null || python3 -c 'import sqlite3' 2>/dev/null; then
	python3 - "$M/task-progress.csv" "$TMP/p.db" <<'EOP'
import csv, sqlite3, sys
rows = list(csv.reader(open(sys.argv[1], encoding="utf-8")))
db = sqlite3.connect(sys.argv[2])
db.execute("CREATE TABLE progress (task TEXT, period TEXT, state TEXT, pct INTEGER, note TEXT, unit TEXT, day TEXT)")
for r in rows[1:]:
    r[3] = int(r[3].rstrip("%"))
    db.execute("INSERT INTO progress VALUES (?,?,?,?,?,?,?)", [x if x != "" else None for x in r])
db.commit()
EOP
	{
		sed -n '/^kind:/,/^date:/p' "$M/task-progress.yaml"
		cat <<'EOY'
sqlite:
  query: >
    SELECT task AS "Mã nhiệm vụ", period AS "Kỳ báo cáo", state AS "Tình trạng",
           pct AS "Tỷ lệ hoàn thành", note AS "Nội dung", unit AS "Đơn vị báo cáo",
           day AS "Ngày báo cáo" FROM progress ORDER BY rowid
EOY
		sed -n '/^code_lists:/,$p' "$M/task-progress.yaml" | sed "s#file: ../units.yaml#file: $TOP/conf/units.yaml#"
	} >"$TMP/sq.yaml"
	cp "$TMP/p.db" "$TMP/p.db.orig"
	"$LIENTHONG" import --adapter sqlite --mapping "$TMP/sq.yaml" "$TMP/p.db" >"$TMP/sq.jsonl" 2>"$TMP/err"
	check "sqlite: exit 0" test $? -eq 0
	J '
import json, sys
a = [json.loads(l)["payload"] for l in open(sys.argv[1])]
b = [json.loads(l)["payload"] for l in open(sys.argv[2])]
assert a == b, (a, b)
' "$TMP/sq.jsonl" "$TMP/progress.jsonl" 2>"$TMP/py"
	check "sqlite: the same payloads as from the CSV export" test $? -eq 0 || sed 's/^/    /' "$TMP/py"
	check "sqlite: the database is unchanged" cmp -s "$TMP/p.db" "$TMP/p.db.orig"
	sed 's/^    SELECT task/    DELETE FROM progress; SELECT task/' "$TMP/sq.yaml" >"$TMP/sqw.yaml"
	sed -i 's/^  query: >/  query: >\n    SELECT 1;/' "$TMP/sqw.yaml"
	expect_exit "sqlite: two statements refused" 3 "$LIENTHONG" import --adapter sqlite --mapping "$TMP/sqw.yaml" "$TMP/p.db"
	check "sqlite: ... with the reason" grep -q "must be one read-only SELECT statement" "$TMP/err"
	check "sqlite: ... and the rows are still there" test "$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from progress").fetchone()[0])' "$TMP/p.db")" = 5
	# a mapping without sqlite.query is a bad mapping file: exit 1, located
	sed '/^sqlite:/,/^code_lists:/{/^code_lists:/!d}' "$TMP/sq.yaml" >"$TMP/sqq.yaml"
	expect_exit "sqlite: a mapping without sqlite.query: exit 1" 1 "$LIENTHONG" import --adapter sqlite --mapping "$TMP/sqq.yaml" "$TMP/p.db"
	check "sqlite: ... FILE:LINE: sqlite: query is required" \
		grep -q "^import: $TMP/sqq.yaml:$(grep -n '^kind:' "$TMP/sqq.yaml" | cut -d: -f1): sqlite: query is required" "$TMP/err"
	sed 's/FROM progress/FROM nosuch/' "$TMP/sq.yaml" >"$TMP/sqn.yaml"
	expect_exit "sqlite: a query that fails is reported" 3 "$LIENTHONG" import --adapter sqlite --mapping "$TMP/sqn.yaml" "$TMP/p.db"
	check "sqlite: ... with SQLite's reason" grep -q "no such table: nosuch" "$TMP/err"
else
	skip "sqlite: python3 sqlite3 module absent"
fi

# 6. a long import on a terminal shows a progress bar; not when piped
python3 - "$TMP/big.csv" <<'EOP'
import sys
with open(sys.argv[1], "w", encoding="utf-8") as f:
    f.write("Mã nhiệm vụ,Kỳ báo cáo,Tình trạng,Tỷ lệ hoàn thành,Nội dung,Đơn vị báo cáo,Ngày báo cáo\n")
    for i in range(15000):
        f.write('1584/QĐ-BTC:II.%d,Quý %d năm 2024,Đang thực hiện,%d%%,"%s",Cục THTK,14/5/2024\n'
                % (i, i % 4 + 1, i % 100, "Đã thực hiện, còn lại " * 12))
EOP
"$LIENTHONG" import --adapter csv --mapping "$M/task-progress.yaml" "$TMP/big.csv" >/dev/null 2>"$TMP/err"
check "big: 15,000 rows, 15,000 messages" grep -q "15000 messages written" "$TMP/err"
check "big: no bar when stderr is not a terminal" sh -c "! grep -q '\[#' '$TMP/err'"
if command -v script >/dev/null; then
	script -qec "$LIENTHONG import --adapter csv --mapping $M/task-progress.yaml $TMP/big.csv >/dev/null" /dev/null >"$TMP/tty" 2>&1
	check "big: a progress bar on a terminal" grep -q '\] 100%' "$TMP/tty"
else
	skip "big: script(1) absent, no terminal to test the bar"
fi
finish
