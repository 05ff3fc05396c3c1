/*
 * fuzz_parsers.c - libFuzzer target for every parser of outside input:
 * the first byte picks the parser (safe XML + conversion to JSON, JSON +
 * conversion to XML + business rules, YAML, the wire formats edXML,
 * report packet XML and JSON through gateway/format.c, and RFC 4180 CSV),
 * the rest is the input. For the report packet, an odd data[0] / 7 reads
 * it with the names of the example profile (conf/profiles/, profile.h).
 * Build and run with `make fuzz` (clang, ASan + UBSan + libFuzzer).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/config.h"
#include "csv/csv.h"
#include "adapt/format.h"
#include "base/json.h"
#include "model/message.h"
#include "adapt/profile.h"
#include "base/xml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* gateway/json.c must accept and refuse what jansson's json_loadb does,
 * at the same place with the same message (tests/unit/test_json.c), but
 * for jansson's one slip: it loses a NUL byte read as the look-ahead after
 * a number or literal, which we refuse at that byte. */
static void json_same_as_jansson(const char *buf, size_t size)
{
	json_error_t ja, jb;
	json_t *a = json_loadb(buf, size,
			       JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &ja);
	json_t *b = gw_json_loadb(buf, size, JSON_DECODE_ANY, &jb);
	int at = jb.position - 1;

	if (!b && at >= 1 && buf[at] == '\0' &&
	    ((buf[at - 1] >= '0' && buf[at - 1] <= '9') ||
	     (buf[at - 1] >= 'a' && buf[at - 1] <= 'z'))) {
		/* the slip */
	} else if (a && b) {
		if (!json_equal(a, b))
			abort();
	} else if (a || b || ja.line != jb.line || ja.column != jb.column ||
		   ja.position != jb.position || strcmp(ja.text, jb.text)) {
		abort();
	}
	json_decref(a);
	json_decref(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data + 1;
	struct gw_err err;
	xmlDocPtr doc = NULL;
	json_t *j = NULL, *lines = NULL;

	if (size < 1)
		return 0;
	size--;
	switch (data[0] % 7) {
	case 0:
		if (gw_xml_parse(buf, size, "fuzz.xml", &doc, &err) == GW_OK &&
		    gw_msg_xml_is_canonical(doc) &&
		    gw_msg_xml_to_json(doc, &j, &err) == GW_OK)
			gw_msg_check_rules(j, NULL, NULL);
		break;
	case 1:
		json_same_as_jansson(buf, size);
		if (gw_json_parse(buf, size, "fuzz.json", &j, &err) == GW_OK &&
		    gw_msg_json_kind(j) != GW_KIND_UNKNOWN) {
			struct gw_buf out;

			gw_buf_init(&out);
			gw_msg_check_rules(j, NULL, NULL);
			if (gw_msg_json_to_xml(j, &doc, &err) == GW_OK)
				gw_msg_xml_dump(doc, &out, &err);
			gw_buf_release(&out);
		}
		break;
	case 2: gw_yaml_parse(buf, size, "fuzz.yaml", &j, &lines, &err); break;
	case 6: {
		FILE *f = fmemopen((void *)buf, size ? size : 1, "rb");
		struct gw_csv *c = f ? gw_csv_new(f, 0) : NULL;
		const char *const *cells;
		size_t n, line, last = 0;
		char why[300];
		int r;

		/* every bad row says why; rows never go back in the file */
		while (c && (why[0] = '\0',
			     r = gw_csv_next(c, &cells, &n, &line, why,
					     sizeof(why))) != 0) {
			if ((r < 0 && !why[0]) || line < last)
				abort();
			last = line;
		}
		gw_csv_free(c);
		if (f)
			fclose(f);
		break;
	}
	default: {
		static struct gw_format *fmt;
		static struct gw_profile *prof;
		static const char *const names[] = { "edxml", "report-packet",
						     "report-packet-json" };
		int profiled = data[0] % 7 != 3 && (data[0] / 7) % 2;

		if (!fmt && gw_format_new("schemas", &fmt, &err))
			abort(); /* run from the repository's top folder */
		if (!prof &&
		    gw_profile_load("conf/profiles/report-packet-vn.yaml",
				    "schemas", NULL, NULL, &prof, &err))
			abort();
		gw_format_from_wire_profile(fmt, names[data[0] % 7 - 3],
					    profiled ? prof : NULL, buf, size,
					    "fuzz", &j, NULL, &err);
	}
	}
	if (doc)
		xmlFreeDoc(doc);
	json_decref(j);
	json_decref(lines);
	return 0;
}
