/* test_merkle.c - RFC 9162 Merkle trees: roots checked against hand-built
 * node expressions and a straight recursive transcription of the RFC's
 * MTH, PATH and SUBPROOF (one-shot SHA-256, none of merkle.c's code),
 * proofs for every pair of sizes up to 64 leaves, tampered proofs and
 * rewritten trees refused, and proofs in trees of 2^64 - 1 leaves. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/common.h"
#include "audit/merkle.h"

#define N 64

/* ---- reference: RFC 9162 2.1 written out recursively ---- */

static void sha(const void *a, size_t alen, const void *b, size_t blen,
		const void *c, size_t clen, uint8_t out[32])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	assert_non_null(ctx);
	assert_true(EVP_DigestInit_ex(ctx, EVP_sha256(), NULL));
	assert_true(EVP_DigestUpdate(ctx, a, alen));
	assert_true(EVP_DigestUpdate(ctx, b, blen));
	assert_true(EVP_DigestUpdate(ctx, c, clen));
	assert_true(EVP_DigestFinal_ex(ctx, out, NULL));
	EVP_MD_CTX_free(ctx);
}

static void ref_leaf(const void *d, size_t len, uint8_t out[32])
{
	sha("\x00", 1, d, len, "", 0, out);
}

static void ref_node(const uint8_t l[32], const uint8_t r[32], uint8_t out[32])
{
	sha("\x01", 1, l, 32, r, 32, out);
}

static size_t ref_k(size_t n) /* largest power of two < n */
{
	size_t k = 1;

	while (k * 2 < n)
		k *= 2;
	return k;
}

/* MTH over hashes of the entries d[0..n) (already leaf-hashed). */
static void ref_mth(uint8_t (*d)[32], size_t n, uint8_t out[32])
{
	uint8_t l[32], r[32];
	size_t k;

	if (n == 0) {
		sha("", 0, "", 0, "", 0, out);
		return;
	}
	if (n == 1) {
		memcpy(out, d[0], 32);
		return;
	}
	k = ref_k(n);
	ref_mth(d, k, l);
	ref_mth(d + k, n - k, r);
	ref_node(l, r, out);
}

static void ref_path(size_t m, uint8_t (*d)[32], size_t n, uint8_t (*p)[32],
		     size_t *len)
{
	size_t k;

	if (n == 1)
		return;
	k = ref_k(n);
	if (m < k) {
		ref_path(m, d, k, p, len);
		ref_mth(d + k, n - k, p[(*len)++]);
	} else {
		ref_path(m - k, d + k, n - k, p, len);
		ref_mth(d, k, p[(*len)++]);
	}
}

static void ref_subproof(size_t m, uint8_t (*d)[32], size_t n, int b,
			 uint8_t (*p)[32], size_t *len)
{
	size_t k;

	if (m == n) {
		if (!b)
			ref_mth(d, m, p[(*len)++]);
		return;
	}
	k = ref_k(n);
	if (m <= k) {
		ref_subproof(m, d, k, b, p, len);
		ref_mth(d + k, n - k, p[(*len)++]);
	} else {
		ref_subproof(m - k, d + k, n - k, 0, p, len);
		ref_mth(d, k, p[(*len)++]);
	}
}

/* ---- fixtures ---- */

static uint8_t leaves[N][32];

static void make_leaves(uint8_t (*l)[32], size_t n, int salt)
{
	char entry[64];
	size_t i;

	for (i = 0; i < n; i++) {
		int len = snprintf(entry, sizeof(entry),
				   "{\"audit\":%zu,\"salt\":%d}", i, salt);

		ref_leaf(entry, (size_t)len, l[i]);
	}
}

static int setup(void **state)
{
	(void)state;
	make_leaves(leaves, N, 0);
	return 0;
}

