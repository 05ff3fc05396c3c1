#!/bin/bash
# audit_tsa.sh - RFC 3161 timestamps for the audit log's checkpoints: a
# TSA on loopback (tests/tools/tsa.py over `openssl ts -reply`, its
# certificate under the test root with the critical timeStamping usage)
# timestamps each signed checkpoint (`lienthong audit timestamp`), and
# `openssl ts -verify` accepts the token over the checkpoint's bytes and
# refuses it over other bytes. With the TSA down, messages keep flowing
# and the checkpoint waits, audited as pending; once the TSA is back it
# gets its token. TSAs are tried in order; a TSA outside the configured
# CA is refused.
. tests/lib.sh
P=$TOP/$B/pki
sh "$TOP/certs/mkpki.sh" "$P" >/dev/null || { not_ok "make the test PKI"; finish; exit 1; }
PIDS=()
trap 'kill "${PIDS[@]}" 2>/dev/null; rm -rf "$TMP"' EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# the TSA: a key, a certificate under the test root, openssl's [tsa] section
T=$TMP/tsa
mkdir -p "$T"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/tsa.key" 2>/dev/null
openssl req -new -key "$T/tsa.key" -subj "/C=VN/O=Lienthong Test PKI/CN=Test Time Stamping Authority" \
	-out "$T/tsa.csr" 2>/dev/null
printf '[ext]\nbasicConstraints = CA:FALSE\nkeyUsage = critical, digitalSignature\nextendedKeyUsage = critical, timeStamping\nsubjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid\n' >"$T/ext.cnf"
openssl x509 -req -in "$T/tsa.csr" -CA "$P/root.pem" -CAkey "$P/root.key" -set_serial 4242 \
	-days 30 -sha256 -extfile "$T/ext.cnf" -extensions ext -out "$T/tsa.pem" 2>/dev/null
echo 01 >"$T/serial"
cat >"$T/tsa.cnf" <<EOC
[ tsa ]
default_tsa = tsa1
[ tsa1 ]
serial = $T/serial
crypto_device = builtin
signer_cert = $T/tsa.pem
signer_key = $T/tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_alg = sha256
EOC
TPORT=$(port) DEAD=$(port)
start_tsa() {
	python3 "$TOP/tests/tools/tsa.py" --port "$TPORT" --config "$T/tsa.cnf" --log "$TMP/tsa.log" \
		>"$TMP/tsa.out" 2>&1 &
	TSA_PID=$!
	PIDS+=($TSA_PID)
	for _ in $(seq 50); do grep -q ready "$TMP/tsa.out" 2>/dev/null && return 0; sleep 0.1; done
	return 1
}
start_tsa || { not_ok "start the TSA"; finish; exit 1; }

conf() { # file tsa-list
	cat >"$1" <<EOC
gateway:
  name: ministry
  organization: {orgId: 000.00.00.G12, name: Bộ Tài chính}
  data_dir: $TMP/var
signing: {key: $P/ministry-ec.key, cert: $P/ministry-ec.pem, chain: $P/chain.pem}
trust: {dir: $P/trust}
destinations:
  hub: {url: "https://127.0.0.1:9/v1/messages", ca: $P/root.pem}
routes:
  - kinds: [indicator.report]
    to: [hub]
audit:
  checkpoint_interval_s: 0
$2
EOC
}
conf "$TMP/g.yaml" "  tsa:
    - {url: 'http://127.0.0.1:$DEAD/', ca: $P/root.pem, timeout_ms: 2000}
    - {url: 'http://127.0.0.1:$TPORT/', ca: $P/root.pem}"
