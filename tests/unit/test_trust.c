/* test_trust.c - the cache of verified certificate chains of a trust-store
 * verifier (gateway/trust.c): hits, the signature checked on a hit, the
 * window bounded by notAfter, the CRL's nextUpdate and the TTL, revocation
 * after a reload, LRU eviction, refusals not cached, and many threads
 * verifying while the cache is flushed and the store reloaded. The PKI
 * (root, intermediate, leaves, CRL) is made in-process with an injectable
 * clock (gw_sign_verifier_set_time), so nothing waits for real time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "base/common.h"
#include "crypto/sign.h"

static const char MSG_XML[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	"<message xmlns=\"urn:lienthong:message:1\" id=\"m1\">\n"
	"  <indicator code=\"CPI\">3.63</indicator>\n"
	"</message>\n";
static const char MSG_JSON[] = "{\"id\": \"m1\", \"indicator\": 3.63}";

#define DAY (24L * 3600)
#define LEAF_A_DAYS 2 /* leaf A's life: short, to test its end */
#define SERIAL_R 7    /* leaf R, revoked by the CRL */

struct fixture {
	char dir[64];
	char trust[128], crl_src[128], chain[128], chain17[128];
	char a_key[128], a_cert[128], r_key[128], r_cert[128];
	char b_key[128], b_cert[128], s_key[128], s_cert[128];
	time_t t0;	   /* the time the PKI was made */
	time_t a_notafter; /* leaf A's notAfter */
	time_t crl_next;   /* the CRL's nextUpdate */
};

static EVP_PKEY *genkey(void)
{
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_id(EVP_PKEY_EC, NULL);
	EVP_PKEY *k = NULL;

	assert_non_null(c);
	assert_int_equal(EVP_PKEY_keygen_init(c), 1);
	assert_int_equal(
		EVP_PKEY_CTX_set_ec_paramgen_curve_nid(c, NID_X9_62_prime256v1),
		1);
	assert_int_equal(EVP_PKEY_keygen(c, &k), 1);
	EVP_PKEY_CTX_free(c);
	return k;
}

static void add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *e;

	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	assert_non_null(e);
	X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
}

/* A certificate for k named cn, issued by issuer/ikey (NULL: self-signed),
 * valid from t0 - 1 h to t0 + days. */
static X509 *mkcert(EVP_PKEY *k, const char *cn, long serial, int ca,
		    X509 *issuer, EVP_PKEY *ikey, time_t t0, long days)
{
	X509 *x = X509_new();
	X509_NAME *n;

	assert_non_null(x);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
	assert_non_null(
		X509_time_adj_ex(X509_getm_notBefore(x), 0, -3600, &t0));
	assert_non_null(
		X509_time_adj_ex(X509_getm_notAfter(x), (int)days, 0, &t0));
	X509_set_pubkey(x, k);
	n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC,
				   (const unsigned char *)"Unit Ministry", -1,
				   -1, 0);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
				   (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : n);
	add_ext(x, issuer ? issuer : x, NID_subject_key_identifier, "hash");
	if (ca) {
		add_ext(x, issuer ? issuer : x, NID_basic_constraints,
			"critical,CA:TRUE");
		add_ext(x, issuer ? issuer : x, NID_key_usage,
			"critical,keyCertSign,cRLSign");
	} else {
		add_ext(x, issuer, NID_basic_constraints, "critical,CA:FALSE");
		add_ext(x, issuer, NID_key_usage,
			"critical,digitalSignature,nonRepudiation");
	}
	assert_true(X509_sign(x, ikey ? ikey : k, EVP_sha256()) > 0);
	return x;
}

static void write_pem(const char *path, EVP_PKEY *k, X509 *x, int times)
{
	FILE *f = fopen(path, "w");
	int i;

	assert_non_null(f);
	if (k)
		PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
	for (i = 0; x && i < times; i++)
		PEM_write_X509(f, x);
	fclose(f);
}

