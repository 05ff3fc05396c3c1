/*
 * json.h - parsing untrusted JSON with jansson, with limits and located
 * errors ("NAME:LINE:COLUMN: reason").
 */
#ifndef GW_JSON_H
#define GW_JSON_H

#include <jansson.h>

#include "common.h"

#define GW_JSON_MAX_SIZE (64u * 1024 * 1024)

/* Parse buf[0..len) named name. Duplicate member names are refused,
 * nesting deeper than jansson's limit (2048) and integers beyond 64 bits
 * are refused with a clear error. On success *out is a new reference. */
gw_rc gw_json_parse(const char *buf, size_t len, const char *name, json_t **out,
		    struct gw_err *err);

/* Append to ptr (a JSON Pointer being built) the escaped token key. */
gw_rc gw_json_pointer_add(struct gw_buf *ptr, const char *key);

#endif
