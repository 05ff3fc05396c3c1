/* test_profile.c - gateway/profile.c: profile mappings rename the report
 * packet's fields both ways (JSON members; XML elements, attributes and
 * the namespace), refuse a map that is not one-to-one or uses names that
 * are not XML names, refuse input that keeps a name the profile renames,
 * and carry a packet through gw_format_to_wire_profile and back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define GW_CORE
#include "base/common.h"
#include "adapt/format.h"
#include "adapt/profile.h"
#include "base/xml.h"

#define VN "conf/profiles/report-packet-vn.yaml"
#define RP_NS "urn:lienthong:report-packet:1"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_profile.XXXXXX");
	setenv("LIENTHONG_SCHEMA_DIR", "schemas", 1);
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Write text to dir/name and load it as a profile. */
static gw_rc load_text(const char *name, const char *text,
		       struct gw_profile **p, struct gw_err *err)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	gw_err_clear(err);
	return gw_profile_load(path, "schemas", NULL, NULL, p, err);
}

static void test_profile__json_both_ways(void **state)
{
	struct gw_profile *p = NULL;
	struct gw_err err;
	json_t *in, *out, *back;

	(void)state;
	assert_int_equal(load_text("j.yaml",
				   "profile: report-packet-1\n"
				   "json:\n"
				   "  names:\n"
				   "    indicator: MaChiTieu\n"
				   "    value: GiaTri\n"
				   "    indicatorData: DuLieu\n",
				   &p, &err),
			 GW_OK);
	in = json_pack("{s:s, s:[{s:s, s:s, s:s}], s:i}", "packetVersion",
		       "1.0", "indicatorData", "indicator", "A.B", "value",
		       "12", "valueType", "target", "other", 1);
	assert_non_null(in);
	out = gw_profile_rename_json(p, in, 0, &err);
	assert_non_null(out);
	/* renamed where named, kept elsewhere, values untouched */
	assert_string_equal(
		json_string_value(json_object_get(
			json_array_get(json_object_get(out, "DuLieu"), 0),
			"MaChiTieu")),
		"A.B");
	assert_non_null(json_object_get(
		json_array_get(json_object_get(out, "DuLieu"), 0), "GiaTri"));
	assert_non_null(json_object_get(
		json_array_get(json_object_get(out, "DuLieu"), 0),
		"valueType"));
	assert_null(json_object_get(out, "indicatorData"));
	assert_non_null(json_object_get(out, "packetVersion"));
	back = gw_profile_rename_json(p, out, 1, &err);
	assert_non_null(back);
	assert_true(json_equal(back, in));
	json_decref(back);

	/* reversing refuses a member of ours that the profile renames,
	 * naming it by an escaped JSON Pointer */
	{
		json_t *deep =
			json_pack("{s:{s:s}}", "a/b~c", "indicator", "A.B");

		gw_err_clear(&err);
		assert_null(gw_profile_rename_json(p, deep, 1, &err));
		assert_non_null(strstr(err.msg, "/a~1b~0c/indicator: "));
		json_decref(deep);
	}
	json_object_set_new(json_array_get(json_object_get(out, "DuLieu"), 0),
			    "indicator", json_string("A.B"));
	gw_err_clear(&err);
	assert_null(gw_profile_rename_json(p, out, 1, &err));
	assert_int_equal(err.rc, GW_ERR_SCHEMA);
	assert_non_null(strstr(err.msg, "/DuLieu/0/indicator: 'indicator' "
					"is not a member name of this "
					"profile (it calls it 'MaChiTieu')"));
	json_decref(out);
	json_decref(in);
	gw_profile_free(p);
}

static char *dump(xmlDocPtr doc)
{
	xmlChar *mem = NULL;
	int n = 0;
	char *s;

	xmlDocDumpMemory(doc, &mem, &n);
	assert_non_null(mem);
	s = strdup((const char *)mem);
	xmlFree(mem);
	return s;
}

