/* test_tls_client.c - the client's TLS files read once (net/tls_client.c):
 * one read per set of files, the CA store, the certificate with its chain
 * and key given to an SSL_CTX, and what is left to libcurl (a missing
 * file, a key of another certificate, an encrypted key, a file without a
 * certificate). The keys and certificates are made in-process. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "base/common.h"
#include "net/tls_client.h"

static char dir[64];

static char *path(const char *name)
{
	static char p[4][128];
	static int i;

	i = (i + 1) % 4;
	snprintf(p[i], sizeof(p[i]), "%s/%s", dir, name);
	return p[i];
}

/* A self-signed certificate of a new P-256 key, CN cn. */
static X509 *make_cert(const char *cn, EVP_PKEY **key)
{
	X509 *x = X509_new();
	X509_NAME *n;

	*key = EVP_EC_gen("P-256");
	assert_non_null(*key);
	assert_non_null(x);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, *key);
	n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
				   (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, n);
	assert_true(X509_sign(x, *key, EVP_sha256()) > 0);
	return x;
}

static int setup(void **state)
{
	EVP_PKEY *ka, *kb;
	X509 *a, *b;
	FILE *f;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_tls_client.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	a = make_cert("client", &ka);
	b = make_cert("other", &kb);
	/* the client's certificate followed by a chain certificate */
	f = fopen(path("client.pem"), "w");
	PEM_write_X509(f, a);
	PEM_write_X509(f, b);
	fclose(f);
	f = fopen(path("ca.pem"), "w");
	PEM_write_X509(f, a);
	fclose(f);
	f = fopen(path("client.key"), "w");
	PEM_write_PrivateKey(f, ka, NULL, NULL, 0, NULL, NULL);
	fclose(f);
	f = fopen(path("other.key"), "w");
	PEM_write_PrivateKey(f, kb, NULL, NULL, 0, NULL, NULL);
	fclose(f);
	f = fopen(path("enc.key"), "w");
	PEM_write_PrivateKey(f, ka, EVP_aes_256_cbc(),
			     (unsigned char *)"secret", 6, NULL, NULL);
	fclose(f);
	f = fopen(path("empty.pem"), "w");
	fputs("not a certificate\n", f);
	fclose(f);
	X509_free(a);
	X509_free(b);
	EVP_PKEY_free(ka);
	EVP_PKEY_free(kb);
	return 0;
}

static int teardown(void **state)
{
	const char *names[] = { "client.pem", "ca.pem",	 "client.key",
				"other.key",  "enc.key", "empty.pem" };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(names) / sizeof(*names); i++)
		unlink(path(names[i]));
	rmdir(dir);
	return 0;
}

static void test_tls_client__read_once(void **state)
{
	struct gw_tls_files *list = NULL, *t, *u;
	char ca[128], cert[128], key[128];

	(void)state;
	snprintf(ca, sizeof(ca), "%s", path("ca.pem"));
	snprintf(cert, sizeof(cert), "%s", path("client.pem"));
	snprintf(key, sizeof(key), "%s", path("client.key"));
	t = gw_tls_files_get(&list, ca, cert, key);
	assert_non_null(t);
	assert_true(gw_tls_files_has_ca(t));
	assert_true(gw_tls_files_has_cert(t));
	/* the same files (other strings with the same text): the same
	 * entry; other files: another */
	assert_ptr_equal(gw_tls_files_get(&list, path("ca.pem"),
					  path("client.pem"),
					  path("client.key")),
			 t);
	u = gw_tls_files_get(&list, ca, NULL, NULL);
	assert_non_null(u);
	assert_ptr_not_equal(u, t);
	assert_true(gw_tls_files_has_ca(u));
	assert_false(gw_tls_files_has_cert(u));
	gw_tls_files_free(list);
}

static void test_tls_client__apply(void **state)
{
	struct gw_tls_files *list = NULL, *t;
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	STACK_OF(X509) *chain = NULL;
	X509 *leaf;

	(void)state;
	assert_non_null(ctx);
	t = gw_tls_files_get(&list, path("ca.pem"), path("client.pem"),
			     path("client.key"));
	assert_int_equal(gw_tls_files_apply(t, ctx), 0);
	leaf = SSL_CTX_get0_certificate(ctx);
	assert_non_null(leaf);
	assert_int_equal(X509_NAME_get_index_by_NID(X509_get_subject_name(leaf),
						    NID_commonName, -1),
			 0);
	assert_int_equal(SSL_CTX_check_private_key(ctx), 1);
	assert_int_equal(SSL_CTX_get0_chain_certs(ctx, &chain), 1);
	assert_int_equal(sk_X509_num(chain), 1);
	assert_int_equal(sk_X509_OBJECT_num(X509_STORE_get0_objects(
				 SSL_CTX_get_cert_store(ctx))),
			 1);
	/* the list may go while the context lives on (counted) */
	gw_tls_files_free(list);
	assert_int_equal(SSL_CTX_check_private_key(ctx), 1);
	SSL_CTX_free(ctx);
}

/* What cannot be read is not held: libcurl reads it and says why. */
static void test_tls_client__left_to_libcurl(void **state)
{
	struct gw_tls_files *list = NULL, *t;

	(void)state;
	t = gw_tls_files_get(&list, path("missing.pem"), path("client.pem"),
			     path("client.key"));
	assert_false(gw_tls_files_has_ca(t));
	assert_true(gw_tls_files_has_cert(t));
	t = gw_tls_files_get(&list, path("ca.pem"), path("client.pem"),
			     path("other.key"));
	assert_true(gw_tls_files_has_ca(t));
	assert_false(gw_tls_files_has_cert(t)); /* key of another cert */
	t = gw_tls_files_get(&list, NULL, path("client.pem"), path("enc.key"));
	assert_false(gw_tls_files_has_cert(t)); /* encrypted: no prompt */
	t = gw_tls_files_get(&list, path("empty.pem"), path("empty.pem"),
			     path("client.key"));
	assert_false(gw_tls_files_has_ca(t));
	assert_false(gw_tls_files_has_cert(t));
	t = gw_tls_files_get(&list, NULL, path("client.pem"), NULL);
	assert_false(gw_tls_files_has_cert(t)); /* no key given */
	gw_tls_files_free(list);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tls_client__read_once),
		cmocka_unit_test(test_tls_client__apply),
		cmocka_unit_test(test_tls_client__left_to_libcurl),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
