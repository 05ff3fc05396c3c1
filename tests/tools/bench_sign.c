/*
 * bench_sign.c - signatures and verifications per second of one message
 * with the gateway's signing code (gateway/sign.c, xmldsig.c, jws.c), per
 * algorithm, for make bench (bench/bench_sign.sh).
 *
 * What one operation is:
 *   xml sign     enveloped XML-DSig of a parsed document: exclusive C14N,
 *                SHA-256 digest, SignedInfo signed, Signature with the
 *                chain in KeyInfo added to the tree (then removed again,
 *                outside gw_sign_xml, for the next round);
 *   xml parse-sign-serialize  the same from the bytes to the signed bytes;
 *   xml verify   parse the signed bytes, verify (digest, signature, and
 *                with --trust also chain, validity, key usage and CRL);
 *   jws sign     RFC 8785 canonical form of the JSON, flattened JWS with
 *                x5c in the protected header;
 *   jws verify   parse the JWS, verify (as above for --trust).
 * Verification is timed three times: with the signer's certificate pinned
 * (key only, like the Node baselines), against the trust store (the same
 * message again and again, so after the first one the verified chain
 * comes from the verifier's cache: what a server sees from a partner that
 * keeps its certificate), and against the trust store with the cache off
 * (the chain decoded, built and checked, CRLs included, every time). For RSA and
 * EC keys, "sign" alternates with "raw-sign" (the bare private-key
 * operation on a digest, what `openssl speed` times) in slices of a tenth
 * of the run, so that their ratio holds on a machine shared with others.
 *
 * usage: bench_sign PKI_DIR XML JSON RUNS SECONDS [OUTDIR]
 * PKI_DIR is made by certs/mkpki.sh. Prints one JSON object: {"ops":
 * [{"format", "alg", "op", "per_s": [per-run...]}]}. With OUTDIR, writes
 * the signed messages there (NAME.xml / NAME.jws) for the other tools.
 * BENCH_SIGN_ONLY=xml|jws|ALG|xml-ALG and BENCH_SIGN_OP=sign|verify-pinned|
 * verify-trust|verify-trust-uncached limit the run (for profiling).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libxml/tree.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "base/common.h"
#include "crypto/sign.h"
#include "base/xml.h"

struct job {
	const char *format; /* "xml" or "jws" */
	const char *alg;
	const char *key; /* leaf name in PKI_DIR */
};

static const struct job jobs[] = {
	{ "xml", "RS256", "ministry-rsa" },
	{ "xml", "PS256", "ministry-rsa" },
	{ "xml", "ES256", "ministry-ec" },
	{ "jws", "RS256", "ministry-rsa" },
	{ "jws", "PS256", "ministry-rsa" },
	{ "jws", "ES256", "ministry-ec" },
	{ "jws", "EdDSA", "ministry-ed25519" },
};

struct ctx {
	const struct job *j;
	struct gw_sign_key *k;
	struct gw_sign_verifier *pinned, *trust, *cold; /* cold: no cache */
	const char *in;					/* message to sign */
	size_t in_len;
	char *signed_; /* one signed copy, to verify */
	size_t signed_len;
	EVP_PKEY_CTX *raw; /* the bare private-key operation, or NULL */
};

/* The operation `openssl speed rsa2048|ecdsap256` times, on the same key:
 * EVP_PKEY_sign of a 32-byte digest with a context set up once. (The
 * benchmark uses OpenSSL directly here, as a baseline; the gateway keeps
 * it behind sign.h.) NULL for Ed25519, which has no such operation. */
static EVP_PKEY_CTX *raw_ctx(const char *path)
{
	FILE *f = fopen(path, "r");
	EVP_PKEY *k = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
	EVP_PKEY_CTX *ctx = NULL;

	if (f)
		fclose(f);
	if (k && (EVP_PKEY_get_base_id(k) == EVP_PKEY_EC ||
		  EVP_PKEY_get_base_id(k) == EVP_PKEY_RSA)) {
		ctx = EVP_PKEY_CTX_new(k, NULL);
		if (ctx && EVP_PKEY_sign_init(ctx) != 1) {
			EVP_PKEY_CTX_free(ctx);
			ctx = NULL;
		}
	}
	EVP_PKEY_free(k);
	return ctx;
}

