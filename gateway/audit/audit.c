/*
 * audit.c - the verifiable audit log over SQLite (see audit.h and
 * docs/AUDIT.md).
 *
 * Tables: entries (one row per leaf: the entry's fields and its leaf
 * hash), state (the tree size and frontier, so a reopened log resumes
 * appending without reading its leaves), checkpoints (seq, size, root,
 * time, the flattened JWS) and payloads (zlib-compressed bytes by SHA-256,
 * dropped after the retention). WAL with synchronous=FULL: a committed
 * batch is on disk, and one batch costs one fsync.
 *
 * Two locks: mu guards the pending batch and the index counter (held for
 * a copy only, so appending never waits for the disk); dbmu serializes
 * every use of the SQLite connection and the tree. A commit takes dbmu
 * first and then the whole pending batch, so batches reach the tree in
 * the order they were appended.
 *
 * Several processes write one file (serve or deliver run while send and
 * sync do), so the in-memory tree is only a cache of the state table:
 * each commit re-reads the persisted size and frontier inside its
 * BEGIN IMMEDIATE transaction, restores the tree from them when another
 * process has moved on, and only then numbers its entries. A batch that
 * fails to commit waits in a retry list (no allocation needed to keep it)
 * and goes first at the next commit; nothing numbered early can collide.
 *
 * The entry's canonical form is written here directly (fixed members,
 * strings already valid UTF-8) rather than through jansson: it is the
 * RFC 8785 form byte for byte (tests/unit/test_audit.c compares it with
 * gateway/jcs.c), and it keeps the 1,000,000-entry verification fast.
 */
#include "audit/audit.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "model/jcs.h"
#include "base/log.h"
#include "store/outbox.h"
#include "crypto/sign.h"
#include "store/sqlutil.h"

#define NSTR 10 /* string fields of an entry */
/* pending entries held in background mode before writers wait */
#define AUDIT_MAX_PENDING_BYTES (8u * 1024 * 1024)

struct item {
	struct gw_audit_entry e; /* strings point into strs */
	char *strs;
	void *payload; /* owned copy, NULL when not archived */
	size_t plen;
};

struct gw_audit {
	struct gw_audit_opts o;
	char *path;
	sqlite3 *db;
	sqlite3_stmt *ins, *ins_pl, *has_pl, *put_state;
	struct gw_merkle_tree tree; /* committed entries; under dbmu */
	pthread_mutex_t mu, dbmu;
	pthread_cond_t cv, room; /* room: the thread took the pending */
	struct item *pend;	 /* under mu */
	size_t npend, cap;
	size_t pend_bytes;   /* strings and payloads of pend, under mu */
	struct item *retry;  /* a batch whose commit failed; under dbmu, */
	size_t nretry;	     /* nretry written under mu too */
	uint64_t next_index; /* provisional index of the next append; mu */
	int64_t oldest_ms;   /* when the oldest pending entry came */
	int thread_on, stop;
	pthread_t thread;
	gw_rc bg_rc; /* last failure of the thread, under mu */
	char bg_msg[GW_ERR_MSG_MAX];
	int64_t last_cp_ms;
	uint64_t last_cp_size;
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
	"CREATE INDEX IF NOT EXISTS payloads_time ON payloads(time_ms);";

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

/* ---- entry form ---- */

static const char hexd[] = "0123456789abcdef";

static void to_hex(const uint8_t *p, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hexd[p[i] >> 4];
		out[2 * i + 1] = hexd[p[i] & 15];
	}
	out[2 * n] = '\0';
}

static int from_hex(const char *s, uint8_t *out, size_t n)
{
	size_t i;

	if (!s || strlen(s) != 2 * n)
		return -1;
	for (i = 0; i < 2 * n; i++) {
		const char *c = strchr(hexd, s[i]);

		if (!s[i] || !c)
			return -1;
		if (i % 2 == 0)
			out[i / 2] = (uint8_t)((c - hexd) << 4);
		else
			out[i / 2] |= (uint8_t)(c - hexd);
	}
	return 0;
}

/* RFC 3339 UTC with milliseconds: 2026-11-29T14:10:00.123Z */
static void fmt_time(int64_t ms, char out[80])
{
	time_t t;
	struct tm tm;

	if (ms < 0)
		ms = 0;
	if (ms > 253402300799999LL) /* 9999-12-31T23:59:59.999Z */
		ms = 253402300799999LL;
	t = (time_t)(ms / 1000);
	gmtime_r(&t, &tm);
	snprintf(out, 80, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

static int parse_time(const char *s, int64_t *ms)
{
	struct tm tm;
	int msec = 0, n = 0;

	memset(&tm, 0, sizeof(tm));
	if (!s ||
	    sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ%n", &tm.tm_year, &tm.tm_mon,
		   &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &msec,
		   &n) != 7 ||
	    s[n] || n != 24)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	*ms = (int64_t)timegm(&tm) * 1000 + msec;
	return 0;
}

/* A JSON string in the RFC 8785 form (s is valid UTF-8). */
static gw_rc jcs_str(struct gw_buf *b, const char *s)
{
	char tmp[8];
	const char *run = s;
	gw_rc rc = GW_OK;

	if ((rc = gw_buf_add(b, "\"", 1)))
		return rc;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		const char *esc = NULL;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		if ((rc = gw_buf_add(b, run, (size_t)(s - run))))
			return rc;
		switch (c) {
		case '"': esc = "\\\""; break;
		case '\\': esc = "\\\\"; break;
		case '\b': esc = "\\b"; break;
		case '\f': esc = "\\f"; break;
		case '\n': esc = "\\n"; break;
		case '\r': esc = "\\r"; break;
		case '\t': esc = "\\t"; break;
		default: snprintf(tmp, sizeof(tmp), "\\u%04x", c); esc = tmp;
		}
		if ((rc = gw_buf_adds(b, esc)))
			return rc;
		run = s + 1;
	}
	if ((rc = gw_buf_add(b, run, (size_t)(s - run))))
		return rc;
	return gw_buf_add(b, "\"", 1);
}

static const char *nz(const char *s)
{
	return s ? s : "";
}

/* fmt_time for entries, with the date and time of day of the last
 * second kept per thread (verification formats a million of them). */
static void entry_time(int64_t ms, char out[80])
{
	static _Thread_local int64_t last_s = -1;
	static _Thread_local char last[80];

	if (ms < 0 || ms > 253402300799999LL) {
		fmt_time(ms, out);
		return;
	}
	if (ms / 1000 != last_s) {
		fmt_time(ms, last);
		last_s = ms / 1000;
	}
	memcpy(out, last, 20); /* YYYY-MM-DDTHH:MM:SS. */
	out[20] = (char)('0' + ms % 1000 / 100);
	out[21] = (char)('0' + ms % 100 / 10);
	out[22] = (char)('0' + ms % 10);
	out[23] = 'Z';
	out[24] = '\0';
}

