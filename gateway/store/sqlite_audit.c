/*
 * sqlite_audit.c - the SQLite backend of the audit log's storage (struct
 * gw_store_audit_ops of store/store.h; the log itself is gateway/audit/).
 *
 * Tables: entries (one row per leaf: the entry's fields and its leaf
 * hash), state (the tree size and frontier, so a reopened log resumes
 * appending without reading its leaves), checkpoints (seq, size, root,
 * time, the flattened JWS) and payloads (zlib-compressed bytes by SHA-256,
 * dropped after the retention). WAL with synchronous=FULL: a committed
 * batch is on disk, and one batch costs one fsync. The statements of a
 * batch's commit are prepared once, at open; the rest per call.
 */
#include "store/sqlite.h"
#include "store/sqlutil.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

struct sqa {
	sqlite3 *db;
	sqlite3_stmt *ins, *ins_pl, *has_pl, *put_state;
};

static const char schema[] =
	"PRAGMA journal_mode=WAL;"
	"PRAGMA synchronous=FULL;"
	"PRAGMA wal_autocheckpoint=16384;" /* copy the WAL back in 64 MiB
					      steps, not 4 MiB ones */
	"CREATE TABLE IF NOT EXISTS entries ("
	" idx INTEGER PRIMARY KEY, time_ms INTEGER NOT NULL, msg_id TEXT,"
	" event TEXT, msg_kind TEXT, sender TEXT, receiver TEXT,"
	" direction TEXT, outcome TEXT, reason TEXT, digest TEXT,"
	" signer TEXT, leaf BLOB NOT NULL);"
	"CREATE INDEX IF NOT EXISTS entries_msg ON entries(msg_id);"
	"CREATE TABLE IF NOT EXISTS state ("
	" id INTEGER PRIMARY KEY CHECK (id = 1), size INTEGER NOT NULL,"
	" frontier BLOB NOT NULL);"
	"CREATE TABLE IF NOT EXISTS checkpoints ("
	" seq INTEGER PRIMARY KEY, size INTEGER NOT NULL, root BLOB NOT NULL,"
	" time_ms INTEGER NOT NULL, jws TEXT);"
	"CREATE TABLE IF NOT EXISTS payloads ("
	" digest TEXT PRIMARY KEY, time_ms INTEGER NOT NULL,"
	" len INTEGER NOT NULL, data BLOB NOT NULL);"
	"CREATE INDEX IF NOT EXISTS payloads_time ON payloads(time_ms);"
	"CREATE TABLE IF NOT EXISTS cp_tokens ("
	" seq INTEGER PRIMARY KEY, token BLOB NOT NULL, tsa TEXT,"
	" gen_ms INTEGER NOT NULL);";

static const char entry_cols[] =
	"idx, time_ms, msg_id, event, msg_kind, sender, receiver, direction,"
	" outcome, reason, digest, signer";

static gw_rc db_err(sqlite3 *db, struct gw_err *err, const char *what)
{
	int code = sqlite3_errcode(db);
	gw_rc rc = (code == SQLITE_FULL || code == SQLITE_READONLY ||
		    code == SQLITE_IOERR || code == SQLITE_CANTOPEN ||
		    code == SQLITE_BUSY || code == SQLITE_CORRUPT ||
		    code == SQLITE_NOTADB)
			   ? GW_ERR_IO
			   : GW_ERR_INTERNAL;

	return gw_err_set(err, rc, "audit log: cannot %s: %s", what,
			  sqlite3_errmsg(db));
}

static sqlite3 *dbof(struct gw_store_audit *s)
{
	return ((struct sqa *)s->impl)->db;
}

/* ---- transactions ---- */

static gw_rc sq_begin(struct gw_store_audit *s, int write, struct gw_err *err)
{
	sqlite3 *db = dbof(s);

	if (sqlite3_exec(db, write ? "BEGIN IMMEDIATE" : "BEGIN", NULL, NULL,
			 NULL))
		return db_err(db, err, "begin a transaction");
	return GW_OK;
}

static gw_rc sq_commit(struct gw_store_audit *s, const char *what,
		       struct gw_err *err)
{
	sqlite3 *db = dbof(s);

