#!/usr/bin/env python3
"""seeds.py OUT NAME... - write the seed corpus of each fuzz harness into
OUT/NAME/: the tests' own inputs (conf/examples, tests/data, schemas,
conf/mappings, conf/profiles), wire formats made by `lienthong convert`,
and, when ../shared/testsuites is there, the independent vectors (JCS,
JWS, XML-DSig, SDMX, edXML). Files are prefixed with the selector byte a
harness expects (docs/FUZZING.md). Run from the repository's top folder."""
import base64, glob, hashlib, hmac, json, os, subprocess, sys

out, names = sys.argv[1], sys.argv[2:]
lienthong = os.environ.get("LIENTHONG", "bin/lienthong")
shared = os.environ.get("SHARED", "../shared") + "/testsuites"


def rd(p):
    with open(p, "rb") as f:
        return f.read()


def put(name, key, data):
    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, key), "wb") as f:
        f.write(data)


def each(name, pats, prefix=b""):
    for pat in pats:
        # seeds from the shared vectors are named shared-*: run.sh keeps no
        # verbatim copy of them in the repository (they live outside it)
        tag = "shared-" if pat.startswith(shared) else ""
        for i, p in enumerate(sorted(glob.glob(pat, recursive=True))):
            if os.path.isfile(p):
                put(name, "%s%s-%d" % (tag, os.path.basename(p), i), prefix + rd(p))


def convert(to, src, profile=None):
    cmd = [lienthong, "convert", "--to", to] + (["--profile", profile] if profile else []) + [src]
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    return r.stdout if r.returncode == 0 else None


