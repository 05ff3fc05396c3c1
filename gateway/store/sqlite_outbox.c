/*
 * sqlite_outbox.c - the SQLite backend of the outgoing message store
 * (struct gw_outbox_ops of store/store.h; callers use store/outbox.h).
 *
 * Schema: messages (one row per message id, the exact bytes and their
 * SHA-256), deliveries (one row per message and destination with its state
 * and when it is due), attempts (every try, for the operator and the
 * audit). WAL with synchronous=FULL: a commit is on disk when it returns.
 * A batch of messages is one transaction, so durability costs one fsync
 * per batch, not per message.
 */
#include "store/outbox.h"
#include "store/sqlite.h"
#include "store/sqlutil.h"
#include "crypto/digest.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sq {
	sqlite3 *db;
	sqlite3_stmt *ins_msg, *get_msg, *ins_dlv, *due, *upd, *ins_att, *lease,
		*ins_rcpt;
	int relaxed; /* the open transaction does not wait for the disk */
};

static const char schema[] =
	"PRAGMA journal_mode=WAL;"
	"PRAGMA synchronous=FULL;"
	"PRAGMA foreign_keys=ON;"
	"CREATE TABLE IF NOT EXISTS messages ("
	" id TEXT PRIMARY KEY, kind TEXT, sender TEXT, sha256 TEXT NOT NULL,"
	" content_type TEXT NOT NULL, body BLOB NOT NULL,"
	" created_ms INTEGER NOT NULL, content_sha256 TEXT);"
	"CREATE TABLE IF NOT EXISTS deliveries ("
	" msg_id TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,"
	" dest TEXT NOT NULL, state INTEGER NOT NULL DEFAULT 0,"
	" attempts INTEGER NOT NULL DEFAULT 0, next_ms INTEGER NOT NULL,"
	" first_ms INTEGER NOT NULL, last_status INTEGER, last_error TEXT,"
	" PRIMARY KEY (msg_id, dest));"
	"CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries(state, "
	"next_ms);"
	"CREATE TABLE IF NOT EXISTS receipts ("
	" msg_id TEXT NOT NULL, dest TEXT NOT NULL, at_ms INTEGER NOT NULL,"
	" body BLOB NOT NULL, verdict TEXT, PRIMARY KEY (msg_id, dest));"
	"CREATE TABLE IF NOT EXISTS sync_state ("
	" source TEXT NOT NULL, key TEXT NOT NULL, sha256 TEXT NOT NULL,"
	" msg_id TEXT, PRIMARY KEY (source, key));"
	"CREATE TABLE IF NOT EXISTS attempts ("
	" msg_id TEXT NOT NULL, dest TEXT NOT NULL, at_ms INTEGER NOT NULL,"
	" status INTEGER, error TEXT);";

static gw_rc db_err(struct sq *s, struct gw_err *err, const char *what)
{
	int code = sqlite3_errcode(s->db);
	gw_rc rc = (code == SQLITE_FULL || code == SQLITE_READONLY ||
		    code == SQLITE_IOERR || code == SQLITE_CANTOPEN ||
		    code == SQLITE_BUSY)
			   ? GW_ERR_IO
			   : GW_ERR_INTERNAL;

	return gw_err_set(err, rc, "outbox: cannot %s: %s", what,
			  sqlite3_errmsg(s->db));
}

