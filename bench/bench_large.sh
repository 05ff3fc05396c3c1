#!/bin/bash
# bench_large.sh - large messages end to end (issue 9, workload 4): one
# indicator.report of 50 MiB (bench/gen_large.py: the 1584/QĐ-BTC example
# grown to about 129,000 different observations, valid, in RFC 8785 form),
# signed once with `lienthong sign --format compact` (ES256, x5c; a compact
# JWS, since a flattened one of this size is over the 64 MiB JSON limit),
# then in each run:
#   - lienthong serve (fresh data folder and process per run): POST over
#     mutual TLS, verified, validated, stored durably, receipt, forwarded
#     through the outbox to a sink (bench/sink.py, HTTPS with a required
#     client certificate, which logs the SHA-256 of what arrived). Passed
#     when the answer is 200 with a receipt that verifies and binds the
#     SHA-256 of the body, and the sink got the same bytes. Wall time to
#     the receipt and to the arrival at the sink; peak RSS (VmHWM) of the
#     serve process as a multiple of the message size (target < 2x);
#   - the baseline: nginx (Debian package) terminating mutual TLS and
#     proxying the same body to the same sink (its wall time and the peak
#     RSS of master + workers);
#   - lienthong validate, lienthong send (fresh outbox each run) and
#     lienthong sign of the same file alone, under /usr/bin/time (wall time,
#     maximum RSS), beside python3's json.load of the same file.
# Runs: BENCH_LARGE_RUNS, else BENCH_RUNS capped at 2 (about a minute a run
# on this shared machine). Writes $RESULTS/large.json.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
RUNS=${BENCH_LARGE_RUNS:-$((RUNS < 2 ? RUNS : 2))}
SIZE=${BENCH_LARGE_BYTES:-52428800}
W=$WORK/large
rm -rf "$W"
mkdir -p "$W"
bench_pki
P=$WORK/pki
CURL=(curl -sS --max-time 300 --cert "$P/ministry-ec-full.pem" --key "$P/ministry-ec.key"
	--cacert "$P/root.pem" -H "Content-Type: application/jose" -H "Expect:")

# tv OUT CMD...: run CMD under /usr/bin/time; OUT gets "SECONDS MAXRSS_KB EXIT"
tv() {
	local out=$1
	shift
	/usr/bin/time -f '%e %M %x' -o "$out" "$@" || true
}
sha() { sha256sum "$1" | cut -d' ' -f1; }

echo "large: generating a $SIZE-byte indicator report" >&2
read -r MSG_BYTES NOBS < <(python3 "$TOP/bench/gen_large.py" \
	"$TOP/conf/examples/indicator-report-2024-targets.json" "$SIZE" "$W/large.json")
if [ -z "${NOBS:-}" ] || ! "$LIENTHONG" validate "$W/large.json" >/dev/null; then
	echo "large: the generated message is not valid" >&2
	exit 3
fi
SIGN=("$LIENTHONG" sign --key "$P/ministry-ec.key" --cert "$P/ministry-ec.pem" --chain "$P/chain.pem"
	--alg ES256 --format compact "$W/large.json")
# the body of every POST; this signing is the first run of the sign row
tv "$W/sign.1" "${SIGN[@]}" >"$W/large.jws"
[ -s "$W/large.jws" ] || { echo "large: lienthong sign failed" >&2; exit 3; }
BODY_SHA=$(sha "$W/large.jws")
# the JWS carries the file byte for byte (gen_large.py writes RFC 8785)
python3 - "$W/large.jws" "$W/large.json" <<'EOP'
import base64, sys
p = open(sys.argv[1], "rb").read().strip().split(b".")[1]
if base64.urlsafe_b64decode(p + b"=" * (-len(p) % 4)) != open(sys.argv[2], "rb").read():
    sys.exit("large: the JWS payload is not the generated file byte for byte")
EOP

SINK=$(free_port)
python3 "$TOP/bench/sink.py" "$SINK" "$P/hub-full.pem" "$P/hub.key" "$P/root.pem" "$W/sink.log" \
	2>"$W/sink.stderr" &
