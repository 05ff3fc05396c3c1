#!/bin/bash
# bench_outbox.sh - the durable outbox (issue 6):
#   1. durable enqueue rate by batch size (tests/tools/bench_outbox.c: the
#      SQLite outbox, WAL, synchronous=FULL, one transaction per batch, two
#      destinations per message), next to raw SQLite inserts of the same
#      bodies with the same durability in the same run;
#   2. `lienthong send` of N files (validate, sign ES256, route, one
#      durable transaction), messages accepted per second;
#   3. end-to-end delivery: `lienthong deliver --once` of those N messages
#      over HTTPS with mutual TLS (64 in flight) to a local sink (nginx,
#      answering 200), messages delivered per second, next to the load
#      generator POSTing to the same sink as fast as it answers (the
#      HTTPS capacity of this machine for that sink: the ceiling); and
#      the CPU time each spends per message (both whole processes, start
#      and TLS handshakes included), as the two share the cores with the
#      sink;
#   4. what checking a destination's receipt costs per message
#      (tests/tools/bench_receipt.c: ES256 receipts against the trust
#      store, signer pinned), next to deliver's whole CPU per message.
# Writes $RESULTS/outbox.json.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
# 20000 messages: a run of deliver then lasts a few seconds, so its start
# (configuration, keys, 64 TLS handshakes) weighs on it about as much as
# the load generator's warm-up, which its figure leaves out
N=${BENCH_OUTBOX_MESSAGES:-20000} ENQ=${BENCH_ENQUEUE_MESSAGES:-10000}
W=$WORK/outbox
rm -rf "$W"
mkdir -p "$W/db" "$W/msgs"
bench_pki
P=$WORK/pki
python3 "$TOP/bench/gen_inputs.py" "$TOP/conf/examples/indicator-report-2024-targets.json" "$W" >/dev/null
python3 - "$W/ir-2k.json" "$W/msgs" "$N" <<'EOP'
import json, sys, uuid
src, d, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
m = json.load(open(src, encoding="utf-8"))
for i in range(n):
    m["id"] = str(uuid.uuid5(uuid.NAMESPACE_URL, "lienthong-bench-outbox-%d" % i))
    with open("%s/%06d.json" % (d, i), "w", encoding="utf-8") as f:
        json.dump(m, f, ensure_ascii=False, separators=(",", ":"))
EOP
"$TOP/$B/tools/bench_mkjws" "$P/ministry-ec.key" "$P/ministry-ec.pem" "$P/chain.pem" \
	"$W/ir-2k.json" 2000 0 >"$W/bodies.txt"
