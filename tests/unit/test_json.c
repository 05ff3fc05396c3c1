/*
 * test_json.c - the JSON parser of gateway/json.c against jansson's
 * json_loadb() itself, which it replaces: on a hand-written corpus of edge
 * cases and on generated documents and mutations of them, both must
 * accept the same inputs and build the same values (same types, same
 * member order, bit-identical reals), or refuse them with the same error
 * text, line, column and position.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"

/* Values equal in type, order and bits (json_equal ignores member order
 * and compares reals with ==, so -0.0 would equal 0.0). */
static int same(json_t *a, json_t *b)
{
	size_t i;

	if (json_typeof(a) != json_typeof(b))
		return 0;
	switch (json_typeof(a)) {
	case JSON_OBJECT: {
		void *ia = json_object_iter(a), *ib = json_object_iter(b);

		if (json_object_size(a) != json_object_size(b))
			return 0;
		for (; ia && ib; ia = json_object_iter_next(a, ia),
				 ib = json_object_iter_next(b, ib)) {
			size_t la = json_object_iter_key_len(ia);

			if (la != json_object_iter_key_len(ib) ||
			    memcmp(json_object_iter_key(ia),
				   json_object_iter_key(ib), la) ||
			    !same(json_object_iter_value(ia),
				  json_object_iter_value(ib)))
				return 0;
		}
		return !ia && !ib;
	}
	case JSON_ARRAY:
		if (json_array_size(a) != json_array_size(b))
			return 0;
		for (i = 0; i < json_array_size(a); i++)
			if (!same(json_array_get(a, i), json_array_get(b, i)))
				return 0;
		return 1;
	case JSON_STRING:
		return json_string_length(a) == json_string_length(b) &&
		       !memcmp(json_string_value(a), json_string_value(b),
			       json_string_length(a));
	case JSON_INTEGER:
		return json_integer_value(a) == json_integer_value(b);
	case JSON_REAL: {
		double x = json_real_value(a), y = json_real_value(b);

		return !memcmp(&x, &y, sizeof(x));
	}
	default: return 1;
	}
}

static long n_checked, n_accepted, n_mismatch, n_nul_after_token;

/* jansson's one known slip, which we do not copy: its input stream ends
 * a character with a NUL byte, so a NUL byte read as the look-ahead after
 * a number or a literal and put back is lost: "0\0" is accepted as 0.
 * We refuse it, at that byte ("end of file expected", "']' expected"...).
 * Is b's refusal that case? */
static int nul_after_token(const char *buf, const json_error_t *jb)
{
	int at = jb->position - 1;

	return at >= 1 && buf[at] == '\0' &&
	       ((buf[at - 1] >= '0' && buf[at - 1] <= '9') ||
		(buf[at - 1] >= 'a' && buf[at - 1] <= 'z'));
}

static void show(const char *buf, size_t len)
{
	size_t i;

	fprintf(stderr, "  input (%zu bytes): \"", len);
	for (i = 0; i < len && i < 200; i++) {
		unsigned char c = (unsigned char)buf[i];

		if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\')
			fprintf(stderr, "\\x%02x", c);
		else
			fputc(c, stderr);
	}
	fprintf(stderr, "%s\"\n", i < len ? "..." : "");
}

/* Parse buf with jansson and with ours, for both flag sets; count and
 * print any difference. */
static void check_same(const char *buf, size_t len)
{
	static const size_t flag_sets[] = { 0, JSON_DECODE_ANY,
					    JSON_DECODE_ANY |
						    JSON_DECODE_INT_AS_REAL |
						    JSON_ALLOW_NUL };
	size_t f;

	for (f = 0; f < GW_ARRAY_LEN(flag_sets); f++) {
		json_error_t ja, jb;
		json_t *a = json_loadb(
			buf, len, JSON_REJECT_DUPLICATES | flag_sets[f], &ja);
		json_t *b = gw_json_loadb(buf, len, flag_sets[f], &jb);
		int ok;

		n_checked++;
		if (a && b)
			ok = same(a, b);
		else if (a || b)
			ok = 0;
		else
			ok = ja.line == jb.line && ja.column == jb.column &&
			     ja.position == jb.position &&
			     !strcmp(ja.text, jb.text) &&
			     json_error_code(&ja) == json_error_code(&jb);
		if (a && b)
			n_accepted++;
		if (!ok && !b && nul_after_token(buf, &jb)) {
			n_nul_after_token++;
			ok = 1;
		}
		if (!ok && n_mismatch++ < 20) {
			fprintf(stderr, "mismatch (flags %zu):\n",
				flag_sets[f]);
			show(buf, len);
			fprintf(stderr,
				"  jansson: %s %d:%d@%d '%s' (%d)\n"
				"  ours:    %s %d:%d@%d '%s' (%d)\n",
				a ? "accepts" : "refuses", ja.line, ja.column,
				ja.position, a ? "" : ja.text,
				a ? 0 : (int)json_error_code(&ja),
				b ? "accepts" : "refuses", jb.line, jb.column,
				jb.position, b ? "" : jb.text,
				b ? 0 : (int)json_error_code(&jb));
		}
		json_decref(a);
		json_decref(b);
	}
}

