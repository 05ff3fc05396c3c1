/* test_tsa.c - RFC 3161 (crypto/tsa.c) against a TSA made in-process with
 * OpenSSL's TS_RESP_CTX: a root CA and a TSA certificate (critical
 * timeStamping usage); a request and its reply check, a kept token
 * verifies over the same bytes only; refused: a reply to another request
 * (nonce), to a request for other bytes, from a TSA under another CA,
 * a rejection, bytes that are not a reply. (A signer without the
 * timeStamping usage cannot be made here: OpenSSL's responder refuses
 * it, as its verifier does.) (openssl ts -verify on our tokens and a TSA over
 * HTTP are tests/integration/audit_tsa.sh.) */
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
#include <openssl/ts.h>
#include <openssl/x509v3.h>

#include "base/common.h"
#include "crypto/tsa.h"

static EVP_PKEY *root_key, *tsa_key, *bad_key;
static X509 *root, *tsa, *other_root;
static char ca_file[64] = "/tmp/test_tsa_ca.XXXXXX";
static char other_ca_file[64] = "/tmp/test_tsa_oca.XXXXXX";
static const char DATA[] = "{\"payload\":\"a checkpoint\"}";

static X509 *make_cert(const char *cn, EVP_PKEY *key, X509 *issuer,
		       EVP_PKEY *ikey, int ca, int ts)
{
	X509 *x = X509_new();
	X509V3_CTX v3;
	X509_EXTENSION *e;

	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), ca ? 1 : 2);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, key);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
				   (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(issuer ? issuer : x));
	X509V3_set_ctx(&v3, issuer ? issuer : x, x, NULL, NULL, 0);
	e = X509V3_EXT_conf_nid(NULL, &v3, NID_basic_constraints,
				ca ? "critical,CA:TRUE" : "CA:FALSE");
	X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	if (ts) {
		e = X509V3_EXT_conf_nid(NULL, &v3, NID_ext_key_usage,
					"critical,timeStamping");
		X509_add_ext(x, e, -1);
		X509_EXTENSION_free(e);
	}
	assert_true(X509_sign(x, ikey ? ikey : key, EVP_sha256()) > 0);
	return x;
}

static void write_pem(char *path, X509 *x)
{
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");

	PEM_write_X509(f, x);
	fclose(f);
}

static ASN1_INTEGER *refuse(TS_RESP_CTX *ctx, void *data)
{
	(void)data;
	TS_RESP_CTX_set_status_info(ctx, TS_STATUS_REJECTION, "no thanks");
	return NULL;
}

/* The reply of a TSA (signer, key; status granted unless reject) to the
 * DER request req. */
static unsigned char *reply(X509 *signer, EVP_PKEY *key,
			    const unsigned char *req, size_t rlen, int reject,
			    size_t *len)
{
	TS_RESP_CTX *ctx = TS_RESP_CTX_new();
	BIO *in = BIO_new_mem_buf(req, (int)rlen);
	ASN1_OBJECT *pol = OBJ_txt2obj("1.2.3.4.1", 1);
	TS_RESP *r;
	unsigned char *der = NULL;
	int n;

	assert_true(TS_RESP_CTX_set_signer_cert(ctx, signer));
	assert_true(TS_RESP_CTX_set_signer_key(ctx, key));
	assert_true(TS_RESP_CTX_set_def_policy(ctx, pol));
	TS_RESP_CTX_add_md(ctx, EVP_sha256());
	TS_RESP_CTX_set_signer_digest(ctx, EVP_sha256());
	if (reject) /* the status is set while the reply is made */
		TS_RESP_CTX_set_serial_cb(ctx, refuse, NULL);
	r = TS_RESP_create_response(ctx, in);
	assert_non_null(r);
	n = i2d_TS_RESP(r, &der);
	assert_true(n > 0);
	*len = (size_t)n;
	TS_RESP_free(r);
	ASN1_OBJECT_free(pol);
	BIO_free(in);
	TS_RESP_CTX_free(ctx);
	return der;
}