SINK=$(free_port)
nginx_conf "$W/nginx" "$SINK"
nginx_start "$W/nginx" "$SINK"
conf() { # data_dir
	cat <<EOC
gateway:
  name: ministry
  organization: {orgId: 000.00.00.G12, name: Bộ Tài chính}
  data_dir: $1
log: {level: warn, file: $W/log.jsonl}
schemas: {dir: $TOP/schemas}
signing: {key: $P/ministry-ec.key, cert: $P/ministry-ec.pem, chain: $P/chain.pem}
trust: {dir: $P/trust}
destinations:
  sink:
    url: https://127.0.0.1:$SINK/v1/messages
    ca: $P/root.pem
    cert: $P/ministry-ec-full.pem
    key: $P/ministry-ec.key
routes:
  - kinds: [indicator.report]
    to: [sink]
EOC
}
now() { python3 -c 'import time; print(time.monotonic())'; }
echo "outbox: enqueue by batch, send, deliver ($RUNS interleaved runs)" >&2
for r in $(seq "$RUNS"); do
	"$TOP/$B/tools/bench_outbox" "$W/db" "$ENQ" >"$W/enqueue.$r.json"
	rm -rf "$W/var"
	conf "$W/var" >"$W/gateway.yaml"
	t0=$(now)
	"$LIENTHONG" send -c "$W/gateway.yaml" "$W"/msgs/*.json >"$W/sent.$r" 2>"$W/send.$r.err"
	t1=$(now)
	# deliver's CPU (user + system) besides its wall time
	cpu=$(python3 -c 'import resource, subprocess, sys
subprocess.run(sys.argv[2:], stdout=open(sys.argv[1], "w"), stderr=subprocess.STDOUT)
r = resource.getrusage(resource.RUSAGE_CHILDREN); print(r.ru_utime + r.ru_stime)' \
		"$W/deliver.$r.out" "$LIENTHONG" deliver -c "$W/gateway.yaml" --once --max-inflight 64)
	t2=$(now)
	"$TOP/$B/tools/bench_receipt" "$P" 2000 >"$W/receipt.$r.json"
	sent=$(grep -c ' -> sink$' "$W/sent.$r" || true)
	done_=$("$LIENTHONG" queue -c "$W/gateway.yaml" ls done 2>/dev/null | grep -c ' done ' || true)
	echo "{\"sent\": $sent, \"delivered\": $done_, \"send_s\": $(python3 -c "print($t1-$t0)"), \"deliver_s\": $(python3 -c "print($t2-$t1)"), \"deliver_cpu_s\": $cpu}" >"$W/e2e.$r.json"
	lcpu=$(python3 -c 'import resource, subprocess, sys
subprocess.run(sys.argv[2:], stdout=open(sys.argv[1], "w"))
r = resource.getrusage(resource.RUSAGE_CHILDREN); print(r.ru_utime + r.ru_stime)' \
		"$W/sinkcap.$r.json" "$TOP/$B/tools/loadgen" --url "https://127.0.0.1:$SINK/v1/messages" \
		--bodies "$W/bodies.txt" --cert "$P/ministry-ec-full.pem" --key "$P/ministry-ec.key" \
		--cacert "$P/root.pem" --conns 64 --warmup 1 --duration 3)
	echo "{\"cpu_s\": $lcpu}" >"$W/loadcpu.$r.json"
done
bench_cleanup

python3 - "$W" "$RESULTS" "$N" <<'EOP'
import glob, json, os, sys
sys.path.insert(0, os.path.join(os.environ.get("TOP", "."), "bench"))
import benchlib as bl
w, results, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
def each(prefix):
    return [json.load(open(f)) for f in sorted(glob.glob(os.path.join(w, prefix + ".*.json")))]
enq, e2e, cap, rcpt = each("enqueue"), each("e2e"), each("sinkcap"), each("receipt")
lcpu = each("loadcpu")
rows = []
for i, b in enumerate(enq[0]["batches"]):
    bs = b["batch"]
    rows.append(bl.row("durable enqueue, %d per transaction (2 KB, 2 destinations)" % bs,
        "messages/s", [e["batches"][i]["messages_per_s"] for e in enq],
        baseline="raw SQLite INSERT, same batch, WAL, synchronous=FULL",
        baseline_values=[e["raw_batches"][i]["messages_per_s"] for e in enq]))
bad = [e for e in e2e if e["sent"] != n or e["delivered"] != n]
note = ("%d of %d runs did not send and deliver all %d messages" % (len(bad), len(e2e), n)) if bad else None
rows.append(bl.row("lienthong send: validate, sign (ES256), route, enqueue %d files" % n,
    "messages/s", [e["sent"] / e["send_s"] for e in e2e if e["send_s"] > 0], note=note))
rows.append(bl.row("lienthong deliver --once: %d messages over HTTPS mTLS to a local sink, 64 in flight" % n,
    "messages/s", [e["delivered"] / e["deliver_s"] for e in e2e if e["deliver_s"] > 0],
    baseline="loadgen POSTs to the same sink (64 connections, keep-alive)",
    baseline_values=[c["rps"] for c in cap], note=note))
rows.append(bl.row("lienthong deliver --once: CPU (user+system) per message delivered, the whole process",
    "µs per message", [e["deliver_cpu_s"] * 1e6 / e["delivered"] for e in e2e if e["delivered"]],
    baseline="loadgen: CPU per request sent, the whole process (warm-up included)",
    baseline_values=[l["cpu_s"] * 1e6 / c["sent"] for l, c in zip(lcpu, cap) if c["sent"]],
    higher_is_better=False, note=note))
rows.append(bl.row("receipt check by the sender: ES256 flattened JWS, trust store (cached chain), signer pinned, "
    "message id and SHA-256 checked", "µs per receipt", [min(x["check_us"]) for x in rcpt],
    baseline="lienthong deliver --once: CPU (user+system) per message delivered, no receipt",
    baseline_values=[e["deliver_cpu_s"] * 1e6 / e["delivered"] for e in e2e if e["delivered"]], higher_is_better=False))
notes = ("Enqueue: bench_outbox.c, 2,048-byte bodies, batch 1 over %d messages, larger batches over %d; the "
         "outbox writes a message row, one delivery row per destination and the dedup keys. send and deliver are "
         "the real commands on a fresh data_dir each run (process start, configuration, keys included); "
         "the sink is nginx answering 200 over HTTPS with a required client certificate; the messages are "
         "2 KB indicator reports. Runs interleaved; the disk is shared, so fsync-bound figures vary most." % (
             enq[0]["batches"][0]["messages"], enq[0]["messages"]))
bl.write(results, "outbox", "Durable outbox and delivery (issue 6)", rows, notes)
EOP
