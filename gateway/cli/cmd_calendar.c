/*
 * cmd_calendar.c - the calendar command: options, the runtime (for the
 * outbox and the audit log), the calendar (flow/calendar.c) and its
 * output as a table, JSON, CSV or iCalendar.
 */
#include "cli/cmd_calendar.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flow/calendar.h"
#include "flow/runtime.h"
#include "model/validate.h"

#define USAGE                                                               \
	"usage: lienthong calendar -c CONF [--on DATE] [--plan PATH]...\n"  \
	"                          [--format table|json|csv|ics] COMMAND\n" \
	"  due [--week|--month|--days N] [--unit UNIT] [--to RECEIVER]\n"   \
	"  late [--since DATE] [--unit UNIT] [--to RECEIVER]\n"             \
	"  show OBLIGATION\n"                                               \
	"  conflicts\n"                                                     \
	"  remind\n"

static void print_line(void *arg, gw_rc rc, const char *line)
{
	fprintf(stderr, "%s\n", line);
}

static const char *jstr(const json_t *j, const char *key)
{
	return json_string_value(json_object_get(j, key));
}

static void csv_field(FILE *f, const char *s, int last)
{
	s = s ? s : "";
	if (strpbrk(s, ",\"\r\n")) {
		fputc('"', f);
		for (; *s; s++) {
			if (*s == '"')
				fputc('"', f);
			fputc(*s, f);
		}
		fputc('"', f);
	} else {
		fputs(s, f);
	}
	fputs(last ? "\r\n" : ",", f);
}

static void receivers(const json_t *it, char *out, size_t n)
{
	const json_t *to = json_object_get(it, "to");
	size_t i, o = 0;

	out[0] = '\0';
	for (i = 0; i < json_array_size(to) && o < n; i++)
		o += (size_t)snprintf(out + o, n - o, "%s%s=%s", i ? " " : "",
				      jstr(json_array_get(to, i), "name"),
				      jstr(json_array_get(to, i), "state"));
	if (!json_array_size(to))
		snprintf(out, n, "-");
}

static void messages(const json_t *it, char *out, size_t n)
{
	const json_t *m = json_object_get(it, "messages");
	size_t i, o = 0;

	out[0] = '\0';
	for (i = 0; i < json_array_size(m) && o < n; i++)
		o += (size_t)snprintf(out + o, n - o, "%s%s", i ? " " : "",
				      json_string_value(json_array_get(m, i)));
	if (!json_array_size(m))
		snprintf(out, n, "-");
}

/* The unit with its orgId, and the lead units of a task as written. */
static void unit_of(const json_t *it, char *out, size_t n)
{
	const json_t *lead = json_object_get(it, "leadUnits");
	size_t i, o;

	if (jstr(it, "unitOrgId"))
		o = (size_t)snprintf(out, n, "%s (%s)", jstr(it, "unit"),
				     jstr(it, "unitOrgId"));
	else
		o = (size_t)snprintf(out, n, "%s", jstr(it, "unit"));
	for (i = 0; i < json_array_size(lead) && o < n; i++)
		o += (size_t)snprintf(
			out + o, n - o, "%s%s", i ? ", " : "  lead: ",
			json_string_value(json_array_get(lead, i)));
}

