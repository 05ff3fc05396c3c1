/*
 * client.c - the libcurl transport of the delivery engine (client.h,
 * flow/transport.h). A session is one curl multi handle and one share
 * handle (TLS sessions, DNS): exchanges are added as the engine's window
 * has room, run together, and the connections they opened are kept for
 * the next ones (up to max_inflight, per host and in all).
 *
 * libcurl reads and parses the CA file, the client certificate and its
 * key again for every connection it opens (a new SSL_CTX each time). A
 * session reads each once (net/tls_client.c) and gives them to the SSL_CTX of
 * every new connection from CURLOPT_SSL_CTX_FUNCTION; files it cannot
 * read are left to libcurl, which says why.
 */
#include "net/client.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#include "net/tls_client.h"

struct session {
	struct gw_tls_files *tls; /* the TLS files read once */
	CURLM *multi;
	CURLSH *share;
	/* easy handles of finished exchanges, reset and used again (as a
	 * load generator does): a new handle per request costs more than
	 * the request itself on a kept-alive TLS connection */
	CURL **pool;
	int npool, cap;
};

/* what an exchange holds while it is in libcurl's hands (ex->priv) */
struct handle {
	CURL *h;
	struct curl_slist *hdrs;
	int added; /* to the session's multi handle */
};

static size_t on_body(char *p, size_t sz, size_t n, void *arg)
{
	struct gw_http_exchange *ex = arg;

	if (ex->body.len < GW_HTTP_BODY_MAX)
		(void)gw_buf_add(&ex->body, p, sz * n);
	return sz * n;
}

static size_t on_body_strict(char *p, size_t sz, size_t n, void *arg)
{
	struct gw_http_exchange *ex = arg;

	if (ex->body.len + sz * n > GW_HTTP_BODY_MAX ||
	    gw_buf_add(&ex->body, p, sz * n))
		return 0;
	return sz * n;
}

static size_t on_header(char *p, size_t sz, size_t n, void *arg)
{
	struct gw_http_exchange *ex = arg;

	if (ex->on_header)
		ex->on_header(ex->arg, p, sz * n);
	return sz * n;
}

/* CURLOPT_SSL_CTX_FUNCTION: the session's CA store and client
 * certificate into the SSL_CTX of a new connection. */
static CURLcode on_ssl_ctx(CURL *h, void *ctx, void *arg)
{
	(void)h;
	return gw_tls_files_apply(arg, ctx) ? CURLE_SSL_CERTPROBLEM : CURLE_OK;
}

static void tls_opts(CURL *h, const struct gw_http_exchange *ex,
		     struct gw_tls_files *t)
{
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR,
			 ex->allow_http ? "https,http" : "https");
	curl_easy_setopt(h, CURLOPT_SSLVERSION, CURL_SSLVERSION_TLSv1_2);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	if (gw_tls_files_has_ca(t) || gw_tls_files_has_cert(t)) {
		curl_easy_setopt(h, CURLOPT_SSL_CTX_FUNCTION, on_ssl_ctx);
		curl_easy_setopt(h, CURLOPT_SSL_CTX_DATA, t);
	}
	if (gw_tls_files_has_ca(t)) {
		/* no file for libcurl to read: the store is given */
		curl_easy_setopt(h, CURLOPT_CAINFO, NULL);
		curl_easy_setopt(h, CURLOPT_CAPATH, NULL);
	} else if (ex->ca) {
		curl_easy_setopt(h, CURLOPT_CAINFO, ex->ca);
	}
	if (!gw_tls_files_has_cert(t)) {
		if (ex->cert)
			curl_easy_setopt(h, CURLOPT_SSLCERT, ex->cert);
		if (ex->key)
			curl_easy_setopt(h, CURLOPT_SSLKEY, ex->key);
	}
}

/* An easy handle for ex (ex->priv), from the pool of session s (may be
 * NULL) or new; GW_ERR_NOMEM. */
static gw_rc prepare(struct gw_http_exchange *ex, struct session *s)
{
	struct handle *hd = gw_calloc(1, sizeof(*hd));
	CURLSH *share = s ? s->share : NULL;
	size_t i;

	ex->priv = hd;
	ex->done = 0;
	ex->status = 0;
	ex->error = NULL;
	if (hd && s && s->npool) {
		hd->h = s->pool[--s->npool];
		curl_easy_reset(hd->h);
	} else if (hd) {
		hd->h = curl_easy_init();
	}
	if (!hd || !hd->h)
		return GW_ERR_NOMEM;
	for (i = 0; ex->headers && ex->headers[i]; i++)
		hd->hdrs = curl_slist_append(hd->hdrs, ex->headers[i]);
	curl_easy_setopt(hd->h, CURLOPT_URL, ex->url);
	curl_easy_setopt(hd->h, CURLOPT_HTTPHEADER, hd->hdrs);
	curl_easy_setopt(hd->h, CURLOPT_POST, 1L);
	curl_easy_setopt(hd->h, CURLOPT_POSTFIELDS, ex->payload);
	curl_easy_setopt(hd->h, CURLOPT_POSTFIELDSIZE_LARGE,
			 (curl_off_t)ex->len);
	curl_easy_setopt(hd->h, CURLOPT_TIMEOUT_MS, ex->timeout_ms);
	if (ex->connect_timeout_ms)
		curl_easy_setopt(hd->h, CURLOPT_CONNECTTIMEOUT_MS,
				 ex->connect_timeout_ms);
	tls_opts(hd->h, ex,
		 s && (ex->ca || ex->cert)
			 ? gw_tls_files_get(&s->tls, ex->ca, ex->cert, ex->key)
			 : NULL);
	curl_easy_setopt(hd->h, CURLOPT_WRITEFUNCTION,
			 ex->strict_limit ? on_body_strict : on_body);
	curl_easy_setopt(hd->h, CURLOPT_WRITEDATA, ex);
	if (ex->on_header) {
		curl_easy_setopt(hd->h, CURLOPT_HEADERFUNCTION, on_header);
		curl_easy_setopt(hd->h, CURLOPT_HEADERDATA, ex);
	}
	if (share)
		curl_easy_setopt(hd->h, CURLOPT_SHARE, share);
	curl_easy_setopt(hd->h, CURLOPT_PRIVATE, ex);
	return GW_OK;
}

