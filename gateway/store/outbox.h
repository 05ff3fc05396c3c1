/*
 * outbox.h - the durable store of outgoing messages: messages, one delivery
 * per (message, destination), every attempt, dead letters and dedup keys.
 *
 * The store is reached through struct gw_outbox_ops (store/store.h) so
 * that a server database can replace SQLite; gw_outbox_open_sqlite()
 * gives the SQLite one (WAL, synchronous=FULL: a message is on disk before
 * gw_outbox_enqueue returns, so it can be acknowledged), gw_outbox_open()
 * the one of any backend. The calls below are the same for every backend.
 */
#ifndef GW_OUTBOX_H
#define GW_OUTBOX_H

#include <stdint.h>
#include <stdio.h>

#include "base/common.h"
#include "store/store.h" /* the types and struct gw_outbox_ops */

/* Open (creating) the SQLite store at path; *out is new, released with
 * gw_outbox_close. GW_ERR_IO when it cannot be opened or set up. */
gw_rc gw_outbox_open_sqlite(const char *path, struct gw_outbox **out,
			    struct gw_err *err);
/* The same with backend b (borrowed, static) at where (its path or
 * connection string). */
gw_rc gw_outbox_open(const struct gw_store_backend *b, const char *where,
		     struct gw_outbox **out, struct gw_err *err);
/* Close o (may be NULL), releasing the last due answer. */
void gw_outbox_close(struct gw_outbox *o);

static inline gw_rc gw_outbox_enqueue(struct gw_outbox *o,
				      const struct gw_out_msg *m, size_t n,
				      int *dup, struct gw_err *err)
{
	return o->ops->enqueue(o, m, n, dup, err);
}

static inline gw_rc gw_outbox_due(struct gw_outbox *o, int64_t now_ms,
				  size_t max, struct gw_due **out, size_t *n,
				  struct gw_err *err)
{
	return o->ops->due(o, now_ms, max, out, n, err);
}

static inline gw_rc gw_outbox_begin(struct gw_outbox *o, struct gw_err *err)
{
	return o->ops->begin(o, 1, err);
}

/* A transaction of delivery outcomes and leases, not waiting for the disk
 * (struct gw_outbox_ops begin, store/store.h). */
static inline gw_rc gw_outbox_begin_outcomes(struct gw_outbox *o,
					     struct gw_err *err)
{
	return o->ops->begin(o, 0, err);
}

static inline gw_rc gw_outbox_commit(struct gw_outbox *o, struct gw_err *err)
{
	return o->ops->commit(o, err);
}

static inline gw_rc gw_outbox_record(struct gw_outbox *o, const char *msg_id,
				     const char *dest, int64_t now_ms,
				     int http_status, const char *error,
				     enum gw_dlv_state state, int64_t next_ms,
				     struct gw_err *err)
{
	return o->ops->record(o, msg_id, dest, now_ms, http_status, error,
			      state, next_ms, err);
}

static inline gw_rc gw_outbox_lease(struct gw_outbox *o, const char *msg_id,
				    const char *dest, int64_t until_ms,
				    struct gw_err *err)
{
	return o->ops->lease(o, msg_id, dest, until_ms, err);
}

/* Operator commands (GW_ERR_UNSUPPORTED when the backend has none): list deliveries (state filter may be
 * NULL) as lines to out; show one message; make a dead or pending delivery
 * due now; drop a message and its deliveries. */
gw_rc gw_outbox_list(struct gw_outbox *o, const char *state, FILE *out,
		     struct gw_err *err);
gw_rc gw_outbox_show(struct gw_outbox *o, const char *id, FILE *out,
		     struct gw_err *err);
gw_rc gw_outbox_retry(struct gw_outbox *o, const char *id, int64_t now_ms,
		      struct gw_err *err);
gw_rc gw_outbox_drop(struct gw_outbox *o, const char *id, struct gw_err *err);

/* Change detection for scheduled sync: the digest last
 * sent for (source, key), "" when never; and recording a new one. */
gw_rc gw_outbox_sync_get(struct gw_outbox *o, const char *source,
			 const char *key, char digest[65], struct gw_err *err);
gw_rc gw_outbox_sync_put(struct gw_outbox *o, const char *source,
			 const char *key, const char *digest,
			 struct gw_err *err);

/* The same with the id of the message last sent for (source, key)
 * (msg_id "" when never, or recorded before ids were kept; the digest and
 * id are recorded together), so a record's next message id can depend on
 * it: a record that goes back to an earlier content is a new message. */
gw_rc gw_outbox_sync_last(struct gw_outbox *o, const char *source,
			  const char *key, char digest[65], char msg_id[37],
			  struct gw_err *err);
gw_rc gw_outbox_sync_record(struct gw_outbox *o, const char *source,
			    const char *key, const char *digest,
			    const char *msg_id, struct gw_err *err);

/* Keep what a destination answered for a completed delivery (its receipt)
 * and what checking it found (verdict, may be NULL), between begin and
 * commit. */
gw_rc gw_outbox_receipt(struct gw_outbox *o, const char *msg_id,
			const char *dest, int64_t now_ms, const char *body,
			size_t len, const char *verdict, struct gw_err *err);

/* Whether a message of that id is stored: how a sync that
 * was cut off between enqueueing and recording its digests knows. */
gw_rc gw_outbox_has(struct gw_outbox *o, const char *id, int *has,
		    struct gw_err *err);

/* Delivery counts by destination and state, for the server's /metrics:
 * cb (gw_outbox_stat_cb, store/store.h) is called once per (destination,
 * state) present; nothing when the backend keeps no counts. */
gw_rc gw_outbox_stats(struct gw_outbox *o, gw_outbox_stat_cb cb, void *arg,
		      struct gw_err *err);

/* gw_now_ms() is declared in base/common.h (included above). */

#endif
