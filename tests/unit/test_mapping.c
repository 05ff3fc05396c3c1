/* test_mapping.c - the mapping engine: schema errors with lines, column
 * binding, transforms (decimal comma, Vietnamese dates, period phrases,
 * timelines, units across reorganizations), grouping of rows into one
 * message, and rows refused with their reason, never half-mapped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "adapt/mapping.h"

static char dir[64];

static const char *put(const char *name, const char *text)
{
	static char path[2][128];
	static int w;
	FILE *f;

	w = !w;
	snprintf(path[w], sizeof(path[w]), "%s/%s", dir, name);
	f = fopen(path[w], "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path[w];
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_mapping.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	put("units.yaml",
	    "units:\n"
	    "  - orgId: 000.01.12.G12\n"
	    "    name: Cục Công nghệ thông tin và Chuyển đổi số\n"
	    "    aliases: [Cục CNTT, Cục THTK, Cục Tin học và Thống kê tài "
	    "chính]\n"
	    "  - orgId: 000.02.12.G12\n"
	    "    name: Cục Thuế\n"
	    "    aliases: [Tổng cục Thuế, TCT]\n");
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

struct sink {
	json_t *msgs; /* array of {key, date, msg} */
};

static int collect(void *arg, const char *key, const char *date, json_t *msg)
{
	struct sink *s = arg;

	json_array_append_new(s->msgs, json_pack("{s:s, s:s?, s:o}", "key", key,
						 "date", date, "msg", msg));
	return 0;
}

static struct gw_mapping *load(const char *yaml, struct gw_err *err)
{
	struct gw_mapping *m = NULL;

	gw_err_clear(err);
	gw_mapping_load(put("m.yaml", yaml), "schemas", NULL, NULL, &m, err);
	return m;
}

static const char *str_at(json_t *root, const char *path)
{
	json_t *v = root;
	char buf[256], *tok, *save = NULL;

	snprintf(buf, sizeof(buf), "%s", path);
	for (tok = strtok_r(buf, "/", &save); tok && v;
	     tok = strtok_r(NULL, "/", &save))
		v = json_is_array(v) ? json_array_get(v, strtoul(tok, NULL, 10))
				     : json_object_get(v, tok);
	return json_string_value(v);
}

static void test_mapping__schema_errors_located(void **state)
{
	struct gw_err err;

	(void)state;
	assert_null(load("kind: task.progress\n"
			 "key: [A]\n"
			 "fields:\n"
			 "  - column: A\n"
			 "    to: /payload/taskRef\n"
			 "    transforms: [trim, rot13]\n",
			 &err));
	assert_int_equal(err.rc, GW_ERR_CONFIG);
	assert_non_null(strstr(err.msg, "m.yaml:6: fields.0.transforms.1"));

	assert_null(load("kind: task.progress\n"
			 "key: [A]\n"
			 "fields:\n"
			 "  - column: A\n"
			 "    to: /id\n",
			 &err));
	assert_non_null(strstr(err.msg, "m.yaml:5: fields.0.to"));

	/* a code list that is not defined */
	assert_null(load("kind: task.progress\n"
			 "key: [A]\n"
			 "fields:\n"
			 "  - column: A\n"
			 "    to: /payload/status\n"
			 "    transforms: [code: status]\n",
			 &err));
	assert_non_null(strstr(err.msg, "fields.0.transforms.0.code: no code "
					"list 'status'"));

	/* two item arrays */
	assert_null(load("kind: indicator.report\n"
			 "key: [A]\n"
			 "fields:\n"
			 "  - {column: A, to: /payload/observations/-/code}\n"
			 "  - {column: B, to: /payload/other/-/code}\n",
			 &err));
	assert_non_null(strstr(err.msg, "m.yaml:5: fields.1.to"));
	assert_non_null(strstr(err.msg, "one item array per mapping"));
}

