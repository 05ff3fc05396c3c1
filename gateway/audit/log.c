/*
 * log.c - the verifiable audit log (see audit.h and docs/AUDIT.md): the
 * handle, the writer queue and its background thread, the commits of
 * batches, queries and the payload archive. Storage is reached only
 * through struct gw_store_audit_ops (store/store.h); the entry's form,
 * checkpoints, verification and proofs are the other files of audit/
 * (audit/internal.h lists them).
 *
 * Several processes write one log (serve or deliver run while send and
 * sync do), so the in-memory tree is only a cache of the stored state:
 * each commit re-reads the persisted size and frontier inside its write
 * transaction, restores the tree from them when another process has moved
 * on, and only then numbers its entries. A batch that fails to commit
 * waits in a retry list (no allocation needed to keep it) and goes first
 * at the next commit; nothing numbered early can collide.
 */
#include "audit/internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "base/log.h"
#include "crypto/digest.h"
#include "crypto/sign.h"

/* pending entries held in background mode before writers wait */
#define AUDIT_MAX_PENDING_BYTES (8u * 1024 * 1024)

/* ---- entries given ---- */

/* Length of the valid UTF-8 sequence at s (RFC 3629: no overlongs, no
 * surrogates, at most U+10FFFF), 0 when invalid. */
static size_t utf8_len(const unsigned char *s)
{
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		return (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (s[0] >= 0xe0 && s[0] <= 0xef) {
		if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
			return 0;
		if ((s[0] == 0xe0 && s[1] < 0xa0) ||
		    (s[0] == 0xed && s[1] > 0x9f))
			return 0;
		return 3;
	}
	if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 ||
		    (s[3] & 0xc0) != 0x80)
			return 0;
		if ((s[0] == 0xf0 && s[1] < 0x90) ||
		    (s[0] == 0xf4 && s[1] > 0x8f))
			return 0;
		return 4;
	}
	return 0;
}

/* Bytes needed to copy s with invalid UTF-8 replaced by U+FFFD. */
static size_t clean_len(const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t n = 0, l;

	while (*p) {
		l = utf8_len(p);
		n += l ? l : 3;
		p += l ? l : 1;
	}
	return n + 1;
}

static char *clean_copy(char *dst, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t l;

	while (*p) {
		l = utf8_len(p);
		if (l) {
			memcpy(dst, p, l);
			dst += l;
			p += l;
		} else {
			memcpy(dst, "\xef\xbf\xbd", 3);
			dst += 3;
			p++;
		}
	}
	*dst++ = '\0';
	return dst;
}

/* ---- commits ---- */

static gw_rc save_state(struct gw_audit *a, struct gw_err *err)
{
	uint8_t fr[64][32];
	size_t n = gw_merkle_tree_frontier(&a->tree, fr);

	return a->st->ops->state_put(a->st, a->tree.size,
				     (const uint8_t(*)[32])fr, n, err);
}

static gw_rc archive(struct gw_audit *a, const struct item *it,
		     struct gw_err *err)
{
	uLongf zlen;
	Bytef *z;
	gw_rc rc;
	int has = 0;

	/* the same bytes come with several steps of a message (received,
	 * stored, each attempt, delivered): kept once, compressed once */
	if ((rc = a->st->ops->payload_has(a->st, it->e.digest, &has, err)))
		return rc;
	if (has)
		return GW_OK;
	zlen = compressBound((uLong)it->plen);
	if (!(z = gw_malloc(zlen ? zlen : 1)))
		return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
	if (compress2(z, &zlen, it->payload, (uLong)it->plen, Z_BEST_SPEED) !=
	    Z_OK) {
		free(z);
		return gw_err_set(err, GW_ERR_INTERNAL,
				  "audit log: cannot compress a payload");
	}
	rc = a->st->ops->payload_put(a->st, it->e.digest, it->e.time_ms,
				     (int64_t)it->plen, z, zlen, err);
	free(z);
	return rc;
}

static void free_items(struct item *it, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(it[i].strs);
		free(it[i].payload);
	}
	free(it);
}

