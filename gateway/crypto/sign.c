/*
 * sign.c - the signing subsystem's entry points: global set-up, loading
 * signing keys (PEM files with optional passphrase, PKCS#11 tokens through
 * the OpenSSL pkcs11 engine) and verifiers (trust store or pinned keys),
 * and dispatch to xmldsig.c and jws.c.
 */
/* The PKCS#11 path uses the ENGINE API, deprecated in OpenSSL 3 but the
 * only way to the Debian libengine-pkcs11-openssl module. */
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include "crypto/sign.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <libxml/parser.h>
#include <openssl/engine.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "crypto/jws.h"
#include "crypto/trust.h"
#include "crypto/xmldsig.h"

static int inited, held;
/* serve's threads (reminders, timestamps) open runtimes, and so call this,
 * while the server loads: xmlsec's initialisation is not thread-safe */
static pthread_mutex_t init_mu = PTHREAD_MUTEX_INITIALIZER;

void gw_sign_hold(void)
{
	pthread_mutex_lock(&init_mu);
	held++;
	pthread_mutex_unlock(&init_mu);
}

void gw_sign_release(void)
{
	pthread_mutex_lock(&init_mu);
	held--;
	pthread_mutex_unlock(&init_mu);
}

gw_rc gw_sign_init(struct gw_err *err)
{
	gw_rc rc = GW_OK;

	pthread_mutex_lock(&init_mu);
	if (!inited) {
		xmlInitParser();
		if (!(rc = gw_xmldsig_init(err)))
			inited = 1;
	}
	pthread_mutex_unlock(&init_mu);
	return rc;
}

void gw_sign_shutdown(void)
{
	pthread_mutex_lock(&init_mu);
	if (inited && !held) {
		gw_xmldsig_shutdown();
		inited = 0;
	}
	pthread_mutex_unlock(&init_mu);
}

/* ---- passphrases ----------------------------------------------------------- */

/* Resolve "env:NAME" or "file:PATH" into a new string. */
static gw_rc get_pass(const char *spec, char **out, struct gw_err *err)
{
	char *buf = NULL;
	size_t len = 0;
	gw_rc rc;

	*out = NULL;
	if (!spec)
		return GW_OK;
	if (strncmp(spec, "env:", 4) == 0) {
		const char *v = getenv(spec + 4);

		if (!v)
			return gw_err_set(err, GW_ERR_USAGE,
					  "passphrase variable '%s' is not set",
					  spec + 4);
		if (!(*out = gw_strdup(v)))
			return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
		return GW_OK;
	}
	if (strncmp(spec, "file:", 5) == 0) {
		if ((rc = gw_read_file(spec + 5, 4096, &buf, &len, err)))
			return rc;
		buf[strcspn(buf, "\r\n")] = '\0';
		*out = buf;
		return GW_OK;
	}
	return gw_err_set(err, GW_ERR_USAGE,
			  "bad passphrase source '%s' (use env:NAME or "
			  "file:PATH)",
			  spec);
}

struct pass_cb {
	const char *pass;
	int asked;
};

static int pem_pass(char *buf, int size, int rwflag, void *u)
{
	struct pass_cb *p = u;
	size_t n;

	p->asked = 1;
	if (!p->pass)
		return -1;
	n = strlen(p->pass);
	if (n > (size_t)size)
		n = (size_t)size;
	memcpy(buf, p->pass, n);
	return (int)n;
}

/* ---- signing keys ------------------------------------------------------------ */

void gw_sign_key_free(struct gw_sign_key *k)
{
	size_t i;

	if (!k)
		return;
	for (i = 0; i < k->n_b64; i++)
		free(k->b64[i]);
	free(k->b64);
	EVP_PKEY_free(k->pkey);
	X509_free(k->cert);
	sk_X509_pop_free(k->chain, X509_free);
	if (k->engine) {
		ENGINE_finish(k->engine);
		ENGINE_free(k->engine);
	}
	free(k);
}

void gw_sign_key_subject(const struct gw_sign_key *k, char *out, size_t size)
{
	if (!size)
		return;
	out[0] = '\0';
	if (k && k->cert)
		gw_x509_subject(k->cert, out, size);
}

/* Take "pkcs11:PATH?QUERY", pull module-path and pin-value out of the
 * query, and load the key through the pkcs11 engine. */
