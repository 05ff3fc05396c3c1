/*
 * outbox.c - the outgoing message store, whatever its backend: opening by
 * backend, closing, the operator's listings (formatted here from the rows
 * a backend gives, so every backend prints the same) and the optional ops
 * of struct gw_outbox_ops (store/store.h). The hot ops (enqueue, due,
 * begin, commit, record) are inline in outbox.h: one indirect call each.
 */
#include "store/outbox.h"

#include <stdlib.h>
#include <string.h>

gw_rc gw_outbox_open(const struct gw_store_backend *b, const char *where,
		     struct gw_outbox **out, struct gw_err *err)
{
	*out = NULL;
	if (!b || !b->outbox_open)
		return gw_err_set(err, GW_ERR_UNSUPPORTED,
				  "outbox: the store backend '%s' has no "
				  "outbox",
				  b ? b->name : "(none)");
	return b->outbox_open(where, out, err);
}

gw_rc gw_outbox_open_sqlite(const char *path, struct gw_outbox **out,
			    struct gw_err *err)
{
	return gw_outbox_open(&gw_store_sqlite, path, out, err);
}

void gw_outbox_due_release(struct gw_outbox *o)
{
	size_t i;

	for (i = 0; i < o->due_n; i++) {
		free(o->due_buf[i].msg_id);
		free(o->due_buf[i].dest);
		free(o->due_buf[i].content_type);
		free(o->due_buf[i].body);
		free(o->due_buf[i].kind);
		free(o->due_buf[i].sender);
	}
	free(o->due_buf);
	o->due_buf = NULL;
	o->due_n = 0;
}

void gw_outbox_close(struct gw_outbox *o)
{
	if (!o)
		return;
	gw_outbox_due_release(o);
	o->ops->close(o);
	free(o);
}

static gw_rc unsupported(struct gw_err *err)
{
	return gw_err_set(err, GW_ERR_UNSUPPORTED,
			  "not an SQLite outbox"); /* message kept as it was */
}

static const char *const state_names[] = { "pending", "done", "dead" };

static void list_row(void *arg, const struct gw_out_dlv_row *r)
{
	FILE *out = arg;
	int s = r->state;

	fprintf(out, "%-36s  %-16s  %-18s  %-7s  %8d  %d %s\n", r->msg_id,
		r->kind, r->dest, s >= 0 && s < 3 ? state_names[s] : "?",
		r->attempts, r->last_status,
		r->last_error ? r->last_error : "");
}

gw_rc gw_outbox_list(struct gw_outbox *o, const char *state, FILE *out,
		     struct gw_err *err)
{
	int want = -1, i;

	if (!o->ops->list)
		return unsupported(err);
	for (i = 0; state && i < 3; i++)
		if (strcmp(state, state_names[i]) == 0)
			want = i;
	if (state && want < 0)
		return gw_err_set(err, GW_ERR_USAGE,
				  "unknown state '%s' (pending, done, dead)",
				  state);
	fprintf(out, "%-36s  %-16s  %-18s  %-7s  %8s  %s\n", "MESSAGE", "KIND",
		"DESTINATION", "STATE", "ATTEMPTS", "LAST");
	return o->ops->list(o, want, list_row, out, err);
}

struct show_ctx {
	FILE *out;
	const char *id;
};

static void show_msg(void *arg, const struct gw_out_msg_row *m)
{
	struct show_ctx *c = arg;

	fprintf(c->out,
		"message %s\n  kind %s\n  sender %s\n  sha256 %s\n"
		"  %s, %d bytes\n",
		c->id, m->kind, m->sender, m->sha256, m->content_type, m->len);
}

static void show_att(void *arg, const char *dest, int64_t at_ms, int status,
		     const char *error)
{
	struct show_ctx *c = arg;

	fprintf(c->out, "  attempt %s at %lld: %d %s\n", dest, (long long)at_ms,
		status, error ? error : "");
}

