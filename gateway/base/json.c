/*
 * json.c - parsing untrusted JSON: size limit, duplicate keys refused,
 * errors that name the file, line and column.
 *
 * The parser is our own: jansson's json_loadb() reads the input through a
 * callback per byte, appends every byte of a token to a string buffer and
 * decodes strings in a second pass, about 190 instructions per byte of
 * input (bench/FINDINGS.md). This one scans string bodies 16 bytes at a
 * time, validates UTF-8 only where a byte >= 0x80 appears, builds strings
 * straight from the input when they have no escapes, and converts most
 * numbers without strtod(). It builds the same jansson values and accepts
 * and refuses exactly what json_loadb(JSON_REJECT_DUPLICATES) does, with
 * the same messages, lines and columns (tests/unit/test_json.c checks that
 * differentially against jansson itself). Its structure follows jansson's
 * lexer and parser on purpose: a token is scanned, then judged, so that
 * the first error raised is the one jansson would raise.
 *
 * One difference on purpose: jansson's input stream ends a character with
 * a NUL byte, so a NUL byte it reads as the look-ahead after a number or a
 * literal and puts back is lost, and "0\0" or "[true\0]" are accepted. A
 * NUL byte is no JSON white space; we refuse it there like anywhere else.
 */
#include "base/json.h"

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

enum {
	T_EOF = 0,
	T_INVALID = 256,
	T_STRING,
	T_INTEGER,
	T_REAL,
	T_TRUE,
	T_FALSE,
	T_NULL,
};

/* A byte that is not the next one: end of input, or a UTF-8 error. */
#define C_EOF (-1)
#define C_ERR (-2)

struct parser {
	const char *buf, *end;
	const char *p;	 /* next byte to read (jansson's stream position) */
	const char *tok; /* start of the current token (its "saved text") */
	size_t flags;
	size_t depth;
	json_error_t *je;
	int failed;	/* an error is recorded: the first one wins */
	int stream_err; /* that error was a UTF-8 decoding error */
	int nomem;
	int token;
	/* the current token's value */
	const char *str; /* into the input, or into scratch */
	size_t str_len;
	int str_nul; /* the string holds a U+0000 */
	json_int_t integer;
	double real;
	/* decoded strings that had escapes */
	char *scratch;
	size_t scratch_cap;
};

static int is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int hex_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Line and column of p as jansson counts them: lines from 1, columns in
 * characters (UTF-8 lead bytes) read on the line, 0 right after a LF. */
static void locate(const struct parser *P, const char *p, int *line,
		   int *column)
{
	const char *s = P->buf, *nl;
	int l = 1, c = 0;

	while ((nl = memchr(s, '\n', (size_t)(p - s)))) {
		l++;
		s = nl + 1;
	}
	for (; s < p; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			c++;
	*line = l;
	*column = c;
}

/* Record an error at the current position, with the current token as its
 * context like jansson ("... near 'TEXT'", "... near end of file"). Only
 * the first error counts. */
__attribute__((format(printf, 3, 4))) static void
fail(struct parser *P, enum json_error_code code, const char *fmt, ...)
{
	char msg[96], near[21];
	json_error_t *je = P->je;
	size_t saved = (size_t)(P->p - P->tok);
	va_list ap;

	if (P->failed)
		return;
	P->failed = 1;
	if (!je)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (saved && P->tok[0]) {
		if (saved <= 20) {
			/* the text as a C string: up to a NUL, like jansson */
			memcpy(near, P->tok, saved);
			near[saved] = '\0';
			snprintf(je->text, sizeof(je->text), "%s near '%s'",
				 msg, near);
		} else
			snprintf(je->text, sizeof(je->text), "%s", msg);
	} else {
		if (code == json_error_invalid_syntax)
			code = json_error_premature_end_of_input;
		if (P->stream_err)
			snprintf(je->text, sizeof(je->text), "%s", msg);
		else
			snprintf(je->text, sizeof(je->text),
				 "%s near end of file", msg);
	}
	je->text[JSON_ERROR_TEXT_LENGTH - 1] = (char)code;
	locate(P, P->p, &je->line, &je->column);
	je->position = (int)(P->p - P->buf);
}

static void fail_nomem(struct parser *P)
{
	if (P->failed)
		return;
	P->failed = 1;
	P->nomem = 1;
	if (P->je) {
		snprintf(P->je->text, sizeof(P->je->text), "out of memory");
		P->je->text[JSON_ERROR_TEXT_LENGTH - 1] =
			(char)json_error_out_of_memory;
		P->je->line = P->je->column = -1;
		P->je->position = (int)(P->p - P->buf);
	}
}

/* Length of the valid UTF-8 sequence at p (lead byte >= 0x80), or 0 with
 * an error recorded: no overlong forms, no surrogates, nothing above
 * U+10FFFF, nothing cut by the end of the input. */
static size_t utf8_seq(struct parser *P, const unsigned char *p)
{
	const unsigned char *end = (const unsigned char *)P->end;
	unsigned c = p[0];
	size_t n, i;
	uint32_t v;

	if (c >= 0xC2 && c <= 0xDF)
		n = 2, v = c & 0x1F;
	else if (c >= 0xE0 && c <= 0xEF)
		n = 3, v = c & 0x0F;
	else if (c >= 0xF0 && c <= 0xF4)
		n = 4, v = c & 0x07;
	else
		goto bad;
	if ((size_t)(end - p) < n)
		goto bad;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xC0) != 0x80)
			goto bad;
		v = (v << 6) | (p[i] & 0x3F);
	}
	if (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF) ||
	    (n == 3 && v < 0x800) || (n == 4 && v < 0x10000))
		goto bad;
	return n;