/* Bring the tree (a cache) to the persisted size and frontier, which
 * another process writing the same file may have advanced; dbmu held.
 * Inside a transaction the result holds until it ends. GW_ERR_REFUSED
 * when the stored state is malformed or smaller than what this handle
 * already saw (the file was truncated or replaced). */
gw_rc gw_audit_refresh(struct gw_audit *a, struct gw_err *err)
{
	uint8_t fr[64][32], sfr[64][32];
	size_t n = gw_merkle_tree_frontier(&a->tree, fr), bytes = 0;
	uint64_t size = 0, old = a->tree.size;
	gw_rc rc;

	if ((rc = a->st->ops->state_get(a->st, &size, sfr, 64, &bytes, err)))
		return rc;
	if (bytes % 32 || bytes / 32 != (size_t)__builtin_popcountll(size))
		return gw_err_set(err, GW_ERR_REFUSED,
				  "audit log '%s': the stored frontier does "
				  "not match the stored size %llu",
				  a->path, (unsigned long long)size);
	if (size == old && bytes == n * 32 &&
	    (!bytes || !memcmp(sfr, fr, bytes)))
		return GW_OK; /* nobody else wrote */
	if (size < old)
		return gw_err_set(err, GW_ERR_REFUSED,
				  "audit log '%s': its stored size went down "
				  "from %llu to %llu entries (the file was "
				  "truncated or replaced: run 'lienthong "
				  "audit verify')",
				  a->path, (unsigned long long)old,
				  (unsigned long long)size);
	if ((rc = gw_merkle_tree_restore(&a->tree, size,
					 (const uint8_t(*)[32])sfr, bytes / 32,
					 err)))
		return rc;
	if (size != old && !(a->o.flags & GW_AUDIT_READONLY)) {
		/* keep the provisional indexes near the truth */
		pthread_mutex_lock(&a->mu);
		a->next_index += size - old;
		pthread_mutex_unlock(&a->mu);
	}
	return GW_OK;
}

/* Write items[0..n) in one transaction, numbering them from the
 * persisted size; dbmu held. The tree is restored when anything fails
 * (to the state read here, which is on disk). */
static gw_rc commit_items(struct gw_audit *a, struct item *items, size_t n,
			  struct gw_err *err)
{
	const struct gw_store_audit_ops *ops = a->st->ops;
	uint8_t fr[64][32], leaf[32];
	uint64_t size0;
	size_t nfr, i;
	struct gw_buf b;
	gw_rc rc = GW_OK;

	gw_buf_init(&b);
	if ((rc = ops->begin(a->st, 1, err)))
		return rc;
	if ((rc = gw_audit_refresh(a, err))) {
		ops->rollback(a->st);
		return rc;
	}
	size0 = a->tree.size;
	nfr = gw_merkle_tree_frontier(&a->tree, fr);
	for (i = 0; i < n && !rc; i++) {
		struct gw_audit_entry *e = &items[i].e;
		struct gw_store_audit_row row;

		e->index = a->tree.size;
		b.len = 0;
		if ((rc = gw_audit_entry_json(e, &b, err)) ||
		    (rc = gw_merkle_tree_append_entry(&a->tree, b.data, b.len,
						      leaf, err)))
			break;
		gw_audit_entry_to_row(e, leaf, &row);
		if ((rc = ops->entry_put(a->st, &row, err)))
			break;
		if (items[i].payload && (rc = archive(a, &items[i], err)))
			break;
	}
	if (!rc)
		rc = save_state(a, err);
	if (!rc)
		rc = ops->commit(a->st, "commit entries", err);
	if (rc) {
		struct gw_err ignore;

		ops->rollback(a->st);
		gw_merkle_tree_restore(&a->tree, size0,
				       (const uint8_t(*)[32])fr, nfr, &ignore);
	}
	gw_buf_release(&b);
	return rc;
}

/* Take dbmu, then commit the batch that failed last time (if any), then
 * every pending entry. A failed batch becomes the retry batch (the
 * pending entries stay pending behind it), so no allocation is needed to
 * keep it and nothing is dropped; the caller reports the error. */
