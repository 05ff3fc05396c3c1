/*
 * checkpoint.c - the audit log's checkpoints (see audit.h): publishing a
 * signed checkpoint of the committed tree (the signature is made by
 * crypto/sign.c) and reading the published ones back from the store.
 * Parsing and verifying a checkpoint's text is offline.c's.
 */
#include "audit/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "crypto/sign.h"

void gw_audit_checkpoint_release(struct gw_audit_checkpoint *c)
{
	if (!c)
		return;
	free(c->jws);
	c->jws = NULL;
}

gw_rc gw_audit_cp_json(const char *origin, const struct gw_audit_checkpoint *c,
		       struct gw_buf *out, struct gw_err *err)
{
	char root[65], t[80];

	gw_audit_hex(c->root, 32, root);
	gw_audit_fmt_time(c->time_ms, t);
	if (gw_buf_adds(out, "{\"origin\":") || gw_audit_jcs_str(out, origin) ||
	    gw_buf_addf(out,
			",\"rootHash\":\"%s\",\"seq\":%llu,\"time\":\"%s\","
			"\"treeSize\":%llu,\"type\":\"lienthong-audit-"
			"checkpoint\",\"version\":1}",
			root, (unsigned long long)c->seq, t,
			(unsigned long long)c->size))
		return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
	return GW_OK;
}

/* Publish under dbmu (everything pending is committed or not, as the
 * caller arranged), in one write transaction that first brings the tree
 * to the persisted state: another process may have appended or
 * published. */
gw_rc gw_audit_publish(struct gw_audit *a, struct gw_audit_checkpoint *out,
		       struct gw_err *err)
{
	const struct gw_store_audit_ops *ops = a->st->ops;
	struct gw_audit_checkpoint c;
	struct gw_store_audit_cp row;
	struct gw_buf pl, jws;
	uint64_t seq = 0;
	gw_rc rc;
	int in_tx = 0;

	memset(&c, 0, sizeof(c));
	gw_buf_init(&pl);
	gw_buf_init(&jws);
	if ((rc = ops->begin(a->st, 1, err)))
		goto out;
	in_tx = 1;
	if ((rc = gw_audit_refresh(a, err)) ||
	    (rc = ops->cp_max_seq(a->st, &seq, err)))
		goto out;
	c.seq = seq + 1;
	c.size = a->tree.size;
	c.time_ms = gw_now_ms();
	snprintf(c.origin, sizeof(c.origin), "%s", a->o.log_name);
	if ((rc = gw_merkle_tree_root(&a->tree, c.root, err)) ||
	    (rc = gw_audit_cp_json(a->o.log_name, &c, &pl, err)))
		goto out;
	if (a->o.key &&
	    (rc = gw_sign_json(a->o.key, GW_SIGN_ALG_DEFAULT, pl.data, pl.len,
			       GW_SIGN_FLATTENED, &jws, err)))
		goto out;
	row.seq = c.seq;
	row.size = c.size;
	memcpy(row.root, c.root, 32);
	row.time_ms = c.time_ms;
	row.jws = a->o.key ? jws.data : NULL;
	if ((rc = ops->cp_put(a->st, &row, err)) ||
	    (rc = ops->commit(a->st, "commit a checkpoint", err)))
		goto out;
	in_tx = 0;
	a->last_cp_ms = c.time_ms;
	a->last_cp_size = c.size;
	gw_log(GW_LOG_INFO, "audit-checkpoint", NULL,
	       "checkpoint %llu: %llu entries", (unsigned long long)c.seq,
	       (unsigned long long)c.size);
	if (out) {
		*out = c;
		out->jws = a->o.key ? gw_buf_detach(&jws, NULL) : NULL;
	}
out:
	if (in_tx)
		ops->rollback(a->st);
	gw_buf_release(&pl);
	gw_buf_release(&jws);
	return rc;
}

gw_rc gw_audit_checkpoint(struct gw_audit *a, struct gw_audit_checkpoint *out,
			  struct gw_err *err)
{
	gw_rc rc;