static void test_mapping__bind(void **state)
{
	static const char *const hdr[] = { "Mã", "  Tình trạng ", "Mã" };
	static const char *const ok[] = { "TT", "Mã nhiệm vụ" };
	struct gw_mapping *m;
	struct gw_err err;

	(void)state;
	m = load("kind: task.progress\n"
		 "key: [Mã nhiệm vụ]\n"
		 "fields:\n"
		 "  - {column: Mã nhiệm vụ, to: /payload/taskRef}\n"
		 "  - {column: tình trạng, to: /payload/status}\n",
		 &err);
	assert_non_null(m);
	gw_err_clear(&err);
	assert_int_equal(gw_mapping_bind(m, "in.csv", hdr, 3, &err),
			 GW_ERR_SCHEMA);
	assert_non_null(strstr(err.msg, "m.yaml:4: fields.0.column: no column "
					"'Mã nhiệm vụ' in in.csv"));
	assert_non_null(strstr(err.msg, "'Mã', '  Tình trạng ', 'Mã'"));
	gw_err_clear(&err);
	assert_int_equal(gw_mapping_bind(m, "in.csv", ok, 2, &err),
			 GW_ERR_SCHEMA);
	assert_non_null(strstr(err.msg, "fields.1.column: no column"));
	gw_mapping_free(m);

	/* names compared after NFC, trimming and case folding; a name
	 * given twice is ambiguous */
	m = load("kind: task.progress\n"
		 "key: [2]\n"
		 "fields:\n"
		 "  - {column: TÌNH TRẠNG, to: /payload/status}\n"
		 "  - {column: mã, to: /payload/taskRef}\n",
		 &err);
	assert_non_null(m);
	gw_err_clear(&err);
	assert_int_equal(gw_mapping_bind(m, "in.csv", hdr, 3, &err),
			 GW_ERR_SCHEMA);
	assert_non_null(strstr(err.msg, "'mã' is both column 1 and column 3"));
	/* a name without a header */
	gw_err_clear(&err);
	assert_int_equal(gw_mapping_bind(m, "in.csv", NULL, 0, &err),
			 GW_ERR_SCHEMA);
	assert_non_null(strstr(err.msg, "has no header"));
	gw_mapping_free(m);
}

static void test_mapping__transforms(void **state)
{
	static const struct {
		const char *spec, *in, *out;
	} cases[] = {
		{ "\"decimal\"", "1.234,5", "1234.5" },
		{ "\"decimal\"", "0,6321", "0.6321" },
		{ "\"decimal\"", "90%", "90" },
		{ "\"decimal\"", "851.372", "851372" },
		{ "\"number\"", "0012.500", "12.5" },
		{ "\"number\"", "-3", "-3" },
		{ "\"date\"", "14/5/2025", "2025-05-14" },
		{ "\"date\"", "ngày 14 tháng 5 năm 2025", "2025-05-14" },
		{ "\"datetime\"", "14/5/2025 08:30",
		  "2025-05-14T08:30:00+07:00" },
		{ "\"datetime\"", "ngày 5 tháng 11 năm 2024",
		  "2024-11-05T00:00:00+07:00" },
		{ "\"period\"", "Quý 3 năm 2024", "2024-Q3" },
		{ "\"period\"", "Quý II/2019", "2019-Q2" },
		{ "\"period\"", "Tháng 3/2020", "2020-03" },
		{ "\"text\"",
		  " Cu\xcc\xa3"
		  "c\xc2\xa0 Thue\xcc\x82\xcc\x81 ",
		  NULL },
		{ "\"upper\"", "dvctt.toan_trinh", "DVCTT.TOAN_TRINH" },
		{ "{\"code\":\"units\"}", "Cục THTK", NULL },
	};
	static const struct {
		const char *spec, *in, *why;
	} bad[] = {
		{ "\"decimal\"", "12abc", "'12abc' is not a number" },
		{ "\"number\"", "1,5", "is not a number such as 12.5" },
		{ "\"integer\"", "12,5", "is not a whole number" },
		{ "\"date\"", "31/2/2025", "is not a date" },
		{ "\"period\"", "Thường xuyên", "is not a reporting period" },
		{ "{\"code\":\"units\"}", "Cục Không Có",
		  "'Cục Không Có' is not in code list 'units'" },
	};
	struct gw_mapping *m;
	struct gw_err err;
	size_t i;

	(void)state;
	m = load("kind: task.progress\n"
		 "key: [1]\n"
		 "code_lists:\n"
		 "  units: {file: units.yaml}\n"
		 "fields:\n"
		 "  - {column: 1, to: /payload/taskRef}\n",
		 &err);
	assert_non_null(m);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *spec = json_loads(cases[i].spec, JSON_DECODE_ANY, NULL);
		json_t *in = json_string(cases[i].in), *out;

		gw_err_clear(&err);
		out = gw_mapping_transform(m, spec, in, &err);
		assert_non_null(out);
		if (cases[i].out)
			assert_string_equal(json_string_value(out),
					    cases[i].out);
		json_decref(spec);
		json_decref(in);
		if (i == 13) /* NFD + nbsp -> NFC, one space, trimmed */
			assert_string_equal(json_string_value(out), "Cục Thuế");
		if (i == 15) { /* Cục THTK is Cục CNTT since 2025 */
			assert_string_equal(json_string_value(json_object_get(
						    out, "orgId")),
					    "000.01.12.G12");
			assert_string_equal(
				json_string_value(json_object_get(out, "name")),
				"Cục Công nghệ thông tin và Chuyển đổi số");
		}
		json_decref(out);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *spec = json_loads(bad[i].spec, JSON_DECODE_ANY, NULL);
		json_t *in = json_string(bad[i].in);

		gw_err_clear(&err);
		assert_null(gw_mapping_transform(m, spec, in, &err));
		assert_non_null(strstr(err.msg, bad[i].why));
		json_decref(spec);
		json_decref(in);
	}
	gw_mapping_free(m);
}