static gw_rc commit_pending(struct gw_audit *a, struct gw_err *err)
{
	struct item *items;
	size_t n, done = 0;
	gw_rc rc = GW_OK;

	pthread_mutex_lock(&a->dbmu);
	if (a->nretry) {
		if ((rc = commit_items(a, a->retry, a->nretry, err)))
			goto out;
		free_items(a->retry, a->nretry);
		done = a->nretry;
		pthread_mutex_lock(&a->mu);
		a->retry = NULL;
		a->nretry = 0;
		pthread_mutex_unlock(&a->mu);
	}
	pthread_mutex_lock(&a->mu);
	items = a->pend;
	n = a->npend;
	a->pend = NULL;
	a->npend = a->cap = 0;
	a->pend_bytes = 0;
	pthread_cond_broadcast(&a->room);
	pthread_mutex_unlock(&a->mu);
	if (n && (rc = commit_items(a, items, n, err))) {
		pthread_mutex_lock(&a->mu);
		a->retry = items;
		a->nretry = n;
		pthread_mutex_unlock(&a->mu);
		goto out;
	}
	free_items(items, n);
	done += n;
	if (a->o.key && a->o.checkpoint_s && done &&
	    gw_now_ms() - a->last_cp_ms >= (int64_t)a->o.checkpoint_s * 1000)
		rc = gw_audit_publish(a, NULL, err);
out:
	pthread_mutex_unlock(&a->dbmu);
	return rc;
}

static void *bg_main(void *arg)
{
	struct gw_audit *a = arg;
	struct gw_err err;

	pthread_mutex_lock(&a->mu);
	while (!a->stop) {
		int64_t due;
		gw_rc rc;

		if (!a->npend && !a->nretry) {
			pthread_cond_wait(&a->cv, &a->mu);
			continue;
		}
		due = a->oldest_ms + a->o.flush_ms;
		if (!a->nretry && a->npend < a->o.batch_size &&
		    gw_now_ms() < due) {
			struct timespec ts;

			ts.tv_sec = (time_t)(due / 1000);
			ts.tv_nsec = (long)(due % 1000) * 1000000L;
			pthread_cond_timedwait(&a->cv, &a->mu, &ts);
			continue;
		}
		pthread_mutex_unlock(&a->mu);
		gw_err_clear(&err);
		rc = commit_pending(a, &err);
		pthread_mutex_lock(&a->mu);
		a->bg_rc = rc;
		if (rc) {
			pthread_cond_broadcast(&a->room);
			/* retried after flush_ms, reported every time */
			struct timespec ts;
			int64_t until = gw_now_ms() + a->o.flush_ms;

			snprintf(a->bg_msg, sizeof(a->bg_msg), "%s", err.msg);
			gw_log(GW_LOG_ERROR, "audit-commit", NULL, "%s",
			       err.msg);
			ts.tv_sec = (time_t)(until / 1000);
			ts.tv_nsec = (long)(until % 1000) * 1000000L;
			if (!a->stop)
				pthread_cond_timedwait(&a->cv, &a->mu, &ts);
		}
	}
	pthread_mutex_unlock(&a->mu);
	return NULL;
}

struct last_cp {
	int64_t time_ms;
	uint64_t size;
};

static int last_cp_row(void *arg, const struct gw_store_audit_cp *c)
{
	struct last_cp *l = arg;

	l->time_ms = c->time_ms;
	l->size = c->size;
	return 0;
}

static gw_rc load_state(struct gw_audit *a, struct gw_err *err)
{
	struct last_cp l = { 0, 0 };
	gw_rc rc;
	int found = 0;

	if ((rc = gw_audit_refresh(a, err)) ||
	    (rc = a->st->ops->cp_get(a->st, 0, &found, last_cp_row, &l, err)))
		return rc;
	if (found) {
		a->last_cp_ms = l.time_ms;
		a->last_cp_size = l.size;
	}
	return GW_OK;
}

gw_rc gw_audit_open(const char *path, const struct gw_audit_opts *opts,
		    struct gw_audit **out, struct gw_err *err)
{
	return gw_audit_open_backend(&gw_store_sqlite, path, opts, out, err);
}

gw_rc gw_audit_open_backend(const struct gw_store_backend *b, const char *where,
			    const struct gw_audit_opts *opts,
			    struct gw_audit **out, struct gw_err *err)
{
	struct gw_audit *a;
	gw_rc rc;
	int ro;