	if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL))
		return db_err(db, err, what);
	return GW_OK;
}

static void sq_rollback(struct gw_store_audit *s)
{
	sqlite3_exec(dbof(s), "ROLLBACK", NULL, NULL, NULL);
}

/* ---- tree state and entries ---- */

static gw_rc sq_state_get(struct gw_store_audit *s, uint64_t *size,
			  uint8_t (*fr)[32], size_t max, size_t *fr_len,
			  struct gw_err *err)
{
	sqlite3 *db = dbof(s);
	sqlite3_stmt *st = NULL;
	gw_rc rc = GW_OK;
	int r;

	*size = 0;
	*fr_len = 0;
	if (sqlite3_prepare_v2(db, "SELECT size, frontier FROM state", -1, &st,
			       NULL))
		return db_err(db, err, "read the tree state");
	r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		const void *b = sqlite3_column_blob(st, 1);
		size_t bytes = (size_t)sqlite3_column_bytes(st, 1);

		*size = (uint64_t)sqlite3_column_int64(st, 0);
		*fr_len = bytes;
		if (bytes && !b)
			*fr_len = 1; /* malformed: not a multiple of 32 */
		else if (bytes <= max * 32 && bytes)
			memcpy(fr, b, bytes);
	} else if (r != SQLITE_DONE) {
		rc = db_err(db, err, "read the tree state");
	}
	sqlite3_finalize(st);
	return rc;
}

static gw_rc sq_state_put(struct gw_store_audit *s, uint64_t size,
			  const uint8_t (*fr)[32], size_t n, struct gw_err *err)
{
	struct sqa *q = s->impl;

	sqlite3_reset(q->put_state);
	sqlite3_bind_int64(q->put_state, 1, (sqlite3_int64)size);
	sqlite3_bind_blob(q->put_state, 2, fr, (int)(n * 32), SQLITE_STATIC);
	if (sqlite3_step(q->put_state) != SQLITE_DONE)
		return db_err(q->db, err, "store the tree state");
	return GW_OK;
}

static gw_rc sq_entry_put(struct gw_store_audit *s,
			  const struct gw_store_audit_row *e,
			  struct gw_err *err)
{
	struct sqa *q = s->impl;
	int i;

	sqlite3_reset(q->ins);
	sqlite3_bind_int64(q->ins, 1, (sqlite3_int64)e->index);
	sqlite3_bind_int64(q->ins, 2, e->time_ms);
	for (i = 0; i < GW_STORE_AUDIT_NSTR; i++)
		sqlite3_bind_text(q->ins, 3 + i, e->str[i], -1, SQLITE_STATIC);
	sqlite3_bind_blob(q->ins, 13, e->leaf, 32, SQLITE_STATIC);
	if (sqlite3_step(q->ins) != SQLITE_DONE)
		return db_err(q->db, err, "store an entry");
	return GW_OK;
}

static void row_read(sqlite3_stmt *st, struct gw_store_audit_row *e)
{
	int i;

	e->index = (uint64_t)sqlite3_column_int64(st, 0);
	e->time_ms = sqlite3_column_int64(st, 1);
	for (i = 0; i < GW_STORE_AUDIT_NSTR; i++) {
		const char *t = (const char *)sqlite3_column_text(st, 2 + i);

		e->str[i] = t ? t : "";
	}
	e->leaf = NULL;
}

static gw_rc sq_entry_query(struct gw_store_audit *s,
			    const struct gw_store_audit_filter *f,
			    gw_store_audit_row_cb cb, void *arg,
			    struct gw_err *err)
{
	sqlite3 *db = dbof(s);
	struct gw_buf sql;
	sqlite3_stmt *st = NULL;
	gw_rc rc = GW_OK;
	int r;