static gw_rc sq_enqueue(struct gw_outbox *o, const struct gw_out_msg *m,
			size_t n, int *dup, struct gw_err *err)
{
	struct sq *s = o->impl;
	int64_t now = gw_now_ms();
	gw_rc rc = GW_OK;
	size_t i, d;

	if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL))
		return db_err(s, err, "begin a transaction");
	for (i = 0; i < n && !rc; i++) {
		char hex[65];
		int r;

		gw_sha256_hex(m[i].body, m[i].len, hex);
		if (dup)
			dup[i] = 0;
		sqlite3_reset(s->get_msg);
		sqlite3_bind_text(s->get_msg, 1, m[i].id, -1, SQLITE_STATIC);
		r = sqlite3_step(s->get_msg);
		if (r == SQLITE_ROW) {
			const char *old = (const char *)sqlite3_column_text(
				s->get_msg, 0);
			const char *oldc = (const char *)sqlite3_column_text(
				s->get_msg, 1);
			int same = oldc && *oldc && m[i].content_sha[0]
					   ? strcmp(oldc, m[i].content_sha) == 0
					   : old && strcmp(old, hex) == 0;

			if (same) {
				if (dup)
					dup[i] = 1;
				continue;
			}
			rc = gw_err_set(err, GW_ERR_REFUSED,
					"message id '%s' was already used for "
					"other content",
					m[i].id);
			break;
		} else if (r != SQLITE_DONE) {
			rc = db_err(s, err, "look up a message");
			break;
		}
		sqlite3_reset(s->ins_msg);
		sqlite3_bind_text(s->ins_msg, 1, m[i].id, -1, SQLITE_STATIC);
		sqlite3_bind_text(s->ins_msg, 2, m[i].kind, -1, SQLITE_STATIC);
		sqlite3_bind_text(s->ins_msg, 3, m[i].sender, -1,
				  SQLITE_STATIC);
		sqlite3_bind_text(s->ins_msg, 4, hex, -1, SQLITE_STATIC);
		sqlite3_bind_text(s->ins_msg, 5, m[i].content_type, -1,
				  SQLITE_STATIC);
		sqlite3_bind_blob64(s->ins_msg, 6, m[i].body, m[i].len,
				    SQLITE_STATIC);
		sqlite3_bind_int64(s->ins_msg, 7, now);
		if (m[i].content_sha[0])
			sqlite3_bind_text(s->ins_msg, 8, m[i].content_sha, -1,
					  SQLITE_STATIC);
		else
			sqlite3_bind_null(s->ins_msg, 8);
		if (sqlite3_step(s->ins_msg) != SQLITE_DONE) {
			rc = db_err(s, err, "store a message");
			break;
		}
		for (d = 0; m[i].dests && m[i].dests[d]; d++) {
			sqlite3_reset(s->ins_dlv);
			sqlite3_bind_text(s->ins_dlv, 1, m[i].id, -1,
					  SQLITE_STATIC);
			sqlite3_bind_text(s->ins_dlv, 2, m[i].dests[d], -1,
					  SQLITE_STATIC);
			sqlite3_bind_int64(s->ins_dlv, 3, now);
			sqlite3_bind_int64(s->ins_dlv, 4, now);
			if (sqlite3_step(s->ins_dlv) != SQLITE_DONE) {
				rc = db_err(s, err, "store a delivery");
				break;
			}
		}
	}
	if (rc) {
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		return rc;
	}
	if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL)) {
		rc = db_err(s, err, "commit");
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	}
	return rc;
}

static gw_rc sq_due(struct gw_outbox *o, int64_t now_ms, size_t max,
		    struct gw_due **out, size_t *n, struct gw_err *err)
{
	struct sq *s = o->impl;
	int r;

