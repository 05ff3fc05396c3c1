/* test_audit.c - the verifiable audit log: persistence, tamper detection,
 * checkpoints, inclusion and consistency proofs, background appends and
 * the payload archive. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit/audit.h"
#include "model/jcs.h"
#include "base/log.h"
#include "audit/merkle.h"
#include "store/outbox.h"
#include "crypto/sign.h"
#include "crypto/digest.h"

struct fx {
	char dir[64], db[96], key[96], cert[96];
	struct gw_sign_key *k;
	struct gw_sign_verifier *v;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char cmd[512];
	struct gw_err err;

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_audit.XXXXXX");
	if (!mkdtemp(f->dir)) {
		free(f);
		return -1;
	}
	snprintf(f->db, sizeof(f->db), "%s/audit.db", f->dir);
	snprintf(f->key, sizeof(f->key), "%s/k.pem", f->dir);
	snprintf(f->cert, sizeof(f->cert), "%s/c.pem", f->dir);
	snprintf(cmd, sizeof(cmd),
		 "openssl req -x509 -newkey ec -pkeyopt "
		 "ec_paramgen_curve:P-256 -nodes -keyout %s -out %s -subj "
		 "'/CN=Unit Audit Signer' -days 2 2>/dev/null",
		 f->key, f->cert);
	if (system(cmd) != 0) {
		free(f);
		return -1;
	}
	if (gw_sign_init(&err) ||
	    gw_sign_key_load(f->key, NULL, f->cert, NULL, &f->k, &err) ||
	    gw_sign_verifier_key(f->cert, &f->v, &err)) {
		gw_sign_key_free(f->k);
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	gw_sign_key_free(f->k);
	gw_sign_verifier_free(f->v);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	gw_sign_shutdown();
	return 0;
}

/* A fresh log file for each test. */
static const char *fresh(struct fx *f, const char *name)
{
	snprintf(f->db, sizeof(f->db), "%s/%s.db", f->dir, name);
	return f->db;
}

static void add(struct gw_audit *a, int i, const char *reason)
{
	char id[64], dig[65];
	struct gw_audit_entry e;
	struct gw_err err;
	uint64_t idx;

	snprintf(id, sizeof(id), "msg-%d", i / 3);
	gw_sha256_hex(id, strlen(id), dig);
	memset(&e, 0, sizeof(e));
	e.time_ms = 1764400000000LL + i;
	e.msg_id = id;
	e.kind = i % 3 == 0 ? "validated" : i % 3 == 1 ? "queued" : "delivered";
	e.msg_kind = "indicator.report";
	e.sender = "000.00.00.G12";
	e.receiver = i % 2 ? "hub" : "report";
	e.direction = "out";
	e.outcome = "ok";
	e.reason = reason;
	e.digest = dig;
	e.signer = "CN=Unit Audit Signer";
	assert_int_equal(gw_audit_append(a, &e, NULL, 0, &idx, &err), GW_OK);
}

static struct gw_audit *open_log(struct fx *f, unsigned flags, int signed_)
{
	struct gw_audit_opts o;
	struct gw_audit *a = NULL;
	struct gw_err err;

	memset(&o, 0, sizeof(o));
	o.flags = flags;
	o.batch_size = 64;
	o.key = signed_ ? f->k : NULL;
	o.log_name = "unit";
	o.retention_days = 30;
	gw_err_clear(&err);
	if (gw_audit_open(f->db, &o, &a, &err))
		fail_msg("open: %s", err.msg);
	return a;
}

/* Independent root: leaves from each entry's JCS form (through jcs.c). */
struct roots {
	uint8_t (*leaves)[32];
	size_t n;
};

static int leaf_of(void *arg, const struct gw_audit_entry *e)
{
	struct roots *r = arg;
	struct gw_buf b, c;
	struct gw_err err;

	gw_buf_init(&b);
	gw_buf_init(&c);
	assert_int_equal(gw_audit_entry_json(e, &b, &err), GW_OK);
	/* the fast form is exactly the RFC 8785 form */
	assert_int_equal(gw_jcs_canonicalize(b.data, b.len, &c, &err), GW_OK);
	assert_int_equal(b.len, c.len);
	assert_memory_equal(b.data, c.data, b.len);
	assert_int_equal(
		gw_merkle_leaf_hash(b.data, b.len, r->leaves[r->n++], &err),
		GW_OK);
	gw_buf_release(&b);
	gw_buf_release(&c);
	return 0;
}

static void test_audit__append_reopen_restores_tree(void **state)
{
	struct fx *f = *state;
	struct gw_audit *a;
	struct roots r;
	uint8_t root[32], want[32];
	struct gw_err err;
	int i;

	fresh(f, "reopen");
	a = open_log(f, 0, 0);
	for (i = 0; i < 1000; i++)
		add(a, i,
		    i == 7 ? "quote \" backslash \\ tab\t nl\n \x01 "
			     "Bộ Tài chính \xff bad utf-8"
			   : "");
	gw_audit_close(a);
	a = open_log(f, 0, 0);
	assert_int_equal(gw_audit_size(a), 1000);
	for (i = 1000; i < 1500; i++)
		add(a, i, "later");
	assert_int_equal(gw_audit_flush(a, &err), GW_OK);
	assert_int_equal(gw_audit_size(a), 1500);
	r.leaves = calloc(1500, 32);
	r.n = 0;
	assert_int_equal(gw_audit_query(a, NULL, leaf_of, &r, &err), GW_OK);
	assert_int_equal(r.n, 1500);
	assert_int_equal(
		gw_merkle_root((const uint8_t(*)[32])r.leaves, 1500, want),
		GW_OK);
	assert_int_equal(gw_audit_root(a, root, &err), GW_OK);
	assert_memory_equal(root, want, 32);
	assert_int_equal(gw_audit_verify(a, NULL, NULL, NULL, NULL, &err),
			 GW_OK);
	free(r.leaves);
	gw_audit_close(a);
}

