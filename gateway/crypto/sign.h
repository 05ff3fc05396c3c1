/*
 * sign.h - signing and verification of gateway messages: enveloped XML-DSig
 * for XML, JWS (RFC 7515) over the RFC 8785 canonical form for JSON.
 *
 * A signer is a private key (PEM file, optionally encrypted, or a PKCS#11
 * URI) with its certificate and the chain up to, not including, the root.
 * A verifier is either a trust store (a folder of PEM certificates, the
 * trust anchors, and CRLs) or pinned keys (a public key PEM, a certificate
 * or a JWK / JWK Set); symmetric keys (HS256) only ever come from a JWK.
 *
 * Verification is strict about what it accepts: one XML Signature, a child
 * of the document element, with one Reference URI="" and exactly the
 * enveloped-signature and exclusive C14N transforms; JWS "alg: none" is
 * refused. A refusal is GW_ERR_REFUSED with a reason in the result record;
 * other result codes mean the check could not be made (I/O, memory, bug).
 *
 * This is the facade of the crypto layer: the vocabulary (algorithms,
 * reasons, results) is in alg.h, the OpenSSL primitives in keys.c, the
 * trust store in trust.c, the two formats in jws.c and xmldsig.c; callers
 * see only this header and opaque handles.
 */
#ifndef GW_SIGN_H
#define GW_SIGN_H

#include <libxml/tree.h>
#include <stddef.h>
#include <time.h>

#include "base/common.h"
#include "crypto/alg.h"

/* Initialise libxml2, xmlsec and the OpenSSL crypto back end. Idempotent;
 * call before threads start. gw_sign_shutdown releases the global state
 * (for leak checkers); nothing may be used after it. */
gw_rc gw_sign_init(struct gw_err *err);
void gw_sign_shutdown(void);
/* While held, gw_sign_shutdown does nothing: serve holds the library for
 * its threads (a thread's runtime that fails to load a key shuts it down
 * otherwise, under the server's feet), releases it once they are joined,
 * then shuts it down. gw_sign_init and gw_sign_shutdown are thread-safe. */
void gw_sign_hold(void);
void gw_sign_release(void);

/*
 * Load a signing key. key is a PEM file (PKCS#8, traditional, encrypted or
 * not) or a PKCS#11 URI ("pkcs11:token=...;object=...", loaded through
 * the OpenSSL pkcs11 engine; the module is the URI's module-path attribute
 * or $PKCS11_MODULE_PATH). pass (may be NULL) is "env:NAME" or "file:PATH"
 * and gives the PEM passphrase or the token PIN. cert (may be NULL for
 * pinned-key use) is the signer's PEM certificate, which must match the
 * key; chain (may be NULL) holds PEM intermediates sent along with it.
 * On success *out is new; free with gw_sign_key_free. Errors: GW_ERR_IO
 * (unreadable), GW_ERR_PARSE (not a key or certificate), GW_ERR_USAGE (bad
 * pass spec, cert does not match key), GW_ERR_UNSUPPORTED.
 */
gw_rc gw_sign_key_load(const char *key, const char *pass, const char *cert,
		       const char *chain, struct gw_sign_key **out,
		       struct gw_err *err);
void gw_sign_key_free(struct gw_sign_key *k);

/* The subject (RFC 2253) of the key's certificate into out (size bytes),
 * "" when the key was loaded without one. For audit entries. */
void gw_sign_key_subject(const struct gw_sign_key *k, char *out, size_t size);

/* The key's public half as a JWK (private too when with_private and the key
 * is exportable) appended to out. For interop tests with JWK-only tools. */
gw_rc gw_sign_key_jwk(const struct gw_sign_key *k, int with_private,
		      struct gw_buf *out, struct gw_err *err);

/* Sign doc (borrowed, modified in place): appends an enveloped Signature
 * to the document element, with the certificate chain in KeyInfo. alg:
 * RS256/384/512, PS256/384/512, ES256/384/512 or EdDSA (DEFAULT picks
 * from the key); the Reference digest is SHA-256, or SHA-384 / SHA-512
 * with the algorithms of that hash. */
gw_rc gw_sign_xml(const struct gw_sign_key *k, enum gw_sign_alg alg,
		  xmlDocPtr doc, struct gw_err *err);

/* Sign the JSON text json[0..len): the JWS payload is its RFC 8785
 * canonical form; the protected header holds alg and x5c. The compact (or,
 * with GW_SIGN_FLATTENED, flattened JSON) serialization is appended to out.
 * alg: RS256/384/512, PS256/384/512, ES256/384/512 or EdDSA (DEFAULT
 * picks from the key). */
gw_rc gw_sign_json(const struct gw_sign_key *k, enum gw_sign_alg alg,
		   const char *json, size_t len, unsigned flags,
		   struct gw_buf *out, struct gw_err *err);

/* A verifier over a trust store folder: *.pem / *.crt / *.cer hold
 * anchors (and may hold X509 CRLs), *.crl hold CRLs (PEM or DER). */
gw_rc gw_sign_verifier_trust(const char *dir, struct gw_sign_verifier **out,
			     struct gw_err *err);
/* A verifier over a pinned key file: PEM public key, PEM certificate
 * (its key only; no chain check), JWK or JWK Set (oct keys allowed). */
