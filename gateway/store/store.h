/*
 * store.h - the storage interface of the gateway: every operation that the
 * outbox (outgoing messages), the inbox (received messages) and the audit
 * log keep on disk, as tables of function pointers, one table per store
 * kind, in the manner of SQLite's VFS or curl's struct Curl_ssl.
 *
 * A backend (SQLite today, in store/sqlite_*.c; PostgreSQL next) provides
 * a struct gw_store_backend: its name and one constructor per store kind.
 * A constructor opens the store at "where" (a file path for SQLite, a
 * connection string for a server database), creates its schema when it is
 * missing, and returns a handle whose first member is its ops table and
 * whose impl member is the backend's own state. Everything above store/
 * (gateway/audit/, gateway/flow/, ...) reaches storage only through these
 * tables, through the wrappers of store/outbox.h, store/inbox.h and the
 * audit log (audit/audit.h); only store/ includes a database's headers.
 *
 * Rules every op follows, so a backend can be written from this file:
 *   - Strings and buffers passed in are borrowed for the call; a backend
 *     copies what it keeps. What an op returns through a callback is
 *     borrowed for the callback's duration only.
 *   - Errors: GW_OK, or a gw_rc with err (may be NULL) filled with a
 *     lowercase message naming the store ("outbox: cannot commit: ...").
 *     GW_ERR_IO when the database cannot be used now (disk full, read-only,
 *     connection lost, locked for longer than the backend waits);
 *     GW_ERR_INTERNAL for an unexpected failure (a statement that cannot
 *     be prepared); GW_ERR_NOMEM; GW_ERR_REFUSED and GW_ERR_USAGE where an
 *     op says so. An op that is a whole transaction (outbox enqueue, inbox
 *     put and done) rolls back itself when it fails, as does the outbox's
 *     commit; any other failed op inside a transaction leaves it open for
 *     the caller to roll back (audit rollback).
 *   - Durability: a commit returns once the data is on durable storage
 *     (SQLite: WAL with synchronous=FULL; PostgreSQL: synchronous_commit
 *     on). Callers acknowledge messages on that promise.
 *   - Concurrency: several processes may use one store at once (send,
 *     deliver and serve share an outbox and an audit log). A handle is used
 *     by one thread at a time (its owner serializes), not always the same
 *     one (the audit log's writer thread); writers wait for each
 *     other for a few seconds before failing with GW_ERR_IO.
 *   - Hot paths (enqueue, due, record, audit entry_put) keep their
 *     statements prepared from open to close: one call per operation.
 */
#ifndef GW_STORE_H
#define GW_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "base/common.h"

/* ================================================================ */
/* Outbox: outgoing messages, one delivery per (message, destination). */

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
	/* SHA-256 (hex) of the message's canonical unsigned content, what
	 * tells a resend from new content under the same id whatever the
	 * signature (ECDSA signs differently every time); "" compares the
	 * bytes themselves. */
	char content_sha[65];
};

/* A delivery that is due. Strings owned by the outbox until the next call
 * of gw_outbox_due or gw_outbox_due_release; a caller that keeps a row
 * longer (the delivery engine's window) takes its pointers and sets them
 * to NULL in the row, which the release then skips (free(NULL)). */
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

/* One delivery as listed for the operator (borrowed for the callback).
 * kind may be NULL; last_status is 0 and last_error NULL before the
 * first attempt. */
struct gw_out_dlv_row {
	const char *msg_id, *kind, *dest;
	int state; /* enum gw_dlv_state */
	int attempts, last_status;
	const char *last_error;
};

/* One stored message as shown for the operator (borrowed). kind and
 * sender may be NULL. */
struct gw_out_msg_row {
	const char *kind, *sender, *sha256, *content_type;
	int len; /* bytes of the body */
};

/* Delivery counts by destination and state, for the server's /metrics:
 * called once per (destination, state) present. */
typedef void (*gw_outbox_stat_cb)(void *arg, const char *dest,
				  enum gw_dlv_state state, int64_t count);

struct gw_outbox;

/* The outbox's table. Every op but close returns a gw_rc as described at
 * the top of this file. Ops marked optional may be NULL: the wrapper then
 * answers GW_ERR_UNSUPPORTED (or GW_OK where said). */
