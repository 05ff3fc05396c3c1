#!/usr/bin/env python3
"""report.py [--since YYYYMMDDTHHMMSS] [NAME...] - the figures of a fuzz
campaign from the logs tests/fuzz/run.sh leaves in build/fuzz/logs/ (one
NAME.TIME.log per run of a harness): per harness, the CPU seconds the runs
measured (FUZZ_CPU_SECONDS runs; runs by wall time count their wall
seconds, marked ~), the executions, the last coverage, the kept corpus
and every finding libFuzzer reported, as a Markdown table for
docs/FUZZING.md. Run from the repository's top folder."""
import glob, os, re, sys

args = sys.argv[1:]
since = ""
if args[:1] == ["--since"]:
    since, args = args[1], args[2:]
logs = "build/fuzz/logs"
names = args or sorted({os.path.basename(p).split(".")[0]
                        for p in glob.glob(os.path.join(logs, "*.*.log"))
                        if not p.endswith(".merge.log")})
print("| harness | runs | CPU s | executions | coverage / features (last) | kept corpus | findings |")
print("|---|---|---|---|---|---|---|")
total_cpu = total_exec = 0
for n in names:
    runs = cpu = execs = 0
    approx = False
    cov, finds = "", []
    for p in sorted(glob.glob(os.path.join(logs, n + ".*.log"))):
        stamp = os.path.basename(p)[len(n) + 1:-4]
        if stamp == "merge" or stamp < since:
            continue
        t = open(p, errors="replace").read()
        runs += 1
        c = re.findall(r"cpu (\d+)s in (\d+)s of wall time", t)
        if c:
            cpu += sum(int(a) for a, _ in c)
        elif "FUZZ_CPU_SECONDS=0 " in t:
            # a run by wall time: its seconds, an upper bound of its CPU
            d = re.findall(r"Done \d+ runs in (\d+) second", t)
            cpu += sum(int(x) for x in d)
            approx = approx or bool(d)
        else:  # a CPU-time run still going (or killed): not counted
            runs -= 1
            continue
        execs += sum(int(x) for x in re.findall(r"stat::number_of_executed_units: *(\d+)", t))
        m = re.findall(r"cov: (\d+) ft: (\d+)", t)
        if m:
            cov = "%s / %s" % m[-1]
        for f in re.findall(r"==\d+== ERROR: libFuzzer: ([^\n]+)|ERROR: AddressSanitizer: ([^\n]+)|runtime error: ([^\n]+)", t):
            finds.append("%s: %s" % (stamp, next(x for x in f if x)))
    keep = "tests/fuzz/corpus/" + n
    files = [os.path.join(keep, f) for f in os.listdir(keep)] if os.path.isdir(keep) else []
    size = sum(os.path.getsize(f) for f in files)
    total_cpu += cpu
    total_exec += execs
    print("| `%s` | %d | %s%d | %s | %s | %d files, %d KB | %s |" % (
        n, runs, "~" if approx else "", cpu, format(execs, ","), cov or "-",
        len(files), (size + 1023) // 1024, "; ".join(finds) or "none"))
print("\nIn all: %d CPU seconds (%.1f CPU hours), %s executions." % (
    total_cpu, total_cpu / 3600.0, format(total_exec, ",")))
