/*
 * server.c - the inbound HTTPS server: libevent's evhttp over TLS
 * bufferevents (net/tls.c), one event loop thread doing all the HTTP
 * work. This file is the transport only: connections and their limits,
 * the routing of URLs, reading the body, writing answers and RFC 9457
 * problem bodies, /healthz, /readyz and /metrics, and the signals
 * (SIGHUP reload, SIGTERM drain). What a request means is the receive
 * pipeline's (flow/receive.c), which sees a struct gw_recv_req and
 * answers through the functions of struct gw_recv_io below; the
 * configuration's state is the receiver's (flow/receive_state.c).
 *
 * A request to /v1/ first has its partner identified by the client
 * certificate here (flow/partners.c), then goes to gw_recv_post or
 * gw_recv_receipt. Every refusal answers an RFC 9457 problem and is
 * recorded by gw_receiver_event, the one place where server events are
 * recorded.
 *
 * Connections are bounded three ways: a maximum count (the listener stops
 * accepting at the limit and resumes below it), a deadline per request
 * (headers and body must arrive within timeout_s, so a slow client cannot
 * hold a connection), and the header and body size limits. The body limit
 * is ours (net/reqlimit.c, a filter under evhttp): a body over it, with a
 * Content-Length or chunked, is never passed to evhttp, and its request
 * is answered 413 here with a problem body in the request's format,
 * audited and counted like every refusal, after the body was read and
 * thrown away (lingering close), or at once without a body when the
 * client asked for 100-continue.
 *
 * A request is XML (its refusals application/problem+xml) when its
 * Content-Type names XML, or, without a Content-Type, when its Accept
 * names XML and not JSON (schemas/openapi.yaml: errors to requests sent
 * as XML are XML).
 */
#include "net/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "flow/inbound.h"
#include "flow/receive_state.h"
#include "net/client.h"
#include "net/reqlimit.h"
#include "net/tls.h"

/* ------------------------------------------------------------------ */
/* Limits and problems                                                 */

gw_rc gw_server_limits_parse(const json_t *server, struct gw_server_limits *l,
			     struct gw_err *err)
{
	const json_t *lim = json_object_get(server, "limits");
	struct {
		const char *key;
		long long dflt, min, max;
		long long *v;
	} f[4];
	long long body, header, conns, tmo;
	size_t i;

	f[0].key = "max_body_bytes", f[0].dflt = 8388608, f[0].min = 1024,
	f[0].max = 1073741824, f[0].v = &body;
	f[1].key = "max_header_bytes", f[1].dflt = 16384, f[1].min = 1024,
	f[1].max = 1048576, f[1].v = &header;
	f[2].key = "max_connections", f[2].dflt = 256, f[2].min = 1,
	f[2].max = 100000, f[2].v = &conns;
	f[3].key = "timeout_s", f[3].dflt = 30, f[3].min = 1, f[3].max = 3600,
	f[3].v = &tmo;
	for (i = 0; i < GW_ARRAY_LEN(f); i++) {
		const json_t *j = json_object_get(lim, f[i].key);

		*f[i].v = f[i].dflt;
		if (!j)
			continue;
		if (!json_is_integer(j) || json_integer_value(j) < f[i].min ||
		    json_integer_value(j) > f[i].max)
			return gw_err_set(err, GW_ERR_CONFIG,
					  "/server/limits/%s: must be an "
					  "integer from %lld to %lld",
					  f[i].key, f[i].min, f[i].max);
		*f[i].v = json_integer_value(j);
	}
	l->max_body = (size_t)body;
	l->max_header = (size_t)header;
	l->max_connections = (int)conns;
	l->timeout_s = (int)tmo;
	return GW_OK;
}

int gw_server_is_loopback(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (!host)
		return 0;
	if (!strcmp(host, "localhost"))
		return 1;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return 0;
}

static gw_rc xml_escape(struct gw_buf *b, const char *s)
{
	gw_rc rc = GW_OK;

	for (; *s && !rc; s++) {
		switch (*s) {
		case '<': rc = gw_buf_adds(b, "&lt;"); break;
		case '>': rc = gw_buf_adds(b, "&gt;"); break;
		case '&': rc = gw_buf_adds(b, "&amp;"); break;
		case '"': rc = gw_buf_adds(b, "&quot;"); break;
		default:
			/* control characters XML 1.0 cannot carry */
			if ((unsigned char)*s < 0x20 && *s != '\t' &&
			    *s != '\n' && *s != '\r')
				rc = gw_buf_adds(b, "?");
			else
				rc = gw_buf_add(b, s, 1);
		}
	}
	return rc;
}

