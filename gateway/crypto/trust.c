/*
 * trust.c - the trust store and the crypto helpers shared by XML-DSig and
 * JWS: loading a folder of anchors and CRLs, building and checking a
 * signer's chain (validity, revocation, key usage), the cache of chains
 * that passed, base64, and raw signatures with the fixed-size ECDSA
 * encoding both formats use.
 */
#include "crypto/trust.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

/* Add every certificate and CRL of a PEM file (or one DER CRL) to store. */
static gw_rc load_one(X509_STORE *store, const char *path, int *has_crl,
		      int *ncert, struct gw_err *err)
{
	STACK_OF(X509_INFO) *infos = NULL;
	BIO *b = NULL;
	X509_CRL *crl = NULL;
	gw_rc rc = GW_OK;
	int i;

	if (!(b = BIO_new_file(path, "rb")))
		return gw_err_set(err, GW_ERR_IO, "cannot read '%s': %s", path,
				  gw_ssl_error());
	infos = PEM_X509_INFO_read_bio(b, NULL, NULL, NULL);
	if (!infos || sk_X509_INFO_num(infos) == 0) {
		/* A DER CRL, as CAs often publish them. */
		ERR_clear_error();
		(void)BIO_reset(b);
		crl = d2i_X509_CRL_bio(b, NULL);
		if (!crl) {
			rc = gw_err_set(err, GW_ERR_PARSE,
					"'%s' holds no certificate or crl",
					path);
			goto out;
		}
		X509_STORE_add_crl(store, crl);
		*has_crl = 1;
		goto out;
	}
	for (i = 0; i < sk_X509_INFO_num(infos); i++) {
		X509_INFO *xi = sk_X509_INFO_value(infos, i);

		if (xi->x509) {
			X509_STORE_add_cert(store, xi->x509);
			(*ncert)++;
		}
		if (xi->crl) {
			X509_STORE_add_crl(store, xi->crl);
			*has_crl = 1;
		}
	}
out:
	ERR_clear_error();
	X509_CRL_free(crl);
	sk_X509_INFO_pop_free(infos, X509_INFO_free);
	BIO_free(b);
	return rc;
}

static int has_suffix(const char *s, const char *suf)
{
	size_t n = strlen(s), m = strlen(suf);

	return n > m && strcmp(s + n - m, suf) == 0;
}

gw_rc gw_trust_load(const char *dir, X509_STORE **out, int *has_crl,
		    struct gw_err *err)
{
	X509_STORE *store = NULL;
	DIR *d = NULL;
	struct dirent *de;
	struct gw_buf path;
	gw_rc rc = GW_OK;
	int ncert = 0;

	gw_buf_init(&path);
	*has_crl = 0;
	if (!(d = opendir(dir)))
		return gw_err_set(err, GW_ERR_IO,
				  "cannot open trust store '%s': %s", dir,
				  strerror(errno));
	if (!(store = X509_STORE_new())) {
		rc = gw_err_set(err, GW_ERR_NOMEM, "out of memory");
		goto out;
	}
	while ((de = readdir(d))) {
		if (!(has_suffix(de->d_name, ".pem") ||
		      has_suffix(de->d_name, ".crt") ||
		      has_suffix(de->d_name, ".cer") ||
		      has_suffix(de->d_name, ".crl")))
			continue;
		path.len = 0;
		if ((rc = gw_buf_addf(&path, "%s/%s", dir, de->d_name)))
			goto out;
		if ((rc = load_one(store, path.data, has_crl, &ncert, err)))
			goto out;
	}
	if (ncert == 0) {
		rc = gw_err_set(err, GW_ERR_CONFIG,
				"trust store '%s' holds no certificate "
				"(put the anchors' PEM files there)",
				dir);
		goto out;
	}
	*out = store;
	store = NULL;
out:
	X509_STORE_free(store);
	closedir(d);
	gw_buf_release(&path);
	return rc;
}

/* ---- trust state and the cache of verified chains ------------------------ */

struct centry {
	unsigned char key[GW_TRUST_KEY_LEN];
	EVP_PKEY *pkey; /* owned reference to the leaf's key */
	time_t from, until;
	struct centry *hnext;	    /* bucket chain */
	struct centry *prev, *next; /* LRU list, most recently used first */
	char subject[256];
};

