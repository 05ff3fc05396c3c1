/*
 * sync_folder.c - one pass over a configured source (flow/sync.h,
 * gw_sync_source): a drop folder, whose message files are sent when their
 * bytes differ from what was last sent for them, or a record source (csv,
 * sqlite; sync.c) whose new or changed records are sent.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/common.h"
#include "flow/send.h"
#include "flow/sync.h"
#include "model/config.h"
#include "store/outbox.h"
#include "crypto/digest.h"

static int has_suffix(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);

	return a >= b && strcmp(s + a - b, suf) == 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * One pass over one source: every message file of the folder whose bytes
 * differ from what was last sent for it (or that is new) is sent; the
 * digests of those that were queued are recorded. Returns the status.
 */
static int sync_folder(struct gw_config *cfg, struct gw_outbox *o,
		       const char *name, const char *dir,
		       struct gw_audit *audit)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **all = NULL, **todo = NULL, (*digests)[65] = NULL;
	size_t nall = 0, cap = 0, i, ntodo = 0, fresh = 0;
	int *queued = NULL, status = 0;
	struct gw_err err;

	if (!d) {
		fprintf(stderr,
			"lienthong sync: source '%s': cannot open '%s': %s\n",
			name, dir, strerror(errno));
		return 3;
	}
	while ((e = readdir(d))) {
		struct gw_buf p;

		if (e->d_name[0] == '.' || !(has_suffix(e->d_name, ".json") ||
					     has_suffix(e->d_name, ".xml")))
			continue;
		if (nall == cap) {
			char **n2 = gw_realloc(all, (cap = cap ? cap * 2 : 64) *
							    sizeof(*all));
			if (!n2)
				break;
			all = n2;
		}
		gw_buf_init(&p);
		gw_buf_addf(&p, "%s/%s", dir, e->d_name);
		all[nall++] = gw_buf_detach(&p, NULL);
	}
	closedir(d);
	if (nall)
		qsort(all, nall, sizeof(*all), cmp_str);
	todo = gw_calloc(nall + 1, sizeof(*todo));
	digests = gw_calloc(nall + 1, sizeof(*digests));
	queued = gw_calloc(nall + 1, sizeof(*queued));
	if (!todo || !digests || !queued) {
		status = 3;
		goto out;
	}
	for (i = 0; i < nall; i++) {
		char *buf = NULL, last[65];
		size_t len;
		const char *key = strrchr(all[i], '/') + 1;

		gw_err_clear(&err);
		if (gw_read_file(all[i], 64u << 20, &buf, &len, &err) ||
		    gw_outbox_sync_get(o, name, key, last, &err)) {
			fprintf(stderr, "%s\n", err.msg);
			free(buf);
			status = 3;
			continue;
		}
		gw_sha256_hex(buf, len, digests[ntodo]);
		free(buf);
		if (strcmp(last, digests[ntodo]) == 0)
			continue;
		fresh += !last[0];
		todo[ntodo++] = all[i];
	}
	if (ntodo) {
		int st = gw_send_files(cfg, o, todo, (int)ntodo, queued, audit);

		if (st > status)
			status = st;
	}
	for (i = 0; i < ntodo; i++) {
		if (!queued[i])
			continue;
		gw_err_clear(&err);
		if (gw_outbox_sync_put(o, name, strrchr(todo[i], '/') + 1,
				       digests[i], &err)) {
			fprintf(stderr, "lienthong sync: %s\n", err.msg);
			status = 3;
		}
	}
	fprintf(stderr,
		"lienthong sync: source '%s': %zu files, %zu new, %zu changed, "
		"%zu unchanged\n",
		name, nall, fresh, ntodo - fresh, nall - ntodo);
out:
	for (i = 0; i < nall; i++)
		free(all[i]);
	free(all);
	free(todo);
	free(digests);
	free(queued);
	return status;
}

struct send_ctx {
	struct gw_config *cfg;
	struct gw_outbox *o;
	struct gw_audit *audit;
};

static int send_batch(void *arg, char **names, char **bufs, size_t *lens, int n,
		      int *queued)
{
	struct send_ctx *sc = arg;

	return gw_send_buffers(sc->cfg, sc->o, names, bufs, lens, n, queued,
			       sc->audit);
}

int gw_sync_source(struct gw_config *cfg, struct gw_outbox *o, const char *name,
		   struct gw_audit *audit)
{
	struct send_ctx sc = { cfg, o, audit };
	char ptr[300];
	const char *adapter;
	char *dir;
	int st;

	snprintf(ptr, sizeof(ptr), "/sources/%s/adapter", name);
	adapter = gw_config_str(cfg, ptr, "folder");
	if (strcmp(adapter, "folder"))
		return gw_sync_records(cfg, o, name, send_batch, &sc);
	snprintf(ptr, sizeof(ptr), "/sources/%s/path", name);
	dir = gw_config_path(cfg, ptr);
	st = dir ? sync_folder(cfg, o, name, dir, audit) : 3;
	free(dir);
	return st;
}
