/*
 * server.c - the inbound HTTPS server: libevent's evhttp over TLS
 * bufferevents (gateway/tls.c), one event loop thread doing all the HTTP
 * work, and (with `serve`) a second thread running the delivery engine of
 * deliver.c over its own outbox connection.
 *
 * POST /v1/messages runs the pipeline of docs/ARCHITECTURE.md in order:
 * identify the partner by its client certificate -> choose the format by
 * media type -> parse with limits -> verify the signature against the trust
 * store (and that the signer is the partner) -> validate -> check the
 * partner's access rights (sender, kind, receivers) -> deduplicate by
 * message id -> store durably in the inbox with the signed receipt ->
 * deliver internally (drop folder, onward routes) -> answer the receipt.
 * Every step that refuses answers an RFC 9457 problem and goes through
 * server_event(), the one place where server events are recorded.
 *
 * Connections are bounded three ways: a maximum count (the listener stops
 * accepting at the limit and resumes below it), a deadline per request
 * (headers and body must arrive within timeout_s, so a slow client cannot
 * hold a connection), and libevent's header and body size limits (a body
 * announced larger than the limit is refused with 413 before it is read).
 */
#define _GNU_SOURCE /* syncfs: one flush for a batch of drop files */
#include "net/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <errno.h>
#include <fcntl.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <libxml/tree.h>
#include <pthread.h>
#include <stdarg.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audit/audit.h"
#include "flow/runtime.h"
#include "flow/convert.h"
#include "flow/deliver.h"
#include "adapt/format.h"
#include "store/inbox.h"
#include "base/json.h"
#include "base/log.h"
#include "model/message.h"
#include "store/outbox.h"
#include "crypto/sign.h"
#include "store/sqlutil.h"
#include "net/tls.h"
#include "crypto/trust.h"
#include "model/validate.h"
#include "base/xml.h"

/* member of a routing envelope made from inbox columns (light_msg) */
#define LIGHT_MARK "\x01light"

/* ------------------------------------------------------------------ */
/* Partners                                                            */