struct gw_trust_state {
	pthread_mutex_t lock; /* guards every field below but dir, sha256 */
	char *dir;	      /* the folder, for reload (owned) */
	EVP_MD *sha256;	      /* fetched once */
	X509_STORE *store;    /* counted: a check holds its own reference */
	int has_crl;
	time_t crl_next;   /* earliest nextUpdate of the store's CRLs, or 0 */
	time_t at;	   /* verification time, 0: the clock */
	unsigned long gen; /* bumped when cached results lose their value */
	struct centry **buckets;
	size_t nbuckets; /* a power of two; 0 when caching is off */
	struct centry *head, *tail;
	size_t n, cap;
	unsigned ttl;
	struct gw_sign_cache_stats st;
};

gw_rc gw_trust_ders_add(struct gw_trust_ders *d, unsigned char *der, size_t len)
{
	if (d->n >= GW_TRUST_MAX_CERTS) {
		free(der);
		return GW_ERR_REFUSED;
	}
	d->der[d->n] = der;
	d->len[d->n++] = len;
	return GW_OK;
}

void gw_trust_ders_release(struct gw_trust_ders *d)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		free(d->der[i]);
	d->n = 0;
}

gw_rc gw_trust_ders_decode(const struct gw_trust_ders *d,
			   STACK_OF(X509) * certs, size_t *bad)
{
	const unsigned char *p;
	X509 *x;
	size_t i;

	for (i = 0; i < d->n; i++) {
		p = d->der[i];
		if (!(x = d2i_X509(NULL, &p, (long)d->len[i]))) {
			ERR_clear_error();
			*bad = i;
			return GW_ERR_PARSE;
		}
		if (!sk_X509_push(certs, x)) {
			X509_free(x);
			return GW_ERR_NOMEM;
		}
	}
	return GW_OK;
}

/* t as a time_t (UTC) into *out; 0 when t cannot be read. */
static int asn1_time(const ASN1_TIME *t, time_t *out)
{
	struct tm tm;

	if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	*out = timegm(&tm);
	return 1;
}

/* The earliest nextUpdate of the CRLs of store (not yet shared), 0 when
 * none has one. Conservative: a CRL of any issuer bounds every entry. */
static time_t store_crl_next(X509_STORE *store)
{
	STACK_OF(X509_OBJECT) *objs = X509_STORE_get0_objects(store);
	time_t next = 0, t;
	int i;

	for (i = 0; objs && i < sk_X509_OBJECT_num(objs); i++) {
		X509_CRL *crl = X509_OBJECT_get0_X509_CRL(
			sk_X509_OBJECT_value(objs, i));

		if (crl && asn1_time(X509_CRL_get0_nextUpdate(crl), &t) &&
		    (next == 0 || t < next))
			next = t;
	}
	return next;
}

static void lru_unlink(struct gw_trust_state *t, struct centry *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else
		t->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		t->tail = e->prev;
}

static struct centry **bucket(struct gw_trust_state *t,
			      const unsigned char *key)
{
	size_t h;

	memcpy(&h, key, sizeof(h));
	return &t->buckets[h & (t->nbuckets - 1)];
}

/* Under the lock: take e out of its bucket and the LRU list. */
static void entry_unlink(struct gw_trust_state *t, struct centry *e)
{
	struct centry **pp = bucket(t, e->key);

	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	lru_unlink(t, e);
	t->n--;
}

static void entry_front(struct gw_trust_state *t, struct centry *e)
{
	e->prev = NULL;
	e->next = t->head;
	if (t->head)
		t->head->prev = e;
	t->head = e;
	if (!t->tail)
		t->tail = e;
}

static void entry_free(struct centry *e)
{
	EVP_PKEY_free(e->pkey);
	free(e);
}

/* Under the lock: drop every entry; the old results lose their value. */
static void cache_clear(struct gw_trust_state *t)
{
	struct centry *e, *next;

	for (e = t->head; e; e = next) {
		next = e->next;
		entry_free(e);
	}
	t->head = t->tail = NULL;
	t->n = 0;
	if (t->nbuckets)
		memset(t->buckets, 0, t->nbuckets * sizeof(*t->buckets));
	t->gen++;
}

static struct centry *cache_find(struct gw_trust_state *t,
				 const unsigned char *key)
{
	struct centry *e;

	if (!t->nbuckets)
		return NULL;
	for (e = *bucket(t, key); e; e = e->hnext)
		if (memcmp(e->key, key, GW_TRUST_KEY_LEN) == 0)
			return e;
	return NULL;
}

