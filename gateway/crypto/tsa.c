/*
 * tsa.c - RFC 3161 timestamps over OpenSSL's TS_* API (tsa.h).
 */
#include "crypto/tsa.h"

#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ts.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto/digest.h"
#include "crypto/keys.h"

gw_rc gw_tsa_request(const void *data, size_t len, unsigned char **req,
		     size_t *req_len, struct gw_err *err)
{
	unsigned char md[32], nb[8];
	TS_REQ *r = TS_REQ_new();
	TS_MSG_IMPRINT *mi = TS_MSG_IMPRINT_new();
	X509_ALGOR *alg = X509_ALGOR_new();
	ASN1_INTEGER *nonce = NULL;
	BIGNUM *bn = NULL;
	unsigned char *der = NULL;
	int n = -1;
	gw_rc rc = GW_OK;

	*req = NULL;
	gw_sha256(data, len, md);
	if (!r || !mi || !alg || RAND_bytes(nb, sizeof(nb)) != 1 ||
	    !(bn = BN_bin2bn(nb, sizeof(nb), NULL)) ||
	    !(nonce = BN_to_ASN1_INTEGER(bn, NULL)) ||
	    !X509_ALGOR_set0(alg, OBJ_nid2obj(NID_sha256), V_ASN1_NULL, NULL) ||
	    !TS_MSG_IMPRINT_set_algo(mi, alg) ||
	    !TS_MSG_IMPRINT_set_msg(mi, md, sizeof(md)) ||
	    !TS_REQ_set_version(r, 1) || !TS_REQ_set_msg_imprint(r, mi) ||
	    !TS_REQ_set_nonce(r, nonce) || !TS_REQ_set_cert_req(r, 1) ||
	    (n = i2d_TS_REQ(r, &der)) <= 0)
		rc = gw_err_set(err, GW_ERR_INTERNAL,
				"cannot make a timestamp request: %s",
				gw_ssl_error());
	else {
		*req = der;
		*req_len = (size_t)n;
	}
	ASN1_INTEGER_free(nonce);
	BN_free(bn);
	X509_ALGOR_free(alg);
	TS_MSG_IMPRINT_free(mi);
	TS_REQ_free(r);
	return rc;
}

static X509_STORE *load_store(const char *ca_file, struct gw_err *err)
{
	X509_STORE *st = X509_STORE_new();

	if (!st || X509_STORE_load_file(st, ca_file) != 1) {
		X509_STORE_free(st);
		gw_err_set(err, GW_ERR_IO,
			   "cannot read the TSA's CA file '%s': %s", ca_file,
			   gw_ssl_error());
		return NULL;
	}
	return st;
}

static int64_t gen_time(TS_TST_INFO *ti)
{
	const ASN1_GENERALIZEDTIME *t = ti ? TS_TST_INFO_get_time(ti) : NULL;
	struct tm tm;

	if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	return (int64_t)timegm(&tm) * 1000;
}

