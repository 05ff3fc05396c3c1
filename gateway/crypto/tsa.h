/*
 * tsa.h - RFC 3161 timestamps: the request for the SHA-256 of some bytes,
 * the check of a time-stamping authority's reply, and the verification of
 * a kept token. The audit log has its signed checkpoints timestamped
 * (flow/timestamp.c), so that a checkpoint, and every entry under its
 * Merkle root, provably existed at the token's time, whatever becomes of
 * the signer's certificate later. OpenSSL's TS_* API; the TSA's
 * certificate must chain to the given CA file and carry the critical
 * timeStamping extended key usage (checked by OpenSSL).
 */
#ifndef GW_TSA_H
#define GW_TSA_H

#include <stddef.h>
#include <stdint.h>

#include "base/common.h"

/* A TimeStampReq (DER, in *req, new) for the SHA-256 of data, with a
 * random nonce and the TSA's certificate asked for. */
gw_rc gw_tsa_request(const void *data, size_t len, unsigned char **req,
		     size_t *req_len, struct gw_err *err);

/*
 * Check a TimeStampResp (resp) to the request req made for data: granted,
 * signed by a TSA whose certificate chains to ca_file, over the SHA-256
 * of data, with the request's nonce. On success *token (new) is the
 * TimeStampToken (DER, what `openssl ts -verify -token_in` reads) and
 * *gen_ms its time. GW_ERR_REFUSED naming what is wrong (status, imprint,
 * nonce, signature, certificate), GW_ERR_PARSE for bytes that are not a
 * reply.
 */
gw_rc gw_tsa_check_reply(const unsigned char *req, size_t req_len,
			 const unsigned char *resp, size_t resp_len,
			 const void *data, size_t len, const char *ca_file,
			 unsigned char **token, size_t *token_len,
			 int64_t *gen_ms, struct gw_err *err);

/* Verify a kept token over data against ca_file; *gen_ms its time. Errors
 * as gw_tsa_check_reply. */
gw_rc gw_tsa_verify_token(const unsigned char *token, size_t token_len,
			  const void *data, size_t len, const char *ca_file,
			  int64_t *gen_ms, struct gw_err *err);

#endif
