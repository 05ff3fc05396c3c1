/*
 * normalize.c - normalization of the free text of Vietnamese plan
 * documents and spreadsheets (see normalize.h).
 *
 * Matching is done on a case-folded NFC copy, so "Quý II năm 2024",
 * "QUÝ II NĂM 2024" and the NFD spelling of either are the same phrase.
 * The parsers are small hand-written scanners over that copy: a phrase is
 * recognized by its beginning ("Tháng 6/2019 và cập nhật thường xuyên" is
 * the month), the caller keeps the raw text.
 */
#include "base/normalize.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "base/common.h"

int gw_norm_month_days(int year, int month)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30,
				    31, 31, 30, 31, 30, 31 };

	if (month < 1 || month > 12)
		return 0;
	if (month == 2 &&
	    ((year % 4 == 0 && year % 100 != 0) || year % 400 == 0))
		return 29;
	return days[month - 1];
}

/* Width of an odd space or invisible character at p (0: none); *drop is
 * set when the character disappears rather than becoming a space. */
static int odd_space(const unsigned char *p, int *drop)
{
	*drop = 0;
	if (p[0] == '\t' || p[0] == '\r' || p[0] == '\n' || p[0] == '\v' ||
	    p[0] == '\f')
		return 1;
	if (p[0] == 0xC2 && p[1] == 0xA0)
		return 2; /* U+00A0 */
	if (p[0] == 0xE2 && p[1] == 0x80) {
		if (p[2] >= 0x80 && p[2] <= 0x8A)
			return 3; /* U+2000..U+200A */
		if (p[2] == 0xAF)
			return 3; /* U+202F */
		if (p[2] >= 0x8B && p[2] <= 0x8D) {
			*drop = 1; /* zero-width */
			return 3;
		}
	}
	if (p[0] == 0xE3 && p[1] == 0x80 && p[2] == 0x80)
		return 3; /* U+3000 */
	if (p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF) {
		*drop = 1; /* BOM / ZWNBSP */
		return 3;
	}
	return 0;
}

char *gw_norm_text(const char *s)
{
	utf8proc_uint8_t *nfc = NULL;
	utf8proc_ssize_t n;
	char *out;
	size_t i, o = 0;
	int space = 0;

	if (!s)
		return NULL;
	n = utf8proc_map((const utf8proc_uint8_t *)s, 0, &nfc,
			 UTF8PROC_NULLTERM | UTF8PROC_STABLE |
				 UTF8PROC_COMPOSE);
	if (n < 0)
		return NULL;
	out = gw_malloc((size_t)n + 1);
	if (!out) {
		free(nfc);
		return NULL;
	}
	for (i = 0; i < (size_t)n;) {
		int drop, w = odd_space(nfc + i, &drop);

		if (w) {
			i += (size_t)w;
			if (!drop)
				space = 1;
			continue;
		}
		if (nfc[i] == ' ') {
			space = 1;
			i++;
			continue;
		}
		if (space && o > 0)
			out[o++] = ' ';
		space = 0;
		out[o++] = (char)nfc[i++];
	}
	out[o] = '\0';
	free(nfc);
	return out;
}

char *gw_norm_fold(const char *s)
{
	char *t = gw_norm_text(s);
	utf8proc_uint8_t *f = NULL;
	char *out;

	if (!t)
		return NULL;
	if (utf8proc_map((const utf8proc_uint8_t *)t, 0, &f,
			 UTF8PROC_NULLTERM | UTF8PROC_STABLE |
				 UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD) < 0) {
		free(t);
		return NULL;
	}
	free(t);
	out = gw_strdup((const char *)f);
	free(f);
	return out;
}

/* --- a tiny scanner over folded text ------------------------------------ */

static void skip_sp(const char **p)
{
	while (**p == ' ')
		(*p)++;
}

static int lit(const char **p, const char *word)
{
	size_t n = strlen(word);

	if (strncmp(*p, word, n) != 0)
		return 0;
	*p += n;
	return 1;
}

static int num(const char **p, int maxdigits, int *out)
{
	int v = 0, d = 0;

	while (isdigit((unsigned char)**p) && d < maxdigits) {
		v = v * 10 + (**p - '0');
		(*p)++;
		d++;
	}
	if (d == 0 || isdigit((unsigned char)**p))
		return 0;
	*out = v;
	return 1;
}

static int year(const char **p, int *y)
{
	const char *s = *p;

	if (!num(p, 4, y) || *p - s != 4 || *y < 1900 || *y > 2200) {
		*p = s;
		return 0;
	}
	return 1;
}

