/*
 * jws.c - JWS signing and verification, JWK import and export.
 *
 * Signing: the payload is the RFC 8785 canonical form of the message; the
 * protected header (itself canonical) carries alg and the x5c chain.
 * Verification accepts the compact, flattened and general serializations;
 * "alg" must be in the protected header, "alg: none" and unknown "crit"
 * parameters are refused, HS256 only ever verifies with a pinned oct JWK,
 * and with a trust store a JWS must carry exactly one signature whose x5c
 * (protected) chains to an anchor.
 */
#include "crypto/jws.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/hmac.h>
#include <openssl/param_build.h>

#include "model/jcs.h"
#include "base/json.h"

/* ---- JWK ------------------------------------------------------------------- */

static gw_rc member_b64(const json_t *o, const char *name, unsigned char **out,
			size_t *len, struct gw_err *err)
{
	const char *s = json_string_value(json_object_get(o, name));

	if (!s)
		return gw_err_set(err, GW_ERR_PARSE, "jwk lacks \"%s\"", name);
	if (gw_b64_decode(s, strlen(s), 1, out, len))
		return gw_err_set(err, GW_ERR_PARSE,
				  "jwk \"%s\" is not base64url", name);
	return GW_OK;
}

static gw_rc import_rsa(const json_t *j, EVP_PKEY **pk, struct gw_err *err)
{
	unsigned char *n = NULL, *e = NULL;
	size_t nl = 0, el = 0;
	BIGNUM *bn = NULL, *be = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	gw_rc rc;

	if ((rc = member_b64(j, "n", &n, &nl, err)) ||
	    (rc = member_b64(j, "e", &e, &el, err)))
		goto out;
	if (!(bn = BN_bin2bn(n, (int)nl, NULL)) ||
	    !(be = BN_bin2bn(e, (int)el, NULL)) ||
	    !(bld = OSSL_PARAM_BLD_new()) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be) ||
	    !(params = OSSL_PARAM_BLD_to_param(bld)) ||
	    !(ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) ||
	    EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, pk, EVP_PKEY_PUBLIC_KEY, params) != 1)
		rc = gw_err_set(err, GW_ERR_PARSE, "bad rsa jwk: %s",
				gw_ssl_error());
out:
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn);
	BN_free(be);
	free(n);
	free(e);
	return rc;
}

static const struct {
	const char *crv, *group;
	size_t size;
} curves[] = {
	{ "P-256", "prime256v1", 32 },
	{ "P-384", "secp384r1", 48 },
	{ "P-521", "secp521r1", 66 },
};

static gw_rc import_ec(const json_t *j, EVP_PKEY **pk, struct gw_err *err)
{
	const char *crv = json_string_value(json_object_get(j, "crv"));
	unsigned char *x = NULL, *y = NULL, *pt = NULL;
	size_t xl = 0, yl = 0, i, sz = 0;
	const char *group = NULL;
	OSSL_PARAM params[3];
	EVP_PKEY_CTX *ctx = NULL;
	gw_rc rc;

	for (i = 0; crv && i < GW_ARRAY_LEN(curves); i++)
		if (strcmp(crv, curves[i].crv) == 0)
			group = curves[i].group, sz = curves[i].size;
	if (!group)
		return gw_err_set(err, GW_ERR_UNSUPPORTED,
				  "jwk curve '%s' is not supported",
				  crv ? crv : "(none)");
	if ((rc = member_b64(j, "x", &x, &xl, err)) ||
	    (rc = member_b64(j, "y", &y, &yl, err)))
		goto out;
	if (xl != sz || yl != sz) {
		rc = gw_err_set(err, GW_ERR_PARSE, "bad ec jwk coordinates");
		goto out;
	}
	if (!(pt = gw_malloc(1 + 2 * sz))) {
		rc = gw_err_set(err, GW_ERR_NOMEM, "out of memory");
		goto out;
	}
	pt[0] = 4;
	memcpy(pt + 1, x, sz);
	memcpy(pt + 1 + sz, y, sz);
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
						     (char *)group, 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY,
						      pt, 1 + 2 * sz);
	params[2] = OSSL_PARAM_construct_end();
	if (!(ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) ||
	    EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, pk, EVP_PKEY_PUBLIC_KEY, params) != 1)
		rc = gw_err_set(err, GW_ERR_PARSE, "bad ec jwk: %s",
				gw_ssl_error());
