/*
 * offline.c - the offline verifier of the audit log (see audit.h and
 * docs/AUDIT.md): a checkpoint's text (a flattened JWS checked by
 * crypto/sign.c, or the plain object of an unsigned test log), and
 * inclusion and consistency proof documents, checked from their text
 * alone, with no log and no store: what an auditor runs on what a gateway
 * handed out.
 */
#include "audit/internal.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/sign.h"
#include "model/jcs.h"

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
	    gw_audit_unhex(json_string_value(json_object_get(j, "rootHash")),
			   c->root, 32) ||
	    gw_audit_parse_time(json_string_value(json_object_get(j, "time")),
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
		if (gw_audit_unhex(json_string_value(json_array_get(arr, i)),
				   p[i], 32))
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