	gw_buf_init(&sql);
	gw_buf_addf(&sql, "SELECT %s FROM entries WHERE idx >= ?1", entry_cols);
	if (f->last)
		gw_buf_adds(&sql, " AND idx <= ?2");
	if (f->since_ms)
		gw_buf_adds(&sql, " AND time_ms >= ?3");
	if (f->until_ms)
		gw_buf_adds(&sql, " AND time_ms <= ?4");
	if (f->partner)
		gw_buf_adds(&sql, " AND (sender = ?5 OR receiver = ?5)");
	if (f->kind)
		gw_buf_adds(&sql, " AND (event = ?6 OR msg_kind = ?6)");
	if (f->outcome)
		gw_buf_adds(&sql, " AND outcome = ?7");
	if (f->msg_id)
		gw_buf_adds(&sql, " AND msg_id = ?8");
	if (gw_buf_adds(&sql, " ORDER BY idx"))
		return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
	if (sqlite3_prepare_v2(db, sql.data, -1, &st, NULL)) {
		rc = db_err(db, err, "query entries");
		goto out;
	}
	sqlite3_bind_int64(st, 1, (sqlite3_int64)f->first);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)f->last);
	sqlite3_bind_int64(st, 3, f->since_ms);
	sqlite3_bind_int64(st, 4, f->until_ms);
	sqlite3_bind_text(st, 5, f->partner, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, f->kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, f->outcome, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, f->msg_id, -1, SQLITE_STATIC);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		struct gw_store_audit_row e;

		row_read(st, &e);
		if (cb(arg, &e))
			break;
	}
	if (r != SQLITE_ROW && r != SQLITE_DONE)
		rc = db_err(db, err, "query entries");
out:
	sqlite3_finalize(st);
	gw_buf_release(&sql);
	return rc;
}

static gw_rc sq_entry_scan(struct gw_store_audit *s, gw_store_audit_row_cb cb,
			   void *arg, struct gw_err *err)
{
	sqlite3 *db = dbof(s);
	sqlite3_stmt *st = NULL;
	gw_rc rc = GW_OK;
	int r;

	if (sqlite3_prepare_v2(
		    db,
		    "SELECT idx, time_ms, msg_id, event, msg_kind,"
		    " sender, receiver, direction, outcome, reason,"
		    " digest, signer, leaf FROM entries ORDER BY idx",
		    -1, &st, NULL))
		return db_err(db, err, "read the entries");
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		struct gw_store_audit_row e;
		const void *leaf = sqlite3_column_blob(st, 12);

		row_read(st, &e);
		if (leaf && sqlite3_column_bytes(st, 12) == 32)
			e.leaf = leaf;
		if (cb(arg, &e))
			break;
	}
	if (r != SQLITE_ROW && r != SQLITE_DONE)
		rc = db_err(db, err, "read the entries");
	sqlite3_finalize(st);
	return rc;
}

static gw_rc sq_leaves(struct gw_store_audit *s, uint64_t first, uint64_t n,
		       uint8_t (*out)[32], uint64_t *got, struct gw_err *err)
{
	sqlite3 *db = dbof(s);
	sqlite3_stmt *st = NULL;

	*got = 0;
	if (sqlite3_prepare_v2(db,
			       "SELECT leaf FROM entries WHERE idx >= ?1 AND"
			       " idx < ?2 ORDER BY idx",
			       -1, &st, NULL))
		return db_err(db, err, "read leaf hashes");
	sqlite3_bind_int64(st, 1, (sqlite3_int64)first);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)(first + n));
	while (sqlite3_step(st) == SQLITE_ROW && *got < n) {
		if (sqlite3_column_bytes(st, 0) != 32)
			break;
		memcpy(out[(*got)++], sqlite3_column_blob(st, 0), 32);
	}
	sqlite3_finalize(st);
	return GW_OK;
}

/* ---- checkpoints ---- */

static gw_rc sq_cp_max_seq(struct gw_store_audit *s, uint64_t *seq,
			   struct gw_err *err)
{
	sqlite3 *db = dbof(s);
	sqlite3_stmt *st = NULL;
	gw_rc rc = GW_OK;

	if (sqlite3_prepare_v2(db,
			       "SELECT coalesce(max(seq), 0) FROM checkpoints",
			       -1, &st, NULL) ||
	    sqlite3_step(st) != SQLITE_ROW)
		rc = db_err(db, err, "read the checkpoints");
	else
		*seq = (uint64_t)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc;
}

