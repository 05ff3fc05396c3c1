/* test_sdmx.c - the SDMX format adapters through gateway/format.c:
 * indicator.report -> SDMX-ML 3.0 -> indicator.report keeps every field,
 * every produced message validates against the official SDMX-ML schemas
 * with the generated dataflow schema, the ECB samples validate with the
 * same loading code, and what the catalogue does not know is refused.
 *
 * The official schemas are not in the repository: the tests that need
 * them skip with a message when ../shared/testsuites/sdmx is absent. */
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
#include "adapt/format.h"
#include "model/jsonschema.h"
#include "base/xml.h"

#define SDMX "../shared/testsuites/sdmx"
#define REPORT "conf/examples/indicator-report-2024-targets.json"

static struct gw_format *F;
static int have_sdmx;

#define NEED_SDMX()                                                  \
	do {                                                         \
		if (!have_sdmx) {                                    \
			print_message("skip: " SDMX " is absent\n"); \
			skip();                                      \
		}                                                    \
	} while (0)

static json_t *load(const char *path)
{
	json_error_t je;
	json_t *j = json_load_file(path, 0, &je);

	assert_non_null(j);
	return j;
}

static char *to_wire(const char *fmt, const json_t *msg, gw_rc want,
		     struct gw_err *err)
{
	struct gw_buf b;
	gw_rc rc;

	gw_buf_init(&b);
	gw_err_clear(err);
	rc = gw_format_to_wire(F, fmt, msg, &b, NULL, NULL, err);
	if (rc != want)
		fail_msg("to %s: rc %d, wanted %d: %s", fmt, rc, want,
			 err->msg);
	if (rc) {
		gw_buf_release(&b);
		return NULL;
	}
	return gw_buf_detach(&b, NULL);
}

static json_t *from_wire(const char *fmt, const char *buf, gw_rc want,
			 struct gw_err *err)
{
	json_t *m = NULL;
	gw_rc rc;

	gw_err_clear(err);
	rc = gw_format_from_wire(F, fmt, buf, strlen(buf), "t", &m, NULL, err);
	if (rc != want)
		fail_msg("from %s: rc %d, wanted %d: %s", fmt, rc, want,
			 err->msg);
	return m;
}

/* Equal reports, observations compared as a multiset: SDMX groups them
 * by series, so observations of one series come back together. */
static int same_report(const json_t *a, const json_t *b)
{
	json_t *ca = json_deep_copy(a), *cb = json_deep_copy(b);
	json_t *oa =
		json_object_get(json_object_get(a, "payload"), "observations");
	json_t *ob =
		json_object_get(json_object_get(b, "payload"), "observations");
	char used[256] = { 0 };
	size_t i, j, n = json_array_size(oa);
	int same;

	json_object_del(json_object_get(ca, "payload"), "observations");
	json_object_del(json_object_get(cb, "payload"), "observations");
	same = json_equal(ca, cb) && n == json_array_size(ob) && n <= 256;
	for (i = 0; same && i < n; i++) {
		for (j = 0; j < n; j++)
			if (!used[j] && json_equal(json_array_get(oa, i),
						   json_array_get(ob, j)))
				break;
		if (j == n)
			same = 0;
		else
			used[j] = 1;
	}
	json_decref(ca);
	json_decref(cb);
	return same;
}

static void roundtrip(const char *fmt, json_t *a)
{
	struct gw_err err;
	char *x = to_wire(fmt, a, GW_OK, &err);
	json_t *b = from_wire(fmt, x, GW_OK, &err);

	if (!same_report(a, b)) {
		char *s = json_dumps(b, JSON_INDENT(1));

		fail_msg("changed through %s:\n%s", fmt, s);
	}
	json_decref(b);
	free(x);
}

static void test_sdmx__ml_roundtrip(void **state)
{
	json_t *a;

	(void)state;
	NEED_SDMX();
	a = load(REPORT);
	roundtrip("sdmx-ml", a);
	roundtrip("sdmx-json", a);
	json_decref(a);
}

