/*
 * deliver.c - the delivery engine.
 *
 * A window of up to max_inflight deliveries is in flight through the
 * forwarding's HTTP transport (flow/transport.h; libcurl in
 * net/client.c keeps and reuses connections). Each delivery taken from
 * the outbox is leased (due again only after its timeout), and its
 * outcome is recorded as soon as its answer is there, together with the
 * others that completed meanwhile, in one transaction; its slot is then
 * filled again. A delivery is recorded only after the destination
 * answered, so a crash at any moment means "send again" for what was in
 * flight, and only that: the message id travels as the idempotency key
 * (Idempotency-Key, X-Road-Id) so that a receiver that deduplicates sees
 * each message once.
 *
 * Outcomes: 2xx completes when the answer is what the destination's
 * receipt policy expects (flow/deliver_receipt.c: a receipt must verify,
 * be signed by the destination, name the message and bind the bytes
 * sent; a forged or wrong one is a failed attempt, a verified one saying
 * "rejected" a dead letter); 408, 429, 5xx, timeouts and connection
 * errors retry with backoff; other 4xx and an X-Road "Client." error go
 * to the dead letters with the reason, as does a delivery that ran out of
 * attempts or age.
 */
#include "flow/deliver.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "audit/audit.h"
#include "base/log.h"
#include "crypto/digest.h"

static char *dup_path(const struct gw_config *cfg, const char *ptr)
{
	return gw_config_get(cfg, ptr) ? gw_config_path(cfg, ptr) : NULL;
}

static char *dup_str(const struct gw_config *cfg, const char *ptr)
{
	const char *s = gw_config_str(cfg, ptr, NULL);

	return s ? gw_strdup(s) : NULL;
}

static char **str_list(const json_t *arr)
{
	char **out;
	size_t i;

	if (!json_is_array(arr))
		return NULL;
	out = gw_calloc(json_array_size(arr) + 1, sizeof(*out));
	for (i = 0; out && i < json_array_size(arr); i++)
		out[i] = gw_strdup(json_string_value(json_array_get(arr, i)));
	return out;
}

static void free_list(char **l)
{
	size_t i;

	for (i = 0; l && l[i]; i++)
		free(l[i]);
	free(l);
}

void gw_dest_variant_key(const struct gw_dest *d, char *out, size_t n)
{
	if (d->profile)
		snprintf(out, n, "%s;profile=%s", d->format, d->profile);
	else
		snprintf(out, n, "%s", d->format ? d->format : "");
}

gw_rc gw_forwarding_load(const struct gw_config *cfg, struct gw_forwarding *f,
			 struct gw_err *err)
{
	json_t *dests = gw_config_get(cfg, "/destinations");
	json_t *routes = gw_config_get(cfg, "/routes");
	const char *name;
	json_t *v;
	size_t i, j;

