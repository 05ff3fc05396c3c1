/*
 * obligation.h - the reporting obligation model (schemas/obligation.schema.json):
 * who reports (a unit), what (a message kind, an indicator set or a task),
 * to whom (configured destinations or receiving units), by which deadline
 * rule, covering which period, on which legal source. Pure rules and
 * calendar arithmetic, with no I/O, so that every rule is unit-tested
 * (tests/unit/test_calendar.c); the calendar itself (loading, status from
 * the outbox, reminders) is flow/calendar.c.
 *
 * Dates are day numbers (days since 1970-01-01, proleptic Gregorian), so
 * that "the day after the deadline" is d + 1 whatever the month.
 */
#ifndef GW_OBLIGATION_H
#define GW_OBLIGATION_H

#include <jansson.h>
#include <stddef.h>

#include "base/common.h"
#include "model/validate.h"

/* ---- dates ---- */

/* Day number of y-m-d (month 1..12, day 1..31; not checked). */
long gw_date_days(int y, int m, int d);
/* y-m-d of day number n. */
void gw_date_civil(long n, int *y, int *m, int *d);
/* "YYYY-MM-DD" (a real date: 2023-02-29 is refused) into *n: 0, or -1. */
int gw_date_parse(const char *s, long *n);
/* n as "YYYY-MM-DD" into out. */
void gw_date_fmt(long n, char out[11]);
/* 1 (Monday) .. 7 (Sunday). */
int gw_date_weekday(long n);
int gw_date_month_days(int y, int m);

/* ---- periods ---- */

enum gw_period_unit {
	GW_PERIOD_YEAR = 0,
	GW_PERIOD_QUARTER,
	GW_PERIOD_MONTH,
	GW_PERIOD_WEEK, /* Monday to Sunday */
	GW_PERIOD_DAY
};

/* A reporting period: [start, end] inclusive, and its ISO 8601 label as
 * a message's payload.period carries it ("2024", "2024-Q2", "2024-06",
 * "2024-06-30"; a week is "2024-W23"). */
struct gw_period {
	enum gw_period_unit unit;
	long start, end;
	char label[40];
};

/* The period of unit containing day n. */
void gw_period_at(enum gw_period_unit unit, long n, struct gw_period *p);
/* The period after p (same unit) into out. */
void gw_period_next(const struct gw_period *p, struct gw_period *out);
/* Parse a label ("2024", "2024-Q2", "2024-06", "2024-06-30",
 * "2024-W23") into *p: 0, or -1 when it is not one. */
int gw_period_parse(const char *label, struct gw_period *p);

/* ---- obligations ---- */

enum gw_obl_rule {
	GW_RULE_MONTHLY = 0, /* day N of the month (the month's last day
				when shorter) */
	GW_RULE_QUARTERLY,   /* day N of the quarter's last month */
	GW_RULE_YEARLY,	     /* on month M, day N (28 Feb in a common year
				for 29 Feb) */
	GW_RULE_WEEKLY,	     /* on weekday N (1 Monday .. 7 Sunday) */
	GW_RULE_DATE,	     /* once, on a fixed date */
	GW_RULE_ADHOC	     /* on request: no deadline, never late */
};

/* One receiver of a report: a configured destination, or a unit. */
struct gw_obl_to {
	char *name;  /* as written */
	char *dest;  /* the destination name, NULL for a unit */
	char *orgid; /* the unit's orgId, NULL for a destination */
};

struct gw_obligation {
	char *id;
	char *title;
	char *unit;	  /* the unit's current name */
	char *unit_orgid; /* NULL when the unit list has none */
	char **lead;	  /* every lead unit as written (task obligations) */
	size_t n_lead;
	char *kind;	   /* indicator.report, task.progress, ... */
	char **indicators; /* codes the report must hold, may be none */
	size_t n_ind;
	char *task; /* taskRef of a task obligation */
	struct gw_obl_to *to;
	size_t n_to;
	enum gw_obl_rule rule;
	int day, month, weekday; /* by rule */
	long date;		 /* GW_RULE_DATE */
	int previous; /* covers the period before the deadline's ("covers:
			 previous"), not the one it falls in */
	struct gw_period fixed; /* GW_RULE_DATE: the period covered */
	long from, until;	/* active days, 0 when open */
	int remind_days;	/* -1: the calendar's default */
	char *src_doc;		/* legal source: document number */
	char *src_ref;		/* where in it ("seed 002 line 323") */
	char *basis;		/* the decision the rule applies, may be NULL */
	char *file;		/* where it was defined */
	long line;
};