static int count_cb(void *arg, const struct gw_audit_entry *e)
{
	(*(int *)arg)++;
	return 0;
}

static void test_audit__query_filters(void **state)
{
	struct fx *f = *state;
	struct gw_audit *a;
	struct gw_audit_filter fl;
	struct gw_err err;
	int i, n;

	fresh(f, "query");
	a = open_log(f, 0, 0);
	for (i = 0; i < 30; i++)
		add(a, i, "");
	memset(&fl, 0, sizeof(fl));
	fl.kind = "queued";
	n = 0;
	assert_int_equal(gw_audit_query(a, &fl, count_cb, &n, &err), GW_OK);
	assert_int_equal(n, 10);
	fl.kind = "indicator.report";
	fl.partner = "hub";
	n = 0;
	assert_int_equal(gw_audit_query(a, &fl, count_cb, &n, &err), GW_OK);
	assert_int_equal(n, 15);
	memset(&fl, 0, sizeof(fl));
	fl.msg_id = "msg-2";
	fl.since_ms = 1764400000000LL + 7;
	n = 0;
	assert_int_equal(gw_audit_query(a, &fl, count_cb, &n, &err), GW_OK);
	assert_int_equal(n, 2); /* entries 7 and 8 */
	gw_audit_close(a);
}

/* Build a signed log of 100 entries with a checkpoint, tamper with its
 * file by sql, and return what gw_audit_verify says. */
static gw_rc tampered(struct fx *f, const char *name, const char *sql,
		      struct gw_err *err)
{
	struct gw_audit *a;
	sqlite3 *db;
	gw_rc rc;
	int i;

	fresh(f, name);
	a = open_log(f, 0, 1);
	for (i = 0; i < 100; i++)
		add(a, i, "");
	assert_int_equal(gw_audit_checkpoint(a, NULL, err), GW_OK);
	gw_audit_close(a);
	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	a = open_log(f, GW_AUDIT_READONLY, 0);
	gw_err_clear(err);
	rc = gw_audit_verify(a, f->v, NULL, NULL, NULL, err);
	gw_audit_close(a);
	return rc;
}

static void test_audit__tamper_names_first_bad_entry(void **state)
{
	struct fx *f = *state;
	struct gw_err err;

	assert_int_equal(tampered(f, "t0", "SELECT 1", &err), GW_OK);
	assert_int_equal(tampered(f, "t1",
				  "UPDATE entries SET outcome='refused' WHERE "
				  "idx=42",
				  &err),
			 GW_ERR_REFUSED);
	assert_non_null(strstr(err.msg, "entry 42 (msg-14"));
	assert_int_equal(
		tampered(f, "t2", "DELETE FROM entries WHERE idx=42", &err),
		GW_ERR_REFUSED);
	assert_non_null(strstr(err.msg, "entry 42 is missing"));
	assert_int_equal(
		tampered(f, "t3", "DELETE FROM entries WHERE idx=99", &err),
		GW_ERR_REFUSED);
	assert_non_null(strstr(err.msg, "entry 99 is missing"));
	/* swap every column but the index (leaf hashes included) */
	assert_int_equal(tampered(f, "t4",
				  "UPDATE entries SET idx=-1 WHERE idx=10;"
				  "UPDATE entries SET idx=10 WHERE idx=20;"
				  "UPDATE entries SET idx=20 WHERE idx=-1;",
				  &err),
			 GW_ERR_REFUSED);
	assert_non_null(strstr(err.msg, "entry 10 "));
	/* rewritten with a matching leaf hash: the checkpoint catches it */
	{
		struct gw_audit_entry e;
		struct gw_buf b;
		uint8_t leaf[32];
		char hex[65], sql[512];
		int i;

		memset(&e, 0, sizeof(e));
		e.index = 50;
		e.time_ms = 1764400000050LL;
		e.msg_id = "msg-16";
		e.kind = "refused";
		gw_buf_init(&b);
		assert_int_equal(gw_audit_entry_json(&e, &b, &err), GW_OK);
		assert_int_equal(gw_merkle_leaf_hash(b.data, b.len, leaf, &err),
				 GW_OK);
		for (i = 0; i < 32; i++)
			sprintf(hex + 2 * i, "%02x", leaf[i]);
		snprintf(sql, sizeof(sql),
			 "UPDATE entries SET event='refused', msg_kind='',"
			 " sender='', receiver='', direction='', outcome='',"
			 " reason='', digest='', signer='', leaf=x'%s'"
			 " WHERE idx=50",
			 hex);
		gw_buf_release(&b);
		assert_int_equal(tampered(f, "t5", sql, &err), GW_ERR_REFUSED);
		assert_non_null(strstr(err.msg, "checkpoint 1 (size 100)"));
	}
	assert_int_equal(tampered(f, "t6",
				  "UPDATE checkpoints SET root=zeroblob(32)",
				  &err),
			 GW_ERR_REFUSED);
	assert_non_null(strstr(err.msg, "checkpoint 1"));
	assert_int_equal(tampered(f, "t7",
				  "UPDATE checkpoints SET jws=replace(jws,"
				  " '\"signature\":\"', '\"signature\":\"AA')",
				  &err),
			 GW_ERR_REFUSED);
	assert_non_null(strstr(err.msg, "checkpoint 1"));
}