static gw_rc raw_sign_once(struct ctx *c, struct gw_err *err)
{
	static const unsigned char dgst[32] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	unsigned char sig[512];
	size_t len = sizeof(sig);

	if (EVP_PKEY_sign(c->raw, sig, &len, dgst, sizeof(dgst)) != 1)
		return gw_err_set(err, GW_ERR_INTERNAL, "raw sign failed");
	return GW_OK;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One signature; the signed bytes go to out (reset first). */
static gw_rc sign_once(struct ctx *c, struct gw_buf *out, struct gw_err *err)
{
	enum gw_sign_alg alg = (enum gw_sign_alg)gw_sign_alg_parse(c->j->alg);
	gw_rc rc;

	out->len = 0;
	if (strcmp(c->j->format, "xml") == 0) {
		xmlDocPtr doc = NULL;
		xmlChar *mem = NULL;
		int size = 0;

		if ((rc = gw_xml_parse(c->in, c->in_len, "bench", &doc, err)) ||
		    (rc = gw_sign_xml(c->k, alg, doc, err))) {
			xmlFreeDoc(doc);
			return rc;
		}
		xmlDocDumpMemoryEnc(doc, &mem, &size, "UTF-8");
		xmlFreeDoc(doc);
		if (!mem)
			return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
		rc = gw_buf_add(out, mem, (size_t)size);
		xmlFree(mem);
		return rc;
	}
	return gw_sign_json(c->k, alg, c->in, c->in_len, GW_SIGN_FLATTENED, out,
			    err);
}

static gw_rc verify_once(struct ctx *c, const struct gw_sign_verifier *v,
			 struct gw_err *err)
{
	struct gw_sign_result res;
	gw_rc rc;

	memset(&res, 0, sizeof(res));
	if (strcmp(c->j->format, "xml") == 0) {
		xmlDocPtr doc = NULL;

		if ((rc = gw_xml_parse(c->signed_, c->signed_len, "bench", &doc,
				       err)))
			return rc;
		rc = gw_sign_verify_xml(v, doc, 0, &res, err);
		xmlFreeDoc(doc);
		return rc;
	}
	return gw_sign_verify_jws(v, c->signed_, c->signed_len, NULL, 0, 0,
				  &res, NULL, err);
}

/* One XML-DSig signature of an already parsed document, which is then
 * given back its unsigned form (the Signature, the last element child of
 * the document element, unlinked and freed) for the next round. */
static gw_rc sign_parsed_once(struct ctx *c, xmlDocPtr doc, struct gw_err *err)
{
	enum gw_sign_alg alg = (enum gw_sign_alg)gw_sign_alg_parse(c->j->alg);
	xmlNodePtr sig;
	gw_rc rc;

	if ((rc = gw_sign_xml(c->k, alg, doc, err)))
		return rc;
	sig = xmlGetLastChild(xmlDocGetRootElement(doc));
	if (!sig || sig->type != XML_ELEMENT_NODE ||
	    strcmp((const char *)sig->name, "Signature") != 0)
		return gw_err_set(err, GW_ERR_INTERNAL,
				  "no Signature after signing");
	xmlUnlinkNode(sig);
	xmlFreeNode(sig);
	return GW_OK;
}

/* Operations per second over at least secs seconds; -1 on a failure. */
static double rate(struct ctx *c, int op, double secs, struct gw_err *err)
{
	struct gw_buf out;
	double t0 = now_s(), t;
	long n = 0, batch = 4, i;
	gw_rc rc = GW_OK;

	xmlDocPtr doc = NULL;

	gw_buf_init(&out);
	if (op == 0 && strcmp(c->j->format, "xml") == 0 &&
	    gw_xml_parse(c->in, c->in_len, "bench", &doc, err))
		return -1;
	do {
		for (i = 0; i < batch && !rc; i++)
			rc = op == 4	      ? raw_sign_once(c, err)
			     : op == 0 && doc ? sign_parsed_once(c, doc, err)
			     : op <= 1	      ? sign_once(c, &out, err)
			     : op == 2	      ? verify_once(c, c->pinned, err)
			     : op == 3	      ? verify_once(c, c->trust, err)
					      : verify_once(c, c->cold, err);
		n += batch;
		if (batch < 4096)
			batch *= 2;
		t = now_s() - t0;
	} while (!rc && t < secs);
	gw_buf_release(&out);
	xmlFreeDoc(doc);
	return rc ? -1 : (double)n / t;
}

/* Signing and the bare key operation in alternating slices of secs/10,
 * so that both see the same share of a shared, noisy machine; the raw
 * rate goes to *raw. */
static double paired(struct ctx *c, double secs, double *raw,
		     struct gw_err *err)
{
	double a = 0, b = 0, v;
	int k;

	for (k = 0; k < 10; k++) {
		if ((v = rate(c, 0, secs / 10, err)) < 0)
			return -1;
		a += v / 10;
		if ((v = rate(c, 4, secs / 10, err)) < 0)
			return -1;
		b += v / 10;
	}
	*raw = b;
	return a;
}

int main(int argc, char **argv)
{
	/* rate() op numbers: these indexes, but 4 (raw-sign) for index 4 */
	static const char *const ops[] = { "sign", "parse-sign-serialize",
					   "verify-pinned", "verify-trust",
					   "verify-trust-uncached" };
	char *xml = NULL, *json = NULL, path[4096], cert[4096], chain[4096];
	size_t xml_len = 0, json_len = 0, i;
	struct gw_err err;
	int runs, r, op, rc = 3, first = 1;
	double secs, *raw_rates;
	const char *only, *only_op;

	if (argc < 6) {
		fprintf(stderr, "usage: bench_sign PKI_DIR XML JSON RUNS "
				"SECONDS [OUTDIR]\n");
		return 2;
	}
	only = getenv("BENCH_SIGN_ONLY");  /* xml, jws, ALG or xml-ALG */
	only_op = getenv("BENCH_SIGN_OP"); /* sign, verify-pinned, ... */
	runs = atoi(argv[4]);
	secs = atof(argv[5]);
	if (runs < 1 || secs <= 0 ||
	    !(raw_rates = calloc((size_t)runs, sizeof(double)))) {
		fprintf(stderr, "bench_sign: RUNS and SECONDS must be "
				"positive\n");
		return 2;
	}
	gw_err_clear(&err);
	gw_xml_init();
	if (gw_sign_init(&err) ||
	    gw_read_file(argv[2], 0, &xml, &xml_len, &err) ||
	    gw_read_file(argv[3], 0, &json, &json_len, &err)) {
		fprintf(stderr, "bench_sign: %s\n", err.msg);
		goto out;
	}
	snprintf(chain, sizeof(chain), "%s/chain.pem", argv[1]);
	printf("{\"xml_bytes\": %zu, \"json_bytes\": %zu, \"ops\": [", xml_len,
	       json_len);
	for (i = 0; i < GW_ARRAY_LEN(jobs); i++) {
		struct ctx c = { &jobs[i], NULL, NULL, NULL, NULL,
				 NULL,	   0,	 NULL, 0,    NULL };
		struct gw_buf sig;
		int ok = 0;

		snprintf(path, sizeof(path), "%s-%s", jobs[i].format,
			 jobs[i].alg);
		if (only && strcmp(only, jobs[i].format) != 0 &&
		    strcmp(only, jobs[i].alg) != 0 && strcmp(only, path) != 0)
			continue;
		c.in = strcmp(jobs[i].format, "xml") == 0 ? xml : json;
		c.in_len = c.in == xml ? xml_len : json_len;
		snprintf(path, sizeof(path), "%s/%s.key", argv[1], jobs[i].key);
		snprintf(cert, sizeof(cert), "%s/%s.pem", argv[1], jobs[i].key);
		gw_buf_init(&sig);
		c.raw = raw_ctx(path);
		if (gw_sign_key_load(path, NULL, cert, chain, &c.k, &err) ||
		    gw_sign_verifier_key(cert, &c.pinned, &err))
			goto job_out;
		snprintf(path, sizeof(path), "%s/trust", argv[1]);
		if (gw_sign_verifier_trust(path, &c.trust, &err) ||
		    gw_sign_verifier_trust(path, &c.cold, &err) ||
		    gw_sign_verifier_cache_config(c.cold, 0, 0, &err) ||
		    sign_once(&c, &sig, &err))
			goto job_out;
		c.signed_ = sig.data;
		c.signed_len = sig.len;
		if (argc > 6) {
			snprintf(path, sizeof(path), "%s/%s-%s.%s", argv[6],
				 jobs[i].format, jobs[i].alg,
				 c.in == xml ? "xml" : "jws");
			if (gw_write_file_atomic(path, sig.data, sig.len, &err))
				goto job_out;
		}
		for (op = 0; op < (int)GW_ARRAY_LEN(ops); op++) {
			if ((only_op && strcmp(only_op, ops[op]) != 0) ||
			    (op == 1 && c.in != xml))
				continue;
			printf("%s{\"format\": \"%s\", \"alg\": \"%s\", "
			       "\"op\": \"%s\", \"per_s\": [",
			       first ? "" : ", ", jobs[i].format, jobs[i].alg,
			       ops[op]);
			first = 0;
			for (r = 0; r < runs; r++) {
				double v = 0;

				if (op == 0 && c.raw) {
					v = paired(&c, secs, &raw_rates[r],
						   &err);
				} else {
					v = rate(&c, op == 4 ? 5 : op, secs,
						 &err);
				}
				if (v < 0)
					goto job_out;
				printf("%s%.1f", r ? ", " : "", v);
			}
			printf("]}");
			if (op == 0 && c.raw) {
				printf(", {\"format\": \"%s\", \"alg\": "
				       "\"%s\", \"op\": \"raw-sign\", "
				       "\"per_s\": [",
				       jobs[i].format, jobs[i].alg);
				for (r = 0; r < runs; r++)
					printf("%s%.1f", r ? ", " : "",
					       raw_rates[r]);
				printf("]}");
			}
		}
		ok = 1;
	job_out:
		if (!ok)
			fprintf(stderr, "bench_sign: %s %s: %s\n",
				jobs[i].format, jobs[i].alg, err.msg);
		gw_buf_release(&sig);
		gw_sign_verifier_free(c.trust);
		gw_sign_verifier_free(c.cold);
		gw_sign_verifier_free(c.pinned);
		gw_sign_key_free(c.k);
		EVP_PKEY_CTX_free(c.raw);
		if (!ok)
			goto out;
	}
	printf("]}\n");
	rc = 0;
out:
	free(raw_rates);
	free(xml);
	free(json);
	gw_sign_shutdown();
	return rc;
}
