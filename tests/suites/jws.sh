#!/bin/bash
# RFC 7515 appendix A vectors (../shared/testsuites/jws): every JWS
# verifies with its JWK (A.6 with each key and with the key set), A.5
# ("alg": "none") is refused, and one changed byte in a signature is
# refused as a bad signature. Skipped when the shared folder is absent.
set -u
. "${TOP:-$(pwd)}/tests/lib.sh"
: "${B:=build/rel}"
case "$B" in /*) ;; *) B=$TOP/$B ;; esac
SUITE=$SHARED/testsuites/jws
if [ ! -d "$SUITE" ]; then
	echo "skip jws: $SUITE is absent (vectors live outside the repository)"
	echo "0 passed, 0 failed, 1 skipped"
	exit 0
fi
if "$LIENTHONG" help sign >/dev/null 2>&1; then LT=("$LIENTHONG")
else LT=("$B/tools/signcli"); fi

verify_ok() { # message key
	if out=$("${LT[@]}" verify --key "$SUITE/$2" "$SUITE/$1" 2>&1); then
		ok "jws $1 verifies with $2"
	else
		not_ok "jws $1 with $2: $out"
	fi
}
verify_refused() { # name reason message key
	local out rc
	out=$("${LT[@]}" verify --key "$4" "$3" 2>&1); rc=$?
	if [ $rc -eq 1 ] && grep -q ": $2:" <<<"$out"; then
		ok "jws $1 refused ($2)"
	else
		not_ok "jws $1: exit $rc, wanted 1 with '$2': $out"
	fi
}

verify_ok rfc7515_A.1.jwsc rfc7515_A.1.jwk
verify_ok rfc7515_A.2.jwsc rfc7515_A.2.jwk
verify_ok rfc7515_A.3.jwsc rfc7515_A.3.jwk
verify_ok rfc7515_A.4.jwsc rfc7515_A.4.jwk
verify_ok rfc7515_A.6.jwsg rfc7515_A.6.1.jwk
verify_ok rfc7515_A.6.jwsg rfc7515_A.6.2.jwk
verify_ok rfc7515_A.6.jwsg rfc7515_A.6.jwkset
verify_ok rfc7515_A.7.jwsf rfc7515_A.7.jwk
verify_refused "A.5 alg none" "unsupported algorithm" \
	"$SUITE/rfc7515_A.5.jwsc" "$SUITE/rfc7515_A.1.jwk"

# One changed byte in the middle of each compact signature.
for n in 1 2 3 4; do
	python3 - "$SUITE/rfc7515_A.$n.jwsc" "$TMP/A.$n.jwsc" <<'PY'
import sys
s = open(sys.argv[1]).read().strip()
i = s.rindex('.') + 10
s = s[:i] + ('A' if s[i] != 'A' else 'B') + s[i + 1:]
open(sys.argv[2], 'w').write(s)
PY
	verify_refused "A.$n with a changed signature byte" "bad signature" \
		"$TMP/A.$n.jwsc" "$SUITE/rfc7515_A.$n.jwk"
done
# A key of another type than the algorithm.
verify_refused "A.3 (ES256) with an RSA key" "bad signature" \
	"$SUITE/rfc7515_A.3.jwsc" "$SUITE/rfc7515_A.2.jwk"
finish