gw_rc gw_audit_entry_json(const struct gw_audit_entry *e, struct gw_buf *out,
			  struct gw_err *err)
{
	/* members in RFC 8785 order (all names are ASCII) */
	static const char *const names[] = {
		"{\"digest\":",	 ",\"direction\":", ",\"event\":",
		",\"index\":",	 ",\"msgId\":",	    ",\"msgKind\":",
		",\"outcome\":", ",\"reason\":",    ",\"receiver\":",
		",\"sender\":",	 ",\"signer\":",    ",\"time\":"
	};
	char tbuf[80], num[24], *p = num + sizeof(num);
	const char *vals[12];
	uint64_t v = e->index;
	size_t i, start = out->len;
	gw_rc rc = GW_OK;

	entry_time(e->time_ms, tbuf);
	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	vals[0] = nz(e->digest);
	vals[1] = nz(e->direction);
	vals[2] = nz(e->kind);
	vals[3] = NULL;
	vals[4] = nz(e->msg_id);
	vals[5] = nz(e->msg_kind);
	vals[6] = nz(e->outcome);
	vals[7] = nz(e->reason);
	vals[8] = nz(e->receiver);
	vals[9] = nz(e->sender);
	vals[10] = nz(e->signer);
	vals[11] = tbuf;
	for (i = 0; i < 12 && !rc; i++) {
		if (!(rc = gw_buf_adds(out, names[i])))
			rc = vals[i] ? jcs_str(out, vals[i])
				     : gw_buf_add(
					       out, p,
					       (size_t)(num + sizeof(num) - p));
	}
	if (!rc)
		rc = gw_buf_add(out, "}", 1);
	if (rc) {
		out->len = start;
		if (out->data)
			out->data[start] = '\0';
		return gw_err_set(err, rc, "out of memory");
	}
	return GW_OK;
}

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
	const unsigned char *p = (const unsigned char *)nz(s);
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
	const unsigned char *p = (const unsigned char *)nz(s);
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

static const char **field(struct gw_audit_entry *e, int i)
{
	const char **f[NSTR] = { &e->msg_id,  &e->kind,	    &e->msg_kind,
				 &e->sender,  &e->receiver, &e->direction,
				 &e->outcome, &e->reason,   &e->digest,
				 &e->signer };

	return f[i];
}

/* ---- store ---- */

static gw_rc save_state(struct gw_audit *a, struct gw_err *err)
{
	uint8_t fr[64][32];
	size_t n = gw_merkle_tree_frontier(&a->tree, fr);

	sqlite3_reset(a->put_state);
	sqlite3_bind_int64(a->put_state, 1, (sqlite3_int64)a->tree.size);
	sqlite3_bind_blob(a->put_state, 2, fr, (int)(n * 32), SQLITE_STATIC);
	if (sqlite3_step(a->put_state) != SQLITE_DONE)
		return db_err(a->db, err, "store the tree state");
	return GW_OK;
}

static gw_rc archive(struct gw_audit *a, const struct item *it,
		     struct gw_err *err)
{
	uLongf zlen;
	Bytef *z;
	gw_rc rc = GW_OK;
	int r;

	/* the same bytes come with several steps of a message (received,
	 * stored, each attempt, delivered): kept once, compressed once */
	sqlite3_reset(a->has_pl);
	sqlite3_bind_text(a->has_pl, 1, it->e.digest, -1, SQLITE_STATIC);
	r = sqlite3_step(a->has_pl);
	sqlite3_reset(a->has_pl);
	if (r == SQLITE_ROW)
		return GW_OK;
	if (r != SQLITE_DONE)
		return db_err(a->db, err, "look up a payload");
	zlen = compressBound((uLong)it->plen);
	if (!(z = gw_malloc(zlen ? zlen : 1)))
		return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
	if (compress2(z, &zlen, it->payload, (uLong)it->plen, Z_BEST_SPEED) !=
	    Z_OK) {
		free(z);
		return gw_err_set(err, GW_ERR_INTERNAL,
				  "audit log: cannot compress a payload");
	}
	sqlite3_reset(a->ins_pl);
	sqlite3_bind_text(a->ins_pl, 1, it->e.digest, -1, SQLITE_STATIC);
	sqlite3_bind_int64(a->ins_pl, 2, it->e.time_ms);
	sqlite3_bind_int64(a->ins_pl, 3, (sqlite3_int64)it->plen);
	sqlite3_bind_blob64(a->ins_pl, 4, z, zlen, SQLITE_STATIC);
	if (sqlite3_step(a->ins_pl) != SQLITE_DONE)
		rc = db_err(a->db, err, "archive a payload");
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
static gw_rc refresh(struct gw_audit *a, struct gw_err *err)
{
	uint8_t fr[64][32];
	size_t n = gw_merkle_tree_frontier(&a->tree, fr);
	sqlite3_stmt *st = NULL;
	uint64_t size = 0, old = a->tree.size;
	const void *sfr = NULL;
	int bytes = 0, r;
	gw_rc rc = GW_OK;

	if (sqlite3_prepare_v2(a->db, "SELECT size, frontier FROM state", -1,
			       &st, NULL))
		return db_err(a->db, err, "read the tree state");
	r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		size = (uint64_t)sqlite3_column_int64(st, 0);
		bytes = sqlite3_column_bytes(st, 1);
		sfr = sqlite3_column_blob(st, 1);
	} else if (r != SQLITE_DONE) {
		rc = db_err(a->db, err, "read the tree state");
		goto out;
	}
	if (bytes % 32 ||
	    (size_t)bytes / 32 != (size_t)__builtin_popcountll(size) ||
	    (bytes && !sfr)) {
		rc = gw_err_set(err, GW_ERR_REFUSED,
				"audit log '%s': the stored frontier does not "
				"match the stored size %llu",
				a->path, (unsigned long long)size);
		goto out;
	}
	if (size == old && (size_t)bytes == n * 32 &&
	    (!bytes || !memcmp(sfr, fr, (size_t)bytes)))
		goto out; /* nobody else wrote */
	if (size < old) {
		rc = gw_err_set(err, GW_ERR_REFUSED,
				"audit log '%s': its stored size went down "
				"from %llu to %llu entries (the file was "
				"truncated or replaced: run 'lienthong audit "
				"verify')",
				a->path, (unsigned long long)old,
				(unsigned long long)size);
		goto out;
	}
	if ((rc = gw_merkle_tree_restore(&a->tree, size,
					 (const uint8_t(*)[32])sfr,
					 (size_t)bytes / 32, err)))
		goto out;
	if (size != old && !(a->o.flags & GW_AUDIT_READONLY)) {
		/* keep the provisional indexes near the truth */
		pthread_mutex_lock(&a->mu);
		a->next_index += size - old;
		pthread_mutex_unlock(&a->mu);
	}
out:
	sqlite3_finalize(st);
	return rc;
}

/* Write items[0..n) in one transaction, numbering them from the
 * persisted size; dbmu held. The tree is restored when anything fails
 * (to the state read here, which is on disk). */
