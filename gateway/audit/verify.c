/*
 * verify.c - the full verification of an audit log (gw_audit_verify, see
 * audit.h): every checkpoint's signature (through crypto/sign.c, by
 * offline.c's parser), every entry's leaf hash recomputed from the stored
 * entry, the root at every checkpoint's size and the stored frontier,
 * over one consistent read of the store.
 */
#include "audit/internal.h"

#include <stdlib.h>
#include <string.h>

struct cps {
	struct gw_audit_checkpoint *c;
	size_t n, cap;
	int oom;
};

static int collect_cp(void *arg, const struct gw_audit_checkpoint *c)
{
	struct cps *l = arg;

	if (l->n == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 16;
		struct gw_audit_checkpoint *m =
			gw_realloc(l->c, ncap * sizeof(*m));

		if (!m) {
			l->oom = 1;
			return 1;
		}
		l->c = m;
		l->cap = ncap;
	}
	l->c[l->n] = *c;
	l->c[l->n].jws = c->jws ? gw_strdup(c->jws) : NULL;
	if (c->jws && !l->c[l->n].jws) {
		l->oom = 1;
		return 1;
	}
	l->n++;
	return 0;
}

static void cps_release(struct cps *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->c[i].jws);
	free(l->c);
}

/* A stored checkpoint's own checks: its signature under v and the signed
 * payload equal to the stored columns. */
static gw_rc check_cp(const struct gw_audit *a,
		      const struct gw_sign_verifier *v,
		      const struct gw_audit_checkpoint *c, uint64_t prev_size,
		      struct gw_err *err)
{
	struct gw_audit_checkpoint p;
	struct gw_err e2;
	gw_rc rc;

	if (c->size < prev_size)
		return gw_err_set(err, GW_ERR_REFUSED,
				  "checkpoint %llu: size %llu is smaller than "
				  "the previous checkpoint's %llu",
				  (unsigned long long)c->seq,
				  (unsigned long long)c->size,
				  (unsigned long long)prev_size);
	if (!v)
		return GW_OK;
	if (!c->jws)
		return gw_err_set(err, GW_ERR_REFUSED,
				  "checkpoint %llu is not signed",
				  (unsigned long long)c->seq);
	gw_err_clear(&e2);
	if ((rc = gw_audit_checkpoint_parse(v, c->jws, strlen(c->jws), &p, NULL,
					    &e2))) {
		return gw_err_set(err, rc == GW_ERR_NOMEM ? rc : GW_ERR_REFUSED,
				  "checkpoint %llu: %s",
				  (unsigned long long)c->seq, e2.msg);
	}
	rc = (p.seq != c->seq || p.size != c->size ||
	      memcmp(p.root, c->root, 32))
		     ? gw_err_set(err, GW_ERR_REFUSED,
				  "checkpoint %llu: the signed checkpoint "
				  "differs from the stored one (seq, size or "
				  "root changed)",
				  (unsigned long long)c->seq)
		     : GW_OK;
	(void)a;
	gw_audit_checkpoint_release(&p);
	return rc;
}

/* The walk over the stored entries, in index order. */
struct walk {
	struct cps *cps;
	size_t ci;
	struct gw_merkle_tree t;
	struct gw_buf b;
	uint64_t expect, size;
	gw_audit_progress_fn progress;
	void *arg;
	gw_rc rc;
	struct gw_err *err;
};

/* The checkpoints at the tree's current size (also size 0) match its
 * root. */
static gw_rc check_roots(struct walk *w)
{
	struct gw_audit_checkpoint *c;
	uint8_t root[32];
	gw_rc rc;

	while (w->ci < w->cps->n &&
	       (c = &w->cps->c[w->ci])->size == w->t.size) {
		if ((rc = gw_merkle_tree_root(&w->t, root, w->err)))
			return rc;
		if (memcmp(root, c->root, 32))
			return gw_err_set(
				w->err, GW_ERR_REFUSED,
				"checkpoint %llu (size %llu): the root "
				"of entries 0..%lld does not match: an "
				"entry before %llu was rewritten "
				"together with its leaf hash, or the "
				"checkpoint was changed",
				(unsigned long long)c->seq,
				(unsigned long long)c->size,
				(long long)c->size - 1,
				(unsigned long long)c->size);
		w->ci++;
	}
	return GW_OK;
}

