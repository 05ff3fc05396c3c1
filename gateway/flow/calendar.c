/*
 * calendar.c - the reporting calendar (flow/calendar.h): obligations
 * gathered from the configuration, the files it includes and imported
 * plans; their status per period from the messages of the outbox (which
 * report covers which period, for which unit, and what each receiver
 * answered); conflicts; reminders run once per obligation, period and
 * stage. docs/CALENDAR.md has the rules.
 */
#include "flow/calendar.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/json.h"
#include "base/normalize.h"
#include "base/xml.h"
#include "flow/runtime.h"
#include "model/message.h"

extern char **environ;

/* One message of the outbox, parsed for matching. */
struct cmsg {
	char *id, *kind;
	json_t *msg; /* the canonical message, NULL when unreadable */
	long day;    /* day created, in +07:00 */
	struct gw_cal_dlv *dlv;
	size_t n_dlv;
	int64_t *audited; /* per delivery: the audit entry of its verified
			     receipt, -1 when the log has none */
};

struct gw_cal_msgs {
	struct cmsg *m;
	size_t n, cap;
};

/* ---- units ---- */

/* What the resolvers of an obligation read: the configuration (its
 * destinations) and the unit list. */
struct rctx {
	const struct gw_config *cfg;
	json_t *units;
};

static int unit_find(const json_t *units, const char *s, const char **orgid,
		     const char **name);

static int unit_lookup(void *arg, const char *s, const char **orgid,
		       const char **name)
{
	return unit_find(((struct rctx *)arg)->units, s, orgid, name);
}

static int unit_find(const json_t *units, const char *s, const char **orgid,
		     const char **name)
{
	char *f = gw_norm_fold(s);
	json_t *u = f ? json_object_get(units, f) : NULL;
	const char *k;
	json_t *v;

	free(f);
	if (!u) /* an orgId */
		json_object_foreach((json_t *)units, k, v)
		{
			if (!strcmp(json_string_value(
					    json_object_get(v, "orgId")),
				    s)) {
				u = v;
				break;
			}
		}
	if (!u)
		return -1;
	*orgid = json_string_value(json_object_get(u, "orgId"));
	*name = json_string_value(json_object_get(u, "name"));
	return 0;
}

/* For imported tasks: a unit not in the list keeps only its name. */
static int unit_lenient(void *arg, const char *s, const char **orgid,
			const char **name)
{
	if (unit_find(arg, s, orgid, name) == 0)
		return 0;
	*orgid = NULL;
	*name = s;
	return 0;
}

static gw_rc load_units(struct gw_calendar *c, const struct gw_config *cfg,
			gw_report_cb cb, void *arg, struct gw_err *err)
{
	char *path = gw_config_path(cfg, "/obligations/units");
	char *buf = NULL;
	json_t *doc = NULL, *lines = NULL, *u;
	size_t len, i;
	gw_rc rc = GW_OK;

	if (!path)
		return GW_OK;
	if ((rc = gw_read_file(path, 4u << 20, &buf, &len, err)) ||
	    (rc = gw_yaml_parse(buf, len, path, &doc, &lines, err)))
		goto out;
	json_array_foreach(json_object_get(doc, "units"), i, u)
	{
		const char *id = json_string_value(json_object_get(u, "orgId"));
		const char *nm = json_string_value(json_object_get(u, "name"));
		json_t *al = json_object_get(u, "aliases");
		size_t j;

		if (!id || !nm) {
			char ptr[64], line[600];
			json_t *l;

			snprintf(ptr, sizeof(ptr), "/units/%zu", i);
			l = json_object_get(lines, ptr);
			snprintf(line, sizeof(line),
				 "%s:%lld: units.%zu: orgId and name wanted",
				 path, (long long)json_integer_value(l), i);
			if (cb)
				cb(arg, GW_ERR_CONFIG, line);
			rc = gw_err_set(err, GW_ERR_CONFIG, "%s", line);
			goto out;
		}
		for (j = 0; j <= json_array_size(al); j++) {
			const char *t =
				j ? json_string_value(json_array_get(al, j - 1))
				  : nm;
			char *f = t ? gw_norm_fold(t) : NULL;

			if (f)
				json_object_set_new(c->units, f,
						    json_pack("{s:s,s:s}",
							      "orgId", id,
							      "name", nm));
			free(f);
		}
	}
out:
	if (rc && rc != GW_ERR_CONFIG && cb)
		cb(arg, rc, err->msg);
	json_decref(doc);
	json_decref(lines);
	free(buf);
	free(path);
	return rc;
}

static int dest_known(void *arg, const char *s)
{
	const struct gw_config *cfg = ((struct rctx *)arg)->cfg;

	return json_object_get(gw_config_get(cfg, "/destinations"), s) != NULL;
}

/* ---- gathering obligations ---- */

static gw_rc add(struct gw_calendar *c, struct gw_obligation *o, int quiet_dup,
		 gw_report_cb cb, void *arg)
{
	size_t i;
	void *p;

	for (i = 0; i < c->n; i++)
		if (!strcmp(c->obl[i]->id, o->id)) {
			char line[900];

			if (quiet_dup) { /* the same plan read twice */
				gw_obligation_free(o);
				return GW_OK;
			}
			snprintf(line, sizeof(line),
				 "%s:%ld: id: '%s' is already the id of the "
				 "obligation at %s:%ld",
				 o->file, o->line, o->id, c->obl[i]->file,
				 c->obl[i]->line);
			if (cb)
				cb(arg, GW_ERR_CONFIG, line);
			gw_obligation_free(o);
			return GW_ERR_CONFIG;
		}
	if (!(p = gw_realloc(c->obl, (c->n + 1) * sizeof(*c->obl)))) {
		gw_obligation_free(o);
		return GW_ERR_NOMEM;
	}
	c->obl = p;
	c->obl[c->n++] = o;
	return GW_OK;
}

/* "units: [A, B]" instead of "unit": one obligation per unit, its id
 * suffixed with "/" and the unit's orgId (or name). */