#define CASE(s)                  \
	{                        \
		s, sizeof(s) - 1 \
	}

static const struct {
	const char *s;
	size_t len;
} corpus[] = {
	/* empty and white space */
	CASE(""),
	CASE(" "),
	CASE(" \t\r\n"),
	CASE("\f1"),
	CASE("\v[]"),
	CASE("1 "),
	CASE(" {} \n"),
	CASE("[]\n\n x"),
	CASE("\xc2\xa0[]"),
	/* literals */
	CASE("true"),
	CASE("false"),
	CASE("null"),
	CASE("True"),
	CASE("nul"),
	CASE("nulll"),
	CASE("null1"),
	CASE("[true,false,null]"),
	CASE("[tru]"),
	CASE("truefalse"),
	CASE("[nan]"),
	CASE("NaN"),
	CASE("Infinity"),
	CASE("-Infinity"),
	CASE("[undefined]"),
	CASE("true\xc3\xa9"),
	CASE("true\xff"),
	CASE("true\xc3"),
	/* structure */
	CASE("{}"),
	CASE("[]"),
	CASE("{"),
	CASE("["),
	CASE("}"),
	CASE("]"),
	CASE("[1,]"),
	CASE("[,1]"),
	CASE("[1,,2]"),
	CASE("[1 2]"),
	CASE("{\"a\":1,}"),
	CASE("{,}"),
	CASE("{\"a\"}"),
	CASE("{\"a\":}"),
	CASE("{\"a\" 1}"),
	CASE("{\"a\":1 \"b\":2}"),
	CASE("{1:2}"),
	CASE("{a:1}"),
	CASE("{'a':1}"),
	CASE("['a']"),
	CASE("[1]]"),
	CASE("{}}"),
	CASE("[][]"),
	CASE("{\"a\":1}x"),
	CASE("[1]\x00"),
	CASE("\x00"),
	CASE("[\x00]"),
	CASE("[1,\n2,\n3"),
	CASE("{\"a\":[}"),
	CASE("{\"a\":{\"b\":[1,{\"c\":null}]}}"),
	CASE("[1]/*c*/"),
	CASE("//c\n[1]"),
	CASE("#[1]"),
	CASE("[1]#"),
	CASE("{\"a\":1\n,\n}"),
	/* duplicates */
	CASE("{\"a\":1,\"a\":2}"),
	CASE("{\"a\":1,\"\\u0061\":2}"),
	CASE("{\"a\":1,\"b\":{\"a\":2},\"a\":3}"),
	CASE("{\"\":1,\"\":2}"),
	CASE("{\"a\\u0000\":1}"),
	CASE("{\"\\u00e9\":1,\"\xc3\xa9\":2}"),
	CASE("{\"a\":1,\"A\":2}"),
	CASE("{\"ab\\ncd\":1,\"ab\\ncd\":1}"),
	/* strings */
	CASE("\"\""),
	CASE("\"abc\""),
	CASE("\"abc"),
	CASE("\""),
	CASE("\"a\nb\""),
	CASE("\"a\tb\""),
	CASE("\"a\x01\""),
	CASE("\"a\x1f\""),
	CASE("\"a\x7f\""),
	CASE("\"a\x00b\""),
	CASE("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\""),
	CASE("\"\\a\""),
	CASE("\"\\x41\""),
	CASE("\"\\'\""),
	CASE("\"\\"),
	CASE("\"\\\""),
	CASE("\"\\u\""),
	CASE("\"\\u1\""),
	CASE("\"\\u12\""),
	CASE("\"\\u123\""),
	CASE("\"\\u1234\""),
	CASE("\"\\u12G4\""),
	CASE("\"\\u00e9\""),
	CASE("\"\\u00E9\""),
	CASE("\"\\U00e9\""),
	CASE("\"\\u0000\""),
	CASE("[\"\\u0000\"]"),
	CASE("\"a\\u0000b\""),
	CASE("\"\\uD834\\uDD1E\""),
	CASE("\"\\ud834\\udd1e\""),
	CASE("\"\\uD834\""),
	CASE("\"\\uD834x\""),
	CASE("\"\\uDD1E\""),
	CASE("\"\\uDD1E\\uD834\""),
	CASE("\"\\uD834\\uD834\""),
	CASE("\"\\uD834\\u0041\""),
	CASE("\"\\uD834\\n\""),
	CASE("\"\\uD834\\u12\""),
	CASE("\"\\uD834\\uDD1\""),
	CASE("\"\\uD834\\\""),
	CASE("\"\\uDBFF\\uDFFF\""),
	CASE("\"\\uD800\\uDC00\""),
	CASE("\"\\uD800\\uDC00\\uD800\""),
	CASE("\"\\uD800\" \x01"),
	CASE("\"\\uDC00 \x01\""),
	CASE("\"\\uDC00\\x\""),
	CASE("\"\\uFFFF\""),
	CASE("\"\\uFEFF\""),
	CASE("\"\\u0080\\u07FF\\u0800\""),
	CASE("\"\\/\""),
	CASE("\"12345678901234567890\""),
	CASE("\"1234567890123456789\""),
	CASE("\"123456789012345678\\x\""),
	CASE("\"1234567890123456789\\x\""),
	CASE("\"\\uD834 a long string after the surrogate, over 20\""),
	CASE("\"\\u\xc3\xa9\""),
	CASE("\"\\\xc3\xa9\""),
	CASE("\"\\\xff\""),
	CASE("\"\\u12\xff\""),
	/* UTF-8, every boundary */
	CASE("\"\xc2\x80\""),
	CASE("\"\xdf\xbf\""),
	CASE("\"\xe0\xa0\x80\""),
	CASE("\"\xef\xbf\xbf\""),
	CASE("\"\xf0\x90\x80\x80\""),
	CASE("\"\xf4\x8f\xbf\xbf\""),
	CASE("\"\xed\x9f\xbf\""),
	CASE("\"\xee\x80\x80\""),
	CASE("\"\x80\""),
	CASE("\"\xbf\""),
	CASE("\"\xc0\x80\""),
	CASE("\"\xc1\xbf\""),
	CASE("\"\xe0\x9f\xbf\""),
	CASE("\"\xf0\x8f\xbf\xbf\""),
	CASE("\"\xed\xa0\x80\""),
	CASE("\"\xed\xbf\xbf\""),
	CASE("\"\xf4\x90\x80\x80\""),
	CASE("\"\xf5\x80\x80\x80\""),
	CASE("\"\xf8\x88\x80\x80\x80\""),
	CASE("\"\xfe\""),
	CASE("\"\xff\""),
	CASE("\"\xc3\""),
	CASE("\"\xc3\x28\""),
	CASE("\"\xe2\x82\""),
	CASE("\"\xe2\x82\x28\""),
	CASE("\"\xf0\x9f\x98\""),
	CASE("\"\xc3"),
	CASE("\"\xe2\x82"),
	CASE("\"\xf0\x9f\x98"),
	CASE("\"Vi\xe1\xbb\x87t Nam\""),
	CASE("\"\xef\xbb\xbf\""),
	CASE("\xef\xbb\xbf[]"),
	CASE("\xc3\xa9"),
	CASE("\xff"),
	CASE("[\xff]"),
	CASE("[1,\xc3]"),
	CASE("\n\n\xe2\x82"),
	CASE("\"a long string with an error after 20 bytes\xff\""),
	CASE("\"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\n\""),
	CASE("{\"\xc3\xa9\xc3\xa9\":\n\"\xe1\xbb\x87\",\"x\" 1}"),
	/* numbers */
	CASE("0"),
	CASE("-0"),
	CASE("-0.0"),
	CASE("0.0"),
	CASE("00"),
	CASE("01"),
	CASE("-01"),
	CASE("-"),
	CASE("--1"),
	CASE("+1"),
	CASE("-a"),
	CASE(".5"),
	CASE("5."),
	CASE("5.e3"),
	CASE("5.x"),
	CASE("1e"),
	CASE("1e+"),
	CASE("1e-"),
	CASE("1E5"),
	CASE("1e+5"),
	CASE("1e-5"),
	CASE("1.5e5"),
	CASE("-1.5E-5"),
	CASE("1ee5"),
	CASE("1e5.5"),
	CASE("0x10"),
	CASE("1_000"),
	CASE("[1.]"),
	CASE("[-]"),
	CASE("[1e]"),
	CASE("9223372036854775807"),
	CASE("9223372036854775808"),
	CASE("-9223372036854775808"),
	CASE("-9223372036854775809"),
	CASE("18446744073709551615"),
	CASE("18446744073709551616"),
	CASE("99999999999999999999"),
	CASE("-99999999999999999999"),
	CASE("[9223372036854775808]"),
	CASE("12345678901234567890123"),
	CASE("1.7976931348623157e308"),
	CASE("1.7976931348623159e308"),
	CASE("1e308"),
	CASE("1e309"),
	CASE("-1e309"),
	CASE("1e400"),
	CASE("1e-400"),
	CASE("-1e-400"),
	CASE("4.9e-324"),
	CASE("2.2250738585072014e-308"),
	CASE("1e22"),
	CASE("1e23"),
	CASE("1e-22"),
	CASE("1e-23"),
	CASE("9007199254740993"),
	CASE("9007199254740993.0"),
	CASE("9007199254740992.0"),
	CASE("0.1"),
	CASE("0.30000000000000004"),
	CASE("123456789012345678.9"),
	CASE("1234567890123456789.0"),
	CASE("12345678901234567890.0"),
	CASE("0.000000000000000000000000000001"),
	CASE("1e0000000000000001"),
	CASE("1e-0000000000000001"),
	CASE("1.0e+00"),
	CASE("-0e0"),
	CASE("-0.0e-0"),
	CASE("1E400"),
	CASE("[1e309]"),
	CASE("1\xff"),
	CASE("1.\xff"),
	CASE("1e\xff"),
	CASE("0\xff"),
	CASE("-\xff"),
	CASE("12345678901234567890\xff"),
	CASE("1\xc3\xa9"),
	CASE("1.5\n"),
	CASE("1 2"),
	CASE("1,2"),
	CASE("1.5.5"),
	CASE("1-2"),
	CASE("1e5e5"),
	CASE("[0.5,-0.25,100,1e2,1E-2]"),
	CASE("12345678901234567890123456789012345678901234567890e-30"),
	CASE("1234567890123456789012345678901234567890123456789012345678901234"
	     "567890.5"),
	/* lines and columns */
	CASE("{\n  \"a\": 1,\n  \"b\": x\n}"),
	CASE("[\n\n\n]]"),
	CASE("[\"\xc3\xa9\xe1\xbb\x87\xf0\x9f\x98\x80\", x]"),
	CASE("\n\n\n"),
	CASE("[1,\n"),
	CASE("{\"a\":\n"),
	CASE("\r\n[1,\r\n2 3]"),
};

