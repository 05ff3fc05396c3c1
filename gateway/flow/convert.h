/*
 * convert.h - the convert and sign steps of the pipeline, shared by send
 * (cli/cmd_queue.c) and the server's forwarding (net/server.c): a
 * validated message signed with the gateway's key, and the wire-format
 * variants of a message for the destinations that name a format.
 */
#ifndef GW_CONVERT_H
#define GW_CONVERT_H

#include <jansson.h>
#include <stddef.h>

#include "base/common.h"
#include "crypto/sign.h"

struct gw_validated;

/* Sign a validated message (res, from gw_validate_buf: borrowed; its XML
 * tree is signed in place): an enveloped XML-DSig for XML, a flattened JWS
 * over the RFC 8785 form of buf[0..len) for JSON. *out is new. */
gw_rc gw_sign_validated(const struct gw_sign_key *k, enum gw_sign_alg xml_alg,
			enum gw_sign_alg jws_alg, struct gw_validated *res,
			const char *buf, size_t len, char **out, size_t *olen,
			struct gw_err *err);

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

/* The SHA-256 (hex) of the canonical unsigned content of msg: its RFC 8785
 * form, after variant (a wire format's key, or NULL for the canonical
 * message) and a newline. What the outbox compares to tell a resend of
 * the same message from new content under the same id (gw_out_msg
 * content_sha). GW_ERR_NOMEM. */
gw_rc gw_content_digest(const json_t *msg, const char *variant, char out[65],
			struct gw_err *err);

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
