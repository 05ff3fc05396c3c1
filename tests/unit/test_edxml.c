/* test_edxml.c - the edxml format adapter through gateway/format.c:
 * canonical -> edXML -> canonical keeps every field, every produced
 * message validates against schemas/edxml-qcvn102.xsd, status codes map
 * both ways, foreign documents (no extension) keep their native fields,
 * and hostile or invalid edXML is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/common.h"
#include "adapt/format.h"
#include "base/json.h"
#include "base/xml.h"

static struct gw_format *F;

static json_t *load(const char *path)
{
	json_error_t je;
	json_t *j = json_load_file(path, 0, &je);

	assert_non_null(j);
	return j;
}

static char *to_ed(const json_t *msg)
{
	struct gw_buf b;
	struct gw_err err;
	const char *mt = NULL;

	gw_buf_init(&b);
	gw_err_clear(&err);
	if (gw_format_to_wire(F, "edxml", msg, &b, &mt, stderr, &err))
		fail_msg("to edxml: %s", err.msg);
	assert_string_equal(mt, "application/xml");
	return gw_buf_detach(&b, NULL);
}

static json_t *from_ed(const char *xml, gw_rc want)
{
	struct gw_err err;
	json_t *m = NULL;
	gw_rc rc;

	gw_err_clear(&err);
	rc = gw_format_from_wire(F, "edxml", xml, strlen(xml), "t.edxml", &m,
				 NULL, &err);
	if (rc != want)
		fail_msg("from edxml: rc %d, wanted %d: %s", rc, want, err.msg);
	return m;
}

static void roundtrip(const char *path)
{
	json_t *a = load(path), *b;
	char *x = to_ed(a);

	b = from_ed(x, GW_OK);
	if (!json_equal(a, b)) {
		char *s = json_dumps(b, JSON_INDENT(1));

		fail_msg("%s changed through edXML:\n%s", path, s);
	}
	json_decref(a);
	json_decref(b);
	free(x);
}

static void test_edxml__roundtrip_every_carried_kind(void **state)
{
	json_t *a;
	char *x;

	(void)state;
	/* free text keeps its line breaks and runs of spaces */
	a = load("conf/examples/task-assignment-1584-II-9.json");
	json_object_set_new(json_object_get(a, "payload"), "notes",
			    json_string("Dòng 1:  hai dấu cách\nDòng 2 <&>"));
	json_object_set_new(json_object_get(a, "payload"), "title",
			    json_string("Tiêu đề\nhai dòng"));
	x = to_ed(a);
	json_decref(a);
	a = from_ed(x, GW_OK);
	assert_string_equal(json_string_value(json_object_get(
				    json_object_get(a, "payload"), "notes")),
			    "Dòng 1:  hai dấu cách\nDòng 2 <&>");
	assert_string_equal(json_string_value(json_object_get(
				    json_object_get(a, "payload"), "title")),
			    "Tiêu đề\nhai dòng");
	json_decref(a);
	free(x);
	roundtrip("conf/examples/task-assignment-from-vpcp.json");
	roundtrip("conf/examples/task-assignment-1584-II-9.json");
	roundtrip("conf/examples/task-progress-1584-II-9.json");
	roundtrip("conf/examples/receipt-accepted.json");
}

/* Cut our extension out, as a peer that drops unknown elements would. */
static void strip_extension(char *x)
{
	char *a = strstr(x, "<lt:Extension"), *b;

	assert_non_null(a);
	b = strstr(a, "</lt:Extension>");
	assert_non_null(b);
	b += strlen("</lt:Extension>");
	memmove(a, b, strlen(b) + 1);
}

