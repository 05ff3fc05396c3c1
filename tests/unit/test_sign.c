/* test_sign.c - signing and verification: base64, XML-DSig and JWS round
 * trips with keys and self-signed certificates made in-process, tampering,
 * wrapping, "alg: none", passphrases and the result reasons. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "base/common.h"
#include "crypto/sign.h"
#include "crypto/trust.h"

static const char MSG_XML[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	"<message xmlns=\"urn:lienthong:message:1\" id=\"m1\">\n"
	"  <indicator code=\"CPI\">3.63</indicator>\n"
	"</message>\n";
static const char MSG_JSON[] =
	"{ \"b\": [1, 2.50, \"x\"], \"a\": \"Bộ Tài chính\" }";

struct fixture {
	char dir[64];
	char ec_key[128], ec_cert[128], rsa_key[128], rsa_cert[128];
	char enc_key[128], trust[128];
};

static EVP_PKEY *genkey(int rsa)
{
	EVP_PKEY_CTX *c =
		EVP_PKEY_CTX_new_id(rsa ? EVP_PKEY_RSA : EVP_PKEY_EC, NULL);
	EVP_PKEY *k = NULL;

	assert_non_null(c);
	assert_int_equal(EVP_PKEY_keygen_init(c), 1);
	if (rsa)
		assert_int_equal(EVP_PKEY_CTX_set_rsa_keygen_bits(c, 2048), 1);
	else
		assert_int_equal(EVP_PKEY_CTX_set_ec_paramgen_curve_nid(
					 c, NID_X9_62_prime256v1),
				 1);
	assert_int_equal(EVP_PKEY_keygen(c, &k), 1);
	EVP_PKEY_CTX_free(c);
	return k;
}

static void add_ext(X509 *x, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *e;

	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	assert_non_null(e);
	X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
}

static void selfsigned(EVP_PKEY *k, const char *cn, const char *keypath,
		       const char *certpath)
{
	X509 *x = X509_new();
	X509_NAME *n;
	FILE *f;

	assert_non_null(x);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600L * 24 * 365);
	X509_set_pubkey(x, k);
	n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
				   (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, n);
	add_ext(x, NID_basic_constraints, "critical,CA:TRUE");
	add_ext(x, NID_key_usage, "critical,digitalSignature,keyCertSign");
	assert_true(X509_sign(x, k, EVP_sha256()) > 0);
	assert_non_null(f = fopen(keypath, "w"));
	PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
	fclose(f);
	assert_non_null(f = fopen(certpath, "w"));
	PEM_write_X509(f, x);
	fclose(f);
	X509_free(x);
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	EVP_PKEY *ec = NULL, *rsa = NULL;
	char path[160];
	FILE *f;

	if (!fx)
		return -1;
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/test_sign.XXXXXX");
	if (!mkdtemp(fx->dir))
		goto fail;
	snprintf(fx->ec_key, sizeof(fx->ec_key), "%s/ec.key", fx->dir);
	snprintf(fx->ec_cert, sizeof(fx->ec_cert), "%s/ec.pem", fx->dir);
	snprintf(fx->rsa_key, sizeof(fx->rsa_key), "%s/rsa.key", fx->dir);
	snprintf(fx->rsa_cert, sizeof(fx->rsa_cert), "%s/rsa.pem", fx->dir);
	snprintf(fx->enc_key, sizeof(fx->enc_key), "%s/enc.key", fx->dir);
	snprintf(fx->trust, sizeof(fx->trust), "%s/trust", fx->dir);
	ec = genkey(0);
	rsa = genkey(1);
	selfsigned(ec, "Unit EC Signer", fx->ec_key, fx->ec_cert);
	selfsigned(rsa, "Unit RSA Signer", fx->rsa_key, fx->rsa_cert);
	if (!(f = fopen(fx->enc_key, "w")))
		goto fail;
	PEM_write_PKCS8PrivateKey(f, ec, EVP_aes_256_cbc(), NULL, 0, NULL,
				  (void *)"unit-pass");
	fclose(f);
	mkdir(fx->trust, 0700);
	snprintf(path, sizeof(path), "%s/ec.pem", fx->trust);
	if (link(fx->ec_cert, path))
		goto fail;
	snprintf(path, sizeof(path), "%s/rsa.pem", fx->trust);
	if (link(fx->rsa_cert, path))
		goto fail;
	EVP_PKEY_free(ec);
	EVP_PKEY_free(rsa);
	*state = fx;
	return 0;
fail:
	EVP_PKEY_free(ec);
	EVP_PKEY_free(rsa);
	free(fx);
	return -1;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
	if (system(cmd) != 0)
		return -1;
	free(fx);
	gw_sign_shutdown();
	xmlCleanupParser();
	return 0;
}

static xmlDocPtr parse(const char *s)
{
	xmlDocPtr d = xmlReadMemory(s, (int)strlen(s), "t.xml", NULL,
				    XML_PARSE_NONET);

	assert_non_null(d);
	return d;
}

/* Sign MSG_XML with key/cert and alg; returns the serialized document. */
static char *sign_xml(const char *key, const char *cert, enum gw_sign_alg alg)
{
	struct gw_sign_key *k = NULL;
	struct gw_err err;
	xmlDocPtr d = parse(MSG_XML);
	xmlChar *mem = NULL;
	char *out;
	int n = 0;

	gw_err_clear(&err);
	assert_int_equal(gw_sign_key_load(key, NULL, cert, NULL, &k, &err),
			 GW_OK);
	assert_int_equal(gw_sign_xml(k, alg, d, &err), GW_OK);
	xmlDocDumpMemory(d, &mem, &n);
	out = strdup((const char *)mem);
	xmlFree(mem);
	xmlFreeDoc(d);
	gw_sign_key_free(k);
	return out;
}

