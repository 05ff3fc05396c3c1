/*
 * send.c - the send step (send.h): validate, sign, route, convert and
 * enqueue, all or nothing, with an audit note for each step.
 */
#include "flow/send.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "base/common.h"
#include "base/log.h"
#include "crypto/sign.h"
#include "flow/convert.h"
#include "flow/deliver.h"
#include "flow/runtime.h"
#include "model/config.h"
#include "model/validate.h"
#include "store/outbox.h"

static void print_line(void *arg, gw_rc rc, const char *line)
{
	fprintf(stderr, "%s\n", line);
}

/* One audit entry about an outgoing message (no-op without a log). */
static void note(struct gw_audit *a, const char *event, const json_t *msg,
		 const char *outcome, const char *reason, const char *receiver,
		 const char *signer, const char *digest, const void *payload,
		 size_t plen)
{
	gw_audit_note(
		a,
		&(struct gw_audit_entry){
			.msg_id = json_string_value(json_object_get(msg, "id")),
			.kind = event,
			.msg_kind =
				json_string_value(json_object_get(msg, "kind")),
			.sender = json_string_value(json_object_get(
				json_object_get(msg, "sender"), "orgId")),
			.receiver = receiver,
			.direction = "out",
			.outcome = outcome,
			.reason = reason,
			.digest = digest,
			.signer = signer },
		payload, plen);
}

/*
 * Validate, sign, route and enqueue the files paths[0..npaths) in one
 * transaction. queued (may be NULL) receives 1 for each path whose message
 * is now in the outbox. Each step is noted in audit (may be NULL).
 * Returns the exit status.
 */
static int send_common(struct gw_config *cfg, struct gw_outbox *o, char **paths,
		       char **in_bufs, size_t *in_lens, int npaths, int *queued,
		       struct gw_audit *audit)
{
	char subject[256] = "";
	struct gw_validator *v = NULL;
	struct gw_forwarding fw;
	struct gw_sign_key *key = NULL;
	enum gw_sign_alg xml_alg = GW_SIGN_ALG_DEFAULT,
			 jws_alg = GW_SIGN_ALG_DEFAULT;
	struct gw_out_msg *msgs = NULL;
	struct gw_validated *res = NULL;
	char **bufs = NULL;
	int *dup = NULL, *path_of = NULL, status = 0, i, n = 0, bad = 0;
	struct gw_variants vs;
	struct gw_out_msg *all = NULL;
	int *alldup = NULL;
	size_t nall = 0, k;
	struct gw_err err;

	memset(&vs, 0, sizeof(vs));