static gw_rc add_each_unit(struct gw_calendar *c, const json_t *v,
			   const char *file, const char *ptr,
			   const json_t *lines, const struct gw_obl_resolver *r,
			   gw_report_cb cb, void *arg)
{
	const json_t *units = json_object_get(v, "units"), *u;
	gw_rc rc = GW_OK, r1;
	size_t i;

	if (json_object_get(v, "unit") || !json_array_size(units)) {
		char line[900], p2[160];

		snprintf(p2, sizeof(p2), "%s/units", ptr);
		snprintf(line, sizeof(line),
			 "%s:%ld: units: a non-empty list of units, without "
			 "unit",
			 file, gw_obligation_line(lines, p2));
		if (cb)
			cb(arg, GW_ERR_CONFIG, line);
		return GW_ERR_CONFIG;
	}
	json_array_foreach(units, i, u)
	{
		json_t *one = json_deep_copy(v);
		const char *org = NULL, *nm = NULL, *us = json_string_value(u);
		struct gw_obligation *o = NULL;
		char id[400];

		if (!one)
			return GW_ERR_NOMEM;
		json_object_del(one, "units");
		if (us) {
			json_object_set_new(one, "unit", json_string(us));
			if (r->unit(r->arg, us, &org, &nm) == 0 &&
			    json_string_value(json_object_get(one, "id"))) {
				snprintf(id, sizeof(id), "%s/%s",
					 json_string_value(
						 json_object_get(one, "id")),
					 org ? org : nm);
				json_object_set_new(one, "id", json_string(id));
			}
		}
		r1 = gw_obligation_parse(one, file, ptr, lines, r, cb, arg, &o);
		json_decref(one);
		if (!r1)
			r1 = add(c, o, 0, cb, arg);
		if (r1 && !rc)
			rc = r1;
	}
	return rc;
}

static gw_rc add_list(struct gw_calendar *c, const json_t *list,
		      const char *file, const char *base, const json_t *lines,
		      const struct gw_obl_resolver *r, gw_report_cb cb,
		      void *arg)
{
	gw_rc rc = GW_OK, r1;
	size_t i;
	json_t *v;

	json_array_foreach(list, i, v)
	{
		struct gw_obligation *o;
		char ptr[128];

		snprintf(ptr, sizeof(ptr), "%s/%zu", base, i);
		if (json_is_array(json_object_get(v, "units"))) {
			r1 = add_each_unit(c, v, file, ptr, lines, r, cb, arg);
			if (r1 && !rc)
				rc = r1;
			continue;
		}
		r1 = gw_obligation_parse(v, file, ptr, lines, r, cb, arg, &o);
		if (!r1)
			r1 = add(c, o, 0, cb, arg);
		if (r1 && !rc)
			rc = r1;
	}
	return rc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The files of path: itself, or the files of a folder whose names end
 * in one of the suffixes, sorted. A new NULL-terminated list. */
static char **files_of(const char *path, const char *suf1, const char *suf2)
{
	struct stat st;
	char **l = NULL;
	size_t n = 0;
	DIR *d;
	struct dirent *e;

	if (stat(path, &st) || !S_ISDIR(st.st_mode)) {
		l = gw_calloc(2, sizeof(char *));
		if (l)
			l[0] = gw_strdup(path);
		return l;
	}
	if (!(d = opendir(path)))
		return NULL;
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name), s1 = strlen(suf1),
		       s2 = suf2 ? strlen(suf2) : 0;
		struct gw_buf b;
		void *p;

		if (e->d_name[0] == '.' ||
		    !((len > s1 && !strcmp(e->d_name + len - s1, suf1)) ||
		      (suf2 && len > s2 &&
		       !strcmp(e->d_name + len - s2, suf2))))
			continue;
		if (!(p = gw_realloc(l, (n + 2) * sizeof(char *))))
			break;
		l = p;
		gw_buf_init(&b);
		gw_buf_addf(&b, "%s/%s", path, e->d_name);
		l[n++] = gw_buf_detach(&b, NULL);
		l[n] = NULL;
	}
	closedir(d);
	if (!l)
		l = gw_calloc(1, sizeof(char *));
	else
		qsort(l, n, sizeof(char *), cmp_str);
	return l;
}

static void free_files(char **l)
{
	size_t i;

	for (i = 0; l && l[i]; i++)
		free(l[i]);
	free(l);
}

static gw_rc load_include(struct gw_calendar *c, const struct gw_config *cfg,
			  const char *schema_dir,
			  const struct gw_obl_resolver *r, gw_report_cb cb,
			  void *arg, struct gw_err *err)
{
	json_t *inc = gw_config_get(cfg, "/obligations/include");
	gw_rc rc = GW_OK, r1;
	size_t i, j;

	for (i = 0; i < json_array_size(inc); i++) {
		char ptr[64], *path, **files;

		snprintf(ptr, sizeof(ptr), "/obligations/include/%zu", i);
		if (!(path = gw_config_path(cfg, ptr)))
			return GW_ERR_NOMEM;
		files = files_of(path, ".yaml", ".yml");
		if (!files || !files[0] || access(path, R_OK)) {
			char line[900];

			snprintf(line, sizeof(line),
				 "%s:%ld: obligations.include.%zu: cannot "
				 "read '%s'%s",
				 cfg->path, gw_config_line(cfg, ptr), i, path,
				 files && !files[0] ? " (no .yaml file in it)"
						    : "");
			if (cb)
				cb(arg, GW_ERR_CONFIG, line);
			rc = GW_ERR_CONFIG;
			free_files(files);
			files = NULL;
		}
		for (j = 0; files && files[j]; j++) {
			struct gw_config *fc = NULL;
			struct gw_err e2;

			gw_err_clear(&e2);
			r1 = gw_config_load_as(files[j], schema_dir,
					       "obligation.schema.json", cb,
					       arg, &fc, &e2);
			if (r1 && r1 != GW_ERR_CONFIG && cb)
				cb(arg, r1, e2.msg);
			if (!r1)
				r1 = add_list(c,
					      gw_config_get(fc, "/obligations"),
					      files[j], "/obligations",
					      fc->lines, r, cb, arg);
			gw_config_free(fc);
			if (r1 && !rc)
				rc = r1;
		}
		free_files(files);
		free(path);
	}
	if (rc && err)
		gw_err_set(err, rc, "the obligations are invalid");
	return rc;
}

