/*
 * tls.c - the OpenSSL server context of the inbound server: TLS 1.2 or
 * newer, the server's certificate chain, client certificates checked
 * against the gateway's trust store (anchors and CRLs, loaded by
 * gw_trust_load, the same store that signatures are checked against), and
 * the libevent bufferevents that carry HTTP over it.
 */
#include "net/tls.h"

#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>

#include "crypto/trust.h"
#include "flow/partners.h"

struct gw_tls {
	SSL_CTX *ctx;
	gw_tls_refused_cb cb;
	void *cb_arg;
	gw_tls_closed_cb closed;
	void *closed_arg;
	char *pass;
};

/* What an SSL object carries for the server (ex_data). */
struct conn_tag {
	struct gw_tls *t;
	void *data;
};

static int tag_idx = -1;

static void tag_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx,
		     long argl, void *argp)
{
	struct conn_tag *tag = ptr;

	if (!tag)
		return;
	if (tag->t->closed)
		tag->t->closed(tag->t->closed_arg, tag->data);
	free(tag);
}

static int pass_cb(char *buf, int size, int rwflag, void *u)
{
	const char *p = u;
	int n;

	if (!p)
		return 0;
	n = (int)strlen(p);
	if (n > size)
		n = size;
	memcpy(buf, p, (size_t)n);
	return n;
}

/* Report refused client certificates: the handshake fails on the first
 * error, so this runs once per refused client. */
static int verify_cb(int ok, X509_STORE_CTX *sctx)
{
	SSL *ssl;
	struct gw_tls *t;
	X509 *leaf;
	char subject[256] = "";

	if (ok)
		return ok;
	ssl = X509_STORE_CTX_get_ex_data(sctx,
					 SSL_get_ex_data_X509_STORE_CTX_idx());
	t = ssl ? SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl)) : NULL;
	leaf = X509_STORE_CTX_get0_cert(sctx);
	if (leaf)
		gw_x509_subject(leaf, subject, sizeof(subject));
	if (t && t->cb)
		t->cb(t->cb_arg,
		      X509_verify_cert_error_string(
			      X509_STORE_CTX_get_error(sctx)),
		      subject);
	return 0;
}

static gw_rc add_chain(SSL_CTX *ctx, const char *path, struct gw_err *err)
{
	FILE *f = fopen(path, "r");
	X509 *x;
	int n = 0;

	if (!f)
		return gw_err_set(err, GW_ERR_IO,
				  "server.tls.chain: cannot open '%s'", path);
	while ((x = PEM_read_X509(f, NULL, NULL, NULL))) {
		SSL_CTX_add0_chain_cert(ctx, x);
		n++;
	}
	ERR_clear_error();
	fclose(f);
	if (!n)
		return gw_err_set(err, GW_ERR_CONFIG,
				  "server.tls.chain: '%s' holds no PEM "
				  "certificate",
				  path);
	return GW_OK;
}