expect_exit "a configuration with audit.tsa is valid" 0 "$LIENTHONG" config check "$TMP/g.yaml"
msg() { # id
	python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); m["id"]=sys.argv[2]; json.dump(m,open(sys.argv[3],"w"),ensure_ascii=False)' \
		"$TOP/conf/examples/indicator-report-2024-targets.json" "$1" "$TMP/m.json"
	"$LIENTHONG" send -c "$TMP/g.yaml" "$TMP/m.json" >/dev/null 2>&1
}
msg 7c1e0b5a-3f2d-4e6a-8b9c-00000000a001
"$LIENTHONG" audit checkpoint -c "$TMP/g.yaml" -o "$TMP/cp1.jws" 2>/dev/null
expect_exit "audit timestamp: the checkpoint gets its token (the first TSA down, the second tried)" 0 \
	"$LIENTHONG" audit timestamp -c "$TMP/g.yaml"
check "... 1 timestamped, 0 pending" grep -q "^1 checkpoint timestamped, 0 pending" "$TMP/out"
expect_exit "the token is exported with checkpoint --token" 0 \
	"$LIENTHONG" audit checkpoint -c "$TMP/g.yaml" --get 1 --token -o "$TMP/t1.der"
check "openssl ts -verify accepts the token over the checkpoint's bytes" sh -c \
	"openssl ts -verify -in '$TMP/t1.der' -token_in -data '$TMP/cp1.jws' -CAfile '$P/root.pem' 2>&1 | grep -q 'Verification: OK'"
printf 'x' >>"$TMP/cp1.jws"
check "... and refuses it over other bytes" sh -c \
	"! openssl ts -verify -in '$TMP/t1.der' -token_in -data '$TMP/cp1.jws' -CAfile '$P/root.pem' >/dev/null 2>&1"
expect_exit "a second run has nothing to do" 0 "$LIENTHONG" audit timestamp -c "$TMP/g.yaml"
check "... 0 timestamped, 1 had a token" grep -q "^0 checkpoints timestamped, 0 pending, 1 had a token" "$TMP/out"

# the TSA down: messages flow, the checkpoint waits, then gets its token
kill "$TSA_PID"
wait "$TSA_PID" 2>/dev/null
msg 7c1e0b5a-3f2d-4e6a-8b9c-00000000a002
check "with the TSA down, send still queues messages" sh -c \
	"'$LIENTHONG' queue -c '$TMP/g.yaml' ls | grep -q 00000000a002"
"$LIENTHONG" audit checkpoint -c "$TMP/g.yaml" -o "$TMP/cp2.jws" 2>/dev/null
expect_exit "audit timestamp with every TSA down: pending, exit 1" 1 \
	"$LIENTHONG" audit timestamp -c "$TMP/g.yaml"
check "... 0 timestamped, 1 pending" grep -q "^0 checkpoints timestamped, 1 pending" "$TMP/out"
check "... the audit log says why (timestamp retry, naming the TSA)" sh -c \
	"'$LIENTHONG' audit ls -c '$TMP/g.yaml' --format json | grep '\"timestamp\"' | grep retry | grep -q '127.0.0.1:$TPORT'"
expect_exit "checkpoint --token of a pending checkpoint: none yet" 1 \
	"$LIENTHONG" audit checkpoint -c "$TMP/g.yaml" --get 2 --token -o "$TMP/t2.der"
start_tsa || not_ok "start the TSA again"
expect_exit "the TSA back: the pending checkpoint gets its token" 0 \
	"$LIENTHONG" audit timestamp -c "$TMP/g.yaml"
"$LIENTHONG" audit checkpoint -c "$TMP/g.yaml" --get 2 --token -o "$TMP/t2.der" 2>/dev/null
check "openssl ts -verify accepts it" sh -c \
	"openssl ts -verify -in '$TMP/t2.der' -token_in -data '$TMP/cp2.jws' -CAfile '$P/root.pem' 2>&1 | grep -q 'Verification: OK'"
expect_exit "audit verify passes, and checks the tokens" 0 "$LIENTHONG" audit verify -c "$TMP/g.yaml" --trust "$P/trust"
check "... both tokens verified against audit.tsa" grep -q "^timestamps (RFC 3161): 2 verified against audit.tsa, 0 checkpoints without one yet" "$TMP/out"