/* A task of an imported plan with a parsed deadline: a task
 * obligation (the lead unit the first of its lead units that the unit
 * list knows, else the first as written). */
static gw_rc plan_task(struct gw_calendar *c, const json_t *msg,
		       const char *file, long line, gw_report_cb cb, void *arg)
{
	const json_t *p = json_object_get(msg, "payload");
	const json_t *tl = json_object_get(p, "timeline");
	const char *due = json_string_value(json_object_get(tl, "due"));
	const char *tk = json_string_value(json_object_get(tl, "kind"));
	const char *start = json_string_value(json_object_get(tl, "start"));
	const char *tid = json_string_value(json_object_get(p, "taskId"));
	const json_t *leads = json_object_get(p, "leadUnits"), *u;
	struct gw_obl_resolver r = { unit_lenient, NULL, c->units };
	struct gw_obligation *o = NULL;
	json_t *j, *lead, *num;
	const char *unit = NULL, *org, *nm;
	char id[300], ref[400];
	struct gw_period per;
	long sd;
	size_t i;
	gw_rc rc;

	if (!tid || !due || !json_array_size(leads)) {
		c->plan_skipped++;
		return GW_OK;
	}
	lead = json_array();
	json_array_foreach(leads, i, u)
	{
		const char *n = json_string_value(json_object_get(u, "name"));

		if (!n)
			continue;
		json_array_append_new(lead, json_string(n));
		if (!unit && unit_find(c->units, n, &org, &nm) == 0)
			unit = n;
	}
	if (!unit)
		unit = json_string_value(json_array_get(lead, 0));
	per.label[0] = '\0';
	if (start && gw_date_parse(start, &sd) == 0 && tk)
		gw_period_at(!strcmp(tk, "quarter") ? GW_PERIOD_QUARTER
			     : !strcmp(tk, "year")  ? GW_PERIOD_YEAR
			     : !strcmp(tk, "month") ? GW_PERIOD_MONTH
						    : GW_PERIOD_DAY,
			     sd, &per);
	snprintf(id, sizeof(id), "task:%s", tid);
	num = json_object_get(p, "numbering");
	snprintf(
		ref, sizeof(ref), "task %s, \"%s\"",
		json_string_value(json_array_get(num, json_array_size(num) - 1))
			?: tid,
		json_string_value(json_object_get(tl, "raw")) ?: due);
	j = json_pack("{s:s, s:s?, s:s?, s:o, s:{s:s, s:s}, s:{s:s, s:s, s:s?},"
		      " s:{s:s, s:s}}",
		      "id", id, "title",
		      json_string_value(json_object_get(p, "title")), "unit",
		      unit, "lead", lead, "report", "kind", "task.progress",
		      "task", tid, "due", "rule", "date", "date", due, "period",
		      per.label[0] ? per.label : NULL, "source", "document",
		      json_string_value(json_object_get(p, "sourceDocument"))
			      ?: "(plan)",
		      "ref", ref);
	if (!j)
		return GW_ERR_NOMEM;
	rc = gw_obligation_parse(j, file, "", NULL, &r, cb, arg, &o);
	json_decref(j);
	if (!rc) {
		o->line = line;
		c->plan_tasks++;
		rc = add(c, o, 1, cb, arg);
	}
	return rc;
}

static gw_rc load_plan(struct gw_calendar *c, const char *path, gw_report_cb cb,
		       void *arg, struct gw_err *err)
{
	char **files = files_of(path, ".json", ".jsonl");
	gw_rc rc = GW_OK;
	size_t i;

	if (!files)
		return gw_err_set(err, GW_ERR_IO, "cannot read plan '%s': %s",
				  path, strerror(errno));
	for (i = 0; files[i] && !rc; i++) {
		char *buf = NULL, *p, *nl;
		size_t len;
		long line = 1;

		if ((rc = gw_read_file(files[i], 256u << 20, &buf, &len, err)))
			break;
		for (p = buf; p && *p; p = nl ? nl + 1 : NULL, line++) {
			json_t *m;

			nl = strchr(p, '\n');
			/* a file of one message may span lines */
			if (nl && strstr(files[i], ".json") &&
			    strcmp(files[i] + strlen(files[i]) - 5, ".json") ==
				    0)
				nl = NULL;
			if (strspn(p, " \t\r\n") ==
			    (nl ? (size_t)(nl - p) : strlen(p)))
				continue;
			if (gw_json_parse(p, nl ? (size_t)(nl - p) : strlen(p),
					  files[i], &m, err)) {
				char l2[900];

				snprintf(l2, sizeof(l2),
					 "%s:%ld: not a message: %s", files[i],
					 line, err->msg);
				if (cb)
					cb(arg, GW_ERR_CONFIG, l2);
				rc = gw_err_set(err, GW_ERR_CONFIG, "%s", l2);
				break;
			}
			if (!strcmp(json_string_value(
					    json_object_get(m, "kind"))
					    ?: "",
				    "task.assignment"))
				rc = plan_task(c, m, files[i], line, cb, arg);
			json_decref(m);
			if (rc)
				break;
		}
		free(buf);
	}
	if (rc == GW_ERR_CONFIG && !err->msg[0])
		gw_err_set(err, rc, "plan '%s' is invalid", path);
	free_files(files);
	return rc;
}