struct cplist {
	struct gw_audit_checkpoint c[16];
	size_t n;
};

static int keep_cp(void *arg, const struct gw_audit_checkpoint *c)
{
	struct cplist *l = arg;

	l->c[l->n] = *c;
	l->c[l->n].jws = c->jws ? strdup(c->jws) : NULL;
	l->n++;
	return 0;
}

static void build_with_cps(struct fx *f, const char *name, int rewrite,
			   struct cplist *l)
{
	static const int sizes[] = { 0, 1, 2, 3, 5, 7, 8, 9, 16, 33, 100 };
	struct gw_audit *a;
	struct gw_err err;
	size_t s;
	int i = 0;

	fresh(f, name);
	a = open_log(f, 0, 1);
	for (s = 0; s < GW_ARRAY_LEN(sizes); s++) {
		for (; i < sizes[s]; i++)
			add(a, i, rewrite && i == 4 ? "rewritten" : "");
		assert_int_equal(gw_audit_checkpoint(a, NULL, &err), GW_OK);
	}
	memset(l, 0, sizeof(*l));
	assert_int_equal(gw_audit_checkpoint_each(a, keep_cp, l, &err), GW_OK);
	assert_int_equal(l->n, GW_ARRAY_LEN(sizes));
	gw_audit_close(a);
}

static void test_audit__consistency_every_pair(void **state)
{
	struct fx *f = *state;
	struct cplist l, bad;
	struct gw_audit *a;
	struct gw_err err;
	size_t i, j, checked = 0;

	build_with_cps(f, "cons", 0, &l);
	build_with_cps(f, "cons-rewritten", 1, &bad);
	/* every pair of the honest log */
	fresh(f, "cons");
	a = open_log(f, GW_AUDIT_READONLY, 0);
	for (i = 0; i < l.n; i++)
		for (j = i; j < l.n; j++) {
			struct gw_buf p;

			gw_buf_init(&p);
			gw_err_clear(&err);
			assert_int_equal(gw_audit_prove_consistency(
						 a, &l.c[i], &l.c[j], &p, &err),
					 GW_OK);
			if (gw_audit_verify_consistency(f->v, NULL, p.data,
							p.len, NULL, 0, NULL, 0,
							NULL, &err))
				fail_msg("%zu..%zu: %s", i, j, err.msg);
			checked++;
			gw_buf_release(&p);
		}
	assert_int_equal(checked, l.n * (l.n + 1) / 2);
	gw_audit_close(a);
	/* the rewritten log (entry 4 changed) cannot prove itself an
	 * extension of the honest checkpoints that hold entry 4 */
	fresh(f, "cons-rewritten");
	a = open_log(f, GW_AUDIT_READONLY, 0);
	for (i = 0; i < l.n; i++)
		for (j = i; j < l.n; j++) {
			struct gw_buf p;
			gw_rc rc;

			gw_buf_init(&p);
			assert_int_equal(
				gw_audit_prove_consistency(a, &bad.c[i],
							   &bad.c[j], &p, &err),
				GW_OK);
			rc = gw_audit_verify_consistency(
				f->v, NULL, p.data, p.len, l.c[i].jws,
				strlen(l.c[i].jws), NULL, 0, NULL, &err);
			/* sizes 0..3 do not hold entry 4: still a prefix */
			if (l.c[i].size <= 4)
				assert_int_equal(rc, GW_OK);
			else
				assert_int_equal(rc, GW_ERR_REFUSED);
			gw_buf_release(&p);
		}
	gw_audit_close(a);
	for (i = 0; i < l.n; i++) {
		free(l.c[i].jws);
		free(bad.c[i].jws);
	}
}

/* Replace the first occurrence of from by to in s (same length). */
static void patch(char *s, const char *from, const char *to)
{
	char *p = strstr(s, from);

	assert_non_null(p);
	memcpy(p, to, strlen(to));
}

/* A new copy of s with the first from replaced by to (any length). */
static char *replaced(const char *s, const char *from, const char *to)
{
	const char *p = strstr(s, from);
	size_t n = strlen(s) - strlen(from) + strlen(to) + 1;
	char *r = malloc(n);

	assert_non_null(p);
	assert_non_null(r);
	snprintf(r, n, "%.*s%s%s", (int)(p - s), s, to, p + strlen(from));
	return r;
}

