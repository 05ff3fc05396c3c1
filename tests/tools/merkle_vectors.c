/*
 * merkle_vectors.c - run the gateway's RFC 9162 Merkle code against an
 * independent suite (transparency-dev/merkle's vectors):
 *   inclusion/ (every .json) {leafIdx, treeSize, root, leafHash, proof,
 *                          wantErr}, hashes in base64; a proof must verify
 *                          exactly when wantErr is false;
 *   rfc6962-reference-tree.json  leaves, node hashes, roots for every size,
 *                          inclusion and consistency proofs (hex): ours
 *                          must match, verify, and fail once tampered with.
 * Over the reference tree it also proves every (leaf, size) inclusion and
 * every (size1, size2) consistency against the published roots, and checks
 * that consistency fails once a leaf inside the first tree is rewritten.
 *
 * Usage: merkle_vectors SUITE_DIR   (../shared/testsuites/merkle)
 * Prints "FAIL ..." for each failure and ends with "N passed, M failed".
 */
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/common.h"
#include "audit/merkle.h"

#define MAX_LEAVES 64

static int passed, failed;

static void result(int ok, const char *name, const char *why)
{
	if (ok) {
		passed++;
		return;
	}
	failed++;
	printf("FAIL %s%s%s\n", name, why ? ": " : "", why ? why : "");
}

/* Decode base64 s into out; the decoded length must be exactly want
 * (32 for a hash). Returns 0 on success. */
static int b64_hash(const char *s, uint8_t out[32])
{
	unsigned char buf[128];
	size_t len = strlen(s), pad = 0;
	int n;

	if (len == 0 || len % 4 || len > 4 * (sizeof(buf) / 3))
		return -1;
	n = EVP_DecodeBlock(buf, (const unsigned char *)s, (int)len);
	if (n < 0)
		return -1;
	/* EVP_DecodeBlock counts the padding as zero bytes. */
	if (s[len - 1] == '=')
		pad++;
	if (s[len - 2] == '=')
		pad++;
	if ((size_t)n - pad != 32)
		return -1;
	memcpy(out, buf, 32);
	return 0;
}

static int hexval(int c)
{
	return c >= '0' && c <= '9'   ? c - '0'
	       : c >= 'a' && c <= 'f' ? c - 'a' + 10
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10
				      : -1;
}

/* Decode hex s into out (cap bytes); returns the length or -1. */
static long unhex(const char *s, uint8_t *out, size_t cap)
{
	size_t len = strlen(s), i;

	if (len % 2 || len / 2 > cap)
		return -1;
	for (i = 0; i < len / 2; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return (long)(len / 2);
}

static int hex_hash(const json_t *v, uint8_t out[32])
{
	return json_is_string(v) && unhex(json_string_value(v), out, 32) == 32
		       ? 0
		       : -1;
}

/*
 * The unsigned integer value of member key in the JSON text: the vectors
 * hold indexes up to 2^64 - 1, past what jansson's json_int_t can carry,
 * so they are read from the text (the member occurs once per file).
 */
static int raw_u64(const char *text, const char *key, uint64_t *out)
{
	char pat[64], *end;
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\"", key);
	p = strstr(text, pat);
	if (!p)
		return -1;
	p += strlen(pat);
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	if (*p++ != ':')
		return -1;
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	if (*p < '0' || *p > '9')
		return -1;
	errno = 0;
	*out = strtoull(p, &end, 10);
	return errno ? -1 : 0;
}

