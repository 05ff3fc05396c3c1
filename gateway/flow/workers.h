/*
 * workers.h - the pool of verification workers (flow/workers.c): threads
 * that run gw_check_signed, and sign a JSON receipt ahead, beside the
 * event loop, which collects the finished jobs when woken through a pipe.
 */
#ifndef GW_WORKERS_H
#define GW_WORKERS_H

#include <stddef.h>

#include "base/common.h"
#include "flow/receive_check.h"
#include "flow/receive_receipt.h"
#include "flow/receive_req.h"

#define MAX_WORKERS 64

struct gw_workers;

/* One request handed to the workers: its copy of the body and what the
 * loop needs to finish it. */
struct gw_job {
	struct gw_job *next;
	struct gw_recv_req r;
	char *body;
	size_t len;
	const char *ctype; /* static */
	int xml;
	char sha[65];
	char peer_subject[256];
	char peer_sha[65];
	char partner[64];
	struct gw_check c;
};

/* Called in the loop for each finished job j (borrowed: freed after). */
typedef void gw_workers_done_fn(void *arg, struct gw_job *j);

struct gw_config;

/* n workers (at most MAX_WORKERS), each with its own verifier of the trust
 * folder trust, allowing the algorithms of cfg's trust: algorithms
 * (borrowed), and validator; rs (borrowed, must outlive the pool) signs
 * JSON receipts ahead with a software key. *out is new, freed with
 * gw_workers_free. GW_ERR_INTERNAL, or the verifier's or validator's. */
gw_rc gw_workers_new(const struct gw_receipt_signer *rs, int n,
		     const char *trust, const struct gw_config *cfg,
		     struct gw_workers **out, struct gw_err *err);

/* Stop and join the workers; unfinished jobs are freed. Accepts NULL. */
void gw_workers_free(struct gw_workers *p);

/* Hand a request to the workers (everything copied, r by value). 0 when
 * queued, -1 when out of memory (the caller checks it in the loop). */
int gw_workers_submit(struct gw_workers *p, const struct gw_recv_req *r,
		      const char *partner, const char *peer_subject,
		      const char *peer_sha, const char *ctype, int xml,
		      const char *body, size_t len, const char *sha);

/* The file descriptor that becomes readable when jobs are done. */
int gw_workers_fd(const struct gw_workers *p);

/* In the loop, when gw_workers_fd is readable: done(arg, job) for each
 * finished job, which is freed after. */
void gw_workers_collect(struct gw_workers *p, gw_workers_done_fn *done,
			void *arg);

/* The number of workers running (0 for NULL). */
int gw_workers_count(const struct gw_workers *p);

/* Each worker's trust store read again (SIGHUP); a failure keeps the old
 * one and is logged. */
void gw_workers_reload_trust(struct gw_workers *p, const struct gw_config *cfg);

#endif