static void test_audit__inclusion_proofs(void **state)
{
	struct fx *f = *state;
	struct gw_audit *a;
	struct gw_audit_checkpoint c, c2;
	struct gw_audit_proof_info info;
	struct gw_buf p;
	struct gw_err err;
	uint64_t idx[3] = { 39, 40, 41 }; /* msg-13's entries */
	char *q;
	int i;

	fresh(f, "incl");
	a = open_log(f, 0, 1);
	for (i = 0; i < 100; i++)
		add(a, i, "");
	assert_int_equal(gw_audit_checkpoint(a, &c, &err), GW_OK);
	add(a, 100, "");
	assert_int_equal(gw_audit_checkpoint(a, &c2, &err), GW_OK);
	for (i = 0; i < 100; i++) {
		uint64_t one = (uint64_t)i;

		gw_buf_init(&p);
		assert_int_equal(gw_audit_prove(a, &one, 1, 100, &c, &p, &err),
				 GW_OK);
		if (gw_audit_verify_proof(f->v, NULL, p.data, p.len, NULL, 0,
					  &info, &err))
			fail_msg("entry %d: %s", i, err.msg);
		gw_buf_release(&p);
	}
	gw_buf_init(&p);
	assert_int_equal(gw_audit_prove(a, idx, 3, 100, &c, &p, &err), GW_OK);
	assert_int_equal(gw_audit_verify_proof(f->v, NULL, p.data, p.len, c.jws,
					       strlen(c.jws), &info, &err),
			 GW_OK);
	assert_int_equal(info.entries, 3);
	assert_int_equal(info.size, 100);
	assert_string_equal(info.msg_id, "msg-13");
	assert_non_null(strstr(info.signer, "Unit Audit Signer"));
	assert_string_equal(info.origin, "unit");
	/* another checkpoint than the one proven against */
	assert_int_equal(gw_audit_verify_proof(f->v, NULL, p.data, p.len,
					       c2.jws, strlen(c2.jws), NULL,
					       &err),
			 GW_ERR_REFUSED);
	/* unsigned verification of a signed checkpoint is refused */
	assert_int_equal(gw_audit_verify_proof(NULL, NULL, p.data, p.len, NULL,
					       0, NULL, &err),
			 GW_ERR_REFUSED);
	/* altered entry, index and path */
	q = strdup(p.data);
	patch(q, "\"outcome\":\"ok\"", "\"outcome\":\"no\"");
	assert_int_equal(gw_audit_verify_proof(f->v, NULL, q, strlen(q), NULL,
					       0, NULL, &err),
			 GW_ERR_REFUSED);
	assert_non_null(strstr(err.msg, "not proven"));
	free(q);
	q = strdup(p.data);
	patch(q, "\"leafIndex\":41", "\"leafIndex\":42");
	assert_int_equal(gw_audit_verify_proof(f->v, NULL, q, strlen(q), NULL,
					       0, NULL, &err),
			 GW_ERR_REFUSED);
	free(q);
	q = strdup(p.data);
	{
		char *path = strstr(q, "\"path\":[\"");

		assert_non_null(path);
		path += 9;
		*path = *path == '0' ? '1' : '0';
	}
	assert_int_equal(gw_audit_verify_proof(f->v, NULL, q, strlen(q), NULL,
					       0, NULL, &err),
			 GW_ERR_REFUSED);
	free(q);
	assert_int_equal(gw_audit_verify_proof(f->v, NULL, "{\"type\":1}", 10,
					       NULL, 0, NULL, &err),
			 GW_ERR_PARSE);
	{
		/* hostile documents: refused with a reason, never a crash */
		static const char *const bad[] = {
			"not json",
			"{\"type\":\"lienthong-audit-inclusion\",\"version\":"
			"1}",
			"{\"type\":\"lienthong-audit-inclusion\",\"version\":2,"
			"\"entries\":[]}",
			"{\"type\":\"lienthong-audit-inclusion\",\"version\":1,"
			"\"treeSize\":100,\"checkpoint\":{\"payload\":\"e30\","
			"\"protected\":\"e30\",\"signature\":\"AA\"},"
			"\"entries\":[]}",
		};
		size_t k;

		for (k = 0; k < GW_ARRAY_LEN(bad); k++) {
			gw_rc rc = gw_audit_verify_proof(f->v, NULL, bad[k],
							 strlen(bad[k]), NULL,
							 0, NULL, &err);

			assert_true(rc == GW_ERR_PARSE || rc == GW_ERR_REFUSED);
			assert_true(err.msg[0] != '\0');
		}
		/* a path of 66 hashes, a negative index, a wrong tree size */
		q = strdup(p.data);
		patch(q, "\"leafIndex\":41", "\"leafIndex\":-1");
		assert_int_equal(gw_audit_verify_proof(f->v, NULL, q, strlen(q),
						       NULL, 0, NULL, &err),
				 GW_ERR_PARSE);
		free(q);
		q = strdup(p.data);
		patch(q, "\"treeSize\":100", "\"treeSize\":101");
		assert_int_equal(gw_audit_verify_proof(f->v, NULL, q, strlen(q),
						       NULL, 0, NULL, &err),
				 GW_ERR_REFUSED);
		free(q);
		{
			struct gw_buf big;
			char *path = strstr(p.data, "\"path\":[") + 8;

			gw_buf_init(&big);
			gw_buf_add(&big, p.data, (size_t)(path - p.data));
			for (k = 0; k < 66; k++)
				gw_buf_addf(&big, "\"%064d\",", 0);
			gw_buf_adds(&big, path);
			assert_int_equal(gw_audit_verify_proof(
						 f->v, NULL, big.data, big.len,
						 NULL, 0, NULL, &err),
					 GW_ERR_PARSE);
			gw_buf_release(&big);
		}
	}
	gw_buf_release(&p);
	gw_audit_checkpoint_release(&c);
	gw_audit_checkpoint_release(&c2);
	gw_audit_close(a);
}

