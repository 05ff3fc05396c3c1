#!/bin/bash
# benchtools.sh - the tools behind make bench work (the benchmarks
# themselves never run in make test): loadgen POSTs over mutual TLS with
# keep-alive and every request reaches the sink, at saturation and at a
# fixed rate; bench_mkjws makes distinct, verifiable signed messages;
# bench/report.py turns a result file into BENCHMARKS.md rows.
. tests/lib.sh
P=$TOP/$B/pki
sh "$TOP/certs/mkpki.sh" "$P" >/dev/null || { not_ok "make the test PKI"; finish; exit 1; }
cat "$P/hub.pem" "$P/chain.pem" >"$TMP/hub-full.pem"
cat "$P/ministry-ec.pem" "$P/chain.pem" >"$TMP/ministry-full.pem"
PIDS=()
trap 'kill "${PIDS[@]}" 2>/dev/null; rm -rf "$TMP"' EXIT
LG=$TOP/$B/tools/loadgen MK=$TOP/$B/tools/bench_mkjws

# bench_mkjws: N messages, distinct ids, each a valid signed message
"$MK" "$P/ministry-ec.key" "$P/ministry-ec.pem" "$P/chain.pem" \
	"$TOP/conf/examples/task-progress-1584-II-9.json" 20 c0ffee >"$TMP/bodies.txt"
check "bench_mkjws writes 20 bodies, one per line" test "$(wc -l <"$TMP/bodies.txt")" -eq 20
sed -n 7p "$TMP/bodies.txt" >"$TMP/seven.jws"
expect_exit "a body verifies against the trust store" 0 "$LIENTHONG" verify --trust "$P/trust" "$TMP/seven.jws"
python3 - "$TMP/bodies.txt" >"$TMP/ids" <<'EOP'
import base64, json, sys
for line in open(sys.argv[1]):
    p = json.loads(line)["payload"]
    print(json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))["id"])
EOP
check "... with 20 distinct ids" test "$(sort -u "$TMP/ids" | wc -l)" -eq 20
python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$TMP/seven.jws" 2>/dev/null &&
	head -1 "$TMP/ids" | grep -Eq '^00c0ffee-[0-9a-f]{4}-4[0-9a-f]{3}-8[0-9a-f]{3}-[0-9a-f]{12}$' &&
	ok "ids carry the tag and the uuid shape the schema wants" || not_ok "id shape: $(head -1 "$TMP/ids")"
expect_exit "bench_mkjws: usage" 2 "$MK" "$P/ministry-ec.key"

# a sink on loopback over mutual TLS that logs every POST
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 "$TOP/tests/tools/sink.py" --port "$port" --cert "$TMP/hub-full.pem" --key "$P/hub.key" \
	--ca "$P/root.pem" --log "$TMP/sink.log" >"$TMP/sink.out" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do grep -q ready "$TMP/sink.out" 2>/dev/null && break; sleep 0.1; done
URL=https://127.0.0.1:$port/v1/messages
TLS=(--cert "$TMP/ministry-full.pem" --key "$P/ministry-ec.key" --cacert "$P/root.pem")
field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$@"; }

"$LG" --url "$URL" --bodies "$TMP/bodies.txt" "${TLS[@]}" --conns 4 --warmup 0.2 --duration 1 \
	>"$TMP/sat.json" 2>"$TMP/sat.err"
check "loadgen at saturation: JSON result" python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$TMP/sat.json"
sent=$(field "$TMP/sat.json" sent)
check "... requests sent and all answered 2xx ($sent)" test "$sent" -gt 0 -a "$(field "$TMP/sat.json" ok)" -eq "$sent"
check "... no transport errors" test "$(field "$TMP/sat.json" errors)" -eq 0
check "... every request reached the sink" test "$(grep -c ' 200 ' "$TMP/sink.log")" -eq "$sent"
check "... p50 <= p99 <= p99.9 <= max" python3 - "$TMP/sat.json" <<'EOP'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["measured"] > 0 and 0 < r["p50_ms"] <= r["p99_ms"] <= r["p999_ms"] <= r["max_ms"], r
EOP
: >"$TMP/sink.log"
"$LG" --url "$URL" --bodies "$TMP/bodies.txt" "${TLS[@]}" --conns 2 --warmup 0 --duration 1 --rate 40 \
	>"$TMP/rate.json" 2>"$TMP/rate.err"
sent=$(field "$TMP/rate.json" sent)
check "loadgen at a fixed rate never sends more than rate x time ($sent <= 40)" test "$sent" -le 40 -a "$sent" -gt 0
check "... and every one reached the sink" test "$(grep -c ' 200 ' "$TMP/sink.log")" -eq "$sent"
"$LG" --url "$URL" --bodies "$TMP/bodies.txt" --cacert "$P/root.pem" --conns 1 --warmup 0 --duration 0.5 \
	>"$TMP/nocert.json" 2>/dev/null
check "loadgen without a client certificate: counted as errors, not as answers" \
	test "$(field "$TMP/nocert.json" ok)" -eq 0 -a "$(field "$TMP/nocert.json" errors)" -gt 0
expect_exit "loadgen: usage" 2 "$LG" --url "$URL"
expect_exit "loadgen: unreadable bodies" 3 "$LG" --url "$URL" --bodies "$TMP/none.txt"

# report.py: a result file becomes a table row with the ratio and the target
mkdir -p "$TMP/results"
cat >"$TMP/results/demo.json" <<'EOJ'
{"bench": "demo", "title": "Demo", "machine": "2 cores, test, 1 GiB", "date": "2026-01-01T00:00:00+00:00",
 "rows": [{"workload": "append entries", "metric": "entries/s", "higher_is_better": true,
  "value": 200.0, "min": 150.0, "max": 250.0, "runs": 3, "baseline": "raw", "baseline_value": 400.0,
  "ratio": 0.5, "target": ">= 100 entries/s", "met": true}]}
EOJ
python3 "$TOP/bench/report.py" "$TMP/results" "$TMP/B.md" "$TMP/plots" 2>"$TMP/report.err"
check "report.py: the row with median, min-max, baseline, ratio" \
	grep -q '^| 1 | append entries | entries/s | 200 | 150–250 | 3 | raw | 400 | 0.50× | >= 100 entries/s | yes |$' "$TMP/B.md"
check "... in the targets table too" grep -q '^| Demo | append entries | >= 100 entries/s | 200 entries/s | 400 raw | 0.50× | yes |$' "$TMP/B.md"
check "... with the machine" grep -q '^Machine: 2 cores, test, 1 GiB.$' "$TMP/B.md"
finish
