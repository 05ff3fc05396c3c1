#!/bin/bash
# audit_note.sh - the audit log's checkpoints as C2SP signed notes
# (tlog-checkpoint text signed with an Ed25519 key): `audit checkpoint
# --note` writes one and prints its verifier key; `audit verify-note` and
# Go's golang.org/x/mod/sumdb/note (not ours, built offline) both accept
# it and both refuse it after a change of its size, root or signature, or
# under another key; the text is the checkpoint's origin, size and root.
. tests/lib.sh
P=$TOP/$B/pki
sh "$TOP/certs/mkpki.sh" "$P" >/dev/null || { not_ok "make the test PKI"; finish; exit 1; }
ORIGIN=ministry.example.gov.vn/audit
cat >"$TMP/g.yaml" <<EOC
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
audit: {checkpoint_interval_s: 0, name: $ORIGIN}
EOC
openssl genpkey -algorithm ed25519 -out "$TMP/ed.key" 2>/dev/null
openssl genpkey -algorithm ed25519 -out "$TMP/other.key" 2>/dev/null
"$LIENTHONG" send -c "$TMP/g.yaml" "$TOP/conf/examples/indicator-report-2024-targets.json" >/dev/null 2>&1
expect_exit "audit checkpoint --note writes a signed note" 0 \
	"$LIENTHONG" audit checkpoint -c "$TMP/g.yaml" --note "$TMP/ed.key" -o "$TMP/cp.note"
VK=$(sed -n 's/^note verifier key: //p' "$TMP/err")
SIZE=$(sed -n 's/^checkpoint [0-9]*: \([0-9]*\) entries.*/\1/p' "$TMP/err")
ROOT=$(sed -n 's/^checkpoint [0-9]*: .* root \([0-9a-f]*\).*/\1/p' "$TMP/err")
check "... and prints its verifier key (NAME+HASH+KEY)" sh -c "echo '$VK' | grep -Eq '^$ORIGIN\+[0-9a-f]{8}\+[A-Za-z0-9+/]{44}\$'"
check "the text is the origin, the size and the root (base64) of the checkpoint" python3 - "$TMP/cp.note" "$ORIGIN" "$SIZE" "$ROOT" <<'EOP'
import base64, sys
lines = open(sys.argv[1], encoding="utf-8").read().split("\n")
assert lines[0] == sys.argv[2] and lines[1] == sys.argv[3], lines[:2]
assert base64.b64decode(lines[2]).hex() == sys.argv[4], lines[2]
assert lines[3] == "" and lines[4].startswith("\u2014 " + sys.argv[2] + " "), lines[3:5]
EOP
expect_exit "audit verify-note accepts it" 0 "$LIENTHONG" audit verify-note "$TMP/cp.note" --vkey "$VK"
# the changes an attacker would make
sed "2s/.*/$((SIZE + 1))/" "$TMP/cp.note" >"$TMP/size.note"
python3 - "$TMP/cp.note" "$TMP/root.note" "$TMP/sig.note" <<'EOP'
import sys
t = open(sys.argv[1], encoding="utf-8").read().split("\n")
r = list(t); r[2] = ("B" if r[2][0] != "B" else "C") + r[2][1:]
open(sys.argv[2], "w", encoding="utf-8").write("\n".join(r))
s = list(t); s[4] = s[4][:-6] + ("A" if s[4][-6] != "A" else "B") + s[4][-5:]
open(sys.argv[3], "w", encoding="utf-8").write("\n".join(s))
EOP
"$LIENTHONG" audit checkpoint -c "$TMP/g.yaml" --get latest --note "$TMP/other.key" -o "$TMP/o.note" 2>"$TMP/o.err"
OVK=$(sed -n 's/^note verifier key: //p' "$TMP/o.err")
for bad in size root sig; do
	expect_exit "audit verify-note refuses it with its $bad changed" 1 \
		"$LIENTHONG" audit verify-note "$TMP/$bad.note" --vkey "$VK"
done
expect_exit "audit verify-note refuses a note of another key" 1 \
	"$LIENTHONG" audit verify-note "$TMP/o.note" --vkey "$VK"
check "... naming the key it looked for" grep -q "no signature by '$ORIGIN'" "$TMP/err"
expect_exit "a verifier key whose hash does not match is refused" 1 \
	"$LIENTHONG" audit verify-note "$TMP/cp.note" --vkey "$(echo "$VK" | sed 's/+[0-9a-f]\{8\}+/+00000000+/')"
expect_exit "--note with an EC key is refused" 1 \
	"$LIENTHONG" audit checkpoint -c "$TMP/g.yaml" --get latest --note "$P/ministry-ec.key"
check "... saying it needs an Ed25519 key" grep -q "needs an Ed25519 key" "$TMP/err"
expect_exit "an origin with a space is refused" 1 \
	"$LIENTHONG" audit checkpoint -c "$TMP/g.yaml" --get latest --note "$TMP/ed.key" --origin "a b"

# Go's implementation of signed notes, built offline from Debian's packages
GOSRC=/usr/share/gocode/src/golang.org/x/mod/sumdb/note
if ! command -v go >/dev/null || [ ! -d "$GOSRC" ]; then
	skip "Go's sumdb/note (golang-go, golang-golang-x-mod-dev) not installed"
	finish
	exit 0
fi
mkdir -p "$TMP/gocache"
if (cd "$TOP/tests/integration/go/noteverify" &&
	GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE="$TMP/gocache" GOFLAGS= \
		go build -o "$TMP/noteverify" . ) >"$TMP/gobuild" 2>&1; then
	ok "Go's note verifier builds offline"
else
	not_ok "Go's note verifier builds offline: $(head -3 "$TMP/gobuild")"
	finish
	exit 1
fi
expect_exit "Go's sumdb/note accepts the note" 0 "$TMP/noteverify" "$TMP/cp.note" "$VK"
check "... and reads the same text" bash -c "'$TMP/noteverify' '$TMP/cp.note' '$VK' | cmp -s - <(head -3 '$TMP/cp.note')"
for bad in size root sig; do
	expect_exit "Go's sumdb/note refuses the note with its $bad changed" 1 \
		"$TMP/noteverify" "$TMP/$bad.note" "$VK"
done
expect_exit "Go's sumdb/note refuses a note of another key" 1 \
	"$TMP/noteverify" "$TMP/o.note" "$VK"
expect_exit "Go's sumdb/note accepts the other key's note under its own key" 0 \
	"$TMP/noteverify" "$TMP/o.note" "$OVK"
finish
