/*
 * sync.c - schedules and the record half of scheduled sync (see sync.h).
 * The drop-folder half (files, by name and SHA-256) is in sync_folder.c.
 */
#define GW_CORE
#include "flow/sync.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapt/adapter.h"
#include "flow/import.h"
#include "model/config.h"
#include "store/outbox.h"
#include "crypto/digest.h"

/* --- schedules ----------------------------------------------------------- */

static gw_rc field(const char *f, const char *name, int lo, int hi,
		   uint64_t *bits, int *any, struct gw_err *err)
{
	const char *p = f;

	*bits = 0;
	*any = strcmp(f, "*") == 0;
	while (*p) {
		long a, b, step = 1;
		char *end;

		if (*p == '*') {
			a = lo;
			b = hi;
			p++;
		} else {
			if (!isdigit((unsigned char)*p))
				goto bad;
			a = strtol(p, &end, 10);
			p = end;
			b = a;
			if (*p == '-') {
				if (!isdigit((unsigned char)p[1]))
					goto bad;
				b = strtol(p + 1, &end, 10);
				p = end;
			}
		}
		if (*p == '/') {
			if (!isdigit((unsigned char)p[1]))
				goto bad;
			step = strtol(p + 1, &end, 10);
			p = end;
			if (step < 1 || step > hi)
				goto bad;
			if (a == b && f[0] != '*')
				b = hi; /* "5/15": from 5 on */
		}
		if (a < lo || b > hi || a > b)
			return gw_err_set(err, GW_ERR_CONFIG,
					  "schedule: %s field '%s': values go "
					  "from %d to %d",
					  name, f, lo, hi);
		for (; a <= b; a += step)
			*bits |= (uint64_t)1 << a;
		if (*p == ',')
			p++;
		else if (*p)
			goto bad;
	}
	if (*bits)
		return GW_OK;
bad:
	return gw_err_set(err, GW_ERR_CONFIG,
			  "schedule: %s field '%s' is not *, N, A-B, */STEP "
			  "or a list of them",
			  name, f);
}

gw_rc gw_sched_parse(const char *expr, struct gw_sched *s, struct gw_err *err)
{
	static const char *const names[5] = { "minute", "hour", "day-of-month",
					      "month", "day-of-week" };
	static const int lo[5] = { 0, 0, 1, 1, 0 },
			 hi[5] = { 59, 23, 31, 12, 7 };
	char f[5][64];
	uint64_t bits[5];
	int any[5], n, i;
	char extra[2];
	gw_rc rc;

	if (!strcmp(expr, "@hourly"))
		expr = "0 * * * *";
	else if (!strcmp(expr, "@daily") || !strcmp(expr, "@midnight"))
		expr = "0 0 * * *";
	else if (!strcmp(expr, "@weekly"))
		expr = "0 0 * * 0";
	else if (!strcmp(expr, "@monthly"))
		expr = "0 0 1 * *";
	n = sscanf(expr, "%63s %63s %63s %63s %63s %1s", f[0], f[1], f[2], f[3],
		   f[4], extra);
	if (n != 5)
		return gw_err_set(err, GW_ERR_CONFIG,
				  "schedule '%s': five fields are wanted "
				  "(minute hour day-of-month month "
				  "day-of-week), or @hourly, @daily, @weekly, "
				  "@monthly",
				  expr);
	for (i = 0; i < 5; i++)
		if ((rc = field(f[i], names[i], lo[i], hi[i], &bits[i], &any[i],
				err)))
			return rc;
	memset(s, 0, sizeof(*s));
	s->min = bits[0];
	s->hour = (uint32_t)bits[1];
	s->dom = (uint32_t)bits[2];
	s->mon = (uint32_t)bits[3];
	s->dow = (uint32_t)(bits[4] & 0x7f);
	if (bits[4] & (1u << 7))
		s->dow |= 1; /* 7 is Sunday too */
	s->dom_any = any[2];
	s->dow_any = any[4];
	return GW_OK;
}

static int day_ok(const struct gw_sched *s, const struct tm *tm)
{
	int d = (s->dom >> tm->tm_mday) & 1, w = (s->dow >> tm->tm_wday) & 1;

	if (s->dom_any && s->dow_any)
		return 1;
	if (s->dom_any)
		return w;
	if (s->dow_any)
		return d;
	return d || w;
}