out:
	EVP_PKEY_CTX_free(ctx);
	free(pt);
	free(x);
	free(y);
	return rc;
}

gw_rc gw_jwk_import(const json_t *j, struct gw_pinned_key *out,
		    struct gw_err *err)
{
	const char *kty = json_string_value(json_object_get(j, "kty"));
	const char *s;
	unsigned char *x = NULL;
	size_t xl = 0;
	gw_rc rc = GW_OK;

	if (!json_is_object(j) || !kty)
		return gw_err_set(err, GW_ERR_PARSE, "not a jwk (no \"kty\")");
	if ((s = json_string_value(json_object_get(j, "alg"))) &&
	    !(out->alg = gw_strdup(s)))
		return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
	if ((s = json_string_value(json_object_get(j, "kid"))) &&
	    !(out->kid = gw_strdup(s)))
		return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
	if (strcmp(kty, "RSA") == 0)
		return import_rsa(j, &out->pkey, err);
	if (strcmp(kty, "EC") == 0)
		return import_ec(j, &out->pkey, err);
	if (strcmp(kty, "oct") == 0)
		return member_b64(j, "k", &out->secret, &out->secret_len, err);
	if (strcmp(kty, "OKP") == 0) {
		s = json_string_value(json_object_get(j, "crv"));
		if (!s || strcmp(s, "Ed25519"))
			return gw_err_set(err, GW_ERR_UNSUPPORTED,
					  "jwk curve '%s' is not supported",
					  s ? s : "(none)");
		if ((rc = member_b64(j, "x", &x, &xl, err)))
			return rc;
		if (!(out->pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519,
							      NULL, x, xl)))
			rc = gw_err_set(err, GW_ERR_PARSE,
					"bad Ed25519 jwk: %s", gw_ssl_error());
		free(x);
		return rc;
	}
	return gw_err_set(err, GW_ERR_UNSUPPORTED,
			  "jwk key type '%s' is not supported", kty);
}

static gw_rc set_b64(json_t *o, const char *name, const unsigned char *p,
		     size_t len)
{
	struct gw_buf b;
	gw_rc rc;

	gw_buf_init(&b);
	if (!(rc = gw_b64_encode(p, len, 1, &b)) &&
	    json_object_set_new(o, name, json_string(b.data ? b.data : "")))
		rc = GW_ERR_NOMEM;
	gw_buf_release(&b);
	return rc;
}

static gw_rc set_bn(json_t *o, const char *name, EVP_PKEY *pk,
		    const char *param, size_t pad)
{
	BIGNUM *bn = NULL;
	unsigned char *p;
	size_t n;
	gw_rc rc;

	if (EVP_PKEY_get_bn_param(pk, param, &bn) != 1)
		return GW_ERR_UNSUPPORTED;
	n = pad ? pad : (size_t)BN_num_bytes(bn);
	if (!(p = gw_malloc(n ? n : 1)) || BN_bn2binpad(bn, p, (int)n) < 0) {
		free(p);
		BN_clear_free(bn);
		return GW_ERR_INTERNAL;
	}
	rc = set_b64(o, name, p, n);
	OPENSSL_cleanse(p, n);
	free(p);
	BN_clear_free(bn);
	return rc;
}

gw_rc gw_jwk_export(EVP_PKEY *pk, int priv, struct gw_buf *out,
		    struct gw_err *err)
{
	json_t *o = json_object();
	unsigned char raw[64];
	size_t rl = sizeof(raw), i, sz = 0;
	char group[32], *s = NULL;
	const char *crv = NULL;
	gw_rc rc = GW_OK;

