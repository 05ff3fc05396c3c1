/*
 * tls.h - the server side of TLS for the inbound server (net/server.c):
 * one OpenSSL context (TLS 1.2 or newer, the server certificate and its
 * chain, client certificates verified against the trust store with its
 * CRLs) and libevent bufferevents over it. OpenSSL stays behind this file
 * (and the signing files): the server sees opaque handles and plain
 * strings.
 *
 * A client that presents no certificate is let through the handshake so
 * that the server can answer 401 with a problem body; a client whose
 * certificate does not verify (unknown issuer, expired, revoked, wrong
 * purpose) is refused during the handshake, and the refusal is reported
 * to the callback given to gw_tls_new with the reason and the subject.
 */
#ifndef GW_TLS_H
#define GW_TLS_H

#include <event2/bufferevent.h>
#include <event2/event.h>

#include "base/common.h"

struct gw_tls;

/* Called (on the event loop thread) when a client certificate is refused
 * during a handshake: reason is OpenSSL's verification error text,
 * subject the certificate's subject (RFC 2253) when known. */
typedef void (*gw_tls_refused_cb)(void *arg, const char *reason,
				  const char *subject);

/*
 * A server context. cert is a PEM file with the server certificate
 * followed by its chain; chain (may be NULL) adds intermediates; key is
 * the PEM private key, pass (may be NULL) its passphrase (a resolved
 * secret, borrowed). trust_dir is the trust store folder (anchors, CRLs);
 * when it holds CRLs every certificate of a client chain is checked
 * against them. *out is new; free with gw_tls_free. Errors: GW_ERR_IO,
 * GW_ERR_CONFIG (key does not match the certificate, empty store).
 */
gw_rc gw_tls_new(const char *cert, const char *chain, const char *key,
		 const char *pass, const char *trust_dir, gw_tls_refused_cb cb,
		 void *cb_arg, struct gw_tls **out, struct gw_err *err);
void gw_tls_free(struct gw_tls *t);

/* Called when a connection's TLS state is freed (the connection is
 * gone), with the data given to gw_tls_bev_new; the server counts
 * connections and cancels per-connection timers there. */
typedef void (*gw_tls_closed_cb)(void *arg, void *conn_data);
void gw_tls_set_closed_cb(struct gw_tls *t, gw_tls_closed_cb cb, void *arg);

/* A new accepting TLS bufferevent on base (fd -1: evhttp sets it), or
 * NULL when out of memory. Closes the socket when freed. conn_data
 * (borrowed, may be NULL) is kept with it until the closed callback. */
struct bufferevent *gw_tls_bev_new(struct gw_tls *t, struct event_base *base,
				   void *conn_data);

/* The conn_data of a TLS bufferevent, or NULL. */
void *gw_tls_conn_data(struct bufferevent *bev);

/* Who is on the other end of a TLS bufferevent (borrowed). */
struct gw_tls_peer {
	int tls;	   /* 1 when bev is a TLS bufferevent */
	int has_cert;	   /* the client presented a certificate */
	int verified;	   /* ... and it verified against the trust store */
	char subject[256]; /* RFC 2253 */
	char sha256[65];   /* lowercase hex fingerprint of the DER form */
	char verify_error[128]; /* why it did not verify */
	char version[16];	/* "TLSv1.3" */
};

void gw_tls_peer_get(struct bufferevent *bev, struct gw_tls_peer *p);

/* Normalize a fingerprint written "AB:CD:..." or "abcd..." into 64
 * lowercase hex digits in out; returns 0, or -1 when it is not a SHA-256
 * fingerprint. */
int gw_tls_fingerprint_norm(const char *in, char out[65]);

#endif
