#!/bin/bash
# forward.sh - reliable forwarding on loopback: send enqueues durably,
# deliver fans out over mutual TLS to two sinks exactly once, a platform
# that is down is retried with backoff until it is up, 4xx goes to the dead
# letters, and SIGKILL at random moments loses and duplicates nothing (the
# sinks count by message id, as a deduplicating receiver does).
. tests/lib.sh
P=$TOP/$B/pki
sh "$TOP/certs/mkpki.sh" "$P" >/dev/null || { not_ok "make the test PKI"; finish; exit 1; }
cat "$P/hub.pem" "$P/chain.pem" >"$TMP/hub-full.pem"
cat "$P/ministry-ec.pem" "$P/chain.pem" >"$TMP/ministry-full.pem"
SINK=$TOP/tests/tools/sink.py
PIDS=()
trap 'kill "${PIDS[@]}" 2>/dev/null; umount "$TMP/small" 2>/dev/null; rm -rf "$TMP"' EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
start_sink() { # name port [args]
	local name=$1 p=$2; shift 2
	python3 "$SINK" --port "$p" --cert "$TMP/hub-full.pem" --key "$P/hub.key" \
		--ca "$P/root.pem" --log "$TMP/$name.log" "$@" >"$TMP/$name.out" 2>&1 &
	PIDS+=($!)
	for _ in $(seq 50); do grep -q ready "$TMP/$name.out" 2>/dev/null && return 0; sleep 0.1; done
	return 1
}
HUB=$(port) RPT=$(port) DOWN=$(port) BAD=$(port) TOK=$(port) SGN=$(port)
start_sink hub "$HUB" && start_sink report "$RPT" &&
	start_sink bad "$BAD" --status 400 &&
	mkdir -p "$TMP/signed" && start_sink signed "$SGN" --save "$TMP/signed" &&
	start_sink tok "$TOK" --token "ak-ministry:s3cret" --rotate-every 7 ||
	{ not_ok "start the sinks"; finish; exit 1; }
export GW_TEST_ACCESS_KEY=ak-ministry
printf 's3cret\n' >"$TMP/secret.txt"

conf() { # file data_dir
	cat >"$1" <<EOC
gateway:
  name: ministry
  organization: {orgId: 000.00.00.G12, name: Bộ Tài chính}
  data_dir: $2
destinations:
$(for d in hub:$HUB report:$RPT down:$DOWN bad:$BAD; do cat <<EOD
  ${d%%:*}:
    url: https://127.0.0.1:${d#*:}/v1/messages
    ca: $P/root.pem
    cert: $TMP/ministry-full.pem
    key: $P/ministry-ec.key
    timeout_ms: 5000
    retry: {max_attempts: 30, backoff_ms: 1000, backoff_max_ms: 8000}
EOD
done)
  tok:
    url: https://127.0.0.1:$TOK/v1/messages
    ca: $P/root.pem
    cert: $TMP/ministry-full.pem
    key: $P/ministry-ec.key
    rate_limit_per_s: 20
    token:
      url: https://127.0.0.1:$TOK/token
      access_key: {env: GW_TEST_ACCESS_KEY}
      secret_key: {file: $TMP/secret.txt}
routes:
  - kinds: [plan]
    to: [tok]
  - kinds: [indicator.report]
    receivers: [000.00.00.G23]
    to: [hub, report]
  - kinds: [task.progress]
    to: [down]
  - kinds: [receipt]
    to: [bad]
EOC
}
conf "$TMP/g.yaml" "$TMP/var"
expect_exit "forwarding configuration is valid" 0 "$LIENTHONG" config check "$TMP/g.yaml"

