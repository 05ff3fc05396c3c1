#!/bin/bash
# run.sh NAME... - the fuzz campaign of `make fuzz` (docs/FUZZING.md): for
# each harness, one at a time and niced (other work shares the machine),
# fuzz for FUZZ_SECONDS from the kept corpus, the regressions and fresh
# seeds (tests/fuzz/seeds.py), then merge what grew into the kept corpus
# tests/fuzz/corpus/NAME/ (libFuzzer -merge=1: only inputs that add
# coverage; FUZZ_MINIMIZE=1 rebuilds it from scratch; inputs over
# FUZZ_KEEP_MAX bytes are not kept). A crash stops the
# run of that harness; its input is left in build/fuzz/crash/NAME/ and
# named at the end. Figures of each run: build/fuzz/logs/NAME.TIME.log.
#
# FUZZ_CPU_SECONDS=N fuzzes each harness until it has used N seconds of
# CPU time (user + system, measured), not of wall time: on a shared
# machine a niced fuzzer gets less CPU than the clock shows, so a
# campaign that asks CPU-minutes runs the fuzzer again from where it was
# (the kept corpus and the work folder) until the CPU time is there.
# FUZZ_NICE (10) is the niceness. Several run.sh may run at once on
# different harnesses (each makes only the seeds of its own). To free the
# machine for a while (a benchmark), create build/fuzz/PAUSE and send the
# fuzzers SIGUSR1: libFuzzer stops cleanly (a stopped process would see
# its current input's time run out, a false timeout), and the next run
# waits until PAUSE is gone. build/fuzz/STOP ends a campaign early but
# cleanly: the harness that runs stops after its current run (send
# SIGUSR1 to end that too), its CPU time is logged and its corpus merged,
# and no other harness starts.
set -u
: "${FUZZ_SECONDS:=60}"
: "${FUZZ_CPU_SECONDS:=0}"
: "${FUZZ_NICE:=10}"
: "${FUZZ_MINIMIZE:=0}"
: "${FUZZ_KEEP_MAX:=4096}" # bytes: larger inputs are not kept (the seeds
			   # bring the large files of the tests each run)
W=build/fuzz
mkdir -p "$W/logs" "$W/seed" "$W/crash"
for n in "$@"; do rm -rf "${W:?}/seed/$n"; done
python3 tests/fuzz/seeds.py "$W/seed" "$@" || exit 1
found=0
for n in "$@"; do
	[ -e "$W/STOP" ] && { echo "fuzz $n: not run ($W/STOP)"; continue; }
	bin=$W/fuzz_$n keep=tests/fuzz/corpus/$n reg=tests/fuzz/regress/$n
	work=$W/work/$n
	mkdir -p "$keep" "$work" "$W/crash/$n"
	dict=()
	[ -f "tests/fuzz/$n.dict" ] && dict=(-dict="tests/fuzz/$n.dict")
	dirs=("$keep" "$W/seed/$n")
	[ -d "$reg" ] && dirs+=("$reg")
	log=$W/logs/$n.$(date +%Y%m%dT%H%M%S).log # one per run, kept
	# (tests/fuzz/report.py sums them up)
	echo "run.sh: FUZZ_CPU_SECONDS=$FUZZ_CPU_SECONDS FUZZ_SECONDS=$FUZZ_SECONDS" >"$log"
	if [ "$FUZZ_CPU_SECONDS" -gt 0 ]; then
		echo "fuzz $n: ${FUZZ_CPU_SECONDS} CPU seconds"
		cpu=0 wall0=$SECONDS rc=0 chunks=0
		while [ $rc -eq 0 ] && [ "$cpu" -lt "$FUZZ_CPU_SECONDS" ] &&
			[ ! -e "$W/STOP" ]; do
			while [ -e "$W/PAUSE" ]; do sleep 5; done
			# the CPU time of one fuzzer run: bash's `times` in
			# the subshell that ran it (its children's line)
			t=$( { ( nice -n "$FUZZ_NICE" "$bin" \
				-max_total_time=$((FUZZ_CPU_SECONDS - cpu)) \
				-max_len=65536 -timeout=10 -rss_limit_mb=2048 \
				-print_final_stats=1 -artifact_prefix="$W/crash/$n/" \
				"${dict[@]}" "$work" "${dirs[@]}" >>"$log" 2>&1
				echo "rc $?"; times ) | tail -3; } )
			rc=$(echo "$t" | sed -n 's/^rc //p')
			cpu=$((cpu + $(echo "$t" | tail -1 | python3 -c '
import re, sys
v = re.findall(r"(\d+)m([\d.]+)s", sys.stdin.read())
print(int(round(sum(int(m) * 60 + float(s) for m, s in v)))) ')))
			chunks=$((chunks + 1))
		done
		echo "  cpu ${cpu}s in $((SECONDS - wall0))s of wall time, $chunks run(s)" | tee -a "$log"
	else
		echo "fuzz $n: ${FUZZ_SECONDS}s"
		nice -n "$FUZZ_NICE" "$bin" -max_total_time="$FUZZ_SECONDS" -max_len=65536 \
			-timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
			-artifact_prefix="$W/crash/$n/" "${dict[@]}" \
			"$work" "${dirs[@]}" >>"$log" 2>&1
		rc=$?
	fi
	echo "  executions: $(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | awk '{s += $1} END {print s + 0}')"
	grep -E '^stat::peak_rss' "$log" | tail -1 | sed 's/^/  /'
	grep -Eo 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -1 | sed 's/^/  /'
	if [ $rc -ne 0 ]; then
		echo "  FINDING (exit $rc): $(ls "$W/crash/$n" | head -3 | tr '\n' ' ')"
		grep -m3 -E 'ERROR: |runtime error|SUMMARY' "$log" | sed 's/^/  /'
		found=1
	fi
	# merge what grew into the kept corpus
	if [ "$FUZZ_MINIMIZE" = 1 ]; then
		rm -rf "$W/min/$n" && mkdir -p "$W/min/$n"
		nice -n "$FUZZ_NICE" "$bin" -merge=1 -max_len=65536 -timeout=10 "$W/min/$n" \
			"$keep" "$work" "$W/seed/$n" >>"$W/logs/$n.merge.log" 2>&1 &&
			rm -rf "$keep" && mv "$W/min/$n" "$keep"
	else
		nice -n "$FUZZ_NICE" "$bin" -merge=1 -max_len=65536 -timeout=10 "$keep" \
			"$work" "$W/seed/$n" >"$W/logs/$n.merge.log" 2>&1
	fi
	find "$keep" -type f -size +"${FUZZ_KEEP_MAX}"c -delete
	# no verbatim copy of the shared vectors (they live outside the
	# repository; what the fuzzer made of them stays)
	for f in "$W/seed/$n"/shared-*; do
		[ -f "$f" ] && rm -f "$keep/$(sha1sum "$f" | cut -d' ' -f1)"
	done
	echo "  kept corpus: $(ls "$keep" | wc -l) files, $(cat "$keep"/* 2>/dev/null | wc -c) bytes"
done
[ $found -eq 0 ] || echo "findings: see build/fuzz/crash/ and build/fuzz/logs/"
exit $found