gw_rc gw_problem_render(int status, const char *type, const char *title,
			const char *detail, const char *instance,
			const json_t *errors, int xml, struct gw_buf *out)
{
	char uri[128];
	gw_rc rc = GW_OK;
	size_t i;

	snprintf(uri, sizeof(uri), "urn:lienthong:problem:%s",
		 type ? type : "about-blank");
	if (!xml) {
		json_t *o = json_object();
		char *s;

		if (!o)
			return GW_ERR_NOMEM;
		json_object_set_new(o, "type", json_string(uri));
		json_object_set_new(o, "title", json_string(title));
		json_object_set_new(o, "status", json_integer(status));
		if (detail) {
			json_t *d = json_string(detail);

			json_object_set_new(o, "detail",
					    d ? d : json_string("(not utf-8)"));
		}
		if (instance)
			json_object_set_new(o, "instance",
					    json_string(instance));
		if (errors && json_array_size(errors))
			json_object_set(o, "errors", (json_t *)errors);
		s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		json_decref(o);
		if (!s)
			return GW_ERR_NOMEM;
		rc = gw_buf_adds(out, s);
		if (!rc)
			rc = gw_buf_adds(out, "\n");
		free(s);
		return rc;
	}
	rc = gw_buf_adds(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
			      "<problem xmlns=\"urn:ietf:rfc:7807\">\n"
			      "  <type>");
	if (!rc)
		rc = xml_escape(out, uri);
	if (!rc)
		rc = gw_buf_adds(out, "</type>\n  <title>");
	if (!rc)
		rc = xml_escape(out, title);
	if (!rc)
		rc = gw_buf_addf(out, "</title>\n  <status>%d</status>\n",
				 status);
	if (!rc && detail) {
		rc = gw_buf_adds(out, "  <detail>");
		if (!rc)
			rc = xml_escape(out, detail);
		if (!rc)
			rc = gw_buf_adds(out, "</detail>\n");
	}
	if (!rc && instance) {
		rc = gw_buf_adds(out, "  <instance>");
		if (!rc)
			rc = xml_escape(out, instance);
		if (!rc)
			rc = gw_buf_adds(out, "</instance>\n");
	}
	if (!rc && errors && json_array_size(errors)) {
		rc = gw_buf_adds(out, "  <errors>\n");
		for (i = 0; !rc && i < json_array_size(errors); i++) {
			const char *e =
				json_string_value(json_array_get(errors, i));

			rc = gw_buf_adds(out, "    <i>");
			if (!rc)
				rc = xml_escape(out, e ? e : "");
			if (!rc)
				rc = gw_buf_adds(out, "</i>\n");
		}
		if (!rc)
			rc = gw_buf_adds(out, "  </errors>\n");
	}
	if (!rc)
		rc = gw_buf_adds(out, "</problem>\n");
	return rc;
}

/* ------------------------------------------------------------------ */
/* The server                                                          */

struct gw_server {
	struct gw_receiver rcv; /* everything but the transport */
	char *listen;
	int port;
	int plain;
	struct gw_server_limits lim;
	struct gw_tls *tls;
	struct gw_reqlimits reqlim; /* the body limit's filters (reqlimit.h) */

	struct event_base *base;
	struct evhttp *http;
	struct evhttp_bound_socket *bound;
	struct evconnlistener *listener;
	struct event *ev_term, *ev_int, *ev_hup, *ev_drain, *ev_flush;
	struct event *ev_jobs; /* the verification workers' pipe */
	int conns;
	int accepting;
	int draining;
	int64_t drain_deadline;
};

/* One accepted connection: its request deadline. */
struct conn {
	struct gw_server *s;
	struct bufferevent *bev;
	struct event *deadline;
};

static void arm_deadline_of(struct evhttp_request *req);

