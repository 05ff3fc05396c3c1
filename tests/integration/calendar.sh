#!/bin/bash
# calendar.sh - the reporting calendar (docs/CALENDAR.md) end to end: one
# indicator report routed to two platforms (sinks on loopback answering
# with signed receipts) satisfies the obligation of each once the receipts
# verify; an obligation never reported is late the day after its deadline
# and not before; the iCalendar export read back by Python's icalendar
# (an independent reader); a reminder command run once per obligation,
# period and stage, and audited; located errors for bad obligations; and,
# from the seed plan 004 (../shared/seeds) with conf/obligations, the EMC
# connection task (II.9) due 2024-06-30 with its lead unit and the
# 20th/25th conflict of the monthly report.
. tests/lib.sh
# the Debian python3 (python3-icalendar is a Debian package), else any
PY=/usr/bin/python3; [ -x "$PY" ] || PY=python3
P=$TOP/$B/pki
sh "$TOP/certs/mkpki.sh" "$P" >/dev/null || { not_ok "make the test PKI"; finish; exit 1; }
SINK=$TOP/tests/tools/sink.py
PIDS=()
trap 'kill "${PIDS[@]}" 2>/dev/null; rm -rf "$TMP"' EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
cat "$P/hub.pem" "$P/chain.pem" >"$TMP/hub-full.pem"
cat "$P/ministry-ec.pem" "$P/chain.pem" >"$TMP/ministry-full.pem"
HUB_SUBJECT="CN=National Data Exchange Hub,O=Lienthong Test PKI,C=VN"
L=$LIENTHONG
cal() { "$L" calendar "$@"; }

# a platform's answer: a receipt signed by the hub for the bytes received
cat >"$TMP/answer.sh" <<'EOS'
#!/bin/bash
P=$1; L=$2; T=$(mktemp -d)
printf '{"kind":"receipt","id":"6a1c1f0e-0000-4000-8000-000000000002","payload":{"messageId":"%s","sha256":"%s","outcome":"accepted","time":"2024-07-10T00:00:00Z"}}' \
	"$MSG_ID" "$SHA256" >"$T/r.json"
"$L" sign --key "$P/hub.key" --cert "$P/hub.pem" --chain "$P/chain.pem" "$T/r.json"
rm -rf "$T"
EOS
chmod +x "$TMP/answer.sh"
PA=$(port) PB=$(port)
for x in a:$PA b:$PB; do
	python3 "$SINK" --port "${x#*:}" --cert "$TMP/hub-full.pem" --key "$P/hub.key" \
		--ca "$P/root.pem" --log "$TMP/${x%%:*}.log" \
		--answer-cmd "$TMP/answer.sh $P $L" >"$TMP/${x%%:*}.out" 2>&1 &
	PIDS+=($!)
done
for x in a b; do
	for _ in $(seq 50); do grep -q ready "$TMP/$x.out" 2>/dev/null && break; sleep 0.1; done
done

# the reminder command: appends the reminder (JSON on stdin) to a file
cat >"$TMP/remind.sh" <<EOS
#!/bin/sh
cat >>"$TMP/reminders.jsonl"; echo >>"$TMP/reminders.jsonl"
EOS
chmod +x "$TMP/remind.sh"

dest() { cat <<EOD
  $1:
    url: https://127.0.0.1:$2/v1/messages
    ca: $P/root.pem
    cert: $TMP/ministry-full.pem
    key: $P/ministry-ec.key
    receipt: required
    receipt_signer: "$HUB_SUBJECT"
    retry: {max_attempts: 2, backoff_ms: 100, backoff_max_ms: 200}
EOD
}
cat >"$TMP/g.yaml" <<EOC
gateway:
  name: ministry
  organization: {orgId: 000.00.00.G12, name: Bộ Tài chính}
  data_dir: $TMP/var
audit: {store: $TMP/var/audit.db}
signing:
  key: $P/ministry-ec.key
  cert: $P/ministry-ec.pem
  chain: $P/chain.pem
trust:
  dir: $P/trust
destinations:
$(dest platform-a "$PA")
$(dest platform-b "$PB")
routes:
  - kinds: [indicator.report]
    to: [platform-a, platform-b]
