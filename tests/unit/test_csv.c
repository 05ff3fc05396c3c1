/* test_csv.c - the RFC 4180 reader of the csv adapter: quoting, embedded
 * line breaks, BOM, delimiters, and located errors that do not hide the
 * rows after them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv/csv.h"

struct rd {
	FILE *f;
	struct gw_csv *c;
	const char *const *cells;
	size_t n, line;
	char why[300];
};

static void open_text(struct rd *r, const char *text, size_t len, char d)
{
	memset(r, 0, sizeof(*r));
	r->f = fmemopen((void *)text, len, "rb");
	assert_non_null(r->f);
	r->c = gw_csv_new(r->f, d);
	assert_non_null(r->c);
}

static int next(struct rd *r)
{
	r->why[0] = '\0';
	return gw_csv_next(r->c, &r->cells, &r->n, &r->line, r->why,
			   sizeof(r->why));
}

static void close_rd(struct rd *r)
{
	gw_csv_free(r->c);
	fclose(r->f);
}

static void row(struct rd *r, size_t line, size_t n, ...)
{
	va_list ap;
	size_t i;

	assert_int_equal(next(r), 1);
	assert_int_equal(r->line, line);
	assert_int_equal(r->n, n);
	va_start(ap, n);
	for (i = 0; i < n; i++)
		assert_string_equal(r->cells[i], va_arg(ap, const char *));
	va_end(ap);
}

static void test_csv__quoting(void **state)
{
	static const char t[] = "a,b,c\n"
				"\"x, y\",\"say \"\"hi\"\"\",\"\"\n"
				"1,,3\n"
				"\"multi\nline\ncell\",2,3\n"
				"last,row,\"q\"";
	struct rd r;

	(void)state;
	open_text(&r, t, sizeof(t) - 1, 0);
	row(&r, 1, 3, "a", "b", "c");
	row(&r, 2, 3, "x, y", "say \"hi\"", "");
	row(&r, 3, 3, "1", "", "3");
	row(&r, 4, 3, "multi\nline\ncell", "2", "3");
	/* the embedded line breaks count: this row starts on line 7 */
	row(&r, 7, 3, "last", "row", "q");
	assert_int_equal(next(&r), 0);
	assert_int_equal(gw_csv_delimiter(r.c), ',');
	close_rd(&r);
}

static void test_csv__bom_semicolon_crlf(void **state)
{
	static const char t[] = "\xef\xbb\xbfTT;Lĩnh vực;Giá trị\r\n"
				"1;Lĩnh vực Thuế;0,6321\r\n"
				"\r\n"
				"2;\"Hải quan; cảng\";1.234,5\r\n";
	struct rd r;

	(void)state;
	open_text(&r, t, sizeof(t) - 1, 0);
	row(&r, 1, 3, "TT", "Lĩnh vực", "Giá trị");
	assert_int_equal(gw_csv_delimiter(r.c), ';');
	row(&r, 2, 3, "1", "Lĩnh vực Thuế", "0,6321");
	/* the empty line 3 is skipped, not a row */
	row(&r, 4, 3, "2", "Hải quan; cảng", "1.234,5");
	assert_int_equal(next(&r), 0);
	assert_int_equal(gw_csv_bytes(r.c), sizeof(t) - 1);
	close_rd(&r);
}

static void test_csv__delimiters(void **state)
{
	static const char tab[] = "a\tb\tc,d\n1\t2\t3,4\n";
	static const char forced[] = "a;b,c\n1;2,3\n";
	static const char trailing[] = "a,b,\n1,2,\n";
	struct rd r;

	(void)state;
	open_text(&r, tab, sizeof(tab) - 1, 0);
	row(&r, 1, 3, "a", "b", "c,d");
	row(&r, 2, 3, "1", "2", "3,4");
	close_rd(&r);
	/* set in the mapping: ',' even though the first line has one ';' */
	open_text(&r, forced, sizeof(forced) - 1, ',');
	row(&r, 1, 2, "a;b", "c");
	close_rd(&r);
	/* a delimiter at the end of a line is one more, empty, field */
	open_text(&r, trailing, sizeof(trailing) - 1, 0);
	row(&r, 1, 3, "a", "b", "");
	row(&r, 2, 3, "1", "2", "");
	assert_int_equal(next(&r), 0);
	close_rd(&r);
}

