#!/bin/bash
# bench_audit.sh - the audit log (issue 8): append rate (target 100,000
# entries/s), time to verify a log of 1,000,000 entries (target < 5 s), and
# the size and verification time of one inclusion proof. Baselines are
# measured in the same run by tests/tools/bench_audit: SHA-256 of the same
# entries alone (OpenSSL), plain SQLite inserts of the same rows, and the
# signed checkpoint alone. Writes $RESULTS/audit.json (bench/run.sh format).
set -eu
: "${B:=build/rel}" "${TOP:=$(pwd)}" "${RESULTS:=bench/results}" "${WORK:=bench/work}"
N=${AUDIT_BENCH_N:-1000000}
RUNS=${AUDIT_BENCH_RUNS:-3}
TOOL=$TOP/$B/tools/bench_audit
[ -x "$TOOL" ] || { echo "bench_audit: build it first (make build-tests)" >&2; exit 3; }
mkdir -p "$RESULTS" "$WORK/audit"
W=$(cd "$WORK/audit" && pwd)
PKI=$TOP/$B/pki
sh "$TOP/certs/mkpki.sh" "$PKI" >/dev/null
: >"$W/append.jsonl"
for r in $(seq "$RUNS"); do
	echo "bench_audit: append run $r of $RUNS ($N entries)" >&2
	"$TOOL" append "$W" "$N" >>"$W/append.jsonl"
done
echo "bench_audit: verify ($N entries, $RUNS runs) and one proof" >&2
"$TOOL" verify "$W" "$N" "$RUNS" "$PKI/ministry-ec.key" "$PKI/ministry-ec.pem" >"$W/verify.json"
rm -f "$W"/*.db "$W"/*.db-wal "$W"/*.db-shm
python3 - "$W/append.jsonl" "$W/verify.json" "$RESULTS/audit.json" "$N" <<'EOP'
import json, os, statistics, sys, datetime
app = [json.loads(l) for l in open(sys.argv[1])]
ver = json.load(open(sys.argv[2]))
n = int(sys.argv[4])
def machine():
    model = mem = "?"
    for l in open("/proc/cpuinfo"):
        if l.startswith("model name"):
            model = l.split(":", 1)[1].strip(); break
    for l in open("/proc/meminfo"):
        if l.startswith("MemTotal"):
            mem = l.split(":", 1)[1].strip(); break
    return "%d cores, %s, %s" % (os.cpu_count(), model, mem)
def row(workload, metric, hib, vals, baseline, bvals, target=None, met=None, note=None):
    v = statistics.median(vals)
    bv = statistics.median(bvals) if bvals else None
    return {"workload": workload, "metric": metric, "higher_is_better": hib,
            "value": round(v, 4), "min": round(min(vals), 4), "max": round(max(vals), 4),
            "runs": len(vals), "baseline": baseline,
            "baseline_value": round(bv, 4) if bv is not None else None,
            "ratio": round(v / bv, 4) if bv else None,
            "target": target, "met": met, "note": note}
ne = "{:,}".format(n)
fg = [a["foreground_eps"] for a in app]
bgc = [a["background_caller_eps"] for a in app]
bgt = [a["background_total_eps"] for a in app]
sha = [a["sha256_eps"] for a in app]
sq = [a["sqlite_eps"] for a in app]
vs = ver["verify_s"]
rows = [
    row("append %s entries, batches committed by the caller" % ne, "entries/s", True, fg,
        "SHA-256 of the same entries' canonical form alone (OpenSSL)", sha,
        ">= 100000 entries/s", statistics.median(fg) >= 100000,
        "durable: WAL, synchronous=FULL, one transaction per 4,096 entries"),
    row("append %s entries, background thread (rate the caller sees)" % ne, "entries/s", True, bgc,
        "SHA-256 of the same entries' canonical form alone (OpenSSL)", sha,
        ">= 100000 entries/s", statistics.median(bgc) >= 100000,
        "what message flow waits for: a copy into the batch"),
    row("append %s entries, background thread, until committed" % ne, "entries/s", True, bgt,
        "plain SQLite inserts of the same rows (WAL, synchronous=FULL, 4,096 per transaction)", sq,
        ">= 100000 entries/s", statistics.median(bgt) >= 100000, None),
    row("verify a log of %s entries (every leaf recomputed, checkpoint root and signature)" % ne,
        "s", False, vs, "SHA-256 of the same entries' canonical form alone (OpenSSL)",
        [ver["sha256_s"]], "< 5 s", statistics.median(vs) < 5, None),
    row("inclusion proof of one entry in %s: file size" % ne, "bytes", False,
        [ver["proof_bytes"]], "the signed checkpoint alone (flattened JWS, ES256)",
        [ver["checkpoint_bytes"]], None, None, "self-contained JSON: entry, path, checkpoint"),
    row("inclusion proof of one entry in %s: verification" % ne, "ms", False,
        [ver["proof_verify_ms"], ver["proof_verify_min_ms"], ver["proof_verify_max_ms"]],
        "verifying the signed checkpoint alone (ES256)", [ver["checkpoint_verify_ms"]],
        None, None, "median of 201 verifications; min and max of them"),
]
rows[-1]["value"] = round(ver["proof_verify_ms"], 4)
rows[-1]["runs"] = 201
out = {"bench": "audit", "title": "Audit log",
       "machine": machine(),
       "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
       "rows": rows}
json.dump(out, open(sys.argv[3], "w"), indent=2)
for r in rows:
    print("%-90s %12.4f %s (baseline %s)" % (r["workload"], r["value"], r["metric"], r["baseline_value"]))
EOP
