/* test_outbox.c - the durable outbox, routing and the backoff policy. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "flow/deliver.h"
#include "store/inbox.h"
#include "store/outbox.h"

/* Remove the outbox o.db in dir (with its WAL files) and dir. */
static void remove_store(const char *dir)
{
	static const char *const files[] = { "o.db", "o.db-wal", "o.db-shm" };
	char path[64];
	size_t i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		unlink(path);
	}
	rmdir(dir);
}

static void test_outbox__enqueue_dedup_and_due(void **state)
{
	char dir[] = "/tmp/gwoutXXXXXX", path[64];
	const char *dests[] = { "hub", "report", NULL };
	struct gw_out_msg m = {
		"id-1", "plan", "000.00.00.G12", "application/json",
		"{}",	2,	dests,		 ""
	};
	struct gw_outbox *o = NULL;
	struct gw_due *due;
	struct gw_err err;
	size_t n;
	int dup = -1;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/o.db", dir);
	assert_int_equal(gw_outbox_open_sqlite(path, &o, &err), GW_OK);
	assert_int_equal(gw_outbox_enqueue(o, &m, 1, &dup, &err), GW_OK);
	assert_int_equal(dup, 0);
	assert_int_equal(gw_outbox_enqueue(o, &m, 1, &dup, &err), GW_OK);
	assert_int_equal(dup, 1);
	m.body = "{ }";
	m.len = 3;
	assert_int_equal(gw_outbox_enqueue(o, &m, 1, &dup, &err),
			 GW_ERR_REFUSED);
	assert_int_equal(gw_outbox_due(o, gw_now_ms() + 1, 10, &due, &n, &err),
			 GW_OK);
	assert_int_equal(n, 2);
	assert_string_equal(due[0].body, "{}");
	assert_int_equal(gw_outbox_begin(o, &err), GW_OK);
	assert_int_equal(gw_outbox_record(o, "id-1", "hub", gw_now_ms(), 200,
					  NULL, GW_DLV_DONE, 0, &err),
			 GW_OK);
	assert_int_equal(gw_outbox_record(o, "id-1", "report", gw_now_ms(), 503,
					  "HTTP 503", GW_DLV_PENDING,
					  gw_now_ms() + 60000, &err),
			 GW_OK);
	assert_int_equal(gw_outbox_commit(o, &err), GW_OK);
	gw_outbox_close(o);
	/* reopened: what was committed is there */
	assert_int_equal(gw_outbox_open_sqlite(path, &o, &err), GW_OK);
	assert_int_equal(gw_outbox_due(o, gw_now_ms() + 1, 10, &due, &n, &err),
			 GW_OK);
	assert_int_equal(n, 0);
	assert_int_equal(
		gw_outbox_due(o, gw_now_ms() + 120000, 10, &due, &n, &err),
		GW_OK);
	assert_int_equal(n, 1);
	assert_string_equal(due[0].dest, "report");
	assert_int_equal(due[0].attempts, 1);
	gw_outbox_close(o);
	remove_store(dir);
}

/* Dedup by canonical content when both sides have it (a resend signed
 * anew), by the bytes otherwise; a lease holds a delivery back without
 * counting an attempt. */
