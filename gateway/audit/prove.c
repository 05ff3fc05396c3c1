/*
 * prove.c - proofs from the audit log (see audit.h and docs/AUDIT.md):
 * inclusion proofs of entries and consistency proofs between checkpoints,
 * as JSON documents, computed by audit/merkle.c over the leaf hashes the
 * store keeps. They are checked by offline.c.
 */
#include "audit/internal.h"

#include <stdlib.h>
#include <string.h>

/* gw_merkle_node_fn over the stored leaf hashes (dbmu held). */
static gw_rc db_node(void *arg, unsigned level, uint64_t index, uint8_t out[32],
		     struct gw_err *err)
{
	struct gw_audit *a = arg;
	uint64_t first = index << level, n = (uint64_t)1 << level, got = 0;
	uint8_t(*leaves)[32];
	gw_rc rc = GW_OK;

	if (level > 40)
		return gw_err_set(err, GW_ERR_USAGE, "subtree too large");
	if (!(leaves = gw_malloc((size_t)n * 32)))
		return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
	if ((rc = a->st->ops->leaves(a->st, first, n, leaves, &got, err)))
		goto out;
	if (got != n)
		rc = gw_err_set(err, GW_ERR_REFUSED,
				"audit log: leaf hashes %llu..%llu are not all "
				"stored (run 'lienthong audit verify')",
				(unsigned long long)first,
				(unsigned long long)(first + n - 1));
	else
		rc = gw_merkle_root((const uint8_t(*)[32])leaves, (size_t)n,
				    out);
	if (rc == GW_ERR_NOMEM)
		gw_err_set(err, rc, "out of memory");
out:
	free(leaves);
	return rc;
}

static gw_rc add_path(struct gw_buf *out, uint8_t p[][32], size_t len)
{
	char h[65];
	size_t i;
	gw_rc rc = gw_buf_adds(out, "[");

	for (i = 0; i < len && !rc; i++) {
		gw_audit_hex(p[i], 32, h);
		rc = gw_buf_addf(out, "%s\"%s\"", i ? "," : "", h);
	}
	return rc ? rc : gw_buf_adds(out, "]");
}

/* The checkpoint as embedded in a proof: the flattened JWS object, or the
 * plain checkpoint object when unsigned. */
static gw_rc add_cp(struct gw_audit *a, struct gw_buf *out,
		    const struct gw_audit_checkpoint *c, struct gw_err *err)
{
	if (c->jws)
		return gw_buf_adds(out, c->jws)
			       ? gw_err_set(err, GW_ERR_NOMEM, "out of memory")
			       : GW_OK;
	return gw_audit_cp_json(a->o.log_name, c, out, err);
}

struct one {
	struct gw_buf *b;
	int found;
};

static int one_entry(void *arg, const struct gw_audit_entry *e)
{
	struct one *o = arg;

	o->found = gw_audit_entry_json(e, o->b, NULL) == GW_OK;
	return 1; /* one entry only */
}

gw_rc gw_audit_prove(struct gw_audit *a, const uint64_t *indexes, size_t n,
		     uint64_t size,
		     const struct gw_audit_checkpoint *checkpoint,
		     struct gw_buf *out, struct gw_err *err)
{
	uint8_t path[GW_MERKLE_MAX_PROOF][32];
	size_t len, i;
	gw_rc rc;

