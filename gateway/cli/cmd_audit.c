/*
 * cmd_audit.c - "lienthong audit": the operator's and the auditor's view
 * of the verifiable audit log (gateway/audit/, docs/AUDIT.md).
 *
 * Subcommands that read the gateway's log take -c CONF and open the store
 * of its audit: section; verify-proof and verify-consistency need nothing
 * but the proof, the checkpoint and the signer's trust store or key, so an
 * auditor can run them without any access to the gateway.
 */
#include "cli/cmd_audit.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "flow/runtime.h"
#include "flow/timestamp.h"
#include "net/client.h"
#include "base/log.h"
#include "store/outbox.h"
#include "crypto/note.h"
#include "crypto/sign.h"
#include "model/validate.h"

static const char usage[] =
	"usage: lienthong audit verify -c CONF [--trust DIR | --key PUBKEY]\n"
	"                              [--require-signed]\n"
	"       lienthong audit prove -c CONF ID [-o FILE]\n"
	"       lienthong audit checkpoint -c CONF [--get SEQ|latest] [-o "
	"FILE]\n"
	"                                  [--note ED25519-KEY [--origin "
	"NAME] | --token]\n"
	"       lienthong audit timestamp -c CONF\n"
	"       lienthong audit consistency -c CONF [--from SEQ] [--to SEQ] "
	"[-o FILE]\n"
	"       lienthong audit verify-note NOTE --vkey NAME+HASH+KEY\n"
	"       lienthong audit verify-proof PROOF [--checkpoint FILE]\n"
	"                                   (--trust DIR | --key PUBKEY)\n"
	"                                   [--origin NAME] [--signer "
	"SUBJECT]\n"
	"       lienthong audit verify-consistency PROOF [--from FILE] [--to "
	"FILE]\n"
	"                                   (--trust DIR | --key PUBKEY)\n"
	"                                   [--origin NAME] [--signer "
	"SUBJECT]\n"
	"       lienthong audit ls -c CONF [--since T] [--until T] "
	"[--partner ORG]\n"
	"                          [--kind K] [--outcome O] [--format "
	"table|json|csv]\n"
	"       lienthong audit show -c CONF ID\n";

static void print_line(void *arg, gw_rc rc, const char *line)
{
	fprintf(stderr, "%s\n", line);
}
/* ---- helpers ---- */

/* The configuration and its audit log (flags as gw_audit_open) in a new
 * runtime *rt (free it; *cfg and *a borrowed from it); returns the exit
 * status, having said what failed. */
static int open_log(const char *conf, unsigned flags, struct gw_runtime **rt,
		    struct gw_config **cfg, struct gw_audit **a)
{
	enum gw_runtime_step step;
	struct gw_err err;
	gw_rc rc;

	*a = NULL;
	*cfg = NULL;
	gw_err_clear(&err);
	rc = gw_runtime_new(conf, GW_RT_AUDIT, flags, print_line, NULL, rt,
			    &step, &err);
	if (rc && step == GW_RT_STEP_CONFIG && rc == GW_ERR_CONFIG)
		return 1;
	if (rc) {
		fprintf(stderr, "lienthong audit: %s\n", err.msg);
		if (step == GW_RT_STEP_CONFIG)
			return gw_rc_exit(rc);
		return gw_rc_exit(rc) == 2 ? 3 : gw_rc_exit(rc);
	}
	*cfg = (*rt)->cfg;
	*a = (*rt)->audit;
	if (!gw_config_get(*cfg, "/audit")) {
		fprintf(stderr,
			"lienthong audit: '%s' has no audit: section (add one: "
			"see docs/AUDIT.md)\n",
			conf);
		return 1;
	}
	return 0;
}

/* The verifier of --trust/--key, else (for the gateway's own log) its
 * signing certificate as a pinned key: its checkpoints are its own, and a
 * trust store would accept any certificate of the CA (another gateway's
 * too); else its trust: dir. *v stays NULL when there is none of these;
 * which (may be NULL) says what was chosen, for the report. */
static int make_verifier(const char *trust, const char *key,
			 const struct gw_config *cfg,
			 struct gw_sign_verifier **v, char which[300])
{
	struct gw_err err;
	char *p = NULL;
	gw_rc rc;