static void test_json__corpus_same_as_jansson(void **state)
{
	size_t i;

	(void)state;
	n_mismatch = 0;
	for (i = 0; i < GW_ARRAY_LEN(corpus); i++)
		check_same(corpus[i].s, corpus[i].len);
	assert_int_equal(n_mismatch, 0);
}

/* depth levels of arrays or objects, with or without a value inside. */
static char *nested(int depth, int objects, const char *inner, size_t *len)
{
	struct gw_buf b;
	int i;

	gw_buf_init(&b);
	for (i = 0; i < depth; i++)
		assert_int_equal(gw_buf_adds(&b, objects ? "{\"k\":" : "["),
				 GW_OK);
	if (objects && !*inner)
		inner = "{}"; /* the innermost object is the last level */
	assert_int_equal(gw_buf_adds(&b, inner), GW_OK);
	for (i = 0; i < depth; i++)
		assert_int_equal(gw_buf_adds(&b, objects ? "}" : "]"), GW_OK);
	*len = b.len;
	return gw_buf_detach(&b, len);
}

static void test_json__depth_same_as_jansson(void **state)
{
	static const int depths[] = { 1, 100, 2046, 2047, 2048, 2049, 10000 };
	static const char *inners[] = { "", "1", "\"s\"", "[]", "x", "]" };
	size_t i, j, len;
	int objects;

	(void)state;
	n_mismatch = 0;
	for (i = 0; i < GW_ARRAY_LEN(depths); i++)
		for (j = 0; j < GW_ARRAY_LEN(inners); j++)
			for (objects = 0; objects <= 1; objects++) {
				char *s = nested(depths[i], objects, inners[j],
						 &len);

				check_same(s, len);
				check_same(s, len / 2); /* cut in the middle */
				free(s);
			}
	assert_int_equal(n_mismatch, 0);
}

