/*
 * receive.h - the receive pipeline of the inbound server, without the
 * HTTP library: the receiver (the server's configuration-derived state:
 * configuration, partners, routes, verifier, validator, receipt signer,
 * inbox, outbox, audit log, internal targets; created and freed in
 * flow/receive_state.c), the events of the audit log, and the steps of
 * POST /v1/messages and GET /v1/messages/ID/receipt. The transport
 * (net/server.c) hands each request in as a struct gw_recv_req and gets
 * the answers back through struct gw_recv_io.
 */
#ifndef GW_RECEIVE_H
#define GW_RECEIVE_H

#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>

#include "audit/audit.h"
#include "base/common.h"
#include "crypto/sign.h"
#include "flow/deliver.h"
#include "flow/metrics.h"
#include "flow/partners.h"
#include "flow/receive_check.h"
#include "flow/receive_formats.h"
#include "flow/receive_receipt.h"
#include "flow/receive_req.h"
#include "flow/workers.h"
#include "model/config.h"
#include "model/validate.h"
#include "store/inbox.h"
#include "store/outbox.h"
#include "store/target.h"

/* How the pipeline answers: the transport's functions (net/server.c). */
struct gw_recv_io {
	/* Answer r with status and body[0..len) of ctype (borrowed, copied
	 * out); with replay, the header Lienthong-Replay: true. */
	void (*reply)(struct gw_recv_req *r, int status, const char *reason,
		      const char *ctype, const char *body, size_t len,
		      int replay);
	/* Answer r with an RFC 9457 problem (detail and errors borrowed,
	 * errors may be NULL) and record the refusal. */
	void (*problem)(struct gw_recv_req *r, int status, const json_t *errors,
			const char *detail);
	/* Run gw_recv_flush soon, in the loop (the batch has its first
	 * message). */
	void (*flush_soon)(void *arg);
	/* r was answered: its connection's next request gets its own
	 * time. */
	void (*rearm)(struct gw_recv_req *r);
	void *arg;
};

/* One accepted message waiting for its batch to be committed. */
struct gw_recv_pending;

/*
 * The receiving side of the server. Everything the configuration makes
 * (the first block) is set up by gw_receiver_init/_load/_open and freed
 * by gw_receiver_release, in flow/receive_state.c.
 */
struct gw_receiver {
	char *conf_path;
	struct gw_config *cfg;
	struct gw_partners partners;
	struct gw_forwarding fw; /* fw_lock guards it (SIGHUP) */
	struct gw_validator *validator;
	struct gw_sign_verifier *verifier;
	struct gw_receipt_signer sign; /* key, algorithms, organization */
	struct gw_inbox *inbox;
	struct gw_outbox *outbox;
	struct gw_audit *audit; /* NULL without an audit: section */
	char *drop_dir;		/* NULL: no drop folder */
	char *outbox_path;
	char *inbox_path;
	char **webhooks; /* destinations every accepted message goes to */
	size_t nwebhooks;
	struct gw_target *target; /* the internal SQLite target, or NULL */
	int nworkers;		  /* server.workers */
	int bg_nice;		  /* server.background_nice */

	struct gw_recv_io io;
	/* how the delivery thread sends (net/client.c), set by the transport */
	const struct gw_http_transport *http;
	struct gw_workers *pool;       /* verification workers, or NULL */
	struct gw_recv_pending *batch; /* accepted, waiting for the commit */
	size_t nbatch, batch_cap;
	struct gw_metrics m;

	/* the delivery thread (flow/inbound.c) */
	int deliver;
	pthread_t thread;
	int thread_running;
	volatile sig_atomic_t dstop;
	struct gw_forwarding dfw;

	/* the internal delivery thread (flow/inbound.c) */
	pthread_mutex_t lock, fw_lock;
	pthread_cond_t cond;
	pthread_t idl_thread;
	int idl_running, idl_wake, idl_stop;
};

/* One server event; strings borrowed, NULL when unknown. The fields are
 * those of an audit entry (audit/audit.h). */
struct gw_recv_event {
	const char *event; /* received, refused, validated, stored,
			      receipt-sent, delivered, forwarded */
	const char *msg_id;
	const char *partner;
	const char *msg_kind;
	const char *sender;
	const char *outcome; /* ok, refused, failed */
	const char *reason;  /* why (refused) or a detail */
	const char *digest;  /* hex SHA-256 of the bytes received */
	const char *signer;
	int status;	     /* HTTP status answered, 0 when none */
	const void *payload; /* the bytes received, archived with the entry */
	size_t plen;
};

/*
 * Record a server event: an entry of the audit log (direction "in";
 * thread-safe, never blocks on the disk) when the configuration has an
 * audit: section, and a line of the structured log. From the event loop
 * and from the internal delivery thread; every refusal goes through here.
 */
void gw_receiver_event(struct gw_receiver *s, const struct gw_recv_event *e);

/* An event about the request r (what is known of its message so far). */
void gw_recv_req_event(const struct gw_recv_req *r, const char *event,
		       int status, const char *outcome, const char *reason);

/* Answer r with a problem whose detail is printf(fmt, ...), through
 * s->io.problem. */
void gw_recv_problem(struct gw_recv_req *r, int status, const json_t *errors,
		     const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/*
 * POST /v1/messages from partner pt (borrowed), whose client certificate
 * is peer_subject / peer_sha: the body's media type ctype_h (the header,
 * may be NULL), body[0..len) (NULL when not read: len > max_body). Chooses
 * the format, then verifies, validates, checks the partner's rights,
 * deduplicates and adds the message to the batch of the group commit
 * (answered by gw_recv_flush), or answers a problem. Returns 1 when the
 * request was handed to a verification worker, which has its own copy of
 * the body (the transport may free its own now), else 0.
 */
int gw_recv_post(struct gw_recv_req *r, const struct gw_partner *pt,
		 const char *peer_subject, const char *peer_sha,
		 const char *ctype_h, const char *body, size_t len,
		 size_t max_body);

/* A verification worker's job is done (gw_workers_done_fn; arg is the
 * receiver): the rest of the POST in the loop. */
void gw_recv_post_done(void *arg, struct gw_job *j);

/* In the loop: commit the batch in one transaction, then answer every
 * request in it: the receipt, or 503 when the store could not be written. */
void gw_recv_flush(struct gw_receiver *s);

/* Drop the batch without answering (the loop has ended). */
void gw_recv_batch_clear(struct gw_receiver *s);

/* GET /v1/messages/ID/receipt from partner pt: the receipt of a message
 * it sent, or 404. */
void gw_recv_receipt(struct gw_recv_req *r, const struct gw_partner *pt,
		     const char *id);

/* Seconds since t0 (CLOCK_MONOTONIC). */
double gw_recv_since(const struct timespec *t0);

/* Wake the internal delivery thread (something was committed). */
void gw_receiver_wake(struct gw_receiver *s);

#endif
