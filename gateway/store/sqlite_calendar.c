/*
 * sqlite_calendar.c - the SQLite calendar store (store/calendar.h): the
 * reminders table in its own file (calendar.db in the data folder) and a
 * read-only connection to the outbox file, read with the outbox's own
 * schema (store/sqlite_outbox.c: messages, deliveries, receipts).
 */
#include "store/calendar.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "store/sqlutil.h"

struct sqcal {
	sqlite3 *db; /* calendar.db */
	sqlite3 *ob; /* outbox.db, read-only */
};

static const char schema[] =
	"PRAGMA journal_mode=WAL;"
	"PRAGMA synchronous=FULL;"
	"CREATE TABLE IF NOT EXISTS reminders ("
	" obligation TEXT NOT NULL, period TEXT NOT NULL, stage TEXT NOT NULL,"
	" at_ms INTEGER NOT NULL, outcome TEXT NOT NULL,"
	" PRIMARY KEY (obligation, period, stage));";

static struct sqcal *impl(struct gw_calstore *s)
{
	return s->impl;
}

static gw_rc fail(sqlite3 *db, struct gw_err *err, const char *what)
{
	int code = sqlite3_errcode(db);

	return gw_err_set(
		err,
		code == SQLITE_BUSY || code == SQLITE_FULL ||
				code == SQLITE_IOERR || code == SQLITE_READONLY
			? GW_ERR_IO
			: GW_ERR_INTERNAL,
		"calendar store: cannot %s: %s", what, sqlite3_errmsg(db));
}

static const char *col(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

static gw_rc scan(struct gw_calstore *s, const char *kind,
		  void (*cb)(void *arg, const struct gw_cal_msg *m), void *arg,
		  struct gw_err *err)
{
	sqlite3 *db = impl(s)->ob;
	sqlite3_stmt *st = NULL;
	struct gw_cal_dlv *dlv = NULL;
	struct gw_cal_msg m;
	char *cur = NULL;
	/* strings of the current message, kept across rows */
	char *mk = NULL, *ms = NULL, *mb = NULL, **dstr = NULL;
	size_t n = 0, cap = 0, i;
	gw_rc rc = GW_OK;
	int r;

	memset(&m, 0, sizeof(m));
	if (sqlite3_prepare_v2(
		    db,
		    "SELECT m.id,m.kind,m.sender,m.created_ms,m.body,d.dest,"
		    "d.state,r.verdict,r.at_ms FROM messages m"
		    " LEFT JOIN deliveries d ON d.msg_id=m.id"
		    " LEFT JOIN receipts r ON r.msg_id=m.id AND r.dest=d.dest"
		    " WHERE ?1 IS NULL OR m.kind=?1"
		    " ORDER BY m.created_ms,m.id,d.dest",
		    -1, &st, NULL))
		return fail(db, err, "read the outbox");
	sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
#define FLUSH()                             \
	do {                                \
		if (cur) {                  \
			m.dlv = dlv;        \
			m.n_dlv = n;        \
			cb(arg, &m);        \
		}                           \
		for (i = 0; i < 2 * n; i++) \
			free(dstr[i]);      \
		n = 0;                      \
		free(cur);                  \
		free(mk);                   \
		free(ms);                   \
		free(mb);                   \
		cur = mk = ms = mb = NULL;  \
	} while (0)
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		const char *id = col(st, 0);

		if (!cur || strcmp(cur, id)) {
			FLUSH();
			cur = gw_strdup(id);
			mk = col(st, 1) ? gw_strdup(col(st, 1)) : NULL;
			ms = col(st, 2) ? gw_strdup(col(st, 2)) : NULL;
			m.len = (size_t)sqlite3_column_bytes(st, 4);
			mb = gw_malloc(m.len + 1);
			if (!cur || !mb) {
				rc = gw_err_set(err, GW_ERR_NOMEM,
						"out of memory");
				goto out;
			}
			if (m.len)
				memcpy(mb, sqlite3_column_blob(st, 4), m.len);
			mb[m.len] = '\0';
			m.id = cur;
			m.kind = mk;
			m.sender = ms;
			m.created_ms = sqlite3_column_int64(st, 3);
			m.body = mb;
		}
		if (sqlite3_column_type(st, 5) == SQLITE_NULL)
			continue;
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 8;
			void *p = gw_realloc(dlv, nc * sizeof(*dlv));
			void *q = gw_realloc(dstr, 2 * nc * sizeof(char *));

			if (p)
				dlv = p;
			if (q)
				dstr = q;
			if (!p || !q) {
				rc = gw_err_set(err, GW_ERR_NOMEM,
						"out of memory");
				goto out;
			}
			cap = nc;
		}
		dstr[2 * n] = gw_strdup(col(st, 5));
		dstr[2 * n + 1] = col(st, 7) ? gw_strdup(col(st, 7)) : NULL;
		dlv[n].dest = dstr[2 * n];
		dlv[n].state = sqlite3_column_int(st, 6);
		dlv[n].verdict = dstr[2 * n + 1];
		dlv[n].receipt_ms = sqlite3_column_int64(st, 8);
		n++;
	}
	if (r != SQLITE_DONE)
		rc = fail(db, err, "read the outbox");
	else
		FLUSH();
