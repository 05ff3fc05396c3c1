#!/bin/sh
# mkpki.sh - make the test PKI for signing, verification and (later) mTLS.
#
# Usage: certs/mkpki.sh [OUTDIR]        (default: certs/out, git-ignored)
#
# Everything here is throwaway test material made with the openssl CLI; no
# private key is ever committed. The script is idempotent: when OUTDIR/.done
# exists it does nothing. Layout of OUTDIR:
#   root.pem root.key        test root CA (trust anchor)
#   inter.pem inter.key      intermediate CA that issues every leaf
#   chain.pem                the intermediate alone (for sign --chain)
#   ministry-rsa.{key,pem}   ministry gateway leaf, RSA 2048
#   ministry-ec.{key,pem}    ministry gateway leaf, EC P-256
#   ministry-ed25519.{key,pem} ministry gateway leaf, Ed25519 (EdDSA JWS)
#   ministry-ec-enc.key      ministry-ec.key encrypted (passphrase in
#                            pass.txt: "lienthong-test")
#   hub.{key,pem}            national hub leaf, EC P-256
#   partner-a.{key,pem}      partner agency A leaf, RSA 2048
#   partner-b.{key,pem}      partner agency B leaf, EC P-256
#   expired.{key,pem}        leaf valid 2020-01-01 .. 2021-01-01 only
#   revoked.{key,pem}        leaf listed in inter.crl
#   rogue-root.pem rogue.{key,pem} leaf from a CA nobody trusts
#   trust/                   the trust store: root.pem, root.crl, inter.crl
#   NAME-full.pem            each leaf followed by the intermediate (what a
#                            TLS client or server presents)
# Leaves carry keyUsage digitalSignature, extendedKeyUsage serverAuth and
# clientAuth, and subjectAltName DNS:localhost, IP:127.0.0.1.
set -eu
OUT=${1:-certs/out}
[ -f "$OUT/.done" ] && exit 0
command -v openssl >/dev/null 2>&1 || {
	echo "mkpki.sh: openssl not found (apt-get install openssl)" >&2
	exit 3
}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
umask 077
W=$OUT/work
rm -rf "$W" "$OUT/trust"
mkdir -p "$W" "$OUT/trust"
cd "$OUT"
ORG="/C=VN/O=Lienthong Test PKI"

# One openssl ca configuration per CA (root, inter, rogue).
mkca_conf() { # name
	d=$W/$1
	mkdir -p "$d/new"
	: >"$d/index.txt"
	echo 1000 >"$d/serial"
	echo 1000 >"$d/crlnumber"
	cat >"$d/ca.cnf" <<EOF
[ ca ]
default_ca = this
[ this ]
dir = $d
database = \$dir/index.txt
new_certs_dir = \$dir/new
serial = \$dir/serial
crlnumber = \$dir/crlnumber
certificate = $OUT/$1.pem
private_key = $OUT/$1.key
default_md = sha256
default_days = 3650
default_crl_days = 3650
policy = any
unique_subject = no
copy_extensions = none
[ any ]
C = optional
O = optional
OU = optional
CN = supplied
[ v3_ca ]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ v3_leaf ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth, clientAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
EOF
}

selfsigned_ca() { # name cn
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
		-out "$1.key" 2>/dev/null
	mkca_conf "$1"
	openssl req -new -key "$1.key" -subj "$ORG/CN=$2" -out "$W/$1.csr"
	openssl ca -batch -notext -selfsign -config "$W/$1/ca.cnf" \
		-extensions v3_ca -startdate 20250101000000Z \
		-enddate 20451231000000Z -in "$W/$1.csr" -out "$1.pem" 2>/dev/null
}

genkey() { # name kind
	case "$2" in
	rsa) openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
		-out "$1.key" 2>/dev/null ;;
	ec) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
		-out "$1.key" 2>/dev/null ;;
	ed25519) openssl genpkey -algorithm ED25519 -out "$1.key" ;;
	esac
}

leaf() { # ca name kind cn [startdate enddate]
	genkey "$2" "$3"
	openssl req -new -key "$2.key" -subj "$ORG/CN=$4" -out "$W/$2.csr"
	openssl ca -batch -notext -config "$W/$1/ca.cnf" -extensions v3_leaf \
		-startdate "${5:-20250101000000Z}" -enddate "${6:-20401231000000Z}" \
		-in "$W/$2.csr" -out "$2.pem" 2>/dev/null
}

selfsigned_ca root "Lienthong Test Root CA"

# Intermediate, issued by the root.
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
	-out inter.key 2>/dev/null
mkca_conf inter
openssl req -new -key inter.key -subj "$ORG/CN=Lienthong Test Intermediate CA" \
	-out "$W/inter.csr"
openssl ca -batch -notext -config "$W/root/ca.cnf" -extensions v3_ca \
	-startdate 20250101000000Z -enddate 20441231000000Z \
	-in "$W/inter.csr" -out inter.pem 2>/dev/null
cp inter.pem chain.pem

leaf inter ministry-rsa rsa "Ministry of Finance Gateway"
leaf inter ministry-ec ec "Ministry of Finance Gateway"
leaf inter ministry-ed25519 ed25519 "Ministry of Finance Gateway"
leaf inter hub ec "National Data Exchange Hub"
leaf inter partner-a rsa "Partner Agency A"
leaf inter partner-b ec "Partner Agency B"
leaf inter expired ec "Expired Agency" 20200101000000Z 20210101000000Z
leaf inter revoked ec "Revoked Agency"
openssl ca -batch -config "$W/inter/ca.cnf" -revoke revoked.pem \
	-crl_reason keyCompromise 2>/dev/null

printf 'lienthong-test\n' >pass.txt
openssl pkey -in ministry-ec.key -aes256 -passout file:pass.txt \
	-out ministry-ec-enc.key

selfsigned_ca rogue-root "Rogue Root CA"
leaf rogue-root rogue ec "Rogue Agency"

openssl ca -batch -gencrl -config "$W/inter/ca.cnf" -out trust/inter.crl \
	2>/dev/null
openssl ca -batch -gencrl -config "$W/root/ca.cnf" -out trust/root.crl \
	2>/dev/null
cp root.pem trust/root.pem
for n in ministry-rsa ministry-ec hub partner-a partner-b expired revoked; do
	cat "$n.pem" chain.pem >"$n-full.pem"
done
rm -rf "$W"
chmod 644 ./*.pem trust/*
touch .done