static void show_rcpt(void *arg, const char *dest, const char *body, size_t len,
		      const char *verdict)
{
	struct show_ctx *c = arg;

	fprintf(c->out, "  receipt from %s: %.*s\n", dest, (int)len, body);
	if (verdict)
		fprintf(c->out, "    checked: %s\n", verdict);
}

gw_rc gw_outbox_show(struct gw_outbox *o, const char *id, FILE *out,
		     struct gw_err *err)
{
	struct show_ctx c = { out, id };
	int found = 0;
	gw_rc rc;

	if (!o->ops->show)
		return unsupported(err);
	rc = o->ops->show(o, id, &found, show_msg, show_att, show_rcpt, &c,
			  err);
	if (!rc && !found)
		return gw_err_set(err, GW_ERR_REFUSED,
				  "no message '%s' in the outbox", id);
	return rc;
}

/* An operator's change that found nothing to change is refused. */
static gw_rc nothing_changed(const char *id, struct gw_err *err)
{
	return gw_err_set(err, GW_ERR_REFUSED,
			  "no message '%s' to change in the outbox", id);
}

gw_rc gw_outbox_retry(struct gw_outbox *o, const char *id, int64_t now_ms,
		      struct gw_err *err)
{
	int changed = 0;
	gw_rc rc;

	if (!o->ops->retry)
		return unsupported(err);
	if ((rc = o->ops->retry(o, id, now_ms, &changed, err)))
		return rc;
	return changed ? GW_OK : nothing_changed(id, err);
}

gw_rc gw_outbox_drop(struct gw_outbox *o, const char *id, struct gw_err *err)
{
	int changed = 0;
	gw_rc rc;

	if (!o->ops->drop)
		return unsupported(err);
	if ((rc = o->ops->drop(o, id, &changed, err)))
		return rc;
	return changed ? GW_OK : nothing_changed(id, err);
}

gw_rc gw_outbox_sync_get(struct gw_outbox *o, const char *source,
			 const char *key, char digest[65], struct gw_err *err)
{
	char id[37];

	return gw_outbox_sync_last(o, source, key, digest, id, err);
}

gw_rc gw_outbox_sync_last(struct gw_outbox *o, const char *source,
			  const char *key, char digest[65], char msg_id[37],
			  struct gw_err *err)
{
	digest[0] = '\0';
	msg_id[0] = '\0';
	if (!o->ops->sync_last)
		return unsupported(err);
	return o->ops->sync_last(o, source, key, digest, msg_id, err);
}

gw_rc gw_outbox_sync_put(struct gw_outbox *o, const char *source,
			 const char *key, const char *digest,
			 struct gw_err *err)
{
	return gw_outbox_sync_record(o, source, key, digest, NULL, err);
}

gw_rc gw_outbox_sync_record(struct gw_outbox *o, const char *source,
			    const char *key, const char *digest,
			    const char *msg_id, struct gw_err *err)
{
	if (!o->ops->sync_record)
		return unsupported(err);
	return o->ops->sync_record(o, source, key, digest, msg_id, err);
}

gw_rc gw_outbox_has(struct gw_outbox *o, const char *id, int *has,
		    struct gw_err *err)
{
	*has = 0;
	if (!o->ops->has)
		return unsupported(err);
	return o->ops->has(o, id, has, err);
}

gw_rc gw_outbox_receipt(struct gw_outbox *o, const char *msg_id,
			const char *dest, int64_t now_ms, const char *body,
			size_t len, const char *verdict, struct gw_err *err)
{
	if (!o->ops->receipt)
		return GW_OK; /* a store that keeps no receipts */
	return o->ops->receipt(o, msg_id, dest, now_ms, body, len, verdict,
			       err);
}

gw_rc gw_outbox_stats(struct gw_outbox *o, gw_outbox_stat_cb cb, void *arg,
		      struct gw_err *err)
{
	if (!o->ops->stats)
		return GW_OK;
	return o->ops->stats(o, cb, arg, err);
}