static void test_mapping__timelines_and_units(void **state)
{
	static const char *const hdr[] = { "Mã", "Nhiệm vụ", "Chủ trì",
					   "Thời gian" };
	static const char *const r1[] = { "II.1", "Rà soát",
					  "Tổng cục Thuế, Cục THTK",
					  "2024 - 2027" };
	static const char *const r2[] = { "II.2", "Tuyên truyền",
					  "Bộ Kế hoạch và Đầu tư",
					  "Thường xuyên" };
	static const char *const r3[] = { "II.3", "Báo cáo", "TCT",
					  "Hàng năm" };
	struct sink s = { json_array() };
	struct gw_mapping *m;
	struct gw_err err;
	json_t *p;

	(void)state;
	m = load("kind: task.assignment\n"
		 "key: [Mã]\n"
		 "key_prefix: 1584/QĐ-BTC\n"
		 "code_lists:\n"
		 "  units: {file: units.yaml}\n"
		 "constants:\n"
		 "  /payload/sourceDocument: 1584/QĐ-BTC\n"
		 "  /payload/numbering/0: II\n"
		 "fields:\n"
		 "  - {column: Mã, to: /payload/taskId}\n"
		 "  - {column: Nhiệm vụ, to: /payload/title}\n"
		 "  - column: Chủ trì\n"
		 "    to: /payload/leadUnits\n"
		 "    transforms: [units, {code: units, unknown: keep}]\n"
		 "  - {column: Thời gian, to: /payload/timeline, transforms: "
		 "[timeline]}\n",
		 &err);
	assert_non_null(m);
	assert_int_equal(gw_mapping_bind(m, "t.csv", hdr, 4, &err), GW_OK);
	assert_int_equal(gw_mapping_row(m, "t.csv:2", r1, 4, collect, &s, &err),
			 GW_OK);
	assert_int_equal(gw_mapping_row(m, "t.csv:3", r2, 4, collect, &s, &err),
			 GW_OK);
	assert_int_equal(gw_mapping_row(m, "t.csv:4", r3, 4, collect, &s, &err),
			 GW_OK);
	assert_int_equal(json_array_size(s.msgs), 3);
	assert_string_equal(str_at(s.msgs, "0/key"), "1584/QĐ-BTC:II.1");
	p = json_object_get(json_object_get(json_array_get(s.msgs, 0), "msg"),
			    "payload");
	assert_string_equal(str_at(p, "timeline/kind"), "range");
	assert_string_equal(str_at(p, "timeline/due"), "2027-12-31");
	assert_string_equal(str_at(p, "timeline/raw"), "2024 - 2027");
	assert_string_equal(str_at(p, "leadUnits/0/name"), "Cục Thuế");
	assert_string_equal(str_at(p, "leadUnits/0/orgId"), "000.02.12.G12");
	assert_string_equal(str_at(p, "leadUnits/1/orgId"), "000.01.12.G12");
	assert_string_equal(str_at(p, "numbering/0"), "II");
	p = json_object_get(json_object_get(json_array_get(s.msgs, 1), "msg"),
			    "payload");
	assert_string_equal(str_at(p, "timeline/kind"), "ongoing");
	/* not in the list, kept as written without an orgId */
	assert_string_equal(str_at(p, "leadUnits/0/name"),
			    "Bộ Kế hoạch và Đầu tư");
	assert_null(str_at(p, "leadUnits/0/orgId"));
	p = json_object_get(json_object_get(json_array_get(s.msgs, 2), "msg"),
			    "payload");
	assert_string_equal(str_at(p, "timeline/kind"), "recurring");
	assert_string_equal(str_at(p, "leadUnits/0/name"), "Cục Thuế");
	gw_mapping_free(m);
	json_decref(s.msgs);
}

