/*
 * deliver.c - the delivery engine.
 *
 * Each round takes the due deliveries from the outbox, sends them all at
 * once through one curl multi handle (connections are kept and reused
 * between rounds), then records every outcome in one transaction. A
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

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "audit/audit.h"

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

struct xfer {
	struct gw_due *due;
	struct gw_dest *dest;
	const char *fail; /* failed before sending (no token): retry */
	CURL *h;
	struct curl_slist *hdrs;
	struct gw_buf body;
	char xroad_error[128];
	long retry_after_s;
	CURLcode cc;
	int done;
};

static size_t on_body(char *p, size_t sz, size_t n, void *arg)
{
	struct xfer *x = arg;

	if (x->body.len < 65536)
		(void)gw_buf_add(&x->body, p, sz * n);
	return sz * n;
}

static size_t on_header(char *p, size_t sz, size_t n, void *arg)
{
	struct xfer *x = arg;
	size_t len = sz * n;

	if (len > 14 && strncasecmp(p, "X-Road-Error:", 13) == 0) {
		snprintf(x->xroad_error, sizeof(x->xroad_error), "%.*s",
			 (int)(len - 14), p + 14);
		x->xroad_error[strcspn(x->xroad_error, "\r\n")] = '\0';
	} else if (len > 12 && strncasecmp(p, "Retry-After:", 12) == 0) {
		x->retry_after_s = strtol(p + 12, NULL, 10);
	}
	return len;
}

static struct gw_dest *find_dest(struct gw_forwarding *f, const char *name)
{
	size_t i;

	for (i = 0; i < f->ndests; i++)
		if (strcmp(f->dests[i].name, name) == 0)
			return &f->dests[i];
	return NULL;
}

static void tls_opts(CURL *h, const struct gw_dest *d)
{
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR,
			 d->allow_http ? "https,http" : "https");
	curl_easy_setopt(h, CURLOPT_SSLVERSION, CURL_SSLVERSION_TLSv1_2);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	if (d->ca)
		curl_easy_setopt(h, CURLOPT_CAINFO, d->ca);
	if (d->cert)
		curl_easy_setopt(h, CURLOPT_SSLCERT, d->cert);
	if (d->key)
		curl_easy_setopt(h, CURLOPT_SSLKEY, d->key);
}

static size_t to_buf(char *p, size_t sz, size_t n, void *arg)
{
	struct gw_buf *b = arg;

	if (b->len + sz * n > 65536 || gw_buf_add(b, p, sz * n))
		return 0;
	return sz * n;
}

/*
 * The token transport of the provincial and ministerial platforms: POST
 * {"accessKey", "secretKey"} to the token URL, get {"access_token",
 * "expires_in"}. Returns NULL, or why it failed (a static string).
 */
static const char *get_token(struct gw_dest *d, int64_t now)
{
	CURL *h = curl_easy_init();
	struct curl_slist *hdrs = NULL;
	struct gw_buf resp;
	json_t *req, *j = NULL;
	char *body;
	long status = 0;
	json_int_t ttl;
	const char *why = NULL, *tok;
	CURLcode cc;

	free(d->token);
	d->token = NULL;
	req = json_pack("{s:s, s:s}", "accessKey", d->token_key, "secretKey",
			d->token_secret);
	body = req ? json_dumps(req, JSON_COMPACT) : NULL;
	json_decref(req);
	gw_buf_init(&resp);
	if (!h || !body) {
		why = "out of memory";
		goto out;
	}
	hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
	curl_easy_setopt(h, CURLOPT_URL, d->token_url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, d->timeout_ms);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, to_buf);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &resp);
	tls_opts(h, d);
	cc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	if (cc != CURLE_OK) {
		why = "cannot reach the token endpoint";
		goto out;
	}
	if (status != 200) {
		why = "the token endpoint refused the access key";
		goto out;
	}
	j = json_loadb(resp.data ? resp.data : "", resp.len, 0, NULL);
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
	gw_buf_release(&resp);
	curl_slist_free_all(hdrs);
	if (h)
		curl_easy_cleanup(h);
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