static void on_tls_refused(void *arg, const char *reason, const char *subject)
{
	struct gw_server *s = arg;
	char d[400];

	s->rcv.m.tls_refused++;
	snprintf(d, sizeof(d), "client certificate '%s' refused: %s",
		 subject && *subject ? subject : "?", reason);
	{
		struct gw_recv_event e = { .event = "refused",
					   .outcome = "refused",
					   .reason = d };

		gw_receiver_event(&s->rcv, &e);
	}
}

/* gw_recv_io.reply: the answer of r (body copied into the reply). */
static void reply(struct gw_recv_req *r, int status, const char *reason,
		  const char *ctype, const char *body, size_t len, int replay)
{
	struct gw_server *s = r->s->io.arg;
	struct evhttp_request *req = r->conn;
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	struct evbuffer *out = evbuffer_new();

	if (replay)
		evhttp_add_header(h, "Lienthong-Replay", "true");
	evhttp_add_header(h, "Content-Type", ctype);
	evhttp_add_header(h, "Cache-Control", "no-store");
	if (s->draining)
		evhttp_add_header(h, "Connection", "close");
	if (out && len)
		evbuffer_add(out, body, len);
	gw_metrics_observe(&r->s->m, status, gw_recv_since(&r->t0));
	evhttp_send_reply(req, status, reason, out);
	if (out)
		evbuffer_free(out);
}

static const char *status_reason(int st)
{
	switch (st) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Content Too Large";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Content";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	default: return "Error";
	}
}

static const char *problem_type(int st)
{
	switch (st) {
	case 400: return "malformed";
	case 401: return "no-client-certificate";
	case 403: return "not-allowed";
	case 404: return "not-found";
	case 405: return "method-not-allowed";
	case 409: return "id-reused";
	case 413: return "too-large";
	case 415: return "unsupported-media-type";
	case 422: return "invalid";
	case 503: return "unavailable";
	default: return "internal";
	}
}

/* gw_recv_io.problem: answer a problem and record the refusal. */
static void problem(struct gw_recv_req *r, int status, const json_t *errors,
		    const char *detail)
{
	struct gw_buf b;

	gw_buf_init(&b);
	gw_problem_render(status, problem_type(status), status_reason(status),
			  detail, r->uri, errors, r->xml, &b);
	if (status >= 400 && strcmp(r->uri, "/readyz"))
		gw_recv_req_event(r, "refused", status, "refused", detail);
	reply(r, status, status_reason(status),
	      r->xml ? "application/problem+xml" : "application/problem+json",
	      b.data ? b.data : "", b.len, 0);
	gw_buf_release(&b);
}

/* gw_recv_io.flush_soon: the batch of the group commit has its first
 * message; on_flush commits it once the loop has read what is ready. */
static void flush_soon(void *arg)
{
	struct gw_server *s = arg;

	event_active(s->ev_flush, EV_TIMEOUT, 1);
}

static void on_flush(evutil_socket_t fd, short what, void *arg)
{
	struct gw_server *s = arg;

	gw_recv_flush(&s->rcv);
}

/* gw_recv_io.rearm */
static void rearm(struct gw_recv_req *r)
{
	arm_deadline_of(r->conn);
}

/* In the loop: the verification workers have finished jobs. */
static void on_jobs_done(evutil_socket_t fd, short what, void *arg)
{
	struct gw_server *s = arg;

	gw_workers_collect(s->rcv.pool, gw_recv_post_done, &s->rcv);
}

/* The workers stop before the loop's base goes (their event with it). */
static void workers_stop(struct gw_server *s)
{
	if (s->ev_jobs)
		event_free(s->ev_jobs);
	s->ev_jobs = NULL;
	gw_workers_free(s->rcv.pool);
	s->rcv.pool = NULL;
}

/* ------------------------------------------------------------------ */
/* Endpoints                                                           */

/* POST /v1/messages: the body as it arrived, to the receive pipeline. */
static void handle_post(struct gw_server *s, struct gw_recv_req *r,
			const struct gw_partner *pt,
			const struct gw_tls_peer *peer)
{
	struct evhttp_request *req = r->conn;
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	const char *ctype_h = evhttp_find_header(
		evhttp_request_get_input_headers(req), "Content-Type");
	size_t len = evbuffer_get_length(in);
	/* a body over the limit is refused before it is made contiguous
	 * (chunked bodies end up here) */
	const char *body = len > s->lim.max_body
				   ? NULL
				   : (const char *)evbuffer_pullup(in, -1);

	if (gw_recv_post(r, pt, peer->subject, peer->sha256, ctype_h, body, len,
			 s->lim.max_body))
		/* the worker has its copy: the request's own is freed now,
		 * not when it is answered (a large message's peak) */
		evbuffer_drain(in, len);
}

