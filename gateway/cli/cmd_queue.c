/*
 * cmd_queue.c - send, queue and deliver.
 *
 * "send" reads each file, validates it (gateway/validate.c), routes it
 * (gateway/deliver.c) and enqueues all of them in one durable transaction;
 * only then does it print the message ids: an id printed is a message the
 * gateway will deliver. "deliver" drains the outbox; "queue" is for the
 * operator.
 */
#include "cli/cmd_queue.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audit/audit.h"
#include "flow/convert.h"
#include "flow/runtime.h"
#include "model/config.h"
#include "flow/deliver.h"
#include "adapt/format.h"
#include "base/log.h"
#include "base/xml.h"
#include "store/outbox.h"
#include "adapt/profile.h"
#include "crypto/sign.h"
#include "flow/sync.h"
#include "model/validate.h"

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
	stopping = sig;
}

static void print_line(void *arg, gw_rc rc, const char *line)
{
	fprintf(stderr, "%s\n", line);
}

/* Load the configuration and open the outbox in its data_dir. */
static int open_all(const char *cmd, const char *conf, struct gw_config **cfg,
		    struct gw_outbox **o)
{
	struct gw_err err;
	char *dir = NULL, path[4096];
	gw_rc rc;

	gw_err_clear(&err);
	*o = NULL;
	rc = gw_config_load(conf, gw_schema_dir(), print_line, NULL, cfg, &err);
	if (rc == GW_ERR_CONFIG)
		return 1;
	if (rc) {
		fprintf(stderr, "lienthong %s: %s\n", cmd, err.msg);
		return gw_rc_exit(rc);
	}
	dir = gw_config_get(*cfg, "/gateway/data_dir")
		      ? gw_config_path(*cfg, "/gateway/data_dir")
		      : gw_strdup("var");
	if (!dir || (mkdir(dir, 0750) < 0 && errno != EEXIST)) {
		fprintf(stderr,
			"lienthong %s: cannot create data folder '%s': %s\n",
			cmd, dir ? dir : "?", strerror(errno));
		free(dir);
		return 3;
	}
	snprintf(path, sizeof(path), "%s/outbox.db", dir);
	free(dir);
	if ((rc = gw_outbox_open_sqlite(path, o, &err))) {
		fprintf(stderr, "lienthong %s: %s\n", cmd, err.msg);
		return 3;
	}
	return 0;
}

static const char *conf_opt(int *argc, char ***argv)
{
	int i;

	for (i = 1; i + 1 < *argc; i++)
		if (!strcmp((*argv)[i], "-c") ||
		    !strcmp((*argv)[i], "--config")) {
			const char *c = (*argv)[i + 1];

			memmove(&(*argv)[i], &(*argv)[i + 2],
				(size_t)(*argc - i - 1) * sizeof(char *));
			*argc -= 2;
			return c;
		}
	return NULL;
}

/* One audit entry about an outgoing message (no-op without a log). */
static void note(struct gw_audit *a, const char *event, const json_t *msg,
		 const char *outcome, const char *reason, const char *receiver,
		 const char *signer, const char *digest, const void *payload,
		 size_t plen)
{
	gw_audit_note(
		a,
		&(struct gw_audit_entry){
			.msg_id = json_string_value(json_object_get(msg, "id")),
			.kind = event,
			.msg_kind =
				json_string_value(json_object_get(msg, "kind")),
			.sender = json_string_value(json_object_get(
				json_object_get(msg, "sender"), "orgId")),
			.receiver = receiver,
			.direction = "out",
			.outcome = outcome,
			.reason = reason,
			.digest = digest,
			.signer = signer },
		payload, plen);
}

/* Open the configured audit log (NULL when there is none) for a command;
 * returns the exit status. */
static int open_audit(const char *cmd, struct gw_config *cfg,
		      struct gw_audit **a)
{
	struct gw_err err;

	gw_err_clear(&err);
	if (gw_runtime_audit_open(cfg, GW_AUDIT_BACKGROUND, a, NULL, &err)) {
		fprintf(stderr, "lienthong %s: %s\n", cmd, err.msg);
		return err.rc == GW_ERR_IO || err.rc == GW_ERR_NOMEM ? 3 : 1;
	}
	return 0;
}