static void test_outbox__content_dedup_and_lease(void **state)
{
	char dir[] = "/tmp/gwoutXXXXXX", path[64];
	const char *dests[] = { "hub", NULL };
	struct gw_out_msg m = { "id-2",	 "plan", "s",	"application/jose+json",
				"sig-1", 5,	 dests, "" };
	struct gw_outbox *o = NULL;
	struct gw_due *due;
	struct gw_err err;
	size_t n;
	int dup = -1;
	int64_t now = gw_now_ms();

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/o.db", dir);
	assert_int_equal(gw_outbox_open_sqlite(path, &o, &err), GW_OK);
	snprintf(m.content_sha, sizeof(m.content_sha), "%064d", 1);
	assert_int_equal(gw_outbox_enqueue(o, &m, 1, &dup, &err), GW_OK);
	assert_int_equal(dup, 0);
	m.body = "sig-2"; /* signed again: other bytes, same content */
	assert_int_equal(gw_outbox_enqueue(o, &m, 1, &dup, &err), GW_OK);
	assert_int_equal(dup, 1);
	snprintf(m.content_sha, sizeof(m.content_sha), "%064d", 2);
	assert_int_equal(gw_outbox_enqueue(o, &m, 1, &dup, &err),
			 GW_ERR_REFUSED);
	assert_non_null(strstr(err.msg, "other content"));
	m.content_sha[0] = '\0'; /* no content digest: the bytes decide */
	assert_int_equal(gw_outbox_enqueue(o, &m, 1, &dup, &err),
			 GW_ERR_REFUSED);
	m.body = "sig-1";
	assert_int_equal(gw_outbox_enqueue(o, &m, 1, &dup, &err), GW_OK);
	assert_int_equal(dup, 1);
	/* lease: not due until it ends, no attempt counted */
	assert_int_equal(gw_outbox_begin(o, &err), GW_OK);
	assert_int_equal(gw_outbox_lease(o, "id-2", "hub", now + 60000, &err),
			 GW_OK);
	assert_int_equal(gw_outbox_commit(o, &err), GW_OK);
	assert_int_equal(gw_outbox_due(o, now + 1000, 10, &due, &n, &err),
			 GW_OK);
	assert_int_equal(n, 0);
	assert_int_equal(gw_outbox_due(o, now + 60000, 10, &due, &n, &err),
			 GW_OK);
	assert_int_equal(n, 1);
	assert_int_equal(due[0].attempts, 0);
	/* a lease never revives a delivery that is done */
	assert_int_equal(gw_outbox_begin(o, &err), GW_OK);
	assert_int_equal(gw_outbox_record(o, "id-2", "hub", now, 200, NULL,
					  GW_DLV_DONE, 0, &err),
			 GW_OK);
	assert_int_equal(gw_outbox_lease(o, "id-2", "hub", now, &err), GW_OK);
	assert_int_equal(gw_outbox_receipt(o, "id-2", "hub", now, "r", 1,
					   "receipt verified", &err),
			 GW_OK);
	assert_int_equal(gw_outbox_commit(o, &err), GW_OK);
	assert_int_equal(gw_outbox_due(o, now + 120000, 10, &due, &n, &err),
			 GW_OK);
	assert_int_equal(n, 0);
	gw_outbox_close(o);
	remove_store(dir);
}

static void test_outbox__backoff(void **state)
{
	struct gw_dest d;

	(void)state;
	memset(&d, 0, sizeof(d));
	d.backoff_ms = 1000;
	d.backoff_max_ms = 8000;
	assert_int_equal(gw_deliver_backoff(&d, 1, 0.5), 1000);
	assert_int_equal(gw_deliver_backoff(&d, 2, 0.5), 2000);
	assert_int_equal(gw_deliver_backoff(&d, 4, 0.5), 8000);
	assert_int_equal(gw_deliver_backoff(&d, 40, 0.5), 8000);
	assert_int_equal(gw_deliver_backoff(&d, 1, 0.0), 500);
	assert_true(gw_deliver_backoff(&d, 1, 0.999) < 1500);
}

static void test_outbox__routes(void **state)
{
	char *kinds[] = { "indicator.report", NULL };
	char *to1[] = { "hub", "report", NULL }, *to2[] = { "hub", NULL };
	char *cls[] = { "public", NULL };
	struct gw_route r[2];
	struct gw_dest d[2];
	struct gw_forwarding f = { d, 2, r, 2, NULL, NULL };
	json_t *msg = json_pack("{s:s, s:{s:s}, s:[{s:s}], s:s}", "kind",
				"indicator.report", "sender", "orgId", "x",
				"receivers", "orgId", "y", "classification",
				"internal");
	const char **out;

	(void)state;
	memset(r, 0, sizeof(r));
	memset(d, 0, sizeof(d));
	d[0].name = "hub";
	d[1].name = "report";
	r[0].kinds = kinds;
	r[0].dests = to1;
	r[1].classifications = cls;
	r[1].dests = to2;
	out = gw_forwarding_route(&f, msg);
	assert_string_equal(out[0], "hub");
	assert_string_equal(out[1], "report");
	assert_null(out[2]);
	free(out);
	json_object_set_new(msg, "kind", json_string("plan"));
	out = gw_forwarding_route(&f, msg);
	assert_null(out[0]);
	free(out);
	json_decref(msg);
}

