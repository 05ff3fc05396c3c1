// validate.js - validations per second of a JSON Schema with ajv (draft
// 2020-12 build), the Node baseline of bench/bench_validate.sh. Prints the
// same JSON as tests/tools/bench_validate.c; what is timed is the same:
//   "validate": the compiled validator on a document parsed once (JSON.parse);
//   "parse_validate": JSON.parse of the bytes (as a string) then validate.
// Format semantics match the gateway's default: ajv-formats is loaded so
// every format is known, but formats are annotations (validateFormats:
// false), as in draft 2020-12 without the format-assertion vocabulary.
// Patterns use the "u" flag (ajv's default unicodeRegExp), as ECMA-262 asks.
// usage: node validate.js SCHEMA.json RUNS SECONDS FILE...
"use strict";
const fs = require("fs");
const Ajv2020 = require("ajv/dist/2020");
const addFormats = require("ajv-formats");

const [schemaPath, runsS, secsS, ...files] = process.argv.slice(2);
if (!files.length) {
  process.stderr.write("usage: node validate.js SCHEMA.json RUNS SECONDS FILE...\n");
  process.exit(2);
}
const runs = parseInt(runsS, 10), secs = parseFloat(secsS);
const ajv = new Ajv2020({ allErrors: false, strict: false, validateFormats: false });
addFormats(ajv);
const validate = ajv.compile(JSON.parse(fs.readFileSync(schemaPath, "utf8")));

function rate(doc, text) {
  const t0 = process.hrtime.bigint();
  let n = 0, batch = 16, t;
  do {
    for (let i = 0; i < batch; i++) {
      const d = doc === null ? JSON.parse(text) : doc;
      if (!validate(d)) return -1;
    }
    n += batch;
    if (batch < 65536) batch *= 2;
    t = Number(process.hrtime.bigint() - t0) / 1e9;
  } while (t < secs);
  return n / t;
}

const out = { impl: "ajv " + require("ajv/package.json").version, files: [] };
for (const f of files) {
  const text = fs.readFileSync(f, "utf8");
  const doc = JSON.parse(text);
  const r = { file: f, bytes: Buffer.byteLength(text), validate: [], parse_validate: [] };
  for (const mode of ["validate", "parse_validate"]) {
    for (let k = 0; k < runs; k++) {
      const v = rate(mode === "validate" ? doc : null, text);
      if (v < 0) {
        process.stderr.write(`validate.js: '${f}' is not valid: ${JSON.stringify(validate.errors)}\n`);
        process.exit(1);
      }
      r[mode].push(Math.round(v * 10) / 10);
    }
  }
  out.files.push(r);
}
process.stdout.write(JSON.stringify(out) + "\n");