bad:
	P->stream_err = 1;
	fail(P, json_error_invalid_utf8, "unable to decode byte 0x%x", c);
	return 0;
}

/* The next byte without consuming it: C_EOF at the end, C_ERR (error
 * recorded) on invalid UTF-8. jansson decodes every character it reads,
 * including the one it looks ahead at. */
static inline int peek(struct parser *P)
{
	unsigned c;

	if (P->p >= P->end)
		return C_EOF;
	c = (unsigned char)*P->p;
	if (c < 0x80)
		return (int)c;
	return utf8_seq(P, (const unsigned char *)P->p) ? (int)c : C_ERR;
}

/* Make room for n more bytes after used bytes of scratch. */
static int scratch_room(struct parser *P, size_t used, size_t n)
{
	size_t cap;
	char *s;

	if (used + n <= P->scratch_cap)
		return 0;
	cap = P->scratch_cap ? P->scratch_cap : 256;
	while (cap < used + n)
		cap *= 2;
	if (!(s = gw_realloc(P->scratch, cap))) {
		fail_nomem(P);
		return -1;
	}
	P->scratch = s;
	P->scratch_cap = cap;
	return 0;
}

static size_t utf8_put(char *t, uint32_t v)
{
	if (v < 0x80) {
		t[0] = (char)v;
		return 1;
	}
	if (v < 0x800) {
		t[0] = (char)(0xC0 | (v >> 6));
		t[1] = (char)(0x80 | (v & 0x3F));
		return 2;
	}
	if (v < 0x10000) {
		t[0] = (char)(0xE0 | (v >> 12));
		t[1] = (char)(0x80 | ((v >> 6) & 0x3F));
		t[2] = (char)(0x80 | (v & 0x3F));
		return 3;
	}
	t[0] = (char)(0xF0 | (v >> 18));
	t[1] = (char)(0x80 | ((v >> 12) & 0x3F));
	t[2] = (char)(0x80 | ((v >> 6) & 0x3F));
	t[3] = (char)(0x80 | (v & 0x3F));
	return 4;
}

/* Skip bytes that need no attention in a string body: everything but '"',
 * '\\', control characters and bytes >= 0x80. */
static inline const char *skip_plain(const char *p, const char *end)
{
#ifdef __SSE2__
	const __m128i quote = _mm_set1_epi8('"');
	const __m128i bslash = _mm_set1_epi8('\\');
	const __m128i space = _mm_set1_epi8(0x20);

	while (end - p >= 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
		/* signed compare: bytes >= 0x80 are negative, so below 0x20 */
		__m128i m =
			_mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, quote),
						  _mm_cmpeq_epi8(x, bslash)),
				     _mm_cmplt_epi8(x, space));
		int mask = _mm_movemask_epi8(m);

		if (mask)
			return p + __builtin_ctz((unsigned)mask);
		p += 16;
	}
#endif
	while (p < end) {
		unsigned char c = (unsigned char)*p;

		if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80)
			break;
		p++;
	}
	return p;
}

/* One \uXXXX escape with its 4 digits already checked, at p ('u'). */
static uint32_t escape_value(const char *p)
{
	return (uint32_t)(hex_value(p[1]) << 12 | hex_value(p[2]) << 8 |
			  hex_value(p[3]) << 4 | hex_value(p[4]));
}

