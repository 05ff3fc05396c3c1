/*
 * xmldsig.c - enveloped XML-DSig: signing by hand on an xmlsec template
 * (RSA PKCS#1 v1.5, RSA-PSS, ECDSA with SHA-256/384/512, and EdDSA; Debian's
 * xmlsec 1.2.37 has neither RSA-PSS nor EdDSA), and strict verification.
 *
 * Verification first checks the shape of the signature so that what is
 * verified is what the caller goes on to process: exactly one Signature in
 * the document, a child of the document element, with one Reference
 * URI="" (the whole document) and exactly the enveloped-signature and
 * exclusive C14N transforms, SHA-2 digests (256, 384 or 512). Anything
 * else is refused as "wrapped" or "unsupported algorithm"; so is a
 * signature method the verifier does not allow (gw_sign_verifier_allow).
 * Only the interop profile (for test vectors of other implementations)
 * lets xmlsec take any shape it knows.
 */
#include "crypto/xmldsig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/c14n.h>
#include <libxml/xmlIO.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <xmlsec/xmlsec.h>

#include <xmlsec/errors.h>
#include <xmlsec/keys.h>
#include <xmlsec/openssl/app.h>
#include <xmlsec/openssl/crypto.h>
#include <xmlsec/openssl/evp.h>
#include <xmlsec/templates.h>
#include <xmlsec/xmldsig.h>
#include <xmlsec/xmltree.h>

#define NS_DSIG "http://www.w3.org/2000/09/xmldsig#"
#define NS_DSIG11 "http://www.w3.org/2009/xmldsig11#"
#define U_EXC_C14N "http://www.w3.org/2001/10/xml-exc-c14n#"
#define U_EXC_C14N_C "http://www.w3.org/2001/10/xml-exc-c14n#WithComments"
#define U_C14N "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
#define U_C14N_C "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments"
#define U_ENVELOPED NS_DSIG "enveloped-signature"
#define U_XPATH "http://www.w3.org/TR/1999/REC-xpath-19991116"
#define U_SHA256 "http://www.w3.org/2001/04/xmlenc#sha256"
#define U_SHA384 "http://www.w3.org/2001/04/xmldsig-more#sha384"
#define U_SHA512 "http://www.w3.org/2001/04/xmlenc#sha512"
/* Signature methods: RFC 6931 (2001/04 and 2007/05), RFC 9231 (2021/04). */
#define NS_MORE "http://www.w3.org/2001/04/xmldsig-more#"
#define NS_MORE07 "http://www.w3.org/2007/05/xmldsig-more#"
#define NS_MORE21 "http://www.w3.org/2021/04/xmldsig-more#"

static const struct {
	enum gw_sign_alg alg;
	int pkey_id; /* the key type the method requires, 0: any of alg's */
	const char *uri;
} methods[] = {
	{ GW_SIGN_ALG_RS256, 0, NS_MORE "rsa-sha256" },
	{ GW_SIGN_ALG_RS384, 0, NS_MORE "rsa-sha384" },
	{ GW_SIGN_ALG_RS512, 0, NS_MORE "rsa-sha512" },
	{ GW_SIGN_ALG_PS256, 0, NS_MORE07 "sha256-rsa-MGF1" },
	{ GW_SIGN_ALG_PS384, 0, NS_MORE07 "sha384-rsa-MGF1" },
	{ GW_SIGN_ALG_PS512, 0, NS_MORE07 "sha512-rsa-MGF1" },
	{ GW_SIGN_ALG_ES256, 0, NS_MORE "ecdsa-sha256" },
	{ GW_SIGN_ALG_ES384, 0, NS_MORE "ecdsa-sha384" },
	{ GW_SIGN_ALG_ES512, 0, NS_MORE "ecdsa-sha512" },
	{ GW_SIGN_ALG_EDDSA, EVP_PKEY_ED25519, NS_MORE21 "eddsa-ed25519" },
	{ GW_SIGN_ALG_EDDSA, EVP_PKEY_ED448, NS_MORE21 "eddsa-ed448" },
};

/* The Reference digest of a signature by alg: the signature's own hash
 * (SHA-256 for EdDSA). */
static const char *digest_for(enum gw_sign_alg alg)
{
	switch (alg) {
	case GW_SIGN_ALG_RS384:
	case GW_SIGN_ALG_PS384:
	case GW_SIGN_ALG_ES384: return U_SHA384;
	case GW_SIGN_ALG_RS512:
	case GW_SIGN_ALG_PS512:
	case GW_SIGN_ALG_ES512: return U_SHA512;
	default: return U_SHA256;
	}
}

/* The digest of a DigestMethod URI, NULL for any but SHA-256/384/512. */
static const EVP_MD *digest_md(const char *uri)
{
	if (strcmp(uri, U_SHA256) == 0)
		return EVP_sha256();
	if (strcmp(uri, U_SHA384) == 0)
		return EVP_sha384();
	if (strcmp(uri, U_SHA512) == 0)
		return EVP_sha512();
	return NULL;
}

static int inited;
static _Thread_local char xmlsec_msg[256];

/* xmlsec reports through a callback; keep the last message for our own
 * error text instead of letting it print to stderr. */