/* A leaf under inter: key and certificate files. */
static void mkleaf(struct fixture *fx, X509 *inter, EVP_PKEY *ikey,
		   const char *cn, long serial, long days, char *keypath,
		   char *certpath, const char *name)
{
	EVP_PKEY *k = genkey();
	X509 *x = mkcert(k, cn, serial, 0, inter, ikey, fx->t0, days);

	snprintf(keypath, 128, "%s/%s.key", fx->dir, name);
	snprintf(certpath, 128, "%s/%s.pem", fx->dir, name);
	write_pem(keypath, k, NULL, 0);
	write_pem(certpath, NULL, x, 1);
	X509_free(x);
	EVP_PKEY_free(k);
}

/* The intermediate's CRL revoking SERIAL_R, valid 7 days from t0. */
static void mkcrl(struct fixture *fx, X509 *inter, EVP_PKEY *ikey)
{
	X509_CRL *crl = X509_CRL_new();
	X509_REVOKED *r = X509_REVOKED_new();
	ASN1_TIME *last = ASN1_TIME_adj(NULL, fx->t0, 0, -3600);
	ASN1_TIME *next = ASN1_TIME_adj(NULL, fx->t0, 7, 0);
	ASN1_INTEGER *serial = ASN1_INTEGER_new();
	FILE *f;

	assert_non_null(crl);
	assert_non_null(r);
	assert_non_null(last);
	assert_non_null(next);
	assert_non_null(serial);
	fx->crl_next = fx->t0 + 7 * DAY;
	X509_CRL_set_version(crl, 1);
	X509_CRL_set_issuer_name(crl, X509_get_subject_name(inter));
	X509_CRL_set1_lastUpdate(crl, last);
	X509_CRL_set1_nextUpdate(crl, next);
	ASN1_INTEGER_set(serial, SERIAL_R);
	X509_REVOKED_set_serialNumber(r, serial);
	X509_REVOKED_set_revocationDate(r, last);
	X509_CRL_add0_revoked(crl, r);
	X509_CRL_sort(crl);
	assert_true(X509_CRL_sign(crl, ikey, EVP_sha256()) > 0);
	assert_non_null(f = fopen(fx->crl_src, "w"));
	PEM_write_X509_CRL(f, crl);
	fclose(f);
	ASN1_INTEGER_free(serial);
	ASN1_TIME_free(last);
	ASN1_TIME_free(next);
	X509_CRL_free(crl);
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	EVP_PKEY *rk, *ik, *sk;
	X509 *root, *inter, *stranger;
	char path[160];

	if (!fx)
		return -1;
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/test_trust.XXXXXX");
	if (!mkdtemp(fx->dir)) {
		free(fx);
		return -1;
	}
	fx->t0 = time(NULL);
	snprintf(fx->trust, sizeof(fx->trust), "%s/trust", fx->dir);
	snprintf(fx->crl_src, sizeof(fx->crl_src), "%s/inter.crl", fx->dir);
	snprintf(fx->chain, sizeof(fx->chain), "%s/chain.pem", fx->dir);
	snprintf(fx->chain17, sizeof(fx->chain17), "%s/chain17.pem", fx->dir);
	mkdir(fx->trust, 0700);

	rk = genkey();
	ik = genkey();
	root = mkcert(rk, "Unit Root CA", 1, 1, NULL, NULL, fx->t0, 3650);
	inter = mkcert(ik, "Unit Issuing CA", 2, 1, root, rk, fx->t0, 1825);
	snprintf(path, sizeof(path), "%s/root.pem", fx->trust);
	write_pem(path, NULL, root, 1);
	write_pem(fx->chain, NULL, inter, 1);
	write_pem(fx->chain17, NULL, inter, 16);
	mkleaf(fx, inter, ik, "Unit Leaf A", 5, LEAF_A_DAYS, fx->a_key,
	       fx->a_cert, "a");
	fx->a_notafter = fx->t0 + LEAF_A_DAYS * DAY;
	mkleaf(fx, inter, ik, "Unit Leaf B", 6, 365, fx->b_key, fx->b_cert,
	       "b");
	mkleaf(fx, inter, ik, "Unit Leaf R", SERIAL_R, 365, fx->r_key,
	       fx->r_cert, "r");
	mkcrl(fx, inter, ik);

	/* An untrusted signer: self-signed, not in the store. */
	sk = genkey();
	stranger = mkcert(sk, "Unit Stranger", 9, 0, NULL, NULL, fx->t0, 365);
	snprintf(fx->s_key, sizeof(fx->s_key), "%s/s.key", fx->dir);
	snprintf(fx->s_cert, sizeof(fx->s_cert), "%s/s.pem", fx->dir);
	write_pem(fx->s_key, sk, NULL, 0);
	write_pem(fx->s_cert, NULL, stranger, 1);

	X509_free(root);
	X509_free(inter);
	X509_free(stranger);
	EVP_PKEY_free(rk);
	EVP_PKEY_free(ik);
	EVP_PKEY_free(sk);
	*state = fx;
	return 0;
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

/* The CRL is not in the store unless a test puts it there. */
static int crl_out(void **state)
{
	struct fixture *fx = *state;
	char path[160];

	snprintf(path, sizeof(path), "%s/inter.crl", fx->trust);
	unlink(path);
	return 0;
}

static void crl_in(struct fixture *fx)
{
	char path[160];

	snprintf(path, sizeof(path), "%s/inter.crl", fx->trust);
	assert_int_equal(link(fx->crl_src, path), 0);
}

/* ---- signing and verifying ----------------------------------------------- */

static struct gw_sign_key *load(const char *key, const char *cert,
				const char *chain)
{
	struct gw_sign_key *k = NULL;
	struct gw_err err;

	gw_err_clear(&err);
	assert_int_equal(gw_sign_key_load(key, NULL, cert, chain, &k, &err),
			 GW_OK);
	return k;
}

static char *sign_xml(const char *key, const char *cert, const char *chain)
{
	struct gw_sign_key *k = load(key, cert, chain);
	struct gw_err err;
	xmlDocPtr d = xmlReadMemory(MSG_XML, (int)strlen(MSG_XML), "t.xml",
				    NULL, XML_PARSE_NONET);
	xmlChar *mem = NULL;
	char *out;
	int n = 0;

	assert_non_null(d);
	gw_err_clear(&err);
	assert_int_equal(gw_sign_xml(k, GW_SIGN_ALG_ES256, d, &err), GW_OK);
	xmlDocDumpMemory(d, &mem, &n);
	out = strdup((const char *)mem);
	xmlFree(mem);
	xmlFreeDoc(d);
	gw_sign_key_free(k);
	return out;
}

static char *sign_jws(const char *key, const char *cert, const char *chain)
{
	struct gw_sign_key *k = load(key, cert, chain);
	struct gw_buf out;
	struct gw_err err;

	gw_buf_init(&out);
	gw_err_clear(&err);
	assert_int_equal(gw_sign_json(k, GW_SIGN_ALG_ES256, MSG_JSON,
				      strlen(MSG_JSON), 0, &out, &err),
			 GW_OK);
	gw_sign_key_free(k);
	return out.data;
}

static enum gw_sign_reason vxml(const struct gw_sign_verifier *v,
				const char *text, char *subject)
{
	struct gw_sign_result res;
	struct gw_err err;
	xmlDocPtr d = xmlReadMemory(text, (int)strlen(text), "t.xml", NULL,
				    XML_PARSE_NONET);
	gw_rc rc;

	if (!d)
		return GW_SIGN_MALFORMED;
	gw_err_clear(&err);
	rc = gw_sign_verify_xml(v, d, 0, &res, &err);
	xmlFreeDoc(d);
	if (rc != GW_OK && rc != GW_ERR_REFUSED)
		return (enum gw_sign_reason) - 1;
	if ((rc == GW_OK) != (res.reason == GW_SIGN_VALID))
		return (enum gw_sign_reason) - 1;
	if (subject)
		snprintf(subject, 256, "%s", res.subject);
	return res.reason;
}

static enum gw_sign_reason vjws(const struct gw_sign_verifier *v,
				const char *text, char *subject)
{
	struct gw_sign_result res;
	struct gw_err err;
	gw_rc rc;

	memset(&res, 0, sizeof(res));
	gw_err_clear(&err);
	rc = gw_sign_verify_jws(v, text, strlen(text), NULL, 0, 0, &res, NULL,
				&err);
	if (rc != GW_OK && rc != GW_ERR_REFUSED)
		return (enum gw_sign_reason) - 1;
	if ((rc == GW_OK) != (res.reason == GW_SIGN_VALID))
		return (enum gw_sign_reason) - 1;
	if (subject)
		snprintf(subject, 256, "%s", res.subject);
	return res.reason;
}

static struct gw_sign_verifier *verifier(const struct fixture *fx)
{
	struct gw_sign_verifier *v = NULL;
	struct gw_err err;

	gw_err_clear(&err);
	assert_int_equal(gw_sign_verifier_trust(fx->trust, &v, &err), GW_OK);
	return v;
}

static struct gw_sign_cache_stats stats(const struct gw_sign_verifier *v)
{
	struct gw_sign_cache_stats st;

	gw_sign_verifier_cache_stats(v, &st);
	return st;
}

/* Change one base64 letter near the middle of the text of the first
 * element whose name ends in name. */
static void flip_in(char *s, const char *name)
{
	char *p = strstr(s, name), *q;

	assert_non_null(p);
	p = strchr(p, '>') + 1;
	q = strchr(p, '<');
	assert_non_null(q);
	for (p += (q - p) / 2; p < q && !isalnum((unsigned char)*p); p++)
		;
	assert_true(p < q);
	*p = *p == 'A' ? 'B' : 'A';
}

/* ---- cases ---------------------------------------------------------------- */

static void test_trust__hit(void **state)
{
	struct fixture *fx = *state;
	struct gw_sign_verifier *v = verifier(fx);
	char *x = sign_xml(fx->a_key, fx->a_cert, fx->chain);
	char *j = sign_jws(fx->a_key, fx->a_cert, fx->chain);
	char s1[256], s2[256];
	struct gw_sign_cache_stats st;

	assert_int_equal(vxml(v, x, s1), GW_SIGN_VALID);
	st = stats(v);
	assert_int_equal(st.hits, 0);
	assert_int_equal(st.misses, 1);
	assert_int_equal(st.inserts, 1);
	assert_int_equal(vxml(v, x, s2), GW_SIGN_VALID);
	assert_int_equal(stats(v).hits, 1);
	assert_string_equal(s1, "CN=Unit Leaf A,O=Unit Ministry");
	assert_string_equal(s1, s2);

	/* JWS: x5c in its order is another key; then a hit too. */
	assert_int_equal(vjws(v, j, s1), GW_SIGN_VALID);
	assert_int_equal(vjws(v, j, s2), GW_SIGN_VALID);
	st = stats(v);
	assert_int_equal(st.hits, 2);
	assert_int_equal(st.misses, 2);
	assert_int_equal(st.entries, 2);
	assert_string_equal(s1, s2);
	assert_string_equal(s2, "CN=Unit Leaf A,O=Unit Ministry");

	/* Caching off: every verification checks the chain. */
	assert_int_equal(gw_sign_verifier_cache_config(v, 0, 300, NULL), GW_OK);
	assert_int_equal(vxml(v, x, NULL), GW_SIGN_VALID);
	assert_int_equal(vxml(v, x, NULL), GW_SIGN_VALID);
	st = stats(v);
	assert_int_equal(st.hits, 2);
	assert_int_equal(st.misses, 4);
	assert_int_equal(st.entries, 0);
	free(x);
	free(j);
	gw_sign_verifier_free(v);
}

static void test_trust__hit_checks_signature(void **state)
{
	struct fixture *fx = *state;
	struct gw_sign_verifier *v = verifier(fx);
	char *x = sign_xml(fx->a_key, fx->a_cert, fx->chain);
	char *j = sign_jws(fx->a_key, fx->a_cert, fx->chain);
	char *bad;
	size_t n;

	assert_int_equal(vxml(v, x, NULL), GW_SIGN_VALID);
	assert_int_equal(vjws(v, j, NULL), GW_SIGN_VALID);

	/* The same certificates with another signature value: the chain
	 * comes from the cache, the signature does not verify. */
	bad = strdup(x);
	flip_in(bad, "SignatureValue");
	assert_int_equal(vxml(v, bad, NULL), GW_SIGN_BAD_SIGNATURE);
	free(bad);
	bad = strdup(x);
	flip_in(bad, "DigestValue");
	assert_int_equal(vxml(v, bad, NULL), GW_SIGN_BAD_DIGEST);
	free(bad);
	bad = strdup(x);
	memcpy(strstr(bad, "3.63"), "3.64", 4);
	assert_int_equal(vxml(v, bad, NULL), GW_SIGN_BAD_DIGEST);
	free(bad);
	assert_int_equal(stats(v).hits, 3);

	bad = strdup(j);
	n = strlen(bad);
	bad[n - 5] = bad[n - 5] == 'A' ? 'B' : 'A';
	assert_int_equal(vjws(v, bad, NULL), GW_SIGN_BAD_SIGNATURE);
	free(bad);
	/* Another signer's signature under A's x5c: the cached key of A
	 * refuses it. */
	{
		char *other = sign_jws(fx->b_key, fx->b_cert, fx->chain);
		char *d1 = strrchr(other, '.'), *d2 = strrchr(j, '.');

		bad = malloc((size_t)(d2 - j) + strlen(d1) + 1);
		assert_non_null(bad);
		memcpy(bad, j, (size_t)(d2 - j));
		strcpy(bad + (d2 - j), d1);
		assert_int_equal(vjws(v, bad, NULL), GW_SIGN_BAD_SIGNATURE);
		free(bad);
		free(other);
	}
	assert_int_equal(stats(v).hits, 5);
	assert_int_equal(stats(v).inserts, 2);
	free(x);
	free(j);
	gw_sign_verifier_free(v);
}

static void test_trust__expiry(void **state)
{
	struct fixture *fx = *state;
	struct gw_sign_verifier *v = verifier(fx);
	char *x = sign_xml(fx->a_key, fx->a_cert, fx->chain);
	char *j = sign_jws(fx->a_key, fx->a_cert, fx->chain);
	struct gw_sign_cache_stats st;

	/* A TTL longer than leaf A's life: its notAfter bounds the entry. */
	assert_int_equal(gw_sign_verifier_cache_config(v, 16, 30 * 86400, NULL),
			 GW_OK);
	gw_sign_verifier_set_time(v, fx->t0);
	assert_int_equal(vxml(v, x, NULL), GW_SIGN_VALID);
	assert_int_equal(vjws(v, j, NULL), GW_SIGN_VALID);
	gw_sign_verifier_set_time(v, fx->a_notafter - 60);
	assert_int_equal(vxml(v, x, NULL), GW_SIGN_VALID);
	assert_int_equal(vjws(v, j, NULL), GW_SIGN_VALID);
	st = stats(v);
	assert_int_equal(st.hits, 2);
	assert_int_equal(st.misses, 2);

	/* Past notAfter: checked again, refused, not cached. */
	gw_sign_verifier_set_time(v, fx->a_notafter + 60);
	assert_int_equal(vxml(v, x, NULL), GW_SIGN_EXPIRED);
	assert_int_equal(vjws(v, j, NULL), GW_SIGN_EXPIRED);
	assert_int_equal(vxml(v, x, NULL), GW_SIGN_EXPIRED);
	st = stats(v);
	assert_int_equal(st.hits, 2);
	assert_int_equal(st.misses, 5);
	assert_int_equal(st.inserts, 2);
	assert_int_equal(st.entries, 0);

	/* Before notBefore (a clock set back): not from the cache either. */
	gw_sign_verifier_set_time(v, fx->t0);
	assert_int_equal(vxml(v, x, NULL), GW_SIGN_VALID);
	gw_sign_verifier_set_time(v, fx->t0 - 7200);
	assert_int_equal(vxml(v, x, NULL), GW_SIGN_EXPIRED);

	/* The TTL: past it the chain is checked again (and still passes). */
	assert_int_equal(gw_sign_verifier_cache_config(v, 16, 300, NULL),
			 GW_OK);
	gw_sign_verifier_set_time(v, fx->t0);
	assert_int_equal(vxml(v, x, NULL), GW_SIGN_VALID);
	gw_sign_verifier_set_time(v, fx->t0 + 299);
	assert_int_equal(vxml(v, x, NULL), GW_SIGN_VALID);
	st = stats(v);
	gw_sign_verifier_set_time(v, fx->t0 + 301);
	assert_int_equal(vxml(v, x, NULL), GW_SIGN_VALID);
	assert_int_equal(stats(v).hits, st.hits);
	assert_int_equal(stats(v).misses, st.misses + 1);
	assert_int_equal(stats(v).inserts, st.inserts + 1);
	free(x);
	free(j);
	gw_sign_verifier_free(v);
}

static void test_trust__revoked_after_reload(void **state)
{
	struct fixture *fx = *state;
	struct gw_sign_verifier *v = verifier(fx);
	char *x = sign_xml(fx->r_key, fx->r_cert, fx->chain);
	char *j = sign_jws(fx->r_key, fx->r_cert, fx->chain);
	char *xa = sign_xml(fx->a_key, fx->a_cert, fx->chain);
	struct gw_sign_cache_stats st;
	struct gw_err err;

	/* Before the CRL: R passes and is cached. */
	assert_int_equal(vxml(v, x, NULL), GW_SIGN_VALID);
	assert_int_equal(vjws(v, j, NULL), GW_SIGN_VALID);
	assert_int_equal(vxml(v, xa, NULL), GW_SIGN_VALID);
	assert_int_equal(vxml(v, x, NULL), GW_SIGN_VALID);
	assert_int_equal(stats(v).hits, 1);

	/* The CRL arrives; the reload empties the cache. */
	crl_in(fx);
	gw_err_clear(&err);
	assert_int_equal(gw_sign_verifier_reload(v, &err), GW_OK);
	st = stats(v);
	assert_int_equal(st.entries, 0);
	assert_int_equal(st.flushes, 1);
	assert_int_equal(vxml(v, x, NULL), GW_SIGN_REVOKED);
	assert_int_equal(vjws(v, j, NULL), GW_SIGN_REVOKED);
	assert_int_equal(vxml(v, x, NULL), GW_SIGN_REVOKED);
	assert_int_equal(vjws(v, j, NULL), GW_SIGN_REVOKED);
	assert_int_equal(stats(v).hits, st.hits);
	/* Others still pass, and are cached again. */
	assert_int_equal(vxml(v, xa, NULL), GW_SIGN_VALID);
	assert_int_equal(vxml(v, xa, NULL), GW_SIGN_VALID);
	assert_int_equal(stats(v).hits, st.hits + 1);

	/* A flush alone also drops them. */
	gw_sign_verifier_flush_cache(v);
	assert_int_equal(stats(v).entries, 0);
	assert_int_equal(vxml(v, x, NULL), GW_SIGN_REVOKED);

	/* A reload that fails (folder gone) keeps the store, still empties
	 * the cache, and says why. */
	{
		char moved[160];

		snprintf(moved, sizeof(moved), "%s.moved", fx->trust);
		assert_int_equal(rename(fx->trust, moved), 0);
		gw_err_clear(&err);
		assert_int_equal(gw_sign_verifier_reload(v, &err), GW_ERR_IO);
		assert_non_null(strstr(err.msg, "trust store"));
		assert_int_equal(rename(moved, fx->trust), 0);
	}
	assert_int_equal(stats(v).entries, 0);
	assert_int_equal(vxml(v, x, NULL), GW_SIGN_REVOKED);
	assert_int_equal(vxml(v, xa, NULL), GW_SIGN_VALID);
	free(x);
	free(j);
	free(xa);
	gw_sign_verifier_free(v);
}

static void test_trust__crl_next_update(void **state)
{
	struct fixture *fx = *state;
	struct gw_sign_verifier *v;
	char *x = sign_xml(fx->b_key, fx->b_cert, fx->chain);
	struct gw_sign_cache_stats st;

	crl_in(fx);
	v = verifier(fx);
	assert_int_equal(gw_sign_verifier_cache_config(v, 16, 30 * 86400, NULL),
			 GW_OK);
	gw_sign_verifier_set_time(v, fx->t0);
	assert_int_equal(vxml(v, x, NULL), GW_SIGN_VALID);
	gw_sign_verifier_set_time(v, fx->crl_next - 60);
	assert_int_equal(vxml(v, x, NULL), GW_SIGN_VALID);
	st = stats(v);
	assert_int_equal(st.hits, 1);
	/* The CRL is out of date: the entry ends with it and the chain is
	 * refused (a CRL past nextUpdate proves nothing). */
	gw_sign_verifier_set_time(v, fx->crl_next + 60);
	assert_int_equal(vxml(v, x, NULL), GW_SIGN_UNTRUSTED);
	assert_int_equal(stats(v).hits, 1);
	assert_int_equal(stats(v).inserts, 1);
	free(x);
	gw_sign_verifier_free(v);
}

static void test_trust__refusals_not_cached(void **state)
{
	struct fixture *fx = *state;
	struct gw_sign_verifier *v = verifier(fx);
	char *x = sign_xml(fx->s_key, fx->s_cert, NULL);
	char *j = sign_jws(fx->s_key, fx->s_cert, NULL);
	char *nochain = sign_xml(fx->a_key, fx->a_cert, NULL);
	char *x17 = sign_xml(fx->a_key, fx->a_cert, fx->chain17);
	char *j17 = sign_jws(fx->a_key, fx->a_cert, fx->chain17);
	struct gw_sign_cache_stats st;
	int i;

	for (i = 0; i < 2; i++) {
		assert_int_equal(vxml(v, x, NULL), GW_SIGN_UNTRUSTED);
		assert_int_equal(vjws(v, j, NULL), GW_SIGN_UNTRUSTED);
		/* no intermediate sent, none configured */
		assert_int_equal(vxml(v, nochain, NULL), GW_SIGN_UNTRUSTED);
	}
	st = stats(v);
	assert_int_equal(st.hits, 0);
	assert_int_equal(st.misses, 6);
	assert_int_equal(st.inserts, 0);
	/* More certificates than a message may present: refused unread. */
	assert_int_equal(vxml(v, x17, NULL), GW_SIGN_MALFORMED);
	assert_int_equal(vjws(v, j17, NULL), GW_SIGN_MALFORMED);
	assert_int_equal(stats(v).misses, 6);
	free(x);
	free(j);
	free(nochain);
	free(x17);
	free(j17);
	gw_sign_verifier_free(v);
}

static void test_trust__lru(void **state)
{
	struct fixture *fx = *state;
	struct gw_sign_verifier *v = verifier(fx);
	char *xa = sign_xml(fx->a_key, fx->a_cert, fx->chain);
	char *xb = sign_xml(fx->b_key, fx->b_cert, fx->chain);
	char *xr = sign_xml(fx->r_key, fx->r_cert, fx->chain);
	struct gw_sign_cache_stats st;

	assert_int_equal(gw_sign_verifier_cache_config(v, 2, 300, NULL), GW_OK);
	assert_int_equal(vxml(v, xa, NULL), GW_SIGN_VALID);
	assert_int_equal(vxml(v, xb, NULL), GW_SIGN_VALID);
	assert_int_equal(vxml(v, xa, NULL), GW_SIGN_VALID); /* A recent */
	assert_int_equal(vxml(v, xr, NULL), GW_SIGN_VALID); /* B evicted */
	st = stats(v);
	assert_int_equal(st.evictions, 1);
	assert_int_equal(st.entries, 2);
	assert_int_equal(st.hits, 1);
	assert_int_equal(vxml(v, xa, NULL), GW_SIGN_VALID);
	assert_int_equal(vxml(v, xr, NULL), GW_SIGN_VALID);
	assert_int_equal(stats(v).hits, 3);
	assert_int_equal(vxml(v, xb, NULL), GW_SIGN_VALID);
	st = stats(v);
	assert_int_equal(st.hits, 3);
	assert_int_equal(st.misses, 4);
	assert_int_equal(st.evictions, 2);
	free(xa);
	free(xb);
	free(xr);
	gw_sign_verifier_free(v);
}

/* ---- threads ---------------------------------------------------------------- */

#define NTHREADS 4
#define ROUNDS 60

struct worker {
	const struct gw_sign_verifier *v;
	const char *good_xml, *good_jws, *bad_xml, *bad_jws, *revoked_xml;
	int revoked_may_pass; /* 1 until the CRL is certainly loaded */
	int failures;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	enum gw_sign_reason r;
	int i;

	for (i = 0; i < ROUNDS; i++) {
		if (vxml(w->v, w->good_xml, NULL) != GW_SIGN_VALID)
			w->failures++;
		if (vjws(w->v, w->good_jws, NULL) != GW_SIGN_VALID)
			w->failures++;
		if (vxml(w->v, w->bad_xml, NULL) != GW_SIGN_BAD_SIGNATURE)
			w->failures++;
		if (vjws(w->v, w->bad_jws, NULL) != GW_SIGN_BAD_SIGNATURE)
			w->failures++;
		r = vxml(w->v, w->revoked_xml, NULL);
		if (r != GW_SIGN_REVOKED &&
		    !(w->revoked_may_pass && r == GW_SIGN_VALID))
			w->failures++;
	}
	return NULL;
}

static void run_workers(struct worker *w, int n, struct gw_sign_verifier *v,
			int reload)
{
	pthread_t th[NTHREADS];
	struct gw_err err;
	int i;

	for (i = 0; i < n; i++)
		assert_int_equal(pthread_create(&th[i], NULL, work, &w[i]), 0);
	/* Meanwhile: flushes and reloads of the store they use. */
	for (i = 0; i < 6; i++) {
		gw_err_clear(&err);
		if (reload)
			assert_int_equal(gw_sign_verifier_reload(v, &err),
					 GW_OK);
		else
			gw_sign_verifier_flush_cache(v);
		usleep(2000);
	}
	for (i = 0; i < n; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(w[i].failures, 0);
	}
}

static void test_trust__threads(void **state)
{
	struct fixture *fx = *state;
	struct gw_sign_verifier *v;
	char *gx = sign_xml(fx->a_key, fx->a_cert, fx->chain);
	char *gj = sign_jws(fx->b_key, fx->b_cert, fx->chain);
	char *rx = sign_xml(fx->r_key, fx->r_cert, fx->chain);
	char *bx = strdup(gx), *bj = strdup(gj);
	struct worker w[NTHREADS];
	struct gw_sign_cache_stats st;
	size_t n = strlen(bj);
	int i;

	flip_in(bx, "SignatureValue");
	bj[n - 5] = bj[n - 5] == 'A' ? 'B' : 'A';
	crl_in(fx);
	v = verifier(fx);
	/* A small cache, so that evictions race with lookups too. */
	assert_int_equal(gw_sign_verifier_cache_config(v, 2, 300, NULL), GW_OK);
	for (i = 0; i < NTHREADS; i++)
		w[i] = (struct worker){ v, gx, gj, bx, bj, rx, 0, 0 };
	run_workers(w, NTHREADS, v, 1);
	run_workers(w, NTHREADS, v, 0);
	st = stats(v);
	assert_true(st.hits > 0);
	assert_true(st.hits + st.misses == 2UL * NTHREADS * 5 * ROUNDS);
	free(gx);
	free(gj);
	free(rx);
	free(bx);
	free(bj);
	gw_sign_verifier_free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_trust__hit, crl_out),
		cmocka_unit_test_teardown(test_trust__hit_checks_signature,
					  crl_out),
		cmocka_unit_test_teardown(test_trust__expiry, crl_out),
		cmocka_unit_test_teardown(test_trust__revoked_after_reload,
					  crl_out),
		cmocka_unit_test_teardown(test_trust__crl_next_update, crl_out),
		cmocka_unit_test_teardown(test_trust__refusals_not_cached,
					  crl_out),
		cmocka_unit_test_teardown(test_trust__lru, crl_out),
		cmocka_unit_test_teardown(test_trust__threads, crl_out),
	};
	struct gw_err err;

	if (gw_sign_init(&err) != GW_OK) {
		fprintf(stderr, "%s\n", err.msg);
		return 1;
	}
	return cmocka_run_group_tests(tests, setup, teardown);
}