gw_rc gw_tsa_check_reply(const unsigned char *req, size_t req_len,
			 const unsigned char *resp, size_t resp_len,
			 const void *data, size_t len, const char *ca_file,
			 unsigned char **token, size_t *token_len,
			 int64_t *gen_ms, struct gw_err *err)
{
	const unsigned char *p = resp, *q = req;
	TS_RESP *r = d2i_TS_RESP(NULL, &p, (long)resp_len);
	TS_REQ *rq = d2i_TS_REQ(NULL, &q, (long)req_len);
	TS_VERIFY_CTX *ctx = NULL;
	X509_STORE *st = NULL;
	unsigned char *der = NULL;
	unsigned char md[32];
	gw_rc rc = GW_OK;
	int n;

	(void)data;
	(void)len;
	*token = NULL;
	if (!r || !rq) {
		ERR_clear_error();
		rc = gw_err_set(err, GW_ERR_PARSE,
				"the TSA's answer is not a timestamp reply "
				"(RFC 3161 TimeStampResp)");
		goto out;
	}
	/* the request was made for these bytes */
	gw_sha256(data, len, md);
	if (ASN1_STRING_length(
		    TS_MSG_IMPRINT_get_msg(TS_REQ_get_msg_imprint(rq))) != 32 ||
	    memcmp(ASN1_STRING_get0_data(
			   TS_MSG_IMPRINT_get_msg(TS_REQ_get_msg_imprint(rq))),
		   md, 32)) {
		rc = gw_err_set(err, GW_ERR_USAGE,
				"the timestamp request is not for these bytes");
		goto out;
	}
	/* version, signature (chain, timeStamping usage), imprint, nonce */
	if (!(st = load_store(ca_file, err))) {
		rc = GW_ERR_IO;
		goto out;
	}
	if (!(ctx = TS_REQ_to_TS_VERIFY_CTX(rq, NULL))) {
		rc = gw_err_set(err, GW_ERR_NOMEM, "out of memory");
		goto out;
	}
	/* TS_REQ_to_TS_VERIFY_CTX leaves the signature out of its flags
	 * (OpenSSL's `ts -verify` adds it too): without it any key would do */
	TS_VERIFY_CTX_add_flags(ctx, TS_VFY_SIGNATURE | TS_VFY_VERSION);
	TS_VERIFY_CTX_set_store(ctx, st);
	st = NULL; /* the context's now */
	if (TS_RESP_verify_response(ctx, r) != 1) {
		rc = gw_err_set(err, GW_ERR_REFUSED, "timestamp refused: %s",
				gw_ssl_error());
		goto out;
	}
	if ((n = i2d_PKCS7(TS_RESP_get_token(r), &der)) <= 0) {
		rc = gw_err_set(err, GW_ERR_INTERNAL, "%s", gw_ssl_error());
		goto out;
	}
	*token = der;
	*token_len = (size_t)n;
	*gen_ms = gen_time(TS_RESP_get_tst_info(r));
out:
	TS_VERIFY_CTX_free(ctx);
	X509_STORE_free(st);
	TS_REQ_free(rq);
	TS_RESP_free(r);
	return rc;
}

gw_rc gw_tsa_verify_token(const unsigned char *token, size_t token_len,
			  const void *data, size_t len, const char *ca_file,
			  int64_t *gen_ms, struct gw_err *err)
{
	const unsigned char *p = token;
	PKCS7 *t = d2i_PKCS7(NULL, &p, (long)token_len);
	TS_TST_INFO *ti = t ? PKCS7_to_TS_TST_INFO(t) : NULL;
	TS_VERIFY_CTX *ctx = TS_VERIFY_CTX_new();
	X509_STORE *st = NULL;
	unsigned char *md = OPENSSL_malloc(32);
	gw_rc rc = GW_OK;

	if (!t || !ti) {
		ERR_clear_error();
		rc = gw_err_set(err, GW_ERR_PARSE,
				"not a timestamp token (RFC 3161)");
		goto out;
	}
	if (!ctx || !md) {
		rc = gw_err_set(err, GW_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (!(st = load_store(ca_file, err))) {
		rc = GW_ERR_IO;
		goto out;
	}
	gw_sha256(data, len, md);
	TS_VERIFY_CTX_set_flags(ctx, TS_VFY_VERSION | TS_VFY_SIGNATURE |
					     TS_VFY_IMPRINT);
	TS_VERIFY_CTX_set_imprint(ctx, md, 32);
	md = NULL; /* the context's now */
	TS_VERIFY_CTX_set_store(ctx, st);
	st = NULL;
	if (TS_RESP_verify_token(ctx, t) != 1) {
		rc = gw_err_set(err, GW_ERR_REFUSED, "timestamp refused: %s",
				gw_ssl_error());
		goto out;
	}
	*gen_ms = gen_time(ti);
out:
	OPENSSL_free(md);
	X509_STORE_free(st);
	TS_VERIFY_CTX_free(ctx);
	TS_TST_INFO_free(ti);
	PKCS7_free(t);
	return rc;
}
