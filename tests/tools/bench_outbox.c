/*
 * bench_outbox.c - durable enqueue rate of the SQLite outbox (WAL,
 * synchronous=FULL) for batch sizes 1, 10, 100 and 1000: how much batching
 * buys against one fsync per message. Prints one JSON object.
 *
 * The baseline, in the same run: raw SQLite inserts of the same bodies
 * into one table (id primary key), WAL, synchronous=FULL, one transaction
 * per batch: what the disk and SQLite allow before the outbox's own work
 * (deliveries per destination, dedup by id and SHA-256, the store API).
 *
 * usage: bench_outbox DIR [MESSAGES]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store/outbox.h"

/* Messages per second of raw inserts in batches of bs; -1 on failure. */
static double raw_rate(const char *path, size_t bs, size_t n, const char *body,
		       size_t len)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int64_t t0;
	size_t i, k;
	double s, r = -1;
	char id[40];

	unlink(path);
	if (sqlite3_open(path, &db) != SQLITE_OK ||
	    sqlite3_exec(db,
			 "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
			 "CREATE TABLE m (id TEXT PRIMARY KEY, kind TEXT, "
			 "sender TEXT, type TEXT, body BLOB)",
			 NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "INSERT INTO m VALUES (?, ?, ?, ?, ?)", -1,
			       &st, NULL) != SQLITE_OK)
		goto out;
	t0 = gw_now_ms();
	for (i = 0; i < n; i += bs) {
		if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
			goto out;
		for (k = i; k < i + bs && k < n; k++) {
			snprintf(id, sizeof(id), "raw-%zu-%zu", bs, k);
			sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
			sqlite3_bind_text(st, 2, "indicator.report", -1,
					  SQLITE_STATIC);
			sqlite3_bind_text(st, 3, "000.00.00.G12", -1,
					  SQLITE_STATIC);
			sqlite3_bind_text(st, 4, "application/json", -1,
					  SQLITE_STATIC);
			sqlite3_bind_blob(st, 5, body, (int)len, SQLITE_STATIC);
			if (sqlite3_step(st) != SQLITE_DONE)
				goto out;
			sqlite3_reset(st);
		}
		if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
			goto out;
	}
	s = (double)(gw_now_ms() - t0) / 1000.0;
	r = s > 0 ? (double)n / s : 0.0;
out:
	if (r < 0)
		fprintf(stderr, "bench_outbox: raw sqlite: %s\n",
			db ? sqlite3_errmsg(db) : "cannot open");
	sqlite3_finalize(st);
	sqlite3_close(db);
	unlink(path);
	return r;
}

int main(int argc, char **argv)
{
	static const size_t batches[] = { 1, 10, 100, 1000 };
	const char *dests[] = { "hub", "report", NULL };
	size_t total = argc > 2 ? strtoul(argv[2], NULL, 10) : 20000, b, i;
	char body[2048], path[4096];
	struct gw_out_msg *m;
	char(*ids)[40];
	struct gw_err err;

	if (argc < 2) {
		fprintf(stderr, "usage: bench_outbox DIR [MESSAGES]\n");
		return 2;
	}
	memset(body, 'x', sizeof(body));
	m = calloc(1000, sizeof(*m));
	ids = calloc(total, sizeof(*ids));
	if (!m || !ids)
		return 3;
	printf("{\"messages\": %zu, \"bytes\": %zu, \"destinations\": 2, "
	       "\"batches\": [",
	       total, sizeof(body));
	for (b = 0; b < sizeof(batches) / sizeof(batches[0]); b++) {
		struct gw_outbox *o = NULL;
		size_t bs = batches[b], n = bs == 1 ? total / 10 : total;
		int64_t t0;
		double s;

		snprintf(path, sizeof(path), "%s/bench-%zu.db", argv[1], bs);
		unlink(path);
		if (gw_outbox_open_sqlite(path, &o, &err)) {
			fprintf(stderr, "%s\n", err.msg);
			return 3;
		}
		t0 = gw_now_ms();
		for (i = 0; i < n; i += bs) {
			size_t k, nb = n - i < bs ? n - i : bs;

			for (k = 0; k < nb; k++) {
				snprintf(ids[i + k], sizeof(ids[0]), "%zu-%zu",
					 bs, i + k);
				m[k] = (struct gw_out_msg){ ids[i + k],
							    "indicator.report",
							    "000.00.00.G12",
							    "application/json",
							    body,
							    sizeof(body),
							    dests,
							    "" };
			}
			if (gw_outbox_enqueue(o, m, nb, NULL, &err)) {
				fprintf(stderr, "%s\n", err.msg);
				return 3;
			}
		}
		s = (double)(gw_now_ms() - t0) / 1000.0;
		printf("%s{\"batch\": %zu, \"messages\": %zu, \"seconds\": "
		       "%.3f, "
		       "\"messages_per_s\": %.0f}",
		       b ? ", " : "", bs, n, s, s > 0 ? (double)n / s : 0.0);
		gw_outbox_close(o);
		unlink(path);
	}
	printf("], \"raw_batches\": [");
	for (b = 0; b < sizeof(batches) / sizeof(batches[0]); b++) {
		size_t bs = batches[b], n = bs == 1 ? total / 10 : total;
		double r;

		snprintf(path, sizeof(path), "%s/raw-%zu.db", argv[1], bs);
		if ((r = raw_rate(path, bs, n, body, sizeof(body))) < 0)
			return 3;
		printf("%s{\"batch\": %zu, \"messages\": %zu, "
		       "\"messages_per_s\": %.0f}",
		       b ? ", " : "", bs, n, r);
	}
	printf("]}\n");
	free(m);
	free(ids);
	return 0;
}