static void xmlsec_errors(const char *file, int line, const char *func,
			  const char *obj, const char *subj, int reason,
			  const char *msg)
{
	snprintf(xmlsec_msg, sizeof(xmlsec_msg), "%s%s%s%s%s", func ? func : "",
		 subj ? ": " : "", subj ? subj : "", msg ? ": " : "",
		 msg ? msg : "");
}

gw_rc gw_xmldsig_init(struct gw_err *err)
{
	if (inited)
		return GW_OK;
	if (xmlSecInit() < 0)
		return gw_err_set(err, GW_ERR_INTERNAL,
				  "cannot initialise xmlsec");
	if (xmlSecCheckVersion() != 1) {
		xmlSecShutdown();
		return gw_err_set(err, GW_ERR_INTERNAL,
				  "xmlsec library version mismatch");
	}
	if (xmlSecOpenSSLAppInit(NULL) < 0 || xmlSecOpenSSLInit() < 0) {
		xmlSecShutdown();
		return gw_err_set(err, GW_ERR_INTERNAL,
				  "cannot initialise xmlsec-openssl");
	}
	xmlSecErrorsSetCallback(xmlsec_errors);
	inited = 1;
	return GW_OK;
}

void gw_xmldsig_shutdown(void)
{
	if (!inited)
		return;
	xmlSecOpenSSLShutdown();
	xmlSecOpenSSLAppShutdown();
	xmlSecShutdown();
	inited = 0;
}

/* ---- canonicalization ---------------------------------------------------- */

struct vis {
	xmlNodePtr include; /* only this subtree (NULL: whole document) */
	xmlNodePtr exclude; /* minus this subtree (the enveloped transform) */
};

static int within(xmlNodePtr n, xmlNodePtr top)
{
	for (; n; n = n->parent)
		if (n == top)
			return 1;
	return 0;
}

static int visible(void *ud, xmlNodePtr node, xmlNodePtr parent)
{
	struct vis *v = ud;
	xmlNodePtr n = node;

	if (!n || n->type == XML_NAMESPACE_DECL)
		n = parent;
	if (!n)
		return v->include == NULL;
	if (v->exclude && within(n, v->exclude))
		return 0;
	if (v->include && !within(n, v->include))
		return 0;
	return 1;
}

static gw_rc c14n(xmlDocPtr doc, struct vis *v, int mode, int comments,
		  struct gw_buf *out, struct gw_err *err)
{
	xmlOutputBufferPtr ob = xmlAllocOutputBuffer(NULL);
	gw_rc rc = GW_OK;

	if (!ob)
		return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
	if (xmlC14NExecute(doc, v ? visible : NULL, v, mode, NULL, comments,
			   ob) < 0) {
		rc = gw_err_set(err, GW_ERR_INTERNAL,
				"cannot canonicalize the document");
		goto out;
	}
	rc = gw_buf_add(out, xmlOutputBufferGetContent(ob),
			xmlOutputBufferGetSize(ob));
out:
	xmlOutputBufferClose(ob);
	return rc;
}

/* ---- small tree helpers -------------------------------------------------- */

static int is_dsig(xmlNodePtr n, const char *name)
{
	return n && n->type == XML_ELEMENT_NODE && n->ns &&
	       strcmp((const char *)n->ns->href, NS_DSIG) == 0 &&
	       (!name || strcmp((const char *)n->name, name) == 0);
}

static xmlNodePtr next_el(xmlNodePtr n)
{
	for (; n; n = n->next)
		if (n->type == XML_ELEMENT_NODE)
			return n;
	return NULL;
}

static xmlNodePtr first_el(xmlNodePtr n)
{
	return n ? next_el(n->children) : NULL;
}

/* The value of an unqualified attribute, borrowed; NULL when absent. */
static const char *attr(xmlNodePtr n, const char *name)
{
	xmlAttrPtr a = xmlHasNsProp(n, (const xmlChar *)name, NULL);

	if (!a)
		return NULL;
	if (!a->children || !a->children->content)
		return "";
	return (const char *)a->children->content;
}

static void count_sigs(xmlNodePtr n, int *count, xmlNodePtr *first)
{
	for (; n; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (is_dsig(n, "Signature")) {
			if (!*first)
				*first = n;
			(*count)++;
		}
		count_sigs(n->children, count, first);
	}
}

static gw_rc set_b64(xmlNodePtr n, const unsigned char *p, size_t len,
		     struct gw_err *err)
{
	struct gw_buf b;
	gw_rc rc;

	gw_buf_init(&b);
	if ((rc = gw_b64_encode(p, len, 0, &b)))
		rc = gw_err_set(err, rc, "out of memory");
	else
		xmlNodeSetContent(n, (const xmlChar *)b.data);
	gw_buf_release(&b);
	return rc;
}

static gw_rc node_b64(xmlNodePtr n, unsigned char **out, size_t *len)
{
	xmlChar *s = xmlNodeGetContent(n);
	gw_rc rc;

	if (!s)
		return GW_ERR_PARSE;
	rc = gw_b64_decode((const char *)s, strlen((const char *)s), 0, out,
			   len);
	xmlFree(s);
	return rc;
}

/* ---- signing ------------------------------------------------------------- */

