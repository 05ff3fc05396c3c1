/*
 * cmd_queue.c - the send, queue, deliver and sync commands: options,
 * the runtime (flow/runtime.h), a call into flow/, the exit status.
 *
 * "send" hands the files to the send step (flow/send.c: validate, sign,
 * route, enqueue in one durable transaction, then print the ids: an id
 * printed is a message the gateway will deliver). "deliver" drains the
 * outbox (flow/deliver.c over net/client.c); "queue" is for the operator;
 * "sync" runs the configured sources (flow/sync_folder.c, flow/sync.c)
 * once or on their schedules.
 */
#include "cli/cmd_queue.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audit/audit.h"
#include "flow/deliver.h"
#include "flow/runtime.h"
#include "flow/send.h"
#include "flow/sync.h"
#include "net/client.h"
#include "store/outbox.h"

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
	stopping = sig;
}

static void print_line(void *arg, gw_rc rc, const char *line)
{
	fprintf(stderr, "%s\n", line);
}

/* The runtime of command cmd (what: GW_RT_*): configuration, outbox,
 * audit log...; returns the exit status, having said what failed. */
static int open_runtime(const char *cmd, const char *conf, unsigned what,
			struct gw_runtime **rt)
{
	enum gw_runtime_step step;
	struct gw_err err;
	gw_rc rc;

	gw_err_clear(&err);
	rc = gw_runtime_new(conf, what, GW_AUDIT_BACKGROUND, print_line, NULL,
			    rt, &step, &err);
	if (!rc)
		return 0;
	if (step == GW_RT_STEP_CONFIG && rc == GW_ERR_CONFIG)
		return 1; /* the problems were printed */
	fprintf(stderr, "lienthong %s: %s\n", cmd, err.msg);
	switch (step) {
	case GW_RT_STEP_CONFIG: return gw_rc_exit(rc);
	case GW_RT_STEP_FORWARDING: return 1;
	case GW_RT_STEP_AUDIT:
		return rc == GW_ERR_IO || rc == GW_ERR_NOMEM ? 3 : 1;
	default: return 3;
	}
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
	struct gw_runtime *rt = NULL;
	int status;

	if (!conf || argc < 2) {
		fprintf(stderr, "usage: lienthong send -c CONF FILE...\n");
		return 2;
	}
	if (!(status = open_runtime("send", conf, GW_RT_OUTBOX | GW_RT_AUDIT,
				    &rt)))
		status = gw_send_files(rt->cfg, rt->outbox, argv + 1, argc - 1,
				       NULL, rt->audit);
	gw_runtime_free(rt);
	return status;
}

int gw_cmd_queue(int argc, char **argv)
{
	const char *conf = conf_opt(&argc, &argv);
	struct gw_runtime *rt = NULL;
	struct gw_outbox *o;
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
	if ((status = open_runtime("queue", conf, GW_RT_OUTBOX | GW_RT_AUDIT,
				   &rt)))
		goto out;
	o = rt->outbox;
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
			rt->audit,
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
	gw_runtime_free(rt);
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
	struct gw_runtime *rt = NULL;
	struct gw_deliver_stats st = { 0, 0, 0, 0 };
	struct gw_err err;
	int once = 0, inflight = 64, c, status;
	long linger = 0;
	gw_rc rc;

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
	if ((status = open_runtime(
		     "deliver", conf,
		     GW_RT_OUTBOX | GW_RT_FORWARDING | GW_RT_AUDIT, &rt)))
		goto out;
	rt->fw.transport = gw_client_transport();
	gw_err_clear(&err);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	rc = gw_deliver_run(rt->outbox, &rt->fw, inflight, once, linger,
			    &stopping, &st, &err);
	fprintf(stderr,
		"lienthong deliver: %ld delivered, %ld to retry, %ld dead "
		"(%ld attempts)\n",
		st.delivered, st.retried, st.dead, st.attempts);
	if (rc)
		fprintf(stderr, "lienthong deliver: %s\n", err.msg);
	status = gw_rc_exit(rc);
out:
	gw_runtime_free(rt);
	return status;
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
	struct gw_runtime *rt = NULL;
	struct gw_config *cfg;
	const char *only = NULL, *name, *cron = NULL;
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
	if ((status = open_runtime("sync", conf, GW_RT_OUTBOX | GW_RT_AUDIT,
				   &rt)))
		goto out;
	cfg = rt->cfg;
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
			st = gw_sync_source(cfg, rt->outbox, p->name,
					    rt->audit);
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
	gw_runtime_free(rt);
	return status;
}
