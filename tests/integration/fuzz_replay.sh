#!/bin/bash
# fuzz_replay.sh - every file of the fuzz corpora (tests/fuzz/corpus/NAME/,
# and the crash regressions tests/fuzz/regress/NAME/) run once through its
# harness built without libFuzzer ($B/fuzz/replay_NAME, under ASan and
# UBSan with SANITIZE=1): one test per file, so a fixed crash stays fixed.
# No fuzzing here; `make fuzz` does that (docs/FUZZING.md).
. tests/lib.sh
for src in "$TOP"/tests/fuzz/fuzz_*.c; do
	n=$(basename "$src" .c)
	n=${n#fuzz_}
	bin=$B/fuzz/replay_$n
	files=()
	for d in "$TOP/tests/fuzz/corpus/$n" "$TOP/tests/fuzz/regress/$n"; do
		[ -d "$d" ] && for f in "$d"/*; do [ -f "$f" ] && files+=("$f"); done
	done
	if [ ! -x "$bin" ]; then
		not_ok "$n: $bin is not built (make build-tests)"
		continue
	fi
	[ ${#files[@]} -gt 0 ] || continue
	# all files in one process; when it fails, each file alone to name it
	if "$bin" "${files[@]}" >"$TMP/replay.out" 2>"$TMP/replay.err"; then
		T_PASS=$((T_PASS + ${#files[@]}))
		echo "ok $n: ${#files[@]} corpus files"
	else
		for f in "${files[@]}"; do
			if "$bin" "$f" >/dev/null 2>"$TMP/one.err"; then
				ok "$n: $(basename "$f")"
			else
				not_ok "$n: ${f#"$TOP"/}: $(grep -m1 -E 'ERROR|runtime error|Assert|abort' "$TMP/one.err")"
			fi
		done
	fi
done
finish
