#!/bin/bash
# XML-DSig samples of the xmlsec project (../shared/testsuites/xmldsig):
# each case of MANIFEST.json must give its "expected" result. The xmlsec1
# command line of each case is translated for $B/tools/sign_xmlvec, which
# verifies with the interop profile (any shape xmlsec knows; RSA-PSS, which
# Debian's xmlsec 1.2.37 lacks, by hand). Skipped when the folder is absent.
set -u
. "${TOP:-$(pwd)}/tests/lib.sh"
: "${B:=build/rel}"
case "$B" in /*) ;; *) B=$TOP/$B ;; esac
SUITE=$SHARED/testsuites/xmldsig
if [ ! -d "$SUITE" ]; then
	echo "skip xmldsig: $SUITE is absent (vectors live outside the repository)"
	echo "0 passed, 0 failed, 1 skipped"
	exit 0
fi
VEC=$B/tools/sign_xmlvec
if [ ! -x "$VEC" ]; then
	not_ok "$VEC is not built (make B=$B $VEC)"
	finish; exit 1
fi

# One line per case: expected|name|trusted files|arguments.
python3 - "$SUITE/MANIFEST.json" >"$TMP/cases" <<'PY'
import json, shlex, sys
m = json.load(open(sys.argv[1]))
for c in m["cases"]:
    t = shlex.split(c["xmlsec1_cli"])[2:]
    args, trusted, i = [], [], 0
    while i < len(t):
        a = t[i]
        if a.startswith("--pubkey-pem"):
            args += ["--pubkey", t[i + 1]]; i += 2
        elif a == "--trusted-pem":
            trusted.append(t[i + 1]); i += 2
        elif a == "--untrusted-pem":
            args += ["--untrusted", t[i + 1]]; i += 2
        elif a == "--hmackey":
            args += ["--hmac", t[i + 1]]; i += 2
        elif a == "--enabled-key-data":
            if "der-encoded-key-value" in t[i + 1]:
                args.append("--keyvalue")
            i += 2
        else:
            args.append(a); i += 1
    name = c["file"] + (" (" + c["variant"] + ")" if "variant" in c else "")
    print("|".join([c["expected"], name, " ".join(trusted), " ".join(args)]))
PY

n=0
while IFS='|' read -r want name trusted args; do
	n=$((n + 1))
	extra=()
	if [ -n "$trusted" ]; then
		mkdir -p "$TMP/trust$n"
		for f in $trusted; do cp "$SUITE/$f" "$TMP/trust$n/"; done
		extra=(--trust "$TMP/trust$n")
	fi
	# shellcheck disable=SC2086
	got=$(cd "$SUITE" && "$VEC" "${extra[@]}" $args 2>&1)
	case "$got" in valid) res=valid ;; invalid*) res=invalid ;; *) res=error ;; esac
	if [ "$res" = "$want" ]; then
		ok "xmldsig $name: $want"
	else
		not_ok "xmldsig $name: got '$got', wanted $want"
	fi
done <"$TMP/cases"
[ "$n" -gt 0 ] || not_ok "xmldsig: no case read from MANIFEST.json"
finish