static void conflicts(struct gw_calendar *c)
{
	size_t i, j;

	c->conflict_of = gw_calloc(c->n + 1, sizeof(int));
	for (i = 0; i < c->n; i++)
		for (j = i + 1; j < c->n; j++) {
			char why[1200];
			void *p;

			if (!gw_obligation_conflict(c->obl[i], c->obl[j], why,
						    sizeof(why)))
				continue;
			if (c->conflict_of && !c->conflict_of[i])
				c->conflict_of[i] = (int)j + 1;
			if (c->conflict_of && !c->conflict_of[j])
				c->conflict_of[j] = (int)i + 1;
			p = gw_realloc(c->conflicts,
				       (c->n_conflicts + 1) * sizeof(char *));
			if (!p)
				return;
			c->conflicts = p;
			c->conflicts[c->n_conflicts++] = gw_strdup(why);
		}
}

static int int_opt(const struct gw_config *cfg, const char *ptr, int dflt)
{
	return (int)gw_config_int(cfg, ptr, dflt);
}

gw_rc gw_calendar_load(const struct gw_config *cfg, const char *schema_dir,
		       const char *const *plans, size_t n_plans,
		       gw_report_cb cb, void *arg, struct gw_calendar **out,
		       struct gw_err *err)
{
	struct gw_calendar *c = gw_calloc(1, sizeof(*c));
	struct rctx ctx = { cfg, NULL };
	struct gw_obl_resolver r = { unit_lookup, dest_known, &ctx };
	json_t *cmd = gw_config_get(cfg, "/obligations/reminders/command");
	gw_rc rc = GW_OK, r1;
	size_t i;

	*out = NULL;
	if (!c || !(c->units = json_object()))
		return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
	ctx.units = c->units;
	c->soon_days = int_opt(cfg, "/obligations/soon_days", 7);
	c->lookback_days = int_opt(cfg, "/obligations/lookback_days", 90);
	c->remind_days = int_opt(cfg, "/obligations/reminders/days", 5);
	c->remind_every_s =
		int_opt(cfg, "/obligations/reminders/every_s", 3600);
	if (gw_config_str(cfg, "/obligations/link", NULL))
		c->link_base =
			gw_strdup(gw_config_str(cfg, "/obligations/link", ""));
	if (json_array_size(cmd)) {
		c->remind_cmd =
			gw_calloc(json_array_size(cmd) + 1, sizeof(char *));
		for (i = 0; c->remind_cmd && i < json_array_size(cmd); i++)
			c->remind_cmd[i] = gw_strdup(
				json_string_value(json_array_get(cmd, i)));
	}
	if ((rc = load_units(c, cfg, cb, arg, err)))
		goto out;
	rc = add_list(c, gw_config_get(cfg, "/obligations/list"), cfg->path,
		      "/obligations/list", cfg->lines, &r, cb, arg);
	if ((r1 = load_include(c, cfg, schema_dir, &r, cb, arg, err)) && !rc)
		rc = r1;
	for (i = 0;
	     i < json_array_size(gw_config_get(cfg, "/obligations/plans"));
	     i++) {
		char ptr[64], *path;

		snprintf(ptr, sizeof(ptr), "/obligations/plans/%zu", i);
		if (!(path = gw_config_path(cfg, ptr)))
			return GW_ERR_NOMEM;
		r1 = load_plan(c, path, cb, arg, err);
		free(path);
		if (r1 && !rc)
			rc = r1;
	}
	for (i = 0; i < n_plans; i++)
		if ((r1 = load_plan(c, plans[i], cb, arg, err)) && !rc)
			rc = r1;
	if (rc == GW_ERR_CONFIG)
		gw_err_set(err, rc, "the obligations are invalid");
out:
	if (rc) {
		gw_calendar_free(c);
		return rc;
	}
	conflicts(c);
	*out = c;
	return GW_OK;
}

static void msgs_free(struct gw_cal_msgs *ms)
{
	size_t i, j;

	if (!ms)
		return;
	for (i = 0; i < ms->n; i++) {
		struct cmsg *m = &ms->m[i];

		for (j = 0; j < m->n_dlv; j++) {
			free((char *)m->dlv[j].dest);
			free((char *)m->dlv[j].verdict);
		}
		free(m->dlv);
		free(m->audited);
		free(m->id);
		free(m->kind);
		json_decref(m->msg);
	}
	free(ms->m);
	free(ms);
}

void gw_calendar_free(struct gw_calendar *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < c->n; i++)
		gw_obligation_free(c->obl[i]);
	free(c->obl);
	for (i = 0; i < c->n_conflicts; i++)
		free(c->conflicts[i]);
	free(c->conflicts);
	free(c->conflict_of);
	for (i = 0; c->remind_cmd && c->remind_cmd[i]; i++)
		free(c->remind_cmd[i]);
	free(c->remind_cmd);
	free(c->link_base);
	json_decref(c->units);
	msgs_free(c->msgs);
	free(c);
}

const struct gw_obligation *gw_calendar_find(const struct gw_calendar *c,
					     const char *id, size_t *index)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (!strcmp(c->obl[i]->id, id)) {
			if (index)
				*index = i;
			return c->obl[i];
		}
	return NULL;
}

/* ---- the outbox ---- */

static unsigned char *b64url(const char *s, size_t len, size_t *out_len)
{
	unsigned char *o = gw_malloc(len * 3 / 4 + 4);
	unsigned v = 0;
	int bits = 0;
	size_t i, n = 0;

	if (!o)
		return NULL;
	for (i = 0; i < len; i++) {
		int c = (unsigned char)s[i], d;

		d = c >= 'A' && c <= 'Z'   ? c - 'A'
		    : c >= 'a' && c <= 'z' ? c - 'a' + 26
		    : c >= '0' && c <= '9' ? c - '0' + 52
		    : c == '-' || c == '+' ? 62
		    : c == '_' || c == '/' ? 63
					   : -1;
		if (c == '=')
			break;
		if (d < 0) {
			free(o);
			return NULL;
		}
		v = (v << 6) | (unsigned)d;
		if ((bits += 6) >= 8) {
			bits -= 8;
			o[n++] = (unsigned char)(v >> bits);
		}
	}
	o[n] = 0;
	*out_len = n;
	return o;
}

/* The canonical message inside a stored body: JSON as is, the payload of
 * a JWS (compact or flattened), or canonical XML (its enveloped signature
 * set aside by the conversion's model). NULL when none. */