	gw_outbox_due_release(o);
	*out = NULL;
	*n = 0;
	if (!max)
		return GW_OK;
	o->due_buf = gw_calloc(max, sizeof(*o->due_buf));
	if (!o->due_buf)
		return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
	sqlite3_reset(s->due);
	sqlite3_bind_int64(s->due, 1, now_ms);
	sqlite3_bind_int64(s->due, 2, (sqlite3_int64)max);
	while ((r = sqlite3_step(s->due)) == SQLITE_ROW) {
		struct gw_due *d = &o->due_buf[o->due_n];
		const void *blob = sqlite3_column_blob(s->due, 3);
		size_t len = (size_t)sqlite3_column_bytes(s->due, 3);

		d->msg_id =
			gw_strdup((const char *)sqlite3_column_text(s->due, 0));
		d->dest =
			gw_strdup((const char *)sqlite3_column_text(s->due, 1));
		d->content_type =
			gw_strdup((const char *)sqlite3_column_text(s->due, 2));
		d->body = gw_malloc(len + 1);
		o->due_n++;
		if (!d->msg_id || !d->dest || !d->content_type || !d->body) {
			gw_outbox_due_release(o);
			return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
		}
		memcpy(d->body, blob, len);
		d->body[len] = '\0';
		d->len = len;
		d->attempts = sqlite3_column_int(s->due, 4);
		d->first_at = sqlite3_column_int64(s->due, 5);
		if (sqlite3_column_text(s->due, 6))
			d->kind = gw_strdup(
				(const char *)sqlite3_column_text(s->due, 6));
		if (sqlite3_column_text(s->due, 7))
			d->sender = gw_strdup(
				(const char *)sqlite3_column_text(s->due, 7));
	}
	if (r != SQLITE_DONE) {
		gw_outbox_due_release(o);
		return db_err(s, err, "read due deliveries");
	}
	*out = o->due_buf;
	*n = o->due_n;
	return GW_OK;
}

static gw_rc sq_begin(struct gw_outbox *o, int durable, struct gw_err *err)
{
	struct sq *s = o->impl;

	/* WAL with synchronous=NORMAL: committed to the WAL file without an
	 * fsync (a crash of the process loses nothing, a power cut may lose
	 * the last such commits; the database stays consistent). Set back
	 * to FULL at commit, for enqueue. */
	if (!durable &&
	    sqlite3_exec(s->db, "PRAGMA synchronous=NORMAL", NULL, NULL, NULL))
		return db_err(s, err, "begin a transaction");
	s->relaxed = !durable;
	if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL)) {
		gw_rc rc = db_err(s, err, "begin a transaction");

		if (s->relaxed)
			sqlite3_exec(s->db, "PRAGMA synchronous=FULL", NULL,
				     NULL, NULL);
		s->relaxed = 0;
		return rc;
	}
	return GW_OK;
}

static gw_rc sq_commit(struct gw_outbox *o, struct gw_err *err)
{
	struct sq *s = o->impl;
	gw_rc rc = GW_OK;

	if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL)) {
		rc = db_err(s, err, "commit");
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	}
	if (s->relaxed)
		sqlite3_exec(s->db, "PRAGMA synchronous=FULL", NULL, NULL,
			     NULL);
	s->relaxed = 0;
	return rc;
}

static gw_rc sq_record(struct gw_outbox *o, const char *msg_id,
		       const char *dest, int64_t now_ms, int http_status,
		       const char *error, enum gw_dlv_state state,
		       int64_t next_ms, struct gw_err *err)
{
	struct sq *s = o->impl;

	sqlite3_reset(s->ins_att);
	sqlite3_bind_text(s->ins_att, 1, msg_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s->ins_att, 2, dest, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s->ins_att, 3, now_ms);
	sqlite3_bind_int(s->ins_att, 4, http_status);
	sqlite3_bind_text(s->ins_att, 5, error, -1, SQLITE_STATIC);
	sqlite3_reset(s->upd);
	sqlite3_bind_int(s->upd, 1, (int)state);
	sqlite3_bind_int64(s->upd, 2, next_ms);
	sqlite3_bind_int(s->upd, 3, http_status);
	sqlite3_bind_text(s->upd, 4, error, -1, SQLITE_STATIC);
	sqlite3_bind_text(s->upd, 5, msg_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s->upd, 6, dest, -1, SQLITE_STATIC);
	if (sqlite3_step(s->ins_att) != SQLITE_DONE ||
	    sqlite3_step(s->upd) != SQLITE_DONE)
		return db_err(s, err, "record a delivery attempt");
	return GW_OK;
}