static xmlSecKeyPtr xkey_from_pkey(EVP_PKEY *pk)
{
	xmlSecKeyDataPtr d;
	xmlSecKeyPtr k;

	if (EVP_PKEY_up_ref(pk) != 1)
		return NULL;
	if (!(d = xmlSecOpenSSLEvpKeyAdopt(pk))) {
		EVP_PKEY_free(pk);
		return NULL;
	}
	if (!(k = xmlSecKeyCreate()) || xmlSecKeySetValue(k, d) < 0) {
		xmlSecKeyDataDestroy(d);
		if (k)
			xmlSecKeyDestroy(k);
		return NULL;
	}
	return k;
}

static gw_rc add_keyinfo(xmlNodePtr sig, const struct gw_sign_key *k,
			 struct gw_err *err)
{
	xmlNodePtr ki, xd, c;
	size_t i;

	if (!k->cert)
		return GW_OK;
	if (!(ki = xmlSecTmplSignatureEnsureKeyInfo(sig, NULL)) ||
	    !(xd = xmlSecTmplKeyInfoAddX509Data(ki)))
		return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
	/* base64 DER made once when the key was loaded */
	for (i = 0; i < k->n_b64; i++) {
		if (!(c = xmlSecAddChild(xd, xmlSecNodeX509Certificate,
					 xmlSecDSigNs)))
			return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
		xmlNodeAddContent(c, (const xmlChar *)k->b64[i]);
	}
	return GW_OK;
}

/* Sign by hand: digest md of the document without the Signature (exc
 * C14N), then the exc-C14N SignedInfo signed by alg; for RSA-PSS with MGF1
 * of the same hash and a salt as long as the digest (RFC 6931 section
 * 2.3.10). */
static gw_rc sign_manual(const struct gw_sign_key *k, enum gw_sign_alg alg,
			 const EVP_MD *dmd, xmlDocPtr doc, xmlNodePtr sig,
			 struct gw_err *err)
{
	struct gw_buf b;
	struct vis v = { NULL, NULL };
	xmlNodePtr root = sig->parent;
	unsigned char md[EVP_MAX_MD_SIZE], *sv = NULL;
	unsigned mdlen = 0;
	size_t svlen = 0;
	xmlNodePtr si, ref, dv, svn;
	gw_rc rc;

	gw_buf_init(&b);
	si = xmlSecFindChild(sig, xmlSecNodeSignedInfo, xmlSecDSigNs);
	ref = xmlSecFindChild(si, xmlSecNodeReference, xmlSecDSigNs);
	dv = xmlSecFindChild(ref, xmlSecNodeDigestValue, xmlSecDSigNs);
	svn = xmlSecFindChild(sig, xmlSecNodeSignatureValue, xmlSecDSigNs);
	if (!si || !ref || !dv || !svn) {
		rc = gw_err_set(err, GW_ERR_INTERNAL, "bad signature template");
		goto out;
	}
	/* The enveloped-signature transform leaves out the Signature, the
	 * last child of the document element with no text beside it: while
	 * it is unlinked, the whole document is exactly that node set, and
	 * libxml2 canonicalizes it without asking visible() about each node. */
	xmlUnlinkNode(sig);
	rc = c14n(doc, NULL, XML_C14N_EXCLUSIVE_1_0, 0, &b, err);
	xmlAddChild(root, sig);
	if (rc)
		goto out;
	if (EVP_Digest(b.data, b.len, md, &mdlen, dmd, NULL) != 1) {
		rc = gw_err_set(err, GW_ERR_INTERNAL, "cannot digest: %s",
				gw_ssl_error());
		goto out;
	}
	if ((rc = set_b64(dv, md, mdlen, err)))
		goto out;
	b.len = 0;
	v.include = si;
	v.exclude = NULL;
	/* SignedInfo alone: while the Signature stands in for the document
	 * element, canonicalization walks the Signature only, not the whole
	 * message. The output is the same: exclusive C14N renders only the
	 * namespaces SignedInfo uses (its own, declared on Signature) and no
	 * attributes of ancestors. */
	xmlUnlinkNode(sig);
	root = xmlDocSetRootElement(doc, sig);
	rc = c14n(doc, &v, XML_C14N_EXCLUSIVE_1_0, 0, &b, err);
	xmlDocSetRootElement(doc, root);
	xmlAddChild(root, sig);
	if (rc)
		goto out;
	if ((rc = gw_pk_sign(k->pkey, alg, b.data, b.len, &sv, &svlen, err)))
		goto out;
	rc = set_b64(svn, sv, svlen, err);
out:
	free(sv);
	gw_buf_release(&b);
	return rc;
}

