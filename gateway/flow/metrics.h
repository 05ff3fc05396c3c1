/*
 * metrics.h - the inbound server's counters (requests by status, latency
 * histogram, signature failures, refused client certificates, messages
 * accepted and replayed) and their Prometheus text for GET /metrics,
 * with the inbox and outbox gauges.
 */
#ifndef GW_METRICS_H
#define GW_METRICS_H

#include <stddef.h>

#include "base/common.h"
#include "store/inbox.h"
#include "store/outbox.h"

#define GW_METRICS_LAT_BUCKETS 12

/* Counters of the event loop thread (only it writes or reads them). */
struct gw_metrics {
	long by_status[600];
	long lat_count[GW_METRICS_LAT_BUCKETS + 1];
	double lat_sum;
	long lat_n;
	long sig_fail[16];
	long tls_refused;
	long accepted, replays;
};

/* A request answered with status after seconds. */
void gw_metrics_observe(struct gw_metrics *m, int status, double seconds);

/* The Prometheus text of m, conns open connections, the inbox ib and the
 * outbox ob (both borrowed) into *out, which it initializes (the caller
 * releases it with gw_buf_release). A gauge that cannot be read is left
 * out. */
void gw_metrics_render(const struct gw_metrics *m, int conns,
		       struct gw_inbox *ib, struct gw_outbox *ob,
		       struct gw_buf *out);

#endif