static void test_csv__bad_quoting_located(void **state)
{
	static const char t[] = "a,b\n"
				"\"x\"y,2\n" /* text after a closing quote */
				"ok,1\n"
				"ab\"c,2\n" /* quote in an unquoted field */
				"fine,2\n"
				"\"never closed,3\nmore\n";
	struct rd r;

	(void)state;
	open_text(&r, t, sizeof(t) - 1, 0);
	row(&r, 1, 2, "a", "b");
	assert_int_equal(next(&r), -1);
	assert_int_equal(r.line, 2);
	assert_non_null(strstr(r.why, "field 1: text after its closing quote"));
	/* the reader goes on with the next line */
	row(&r, 3, 2, "ok", "1");
	assert_int_equal(next(&r), -1);
	assert_int_equal(r.line, 4);
	assert_non_null(strstr(r.why, "a quote inside an unquoted field"));
	row(&r, 5, 2, "fine", "2");
	assert_int_equal(next(&r), -1);
	assert_int_equal(r.line, 6);
	assert_non_null(
		strstr(r.why, "the quote opened on line 6 is never closed"));
	assert_int_equal(next(&r), 0);
	close_rd(&r);
}

static void test_csv__nul_and_limits(void **state)
{
	static const char t[] = "a,b\nx\0y,1\nz,2\n";
	char *big;
	size_t n = GW_CSV_MAX_FIELD + 16, i;
	struct rd r;

	(void)state;
	open_text(&r, t, sizeof(t) - 1, 0);
	row(&r, 1, 2, "a", "b");
	assert_int_equal(next(&r), -1);
	assert_non_null(strstr(r.why, "NUL"));
	row(&r, 3, 2, "z", "2");
	close_rd(&r);

	big = malloc(n + 8);
	assert_non_null(big);
	memcpy(big, "a\n\"", 3);
	for (i = 3; i < n; i++)
		big[i] = 'x';
	memcpy(big + n, "\"\nb\n", 4);
	open_text(&r, big, n + 4, ',');
	row(&r, 1, 1, "a");
	assert_int_equal(next(&r), -1);
	assert_non_null(strstr(r.why, "longer than"));
	close_rd(&r);
	free(big);
}

/* An error inside a quoted field (a NUL byte, a field over the limit) must
 * not resume inside that field: what follows its line break is still the
 * field, never rows of their own (record injection). */
static void test_csv__error_in_quotes_skips_the_field(void **state)
{
	static const char nul[] = "a,b\n"
				  "\"x\0y\n"
				  "forged,row\n"
				  "\"\"still,inside\n" /* a doubled quote */
				  "z\",1\n"
				  "ok,2\n";
	static const char after[] =
		"a,b\n"
		"\"x\"y,\"\n" /* text after a quote */
		"forged,row\n"
		"\",1\n"
		"ab\"c,\"\n" /* a quote in an unquoted field */
		"forged,row\n"
		"\"\r\n"
		"ok,2\n";
	static const char open[] = "a,b\n"
				   "\"x\0y\n"
				   "forged,row\n";
	char *big;
	size_t n = GW_CSV_MAX_FIELD + 64, i;
	struct rd r;

	(void)state;
	open_text(&r, nul, sizeof(nul) - 1, 0);
	row(&r, 1, 2, "a", "b");
	assert_int_equal(next(&r), -1);
	assert_int_equal(r.line, 2);
	assert_non_null(strstr(r.why, "field 1: a NUL byte"));
	row(&r, 6, 2, "ok", "2");
	assert_int_equal(next(&r), 0);
	close_rd(&r);

	open_text(&r, after, sizeof(after) - 1, 0);
	row(&r, 1, 2, "a", "b");
	assert_int_equal(next(&r), -1);
	assert_int_equal(r.line, 2);
	assert_non_null(strstr(r.why, "text after its closing quote"));
	assert_int_equal(next(&r), -1);
	assert_int_equal(r.line, 5);
	assert_non_null(strstr(r.why, "a quote inside an unquoted field"));
	row(&r, 8, 2, "ok", "2");
	assert_int_equal(next(&r), 0);
	close_rd(&r);

	/* no closing quote after the error: the rest of the file is the bad
	 * row, nothing after it is read */
	open_text(&r, open, sizeof(open) - 1, 0);
	row(&r, 1, 2, "a", "b");
	assert_int_equal(next(&r), -1);
	assert_int_equal(r.line, 2);
	assert_non_null(strstr(r.why, "a NUL byte"));
	assert_non_null(strstr(r.why, "the quote opened on line 2 is never "
				      "closed"));
	assert_int_equal(next(&r), 0);
	close_rd(&r);

	/* a quoted field over the limit with a forged row after the limit */
	big = malloc(n + 64);
	assert_non_null(big);
	memcpy(big, "a,b\n\"", 5);
	for (i = 5; i < n; i++)
		big[i] = 'x';
	memcpy(big + n, "\nforged,row\n\",1\nok,2\n", 21);
	open_text(&r, big, n + 21, ',');
	row(&r, 1, 2, "a", "b");
	assert_int_equal(next(&r), -1);
	assert_int_equal(r.line, 2);
	assert_non_null(strstr(r.why, "field 1 is longer than"));
	row(&r, 5, 2, "ok", "2");
	assert_int_equal(next(&r), 0);
	close_rd(&r);
	free(big);
}

