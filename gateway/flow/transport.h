/*
 * transport.h - how the delivery engine (flow/deliver.c) talks HTTP
 * without knowing the HTTP library: a table of function pointers, like
 * SQLite's VFS or curl's struct Curl_ssl. The engine fills one exchange
 * per delivery (URL, headers, body, TLS files), submits it, lets the
 * transport run until some have their answers, reads their status,
 * headers (through a callback) and body, and submits more: a window of
 * exchanges in flight, each one's outcome taken as soon as it is there. The libcurl implementation is in
 * net/client.c; tests may plug in their own.
 */
#ifndef GW_TRANSPORT_H
#define GW_TRANSPORT_H

#include <stddef.h>

#include "base/common.h"

/* The most of an answer's body an exchange keeps (a receipt, an error). */
#define GW_HTTP_BODY_MAX 65536

/* One HTTP POST and its answer. The request fields are the engine's and
 * borrowed by the transport until the exchange completes or is released;
 * the response fields are filled by the transport. */
struct gw_http_exchange {
	/* request */
	const char *url;
	const char *const *headers; /* "Name: value", NULL-terminated */
	const void *payload;	    /* sent as is, not copied */
	size_t len;
	long timeout_ms;
	long connect_timeout_ms; /* 0: the transport's default */
	const char *ca;		 /* pinned CA file, NULL: system store */
	const char *cert, *key;	 /* client certificate and key, or NULL */
	int allow_http;		 /* plain http allowed (loopback tests) */
	/* an answer over GW_HTTP_BODY_MAX fails the exchange (error set)
	 * instead of being cut */
	int strict_limit;
	/* called with each header line of the answer (borrowed, not
	 * NUL-terminated, with its CRLF), may be NULL */
	void (*on_header)(void *arg, const char *line, size_t len);
	void *arg;
	/* response */
	int done;	    /* 1 once the exchange completed (either way) */
	long status;	    /* HTTP status, 0 when there was no answer */
	const char *error;  /* NULL, or why no answer came (static text) */
	struct gw_buf body; /* the first GW_HTTP_BODY_MAX bytes of the answer
			       (init by the engine, released by it) */
	void *priv;	    /* the transport's */
};

struct gw_http_transport {
	/* A session for up to max_inflight exchanges at once, keeping
	 * connections for the next exchanges: a new one (close it), NULL on no
	 * memory or when the library cannot start. */
	void *(*open)(int max_inflight);
	void (*close)(void *session); /* accepts NULL */
	/* Start ex (borrowed until released); GW_ERR_NOMEM. */
	gw_rc (*submit)(void *session, struct gw_http_exchange *ex);
	/* Run until at least one submitted exchange completes (its done is
	 * set), none is left in flight, or timeout_ms passes. Returns how
	 * many completed during the call. */
	int (*wait)(void *session, long timeout_ms);
	/* Release what submit or perform took for ex (not ex->body); a
	 * submitted exchange is withdrawn. Accepts a never-submitted ex. */
	void (*release)(void *session, struct gw_http_exchange *ex);
	/* One exchange at once, outside any session (a token request);
	 * release it with release(NULL, ex). GW_ERR_NOMEM
	 * when it could not be started. */
	gw_rc (*perform)(struct gw_http_exchange *ex);
};

#endif
