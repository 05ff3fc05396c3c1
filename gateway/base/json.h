/*
 * json.h - parsing untrusted JSON with jansson, with limits and located
 * errors ("NAME:LINE:COLUMN: reason").
 */
#ifndef GW_JSON_H
#define GW_JSON_H

#include <jansson.h>

#include "base/common.h"

#define GW_JSON_MAX_SIZE (64u * 1024 * 1024)

/* Parse buf[0..len) like json_loadb(buf, len, JSON_REJECT_DUPLICATES |
 * flags, je), with our own faster parser (json.c): the same values, the
 * same refusals, the same error text, line, column and position in *je
 * (may be NULL). flags: 0 (the top-level value must be an object or an
 * array) or any of JSON_DECODE_ANY, JSON_DECODE_INT_AS_REAL and
 * JSON_ALLOW_NUL with jansson's meaning; duplicate member names are always
 * refused.
 * Returns a new reference, or NULL with *je filled; on allocation failure
 * json_error_code(je) is json_error_out_of_memory. buf is borrowed. */
json_t *gw_json_loadb(const char *buf, size_t len, size_t flags,
		      json_error_t *je);

/* Parse buf[0..len) named name. Duplicate member names are refused,
 * nesting deeper than jansson's limit (2048) and integers beyond 64 bits
 * are refused with a clear error ("NAME:LINE:COLUMN: reason"; too deep is
 * GW_ERR_REFUSED, other syntax errors GW_ERR_PARSE, allocation failure
 * GW_ERR_NOMEM). On success *out is a new reference. */
gw_rc gw_json_parse(const char *buf, size_t len, const char *name, json_t **out,
		    struct gw_err *err);

/* Append to ptr (a JSON Pointer being built) the escaped token key. */
gw_rc gw_json_pointer_add(struct gw_buf *ptr, const char *key);

#endif