static enum gw_sign_reason verify_xml(const char *trust, const char *text,
				      char *subject, size_t size)
{
	struct gw_sign_verifier *v = NULL;
	struct gw_sign_result res;
	struct gw_err err;
	xmlDocPtr d = parse(text);
	gw_rc rc;

	gw_err_clear(&err);
	assert_int_equal(gw_sign_verifier_trust(trust, &v, &err), GW_OK);
	rc = gw_sign_verify_xml(v, d, 0, &res, &err);
	assert_true(rc == GW_OK || rc == GW_ERR_REFUSED);
	if (rc == GW_OK)
		assert_int_equal(res.reason, GW_SIGN_VALID);
	if (subject)
		snprintf(subject, size, "%s", res.subject);
	xmlFreeDoc(d);
	gw_sign_verifier_free(v);
	return res.reason;
}

static void replace(char *s, const char *from, const char *to)
{
	char *p = strstr(s, from);

	assert_non_null(p);
	assert_int_equal(strlen(from), strlen(to));
	memcpy(p, to, strlen(to));
}

static void test_sign__base64(void **state)
{
	const unsigned char in[] = { 0xfb, 0xff, 0x00, 'a', 'b' };
	struct gw_buf b;
	unsigned char *out;
	size_t len;

	(void)state;
	gw_buf_init(&b);
	assert_int_equal(gw_b64_encode(in, sizeof(in), 1, &b), GW_OK);
	assert_string_equal(b.data, "-_8AYWI");
	assert_int_equal(gw_b64_decode(b.data, b.len, 1, &out, &len), GW_OK);
	assert_int_equal(len, sizeof(in));
	assert_memory_equal(out, in, len);
	free(out);
	b.len = 0;
	assert_int_equal(gw_b64_encode(in, sizeof(in), 0, &b), GW_OK);
	assert_string_equal(b.data, "+/8AYWI=");
	assert_int_equal(gw_b64_decode("+/8A\nYWI=", 9, 0, &out, &len), GW_OK);
	assert_int_equal(len, sizeof(in));
	free(out);
	assert_int_equal(gw_b64_decode("+/8A", 4, 1, &out, &len), GW_ERR_PARSE);
	assert_int_equal(gw_b64_decode("YWJ", 3, 1, &out, &len), GW_ERR_PARSE);
	gw_buf_release(&b);
}

