#!/bin/bash
# run.sh - make bench: run every bench/bench_*.sh in turn, then regenerate
# BENCHMARKS.md and the plots (bench/plots/*.png) from bench/results/*.json.
#
# Each bench script gets LIENTHONG, B (build dir), TOP, RESULTS
# (bench/results) and WORK (bench/work, scratch, git-ignored) and writes
# $RESULTS/<name>.json (format: bench/README.md). A script that fails is
# reported and the others still run; its previous result file, if any, is
# kept, and run.sh exits 1 at the end.
#   BENCH_ONLY="validate sign"  run only these (by name)
#   BENCH_RUNS=N                runs per measurement (default 5)
set -uo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
: "${B:=build/rel}" "${LIENTHONG:=bin/lienthong}"
case "$LIENTHONG" in /*) ;; *) LIENTHONG=$TOP/$LIENTHONG ;; esac
RESULTS=$TOP/bench/results WORK=$TOP/bench/work
export TOP B LIENTHONG RESULTS WORK
mkdir -p "$RESULTS" "$WORK"

# Node packages pinned by bench/package-lock.json, into bench/node_modules
if [ ! -d bench/node_modules/ajv ] || [ ! -d bench/node_modules/jose ] ||
	[ ! -d bench/node_modules/xml-crypto ]; then
	echo "run.sh: npm ci (bench/package-lock.json)" >&2
	(cd bench && npm ci --no-audit --no-fund --loglevel=error) || {
		echo "run.sh: npm ci failed; is the npm registry reachable?" >&2
		exit 3
	}
fi

failed=""
start=$(date +%s)
for s in bench/bench_*.sh; do
	name=$(basename "$s" .sh)
	name=${name#bench_}
	if [ -n "${BENCH_ONLY:-}" ] && ! [[ " $BENCH_ONLY " == *" $name "* ]]; then
		continue
	fi
	t0=$(date +%s)
	echo "== $name" >&2
	if bash "$s" 2> >(tee "$WORK/$name.log" >&2); then
		echo "== $name: done in $(($(date +%s) - t0)) s" >&2
	else
		echo "== $name: FAILED (see bench/work/$name.log)" >&2
		failed="$failed $name"
	fi
done
python3 bench/report.py "$RESULTS" BENCHMARKS.md bench/plots || failed="$failed report"
echo "run.sh: $(($(date +%s) - start)) s; BENCHMARKS.md and bench/plots/ regenerated" >&2
if [ -n "$failed" ]; then
	echo "run.sh: failed:$failed" >&2
	exit 1
fi
