#!/bin/bash
# store_faults.sh - the stores when the disk fails (issue 23). SQLite runs
# over the fault-injecting VFS of store/sqlite.c (LIENTHONG_FAULT_FILE:
# while that file says "full", every write fails with SQLITE_FULL; with
# "ioerr", SQLITE_IOERR_WRITE, as a store gone read-only): a message
# posted then is refused with 503 and a clear error, what was acknowledged
# before stays and is delivered, and once the space returns new messages
# are accepted; `audit verify` holds at the end. Then `lienthong send`
# killed with SIGKILL at random moments (200 times, during its SQLite
# commits) never leaves an outbox or audit log that cannot be read.
. tests/lib.sh
P=$TOP/$B/pki
sh "$TOP/certs/mkpki.sh" "$P" >/dev/null || { not_ok "make the test PKI"; finish; exit 1; }
command -v curl >/dev/null || { skip "curl not installed"; finish; exit 0; }
SERVE_PID=
cleanup() {
	[ -n "$SERVE_PID" ] && kill "$SERVE_PID" 2>/dev/null && wait "$SERVE_PID" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
URL=https://127.0.0.1:$PORT
for c in ministry-ec partner-a; do
	cat "$P/$c.pem" "$P/chain.pem" >"$TMP/$c-full.pem"
done
cat >"$TMP/g.yaml" <<EOC
gateway:
  name: ministry
  organization: {orgId: 000.00.00.G12, name: Test}
  data_dir: $TMP/var
log: {level: info, file: $TMP/serve.log}
audit: {store: $TMP/audit.db}
signing:
  key: $P/ministry-ec.key
  cert: $P/ministry-ec.pem
  chain: $P/chain.pem
trust:
  dir: $P/trust
server:
  listen: 127.0.0.1
  port: $PORT
  tls: {cert: $TMP/ministry-ec-full.pem, key: $P/ministry-ec.key}
  limits: {max_body_bytes: 1048576, max_connections: 8, timeout_s: 5}
  drop_dir: $TMP/drop
partners:
  - name: vpcp
    subject: "CN=Partner Agency A,O=Lienthong Test PKI,C=VN"
    orgId: 000.00.00.G22
    kinds: [task.assignment]
    receivers: [000.00.00.G12]
EOC
TA=$TOP/conf/examples/task-assignment-from-vpcp.xml
ID0=c2b7e1f0-9d44-4b0e-a1d2-000844020001
for i in 1 2 3 4 5; do
	sed "s/$ID0/c2b7e1f0-9d44-4b0e-a1d2-00084402010$i/" "$TA" >"$TMP/m$i.xml"
	"$LIENTHONG" sign --key "$P/partner-a.key" --cert "$P/partner-a.pem" --chain "$P/chain.pem" \
		"$TMP/m$i.xml" >"$TMP/s$i.xml" || not_ok "sign message $i"
done
FAULT=$TMP/fault
LIENTHONG_FAULT_FILE=$FAULT "$LIENTHONG" serve -c "$TMP/g.yaml" >"$TMP/serve.out" 2>"$TMP/serve.err" &
SERVE_PID=$!
up=0
for _ in $(seq 100); do
	curl -sk --max-time 2 "$URL/healthz" >/dev/null 2>&1 && { up=1; break; }
	kill -0 "$SERVE_PID" 2>/dev/null || break
	sleep 0.1
done
[ $up = 1 ] && ok "serve starts over the fault-injecting VFS" || { not_ok "serve starts: $(cat "$TMP/serve.err")"; finish; exit 1; }
post() { # n -> $ST, body in $TMP/resp
	ST=$(curl -sS --max-time 20 --cacert "$P/root.pem" --cert "$TMP/partner-a-full.pem" --key "$P/partner-a.key" \
		-H "Content-Type: application/xml" --data-binary "@$TMP/s$1.xml" -o "$TMP/resp" -w '%{http_code}' \
		"$URL/v1/messages" 2>"$TMP/curl.err")
}
delivered() { # n: the message is in the drop folder within 10 s
	for _ in $(seq 100); do
		[ -f "$TMP/drop/c2b7e1f0-9d44-4b0e-a1d2-00084402010$1.xml" ] && return 0
		sleep 0.1
	done
	return 1
}
post 1
[ "$ST" = 200 ] && ok "before the fault: accepted (200)" || not_ok "before the fault: $ST $(head -c 300 "$TMP/resp")"
check "... and delivered to the drop folder" delivered 1
for kind in full ioerr; do
	echo "$kind" >"$FAULT"
	n=$([ $kind = full ] && echo 2 || echo 3)
	post $n
	if [ "$ST" = 503 ] && grep -q "problem" "$TMP/resp"; then
		ok "disk $kind: a new message is refused with 503: $(sed -n 's/.*<detail>\(.*\)<\/detail>.*/\1/p' "$TMP/resp" | head -c 160)"
	else
		not_ok "disk $kind: status $ST $(head -c 300 "$TMP/resp")"
	fi
	check "... /healthz still answers" curl -sS --max-time 5 --cacert "$P/root.pem" "$URL/healthz" -o /dev/null
	rm -f "$FAULT"
	post $n
	[ "$ST" = 200 ] && ok "disk $kind: once it is back, the same message is accepted" || not_ok "disk $kind, after: $ST $(head -c 300 "$TMP/resp")"
	check "... and delivered" delivered $n
done
post 1
[ "$ST" = 200 ] && grep -q . "$TMP/resp" && ok "the message acknowledged before the faults is still there (replay: 200)" ||
	not_ok "replay of message 1: $ST"
kill "$SERVE_PID" && wait "$SERVE_PID" 2>/dev/null
SERVE_PID=
expect_exit "audit verify holds after the faults" 0 "$LIENTHONG" audit verify -c "$TMP/g.yaml"

# ---- SIGKILL during SQLite commits -----------------------------------------------------------
KILLS=${STORE_KILLS:-200}
cat >"$TMP/k.yaml" <<EOC
gateway:
  name: ministry
  organization: {orgId: 000.00.00.G12, name: Test}
  data_dir: $TMP/kvar
signing:
  key: $P/ministry-ec.key
  cert: $P/ministry-ec.pem
  chain: $P/chain.pem
trust:
  dir: $P/trust
destinations:
  hub: {url: "https://127.0.0.1:9/v1/messages", ca: $P/root.pem}
routes:
  - kinds: [indicator.report]
    to: [hub]
audit:
  checkpoint_interval_s: 0
EOC
python3 - "$TMP/km" "$TOP/conf/examples/indicator-report-2024-targets.json" "$KILLS" <<'EOP'
import json, os, sys, uuid
d, ex, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
os.makedirs(d, exist_ok=True)
m = json.load(open(ex))
for i in range(n + 2):
    for j in range(3):
        m["id"] = str(uuid.uuid5(uuid.NAMESPACE_URL, "kill-%d-%d" % (i, j)))
        json.dump(m, open("%s/k%d-%d.json" % (d, i, j), "w"), ensure_ascii=False)
EOP
# the kill moments spread over a whole run of send (slower under ASan)
t0=$(date +%s%N)
"$LIENTHONG" send -c "$TMP/k.yaml" "$TMP/km/k0-0.json" "$TMP/km/k0-1.json" "$TMP/km/k0-2.json" >/dev/null 2>&1
t1=$(date +%s%N)
window=$(((t1 - t0) / 1000000 * 12 / 10))
[ "$window" -ge 50 ] || window=50
[ "$window" -le 999 ] || window=999
echo "kill window: 0 to $window ms"
bad=0 killed=0
for i in $(seq 1 "$KILLS"); do
	"$LIENTHONG" send -c "$TMP/k.yaml" "$TMP/km/k$i-0.json" "$TMP/km/k$i-1.json" "$TMP/km/k$i-2.json" \
		>/dev/null 2>&1 &
	pid=$!
	# somewhere in its run: loading, signing, the outbox and audit commits
	sleep "0.$(printf '%03d' $((RANDOM % window)))"
	kill -9 "$pid" 2>/dev/null && killed=$((killed + 1))
	wait "$pid" 2>/dev/null
	if ! "$LIENTHONG" queue -c "$TMP/k.yaml" ls >/dev/null 2>"$TMP/q.err"; then
		bad=$((bad + 1))
		echo "after kill $i: queue ls: $(head -c 200 "$TMP/q.err")"
	fi
	if [ $((i % 20)) = 0 ] && ! "$LIENTHONG" audit verify -c "$TMP/k.yaml" >/dev/null 2>"$TMP/v.err"; then
		bad=$((bad + 1))
		echo "after kill $i: audit verify: $(head -c 200 "$TMP/v.err")"
	fi
done
queued=$("$LIENTHONG" queue -c "$TMP/k.yaml" ls 2>/dev/null | grep -c .)
[ $bad = 0 ] && ok "SIGKILL during send, $KILLS times ($killed killed while running, $queued deliveries committed): the outbox and the audit log stay readable" ||
	not_ok "SIGKILL during send: $bad unreadable stores"
expect_exit "audit verify holds after the kills" 0 "$LIENTHONG" audit verify -c "$TMP/k.yaml"
expect_exit "and send works again" 0 "$LIENTHONG" send -c "$TMP/k.yaml" "$TMP/km/k$((KILLS + 1))-0.json"
finish