/* Proofs an auditor must refuse: another log's checkpoint (same CA),
 * entries counted twice, entries of several messages, fields of the wrong
 * type. */
static void test_audit__proof_origin_signer_duplicates(void **state)
{
	struct fx *f = *state;
	struct gw_audit *a, *o;
	struct gw_audit_opts oo;
	struct gw_audit_checkpoint c, c2, oc;
	struct gw_audit_proof_info info;
	struct gw_audit_expect want;
	struct gw_buf p;
	struct gw_err err;
	uint64_t dup[3] = { 39, 40, 39 }, mixed[2] = { 0, 41 },
		 one[3] = { 39, 40, 41 };
	char *q;
	int i;

	fresh(f, "origin");
	a = open_log(f, 0, 1);
	for (i = 0; i < 60; i++)
		add(a, i, "");
	assert_int_equal(gw_audit_checkpoint(a, &c, &err), GW_OK);
	add(a, 60, "");
	assert_int_equal(gw_audit_checkpoint(a, &c2, &err), GW_OK);
	/* another gateway's log, signed under the same trust */
	fresh(f, "origin-other");
	memset(&oo, 0, sizeof(oo));
	oo.key = f->k;
	oo.log_name = "other";
	assert_int_equal(gw_audit_open(f->db, &oo, &o, &err), GW_OK);
	for (i = 0; i < 60; i++)
		add(o, i, "");
	assert_int_equal(gw_audit_checkpoint(o, &oc, &err), GW_OK);

	gw_buf_init(&p);
	assert_int_equal(gw_audit_prove(a, one, 3, 60, &c, &p, &err), GW_OK);
	memset(&want, 0, sizeof(want));
	want.origin = "unit";
	want.signer = "CN=Unit Audit Signer";
	gw_err_clear(&err);
	if (gw_audit_verify_proof(f->v, &want, p.data, p.len, NULL, 0, &info,
				  &err))
		fail_msg("origin and signer as expected: %s", err.msg);
	assert_string_equal(info.origin, "unit");
	assert_string_equal(info.signer, "CN=Unit Audit Signer");
	want.origin = "other";
	assert_int_equal(gw_audit_verify_proof(f->v, &want, p.data, p.len, NULL,
					       0, NULL, &err),
			 GW_ERR_REFUSED);
	assert_non_null(strstr(err.msg, "of the log 'unit', not 'other'"));
	want.origin = NULL;
	want.signer = "CN=Someone Else";
	assert_int_equal(gw_audit_verify_proof(f->v, &want, p.data, p.len, NULL,
					       0, NULL, &err),
			 GW_ERR_REFUSED);
	assert_non_null(strstr(err.msg, "--signer"));
	/* the other log's checkpoint has the same size and a valid
	 * signature: only --origin tells them apart */
	want.signer = NULL;
	want.origin = "unit";
	assert_int_equal(gw_audit_verify_proof(f->v, &want, p.data, p.len,
					       oc.jws, strlen(oc.jws), NULL,
					       &err),
			 GW_ERR_REFUSED);
	assert_non_null(strstr(err.msg, "another gateway"));
	gw_buf_release(&p);

	/* the same entry twice */
	gw_buf_init(&p);
	assert_int_equal(gw_audit_prove(a, dup, 3, 60, &c, &p, &err), GW_OK);
	assert_int_equal(gw_audit_verify_proof(f->v, NULL, p.data, p.len, NULL,
					       0, NULL, &err),
			 GW_ERR_REFUSED);
	assert_non_null(strstr(err.msg, "leafIndex 39 appears more than once"));
	gw_buf_release(&p);
	/* entries of two messages */
	gw_buf_init(&p);
	assert_int_equal(gw_audit_prove(a, mixed, 2, 60, &c, &p, &err), GW_OK);
	assert_int_equal(gw_audit_verify_proof(f->v, NULL, p.data, p.len, NULL,
					       0, NULL, &err),
			 GW_ERR_REFUSED);
	assert_non_null(strstr(err.msg, "one message"));
	gw_buf_release(&p);
	/* fields of the wrong type, missing or unknown */
	gw_buf_init(&p);
	assert_int_equal(gw_audit_prove(a, one, 1, 60, &c, &p, &err), GW_OK);
	{
		static const char *const from[] = { "\"msgId\":\"msg-13\"",
						    "\"event\":\"validated\"",
						    "\"reason\":\"\"",
						    "\"signer\":" };
		static const char *const to[] = {
			"\"msgId\":13", "\"event\":null", "\"reason\":[]",
			"\"extra\":\"x\",\"signer\":"
		};
		static const char *const name[] = { "'msgId'", "'event'",
						    "'reason'", "'extra'" };
		size_t k;

		for (k = 0; k < GW_ARRAY_LEN(from); k++) {
			q = replaced(p.data, from[k], to[k]);
			gw_err_clear(&err);
			assert_int_equal(gw_audit_verify_proof(f->v, NULL, q,
							       strlen(q), NULL,
							       0, NULL, &err),
					 GW_ERR_PARSE);
			if (!strstr(err.msg, name[k]))
				fail_msg("%zu: %s", k, err.msg);
			free(q);
		}
	}
	gw_buf_release(&p);

	/* consistency: from a checkpoint of another log */
	gw_buf_init(&p);
	assert_int_equal(gw_audit_prove_consistency(a, &c, &c2, &p, &err),
			 GW_OK);
	want.origin = "unit";
	gw_err_clear(&err);
	if (gw_audit_verify_consistency(f->v, &want, p.data, p.len, NULL, 0,
					NULL, 0, &info, &err))
		fail_msg("consistency: %s", err.msg);
	assert_string_equal(info.origin, "unit");
	assert_int_equal(info.size1, 60);
	assert_int_equal(info.size, 61);
	assert_int_equal(gw_audit_verify_consistency(f->v, NULL, p.data, p.len,
						     oc.jws, strlen(oc.jws),
						     NULL, 0, NULL, &err),
			 GW_ERR_REFUSED);
	assert_non_null(strstr(err.msg, "two logs"));
	want.origin = "other";
	assert_int_equal(gw_audit_verify_consistency(f->v, &want, p.data, p.len,
						     NULL, 0, NULL, 0, NULL,
						     &err),
			 GW_ERR_REFUSED);
	gw_buf_release(&p);
	gw_audit_checkpoint_release(&c);
	gw_audit_checkpoint_release(&c2);
	gw_audit_checkpoint_release(&oc);
	gw_audit_close(o);
	gw_audit_close(a);
}