static void test_edxml__native_fields_without_extension(void **state)
{
	json_t *a = load("conf/examples/task-assignment-from-vpcp.json"), *b;
	json_t *pa = json_object_get(a, "payload"), *pb;
	char *x = to_ed(a);

	(void)state;
	assert_non_null(strstr(x, "<DueDate>2019/12/31</DueDate>"));
	assert_non_null(strstr(x, "<CodeNumber>844</CodeNumber>"));
	assert_non_null(strstr(x, "<CodeNotation>QĐ-BTC</CodeNotation>"));
	strip_extension(x);
	b = from_ed(x, GW_OK);
	pb = json_object_get(b, "payload");
	assert_true(json_equal(json_object_get(a, "sender"),
			       json_object_get(b, "sender")));
	assert_true(json_equal(json_object_get(a, "receivers"),
			       json_object_get(b, "receivers")));
	assert_string_equal(json_string_value(json_object_get(b, "created")),
			    "2019-05-21T14:30:00+07:00");
	assert_true(json_equal(json_object_get(pa, "title"),
			       json_object_get(pb, "title")));
	assert_true(json_equal(json_object_get(pa, "sourceDocument"),
			       json_object_get(pb, "sourceDocument")));
	assert_true(json_equal(json_object_get(pa, "notes"),
			       json_object_get(pb, "notes")));
	assert_string_equal(json_string_value(json_object_get(
				    json_object_get(pb, "timeline"), "due")),
			    "2019-12-31");
	/* the id is derived from the edXML DocumentId, stable */
	assert_string_equal(json_string_value(json_object_get(pb, "taskId")),
			    "000.00.00.G22,2019/05/21,844/QĐ-BTC");
	json_decref(a);
	json_decref(b);
	free(x);
}

static void status_case(const char *base, const char *member, const char *value,
			const char *code)
{
	json_t *a = load(base), *b;
	json_t *p = json_object_get(a, "payload");
	char *x, want[64];

	json_object_set_new(p, member, json_string(value));
	if (strcmp(value, "rejected") == 0)
		json_object_set_new(p, "errors",
				    json_pack("[{s:s, s:s}]", "code",
					      "bad-digest", "message",
					      "Sai mã băm"));
	if (strcmp(member, "status") == 0 && strcmp(value, "done") != 0)
		json_object_set_new(
			p, "percentComplete",
			json_integer(strcmp(value, "not-started") ? 40 : 0));
	x = to_ed(a);
	snprintf(want, sizeof(want), "<StatusCode>%s</StatusCode>", code);
	if (!strstr(x, want))
		fail_msg("%s=%s: wanted %s in\n%s", member, value, want, x);
	b = from_ed(x, GW_OK);
	assert_true(json_equal(a, b));
	/* without the extension the code alone says it (lossy for
	 * overdue/blocked, which travel as 05) */
	strip_extension(x);
	json_decref(b);
	b = from_ed(x, GW_OK);
	assert_string_equal(
		json_string_value(
			json_object_get(json_object_get(b, "payload"), member)),
		strcmp(code, "05") == 0 && strcmp(member, "status") == 0
			? "in-progress"
		: strcmp(value, "duplicate") == 0 ? "accepted"
						  : value);
	json_decref(a);
	json_decref(b);
	free(x);
}

static void test_edxml__status_codes(void **state)
{
	const char *r = "conf/examples/receipt-accepted.json";
	const char *p = "conf/examples/task-progress-1584-II-9.json";

	(void)state;
	status_case(r, "outcome", "accepted", "03");
	status_case(r, "outcome", "duplicate", "03");
	status_case(r, "outcome", "rejected", "02");
	status_case(p, "status", "not-started", "04");
	status_case(p, "status", "in-progress", "05");
	status_case(p, "status", "overdue", "05");
	status_case(p, "status", "blocked", "05");
	status_case(p, "status", "done", "06");
	status_case(p, "status", "cancelled", "13");
}

static const char *status_doc =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	"<edXML xmlns=\"http://www.mic.gov.vn/TBT/QCVN_102_2016\">"
	"<edXMLEnvelope><edXMLHeader><MessageHeader>"
	"<From><OrganId>000.00.00.H41</OrganId><OrganName>UBND Tỉnh Nghệ "
	"An</OrganName></From>"
	"<ResponseFor><OrganId>000.00.00.G22</OrganId><Code>7816/VPCP-TTĐT"
	"</Code><PromulgationDate>2015/09/30</PromulgationDate><DocumentId>"
	"000.00.00.G22,2015/09/30,7816/VPCP-TTĐT</DocumentId></ResponseFor>"
	"<StatusCode>%s</StatusCode><Description>%s</Description>"
	"<Timestamp>%s</Timestamp>"
	"</MessageHeader></edXMLHeader></edXMLEnvelope></edXML>";

static json_t *status_msg(const char *code, const char *desc, const char *ts,
			  gw_rc want)
{
	char x[2048];

	snprintf(x, sizeof(x), status_doc, code, desc, ts);
	return from_ed(x, want);
}

