/*
 * sqlite_inbox.c - the SQLite backend of the inbound server's inbox
 * (struct gw_inbox_ops of store/store.h; callers use store/inbox.h).
 *
 * Schema: inbox (one row per message id: the exact bytes and their
 * SHA-256, the partner, the signed receipt answered), undelivered (the
 * ids whose internal delivery is not done, in the order they came: a row
 * deleted when it is, so that marking a message delivered does not
 * rewrite its row, bodies included) and heartbeat (one row rewritten by
 * gw_inbox_ping to prove the store can be written). WAL with
 * synchronous=FULL: a commit is on disk when it returns.
 *
 * inbox.delivered is what stores kept before the undelivered table
 * (user_version 0): its pending rows are moved there once, on the first
 * open, and the column is not maintained after that.
 */
#include "store/inbox.h"
#include "store/sqlite.h"
#include "store/sqlutil.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sqib {
	sqlite3 *db;
	sqlite3_stmt *get, *put, *undel, *done, *pending, *counts, *ping;
};

static const char schema[] =
	"PRAGMA journal_mode=WAL;"
	"PRAGMA synchronous=FULL;"
	"CREATE TABLE IF NOT EXISTS inbox ("
	" id TEXT PRIMARY KEY, sha256 TEXT NOT NULL, partner TEXT NOT NULL,"
	" kind TEXT, sender TEXT, content_type TEXT NOT NULL,"
	" body BLOB NOT NULL, received_ms INTEGER NOT NULL,"
	" receipt BLOB NOT NULL, receipt_type TEXT NOT NULL,"
	" canonical TEXT, delivered INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE IF NOT EXISTS undelivered ("
	" seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE);"
	"CREATE TABLE IF NOT EXISTS heartbeat ("
	" one INTEGER PRIMARY KEY CHECK (one = 1), at_ms INTEGER NOT NULL);";

static gw_rc db_err(struct sqib *ib, struct gw_err *err, const char *what)
{
	int code = sqlite3_errcode(ib->db);
	gw_rc rc = (code == SQLITE_FULL || code == SQLITE_READONLY ||
		    code == SQLITE_IOERR || code == SQLITE_CANTOPEN ||
		    code == SQLITE_BUSY || code == SQLITE_PERM)
			   ? GW_ERR_IO
			   : GW_ERR_INTERNAL;

	return gw_err_set(err, rc, "inbox: cannot %s: %s", what,
			  sqlite3_errmsg(ib->db));
}

/* Stores of user_version 0 marked what was delivered in inbox.delivered:
 * their pending ids go into undelivered, once (under the write lock, so
 * two processes opening the store do it once). */