static void test_sign__names(void **state)
{
	(void)state;
	assert_int_equal(gw_sign_alg_parse("ES256"), GW_SIGN_ALG_ES256);
	assert_int_equal(gw_sign_alg_parse("EdDSA"), GW_SIGN_ALG_EDDSA);
	assert_int_equal(gw_sign_alg_parse("none"), -1);
	assert_string_equal(gw_sign_alg_name(GW_SIGN_ALG_PS256), "PS256");
	assert_string_equal(gw_sign_reason_name(GW_SIGN_BAD_DIGEST),
			    "bad digest");
	assert_string_equal(gw_sign_reason_name(GW_SIGN_UNSUPPORTED),
			    "unsupported algorithm");
}

static void test_sign__xml_roundtrip(void **state)
{
	struct fixture *fx = *state;
	char subject[256], *s;

	s = sign_xml(fx->ec_key, fx->ec_cert, GW_SIGN_ALG_DEFAULT);
	assert_int_equal(verify_xml(fx->trust, s, subject, sizeof(subject)),
			 GW_SIGN_VALID);
	assert_string_equal(subject, "CN=Unit EC Signer");
	free(s);
	s = sign_xml(fx->rsa_key, fx->rsa_cert, GW_SIGN_ALG_RS256);
	assert_int_equal(verify_xml(fx->trust, s, NULL, 0), GW_SIGN_VALID);
	free(s);
}

static void test_sign__xml_rsa_pss(void **state)
{
	struct fixture *fx = *state;
	char *s = sign_xml(fx->rsa_key, fx->rsa_cert, GW_SIGN_ALG_PS256);

	assert_non_null(strstr(s, "xmldsig-more#sha256-rsa-MGF1"));
	assert_int_equal(verify_xml(fx->trust, s, NULL, 0), GW_SIGN_VALID);
	replace(s, "3.63", "3.64");
	assert_int_equal(verify_xml(fx->trust, s, NULL, 0), GW_SIGN_BAD_DIGEST);
	free(s);
}

static void test_sign__xml_tampered(void **state)
{
	struct fixture *fx = *state;
	char *s = sign_xml(fx->ec_key, fx->ec_cert, GW_SIGN_ALG_ES256);
	char *p;

	replace(s, "CPI", "CPX");
	assert_int_equal(verify_xml(fx->trust, s, NULL, 0), GW_SIGN_BAD_DIGEST);
	replace(s, "CPX", "CPI");
	p = strstr(s, "<SignatureValue>") + 20;
	*p = *p == 'A' ? 'B' : 'A';
	assert_int_equal(verify_xml(fx->trust, s, NULL, 0),
			 GW_SIGN_BAD_SIGNATURE);
	free(s);
}

static void test_sign__xml_wrapped(void **state)
{
	struct fixture *fx = *state;
	char *s = sign_xml(fx->ec_key, fx->ec_cert, GW_SIGN_ALG_ES256);
	char *w;
	const char *sig, *end;
	size_t n;

	/* A second Signature inside the indicator. */
	sig = strstr(s, "<Signature");
	end = strstr(s, "</Signature>") + 12;
	n = strlen(s) + (size_t)(end - sig) + 1;
	w = malloc(n);
	assert_non_null(w);
	{
		const char *ins = strstr(s, "3.63");
		size_t pre = (size_t)(ins - s);

		memcpy(w, s, pre);
		memcpy(w + pre, sig, (size_t)(end - sig));
		strcpy(w + pre + (size_t)(end - sig), ins);
	}
	assert_int_equal(verify_xml(fx->trust, w, NULL, 0), GW_SIGN_WRAPPED);
	free(w);
	replace(s, "Reference URI=\"\"", "Reference Id=\"\" ");
	assert_int_equal(verify_xml(fx->trust, s, NULL, 0), GW_SIGN_WRAPPED);
	free(s);
}

static gw_rc verify_jws(const char *trust_or_key, int trust, const char *jws,
			const char *payload, struct gw_sign_result *res,
			struct gw_buf *content)
{
	struct gw_sign_verifier *v = NULL;
	struct gw_err err;
	gw_rc rc;

	gw_err_clear(&err);
	if (trust)
		assert_int_equal(gw_sign_verifier_trust(trust_or_key, &v, &err),
				 GW_OK);
	else
		assert_int_equal(gw_sign_verifier_key(trust_or_key, &v, &err),
				 GW_OK);
	rc = gw_sign_verify_jws(v, jws, strlen(jws), payload,
				payload ? strlen(payload) : 0, 0, res, content,
				&err);
	gw_sign_verifier_free(v);
	return rc;
}

