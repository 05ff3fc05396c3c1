/*
 * bench_audit.c - the audit log's speed (bench/bench_audit.sh): append
 * rate, foreground (batches committed by the caller) and background (a
 * thread of the log commits; what the caller sees and the end-to-end
 * rate), against two baselines measured in the same run on the same
 * entries: SHA-256 of their canonical form alone (OpenSSL), and plain
 * SQLite inserts of the same rows (one transaction per batch, WAL,
 * synchronous=FULL); then the time to verify a log of N entries, and the
 * size and verification time of one inclusion proof. Prints one JSON
 * object on stdout.
 *
 * usage: bench_audit append DIR N
 *        bench_audit verify DIR N RUNS [KEY CERT]
 */
#include <openssl/evp.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit/audit.h"
#include "store/outbox.h"
#include "crypto/sign.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A realistic entry i: a uuid-like id, a 64-hex digest, a signer. */
static void make_entry(uint64_t i, struct gw_audit_entry *e, char id[40],
		       char dig[65])
{
	static const char *const ev[] = { "validated", "signed",    "queued",
					  "attempt",   "delivered", "receipt" };

	snprintf(id, 40, "%08x-9ac1-539c-b186-00f6efbe019c", (unsigned)(i / 6));
	snprintf(dig, 65, "%016llx%016llx%016llx%016llx",
		 (unsigned long long)i * 0x9e3779b97f4a7c15ULL,
		 (unsigned long long)i, (unsigned long long)~i,
		 (unsigned long long)i * 31);
	memset(e, 0, sizeof(*e));
	e->time_ms = 1764400000000LL + (int64_t)i;
	e->msg_id = id;
	e->kind = ev[i % 6];
	e->msg_kind = "indicator.report";
	e->sender = "000.00.00.G12";
	e->receiver = "data-platform";
	e->direction = "out";
	e->outcome = "ok";
	e->reason = i % 6 == 3 ? "HTTP 200" : "";
	e->digest = dig;
	e->signer = i % 6 == 1 ? "CN=ministry-ec,O=Lienthong Test" : "";
}

static int append_n(const char *path, unsigned flags, uint64_t n,
		    double *caller_s, double *total_s,
		    const struct gw_sign_key *key)
{
	struct gw_audit_opts o;
	struct gw_audit *a = NULL;
	struct gw_audit_entry e;
	struct gw_err err;
	char id[40], dig[65];
	double t0, t1;
	uint64_t i;

	memset(&o, 0, sizeof(o));
	o.flags = flags;
	o.key = key;
	unlink(path);
	if (gw_audit_open(path, &o, &a, &err)) {
		fprintf(stderr, "%s\n", err.msg);
		return -1;
	}
	t0 = now_s();
	for (i = 0; i < n; i++) {
		make_entry(i, &e, id, dig);
		if (gw_audit_append(a, &e, NULL, 0, NULL, &err)) {
			fprintf(stderr, "%s\n", err.msg);
			return -1;
		}
	}
	t1 = now_s();
	if (gw_audit_flush(a, &err)) {
		fprintf(stderr, "%s\n", err.msg);
		return -1;
	}
	*caller_s = t1 - t0;
	*total_s = now_s() - t0;
	gw_audit_close(a);
	return 0;
}

/* Baseline 1: SHA-256 of each entry's canonical form, nothing else. */
static double sha_baseline(uint64_t n)
{
	struct gw_audit_entry e;
	struct gw_buf b;
	char id[40], dig[65];
	unsigned char md[32];
	unsigned int len;
	double t0 = now_s();
	uint64_t i;

	gw_buf_init(&b);
	for (i = 0; i < n; i++) {
		make_entry(i, &e, id, dig);
		e.index = i;
		b.len = 0;
		gw_audit_entry_json(&e, &b, NULL);
		EVP_Digest(b.data, b.len, md, &len, EVP_sha256(), NULL);
	}
	gw_buf_release(&b);
	return (double)n / (now_s() - t0);
}

