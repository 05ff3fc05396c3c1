/*
 * obligation.c - reporting obligations: parsing one from the configuration
 * tree with located errors, the deadline rules, periods and their labels,
 * the status rules and conflict detection (obligation.h). No I/O: the
 * calendar (flow/calendar.c) feeds it what the outbox holds.
 */
#include "model/obligation.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- dates (H. Hinnant's days_from_civil) ---- */

long gw_date_days(int y, int m, int d)
{
	long yy = y - (m <= 2);
	long era = (yy >= 0 ? yy : yy - 399) / 400;
	long yoe = yy - era * 400;
	long doy = (153L * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}

void gw_date_civil(long n, int *y, int *m, int *d)
{
	long z = n + 719468;
	long era = (z >= 0 ? z : z - 146096) / 146097;
	long doe = z - era * 146097;
	long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	long mp = (5 * doy + 2) / 153;
	int mm = (int)(mp < 10 ? mp + 3 : mp - 9);

	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = mm;
	*y = (int)(yoe + era * 400 + (mm <= 2));
}

int gw_date_month_days(int y, int m)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30,
				    31, 31, 30, 31, 30, 31 };
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 ? 28 + leap : days[m - 1];
}

int gw_date_parse(const char *s, long *n)
{
	int y, m, d, used = 0;

	if (!s || strlen(s) != 10 ||
	    sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &used) != 3 || used != 10 ||
	    s[4] != '-' || s[7] != '-' || y < 1900 || y > 9999 || m < 1 ||
	    m > 12 || d < 1 || d > gw_date_month_days(y, m))
		return -1;
	*n = gw_date_days(y, m, d);
	return 0;
}

void gw_date_fmt(long n, char out[11])
{
	int y, m, d;

	char buf[40];

	gw_date_civil(n, &y, &m, &d);
	snprintf(buf, sizeof(buf), "%04d-%02d-%02d", y, m, d);
	memcpy(out, buf, 10);
	out[10] = '\0';
}

int gw_date_weekday(long n)
{
	/* 1970-01-01 was a Thursday (4) */
	long w = ((n % 7) + 7 + 3) % 7;

	return (int)w + 1;
}

/* ---- periods ---- */

static void label(struct gw_period *p)
{
	int y, m, d;

	gw_date_civil(p->unit == GW_PERIOD_WEEK ? p->start + 3 : p->start, &y,
		      &m, &d);
	y = (int)((unsigned)y % 10000u);
	m = (int)((unsigned)m % 13u);
	switch (p->unit) {
	case GW_PERIOD_YEAR:
		snprintf(p->label, sizeof(p->label), "%04d", y);
		break;
	case GW_PERIOD_QUARTER:
		snprintf(p->label, sizeof(p->label), "%04d-Q%d", y,
			 (m - 1) / 3 + 1);
		break;
	case GW_PERIOD_MONTH:
		snprintf(p->label, sizeof(p->label), "%04d-%02d", y, m);
		break;
	case GW_PERIOD_WEEK: {
		/* ISO week: the year of its Thursday, counted from the
		 * week holding 4 January */
		long jan4 = gw_date_days(y, 1, 4);
		long w1 = jan4 - (gw_date_weekday(jan4) - 1);

		snprintf(p->label, sizeof(p->label), "%04d-W%02d", y,
			 (int)((unsigned long)((p->start - w1) / 7 + 1) % 60u));
		break;
	}
	case GW_PERIOD_DAY: gw_date_fmt(p->start, p->label); break;
	}
}

