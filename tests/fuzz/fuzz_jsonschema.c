/*
 * fuzz_jsonschema.c - libFuzzer target for the JSON Schema 2020-12
 * compiler and validator (model/jsonschema.c). The input is a schema, a
 * NUL byte, then an instance: the schema is compiled (references to
 * https://lienthong.example/ resolve in schemas/, as the gateway's own
 * do), and when it compiles the instance (or, with no NUL, the schema
 * itself) is validated and its errors printed to /dev/null.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "model/jsonschema.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *null;
	const char *buf = (const char *)data;
	const char *nul = memchr(buf, '\0', size);
	size_t slen = nul ? (size_t)(nul - buf) : size;
	struct gw_js_registry *reg = NULL;
	struct gw_js_schema *s = NULL;
	struct gw_js_errors errs;
	json_t *schema = NULL, *inst = NULL;
	struct gw_err err;

	if (!null && !(null = fopen("/dev/null", "w")))
		abort();
	if (gw_json_parse(buf, slen, "schema", &schema, &err))
		return 0;
	if (nul &&
	    gw_json_parse(nul + 1, size - slen - 1, "instance", &inst, &err))
		goto out;
	if (!(reg = gw_js_registry_new()) ||
	    gw_js_registry_map(reg, "https://lienthong.example/schemas/",
			       "schemas/", &err))
		goto out;
	if (gw_js_compile(reg, schema, NULL, size % 2 ? GW_JS_FORMAT_ASSERT : 0,
			  &s, &err))
		goto out;
	memset(&errs, 0, sizeof(errs));
	if (!gw_js_validate(s, inst ? inst : schema, &errs))
		gw_js_errors_print(&errs, "fuzz", null);
	gw_js_errors_release(&errs);
out:
	gw_js_schema_free(s);
	gw_js_registry_free(reg);
	json_decref(schema);
	json_decref(inst);
	return 0;
}
