/* test_jcs.c - RFC 8785 canonicalization: member order by UTF-16 code
 * units, minimal string escapes, ECMAScript number serialization, refusal
 * of duplicates, NaN and Infinity, and a clean output buffer on failure. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/common.h"
#include "model/jcs.h"

/* Canonicalize json and compare with want (NUL-free expectations). */
static void check_canon(const char *json, const char *want)
{
	struct gw_buf out;
	struct gw_err err;

	gw_err_clear(&err);
	gw_buf_init(&out);
	if (gw_jcs_canonicalize(json, strlen(json), &out, &err) != GW_OK)
		fail_msg("'%s' refused: %s", json, err.msg);
	assert_int_equal(out.len, strlen(want));
	assert_memory_equal(out.data, want, out.len);
	gw_buf_release(&out);
}

static void check_refused(const char *json, const char *msg_part)
{
	struct gw_buf out;
	struct gw_err err;

	gw_err_clear(&err);
	gw_buf_init(&out);
	assert_int_equal(gw_jcs_canonicalize(json, strlen(json), &out, &err),
			 GW_ERR_PARSE);
	assert_int_equal(err.rc, GW_ERR_PARSE);
	if (msg_part && !strstr(err.msg, msg_part))
		fail_msg("message '%s' lacks '%s'", err.msg, msg_part);
	assert_int_equal(out.len, 0);
	gw_buf_release(&out);
}

static void check_number(double d, const char *want)
{
	char buf[32];
	struct gw_err err;

	gw_err_clear(&err);
	assert_int_equal(gw_jcs_number(d, buf, &err), GW_OK);
	assert_string_equal(buf, want);
}

static void test_jcs__whitespace_and_nesting(void **state)
{
	(void)state;
	check_canon(" { \"b\" : [ 1 , true , null , false ] ,\n\t\"a\" : { } ,"
		    " \"c\" : [ ] } ",
		    "{\"a\":{},\"b\":[1,true,null,false],\"c\":[]}");
	check_canon("[{\"z\":{\"y\":1,\"x\":2}},\"s\"]",
		    "[{\"z\":{\"x\":2,\"y\":1}},\"s\"]");
	/* Top-level scalars are JSON texts too (RFC 8259). */
	check_canon("  \"x\"  ", "\"x\"");
	check_canon("4.50", "4.5");
	check_canon("null", "null");
}

static void test_jcs__key_order_utf16_not_utf8(void **state)
{
	(void)state;
	/* U+1F600 is F0 9F 98 80 in UTF-8 but D83D DE00 in UTF-16, so it
	 * sorts before U+E000 (EE 80 80) in UTF-16 and after it in UTF-8. */
	check_canon("{\"\\ue000\":1,\"\\ud83d\\ude00\":2,\"a\":3}",
		    "{\"a\":3,\"\xf0\x9f\x98\x80\":2,\"\xee\x80\x80\":1}");
	/* U+FFFF against U+10000: F0.. > EF.. in bytes, D800 < FFFF here. */
	check_canon("{\"\\uffff\":1,\"\\ud800\\udc00\":2}",
		    "{\"\xf0\x90\x80\x80\":2,\"\xef\xbf\xbf\":1}");
	/* A prefix sorts first; code units compare unsigned. */
	check_canon("{\"ab\":1,\"a\":2,\"\\u00e9\":3,\"B\":4,\"\":5}",
		    "{\"\":5,\"B\":4,\"a\":2,\"ab\":1,\"\xc3\xa9\":3}");
	/* The RFC 8785 section 3.2.3 ordering example. */
	check_canon(
		"{\"\\u20ac\":\"Euro Sign\",\"\\r\":\"Carriage Return\","
		"\"\\ufb33\":\"Hebrew Letter Dalet With Dagesh\","
		"\"1\":\"One\",\"\\ud83d\\ude00\":\"Emoji: Grinning Face\","
		"\"\\u0080\":\"Control\",\"\\u00f6\":\"Latin Small Letter O "
		"With Diaeresis\"}",
		"{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\xc2\x80\":"
		"\"Control\",\"\xc3\xb6\":\"Latin Small Letter O With "
		"Diaeresis\",\"\xe2\x82\xac\":\"Euro Sign\","
		"\"\xf0\x9f\x98\x80\":\"Emoji: Grinning Face\","
		"\"\xef\xac\xb3\":\"Hebrew Letter Dalet With Dagesh\"}");
}