	*out = NULL;
	if (!(a = gw_calloc(1, sizeof(*a)))) {
		if (opts && (opts->flags & GW_AUDIT_OWNS_KEY))
			gw_sign_key_free((struct gw_sign_key *)opts->key);
		return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
	}
	if (opts)
		a->o = *opts;
	if (!a->o.batch_size)
		a->o.batch_size = 4096;
	if (!a->o.flush_ms)
		a->o.flush_ms = 200;
	if (!a->o.log_name)
		a->o.log_name = "lienthong";
	ro = (a->o.flags & GW_AUDIT_READONLY) != 0;
	pthread_mutex_init(&a->mu, NULL);
	pthread_mutex_init(&a->dbmu, NULL);
	pthread_cond_init(&a->cv, NULL);
	pthread_cond_init(&a->room, NULL);
	if (!(a->path = gw_strdup(where))) {
		rc = gw_err_set(err, GW_ERR_NOMEM, "out of memory");
		goto fail;
	}
	if ((rc = gw_merkle_tree_init(&a->tree, err)))
		goto fail;
	if (!b || !b->audit_open) {
		rc = gw_err_set(err, GW_ERR_UNSUPPORTED,
				"audit log: the store backend '%s' has no "
				"audit log",
				b ? b->name : "(none)");
		goto fail;
	}
	if ((rc = b->audit_open(where, ro ? GW_STORE_READONLY : 0, &a->st,
				err)) ||
	    (rc = load_state(a, err)))
		goto fail;
	a->next_index = a->tree.size;
	if (!ro && a->o.retention_days && (rc = gw_audit_prune(a, err)))
		goto fail;
	if (a->o.flags & GW_AUDIT_BACKGROUND && !ro) {
		if (pthread_create(&a->thread, NULL, bg_main, a)) {
			rc = gw_err_set(err, GW_ERR_INTERNAL,
					"audit log: cannot start its thread: "
					"%s",
					strerror(errno));
			goto fail;
		}
		a->thread_on = 1;
	}
	*out = a;
	return GW_OK;
fail:
	gw_audit_close(a);
	return rc;
}

void gw_audit_close(struct gw_audit *a)
{
	struct gw_err err;

	if (!a)
		return;
	if (a->thread_on) {
		pthread_mutex_lock(&a->mu);
		a->stop = 1;
		pthread_cond_broadcast(&a->cv);
		pthread_cond_broadcast(&a->room);
		pthread_mutex_unlock(&a->mu);
		pthread_join(a->thread, NULL);
	}
	gw_err_clear(&err);
	if (a->st && !(a->o.flags & GW_AUDIT_READONLY) &&
	    (a->npend || a->nretry) && commit_pending(a, &err))
		gw_log(GW_LOG_ERROR, "audit-lost", NULL,
		       "%s (%zu audit entries not logged)", err.msg,
		       a->npend + a->nretry);
	free_items(a->retry, a->nretry);
	free_items(a->pend, a->npend);
	gw_store_audit_close(a->st);
	gw_merkle_tree_release(&a->tree);
	if (a->o.flags & GW_AUDIT_OWNS_KEY)
		gw_sign_key_free((struct gw_sign_key *)a->o.key);
	pthread_cond_destroy(&a->cv);
	pthread_cond_destroy(&a->room);
	pthread_mutex_destroy(&a->mu);
	pthread_mutex_destroy(&a->dbmu);
	free(a->path);
	free(a);
}

gw_rc gw_audit_append(struct gw_audit *a, const struct gw_audit_entry *e,
		      const void *payload, size_t plen, uint64_t *index,
		      struct gw_err *err)
{
	struct item it;
	char digest[65];
	size_t need = 0;
	char *p;
	int i, full;
	gw_rc rc = GW_OK;