static gw_rc load_pkcs11(struct gw_sign_key *k, const char *uri,
			 const char *pin, struct gw_err *err)
{
	char *u = NULL, *q, *a, *save = NULL, *module = NULL, *upin = NULL;
	ENGINE *e = NULL;
	gw_rc rc = GW_OK;
	int inited_e = 0;

	if (!(u = gw_strdup(uri)))
		return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
	if ((q = strchr(u, '?'))) {
		*q++ = '\0';
		for (a = strtok_r(q, "&", &save); a;
		     a = strtok_r(NULL, "&", &save)) {
			if (strncmp(a, "module-path=", 12) == 0)
				module = a + 12;
			else if (strncmp(a, "pin-value=", 10) == 0)
				upin = a + 10;
		}
	}
	if (!module)
		module = getenv("PKCS11_MODULE_PATH");
	if (!pin)
		pin = upin;
	ENGINE_load_builtin_engines();
	if (!(e = ENGINE_by_id("pkcs11"))) {
		rc = gw_err_set(err, GW_ERR_UNSUPPORTED,
				"cannot load the openssl pkcs11 engine for "
				"'%s': %s (install libengine-pkcs11-openssl)",
				uri, gw_ssl_error());
		goto out;
	}
	if (module && !ENGINE_ctrl_cmd_string(e, "MODULE_PATH", module, 0)) {
		rc = gw_err_set(err, GW_ERR_CONFIG,
				"pkcs11 module '%s' refused: %s", module,
				gw_ssl_error());
		goto out;
	}
	if (!ENGINE_init(e)) {
		rc = gw_err_set(err, GW_ERR_IO,
				"cannot start pkcs11 module '%s': %s",
				module ? module : "(default)", gw_ssl_error());
		goto out;
	}
	inited_e = 1;
	if (pin && !ENGINE_ctrl_cmd_string(e, "PIN", pin, 0)) {
		rc = gw_err_set(err, GW_ERR_IO, "pkcs11 pin refused: %s",
				gw_ssl_error());
		goto out;
	}
	if (!(k->pkey = ENGINE_load_private_key(e, u, NULL, NULL))) {
		rc = gw_err_set(err, GW_ERR_IO,
				"cannot load key '%s' from the token: %s", u,
				gw_ssl_error());
		goto out;
	}
	k->engine = e;
	e = NULL;
out:
	if (e) {
		if (inited_e)
			ENGINE_finish(e);
		ENGINE_free(e);
	}
	free(u);
	return rc;
}

static gw_rc load_pem_key(struct gw_sign_key *k, const char *path,
			  const char *pass, struct gw_err *err)
{
	struct pass_cb cb = { pass, 0 };
	BIO *b;

	if (!(b = BIO_new_file(path, "rb")))
		return gw_err_set(err, GW_ERR_IO, "cannot read key '%s': %s",
				  path, strerror(errno));
	k->pkey = PEM_read_bio_PrivateKey(b, NULL, pem_pass, &cb);
	BIO_free(b);
	if (k->pkey)
		return GW_OK;
	if (cb.asked && !pass)
		return gw_err_set(err, GW_ERR_USAGE,
				  "key '%s' is encrypted: give its passphrase "
				  "with --pass env:NAME or --pass file:PATH",
				  path);
	if (cb.asked)
		return gw_err_set(err, GW_ERR_USAGE,
				  "cannot decrypt key '%s': wrong passphrase",
				  path);
	return gw_err_set(err, GW_ERR_PARSE,
			  "'%s' is not a PEM private key: %s", path,
			  gw_ssl_error());
}

/* Append every certificate of a PEM file to *sk (created when NULL). */
static gw_rc read_certs(const char *path, STACK_OF(X509) * *sk,
			struct gw_err *err)
{
	BIO *b;
	X509 *x;
	int n = 0;

	if (!(b = BIO_new_file(path, "rb")))
		return gw_err_set(err, GW_ERR_IO,
				  "cannot read certificates '%s': %s", path,
				  strerror(errno));
	if (!*sk && !(*sk = sk_X509_new_null())) {
		BIO_free(b);
		return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
	}
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL))) {
		if (!sk_X509_push(*sk, x)) {
			X509_free(x);
			BIO_free(b);
			return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
		}
		n++;
	}
	ERR_clear_error();
	BIO_free(b);
	if (n == 0)
		return gw_err_set(err, GW_ERR_PARSE,
				  "'%s' holds no PEM certificate", path);
	return GW_OK;
}