BENCH_PIDS+=("$!")
wait_port "$SINK" "${BENCH_PIDS[-1]}" || { echo "large: sink did not start" >&2; cat "$W/sink.stderr" >&2; exit 3; }
# arrival SHA FROM_LINE: the sink's time for a body with this SHA-256 logged
# after line FROM_LINE (bounded wait), or "-"
arrival() {
	local t
	for _ in $(seq 1200); do
		t=$(tail -n +"$(($2 + 1))" "$W/sink.log" | awk -v h="$1" '$3 == h { print $1; exit }')
		[ -n "$t" ] && { echo "$t"; return 0; }
		sleep 0.1
	done
	echo -
}
# post URL RUN WHO: one POST of the body; appends to $W/WHO.runs
# "RUN HTTP_STATUS T_START T_ANSWER T_ARRIVED" (times in s since the epoch)
post() {
	local n0 t0 code t1 t2
	n0=$(wc -l <"$W/sink.log")
	t0=$(date +%s.%N)
	code=$("${CURL[@]}" -o "$W/$3.answer.$2" -w '%{http_code}' --data-binary @"$W/large.jws" "$1") || code=000
	t1=$(date +%s.%N)
	t2=-
	case $code in 2??) t2=$(arrival "$BODY_SHA" "$n0") ;; esac
	echo "$2 $code $t0 $t1 $t2" >>"$W/$3.runs"
}

# the baseline: nginx proxying to the sink
FRONT=$(free_port)
N=$W/nginx
mkdir -p "$N/tmp" "$N/logs"
cat >"$N/nginx.conf" <<EOC
$([ "$(id -u)" = 0 ] && echo "user root;")
worker_processes 2;
pid $N/nginx.pid;
error_log $N/logs/error.log warn;
events { worker_connections 1024; }
http {
	access_log off;
	client_body_temp_path $N/tmp/body;
	proxy_temp_path $N/tmp/proxy;
	fastcgi_temp_path $N/tmp/fastcgi;
	uwsgi_temp_path $N/tmp/uwsgi;
	scgi_temp_path $N/tmp/scgi;
	client_body_buffer_size 64k;
	client_max_body_size 128m;
	proxy_read_timeout 300s;
	proxy_send_timeout 300s;
	ssl_protocols TLSv1.2 TLSv1.3;
	ssl_certificate $P/hub-full.pem;
	ssl_certificate_key $P/hub.key;
	ssl_client_certificate $P/root.pem;
	ssl_verify_client on;
	ssl_verify_depth 3;
	server {
		listen 127.0.0.1:$FRONT ssl;
		location /v1/messages {
			proxy_pass https://127.0.0.1:$SINK;
			proxy_http_version 1.1;
			proxy_set_header Connection "";
			proxy_ssl_certificate $P/ministry-ec-full.pem;
			proxy_ssl_certificate_key $P/ministry-ec.key;
			proxy_ssl_trusted_certificate $P/root.pem;
			proxy_ssl_verify on;
			proxy_ssl_name localhost;
		}
	}
}
EOC
nginx_start "$N" "$FRONT"
echo "large: nginx proxy ($RUNS runs)" >&2
for r in $(seq "$RUNS"); do
	post "https://127.0.0.1:$FRONT/v1/messages" "$r" nginx
done
peak_rss_kb "$NGINX_PID" >"$W/nginx.rss"

# lienthong serve, a fresh process and data folder per run
GW=$(free_port)
mkdir -p "$W/gw"
serve_conf "$W/gw/gateway.yaml" "$W/gw/var" "$GW" "$SINK" "{max_body_bytes: 134217728, timeout_s: 300}"
echo "large: lienthong serve ($RUNS runs)" >&2
KEEP=("${BENCH_PIDS[@]}")
for r in $(seq "$RUNS"); do
	rm -rf "$W/gw/var"
	"$LIENTHONG" serve -c "$W/gw/gateway.yaml" >"$W/gw/stdout.$r" 2>"$W/gw/stderr.$r" &
	GW_PID=$!
	BENCH_PIDS+=("$GW_PID")
	if ! wait_port "$GW" "$GW_PID"; then
		echo "large: lienthong serve did not start:" >&2
		tail -5 "$W/gw/stderr.$r" >&2
		echo "$r 000 0 0 -" >>"$W/serve.runs"
		break
	fi
	awk '/^VmRSS:/{print $2}' "/proc/$GW_PID/status" >"$W/serve.rss0.$r"
	post "https://127.0.0.1:$GW/v1/messages" "$r" serve
	awk '/^VmHWM:/{print $2}' "/proc/$GW_PID/status" >"$W/serve.rss.$r"
	# the receipt verifies against the trust store
	if "$LIENTHONG" verify --trust "$P/trust" "$W/serve.answer.$r" >/dev/null 2>"$W/serve.verify.$r"; then
		echo ok >"$W/serve.verify.$r"
	fi
	kill "$GW_PID" 2>/dev/null || true
	for _ in $(seq 100); do kill -0 "$GW_PID" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$GW_PID" 2>/dev/null || true
	wait "$GW_PID" 2>/dev/null || true
	BENCH_PIDS=("${KEEP[@]}")
