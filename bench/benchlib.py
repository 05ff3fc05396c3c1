"""benchlib.py - shared helpers of the bench/bench_*.sh scripts: the machine
description, median and min-max of several runs, and the result file
bench/results/<name>.json in the convention of bench/README.md."""
import datetime, json, os, statistics


def machine():
    model, mem = "?", "?"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal"):
                kb = int(line.split()[1])
                mem = "%.1f GiB" % (kb / 1024 / 1024)
                break
    except OSError:
        pass
    return "%d cores, %s, %s" % (os.cpu_count() or 0, model, mem)


def stats(values):
    """(median, min, max) of a non-empty list."""
    return statistics.median(values), min(values), max(values)


def row(workload, metric, values, higher_is_better=True, baseline=None,
        baseline_values=None, target=None, met=None, note=None):
    """One result row. values: the runs. baseline_values: the baseline's
    runs in the same bench run (or None). met: a function of (value,
    baseline_value) -> bool, or None when the issue sets no target."""
    r = {"workload": workload, "metric": metric,
         "higher_is_better": higher_is_better}
    if values:
        v, lo, hi = stats(values)
        r.update(value=round(v, 3), min=round(lo, 3), max=round(hi, 3),
                 runs=len(values))
    else:
        r.update(value=None, min=None, max=None, runs=0)
    r["baseline"] = baseline
    bv = stats(baseline_values)[0] if baseline_values else None
    r["baseline_value"] = round(bv, 3) if bv is not None else None
    r["ratio"] = (round(r["value"] / bv, 3)
                  if bv and r["value"] is not None else None)
    r["target"] = target
    r["met"] = (bool(met(r["value"], bv))
                if met and r["value"] is not None else None)
    if note:
        r["note"] = note
    return r


def write(results_dir, name, title, rows, notes=None):
    doc = {"bench": name, "title": title, "machine": machine(),
           "date": datetime.datetime.now(datetime.timezone.utc)
           .replace(microsecond=0).isoformat(),
           "rows": rows}
    if notes:
        doc["notes"] = notes
    os.makedirs(results_dir, exist_ok=True)
    path = os.path.join(results_dir, name + ".json")
    with open(path + ".tmp", "w") as f:
        json.dump(doc, f, indent=1, ensure_ascii=False)
        f.write("\n")
    os.replace(path + ".tmp", path)
    return path