/* Baseline 2: the same rows inserted into SQLite, 4096 per transaction. */
static double sqlite_baseline(const char *path, uint64_t n)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	struct gw_audit_entry e;
	char id[40], dig[65];
	unsigned char leaf[32] = { 0 };
	double t0;
	uint64_t i;

	unlink(path);
	if (sqlite3_open(path, &db) ||
	    sqlite3_exec(db,
			 "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
			 "CREATE TABLE e (idx INTEGER PRIMARY KEY, time_ms,"
			 " msg_id, event, msg_kind, sender, receiver,"
			 " direction, outcome, reason, digest, signer, leaf);"
			 "CREATE INDEX e_msg ON e(msg_id);",
			 NULL, NULL, NULL) ||
	    sqlite3_prepare_v2(db,
			       "INSERT INTO e VALUES (?1, ?2, ?3, ?4, ?5, ?6,"
			       " ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
			       -1, &st, NULL))
		return -1;
	t0 = now_s();
	for (i = 0; i < n; i++) {
		if (i % 4096 == 0)
			sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
		make_entry(i, &e, id, dig);
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, (sqlite3_int64)i);
		sqlite3_bind_int64(st, 2, e.time_ms);
		sqlite3_bind_text(st, 3, e.msg_id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, e.kind, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, e.msg_kind, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 6, e.sender, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 7, e.receiver, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 8, e.direction, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 9, e.outcome, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 10, e.reason, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 11, e.digest, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 12, e.signer, -1, SQLITE_STATIC);
		sqlite3_bind_blob(st, 13, leaf, 32, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			return -1;
		if (i % 4096 == 4095 || i + 1 == n)
			sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	}
	t0 = now_s() - t0;
	sqlite3_finalize(st);
	sqlite3_close(db);
	return (double)n / t0;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int bench_verify(const char *dir, uint64_t n, int runs, const char *keyf,
			const char *certf)
{
	struct gw_sign_key *key = NULL;
	struct gw_sign_verifier *v = NULL;
	struct gw_audit_opts o;
	struct gw_audit *a = NULL;
	struct gw_audit_checkpoint c;
	struct gw_buf p;
	struct gw_err err;
	char path[4096];
	double caller, total, vt[64], pv[201], cv[201], t0, gen;
	uint64_t idx = n / 3, checked = 0;
	int r;

	snprintf(path, sizeof(path), "%s/verify.db", dir);
	if (runs < 1 || runs > 64 || gw_sign_init(&err))
		return 2;
	if (keyf && (gw_sign_key_load(keyf, NULL, certf, NULL, &key, &err) ||
		     gw_sign_verifier_key(certf, &v, &err))) {
		fprintf(stderr, "%s\n", err.msg);
		return 3;
	}
	if (append_n(path, 0, n, &caller, &total, NULL))
		return 3;
	memset(&o, 0, sizeof(o));
	o.key = key;
	if (gw_audit_open(path, &o, &a, &err) ||
	    gw_audit_checkpoint(a, &c, &err)) {
		fprintf(stderr, "%s\n", err.msg);
		return 3;
	}
	gw_audit_close(a);
	o.flags = GW_AUDIT_READONLY;
	if (gw_audit_open(path, &o, &a, &err))
		return 3;
	for (r = 0; r < runs; r++) {
		t0 = now_s();
		if (gw_audit_verify(a, v, NULL, NULL, &checked, &err)) {
			fprintf(stderr, "%s\n", err.msg);
			return 3;
		}
		vt[r] = now_s() - t0;
	}
	gw_buf_init(&p);
	t0 = now_s();
	if (gw_audit_prove(a, &idx, 1, c.size, &c, &p, &err)) {
		fprintf(stderr, "%s\n", err.msg);
		return 3;
	}
	gen = now_s() - t0;
	for (r = 0; r < 201; r++) {
		t0 = now_s();
		if (gw_audit_verify_proof(v, NULL, p.data, p.len, NULL, 0, NULL,
					  &err)) {
			fprintf(stderr, "%s\n", err.msg);
			return 3;
		}
		pv[r] = now_s() - t0;
	}
	qsort(pv, 201, sizeof(double), cmp_d);
	/* baselines: the checkpoint's signature alone, SHA-256 alone */
	for (r = 0; c.jws && r < 201; r++) { /* unsigned: nothing to time */
		struct gw_audit_checkpoint c2;

		t0 = now_s();
		if (gw_audit_checkpoint_parse(v, c.jws, strlen(c.jws), &c2,
					      NULL, &err)) {
			fprintf(stderr, "%s\n", err.msg);
			return 3;
		}
		cv[r] = now_s() - t0;
		gw_audit_checkpoint_release(&c2);
	}
	qsort(cv, 201, sizeof(double), cmp_d);
	printf("{\"entries\": %llu, \"build_eps\": %.1f, \"sha256_s\": "
	       "%.4f, \"checkpoint_bytes\": %zu, \"checkpoint_verify_ms\": "
	       "%.4f, \"verify_s\": [",
	       (unsigned long long)checked, (double)n / total,
	       (double)n / sha_baseline(n), c.jws ? strlen(c.jws) : 0,
	       cv[100] * 1e3);
	for (r = 0; r < runs; r++)
		printf("%s%.4f", r ? ", " : "", vt[r]);
	printf("], \"proof_bytes\": %zu, \"proof_gen_s\": %.4f, "
	       "\"proof_verify_ms\": %.4f, \"proof_verify_min_ms\": %.4f, "
	       "\"proof_verify_max_ms\": %.4f, \"signed\": %s}\n",
	       p.len, gen, pv[100] * 1e3, pv[0] * 1e3, pv[200] * 1e3,
	       key ? "true" : "false");
	gw_buf_release(&p);
	gw_audit_checkpoint_release(&c);
	gw_audit_close(a);
	gw_sign_verifier_free(v);
	gw_sign_key_free(key);
	gw_sign_shutdown();
	return 0;
}