gw_rc gw_tls_new(const char *cert, const char *chain, const char *key,
		 const char *pass, const char *trust_dir, gw_tls_refused_cb cb,
		 void *cb_arg, struct gw_tls **out, struct gw_err *err)
{
	struct gw_tls *t = gw_calloc(1, sizeof(*t));
	X509_STORE *store = NULL;
	int has_crl = 0;
	gw_rc rc = GW_OK;

	*out = NULL;
	if (!t)
		return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
	t->cb = cb;
	t->cb_arg = cb_arg;
	if (pass && !(t->pass = gw_strdup(pass))) {
		rc = gw_err_set(err, GW_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (!(t->ctx = SSL_CTX_new(TLS_server_method()))) {
		rc = gw_err_set(err, GW_ERR_INTERNAL, "tls: %s",
				gw_ssl_error());
		goto out;
	}
	SSL_CTX_set_app_data(t->ctx, t);
	if (tag_idx < 0)
		tag_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, tag_free);
	SSL_CTX_set_min_proto_version(t->ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(t->ctx, SSL_OP_NO_RENEGOTIATION |
					    SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_default_passwd_cb(t->ctx, pass_cb);
	SSL_CTX_set_default_passwd_cb_userdata(t->ctx, t->pass);
	if (SSL_CTX_use_certificate_chain_file(t->ctx, cert) != 1) {
		rc = gw_err_set(err, GW_ERR_IO,
				"server.tls.cert: cannot load '%s': %s", cert,
				gw_ssl_error());
		goto out;
	}
	if (chain && (rc = add_chain(t->ctx, chain, err)))
		goto out;
	if (SSL_CTX_use_PrivateKey_file(t->ctx, key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(t->ctx) != 1) {
		rc = gw_err_set(err, GW_ERR_CONFIG,
				"server.tls.key: cannot use '%s' with '%s': "
				"%s (a wrong passphrase or a key of another "
				"certificate?)",
				key, cert, gw_ssl_error());
		goto out;
	}
	if ((rc = gw_trust_load(trust_dir, &store, &has_crl, err)))
		goto out;
	if (has_crl)
		X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK |
						    X509_V_FLAG_CRL_CHECK_ALL);
	SSL_CTX_set_cert_store(t->ctx, store); /* the context owns it */
	SSL_CTX_set_purpose(t->ctx, X509_PURPOSE_SSL_CLIENT);
	SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER, verify_cb);
	SSL_CTX_set_verify_depth(t->ctx, 8);
	SSL_CTX_set_session_id_context(t->ctx, (const unsigned char *)"gw", 2);
	*out = t;
	t = NULL;
out:
	gw_tls_free(t);
	return rc;
}

void gw_tls_free(struct gw_tls *t)
{
	if (!t)
		return;
	SSL_CTX_free(t->ctx);
	if (t->pass) {
		memset(t->pass, 0, strlen(t->pass));
		free(t->pass);
	}
	free(t);
}

void gw_tls_set_closed_cb(struct gw_tls *t, gw_tls_closed_cb cb, void *arg)
{
	t->closed = cb;
	t->closed_arg = arg;
}

struct bufferevent *gw_tls_bev_new(struct gw_tls *t, struct event_base *base,
				   void *conn_data)
{
	SSL *ssl = SSL_new(t->ctx);
	struct conn_tag *tag = gw_calloc(1, sizeof(*tag));
	struct bufferevent *bev;

	if (!ssl || !tag) {
		SSL_free(ssl);
		free(tag);
		return NULL;
	}
	tag->t = t;
	tag->data = conn_data;
	SSL_set_ex_data(ssl, tag_idx, tag); /* freed with ssl, by tag_free */
	bev = bufferevent_openssl_socket_new(base, -1, ssl,
					     BUFFEREVENT_SSL_ACCEPTING,
					     BEV_OPT_CLOSE_ON_FREE);
	if (!bev)
		SSL_free(ssl);
	return bev;
}

void *gw_tls_conn_data(struct bufferevent *bev)
{
	SSL *ssl = bev ? bufferevent_openssl_get_ssl(bev) : NULL;
	struct conn_tag *tag = ssl ? SSL_get_ex_data(ssl, tag_idx) : NULL;

	return tag ? tag->data : NULL;
}

void gw_tls_peer_get(struct bufferevent *bev, struct gw_tls_peer *p)
{
	SSL *ssl = bev ? bufferevent_openssl_get_ssl(bev) : NULL;
	X509 *c;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0, i;
	long vr;

	memset(p, 0, sizeof(*p));
	if (!ssl)
		return;
	p->tls = 1;
	snprintf(p->version, sizeof(p->version), "%s", SSL_get_version(ssl));
	if (!(c = SSL_get1_peer_certificate(ssl)))
		return;
	p->has_cert = 1;
	gw_x509_subject(c, p->subject, sizeof(p->subject));
	if (X509_digest(c, EVP_sha256(), md, &n) == 1)
		for (i = 0; i < n && i < 32; i++)
			snprintf(p->sha256 + 2 * i, 3, "%02x", md[i]);
	vr = SSL_get_verify_result(ssl);
	p->verified = vr == X509_V_OK;
	if (!p->verified)
		snprintf(p->verify_error, sizeof(p->verify_error), "%s",
			 X509_verify_cert_error_string(vr));
	X509_free(c);
}

int gw_tls_fingerprint_norm(const char *in, char out[65])
{
	return gw_partners_fingerprint_norm(in, out);
}