	*v = NULL;
	gw_err_clear(&err);
	if ((rc = gw_sign_init(&err)))
		goto fail;
	if (which)
		which[0] = '\0';
	if (trust) {
		rc = gw_sign_verifier_trust(trust, v, &err);
		if (which)
			snprintf(which, 300, "the trust store '%s'", trust);
	} else if (key) {
		rc = gw_sign_verifier_key(key, v, &err);
		if (which)
			snprintf(which, 300, "the key '%s'", key);
	} else if (cfg && gw_config_get(cfg, "/signing/cert") &&
		   (p = gw_config_path(cfg, "/signing/cert"))) {
		rc = gw_sign_verifier_key(p, v, &err);
		if (which)
			snprintf(which, 300,
				 "the gateway's signing certificate '%s'", p);
	} else if (cfg && gw_config_get(cfg, "/trust/dir") &&
		   (p = gw_config_path(cfg, "/trust/dir"))) {
		rc = gw_sign_verifier_trust(p, v, &err);
		if (which)
			snprintf(which, 300,
				 "the trust store '%s' (no signing: section)",
				 p);
	}
	free(p);
	if (!rc)
		return 0;
fail:
	fprintf(stderr, "lienthong audit: %s\n", err.msg);
	return gw_rc_exit(rc) == 1 ? 1 : 3;
}

static int write_out(const char *file, const char *data, size_t len)
{
	struct gw_err err;

	if (!file || !strcmp(file, "-")) {
		if (fwrite(data, 1, len, stdout) != len || fflush(stdout)) {
			fprintf(stderr, "lienthong audit: cannot write to "
					"standard output\n");
			return 3;
		}
		return 0;
	}
	gw_err_clear(&err);
	if (gw_write_file_atomic(file, data, len, &err)) {
		fprintf(stderr, "lienthong audit: %s\n", err.msg);
		return 3;
	}
	return 0;
}

static void progress(void *arg, uint64_t done, uint64_t total)
{
	fprintf(stderr, "\r%s: %llu of %llu entries", (const char *)arg,
		(unsigned long long)done, (unsigned long long)total);
	if (done == total)
		fputc('\n', stderr);
}

static void hex(const uint8_t *p, char out[65])
{
	int i;

	for (i = 0; i < 32; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
}

static void fmt_ms(int64_t ms, char out[40])
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 40, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + strlen(out), 40 - strlen(out), ".%03dZ",
		 (int)(ms % 1000));
}

/* "2026-11-29", "2026-11-29T14:00:00Z", "...T14:00:00.123Z" or ms. */
static int parse_when(const char *s, int64_t *ms)
{
	struct tm tm;
	int n = 0, msec = 0;
	char *end;
	long long v;

	memset(&tm, 0, sizeof(tm));
	if (sscanf(s, "%4d-%2d-%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
		   &n) == 3 &&
	    !s[n]) {
		/* a date: its midnight UTC */
	} else if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year,
			  &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
			  &tm.tm_sec, &n) == 6) {
		if (s[n] == '.') {
			int k = 0;

			if (sscanf(s + n, ".%3d%n", &msec, &k) != 1)
				return -1;
			n += k;
		}
		if (strcmp(s + n, "Z"))
			return -1;
	} else {
		errno = 0;
		v = strtoll(s, &end, 10);
		if (errno || *end || end == s || v < 0)
			return -1;
		*ms = v;
		return 0;
	}
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	*ms = (int64_t)timegm(&tm) * 1000 + msec;
	return 0;
}

/* ---- verify ---- */