static void test_sign__jws_forms(void **state)
{
	struct fixture *fx = *state;
	static const unsigned flags[] = { 0, GW_SIGN_FLATTENED,
					  GW_SIGN_DETACHED,
					  GW_SIGN_DETACHED |
						  GW_SIGN_FLATTENED };
	static const enum gw_sign_alg algs[] = { GW_SIGN_ALG_ES256,
						 GW_SIGN_ALG_RS256,
						 GW_SIGN_ALG_PS256 };
	struct gw_sign_key *k = NULL;
	struct gw_sign_result res;
	struct gw_err err;
	struct gw_buf out, content;
	size_t i, a;

	gw_err_clear(&err);
	gw_buf_init(&out);
	gw_buf_init(&content);
	for (a = 0; a < GW_ARRAY_LEN(algs); a++) {
		int ec = algs[a] == GW_SIGN_ALG_ES256;

		assert_int_equal(
			gw_sign_key_load(ec ? fx->ec_key : fx->rsa_key, NULL,
					 ec ? fx->ec_cert : fx->rsa_cert, NULL,
					 &k, &err),
			GW_OK);
		for (i = 0; i < GW_ARRAY_LEN(flags); i++) {
			int det = (flags[i] & GW_SIGN_DETACHED) != 0;

			out.len = content.len = 0;
			assert_int_equal(gw_sign_json(k, algs[a], MSG_JSON,
						      strlen(MSG_JSON),
						      flags[i], &out, &err),
					 GW_OK);
			assert_int_equal(verify_jws(fx->trust, 1, out.data,
						    det ? MSG_JSON : NULL, &res,
						    &content),
					 GW_OK);
			assert_int_equal(res.alg, algs[a]);
			if (!det)
				assert_string_equal(
					content.data,
					"{\"a\":\"Bộ Tài chính\",\"b\":[1,2.5,"
					"\"x\"]}");
		}
		gw_sign_key_free(k);
		k = NULL;
	}
	gw_buf_release(&out);
	gw_buf_release(&content);
}

static void test_sign__jws_tampered(void **state)
{
	struct fixture *fx = *state;
	struct gw_sign_key *k = NULL;
	struct gw_sign_result res;
	struct gw_err err;
	struct gw_buf out;
	char *dot, save;

	gw_err_clear(&err);
	gw_buf_init(&out);
	assert_int_equal(
		gw_sign_key_load(fx->ec_key, NULL, fx->ec_cert, NULL, &k, &err),
		GW_OK);
	assert_int_equal(gw_sign_json(k, GW_SIGN_ALG_DEFAULT, MSG_JSON,
				      strlen(MSG_JSON), 0, &out, &err),
			 GW_OK);
	dot = strchr(out.data, '.');
	save = dot[5];
	dot[5] = save == 'A' ? 'B' : 'A';
	assert_int_equal(verify_jws(fx->trust, 1, out.data, NULL, &res, NULL),
			 GW_ERR_REFUSED);
	assert_int_equal(res.reason, GW_SIGN_BAD_SIGNATURE);
	dot[5] = save;
	dot = strrchr(out.data, '.');
	save = dot[5];
	dot[5] = save == 'A' ? 'B' : 'A';
	assert_int_equal(verify_jws(fx->trust, 1, out.data, NULL, &res, NULL),
			 GW_ERR_REFUSED);
	assert_int_equal(res.reason, GW_SIGN_BAD_SIGNATURE);
	/* The certificate as a pinned key (its own signature restored). */
	dot[5] = save;
	assert_int_equal(verify_jws(fx->ec_cert, 0, out.data, NULL, &res, NULL),
			 GW_OK);
	assert_string_equal(res.subject, "CN=Unit EC Signer");
	/* RSA certificate: the key does not fit ES256. */
	assert_int_equal(
		verify_jws(fx->rsa_cert, 0, out.data, NULL, &res, NULL),
		GW_ERR_REFUSED);
	gw_sign_key_free(k);
	gw_buf_release(&out);
}