/*
 * Validate, sign, route and enqueue the files paths[0..npaths) in one
 * transaction. queued (may be NULL) receives 1 for each path whose message
 * is now in the outbox. Each step is noted in audit (may be NULL).
 * Returns the exit status.
 */
static int send_common(struct gw_config *cfg, struct gw_outbox *o, char **paths,
		       char **in_bufs, size_t *in_lens, int npaths, int *queued,
		       struct gw_audit *audit)
{
	char subject[256] = "";
	struct gw_validator *v = NULL;
	struct gw_forwarding fw;
	struct gw_sign_key *key = NULL;
	enum gw_sign_alg xml_alg = GW_SIGN_ALG_DEFAULT,
			 jws_alg = GW_SIGN_ALG_DEFAULT;
	struct gw_out_msg *msgs = NULL;
	struct gw_validated *res = NULL;
	char **bufs = NULL;
	int *dup = NULL, *path_of = NULL, status = 0, i, n = 0, bad = 0;
	struct gw_variants vs;
	struct gw_out_msg *all = NULL;
	int *alldup = NULL;
	size_t nall = 0, k;
	struct gw_err err;

	memset(&vs, 0, sizeof(vs));

	memset(&fw, 0, sizeof(fw));
	gw_err_clear(&err);
	if (gw_forwarding_load(cfg, &fw, &err) ||
	    gw_validator_new(gw_schema_dir(), 0, &v, &err) ||
	    gw_runtime_signer_load(cfg, &key, &xml_alg, &jws_alg, &err)) {
		fprintf(stderr, "lienthong send: %s\n", err.msg);
		status = err.rc == GW_ERR_CONFIG ? 1 : 3;
		goto out;
	}
	msgs = gw_calloc((size_t)npaths + 1, sizeof(*msgs));
	res = gw_calloc((size_t)npaths + 1, sizeof(*res));
	bufs = gw_calloc((size_t)npaths + 1, sizeof(*bufs));
	dup = gw_calloc((size_t)npaths + 1, sizeof(*dup));
	path_of = gw_calloc((size_t)npaths + 1, sizeof(*path_of));
	if (!msgs || !res || !bufs || !dup || !path_of) {
		status = 3;
		goto out;
	}
	for (i = 0; i < npaths; i++) {
		struct gw_out_msg *m = &msgs[n];
		size_t len;

		gw_err_clear(&err);
		if (in_bufs) {
			bufs[n] = in_bufs[i];
			in_bufs[i] = NULL;
			len = in_lens[i];
		} else if (gw_read_file(paths[i], 64u << 20, &bufs[n], &len,
					&err)) {
			fprintf(stderr, "%s\n", err.msg);
			bad = 1;
			continue;
		}
		if (gw_validate_buffer(v, paths[i], bufs[n], len, print_line,
				       NULL, &res[n], &err) ||
		    !res[n].json) {
			gw_log(GW_LOG_WARN, "refused", NULL, "%s", err.msg);
			note(audit, "refused", res[n].json, "refused",
			     err.msg[0] ? err.msg : "not a canonical message",
			     NULL, NULL, NULL, bufs[n], len);
			bad = 1;
			gw_validated_release(&res[n]);
			free(bufs[n]);
			bufs[n] = NULL;
			continue;
		}
		m->id = json_string_value(json_object_get(res[n].json, "id"));
		m->kind =
			json_string_value(json_object_get(res[n].json, "kind"));
		m->sender = json_string_value(json_object_get(
			json_object_get(res[n].json, "sender"), "orgId"));
		m->content_type = res[n].format == GW_FMT_XML
					  ? "application/xml"
					  : "application/json";
		note(audit, "validated", res[n].json, "ok", NULL, NULL, NULL,
		     NULL, bufs[n], len);
		if (key) {
			char *signed_buf = NULL;
			size_t slen = 0;

			if (gw_sign_validated(key, xml_alg, jws_alg, &res[n],
					      bufs[n], len, &signed_buf, &slen,
					      &err)) {
				fprintf(stderr, "%s: cannot sign: %s\n",
					paths[i], err.msg);
				status = 3;
				goto out;
			}
			free(bufs[n]);
			bufs[n] = signed_buf;
			len = slen;
			if (!subject[0])
				gw_sign_key_subject(key, subject,
						    sizeof(subject));
			note(audit, "signed", res[n].json, "ok", NULL, NULL,
			     subject, NULL, bufs[n], len);
			if (res[n].format == GW_FMT_JSON)
				m->content_type = "application/jose+json";
		}
		m->body = bufs[n];
		m->len = len;
		path_of[n] = i;
		m->dests = (const char *const *)gw_forwarding_route(
			&fw, res[n].json);
		if (!m->dests || !m->dests[0]) {
			fprintf(stderr,
				"%s: no route sends a '%s' message from '%s' "
				"anywhere\n",
				paths[i], m->kind, m->sender ? m->sender : "?");
			note(audit, "refused", res[n].json, "refused",
			     "no route matches", NULL, NULL, NULL, NULL, 0);
			free((void *)m->dests);
			m->dests = NULL;
			gw_validated_release(&res[n]);
			free(bufs[n]);
			bufs[n] = NULL;
			bad = 1;
			continue;
		}
		gw_err_clear(&err);
		if (gw_split_formats(&fw, key, xml_alg, jws_alg, m, res[n].json,
				     &vs, &err)) {
			fprintf(stderr, "%s: nothing was queued: %s\n",
				paths[i], err.msg);
			status = gw_rc_exit(err.rc);
			n++; /* so that its buffers are released */
			goto out;
		}
		n++;
	}
	/* canonical messages still routed somewhere, then the wire-format
	 * variants; all or nothing: one durable transaction */
	all = gw_calloc((size_t)n + vs.n + 1, sizeof(*all));
	alldup = gw_calloc((size_t)n + vs.n + 1, sizeof(*alldup));
	if (!all || !alldup) {
		status = 3;
		goto out;
	}
	for (i = 0; i < n; i++)
		if (msgs[i].dests[0])
			all[nall++] = msgs[i];
	for (k = 0; k < vs.n; k++)
		all[nall++] = vs.v[k];
	gw_err_clear(&err);
	if (nall && gw_outbox_enqueue(o, all, nall, alldup, &err)) {
		fprintf(stderr, "lienthong send: nothing was queued: %s\n",
			err.msg);
		for (i = 0; i < n; i++)
			note(audit, "refused", res[i].json, "refused", err.msg,
			     NULL, NULL, NULL, NULL, 0);
		status = gw_rc_exit(err.rc);
		goto out;
	}
	for (i = 0; queued && i < n; i++)
		queued[path_of[i]] = 1;
	for (k = 0; k < nall; k++) {
		size_t d;

		printf("%s%s", all[k].id, alldup[k] ? " (already queued)" : "");
		for (d = 0; all[k].dests[d]; d++) {
			printf("%s%s", d ? "," : " -> ", all[k].dests[d]);
			gw_audit_note(
				audit,
				&(struct gw_audit_entry){
					.msg_id = all[k].id,
					.kind = "queued",
					.msg_kind = all[k].kind,
					.sender = all[k].sender,
					.receiver = all[k].dests[d],
					.direction = "out",
					.outcome =
						alldup[k] ? "duplicate" : "ok",
					.reason = alldup[k] ? "already queued "
							      "with the same "
							      "bytes"
							    : NULL },
				all[k].body, all[k].len);
		}
		if (k + vs.n >= nall)
			printf(" (%s of %s)", all[k].content_type,
			       vs.of[k + vs.n - nall]);
		printf("\n");
		gw_log(GW_LOG_INFO, "queued", all[k].id,
		       "queued for %zu destinations", d);
	}
	status = bad ? 1 : 0;
out:
	gw_variants_release(&vs);
	free(all);
	free(alldup);
	for (i = 0; i < n; i++)
		free((void *)msgs[i].dests);
	for (i = 0; bufs && res && i <= npaths; i++) {
		gw_validated_release(&res[i]);
		free(bufs[i]);
	}
	free(msgs);
	free(res);
	free(bufs);
	free(dup);
	free(path_of);
	gw_validator_free(v);
	gw_forwarding_release(&fw);
	if (key) {
		gw_sign_key_free(key);
		gw_sign_shutdown();
	}
	return status;
}