static void test_jcs__string_escapes(void **state)
{
	struct gw_buf out;
	struct gw_err err;
	const char *json = "\"\\u0000\\u001f\\u007f\\u2028\\\"\\\\\\/\\b\\f"
			   "\\n\\r\\t\\u0041\\u00e9\\ud83d\\ude00\"";
	const char want[] = "\"\\u0000\\u001f\x7f\xe2\x80\xa8\\\"\\\\/\\b\\f"
			    "\\n\\r\\tA\xc3\xa9\xf0\x9f\x98\x80\"";

	(void)state;
	gw_err_clear(&err);
	gw_buf_init(&out);
	assert_int_equal(gw_jcs_canonicalize(json, strlen(json), &out, &err),
			 GW_OK);
	assert_int_equal(out.len, sizeof(want) - 1);
	assert_memory_equal(out.data, want, out.len);
	gw_buf_release(&out);
	/* Lowercase hex for the other control characters. */
	check_canon("\"\\u001B\\u000b\"", "\"\\u001b\\u000b\"");
	/* Raw UTF-8 passes through unchanged. */
	check_canon("\"ti\xe1\xba\xbfng Vi\xe1\xbb\x87t\"",
		    "\"ti\xe1\xba\xbfng Vi\xe1\xbb\x87t\"");
}

static void test_jcs__number_thresholds(void **state)
{
	(void)state;
	check_number(1e21, "1e+21");
	check_number(1e20, "100000000000000000000");
	check_number(123e18, "123000000000000000000");
	check_number(1e-7, "1e-7");
	check_number(1.5e-7, "1.5e-7");
	check_number(1e-6, "0.000001");
	check_number(1.25e-6, "0.00000125");
	check_number(-0.0, "0");
	check_number(0.0, "0");
	check_number(5e-324, "5e-324");
	check_number(-5e-324, "-5e-324");
	check_number(1.7976931348623157e308, "1.7976931348623157e+308");
	check_number(0.1, "0.1");
	check_number(0.1 + 0.2, "0.30000000000000004");
	check_number(-1.5, "-1.5");
	check_number(100, "100");
	check_number(123.456, "123.456");
	check_number(9007199254740992.0, "9007199254740992");
	check_number(2.0e-44, "2e-44");
	check_number(4.35, "4.35");
}

static void test_jcs__numbers_in_text(void **state)
{
	(void)state;
	check_canon("[-0,0.0,1E2,1e+21,1e-7,-0.0000001,1.0,10.50]",
		    "[0,0,100,1e+21,1e-7,-1e-7,1,10.5]");
	/* Integers are doubles: 2^53 + 1 rounds to even, and past int64 the
	 * value is exactly what a double parse of the text gives. */
	check_canon("9007199254740993", "9007199254740992");
	check_canon("18446744073709551617", "18446744073709552000");
	check_canon("-123456789012345678901234567890",
		    "-1.2345678901234568e+29");
	/* Underflow reads as zero, as JSON.parse does. */
	check_canon("1e-400", "0");
}

static void test_jcs__serialize_integer_values(void **state)
{
	struct gw_buf out;
	struct gw_err err;
	json_t *v;

	(void)state;
	gw_err_clear(&err);
	gw_buf_init(&out);
	v = json_pack("{s:I,s:I,s:f}", "big", (json_int_t)9007199254740993LL,
		      "small", (json_int_t)-42, "r", 0.5);
	assert_non_null(v);
	assert_int_equal(gw_jcs_serialize(v, &out, &err), GW_OK);
	assert_string_equal(
		out.data, "{\"big\":9007199254740992,\"r\":0.5,\"small\":-42}");
	json_decref(v);
	gw_buf_release(&out);
}