/* Sync state keeps the id of the message that carried each digest; an
 * outbox from before that column existed gets it on open, rows kept. */
static void test_outbox__sync_state_upgrade(void **state)
{
	char dir[] = "/tmp/gwoutXXXXXX", path[64], digest[65], id[37];
	struct gw_outbox *o = NULL;
	struct gw_err err;
	sqlite3 *db;

	(void)state;
	gw_err_clear(&err);
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/o.db", dir);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(
		sqlite3_exec(db,
			     "CREATE TABLE sync_state (source TEXT NOT NULL,"
			     " key TEXT NOT NULL, sha256 TEXT NOT NULL,"
			     " PRIMARY KEY (source, key));"
			     "INSERT INTO sync_state VALUES('s','k','aa');",
			     NULL, NULL, NULL),
		SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(gw_outbox_open_sqlite(path, &o, &err), GW_OK);
	assert_int_equal(gw_outbox_sync_last(o, "s", "k", digest, id, &err),
			 GW_OK);
	assert_string_equal(digest, "aa");
	assert_string_equal(id, "");
	assert_int_equal(gw_outbox_sync_record(
				 o, "s", "k", "bb",
				 "1b975771-9ac1-539c-b186-00f6efbe019c", &err),
			 GW_OK);
	gw_outbox_close(o);
	/* reopened (the column is there now): both kept */
	assert_int_equal(gw_outbox_open_sqlite(path, &o, &err), GW_OK);
	assert_int_equal(gw_outbox_sync_last(o, "s", "k", digest, id, &err),
			 GW_OK);
	assert_string_equal(digest, "bb");
	assert_string_equal(id, "1b975771-9ac1-539c-b186-00f6efbe019c");
	assert_int_equal(gw_outbox_sync_last(o, "s", "none", digest, id, &err),
			 GW_OK);
	assert_string_equal(digest, "");
	assert_string_equal(id, "");
	/* the folder sync's call records no id */
	assert_int_equal(gw_outbox_sync_put(o, "s", "k", "cc", &err), GW_OK);
	assert_int_equal(gw_outbox_sync_last(o, "s", "k", digest, id, &err),
			 GW_OK);
	assert_string_equal(digest, "cc");
	assert_string_equal(id, "");
	gw_outbox_close(o);
	remove_store(dir);
}

/* A second backend plugs in through struct gw_outbox_ops: a memory
 * outbox with only the required ops; the optional ones it leaves NULL are
 * answered by store/outbox.c. */
static gw_rc mem_enqueue(struct gw_outbox *o, const struct gw_out_msg *m,
			 size_t n, int *dup, struct gw_err *err)
{
	size_t i;

	(void)m;
	(void)err;
	for (i = 0; dup && i < n; i++)
		dup[i] = 0;
	*(size_t *)o->impl += n;
	return GW_OK;
}

static gw_rc mem_due(struct gw_outbox *o, int64_t now_ms, size_t max,
		     struct gw_due **out, size_t *n, struct gw_err *err)
{
	(void)now_ms;
	(void)max;
	(void)err;
	gw_outbox_due_release(o);
	*out = NULL;
	*n = 0;
	return GW_OK;
}

static gw_rc mem_commit(struct gw_outbox *o, struct gw_err *err)
{
	(void)o;
	(void)err;
	return GW_OK;
}

static gw_rc mem_begin(struct gw_outbox *o, int durable, struct gw_err *err)
{
	(void)durable;
	return mem_commit(o, err);
}

static gw_rc mem_record(struct gw_outbox *o, const char *msg_id,
			const char *dest, int64_t now_ms, int http_status,
			const char *error, enum gw_dlv_state state,
			int64_t next_ms, struct gw_err *err)
{
	(void)o, (void)msg_id, (void)dest, (void)now_ms, (void)http_status;
	(void)error, (void)state, (void)next_ms, (void)err;
	return GW_OK;
}