static void sql_on(const char *db, const char *sql)
{
	sqlite3 *d = NULL;

	assert_int_equal(sqlite3_open(db, &d), SQLITE_OK);
	sqlite3_busy_timeout(d, 10000);
	if (sqlite3_exec(d, sql, NULL, NULL, NULL))
		fail_msg("%s: %s", sql, sqlite3_errmsg(d));
	sqlite3_close(d);
}

static int in_file(const char *path, const char *what)
{
	char buf[65536];
	FILE *fp = fopen(path, "r");
	size_t n;

	if (!fp)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	return strstr(buf, what) != NULL;
}

static int in_order(void *arg, const struct gw_audit_entry *e)
{
	int *next = arg;
	char id[32];

	snprintf(id, sizeof(id), "r%d", *next);
	if (strcmp(e->msg_id, id))
		fail_msg("entry %llu is '%s', wanted '%s'",
			 (unsigned long long)e->index, e->msg_id, id);
	(*next)++;
	return 0;
}

/* Commits that fail (a trigger refuses inserts) keep every entry, in
 * order, report each failure to the gateway log, and go through once the
 * cause is gone; what cannot be committed at close is logged, counted. */
static void test_audit__failed_commits_retried_and_reported(void **state)
{
	struct fx *f = *state;
	struct gw_audit *a;
	struct gw_audit_entry e;
	struct gw_err err;
	char id[32], logf[128];
	uint64_t checked = 0;
	int i, next = 0;

	snprintf(logf, sizeof(logf), "%s/gw.log", f->dir);
	assert_int_equal(gw_log_open(logf, GW_LOG_INFO, &err), GW_OK);
	fresh(f, "retry");
	a = open_log(f, GW_AUDIT_BACKGROUND, 0);
	memset(&e, 0, sizeof(e));
	e.kind = "received";
	e.msg_id = id;
	for (i = 0; i < 10; i++) {
		snprintf(id, sizeof(id), "r%d", i);
		assert_int_equal(gw_audit_append(a, &e, NULL, 0, NULL, &err),
				 GW_OK);
	}
	assert_int_equal(gw_audit_flush(a, &err), GW_OK);
	sql_on(f->db, "CREATE TRIGGER fire BEFORE INSERT ON entries BEGIN"
		      " SELECT RAISE(ABORT, 'disk on fire'); END");
	for (; i < 400; i++) {
		snprintf(id, sizeof(id), "r%d", i);
		gw_err_clear(&err);
		/* GW_ERR_... once a commit of the thread has failed */
		gw_audit_append(a, &e, NULL, 0, NULL, &err);
		if (i % 97 == 0) {
			gw_err_clear(&err);
			assert_int_not_equal(gw_audit_flush(a, &err), GW_OK);
			assert_non_null(strstr(err.msg, "disk on fire"));
		}
	}
	assert_int_equal(gw_audit_size(a), 10);
	sql_on(f->db, "DROP TRIGGER fire");
	gw_err_clear(&err);
	if (gw_audit_flush(a, &err))
		fail_msg("flush after the cause is gone: %s", err.msg);
	assert_int_equal(gw_audit_size(a), 400);
	assert_int_equal(gw_audit_query(a, NULL, in_order, &next, &err), GW_OK);
	assert_int_equal(next, 400);
	/* fails for good: close says how many were not logged */
	sql_on(f->db, "CREATE TRIGGER fire BEFORE INSERT ON entries BEGIN"
		      " SELECT RAISE(ABORT, 'disk on fire'); END");
	for (i = 0; i < 5; i++)
		gw_audit_append(a, &e, NULL, 0, NULL, &err);
	gw_audit_close(a);
	gw_log_close();
	assert_true(in_file(logf, "audit-commit"));
	assert_true(in_file(logf, "disk on fire"));
	assert_true(in_file(logf, "5 audit entries not logged"));
	sql_on(f->db, "DROP TRIGGER fire");
	a = open_log(f, GW_AUDIT_READONLY, 0);
	gw_err_clear(&err);
	if (gw_audit_verify(a, NULL, NULL, NULL, &checked, &err))
		fail_msg("verify: %s", err.msg);
	assert_int_equal(checked, 400);
	gw_audit_close(a);
}

