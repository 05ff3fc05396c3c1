/* test_config.c - YAML reading, located errors, secrets, logging. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model/config.h"
#include "base/log.h"

static void test_config__yaml_types(void **state)
{
	const char *y = "a: 1\nb: \"1\"\nc: true\nd: ~\ne: 1.5\nf: [x, "
			"'y']\ng: {h: i}\n";
	json_t *j = NULL, *lines = NULL;
	struct gw_err err;

	(void)state;
	assert_int_equal(
		gw_yaml_parse(y, strlen(y), "t.yaml", &j, &lines, &err), GW_OK);
	assert_true(json_is_integer(json_object_get(j, "a")));
	assert_true(json_is_string(json_object_get(j, "b")));
	assert_true(json_is_true(json_object_get(j, "c")));
	assert_true(json_is_null(json_object_get(j, "d")));
	assert_true(json_is_real(json_object_get(j, "e")));
	assert_int_equal(json_array_size(json_object_get(j, "f")), 2);
	assert_int_equal(json_integer_value(json_object_get(lines, "/g/h")), 7);
	json_decref(j);
	json_decref(lines);
}

static void test_config__yaml_refusals(void **state)
{
	json_t *j = NULL;
	struct gw_err err;
	const char *dup = "a: 1\na: 2\n";
	const char *alias = "a: &x 1\nb: *x\n";
	const char *bad = "a: [1, 2\n";

	(void)state;
	assert_int_equal(
		gw_yaml_parse(dup, strlen(dup), "d.yaml", &j, NULL, &err),
		GW_ERR_PARSE);
	assert_non_null(strstr(err.msg, "d.yaml:2: key 'a' is repeated"));
	assert_int_equal(
		gw_yaml_parse(alias, strlen(alias), "a.yaml", &j, NULL, &err),
		GW_ERR_REFUSED);
	assert_int_equal(
		gw_yaml_parse(bad, strlen(bad), "b.yaml", &j, NULL, &err),
		GW_ERR_PARSE);
	assert_non_null(strstr(err.msg, "b.yaml:"));
}

static void write_file(const char *path, const char *s)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(s, f);
	fclose(f);
}

static void test_config__load_and_secrets(void **state)
{
	char dir[] = "/tmp/gwcfgXXXXXX", path[64], sec[64];
	struct gw_config *c = NULL;
	struct gw_err err;
	char *s = NULL;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/g.yaml", dir);
	snprintf(sec, sizeof(sec), "%s/pass.txt", dir);
	write_file(sec, "s3cret\n");
	write_file(path, "gateway:\n  name: m\n  organization: {orgId: "
			 "000.00.00.G12, name: x}\n"
			 "signing:\n  key: k.pem\n  cert: c.pem\n  passphrase: "
			 "{file: pass.txt}\n");
	gw_err_clear(&err);
	assert_int_equal(gw_config_load(path, "schemas", NULL, NULL, &c, &err),
			 GW_OK);
	assert_string_equal(gw_config_str(c, "/gateway/name", NULL), "m");
	assert_int_equal(gw_config_secret(c, "/signing/passphrase", &s, &err),
			 GW_OK);
	assert_string_equal(s, "s3cret");
	free(s);
	s = gw_config_path(c, "/signing/key");
	assert_non_null(strstr(s, dir));
	free(s);
	gw_config_free(c);

	write_file(path, "gateway:\n  name: m\n  organization: {orgId: "
			 "000.00.00.G12, name: x}\n"
			 "signing:\n  key: k.pem\n  cert: c.pem\n  passphrase: "
			 "{env: GW_TEST_UNSET_VAR}\n");
	assert_int_equal(gw_config_load(path, "schemas", NULL, NULL, &c, &err),
			 GW_OK);
	assert_int_equal(gw_config_secret(c, "/signing/passphrase", &s, &err),
			 GW_ERR_CONFIG);
	assert_non_null(strstr(err.msg, "GW_TEST_UNSET_VAR"));
	assert_non_null(strstr(err.msg, ":7: signing.passphrase"));
	gw_config_free(c);

	write_file(path, "gateway:\n  name: 9bad\n  organization: {orgId: "
			 "000.00.00.G12, name: x}\n");
	assert_int_equal(gw_config_load(path, "schemas", NULL, NULL, &c, &err),
			 GW_ERR_CONFIG);
	assert_non_null(strstr(err.msg, "g.yaml:2: gateway.name"));
	unlink(path);
	unlink(sec);
	rmdir(dir);
}

static void test_config__log_lines_are_json(void **state)
{
	char path[] = "/tmp/gwlogXXXXXX";
	struct gw_err err;
	json_error_t je;
	json_t *j;
	FILE *f;
	char line[1024];
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(gw_log_open(path, GW_LOG_INFO, &err), GW_OK);
	gw_log(GW_LOG_DEBUG, "skipped", NULL, "not logged");
	gw_log(GW_LOG_INFO, "validated", "id-1", "quote \" and \n newline");
	gw_log_close();
	f = fopen(path, "r");
	assert_non_null(fgets(line, sizeof(line), f));
	assert_null(fgets(line + 512, 512, f)); /* exactly one line */
	fclose(f);
	j = json_loads(line, 0, &je);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "message_id")),
			    "id-1");
	assert_string_equal(json_string_value(json_object_get(j, "level")),
			    "info");
	json_decref(j);
	unlink(path);
	assert_int_equal(gw_log_level_parse("warn"), GW_LOG_WARN);
	assert_int_equal(gw_log_level_parse("loud"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config__yaml_types),
		cmocka_unit_test(test_config__yaml_refusals),
		cmocka_unit_test(test_config__load_and_secrets),
		cmocka_unit_test(test_config__log_lines_are_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