static int sub_verify(const char *conf, const char *trust, const char *key,
		      int require_signed)
{
	char which[300];
	struct gw_runtime *rt = NULL;
	struct gw_config *cfg = NULL;
	struct gw_audit *a = NULL;
	struct gw_sign_verifier *v = NULL;
	struct gw_audit_checkpoint c;
	struct gw_err err;
	uint64_t n = 0;
	int st;
	gw_rc rc;

	memset(&c, 0, sizeof(c));
	if ((st = open_log(conf, GW_AUDIT_READONLY, &rt, &cfg, &a)) ||
	    (st = make_verifier(trust, key, cfg, &v, which)))
		goto out;
	if (!v && require_signed) {
		fprintf(stderr,
			"lienthong audit verify: --require-signed, but '%s' "
			"has neither signing: nor trust: (give --trust DIR or "
			"--key PUBKEY)\n",
			conf);
		st = 1;
		goto out;
	}
	gw_err_clear(&err);
	rc = gw_audit_verify(a, v, isatty(2) ? progress : NULL,
			     (void *)"verifying", &n, &err);
	if (rc) {
		fprintf(stderr, "lienthong audit verify: %s\n", err.msg);
		st = gw_rc_exit(rc);
		goto out;
	}
	gw_err_clear(&err);
	if (gw_audit_checkpoint_get(a, 0, &c, &err) == GW_OK)
		printf("audit log verified: %llu entries, latest checkpoint "
		       "%llu covers %llu\n",
		       (unsigned long long)n, (unsigned long long)c.seq,
		       (unsigned long long)c.size);
	else
		printf("audit log verified: %llu entries, no checkpoint yet\n",
		       (unsigned long long)n);
	if (v)
		printf("checkpoint signatures checked against %s\n", which);
	else
		printf("checkpoint signatures NOT checked: '%s' has neither "
		       "signing: nor trust: (give --trust DIR or --key "
		       "PUBKEY; --require-signed makes this an error)\n",
		       conf);
	if (gw_config_get(cfg, "/audit/tsa")) {
		size_t ok = 0, missing = 0;
		uint64_t bad = 0;

		gw_err_clear(&err);
		if ((rc = gw_timestamp_verify_all(a, cfg, &ok, &missing, &bad,
						  &err))) {
			fprintf(stderr, "lienthong audit verify: %s\n",
				err.msg);
			st = gw_rc_exit(rc);
			goto out;
		}
		printf("timestamps (RFC 3161): %zu verified against audit.tsa, "
		       "%zu checkpoint%s without one yet\n",
		       ok, missing, missing == 1 ? "" : "s");
	}
out:
	gw_audit_checkpoint_release(&c);
	gw_sign_verifier_free(v);
	gw_runtime_free(rt);
	return st;
}

/* ---- prove ---- */

struct idx_list {
	uint64_t *v;
	size_t n, cap;
	int oom;
};

static int collect_idx(void *arg, const struct gw_audit_entry *e)
{
	struct idx_list *l = arg;

	if (l->n == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 16;
		uint64_t *m = gw_realloc(l->v, ncap * sizeof(*m));

		if (!m) {
			l->oom = 1;
			return 1;
		}
		l->v = m;
		l->cap = ncap;
	}
	l->v[l->n++] = e->index;
	return 0;
}

static int sub_prove(const char *conf, const char *id, const char *outf)
{
	struct gw_runtime *rt = NULL;
	struct gw_config *cfg = NULL;
	struct gw_audit *a = NULL;
	struct gw_audit_filter f;
	struct gw_audit_checkpoint c;
	struct idx_list l;
	struct gw_buf p;
	struct gw_err err;
	int st;
	gw_rc rc;

	memset(&c, 0, sizeof(c));
	memset(&l, 0, sizeof(l));
	memset(&f, 0, sizeof(f));
	gw_buf_init(&p);
	if ((st = open_log(conf, 0, &rt, &cfg, &a)))
		goto out;
	gw_err_clear(&err);
	f.msg_id = id;
	if ((rc = gw_audit_query(a, &f, collect_idx, &l, &err)))
		goto fail;
	if (l.oom) {
		rc = gw_err_set(&err, GW_ERR_NOMEM, "out of memory");
		goto fail;
	}
	if (!l.n) {
		fprintf(stderr,
			"lienthong audit prove: no audit entries for message "
			"'%s'\n",
			id);
		st = 1;
		goto out;
	}
	/* the latest checkpoint, or a new one when it does not cover them */
	rc = gw_audit_checkpoint_get(a, 0, &c, &err);
	if (rc == GW_ERR_USAGE || (!rc && c.size <= l.v[l.n - 1])) {
		gw_audit_checkpoint_release(&c);
		gw_err_clear(&err);
		rc = gw_audit_checkpoint(a, &c, &err);
	}
	if (rc)
		goto fail;
	if (!c.jws) {
		rc = gw_err_set(&err, GW_ERR_USAGE,
				"checkpoint %llu is not signed: configure a "
				"signing: key",
				(unsigned long long)c.seq);
		goto fail;
	}
	if ((rc = gw_audit_prove(a, l.v, l.n, c.size, &c, &p, &err)))
		goto fail;
	st = write_out(outf, p.data, p.len);
	if (!st)
		fprintf(stderr,
			"lienthong audit prove: %zu entries of '%s' proven in "
			"checkpoint %llu (%llu entries)%s%s\n",
			l.n, id, (unsigned long long)c.seq,
			(unsigned long long)c.size, outf ? ": " : "",
			outf ? outf : "");
	goto out;
fail:
	fprintf(stderr, "lienthong audit prove: %s\n", err.msg);
	st = gw_rc_exit(rc);
out:
	gw_buf_release(&p);
	gw_audit_checkpoint_release(&c);
	free(l.v);
	gw_runtime_free(rt);
	return st;
}