static void test_profile__xml_both_ways(void **state)
{
	static const char xml[] =
		"<ReportPacket xmlns=\"" RP_NS "\" version=\"1.0\">"
		"<IndicatorCatalogue><Indicator code=\"A\" name=\"n\" "
		"unitOfMeasure=\"percent\"/></IndicatorCatalogue>"
		"<IndicatorData><Value indicator=\"A\" valueType=\"target\">"
		"<Amount>1</Amount></Value></IndicatorData>"
		"<f:Other xmlns:f=\"urn:x\" name=\"kept\"/></ReportPacket>";
	struct gw_profile *p = NULL;
	struct gw_err err;
	xmlDocPtr doc = NULL;
	char *orig, *renamed, *back;

	(void)state;
	gw_err_clear(&err);
	assert_int_equal(gw_profile_load(VN, "schemas", NULL, NULL, &p, &err),
			 GW_OK);
	assert_string_equal(gw_profile_path(p), VN);
	assert_int_equal(gw_xml_parse(xml, sizeof(xml) - 1, "t", &doc, &err),
			 GW_OK);
	orig = dump(doc);
	assert_int_equal(gw_profile_rename_xml(p, doc, RP_NS, 0, &err), GW_OK);
	renamed = dump(doc);
	assert_non_null(strstr(renamed, "<GoiTinBaoCao xmlns=\"urn:example:"
					"bao-cao-chinh-phu:goi-tin:1\" "
					"phienBan=\"1.0\">"));
	assert_non_null(strstr(renamed, "<ChiTieu maChiTieu=\"A\" ten=\"n\" "
					"donViTinh=\"percent\"/>"));
	assert_non_null(strstr(renamed, "<SoLieu>1</SoLieu>"));
	assert_null(strstr(renamed, RP_NS));
	assert_null(strstr(renamed, "Amount"));
	/* an element of another namespace keeps its attributes' names */
	assert_non_null(strstr(renamed, "<f:Other xmlns:f=\"urn:x\" "
					"name=\"kept\"/>"));
	assert_int_equal(gw_profile_rename_xml(p, doc, RP_NS, 1, &err), GW_OK);
	back = dump(doc);
	assert_string_equal(back, orig);
	free(back);
	xmlFreeDoc(doc);

	/* reversing refuses our namespace and a name of ours it renames */
	doc = NULL;
	assert_int_equal(gw_xml_parse(xml, sizeof(xml) - 1, "t", &doc, &err),
			 GW_OK);
	assert_int_equal(gw_profile_rename_xml(p, doc, RP_NS, 1, &err),
			 GW_ERR_SCHEMA);
	assert_non_null(strstr(err.msg, "namespace '" RP_NS "' is not the "
					"namespace of this profile"));
	xmlFreeDoc(doc);
	doc = NULL;
	{
		char *mixed = strdup(renamed);
		char *at = strstr(mixed, "<SoLieu>1</SoLieu>");

		memcpy(at, "<Amount>1</Amount>", 18);
		assert_int_equal(
			gw_xml_parse(mixed, strlen(mixed), "t", &doc, &err),
			GW_OK);
		gw_err_clear(&err);
		assert_int_equal(gw_profile_rename_xml(p, doc, RP_NS, 1, &err),
				 GW_ERR_SCHEMA);
		assert_non_null(strstr(err.msg, "element 'Amount' is not a "
						"name of this profile (it "
						"calls it 'SoLieu')"));
		free(mixed);
	}
	xmlFreeDoc(doc);
	free(renamed);
	free(orig);
	gw_profile_free(p);
}

static void expect_refused(const char *text, const char *want)
{
	struct gw_profile *p = NULL;
	struct gw_err err;

	assert_int_equal(load_text("bad.yaml", text, &p, &err), GW_ERR_CONFIG);
	assert_null(p);
	if (!strstr(err.msg, want))
		fail_msg("wanted '%s' in '%s'", want, err.msg);
	assert_non_null(strstr(err.msg, "bad.yaml:"));
}