	memset(f, 0, sizeof(*f));
	f->dests = gw_calloc(json_object_size(dests) + 1, sizeof(*f->dests));
	f->routes = gw_calloc(json_array_size(routes) + 1, sizeof(*f->routes));
	if (!f->dests || !f->routes)
		return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
	json_object_foreach(dests, name, v)
	{
		struct gw_dest *d = &f->dests[f->ndests++];
		char p[256];
		const char *t;

#define P(key) (snprintf(p, sizeof(p), "/destinations/%s/%s", name, key), p)
		d->name = gw_strdup(name);
		d->url = dup_str(cfg, P("url"));
		d->ca = dup_path(cfg, P("ca"));
		d->cert = dup_path(cfg, P("cert"));
		d->key = dup_path(cfg, P("key"));
		t = gw_config_str(cfg, P("transport"), "https");
		d->transport = strcmp(t, "x-road") == 0 ? GW_TRANSPORT_XROAD
							: GW_TRANSPORT_HTTPS;
		d->xroad_client = dup_str(cfg, P("xroad/client"));
		d->xroad_service = dup_str(cfg, P("xroad/service"));
		d->timeout_ms =
			(long)gw_config_int(cfg, P("timeout_ms"), 10000);
		d->max_attempts =
			(int)gw_config_int(cfg, P("retry/max_attempts"), 20);
		d->max_age_ms =
			gw_config_int(cfg, P("retry/max_age_s"), 3 * 86400) *
			1000;
		d->backoff_ms = gw_config_int(cfg, P("retry/backoff_ms"), 1000);
		d->backoff_max_ms =
			gw_config_int(cfg, P("retry/backoff_max_ms"), 3600000);
		d->allow_http = gw_config_bool(cfg, P("allow_plain_http"), 0);
		d->rate_per_s =
			(int)gw_config_int(cfg, P("rate_limit_per_s"), 0);
		d->format = dup_str(cfg, P("format"));
		d->profile = dup_path(cfg, P("profile"));
		d->receipt.policy = gw_receipt_policy_parse(
			gw_config_str(cfg, P("receipt"), "optional"));
		d->receipt.signer = dup_str(cfg, P("receipt_signer"));
		d->receipt.key = dup_path(cfg, P("receipt_key"));
		d->receipt.trust = gw_config_get(cfg, P("receipt_trust"))
					   ? dup_path(cfg, P("receipt_trust"))
					   : dup_path(cfg, "/trust/dir");
		d->receipt.algs =
			str_list(gw_config_get(cfg, "/trust/algorithms"));
		if (d->receipt.policy < 0)
			return gw_err_set(err, GW_ERR_CONFIG,
					  "%s: destinations.%s.receipt: "
					  "'%s' is not required, optional "
					  "or none",
					  cfg->path, name,
					  gw_config_str(cfg, P("receipt"), ""));
		if (d->receipt.policy == GW_RECEIPT_REQUIRED &&
		    !d->receipt.signer && !d->receipt.key)
			return gw_err_set(
				err, GW_ERR_CONFIG,
				"%s: destinations.%s.receipt: required needs "
				"receipt_signer (the subject of the "
				"certificate the destination signs with) or "
				"receipt_key, so that no other certificate "
				"can stand in for it",
				cfg->path, name);
		d->token_url = dup_str(cfg, P("token/url"));
		if (d->token_url) {
			gw_rc rc = gw_config_secret(cfg, P("token/access_key"),
						    &d->token_key, err);

			if (!rc)
				rc = gw_config_secret(cfg,
						      P("token/secret_key"),
						      &d->token_secret, err);
			if (rc)
				return rc;
		}
#undef P
		if (!d->name || !d->url)
			return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
		if (d->profile &&
		    (!d->format || strncmp(d->format, "report-packet", 13)))
			return gw_err_set(
				err, GW_ERR_CONFIG,
				"%s: destinations.%s.profile: a "
				"profile renames the fields of the "
				"report packet; set format: "
				"report-packet or report-packet-json, "
				"or drop the profile",
				cfg->path, name);
		if (strncmp(d->url, "https://", 8) != 0 &&
		    !(d->allow_http &&
		      (strncmp(d->url, "http://127.0.0.1:", 17) == 0 ||
		       strncmp(d->url, "http://localhost:", 17) == 0)))
			return gw_err_set(err, GW_ERR_CONFIG,
					  "%s: destinations.%s.url: only https "
					  "(plain http only to loopback with "
					  "allow_plain_http)",
					  cfg->path, name);
	}
	for (i = 0; i < json_array_size(routes); i++) {
		json_t *r = json_array_get(routes, i);
		struct gw_route *rt = &f->routes[f->nroutes++];

		rt->kinds = str_list(json_object_get(r, "kinds"));
		rt->senders = str_list(json_object_get(r, "senders"));
		rt->receivers = str_list(json_object_get(r, "receivers"));
		rt->classifications =
			str_list(json_object_get(r, "classifications"));
		rt->dests = str_list(json_object_get(r, "to"));
		for (j = 0; rt->dests && rt->dests[j]; j++) {
			size_t k;
			int found = 0;

			for (k = 0; k < f->ndests; k++)
				found |=
					!strcmp(f->dests[k].name, rt->dests[j]);
			if (!found)
				return gw_err_set(err, GW_ERR_CONFIG,
						  "%s: routes.%zu.to: unknown "
						  "destination '%s'",
						  cfg->path, i, rt->dests[j]);
		}
	}
	return GW_OK;
}

