/* test_server.c - the parts of the inbound server that need no socket:
 * partner registry (matching, access rights, signers), limits, problem
 * bodies, loopback detection, fingerprints, and the inbox store. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>
#include <unistd.h>

#include "store/inbox.h"
#include "base/json.h"
#include "net/server.h"
#include "net/tls.h"

#define FP_COLONS                                                            \
	"AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:" \
	"67:89:AB:CD:EF:01:23:45:67:89"
#define FP_HEX \
	"abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789"

static json_t *parse(const char *s)
{
	json_t *j = NULL;
	struct gw_err err;

	assert_int_equal(gw_json_parse(s, strlen(s), "test", &j, &err), GW_OK);
	return j;
}

static const char partners_json[] =
	"[{\"name\": \"vpcp\", \"subject\": \"CN=Partner Agency A,O=T,C=VN\","
	"  \"orgId\": \"000.00.00.G22\", \"kinds\": [\"task.assignment\"],"
	"  \"receivers\": [\"000.00.00.G12\"],"
	"  \"signers\": [\"CN=VPCP Signing,O=T,C=VN\"]},"
	" {\"name\": \"hub\", \"sha256\": \"" FP_COLONS "\","
	"  \"orgId\": \"000.00.00.G16\", \"kinds\": [\"indicator.report\"],"
	"  \"receivers\": [\"*\"]}]";

static void test_server__partner_match(void **state)
{
	json_t *arr = parse(partners_json);
	struct gw_partners p;
	struct gw_err err;
	const struct gw_partner *pt;

	(void)state;
	assert_int_equal(gw_partners_load(arr, &p, &err), GW_OK);
	assert_int_equal(p.n, 2);
	/* by subject */
	pt = gw_partners_match(&p, "CN=Partner Agency A,O=T,C=VN", "00");
	assert_non_null(pt);
	assert_string_equal(pt->name, "vpcp");
	/* by fingerprint, written with colons and capitals in the file */
	pt = gw_partners_match(&p, "CN=Anything", FP_HEX);
	assert_non_null(pt);
	assert_string_equal(pt->name, "hub");
	assert_string_equal(pt->sha256, FP_HEX);
	/* neither */
	assert_null(gw_partners_match(&p, "CN=Partner Agency B,O=T,C=VN", ""));
	assert_null(gw_partners_match(&p, "", ""));
	/* a subject is compared whole, not as a prefix */
	assert_null(gw_partners_match(&p, "CN=Partner Agency A,O=T", NULL));
	gw_partners_release(&p);
	json_decref(arr);
}

/* signed: false is explicit; absent or true keeps wire formats signed */
static void test_server__partner_signed_false(void **state)
{
	json_t *arr = parse("[{\"name\": \"axis\", \"subject\": \"CN=Axis\","
			    "  \"orgId\": \"000.00.00.G22\", \"kinds\": [],"
			    "  \"receivers\": [], \"signed\": false},"
			    " {\"name\": \"vpcp\", \"subject\": \"CN=VPCP\","
			    "  \"orgId\": \"000.00.00.G22\", \"kinds\": [],"
			    "  \"receivers\": [], \"signed\": true},"
			    " {\"name\": \"hub\", \"subject\": \"CN=Hub\","
			    "  \"orgId\": \"000.00.00.G16\", \"kinds\": [],"
			    "  \"receivers\": []}]");
	struct gw_partners p;
	struct gw_err err;

	(void)state;
	assert_int_equal(gw_partners_load(arr, &p, &err), GW_OK);
	assert_int_equal(p.n, 3);
	assert_int_equal(p.v[0].unsigned_wire, 1);
	assert_int_equal(p.v[1].unsigned_wire, 0);
	assert_int_equal(p.v[2].unsigned_wire, 0);
	gw_partners_release(&p);
	json_decref(arr);
}

static void test_server__partner_duplicates_refused(void **state)
{
	json_t *arr = parse(
		"[{\"name\": \"a\", \"subject\": \"CN=X\", \"orgId\": \"1\","
		"  \"kinds\": [], \"receivers\": []},"
		" {\"name\": \"b\", \"subject\": \"CN=X\", \"orgId\": \"2\","
		"  \"kinds\": [], \"receivers\": []}]");
	json_t *bad = parse("[{\"name\": \"a\", \"sha256\": \"abc\","
			    "  \"orgId\": \"1\", \"kinds\": [], "
			    "\"receivers\": []}]");
	struct gw_partners p;
	struct gw_err err;

	(void)state;
	assert_int_equal(gw_partners_load(arr, &p, &err), GW_ERR_CONFIG);
	assert_non_null(strstr(err.msg, "/partners/1/subject"));
	assert_int_equal(p.n, 0);
	assert_int_equal(gw_partners_load(bad, &p, &err), GW_ERR_CONFIG);
	assert_non_null(strstr(err.msg, "not a SHA-256 fingerprint"));
	assert_int_equal(gw_partners_load(NULL, &p, &err), GW_OK);
	assert_int_equal(p.n, 0);
	json_decref(arr);
	json_decref(bad);
}

