/* test_xml.c - safe XML parsing and XSD validation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/xml.h"

static gw_rc parse(const char *s, struct gw_err *err)
{
	xmlDocPtr doc = NULL;
	gw_rc rc;

	gw_err_clear(err);
	rc = gw_xml_parse(s, strlen(s), "t.xml", &doc, err);
	if (doc)
		xmlFreeDoc(doc);
	return rc;
}

static void test_xml__well_formed(void **state)
{
	struct gw_err err;

	(void)state;
	assert_int_equal(parse("<a><b>x</b></a>", &err), GW_OK);
}

static void test_xml__malformed_is_located(void **state)
{
	struct gw_err err;

	(void)state;
	assert_int_equal(parse("<a>\n<b></a>", &err), GW_ERR_PARSE);
	assert_non_null(strstr(err.msg, "t.xml:2: "));
	assert_int_equal(parse("", &err), GW_ERR_PARSE);
}

static void test_xml__doctype_refused(void **state)
{
	struct gw_err err;

	(void)state;
	assert_int_equal(parse("<!DOCTYPE a [<!ENTITY x SYSTEM "
			       "\"file:///etc/passwd\">]><a>&x;</a>",
			       &err),
			 GW_ERR_REFUSED);
	assert_non_null(strstr(err.msg, "refused"));
	assert_null(strstr(err.msg, "root:"));
	assert_int_equal(
		parse("<!DOCTYPE a SYSTEM \"http://127.0.0.1:9/x.dtd\"><a/>",
		      &err),
		GW_ERR_REFUSED);
}

static void test_xml__depth_limit(void **state)
{
	struct gw_err err;
	size_t n = 200, i;
	char *s = malloc(n * 7 + 1), *p = s;

	(void)state;
	for (i = 0; i < n; i++)
		p += sprintf(p, "<a>");
	for (i = 0; i < n; i++)
		p += sprintf(p, "</a>");
	assert_int_equal(parse(s, &err), GW_ERR_REFUSED);
	assert_non_null(strstr(err.msg, "deeper"));
	free(s);
}

static void test_xml__size_limit(void **state)
{
	struct gw_err err;
	xmlDocPtr doc = NULL;

	(void)state;
	assert_int_equal(gw_xml_parse("<a/>", (size_t)GW_XML_MAX_SIZE + 1,
				      "big", &doc, &err),
			 GW_ERR_REFUSED);
	assert_null(doc);
}

static void test_xml__xsd_errors_have_lines(void **state)
{
	struct gw_xsd *x = NULL;
	struct gw_err err;
	xmlDocPtr doc = NULL;
	const char *s = "<?xml version=\"1.0\"?>\n<message "
			"xmlns=\"urn:lienthong:message:1\">\n<id>nope</id>\n</"
			"message>\n";

	(void)state;
	gw_err_clear(&err);
	assert_int_equal(gw_xsd_load("schemas/message-1.xsd", &x, &err), GW_OK);
	assert_int_equal(gw_xml_parse(s, strlen(s), "m.xml", &doc, &err),
			 GW_OK);
	assert_int_equal(gw_xsd_validate(x, doc, "m.xml", NULL, &err),
			 GW_ERR_SCHEMA);
	assert_non_null(strstr(err.msg, "m.xml:3: "));
	xmlFreeDoc(doc);
	gw_xsd_free(x);
	assert_int_equal(gw_xsd_load("/nonexistent.xsd", &x, &err),
			 GW_ERR_SCHEMA_DEF);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_xml__well_formed),
		cmocka_unit_test(test_xml__malformed_is_located),
		cmocka_unit_test(test_xml__doctype_refused),
		cmocka_unit_test(test_xml__depth_limit),
		cmocka_unit_test(test_xml__size_limit),
		cmocka_unit_test(test_xml__xsd_errors_have_lines),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	xmlCleanupParser();
	return rc;
}