static gw_rc sq_cp_put(struct gw_store_audit *s,
		       const struct gw_store_audit_cp *c, struct gw_err *err)
{
	sqlite3 *db = dbof(s);
	sqlite3_stmt *st = NULL;
	gw_rc rc = GW_OK;

	if (sqlite3_prepare_v2(db,
			       "INSERT INTO checkpoints (seq, size, root,"
			       " time_ms, jws) VALUES (?1, ?2, ?3, ?4, ?5)",
			       -1, &st, NULL))
		return db_err(db, err, "store a checkpoint");
	sqlite3_bind_int64(st, 1, (sqlite3_int64)c->seq);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)c->size);
	sqlite3_bind_blob(st, 3, c->root, 32, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, c->time_ms);
	if (c->jws)
		sqlite3_bind_text(st, 5, c->jws, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = db_err(db, err, "store a checkpoint");
	sqlite3_finalize(st);
	return rc;
}

static void cp_read(sqlite3_stmt *st, struct gw_store_audit_cp *c)
{
	const void *r = sqlite3_column_blob(st, 2);

	memset(c, 0, sizeof(*c));
	c->seq = (uint64_t)sqlite3_column_int64(st, 0);
	c->size = (uint64_t)sqlite3_column_int64(st, 1);
	if (r && sqlite3_column_bytes(st, 2) == 32)
		memcpy(c->root, r, 32);
	c->time_ms = sqlite3_column_int64(st, 3);
	c->jws = (const char *)sqlite3_column_text(st, 4);
}

static gw_rc sq_cp_get(struct gw_store_audit *s, uint64_t seq, int *found,
		       gw_store_audit_cp_cb cb, void *arg, struct gw_err *err)
{
	sqlite3 *db = dbof(s);
	sqlite3_stmt *st = NULL;
	gw_rc rc = GW_OK;
	int r;

	*found = 0;
	if (sqlite3_prepare_v2(db,
			       seq ? "SELECT seq, size, root, time_ms, jws FROM"
				     " checkpoints WHERE seq = ?1"
				   : "SELECT seq, size, root, time_ms, jws FROM"
				     " checkpoints ORDER BY seq DESC LIMIT 1",
			       -1, &st, NULL))
		return db_err(db, err, "read the checkpoints");
	if (seq)
		sqlite3_bind_int64(st, 1, (sqlite3_int64)seq);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		struct gw_store_audit_cp c;

		cp_read(st, &c);
		*found = 1;
		cb(arg, &c);
	} else if (r != SQLITE_DONE) {
		rc = db_err(db, err, "read the checkpoints");
	}
	sqlite3_finalize(st);
	return rc;
}

static gw_rc sq_cp_each(struct gw_store_audit *s, gw_store_audit_cp_cb cb,
			void *arg, struct gw_err *err)
{
	sqlite3 *db = dbof(s);
	sqlite3_stmt *st = NULL;
	gw_rc rc = GW_OK;
	int r;

	if (sqlite3_prepare_v2(db,
			       "SELECT seq, size, root, time_ms, jws FROM"
			       " checkpoints ORDER BY seq",
			       -1, &st, NULL))
		return db_err(db, err, "read the checkpoints");
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		struct gw_store_audit_cp c;

		cp_read(st, &c);
		if (cb(arg, &c))
			break;
	}
	if (r != SQLITE_ROW && r != SQLITE_DONE)
		rc = db_err(db, err, "read the checkpoints");
	sqlite3_finalize(st);
	return rc;
}

/* ---- payloads ---- */

static gw_rc sq_payload_has(struct gw_store_audit *s, const char *digest,
			    int *has, struct gw_err *err)
{
	struct sqa *q = s->impl;
	int r;

	sqlite3_reset(q->has_pl);
	sqlite3_bind_text(q->has_pl, 1, digest, -1, SQLITE_STATIC);
	r = sqlite3_step(q->has_pl);
	sqlite3_reset(q->has_pl);
	*has = r == SQLITE_ROW;
	if (r != SQLITE_ROW && r != SQLITE_DONE)
		return db_err(q->db, err, "look up a payload");
	return GW_OK;
}