static gw_rc sq_lease(struct gw_outbox *o, const char *msg_id, const char *dest,
		      int64_t until_ms, struct gw_err *err)
{
	struct sq *s = o->impl;

	sqlite3_reset(s->lease);
	sqlite3_bind_int64(s->lease, 1, until_ms);
	sqlite3_bind_text(s->lease, 2, msg_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s->lease, 3, dest, -1, SQLITE_STATIC);
	if (sqlite3_step(s->lease) != SQLITE_DONE)
		return db_err(s, err, "lease a delivery");
	return GW_OK;
}

static void sq_close(struct gw_outbox *o)
{
	struct sq *s = o->impl;

	if (!s)
		return;
	sqlite3_finalize(s->ins_msg);
	sqlite3_finalize(s->get_msg);
	sqlite3_finalize(s->ins_dlv);
	sqlite3_finalize(s->due);
	sqlite3_finalize(s->upd);
	sqlite3_finalize(s->ins_att);
	sqlite3_finalize(s->lease);
	sqlite3_finalize(s->ins_rcpt);
	sqlite3_close(s->db);
	free(s);
}

/* Columns that came after the first release (sync_state.msg_id,
 * messages.content_sha256): added to an older outbox (another process
 * opening it at the same moment may win). */
static gw_rc add_column(struct sq *s, const char *path, const char *table,
			const char *col, struct gw_err *err)
{
	sqlite3_stmt *probe = NULL;
	char sql[160];
	int i;

	for (i = 0; i < 2; i++) {
		snprintf(sql, sizeof(sql), "SELECT %s FROM %s", col, table);
		if (sqlite3_prepare_v2(s->db, sql, -1, &probe, NULL) ==
		    SQLITE_OK) {
			sqlite3_finalize(probe);
			return GW_OK;
		}
		snprintf(sql, sizeof(sql), "ALTER TABLE %s ADD COLUMN %s TEXT",
			 table, col);
		if (i == 0 &&
		    sqlite3_exec(s->db, sql, NULL, NULL, NULL) == SQLITE_OK)
			return GW_OK;
	}
	return gw_err_set(err, GW_ERR_IO, "cannot set up outbox '%s': %s", path,
			  sqlite3_errmsg(s->db));
}

static const struct gw_outbox_ops sqlite_ops;

gw_rc gw_sqlite_outbox_open(const char *path, struct gw_outbox **out,
			    struct gw_err *err)
{
	struct gw_outbox *o;
	struct sq *s;
	gw_rc rc = GW_OK;