static json_t *message_of(const char *body, size_t len)
{
	json_t *j = NULL, *in;
	const char *p = body + strspn(body, " \t\r\n");
	struct gw_err e;

	if (*p == '<') {
		xmlDocPtr doc = NULL;

		if (!gw_xml_parse(body, len, "outbox", &doc, &e))
			gw_msg_xml_to_json(doc, &j, &e);
		if (doc)
			xmlFreeDoc(doc);
		return j;
	}
	if (*p == '{') {
		if (gw_json_parse(body, len, "outbox", &j, &e))
			return NULL;
		if (json_object_get(j, "kind"))
			return j;
		if (json_is_string(json_object_get(j, "payload"))) {
			const char *pl = json_string_value(
				json_object_get(j, "payload"));
			size_t n;
			unsigned char *raw = b64url(pl, strlen(pl), &n);

			json_decref(j);
			j = NULL;
			if (raw && gw_json_parse((char *)raw, n, "outbox", &in,
						 &e) == 0)
				j = in;
			free(raw);
			return j;
		}
		json_decref(j);
		return NULL;
	}
	{ /* compact JWS */
		const char *d1 = memchr(p, '.', len - (size_t)(p - body)), *d2;
		unsigned char *raw;
		size_t n;

		if (!d1 ||
		    !(d2 = memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - body))))
			return NULL;
		raw = b64url(d1 + 1, (size_t)(d2 - d1 - 1), &n);
		if (raw &&
		    gw_json_parse((char *)raw, n, "outbox", &in, &e) == 0)
			j = in;
		free(raw);
	}
	return j;
}

static void on_msg(void *arg, const struct gw_cal_msg *m)
{
	struct gw_cal_msgs *ms = arg;
	struct cmsg *x;
	size_t i;

	if (ms->n == ms->cap) {
		size_t nc = ms->cap ? ms->cap * 2 : 16;
		void *p = gw_realloc(ms->m, nc * sizeof(*ms->m));

		if (!p)
			return;
		ms->m = p;
		ms->cap = nc;
	}
	x = &ms->m[ms->n];
	memset(x, 0, sizeof(*x));
	x->id = gw_strdup(m->id);
	x->kind = gw_strdup(m->kind ? m->kind : "");
	x->msg = message_of(m->body, m->len);
	/* the day it was made, in Viet Nam (+07:00) */
	x->day = (long)((m->created_ms / 1000 + 7 * 3600) / 86400);
	x->dlv = gw_calloc(m->n_dlv + 1, sizeof(*x->dlv));
	x->audited = gw_calloc(m->n_dlv + 1, sizeof(*x->audited));
	for (i = 0; x->audited && i < m->n_dlv; i++)
		x->audited[i] = -1;
	for (i = 0; x->dlv && i < m->n_dlv; i++) {
		x->dlv[i] = m->dlv[i];
		x->dlv[i].dest = gw_strdup(m->dlv[i].dest);
		x->dlv[i].verdict =
			m->dlv[i].verdict ? gw_strdup(m->dlv[i].verdict) : NULL;
		x->n_dlv++;
	}
	ms->n++;
}

/* The audit log's receipt entries of one message: which deliveries have
 * their verified receipt in the log, and at which index. */
static int on_entry(void *arg, const struct gw_audit_entry *e)
{
	struct cmsg *m = arg;
	size_t k;

	if (!e->kind || strcmp(e->kind, "receipt") || !e->receiver ||
	    !e->reason || strncmp(e->reason, "receipt verified", 16))
		return 0;
	for (k = 0; m->audited && k < m->n_dlv; k++)
		if (!strcmp(m->dlv[k].dest, e->receiver))
			m->audited[k] = (int64_t)e->index;
	return 0;
}

gw_rc gw_calendar_read(struct gw_calendar *c, struct gw_calstore *s,
		       struct gw_audit *audit, struct gw_err *err)
{
	size_t i, j;
	gw_rc rc = GW_OK;

	msgs_free(c->msgs);
	if (!(c->msgs = gw_calloc(1, sizeof(*c->msgs))))
		return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
	/* only the kinds some obligation reports, each once */
	for (i = 0; i < c->n && !rc; i++) {
		for (j = 0; j < i && strcmp(c->obl[j]->kind, c->obl[i]->kind);
		     j++)
			;
		if (j == i)
			rc = s->ops->scan(s, c->obl[i]->kind, on_msg, c->msgs,
					  err);
	}
	for (i = 0; audit && !rc && i < c->msgs->n; i++) {
		struct gw_audit_filter f;

		memset(&f, 0, sizeof(f));
		f.kind = "receipt";
		f.outcome = "ok";
		f.msg_id = c->msgs->m[i].id;
		rc = gw_audit_query(audit, &f, on_entry, &c->msgs->m[i], err);
	}
	return rc;
}

/* ---- status ---- */

static const char *jstr(const json_t *j, const char *key)
{
	return json_string_value(json_object_get(j, key));
}

static int folded_eq(const char *a, const char *b)
{
	char *fa = a ? gw_norm_fold(a) : NULL, *fb = b ? gw_norm_fold(b) : NULL;
	int eq = fa && fb && !strcmp(fa, fb);

	free(fa);
	free(fb);
	return eq;
}

static int same_unit(const struct gw_obligation *o, const json_t *org)
{
	if (!org)
		return 0;
	if (o->unit_orgid && jstr(org, "orgId"))
		return !strcmp(o->unit_orgid, jstr(org, "orgId"));
	return folded_eq(o->unit, jstr(org, "name"));
}

