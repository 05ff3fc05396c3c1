/*
 * tls_client.c - the client side's TLS files, read once (tls_client.h).
 */
#include "net/tls_client.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

struct gw_tls_files {
	char *ca, *cert, *key; /* the paths (NULL: not given) */
	X509_STORE *store;     /* of ca, or NULL */
	X509 *leaf;	       /* of cert, with pkey of key, or NULL */
	STACK_OF(X509) * chain;
	EVP_PKEY *pkey;
	struct gw_tls_files *next;
};

static int same(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

static void files_free(struct gw_tls_files *t)
{
	X509_STORE_free(t->store);
	X509_free(t->leaf);
	sk_X509_pop_free(t->chain, X509_free);
	EVP_PKEY_free(t->pkey);
	free(t->ca);
	free(t->cert);
	free(t->key);
	free(t);
}

/* An encrypted key is not read here (OpenSSL would ask on the terminal):
 * libcurl reads it and says that it has no passphrase for it. */
static int no_pass(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

/* The certificates of PEM file path: the first in t->leaf, the others in
 * t->chain; 0, or -1 when it has none or cannot be read. */
static int read_certs(struct gw_tls_files *t, const char *path)
{
	BIO *b = BIO_new_file(path, "r");
	X509 *x;

	t->chain = sk_X509_new_null();
	while (b && t->chain &&
	       (x = PEM_read_bio_X509(b, NULL, no_pass, NULL))) {
		if (!t->leaf)
			t->leaf = x;
		else if (!sk_X509_push(t->chain, x))
			X509_free(x);
	}
	BIO_free(b);
	return t->leaf && t->chain ? 0 : -1;
}

static void read_files(struct gw_tls_files *t)
{
	BIO *b;

	if (t->ca && (t->store = X509_STORE_new()) &&
	    X509_STORE_load_file(t->store, t->ca) != 1) {
		X509_STORE_free(t->store);
		t->store = NULL;
	}
	if (t->cert && t->key && !read_certs(t, t->cert) &&
	    (b = BIO_new_file(t->key, "r"))) {
		t->pkey = PEM_read_bio_PrivateKey(b, NULL, no_pass, NULL);
		BIO_free(b);
	}
	if (!t->pkey || !t->leaf ||
	    X509_check_private_key(t->leaf, t->pkey) != 1) {
		X509_free(t->leaf);
		sk_X509_pop_free(t->chain, X509_free);
		EVP_PKEY_free(t->pkey);
		t->leaf = NULL;
		t->chain = NULL;
		t->pkey = NULL;
	}
	ERR_clear_error(); /* the end of a PEM file, or what libcurl says */
}

struct gw_tls_files *gw_tls_files_get(struct gw_tls_files **list,
				      const char *ca, const char *cert,
				      const char *key)
{
	struct gw_tls_files *t;

	for (t = *list; t; t = t->next)
		if (same(t->ca, ca) && same(t->cert, cert) && same(t->key, key))
			return t;
	if (!(t = gw_calloc(1, sizeof(*t))))
		return NULL;
	if ((ca && !(t->ca = strdup(ca))) ||
	    (cert && !(t->cert = strdup(cert))) ||
	    (key && !(t->key = strdup(key)))) {
		files_free(t);
		return NULL;
	}
	read_files(t);
	t->next = *list;
	*list = t;
	return t;
}

int gw_tls_files_has_ca(const struct gw_tls_files *t)
{
	return t && t->store;
}

int gw_tls_files_has_cert(const struct gw_tls_files *t)
{
	return t && t->leaf;
}

int gw_tls_files_apply(const struct gw_tls_files *t, void *ssl_ctx)
{
	SSL_CTX *ctx = ssl_ctx;

	if (t->store)
		SSL_CTX_set1_cert_store(ctx, t->store);
	if (t->leaf &&
	    SSL_CTX_use_cert_and_key(ctx, t->leaf, t->pkey, t->chain, 1) != 1) {
		ERR_clear_error();
		return -1;
	}
	return 0;
}

void gw_tls_files_free(struct gw_tls_files *list)
{
	while (list) {
		struct gw_tls_files *t = list;

		list = t->next;
		files_free(t);
	}
}