/* A row over the field limit is refused with the reason, also when the
 * extra field is an empty one after a trailing delimiter, and the lines
 * of the rows after it stay right (LF and CRLF). */
static void test_csv__too_many_fields(void **state)
{
	const char *const ends[2] = { "\n", "\r\n" };
	struct {
		char *p;
		size_t len;
	} t;
	size_t cap = 8 * GW_CSV_MAX_FIELDS + 256, i, e, extra;
	struct rd r;

	(void)state;
	t.p = malloc(cap);
	assert_non_null(t.p);
	for (e = 0; e < 2; e++) {
		for (extra = 0; extra < 3; extra++) {
			/* extra 0: exactly the limit, fine; 1: the limit
			 * and a trailing delimiter; 2: one field more */
			t.len = 0;
			t.len += (size_t)sprintf(t.p + t.len, "a,b%s", ends[e]);
			for (i = 0; i < GW_CSV_MAX_FIELDS; i++)
				t.len += (size_t)sprintf(t.p + t.len, "%s1",
							 i ? "," : "");
			if (extra == 1)
				t.p[t.len++] = ',';
			if (extra == 2)
				t.len += (size_t)sprintf(t.p + t.len, ",2");
			t.len += (size_t)sprintf(t.p + t.len, "%sok,2%s",
						 ends[e], ends[e]);
			open_text(&r, t.p, t.len, ',');
			row(&r, 1, 2, "a", "b");
			if (extra == 0) {
				assert_int_equal(next(&r), 1);
				assert_int_equal(r.n, GW_CSV_MAX_FIELDS);
			} else {
				assert_int_equal(next(&r), -1);
				assert_int_equal(r.line, 2);
				assert_string_equal(r.why,
						    "more than 4096 fields");
			}
			row(&r, 3, 2, "ok", "2");
			assert_int_equal(next(&r), 0);
			close_rd(&r);
		}
	}
	free(t.p);
}

/* A row over 16 MiB in all is refused as such (not as a long field), and
 * the quoted field it ends in is still skipped as a field. */
static void test_csv__row_too_long(void **state)
{
	static const char tail[] = "\nforged,row\n\",1\nok,2\n";
	size_t fl = GW_CSV_MAX_FIELD - 8, n = 16 * (fl + 1) + 256, i, len;
	char *t = malloc(n + sizeof(tail));
	struct rd r;

	(void)state;
	assert_non_null(t);
	for (len = 0, i = 0; i < 16; i++) {
		memset(t + len, 'x', fl);
		len += fl;
		t[len++] = ',';
	}
	t[len++] = '"';
	memset(t + len, 'y', 200);
	len += 200;
	memcpy(t + len, tail, sizeof(tail) - 1);
	len += sizeof(tail) - 1;
	open_text(&r, t, len, ',');
	assert_int_equal(next(&r), -1);
	assert_int_equal(r.line, 1);
	assert_non_null(strstr(r.why, "the row is longer than 16777216 bytes"));
	row(&r, 4, 2, "ok", "2");
	assert_int_equal(next(&r), 0);
	close_rd(&r);
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_csv__quoting),
		cmocka_unit_test(test_csv__bom_semicolon_crlf),
		cmocka_unit_test(test_csv__delimiters),
		cmocka_unit_test(test_csv__bad_quoting_located),
		cmocka_unit_test(test_csv__nul_and_limits),
		cmocka_unit_test(test_csv__error_in_quotes_skips_the_field),
		cmocka_unit_test(test_csv__too_many_fields),
		cmocka_unit_test(test_csv__row_too_long),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
