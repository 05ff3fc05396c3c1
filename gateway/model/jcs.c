/*
 * jcs.c - RFC 8785 JSON Canonicalization Scheme on top of jansson.
 *
 * The canonical bytes are what the gateway signs, so they must match every
 * other JCS implementation bit for bit. Three places need care: numbers are
 * IEEE 754 doubles printed as ECMAScript's Number.prototype.toString does
 * (shortest digits that read back to the same double), member names are
 * ordered by UTF-16 code units rather than UTF-8 bytes (the two disagree
 * once characters above U+FFFF meet U+E000..U+FFFF), and strings carry only
 * the escapes JSON cannot do without. Everything else is copied as UTF-8.
 */
#include "model/jcs.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"

/* Deeper than jansson's own parser limit, so only hand-built (or cyclic)
 * values ever reach it; it keeps the recursion off the end of the stack. */
#define MAX_DEPTH 4096

/* Leading "-", 17 digits, "." or "0.000000", "e+308": 32 bytes is ample. */
#define NUM_MAX 32

/*
 * Decimal digits and exponent of a double: x = 0.d1d2...dk * 10^n, the
 * "k" and "n" of ECMAScript's Number::toString.
 */
struct decimal {
	char digits
		[24]; /* at most 20 (uint64_t); 24 keeps digits + n in bounds */
	int k;
	int n;
};

/* The decimal m * 10^q, trailing zeros of m dropped (m > 0). */
static void make_decimal(uint64_t m, int q, struct decimal *dec)
{
	int len = snprintf(dec->digits, sizeof(dec->digits), "%llu",
			   (unsigned long long)m);

	dec->n = len + q;
	while (len > 1 && dec->digits[len - 1] == '0')
		dec->digits[--len] = '\0';
	dec->k = len;
}

/* Does the decimal dec read back (strtod, round to nearest) as exactly d? */
static int round_trips(const struct decimal *dec, double d)
{
	char s[NUM_MAX + 8];

	snprintf(s, sizeof(s), "0.%se%d", dec->digits, dec->n);
	return strtod(s, NULL) == d;
}

/*
 * The shortest decimal that reads back as the positive finite d, and of
 * those the nearest to d (ECMAScript's k as small as possible, then s
 * closest). For each precision p the correctly rounded p-digit value from
 * printf is the nearest candidate; when it misses, the p-digit neighbour
 * on the other side of d is tried too, because at a power of two the gap
 * above a double is twice the gap below and only that one may read back.
 */
static void shortest(double d, struct decimal *dec)
{
	char s[NUM_MAX + 8];
	uint64_t m;
	int p, e, q;
	const char *c;

	for (p = 1; p <= 17; p++) {
		snprintf(s, sizeof(s), "%.*e", p - 1, d);
		m = 0;
		for (c = s; *c && *c != 'e'; c++)
			if (*c >= '0' && *c <= '9')
				m = m * 10 + (uint64_t)(*c - '0');
		e = atoi(c + 1);
		q = e - (p - 1);
		make_decimal(m, q, dec);
		if (round_trips(dec, d))
			return;
		m = strtod(s, NULL) < d ? m + 1 : m - 1;
		if (m == 0)
			continue;
		make_decimal(m, q, dec);
		if (dec->k <= p && round_trips(dec, d))
			return;
	}
	/* 17 significant digits always read back; this is unreachable. */
	snprintf(s, sizeof(s), "%.16e", d);
	m = 0;
	for (c = s; *c && *c != 'e'; c++)
		if (*c >= '0' && *c <= '9')
			m = m * 10 + (uint64_t)(*c - '0');
	make_decimal(m, atoi(c + 1) - 16, dec);
}