#undef FLUSH
out:
	for (i = 0; i < 2 * n; i++)
		free(dstr[i]);
	free(cur);
	free(mk);
	free(ms);
	free(mb);
	free(dlv);
	free(dstr);
	sqlite3_finalize(st);
	return rc;
}

static gw_rc claim(struct gw_calstore *s, const char *obligation,
		   const char *period, const char *stage, int64_t now_ms,
		   int *claimed, struct gw_err *err)
{
	sqlite3 *db = impl(s)->db;
	sqlite3_stmt *st = NULL;
	gw_rc rc = GW_OK;

	*claimed = 0;
	/* a failed try may be claimed again; "sending" and "ok" may not:
	 * a reminder whose process died while sending stays sent (once at
	 * most rather than twice) */
	if (sqlite3_prepare_v2(
		    db,
		    "INSERT INTO reminders(obligation,period,stage,at_ms,"
		    "outcome) VALUES(?1,?2,?3,?4,'sending')"
		    " ON CONFLICT(obligation,period,stage) DO UPDATE SET"
		    " at_ms=?4,outcome='sending'"
		    " WHERE outcome LIKE 'failed%'",
		    -1, &st, NULL))
		return fail(db, err, "claim a reminder");
	sqlite3_bind_text(st, 1, obligation, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, period, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, stage, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, now_ms);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = fail(db, err, "claim a reminder");
	else
		*claimed = sqlite3_changes(db) > 0;
	sqlite3_finalize(st);
	return rc;
}

static gw_rc done(struct gw_calstore *s, const char *obligation,
		  const char *period, const char *stage, const char *outcome,
		  struct gw_err *err)
{
	sqlite3 *db = impl(s)->db;
	sqlite3_stmt *st = NULL;
	gw_rc rc = GW_OK;

	if (sqlite3_prepare_v2(db,
			       "UPDATE reminders SET outcome=?4 WHERE "
			       "obligation=?1 AND period=?2 AND stage=?3",
			       -1, &st, NULL))
		return fail(db, err, "record a reminder");
	sqlite3_bind_text(st, 1, obligation, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, period, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, stage, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, outcome, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = fail(db, err, "record a reminder");
	sqlite3_finalize(st);
	return rc;
}

static gw_rc reminders(struct gw_calstore *s, const char *obligation,
		       void (*cb)(void *arg, const struct gw_cal_reminder *r),
		       void *arg, struct gw_err *err)
{
	sqlite3 *db = impl(s)->db;
	sqlite3_stmt *st = NULL;
	gw_rc rc = GW_OK;
	int r;

	if (sqlite3_prepare_v2(db,
			       "SELECT obligation,period,stage,outcome,at_ms "
			       "FROM reminders WHERE ?1 IS NULL OR "
			       "obligation=?1 ORDER BY at_ms,obligation",
			       -1, &st, NULL))
		return fail(db, err, "list the reminders");
	sqlite3_bind_text(st, 1, obligation, -1, SQLITE_STATIC);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		struct gw_cal_reminder rm = { col(st, 0), col(st, 1),
					      col(st, 2), col(st, 3),
					      sqlite3_column_int64(st, 4) };

		cb(arg, &rm);
	}
	if (r != SQLITE_DONE)
		rc = fail(db, err, "list the reminders");
	sqlite3_finalize(st);
	return rc;
}

static void sq_close(struct gw_calstore *s)
{
	struct sqcal *q = impl(s);

	if (!q)
		return;
	sqlite3_close(q->db);
	sqlite3_close(q->ob);
	free(q);
}

static const struct gw_calstore_ops ops = { scan, claim, done, reminders,
					    sq_close };

gw_rc gw_calstore_open_sqlite(const char *calendar_path,
			      const char *outbox_path, struct gw_calstore **out,
			      struct gw_err *err)
{
	struct gw_calstore *s = gw_calloc(1, sizeof(*s));
	struct sqcal *q = gw_calloc(1, sizeof(*q));
	gw_rc rc = GW_OK;

	*out = NULL;
	if (!s || !q) {
		free(s);
		free(q);
		return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
	}
	s->ops = &ops;
	s->impl = q;
	if (sqlite3_open_v2(calendar_path, &q->db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
				    SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		rc = gw_err_set(err, GW_ERR_IO,
				"cannot open calendar store '%s': %s",
				calendar_path,
				q->db ? sqlite3_errmsg(q->db) : "no memory");
		goto out;
	}
	gw_sql_busy_wait(q->db, 5000);
	if (gw_sql_setup(q->db, schema)) {
		rc = gw_err_set(err, GW_ERR_IO,
				"cannot set up calendar store '%s': %s",
				calendar_path, sqlite3_errmsg(q->db));
		goto out;
	}
	if (sqlite3_open_v2(outbox_path, &q->ob,
			    SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		rc = gw_err_set(err, GW_ERR_IO,
				"cannot open outbox '%s' for the calendar: %s",
				outbox_path,
				q->ob ? sqlite3_errmsg(q->ob) : "no memory");
		goto out;
	}
	gw_sql_busy_wait(q->ob, 5000);
out:
	if (rc) {
		gw_calstore_close(s);
		return rc;
	}
	*out = s;
	return GW_OK;
}

void gw_calstore_close(struct gw_calstore *s)
{
	if (!s)
		return;
	s->ops->close(s);
	free(s);
}