void gw_forwarding_release(struct gw_forwarding *f)
{
	size_t i;

	for (i = 0; f->dests && i < f->ndests; i++) {
		struct gw_dest *d = &f->dests[i];

		free(d->name);
		free(d->url);
		free(d->ca);
		free(d->cert);
		free(d->key);
		free(d->xroad_client);
		free(d->xroad_service);
		free(d->token_url);
		free(d->token_key);
		free(d->token_secret);
		free(d->token);
		free(d->format);
		free(d->profile);
		gw_receipt_release(&d->receipt);
	}
	for (i = 0; f->routes && i < f->nroutes; i++) {
		free_list(f->routes[i].kinds);
		free_list(f->routes[i].senders);
		free_list(f->routes[i].receivers);
		free_list(f->routes[i].classifications);
		free_list(f->routes[i].dests);
	}
	free(f->dests);
	free(f->routes);
	memset(f, 0, sizeof(*f));
}

static int matches(char **list, const char *v)
{
	size_t i;

	if (!list)
		return 1;
	for (i = 0; v && list[i]; i++)
		if (strcmp(list[i], v) == 0)
			return 1;
	return 0;
}

static int any_receiver(char **list, const json_t *receivers)
{
	size_t i;

	if (!list)
		return 1;
	for (i = 0; i < json_array_size(receivers); i++)
		if (matches(list,
			    json_string_value(json_object_get(
				    json_array_get(receivers, i), "orgId"))))
			return 1;
	return 0;
}

const char **gw_forwarding_route(const struct gw_forwarding *f,
				 const json_t *msg)
{
	const char *kind = json_string_value(json_object_get(msg, "kind"));
	const char *sender = json_string_value(
		json_object_get(json_object_get(msg, "sender"), "orgId"));
	const char *cls =
		json_string_value(json_object_get(msg, "classification"));
	const char **out = gw_calloc(f->ndests + 1, sizeof(*out));
	size_t i, j, k, n = 0;

	for (i = 0; out && i < f->nroutes; i++) {
		const struct gw_route *r = &f->routes[i];

		if (!matches(r->kinds, kind) || !matches(r->senders, sender) ||
		    !matches(r->classifications, cls) ||
		    !any_receiver(r->receivers,
				  json_object_get(msg, "receivers")))
			continue;
		for (j = 0; r->dests && r->dests[j]; j++) {
			int seen = 0;

			for (k = 0; k < n; k++)
				seen |= !strcmp(out[k], r->dests[j]);
			if (!seen && n < f->ndests)
				out[n++] = r->dests[j];
		}
	}
	return out;
}

int64_t gw_deliver_backoff(const struct gw_dest *d, int attempts,
			   double jitter01)
{
	int64_t delay = d->backoff_ms;
	int i;

	for (i = 1; i < attempts && delay < d->backoff_max_ms; i++)
		delay *= 2;
	if (delay > d->backoff_max_ms)
		delay = d->backoff_max_ms;
	return (int64_t)((double)delay * (0.5 + jitter01));
}

/* ---- the window of deliveries in flight ---------------------------------- */

/* The headers of a delivery: X-Road's two, Content-Type, Idempotency-Key,
 * Expect, Authorization, and the NULL that ends them. */
#define NHDRS 7

struct xfer {
	struct gw_due *due; /* &own while in the window */
	struct gw_due own;
	struct gw_dest *dest;
	const char *fail; /* failed before sending (no token): retry */
	struct gw_http_exchange ex;
	struct gw_buf url;
	char hbuf[NHDRS - 1][512];
	const char *hdrs[NHDRS];
	char xroad_error[128];
	long retry_after_s;
};

