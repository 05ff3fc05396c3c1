#!/bin/bash
# JSON-Schema-Test-Suite (draft 2020-12) against gateway/jsonschema.c.
# Run by tests/run.sh from the repository root with B (build directory)
# and TOP set; the runner reads the last "N passed, M failed" line.
set -u
TOP=${TOP:-$(pwd)}
B=${B:-build/rel}
case "$B" in /*) ;; *) B=$TOP/$B ;; esac
SUITE=${SHARED:-$TOP/../shared}/testsuites/json-schema-test-suite
KNOWN=$TOP/tests/suites/jsonschema-known-failures.txt

if [ ! -d "$SUITE/tests/draft2020-12" ]; then
	echo "skip jsonschema: $SUITE is absent"
	echo "0 passed, 0 failed, 1 skipped"
	exit 0
fi
if [ ! -x "$B/tools/jsts" ]; then
	echo "not ok jsonschema: $B/tools/jsts is not built"
	echo "0 passed, 1 failed"
	exit 1
fi
exec "$B/tools/jsts" "$SUITE" --known-failures "$KNOWN"