static int send_files(struct gw_config *cfg, struct gw_outbox *o, char **paths,
		      int npaths, int *queued, struct gw_audit *audit)
{
	return send_common(cfg, o, paths, NULL, NULL, npaths, queued, audit);
}

int gw_send_buffers(struct gw_config *cfg, struct gw_outbox *o, char **names,
		    char **bufs, size_t *lens, int n, int *queued,
		    struct gw_audit *audit)
{
	int i, st = send_common(cfg, o, names, bufs, lens, n, queued, audit);

	for (i = 0; i < n; i++) {
		free(bufs[i]);
		bufs[i] = NULL;
	}
	return st;
}

int gw_cmd_send(int argc, char **argv)
{
	const char *conf = conf_opt(&argc, &argv);
	struct gw_config *cfg = NULL;
	struct gw_outbox *o = NULL;
	struct gw_audit *audit = NULL;
	int status;

	if (!conf || argc < 2) {
		fprintf(stderr, "usage: lienthong send -c CONF FILE...\n");
		return 2;
	}
	if (!(status = open_all("send", conf, &cfg, &o)) &&
	    !(status = open_audit("send", cfg, &audit)))
		status = send_files(cfg, o, argv + 1, argc - 1, NULL, audit);
	gw_audit_close(audit);
	gw_outbox_close(o);
	gw_config_free(cfg);
	return status;
}