void gw_period_at(enum gw_period_unit unit, long n, struct gw_period *p)
{
	int y, m, d;

	gw_date_civil(n, &y, &m, &d);
	p->unit = unit;
	switch (unit) {
	case GW_PERIOD_YEAR:
		p->start = gw_date_days(y, 1, 1);
		p->end = gw_date_days(y, 12, 31);
		break;
	case GW_PERIOD_QUARTER: {
		int q0 = (m - 1) / 3 * 3 + 1;

		p->start = gw_date_days(y, q0, 1);
		p->end = gw_date_days(y, q0 + 2, gw_date_month_days(y, q0 + 2));
		break;
	}
	case GW_PERIOD_MONTH:
		p->start = gw_date_days(y, m, 1);
		p->end = gw_date_days(y, m, gw_date_month_days(y, m));
		break;
	case GW_PERIOD_WEEK:
		p->start = n - (gw_date_weekday(n) - 1);
		p->end = p->start + 6;
		break;
	case GW_PERIOD_DAY: p->start = p->end = n; break;
	}
	label(p);
}

void gw_period_next(const struct gw_period *p, struct gw_period *out)
{
	gw_period_at(p->unit, p->end + 1, out);
}

int gw_period_parse(const char *s, struct gw_period *p)
{
	int y, a, used = 0;
	long n;
	size_t len = s ? strlen(s) : 0;

	if (len == 4 && sscanf(s, "%4d%n", &y, &used) == 1 && used == 4 &&
	    y >= 1900) {
		gw_period_at(GW_PERIOD_YEAR, gw_date_days(y, 1, 1), p);
		return 0;
	}
	if (len == 7 && sscanf(s, "%4d-Q%1d%n", &y, &a, &used) == 2 &&
	    used == 7 && y >= 1900 && a >= 1 && a <= 4) {
		gw_period_at(GW_PERIOD_QUARTER,
			     gw_date_days(y, (a - 1) * 3 + 1, 1), p);
		return 0;
	}
	if (len == 8 && sscanf(s, "%4d-W%2d%n", &y, &a, &used) == 2 &&
	    used == 8 && y >= 1900 && a >= 1 && a <= 53) {
		long jan4 = gw_date_days(y, 1, 4);
		long w1 = jan4 - (gw_date_weekday(jan4) - 1);

		gw_period_at(GW_PERIOD_WEEK, w1 + 7L * (a - 1), p);
		return strcmp(p->label, s) ? -1 : 0;
	}
	if (len == 7 && s[4] == '-' &&
	    sscanf(s, "%4d-%2d%n", &y, &a, &used) == 2 && used == 7 &&
	    y >= 1900 && a >= 1 && a <= 12) {
		gw_period_at(GW_PERIOD_MONTH, gw_date_days(y, a, 1), p);
		return 0;
	}
	if (gw_date_parse(s, &n) == 0) {
		gw_period_at(GW_PERIOD_DAY, n, p);
		return 0;
	}
	return -1;
}

/* ---- rules ---- */

static const char *const rule_names[] = { "monthly", "quarterly", "yearly",
					  "weekly",  "date",	  "ad-hoc" };

const char *gw_obligation_rule_name(enum gw_obl_rule r)
{
	return rule_names[r];
}

enum gw_period_unit gw_obligation_unit(const struct gw_obligation *o)
{
	switch (o->rule) {
	case GW_RULE_MONTHLY: return GW_PERIOD_MONTH;
	case GW_RULE_QUARTERLY: return GW_PERIOD_QUARTER;
	case GW_RULE_YEARLY: return GW_PERIOD_YEAR;
	case GW_RULE_WEEKLY: return GW_PERIOD_WEEK;
	default: return o->fixed.unit;
	}
}

static long clip_day(int y, int m, int d)
{
	int last = gw_date_month_days(y, m);

	return gw_date_days(y, m, d > last ? last : d);
}

/* The deadline that falls in period q (of the rule's unit). */
static long due_in(const struct gw_obligation *o, const struct gw_period *q)
{
	int y, m, d;

	gw_date_civil(q->start, &y, &m, &d);
	switch (o->rule) {
	case GW_RULE_MONTHLY: return clip_day(y, m, o->day);
	case GW_RULE_QUARTERLY: return clip_day(y, m + 2, o->day);
	case GW_RULE_YEARLY: return clip_day(y, o->month, o->day);
	case GW_RULE_WEEKLY: return q->start + o->weekday - 1;
	default: return o->date;
	}
}

