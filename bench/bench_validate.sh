#!/bin/bash
# bench_validate.sh - JSON Schema validations per second of the
# indicator.report message schema on a 1 KB and a 100 KB message: lienthong
# (gateway/jsonschema.c) against ajv (Node) and Debian's python3-jsonschema,
# same inputs, same run, same format semantics (annotation only; the
# schema has no format keyword anyway). Two things are timed by each, with
# the schema compiled once beforehand:
#   validate        the validator on a document parsed once
#   parse+validate  parsing the bytes, then validating
# Target (issue 3): faster than ajv and at least 20x python3-jsonschema,
# on validate. Writes $RESULTS/validate.json.
set -euo pipefail
: "${TOP:=$PWD}" "${B:=build/rel}" "${RESULTS:=$TOP/bench/results}" "${WORK:=$TOP/bench/work}"
RUNS=${BENCH_RUNS:-5} SECS=${BENCH_SECS:-1}
W=$WORK/validate
rm -rf "$W"
mkdir -p "$W"
python3 "$TOP/bench/gen_inputs.py" "$TOP/conf/examples/indicator-report-2024-targets.json" "$W" >/dev/null
IN=("$W/ir-1k.json" "$W/ir-100k.json")
S=$TOP/schemas/message-1.schema.json
echo "validate: lienthong, ajv, python3-jsonschema ($RUNS interleaved runs of ${SECS}s each)" >&2
# runs interleaved, so that a noisy neighbour hurts every implementation
for r in $(seq "$RUNS"); do
	"$TOP/$B/tools/bench_validate" "$S" 1 "$SECS" "${IN[@]}" >"$W/lienthong.$r.json"
	node "$TOP/bench/validate.js" "$S" 1 "$SECS" "${IN[@]}" >"$W/ajv.$r.json"
	# Debian's python3 and python3-jsonschema, whatever python3 is first on PATH
	/usr/bin/python3 "$TOP/bench/validate.py" "$S" 1 "$SECS" "${IN[@]}" >"$W/python.$r.json"
done

python3 - "$W" "$RESULTS" <<'EOP'
import json, sys, os
sys.path.insert(0, os.path.join(os.environ.get("TOP", "."), "bench"))
import benchlib as bl
w, results = sys.argv[1], sys.argv[2]
import glob
def load(impl):
    """Merge the per-run files of one implementation."""
    out = None
    for f in sorted(glob.glob(os.path.join(w, impl + ".*.json"))):
        d = json.load(open(f))
        if out is None:
            out = d
            continue
        for a, b in zip(out["files"], d["files"]):
            for m in ("validate", "parse_validate"):
                a[m] += b[m]
    return out
lt, aj, py = load("lienthong"), load("ajv"), load("python")
rows = []
for i, f in enumerate(lt["files"]):
    size = "%.0f KB" % (f["bytes"] / 1024)
    for mode, label in (("validate", "validate (parsed document)"),
                        ("parse_validate", "parse + validate")):
        a, p = aj["files"][i][mode], py["files"][i][mode]
        rows.append(bl.row(
            "%s, %s message (%d bytes)" % (label, size, f["bytes"]),
            "validations/s", f[mode], baseline=aj["impl"],
            baseline_values=a,
            target="> ajv" if mode == "validate" else None,
            met=(lambda v, b: v > b) if mode == "validate" else None))
        med = bl.stats(p)[0]
        rows.append(bl.row(
            "%s, %s message (%d bytes)" % (label, size, f["bytes"]),
            "validations/s", f[mode], baseline=py["impl"],
            baseline_values=p,
            target=">= 20x python3-jsonschema" if mode == "validate" else None,
            met=(lambda v, b: v >= 20 * b) if mode == "validate" else None))
notes = ("Schema: schemas/message-1.schema.json (draft 2020-12, if/then per kind, "
         "$ref to $defs, patterns); compiled once outside the timing. "
         "'validate' times the validator alone on a document parsed beforehand "
         "(lienthong: gw_js_validate on a jansson value; ajv: the compiled "
         "function on a JSON.parse result; python: Draft202012Validator.is_valid). "
         "'parse + validate' adds parsing the bytes each time (lienthong: "
         "gw_json_parse = gateway/json.c's parser building jansson values, "
         "duplicate keys refused; ajv: JSON.parse; "
         "python: json.loads). Every input is valid; formats are annotations "
         "for all three (ajv: ajv-formats loaded, validateFormats false; python: "
         "no format checker). ajv " + aj["impl"].split()[-1] + " on Node "
         + os.popen("node --version").read().strip() + ".")
bl.write(results, "validate", "JSON Schema validation (issue 3)", rows, notes)
EOP
