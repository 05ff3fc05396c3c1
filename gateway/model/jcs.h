/*
 * jcs.h - RFC 8785 JSON Canonicalization Scheme.
 *
 * The canonical form is what JWS signatures in the gateway are computed
 * over: object members sorted by their UTF-16 code units, no insignificant
 * white space, strings with the minimal escapes, numbers serialized as
 * ECMAScript does for IEEE 754 doubles. NaN and Infinity are refused.
 */
#ifndef GW_JCS_H
#define GW_JCS_H

#include <jansson.h>

#include "base/common.h"

/* Canonicalize the JSON text json[0..len) into out (appended). Duplicate
 * member names, invalid UTF-8 and numbers outside the double range are
 * refused with GW_ERR_PARSE. */
gw_rc gw_jcs_canonicalize(const char *json, size_t len, struct gw_buf *out,
			  struct gw_err *err);

/* Canonicalize an already parsed value (borrowed) into out (appended). */
gw_rc gw_jcs_serialize(const json_t *v, struct gw_buf *out, struct gw_err *err);

/* Serialize one IEEE 754 double the way ECMAScript Number.prototype.toString
 * does (RFC 8785 section 3.2.2.3) into buf (at least 32 bytes). Returns
 * GW_ERR_PARSE for NaN and infinities. */
gw_rc gw_jcs_number(double d, char buf[32], struct gw_err *err);

/*
 * Notes for callers (jcs.c):
 * - gw_jcs_canonicalize() reads every number as a double, so integers past
 *   2^53 (even past int64) round exactly as a double parse of their text;
 *   underflow reads as 0, as JSON.parse does. "\u0000" is accepted in
 *   strings, but jansson refuses U+0000 inside member names (GW_ERR_PARSE).
 * - gw_jcs_serialize() converts json_int_t values to double the same way;
 *   values nested deeper than 4096 levels (or cyclic) are refused with
 *   GW_ERR_REFUSED.
 * - On any failure out is restored to its length before the call, so a
 *   half-written form is never left behind to be signed. Out of memory is
 *   GW_ERR_NOMEM.
 */

#endif
