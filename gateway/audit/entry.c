/*
 * entry.c - the audit entry's canonical form (see audit/internal.h): the
 * JCS object whose hash is the entry's leaf, written here directly (fixed
 * members, strings already valid UTF-8) rather than through jansson: it is
 * the RFC 8785 form byte for byte (tests/unit/test_audit.c compares it
 * with model/jcs.c), and it keeps the 1,000,000-entry verification fast.
 * Also the hex and time forms the checkpoints and proofs use.
 */
#include "audit/internal.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static const char hexd[] = "0123456789abcdef";

void gw_audit_hex(const uint8_t *p, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hexd[p[i] >> 4];
		out[2 * i + 1] = hexd[p[i] & 15];
	}
	out[2 * n] = '\0';
}

int gw_audit_unhex(const char *s, uint8_t *out, size_t n)
{
	size_t i;

	if (!s || strlen(s) != 2 * n)
		return -1;
	for (i = 0; i < 2 * n; i++) {
		const char *c = strchr(hexd, s[i]);

		if (!s[i] || !c)
			return -1;
		if (i % 2 == 0)
			out[i / 2] = (uint8_t)((c - hexd) << 4);
		else
			out[i / 2] |= (uint8_t)(c - hexd);
	}
	return 0;
}

void gw_audit_fmt_time(int64_t ms, char out[80])
{
	time_t t;
	struct tm tm;

	if (ms < 0)
		ms = 0;
	if (ms > 253402300799999LL) /* 9999-12-31T23:59:59.999Z */
		ms = 253402300799999LL;
	t = (time_t)(ms / 1000);
	gmtime_r(&t, &tm);
	snprintf(out, 80, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

int gw_audit_parse_time(const char *s, int64_t *ms)
{
	struct tm tm;
	int msec = 0, n = 0;

	memset(&tm, 0, sizeof(tm));
	if (!s ||
	    sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ%n", &tm.tm_year, &tm.tm_mon,
		   &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &msec,
		   &n) != 7 ||
	    s[n] || n != 24)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	*ms = (int64_t)timegm(&tm) * 1000 + msec;
	return 0;
}

gw_rc gw_audit_jcs_str(struct gw_buf *b, const char *s)
{
	char tmp[8];
	const char *run = s;
	gw_rc rc = GW_OK;

	if ((rc = gw_buf_add(b, "\"", 1)))
		return rc;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		const char *esc = NULL;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		if ((rc = gw_buf_add(b, run, (size_t)(s - run))))
			return rc;
		switch (c) {
		case '"': esc = "\\\""; break;
		case '\\': esc = "\\\\"; break;
		case '\b': esc = "\\b"; break;
		case '\f': esc = "\\f"; break;
		case '\n': esc = "\\n"; break;
		case '\r': esc = "\\r"; break;
		case '\t': esc = "\\t"; break;
		default: snprintf(tmp, sizeof(tmp), "\\u%04x", c); esc = tmp;
		}
		if ((rc = gw_buf_adds(b, esc)))
			return rc;
		run = s + 1;
	}
	if ((rc = gw_buf_add(b, run, (size_t)(s - run))))
		return rc;
	return gw_buf_add(b, "\"", 1);
}

static const char *nz(const char *s)
{
	return s ? s : "";
}

/* fmt_time for entries, with the date and time of day of the last
 * second kept per thread (verification formats a million of them). */
static void entry_time(int64_t ms, char out[80])
{
	static _Thread_local int64_t last_s = -1;
	static _Thread_local char last[80];

	if (ms < 0 || ms > 253402300799999LL) {
		gw_audit_fmt_time(ms, out);
		return;
	}
	if (ms / 1000 != last_s) {
		gw_audit_fmt_time(ms, last);
		last_s = ms / 1000;
	}
	memcpy(out, last, 20); /* YYYY-MM-DDTHH:MM:SS. */
	out[20] = (char)('0' + ms % 1000 / 100);
	out[21] = (char)('0' + ms % 100 / 10);
	out[22] = (char)('0' + ms % 10);
	out[23] = 'Z';
	out[24] = '\0';
}

gw_rc gw_audit_entry_json(const struct gw_audit_entry *e, struct gw_buf *out,
			  struct gw_err *err)
{
	/* members in RFC 8785 order (all names are ASCII) */
	static const char *const names[] = {
		"{\"digest\":",	 ",\"direction\":", ",\"event\":",
		",\"index\":",	 ",\"msgId\":",	    ",\"msgKind\":",
		",\"outcome\":", ",\"reason\":",    ",\"receiver\":",
		",\"sender\":",	 ",\"signer\":",    ",\"time\":"
	};
	char tbuf[80], num[24], *p = num + sizeof(num);
	const char *vals[12];
	uint64_t v = e->index;
	size_t i, start = out->len;
	gw_rc rc = GW_OK;

	entry_time(e->time_ms, tbuf);
	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	vals[0] = nz(e->digest);
	vals[1] = nz(e->direction);
	vals[2] = nz(e->kind);
	vals[3] = NULL;
	vals[4] = nz(e->msg_id);
	vals[5] = nz(e->msg_kind);
	vals[6] = nz(e->outcome);
	vals[7] = nz(e->reason);
	vals[8] = nz(e->receiver);
	vals[9] = nz(e->sender);
	vals[10] = nz(e->signer);
	vals[11] = tbuf;
	for (i = 0; i < 12 && !rc; i++) {
		if (!(rc = gw_buf_adds(out, names[i])))
			rc = vals[i] ? gw_audit_jcs_str(out, vals[i])
				     : gw_buf_add(
					       out, p,
					       (size_t)(num + sizeof(num) - p));
	}
	if (!rc)
		rc = gw_buf_add(out, "}", 1);
	if (rc) {
		out->len = start;
		if (out->data)
			out->data[start] = '\0';
		return gw_err_set(err, rc, "out of memory");
	}
	return GW_OK;
}