gw_rc gw_xmldsig_sign(const struct gw_sign_key *k, enum gw_sign_alg alg,
		      xmlDocPtr doc, struct gw_err *err)
{
	xmlNodePtr root = xmlDocGetRootElement(doc), sig = NULL, ref, first;
	const char *method = NULL, *digest;
	int id, n = 0;
	size_t i;
	gw_rc rc = GW_OK;

	if (!root)
		return gw_err_set(err, GW_ERR_USAGE, "empty document");
	first = NULL;
	count_sigs(root, &n, &first);
	if (n)
		return gw_err_set(err, GW_ERR_USAGE,
				  "the document is already signed");
	if (alg == GW_SIGN_ALG_DEFAULT)
		alg = gw_pk_default_alg(k->pkey);
	id = EVP_PKEY_get_base_id(k->pkey);
	for (i = 0; i < GW_ARRAY_LEN(methods) && !method; i++)
		if (methods[i].alg == alg &&
		    (!methods[i].pkey_id || methods[i].pkey_id == id))
			method = methods[i].uri;
	if (!method && alg == GW_SIGN_ALG_EDDSA)
		return gw_err_set(err, GW_ERR_USAGE,
				  "algorithm 'EdDSA' does not fit the key");
	if (!method)
		return gw_err_set(err, GW_ERR_UNSUPPORTED,
				  "algorithm '%s' is not supported for xml "
				  "(use RS256/384/512, PS256/384/512, "
				  "ES256/384/512 or EdDSA)",
				  gw_sign_alg_name(alg));
	if (!gw_pk_fits(k->pkey, alg))
		return gw_err_set(err, GW_ERR_USAGE,
				  "algorithm '%s' does not fit the key",
				  gw_sign_alg_name(alg));
	digest = digest_for(alg);
	if (!(sig = xmlSecTmplSignatureCreate(
		      doc, xmlSecTransformExclC14NId,
		      xmlSecOpenSSLTransformRsaSha256GetKlass(), NULL)) ||
	    !(ref = xmlSecTmplSignatureAddReference(
		      sig, xmlSecOpenSSLTransformSha256Id, NULL,
		      (const xmlChar *)"", NULL)) ||
	    !xmlSecTmplReferenceAddTransform(ref, xmlSecTransformEnvelopedId) ||
	    !xmlSecTmplReferenceAddTransform(ref, xmlSecTransformExclC14NId)) {
		rc = gw_err_set(err, GW_ERR_NOMEM, "out of memory");
		goto out;
	}
	xmlAddChild(root, sig);
	/* Signed by hand, not by xmlSecDSigCtxSign(): xmlsec 1.2.37 has
	 * neither RSA-PSS nor EdDSA and cannot sign with keys held by an
	 * OpenSSL engine (PKCS#11); and by hand is much faster for every
	 * algorithm, as xmlsec's enveloped transform builds an XPath node set
	 * and looks every node up in it (xmlXPathNodeSetContains, quadratic),
	 * where visible() walks the parents. The template (its methods set
	 * here) and the output are the same (the tests verify them with
	 * xmlsec1). */
	xmlSetProp(xmlSecTmplSignatureGetSignMethodNode(sig),
		   (const xmlChar *)"Algorithm", (const xmlChar *)method);
	xmlSetProp(xmlSecFindChild(ref, xmlSecNodeDigestMethod, xmlSecDSigNs),
		   (const xmlChar *)"Algorithm", (const xmlChar *)digest);
	if ((rc = sign_manual(k, alg, digest_md(digest), doc, sig, err)))
		goto out;
	rc = add_keyinfo(sig, k, err);
out:
	if (rc && sig) {
		xmlUnlinkNode(sig);
		xmlFreeNode(sig);
	}
	return rc;
}

/* ---- verification -------------------------------------------------------- */

struct sinfo {
	xmlNodePtr sig, si, sv, ki, ref, dv;
	const char *c14n;   /* CanonicalizationMethod */
	const char *method; /* SignatureMethod */
	const char *digest; /* DigestMethod */
	const char *uri;    /* Reference URI, NULL when absent */
	const char *tr[4];  /* Transform algorithms */
	int ntr, nref, xpath_ok, extra;
	enum gw_sign_alg alg;
	int pkey_id; /* the key type the method requires, 0: any of alg's */
};

/* Read the parts of a Signature; refuses only what cannot be a signature. */
static gw_rc parse_sig(xmlNodePtr sig, struct sinfo *s,
		       struct gw_sign_result *res, struct gw_err *err)
{
	xmlNodePtr n, t;
	size_t i;