/* A quarter written 1-4 or I-IV. */
static int quarter(const char **p, int *q)
{
	static const char *const roman[] = { "iv", "iii", "ii", "i" };
	static const int val[] = { 4, 3, 2, 1 };
	size_t i;

	if (num(p, 1, q))
		return *q >= 1 && *q <= 4;
	for (i = 0; i < GW_ARRAY_LEN(roman); i++) {
		if (lit(p, roman[i]) && !isalpha((unsigned char)**p)) {
			*q = val[i];
			return 1;
		}
	}
	return 0;
}

/* "/YYYY", " năm YYYY", "-YYYY" after a quarter or a month */
static int of_year(const char **p, int *y)
{
	const char *s = *p;

	skip_sp(p);
	if (lit(p, "/") || lit(p, "-")) {
		skip_sp(p);
		if (year(p, y))
			return 1;
	} else if (lit(p, "năm")) {
		skip_sp(p);
		if (year(p, y))
			return 1;
	}
	*p = s;
	return 0;
}

static void set_date(char out[11], int y, int m, int d)
{
	unsigned uy = (unsigned)y % 10000u, um = (unsigned)m % 100u,
		 ud = (unsigned)d % 100u;

	out[0] = (char)('0' + uy / 1000);
	out[1] = (char)('0' + uy / 100 % 10);
	out[2] = (char)('0' + uy / 10 % 10);
	out[3] = (char)('0' + uy % 10);
	out[4] = '-';
	out[5] = (char)('0' + um / 10);
	out[6] = (char)('0' + um % 10);
	out[7] = '-';
	out[8] = (char)('0' + ud / 10);
	out[9] = (char)('0' + ud % 10);
	out[10] = '\0';
}

/* Quarter, month, range or year at the start of f. */
static int calendar(const char *f, struct gw_timeline *t)
{
	const char *p = f;
	int y, y2, q, m;

	if (lit(&p, "quý")) {
		skip_sp(&p);
		if (quarter(&p, &q) && of_year(&p, &y)) {
			strcpy(t->kind, "quarter");
			set_date(t->start, y, q * 3 - 2, 1);
			set_date(t->end, y, q * 3,
				 gw_norm_month_days(y, q * 3));
			strcpy(t->due, t->end);
			return 1;
		}
		return 0;
	}
	if (lit(&p, "tháng")) {
		skip_sp(&p);
		if (num(&p, 2, &m) && m >= 1 && m <= 12 && of_year(&p, &y)) {
			strcpy(t->kind, "month");
			set_date(t->start, y, m, 1);
			set_date(t->end, y, m, gw_norm_month_days(y, m));
			strcpy(t->due, t->end);
			return 1;
		}
		return 0;
	}
	if (lit(&p, "năm") || lit(&p, "giai đoạn"))
		skip_sp(&p);
	if (!year(&p, &y))
		return 0;
	{
		const char *r = p;

		skip_sp(&r);
		if (lit(&r, "-") || lit(&r, "–") || lit(&r, "đến")) {
			skip_sp(&r);
			if (year(&r, &y2) && y2 >= y) {
				strcpy(t->kind, "range");
				set_date(t->start, y, 1, 1);
				set_date(t->end, y2, 12, 31);
				strcpy(t->due, t->end);
				return 1;
			}
		}
	}
	if (*p == '/' || *p == '.')
		return 0; /* a date or a document number, not a year */
	strcpy(t->kind, "year");
	set_date(t->start, y, 1, 1);
	set_date(t->end, y, 12, 31);
	strcpy(t->due, t->end);
	return 1;
}

int gw_norm_timeline(const char *raw, struct gw_timeline *t)
{
	char *f;
	int rc = 0;

	memset(t, 0, sizeof(*t));
	strcpy(t->kind, "unspecified");
	if (!raw)
		return 0;
	f = gw_norm_fold(raw);
	if (!f)
		return -1;
	if (!*f)
		goto out;
	if (calendar(f, t))
		goto out;
	if (strstr(f, "hàng năm") || strstr(f, "hằng năm") ||
	    strstr(f, "định kỳ"))
		strcpy(t->kind, "recurring");
	else if (strstr(f, "thường xuyên"))
		strcpy(t->kind, "ongoing");
	else if (strstr(f, "theo yêu cầu") || strstr(f, "theo đề xuất"))
		strcpy(t->kind, "on-request");
	else if (strstr(f, "lộ trình") || strstr(f, "tiến độ") ||
		 strncmp(f, "theo ", 5) == 0)
		strcpy(t->kind, "per-roadmap");
	else
		rc = -1;
out:
	free(f);
	return rc;
}