/* Every observation status, both value types, no dimensions, a
 * correlation id and a public classification. */
static void test_sdmx__ml_roundtrip_variants(void **state)
{
	static const char *const st[] = { "normal", "provisional", "estimated",
					  "revised", "missing" };
	json_t *a, *obs, *o;
	size_t i;

	(void)state;
	NEED_SDMX();
	a = load(REPORT);
	obs = json_object_get(json_object_get(a, "payload"), "observations");
	json_array_foreach(obs, i, o)
	{
		json_object_set_new(o, "status", json_string(st[i % 5]));
		if (i % 2)
			json_object_set_new(o, "valueType",
					    json_string("actual"));
		if (i == 0)
			json_object_del(o, "dimensions");
		if (i == 4)
			json_object_set_new(o, "value",
					    json_string("12.5000000001"));
		if (i == 5)
			json_object_del(o, "status");
	}
	json_object_set_new(a, "classification", json_string("public"));
	json_object_set_new(
		a, "correlationId",
		json_string("7a0d3c55-2e1b-4f7a-8c3d-1584a0000209"));
	roundtrip("sdmx-ml", a);
	roundtrip("sdmx-json", a);
	json_decref(a);
}

static void test_sdmx__ml_refuses_what_the_catalogue_lacks(void **state)
{
	struct gw_err err;
	json_t *a, *o;

	(void)state;
	NEED_SDMX();
	a = load(REPORT);
	o = json_array_get(
		json_object_get(json_object_get(a, "payload"), "observations"),
		2);
	json_object_set_new(o, "code", json_string("NOT.IN.CATALOGUE"));
	assert_null(to_wire("sdmx-ml", a, GW_ERR_UNSUPPORTED, &err));
	assert_non_null(strstr(err.msg, "/payload/observations/2"));
	assert_non_null(strstr(err.msg, "indicator catalogue"));
	json_decref(a);

	a = load(REPORT);
	o = json_array_get(
		json_object_get(json_object_get(a, "payload"), "observations"),
		0);
	json_object_set_new(json_array_get(json_object_get(o, "dimensions"), 0),
			    "value", json_string("fisheries"));
	assert_null(to_wire("sdmx-ml", a, GW_ERR_UNSUPPORTED, &err));
	assert_non_null(strstr(err.msg, "'fisheries' is not a code"));
	json_decref(a);

	/* two observations SDMX cannot tell apart */
	a = load(REPORT);
	o = json_object_get(json_object_get(a, "payload"), "observations");
	json_array_append_new(o, json_deep_copy(json_array_get(o, 4)));
	assert_null(to_wire("sdmx-ml", a, GW_ERR_UNSUPPORTED, &err));
	assert_non_null(strstr(err.msg, "same indicator"));
	assert_null(to_wire("sdmx-json", a, GW_ERR_UNSUPPORTED, &err));
	json_decref(a);
}

/* Replace the first occurrence of from by to (same length or shorter). */
static void replace(char *s, const char *from, const char *to)
{
	char *p = strstr(s, from);

	assert_non_null(p);
	memmove(p + strlen(to), p + strlen(from), strlen(p + strlen(from)) + 1);
	memcpy(p, to, strlen(to));
}

static void test_sdmx__ml_input_is_validated(void **state)
{
	struct gw_err err;
	json_t *a;
	char *x;

	(void)state;
	NEED_SDMX();
	a = load(REPORT);
	x = to_wire("sdmx-ml", a, GW_OK, &err);
	replace(x, "OBS_STATUS=\"A\"", "OBS_STATUS=\"Z\"");
	assert_null(from_wire("sdmx-ml", x, GW_ERR_SCHEMA, &err));
	free(x);
	x = to_wire("sdmx-ml", a, GW_OK, &err);
	replace(x, "FIELD=\"tax\"", "FIELD=\"xyz\"");
	assert_null(from_wire("sdmx-ml", x, GW_ERR_SCHEMA, &err));
	free(x);
	x = to_wire("sdmx-ml", a, GW_OK, &err);
	replace(x, "OBS_VALUE=\"100\"", "OBS_VALUE=\"1e2\"");
	assert_null(from_wire("sdmx-ml", x, GW_ERR_SCHEMA, &err));
	free(x);
	json_decref(a);
}