static gw_rc commit_items(struct gw_audit *a, struct item *items, size_t n,
			  struct gw_err *err)
{
	uint8_t fr[64][32], leaf[32];
	uint64_t size0;
	size_t nfr, i;
	struct gw_buf b;
	gw_rc rc = GW_OK;
	int s;

	gw_buf_init(&b);
	if (sqlite3_exec(a->db, "BEGIN IMMEDIATE", NULL, NULL, NULL))
		return db_err(a->db, err, "begin a transaction");
	if ((rc = refresh(a, err))) {
		sqlite3_exec(a->db, "ROLLBACK", NULL, NULL, NULL);
		return rc;
	}
	size0 = a->tree.size;
	nfr = gw_merkle_tree_frontier(&a->tree, fr);
	for (i = 0; i < n && !rc; i++) {
		struct gw_audit_entry *e = &items[i].e;

		e->index = a->tree.size;
		b.len = 0;
		if ((rc = gw_audit_entry_json(e, &b, err)) ||
		    (rc = gw_merkle_tree_append_entry(&a->tree, b.data, b.len,
						      leaf, err)))
			break;
		sqlite3_reset(a->ins);
		sqlite3_bind_int64(a->ins, 1, (sqlite3_int64)e->index);
		sqlite3_bind_int64(a->ins, 2, e->time_ms);
		for (s = 0; s < NSTR; s++)
			sqlite3_bind_text(a->ins, 3 + s, *field(e, s), -1,
					  SQLITE_STATIC);
		sqlite3_bind_blob(a->ins, 13, leaf, 32, SQLITE_STATIC);
		if (sqlite3_step(a->ins) != SQLITE_DONE) {
			rc = db_err(a->db, err, "store an entry");
			break;
		}
		if (items[i].payload && (rc = archive(a, &items[i], err)))
			break;
	}
	if (!rc)
		rc = save_state(a, err);
	if (!rc && sqlite3_exec(a->db, "COMMIT", NULL, NULL, NULL))
		rc = db_err(a->db, err, "commit entries");
	if (rc) {
		struct gw_err ignore;

		sqlite3_exec(a->db, "ROLLBACK", NULL, NULL, NULL);
		gw_merkle_tree_restore(&a->tree, size0,
				       (const uint8_t(*)[32])fr, nfr, &ignore);
	}
	gw_buf_release(&b);
	return rc;
}

static gw_rc publish(struct gw_audit *a, struct gw_audit_checkpoint *out,
		     struct gw_err *err);

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
		rc = publish(a, NULL, err);
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

static gw_rc prepare(struct gw_audit *a, struct gw_err *err)
{
	struct {
		sqlite3_stmt **st;
		const char *sql;
	} q[] = {
		{ &a->ins, "INSERT INTO entries (idx, time_ms, msg_id, event,"
			   " msg_kind, sender, receiver, direction, outcome,"
			   " reason, digest, signer, leaf) VALUES (?1, ?2, ?3,"
			   " ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)" },
		{ &a->ins_pl, "INSERT OR IGNORE INTO payloads (digest,"
			      " time_ms, len, data) VALUES (?1, ?2, ?3, ?4)" },
		{ &a->has_pl, "SELECT 1 FROM payloads WHERE digest = ?1" },
		{ &a->put_state, "INSERT OR REPLACE INTO state (id, size,"
				 " frontier) VALUES (1, ?1, ?2)" },
	};
	size_t i;

	for (i = 0; i < GW_ARRAY_LEN(q); i++)
		if (sqlite3_prepare_v2(a->db, q[i].sql, -1, q[i].st, NULL))
			return db_err(a->db, err, "prepare a statement");
	return GW_OK;
}