	if (!o)
		return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
	switch (EVP_PKEY_get_base_id(pk)) {
	case EVP_PKEY_RSA:
		json_object_set_new(o, "kty", json_string("RSA"));
		if ((rc = set_bn(o, "n", pk, OSSL_PKEY_PARAM_RSA_N, 0)) ||
		    (rc = set_bn(o, "e", pk, OSSL_PKEY_PARAM_RSA_E, 0)))
			break;
		if (priv &&
		    ((rc = set_bn(o, "d", pk, OSSL_PKEY_PARAM_RSA_D, 0)) ||
		     (rc = set_bn(o, "p", pk, OSSL_PKEY_PARAM_RSA_FACTOR1,
				  0)) ||
		     (rc = set_bn(o, "q", pk, OSSL_PKEY_PARAM_RSA_FACTOR2,
				  0)) ||
		     (rc = set_bn(o, "dp", pk, OSSL_PKEY_PARAM_RSA_EXPONENT1,
				  0)) ||
		     (rc = set_bn(o, "dq", pk, OSSL_PKEY_PARAM_RSA_EXPONENT2,
				  0)) ||
		     (rc = set_bn(o, "qi", pk, OSSL_PKEY_PARAM_RSA_COEFFICIENT1,
				  0))))
			break;
		break;
	case EVP_PKEY_EC:
		if (EVP_PKEY_get_utf8_string_param(
			    pk, OSSL_PKEY_PARAM_GROUP_NAME, group,
			    sizeof(group), NULL) != 1) {
			rc = GW_ERR_UNSUPPORTED;
			break;
		}
		for (i = 0; i < GW_ARRAY_LEN(curves); i++)
			if (strcmp(group, curves[i].group) == 0)
				crv = curves[i].crv, sz = curves[i].size;
		if (!crv) {
			rc = GW_ERR_UNSUPPORTED;
			break;
		}
		json_object_set_new(o, "kty", json_string("EC"));
		json_object_set_new(o, "crv", json_string(crv));
		if ((rc = set_bn(o, "x", pk, OSSL_PKEY_PARAM_EC_PUB_X, sz)) ||
		    (rc = set_bn(o, "y", pk, OSSL_PKEY_PARAM_EC_PUB_Y, sz)))
			break;
		if (priv)
			rc = set_bn(o, "d", pk, OSSL_PKEY_PARAM_PRIV_KEY, sz);
		break;
	case EVP_PKEY_ED25519:
		json_object_set_new(o, "kty", json_string("OKP"));
		json_object_set_new(o, "crv", json_string("Ed25519"));
		if (EVP_PKEY_get_raw_public_key(pk, raw, &rl) != 1 ||
		    (rc = set_b64(o, "x", raw, rl))) {
			rc = rc ? rc : GW_ERR_UNSUPPORTED;
			break;
		}
		rl = sizeof(raw);
		if (priv && (EVP_PKEY_get_raw_private_key(pk, raw, &rl) != 1 ||
			     (rc = set_b64(o, "d", raw, rl))))
			rc = rc ? rc : GW_ERR_UNSUPPORTED;
		OPENSSL_cleanse(raw, sizeof(raw));
		break;
	default: rc = GW_ERR_UNSUPPORTED;
	}
	ERR_clear_error();
	if (rc) {
		rc = gw_err_set(err, rc,
				"cannot export the key as a jwk (%s); keys in "
				"a token cannot be exported",
				gw_rc_name(rc));
		goto out;
	}
	if (!(s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS)) ||
	    gw_buf_adds(out, s))
		rc = gw_err_set(err, GW_ERR_NOMEM, "out of memory");
out:
	if (s) {
		OPENSSL_cleanse(s, strlen(s));
		free(s);
	}
	json_decref(o);
	return rc;
}

/* ---- signing --------------------------------------------------------------- */

static gw_rc x5c_array(const struct gw_sign_key *k, json_t *hdr)
{
	json_t *a = json_array();
	size_t i;

	if (!a)
		return GW_ERR_NOMEM;
	/* base64 DER made once when the key was loaded */
	for (i = 0; i < k->n_b64; i++)
		if (json_array_append_new(a, json_string(k->b64[i]))) {
			json_decref(a);
			return GW_ERR_NOMEM;
		}
	if (json_object_set_new(hdr, "x5c", a))
		return GW_ERR_NOMEM;
	return GW_OK;
}