	if (a->o.flags & GW_AUDIT_READONLY)
		return gw_err_set(err, GW_ERR_USAGE,
				  "audit log '%s' is open read-only", a->path);
	if ((rc = gw_audit_flush(a, err)))
		return rc;
	pthread_mutex_lock(&a->dbmu);
	rc = gw_audit_publish(a, out, err);
	pthread_mutex_unlock(&a->dbmu);
	return rc;
}

static void cp_from_row(const struct gw_store_audit_cp *r,
			struct gw_audit_checkpoint *c)
{
	memset(c, 0, sizeof(*c));
	c->seq = r->seq;
	c->size = r->size;
	memcpy(c->root, r->root, 32);
	c->time_ms = r->time_ms;
}

struct get_ctx {
	struct gw_audit_checkpoint *out;
	int oom;
};

static int get_row(void *arg, const struct gw_store_audit_cp *r)
{
	struct get_ctx *g = arg;

	cp_from_row(r, g->out);
	if (r->jws && !(g->out->jws = gw_strdup(r->jws)))
		g->oom = 1;
	return 0;
}

gw_rc gw_audit_checkpoint_get(struct gw_audit *a, uint64_t seq,
			      struct gw_audit_checkpoint *out,
			      struct gw_err *err)
{
	struct get_ctx g = { out, 0 };
	gw_rc rc;
	int found = 0;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&a->dbmu);
	rc = a->st->ops->cp_get(a->st, seq, &found, get_row, &g, err);
	pthread_mutex_unlock(&a->dbmu);
	if (rc)
		return rc;
	if (g.oom)
		return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
	if (!found) {
		if (seq)
			return gw_err_set(err, GW_ERR_USAGE,
					  "audit log '%s' has no checkpoint "
					  "%llu",
					  a->path, (unsigned long long)seq);
		return gw_err_set(err, GW_ERR_USAGE,
				  "audit log '%s' has no checkpoint yet "
				  "(publish one with 'lienthong audit "
				  "checkpoint')",
				  a->path);
	}
	return GW_OK;
}

struct each_ctx {
	int (*cb)(void *arg, const struct gw_audit_checkpoint *c);
	void *arg;
};

static int each_row(void *arg, const struct gw_store_audit_cp *r)
{
	struct each_ctx *x = arg;
	struct gw_audit_checkpoint c;

	cp_from_row(r, &c);
	c.jws = (char *)r->jws;
	return x->cb(x->arg, &c);
}

gw_rc gw_audit_cp_each_locked(struct gw_audit *a,
			      int (*cb)(void *arg,
					const struct gw_audit_checkpoint *c),
			      void *arg, struct gw_err *err)
{
	struct each_ctx x = { cb, arg };

	return a->st->ops->cp_each(a->st, each_row, &x, err);
}

gw_rc gw_audit_checkpoint_each(struct gw_audit *a,
			       int (*cb)(void *arg,
					 const struct gw_audit_checkpoint *c),
			       void *arg, struct gw_err *err)
{
	gw_rc rc;

	pthread_mutex_lock(&a->dbmu);
	rc = gw_audit_cp_each_locked(a, cb, arg, err);
	pthread_mutex_unlock(&a->dbmu);
	return rc;
}

gw_rc gw_audit_token_put(struct gw_audit *a, uint64_t seq,
			 const unsigned char *der, size_t len, const char *tsa,
			 int64_t gen_ms, struct gw_err *err)
{
	const struct gw_store_audit_ops *ops = a->st->ops;
	gw_rc rc;

	pthread_mutex_lock(&a->dbmu);
	if (!(rc = ops->begin(a->st, 1, err)) &&
	    !(rc = ops->token_put(a->st, seq, der, len, tsa, gen_ms, err)))
		rc = ops->commit(a->st, "keep a timestamp token", err);
	if (rc)
		ops->rollback(a->st);
	pthread_mutex_unlock(&a->dbmu);
	return rc;
}

gw_rc gw_audit_token_get(struct gw_audit *a, uint64_t seq, unsigned char **der,
			 size_t *len, int64_t *gen_ms, struct gw_err *err)
{
	gw_rc rc;

	pthread_mutex_lock(&a->dbmu);
	rc = a->st->ops->token_get(a->st, seq, der, len, gen_ms, err);
	pthread_mutex_unlock(&a->dbmu);
	return rc;
}