/* One inclusion vector: passes when verification fails iff wantErr. */
static void run_inclusion_file(const char *path, const char *name)
{
	uint8_t root[32], leaf[32], proof[GW_MERKLE_MAX_PROOF + 8][32];
	const json_t *p, *item;
	struct gw_err err;
	json_error_t jerr;
	json_t *v;
	size_t len = 0, i;
	int want_err, got_err = 0;
	char why[600] = "", *text = NULL;
	uint64_t idx, size;

	v = NULL;
	if (gw_read_file(path, 0, &text, &len, &err)) {
		result(0, name, err.msg);
		return;
	}
	len = 0;
	/* Reals for the big indexes; raw_u64 reads their exact value. */
	v = json_loads(text, JSON_DECODE_INT_AS_REAL, &jerr);
	if (!v || raw_u64(text, "leafIdx", &idx) ||
	    raw_u64(text, "treeSize", &size) ||
	    !json_is_string(json_object_get(v, "root")) ||
	    !json_is_string(json_object_get(v, "leafHash")) ||
	    !json_is_boolean(json_object_get(v, "wantErr"))) {
		result(0, name, v ? "unexpected layout" : jerr.text);
		json_decref(v);
		free(text);
		return;
	}
	want_err = json_is_true(json_object_get(v, "wantErr"));
	p = json_object_get(v, "proof");
	if (b64_hash(json_string_value(json_object_get(v, "root")), root) ||
	    b64_hash(json_string_value(json_object_get(v, "leafHash")), leaf)) {
		got_err = 1;
		snprintf(why, sizeof(why), "root or leaf hash is not 32 bytes");
	}
	if (!got_err && p && !json_is_null(p)) {
		if (!json_is_array(p) ||
		    json_array_size(p) > GW_ARRAY_LEN(proof)) {
			got_err = 1;
			snprintf(why, sizeof(why),
				 "proof is not a short array");
		}
		json_array_foreach(p, i, item)
		{
			if (got_err)
				break;
			if (!json_is_string(item) ||
			    b64_hash(json_string_value(item), proof[len++])) {
				got_err = 1;
				snprintf(why, sizeof(why),
					 "proof[%zu] is not a 32-byte hash", i);
			}
		}
	}
	if (!got_err) {
		gw_err_clear(&err);
		if (gw_merkle_verify_inclusion(leaf, idx, size,
					       (const uint8_t(*)[32])proof, len,
					       root, &err)) {
			got_err = 1;
			snprintf(why, sizeof(why), "%s", err.msg);
		}
	}
	if (got_err == want_err) {
		/* VERBOSE=1 shows why each wantErr vector was refused. */
		if (want_err && getenv("VERBOSE"))
			printf("ok %s: %s\n", name, why);
		result(1, name, NULL);
	} else {
		char msg[700];

		snprintf(msg, sizeof(msg), "%s (%s)",
			 want_err ? "verified but wantErr is true"
				  : "refused but wantErr is false",
			 got_err ? why : "no error");
		result(0, name, msg);
	}
	json_decref(v);
	free(text);
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every *.json below dir, in name order. */
static void walk(const char *dir, const char *rel, int *files)
{
	char *names[512], path[4096], sub[4096];
	size_t n = 0, i;
	struct dirent *de;
	struct stat st;
	DIR *d = opendir(dir);

	if (!d) {
		result(0, dir, "cannot open the folder");
		return;
	}
	while ((de = readdir(d)) && n < GW_ARRAY_LEN(names))
		if (de->d_name[0] != '.')
			names[n++] = strdup(de->d_name);
	closedir(d);
	qsort(names, n, sizeof(*names), name_cmp);
	for (i = 0; i < n; i++) {
		size_t l = strlen(names[i]);

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		snprintf(sub, sizeof(sub), "%s%s%s", rel, *rel ? "/" : "",
			 names[i]);
		if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
			walk(path, sub, files);
		} else if (l > 5 && !strcmp(names[i] + l - 5, ".json")) {
			run_inclusion_file(path, sub);
			(*files)++;
		}
		free(names[i]);
	}
}

/* The reference tree: its leaves, every node, root, and listed proof. */
struct ref {
	uint8_t leaves[MAX_LEAVES][32];
	uint8_t roots[MAX_LEAVES + 1][32];
	size_t n;
};

static int same_proof(uint8_t got[][32], size_t got_len, const json_t *want)
{
	uint8_t h[32];
	size_t i;

	if (!json_is_array(want) || json_array_size(want) != got_len)
		return 0;
	for (i = 0; i < got_len; i++)
		if (hex_hash(json_array_get(want, i), h) ||
		    memcmp(h, got[i], 32))
			return 0;
	return 1;
}