time_t gw_sched_next(const struct gw_sched *s, time_t after)
{
	struct tm tm;
	time_t t = after - after % 60 + 60;
	int i, last_year;

	localtime_r(&t, &tm);
	tm.tm_sec = 0;
	last_year = tm.tm_year + 8;
	/* each step moves to the start of the next month, day, hour or
	 * minute: bounded by 8 years of months + days + hours + minutes */
	for (i = 0; i < 200000; i++) {
		tm.tm_isdst = -1;
		t = mktime(&tm);
		localtime_r(&t, &tm);
		if (tm.tm_year > last_year)
			break;
		if (!((s->mon >> (tm.tm_mon + 1)) & 1)) {
			tm.tm_mon++;
			tm.tm_mday = 1;
			tm.tm_hour = 0;
			tm.tm_min = 0;
			continue;
		}
		if (!day_ok(s, &tm)) {
			tm.tm_mday++;
			tm.tm_hour = 0;
			tm.tm_min = 0;
			continue;
		}
		if (!((s->hour >> tm.tm_hour) & 1)) {
			tm.tm_hour++;
			tm.tm_min = 0;
			continue;
		}
		if (!((s->min >> tm.tm_min) & 1)) {
			tm.tm_min++;
			continue;
		}
		return t;
	}
	return (time_t)-1;
}

/* --- one pass over a record source ---------------------------------------*/

struct pass {
	struct gw_outbox *o;
	const char *name;
	json_t *sender, *receivers;
	const char *classification;
	/* the batch to send */
	char **names, **bufs, **keys, (*digests)[65], (*ids)[37];
	size_t *lens;
	size_t n, cap;
	/* stored already (a pass cut off before recording its digests) */
	char **keys_done, (*digests_done)[65], (*ids_done)[37];
	size_t ndone, capdone;
	size_t records, fresh, changed, unchanged, unmapped;
	int io_error;
};

static int add_done(struct pass *ps, const char *key, const char *digest,
		    const char *id)
{
	if (ps->ndone == ps->capdone) {
		size_t nc = ps->capdone ? ps->capdone * 2 : 64;
		void *a =
			gw_realloc(ps->keys_done, nc * sizeof(*ps->keys_done));

		if (a)
			ps->keys_done = a;
		a = a ? gw_realloc(ps->digests_done,
				   nc * sizeof(*ps->digests_done))
		      : NULL;
		if (a)
			ps->digests_done = a;
		a = a ? gw_realloc(ps->ids_done, nc * sizeof(*ps->ids_done))
		      : NULL;
		if (!a)
			return -1;
		ps->ids_done = a;
		ps->capdone = nc;
	}
	if (!(ps->keys_done[ps->ndone] = gw_strdup(key)))
		return -1;
	memcpy(ps->digests_done[ps->ndone], digest, 65);
	memcpy(ps->ids_done[ps->ndone++], id, 37);
	return 0;
}

static int add_batch(struct pass *ps, const char *key, const char *digest,
		     const char *id, char *buf, size_t len)
{
	size_t i;
	struct gw_buf nm;

	if (ps->n == ps->cap) {
		size_t nc = ps->cap ? ps->cap * 2 : 64;
		void *a = gw_realloc(ps->names, nc * sizeof(*ps->names));

		if (a)
			ps->names = a;
		a = a ? gw_realloc(ps->bufs, nc * sizeof(*ps->bufs)) : NULL;
		if (a)
			ps->bufs = a;
		a = a ? gw_realloc(ps->keys, nc * sizeof(*ps->keys)) : NULL;
		if (a)
			ps->keys = a;
		a = a ? gw_realloc(ps->digests, nc * sizeof(*ps->digests))
		      : NULL;
		if (a)
			ps->digests = a;
		a = a ? gw_realloc(ps->ids, nc * sizeof(*ps->ids)) : NULL;
		if (a)
			ps->ids = a;
		a = a ? gw_realloc(ps->lens, nc * sizeof(*ps->lens)) : NULL;
		if (a)
			ps->lens = a;
		if (!a)
			return -1;
		ps->cap = nc;
	}
	gw_buf_init(&nm);
	if (gw_buf_addf(&nm, "source '%s' record '%s'", ps->name, key))
		return -1;
	i = ps->n;
	ps->names[i] = gw_buf_detach(&nm, NULL);
	ps->keys[i] = gw_strdup(key);
	if (!ps->names[i] || !ps->keys[i]) {
		free(ps->names[i]);
		free(ps->keys[i]);
		return -1;
	}
	memcpy(ps->digests[i], digest, 65);
	memcpy(ps->ids[i], id, 37);
	ps->bufs[i] = buf;
	ps->lens[i] = len;
	ps->n++;
	return 0;
}