struct gw_outbox_ops {
	/* Enqueue m[0..n) and their deliveries (one per dests[], state
	 * pending, due now) in one committed transaction (one fsync).
	 * dup[i] (may be NULL) is set to 1 for a message whose id and content
	 * were already stored (nothing done): the same content_sha when both
	 * have one, else the same bytes (their SHA-256); an id stored with
	 * other content fails the whole batch with GW_ERR_REFUSED. */
	gw_rc (*enqueue)(struct gw_outbox *o, const struct gw_out_msg *m,
			 size_t n, int *dup, struct gw_err *err);
	/* Up to max pending deliveries due at now_ms (next_ms <= now_ms),
	 * the earliest due first. Calls gw_outbox_due_release(o) first, then
	 * fills o->due_buf / o->due_n (allocated with gw_calloc, each
	 * string with gw_malloc/gw_strdup, body NUL-terminated) and returns
	 * them in *out / *n; they stay owned by o. */
	gw_rc (*due)(struct gw_outbox *o, int64_t now_ms, size_t max,
		     struct gw_due **out, size_t *n, struct gw_err *err);
	/* A write transaction grouping record(), lease(), receipt() and
	 * sync_record() calls; commit rolls back when it fails. durable: the
	 * commit returns once on durable storage (one fsync). Not durable
	 * (delivery outcomes and leases only): the commit survives a crash
	 * of the process but a power cut may forget it, so that the
	 * delivery is sent again under its idempotency key; the delivery
	 * engine does not wait for the disk between answers (SQLite: WAL
	 * with synchronous=NORMAL for that transaction). */
	gw_rc (*begin)(struct gw_outbox *o, int durable, struct gw_err *err);
	gw_rc (*commit)(struct gw_outbox *o, struct gw_err *err);
	/* Between begin and commit: append an attempt (now_ms, http_status,
	 * error may be NULL) and set the delivery's state, next_ms (when a
	 * pending one is due again), last status and error, attempts + 1. */
	gw_rc (*record)(struct gw_outbox *o, const char *msg_id,
			const char *dest, int64_t now_ms, int http_status,
			const char *error, enum gw_dlv_state state,
			int64_t next_ms, struct gw_err *err);
	/* Between begin and commit: hold a pending delivery back until
	 * until_ms without counting an attempt (it is being sent, or waits
	 * for its destination's rate limit): its lease. A process that dies
	 * with deliveries in flight leaves them due again when their leases
	 * end, and another process draining the same outbox does not take
	 * them meanwhile. */
	gw_rc (*lease)(struct gw_outbox *o, const char *msg_id,
		       const char *dest, int64_t until_ms, struct gw_err *err);
	/* Release the backend's state (o->impl); o itself is freed by the
	 * caller. Called with a half-opened impl too. */
	void (*close)(struct gw_outbox *o);

	/* Optional. Deliveries in state (-1: all), ordered by enqueue time,
	 * message id, destination; cb per row. */
	gw_rc (*list)(struct gw_outbox *o, int state,
		      void (*cb)(void *arg, const struct gw_out_dlv_row *r),
		      void *arg, struct gw_err *err);
	/* Optional. Message id: *found 0 when not stored; else msg_cb once,
	 * then att_cb per attempt (by time: dest, at_ms, status, error may
	 * be NULL), then rcpt_cb per receipt (by destination; verdict may
	 * be NULL for one kept before receipts were checked). */
	gw_rc (*show)(struct gw_outbox *o, const char *id, int *found,
		      void (*msg_cb)(void *arg, const struct gw_out_msg_row *m),
		      void (*att_cb)(void *arg, const char *dest, int64_t at_ms,
				     int status, const char *error),
		      void (*rcpt_cb)(void *arg, const char *dest,
				      const char *body, size_t len,
				      const char *verdict),
		      void *arg, struct gw_err *err);
	/* Optional. Make the deliveries of id that are not done pending and
	 * due at now_ms with 0 attempts; *changed the rows changed. */
	gw_rc (*retry)(struct gw_outbox *o, const char *id, int64_t now_ms,
		       int *changed, struct gw_err *err);
	/* Optional. Delete message id with its deliveries; *changed 0 when
	 * there was none. */
	gw_rc (*drop)(struct gw_outbox *o, const char *id, int *changed,
		      struct gw_err *err);
	/* Optional. The digest and message id last recorded for (source,
	 * key), "" when never (msg_id "" when recorded without one). */
	gw_rc (*sync_last)(struct gw_outbox *o, const char *source,
			   const char *key, char digest[65], char msg_id[37],
			   struct gw_err *err);
	/* Optional. Record (replace) them; msg_id NULL or "" stores none. */
	gw_rc (*sync_record)(struct gw_outbox *o, const char *source,
			     const char *key, const char *digest,
			     const char *msg_id, struct gw_err *err);
	/* Optional (NULL: receipts are not kept, GW_OK). Between begin and
	 * commit: keep (replace) the body a destination answered for a
	 * completed delivery, with what checking it found (verdict: a line
	 * of text, may be NULL). */
	gw_rc (*receipt)(struct gw_outbox *o, const char *msg_id,
			 const char *dest, int64_t now_ms, const char *body,
			 size_t len, const char *verdict, struct gw_err *err);
	/* Optional. *has 1 when a message of that id is stored. */
	gw_rc (*has)(struct gw_outbox *o, const char *id, int *has,
		     struct gw_err *err);
	/* Optional (NULL: no counts, GW_OK). cb per (dest, state) present,
	 * ordered by destination and state. */
	gw_rc (*stats)(struct gw_outbox *o, gw_outbox_stat_cb cb, void *arg,
		       struct gw_err *err);
};

