/*
 * adapter.c - the adapter registry and loader, and the host API table the
 * core hands to adapters (see adapter.h).
 *
 * Built-in adapters (adapters/NAME/) are listed in builtins[] and
 * registered when a registry is made; out-of-tree adapters are shared
 * objects of the configured adapter folder, loaded with dlopen and checked
 * before registering: the entry symbol exists, the ABI version matches,
 * the struct is at least as long as version 1 and names its members, and
 * no adapter of that name is registered yet. A refused adapter is
 * reported and skipped; the others still load.
 */
#define GW_CORE
#include "adapt/adapter.h"

#include <dirent.h>
#include <dlfcn.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/common.h"
#include "base/log.h"
#include "adapt/mapping.h"
#include "base/normalize.h"
#include "model/validate.h"

extern const struct gw_adapter gw_adapter_plan_tables;
extern const struct gw_adapter gw_adapter_csv;
extern const struct gw_adapter gw_adapter_sqlite;
extern const struct gw_adapter gw_adapter_edxml;
extern const struct gw_adapter gw_adapter_sdmx_ml;
extern const struct gw_adapter gw_adapter_sdmx_json;
extern const struct gw_adapter gw_adapter_report_packet;
extern const struct gw_adapter gw_adapter_report_packet_json;

static const struct gw_adapter *const builtins[] = {
	&gw_adapter_plan_tables,   &gw_adapter_csv,
	&gw_adapter_sqlite,	   &gw_adapter_edxml,
	&gw_adapter_sdmx_ml,	   &gw_adapter_sdmx_json,
	&gw_adapter_report_packet, &gw_adapter_report_packet_json,
};

/* The end of the version-1 members: a struct shorter than this is refused. */
#define GW_ADAPTER_V1_SIZE \
	(offsetof(struct gw_adapter, fini) + sizeof(void (*)(void *)))

struct entry {
	const struct gw_adapter *a;
	void *handle; /* dlopen handle, NULL for built-ins */
	void *state;
	int inited;
};

struct gw_adapter_registry {
	struct entry *v;
	size_t n;
};

gw_rc gw_adapter_register(struct gw_adapter_registry *r,
			  const struct gw_adapter *a, const char *origin,
			  struct gw_err *err)
{
	struct entry *nv;
	size_t i;

	if (!a)
		return gw_err_set(err, GW_ERR_REFUSED,
				  "%s: adapter entry returned no adapter",
				  origin);
	if (a->abi_version != GW_ADAPTER_ABI_VERSION)
		return gw_err_set(err, GW_ERR_REFUSED,
				  "%s: adapter ABI version %u, this gateway "
				  "speaks %u",
				  origin, (unsigned)a->abi_version,
				  GW_ADAPTER_ABI_VERSION);
	if (a->size < GW_ADAPTER_V1_SIZE)
		return gw_err_set(err, GW_ERR_REFUSED,
				  "%s: adapter struct of %u bytes is shorter "
				  "than version 1 (%zu)",
				  origin, (unsigned)a->size,
				  GW_ADAPTER_V1_SIZE);
	if (!a->name || !*a->name ||
	    strspn(a->name, "abcdefghijklmnopqrstuvwxyz"
			    "0123456789-") != strlen(a->name))
		return gw_err_set(err, GW_ERR_REFUSED,
				  "%s: adapter name missing or not [a-z0-9-]",
				  origin);
	if (!a->run && !GW_ADAPTER_HAS_FORMAT(a))
		return gw_err_set(err, GW_ERR_REFUSED,
				  "%s: adapter '%s' has no run function "
				  "and no format side",
				  origin, a->name);
	for (i = 0; i < r->n; i++)
		if (strcmp(r->v[i].a->name, a->name) == 0)
			return gw_err_set(err, GW_ERR_REFUSED,
					  "%s: duplicate adapter name '%s'",
					  origin, a->name);
	nv = gw_realloc(r->v, (r->n + 1) * sizeof(*nv));
	if (!nv)
		return gw_err_set(err, GW_ERR_NOMEM, "%s: out of memory",
				  origin);
	r->v = nv;
	memset(&r->v[r->n], 0, sizeof(r->v[r->n]));
	r->v[r->n++].a = a;
	return GW_OK;
}

gw_rc gw_adapter_registry_new(struct gw_adapter_registry **out,
			      struct gw_err *err)
{
	struct gw_adapter_registry *r = gw_calloc(1, sizeof(*r));
	gw_rc rc;
	size_t i;