/* ---- checkpoint ---- */

/* The checkpoint c as a C2SP signed note (tlog-checkpoint text, signed
 * with the Ed25519 key in file note_key under origin, or the log's name)
 * into outf or standard output; its verifier key on standard error. */
static int write_note(const struct gw_config *cfg,
		      const struct gw_audit_checkpoint *c, const char *note_key,
		      const char *origin, const char *outf)
{
	struct gw_sign_key *k = NULL;
	struct gw_buf text, note, vkey;
	struct gw_err err;
	int st = 0;

	gw_buf_init(&text);
	gw_buf_init(&note);
	gw_buf_init(&vkey);
	gw_err_clear(&err);
	if (!origin)
		origin = gw_config_str(cfg, "/audit/name", NULL);
	if (!origin)
		origin = gw_config_str(cfg, "/gateway/name", "lienthong");
	if (gw_sign_key_load(note_key, NULL, NULL, NULL, &k, &err) ||
	    gw_note_checkpoint_text(origin, c->size, c->root, &text, &err) ||
	    gw_note_sign(k, origin, text.data, &note, &err) ||
	    gw_note_vkey(k, origin, &vkey, &err)) {
		fprintf(stderr, "lienthong audit checkpoint: --note %s: %s\n",
			note_key, err.msg);
		st = 1;
	} else {
		fprintf(stderr, "note verifier key: %s\n", vkey.data);
		if (outf)
			st = write_out(outf, note.data, note.len);
		else
			fwrite(note.data, 1, note.len, stdout);
	}
	gw_sign_key_free(k);
	gw_buf_release(&text);
	gw_buf_release(&note);
	gw_buf_release(&vkey);
	return st;
}

/* The RFC 3161 token of checkpoint c (DER) into outf or standard output. */
static int write_token(struct gw_audit *a, const struct gw_audit_checkpoint *c,
		       const char *outf)
{
	unsigned char *tok = NULL;
	size_t len = 0;
	int64_t gen_ms = 0;
	struct gw_err err;
	int st = 0;

	gw_err_clear(&err);
	if (gw_audit_token_get(a, c->seq, &tok, &len, &gen_ms, &err)) {
		fprintf(stderr, "lienthong audit checkpoint: %s\n", err.msg);
		return 3;
	}
	if (!tok) {
		fprintf(stderr,
			"lienthong audit checkpoint: checkpoint %llu has no "
			"timestamp yet (lienthong audit timestamp)\n",
			(unsigned long long)c->seq);
		return 1;
	}
	if (outf)
		st = write_out(outf, (const char *)tok, len);
	else
		fwrite(tok, 1, len, stdout);
	free(tok);
	return st;
}

static int sub_timestamp(const char *conf)
{
	struct gw_runtime *rt = NULL;
	struct gw_config *cfg = NULL;
	struct gw_audit *a = NULL;
	struct gw_timestamp_stats ts;
	struct gw_err err;
	int st;
	gw_rc rc;

	if ((st = open_log(conf, 0, &rt, &cfg, &a)))
		goto out;
	gw_err_clear(&err);
	if ((rc = gw_timestamp_pending(a, cfg, gw_client_transport(), &ts,
				       &err))) {
		fprintf(stderr, "lienthong audit timestamp: %s\n", err.msg);
		st = gw_rc_exit(rc);
		goto out;
	}
	printf("%zu checkpoint%s timestamped, %zu pending, %zu had a token\n",
	       ts.done, ts.done == 1 ? "" : "s", ts.pending, ts.had);
	if (ts.pending)
		fprintf(stderr,
			"lienthong audit timestamp: checkpoint %llu %s (and "
			"every pending one is in the audit log: audit ls)\n",
			(unsigned long long)ts.pending_seq, ts.pending_why);
	st = ts.pending ? 1 : 0;
out:
	gw_runtime_free(rt);
	return st;
}