static int pass_emit(void *arg, const char *key, const char *date,
		     json_t *partial)
{
	struct pass *ps = arg;
	const char *kind = json_string_value(json_object_get(partial, "kind"));
	char *canon = NULL, *buf = NULL, last[65], last_id[37], digest[65],
	     id[37], created[32];
	struct gw_buf idname;
	struct gw_err err;
	json_t *msg = NULL;
	int has = 0, rc = -1;

	gw_buf_init(&idname);
	gw_err_clear(&err);
	ps->records++;
	if (!kind || !key ||
	    !(canon = json_dumps(partial, JSON_SORT_KEYS | JSON_COMPACT)))
		goto out;
	gw_sha256_hex(canon, strlen(canon), digest);
	if (gw_outbox_sync_last(ps->o, ps->name, key, last, last_id, &err)) {
		fprintf(stderr, "lienthong sync: %s\n", err.msg);
		ps->io_error = 1;
		goto out;
	}
	if (!strcmp(last, digest)) {
		ps->unchanged++;
		rc = 0;
		goto out;
	}
	if (last[0])
		ps->changed++;
	else
		ps->fresh++;
	/* the id is stable until this pass records the record (so a pass cut
	 * off before recording finds its message stored) and new after:
	 * it follows the message last sent for the record, so a record
	 * going back to an earlier content (A, B, A) is a new message */
	if (gw_buf_addf(&idname, "sync\n%s\n%s\n%s\n%s", ps->name, kind, key,
			digest) ||
	    (last_id[0] &&
	     gw_buf_addf(&idname, "\nafter message\n%s", last_id)) ||
	    (last[0] && !last_id[0] &&
	     gw_buf_addf(&idname, "\nafter digest\n%s", last)) ||
	    gw_import_make_id(idname.data, id))
		goto out;
	if (gw_outbox_has(ps->o, id, &has, &err)) {
		fprintf(stderr, "lienthong sync: %s\n", err.msg);
		ps->io_error = 1;
		goto out;
	}
	if (has) {
		rc = add_done(ps, key, digest, id);
		goto out;
	}
	gw_import_now(created);
	(void)date;
	if (!(msg = gw_import_complete(partial, ps->sender, ps->receivers,
				       ps->classification, id, created)) ||
	    !(buf = json_dumps(msg, JSON_COMPACT)))
		goto out;
	if (add_batch(ps, key, digest, id, buf, strlen(buf)))
		goto out;
	buf = NULL;
	rc = 0;
out:
	free(buf);
	free(canon);
	json_decref(msg);
	json_decref(partial);
	gw_buf_release(&idname);
	return rc;
}

static int pass_emit_payload(void *arg, const char *kind, const char *key,
			     const char *date, json_t *payload)
{
	json_t *partial =
		json_pack("{s:s, s:o}", "kind", kind, "payload", payload);

	return partial ? pass_emit(arg, key, date, partial) : -1;
}

static void pass_unmapped(void *arg, const char *where, const char *reason)
{
	struct pass *ps = arg;

	ps->unmapped++;
	fprintf(stderr, "lienthong sync: source '%s': %s: %s\n", ps->name,
		where, reason);
}

static void pass_problem(void *arg, const char *line)
{
	fprintf(stderr, "lienthong sync: %s\n", line);
}

