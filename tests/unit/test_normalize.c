/* test_normalize.c - timelines, periods, decimals, dates, NFC and units. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/normalize.h"

static void tl(const char *raw, const char *kind, const char *start,
	       const char *end, const char *due)
{
	struct gw_timeline t;

	gw_norm_timeline(raw, &t);
	assert_string_equal(t.kind, kind);
	assert_string_equal(t.start, start);
	assert_string_equal(t.end, end);
	assert_string_equal(t.due, due);
}

static void test_normalize__timelines(void **state)
{
	(void)state;
	tl("Năm 2024", "year", "2024-01-01", "2024-12-31", "2024-12-31");
	tl("Quý II năm 2024", "quarter", "2024-04-01", "2024-06-30",
	   "2024-06-30");
	tl("Quý 3 năm 2024", "quarter", "2024-07-01", "2024-09-30",
	   "2024-09-30");
	tl("Quý II/2019", "quarter", "2019-04-01", "2019-06-30", "2019-06-30");
	tl("QUÝ IV NĂM 2025", "quarter", "2025-10-01", "2025-12-31",
	   "2025-12-31");
	tl("Tháng 3/2020", "month", "2020-03-01", "2020-03-31", "2020-03-31");
	tl("Tháng 2/2024", "month", "2024-02-01", "2024-02-29", "2024-02-29");
	tl("2024 - 2027", "range", "2024-01-01", "2027-12-31", "2027-12-31");
	tl("2019-2020", "range", "2019-01-01", "2020-12-31", "2020-12-31");
	tl("2019", "year", "2019-01-01", "2019-12-31", "2019-12-31");
	tl("Thường xuyên", "ongoing", "", "", "");
	tl("Nhiệm vụ thường xuyên", "ongoing", "", "", "");
	tl("Hàng năm", "recurring", "", "", "");
	tl("Theo yêu cầu của Chính phủ", "on-request", "", "", "");
	tl("Theo lộ trình của Bộ Công an", "per-roadmap", "", "", "");
	tl("Theo lộ trình tại QĐ số 206/QĐ- TTg", "per-roadmap", "", "", "");
	tl("", "unspecified", "", "", "");
	tl("Hoàn thành", "unspecified", "", "", "");
	/* NFD and a no-break space are the same phrase */
	tl("Quy\xcc\x81 II\xc2\xa0na\xcc\x86m 2024", "quarter", "2024-04-01",
	   "2024-06-30", "2024-06-30");
}

static void period(const char *in, const char *want)
{
	char out[16];

	if (!want) {
		assert_int_equal(gw_norm_period(in, out), -1);
		return;
	}
	assert_int_equal(gw_norm_period(in, out), 0);
	assert_string_equal(out, want);
}

static void test_normalize__periods(void **state)
{
	(void)state;
	period("Quý 3 năm 2024", "2024-Q3");
	period("Quý II/2019", "2019-Q2");
	period("Tháng 3/2020", "2020-03");
	period("Năm 2024", "2024");
	period("2024", "2024");
	period("2024-Q1", "2024-Q1");
	period("2024-11", "2024-11");
	period("14/5/2025", "2025-05-14");
	period("Thường xuyên", NULL);
}

static void dec(const char *in, const char *want)
{
	char out[64];

	if (!want) {
		assert_int_equal(gw_norm_decimal(in, out, sizeof(out)), -1);
		return;
	}
	assert_int_equal(gw_norm_decimal(in, out, sizeof(out)), 0);
	assert_string_equal(out, want);
}

static void test_normalize__decimals(void **state)
{
	(void)state;
	dec("0,6321", "0.6321");
	dec("851.372", "851372");
	dec("1.234.567", "1234567");
	dec("1.234,5", "1234.5");
	dec("90%", "90");
	dec(" 100 % ", "100");
	dec("0.5", "0.5");
	dec("-12,5", "-12.5");
	dec("007", "7");
	dec("abc", NULL);
	dec("1,2,3", NULL);
	dec("", NULL);
	dec("12.34.5", NULL);
}

static void date(const char *in, const char *want)
{
	char out[11];

	if (!want) {
		assert_int_equal(gw_norm_date(in, out), -1);
		return;
	}
	assert_int_equal(gw_norm_date(in, out), 0);
	assert_string_equal(out, want);
}

static void test_normalize__dates(void **state)
{
	(void)state;
	date("14/5/2025", "2025-05-14");
	date("ngày 14 tháng 5 năm 2025", "2025-05-14");
	date("Ngày 08 tháng 07 năm 2024", "2024-07-08");
	date("2025-05-14", "2025-05-14");
	date("29/2/2024", "2024-02-29");
	date("29/2/2025", NULL);
	date("31/4/2025", NULL);
	date("14/5", NULL);
}

static void test_normalize__text(void **state)
{
	char *s;

	(void)state;
	s = gw_norm_text("  Quy\xcc\x81\xc2\xa0 II\t\n ");
	assert_non_null(s);
	assert_string_equal(s, "Quý II");
	free(s);
	s = gw_norm_text("\xef\xbb\xbf"
			 "C\xe1\xbb\xa5"
			 "c"); /* BOM dropped */
	assert_non_null(s);
	assert_string_equal(s, "Cục");
	free(s);
	assert_null(gw_norm_text("bad \xff utf-8"));
}

static void units(const char *cell, const char *want)
{
	json_t *a = gw_norm_unit_names(cell), *v;
	char got[2048] = "";
	size_t i;

	assert_non_null(a);
	json_array_foreach(a, i, v)
	{
		if (i)
			strcat(got, "|");
		strcat(got, json_string_value(v));
	}
	assert_string_equal(got, want);
	json_decref(a);
}

static void test_normalize__units(void **state)
{
	(void)state;
	units("Cục THTK và các Tổng cục thuộc Bộ",
	      "Cục THTK|Các Tổng cục thuộc Bộ");
	units("Văn phòng Bộ, Cục THTK", "Văn phòng Bộ|Cục THTK");
	units("Cục KHTC TCT, TCHQ KBNN, UBCKNN, TCDTNN và các đơn vị liên "
	      "quan",
	      "Cục KHTC|TCT|TCHQ|KBNN|UBCKNN|TCDTNN|Các đơn vị liên quan");
	units("Vụ NSNN Vụ Đầu tư và các đơn vị liên quan",
	      "Vụ NSNN|Vụ Đầu tư|Các đơn vị liên quan");
	units("Các đơn vị Tổng cục thuộc Bộ", "Các đơn vị Tổng cục thuộc Bộ");
	units("Bộ Kế hoạch và Đầu tư", "Bộ Kế hoạch và Đầu tư");
	units("Cục QLG (chủ trì về mặt nghiệp vụ, Cục THTK)",
	      "Cục QLG (chủ trì về mặt nghiệp vụ, Cục THTK)");
	units("Lãnh đạo các đơn vị thuộc, trực thuộc Bộ",
	      "Lãnh đạo các đơn vị thuộc, trực thuộc Bộ");
	units("", "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normalize__timelines),
		cmocka_unit_test(test_normalize__periods),
		cmocka_unit_test(test_normalize__decimals),
		cmocka_unit_test(test_normalize__dates),
		cmocka_unit_test(test_normalize__text),
		cmocka_unit_test(test_normalize__units),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