/* The base64 DER of the certificate and chain, once (k->b64). */
static gw_rc cert_b64(struct gw_sign_key *k, struct gw_err *err)
{
	int i, n = k->chain ? sk_X509_num(k->chain) : 0, len;
	struct gw_buf b;
	gw_rc rc = GW_OK;

	if (!k->cert)
		return GW_OK;
	if (!(k->b64 = gw_calloc((size_t)n + 1, sizeof(*k->b64))))
		return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
	gw_buf_init(&b);
	for (i = -1; i < n && !rc; i++) {
		X509 *x = i < 0 ? k->cert : sk_X509_value(k->chain, i);
		unsigned char *der = NULL;

		if ((len = i2d_X509(x, &der)) <= 0) {
			rc = gw_err_set(err, GW_ERR_INTERNAL,
					"cannot encode certificate");
			break;
		}
		b.len = 0;
		if ((rc = gw_b64_encode(der, (size_t)len, 0, &b)) ||
		    !(k->b64[k->n_b64] = gw_strdup(b.data))) {
			rc = gw_err_set(err, GW_ERR_NOMEM, "out of memory");
		} else {
			k->n_b64++;
		}
		OPENSSL_free(der);
	}
	gw_buf_release(&b);
	return rc;
}

gw_rc gw_sign_key_load(const char *key, const char *pass, const char *cert,
		       const char *chain, struct gw_sign_key **out,
		       struct gw_err *err)
{
	struct gw_sign_key *k;
	STACK_OF(X509) *certs = NULL;
	char *pw = NULL;
	gw_rc rc;
	int r;

	if (!(k = gw_calloc(1, sizeof(*k))))
		return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
	if ((rc = get_pass(pass, &pw, err)))
		goto out;
	if (strncmp(key, "pkcs11:", 7) == 0)
		rc = load_pkcs11(k, key, pw, err);
	else
		rc = load_pem_key(k, key, pw, err);
	if (rc)
		goto out;
	if (cert) {
		if ((rc = read_certs(cert, &certs, err)))
			goto out;
		k->cert = sk_X509_shift(certs);
		/* -2: cannot compare (some token keys); the signature then
		 * fails at verification instead. */
		r = EVP_PKEY_eq(X509_get0_pubkey(k->cert), k->pkey);
		if (r == 0 || r == -1) {
			rc = gw_err_set(err, GW_ERR_USAGE,
					"certificate '%s' does not match key "
					"'%s'",
					cert, key);
			goto out;
		}
		ERR_clear_error();
	}
	if (chain && (rc = read_certs(chain, &certs, err)))
		goto out;
	if (certs && sk_X509_num(certs) > 0) {
		k->chain = certs;
		certs = NULL;
	}
	if ((rc = cert_b64(k, err)))
		goto out;
	*out = k;
	k = NULL;
out:
	sk_X509_pop_free(certs, X509_free);
	if (pw) {
		OPENSSL_cleanse(pw, strlen(pw));
		free(pw);
	}
	gw_sign_key_free(k);
	return rc;
}

gw_rc gw_sign_key_jwk(const struct gw_sign_key *k, int with_private,
		      struct gw_buf *out, struct gw_err *err)
{
	return gw_jwk_export(k->pkey, with_private, out, err);
}

/* ---- verifiers --------------------------------------------------------------- */

void gw_sign_verifier_free(struct gw_sign_verifier *v)
{
	size_t i;

	if (!v)
		return;
	gw_trust_state_free(v->trust);
	sk_X509_pop_free(v->untrusted, X509_free);
	for (i = 0; i < v->nkeys; i++) {
		EVP_PKEY_free(v->keys[i].pkey);
		if (v->keys[i].secret) {
			OPENSSL_cleanse(v->keys[i].secret,
					v->keys[i].secret_len);
			free(v->keys[i].secret);
		}
		free(v->keys[i].alg);
		free(v->keys[i].kid);
	}
	free(v->keys);
	free(v);
}

gw_rc gw_sign_verifier_trust(const char *dir, struct gw_sign_verifier **out,
			     struct gw_err *err)
{
	struct gw_sign_verifier *v;
	gw_rc rc;

	if (!(v = gw_calloc(1, sizeof(*v))))
		return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
	if ((rc = gw_trust_state_new(dir, &v->trust, err))) {
		gw_sign_verifier_free(v);
		return rc;
	}
	v->allowed = GW_SIGN_ALGS_ASYMMETRIC;
	*out = v;
	return GW_OK;
}

gw_rc gw_sign_verifier_cache_config(struct gw_sign_verifier *v, size_t entries,
				    unsigned ttl, struct gw_err *err)
{
	return v->trust ? gw_trust_cache_config(v->trust, entries, ttl, err)
			: GW_OK;
}