static int active(const struct gw_obligation *o, const struct gw_period *p)
{
	return (!o->from || p->end >= o->from) &&
	       (!o->until || p->start <= o->until);
}

int gw_obligation_due(const struct gw_obligation *o, const struct gw_period *p,
		      long *due)
{
	struct gw_period q, chk;

	if (o->rule == GW_RULE_ADHOC)
		return -1;
	if (o->rule == GW_RULE_DATE) {
		if (p->unit != o->fixed.unit || p->start != o->fixed.start)
			return -1;
		*due = o->date;
		return 0;
	}
	gw_period_at(gw_obligation_unit(o), p->start, &chk);
	if (p->unit != chk.unit || p->start != chk.start || !active(o, p))
		return -1;
	q = *p;
	if (o->previous)
		gw_period_next(p, &q);
	*due = due_in(o, &q);
	return 0;
}

int gw_obligation_next(const struct gw_obligation *o, long n,
		       struct gw_period *p, long *due)
{
	struct gw_period q;
	int i;

	if (o->rule == GW_RULE_ADHOC)
		return -1;
	if (o->rule == GW_RULE_DATE) {
		if (o->date < n)
			return -1;
		*p = o->fixed;
		*due = o->date;
		return 0;
	}
	/* the period before the one holding n may still be due (covers
	 * previous), so start one period back */
	gw_period_at(gw_obligation_unit(o), n, &q);
	gw_period_at(q.unit, q.start - 1, &q);
	for (i = 0; i < 4; i++, gw_period_next(&q, &q)) {
		long d;

		if (o->until && q.start > o->until)
			return -1;
		if (gw_obligation_due(o, &q, &d) == 0 && d >= n) {
			*p = q;
			*due = d;
			return 0;
		}
	}
	return -1;
}

void gw_obligation_describe(const struct gw_obligation *o, char *out, size_t n)
{
	static const char *const wd[] = { "Monday",   "Tuesday", "Wednesday",
					  "Thursday", "Friday",	 "Saturday",
					  "Sunday" };
	const char *cov = o->previous ? ", for the period before" : "";
	char date[11];

	switch (o->rule) {
	case GW_RULE_MONTHLY:
		snprintf(out, n, "day %d of each month%s", o->day, cov);
		break;
	case GW_RULE_QUARTERLY:
		snprintf(out, n, "day %d of each quarter's last month%s",
			 o->day, cov);
		break;
	case GW_RULE_YEARLY:
		snprintf(out, n, "%02d-%02d each year%s", o->month, o->day,
			 cov);
		break;
	case GW_RULE_WEEKLY:
		snprintf(out, n, "each %s%s", wd[o->weekday - 1], cov);
		break;
	case GW_RULE_DATE:
		gw_date_fmt(o->date, date);
		snprintf(out, n, "on %s (period %s)", date, o->fixed.label);
		break;
	case GW_RULE_ADHOC: snprintf(out, n, "on request"); break;
	}
}

/* ---- status ---- */

static const char *const status_names[] = { "not-due",	 "due-soon", "sent",
					    "delivered", "late",     "missing",
					    "ad-hoc" };

const char *gw_obl_status_name(enum gw_obl_status s)
{
	return status_names[s];
}