	if (!r)
		return gw_err_set(err, GW_ERR_NOMEM, "adapters: out of memory");
	for (i = 0; i < GW_ARRAY_LEN(builtins); i++) {
		if ((rc = gw_adapter_register(r, builtins[i], "built-in",
					      err))) {
			gw_adapter_registry_free(r);
			return rc;
		}
	}
	*out = r;
	return GW_OK;
}

void gw_adapter_registry_free(struct gw_adapter_registry *r)
{
	size_t i;

	if (!r)
		return;
	for (i = r->n; i-- > 0;) {
		if (r->v[i].inited && r->v[i].a->fini)
			r->v[i].a->fini(r->v[i].state);
		if (r->v[i].handle)
			dlclose(r->v[i].handle);
	}
	free(r->v);
	free(r);
}

gw_rc gw_adapter_load_file(struct gw_adapter_registry *r, const char *dir,
			   const char *path, struct gw_err *err)
{
	char rdir[PATH_MAX], rpath[PATH_MAX];
	gw_adapter_entry_fn entry;
	void *handle, *sym;
	size_t n;
	gw_rc rc;

	if (!realpath(dir, rdir))
		return gw_err_set(err, GW_ERR_IO,
				  "%s: adapter folder not found", dir);
	if (!realpath(path, rpath))
		return gw_err_set(err, GW_ERR_IO, "%s: adapter not found",
				  path);
	n = strlen(rdir);
	if (strncmp(rpath, rdir, n) != 0 || rpath[n] != '/')
		return gw_err_set(err, GW_ERR_REFUSED,
				  "%s: adapter outside the adapter folder %s",
				  path, dir);
	handle = dlopen(rpath, RTLD_NOW | RTLD_LOCAL);
	if (!handle)
		return gw_err_set(err, GW_ERR_REFUSED, "%s: cannot load: %s",
				  path, dlerror());
	sym = dlsym(handle, GW_ADAPTER_ENTRY);
	if (!sym) {
		dlclose(handle);
		return gw_err_set(err, GW_ERR_REFUSED, "%s: missing symbol %s",
				  path, GW_ADAPTER_ENTRY);
	}
	memcpy(&entry, &sym, sizeof(entry));
	if ((rc = gw_adapter_register(r, entry(), path, err))) {
		dlclose(handle);
		return rc;
	}
	r->v[r->n - 1].handle = handle;
	return GW_OK;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

gw_rc gw_adapter_load_dir(struct gw_adapter_registry *r, const char *dir,
			  gw_adapter_report_cb cb, void *arg,
			  struct gw_err *err)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **names = NULL, **nn;
	size_t n = 0, i;
	gw_rc rc = GW_OK;

	if (!d)
		return gw_err_set(err, GW_ERR_IO,
				  "%s: cannot read the adapter folder", dir);
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);

		if (l < 4 || strcmp(de->d_name + l - 3, ".so") != 0)
			continue;
		nn = gw_realloc(names, (n + 1) * sizeof(*names));
		if (!nn || !(nn[n] = gw_strdup(de->d_name))) {
			names = nn ? nn : names;
			rc = gw_err_set(err, GW_ERR_NOMEM, "%s: out of memory",
					dir);
			break;
		}
		names = nn;
		n++;
	}
	closedir(d);
	if (names)
		qsort(names, n, sizeof(*names), by_name); /* stable order */
	for (i = 0; rc == GW_OK && i < n; i++) {
		struct gw_buf path;
		struct gw_err e;

		gw_buf_init(&path);
		gw_err_clear(&e);
		if (gw_buf_addf(&path, "%s/%s", dir, names[i]) ||
		    gw_adapter_load_file(r, dir, path.data, &e)) {
			if (e.rc == GW_ERR_NOMEM)
				rc = gw_err_set(err, GW_ERR_NOMEM, "%s", e.msg);
			else if (cb)
				cb(arg, e.msg);
		}
		gw_buf_release(&path);
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

const struct gw_adapter *gw_adapter_find(const struct gw_adapter_registry *r,
					 const char *name)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (strcmp(r->v[i].a->name, name) == 0)
			return r->v[i].a;
	return NULL;
}

size_t gw_adapter_count(const struct gw_adapter_registry *r)
{
	return r->n;
}

const struct gw_adapter *gw_adapter_at(const struct gw_adapter_registry *r,
				       size_t i)
{
	return i < r->n ? r->v[i].a : NULL;
}

/* The entry named name, initialized once. */
static gw_rc entry_ready(struct gw_adapter_registry *r, const char *name,
			 struct entry **out, struct gw_err *err)
{
	struct entry *e = NULL;
	size_t i;