done
bench_cleanup || true

echo "large: validate, send, sign, python3 json.load ($RUNS runs)" >&2
for r in $(seq "$RUNS"); do
	tv "$W/validate.$r" "$LIENTHONG" validate "$W/large.json" >/dev/null
	rm -rf "$W/gw/var"
	mkdir -p "$W/gw/var"
	tv "$W/send.$r" "$LIENTHONG" send -c "$W/gw/gateway.yaml" "$W/large.json" >/dev/null
	[ "$r" = 1 ] || tv "$W/sign.$r" "${SIGN[@]}" >/dev/null
	tv "$W/python.$r" python3 -c 'import json, sys; json.load(open(sys.argv[1], "rb"))' "$W/large.json"
done

PYTHONDONTWRITEBYTECODE=1 python3 - "$W" "$RESULTS" "$RUNS" "$MSG_BYTES" "$NOBS" "$BODY_SHA" \
	"$(stat -c %s "$W/large.jws")" <<'EOP'
import base64, json, os, sys
sys.path.insert(0, os.path.join(os.environ.get("TOP", "."), "bench"))
import benchlib as bl
w, results, runs, size, nobs, body_sha, body_len = sys.argv[1:8]
runs, size, nobs, body_len = int(runs), int(size), int(nobs), int(body_len)
MB = 1024 * 1024

def lines(name):
    try:
        return [l.split() for l in open(os.path.join(w, name))]
    except OSError:
        return []

def readint(name):
    try:
        return int(open(os.path.join(w, name)).read())
    except (OSError, ValueError):
        return None

def receipt_ok(r):
    """(ok, why): the answer is a JWS receipt binding the body's SHA-256"""
    try:
        doc = json.load(open(os.path.join(w, "serve.answer.%d" % r)))
        p = doc["payload"]
        m = json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))
        if m.get("kind") != "receipt":
            return False, "the answer is not a receipt"
        if m["payload"].get("sha256", "").lower() != body_sha:
            return False, "the receipt binds another SHA-256"
    except (OSError, ValueError, KeyError, TypeError) as e:
        return False, "no readable receipt (%s)" % e
    v = open(os.path.join(w, "serve.verify.%d" % r)).read().strip() \
        if os.path.exists(os.path.join(w, "serve.verify.%d" % r)) else "not checked"
    if v != "ok":
        return False, "the receipt does not verify: " + v
    return True, None

def e2e(who):
    """per run: (passed, seconds to the answer, seconds to the arrival, why)"""
    out = []
    for run, code, t0, t1, t2 in lines(who + ".runs"):
        why = None
        if code != "200":
            why = "HTTP status %s" % code
        elif t2 == "-":
            why = "the body did not arrive at the sink (or other bytes did)"
        elif who == "serve":
            ok, why = receipt_ok(int(run))
        arr = float(t2) - float(t0) if t2 != "-" else None
        out.append((why is None, float(t1) - float(t0), arr, why))
    return out

def timed(name):
    """per run: (seconds, peak RSS in MiB) of the runs that exited 0"""
    out, bad = [], 0
    for r in range(1, runs + 1):
        l = lines("%s.%d" % (name, r))
        if l and len(l[0]) == 3 and l[0][2] == "0":
            out.append((float(l[0][0]), int(l[0][1]) / 1024.0))
        else:
            bad += 1
    return out, ("%d of %d runs failed" % (bad, runs) if bad else None)

