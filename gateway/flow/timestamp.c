/*
 * timestamp.c - RFC 3161 timestamps for the audit log's checkpoints
 * (timestamp.h).
 */
#include "flow/timestamp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "crypto/tsa.h"

struct cps {
	uint64_t *seq;
	char **jws;
	size_t n, cap;
	int oom;
};

static int collect(void *arg, const struct gw_audit_checkpoint *c)
{
	struct cps *l = arg;

	if (!c->jws)
		return 0; /* unsigned (a log without a key): nothing to prove */
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		uint64_t *s = realloc(l->seq, cap * sizeof(*s));
		char **j = s ? realloc(l->jws, cap * sizeof(*j)) : NULL;

		if (s)
			l->seq = s;
		if (!s || !j) {
			l->oom = 1;
			return 1;
		}
		l->jws = j;
		l->cap = cap;
	}
	if (!(l->jws[l->n] = gw_strdup(c->jws))) {
		l->oom = 1;
		return 1;
	}
	l->seq[l->n++] = c->seq;
	return 0;
}

static void cps_release(struct cps *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->jws[i]);
	free(l->jws);
	free(l->seq);
}

/* One TSA's token for data, or a reason in why. */
static gw_rc ask(const struct gw_http_transport *t, const char *url,
		 const char *ca, long timeout_ms, const char *data,
		 unsigned char **tok, size_t *tlen, int64_t *gen_ms, char *why,
		 size_t wn)
{
	static const char *const hdrs[] = {
		"Content-Type: application/timestamp-query", "Expect:", NULL
	};
	struct gw_http_exchange ex;
	unsigned char *req = NULL;
	size_t rlen = 0;
	struct gw_err err;
	gw_rc rc;

	gw_err_clear(&err);
	if ((rc = gw_tsa_request(data, strlen(data), &req, &rlen, &err))) {
		snprintf(why, wn, "%s", err.msg);
		return rc;
	}
	memset(&ex, 0, sizeof(ex));
	gw_buf_init(&ex.body);
	ex.url = url;
	ex.headers = hdrs;
	ex.payload = req;
	ex.len = rlen;
	ex.timeout_ms = timeout_ms;
	ex.allow_http = 1; /* a token is signed: TSAs answer over http */
	ex.strict_limit = 1;
	if ((rc = t->perform(&ex))) {
		snprintf(why, wn, "out of memory");
	} else if (ex.error || ex.status != 200) {
		rc = GW_ERR_IO;
		if (ex.error)
			snprintf(why, wn, "%s", ex.error);
		else
			snprintf(why, wn, "HTTP %ld", ex.status);
	} else if ((rc = gw_tsa_check_reply(req, rlen,
					    (const unsigned char *)ex.body.data,
					    ex.body.len, data, strlen(data), ca,
					    tok, tlen, gen_ms, &err))) {
		snprintf(why, wn, "%s", err.msg);
	}
	t->release(NULL, &ex);
	gw_buf_release(&ex.body);
	free(req);
	return rc;
}

static void note(struct gw_audit *a, uint64_t seq, const char *outcome,
		 const char *reason)
{
	char id[48];

	snprintf(id, sizeof(id), "checkpoint-%llu", (unsigned long long)seq);
	gw_audit_note(a,
		      &(struct gw_audit_entry){ .msg_id = id,
						.kind = "timestamp",
						.outcome = outcome,
						.reason = reason },
		      NULL, 0);
}

