/*
 * inbox.h - the durable store of messages received by the inbound server
 * (gateway/server.c): one row per message id with the exact bytes
 * received, their SHA-256 (the dedup key: same id and bytes is a replay,
 * same id and other bytes is refused), the partner that sent them, the
 * signed receipt that was answered, and whether the internal delivery
 * (drop folder, onward routes) is done.
 *
 * Reached through struct gw_inbox_ops (store/store.h); gw_inbox_open
 * gives the SQLite one, in WAL mode with synchronous=FULL, like the
 * outbox: gw_inbox_put
 * returns only once the message and its receipt are on disk, so the
 * receipt can be sent. A message stored but not yet delivered internally
 * (the gateway stopped in between) is found again by gw_inbox_pending.
 */
#ifndef GW_INBOX_H
#define GW_INBOX_H

#include <stddef.h>
#include <stdint.h>

#include "base/common.h"
#include "store/store.h" /* struct gw_inbox_msg, gw_inbox_pending */

/* Open (creating) the inbox at path; *out is new, close with
 * gw_inbox_close. GW_ERR_IO when the file cannot be opened or set up. */
gw_rc gw_inbox_open(const char *path, struct gw_inbox **out,
		    struct gw_err *err);
/* The same with backend b (borrowed, static) at where. */
gw_rc gw_inbox_open_backend(const struct gw_store_backend *b, const char *where,
			    struct gw_inbox **out, struct gw_err *err);
/* Close ib (may be NULL). */
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