static void test_jcs__refusals(void **state)
{
	char buf[32];
	struct gw_err err;

	(void)state;
	check_refused("{\"a\":1,\"a\":2}", "duplicate");
	/* Duplicates after unescaping are duplicates too. */
	check_refused("{\"a\":1,\"\\u0061\":2}", "duplicate");
	check_refused("\"\xc3\x28\"", NULL); /* invalid UTF-8 */
	check_refused("\"\\ud800\"", NULL);  /* lone surrogate */
	check_refused("1e400", "overflow");  /* beyond the double range */
	check_refused("NaN", NULL);
	check_refused("[Infinity]", NULL);
	check_refused("{\"a\":1", NULL);
	check_refused("", NULL);
	gw_err_clear(&err);
	assert_int_equal(gw_jcs_number(NAN, buf, &err), GW_ERR_PARSE);
	assert_non_null(strstr(err.msg, "NaN"));
	assert_int_equal(gw_jcs_number(INFINITY, buf, &err), GW_ERR_PARSE);
	assert_int_equal(gw_jcs_number(-INFINITY, buf, &err), GW_ERR_PARSE);
	assert_non_null(strstr(err.msg, "-Infinity"));
}

static void test_jcs__appends_and_rolls_back(void **state)
{
	struct gw_buf out;
	struct gw_err err;

	(void)state;
	gw_err_clear(&err);
	gw_buf_init(&out);
	assert_int_equal(gw_buf_adds(&out, "prefix:"), GW_OK);
	assert_int_equal(gw_jcs_canonicalize("[2,1]", 5, &out, &err), GW_OK);
	assert_string_equal(out.data, "prefix:[2,1]");
	assert_int_equal(
		gw_jcs_canonicalize("[3,{\"a\":1,\"a\":1}]", 17, &out, &err),
		GW_ERR_PARSE);
	assert_string_equal(out.data, "prefix:[2,1]");
	/* Length-bounded input: the text need not be NUL-terminated. */
	assert_int_equal(gw_jcs_canonicalize("[7]garbage", 3, &out, &err),
			 GW_OK);
	assert_string_equal(out.data, "prefix:[2,1][7]");
	gw_buf_release(&out);
}

static void test_jcs__allocation_failures(void **state)
{
	const char *json = "{\"b\":[1,2,{\"d\":\"x\",\"c\":0.5}],\"a\":\"y\"}";
	struct gw_buf out;
	struct gw_err err;
	long n;
	gw_rc rc;

	(void)state;
	for (n = 0;; n++) {
		gw_err_clear(&err);
		gw_buf_init(&out);
		gw_alloc_fail_after(n);
		rc = gw_jcs_canonicalize(json, strlen(json), &out, &err);
		gw_alloc_fail_after(-1);
		if (rc == GW_OK) {
			assert_string_equal(out.data,
					    "{\"a\":\"y\",\"b\":[1,2,"
					    "{\"c\":0.5,\"d\":\"x\"}]}");
			gw_buf_release(&out);
			break;
		}
		assert_int_equal(rc, GW_ERR_NOMEM);
		assert_int_equal(err.rc, GW_ERR_NOMEM);
		assert_int_equal(out.len, 0);
		gw_buf_release(&out);
		assert_true(n < 100);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_jcs__whitespace_and_nesting),
		cmocka_unit_test(test_jcs__key_order_utf16_not_utf8),
		cmocka_unit_test(test_jcs__string_escapes),
		cmocka_unit_test(test_jcs__number_thresholds),
		cmocka_unit_test(test_jcs__numbers_in_text),
		cmocka_unit_test(test_jcs__serialize_integer_values),
		cmocka_unit_test(test_jcs__refusals),
		cmocka_unit_test(test_jcs__appends_and_rolls_back),
		cmocka_unit_test(test_jcs__allocation_failures),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