static void on_header(void *arg, const char *p, size_t len)
{
	struct xfer *x = arg;

	if (len > 14 && strncasecmp(p, "X-Road-Error:", 13) == 0) {
		snprintf(x->xroad_error, sizeof(x->xroad_error), "%.*s",
			 (int)(len - 14), p + 14);
		x->xroad_error[strcspn(x->xroad_error, "\r\n")] = '\0';
	} else if (len > 12 && strncasecmp(p, "Retry-After:", 12) == 0) {
		x->retry_after_s = strtol(p + 12, NULL, 10);
	}
}

static struct gw_dest *find_dest(struct gw_forwarding *f, const char *name)
{
	size_t i;

	for (i = 0; i < f->ndests; i++)
		if (strcmp(f->dests[i].name, name) == 0)
			return &f->dests[i];
	return NULL;
}

/* The TLS files and timeout of destination d in ex. */
static void dest_opts(struct gw_http_exchange *ex, const struct gw_dest *d)
{
	ex->timeout_ms = d->timeout_ms;
	ex->ca = d->ca;
	ex->cert = d->cert;
	ex->key = d->key;
	ex->allow_http = d->allow_http;
}

/*
 * The token transport of the provincial and ministerial platforms: POST
 * {"accessKey", "secretKey"} to the token URL, get {"access_token",
 * "expires_in"}. Returns NULL, or why it failed (a static string).
 */
static const char *get_token(const struct gw_http_transport *t,
			     struct gw_dest *d, int64_t now)
{
	static const char *const hdrs[] = { "Content-Type: application/json",
					    NULL };
	struct gw_http_exchange ex;
	json_t *req, *j = NULL;
	char *body;
	json_int_t ttl;
	const char *why = NULL, *tok;

	free(d->token);
	d->token = NULL;
	req = json_pack("{s:s, s:s}", "accessKey", d->token_key, "secretKey",
			d->token_secret);
	body = req ? json_dumps(req, JSON_COMPACT) : NULL;
	json_decref(req);
	memset(&ex, 0, sizeof(ex));
	gw_buf_init(&ex.body);
	if (!body) {
		why = "out of memory";
		goto out;
	}
	ex.url = d->token_url;
	ex.headers = hdrs;
	ex.payload = body;
	ex.len = strlen(body);
	ex.strict_limit = 1;
	dest_opts(&ex, d);
	if (t->perform(&ex)) {
		why = "out of memory";
		goto out;
	}
	if (ex.error) {
		why = "cannot reach the token endpoint";
		goto out;
	}
	if (ex.status != 200) {
		why = "the token endpoint refused the access key";
		goto out;
	}
	j = json_loadb(ex.body.data ? ex.body.data : "", ex.body.len, 0, NULL);
	tok = json_string_value(json_object_get(j, "access_token"));
	if (!tok || !*tok || strpbrk(tok, "\r\n")) {
		why = "the token endpoint gave no usable access_token";
		goto out;
	}
	d->token = gw_strdup(tok);
	ttl = json_integer_value(json_object_get(j, "expires_in"));
	/* renew 30 s early; a token without a lifetime lives 30 s */
	d->token_expires_ms = now + (ttl > 60 ? ttl - 30 : 30) * 1000;
out:
	json_decref(j);
	gw_buf_release(&ex.body);
	t->release(NULL, &ex);
	free(body);
	return why;
}

/* Token bucket: may one more request go to d now? */
static int take_token(struct gw_dest *d, int64_t now)
{
	if (d->rate_per_s <= 0)
		return 1;
	if (!d->bucket_ms) {
		d->bucket = d->rate_per_s;
		d->bucket_ms = now;
	}
	d->bucket += (double)(now - d->bucket_ms) * d->rate_per_s / 1000.0;
	d->bucket_ms = now;
	if (d->bucket > d->rate_per_s)
		d->bucket = d->rate_per_s;
	if (d->bucket < 1.0)
		return 0;
	d->bucket -= 1.0;
	return 1;
}