void gw_sign_verifier_flush_cache(struct gw_sign_verifier *v)
{
	if (v->trust)
		gw_trust_cache_flush(v->trust);
}

gw_rc gw_sign_verifier_reload(struct gw_sign_verifier *v, struct gw_err *err)
{
	return v->trust ? gw_trust_state_reload(v->trust, err) : GW_OK;
}

void gw_sign_verifier_cache_stats(const struct gw_sign_verifier *v,
				  struct gw_sign_cache_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (v->trust)
		gw_trust_cache_stats(v->trust, out);
}

void gw_sign_verifier_set_time(struct gw_sign_verifier *v, time_t t)
{
	if (v->trust)
		gw_trust_set_time(v->trust, t);
}

gw_rc gw_sign_verifier_new(struct gw_sign_verifier **out, struct gw_err *err)
{
	if (!(*out = gw_calloc(1, sizeof(**out))))
		return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
	snprintf((*out)->label, sizeof((*out)->label), "pinned key");
	return GW_OK;
}

static struct gw_pinned_key *add_key(struct gw_sign_verifier *v)
{
	struct gw_pinned_key *n;

	n = gw_realloc(v->keys, (v->nkeys + 1) * sizeof(*n));
	if (!n)
		return NULL;
	v->keys = n;
	memset(&n[v->nkeys], 0, sizeof(*n));
	return &n[v->nkeys++];
}

static gw_rc load_jwk_file(struct gw_sign_verifier *v, const char *path,
			   const char *text, size_t len, struct gw_err *err)
{
	json_t *j, *keys, *one;
	json_error_t je;
	struct gw_pinned_key *k;
	size_t i, n = 1;
	gw_rc rc = GW_OK;

	if (!(j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je)))
		return gw_err_set(err, GW_ERR_PARSE, "%s:%d: %s", path, je.line,
				  je.text);
	keys = json_object_get(j, "keys");
	if (keys) {
		if (!json_is_array(keys) || json_array_size(keys) == 0) {
			rc = gw_err_set(err, GW_ERR_PARSE,
					"'%s': \"keys\" is not a non-empty "
					"array",
					path);
			goto out;
		}
		n = json_array_size(keys);
	}
	for (i = 0; i < n; i++) {
		one = keys ? json_array_get(keys, i) : j;
		if (!(k = add_key(v))) {
			rc = gw_err_set(err, GW_ERR_NOMEM, "out of memory");
			goto out;
		}
		if ((rc = gw_jwk_import(one, k, err))) {
			gw_err_set(err, rc, "'%s': %s", path, err->msg);
			goto out;
		}
	}
out:
	json_decref(j);
	return rc;
}

gw_rc gw_sign_verifier_key(const char *path, struct gw_sign_verifier **out,
			   struct gw_err *err)
{
	struct gw_sign_verifier *v;
	struct gw_pinned_key *k;
	char *text = NULL;
	size_t len = 0, i;
	BIO *b = NULL;
	X509 *x = NULL;
	gw_rc rc;