static gw_rc setup(struct xfer *x, CURLSH *share)
{
	const struct gw_dest *d = x->dest;
	char h[512];
	struct gw_buf url;

	gw_buf_init(&url);
	x->h = curl_easy_init();
	if (!x->h)
		return GW_ERR_NOMEM;
	if (d->transport == GW_TRANSPORT_XROAD) {
		/* REST protocol: /r1/{instance}/{class}/{member}/{sub}/{service} */
		if (gw_buf_addf(&url, "%s/r1/%s", d->url,
				d->xroad_service ? d->xroad_service : ""))
			return GW_ERR_NOMEM;
		snprintf(h, sizeof(h), "X-Road-Client: %s",
			 d->xroad_client ? d->xroad_client : "");
		x->hdrs = curl_slist_append(x->hdrs, h);
		snprintf(h, sizeof(h), "X-Road-Id: %s", x->due->msg_id);
		x->hdrs = curl_slist_append(x->hdrs, h);
	} else if (gw_buf_adds(&url, d->url)) {
		return GW_ERR_NOMEM;
	}
	snprintf(h, sizeof(h), "Content-Type: %s", x->due->content_type);
	x->hdrs = curl_slist_append(x->hdrs, h);
	snprintf(h, sizeof(h), "Idempotency-Key: %s", x->due->msg_id);
	x->hdrs = curl_slist_append(x->hdrs, h);
	x->hdrs = curl_slist_append(x->hdrs, "Expect:");
	if (d->token) {
		snprintf(h, sizeof(h), "Authorization: Bearer %s", d->token);
		x->hdrs = curl_slist_append(x->hdrs, h);
	}
	curl_easy_setopt(x->h, CURLOPT_URL, url.data);
	gw_buf_release(&url);
	curl_easy_setopt(x->h, CURLOPT_HTTPHEADER, x->hdrs);
	curl_easy_setopt(x->h, CURLOPT_POST, 1L);
	curl_easy_setopt(x->h, CURLOPT_POSTFIELDS, x->due->body);
	curl_easy_setopt(x->h, CURLOPT_POSTFIELDSIZE_LARGE,
			 (curl_off_t)x->due->len);
	curl_easy_setopt(x->h, CURLOPT_TIMEOUT_MS, x->dest->timeout_ms);
	curl_easy_setopt(x->h, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
	tls_opts(x->h, d);
	curl_easy_setopt(x->h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(x->h, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(x->h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(x->h, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(x->h, CURLOPT_SHARE, share);
	curl_easy_setopt(x->h, CURLOPT_PRIVATE, x);
	return GW_OK;
}

/* A body we can check: a canonical receipt must name our message and must
 * not say "rejected". Anything else in a 2xx is accepted as is. */
static const char *check_receipt(struct xfer *x)
{
	json_t *j, *p;
	const char *why = NULL, *id, *oc;

	if (!x->body.len)
		return NULL;
	j = json_loadb(x->body.data, x->body.len, 0, NULL);
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

	if (x->h)
		curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &status);
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
	} else if (x->cc != CURLE_OK) {
		what = RETRY;
		snprintf(why, sizeof(why), "%s", curl_easy_strerror(x->cc));
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
			 x->body.data ? x->body.data : "");
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

		gw_outbox_sha256_hex(x->due->body, x->due->len, dg);
		snprintf(code, sizeof(code), "HTTP %ld", status);
		note(audit, x->due, d->name, "attempt",
		     what == DONE   ? "ok"
		     : what == DEAD ? "failed"
				    : "retry",
		     what == DONE ? code : why, dg, NULL, 0);
		if (what == DONE)
			note(audit, x->due, d->name, "delivered", "ok", code,
			     dg, NULL, 0);
		if (what == DONE && x->body.len)
			note(audit, x->due, d->name, "receipt", "ok", NULL,
			     NULL, x->body.data, x->body.len);
		if (what == DEAD)
			note(audit, x->due, d->name, "dead-lettered", "failed",
			     why, dg, NULL, 0);
	}
	if (what == DONE && x->body.len) {
		gw_rc rc = gw_outbox_receipt(o, x->due->msg_id, d->name, now,
					     x->body.data, x->body.len, err);

		if (rc)
			return rc;
	}
	return gw_outbox_record(o, x->due->msg_id, d->name, now, (int)status,
				what == DONE ? NULL : why, state, next, err);
}

static gw_rc round_trip(struct gw_outbox *o, struct gw_forwarding *f,
			CURLM *multi, CURLSH *share, struct gw_due *due,
			size_t n, size_t *sent, struct gw_deliver_stats *st,
			struct gw_err *err)
{
	struct xfer *xs = gw_calloc(n, sizeof(*xs));
	int running = 0;
	size_t i;
	gw_rc rc = GW_OK;
	CURLMsg *m;
	int left;

	if (!xs)
		return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
	for (i = 0; i < n; i++) {
		xs[i].due = &due[i];
		xs[i].dest = find_dest(f, due[i].dest);
		gw_buf_init(&xs[i].body);
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
		    (xs[i].fail = get_token(xs[i].dest, gw_now_ms()))) {
			xs[i].done = 1;
			continue;
		}
		if (setup(&xs[i], share)) {
			rc = gw_err_set(err, GW_ERR_NOMEM, "out of memory");
			goto out;
		}
		curl_multi_add_handle(multi, xs[i].h);
	}
	do {
		curl_multi_perform(multi, &running);
		while ((m = curl_multi_info_read(multi, &left))) {
			struct xfer *x = NULL;

			if (m->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE,
					  (char **)&x);
			x->cc = m->data.result;
			x->done = 1;
		}
		if (running)
			curl_multi_poll(multi, NULL, 0, 1000, NULL);
	} while (running);
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
		if (xs[i].h) {
			curl_multi_remove_handle(multi, xs[i].h);
			curl_easy_cleanup(xs[i].h);
		}
		curl_slist_free_all(xs[i].hdrs);
		gw_buf_release(&xs[i].body);
	}
	free(xs);
	return rc;
}

gw_rc gw_deliver_run(struct gw_outbox *o, struct gw_forwarding *f,
		     int max_inflight, int once, int64_t linger_ms,
		     volatile sig_atomic_t *stop, struct gw_deliver_stats *st,
		     struct gw_err *err)
{
	CURLM *multi;
	CURLSH *share;
	gw_rc rc = GW_OK;
	int64_t idle_since = gw_now_ms();

	curl_global_init(CURL_GLOBAL_DEFAULT);
	multi = curl_multi_init();
	share = curl_share_init();
	if (!multi || !share) {
		rc = gw_err_set(err, GW_ERR_NOMEM, "cannot start libcurl");
		goto out;
	}
	curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
	curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
	curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS,
			  (long)max_inflight);
	/* keep every connection of a full round: by default libcurl keeps 4
	 * per easy handle added, so a small round after a full one closed
	 * connections that the next full round had to open again (a TLS
	 * handshake, the client key and CA file loaded, per connection) */
	curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, (long)max_inflight);
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

			if ((rc = round_trip(o, f, multi, share, due, n, &sent,
					     st, err)))
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
out:
	curl_multi_cleanup(multi);
	curl_share_cleanup(share);
	curl_global_cleanup();
	return rc;
}