obligations:
  units: $TOP/conf/units.yaml
  soon_days: 7
  reminders:
    days: 5
    command: [$TMP/remind.sh]
  list:
    - id: targets-a
      title: Online-service targets to platform A
      unit: Bộ Tài chính
      report: {kind: indicator.report, indicators: [DVCTT.TOAN_TRINH]}
      to: [platform-a]
      due: {rule: yearly, month: 7, day: 15}
      source: {document: 1584/QĐ-BTC, ref: appendix I}
    - id: targets-b
      title: The same targets to platform B
      unit: BTC
      report: {kind: indicator.report, indicators: [DVCTT.TOAN_TRINH]}
      to: [platform-b]
      due: {rule: yearly, month: 7, day: 15}
      source: {document: 1584/QĐ-BTC, ref: appendix I}
    - id: never-sent
      title: An indicator this report does not hold
      unit: Bộ Tài chính
      report: {kind: indicator.report, indicators: [NOT.IN.THE.REPORT]}
      to: [platform-a]
      due: {rule: yearly, month: 7, day: 15}
      source: {document: test}
EOC
expect_exit "a configuration with obligations is valid" 0 "$L" config check "$TMP/g.yaml"
MSG=$TOP/conf/examples/indicator-report-2024-targets.json
ID=$(jq -r .id "$MSG")
st() { # obligation --on DATE: its status for the period due in the window
	cal -c "$TMP/g.yaml" --format json due --days 60 --on "$2" | jq -r --arg o "$1" '.[] | select(.obligation == $o) | .status'
}
check "before anything is sent: due soon a week before the deadline" [ "$(st targets-a 2024-07-10)" = due-soon ]
check "... not due three weeks before" [ "$(st targets-b 2024-06-20)" = not-due ]

expect_exit "send the report (routed to both platforms)" 0 "$L" send -c "$TMP/g.yaml" "$MSG"
check "sent, not yet delivered: 'sent' for A" [ "$(st targets-a 2024-07-10)" = sent ]
check "... and for B" [ "$(st targets-b 2024-07-10)" = sent ]
"$L" deliver -c "$TMP/g.yaml" --once --linger-ms 1500 >"$TMP/deliver.out" 2>&1
"$L" queue -c "$TMP/g.yaml" show "$ID" >"$TMP/show"
check "both receipts verified by the sender (queue show)" [ "$(grep -c 'checked: receipt verified' "$TMP/show")" = 2 ]
cal -c "$TMP/g.yaml" --format json due --days 60 --on 2024-07-10 >"$TMP/due.json"
check "one report, two obligations delivered: A" [ "$(jq -r '.[] | select(.obligation == "targets-a") | "\(.status) \(.period) \(.due) \(.messages[0]) \(.to[0].state)"' "$TMP/due.json")" = "delivered 2024 2024-07-15 $ID delivered" ]
check "... and B, by the same message" [ "$(jq -r '.[] | select(.obligation == "targets-b") | "\(.status) \(.messages[0])"' "$TMP/due.json")" = "delivered $ID" ]
"$L" audit ls -c "$TMP/g.yaml" --kind receipt --format json >"$TMP/rcpt.json" 2>/dev/null
got=$(jq -r '.[] | select(.obligation == "targets-a" or .obligation == "targets-b") | .to[0].auditEntry' "$TMP/due.json" | sort | tr '\n' ' ')
want=$(jq -r --arg id "$ID" '.[] | select(.msgId == $id or .msg_id == $id) | .index' "$TMP/rcpt.json" | sort | tr '\n' ' ')
check "each platform's obligation names the audit entry of its verified receipt ($got)" sh -c "[ '$got' = '$want' ] && [ \$(echo $got | wc -w) = 2 ]"
check "the report without the indicator satisfies nothing" [ "$(jq -r '.[] | select(.obligation == "never-sent") | "\(.status) \(.messages | length)"' "$TMP/due.json")" = "due-soon 0" ]
check "the unit written as an alias (BTC) is the same unit" [ "$(jq -r '.[] | select(.obligation == "targets-b") | .unitOrgId' "$TMP/due.json")" = 000.00.00.G12 ]
cal -c "$TMP/g.yaml" due --days 60 --on 2024-07-10 --to platform-b >"$TMP/by-dest"
check "due --to platform-b: only B's obligation" [ "$(awk '{print $3}' "$TMP/by-dest" | sort -u | tr '\n' ' ')" = "targets-b " ]