/* The request of delivery x: URL, headers, the stored body (not copied). */
static gw_rc setup(struct xfer *x)
{
	const struct gw_dest *d = x->dest;
	struct gw_http_exchange *ex = &x->ex;
	size_t n = 0;

#define HDR(...)                                                \
	(snprintf(x->hbuf[n], sizeof(x->hbuf[n]), __VA_ARGS__), \
	 x->hdrs[n] = x->hbuf[n], n++)
	if (d->transport == GW_TRANSPORT_XROAD) {
		/* REST protocol: /r1/{instance}/{class}/{member}/{sub}/{service} */
		if (gw_buf_addf(&x->url, "%s/r1/%s", d->url,
				d->xroad_service ? d->xroad_service : ""))
			return GW_ERR_NOMEM;
		HDR("X-Road-Client: %s",
		    d->xroad_client ? d->xroad_client : "");
		HDR("X-Road-Id: %s", x->due->msg_id);
	} else if (gw_buf_adds(&x->url, d->url)) {
		return GW_ERR_NOMEM;
	}
	HDR("Content-Type: %s", x->due->content_type);
	HDR("Idempotency-Key: %s", x->due->msg_id);
	HDR("Expect:");
	if (d->token)
		HDR("Authorization: Bearer %s", d->token);
#undef HDR
	x->hdrs[n] = NULL;
	ex->url = x->url.data;
	ex->headers = x->hdrs;
	ex->payload = x->due->body;
	ex->len = x->due->len;
	ex->connect_timeout_ms = 5000;
	dest_opts(ex, d);
	ex->on_header = on_header;
	ex->arg = x;
	return GW_OK;
}

/* One audit entry about a delivery of due (no-op without an audit log). */
static void note(struct gw_audit *a, const struct gw_due *due, const char *dest,
		 const char *event, const char *outcome, const char *reason,
		 const char *digest, const void *payload, size_t plen)
{
	gw_audit_note(a,
		      &(struct gw_audit_entry){ .msg_id = due->msg_id,
						.kind = event,
						.msg_kind = due->kind,
						.sender = due->sender,
						.receiver = dest,
						.direction = "out",
						.outcome = outcome,
						.reason = reason,
						.digest = digest },
		      payload, plen);
}

static gw_rc record(struct gw_outbox *o, struct gw_audit *audit, struct xfer *x,
		    int64_t now, struct gw_deliver_stats *st,
		    struct gw_err *err)
{
	struct gw_dest *d = x->dest;
	int now_again = 0; /* retry at once: only the token was stale */
	long status = 0;
	char why[512] = "", verdict[512] = "", dg[65] = "";
	enum { DONE, RETRY, DEAD } what;
	int64_t next = now;
	enum gw_dlv_state state;

