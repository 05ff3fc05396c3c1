#!/usr/bin/env python3
"""gen_inputs.py - the benchmark inputs: indicator.report messages of about
1 KB, 2 KB, 12 KB and 100 KB, built from the 1584/QĐ-BTC example
(conf/examples/indicator-report-2024-targets.json) by repeating its
observations (each with its own code) until the compact UTF-8 JSON is as
close as it gets to the target size. Every output is a valid canonical
message (schema and business rules), so the same files serve validation,
signing and end-to-end runs.

usage: gen_inputs.py EXAMPLE.json OUTDIR
writes OUTDIR/ir-1k.json ir-2k.json ir-12k.json ir-100k.json and prints
"NAME BYTES OBSERVATIONS" per file. (XML forms are made with
`lienthong convert --to xml` by the caller.)
"""
import copy, json, sys, uuid

TARGETS = [("ir-1k", 1024), ("ir-2k", 2048), ("ir-12k", 12 * 1024),
           ("ir-100k", 100 * 1024)]


def build(example, n, name):
    m = copy.deepcopy(example)
    obs = example["payload"]["observations"]
    out = []
    for i in range(n):
        o = copy.deepcopy(obs[i % len(obs)])
        if i >= len(obs):
            o["code"] = "%s.R%d" % (o["code"], i // len(obs))
        out.append(o)
    m["payload"]["observations"] = out
    m["id"] = str(uuid.uuid5(uuid.NAMESPACE_URL, "lienthong-bench-" + name))
    return json.dumps(m, ensure_ascii=False, separators=(",", ":")).encode()


def main():
    if len(sys.argv) != 3:
        sys.stderr.write("usage: gen_inputs.py EXAMPLE.json OUTDIR\n")
        return 2
    example = json.load(open(sys.argv[1], encoding="utf-8"))
    for name, target in TARGETS:
        best = None
        for n in range(1, 2000):
            data = build(example, n, name)
            if best is None or abs(len(data) - target) < abs(len(best[0]) - target):
                best = (data, n)
            if len(data) > target:
                break
        with open("%s/%s.json" % (sys.argv[2], name), "wb") as f:
            f.write(best[0])
        print(name, len(best[0]), best[1])
    return 0


if __name__ == "__main__":
    sys.exit(main())
