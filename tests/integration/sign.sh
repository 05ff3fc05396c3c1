#!/bin/bash
# Signing and verification end to end: a test PKI made by certs/mkpki.sh
# in $B/pki, messages signed by lienthong with every JWA algorithm (RS, PS,
# ES 256/384/512, EdDSA) verified by xmlsec1, jose and (when installed)
# python3-jwcrypto and the other way round, the allow-list (--alg), one
# changed byte in content, header or signature,
# expired, revoked and untrusted signers, signature wrapping, "alg: none",
# encrypted keys and (when SoftHSM2 is installed) a PKCS#11 token.
set -u
. "${TOP:-$(pwd)}/tests/lib.sh"
: "${B:=build/rel}"
case "$B" in /*) ;; *) B=$TOP/$B ;; esac
if "$LIENTHONG" help sign >/dev/null 2>&1; then LT=("$LIENTHONG")
else LT=("$B/tools/signcli"); fi
JWK=$B/tools/sign_jwk
D=$TOP/tests/data/sign
P=$B/pki
XML=$D/report.xml
JSON=$D/report.json

if ! "$TOP/certs/mkpki.sh" "$P" >"$TMP/mkpki.log" 2>&1; then
	not_ok "mkpki.sh: $(tail -3 "$TMP/mkpki.log")"
	finish; exit 1
fi
ok "test pki in $P"
TRUST=$P/trust
MINISTRY="CN=Ministry of Finance Gateway"

# Leaves on P-384 and P-521 (ES384, ES512), issued by the PKI's
# intermediate here: mkpki.sh keeps an existing PKI as it is.
printf 'keyUsage = critical, digitalSignature\n' >"$TMP/leaf.ext"
for c in P-384:ec384 P-521:ec521; do
	k=$TMP/ministry-${c#*:}
	openssl genpkey -algorithm EC -pkeyopt "ec_paramgen_curve:${c%%:*}" \
		-out "$k.key" 2>/dev/null &&
	openssl req -new -key "$k.key" -subj "/C=VN/O=Lienthong Test/CN=Ministry of Finance Gateway" \
		-out "$k.csr" 2>/dev/null &&
	openssl x509 -req -in "$k.csr" -CA "$P/inter.pem" -CAkey "$P/inter.key" \
		-CAcreateserial -CAserial "$TMP/inter.srl" -days 30 \
		-extfile "$TMP/leaf.ext" -out "$k.pem" 2>/dev/null ||
		not_ok "make the ${c%%:*} leaf"
done
# keyfile KIND: the key and certificate stem of the ministry's leaf KIND
keyfile() {
	case "$1" in ec384 | ec521) echo "$TMP/ministry-$1" ;;
	*) echo "$P/ministry-$1" ;; esac
}

sign() { "${LT[@]}" sign "$@"; }
verify() { "${LT[@]}" verify "$@"; }
# signed NAME KEY [sign options...]: sign with leaf NAME (KEY: rsa, ec,
# ed25519 suffix or "") into $TMP/NAME.out; args after are passed on.
expect_ok() { # name subject command...
	local n=$1 subj=$2 out rc; shift 2
	out=$("$@" 2>&1); rc=$?
	if [ $rc -eq 0 ] && grep -qF "$subj" <<<"$out"; then ok "$n"
	else not_ok "$n: exit $rc: $(head -c 300 <<<"$out")"; fi
}
expect_reason() { # name reason command...
	local n=$1 why=$2 out rc; shift 2
	out=$("$@" 2>&1); rc=$?
	if [ $rc -eq 1 ] && grep -qE "^verify: '.*': ($why):" <<<"$out"; then
		ok "$n ($(grep -oE "($why)" <<<"$out" | head -1))"
	else not_ok "$n: exit $rc, wanted 1 with '$why': $(head -c 300 <<<"$out")"; fi
}
# flip FILE OUT OFFSET_EXPR: copy FILE changing one character at the
# python index expression (s is the text) to another base64 character.
flip() {
	python3 - "$1" "$2" "$3" <<'PY'
import sys
s = open(sys.argv[1]).read()
i = eval(sys.argv[3])
c = 'A' if s[i] != 'A' else 'B'
open(sys.argv[2], 'w').write(s[:i] + c + s[i + 1:])
PY
}

# ---- XML signed by lienthong ---------------------------------------------
for spec in RS256:rsa PS256:rsa ES256:ec RS384:rsa RS512:rsa PS384:rsa \
	PS512:rsa ES384:ec384 ES512:ec521 EdDSA:ed25519; do
	alg=${spec%%:*} k=$(keyfile "${spec##*:}")
	out=$TMP/x-$alg.xml
	if sign --alg "$alg" --key "$k.key" --cert "$k.pem" \
		--chain "$P/chain.pem" "$XML" >"$out" 2>"$TMP/err"; then
		ok "sign xml $alg"
	else
		not_ok "sign xml $alg: $(cat "$TMP/err")"; continue
	fi
	expect_ok "verify xml $alg with the trust store" "$MINISTRY" \
		verify --trust "$TRUST" "$out"
	case $alg in PS* | EdDSA)
		# Debian's xmlsec1 1.2.37 has neither RSA-PSS (shaNNN-rsa-MGF1)
		# nor EdDSA (eddsa-ed25519).
		if xmlsec1 --verify --trusted-pem "$P/root.pem" \
			--enabled-key-data x509 "$out" >/dev/null 2>&1; then
			ok "xmlsec1 verifies xml $alg"
		else
			skip "xmlsec1 verifies xml $alg: this xmlsec1 lacks it"
		fi
		continue ;;
	esac
	if xmlsec1 --verify --trusted-pem "$P/root.pem" --enabled-key-data x509 \
		"$out" >"$TMP/err" 2>&1; then
		ok "xmlsec1 verifies xml $alg signed by lienthong"
	else
		not_ok "xmlsec1 verifies xml $alg: $(tail -3 "$TMP/err")"
	fi
done

# ---- XML signed by xmlsec1 -------------------------------------------------
for spec in rsa-sha256:rsa:xmlenc#sha256 ecdsa-sha256:ec:xmlenc#sha256 \
	rsa-sha512:rsa:xmlenc#sha512 ecdsa-sha384:ec384:xmldsig-more#sha384 \
	ecdsa-sha512:ec521:xmlenc#sha512; do
	m=${spec%%:*} k=${spec#*:} dg=${spec##*:}
	k=${k%%:*} kf=$(keyfile "$k")
	cat >"$TMP/tmpl-$m.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<message xmlns="urn:lienthong:message:1"><body>from xmlsec1</body><Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><SignedInfo><CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/><SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#$m"/><Reference URI=""><Transforms><Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/><Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></Transforms><DigestMethod Algorithm="http://www.w3.org/2001/04/$dg"/><DigestValue/></Reference></SignedInfo><SignatureValue/><KeyInfo><X509Data/></KeyInfo></Signature></message>
EOF
	if xmlsec1 --sign --privkey-pem "$kf.key,$kf.pem,$P/inter.pem" \
		--output "$TMP/xs-$m.xml" "$TMP/tmpl-$m.xml" >"$TMP/err" 2>&1; then
		expect_ok "lienthong verifies xml $m signed by xmlsec1" "$MINISTRY" \
			verify --trust "$TRUST" "$TMP/xs-$m.xml"
	else
		not_ok "xmlsec1 --sign $m: $(tail -3 "$TMP/err")"
	fi
done

# ---- JSON signed by lienthong ---------------------------------------------
for spec in ES256:ec RS256:rsa PS256:rsa EdDSA:ed25519 RS384:rsa RS512:rsa \
	PS384:rsa PS512:rsa ES384:ec384 ES512:ec521; do
	alg=${spec%%:*} k=${spec##*:} kf=$(keyfile "${spec##*:}")
	"$JWK" "$kf.key" >"$TMP/pub-$k.jwk" 2>/dev/null
	"$JWK" --private "$kf.key" >"$TMP/priv-$k.jwk" 2>/dev/null
	for fmt in compact flattened; do
		out=$TMP/j-$alg-$fmt.jws
		if ! sign --alg "$alg" --format "$fmt" --key "$kf.key" \
			--cert "$kf.pem" --chain "$P/chain.pem" "$JSON" \
			>"$out" 2>"$TMP/err"; then
			not_ok "sign json $alg $fmt: $(cat "$TMP/err")"; continue
		fi
		expect_ok "verify jws $alg $fmt with the trust store" "$MINISTRY" \
			verify --trust "$TRUST" "$out"
		if [ "$alg" = EdDSA ]; then
			skip "jose verifies jws EdDSA: jose 11 has no EdDSA"
			continue
		fi
		# jose reads a compact JWS only without the final newline.
		tr -d '\n' <"$out" >"$out.nonl"
		if jose jws ver -i "$out.nonl" -k "$TMP/pub-$k.jwk" -O "$TMP/pay" \
			>"$TMP/err" 2>&1; then
			ok "jose verifies jws $alg $fmt signed by lienthong"
		else
			not_ok "jose verifies jws $alg $fmt: $(cat "$TMP/err")"
		fi
	done
done
expect_ok "verify jws EdDSA with the public jwk" "key '" \
	verify --key "$TMP/pub-ed25519.jwk" "$TMP/j-EdDSA-compact.jws"

# Detached payload: verified with --payload (the message as it is; the
# signature is over its canonical form).
if sign --detached --key "$P/ministry-ec.key" --cert "$P/ministry-ec.pem" \
	--chain "$P/chain.pem" "$JSON" >"$TMP/det.jws" 2>"$TMP/err"; then
	ok "sign json detached"
	expect_ok "verify detached jws with --payload" "$MINISTRY" \
		verify --trust "$TRUST" --payload "$JSON" "$TMP/det.jws"
	sed 's/6.09/6.19/' "$JSON" >"$TMP/other.json"
	expect_reason "detached jws with another payload" "bad signature" \
		verify --trust "$TRUST" --payload "$TMP/other.json" "$TMP/det.jws"
	expect_reason "detached jws without its payload" "malformed" \
		verify --trust "$TRUST" "$TMP/det.jws"
	# jose gets the canonical payload (python's form equals RFC 8785 for
	# this message: no number needs ECMAScript formatting).
	python3 -c 'import json,sys; sys.stdout.write(json.dumps(json.load(open(sys.argv[1])), sort_keys=True, separators=(",", ":"), ensure_ascii=False))' \
		"$JSON" >"$TMP/canon.json"
	tr -d '\n' <"$TMP/det.jws" >"$TMP/det.nonl"
	if jose jws ver -i "$TMP/det.nonl" -I "$TMP/canon.json" \
		-k "$TMP/pub-ec.jwk" >/dev/null 2>"$TMP/err"; then
		ok "jose verifies the detached jws"
	else
		not_ok "jose verifies the detached jws: $(cat "$TMP/err")"
	fi
else
	not_ok "sign json detached: $(cat "$TMP/err")"
fi

# ---- JSON signed by jose ----------------------------------------------------
X5C=$(python3 -c '
import json, sys
pem = lambda f: "".join(l.strip() for l in open(f) if not l.startswith("-----"))
print(json.dumps([pem(sys.argv[1]), pem(sys.argv[2])]))' "$P/ministry-ec.pem" "$P/inter.pem")
for spec in ES256:ec RS256:rsa PS256:rsa; do
	alg=${spec%%:*} k=${spec##*:}
	x5c=$(python3 -c '
import json, sys
pem = lambda f: "".join(l.strip() for l in open(f) if not l.startswith("-----"))
print(json.dumps([pem(sys.argv[1]), pem(sys.argv[2])]))' "$P/ministry-$k.pem" "$P/inter.pem")
	if jose jws sig -I "$JSON" -k "$TMP/priv-$k.jwk" -c -o "$TMP/jose-$alg.jws" \
		-s "{\"protected\":{\"alg\":\"$alg\",\"x5c\":$x5c}}" 2>"$TMP/err"; then
		expect_ok "lienthong verifies jws $alg signed by jose (x5c)" "$MINISTRY" \
			verify --trust "$TRUST" "$TMP/jose-$alg.jws"
	else
		not_ok "jose jws sig $alg: $(cat "$TMP/err")"
	fi
done
if jose jws sig -I "$JSON" -k "$TMP/priv-ec.jwk" -o "$TMP/jose-nox5c.jws" 2>/dev/null; then
	expect_ok "lienthong verifies jose's flattened jws with the jwk" "key '" \
		verify --key "$TMP/pub-ec.jwk" "$TMP/jose-nox5c.jws"
	expect_reason "jose jws without x5c against the trust store" "untrusted" \
		verify --trust "$TRUST" "$TMP/jose-nox5c.jws"
fi

# ---- the allow-list ------------------------------------------------------------
expect_reason "xml RS256 refused by --alg PS256,ES256" "unsupported algorithm" \
	verify --trust "$TRUST" --alg PS256,ES256 "$TMP/x-RS256.xml"
expect_reason "jws RS512 refused by --alg PS256,ES256" "unsupported algorithm" \
	verify --trust "$TRUST" --alg PS256,ES256 "$TMP/j-RS512-compact.jws"
expect_ok "xml PS256 verifies with --alg PS256,ES256" "$MINISTRY" \
	verify --trust "$TRUST" --alg PS256,ES256 "$TMP/x-PS256.xml"
expect_ok "jws ES256 verifies with --alg PS256,ES256" "$MINISTRY" \
	verify --trust "$TRUST" --alg PS256,ES256 "$TMP/j-ES256-compact.jws"
out=$(verify --trust "$TRUST" --alg PS256,XS512 "$TMP/x-PS256.xml" 2>&1); rc=$?
if [ $rc -eq 2 ] && grep -q "'XS512'" <<<"$out"; then
	ok "--alg with an unknown name is a usage error naming it"
else
	not_ok "--alg PS256,XS512: exit $rc: $out"
fi
expect_exit "--alg HS256 with a trust store is a usage error" 2 \
	verify --trust "$TRUST" --alg HS256 "$TMP/j-ES256-compact.jws"

# ---- python3-jwcrypto: PS384, PS512, RS512, ES384 both ways ----------------------
JWPY=
for py in python3 /usr/bin/python3; do
	"$py" -c 'import jwcrypto.jws' 2>/dev/null && JWPY=$py && break
done
if [ -z "$JWPY" ]; then
	skip "jwcrypto interop: python3-jwcrypto missing (apt-get install python3-jwcrypto)"
else
	for spec in PS384:rsa PS512:rsa RS512:rsa ES384:ec384; do
		alg=${spec%%:*} k=${spec##*:} kf=$(keyfile "${spec##*:}")
		if "$JWPY" - "$TMP/pub-$k.jwk" "$TMP/j-$alg-compact.jws" "$alg" \
			>"$TMP/err" 2>&1 <<'PY'
import sys
from jwcrypto import jwk, jws
key = jwk.JWK.from_json(open(sys.argv[1]).read())
t = jws.JWS()
t.deserialize(open(sys.argv[2]).read().strip())
t.verify(key, alg=sys.argv[3])
PY
		then
			ok "jwcrypto verifies jws $alg signed by lienthong"
		else
			not_ok "jwcrypto verifies jws $alg: $(tail -2 "$TMP/err")"
		fi
		if "$JWPY" - "$TMP/priv-$k.jwk" "$JSON" "$alg" "$kf.pem" "$P/inter.pem" \
			>"$TMP/jwc-$alg.jws" 2>"$TMP/err" <<'PY'
import json, sys
from jwcrypto import jwk, jws
pem = lambda f: "".join(l.strip() for l in open(f) if not l.startswith("-----"))
key = jwk.JWK.from_json(open(sys.argv[1]).read())
t = jws.JWS(open(sys.argv[2], "rb").read())
t.add_signature(key, None, json.dumps({"alg": sys.argv[3], "x5c": [pem(sys.argv[4]), pem(sys.argv[5])]}))
print(t.serialize(compact=True))
PY
		then
			expect_ok "lienthong verifies jws $alg signed by jwcrypto (x5c)" "$MINISTRY" \
				verify --trust "$TRUST" "$TMP/jwc-$alg.jws"
		else
			not_ok "jwcrypto signs $alg: $(tail -2 "$TMP/err")"
		fi
	done
fi

# ---- one changed byte --------------------------------------------------------
X=$TMP/x-ES256.xml
sed 's/6\.09/6.08/' "$X" >"$TMP/t-content.xml"
expect_reason "xml with a changed content byte" "bad digest" \
	verify --trust "$TRUST" "$TMP/t-content.xml"
flip "$X" "$TMP/t-sig.xml" "s.index('<SignatureValue>') + 30"
expect_reason "xml with a changed SignatureValue byte" "bad signature" \
	verify --trust "$TRUST" "$TMP/t-sig.xml"
flip "$X" "$TMP/t-dv.xml" "s.index('<DigestValue>') + 20"
expect_reason "xml with a changed DigestValue byte" "bad digest|bad signature" \
	verify --trust "$TRUST" "$TMP/t-dv.xml"
sed 's/6\.09/6.08/' "$TMP/x-PS256.xml" >"$TMP/t-pss.xml"
expect_reason "xml RSA-PSS with a changed content byte" "bad digest" \
	verify --trust "$TRUST" "$TMP/t-pss.xml"
flip "$TMP/x-PS256.xml" "$TMP/t-pss2.xml" "s.index('<SignatureValue>') + 30"
expect_reason "xml RSA-PSS with a changed SignatureValue byte" "bad signature" \
	verify --trust "$TRUST" "$TMP/t-pss2.xml"

J=$TMP/j-ES256-compact.jws
flip "$J" "$TMP/t-pay.jws" "s.index('.') + (s.rindex('.') - s.index('.')) // 2"
expect_reason "jws with a changed payload byte" "bad signature" \
	verify --trust "$TRUST" "$TMP/t-pay.jws"
flip "$J" "$TMP/t-hdr.jws" "5"
expect_reason "jws with a changed header byte" "bad signature|malformed" \
	verify --trust "$TRUST" "$TMP/t-hdr.jws"
flip "$J" "$TMP/t-sig.jws" "s.rindex('.') + 20"
expect_reason "jws with a changed signature byte" "bad signature" \
	verify --trust "$TRUST" "$TMP/t-sig.jws"

# ---- expired, revoked, untrusted signers -------------------------------------
for c in expired:expired revoked:revoked rogue:untrusted; do
	n=${c%%:*} why=${c##*:}
	chain=$P/chain.pem
	[ "$n" = rogue ] && chain=$P/rogue-root.pem
	sign --key "$P/$n.key" --cert "$P/$n.pem" --chain "$chain" "$XML" \
		>"$TMP/$n.xml" 2>/dev/null
	expect_reason "xml signed by the $n certificate" "$why" \
		verify --trust "$TRUST" "$TMP/$n.xml"
	sign --key "$P/$n.key" --cert "$P/$n.pem" --chain "$chain" "$JSON" \
		>"$TMP/$n.jws" 2>/dev/null
	expect_reason "jws signed by the $n certificate" "$why" \
		verify --trust "$TRUST" "$TMP/$n.jws"
done
# Without the intermediate the chain cannot be built.
sign --key "$P/hub.key" --cert "$P/hub.pem" "$XML" >"$TMP/nochain.xml" 2>/dev/null
expect_reason "xml without the intermediate" "untrusted" \
	verify --trust "$TRUST" "$TMP/nochain.xml"
for who in hub partner-a partner-b; do
	sign --key "$P/$who.key" --cert "$P/$who.pem" --chain "$P/chain.pem" "$XML" \
		>"$TMP/$who.xml" 2>/dev/null
	expect_ok "xml signed by $who" "CN=" verify --trust "$TRUST" "$TMP/$who.xml"
done

# ---- signature wrapping and refused algorithms ---------------------------------
python3 - "$X" "$TMP" <<'PY'
import re, sys
s = open(sys.argv[1]).read()
t = sys.argv[2]
body = s[s.index('<message'):]
sig = body[body.index('<Signature'):body.index('</Signature>') + 12]
# XSW: the signed message moved into a wrapper, evil content as the root's.
w = '<message xmlns="urn:lienthong:message:1"><indicators><indicator code="CPI">99</indicator></indicators><wrapper>' + body.replace('<?xml version="1.0" encoding="UTF-8"?>', '') + '</wrapper></message>'
open(t + '/w-moved.xml', 'w').write(w)
# A second Signature.
open(t + '/w-two.xml', 'w').write(s.replace('</message>', sig + '</message>'))
# A Reference to an element instead of the whole document.
open(t + '/w-uri.xml', 'w').write(s.replace('Reference URI=""', 'Reference URI="#msg-2024-0001"'))
# An extra transform.
open(t + '/w-tr.xml', 'w').write(s.replace('<Transforms>', '<Transforms><Transform Algorithm="http://www.w3.org/TR/1999/REC-xpath-19991116"/>'))
# SHA-1 digest.
open(t + '/w-sha1.xml', 'w').write(s.replace('http://www.w3.org/2001/04/xmlenc#sha256', 'http://www.w3.org/2000/09/xmldsig#sha1'))
PY
expect_reason "xml signature moved into a wrapper" "wrapped" verify --trust "$TRUST" "$TMP/w-moved.xml"
expect_reason "xml with two Signatures" "wrapped" verify --trust "$TRUST" "$TMP/w-two.xml"
expect_reason "xml Reference to an element" "wrapped" verify --trust "$TRUST" "$TMP/w-uri.xml"
expect_reason "xml with an extra transform" "wrapped" verify --trust "$TRUST" "$TMP/w-tr.xml"
expect_reason "xml with a sha1 digest" "unsupported algorithm" verify --trust "$TRUST" "$TMP/w-sha1.xml"

b64u() { python3 -c 'import base64,sys; print(base64.urlsafe_b64encode(sys.argv[1].encode()).decode().rstrip("="))' "$1"; }
printf '%s.%s.' "$(b64u '{"alg":"none"}')" "$(b64u '{"a":1}')" >"$TMP/none.jws"
expect_reason "jws alg none" "unsupported algorithm" verify --trust "$TRUST" "$TMP/none.jws"
printf '{"kty":"oct","k":"%s"}' "$(b64u 0123456789abcdef0123456789abcdef)" >"$TMP/oct.jwk"
if jose jws sig -I "$JSON" -k "$TMP/oct.jwk" -c -o "$TMP/hs.jws" 2>/dev/null; then
	expect_ok "jws HS256 with a symmetric jwk" "key '" verify --key "$TMP/oct.jwk" "$TMP/hs.jws"
	expect_reason "jws HS256 with a trust store" "unsupported algorithm" \
		verify --trust "$TRUST" "$TMP/hs.jws"
fi

# ---- keys: encrypted PEM, usage errors ------------------------------------------
export LT_TEST_PASS=lienthong-test
expect_ok "sign with an encrypted key (--pass env:)" "$MINISTRY" bash -c \
	'"$@" sign --key '"$P/ministry-ec-enc.key"' --pass env:LT_TEST_PASS --cert '"$P/ministry-ec.pem"' --chain '"$P/chain.pem $XML"' >'"$TMP/enc.xml"' && "$@" verify --trust '"$TRUST $TMP/enc.xml" _ "${LT[@]}"
expect_ok "sign with an encrypted key (--pass file:)" "$MINISTRY" bash -c \
	'"$@" sign --key '"$P/ministry-ec-enc.key"' --pass file:'"$P/pass.txt"' --cert '"$P/ministry-ec.pem $JSON"' >'"$TMP/enc.jws"' && "$@" verify --key '"$P/ministry-ec.pem $TMP/enc.jws" _ "${LT[@]}"
expect_exit "encrypted key without --pass is a usage error" 2 \
	sign --key "$P/ministry-ec-enc.key" --cert "$P/ministry-ec.pem" "$XML"
expect_exit "certificate of another key is a usage error" 2 \
	sign --key "$P/ministry-ec.key" --cert "$P/hub.pem" "$XML"
expect_exit "verify without --trust or --key is a usage error" 2 verify "$X"
expect_exit "verify of a missing file is an i/o error" 3 \
	verify --trust "$TRUST" "$TMP/does-not-exist.xml"
expect_exit "ES384 with a P-256 key is a usage error" 2 \
	sign --alg ES384 --key "$P/ministry-ec.key" --cert "$P/ministry-ec.pem" "$XML"
expect_exit "PS256 with an EC key is a usage error" 2 \
	sign --alg PS256 --key "$P/ministry-ec.key" --cert "$P/ministry-ec.pem" "$JSON"
expect_exit "HS256 cannot sign with a private key" 1 \
	sign --alg HS256 --key "$P/ministry-ec.key" --cert "$P/ministry-ec.pem" "$JSON"

# ---- PKCS#11 (SoftHSM2 through the OpenSSL pkcs11 engine) ----------------------
MODULE=
for m in /usr/lib/softhsm/libsofthsm2.so /usr/lib/*/softhsm/libsofthsm2.so; do
	[ -f "$m" ] && MODULE=$m && break
