/*
 * receive_receipt.h - the signed receipt the inbound server answers for
 * a message it accepted: a receipt message from this gateway to the
 * sender binding the SHA-256 of the bytes received, signed with the
 * gateway's key (JWS for JSON, XML-DSig for XML, an edXML status message
 * for edXML).
 */
#ifndef GW_RECEIVE_RECEIPT_H
#define GW_RECEIVE_RECEIPT_H

#include <jansson.h>
#include <stddef.h>

#include "adapt/format.h"
#include "base/common.h"
#include "crypto/sign.h"

/* Who signs receipts, and as which organization. Set up once at start
 * (flow/receive_state.c) and not changed after, so verification workers
 * read it without a lock. All members are owned by the receiver. */
struct gw_receipt_signer {
	struct gw_sign_key *key;
	enum gw_sign_alg xml_alg, jws_alg;
	char *org_id, *org_name;
	struct gw_format *conv; /* wire formats in (decoders), edXML receipts */
};

/*
 * The signed receipt for msg (borrowed, canonical JSON) received as bytes
 * whose hex SHA-256 is sha: JWS (flattened) for JSON, XML-DSig for XML
 * (*ctype, static, says which). With wire "edxml" the receipt is an edXML
 * status message (StatusCode 03, accepted) made by the format adapter
 * with rs->conv, signed with XML-DSig. *out (*olen bytes) is new, freed by
 * the caller. GW_ERR_NOMEM, or the signer's or converter's errors.
 */
gw_rc gw_receipt_make(const struct gw_receipt_signer *rs, const json_t *msg,
		      const char *sha, int xml, const char *wire, char **out,
		      size_t *olen, const char **ctype, struct gw_err *err);

#endif
