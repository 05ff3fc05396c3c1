/*
 * test_torture.c - allocation-failure torture (curl's torture mode): every
 * parser and converter of outside input runs again and again with the Nth
 * allocation failing, N = 0, 1, 2, ... until it succeeds. Each run must
 * fail cleanly (an error, no crash, no leak under the sanitizers) or
 * succeed. jansson and libxml2 are pointed at gw_malloc so that their
 * allocations fail too.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <libxml/parser.h>
#include <libxml/xmlmemory.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/config.h"
#include "csv/csv.h"
#include "base/json.h"
#include "adapt/mapping.h"
#include "model/message.h"
#include "adapt/profile.h"
#include "base/xml.h"

static char *xml_strdup(const char *s)
{
	return gw_strdup(s);
}

static char *slurp(const char *path, size_t *len)
{
	char *buf = NULL;
	struct gw_err err;

	assert_int_equal(gw_read_file(path, 0, &buf, len, &err), GW_OK);
	return buf;
}

/* Run op with the Nth allocation failing for N = 0.. until it succeeds;
 * returns the number of failing runs. */
static long torture(gw_rc (*op)(const char *, size_t), const char *buf,
		    size_t len)
{
	long n;

	for (n = 0; n < 200000; n++) {
		gw_rc rc;

		gw_alloc_fail_after(n);
		rc = op(buf, len);
		gw_alloc_fail_after(-1);
		if (rc == GW_OK)
			return n;
	}
	fail_msg("never succeeded");
	return n;
}

static gw_rc op_xml_to_json(const char *buf, size_t len)
{
	xmlDocPtr doc = NULL;
	json_t *j = NULL;
	struct gw_err err;
	gw_rc rc;

	rc = gw_xml_parse(buf, len, "t.xml", &doc, &err);
	if (!rc)
		rc = gw_msg_xml_to_json(doc, &j, &err);
	if (doc)
		xmlFreeDoc(doc);
	json_decref(j);
	return rc;
}

static gw_rc op_json_to_xml(const char *buf, size_t len)
{
	xmlDocPtr doc = NULL;
	json_t *j = NULL;
	struct gw_buf out;
	struct gw_err err;
	gw_rc rc;

	gw_buf_init(&out);
	rc = gw_json_parse(buf, len, "t.json", &j, &err);
	if (!rc)
		rc = gw_msg_json_to_xml(j, &doc, &err);
	if (!rc)
		rc = gw_msg_xml_dump(doc, &out, &err);
	if (!rc)
		rc = gw_msg_check_rules(j, NULL, NULL);
	if (doc)
		xmlFreeDoc(doc);
	json_decref(j);
	gw_buf_release(&out);
	return rc;
}

static gw_rc op_yaml(const char *buf, size_t len)
{
	json_t *j = NULL, *lines = NULL;
	struct gw_err err;
	gw_rc rc = gw_yaml_parse(buf, len, "t.yaml", &j, &lines, &err);

	json_decref(j);
	json_decref(lines);
	return rc;
}

static void test_torture__xml_to_json(void **state)
{
	size_t len;
	char *buf = slurp("conf/examples/task-assignment-from-vpcp.xml", &len);

	(void)state;
	assert_true(torture(op_xml_to_json, buf, len) > 10);
	free(buf);
}

static void test_torture__json_to_xml(void **state)
{
	size_t len;
	char *buf = slurp("conf/examples/task-progress-1584-II-9.json", &len);

	(void)state;
	assert_true(torture(op_json_to_xml, buf, len) > 10);
	free(buf);
}

static void test_torture__yaml(void **state)
{
	size_t len;
	char *buf = slurp("conf/gateway.yaml", &len);

	(void)state;
	assert_true(torture(op_yaml, buf, len) > 10);
	free(buf);
}

static int count_msg(void *arg, const char *key, const char *date, json_t *msg)
{
	(*(int *)arg)++;
	json_decref(msg);
	return 0;
}

static struct gw_mapping *loaded; /* for op_rows */

/* Loading a mapping file: YAML, its schema, the unit list it names. */
static gw_rc op_load(const char *path, size_t len)
{
	struct gw_mapping *m = NULL;
	struct gw_err err;
	gw_rc rc = gw_mapping_load(path, "schemas", NULL, NULL, &m, &err);

	(void)len;
	gw_mapping_free(m);
	return rc;
}

/* A loaded mapping over a CSV export: bind, map every row, group; OK only
 * when every row made it into a message. */