static int sub_checkpoint(const char *conf, const char *get, const char *outf,
			  const char *note_key, const char *origin, int token)
{
	struct gw_runtime *rt = NULL;
	struct gw_config *cfg = NULL;
	struct gw_audit *a = NULL;
	struct gw_audit_checkpoint c;
	struct gw_err err;
	char root[65];
	int st;
	gw_rc rc;

	memset(&c, 0, sizeof(c));
	if ((st = open_log(conf, get ? GW_AUDIT_READONLY : 0, &rt, &cfg, &a)))
		goto out;
	gw_err_clear(&err);
	if (get) {
		char *end;
		unsigned long long seq =
			strcmp(get, "latest") ? strtoull(get, &end, 10) : 0;

		if (strcmp(get, "latest") && (*end || !seq)) {
			fprintf(stderr,
				"lienthong audit checkpoint: --get wants a "
				"sequence number (1, 2, ...) or 'latest', not "
				"'%s'\n",
				get);
			st = 2;
			goto out;
		}
		rc = gw_audit_checkpoint_get(a, seq, &c, &err);
	} else {
		rc = gw_audit_checkpoint(a, &c, &err);
	}
	if (rc) {
		fprintf(stderr, "lienthong audit checkpoint: %s\n", err.msg);
		st = gw_rc_exit(rc) == 2 ? 1 : gw_rc_exit(rc);
		goto out;
	}
	hex(c.root, root);
	fprintf(stderr, "checkpoint %llu: %llu entries, root %s%s\n",
		(unsigned long long)c.seq, (unsigned long long)c.size, root,
		c.jws ? "" : " (unsigned: no signing: key)");
	if (note_key)
		st = write_note(cfg, &c, note_key, origin, outf);
	else if (token)
		st = write_token(a, &c, outf);
	else if (c.jws && outf)
		st = write_out(outf, c.jws, strlen(c.jws));
	else if (c.jws)
		printf("%s\n", c.jws);
out:
	gw_audit_checkpoint_release(&c);
	gw_runtime_free(rt);
	return st;
}

/* ---- consistency ---- */

static int sub_consistency(const char *conf, const char *from, const char *to,
			   const char *outf)
{
	struct gw_runtime *rt = NULL;
	struct gw_config *cfg = NULL;
	struct gw_audit *a = NULL;
	struct gw_audit_checkpoint c1, c2;
	struct gw_buf p;
	struct gw_err err;
	unsigned long long s1 = from ? strtoull(from, NULL, 10) : 1,
			   s2 = to ? strtoull(to, NULL, 10) : 0;
	int st;
	gw_rc rc;

	memset(&c1, 0, sizeof(c1));
	memset(&c2, 0, sizeof(c2));
	gw_buf_init(&p);
	if ((from && !s1) || (to && !s2)) {
		fprintf(stderr, "lienthong audit consistency: --from and --to "
				"want checkpoint sequence numbers (1, 2, "
				"...)\n");
		return 2;
	}
	if ((st = open_log(conf, GW_AUDIT_READONLY, &rt, &cfg, &a)))
		goto out;
	gw_err_clear(&err);
	if ((rc = gw_audit_checkpoint_get(a, s1, &c1, &err)) ||
	    (rc = gw_audit_checkpoint_get(a, s2, &c2, &err)) ||
	    (rc = gw_audit_prove_consistency(a, &c1, &c2, &p, &err))) {
		fprintf(stderr, "lienthong audit consistency: %s\n", err.msg);
		st = gw_rc_exit(rc) == 2 ? 1 : gw_rc_exit(rc);
		goto out;
	}
	st = write_out(outf, p.data, p.len);
	if (!st)
		fprintf(stderr,
			"lienthong audit consistency: checkpoint %llu (%llu "
			"entries) -> checkpoint %llu (%llu entries)\n",
			(unsigned long long)c1.seq, (unsigned long long)c1.size,
			(unsigned long long)c2.seq,
			(unsigned long long)c2.size);
out:
	gw_buf_release(&p);
	gw_audit_checkpoint_release(&c1);
	gw_audit_checkpoint_release(&c2);
	gw_runtime_free(rt);
	return st;
}

/* ---- the auditor's side ---- */