	for (i = 0; i < r->n && !e; i++)
		if (strcmp(r->v[i].a->name, name) == 0)
			e = &r->v[i];
	if (!e)
		return gw_err_set(err, GW_ERR_USAGE, "no adapter named '%s'",
				  name);
	if (!e->inited) {
		if (e->a->init && e->a->init(gw_adapter_host(), &e->state))
			return gw_err_set(err, GW_ERR_INTERNAL,
					  "adapter '%s': init failed", name);
		e->inited = 1;
	}
	*out = e;
	return GW_OK;
}

gw_rc gw_adapter_open(struct gw_adapter_registry *r, const char *name,
		      const struct gw_adapter **a, void **state,
		      struct gw_err *err)
{
	struct entry *e;
	gw_rc rc;

	if ((rc = entry_ready(r, name, &e, err)))
		return rc;
	*a = e->a;
	*state = e->state;
	return GW_OK;
}

gw_rc gw_adapter_run(struct gw_adapter_registry *r, const char *name,
		     struct gw_adapter_job *job, struct gw_err *err)
{
	struct entry *e = NULL;
	gw_rc rc;

	if ((rc = entry_ready(r, name, &e, err)))
		return rc;
	if (!e->a->run)
		return gw_err_set(err, GW_ERR_USAGE,
				  "adapter '%s' is a format adapter, not a "
				  "source adapter (use convert)",
				  name);
	if (e->a->run(e->state, job))
		return job->error[0] ? gw_err_set(err,
						  job->error_rc ? job->error_rc
								: GW_ERR_IO,
						  "%s", job->error)
				     : gw_err_set(err, GW_ERR_IO,
						  "adapter '%s': %s: failed",
						  name, job->input);
	return GW_OK;
}

/* --- the host table ------------------------------------------------------- */

static void host_log(enum gw_adapter_log_level lvl, const char *adapter,
		     const char *fmt, ...)
{
	static const enum gw_log_level map[] = { GW_LOG_DEBUG, GW_LOG_INFO,
						 GW_LOG_WARN, GW_LOG_ERROR };
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	gw_log(map[(unsigned)lvl < 4 ? lvl : 3], "adapter", NULL, "%s: %s",
	       adapter ? adapter : "?", line);
}

static void host_free(void *p)
{
	free(p);
}

static const char *host_input(const struct gw_adapter_job *job)
{
	return job->input;
}

static const char *host_mapping(const struct gw_adapter_job *job)
{
	return job->mapping;
}

static void host_sender(const struct gw_adapter_job *job, const char **id,
			const char **name)
{
	*id = job->sender_id;
	*name = job->sender_name;
}

static int host_emit(struct gw_adapter_job *job, const char *kind,
		     const char *key, const char *date, json_t *payload)
{
	if (!payload)
		return -1;
	return job->emit(job->arg, kind, key, date, payload);
}

static void host_unmapped(struct gw_adapter_job *job, const char *where,
			  const char *reason)
{
	job->unmapped(job->arg, where, reason);
}

static int host_timeline(const char *raw, struct gw_adapter_timeline *out)
{
	struct gw_timeline t;
	int rc = gw_norm_timeline(raw, &t);

	memcpy(out->kind, t.kind, sizeof(out->kind));
	memcpy(out->start, t.start, sizeof(out->start));
	memcpy(out->end, t.end, sizeof(out->end));
	memcpy(out->due, t.due, sizeof(out->due));
	return rc;
}

/* The mapping engine for adapters: a thin shell over mapping.h that
 * reports to the job instead of returning gw_err. */
struct gw_adapter_mapping {
	struct gw_mapping *m;
};

static void host_fail(struct gw_adapter_job *job, const char *fmt, ...)
{
	va_list ap;

	if (job->error[0])
		return; /* the first reason is the one that matters */
	va_start(ap, fmt);
	vsnprintf(job->error, sizeof(job->error), fmt, ap);
	va_end(ap);
}

static void host_progress(struct gw_adapter_job *job, uint64_t done,
			  uint64_t total)
{
	if (job->progress)
		job->progress(job->arg, done, total);
}

static void report_problem(void *arg, gw_rc rc, const char *line)
{
	struct gw_adapter_job *job = arg;

	if (job->problem)
		job->problem(job->arg, line);
}

static struct gw_adapter_mapping *host_mapping_open(struct gw_adapter_job *job)
{
	struct gw_adapter_mapping *am;
	struct gw_err err;