gw_rc gw_jws_sign(const struct gw_sign_key *k, enum gw_sign_alg alg,
		  const char *json, size_t len, unsigned flags,
		  struct gw_buf *out, struct gw_err *err)
{
	struct gw_buf payload, hjson, input, sigb, pb;
	json_t *hdr = NULL;
	unsigned char *sig = NULL;
	size_t siglen = 0, hlen;
	gw_rc rc;

	gw_buf_init(&payload);
	gw_buf_init(&hjson);
	gw_buf_init(&input);
	gw_buf_init(&sigb);
	gw_buf_init(&pb);
	if (alg == GW_SIGN_ALG_DEFAULT)
		alg = gw_pk_default_alg(k->pkey);
	if (alg == GW_SIGN_ALG_HS256 || alg == GW_SIGN_ALG_OTHER ||
	    alg == GW_SIGN_ALG_DEFAULT) {
		rc = gw_err_set(err, GW_ERR_UNSUPPORTED,
				"algorithm '%s' cannot sign here (use "
				"RS256/384/512, PS256/384/512, ES256/384/512 "
				"or EdDSA)",
				gw_sign_alg_name(alg));
		goto out;
	}
	if (!gw_pk_fits(k->pkey, alg)) {
		rc = gw_err_set(err, GW_ERR_USAGE,
				"algorithm '%s' does not fit the key",
				gw_sign_alg_name(alg));
		goto out;
	}
	if ((rc = gw_jcs_canonicalize(json, len, &payload, err)))
		goto out;
	if (!(hdr = json_object()) ||
	    json_object_set_new(hdr, "alg",
				json_string(gw_sign_alg_name(alg))) ||
	    (k->cert && x5c_array(k, hdr))) {
		rc = gw_err_set(err, GW_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((rc = gw_jcs_serialize(hdr, &hjson, err)))
		goto out;
	if ((rc = gw_b64_encode((unsigned char *)hjson.data, hjson.len, 1,
				&input)))
		goto nomem;
	hlen = input.len;
	if ((rc = gw_buf_adds(&input, ".")) ||
	    (rc = gw_b64_encode((unsigned char *)payload.data, payload.len, 1,
				&input)))
		goto nomem;
	if ((rc = gw_pk_sign(k->pkey, alg, input.data, input.len, &sig, &siglen,
			     err)))
		goto out;
	if ((rc = gw_b64_encode(sig, siglen, 1, &sigb)))
		goto nomem;
	if (flags & GW_SIGN_FLATTENED) {
		rc = gw_buf_addf(out, "{\"protected\":\"%.*s\",", (int)hlen,
				 input.data);
		if (!rc && !(flags & GW_SIGN_DETACHED))
			rc = gw_buf_addf(out, "\"payload\":\"%s\",",
					 input.data + hlen + 1);
		if (!rc)
			rc = gw_buf_addf(out, "\"signature\":\"%s\"}",
					 sigb.data);
	} else if (flags & GW_SIGN_DETACHED) {
		rc = gw_buf_addf(out, "%.*s..%s", (int)hlen, input.data,
				 sigb.data);
	} else {
		rc = gw_buf_addf(out, "%s.%s", input.data, sigb.data);
	}
	if (rc)
		goto nomem;
	goto out;
nomem:
	rc = gw_err_set(err, GW_ERR_NOMEM, "out of memory");
out:
	free(sig);
	json_decref(hdr);
	gw_buf_release(&payload);
	gw_buf_release(&hjson);
	gw_buf_release(&input);
	gw_buf_release(&sigb);
	gw_buf_release(&pb);
	return rc;
}

/* ---- verification ---------------------------------------------------------- */

struct jsig {
	const char *prot; /* base64url protected header */
	size_t prot_len;
	const char *sig; /* base64url signature */
	size_t sig_len;
	json_t *unprot; /* borrowed unprotected header or NULL */
};

static int b64url_span(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!(s[i] >= 'A' && s[i] <= 'Z') &&
		    !(s[i] >= 'a' && s[i] <= 'z') &&
		    !(s[i] >= '0' && s[i] <= '9') && s[i] != '-' && s[i] != '_')
			return 0;
	return 1;
}

static gw_rc verify_one(const struct gw_sign_verifier *v, const struct jsig *js,
			const char *pay_b64, size_t pay_len, int trust_ok,
			struct gw_sign_result *res, struct gw_err *err)
{
	unsigned char *hraw = NULL, *sig = NULL, *der = NULL;
	size_t hlen = 0, siglen = 0, dlen, i;
	json_t *hdr = NULL, *x5c, *crit;
	json_error_t je;
	const char *an, *key;
	struct gw_buf input;
	STACK_OF(X509) *certs = NULL;
	struct gw_trust_ders ders = { .n = 0 };
	EVP_PKEY *cached = NULL;
	char subject[sizeof(res->subject)];
	enum gw_sign_alg alg;
	int a, r, tried = 0;
	gw_rc rc = GW_OK;