/* An open outbox: made by a backend's outbox_open, released by
 * gw_outbox_close. due_buf / due_n are the last gw_outbox_due answer. */
struct gw_outbox {
	const struct gw_outbox_ops *ops;
	void *impl; /* the backend's */
	struct gw_due *due_buf;
	size_t due_n;
};

/* Free the deliveries of the last due answer (for backends' due op). */
void gw_outbox_due_release(struct gw_outbox *o);

/* ================================================================ */
/* Inbox: messages received by the inbound server. */

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

/* One stored message whose internal delivery is not done. */
struct gw_inbox_pending {
	char *id, *content_type, *body, *canonical; /* canonical may be "" */
	char *kind, *sender;			    /* "" when not known */
	size_t len;
};

struct gw_inbox;

/* The inbox's table; all ops are required. */
struct gw_inbox_ops {
	/* What is stored for id: *found 0 when nothing; else sha256 and
	 * partner (truncated to 63 bytes) filled, and *receipt (with *rlen,
	 * may be NULL) and *rtype, when those pointers are not NULL, new
	 * NUL-terminated strings (gw_malloc) the caller frees. */
	gw_rc (*lookup)(struct gw_inbox *ib, const char *id, int *found,
			char sha256[65], char partner[64], char **receipt,
			size_t *rlen, char **rtype, struct gw_err *err);
	/* Store m[0..n), each received now and not yet delivered, in one
	 * committed transaction. An id already stored fails the whole batch
	 * with GW_ERR_REFUSED; a store that cannot be written, GW_ERR_IO. */
	gw_rc (*put)(struct gw_inbox *ib, const struct gw_inbox_msg *m,
		     size_t n, struct gw_err *err);
	/* Mark ids[0..n) delivered, in one committed transaction. */
	gw_rc (*done)(struct gw_inbox *ib, const char *const *ids, size_t n,
		      struct gw_err *err);
	/* Up to max undelivered messages in the order they were put: a new
	 * array of *n rows (gw_calloc, strings gw_malloc, body
	 * NUL-terminated) released with gw_inbox_pending_free. */
	gw_rc (*pending)(struct gw_inbox *ib, size_t max,
			 struct gw_inbox_pending **out, size_t *n,
			 struct gw_err *err);
	/* All messages, and those not yet delivered. */
	gw_rc (*counts)(struct gw_inbox *ib, int64_t *total, int64_t *pending,
			struct gw_err *err);
	/* Commit a write now (a heartbeat), to prove the store writable. */
	gw_rc (*ping)(struct gw_inbox *ib, struct gw_err *err);
	/* Release ib->impl (also half-opened); ib is freed by the caller. */
	void (*close)(struct gw_inbox *ib);
};

struct gw_inbox {
	const struct gw_inbox_ops *ops;
	void *impl;
};

