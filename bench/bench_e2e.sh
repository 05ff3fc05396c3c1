#!/bin/bash
# bench_e2e.sh - end to end over HTTPS with mutual TLS and keep-alive: the
# load generator (tests/tools/loadgen.c) POSTs signed 2 KB indicator
# reports (flattened JWS, ES256, a different id each) to
#   - the baseline: nginx (Debian package) terminating TLS with client
#     certificates and proxying to a local sink (a second nginx server
#     answering 200 over HTTPS, mTLS, upstream keep-alive);
#   - lienthong serve -c <generated conf>, which verifies, validates,
#     stores durably, answers with a signed receipt, converts to SDMX-ML
#     (report packet XML without the SDMX schemas), signs that with
#     XML-DSig and forwards it to the same sink through its outbox (no
#     drop folder) -- when `lienthong help serve` exists (issue 7);
#     otherwise its rows say "not measured: serve not built".
# Throughput at saturation (64 connections), latency p50/p99/p99.9 at fixed
# offered rates of 1,000 and 5,000 msg/s, and the peak RSS (VmHWM) of the
# server under test. Targets (issue 9): >= 10,000 msg/s at saturation, p99
# under 10 ms at 1,000 msg/s, peak RSS under 100 MB.
# Writes $RESULTS/e2e.json.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
RUNS=${BENCH_E2E_RUNS:-3} DUR=${BENCH_E2E_SECS:-10} WARM=2 CONNS=64
W=$WORK/e2e
rm -rf "$W"
mkdir -p "$W"
bench_pki
P=$WORK/pki
python3 "$TOP/bench/gen_inputs.py" "$TOP/conf/examples/indicator-report-2024-targets.json" "$W" >/dev/null
# different messages, sent in turn across the runs (loadgen --first), so
# that a deduplicating server sees replays only after NMSG requests
NMSG=${BENCH_E2E_MESSAGES:-50000}
"$TOP/$B/tools/bench_mkjws" "$P/ministry-ec.key" "$P/ministry-ec.pem" "$P/chain.pem" \
	"$W/ir-2k.json" "$NMSG" "$(printf '%08x' $(( $(date +%s) & 0x7fffffff )))" >"$W/bodies.txt"
LG=("$TOP/$B/tools/loadgen" --bodies "$W/bodies.txt" --cert "$P/ministry-ec-full.pem"
	--key "$P/ministry-ec.key" --cacert "$P/root.pem" --conns "$CONNS"
	--warmup "$WARM" --duration "$DUR" --content-type application/jose+json)