struct worker {
	struct gw_audit *a;
	int base, n;
	uint64_t *got;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	struct gw_audit_entry e;
	struct gw_err err;
	char id[32];
	int i;

	memset(&e, 0, sizeof(e));
	e.kind = "received";
	e.msg_id = id;
	for (i = 0; i < w->n; i++) {
		snprintf(id, sizeof(id), "m%d", w->base + i);
		if (gw_audit_append(w->a, &e, NULL, 0, &w->got[w->base + i],
				    &err))
			return (void *)1;
	}
	return NULL;
}

static int seen_cb(void *arg, const struct gw_audit_entry *e)
{
	uint64_t *got = arg;
	int n = atoi(e->msg_id + 1);

	/* the index promised to the appender is the one stored */
	return got[n] != e->index;
}

static void test_audit__background_many_appends(void **state)
{
	struct fx *f = *state;
	enum { THREADS = 4, EACH = 10000 };
	struct worker w[THREADS];
	pthread_t t[THREADS];
	struct gw_audit *a;
	struct gw_err err;
	uint64_t *got = calloc(THREADS * EACH, sizeof(*got)), checked = 0;
	void *res;
	int i;

	fresh(f, "bg");
	a = open_log(f, GW_AUDIT_BACKGROUND, 0);
	for (i = 0; i < THREADS; i++) {
		w[i].a = a;
		w[i].base = i * EACH;
		w[i].n = EACH;
		w[i].got = got;
		assert_int_equal(pthread_create(&t[i], NULL, work, &w[i]), 0);
	}
	for (i = 0; i < THREADS; i++) {
		assert_int_equal(pthread_join(t[i], &res), 0);
		assert_null(res);
	}
	assert_int_equal(gw_audit_flush(a, &err), GW_OK);
	assert_int_equal(gw_audit_size(a), THREADS * EACH);
	assert_int_equal(gw_audit_query(a, NULL, seen_cb, got, &err), GW_OK);
	gw_audit_close(a);
	a = open_log(f, GW_AUDIT_READONLY, 0);
	assert_int_equal(gw_audit_verify(a, NULL, NULL, NULL, &checked, &err),
			 GW_OK);
	assert_int_equal(checked, THREADS * EACH);
	{
		/* every promised index was different */
		char *seen = calloc(THREADS * EACH, 1);

		for (i = 0; i < THREADS * EACH; i++) {
			assert_true(got[i] < THREADS * EACH);
			assert_false(seen[got[i]]);
			seen[got[i]] = 1;
		}
		free(seen);
	}
	gw_audit_close(a);
	free(got);
}

/* Two handles on one file, as two processes (serve and send) have: each
 * commits after the other, and every entry of both is kept in order. */
static void test_audit__two_writers_interleaved(void **state)
{
	struct fx *f = *state;
	struct gw_audit *a, *b;
	struct gw_err err;
	uint64_t checked = 0;
	int i, n = 0;

	fresh(f, "two");
	a = open_log(f, 0, 1);
	b = open_log(f, GW_AUDIT_BACKGROUND, 0);
	for (i = 0; i < 300; i++) {
		add(i % 2 ? b : a, i, i % 2 ? "b" : "a");
		if (i % 7 == 0)
			assert_int_equal(gw_audit_flush(a, &err), GW_OK);
		if (i % 11 == 0)
			assert_int_equal(gw_audit_flush(b, &err), GW_OK);
		if (i % 50 == 0)
			assert_int_equal(gw_audit_checkpoint(a, NULL, &err),
					 GW_OK);
	}
	gw_err_clear(&err);
	assert_int_equal(gw_audit_flush(a, &err), GW_OK);
	assert_int_equal(gw_audit_flush(b, &err), GW_OK);
	/* both see the whole log */
	assert_int_equal(gw_audit_size(a), 300);
	assert_int_equal(gw_audit_size(b), 300);
	assert_int_equal(gw_audit_checkpoint(a, NULL, &err), GW_OK);
	gw_audit_close(a);
	gw_audit_close(b);
	a = open_log(f, GW_AUDIT_READONLY, 0);
	assert_int_equal(gw_audit_query(a, NULL, count_cb, &n, &err), GW_OK);
	assert_int_equal(n, 300);
	gw_err_clear(&err);
	if (gw_audit_verify(a, f->v, NULL, NULL, &checked, &err))
		fail_msg("verify: %s", err.msg);
	assert_int_equal(checked, 300);
	gw_audit_close(a);
}