static void handle_metrics(struct gw_server *s, struct gw_recv_req *r)
{
	struct gw_buf b;

	gw_metrics_render(&s->rcv.m, s->conns, s->rcv.inbox, s->rcv.outbox, &b);
	reply(r, 200, "OK", "text/plain; version=0.0.4; charset=utf-8",
	      b.data ? b.data : "", b.len, 0);
	gw_buf_release(&b);
}

static void handle_readyz(struct gw_server *s, struct gw_recv_req *r)
{
	struct gw_err err;

	gw_err_clear(&err);
	if (gw_inbox_ping(s->rcv.inbox, &err)) {
		gw_recv_problem(r, 503, NULL, "the inbox cannot be written: %s",
				err.msg);
		return;
	}
	if (!s->rcv.validator || !s->rcv.sign.key || !s->rcv.verifier) {
		gw_recv_problem(r, 503, NULL,
				"schemas, keys or trust store not loaded");
		return;
	}
	if (s->draining) {
		gw_recv_problem(r, 503, NULL, "shutting down");
		return;
	}
	reply(r, 200, "OK", "text/plain; charset=utf-8", "ready\n", 6, 0);
}

/* ------------------------------------------------------------------ */
/* Dispatch and connections                                            */

static void arm_deadline(struct conn *c)
{
	struct timeval tv = { c->s->lim.timeout_s, 0 };

	if (c->deadline)
		evtimer_add(c->deadline, &tv);
}

static void arm_deadline_of(struct evhttp_request *req)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct bufferevent *bev =
		evcon ? evhttp_connection_get_bufferevent(evcon) : NULL;
	struct conn *c = bev ? gw_tls_conn_data(gw_reqlimit_under(bev)) : NULL;

	if (c)
		arm_deadline(c);
}

/* Whether the request is XML, for its problem bodies (see the top). */
static int request_is_xml(struct evhttp_request *req)
{
	struct evkeyvalq *h = evhttp_request_get_input_headers(req);
	const char *ct = evhttp_find_header(h, "Content-Type");
	const char *acc = evhttp_find_header(h, "Accept");

	if (ct && *ct)
		return strstr(ct, "xml") != NULL;
	return acc && strstr(acc, "xml") && !strstr(acc, "json");
}