	*out = NULL;
	o = gw_calloc(1, sizeof(*o));
	s = gw_calloc(1, sizeof(*s));
	if (!o || !s) {
		free(o);
		free(s);
		return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
	}
	o->ops = &sqlite_ops;
	o->impl = s;
	if (sqlite3_open_v2(path, &s->db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
				    SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		rc = gw_err_set(err, GW_ERR_IO, "cannot open outbox '%s': %s",
				path,
				s->db ? sqlite3_errmsg(s->db) : "no memory");
		goto out;
	}
	gw_sql_busy_wait(s->db, 5000);
	if (gw_sql_setup(s->db, schema)) {
		rc = gw_err_set(err, GW_ERR_IO, "cannot set up outbox '%s': %s",
				path, sqlite3_errmsg(s->db));
		goto out;
	}
	if ((rc = add_column(s, path, "sync_state", "msg_id", err)) ||
	    (rc = add_column(s, path, "messages", "content_sha256", err)) ||
	    (rc = add_column(s, path, "receipts", "verdict", err)))
		goto out;
#define PREP(st, sql)                                           \
	if (sqlite3_prepare_v2(s->db, sql, -1, &s->st, NULL)) { \
		rc = db_err(s, err, "prepare a statement");     \
		goto out;                                       \
	}
	PREP(ins_msg, "INSERT INTO messages(id,kind,sender,sha256,content_type,"
		      "body,created_ms,content_sha256) VALUES(?,?,?,?,?,?,?,?)")
	PREP(get_msg, "SELECT sha256,content_sha256 FROM messages WHERE id=?")
	PREP(ins_dlv, "INSERT OR IGNORE INTO deliveries(msg_id,dest,next_ms,"
		      "first_ms) VALUES(?,?,?,?)")
	PREP(due,
	     "SELECT d.msg_id,d.dest,m.content_type,m.body,d.attempts,"
	     "d.first_ms,m.kind,m.sender FROM deliveries d JOIN messages m"
	     " ON m.id=d.msg_id"
	     " WHERE d.state=0 AND d.next_ms<=? ORDER BY d.next_ms LIMIT ?")
	PREP(upd, "UPDATE deliveries SET state=?,next_ms=?,last_status=?,"
		  "last_error=?,attempts=attempts+1 WHERE msg_id=? AND dest=?")
	PREP(ins_att, "INSERT INTO attempts(msg_id,dest,at_ms,status,error) "
		      "VALUES(?,?,?,?,?)")
	PREP(lease, "UPDATE deliveries SET next_ms=? WHERE msg_id=? AND "
		    "dest=? AND state=0")
	PREP(ins_rcpt, "INSERT OR REPLACE INTO receipts(msg_id,dest,at_ms,"
		       "body,verdict) VALUES(?,?,?,?,?)")
#undef PREP
out:
	if (rc) {
		sq_close(o);
		free(o);
		return rc;
	}
	*out = o;
	return GW_OK;
}

static sqlite3 *sqdb(struct gw_outbox *o)
{
	return ((struct sq *)o->impl)->db;
}

static gw_rc sq_list(struct gw_outbox *o, int want,
		     void (*cb)(void *arg, const struct gw_out_dlv_row *r),
		     void *arg, struct gw_err *err)
{
	sqlite3 *db = sqdb(o);
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(
		    db,
		    "SELECT d.msg_id,m.kind,d.dest,d.state,d.attempts,"
		    "d.last_status,d.last_error FROM deliveries d JOIN "
		    "messages m ON m.id=d.msg_id WHERE ?1<0 OR "
		    "d.state=?1 ORDER BY d.first_ms,d.msg_id,d.dest",
		    -1, &st, NULL))
		return gw_err_set(err, GW_ERR_INTERNAL, "outbox: %s",
				  sqlite3_errmsg(db));
	sqlite3_bind_int(st, 1, want);
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct gw_out_dlv_row r;

		r.msg_id = (const char *)sqlite3_column_text(st, 0);
		r.kind = (const char *)sqlite3_column_text(st, 1);
		r.dest = (const char *)sqlite3_column_text(st, 2);
		r.state = sqlite3_column_int(st, 3);
		r.attempts = sqlite3_column_int(st, 4);
		r.last_status = sqlite3_column_int(st, 5);
		r.last_error = (const char *)sqlite3_column_text(st, 6);
		cb(arg, &r);
	}
	sqlite3_finalize(st);
	return GW_OK;
}

static gw_rc sq_show(struct gw_outbox *o, const char *id, int *found,
		     void (*msg_cb)(void *arg, const struct gw_out_msg_row *m),
		     void (*att_cb)(void *arg, const char *dest, int64_t at_ms,
				    int status, const char *error),
		     void (*rcpt_cb)(void *arg, const char *dest,
				     const char *body, size_t len,
				     const char *verdict),
		     void *arg, struct gw_err *err)
{
	sqlite3 *db = sqdb(o);
	sqlite3_stmt *st = NULL;

	(void)err;
	*found = 0;
	sqlite3_prepare_v2(
		db,
		"SELECT kind,sender,sha256,content_type,length(body) "
		"FROM messages WHERE id=?",
		-1, &st, NULL);
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		struct gw_out_msg_row m;

		*found = 1;
		m.kind = (const char *)sqlite3_column_text(st, 0);
		m.sender = (const char *)sqlite3_column_text(st, 1);
		m.sha256 = (const char *)sqlite3_column_text(st, 2);
		m.content_type = (const char *)sqlite3_column_text(st, 3);
		m.len = sqlite3_column_int(st, 4);
		msg_cb(arg, &m);
	}
	sqlite3_finalize(st);
	if (!*found)
		return GW_OK;
	sqlite3_prepare_v2(db,
			   "SELECT dest,at_ms,status,error FROM attempts WHERE "
			   "msg_id=? ORDER BY at_ms",
			   -1, &st, NULL);
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW)
		att_cb(arg, (const char *)sqlite3_column_text(st, 0),
		       sqlite3_column_int64(st, 1), sqlite3_column_int(st, 2),
		       (const char *)sqlite3_column_text(st, 3));
	sqlite3_finalize(st);
	sqlite3_prepare_v2(
		db,
		"SELECT dest,body,verdict FROM receipts WHERE msg_id=? "
		"ORDER BY dest",
		-1, &st, NULL);
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW)
		rcpt_cb(arg, (const char *)sqlite3_column_text(st, 0),
			(const char *)sqlite3_column_blob(st, 1),
			(size_t)sqlite3_column_bytes(st, 1),
			(const char *)sqlite3_column_text(st, 2));
	sqlite3_finalize(st);
	return GW_OK;
}

