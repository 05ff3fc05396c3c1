# Shared helpers for integration and suite scripts (sourced, not run).
# Each check prints "ok NAME" or "not ok NAME: why"; finish prints the
# closing "N passed, M failed" line that tests/run.sh adds up.
: "${LIENTHONG:=bin/lienthong}"
: "${TOP:=$(pwd)}"
case "$LIENTHONG" in /*) ;; *) LIENTHONG=$TOP/$LIENTHONG ;; esac
SHARED=${SHARED:-$TOP/../shared}
T_PASS=0 T_FAIL=0 T_SKIP=0

ok() { T_PASS=$((T_PASS + 1)); echo "ok $*"; }
not_ok() { T_FAIL=$((T_FAIL + 1)); echo "not ok $*"; }
skip() { T_SKIP=$((T_SKIP + 1)); echo "skip $*"; }
check() { # name command...: passes when the command exits 0
	local n=$1; shift
	if "$@"; then ok "$n"; else not_ok "$n"; fi
}
expect_exit() { # name code command...
	local n=$1 want=$2 got; shift 2
	"$@" >"$TMP/out" 2>"$TMP/err"; got=$?
	if [ "$got" -eq "$want" ]; then ok "$n"; else
		not_ok "$n: exit $got, wanted $want"; sed 's/^/    /' "$TMP/err" | head -5; fi
}
finish() {
	if [ "$T_SKIP" -gt 0 ]; then
		echo "$T_PASS passed, $T_FAIL failed, $T_SKIP skipped"
	else
		echo "$T_PASS passed, $T_FAIL failed"
	fi
	[ "$T_FAIL" -eq 0 ]
}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