# late: not on the deadline, the day after
cal -c "$TMP/g.yaml" late --on 2024-07-15 >"$TMP/late0"
check "on the deadline day nothing is late" grep -qx nothing "$TMP/late0"
cal -c "$TMP/g.yaml" late --on 2024-07-16 >"$TMP/late1"
check "the day after, the never-sent obligation is late" grep -q "^2024-07-15  late  *never-sent  2024 " "$TMP/late1"
check "... and only it (the delivered ones are not)" [ "$(wc -l <"$TMP/late1")" = 1 ]
cal -c "$TMP/g.yaml" --format csv late --on 2024-07-16 >"$TMP/late.csv"
check "late as CSV: a header and one row" [ "$(python3 -c 'import csv,sys; r=list(csv.DictReader(open(sys.argv[1]))); print(len(r), r[0]["obligation"], r[0]["status"], r[0]["due"])' "$TMP/late.csv")" = "1 never-sent late 2024-07-15" ]

# the iCalendar export, read by an independent reader
cal -c "$TMP/g.yaml" --format ics due --days 60 --on 2024-07-01 >"$TMP/cal.ics"
cat >"$TMP/ics.py" <<'EOP'
import sys, icalendar
cal = icalendar.Calendar.from_ical(open(sys.argv[1], "rb").read())
for ev in sorted(cal.walk("VEVENT"), key=lambda e: str(e["UID"])):
    s, e = ev.decoded("DTSTART"), ev.decoded("DTEND")
    print(ev["X-LIENTHONG-OBLIGATION"], s.isoformat(), (e - s).days,
          str(ev["URL"]), str(ev["UID"]), str(ev["CATEGORIES"].cats[0]) if hasattr(ev["CATEGORIES"], "cats") else str(ev["CATEGORIES"]))
EOP
if "$PY" -c 'import icalendar' 2>/dev/null; then
	"$PY" "$TMP/ics.py" "$TMP/cal.ics" >"$TMP/ics.out" 2>"$TMP/ics.err"
	check "the export parses with python3-icalendar: three events" [ "$(wc -l <"$TMP/ics.out")" = 3 ]
	check "each on its deadline, all day, linking to its obligation" grep -qx "targets-a 2024-07-15 1 urn:lienthong:obligation:targets-a?period=2024 targets-a/2024@lienthong delivered" "$TMP/ics.out"
	check "... the never-sent one too" grep -q "^never-sent 2024-07-15 1 .*never-sent?period=2024 " "$TMP/ics.out"
else
	skip "python3-icalendar absent (scripts/deps.sh test installs it)"
fi

# reminders: once per obligation, period and stage
cal -c "$TMP/g.yaml" remind --on 2024-07-11 >"$TMP/r1"
check "a reminder five days ahead fires for what is not sent" grep -q "^reminder due-soon never-sent 2024 (due 2024-07-15): ok" "$TMP/r1"
check "... and only for it" grep -qx "1 reminder sent" "$TMP/r1"
cal -c "$TMP/g.yaml" remind --on 2024-07-11 >"$TMP/r2"
cal -c "$TMP/g.yaml" remind --on 2024-07-13 >"$TMP/r3"
check "run again the same day, or two days later: never twice" [ "$(cat "$TMP/r2" "$TMP/r3")" = "$(printf '0 reminders sent\n0 reminders sent')" ]
cal -c "$TMP/g.yaml" remind --on 2024-07-16 >"$TMP/r4"
cal -c "$TMP/g.yaml" remind --on 2024-07-20 >"$TMP/r5"
check "late: the day after the deadline, once" [ "$(grep -c '^reminder late never-sent 2024 ' "$TMP/r4" "$TMP/r5" | tr '\n' ' ')" = "$TMP/r4:1 $TMP/r5:0 " ]
check "the command got each reminder as JSON on its standard input" [ "$(jq -r 'select(.obligation) | "\(.reminder) \(.obligation) \(.period) \(.status)"' "$TMP/reminders.jsonl" | tr '\n' '|')" = "due-soon never-sent 2024 due-soon|late never-sent 2024 late|" ]
"$L" audit ls -c "$TMP/g.yaml" --kind reminder >"$TMP/aud" 2>&1
check "each reminder audited" [ "$(grep -c 'reminder' "$TMP/aud")" = 2 ]
cal -c "$TMP/g.yaml" show never-sent --on 2024-07-20 >"$TMP/showo"
check "show: the rule, the source and the reminders sent" sh -c "grep -q 'deadline: 07-15 each year (yearly)' '$TMP/showo' && grep -q 'reminder late 2024: ok' '$TMP/showo' && grep -q 'reminder due-soon 2024: ok' '$TMP/showo'"
# a failing command is recorded failed, and tried again next time
sed -i "s#command: \[$TMP/remind.sh\]#command: [/bin/false]#" "$TMP/g.yaml"
sed -i 's/day: 15}/day: 15}\n      remind_days: 365/' "$TMP/g.yaml"
cal -c "$TMP/g.yaml" remind --on 2024-07-21 >"$TMP/r6"
check "a command that fails: recorded as failed" grep -q "reminder due-soon never-sent 2025 (due 2025-07-15): failed: '/bin/false' exited 1" "$TMP/r6"
cal -c "$TMP/g.yaml" remind --on 2024-07-22 >"$TMP/r7"
check "... and tried again at the next run" grep -q "reminder due-soon never-sent 2025 .*failed" "$TMP/r7"