	status = x->ex.status;
	/* the SHA-256 of the bytes sent, once: for the audit entries and
	 * the receipt check (which hashes them itself when there is no
	 * audit log) */
	if (audit)
		gw_sha256_hex(x->due->body, x->due->len, dg);
	if (x->fail) {
		what = RETRY;
		snprintf(why, sizeof(why), "%s", x->fail);
	} else if (status == 401 && d->token_url) {
		/* the token expired early or was revoked: get a new one */
		free(d->token);
		d->token = NULL;
		what = RETRY;
		now_again = 1;
		snprintf(why, sizeof(why), "HTTP 401: access token refused");
	} else if (x->ex.error) {
		what = RETRY;
		snprintf(why, sizeof(why), "%s", x->ex.error);
	} else if (x->xroad_error[0]) {
		what = strncmp(x->xroad_error, "Client.", 7) == 0 ? DEAD
								  : RETRY;
		snprintf(why, sizeof(why), "X-Road error %s", x->xroad_error);
	} else if (status >= 200 && status < 300) {
		char vkey[PATH_MAX + 64];

		gw_dest_variant_key(d, vkey, sizeof(vkey));
		switch (gw_receipt_check(
			&d->receipt, d->name, d->format ? vkey : NULL,
			x->due->msg_id, x->due->body, x->due->len,
			audit ? dg : NULL, x->ex.body.data, x->ex.body.len,
			verdict, sizeof(verdict))) {
		case GW_RECEIPT_OK:
		case GW_RECEIPT_ABSENT: what = DONE; break;
		case GW_RECEIPT_REJECTED:
			what = DEAD;
			snprintf(why, sizeof(why), "%s", verdict);
			break;
		default:
			what = RETRY;
			snprintf(why, sizeof(why), "HTTP %ld, but %.480s",
				 status, verdict);
			gw_log(GW_LOG_WARN, "receipt", x->due->msg_id,
			       "destination=%s: %s", d->name, why);
		}
	} else if (status == 408 || status == 429 || status >= 500) {
		what = RETRY;
		snprintf(why, sizeof(why), "HTTP %ld", status);
	} else {
		what = DEAD;
		snprintf(why, sizeof(why), "HTTP %ld: %.300s", status,
			 x->ex.body.data ? x->ex.body.data : "");
	}
	st->attempts++;
	if (what == RETRY) {
		int attempts = x->due->attempts + 1;

		next = now_again ? now
				 : now + gw_deliver_backoff(d, attempts,
							    (double)random() /
								    RAND_MAX);
		if (x->retry_after_s > 0 &&
		    now + x->retry_after_s * 1000 > next)
			next = now + x->retry_after_s * 1000;
		if (attempts >= d->max_attempts) {
			what = DEAD;
			strncat(why, " (out of attempts)",
				sizeof(why) - strlen(why) - 1);
		} else if (now - x->due->first_at > d->max_age_ms) {
			what = DEAD;
			strncat(why, " (too old)",
				sizeof(why) - strlen(why) - 1);
		}
	}
	state = what == DONE   ? GW_DLV_DONE
		: what == DEAD ? GW_DLV_DEAD
			       : GW_DLV_PENDING;
	if (what == DONE)
		st->delivered++;
	else if (what == DEAD)
		st->dead++;
	else
		st->retried++;
	if (audit) {
		char code[32];

		snprintf(code, sizeof(code), "HTTP %ld", status);
		note(audit, x->due, d->name, "attempt",
		     what == DONE   ? "ok"
		     : what == DEAD ? "failed"
				    : "retry",
		     what == DONE ? code : why, dg, NULL, 0);
		if (what == DONE)
			note(audit, x->due, d->name, "delivered", "ok", code,
			     dg, NULL, 0);
		if (what == DONE && x->ex.body.len)
			note(audit, x->due, d->name, "receipt", "ok", verdict,
			     NULL, x->ex.body.data, x->ex.body.len);
		if (what == DEAD)
			note(audit, x->due, d->name, "dead-lettered", "failed",
			     why, dg, NULL, 0);
	}
	if (what == DONE && x->ex.body.len) {
		gw_rc rc = gw_outbox_receipt(o, x->due->msg_id, d->name, now,
					     x->ex.body.data, x->ex.body.len,
					     verdict, err);

		if (rc)
			return rc;
	}
	return gw_outbox_record(o, x->due->msg_id, d->name, now, (int)status,
				what == DONE ? NULL : why, state, next, err);
}

/* Take due row d from the outbox's answer into x (the outbox frees what
 * is left of it at its next call). */
static void own_due(struct xfer *x, struct gw_due *d)
{
	x->own = *d;
	memset(d, 0, sizeof(*d));
	x->due = &x->own;
}