/* The gateway's entry point: a located message, and too deep is a
 * refusal (not a syntax error). */
static void test_json__parse_errors(void **state)
{
	struct gw_err err;
	json_t *j = NULL;
	size_t len;
	char *s;

	(void)state;
	gw_err_clear(&err);
	assert_int_equal(
		gw_json_parse("{\"a\":1,\n\"a\":2}", 14, "m.json", &j, &err),
		GW_ERR_PARSE);
	assert_null(j);
	assert_string_equal(err.msg,
			    "m.json:2:3: duplicate object key near '\"a\"'");
	s = nested(2049, 0, "", &len);
	assert_int_equal(gw_json_parse(s, len, "deep.json", &j, &err),
			 GW_ERR_REFUSED);
	assert_non_null(strstr(err.msg, "maximum parsing depth"));
	free(s);
	assert_int_equal(gw_json_parse("[1] x", 5, "t.json", &j, &err),
			 GW_ERR_PARSE);
	assert_string_equal(err.msg,
			    "t.json:1:5: end of file expected near 'x'");
	assert_int_equal(gw_json_parse("1e999", 5, "t.json", &j, &err),
			 GW_ERR_PARSE);
	assert_string_equal(err.msg,
			    "t.json:1:5: real number overflow near '1e999'");
	assert_int_equal(
		gw_json_parse("[9223372036854775808]", 21, "t.json", &j, &err),
		GW_ERR_PARSE);
	assert_non_null(strstr(err.msg, "too big integer"));
	assert_int_equal(
		gw_json_parse("-9223372036854775809", 20, "t.json", &j, &err),
		GW_ERR_PARSE);
	assert_non_null(strstr(err.msg, "too big negative integer"));
	assert_int_equal(gw_json_parse("", 0, "empty.json", &j, &err),
			 GW_ERR_PARSE);
	assert_string_equal(err.msg, "empty.json:1:0: unexpected token near "
				     "end of file");
	/* a top-level scalar is a value for gw_json_parse, not for the
	 * object-only entry point */
	assert_int_equal(gw_json_parse(" 42 ", 4, "t.json", &j, &err), GW_OK);
	assert_true(json_is_integer(j) && json_integer_value(j) == 42);
	json_decref(j);
	assert_null(gw_json_loadb("42", 2, 0, NULL));
	/* a NUL byte is no white space, not even after a number (jansson
	 * loses it there and accepts "0\0") */
	assert_int_equal(gw_json_parse("0\0", 2, "t.json", &j, &err),
			 GW_ERR_PARSE);
	assert_string_equal(err.msg, "t.json:1:2: end of file expected near "
				     "end of file");
	assert_int_equal(gw_json_parse("[true\0]", 7, "t.json", &j, &err),
			 GW_ERR_PARSE);
}

