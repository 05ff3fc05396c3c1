/*
 * reqlimit.h - the body limit of the server in our own code: a libevent
 * filter under evhttp that reads the HTTP/1.1 framing of each request
 * (Content-Length, chunked, Expect: 100-continue) and never passes more
 * than max_body bytes of a body to evhttp.
 *
 * A body over the limit is not passed on: evhttp sees the request with an
 * empty body (Content-Length: 0, or the chunked body ended at the last
 * whole chunk under the limit), and gw_reqlimit_next tells the server's
 * request callback that this request was too large, so it answers 413
 * with a problem body in the request's format, audited and counted like
 * every refusal. The rest of the body is read and thrown away before the
 * request is passed on (lingering close: the client has sent everything
 * when the answer comes, so it reads the answer instead of a reset); with
 * Expect: 100-continue the request is passed on at once (no 100 is sent,
 * the client sends no body) with Connection: close. A body announced
 * larger than GW_REQLIMIT_LINGER_MAX is also answered at once, with
 * Connection: close: it is not worth reading.
 */
#ifndef GW_NET_REQLIMIT_H
#define GW_NET_REQLIMIT_H

#include <stddef.h>
#include <stdint.h>

struct bufferevent;

#define GW_REQLIMIT_LINGER_MAX ((uint64_t)256 << 20)

/* The connections' filters, for finding one from its bufferevent. */
struct gw_reqlimits {
	struct gw_reqlimit *head;
	size_t max_body;
	size_t max_header;
};

/* A new filter bufferevent over under (ownership taken: freed with the
 * filter, and on failure). NULL on allocation failure. */
struct bufferevent *gw_reqlimit_wrap(struct gw_reqlimits *l,
				     struct bufferevent *under);

/* For the next request evhttp hands over on the connection of bev (the
 * filter bufferevent; anything else gives 0): 1 when its body was over
 * the limit (*size: the announced or seen length), else 0. Call once per
 * request, in order. */
int gw_reqlimit_next(struct gw_reqlimits *l, struct bufferevent *bev,
		     uint64_t *size);

/* The bufferevent under a filter (bev itself when it is not one). */
struct bufferevent *gw_reqlimit_under(struct bufferevent *bev);

/* For tests and fuzzing: the filter of a new connection over data[0..len),
 * given in pieces of step bytes; what evhttp would read is appended to
 * out (an evbuffer), *too_large counts the requests refused for their
 * size. Returns the number of requests seen. */
struct evbuffer;
size_t gw_reqlimit_run(size_t max_body, const char *data, size_t len,
		       size_t step, struct evbuffer *out, uint64_t *too_large);

#endif