enum gw_obl_status gw_obl_status_of(const struct gw_obligation *o,
				    const enum gw_obl_seen *seen, size_t n,
				    long due, long today, int soon_days)
{
	size_t i, none = 0, verified = 0, dead = 0;
	size_t k = n ? n : 1;

	for (i = 0; i < k; i++) {
		none += seen[i] == GW_SEEN_NONE;
		verified += seen[i] == GW_SEEN_VERIFIED;
		dead += seen[i] == GW_SEEN_DEAD;
	}
	if (verified == k)
		return GW_OBL_DELIVERED;
	if (dead)
		return GW_OBL_MISSING;
	if (none < k) /* something went out: sent, or partly delivered */
		return none && o->rule != GW_RULE_ADHOC && today > due
			       ? GW_OBL_LATE
			       : GW_OBL_SENT;
	if (o->rule == GW_RULE_ADHOC)
		return GW_OBL_ADHOC;
	if (today > due)
		return GW_OBL_LATE;
	if (due - today <= soon_days)
		return GW_OBL_DUE_SOON;
	return GW_OBL_NOT_DUE;
}

/* ---- conflicts ---- */

static int same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static int same_set(char *const *a, size_t na, char *const *b, size_t nb)
{
	size_t i, j;

	if (na != nb)
		return 0;
	for (i = 0; i < na; i++) {
		for (j = 0; j < nb && strcmp(a[i], b[j]); j++)
			;
		if (j == nb)
			return 0;
	}
	return 1;
}

static int same_to(const struct gw_obligation *a, const struct gw_obligation *b)
{
	size_t i, j;

	if (!a->n_to || !b->n_to) /* one names no receiver: no difference */
		return 1;
	if (a->n_to != b->n_to)
		return 0;
	for (i = 0; i < a->n_to; i++) {
		for (j = 0; j < b->n_to; j++)
			if (same_str(a->to[i].dest, b->to[j].dest) &&
			    same_str(a->to[i].orgid, b->to[j].orgid))
				break;
		if (j == b->n_to)
			return 0;
	}
	return 1;
}

int gw_obligation_conflict(const struct gw_obligation *a,
			   const struct gw_obligation *b, char *out, size_t n)
{
	char da[96], db[96];

	if (a == b || !a->basis || !b->basis || strcmp(a->basis, b->basis) ||
	    a->rule != b->rule || a->rule == GW_RULE_ADHOC ||
	    a->previous != b->previous || !same_str(a->kind, b->kind) ||
	    !same_str(a->task, b->task) ||
	    !same_str(a->unit_orgid ? a->unit_orgid : a->unit,
		      b->unit_orgid ? b->unit_orgid : b->unit) ||
	    !same_set(a->indicators, a->n_ind, b->indicators, b->n_ind) ||
	    !same_to(a, b))
		return 0;
	if (a->day == b->day && a->month == b->month &&
	    a->weekday == b->weekday && a->date == b->date)
		return 0;
	gw_obligation_describe(a, da, sizeof(da));
	gw_obligation_describe(b, db, sizeof(db));
	snprintf(out, n,
		 "'%s' (%s, %s %s) and '%s' (%s, %s %s) apply %s with "
		 "different deadlines",
		 a->id, da, a->src_doc ? a->src_doc : "",
		 a->src_ref ? a->src_ref : "", b->id, db,
		 b->src_doc ? b->src_doc : "", b->src_ref ? b->src_ref : "",
		 a->basis);
	return 1;
}

/* ---- parsing ---- */

struct parse {
	const char *file, *ptr;
	const json_t *lines;
	gw_report_cb cb;
	void *arg;
	int bad;
};

long gw_obligation_line(const json_t *lines, const char *ptr)
{
	char buf[512];
	json_t *l;

	snprintf(buf, sizeof(buf), "%s", ptr);
	for (;;) {
		char *slash;

		if ((l = json_object_get(lines, buf)))
			return (long)json_integer_value(l);
		slash = strrchr(buf, '/');
		if (!slash)
			return 0;
		*slash = '\0';
	}
}

