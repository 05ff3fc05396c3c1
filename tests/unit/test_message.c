/* test_message.c - the canonical model: detection, conversion, rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "model/message.h"
#include "base/xml.h"

static json_t *load(const char *path)
{
	json_error_t je;
	json_t *j = json_load_file(path, 0, &je);

	assert_non_null(j);
	return j;
}

static void test_message__detect(void **state)
{
	(void)state;
	assert_int_equal(gw_msg_detect("\xEF\xBB\xBF  <a/>", 9), GW_FMT_XML);
	assert_int_equal(gw_msg_detect("\n{}", 3), GW_FMT_JSON);
	assert_int_equal(gw_msg_detect("hello", 5), GW_FMT_UNKNOWN);
	assert_int_equal(gw_msg_detect("   ", 3), GW_FMT_UNKNOWN);
}

static void test_message__kinds(void **state)
{
	(void)state;
	assert_int_equal(gw_msg_kind_parse("indicator.report"),
			 GW_KIND_INDICATOR_REPORT);
	assert_string_equal(gw_msg_kind_name(GW_KIND_TASK_PROGRESS),
			    "task.progress");
	assert_int_equal(gw_msg_kind_parse("nope"), GW_KIND_UNKNOWN);
	assert_null(gw_msg_kind_name(GW_KIND_UNKNOWN));
}

static void roundtrip(const char *path)
{
	json_t *a = load(path), *b = NULL;
	xmlDocPtr doc = NULL, doc2 = NULL;
	struct gw_buf buf;
	struct gw_err err;

	gw_buf_init(&buf);
	assert_int_equal(gw_msg_json_to_xml(a, &doc, &err), GW_OK);
	assert_int_equal(gw_msg_xml_dump(doc, &buf, &err), GW_OK);
	assert_int_equal(gw_xml_parse(buf.data, buf.len, "rt", &doc2, &err),
			 GW_OK);
	assert_true(gw_msg_xml_is_canonical(doc2));
	assert_int_equal(gw_msg_xml_to_json(doc2, &b, &err), GW_OK);
	assert_true(json_equal(a, b));
	json_decref(a);
	json_decref(b);
	xmlFreeDoc(doc);
	xmlFreeDoc(doc2);
	gw_buf_release(&buf);
}

static void test_message__roundtrip_every_kind(void **state)
{
	(void)state;
	roundtrip("conf/examples/plan-1584.json");
	roundtrip("conf/examples/indicator-report-2024-targets.json");
	roundtrip("conf/examples/task-assignment-1584-II-9.json");
	roundtrip("conf/examples/task-assignment-from-vpcp.json");
	roundtrip("conf/examples/task-progress-1584-II-9.json");
	roundtrip("conf/examples/receipt-accepted.json");
}

static void test_message__roundtrip_keeps_hard_text(void **state)
{
	json_t *a = load("conf/examples/task-progress-1584-II-9.json"),
	       *b = NULL;
	xmlDocPtr doc = NULL, doc2 = NULL;
	struct gw_buf buf;
	struct gw_err err;
	const char *hard =
		"  lead & trail <tags> \"q\" \r\n\tCục THTK\xC2\xA0 ]]> ";

	json_object_set_new(json_object_get(a, "payload"), "narrative",
			    json_string(hard));
	json_object_set_new(json_object_get(a, "payload"), "percentComplete",
			    json_integer(100));
	gw_buf_init(&buf);
	assert_int_equal(gw_msg_json_to_xml(a, &doc, &err), GW_OK);
	assert_int_equal(gw_msg_xml_dump(doc, &buf, &err), GW_OK);
	assert_int_equal(gw_xml_parse(buf.data, buf.len, "rt", &doc2, &err),
			 GW_OK);
	assert_int_equal(gw_msg_xml_to_json(doc2, &b, &err), GW_OK);
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(b, "payload"),
						  "narrative")),
		hard);
	assert_true(json_equal(a, b));
	json_decref(a);
	json_decref(b);
	xmlFreeDoc(doc);
	xmlFreeDoc(doc2);
	gw_buf_release(&buf);
}

static void test_message__control_char_refused(void **state)
{
	json_t *a = load("conf/examples/task-progress-1584-II-9.json");
	xmlDocPtr doc = NULL;
	struct gw_err err;

	(void)state;
	json_object_set_new(json_object_get(a, "payload"), "narrative",
			    json_string("bell\a"));
	assert_int_equal(gw_msg_json_to_xml(a, &doc, &err), GW_ERR_REFUSED);
	assert_non_null(strstr(err.msg, "/payload/narrative"));
	assert_null(doc);
	json_decref(a);
}

struct seen {
	int n;
	char ptr[128];
	char reason[256];
};

static void collect(void *arg, const char *ptr, const char *reason, gw_rc rc)
{
	struct seen *s = arg;

	if (s->n++ == 0) {
		snprintf(s->ptr, sizeof(s->ptr), "%s", ptr);
		snprintf(s->reason, sizeof(s->reason), "%s", reason);
	}
}

static void test_message__rules(void **state)
{
	json_t *m = load("conf/examples/task-assignment-1584-II-9.json");
	json_t *tl = json_object_get(json_object_get(m, "payload"), "timeline");
	struct seen s;

	(void)state;
	memset(&s, 0, sizeof(s));
	assert_int_equal(gw_msg_check_rules(m, collect, &s), GW_OK);
	assert_int_equal(s.n, 0);

	json_object_set_new(m, "classification", json_string("secret"));
	assert_int_equal(gw_msg_check_rules(m, collect, &s), GW_ERR_REFUSED);
	assert_string_equal(s.ptr, "/classification");
	json_object_set_new(m, "classification", json_string("public"));

	memset(&s, 0, sizeof(s));
	json_object_set_new(tl, "due", json_string("2023-02-29"));
	assert_int_equal(gw_msg_check_rules(m, collect, &s), GW_ERR_SCHEMA);
	assert_string_equal(s.ptr, "/payload/timeline/due");
	assert_non_null(strstr(s.reason, "calendar date"));
	json_object_set_new(tl, "due", json_string("2024-02-29")); /* leap */
	memset(&s, 0, sizeof(s));
	assert_int_equal(gw_msg_check_rules(m, collect, &s), GW_OK);
	json_decref(m);
}

static void test_message__xml_line_of_pointer(void **state)
{
	const char *s =
		"<message xmlns=\"urn:lienthong:message:1\">\n"
		"<receivers>\n<receiver><orgId>1</orgId></receiver>\n"
		"<receiver>\n<orgId>2</orgId></receiver></receivers>\n"
		"<payload>\n<plan>\n<issueDate>x</issueDate></plan></payload>"
		"</message>";
	xmlDocPtr doc = NULL;
	struct gw_err err;

	(void)state;
	assert_int_equal(gw_xml_parse(s, strlen(s), "t", &doc, &err), GW_OK);
	assert_int_equal(gw_msg_xml_line(doc, "/receivers/1/orgId"), 5);
	assert_int_equal(gw_msg_xml_line(doc, "/payload/issueDate"), 8);
	assert_int_equal(gw_msg_xml_line(doc, "/nothing/here"), 1);
	xmlFreeDoc(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_message__detect),
		cmocka_unit_test(test_message__kinds),
		cmocka_unit_test(test_message__roundtrip_every_kind),
		cmocka_unit_test(test_message__roundtrip_keeps_hard_text),
		cmocka_unit_test(test_message__control_char_refused),
		cmocka_unit_test(test_message__rules),
		cmocka_unit_test(test_message__xml_line_of_pointer),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	xmlCleanupParser();
	return rc;
}
