/*
 * example.c - a minimal out-of-tree source adapter: pipe-separated lines
 * ("a|b|c", the first line naming the columns, no quoting) through the
 * job's mapping file. It is built against the INSTALLED header only (see
 * its Makefile and `pkg-config lienthong-adapter`), loaded with dlopen from
 * the adapter folder, and reaches the core through the host table alone:
 * the mapping engine, unmapped-row reports and the failure reason.
 *
 * The one exported symbol is gw_adapter_entry (everything else is hidden
 * with -fvisibility=hidden).
 */
#define _POSIX_C_SOURCE 200809L /* getline */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapter.h"

#define MAX_FIELDS 256

static const struct gw_adapter_host *H;

static int init(const struct gw_adapter_host *host, void **state)
{
	H = host;
	*state = NULL;
	/* the mapping engine was appended to the host table: an older host
	 * without it cannot run this adapter */
	if (host->size < offsetof(struct gw_adapter_host, progress) +
				 sizeof(host->progress)) {
		host->log(GW_ADAPTER_LOG_ERROR, "example",
			  "this gateway has no mapping engine");
		return -1;
	}
	return 0;
}

/* Split line (modified in place) on '|' into cells; the count. */
static size_t split(char *line, const char **cells)
{
	size_t n = 0;
	char *p = line;

	line[strcspn(line, "\r\n")] = '\0';
	for (;;) {
		char *bar = strchr(p, '|');

		if (n == MAX_FIELDS)
			return n + 1; /* too many: the caller refuses */
		cells[n++] = p;
		if (!bar)
			break;
		*bar = '\0';
		p = bar + 1;
	}
	return n;
}

static int run(void *state, struct gw_adapter_job *job)
{
	const char *input = H->job_input(job), *cells[MAX_FIELDS + 1];
	struct gw_adapter_mapping *m = NULL;
	char *line = NULL, where[4200];
	size_t cap = 0, n, ncols, lineno = 0;
	FILE *f = NULL;
	int rc = -1;

	(void)state;
	if (!(m = H->mapping_open(job)))
		goto out;
	if (!(f = fopen(input, "r"))) {
		H->fail(job, "cannot open '%s': %s", input, strerror(errno));
		goto out;
	}
	if (getline(&line, &cap, f) < 0) {
		H->fail(job, "%s: empty file, a header line was expected",
			input);
		goto out;
	}
	lineno = 1;
	n = split(line, cells);
	if (n > MAX_FIELDS) {
		H->fail(job, "%s:1: more than %d columns", input, MAX_FIELDS);
		goto out;
	}
	if (H->mapping_bind(m, job, cells, n))
		goto out;
	ncols = n;
	while (getline(&line, &cap, f) >= 0) {
		lineno++;
		snprintf(where, sizeof(where), "%s:%zu", input, lineno);
		if (line[strspn(line, " \t\r\n")] == '\0')
			continue; /* an empty line holds no record */
		n = split(line, cells);
		if (n != ncols)
			/* never map a row whose columns moved */
			H->unmapped(job, where,
				    n > ncols ? "more fields than the header"
					      : "fewer fields than the header");
		else if (H->mapping_row(m, job, where, cells, n))
			goto out;
	}
	if (H->mapping_finish(m, job))
		goto out;
	rc = 0;
out:
	free(line);
	if (f)
		fclose(f);
	H->mapping_close(m);
	return rc;
}

static const struct gw_adapter adapter = {
	.abi_version = GW_ADAPTER_ABI_VERSION,
	.size = sizeof(struct gw_adapter),
	.name = "example",
	.description = "pipe-separated lines through a mapping file (an "
		       "out-of-tree example)",
	.init = init,
	.run = run,
};

__attribute__((visibility("default"))) const struct gw_adapter *
gw_adapter_entry(void)
{
	return &adapter;
}