/* The ECB samples validate with our XSD loading: the message schema and
 * the sample's dataflow schema together, as our own output does; and a
 * tampered sample does not. */
static void ecb(const char *dir, const char *xml, const char *xsd)
{
	char wrap[] = "/tmp/lienthong-test-sdmx-XXXXXX.xsd", path[512], ns[512];
	char cwd[256];
	char *buf = NULL, *p, *q;
	struct gw_xsd *x = NULL;
	struct gw_err err;
	xmlDocPtr doc = NULL;
	size_t len;
	FILE *f;
	int fd;

	snprintf(path, sizeof(path), SDMX "/sdmx-ml-3.0/samples/%s/%s", dir,
		 xsd);
	assert_int_equal(gw_read_file(path, 0, &buf, &len, &err), GW_OK);
	p = strstr(buf, "targetNamespace=\"");
	assert_non_null(p);
	p += strlen("targetNamespace=\"");
	q = strchr(p, '"');
	snprintf(ns, sizeof(ns), "%.*s", (int)(q - p), p);
	free(buf);
	fd = mkstemps(wrap, 4);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	fprintf(f,
		"<xs:schema xmlns:xs=\"http://www.w3.org/2001/XMLSchema\" "
		"targetNamespace=\"urn:test\">\n"
		"<xs:import namespace=\"http://www.sdmx.org/resources/sdmxml/"
		"schemas/v3_0/message\" schemaLocation=\"%s/" SDMX
		"/sdmx-ml-3.0/schemas/SDMXMessage.xsd\"/>\n"
		"<xs:import namespace=\"%s\" schemaLocation=\"%s/" SDMX
		"/sdmx-ml-3.0/samples/%s/%s\"/>\n"
		"</xs:schema>\n",
		cwd, ns, cwd, dir, xsd);
	fclose(f);
	if (gw_xsd_load(wrap, &x, &err))
		fail_msg("%s", err.msg);
	snprintf(path, sizeof(path), SDMX "/sdmx-ml-3.0/samples/%s/%s", dir,
		 xml);
	assert_int_equal(gw_read_file(path, 0, &buf, &len, &err), GW_OK);
	assert_int_equal(gw_xml_parse(buf, len, path, &doc, &err), GW_OK);
	if (gw_xsd_validate(x, doc, path, stderr, &err))
		fail_msg("%s", err.msg);
	xmlFreeDoc(doc);
	/* a currency the code list does not have */
	p = strstr(buf, "CURRENCY=\"");
	assert_non_null(p);
	memcpy(p + strlen("CURRENCY=\""), "QQQ", 3);
	assert_int_equal(gw_xml_parse(buf, len, path, &doc, &err), GW_OK);
	assert_int_equal(gw_xsd_validate(x, doc, path, NULL, &err),
			 GW_ERR_SCHEMA);
	xmlFreeDoc(doc);
	free(buf);
	gw_xsd_free(x);
	unlink(wrap);
}