static gw_rc load_state(struct gw_audit *a, struct gw_err *err)
{
	sqlite3_stmt *st = NULL;
	gw_rc rc;

	if ((rc = refresh(a, err)))
		return rc;
	if (sqlite3_prepare_v2(a->db,
			       "SELECT time_ms, size FROM checkpoints ORDER BY"
			       " seq DESC LIMIT 1",
			       -1, &st, NULL))
		return db_err(a->db, err, "read the checkpoints");
	if (sqlite3_step(st) == SQLITE_ROW) {
		a->last_cp_ms = sqlite3_column_int64(st, 0);
		a->last_cp_size = (uint64_t)sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	return GW_OK;
}

gw_rc gw_audit_open(const char *path, const struct gw_audit_opts *opts,
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
	if (!(a->path = gw_strdup(path))) {
		rc = gw_err_set(err, GW_ERR_NOMEM, "out of memory");
		goto fail;
	}
	if ((rc = gw_merkle_tree_init(&a->tree, err)))
		goto fail;
	if (sqlite3_open_v2(path, &a->db,
			    ro ? SQLITE_OPEN_READONLY
			       : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
			    NULL)) {
		rc = gw_err_set(err, GW_ERR_IO,
				"cannot open the audit log '%s': %s%s", path,
				a->db ? sqlite3_errmsg(a->db) : "out of memory",
				ro ? " (is the audit: store path right?)" : "");
		goto fail;
	}
	sqlite3_busy_timeout(a->db, 10000);
	/* reading a whole log (verify, proofs) through mmap is faster; a
	 * writer does not map it: the pages it touches would count in its
	 * resident set as the log grows */
	if (ro)
		sqlite3_exec(a->db, "PRAGMA mmap_size=1073741824", NULL, NULL,
			     NULL);
	if (!ro && gw_sql_setup(a->db, schema)) {
		rc = gw_err_set(err, GW_ERR_IO,
				"cannot set up the audit log '%s': %s", path,
				sqlite3_errmsg(a->db));
		goto fail;
	}
	if ((!ro && (rc = prepare(a, err))) || (rc = load_state(a, err)))
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
	if (a->db && a->ins && (a->npend || a->nretry) &&
	    commit_pending(a, &err))
		gw_log(GW_LOG_ERROR, "audit-lost", NULL,
		       "%s (%zu audit entries not logged)", err.msg,
		       a->npend + a->nretry);
	free_items(a->retry, a->nretry);
	free_items(a->pend, a->npend);
	sqlite3_finalize(a->ins);
	sqlite3_finalize(a->ins_pl);
	sqlite3_finalize(a->has_pl);
	sqlite3_finalize(a->put_state);
	if (a->db)
		sqlite3_close(a->db);
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
		gw_outbox_sha256_hex(payload, plen, digest);
		it.e.digest = digest;
	}
	for (i = 0; i < NSTR; i++)
		need += clean_len(*field(&it.e, i));
	if (!(p = it.strs = gw_malloc(need)))
		return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
	for (i = 0; i < NSTR; i++) {
		const char **f = field(&it.e, i);
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
	refresh(a, &ignore); /* on failure: the last size seen */
	n = a->tree.size;
	pthread_mutex_unlock(&a->dbmu);
	return n;
}

gw_rc gw_audit_root(struct gw_audit *a, uint8_t root[32], struct gw_err *err)
{
	gw_rc rc;

	pthread_mutex_lock(&a->dbmu);
	if (!(rc = refresh(a, err)))
		rc = gw_merkle_tree_root(&a->tree, root, err);
	pthread_mutex_unlock(&a->dbmu);
	return rc;
}

/* ---- checkpoints ---- */

void gw_audit_checkpoint_release(struct gw_audit_checkpoint *c)
{
	if (!c)
		return;
	free(c->jws);
	c->jws = NULL;
}

/* The checkpoint object in its RFC 8785 form. */
static gw_rc cp_json(const char *origin, const struct gw_audit_checkpoint *c,
		     struct gw_buf *out, struct gw_err *err)
{
	char root[65], t[80];

	to_hex(c->root, 32, root);
	fmt_time(c->time_ms, t);
	if (gw_buf_adds(out, "{\"origin\":") || jcs_str(out, origin) ||
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
 * caller arranged), in one transaction that first brings the tree to the
 * persisted state: another process may have appended or published. */
static gw_rc publish(struct gw_audit *a, struct gw_audit_checkpoint *out,
		     struct gw_err *err)
{
	struct gw_audit_checkpoint c;
	struct gw_buf pl, jws;
	sqlite3_stmt *st = NULL;
	gw_rc rc;

	int in_tx = 0;

	memset(&c, 0, sizeof(c));
	gw_buf_init(&pl);
	gw_buf_init(&jws);
	if (sqlite3_exec(a->db, "BEGIN IMMEDIATE", NULL, NULL, NULL)) {
		rc = db_err(a->db, err, "begin a transaction");
		goto out;
	}
	in_tx = 1;
	if ((rc = refresh(a, err)))
		goto out;
	if (sqlite3_prepare_v2(a->db,
			       "SELECT coalesce(max(seq), 0) FROM checkpoints",
			       -1, &st, NULL) ||
	    sqlite3_step(st) != SQLITE_ROW) {
		rc = db_err(a->db, err, "read the checkpoints");
		goto out;
	}
	c.seq = (uint64_t)sqlite3_column_int64(st, 0) + 1;
	sqlite3_finalize(st);
	st = NULL;
	c.size = a->tree.size;
	c.time_ms = gw_now_ms();
	snprintf(c.origin, sizeof(c.origin), "%s", a->o.log_name);
	if ((rc = gw_merkle_tree_root(&a->tree, c.root, err)) ||
	    (rc = cp_json(a->o.log_name, &c, &pl, err)))
		goto out;
	if (a->o.key &&
	    (rc = gw_sign_json(a->o.key, GW_SIGN_ALG_DEFAULT, pl.data, pl.len,
			       GW_SIGN_FLATTENED, &jws, err)))
		goto out;
	if (sqlite3_prepare_v2(a->db,
			       "INSERT INTO checkpoints (seq, size, root,"
			       " time_ms, jws) VALUES (?1, ?2, ?3, ?4, ?5)",
			       -1, &st, NULL)) {
		rc = db_err(a->db, err, "store a checkpoint");
		goto out;
	}
	sqlite3_bind_int64(st, 1, (sqlite3_int64)c.seq);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)c.size);
	sqlite3_bind_blob(st, 3, c.root, 32, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, c.time_ms);
	if (a->o.key)
		sqlite3_bind_text(st, 5, jws.data, (int)jws.len, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE) {
		rc = db_err(a->db, err, "store a checkpoint");
		goto out;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (sqlite3_exec(a->db, "COMMIT", NULL, NULL, NULL)) {
		rc = db_err(a->db, err, "commit a checkpoint");
		goto out;
	}
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
	sqlite3_finalize(st);
	if (in_tx)
		sqlite3_exec(a->db, "ROLLBACK", NULL, NULL, NULL);
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
	rc = publish(a, out, err);
	pthread_mutex_unlock(&a->dbmu);
	return rc;
}

static void cp_from_row(sqlite3_stmt *st, struct gw_audit_checkpoint *c)
{
	const void *r = sqlite3_column_blob(st, 2);

	memset(c, 0, sizeof(*c));
	c->seq = (uint64_t)sqlite3_column_int64(st, 0);
	c->size = (uint64_t)sqlite3_column_int64(st, 1);
	if (r && sqlite3_column_bytes(st, 2) == 32)
		memcpy(c->root, r, 32);
	c->time_ms = sqlite3_column_int64(st, 3);
}

gw_rc gw_audit_checkpoint_get(struct gw_audit *a, uint64_t seq,
			      struct gw_audit_checkpoint *out,
			      struct gw_err *err)
{
	sqlite3_stmt *st = NULL;
	gw_rc rc = GW_OK;
	int r;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&a->dbmu);
	if (sqlite3_prepare_v2(a->db,
			       seq ? "SELECT seq, size, root, time_ms, jws FROM"
				     " checkpoints WHERE seq = ?1"
				   : "SELECT seq, size, root, time_ms, jws FROM"
				     " checkpoints ORDER BY seq DESC LIMIT 1",
			       -1, &st, NULL)) {
		rc = db_err(a->db, err, "read the checkpoints");
		goto out;
	}
	if (seq)
		sqlite3_bind_int64(st, 1, (sqlite3_int64)seq);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		const char *j = (const char *)sqlite3_column_text(st, 4);

		cp_from_row(st, out);
		if (j && !(out->jws = gw_strdup(j)))
			rc = gw_err_set(err, GW_ERR_NOMEM, "out of memory");
	} else if (r == SQLITE_DONE) {
		if (seq)
			rc = gw_err_set(err, GW_ERR_USAGE,
					"audit log '%s' has no checkpoint %llu",
					a->path, (unsigned long long)seq);
		else
			rc = gw_err_set(err, GW_ERR_USAGE,
					"audit log '%s' has no checkpoint yet "
					"(publish one with 'lienthong audit "
					"checkpoint')",
					a->path);
	} else {
		rc = db_err(a->db, err, "read the checkpoints");
	}
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&a->dbmu);
	return rc;
}

/* gw_audit_checkpoint_each with dbmu held. */
static gw_rc cp_each(struct gw_audit *a,
		     int (*cb)(void *arg, const struct gw_audit_checkpoint *c),
		     void *arg, struct gw_err *err)
{
	sqlite3_stmt *st = NULL;
	gw_rc rc = GW_OK;
	int r;

	if (sqlite3_prepare_v2(a->db,
			       "SELECT seq, size, root, time_ms, jws FROM"
			       " checkpoints ORDER BY seq",
			       -1, &st, NULL)) {
		rc = db_err(a->db, err, "read the checkpoints");
		goto out;
	}
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		struct gw_audit_checkpoint c;

		cp_from_row(st, &c);
		c.jws = (char *)sqlite3_column_text(st, 4);
		if (cb(arg, &c))
			break;
	}
	if (r != SQLITE_ROW && r != SQLITE_DONE)
		rc = db_err(a->db, err, "read the checkpoints");
