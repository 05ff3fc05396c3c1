# lib.sh - shell helpers of the bench scripts (sourced): free ports, the
# test PKI, and nginx as a local HTTPS sink (and proxy) on loopback, run in
# the foreground of its own process group and stopped on exit.
: "${TOP:=$PWD}" "${B:=build/rel}" "${LIENTHONG:=$TOP/bin/lienthong}"
: "${RESULTS:=$TOP/bench/results}" "${WORK:=$TOP/bench/work}"
case "$LIENTHONG" in /*) ;; *) LIENTHONG=$TOP/$LIENTHONG ;; esac
RUNS=${BENCH_RUNS:-5}
BENCH_PIDS=()
bench_cleanup() {
	local p
	for p in "${BENCH_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${BENCH_PIDS[@]}"; do
		for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$p" 2>/dev/null || true
	done
	BENCH_PIDS=()
	return 0
}
trap bench_cleanup EXIT

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# The test PKI in $WORK/pki, and the client chain file the tools use.
bench_pki() {
	P=$WORK/pki
	sh "$TOP/certs/mkpki.sh" "$P" >/dev/null || return 1
	cat "$P/ministry-ec.pem" "$P/chain.pem" >"$P/ministry-ec-full.pem"
	cat "$P/hub.pem" "$P/chain.pem" >"$P/hub-full.pem"
}

# nginx_conf DIR SINK_PORT [FRONT_PORT]: a sink answering 200 '{"ok": true}'
# to everything over HTTPS with a required client certificate, and, with
# FRONT_PORT, a front server (same TLS rules) proxying /v1/messages to the
# sink over HTTPS with the ministry's client certificate and keep-alive.
nginx_conf() {
	local d=$1 sink=$2 front=${3:-} user=""
	mkdir -p "$d/tmp" "$d/logs"
	[ "$(id -u)" = 0 ] && user="user root;"
	cat >"$d/nginx.conf" <<EOC
$user
worker_processes 2;
pid $d/nginx.pid;
error_log $d/logs/error.log warn;
events { worker_connections 4096; }
http {
	access_log off;
	client_body_temp_path $d/tmp/body;
	proxy_temp_path $d/tmp/proxy;
	fastcgi_temp_path $d/tmp/fastcgi;
	uwsgi_temp_path $d/tmp/uwsgi;
	scgi_temp_path $d/tmp/scgi;
	client_body_buffer_size 64k;
	client_max_body_size 64m;
	keepalive_requests 1000000;
	keepalive_timeout 60s;
	ssl_protocols TLSv1.2 TLSv1.3;
	ssl_certificate $P/hub-full.pem;
	ssl_certificate_key $P/hub.key;
	ssl_client_certificate $P/root.pem;
	ssl_verify_client on;
	ssl_verify_depth 3;
	ssl_session_cache shared:SSL:10m;
	server {
		listen 127.0.0.1:$sink ssl;
		location / {
			default_type application/json;
			return 200 '{"ok": true}';
		}
	}
EOC
	if [ -n "$front" ]; then
		cat >>"$d/nginx.conf" <<EOC
	upstream sink {
		server 127.0.0.1:$sink;
		keepalive 128;
	}
	server {
		listen 127.0.0.1:$front ssl;
		location /v1/messages {
			proxy_pass https://sink;
			proxy_http_version 1.1;
			proxy_set_header Connection "";
			proxy_ssl_certificate $P/ministry-ec-full.pem;
			proxy_ssl_certificate_key $P/ministry-ec.key;
			proxy_ssl_trusted_certificate $P/root.pem;
			proxy_ssl_verify on;
			proxy_ssl_name localhost;
			proxy_ssl_session_reuse on;
		}
	}
EOC
	fi
	echo "}" >>"$d/nginx.conf"
}

# wait_port PORT PID: until PORT accepts connections (10 s) while PID lives
wait_port() {
	for _ in $(seq 100); do
		python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1",int(sys.argv[1])),0.2)' "$1" \
			2>/dev/null && return 0
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# nginx_start DIR PORT: run nginx in the foreground (the master is our
# child) and wait until PORT accepts connections. Sets NGINX_PID.
nginx_start() {
	local d=$1 port=$2
	nginx -p "$d" -c "$d/nginx.conf" -e "$d/logs/error.log" -g 'daemon off;' \
		>"$d/logs/stdout" 2>&1 &
	NGINX_PID=$!
	BENCH_PIDS+=("$NGINX_PID")
	wait_port "$port" "$NGINX_PID" && return 0
	echo "bench: nginx did not start (see $d/logs/error.log)" >&2
	cat "$d/logs/error.log" >&2
	return 1
}

# peak_rss_kb PID: VmHWM of PID and its children (nginx workers), in KiB.
peak_rss_kb() {
	local p total=0 v
	for p in "$1" $(pgrep -P "$1" 2>/dev/null); do
		v=$(awk '/^VmHWM:/{print $2}' "/proc/$p/status" 2>/dev/null)
		total=$((total + ${v:-0}))
	done
	echo "$total"
}

# serve_conf FILE VAR_DIR PORT SINK_PORT LIMITS [FORMAT]: the configuration
# of `lienthong serve` under test, as the hub: the ministry (client
# certificate ministry-ec) may send indicator reports, which are routed to
# the sink at SINK_PORT, converted to FORMAT and signed by the hub when
# FORMAT is given (else the exact bytes); no drop folder (a hub that
# forwards). LIMITS is the flow mapping of server.limits.
serve_conf() {
	local f=$1 var=$2 port=$3 sink=$4 limits=$5 format=${6:-}
	cat >"$f" <<EOC
gateway:
  name: bench
  organization: {orgId: 000.00.00.G16, name: "Nền tảng tích hợp, chia sẻ dữ liệu quốc gia"}
  data_dir: $var
log: {level: warn, file: $(dirname "$f")/log.jsonl}
audit: {store: $var/audit.db}
schemas: {dir: $TOP/schemas}
signing: {key: $P/hub.key, cert: $P/hub.pem, chain: $P/chain.pem}
trust: {dir: $P/trust}
server:
  listen: 127.0.0.1
  port: $port
  tls: {cert: $P/hub.pem, chain: $P/chain.pem, key: $P/hub.key}
  limits: $limits
  drop_dir: false
partners:
  - name: ministry
    subject: "CN=Ministry of Finance Gateway,O=Lienthong Test PKI,C=VN"
    orgId: 000.00.00.G12
    kinds: [indicator.report]
    receivers: ["*"]
destinations:
  sink:
    url: https://127.0.0.1:$sink/v1/messages
    ca: $P/root.pem
    cert: $P/ministry-ec-full.pem
    key: $P/ministry-ec.key
${format:+    format: $format}
routes:
  - kinds: [indicator.report]
    to: [sink]
EOC
}

# sdmx_format: FORMAT="sdmx-ml" when the SDMX 3.0 schemas are found (they are not
# shipped: LIENTHONG_SDMX_DIR, or ../shared/testsuites/sdmx, exported
# then), else "report-packet" (our own schema) -- the wire format the e2e
# bench converts to.
sdmx_format() {
	local d=${LIENTHONG_SDMX_DIR:-$TOP/../shared/testsuites/sdmx}
	if [ -f "$d/sdmx-ml-3.0/schemas/SDMXMessage.xsd" ]; then
		export LIENTHONG_SDMX_DIR=$d
		FORMAT=sdmx-ml
	else
		FORMAT=report-packet
	fi
}