gw_rc gw_trust_cache_config(struct gw_trust_state *t, size_t entries,
			    unsigned ttl, struct gw_err *err)
{
	struct centry **b = NULL;
	size_t nb = 0;
	gw_rc rc = GW_OK;

	if (entries > (size_t)1 << 24)
		entries = (size_t)1 << 24;
	if (entries) {
		for (nb = 16; nb < 2 * entries; nb *= 2)
			;
		if (!(b = gw_calloc(nb, sizeof(*b)))) {
			nb = 0;
			rc = gw_err_set(err, GW_ERR_NOMEM,
					"out of memory for the certificate "
					"cache (%zu entries); caching is off",
					entries);
		}
	}
	pthread_mutex_lock(&t->lock);
	cache_clear(t);
	free(t->buckets);
	t->buckets = b;
	t->nbuckets = nb;
	t->cap = nb ? entries : 0;
	t->ttl = ttl;
	pthread_mutex_unlock(&t->lock);
	return rc;
}

gw_rc gw_trust_state_new(const char *dir, struct gw_trust_state **out,
			 struct gw_err *err)
{
	struct gw_trust_state *t;
	gw_rc rc;

	if (!(t = gw_calloc(1, sizeof(*t))))
		return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
	if (pthread_mutex_init(&t->lock, NULL)) {
		free(t);
		return gw_err_set(err, GW_ERR_INTERNAL, "cannot make a mutex");
	}
	if (!(t->dir = gw_strdup(dir)) ||
	    !(t->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL))) {
		rc = gw_err_set(err, GW_ERR_NOMEM, "out of memory");
		goto fail;
	}
	if ((rc = gw_trust_load(dir, &t->store, &t->has_crl, err)))
		goto fail;
	t->crl_next = store_crl_next(t->store);
	if ((rc = gw_trust_cache_config(t, GW_TRUST_CACHE_SIZE,
					GW_TRUST_CACHE_TTL, err)))
		goto fail;
	*out = t;
	return GW_OK;
fail:
	gw_trust_state_free(t);
	return rc;
}