	memset(s, 0, sizeof(*s));
	s->sig = sig;
	n = first_el(sig);
	if (!is_dsig(n, "SignedInfo"))
		return gw_sign_refuse(res, err, GW_SIGN_MALFORMED,
				      "Signature has no SignedInfo");
	s->si = n;
	n = next_el(n->next);
	if (!is_dsig(n, "SignatureValue"))
		return gw_sign_refuse(res, err, GW_SIGN_MALFORMED,
				      "Signature has no SignatureValue");
	s->sv = n;
	for (n = next_el(n->next); n; n = next_el(n->next)) {
		if (is_dsig(n, "KeyInfo") && !s->ki)
			s->ki = n;
		else
			s->extra++;
	}
	for (n = first_el(s->si); n; n = next_el(n->next)) {
		if (is_dsig(n, "CanonicalizationMethod") && !s->c14n &&
		    !first_el(n))
			s->c14n = attr(n, "Algorithm");
		else if (is_dsig(n, "SignatureMethod") && !s->method &&
			 !first_el(n))
			s->method = attr(n, "Algorithm");
		else if (is_dsig(n, "Reference")) {
			if (s->nref++ == 0)
				s->ref = n;
		} else
			s->extra++;
	}
	if (!s->c14n || !s->method || !s->ref)
		return gw_sign_refuse(
			res, err, GW_SIGN_MALFORMED,
			"SignedInfo lacks CanonicalizationMethod, "
			"SignatureMethod or Reference");
	s->uri = attr(s->ref, "URI");
	for (n = first_el(s->ref); n; n = next_el(n->next)) {
		if (is_dsig(n, "Transforms") && s->ntr == 0) {
			for (t = first_el(n); t; t = next_el(t->next)) {
				xmlNodePtr x = first_el(t);
				xmlChar *c;

				if (!is_dsig(t, "Transform") ||
				    s->ntr == (int)GW_ARRAY_LEN(s->tr)) {
					s->extra++;
					continue;
				}
				s->tr[s->ntr++] = attr(t, "Algorithm");
				if (!x)
					continue;
				/* The one XPath the xmlsec samples use is the
				 * enveloped transform said again. */
				c = is_dsig(x, "XPath") ? xmlNodeGetContent(x)
							: NULL;
				if (c &&
				    strcmp((const char *)c,
					   "not(ancestor-or-self::dsig:"
					   "Signature)") == 0 &&
				    !next_el(x->next))
					s->xpath_ok++;
				else
					s->extra++;
				xmlFree(c);
			}
			if (s->ntr == 0)
				s->extra++;
		} else if (is_dsig(n, "DigestMethod") && !s->digest)
			s->digest = attr(n, "Algorithm");
		else if (is_dsig(n, "DigestValue") && !s->dv)
			s->dv = n;
		else
			s->extra++;
	}
	if (!s->digest || !s->dv)
		return gw_sign_refuse(res, err, GW_SIGN_MALFORMED,
				      "Reference lacks DigestMethod or "
				      "DigestValue");
	s->alg = GW_SIGN_ALG_OTHER;
	for (i = 0; i < GW_ARRAY_LEN(methods); i++)
		if (strcmp(s->method, methods[i].uri) == 0) {
			s->alg = methods[i].alg;
			s->pkey_id = methods[i].pkey_id;
			break;
		}
	res->alg = s->alg;
	return GW_OK;
}

/* The gateway's profile: see the file comment. */
static gw_rc check_strict(const struct sinfo *s, struct gw_sign_result *res,
			  struct gw_err *err)
{
	if (s->extra)
		return gw_sign_refuse(res, err, GW_SIGN_WRAPPED,
				      "unexpected elements in Signature");
	if (s->nref != 1)
		return gw_sign_refuse(res, err, GW_SIGN_WRAPPED,
				      "%d References (exactly one allowed)",
				      s->nref);
	if (!s->uri || s->uri[0])
		return gw_sign_refuse(res, err, GW_SIGN_WRAPPED,
				      "Reference URI is '%s' (only \"\", the "
				      "whole document, is allowed)",
				      s->uri ? s->uri : "(none)");
	if (s->ntr != 2 || !s->tr[0] || strcmp(s->tr[0], U_ENVELOPED) ||
	    !s->tr[1] || strcmp(s->tr[1], U_EXC_C14N))
		return gw_sign_refuse(res, err, GW_SIGN_WRAPPED,
				      "Reference transforms must be exactly "
				      "enveloped-signature and exclusive c14n");
	if (strcmp(s->c14n, U_EXC_C14N))
		return gw_sign_refuse(res, err, GW_SIGN_UNSUPPORTED,
				      "canonicalization '%s'", s->c14n);
	if (!digest_md(s->digest))
		return gw_sign_refuse(res, err, GW_SIGN_UNSUPPORTED,
				      "digest '%s'", s->digest);
	if (s->alg == GW_SIGN_ALG_OTHER)
		return gw_sign_refuse(res, err, GW_SIGN_UNSUPPORTED,
				      "signature method '%s'", s->method);
	return GW_OK;
}

static int c14n_mode(const char *uri, int *mode, int *comments)
{
	*comments = 0;
	if (strcmp(uri, U_EXC_C14N) == 0)
		*mode = XML_C14N_EXCLUSIVE_1_0;
	else if (strcmp(uri, U_EXC_C14N_C) == 0)
		*mode = XML_C14N_EXCLUSIVE_1_0, *comments = 1;
	else if (strcmp(uri, U_C14N) == 0)
		*mode = XML_C14N_1_0;
	else if (strcmp(uri, U_C14N_C) == 0)
		*mode = XML_C14N_1_0, *comments = 1;
	else
		return 0;
	return 1;
}

/* Verify by hand (every algorithm of the gateway's profile; RSA-PSS and
 * EdDSA in the interop profile too): the shapes allowed are those of the
 * strict profile plus, in the interop profile, c14n 1.0 and the xmlsec
 * samples' XPath equivalent of the enveloped transform. */
static gw_rc verify_manual(xmlDocPtr doc, const struct sinfo *s, EVP_PKEY *pk,
			   struct gw_sign_result *res, struct gw_err *err)
{
	struct gw_buf b;
	struct vis v = { NULL, s->sig };
	unsigned char md[EVP_MAX_MD_SIZE], *dv = NULL, *sv = NULL;
	const EVP_MD *dmd = digest_md(s->digest);
	unsigned mdlen = 0;
	size_t dvlen = 0, svlen = 0;
	int i, mode = XML_C14N_1_0, comments = 0, env = 0, r;
	gw_rc rc = GW_OK;

