/* test_recv_formats.c - which wire format an XML body sent as
 * application/xml is (flow/receive_formats.c, gw_recv_format_sniff): the
 * namespace of its root element, past a byte order mark, the declaration,
 * comments and processing instructions; never a child's namespace, a
 * prefix that is not the root's, a DOCTYPE or a cut start tag; and only
 * formats whose decoder is loaded. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "adapt/format.h"
#include "base/common.h"
#include "base/xml.h"
#include "flow/receive_formats.h"

#define ED "http://www.mic.gov.vn/TBT/QCVN_102_2016"
#define RP "urn:lienthong:report-packet:1"
#define SDMX "http://www.sdmx.org/resources/sdmxml/schemas/v3_0/message"

static struct gw_format *F;

static const struct gw_server_format *sniff(const char *s)
{
	return gw_recv_format_sniff(s, strlen(s));
}

static const char *name(const char *s)
{
	const struct gw_server_format *f = sniff(s);

	return f ? f->name : "(none)";
}

/* Before the decoders are loaded, nothing is a wire format. */
static void test_recv_formats__none_loaded(void **state)
{
	(void)state;
	assert_null(sniff("<edXML xmlns=\"" ED "\"/>"));
	assert_null(sniff("<GoiTin xmlns=\"" RP "\"/>"));
}

static void test_recv_formats__root_namespace(void **state)
{
	(void)state;
	gw_recv_formats_load(F);
	assert_string_equal(name("<edXML xmlns=\"" ED "\"><a/></edXML>"),
			    "edXML");
	assert_string_equal(name("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
				 "<!-- from the axis -->\n<?pi x?>\n"
				 "<ed:edXML xmlns:ed='" ED "' id=\"1\">"),
			    "edXML");
	assert_string_equal(
		name("\xEF\xBB\xBF<edXML\n  a=\"x>y\"\n  xmlns = \"" ED "\">"),
		"edXML");
	assert_string_equal(
		name("<p:Packet xmlns:q=\"" ED "\" xmlns:p=\"" RP "\">"),
		"report packet");
	assert_string_equal(
		name("<m:StructureSpecificData xmlns:m=\"" SDMX "\">"),
		"SDMX-ML");
	gw_recv_formats_unload(F);
}

static void test_recv_formats__not_a_wire_format(void **state)
{
	(void)state;
	gw_recv_formats_load(F);
	/* the canonical message and unknown namespaces */
	assert_null(sniff("<message xmlns=\"urn:lienthong:message:1\"/>"));
	assert_null(sniff("<edXML xmlns=\"" ED "x\"/>"));
	assert_null(sniff("<edXML/>"));
	/* the namespace of another prefix, of an attribute, of a child */
	assert_null(sniff("<ed:edXML xmlns=\"" ED "\"/>"));
	assert_null(sniff("<edXML xmlnsx=\"" ED "\"/>"));
	assert_null(sniff("<edXML><x xmlns=\"" ED "\"/></edXML>"));
	/* a DOCTYPE, a cut start tag or declaration, nothing */
	assert_null(sniff("<!DOCTYPE edXML><edXML xmlns=\"" ED "\"/>"));
	assert_null(sniff("<edXML xmlns=\"" ED));
	assert_null(sniff("<?xml version=\"1.0\""));
	assert_null(sniff("<!-- <edXML xmlns=\"" ED "\"> "));
	assert_null(sniff(""));
	assert_null(sniff("<"));
	assert_null(gw_recv_format_sniff(NULL, 0));
	assert_null(sniff("{\"edXML\": \"" ED "\"}"));
	gw_recv_formats_unload(F);
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
		cmocka_unit_test(test_recv_formats__none_loaded),
		cmocka_unit_test(test_recv_formats__root_namespace),
		cmocka_unit_test(test_recv_formats__not_a_wire_format),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
