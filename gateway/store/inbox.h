/*
 * inbox.h - the durable store of messages received by the inbound server
 * (gateway/server.c): one row per message id with the exact bytes
 * received, their SHA-256 (the dedup key: same id and bytes is a replay,
 * same id and other bytes is refused), the partner that sent them, the
 * signed receipt that was answered, and whether the internal delivery
 * (drop folder, onward routes) is done.
 *
 * SQLite in WAL mode with synchronous=FULL, like the outbox: gw_inbox_put
 * returns only once the message and its receipt are on disk, so the
 * receipt can be sent. A message stored but not yet delivered internally
 * (the gateway stopped in between) is found again by gw_inbox_pending.
 */
#ifndef GW_INBOX_H
#define GW_INBOX_H

#include <stddef.h>
#include <stdint.h>

#include "base/common.h"

struct gw_inbox;

/* One received message. All strings borrowed. */
struct gw_inbox_msg {
	const char *id;
	const char *sha256; /* hex SHA-256 of body[0..len) */
	const char *partner;
	const char *kind;
	const char *sender;
	const char *content_type;
	const char *body;
	size_t len;
	const char *receipt; /* the signed receipt answered for it */
	size_t receipt_len;
	const char *receipt_type;
	const char *canonical; /* the validated canonical JSON (for routing) */
};

/* Open (creating) the inbox at path; *out is new, close with
 * gw_inbox_close. GW_ERR_IO when the file cannot be opened or set up. */
gw_rc gw_inbox_open(const char *path, struct gw_inbox **out,
		    struct gw_err *err);
void gw_inbox_close(struct gw_inbox *ib);

/* What the inbox knows of id: *found is 0 when nothing. Otherwise sha256
 * and partner (the name of who sent it, truncated to 64 bytes) are filled
 * and *receipt / *rtype (may be NULL) are new strings the caller frees. */
gw_rc gw_inbox_lookup(struct gw_inbox *ib, const char *id, int *found,
		      char sha256[65], char partner[64], char **receipt,
		      size_t *rlen, char **rtype, struct gw_err *err);

/* Store m[0..n) in one committed transaction (one fsync for the batch:
 * group commit). An id already stored fails the whole batch with
 * GW_ERR_REFUSED (look it up first to tell a replay); a store that cannot
 * be written (full disk, read-only) is GW_ERR_IO. */
gw_rc gw_inbox_put(struct gw_inbox *ib, const struct gw_inbox_msg *m, size_t n,
		   struct gw_err *err);

/* Mark ids[0..n) delivered internally, in one committed transaction. */
gw_rc gw_inbox_done(struct gw_inbox *ib, const char *const *ids, size_t n,
		    struct gw_err *err);

/* One stored message whose internal delivery is not done. */
struct gw_inbox_pending {
	char *id, *content_type, *body, *canonical; /* canonical may be "" */
	char *kind, *sender;			    /* "" when not known */
	size_t len;
};

/* Up to max messages not yet delivered internally, oldest first: a new
 * array (*out, *n) released with gw_inbox_pending_free. */
gw_rc gw_inbox_pending(struct gw_inbox *ib, size_t max,
		       struct gw_inbox_pending **out, size_t *n,
		       struct gw_err *err);
void gw_inbox_pending_free(struct gw_inbox_pending *p, size_t n);

/* Counts for /metrics: all messages and those not yet delivered. */
gw_rc gw_inbox_counts(struct gw_inbox *ib, int64_t *total, int64_t *pending,
		      struct gw_err *err);

/* Check that the store can be written now (a committed heartbeat row);
 * for /readyz. */
gw_rc gw_inbox_ping(struct gw_inbox *ib, struct gw_err *err);

#endif