	gw_buf_init(&b);
	if (s->extra || s->nref != 1 || !s->uri || s->uri[0]) {
		rc = gw_sign_refuse(res, err, GW_SIGN_UNSUPPORTED,
				    "%s signature of a shape this gateway "
				    "does not verify by itself",
				    gw_sign_alg_name(s->alg));
		goto out;
	}
	for (i = 0; i < s->ntr; i++) {
		if (s->tr[i] && strcmp(s->tr[i], U_ENVELOPED) == 0 && i == 0)
			env = 1;
		else if (s->tr[i] && strcmp(s->tr[i], U_XPATH) == 0 &&
			 s->xpath_ok && env)
			;
		else if (!s->tr[i] || i != s->ntr - 1 ||
			 !c14n_mode(s->tr[i], &mode, &comments)) {
			rc = gw_sign_refuse(res, err, GW_SIGN_UNSUPPORTED,
					    "transform '%s'",
					    s->tr[i] ? s->tr[i] : "(none)");
			goto out;
		}
	}
	if (!env) {
		rc = gw_sign_refuse(res, err, GW_SIGN_WRAPPED,
				    "no enveloped-signature transform");
		goto out;
	}
	if (!dmd) {
		rc = gw_sign_refuse(res, err, GW_SIGN_UNSUPPORTED,
				    "digest '%s'", s->digest);
		goto out;
	}
	/* Same-document references never carry comments. */
	if ((rc = c14n(doc, &v, mode, 0, &b, err)))
		goto out;
	if (EVP_Digest(b.data, b.len, md, &mdlen, dmd, NULL) != 1) {
		rc = gw_err_set(err, GW_ERR_INTERNAL, "cannot digest: %s",
				gw_ssl_error());
		goto out;
	}
	if (node_b64(s->dv, &dv, &dvlen) || dvlen != mdlen ||
	    CRYPTO_memcmp(dv, md, mdlen) != 0) {
		rc = gw_sign_refuse(res, err, GW_SIGN_BAD_DIGEST,
				    "the signed content was changed");
		goto out;
	}
	if (!c14n_mode(s->c14n, &mode, &comments)) {
		rc = gw_sign_refuse(res, err, GW_SIGN_UNSUPPORTED,
				    "canonicalization '%s'", s->c14n);
		goto out;
	}
	b.len = 0;
	v.include = s->si;
	v.exclude = NULL;
	if ((rc = c14n(doc, &v, mode, comments, &b, err)))
		goto out;
	if (node_b64(s->sv, &sv, &svlen)) {
		rc = gw_sign_refuse(res, err, GW_SIGN_BAD_SIGNATURE,
				    "SignatureValue is not base64");
		goto out;
	}
	r = s->pkey_id && EVP_PKEY_get_base_id(pk) != s->pkey_id
		    ? -1
		    : gw_pk_verify(pk, s->alg, b.data, b.len, sv, svlen);
	if (r < 0)
		rc = gw_sign_refuse(res, err, GW_SIGN_BAD_SIGNATURE,
				    "the key does not fit %s",
				    gw_sign_alg_name(s->alg));
	else if (r == 0)
		rc = gw_sign_refuse(res, err, GW_SIGN_BAD_SIGNATURE,
				    "SignatureValue does not match");
out:
	free(dv);
	free(sv);
	gw_buf_release(&b);
	return rc;
}

/* Verify with xmlsec, with key (taken: destroyed here). */
static gw_rc verify_xmlsec(const struct sinfo *s, xmlSecKeyPtr key,
			   unsigned flags, struct gw_sign_result *res,
			   struct gw_err *err)
{
	xmlSecDSigCtxPtr ctx = NULL;
	xmlSecDSigReferenceCtxPtr ref;
	xmlSecSize i, n;
	gw_rc rc = GW_OK;

	if (!key)
		return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
	if (!(ctx = xmlSecDSigCtxCreate(NULL))) {
		xmlSecKeyDestroy(key);
		return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
	}
	ctx->signKey = key;
	ctx->enabledReferenceUris = xmlSecTransformUriTypeEmpty;
	if (flags & GW_SIGN_INTEROP)
		ctx->enabledReferenceUris |= xmlSecTransformUriTypeSameDocument;
	xmlsec_msg[0] = '\0';
	if (xmlSecDSigCtxVerify(ctx, s->sig) < 0) {
		rc = gw_sign_refuse(res, err, GW_SIGN_BAD_SIGNATURE,
				    "xmlsec: %s", xmlsec_msg);
		ERR_clear_error();
		goto out;
	}
	ERR_clear_error();
	if (ctx->status == xmlSecDSigStatusSucceeded)
		goto out;
	n = xmlSecPtrListGetSize(&ctx->signedInfoReferences);
	for (i = 0; i < n; i++) {
		ref = xmlSecPtrListGetItem(&ctx->signedInfoReferences, i);
		if (ref && ref->status != xmlSecDSigStatusSucceeded) {
			rc = gw_sign_refuse(res, err, GW_SIGN_BAD_DIGEST,
					    "the signed content was changed");
			goto out;
		}
	}
	rc = gw_sign_refuse(res, err, GW_SIGN_BAD_SIGNATURE,
			    "SignatureValue does not match");
out:
	xmlSecDSigCtxDestroy(ctx);
	return rc;
}