int gw_cmd_queue(int argc, char **argv)
{
	const char *conf = conf_opt(&argc, &argv);
	struct gw_config *cfg = NULL;
	struct gw_outbox *o = NULL;
	struct gw_err err;
	const char *sub = argc > 1 ? argv[1] : NULL;
	struct gw_audit *audit = NULL;
	gw_rc rc = GW_OK;
	int status;

	if (!conf || !sub ||
	    (strcmp(sub, "ls") &&
	     (argc != 3 || (strcmp(sub, "show") && strcmp(sub, "retry") &&
			    strcmp(sub, "drop"))))) {
		fprintf(stderr,
			"usage: lienthong queue -c CONF ls "
			"[pending|done|dead]\n"
			"       lienthong queue -c CONF show|retry|drop ID\n");
		return 2;
	}
	if ((status = open_all("queue", conf, &cfg, &o)) ||
	    (status = open_audit("queue", cfg, &audit)))
		goto out;
	gw_err_clear(&err);
	if (!strcmp(sub, "ls"))
		rc = gw_outbox_list(o, argc > 2 ? argv[2] : NULL, stdout, &err);
	else if (!strcmp(sub, "show"))
		rc = gw_outbox_show(o, argv[2], stdout, &err);
	else if (!strcmp(sub, "retry"))
		rc = gw_outbox_retry(o, argv[2], gw_now_ms(), &err);
	else
		rc = gw_outbox_drop(o, argv[2], &err);
	if (rc)
		fprintf(stderr, "lienthong queue: %s\n", err.msg);
	if (strcmp(sub, "retry") == 0 || strcmp(sub, "drop") == 0)
		gw_audit_note(
			audit,
			&(struct gw_audit_entry){
				.msg_id = argv[2],
				.kind = strcmp(sub, "retry") ? "dropped"
							     : "retry",
				.direction = "out",
				.outcome = rc ? "failed" : "ok",
				.reason = rc ? err.msg
					     : "by the operator (lienthong "
					       "queue)" },
			NULL, 0);
	status = gw_rc_exit(rc);
out:
	gw_audit_close(audit);
	gw_outbox_close(o);
	gw_config_free(cfg);
	return status;
}

