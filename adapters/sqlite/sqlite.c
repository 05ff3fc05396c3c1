/*
 * sqlite.c - the sqlite source adapter: the rows of the mapping file's
 * query (sqlite.query), run against the input database opened read-only,
 * go through the same mapping engine as csv. Columns are the query's
 * result names; NULL is an empty cell; numbers come as SQLite writes them
 * (use the "number" transform for a REAL or INTEGER column).
 *
 * The statement must be one read-only SELECT (or WITH ... SELECT): the
 * database is opened with SQLITE_OPEN_READONLY and the statement is
 * refused unless sqlite3_stmt_readonly() says so, so a mapping file can
 * never change the source.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapter.h"

static const struct gw_adapter_host *H;
static int has_require; /* a host with mapping_require */

static int init(const struct gw_adapter_host *host, void **state)
{
	H = host;
	*state = NULL;
	if (host->size <
	    offsetof(struct gw_adapter_host, progress) + sizeof(host->progress))
		return -1;
	has_require = host->size >=
		      offsetof(struct gw_adapter_host, mapping_require) +
			      sizeof(host->mapping_require);
	return 0;
}

static int run(void *state, struct gw_adapter_job *job)
{
	const char *input = H->job_input(job);
	struct gw_adapter_mapping *m = NULL;
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	const char *sql, *tail = NULL;
	const char **cells = NULL;
	char where[4200];
	int ncol, i, r, rc = -1;
	size_t row = 0;

	if (!(m = H->mapping_open(job)))
		goto out;
	if (has_require) {
		if (!(sql = H->mapping_require(
			      m, job, "/sqlite/query",
			      "add 'sqlite: {query: SELECT ...}': the "
			      "sqlite adapter maps the rows it returns")))
			goto out;
	} else if (!(sql = H->mapping_option(m, "/sqlite/query"))) {
		H->fail(job, "the mapping file has no sqlite.query: the sqlite "
			     "adapter needs one");
		goto out;
	}
	if (sqlite3_open_v2(input, &db, SQLITE_OPEN_READONLY, NULL)) {
		H->fail(job, "cannot open database '%s': %s", input,
			db ? sqlite3_errmsg(db) : "out of memory");
		goto out;
	}
	sqlite3_busy_timeout(db, 5000);
	if (sqlite3_prepare_v2(db, sql, -1, &st, &tail)) {
		H->fail(job, "%s: sqlite.query: %s", input, sqlite3_errmsg(db));
		goto out;
	}
	while (tail && (*tail == ' ' || *tail == '\n' || *tail == '\t' ||
			*tail == '\r' || *tail == ';'))
		tail++;
	if (!st || (tail && *tail) || !sqlite3_stmt_readonly(st)) {
		H->fail(job,
			"%s: sqlite.query must be one read-only SELECT "
			"statement",
			input);
		goto out;
	}
	ncol = sqlite3_column_count(st);
	cells = calloc((size_t)ncol + 1, sizeof(*cells));
	if (!cells) {
		H->fail(job, "out of memory");
		goto out;
	}
	for (i = 0; i < ncol; i++)
		cells[i] = sqlite3_column_name(st, i);
	if (H->mapping_bind(m, job, cells, (size_t)ncol))
		goto out;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		row++;
		for (i = 0; i < ncol; i++) {
			const unsigned char *t = sqlite3_column_text(st, i);

			cells[i] = t ? (const char *)t : "";
		}
		snprintf(where, sizeof(where), "%s: row %zu", input, row);
		if (H->mapping_row(m, job, where, cells, (size_t)ncol))
			goto out;
		if (row % 512 == 0)
			H->progress(job, row, 0);
	}
	if (r != SQLITE_DONE) {
		H->fail(job, "%s: row %zu: %s", input, row + 1,
			sqlite3_errmsg(db));
		goto out;
	}
	H->progress(job, row, 0);
	if (H->mapping_finish(m, job))
		goto out;
	rc = 0;
out:
	free(cells);
	sqlite3_finalize(st);
	sqlite3_close(db);
	H->mapping_close(m);
	return rc;
}

const struct gw_adapter gw_adapter_sqlite = {
	.abi_version = GW_ADAPTER_ABI_VERSION,
	.size = sizeof(struct gw_adapter),
	.name = "sqlite",
	.description = "the rows of an SQLite query through a mapping file",
	.init = init,
	.run = run,
};