	if (!(v = gw_calloc(1, sizeof(*v))))
		return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
	if ((rc = gw_read_file(path, 1 << 20, &text, &len, err)))
		goto out;
	snprintf(v->label, sizeof(v->label), "key '%s'", path);
	for (i = 0; i < len && strchr(" \t\r\n", text[i]); i++)
		;
	if (i < len && text[i] == '{') {
		rc = load_jwk_file(v, path, text, len, err);
		goto out;
	}
	if (!(k = add_key(v)) || !(b = BIO_new_mem_buf(text, (int)len))) {
		rc = gw_err_set(err, GW_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((k->pkey = PEM_read_bio_PUBKEY(b, NULL, NULL, NULL)))
		goto out;
	(void)BIO_reset(b);
	if ((x = PEM_read_bio_X509(b, NULL, NULL, NULL))) {
		gw_x509_subject(x, v->label, sizeof(v->label));
		if (!(k->pkey = X509_get_pubkey(x)))
			rc = gw_err_set(err, GW_ERR_UNSUPPORTED,
					"cannot use the key of certificate "
					"'%s': %s",
					path, gw_ssl_error());
		goto out;
	}
	rc = gw_err_set(err, GW_ERR_PARSE,
			"'%s' is not a PEM public key, a PEM certificate or "
			"a JWK",
			path);
out:
	ERR_clear_error();
	X509_free(x);
	BIO_free(b);
	free(text);
	if (rc)
		gw_sign_verifier_free(v);
	else
		*out = v;
	return rc;
}

gw_rc gw_sign_verifier_add_untrusted(struct gw_sign_verifier *v,
				     const char *pem, struct gw_err *err)
{
	return read_certs(pem, &v->untrusted, err);
}

gw_rc gw_sign_verifier_add_hmac(struct gw_sign_verifier *v, const char *path,
				struct gw_err *err)
{
	struct gw_pinned_key *k;
	char *data = NULL;
	size_t len = 0;
	gw_rc rc;

	if ((rc = gw_read_file(path, 4096, &data, &len, err)))
		return rc;
	if (!(k = add_key(v))) {
		free(data);
		return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
	}
	k->secret = (unsigned char *)data;
	k->secret_len = len;
	return GW_OK;
}

int gw_verifier_allows(const struct gw_sign_verifier *v, enum gw_sign_alg alg)
{
	if (alg <= GW_SIGN_ALG_DEFAULT || alg >= GW_SIGN_ALG_OTHER)
		return 0;
	unsigned allowed = __atomic_load_n(&v->allowed, __ATOMIC_RELAXED);

	return allowed == 0 || (allowed & (1u << alg)) != 0;
}

int gw_sign_verifier_allowed(const struct gw_sign_verifier *v,
			     enum gw_sign_alg alg)
{
	return gw_verifier_allows(v, alg);
}

gw_rc gw_sign_verifier_allow(struct gw_sign_verifier *v,
			     const char *const *jose_names, struct gw_err *err)
{
	unsigned mask = 0;
	size_t i;
	int a;

	if (!jose_names) { /* the default */
		__atomic_store_n(&v->allowed,
				 v->trust ? GW_SIGN_ALGS_ASYMMETRIC : 0u,
				 __ATOMIC_RELAXED);
		return GW_OK;
	}
	for (i = 0; jose_names[i]; i++) {
		const char *n = jose_names[i];

		if (strcmp(n, "none") == 0)
			return gw_err_set(
				err, GW_ERR_USAGE,
				"signature algorithm 'none' can never "
				"be allowed");
		if ((a = gw_sign_alg_parse(n)) < 0)
			return gw_err_set(
				err, GW_ERR_USAGE,
				"unknown signature algorithm '%s' (known: "
				"RS256, RS384, RS512, PS256, PS384, PS512, "
				"ES256, ES384, ES512, EdDSA)",
				n);
		if (a == GW_SIGN_ALG_HS256 && v->trust)
			return gw_err_set(err, GW_ERR_USAGE,
					  "signature algorithm '%s' cannot be "
					  "allowed with a trust store (a MAC "
					  "key is not a public key)",
					  n);
		mask |= 1u << a;
	}
	if (!mask)
		return gw_err_set(err, GW_ERR_USAGE,
				  "no signature algorithm allowed");
	__atomic_store_n(&v->allowed, mask, __ATOMIC_RELAXED);
	return GW_OK;
}

void gw_sign_verifier_allow_keyvalue(struct gw_sign_verifier *v)
{
	v->allow_keyvalue = 1;
}

/* ---- sign and verify ----------------------------------------------------------- */

gw_rc gw_sign_xml(const struct gw_sign_key *k, enum gw_sign_alg alg,
		  xmlDocPtr doc, struct gw_err *err)
{
	gw_rc rc;

	if ((rc = gw_sign_init(err)))
		return rc;
	return gw_xmldsig_sign(k, alg, doc, err);
}

gw_rc gw_sign_json(const struct gw_sign_key *k, enum gw_sign_alg alg,
		   const char *json, size_t len, unsigned flags,
		   struct gw_buf *out, struct gw_err *err)
{
	return gw_jws_sign(k, alg, json, len, flags, out, err);
}

gw_rc gw_sign_verify_xml(const struct gw_sign_verifier *v, xmlDocPtr doc,
			 unsigned flags, struct gw_sign_result *res,
			 struct gw_err *err)
{
	gw_rc rc;

	if ((rc = gw_sign_init(err)))
		return rc;
	return gw_xmldsig_verify(v, doc, flags, res, err);
}

gw_rc gw_sign_verify_jws(const struct gw_sign_verifier *v, const char *msg,
			 size_t len, const char *payload, size_t plen,
			 unsigned flags, struct gw_sign_result *res,
			 struct gw_buf *content, struct gw_err *err)
{
	return gw_jws_verify(v, msg, len, payload, plen, flags, res, content,
			     err);
}