static gw_rc migrate(struct sqib *ib, struct gw_err *err)
{
	static const char *const steps[] = {
		"INSERT OR IGNORE INTO undelivered (id) SELECT id FROM inbox "
		"WHERE delivered = 0 ORDER BY received_ms",
		"DROP INDEX IF EXISTS inbox_pending",
		"PRAGMA user_version = 1",
	};
	sqlite3_stmt *st = NULL;
	size_t i;
	int v = -1;

	if (sqlite3_exec(ib->db, "BEGIN IMMEDIATE", NULL, NULL, NULL))
		return db_err(ib, err, "begin a transaction");
	if (!sqlite3_prepare_v2(ib->db, "PRAGMA user_version", -1, &st, NULL) &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	for (i = 0; v == 0 && i < GW_ARRAY_LEN(steps); i++)
		if (sqlite3_exec(ib->db, steps[i], NULL, NULL, NULL))
			break;
	if ((v == 0 && i < GW_ARRAY_LEN(steps)) || v < 0 ||
	    sqlite3_exec(ib->db, "COMMIT", NULL, NULL, NULL)) {
		gw_rc rc = db_err(ib, err, "upgrade the store");

		sqlite3_exec(ib->db, "ROLLBACK", NULL, NULL, NULL);
		return rc;
	}
	return GW_OK;
}

static const struct gw_inbox_ops sqlite_ops;

static void sq_close(struct gw_inbox *h)
{
	struct sqib *ib = h->impl;

	if (!ib)
		return;
	sqlite3_finalize(ib->get);
	sqlite3_finalize(ib->put);
	sqlite3_finalize(ib->undel);
	sqlite3_finalize(ib->done);
	sqlite3_finalize(ib->pending);
	sqlite3_finalize(ib->counts);
	sqlite3_finalize(ib->ping);
	sqlite3_close(ib->db);
	free(ib);
	h->impl = NULL;
}

gw_rc gw_sqlite_inbox_open(const char *path, struct gw_inbox **out,
			   struct gw_err *err)
{
	struct gw_inbox *h = gw_calloc(1, sizeof(*h));
	struct sqib *ib = gw_calloc(1, sizeof(*ib));
	gw_rc rc = GW_OK;

	*out = NULL;
	if (!h || !ib) {
		free(h);
		free(ib);
		return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
	}
	h->ops = &sqlite_ops;
	h->impl = ib;
	if (sqlite3_open_v2(path, &ib->db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
				    SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		rc = gw_err_set(err, GW_ERR_IO, "cannot open inbox '%s': %s",
				path,
				ib->db ? sqlite3_errmsg(ib->db) : "no memory");
		goto out;
	}
	gw_sql_busy_wait(ib->db, 5000);
	if (gw_sql_setup(ib->db, schema)) {
		rc = gw_err_set(err, GW_ERR_IO, "cannot set up inbox '%s': %s",
				path, sqlite3_errmsg(ib->db));
		goto out;
	}
	if ((rc = migrate(ib, err)))
		goto out;
#define PREP(st, sql)                                             \
	if (sqlite3_prepare_v2(ib->db, sql, -1, &ib->st, NULL)) { \
		rc = db_err(ib, err, "prepare a statement");      \
		goto out;                                         \
	}
	PREP(get, "SELECT sha256, receipt, receipt_type, partner FROM inbox "
		  "WHERE id = ?1");
	PREP(put, "INSERT INTO inbox (id, sha256, partner, kind, sender, "
		  "content_type, body, received_ms, receipt, receipt_type, "
		  "canonical) "
		  "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)");
	PREP(undel, "INSERT INTO undelivered (id) VALUES (?1)");
	PREP(done, "DELETE FROM undelivered WHERE id = ?1");
	PREP(pending, "SELECT i.id, i.content_type, i.body, i.canonical, "
		      "i.kind, i.sender FROM undelivered u "
		      "JOIN inbox i ON i.id = u.id ORDER BY u.seq LIMIT ?1");
	PREP(counts, "SELECT (SELECT count(*) FROM inbox), "
		     "(SELECT count(*) FROM undelivered)");
	PREP(ping, "INSERT OR REPLACE INTO heartbeat (one, at_ms) "
		   "VALUES (1, ?1)");
#undef PREP
	*out = h;
	h = NULL;
out:
	if (h) {
		sq_close(h);
		free(h);
	}
	return rc;
}

static gw_rc sq_lookup(struct gw_inbox *h, const char *id, int *found,
		       char sha256[65], char partner[64], char **receipt,
		       size_t *rlen, char **rtype, struct gw_err *err)
{
	struct sqib *ib = h->impl;
	gw_rc rc = GW_OK;
	int r;

	*found = 0;
	sqlite3_reset(ib->get);
	sqlite3_bind_text(ib->get, 1, id, -1, SQLITE_TRANSIENT);
	r = sqlite3_step(ib->get);
	if (r == SQLITE_ROW) {
		const char *hx = (const char *)sqlite3_column_text(ib->get, 0);
		const void *b = sqlite3_column_blob(ib->get, 1);
		size_t n = (size_t)sqlite3_column_bytes(ib->get, 1);
		const char *pt = (const char *)sqlite3_column_text(ib->get, 3);

		*found = 1;
		snprintf(sha256, 65, "%s", hx ? hx : "");
		snprintf(partner, 64, "%s", pt ? pt : "");
		if (receipt) {
			*receipt = gw_malloc(n + 1);
			if (!*receipt) {
				rc = gw_err_set(err, GW_ERR_NOMEM,
						"out of memory");
				goto out;
			}
			if (n)
				memcpy(*receipt, b, n);
			(*receipt)[n] = '\0';
			if (rlen)
				*rlen = n;
		}
		if (rtype &&
		    !(*rtype = gw_strdup(
			      (const char *)sqlite3_column_text(ib->get, 2)))) {
			if (receipt) {
				free(*receipt);
				*receipt = NULL;
			}
			rc = gw_err_set(err, GW_ERR_NOMEM, "out of memory");
		}
	} else if (r != SQLITE_DONE) {
		rc = db_err(ib, err, "look up a message");
	}
out:
	sqlite3_reset(ib->get);
	return rc;
}

static gw_rc sq_put(struct gw_inbox *h, const struct gw_inbox_msg *m, size_t n,
		    struct gw_err *err)
{
	struct sqib *ib = h->impl;
	sqlite3_stmt *s = ib->put;
	gw_rc rc = GW_OK;
	size_t i;
	int r;

	if (sqlite3_exec(ib->db, "BEGIN IMMEDIATE", NULL, NULL, NULL))
		return db_err(ib, err, "begin a transaction");
	for (i = 0; i < n && !rc; i++) {
		sqlite3_reset(s);
		sqlite3_bind_text(s, 1, m[i].id, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, m[i].sha256, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 3, m[i].partner, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 4, m[i].kind, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 5, m[i].sender, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 6, m[i].content_type, -1, SQLITE_STATIC);
		sqlite3_bind_blob64(s, 7, m[i].body, m[i].len, SQLITE_STATIC);
		sqlite3_bind_int64(s, 8, gw_now_ms());
		sqlite3_bind_blob64(s, 9, m[i].receipt, m[i].receipt_len,
				    SQLITE_STATIC);
		sqlite3_bind_text(s, 10, m[i].receipt_type, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 11, m[i].canonical, -1, SQLITE_STATIC);
		r = sqlite3_step(s);
		if (r == SQLITE_CONSTRAINT)
			rc = gw_err_set(err, GW_ERR_REFUSED,
					"inbox: message id '%s' is already "
					"stored",
					m[i].id);
		else if (r != SQLITE_DONE)
			rc = db_err(ib, err, "store a message");
		if (rc)
			break;
		sqlite3_reset(ib->undel);
		sqlite3_bind_text(ib->undel, 1, m[i].id, -1, SQLITE_STATIC);
		if (sqlite3_step(ib->undel) != SQLITE_DONE)
			rc = db_err(ib, err, "store a message");
		sqlite3_reset(ib->undel);
	}
	sqlite3_reset(s);
	if (rc) {
		sqlite3_exec(ib->db, "ROLLBACK", NULL, NULL, NULL);
		return rc;
	}
	if (sqlite3_exec(ib->db, "COMMIT", NULL, NULL, NULL)) {
		rc = db_err(ib, err, "commit");
		sqlite3_exec(ib->db, "ROLLBACK", NULL, NULL, NULL);
	}
	return rc;
}

static gw_rc sq_done(struct gw_inbox *h, const char *const *ids, size_t n,
		     struct gw_err *err)
{
	struct sqib *ib = h->impl;
	gw_rc rc = GW_OK;
	size_t i;

	if (sqlite3_exec(ib->db, "BEGIN IMMEDIATE", NULL, NULL, NULL))
		return db_err(ib, err, "begin a transaction");
	for (i = 0; i < n && !rc; i++) {
		sqlite3_reset(ib->done);
		sqlite3_bind_text(ib->done, 1, ids[i], -1, SQLITE_TRANSIENT);
		if (sqlite3_step(ib->done) != SQLITE_DONE)
			rc = db_err(ib, err, "mark a message delivered");
	}
	sqlite3_reset(ib->done);
	if (!rc && sqlite3_exec(ib->db, "COMMIT", NULL, NULL, NULL))
		rc = db_err(ib, err, "commit");
	if (rc)
		sqlite3_exec(ib->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

static char *col_dup(sqlite3_stmt *st, int c)
{
	const char *t = (const char *)sqlite3_column_text(st, c);

	return gw_strdup(t ? t : "");
}

static gw_rc sq_pending(struct gw_inbox *h, size_t max,
			struct gw_inbox_pending **out, size_t *n,
			struct gw_err *err)
{
	struct sqib *ib = h->impl;
	struct gw_inbox_pending *rows = NULL;
	sqlite3_stmt *st = ib->pending;
	gw_rc rc = GW_OK;
	size_t k = 0;
	int r;

	*out = NULL;
	*n = 0;
	if (!max)
		return GW_OK;
	if (!(rows = gw_calloc(max, sizeof(*rows))))
		return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
	sqlite3_reset(st);
	sqlite3_bind_int64(st, 1, (sqlite3_int64)max);
	while ((r = sqlite3_step(st)) == SQLITE_ROW && k < max) {
		struct gw_inbox_pending *p = &rows[k++];
		size_t len = (size_t)sqlite3_column_bytes(st, 2);
		const void *b = sqlite3_column_blob(st, 2);

		p->id = col_dup(st, 0);
		p->content_type = col_dup(st, 1);
		p->canonical = col_dup(st, 3);
		p->kind = col_dup(st, 4);
		p->sender = col_dup(st, 5);
		p->body = gw_malloc(len + 1);
		p->len = len;
		if (!p->id || !p->content_type || !p->canonical || !p->kind ||
		    !p->sender || !p->body) {
			rc = gw_err_set(err, GW_ERR_NOMEM, "out of memory");
			goto out;
		}
		if (len)
			memcpy(p->body, b, len);
		p->body[len] = '\0';
	}
	if (r != SQLITE_DONE && r != SQLITE_ROW)
		rc = db_err(ib, err, "list pending messages");
out:
	sqlite3_reset(st);
	if (rc) {
		gw_inbox_pending_free(rows, k);
		return rc;
	}
	*out = rows;
	*n = k;
	return GW_OK;
}

static gw_rc sq_counts(struct gw_inbox *h, int64_t *total, int64_t *pending,
		       struct gw_err *err)
{
	struct sqib *ib = h->impl;
	gw_rc rc = GW_OK;

	sqlite3_reset(ib->counts);
	if (sqlite3_step(ib->counts) == SQLITE_ROW) {
		*total = sqlite3_column_int64(ib->counts, 0);
		*pending = sqlite3_column_int64(ib->counts, 1);
	} else {
		rc = db_err(ib, err, "count messages");
	}
	sqlite3_reset(ib->counts);
	return rc;
}

static gw_rc sq_ping(struct gw_inbox *h, struct gw_err *err)
{
	struct sqib *ib = h->impl;
	int r;

	sqlite3_reset(ib->ping);
	sqlite3_bind_int64(ib->ping, 1, gw_now_ms());
	r = sqlite3_step(ib->ping);
	sqlite3_reset(ib->ping);
	return r == SQLITE_DONE ? GW_OK : db_err(ib, err, "write");
}

static const struct gw_inbox_ops sqlite_ops = {
	.lookup = sq_lookup,
	.put = sq_put,
	.done = sq_done,
	.pending = sq_pending,
	.counts = sq_counts,
	.ping = sq_ping,
	.close = sq_close,
};
