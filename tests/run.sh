#!/bin/bash
# Run every test: cmocka unit binaries, independent suites and integration
# scripts. Each prints its own counts; this script adds them up and ends
# with one line: "N passed, M failed" (", K skipped" when any skipped).
set -u
B=${B:-build/rel}
export LIENTHONG=${LIENTHONG:-bin/lienthong}
export TOP=$(pwd)
export B
LOGS=$B/test-logs
mkdir -p "$LOGS"
export CMOCKA_MESSAGE_OUTPUT=stdout
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

total_pass=0 total_fail=0 total_skip=0
failed_names=()

record() { # name pass fail skip
	total_pass=$((total_pass + $2))
	total_fail=$((total_fail + $3))
	total_skip=$((total_skip + $4))
	printf '  %-34s %4d passed, %d failed%s\n' "$1" "$2" "$3" \
		"$([ "$4" -gt 0 ] && echo ", $4 skipped")"
	[ "$3" -gt 0 ] && failed_names+=("$1 (see $LOGS/$1.log)")
}

echo "unit tests (cmocka):"
for t in "$B"/tests/test_*; do
	[ -x "$t" ] || continue
	name=$(basename "$t")
	log=$LOGS/$name.log
	"$t" >"$log" 2>&1
	rc=$?
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
	s=$(sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
	p=${p:-0} f=${f:-0} s=${s:-0}
	if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
	record "$name" "$p" "$f" "$s"
done

run_script() { # kind script
	local s=$1 name log rc line p f k
	name=$(basename "$s" .sh)
	log=$LOGS/$name.log
	bash "$s" >"$log" 2>&1
	rc=$?
	line=$(grep -E '^([A-Za-z-]+: )?[0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
	p=$(echo "$line" | sed -n 's/.*\b\([0-9][0-9]*\) passed.*/\1/p')
	f=$(echo "$line" | sed -n 's/.* \([0-9][0-9]*\) failed.*/\1/p')
	k=$(echo "$line" | sed -n 's/.* \([0-9][0-9]*\) skipped.*/\1/p')
	p=${p:-0} f=${f:-0} k=${k:-0}
	if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
	record "$name" "$p" "$f" "$k"
}

echo "independent suites (../shared/testsuites):"
for s in tests/suites/*.sh; do
	[ -f "$s" ] && run_script "$s"
done

echo "integration tests:"
for s in tests/integration/*.sh; do
	[ -f "$s" ] && run_script "$s"
done

for n in "${failed_names[@]}"; do echo "FAILED: $n"; done
if [ "$total_skip" -gt 0 ]; then
	echo "$total_pass passed, $total_fail failed, $total_skip skipped"
else
	echo "$total_pass passed, $total_fail failed"
fi
[ "$total_fail" -eq 0 ]