/* A string token, P->p just after its opening quote. Like jansson, errors
 * of the text (control characters, bad escapes, the end of the input,
 * UTF-8) come first, in the order met; errors of \u values (lone
 * surrogates) are only raised once the closing quote is found. */
static void scan_string(struct parser *P)
{
	const char *start = P->p, *p = P->p, *end = P->end;
	size_t used = 0;
	int escaped = 0, nul = 0;
	char bad_unicode[32] = "";

	P->token = T_INVALID;
	for (;;) {
		const char *run = p;
		unsigned char c;

		p = skip_plain(p, end);
		if (escaped && p > run) {
			if (scratch_room(P, used, (size_t)(p - run)))
				return;
			memcpy(P->scratch + used, run, (size_t)(p - run));
			used += (size_t)(p - run);
		}
		if (p >= end) {
			P->p = p;
			fail(P, json_error_premature_end_of_input,
			     "premature end of input");
			return;
		}
		c = (unsigned char)*p;
		if (c == '"')
			break;
		if (c >= 0x80) {
			const unsigned char *u = (const unsigned char *)p;
			size_t n;

			/* the common 2- and 3-byte forms inline (no overlong,
			 * no surrogate possible), the rest checked in full */
			if (c >= 0xC2 && c <= 0xDF && end - p >= 2 &&
			    (u[1] & 0xC0) == 0x80) {
				n = 2;
			} else if (c >= 0xE1 && c <= 0xEC && end - p >= 3 &&
				   (u[1] & 0xC0) == 0x80 &&
				   (u[2] & 0xC0) == 0x80) {
				n = 3;
			} else {
				P->p = p;
				if (!(n = utf8_seq(P, u)))
					return;
			}
			if (escaped) {
				if (scratch_room(P, used, n))
					return;
				memcpy(P->scratch + used, p, n);
				used += n;
			}
			p += n;
			continue;
		}
		if (c < 0x20) {
			P->p = p;
			if (c == '\n')
				fail(P, json_error_invalid_syntax,
				     "unexpected newline");
			else
				fail(P, json_error_invalid_syntax,
				     "control character 0x%x", c);
			return;
		}
		/* a backslash */
		if (!escaped) {
			escaped = 1;
			used = (size_t)(p - start);
			if (scratch_room(P, 0, used + 16))
				return;
			memcpy(P->scratch, start, used);
		}
		if (scratch_room(P, used, 4))
			return;
		P->p = ++p;
		switch (peek(P)) {
		case '"':
		case '\\':
		case '/': P->scratch[used++] = *p; break;
		case 'b': P->scratch[used++] = '\b'; break;
		case 'f': P->scratch[used++] = '\f'; break;
		case 'n': P->scratch[used++] = '\n'; break;
		case 'r': P->scratch[used++] = '\r'; break;
		case 't': P->scratch[used++] = '\t'; break;
		case 'u': {
			const char *u = p;
			uint32_t v, v2;
			int i;

			for (i = 1; i <= 4; i++) {
				int d;

				P->p = u + i;
				if ((d = peek(P)) == C_ERR)
					return;
				if (d == C_EOF || hex_value(d) < 0) {
					if (d != C_EOF)
						P->p++;
					fail(P, json_error_invalid_syntax,
					     "invalid escape");
					return;
				}
			}
			p = u + 5;
			v = escape_value(u);
			if (v >= 0xD800 && v <= 0xDBFF) {
				/* the low half must follow as \uXXXX */
				if (end - p >= 6 && p[0] == '\\' &&
				    p[1] == 'u' && hex_value(p[2]) >= 0 &&
				    hex_value(p[3]) >= 0 &&
				    hex_value(p[4]) >= 0 &&
				    hex_value(p[5]) >= 0) {
					v2 = escape_value(p + 1);
					p += 6;
					if (v2 >= 0xDC00 && v2 <= 0xDFFF)
						v = ((v - 0xD800) << 10) +
						    (v2 - 0xDC00) + 0x10000;
					else if (!bad_unicode[0])
						snprintf(bad_unicode,
							 sizeof(bad_unicode),
							 "\\u%04X\\u%04X",
							 (unsigned)v,
							 (unsigned)v2);
				} else if (end - p >= 2 && p[0] == '\\' &&
					   p[1] == 'u') {
					/* a bad escape: the text error wins */
					continue;
				} else if (!bad_unicode[0]) {
					snprintf(bad_unicode,
						 sizeof(bad_unicode), "\\u%04X",
						 (unsigned)v);
				}
			} else if (v >= 0xDC00 && v <= 0xDFFF &&
				   !bad_unicode[0]) {
				snprintf(bad_unicode, sizeof(bad_unicode),
					 "\\u%04X", (unsigned)v);
			}
			if (v == 0)
				nul = 1;
			used += utf8_put(P->scratch + used, v);
			continue;
		}
		case C_ERR: return;
		case C_EOF:
			fail(P, json_error_invalid_syntax, "invalid escape");
			return;
		default:
			P->p++;
			fail(P, json_error_invalid_syntax, "invalid escape");
			return;
		}
		p++;
	}
	P->p = p + 1;
	if (bad_unicode[0]) {
		fail(P, json_error_invalid_syntax, "invalid Unicode '%s'",
		     bad_unicode);
		return;
	}
	if (escaped) {
		P->str = P->scratch;
		P->str_len = used;
	} else {
		P->str = start;
		P->str_len = (size_t)(p - start);
	}
	P->str_nul = nul;
	P->token = T_STRING;
}