static const char group_yaml[] =
	"kind: indicator.report\n"
	"key: [Năm]\n"
	"group: true\n"
	"date: \"2024-07-08\"\n"
	"constants:\n"
	"  /payload/reportingUnit: {orgId: 000.00.00.G12, name: Bộ Tài "
	"chính}\n"
	"  /payload/observations/-/unitOfMeasure: percent\n"
	"  /payload/observations/-/valueType: target\n"
	"fields:\n"
	"  - {column: Năm, to: /payload/period, transforms: [period]}\n"
	"  - {column: Văn bản, to: /payload/sourceDocument, optional: true}\n"
	"  - {column: Mã, to: /payload/observations/-/code}\n"
	"  - {column: Mã, to: /payload/observations/-/name}\n"
	"  - {column: Giá trị, to: /payload/observations/-/value, "
	"transforms: [decimal]}\n";

static void test_mapping__grouping(void **state)
{
	static const char *const hdr[] = { "Năm", "Mã", "Giá trị", "Văn bản" };
	static const char *const rows[][4] = {
		{ "2024", "A", "90%", "1584/QĐ-BTC" },
		{ "2023", "A", "80%", "" },
		{ "2024", "B", "0,5", "" },
		{ "2024", "C", "abc", "" },	     /* not a number */
		{ "2024", "D", "1", "9999/QĐ-BTC" }, /* contradicts row 1 */
		{ "2024", "", "1", "" },	     /* empty code */
		{ "Năm 2024", "E", "2", "" },	     /* same period */
	};
	struct sink s = { json_array() };
	struct gw_mapping *m;
	struct gw_err err;
	char where[32];
	json_t *obs;
	size_t i;
	gw_rc rc;

	(void)state;
	m = load(group_yaml, &err);
	assert_non_null(m);
	assert_int_equal(gw_mapping_bind(m, "g.csv", hdr, 4, &err), GW_OK);
	for (i = 0; i < 7; i++) {
		snprintf(where, sizeof(where), "g.csv:%zu", i + 2);
		gw_err_clear(&err);
		rc = gw_mapping_row(m, where, rows[i], 4, collect, &s, &err);
		if (i == 3) {
			assert_int_equal(rc, GW_ERR_SCHEMA);
			assert_non_null(strstr(err.msg, "column 'Giá trị' "
							"('abc'): 'abc' is "
							"not a number"));
		} else if (i == 4) {
			assert_int_equal(rc, GW_ERR_SCHEMA);
			assert_non_null(strstr(err.msg,
					       "/payload/sourceDocument is "
					       "\"9999/QĐ-BTC\" here but "
					       "\"1584/QĐ-BTC\""));
			assert_non_null(strstr(err.msg, "(from g.csv:2)"));
		} else if (i == 5) {
			assert_int_equal(rc, GW_ERR_SCHEMA);
			assert_non_null(
				strstr(err.msg, "column 'Mã' is empty"));
		} else {
			assert_int_equal(rc, GW_OK);
		}
	}
	/* nothing leaves before the end: groups wait for all their rows */
	assert_int_equal(json_array_size(s.msgs), 0);
	assert_int_equal(gw_mapping_finish(m, collect, &s, &err), GW_OK);
	/* "2024" and "Năm 2024" are different keys as written */
	assert_int_equal(json_array_size(s.msgs), 3);
	assert_string_equal(str_at(s.msgs, "0/key"), "2024");
	assert_string_equal(str_at(s.msgs, "0/date"), "2024-07-08");
	obs = json_object_get(
		json_object_get(
			json_object_get(json_array_get(s.msgs, 0), "msg"),
			"payload"),
		"observations");
	/* A and B; C, D and the empty one refused whole */
	assert_int_equal(json_array_size(obs), 2);
	assert_string_equal(str_at(obs, "0/code"), "A");
	assert_string_equal(str_at(obs, "1/value"), "0.5");
	assert_string_equal(str_at(obs, "1/valueType"), "target");
	assert_string_equal(str_at(s.msgs, "0/msg/payload/sourceDocument"),
			    "1584/QĐ-BTC");
	assert_string_equal(str_at(s.msgs, "1/msg/payload/period"), "2023");
	assert_null(str_at(s.msgs, "1/msg/payload/sourceDocument"));
	assert_string_equal(str_at(s.msgs, "2/msg/payload/period"), "2024");
	gw_mapping_free(m);
	json_decref(s.msgs);
}