gw_rc gw_jcs_number(double d, char buf[32], struct gw_err *err)
{
	struct decimal dec;
	char *o = buf;
	int i, e;

	if (isnan(d) || isinf(d)) {
		buf[0] = '\0';
		return gw_err_set(err, GW_ERR_PARSE,
				  "cannot canonicalize number '%s': json has "
				  "no NaN or Infinity",
				  isnan(d) ? "NaN"
				  : d < 0  ? "-Infinity"
					   : "Infinity");
	}
	if (d == 0) { /* both 0 and -0 */
		strcpy(buf, "0");
		return GW_OK;
	}
	if (d < 0) {
		*o++ = '-';
		d = -d;
	}
	shortest(d, &dec);
	if (dec.k <= dec.n && dec.n <= 21) {
		/* Integer: the digits, then n - k zeros. */
		memcpy(o, dec.digits, (size_t)dec.k);
		o += dec.k;
		for (i = 0; i < dec.n - dec.k; i++)
			*o++ = '0';
	} else if (0 < dec.n && dec.n <= 21) {
		memcpy(o, dec.digits, (size_t)dec.n);
		o += dec.n;
		*o++ = '.';
		memcpy(o, dec.digits + dec.n, (size_t)(dec.k - dec.n));
		o += dec.k - dec.n;
	} else if (-6 < dec.n && dec.n <= 0) {
		*o++ = '0';
		*o++ = '.';
		for (i = 0; i < -dec.n; i++)
			*o++ = '0';
		memcpy(o, dec.digits, (size_t)dec.k);
		o += dec.k;
	} else {
		*o++ = dec.digits[0];
		if (dec.k > 1) {
			*o++ = '.';
			memcpy(o, dec.digits + 1, (size_t)(dec.k - 1));
			o += dec.k - 1;
		}
		e = dec.n - 1;
		o += sprintf(o, "e%c%d", e < 0 ? '-' : '+', e < 0 ? -e : e);
	}
	*o = '\0';
	return GW_OK;
}

/*
 * Next UTF-16 code unit of the UTF-8 string s[*i..len), with *pending
 * holding the low surrogate of a pair already started. jansson has
 * validated the UTF-8, so decoding need not be defensive beyond bounds.
 */
static unsigned next_unit(const unsigned char *s, size_t len, size_t *i,
			  unsigned *pending)
{
	unsigned c;
	size_t extra, j;

	if (*pending) {
		c = *pending;
		*pending = 0;
		return c;
	}
	c = s[(*i)++];
	if (c < 0x80)
		return c;
	extra = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : 1;
	c &= extra == 3 ? 0x07 : extra == 2 ? 0x0F : 0x1F;
	for (j = 0; j < extra && *i < len; j++)
		c = (c << 6) | (s[(*i)++] & 0x3F);
	if (c >= 0x10000) {
		c -= 0x10000;
		*pending = 0xDC00 | (c & 0x3FF);
		return 0xD800 | (c >> 10);
	}
	return c;
}

struct member {
	const char *key;
	size_t len;
	json_t *value;
};

/* Order member names by their UTF-16 code units (RFC 8785 3.2.3). */
static int member_cmp(const void *pa, const void *pb)
{
	const struct member *a = pa, *b = pb;
	const unsigned char *sa = (const unsigned char *)a->key;
	const unsigned char *sb = (const unsigned char *)b->key;
	size_t ia = 0, ib = 0;
	unsigned pa16 = 0, pb16 = 0, ua, ub;

	for (;;) {
		int enda = ia >= a->len && !pa16;
		int endb = ib >= b->len && !pb16;

		if (enda || endb)
			return enda && endb ? 0 : enda ? -1 : 1;
		ua = next_unit(sa, a->len, &ia, &pa16);
		ub = next_unit(sb, b->len, &ib, &pb16);
		if (ua != ub)
			return ua < ub ? -1 : 1;
	}
}

static gw_rc put_string(struct gw_buf *out, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, run = 0;
	char esc[7];
	gw_rc rc;

	if ((rc = gw_buf_add(out, "\"", 1)))
		return rc;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		const char *e = NULL;
		size_t elen = 2;

		switch (c) {
		case '"': e = "\\\""; break;
		case '\\': e = "\\\\"; break;
		case '\b': e = "\\b"; break;
		case '\f': e = "\\f"; break;
		case '\n': e = "\\n"; break;
		case '\r': e = "\\r"; break;
		case '\t': e = "\\t"; break;
		default:
			if (c < 0x20) {
				esc[0] = '\\';
				esc[1] = 'u';
				esc[2] = '0';
				esc[3] = '0';
				esc[4] = hex[c >> 4];
				esc[5] = hex[c & 0xF];
				e = esc;
				elen = 6;
			}
		}
		if (!e)
			continue;
		/* Copy the plain run before the escape in one go. */
		if ((rc = gw_buf_add(out, s + run, i - run)) ||
		    (rc = gw_buf_add(out, e, elen)))
			return rc;
		run = i + 1;
	}
	if ((rc = gw_buf_add(out, s + run, len - run)))
		return rc;
	return gw_buf_add(out, "\"", 1);
}

static gw_rc put_value(const json_t *v, struct gw_buf *out, int depth,
		       struct gw_err *err);

static gw_rc put_object(const json_t *v, struct gw_buf *out, int depth,
			struct gw_err *err)
{
	struct member *m = NULL;
	size_t n = json_object_size(v), i = 0;
	void *it;
	gw_rc rc = GW_OK;

