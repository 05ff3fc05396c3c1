/*
 * calendar.h - the reporting calendar: the obligations of the
 * configuration (obligations: inline, files it includes, imported plans)
 * with their status per period computed from what the outbox holds, the
 * conflicts between them, and the reminders. The rules of one obligation
 * are model/obligation.c; what is kept on disk is store/calendar.h; the
 * command is cli/cmd_calendar.c (docs/CALENDAR.md).
 */
#ifndef GW_CALENDAR_H
#define GW_CALENDAR_H

#include <jansson.h>
#include <stdio.h>

#include "audit/audit.h"
#include "model/config.h"
#include "model/obligation.h"
#include "store/calendar.h"

struct gw_cal_msgs; /* the outbox as read (calendar.c) */

struct gw_calendar {
	struct gw_obligation **obl;
	size_t n;
	char **conflicts; /* one line per conflicting pair */
	size_t n_conflicts;
	int *conflict_of;    /* per obligation: 1 + the index of the first
			     obligation it conflicts with, 0 none */
	int soon_days;	     /* "due soon" window (obligations.soon_days, 7) */
	int lookback_days;   /* how far back `late` looks (90) */
	int remind_days;     /* reminders.days (5) */
	char **remind_cmd;   /* reminders.command (argv), NULL: none */
	int remind_every_s;  /* reminders.every_s (3600), for serve */
	char *link_base;     /* obligations.link (URL prefix), may be NULL */
	json_t *units;	     /* folded name -> {orgId, name} */
	size_t plan_tasks;   /* task obligations from plans */
	size_t plan_skipped; /* plan tasks without a deadline */
	struct gw_cal_msgs *msgs;
};

/* The calendar of cfg (borrowed): its obligations: section, the files it
 * includes and the plans it lists, with plans[0..n_plans) more (imported
 * plans: JSON lines or a folder of .json messages, as written by
 * `lienthong import`). Every problem goes to cb as "FILE:LINE: KEY:
 * reason" and gives GW_ERR_CONFIG; GW_ERR_IO for a file that cannot be
 * read. *out is new (gw_calendar_free). */
gw_rc gw_calendar_load(const struct gw_config *cfg, const char *schema_dir,
		       const char *const *plans, size_t n_plans,
		       gw_report_cb cb, void *arg, struct gw_calendar **out,
		       struct gw_err *err);
void gw_calendar_free(struct gw_calendar *c);

/* Read the outbox through s (the messages of the obligations' kinds,
 * their deliveries and receipts' verdicts) and, when audit (may be NULL)
 * is given, the audit log's verified-receipt entries of those messages:
 * a delivery is verified when either says so, and the entry's index is
 * shown (auditEntry) as the proof to export with `audit prove`. */
gw_rc gw_calendar_read(struct gw_calendar *c, struct gw_calstore *s,
		       struct gw_audit *audit, struct gw_err *err);

/* The obligation called id, or NULL. */
const struct gw_obligation *gw_calendar_find(const struct gw_calendar *c,
					     const char *id, size_t *index);

/* One obligation for one period, as a new JSON object (the caller
 * releases it): obligation, title, unit, period, due, status, the
 * messages found and each receiver's state, the conflict, the source. */
json_t *gw_calendar_item(const struct gw_calendar *c, size_t oi,
			 const struct gw_period *p, long due, long today);

/* Filters of gw_calendar_list; NULL/0 members do not filter. */
struct gw_cal_filter {
	long from, to;	  /* deadlines in [from, to] */
	const char *unit; /* name, alias or orgId */
	const char *dest; /* a receiver's name */
	int late_only;	  /* status late or missing */
};

/* Every (obligation, period) whose deadline passes f, by deadline, as a
 * new JSON array of gw_calendar_item objects. */
json_t *gw_calendar_list(const struct gw_calendar *c,
			 const struct gw_cal_filter *f, long today);

/* Run the reminders due on today: for each obligation, its periods due
 * within its reminder window and not sent ("due-soon"), and its latest
 * period past its deadline and still late ("late"); each (obligation,
 * period, stage) claimed in s (never twice), the command run with the
 * reminder as JSON on its standard input, the outcome recorded and
 * audited in audit (may be NULL). Lines for the operator go to out (may
 * be NULL); *fired counts the reminders run. */
gw_rc gw_calendar_remind(struct gw_calendar *c, struct gw_calstore *s,
			 struct gw_audit *audit, long today, FILE *out,
			 int *fired, struct gw_err *err);

/* The reminders of the configuration at conf_path, as a run of its own:
 * the configuration, outbox, audit log and calendar opened, reminded,
 * closed (what serve's scheduler calls, so that a reloaded configuration
 * is used at the next tick). Nothing happens without
 * obligations.reminders: *every_s is then 0, else its every_s. */
gw_rc gw_calendar_remind_conf(const char *conf_path, long today, FILE *out,
			      int *fired, int *every_s, struct gw_err *err);

/* The items (a JSON array of gw_calendar_item objects, borrowed) as an
 * RFC 5545 calendar (libical; calendar_ics.c), a new string the caller
 * frees, NULL on failure. */
char *gw_calendar_ics(const struct gw_calendar *c, const json_t *items);

#endif