static gw_rc sq_payload_put(struct gw_store_audit *s, const char *digest,
			    int64_t time_ms, int64_t len, const void *z,
			    size_t zlen, struct gw_err *err)
{
	struct sqa *q = s->impl;

	sqlite3_reset(q->ins_pl);
	sqlite3_bind_text(q->ins_pl, 1, digest, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q->ins_pl, 2, time_ms);
	sqlite3_bind_int64(q->ins_pl, 3, len);
	sqlite3_bind_blob64(q->ins_pl, 4, z, zlen, SQLITE_STATIC);
	if (sqlite3_step(q->ins_pl) != SQLITE_DONE)
		return db_err(q->db, err, "archive a payload");
	return GW_OK;
}

static gw_rc
sq_payload_get(struct gw_store_audit *s, const char *digest, int *found,
	       gw_rc (*cb)(void *arg, int64_t len, const void *z, size_t zlen),
	       void *arg, struct gw_err *err)
{
	sqlite3 *db = dbof(s);
	sqlite3_stmt *st = NULL;
	gw_rc rc = GW_OK;

	*found = 0;
	if (sqlite3_prepare_v2(
		    db, "SELECT len, data FROM payloads WHERE digest = ?1", -1,
		    &st, NULL))
		return db_err(db, err, "read a payload");
	sqlite3_bind_text(st, 1, digest, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		*found = 1;
		rc = cb(arg, sqlite3_column_int64(st, 0),
			sqlite3_column_blob(st, 1),
			(size_t)sqlite3_column_bytes(st, 1));
	}
	sqlite3_finalize(st);
	return rc;
}

static gw_rc sq_payload_prune(struct gw_store_audit *s, int64_t before_ms,
			      int64_t *dropped, struct gw_err *err)
{
	sqlite3 *db = dbof(s);
	sqlite3_stmt *st = NULL;
	gw_rc rc = GW_OK;

	*dropped = 0;
	if (sqlite3_prepare_v2(db, "DELETE FROM payloads WHERE time_ms < ?1",
			       -1, &st, NULL))
		return db_err(db, err, "prune payloads");
	sqlite3_bind_int64(st, 1, before_ms);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = db_err(db, err, "prune payloads");
	else
		*dropped = sqlite3_changes(db);
	sqlite3_finalize(st);
	return rc;
}

/* ---- open and close ---- */

static void sq_close(struct gw_store_audit *s)
{
	struct sqa *q = s->impl;

	if (!q)
		return;
	sqlite3_finalize(q->ins);
	sqlite3_finalize(q->ins_pl);
	sqlite3_finalize(q->has_pl);
	sqlite3_finalize(q->put_state);
	if (q->db)
		sqlite3_close(q->db);
	free(q);
	s->impl = NULL;
}

static gw_rc sq_token_put(struct gw_store_audit *s, uint64_t seq,
			  const unsigned char *der, size_t len, const char *tsa,
			  int64_t gen_ms, struct gw_err *err)
{
	sqlite3 *db = dbof(s);
	sqlite3_stmt *st = NULL;
	gw_rc rc = GW_OK;

	if (sqlite3_prepare_v2(db,
			       "INSERT OR IGNORE INTO cp_tokens (seq, token,"
			       " tsa, gen_ms) VALUES (?1, ?2, ?3, ?4)",
			       -1, &st, NULL))
		return db_err(db, err, "keep a timestamp token");
	sqlite3_bind_int64(st, 1, (sqlite3_int64)seq);
	sqlite3_bind_blob(st, 2, der, (int)len, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, tsa, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, gen_ms);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = db_err(db, err, "keep a timestamp token");
	sqlite3_finalize(st);
	return rc;
}

static gw_rc sq_token_get(struct gw_store_audit *s, uint64_t seq,
			  unsigned char **der, size_t *len, int64_t *gen_ms,
			  struct gw_err *err)
{
	sqlite3 *db = dbof(s);
	sqlite3_stmt *st = NULL;
	gw_rc rc = GW_OK;
	int r;

	*der = NULL;
	*len = 0;
	if (sqlite3_prepare_v2(db,
			       "SELECT token, gen_ms FROM cp_tokens WHERE"
			       " seq = ?1",
			       -1, &st, NULL))
		return db_err(db, err, "read a timestamp token");
	sqlite3_bind_int64(st, 1, (sqlite3_int64)seq);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		int n = sqlite3_column_bytes(st, 0);

