/*
 * fuzz_json.c - libFuzzer target for the safe JSON parser (base/json.c),
 * differential against jansson's json_loadb, then the canonical message's
 * business rules and its conversion to XML (model/message.c).
 * Built and run by `make fuzz` (docs/FUZZING.md); `make test` replays the
 * corpus tests/fuzz/corpus/json/ through a plain build.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "model/message.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* base/json.c must accept and refuse what jansson's json_loadb does,
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
	const char *buf = (const char *)data;
	struct gw_err err;
	xmlDocPtr doc = NULL;
	json_t *j = NULL;

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
	if (doc)
		xmlFreeDoc(doc);
	json_decref(j);
	return 0;
}
