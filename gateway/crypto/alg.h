/*
 * alg.h - the vocabulary of the crypto layer, with no OpenSSL in sight:
 * signature algorithms and their JOSE names, why a verification failed,
 * what it found, the flags of signing and verification, and the figures
 * of a verifier's chain cache. Every crypto file and every caller of
 * sign.h shares it; it depends on nothing but base/.
 */
#ifndef GW_ALG_H
#define GW_ALG_H

#include <stddef.h>

#include "base/common.h"

/* Signature algorithms, named as in JOSE (RFC 7518, RFC 8037). For
 * XML-DSig (RFC 6931, RFC 9231): RSnnn is rsa-shannn, PSnnn
 * shannn-rsa-MGF1 (salt as long as the digest, MGF1 with the same hash),
 * ESnnn ecdsa-shannn, EdDSA eddsa-ed25519 (or eddsa-ed448). The numbers
 * are not stored anywhere (names are): new values go before OTHER. */
enum gw_sign_alg {
	GW_SIGN_ALG_DEFAULT = 0, /* from the key: RS256, ESnnn or EdDSA */
	GW_SIGN_ALG_RS256,
	GW_SIGN_ALG_PS256,
	GW_SIGN_ALG_ES256,
	GW_SIGN_ALG_ES384,
	GW_SIGN_ALG_ES512,
	GW_SIGN_ALG_EDDSA,
	GW_SIGN_ALG_HS256,
	GW_SIGN_ALG_RS384,
	GW_SIGN_ALG_RS512,
	GW_SIGN_ALG_PS384,
	GW_SIGN_ALG_PS512,
	GW_SIGN_ALG_OTHER /* verified through xmlsec (interop profile) */
};

/* The asymmetric algorithms, which a trust store allows by default
 * (gw_sign_verifier_allow in sign.h): a bit (1u << alg) each. */
#define GW_SIGN_ALGS_ASYMMETRIC                                  \
	((1u << GW_SIGN_ALG_RS256) | (1u << GW_SIGN_ALG_RS384) | \
	 (1u << GW_SIGN_ALG_RS512) | (1u << GW_SIGN_ALG_PS256) | \
	 (1u << GW_SIGN_ALG_PS384) | (1u << GW_SIGN_ALG_PS512) | \
	 (1u << GW_SIGN_ALG_ES256) | (1u << GW_SIGN_ALG_ES384) | \
	 (1u << GW_SIGN_ALG_ES512) | (1u << GW_SIGN_ALG_EDDSA))

/* Why a verification failed. */
enum gw_sign_reason {
	GW_SIGN_VALID = 0,
	GW_SIGN_BAD_DIGEST,    /* the signed content was changed */
	GW_SIGN_BAD_SIGNATURE, /* the signature does not match the key */
	GW_SIGN_UNTRUSTED,     /* no chain to a trust anchor, wrong key usage */
	GW_SIGN_EXPIRED,       /* a certificate of the chain is out of date */
	GW_SIGN_REVOKED,       /* a certificate of the chain is in a CRL */
	GW_SIGN_WRAPPED,       /* signature structure not the one allowed */
	GW_SIGN_UNSUPPORTED,   /* algorithm or form this gateway refuses */
	GW_SIGN_MALFORMED      /* not a signed message at all */
};

/* Flags for gw_sign_json. */
#define GW_SIGN_FLATTENED 0x1u /* flattened JSON serialization */
#define GW_SIGN_DETACHED 0x2u  /* payload left out (RFC 7515 appendix F) */

/* Flags for verification. GW_SIGN_INTEROP is for test vectors from other
 * implementations only: XML signatures may then use any Reference, any
 * transform and any algorithm that xmlsec knows (sha1, c14n 1.0, XPath,
 * enveloping Objects by Id). */
#define GW_SIGN_INTEROP 0x100u

/* What a verification found. subject is the signer's certificate subject
 * (RFC 2253) or, with pinned keys, the key's label. */
struct gw_sign_result {
	enum gw_sign_reason reason;
	enum gw_sign_alg alg;
	char subject[256];
	char detail[256];
};

struct gw_sign_key;	 /* a private key, its certificate and chain */
struct gw_sign_verifier; /* a trust store or pinned keys */

/* "RS256" -> GW_SIGN_ALG_RS256 (case-sensitive JOSE names: RS256, RS384,
 * RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA, HS256).
 * Returns -1 for an unknown name ("none" included). */
int gw_sign_alg_parse(const char *name);
const char *gw_sign_alg_name(enum gw_sign_alg alg);
/* "bad digest", "bad signature", "untrusted", "expired", "revoked",
 * "wrapped", "unsupported algorithm", "malformed". */
const char *gw_sign_reason_name(enum gw_sign_reason r);

/* Figures of a verifier's verified-chain cache (gw_sign_verifier_cache_stats
 * in sign.h). */
struct gw_sign_cache_stats {
	unsigned long hits;	 /* lookups answered from the cache */
	unsigned long misses;	 /* lookups that checked the chain */
	unsigned long inserts;	 /* chains that passed and were cached */
	unsigned long evictions; /* entries dropped for room (LRU) */
	unsigned long flushes;	 /* flushes and reloads */
	size_t entries;		 /* entries held now */
};

#endif