static void strv_free(char **v)
{
	size_t i;

	for (i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

/* A NULL-terminated copy of the strings of a JSON array (may be NULL). */
static char **strv_from_json(const json_t *arr)
{
	size_t i, n = json_is_array(arr) ? json_array_size(arr) : 0;
	char **v = gw_calloc(n + 1, sizeof(*v));

	if (!v)
		return NULL;
	for (i = 0; i < n; i++) {
		const char *s = json_string_value(json_array_get(arr, i));

		if (!(v[i] = gw_strdup(s ? s : ""))) {
			strv_free(v);
			return NULL;
		}
	}
	return v;
}

static int strv_has(char *const *v, const char *s)
{
	for (; v && *v; v++)
		if (strcmp(*v, s) == 0)
			return 1;
	return 0;
}

void gw_partners_release(struct gw_partners *p)
{
	size_t i;

	for (i = 0; p && i < p->n; i++) {
		struct gw_partner *pt = &p->v[i];

		free(pt->name);
		free(pt->subject);
		free(pt->org_id);
		strv_free(pt->kinds);
		strv_free(pt->receivers);
		strv_free(pt->signers);
	}
	if (p) {
		free(p->v);
		p->v = NULL;
		p->n = 0;
	}
}

gw_rc gw_partners_load(const json_t *arr, struct gw_partners *p,
		       struct gw_err *err)
{
	size_t i, j, n = json_is_array(arr) ? json_array_size(arr) : 0;
	gw_rc rc = GW_OK;

	p->v = NULL;
	p->n = 0;
	if (!n)
		return GW_OK;
	if (!(p->v = gw_calloc(n, sizeof(*p->v))))
		return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
	for (i = 0; i < n; i++) {
		const json_t *o = json_array_get(arr, i);
		struct gw_partner *pt = &p->v[i];
		const char *name =
			json_string_value(json_object_get(o, "name"));
		const char *subj =
			json_string_value(json_object_get(o, "subject"));
		const char *fp =
			json_string_value(json_object_get(o, "sha256"));
		const char *org =
			json_string_value(json_object_get(o, "orgId"));

		p->n++;
		if (!name || !org || (!subj && !fp)) {
			rc = gw_err_set(
				err, GW_ERR_CONFIG,
				"/partners/%zu: name, orgId and subject "
				"or sha256 are required",
				i);
			goto out;
		}
		pt->name = gw_strdup(name);
		pt->org_id = gw_strdup(org);
		pt->subject = subj ? gw_strdup(subj) : NULL;
		pt->kinds = strv_from_json(json_object_get(o, "kinds"));
		pt->receivers = strv_from_json(json_object_get(o, "receivers"));
		pt->signers = strv_from_json(json_object_get(o, "signers"));
		pt->unsigned_wire = json_is_false(json_object_get(o, "signed"));
		if (!pt->name || !pt->org_id || (subj && !pt->subject) ||
		    !pt->kinds || !pt->receivers || !pt->signers) {
			rc = gw_err_set(err, GW_ERR_NOMEM, "out of memory");
			goto out;
		}
		if (fp && gw_tls_fingerprint_norm(fp, pt->sha256)) {
			rc = gw_err_set(err, GW_ERR_CONFIG,
					"/partners/%zu/sha256: '%s' is not a "
					"SHA-256 fingerprint (64 hex digits, "
					"colons allowed)",
					i, fp);
			goto out;
		}
		for (j = 0; j < i; j++) {
			const struct gw_partner *q = &p->v[j];
			const char *what = !strcmp(q->name, pt->name) ? "name"
					   : (q->subject && pt->subject &&
					      !strcmp(q->subject, pt->subject))
						   ? "subject"
					   : (pt->sha256[0] &&
					      !strcmp(q->sha256, pt->sha256))
						   ? "sha256"
						   : NULL;

			if (what) {
				rc = gw_err_set(err, GW_ERR_CONFIG,
						"/partners/%zu/%s: same as "
						"partner '%s' (each partner "
						"needs its own identity)",
						i, what, q->name);
				goto out;
			}
		}
	}
out:
	if (rc)
		gw_partners_release(p);
	return rc;
}

const struct gw_partner *gw_partners_match(const struct gw_partners *p,
					   const char *subject,
					   const char *sha256)
{
	size_t i;

	if (sha256 && *sha256)
		for (i = 0; i < p->n; i++)
			if (p->v[i].sha256[0] &&
			    strcmp(p->v[i].sha256, sha256) == 0)
				return &p->v[i];
	if (subject && *subject)
		for (i = 0; i < p->n; i++)
			if (p->v[i].subject &&
			    strcmp(p->v[i].subject, subject) == 0)
				return &p->v[i];
	return NULL;
}

int gw_partner_allows(const struct gw_partner *pt, const char *kind,
		      const char *sender_org, const json_t *receivers,
		      char *why, size_t whysize)
{
	size_t i;

	if (!sender_org || strcmp(sender_org, pt->org_id)) {
		snprintf(why, whysize,
			 "partner '%s' is organization '%s' but the message's "
			 "sender is '%s'",
			 pt->name, pt->org_id, sender_org ? sender_org : "");
		return 0;
	}
	if (!kind || !strv_has(pt->kinds, kind)) {
		snprintf(why, whysize,
			 "partner '%s' may not send '%s' messages (allowed "
			 "kinds are in its partners: entry)",
			 pt->name, kind ? kind : "");
		return 0;
	}
	if (strv_has(pt->receivers, "*"))
		return 1;
	for (i = 0; i < json_array_size(receivers); i++) {
		const char *org = json_string_value(
			json_object_get(json_array_get(receivers, i), "orgId"));

		if (!org || !strv_has(pt->receivers, org)) {
			snprintf(why, whysize,
				 "partner '%s' may not send to receiver '%s'",
				 pt->name, org ? org : "");
			return 0;
		}
	}
	return 1;
}

int gw_partner_signer_ok(const struct gw_partner *pt, const char *peer_subject,
			 const char *signer)
{
	if (!signer || !*signer)
		return 0;
	return (pt->subject && !strcmp(pt->subject, signer)) ||
	       (peer_subject && !strcmp(peer_subject, signer)) ||
	       strv_has(pt->signers, signer);
}

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
/* Formats                                                             */

#define MAX_FORMATS 16
static const struct gw_server_format *formats[MAX_FORMATS];
static size_t nformats;

gw_rc gw_server_format_register(const struct gw_server_format *f,
				struct gw_err *err)
{
	size_t i;

	for (i = 0; i < nformats; i++)
		if (!strcasecmp(formats[i]->media_type, f->media_type)) {
			formats[i] = f; /* a decoder replaces a placeholder */
			return GW_OK;
		}
	if (nformats == MAX_FORMATS)
		return gw_err_set(err, GW_ERR_USAGE,
				  "too many server formats (at most %d)",
				  MAX_FORMATS);
	formats[nformats++] = f;
	return GW_OK;
}

const struct gw_server_format *gw_server_format_find(const char *media_type)
{
	size_t i;

	for (i = 0; i < nformats; i++)
		if (!strcasecmp(formats[i]->media_type, media_type))
			return formats[i];
	return NULL;
}

/* Placeholders: known media types that answer 415 "no adapter loaded"
 * rather than "unknown" (SDMX generic data has no adapter). */
static const struct gw_server_format edxml_placeholder = {
	"application/edxml+xml", "edXML", NULL
};
static const struct gw_server_format sdmx_placeholder = {
	"application/vnd.sdmx.genericdata+xml", "SDMX", NULL
};

/* The converter of the running server (its schemas loaded once). The
 * decode callbacks take no context, and one process runs one server:
 * server_load sets it, server_free clears it. Used by the event loop
 * thread only (a converter caches wire schemas and is not thread-safe). */
static struct gw_format *wire_conv;

static gw_rc decode_wire(const char *name, const char *body, size_t len,
			 json_t **msg, struct gw_err *err)
{
	if (!wire_conv)
		return gw_err_set(err, GW_ERR_INTERNAL,
				  "no format converter loaded");
	return gw_format_from_wire(wire_conv, name, body, len, "body", msg,
				   NULL, err);
}

static gw_rc decode_edxml(const char *body, size_t len, json_t **msg,
			  struct gw_err *err)
{
	return decode_wire("edxml", body, len, msg, err);
}

static gw_rc decode_sdmx_ml(const char *body, size_t len, json_t **msg,
			    struct gw_err *err)
{
	return decode_wire("sdmx-ml", body, len, msg, err);
}

static gw_rc decode_packet(const char *body, size_t len, json_t **msg,
			   struct gw_err *err)
{
	return decode_wire("report-packet", body, len, msg, err);
}

/* The wire formats of gateway/format.h that POST /v1/messages accepts:
 * the XML ones (their signature is an enveloped XML-DSig over the wire
 * bytes). SDMX-JSON and the JSON report packet would need a JWS over the
 * wire form and are not accepted inbound. */
static const struct gw_server_format edxml_format = { "application/edxml+xml",
						      "edXML", decode_edxml };
static const struct gw_server_format sdmx_ml_format = {
	"application/vnd.sdmx.structurespecificdata+xml", "SDMX-ML",
	decode_sdmx_ml
};
static const struct gw_server_format packet_format = {
	"application/vnd.lienthong.report-packet+xml", "report packet",
	decode_packet
};

/* 1 when n is an XML-DSig Signature element (the placeholder
 * edXML:Signature of the national axis is not one). */
static int has_dsig_self(xmlNodePtr n)
{
	return n->type == XML_ELEMENT_NODE &&
	       !xmlStrcmp(n->name, BAD_CAST "Signature") && n->ns &&
	       !xmlStrcmp(n->ns->href,
			  BAD_CAST "http://www.w3.org/2000/09/xmldsig#");
}

/* 1 when the tree from n on holds an XML-DSig Signature element. The safe
 * parser bounds the depth. */
static int has_dsig(xmlNodePtr n)
{
	for (; n; n = n->next)
		if (has_dsig_self(n) ||
		    (n->type == XML_ELEMENT_NODE && has_dsig(n->children)))
			return 1;
	return 0;
}

/* ------------------------------------------------------------------ */
/* The server                                                          */

#define LAT_BUCKETS 12
static const double lat_le[LAT_BUCKETS] = { 0.001, 0.0025, 0.005, 0.01,
					    0.025, 0.05,   0.1,	  0.25,
					    0.5,   1,	   2.5,	  5 };

struct metrics {
	long by_status[600];
	long lat_count[LAT_BUCKETS + 1];
	double lat_sum;
	long lat_n;
	long sig_fail[16];
	long tls_refused;
	long accepted, replays;
};

struct gw_server {
	char *conf_path;
	struct gw_config *cfg;
	struct gw_partners partners;
	struct gw_forwarding fw;
	struct gw_validator *validator;
	struct gw_format *conv; /* wire formats in (decoders), edXML receipts */
	struct pool *pool;	/* verification workers, or NULL */
	int nworkers;
	struct gw_sign_verifier *verifier;
	struct gw_sign_key *key;
	enum gw_sign_alg xml_alg, jws_alg;
	struct gw_tls *tls;
	struct gw_inbox *inbox;
	struct gw_outbox *outbox;
	struct gw_audit *audit; /* NULL without an audit: section */
	char *drop_dir;
	char *outbox_path;
	char *inbox_path;
	char **webhooks; /* destinations every accepted message goes to */
	size_t nwebhooks;
	sqlite3 *tgt_db; /* the internal SQLite target, or NULL */
	sqlite3_stmt *tgt_ins;
	char *org_id, *org_name;
	char *listen;
	int port;
	int plain;
	struct gw_server_limits lim;

	struct event_base *base;
	struct evhttp *http;
	struct evhttp_bound_socket *bound;
	struct evconnlistener *listener;
	struct event *ev_term, *ev_int, *ev_hup, *ev_drain, *ev_flush;
	struct pending *batch; /* accepted, waiting for the group commit */
	size_t nbatch, batch_cap;
	int conns;
	int accepting;
	int draining;
	int64_t drain_deadline;

	/* the delivery thread */
	int deliver;
	pthread_t thread;
	int thread_running;
	volatile sig_atomic_t dstop;
	struct gw_forwarding dfw;

	int bg_nice; /* server.background_nice */

	/* the internal delivery thread; fw_lock guards fw (SIGHUP) */
	pthread_mutex_t lock, fw_lock;
	pthread_cond_t cond;
	pthread_t idl_thread;
	int idl_running, idl_wake, idl_stop;

	struct metrics m;
};

/* One accepted connection: its request deadline. */
struct conn {
	struct gw_server *s;
	struct bufferevent *bev;
	struct event *deadline;
};

/* One server event; strings borrowed, NULL when unknown. The fields are
 * those of an audit entry (gateway/audit.h). */
struct srv_event {
	const char *event; /* received, refused, validated, stored,
			      receipt-sent, delivered, forwarded */
	const char *msg_id;
	const char *partner;
	const char *msg_kind;
	const char *sender;
	const char *outcome; /* ok, refused, failed */
	const char *reason;  /* why (refused) or a detail */
	const char *digest;  /* hex SHA-256 of the bytes received */
	const char *signer;
	int status;	     /* HTTP status answered, 0 when none */
	const void *payload; /* the bytes received, archived with the entry */
	size_t plen;
};

static const char *nz(const char *s)
{
	return s && *s ? s : "-";
}

/*
 * Every server event goes through here, from the event loop and from the
 * internal delivery thread: received, refused (with the reason and
 * status), validated, stored, receipt-sent, delivered, forwarded. Each is
 * an entry of the audit log (direction "in"; gw_audit_note in background
 * mode is thread-safe and never blocks on the disk) when the
 * configuration has an audit: section, and a line of the structured log.
 */
static void server_event(struct gw_server *s, const struct srv_event *e)
{
	enum gw_log_level lvl =
		!strcmp(e->event, "refused") ? GW_LOG_WARN : GW_LOG_INFO;

	if (s->audit) {
		struct gw_buf rb;

		gw_buf_init(&rb);
		if (e->partner && *e->partner)
			gw_buf_addf(&rb, "partner %s", e->partner);
		if (e->status)
			gw_buf_addf(&rb, "%sHTTP %d", rb.len ? "; " : "",
				    e->status);
		if (e->reason && *e->reason)
			gw_buf_addf(&rb, "%s%s", rb.len ? ": " : "", e->reason);
		gw_audit_note(
			s->audit,
			&(struct gw_audit_entry){
				.msg_id = e->msg_id,
				.kind = e->event,
				.msg_kind = e->msg_kind,
				.sender = e->sender,
				.receiver = s->org_id,
				.direction = "in",
				.outcome = e->outcome ? e->outcome : "ok",
				.reason = rb.data,
				.digest = e->digest && *e->digest ? e->digest
								  : NULL,
				.signer = e->signer && *e->signer ? e->signer
								  : NULL },
			e->payload, e->plen);
		gw_buf_release(&rb);
	}
	gw_log(lvl, e->event, e->msg_id,
	       "partner=%s status=%d kind=%s sender=%s outcome=%s sha256=%s "
	       "signer=%s %s",
	       nz(e->partner), e->status, nz(e->msg_kind), nz(e->sender),
	       e->outcome ? e->outcome : "ok", nz(e->digest), nz(e->signer),
	       e->reason ? e->reason : "");
}

static void on_tls_refused(void *arg, const char *reason, const char *subject)
{
	struct gw_server *s = arg;
	char d[400];

	s->m.tls_refused++;
	snprintf(d, sizeof(d), "client certificate '%s' refused: %s",
		 subject && *subject ? subject : "?", reason);
	{
		struct srv_event e = { .event = "refused",
				       .outcome = "refused",
				       .reason = d };

		server_event(s, &e);
	}
}

/* Request context: what the reply needs. */
struct rq {
	struct gw_server *s;
	struct evhttp_request *req;
	struct timespec t0;
	int xml; /* problems as XML */
	char partner[64];
	char msg_id[80];
	/* what is known of the message so far, for the events */
	char kind[32];
	char sender[64];
	char sha[65];
	char signer[256];
};

/* An event about the request r. */
static void rq_event(const struct rq *r, const char *event, int status,
		     const char *outcome, const char *reason)
{
	struct srv_event e;

	memset(&e, 0, sizeof(e));
	e.event = event;
	e.msg_id = r->msg_id[0] ? r->msg_id : NULL;
	e.partner = r->partner;
	e.msg_kind = r->kind;
	e.sender = r->sender;
	e.digest = r->sha;
	e.signer = r->signer;
	e.status = status;
	e.outcome = outcome;
	e.reason = reason;
	server_event(r->s, &e);
}

static double since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) +
	       (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

static void observe(struct gw_server *s, struct rq *r, int status)
{
	double d = since(&r->t0);
	int i;

	if (status >= 100 && status < 600)
		s->m.by_status[status]++;
	for (i = 0; i < LAT_BUCKETS && d > lat_le[i]; i++)
		;
	s->m.lat_count[i]++;
	s->m.lat_sum += d;
	s->m.lat_n++;
}

static void reply(struct rq *r, int status, const char *reason,
		  const char *ctype, const char *body, size_t len)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(r->req);
	struct evbuffer *out = evbuffer_new();

	evhttp_add_header(h, "Content-Type", ctype);
	evhttp_add_header(h, "Cache-Control", "no-store");
	if (r->s->draining)
		evhttp_add_header(h, "Connection", "close");
	if (out && len)
		evbuffer_add(out, body, len);
	observe(r->s, r, status);
	evhttp_send_reply(r->req, status, reason, out);
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

/* Answer a problem and record the refusal. */
static void problem(struct rq *r, int status, const json_t *errors,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void problem(struct rq *r, int status, const json_t *errors,
		    const char *fmt, ...)
{
	char detail[1024];
	struct gw_buf b;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	gw_buf_init(&b);
	gw_problem_render(status, problem_type(status), status_reason(status),
			  detail, evhttp_request_get_uri(r->req), errors,
			  r->xml, &b);
	if (status >= 400 && strcmp(evhttp_request_get_uri(r->req), "/readyz"))
		rq_event(r, "refused", status, "refused", detail);
	reply(r, status, status_reason(status),
	      r->xml ? "application/problem+xml" : "application/problem+json",
	      b.data ? b.data : "", b.len);
	gw_buf_release(&b);
}

/* ------------------------------------------------------------------ */
/* Receipts                                                            */

static void uuid4(char out[37])
{
	unsigned char b[16];
	size_t got = 0;

	while (got < sizeof(b)) {
		ssize_t n = getrandom(b + got, sizeof(b) - got, 0);

		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			/* no entropy source at all: time and pid, still
			 * unique enough for a receipt id */
			struct timespec t;

			clock_gettime(CLOCK_REALTIME, &t);
			memcpy(b, &t, sizeof(t) < 16 ? sizeof(t) : 16);
			b[15] ^= (unsigned char)getpid();
			break;
		}
		got += (size_t)n;
	}
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, 37,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
		 "%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9],
		 b[10], b[11], b[12], b[13], b[14], b[15]);
}

static void now_rfc3339(char out[32])
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/*
 * The signed receipt for msg (borrowed, canonical JSON) received as bytes
 * whose hex SHA-256 is sha: a receipt message from this gateway to the
 * sender, JWS (flattened) for JSON, XML-DSig for XML. With wire
 * "edxml" the receipt is an edXML status message (StatusCode 03,
 * accepted) made by the format adapter, signed with XML-DSig. *out is new.
 */
static gw_rc make_receipt(struct gw_server *s, const json_t *msg,
			  const char *sha, int xml, const char *wire,
			  char **out, size_t *olen, const char **ctype,
			  struct gw_err *err)
{
	json_t *r = json_object(), *p = json_object(), *me = json_object();
	json_t *to = json_array(), *sender = json_object_get(msg, "sender");
	const char *id = json_string_value(json_object_get(msg, "id"));
	const char *cls =
		json_string_value(json_object_get(msg, "classification"));
	char rid[37], now[32];
	struct gw_buf b;
	xmlDocPtr doc = NULL;
	char *text = NULL;
	gw_rc rc = GW_OK;

	gw_buf_init(&b);
	if (!r || !p || !me || !to) {
		rc = gw_err_set(err, GW_ERR_NOMEM, "out of memory");
		goto out;
	}
	uuid4(rid);
	now_rfc3339(now);
	json_object_set_new(me, "orgId", json_string(s->org_id));
	json_object_set_new(me, "name", json_string(s->org_name));
	json_array_append_new(to, json_deep_copy(sender));
	json_object_set_new(p, "messageId", json_string(id));
	json_object_set_new(p, "sha256", json_string(sha));
	json_object_set_new(p, "outcome", json_string("accepted"));
	json_object_set_new(p, "time", json_string(now));
	json_object_set_new(r, "id", json_string(rid));
	json_object_set_new(r, "kind", json_string("receipt"));
	json_object_set_new(r, "schemaVersion",
			    json_string(GW_MSG_SCHEMA_VERSION));
	json_object_set(r, "sender", me);
	json_object_set(r, "receivers", to);
	json_object_set_new(r, "created", json_string(now));
	json_object_set_new(r, "correlationId", json_string(id));
	json_object_set_new(
		r, "classification",
		json_string(cls && strcmp(cls, "secret") ? cls : "internal"));
	json_object_set(r, "payload", p);
	if (xml) {
		xmlChar *mem = NULL;
		int size = 0;

		if (wire && !strcmp(wire, "edxml")) {
			struct gw_buf w;

			gw_buf_init(&w);
			rc = gw_format_to_wire(s->conv, "edxml", r, &w, NULL,
					       NULL, err);
			if (!rc)
				rc = gw_xml_parse(w.data, w.len, "receipt",
						  &doc, err);
			gw_buf_release(&w);
			*ctype = "application/edxml+xml";
		} else {
			rc = gw_msg_json_to_xml(r, &doc, err);
			*ctype = "application/xml";
		}
		if (rc || (rc = gw_sign_xml(s->key, s->xml_alg, doc, err)))
			goto out;
		xmlDocDumpMemoryEnc(doc, &mem, &size, "UTF-8");
		if (!mem) {
			rc = gw_err_set(err, GW_ERR_NOMEM, "out of memory");
			goto out;
		}
		rc = gw_buf_add(&b, mem, (size_t)size);
		xmlFree(mem);
	} else {
		if (!(text = json_dumps(r, JSON_COMPACT))) {
			rc = gw_err_set(err, GW_ERR_NOMEM, "out of memory");
			goto out;
		}
		if (!(rc = gw_sign_json(s->key, s->jws_alg, text, strlen(text),
					GW_SIGN_FLATTENED, &b, err)))
			rc = gw_buf_adds(&b, "\n");
		*ctype = "application/jose+json";
	}
	if (!rc)
		*out = gw_buf_detach(&b, olen);
out:
	free(text);
	xmlFreeDoc(doc);
	gw_buf_release(&b);
	json_decref(r);
	json_decref(p);
	json_decref(me);
	json_decref(to);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Internal delivery                                                   */

static int id_is_safe(const char *id)
{
	size_t n = 0;

	for (; id[n]; n++)
		if (!((id[n] >= '0' && id[n] <= '9') ||
		      (id[n] >= 'a' && id[n] <= 'f') || id[n] == '-'))
			return 0;
	return n > 0 && n < 64;
}

/* The internal SQLite target: one row per message, inserted once. */
static const char sqlite_target_schema[] =
	"PRAGMA journal_mode=WAL;"
	"PRAGMA synchronous=FULL;"
	"CREATE TABLE IF NOT EXISTS inbound_messages ("
	" id TEXT PRIMARY KEY, kind TEXT, sender TEXT,"
	" content_type TEXT NOT NULL, body BLOB NOT NULL,"
	" sha256 TEXT NOT NULL, received_ms INTEGER NOT NULL);";

static gw_rc sqlite_target_put(struct gw_server *s, const char *id,
			       const json_t *msg, const char *ctype,
			       const char *body, size_t len, struct gw_err *err)
{
	char sha[65];
	int r;

	gw_outbox_sha256_hex(body, len, sha);
	sqlite3_reset(s->tgt_ins);
	sqlite3_bind_text(s->tgt_ins, 1, id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s->tgt_ins, 2,
			  json_string_value(json_object_get(msg, "kind")), -1,
			  SQLITE_TRANSIENT);
	sqlite3_bind_text(s->tgt_ins, 3,
			  json_string_value(json_object_get(
				  json_object_get(msg, "sender"), "orgId")),
			  -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s->tgt_ins, 4, ctype, -1, SQLITE_TRANSIENT);
	sqlite3_bind_blob64(s->tgt_ins, 5, body, len, SQLITE_TRANSIENT);
	sqlite3_bind_text(s->tgt_ins, 6, sha, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s->tgt_ins, 7, gw_now_ms());
	r = sqlite3_step(s->tgt_ins);
	sqlite3_reset(s->tgt_ins);
	if (r != SQLITE_DONE)
		return gw_err_set(err, GW_ERR_IO,
				  "server.sqlite: cannot insert message '%s': "
				  "%s",
				  id, sqlite3_errmsg(s->tgt_db));
	return GW_OK;
}

/* dests (may be NULL) plus the webhooks not already in it: a new
 * NULL-terminated array of borrowed names. */
static const char **with_webhooks(struct gw_server *s, const char **dests)
{
	size_t n = 0, i, k;
	const char **v;

	for (; dests && dests[n]; n++)
		;
	if (!(v = gw_calloc(n + s->nwebhooks + 1, sizeof(*v))))
		return NULL;
	for (i = 0; i < n; i++)
		v[i] = dests[i];
	for (k = 0; k < s->nwebhooks; k++) {
		for (i = 0; i < n && strcmp(v[i], s->webhooks[k]); i++)
			;
		if (i == n)
			v[n++] = s->webhooks[k];
	}
	return v;
}

/* ------------------------------------------------------------------ */
/* Internal delivery (its own thread)                                  */

#define IDL_BATCH 256

/* 1 when a stored content type is a wire format (edXML, SDMX-ML, ...)
 * rather than canonical XML or JSON. */
static int is_wire_type(const char *ctype)
{
	return strcmp(ctype, "application/xml") &&
	       strcmp(ctype, "application/jose+json");
}

/* The drop file k (0: the bytes received; 1: for a wire format, the
 * canonical JSON it was decoded to) of pending message p: its final name
 * into fin, data and length; 1, or 0 when there is no such file, or -1
 * when out of memory. */
static int drop_file(const struct gw_inbox_pending *p, int k,
		     struct gw_buf *fin, const char **data, size_t *len)
{
	int wire = is_wire_type(p->content_type);

	fin->len = 0;
	if (k == 1 && (!wire || !p->canonical[0]))
		return 0;
	if (k == 1) {
		*data = p->canonical;
		*len = strlen(p->canonical);
		return gw_buf_addf(fin, "%s.json", p->id) ? -1 : 1;
	}
	*data = p->body;
	*len = p->len;
	return gw_buf_addf(fin, "%s.%s", p->id,
			   !strcmp(p->content_type, "application/edxml+xml")
				   ? "edxml"
			   : strstr(p->content_type, "xml") ? "xml"
							    : "jws.json")
		       ? -1
		       : 1;
}

/*
 * Write the exact bytes of p[0..n) into the drop folder (ID.xml,
 * ID.jws.json, ID.edxml), and for a wire format the canonical message as
 * well (ID.json, renamed after the wire bytes): every temporary file
 * written, one syncfs for all of them, every rename, one fsync of the
 * folder (the atomic rename of gw_write_file_atomic, with two flushes per
 * batch instead of two per message).
 */
static gw_rc drop_batch(struct gw_server *s, struct gw_inbox_pending *p,
			size_t n, struct gw_err *err)
{
	struct gw_buf tmp, fin;
	gw_rc rc = GW_OK;
	size_t i;
	int k, dfd = open(s->drop_dir, O_RDONLY | O_DIRECTORY);

	gw_buf_init(&tmp);
	gw_buf_init(&fin);
	if (dfd < 0)
		return gw_err_set(err, GW_ERR_IO,
				  "drop folder '%s': cannot open: %s",
				  s->drop_dir, strerror(errno));
	for (i = 0; i < n && !rc; i++)
		for (k = 0; k < 2 && !rc; k++) {
			const char *data;
			size_t len, off = 0;
			int fd;
			int have = drop_file(&p[i], k, &fin, &data, &len);

			if (!have)
				break;
			tmp.len = 0;
			if (have < 0 ||
			    gw_buf_addf(&tmp, ".%s.tmp", fin.data)) {
				rc = gw_err_set(err, GW_ERR_NOMEM,
						"out of memory");
				break;
			}
			fd = openat(dfd, tmp.data, O_WRONLY | O_CREAT | O_TRUNC,
				    0640);
			if (fd < 0) {
				rc = gw_err_set(err, GW_ERR_IO,
						"drop folder '%s': cannot "
						"write '%s': %s",
						s->drop_dir, tmp.data,
						strerror(errno));
				break;
			}
			while (off < len) {
				ssize_t w = write(fd, data + off, len - off);

				if (w < 0 && errno == EINTR)
					continue;
				if (w <= 0) {
					rc = gw_err_set(err, GW_ERR_IO,
							"drop folder '%s': "
							"cannot write '%s': "
							"%s",
							s->drop_dir, tmp.data,
							strerror(errno));
					break;
				}
				off += (size_t)w;
			}
			close(fd);
		}
	if (!rc && syncfs(dfd) < 0)
		rc = gw_err_set(err, GW_ERR_IO, "drop folder '%s': sync: %s",
				s->drop_dir, strerror(errno));
	for (i = 0; i < n && !rc; i++)
		for (k = 0; k < 2 && !rc; k++) {
			const char *data;
			size_t len;
			int have = drop_file(&p[i], k, &fin, &data, &len);

			if (!have)
				break;
			tmp.len = 0;
			if (have < 0 ||
			    gw_buf_addf(&tmp, ".%s.tmp", fin.data)) {
				rc = gw_err_set(err, GW_ERR_NOMEM,
						"out of memory");
				break;
			}
			if (renameat(dfd, tmp.data, dfd, fin.data) < 0)
				rc = gw_err_set(err, GW_ERR_IO,
						"drop folder '%s': cannot "
						"rename '%s': %s",
						s->drop_dir, tmp.data,
						strerror(errno));
		}
	if (!rc && fsync(dfd) < 0)
		rc = gw_err_set(err, GW_ERR_IO, "drop folder '%s': fsync: %s",
				s->drop_dir, strerror(errno));
	close(dfd);
	gw_buf_release(&tmp);
	gw_buf_release(&fin);
	return rc;
}

/* Rows of p[0..n) into the internal SQLite database, one transaction. */
static gw_rc sqlite_batch(struct gw_server *s, struct gw_inbox_pending *p,
			  json_t **msgs, size_t n, struct gw_err *err)
{
	gw_rc rc = GW_OK;
	size_t i;

	if (sqlite3_exec(s->tgt_db, "BEGIN IMMEDIATE", NULL, NULL, NULL))
		return gw_err_set(err, GW_ERR_IO, "server.sqlite: %s",
				  sqlite3_errmsg(s->tgt_db));
	for (i = 0; i < n && !rc; i++)
		rc = sqlite_target_put(s, p[i].id, msgs[i], p[i].content_type,
				       p[i].body, p[i].len, err);
	if (!rc && sqlite3_exec(s->tgt_db, "COMMIT", NULL, NULL, NULL))
		rc = gw_err_set(err, GW_ERR_IO, "server.sqlite: commit: %s",
				sqlite3_errmsg(s->tgt_db));
	if (rc)
		sqlite3_exec(s->tgt_db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

/* The routing envelope of a pending message from its inbox columns:
 * {"kind": ..., "sender": {"orgId": ...}}, a marker member telling it
 * from the full message. NULL when out of memory. */
static json_t *light_msg(const struct gw_inbox_pending *p)
{
	json_t *m = json_object(), *snd = json_object();

	if (!m || !snd ||
	    (*p->sender &&
	     json_object_set_new(snd, "orgId", json_string(p->sender))) ||
	    json_object_set_new(m, "sender", snd) ||
	    (*p->kind &&
	     json_object_set_new(m, "kind", json_string(p->kind))) ||
	    json_object_set_new(m, LIGHT_MARK, json_true())) {
		json_decref(m);
		return NULL;
	}
	return m;
}

/* Whether routing by fw needs more of a message than its kind and
 * sender: a route on receivers or classification, or a destination
 * that converts it (format:). */
static int fw_needs_full(const struct gw_forwarding *fw)
{
	size_t i;

	for (i = 0; i < fw->nroutes; i++)
		if (fw->routes[i].receivers || fw->routes[i].classifications)
			return 1;
	for (i = 0; i < fw->ndests; i++)
		if (fw->dests[i].format)
			return 1;
	return 0;
}

/* The webhooks and routes of p[0..n) into the outbox, one transaction;
 * a message the outbox refuses (its id used there for other bytes) is
 * logged and left out rather than holding up the others. Destinations
 * with a format: get the message converted and signed by the gateway
 * (gw_split_formats, one variant per format, with vs->fmt the internal
 * delivery thread's converter); a message that cannot be converted for
 * one is logged and audited (forward-refused) and still goes to the
 * others. */
static gw_rc outbox_batch(struct gw_server *s, struct gw_outbox *ob,
			  struct gw_inbox_pending *p, json_t **msgs, size_t n,
			  struct gw_variants *vs, struct gw_err *err)
{
	struct gw_out_msg *om = gw_calloc(n + 1, sizeof(*om)), *all = NULL;
	const char ***dl = gw_calloc(n + 1, sizeof(*dl));
	int *dup = NULL;
	size_t i, k = 0, nall = 0;
	gw_rc rc = GW_OK;

	if (!om || !dl) {
		rc = gw_err_set(err, GW_ERR_NOMEM, "out of memory");
		goto out;
	}
	pthread_mutex_lock(&s->fw_lock); /* s->fw changes on SIGHUP */
	if ((s->fw.nroutes || s->nwebhooks) && fw_needs_full(&s->fw))
		for (i = 0; i < n; i++) {
			json_t *full = NULL;
			struct gw_err e1;

			if (!msgs[i] || !json_object_get(msgs[i], LIGHT_MARK))
				continue;
			if (gw_json_parse(p[i].canonical,
					  strlen(p[i].canonical), "inbox",
					  &full, &e1)) {
				/* stored after validation: cannot happen
				 * but for a damaged store; kept light */
				gw_log(GW_LOG_ERROR, "forward-refused", p[i].id,
				       "%s", e1.msg);
				continue;
			}
			json_decref(msgs[i]);
			msgs[i] = full;
		}
	for (i = 0; i < n; i++) {
		const char **routed =
			msgs[i] && s->fw.nroutes
				? gw_forwarding_route(&s->fw, msgs[i])
				: NULL;

		dl[i] = with_webhooks(s, routed);
		free((void *)routed);
		if (!dl[i]) {
			rc = gw_err_set(err, GW_ERR_NOMEM, "out of memory");
			break;
		}
		if (!dl[i][0])
			continue;
		om[k].id = p[i].id;
		om[k].kind =
			json_string_value(json_object_get(msgs[i], "kind"));
		om[k].sender = json_string_value(json_object_get(
			json_object_get(msgs[i], "sender"), "orgId"));
		om[k].content_type = p[i].content_type;
		om[k].body = p[i].body;
		om[k].len = p[i].len;
		om[k].dests = dl[i];
		if (msgs[i]) {
			struct gw_err e1;

			gw_err_clear(&e1);
			if (gw_split_formats(&s->fw, s->key, s->xml_alg,
					     s->jws_alg, &om[k], msgs[i], vs,
					     &e1)) {
				struct srv_event e = {
					.event = "forward-refused",
					.msg_id = om[k].id,
					.msg_kind = om[k].kind,
					.sender = om[k].sender,
					.reason = e1.msg
				};

				if (e1.rc == GW_ERR_NOMEM) {
					*err = e1;
					rc = e1.rc;
					break;
				}
				/* the variants made before the failure stay;
				 * the destinations without a format still
				 * get the message (dl[i] holds them), those
				 * with one do not get the canonical bytes */
				gw_log(GW_LOG_ERROR, "forward-refused",
				       om[k].id, "%s", e1.msg);
				server_event(s, &e);
			}
		}
		if (dl[i][0])
			k++;
	}
	pthread_mutex_unlock(&s->fw_lock);
	if (rc)
		goto out;
	if (!(all = gw_calloc(k + vs->n + 1, sizeof(*all))) ||
	    !(dup = gw_calloc(k + vs->n + 1, sizeof(*dup)))) {
		rc = gw_err_set(err, GW_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < k; i++) /* each with a destination left */
		all[nall++] = om[i];
	for (i = 0; i < vs->n; i++)
		all[nall++] = vs->v[i];
	if (!nall)
		goto out;
	rc = gw_outbox_enqueue(ob, all, nall, dup, err);
	if (rc == GW_ERR_REFUSED) {
		rc = GW_OK;
		for (i = 0; i < nall && !rc; i++) {
			struct gw_err e1;

			gw_err_clear(&e1);
			rc = gw_outbox_enqueue(ob, &all[i], 1, &dup[i], &e1);
			if (rc == GW_ERR_REFUSED) {
				gw_log(GW_LOG_ERROR, "forward-refused",
				       all[i].id, "%s", e1.msg);
				rc = GW_OK;
			} else if (rc) {
				*err = e1;
			}
		}
	}
	for (i = 0; !rc && i < nall; i++) {
		struct srv_event e = {
			.event = "forwarded",
			.msg_id = all[i].id,
			.msg_kind = all[i].kind,
			.sender = all[i].sender,
			.reason = i < nall - vs->n
					  ? "queued in the outbox for the "
					    "webhooks and routes"
					  : "converted, signed and queued in "
					    "the outbox for the routes"
		};

		server_event(s, &e);
	}
out:
	for (i = 0; dl && i < n; i++)
		free((void *)dl[i]);
	free(dl);
	free(om);
	free(all);
	free(dup);
	return rc;
}

/* One batch of internal deliveries; returns how many were delivered, or
 * -1 on a failure (logged; they stay pending and are tried again). */
static long idl_batch(struct gw_server *s, struct gw_inbox *ib,
		      struct gw_outbox *ob, struct gw_format **fmt)
{
	struct gw_variants vs = { .fmt = *fmt, .keep_fmt = 1 };
	struct gw_inbox_pending *p = NULL;
	size_t big = 0;
	json_t **msgs = NULL;
	const char **ids = NULL;
	struct gw_err err;
	size_t n = 0, i;
	long done = -1;

	gw_err_clear(&err);
	if (gw_inbox_pending(ib, IDL_BATCH, &p, &n, &err))
		goto out;
	if (!n) {
		done = 0;
		goto out;
	}
	msgs = gw_calloc(n, sizeof(*msgs));
	ids = gw_calloc(n, sizeof(*ids));
	if (!msgs || !ids) {
		gw_err_set(&err, GW_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		ids[i] = p[i].id;
		/* kind and sender from the inbox columns: enough for the
		 * drop folder, the sqlite rows and most routes; outbox_batch
		 * parses the canonical text when the routes need more */
		if (p[i].canonical[0] && !(msgs[i] = light_msg(&p[i]))) {
			gw_err_set(&err, GW_ERR_NOMEM, "out of memory");
			goto out;
		}
		if (!id_is_safe(p[i].id)) {
			gw_err_set(&err, GW_ERR_INTERNAL,
				   "message id '%s' cannot name a file",
				   p[i].id);
			goto out;
		}
	}
	if ((s->drop_dir && drop_batch(s, p, n, &err)) ||
	    (s->tgt_db && sqlite_batch(s, p, msgs, n, &err)) ||
	    outbox_batch(s, ob, p, msgs, n, &vs, &err) ||
	    gw_inbox_done(ib, ids, n, &err))
		goto out;
	for (i = 0; i < n; i++) {
		struct srv_event e = {
			.event = "delivered",
			.msg_id = p[i].id,
			.msg_kind = json_string_value(
				json_object_get(msgs[i], "kind")),
			.sender = json_string_value(json_object_get(
				json_object_get(msgs[i], "sender"), "orgId")),
			.reason = !s->drop_dir ? (s->tgt_db ? "sqlite" : "none")
				  : s->tgt_db  ? "drop folder, sqlite"
					       : "drop folder"
		};

		server_event(s, &e);
	}
	done = (long)n;
out:
	if (done < 0)
		gw_log(GW_LOG_WARN, "delivery-pending", NULL,
		       "internal delivery will be tried again: %s", err.msg);
	*fmt = vs.fmt;
	gw_variants_release(&vs);
	for (i = 0; msgs && i < n; i++)
		json_decref(msgs[i]);
	for (i = 0; p && i < n; i++)
		big = p[i].len > big ? p[i].len : big;
	free(msgs);
	free(ids);
	gw_inbox_pending_free(p, n);
	gw_trim_after(big);
	return done;
}

/* For the internal delivery and delivery threads: server.background_nice
 * (default 10) lowers their CPU priority, so that on a busy machine the
 * event loop and the verification workers, which answer the partners,
 * run first; what they accepted waits durably in the inbox and outbox.
 * (Their write transactions on the inbox, which the loop also writes, are
 * short: a delete of delivered ids.) */
static void background(struct gw_server *s)
{
	if (s->bg_nice && gw_thread_nice(s->bg_nice) < 0)
		gw_log(GW_LOG_WARN, "priority", NULL,
		       "cannot lower the priority of a background thread: %s",
		       strerror(errno));
}

/* The internal delivery thread: woken after each committed batch (and
 * every second, which also retries what failed), it delivers what the
 * inbox holds as pending, with its own store connections. */
static void *idl_main(void *arg)
{
	struct gw_server *s = arg;
	struct gw_inbox *ib = NULL;
	struct gw_outbox *ob = NULL;
	struct gw_format *fmt = NULL; /* this thread's converter (format:) */
	struct gw_err err;
	long got;

	gw_err_clear(&err);
	background(s);
	if (gw_inbox_open(s->inbox_path, &ib, &err) ||
	    gw_outbox_open_sqlite(s->outbox_path, &ob, &err)) {
		gw_log(GW_LOG_ERROR, "delivery-pending", NULL,
		       "internal delivery is not running: %s", err.msg);
		goto out;
	}
	for (;;) {
		int stop;

		do
			got = idl_batch(s, ib, ob, &fmt);
		while (got == IDL_BATCH);
		pthread_mutex_lock(&s->lock);
		if (!s->idl_wake && !s->idl_stop) {
			struct timespec ts;

			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += 1;
			pthread_cond_timedwait(&s->cond, &s->lock, &ts);
		}
		s->idl_wake = 0;
		stop = s->idl_stop;
		pthread_mutex_unlock(&s->lock);
		if (stop) {
			idl_batch(s, ib, ob, &fmt); /* the last flush's */
			break;
		}
	}
out:
	gw_format_free(fmt);
	gw_inbox_close(ib);
	gw_outbox_close(ob);
	return NULL;
}

static void idl_wake(struct gw_server *s)
{
	pthread_mutex_lock(&s->lock);
	s->idl_wake = 1;
	pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

static void idl_stop(struct gw_server *s)
{
	if (!s->idl_running)
		return;
	pthread_mutex_lock(&s->lock);
	s->idl_stop = 1;
	pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->lock);
	pthread_join(s->idl_thread, NULL);
	s->idl_running = 0;
}

/* ------------------------------------------------------------------ */
/* Group commit                                                        */

/* One accepted message waiting for its batch to be committed. */
struct pending {
	struct rq r;
	long replay_of; /* index of the same message earlier in the batch */
	char *id, *sha, *partner, *kind, *sender, *ctype, *body, *receipt,
		*rtype, *canonical;
	size_t len, rlen;
};

static void pending_release(struct pending *p)
{
	free(p->id);
	free(p->sha);
	free(p->partner);
	free(p->kind);
	free(p->sender);
	free(p->ctype);
	free(p->body);
	free(p->receipt);
	free(p->rtype);
	free(p->canonical);
}

static char *dupn(const char *s)
{
	return gw_strdup(s ? s : "");
}

/* Add a message to the batch (copies everything but receipt and
 * canonical, which it takes on success: a large message's canonical text
 * is not copied again) and make sure a flush is coming. */
static gw_rc batch_add(struct gw_server *s, const struct rq *r, long replay_of,
		       const char *id, const char *sha, const char *partner,
		       const char *kind, const char *sender, const char *ctype,
		       const char *body, size_t len, char *receipt, size_t rlen,
		       const char *rtype, char *canonical)
{
	struct pending *p;

	if (s->nbatch == s->batch_cap) {
		size_t cap = s->batch_cap ? s->batch_cap * 2 : 64;
		struct pending *nb = gw_realloc(s->batch, cap * sizeof(*nb));

		if (!nb)
			return GW_ERR_NOMEM;
		s->batch = nb;
		s->batch_cap = cap;
	}
	p = &s->batch[s->nbatch];
	memset(p, 0, sizeof(*p));
	p->r = *r;
	p->replay_of = replay_of;
	p->id = dupn(id);
	p->sha = dupn(sha);
	p->partner = dupn(partner);
	p->kind = dupn(kind);
	p->sender = dupn(sender);
	p->ctype = dupn(ctype);
	p->rtype = dupn(replay_of < 0 ? rtype : "");
	p->body = gw_malloc(len + 1);
	if (!p->id || !p->sha || !p->partner || !p->kind || !p->sender ||
	    !p->ctype || !p->rtype || !p->body) {
		pending_release(p);
		return GW_ERR_NOMEM;
	}
	p->canonical = canonical;
	memcpy(p->body, body, len);
	p->body[len] = '\0';
	p->len = len;
	p->receipt = receipt;
	p->rlen = rlen;
	if (s->nbatch++ == 0)
		event_active(s->ev_flush, EV_TIMEOUT, 1);
	return GW_OK;
}

static void arm_deadline_of(struct evhttp_request *req);

/* Commit the batch in one transaction, then answer every request in it:
 * the receipt, or 503 when the store could not be written. */
static void on_flush(evutil_socket_t fd, short what, void *arg)
{
	struct gw_server *s = arg;
	struct gw_inbox_msg *m = gw_calloc(s->nbatch + 1, sizeof(*m));
	struct timespec t0;
	struct gw_err err;
	size_t i, k = 0, big = 0;
	gw_rc rc;

	gw_err_clear(&err);
	for (i = 0; m && i < s->nbatch; i++) {
		struct pending *p = &s->batch[i];

		if (p->replay_of >= 0)
			continue;
		m[k].id = p->id;
		m[k].sha256 = p->sha;
		m[k].partner = p->partner;
		m[k].kind = p->kind;
		m[k].sender = p->sender;
		m[k].content_type = p->ctype;
		m[k].body = p->body;
		m[k].len = p->len;
		m[k].receipt = p->receipt;
		m[k].receipt_len = p->rlen;
		m[k].receipt_type = p->rtype;
		m[k].canonical = p->canonical;
		k++;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = m ? gw_inbox_put(s->inbox, m, k, &err)
	       : gw_err_set(&err, GW_ERR_NOMEM, "out of memory");
	gw_log(GW_LOG_DEBUG, "commit", NULL, "%zu messages in %.1f ms", k,
	       since(&t0) * 1000);
	for (i = 0; i < s->nbatch; i++) {
		struct pending *p = &s->batch[i];
		const struct pending *o =
			p->replay_of >= 0 ? &s->batch[p->replay_of] : p;

		if (rc) {
			problem(&p->r, rc == GW_ERR_IO ? 503 : 500, NULL,
				"the message was not stored: %s; send it "
				"again later",
				err.msg);
		} else {
			if (p->replay_of >= 0) {
				s->m.replays++;
				evhttp_add_header(
					evhttp_request_get_output_headers(
						p->r.req),
					"Lienthong-Replay", "true");
			} else {
				s->m.accepted++;
				struct srv_event e;

				memset(&e, 0, sizeof(e));
				e.event = "stored";
				e.msg_id = p->id;
				e.partner = p->partner;
				e.msg_kind = p->kind;
				e.sender = p->sender;
				e.digest = p->sha;
				e.signer = p->r.signer;
				e.outcome = "ok";
				e.payload = p->body;
				e.plen = p->len;
				server_event(s, &e);
			}
			rq_event(&p->r, "receipt-sent", 200,
				 p->replay_of >= 0 ? "duplicate" : "ok",
				 p->replay_of >= 0
					 ? "replay: the original receipt"
					 : NULL);
			reply(&p->r, 200, "OK", o->rtype, o->receipt, o->rlen);
		}
		arm_deadline_of(p->r.req);
	}
	for (i = 0; i < s->nbatch; i++) {
		big = s->batch[i].len > big ? s->batch[i].len : big;
		pending_release(&s->batch[i]);
	}
	s->nbatch = 0;
	free(m);
	gw_trim_after(big);
	if (!rc)
		idl_wake(s);
}

/* ------------------------------------------------------------------ */
/* POST /v1/messages                                                   */

struct collect {
	json_t *errors;
};

static void collect_line(void *arg, gw_rc rc, const char *line)
{
	struct collect *c = arg;

	if (c->errors && json_array_size(c->errors) < 50)
		json_array_append_new(c->errors, json_string(line));
}

/* The media type of a Content-Type header, lowercased, without
 * parameters. */
static void media_type(const char *h, char *out, size_t size)
{
	size_t n = 0;

	for (; h && *h == ' '; h++)
		;
	for (; h && *h && *h != ';' && *h != ' ' && n + 1 < size; h++)
		out[n++] =
			(char)((*h >= 'A' && *h <= 'Z') ? *h - 'A' + 'a' : *h);
	out[n] = '\0';
}

/*
 * What the CPU-heavy steps of a POST found: parse with limits, signature,
 * what was signed as a canonical message, validation. Filled by
 * check_signed (in the event loop, or in a worker thread with the
 * worker's own verifier and validator), read by post_finish in the loop.
 */
struct check {
	int status;	/* parse or signature refused: the HTTP status */
	int vstatus;	/* validation refused (checked after the signer) */
	int sig_reason; /* a signature failure's reason, or -1 */
	int unsigned_wire;
	char detail[GW_ERR_MSG_MAX + 128];
	json_t *errors; /* validation errors (array) */
	struct gw_sign_result sres;
	struct gw_validated val;
	/* the receipt signed ahead by a worker (software key, JSON), owned;
	 * NULL: post_finish signs it in the loop */
	char *rcpt;
	size_t rlen;
	const char *rtype; /* static */
};

static void check_release(struct check *c)
{
	json_decref(c->errors);
	c->errors = NULL;
	gw_validated_release(&c->val);
	free(c->rcpt);
	c->rcpt = NULL;
}

static void fail(struct check *c, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void fail(struct check *c, int status, const char *fmt, ...)
{
	va_list ap;

	c->status = status;
	va_start(ap, fmt);
	vsnprintf(c->detail, sizeof(c->detail), fmt, ap);
	va_end(ap);
}

/*
 * Parse body[0..len) (XML when xml, else JSON or a compact JWS) with the
 * safe parsers, verify its signature with ver, take what was signed (for
 * a wire format fmt, decoded to the canonical message; without an XML-DSig
 * only when unsigned_ok, the client certificate peer_subject standing for
 * the signer) and validate it with vd. Touches nothing shared but ver, vd
 * and fmt's converter (so fmt only in the event loop).
 */
static void check_signed(const struct gw_sign_verifier *ver,
			 struct gw_validator *vd,
			 const struct gw_server_format *fmt, int unsigned_ok,
			 const char *partner, const char *peer_subject,
			 const char *body, size_t len, int xml, struct check *c)
{
	struct gw_buf content, stripped;
	const char *vdata = NULL; /* what is validated: stripped or content */
	size_t vlen = 0;
	struct collect col = { NULL };
	struct gw_err err;
	xmlDocPtr doc = NULL;
	json_t *probe = NULL;
	const char *b = body;
	size_t n = len;

	memset(c, 0, sizeof(*c));
	c->sig_reason = -1;
	gw_buf_init(&content);
	gw_buf_init(&stripped);
	gw_err_clear(&err);
	/* parse with limits: malformed is 400 */
	if (xml) {
		if (gw_xml_parse(b, n, "body", &doc, &err)) {
			fail(c, 400, "%s", err.msg);
			goto out;
		}
		if (fmt && !has_dsig(xmlDocGetRootElement(doc))) {
			/* a wire format without an XML-DSig (the national
			 * axis signs with a placeholder): only from a
			 * partner configured so, on the strength of its
			 * client certificate */
			if (!unsigned_ok) {
				c->sig_reason = GW_SIGN_MALFORMED;
				fail(c, 422,
				     "signature: the %s message has no "
				     "XML-DSig "
				     "signature (an edXML:Signature "
				     "placeholder "
				     "is not one): sign it, or set signed: "
				     "false for partner '%s' to accept "
				     "unsigned %s from it",
				     fmt->name, partner, fmt->name);
				goto out;
			}
			snprintf(c->sres.subject, sizeof(c->sres.subject), "%s",
				 peer_subject);
			c->unsigned_wire = 1;
		} else if (gw_sign_verify_xml(ver, doc, 0, &c->sres, &err)) {
			c->sig_reason = (int)(c->sres.reason & 15);
			fail(c, 422, "signature: %s", err.msg);
			goto out;
		}
		if (fmt) {
			/* what was signed, as a canonical message: the wire
			 * schema may not allow the enveloped signature
			 * (SDMX-ML), so the decoder gets the document
			 * without it */
			json_t *m = NULL;
			char *text = NULL;
			xmlChar *mem = NULL;
			int size = 0;

			if (!c->unsigned_wire) {
				xmlNodePtr e =
					xmlDocGetRootElement(doc)->children;

				for (; e; e = e->next)
					if (has_dsig_self(e)) {
						xmlUnlinkNode(e);
						xmlFreeNode(e);
						break;
					}
				xmlDocDumpMemoryEnc(doc, &mem, &size, "UTF-8");
				if (!mem) {
					fail(c, 500, "out of memory");
					goto out;
				}
				b = (const char *)mem;
				n = (size_t)size;
			}
			gw_err_clear(&err);
			if (fmt->decode(b, n, &m, &err) || !m ||
			    !(text = json_dumps(m, JSON_COMPACT)) ||
			    gw_buf_adds(&stripped, text))
				fail(c, err.rc == GW_ERR_PARSE ? 400 : 422,
				     "%s: %s", fmt->name,
				     err.msg[0] ? err.msg : "not converted");
			json_decref(m);
			free(text);
			xmlFree(mem);
			if (c->status)
				goto out;
		} else {
			/* validate what was signed, without the signature */
			xmlNodePtr root = xmlDocGetRootElement(doc), e;
			xmlChar *mem = NULL;
			int size = 0;

			for (e = root ? root->children : NULL; e; e = e->next)
				if (e->type == XML_ELEMENT_NODE &&
				    !xmlStrcmp(e->name, BAD_CAST "Signature")) {
					xmlUnlinkNode(e);
					xmlFreeNode(e);
					break;
				}
			xmlDocDumpMemoryEnc(doc, &mem, &size, "UTF-8");
			if (!mem || gw_buf_add(&stripped, mem, (size_t)size)) {
				xmlFree(mem);
				fail(c, 500, "out of memory");
				goto out;
			}
			xmlFree(mem);
		}
	} else {
		/* JSON (flattened or general JWS) must parse with the limits
		 * of gw_json_parse, so that malformed input is a 400; a
		 * compact JWS is three base64url parts. The JWS verifier
		 * parses an object body with the same parser and flags, so
		 * when it accepts one within the size limit the limits hold
		 * and the body is parsed once: the separate parse runs first
		 * only for other JSON or an oversized body, and otherwise
		 * after a refusal, to tell malformed (400) from invalid. */
		int json = gw_msg_detect(b, n) == GW_FMT_JSON;
		size_t lead = 0;

		while (lead < n && strchr(" \t\r\n", b[lead]) && b[lead])
			lead++;

		if (json &&
		    (n > GW_JSON_MAX_SIZE || lead >= n || b[lead] != '{') &&
		    gw_json_parse(b, n, "body", &probe, &err)) {
			fail(c, 400, "%s", err.msg);
			goto out;
		}
		if (gw_sign_verify_jws(ver, b, n, NULL, 0, 0, &c->sres,
				       &content, &err)) {
			struct gw_err perr;

			gw_err_clear(&perr);
			if (json && !probe &&
			    gw_json_parse(b, n, "body", &probe, &perr)) {
				fail(c, 400, "%s", perr.msg);
				goto out;
			}
			c->sig_reason = (int)(c->sres.reason & 15);
			/* neither JSON nor a compact JWS: malformed */
			fail(c,
			     !probe && c->sres.reason == GW_SIGN_MALFORMED
				     ? 400
				     : 422,
			     "signature: %s%s", err.msg,
			     json_object_get(probe, "kind")
				     ? " (the message is not signed: send it "
				       "as a JWS)"
				     : "");
			goto out;
		}
		/* validated where it is: no copy of the payload */
		vdata = content.data;
		vlen = content.len;
	}
	col.errors = json_array();
	gw_err_clear(&err);
	if (!vdata) {
		vdata = stripped.data;
		vlen = stripped.len;
	}
	if (gw_validate_buffer(vd, "message", vdata, vlen, collect_line, &col,
			       &c->val, &err) ||
	    !c->val.json) {
		c->vstatus = err.rc == GW_ERR_PARSE ? 400 : 422;
		snprintf(c->detail, sizeof(c->detail), "%s",
			 err.msg[0] ? err.msg : "not a canonical message");
		c->errors = col.errors;
		col.errors = NULL;
	}
out:
	json_decref(col.errors);
	json_decref(probe);
	xmlFreeDoc(doc);
	gw_buf_release(&content);
	gw_buf_release(&stripped);
}

/*
 * The rest of POST /v1/messages, in the event loop, once c is known: the
 * signer is the partner, the message is valid, the partner may send it,
 * dedup, the receipt, the batch of the group commit (answered by
 * on_flush). body[0..len) are the bytes received, sha their SHA-256.
 */
static void post_finish(struct rq *r, const struct gw_partner *pt,
			const char *peer_subject,
			const struct gw_server_format *fmt, const char *ctype,
			int xml, const char *body, size_t len, const char *sha,
			struct check *c)
{
	struct gw_server *s = r->s;
	char old_sha[65], old_partner[64], why[512];
	const char *rtype = NULL;
	char *rcpt = NULL, *old = NULL, *old_type = NULL;
	size_t rlen = 0, olen = 0;
	struct gw_err err;
	const char *id, *kind, *sender;
	char *canonical = NULL, *ids = NULL, *kinds = NULL, *senders = NULL;
	int found = 0;
	size_t i;

	gw_err_clear(&err);
	if (c->sig_reason >= 0)
		s->m.sig_fail[c->sig_reason & 15]++;
	if (c->status) {
		problem(r, c->status, NULL, "%s", c->detail);
		goto out;
	}
	snprintf(r->signer, sizeof(r->signer), "%s", c->sres.subject);
	if (!gw_partner_signer_ok(pt, peer_subject, c->sres.subject)) {
		problem(r, 403, NULL,
			"the message is signed by '%s', which is not partner "
			"'%s' (add it to the partner's signers to allow it)",
			c->sres.subject, pt->name);
		goto out;
	}
	if (c->vstatus) {
		problem(r, c->vstatus, c->errors, "%s", c->detail);
		goto out;
	}
	id = json_string_value(json_object_get(c->val.json, "id"));
	kind = json_string_value(json_object_get(c->val.json, "kind"));
	sender = json_string_value(json_object_get(
		json_object_get(c->val.json, "sender"), "orgId"));
	snprintf(r->msg_id, sizeof(r->msg_id), "%s", id ? id : "");
	if (!id || !kind || !id_is_safe(id)) {
		/* the schemas make ids UUIDs; the inbox and the drop folder
		 * rely on it */
		problem(r, 422, NULL, "message id '%s' is not a lowercase UUID",
			id ? id : "");
		goto out;
	}
	snprintf(r->kind, sizeof(r->kind), "%s", kind);
	snprintf(r->sender, sizeof(r->sender), "%s", sender ? sender : "");
	rq_event(r, "validated", 0, "ok",
		 c->unsigned_wire ? "unsigned wire format accepted (partner "
				    "signed: false): the client certificate "
				    "stands for the signer"
				  : NULL);
	if (!gw_partner_allows(pt, kind, sender,
			       json_object_get(c->val.json, "receivers"), why,
			       sizeof(why))) {
		problem(r, 403, NULL, "%s", why);
		goto out;
	}
	/* dedup: a replay gets the original receipt */
	if (gw_inbox_lookup(s->inbox, id, &found, old_sha, old_partner, &old,
			    &olen, &old_type, &err)) {
		problem(r, 503, NULL, "%s", err.msg);
		goto out;
	}
	if (found) {
		if (strcmp(old_sha, sha)) {
			problem(r, 409, NULL,
				"message id '%s' was already received with "
				"other content (sha256 %s); a new message "
				"needs a new id",
				id, old_sha);
			goto out;
		}
		s->m.replays++;
		rq_event(r, "receipt-sent", 200, "duplicate",
			 "replay: the original receipt");
		evhttp_add_header(evhttp_request_get_output_headers(r->req),
				  "Lienthong-Replay", "true");
		reply(r, 200, "OK", old_type, old, olen);
		goto out;
	}
	/* the same id earlier in the batch being committed */
	for (i = 0; i < s->nbatch; i++)
		if (!strcmp(s->batch[i].id, id))
			break;
	if (i < s->nbatch && strcmp(s->batch[i].sha, sha)) {
		problem(r, 409, NULL,
			"message id '%s' was already received with other "
			"content (sha256 %s); a new message needs a new id",
			id, s->batch[i].sha);
		goto out;
	}
	if (i == s->nbatch && c->rcpt) { /* signed ahead by a worker */
		rcpt = c->rcpt;
		rlen = c->rlen;
		rtype = c->rtype;
		c->rcpt = NULL;
	} else if (i == s->nbatch &&
		   make_receipt(s, c->val.json, sha, xml,
				fmt == &edxml_format ? "edxml" : NULL, &rcpt,
				&rlen, &rtype, &err)) {
		problem(r, 500, NULL, "cannot sign the receipt: %s", err.msg);
		goto out;
	}
	canonical = json_dumps(c->val.json, JSON_COMPACT);
	/* the message's tree is not needed any more: free it before the
	 * body is copied into the batch (a large message's peak) */
	if (!(ids = gw_strdup(id)) || !(kinds = gw_strdup(kind)) ||
	    !(senders = gw_strdup(sender ? sender : ""))) {
		problem(r, 500, NULL, "out of memory");
		goto out;
	}
	gw_validated_release(&c->val);
	if (!canonical || batch_add(s, r, i < s->nbatch ? (long)i : -1, ids,
				    sha, pt->name, kinds, senders, ctype, body,
				    len, rcpt, rlen, rtype, canonical)) {
		problem(r, 500, NULL, "out of memory");
		goto out;
	}
	rcpt = NULL; /* the batch owns them now */
	canonical = NULL;
	/* answered by on_flush once the batch is committed */
out:
	free(rcpt);
	free(canonical);
	free(old);
	free(old_type);
	free(ids);
	free(kinds);
	free(senders);
}

/* ------------------------------------------------------------------ */
/* Workers: verification and validation beside the event loop          */

/*
 * The signature, the chain and the schema are the CPU of a request. With
 * server.workers > 0, a canonical JSON or XML POST is handed to a small
 * pool: each worker has its own verifier (trust store) and validator, so
 * the threads share nothing but the job queues; the event loop stays the
 * only thread touching libevent, the partners, the inbox and the batch.
 * A finished job is queued back and the loop is woken through a pipe;
 * post_finish then runs in the loop as for an inline request. Wire
 * formats (whose converter caches schemas) stay in the loop.
 */
#define MAX_WORKERS 64

struct job {
	struct job *next;
	struct rq r;
	char *body;
	size_t len;
	const char *ctype; /* static */
	int xml;
	char sha[65];
	char peer_subject[256];
	char peer_sha[65];
	char partner[64];
	struct check c;
};

struct worker {
	struct pool *pool;
	pthread_t th;
	int running;
	struct gw_sign_verifier *ver;
	struct gw_validator *vd;
};

struct pool {
	struct gw_server *s;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct job *todo, *todo_tail, *done, *done_tail;
	int stop;
	int fds[2]; /* the workers wake the loop through it */
	struct event *ev;
	int n;
	struct worker w[MAX_WORKERS];
};

static void job_free(struct job *j)
{
	if (!j)
		return;
	size_t len = j->len;

	check_release(&j->c);
	free(j->body);
	free(j);
	gw_trim_after(len);
}

/*
 * A valid JSON message's receipt, signed in the worker when the signing
 * key is a software key (the ES256/RS256 signature is most of a receipt's
 * CPU); a key in a PKCS#11 engine is used from the loop only. The receipt
 * is used only if the message turns out new (dedup stays in the loop,
 * after the signer and partner checks); a failure here leaves it to the
 * loop, which reports it. Reads only what does not change after start:
 * the key, its algorithms and the organization.
 */
static void sign_ahead(struct gw_server *s, struct job *j)
{
	struct gw_err err;
	const char *id;

	if (j->xml || j->c.status || j->c.vstatus || !j->c.val.json ||
	    !s->key || s->key->engine)
		return;
	id = json_string_value(json_object_get(j->c.val.json, "id"));
	if (!id || !id_is_safe(id))
		return;
	gw_err_clear(&err);
	if (make_receipt(s, j->c.val.json, j->sha, 0, NULL, &j->c.rcpt,
			 &j->c.rlen, &j->c.rtype, &err))
		j->c.rcpt = NULL;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct pool *p = w->pool;

	for (;;) {
		struct job *j;
		ssize_t wr;

		pthread_mutex_lock(&p->mu);
		while (!p->todo && !p->stop)
			pthread_cond_wait(&p->cv, &p->mu);
		if (!p->todo) { /* stopping, nothing left */
			pthread_mutex_unlock(&p->mu);
			break;
		}
		j = p->todo;
		if (!(p->todo = j->next))
			p->todo_tail = NULL;
		pthread_mutex_unlock(&p->mu);

		/* the partner's signed: false only concerns wire formats,
		 * which never come here */
		check_signed(w->ver, w->vd, NULL, 0, j->partner,
			     j->peer_subject, j->body, j->len, j->xml, &j->c);
		sign_ahead(p->s, j);

		pthread_mutex_lock(&p->mu);
		j->next = NULL;
		if (p->done_tail)
			p->done_tail->next = j;
		else
			p->done = j;
		p->done_tail = j;
		pthread_mutex_unlock(&p->mu);
		do /* one byte per job; a full pipe already wakes the loop */
			wr = write(p->fds[1], "j", 1);
		while (wr < 0 && errno == EINTR);
	}
	return NULL;
}

static void post_done(struct gw_server *s, struct job *j);

/* In the loop: the workers have finished jobs. */
static void on_jobs_done(evutil_socket_t fd, short what, void *arg)
{
	struct pool *p = arg;
	char drain[256];
	struct job *j, *next;

	while (read(fd, drain, sizeof(drain)) > 0)
		;
	pthread_mutex_lock(&p->mu);
	j = p->done;
	p->done = p->done_tail = NULL;
	pthread_mutex_unlock(&p->mu);
	for (; j; j = next) {
		next = j->next;
		post_done(p->s, j);
		job_free(j);
	}
}

static void pool_free(struct pool *p)
{
	struct job *j, *next;
	int i;

	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = 1;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	for (i = 0; i < p->n; i++) {
		if (p->w[i].running)
			pthread_join(p->w[i].th, NULL);
		gw_sign_verifier_free(p->w[i].ver);
		gw_validator_free(p->w[i].vd);
	}
	/* the loop has ended: what was not answered goes with its
	 * connection (evhttp frees the requests) */
	for (j = p->done; j; j = next) {
		next = j->next;
		job_free(j);
	}
	for (j = p->todo; j; j = next) {
		next = j->next;
		job_free(j);
	}
	if (p->ev)
		event_free(p->ev);
	if (p->fds[0] >= 0)
		close(p->fds[0]);
	if (p->fds[1] >= 0)
		close(p->fds[1]);
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	free(p);
}

/* n workers, each with its own verifier of the trust folder trust and
 * validator, woken into the loop base. */
static gw_rc pool_new(struct gw_server *s, int n, const char *trust,
		      struct pool **out, struct gw_err *err)
{
	struct pool *p = gw_calloc(1, sizeof(*p));
	gw_rc rc = GW_OK;
	int i;

	*out = NULL;
	if (!p)
		return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
	p->s = s;
	p->fds[0] = p->fds[1] = -1;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	if (pipe2(p->fds, O_NONBLOCK | O_CLOEXEC) < 0) {
		rc = gw_err_set(err, GW_ERR_INTERNAL,
				"cannot make the workers' pipe: %s",
				strerror(errno));
		goto out;
	}
	if (!(p->ev = event_new(s->base, p->fds[0], EV_READ | EV_PERSIST,
				on_jobs_done, p)) ||
	    event_add(p->ev, NULL)) {
		rc = gw_err_set(err, GW_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < n && i < MAX_WORKERS; i++) {
		struct worker *w = &p->w[i];

		w->pool = p;
		p->n = i + 1;
		if ((rc = gw_sign_verifier_trust(trust, &w->ver, err)) ||
		    (rc = gw_validator_new(gw_schema_dir(), 0, &w->vd, err)))
			goto out;
		if (pthread_create(&w->th, NULL, worker_main, w)) {
			rc = gw_err_set(err, GW_ERR_INTERNAL,
					"cannot start a worker thread");
			goto out;
		}
		w->running = 1;
	}
	*out = p;
	p = NULL;
out:
	pool_free(p);
	return rc;
}

/* Hand a request to the workers (body copied). 0 when queued. */
static int pool_submit(struct gw_server *s, const struct rq *r,
		       const struct gw_partner *pt,
		       const struct gw_tls_peer *peer, const char *ctype,
		       int xml, const char *body, size_t len, const char *sha)
{
	struct pool *p = s->pool;
	struct job *j = gw_calloc(1, sizeof(*j));

	if (!j || !(j->body = gw_malloc(len + 1))) {
		free(j);
		return -1;
	}
	memcpy(j->body, body, len);
	j->body[len] = '\0';
	j->len = len;
	j->r = *r;
	j->ctype = ctype;
	j->xml = xml;
	snprintf(j->sha, sizeof(j->sha), "%s", sha);
	snprintf(j->peer_subject, sizeof(j->peer_subject), "%s", peer->subject);
	snprintf(j->peer_sha, sizeof(j->peer_sha), "%s", peer->sha256);
	snprintf(j->partner, sizeof(j->partner), "%s", pt->name);
	pthread_mutex_lock(&p->mu);
	if (p->todo_tail)
		p->todo_tail->next = j;
	else
		p->todo = j;
	p->todo_tail = j;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
	return 0;
}

/* A job is done: finish the request in the loop. The partner is looked
 * up again (SIGHUP may have reloaded the partners meanwhile). */
static void post_done(struct gw_server *s, struct job *j)
{
	struct rq *r = &j->r;
	const struct gw_partner *pt =
		gw_partners_match(&s->partners, j->peer_subject, j->peer_sha);

	if (!pt)
		problem(r, 403, NULL,
			"client certificate '%s' is no longer a registered "
			"partner (the configuration was reloaded)",
			j->peer_subject);
	else
		post_finish(r, pt, j->peer_subject, NULL, j->ctype, j->xml,
			    j->body, j->len, j->sha, &j->c);
	arm_deadline_of(r->req);
}

static void handle_post(struct rq *r, const struct gw_partner *pt,
			const struct gw_tls_peer *peer)
{
	struct gw_server *s = r->s;
	struct evbuffer *in = evhttp_request_get_input_buffer(r->req);
	const char *ctype_h = evhttp_find_header(
		evhttp_request_get_input_headers(r->req), "Content-Type");
	char mt[96], sha[65];
	const char *ctype = NULL;
	size_t len = evbuffer_get_length(in);
	const struct gw_server_format *fmt = NULL; /* a wire format */
	const char *body;
	struct check c;
	int xml;

	media_type(ctype_h, mt, sizeof(mt));
	xml = strstr(mt, "xml") != NULL;
	r->xml = xml;
	if (len > s->lim.max_body) { /* chunked bodies end up here */
		problem(r, 413, NULL,
			"the body is larger than %zu bytes (server.limits."
			"max_body_bytes)",
			s->lim.max_body);
		goto out;
	}
	body = (const char *)evbuffer_pullup(in, -1);
	if (!len || !body) {
		problem(r, 400, NULL,
			"the body is empty: send a signed "
			"message");
		goto out;
	}
	/* choose the format by media type */
	if (!strcmp(mt, "application/json") ||
	    !strcmp(mt, "application/jose+json") ||
	    !strcmp(mt, "application/jose")) {
		ctype = "application/jose+json";
	} else if (!strcmp(mt, "application/xml") || !strcmp(mt, "text/xml")) {
		ctype = "application/xml";
	} else {
		fmt = gw_server_format_find(mt);
		if (!fmt || !fmt->decode) {
			if (fmt)
				problem(r, 415, NULL,
					"'%s' (%s) needs a format adapter and "
					"none is loaded; send canonical JSON "
					"(application/jose+json) or XML "
					"(application/xml)",
					mt, fmt->name);
			else
				problem(r, 415, NULL,
					"content type '%s' is not accepted: "
					"send application/jose+json, "
					"application/json or application/xml",
					mt[0] ? mt : "(none)");
			goto out;
		}
		/* an XML wire format: its signature is over the wire bytes,
		 * checked below like a canonical XML message's */
		ctype = fmt->media_type;
	}
	gw_outbox_sha256_hex(body, len, sha);
	memcpy(r->sha, sha, sizeof(r->sha));
	xml = fmt || strstr(ctype, "xml") != NULL;
	r->xml = xml;
	if (!fmt && s->pool &&
	    !pool_submit(s, r, pt, peer, ctype, xml, body, len, sha)) {
		/* the worker has its copy: the request's own is freed now,
		 * not when it is answered (a large message's peak) */
		evbuffer_drain(in, len);
		goto out; /* answered when a worker is done (post_done) */
	}
	check_signed(s->verifier, s->validator, fmt, pt->unsigned_wire,
		     pt->name, peer->subject, body, len, xml, &c);
	post_finish(r, pt, peer->subject, fmt, ctype, xml, body, len, sha, &c);
	check_release(&c);
out:;
}

/* ------------------------------------------------------------------ */
/* GET endpoints                                                       */

static void handle_receipt(struct rq *r, const struct gw_partner *pt,
			   const char *id)
{
	char sha[65], partner[64];
	char *rc_body = NULL, *rtype = NULL;
	size_t rlen = 0;
	int found = 0;
	struct gw_err err;

	gw_err_clear(&err);
	snprintf(r->msg_id, sizeof(r->msg_id), "%s", id);
	if (!id_is_safe(id)) {
		problem(r, 404, NULL, "'%s' is not a message id", id);
		return;
	}
	if (gw_inbox_lookup(r->s->inbox, id, &found, sha, partner, &rc_body,
			    &rlen, &rtype, &err)) {
		problem(r, 503, NULL, "%s", err.msg);
		return;
	}
	if (!found || strcmp(partner, pt->name)) {
		/* another partner's message is as good as absent */
		problem(r, 404, NULL, "no message '%s' was received from '%s'",
			id, pt->name);
	} else {
		r->xml = strstr(rtype, "xml") != NULL;
		reply(r, 200, "OK", rtype, rc_body, rlen);
	}
	free(rc_body);
	free(rtype);
}

static void dest_stat(void *arg, const char *dest, enum gw_dlv_state st,
		      int64_t count)
{
	struct gw_buf *b = arg;
	const char *names[] = { "pending", "done", "dead" };

	gw_buf_addf(b,
		    "lienthong_deliveries{destination=\"%s\",state=\"%s\"} "
		    "%lld\n",
		    dest, (unsigned)st < 3 ? names[st] : "other",
		    (long long)count);
}

static void handle_metrics(struct rq *r)
{
	struct gw_server *s = r->s;
	struct gw_buf b;
	struct gw_err err;
	int64_t total = 0, pending = 0;
	long cum = 0;
	int i;

	gw_buf_init(&b);
	gw_err_clear(&err);
	gw_buf_adds(&b, "# HELP lienthong_http_requests_total HTTP requests "
			"answered, by status.\n"
			"# TYPE lienthong_http_requests_total counter\n");
	for (i = 100; i < 600; i++)
		if (s->m.by_status[i])
			gw_buf_addf(
				&b,
				"lienthong_http_requests_total{code=\"%d\"} "
				"%ld\n",
				i, s->m.by_status[i]);
	gw_buf_adds(&b, "# HELP lienthong_http_request_duration_seconds Time "
			"from request to answer.\n"
			"# TYPE lienthong_http_request_duration_seconds "
			"histogram\n");
	for (i = 0; i < LAT_BUCKETS; i++) {
		cum += s->m.lat_count[i];
		gw_buf_addf(&b,
			    "lienthong_http_request_duration_seconds_bucket{"
			    "le=\"%g\"} %ld\n",
			    lat_le[i], cum);
	}
	cum += s->m.lat_count[LAT_BUCKETS];
	gw_buf_addf(
		&b,
		"lienthong_http_request_duration_seconds_bucket{le=\"+Inf\"}"
		" %ld\n"
		"lienthong_http_request_duration_seconds_sum %.6f\n"
		"lienthong_http_request_duration_seconds_count %ld\n",
		cum, s->m.lat_sum, s->m.lat_n);
	gw_buf_adds(&b, "# HELP lienthong_signature_failures_total Signed "
			"messages refused, by reason.\n"
			"# TYPE lienthong_signature_failures_total counter\n");
	for (i = 0; i < 16; i++)
		if (s->m.sig_fail[i])
			gw_buf_addf(&b,
				    "lienthong_signature_failures_total{reason="
				    "\"%s\"} %ld\n",
				    gw_sign_reason_name((enum gw_sign_reason)i),
				    s->m.sig_fail[i]);
	gw_buf_addf(&b,
		    "# HELP lienthong_tls_refused_total Client certificates "
		    "refused in the handshake.\n"
		    "# TYPE lienthong_tls_refused_total counter\n"
		    "lienthong_tls_refused_total %ld\n"
		    "# TYPE lienthong_messages_accepted_total counter\n"
		    "lienthong_messages_accepted_total %ld\n"
		    "# TYPE lienthong_messages_replayed_total counter\n"
		    "lienthong_messages_replayed_total %ld\n"
		    "# TYPE lienthong_connections gauge\n"
		    "lienthong_connections %d\n",
		    s->m.tls_refused, s->m.accepted, s->m.replays, s->conns);
	if (!gw_inbox_counts(s->inbox, &total, &pending, &err))
		gw_buf_addf(&b,
			    "# TYPE lienthong_inbox_messages gauge\n"
			    "lienthong_inbox_messages %lld\n"
			    "# HELP lienthong_inbox_pending Messages stored "
			    "but not yet delivered internally.\n"
			    "# TYPE lienthong_inbox_pending gauge\n"
			    "lienthong_inbox_pending %lld\n",
			    (long long)total, (long long)pending);
	gw_buf_adds(&b, "# HELP lienthong_deliveries Outbox deliveries by "
			"destination and state (pending is the queue "
			"depth).\n"
			"# TYPE lienthong_deliveries gauge\n");
	gw_outbox_stats(s->outbox, dest_stat, &b, &err);
	reply(r, 200, "OK", "text/plain; version=0.0.4; charset=utf-8",
	      b.data ? b.data : "", b.len);
	gw_buf_release(&b);
}

static void handle_readyz(struct rq *r)
{
	struct gw_err err;

	gw_err_clear(&err);
	if (gw_inbox_ping(r->s->inbox, &err)) {
		problem(r, 503, NULL, "the inbox cannot be written: %s",
			err.msg);
		return;
	}
	if (!r->s->validator || !r->s->key || !r->s->verifier) {
		problem(r, 503, NULL,
			"schemas, keys or trust store not loaded");
		return;
	}
	if (r->s->draining) {
		problem(r, 503, NULL, "shutting down");
		return;
	}
	reply(r, 200, "OK", "text/plain; charset=utf-8", "ready\n", 6);
}

/* ------------------------------------------------------------------ */
/* Dispatch                                                            */

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
	struct conn *c = bev ? gw_tls_conn_data(bev) : NULL;

	if (c)
		arm_deadline(c);
}

static void on_request(struct evhttp_request *req, void *arg)
{
	struct gw_server *s = arg;
	struct rq r;
	const char *uri = evhttp_request_get_uri(req);
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct bufferevent *bev =
		evcon ? evhttp_connection_get_bufferevent(evcon) : NULL;
	struct conn *c = bev ? gw_tls_conn_data(bev) : NULL;
	struct gw_tls_peer peer;
	const struct gw_partner *pt;
	char path[256];
	const char *q;
	size_t n;

	memset(&r, 0, sizeof(r));
	r.s = s;
	r.req = req;
	clock_gettime(CLOCK_MONOTONIC, &r.t0);
	q = strchr(uri, '?');
	n = q ? (size_t)(q - uri) : strlen(uri);
	if (n >= sizeof(path))
		n = sizeof(path) - 1;
	memcpy(path, uri, n);
	path[n] = '\0';

	if (!strcmp(path, "/healthz") || !strcmp(path, "/readyz") ||
	    !strcmp(path, "/metrics")) {
		if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD)
			problem(&r, 405, NULL, "use GET");
		else if (path[1] == 'h')
			reply(&r, 200, "OK", "text/plain; charset=utf-8",
			      "ok\n", 3);
		else if (path[1] == 'r')
			handle_readyz(&r);
		else
			handle_metrics(&r);
		goto out;
	}
	if (strncmp(path, "/v1/", 4)) {
		problem(&r, 404, NULL,
			"no resource '%s' (see schemas/openapi.yaml)", path);
		goto out;
	}
	/* everything under /v1 needs a partner */
	gw_tls_peer_get(bev, &peer);
	if (!peer.has_cert) {
		problem(&r, 401, NULL,
			peer.tls ? "no client certificate: present the "
				   "partner's certificate (mutual TLS)"
				 : "plain http: /v1 needs mutual TLS");
		goto out;
	}
	if (!peer.verified) {
		problem(&r, 401, NULL, "client certificate '%s': %s",
			peer.subject, peer.verify_error);
		goto out;
	}
	if (!(pt = gw_partners_match(&s->partners, peer.subject,
				     peer.sha256))) {
		problem(&r, 403, NULL,
			"client certificate '%s' (sha256 %s) is not a "
			"registered partner (partners: in the configuration)",
			peer.subject, peer.sha256);
		goto out;
	}
	snprintf(r.partner, sizeof(r.partner), "%s", pt->name);
	if (!strcmp(path, "/v1/messages")) {
		if (cmd != EVHTTP_REQ_POST) {
			problem(&r, 405, NULL, "use POST");
			goto out;
		}
		rq_event(&r, "received", 0, "ok", peer.version);
		handle_post(&r, pt, &peer);
		goto out;
	}
	if (!strncmp(path, "/v1/messages/", 13) && n > 21 &&
	    !strcmp(path + n - 8, "/receipt")) {
		char id[80];
		size_t idn = n - 13 - 8;

		if (cmd != EVHTTP_REQ_GET) {
			problem(&r, 405, NULL, "use GET");
			goto out;
		}
		if (idn >= sizeof(id))
			idn = sizeof(id) - 1;
		memcpy(id, path + 13, idn);
		id[idn] = '\0';
		handle_receipt(&r, pt, id);
		goto out;
	}
	problem(&r, 404, NULL, "no resource '%s' (see schemas/openapi.yaml)",
		path);
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
	c->deadline = evtimer_new(base, on_deadline, c);
	arm_deadline(c);
	s->conns++;
	update_accepting(s);
	return bev;
}

/* ------------------------------------------------------------------ */
/* Configuration, lifecycle                                            */

static void print_line(void *arg, gw_rc rc, const char *line)
{
	fprintf(stderr, "%s\n", line);
}

static gw_rc load_signer(struct gw_server *s, struct gw_err *err)
{
	if (!gw_config_get(s->cfg, "/signing"))
		return gw_err_set(err, GW_ERR_CONFIG,
				  "%s: serve needs a signing: section (the "
				  "key that signs receipts)",
				  s->cfg->path);
	/* the same key and algorithms as send signs with */
	return gw_runtime_signer_load(s->cfg, &s->key, &s->xml_alg, &s->jws_alg,
				      err);
}

/* Partners and routes of cfg into p and fw (for start and SIGHUP). */
static gw_rc load_policy(const struct gw_config *cfg, struct gw_partners *p,
			 struct gw_forwarding *fw, struct gw_err *err)
{
	gw_rc rc;

	memset(fw, 0, sizeof(*fw));
	if ((rc = gw_partners_load(gw_config_get(cfg, "/partners"), p, err)))
		return rc;
	if ((rc = gw_forwarding_load(cfg, fw, err)))
		gw_partners_release(p);
	return rc;
}

/* server.webhooks (names of outbox destinations) and server.sqlite. */
static gw_rc load_targets(struct gw_server *s, struct gw_err *err)
{
	const json_t *wh = gw_config_get(s->cfg, "/server/webhooks");
	char *db = NULL;
	size_t i, k;
	gw_rc rc = GW_OK;

	if (!(s->webhooks = strv_from_json(wh)))
		return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
	for (i = 0; s->webhooks[i]; i++) {
		for (k = 0; k < s->fw.ndests &&
			    strcmp(s->fw.dests[k].name, s->webhooks[i]);
		     k++)
			;
		if (k == s->fw.ndests)
			return gw_err_set(err, GW_ERR_CONFIG,
					  "%s: /server/webhooks/%zu: no "
					  "destination named '%s' (declare it "
					  "under destinations:)",
					  s->conf_path, i, s->webhooks[i]);
	}
	s->nwebhooks = i;
	if (!gw_config_get(s->cfg, "/server/sqlite"))
		return GW_OK;
	if (!(db = gw_config_path(s->cfg, "/server/sqlite")))
		return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
	if (sqlite3_open_v2(db, &s->tgt_db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
				    SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK ||
	    sqlite3_busy_timeout(s->tgt_db, 5000) ||
	    gw_sql_setup(s->tgt_db, sqlite_target_schema) ||
	    sqlite3_prepare_v2(s->tgt_db,
			       "INSERT OR IGNORE INTO inbound_messages (id, "
			       "kind, sender, content_type, body, sha256, "
			       "received_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
			       "?7)",
			       -1, &s->tgt_ins, NULL))
		rc = gw_err_set(err, GW_ERR_IO,
				"server.sqlite: cannot use '%s': %s", db,
				s->tgt_db ? sqlite3_errmsg(s->tgt_db)
					  : "out of memory");
	free(db);
	return rc;
}

static char *data_path(const struct gw_config *cfg, const char *ptr,
		       const char *dflt)
{
	char *dir, *p;
	struct gw_buf b;

	if (ptr && gw_config_get(cfg, ptr))
		return gw_config_path(cfg, ptr);
	dir = gw_config_get(cfg, "/gateway/data_dir")
		      ? gw_config_path(cfg, "/gateway/data_dir")
		      : gw_strdup("var");
	if (!dir)
		return NULL;
	gw_buf_init(&b);
	gw_buf_addf(&b, "%s/%s", dir, dflt);
	p = gw_buf_detach(&b, NULL);
	free(dir);
	return p;
}

static gw_rc mkdirs(const char *path, struct gw_err *err)
{
	char tmp[4096];
	char *p;

	if (snprintf(tmp, sizeof(tmp), "%s", path) >= (int)sizeof(tmp))
		return gw_err_set(err, GW_ERR_CONFIG, "path too long: '%s'",
				  path);
	for (p = tmp + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			if (mkdir(tmp, 0750) < 0 && errno != EEXIST)
				return gw_err_set(err, GW_ERR_IO,
						  "cannot create '%s': %s", tmp,
						  strerror(errno));
			*p = '/';
		}
	if (mkdir(tmp, 0750) < 0 && errno != EEXIST)
		return gw_err_set(err, GW_ERR_IO, "cannot create '%s': %s", tmp,
				  strerror(errno));
	return GW_OK;
}

static void server_free(struct gw_server *s)
{
	if (!s)
		return;
	pool_free(s->pool); /* its event goes before the base */
	s->pool = NULL;
	if (s->ev_term)
		event_free(s->ev_term);
	if (s->ev_int)
		event_free(s->ev_int);
	if (s->ev_hup)
		event_free(s->ev_hup);
	if (s->ev_flush)
		event_free(s->ev_flush);
	while (s->nbatch) /* only when the loop ended with a batch pending */
		pending_release(&s->batch[--s->nbatch]);
	free(s->batch);
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
	if (wire_conv == s->conv)
		wire_conv = NULL;
	gw_format_free(s->conv);
	gw_inbox_close(s->inbox);
	gw_outbox_close(s->outbox);
	gw_audit_close(s->audit); /* commits what is buffered */
	gw_partners_release(&s->partners);
	gw_forwarding_release(&s->fw);
	gw_forwarding_release(&s->dfw);
	gw_validator_free(s->validator);
	gw_sign_verifier_free(s->verifier);
	gw_sign_key_free(s->key);
	gw_config_free(s->cfg);
	free(s->drop_dir);
	free(s->outbox_path);
	free(s->inbox_path);
	pthread_mutex_destroy(&s->lock);
	pthread_mutex_destroy(&s->fw_lock);
	pthread_cond_destroy(&s->cond);
	strv_free(s->webhooks);
	sqlite3_finalize(s->tgt_ins);
	sqlite3_close(s->tgt_db);
	free(s->org_id);
	free(s->org_name);
	free(s->listen);
	free(s->conf_path);
	free(s);
}

static gw_rc server_load(const char *conf_path, int check_only,
			 struct gw_server **out, struct gw_err *err)
{
	struct gw_server *s = gw_calloc(1, sizeof(*s));
	const json_t *srv;
	char *trust = NULL, *cert = NULL, *key = NULL, *chain = NULL,
	     *pass = NULL, *inbox = NULL;
	gw_rc rc = GW_OK;

	*out = NULL;
	if (!s)
		return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
	pthread_mutex_init(&s->lock, NULL);
	pthread_mutex_init(&s->fw_lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	if (!(s->conf_path = gw_strdup(conf_path))) {
		rc = gw_err_set(err, GW_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((rc = gw_config_load(conf_path, gw_schema_dir(), print_line, NULL,
				 &s->cfg, err)))
		goto out;
	if (!check_only) {
		/* serve logs as the configuration says (default: info to
		 * standard error), one JSON object per line */
		const char *lf = gw_config_str(s->cfg, "/log/file", "-");
		char *lp = strcmp(lf, "-") ? gw_config_path(s->cfg, "/log/file")
					   : NULL;
		int lvl = gw_log_level_parse(
			gw_config_str(s->cfg, "/log/level", "info"));

		rc = gw_log_open(lp,
				 lvl < 0 ? GW_LOG_INFO : (enum gw_log_level)lvl,
				 err);
		free(lp);
		if (rc)
			goto out;
	}
	if (!(srv = gw_config_get(s->cfg, "/server"))) {
		rc = gw_err_set(err, GW_ERR_CONFIG,
				"%s: no server: section (listen, port, tls, "
				"limits; see conf/ministry.yaml)",
				conf_path);
		goto out;
	}
	if (!gw_config_get(s->cfg, "/trust/dir")) {
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
		gw_strdup(gw_config_str(s->cfg, "/server/listen", "127.0.0.1"));
	s->port = (int)gw_config_int(s->cfg, "/server/port", 8443);
	s->plain = gw_config_bool(s->cfg, "/server/plain_http", 0);
	s->nworkers = (int)gw_config_int(s->cfg, "/server/workers", 2);
	s->bg_nice = (int)gw_config_int(s->cfg, "/server/background_nice", 10);
	s->org_id = gw_strdup(
		gw_config_str(s->cfg, "/gateway/organization/orgId", ""));
	s->org_name = gw_strdup(
		gw_config_str(s->cfg, "/gateway/organization/name", ""));
	if (!s->listen || !s->org_id || !s->org_name) {
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
	if (!s->plain && !gw_config_get(s->cfg, "/server/tls")) {
		rc = gw_err_set(err, GW_ERR_CONFIG,
				"%s: /server/tls: cert and key are required "
				"(or plain_http: true on loopback)",
				conf_path);
		goto out;
	}
	if ((rc = gw_sign_init(err)))
		goto out;
	trust = gw_config_path(s->cfg, "/trust/dir");
	if ((rc = gw_sign_verifier_trust(trust, &s->verifier, err)) ||
	    (rc = load_signer(s, err)) ||
	    (rc = gw_validator_new(gw_schema_dir(), 0, &s->validator, err)) ||
	    (rc = load_policy(s->cfg, &s->partners, &s->fw, err)))
		goto out;
	if ((rc = load_targets(s, err)))
		goto out;
	if (!s->plain) {
		cert = gw_config_path(s->cfg, "/server/tls/cert");
		key = gw_config_path(s->cfg, "/server/tls/key");
		chain = gw_config_get(s->cfg, "/server/tls/chain")
				? gw_config_path(s->cfg, "/server/tls/chain")
				: NULL;
		if (gw_config_get(s->cfg, "/server/tls/passphrase") &&
		    (rc = gw_config_secret(s->cfg, "/server/tls/passphrase",
					   &pass, err)))
			goto out;
		if ((rc = gw_tls_new(cert, chain, key, pass, trust,
				     on_tls_refused, s, &s->tls, err)))
			goto out;
		gw_tls_set_closed_cb(s->tls, on_conn_closed, s);
	}
	/* drop_dir: false turns the drop folder off (a hub that only
	 * forwards, or an internal system reading the sqlite table) */
	if (!json_is_false(gw_config_get(s->cfg, "/server/drop_dir")) &&
	    !(s->drop_dir = data_path(s->cfg, "/server/drop_dir", "drop"))) {
		rc = gw_err_set(err, GW_ERR_NOMEM, "out of memory");
		goto out;
	}
	inbox = s->inbox_path = data_path(s->cfg, "/server/inbox", "inbox.db");
	s->outbox_path = data_path(s->cfg, NULL, "outbox.db");
	if (!inbox || !s->outbox_path) {
		rc = gw_err_set(err, GW_ERR_NOMEM, "out of memory");
		goto out;
	}
	{
		char *dir = gw_strdup(s->outbox_path), *slash;

		if (dir && (slash = strrchr(dir, '/')))
			*slash = '\0';
		rc = dir ? mkdirs(dir, err)
			 : gw_err_set(err, GW_ERR_NOMEM, "out of memory");
		free(dir);
		if (rc)
			goto out;
		dir = gw_strdup(inbox);
		if (dir && (slash = strrchr(dir, '/'))) {
			*slash = '\0';
			rc = mkdirs(dir, err);
		}
		free(dir);
		if (rc || (s->drop_dir && (rc = mkdirs(s->drop_dir, err))))
			goto out;
	}
	if ((rc = gw_inbox_open(inbox, &s->inbox, err)) ||
	    (rc = gw_outbox_open_sqlite(s->outbox_path, &s->outbox, err)) ||
	    (rc = gw_runtime_audit_open(s->cfg, GW_AUDIT_BACKGROUND, &s->audit,
					NULL, err)))
		goto out;
	gw_server_format_register(&edxml_placeholder, NULL);
	gw_server_format_register(&sdmx_placeholder, NULL);
	if ((rc = gw_format_new(gw_schema_dir(), &s->conv, err)))
		goto out;
	wire_conv = s->conv;
	gw_server_format_register(&edxml_format, NULL);
	gw_server_format_register(&sdmx_ml_format, NULL);
	gw_server_format_register(&packet_format, NULL);
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

/* The delivery thread: deliver.c over its own outbox connection. */
static void *deliver_main(void *arg)
{
	struct gw_server *s = arg;
	struct gw_outbox *o = NULL;
	struct gw_deliver_stats st = { 0, 0, 0, 0 };
	struct gw_err err;

	gw_err_clear(&err);
	background(s);
	if (gw_outbox_open_sqlite(s->outbox_path, &o, &err) ||
	    gw_deliver_run(o, &s->dfw, 64, 0, 0, &s->dstop, &st, &err))
		gw_log(GW_LOG_ERROR, "deliver", NULL, "%s", err.msg);
	gw_log(GW_LOG_INFO, "deliver", NULL,
	       "delivery stopped: %ld delivered, %ld to retry, %ld dead",
	       st.delivered, st.retried, st.dead);
	gw_outbox_close(o);
	return NULL;
}

static void deliver_stop(struct gw_server *s)
{
	if (!s->thread_running)
		return;
	__atomic_store_n(&s->dstop, 1, __ATOMIC_RELEASE);
	pthread_join(s->thread, NULL);
	s->thread_running = 0;
	gw_forwarding_release(&s->dfw);
}

static gw_rc deliver_start(struct gw_server *s, struct gw_err *err)
{
	gw_rc rc;

	if (!s->deliver || !s->fw.ndests)
		return GW_OK;
	/* the thread gets its own copy of the destinations: their runtime
	 * state (tokens, rate buckets) is the engine's */
	if ((rc = gw_forwarding_load(s->cfg, &s->dfw, err)))
		return rc;
	s->dfw.audit = s->audit; /* attempts and deliveries are audited */
	__atomic_store_n(&s->dstop, 0, __ATOMIC_RELEASE);
	if (pthread_create(&s->thread, NULL, deliver_main, s)) {
		gw_forwarding_release(&s->dfw);
		return gw_err_set(err, GW_ERR_INTERNAL,
				  "cannot start the delivery thread");
	}
	s->thread_running = 1;
	return GW_OK;
}

/* The trust store again (anchors and CRLs) for message signatures, in the
 * loop's verifier and in each worker's; a failure keeps the old store. */
static void reload_trust(struct gw_server *s)
{
	struct gw_err err;
	int i;

	gw_err_clear(&err);
	if (s->verifier && gw_sign_verifier_reload(s->verifier, &err))
		gw_log(GW_LOG_ERROR, "reload", NULL, "trust store: %s",
		       err.msg);
	else
		gw_log(GW_LOG_INFO, "reload", NULL,
		       "trust store re-read, verified chains forgotten");
	for (i = 0; s->pool && i < s->pool->n; i++) {
		gw_err_clear(&err);
		if (s->pool->w[i].ver &&
		    gw_sign_verifier_reload(s->pool->w[i].ver, &err))
			gw_log(GW_LOG_ERROR, "reload", NULL,
			       "trust store (worker %d): %s", i, err.msg);
	}
}

static void on_hup(evutil_socket_t fd, short what, void *arg)
{
	struct gw_server *s = arg;
	struct gw_config *cfg = NULL;
	struct gw_partners p;
	struct gw_forwarding fw;
	struct gw_err err;

	gw_err_clear(&err);
	memset(&p, 0, sizeof(p));
	if (gw_config_load(s->conf_path, gw_schema_dir(), print_line, NULL,
			   &cfg, &err) ||
	    load_policy(cfg, &p, &fw, &err)) {
		gw_log(GW_LOG_ERROR, "reload", NULL,
		       "configuration not reloaded, the old one stays: %s",
		       err.msg);
		gw_config_free(cfg);
		return;
	}
	deliver_stop(s);
	gw_partners_release(&s->partners);
	pthread_mutex_lock(&s->fw_lock);
	gw_forwarding_release(&s->fw);
	s->fw = fw;
	pthread_mutex_unlock(&s->fw_lock);
	gw_config_free(s->cfg);
	s->cfg = cfg;
	s->partners = p;
	if (deliver_start(s, &err))
		gw_log(GW_LOG_ERROR, "reload", NULL, "%s", err.msg);
	reload_trust(s);
	gw_log(GW_LOG_INFO, "reload", NULL,
	       "reloaded '%s': %zu partners, %zu routes", s->conf_path,
	       s->partners.n, s->fw.nroutes);
	idl_wake(s);
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
		       conf_path, s->partners.n, s->fw.ndests, s->fw.nroutes,
		       s->plain ? "plain http" : "mutual TLS", s->listen,
		       s->port);
		goto out;
	}
	s->deliver = deliver;
	if (!(s->base = event_base_new()) || !(s->http = evhttp_new(s->base))) {
		rc = gw_err_set(err, GW_ERR_INTERNAL,
				"cannot set up the event loop");
		goto out;
	}
	evhttp_set_max_body_size(s->http, (ev_ssize_t)s->lim.max_body);
	evhttp_set_max_headers_size(s->http, (ev_ssize_t)s->lim.max_header);
	evhttp_set_timeout(s->http, s->lim.timeout_s);
	/* other methods reach on_request, which answers 405 with a problem */
	evhttp_set_allowed_methods(
		s->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
				 EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
				 EVHTTP_REQ_PATCH | EVHTTP_REQ_OPTIONS);
	evhttp_set_default_content_type(s->http, "application/problem+json");
	if (s->tls)
		evhttp_set_bevcb(s->http, on_new_conn, s);
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
	if (pthread_create(&s->idl_thread, NULL, idl_main, s)) {
		rc = gw_err_set(err, GW_ERR_INTERNAL,
				"cannot start the internal delivery thread");
		goto out;
	}
	s->idl_running = 1;
	if ((rc = deliver_start(s, err)))
		goto out;
	if (s->nworkers > 0) {
		char *trust = gw_config_path(s->cfg, "/trust/dir");

		rc = trust ? pool_new(s, s->nworkers, trust, &s->pool, err)
			   : gw_err_set(err, GW_ERR_NOMEM, "out of memory");
		free(trust);
		if (rc)
			goto out;
	}
	gw_log(GW_LOG_INFO, "listening", NULL,
	       "%s://%s:%d (%zu partners, %zu routes, drop folder '%s', "
	       "%d verification workers)",
	       s->plain ? "http" : "https", s->listen, s->port, s->partners.n,
	       s->fw.nroutes, s->drop_dir ? s->drop_dir : "(off)",
	       s->pool ? s->pool->n : 0);
	fprintf(stderr, "lienthong serve: listening on %s://%s:%d\n",
		s->plain ? "http" : "https", s->listen, s->port);
	event_base_dispatch(s->base);
	pool_free(s->pool);
	s->pool = NULL;
	idl_stop(s);
	deliver_stop(s);
	gw_log(GW_LOG_INFO, "shutdown", NULL, "stopped cleanly");
out:
	if (s) {
		idl_stop(s);
		deliver_stop(s);
	}
	server_free(s);
	gw_sign_shutdown();
	return rc;
}