void gw_trust_state_free(struct gw_trust_state *t)
{
	if (!t)
		return;
	if (t->nbuckets)
		cache_clear(t);
	free(t->buckets);
	X509_STORE_free(t->store);
	EVP_MD_free(t->sha256);
	free(t->dir);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

gw_rc gw_trust_state_reload(struct gw_trust_state *t, struct gw_err *err)
{
	X509_STORE *store = NULL;
	int has_crl = 0;
	time_t next = 0;
	gw_rc rc;

	if (!(rc = gw_trust_load(t->dir, &store, &has_crl, err)))
		next = store_crl_next(store);
	pthread_mutex_lock(&t->lock);
	if (!rc) {
		X509_STORE *old = t->store;

		t->store = store;
		t->has_crl = has_crl;
		t->crl_next = next;
		store = old; /* freed below, once no check holds it */
	}
	cache_clear(t);
	t->st.flushes++;
	pthread_mutex_unlock(&t->lock);
	X509_STORE_free(store);
	return rc;
}

void gw_trust_cache_flush(struct gw_trust_state *t)
{
	pthread_mutex_lock(&t->lock);
	cache_clear(t);
	t->st.flushes++;
	pthread_mutex_unlock(&t->lock);
}

void gw_trust_set_time(struct gw_trust_state *t, time_t at)
{
	pthread_mutex_lock(&t->lock);
	/* The cache stays: each entry holds the absolute window in which
	 * its chain is valid, checked against the time of each lookup. */
	t->at = at;
	pthread_mutex_unlock(&t->lock);
}

void gw_trust_cache_stats(struct gw_trust_state *t,
			  struct gw_sign_cache_stats *out)
{
	pthread_mutex_lock(&t->lock);
	*out = t->st;
	out->entries = t->n;
	pthread_mutex_unlock(&t->lock);
}

/* SHA-256 over a version tag, the leaf rule and the key usage checked,
 * then each certificate's length and DER: a key names exactly the
 * certificates presented, in order, and what was checked of them. */
static int cache_key(struct gw_trust_state *t, const struct gw_trust_ders *d,
		     int x5c_order, unsigned char *key)
{
	static const char tag[] = "lienthong verified chain 1; keyUsage "
				  "digitalSignature|nonRepudiation; leaf ";
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char len8[8];
	unsigned kl = 0;
	size_t i, j;
	int ok;

	ok = md && EVP_DigestInit_ex(md, t->sha256, NULL) == 1 &&
	     EVP_DigestUpdate(md, tag, sizeof(tag) - 1) == 1 &&
	     EVP_DigestUpdate(md, x5c_order ? "first" : "unissued",
			      x5c_order ? 5 : 8) == 1;
	for (i = 0; ok && i < d->n; i++) {
		for (j = 0; j < 8; j++)
			len8[j] = (unsigned char)((uint64_t)d->len[i] >>
						  (56 - 8 * j));
		ok = EVP_DigestUpdate(md, len8, 8) == 1 &&
		     EVP_DigestUpdate(md, d->der[i], d->len[i]) == 1;
	}
	ok = ok && EVP_DigestFinal_ex(md, key, &kl) == 1 &&
	     kl == GW_TRUST_KEY_LEN;
	EVP_MD_CTX_free(md);
	if (!ok)
		ERR_clear_error();
	return ok;
}

EVP_PKEY *gw_trust_cache_get(struct gw_trust_state *t,
			     const struct gw_trust_ders *d, int x5c_order,
			     struct gw_trust_probe *probe, char *subject,
			     size_t size)
{
	struct centry *e, *stale = NULL;
	EVP_PKEY *pk = NULL;
	time_t now;

	probe->keyed = cache_key(t, d, x5c_order, probe->key);
	pthread_mutex_lock(&t->lock);
	now = t->at ? t->at : time(NULL);
	e = probe->keyed ? cache_find(t, probe->key) : NULL;
	if (e && now >= e->from && now < e->until &&
	    EVP_PKEY_up_ref(e->pkey) == 1) {
		pk = e->pkey;
		snprintf(subject, size, "%s", e->subject);
		lru_unlink(t, e);
		entry_front(t, e);
		t->st.hits++;
	} else {
		if (e) { /* out of its window: checked again from scratch */
			entry_unlink(t, e);
			stale = e;
		}
		t->st.misses++;
	}
	pthread_mutex_unlock(&t->lock);
	if (stale)
		entry_free(stale);
	return pk;
}

/* Cache leaf's key under probe's key after a check that passed at time
 * now on the store of generation gen, for the window chain allows. */
static void cache_put(struct gw_trust_state *t,
		      const struct gw_trust_probe *probe, unsigned long gen,
		      X509 *leaf, STACK_OF(X509) * chain, time_t now,
		      const char *subject)
{
	struct centry *e, *old = NULL;
	time_t from = 0, until = 0, nb, na;
	int i;

	for (i = 0; chain && i < sk_X509_num(chain); i++) {
		X509 *x = sk_X509_value(chain, i);

		if (!asn1_time(X509_get0_notBefore(x), &nb) ||
		    !asn1_time(X509_get0_notAfter(x), &na))
			return;
		if (i == 0 || nb > from)
			from = nb;
		if (i == 0 || na < until)
			until = na;
	}
	if (!chain || sk_X509_num(chain) == 0 ||
	    !(e = gw_calloc(1, sizeof(*e))))
		return;
	if (!(e->pkey = X509_get_pubkey(leaf))) {
		ERR_clear_error();
		free(e);
		return;
	}
	memcpy(e->key, probe->key, GW_TRUST_KEY_LEN);
	snprintf(e->subject, sizeof(e->subject), "%s", subject);
	e->from = from;
	pthread_mutex_lock(&t->lock);
	/* A flush, reload or new clock since the check began: the result
	 * may be stale already. */
	if (gen != t->gen || !t->nbuckets)
		goto drop;
	if (t->crl_next && t->crl_next < until)
		until = t->crl_next;
	if (now + (time_t)t->ttl < until)
		until = now + (time_t)t->ttl;
	if (until <= now)
		goto drop;
	e->until = until;
	if ((old = cache_find(t, e->key))) /* two threads missed at once */
		entry_unlink(t, old);
	else if (t->n >= t->cap && t->tail) {
		old = t->tail;
		entry_unlink(t, old);
		t->st.evictions++;
	}
	e->hnext = *bucket(t, e->key);
	*bucket(t, e->key) = e;
	entry_front(t, e);
	t->n++;
	t->st.inserts++;
	e = NULL;
drop:
	pthread_mutex_unlock(&t->lock);
	if (old)
		entry_free(old);
	if (e)
		entry_free(e);
}

X509 *gw_trust_leaf(STACK_OF(X509) * certs, int x5c_order)
{
	int i, j, n = sk_X509_num(certs);

	if (n == 0)
		return NULL;
	if (x5c_order || n == 1)
		return sk_X509_value(certs, 0);
	for (i = 0; i < n; i++) {
		X509 *c = sk_X509_value(certs, i);
		int issued = 0;

		for (j = 0; j < n && !issued; j++) {
			X509 *o = sk_X509_value(certs, j);

			if (o != c && X509_check_issued(c, o) == X509_V_OK)
				issued = 1;
		}
		if (!issued)
			return c;
	}
	return sk_X509_value(certs, 0);
}

static int verify_cb(int ok, X509_STORE_CTX *ctx)
{
	/* CRLs are checked for every issuer that has one in the store; an
	 * issuer without a CRL is not an error. */
	if (!ok &&
	    X509_STORE_CTX_get_error(ctx) == X509_V_ERR_UNABLE_TO_GET_CRL)
		return 1;
	return ok;
}

gw_rc gw_trust_check(const struct gw_sign_verifier *v, X509 *leaf,
		     STACK_OF(X509) * certs, const struct gw_trust_probe *probe,
		     struct gw_sign_result *res, struct gw_err *err)
{
	struct gw_trust_state *t = v->trust;
	X509_STORE_CTX *ctx = NULL;
	STACK_OF(X509) *helpers = NULL;
	X509_STORE *store;
	X509_VERIFY_PARAM *param;
	unsigned long gen;
	time_t at, now;
	gw_rc rc = GW_OK;
	int i, e, has_crl;

	/* A snapshot of the store: a reload may swap it meanwhile. */
	pthread_mutex_lock(&t->lock);
	store = t->store;
	X509_STORE_up_ref(store);
	has_crl = t->has_crl;
	gen = t->gen;
	at = t->at;
	pthread_mutex_unlock(&t->lock);
	now = at ? at : time(NULL);

	gw_x509_subject(leaf, res->subject, sizeof(res->subject));
	if (!(ctx = X509_STORE_CTX_new()) || !(helpers = sk_X509_new_null())) {
		rc = gw_err_set(err, GW_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; certs && i < sk_X509_num(certs); i++)
		if (!sk_X509_push(helpers, sk_X509_value(certs, i))) {
			rc = gw_err_set(err, GW_ERR_NOMEM, "out of memory");
			goto out;
		}
	for (i = 0; v->untrusted && i < sk_X509_num(v->untrusted); i++)
		if (!sk_X509_push(helpers, sk_X509_value(v->untrusted, i))) {
			rc = gw_err_set(err, GW_ERR_NOMEM, "out of memory");
			goto out;
		}
	if (!X509_STORE_CTX_init(ctx, store, leaf, helpers)) {
		rc = gw_err_set(err, GW_ERR_INTERNAL, "cannot check chain: %s",
				gw_ssl_error());
		goto out;
	}
	param = X509_STORE_CTX_get0_param(ctx);
	if (has_crl)
		X509_VERIFY_PARAM_set_flags(param,
					    X509_V_FLAG_CRL_CHECK |
						    X509_V_FLAG_CRL_CHECK_ALL);
	if (at)
		X509_VERIFY_PARAM_set_time(param, at);
	X509_STORE_CTX_set_verify_cb(ctx, verify_cb);
	if (X509_verify_cert(ctx) != 1) {
		e = X509_STORE_CTX_get_error(ctx);
		ERR_clear_error();
		switch (e) {
		case X509_V_ERR_CERT_HAS_EXPIRED:
		case X509_V_ERR_CERT_NOT_YET_VALID:
			rc = gw_sign_refuse(res, err, GW_SIGN_EXPIRED,
					    "certificate '%s' (depth %d): %s",
					    res->subject,
					    X509_STORE_CTX_get_error_depth(ctx),
					    X509_verify_cert_error_string(e));
			break;
		case X509_V_ERR_CERT_REVOKED:
			rc = gw_sign_refuse(res, err, GW_SIGN_REVOKED,
					    "certificate '%s' (depth %d): %s",
					    res->subject,
					    X509_STORE_CTX_get_error_depth(ctx),
					    X509_verify_cert_error_string(e));
			break;
		default:
			rc = gw_sign_refuse(res, err, GW_SIGN_UNTRUSTED,
					    "certificate '%s': %s",
					    res->subject,
					    X509_verify_cert_error_string(e));
		}
		goto out;
	}
	if ((X509_get_extension_flags(leaf) & EXFLAG_KUSAGE) &&
	    !(X509_get_key_usage(leaf) &
	      (KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION))) {
		rc = gw_sign_refuse(res, err, GW_SIGN_UNTRUSTED,
				    "certificate '%s' is not for signing "
				    "(keyUsage lacks digitalSignature)",
				    res->subject);
		goto out;
	}
	if (probe && probe->keyed)
		cache_put(t, probe, gen, leaf, X509_STORE_CTX_get0_chain(ctx),
			  now, res->subject);
out:
	sk_X509_free(helpers);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	return rc;
}