static gw_rc verify_with(xmlDocPtr doc, const struct sinfo *s, EVP_PKEY *pk,
			 const struct gw_pinned_key *secret, unsigned flags,
			 struct gw_sign_result *res, struct gw_err *err)
{
	int by_hand =
		s->alg == GW_SIGN_ALG_PS256 || s->alg == GW_SIGN_ALG_PS384 ||
		s->alg == GW_SIGN_ALG_PS512 || s->alg == GW_SIGN_ALG_EDDSA;

	/* RSA-PSS and EdDSA, which xmlsec 1.2.37 lacks, by hand. */
	if (by_hand)
		return pk ? verify_manual(doc, s, pk, res, err)
			  : gw_sign_refuse(res, err, GW_SIGN_BAD_SIGNATURE,
					   "no public key for %s",
					   gw_sign_alg_name(s->alg));
	/* The gateway's own profile (one enveloped Reference URI="", checked
	 * by check_strict) is verified by hand too, as it is signed: xmlsec's
	 * enveloped transform is quadratic in the nodes of the message.
	 * Interop vectors (any shape xmlsec knows) still go through xmlsec. */
	if (pk && !(flags & GW_SIGN_INTEROP) && s->alg != GW_SIGN_ALG_OTHER)
		return verify_manual(doc, s, pk, res, err);
	if (pk)
		return verify_xmlsec(s, xkey_from_pkey(pk), flags, res, err);
	return verify_xmlsec(
		s,
		xmlSecKeyReadMemory(xmlSecOpenSSLKeyDataHmacId, secret->secret,
				    (xmlSecSize)secret->secret_len),
		flags, res, err);
}

/* The DER of every X509Certificate of KeyInfo ki into d, undecoded: a
 * chain found in the trust cache is never decoded. */
static gw_rc keyinfo_ders(xmlNodePtr ki, struct gw_trust_ders *d,
			  struct gw_sign_result *res, struct gw_err *err)
{
	xmlNodePtr xd, c;
	unsigned char *der;
	size_t len;

	for (xd = first_el(ki); xd; xd = next_el(xd->next)) {
		if (!is_dsig(xd, "X509Data"))
			continue;
		for (c = first_el(xd); c; c = next_el(c->next)) {
			if (!is_dsig(c, "X509Certificate"))
				continue;
			if (node_b64(c, &der, &len))
				return gw_sign_refuse(res, err,
						      GW_SIGN_MALFORMED,
						      "X509Certificate is not "
						      "base64");
			if (gw_trust_ders_add(d, der, len))
				return gw_sign_refuse(
					res, err, GW_SIGN_MALFORMED,
					"more than %d X509Certificate "
					"elements in KeyInfo",
					GW_TRUST_MAX_CERTS);
		}
	}
	return GW_OK;
}

/* Verify with the certificates of KeyInfo (ders) against the trust store:
 * the leaf's key from the cache when this chain passed before, else the
 * chain decoded, the signature checked, then the chain. */
static gw_rc verify_trusted(const struct gw_sign_verifier *v, xmlDocPtr doc,
			    const struct sinfo *s,
			    const struct gw_trust_ders *ders, unsigned flags,
			    struct gw_sign_result *res, struct gw_err *err)
{
	struct gw_trust_probe probe;
	STACK_OF(X509) *certs = NULL;
	char subject[sizeof(res->subject)];
	EVP_PKEY *pk;
	X509 *leaf;
	size_t bad = 0;
	gw_rc rc;

	pk = gw_trust_cache_get(v->trust, ders, 0, &probe, subject,
				sizeof(subject));
	if (pk) {
		rc = verify_with(doc, s, pk, NULL, flags, res, err);
		EVP_PKEY_free(pk);
		if (rc == GW_OK)
			memcpy(res->subject, subject, sizeof(res->subject));
		return rc;
	}
	if (!(certs = sk_X509_new_null()))
		return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
	if ((rc = gw_trust_ders_decode(ders, certs, &bad))) {
		if (rc == GW_ERR_PARSE)
			rc = gw_sign_refuse(res, err, GW_SIGN_MALFORMED,
					    "X509Certificate is not a "
					    "certificate");
		else
			rc = gw_err_set(err, rc, "out of memory");
		goto out;
	}
	leaf = gw_trust_leaf(certs, 0);
	if ((rc = verify_with(doc, s, X509_get0_pubkey(leaf), NULL, flags, res,
			      err)))
		goto out;
	rc = gw_trust_check(v, leaf, certs, &probe, res, err);
out:
	sk_X509_pop_free(certs, X509_free);
	return rc;
}

static EVP_PKEY *keyinfo_der_key(xmlNodePtr ki)
{
	xmlNodePtr n;
	unsigned char *der;
	const unsigned char *p;
	size_t len;
	EVP_PKEY *pk = NULL;

	for (n = first_el(ki); n; n = next_el(n->next)) {
		if (!n->ns || strcmp((const char *)n->ns->href, NS_DSIG11) ||
		    strcmp((const char *)n->name, "DEREncodedKeyValue"))
			continue;
		if (node_b64(n, &der, &len))
			return NULL;
		p = der;
		pk = d2i_PUBKEY(NULL, &p, (long)len);
		free(der);
		ERR_clear_error();
		return pk;
	}
	return NULL;
}

