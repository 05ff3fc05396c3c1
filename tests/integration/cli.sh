#!/bin/bash
# cli.sh - the command-line contract of the foundation: validate and convert
# every example, refuse every invalid and hostile input with exactly one
# located error and the right exit code, round-trip XML <-> JSON losslessly.
. tests/lib.sh
EX=$TOP/conf/examples
INV=$TOP/tests/data/invalid
HOS=$TOP/tests/data/hostile

# --version, --help, help COMMAND, usage errors
expect_exit "version" 0 "$LIENTHONG" --version
check "version prints the name" grep -q '^lienthong [0-9]' "$TMP/out"
expect_exit "help" 0 "$LIENTHONG" --help
expect_exit "help validate" 0 "$LIENTHONG" help validate
check "help validate shows usage" grep -q 'usage: lienthong validate' "$TMP/out"
expect_exit "help of an unknown command is a usage error" 2 "$LIENTHONG" help nosuch
expect_exit "unknown command is a usage error" 2 "$LIENTHONG" nosuch
expect_exit "validate with no file is a usage error" 2 "$LIENTHONG" validate
expect_exit "convert to a bad format is a usage error" 2 "$LIENTHONG" convert --to yaml "$EX/plan-1584.json"
expect_exit "missing file is an I/O error" 3 "$LIENTHONG" validate /nonexistent/file.json
check "missing file is named" grep -q "/nonexistent/file.json" "$TMP/err"