static void hex32(const char *hex, uint8_t out[32])
{
	int i;
	unsigned v;

	for (i = 0; i < 32; i++) {
		assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
}

/* ---- tests ---- */

static void test_merkle__well_known_hashes(void **state)
{
	uint8_t got[32], want[32];
	struct gw_err err;

	(void)state;
	gw_err_clear(&err);
	/* SHA-256("") and SHA-256(0x00), as every CT log knows them. */
	hex32("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85"
	      "5",
	      want);
	assert_int_equal(gw_merkle_root(NULL, 0, got), GW_OK);
	assert_memory_equal(got, want, 32);
	hex32("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01"
	      "d",
	      want);
	assert_int_equal(gw_merkle_leaf_hash("", 0, got, &err), GW_OK);
	assert_memory_equal(got, want, 32);
	/* The one-leaf tree's root is its leaf hash. */
	assert_int_equal(gw_merkle_root((const uint8_t(*)[32]) & want, 1, got),
			 GW_OK);
	assert_memory_equal(got, want, 32);
}

static void test_merkle__small_trees_by_hand(void **state)
{
	uint8_t l[7][32], ab[32], cd[32], ef[32], abcd[32], efg[32], want[32],
		got[32];
	const char *names[7] = { "a", "b", "c", "d", "e", "f", "g" };
	struct gw_err err;
	int i;

	(void)state;
	gw_err_clear(&err);
	for (i = 0; i < 7; i++) {
		ref_leaf(names[i], 1, l[i]);
		assert_int_equal(gw_merkle_leaf_hash(names[i], 1, got, &err),
				 GW_OK);
		assert_memory_equal(got, l[i], 32);
	}
	ref_node(l[0], l[1], ab);
	ref_node(l[2], l[3], cd);
	ref_node(l[4], l[5], ef);
	ref_node(ab, cd, abcd);
	assert_int_equal(gw_merkle_node_hash(l[0], l[1], got, &err), GW_OK);
	assert_memory_equal(got, ab, 32);

	assert_int_equal(gw_merkle_root((const uint8_t(*)[32])l, 2, got),
			 GW_OK);
	assert_memory_equal(got, ab, 32);
	/* 3 leaves: ((a b) c), the odd leaf is not duplicated or hashed. */
	ref_node(ab, l[2], want);
	assert_int_equal(gw_merkle_root((const uint8_t(*)[32])l, 3, got),
			 GW_OK);
	assert_memory_equal(got, want, 32);
	assert_int_equal(gw_merkle_root((const uint8_t(*)[32])l, 4, got),
			 GW_OK);
	assert_memory_equal(got, abcd, 32);
	/* 5 leaves: (((a b)(c d)) e). */
	ref_node(abcd, l[4], want);
	assert_int_equal(gw_merkle_root((const uint8_t(*)[32])l, 5, got),
			 GW_OK);
	assert_memory_equal(got, want, 32);
	/* 7 leaves: (((a b)(c d)) ((e f) g)). */
	ref_node(ef, l[6], efg);
	ref_node(abcd, efg, want);
	assert_int_equal(gw_merkle_root((const uint8_t(*)[32])l, 7, got),
			 GW_OK);
	assert_memory_equal(got, want, 32);
}

static void test_merkle__tree_roots_match_rfc_definition(void **state)
{
	struct gw_merkle_tree t;
	uint8_t got[32], want[32];
	struct gw_err err;
	size_t n;

	(void)state;
	gw_err_clear(&err);
	assert_int_equal(gw_merkle_tree_init(&t, &err), GW_OK);
	for (n = 0; n <= N; n++) {
		ref_mth(leaves, n, want);
		assert_int_equal(
			gw_merkle_root((const uint8_t(*)[32])leaves, n, got),
			GW_OK);
		assert_memory_equal(got, want, 32);
		assert_int_equal(gw_merkle_tree_size(&t), n);
		assert_int_equal(gw_merkle_tree_root(&t, got, &err), GW_OK);
		assert_memory_equal(got, want, 32);
		if (n < N)
			assert_int_equal(
				gw_merkle_tree_append(&t, leaves[n], &err),
				GW_OK);
	}
	gw_merkle_tree_release(&t);
	gw_merkle_tree_release(&t); /* released twice is harmless */
	/* Appending entries hashes them as leaves. */
	assert_int_equal(gw_merkle_tree_init(&t, &err), GW_OK);
	assert_int_equal(gw_merkle_tree_append_entry(&t, "a", 1, got, &err),
			 GW_OK);
	ref_leaf("a", 1, want);
	assert_memory_equal(got, want, 32);
	assert_int_equal(gw_merkle_tree_append_entry(&t, "b", 1, NULL, &err),
			 GW_OK);
	ref_leaf("b", 1, got);
	ref_node(want, got, want);
	assert_int_equal(gw_merkle_tree_root(&t, got, &err), GW_OK);
	assert_memory_equal(got, want, 32);
	gw_merkle_tree_release(&t);
	gw_merkle_tree_release(NULL);
}

static void test_merkle__frontier_save_and_restore(void **state)
{
	struct gw_merkle_tree a, b;
	uint8_t fr[64][32], ra[32], rb[32];
	struct gw_err err;
	size_t count, i;

	(void)state;
	gw_err_clear(&err);
	assert_int_equal(gw_merkle_tree_init(&a, &err), GW_OK);
	assert_int_equal(gw_merkle_tree_init(&b, &err), GW_OK);
	for (i = 0; i < 37; i++)
		assert_int_equal(gw_merkle_tree_append(&a, leaves[i], &err),
				 GW_OK);
	count = gw_merkle_tree_frontier(&a, fr);
	assert_int_equal(count, 3); /* 37 = 32 + 4 + 1 */
	ref_mth(leaves, 32, ra);
	assert_memory_equal(fr[0], ra, 32);
	assert_memory_equal(fr[2], leaves[36], 32);
	assert_int_equal(gw_merkle_tree_restore(
				 &b, 37, (const uint8_t(*)[32])fr, 2, &err),
			 GW_ERR_USAGE);
	assert_non_null(strstr(err.msg, "frontier"));
	assert_int_equal(gw_merkle_tree_restore(
				 &b, 37, (const uint8_t(*)[32])fr, count, &err),
			 GW_OK);
	for (; i < N; i++) {
		assert_int_equal(gw_merkle_tree_append(&a, leaves[i], &err),
				 GW_OK);
		assert_int_equal(gw_merkle_tree_append(&b, leaves[i], &err),
				 GW_OK);
		assert_int_equal(gw_merkle_tree_root(&a, ra, &err), GW_OK);
		assert_int_equal(gw_merkle_tree_root(&b, rb, &err), GW_OK);
		assert_memory_equal(ra, rb, 32);
	}
	gw_merkle_tree_release(&a);
	gw_merkle_tree_release(&b);
}

static void test_merkle__inclusion_every_leaf_and_size(void **state)
{
	uint8_t proof[GW_MERKLE_MAX_PROOF][32], want[GW_MERKLE_MAX_PROOF][32];
	uint8_t root[32];
	struct gw_merkle_leaves lv = { (const uint8_t(*)[32])leaves, N };
	struct gw_err err;
	size_t n, m, len, wlen;

	(void)state;
	for (n = 1; n <= N; n++) {
		ref_mth(leaves, n, root);
		for (m = 0; m < n; m++) {
			gw_err_clear(&err);
			wlen = 0;
			ref_path(m, leaves, n, want, &wlen);
			assert_int_equal(gw_merkle_inclusion_proof(
						 m, n, gw_merkle_leaves_node,
						 &lv, proof, &len, &err),
					 GW_OK);
			assert_int_equal(len, wlen);
			if (len)
				assert_memory_equal(proof, want, len * 32);
			if (gw_merkle_verify_inclusion(
				    leaves[m], m, n,
				    (const uint8_t(*)[32])proof, len, root,
				    &err))
				fail_msg("leaf %zu size %zu: %s", m, n,
					 err.msg);
		}
	}
}

static void expect_refused(gw_rc rc, const struct gw_err *err, const char *part)
{
	assert_int_equal(rc, GW_ERR_REFUSED);
	if (!strstr(err->msg, part))
		fail_msg("message '%s' lacks '%s'", err->msg, part);
}

static void test_merkle__inclusion_tampering_refused(void **state)
{
	uint8_t proof[GW_MERKLE_MAX_PROOF + 1][32], root[32], other[32];
	struct gw_merkle_leaves lv = { (const uint8_t(*)[32])leaves, N };
	const uint8_t(*p)[32] = (const uint8_t(*)[32])proof;
	struct gw_err err;
	size_t len, i;
	int bit;

	(void)state;
	gw_err_clear(&err);
	ref_mth(leaves, 45, root);
	assert_int_equal(gw_merkle_inclusion_proof(21, 45,
						   gw_merkle_leaves_node, &lv,
						   proof, &len, &err),
			 GW_OK);
	assert_int_equal(gw_merkle_verify_inclusion(leaves[21], 21, 45, p, len,
						    root, &err),
			 GW_OK);
	/* Every single bit of every proof hash matters. */
	for (i = 0; i < len; i++) {
		for (bit = 0; bit < 256; bit++) {
			proof[i][bit / 8] ^= (uint8_t)(1u << (bit % 8));
			assert_int_equal(
				gw_merkle_verify_inclusion(leaves[21], 21, 45,
							   p, len, root, NULL),
				GW_ERR_REFUSED);
			proof[i][bit / 8] ^= (uint8_t)(1u << (bit % 8));
		}
	}
	expect_refused(gw_merkle_verify_inclusion(leaves[22], 21, 45, p, len,
						  root, &err),
		       &err, "does not lead to the expected root");
	expect_refused(gw_merkle_verify_inclusion(leaves[21], 20, 45, p, len,
						  root, &err),
		       &err, "expected root");
	ref_mth(leaves, 46, other);
	expect_refused(gw_merkle_verify_inclusion(leaves[21], 21, 46, p, len,
						  other, &err),
		       &err, "expected root");
	expect_refused(gw_merkle_verify_inclusion(leaves[21], 21, 45, p, len,
						  other, &err),
		       &err, "expected root");
	expect_refused(gw_merkle_verify_inclusion(leaves[21], 45, 45, p, len,
						  root, &err),
		       &err, "out of range");
	expect_refused(gw_merkle_verify_inclusion(leaves[21], 21, 0, p, len,
						  root, &err),
		       &err, "out of range");
	expect_refused(gw_merkle_verify_inclusion(leaves[21], 21, 45, p,
						  len - 1, root, &err),
		       &err, "needs 6");
	memcpy(proof[len], root, 32);
	expect_refused(gw_merkle_verify_inclusion(leaves[21], 21, 45, p,
						  len + 1, root, &err),
		       &err, "needs 6");
	/* A size whose path has the same shape verifies too: the proof binds
	 * the root, and only the signed tree head binds root and size. */
	assert_int_equal(gw_merkle_verify_inclusion(leaves[21], 21, 44, p, len,
						    root, &err),
			 GW_OK);
}

static void test_merkle__consistency_every_pair(void **state)
{
	uint8_t proof[GW_MERKLE_MAX_PROOF][32], want[GW_MERKLE_MAX_PROOF][32];
	uint8_t roots[N + 1][32];
	struct gw_merkle_leaves lv = { (const uint8_t(*)[32])leaves, N };
	struct gw_err err;
	size_t n, m, len, wlen;

	(void)state;
	for (n = 0; n <= N; n++)
		ref_mth(leaves, n, roots[n]);
	for (n = 0; n <= N; n++) {
		for (m = 0; m <= n; m++) {
			gw_err_clear(&err);
			wlen = 0;
			if (m && m < n)
				ref_subproof(m, leaves, n, 1, want, &wlen);
			assert_int_equal(gw_merkle_consistency_proof(
						 m, n, gw_merkle_leaves_node,
						 &lv, proof, &len, &err),
					 GW_OK);
			assert_int_equal(len, wlen);
			if (len)
				assert_memory_equal(proof, want, len * 32);
			if (gw_merkle_verify_consistency(
				    m, n, (const uint8_t(*)[32])proof, len,
				    roots[m], roots[n], &err))
				fail_msg("%zu to %zu: %s", m, n, err.msg);
			/* Swapped roots never verify (unless equal). */
			if (m && m < n)
				assert_int_equal(
					gw_merkle_verify_consistency(
						m, n,
						(const uint8_t(*)[32])proof,
						len, roots[n], roots[m], NULL),
					GW_ERR_REFUSED);
		}
	}
}

static void test_merkle__consistency_rewritten_tree_refused(void **state)
{
	static uint8_t bad[N][32];
	uint8_t proof[GW_MERKLE_MAX_PROOF][32], good[GW_MERKLE_MAX_PROOF][32];
	uint8_t old_root[32], new_root[32], true_root[32];
	struct gw_merkle_leaves blv = { (const uint8_t(*)[32])bad, N };
	struct gw_merkle_leaves lv = { (const uint8_t(*)[32])leaves, N };
	struct gw_err err;
	size_t j, m, n, len, glen, k;

	(void)state;
	for (j = 0; j < N; j += 7) {
		memcpy(bad, leaves, sizeof(bad));
		bad[j][31] ^= 1; /* the log rewrote entry j */
		for (n = j + 1; n <= N; n += 3) {
			ref_mth(bad, n, new_root);
			ref_mth(leaves, n, true_root);
			for (m = j + 1; m <= n; m++) {
				gw_err_clear(&err);
				ref_mth(leaves, m, old_root);
				/* The rewritten log's own proof fails... */
				assert_int_equal(
					gw_merkle_consistency_proof(
						m, n, gw_merkle_leaves_node,
						&blv, proof, &len, &err),
					GW_OK);
				expect_refused(
					gw_merkle_verify_consistency(
						m, n,
						(const uint8_t(*)[32])proof,
						len, old_root, new_root, &err),
					&err, "root");
				/* ...and so does the honest proof with the
				 * rewritten root, hash by hash mixed in. */
				assert_int_equal(
					gw_merkle_consistency_proof(
						m, n, gw_merkle_leaves_node,
						&lv, good, &glen, &err),
					GW_OK);
				if (m < n)
					expect_refused(
						gw_merkle_verify_consistency(
							m, n,
							(const uint8_t(*)[32])
								good,
							glen, old_root,
							new_root, &err),
						&err, "second root");
				for (k = 0; k < glen; k++) {
					good[k][0] ^= 0x40;
					assert_int_equal(
						gw_merkle_verify_consistency(
							m, n,
							(const uint8_t(*)[32])
								good,
							glen, old_root,
							true_root, NULL),
						GW_ERR_REFUSED);
					good[k][0] ^= 0x40;
				}
			}
		}
	}
	/* A rewrite past the first tree is just a different append. */
	memcpy(bad, leaves, sizeof(bad));
	bad[40][0] ^= 1;
	ref_mth(leaves, 40, old_root);
	ref_mth(bad, 50, new_root);
	assert_int_equal(gw_merkle_consistency_proof(40, 50,
						     gw_merkle_leaves_node,
						     &blv, proof, &len, &err),
			 GW_OK);
	assert_int_equal(gw_merkle_verify_consistency(
				 40, 50, (const uint8_t(*)[32])proof, len,
				 old_root, new_root, &err),
			 GW_OK);
}

static void test_merkle__consistency_edge_cases(void **state)
{
	uint8_t proof[GW_MERKLE_MAX_PROOF + 1][32], r5[32], r8[32], r4[32],
		r0[32];
	struct gw_merkle_leaves lv = { (const uint8_t(*)[32])leaves, N };
	const uint8_t(*p)[32] = (const uint8_t(*)[32])proof;
	struct gw_err err;
	size_t len;

	(void)state;
	gw_err_clear(&err);
	ref_mth(leaves, 4, r4);
	ref_mth(leaves, 5, r5);
	ref_mth(leaves, 8, r8);
	/* Empty tree: consistent with everything, but only by an empty
	 * proof, and only with the root of the empty tree (issue 23). */
	ref_mth(leaves, 0, r0);
	assert_int_equal(gw_merkle_verify_consistency(0, 8, p, 0, r0, r8, &err),
			 GW_OK);
	assert_int_equal(gw_merkle_verify_consistency(0, 0, p, 0, r0, r0, &err),
			 GW_OK);
	expect_refused(gw_merkle_verify_consistency(0, 8, p, 0, r5, r8, &err),
		       &err, "size 0");
	expect_refused(gw_merkle_verify_consistency(0, 0, p, 0, r5, r5, &err),
		       &err, "size 0");
	expect_refused(gw_merkle_verify_consistency(0, 0, p, 0, r0, r5, &err),
		       &err, "differ");
	memcpy(proof[0], r8, 32);
	expect_refused(gw_merkle_verify_consistency(0, 8, p, 1, r0, r8, &err),
		       &err, "need none");
	/* Equal sizes: empty proof and equal roots. */
	assert_int_equal(gw_merkle_verify_consistency(8, 8, p, 0, r8, r8, &err),
			 GW_OK);
	expect_refused(gw_merkle_verify_consistency(8, 8, p, 1, r8, r8, &err),
		       &err, "need none");
	expect_refused(gw_merkle_verify_consistency(8, 8, p, 0, r8, r5, &err),
		       &err, "differ");
	expect_refused(gw_merkle_verify_consistency(8, 5, p, 0, r8, r5, &err),
		       &err, "larger");
	/* Wrong lengths, both ways, and an empty proof for real sizes. */
	assert_int_equal(gw_merkle_consistency_proof(5, 8,
						     gw_merkle_leaves_node, &lv,
						     proof, &len, &err),
			 GW_OK);
	assert_int_equal(
		gw_merkle_verify_consistency(5, 8, p, len, r5, r8, &err),
		GW_OK);
	expect_refused(
		gw_merkle_verify_consistency(5, 8, p, len - 1, r5, r8, &err),
		&err, "need");
	expect_refused(
		gw_merkle_verify_consistency(5, 8, p, len + 1, r5, r8, &err),
		&err, "need");
	expect_refused(gw_merkle_verify_consistency(5, 8, p, 0, r5, r8, &err),
		       &err, "need");
	assert_int_equal(gw_merkle_consistency_proof(5, 8,
						     gw_merkle_leaves_node, &lv,
						     proof, &len, &err),
			 GW_OK);
	expect_refused(gw_merkle_verify_consistency(5, 8, p, len, r4, r8, &err),
		       &err, "first root");
	/* A power-of-two first size carries no copy of its own root. */
	assert_int_equal(gw_merkle_consistency_proof(4, 8,
						     gw_merkle_leaves_node, &lv,
						     proof, &len, &err),
			 GW_OK);
	assert_int_equal(len, 1);
	assert_int_equal(
		gw_merkle_verify_consistency(4, 8, p, len, r4, r8, &err),
		GW_OK);
	expect_refused(gw_merkle_verify_consistency(4, 8, p, len, r5, r8, &err),
		       &err, "root");
}

static gw_rc failing_node(void *arg, unsigned level, uint64_t index,
			  uint8_t out[32], struct gw_err *err)
{
	return gw_err_set(err, GW_ERR_IO, "cannot read node %u/%llu", level,
			  (unsigned long long)index);
}

static void test_merkle__usage_errors(void **state)
{
	uint8_t proof[GW_MERKLE_MAX_PROOF][32], h[32];
	struct gw_merkle_leaves lv = { (const uint8_t(*)[32])leaves, 10 };
	struct gw_merkle_tree t;
	struct gw_err err;
	size_t len = 99;

	(void)state;
	gw_err_clear(&err);
	assert_int_equal(gw_merkle_inclusion_proof(10, 10,
						   gw_merkle_leaves_node, &lv,
						   proof, &len, &err),
			 GW_ERR_USAGE);
	assert_int_equal(len, 0);
	assert_non_null(strstr(err.msg, "out of range"));
	assert_int_equal(gw_merkle_consistency_proof(6, 5,
						     gw_merkle_leaves_node, &lv,
						     proof, &len, &err),
			 GW_ERR_USAGE);
	/* Asking the leaves for more than they hold. */
	assert_int_equal(gw_merkle_inclusion_proof(3, 11, gw_merkle_leaves_node,
						   &lv, proof, &len, &err),
			 GW_ERR_USAGE);
	assert_non_null(strstr(err.msg, "past"));
	assert_int_equal(gw_merkle_leaves_node(&lv, 3, 1, h, &err),
			 GW_ERR_USAGE);
	assert_int_equal(gw_merkle_leaves_node(&lv, 64, 0, h, &err),
			 GW_ERR_USAGE);
	assert_int_equal(gw_merkle_leaves_node(&lv, 3, 0, h, &err), GW_OK);
	/* The source's own failure comes through unchanged. */
	assert_int_equal(gw_merkle_inclusion_proof(3, 10, failing_node, NULL,
						   proof, &len, &err),
			 GW_ERR_IO);
	assert_non_null(strstr(err.msg, "cannot read node"));
	assert_int_equal(gw_merkle_consistency_proof(3, 10, failing_node, NULL,
						     proof, &len, &err),
			 GW_ERR_IO);
	/* A tree that was never set up. */
	memset(&t, 0, sizeof(t));
	assert_int_equal(gw_merkle_tree_append(&t, h, &err), GW_ERR_USAGE);
	assert_int_equal(gw_merkle_tree_root(&t, h, &err), GW_ERR_USAGE);
	gw_merkle_tree_release(&t);
}

/*
 * Huge trees: with every leaf equal, the perfect subtree of 2^l leaves
 * has the same hash P[l] wherever it sits, so a node source answers any
 * size up to 2^64 - 1 in O(1) and the roots fold from P.
 */
static uint8_t same[65][32];

static gw_rc same_node(void *arg, unsigned level, uint64_t index,
		       uint8_t out[32], struct gw_err *err)
{
	memcpy(out, same[level], 32);
	return GW_OK;
}

static void same_root(uint64_t size, uint8_t out[32])
{
	int level, first = 1;

	for (level = 0; level < 64; level++) {
		if (!(size >> level & 1))
			continue;
		if (first)
			memcpy(out, same[level], 32);
		else
			ref_node(same[level], out, out);
		first = 0;
	}
}

static void test_merkle__proofs_in_huge_trees(void **state)
{
	static const uint64_t sizes[] = {
		1,
		2,
		3,
		1000000,
		(1ull << 32) + 1,
		(1ull << 63),
		(1ull << 63) + 12345,
		UINT64_MAX - 1,
		UINT64_MAX,
	};
	uint8_t proof[GW_MERKLE_MAX_PROOF][32], r1[32], r2[32];
	struct gw_err err;
	size_t i, j, len;
	int l;

	(void)state;
	memcpy(same[0], leaves[0], 32);
	for (l = 1; l < 65; l++)
		ref_node(same[l - 1], same[l - 1], same[l]);
	for (i = 0; i < GW_ARRAY_LEN(sizes); i++) {
		uint64_t n = sizes[i], idx[] = { 0, n / 3, n / 2, n - 1 };

		same_root(n, r2);
		for (j = 0; j < GW_ARRAY_LEN(idx); j++) {
			gw_err_clear(&err);
			assert_int_equal(gw_merkle_inclusion_proof(
						 idx[j], n, same_node, NULL,
						 proof, &len, &err),
					 GW_OK);
			assert_true(len <= 64);
			if (gw_merkle_verify_inclusion(
				    same[0], idx[j], n,
				    (const uint8_t(*)[32])proof, len, r2, &err))
				fail_msg("leaf %llu of %llu: %s",
					 (unsigned long long)idx[j],
					 (unsigned long long)n, err.msg);
		}
		for (j = 0; j <= i; j++) {
			gw_err_clear(&err);
			same_root(sizes[j], r1);
			assert_int_equal(gw_merkle_consistency_proof(
						 sizes[j], n, same_node, NULL,
						 proof, &len, &err),
					 GW_OK);
			assert_true(len <= GW_MERKLE_MAX_PROOF);
			if (gw_merkle_verify_consistency(
				    sizes[j], n, (const uint8_t(*)[32])proof,
				    len, r1, r2, &err))
				fail_msg("%llu to %llu: %s",
					 (unsigned long long)sizes[j],
					 (unsigned long long)n, err.msg);
		}
	}
	/* The longest proofs: 64 hashes for the last leaf of 2^64 - 1. */
	assert_int_equal(gw_merkle_inclusion_proof(UINT64_MAX - 1, UINT64_MAX,
						   same_node, NULL, proof, &len,
						   &err),
			 GW_OK);
	assert_int_equal(len, 63);
	assert_int_equal(gw_merkle_inclusion_proof(0, UINT64_MAX, same_node,
						   NULL, proof, &len, &err),
			 GW_OK);
	assert_int_equal(len, 64);
}

static void test_merkle__append_many_matches_root(void **state)
{
	enum { M = 100000 };
	uint8_t(*l)[32] = malloc(sizeof(*l) * M);
	struct gw_merkle_tree t;
	uint8_t a[32], b[32];
	struct gw_err err;
	size_t i;

	(void)state;
	gw_err_clear(&err);
	assert_non_null(l);
	for (i = 0; i < M; i++) {
		memset(l[i], 0, 32);
		memcpy(l[i], &i, sizeof(i));
	}
	assert_int_equal(gw_merkle_tree_init(&t, &err), GW_OK);
	for (i = 0; i < M; i++)
		assert_int_equal(gw_merkle_tree_append(&t, l[i], &err), GW_OK);
	assert_int_equal(gw_merkle_tree_root(&t, a, &err), GW_OK);
	assert_int_equal(gw_merkle_root((const uint8_t(*)[32])l, M, b), GW_OK);
	assert_memory_equal(a, b, 32);
	ref_mth(l, M, b);
	assert_memory_equal(a, b, 32);
	gw_merkle_tree_release(&t);
	free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_merkle__well_known_hashes),
		cmocka_unit_test(test_merkle__small_trees_by_hand),
		cmocka_unit_test(test_merkle__tree_roots_match_rfc_definition),
		cmocka_unit_test(test_merkle__frontier_save_and_restore),
		cmocka_unit_test(test_merkle__inclusion_every_leaf_and_size),
		cmocka_unit_test(test_merkle__inclusion_tampering_refused),
		cmocka_unit_test(test_merkle__consistency_every_pair),
		cmocka_unit_test(
			test_merkle__consistency_rewritten_tree_refused),
		cmocka_unit_test(test_merkle__consistency_edge_cases),
		cmocka_unit_test(test_merkle__usage_errors),
		cmocka_unit_test(test_merkle__proofs_in_huge_trees),
		cmocka_unit_test(test_merkle__append_many_matches_root),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
