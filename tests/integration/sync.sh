#!/bin/bash
# sync.sh - scheduled sync of record sources on loopback: a csv source run
# twice over the same export sends nothing the second time; changing one
# row sends exactly one message; the messages arrive once each at a local
# platform (mutual TLS sink counting by message id). Also: a grouped source
# (21 rows -> one indicator.report) resends its one message when one row
# changes, an sqlite source, a pass cut off before recording its digests
# sends nothing twice, --scheduled runs a source by its every_s, and bad
# schedules are refused with their line.
. tests/lib.sh
P=$TOP/$B/pki
sh "$TOP/certs/mkpki.sh" "$P" >/dev/null || { not_ok "make the test PKI"; finish; exit 1; }
cat "$P/hub.pem" "$P/chain.pem" >"$TMP/hub-full.pem"
cat "$P/ministry-ec.pem" "$P/chain.pem" >"$TMP/ministry-full.pem"
PIDS=()
trap 'kill "${PIDS[@]}" 2>/dev/null; rm -rf "$TMP"' EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
HUB=$(port)
python3 "$TOP/tests/tools/sink.py" --port "$HUB" --cert "$TMP/hub-full.pem" --key "$P/hub.key" \
	--ca "$P/root.pem" --log "$TMP/hub.log" >"$TMP/hub.out" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do grep -q ready "$TMP/hub.out" 2>/dev/null && break; sleep 0.1; done