/* ================================================================ */
/* Audit log storage: the leaves of an RFC 9162 tree and what goes with
 * them. The tree, hashing, numbering and signing are the audit layer's
 * (gateway/audit/); the store keeps rows and answers in index order. */

#define GW_STORE_AUDIT_NSTR 10 /* string fields of an entry */

/* One entry as stored, keyed by index (unique, 0, 1, 2, ... with no gap
 * when the log is sound). str[] are, in order: message id, event, message
 * kind, sender, receiver, direction, outcome, reason, payload digest,
 * signer: valid UTF-8, never NULL (written "" rather than NULL; read back
 * "" for a missing value). leaf: the entry's leaf hash, required on
 * write; on read given by entry_scan (NULL when what is stored is not 32
 * bytes: the verifier reports it), NULL from entry_query. */
struct gw_store_audit_row {
	uint64_t index;
	int64_t time_ms;
	const char *str[GW_STORE_AUDIT_NSTR];
	const uint8_t *leaf; /* 32 bytes, or NULL when not 32 bytes */
};

/* One published checkpoint as stored. jws (may be NULL: unsigned) is
 * borrowed both ways. */
struct gw_store_audit_cp {
	uint64_t seq, size;
	uint8_t root[32];
	int64_t time_ms;
	const char *jws;
};

/* Entry selection, all bounds inclusive; zero / NULL members do not
 * filter (first 0 is the start, last 0 the end). */
struct gw_store_audit_filter {
	uint64_t first, last;
	int64_t since_ms, until_ms;
	const char *partner; /* sender or receiver */
	const char *kind;    /* event or message kind */
	const char *outcome;
	const char *msg_id;
};

/* Row callback: return non-zero to stop (the op then returns GW_OK). */
typedef int (*gw_store_audit_row_cb)(void *arg,
				     const struct gw_store_audit_row *r);
typedef int (*gw_store_audit_cp_cb)(void *arg,
				    const struct gw_store_audit_cp *c);

struct gw_store_audit;

/* The audit log's table; all ops are required. A write transaction
 * (begin with write 1) holds the log's write lock from its start, so the
 * state read inside it stays true until commit: that is how several
 * processes append to one log without colliding indexes. */
struct gw_store_audit_ops {
	/* Transactions: write 1 locks for writing at once (SQLite BEGIN
	 * IMMEDIATE); write 0 opens a consistent read snapshot that others'
	 * commits do not change. commit names what (the transaction did:
	 * "commit entries") in its error; a failed commit leaves the
	 * transaction to roll back. rollback never fails (no-op outside a
	 * transaction). */
	gw_rc (*begin)(struct gw_store_audit *s, int write, struct gw_err *err);
	gw_rc (*commit)(struct gw_store_audit *s, const char *what,
			struct gw_err *err);
	void (*rollback)(struct gw_store_audit *s);

	/* The persisted tree state: *size and the frontier (the roots of
	 * the perfect subtrees, popcount(size) hashes, in order) copied into
	 * fr[0..max) when it fits; *fr_len is its stored length in bytes
	 * (not a multiple of 32 when malformed). 0 and 0 when never saved.
	 * The caller checks the shape. */
	gw_rc (*state_get)(struct gw_store_audit *s, uint64_t *size,
			   uint8_t (*fr)[32], size_t max, size_t *fr_len,
			   struct gw_err *err);
	/* In a write transaction: replace the state. */
	gw_rc (*state_put)(struct gw_store_audit *s, uint64_t size,
			   const uint8_t (*fr)[32], size_t n,
			   struct gw_err *err);
	/* In a write transaction: store one entry (r->leaf required). An
	 * index already stored is an error. */
	gw_rc (*entry_put)(struct gw_store_audit *s,
			   const struct gw_store_audit_row *r,
			   struct gw_err *err);
	/* Entries matching f (never NULL) in index order, without their
	 * leaf (r->leaf NULL). */
	gw_rc (*entry_query)(struct gw_store_audit *s,
			     const struct gw_store_audit_filter *f,
			     gw_store_audit_row_cb cb, void *arg,
			     struct gw_err *err);
	/* Every entry with its leaf hash in index order (verification). */
	gw_rc (*entry_scan)(struct gw_store_audit *s, gw_store_audit_row_cb cb,
			    void *arg, struct gw_err *err);
	/* The leaf hashes of entries first .. first+n-1 into out; *got the
	 * number read before a missing index or a malformed leaf. */
	gw_rc (*leaves)(struct gw_store_audit *s, uint64_t first, uint64_t n,
			uint8_t (*out)[32], uint64_t *got, struct gw_err *err);