static void clear_slot(const struct gw_http_transport *t, void *session,
		       struct xfer *x)
{
	t->release(session, &x->ex);
	gw_buf_release(&x->ex.body);
	gw_buf_release(&x->url);
	free(x->own.msg_id);
	free(x->own.dest);
	free(x->own.content_type);
	free(x->own.body);
	free(x->own.kind);
	free(x->own.sender);
	memset(x, 0, sizeof(*x));
}

/* How long a delivery in flight to d is leased: its whole timeout and a
 * margin, so that it is never taken twice while it may still be sent. */
static int64_t lease_ms(const struct gw_dest *d)
{
	return (d->timeout_ms > 0 ? d->timeout_ms : 10000) + 5000;
}

/*
 * One step of the window, in one transaction: record every exchange of
 * xs[0..max) that completed, then fill the free slots with due deliveries,
 * leasing each one taken (and holding back until its next token one over
 * its destination's rate limit, *held raised to the end of that hold).
 * *taken is the number of deliveries taken (slots to submit), *seen the
 * number found due.
 */
static gw_rc step(struct gw_outbox *o, struct gw_forwarding *f, void *session,
		  struct xfer *xs, size_t max, int fetch, size_t *taken,
		  size_t *seen, int64_t *held, struct gw_deliver_stats *st,
		  struct gw_err *err)
{
	const struct gw_http_transport *t = f->transport;
	size_t i, nfree = 0, n = 0, k;
	struct gw_due *due = NULL;
	gw_rc rc;

	*taken = *seen = 0;
	if ((rc = gw_outbox_begin_outcomes(o, err)))
		return rc;
	for (i = 0; i < max && !rc; i++) {
		struct xfer *x = &xs[i];

		if (x->due && x->ex.done) {
			rc = record(o, f->audit, x, gw_now_ms(), st, err);
			clear_slot(t, session, x);
		}
		nfree += !x->due;
	}
	if (!rc && fetch && nfree)
		rc = gw_outbox_due(o, gw_now_ms(), nfree, &due, &n, err);
	*seen = n;
	for (k = 0, i = 0; !rc && k < n; k++) {
		int64_t now = gw_now_ms();
		struct gw_dest *d = find_dest(f, due[k].dest);

		if (!d) {
			note(f->audit, &due[k], due[k].dest, "dead-lettered",
			     "failed", "destination no longer configured", NULL,
			     due[k].body, due[k].len);
			rc = gw_outbox_record(
				o, due[k].msg_id, due[k].dest, now, 0,
				"destination no longer configured", GW_DLV_DEAD,
				now, err);
			continue;
		}
		if (!take_token(d, now)) {
			/* over the rate limit: due again with its next token */
			int64_t until = now + 1 +
					(int64_t)((1.0 - d->bucket) * 1000.0 /
						  d->rate_per_s);

			if (until > *held)
				*held = until;
			rc = gw_outbox_lease(o, due[k].msg_id, due[k].dest,
					     until, err);
			continue;
		}
		while (xs[i].due)
			i++;
		if ((rc = gw_outbox_lease(o, due[k].msg_id, due[k].dest,
					  now + lease_ms(d), err)))
			break;
		own_due(&xs[i], &due[k]);
		xs[i].dest = d;
		gw_buf_init(&xs[i].ex.body);
		gw_buf_init(&xs[i].url);
		(*taken)++;
	}
	if (!rc)
		rc = gw_outbox_commit(o, err);
	return rc;
}

/* Whether an exchange of xs[0..max) is submitted and not done. */
static int in_flight(const struct xfer *xs, size_t max)
{
	size_t i;

	for (i = 0; i < max; i++)
		if (xs[i].due && xs[i].ex.priv && !xs[i].ex.done)
			return 1;
	return 0;
}

/* Submit the deliveries step() took (slots not yet sent). */
static gw_rc submit_taken(struct gw_forwarding *f, void *session,
			  struct xfer *xs, size_t max, struct gw_err *err)
{
	const struct gw_http_transport *t = f->transport;
	size_t i;