# every example is valid, in both forms
for f in "$EX"/*.json "$EX"/*.xml; do
	expect_exit "valid: $(basename "$f")" 0 "$LIENTHONG" validate "$f"
done
expect_exit "standard input is read with -" 0 sh -c "\"$LIENTHONG\" validate - < \"$EX/plan-1584.xml\""

# every invalid case: exit 1, exactly one located line matching EXPECT
while IFS=$'\t' read -r file re want; do
	case "$file" in ''|'#'*) continue ;; esac
	(cd "$INV" && "$LIENTHONG" validate "$file" >"$TMP/out" 2>"$TMP/err")
	rc=$?
	lines=$(wc -l <"$TMP/err")
	if [ $rc -eq 1 ] && [ "$lines" -eq "${want:-1}" ] && head -1 "$TMP/err" | grep -Eq "$re"; then
		ok "invalid: $file"
	else
		not_ok "invalid: $file: exit $rc, $lines lines: $(head -3 "$TMP/err")"
	fi
done <"$INV/EXPECT"
n_inv=$(ls "$INV" | grep -cv EXPECT)
n_exp=$(grep -cv '^#' "$INV/EXPECT")
check "every invalid file has an expectation ($n_inv files, $n_exp expectations)" test "$n_inv" -eq "$n_exp"

# hostile XML and JSON: refused quickly, nothing of /etc/passwd leaks
for f in "$HOS"/*; do
	start=$(date +%s%N)
	timeout 10 "$LIENTHONG" validate "$f" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	ms=$(( ($(date +%s%N) - start) / 1000000 ))
	if [ $rc -eq 1 ] && ! grep -q 'root:' "$TMP/out" "$TMP/err"; then
		ok "hostile refused: $(basename "$f") (${ms} ms)"
	else
		not_ok "hostile: $(basename "$f"): exit $rc: $(head -2 "$TMP/err")"
	fi
	timeout 10 "$LIENTHONG" convert --to json "$f" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	if [ $rc -eq 1 ] && ! grep -q 'root:' "$TMP/out" "$TMP/err"; then
		ok "hostile not converted: $(basename "$f")"
	else
		not_ok "hostile convert: $(basename "$f"): exit $rc"
	fi
done
check "external entity refused as a DTD" grep -q "refused" <("$LIENTHONG" validate "$HOS/xxe-passwd.xml" 2>&1)
python3 -c "print('<a>'*10000 + '</a>'*10000)" >"$TMP/deep.xml"
expect_exit "10,000-deep XML refused" 1 "$LIENTHONG" validate "$TMP/deep.xml"
check "depth refusal says why" grep -q "nested deeper" "$TMP/err"
python3 -c "print('['*10000 + ']'*10000)" >"$TMP/deep.json"
expect_exit "10,000-deep JSON refused" 1 "$LIENTHONG" validate "$TMP/deep.json"
head -c 70000000 /dev/zero | tr '\0' ' ' >"$TMP/huge.xml"
expect_exit "70 MB input refused" 1 "$LIENTHONG" validate "$TMP/huge.xml"
check "size refusal names the limit" grep -q "limit" "$TMP/err"

# lossless round trips: XML -> JSON -> XML is byte-identical (our XML is
# canonical output), JSON -> XML -> JSON is equal after RFC 8785
# canonicalization (member order and white space aside)
canon() { python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1])), sort_keys=True, ensure_ascii=False, separators=(",",":")))' "$1"; }
for f in "$EX"/*.xml; do
	b=$(basename "$f" .xml)
	if "$LIENTHONG" convert --to json "$f" >"$TMP/$b.json" &&
		"$LIENTHONG" convert --to xml "$TMP/$b.json" >"$TMP/$b.xml" &&
		cmp -s "$f" "$TMP/$b.xml" &&
		xmllint --c14n "$f" >"$TMP/a.c14n" && xmllint --c14n "$TMP/$b.xml" >"$TMP/b.c14n" &&
		cmp -s "$TMP/a.c14n" "$TMP/b.c14n"; then
		ok "XML -> JSON -> XML lossless: $b"
	else
		not_ok "XML -> JSON -> XML: $b"
	fi
done
for f in "$EX"/*.json; do
	b=$(basename "$f" .json)
	if "$LIENTHONG" convert --to xml "$f" >"$TMP/$b.x.xml" &&
		"$LIENTHONG" convert --to json "$TMP/$b.x.xml" >"$TMP/$b.x.json" &&
		[ "$(canon "$f")" = "$(canon "$TMP/$b.x.json")" ]; then
		ok "JSON -> XML -> JSON lossless: $b"
	else
		not_ok "JSON -> XML -> JSON: $b"
	fi
	check "example XML is the converter's output: $b" cmp -s "$TMP/$b.x.xml" "$EX/$b.xml"
done
expect_exit "convert refuses a secret message" 1 "$LIENTHONG" convert --to xml "$INV/secret.json"
check "... and writes nothing" test ! -s "$TMP/out"

# --schema with an explicit XSD and JSON Schema
expect_exit "--schema XSD" 0 "$LIENTHONG" validate --schema "$TOP/schemas/message-1.xsd" "$EX/plan-1584.xml"
expect_exit "--schema JSON Schema" 0 "$LIENTHONG" validate --schema "$TOP/schemas/message-1.schema.json" "$EX/plan-1584.json"
expect_exit "--schema JSON Schema, invalid data" 1 "$LIENTHONG" validate --schema "$TOP/schemas/message-1.schema.json" "$INV/bad-uuid.json"
echo '{"type": "nonsense"}' >"$TMP/bad-schema.json"
expect_exit "an invalid schema is exit 3" 3 "$LIENTHONG" validate --schema "$TMP/bad-schema.json" "$EX/plan-1584.json"

# the JSON log: one object per line, message id on lines about a message
"$LIENTHONG" --log "$TMP/log.jsonl" validate "$EX/plan-1584.json" "$INV/secret.json" >/dev/null 2>&1
check "log lines are JSON with message ids" python3 -c '
import json,sys
lines=[json.loads(l) for l in open(sys.argv[1])]
assert len(lines)==2, lines
assert lines[0]["event"]=="validated" and lines[0]["message_id"]=="5d2f4e6a-8b1c-4d3e-a5f6-158400000000"
assert lines[1]["event"]=="refused" and lines[1]["message_id"]
' "$TMP/log.jsonl"

# configuration
expect_exit "example configuration is valid" 0 "$LIENTHONG" config check "$TOP/conf/gateway.yaml"
printf 'gateway:\n  name: Ministry\n  organization:\n    orgId: 000.00.00.G12\n    name: x\n  colour: blue\n' >"$TMP/bad.yaml"
expect_exit "bad configuration refused" 1 "$LIENTHONG" config check "$TMP/bad.yaml"
check "config error names the key and line (name)" grep -q "bad.yaml:2: gateway.name" "$TMP/err"
check "config error names the unknown key" grep -q "colour" "$TMP/err"
printf 'gateway:\n  name: m\n  organization: {orgId: 000.00.00.G12, name: x}\nsigning:\n  key: k.pem\n  cert: c.pem\n  passphrase: hunter2\n' >"$TMP/inline.yaml"
expect_exit "inline secret refused" 1 "$LIENTHONG" config check "$TMP/inline.yaml"
check "inline secret error names signing.passphrase at line 7" grep -q "inline.yaml:7: signing.passphrase" "$TMP/err"
printf 'a: &x [1]\nb: *x\n' >"$TMP/alias.yaml"
expect_exit "YAML aliases refused" 1 "$LIENTHONG" config check "$TMP/alias.yaml"
# RFC 8259: any JSON value at the top level validates under --schema
# (issue 23); without a schema it is not a canonical message.
printf '{"type":["string","number","boolean","null"],"maxLength":3}' >"$TMP/scalar.schema.json"
for v in '"ab"' '12' '-1.5e3' 'true' 'false' 'null' ' "x" '; do
	printf '%s' "$v" >"$TMP/scalar.json"
	expect_exit "top-level JSON $v validates under --schema" 0 "$LIENTHONG" validate --schema "$TMP/scalar.schema.json" "$TMP/scalar.json"
done
printf '"abcd"' >"$TMP/scalar.json"
expect_exit "top-level JSON string over maxLength is invalid" 1 "$LIENTHONG" validate --schema "$TMP/scalar.schema.json" "$TMP/scalar.json"
check "the scalar error names the root" grep -q "(root): expected at most 3" "$TMP/err"
printf 'nul' >"$TMP/scalar.json"
expect_exit "a broken literal is a located parse error" 1 "$LIENTHONG" validate --schema "$TMP/scalar.schema.json" "$TMP/scalar.json"
check "the broken literal is located" grep -q "scalar.json:1:" "$TMP/err"
printf '12' >"$TMP/scalar.json"
expect_exit "a top-level number without --schema is not a message" 1 "$LIENTHONG" validate "$TMP/scalar.json"
check "without --schema the error asks for one" grep -q "name a schema with --schema" "$TMP/err"
finish