SINK=$(free_port) FRONT=$(free_port)
nginx_conf "$W/nginx" "$SINK" "$FRONT"
nginx_start "$W/nginx" "$FRONT"
echo "e2e: nginx proxy ($RUNS runs of ${DUR}s per load)" >&2
NEXT=0
load() { # who url rate run: one loadgen run, going on from the last body sent
	"${LG[@]}" --url "$2" --rate "$3" --first "$NEXT" >"$W/$1.$3.$4.json"
	NEXT=$((NEXT + $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["sent"])' "$W/$1.$3.$4.json")))
}
# drain FILE: after a run against serve, wait (at most 300 s) until what it
# accepted has reached the sink (inbox undelivered and outbox pending both
# empty: serve answers once a message is stored, and forwards it after);
# adds "backlog" (left at the end of the run) and "drain_s" to the run's
# result, so that a rate counting delivery to the sink can be reported.
drain() {
	python3 - "$W/gw/var" "$1" <<'EOP'
import json, sqlite3, sys, time
var, f = sys.argv[1], sys.argv[2]
def backlog():
    try:
        n = 0
        for db, q in (("inbox.db", "select count(*) from undelivered"),
                      ("outbox.db", "select count(*) from deliveries where state = 0")):
            c = sqlite3.connect("%s/%s" % (var, db), timeout=30)
            n += c.execute(q).fetchone()[0]
            c.close()
        return n
    except sqlite3.Error:
        return None
t0 = time.time()
b0 = b = backlog()
while b and time.time() - t0 < 300:
    time.sleep(0.2)
    b = backlog()
r = json.load(open(f))
r["backlog"] = b0
r["drain_s"] = round(time.time() - t0, 3) if b == 0 else None
json.dump(r, open(f, "w"))
EOP
}
for r in $(seq "$RUNS"); do
	for rate in 0 1000 5000; do
		load nginx "https://127.0.0.1:$FRONT/v1/messages" "$rate" "$r"
	done
done
peak_rss_kb "$NGINX_PID" >"$W/nginx.rss"

SERVE=no
if "$LIENTHONG" help serve >/dev/null 2>&1; then
	SERVE=yes
	GW=$(free_port)
	mkdir -p "$W/gw"
	sdmx_format
	serve_conf "$W/gw/gateway.yaml" "$W/gw/var" "$GW" "$SINK" "{max_connections: 1024}" "$FORMAT"
	echo "e2e: lienthong serve ($RUNS runs of ${DUR}s per load, a fresh process and store each)" >&2
	# a fresh serve and data folder per load: the message ids of the
	# bodies file are not replayed (serve would answer a replay from its
	# inbox, far cheaper), and no run inherits another's backlog or store
	: >"$W/serve.rss.all"
	for r in $(seq "$RUNS"); do
		for rate in 0 1000 5000; do
			rm -rf "$W/gw/var"
			"$LIENTHONG" serve -c "$W/gw/gateway.yaml" >"$W/gw/stdout" 2>"$W/gw/stderr" &
			GW_PID=$!
			BENCH_PIDS+=("$GW_PID")
			if ! wait_port "$GW" "$GW_PID"; then
				echo "e2e: lienthong serve did not start:" >&2
				tail -5 "$W/gw/stderr" >&2
				SERVE=failed
				break 2
			fi
			NEXT=0
			load serve "https://127.0.0.1:$GW/v1/messages" "$rate" "$r"
			drain "$W/serve.$rate.$r.json"
			peak_rss_kb "$GW_PID" >>"$W/serve.rss.all"
			kill "$GW_PID"
			wait "$GW_PID" 2>/dev/null || true
		done
	done
	sort -n "$W/serve.rss.all" | tail -1 >"$W/serve.rss"
fi
bench_cleanup

python3 - "$W" "$RESULTS" "$SERVE" "$CONNS" "$NMSG" "${FORMAT:-}" <<'EOP'
import glob, json, os, sys
sys.path.insert(0, os.path.join(os.environ.get("TOP", "."), "bench"))
import benchlib as bl
w, results, serve, conns, nmsg, fmt = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), sys.argv[6]

def runs(who, rate):
    return [json.load(open(f)) for f in sorted(glob.glob(os.path.join(w, "%s.%d.*.json" % (who, rate))))]

def vals(rs, key):
    # a run that completed no request inside its measuring window (the
    # server fell so far behind the offered rate) has no figure, not 0
    return [r[key] for r in rs if r.get("measured", 1) > 0] or None

def unmeasured(rs):
    n = sum(1 for r in rs if r.get("measured", 1) == 0)
    return ("%d of %d runs completed no request inside the measuring window "
            "(the server fell behind the offered rate): no figure" % (n, len(rs))) if n else None

def errs(rs):
    bad = sum(r["errors"] + r["non2xx"] for r in rs)
    return ("%d of %d requests failed or were not 2xx" % (bad, sum(r["sent"] for r in rs))) if bad else None

def rss(who):
    try:
        return [int(open(os.path.join(w, who + ".rss")).read()) / 1024.0]
    except (OSError, ValueError):
        return None

nm = {0: runs("nginx", 0), 1000: runs("nginx", 1000), 5000: runs("nginx", 5000)}
sv = {0: runs("serve", 0), 1000: runs("serve", 1000), 5000: runs("serve", 5000)}
missing = None if serve == "yes" else (
    "not measured: serve not built" if serve == "no" else "not measured: serve did not start (bench/work/e2e/gw/stderr)")
base = "nginx proxy to the sink (same run)"
rows = []
def add(workload, metric, key, rate, hib, target=None, met=None):
    s = sv[rate]
    rows.append(bl.row("lienthong serve: " + workload, metric, vals(s, key) if s else None,
                       higher_is_better=hib, baseline=base, baseline_values=vals(nm[rate], key),
                       target=target, met=met, note=missing or unmeasured(s) or errs(s)))
    if not s:
        # the baseline's own figure, so the run is not empty without serve
        rows.append(bl.row("nginx proxy: " + workload, metric, vals(nm[rate], key),
                           higher_is_better=hib, note=errs(nm[rate])))
