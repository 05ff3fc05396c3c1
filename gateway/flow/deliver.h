/*
 * deliver.h - forwarding: destinations, routes, and the delivery engine
 * that drains the outbox through an HTTP transport (flow/transport.h; the
 * libcurl one is net/client.h: many deliveries in flight on reused
 * connections), retrying with exponential backoff and
 * jitter, and dead-lettering what cannot be delivered.
 */
#ifndef GW_DELIVER_H
#define GW_DELIVER_H

#include <signal.h>
#include <stdint.h>

#include "base/common.h"
#include "model/config.h"
#include "flow/deliver_receipt.h"
#include "flow/transport.h"
#include "store/outbox.h"

enum gw_transport { GW_TRANSPORT_HTTPS = 0, GW_TRANSPORT_XROAD };

struct gw_dest {
	char *name;
	char *url;  /* https://host:port/path (X-Road: the security server) */
	char *ca;   /* the destination's CA (pinned); NULL: system store */
	char *cert; /* client certificate (mutual TLS) */
	char *key;  /* client key */
	enum gw_transport transport;
	char *xroad_client; /* X-Road-Client header: INSTANCE/CLASS/MEMBER/SUB */
	char *xroad_service; /* INSTANCE/CLASS/MEMBER/SUB/SERVICE */
	long timeout_ms;
	int max_attempts;
	int64_t max_age_ms;
	int64_t backoff_ms;	/* first retry delay */
	int64_t backoff_max_ms; /* cap */
	int allow_http;		/* plain http to loopback only (tests) */
	int rate_per_s;	 /* at most this many requests a second; 0: no limit */
	char *token_url; /* token transport: where an access token is got */
	char *token_key; /* ... with this access key (a resolved secret) */
	char *token_secret; /* ... and secret (a resolved secret) */
	/* runtime state, owned by the delivery engine */
	char *token;
	int64_t token_expires_ms;
	double bucket;
	int64_t bucket_ms;
	/* wire format (a format adapter's name), NULL: the canonical form */
	char *format;
	/* profile mapping of the format's field names (an absolute path,
	 * profile.h), NULL: the format's own names */
	char *profile;
	/* what the destination's answer must be (flow/deliver_receipt.h) */
	struct gw_receipt_rule receipt;
};

struct gw_route {
	char **kinds, **senders, **receivers, **classifications; /* NULL: any */
	char **dests;
};

struct gw_audit;

struct gw_forwarding {
	struct gw_dest *dests;
	size_t ndests;
	struct gw_route *routes;
	size_t nroutes;
	/* borrowed, may be NULL: every attempt, delivery, receipt and dead
	 * letter is noted in this audit log (audit/audit.h) */
	struct gw_audit *audit;
	/* borrowed: how deliveries are sent (gw_client_transport() from
	 * net/client.h); gw_deliver_run needs it, routing does not */
	const struct gw_http_transport *transport;
};

/* What tells the wire-format variants of one message apart, for d (which
 * has a format): the format, and the profile when there is one
 * ("report-packet;profile=/etc/...yaml"); with gw_format_wire_id, the
 * variant's id. */
void gw_dest_variant_key(const struct gw_dest *d, char *out, size_t n);

/* Read destinations and routes from the configuration (paths made
 * absolute). A route naming an unknown destination is GW_ERR_CONFIG. */
gw_rc gw_forwarding_load(const struct gw_config *cfg, struct gw_forwarding *f,
			 struct gw_err *err);
void gw_forwarding_release(struct gw_forwarding *f);

/* The destinations a canonical message (borrowed) is routed to: a new
 * NULL-terminated array of borrowed names the caller frees (not the
 * names). Empty when no route matches. */
const char **gw_forwarding_route(const struct gw_forwarding *f,
				 const json_t *msg);

struct gw_deliver_stats {
	long delivered, retried, dead, attempts;
};

/*
 * Drain the outbox: send every due delivery, up to max_inflight at once
 * and within each destination's rate limit, record each outcome. Token
 * destinations get an access token first (cached until it expires, got
 * again after a 401). With once, return when nothing is due any more and
 * nothing waits for a retry (or a retry is further than linger_ms away);
 * otherwise run until *stop becomes non-zero. Sent through f->transport
 * (GW_ERR_INTERNAL when it is not set).
 */
gw_rc gw_deliver_run(struct gw_outbox *o, struct gw_forwarding *f,
		     int max_inflight, int once, int64_t linger_ms,
		     volatile sig_atomic_t *stop, struct gw_deliver_stats *st,
		     struct gw_err *err);

/* The next delay after attempts failed attempts: backoff * 2^(attempts-1),
 * capped, times a jitter in [0.5, 1.5). Exposed for the tests. */
int64_t gw_deliver_backoff(const struct gw_dest *d, int attempts,
			   double jitter01);

#endif
