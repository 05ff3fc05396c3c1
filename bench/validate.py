#!/usr/bin/python3
"""validate.py - validations per second of a JSON Schema with Debian's
python3-jsonschema (Draft202012Validator), the Python baseline of
bench/bench_validate.sh. Prints the same JSON as
tests/tools/bench_validate.c; what is timed is the same:
  "validate": is_valid() on a document parsed once (json.loads);
  "parse_validate": json.loads of the bytes, then is_valid().
Format semantics match the gateway's default: no format checker, so
"format" is an annotation. Patterns use Python's re (the library's own
choice).
usage: /usr/bin/python3 validate.py SCHEMA.json RUNS SECONDS FILE...
"""
import json, sys, time

import jsonschema
from jsonschema import Draft202012Validator


def rate(validator, doc, data, secs):
    t0 = time.perf_counter()
    n, batch = 0, 4
    while True:
        for _ in range(batch):
            d = json.loads(data) if doc is None else doc
            if not validator.is_valid(d):
                return -1
        n += batch
        batch = min(batch * 2, 65536)
        t = time.perf_counter() - t0
        if t >= secs:
            return n / t


def main():
    if len(sys.argv) < 5:
        sys.stderr.write("usage: validate.py SCHEMA.json RUNS SECONDS FILE...\n")
        return 2
    schema = json.load(open(sys.argv[1], encoding="utf-8"))
    runs, secs = int(sys.argv[2]), float(sys.argv[3])
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema)
    try:
        from importlib.metadata import version
        ver = version("jsonschema")
    except Exception:
        ver = getattr(jsonschema, "__version__", "?")
    out = {"impl": "python3-jsonschema " + ver, "files": []}
    for f in sys.argv[4:]:
        data = open(f, "rb").read()
        doc = json.loads(data)
        r = {"file": f, "bytes": len(data), "validate": [], "parse_validate": []}
        for mode in ("validate", "parse_validate"):
            for _ in range(runs):
                v = rate(validator, doc if mode == "validate" else None, data, secs)
                if v < 0:
                    sys.stderr.write("validate.py: '%s' is not valid\n" % f)
                    return 1
                r[mode].append(round(v, 1))
        out["files"].append(r)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