static int print_items(const struct gw_calendar *c, const json_t *items,
		       const char *fmt)
{
	size_t i;

	if (!strcmp(fmt, "json")) {
		char *s =
			json_dumps(items, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

		if (!s)
			return 3;
		puts(s);
		free(s);
		return 0;
	}
	if (!strcmp(fmt, "ics")) {
		char *s = gw_calendar_ics(c, items);

		if (!s) {
			fprintf(stderr, "lienthong calendar: cannot make the "
					"iCalendar export\n");
			return 3;
		}
		fputs(s, stdout);
		free(s);
		return 0;
	}
	if (!strcmp(fmt, "csv")) {
		static const char *const h[] = {
			"due",	    "status", "obligation",
			"period",   "unit",   "unit_org_id",
			"kind",	    "task",   "receivers",
			"messages", "source", "conflict_with"
		};

		for (i = 0; i < 12; i++)
			csv_field(stdout, h[i], i == 11);
	}
	for (i = 0; i < json_array_size(items); i++) {
		const json_t *it = json_array_get(items, i),
			     *src = json_object_get(it, "source");
		char to[512], ms[512], unit[600], so[300];

		receivers(it, to, sizeof(to));
		messages(it, ms, sizeof(ms));
		snprintf(so, sizeof(so), "%s%s%s", jstr(src, "document"),
			 jstr(src, "ref") ? " " : "", jstr(src, "ref") ?: "");
		if (!strcmp(fmt, "csv")) {
			const char *f[] = { jstr(it, "due"),
					    jstr(it, "status"),
					    jstr(it, "obligation"),
					    jstr(it, "period"),
					    jstr(it, "unit"),
					    jstr(it, "unitOrgId"),
					    jstr(it, "kind"),
					    jstr(it, "task"),
					    to,
					    ms,
					    so,
					    jstr(it, "conflictWith") };
			size_t k;

			for (k = 0; k < 12; k++)
				csv_field(stdout, f[k], k == 11);
			continue;
		}
		unit_of(it, unit, sizeof(unit));
		printf("%s  %-9s  %s  %s  unit: %s  to: %s  sent: %s%s%s%s\n",
		       jstr(it, "due"), jstr(it, "status"),
		       jstr(it, "obligation"), jstr(it, "period"), unit, to, ms,
		       json_is_true(json_object_get(it, "sentLate"))
			       ? " (after the deadline)"
			       : "",
		       jstr(it, "conflictWith") ? "  CONFLICT with " : "",
		       jstr(it, "conflictWith") ?: "");
	}
	if (!strcmp(fmt, "table") && !json_array_size(items))
		printf("nothing\n");
	return 0;
}

static void print_reminder(void *arg, const struct gw_cal_reminder *r)
{
	json_t *a = arg;

	json_array_append_new(a, json_pack("{s:s,s:s,s:s,s:I}", "period",
					   r->period, "stage", r->stage,
					   "outcome", r->outcome, "atMs",
					   (json_int_t)r->at_ms));
}

static int show(struct gw_calendar *c, struct gw_calstore *s, const char *id,
		long today, const char *fmt)
{
	const struct gw_obligation *o;
	struct gw_period p;
	json_t *items = json_array(), *rem = json_array();
	struct gw_err err;
	char rule[128];
	size_t oi, i;
	int k, status;

	if (!(o = gw_calendar_find(c, id, &oi))) {
		fprintf(stderr,
			"lienthong calendar: no obligation '%s' (`lienthong "
			"calendar -c CONF due --days 365` lists them)\n",
			id);
		json_decref(items);
		json_decref(rem);
		return 1;
	}
	/* the periods around today: three before, the current, two after */
	if (o->rule == GW_RULE_DATE) {
		long due;

		if (gw_obligation_due(o, &o->fixed, &due) == 0)
			json_array_append_new(
				items,
				gw_calendar_item(c, oi, &o->fixed, due, today));
	} else if (o->rule != GW_RULE_ADHOC) {
		gw_period_at(gw_obligation_unit(o), today, &p);
		for (k = 0; k < 3; k++)
			gw_period_at(p.unit, p.start - 1, &p);
		for (k = 0; k < 6; k++, gw_period_next(&p, &p)) {
			long due;

			if (gw_obligation_due(o, &p, &due) == 0)
				json_array_append_new(
					items, gw_calendar_item(c, oi, &p, due,
								today));
		}
	}
	gw_err_clear(&err);
	s->ops->reminders(s, o->id, print_reminder, rem, &err);
	if (strcmp(fmt, "table")) {
		status = print_items(c, items, fmt);
		json_decref(items);
		json_decref(rem);
		return status;
	}
	gw_obligation_describe(o, rule, sizeof(rule));
	printf("obligation %s\n", o->id);
	if (o->title)
		printf("  title: %s\n", o->title);
	printf("  unit: %s%s%s%s\n", o->unit, o->unit_orgid ? " (" : "",
	       o->unit_orgid ?: "", o->unit_orgid ? ")" : "");
	for (i = 0; i < o->n_lead; i++)
		printf("  lead unit: %s\n", o->lead[i]);
	printf("  report: %s%s%s\n", o->kind, o->task ? " for task " : "",
	       o->task ?: "");
	for (i = 0; i < o->n_ind; i++)
		printf("  indicator: %s\n", o->indicators[i]);
	for (i = 0; i < o->n_to; i++)
		printf("  to: %s (%s)\n", o->to[i].name,
		       o->to[i].dest ? "destination" : o->to[i].orgid);
	printf("  deadline: %s (%s)\n", rule, gw_obligation_rule_name(o->rule));
	printf("  source: %s%s%s%s%s\n", o->src_doc, o->src_ref ? ", " : "",
	       o->src_ref ?: "", o->basis ? ", applying " : "", o->basis ?: "");
	printf("  defined at: %s:%ld\n", o->file, o->line);
	if (c->conflict_of && c->conflict_of[oi])
		for (i = 0; i < c->n_conflicts; i++)
			if (strstr(c->conflicts[i], o->id))
				printf("  CONFLICT: %s\n", c->conflicts[i]);
	print_items(c, items, "table");
	for (i = 0; i < json_array_size(rem); i++) {
		const json_t *r = json_array_get(rem, i);

		printf("  reminder %s %s: %s\n", jstr(r, "stage"),
		       jstr(r, "period"), jstr(r, "outcome"));
	}
	json_decref(items);
	json_decref(rem);
	return 0;
}

int gw_cmd_calendar(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "on", required_argument, NULL, 'o' },
		{ "plan", required_argument, NULL, 'p' },
		{ "format", required_argument, NULL, 'f' },
		{ "week", no_argument, NULL, 'w' },
		{ "month", no_argument, NULL, 'm' },
		{ "days", required_argument, NULL, 'd' },
		{ "since", required_argument, NULL, 's' },
		{ "unit", required_argument, NULL, 'u' },
		{ "to", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 }
	};
	const char *conf = NULL, *fmt = "table", *on = NULL, *since = NULL;
	const char **plans = gw_calloc((size_t)argc + 1, sizeof(char *));
	struct gw_cal_filter f = { 0, 0, NULL, NULL, 0 };
	struct gw_runtime *rt = NULL;
	struct gw_calendar *c = NULL;
	struct gw_calstore *s = NULL;
	enum gw_runtime_step step;
	struct gw_err err;
	size_t n_plans = 0;
	int ch, window = 'm', days = 0, status = 0;
	long today = 0;
	const char *sub;
	gw_rc rc;

	if (!plans)
		return 3;
	optind = 0;
	while ((ch = getopt_long(argc, argv, "c:", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': conf = optarg; break;
		case 'o': on = optarg; break;
		case 'p': plans[n_plans++] = optarg; break;
		case 'f': fmt = optarg; break;
		case 'w':
		case 'm': window = ch; break;
		case 'd':
			window = 'd';
			days = atoi(optarg);
			break;
		case 's': since = optarg; break;
		case 'u': f.unit = optarg; break;
		case 't': f.dest = optarg; break;
		default: goto usage;
		}
	}
	sub = optind < argc ? argv[optind] : NULL;
	if (!conf || !sub ||
	    (strcmp(fmt, "table") && strcmp(fmt, "json") &&
	     strcmp(fmt, "csv") && strcmp(fmt, "ics")) ||
	    (strcmp(sub, "due") && strcmp(sub, "late") && strcmp(sub, "show") &&
	     strcmp(sub, "conflicts") && strcmp(sub, "remind")) ||
	    (!strcmp(sub, "show") ? optind + 2 != argc : optind + 1 != argc) ||
	    (window == 'd' && (days < 1 || days > 3660)))
		goto usage;
	if (on && gw_date_parse(on, &today)) {
		fprintf(stderr,
			"lienthong calendar: --on '%s' is not a date "
			"(YYYY-MM-DD)\n",
			on);
		status = 2;
		goto out;
	}
	if (!today)
		today = (long)((gw_now_ms() / 1000 + 7 * 3600) / 86400);
	gw_err_clear(&err);
	rc = gw_runtime_new(conf, GW_RT_OUTBOX | GW_RT_AUDIT,
			    strcmp(sub, "remind") ? GW_AUDIT_READONLY
						  : GW_AUDIT_BACKGROUND,
			    print_line, NULL, &rt, &step, &err);
	if (rc && step == GW_RT_STEP_AUDIT && strcmp(sub, "remind")) {
		/* a log not made yet, or unreadable: the status comes from
		 * the outbox alone */
		fprintf(stderr,
			"lienthong calendar: the audit log is not read: %s\n",
			err.msg);
		gw_err_clear(&err);
		rc = gw_runtime_new(conf, GW_RT_OUTBOX, 0, print_line, NULL,
				    &rt, &step, &err);
	}
	if (rc) {
		if (!(step == GW_RT_STEP_CONFIG && rc == GW_ERR_CONFIG))
			fprintf(stderr, "lienthong calendar: %s\n", err.msg);
		status = step == GW_RT_STEP_CONFIG ? gw_rc_exit(rc) : 3;
		goto out;
	}
	if ((rc = gw_calendar_load(rt->cfg, gw_schema_dir(), plans, n_plans,
				   print_line, NULL, &c, &err))) {
		if (rc != GW_ERR_CONFIG)
			fprintf(stderr, "lienthong calendar: %s\n", err.msg);
		status = rc == GW_ERR_CONFIG ? 1 : gw_rc_exit(rc);
		goto out;
	}
	{
		struct gw_buf cal, ob;

		gw_buf_init(&cal);
		gw_buf_init(&ob);
		gw_buf_addf(&cal, "%s/calendar.db", rt->data_dir);
		gw_buf_addf(&ob, "%s/outbox.db", rt->data_dir);
		rc = gw_calstore_open_sqlite(cal.data, ob.data, &s, &err);
		gw_buf_release(&cal);
		gw_buf_release(&ob);
	}
	if (rc || (rc = gw_calendar_read(c, s, rt->audit, &err))) {
		fprintf(stderr, "lienthong calendar: %s\n", err.msg);
		status = gw_rc_exit(rc);
		goto out;
	}
	if (!strcmp(sub, "conflicts")) {
		size_t i;

		for (i = 0; i < c->n_conflicts; i++)
			printf("conflict: %s\n", c->conflicts[i]);
		if (!c->n_conflicts)
			printf("no conflict between %zu obligations\n", c->n);
	} else if (!strcmp(sub, "show")) {
		status = show(c, s, argv[optind + 1], today, fmt);
	} else if (!strcmp(sub, "remind")) {
		int fired = 0;

		if ((rc = gw_calendar_remind(c, s, rt->audit, today, stdout,
					     &fired, &err))) {
			fprintf(stderr, "lienthong calendar: %s\n", err.msg);
			status = gw_rc_exit(rc);
		} else {
			printf("%d reminder%s sent\n", fired,
			       fired == 1 ? "" : "s");
		}
	} else {
		json_t *items;

		if (!strcmp(sub, "late")) {
			f.late_only = 1;
			f.to = today - 1;
			f.from = today - c->lookback_days;
			if (since && gw_date_parse(since, &f.from)) {
				fprintf(stderr,
					"lienthong calendar: --since '%s' is "
					"not a date (YYYY-MM-DD)\n",
					since);
				status = 2;
				goto out;
			}
		} else if (window == 'w') {
			struct gw_period p;

			gw_period_at(GW_PERIOD_WEEK, today, &p);
			f.from = p.start;
			f.to = p.end;
		} else if (window == 'm') {
			struct gw_period p;

			gw_period_at(GW_PERIOD_MONTH, today, &p);
			f.from = p.start;
			f.to = p.end;
		} else {
			f.from = today;
			f.to = today + days;
		}
		items = gw_calendar_list(c, &f, today);
		status = items ? print_items(c, items, fmt) : 3;
		json_decref(items);
	}
	goto out;
usage:
	fprintf(stderr, USAGE);
	status = 2;
out:
	gw_calstore_close(s);
	gw_calendar_free(c);
	gw_runtime_free(rt);
	free(plans);
	return status;
}