int gw_norm_date(const char *s, char out[11])
{
	char *f = gw_norm_fold(s);
	const char *p;
	int d = 0, m = 0, y = 0, ok = 0;

	if (!f)
		return -1;
	p = f;
	if (lit(&p, "ngày")) {
		skip_sp(&p);
		if (num(&p, 2, &d)) {
			skip_sp(&p);
			if (lit(&p, "tháng")) {
				skip_sp(&p);
				if (num(&p, 2, &m)) {
					skip_sp(&p);
					if (lit(&p, "năm")) {
						skip_sp(&p);
						ok = year(&p, &y);
					}
				}
			} else if (lit(&p, "/") && num(&p, 2, &m) &&
				   lit(&p, "/")) {
				ok = year(&p, &y);
			}
		}
	} else if (year(&p, &y)) {
		ok = lit(&p, "-") && num(&p, 2, &m) && lit(&p, "-") &&
		     num(&p, 2, &d);
	} else if (num(&p, 2, &d)) {
		char sep = *p;

		ok = (sep == '/' || sep == '-' || sep == '.') && p++ &&
		     num(&p, 2, &m) && *p == sep && p++ && year(&p, &y);
	}
	skip_sp(&p);
	ok = ok && *p == '\0' && m >= 1 && m <= 12 && d >= 1 &&
	     d <= gw_norm_month_days(y, m);
	if (ok)
		set_date(out, y, m, d);
	free(f);
	return ok ? 0 : -1;
}

int gw_norm_period(const char *s, char out[16])
{
	struct gw_timeline t;
	char *f;
	const char *p;
	int y, q, ok = 0;
	char day[11];

	if (gw_norm_date(s, day) == 0) {
		snprintf(out, 16, "%s", day);
		return 0;
	}
	f = gw_norm_fold(s);
	if (!f)
		return -1;
	p = f;
	/* ISO forms pass through */
	if (year(&p, &y)) {
		if (*p == '\0') {
			snprintf(out, 16, "%04d", y);
			ok = 1;
		} else if (lit(&p, "-q") && quarter(&p, &q) && *p == '\0') {
			snprintf(out, 16, "%04d-Q%d", y, q);
			ok = 1;
		} else if (lit(&p, "-") && num(&p, 2, &q) && q >= 1 &&
			   q <= 12 && *p == '\0') {
			snprintf(out, 16, "%04d-%02d", y, q);
			ok = 1;
		}
	}
	if (!ok && calendar(f, &t)) {
		y = atoi(t.start);
		if (strcmp(t.kind, "quarter") == 0) {
			snprintf(out, 16, "%.4s-Q%d", t.start,
				 (atoi(t.start + 5) + 2) / 3 % 10);
			ok = 1;
		} else if (strcmp(t.kind, "month") == 0) {
			snprintf(out, 16, "%.7s", t.start);
			ok = 1;
		} else if (strcmp(t.kind, "year") == 0) {
			snprintf(out, 16, "%04d", y);
			ok = 1;
		}
	}
	free(f);
	return ok ? 0 : -1;
}

/* Digits separated by sep in groups of three after the first 1-3. */
static int grouped(const char *s, size_t n, char sep)
{
	size_t i, run = 0, groups = 0;

	for (i = 0; i < n; i++) {
		if (s[i] == sep) {
			if (run == 0 || (groups == 0 && run > 3) ||
			    (groups > 0 && run != 3))
				return 0;
			groups++;
			run = 0;
		} else {
			run++;
		}
	}
	return groups > 0 && run == 3;
}