static int read_in(const char *path, char **buf, size_t *len)
{
	struct gw_err err;
	gw_rc rc;

	*buf = NULL;
	if (!path)
		return 0;
	gw_err_clear(&err);
	if ((rc = gw_read_file(path, 16u << 20, buf, len, &err))) {
		fprintf(stderr, "lienthong audit: %s\n", err.msg);
		return gw_rc_exit(rc);
	}
	return 0;
}

/* ---- C2SP signed notes ---- */

static int sub_verify_note(const char *file, const char *vkey)
{
	char *nb = NULL;
	size_t len = 0, tl = 0;
	struct gw_err err;
	int st;
	gw_rc rc;

	if ((st = read_in(file, &nb, &len)))
		return st;
	gw_err_clear(&err);
	if ((rc = gw_note_verify(vkey, nb, len, &tl, &err))) {
		fprintf(stderr, "%s: note refused: %s\n", file, err.msg);
		st = gw_rc_exit(rc);
	} else {
		printf("%s: note verified, signed by %.*s; its text:\n%.*s",
		       file, (int)strcspn(vkey, "+"), vkey, (int)tl, nb);
	}
	free(nb);
	return st;
}

static int sub_verify_proof(const char *proof, const char *cp,
			    const char *trust, const char *key,
			    const struct gw_audit_expect *want)
{
	struct gw_sign_verifier *v = NULL;
	struct gw_audit_proof_info info;
	char *pb = NULL, *cb = NULL;
	size_t plen = 0, clen = 0;
	struct gw_err err;
	int st;
	gw_rc rc;

	if ((st = read_in(proof, &pb, &plen)) ||
	    (st = read_in(cp, &cb, &clen)) ||
	    (st = make_verifier(trust, key, NULL, &v, NULL)))
		goto out;
	gw_err_clear(&err);
	rc = gw_audit_verify_proof(v, want, pb, plen, cb, clen, &info, &err);
	if (rc) {
		fprintf(stderr, "%s: proof refused: %s\n", proof, err.msg);
		st = gw_rc_exit(rc);
		goto out;
	}
	printf("%s: proof holds: %zu entr%s of message '%s' in checkpoint "
	       "%llu (%llu entries) of log '%s' signed by %s\n",
	       proof, info.entries, info.entries == 1 ? "y" : "ies",
	       info.msg_id, (unsigned long long)info.seq,
	       (unsigned long long)info.size, info.origin, info.signer);
out:
	free(pb);
	free(cb);
	gw_sign_verifier_free(v);
	return st;
}

static int sub_verify_consistency(const char *proof, const char *from,
				  const char *to, const char *trust,
				  const char *key,
				  const struct gw_audit_expect *want)
{
	struct gw_audit_proof_info info;
	struct gw_sign_verifier *v = NULL;
	char *pb = NULL, *fb = NULL, *tb = NULL;
	size_t plen = 0, flen = 0, tlen = 0;
	struct gw_err err;
	int st;
	gw_rc rc;

	if ((st = read_in(proof, &pb, &plen)) ||
	    (st = read_in(from, &fb, &flen)) ||
	    (st = read_in(to, &tb, &tlen)) ||
	    (st = make_verifier(trust, key, NULL, &v, NULL)))
		goto out;
	gw_err_clear(&err);
	rc = gw_audit_verify_consistency(v, want, pb, plen, fb, flen, tb, tlen,
					 &info, &err);
	if (rc) {
		fprintf(stderr, "%s: proof refused: %s\n", proof, err.msg);
		st = gw_rc_exit(rc);
		goto out;
	}
	printf("%s: consistency holds: checkpoint %llu (%llu entries) is a "
	       "prefix of checkpoint %llu (%llu entries) of log '%s' signed "
	       "by %s\n",
	       proof, (unsigned long long)info.seq1,
	       (unsigned long long)info.size1, (unsigned long long)info.seq,
	       (unsigned long long)info.size, info.origin, info.signer);
out:
	free(pb);
	free(fb);
	free(tb);
	gw_sign_verifier_free(v);
	return st;
}

/* ---- ls and show ---- */

enum fmt { FMT_TABLE, FMT_JSON, FMT_CSV };

struct lister {
	enum fmt fmt;
	long n;
	struct gw_buf b;
	int detail;
};

static void csv_field(const char *s, int last)
{
	if (strpbrk(s, ",\"\r\n")) {
		putchar('"');
		for (; *s; s++) {
			if (*s == '"')
				putchar('"');
			putchar(*s);
		}
		putchar('"');
	} else {
		fputs(s, stdout);
	}
	putchar(last ? '\n' : ',');
}

