/*
 * json.c - parsing untrusted JSON: size limit, duplicate keys refused,
 * errors that name the file, line and column.
 */
#include "json.h"

#include <string.h>

gw_rc gw_json_parse(const char *buf, size_t len, const char *name, json_t **out,
		    struct gw_err *err)
{
	json_error_t je;
	json_t *v;

	*out = NULL;
	if (len > GW_JSON_MAX_SIZE)
		return gw_err_set(err, GW_ERR_REFUSED,
				  "%s: %zu bytes is over the JSON size limit "
				  "of %u bytes",
				  name, len, GW_JSON_MAX_SIZE);
	v = json_loadb(buf, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
	if (!v) {
		gw_rc rc = GW_ERR_PARSE;

		if (strstr(je.text, "maximum parsing depth"))
			rc = GW_ERR_REFUSED;
		return gw_err_set(err, rc, "%s:%d:%d: %s", name, je.line,
				  je.column, je.text);
	}
	*out = v;
	return GW_OK;
}

gw_rc gw_json_pointer_add(struct gw_buf *ptr, const char *key)
{
	gw_rc rc = gw_buf_add(ptr, "/", 1);

	for (; !rc && *key; key++) {
		if (*key == '~')
			rc = gw_buf_add(ptr, "~0", 2);
		else if (*key == '/')
			rc = gw_buf_add(ptr, "~1", 2);
		else
			rc = gw_buf_add(ptr, key, 1);
	}
	return rc;
}