static int pinned_fits(const struct gw_pinned_key *k, enum gw_sign_alg alg)
{
	if (!k->pkey)
		return alg == GW_SIGN_ALG_OTHER;
	return alg == GW_SIGN_ALG_OTHER || gw_pk_fits(k->pkey, alg);
}

gw_rc gw_xmldsig_verify(const struct gw_sign_verifier *v, xmlDocPtr doc,
			unsigned flags, struct gw_sign_result *res,
			struct gw_err *err)
{
	xmlNodePtr root = xmlDocGetRootElement(doc), sig = NULL;
	struct gw_trust_ders ders = { .n = 0 };
	EVP_PKEY *dk = NULL;
	struct sinfo s;
	struct gw_err e1;
	size_t i;
	int n = 0, tried = 0;
	gw_rc rc = GW_OK;
	static const xmlChar *ids[] = { (const xmlChar *)"Id",
					(const xmlChar *)"ID", NULL };

	memset(res, 0, sizeof(*res));
	if (!root)
		return gw_sign_refuse(res, err, GW_SIGN_MALFORMED,
				      "empty document");
	count_sigs(root, &n, &sig);
	if (n == 0)
		return gw_sign_refuse(res, err, GW_SIGN_MALFORMED,
				      "no Signature element");
	if (!(flags & GW_SIGN_INTEROP)) {
		if (n != 1)
			return gw_sign_refuse(res, err, GW_SIGN_WRAPPED,
					      "%d Signature elements (exactly "
					      "one allowed)",
					      n);
		if (sig->parent != root)
			return gw_sign_refuse(res, err, GW_SIGN_WRAPPED,
					      "the Signature is not a child of "
					      "the document element");
	}
	if ((rc = parse_sig(sig, &s, res, err)))
		return rc;
	if (!(flags & GW_SIGN_INTEROP) && (rc = check_strict(&s, res, err)))
		return rc;
	/* The verifier's allow-list; a method the gateway does not know
	 * passes only in the interop profile and with no list (pinned keys
	 * for test vectors). */
	if (s.alg == GW_SIGN_ALG_OTHER ? v->allowed != 0
				       : !gw_verifier_allows(v, s.alg))
		return gw_sign_refuse(res, err, GW_SIGN_UNSUPPORTED,
				      "signature method '%s' (%s) is not "
				      "among the algorithms this verifier "
				      "allows",
				      s.method, gw_sign_alg_name(s.alg));
	if (flags & GW_SIGN_INTEROP)
		xmlSecAddIDs(doc, root, ids);
	/* Only a trust store needs the certificates of KeyInfo; decoding
	 * them (OpenSSL 3 decoders) is most of a pinned-key verification. */
	if (v->trust && s.ki && (rc = keyinfo_ders(s.ki, &ders, res, err)))
		goto out;
	if (v->allow_keyvalue && s.ki)
		dk = keyinfo_der_key(s.ki);

	if (v->trust && ders.n > 0) {
		rc = verify_trusted(v, doc, &s, &ders, flags, res, err);
		goto out;
	}
	/* Pinned keys (and, for vectors, a key value in the message): the
	 * first key that verifies wins; a bad digest is reported over a bad
	 * signature, as it says more. */
	rc = GW_ERR_REFUSED;
	gw_err_clear(&e1);
	for (i = 0; i <= v->nkeys && rc; i++) {
		const struct gw_pinned_key *k =
			i < v->nkeys ? &v->keys[i] : NULL;
		struct gw_sign_result r2;
		struct gw_err e2;
		gw_rc r;

		if (k && !pinned_fits(k, s.alg))
			continue;
		if (!k && !dk)
			continue;
		memset(&r2, 0, sizeof(r2));
		gw_err_clear(&e2);
		tried++;
		r = verify_with(doc, &s, k ? k->pkey : dk, k, flags, &r2, &e2);
		if (r == GW_OK) {
			rc = GW_OK;
			snprintf(res->subject, sizeof(res->subject), "%s",
				 k ? v->label : "key value in the message");
		} else if (r != GW_ERR_REFUSED) {
			rc = r;
			*err = e2;
			goto out;
		} else if (e1.rc == GW_OK || r2.reason == GW_SIGN_BAD_DIGEST) {
			res->reason = r2.reason;
			memcpy(res->detail, r2.detail, sizeof(res->detail));
			e1 = e2;
		}
	}
	if (rc == GW_OK)
		goto out;
	if (!tried && v->trust)
		rc = gw_sign_refuse(res, err, GW_SIGN_UNTRUSTED,
				    "no X509Certificate in KeyInfo");
	else if (!tried)
		rc = gw_sign_refuse(res, err, GW_SIGN_BAD_SIGNATURE,
				    "no key fits signature method '%s'",
				    s.method);
	else if (err)
		*err = e1;
out:
	EVP_PKEY_free(dk);
	gw_trust_ders_release(&ders);
	return rc;
}
