/*
 * keys.c - the OpenSSL primitives of the crypto layer (keys.h): error
 * text, refusals, certificate subjects, base64, raw signatures.
 */
#include "crypto/keys.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/rsa.h>

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
	case GW_SIGN_ALG_RS384:
	case GW_SIGN_ALG_PS384:
	case GW_SIGN_ALG_ES384: return EVP_sha384();
	case GW_SIGN_ALG_RS512:
	case GW_SIGN_ALG_PS512:
	case GW_SIGN_ALG_ES512: return EVP_sha512();
	default: return NULL; /* EdDSA hashes by itself */
	}
}

static int is_ec(enum gw_sign_alg alg)
{
	return alg == GW_SIGN_ALG_ES256 || alg == GW_SIGN_ALG_ES384 ||
	       alg == GW_SIGN_ALG_ES512;
}

static int is_pss(enum gw_sign_alg alg)
{
	return alg == GW_SIGN_ALG_PS256 || alg == GW_SIGN_ALG_PS384 ||
	       alg == GW_SIGN_ALG_PS512;
}

int gw_pk_fits(EVP_PKEY *pkey, enum gw_sign_alg alg)
{
	int id = EVP_PKEY_get_base_id(pkey), bits = EVP_PKEY_get_bits(pkey);

	switch (alg) {
	case GW_SIGN_ALG_RS256:
	case GW_SIGN_ALG_RS384:
	case GW_SIGN_ALG_RS512:
		/* an RSA-PSS key is restricted to PSS padding */
		return id == EVP_PKEY_RSA;
	case GW_SIGN_ALG_PS256:
	case GW_SIGN_ALG_PS384:
	case GW_SIGN_ALG_PS512:
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
	/* RFC 7518 section 3.5, RFC 6931 section 2.3.10: the salt as long
	 * as the digest, MGF1 with the same hash. */
	if (is_pss(alg) &&
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