		if (n > 0 && (*der = gw_malloc((size_t)n))) {
			memcpy(*der, sqlite3_column_blob(st, 0), (size_t)n);
			*len = (size_t)n;
			*gen_ms = sqlite3_column_int64(st, 1);
		} else if (n > 0) {
			rc = gw_err_set(err, GW_ERR_NOMEM, "out of memory");
		}
	} else if (r != SQLITE_DONE) {
		rc = db_err(db, err, "read a timestamp token");
	}
	sqlite3_finalize(st);
	return rc;
}

static const struct gw_store_audit_ops sqlite_ops = {
	.begin = sq_begin,
	.commit = sq_commit,
	.rollback = sq_rollback,
	.state_get = sq_state_get,
	.state_put = sq_state_put,
	.entry_put = sq_entry_put,
	.entry_query = sq_entry_query,
	.entry_scan = sq_entry_scan,
	.leaves = sq_leaves,
	.cp_max_seq = sq_cp_max_seq,
	.cp_put = sq_cp_put,
	.cp_get = sq_cp_get,
	.cp_each = sq_cp_each,
	.token_put = sq_token_put,
	.token_get = sq_token_get,
	.payload_has = sq_payload_has,
	.payload_put = sq_payload_put,
	.payload_get = sq_payload_get,
	.payload_prune = sq_payload_prune,
	.close = sq_close,
};

static gw_rc prepare(struct sqa *q, struct gw_err *err)
{
	struct {
		sqlite3_stmt **st;
		const char *sql;
	} p[] = {
		{ &q->ins, "INSERT INTO entries (idx, time_ms, msg_id, event,"
			   " msg_kind, sender, receiver, direction, outcome,"
			   " reason, digest, signer, leaf) VALUES (?1, ?2, ?3,"
			   " ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)" },
		{ &q->ins_pl, "INSERT OR IGNORE INTO payloads (digest,"
			      " time_ms, len, data) VALUES (?1, ?2, ?3, ?4)" },
		{ &q->has_pl, "SELECT 1 FROM payloads WHERE digest = ?1" },
		{ &q->put_state, "INSERT OR REPLACE INTO state (id, size,"
				 " frontier) VALUES (1, ?1, ?2)" },
	};
	size_t i;

	for (i = 0; i < GW_ARRAY_LEN(p); i++)
		if (sqlite3_prepare_v2(q->db, p[i].sql, -1, p[i].st, NULL))
			return db_err(q->db, err, "prepare a statement");
	return GW_OK;
}

gw_rc gw_sqlite_audit_open(const char *path, unsigned flags,
			   struct gw_store_audit **out, struct gw_err *err)
{
	struct gw_store_audit *s = gw_calloc(1, sizeof(*s));
	struct sqa *q = gw_calloc(1, sizeof(*q));
	int ro = (flags & GW_STORE_READONLY) != 0;
	gw_rc rc = GW_OK;

	*out = NULL;
	if (!s || !q) {
		free(s);
		free(q);
		return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
	}
	s->ops = &sqlite_ops;
	s->impl = q;
	if (sqlite3_open_v2(path, &q->db,
			    ro ? SQLITE_OPEN_READONLY
			       : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
			    NULL)) {
		rc = gw_err_set(err, GW_ERR_IO,
				"cannot open the audit log '%s': %s%s", path,
				q->db ? sqlite3_errmsg(q->db) : "out of memory",
				ro ? " (is the audit: store path right?)" : "");
		goto out;
	}
	sqlite3_busy_timeout(q->db, 10000);
	/* reading a whole log (verify, proofs) through mmap is faster; a
	 * writer does not map it: the pages it touches would count in its
	 * resident set as the log grows */
	if (ro)
		sqlite3_exec(q->db, "PRAGMA mmap_size=1073741824", NULL, NULL,
			     NULL);
	if (!ro && gw_sql_setup(q->db, schema)) {
		rc = gw_err_set(err, GW_ERR_IO,
				"cannot set up the audit log '%s': %s", path,
				sqlite3_errmsg(q->db));
		goto out;
	}
	if (!ro)
		rc = prepare(q, err);
out:
	if (rc) {
		gw_store_audit_close(s);
		return rc;
	}
	*out = s;
	return GW_OK;
}