static void test_sdmx__json_input_is_validated(void **state)
{
	struct gw_err err;
	json_t *a;
	char *x;

	(void)state;
	NEED_SDMX();
	a = load(REPORT);
	x = to_wire("sdmx-json", a, GW_OK, &err);
	/* the official schema asserts formats: a date-time that is not one */
	replace(x, "\"prepared\": \"2024-07-08T09",
		"\"prepared\": \"2024-17-08T09");
	assert_null(from_wire("sdmx-json", x, GW_ERR_SCHEMA, &err));
	free(x);
	x = to_wire("sdmx-json", a, GW_OK, &err);
	replace(x, "\"action\": \"Information\"", "\"action\": \"Guess\"");
	assert_null(from_wire("sdmx-json", x, GW_ERR_SCHEMA, &err));
	free(x);
	/* schema-valid, but an indicator the catalogue does not have */
	x = to_wire("sdmx-json", a, GW_OK, &err);
	replace(x, "\"value\": \"DVCTT.TOAN_TRINH\"", "\"value\": \"DVCTT.X\"");
	assert_null(from_wire("sdmx-json", x, GW_ERR_SCHEMA, &err));
	assert_non_null(strstr(err.msg, "'DVCTT.X' is not in the indicator"));
	free(x);
	json_decref(a);
}

/* The official SDMX-JSON samples validate against the official schema
 * with format assertion, through our JSON Schema loading. */
static void test_sdmx__json_samples_validate(void **state)
{
	static const char *const samples[] = { "agri.json",
					       "constructed-sample-full.json",
					       "generated-sample.json",
					       "exr/exr-action-delete.json",
					       "exr/exr-cross-section.json",
					       "exr/exr-flat.json",
					       "exr/exr-time-series.json" };
	struct gw_js_schema *s = NULL;
	struct gw_err err;
	size_t i;

	(void)state;
	NEED_SDMX();
	assert_int_equal(gw_js_compile_file(NULL,
					    SDMX
					    "/sdmx-json/data-message/tools/"
					    "schemas/sdmx-json-data-"
					    "schema.json",
					    GW_JS_FORMAT_ASSERT, &s, &err),
			 GW_OK);
	for (i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		char path[256];
		json_error_t je;
		json_t *j;

		snprintf(path, sizeof(path),
			 SDMX "/sdmx-json/data-message/samples/%s", samples[i]);
		j = json_load_file(path, 0, &je);
		assert_non_null(j);
		if (!gw_js_validate(s, j, NULL))
			fail_msg("%s is not valid", samples[i]);
		json_decref(j);
	}
	gw_js_schema_free(s);
}

/* The report packet (our QCVN 125:2021 profile) needs no outside
 * schema: round trips in both syntaxes, variants included. */
static void test_sdmx__report_packet_roundtrip(void **state)
{
	json_t *a, *o;
	size_t i;

	(void)state;
	a = load(REPORT);
	roundtrip("report-packet", a);
	roundtrip("report-packet-json", a);
	json_array_foreach(
		json_object_get(json_object_get(a, "payload"), "observations"),
		i, o)
	{
		if (i % 2)
			json_object_del(o, "period");
		if (i % 3 == 0)
			json_object_del(o, "dimensions");
		if (i % 4 == 0)
			json_object_set_new(o, "status",
					    json_string("provisional"));
	}
	json_object_del(json_object_get(a, "payload"), "sourceDocument");
	json_object_set_new(json_object_get(a, "payload"), "period",
			    json_string("2024-Q3"));
	json_object_set_new(
		a, "correlationId",
		json_string("7a0d3c55-2e1b-4f7a-8c3d-1584a0000209"));
	roundtrip("report-packet", a);
	roundtrip("report-packet-json", a);
	json_decref(a);
}