	for (i = 0; i < max; i++) {
		struct xfer *x = &xs[i];

		if (!x->due || x->ex.priv || x->ex.done)
			continue;
		if (x->dest->token_url &&
		    (!x->dest->token ||
		     gw_now_ms() >= x->dest->token_expires_ms)) {
			/* the token request blocks: let what is in flight
			 * finish first, so that no connection of the window
			 * waits half-open meanwhile (a server that accepts
			 * one handshake at a time would never answer it) */
			while (in_flight(xs, max))
				t->wait(session, 1000);
			if ((x->fail = get_token(t, x->dest, gw_now_ms()))) {
				x->ex.done = 1; /* recorded as a retry */
				continue;
			}
		}
		if (setup(x) || t->submit(session, &x->ex))
			return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
	}
	return GW_OK;
}

gw_rc gw_deliver_run(struct gw_outbox *o, struct gw_forwarding *f,
		     int max_inflight, int once, int64_t linger_ms,
		     volatile sig_atomic_t *stop, struct gw_deliver_stats *st,
		     struct gw_err *err)
{
	const struct gw_http_transport *t = f->transport;
	size_t max = max_inflight > 0 ? (size_t)max_inflight : 1, i;
	struct xfer *xs;
	void *session;
	gw_rc rc = GW_OK;
	int64_t idle_since = gw_now_ms(), fetch_at = 0, held = 0;

	if (!t)
		return gw_err_set(err, GW_ERR_INTERNAL,
				  "no HTTP transport set for delivery");
	if (!(xs = gw_calloc(max, sizeof(*xs))))
		return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
	if (!(session = t->open(max_inflight))) {
		free(xs);
		return gw_err_set(err, GW_ERR_NOMEM, "cannot start libcurl");
	}
	/*
	 * A continuous window: each exchange's outcome is recorded as soon as
	 * it completes (with the others that completed meanwhile, in one
	 * transaction), and its slot is filled again at once, so one slow
	 * destination never holds back the others and a crash repeats at
	 * most what was in flight. *stop is set by a signal handler
	 * (deliver) or by another thread (serve): an atomic load serves both.
	 */
	for (;;) {
		size_t taken = 0, seen = 0, inflight = 0, done = 0;
		int64_t now = gw_now_ms();
		int fetch = 0;
		/* once stopped, what is in flight is still awaited and
		 * recorded, but nothing new is taken */
		int stopping = stop && __atomic_load_n(stop, __ATOMIC_ACQUIRE);

		for (i = 0; i < max; i++) {
			inflight += xs[i].due != NULL;
			done += xs[i].due && xs[i].ex.done;
		}
		if (stopping && !inflight)
			break;
		if (done || (!stopping && inflight < max && now >= fetch_at)) {
			fetch = !stopping && inflight - done < max &&
				now >= fetch_at;

			if ((rc = step(o, f, session, xs, max, fetch, &taken,
				       &seen, &held, st, err)) ||
			    (rc = submit_taken(f, session, xs, max, err)))
				break;
			inflight = inflight - done + taken;
			if (fetch && !seen) /* nothing due: look again soon */
				fetch_at = gw_now_ms() + 50;
			else if (fetch && !taken) /* all over rate limits */
				fetch_at = gw_now_ms() + 20;
			if (inflight || seen)
				idle_since = gw_now_ms();
		}
		if (!inflight) {
			/* with once, deliveries this run held back for their
			 * rate limit are still waited for */
			if (once && fetch && !seen && gw_now_ms() >= held &&
			    gw_now_ms() - idle_since >= linger_ms)
				break;
			if (fetch_at > gw_now_ms())
				usleep((useconds_t)(fetch_at - gw_now_ms()) *
				       1000);
			continue;
		}
		t->wait(session,
			fetch_at > gw_now_ms() ? fetch_at - gw_now_ms() : 50);
	}
	for (i = 0; i < max; i++)
		if (xs[i].due)
			clear_slot(t, session, &xs[i]);
	free(xs);
	t->close(session);
	return rc;
}