static const double pow10_exact[] = {
	1e0,  1e1,  1e2,  1e3,	1e4,  1e5,  1e6,  1e7,	1e8,  1e9,  1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

/* strtod() of [s, e) like jansson's jsonp_strtod: in the C notation
 * whatever the locale, overflow refused, underflow accepted. */
static int slow_real(struct parser *P, const char *s, const char *e,
		     double *out)
{
	char small[64], *t = small, *dot;
	size_t n = (size_t)(e - s);
	const char *point = localeconv()->decimal_point;
	char *endp;
	double v;
	int rc = 0;

	if (n >= sizeof(small) && !(t = gw_malloc(n + 1))) {
		fail_nomem(P);
		return -1;
	}
	memcpy(t, s, n);
	t[n] = '\0';
	if (point && point[0] != '.' && point[0] && !point[1] &&
	    (dot = strchr(t, '.')))
		*dot = point[0];
	errno = 0;
	v = strtod(t, &endp);
	if ((v == HUGE_VAL || v == -HUGE_VAL) && errno == ERANGE)
		rc = 1;
	*out = v;
	if (t != small)
		free(t);
	return rc;
}

/* A number token from P->tok, like jansson's lex_scan_number(): an integer
 * unless it has a fraction or an exponent; integers beyond 64 bits and
 * reals beyond double refused. */
static void scan_number(struct parser *P)
{
	const char *p = P->tok;
	int neg = 0, c, exp_neg = 0, digits = 0;
	uint64_t m = 0;
	long exp10 = 0, e = 0;
	int frac_digits = 0;

	P->token = T_INVALID;
	if (*p == '-') {
		neg = 1;
		P->p = ++p;
	}
	if ((c = peek(P)) == C_ERR)
		return;
	if (c == '0') {
		P->p = ++p;
		if ((c = peek(P)) == C_ERR)
			return;
		if (is_digit(c))
			return;
	} else if (is_digit(c)) {
		const char *d = p;

		while (p < P->end && is_digit(*p))
			p++;
		P->p = p;
		if ((c = peek(P)) == C_ERR)
			return;
		digits = (int)(p - d);
		if (digits <= 19)
			for (; d < p; d++)
				m = m * 10 + (uint64_t)(*d - '0');
	} else {
		return;
	}
	if (c != '.' && c != 'e' && c != 'E' &&
	    !(P->flags & JSON_DECODE_INT_AS_REAL)) {
		if (digits > 19 || m > (uint64_t)INT64_MAX + (uint64_t)neg) {
			fail(P, json_error_numeric_overflow,
			     neg ? "too big negative integer"
				 : "too big integer");
			return;
		}
		P->integer = neg ? (json_int_t)(0 - m) : (json_int_t)m;
		if (neg && m == (uint64_t)INT64_MAX + 1)
			P->integer = INT64_MIN;
		P->token = T_INTEGER;
		return;
	}
	if (c == '.') {
		const char *d;

		P->p = ++p;
		if ((c = peek(P)) == C_ERR)
			return;
		if (!is_digit(c))
			return;
		d = p;
		while (p < P->end && is_digit(*p))
			p++;
		frac_digits = (int)(p - d);
		P->p = p;
		if ((c = peek(P)) == C_ERR)
			return;
		if (digits + frac_digits <= 19) {
			for (; d < p; d++)
				m = m * 10 + (uint64_t)(*d - '0');
			exp10 = -frac_digits;
		} else {
			digits = 99; /* not for the fast path */
		}
	}
	if (c == 'e' || c == 'E') {
		const char *d;

		P->p = ++p;
		if ((c = peek(P)) == C_ERR)
			return;
		if (c == '+' || c == '-') {
			exp_neg = c == '-';
			P->p = ++p;
			if ((c = peek(P)) == C_ERR)
				return;
		}
		if (!is_digit(c))
			return;
		d = p;
		while (p < P->end && is_digit(*p))
			p++;
		P->p = p;
		if ((c = peek(P)) == C_ERR)
			return;
		if (p - d <= 6) {
			for (; d < p; d++)
				e = e * 10 + (*d - '0');
		} else {
			digits = 99;
		}
		exp10 += exp_neg ? -e : e;
	}
	/* Clinger's fast path: an exact mantissa and an exact power of ten
	 * give the correctly rounded result in one operation, as strtod. */
	if (digits + frac_digits <= 19 && m <= (1ull << 53) && exp10 >= -22 &&
	    exp10 <= 22) {
		double v = (double)m;

		v = exp10 < 0 ? v / pow10_exact[-exp10]
			      : v * pow10_exact[exp10];
		P->real = neg ? -v : v;
		P->token = T_REAL;
		return;
	}
	switch (slow_real(P, P->tok, p, &P->real)) {
	case 0: P->token = T_REAL; break;
	case 1:
		fail(P, json_error_numeric_overflow, "real number overflow");
		break;
	}
}

/* The next token, like jansson's lex_scan(). */
static void scan(struct parser *P)
{
	const char *p = P->p, *end = P->end;
	unsigned c;

	while (p < end && (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r'))
		p++;
	P->p = P->tok = p;
	if (p >= end) {
		P->token = T_EOF;
		return;
	}
	c = (unsigned char)*p;
	switch (c) {
	case '{':
	case '}':
	case '[':
	case ']':
	case ':':
	case ',':
		P->p = p + 1;
		P->token = (int)c;
		return;
	case '"':
		P->p = p + 1;
		scan_string(P);
		return;
	case '-':
	case '0':
	case '1':
	case '2':
	case '3':
	case '4':
	case '5':
	case '6':
	case '7':
	case '8':
	case '9': scan_number(P); return;
	}
	P->token = T_INVALID;
	if (is_alpha((int)c)) {
		size_t n;

		while (p < end && is_alpha(*p))
			p++;
		P->p = p;
		if (peek(P) == C_ERR)
			return;
		n = (size_t)(p - P->tok);
		if (n == 4 && !memcmp(P->tok, "true", 4))
			P->token = T_TRUE;
		else if (n == 5 && !memcmp(P->tok, "false", 5))
			P->token = T_FALSE;
		else if (n == 4 && !memcmp(P->tok, "null", 4))
			P->token = T_NULL;
		return;
	}
	if (c >= 0x80) {
		size_t n = utf8_seq(P, (const unsigned char *)p);

		P->p = p + n;
		return;
	}
	P->p = p + 1;
}

static json_t *parse_value(struct parser *P);

static json_t *parse_object(struct parser *P)
{
	json_t *obj = json_object();

	if (!obj) {
		fail_nomem(P);
		return NULL;
	}
	scan(P);
	if (P->token == '}')
		return obj;
	for (;;) {
		const char *key;
		char *copy = NULL;
		size_t len;
		json_t *v;

		if (P->token != T_STRING) {
			fail(P, json_error_invalid_syntax,
			     "string or '}' expected");
			goto fail;
		}
		key = P->str;
		len = P->str_len;
		if (P->str_nul) {
			fail(P, json_error_null_byte_in_key,
			     "NUL byte in object key not supported");
			goto fail;
		}
		if (json_object_getn(obj, key, len)) {
			fail(P, json_error_duplicate_key,
			     "duplicate object key");
			goto fail;
		}
		if (key == P->scratch) {
			/* scanning the value reuses the scratch buffer */
			if (!(copy = gw_malloc(len ? len : 1))) {
				fail_nomem(P);
				goto fail;
			}
			memcpy(copy, key, len);
			key = copy;
		}
		scan(P);
		if (P->token != ':') {
			free(copy);
			fail(P, json_error_invalid_syntax, "':' expected");
			goto fail;
		}
		scan(P);
		if (!(v = parse_value(P))) {
			free(copy);
			goto fail;
		}
		if (json_object_setn_new_nocheck(obj, key, len, v)) {
			free(copy);
			fail_nomem(P);
			goto fail;
		}
		free(copy);
		scan(P);
		if (P->token != ',')
			break;
		scan(P);
	}
	if (P->token != '}') {
		fail(P, json_error_invalid_syntax, "'}' expected");
		goto fail;
	}
	return obj;
fail:
	json_decref(obj);
	return NULL;
}

static json_t *parse_array(struct parser *P)
{
	json_t *arr = json_array();

	if (!arr) {
		fail_nomem(P);
		return NULL;
	}
	scan(P);
	if (P->token == ']')
		return arr;
	while (P->token != T_EOF) {
		json_t *v = parse_value(P);

		if (!v)
			goto fail;
		if (json_array_append_new(arr, v)) {
			fail_nomem(P);
			goto fail;
		}
		scan(P);
		if (P->token != ',')
			break;
		scan(P);
	}
	if (P->token != ']') {
		fail(P, json_error_invalid_syntax, "']' expected");
		goto fail;
	}
	return arr;
fail:
	json_decref(arr);
	return NULL;
}

/* The value whose first token was just scanned, like jansson's
 * parse_value(): the depth is checked before the token is judged. */
static json_t *parse_value(struct parser *P)
{
	json_t *v;

	if (P->failed)
		return NULL;
	if (++P->depth > JSON_PARSER_MAX_DEPTH) {
		fail(P, json_error_stack_overflow,
		     "maximum parsing depth reached");
		return NULL;
	}
	switch (P->token) {
	case T_STRING:
		if (P->str_nul && !(P->flags & JSON_ALLOW_NUL)) {
			fail(P, json_error_null_character,
			     "\\u0000 is not allowed without JSON_ALLOW_NUL");
			return NULL;
		}
		v = json_stringn_nocheck(P->str, P->str_len);
		break;
	case T_INTEGER: v = json_integer(P->integer); break;
	case T_REAL: v = json_real(P->real); break;
	case T_TRUE: v = json_true(); break;
	case T_FALSE: v = json_false(); break;
	case T_NULL: v = json_null(); break;
	case '{': v = parse_object(P); break;
	case '[': v = parse_array(P); break;
	case T_INVALID:
		fail(P, json_error_invalid_syntax, "invalid token");
		return NULL;
	default:
		fail(P, json_error_invalid_syntax, "unexpected token");
		return NULL;
	}
	if (!v) {
		fail_nomem(P);
		return NULL;
	}
	P->depth--;
	return v;
}

json_t *gw_json_loadb(const char *buf, size_t len, size_t flags,
		      json_error_t *je)
{
	struct parser P;
	json_t *v = NULL;

	if (je) {
		memset(je, 0, sizeof(*je));
		je->line = je->column = -1;
		snprintf(je->source, sizeof(je->source), "<buffer>");
	}
	if (!buf) {
		if (je) {
			snprintf(je->text, sizeof(je->text), "wrong arguments");
			je->text[JSON_ERROR_TEXT_LENGTH - 1] =
				(char)json_error_invalid_argument;
		}
		return NULL;
	}
	memset(&P, 0, sizeof(P));
	P.buf = P.p = P.tok = buf;
	P.end = buf + len;
	P.flags = flags;
	P.je = je;
	scan(&P);
	if (!(flags & JSON_DECODE_ANY) && P.token != '[' && P.token != '{') {
		fail(&P, json_error_invalid_syntax, "'[' or '{' expected");
		goto out;
	}
	if (!(v = parse_value(&P)))
		goto out;
	scan(&P);
	if (P.token != T_EOF) {
		fail(&P, json_error_end_of_input_expected,
		     "end of file expected");
		json_decref(v);
		v = NULL;
		goto out;
	}
	if (je)
		je->position = (int)(P.p - P.buf);
out:
	free(P.scratch);
	return v;
}

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
	v = gw_json_loadb(buf, len, JSON_DECODE_ANY, &je);
	if (!v) {
		gw_rc rc = GW_ERR_PARSE;

		if (json_error_code(&je) == json_error_out_of_memory)
			return gw_err_set(err, GW_ERR_NOMEM,
					  "%s: out of memory parsing json",
					  name);
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
