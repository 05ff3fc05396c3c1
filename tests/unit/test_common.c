/* test_common.c - result codes, error records, buffers, file I/O. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
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

/* Output to something that is not a regular file is written in place,
 * never replaced by the atomic rename (issue 23); a symbolic link is
 * followed, and stays a link. */
static void test_common__atomic_write_never_replaces(void **state)
{
	char dir[] = "/tmp/gwtestXXXXXX";
	char fifo[64], link[64], target[64], sub[64], buf[16];
	struct gw_err err;
	struct stat st;
	char *data;
	size_t len;
	int rfd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	/* a FIFO: read end opened first, the bytes come through it */
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	rfd = open(fifo, O_RDONLY | O_NONBLOCK);
	assert_true(rfd >= 0);
	assert_int_equal(gw_write_file_atomic(fifo, "proof", 5, &err), GW_OK);
	assert_int_equal(read(rfd, buf, sizeof(buf)), 5);
	assert_memory_equal(buf, "proof", 5);
	close(rfd);
	assert_int_equal(lstat(fifo, &st), 0);
	assert_true(S_ISFIFO(st.st_mode));
	/* a character device */
	assert_int_equal(gw_write_file_atomic("/dev/null", "x", 1, &err),
			 GW_OK);
	assert_int_equal(stat("/dev/null", &st), 0);
	assert_true(S_ISCHR(st.st_mode));
	/* a symbolic link, to a file and to nothing yet: followed */
	snprintf(target, sizeof(target), "%s/target", dir);
	snprintf(link, sizeof(link), "%s/link", dir);
	assert_int_equal(symlink("target", link), 0);
	assert_int_equal(gw_write_file_atomic(link, "one", 3, &err), GW_OK);
	assert_int_equal(gw_write_file_atomic(link, "two", 3, &err), GW_OK);
	assert_int_equal(lstat(link, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	assert_int_equal(gw_read_file(target, 0, &data, &len, &err), GW_OK);
	assert_string_equal(data, "two");
	free(data);
	/* a directory is refused and stays */
	snprintf(sub, sizeof(sub), "%s/sub", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	assert_int_equal(gw_write_file_atomic(sub, "x", 1, &err), GW_ERR_IO);
	assert_non_null(strstr(err.msg, "directory"));
	/* standard output */
	assert_int_equal(gw_write_file_atomic("-", "", 0, &err), GW_OK);
	rmdir(sub);
	unlink(link);
	unlink(target);
	unlink(fifo);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_common__err_untouched_on_success),
		cmocka_unit_test(test_common__buf_grows),
		cmocka_unit_test(test_common__alloc_failure_hook),
		cmocka_unit_test(test_common__atomic_write_and_read_limit),
		cmocka_unit_test(test_common__atomic_write_never_replaces),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