	gw_buf_init(&input);
	if (!js->prot || js->prot_len == 0)
		return gw_sign_refuse(res, err, GW_SIGN_MALFORMED,
				      "no protected header (\"alg\" must be "
				      "protected)");
	if (gw_b64_decode(js->prot, js->prot_len, 1, &hraw, &hlen) ||
	    !(hdr = gw_json_loadb((const char *)hraw, hlen, 0, &je)) ||
	    !json_is_object(hdr)) {
		rc = gw_sign_refuse(res, err, GW_SIGN_MALFORMED,
				    "protected header is not a base64url json "
				    "object");
		goto out;
	}
	if (js->unprot) {
		json_object_foreach(js->unprot, key, x5c)
		{
			if (json_object_get(hdr, key)) {
				rc = gw_sign_refuse(
					res, err, GW_SIGN_MALFORMED,
					"header parameter '%s' both "
					"protected and not",
					key);
				goto out;
			}
		}
	}
	an = json_string_value(json_object_get(hdr, "alg"));
	if (!an) {
		rc = gw_sign_refuse(res, err, GW_SIGN_MALFORMED,
				    "protected header has no \"alg\"");
		goto out;
	}
	a = gw_sign_alg_parse(an);
	res->alg = a > 0 ? (enum gw_sign_alg)a : GW_SIGN_ALG_OTHER;
	if (a <= 0) {
		rc = gw_sign_refuse(res, err, GW_SIGN_UNSUPPORTED,
				    "\"alg\": \"%s\" is refused", an);
		goto out;
	}
	alg = (enum gw_sign_alg)a;
	if (v->trust && alg == GW_SIGN_ALG_HS256) {
		rc = gw_sign_refuse(res, err, GW_SIGN_UNSUPPORTED,
				    "HS256 is refused with a trust store");
		goto out;
	}
	if (!gw_verifier_allows(v, alg)) {
		rc = gw_sign_refuse(res, err, GW_SIGN_UNSUPPORTED,
				    "\"alg\": \"%s\" is not among the "
				    "algorithms this verifier allows",
				    an);
		goto out;
	}
	if ((crit = json_object_get(hdr, "crit"))) {
		rc = gw_sign_refuse(res, err, GW_SIGN_UNSUPPORTED,
				    "critical header parameters are not "
				    "understood");
		goto out;
	}
	if (json_object_get(hdr, "b64")) {
		rc = gw_sign_refuse(res, err, GW_SIGN_UNSUPPORTED,
				    "unencoded payloads (\"b64\") are refused");
		goto out;
	}
	if (!b64url_span(js->sig, js->sig_len) ||
	    gw_b64_decode(js->sig, js->sig_len, 1, &sig, &siglen)) {
		rc = gw_sign_refuse(res, err, GW_SIGN_MALFORMED,
				    "signature is not base64url");
		goto out;
	}
	if (gw_buf_add(&input, js->prot, js->prot_len) ||
	    gw_buf_adds(&input, ".") || gw_buf_add(&input, pay_b64, pay_len)) {
		rc = gw_err_set(err, GW_ERR_NOMEM, "out of memory");
		goto out;
	}