static int list_one(void *arg, const struct gw_audit_entry *e)
{
	struct lister *l = arg;
	char t[40], idx[24];

	fmt_ms(e->time_ms, t);
	snprintf(idx, sizeof(idx), "%llu", (unsigned long long)e->index);
	if (l->fmt == FMT_JSON) {
		l->b.len = 0;
		if (gw_audit_entry_json(e, &l->b, NULL))
			return 1;
		printf("%s%s", l->n ? ",\n" : "[\n", l->b.data);
	} else if (l->fmt == FMT_CSV) {
		const char *f[] = { idx,       t,	    e->kind,
				    e->msg_id, e->msg_kind, e->direction,
				    e->sender, e->receiver, e->outcome,
				    e->reason, e->digest,   e->signer };
		size_t i;

		if (!l->n)
			puts("index,time,event,msgId,msgKind,direction,sender,"
			     "receiver,outcome,reason,digest,signer");
		for (i = 0; i < GW_ARRAY_LEN(f); i++)
			csv_field(f[i], i + 1 == GW_ARRAY_LEN(f));
	} else {
		printf("%-7s %s  %-13s %-36s %-16s %s%s%s %s%s%s\n", idx, t,
		       e->kind, e->msg_id[0] ? e->msg_id : "-",
		       e->msg_kind[0] ? e->msg_kind : "-",
		       e->sender[0] ? e->sender : "",
		       e->sender[0] || e->receiver[0] ? " -> " : "",
		       e->receiver, e->outcome, e->reason[0] ? ": " : "",
		       e->reason);
		if (l->detail)
			printf("        sha256 %s%s%s\n",
			       e->digest[0] ? e->digest : "-",
			       e->signer[0] ? "  signer " : "", e->signer);
	}
	l->n++;
	return 0;
}

static int sub_ls(const char *conf, const struct gw_audit_filter *f,
		  enum fmt fmt, int detail, const char *id)
{
	struct gw_runtime *rt = NULL;
	struct gw_config *cfg = NULL;
	struct gw_audit *a = NULL;
	struct lister l;
	struct gw_err err;
	int st;
	gw_rc rc;

	memset(&l, 0, sizeof(l));
	l.fmt = fmt;
	l.detail = detail;
	gw_buf_init(&l.b);
	if ((st = open_log(conf, GW_AUDIT_READONLY, &rt, &cfg, &a)))
		goto out;
	gw_err_clear(&err);
	rc = gw_audit_query(a, f, list_one, &l, &err);
	if (fmt == FMT_JSON)
		printf("%s]\n", l.n ? "\n" : "[");
	if (rc) {
		fprintf(stderr, "lienthong audit: %s\n", err.msg);
		st = gw_rc_exit(rc);
	} else if (id && !l.n) {
		fprintf(stderr,
			"lienthong audit show: no audit entries for message "
			"'%s'\n",
			id);
		st = 1;
	}
out:
	gw_buf_release(&l.b);
	gw_runtime_free(rt);
	return st;
}