out:
	sqlite3_finalize(st);
	return rc;
}

gw_rc gw_audit_checkpoint_each(struct gw_audit *a,
			       int (*cb)(void *arg,
					 const struct gw_audit_checkpoint *c),
			       void *arg, struct gw_err *err)
{
	gw_rc rc;

	pthread_mutex_lock(&a->dbmu);
	rc = cp_each(a, cb, arg, err);
	pthread_mutex_unlock(&a->dbmu);
	return rc;
}

/* Read a checkpoint object (parsed JSON, borrowed) into c. */
static gw_rc cp_from_json(const json_t *j, struct gw_audit_checkpoint *c,
			  struct gw_err *err)
{
	const char *type = json_string_value(json_object_get(j, "type")),
		   *origin;
	json_t *seq = json_object_get(j, "seq"),
	       *size = json_object_get(j, "treeSize"),
	       *ver = json_object_get(j, "version");

	memset(c, 0, sizeof(*c));
	if (!json_is_object(j) || !type ||
	    strcmp(type, "lienthong-audit-checkpoint") ||
	    !json_is_integer(ver) || json_integer_value(ver) != 1)
		return gw_err_set(err, GW_ERR_REFUSED,
				  "not a lienthong audit checkpoint (type "
				  "'lienthong-audit-checkpoint', version 1)");
	if (!json_is_integer(seq) || json_integer_value(seq) < 1 ||
	    !json_is_integer(size) || json_integer_value(size) < 0 ||
	    from_hex(json_string_value(json_object_get(j, "rootHash")), c->root,
		     32) ||
	    parse_time(json_string_value(json_object_get(j, "time")),
		       &c->time_ms))
		return gw_err_set(err, GW_ERR_REFUSED,
				  "checkpoint: seq, treeSize, rootHash (64 "
				  "hex digits) or time is missing or "
				  "malformed");
	origin = json_string_value(json_object_get(j, "origin"));
	if (!origin || strlen(origin) >= sizeof(c->origin))
		return gw_err_set(err, GW_ERR_REFUSED,
				  "checkpoint: origin (the log's name, a "
				  "string of at most %zu bytes) is missing "
				  "or malformed",
				  sizeof(c->origin) - 1);
	snprintf(c->origin, sizeof(c->origin), "%s", origin);
	c->seq = (uint64_t)json_integer_value(seq);
	c->size = (uint64_t)json_integer_value(size);
	return GW_OK;
}

gw_rc gw_audit_checkpoint_parse(const struct gw_sign_verifier *v,
				const char *text, size_t len,
				struct gw_audit_checkpoint *out,
				char signer[256], struct gw_err *err)
{
	json_t *j = NULL, *pl = NULL;
	json_error_t je;
	struct gw_sign_result res;
	struct gw_buf content;
	gw_rc rc;

	memset(out, 0, sizeof(*out));
	memset(&res, 0, sizeof(res));
	gw_buf_init(&content);
	if (signer)
		signer[0] = '\0';
	j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (!j) {
		rc = gw_err_set(err, GW_ERR_PARSE, "checkpoint: line %d: %s",
				je.line, je.text);
		goto out;
	}
	if (json_object_get(j, "signature")) {
		if (!v) {
			rc = gw_err_set(err, GW_ERR_REFUSED,
					"checkpoint is signed: verify it with "
					"--trust DIR or --key PUBKEY");
			goto out;
		}
		if ((rc = gw_sign_verify_jws(v, text, len, NULL, 0, 0, &res,
					     &content, err)))
			goto out;
		if (!(pl = json_loadb(content.data, content.len,
				      JSON_REJECT_DUPLICATES, &je))) {
			rc = gw_err_set(err, GW_ERR_REFUSED,
					"checkpoint: the signed payload is not "
					"JSON");
			goto out;
		}
		if ((rc = cp_from_json(pl, out, err)))
			goto out;
		if (signer)
			snprintf(signer, 256, "%s", res.subject);
	} else {
		if (v) {
			rc = gw_err_set(err, GW_ERR_REFUSED,
					"checkpoint is not signed (a flattened "
					"JWS was expected)");
			goto out;
		}
		if ((rc = cp_from_json(j, out, err)))
			goto out;
	}
	if (!(out->jws = gw_strndup(text, len)))
		rc = gw_err_set(err, GW_ERR_NOMEM, "out of memory");
out:
	json_decref(j);
	json_decref(pl);
	gw_buf_release(&content);
	return rc;
}

/* ---- queries ---- */

static void entry_from_row(sqlite3_stmt *st, struct gw_audit_entry *e)
{
	int i;

	memset(e, 0, sizeof(*e));
	e->index = (uint64_t)sqlite3_column_int64(st, 0);
	e->time_ms = sqlite3_column_int64(st, 1);
	for (i = 0; i < NSTR; i++) {
		const char *s = (const char *)sqlite3_column_text(st, 2 + i);

		*field(e, i) = s ? s : "";
	}
}

gw_rc gw_audit_query(struct gw_audit *a, const struct gw_audit_filter *f,
		     int (*cb)(void *arg, const struct gw_audit_entry *e),
		     void *arg, struct gw_err *err)
{
	struct gw_audit_filter none;
	struct gw_buf sql;
	sqlite3_stmt *st = NULL;
	gw_rc rc = GW_OK;
	int r;

	memset(&none, 0, sizeof(none));
	if (!f)
		f = &none;
	if ((rc = gw_audit_flush(a, err)))
		return rc;
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
	pthread_mutex_lock(&a->dbmu);
	if (sqlite3_prepare_v2(a->db, sql.data, -1, &st, NULL)) {
		rc = db_err(a->db, err, "query entries");
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
		struct gw_audit_entry e;

		entry_from_row(st, &e);
		if (cb(arg, &e))
			break;
	}
	if (r != SQLITE_ROW && r != SQLITE_DONE)
		rc = db_err(a->db, err, "query entries");
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&a->dbmu);
	gw_buf_release(&sql);
	return rc;
}

/* ---- verification ---- */

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