static gw_rc op_rows(const char *csvp, size_t len)
{
	struct gw_csv *c = NULL;
	const char *const *cells;
	size_t n, line;
	char why[300];
	struct gw_err err;
	FILE *f = fopen(csvp, "rb");
	int msgs = 0, r;
	gw_rc rc = GW_OK;

	(void)len;
	assert_non_null(f);
	if (!(c = gw_csv_new(f, 0)) ||
	    gw_csv_next(c, &cells, &n, &line, why, sizeof(why)) != 1)
		rc = GW_ERR_NOMEM;
	if (!rc)
		rc = gw_mapping_bind(loaded, csvp, cells, n, &err);
	while (!rc &&
	       (r = gw_csv_next(c, &cells, &n, &line, why, sizeof(why))) != 0)
		rc = r < 0 ? GW_ERR_NOMEM
			   : gw_mapping_row(loaded, "t.csv", cells, n,
					    count_msg, &msgs, &err);
	if (!rc)
		rc = gw_mapping_finish(loaded, count_msg, &msgs, &err);
	if (!rc && msgs == 0)
		rc = GW_ERR_INTERNAL;
	gw_csv_free(c);
	fclose(f);
	return rc;
}

static void test_torture__mapping(void **state)
{
	static const char *const pairs[][2] = {
		{ "conf/mappings/task-progress.yaml",
		  "conf/mappings/task-progress.csv" },
		{ "conf/mappings/indicator-targets-2024.yaml",
		  "conf/mappings/indicator-targets-2024.csv" },
	};
	struct gw_err err;
	size_t i;
	long n;

	(void)state;
	for (i = 0; i < 2; i++) {
		/* every allocation of the rows; the load (a schema compile
		 * each time) at one failure point in seven */
		assert_int_equal(gw_mapping_load(pairs[i][0], "schemas", NULL,
						 NULL, &loaded, &err),
				 GW_OK);
		assert_true(torture(op_rows, pairs[i][1], 0) > 10);
		gw_mapping_free(loaded);
		loaded = NULL;
		for (n = 0; n < 100000; n += 7) {
			gw_rc rc;

			gw_alloc_fail_after(n);
			rc = op_load(pairs[i][0], 0);
			gw_alloc_fail_after(-1);
			if (rc == GW_OK)
				break;
		}
		assert_true(n > 10 && n < 100000);
	}
}

/* The report packet renamed by a profile and back, in both syntaxes. */
static struct gw_profile *profile;

static gw_rc op_profile(const char *buf, size_t len)
{
	static const char xml[] =
		"<ReportPacket xmlns=\"urn:lienthong:report-packet:1\" "
		"version=\"1.0\"><IndicatorData><Value indicator=\"A\">"
		"<Amount>1</Amount></Value></IndicatorData></ReportPacket>";
	xmlDocPtr doc = NULL;
	json_t *j = NULL, *r = NULL, *back = NULL;
	struct gw_err err;
	gw_rc rc;

	gw_err_clear(&err);
	rc = gw_json_parse(buf, len, "t.json", &j, &err);
	if (!rc && !(r = gw_profile_rename_json(profile, j, 0, &err)))
		rc = err.rc;
	if (!rc && !(back = gw_profile_rename_json(profile, r, 1, &err)))
		rc = err.rc;
	if (!rc && !json_equal(back, j))
		rc = GW_ERR_INTERNAL;
	if (!rc)
		rc = gw_xml_parse(xml, sizeof(xml) - 1, "t.xml", &doc, &err);
	if (!rc)
		rc = gw_profile_rename_xml(
			profile, doc, "urn:lienthong:report-packet:1", 0, &err);
	if (!rc)
		rc = gw_profile_rename_xml(
			profile, doc, "urn:lienthong:report-packet:1", 1, &err);
	if (doc)
		xmlFreeDoc(doc);
	json_decref(j);
	json_decref(r);
	json_decref(back);
	return rc;
}

static void test_torture__profile(void **state)
{
	struct gw_err err;
	size_t len;
	char *buf =
		slurp("conf/examples/indicator-report-2024-targets.json", &len);

	(void)state;
	assert_int_equal(gw_profile_load("conf/profiles/report-packet-vn.yaml",
					 "schemas", NULL, NULL, &profile, &err),
			 GW_OK);
	assert_true(torture(op_profile, buf, len) > 10);
	gw_profile_free(profile);
	profile = NULL;
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_torture__xml_to_json),
		cmocka_unit_test(test_torture__json_to_xml),
		cmocka_unit_test(test_torture__yaml),
		cmocka_unit_test(test_torture__mapping),
		cmocka_unit_test(test_torture__profile),
	};
	int rc;

	/* before anything initialises libxml2 */
	xmlMemSetup(free, gw_malloc, gw_realloc, xml_strdup);
	json_set_alloc_funcs(gw_malloc, free);
	/* libxml2's one-time global set-up (encoding handlers) leaks when it
	 * runs out of memory itself; do it before the torture starts */
	gw_xml_init();
	{
		size_t len;
		char *buf = slurp("conf/examples/task-progress-1584-II-9.json",
				  &len);

		op_json_to_xml(buf, len);
		free(buf);
	}
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	xmlCleanupParser();
	return rc;
}