int gw_cmd_audit(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "output", required_argument, NULL, 'o' },
		{ "trust", required_argument, NULL, 't' },
		{ "key", required_argument, NULL, 'k' },
		{ "checkpoint", required_argument, NULL, 'C' },
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 'T' },
		{ "get", required_argument, NULL, 'g' },
		{ "since", required_argument, NULL, 's' },
		{ "until", required_argument, NULL, 'u' },
		{ "partner", required_argument, NULL, 'p' },
		{ "kind", required_argument, NULL, 'K' },
		{ "outcome", required_argument, NULL, 'O' },
		{ "format", required_argument, NULL, 'F' },
		{ "origin", required_argument, NULL, 'N' },
		{ "signer", required_argument, NULL, 'S' },
		{ "require-signed", no_argument, NULL, 'R' },
		{ "note", required_argument, NULL, 'e' },
		{ "vkey", required_argument, NULL, 'V' },
		{ "token", no_argument, NULL, 'X' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *sub, *conf = NULL, *outf = NULL, *trust = NULL, *key = NULL,
			 *cp = NULL, *from = NULL, *to = NULL, *get = NULL,
			 *format = "table", *note_key = NULL, *vkey = NULL;
	struct gw_audit_filter f;
	struct gw_audit_expect want;
	enum fmt fmt = FMT_TABLE;
	int c, nargs, require_signed = 0, token = 0;
	char **args;

	memset(&f, 0, sizeof(f));
	memset(&want, 0, sizeof(want));
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	sub = argv[1];
	optind = 0;
	/* options may come before or after the operands */
	while ((c = getopt_long(argc - 1, argv + 1, "c:o:h", opts, NULL)) !=
	       -1) {
		switch (c) {
		case 'c': conf = optarg; break;
		case 'o': outf = optarg; break;
		case 't': trust = optarg; break;
		case 'k': key = optarg; break;
		case 'C': cp = optarg; break;
		case 'f': from = optarg; break;
		case 'T': to = optarg; break;
		case 'g': get = optarg; break;
		case 'p': f.partner = optarg; break;
		case 'K': f.kind = optarg; break;
		case 'O': f.outcome = optarg; break;
		case 'F': format = optarg; break;
		case 'N': want.origin = optarg; break;
		case 'e': note_key = optarg; break;
		case 'V': vkey = optarg; break;
		case 'X': token = 1; break;
		case 'S': want.signer = optarg; break;
		case 'R': require_signed = 1; break;
		case 's':
		case 'u':
			if (parse_when(optarg,
				       c == 's' ? &f.since_ms : &f.until_ms)) {
				fprintf(stderr,
					"lienthong audit: --%s wants a time "
					"like 2026-11-29, "
					"2026-11-29T14:00:00Z or milliseconds, "
					"not '%s'\n",
					c == 's' ? "since" : "until", optarg);
				return 2;
			}
			break;
		case 'h': fputs(usage, stdout); return 0;
		default: fputs(usage, stderr); return 2;
		}
	}
	args = argv + 1 + optind;
	nargs = argc - 1 - optind;
	if (!strcmp(format, "table"))
		fmt = FMT_TABLE;
	else if (!strcmp(format, "json"))
		fmt = FMT_JSON;
	else if (!strcmp(format, "csv"))
		fmt = FMT_CSV;
	else {
		fprintf(stderr,
			"lienthong audit: --format is table, json or csv, not "
			"'%s'\n",
			format);
		return 2;
	}
	if (trust && key) {
		fprintf(stderr, "lienthong audit: give --trust or --key, not "
				"both\n");
		return 2;
	}
	if (!strcmp(sub, "verify-note")) {
		if (nargs != 1 || !vkey) {
			fprintf(stderr, "usage: lienthong audit verify-note "
					"NOTE --vkey NAME+HASH+KEY\n");
			return 2;
		}
		return sub_verify_note(args[0], vkey);
	}
	if (!strcmp(sub, "verify-proof") ||
	    !strcmp(sub, "verify-consistency")) {
		if (nargs != 1 || (!trust && !key)) {
			fprintf(stderr,
				"usage: lienthong audit %s PROOF ... (--trust "
				"DIR | --key PUBKEY)\n",
				sub);
			return 2;
		}
		return !strcmp(sub, "verify-proof")
			       ? sub_verify_proof(args[0], cp, trust, key,
						  &want)
			       : sub_verify_consistency(args[0], from, to,
							trust, key, &want);
	}
	if (!conf) {
		fprintf(stderr, "lienthong audit %s: -c CONF is required\n%s",
			sub, usage);
		return 2;
	}
	if (!strcmp(sub, "verify") && nargs == 0)
		return sub_verify(conf, trust, key, require_signed);
	if (!strcmp(sub, "prove") && nargs == 1)
		return sub_prove(conf, args[0], outf);
	if (!strcmp(sub, "checkpoint") && nargs == 0)
		return sub_checkpoint(conf, get, outf, note_key, want.origin,
				      token);
	if (!strcmp(sub, "timestamp") && nargs == 0)
		return sub_timestamp(conf);
	if (!strcmp(sub, "consistency") && nargs == 0)
		return sub_consistency(conf, from, to, outf);
	if (!strcmp(sub, "ls") && nargs == 0)
		return sub_ls(conf, &f, fmt, 0, NULL);
	if (!strcmp(sub, "show") && nargs == 1) {
		memset(&f, 0, sizeof(f));
		f.msg_id = args[0];
		return sub_ls(conf, &f, fmt, 1, args[0]);
	}
	fprintf(stderr,
		"lienthong audit: unknown subcommand or wrong operands "
		"'%s'\n%s",
		sub, usage);
	return 2;
}