static void on_request(struct evhttp_request *req, void *arg)
{
	struct gw_server *s = arg;
	struct gw_recv_req r;
	const char *uri = evhttp_request_get_uri(req);
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct bufferevent *bev =
		evcon ? evhttp_connection_get_bufferevent(evcon) : NULL;
	struct conn *c = bev ? gw_tls_conn_data(gw_reqlimit_under(bev)) : NULL;
	struct gw_tls_peer peer;
	const struct gw_partner *pt;
	char path[256];
	const char *q;
	size_t n;
	uint64_t size;
	int too_large = bev && gw_reqlimit_next(&s->reqlim, bev, &size);

	memset(&r, 0, sizeof(r));
	r.s = &s->rcv;
	r.conn = req;
	r.uri = uri;
	clock_gettime(CLOCK_MONOTONIC, &r.t0);
	q = strchr(uri, '?');
	n = q ? (size_t)(q - uri) : strlen(uri);
	if (n >= sizeof(path))
		n = sizeof(path) - 1;
	memcpy(path, uri, n);
	path[n] = '\0';
	r.xml = request_is_xml(req);
	if (too_large) {
		/* its body was not read into memory (net/reqlimit.c) */
		gw_tls_peer_get(gw_reqlimit_under(bev), &peer);
		if (peer.verified)
			if ((pt = gw_partners_match(&s->rcv.partners,
						    peer.subject, peer.sha256)))
				snprintf(r.partner, sizeof(r.partner), "%s",
					 pt->name);
		gw_recv_problem(&r, 413, NULL,
				"the body of %llu bytes is larger than %zu "
				"bytes (server.limits.max_body_bytes)",
				(unsigned long long)size, s->lim.max_body);
		goto out;
	}

	if (!strcmp(path, "/healthz") || !strcmp(path, "/readyz") ||
	    !strcmp(path, "/metrics")) {
		if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD)
			gw_recv_problem(&r, 405, NULL, "use GET");
		else if (path[1] == 'h')
			reply(&r, 200, "OK", "text/plain; charset=utf-8",
			      "ok\n", 3, 0);
		else if (path[1] == 'r')
			handle_readyz(s, &r);
		else
			handle_metrics(s, &r);
		goto out;
	}
	if (strncmp(path, "/v1/", 4)) {
		gw_recv_problem(&r, 404, NULL,
				"no resource '%s' (see schemas/openapi.yaml)",
				path);
		goto out;
	}
	/* everything under /v1 needs a partner */
	gw_tls_peer_get(gw_reqlimit_under(bev), &peer);
	if (!peer.has_cert) {
		gw_recv_problem(&r, 401, NULL,
				peer.tls ? "no client certificate: present the "
					   "partner's certificate (mutual TLS)"
					 : "plain http: /v1 needs mutual TLS");
		goto out;
	}
	if (!peer.verified) {
		gw_recv_problem(&r, 401, NULL, "client certificate '%s': %s",
				peer.subject, peer.verify_error);
		goto out;
	}
	if (!(pt = gw_partners_match(&s->rcv.partners, peer.subject,
				     peer.sha256))) {
		gw_recv_problem(
			&r, 403, NULL,
			"client certificate '%s' (sha256 %s) is not a "
			"registered partner (partners: in the configuration)",
			peer.subject, peer.sha256);
		goto out;
	}
	snprintf(r.partner, sizeof(r.partner), "%s", pt->name);
	if (!strcmp(path, "/v1/messages")) {
		if (cmd != EVHTTP_REQ_POST) {
			gw_recv_problem(&r, 405, NULL, "use POST");
			goto out;
		}
		gw_recv_req_event(&r, "received", 0, "ok", peer.version);
		handle_post(s, &r, pt, &peer);
		goto out;
	}
	if (!strncmp(path, "/v1/messages/", 13) && n > 21 &&
	    !strcmp(path + n - 8, "/receipt")) {
		char id[80];
		size_t idn = n - 13 - 8;

		if (cmd != EVHTTP_REQ_GET) {
			gw_recv_problem(&r, 405, NULL, "use GET");
			goto out;
		}
		if (idn >= sizeof(id))
			idn = sizeof(id) - 1;
		memcpy(id, path + 13, idn);
		id[idn] = '\0';
		gw_recv_receipt(&r, pt, id);
		goto out;
	}
	gw_recv_problem(&r, 404, NULL,
			"no resource '%s' (see schemas/openapi.yaml)", path);
out:
	if (c)
		arm_deadline(c); /* the next request gets its own time */
}

/* ------------------------------------------------------------------ */
/* Connections                                                         */

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	struct bufferevent *bev = c->bev;

	gw_log(GW_LOG_WARN, "timeout", NULL,
	       "connection closed: no complete request within the time "
	       "limit");
	/* as a read timeout: evhttp frees the connection, and with it c */
	bufferevent_trigger_event(bev, BEV_EVENT_READING | BEV_EVENT_TIMEOUT,
				  0);
}

static void update_accepting(struct gw_server *s)
{
	if (!s->listener || s->draining)
		return;
	if (s->accepting && s->conns >= s->lim.max_connections) {
		evconnlistener_disable(s->listener);
		s->accepting = 0;
		gw_log(GW_LOG_WARN, "connection-limit", NULL,
		       "%d connections: not accepting more until one closes",
		       s->conns);
	} else if (!s->accepting && s->conns < s->lim.max_connections) {
		evconnlistener_enable(s->listener);
		s->accepting = 1;
	}
}

static void on_conn_closed(void *arg, void *data)
{
	struct gw_server *s = arg;
	struct conn *c = data;

	if (c) {
		if (c->deadline)
			event_free(c->deadline);
		free(c);
	}
	s->conns--;
	update_accepting(s);
}

/* A plain http connection (loopback only): the body limit's filter over
 * a socket bufferevent, whose descriptor evhttp sets. */
static struct bufferevent *on_new_plain_conn(struct event_base *base, void *arg)
{
	struct gw_server *s = arg;