gw_rc gw_timestamp_verify_all(struct gw_audit *a, const struct gw_config *cfg,
			      size_t *verified, size_t *missing,
			      uint64_t *bad_seq, struct gw_err *err)
{
	json_t *tsas = gw_config_get(cfg, "/audit/tsa");
	struct cps l;
	size_t i, k;
	gw_rc rc;

	*verified = *missing = 0;
	*bad_seq = 0;
	if (!json_is_array(tsas) || !json_array_size(tsas))
		return gw_err_set(err, GW_ERR_CONFIG,
				  "no time-stamping authority configured "
				  "(audit.tsa)");
	memset(&l, 0, sizeof(l));
	rc = gw_audit_checkpoint_each(a, collect, &l, err);
	if (!rc && l.oom)
		rc = gw_err_set(err, GW_ERR_NOMEM, "out of memory");
	for (i = 0; !rc && i < l.n; i++) {
		unsigned char *tok = NULL;
		size_t tlen = 0;
		int64_t gen_ms = 0, t;
		struct gw_err e;

		if ((rc = gw_audit_token_get(a, l.seq[i], &tok, &tlen, &gen_ms,
					     err)))
			break;
		if (!tok) {
			(*missing)++;
			continue;
		}
		gw_err_clear(&e);
		rc = GW_ERR_REFUSED;
		for (k = 0; rc && k < json_array_size(tsas); k++) {
			char ptr[64], *ca;

			snprintf(ptr, sizeof(ptr), "/audit/tsa/%zu/ca", k);
			if (!(ca = gw_config_path(cfg, ptr)))
				continue;
			rc = gw_tsa_verify_token(tok, tlen, l.jws[i],
						 strlen(l.jws[i]), ca, &t, &e);
			free(ca);
		}
		free(tok);
		if (rc) {
			*bad_seq = l.seq[i];
			rc = gw_err_set(
				err, GW_ERR_REFUSED,
				"the timestamp token of checkpoint %llu "
				"does not verify: %s",
				(unsigned long long)l.seq[i], e.msg);
		} else {
			(*verified)++;
		}
	}
	cps_release(&l);
	return rc;
}

gw_rc gw_timestamp_pending(struct gw_audit *a, const struct gw_config *cfg,
			   const struct gw_http_transport *t,
			   struct gw_timestamp_stats *st, struct gw_err *err)
{
	json_t *tsas = gw_config_get(cfg, "/audit/tsa");
	struct cps l;
	size_t i, k;
	gw_rc rc;

	memset(st, 0, sizeof(*st));
	if (!json_is_array(tsas) || !json_array_size(tsas))
		return gw_err_set(err, GW_ERR_CONFIG,
				  "no time-stamping authority configured "
				  "(audit.tsa)");
	if (!t || !t->perform)
		return gw_err_set(err, GW_ERR_INTERNAL,
				  "no HTTP transport for timestamps");
	memset(&l, 0, sizeof(l));
	rc = gw_audit_checkpoint_each(a, collect, &l, err);
	if (!rc && l.oom)
		rc = gw_err_set(err, GW_ERR_NOMEM, "out of memory");
	for (i = 0; !rc && i < l.n; i++) {
		unsigned char *tok = NULL;
		size_t tlen = 0;
		int64_t gen_ms = 0;
		char why[1024] = "", reason[1200];
		const char *url = NULL;

		if ((rc = gw_audit_token_get(a, l.seq[i], &tok, &tlen, &gen_ms,
					     err)))
			break;
		if (tok) {
			free(tok);
			st->had++;
			continue;
		}
		for (k = 0; k < json_array_size(tsas); k++) {
			char ptr[64];
			char *ca;

			snprintf(ptr, sizeof(ptr), "/audit/tsa/%zu/url", k);
			url = gw_config_str(cfg, ptr, NULL);
			snprintf(ptr, sizeof(ptr), "/audit/tsa/%zu/ca", k);
			ca = gw_config_path(cfg, ptr);
			snprintf(ptr, sizeof(ptr), "/audit/tsa/%zu/timeout_ms",
				 k);
			if (url && ca &&
			    !ask(t, url, ca,
				 (long)gw_config_int(cfg, ptr, 10000), l.jws[i],
				 &tok, &tlen, &gen_ms, why, sizeof(why))) {
				free(ca);
				break;
			}
			free(ca);
			gw_log(GW_LOG_WARN, "timestamp", NULL,
			       "checkpoint %llu: TSA %s: %s",
			       (unsigned long long)l.seq[i], url ? url : "?",
			       why);
		}
		if (!tok) {
			snprintf(reason, sizeof(reason), "pending: %s: %s",
				 url ? url : "?", why);
			note(a, l.seq[i], "retry", reason);
			st->pending++;
			st->pending_seq = l.seq[i];
			snprintf(st->pending_why, sizeof(st->pending_why), "%s",
				 reason);
			continue;
		}
		rc = gw_audit_token_put(a, l.seq[i], tok, tlen, url, gen_ms,
					err);
		free(tok);
		if (!rc) {
			snprintf(reason, sizeof(reason), "RFC 3161 token of %s",
				 url);
			note(a, l.seq[i], "ok", reason);
			st->done++;
		}
	}
	cps_release(&l);
	return rc;
}
