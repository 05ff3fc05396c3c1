/*
 * audit.h - the verifiable audit log: every event of a message's life
 * (received, refused, validated, signed, queued, each delivery attempt,
 * delivered, receipt received, dead-lettered) is one entry, and the entries
 * are the leaves of an append-only RFC 9162 Merkle tree (audit/merkle.c).
 *
 * An entry's leaf is SHA-256(0x00 || JCS(entry)), where entry is the JSON
 * object described in docs/AUDIT.md (index, time, message id, event kind,
 * message kind, sender, receiver, direction, outcome, reason, SHA-256 of
 * the payload bytes, signer). Entries, leaf hashes, the tree frontier and
 * signed checkpoints (tree size, root, time; a JWS made by crypto/sign.c)
 * live in one store (struct gw_store_audit_ops of store/store.h: one SQLite
 * file in WAL mode today); payloads may be archived zlib-compressed
 * beside them with a retention, entries and digests are kept for ever.
 *
 * Appending is cheap: gw_audit_append() copies the entry into a memory
 * batch; batches are committed in one transaction
 * each, when they reach batch_size entries, when flush_ms has passed, or on
 * gw_audit_flush(). With GW_AUDIT_BACKGROUND a thread of the log commits
 * them, so the caller's hot path never waits for the disk; append is then
 * thread-safe. Reopening restores the tree from its persisted frontier.
 *
 * Several processes may write one file at once (serve or deliver beside
 * send and sync): an entry's index is given when its batch is committed,
 * from the persisted tree size read inside the commit's transaction, so
 * it is known for sure only after a flush.
 */
#ifndef GW_AUDIT_H
#define GW_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "base/common.h"
#include "audit/merkle.h"
#include "store/store.h" /* struct gw_store_backend */

struct gw_sign_key;
struct gw_sign_verifier;

/* One audit entry. Strings are borrowed; NULL reads as "". digest is the
 * lowercase hex SHA-256 of the payload (computed from payload when NULL
 * and a payload is given). time_ms 0 means now. */
struct gw_audit_entry {
	uint64_t index; /* set by the log */
	int64_t time_ms;
	const char *msg_id;
	const char *kind;     /* event: received, refused, validated, ... */
	const char *msg_kind; /* message kind: plan, indicator.report, ... */
	const char *sender;
	const char *receiver;
	const char *direction; /* in, out */
	const char *outcome;   /* ok, refused, failed, ... */
	const char *reason;
	const char *digest;
	const char *signer;
};

#define GW_AUDIT_BACKGROUND 0x1u /* commit batches in a thread of the log */
#define GW_AUDIT_ARCHIVE 0x2u	 /* keep payloads, zlib-compressed */
#define GW_AUDIT_READONLY 0x4u	 /* open for queries and proofs only */
#define GW_AUDIT_OWNS_KEY \
	0x8u /* opts.key is the log's: freed on close
				    (and on a failed open) */

struct gw_audit_opts {
	unsigned flags;
	size_t batch_size;	 /* entries per commit (0: 4096) */
	unsigned flush_ms;	 /* longest a batch waits (0: 200) */
	unsigned checkpoint_s;	 /* publish a checkpoint this often when a
				   key is set (0: never automatically) */
	unsigned retention_days; /* payloads older are dropped (0: kept) */
	const struct gw_sign_key *key; /* borrowed; signs checkpoints */
	const char *log_name;	       /* "origin" of checkpoints */
};

struct gw_audit;

/* Open (creating it if needed) the log in the SQLite file path. opts may
 * be NULL for defaults. *out is new; close with gw_audit_close. Errors:
 * GW_ERR_IO (cannot open or create), GW_ERR_REFUSED (the stored frontier
 * does not match the stored size), GW_ERR_NOMEM. */
gw_rc gw_audit_open(const char *path, const struct gw_audit_opts *opts,
		    struct gw_audit **out, struct gw_err *err);

/* The same on store backend b (borrowed, static) at where (its path or
 * connection string); gw_audit_open is this with gw_store_sqlite. */
gw_rc gw_audit_open_backend(const struct gw_store_backend *b, const char *where,
			    const struct gw_audit_opts *opts,
			    struct gw_audit **out, struct gw_err *err);

/* Commit what is buffered, stop the thread, close. a may be NULL. A
 * failure to commit is reported to the gateway log. */
void gw_audit_close(struct gw_audit *a);

/* Queue one entry (e borrowed, copied) with its payload (borrowed, may be
 * NULL). *index (may be NULL) gets a provisional index: the one the entry
 * takes when no other process commits to the file before this handle's
 * next commit; the real index is fixed at commit time (find it after
 * gw_audit_flush with gw_audit_query by message id). Without
 * GW_AUDIT_BACKGROUND a full or old batch is committed here. Errors:
 * GW_ERR_NOMEM; GW_ERR_IO when a commit here, or the last one of the
 * background thread, failed (the entries stay buffered and are retried
 * first at the next commit; each failure goes to the gateway log). */
