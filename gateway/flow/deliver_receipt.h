/*
 * deliver_receipt.h - what a destination answered, checked by the sender:
 * a delivery is done only when the answer is what the destination's
 * receipt policy expects (destinations: NAME: receipt: required |
 * optional | none).
 *
 * A receipt (a JWS in any serialization, a signed XML message, an edXML
 * status, or an unsigned JSON message of kind "receipt") must be signed,
 * verify against the destination's trust store (signature, chain,
 * validity, revocation: crypto/sign.h) or pinned key, be signed by the
 * destination itself (receipt_signer: the certificate's subject; or
 * receipt_key), name the message id and bind the SHA-256 of the exact
 * bytes sent. An answer that is not a receipt at all (a bare "{"ok":
 * true}") is accepted under optional and refused under required.
 */
#ifndef GW_DELIVER_RECEIPT_H
#define GW_DELIVER_RECEIPT_H

#include <stddef.h>

#include "base/common.h"

enum gw_receipt_policy {
	GW_RECEIPT_OPTIONAL = 0, /* the default */
	GW_RECEIPT_REQUIRED,
	GW_RECEIPT_NONE /* any 2xx completes, the answer is kept unchecked */
};

enum gw_receipt_verdict {
	GW_RECEIPT_OK,	    /* a receipt, verified: the delivery is done */
	GW_RECEIPT_ABSENT,  /* no receipt and none required: done */
	GW_RECEIPT_BAD,	    /* a failed attempt (forged, wrong, missing) */
	GW_RECEIPT_REJECTED /* a verified receipt saying "rejected" */
};

/* A destination's receipt rule (in struct gw_dest, flow/deliver.h). */
struct gw_receipt_rule {
	int policy;   /* enum gw_receipt_policy */
	char *signer; /* subject its receipts are signed by */
	char *key;    /* or its pinned key file */
	char *trust;  /* trust store folder (default trust.dir) */
	char **algs;  /* allowed algorithms (trust.algorithms), NULL: the
			 verifier's default */
	void *state;  /* verifier and converter, loaded on first use */
};

/* "required", "optional", "none" -> the policy; -1 for anything else. */
int gw_receipt_policy_parse(const char *s);

/*
 * Check the answer body[0..len) of destination dest (its rule r) to the
 * delivery of msg_id whose bytes were sent[0..sent_len) (sent_sha, their
 * SHA-256 in hex when the caller has it, else NULL). variant is the
 * destination's variant key (gw_dest_variant_key: its wire format and
 * profile) or NULL: the receipt of a wire-format variant may name the
 * canonical message whose variant msg_id is (gw_format_wire_id). why (n bytes) receives one line: for OK and ABSENT
 * what was found (kept with the receipt, shown by queue show), for BAD
 * and REJECTED the reason. The verifier is loaded on first use and kept
 * in r (gw_receipt_release); one that cannot be loaded makes every
 * receipt BAD, with the reason.
 */
enum gw_receipt_verdict gw_receipt_check(struct gw_receipt_rule *r,
					 const char *dest, const char *variant,
					 const char *msg_id, const char *sent,
					 size_t sent_len, const char *sent_sha,
					 const char *body, size_t len,
					 char *why, size_t n);

/* Release what r holds (its strings and state). */
void gw_receipt_release(struct gw_receipt_rule *r);

#endif
