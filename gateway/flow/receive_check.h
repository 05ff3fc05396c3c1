/*
 * receive_check.h - the CPU-heavy steps of receiving a message, which
 * need nothing shared: parse with limits, verify the signature against
 * the trust store, take what was signed (decoding a wire format) and
 * validate it. Run in the event loop or in a verification worker
 * (flow/workers.c), each with its own verifier and validator.
 */
#ifndef GW_RECEIVE_CHECK_H
#define GW_RECEIVE_CHECK_H

#include <jansson.h>
#include <stddef.h>

#include "base/common.h"
#include "crypto/sign.h"
#include "flow/receive_formats.h"
#include "model/validate.h"

/*
 * What the CPU-heavy steps of a POST found: parse with limits, signature,
 * what was signed as a canonical message, validation. Filled by
 * gw_check_signed (in the event loop, or in a worker thread with the
 * worker's own verifier and validator), read by the rest of the pipeline (flow/receive.c) in the loop.
 */
struct gw_check {
	int status;	/* parse or signature refused: the HTTP status */
	int vstatus;	/* validation refused (checked after the signer) */
	int sig_reason; /* a signature failure's reason, or -1 */
	int unsigned_wire;
	char detail[GW_ERR_MSG_MAX + 128];
	json_t *errors; /* validation errors (array) */
	struct gw_sign_result sres;
	struct gw_validated val;
	/* the receipt signed ahead by a worker (software key, JSON), owned;
	 * NULL: post_finish signs it in the loop */
	char *rcpt;
	size_t rlen;
	const char *rtype; /* static */
};

/* Frees what c owns (errors, the validated message, the receipt); c itself
 * is the caller's. */
void gw_check_release(struct gw_check *c);

/*
 * Parse body[0..len) (XML when xml, else JSON or a compact JWS) with the
 * safe parsers, verify its signature with ver, take what was signed (for
 * a wire format fmt, decoded to the canonical message; without an XML-DSig
 * only when unsigned_ok, the client certificate peer_subject standing for
 * the signer) and validate it with vd. Fills c (the caller's, released
 * with gw_check_release). Touches nothing shared but ver, vd and fmt's
 * converter (so fmt only in the event loop). All strings borrowed.
 */
void gw_check_signed(const struct gw_sign_verifier *ver,
		     struct gw_validator *vd,
		     const struct gw_server_format *fmt, int unsigned_ok,
		     const char *partner, const char *peer_subject,
		     const char *body, size_t len, int xml, struct gw_check *c);

/* 1 when id can be a message id here: lowercase hex and '-', 1 to 63
 * characters (the inbox and the drop folder name files after it). */
int gw_check_msg_id(const char *id);

#endif