	return gw_reqlimit_wrap(
		&s->reqlim,
		bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE));
}

static struct bufferevent *on_new_conn(struct event_base *base, void *arg)
{
	struct gw_server *s = arg;
	struct conn *c = gw_calloc(1, sizeof(*c));
	struct bufferevent *bev;

	if (!c)
		return NULL;
	c->s = s;
	if (!(bev = gw_tls_bev_new(s->tls, base, c))) {
		free(c);
		return NULL;
	}
	c->bev = bev;
	/* on failure the TLS bufferevent is freed, and c with it
	 * (on_conn_closed) */
	s->conns++;
	if (!(bev = gw_reqlimit_wrap(&s->reqlim, bev)))
		return NULL;
	s->conns--;
	c->deadline = evtimer_new(base, on_deadline, c);
	arm_deadline(c);
	s->conns++;
	update_accepting(s);
	return bev;
}

/* ------------------------------------------------------------------ */
/* Configuration, lifecycle                                            */

static void server_free(struct gw_server *s)
{
	if (!s)
		return;
	workers_stop(s); /* its event goes before the base */
	if (s->ev_term)
		event_free(s->ev_term);
	if (s->ev_int)
		event_free(s->ev_int);
	if (s->ev_hup)
		event_free(s->ev_hup);
	if (s->ev_flush)
		event_free(s->ev_flush);
	gw_recv_batch_clear(&s->rcv);
	if (s->ev_drain)
		event_free(s->ev_drain);
	/* evhttp_free frees the listener before the connections, whose
	 * closing must not try to enable it again */
	s->listener = NULL;
	s->draining = 1;
	if (s->http)
		evhttp_free(s->http); /* frees the connections */
	if (s->base)
		event_base_free(s->base);
	gw_tls_free(s->tls);
	gw_receiver_release(&s->rcv);
	free(s->listen);
	free(s);
}

/* The server of the configuration at conf_path: the receiver's state
 * (flow/receive_state.c) and the transport's, in the order of the
 * configuration's checks. */
static gw_rc server_load(const char *conf_path, int check_only,
			 struct gw_server **out, struct gw_err *err)
{
	struct gw_server *s = gw_calloc(1, sizeof(*s));
	const struct gw_config *cfg;
	const json_t *srv;
	char *trust = NULL, *cert = NULL, *key = NULL, *chain = NULL,
	     *pass = NULL;
	gw_rc rc = GW_OK;

