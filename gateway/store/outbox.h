/*
 * outbox.h - the durable store of outgoing messages: messages, one delivery
 * per (message, destination), every attempt, dead letters and dedup keys.
 *
 * The store is reached through struct gw_store_ops so that a server
 * database can replace SQLite later; gw_outbox_open_sqlite() gives the
 * SQLite one (WAL, synchronous=FULL: a message is on disk before
 * gw_outbox_enqueue returns, so it can be acknowledged).
 */
#ifndef GW_OUTBOX_H
#define GW_OUTBOX_H

#include <stdint.h>
#include <stdio.h>

#include "base/common.h"

enum gw_dlv_state { GW_DLV_PENDING = 0, GW_DLV_DONE, GW_DLV_DEAD };

/* One message handed in. All strings borrowed. */
struct gw_out_msg {
	const char *id; /* message id: the dedup and idempotency key */
	const char *kind;
	const char *sender;	  /* orgId */
	const char *content_type; /* application/json, application/xml */
	const char *body;
	size_t len;
	const char *const *dests; /* destination names, NULL-terminated */
};

/* A delivery that is due. Strings owned by the outbox until the next call
 * of gw_outbox_due or gw_outbox_due_release. */
struct gw_due {
	char *msg_id;
	char *dest;
	char *content_type;
	char *body;
	size_t len;
	int attempts;	  /* attempts made so far */
	int64_t first_at; /* ms since the epoch when enqueued */
	char *kind;	  /* message kind, may be NULL (for the audit) */
	char *sender;	  /* sender orgId, may be NULL (for the audit) */
};

struct gw_outbox;

struct gw_store_ops {
	/* Enqueue n messages in one transaction. dup[i] (may be NULL) is set
	 * to 1 for a message whose id and bytes were already stored (nothing
	 * done); an id stored with other bytes fails the whole batch with
	 * GW_ERR_REFUSED. */
	gw_rc (*enqueue)(struct gw_outbox *o, const struct gw_out_msg *m,
			 size_t n, int *dup, struct gw_err *err);
	/* Up to max deliveries due at now_ms, oldest first. */
	gw_rc (*due)(struct gw_outbox *o, int64_t now_ms, size_t max,
		     struct gw_due **out, size_t *n, struct gw_err *err);
	/* Group record() calls into one transaction (one fsync). */
	gw_rc (*begin)(struct gw_outbox *o, struct gw_err *err);
	gw_rc (*commit)(struct gw_outbox *o, struct gw_err *err);
	/* Record an attempt and the new state, between begin and commit.
	 * next_ms is when a pending delivery is due again. */
	gw_rc (*record)(struct gw_outbox *o, const char *msg_id,
			const char *dest, int64_t now_ms, int http_status,
			const char *error, enum gw_dlv_state state,
			int64_t next_ms, struct gw_err *err);
	void (*close)(struct gw_outbox *o);
};

struct gw_outbox {
	const struct gw_store_ops *ops;
	void *impl;
	struct gw_due *due_buf;
	size_t due_n;
};

/* Open (creating) the SQLite store at path. */
gw_rc gw_outbox_open_sqlite(const char *path, struct gw_outbox **out,
			    struct gw_err *err);
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
	return o->ops->begin(o, err);
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

/* Operator commands, SQLite store: list deliveries (state filter may be
 * NULL) as lines to out; show one message; make a dead or pending delivery
 * due now; drop a message and its deliveries. */
gw_rc gw_outbox_list(struct gw_outbox *o, const char *state, FILE *out,
		     struct gw_err *err);
gw_rc gw_outbox_show(struct gw_outbox *o, const char *id, FILE *out,
		     struct gw_err *err);
gw_rc gw_outbox_retry(struct gw_outbox *o, const char *id, int64_t now_ms,
		      struct gw_err *err);
gw_rc gw_outbox_drop(struct gw_outbox *o, const char *id, struct gw_err *err);

/* Change detection for scheduled sync (SQLite store): the digest last
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

/* Keep what a destination answered for a completed delivery (its receipt),
 * between begin and commit. */
gw_rc gw_outbox_receipt(struct gw_outbox *o, const char *msg_id,
			const char *dest, int64_t now_ms, const char *body,
			size_t len, struct gw_err *err);

/* Whether a message of that id is stored (SQLite store): how a sync that
 * was cut off between enqueueing and recording its digests knows. */
gw_rc gw_outbox_has(struct gw_outbox *o, const char *id, int *has,
		    struct gw_err *err);

/* Delivery counts by destination and state, for the server's /metrics
 * (SQLite store): cb is called once per (destination, state) present. */
typedef void (*gw_outbox_stat_cb)(void *arg, const char *dest,
				  enum gw_dlv_state state, int64_t count);
gw_rc gw_outbox_stats(struct gw_outbox *o, gw_outbox_stat_cb cb, void *arg,
		      struct gw_err *err);

/* Lowercase hex SHA-256 of p[0..n). */
void gw_outbox_sha256_hex(const char *p, size_t n, char out[65]);

/* Milliseconds since the epoch. */
int64_t gw_now_ms(void);

#endif
