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

const char *gw_ssl_error(void)
{
	static _Thread_local char buf[256];
	unsigned long e = ERR_peek_last_error();

	if (e == 0)
		snprintf(buf, sizeof(buf), "no detail from openssl");
	else
		ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	return buf;
}

gw_rc gw_sign_refuse(struct gw_sign_result *res, struct gw_err *err,
		     enum gw_sign_reason r, const char *fmt, ...)
{
	va_list ap;
	char detail[256];

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	if (res) {
		res->reason = r;
		snprintf(res->detail, sizeof(res->detail), "%s", detail);
	}
	return gw_err_set(err, GW_ERR_REFUSED, "%s: %s", gw_sign_reason_name(r),
			  detail);
}

void gw_x509_subject(X509 *x, char *buf, size_t size)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p;
	long n;

	buf[0] = '\0';
	if (!b)
		return;
	if (X509_NAME_print_ex(b, X509_get_subject_name(x), 0,
			       XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0) {
		n = BIO_get_mem_data(b, &p);
		if (n < 0)
			n = 0;
		if ((size_t)n >= size)
			n = (long)size - 1;
		memcpy(buf, p, (size_t)n);
		buf[n] = '\0';
	}
	BIO_free(b);
}

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

/* ---- base64 ------------------------------------------------------------ */

static const char B64[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char B64URL[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

gw_rc gw_b64_encode(const unsigned char *in, size_t len, int url,
		    struct gw_buf *out)
{
	const char *t = url ? B64URL : B64;
	char q[4];
	size_t i;
	gw_rc rc;

	for (i = 0; i < len; i += 3) {
		unsigned v = (unsigned)in[i] << 16;
		size_t n = len - i < 3 ? len - i : 3;

		if (n > 1)
			v |= (unsigned)in[i + 1] << 8;
		if (n > 2)
			v |= in[i + 2];
		q[0] = t[(v >> 18) & 63];
		q[1] = t[(v >> 12) & 63];
		q[2] = n > 1 ? t[(v >> 6) & 63] : '=';
		q[3] = n > 2 ? t[v & 63] : '=';
		if (url)
			rc = gw_buf_add(out, q, n + 1);
		else
			rc = gw_buf_add(out, q, 4);
		if (rc)
			return rc;
	}
	return GW_OK;
}

static int b64val(char c, int url)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == (url ? '-' : '+'))
		return 62;
	if (c == (url ? '_' : '/'))
		return 63;
	return -1;
}

gw_rc gw_b64_decode(const char *in, size_t len, int url, unsigned char **out,
		    size_t *outlen)
{
	unsigned char *o;
	unsigned acc = 0;
	size_t i, n = 0, pad = 0;
	int bits = 0, v;

	if (!(o = gw_malloc(len / 4 * 3 + 3)))
		return GW_ERR_NOMEM;
	for (i = 0; i < len; i++) {
		char c = in[i];

		if (!url && (c == ' ' || c == '\n' || c == '\r' || c == '\t'))
			continue;
		if (!url && c == '=') {
			pad++;
			continue;
		}
		if (pad || (v = b64val(c, url)) < 0)
			goto bad;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			o[n++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	/* Leftover bits must be zero and fewer than a byte; no lone char. */
	if (bits >= 6 || acc != 0 || pad > 2)
		goto bad;
	*out = o;
	*outlen = n;
	return GW_OK;
bad:
	free(o);
	return GW_ERR_PARSE;
}

/* ---- raw signatures ------------------------------------------------------ */

static const EVP_MD *alg_md(enum gw_sign_alg alg)
{
	switch (alg) {
	case GW_SIGN_ALG_RS256:
	case GW_SIGN_ALG_PS256:
	case GW_SIGN_ALG_ES256:
	case GW_SIGN_ALG_HS256: return EVP_sha256();
	case GW_SIGN_ALG_ES384: return EVP_sha384();
	case GW_SIGN_ALG_ES512: return EVP_sha512();
	default: return NULL;
	}
}

static int is_ec(enum gw_sign_alg alg)
{
	return alg == GW_SIGN_ALG_ES256 || alg == GW_SIGN_ALG_ES384 ||
	       alg == GW_SIGN_ALG_ES512;
}

int gw_pk_fits(EVP_PKEY *pkey, enum gw_sign_alg alg)
{
	int id = EVP_PKEY_get_base_id(pkey), bits = EVP_PKEY_get_bits(pkey);

	switch (alg) {
	case GW_SIGN_ALG_RS256:
	case GW_SIGN_ALG_PS256:
		return id == EVP_PKEY_RSA || id == EVP_PKEY_RSA_PSS;
	case GW_SIGN_ALG_ES256: return id == EVP_PKEY_EC && bits == 256;
	case GW_SIGN_ALG_ES384: return id == EVP_PKEY_EC && bits == 384;
	case GW_SIGN_ALG_ES512: return id == EVP_PKEY_EC && bits == 521;
	case GW_SIGN_ALG_EDDSA:
		return id == EVP_PKEY_ED25519 || id == EVP_PKEY_ED448;
	default: return 0;
	}
}

enum gw_sign_alg gw_pk_default_alg(EVP_PKEY *pkey)
{
	switch (EVP_PKEY_get_base_id(pkey)) {
	case EVP_PKEY_RSA: return GW_SIGN_ALG_RS256;
	case EVP_PKEY_RSA_PSS: return GW_SIGN_ALG_PS256;
	case EVP_PKEY_EC:
		switch (EVP_PKEY_get_bits(pkey)) {
		case 256: return GW_SIGN_ALG_ES256;
		case 384: return GW_SIGN_ALG_ES384;
		case 521: return GW_SIGN_ALG_ES512;
		}
		return GW_SIGN_ALG_DEFAULT;
	case EVP_PKEY_ED25519:
	case EVP_PKEY_ED448: return GW_SIGN_ALG_EDDSA;
	}
	return GW_SIGN_ALG_DEFAULT;
}

static int init_ctx(EVP_MD_CTX *mctx, EVP_PKEY *pkey, enum gw_sign_alg alg,
		    int sign)
{
	EVP_PKEY_CTX *pctx = NULL;
	const EVP_MD *md = alg_md(alg);
	int r;

	r = sign ? EVP_DigestSignInit(mctx, &pctx, md, NULL, pkey)
		 : EVP_DigestVerifyInit(mctx, &pctx, md, NULL, pkey);
	if (r != 1)
		return 0;
	if (alg == GW_SIGN_ALG_PS256 &&
	    (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
	     EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) !=
		     1 ||
	     EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) != 1))
		return 0;
	return 1;
}