	if (!job->mapping) {
		host_fail(job,
			  "%s: this adapter needs a mapping file "
			  "(--mapping FILE, see docs/ADAPTERS.md)",
			  job->input);
		job->error_rc = GW_ERR_USAGE;
		return NULL;
	}
	if (!(am = gw_calloc(1, sizeof(*am)))) {
		host_fail(job, "out of memory");
		return NULL;
	}
	gw_err_clear(&err);
	if (gw_mapping_load(job->mapping, gw_schema_dir(), report_problem, job,
			    &am->m, &err)) {
		host_fail(job, "%s", err.msg);
		if (err.rc == GW_ERR_CONFIG) {
			job->error_rc = GW_ERR_SCHEMA; /* invalid input: 1 */
			job->error_reported = 1; /* each line went to problem */
		}
		free(am);
		return NULL;
	}
	return am;
}

static const char *host_mapping_option(const struct gw_adapter_mapping *am,
				       const char *ptr)
{
	return gw_mapping_option(am->m, ptr);
}

static const char *host_mapping_require(const struct gw_adapter_mapping *am,
					struct gw_adapter_job *job,
					const char *ptr, const char *hint)
{
	struct gw_err err;
	const char *v;

	gw_err_clear(&err);
	if (gw_mapping_require(am->m, ptr, hint, &v, &err)) {
		host_fail(job, "%s", err.msg);
		job->error_rc = err.rc; /* GW_ERR_SCHEMA: invalid input, 1 */
		return NULL;
	}
	return v;
}

static int host_mapping_bind(struct gw_adapter_mapping *am,
			     struct gw_adapter_job *job,
			     const char *const *names, size_t n)
{
	struct gw_err err;

	gw_err_clear(&err);
	if (gw_mapping_bind(am->m, job->input, names, n, &err)) {
		host_fail(job, "%s", err.msg);
		job->error_rc = err.rc;
		return -1;
	}
	return 0;
}

static int mapping_emit(void *arg, const char *key, const char *date,
			json_t *msg)
{
	struct gw_adapter_job *job = arg;

	if (job->emit_msg)
		return job->emit_msg(job->arg, key, date, msg);
	/* a host without envelope fields: the payload alone */
	{
		const char *kind =
			json_string_value(json_object_get(msg, "kind"));
		json_t *p = json_incref(json_object_get(msg, "payload"));
		int rc = job->emit(job->arg, kind ? kind : "", key, date, p);

		json_decref(msg);
		return rc;
	}
}

static int host_mapping_row(struct gw_adapter_mapping *am,
			    struct gw_adapter_job *job, const char *where,
			    const char *const *cells, size_t n)
{
	struct gw_err err;
	gw_rc rc;

	gw_err_clear(&err);
	rc = gw_mapping_row(am->m, where, cells, n, mapping_emit, job, &err);
	if (rc == GW_ERR_SCHEMA) {
		job->unmapped(job->arg, where, err.msg);
		return 0;
	}
	if (rc) {
		host_fail(job, "%s", err.msg);
		return -1;
	}
	return 0;
}

static int host_mapping_finish(struct gw_adapter_mapping *am,
			       struct gw_adapter_job *job)
{
	struct gw_err err;

	gw_err_clear(&err);
	if (gw_mapping_finish(am->m, mapping_emit, job, &err)) {
		host_fail(job, "%s", err.msg);
		return -1;
	}
	return 0;
}

static void host_mapping_close(struct gw_adapter_mapping *am)
{
	if (!am)
		return;
	gw_mapping_free(am->m);
	free(am);
}

static const struct gw_adapter_host host = {
	.abi_version = GW_ADAPTER_ABI_VERSION,
	.size = sizeof(struct gw_adapter_host),
	.log = host_log,
	.alloc = gw_malloc,
	.realloc = gw_realloc,
	.free = host_free,
	.job_input = host_input,
	.job_mapping = host_mapping,
	.job_sender = host_sender,
	.emit = host_emit,
	.unmapped = host_unmapped,
	.text = gw_norm_text,
	.fold = gw_norm_fold,
	.timeline = host_timeline,
	.period = gw_norm_period,
	.decimal = gw_norm_decimal,
	.date = gw_norm_date,
	.unit_names = gw_norm_unit_names,
	.mapping_open = host_mapping_open,
	.mapping_option = host_mapping_option,
	.mapping_bind = host_mapping_bind,
	.mapping_row = host_mapping_row,
	.mapping_finish = host_mapping_finish,
	.mapping_close = host_mapping_close,
	.fail = host_fail,
	.progress = host_progress,
	.mapping_require = host_mapping_require,
};

const struct gw_adapter_host *gw_adapter_host(void)
{
	return &host;
}