/* Does message m report for o and period p? */
static int matches(const struct gw_obligation *o, const struct gw_period *p,
		   long due, const struct cmsg *m)
{
	const json_t *pl = json_object_get(m->msg, "payload");
	struct gw_period mp;
	size_t i, k;

	if (!m->msg || strcmp(m->kind, o->kind))
		return 0;
	if (!strcmp(o->kind, "task.progress")) {
		if (o->task && strcmp(jstr(pl, "taskRef") ?: "", o->task))
			return 0;
		if (!o->task && !same_unit(o, json_object_get(pl, "reporter")))
			return 0;
		/* a task's one deadline: its final report ("done");
		 * periodic progress: the report of that period */
		if (o->rule == GW_RULE_DATE && o->task)
			return !strcmp(jstr(pl, "status") ?: "", "done");
	} else if (!strcmp(o->kind, "indicator.report")) {
		const json_t *obs = json_object_get(pl, "observations");

		if (!same_unit(o, json_object_get(pl, "reportingUnit")))
			return 0;
		for (i = 0; i < o->n_ind; i++) {
			for (k = 0; k < json_array_size(obs); k++)
				if (!strcmp(jstr(json_array_get(obs, k), "code")
						    ?: "",
					    o->indicators[i]))
					break;
			if (k == json_array_size(obs))
				return 0;
		}
	} else { /* plan, task.assignment: by sender, made in the period */
		return same_unit(o, json_object_get(m->msg, "sender")) &&
		       m->day >= p->start && m->day <= due;
	}
	if (gw_period_parse(jstr(pl, "period"), &mp))
		return 0;
	if (p->unit == GW_PERIOD_WEEK && mp.unit == GW_PERIOD_DAY)
		return mp.start >= p->start && mp.end <= p->end;
	return mp.unit == p->unit && mp.start == p->start;
}

/* Delivery k of m: done with its receipt verified, as the outbox keeps
 * it or as the audit log recorded it (docs/DELIVERY.md). */
static int verified_k(const struct cmsg *m, size_t k)
{
	const struct gw_cal_dlv *d = &m->dlv[k];

	return d->state == 1 /* GW_DLV_DONE */ &&
	       ((d->verdict && !strncmp(d->verdict, "receipt verified", 16)) ||
		(m->audited && m->audited[k] >= 0));
}

static enum gw_obl_seen seen_msg(const struct cmsg *m)
{
	size_t i, ok = 0, dead = 0;

	for (i = 0; i < m->n_dlv; i++) {
		ok += verified_k(m, i);
		dead += m->dlv[i].state == 2;
	}
	if (m->n_dlv && ok == m->n_dlv)
		return GW_SEEN_VERIFIED;
	if (m->n_dlv && dead == m->n_dlv)
		return GW_SEEN_DEAD;
	return GW_SEEN_SENT;
}

static enum gw_obl_seen better(enum gw_obl_seen a, enum gw_obl_seen b)
{
	static const int rank[] = { 0, 2, 3, 1 }; /* none dead sent verified */

	return rank[a] >= rank[b] ? a : b;
}

/* What receiver t saw of the matching messages ms[0..n); *aidx the audit
 * entry of the verified receipt of a destination, -1 when none. */
static enum gw_obl_seen seen_by(const struct gw_obl_to *t,
				struct cmsg *const *ms, size_t n, int64_t *aidx)
{
	enum gw_obl_seen s = GW_SEEN_NONE;
	size_t i, k;

	*aidx = -1;
	for (i = 0; i < n; i++) {
		enum gw_obl_seen one = GW_SEEN_DEAD; /* not routed there */

		if (t->dest) {
			for (k = 0; k < ms[i]->n_dlv; k++)
				if (!strcmp(ms[i]->dlv[k].dest, t->dest) &&
				    ms[i]->audited && ms[i]->audited[k] >= 0)
					*aidx = ms[i]->audited[k];
			for (k = 0; k < ms[i]->n_dlv; k++)
				if (!strcmp(ms[i]->dlv[k].dest, t->dest))
					one = verified_k(ms[i], k)
						      ? GW_SEEN_VERIFIED
					      : ms[i]->dlv[k].state == 2
						      ? GW_SEEN_DEAD
						      : GW_SEEN_SENT;
		} else {
			const json_t *rc =
				json_object_get(ms[i]->msg, "receivers");

			for (k = 0; k < json_array_size(rc); k++)
				if (!strcmp(jstr(json_array_get(rc, k), "orgId")
						    ?: "",
					    t->orgid))
					one = seen_msg(ms[i]);
		}
		s = better(s, one);
	}
	return s;
}

static const char *seen_name(enum gw_obl_seen s)
{
	static const char *const n[] = { "nothing", "sent", "delivered",
					 "never delivered" };

	return n[s];
}

static long today_vn(void)
{
	return (long)((gw_now_ms() / 1000 + 7 * 3600) / 86400);
}

