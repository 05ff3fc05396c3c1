#!/bin/bash
# adapter_example.sh - an out-of-tree adapter: `make install` into a
# staging root, adapters/example built with its own Makefile against the
# installed header through `pkg-config lienthong-adapter` (nothing from the
# source tree), loaded with dlopen by the installed executable, and run
# through the host's mapping engine. Adapters with a wrong ABI version, a
# missing entry symbol or a duplicate name in the same folder are refused
# at start with a clear error, and the others still run.
. "${TOP:-.}/tests/lib.sh"
for t in cc make pkg-config; do
	command -v $t >/dev/null || { skip "$t absent"; finish; exit 0; }
done
ROOT=$TMP/root
make -C "$TOP" --no-print-directory install DESTDIR="$ROOT" PREFIX=/usr \
	SANITIZE="${SANITIZE:-}" >"$TMP/install.log" 2>&1
check "make install into a staging root" test $? -eq 0 || sed 's/^/    /' "$TMP/install.log" | tail -5
check "the header and the .pc are installed" test -f "$ROOT/usr/include/lienthong/adapter.h" -a \
	-f "$ROOT/usr/lib/pkgconfig/lienthong-adapter.pc"
export PKG_CONFIG_PATH=$ROOT/usr/lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$ROOT
check "pkg-config knows lienthong-adapter" pkg-config --exists lienthong-adapter

# build out of tree: a copy of the folder, its own Makefile
cp -r "$TOP/adapters/example" "$TMP/ex"
rm -f "$TMP/ex/example.so"
make -C "$TMP/ex" --no-print-directory >"$TMP/build.log" 2>&1
check "the example builds against the installed header" test $? -eq 0 -a -f "$TMP/ex/example.so" ||
	sed 's/^/    /' "$TMP/build.log" | tail -5
check "... with -I from pkg-config, not the source tree" \
	sh -c "grep -q -- '-I$ROOT/usr/include/lienthong' '$TMP/build.log' && ! grep -q -- '-I$TOP' '$TMP/build.log'"
check "it exports one symbol, gw_adapter_entry" test "$(nm -D --defined-only "$TMP/ex/example.so" | awk '$2=="T"{print $3}')" = gw_adapter_entry

# refused neighbours, built the same way from the installed header
mkdir -p "$TMP/adapters.d"
cp "$TMP/ex/example.so" "$TMP/adapters.d/"
mk() { # name abi entry adapter-name
	cat >"$TMP/$1.c" <<EOC
#include "adapter.h"
static int run(void *s, struct gw_adapter_job *j) { (void)s; (void)j; return 0; }
static const struct gw_adapter a = { $2, sizeof(struct gw_adapter), "$4", "test", 0, run, 0 };
const struct gw_adapter *$3(void) { return &a; }
EOC
	cc -shared -fPIC -std=c11 $(pkg-config --cflags lienthong-adapter) -o "$TMP/adapters.d/$1.so" "$TMP/$1.c"
}
mk a_abi 99 gw_adapter_entry ext-abi
mk b_nosym 1 some_other_entry ext-nosym
mk c_dup 1 gw_adapter_entry csv

# the installed executable, with the installed schemas
LT=$ROOT/usr/bin/lienthong
export LIENTHONG_SCHEMA_DIR=$ROOT/usr/share/lienthong/schemas
cat >"$TMP/p.psv" <<'EOF'
Mã nhiệm vụ|Kỳ báo cáo|Tình trạng|Tỷ lệ hoàn thành|Đơn vị báo cáo|Ngày báo cáo
1584/QĐ-BTC:II.9|Quý II/2024|Đã hoàn thành|100%|Cục THTK|20/6/2024
1584/QĐ-BTC:II.6|Quý 3 năm 2024|Đang thực hiện|60,5%|Tổng cục Thuế|ngày 30 tháng 9 năm 2024

1584/QĐ-BTC:II.7|Quý 3 năm 2024|Đang thực hiện|75%
EOF
sed "s#file: ../units.yaml#file: $TOP/conf/units.yaml#; /column: Nội dung/,+2d" \
	"$TOP/conf/mappings/task-progress.yaml" >"$TMP/m.yaml"
"$LT" import --adapter-dir "$TMP/adapters.d" --adapter example --mapping "$TMP/m.yaml" \
	"$TMP/p.psv" >"$TMP/out" 2>"$TMP/err"
check "the installed gateway runs the example adapter" test $? -eq 0 -a "$(wc -l <"$TMP/out")" -eq 1
check "wrong ABI version refused, naming the file" grep -q "adapter refused: .*a_abi.so: adapter ABI version 99, this gateway speaks 1" "$TMP/err"
check "missing entry symbol refused" grep -q "adapter refused: .*b_nosym.so: missing symbol gw_adapter_entry" "$TMP/err"
check "duplicate name refused" grep -q "adapter refused: .*c_dup.so: duplicate adapter name 'csv'" "$TMP/err"
check "the good row maps: Cục THTK -> Cục CNTT" grep -q '"orgId":"000.01.12.G12","name":"Cục Công nghệ thông tin và Chuyển đổi số"' "$TMP/out"
check "a bad value is reported with FILE:LINE" grep -q "p.psv:3: column 'Tỷ lệ hoàn thành' ('60,5%'): '60,5%' is not a whole number" "$TMP/err"
check "a short row is reported with FILE:LINE" grep -q "p.psv:5: fewer fields than the header" "$TMP/err"
check "the summary counts them" grep -q "1 messages written.*0 invalid, 2 rows not mapped" "$TMP/err"
"$LT" import --adapter-dir "$TMP/adapters.d" --adapter csv --mapping "$TOP/conf/mappings/indicator-targets-2024.yaml" \
	"$TOP/conf/mappings/indicator-targets-2024.csv" >"$TMP/out" 2>"$TMP/err"
check "the built-in csv still runs (the duplicate did not replace it)" test $? -eq 0 -a "$(wc -l <"$TMP/out")" -eq 1
expect_exit "a refused adapter cannot be asked for" 2 "$LT" import --adapter-dir "$TMP/adapters.d" --adapter ext-abi "$TMP/p.psv"
check "... and the known ones are listed" grep -q "no adapter named 'ext-abi' (known: plan-tables csv sqlite example)" "$TMP/err"
finish