int main(int argc, char **argv)
{
	char path[4096];
	uint64_t n;

	if (argc < 4 ||
	    (strcmp(argv[1], "append") && strcmp(argv[1], "verify"))) {
		fprintf(stderr, "usage: bench_audit append DIR N\n"
				"       bench_audit verify DIR N RUNS [KEY "
				"CERT]\n");
		return 2;
	}
	n = strtoull(argv[3], NULL, 10);
	if (!strcmp(argv[1], "append")) {
		double fg_c, fg_t, bg_c, bg_t, sha, sq;

		snprintf(path, sizeof(path), "%s/append.db", argv[2]);
		if (append_n(path, 0, n, &fg_c, &fg_t, NULL) ||
		    append_n(path, GW_AUDIT_BACKGROUND, n, &bg_c, &bg_t, NULL))
			return 3;
		sha = sha_baseline(n);
		snprintf(path, sizeof(path), "%s/plain.db", argv[2]);
		sq = sqlite_baseline(path, n);
		unlink(path);
		printf("{\"entries\": %llu, \"foreground_eps\": %.1f, "
		       "\"background_caller_eps\": %.1f, "
		       "\"background_total_eps\": %.1f, \"sha256_eps\": %.1f, "
		       "\"sqlite_eps\": %.1f}\n",
		       (unsigned long long)n, (double)n / fg_t,
		       (double)n / bg_c, (double)n / bg_t, sha, sq);
		return 0;
	}
	if (argc != 5 && argc != 7)
		return 2;
	return bench_verify(argv[2], n, atoi(argv[4]),
			    argc == 7 ? argv[5] : NULL,
			    argc == 7 ? argv[6] : NULL);
}
