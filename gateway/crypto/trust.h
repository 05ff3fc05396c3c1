/*
 * trust.h - internal to the signing subsystem (sign.c, xmldsig.c, jws.c,
 * trust.c): the definitions of the signer and verifier handles, the trust
 * store check and small crypto helpers. Includes OpenSSL; nothing outside
 * the signing files may include it (use sign.h).
 */
#ifndef GW_TRUST_H
#define GW_TRUST_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <time.h>

#include "base/common.h"
#include "crypto/keys.h"

struct gw_trust_state; /* store, CRLs and verified-chain cache (trust.c) */

struct gw_sign_verifier {
	struct gw_trust_state *trust; /* trust mode when not NULL, owned */
	STACK_OF(X509) * untrusted;   /* extra intermediates, may be NULL */
	struct gw_pinned_key *keys;
	size_t nkeys;
	int allow_keyvalue;
	/* the algorithms this verifier accepts, a bit (1u << alg) each; 0
	 * for any (pinned keys by default); GW_SIGN_ALGS_ASYMMETRIC for a
	 * trust store by default (gw_sign_verifier_allow) */
	unsigned allowed;
	char label[200]; /* what signed, in pinned-key mode */
};

/* 1 when v accepts alg (its allow-list, see gw_sign_verifier_allow). */
int gw_verifier_allows(const struct gw_sign_verifier *v, enum gw_sign_alg alg);

/* Load dir into a new X509_STORE (anchors and CRLs). */
gw_rc gw_trust_load(const char *dir, X509_STORE **out, int *has_crl,
		    struct gw_err *err);

/*
 * The trust state of a trust-store verifier: the X509_STORE with its CRLs
 * and a cache of verified chains, shared by every thread that verifies
 * with the verifier (one mutex guards all of it; chain building itself
 * runs outside the lock on a counted reference to the store).
 *
 * A cache entry maps the SHA-256 of the certificates a message presents
 * (their DER in the message's order, with the leaf rule and the key usage
 * checked) to the verified leaf's public key and subject, valid from the
 * latest notBefore of the chain until the earliest of: every notAfter of
 * the chain, the earliest nextUpdate of the store's CRLs, and the time of
 * verification plus the TTL. Only chains that passed are cached. A hit
 * saves decoding, path building and CRL checks, never the signature check,
 * which the caller makes with the key returned.
 */
#define GW_TRUST_MAX_CERTS 16	 /* certificates one message may present */
#define GW_TRUST_KEY_LEN 32	 /* SHA-256 */
#define GW_TRUST_CACHE_SIZE 1024 /* default entries */
#define GW_TRUST_CACHE_TTL 300	 /* default seconds */

/* The DER certificates a message presents, in its order. */
struct gw_trust_ders {
	unsigned char *der[GW_TRUST_MAX_CERTS]; /* owned */
	size_t len[GW_TRUST_MAX_CERTS];
	size_t n;
};

/* Append der (takes ownership, freed even on failure). GW_ERR_REFUSED when
 * d already holds GW_TRUST_MAX_CERTS certificates. */
gw_rc gw_trust_ders_add(struct gw_trust_ders *d, unsigned char *der,
			size_t len);
/* Free the certificates of d (zero-initialised or filled by _add). */
void gw_trust_ders_release(struct gw_trust_ders *d);
/* Decode every certificate of d into certs (borrowed, appended to). On a
 * certificate that does not decode returns GW_ERR_PARSE with *bad set to
 * its index; GW_ERR_NOMEM. */
gw_rc gw_trust_ders_decode(const struct gw_trust_ders *d,
			   STACK_OF(X509) * certs, size_t *bad);

/* Load dir (borrowed) into a new trust state with an empty cache of the
 * default size and TTL. Errors as gw_trust_load. */
gw_rc gw_trust_state_new(const char *dir, struct gw_trust_state **out,
			 struct gw_err *err);
/* Accepts NULL. No verification may be running. */
void gw_trust_state_free(struct gw_trust_state *t);
/* Load the folder again into a new store, then (under the lock) swap it in
 * and empty the cache; on failure the old store stays and the cache is
 * still emptied. Verifications may run meanwhile: those begun on the old
 * store finish on it but do not fill the cache. */
gw_rc gw_trust_state_reload(struct gw_trust_state *t, struct gw_err *err);
/* Empty the cache (thread-safe). */
void gw_trust_cache_flush(struct gw_trust_state *t);
/* Cache size (0 turns it off) and TTL in seconds; empties it. On
 * GW_ERR_NOMEM caching is off. */
gw_rc gw_trust_cache_config(struct gw_trust_state *t, size_t entries,
			    unsigned ttl, struct gw_err *err);
/* Verify as if at time at (0: the clock). */
void gw_trust_set_time(struct gw_trust_state *t, time_t at);
/* Counters and the current number of entries. */
void gw_trust_cache_stats(struct gw_trust_state *t,
			  struct gw_sign_cache_stats *out);

/* What a lookup leaves for gw_trust_check to cache the result under. */
struct gw_trust_probe {
	unsigned char key[GW_TRUST_KEY_LEN];
	int keyed; /* 0 when the key could not be computed (no memory) */
};

/* Compute the cache key of the certificates d presents (x5c_order: the
 * leaf is the first one, as in JWS x5c; else the one that issued none of
 * the others) into probe, and look it up. On a hit returns the leaf's
 * public key (a new reference the caller frees) and copies its subject
 * into subject; else NULL. */
EVP_PKEY *gw_trust_cache_get(struct gw_trust_state *t,
			     const struct gw_trust_ders *d, int x5c_order,
			     struct gw_trust_probe *probe, char *subject,
			     size_t size);

/* Pick the leaf of certs (borrowed): with x5c_order the first one, else the
 * one certificate that issued no other certificate of the set. */
X509 *gw_trust_leaf(STACK_OF(X509) * certs, int x5c_order);

/* Check leaf (borrowed) against v's store with the other certs as
 * untrusted helpers: chain, validity, CRLs, key usage digitalSignature.
 * Returns GW_OK, or GW_ERR_REFUSED with res->reason / detail set. Fills
 * res->subject from the leaf in any case. With probe (from the
 * gw_trust_cache_get that missed, may be NULL) a chain that passes is
 * cached under its key. */
gw_rc gw_trust_check(const struct gw_sign_verifier *v, X509 *leaf,
		     STACK_OF(X509) * certs, const struct gw_trust_probe *probe,
		     struct gw_sign_result *res, struct gw_err *err);

#endif
