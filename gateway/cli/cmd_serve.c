/*
 * cmd_serve.c - "lienthong serve -c CONF [--check] [--no-deliver]".
 *
 * Runs the inbound server of CONF's server: section until SIGTERM (which
 * drains the connections in flight) and, unless --no-deliver, drains the
 * outbox to CONF's destinations in the same process. --check loads and
 * checks everything the server needs, then exits.
 */
#include "cli/cmd_serve.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/common.h"
#include "base/log.h"
#include "crypto/sign.h"
#include "flow/calendar.h"
#include "flow/runtime.h"
#include "flow/timestamp.h"
#include "net/client.h"
#include "net/server.h"

/* The reminders' scheduler (docs/CALENDAR.md): a thread that runs the
 * calendar's reminders at start and every obligations.reminders.every_s,
 * reading the configuration anew each time; gone when none are set. */
struct reminders {
	const char *conf;
	int stop; /* atomic */
};

static int stopping(struct reminders *r)
{
	return __atomic_load_n(&r->stop, __ATOMIC_ACQUIRE);
}

static void *remind_loop(void *arg)
{
	struct reminders *r = arg;

	while (!stopping(r)) {
		struct gw_err err;
		int fired = 0, every = 0, t;

		gw_err_clear(&err);
		if (gw_calendar_remind_conf(r->conf, 0, NULL, &fired, &every,
					    &err))
			gw_log(GW_LOG_WARN, "calendar", NULL, "reminders: %s",
			       err.msg);
		else if (fired)
			gw_log(GW_LOG_INFO, "calendar", NULL,
			       "%d reminder(s) sent", fired);
		if (!every && !err.msg[0])
			break; /* no reminders configured */
		for (t = 0; t < (every ? every : 3600) && !stopping(r); t++)
			sleep(1);
	}
	return NULL;
}

/* The timestamping of the audit log's checkpoints (docs/AUDIT.md): a
 * thread that, when audit.tsa is set, gets the tokens of the checkpoints
 * that have none at start and every audit.timestamp_interval_s (300),
 * reading the configuration anew each time. A TSA that is down only
 * leaves checkpoints pending: nothing of the server waits for it. */
static void *timestamp_loop(void *arg)
{
	struct reminders *r = arg;

	while (!stopping(r)) {
		struct gw_runtime *rt = NULL;
		struct gw_timestamp_stats ts;
		struct gw_err err;
		long every = 0, t;

		gw_err_clear(&err);
		if (gw_runtime_new(r->conf, GW_RT_AUDIT, 0, NULL, NULL, &rt,
				   NULL, &err)) {
			gw_log(GW_LOG_WARN, "timestamp", NULL, "%s", err.msg);
			every = 300;
		} else if (rt->audit && gw_config_get(rt->cfg, "/audit/tsa")) {
			every = (long)gw_config_int(
				rt->cfg, "/audit/timestamp_interval_s", 300);
			if (gw_timestamp_pending(rt->audit, rt->cfg,
						 gw_client_transport(), &ts,
						 &err))
				gw_log(GW_LOG_WARN, "timestamp", NULL, "%s",
				       err.msg);
			else if (ts.done || ts.pending)
				gw_log(GW_LOG_INFO, "timestamp", NULL,
				       "%zu checkpoint(s) timestamped, %zu "
				       "pending",
				       ts.done, ts.pending);
		}
		gw_runtime_free(rt);
		if (!every)
			break; /* no TSA configured */
		for (t = 0; t < every && !stopping(r); t++)
			sleep(1);
	}
	return NULL;
}

#define SERVE_USAGE "usage: lienthong serve -c CONF [--check] [--no-deliver]\n"

int gw_cmd_serve(int argc, char **argv)
{
	const char *conf = NULL;
	int check = 0, deliver = 1, i, started = 0, ts_started = 0;
	struct reminders rem = { NULL, 0 };
	pthread_t tid, ts_tid;
	struct gw_err err;
	gw_rc rc;

	for (i = 1; i < argc; i++) {
		if ((!strcmp(argv[i], "-c") || !strcmp(argv[i], "--config")) &&
		    i + 1 < argc)
			conf = argv[++i];
		else if (!strcmp(argv[i], "--check"))
			check = 1;
		else if (!strcmp(argv[i], "--no-deliver"))
			deliver = 0;
		else {
			fprintf(stderr,
				"lienthong serve: unknown argument "
				"'%s'\n" SERVE_USAGE,
				argv[i]);
			return 2;
		}
	}
	if (!conf) {
		fprintf(stderr,
			"lienthong serve: -c CONF is required\n" SERVE_USAGE);
		return 2;
	}
	rem.conf = conf;
	gw_err_clear(&err);
	if (!check) {
		gw_sign_hold();
		started = !pthread_create(&tid, NULL, remind_loop, &rem);
		ts_started =
			!pthread_create(&ts_tid, NULL, timestamp_loop, &rem);
	}
	rc = gw_server_run(conf, check, deliver, &err);
	__atomic_store_n(&rem.stop, 1, __ATOMIC_RELEASE);
	if (started)
		pthread_join(tid, NULL);
	if (ts_started)
		pthread_join(ts_tid, NULL);
	if (!check) {
		gw_sign_release();
		gw_sign_shutdown();
	}
	if (rc && err.msg[0])
		fprintf(stderr, "lienthong serve: %s\n", err.msg);
	/* a configuration that cannot serve is refused input (1) */
	return rc == GW_ERR_CONFIG ? 1 : gw_rc_exit(rc);
}
