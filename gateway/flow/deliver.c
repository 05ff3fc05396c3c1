/*
 * deliver.c - the delivery engine.
 *
 * Each round takes the due deliveries from the outbox, sends them all at
 * once through the forwarding's HTTP transport (flow/transport.h; libcurl
 * in net/client.c keeps and reuses connections between rounds), then
 * records every outcome in one transaction. A
 * delivery is recorded only after the destination answered, so a crash
 * at any moment means "send again": the message id travels as the
 * idempotency key (Idempotency-Key, X-Road-Id) so that a receiver that
 * deduplicates sees each message once.
 *
 * Outcomes: 2xx completes (a receipt in the body that names another
 * message or says "rejected" does not); 408, 429, 5xx, timeouts and
 * connection errors retry with backoff; other 4xx and an X-Road "Client."
 * error go to the dead letters with the reason, as does a delivery that
 * ran out of attempts or age.
 */
#include "flow/deliver.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "audit/audit.h"
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

/* ---- one round ----------------------------------------------------------- */

/* The headers of a delivery: X-Road's two, Content-Type, Idempotency-Key,
 * Expect, Authorization, and the NULL that ends them. */
#define NHDRS 7

struct xfer {
	struct gw_due *due;
	struct gw_dest *dest;
	const char *fail; /* failed before sending (no token): retry */
	struct gw_http_exchange ex;
	struct gw_buf url;
	char hbuf[NHDRS - 1][512];
	const char *hdrs[NHDRS];
	char xroad_error[128];
	long retry_after_s;
	int done;
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

/* A body we can check: a canonical receipt must name our message and must
 * not say "rejected". Anything else in a 2xx is accepted as is. */
static const char *check_receipt(struct xfer *x)
{
	json_t *j, *p;
	const char *why = NULL, *id, *oc;

	if (!x->ex.body.len)
		return NULL;
	j = json_loadb(x->ex.body.data, x->ex.body.len, 0, NULL);
	if (!j)
		return NULL;
	if (json_is_string(json_object_get(j, "kind")) &&
	    strcmp(json_string_value(json_object_get(j, "kind")), "receipt") ==
		    0) {
		p = json_object_get(j, "payload");
		id = json_string_value(json_object_get(p, "messageId"));
		oc = json_string_value(json_object_get(p, "outcome"));
		if (id && strcmp(id, x->due->msg_id))
			why = "the receipt names another message";
		else if (oc && strcmp(oc, "rejected") == 0)
			why = "the receiver's receipt says rejected";
	}
	json_decref(j);
	return why;
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
	char why[512] = "";
	enum { DONE, RETRY, DEAD } what;
	const char *bad;
	int64_t next = now;
	enum gw_dlv_state state;

	status = x->ex.status;
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
		bad = check_receipt(x);
		what = bad ? DEAD : DONE;
		if (bad)
			snprintf(why, sizeof(why), "%s", bad);
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
		char dg[65], code[32];

		gw_sha256_hex(x->due->body, x->due->len, dg);
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
			note(audit, x->due, d->name, "receipt", "ok", NULL,
			     NULL, x->ex.body.data, x->ex.body.len);
		if (what == DEAD)
			note(audit, x->due, d->name, "dead-lettered", "failed",
			     why, dg, NULL, 0);
	}
	if (what == DONE && x->ex.body.len) {
		gw_rc rc =
			gw_outbox_receipt(o, x->due->msg_id, d->name, now,
					  x->ex.body.data, x->ex.body.len, err);

		if (rc)
			return rc;
	}
	return gw_outbox_record(o, x->due->msg_id, d->name, now, (int)status,
				what == DONE ? NULL : why, state, next, err);
}

static gw_rc round_trip(struct gw_outbox *o, struct gw_forwarding *f,
			void *session, struct gw_due *due, size_t n,
			size_t *sent, struct gw_deliver_stats *st,
			struct gw_err *err)
{
	const struct gw_http_transport *t = f->transport;
	struct xfer *xs = gw_calloc(n, sizeof(*xs));
	size_t i;
	gw_rc rc = GW_OK;

	if (!xs)
		return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
	for (i = 0; i < n; i++) {
		xs[i].due = &due[i];
		xs[i].dest = find_dest(f, due[i].dest);
		gw_buf_init(&xs[i].ex.body);
		gw_buf_init(&xs[i].url);
	}
	for (i = 0; i < n; i++) {
		if (!xs[i].dest) {
			xs[i].done = -1; /* destination removed from config */
			continue;
		}
		if (!take_token(xs[i].dest, gw_now_ms()))
			continue; /* over the rate limit: stays due */
		(*sent)++;
		if (xs[i].dest->token_url &&
		    (!xs[i].dest->token ||
		     gw_now_ms() >= xs[i].dest->token_expires_ms) &&
		    (xs[i].fail = get_token(t, xs[i].dest, gw_now_ms()))) {
			xs[i].done = 1;
			continue;
		}
		if (setup(&xs[i]) || t->submit(session, &xs[i].ex)) {
			rc = gw_err_set(err, GW_ERR_NOMEM, "out of memory");
			goto out;
		}
		xs[i].done = 1; /* recorded once the transport ran */
	}
	t->run(session);
	if ((rc = gw_outbox_begin(o, err)))
		goto out;
	for (i = 0; i < n && !rc; i++) {
		int64_t now = gw_now_ms();

		if (xs[i].done == -1) {
			note(f->audit, &due[i], due[i].dest, "dead-lettered",
			     "failed", "destination no longer configured", NULL,
			     due[i].body, due[i].len);
			rc = gw_outbox_record(
				o, due[i].msg_id, due[i].dest, now, 0,
				"destination no longer configured", GW_DLV_DEAD,
				now, err);
		} else if (xs[i].done == 1) {
			rc = record(o, f->audit, &xs[i], now, st, err);
		}
	}
	if (!rc)
		rc = gw_outbox_commit(o, err);
out:
	for (i = 0; i < n; i++) {
		t->release(session, &xs[i].ex);
		gw_buf_release(&xs[i].ex.body);
		gw_buf_release(&xs[i].url);
	}
	free(xs);
	return rc;
}

gw_rc gw_deliver_run(struct gw_outbox *o, struct gw_forwarding *f,
		     int max_inflight, int once, int64_t linger_ms,
		     volatile sig_atomic_t *stop, struct gw_deliver_stats *st,
		     struct gw_err *err)
{
	void *session;
	gw_rc rc = GW_OK;
	int64_t idle_since = gw_now_ms();

	if (!f->transport)
		return gw_err_set(err, GW_ERR_INTERNAL,
				  "no HTTP transport set for delivery");
	if (!(session = f->transport->open(max_inflight)))
		return gw_err_set(err, GW_ERR_NOMEM, "cannot start libcurl");
	/* *stop is set by a signal handler (deliver) or by another thread
	 * (serve): an atomic load serves both */
	while (!(stop && __atomic_load_n(stop, __ATOMIC_ACQUIRE))) {
		struct gw_due *due;
		size_t n;

		if ((rc = gw_outbox_due(o, gw_now_ms(), (size_t)max_inflight,
					&due, &n, err)))
			break;
		if (n) {
			size_t sent = 0;

			if ((rc = round_trip(o, f, session, due, n, &sent, st,
					     err)))
				break;
			idle_since = gw_now_ms();
			if (!sent) /* all held back by rate limits */
				usleep(20000);
			continue;
		}
		if (once && gw_now_ms() - idle_since >= linger_ms)
			break;
		usleep(50000);
	}
	f->transport->close(session);
	return rc;
}