	/* The largest checkpoint seq (0 when none). */
	gw_rc (*cp_max_seq)(struct gw_store_audit *s, uint64_t *seq,
			    struct gw_err *err);
	/* In a write transaction: store checkpoint c. */
	gw_rc (*cp_put)(struct gw_store_audit *s,
			const struct gw_store_audit_cp *c, struct gw_err *err);
	/* Checkpoint seq (0: the latest): *found 0 when none, else cb once. */
	gw_rc (*cp_get)(struct gw_store_audit *s, uint64_t seq, int *found,
			gw_store_audit_cp_cb cb, void *arg, struct gw_err *err);
	/* Every checkpoint by seq. */
	gw_rc (*cp_each)(struct gw_store_audit *s, gw_store_audit_cp_cb cb,
			 void *arg, struct gw_err *err);
	/* The RFC 3161 timestamp token of checkpoint seq (docs/AUDIT.md):
	 * token_put keeps it (one per checkpoint: a second is ignored),
	 * with the TSA's URL and the token's time; token_get copies it into
	 * *der (new, NULL and 0 when there is none) with its time. */
	gw_rc (*token_put)(struct gw_store_audit *s, uint64_t seq,
			   const unsigned char *der, size_t len,
			   const char *tsa, int64_t gen_ms, struct gw_err *err);
	gw_rc (*token_get)(struct gw_store_audit *s, uint64_t seq,
			   unsigned char **der, size_t *len, int64_t *gen_ms,
			   struct gw_err *err);

	/* In a write transaction: whether a payload of that digest is kept. */
	gw_rc (*payload_has)(struct gw_store_audit *s, const char *digest,
			     int *has, struct gw_err *err);
	/* In a write transaction: keep (unless kept) the payload of
	 * digest, len bytes uncompressed, as z[0..zlen) (compressed by the
	 * caller). */
	gw_rc (*payload_put)(struct gw_store_audit *s, const char *digest,
			     int64_t time_ms, int64_t len, const void *z,
			     size_t zlen, struct gw_err *err);
	/* The payload of digest: *found 0 when not kept (SQLite: or when it
	 * cannot be read), else cb once with its length and compressed bytes
	 * (borrowed); cb's gw_rc is returned. */
	gw_rc (*payload_get)(struct gw_store_audit *s, const char *digest,
			     int *found,
			     gw_rc (*cb)(void *arg, int64_t len, const void *z,
					 size_t zlen),
			     void *arg, struct gw_err *err);
	/* Delete payloads kept before before_ms; *dropped how many. */
	gw_rc (*payload_prune)(struct gw_store_audit *s, int64_t before_ms,
			       int64_t *dropped, struct gw_err *err);

	/* Release s->impl (also half-opened); s is freed by the caller. */
	void (*close)(struct gw_store_audit *s);
};

struct gw_store_audit {
	const struct gw_store_audit_ops *ops;
	void *impl;
};

/* ================================================================ */
/* Backends. */

#define GW_STORE_READONLY 0x1u /* audit: open for reading only */

struct gw_store_backend {
	const char *name; /* "sqlite" */
	/* Open (creating when missing, unless read-only) the store at where;
	 * *out is new, released with the matching gw_*_close. GW_ERR_IO
	 * when it cannot be opened or set up (message names where). */
	gw_rc (*outbox_open)(const char *where, struct gw_outbox **out,
			     struct gw_err *err);
	gw_rc (*inbox_open)(const char *where, struct gw_inbox **out,
			    struct gw_err *err);
	gw_rc (*audit_open)(const char *where, unsigned flags,
			    struct gw_store_audit **out, struct gw_err *err);
};

/* The SQLite backend (store/sqlite_*.c): where is a file path. */
extern const struct gw_store_backend gw_store_sqlite;

/* The backend called name ("sqlite"), NULL when this build has none. */
const struct gw_store_backend *gw_store_backend_find(const char *name);

/* Close an audit store; s may be NULL. */
void gw_store_audit_close(struct gw_store_audit *s);

#endif
