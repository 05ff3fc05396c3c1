/*
 * cmd_queue.c - send, queue and deliver.
 *
 * "send" reads each file, validates it (gateway/validate.c), routes it
 * (gateway/deliver.c) and enqueues all of them in one durable transaction;
 * only then does it print the message ids: an id printed is a message the
 * gateway will deliver. "deliver" drains the outbox; "queue" is for the
 * operator.
 */
#include "cmd_queue.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "deliver.h"
#include "log.h"
#include "outbox.h"
#include "validate.h"

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

int gw_cmd_send(int argc, char **argv)
{
	const char *conf = conf_opt(&argc, &argv);
	struct gw_config *cfg = NULL;
	struct gw_outbox *o = NULL;
	struct gw_validator *v = NULL;
	struct gw_forwarding fw;
	struct gw_out_msg *msgs = NULL;
	struct gw_validated *res = NULL;
	char **bufs = NULL;
	int *dup = NULL, status, i, n = 0, bad = 0;
	struct gw_err err;

	memset(&fw, 0, sizeof(fw));
	if (!conf || argc < 2) {
		fprintf(stderr, "usage: lienthong send -c CONF FILE...\n");
		return 2;
	}
	if ((status = open_all("send", conf, &cfg, &o)))
		goto out;
	gw_err_clear(&err);
	if (gw_forwarding_load(cfg, &fw, &err) ||
	    gw_validator_new(gw_schema_dir(), 0, &v, &err)) {
		fprintf(stderr, "lienthong send: %s\n", err.msg);
		status = err.rc == GW_ERR_CONFIG ? 1 : 3;
		goto out;
	}
	msgs = gw_calloc((size_t)argc, sizeof(*msgs));
	res = gw_calloc((size_t)argc, sizeof(*res));
	bufs = gw_calloc((size_t)argc, sizeof(*bufs));
	dup = gw_calloc((size_t)argc, sizeof(*dup));
	if (!msgs || !res || !bufs || !dup) {
		status = 3;
		goto out;
	}
	for (i = 1; i < argc; i++) {
		struct gw_out_msg *m = &msgs[n];
		size_t len;

		gw_err_clear(&err);
		if (gw_read_file(argv[i], 64u << 20, &bufs[n], &len, &err)) {
			fprintf(stderr, "%s\n", err.msg);
			bad = 1;
			continue;
		}
		if (gw_validate_buffer(v, argv[i], bufs[n], len, print_line,
				       NULL, &res[n], &err) ||
		    !res[n].json) {
			gw_log(GW_LOG_WARN, "refused", NULL, "%s", err.msg);
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
		m->body = bufs[n];
		m->len = len;
		m->dests = (const char *const *)gw_forwarding_route(
			&fw, res[n].json);
		if (!m->dests || !m->dests[0]) {
			fprintf(stderr,
				"%s: no route sends a '%s' message from '%s' "
				"anywhere\n",
				argv[i], m->kind, m->sender ? m->sender : "?");
			free((void *)m->dests);
			m->dests = NULL;
			gw_validated_release(&res[n]);
			free(bufs[n]);
			bufs[n] = NULL;
			bad = 1;
			continue;
		}
		n++;
	}
	/* all or nothing: accepted messages are one durable transaction */
	gw_err_clear(&err);
	if (n && gw_outbox_enqueue(o, msgs, (size_t)n, dup, &err)) {
		fprintf(stderr, "lienthong send: nothing was queued: %s\n",
			err.msg);
		status = gw_rc_exit(err.rc);
		goto out;
	}
	for (i = 0; i < n; i++) {
		size_t d;

		printf("%s%s", msgs[i].id, dup[i] ? " (already queued)" : "");
		for (d = 0; msgs[i].dests[d]; d++)
			printf("%s%s", d ? "," : " -> ", msgs[i].dests[d]);
		printf("\n");
		gw_log(GW_LOG_INFO, "queued", msgs[i].id,
		       "queued for %zu destinations", d);
	}
	status = bad ? 1 : 0;
out:
	for (i = 0; i < n; i++)
		free((void *)msgs[i].dests);
	for (i = 0; bufs && res && i < argc; i++) {
		gw_validated_release(&res[i]);
		free(bufs[i]);
	}
	free(msgs);
	free(res);
	free(bufs);
	free(dup);
	gw_validator_free(v);
	gw_forwarding_release(&fw);
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
	if ((status = open_all("queue", conf, &cfg, &o)))
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
	status = gw_rc_exit(rc);
out:
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
	gw_forwarding_release(&fw);
	gw_outbox_close(o);
	gw_config_free(cfg);
	return status;
}