/* The outcome of ex's transfer, cc. */
static void finish(struct gw_http_exchange *ex, CURLcode cc)
{
	struct handle *hd = ex->priv;

	ex->done = 1;
	ex->error = cc == CURLE_OK ? NULL : curl_easy_strerror(cc);
	curl_easy_getinfo(hd->h, CURLINFO_RESPONSE_CODE, &ex->status);
}

static void s_close(void *session)
{
	struct session *s = session;

	if (!s)
		return;
	while (s->npool)
		curl_easy_cleanup(s->pool[--s->npool]);
	free(s->pool);
	curl_multi_cleanup(s->multi);
	curl_share_cleanup(s->share);
	gw_tls_files_free(s->tls);
	curl_global_cleanup();
	free(s);
}

static void *s_open(int max_inflight)
{
	struct session *s = gw_calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	s->multi = curl_multi_init();
	s->share = curl_share_init();
	s->cap = max_inflight;
	s->pool = gw_calloc((size_t)max_inflight + 1, sizeof(*s->pool));
	if (!s->multi || !s->share || !s->pool) {
		s_close(s);
		return NULL;
	}
	curl_share_setopt(s->share, CURLSHOPT_SHARE,
			  CURL_LOCK_DATA_SSL_SESSION);
	curl_share_setopt(s->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
	curl_multi_setopt(s->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
			  (long)max_inflight);
	/* keep every connection of a full window: by default libcurl keeps
	 * 4 per easy handle added, so a quiet moment after a busy one closed
	 * connections that the next busy moment had to open again (a TLS
	 * handshake, the client key and CA file loaded, per connection) */
	curl_multi_setopt(s->multi, CURLMOPT_MAXCONNECTS, (long)max_inflight);
	return s;
}

static gw_rc s_submit(void *session, struct gw_http_exchange *ex)
{
	struct session *s = session;
	gw_rc rc = prepare(ex, s);
	struct handle *hd = ex->priv;

	if (rc)
		return rc;
	curl_multi_add_handle(s->multi, hd->h);
	hd->added = 1;
	return GW_OK;
}

static int s_wait(void *session, long timeout_ms)
{
	struct session *s = session;
	int running = 0, left, n = 0;
	int64_t end = gw_now_ms() + timeout_ms;
	CURLMsg *m;

	for (;;) {
		curl_multi_perform(s->multi, &running);
		while ((m = curl_multi_info_read(s->multi, &left))) {
			struct gw_http_exchange *ex = NULL;

			if (m->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE,
					  (char **)&ex);
			finish(ex, m->data.result);
			n++;
		}
		if (n || !running || gw_now_ms() >= end)
			return n;
		curl_multi_poll(s->multi, NULL, 0,
				(int)(end - gw_now_ms() > 1000
					      ? 1000
					      : end - gw_now_ms()),
				NULL);
	}
}

static void s_release(void *session, struct gw_http_exchange *ex)
{
	struct session *s = session;
	struct handle *hd = ex->priv;

	if (!hd)
		return;
	if (hd->h) {
		if (hd->added && s)
			curl_multi_remove_handle(s->multi, hd->h);
		if (s && s->npool < s->cap)
			s->pool[s->npool++] = hd->h;
		else
			curl_easy_cleanup(hd->h);
	}
	curl_slist_free_all(hd->hdrs);
	free(hd);
	ex->priv = NULL;
}

static gw_rc s_perform(struct gw_http_exchange *ex)
{
	struct handle *hd;
	gw_rc rc = prepare(ex, NULL);

	if (rc)
		return rc;
	hd = ex->priv;
	finish(ex, curl_easy_perform(hd->h));
	return GW_OK;
}

static const struct gw_http_transport curl_transport = {
	.open = s_open,
	.close = s_close,
	.submit = s_submit,
	.wait = s_wait,
	.release = s_release,
	.perform = s_perform,
};

const struct gw_http_transport *gw_client_transport(void)
{
	return &curl_transport;
}
