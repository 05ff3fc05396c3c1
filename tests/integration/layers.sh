#!/bin/bash
# layers.sh - the architecture's rules (docs/ARCHITECTURE.md), read from the
# #include lines of gateway/ and adapters/, so that they stay true:
#   - a file of a layer includes only headers of its own layer or of the
#     layers below it (base < model < crypto < store < audit < adapt <
#     flow < net < cli); an include names the folder ("store/outbox.h");
#   - no include cycle between modules (a .c with its .h), nor, by the
#     rule above, between folders;
#   - no file below cli/ includes a cmd_* header;
#   - OpenSSL (and xmlsec) only in crypto/ and net/tls*, plus SHA-256 in
#     audit/merkle.c; sqlite3.h only in store/; libevent and libcurl only
#     in net/;
#   - adapters include nothing of the gateway but "adapter.h";
#   - no file in gateway/ is longer than 1,500 lines, except the JSON
#     Schema compiler and validator (model/jsonschema.c).
# Then the same checker is run on a copy with one planted violation of each
# rule, which it must find (a checker that finds nothing proves nothing).
. tests/lib.sh

LAYERS="base model crypto store audit adapt flow net cli"
MAX_LINES=1500

# violations ROOT: one line per broken rule, "rule: file: what"
violations() {
	local root=$1
	(cd "$root" && for f in gateway/*/*.[ch] adapters/*/*.[ch]; do
		[ -f "$f" ] && grep -H '^[[:space:]]*#[[:space:]]*include' "$f"
	done) | awk -v layers="$LAYERS" '
	BEGIN { n = split(layers, l, " "); for (i = 1; i <= n; i++) rank[l[i]] = i }
	{
		colon = index($0, ":"); file = substr($0, 1, colon - 1)
		line = substr($0, colon + 1)
		if (match(line, /"[^"]+"/)) { inc = substr(line, RSTART + 1, RLENGTH - 2); sys = 0 }
		else if (match(line, /<[^>]+>/)) { inc = substr(line, RSTART + 1, RLENGTH - 2); sys = 1 }
		else next
		split(file, p, "/"); top = p[1]; layer = p[2]; base = p[3]
		if (top == "adapters") {
			if (!sys && inc != "adapter.h" && inc !~ /^[a-z_]+\/[a-z_]+\.h$/ &&
			    inc !~ /^[a-z_]+\.h$/ && inc !~ /^\.\.\/[a-z_]+\/[a-z_]+\.h$/)
				print "adapter-include: " file ": " inc
			if (!sys && inc ~ /^(base|model|crypto|store|audit|adapt|flow|net|cli)\//)
				print "adapter-include: " file ": " inc
			next
		}
		if (!sys) {
			split(inc, q, "/")
			if (!(q[1] in rank) || q[3] != "") { print "include-path: " file ": " inc; next }
			if (rank[q[1]] > rank[layer]) print "layer-upward: " file ": " inc
			if (q[2] ~ /^cmd_/ && layer != "cli") print "cmd-header: " file ": " inc
			# a module is a .c with its .h: a.c using b.h while b.c uses
			# a.h is a circle too
			from = file; sub(/\.[ch]$/, "", from)
			to = "gateway/" inc; sub(/\.h$/, "", to)
			if (from != to) edge[from] = edge[from] " " to
			next
		}
		if (inc ~ /^(openssl|xmlsec)\//) {
			if (!(layer == "crypto" || (layer == "net" && base ~ /^tls/) ||
			      (file == "gateway/audit/merkle.c" && inc ~ /^openssl\/(evp|crypto|sha)\.h$/)))
				print "openssl: " file ": " inc
		}
		if (inc == "sqlite3.h" && layer != "store") print "sqlite: " file ": " inc
		if (inc ~ /^(event2|curl)\// && layer != "net") print "libevent-curl: " file ": " inc
	}
	END {
		# include cycles: depth-first search over the quoted includes
		for (f in edge) if (!(f in state)) dfs(f)
	}
	function dfs(f,   n, e, i, g) {
		state[f] = 1; stack[++depth] = f
		n = split(edge[f], e, " ")
		for (i = 1; i <= n; i++) {
			g = e[i]
			if ((g in state) && state[g] == 1) print "cycle: " cyc(g)
			else if (!(g in state)) dfs(g)
		}
		state[f] = 2; depth--
	}
	function cyc(g,   s, i, on) {
		s = ""; on = 0
		for (i = 1; i <= depth; i++) { if (stack[i] == g) on = 1; if (on) s = s stack[i] " -> " }
		return s g
	}'
	(cd "$root" && for f in gateway/*/*.[ch]; do
		case "$f" in gateway/model/jsonschema.c) continue ;; esac
		n=$(wc -l <"$f")
		[ "$n" -gt "$MAX_LINES" ] && echo "length: $f: $n lines"
	done)
	return 0
}

RULES="include-path layer-upward cycle cmd-header openssl sqlite libevent-curl adapter-include length"
violations "$TOP" >"$TMP/v"
for r in $RULES; do
	if grep -q "^$r: " "$TMP/v"; then
		not_ok "rule $r holds: $(grep "^$r: " "$TMP/v" | head -5 | tr '\n' ';')"
	else
		ok "rule $r holds"
	fi
done
check "every layer folder exists" bash -c "for l in $LAYERS; do [ -d '$TOP/gateway/'\$l ] || exit 1; done"
check "nothing is left at the top of gateway/" bash -c "! ls '$TOP'/gateway/*.[ch] >/dev/null 2>&1"

# The checker finds each kind of violation planted in a copy.
mkdir -p "$TMP/t"
cp -r "$TOP/gateway" "$TOP/adapters" "$TMP/t/"
plant() { # rule file line
	printf '%s\n' "$3" >>"$TMP/t/$2"
}
plant layer-upward gateway/base/common.c '#include "net/server.h"'
plant cmd-header gateway/flow/sync.c '#include "cli/cmd_zz.h"'
plant openssl gateway/model/message.c '#include <openssl/evp.h>'
plant sqlite gateway/audit/merkle.c '#include <sqlite3.h>'
plant libevent-curl gateway/flow/sync.c '#include <curl/curl.h>'
plant adapter-include adapters/csv/csv.c '#include "base/common.h"'
plant include-path gateway/model/message.c '#include "common.h"'
# a cycle inside one layer: two headers of base/ including each other
printf '#include "base/zz_b.h"\n' >"$TMP/t/gateway/base/zz_a.h"
printf '#include "base/zz_a.h"\n' >"$TMP/t/gateway/base/zz_b.h"
seq 1 $((MAX_LINES + 1)) | sed 's|^|// |' >"$TMP/t/gateway/base/zz_long.c"
violations "$TMP/t" >"$TMP/v2"
for r in $RULES; do
	check "a planted $r violation is found" grep -q "^$r: " "$TMP/v2"
done
finish