	if (v->trust) {
		struct gw_trust_probe probe;
		EVP_PKEY *pk;
		X509 *leaf = NULL;
		size_t bad = 0;

		if (!trust_ok) {
			rc = gw_sign_refuse(res, err, GW_SIGN_WRAPPED,
					    "more than one signature");
			goto out;
		}
		x5c = json_object_get(hdr, "x5c");
		if (!json_is_array(x5c) || json_array_size(x5c) == 0) {
			rc = gw_sign_refuse(res, err, GW_SIGN_UNTRUSTED,
					    "no \"x5c\" in the protected "
					    "header");
			goto out;
		}
		if (json_array_size(x5c) > GW_TRUST_MAX_CERTS) {
			rc = gw_sign_refuse(res, err, GW_SIGN_MALFORMED,
					    "\"x5c\" holds %zu certificates "
					    "(at most %d)",
					    json_array_size(x5c),
					    GW_TRUST_MAX_CERTS);
			goto out;
		}
		for (i = 0; i < json_array_size(x5c); i++) {
			const char *c =
				json_string_value(json_array_get(x5c, i));

			if (!c || gw_b64_decode(c, strlen(c), 0, &der, &dlen)) {
				rc = gw_sign_refuse(res, err, GW_SIGN_MALFORMED,
						    "x5c[%zu] is not a base64 "
						    "certificate",
						    i);
				goto out;
			}
			(void)gw_trust_ders_add(&ders, der, dlen);
			der = NULL;
		}
		/* The leaf's key from the cache when this chain passed
		 * before; the signature is checked either way. */
		pk = cached = gw_trust_cache_get(v->trust, &ders, 1, &probe,
						 subject, sizeof(subject));
		if (!pk) {
			if (!(certs = sk_X509_new_null())) {
				rc = gw_err_set(err, GW_ERR_NOMEM,
						"out of memory");
				goto out;
			}
			if ((rc = gw_trust_ders_decode(&ders, certs, &bad))) {
				if (rc == GW_ERR_PARSE)
					rc = gw_sign_refuse(
						res, err, GW_SIGN_MALFORMED,
						"x5c[%zu] is not a base64 "
						"certificate",
						bad);
				else
					rc = gw_err_set(err, rc,
							"out of memory");
				goto out;
			}
			leaf = gw_trust_leaf(certs, 1);
			pk = X509_get0_pubkey(leaf);
		}
		r = gw_pk_verify(pk, alg, input.data, input.len, sig, siglen);
		if (r < 0) {
			rc = gw_sign_refuse(res, err, GW_SIGN_BAD_SIGNATURE,
					    "\"alg\": \"%s\" does not fit the "
					    "certificate's key",
					    an);
			goto out;
		}
		if (r == 0) {
			rc = gw_sign_refuse(res, err, GW_SIGN_BAD_SIGNATURE,
					    "the signature does not match");
			goto out;
		}
		if (cached) {
			memcpy(res->subject, subject, sizeof(res->subject));
			goto out;
		}
		rc = gw_trust_check(v, leaf, certs, &probe, res, err);
		goto out;
	}

	for (i = 0; i < v->nkeys; i++) {
		const struct gw_pinned_key *k = &v->keys[i];

		if (k->alg && strcmp(k->alg, an))
			continue;
		if (alg == GW_SIGN_ALG_HS256) {
			unsigned char md[EVP_MAX_MD_SIZE];
			unsigned mdlen = 0;

			if (!k->secret)
				continue;
			tried++;
			if (HMAC(EVP_sha256(), k->secret, (int)k->secret_len,
				 (const unsigned char *)input.data, input.len,
				 md, &mdlen) &&
			    mdlen == siglen &&
			    CRYPTO_memcmp(md, sig, siglen) == 0)
				break;
			continue;
		}
		if (!k->pkey || !gw_pk_fits(k->pkey, alg))
			continue;
		tried++;
		if (gw_pk_verify(k->pkey, alg, input.data, input.len, sig,
				 siglen) == 1)
			break;
	}
	if (i < v->nkeys) {
		snprintf(res->subject, sizeof(res->subject), "%s%s%s%s",
			 v->label, v->keys[i].kid ? " (kid '" : "",
			 v->keys[i].kid ? v->keys[i].kid : "",
			 v->keys[i].kid ? "')" : "");
		goto out;
	}
	if (!tried)
		rc = gw_sign_refuse(res, err, GW_SIGN_BAD_SIGNATURE,
				    "no pinned key fits \"alg\": \"%s\"", an);
	else
		rc = gw_sign_refuse(res, err, GW_SIGN_BAD_SIGNATURE,
				    "the signature does not match");
out:
	ERR_clear_error();
	EVP_PKEY_free(cached);
	gw_trust_ders_release(&ders);
	sk_X509_pop_free(certs, X509_free);
	json_decref(hdr);
	free(hraw);
	free(sig);
	gw_buf_release(&input);
	return rc;
}

/* Try every signature; the first valid one wins. Reasons of failures:
 * the first one is kept. */
static gw_rc verify_all(const struct gw_sign_verifier *v, struct jsig *sigs,
			size_t n, const char *pay_b64, size_t pay_len,
			struct gw_sign_result *res, struct gw_err *err)
{
	struct gw_sign_result r1, r2;
	struct gw_err e1, e2;
	gw_rc rc = GW_ERR_REFUSED, r;
	size_t i;

