/*
 * jws.h - JSON Web Signature (RFC 7515) and JSON Web Keys (RFC 7517) for
 * the signing subsystem (internal: use sign.h). Messages are signed over
 * their RFC 8785 canonical form (jcs.h), with the signer's chain in the
 * protected header's x5c.
 */
#ifndef GW_JWS_H
#define GW_JWS_H

#include <jansson.h>

#include "crypto/trust.h"

/* See gw_sign_json. */
gw_rc gw_jws_sign(const struct gw_sign_key *k, enum gw_sign_alg alg,
		  const char *json, size_t len, unsigned flags,
		  struct gw_buf *out, struct gw_err *err);

/* See gw_sign_verify_jws. */
gw_rc gw_jws_verify(const struct gw_sign_verifier *v, const char *msg,
		    size_t len, const char *payload, size_t plen,
		    unsigned flags, struct gw_sign_result *res,
		    struct gw_buf *content, struct gw_err *err);

/* Fill out (zeroed by the caller) from the JWK jwk (borrowed): RSA, EC
 * (P-256, P-384, P-521), OKP (Ed25519) public keys or an oct secret. */
gw_rc gw_jwk_import(const json_t *jwk, struct gw_pinned_key *out,
		    struct gw_err *err);

/* Append pk as a compact JWK (members sorted), with the private members
 * when with_private. */
gw_rc gw_jwk_export(EVP_PKEY *pk, int with_private, struct gw_buf *out,
		    struct gw_err *err);

#endif