	*out = NULL;
	if (!s)
		return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
	rc = gw_receiver_init(&s->rcv, conf_path, check_only, err);
	/* the receive pipeline answers through the transport */
	s->rcv.io.reply = reply;
	s->rcv.io.problem = problem;
	s->rcv.io.flush_soon = flush_soon;
	s->rcv.io.rearm = rearm;
	s->rcv.io.arg = s;
	s->rcv.http = gw_client_transport();
	if (rc)
		goto out;
	cfg = s->rcv.cfg;
	if (!(srv = gw_config_get(cfg, "/server"))) {
		rc = gw_err_set(err, GW_ERR_CONFIG,
				"%s: no server: section (listen, port, tls, "
				"limits; see conf/ministry.yaml)",
				conf_path);
		goto out;
	}
	if (!gw_config_get(cfg, "/trust/dir")) {
		rc = gw_err_set(err, GW_ERR_CONFIG,
				"%s: serve needs trust: dir (the anchors "
				"client certificates and signatures are "
				"checked against)",
				conf_path);
		goto out;
	}
	if ((rc = gw_server_limits_parse(srv, &s->lim, err)))
		goto out;
	s->listen =
		gw_strdup(gw_config_str(cfg, "/server/listen", "127.0.0.1"));
	s->port = (int)gw_config_int(cfg, "/server/port", 8443);
	s->plain = gw_config_bool(cfg, "/server/plain_http", 0);
	if (!s->listen) {
		rc = gw_err_set(err, GW_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (s->plain && !gw_server_is_loopback(s->listen)) {
		rc = gw_err_set(err, GW_ERR_CONFIG,
				"%s: /server/plain_http: plain http is only "
				"allowed on a loopback address, not '%s'",
				conf_path, s->listen);
		goto out;
	}
	if (!s->plain && !gw_config_get(cfg, "/server/tls")) {
		rc = gw_err_set(err, GW_ERR_CONFIG,
				"%s: /server/tls: cert and key are required "
				"(or plain_http: true on loopback)",
				conf_path);
		goto out;
	}
	if ((rc = gw_receiver_load(&s->rcv, err)))
		goto out;
	if (!s->plain) {
		trust = gw_config_path(cfg, "/trust/dir");
		cert = gw_config_path(cfg, "/server/tls/cert");
		key = gw_config_path(cfg, "/server/tls/key");
		chain = gw_config_get(cfg, "/server/tls/chain")
				? gw_config_path(cfg, "/server/tls/chain")
				: NULL;
		if (gw_config_get(cfg, "/server/tls/passphrase") &&
		    (rc = gw_config_secret(cfg, "/server/tls/passphrase", &pass,
					   err)))
			goto out;
		if ((rc = gw_tls_new(cert, chain, key, pass, trust,
				     on_tls_refused, s, &s->tls, err)))
			goto out;
		gw_tls_set_closed_cb(s->tls, on_conn_closed, s);
	}
	if ((rc = gw_receiver_open(&s->rcv, err)))
		goto out;
	*out = s;
	s = NULL;
out:
	if (pass) {
		memset(pass, 0, strlen(pass));
		free(pass);
	}
	free(trust);
	free(cert);
	free(key);
	free(chain);
	server_free(s);
	return rc;
}

static void on_hup(evutil_socket_t fd, short what, void *arg)
{
	struct gw_server *s = arg;

	gw_receiver_reload(&s->rcv);
}

static void on_drain_tick(evutil_socket_t fd, short what, void *arg)
{
	struct gw_server *s = arg;
	struct timeval tv = { 0, 100000 };

	if (s->conns <= 0 || gw_now_ms() >= s->drain_deadline) {
		if (s->conns > 0)
			gw_log(GW_LOG_WARN, "shutdown", NULL,
			       "%d connections still open at the deadline",
			       s->conns);
		event_base_loopexit(s->base, NULL);
		return;
	}
	evtimer_add(s->ev_drain, &tv);
}

static void on_term(evutil_socket_t fd, short what, void *arg)
{
	struct gw_server *s = arg;

	if (s->draining)
		return;
	s->draining = 1;
	gw_log(GW_LOG_INFO, "shutdown", NULL,
	       "signal %d: not accepting new connections, draining %d", (int)fd,
	       s->conns);
	if (s->bound) {
		evhttp_del_accept_socket(s->http, s->bound);
		s->bound = NULL;
		s->listener = NULL;
	}
	s->drain_deadline = gw_now_ms() + (int64_t)s->lim.timeout_s * 1000;
	if (!s->tls)
		s->conns = 0; /* plain http: connections are not counted */
	on_drain_tick(-1, 0, s);
}

gw_rc gw_server_run(const char *conf_path, int check_only, int deliver,
		    struct gw_err *err)
{
	struct gw_server *s = NULL;
	gw_rc rc;

	if ((rc = server_load(conf_path, check_only, &s, err)))
		goto out;
	if (check_only) {
		printf("%s: ok (%zu partners, %zu destinations, %zu routes, "
		       "%s on %s:%d)\n",
		       conf_path, s->rcv.partners.n, s->rcv.fw.ndests,
		       s->rcv.fw.nroutes,
		       s->plain ? "plain http" : "mutual TLS", s->listen,
		       s->port);
		goto out;
	}
	s->rcv.deliver = deliver;
	if (!(s->base = event_base_new()) || !(s->http = evhttp_new(s->base))) {
		rc = gw_err_set(err, GW_ERR_INTERNAL,
				"cannot set up the event loop");
		goto out;
	}
	/* the filter passes at most max_body bytes of a body; evhttp's own
	 * limit stays as a second line, with lingering close */
	s->reqlim.max_body = s->lim.max_body;
	s->reqlim.max_header = s->lim.max_header;
	evhttp_set_max_body_size(s->http, (ev_ssize_t)s->lim.max_body);
	evhttp_set_flags(s->http, EVHTTP_SERVER_LINGERING_CLOSE);
	evhttp_set_max_headers_size(s->http, (ev_ssize_t)s->lim.max_header);
	evhttp_set_timeout(s->http, s->lim.timeout_s);
	/* other methods reach on_request, which answers 405 with a problem */
	evhttp_set_allowed_methods(
		s->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
				 EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
				 EVHTTP_REQ_PATCH | EVHTTP_REQ_OPTIONS);
	evhttp_set_default_content_type(s->http, "application/problem+json");
	evhttp_set_bevcb(s->http, s->tls ? on_new_conn : on_new_plain_conn, s);
	evhttp_set_gencb(s->http, on_request, s);
	if (!(s->bound = evhttp_bind_socket_with_handle(
		      s->http, s->listen, (ev_uint16_t)s->port))) {
		rc = gw_err_set(err, GW_ERR_IO,
				"cannot listen on %s:%d: %s (port in use?)",
				s->listen, s->port, strerror(errno));
		goto out;
	}
	s->listener = evhttp_bound_socket_get_listener(s->bound);
	{
		/* answers leave in more than one write (headers, body;
		 * TLS records): with Nagle's algorithm the last waited for
		 * the client's delayed ACK, 40 ms on every request. Linux
		 * gives accepted sockets the listener's TCP_NODELAY. */
		int one = 1;

		if (setsockopt(evhttp_bound_socket_get_fd(s->bound),
			       IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)))
			gw_log(GW_LOG_WARN, "listening", NULL,
			       "cannot set TCP_NODELAY: %s", strerror(errno));
	}
	s->accepting = 1;
	s->ev_term = evsignal_new(s->base, SIGTERM, on_term, s);
	s->ev_int = evsignal_new(s->base, SIGINT, on_term, s);
	s->ev_hup = evsignal_new(s->base, SIGHUP, on_hup, s);
	s->ev_drain = evtimer_new(s->base, on_drain_tick, s);
	s->ev_flush = event_new(s->base, -1, 0, on_flush, s);
	if (!s->ev_term || !s->ev_int || !s->ev_hup || !s->ev_drain ||
	    !s->ev_flush) {
		rc = gw_err_set(err, GW_ERR_NOMEM, "out of memory");
		goto out;
	}
	evsignal_add(s->ev_term, NULL);
	evsignal_add(s->ev_int, NULL);
	evsignal_add(s->ev_hup, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* internal delivery: also what an earlier run stored but did not
	 * deliver */
	if ((rc = gw_inbound_start(&s->rcv, err)) ||
	    (rc = gw_inbound_deliver_start(&s->rcv, err)))
		goto out;
	if (s->rcv.nworkers > 0) {
		char *trust = gw_config_path(s->rcv.cfg, "/trust/dir");

		rc = trust ? gw_workers_new(&s->rcv.sign, s->rcv.nworkers,
					    trust, s->rcv.cfg, &s->rcv.pool,
					    err)
			   : gw_err_set(err, GW_ERR_NOMEM, "out of memory");
		free(trust);
		if (!rc && (!(s->ev_jobs = event_new(
				      s->base, gw_workers_fd(s->rcv.pool),
				      EV_READ | EV_PERSIST, on_jobs_done, s)) ||
			    event_add(s->ev_jobs, NULL)))
			rc = gw_err_set(err, GW_ERR_NOMEM, "out of memory");
		if (rc)
			goto out;
	}
	gw_log(GW_LOG_INFO, "listening", NULL,
	       "%s://%s:%d (%zu partners, %zu routes, drop folder '%s', "
	       "%d verification workers)",
	       s->plain ? "http" : "https", s->listen, s->port,
	       s->rcv.partners.n, s->rcv.fw.nroutes,
	       s->rcv.drop_dir ? s->rcv.drop_dir : "(off)",
	       gw_workers_count(s->rcv.pool));
	fprintf(stderr, "lienthong serve: listening on %s://%s:%d\n",
		s->plain ? "http" : "https", s->listen, s->port);
	event_base_dispatch(s->base);
	workers_stop(s);
	gw_inbound_stop(&s->rcv);
	gw_inbound_deliver_stop(&s->rcv);
	gw_log(GW_LOG_INFO, "shutdown", NULL, "stopped cleanly");
out:
	if (s) {
		gw_inbound_stop(&s->rcv);
		gw_inbound_deliver_stop(&s->rcv);
	}
	server_free(s);
	gw_sign_shutdown();
	return rc;
}