static void test_server__partner_rights(void **state)
{
	json_t *arr = parse(partners_json);
	json_t *to_ministry = parse("[{\"orgId\": \"000.00.00.G12\"}]");
	json_t *to_two = parse("[{\"orgId\": \"000.00.00.G12\"},"
			       " {\"orgId\": \"000.00.00.G08\"}]");
	struct gw_partners p;
	struct gw_err err;
	char why[256];

	(void)state;
	assert_int_equal(gw_partners_load(arr, &p, &err), GW_OK);
	assert_true(gw_partner_allows(&p.v[0], "task.assignment",
				      "000.00.00.G22", to_ministry, why,
				      sizeof(why)));
	assert_false(gw_partner_allows(&p.v[0], "plan", "000.00.00.G22",
				       to_ministry, why, sizeof(why)));
	assert_non_null(strstr(why, "may not send 'plan'"));
	assert_false(gw_partner_allows(&p.v[0], "task.assignment",
				       "000.00.00.G22", to_two, why,
				       sizeof(why)));
	assert_non_null(strstr(why, "receiver '000.00.00.G08'"));
	assert_false(gw_partner_allows(&p.v[0], "task.assignment",
				       "000.00.00.G12", to_ministry, why,
				       sizeof(why)));
	assert_non_null(strstr(why, "sender is '000.00.00.G12'"));
	/* "*" is any receiver */
	assert_true(gw_partner_allows(&p.v[1], "indicator.report",
				      "000.00.00.G16", to_two, why,
				      sizeof(why)));
	/* signers: its own subject, the client certificate, listed ones */
	assert_true(gw_partner_signer_ok(&p.v[0], "CN=Other",
					 "CN=Partner Agency A,O=T,C=VN"));
	assert_true(gw_partner_signer_ok(&p.v[0], "CN=Other", "CN=Other"));
	assert_true(gw_partner_signer_ok(&p.v[0], NULL,
					 "CN=VPCP Signing,O=T,C=VN"));
	assert_false(gw_partner_signer_ok(&p.v[0], "CN=Other", "CN=Rogue"));
	assert_false(gw_partner_signer_ok(&p.v[0], "CN=Other", ""));
	gw_partners_release(&p);
	json_decref(arr);
	json_decref(to_ministry);
	json_decref(to_two);
}

static void test_server__limits(void **state)
{
	json_t *none = parse("{}");
	json_t *some = parse("{\"limits\": {\"max_body_bytes\": 2048,"
			     " \"timeout_s\": 5}}");
	json_t *bad = parse("{\"limits\": {\"max_connections\": 0}}");
	struct gw_server_limits l;
	struct gw_err err;

	(void)state;
	assert_int_equal(gw_server_limits_parse(none, &l, &err), GW_OK);
	assert_int_equal(l.max_body, 8388608);
	assert_int_equal(l.max_header, 16384);
	assert_int_equal(l.max_connections, 256);
	assert_int_equal(l.timeout_s, 30);
	assert_int_equal(gw_server_limits_parse(some, &l, &err), GW_OK);
	assert_int_equal(l.max_body, 2048);
	assert_int_equal(l.timeout_s, 5);
	assert_int_equal(l.max_connections, 256);
	assert_int_equal(gw_server_limits_parse(bad, &l, &err), GW_ERR_CONFIG);
	assert_non_null(strstr(err.msg, "/server/limits/max_connections"));
	json_decref(none);
	json_decref(some);
	json_decref(bad);
}

static void test_server__problem_json(void **state)
{
	struct gw_buf b;
	json_t *errors = json_pack("[s]", "message: /id: not a uuid");
	json_t *j;

	(void)state;
	gw_buf_init(&b);
	assert_int_equal(gw_problem_render(422, "invalid", "Unprocessable",
					   "schema: 1 error", "/v1/messages",
					   errors, 0, &b),
			 GW_OK);
	j = parse(b.data);
	assert_string_equal(json_string_value(json_object_get(j, "type")),
			    "urn:lienthong:problem:invalid");
	assert_int_equal(json_integer_value(json_object_get(j, "status")), 422);
	assert_string_equal(json_string_value(json_object_get(j, "detail")),
			    "schema: 1 error");
	assert_string_equal(json_string_value(json_object_get(j, "instance")),
			    "/v1/messages");
	assert_int_equal(json_array_size(json_object_get(j, "errors")), 1);
	json_decref(j);
	gw_buf_release(&b);
	json_decref(errors);
}

