/*
 * cmd_queue.h - the forwarding commands: "send" (validate and enqueue
 * durably), "queue" (ls, show, retry, drop) and "deliver" (drain the
 * outbox to the routed destinations) and "sync" (send what is new or
 * changed in the configured sources).
 */
#ifndef GW_CMD_QUEUE_H
#define GW_CMD_QUEUE_H

#include <jansson.h>

#include "base/common.h"
#include "crypto/sign.h"
#include <stddef.h>

int gw_cmd_send(int argc, char **argv);
int gw_cmd_queue(int argc, char **argv);
int gw_cmd_deliver(int argc, char **argv);
int gw_cmd_sync(int argc, char **argv);

struct gw_config;
struct gw_sign_key;
/* The key of cfg's signing: section into *k (new, the caller frees it
 * with gw_sign_key_free), NULL when there is none, with the configured
 * XML-DSig and JWS algorithms. Errors: as
 * gw_sign_key_load. */
gw_rc gw_cmd_load_signer(const struct gw_config *cfg, struct gw_sign_key **k,
			 enum gw_sign_alg *xml_alg, enum gw_sign_alg *jws_alg,
			 struct gw_err *err);
struct gw_outbox;

struct gw_audit;

/* What send does, for messages already in memory: validate, sign, route
 * and enqueue bufs[0..n) (lengths lens, named names in messages) in one
 * durable transaction. Takes the buffers (freed, set to NULL); queued[i]
 * is set to 1 for each message now in the outbox. Each step is noted in
 * audit (borrowed, may be NULL). Returns the exit status. */
int gw_send_buffers(struct gw_config *cfg, struct gw_outbox *o, char **names,
		    char **bufs, size_t *lens, int n, int *queued,
		    struct gw_audit *audit);

/* Wire-format variants of messages being sent or forwarded (see
 * gw_split_formats). Zero it before use; release with gw_variants_release.
 * fmt is the converter (made on first use unless the caller sets it);
 * with keep_fmt the caller owns it and the release leaves it. */
struct gw_format;
struct gw_profile;
struct gw_forwarding;
struct gw_out_msg;
struct gw_variants {
	struct gw_format *fmt;
	int keep_fmt;
	struct gw_out_msg *v; /* the variants, ready for gw_outbox_enqueue */
	char **bodies, **ids;
	const char **of; /* the canonical id each variant converts */
	size_t n;
	struct gw_profile **profs; /* profiles loaded for these messages */
	size_t nprofs;
};

/* Frees what vs holds (and vs->fmt unless keep_fmt); vs can be used
 * again. */
void gw_variants_release(struct gw_variants *vs);

/*
 * Destinations of m (routed by fw) that want a wire format
 * (destinations: NAME: format:, profile:) get their own outbox message in
 * vs: the canonical message msg (already validated: its schema and rules
 * are not checked again) converted by the format adapter (output
 * validated against the format's schema), signed with key (may be NULL:
 * unsigned) like any other message, under an id derived from m->id and
 * the format (gw_format_wire_id: stable, so resending is idempotent).
 * Those destinations are removed from m->dests (a mutable array); one
 * variant per format and profile. Errors: the first conversion's or
 * signature's, naming the destination and format; m->dests then holds the
 * destinations without a format (the others get nothing) and vs the
 * variants made before the failure.
 */
gw_rc gw_split_formats(const struct gw_forwarding *fw,
		       const struct gw_sign_key *key, enum gw_sign_alg xml_alg,
		       enum gw_sign_alg jws_alg, struct gw_out_msg *m,
		       const json_t *msg, struct gw_variants *vs,
		       struct gw_err *err);

#endif