static int load_proof(const json_t *a, uint8_t out[][32], size_t *len)
{
	size_t i;

	if (!json_is_array(a) || json_array_size(a) > GW_MERKLE_MAX_PROOF)
		return -1;
	for (i = 0; i < json_array_size(a); i++)
		if (hex_hash(json_array_get(a, i), out[i]))
			return -1;
	*len = i;
	return 0;
}

static void check_roots(const json_t *v, struct ref *r)
{
	const json_t *leaves = json_object_get(v, "leafInputsHex");
	const json_t *roots = json_object_get(v, "rootHashByTreeSizeHex");
	const json_t *levels = json_object_get(v, "nodeHashesByLevelHex");
	struct gw_merkle_leaves lv;
	struct gw_merkle_tree t;
	struct gw_err err;
	uint8_t data[256], h[32], want[32];
	char name[128], key[32];
	size_t i, j;
	long len;

	gw_err_clear(&err);
	r->n = json_array_size(leaves);
	if (r->n == 0 || r->n > MAX_LEAVES) {
		result(0, "reference tree", "no usable leafInputsHex");
		r->n = 0;
		return;
	}
	for (i = 0; i < r->n; i++) {
		const json_t *l = json_array_get(leaves, i);

		len = json_is_string(l)
			      ? unhex(json_string_value(l), data, sizeof(data))
			      : -1;
		snprintf(name, sizeof(name), "reference leaf %zu hash", i);
		if (len < 0 || gw_merkle_leaf_hash(data, (size_t)len,
						   r->leaves[i], &err)) {
			result(0, name, "cannot hash the leaf input");
			continue;
		}
		result(!hex_hash(json_array_get(json_array_get(levels, 0), i),
				 want) &&
			       !memcmp(want, r->leaves[i], 32),
		       name, "differs from nodeHashesByLevelHex[0]");
	}
	/* Every interior node the vectors list. */
	lv.hashes = (const uint8_t(*)[32])r->leaves;
	lv.n = r->n;
	for (i = 1; i < json_array_size(levels); i++) {
		for (j = 0; j < json_array_size(json_array_get(levels, i));
		     j++) {
			snprintf(name, sizeof(name),
				 "reference node level %zu "
				 "index %zu",
				 i, j);
			result(!gw_merkle_leaves_node(&lv, (unsigned)i, j, h,
						      &err) &&
				       !hex_hash(json_array_get(
							 json_array_get(levels,
									i),
							 j),
						 want) &&
				       !memcmp(h, want, 32),
			       name, err.msg[0] ? err.msg : "differs");
		}
	}
	/* Roots by size: from the leaf array and from the frontier tree. */
	if (gw_merkle_tree_init(&t, &err)) {
		result(0, "reference tree", err.msg);
		return;
	}
	for (i = 0; i <= r->n; i++) {
		snprintf(key, sizeof(key), "%zu", i);
		snprintf(name, sizeof(name), "reference root of size %zu", i);
		if (hex_hash(json_object_get(roots, key), r->roots[i])) {
			result(0, name, "missing in rootHashByTreeSizeHex");
			continue;
		}
		result(!gw_merkle_root((const uint8_t(*)[32])r->leaves, i, h) &&
			       !memcmp(h, r->roots[i], 32),
		       name, "gw_merkle_root differs");
		snprintf(name, sizeof(name), "reference tree root at size %zu",
			 i);
		result(!gw_merkle_tree_root(&t, h, &err) &&
			       !memcmp(h, r->roots[i], 32),
		       name, "gw_merkle_tree_root differs");
		if (i < r->n && gw_merkle_tree_append(&t, r->leaves[i], &err))
			result(0, name, err.msg);
	}
	gw_merkle_tree_release(&t);
	snprintf(name, sizeof(name), "reference empty root");
	result(!hex_hash(json_object_get(v, "emptyRootHex"), want) &&
		       !memcmp(want, r->roots[0], 32),
	       name, "emptyRootHex differs from the size 0 root");
}