int gw_norm_decimal(const char *s, char *out, size_t n)
{
	char *t = gw_norm_text(s);
	char buf[128], ip[128];
	const char *p, *frac = NULL;
	size_t len = 0, i, commas = 0, dots = 0, ilen = 0;
	int neg = 0, rc = -1;
	char dec = 0;

	if (!t)
		return -1;
	for (p = t; *p; p++) {
		if (*p == ' ')
			continue;
		if (len + 1 >= sizeof(buf))
			goto out;
		buf[len++] = *p;
	}
	buf[len] = '\0';
	if (len && buf[len - 1] == '%')
		buf[--len] = '\0';
	p = buf;
	if (*p == '-' || *p == '+') {
		neg = *p == '-';
		p++;
	}
	for (i = 0; p[i]; i++) {
		if (p[i] == ',')
			commas++;
		else if (p[i] == '.')
			dots++;
		else if (!isdigit((unsigned char)p[i]))
			goto out;
	}
	if (!*p || !isdigit((unsigned char)p[0]))
		goto out;
	if (commas && dots) {
		dec = strrchr(p, ',') > strrchr(p, '.') ? ',' : '.';
	} else if (commas == 1) {
		dec = ',';
	} else if (dots == 1) {
		/* Vietnamese writing: 851.372 is thousands, 0.5 a decimal */
		dec = grouped(p, strlen(p), '.') && p[0] != '0' ? 0 : '.';
	}
	{
		char thou = dec == ',' ? '.' : ',';
		const char *d = dec ? strchr(p, dec) : NULL;
		size_t il = d ? (size_t)(d - p) : strlen(p);

		if (dec == 0 && (commas + dots) &&
		    !grouped(p, il, commas ? ',' : '.'))
			goto out;
		if (dec && memchr(p, thou, il) && !grouped(p, il, thou))
			goto out;
		for (i = 0; i < il; i++)
			if (isdigit((unsigned char)p[i]))
				ip[ilen++] = p[i];
		ip[ilen] = '\0';
		if (d) {
			frac = d + 1;
			if (!*frac || strpbrk(frac, ",."))
				goto out;
		}
	}
	/* strip leading zeros of the integer part */
	p = ip;
	while (p[0] == '0' && p[1])
		p++;
	if ((size_t)snprintf(out, n, "%s%s%s%s",
			     neg && (strcmp(p, "0") || frac) ? "-" : "", p,
			     frac ? "." : "", frac ? frac : "") >= n)
		goto out;
	rc = 0;
out:
	free(t);
	return rc;
}

/* --- units ---------------------------------------------------------------- */

/* Names containing a separator that must not split them. */
static const char *const keep_whole[] = {
	"Kế hoạch và Đầu tư",	       "Thông tin và Truyền thông",
	"Khoa học và Công nghệ",       "Tài nguyên và Môi trường",
	"Thương binh và Xã hội",       "Văn hóa, Thể thao và Du lịch",
	"Chiến lược và Chính sách",    "tư nhân và kinh tế",
	"Ban Chỉ đạo và Tổ giúp việc", "CL&CS",
};

/* Abbreviations that start a unit of their own. */
static const char *const abbrev[] = { "TCT",	"TCHQ", "KBNN", "UBCKNN",
				      "TCDTNN", "VPCP", "NHNN", "BHXH",
				      "CHQ",	"CDTNN" };

/* Words that start a new unit inside a run of words. */
static const char *const heads[] = { "Cục ",	   "Vụ ",      "Tổng cục ",
				     "Văn phòng ", "Kho bạc ", "Ủy ban " };

static int word_is(const char *w, size_t n, const char *const *set,
		   size_t count)
{
	size_t i;

	for (i = 0; i < count; i++)
		if (strlen(set[i]) == n && strncmp(w, set[i], n) == 0)
			return 1;
	return 0;
}

static int is_upper_utf8(const char *s)
{
	utf8proc_int32_t cp;

	if (utf8proc_iterate((const utf8proc_uint8_t *)s, -1, &cp) <= 0)
		return 0;
	return utf8proc_isupper(cp);
}

static int add_unit(json_t *arr, const char *s, size_t n)
{
	char tmp[4096 + 8];
	utf8proc_int32_t cp;
	utf8proc_ssize_t w;
	utf8proc_uint8_t up[4];
	size_t ul;

	while (n && (*s == ' ' || *s == '-' || *s == '+'))
		s++, n--;
	while (n && (s[n - 1] == ' ' || s[n - 1] == '.' || s[n - 1] == ';'))
		n--;
	if (!n)
		return 0;
	if (n > 4000)
		n = 4000;
	w = utf8proc_iterate((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)n,
			     &cp);
	if (w <= 0)
		return -1;
	ul = (size_t)utf8proc_encode_char(utf8proc_toupper(cp), up);
	memcpy(tmp, up, ul);
	memcpy(tmp + ul, s + w, n - (size_t)w);
	tmp[ul + n - (size_t)w] = '\0';
	return json_array_append_new(arr, json_string(tmp));
}

