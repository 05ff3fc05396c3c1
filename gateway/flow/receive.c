/*
 * receive.c - the receive pipeline of POST /v1/messages, in the order of
 * docs/ARCHITECTURE.md, once the transport (net/server.c) has identified
 * the partner by its client certificate: choose the format by media type
 * -> parse with limits, verify the signature, validate
 * (flow/receive_check.c, inline or in a verification worker,
 * flow/workers.c) -> the signer is the partner -> the partner's access
 * rights (flow/partners.c) -> deduplicate by message id -> the signed
 * receipt (flow/receive_receipt.c) -> the batch of the group commit,
 * stored durably in the inbox in one transaction -> the answer, and a
 * wake-up of the internal delivery thread (flow/inbound.c). Also GET
 * /v1/messages/ID/receipt, and the one place where server events are
 * recorded (gw_receiver_event).
 */
#include "flow/receive.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "crypto/digest.h"

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
void gw_receiver_event(struct gw_receiver *s, const struct gw_recv_event *e)
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
				.receiver = s->sign.org_id,
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

void gw_recv_req_event(const struct gw_recv_req *r, const char *event,
		       int status, const char *outcome, const char *reason)
{
	struct gw_recv_event e;

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
	gw_receiver_event(r->s, &e);
}

double gw_recv_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) +
	       (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

void gw_recv_problem(struct gw_recv_req *r, int status, const json_t *errors,
		     const char *fmt, ...)
{
	char detail[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	r->s->io.problem(r, status, errors, detail);
}

/* One accepted message waiting for its batch to be committed. */
struct gw_recv_pending {
	struct gw_recv_req r;
	long replay_of; /* index of the same message earlier in the batch */
	char *id, *sha, *partner, *kind, *sender, *ctype, *body, *receipt,
		*rtype, *canonical;
	size_t len, rlen;
};

static void pending_release(struct gw_recv_pending *p)
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
static gw_rc batch_add(struct gw_receiver *s, const struct gw_recv_req *r,
		       long replay_of, const char *id, const char *sha,
		       const char *partner, const char *kind,
		       const char *sender, const char *ctype, const char *body,
		       size_t len, char *receipt, size_t rlen,
		       const char *rtype, char *canonical)
{
	struct gw_recv_pending *p;

	if (s->nbatch == s->batch_cap) {
		size_t cap = s->batch_cap ? s->batch_cap * 2 : 64;
		struct gw_recv_pending *nb =
			gw_realloc(s->batch, cap * sizeof(*nb));

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
		s->io.flush_soon(s->io.arg);
	return GW_OK;
}

void gw_recv_flush(struct gw_receiver *s)
{
	struct gw_inbox_msg *m = gw_calloc(s->nbatch + 1, sizeof(*m));
	struct timespec t0;
	struct gw_err err;
	size_t i, k = 0, big = 0;
	gw_rc rc;

	gw_err_clear(&err);
	for (i = 0; m && i < s->nbatch; i++) {
		struct gw_recv_pending *p = &s->batch[i];

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
	       gw_recv_since(&t0) * 1000);
	for (i = 0; i < s->nbatch; i++) {
		struct gw_recv_pending *p = &s->batch[i];
		const struct gw_recv_pending *o =
			p->replay_of >= 0 ? &s->batch[p->replay_of] : p;

		if (rc) {
			gw_recv_problem(
				&p->r, rc == GW_ERR_IO ? 503 : 500, NULL,
				"the message was not stored: %s; send it "
				"again later",
				err.msg);
		} else {
			if (p->replay_of >= 0) {
				s->m.replays++;
			} else {
				s->m.accepted++;
				struct gw_recv_event e;

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
				gw_receiver_event(s, &e);
			}
			gw_recv_req_event(
				&p->r, "receipt-sent", 200,
				p->replay_of >= 0 ? "duplicate" : "ok",
				p->replay_of >= 0
					? "replay: the original receipt"
					: NULL);
			s->io.reply(&p->r, 200, "OK", o->rtype, o->receipt,
				    o->rlen, p->replay_of >= 0);
		}
		s->io.rearm(&p->r);
	}
	for (i = 0; i < s->nbatch; i++) {
		big = s->batch[i].len > big ? s->batch[i].len : big;
		pending_release(&s->batch[i]);
	}
	s->nbatch = 0;
	free(m);
	gw_trim_after(big);
	if (!rc)
		gw_receiver_wake(s);
}

void gw_recv_batch_clear(struct gw_receiver *s)
{
	while (s->nbatch) /* only when the loop ended with a batch pending */
		pending_release(&s->batch[--s->nbatch]);
	free(s->batch);
	s->batch = NULL;
	s->batch_cap = 0;
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
 * The rest of POST /v1/messages, in the event loop, once c is known: the
 * signer is the partner, the message is valid, the partner may send it,
 * dedup, the receipt, the batch of the group commit (answered by
 * gw_recv_flush). body[0..len) are the bytes received, sha their SHA-256.
 */
static void post_finish(struct gw_recv_req *r, const struct gw_partner *pt,
			const char *peer_subject,
			const struct gw_server_format *fmt, const char *ctype,
			int xml, const char *body, size_t len, const char *sha,
			struct gw_check *c)
{
	struct gw_receiver *s = r->s;
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
		gw_recv_problem(r, c->status, NULL, "%s", c->detail);
		goto out;
	}
	snprintf(r->signer, sizeof(r->signer), "%s", c->sres.subject);
	if (!gw_partner_signer_ok(pt, peer_subject, c->sres.subject)) {
		gw_recv_problem(
			r, 403, NULL,
			"the message is signed by '%s', which is not partner "
			"'%s' (add it to the partner's signers to allow it)",
			c->sres.subject, pt->name);
		goto out;
	}
	if (c->vstatus) {
		gw_recv_problem(r, c->vstatus, c->errors, "%s", c->detail);
		goto out;
	}
	id = json_string_value(json_object_get(c->val.json, "id"));
	kind = json_string_value(json_object_get(c->val.json, "kind"));
	sender = json_string_value(json_object_get(
		json_object_get(c->val.json, "sender"), "orgId"));
	snprintf(r->msg_id, sizeof(r->msg_id), "%s", id ? id : "");
	if (!id || !kind || !gw_check_msg_id(id)) {
		/* the schemas make ids UUIDs; the inbox and the drop folder
		 * rely on it */
		gw_recv_problem(r, 422, NULL,
				"message id '%s' is not a lowercase UUID",
				id ? id : "");
		goto out;
	}
	snprintf(r->kind, sizeof(r->kind), "%s", kind);
	snprintf(r->sender, sizeof(r->sender), "%s", sender ? sender : "");
	gw_recv_req_event(r, "validated", 0, "ok",
			  c->unsigned_wire
				  ? "unsigned wire format accepted (partner "
				    "signed: false): the client certificate "
				    "stands for the signer"
				  : NULL);
	if (!gw_partner_allows(pt, kind, sender,
			       json_object_get(c->val.json, "receivers"), why,
			       sizeof(why))) {
		gw_recv_problem(r, 403, NULL, "%s", why);
		goto out;
	}
	/* dedup: a replay gets the original receipt */
	if (gw_inbox_lookup(s->inbox, id, &found, old_sha, old_partner, &old,
			    &olen, &old_type, &err)) {
		gw_recv_problem(r, 503, NULL, "%s", err.msg);
		goto out;
	}
	if (found) {
		if (strcmp(old_sha, sha)) {
			gw_recv_problem(
				r, 409, NULL,
				"message id '%s' was already received with "
				"other content (sha256 %s); a new message "
				"needs a new id",
				id, old_sha);
			goto out;
		}
		s->m.replays++;
		gw_recv_req_event(r, "receipt-sent", 200, "duplicate",
				  "replay: the original receipt");
		s->io.reply(r, 200, "OK", old_type, old, olen, 1);
		goto out;
	}
	/* the same id earlier in the batch being committed */
	for (i = 0; i < s->nbatch; i++)
		if (!strcmp(s->batch[i].id, id))
			break;
	if (i < s->nbatch && strcmp(s->batch[i].sha, sha)) {
		gw_recv_problem(
			r, 409, NULL,
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
		   gw_receipt_make(&s->sign, c->val.json, sha, xml,
				   gw_recv_format_is_edxml(fmt) ? "edxml"
								: NULL,
				   &rcpt, &rlen, &rtype, &err)) {
		gw_recv_problem(r, 500, NULL, "cannot sign the receipt: %s",
				err.msg);
		goto out;
	}
	canonical = json_dumps(c->val.json, JSON_COMPACT);
	/* the message's tree is not needed any more: free it before the
	 * body is copied into the batch (a large message's peak) */
	if (!(ids = gw_strdup(id)) || !(kinds = gw_strdup(kind)) ||
	    !(senders = gw_strdup(sender ? sender : ""))) {
		gw_recv_problem(r, 500, NULL, "out of memory");
		goto out;
	}
	gw_validated_release(&c->val);
	if (!canonical || batch_add(s, r, i < s->nbatch ? (long)i : -1, ids,
				    sha, pt->name, kinds, senders, ctype, body,
				    len, rcpt, rlen, rtype, canonical)) {
		gw_recv_problem(r, 500, NULL, "out of memory");
		goto out;
	}
	rcpt = NULL; /* the batch owns them now */
	canonical = NULL;
	/* answered by gw_recv_flush once the batch is committed */
out:
	free(rcpt);
	free(canonical);
	free(old);
	free(old_type);
	free(ids);
	free(kinds);
	free(senders);
}

/* A verification job is done: finish the request in the loop. The
 * partner is looked up again (SIGHUP may have reloaded the partners
 * meanwhile). */
void gw_recv_post_done(void *arg, struct gw_job *j)
{
	struct gw_receiver *s = arg;
	struct gw_recv_req *r = &j->r;
	const struct gw_partner *pt =
		gw_partners_match(&s->partners, j->peer_subject, j->peer_sha);

	if (!pt)
		gw_recv_problem(
			r, 403, NULL,
			"client certificate '%s' is no longer a registered "
			"partner (the configuration was reloaded)",
			j->peer_subject);
	else
		post_finish(r, pt, j->peer_subject, NULL, j->ctype, j->xml,
			    j->body, j->len, j->sha, &j->c);
	s->io.rearm(r);
}

int gw_recv_post(struct gw_recv_req *r, const struct gw_partner *pt,
		 const char *peer_subject, const char *peer_sha,
		 const char *ctype_h, const char *body, size_t len,
		 size_t max_body)
{
	struct gw_receiver *s = r->s;
	char mt[96], sha[65];
	const char *ctype = NULL;
	const struct gw_server_format *fmt = NULL; /* a wire format */
	struct gw_check c;
	int xml;

	media_type(ctype_h, mt, sizeof(mt));
	xml = strstr(mt, "xml") != NULL;
	r->xml = xml;
	if (len > max_body) { /* chunked bodies end up here */
		gw_recv_problem(
			r, 413, NULL,
			"the body is larger than %zu bytes (server.limits."
			"max_body_bytes)",
			max_body);
		goto out;
	}
	if (!len || !body) {
		gw_recv_problem(r, 400, NULL,
				"the body is empty: send a signed "
				"message");
		goto out;
	}
	/* choose the format by media type */
	if (!strcmp(mt, "application/json") ||
	    !strcmp(mt, "application/jose+json") ||
	    !strcmp(mt, "application/jose")) {
		ctype = "application/jose+json";
	} else if ((!strcmp(mt, "application/xml") ||
		    !strcmp(mt, "text/xml")) &&
		   !(fmt = gw_recv_format_sniff(body, len))) {
		ctype = "application/xml";
	} else if (fmt) {
		/* a wire format sent as plain XML: read as that format */
		ctype = fmt->media_type;
	} else {
		fmt = gw_server_format_find(mt);
		if (!fmt || !fmt->decode) {
			if (fmt)
				gw_recv_problem(
					r, 415, NULL,
					"'%s' (%s) needs a format adapter and "
					"none is loaded; send canonical JSON "
					"(application/jose+json) or XML "
					"(application/xml)",
					mt, fmt->name);
			else
				gw_recv_problem(
					r, 415, NULL,
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
	gw_sha256_hex(body, len, sha);
	memcpy(r->sha, sha, sizeof(r->sha));
	xml = fmt || strstr(ctype, "xml") != NULL;
	r->xml = xml;
	if (!fmt && s->pool &&
	    !gw_workers_submit(s->pool, r, pt->name, peer_subject, peer_sha,
			       ctype, xml, body, len, sha))
		return 1; /* answered when a worker is done (gw_recv_post_done) */
	gw_check_signed(s->verifier, s->validator, fmt, pt->unsigned_wire,
			pt->name, peer_subject, body, len, xml, &c);
	post_finish(r, pt, peer_subject, fmt, ctype, xml, body, len, sha, &c);
	gw_check_release(&c);
out:
	return 0;
}

void gw_recv_receipt(struct gw_recv_req *r, const struct gw_partner *pt,
		     const char *id)
{
	char sha[65], partner[64];
	char *rc_body = NULL, *rtype = NULL;
	size_t rlen = 0;
	int found = 0;
	struct gw_err err;

	gw_err_clear(&err);
	snprintf(r->msg_id, sizeof(r->msg_id), "%s", id);
	if (!gw_check_msg_id(id)) {
		gw_recv_problem(r, 404, NULL, "'%s' is not a message id", id);
		return;
	}
	if (gw_inbox_lookup(r->s->inbox, id, &found, sha, partner, &rc_body,
			    &rlen, &rtype, &err)) {
		gw_recv_problem(r, 503, NULL, "%s", err.msg);
		return;
	}
	if (!found || strcmp(partner, pt->name)) {
		/* another partner's message is as good as absent */
		gw_recv_problem(r, 404, NULL,
				"no message '%s' was received from '%s'", id,
				pt->name);
	} else {
		r->xml = strstr(rtype, "xml") != NULL;
		r->s->io.reply(r, 200, "OK", rtype, rc_body, rlen, 0);
	}
	free(rc_body);
	free(rtype);
}

void gw_receiver_wake(struct gw_receiver *s)
{
	pthread_mutex_lock(&s->lock);
	s->idl_wake = 1;
	pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->lock);
}