int gw_cmd_deliver(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "once", no_argument, NULL, 'o' },
		{ "linger-ms", required_argument, NULL, 'l' },
		{ "max-inflight", required_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 }
	};
	const char *conf = conf_opt(&argc, &argv);
	struct gw_config *cfg = NULL;
	struct gw_outbox *o = NULL;
	struct gw_forwarding fw;
	struct gw_deliver_stats st = { 0, 0, 0, 0 };
	struct gw_err err;
	int once = 0, inflight = 64, c, status;
	long linger = 0;
	gw_rc rc;

	memset(&fw, 0, sizeof(fw));
	optind = 0;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (c) {
		case 'o': once = 1; break;
		case 'l': linger = strtol(optarg, NULL, 10); break;
		case 'm': inflight = atoi(optarg); break;
		default:
			fprintf(stderr,
				"usage: lienthong deliver -c CONF [--once] "
				"[--linger-ms N] [--max-inflight N]\n");
			return 2;
		}
	}
	if (!conf || inflight < 1 || inflight > 1024) {
		fprintf(stderr, "usage: lienthong deliver -c CONF [--once] "
				"[--linger-ms N] [--max-inflight 1..1024]\n");
		return 2;
	}
	if ((status = open_all("deliver", conf, &cfg, &o)))
		goto out;
	gw_err_clear(&err);
	if (gw_forwarding_load(cfg, &fw, &err)) {
		fprintf(stderr, "lienthong deliver: %s\n", err.msg);
		status = 1;
		goto out;
	}
	if ((status = open_audit("deliver", cfg, &fw.audit)))
		goto out;
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	rc = gw_deliver_run(o, &fw, inflight, once, linger, &stopping, &st,
			    &err);
	fprintf(stderr,
		"lienthong deliver: %ld delivered, %ld to retry, %ld dead "
		"(%ld attempts)\n",
		st.delivered, st.retried, st.dead, st.attempts);
	if (rc)
		fprintf(stderr, "lienthong deliver: %s\n", err.msg);
	status = gw_rc_exit(rc);