# serve's scheduler: the reminders run at start (and every every_s),
# never twice across restarts
SPORT=$(port) D2=$(TZ=Asia/Ho_Chi_Minh date -d '+2 days' +%F)
sed "s#reminders.jsonl#reminders-serve.jsonl#" "$TMP/remind.sh" >"$TMP/remind2.sh"; chmod +x "$TMP/remind2.sh"
cat >"$TMP/serve.yaml" <<EOC
gateway:
  name: ministry
  organization: {orgId: 000.00.00.G12, name: Bộ Tài chính}
  data_dir: $TMP/var-serve
audit: {store: $TMP/var-serve/audit.db}
signing: {key: $P/ministry-ec.key, cert: $P/ministry-ec.pem, chain: $P/chain.pem}
trust: {dir: $P/trust}
server:
  listen: 127.0.0.1
  port: $SPORT
  tls: {cert: $TMP/ministry-full.pem, key: $P/ministry-ec.key}
partners:
  - name: hub
    subject: "$HUB_SUBJECT"
    orgId: 000.00.00.G16
    kinds: [indicator.report]
    receivers: ["*"]
obligations:
  units: $TOP/conf/units.yaml
  reminders: {days: 5, command: [$TMP/remind2.sh], every_s: 60}
  list:
    - id: in-two-days
      unit: BTC
      report: {kind: indicator.report}
      due: {rule: date, date: $D2}
      source: {document: test}
EOC
serve_once() {
	"$L" serve -c "$TMP/serve.yaml" --no-deliver >"$TMP/serve.out" 2>&1 &
	local pid=$!
	for _ in $(seq 100); do
		curl -sk "https://127.0.0.1:$SPORT/healthz" --cert "$TMP/hub-full.pem" --key "$P/hub.key" >/dev/null 2>&1 && break
		sleep 0.1
	done
	for _ in $(seq 50); do [ -s "$TMP/reminders-serve.jsonl" ] && break; sleep 0.1; done
	sleep 1
	kill -TERM $pid; wait $pid 2>/dev/null
}
serve_once
check "serve runs the reminders at start: one for the obligation due in two days" [ "$(jq -r 'select(.obligation) | "\(.reminder) \(.obligation) \(.due)"' "$TMP/reminders-serve.jsonl" 2>/dev/null)" = "due-soon in-two-days $D2" ]
serve_once
check "... and not again after a restart" [ "$(grep -c obligation "$TMP/reminders-serve.jsonl")" = 1 ]
"$L" audit ls -c "$TMP/serve.yaml" --kind reminder >"$TMP/aud2" 2>&1
check "... audited once" [ "$(grep -c 'reminder' "$TMP/aud2")" = 1 ]