static int walk_entry(void *arg, const struct gw_store_audit_row *r)
{
	struct walk *w = arg;
	struct gw_audit_entry e;
	uint8_t leaf[32];

	if ((w->rc = check_roots(w)))
		return 1;
	gw_audit_entry_from_row(r, &e);
	if (e.index != w->expect) {
		w->rc = gw_err_set(w->err, GW_ERR_REFUSED,
				   "entry %llu is missing (the next stored "
				   "entry is %llu): entries were deleted",
				   (unsigned long long)w->expect,
				   (unsigned long long)e.index);
		return 1;
	}
	w->b.len = 0;
	if ((w->rc = gw_audit_entry_json(&e, &w->b, w->err)) ||
	    (w->rc = gw_merkle_tree_append_entry(&w->t, w->b.data, w->b.len,
						 leaf, w->err)))
		return 1;
	if (!r->leaf || memcmp(r->leaf, leaf, 32)) {
		w->rc = gw_err_set(w->err, GW_ERR_REFUSED,
				   "entry %llu (%s, %s): leaf hash does "
				   "not match the stored entry (the entry "
				   "was changed, or moved from elsewhere)",
				   (unsigned long long)e.index,
				   e.msg_id[0] ? e.msg_id : "no message",
				   e.kind[0] ? e.kind : "no event");
		return 1;
	}
	w->expect++;
	if (w->progress && (w->expect & 0xffff) == 0)
		w->progress(w->arg, w->expect, w->size);
	return 0;
}

gw_rc gw_audit_verify(struct gw_audit *a, const struct gw_sign_verifier *v,
		      gw_audit_progress_fn progress, void *arg,
		      uint64_t *checked, struct gw_err *err)
{
	const struct gw_store_audit_ops *ops = a->st->ops;
	struct cps cps;
	struct walk w;
	uint8_t fr1[64][32], fr2[64][32];
	uint64_t size, prev = 0, expect;
	size_t ci, n1, n2;
	gw_rc rc;
	int in_tx = 0;

	memset(&cps, 0, sizeof(cps));
	memset(&w, 0, sizeof(w));
	gw_buf_init(&w.b);
	w.cps = &cps;
	w.progress = progress;
	w.arg = arg;
	w.err = err;
	if (checked)
		*checked = 0;
	if ((rc = gw_audit_flush(a, err)))
		return rc;
	if ((rc = gw_merkle_tree_init(&w.t, err)))
		return rc;
	/* one consistent view (a read transaction; WAL lets writers of
	 * other processes go on, commits of this handle wait) of the
	 * checkpoints, the state and the entries */
	pthread_mutex_lock(&a->dbmu);
	if ((rc = ops->begin(a->st, 0, err)))
		goto out;
	in_tx = 1;
	if ((rc = gw_audit_refresh(a, err)) ||
	    (rc = gw_audit_cp_each_locked(a, collect_cp, &cps, err)))
		goto out;
	if (cps.oom) {
		rc = gw_err_set(err, GW_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (ci = 0; ci < cps.n; ci++) {
		if ((rc = check_cp(a, v, &cps.c[ci], prev, err)))
			goto out;
		prev = cps.c[ci].size;
	}
	size = w.size = a->tree.size;
	n1 = gw_merkle_tree_frontier(&a->tree, fr1);
	if (prev > size) {
		rc = gw_err_set(err, GW_ERR_REFUSED,
				"the last checkpoint has %llu entries but the "
				"log's stored size is %llu (entries were "
				"removed)",
				(unsigned long long)prev,
				(unsigned long long)size);
		goto out;
	}
	if ((rc = ops->entry_scan(a->st, walk_entry, &w, err)) || (rc = w.rc) ||
	    (rc = check_roots(&w)))
		goto out;
	expect = w.expect;
	if (checked)
		*checked = expect;
	if (expect != size) {
		rc = gw_err_set(
			err, GW_ERR_REFUSED,
			expect < size ? "entry %llu is missing: the log holds "
					"%llu entries but its size is %llu "
					"(entries were deleted at the end)"
				      : "entry %llu is unexpected: the log "
					"holds %llu entries but its size is "
					"%llu",
			(unsigned long long)(expect < size ? expect : size),
			(unsigned long long)expect, (unsigned long long)size);
		goto out;
	}
	if (w.ci < cps.n) {
		rc = gw_err_set(err, GW_ERR_REFUSED,
				"checkpoint %llu has size %llu, beyond the "
				"log's %llu entries",
				(unsigned long long)cps.c[w.ci].seq,
				(unsigned long long)cps.c[w.ci].size,
				(unsigned long long)expect);
		goto out;
	}
	n2 = gw_merkle_tree_frontier(&w.t, fr2);
	if (n1 != n2 || memcmp(fr1, fr2, n1 * 32))
		rc = gw_err_set(err, GW_ERR_REFUSED,
				"the stored tree frontier does not match the "
				"entries");
	if (progress)
		progress(arg, expect, size);
out:
	if (in_tx)
		ops->commit(a->st, "end a read transaction", NULL);
	pthread_mutex_unlock(&a->dbmu);
	gw_merkle_tree_release(&w.t);
	cps_release(&cps);
	gw_buf_release(&w.b);
	return rc;
}