add("throughput at saturation (%s connections)" % conns, "msg/s", "rps", 0, True,
    ">= 10,000 msg/s", lambda v, b: v >= 10000)
add("p50 latency at saturation", "ms", "p50_ms", 0, False)
add("p99 latency at saturation", "ms", "p99_ms", 0, False)
for rate in (1000, 5000):
    add("p50 latency at %d msg/s offered" % rate, "ms", "p50_ms", rate, False)
    add("p99 latency at %d msg/s offered" % rate, "ms", "p99_ms", rate, False,
        "< 10 ms" if rate == 1000 else None, (lambda v, b: v < 10) if rate == 1000 else None)
    add("p99.9 latency at %d msg/s offered" % rate, "ms", "p999_ms", rate, False)
    add("throughput achieved at %d msg/s offered" % rate, "msg/s", "rps", rate, True)
def forwarded(rs):
    # accepted and delivered to the sink: every request of the run (warm-up
    # included) over the run's time plus the time serve took to deliver
    # what was still queued when it ended
    v = [r["sent"] / (r["warmup_s"] + r["duration_s"] + r["drain_s"])
         for r in rs if r.get("drain_s") is not None]
    return v or None
s0 = sv[0]
rows.append(bl.row("lienthong serve: throughput counting delivery to the sink, saturation "
                   "(requests ÷ (run time + time to deliver what was queued at its end))", "msg/s",
                   forwarded(s0) if s0 else None, higher_is_better=True, baseline=base,
                   baseline_values=vals(nm[0], "rps"),
                   note=missing or ("serve answers once a message is stored durably and forwards it "
                                    "after; nginx answers after the sink has")))
for rate in (0, 1000):
    bk = [r["backlog"] for r in sv[rate] if r.get("backlog") is not None]
    rows.append(bl.row("lienthong serve: accepted but not yet at the sink when the run ended, %s" % (
                           "saturation" if not rate else "%d msg/s offered" % rate), "messages",
                       bk or None, higher_is_better=False, note=missing))
r = rss("serve")
rows.append(bl.row("lienthong serve: peak RSS (VmHWM), the highest of the runs (a fresh process each)", "MB", r, higher_is_better=False,
                   baseline="nginx master + workers, peak RSS", baseline_values=rss("nginx"),
                   target="< 100 MB", met=lambda v, b: v < 100, note=missing))
notes = ("Load: tests/tools/loadgen.c (libcurl multi, TLS 1.2+, client certificate ministry-ec, keep-alive, "
         "%s connections), POST /v1/messages of flattened JWS (ES256, x5c) of a 2 KB indicator report, "
         "%d different message ids, about %d bytes each; each load against serve gets a fresh process and data folder (no id is replayed), and after it the bench waits until what serve accepted has reached the sink. Saturation: every connection sends its next request "
         "as soon as the answer arrives. Fixed rate: request i is due at start + i/rate and its latency counts "
         "from then (no coordinated omission). %s s warm-up, then the measured window. The load generator, "
         "the server and the sink share the same 2 cores, so every figure is a lower bound for a server with "
         "the machine to itself. nginx: %s, 2 workers, access log off. lienthong serve (2 verification workers): "
         "verifies the JWS against the trust store, validates (JSON Schema and rules), commits it with its signed "
         "receipt (ES256) to the inbox (group commit, synchronous=FULL), answers, then converts it to %s, "
         "validates that against its schema, signs it (XML-DSig, hub key), queues it in the outbox and delivers it "
         "to the sink over mTLS; every step audited; no drop folder." % (
             conns, nmsg, os.path.getsize(os.path.join(w, "bodies.txt")) // max(nmsg, 1), 2,
             os.popen("nginx -v 2>&1").read().strip(), fmt or "(serve not run)"))
bl.write(results, "e2e", "End to end over HTTPS with mTLS (issues 7 and 9)", rows, notes)
EOP