json_t *gw_calendar_item(const struct gw_calendar *c, size_t oi,
			 const struct gw_period *p, long due, long today)
{
	const struct gw_obligation *o = c->obl[oi];
	struct cmsg **ms = NULL;
	enum gw_obl_seen *seen;
	size_t i, n = 0, k = o->n_to ? o->n_to : 1;
	json_t *it, *msgs = json_array(), *to = json_array(), *lead;
	enum gw_obl_status st;
	char d[11], rule[128];
	long first = 0;

	if (today == 0)
		today = today_vn();
	seen = gw_calloc(k, sizeof(*seen));
	if (c->msgs)
		ms = gw_calloc(c->msgs->n + 1, sizeof(*ms));
	for (i = 0; ms && i < c->msgs->n; i++)
		if (matches(o, p, due, &c->msgs->m[i])) {
			ms[n++] = &c->msgs->m[i];
			if (!first || c->msgs->m[i].day < first)
				first = c->msgs->m[i].day;
			json_array_append_new(msgs,
					      json_string(c->msgs->m[i].id));
		}
	for (i = 0; seen && i < o->n_to; i++) {
		int64_t aidx;
		json_t *r;

		seen[i] = seen_by(&o->to[i], ms, n, &aidx);
		r = json_pack("{s:s,s:s}", "name", o->to[i].name, "state",
			      seen_name(seen[i]));
		/* the audit entry proving the receipt (audit prove) */
		if (r && aidx >= 0)
			json_object_set_new(r, "auditEntry",
					    json_integer((json_int_t)aidx));
		json_array_append_new(to, r);
	}
	if (seen && !o->n_to && n) {
		seen[0] = GW_SEEN_NONE;
		for (i = 0; i < n; i++)
			seen[0] = better(seen[0], seen_msg(ms[i]));
	}
	st = seen ? gw_obl_status_of(o, seen, o->n_to, due, today, c->soon_days)
		  : GW_OBL_NOT_DUE;
	gw_date_fmt(due, d);
	gw_obligation_describe(o, rule, sizeof(rule));
	lead = json_array();
	for (i = 0; i < o->n_lead; i++)
		json_array_append_new(lead, json_string(o->lead[i]));
	it = json_pack("{s:s, s:s*, s:s, s:s*, s:o, s:s, s:s*, s:s, s:s, s:s,"
		       " s:s, s:o, s:o, s:{s:s, s:s*, s:s*}, s:s, s:I}",
		       "obligation", o->id, "title", o->title, "unit", o->unit,
		       "unitOrgId", o->unit_orgid, "leadUnits", lead, "kind",
		       o->kind, "task", o->task, "rule",
		       gw_obligation_rule_name(o->rule), "deadline", rule,
		       "period", p->label, "due", d, "to", to, "messages", msgs,
		       "source", "document", o->src_doc, "ref", o->src_ref,
		       "basis", o->basis, "file", o->file, "line",
		       (json_int_t)o->line);
	if (it) {
		json_object_set_new(it, "status",
				    json_string(gw_obl_status_name(st)));
		if (n && first > due)
			json_object_set_new(it, "sentLate", json_true());
		if (o->rule == GW_RULE_ADHOC) {
			json_object_del(it, "due");
			json_object_del(it, "period");
		}
		if (c->conflict_of && c->conflict_of[oi])
			json_object_set_new(
				it, "conflictWith",
				json_string(
					c->obl[c->conflict_of[oi] - 1]->id));
	}
	free(seen);
	free(ms);
	return it;
}

static int unit_filter(const struct gw_calendar *c,
		       const struct gw_obligation *o, const char *u)
{
	const char *org = NULL, *nm = NULL;
	size_t i;

	if (unit_find(c->units, u, &org, &nm) == 0 && o->unit_orgid &&
	    !strcmp(org, o->unit_orgid))
		return 1;
	if (folded_eq(o->unit, u))
		return 1;
	for (i = 0; i < o->n_lead; i++)
		if (folded_eq(o->lead[i], u) ||
		    (org && unit_find(c->units, o->lead[i], &org, &nm) == 0 &&
		     folded_eq(nm, u)))
			return 1;
	return 0;
}

static int by_due(const void *a, const void *b)
{
	const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	int r = strcmp(jstr(x, "due") ?: "", jstr(y, "due") ?: "");

	return r ? r : strcmp(jstr(x, "obligation"), jstr(y, "obligation"));
}

json_t *gw_calendar_list(const struct gw_calendar *c,
			 const struct gw_cal_filter *f, long today)
{
	json_t *out = json_array(), **v = NULL;
	size_t i, j, n = 0, cap = 0;

	for (i = 0; out && i < c->n; i++) {
		const struct gw_obligation *o = c->obl[i];
		struct gw_period p;
		int guard;

		if (f->unit && !unit_filter(c, o, f->unit))
			continue;
		if (f->dest) {
			for (j = 0;
			     j < o->n_to && strcmp(o->to[j].name, f->dest); j++)
				;
			if (j == o->n_to)
				continue;
		}
		if (o->rule == GW_RULE_ADHOC)
			continue;
		if (o->rule == GW_RULE_DATE) {
			p = o->fixed;
		} else {
			gw_period_at(gw_obligation_unit(o), f->from, &p);
			gw_period_at(p.unit, p.start - 1, &p);
		}
		for (guard = 0; guard < 2000; guard++) {
			long due;

			if (gw_obligation_due(o, &p, &due) == 0 &&
			    due >= f->from && due <= f->to) {
				json_t *it =
					gw_calendar_item(c, i, &p, due, today);
				const char *st = jstr(it, "status") ?: "";

				if (it &&
				    (!f->late_only || !strcmp(st, "late") ||
				     !strcmp(st, "missing"))) {
					if (n == cap) {
						void *q = gw_realloc(
							v, (cap = cap ? cap * 2
								      : 32) *
								   sizeof(*v));
						if (!q) {
							json_decref(it);
							break;
						}
						v = q;
					}
					v[n++] = it;
				} else {
					json_decref(it);
				}
			}
			if (o->rule == GW_RULE_DATE || p.start > f->to)
				break;
			gw_period_next(&p, &p);
		}
	}
	if (v)
		qsort(v, n, sizeof(*v), by_due);
	for (i = 0; i < n; i++)
		json_array_append_new(out, v[i]);
	free(v);
	return out;
}

/* ---- reminders ---- */

/* Run the reminder command with the reminder (JSON) on its standard
 * input; "ok" or "failed: why" into outcome. */