/* Flip one bit in each hash of the proof in turn: every copy must fail. */
static int tamper_fails_inclusion(const uint8_t leaf[32], uint64_t idx,
				  uint64_t size, uint8_t proof[][32],
				  size_t len, const uint8_t root[32])
{
	size_t i;
	int ok = 1;

	for (i = 0; i < len; i++) {
		proof[i][i % 32] ^= 0x10;
		if (!gw_merkle_verify_inclusion(leaf, idx, size,
						(const uint8_t(*)[32])proof,
						len, root, NULL))
			ok = 0;
		proof[i][i % 32] ^= 0x10;
	}
	return ok;
}

static void check_listed_proofs(const json_t *v, const struct ref *r)
{
	uint8_t got[GW_MERKLE_MAX_PROOF][32], want[GW_MERKLE_MAX_PROOF][32];
	uint8_t data[256], leaf[32], root[32], root2[32];
	struct gw_merkle_leaves lv = { (const uint8_t(*)[32])r->leaves, r->n };
	const json_t *e;
	struct gw_err err;
	size_t i, glen, wlen;
	char name[160];
	long dlen;

	json_array_foreach(json_object_get(v, "inclusionProofs"), i, e)
	{
		json_int_t idx =
			json_integer_value(json_object_get(e, "leafIndex0"));
		json_int_t size =
			json_integer_value(json_object_get(e, "treeSize"));
		const json_t *in = json_object_get(e, "leafInputHex");

		gw_err_clear(&err);
		snprintf(name, sizeof(name),
			 "reference inclusion %zu "
			 "(leaf %lld, size %lld)",
			 i, (long long)idx, (long long)size);
		dlen = json_is_string(in) ? unhex(json_string_value(in), data,
						  sizeof(data))
					  : -1;
		if (dlen < 0 || idx < 0 || size < 1 || (size_t)size > r->n ||
		    idx >= size ||
		    hex_hash(json_object_get(e, "rootHex"), root) ||
		    load_proof(json_object_get(e, "proofHex"), want, &wlen) ||
		    gw_merkle_leaf_hash(data, (size_t)dlen, leaf, &err)) {
			result(0, name, "unexpected layout");
			continue;
		}
		result(!memcmp(leaf, r->leaves[idx], 32), name,
		       "leaf input does not hash to the listed leaf");
		result(!gw_merkle_inclusion_proof((uint64_t)idx, (uint64_t)size,
						  gw_merkle_leaves_node, &lv,
						  got, &glen, &err) &&
			       same_proof(got, glen,
					  json_object_get(e, "proofHex")),
		       name, err.msg[0] ? err.msg : "generated proof differs");
		result(!gw_merkle_verify_inclusion(
			       leaf, (uint64_t)idx, (uint64_t)size,
			       (const uint8_t(*)[32])want, wlen, root, &err),
		       name, err.msg);
		result(tamper_fails_inclusion(leaf, (uint64_t)idx,
					      (uint64_t)size, want, wlen, root),
		       name, "a tampered proof verified");
	}
	json_array_foreach(json_object_get(v, "consistencyProofs"), i, e)
	{
		json_int_t s1 = json_integer_value(json_object_get(e, "size1"));
		json_int_t s2 = json_integer_value(json_object_get(e, "size2"));
		size_t k;
		int tamper_ok = 1;

		gw_err_clear(&err);
		snprintf(name, sizeof(name),
			 "reference consistency %zu "
			 "(%lld to %lld)",
			 i, (long long)s1, (long long)s2);
		if (s1 < 0 || s2 < s1 || (size_t)s2 > r->n ||
		    hex_hash(json_object_get(e, "root1Hex"), root) ||
		    hex_hash(json_object_get(e, "root2Hex"), root2) ||
		    load_proof(json_object_get(e, "proofHex"), want, &wlen)) {
			result(0, name, "unexpected layout");
			continue;
		}
		result(!gw_merkle_consistency_proof((uint64_t)s1, (uint64_t)s2,
						    gw_merkle_leaves_node, &lv,
						    got, &glen, &err) &&
			       same_proof(got, glen,
					  json_object_get(e, "proofHex")),
		       name, err.msg[0] ? err.msg : "generated proof differs");
		result(!gw_merkle_verify_consistency((uint64_t)s1, (uint64_t)s2,
						     (const uint8_t(*)[32])want,
						     wlen, root, root2, &err),
		       name, err.msg);
		for (k = 0; k < wlen; k++) {
			want[k][7] ^= 0x01;
			if (!gw_merkle_verify_consistency(
				    (uint64_t)s1, (uint64_t)s2,
				    (const uint8_t(*)[32])want, wlen, root,
				    root2, NULL))
				tamper_ok = 0;
			want[k][7] ^= 0x01;
		}
		result(tamper_ok, name, "a tampered proof verified");
	}
}

