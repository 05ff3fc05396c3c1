/*
 * metrics.c - the counters of the inbound server and their Prometheus
 * text (GET /metrics; the HTTP side is net/server.c).
 */
#include "flow/metrics.h"

#include <stdint.h>

#include "crypto/sign.h"

static const double lat_le[GW_METRICS_LAT_BUCKETS] = {
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5
};

void gw_metrics_observe(struct gw_metrics *m, int status, double d)
{
	int i;

	if (status >= 100 && status < 600)
		m->by_status[status]++;
	for (i = 0; i < GW_METRICS_LAT_BUCKETS && d > lat_le[i]; i++)
		;
	m->lat_count[i]++;
	m->lat_sum += d;
	m->lat_n++;
}

static void dest_stat(void *arg, const char *dest, enum gw_dlv_state st,
		      int64_t count)
{
	struct gw_buf *b = arg;
	const char *names[] = { "pending", "done", "dead" };

	gw_buf_addf(b,
		    "lienthong_deliveries{destination=\"%s\",state=\"%s\"} "
		    "%lld\n",
		    dest, (unsigned)st < 3 ? names[st] : "other",
		    (long long)count);
}

void gw_metrics_render(const struct gw_metrics *m, int conns,
		       struct gw_inbox *ib, struct gw_outbox *ob,
		       struct gw_buf *out)
{
	struct gw_buf b;
	struct gw_err err;
	int64_t total = 0, pending = 0;
	long cum = 0;
	int i;

	gw_buf_init(&b);
	gw_err_clear(&err);
	gw_buf_adds(&b, "# HELP lienthong_http_requests_total HTTP requests "
			"answered, by status.\n"
			"# TYPE lienthong_http_requests_total counter\n");
	for (i = 100; i < 600; i++)
		if (m->by_status[i])
			gw_buf_addf(
				&b,
				"lienthong_http_requests_total{code=\"%d\"} "
				"%ld\n",
				i, m->by_status[i]);
	gw_buf_adds(&b, "# HELP lienthong_http_request_duration_seconds Time "
			"from request to answer.\n"
			"# TYPE lienthong_http_request_duration_seconds "
			"histogram\n");
	for (i = 0; i < GW_METRICS_LAT_BUCKETS; i++) {
		cum += m->lat_count[i];
		gw_buf_addf(&b,
			    "lienthong_http_request_duration_seconds_bucket{"
			    "le=\"%g\"} %ld\n",
			    lat_le[i], cum);
	}
	cum += m->lat_count[GW_METRICS_LAT_BUCKETS];
	gw_buf_addf(
		&b,
		"lienthong_http_request_duration_seconds_bucket{le=\"+Inf\"}"
		" %ld\n"
		"lienthong_http_request_duration_seconds_sum %.6f\n"
		"lienthong_http_request_duration_seconds_count %ld\n",
		cum, m->lat_sum, m->lat_n);
	gw_buf_adds(&b, "# HELP lienthong_signature_failures_total Signed "
			"messages refused, by reason.\n"
			"# TYPE lienthong_signature_failures_total counter\n");
	for (i = 0; i < 16; i++)
		if (m->sig_fail[i])
			gw_buf_addf(&b,
				    "lienthong_signature_failures_total{reason="
				    "\"%s\"} %ld\n",
				    gw_sign_reason_name((enum gw_sign_reason)i),
				    m->sig_fail[i]);
	gw_buf_addf(&b,
		    "# HELP lienthong_tls_refused_total Client certificates "
		    "refused in the handshake.\n"
		    "# TYPE lienthong_tls_refused_total counter\n"
		    "lienthong_tls_refused_total %ld\n"
		    "# TYPE lienthong_messages_accepted_total counter\n"
		    "lienthong_messages_accepted_total %ld\n"
		    "# TYPE lienthong_messages_replayed_total counter\n"
		    "lienthong_messages_replayed_total %ld\n"
		    "# TYPE lienthong_connections gauge\n"
		    "lienthong_connections %d\n",
		    m->tls_refused, m->accepted, m->replays, conns);
	if (!gw_inbox_counts(ib, &total, &pending, &err))
		gw_buf_addf(&b,
			    "# TYPE lienthong_inbox_messages gauge\n"
			    "lienthong_inbox_messages %lld\n"
			    "# HELP lienthong_inbox_pending Messages stored "
			    "but not yet delivered internally.\n"
			    "# TYPE lienthong_inbox_pending gauge\n"
			    "lienthong_inbox_pending %lld\n",
			    (long long)total, (long long)pending);
	gw_buf_adds(&b, "# HELP lienthong_deliveries Outbox deliveries by "
			"destination and state (pending is the queue "
			"depth).\n"
			"# TYPE lienthong_deliveries gauge\n");
	gw_outbox_stats(ob, dest_stat, &b, &err);
	*out = b;
}