sv, ng = e2e("serve"), e2e("nginx")
sv_why = "; ".join(sorted({x[3] for x in sv if x[3]})) or (None if sv else "not measured")
ng_why = "; ".join(sorted({x[3] for x in ng if x[3]})) or None
sv_rss = [v / 1024.0 for v in (readint("serve.rss.%d" % r) for r in range(1, runs + 1)) if v]
sv_rss0 = [v / 1024.0 for v in (readint("serve.rss0.%d" % r) for r in range(1, runs + 1)) if v]
ng_rss = readint("nginx.rss")
ng_rss = [ng_rss / 1024.0] if ng_rss else None
msg_mb = size / MB
py, py_why = timed("python")
py_t = [x[0] for x in py] or None
py_x = [x[1] / msg_mb for x in py] or None
rows = []
base_ng = "nginx proxying the same body to the same sink (same run)"
base_py = "python3 json.load of the same file (same run)"

rows.append(bl.row("lienthong serve: passed (200, receipt verifies and binds the SHA-256, "
                   "the sink got the same bytes)", "passed (1 = yes)",
                   [1.0 if x[0] else 0.0 for x in sv] or None,
                   baseline=base_ng, baseline_values=[1.0 if x[0] else 0.0 for x in ng] or None,
                   target="every run", note=sv_why))
rows[-1]["met"] = bool(sv) and all(x[0] for x in sv) and len(sv) == runs
rows.append(bl.row("lienthong serve: POST to signed receipt (verified, validated, stored durably)",
                   "s", [x[1] for x in sv if x[0]] or None, higher_is_better=False,
                   baseline=base_ng + ", POST to its answer", baseline_values=[x[1] for x in ng if x[0]] or None,
                   note=ng_why))
rows.append(bl.row("lienthong serve: POST to arrival at the sink (through the outbox)", "s",
                   [x[2] for x in sv if x[0]] or None, higher_is_better=False,
                   baseline=base_ng + ", POST to arrival", baseline_values=[x[2] for x in ng if x[0]] or None))
rows.append(bl.row("lienthong serve: peak RSS (VmHWM of the process, one message per process)", "MiB",
                   sv_rss or None, higher_is_better=False,
                   baseline="nginx master + workers, peak RSS over all runs", baseline_values=ng_rss,
                   note=("%.1f MiB before the request (median)" % sorted(sv_rss0)[len(sv_rss0) // 2])
                   if sv_rss0 else None))
rows.append(bl.row("lienthong serve: peak RSS ÷ message size", "×",
                   [v / msg_mb for v in sv_rss] or None, higher_is_better=False,
                   baseline=base_py + ", peak RSS ÷ size", baseline_values=py_x,
                   target="< 2×", met=lambda v, b: v < 2))
for name, what in (("validate", "lienthong validate FILE (schema and business rules)"),
                   ("send", "lienthong send -c CONF FILE (validate, sign JWS, durable enqueue)"),
                   ("sign", "lienthong sign --format compact FILE (RFC 8785 + ES256)")):
    t, why = timed(name)
    rows.append(bl.row(what + ": wall time", "s", [x[0] for x in t] or None, higher_is_better=False,
                       baseline=base_py, baseline_values=py_t, note=why))
    rows.append(bl.row(what + ": peak RSS ÷ message size", "×", [x[1] / msg_mb for x in t] or None,
                       higher_is_better=False, baseline=base_py + ", peak RSS ÷ size",
                       baseline_values=py_x, target="< 2×", met=lambda v, b: v < 2))
rows.append(bl.row("python3 json.load (the baseline): peak RSS", "MiB", [x[1] for x in py] or None,
                   higher_is_better=False, note=py_why))
notes = ("Message: one indicator.report of %d bytes (%.1f MiB; bench/gen_large.py, %d observations, all "
         "different, valid), signed as a compact JWS (ES256, x5c) of %d bytes, POSTed with curl "
         "(application/jose, mutual TLS, client certificate ministry-ec). The ratios divide the peak RSS by "
         "the message's size (the JSON, not the larger JWS). serve: limits.max_body_bytes 128 MiB; a fresh "
         "process and data folder per run; its peak RSS is read after the message reached the sink, so it "
         "covers receiving, verifying, validating, storing and forwarding. Sink: bench/sink.py (python3, "
         "HTTPS, client certificate required) logs the SHA-256 of each body it receives. validate, send, "
         "sign and python3: /usr/bin/time (maximum RSS). nginx: %s, proxy request buffering on (the body "
         "goes to a temporary file). Domibus documents needing 3 to 4 times the message size in memory." % (
             size, msg_mb, nobs, body_len, os.popen("nginx -v 2>&1").read().strip()))
bl.write(results, "large", "Large messages: 50 MiB end to end (issue 9)", rows, notes)
EOP