static gw_rc exec_id(struct gw_outbox *o, const char *sql, const char *id,
		     int64_t now, int *changed, struct gw_err *err)
{
	sqlite3 *db = sqdb(o);
	sqlite3_stmt *st = NULL;

	*changed = 0;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL))
		return gw_err_set(err, GW_ERR_INTERNAL, "outbox: %s",
				  sqlite3_errmsg(db));
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_bind_parameter_count(st) > 1)
		sqlite3_bind_int64(st, 2, now);
	if (sqlite3_step(st) != SQLITE_DONE) {
		sqlite3_finalize(st);
		return gw_err_set(err, GW_ERR_IO, "outbox: %s",
				  sqlite3_errmsg(db));
	}
	sqlite3_finalize(st);
	*changed = sqlite3_changes(db);
	return GW_OK;
}

static gw_rc sq_retry(struct gw_outbox *o, const char *id, int64_t now_ms,
		      int *changed, struct gw_err *err)
{
	return exec_id(o,
		       "UPDATE deliveries SET state=0,next_ms=?2,attempts=0 "
		       "WHERE msg_id=?1 AND state<>1",
		       id, now_ms, changed, err);
}

static gw_rc sq_drop(struct gw_outbox *o, const char *id, int *changed,
		     struct gw_err *err)
{
	return exec_id(o, "DELETE FROM messages WHERE id=?1", id, 0, changed,
		       err);
}

static gw_rc sq_sync_last(struct gw_outbox *o, const char *source,
			  const char *key, char digest[65], char msg_id[37],
			  struct gw_err *err)
{
	sqlite3 *db = sqdb(o);
	sqlite3_stmt *st = NULL;
	gw_rc rc = GW_OK;
	int r;

	digest[0] = '\0';
	msg_id[0] = '\0';
	if (sqlite3_prepare_v2(
		    db,
		    "SELECT sha256,msg_id FROM sync_state WHERE source=? AND "
		    "key=?",
		    -1, &st, NULL))
		return gw_err_set(err, GW_ERR_INTERNAL, "outbox: %s",
				  sqlite3_errmsg(db));
	sqlite3_bind_text(st, 1, source, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		snprintf(digest, 65, "%s", sqlite3_column_text(st, 0));
		if (sqlite3_column_text(st, 1))
			snprintf(msg_id, 37, "%s", sqlite3_column_text(st, 1));
	} else if (r != SQLITE_DONE)
		rc = gw_err_set(err, GW_ERR_IO, "outbox: %s",
				sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return rc;
}

static gw_rc sq_sync_record(struct gw_outbox *o, const char *source,
			    const char *key, const char *digest,
			    const char *msg_id, struct gw_err *err)
{
	sqlite3 *db = sqdb(o);
	sqlite3_stmt *st = NULL;
	int r;

	if (sqlite3_prepare_v2(db,
			       "INSERT OR REPLACE INTO sync_state(source,key,"
			       "sha256,msg_id) VALUES(?,?,?,?)",
			       -1, &st, NULL))
		return gw_err_set(err, GW_ERR_INTERNAL, "outbox: %s",
				  sqlite3_errmsg(db));
	sqlite3_bind_text(st, 1, source, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, digest, -1, SQLITE_STATIC);
	if (msg_id && *msg_id)
		sqlite3_bind_text(st, 4, msg_id, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 4);
	r = sqlite3_step(st);
	sqlite3_finalize(st);
	return r == SQLITE_DONE ? GW_OK
				: gw_err_set(err, GW_ERR_IO, "outbox: %s",
					     sqlite3_errmsg(db));
}

static gw_rc sq_has(struct gw_outbox *o, const char *id, int *has,
		    struct gw_err *err)
{
	sqlite3 *db = sqdb(o);
	sqlite3_stmt *st = NULL;
	int r;