	if (a->o.flags & GW_AUDIT_READONLY)
		return gw_err_set(err, GW_ERR_USAGE,
				  "audit log '%s' is open read-only", a->path);
	memset(&it, 0, sizeof(it));
	it.e = *e;
	if (!it.e.time_ms)
		it.e.time_ms = gw_now_ms();
	if (!e->digest && payload) {
		if (gw_sha256_hex(payload, plen, digest) != 0)
			memset(digest, '0', 64), digest[64] = '\0';
		it.e.digest = digest;
	}
	for (i = 0; i < NSTR; i++)
		need += clean_len(*gw_audit_field(&it.e, i));
	if (!(p = it.strs = gw_malloc(need)))
		return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
	for (i = 0; i < NSTR; i++) {
		const char **f = gw_audit_field(&it.e, i);
		char *start = p;

		p = clean_copy(p, *f);
		*f = start;
	}
	if (payload && (a->o.flags & GW_AUDIT_ARCHIVE)) {
		if (!(it.payload = gw_malloc(plen ? plen : 1))) {
			free(it.strs);
			return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
		}
		memcpy(it.payload, payload, plen);
		it.plen = plen;
	}
	pthread_mutex_lock(&a->mu);
	/* backpressure: when the thread falls behind (a busy disk, a
	 * saturated machine), the writers wait for it rather than letting
	 * the pending entries, payloads included, grow without bound; not
	 * when it is failing (the error is returned below) or stopping */
	while (a->thread_on && !a->stop && !a->bg_rc &&
	       (a->npend >= 2 * a->o.batch_size ||
		a->pend_bytes >= AUDIT_MAX_PENDING_BYTES)) {
		pthread_cond_signal(&a->cv);
		pthread_cond_wait(&a->room, &a->mu);
	}
	if (a->npend == a->cap) {
		size_t ncap = a->cap ? a->cap * 2 : 256;
		struct item *m = gw_realloc(a->pend, ncap * sizeof(*m));

		if (!m) {
			pthread_mutex_unlock(&a->mu);
			free(it.strs);
			free(it.payload);
			return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
		}
		a->pend = m;
		a->cap = ncap;
	}
	if (!a->npend)
		a->oldest_ms = gw_now_ms();
	it.e.index = a->next_index++;
	a->pend[a->npend++] = it;
	a->pend_bytes += need + it.plen;
	if (index)
		*index = it.e.index;
	full = a->npend >= a->o.batch_size ||
	       gw_now_ms() - a->oldest_ms >= (int64_t)a->o.flush_ms;
	if (a->thread_on) {
		if (a->bg_rc)
			rc = gw_err_set(err, a->bg_rc, "%s", a->bg_msg);
		if (full)
			pthread_cond_signal(&a->cv);
	}
	pthread_mutex_unlock(&a->mu);
	if (!a->thread_on && full)
		rc = commit_pending(a, err);
	return rc;
}

void gw_audit_note(struct gw_audit *a, const struct gw_audit_entry *e,
		   const void *payload, size_t plen)
{
	struct gw_err err;

	if (!a)
		return;
	gw_err_clear(&err);
	if (gw_audit_append(a, e, payload, plen, NULL, &err))
		gw_log(GW_LOG_ERROR, "audit-append", e->msg_id, "%s", err.msg);
}

gw_rc gw_audit_flush(struct gw_audit *a, struct gw_err *err)
{
	gw_rc rc;

	if (a->o.flags & GW_AUDIT_READONLY)
		return GW_OK;
	/* reported here too: a failure in the caller's commit is as much a
	 * failed commit as one of the background thread */
	if ((rc = commit_pending(a, err)))
		gw_log(GW_LOG_ERROR, "audit-commit", NULL, "%s", err->msg);
	return rc;
}

uint64_t gw_audit_size(struct gw_audit *a)
{
	uint64_t n;

	struct gw_err ignore;

	pthread_mutex_lock(&a->dbmu);
	gw_err_clear(&ignore);
	gw_audit_refresh(a, &ignore); /* on failure: the last size seen */
	n = a->tree.size;
	pthread_mutex_unlock(&a->dbmu);
	return n;
}

gw_rc gw_audit_root(struct gw_audit *a, uint8_t root[32], struct gw_err *err)
{
	gw_rc rc;

	pthread_mutex_lock(&a->dbmu);
	if (!(rc = gw_audit_refresh(a, err)))
		rc = gw_merkle_tree_root(&a->tree, root, err);
	pthread_mutex_unlock(&a->dbmu);
	return rc;
}