static void test_json__values(void **state)
{
	static const char doc[] =
		"{\"i\":-9223372036854775808,\"r\":-0.0,\"e\":1E2,"
		"\"s\":\"a\\u00e9\\uD834\\uDD1E\\n\",\"raw\":"
		"\"Vi\xe1\xbb\x87t\","
		"\"a\":[true,false,null,{}],\"z\":-0}";
	json_error_t je;
	json_t *j = gw_json_loadb(doc, sizeof(doc) - 1, 0, &je);

	(void)state;
	assert_non_null(j);
	assert_true(json_integer_value(json_object_get(j, "i")) == INT64_MIN);
	assert_true(json_is_real(json_object_get(j, "r")));
	assert_true(json_is_real(json_object_get(j, "e")));
	assert_true(json_real_value(json_object_get(j, "e")) == 100.0);
	assert_true(json_is_integer(json_object_get(j, "z")));
	assert_string_equal(json_string_value(json_object_get(j, "s")),
			    "a\xc3\xa9\xf0\x9d\x84\x9e\n");
	assert_string_equal(json_string_value(json_object_get(j, "raw")),
			    "Vi\xe1\xbb\x87t");
	assert_int_equal(json_array_size(json_object_get(j, "a")), 4);
	assert_string_equal(json_object_iter_key(json_object_iter(j)), "i");
	json_decref(j);
}