	if (checkpoint && checkpoint->size != size)
		return gw_err_set(err, GW_ERR_USAGE,
				  "checkpoint %llu has size %llu, not %llu",
				  (unsigned long long)checkpoint->seq,
				  (unsigned long long)checkpoint->size,
				  (unsigned long long)size);
	if (size > gw_audit_size(a))
		return gw_err_set(err, GW_ERR_USAGE,
				  "the log has only %llu entries, not %llu",
				  (unsigned long long)gw_audit_size(a),
				  (unsigned long long)size);
	if (gw_buf_addf(out,
			"{\"type\":\"lienthong-audit-inclusion\",\"version\":"
			"1,\"treeSize\":%llu,\"checkpoint\":",
			(unsigned long long)size))
		return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
	if (checkpoint) {
		if ((rc = add_cp(a, out, checkpoint, err)))
			return rc;
	} else if (gw_buf_adds(out, "null")) {
		return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
	}
	gw_buf_adds(out, ",\"entries\":[");
	for (i = 0; i < n; i++) {
		struct gw_audit_filter f;
		struct one o = { out, 0 };
		char h[65];
		uint8_t leaf[32];

		if (indexes[i] >= size)
			return gw_err_set(err, GW_ERR_USAGE,
					  "entry %llu is not in the tree of "
					  "size %llu",
					  (unsigned long long)indexes[i],
					  (unsigned long long)size);
		pthread_mutex_lock(&a->dbmu);
		rc = gw_merkle_inclusion_proof(indexes[i], size, db_node, a,
					       path, &len, err);
		if (!rc)
			rc = db_node(a, 0, indexes[i], leaf, err);
		pthread_mutex_unlock(&a->dbmu);
		if (rc)
			return rc;
		gw_audit_hex(leaf, 32, h);
		if (gw_buf_addf(out,
				"%s{\"leafIndex\":%llu,\"leafHash\":\"%s\","
				"\"entry\":",
				i ? "," : "", (unsigned long long)indexes[i],
				h))
			return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
		memset(&f, 0, sizeof(f));
		f.first = indexes[i]; /* the first one from there */
		if ((rc = gw_audit_query(a, &f, one_entry, &o, err)))
			return rc;
		if (!o.found)
			return gw_err_set(err, GW_ERR_REFUSED,
					  "entry %llu is not stored",
					  (unsigned long long)indexes[i]);
		if (gw_buf_adds(out, ",\"path\":") ||
		    add_path(out, path, len) || gw_buf_adds(out, "}"))
			return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
	}
	if (gw_buf_adds(out, "]}\n"))
		return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
	return GW_OK;
}

gw_rc gw_audit_prove_consistency(struct gw_audit *a,
				 const struct gw_audit_checkpoint *from,
				 const struct gw_audit_checkpoint *to,
				 struct gw_buf *out, struct gw_err *err)
{
	uint8_t path[GW_MERKLE_MAX_PROOF][32];
	size_t len;
	gw_rc rc;

	if (from->size > to->size)
		return gw_err_set(err, GW_ERR_USAGE,
				  "checkpoint %llu (size %llu) is larger than "
				  "checkpoint %llu (size %llu)",
				  (unsigned long long)from->seq,
				  (unsigned long long)from->size,
				  (unsigned long long)to->seq,
				  (unsigned long long)to->size);
	if (to->size > gw_audit_size(a))
		return gw_err_set(err, GW_ERR_USAGE,
				  "checkpoint %llu is beyond the log's size",
				  (unsigned long long)to->seq);
	pthread_mutex_lock(&a->dbmu);
	rc = gw_merkle_consistency_proof(from->size, to->size, db_node, a, path,
					 &len, err);
	pthread_mutex_unlock(&a->dbmu);
	if (rc)
		return rc;
	if (gw_buf_addf(out,
			"{\"type\":\"lienthong-audit-consistency\",\"version\":"
			"1,\"size1\":%llu,\"size2\":%llu,\"from\":",
			(unsigned long long)from->size,
			(unsigned long long)to->size) ||
	    (rc = add_cp(a, out, from, err)) || gw_buf_adds(out, ",\"to\":") ||
	    (rc = add_cp(a, out, to, err)) || gw_buf_adds(out, ",\"path\":") ||
	    add_path(out, path, len) || gw_buf_adds(out, "}\n"))
		return rc ? rc : gw_err_set(err, GW_ERR_NOMEM, "out of memory");
	return GW_OK;
}