static void test_sign__jws_alg_none(void **state)
{
	struct fixture *fx = *state;
	struct gw_sign_result res;

	/* {"alg":"none"} . {"a":1} . (empty) */
	assert_int_equal(verify_jws(fx->ec_cert, 0,
				    "eyJhbGciOiJub25lIn0.eyJhIjoxfQ.", NULL,
				    &res, NULL),
			 GW_ERR_REFUSED);
	assert_int_equal(res.reason, GW_SIGN_UNSUPPORTED);
	assert_int_equal(verify_jws(fx->trust, 1,
				    "eyJhbGciOiJub25lIn0.eyJhIjoxfQ.", NULL,
				    &res, NULL),
			 GW_ERR_REFUSED);
	assert_int_equal(res.reason, GW_SIGN_UNSUPPORTED);
	assert_int_equal(
		verify_jws(fx->trust, 1, "not a jws", NULL, &res, NULL),
		GW_ERR_REFUSED);
	assert_int_equal(res.reason, GW_SIGN_MALFORMED);
}

static void test_sign__passphrase(void **state)
{
	struct fixture *fx = *state;
	struct gw_sign_key *k = NULL;
	struct gw_err err;
	char spec[160];
	FILE *f;

	gw_err_clear(&err);
	assert_int_equal(
		gw_sign_key_load(fx->enc_key, NULL, NULL, NULL, &k, &err),
		GW_ERR_USAGE);
	assert_non_null(strstr(err.msg, "encrypted"));
	setenv("TEST_SIGN_PASS", "wrong", 1);
	assert_int_equal(gw_sign_key_load(fx->enc_key, "env:TEST_SIGN_PASS",
					  NULL, NULL, &k, &err),
			 GW_ERR_USAGE);
	setenv("TEST_SIGN_PASS", "unit-pass", 1);
	assert_int_equal(gw_sign_key_load(fx->enc_key, "env:TEST_SIGN_PASS",
					  fx->ec_cert, NULL, &k, &err),
			 GW_OK);
	gw_sign_key_free(k);
	k = NULL;
	snprintf(spec, sizeof(spec), "%s/pass", fx->dir);
	assert_non_null(f = fopen(spec, "w"));
	fputs("unit-pass\n", f);
	fclose(f);
	snprintf(spec, sizeof(spec), "file:%s/pass", fx->dir);
	assert_int_equal(
		gw_sign_key_load(fx->enc_key, spec, NULL, NULL, &k, &err),
		GW_OK);
	gw_sign_key_free(k);
	k = NULL;
	assert_int_equal(
		gw_sign_key_load(fx->enc_key, "stdin", NULL, NULL, &k, &err),
		GW_ERR_USAGE);
	/* A certificate that is not the key's. */
	assert_int_equal(gw_sign_key_load(fx->ec_key, NULL, fx->rsa_cert, NULL,
					  &k, &err),
			 GW_ERR_USAGE);
	assert_null(k);
}

static void test_sign__untrusted(void **state)
{
	struct fixture *fx = *state;
	EVP_PKEY *other = genkey(0);
	char key[160], cert[160], *s;

	snprintf(key, sizeof(key), "%s/other.key", fx->dir);
	snprintf(cert, sizeof(cert), "%s/other.pem", fx->dir);
	selfsigned(other, "Unit Stranger", key, cert);
	EVP_PKEY_free(other);
	s = sign_xml(key, cert, GW_SIGN_ALG_ES256);
	assert_int_equal(verify_xml(fx->trust, s, NULL, 0), GW_SIGN_UNTRUSTED);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sign__base64),
		cmocka_unit_test(test_sign__names),
		cmocka_unit_test(test_sign__xml_roundtrip),
		cmocka_unit_test(test_sign__xml_rsa_pss),
		cmocka_unit_test(test_sign__xml_tampered),
		cmocka_unit_test(test_sign__xml_wrapped),
		cmocka_unit_test(test_sign__jws_forms),
		cmocka_unit_test(test_sign__jws_tampered),
		cmocka_unit_test(test_sign__jws_alg_none),
		cmocka_unit_test(test_sign__passphrase),
		cmocka_unit_test(test_sign__untrusted),
	};
	struct gw_err err;

	if (gw_sign_init(&err) != GW_OK) {
		fprintf(stderr, "%s\n", err.msg);
		return 1;
	}
	return cmocka_run_group_tests(tests, setup, teardown);
}