static void test_sdmx__report_packet_refusals(void **state)
{
	struct gw_err err;
	json_t *a, *o;
	char *x;

	(void)state;
	/* one catalogue entry per indicator: names must agree */
	a = load(REPORT);
	o = json_array_get(
		json_object_get(json_object_get(a, "payload"), "observations"),
		3);
	json_object_set_new(o, "name", json_string("Một tên khác"));
	assert_null(to_wire("report-packet", a, GW_ERR_UNSUPPORTED, &err));
	assert_non_null(strstr(err.msg, "/payload/observations/3"));
	json_decref(a);

	/* a value whose indicator is not in the catalogue: the XSD's keyref
	 * refuses it, and so does the JSON mapping */
	a = load(REPORT);
	x = to_wire("report-packet", a, GW_OK, &err);
	replace(x, "<Value indicator=\"DVCTT.TOAN_TRINH\"",
		"<Value indicator=\"DVCTT.TOAN_TRINX\"");
	assert_null(from_wire("report-packet", x, GW_ERR_SCHEMA, &err));
	free(x);
	x = to_wire("report-packet-json", a, GW_OK, &err);
	replace(x, "\"indicator\": \"DVCTT.TOAN_TRINH\"",
		"\"indicator\": \"DVCTT.TOAN_TRINX\"");
	assert_null(from_wire("report-packet-json", x, GW_ERR_SCHEMA, &err));
	assert_non_null(strstr(err.msg, "not in the packet's indicator "
					"catalogue"));
	free(x);
	/* an amount that is not a decimal */
	x = to_wire("report-packet", a, GW_OK, &err);
	replace(x, "<Amount>100</Amount>", "<Amount>1e2</Amount>");
	assert_null(from_wire("report-packet", x, GW_ERR_SCHEMA, &err));
	free(x);
	json_decref(a);
}

static void test_sdmx__ecb_samples_validate(void **state)
{
	(void)state;
	NEED_SDMX();
	ecb("Data-Simple-Data-Attributes", "ECB_EXR.xml",
	    "ECB_EXR_Dataflow.xsd");
	ecb("Data-Complex-Data-Attributes", "ECB_EXR_CA.xml",
	    "ECB_EXR_CA_Dataflow.xsd");
}

static void test_sdmx__missing_schemas_are_a_clear_error(void **state)
{
	struct gw_format *f = NULL;
	struct gw_buf b;
	struct gw_err err;
	json_t *a = load(REPORT);
	char *old = getenv("LIENTHONG_SDMX_DIR");
	char *keep = old ? strdup(old) : NULL;

	(void)state;
	setenv("LIENTHONG_SDMX_DIR", "/nonexistent", 1);
	assert_int_equal(gw_format_new("schemas", &f, &err), GW_OK);
	gw_buf_init(&b);
	assert_int_equal(
		gw_format_to_wire(f, "sdmx-ml", a, &b, NULL, NULL, &err),
		GW_ERR_CONFIG);
	assert_non_null(strstr(err.msg, "SDMX-ML 3.0 schemas are not "
					"installed"));
	gw_buf_release(&b);
	gw_format_free(f);
	if (keep)
		setenv("LIENTHONG_SDMX_DIR", keep, 1);
	free(keep);
	json_decref(a);
}

static int setup(void **state)
{
	struct gw_err err;

	(void)state;
	gw_xml_init();
	have_sdmx =
		access(SDMX "/sdmx-ml-3.0/schemas/SDMXMessage.xsd", R_OK) == 0;
	if (have_sdmx)
		setenv("LIENTHONG_SDMX_DIR", SDMX, 1);
	return gw_format_new("schemas", &F, &err) == GW_OK ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	gw_format_free(F);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sdmx__ml_roundtrip),
		cmocka_unit_test(test_sdmx__ml_roundtrip_variants),
		cmocka_unit_test(
			test_sdmx__ml_refuses_what_the_catalogue_lacks),
		cmocka_unit_test(test_sdmx__ml_input_is_validated),
		cmocka_unit_test(test_sdmx__json_input_is_validated),
		cmocka_unit_test(test_sdmx__json_samples_validate),
		cmocka_unit_test(test_sdmx__report_packet_roundtrip),
		cmocka_unit_test(test_sdmx__report_packet_refusals),
		cmocka_unit_test(test_sdmx__ecb_samples_validate),
		cmocka_unit_test(test_sdmx__missing_schemas_are_a_clear_error),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
