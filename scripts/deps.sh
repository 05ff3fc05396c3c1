#!/bin/sh
# Install the Debian packages Lienthong needs, and only those missing.
# Usage: scripts/deps.sh [build|test|lint|fuzz|bench]
# Runs apt-get only when something is missing; says clearly what to run
# when it is not root.
set -eu
set_="${1:-build}"

BUILD="build-essential pkg-config libxml2-dev libjansson-dev libssl-dev \
libcurl4-openssl-dev libyaml-dev libpcre2-dev libutf8proc-dev libsqlite3-dev \
libevent-dev libxmlsec1-dev libcmocka-dev zlib1g-dev libical-dev"
TEST="xmlsec1 jose openssl libxml2-utils curl python3 python3-jwcrypto softhsm2 libengine-pkcs11-openssl python3-icalendar"
LINT="clang-format cppcheck"
FUZZ="clang libclang-rt-14-dev"
BENCH="nginx nodejs npm python3-jsonschema gnuplot-nox time"
# Go's signed-note package checks the audit log's C2SP checkpoints
# (tests/integration/audit_note.sh), built offline in GOPATH mode
TEST="$TEST golang-go golang-golang-x-mod-dev"

case "$set_" in
build) want="$BUILD" ;;
test) want="$BUILD $TEST" ;;
lint) want="$BUILD $LINT" ;;
fuzz) want="$BUILD $TEST $FUZZ" ;;
bench) want="$BUILD $TEST $BENCH" ;;
*) echo "deps.sh: unknown set '$set_' (build, test, lint, fuzz, bench)" >&2; exit 2 ;;
esac

missing=""
for p in $want; do
	# a Node.js installed from elsewhere (e.g. nodesource) brings its own
	# npm, and Debian's npm package conflicts with it: use what is there
	case "$p" in
	nodejs) command -v node >/dev/null 2>&1 && continue ;;
	npm) command -v npm >/dev/null 2>&1 && continue ;;
	esac
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$st" in
	*" installed") ;;
	*) missing="$missing $p" ;;
	esac
done
[ -z "$missing" ] && exit 0

echo "deps.sh: installing missing Debian packages:$missing" >&2
if [ "$(id -u)" != 0 ]; then
	if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
		SUDO=sudo
	else
		echo "deps.sh: not root; run as root: apt-get install -y$missing" >&2
		exit 1
	fi
else
	SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
# shellcheck disable=SC2086
if ! $SUDO apt-get install -y -q --no-install-recommends $missing >/dev/null; then
	$SUDO apt-get update -q >/dev/null
	$SUDO apt-get install -y -q --no-install-recommends $missing >/dev/null
fi