int gw_sync_records(struct gw_config *cfg, struct gw_outbox *o,
		    const char *name, gw_sync_send_fn send, void *arg)
{
	struct gw_adapter_registry *reg = NULL;
	struct gw_adapter_job job;
	struct pass ps;
	struct gw_err err;
	char ptr[300], *input = NULL, *mapping = NULL;
	const char *adapter;
	int *queued = NULL, status = 0;
	size_t i;

	memset(&ps, 0, sizeof(ps));
	memset(&job, 0, sizeof(job));
	gw_err_clear(&err);
	ps.o = o;
	ps.name = name;
	snprintf(ptr, sizeof(ptr), "/sources/%s/adapter", name);
	adapter = gw_config_str(cfg, ptr, "");
	snprintf(ptr, sizeof(ptr), "/sources/%s/path", name);
	input = gw_config_path(cfg, ptr);
	snprintf(ptr, sizeof(ptr), "/sources/%s/mapping", name);
	mapping = gw_config_path(cfg, ptr);
	if (!input || !mapping) {
		fprintf(stderr,
			"lienthong sync: source '%s': path and mapping are "
			"needed for the %s adapter\n",
			name, adapter);
		status = 1;
		goto out;
	}
	ps.sender = json_deep_copy(gw_config_get(cfg, "/gateway/organization"));
	if (!json_object_get(ps.sender, "orgId")) {
		json_decref(ps.sender);
		ps.sender = json_pack("{s:s, s:s}", "orgId", "000.00.00.G12",
				      "name", "Bộ Tài chính");
	}
	snprintf(ptr, sizeof(ptr), "/sources/%s/receivers", name);
	ps.receivers = json_deep_copy(gw_config_get(cfg, ptr));
	if (!json_array_size(ps.receivers)) {
		json_decref(ps.receivers);
		ps.receivers = json_pack(
			"[{s:s, s:s}]", "orgId", "000.00.00.G23", "name",
			"Hệ thống thông tin báo cáo Chính phủ");
	}
	snprintf(ptr, sizeof(ptr), "/sources/%s/classification", name);
	ps.classification = gw_config_str(cfg, ptr, "internal");
	if (!ps.sender || !ps.receivers ||
	    gw_adapter_registry_new(&reg, &err)) {
		fprintf(stderr, "lienthong sync: %s\n",
			err.msg[0] ? err.msg : "out of memory");
		status = 3;
		goto out;
	}
	job.input = input;
	job.mapping = mapping;
	job.sender_id = json_string_value(json_object_get(ps.sender, "orgId"));
	job.sender_name = json_string_value(json_object_get(ps.sender, "name"));
	job.emit = pass_emit_payload;
	job.emit_msg = pass_emit;
	job.unmapped = pass_unmapped;
	job.problem = pass_problem;
	job.arg = &ps;
	if (gw_adapter_run(reg, adapter, &job, &err)) {
		/* a source that cannot be read sends nothing this pass */
		fprintf(stderr, "lienthong sync: source '%s': %s\n", name,
			err.msg);
		status = err.rc == GW_ERR_USAGE ? 1 : gw_rc_exit(err.rc);
		goto out;
	}
	if (ps.n) {
		queued = gw_calloc(ps.n, sizeof(*queued));
		if (!queued) {
			status = 3;
			goto out;
		}
		status = send(arg, ps.names, ps.bufs, ps.lens, (int)ps.n,
			      queued);
	}
	/* digests only once their messages are durably queued */
	if (ps.n + ps.ndone) {
		gw_err_clear(&err);
		if (gw_outbox_begin(o, &err)) {
			fprintf(stderr, "lienthong sync: %s\n", err.msg);
			status = 3;
			goto out;
		}
		for (i = 0; i < ps.n && !err.rc; i++)
			if (queued[i])
				gw_outbox_sync_record(o, name, ps.keys[i],
						      ps.digests[i], ps.ids[i],
						      &err);
		for (i = 0; i < ps.ndone && !err.rc; i++)
			gw_outbox_sync_record(o, name, ps.keys_done[i],
					      ps.digests_done[i],
					      ps.ids_done[i], &err);
		if (!err.rc)
			gw_outbox_commit(o, &err);
		if (err.rc) {
			fprintf(stderr, "lienthong sync: %s\n", err.msg);
			status = 3;
		}
	}
	fprintf(stderr,
		"lienthong sync: source '%s': %zu records, %zu new, %zu "
		"changed, %zu unchanged, %zu rows not mapped\n",
		name, ps.records, ps.fresh, ps.changed, ps.unchanged,
		ps.unmapped);
	if (ps.io_error)
		status = 3;
	else if (ps.unmapped && status == 0)
		status = 1;
out:
	for (i = 0; i < ps.n; i++) {
		free(ps.names[i]);
		free(ps.bufs[i]);
		free(ps.keys[i]);
	}
	for (i = 0; i < ps.ndone; i++)
		free(ps.keys_done[i]);
	free(ps.names);
	free(ps.bufs);
	free(ps.keys);
	free(ps.digests);
	free(ps.ids);
	free(ps.lens);
	free(ps.keys_done);
	free(ps.digests_done);
	free(ps.ids_done);
	free(queued);
	json_decref(ps.sender);
	json_decref(ps.receivers);
	gw_adapter_registry_free(reg);
	free(input);
	free(mapping);
	return status;
}
