#!/bin/bash
# bench_sign.sh - signatures and verifications per second of a 2 KB
# indicator report, per algorithm: lienthong (tests/tools/bench_sign.c)
# next to `openssl speed` for the same key type (the raw private- and
# public-key operation, no message handling) and Node's xml-crypto and jose
# (bench/sign.js) on the same messages and keys, runs interleaved.
# Target (issue 4): XML-DSig ECDSA signing at >= 30% of the raw
# `openssl speed` ECDSA P-256 sign rate; bench_sign.c also times that raw
# operation itself in slices alternating with the signing (same key, same
# process), the comparison that holds on a machine shared with others.
# Writes $RESULTS/sign.json.
set -euo pipefail
: "${TOP:=$PWD}" "${B:=build/rel}" "${LIENTHONG:=$TOP/bin/lienthong}"
: "${RESULTS:=$TOP/bench/results}" "${WORK:=$TOP/bench/work}"
RUNS=${BENCH_RUNS:-5} SECS=${BENCH_SECS:-0.5}
W=$WORK/sign
rm -rf "$W"
mkdir -p "$W/signed"
sh "$TOP/certs/mkpki.sh" "$WORK/pki" >/dev/null
python3 "$TOP/bench/gen_inputs.py" "$TOP/conf/examples/indicator-report-2024-targets.json" "$W" >/dev/null
# the 2 KB forms: ir-2k.json, and the XML of the two-observation report
"$LIENTHONG" convert --to xml "$W/ir-1k.json" >"$W/ir-2k.xml"
echo "sign: lienthong, openssl speed, xml-crypto/jose ($RUNS interleaved runs)" >&2
for r in $(seq "$RUNS"); do
	"$TOP/$B/tools/bench_sign" "$WORK/pki" "$W/ir-2k.xml" "$W/ir-2k.json" 1 "$SECS" \
		"$W/signed" >"$W/lienthong.$r.json"
	node "$TOP/bench/sign.js" "$WORK/pki" "$W/ir-2k.xml" "$W/ir-2k.json" 1 "$SECS" >"$W/node.$r.json"
	openssl speed -seconds 1 rsa2048 ecdsap256 ed25519 >"$W/openssl.$r.txt" 2>/dev/null
done
openssl version >"$W/openssl-version.txt"

python3 - "$W" "$RESULTS" "$RUNS" <<'EOP'
import json, os, re, sys, glob
sys.path.insert(0, os.path.join(os.environ.get("TOP", "."), "bench"))
import benchlib as bl
w, results, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])

def collect(prefix, keyf):
    out = {}
    for f in sorted(glob.glob(os.path.join(w, prefix + ".*.json"))):
        d = json.load(open(f))
        for o in d["ops"]:
            out.setdefault(keyf(o), []).extend(o["per_s"])
    return out, d
lt, ltd = collect("lienthong", lambda o: (o["format"], o["alg"], o["op"]))
nd, ndd = collect("node", lambda o: (o["format"], o["alg"], o["op"]))
ossl = {}
for f in sorted(glob.glob(os.path.join(w, "openssl.*.txt"))):
    for line in open(f):
        m = re.match(r"\s*(rsa 2048 bits|256 bits ecdsa \(nistp256\)|253 bits EdDSA \(Ed25519\))\s+\S+s\s+\S+s\s+([\d.]+)\s+([\d.]+)", line)
        if m:
            k = {"rsa": "rsa", "256": "ec", "253": "ed"}[m.group(1).split()[0]]
            ossl.setdefault((k, "sign"), []).append(float(m.group(2)))
            ossl.setdefault((k, "verify"), []).append(float(m.group(3)))
keytype = {"RS256": "rsa", "PS256": "rsa", "ES256": "ec", "EdDSA": "ed"}
kname = {"rsa": "RSA 2048", "ec": "ECDSA P-256", "ed": "Ed25519"}
over = open(os.path.join(w, "openssl-version.txt")).read().strip()
xname = {"RS256": "RSA-SHA256", "PS256": "RSA-PSS-SHA256", "ES256": "ECDSA-P256-SHA256"}
rows = []
for alg in ("RS256", "PS256", "ES256"):
    kt = keytype[alg]
    o = "`openssl speed` %s sign" % kname[kt]
    rows.append(bl.row("XML-DSig %s: sign a parsed 2 KB document" % xname[alg],
        "signatures/s", lt.get(("xml", alg, "sign")),
        baseline="bare %s sign of a digest (what `openssl speed` times), same key, alternating slices" % kname[kt],
        baseline_values=lt.get(("xml", alg, "raw-sign")),
        target=">= 30% of the raw sign rate" if alg == "ES256" else None,
        met=(lambda v, b: v >= 0.3 * b) if alg == "ES256" else None))
    rows.append(bl.row("XML-DSig %s: sign a parsed 2 KB document" % xname[alg],
        "signatures/s", lt.get(("xml", alg, "sign")), baseline=o,
        baseline_values=ossl.get((kt, "sign")),
        note="same target as the row above; that row's baseline runs in alternating slices with the "
             "signing, so its ratio holds when the machine is shared" if alg == "ES256" else None))
    rows.append(bl.row("XML-DSig %s: parse + sign + serialize" % xname[alg],
        "signatures/s", lt.get(("xml", alg, "parse-sign-serialize")),
        baseline="xml-crypto computeSignature + getSignedXml",
        baseline_values=nd.get(("xml", alg, "sign")),
        note="xml-crypto 6 has no RSA-PSS or ECDSA; added as custom algorithms on node:crypto" if alg != "RS256" else None))
    rows.append(bl.row("XML-DSig %s: parse + verify, pinned certificate" % xname[alg],
        "verifications/s", lt.get(("xml", alg, "verify-pinned")),
        baseline="xml-crypto checkSignature (pinned key)",
        baseline_values=nd.get(("xml", alg, "verify"))))
    rows.append(bl.row("XML-DSig %s: parse + verify against the trust store (chain, validity, CRL)" % xname[alg],
        "verifications/s", lt.get(("xml", alg, "verify-trust")),
        baseline="`openssl speed` %s verify" % kname[kt],
        baseline_values=ossl.get((kt, "verify"))))
    rows.append(bl.row("XML-DSig %s: parse + verify against the trust store (chain, validity, CRL)" % xname[alg],
        "verifications/s", lt.get(("xml", alg, "verify-trust")),
        baseline="the same with the verified-chain cache off (chain decoded, built and checked every time)",
        baseline_values=lt.get(("xml", alg, "verify-trust-uncached"))))