	gw_err_clear(&e1);
	memset(&r1, 0, sizeof(r1));
	for (i = 0; i < n; i++) {
		memset(&r2, 0, sizeof(r2));
		gw_err_clear(&e2);
		r = verify_one(v, &sigs[i], pay_b64, pay_len, n == 1, &r2, &e2);
		if (r == GW_OK) {
			*res = r2;
			return GW_OK;
		}
		if (r != GW_ERR_REFUSED || i == 0) {
			r1 = r2;
			e1 = e2;
			rc = r;
			if (r != GW_ERR_REFUSED)
				break;
		}
	}
	*res = r1;
	if (err)
		*err = e1;
	return rc;
}

static gw_rc jstr(json_t *o, const char *name, const char **s, size_t *len)
{
	json_t *m = json_object_get(o, name);

	if (!m) {
		*s = NULL;
		*len = 0;
		return GW_OK;
	}
	if (!json_is_string(m))
		return GW_ERR_PARSE;
	*s = json_string_value(m);
	*len = json_string_length(m);
	return GW_OK;
}

gw_rc gw_jws_verify(const struct gw_sign_verifier *v, const char *msg,
		    size_t len, const char *payload, size_t plen,
		    unsigned flags, struct gw_sign_result *res,
		    struct gw_buf *content, struct gw_err *err)
{
	struct jsig *sigs = NULL;
	size_t nsig = 0, i, pay_len = 0;
	const char *pay_b64 = NULL, *dot1, *dot2;
	struct gw_buf ext, canon;
	json_t *j = NULL, *arr;
	json_error_t je;
	unsigned char *dec = NULL;
	size_t declen = 0;
	int detached = 0;
	gw_rc rc = GW_OK;

