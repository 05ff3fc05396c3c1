/* test_common.c - result codes, error records, buffers, file I/O. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/common.h"

static void test_common__err_untouched_on_success(void **state)
{
	struct gw_err err;

	(void)state;
	gw_err_clear(&err);
	assert_int_equal(gw_err_set(&err, GW_ERR_PARSE, "bad '%s'", "x"),
			 GW_ERR_PARSE);
	assert_string_equal(err.msg, "bad 'x'");
	assert_int_equal(gw_rc_exit(GW_ERR_PARSE), 1);
	assert_int_equal(gw_rc_exit(GW_ERR_USAGE), 2);
	assert_int_equal(gw_rc_exit(GW_ERR_IO), 3);
	assert_int_equal(gw_rc_exit(GW_OK), 0);
}

static void test_common__buf_grows(void **state)
{
	struct gw_buf b;
	size_t len;
	char *s;
	int i;

	(void)state;
	gw_buf_init(&b);
	for (i = 0; i < 1000; i++)
		assert_int_equal(gw_buf_addf(&b, "%04d", i), GW_OK);
	assert_int_equal(b.len, 4000);
	assert_memory_equal(b.data + 3996, "0999", 4);
	s = gw_buf_detach(&b, &len);
	assert_int_equal(len, 4000);
	assert_null(b.data);
	free(s);
}

static void test_common__alloc_failure_hook(void **state)
{
	struct gw_buf b;

	(void)state;
	gw_buf_init(&b);
	gw_alloc_fail_after(0);
	assert_int_equal(gw_buf_adds(&b, "x"), GW_ERR_NOMEM);
	gw_alloc_fail_after(-1);
	assert_int_equal(gw_buf_adds(&b, "x"), GW_OK);
	gw_buf_release(&b);
}

static void test_common__atomic_write_and_read_limit(void **state)
{
	char dir[] = "/tmp/gwtestXXXXXX";
	char path[64];
	struct gw_err err;
	char *data;
	size_t len;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/f", dir);
	assert_int_equal(gw_write_file_atomic(path, "hello", 5, &err), GW_OK);
	assert_int_equal(gw_read_file(path, 0, &data, &len, &err), GW_OK);
	assert_int_equal(len, 5);
	assert_string_equal(data, "hello");
	free(data);
	assert_int_equal(gw_read_file(path, 4, &data, &len, &err),
			 GW_ERR_REFUSED);
	assert_non_null(strstr(err.msg, "limit"));
	assert_int_equal(gw_read_file("/nonexistent/x", 0, &data, &len, &err),
			 GW_ERR_IO);
	assert_non_null(strstr(err.msg, "/nonexistent/x"));
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_common__err_untouched_on_success),
		cmocka_unit_test(test_common__buf_grows),
		cmocka_unit_test(test_common__alloc_failure_hook),
		cmocka_unit_test(test_common__atomic_write_and_read_limit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