	if (n) {
		m = gw_calloc(n, sizeof(*m));
		if (!m) {
			rc = GW_ERR_NOMEM;
			goto out;
		}
	}
	for (it = json_object_iter((json_t *)v); it && i < n;
	     it = json_object_iter_next((json_t *)v, it), i++) {
		m[i].key = json_object_iter_key(it);
		m[i].len = json_object_iter_key_len(it);
		m[i].value = json_object_iter_value(it);
	}
	n = i;
	if (n > 1)
		qsort(m, n, sizeof(*m), member_cmp);
	if ((rc = gw_buf_add(out, "{", 1)))
		goto out;
	for (i = 0; i < n; i++) {
		if (i && (rc = gw_buf_add(out, ",", 1)))
			goto out;
		if ((rc = put_string(out, m[i].key, m[i].len)) ||
		    (rc = gw_buf_add(out, ":", 1)) ||
		    (rc = put_value(m[i].value, out, depth + 1, err)))
			goto out;
	}
	rc = gw_buf_add(out, "}", 1);
out:
	free(m);
	return rc;
}

static gw_rc put_value(const json_t *v, struct gw_buf *out, int depth,
		       struct gw_err *err)
{
	char num[NUM_MAX];
	size_t i;
	gw_rc rc;

	if (depth > MAX_DEPTH)
		return gw_err_set(err, GW_ERR_REFUSED,
				  "cannot canonicalize json nested deeper "
				  "than %d levels (or cyclic)",
				  MAX_DEPTH);
	switch (json_typeof(v)) {
	case JSON_OBJECT: return put_object(v, out, depth, err);
	case JSON_ARRAY:
		if ((rc = gw_buf_add(out, "[", 1)))
			return rc;
		for (i = 0; i < json_array_size(v); i++) {
			if (i && (rc = gw_buf_add(out, ",", 1)))
				return rc;
			if ((rc = put_value(json_array_get(v, i), out,
					    depth + 1, err)))
				return rc;
		}
		return gw_buf_add(out, "]", 1);
	case JSON_STRING:
		return put_string(out, json_string_value(v),
				  json_string_length(v));
	case JSON_INTEGER:
		/* JCS numbers are doubles; converting the exact int64 rounds
		 * to nearest just as parsing its decimal text would. */
		if ((rc = gw_jcs_number((double)json_integer_value(v), num,
					err)))
			return rc;
		return gw_buf_adds(out, num);
	case JSON_REAL:
		if ((rc = gw_jcs_number(json_real_value(v), num, err)))
			return rc;
		return gw_buf_adds(out, num);
	case JSON_TRUE: return gw_buf_add(out, "true", 4);
	case JSON_FALSE: return gw_buf_add(out, "false", 5);
	case JSON_NULL: return gw_buf_add(out, "null", 4);
	}
	return gw_err_set(err, GW_ERR_INTERNAL, "unknown jansson value type %d",
			  (int)json_typeof(v));
}

gw_rc gw_jcs_serialize(const json_t *v, struct gw_buf *out, struct gw_err *err)
{
	size_t mark = out->len;
	gw_rc rc;

	if (!v)
		return gw_err_set(err, GW_ERR_USAGE,
				  "cannot canonicalize a null json value");
	rc = put_value(v, out, 0, err);
	if (rc) {
		/* Leave out as it was: a half-written form must not be signed. */
		out->len = mark;
		if (out->data)
			out->data[mark] = '\0';
		if (rc == GW_ERR_NOMEM)
			gw_err_set(err, rc,
				   "out of memory while canonicalizing "
				   "json");
	}
	return rc;
}

gw_rc gw_jcs_canonicalize(const char *json, size_t len, struct gw_buf *out,
			  struct gw_err *err)
{
	json_error_t jerr;
	json_t *v;
	gw_rc rc;

	/* Every number is read as a double (JSON_DECODE_INT_AS_REAL), so
	 * integers past 2^53, even past int64, round exactly as strtod of the
	 * text does; real overflow is refused by jansson. JSON_ALLOW_NUL
	 * because "\u0000" is a valid string that JCS must carry. Our parser
	 * (json.c), as json_loadb(JSON_REJECT_DUPLICATES) with these flags. */
	v = gw_json_loadb(json, len,
			  JSON_DECODE_ANY | JSON_DECODE_INT_AS_REAL |
				  JSON_ALLOW_NUL,
			  &jerr);
	if (!v)
		return gw_err_set(err, GW_ERR_PARSE,
				  "cannot canonicalize json: %s at line %d "
				  "column %d",
				  jerr.text, jerr.line, jerr.column);
	rc = gw_jcs_serialize(v, out, err);
	json_decref(v);
	return rc;
}