	memset(res, 0, sizeof(*res));
	gw_buf_init(&ext);
	gw_buf_init(&canon);
	while (len && strchr(" \t\r\n", msg[len - 1]))
		len--;
	while (len && strchr(" \t\r\n", msg[0]))
		msg++, len--;
	if (len && msg[0] == '{') {
		if (!(j = gw_json_loadb(msg, len, 0, &je))) {
			rc = gw_sign_refuse(res, err, GW_SIGN_MALFORMED,
					    "not json: %d: %s", je.line,
					    je.text);
			goto out;
		}
		if (jstr(j, "payload", &pay_b64, &pay_len)) {
			rc = gw_sign_refuse(res, err, GW_SIGN_MALFORMED,
					    "\"payload\" is not a string");
			goto out;
		}
		arr = json_object_get(j, "signatures");
		nsig = arr ? json_array_size(arr) : 1;
		if ((arr && (!json_is_array(arr) || nsig == 0)) ||
		    (arr && json_object_get(j, "signature"))) {
			rc = gw_sign_refuse(res, err, GW_SIGN_MALFORMED,
					    "bad \"signatures\"");
			goto out;
		}
		if (!(sigs = gw_calloc(nsig, sizeof(*sigs)))) {
			rc = gw_err_set(err, GW_ERR_NOMEM, "out of memory");
			goto out;
		}
		for (i = 0; i < nsig; i++) {
			json_t *o = arr ? json_array_get(arr, i) : j;

			if (!json_is_object(o) ||
			    jstr(o, "protected", &sigs[i].prot,
				 &sigs[i].prot_len) ||
			    jstr(o, "signature", &sigs[i].sig,
				 &sigs[i].sig_len) ||
			    !sigs[i].sig ||
			    ((sigs[i].unprot = json_object_get(o, "header")) &&
			     !json_is_object(sigs[i].unprot))) {
				rc = gw_sign_refuse(
					res, err, GW_SIGN_MALFORMED,
					"signature %zu lacks "
					"\"signature\" or has a bad "
					"member",
					i);
				goto out;
			}
		}
		detached = pay_b64 == NULL;
	} else {
		dot1 = memchr(msg, '.', len);
		dot2 = dot1 ? memchr(dot1 + 1, '.',
				     len - (size_t)(dot1 + 1 - msg))
			    : NULL;
		if (!dot2 ||
		    memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - msg))) {
			rc = gw_sign_refuse(res, err, GW_SIGN_MALFORMED,
					    "not a jws (three base64url parts "
					    "separated by '.')");
			goto out;
		}
		if (!(sigs = gw_calloc(1, sizeof(*sigs)))) {
			rc = gw_err_set(err, GW_ERR_NOMEM, "out of memory");
			goto out;
		}
		nsig = 1;
		sigs[0].prot = msg;
		sigs[0].prot_len = (size_t)(dot1 - msg);
		pay_b64 = dot1 + 1;
		pay_len = (size_t)(dot2 - dot1 - 1);
		sigs[0].sig = dot2 + 1;
		sigs[0].sig_len = len - (size_t)(dot2 + 1 - msg);
		detached = pay_len == 0;
	}
	if (!detached && payload) {
		rc = gw_err_set(err, GW_ERR_USAGE,
				"the jws has its payload: it is not detached");
		goto out;
	}
	if (detached && !payload) {
		rc = gw_sign_refuse(
			res, err, GW_SIGN_MALFORMED,
			"detached jws: give the payload (--payload)");
		goto out;
	}
	if (detached) {
		if (gw_b64_encode((const unsigned char *)payload, plen, 1,
				  &ext)) {
			rc = gw_err_set(err, GW_ERR_NOMEM, "out of memory");
			goto out;
		}
		rc = verify_all(v, sigs, nsig, ext.data ? ext.data : "",
				ext.len, res, err);
		if (rc == GW_ERR_REFUSED &&
		    res->reason == GW_SIGN_BAD_SIGNATURE &&
		    gw_jcs_canonicalize(payload, plen, &canon, NULL) == GW_OK) {
			/* Signed over the canonical form (what sign does). */
			struct gw_sign_result r2;
			struct gw_err e2;

			ext.len = 0;
			gw_err_clear(&e2);
			if (gw_b64_encode((unsigned char *)canon.data,
					  canon.len, 1, &ext)) {
				rc = gw_err_set(err, GW_ERR_NOMEM,
						"out of memory");
				goto out;
			}
			if (verify_all(v, sigs, nsig, ext.data, ext.len, &r2,
				       &e2) == GW_OK) {
				*res = r2;
				rc = GW_OK;
				payload = canon.data;
				plen = canon.len;
			}
		}
		if (rc == GW_OK && content &&
		    gw_buf_add(content, payload, plen))
			rc = gw_err_set(err, GW_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (!b64url_span(pay_b64, pay_len) ||
	    gw_b64_decode(pay_b64, pay_len, 1, &dec, &declen)) {
		rc = gw_sign_refuse(res, err, GW_SIGN_MALFORMED,
				    "payload is not base64url");
		goto out;
	}
	rc = verify_all(v, sigs, nsig, pay_b64, pay_len, res, err);
	if (rc == GW_OK && content &&
	    gw_buf_add(content, (const char *)dec, declen))
		rc = gw_err_set(err, GW_ERR_NOMEM, "out of memory");
out:
	free(dec);
	free(sigs);
	json_decref(j);
	gw_buf_release(&ext);
	gw_buf_release(&canon);
	return rc;
}
