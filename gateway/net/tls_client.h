/*
 * tls_client.h - the client side's TLS files, read once: the CA file a
 * destination pins and its client certificate (with its chain) and key.
 * libcurl reads and parses those files again for every connection it
 * opens (a new SSL_CTX each time); the transport (net/client.c) keeps one
 * gw_tls_files per set of files and gives them to the SSL_CTX of each new
 * connection instead. OpenSSL stays behind this file: the transport sees
 * an opaque handle.
 */
#ifndef GW_TLS_CLIENT_H
#define GW_TLS_CLIENT_H

#include "base/common.h"

struct gw_tls_files;

/*
 * The files ca, cert and key (each may be NULL) as read once into *list
 * (a list, NULL when empty): found there, or read and added. NULL when
 * out of memory. A file that cannot be read, or a key that is encrypted
 * or does not match its certificate, is not held (see the two tests
 * below): the caller lets libcurl read it, which says why.
 */
struct gw_tls_files *gw_tls_files_get(struct gw_tls_files **list,
				      const char *ca, const char *cert,
				      const char *key);

/* Whether t holds the CA store of its ca file; the client certificate
 * and key of its cert and key files. */
int gw_tls_files_has_ca(const struct gw_tls_files *t);
int gw_tls_files_has_cert(const struct gw_tls_files *t);

/* Put what t holds into ssl_ctx (an SSL_CTX of a new connection): the
 * CA store (shared, counted), the certificate, its chain and key. 0, or
 * -1 when OpenSSL refuses them. */
int gw_tls_files_apply(const struct gw_tls_files *t, void *ssl_ctx);

/* Free the list of gw_tls_files_get. */
void gw_tls_files_free(struct gw_tls_files *list);

#endif