static gw_rc mem_lease(struct gw_outbox *o, const char *msg_id,
		       const char *dest, int64_t until_ms, struct gw_err *err)
{
	(void)o, (void)msg_id, (void)dest, (void)until_ms, (void)err;
	return GW_OK;
}

static void mem_close(struct gw_outbox *o)
{
	free(o->impl);
}

static const struct gw_outbox_ops mem_ops = {
	.enqueue = mem_enqueue,
	.due = mem_due,
	.begin = mem_begin,
	.commit = mem_commit,
	.record = mem_record,
	.lease = mem_lease,
	.close = mem_close,
};

static gw_rc mem_open(const char *where, struct gw_outbox **out,
		      struct gw_err *err)
{
	struct gw_outbox *o = calloc(1, sizeof(*o));

	(void)where;
	(void)err;
	if (!o || !(o->impl = calloc(1, sizeof(size_t)))) {
		free(o);
		return GW_ERR_NOMEM;
	}
	o->ops = &mem_ops;
	*out = o;
	return GW_OK;
}

static void test_outbox__backends(void **state)
{
	const struct gw_store_backend mem = { "memory", mem_open, NULL, NULL };
	const char *dests[] = { "hub", NULL };
	struct gw_out_msg m = { "id-1", "plan", "s",   "application/json",
				"{}",	2,	dests, "" };
	char dir[] = "/tmp/gwoutXXXXXX", path[64], digest[65], id[37];
	struct gw_outbox *o = NULL;
	struct gw_inbox *ib = NULL;
	struct gw_err err;
	int has = 1;

	(void)state;
	assert_ptr_equal(gw_store_backend_find("sqlite"), &gw_store_sqlite);
	assert_null(gw_store_backend_find("nosuch"));
	assert_null(gw_store_backend_find(NULL));

	/* the SQLite backend opened by name */
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/o.db", dir);
	assert_int_equal(
		gw_outbox_open(gw_store_backend_find("sqlite"), path, &o, &err),
		GW_OK);
	assert_int_equal(gw_outbox_enqueue(o, &m, 1, NULL, &err), GW_OK);
	assert_int_equal(gw_outbox_has(o, "id-1", &has, &err), GW_OK);
	assert_int_equal(has, 1);
	assert_int_equal(gw_outbox_retry(o, "id-2", 0, &err), GW_ERR_REFUSED);
	assert_int_equal(gw_outbox_drop(o, "id-1", &err), GW_OK);
	assert_int_equal(gw_outbox_drop(o, "id-1", &err), GW_ERR_REFUSED);
	gw_outbox_close(o);
	remove_store(dir);

	/* a backend without the optional ops */
	assert_int_equal(gw_outbox_open(&mem, "", &o, &err), GW_OK);
	assert_int_equal(gw_outbox_enqueue(o, &m, 1, NULL, &err), GW_OK);
	assert_int_equal(*(size_t *)o->impl, 1);
	assert_int_equal(gw_outbox_has(o, "id-1", &has, &err),
			 GW_ERR_UNSUPPORTED);
	assert_int_equal(has, 0);
	assert_int_equal(gw_outbox_list(o, NULL, stdout, &err),
			 GW_ERR_UNSUPPORTED);
	assert_int_equal(gw_outbox_sync_last(o, "s", "k", digest, id, &err),
			 GW_ERR_UNSUPPORTED);
	assert_string_equal(digest, "");
	assert_int_equal(
		gw_outbox_receipt(o, "id-1", "hub", 0, "r", 1, NULL, &err),
		GW_OK);
	assert_int_equal(gw_outbox_stats(o, NULL, NULL, &err), GW_OK);
	gw_outbox_close(o);
	assert_int_equal(gw_inbox_open_backend(&mem, "", &ib, &err),
			 GW_ERR_UNSUPPORTED);
	assert_null(ib);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_outbox__enqueue_dedup_and_due),
		cmocka_unit_test(test_outbox__content_dedup_and_lease),
		cmocka_unit_test(test_outbox__backoff),
		cmocka_unit_test(test_outbox__routes),
		cmocka_unit_test(test_outbox__sync_state_upgrade),
		cmocka_unit_test(test_outbox__backends),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