out:
	gw_audit_close(fw.audit);
	gw_forwarding_release(&fw);
	gw_outbox_close(o);
	gw_config_free(cfg);
	return status;
}

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
		gw_outbox_sha256_hex(buf, len, digests[ntodo]);
		free(buf);
		if (strcmp(last, digests[ntodo]) == 0)
			continue;
		fresh += !last[0];
		todo[ntodo++] = all[i];
	}
	if (ntodo) {
		int st = send_files(cfg, o, todo, (int)ntodo, queued, audit);

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

/* One pass over one source: a drop folder (files) or a record source
 * (csv, sqlite: records, see sync.c). */
static int sync_one(struct gw_config *cfg, struct gw_outbox *o,
		    const char *name, struct gw_audit *audit)
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

/* When a source runs next: an interval (first run now), a cron-like
 * schedule, or never again (-1). */
struct plan {
	const char *name;
	long every;
	struct gw_sched cron;
	int has_cron;
	time_t next;
	char *watch; /* the path whose changes run the source, or NULL */
	struct stat seen;
};

/* Whether the watched path changed since seen (which is updated). */
static int watch_changed(struct plan *p)
{
	struct stat st;
	int changed;

	if (!p->watch)
		return 0;
	if (stat(p->watch, &st) != 0)
		memset(&st, 0, sizeof(st)); /* gone: a change too */
	changed = st.st_mtim.tv_sec != p->seen.st_mtim.tv_sec ||
		  st.st_mtim.tv_nsec != p->seen.st_mtim.tv_nsec ||
		  st.st_size != p->seen.st_size || st.st_ino != p->seen.st_ino;
	p->seen = st;
	return changed;
}

static int sync_usage(void)
{
	fprintf(stderr,
		"usage: lienthong sync -c CONF [--every SECONDS | --cron "
		"'M H DOM MON DOW' | --scheduled] [SOURCE]\n");
	return 2;
}

int gw_cmd_sync(int argc, char **argv)
{
	const char *conf = conf_opt(&argc, &argv);
	struct gw_config *cfg = NULL;
	struct gw_outbox *o = NULL;
	const char *only = NULL, *name, *cron = NULL;
	struct gw_audit *audit = NULL;
	struct plan *pl = NULL;
	struct gw_sched cron_all;
	struct gw_err err;
	long every = 0;
	json_t *sources, *src;
	int status, i, scheduled = 0, looping;
	size_t n = 0, k;

	gw_err_clear(&err);
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--every") && i + 1 < argc)
			every = strtol(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--cron") && i + 1 < argc)
			cron = argv[++i];
		else if (!strcmp(argv[i], "--scheduled"))
			scheduled = 1;
		else if (argv[i][0] != '-' && !only)
			only = argv[i];
		else
			conf = NULL;
	}
	if (!conf || every < 0 || (every && cron) ||
	    (scheduled && (every || cron)))
		return sync_usage();
	if (cron && gw_sched_parse(cron, &cron_all, &err)) {
		fprintf(stderr, "lienthong sync: --cron: %s\n", err.msg);
		return 2;
	}
	looping = every || cron || scheduled;
	if ((status = open_all("sync", conf, &cfg, &o)) ||
	    (status = open_audit("sync", cfg, &audit)))
		goto out;
	sources = gw_config_get(cfg, "/sources");
	pl = gw_calloc(json_object_size(sources) + 1, sizeof(*pl));
	if (!pl) {
		status = 3;
		goto out;
	}
	json_object_foreach(sources, name, src)
	{
		struct plan *p = &pl[n];
		const char *c = json_string_value(json_object_get(src, "cron"));

		if (only && strcmp(only, name))
			continue;
		p->name = name;
		p->every = every ? every
			   : scheduled
				   ? (long)json_integer_value(
					     json_object_get(src, "every_s"))
				   : 0;
		if (cron) {
			p->cron = cron_all;
			p->has_cron = 1;
		} else if (scheduled && c) {
			gw_err_clear(&err);
			if (gw_sched_parse(c, &p->cron, &err)) {
				char ptr[300];

				snprintf(ptr, sizeof(ptr), "/sources/%s/cron",
					 name);
				fprintf(stderr, "%s:%ld: sources.%s.cron: %s\n",
					cfg->path, gw_config_line(cfg, ptr),
					name, err.msg);
				status = 1;
				goto out;
			}
			p->has_cron = 1;
		}
		/* an interval runs at once, a cron schedule at its time */
		p->next = p->has_cron ? gw_sched_next(&p->cron, time(NULL))
				      : time(NULL);
		if (looping && json_is_true(json_object_get(src, "watch"))) {
			char ptr[300];

			snprintf(ptr, sizeof(ptr), "/sources/%s/path", name);
			p->watch = gw_config_path(cfg, ptr);
			watch_changed(p);
		}
		n++;
	}
	if (!n) {
		fprintf(stderr, "lienthong sync: no source%s%s in '%s'\n",
			only ? " named " : "", only ? only : "", conf);
		status = 1;
		goto out;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	for (;;) {
		time_t now = time(NULL);
		int pending = 0;

		for (k = 0; k < n && !stopping; k++) {
			struct plan *p = &pl[k];
			int st;

			/* a watched file that changed runs its source now */
			if (watch_changed(p))
				p->next = now;
			if (p->next == (time_t)-1 || p->next > now)
				continue;
			st = sync_one(cfg, o, p->name, audit);
			if (st > status)
				status = st;
			now = time(NULL);
			p->next = !looping	? (time_t)-1
				  : p->has_cron ? gw_sched_next(&p->cron, now)
				  : p->every	? now + p->every
						: (time_t)-1;
		}
		for (k = 0; k < n; k++)
			pending |= pl[k].next != (time_t)-1 || pl[k].watch;
		if (!pending || stopping)
			break;
		usleep(100000);
	}
out:
	for (k = 0; pl && k < n; k++)
		free(pl[k].watch);
	free(pl);
	gw_audit_close(audit);
	gw_outbox_close(o);
	gw_config_free(cfg);
	return status;
}
