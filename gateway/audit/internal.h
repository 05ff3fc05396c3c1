/*
 * internal.h - what the files of the audit log (gateway/audit/) share and
 * nothing else sees: the log handle, its pending entries, the entry's
 * canonical form helpers and the steps that need the log's locks.
 *
 * log.c        the log: open, close, the writer queue and its thread,
 *              commits, size and root, queries, the payload archive
 *              (not audit.c: audit.c with audit.h and this file would
 *              be an include cycle)
 * entry.c      the entry's canonical (RFC 8785) form, hex and times
 * checkpoint.c publishing and reading the log's checkpoints
 * verify.c     the full verification of a log
 * prove.c      inclusion and consistency proofs from a log
 * offline.c    checking checkpoints and proofs from their text alone
 */
#ifndef GW_AUDIT_INTERNAL_H
#define GW_AUDIT_INTERNAL_H

#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "audit/audit.h"
#include "store/store.h"

#define NSTR GW_STORE_AUDIT_NSTR /* string fields of an entry */

/* One appended entry waiting for its commit. */
struct item {
	struct gw_audit_entry e; /* strings point into strs */
	char *strs;
	void *payload; /* owned copy, NULL when not archived */
	size_t plen;
};

/*
 * Two locks: mu guards the pending batch and the index counter (held for
 * a copy only, so appending never waits for the disk); dbmu serializes
 * every use of the store and the tree. A commit takes dbmu first and then
 * the whole pending batch, so batches reach the tree in the order they
 * were appended.
 */
struct gw_audit {
	struct gw_audit_opts o;
	char *path;
	struct gw_store_audit *st;  /* the storage; under dbmu */
	struct gw_merkle_tree tree; /* committed entries; under dbmu */
	pthread_mutex_t mu, dbmu;
	pthread_cond_t cv, room; /* room: the thread took the pending */
	struct item *pend;	 /* under mu */
	size_t npend, cap;
	size_t pend_bytes;   /* strings and payloads of pend, under mu */
	struct item *retry;  /* a batch whose commit failed; under dbmu, */
	size_t nretry;	     /* nretry written under mu too */
	uint64_t next_index; /* provisional index of the next append; mu */
	int64_t oldest_ms;   /* when the oldest pending entry came */
	int thread_on, stop;
	pthread_t thread;
	gw_rc bg_rc; /* last failure of the thread, under mu */
	char bg_msg[GW_ERR_MSG_MAX];
	int64_t last_cp_ms;
	uint64_t last_cp_size;
};

/* ---- entry.c ---- */

/* Lowercase hex of p[0..n) into out (2n + 1 bytes). */
void gw_audit_hex(const uint8_t *p, size_t n, char *out);
/* Exactly 2n hex digits of s into out[0..n); -1 otherwise. */
int gw_audit_unhex(const char *s, uint8_t *out, size_t n);
/* RFC 3339 UTC with milliseconds: 2026-11-29T14:10:00.123Z */
void gw_audit_fmt_time(int64_t ms, char out[80]);
/* The reverse of gw_audit_fmt_time (that exact form only); -1 if not. */
int gw_audit_parse_time(const char *s, int64_t *ms);
/* A JSON string in the RFC 8785 form (s is valid UTF-8) appended to b. */
gw_rc gw_audit_jcs_str(struct gw_buf *b, const char *s);
/* The address of string field i (0 .. NSTR-1, the order of
 * struct gw_store_audit_row) of e. Inline: appending and committing use it
 * ten times per entry. */
static inline const char **gw_audit_field(struct gw_audit_entry *e, int i)
{
	switch (i) {
	case 0: return &e->msg_id;
	case 1: return &e->kind;
	case 2: return &e->msg_kind;
	case 3: return &e->sender;
	case 4: return &e->receiver;
	case 5: return &e->direction;
	case 6: return &e->outcome;
	case 7: return &e->reason;
	case 8: return &e->digest;
	default: return &e->signer;
	}
}

/* e as a store row (strings borrowed from e, leaf borrowed), and back
 * (strings borrowed from r). */
static inline void gw_audit_entry_to_row(const struct gw_audit_entry *e,
					 const uint8_t *leaf,
					 struct gw_store_audit_row *r)
{
	r->index = e->index;
	r->time_ms = e->time_ms;
	r->str[0] = e->msg_id;
	r->str[1] = e->kind;
	r->str[2] = e->msg_kind;
	r->str[3] = e->sender;
	r->str[4] = e->receiver;
	r->str[5] = e->direction;
	r->str[6] = e->outcome;
	r->str[7] = e->reason;
	r->str[8] = e->digest;
	r->str[9] = e->signer;
	r->leaf = leaf;
}

static inline void gw_audit_entry_from_row(const struct gw_store_audit_row *r,
					   struct gw_audit_entry *e)
{
	memset(e, 0, sizeof(*e));
	e->index = r->index;
	e->time_ms = r->time_ms;
	e->msg_id = r->str[0];
	e->kind = r->str[1];
	e->msg_kind = r->str[2];
	e->sender = r->str[3];
	e->receiver = r->str[4];
	e->direction = r->str[5];
	e->outcome = r->str[6];
	e->reason = r->str[7];
	e->digest = r->str[8];
	e->signer = r->str[9];
}

/* ---- log.c ---- */

/* Bring the tree (a cache) to the persisted size and frontier, which
 * another process writing the same log may have advanced; dbmu held. */
gw_rc gw_audit_refresh(struct gw_audit *a, struct gw_err *err);

/* ---- checkpoint.c ---- */

/* The checkpoint object in its RFC 8785 form, appended to out. */
gw_rc gw_audit_cp_json(const char *origin, const struct gw_audit_checkpoint *c,
		       struct gw_buf *out, struct gw_err *err);
/* Publish a checkpoint of the committed tree; dbmu held. */
gw_rc gw_audit_publish(struct gw_audit *a, struct gw_audit_checkpoint *out,
		       struct gw_err *err);
/* gw_audit_checkpoint_each with dbmu held. */
gw_rc gw_audit_cp_each_locked(struct gw_audit *a,
			      int (*cb)(void *arg,
					const struct gw_audit_checkpoint *c),
			      void *arg, struct gw_err *err);

#endif