gw_rc gw_audit_verify(struct gw_audit *a, const struct gw_sign_verifier *v,
		      gw_audit_progress_fn progress, void *arg,
		      uint64_t *checked, struct gw_err *err)
{
	struct cps cps;
	struct gw_merkle_tree t;
	struct gw_buf b;
	sqlite3_stmt *st = NULL;
	uint8_t root[32], leaf[32], fr1[64][32], fr2[64][32];
	uint64_t expect = 0, size, prev = 0;
	size_t ci = 0, n1, n2;
	gw_rc rc;
	int r, locked = 0, in_tx = 0;

	memset(&cps, 0, sizeof(cps));
	gw_buf_init(&b);
	if (checked)
		*checked = 0;
	if ((rc = gw_audit_flush(a, err)))
		return rc;
	if ((rc = gw_merkle_tree_init(&t, err)))
		return rc;
	/* one consistent view (a read transaction; WAL lets writers of
	 * other processes go on, commits of this handle wait) of the
	 * checkpoints, the state and the entries */
	pthread_mutex_lock(&a->dbmu);
	locked = 1;
	if (sqlite3_exec(a->db, "BEGIN", NULL, NULL, NULL)) {
		rc = db_err(a->db, err, "begin a transaction");
		goto out;
	}
	in_tx = 1;
	if ((rc = refresh(a, err)) || (rc = cp_each(a, collect_cp, &cps, err)))
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
	ci = 0;
	size = a->tree.size;
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
	if (sqlite3_prepare_v2(
		    a->db,
		    "SELECT idx, time_ms, msg_id, event, msg_kind,"
		    " sender, receiver, direction, outcome, reason,"
		    " digest, signer, leaf FROM entries ORDER BY idx",
		    -1, &st, NULL)) {
		rc = db_err(a->db, err, "read the entries");
		goto out;
	}
	for (;;) {
		struct gw_audit_entry e;
		const void *stored;

		/* checkpoints at the current size (also size 0) */
		while (ci < cps.n && cps.c[ci].size == t.size) {
			if ((rc = gw_merkle_tree_root(&t, root, err)))
				goto out;
			if (memcmp(root, cps.c[ci].root, 32)) {
				rc = gw_err_set(
					err, GW_ERR_REFUSED,
					"checkpoint %llu (size %llu): the root "
					"of entries 0..%lld does not match: an "
					"entry before %llu was rewritten "
					"together with its leaf hash, or the "
					"checkpoint was changed",
					(unsigned long long)cps.c[ci].seq,
					(unsigned long long)cps.c[ci].size,
					(long long)cps.c[ci].size - 1,
					(unsigned long long)cps.c[ci].size);
				goto out;
			}
			ci++;
		}
		r = sqlite3_step(st);
		if (r == SQLITE_DONE)
			break;
		if (r != SQLITE_ROW) {
			rc = db_err(a->db, err, "read the entries");
			goto out;
		}
		entry_from_row(st, &e);
		if (e.index != expect) {
			rc = gw_err_set(
				err, GW_ERR_REFUSED,
				"entry %llu is missing (the next stored "
				"entry is %llu): entries were deleted",
				(unsigned long long)expect,
				(unsigned long long)e.index);
			goto out;
		}
		b.len = 0;
		if ((rc = gw_audit_entry_json(&e, &b, err)) ||
		    (rc = gw_merkle_tree_append_entry(&t, b.data, b.len, leaf,
						      err)))
			goto out;
		stored = sqlite3_column_blob(st, 12);
		if (sqlite3_column_bytes(st, 12) != 32 || !stored ||
		    memcmp(stored, leaf, 32)) {
			rc = gw_err_set(err, GW_ERR_REFUSED,
					"entry %llu (%s, %s): leaf hash does "
					"not match the stored entry (the entry "
					"was changed, or moved from elsewhere)",
					(unsigned long long)e.index,
					e.msg_id[0] ? e.msg_id : "no message",
					e.kind[0] ? e.kind : "no event");
			goto out;
		}
		expect++;
		if (progress && (expect & 0xffff) == 0)
			progress(arg, expect, size);
	}
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
	if (ci < cps.n) {
		rc = gw_err_set(err, GW_ERR_REFUSED,
				"checkpoint %llu has size %llu, beyond the "
				"log's %llu entries",
				(unsigned long long)cps.c[ci].seq,
				(unsigned long long)cps.c[ci].size,
				(unsigned long long)expect);
		goto out;
	}
	n2 = gw_merkle_tree_frontier(&t, fr2);
	if (n1 != n2 || memcmp(fr1, fr2, n1 * 32))
		rc = gw_err_set(err, GW_ERR_REFUSED,
				"the stored tree frontier does not match the "
				"entries");
	if (progress)
		progress(arg, expect, size);
out:
	sqlite3_finalize(st);
	if (in_tx)
		sqlite3_exec(a->db, "COMMIT", NULL, NULL, NULL);
	if (locked)
		pthread_mutex_unlock(&a->dbmu);
	gw_merkle_tree_release(&t);
	cps_release(&cps);
	gw_buf_release(&b);
	return rc;
}

/* ---- proofs ---- */

/* gw_merkle_node_fn over the stored leaf hashes (dbmu held). */
static gw_rc db_node(void *arg, unsigned level, uint64_t index, uint8_t out[32],
		     struct gw_err *err)
{
	struct gw_audit *a = arg;
	uint64_t first = index << level, n = (uint64_t)1 << level, got = 0;
	uint8_t(*leaves)[32];
	sqlite3_stmt *st = NULL;
	gw_rc rc = GW_OK;
	int r;

	if (level > 40)
		return gw_err_set(err, GW_ERR_USAGE, "subtree too large");
	if (!(leaves = gw_malloc((size_t)n * 32)))
		return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
	if (sqlite3_prepare_v2(a->db,
			       "SELECT leaf FROM entries WHERE idx >= ?1 AND"
			       " idx < ?2 ORDER BY idx",
			       -1, &st, NULL)) {
		rc = db_err(a->db, err, "read leaf hashes");
		goto out;
	}
	sqlite3_bind_int64(st, 1, (sqlite3_int64)first);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)(first + n));
	while ((r = sqlite3_step(st)) == SQLITE_ROW && got < n) {
		if (sqlite3_column_bytes(st, 0) != 32)
			break;
		memcpy(leaves[got++], sqlite3_column_blob(st, 0), 32);
	}
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
	sqlite3_finalize(st);
	free(leaves);
	return rc;
}