grep -q ready "$TMP/hub.out" || { not_ok "start the sink"; finish; exit 1; }
# ids that arrived with 200, and how many times each: "COUNT ID"
arrived() { awk '$2==200{print $1}' "$TMP/hub.log" | sort | uniq -c; }
# the stored bytes of a queued message
body() { python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select body from messages where id=?", (sys.argv[2],)).fetchone()[0].decode())' "$TMP/var/outbox.db" "$1"; }

mkdir -p "$TMP/src"
cp "$TOP/conf/mappings/"* "$TMP/src/"
sed -i "s#file: ../units.yaml#file: $TOP/conf/units.yaml#" "$TMP/src/task-progress.yaml"
cat >"$TMP/g.yaml" <<EOC
gateway:
  name: ministry
  organization: {orgId: 000.00.00.G12, name: Bộ Tài chính}
  data_dir: $TMP/var
destinations:
  hub:
    url: https://127.0.0.1:$HUB/v1/messages
    ca: $P/root.pem
    cert: $TMP/ministry-full.pem
    key: $P/ministry-ec.key
    timeout_ms: 5000
routes:
  - to: [hub]
sources:
  progress:
    adapter: csv
    path: $TMP/src/task-progress.csv
    mapping: $TMP/src/task-progress.yaml
    every_s: 1
  targets:
    adapter: csv
    path: $TMP/src/indicator-targets-2024.csv
    mapping: $TMP/src/indicator-targets-2024.yaml
    cron: "0 0 29 2 *"
    receivers:
      - {orgId: 000.00.00.G16, name: "Nền tảng tích hợp, chia sẻ dữ liệu quốc gia"}
EOC
expect_exit "configuration with csv sources is valid" 0 "$LIENTHONG" config check "$TMP/g.yaml"

# first pass: every record is new
"$LIENTHONG" sync -c "$TMP/g.yaml" progress >"$TMP/out1" 2>"$TMP/err"
check "first pass: 5 new records" grep -q "source 'progress': 5 records, 5 new, 0 changed, 0 unchanged, 0 rows not mapped" "$TMP/err"
check "first pass: 5 ids queued" test "$(wc -l <"$TMP/out1")" -eq 5
"$LIENTHONG" deliver -c "$TMP/g.yaml" --once >/dev/null 2>&1
check "the platform got the 5 messages, each once" test "$(arrived | awk '$1==1' | wc -l)" -eq 5

# second pass over the same export: nothing is sent
"$LIENTHONG" sync -c "$TMP/g.yaml" progress >"$TMP/out2" 2>"$TMP/err"
check "second pass: 5 unchanged" grep -q "5 records, 0 new, 0 changed, 5 unchanged" "$TMP/err"
check "second pass: nothing queued" test ! -s "$TMP/out2"
"$LIENTHONG" deliver -c "$TMP/g.yaml" --once >/dev/null 2>&1
check "second pass: the platform got nothing more" test "$(awk '$2==200' "$TMP/hub.log" | wc -l)" -eq 5

# one row changed (the percentage of II.6): exactly one message
sed -i 's/,60%,/,65%,/' "$TMP/src/task-progress.csv"
"$LIENTHONG" sync -c "$TMP/g.yaml" progress >"$TMP/out3" 2>"$TMP/err"
check "one row changed: 1 changed, 4 unchanged" grep -q "5 records, 0 new, 1 changed, 4 unchanged" "$TMP/err"
check "one row changed: one id queued" test "$(wc -l <"$TMP/out3")" -eq 1
"$LIENTHONG" deliver -c "$TMP/g.yaml" --once >/dev/null 2>&1
check "one row changed: the platform got exactly 6 messages, each once" \
	test "$(arrived | awk '$1==1' | wc -l)" -eq 6 -a "$(arrived | awk '$1!=1' | wc -l)" -eq 0
ID3=$(cut -d' ' -f1 "$TMP/out3")
body "$ID3" >"$TMP/show" 2>&1
check "... and it is II.6 at 65%" grep -q '"percentComplete":65' "$TMP/show"

# a new row appended: one new message; a removed quote breaks a row, which
# is reported, and the others stay unchanged
printf '1584/QĐ-BTC:II.12,Quý 4 năm 2024,Đang thực hiện,10%%,mới,KBNN,2/12/2024\n' >>"$TMP/src/task-progress.csv"
printf '1584/QĐ-BTC:II.13,Quý 4 năm 2024,Đang thực hiện,10%%,"x"y,KBNN,2/12/2024\n' >>"$TMP/src/task-progress.csv"
"$LIENTHONG" sync -c "$TMP/g.yaml" progress >"$TMP/out4" 2>"$TMP/err"
RC=$?
check "appended row: 1 new, 5 unchanged, 1 not mapped" grep -q "6 records, 1 new, 0 changed, 5 unchanged, 1 rows not mapped" "$TMP/err"
check "appended row: the bad one located" grep -q "task-progress.csv:9: field 5: text after its closing quote" "$TMP/err"
check "appended row: exit 1 (a row was refused)" test "$RC" -eq 1
check "appended row: the new one queued" test "$(wc -l <"$TMP/out4")" -eq 1

# a grouped source: 21 rows, one message; one row changed -> one message
"$LIENTHONG" sync -c "$TMP/g.yaml" targets >"$TMP/out5" 2>"$TMP/err"
check "grouped: 1 record from 21 rows" grep -q "source 'targets': 1 records, 1 new" "$TMP/err"
sed -i 's/^2;Lĩnh vực Hải quan;\(.*\);95%/2;Lĩnh vực Hải quan;\1;96%/' "$TMP/src/indicator-targets-2024.csv"
"$LIENTHONG" sync -c "$TMP/g.yaml" targets >"$TMP/out6" 2>"$TMP/err"
check "grouped: one row changed -> the record's one message" grep -q "1 records, 0 new, 1 changed, 0 unchanged" "$TMP/err"
body "$(cut -d' ' -f1 "$TMP/out6")" >"$TMP/show" 2>&1
check "grouped: sent to the source's receivers" grep -q '000.00.00.G16' "$TMP/show"
check "grouped: with the new value" grep -q '"value":"96"' "$TMP/show"

# a pass cut off after enqueueing, before recording its digests: the next
# pass finds the messages stored and sends nothing twice
# (the record's sync state before the pass, put back after it)
state() { python3 - "$TMP/var/outbox.db" "$1" "$TMP/state" <<'EOP'
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
q = "FROM sync_state WHERE source='progress' AND key LIKE '1584/QĐ-BTC:II.6|%'"
if sys.argv[2] == "save":
    cur = db.execute("SELECT * " + q)
    names = [d[0] for d in cur.description]
    open(sys.argv[3], "w").write(json.dumps([dict(zip(names, r)) for r in cur]))
else:
    rows = json.load(open(sys.argv[3]))
    db.execute("DELETE " + q)
    for r in rows:
        db.execute("INSERT INTO sync_state(%s) VALUES(%s)" % (",".join(r), ",".join("?" * len(r))), list(r.values()))
    db.commit()
EOP
}
sed -i 's/,65%,/,70%,/' "$TMP/src/task-progress.csv"
state save
"$LIENTHONG" sync -c "$TMP/g.yaml" progress >"$TMP/out7" 2>"$TMP/err"
ID7=$(cut -d' ' -f1 "$TMP/out7")
# forget what the pass recorded, as if it died before recording it
state restore
"$LIENTHONG" sync -c "$TMP/g.yaml" progress >"$TMP/out8" 2>"$TMP/err"
check "cut-off pass: the changed record is seen again" grep -q "1 changed" "$TMP/err"
check "cut-off pass: but nothing is queued twice" test ! -s "$TMP/out8"
"$LIENTHONG" sync -c "$TMP/g.yaml" progress >"$TMP/out9" 2>"$TMP/err"
check "cut-off pass: then its digest is recorded" grep -q "0 changed, 6 unchanged" "$TMP/err"
"$LIENTHONG" deliver -c "$TMP/g.yaml" --once >/dev/null 2>&1
check "every message arrived exactly once" test "$(arrived | awk '$1!=1' | wc -l)" -eq 0 -a "$(arrived | wc -l)" -eq 10

# a record changed back to an earlier value (70% -> 72% -> 70% -> 72% ->
# 70%): every change is sent, so the platform ends with the value of the
# export, never a stale one
N=10
for v in 72 70 72 70; do
	sed -i "/II.6,/s/,[0-9]*%,/,$v%,/" "$TMP/src/task-progress.csv"
	"$LIENTHONG" sync -c "$TMP/g.yaml" progress >"$TMP/outb" 2>"$TMP/err"
	check "back and forth to $v%: 1 changed, one id queued" \
		sh -c "grep -q '0 new, 1 changed, 5 unchanged' '$TMP/err' && test \$(wc -l <'$TMP/outb') -eq 1"
	body "$(cut -d' ' -f1 "$TMP/outb")" >"$TMP/show" 2>&1
	check "back and forth to $v%: the message says $v%" grep -q "\"percentComplete\":$v" "$TMP/show"
	"$LIENTHONG" deliver -c "$TMP/g.yaml" --once >/dev/null 2>&1
	N=$((N + 1))
	check "back and forth to $v%: it arrived, every message once ($N)" \
		test "$(arrived | awk '$1!=1' | wc -l)" -eq 0 -a "$(arrived | wc -l)" -eq $N
done
"$LIENTHONG" sync -c "$TMP/g.yaml" progress >"$TMP/outb" 2>"$TMP/err"
check "back and forth: then unchanged, nothing queued" sh -c "grep -q '0 changed, 6 unchanged' '$TMP/err' && test ! -s '$TMP/outb'"

# an sqlite source through the same kind of mapping
python3 - "$TMP/src/p.db" <<'EOP'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("CREATE TABLE t (task TEXT, period TEXT, state TEXT, pct INTEGER, unit TEXT, day TEXT)")
for i in range(1, 4):
    db.execute("INSERT INTO t VALUES (?,?,?,?,?,?)", ("1584/QĐ-BTC:II.%d" % i, "Quý 2 năm 2024", "Đang thực hiện", 10 * i, "Cục THTK", "2024-06-30"))
db.commit()
EOP
cat >"$TMP/src/sq.yaml" <<EOY
kind: task.progress
key: [task, period]
sqlite:
  query: SELECT task, period, state, pct, unit, day FROM t
code_lists:
  units: {file: $TOP/conf/units.yaml}
  status: {values: {Đang thực hiện: in-progress, Đã hoàn thành: done}}
fields:
  - {column: task, to: /payload/taskRef}
  - {column: period, to: /payload/period, transforms: [period]}
  - {column: state, to: /payload/status, transforms: [text, code: status]}
  - {column: pct, to: /payload/percentComplete, transforms: [integer]}
  - {column: unit, to: /payload/reporter, transforms: [text, code: units]}
  - {column: day, to: /payload/reportedAt, transforms: [datetime]}
EOY
cat >>"$TMP/g.yaml" <<EOC
  db:
    adapter: sqlite
    path: $TMP/src/p.db
    mapping: $TMP/src/sq.yaml
EOC
"$LIENTHONG" sync -c "$TMP/g.yaml" db >"$TMP/out" 2>"$TMP/err"
check "sqlite source: 3 new" grep -q "source 'db': 3 records, 3 new" "$TMP/err"
python3 -c 'import sqlite3,sys; db=sqlite3.connect(sys.argv[1]); db.execute("UPDATE t SET pct=100, state=? WHERE rowid=2", ("Đã hoàn thành",)); db.commit()' "$TMP/src/p.db"
"$LIENTHONG" sync -c "$TMP/g.yaml" db >"$TMP/out" 2>"$TMP/err"
check "sqlite source: one row updated -> one message" grep -q "3 records, 0 new, 1 changed, 2 unchanged" "$TMP/err"
check "sqlite source: ... one id" test "$(wc -l <"$TMP/out")" -eq 1
# a mapping without sqlite.query: a bad mapping file, exit 1, located
sed '/^sqlite:/,/^code_lists:/{/^code_lists:/!d}' "$TMP/src/sq.yaml" >"$TMP/src/sqq.yaml"
sed "s#mapping: $TMP/src/sq.yaml#mapping: $TMP/src/sqq.yaml#" "$TMP/g.yaml" >"$TMP/gq.yaml"
expect_exit "sqlite source without sqlite.query: exit 1" 1 "$LIENTHONG" sync -c "$TMP/gq.yaml" db
check "... FILE:LINE: sqlite: query is required" grep -q "source 'db': $TMP/src/sqq.yaml:1: sqlite: query is required" "$TMP/err"

# --scheduled: progress runs now and again after every_s (1 s); targets
# waits for its cron time (midnight of 29 February), so it does not run here
sed -i 's/,70%,/,75%,/; /II.13/d' "$TMP/src/task-progress.csv"
"$LIENTHONG" sync -c "$TMP/g.yaml" --scheduled >"$TMP/sched.out" 2>"$TMP/sched.err" &
SP=$!
PIDS+=($SP)
for _ in $(seq 100); do [ "$(grep -sc "source 'progress'" "$TMP/sched.err")" -ge 2 ] 2>/dev/null && break; sleep 0.1; done
kill -TERM $SP; wait $SP; SRC=$?
check "scheduled: stops on SIGTERM with exit 0" test "$SRC" -eq 0
check "scheduled: progress ran at least twice" test "$(grep -c "source 'progress'" "$TMP/sched.err")" -ge 2
check "scheduled: the first run sent the change, the next ones nothing" \
	test "$(grep -c "1 changed" "$TMP/sched.err")" -eq 1 -a "$(wc -l <"$TMP/sched.out")" -eq 1
check "scheduled: the cron source waits for its time" sh -c "! grep -q \"source 'targets'\" '$TMP/sched.err'"

# watch: a source with no schedule runs at start, then whenever its file
# changes, while sync loops
cp "$TOP/conf/mappings/task-progress.csv" "$TMP/src/watched.csv"
cat >>"$TMP/g.yaml" <<EOC
  watched:
    adapter: csv
    path: $TMP/src/watched.csv
    mapping: $TMP/src/task-progress.yaml
    watch: true
EOC
"$LIENTHONG" sync -c "$TMP/g.yaml" --scheduled watched >"$TMP/w.out" 2>"$TMP/w.err" &
SP=$!
PIDS+=($SP)
for _ in $(seq 100); do grep -sq "source 'watched'" "$TMP/w.err" && break; sleep 0.1; done
check "watch: the first pass runs at start" grep -q "source 'watched': 5 records, 5 new" "$TMP/w.err"
printf '1584/QĐ-BTC:II.20,Quý 4 năm 2024,Đang thực hiện,5%%,mới,KBNN,2/12/2024\n' >>"$TMP/src/watched.csv"
for _ in $(seq 100); do grep -sq "1 new" "$TMP/w.err" && break; sleep 0.1; done
kill -TERM $SP; wait $SP
check "watch: a changed file runs the source again: one new record" grep -q "source 'watched': 6 records, 1 new, 0 changed, 5 unchanged" "$TMP/w.err"
check "watch: 6 ids queued in all" test "$(wc -l <"$TMP/w.out")" -eq 6
check "watch: no pass without a change" test "$(grep -c "source 'watched'" "$TMP/w.err")" -eq 2

# bad schedules are refused with the line
sed 's/cron: "0 0 29 2 \*"/cron: "0 25 * * *"/' "$TMP/g.yaml" >"$TMP/bad.yaml"
expect_exit "a bad cron: exit 1" 1 "$LIENTHONG" sync -c "$TMP/bad.yaml" --scheduled
check "a bad cron: FILE:LINE: sources.targets.cron: the field" \
	grep -q "bad.yaml:$(grep -n 'cron:' "$TMP/bad.yaml" | cut -d: -f1): sources.targets.cron: schedule: hour field '25'" "$TMP/err"
expect_exit "--cron on the command line is checked too" 2 "$LIENTHONG" sync -c "$TMP/g.yaml" --cron "* * *"
sed 's/^  progress:/  progress:\n    cron: "* * * * *"/' "$TMP/g.yaml" >"$TMP/both.yaml"
expect_exit "every_s and cron together are refused" 1 "$LIENTHONG" config check "$TMP/both.yaml"
sed '/^  db:/,$d' "$TMP/g.yaml" >"$TMP/nomap.yaml"
sed -i '/mapping: .*sq.yaml/d; /mapping: .*task-progress.yaml/d' "$TMP/nomap.yaml"
expect_exit "a csv source without a mapping is refused" 1 "$LIENTHONG" config check "$TMP/nomap.yaml"
check "... naming the source" grep -q "sources.progress" "$TMP/err"
finish