# 1,000 indicator reports routed to two destinations
mkmsgs() { # dir count kind-example prefix
	python3 - "$@" <<'EOP'
import json, sys, uuid, os
d, n, ex, prefix = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
os.makedirs(d, exist_ok=True)
m = json.load(open(ex))
for i in range(n):
    m["id"] = str(uuid.uuid5(uuid.NAMESPACE_URL, "%s-%d" % (prefix, i)))
    json.dump(m, open("%s/%05d.json" % (d, i), "w"), ensure_ascii=False)
EOP
}
mkmsgs "$TMP/m1000" 1000 "$TOP/conf/examples/indicator-report-2024-targets.json" a
"$LIENTHONG" send -c "$TMP/g.yaml" "$TMP"/m1000/*.json >"$TMP/sent" 2>"$TMP/err"
check "send queues 1,000 messages" test "$(grep -c ' -> hub,report$' "$TMP/sent")" -eq 1000
"$LIENTHONG" deliver -c "$TMP/g.yaml" --once >"$TMP/out" 2>&1
count() { awk -v s=200 '$1!="TOKEN" && $2==s{print $1}' "$1" | sort | uniq -c | awk '{print $1}' | sort | uniq -c; }
check "hub got each of 1,000 exactly once" test "$(count "$TMP/hub.log")" = "   1000 1"
check "report got each of 1,000 exactly once" test "$(count "$TMP/report.log")" = "   1000 1"
"$LIENTHONG" queue -c "$TMP/g.yaml" ls done >"$TMP/out"
check "queue ls done lists 2,000 deliveries" test "$(grep -c ' done ' "$TMP/out")" -eq 2000
first=$(head -1 "$TMP/sent" | cut -d' ' -f1)
"$LIENTHONG" queue -c "$TMP/g.yaml" show "$first" >"$TMP/out"
check "the destinations' answers are kept as receipts" test "$(grep -c '^  receipt from \(hub\|report\): {"ok": true}' "$TMP/out")" -eq 2

# sending again is idempotent; the same id with other content is refused
"$LIENTHONG" send -c "$TMP/g.yaml" "$TMP/m1000/00001.json" >"$TMP/out" 2>&1
check "resend is recognised" grep -q "already queued" "$TMP/out"
"$LIENTHONG" deliver -c "$TMP/g.yaml" --once >/dev/null 2>&1
check "resend delivers nothing again" test "$(wc -l <"$TMP/hub.log")" -eq 1000
sed 's/"value": "100"/"value": "99"/' "$TMP/m1000/00002.json" >"$TMP/other.json"
sed -i '0,/"value": "100"/s//"value": "99"/' "$TMP/other.json"
expect_exit "same id, other content: refused" 1 "$LIENTHONG" send -c "$TMP/g.yaml" "$TMP/other.json"
check "... with a reason" grep -q "already used for other content" "$TMP/err"
expect_exit "invalid message: refused, not queued" 1 "$LIENTHONG" send -c "$TMP/g.yaml" "$TOP/tests/data/invalid/bad-uuid.json"

# a platform that is down for 30 s, then up (started here, so that the
# outage is 30 s however long the steps before took)
start_sink down "$DOWN" --down-until $(($(date +%s) + 30)) || not_ok "start the down sink"
mkmsgs "$TMP/prog" 20 "$TOP/conf/examples/task-progress-1584-II-9.json" p
"$LIENTHONG" send -c "$TMP/g.yaml" "$TMP"/prog/*.json >/dev/null 2>&1
start=$(date +%s)
"$LIENTHONG" deliver -c "$TMP/g.yaml" --once --linger-ms 9000 >"$TMP/out" 2>&1
check "down 30 s, then up: all 20 arrive once" test "$(count "$TMP/down.log")" = "     20 1"
check "... after the platform came back ($(($(date +%s) - start)) s)" test $(($(date +%s) - start)) -ge 25
check "attempts follow the backoff policy (gaps double, capped at 8 s +-50%)" python3 - "$TMP/down.log" <<'EOP'
import sys, collections
t = collections.defaultdict(list)
for line in open(sys.argv[1]):
    k, s, at = line.split(); t[k].append(float(at))
for k, ts in t.items():
    gaps = [b - a for a, b in zip(ts, ts[1:])]
    assert len(gaps) >= 4, (k, gaps)
    for i, g in enumerate(gaps):
        want = min(1.0 * 2 ** i, 8.0)
        # lower bound: never sooner than the policy; upper: a round of
        # deliveries (TLS handshakes to a Python sink) may add seconds
        assert 0.5 * want - 0.2 <= g <= 1.5 * want + 3.0, (k, i, g, want)
EOP

# 4xx is not retried: dead letter with the reason
"$LIENTHONG" send -c "$TMP/g.yaml" "$TOP/conf/examples/receipt-accepted.json" >/dev/null 2>&1
"$LIENTHONG" deliver -c "$TMP/g.yaml" --once >/dev/null 2>&1
"$LIENTHONG" queue -c "$TMP/g.yaml" ls dead >"$TMP/out"
check "HTTP 400 goes to the dead letters" grep -q "e4d3c2b1-a098-4765-8432-1584a0000001.*dead .*400" "$TMP/out"
check "... after one attempt" test "$(wc -l <"$TMP/bad.log")" -eq 1
expect_exit "queue show" 0 "$LIENTHONG" queue -c "$TMP/g.yaml" show e4d3c2b1-a098-4765-8432-1584a0000001
expect_exit "queue retry" 0 "$LIENTHONG" queue -c "$TMP/g.yaml" retry e4d3c2b1-a098-4765-8432-1584a0000001
expect_exit "queue drop" 0 "$LIENTHONG" queue -c "$TMP/g.yaml" drop e4d3c2b1-a098-4765-8432-1584a0000001
expect_exit "queue show of a dropped message" 1 "$LIENTHONG" queue -c "$TMP/g.yaml" show e4d3c2b1-a098-4765-8432-1584a0000001

# token transport: a token is got, cached, renewed after a 401; rate limit
mkmsgs "$TMP/plans" 30 "$TOP/conf/examples/plan-1584.json" t
"$LIENTHONG" send -c "$TMP/g.yaml" "$TMP"/plans/*.json >/dev/null 2>&1
start=$(date +%s%N)
"$LIENTHONG" deliver -c "$TMP/g.yaml" --once >"$TMP/out" 2>&1
ms=$(( ($(date +%s%N) - start) / 1000000 ))
check "token destination: all 30 arrive once" test "$(count "$TMP/tok.log")" = "     30 1"
check "the token was renewed after the platform revoked it (401)" test "$(grep -c '^TOKEN 200' "$TMP/tok.log")" -ge 2
check "... and the 401s were retried, not dead-lettered" test "$("$LIENTHONG" queue -c "$TMP/g.yaml" ls dead | grep -c plan)" -eq 0
check "rate limit 20/s: 30 messages take over 0.4 s (${ms} ms)" test "$ms" -ge 400

# with a signing key configured, send signs: XML-DSig for XML, JWS for JSON
conf "$TMP/s.yaml" "$TMP/var-signed"
sed -i "s#^  hub:#  signed:\n    url: https://127.0.0.1:$SGN/v1/messages\n    ca: $P/root.pem\n    cert: $TMP/ministry-full.pem\n    key: $P/ministry-ec.key\n  hub:#" "$TMP/s.yaml"
sed -i '/^routes:/,$d' "$TMP/s.yaml"
cat >>"$TMP/s.yaml" <<EOC
signing:
  key: $P/ministry-ec.key
  cert: $P/ministry-ec.pem
  chain: $P/chain.pem
routes:
  - to: [signed]
EOC
"$LIENTHONG" send -c "$TMP/s.yaml" "$TOP/conf/examples/task-assignment-1584-II-9.xml" \
	"$TOP/conf/examples/task-progress-1584-II-9.json" >"$TMP/out" 2>"$TMP/err"
"$LIENTHONG" deliver -c "$TMP/s.yaml" --once >/dev/null 2>&1
expect_exit "a signed XML message arrives and verifies against the trust store" 0 \
	"$LIENTHONG" verify --trust "$P/trust" "$TMP/signed/7a0d3c55-2e1b-4f7a-8c3d-1584a0000209"
expect_exit "a signed JSON message (JWS) arrives and verifies" 0 \
	"$LIENTHONG" verify --trust "$P/trust" "$TMP/signed/0b9e8f7a-6d5c-4b3a-9f1e-1584a0000309"
if command -v xmlsec1 >/dev/null; then
	check "xmlsec1 verifies the delivered XML too" xmlsec1 --verify --trusted-pem "$P/root.pem" \
		--enabled-key-data x509 "$TMP/signed/7a0d3c55-2e1b-4f7a-8c3d-1584a0000209"
fi

# scheduled sync over a drop folder: the second run sends nothing, a changed
# file sends exactly one message
mkmsgs "$TMP/drop" 5 "$TOP/conf/examples/task-progress-1584-II-9.json" s
conf "$TMP/sy.yaml" "$TMP/var-sync"
sed -i 's#^routes:#sources:\n  units:\n    adapter: folder\n    path: '"$TMP"'/drop\nroutes:#' "$TMP/sy.yaml"
sed -i 's#to: \[down\]#to: [hub]#' "$TMP/sy.yaml"
: >"$TMP/hub.log"
"$LIENTHONG" sync -c "$TMP/sy.yaml" >"$TMP/out" 2>"$TMP/err"
check "first sync sends the 5 new files" grep -q "5 files, 5 new, 0 changed, 0 unchanged" "$TMP/err"
"$LIENTHONG" sync -c "$TMP/sy.yaml" units >"$TMP/out" 2>"$TMP/err"
check "second sync sends nothing" grep -q "5 files, 0 new, 0 changed, 5 unchanged" "$TMP/err"
check "... and queues nothing" test ! -s "$TMP/out"
python3 - "$TMP/drop/00002.json" <<'EOP'
import json, sys
m = json.load(open(sys.argv[1]))
m["id"] = "0b9e8f7a-6d5c-4b3a-9f1e-0000000000aa"
m["payload"]["narrative"] = "Đã cập nhật số liệu."
json.dump(m, open(sys.argv[1], "w"), ensure_ascii=False)
EOP
"$LIENTHONG" sync -c "$TMP/sy.yaml" >"$TMP/out" 2>"$TMP/err"
check "a changed file sends exactly one message" grep -q "5 files, 0 new, 1 changed, 4 unchanged" "$TMP/err"
check "... the changed one" test "$(cut -d' ' -f1 "$TMP/out")" = "0b9e8f7a-6d5c-4b3a-9f1e-0000000000aa"
"$LIENTHONG" deliver -c "$TMP/sy.yaml" --once >/dev/null 2>&1
check "the hub got 6 messages, each once" test "$(count "$TMP/hub.log")" = "      6 1"
expect_exit "sync of an unknown source" 1 "$LIENTHONG" sync -c "$TMP/sy.yaml" nosuch

# SIGKILL at random moments during a 2,000-message run, then restart: each
# delivery's outcome is recorded as soon as it completes, so a kill repeats
# at most what was in flight (--max-inflight); those are leased for the
# destination's timeout and 5 s, then due again
conf "$TMP/k.yaml" "$TMP/var-kill"
: >"$TMP/hub.log"; : >"$TMP/report.log"
mkmsgs "$TMP/m2000" 2000 "$TOP/conf/examples/indicator-report-2024-targets.json" k
"$LIENTHONG" send -c "$TMP/k.yaml" "$TMP"/m2000/*.json >/dev/null 2>&1
for i in 1 2 3 4 5 6 7 8; do
	"$LIENTHONG" deliver -c "$TMP/k.yaml" --max-inflight 32 >/dev/null 2>&1 &
	pid=$!
	sleep "0.$((RANDOM % 5 + 3))"
	kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
done
"$LIENTHONG" deliver -c "$TMP/k.yaml" --once --linger-ms 11000 >/dev/null 2>&1
uniq_hub=$(awk '$2==200{print $1}' "$TMP/hub.log" | sort -u | wc -l)
uniq_rpt=$(awk '$2==200{print $1}' "$TMP/report.log" | sort -u | wc -l)
all=$(($(awk '$2==200' "$TMP/hub.log" "$TMP/report.log" | wc -l)))
check "after 8 SIGKILLs every message reached the hub ($uniq_hub/2000)" test "$uniq_hub" -eq 2000
check "... and the reporting system ($uniq_rpt/2000)" test "$uniq_rpt" -eq 2000
check "redeliveries: $((all - 4000)) in all, at most 32 in flight per kill" test $((all - 4000)) -le $((8 * 32))
"$LIENTHONG" queue -c "$TMP/k.yaml" ls pending >"$TMP/out"
check "nothing is left pending" test "$(wc -l <"$TMP/out")" -eq 1

# a full disk: new messages are refused with a clear error, accepted ones
# are kept and delivered (needs a small tmpfs: root, or skipped)
mkdir -p "$TMP/small"
if mount -t tmpfs -o size=512k tmpfs "$TMP/small" 2>/dev/null; then
	conf "$TMP/full.yaml" "$TMP/small/var"
	: >"$TMP/hub.log"
	"$LIENTHONG" send -c "$TMP/full.yaml" "$TMP/m1000/00010.json" "$TMP/m1000/00011.json" >"$TMP/out" 2>&1
	check "before the disk fills: 2 messages accepted" test "$(wc -l <"$TMP/out")" -eq 2
	"$LIENTHONG" send -c "$TMP/full.yaml" "$TMP"/m2000/0*.json >"$TMP/out" 2>"$TMP/err"
	rc=$?
	check "disk full: the batch is refused (exit $rc)" test $rc -eq 3
	check "... with a clear error" grep -q "nothing was queued: .*full" "$TMP/err"
	check "... and no id was printed" test ! -s "$TMP/out"
	"$LIENTHONG" deliver -c "$TMP/full.yaml" --once >/dev/null 2>&1
	check "the 2 accepted messages are kept and delivered" test "$(count "$TMP/hub.log")" = "      2 1"
	umount "$TMP/small"
else
	skip "full disk test: cannot mount a tmpfs here (not root?)"
fi

# a store that cannot be written: refused with a clear error
conf "$TMP/ro.yaml" "/proc/lienthong-no-such-dir"
expect_exit "unwritable store: send refused" 3 "$LIENTHONG" send -c "$TMP/ro.yaml" "$TMP/m1000/00001.json"
check "... saying why" grep -q "cannot create data folder" "$TMP/err"
finish