gw_rc gw_audit_append(struct gw_audit *a, const struct gw_audit_entry *e,
		      const void *payload, size_t plen, uint64_t *index,
		      struct gw_err *err);

/* The hook the pipeline calls at each step: append e (borrowed) with its
 * payload (may be NULL) to a, which may be NULL (no audit configured:
 * nothing happens). A failure is written to the gateway log, never
 * returned, so auditing never stops the message flow. */
void gw_audit_note(struct gw_audit *a, const struct gw_audit_entry *e,
		   const void *payload, size_t plen);

/* Commit every buffered entry now (waits for the thread). */
gw_rc gw_audit_flush(struct gw_audit *a, struct gw_err *err);

/* Number of committed entries (the tree size). */
uint64_t gw_audit_size(struct gw_audit *a);

/* Root of the committed tree into root. */
gw_rc gw_audit_root(struct gw_audit *a, uint8_t root[32], struct gw_err *err);

/* The JCS form of entry e (e->index included) appended to out. */
gw_rc gw_audit_entry_json(const struct gw_audit_entry *e, struct gw_buf *out,
			  struct gw_err *err);

/* ---- checkpoints ---- */

/* A published checkpoint: sequence number (1, 2, ...), tree size, root,
 * time and the signed form (a flattened JWS whose payload is the JCS
 * checkpoint object; NULL when published without a key). */
struct gw_audit_checkpoint {
	uint64_t seq;
	uint64_t size;
	uint8_t root[32];
	int64_t time_ms;
	char *jws;	  /* owned */
	char origin[128]; /* the log's name; set by gw_audit_checkpoint_parse
			     only ("" for stored rows) */
};

void gw_audit_checkpoint_release(struct gw_audit_checkpoint *c);

/* The RFC 3161 timestamp token of checkpoint seq (over its signed JWS,
 * crypto/tsa.h), kept with the TSA's URL and the token's time: put keeps
 * the first one given; get gives a copy in *der (new; NULL when the
 * checkpoint has none yet). */
gw_rc gw_audit_token_put(struct gw_audit *a, uint64_t seq,
			 const unsigned char *der, size_t len, const char *tsa,
			 int64_t gen_ms, struct gw_err *err);
gw_rc gw_audit_token_get(struct gw_audit *a, uint64_t seq, unsigned char **der,
			 size_t *len, int64_t *gen_ms, struct gw_err *err);

/* Flush, then publish a checkpoint of the whole log, signed with opts.key
 * (or unsigned when it is NULL), into *out (may be NULL). */
gw_rc gw_audit_checkpoint(struct gw_audit *a, struct gw_audit_checkpoint *out,
			  struct gw_err *err);

/* Checkpoint number seq (0: the latest) into *out. GW_ERR_USAGE when
 * there is no such checkpoint. */
gw_rc gw_audit_checkpoint_get(struct gw_audit *a, uint64_t seq,
			      struct gw_audit_checkpoint *out,
			      struct gw_err *err);

/* Call cb for each checkpoint in order (c borrowed for the call). */
gw_rc gw_audit_checkpoint_each(struct gw_audit *a,
			       int (*cb)(void *arg,
					 const struct gw_audit_checkpoint *c),
			       void *arg, struct gw_err *err);

/* Verify the signed checkpoint text (a flattened JWS) with v and parse it
 * into out (jws copied in, origin filled). GW_ERR_REFUSED for a bad
 * signature or a payload that is not a checkpoint (origin missing, not a
 * string or longer than 127 bytes included); signer (may be NULL) gets the
 * signer's subject. v NULL accepts only an unsigned checkpoint (the plain
 * checkpoint JSON object), for test logs without a key. */
gw_rc gw_audit_checkpoint_parse(const struct gw_sign_verifier *v,
				const char *text, size_t len,
				struct gw_audit_checkpoint *out,
				char signer[256], struct gw_err *err);

/* ---- queries ---- */

struct gw_audit_filter {
	int64_t since_ms, until_ms; /* 0: open */
	const char *partner;	    /* sender or receiver */
	const char *kind;	    /* event or message kind */
	const char *outcome;
	const char *msg_id;
	uint64_t first, last; /* index range, last 0: open */
};

/* Commit what is buffered, then call cb for each entry matching f (NULL:
 * all) in index order;
 * e is borrowed for the call; cb returns non-zero to stop. */
gw_rc gw_audit_query(struct gw_audit *a, const struct gw_audit_filter *f,
		     int (*cb)(void *arg, const struct gw_audit_entry *e),
		     void *arg, struct gw_err *err);