static void test_audit__archive_and_prune(void **state)
{
	struct fx *f = *state;
	struct gw_audit *a;
	struct gw_audit_entry e;
	struct gw_buf out;
	struct gw_err err;
	char old_d[65], new_d[65];
	const char *old_p = "old payload, 40 days ago",
		   *new_p = "new payload: Bộ Tài chính";

	fresh(f, "arch");
	a = open_log(f, GW_AUDIT_ARCHIVE, 0);
	memset(&e, 0, sizeof(e));
	e.kind = "received";
	e.time_ms = gw_now_ms() - 40LL * 86400000;
	assert_int_equal(
		gw_audit_append(a, &e, old_p, strlen(old_p), NULL, &err),
		GW_OK);
	e.time_ms = 0;
	assert_int_equal(
		gw_audit_append(a, &e, new_p, strlen(new_p), NULL, &err),
		GW_OK);
	gw_sha256_hex(old_p, strlen(old_p), old_d);
	gw_sha256_hex(new_p, strlen(new_p), new_d);
	gw_buf_init(&out);
	assert_int_equal(gw_audit_payload(a, old_d, &out, &err), GW_OK);
	assert_string_equal(out.data, old_p);
	out.len = 0;
	assert_int_equal(gw_audit_prune(a, &err), GW_OK);
	assert_int_equal(gw_audit_payload(a, old_d, &out, &err), GW_ERR_USAGE);
	assert_int_equal(gw_audit_payload(a, new_d, &out, &err), GW_OK);
	assert_string_equal(out.data, new_p);
	gw_buf_release(&out);
	/* entries and digests are kept for ever */
	assert_int_equal(gw_audit_size(a), 2);
	assert_int_equal(gw_audit_verify(a, NULL, NULL, NULL, NULL, &err),
			 GW_OK);
	gw_audit_close(a);
}

/* Background mode with payloads larger in all than the pending bound
 * (8 MiB): the writer waits for the thread instead of queueing without
 * limit, and nothing is lost: every entry and payload is committed. */
static void test_audit__background_backpressure_keeps_all(void **state)
{
	struct fx *f = *state;
	enum { N = 160, SIZE = 100 * 1024 };
	struct gw_audit *a;
	struct gw_audit_entry e;
	struct gw_buf out;
	struct gw_err err;
	char *pl = malloc(SIZE), id[32], d[65];
	uint64_t checked = 0;
	int i;

	assert_non_null(pl);
	fresh(f, "bp");
	a = open_log(f, GW_AUDIT_BACKGROUND | GW_AUDIT_ARCHIVE, 0);
	memset(&e, 0, sizeof(e));
	e.kind = "received";
	e.msg_id = id;
	for (i = 0; i < N; i++) {
		memset(pl, 'a' + i % 26, SIZE);
		memcpy(pl, &i, sizeof(i)); /* a different payload each */
		snprintf(id, sizeof(id), "bp%d", i);
		gw_err_clear(&err);
		assert_int_equal(gw_audit_append(a, &e, pl, SIZE, NULL, &err),
				 GW_OK);
	}
	assert_int_equal(gw_audit_flush(a, &err), GW_OK);
	assert_int_equal(gw_audit_size(a), N);
	gw_buf_init(&out);
	for (i = 0; i < N; i += 53) {
		memset(pl, 'a' + i % 26, SIZE);
		memcpy(pl, &i, sizeof(i));
		gw_sha256_hex(pl, SIZE, d);
		out.len = 0;
		assert_int_equal(gw_audit_payload(a, d, &out, &err), GW_OK);
		assert_int_equal(out.len, SIZE);
		assert_memory_equal(out.data, pl, SIZE);
	}
	gw_buf_release(&out);
	gw_audit_close(a);
	a = open_log(f, GW_AUDIT_READONLY, 0);
	assert_int_equal(gw_audit_verify(a, NULL, NULL, NULL, &checked, &err),
			 GW_OK);
	assert_int_equal(checked, N);
	gw_audit_close(a);
	free(pl);
}

/* The log opened on a store backend by name gives what gw_audit_open
 * gives; a backend without an audit log is refused. */
static void test_audit__store_backends(void **state)
{
	const struct gw_store_backend none = { "none", NULL, NULL, NULL };
	struct fx *f = *state;
	struct gw_audit_opts o;
	struct gw_audit *a = NULL;
	struct gw_err err;
	int i;

	fresh(f, "backend");
	memset(&o, 0, sizeof(o));
	o.log_name = "unit";
	gw_err_clear(&err);
	assert_int_equal(gw_audit_open_backend(gw_store_backend_find("sqlite"),
					       f->db, &o, &a, &err),
			 GW_OK);
	for (i = 0; i < 10; i++)
		add(a, i, "");
	assert_int_equal(gw_audit_flush(a, &err), GW_OK);
	gw_audit_close(a);
	a = open_log(f, GW_AUDIT_READONLY, 0);
	assert_int_equal(gw_audit_size(a), 10);
	assert_int_equal(gw_audit_verify(a, NULL, NULL, NULL, NULL, &err),
			 GW_OK);
	gw_audit_close(a);
	a = NULL;
	assert_int_equal(gw_audit_open_backend(&none, f->db, &o, &a, &err),
			 GW_ERR_UNSUPPORTED);
	assert_null(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_audit__append_reopen_restores_tree),
		cmocka_unit_test(test_audit__query_filters),
		cmocka_unit_test(test_audit__tamper_names_first_bad_entry),
		cmocka_unit_test(test_audit__consistency_every_pair),
		cmocka_unit_test(test_audit__inclusion_proofs),
		cmocka_unit_test(test_audit__background_many_appends),
		cmocka_unit_test(test_audit__archive_and_prune),
		cmocka_unit_test(test_audit__two_writers_interleaved),
		cmocka_unit_test(test_audit__background_backpressure_keeps_all),
		cmocka_unit_test(test_audit__proof_origin_signer_duplicates),
		cmocka_unit_test(
			test_audit__failed_commits_retried_and_reported),
		cmocka_unit_test(test_audit__store_backends),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