for alg in ("RS256", "PS256", "ES256", "EdDSA"):
    kt = keytype[alg]
    if lt.get(("jws", alg, "raw-sign")):
        rows.append(bl.row("JWS %s: sign (RFC 8785 form, flattened, x5c)" % alg,
            "signatures/s", lt.get(("jws", alg, "sign")),
            baseline="bare %s sign of a digest, same key, alternating slices" % kname[kt],
            baseline_values=lt.get(("jws", alg, "raw-sign"))))
    rows.append(bl.row("JWS %s: sign (RFC 8785 form, flattened, x5c)" % alg,
        "signatures/s", lt.get(("jws", alg, "sign")),
        baseline="`openssl speed` %s sign" % kname[kt],
        baseline_values=ossl.get((kt, "sign"))))
    rows.append(bl.row("JWS %s: sign (RFC 8785 form, flattened, x5c)" % alg,
        "signatures/s", lt.get(("jws", alg, "sign")),
        baseline="jose FlattenedSign (no RFC 8785 step)",
        baseline_values=nd.get(("jws", alg, "sign"))))
    rows.append(bl.row("JWS %s: verify, pinned certificate" % alg,
        "verifications/s", lt.get(("jws", alg, "verify-pinned")),
        baseline="jose flattenedVerify (pinned key)",
        baseline_values=nd.get(("jws", alg, "verify"))))
    rows.append(bl.row("JWS %s: verify against the trust store (chain, validity, CRL)" % alg,
        "verifications/s", lt.get(("jws", alg, "verify-trust")),
        baseline="`openssl speed` %s verify" % kname[kt],
        baseline_values=ossl.get((kt, "verify"))))
    rows.append(bl.row("JWS %s: verify against the trust store (chain, validity, CRL)" % alg,
        "verifications/s", lt.get(("jws", alg, "verify-trust")),
        baseline="the same with the verified-chain cache off (chain decoded, built and checked every time)",
        baseline_values=lt.get(("jws", alg, "verify-trust-uncached"))))
notes = ("Message: a 2 KB indicator report (JSON 2,128 bytes; XML 2,356 bytes), keys from certs/mkpki.sh "
         "(RSA 2048, EC P-256, Ed25519; signer chain = leaf + intermediate). `openssl speed` (%s) times the "
         "raw private- or public-key operation on a digest, nothing else: it is the ceiling. lienthong's "
         "'sign a parsed document' is gw_sign_xml on a parsed tree: exclusive C14N of the message, SHA-256, "
         "C14N of SignedInfo, the signature, base64, KeyInfo with the chain. 'parse + verify' parses the "
         "signed bytes, then checks digest and signature (pinned: the signer's certificate given; trust "
         "store: also chain building to the root, validity, key usage and the CRLs). The same message is "
         "verified again and again, so after the first one the trust-store rows find the verified chain in the "
         "verifier's cache (gateway/trust.c: keyed by the SHA-256 of the certificates presented, bounded by "
         "their notAfter, the CRLs' nextUpdate and a 300 s TTL; the signature is still checked every time), "
         "as for a partner that keeps its certificate; the 'cache off' baseline decodes, builds and checks the "
         "chain, CRLs included, on every message, which costs more than the signature itself. 'bare sign' is EVP_PKEY_sign of a "
         "32-byte digest with a context set up once, as `openssl speed` does, run by bench_sign.c in slices "
         "of a tenth of a run alternating with the signing. Node: %s; xml-crypto parses "
         "the string in every sign and verify, so it is compared with the parse-inclusive figures." % (over, ndd["impl"]))
bl.write(results, "sign", "Signing and verification (issue 4)", rows, notes)
EOP