/* ---- verification and proofs ---- */

/* Progress callback for long operations (done of total). */
typedef void (*gw_audit_progress_fn)(void *arg, uint64_t done, uint64_t total);

/* Check the whole log: entries contiguous, each leaf hash recomputed from
 * the stored entry, the tree root at every checkpoint's size equal to the
 * checkpoint's root, each checkpoint's signature valid under v (may be
 * NULL: signatures not checked) and the stored frontier equal to the
 * recomputed one. GW_ERR_REFUSED with a message naming the first bad
 * entry ("entry 42 (ID): leaf hash does not match the stored entry") or
 * checkpoint. *checked (may be NULL) gets the number of entries read. */
gw_rc gw_audit_verify(struct gw_audit *a, const struct gw_sign_verifier *v,
		      gw_audit_progress_fn progress, void *arg,
		      uint64_t *checked, struct gw_err *err);

/* Inclusion proof of the n entries indexes[0..n) (each < size <= the
 * log's size) in the tree of size size, as the JSON document of
 * docs/AUDIT.md appended to out; checkpoint (may be NULL) is embedded and
 * must have that size (GW_ERR_USAGE otherwise). */
gw_rc gw_audit_prove(struct gw_audit *a, const uint64_t *indexes, size_t n,
		     uint64_t size,
		     const struct gw_audit_checkpoint *checkpoint,
		     struct gw_buf *out, struct gw_err *err);

/* Consistency proof between the checkpoints from and to (from->size <=
 * to->size) as JSON appended to out. */
gw_rc gw_audit_prove_consistency(struct gw_audit *a,
				 const struct gw_audit_checkpoint *from,
				 const struct gw_audit_checkpoint *to,
				 struct gw_buf *out, struct gw_err *err);

/* What a verified proof showed (gw_audit_verify_proof, and
 * gw_audit_verify_consistency for the newer checkpoint). */
struct gw_audit_proof_info {
	uint64_t seq, size; /* the checkpoint's sequence number and size */
	size_t entries;	    /* entries proven (0 for consistency) */
	char msg_id[128];   /* the proven entries' message id */
	char signer[256];   /* the checkpoint signer's subject ("" unsigned) */
	char origin[128];   /* the checkpoint's origin (the log's name) */
	uint64_t seq1, size1; /* consistency: the older checkpoint */
};

/* What an auditor requires of a proof's checkpoints besides a valid
 * signature: a trust store accepts any certificate of its CA, so another
 * gateway's checkpoint would pass without these. NULL members (or a NULL
 * struct) are not checked. Both are compared exactly. */
struct gw_audit_expect {
	const char *origin; /* the checkpoint's "origin" (audit.name) */
	const char *signer; /* the signer's subject, RFC 2253 as printed */
};

/* Verify the inclusion proof document proof[0..len). The tree size and
 * root are taken from checkpoint (a flattened JWS verified with v) when
 * given, else from the checkpoint embedded in the proof (verified with v),
 * whose origin and signer must match want (borrowed, may be NULL). v may
 * be NULL only for unsigned test logs (a signed checkpoint is then
 * refused). Each entry's leaf hash is recomputed from the entry object in
 * the proof, which must have exactly the members of docs/AUDIT.md (index
 * an integer, the others strings); the entries must be of one message and
 * have different leafIndex values. GW_OK when it holds; GW_ERR_REFUSED
 * with the reason; GW_ERR_PARSE for a malformed file. info (may be NULL)
 * is filled. */
gw_rc gw_audit_verify_proof(const struct gw_sign_verifier *v,
			    const struct gw_audit_expect *want,
			    const char *proof, size_t len,
			    const char *checkpoint, size_t clen,
			    struct gw_audit_proof_info *info,
			    struct gw_err *err);

/* Verify a consistency proof document; its two checkpoints are taken from
 * the files given (old, new; may be NULL) or else from the proof, verified
 * with v, checked against want (may be NULL) and must have the same
 * origin. info (may be NULL) gets the newer checkpoint in seq, size,
 * signer and origin, the older in seq1, size1. Errors as above. */
gw_rc gw_audit_verify_consistency(const struct gw_sign_verifier *v,
				  const struct gw_audit_expect *want,
				  const char *proof, size_t len,
				  const char *old_cp, size_t old_len,
				  const char *new_cp, size_t new_len,
				  struct gw_audit_proof_info *info,
				  struct gw_err *err);

/* The archived payload with the given hex SHA-256 into out (appended).
 * GW_ERR_USAGE when it is not (or no longer) archived. */
gw_rc gw_audit_payload(struct gw_audit *a, const char *digest,
		       struct gw_buf *out, struct gw_err *err);

/* Drop archived payloads older than the retention. */
gw_rc gw_audit_prune(struct gw_audit *a, struct gw_err *err);

#endif
