#!/bin/bash
# Run the gateway's merkle code against the independent vectors in
# ../shared/testsuites/merkle (see that folder's README). The runner,
# $B/tools/merkle_vectors, prints "FAIL ..." lines and "N passed, M failed";
# without the shared folder (a user's clone) the suite is skipped.
set -u
: "${B:=build/rel}"
: "${TOP:=$(pwd)}"
case "$B" in /*) ;; *) B=$TOP/$B ;; esac
SUITE=${SHARED:-$TOP/../shared}/testsuites/merkle
if [ ! -d "$SUITE" ]; then
	echo "skip merkle: $SUITE is absent (vectors live outside the repository)"
	echo "0 passed, 0 failed, 1 skipped"
	exit 0
fi
if [ ! -x "$B/tools/merkle_vectors" ]; then
	echo "FAIL $B/tools/merkle_vectors is not built (make B=$B $B/tools/merkle_vectors)"
	echo "0 passed, 1 failed"
	exit 1
fi
exec "$B/tools/merkle_vectors" "$SUITE"
