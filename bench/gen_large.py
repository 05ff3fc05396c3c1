#!/usr/bin/env python3
"""gen_large.py - one large indicator.report for bench_large.sh: the
1584/QĐ-BTC example (conf/examples/indicator-report-2024-targets.json) with
its observations grown until the message is as close to SIZE bytes as whole
observations allow. Every observation is different: its own code (the
example's code with a counter), value (a percentage with four decimals,
within 0-100 as the business rules want), period (the year, a quarter or a
month of 2024) and a third dimension naming a reporting unit. The output is
valid (schema and business rules) and already in the RFC 8785 canonical
form (keys sorted, no whitespace, UTF-8), so that the payload of a JWS made
from it by `lienthong sign` is the file byte for byte.

usage: gen_large.py EXAMPLE.json SIZE OUT.json
prints "BYTES OBSERVATIONS"
"""
import copy, json, sys, uuid

PERIODS = ["2024"] + ["2024-Q%d" % q for q in range(1, 5)] + \
    ["2024-%02d" % m for m in range(1, 13)]


def canon(v):
    # RFC 8785 for this content (strings, objects, arrays; ASCII keys)
    return json.dumps(v, ensure_ascii=False, sort_keys=True,
                      separators=(",", ":"))


def observation(base, i):
    o = copy.deepcopy(base)
    o["code"] = "%s.R%d" % (base["code"], i)
    o["value"] = "%d.%04d" % (i % 100, (i * 7919) % 10000)
    o["period"] = PERIODS[i % len(PERIODS)]
    o.setdefault("dimensions", []).append(
        {"name": "reportingUnit", "value": "Đơn vị báo cáo số %d" % i})
    return o


def main():
    if len(sys.argv) != 4:
        sys.stderr.write("usage: gen_large.py EXAMPLE.json SIZE OUT.json\n")
        return 2
    example = json.load(open(sys.argv[1], encoding="utf-8"))
    size = int(sys.argv[2])
    obs = example["payload"]["observations"]
    m = copy.deepcopy(example)
    m["id"] = str(uuid.uuid5(uuid.NAMESPACE_URL, "lienthong-bench-large-%d" % size))
    m["payload"]["observations"] = ["@OBS@"]
    head, tail = canon(m).encode().split(b'"@OBS@"')
    total = len(head) + len(tail)
    parts = []
    i = 0
    while True:
        b = canon(observation(obs[i % len(obs)], i)).encode()
        extra = len(b) + (1 if parts else 0)
        if parts and abs(total + extra - size) > abs(total - size):
            break
        parts.append(b)
        total += extra
        i += 1
    with open(sys.argv[3], "wb") as f:
        f.write(head)
        f.write(b",".join(parts))
        f.write(tail)
    print(total, len(parts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