/* Every (leaf, size) and (size1, size2) over the reference leaves,
 * verified against the roots the vectors publish (not ours). */
static void check_all_pairs(const struct ref *r)
{
	uint8_t proof[GW_MERKLE_MAX_PROOF][32], bad[MAX_LEAVES][32], root[32];
	struct gw_merkle_leaves lv = { (const uint8_t(*)[32])r->leaves, r->n };
	struct gw_merkle_leaves blv = { (const uint8_t(*)[32])bad, r->n };
	struct gw_err err;
	size_t m, n, j, len;
	char name[128];

	for (n = 1; n <= r->n; n++) {
		for (m = 0; m < n; m++) {
			gw_err_clear(&err);
			snprintf(name, sizeof(name),
				 "all-pairs inclusion leaf %zu size %zu", m, n);
			result(!gw_merkle_inclusion_proof(
				       m, n, gw_merkle_leaves_node, &lv, proof,
				       &len, &err) &&
				       !gw_merkle_verify_inclusion(
					       r->leaves[m], m, n,
					       (const uint8_t(*)[32])proof, len,
					       r->roots[n], &err),
			       name, err.msg);
		}
	}
	for (n = 0; n <= r->n; n++) {
		for (m = 0; m <= n; m++) {
			gw_err_clear(&err);
			snprintf(name, sizeof(name),
				 "all-pairs consistency %zu to %zu", m, n);
			result(!gw_merkle_consistency_proof(
				       m, n, gw_merkle_leaves_node, &lv, proof,
				       &len, &err) &&
				       !gw_merkle_verify_consistency(
					       m, n,
					       (const uint8_t(*)[32])proof, len,
					       r->roots[m], r->roots[n], &err),
			       name, err.msg);
		}
	}
	/* Rewrite leaf j: from an old tree that held j, no proof from the
	 * rewritten tree may reach its new root. */
	for (j = 0; j < r->n; j++) {
		memcpy(bad, r->leaves, sizeof(bad));
		bad[j][0] ^= 0x80;
		for (n = j + 1; n <= r->n; n++) {
			if (gw_merkle_root((const uint8_t(*)[32])bad, n,
					   root)) {
				result(0, "rewritten tree", "root failed");
				continue;
			}
			for (m = j + 1; m <= n; m++) {
				snprintf(name, sizeof(name),
					 "rewritten leaf %zu: consistency %zu "
					 "to %zu refused",
					 j, m, n);
				result(!gw_merkle_consistency_proof(
					       m, n, gw_merkle_leaves_node,
					       &blv, proof, &len, NULL) &&
					       gw_merkle_verify_consistency(
						       m, n,
						       (const uint8_t(*)[32])
							       proof,
						       len, r->roots[m], root,
						       NULL) == GW_ERR_REFUSED,
				       name, "verified");
			}
		}
	}
}

int main(int argc, char **argv)
{
	char path[4096];
	json_error_t jerr;
	struct ref r;
	json_t *v;
	int files = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: %s SUITE_DIR\n", argv[0]);
		return 2;
	}
	snprintf(path, sizeof(path), "%s/inclusion", argv[1]);
	walk(path, "inclusion", &files);
	if (!files)
		result(0, path, "no vectors found");
	snprintf(path, sizeof(path), "%s/rfc6962-reference-tree.json", argv[1]);
	v = json_load_file(path, 0, &jerr);
	if (!v) {
		result(0, path, jerr.text);
	} else {
		memset(&r, 0, sizeof(r));
		check_roots(v, &r);
		if (r.n) {
			check_listed_proofs(v, &r);
			check_all_pairs(&r);
		}
		json_decref(v);
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