static void test_profile__refusals(void **state)
{
	struct gw_profile *p = NULL;
	struct gw_err err;

	(void)state;
	expect_refused("profile: report-packet-1\n"
		       "xml:\n"
		       "  names:\n"
		       "    code: MaChiTieu\n"
		       "    indicator: MaChiTieu\n",
		       "bad.yaml:5: xml.names.indicator: 'MaChiTieu' is "
		       "already the name of 'code'");
	expect_refused("profile: report-packet-1\n"
		       "json:\n"
		       "  names:\n"
		       "    value: name\n",
		       "bad.yaml:4: json.names.value: 'name' is the name of "
		       "the field 'name', which this profile keeps");
	expect_refused("profile: report-packet-1\njson:\n  names:\n"
		       "    value: 1GiaTri\n",
		       "bad.yaml:4: json.names.value: '1GiaTri' is not an XML "
		       "name");
	expect_refused("profile: report-packet-1\nxml:\n  names:\n"
		       "    Amount: so:lieu\n",
		       "'so:lieu' is not an XML name");
	expect_refused("profile: report-packet-1\nxml:\n  names:\n"
		       "    Amount: so lieu\n",
		       "'so lieu' is not an XML name");
	expect_refused("profile: report-packet-1\nxml:\n  names:\n"
		       "    Amount: xmlSoLieu\n",
		       "'xmlSoLieu' is not an XML name");
	expect_refused("profile: report-packet-1\nxml:\n  names:\n"
		       "    Amount: ''\n",
		       "bad.yaml:4: xml.names.Amount: ");
	expect_refused("profile: report-packet-1\nxml:\n  names:\n"
		       "    indicatorCode: MaChiTieu\n",
		       "bad.yaml:4: xml.names.indicatorCode: ");
	expect_refused("profile: edxml\n", "bad.yaml:1: profile: ");
	expect_refused("profile: report-packet-1\nxml:\n"
		       "  namespace: http://www.w3.org/2000/09/xmldsig#\n",
		       "bad.yaml:3: xml.namespace: a reserved namespace");

	/* a swap is one-to-one: accepted, and it undoes itself */
	assert_int_equal(load_text("swap.yaml",
				   "profile: report-packet-1\n"
				   "json:\n"
				   "  names:\n"
				   "    name: code\n"
				   "    code: name\n",
				   &p, &err),
			 GW_OK);
	{
		json_t *in = json_pack("{s:s, s:s}", "code", "A", "name", "n");
		json_t *out = gw_profile_rename_json(p, in, 0, &err);
		json_t *back = gw_profile_rename_json(p, out, 1, &err);

		assert_string_equal(
			json_string_value(json_object_get(out, "name")), "A");
		assert_true(json_equal(back, in));
		json_decref(in);
		json_decref(out);
		json_decref(back);
	}
	gw_profile_free(p);
}

static void test_profile__format_round_trip(void **state)
{
	static const char *const formats[] = { "report-packet",
					       "report-packet-json" };
	json_error_t je;
	json_t *m = json_load_file(
		"conf/examples/indicator-report-2024-targets.json", 0, &je);
	struct gw_profile *p = NULL;
	struct gw_format *f = NULL;
	struct gw_err err;
	size_t i;

	(void)state;
	assert_non_null(m);
	gw_err_clear(&err);
	assert_int_equal(gw_profile_load(VN, "schemas", NULL, NULL, &p, &err),
			 GW_OK);
	assert_int_equal(gw_format_new("schemas", &f, &err), GW_OK);
	for (i = 0; i < 2; i++) {
		struct gw_buf b;
		json_t *back = NULL;

		gw_buf_init(&b);
		assert_int_equal(gw_format_to_wire_profile(f, formats[i], p, m,
							   &b, NULL, NULL,
							   &err),
				 GW_OK);
		assert_non_null(
			strstr(b.data, i ? "\"maChiTieu\"" : "maChiTieu=\""));
		/* under the profile's names it is not our packet */
		assert_int_not_equal(gw_format_from_wire(f, formats[i], b.data,
							 b.len, "t", &back,
							 NULL, &err),
				     GW_OK);
		assert_int_equal(gw_format_from_wire_profile(f, formats[i], p,
							     b.data, b.len, "t",
							     &back, NULL, &err),
				 GW_OK);
		assert_true(json_equal(back, m));
		json_decref(back);
		gw_buf_release(&b);
	}
	{
		struct gw_buf b;

		gw_buf_init(&b);
		assert_int_equal(gw_format_to_wire_profile(f, "edxml", p, m, &b,
							   NULL, NULL, &err),
				 GW_ERR_USAGE);
		assert_non_null(strstr(err.msg, "not of 'edxml'"));
		gw_buf_release(&b);
	}
	gw_format_free(f);
	gw_profile_free(p);
	json_decref(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_profile__json_both_ways),
		cmocka_unit_test(test_profile__xml_both_ways),
		cmocka_unit_test(test_profile__refusals),
		cmocka_unit_test(test_profile__format_round_trip),
	};

	gw_xml_init();
	return cmocka_run_group_tests(tests, setup, teardown);
}