# serve gets the tokens by itself (audit.timestamp_interval_s), in a thread
# of its own: a checkpoint published meanwhile is timestamped within secs
cat "$P/hub.pem" "$P/chain.pem" >"$TMP/hub-full.pem"
SPORT=$(port)
sed 's/^  checkpoint_interval_s: 0$/  checkpoint_interval_s: 0\n  timestamp_interval_s: 1/' "$TMP/g.yaml" >"$TMP/s.yaml"
cat >>"$TMP/s.yaml" <<EOC
server:
  listen: 127.0.0.1
  port: $SPORT
  tls: {cert: $TMP/hub-full.pem, key: $P/hub.key}
  drop_dir: false
partners:
  - name: vpcp
    subject: "CN=Partner Agency A,O=Lienthong Test PKI,C=VN"
    orgId: 000.00.00.G22
    kinds: [task.assignment]
    receivers: [000.00.00.G12]
EOC
"$LIENTHONG" serve -c "$TMP/s.yaml" >"$TMP/serve.out" 2>&1 &
SERVE_PID=$!
PIDS+=($SERVE_PID)
msg 7c1e0b5a-3f2d-4e6a-8b9c-00000000a003
"$LIENTHONG" audit checkpoint -c "$TMP/g.yaml" -o "$TMP/cp3.jws" 2>"$TMP/cp3.err"
SEQ3=$(sed -n 's/^checkpoint \([0-9]*\):.*/\1/p' "$TMP/cp3.err")
got=0
for _ in $(seq 100); do
	"$LIENTHONG" audit checkpoint -c "$TMP/g.yaml" --get "$SEQ3" --token -o "$TMP/t3.der" >/dev/null 2>&1 &&
		got=1 && break
	sleep 0.1
done
check "serve timestamps a new checkpoint by itself (checkpoint $SEQ3)" test $got = 1
check "... and openssl ts -verify accepts that token" sh -c \
	"openssl ts -verify -in '$TMP/t3.der' -token_in -data '$TMP/cp3.jws' -CAfile '$P/root.pem' 2>&1 | grep -q 'Verification: OK'"
kill "$SERVE_PID" 2>/dev/null
wait "$SERVE_PID" 2>/dev/null

# a TSA whose certificate is not under the configured CA
conf "$TMP/r.yaml" "  tsa:
    - {url: 'http://127.0.0.1:$TPORT/', ca: $P/rogue-root.pem}"
sed -i "s#data_dir: .*#data_dir: $TMP/var-r#" "$TMP/r.yaml"
"$LIENTHONG" send -c "$TMP/r.yaml" "$TMP/m.json" >/dev/null 2>&1
"$LIENTHONG" audit checkpoint -c "$TMP/r.yaml" >/dev/null 2>&1
expect_exit "a TSA outside the configured CA: refused, pending" 1 \
	"$LIENTHONG" audit timestamp -c "$TMP/r.yaml"
check "... the reason is the refused timestamp" grep -q "timestamp refused" "$TMP/err"
# without audit.tsa
conf "$TMP/n.yaml" ""
sed -i "s#data_dir: .*#data_dir: $TMP/var-r#" "$TMP/n.yaml"
expect_exit "audit timestamp without audit.tsa: a configuration error" 3 \
	"$LIENTHONG" audit timestamp -c "$TMP/n.yaml"
check "... naming the key" grep -q "audit.tsa" "$TMP/err"
# a token changed in the store: audit verify names its checkpoint
python3 - "$TMP/var/audit.db" <<'EOP'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
t = bytearray(db.execute("SELECT token FROM cp_tokens WHERE seq = 1").fetchone()[0])
t[len(t) // 2] ^= 1
db.execute("UPDATE cp_tokens SET token = ? WHERE seq = 1", (bytes(t),))
db.commit()
EOP
expect_exit "a token changed in the store: audit verify fails" 1 \
	"$LIENTHONG" audit verify -c "$TMP/g.yaml" --trust "$P/trust"
check "... naming checkpoint 1" grep -q "timestamp token of checkpoint 1 does not verify" "$TMP/err"
finish