static void run_command(char *const *argv, const char *json, char *outcome,
			size_t n)
{
	posix_spawn_file_actions_t fa;
	sigset_t pipe_set, old_set;
	int fd[2], status = 0;
	pid_t pid;
	size_t len = strlen(json), off = 0;

	if (pipe(fd)) {
		snprintf(outcome, n, "failed: pipe: %s", strerror(errno));
		return;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fd[0], 0);
	posix_spawn_file_actions_addclose(&fa, fd[1]);
	if ((errno = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ))) {
		snprintf(outcome, n, "failed: cannot run '%s': %s", argv[0],
			 strerror(errno));
		posix_spawn_file_actions_destroy(&fa);
		close(fd[0]);
		close(fd[1]);
		return;
	}
	posix_spawn_file_actions_destroy(&fa);
	close(fd[0]);
	/* a command that exits without reading its input must not kill us
	 * with SIGPIPE: blocked in this thread while writing, and one that
	 * became pending taken back before unblocking */
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old_set);
	while (off < len) {
		ssize_t w = write(fd[1], json + off, len - off);

		if (w <= 0 && errno != EINTR)
			break;
		if (w > 0)
			off += (size_t)w;
	}
	close(fd[1]);
	{
		struct timespec zero = { 0, 0 };

		while (sigtimedwait(&pipe_set, NULL, &zero) == SIGPIPE)
			;
	}
	pthread_sigmask(SIG_SETMASK, &old_set, NULL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		snprintf(outcome, n, "ok");
	else if (WIFEXITED(status))
		snprintf(outcome, n, "failed: '%s' exited %d", argv[0],
			 WEXITSTATUS(status));
	else
		snprintf(outcome, n, "failed: '%s' killed by signal %d",
			 argv[0], WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

static gw_rc remind_one(struct gw_calendar *c, struct gw_calstore *s,
			struct gw_audit *audit, json_t *it, const char *stage,
			FILE *out, int *fired, struct gw_err *err)
{
	const char *id = jstr(it, "obligation"), *per = jstr(it, "period");
	char outcome[300], *json;
	int claimed = 0;
	gw_rc rc;

	if ((rc = s->ops->claim(s, id, per, stage, gw_now_ms(), &claimed,
				err)) ||
	    !claimed)
		return rc;
	json_object_set_new(it, "reminder", json_string(stage));
	json = json_dumps(it, JSON_COMPACT | JSON_SORT_KEYS);
	if (!json)
		snprintf(outcome, sizeof(outcome), "failed: out of memory");
	else if (c->remind_cmd && c->remind_cmd[0])
		run_command(c->remind_cmd, json, outcome, sizeof(outcome));
	else
		snprintf(outcome, sizeof(outcome),
			 "ok (no command configured)");
	free(json);
	rc = s->ops->done(s, id, per, stage, outcome, err);
	(*fired)++;
	if (out)
		fprintf(out, "reminder %s %s %s (due %s): %s\n", stage, id, per,
			jstr(it, "due"), outcome);
	{
		char reason[600];

		snprintf(reason, sizeof(reason),
			 "reminder %s: obligation '%s', period %s, due %s",
			 stage, id, per, jstr(it, "due"));
		gw_audit_note(audit,
			      &(struct gw_audit_entry){
				      .msg_id = id,
				      .kind = "reminder",
				      .msg_kind = jstr(it, "kind"),
				      .sender = jstr(it, "unitOrgId"),
				      .receiver = stage,
				      .direction = "out",
				      .outcome = strncmp(outcome, "ok", 2)
							 ? "failed"
							 : "ok",
				      .reason = reason },
			      NULL, 0);
	}
	return rc;
}

gw_rc gw_calendar_remind(struct gw_calendar *c, struct gw_calstore *s,
			 struct gw_audit *audit, long today, FILE *out,
			 int *fired, struct gw_err *err)
{
	gw_rc rc = GW_OK;
	size_t i;

	*fired = 0;
	if (!today)
		today = today_vn();
	for (i = 0; i < c->n && !rc; i++) {
		const struct gw_obligation *o = c->obl[i];
		int days =
			o->remind_days >= 0 ? o->remind_days : c->remind_days;
		struct gw_period p, q;
		long due;
		json_t *it;

		if (o->rule == GW_RULE_ADHOC)
			continue;
		/* due within the window and nothing sent */
		if (gw_obligation_next(o, today, &p, &due) == 0 &&
		    due - today <= days) {
			it = gw_calendar_item(c, i, &p, due, today);
			if (it && (!strcmp(jstr(it, "status"), "due-soon") ||
				   !strcmp(jstr(it, "status"), "not-due")))
				rc = remind_one(c, s, audit, it, "due-soon",
						out, fired, err);
			json_decref(it);
		}
		/* the latest period past its deadline, still late */
		if (rc ||
		    gw_obligation_next(o, today - c->lookback_days, &q, &due))
			continue;
		it = NULL;
		while (due < today) {
			p = q;
			json_decref(it);
			it = gw_calendar_item(c, i, &p, due, today);
			if (o->rule == GW_RULE_DATE)
				break;
			gw_period_next(&q, &q);
			if (gw_obligation_due(o, &q, &due))
				break;
		}
		if (it && (!strcmp(jstr(it, "status"), "late") ||
			   !strcmp(jstr(it, "status"), "missing")))
			rc = remind_one(c, s, audit, it, "late", out, fired,
					err);
		json_decref(it);
	}
	return rc;
}

gw_rc gw_calendar_remind_conf(const char *conf_path, long today, FILE *out,
			      int *fired, int *every_s, struct gw_err *err)
{
	struct gw_runtime *rt = NULL;
	struct gw_calendar *c = NULL;
	struct gw_calstore *s = NULL;
	struct gw_buf cal, ob;
	gw_rc rc;

	*fired = 0;
	*every_s = 0;
	gw_buf_init(&cal);
	gw_buf_init(&ob);
	if ((rc = gw_runtime_new(conf_path, GW_RT_OUTBOX | GW_RT_AUDIT, 0, NULL,
				 NULL, &rt, NULL, err)))
		goto out;
	if (!gw_config_get(rt->cfg, "/obligations/reminders"))
		goto out; /* no reminders configured */
	if ((rc = gw_calendar_load(rt->cfg, gw_schema_dir(), NULL, 0, NULL,
				   NULL, &c, err)))
		goto out;
	*every_s = c->remind_every_s;
	if (gw_buf_addf(&cal, "%s/calendar.db", rt->data_dir) ||
	    gw_buf_addf(&ob, "%s/outbox.db", rt->data_dir)) {
		rc = gw_err_set(err, GW_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (!(rc = gw_calstore_open_sqlite(cal.data, ob.data, &s, err)) &&
	    !(rc = gw_calendar_read(c, s, rt->audit, err)))
		rc = gw_calendar_remind(c, s, rt->audit, today, out, fired,
					err);
out:
	gw_calstore_close(s);
	gw_calendar_free(c);
	gw_runtime_free(rt);
	gw_buf_release(&cal);
	gw_buf_release(&ob);
	return rc;
}
