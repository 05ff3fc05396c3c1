/*
 * fuzz_xml.c - libFuzzer target for the safe XML parser (base/xml.c: no
 * DTD, entities or network, depth and size limits), then the canonical
 * message's conversion to JSON and its business rules (model/message.c).
 */
#include <stdint.h>
#include <stdlib.h>

#include "base/xml.h"
#include "model/message.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gw_err err;
	xmlDocPtr doc = NULL;
	json_t *j = NULL;

	if (gw_xml_parse((const char *)data, size, "fuzz.xml", &doc, &err) ==
		    GW_OK &&
	    gw_msg_xml_is_canonical(doc) &&
	    gw_msg_xml_to_json(doc, &j, &err) == GW_OK)
		gw_msg_check_rules(j, NULL, NULL);
	if (doc)
		xmlFreeDoc(doc);
	json_decref(j);
	return 0;
}