/* ---- queries ---- */

struct query_ctx {
	int (*cb)(void *arg, const struct gw_audit_entry *e);
	void *arg;
};

static int query_row(void *arg, const struct gw_store_audit_row *r)
{
	struct query_ctx *q = arg;
	struct gw_audit_entry e;

	gw_audit_entry_from_row(r, &e);
	return q->cb(q->arg, &e);
}

gw_rc gw_audit_query(struct gw_audit *a, const struct gw_audit_filter *f,
		     int (*cb)(void *arg, const struct gw_audit_entry *e),
		     void *arg, struct gw_err *err)
{
	struct gw_store_audit_filter sf;
	struct query_ctx q = { cb, arg };
	gw_rc rc;

	memset(&sf, 0, sizeof(sf));
	if (f) {
		sf.first = f->first;
		sf.last = f->last;
		sf.since_ms = f->since_ms;
		sf.until_ms = f->until_ms;
		sf.partner = f->partner;
		sf.kind = f->kind;
		sf.outcome = f->outcome;
		sf.msg_id = f->msg_id;
	}
	if ((rc = gw_audit_flush(a, err)))
		return rc;
	pthread_mutex_lock(&a->dbmu);
	rc = a->st->ops->entry_query(a->st, &sf, query_row, &q, err);
	pthread_mutex_unlock(&a->dbmu);
	return rc;
}

/* ---- payload archive ---- */

struct payload_ctx {
	const char *digest;
	struct gw_buf *out;
	struct gw_err *err;
};

static gw_rc unpack(void *arg, int64_t n, const void *z, size_t zlen)
{
	struct payload_ctx *p = arg;
	struct gw_buf *out = p->out;
	uLongf dlen = (uLongf)n;
	size_t start = out->len;

	if (n < 0 || (size_t)n > ((size_t)1 << 31))
		return gw_err_set(p->err, GW_ERR_REFUSED,
				  "archived payload %s: bad length", p->digest);
	if (out->cap < start + (size_t)n + 1) {
		char *m = gw_realloc(out->data, start + (size_t)n + 1);

		if (!m)
			return gw_err_set(p->err, GW_ERR_NOMEM,
					  "out of memory");
		out->data = m;
		out->cap = start + (size_t)n + 1;
	}
	if (uncompress((Bytef *)out->data + start, &dlen, z, (uLong)zlen) !=
		    Z_OK ||
	    dlen != (uLongf)n)
		return gw_err_set(p->err, GW_ERR_REFUSED,
				  "archived payload %s is damaged", p->digest);
	out->len = start + (size_t)n;
	out->data[out->len] = '\0';
	return GW_OK;
}

gw_rc gw_audit_payload(struct gw_audit *a, const char *digest,
		       struct gw_buf *out, struct gw_err *err)
{
	struct payload_ctx p = { digest, out, err };
	gw_rc rc;
	int found = 0;

	if ((rc = gw_audit_flush(a, err)))
		return rc;
	pthread_mutex_lock(&a->dbmu);
	rc = a->st->ops->payload_get(a->st, digest, &found, unpack, &p, err);
	pthread_mutex_unlock(&a->dbmu);
	if (!rc && !found)
		rc = gw_err_set(err, GW_ERR_USAGE,
				"no archived payload with SHA-256 %s (never "
				"archived, or past the retention)",
				digest);
	return rc;
}

gw_rc gw_audit_prune(struct gw_audit *a, struct gw_err *err)
{
	int64_t dropped = 0;
	gw_rc rc;

	if (!a->o.retention_days)
		return GW_OK;
	pthread_mutex_lock(&a->dbmu);
	rc = a->st->ops->payload_prune(
		a->st, gw_now_ms() - (int64_t)a->o.retention_days * 86400000,
		&dropped, err);
	if (!rc && dropped)
		gw_log(GW_LOG_INFO, "audit-prune", NULL,
		       "%d archived payloads past %u days dropped",
		       (int)dropped, a->o.retention_days);
	pthread_mutex_unlock(&a->dbmu);
	return rc;
}
