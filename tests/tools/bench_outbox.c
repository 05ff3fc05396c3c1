/*
 * bench_outbox.c - durable enqueue rate of the SQLite outbox (WAL,
 * synchronous=FULL) for batch sizes 1, 10, 100 and 1000: how much batching
 * buys against one fsync per message. Prints one JSON object.
 *
 * usage: bench_outbox DIR [MESSAGES]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "outbox.h"

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
							    dests };
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
	printf("]}\n");
	free(m);
	free(ids);
	return 0;
}
