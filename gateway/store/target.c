/*
 * target.c - the internal SQLite target (server.sqlite) behind the small
 * API of store/target.h: the table inbound_messages, one prepared INSERT.
 */
#include "store/target.h"

#include <sqlite3.h>
#include <stdlib.h>

#include "store/sqlutil.h"
#include "crypto/digest.h"

struct gw_target {
	sqlite3 *db;
	sqlite3_stmt *ins;
};

/* The internal SQLite target: one row per message, inserted once. */
static const char sqlite_target_schema[] =
	"PRAGMA journal_mode=WAL;"
	"PRAGMA synchronous=FULL;"
	"CREATE TABLE IF NOT EXISTS inbound_messages ("
	" id TEXT PRIMARY KEY, kind TEXT, sender TEXT,"
	" content_type TEXT NOT NULL, body BLOB NOT NULL,"
	" sha256 TEXT NOT NULL, received_ms INTEGER NOT NULL);";

gw_rc gw_target_open(const char *path, struct gw_target **out,
		     struct gw_err *err)
{
	struct gw_target *t = gw_calloc(1, sizeof(*t));
	gw_rc rc = GW_OK;

	*out = NULL;
	if (!t)
		return gw_err_set(err, GW_ERR_IO,
				  "server.sqlite: cannot use '%s': %s", path,
				  "out of memory");
	if (sqlite3_open_v2(path, &t->db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
				    SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK ||
	    sqlite3_busy_timeout(t->db, 5000) ||
	    gw_sql_setup(t->db, sqlite_target_schema) ||
	    sqlite3_prepare_v2(t->db,
			       "INSERT OR IGNORE INTO inbound_messages (id, "
			       "kind, sender, content_type, body, sha256, "
			       "received_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
			       "?7)",
			       -1, &t->ins, NULL))
		rc = gw_err_set(
			err, GW_ERR_IO, "server.sqlite: cannot use '%s': %s",
			path, t->db ? sqlite3_errmsg(t->db) : "out of memory");
	if (rc)
		gw_target_free(t);
	else
		*out = t;
	return rc;
}

void gw_target_free(struct gw_target *t)
{
	if (!t)
		return;
	sqlite3_finalize(t->ins);
	sqlite3_close(t->db);
	free(t);
}

gw_rc gw_target_begin(struct gw_target *t, struct gw_err *err)
{
	if (sqlite3_exec(t->db, "BEGIN IMMEDIATE", NULL, NULL, NULL))
		return gw_err_set(err, GW_ERR_IO, "server.sqlite: %s",
				  sqlite3_errmsg(t->db));
	return GW_OK;
}

gw_rc gw_target_put(struct gw_target *t, const char *id, const char *kind,
		    const char *sender, const char *ctype, const char *body,
		    size_t len, struct gw_err *err)
{
	char sha[65];
	int r;

	gw_sha256_hex(body, len, sha);
	sqlite3_reset(t->ins);
	sqlite3_bind_text(t->ins, 1, id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(t->ins, 2, kind, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(t->ins, 3, sender, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(t->ins, 4, ctype, -1, SQLITE_TRANSIENT);
	sqlite3_bind_blob64(t->ins, 5, body, len, SQLITE_TRANSIENT);
	sqlite3_bind_text(t->ins, 6, sha, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(t->ins, 7, gw_now_ms());
	r = sqlite3_step(t->ins);
	sqlite3_reset(t->ins);
	if (r != SQLITE_DONE)
		return gw_err_set(err, GW_ERR_IO,
				  "server.sqlite: cannot insert message '%s': "
				  "%s",
				  id, sqlite3_errmsg(t->db));
	return GW_OK;
}

gw_rc gw_target_commit(struct gw_target *t, struct gw_err *err)
{
	if (sqlite3_exec(t->db, "COMMIT", NULL, NULL, NULL))
		return gw_err_set(err, GW_ERR_IO, "server.sqlite: commit: %s",
				  sqlite3_errmsg(t->db));
	return GW_OK;
}

void gw_target_rollback(struct gw_target *t)
{
	sqlite3_exec(t->db, "ROLLBACK", NULL, NULL, NULL);
}
