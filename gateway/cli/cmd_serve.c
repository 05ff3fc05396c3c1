/*
 * cmd_serve.c - "lienthong serve -c CONF [--check] [--no-deliver]".
 *
 * Runs the inbound server of CONF's server: section until SIGTERM (which
 * drains the connections in flight) and, unless --no-deliver, drains the
 * outbox to CONF's destinations in the same process. --check loads and
 * checks everything the server needs, then exits.
 */
#include "cli/cmd_serve.h"

#include <stdio.h>
#include <string.h>

#include "base/common.h"
#include "net/server.h"

#define SERVE_USAGE "usage: lienthong serve -c CONF [--check] [--no-deliver]\n"

int gw_cmd_serve(int argc, char **argv)
{
	const char *conf = NULL;
	int check = 0, deliver = 1, i;
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
	gw_err_clear(&err);
	rc = gw_server_run(conf, check, deliver, &err);
	if (rc && err.msg[0])
		fprintf(stderr, "lienthong serve: %s\n", err.msg);
	/* a configuration that cannot serve is refused input (1) */
	return rc == GW_ERR_CONFIG ? 1 : gw_rc_exit(rc);
}