static void test_server__problem_xml_escapes(void **state)
{
	struct gw_buf b;

	(void)state;
	gw_buf_init(&b);
	assert_int_equal(gw_problem_render(400, "malformed", "Bad Request",
					   "<a> & \"b\" \x01", NULL, NULL, 1,
					   &b),
			 GW_OK);
	assert_non_null(
		strstr(b.data, "<problem xmlns=\"urn:ietf:rfc:7807\">"));
	assert_non_null(strstr(b.data, "<status>400</status>"));
	assert_non_null(strstr(b.data, "&lt;a&gt; &amp; &quot;b&quot; ?"));
	assert_null(strstr(b.data, "<instance>"));
	gw_buf_release(&b);
}

static void test_server__loopback_and_fingerprints(void **state)
{
	char fp[65];

	(void)state;
	assert_true(gw_server_is_loopback("127.0.0.1"));
	assert_true(gw_server_is_loopback("127.8.9.10"));
	assert_true(gw_server_is_loopback("::1"));
	assert_true(gw_server_is_loopback("localhost"));
	assert_false(gw_server_is_loopback("0.0.0.0"));
	assert_false(gw_server_is_loopback("10.0.0.1"));
	assert_false(gw_server_is_loopback("::"));
	assert_false(gw_server_is_loopback("localhost.example"));
	assert_false(gw_server_is_loopback(NULL));
	assert_int_equal(gw_tls_fingerprint_norm(FP_COLONS, fp), 0);
	assert_string_equal(fp, FP_HEX);
	assert_int_equal(gw_tls_fingerprint_norm(FP_HEX, fp), 0);
	assert_int_equal(gw_tls_fingerprint_norm("abcd", fp), -1);
	assert_int_equal(gw_tls_fingerprint_norm(FP_HEX "00", fp), -1);
	assert_int_equal(gw_tls_fingerprint_norm("zz", fp), -1);
}

/* A store written before the undelivered table (user_version 0, state in
 * inbox.delivered): its pending messages are still pending after the
 * upgrade, in the order they came, and only once. */
static void test_server__inbox_upgrade_keeps_pending(void **state)
{
	char dir[] = "/tmp/gwinXXXXXX", path[64];
	struct gw_inbox *ib = NULL;
	struct gw_inbox_pending *p = NULL;
	struct gw_err err;
	const char *ids[] = { "late" };
	int64_t total = -1, pending = -1;
	sqlite3 *db = NULL;
	size_t n = 0;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/inbox.db", dir);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(
		sqlite3_exec(
			db,
			"CREATE TABLE inbox (id TEXT PRIMARY KEY, sha256 TEXT "
			"NOT "
			"NULL, partner TEXT NOT NULL, kind TEXT, sender TEXT, "
			"content_type TEXT NOT NULL, body BLOB NOT NULL, "
			"received_ms INTEGER NOT NULL, receipt BLOB NOT NULL, "
			"receipt_type TEXT NOT NULL, canonical TEXT, delivered "
			"INTEGER NOT NULL DEFAULT 0);"
			"CREATE INDEX inbox_pending ON inbox(delivered);"
			"INSERT INTO inbox VALUES ('late', 's', 'p', 'plan', "
			"'o', 'application/xml', '<l/>', 30, 'r', 'x', '{}', "
			"0),"
			"('done', 's', 'p', 'plan', 'o', 'application/xml', "
			"'<d/>', 10, 'r', 'x', '{}', 1),"
			"('early', 's', 'p', 'plan', 'o', 'application/xml', "
			"'<e/>', 20, 'r', 'x', '{}', 0);",
			NULL, NULL, NULL),
		SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(gw_inbox_open(path, &ib, &err), GW_OK);
	assert_int_equal(gw_inbox_counts(ib, &total, &pending, &err), GW_OK);
	assert_int_equal(total, 3);
	assert_int_equal(pending, 2);
	assert_int_equal(gw_inbox_pending(ib, 10, &p, &n, &err), GW_OK);
	assert_int_equal(n, 2);
	assert_string_equal(p[0].id, "early");
	assert_string_equal(p[1].id, "late");
	assert_string_equal(p[1].kind, "plan");
	gw_inbox_pending_free(p, n);
	assert_int_equal(gw_inbox_done(ib, ids, 1, &err), GW_OK);
	gw_inbox_close(ib);
	/* upgraded once: the column left at 0 does not make it pending */
	assert_int_equal(gw_inbox_open(path, &ib, &err), GW_OK);
	assert_int_equal(gw_inbox_pending(ib, 10, &p, &n, &err), GW_OK);
	assert_int_equal(n, 1);
	assert_string_equal(p[0].id, "early");
	gw_inbox_pending_free(p, n);
	gw_inbox_close(ib);
	assert_int_equal(unlink(path), 0);
	strcat(path, "-wal"); /* left only when a close could not clean up */
	(void)unlink(path);
	strcpy(path + strlen(path) - 3, "shm");
	(void)unlink(path);
	assert_int_equal(rmdir(dir), 0);
}

