/* test_format.c - gateway/format.c and the format side of the adapter
 * ABI: appended members are read only when the struct is long enough, an
 * adapter needs a source or a format side, the registry's other checks
 * still hold, gw_format_convert serves every format by name, and a wire
 * variant's id is stable. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GW_CORE
#include "adapt/adapter.h"
#include "base/common.h"
#include "adapt/format.h"
#include "base/xml.h"

static int nop_run(void *state, struct gw_adapter_job *job)
{
	return 0;
}

static int nop_to(void *state, const json_t *msg, void **wire, char *e,
		  size_t n)
{
	return -1;
}

static int nop_from(void *state, const void *wire, json_t **msg, char *e,
		    size_t n)
{
	return -1;
}

static int nop_schema(void *state, const char *dir, char *path, size_t n,
		      char *e, size_t en)
{
	return -1;
}

static void test_format__abi_format_side(void **state)
{
	struct gw_adapter_registry *r;
	static struct gw_adapter a[4];
	struct gw_err err;

	(void)state;
	assert_int_equal(gw_adapter_registry_new(&r, &err), GW_OK);
	/* the built-in format adapters are registered */
	assert_true(GW_ADAPTER_HAS_FORMAT(gw_adapter_find(r, "edxml")));
	assert_true(GW_ADAPTER_HAS_FORMAT(gw_adapter_find(r, "sdmx-ml")));
	assert_true(GW_ADAPTER_HAS_FORMAT(gw_adapter_find(r, "sdmx-json")));
	assert_true(GW_ADAPTER_HAS_FORMAT(gw_adapter_find(r, "report-packet")));
	assert_false(GW_ADAPTER_HAS_FORMAT(gw_adapter_find(r, "plan-tables")));

	/* a format adapter needs no run (the registry borrows each struct:
	 * one per registration) */
	memset(a, 0, sizeof(a));
	a[0].abi_version = GW_ADAPTER_ABI_VERSION;
	a[0].size = sizeof(a[0]);
	a[0].name = "fmt";
	a[0].to_wire = nop_to;
	a[0].from_wire = nop_from;
	a[0].wire_schema = nop_schema;
	assert_int_equal(gw_adapter_register(r, &a[0], "t", &err), GW_OK);

	/* a version-1 struct that ends before the format members has no
	 * format side, whatever lies beyond its size */
	a[1] = a[0];
	a[1].name = "old";
	a[1].run = nop_run;
	a[1].size = (uint32_t)(offsetof(struct gw_adapter, fini) +
			       sizeof(a[1].fini));
	assert_int_equal(gw_adapter_register(r, &a[1], "t", &err), GW_OK);
	assert_false(GW_ADAPTER_HAS_FORMAT(gw_adapter_find(r, "old")));

	/* neither a run nor a format side: refused */
	a[2] = a[1];
	a[2].name = "nothing";
	a[2].run = NULL;
	assert_int_equal(gw_adapter_register(r, &a[2], "t", &err),
			 GW_ERR_REFUSED);
	assert_non_null(strstr(err.msg, "no run function and no format side"));

	/* the other checks still hold for format adapters */
	a[3] = a[0];
	a[3].name = "edxml";
	assert_int_equal(gw_adapter_register(r, &a[3], "t", &err),
			 GW_ERR_REFUSED);
	assert_non_null(strstr(err.msg, "duplicate adapter name 'edxml'"));
	a[3].name = "v9";
	a[3].abi_version = 9;
	assert_int_equal(gw_adapter_register(r, &a[3], "t", &err),
			 GW_ERR_REFUSED);

	/* running a format adapter as a source is a usage error */
	assert_int_equal(gw_adapter_run(r, "edxml", NULL, &err), GW_ERR_USAGE);
	gw_adapter_registry_free(r);
}

static json_t *load(const char *path)
{
	json_error_t je;
	json_t *j = json_load_file(path, 0, &je);

	assert_non_null(j);
	return j;
}

static void test_format__convert_by_name(void **state)
{
	json_t *m = load("conf/examples/task-progress-1584-II-9.json");
	const char *mt = NULL;
	struct gw_buf b;
	struct gw_err err;

	(void)state;
	setenv("LIENTHONG_SCHEMA_DIR", "schemas", 1);
	gw_buf_init(&b);
	assert_int_equal(gw_format_convert("edxml", m, &b, &mt, &err), GW_OK);
	assert_string_equal(mt, "application/xml");
	assert_non_null(strstr(b.data, "<StatusCode>06</StatusCode>"));
	gw_buf_release(&b);
	gw_buf_init(&b);
	assert_int_equal(gw_format_convert("json", m, &b, &mt, &err), GW_OK);
	assert_string_equal(mt, "application/json");
	gw_buf_release(&b);
	gw_buf_init(&b);
	assert_int_equal(gw_format_convert("xml", m, &b, &mt, &err), GW_OK);
	assert_non_null(strstr(b.data, "urn:lienthong:message:1"));
	gw_buf_release(&b);
	gw_buf_init(&b);
	assert_int_equal(gw_format_convert("edifact", m, &b, &mt, &err),
			 GW_ERR_USAGE);
	assert_int_equal(gw_format_convert("report-packet", m, &b, &mt, &err),
			 GW_ERR_UNSUPPORTED);
	assert_int_equal(gw_format_convert("plan-tables", m, &b, &mt, &err),
			 GW_ERR_USAGE);
	assert_non_null(strstr(err.msg, "not a format adapter"));
	gw_buf_release(&b);

	/* an invalid canonical message is refused before any mapping */
	json_object_set_new(json_object_get(m, "payload"), "percentComplete",
			    json_integer(140));
	gw_buf_init(&b);
	assert_int_equal(gw_format_convert("edxml", m, &b, &mt, &err),
			 GW_ERR_SCHEMA);
	assert_int_equal(b.len, 0);
	gw_buf_release(&b);
	json_decref(m);
}

static void test_format__wire_ids(void **state)
{
	char a[37], b[37], c[37];

	(void)state;
	assert_int_equal(gw_format_wire_id("0b9e8f7a-6d5c-4b3a-9f1e-"
					   "1584a0000309",
					   "edxml", a),
			 0);
	assert_int_equal(gw_format_wire_id("0b9e8f7a-6d5c-4b3a-9f1e-"
					   "1584a0000309",
					   "edxml", b),
			 0);
	assert_int_equal(gw_format_wire_id("0b9e8f7a-6d5c-4b3a-9f1e-"
					   "1584a0000309",
					   "report-packet", c),
			 0);
	assert_string_equal(a, b);
	assert_string_not_equal(a, c);
	assert_int_equal(a[14], '5'); /* UUID version 5 */
	assert_true(strchr("89ab", a[19]) != NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format__abi_format_side),
		cmocka_unit_test(test_format__convert_by_name),
		cmocka_unit_test(test_format__wire_ids),
	};

	gw_xml_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