static gw_rc add_path(struct gw_buf *out, uint8_t p[][32], size_t len)
{
	char h[65];
	size_t i;
	gw_rc rc = gw_buf_adds(out, "[");

	for (i = 0; i < len && !rc; i++) {
		to_hex(p[i], 32, h);
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
	return cp_json(a->o.log_name, c, out, err);
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
		to_hex(leaf, 32, h);
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

/* The checkpoint of a proof: from the separate file when given, else the
 * embedded one (re-serialized; JWS verification reads the members, not
 * the bytes); then its origin and signer checked against want. */
static gw_rc proof_cp(const struct gw_sign_verifier *v,
		      const struct gw_audit_expect *want, const json_t *emb,
		      const char *file, size_t flen,
		      struct gw_audit_checkpoint *c, char signer[256],
		      struct gw_err *err)
{
	char *s, who[256];
	gw_rc rc;

	if (file) {
		rc = gw_audit_checkpoint_parse(v, file, flen, c, who, err);
	} else if (!json_is_object(emb)) {
		return gw_err_set(err, GW_ERR_PARSE,
				  "the proof embeds no checkpoint: give one "
				  "with --checkpoint FILE");
	} else {
		if (!(s = json_dumps(emb, JSON_COMPACT)))
			return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
		rc = gw_audit_checkpoint_parse(v, s, strlen(s), c, who, err);
		free(s);
	}
	if (rc)
		return rc;
	if (signer)
		snprintf(signer, 256, "%s", who);
	if (want && want->origin && strcmp(want->origin, c->origin))
		return gw_err_set(err, GW_ERR_REFUSED,
				  "checkpoint %llu is of the log '%s', not "
				  "'%s' (--origin): it was published by "
				  "another gateway",
				  (unsigned long long)c->seq, c->origin,
				  want->origin);
	if (want && want->signer && strcmp(want->signer, who))
		return gw_err_set(err, GW_ERR_REFUSED,
				  "checkpoint %llu is signed by '%s', not "
				  "'%s' (--signer)",
				  (unsigned long long)c->seq,
				  who[0] ? who : "nobody (unsigned)",
				  want->signer);
	return GW_OK;
}

/* An entry object of a proof has exactly the members of docs/AUDIT.md:
 * index a non-negative integer, the others strings. NULL when it does,
 * else the first offending member's name. */
static const char *bad_entry_member(const json_t *e)
{
	static const char *const str[] = { "digest", "direction", "event",
					   "msgId",  "msgKind",	  "outcome",
					   "reason", "receiver",  "sender",
					   "signer", "time" };
	const json_t *ix = json_object_get(e, "index");
	const char *k;
	json_t *val;
	size_t i;

	if (!json_is_integer(ix) || json_integer_value(ix) < 0)
		return "index";
	for (i = 0; i < GW_ARRAY_LEN(str); i++)
		if (!json_is_string(json_object_get(e, str[i])))
			return str[i];
	json_object_foreach((json_t *)e, k, val)
	{
		int known = !strcmp(k, "index");

		for (i = 0; !known && i < GW_ARRAY_LEN(str); i++)
			known = !strcmp(k, str[i]);
		if (!known)
			return k;
	}
	return NULL;
}

static int read_path(const json_t *arr, uint8_t p[GW_MERKLE_MAX_PROOF][32],
		     size_t *len)
{
	size_t i;

	if (!json_is_array(arr) || json_array_size(arr) > GW_MERKLE_MAX_PROOF)
		return -1;
	for (i = 0; i < json_array_size(arr); i++)
		if (from_hex(json_string_value(json_array_get(arr, i)), p[i],
			     32))
			return -1;
	*len = json_array_size(arr);
	return 0;
}

static gw_rc load_doc(const char *text, size_t len, const char *type,
		      json_t **out, struct gw_err *err)
{
	json_error_t je;
	const char *t;

	*out = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (!*out)
		return gw_err_set(err, GW_ERR_PARSE, "proof: line %d: %s",
				  je.line, je.text);
	t = json_string_value(json_object_get(*out, "type"));
	if (!t || strcmp(t, type) ||
	    json_integer_value(json_object_get(*out, "version")) != 1) {
		json_decref(*out);
		*out = NULL;
		return gw_err_set(err, GW_ERR_PARSE,
				  "not a proof of type '%s', version 1", type);
	}
	return GW_OK;
}

static int cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;

	return a < b ? -1 : a > b;
}

gw_rc gw_audit_verify_proof(const struct gw_sign_verifier *v,
			    const struct gw_audit_expect *want,
			    const char *proof, size_t len,
			    const char *checkpoint, size_t clen,
			    struct gw_audit_proof_info *info,
			    struct gw_err *err)
{
	uint64_t *seen = NULL;
	const char *msg = NULL;
	struct gw_audit_checkpoint c;
	struct gw_audit_proof_info inf;
	json_t *doc = NULL, *ents, *it;
	struct gw_buf b;
	size_t i;
	gw_rc rc;

	memset(&c, 0, sizeof(c));
	memset(&inf, 0, sizeof(inf));
	gw_buf_init(&b);
	if ((rc = load_doc(proof, len, "lienthong-audit-inclusion", &doc,
			   err)) ||
	    (rc = proof_cp(v, want, json_object_get(doc, "checkpoint"),
			   checkpoint, clen, &c, inf.signer, err)))
		goto out;
	snprintf(inf.origin, sizeof(inf.origin), "%s", c.origin);
	inf.seq = c.seq;
	inf.size = c.size;
	if (json_integer_value(json_object_get(doc, "treeSize")) !=
	    (json_int_t)c.size) {
		rc = gw_err_set(err, GW_ERR_REFUSED,
				"the proof is for a tree of %lld entries, the "
				"checkpoint %llu has %llu",
				(long long)json_integer_value(
					json_object_get(doc, "treeSize")),
				(unsigned long long)c.seq,
				(unsigned long long)c.size);
		goto out;
	}
	ents = json_object_get(doc, "entries");
	if (!json_is_array(ents) || !json_array_size(ents)) {
		rc = gw_err_set(err, GW_ERR_PARSE, "the proof has no entries");
		goto out;
	}
	if (!(seen = gw_malloc(json_array_size(ents) * sizeof(*seen)))) {
		rc = gw_err_set(err, GW_ERR_NOMEM, "out of memory");
		goto out;
	}
	json_array_foreach(ents, i, it)
	{
		const char *bad;

		uint8_t path[GW_MERKLE_MAX_PROOF][32], leaf[32];
		size_t plen = 0;
		json_t *e = json_object_get(it, "entry"),
		       *li = json_object_get(it, "leafIndex");
		struct gw_err e2;

		if (!json_is_object(e) || !json_is_integer(li) ||
		    json_integer_value(li) < 0 ||
		    read_path(json_object_get(it, "path"), path, &plen)) {
			rc = gw_err_set(
				err, GW_ERR_PARSE,
				"proof entry %zu: entry, leafIndex or "
				"path (hex hashes) missing or malformed",
				i);
			goto out;
		}
		if ((bad = bad_entry_member(e))) {
			rc = gw_err_set(err, GW_ERR_PARSE,
					"proof entry %zu: member '%s' of the "
					"entry is missing, of the wrong type "
					"(index is an integer, the others "
					"strings) or unknown",
					i, bad);
			goto out;
		}
		if (!msg) {
			msg = json_string_value(json_object_get(e, "msgId"));
		} else if (strcmp(msg, json_string_value(
					       json_object_get(e, "msgId")))) {
			rc = gw_err_set(
				err, GW_ERR_REFUSED,
				"proof entry %zu is of message '%s', "
				"entry 0 of '%s': a proof covers one "
				"message",
				i,
				json_string_value(json_object_get(e, "msgId")),
				msg);
			goto out;
		}
		seen[i] = (uint64_t)json_integer_value(li);
		if (json_integer_value(json_object_get(e, "index")) !=
		    json_integer_value(li)) {
			rc = gw_err_set(err, GW_ERR_REFUSED,
					"proof entry %zu: the entry's index "
					"differs from leafIndex",
					i);
			goto out;
		}
		b.len = 0;
		if ((rc = gw_jcs_serialize(e, &b, err)) ||
		    (rc = gw_merkle_leaf_hash(b.data, b.len, leaf, err)))
			goto out;
		gw_err_clear(&e2);
		if (gw_merkle_verify_inclusion(
			    leaf, (uint64_t)json_integer_value(li), c.size,
			    (const uint8_t(*)[32])path, plen, c.root, &e2)) {
			rc = gw_err_set(
				err, GW_ERR_REFUSED,
				"entry %lld (%s, %s) is not proven in "
				"checkpoint %llu: %s",
				(long long)json_integer_value(li),
				json_string_value(json_object_get(e, "msgId")),
				json_string_value(json_object_get(e, "event")),
				(unsigned long long)c.seq, e2.msg);
			goto out;
		}
		inf.entries++;
	}
	qsort(seen, inf.entries, sizeof(*seen), cmp_u64);
	for (i = 1; i < inf.entries; i++)
		if (seen[i] == seen[i - 1]) {
			rc = gw_err_set(err, GW_ERR_REFUSED,
					"leafIndex %llu appears more than once "
					"in the proof: each entry is proven "
					"once",
					(unsigned long long)seen[i]);
			goto out;
		}
	snprintf(inf.msg_id, sizeof(inf.msg_id), "%s", msg);
	if (info)
		*info = inf;
out:
	free(seen);
	json_decref(doc);
	gw_audit_checkpoint_release(&c);
	gw_buf_release(&b);
	return rc;
}

gw_rc gw_audit_verify_consistency(const struct gw_sign_verifier *v,
				  const struct gw_audit_expect *want,
				  const char *proof, size_t len,
				  const char *old_cp, size_t old_len,
				  const char *new_cp, size_t new_len,
				  struct gw_audit_proof_info *info,
				  struct gw_err *err)
{
	char signer[256];
	struct gw_audit_checkpoint c1, c2;
	uint8_t path[GW_MERKLE_MAX_PROOF][32];
	json_t *doc = NULL;
	size_t plen = 0;
	struct gw_err e2;
	gw_rc rc;

	memset(&c1, 0, sizeof(c1));
	memset(&c2, 0, sizeof(c2));
	if ((rc = load_doc(proof, len, "lienthong-audit-consistency", &doc,
			   err)) ||
	    (rc = proof_cp(v, want, json_object_get(doc, "from"), old_cp,
			   old_len, &c1, NULL, err)) ||
	    (rc = proof_cp(v, want, json_object_get(doc, "to"), new_cp, new_len,
			   &c2, signer, err)))
		goto out;
	if (strcmp(c1.origin, c2.origin)) {
		rc = gw_err_set(err, GW_ERR_REFUSED,
				"the checkpoints are of two logs ('%s' and "
				"'%s'): a consistency proof is between "
				"checkpoints of one log",
				c1.origin, c2.origin);
		goto out;
	}
	if (read_path(json_object_get(doc, "path"), path, &plen)) {
		rc = gw_err_set(
			err, GW_ERR_PARSE,
			"proof: path (hex hashes) missing or malformed");
		goto out;
	}
	gw_err_clear(&e2);
	if (gw_merkle_verify_consistency(c1.size, c2.size,
					 (const uint8_t(*)[32])path, plen,
					 c1.root, c2.root, &e2))
		rc = gw_err_set(err, GW_ERR_REFUSED,
				"checkpoint %llu (size %llu) is not a prefix "
				"of checkpoint %llu (size %llu): %s",
				(unsigned long long)c1.seq,
				(unsigned long long)c1.size,
				(unsigned long long)c2.seq,
				(unsigned long long)c2.size, e2.msg);
	if (!rc && info) {
		memset(info, 0, sizeof(*info));
		info->seq = c2.seq;
		info->size = c2.size;
		info->seq1 = c1.seq;
		info->size1 = c1.size;
		snprintf(info->signer, sizeof(info->signer), "%s", signer);
		snprintf(info->origin, sizeof(info->origin), "%s", c2.origin);
	}
out:
	json_decref(doc);
	gw_audit_checkpoint_release(&c1);
	gw_audit_checkpoint_release(&c2);
	return rc;
}

/* ---- payload archive ---- */

gw_rc gw_audit_payload(struct gw_audit *a, const char *digest,
		       struct gw_buf *out, struct gw_err *err)
{
	sqlite3_stmt *st = NULL;
	gw_rc rc = GW_OK;

	if ((rc = gw_audit_flush(a, err)))
		return rc;
	pthread_mutex_lock(&a->dbmu);
	if (sqlite3_prepare_v2(
		    a->db, "SELECT len, data FROM payloads WHERE digest = ?1",
		    -1, &st, NULL)) {
		rc = db_err(a->db, err, "read a payload");
		goto out;
	}
	sqlite3_bind_text(st, 1, digest, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW) {
		rc = gw_err_set(err, GW_ERR_USAGE,
				"no archived payload with SHA-256 %s (never "
				"archived, or past the retention)",
				digest);
		goto out;
	} else {
		sqlite3_int64 n = sqlite3_column_int64(st, 0);
		uLongf dlen = (uLongf)n;
		size_t start = out->len;

		if (n < 0 || (size_t)n > ((size_t)1 << 31)) {
			rc = gw_err_set(err, GW_ERR_REFUSED,
					"archived payload %s: bad length",
					digest);
			goto out;
		}
		if (out->cap < start + (size_t)n + 1) {
			char *m = gw_realloc(out->data, start + (size_t)n + 1);

			if (!m) {
				rc = gw_err_set(err, GW_ERR_NOMEM,
						"out of memory");
				goto out;
			}
			out->data = m;
			out->cap = start + (size_t)n + 1;
		}
		if (uncompress((Bytef *)out->data + start, &dlen,
			       sqlite3_column_blob(st, 1),
			       (uLong)sqlite3_column_bytes(st, 1)) != Z_OK ||
		    dlen != (uLongf)n) {
			rc = gw_err_set(err, GW_ERR_REFUSED,
					"archived payload %s is damaged",
					digest);
			goto out;
		}
		out->len = start + (size_t)n;
		out->data[out->len] = '\0';
	}
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&a->dbmu);
	return rc;
}

gw_rc gw_audit_prune(struct gw_audit *a, struct gw_err *err)
{
	sqlite3_stmt *st = NULL;
	gw_rc rc = GW_OK;

	if (!a->o.retention_days)
		return GW_OK;
	pthread_mutex_lock(&a->dbmu);
	if (sqlite3_prepare_v2(a->db, "DELETE FROM payloads WHERE time_ms < ?1",
			       -1, &st, NULL)) {
		rc = db_err(a->db, err, "prune payloads");
		goto out;
	}
	sqlite3_bind_int64(
		st, 1, gw_now_ms() - (int64_t)a->o.retention_days * 86400000);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = db_err(a->db, err, "prune payloads");
	else if (sqlite3_changes(a->db))
		gw_log(GW_LOG_INFO, "audit-prune", NULL,
		       "%d archived payloads past %u days dropped",
		       sqlite3_changes(a->db), a->o.retention_days);
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&a->dbmu);
	return rc;
}