/* Split one separator-free piece at unit heads and abbreviations. */
static int split_words(json_t *arr, const char *s, size_t n)
{
	size_t start = 0, i = 0, prev_start = 0, prev_len = 0;
	int depth = 0;

	while (i < n) {
		size_t ws = i, wl;
		size_t k;
		int cut = 0;

		while (i < n && s[i] != ' ') {
			if (s[i] == '(')
				depth++;
			else if (s[i] == ')' && depth)
				depth--;
			i++;
		}
		wl = i - ws;
		if (ws > start && depth == 0 && s[ws] != '(') {
			int after_fn = word_is(
				s + prev_start, prev_len,
				(const char *const[]){ "các", "Các", "thuộc",
						       "của", "với" },
				5);
			if (word_is(s + ws, wl, abbrev, GW_ARRAY_LEN(abbrev)) &&
			    !word_is(s + prev_start, prev_len,
				     (const char *const[]){ "Cục", "Vụ" }, 2))
				cut = 1;
			/* "Cục", "Vụ" start a unit unless after "các",
			 * "thuộc", ...; the two-word heads only after a
			 * capitalized word ("Cục THTK Tổng cục Thuế", not
			 * "Các đơn vị Tổng cục thuộc Bộ") */
			for (k = 0; !cut && k < GW_ARRAY_LEN(heads); k++)
				if (strncmp(s + ws, heads[k],
					    strlen(heads[k])) == 0 &&
				    ws + strlen(heads[k]) <= n && !after_fn &&
				    (k < 2 ||
				     !islower((unsigned char)s[prev_start])))
					cut = 1;
		}
		if (cut) {
			if (add_unit(arr, s + start, ws - start))
				return -1;
			start = ws;
		}
		prev_start = ws;
		prev_len = wl;
		while (i < n && s[i] == ' ')
			i++;
	}
	return add_unit(arr, s + start, n - start);
}

static int continues(const char *piece)
{
	while (*piece == ' ')
		piece++;
	return islower((unsigned char)*piece) ||
			       ((unsigned char)*piece >= 0xC3 &&
				!is_upper_utf8(piece))
		       ? strncmp(piece, "các ", 4) != 0
		       : 0;
}

/* Append the text sep (separator and following piece, verbatim) to the
 * last name of arr. */
static int join_last(json_t *arr, const char *sep, size_t n)
{
	json_t *last = json_array_get(arr, json_array_size(arr) - 1);
	const char *old = json_string_value(last);
	char buf[4001];

	if (!old)
		return -1;
	snprintf(buf, sizeof(buf), "%s%.*s", old, (int)n, sep);
	n = strlen(buf);
	while (n &&
	       (buf[n - 1] == ' ' || buf[n - 1] == '.' || buf[n - 1] == ';'))
		buf[--n] = '\0';
	return json_array_set_new(arr, json_array_size(arr) - 1,
				  json_string(buf));
}

json_t *gw_norm_unit_names(const char *cell)
{
	char *t = gw_norm_text(cell);
	json_t *arr = json_array();
	unsigned char *keep = NULL;
	size_t n, i, k, start = 0, prev_sep = 0;
	int depth = 0;

	if (!t || !arr)
		goto fail;
	n = strlen(t);
	keep = gw_calloc(n + 1, 1);
	if (!keep)
		goto fail;
	for (k = 0; k < GW_ARRAY_LEN(keep_whole); k++) {
		const char *h = t;
		size_t kl = strlen(keep_whole[k]);

		while ((h = strstr(h, keep_whole[k]))) {
			memset(keep + (h - t), 1, kl);
			h += kl;
		}
	}
	for (i = 0; i <= n; i++) {
		size_t sep = 0;

		if (i < n && t[i] == '(')
			depth++;
		else if (i < n && t[i] == ')' && depth)
			depth--;
		if (i == n)
			sep = 1;
		else if (depth || keep[i])
			continue;
		else if (t[i] == ',' || t[i] == ';')
			sep = 1;
		else if (strncmp(t + i, " và ", 5) == 0)
			sep = 5;
		else if (strncmp(t + i, " + ", 3) == 0)
			sep = 3;
		if (!sep)
			continue;
		/* a piece starting with a lowercase word other than "các"
		 * continues the previous one ("đơn vị thuộc, trực thuộc Bộ") */
		if (i < n && start > 0 && continues(t + start) &&
		    json_array_size(arr)) {
			if (join_last(arr, t + prev_sep,
				      (size_t)(i - prev_sep)))
				goto fail;
			start = i + sep;
			prev_sep = i;
			if (sep > 1)
				i += sep - 1;
			continue;
		}
		if (i == n && start > 0 && continues(t + start) &&
		    json_array_size(arr)) {
			if (join_last(arr, t + prev_sep, n - prev_sep))
				goto fail;
			break;
		}
		if (split_words(arr, t + start, i - start))
			goto fail;
		prev_sep = i;
		start = i + sep;
		if (sep > 1)
			i += sep - 1;
	}
	free(keep);
	free(t);
	return arr;
fail:
	free(keep);
	free(t);
	json_decref(arr);
	return NULL;
}