static void test_edxml__foreign_status_messages(void **state)
{
	json_t *m, *p;

	(void)state;
	/* dd/MM/yyyy timestamps are accepted */
	m = status_msg("02", "Sai nơi nhận", "20/09/2015 11:08:36", GW_OK);
	p = json_object_get(m, "payload");
	assert_string_equal(json_string_value(json_object_get(m, "kind")),
			    "receipt");
	assert_string_equal(json_string_value(json_object_get(p, "outcome")),
			    "rejected");
	assert_string_equal(json_string_value(json_object_get(p, "time")),
			    "2015-09-20T11:08:36+07:00");
	assert_string_equal(
		json_string_value(json_object_get(
			json_array_get(json_object_get(p, "errors"), 0),
			"message")),
		"Sai nơi nhận");
	json_decref(m);

	m = status_msg("13", "Thu hồi", "2015/09/21 08:00:00", GW_OK);
	p = json_object_get(m, "payload");
	assert_string_equal(json_string_value(json_object_get(m, "kind")),
			    "task.progress");
	assert_string_equal(json_string_value(json_object_get(p, "status")),
			    "cancelled");
	assert_string_equal(json_string_value(json_object_get(p, "taskRef")),
			    "000.00.00.G22,2015/09/30,7816/VPCP-TTĐT");
	assert_string_equal(json_string_value(json_object_get(p, "period")),
			    "2015-09");
	json_decref(m);

	m = status_msg("16", "Không đồng ý", "2015/09/21 08:00:00", GW_OK);
	assert_string_equal(
		json_string_value(json_object_get(
			json_array_get(
				json_object_get(json_object_get(m, "payload"),
						"errors"),
				0),
			"code")),
		"edxml-change-rejected");
	json_decref(m);

	/* an impossible date passes the pattern, not the rules */
	assert_null(
		status_msg("01", "x", "2015/02/30 08:00:00", GW_ERR_SCHEMA));
}

static void test_edxml__refused(void **state)
{
	const char *doctype =
		"<?xml version=\"1.0\"?>\n<!DOCTYPE edXML [<!ENTITY a "
		"\"aaaa\">]>\n<edXML "
		"xmlns=\"http://www.mic.gov.vn/TBT/QCVN_102_2016\">&a;</edXML>";
	json_t *a = load("conf/examples/indicator-report-2024-targets.json"),
	       *r;
	struct gw_buf b;
	struct gw_err err;
	char *x, *e;

	(void)state;
	assert_null(from_ed(doctype, GW_ERR_REFUSED));
	assert_null(
		status_msg("99", "x", "2015/09/21 08:00:00", GW_ERR_SCHEMA));
	assert_null(
		status_msg("03", "x", "2015-09-21T08:00:00", GW_ERR_SCHEMA));
	assert_null(from_ed("<edXML xmlns=\"urn:other\"/>", GW_ERR_SCHEMA));
	assert_null(from_ed("<edXML", GW_ERR_PARSE));

	/* a broken extension is refused, not guessed at */
	r = load("conf/examples/receipt-accepted.json");
	x = to_ed(r);
	json_decref(r);
	e = strstr(x, "\">{");
	assert_non_null(e);
	e[2] = '[';
	assert_null(from_ed(x, GW_ERR_SCHEMA));
	free(x);

	/* edXML carries no indicator reports */
	gw_buf_init(&b);
	gw_err_clear(&err);
	assert_int_equal(gw_format_to_wire(F, "edxml", a, &b, NULL, NULL, &err),
			 GW_ERR_UNSUPPORTED);
	assert_non_null(strstr(err.msg, "does not carry 'indicator.report'"));
	gw_buf_release(&b);
	json_decref(a);
}

static void test_edxml__offset_becomes_vietnam_time(void **state)
{
	json_t *a = load("conf/examples/task-progress-1584-II-9.json");
	char *x;

	(void)state;
	json_object_set_new(json_object_get(a, "payload"), "reportedAt",
			    json_string("2024-06-20T20:30:00Z"));
	x = to_ed(a);
	assert_non_null(
		strstr(x, "<Timestamp>2024/06/21 03:30:00</Timestamp>"));
	free(x);
	json_decref(a);
}

static int setup(void **state)
{
	struct gw_err err;

	(void)state;
	gw_xml_init();
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
		cmocka_unit_test(test_edxml__roundtrip_every_carried_kind),
		cmocka_unit_test(test_edxml__native_fields_without_extension),
		cmocka_unit_test(test_edxml__status_codes),
		cmocka_unit_test(test_edxml__foreign_status_messages),
		cmocka_unit_test(test_edxml__refused),
		cmocka_unit_test(test_edxml__offset_becomes_vietnam_time),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