def b64(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=")


def hs256(payload, detached=False):
    h = b64(json.dumps({"alg": "HS256"}).encode())
    p = b64(payload)
    sig = b64(hmac.new(b"fuzz-key", h + b"." + p, hashlib.sha256).digest())
    return h + b"." + (b"" if detached else p) + b"." + sig


EMPTY = hashlib.sha256(b"").hexdigest()


def cp(seq, size, root=EMPTY):
    return {"type": "lienthong-audit-checkpoint", "version": 1, "origin": "fuzz",
            "seq": seq, "treeSize": size, "rootHash": root,
            "time": "2026-12-01T00:00:00.000Z"}


for n in names:
    if n == "json":
        each(n, ["conf/examples/*.json", "tests/data/invalid/*.json",
                 "tests/data/hostile/*.json", "schemas/*.json"])
    elif n == "xml":
        each(n, ["conf/examples/*.xml", "tests/data/hostile/*.xml",
                 "tests/data/invalid/*.xml", "tests/data/sign/*.xml"])
    elif n == "yaml":
        each(n, ["conf/*.yaml", "conf/profiles/*.yaml", "conf/mappings/*.yaml"])
    elif n == "mapping":
        each(n, ["conf/mappings/*.yaml"])
    elif n == "csv":
        each(n, ["conf/mappings/*.csv"], b"\x00")
        each(n, ["conf/mappings/*.csv"], b"\x02")
    elif n == "jcs":
        each(n, ["conf/examples/*.json", shared + "/jcs/*/input/*.json"])
    elif n == "jsonschema":
        ex = sorted(glob.glob("conf/examples/*.json"))
        for i, s in enumerate(sorted(glob.glob("schemas/*.json"))):
            put(n, "%s-%d" % (os.path.basename(s), i),
                rd(s) + b"\x00" + (rd(ex[i % len(ex)]) if ex else b"{}"))
        for i, s in enumerate(sorted(glob.glob(shared + "/json-schema-test-suite/tests/draft2020-12/*.json"))[:40]):
            try:
                for j, case in enumerate(json.loads(rd(s))[:3]):
                    for k, t in enumerate(case["tests"][:2]):
                        put(n, "shared-jsts-%d-%d-%d" % (i, j, k),
                            json.dumps(case["schema"]).encode() + b"\x00" + json.dumps(t["data"]).encode())
            except (ValueError, KeyError, TypeError):
                pass
    elif n == "formats":
        pk = "conf/examples/indicator-report-2024-targets.json"
        prof = "conf/profiles/report-packet-vn.yaml"
        for i, f in enumerate(sorted(glob.glob("conf/examples/task-*.json") + glob.glob("conf/examples/receipt-*.json"))):
            b = convert("edxml", f)
            if b:
                put(n, "edxml-%d" % i, b"\x00" + b)
        for sel, to, p in [(1, "report-packet", None), (2, "report-packet-json", None),
                           (6, "report-packet", prof), (7, "report-packet-json", prof),
                           (3, "sdmx-ml", None), (4, "sdmx-json", None)]:
            b = convert(to, pk, p)
            if b:
                put(n, "%s-%d" % (to, sel), bytes([sel]) + b)
        each(n, [shared + "/edxml/*.edxml"], b"\x00")
        each(n, [shared + "/sdmx/sdmx-json/data-message/samples/*.json"], b"\x04")
        each(n, [shared + "/sdmx/**/*.xml"], b"\x03")
    elif n == "jws":
        msg = rd("conf/examples/plan-1584.json") if os.path.exists("conf/examples/plan-1584.json") else b"{}"
        put(n, "hs256-compact", b"\x00" + hs256(msg))
        put(n, "hs256-detached", b"\x00" + hs256(msg, True) + b"\x00" + msg)
        h = b64(json.dumps({"alg": "HS256"}).encode())
        flat = {"protected": h.decode(), "payload": b64(msg).decode(),
                "signature": hs256(msg).split(b".")[2].decode()}
        put(n, "hs256-flattened", b"\x00" + json.dumps(flat).encode())
        put(n, "hs256-general", b"\x00" + json.dumps(
            {"payload": flat["payload"], "signatures": [
                {"protected": flat["protected"], "signature": flat["signature"]}]}).encode())
        put(n, "checkpoint-unsigned", b"\x03" + json.dumps(cp(1, 0)).encode())
        c = json.dumps(cp(2, 1, "00" * 32)).encode()
        put(n, "checkpoint-hs256", b"\x01" + json.dumps(
            {"protected": h.decode(), "payload": b64(c).decode(),
             "signature": hs256(c).split(b".")[2].decode()}).encode())
        each(n, [shared + "/jws/*.jwsc", shared + "/jws/*.jwsf", shared + "/jws/*.jwsg"], b"\x00")
    elif n == "xmldsig":
        each(n, ["tests/data/sign/*.xml", shared + "/xmldsig/*/*.xml"])
        # documents signed the gateway's way (enveloped, exclusive c14n),
        # with the test PKI of the tests when it was made
        pki = os.environ.get("FUZZ_PKI", "build/rel/pki")
        if os.path.exists(pki + "/partner-a.key"):
            for i, f in enumerate(sorted(glob.glob("conf/examples/*.xml"))[:6]):
                r = subprocess.run([lienthong, "sign", "--key", pki + "/partner-a.key",
                                    "--cert", pki + "/partner-a.pem", f],
                                   stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
                if r.returncode == 0:
                    put(n, "signed-%d" % i, r.stdout)
    elif n == "proof":
        leaf = "11" * 32
        entry = {"index": 0, "time": "2026-12-01T00:00:00.000Z", "event": "received",
                 "direction": "in", "msgId": "m1", "msgKind": "plan", "sender": "a",
                 "receiver": "b", "signer": "", "digest": "", "outcome": "ok", "reason": ""}
        put(n, "inclusion", b"\x00" + json.dumps(
            {"type": "lienthong-audit-inclusion", "version": 1, "treeSize": 1,
             "checkpoint": cp(1, 1, leaf),
             "entries": [{"leafIndex": 0, "entry": entry, "path": []}]}).encode())
        put(n, "inclusion-file", b"\x00" + json.dumps(
            {"type": "lienthong-audit-inclusion", "version": 1, "treeSize": 3,
             "entries": [{"leafIndex": 2, "entry": entry, "path": [leaf, leaf]}]}).encode()
            + b"\x00" + json.dumps(cp(1, 3, leaf)).encode())
        # size 0: equal roots, SHA-256 of nothing (issue 23)
        put(n, "consistency-size0", b"\x01" + json.dumps(
            {"type": "lienthong-audit-consistency", "version": 1,
             "from": cp(1, 0), "to": cp(2, 0), "path": []}).encode())
        put(n, "consistency-size0-badroot", b"\x01" + json.dumps(
            {"type": "lienthong-audit-consistency", "version": 1,
             "from": cp(1, 0, leaf), "to": cp(2, 0, leaf), "path": []}).encode())
        put(n, "consistency-files", b"\x01" + json.dumps(
            {"type": "lienthong-audit-consistency", "version": 1, "path": [leaf]}).encode()
            + b"\x00" + json.dumps(cp(1, 1, leaf)).encode() + b"\x00" + json.dumps(cp(2, 2, leaf)).encode())
        for i, b in enumerate([b"\x02\x07\x03\x05", b"\x02\x3f\x10\x00\x00\x05\x80",
                               b"\x03\x07\x03\x05", b"\x03\x3f\x00\x00", b"\x03\x20\x11\x01\x05\x09\x20"]):
            put(n, "differential-%d" % i, b)
    elif n == "http":
        body = b"<a>" + b"x" * 100 + b"</a>"
        for i, r in enumerate([
                b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n",
                b"POST /v1/messages HTTP/1.1\r\nContent-Length: 5\r\n\r\n<a/>\n",
                b"POST /v1/messages HTTP/1.1\r\nContent-Length: %d\r\n\r\n" % len(body) + body +
                b"GET /healthz HTTP/1.1\r\n\r\n",
                b"POST /v1/messages HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 1000\r\n\r\n",
                b"POST /v1/messages HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n<a/>\n\r\n0\r\n\r\n",
                b"POST /v1/messages HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" +
                b"20\r\n" + b"y" * 32 + b"\r\n" + b"30;x=1\r\n" + b"z" * 48 + b"\r\n0\r\nTrailer: 1\r\n\r\n"]):
            for step in (0, 6, 255):
                put(n, "req-%d-%d" % (i, step), bytes([step]) + r)
    else:
        sys.exit("seeds.py: no seeds for harness '%s'" % n)