done
ENGINE=$(ls /usr/lib/*/engines-3/pkcs11.so 2>/dev/null | head -1)
if ! command -v softhsm2-util >/dev/null 2>&1 || [ -z "$MODULE" ] || [ -z "$ENGINE" ]; then
	skip "pkcs11: softhsm2-util or libengine-pkcs11-openssl missing (apt-get install softhsm2 libengine-pkcs11-openssl)"
else
	export SOFTHSM2_CONF=$TMP/softhsm2.conf
	mkdir -p "$TMP/tokens"
	printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' \
		"$TMP/tokens" >"$SOFTHSM2_CONF"
	export LT_PIN=1234
	if softhsm2-util --init-token --free --label lienthong --pin 1234 --so-pin 5678 \
		>/dev/null 2>&1; then
		for k in rsa ec; do
			id=01; [ $k = ec ] && id=02
			openssl pkcs8 -topk8 -nocrypt -in "$P/ministry-$k.key" -out "$TMP/$k.p8"
			softhsm2-util --import "$TMP/$k.p8" --token lienthong --label "ministry-$k" \
				--id $id --pin 1234 >/dev/null 2>&1
			uri="pkcs11:token=lienthong;object=ministry-$k;type=private?module-path=$MODULE"
			# The token libraries keep global state LeakSanitizer reports.
			for f in "$XML" "$JSON"; do
				o=$TMP/hsm-$k.${f##*.}.signed
				if ASAN_OPTIONS=detect_leaks=0 "${LT[@]}" sign --key "$uri" --pass env:LT_PIN \
					--cert "$P/ministry-$k.pem" --chain "$P/chain.pem" "$f" \
					>"$o" 2>"$TMP/err"; then
					expect_ok "pkcs11 $k key signs ${f##*.}" "$MINISTRY" \
						verify --trust "$TRUST" "$o"
				else
					not_ok "pkcs11 $k key signs ${f##*.}: $(cat "$TMP/err")"
				fi
			done
		done
		if xmlsec1 --verify --trusted-pem "$P/root.pem" --enabled-key-data x509 \
			"$TMP/hsm-ec.xml.signed" >/dev/null 2>&1; then
			ok "xmlsec1 verifies xml signed in the token"
		else
			not_ok "xmlsec1 verifies xml signed in the token"
		fi
	else
		not_ok "softhsm2-util --init-token failed"
	fi
fi
finish