gw_rc gw_sign_verifier_key(const char *path, struct gw_sign_verifier **out,
			   struct gw_err *err);
/* An empty pinned-key verifier, to which add_hmac adds keys. */
gw_rc gw_sign_verifier_new(struct gw_sign_verifier **out, struct gw_err *err);
/* Add untrusted intermediates (PEM file) used to build chains (before the
 * verifier is shared between threads). */
gw_rc gw_sign_verifier_add_untrusted(struct gw_sign_verifier *v,
				     const char *pem, struct gw_err *err);
/* Add a raw HMAC key (file bytes) for interop vectors. */
gw_rc gw_sign_verifier_add_hmac(struct gw_sign_verifier *v, const char *path,
				struct gw_err *err);
/*
 * Accept only the signature algorithms named in jose_names (JOSE names,
 * a NULL-terminated list, at least one; see gw_sign_alg_parse), in JWS
 * and XML-DSig alike; any other algorithm is refused as
 * GW_SIGN_UNSUPPORTED with a detail naming it. jose_names NULL: the
 * default again. A trust store allows by default the ten asymmetric
 * algorithms (RS256/384/512, PS256/384/512, ES256/384/512, EdDSA); a
 * pinned-key verifier allows any by default. "none" is never an
 * algorithm, and HS256 cannot be allowed with a trust store (a MAC key is
 * not a public key): both, and unknown names, are GW_ERR_USAGE naming the
 * name, v unchanged. May be called while other threads verify with v
 * (the list is changed at once, atomically: serve's SIGHUP); a reload of
 * the trust store keeps the list.
 */
gw_rc gw_sign_verifier_allow(struct gw_sign_verifier *v,
			     const char *const *jose_names, struct gw_err *err);
/* 1 when v accepts alg. */
int gw_sign_verifier_allowed(const struct gw_sign_verifier *v,
			     enum gw_sign_alg alg);
/* Also trust a key given in the message itself as dsig11:DEREncodedKeyValue
 * (interop vectors only; it proves nothing about the signer). */
void gw_sign_verifier_allow_keyvalue(struct gw_sign_verifier *v);
void gw_sign_verifier_free(struct gw_sign_verifier *v);

/*
 * Verified-chain cache of a trust-store verifier. A verifier may be shared
 * by threads that verify at once (gw_sign_verify_xml / _jws). It remembers
 * the certificate chains that passed (keyed by the SHA-256 of the
 * certificates a message presents) with the leaf's public key, for at most
 * a TTL and never past a notAfter of the chain or a CRL's nextUpdate; a
 * message presenting the same chain then skips decoding, chain building
 * and CRL checks, but its signature is always checked. Refused chains are
 * not cached. Pinned-key verifiers have no cache: these calls do nothing
 * there (stats all zero, reload GW_OK).
 */

/* Set the cache size (entries; 0 turns caching off; default 1024) and TTL
 * in seconds (default 300). Empties the cache. Thread-safe. GW_ERR_NOMEM
 * leaves caching off. */
gw_rc gw_sign_verifier_cache_config(struct gw_sign_verifier *v, size_t entries,
				    unsigned ttl, struct gw_err *err);
/* Empty the cache (thread-safe), e.g. when a CRL is known to be new. */
void gw_sign_verifier_flush_cache(struct gw_sign_verifier *v);
/* Read the trust store folder again (anchors and CRLs, as
 * gw_sign_verifier_trust did) and empty the cache; verifications may run
 * meanwhile (for SIGHUP). On failure the old store stays, the cache is
 * emptied anyway, and err says why (errors as gw_sign_verifier_trust). */
gw_rc gw_sign_verifier_reload(struct gw_sign_verifier *v, struct gw_err *err);
/* The cache counters into out. Thread-safe. */
void gw_sign_verifier_cache_stats(const struct gw_sign_verifier *v,
				  struct gw_sign_cache_stats *out);
/* Check certificate validity and CRLs, and the windows of cached chains,
 * as at time t instead of now (0: the clock again). For tests and for
 * checking archived messages. Thread-safe. */
void gw_sign_verifier_set_time(struct gw_sign_verifier *v, time_t t);

/* Verify the signed XML doc (borrowed). Returns GW_OK and fills res for a
 * valid signature; GW_ERR_REFUSED with res->reason and err for an invalid
 * one; GW_ERR_NOMEM/GW_ERR_INTERNAL when the check could not be made. */
gw_rc gw_sign_verify_xml(const struct gw_sign_verifier *v, xmlDocPtr doc,
			 unsigned flags, struct gw_sign_result *res,
			 struct gw_err *err);

/* Verify a JWS (compact, flattened or general JSON) in msg[0..len). For a
 * detached JWS, payload[0..plen) is the content (tried as given, then in
 * its RFC 8785 form when it is JSON); otherwise payload is NULL. The
 * verified payload bytes are appended to content when not NULL. */
gw_rc gw_sign_verify_jws(const struct gw_sign_verifier *v, const char *msg,
			 size_t len, const char *payload, size_t plen,
			 unsigned flags, struct gw_sign_result *res,
			 struct gw_buf *content, struct gw_err *err);

#endif