	*has = 0;
	if (sqlite3_prepare_v2(db, "SELECT 1 FROM messages WHERE id=?", -1, &st,
			       NULL))
		return gw_err_set(err, GW_ERR_INTERNAL, "outbox: %s",
				  sqlite3_errmsg(db));
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	r = sqlite3_step(st);
	*has = r == SQLITE_ROW;
	sqlite3_finalize(st);
	return r == SQLITE_ROW || r == SQLITE_DONE
		       ? GW_OK
		       : gw_err_set(err, GW_ERR_IO, "outbox: %s",
				    sqlite3_errmsg(db));
}

static gw_rc sq_receipt(struct gw_outbox *o, const char *msg_id,
			const char *dest, int64_t now_ms, const char *body,
			size_t len, const char *verdict, struct gw_err *err)
{
	struct sq *s = o->impl;

	/* one per completed delivery: kept prepared, like record's */
	sqlite3_reset(s->ins_rcpt);
	sqlite3_bind_text(s->ins_rcpt, 1, msg_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s->ins_rcpt, 2, dest, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s->ins_rcpt, 3, now_ms);
	sqlite3_bind_blob64(s->ins_rcpt, 4, body, len, SQLITE_STATIC);
	sqlite3_bind_text(s->ins_rcpt, 5, verdict, -1, SQLITE_STATIC);
	if (sqlite3_step(s->ins_rcpt) != SQLITE_DONE)
		return db_err(s, err, "keep a receipt");
	return GW_OK;
}

static gw_rc sq_stats(struct gw_outbox *o, gw_outbox_stat_cb cb, void *arg,
		      struct gw_err *err)
{
	sqlite3 *db = sqdb(o);
	sqlite3_stmt *st = NULL;
	int r;

	if (sqlite3_prepare_v2(db,
			       "SELECT dest, state, count(*) FROM deliveries "
			       "GROUP BY dest, state ORDER BY dest, state",
			       -1, &st, NULL))
		return gw_err_set(err, GW_ERR_INTERNAL, "outbox: %s",
				  sqlite3_errmsg(db));
	while ((r = sqlite3_step(st)) == SQLITE_ROW)
		cb(arg, (const char *)sqlite3_column_text(st, 0),
		   (enum gw_dlv_state)sqlite3_column_int(st, 1),
		   sqlite3_column_int64(st, 2));
	sqlite3_finalize(st);
	return r == SQLITE_DONE ? GW_OK
				: gw_err_set(err, GW_ERR_IO, "outbox: %s",
					     sqlite3_errmsg(db));
}

static const struct gw_outbox_ops sqlite_ops = {
	.enqueue = sq_enqueue,
	.due = sq_due,
	.begin = sq_begin,
	.commit = sq_commit,
	.record = sq_record,
	.lease = sq_lease,
	.close = sq_close,
	.list = sq_list,
	.show = sq_show,
	.retry = sq_retry,
	.drop = sq_drop,
	.sync_last = sq_sync_last,
	.sync_record = sq_sync_record,
	.receipt = sq_receipt,
	.has = sq_has,
	.stats = sq_stats,
};