gw_rc gw_pk_sign(EVP_PKEY *pkey, enum gw_sign_alg alg, const void *data,
		 size_t len, unsigned char **sig, size_t *siglen,
		 struct gw_err *err)
{
	EVP_MD_CTX *mctx = NULL;
	ECDSA_SIG *es = NULL;
	unsigned char *der = NULL, *raw = NULL;
	const unsigned char *p;
	size_t dlen = 0, half;
	gw_rc rc = GW_OK;

	if (!gw_pk_fits(pkey, alg))
		return gw_err_set(err, GW_ERR_USAGE,
				  "algorithm '%s' does not fit the key",
				  gw_sign_alg_name(alg));
	if (!(mctx = EVP_MD_CTX_new())) {
		rc = gw_err_set(err, GW_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (!init_ctx(mctx, pkey, alg, 1) ||
	    EVP_DigestSign(mctx, NULL, &dlen, data, len) != 1 ||
	    !(der = gw_malloc(dlen)) ||
	    EVP_DigestSign(mctx, der, &dlen, data, len) != 1) {
		rc = gw_err_set(err, GW_ERR_INTERNAL, "cannot sign: %s",
				gw_ssl_error());
		goto out;
	}
	if (!is_ec(alg)) {
		*sig = der;
		*siglen = dlen;
		der = NULL;
		goto out;
	}
	half = ((size_t)EVP_PKEY_get_bits(pkey) + 7) / 8;
	p = der;
	if (!(es = d2i_ECDSA_SIG(NULL, &p, (long)dlen)) ||
	    !(raw = gw_calloc(2, half)) ||
	    BN_bn2binpad(ECDSA_SIG_get0_r(es), raw, (int)half) < 0 ||
	    BN_bn2binpad(ECDSA_SIG_get0_s(es), raw + half, (int)half) < 0) {
		free(raw);
		rc = gw_err_set(err, GW_ERR_INTERNAL,
				"cannot encode ecdsa signature: %s",
				gw_ssl_error());
		goto out;
	}
	*sig = raw;
	*siglen = 2 * half;
out:
	ECDSA_SIG_free(es);
	free(der);
	EVP_MD_CTX_free(mctx);
	return rc;
}

int gw_pk_verify(EVP_PKEY *pkey, enum gw_sign_alg alg, const void *data,
		 size_t len, const unsigned char *sig, size_t siglen)
{
	EVP_MD_CTX *mctx = NULL;
	ECDSA_SIG *es = NULL;
	BIGNUM *r = NULL, *s = NULL;
	unsigned char *der = NULL;
	size_t half;
	int ok = 0, dlen;

	if (!gw_pk_fits(pkey, alg))
		return -1;
	if (is_ec(alg)) {
		half = ((size_t)EVP_PKEY_get_bits(pkey) + 7) / 8;
		if (siglen != 2 * half)
			goto out;
		if (!(es = ECDSA_SIG_new()) ||
		    !(r = BN_bin2bn(sig, (int)half, NULL)) ||
		    !(s = BN_bin2bn(sig + half, (int)half, NULL)) ||
		    !ECDSA_SIG_set0(es, r, s))
			goto out;
		r = s = NULL;
		if ((dlen = i2d_ECDSA_SIG(es, &der)) <= 0)
			goto out;
		sig = der;
		siglen = (size_t)dlen;
	}
	if (!(mctx = EVP_MD_CTX_new()) || !init_ctx(mctx, pkey, alg, 0))
		goto out;
	ok = EVP_DigestVerify(mctx, sig, siglen, data, len) == 1;
out:
	ERR_clear_error();
	BN_free(r);
	BN_free(s);
	ECDSA_SIG_free(es);
	OPENSSL_free(der);
	EVP_MD_CTX_free(mctx);
	return ok;
}