/* Resolvers the parser asks: a unit by name, alias or orgId (return 0 and
 * set *orgid, may be NULL, and *name, borrowed, or -1 when unknown) and
 * whether a destination is configured (1 or 0). Either may be NULL: then
 * nothing resolves. */
struct gw_obl_resolver {
	int (*unit)(void *arg, const char *s, const char **orgid,
		    const char **name);
	int (*dest)(void *arg, const char *s);
	void *arg;
};

/* Parse one obligation (borrowed JSON object, as read from YAML) defined
 * in file (borrowed) at the JSON Pointer ptr; lines (may be NULL) maps
 * pointers to lines. Every problem goes to cb as "FILE:LINE: KEY: reason"
 * and the result is GW_ERR_CONFIG; *out is new (gw_obligation_free). */
gw_rc gw_obligation_parse(const json_t *j, const char *file, const char *ptr,
			  const json_t *lines, const struct gw_obl_resolver *r,
			  gw_report_cb cb, void *arg,
			  struct gw_obligation **out);
void gw_obligation_free(struct gw_obligation *o);
/* The line of JSON Pointer ptr (or of its nearest parent) in lines, 0
 * when unknown. */
long gw_obligation_line(const json_t *lines, const char *ptr);

/* The period covered by the deadline that falls in the period unit of
 * the rule containing day n... Walk: the first period of o whose
 * deadline is on or after day n into *p with its deadline *due: 0, or -1
 * when none (ad hoc; a fixed date before n; after until). */
int gw_obligation_next(const struct gw_obligation *o, long n,
		       struct gw_period *p, long *due);
/* The deadline of period p for o into *due: 0, or -1 (ad hoc, or p is
 * not one of o's periods). */
int gw_obligation_due(const struct gw_obligation *o, const struct gw_period *p,
		      long *due);
/* The unit of o's periods. */
enum gw_period_unit gw_obligation_unit(const struct gw_obligation *o);
/* The rule's name ("monthly", ...) and a one-line description of the
 * deadline ("day 20 of each month") into out. */
const char *gw_obligation_rule_name(enum gw_obl_rule r);
void gw_obligation_describe(const struct gw_obligation *o, char *out, size_t n);

/* Status of one obligation for one period. */
enum gw_obl_status {
	GW_OBL_NOT_DUE = 0, /* nothing sent, deadline more than soon away */
	GW_OBL_DUE_SOON,    /* nothing sent, deadline within soon days */
	GW_OBL_SENT,	    /* a message sent, not all receipts verified */
	GW_OBL_DELIVERED,   /* delivered to every receiver, receipts
			       verified */
	GW_OBL_LATE,	    /* nothing sent and the deadline passed */
	GW_OBL_MISSING,	    /* sent, but a receiver never got it (dead
			       letter, or not routed there) */
	GW_OBL_ADHOC	    /* on request: nothing to chase */
};
const char *gw_obl_status_name(enum gw_obl_status s);
/* What was found for one receiver: 0 nothing, 1 sent (pending), 2
 * delivered with a verified receipt, 3 never will (dead, or no route). */
enum gw_obl_seen {
	GW_SEEN_NONE = 0,
	GW_SEEN_SENT,
	GW_SEEN_VERIFIED,
	GW_SEEN_DEAD
};
/* The status from what each of the n receivers saw (seen[i]), the
 * deadline due, today and the soon window: the rules of docs/CALENDAR.md.
 * With n 0 (no receiver named) seen[0] stands for the whole report. */
enum gw_obl_status gw_obl_status_of(const struct gw_obligation *o,
				    const enum gw_obl_seen *seen, size_t n,
				    long due, long today, int soon_days);

/* Two obligations in conflict: the same unit, report, receivers, rule
 * kind and basis (the decision whose rule both apply) but another
 * deadline (receivers differ only when both name some). 1 when a and b conflict, with why (one line) in out. */
int gw_obligation_conflict(const struct gw_obligation *a,
			   const struct gw_obligation *b, char *out, size_t n);

#endif