static void test_server__inbox_dedup_and_pending(void **state)
{
	char dir[] = "/tmp/gwinXXXXXX", path[64], sha[65], partner[64];
	struct gw_inbox *ib = NULL;
	struct gw_inbox_msg m;
	struct gw_err err;
	char *rc_body = NULL, *rtype = NULL;
	size_t rlen = 0;
	int64_t total = -1, pending = -1;
	int found = -1;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/inbox.db", dir);
	assert_int_equal(gw_inbox_open(path, &ib, &err), GW_OK);
	memset(&m, 0, sizeof(m));
	m.id = "id-1";
	m.sha256 = "aa";
	m.partner = "vpcp";
	m.kind = "plan";
	m.sender = "000.00.00.G22";
	m.content_type = "application/xml";
	m.body = "<m/>";
	m.len = 4;
	m.receipt = "<r/>";
	m.receipt_len = 4;
	m.receipt_type = "application/xml";
	{
		/* a batch is all or nothing */
		struct gw_inbox_msg two[2];

		two[0] = m;
		two[1] = m;
		two[0].id = "id-0";
		two[1].id = "id-0";
		assert_int_equal(gw_inbox_put(ib, two, 2, &err),
				 GW_ERR_REFUSED);
		assert_int_equal(gw_inbox_lookup(ib, "id-0", &found, sha,
						 partner, NULL, NULL, NULL,
						 &err),
				 GW_OK);
		assert_int_equal(found, 0);
	}
	assert_int_equal(gw_inbox_lookup(ib, "id-1", &found, sha, partner, NULL,
					 NULL, NULL, &err),
			 GW_OK);
	assert_int_equal(found, 0);
	m.canonical = "{\"kind\": \"plan\"}";
	assert_int_equal(gw_inbox_put(ib, &m, 1, &err), GW_OK);
	assert_int_equal(gw_inbox_put(ib, &m, 1, &err), GW_ERR_REFUSED);
	assert_int_equal(gw_inbox_lookup(ib, "id-1", &found, sha, partner,
					 &rc_body, &rlen, &rtype, &err),
			 GW_OK);
	assert_int_equal(found, 1);
	assert_string_equal(sha, "aa");
	assert_string_equal(partner, "vpcp");
	assert_int_equal(rlen, 4);
	assert_string_equal(rc_body, "<r/>");
	assert_string_equal(rtype, "application/xml");
	free(rc_body);
	free(rtype);
	assert_int_equal(gw_inbox_counts(ib, &total, &pending, &err), GW_OK);
	assert_int_equal(total, 1);
	assert_int_equal(pending, 1);
	{
		struct gw_inbox_pending *p = NULL;
		size_t n = 0;
		const char *ids[] = { "id-1" };

		assert_int_equal(gw_inbox_pending(ib, 10, &p, &n, &err), GW_OK);
		assert_int_equal(n, 1);
		assert_string_equal(p[0].id, "id-1");
		assert_string_equal(p[0].canonical, "{\"kind\": \"plan\"}");
		assert_int_equal(p[0].len, 4);
		assert_memory_equal(p[0].body, "<m/>", 4);
		gw_inbox_pending_free(p, n);
		assert_int_equal(gw_inbox_done(ib, ids, 1, &err), GW_OK);
		assert_int_equal(gw_inbox_pending(ib, 10, &p, &n, &err), GW_OK);
		assert_int_equal(n, 0);
		gw_inbox_pending_free(p, n);
	}
	assert_int_equal(gw_inbox_counts(ib, &total, &pending, &err), GW_OK);
	assert_int_equal(pending, 0);
	assert_int_equal(gw_inbox_ping(ib, &err), GW_OK);
	gw_inbox_close(ib);
	/* durable: a new handle sees it */
	assert_int_equal(gw_inbox_open(path, &ib, &err), GW_OK);
	assert_int_equal(gw_inbox_lookup(ib, "id-1", &found, sha, partner, NULL,
					 NULL, NULL, &err),
			 GW_OK);
	assert_int_equal(found, 1);
	gw_inbox_close(ib);
	unlink(path);
	snprintf(path, sizeof(path), "%s/inbox.db-wal", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/inbox.db-shm", dir);
	unlink(path);
	rmdir(dir);
}

static gw_rc fake_decode(const char *body, size_t len, json_t **msg,
			 struct gw_err *err)
{
	(void)body;
	(void)len;
	(void)err;
	*msg = json_object();
	return GW_OK;
}

static void test_server__format_registry(void **state)
{
	static const struct gw_server_format placeholder = {
		"application/edxml+xml", "edXML", NULL
	};
	static const struct gw_server_format real = { "application/edxml+xml",
						      "edXML", fake_decode };
	static const struct gw_server_format other[16] = {
		{ "application/x-1", "x", NULL },
		{ "application/x-2", "x", NULL },
		{ "application/x-3", "x", NULL },
		{ "application/x-4", "x", NULL },
		{ "application/x-5", "x", NULL },
		{ "application/x-6", "x", NULL },
		{ "application/x-7", "x", NULL },
		{ "application/x-8", "x", NULL },
		{ "application/x-9", "x", NULL },
		{ "application/x-10", "x", NULL },
		{ "application/x-11", "x", NULL },
		{ "application/x-12", "x", NULL },
		{ "application/x-13", "x", NULL },
		{ "application/x-14", "x", NULL },
		{ "application/x-15", "x", NULL },
		{ "application/x-16", "x", NULL },
	};
	struct gw_err err;
	size_t i;
	gw_rc rc = GW_OK;

	(void)state;
	assert_null(gw_server_format_find("application/edxml+xml"));
	assert_int_equal(gw_server_format_register(&placeholder, &err), GW_OK);
	assert_ptr_equal(gw_server_format_find("Application/EDXML+xml"),
			 &placeholder);
	/* an adapter's decoder replaces the placeholder */
	assert_int_equal(gw_server_format_register(&real, &err), GW_OK);
	assert_ptr_equal(gw_server_format_find("application/edxml+xml"), &real);
	for (i = 0; i < 16 && !rc; i++)
		rc = gw_server_format_register(&other[i], &err);
	assert_int_equal(rc, GW_ERR_USAGE);
	assert_non_null(strstr(err.msg, "too many"));
}

/* The registry and the problem bodies with the Nth allocation failing
 * (curl's torture mode): an error or success, never a crash or a leak. */
static void test_server__allocation_failures(void **state)
{
	json_t *arr = parse(partners_json);
	long n;
	int ok = 0;

	(void)state;
	for (n = 0; n < 10000 && !ok; n++) {
		struct gw_partners p;
		struct gw_err err;
		gw_rc rc;

		gw_alloc_fail_after(n);
		rc = gw_partners_load(arr, &p, &err);
		gw_alloc_fail_after(-1);
		assert_true(rc == GW_OK || rc == GW_ERR_NOMEM);
		if (rc == GW_OK) {
			assert_int_equal(p.n, 2);
			gw_partners_release(&p);
			ok = 1;
		} else {
			assert_int_equal(p.n, 0);
		}
	}
	assert_true(ok);
	for (ok = 0, n = 0; n < 10000 && !ok; n++) {
		struct gw_buf b;
		gw_rc rc;

		gw_buf_init(&b);
		gw_alloc_fail_after(n);
		rc = gw_problem_render(400, "malformed", "Bad Request",
				       "a <detail>", "/v1/messages", NULL, 1,
				       &b);
		gw_alloc_fail_after(-1);
		assert_true(rc == GW_OK || rc == GW_ERR_NOMEM);
		ok = rc == GW_OK;
		gw_buf_release(&b);
	}
	assert_true(ok);
	json_decref(arr);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_server__partner_match),
		cmocka_unit_test(test_server__partner_signed_false),
		cmocka_unit_test(test_server__partner_duplicates_refused),
		cmocka_unit_test(test_server__partner_rights),
		cmocka_unit_test(test_server__limits),
		cmocka_unit_test(test_server__problem_json),
		cmocka_unit_test(test_server__problem_xml_escapes),
		cmocka_unit_test(test_server__loopback_and_fingerprints),
		cmocka_unit_test(test_server__inbox_dedup_and_pending),
		cmocka_unit_test(test_server__inbox_upgrade_keeps_pending),
		cmocka_unit_test(test_server__format_registry),
		cmocka_unit_test(test_server__allocation_failures),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