static void test_mapping__repeated_key_and_short_row(void **state)
{
	static const char *const hdr[] = { "Mã", "Tình trạng" };
	static const char *const r1[] = { "II.9", "done" };
	static const char *const r2[] = { "II.9", "blocked" };
	static const char *const r3[] = { "II.10" };
	struct sink s = { json_array() };
	struct gw_mapping *m;
	struct gw_err err;

	(void)state;
	m = load("kind: task.progress\n"
		 "key: [Mã]\n"
		 "csv: {delimiter: \";\"}\n"
		 "fields:\n"
		 "  - {column: Mã, to: /payload/taskRef}\n"
		 "  - {column: Tình trạng, to: /payload/status}\n"
		 "  - {column: Mã, to: /correlationId, optional: true}\n",
		 &err);
	assert_non_null(m);
	assert_string_equal(gw_mapping_option(m, "/csv/delimiter"), ";");
	assert_null(gw_mapping_option(m, "/sqlite/query"));
	assert_string_equal(gw_mapping_kind(m), "task.progress");
	assert_int_equal(gw_mapping_bind(m, "p.csv", hdr, 2, &err), GW_OK);
	assert_int_equal(gw_mapping_row(m, "p.csv:2", r1, 2, collect, &s, &err),
			 GW_OK);
	gw_err_clear(&err);
	assert_int_equal(gw_mapping_row(m, "p.csv:3", r2, 2, collect, &s, &err),
			 GW_ERR_SCHEMA);
	assert_non_null(strstr(err.msg, "record key 'II.9' repeats the row "
					"of p.csv:2"));
	gw_err_clear(&err);
	assert_int_equal(gw_mapping_row(m, "p.csv:4", r3, 1, collect, &s, &err),
			 GW_ERR_SCHEMA);
	assert_non_null(strstr(err.msg, "the row has 1 fields"));
	assert_int_equal(json_array_size(s.msgs), 1);
	/* envelope fields go next to the payload, for the host to merge */
	assert_string_equal(str_at(s.msgs, "0/msg/correlationId"), "II.9");
	assert_string_equal(str_at(s.msgs, "0/msg/kind"), "task.progress");
	assert_string_equal(str_at(s.msgs, "0/msg/payload/status"), "done");
	gw_mapping_free(m);
	json_decref(s.msgs);
}

/* An option an adapter cannot run without (sqlite.query): a bad mapping
 * file (GW_ERR_SCHEMA, exit 1) located at the nearest line it has. */
static void test_mapping__required_option(void **state)
{
	struct gw_mapping *m;
	struct gw_err err;
	const char *v = "x";

	(void)state;
	m = load("# progress rows\n"
		 "kind: task.progress\n"
		 "key: [A]\n"
		 "fields:\n"
		 "  - {column: A, to: /payload/taskRef}\n",
		 &err);
	assert_non_null(m);
	gw_err_clear(&err);
	assert_int_equal(
		gw_mapping_require(m, "/sqlite/query", "add it", &v, &err),
		GW_ERR_SCHEMA);
	assert_null(v);
	assert_non_null(strstr(err.msg, "/m.yaml:2: sqlite: query is required "
					"(add it)"));
	gw_err_clear(&err);
	assert_int_equal(gw_mapping_require(m, "/kind", NULL, &v, &err), GW_OK);
	assert_string_equal(v, "task.progress");
	gw_mapping_free(m);

	m = load("kind: task.progress\n"
		 "key: [A]\n"
		 "csv: {delimiter: ';'}\n"
		 "fields:\n"
		 "  - {column: A, to: /payload/taskRef}\n",
		 &err);
	assert_non_null(m);
	gw_err_clear(&err);
	assert_int_equal(gw_mapping_require(m, "/csv/header", NULL, &v, &err),
			 GW_ERR_SCHEMA);
	assert_non_null(strstr(err.msg, "/m.yaml:3: csv: header is required"));
	gw_mapping_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mapping__schema_errors_located),
		cmocka_unit_test(test_mapping__bind),
		cmocka_unit_test(test_mapping__transforms),
		cmocka_unit_test(test_mapping__timelines_and_units),
		cmocka_unit_test(test_mapping__grouping),
		cmocka_unit_test(test_mapping__repeated_key_and_short_row),
		cmocka_unit_test(test_mapping__required_option),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