static int setup(void **state)
{
	(void)state;
	root_key = EVP_EC_gen("P-256");
	tsa_key = EVP_EC_gen("P-256");
	bad_key = EVP_EC_gen("P-256");
	root = make_cert("Test Root", root_key, NULL, NULL, 1, 0);
	other_root = make_cert("Other Root", bad_key, NULL, NULL, 1, 0);
	tsa = make_cert("Test TSA", tsa_key, root, root_key, 0, 1);
	write_pem(ca_file, root);
	write_pem(other_ca_file, other_root);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(ca_file);
	unlink(other_ca_file);
	X509_free(root);
	X509_free(other_root);
	X509_free(tsa);
	EVP_PKEY_free(root_key);
	EVP_PKEY_free(tsa_key);
	EVP_PKEY_free(bad_key);
	return 0;
}

static void test_tsa__granted(void **state)
{
	unsigned char *req = NULL, *resp, *tok = NULL;
	size_t rlen = 0, plen = 0, tlen = 0;
	int64_t gen = 0, gen2 = 0;
	struct gw_err err;

	(void)state;
	assert_int_equal(gw_tsa_request(DATA, strlen(DATA), &req, &rlen, &err),
			 GW_OK);
	resp = reply(tsa, tsa_key, req, rlen, 0, &plen);
	assert_int_equal(gw_tsa_check_reply(req, rlen, resp, plen, DATA,
					    strlen(DATA), ca_file, &tok, &tlen,
					    &gen, &err),
			 GW_OK);
	assert_non_null(tok);
	assert_true(gen > 1700000000000LL);
	assert_int_equal(gw_tsa_verify_token(tok, tlen, DATA, strlen(DATA),
					     ca_file, &gen2, &err),
			 GW_OK);
	assert_true(gen2 == gen);
	/* over other bytes, or under another CA: refused */
	assert_int_equal(gw_tsa_verify_token(tok, tlen, "other", 5, ca_file,
					     &gen2, &err),
			 GW_ERR_REFUSED);
	assert_int_equal(gw_tsa_verify_token(tok, tlen, DATA, strlen(DATA),
					     other_ca_file, &gen2, &err),
			 GW_ERR_REFUSED);
	assert_int_equal(gw_tsa_verify_token((const unsigned char *)"xx", 2,
					     DATA, strlen(DATA), ca_file, &gen2,
					     &err),
			 GW_ERR_PARSE);
	free(req);
	OPENSSL_free(resp);
	free(tok);
}

static void test_tsa__refused(void **state)
{
	unsigned char *req = NULL, *req2 = NULL, *resp, *tok = NULL;
	size_t rlen = 0, rlen2 = 0, plen = 0, tlen = 0;
	int64_t gen = 0;
	struct gw_err err;

	(void)state;
	assert_int_equal(gw_tsa_request(DATA, strlen(DATA), &req, &rlen, &err),
			 GW_OK);
	assert_int_equal(
		gw_tsa_request(DATA, strlen(DATA), &req2, &rlen2, &err), GW_OK);
	/* a reply to another request (its nonce) */
	resp = reply(tsa, tsa_key, req2, rlen2, 0, &plen);
	assert_int_equal(gw_tsa_check_reply(req, rlen, resp, plen, DATA,
					    strlen(DATA), ca_file, &tok, &tlen,
					    &gen, &err),
			 GW_ERR_REFUSED);
	assert_null(tok);
	/* the request was not for these bytes */
	assert_int_equal(gw_tsa_check_reply(req2, rlen2, resp, plen, "other", 5,
					    ca_file, &tok, &tlen, &gen, &err),
			 GW_ERR_USAGE);
	/* a TSA under another CA */
	assert_int_equal(gw_tsa_check_reply(req2, rlen2, resp, plen, DATA,
					    strlen(DATA), other_ca_file, &tok,
					    &tlen, &gen, &err),
			 GW_ERR_REFUSED);
	OPENSSL_free(resp);
	/* a rejection */
	resp = reply(tsa, tsa_key, req, rlen, 1, &plen);
	assert_int_equal(gw_tsa_check_reply(req, rlen, resp, plen, DATA,
					    strlen(DATA), ca_file, &tok, &tlen,
					    &gen, &err),
			 GW_ERR_REFUSED);
	OPENSSL_free(resp);
	/* not a reply */
	assert_int_equal(gw_tsa_check_reply(req, rlen,
					    (const unsigned char *)"<html>", 6,
					    DATA, strlen(DATA), ca_file, &tok,
					    &tlen, &gen, &err),
			 GW_ERR_PARSE);
	free(req);
	free(req2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tsa__granted),
		cmocka_unit_test(test_tsa__refused),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