static void bad(struct parse *ps, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void bad(struct parse *ps, const char *key, const char *fmt, ...)
{
	char ptr[512], dots[512], why[400], line[1200];
	size_t i, o = 0;
	va_list ap;

	snprintf(ptr, sizeof(ptr), "%s%s%s", ps->ptr, *key ? "/" : "", key);
	for (i = 1; ptr[i] && o + 1 < sizeof(dots); i++)
		dots[o++] = ptr[i] == '/' ? '.' : ptr[i];
	dots[o] = '\0';
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	snprintf(line, sizeof(line), "%s:%ld: %s: %s", ps->file,
		 gw_obligation_line(ps->lines, ptr), dots, why);
	ps->bad = 1;
	if (ps->cb)
		ps->cb(ps->arg, GW_ERR_CONFIG, line);
}

static const char *str_at(struct parse *ps, const json_t *j, const char *key,
			  const char *where, int required)
{
	const json_t *v = json_object_get(j, key);
	char k[128];

	snprintf(k, sizeof(k), "%s%s%s", where, *where ? "/" : "", key);
	if (!v) {
		if (required)
			bad(ps, k, "missing");
		return NULL;
	}
	if (!json_is_string(v) || !*json_string_value(v)) {
		bad(ps, k, "must be a non-empty string");
		return NULL;
	}
	return json_string_value(v);
}

static int int_at(struct parse *ps, const json_t *j, const char *key,
		  const char *where, int lo, int hi, int *out)
{
	const json_t *v = json_object_get(j, key);
	char k[128];

	snprintf(k, sizeof(k), "%s/%s", where, key);
	if (!v) {
		bad(ps, k, "missing (%d..%d)", lo, hi);
		return -1;
	}
	if (!json_is_integer(v) || json_integer_value(v) < lo ||
	    json_integer_value(v) > hi) {
		bad(ps, k, "must be an integer %d..%d", lo, hi);
		return -1;
	}
	*out = (int)json_integer_value(v);
	return 0;
}

static char *dup_or_null(const char *s)
{
	return s ? gw_strdup(s) : NULL;
}

static int str_list(struct parse *ps, const json_t *j, const char *key,
		    char ***out, size_t *n)
{
	size_t i;
	json_t *v;

	if (!j)
		return 0;
	if (!json_is_array(j)) {
		bad(ps, key, "must be a list");
		return -1;
	}
	*out = gw_calloc(json_array_size(j) + 1, sizeof(char *));
	if (!*out)
		return -1;
	json_array_foreach(j, i, v)
	{
		char k[128];

		snprintf(k, sizeof(k), "%s/%zu", key, i);
		if (!json_is_string(v) || !*json_string_value(v)) {
			bad(ps, k, "must be a non-empty string");
			continue;
		}
		(*out)[(*n)++] = gw_strdup(json_string_value(v));
	}
	return 0;
}

static const char *const known_keys[] = { "id",	    "title",  "unit",
					  "lead",   "report", "to",
					  "due",    "active", "remind_days",
					  "source", NULL };

static void parse_due(struct parse *ps, const json_t *due,
		      struct gw_obligation *o)
{
	const char *rule = str_at(ps, due, "rule", "due", 1);
	const char *cov = str_at(ps, due, "covers", "due", 0);
	int i;

	if (!rule)
		return;
	for (i = 0; i <= GW_RULE_ADHOC && strcmp(rule, rule_names[i]); i++)
		;
	if (i > GW_RULE_ADHOC) {
		bad(ps, "due/rule",
		    "unknown rule '%s' (monthly, quarterly, yearly, weekly, "
		    "date, ad-hoc)",
		    rule);
		return;
	}
	o->rule = (enum gw_obl_rule)i;
	if (cov && strcmp(cov, "current") && strcmp(cov, "previous"))
		bad(ps, "due/covers", "must be current or previous, not '%s'",
		    cov);
	o->previous = cov && !strcmp(cov, "previous");
	switch (o->rule) {
	case GW_RULE_MONTHLY:
	case GW_RULE_QUARTERLY:
		int_at(ps, due, "day", "due", 1, 31, &o->day);
		break;
	case GW_RULE_YEARLY:
		if (int_at(ps, due, "month", "due", 1, 12, &o->month) == 0 &&
		    int_at(ps, due, "day", "due", 1, 31, &o->day) == 0 &&
		    o->day > gw_date_month_days(2024, o->month))
			bad(ps, "due/day", "month %d has no day %d", o->month,
			    o->day);
		break;
	case GW_RULE_WEEKLY:
		int_at(ps, due, "weekday", "due", 1, 7, &o->weekday);
		break;
	case GW_RULE_DATE: {
		const char *d = str_at(ps, due, "date", "due", 1);
		const char *p = str_at(ps, due, "period", "due", 0);

		if (d && gw_date_parse(d, &o->date))
			bad(ps, "due/date", "'%s' is not a date (YYYY-MM-DD)",
			    d);
		else if (d && p && gw_period_parse(p, &o->fixed))
			bad(ps, "due/period",
			    "'%s' is not a period (2024, 2024-Q2, 2024-06, "
			    "2024-W23, 2024-06-30)",
			    p);
		else if (d && !p)
			gw_period_at(GW_PERIOD_DAY, o->date, &o->fixed);
		break;
	}
	case GW_RULE_ADHOC: break;
	}
}

static void parse_to(struct parse *ps, const json_t *to,
		     const struct gw_obl_resolver *r, struct gw_obligation *o)
{
	size_t i;
	json_t *v;

	if (!to)
		return;
	if (!json_is_array(to)) {
		bad(ps, "to", "must be a list of destinations or units");
		return;
	}
	o->to = gw_calloc(json_array_size(to) + 1, sizeof(*o->to));
	if (!o->to)
		return;
	json_array_foreach(to, i, v)
	{
		const char *s = json_string_value(v), *org = NULL, *nm = NULL;
		struct gw_obl_to *t = &o->to[o->n_to];
		char k[32];

		snprintf(k, sizeof(k), "to/%zu", i);
		if (!s || !*s) {
			bad(ps, k, "must be a non-empty string");
			continue;
		}
		if (r && r->dest && r->dest(r->arg, s)) {
			t->dest = gw_strdup(s);
		} else if (r && r->unit && r->unit(r->arg, s, &org, &nm) == 0 &&
			   org) {
			t->orgid = gw_strdup(org);
		} else {
			bad(ps, k,
			    "'%s' is neither a configured destination nor a "
			    "unit of the unit list with an orgId",
			    s);
			continue;
		}
		t->name = gw_strdup(s);
		o->n_to++;
	}
}

gw_rc gw_obligation_parse(const json_t *j, const char *file, const char *ptr,
			  const json_t *lines, const struct gw_obl_resolver *r,
			  gw_report_cb cb, void *arg,
			  struct gw_obligation **out)
{
	struct parse ps = { file, ptr, lines, cb, arg, 0 };
	struct gw_obligation *o;
	const json_t *rep, *due, *src, *act;
	const char *s, *key;
	json_t *v;

	*out = NULL;
	if (!json_is_object(j)) {
		bad(&ps, "", "an obligation must be a mapping");
		return GW_ERR_CONFIG;
	}
	if (!(o = gw_calloc(1, sizeof(*o))))
		return GW_ERR_NOMEM;
	o->remind_days = -1;
	o->file = gw_strdup(file);
	o->line = gw_obligation_line(lines, ptr);
	json_object_foreach((json_t *)j, key, v)
	{
		int i;

		for (i = 0; known_keys[i] && strcmp(known_keys[i], key); i++)
			;
		if (!known_keys[i])
			bad(&ps, key, "unknown key");
	}
	s = str_at(&ps, j, "id", "", 1);
	if (s && (strlen(s) > 200 || strpbrk(s, " \t\r\n")))
		bad(&ps, "id", "'%s': at most 200 characters, no white space",
		    s);
	o->id = dup_or_null(s);
	o->title = dup_or_null(str_at(&ps, j, "title", "", 0));
	if ((s = str_at(&ps, j, "unit", "", 1))) {
		const char *org = NULL, *nm = NULL;

		if (r && r->unit && r->unit(r->arg, s, &org, &nm) == 0) {
			o->unit = gw_strdup(nm ? nm : s);
			o->unit_orgid = dup_or_null(org);
		} else {
			bad(&ps, "unit",
			    "unknown unit '%s' (not in the unit list)", s);
		}
	}
	str_list(&ps, json_object_get(j, "lead"), "lead", &o->lead, &o->n_lead);
	rep = json_object_get(j, "report");
	if (!json_is_object(rep)) {
		bad(&ps, "report",
		    "missing (a mapping: kind, indicators, task)");
	} else {
		o->kind = dup_or_null(str_at(&ps, rep, "kind", "report", 1));
		if (o->kind && strcmp(o->kind, "indicator.report") &&
		    strcmp(o->kind, "task.progress") &&
		    strcmp(o->kind, "plan") &&
		    strcmp(o->kind, "task.assignment"))
			bad(&ps, "report/kind",
			    "'%s' is not a message kind that reports "
			    "(indicator.report, task.progress, plan, "
			    "task.assignment)",
			    o->kind);
		str_list(&ps, json_object_get(rep, "indicators"),
			 "report/indicators", &o->indicators, &o->n_ind);
		o->task = dup_or_null(str_at(&ps, rep, "task", "report", 0));
	}
	parse_to(&ps, json_object_get(j, "to"), r, o);
	due = json_object_get(j, "due");
	if (!json_is_object(due))
		bad(&ps, "due", "missing (a mapping with a rule)");
	else
		parse_due(&ps, due, o);
	if ((act = json_object_get(j, "active"))) {
		const char *f = str_at(&ps, act, "from", "active", 0);
		const char *u = str_at(&ps, act, "until", "active", 0);

		if (f && gw_date_parse(f, &o->from))
			bad(&ps, "active/from", "'%s' is not a date", f);
		if (u && gw_date_parse(u, &o->until))
			bad(&ps, "active/until", "'%s' is not a date", u);
		if (o->from && o->until && o->until < o->from)
			bad(&ps, "active", "until is before from");
	}
	if ((v = json_object_get(j, "remind_days"))) {
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) > 365)
			bad(&ps, "remind_days", "must be an integer 0..365");
		else
			o->remind_days = (int)json_integer_value(v);
	}
	src = json_object_get(j, "source");
	if (!json_is_object(src)) {
		bad(&ps, "source",
		    "missing (the legal source: document, ref, basis)");
	} else {
		o->src_doc =
			dup_or_null(str_at(&ps, src, "document", "source", 1));
		o->src_ref = dup_or_null(str_at(&ps, src, "ref", "source", 0));
		o->basis = dup_or_null(str_at(&ps, src, "basis", "source", 0));
	}
	if (ps.bad) {
		gw_obligation_free(o);
		return GW_ERR_CONFIG;
	}
	*out = o;
	return GW_OK;
}

static void free_list(char **l, size_t n)
{
	size_t i;

	for (i = 0; l && i < n; i++)
		free(l[i]);
	free(l);
}

void gw_obligation_free(struct gw_obligation *o)
{
	size_t i;

	if (!o)
		return;
	for (i = 0; i < o->n_to; i++) {
		free(o->to[i].name);
		free(o->to[i].dest);
		free(o->to[i].orgid);
	}
	free(o->to);
	free_list(o->lead, o->n_lead);
	free_list(o->indicators, o->n_ind);
	free(o->id);
	free(o->title);
	free(o->unit);
	free(o->unit_orgid);
	free(o->kind);
	free(o->task);
	free(o->src_doc);
	free(o->src_ref);
	free(o->basis);
	free(o->file);
	free(o);
}