# bad obligations: located errors
bad() { # name, expected message, sed expression on a copy of g.yaml
	sed "$3" "$TMP/g.yaml" >"$TMP/bad.yaml"
	expect_exit "$1: exit 1" 1 cal -c "$TMP/bad.yaml" due
	check "... $2" grep -q "$2" "$TMP/err"
}
line=$(grep -n 'unit: BTC' "$TMP/g.yaml" | cut -d: -f1)
bad "an unknown unit" "bad.yaml:$line: obligations.list.1.unit: unknown unit 'Cục Không Có'" 's/unit: BTC/unit: Cục Không Có/'
bad "a receiver that is neither a destination nor a unit" "obligations.list.1.to.0: 'platform-z' is neither" 's/to: \[platform-b\]/to: [platform-z]/'
bad "an unknown rule" "obligations.list.0.due.rule: unknown rule 'fortnightly'" '0,/rule: yearly/s//rule: fortnightly/'
bad "a day out of range" "obligations.list.0.due.day: must be an integer 1..31" '0,/day: 15}/s//day: 32}/'
bad "a date that does not exist" "due.date: '2023-02-29' is not a date" '0,/due: {rule: yearly, month: 7, day: 15}/s//due: {rule: date, date: 2023-02-29}/'
bad "30 February as a yearly deadline" "month 2 has no day 30" '0,/month: 7, day: 15/s//month: 2, day: 30/'
bad "the same id twice" "'targets-a' is already the id of the obligation at" 's/id: targets-b/id: targets-a/'
mkdir -p "$TMP/obl"
printf 'obligations:\n  - id: x\n    unit: BTC\n    report: {kind: indicator.report}\n    due: {rule: monthly}\n    source: {document: d}\n' >"$TMP/obl/one.yaml"
sed "s#^  list:#  include: [$TMP/obl]\n  list:#" "$TMP/g.yaml" >"$TMP/inc.yaml"
expect_exit "an included file with a rule missing its day: exit 1" 1 cal -c "$TMP/inc.yaml" due
check "... naming the file and line" grep -q "obl/one.yaml:5: obligations.0.due.day: missing (1..31)" "$TMP/err"
expect_exit "--on that is not a date: usage error" 2 cal -c "$TMP/g.yaml" due --on 2024-13-01
expect_exit "show of an unknown obligation: exit 1" 1 cal -c "$TMP/g.yaml" show nothing-here

# the seed plan 004 and conf/obligations
SEEDS=$SHARED/seeds
if ! ls "$SEEDS"/004_*.txt >/dev/null 2>&1; then
	skip "seed documents absent ($SEEDS): the seed plan 004 part"
	finish
	exit $?
fi
"$L" import --adapter plan-tables --deterministic -o "$TMP/plan004" "$SEEDS"/004_*.txt >/dev/null 2>&1
cat >"$TMP/s.yaml" <<EOC
gateway:
  name: ministry
  organization: {orgId: 000.00.00.G12, name: Bộ Tài chính}
  data_dir: $TMP/var-seed
obligations:
  units: $TOP/conf/units.yaml
  include: [$TOP/conf/obligations]
  plans: [$TMP/plan004]
EOC
cal -c "$TMP/s.yaml" due --on 2024-06-01 >"$TMP/seed-due" 2>"$TMP/seed-err"
check "seed 004: the EMC connection task (II.9) is due 2024-06-30" grep -q "^2024-06-30  not-due  *task:1584/QĐ-BTC:II.9  2024-Q2 " "$TMP/seed-due"
check "... with its lead unit (Cục THTK, now Cục CNTT, by conf/units.yaml)" grep -q "task:1584/QĐ-BTC:II.9 .*unit: Cục Công nghệ thông tin và Chuyển đổi số (000.01.12.G12)  lead: Cục THTK, Các Tổng cục thuộc Bộ" "$TMP/seed-due"
cal -c "$TMP/s.yaml" --format json due --on 2024-06-01 >"$TMP/seed.json"
check "... its title names EMC, its source the plan" [ "$(jq -r '.[] | select(.obligation == "task:1584/QĐ-BTC:II.9") | "\(.title | test("EMC")) \(.source.document)"' "$TMP/seed.json")" = "true 1584/QĐ-BTC" ]
check "... and conf/obligations' June deadlines are listed beside it" grep -q "egov-action-plan-quarterly/000.02.12.G12  2024-Q2" "$TMP/seed-due"
cal -c "$TMP/s.yaml" --unit "Cục THTK" due --on 2024-06-01 >"$TMP/seed-unit"
check "due --unit 'Cục THTK': the task led by that unit only" [ "$(awk '{print $3}' "$TMP/seed-unit" | sort -u)" = "task:1584/QĐ-BTC:II.9" ]
cal -c "$TMP/s.yaml" late --on 2024-07-01 >"$TMP/seed-late"
check "seed 004: never reported, II.9 is late on 2024-07-01" grep -q "^2024-06-30  late  *task:1584/QĐ-BTC:II.9 " "$TMP/seed-late"
cal -c "$TMP/s.yaml" conflicts >"$TMP/conf"
check "the 20th (002 line 323) and the 25th (000 line 177) are a conflict" grep -q "^conflict: 'dx-monthly-1754/000.02.12.G12' (day 19 of each month, 1754/QĐ-BTC section V.1, seed 002 line 323 (before the 20th)) and 'dx-monthly-837/000.02.12.G12' (day 24 of each month, 837/QĐ-BTC section V.1, seed 000 line 177 (before the 25th)) apply 1484/QĐ-BTC" "$TMP/conf"
finish