/* A small deterministic generator (xorshift64*). */
static uint64_t rng = 0x9E3779B97F4A7C15ull;

static unsigned rnd(unsigned n)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (unsigned)((rng * 0x2545F4914F6CDD1Dull) >> 33) % n;
}

static void add(struct gw_buf *b, const char *s)
{
	assert_int_equal(gw_buf_adds(b, s), GW_OK);
}

static void gen_ws(struct gw_buf *b)
{
	static const char *ws[] = { "", "", "", " ", "\n", "\t", "\r\n  " };

	add(b, ws[rnd(GW_ARRAY_LEN(ws))]);
}

static void gen_string(struct gw_buf *b)
{
	static const char *pieces[] = {
		"a",
		"Z",
		" ",
		"0",
		"~",
		"/",
		"\\\"",
		"\\\\",
		"\\/",
		"\\b",
		"\\f",
		"\\n",
		"\\r",
		"\\t",
		"\\u0041",
		"\\u00e9",
		"\\u20AC",
		"\\uD83D\\uDE00",
		"\\uffff",
		"\\u0001",
		"\xc3\xa9",
		"\xe1\xbb\x87",
		"\xf0\x9f\x98\x80",
		"\xc2\x80",
		"\xef\xbf\xbf",
		"\xf4\x8f\xbf\xbf",
		"quite a long piece of plain ascii text ",
		"0123456789abcdefghijklmnopqrstuvwxyz-_",
		/* rarely: what must be refused */
		"\\uD800",
		"\\uDC00",
		"\\u0000",
		"\\x",
		"\x01",
		"\xed\xa0\x80",
		"\xc0\xaf",
		"\xff",
	};
	unsigned n = rnd(12), i;

	add(b, "\"");
	for (i = 0; i < n; i++) {
		unsigned k = rnd(GW_ARRAY_LEN(pieces));

		/* the refused pieces at the end of the list, 1 in 8 */
		if (k >= GW_ARRAY_LEN(pieces) - 8 && rnd(8))
			k = rnd(GW_ARRAY_LEN(pieces) - 8);
		add(b, pieces[k]);
	}
	add(b, "\"");
}

static void gen_number(struct gw_buf *b)
{
	char t[64];
	unsigned i, n;

	if (rnd(2))
		add(b, "-");
	if (rnd(4) == 0) {
		add(b, "0");
	} else {
		n = 1 + rnd(rnd(4) ? 6 : 22);
		for (i = 0; i < n; i++) {
			snprintf(t, sizeof(t), "%u", i ? rnd(10) : 1 + rnd(9));
			add(b, t);
		}
	}
	if (rnd(3) == 0) {
		add(b, ".");
		n = 1 + rnd(rnd(4) ? 4 : 25);
		for (i = 0; i < n; i++) {
			snprintf(t, sizeof(t), "%u", rnd(10));
			add(b, t);
		}
	}
	if (rnd(4) == 0) {
		static const char *e[] = { "e", "E", "e+", "e-", "E-" };

		add(b, e[rnd(GW_ARRAY_LEN(e))]);
		snprintf(t, sizeof(t), "%u",
			 rnd(3)	  ? rnd(30)
			 : rnd(2) ? rnd(400)
				  : rnd(100000));
		add(b, t);
	}
}