	memset(&fw, 0, sizeof(fw));
	gw_err_clear(&err);
	if (gw_forwarding_load(cfg, &fw, &err) ||
	    gw_validator_new(gw_schema_dir(), 0, &v, &err) ||
	    gw_runtime_signer_load(cfg, &key, &xml_alg, &jws_alg, &err)) {
		fprintf(stderr, "lienthong send: %s\n", err.msg);
		status = err.rc == GW_ERR_CONFIG ? 1 : 3;
		goto out;
	}
	msgs = gw_calloc((size_t)npaths + 1, sizeof(*msgs));
	res = gw_calloc((size_t)npaths + 1, sizeof(*res));
	bufs = gw_calloc((size_t)npaths + 1, sizeof(*bufs));
	dup = gw_calloc((size_t)npaths + 1, sizeof(*dup));
	path_of = gw_calloc((size_t)npaths + 1, sizeof(*path_of));
	if (!msgs || !res || !bufs || !dup || !path_of) {
		status = 3;
		goto out;
	}
	for (i = 0; i < npaths; i++) {
		struct gw_out_msg *m = &msgs[n];
		size_t len;

		gw_err_clear(&err);
		if (in_bufs) {
			bufs[n] = in_bufs[i];
			in_bufs[i] = NULL;
			len = in_lens[i];
		} else if (gw_read_file(paths[i], 64u << 20, &bufs[n], &len,
					&err)) {
			fprintf(stderr, "%s\n", err.msg);
			bad = 1;
			continue;
		}
		if (gw_validate_buffer(v, paths[i], bufs[n], len, print_line,
				       NULL, &res[n], &err) ||
		    !res[n].json) {
			gw_log(GW_LOG_WARN, "refused", NULL, "%s", err.msg);
			note(audit, "refused", res[n].json, "refused",
			     err.msg[0] ? err.msg : "not a canonical message",
			     NULL, NULL, NULL, bufs[n], len);
			bad = 1;
			gw_validated_release(&res[n]);
			free(bufs[n]);
			bufs[n] = NULL;
			continue;
		}
		m->id = json_string_value(json_object_get(res[n].json, "id"));
		m->kind =
			json_string_value(json_object_get(res[n].json, "kind"));
		m->sender = json_string_value(json_object_get(
			json_object_get(res[n].json, "sender"), "orgId"));
		m->content_type = res[n].format == GW_FMT_XML
					  ? "application/xml"
					  : "application/json";
		note(audit, "validated", res[n].json, "ok", NULL, NULL, NULL,
		     NULL, bufs[n], len);
		if (gw_content_digest(res[n].json, NULL, m->content_sha,
				      &err)) {
			fprintf(stderr, "%s: %s\n", paths[i], err.msg);
			status = 3;
			goto out;
		}
		if (key) {
			char *signed_buf = NULL;
			size_t slen = 0;

			if (gw_sign_validated(key, xml_alg, jws_alg, &res[n],
					      bufs[n], len, &signed_buf, &slen,
					      &err)) {
				fprintf(stderr, "%s: cannot sign: %s\n",
					paths[i], err.msg);
				status = 3;
				goto out;
			}
			free(bufs[n]);
			bufs[n] = signed_buf;
			len = slen;
			if (!subject[0])
				gw_sign_key_subject(key, subject,
						    sizeof(subject));
			note(audit, "signed", res[n].json, "ok", NULL, NULL,
			     subject, NULL, bufs[n], len);
			if (res[n].format == GW_FMT_JSON)
				m->content_type = "application/jose+json";
		}
		m->body = bufs[n];
		m->len = len;
		path_of[n] = i;
		m->dests = (const char *const *)gw_forwarding_route(
			&fw, res[n].json);
		if (!m->dests || !m->dests[0]) {
			fprintf(stderr,
				"%s: no route sends a '%s' message from '%s' "
				"anywhere\n",
				paths[i], m->kind, m->sender ? m->sender : "?");
			note(audit, "refused", res[n].json, "refused",
			     "no route matches", NULL, NULL, NULL, NULL, 0);
			free((void *)m->dests);
			m->dests = NULL;
			gw_validated_release(&res[n]);
			free(bufs[n]);
			bufs[n] = NULL;
			bad = 1;
			continue;
		}
		gw_err_clear(&err);
		if (gw_split_formats(&fw, key, xml_alg, jws_alg, m, res[n].json,
				     &vs, &err)) {
			fprintf(stderr, "%s: nothing was queued: %s\n",
				paths[i], err.msg);
			status = gw_rc_exit(err.rc);
			n++; /* so that its buffers are released */
			goto out;
		}
		n++;
	}
	/* canonical messages still routed somewhere, then the wire-format
	 * variants; all or nothing: one durable transaction */
	all = gw_calloc((size_t)n + vs.n + 1, sizeof(*all));
	alldup = gw_calloc((size_t)n + vs.n + 1, sizeof(*alldup));
	if (!all || !alldup) {
		status = 3;
		goto out;
	}
	for (i = 0; i < n; i++)
		if (msgs[i].dests[0])
			all[nall++] = msgs[i];
	for (k = 0; k < vs.n; k++)
		all[nall++] = vs.v[k];
	gw_err_clear(&err);
	if (nall && gw_outbox_enqueue(o, all, nall, alldup, &err)) {
		fprintf(stderr, "lienthong send: nothing was queued: %s\n",
			err.msg);
		for (i = 0; i < n; i++)
			note(audit, "refused", res[i].json, "refused", err.msg,
			     NULL, NULL, NULL, NULL, 0);
		status = gw_rc_exit(err.rc);
		goto out;
	}
	for (i = 0; queued && i < n; i++)
		queued[path_of[i]] = 1;
	for (k = 0; k < nall; k++) {
		size_t d;

		printf("%s%s", all[k].id, alldup[k] ? " (already queued)" : "");
		for (d = 0; all[k].dests[d]; d++) {
			printf("%s%s", d ? "," : " -> ", all[k].dests[d]);
			gw_audit_note(
				audit,
				&(struct gw_audit_entry){
					.msg_id = all[k].id,
					.kind = "queued",
					.msg_kind = all[k].kind,
					.sender = all[k].sender,
					.receiver = all[k].dests[d],
					.direction = "out",
					.outcome =
						alldup[k] ? "duplicate" : "ok",
					.reason = alldup[k] ? "already queued "
							      "with the same "
							      "content"
							    : NULL },
				all[k].body, all[k].len);
		}
		if (k + vs.n >= nall)
			printf(" (%s of %s)", all[k].content_type,
			       vs.of[k + vs.n - nall]);
		printf("\n");
		gw_log(GW_LOG_INFO, "queued", all[k].id,
		       "queued for %zu destinations", d);
	}
	status = bad ? 1 : 0;
out:
	gw_variants_release(&vs);
	free(all);
	free(alldup);
	for (i = 0; i < n; i++)
		free((void *)msgs[i].dests);
	for (i = 0; bufs && res && i <= npaths; i++) {
		gw_validated_release(&res[i]);
		free(bufs[i]);
	}
	free(msgs);
	free(res);
	free(bufs);
	free(dup);
	free(path_of);
	gw_validator_free(v);
	gw_forwarding_release(&fw);
	if (key) {
		gw_sign_key_free(key);
		gw_sign_shutdown();
	}
	return status;
}

int gw_send_files(struct gw_config *cfg, struct gw_outbox *o, char **paths,
		  int npaths, int *queued, struct gw_audit *audit)
{
	return send_common(cfg, o, paths, NULL, NULL, npaths, queued, audit);
}

int gw_send_buffers(struct gw_config *cfg, struct gw_outbox *o, char **names,
		    char **bufs, size_t *lens, int n, int *queued,
		    struct gw_audit *audit)
{
	int i, st = send_common(cfg, o, names, bufs, lens, n, queued, audit);

	for (i = 0; i < n; i++) {
		free(bufs[i]);
		bufs[i] = NULL;
	}
	return st;
}
