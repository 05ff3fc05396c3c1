/*
 * keys.h - the primitives of the crypto layer over OpenSSL, for the files
 * of crypto/ only: what a signing key and a pinned key hold, signing and
 * verifying bytes with an algorithm, base64, certificate subjects,
 * OpenSSL's error text and the refusal of a verification. Nothing here
 * calls up into trust, jws, xmldsig or sign.
 */
#ifndef GW_KEYS_H
#define GW_KEYS_H

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "base/common.h"
#include "crypto/alg.h"

struct gw_sign_key {
	EVP_PKEY *pkey;		/* owned */
	X509 *cert;		/* owned, may be NULL */
	STACK_OF(X509) * chain; /* owned, may be NULL */
	void *engine; /* the PKCS#11 engine holding the key, or NULL */
	/* base64 of the DER of cert, then of each chain certificate, made
	 * once at load for KeyInfo and x5c (owned; n_b64 0 without cert) */
	char **b64;
	size_t n_b64;
};

/* One pinned verification key: an asymmetric public key or an oct secret. */
struct gw_pinned_key {
	EVP_PKEY *pkey;	       /* owned, NULL for a secret */
	unsigned char *secret; /* owned */
	size_t secret_len;
	char *alg; /* JWK "alg" when given, owned */
	char *kid; /* JWK "kid" when given, owned */
};

/* Refuse with reason r: sets res->reason, res->detail and err (the message
 * is "REASON: detail"); returns GW_ERR_REFUSED. */
gw_rc gw_sign_refuse(struct gw_sign_result *res, struct gw_err *err,
		     enum gw_sign_reason r, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Last OpenSSL error as text (thread-local static buffer), queue cleared. */
const char *gw_ssl_error(void);

/* Base64 (standard, for XML) and base64url (no padding, for JOSE). The
 * decoders ignore white space in standard base64 and refuse bad input. */
gw_rc gw_b64_encode(const unsigned char *in, size_t len, int url,
		    struct gw_buf *out);
gw_rc gw_b64_decode(const char *in, size_t len, int url, unsigned char **out,
		    size_t *outlen);

/* Sign / verify data with a digest and padding chosen by alg. ECDSA
 * signatures are the fixed-size r||s form of XML-DSig and JOSE. */
gw_rc gw_pk_sign(EVP_PKEY *pkey, enum gw_sign_alg alg, const void *data,
		 size_t len, unsigned char **sig, size_t *siglen,
		 struct gw_err *err);
/* Returns 1 valid, 0 invalid, -1 key does not fit alg. */
int gw_pk_verify(EVP_PKEY *pkey, enum gw_sign_alg alg, const void *data,
		 size_t len, const unsigned char *sig, size_t siglen);

/* The default algorithm for pkey, or GW_SIGN_ALG_DEFAULT when none. */
enum gw_sign_alg gw_pk_default_alg(EVP_PKEY *pkey);
/* 1 when alg can be used with pkey. */
int gw_pk_fits(EVP_PKEY *pkey, enum gw_sign_alg alg);

/* Subject of x in RFC 2253 form into buf. */
void gw_x509_subject(X509 *x, char *buf, size_t size);

#endif