static void gen_value(struct gw_buf *b, int depth)
{
	unsigned k = rnd(depth > 5 ? 6 : 9), i, n;
	char key[16];

	gen_ws(b);
	switch (k) {
	case 0: add(b, rnd(2) ? "true" : rnd(2) ? "false" : "null"); break;
	case 1:
	case 2: gen_number(b); break;
	case 3:
	case 4:
	case 5: gen_string(b); break;
	case 6:
	case 7:
		add(b, "{");
		n = rnd(6);
		for (i = 0; i < n; i++) {
			gen_ws(b);
			if (rnd(6)) {
				snprintf(key, sizeof(key), "\"k%u\"", rnd(40));
				add(b, key); /* duplicates now and then */
			} else {
				gen_string(b);
			}
			gen_ws(b);
			add(b, ":");
			gen_value(b, depth + 1);
			gen_ws(b);
			if (i + 1 < n)
				add(b, ",");
		}
		add(b, "}");
		break;
	default:
		add(b, "[");
		n = rnd(6);
		for (i = 0; i < n; i++) {
			gen_value(b, depth + 1);
			if (i + 1 < n)
				add(b, ",");
		}
		gen_ws(b);
		add(b, "]");
		break;
	}
	gen_ws(b);
}

static void test_json__generated_same_as_jansson(void **state)
{
	static const char bytes[] = "\"\\{}[],:0-+.eEu \n\t\x00\x01\x7f\x80"
				    "\xbf\xc2\xc3\xe0\xed\xf0\xf4\xf5\xfftn";
	long docs = 3000, d, accepted;
	int m;

	(void)state;
	n_mismatch = 0;
	n_checked = n_accepted = 0;
	for (d = 0; d < docs; d++) {
		struct gw_buf b;
		char *s;
		size_t len;

		gw_buf_init(&b);
		gen_value(&b, 0);
		check_same(b.data, b.len);
		/* single-byte mutations: replaced, deleted, inserted, cut */
		for (m = 0; m < 6; m++) {
			size_t at = rnd((unsigned)b.len + 1);

			s = malloc(b.len + 2);
			assert_non_null(s);
			memcpy(s, b.data, b.len);
			len = b.len;
			switch (rnd(4)) {
			case 0:
				if (at < len)
					s[at] = bytes[rnd(sizeof(bytes) - 1)];
				break;
			case 1:
				if (at < len) {
					memmove(s + at, s + at + 1,
						len - at - 1);
					len--;
				}
				break;
			case 2:
				memmove(s + at + 1, s + at, len - at);
				s[at] = bytes[rnd(sizeof(bytes) - 1)];
				len++;
				break;
			default: len = at; break;
			}
			check_same(s, len);
			free(s);
		}
		gw_buf_release(&b);
	}
	accepted = n_accepted;
	printf("# %ld parses compared, %ld accepted by both, %ld refused by us "
	       "for a NUL byte after a number or literal\n",
	       n_checked, accepted, n_nul_after_token);
	assert_int_equal(n_mismatch, 0);
	/* the generator must exercise both sides */
	assert_true(accepted > n_checked / 10);
	assert_true(accepted < n_checked * 9 / 10);
}

/* The Nth allocation failing, for every N: a clean error, no leak. */
static void test_json__allocation_failures(void **state)
{
	static const char doc[] =
		"{\"a\":[1,2.5,\"x\",{\"b\\n\":\"\\u00e9\"}],\"c\":null,"
		"\"long key with an escape \\t\":\"v\"}";
	json_error_t je;
	long n;

	(void)state;
	for (n = 0; n < 1000; n++) {
		json_t *j;

		gw_alloc_fail_after(n);
		j = gw_json_loadb(doc, sizeof(doc) - 1, 0, &je);
		gw_alloc_fail_after(-1);
		if (j) {
			json_decref(j);
			break;
		}
		assert_int_equal(json_error_code(&je),
				 json_error_out_of_memory);
	}
	assert_true(n > 0 && n < 1000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json__corpus_same_as_jansson),
		cmocka_unit_test(test_json__depth_same_as_jansson),
		cmocka_unit_test(test_json__parse_errors),
		cmocka_unit_test(test_json__values),
		cmocka_unit_test(test_json__generated_same_as_jansson),
		cmocka_unit_test(test_json__allocation_failures),
	};

	/* jansson's allocations fail too under gw_alloc_fail_after() */
	json_set_alloc_funcs(gw_malloc, free);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
