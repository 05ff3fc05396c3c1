/*
 * merkle.c - RFC 9162 Merkle tree hashes, the append-only frontier tree,
 * and inclusion and consistency proofs with their verification.
 *
 * The audit log appends one leaf per entry and publishes roots, so the hot
 * path is hashing 65-byte nodes: a SHA-256 context and an explicitly
 * fetched digest are kept and reused (OpenSSL 3's implicit fetch per
 * digest costs more than the hash itself). Proof generation follows the
 * RFC's recursive definitions iteratively, asking a callback only for
 * perfect, aligned subtrees, so a log may answer from stored nodes.
 * Verification is the RFC's own algorithm, preceded by a length check
 * (as transparency-dev/merkle does) so a bad proof says why it is bad.
 */
#include "audit/merkle.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <string.h>

struct hasher {
	EVP_MD *md;
	EVP_MD_CTX *ctx;
};

static gw_rc hasher_init(struct hasher *h, struct gw_err *err)
{
	h->md = EVP_MD_fetch(NULL, "SHA256", NULL);
	h->ctx = EVP_MD_CTX_new();
	if (!h->md || !h->ctx) {
		EVP_MD_free(h->md);
		EVP_MD_CTX_free(h->ctx);
		h->md = NULL;
		h->ctx = NULL;
		return gw_err_set(err, GW_ERR_NOMEM,
				  "cannot set up sha-256 in openssl (out of "
				  "memory or no default provider)");
	}
	return GW_OK;
}

static void hasher_release(struct hasher *h)
{
	EVP_MD_CTX_free(h->ctx);
	EVP_MD_free(h->md);
	h->ctx = NULL;
	h->md = NULL;
}

/* SHA-256(prefix || a || b); prefix < 0 means none (the empty tree). */
static gw_rc hash3(struct hasher *h, int prefix, const void *a, size_t alen,
		   const void *b, size_t blen, uint8_t out[32],
		   struct gw_err *err)
{
	unsigned char p = (unsigned char)prefix;
	unsigned int olen = 0;

	if (!EVP_DigestInit_ex(h->ctx, h->md, NULL) ||
	    (prefix >= 0 && !EVP_DigestUpdate(h->ctx, &p, 1)) ||
	    (alen && !EVP_DigestUpdate(h->ctx, a, alen)) ||
	    (blen && !EVP_DigestUpdate(h->ctx, b, blen)) ||
	    !EVP_DigestFinal_ex(h->ctx, out, &olen) || olen != 32)
		return gw_err_set(err, GW_ERR_INTERNAL,
				  "sha-256 failed in openssl");
	return GW_OK;
}

static gw_rc node(struct hasher *h, const uint8_t l[32], const uint8_t r[32],
		  uint8_t out[32], struct gw_err *err)
{
	return hash3(h, 0x01, l, 32, r, 32, out, err);
}

/* Number of significant bits of x (0 for 0). */
static unsigned bit_len(uint64_t x)
{
	return x ? 64u - (unsigned)__builtin_clzll(x) : 0;
}

/* Largest power of two strictly below n (n >= 2), as its exponent. */
static unsigned split_level(uint64_t n)
{
	return bit_len(n - 1) - 1;
}

/*
 * The frontier fold shared by the tree and gw_merkle_root(): pushing a
 * leaf merges equal-sized perfect subtrees like a binary counter carries.
 */
static gw_rc frontier_push(struct hasher *h, uint8_t fr[64][32], uint64_t size,
			   const uint8_t leaf[32], struct gw_err *err)
{
	uint8_t cur[32];
	unsigned level = 0;
	gw_rc rc;

	memcpy(cur, leaf, 32);
	while (size & 1) {
		if ((rc = node(h, fr[level], cur, cur, err)))
			return rc;
		size >>= 1;
		level++;
	}
	memcpy(fr[level], cur, 32);
	return GW_OK;
}

/* Root over the frontier: fold the subtrees right to left, which is
 * exactly MTH's split at the largest power of two below the size. */
static gw_rc frontier_root(struct hasher *h, uint8_t fr[64][32], uint64_t size,
			   uint8_t out[32], struct gw_err *err)
{
	uint8_t cur[32];
	unsigned level;
	gw_rc rc;

	if (!size)
		return hash3(h, -1, NULL, 0, NULL, 0, out, err);
	level = (unsigned)__builtin_ctzll(size);
	memcpy(cur, fr[level], 32);
	for (level++; level < 64; level++) {
		if (!(size >> level & 1))
			continue;
		if ((rc = node(h, fr[level], cur, cur, err)))
			return rc;
	}
	memcpy(out, cur, 32);
	return GW_OK;
}

static gw_rc fold_leaves(struct hasher *h, const uint8_t (*leaves)[32],
			 uint64_t n, uint8_t out[32], struct gw_err *err)
{
	uint8_t fr[64][32];
	uint64_t i;
	gw_rc rc;

	for (i = 0; i < n; i++)
		if ((rc = frontier_push(h, fr, i, leaves[i], err)))
			return rc;
	return frontier_root(h, fr, n, out, err);
}

gw_rc gw_merkle_leaf_hash(const void *data, size_t len, uint8_t out[32],
			  struct gw_err *err)
{
	struct hasher h;
	gw_rc rc;

	if ((rc = hasher_init(&h, err)))
		return rc;
	rc = hash3(&h, 0x00, data, len, NULL, 0, out, err);
	hasher_release(&h);
	return rc;
}

gw_rc gw_merkle_node_hash(const uint8_t left[32], const uint8_t right[32],
			  uint8_t out[32], struct gw_err *err)
{
	struct hasher h;
	gw_rc rc;

	if ((rc = hasher_init(&h, err)))
		return rc;
	rc = node(&h, left, right, out, err);
	hasher_release(&h);
	return rc;
}

gw_rc gw_merkle_root(const uint8_t (*leaf_hashes)[32], size_t n,
		     uint8_t out[32])
{
	struct hasher h;
	gw_rc rc;

	if ((rc = hasher_init(&h, NULL)))
		return rc;
	rc = fold_leaves(&h, leaf_hashes, n, out, NULL);
	hasher_release(&h);
	return rc;
}

gw_rc gw_merkle_tree_init(struct gw_merkle_tree *t, struct gw_err *err)
{
	struct hasher h;
	gw_rc rc;

	memset(t, 0, sizeof(*t));
	if ((rc = hasher_init(&h, err)))
		return rc;
	t->md = h.md;
	t->ctx = h.ctx;
	return GW_OK;
}

void gw_merkle_tree_release(struct gw_merkle_tree *t)
{
	struct hasher h;

	if (!t)
		return;
	h.md = t->md;
	h.ctx = t->ctx;
	hasher_release(&h);
	t->md = NULL;
	t->ctx = NULL;
	t->size = 0;
}

static gw_rc tree_hasher(struct gw_merkle_tree *t, struct hasher *h,
			 struct gw_err *err)
{
	if (!t->md || !t->ctx)
		return gw_err_set(
			err, GW_ERR_USAGE,
			"merkle tree used before gw_merkle_tree_init");
	h->md = t->md;
	h->ctx = t->ctx;
	return GW_OK;
}

gw_rc gw_merkle_tree_append(struct gw_merkle_tree *t,
			    const uint8_t leaf_hash[32], struct gw_err *err)
{
	struct hasher h;
	gw_rc rc;

	if ((rc = tree_hasher(t, &h, err)))
		return rc;
	if (t->size == UINT64_MAX)
		return gw_err_set(err, GW_ERR_USAGE,
				  "merkle tree is full (2^64 - 1 leaves)");
	if ((rc = frontier_push(&h, t->frontier, t->size, leaf_hash, err)))
		return rc;
	t->size++;
	return GW_OK;
}

gw_rc gw_merkle_tree_append_entry(struct gw_merkle_tree *t, const void *data,
				  size_t len, uint8_t leaf_hash_out[32],
				  struct gw_err *err)
{
	struct hasher h;
	uint8_t leaf[32];
	gw_rc rc;

	if ((rc = tree_hasher(t, &h, err)) ||
	    (rc = hash3(&h, 0x00, data, len, NULL, 0, leaf, err)) ||
	    (rc = gw_merkle_tree_append(t, leaf, err)))
		return rc;
	if (leaf_hash_out)
		memcpy(leaf_hash_out, leaf, 32);
	return GW_OK;
}

uint64_t gw_merkle_tree_size(const struct gw_merkle_tree *t)
{
	return t->size;
}

gw_rc gw_merkle_tree_root(struct gw_merkle_tree *t, uint8_t out[32],
			  struct gw_err *err)
{
	struct hasher h;
	gw_rc rc;

	if ((rc = tree_hasher(t, &h, err)))
		return rc;
	return frontier_root(&h, t->frontier, t->size, out, err);
}

size_t gw_merkle_tree_frontier(const struct gw_merkle_tree *t,
			       uint8_t out[64][32])
{
	size_t n = 0;
	int level;

	for (level = 63; level >= 0; level--)
		if (t->size >> level & 1)
			memcpy(out[n++], t->frontier[level], 32);
	return n;
}

gw_rc gw_merkle_tree_restore(struct gw_merkle_tree *t, uint64_t size,
			     const uint8_t (*frontier)[32], size_t count,
			     struct gw_err *err)
{
	size_t i = 0;
	int level;

	if ((size_t)__builtin_popcountll(size) != count)
		return gw_err_set(err, GW_ERR_USAGE,
				  "merkle frontier has %zu hashes but a tree "
				  "of size %llu needs %d",
				  count, (unsigned long long)size,
				  __builtin_popcountll(size));
	for (level = 63; level >= 0; level--)
		if (size >> level & 1)
			memcpy(t->frontier[level], frontier[i++], 32);
	t->size = size;
	return GW_OK;
}

gw_rc gw_merkle_leaves_node(void *arg, unsigned level, uint64_t index,
			    uint8_t out[32], struct gw_err *err)
{
	const struct gw_merkle_leaves *lv = arg;
	struct hasher h;
	uint64_t begin;
	gw_rc rc;

	if (level >= 64 || index > (lv->n >> level) ||
	    (index + 1) > (lv->n >> level))
		return gw_err_set(err, GW_ERR_USAGE,
				  "merkle subtree %llu at level %u is past "
				  "the %llu leaves",
				  (unsigned long long)index, level,
				  (unsigned long long)lv->n);
	begin = index << level;
	if ((rc = hasher_init(&h, err)))
		return rc;
	rc = fold_leaves(&h, lv->hashes + begin, (uint64_t)1 << level, out,
			 err);
	hasher_release(&h);
	return rc;
}

/*
 * MTH of leaves [begin, end), where begin is aligned to the largest power
 * of two in end - begin (true of every range the proofs ask for): the
 * perfect subtrees of the length's binary decomposition, folded right to
 * left.
 */
static gw_rc range_hash(struct hasher *h, gw_merkle_node_fn fn, void *arg,
			uint64_t begin, uint64_t end, uint8_t out[32],
			struct gw_err *err)
{
	uint8_t pieces[64][32];
	uint64_t len = end - begin, pos = begin;
	int level, n = 0;
	gw_rc rc;

	for (level = 63; level >= 0; level--) {
		if (!(len >> level & 1))
			continue;
		if ((rc = fn(arg, (unsigned)level, pos >> level, pieces[n++],
			     err)))
			return rc;
		pos += (uint64_t)1 << level;
	}
	for (n -= 2; n >= 0; n--)
		if ((rc = node(h, pieces[n], pieces[n + 1], pieces[n], err)))
			return rc;
	memcpy(out, pieces[0], 32);
	return GW_OK;
}

/* The recursions collect hashes root first; proofs list them leaf first. */
static void reverse(uint8_t (*p)[32], size_t n)
{
	uint8_t tmp[32];
	size_t i;

	for (i = 0; i < n / 2; i++) {
		memcpy(tmp, p[i], 32);
		memcpy(p[i], p[n - 1 - i], 32);
		memcpy(p[n - 1 - i], tmp, 32);
	}
}

gw_rc gw_merkle_inclusion_proof(uint64_t index, uint64_t size,
				gw_merkle_node_fn fn, void *arg,
				uint8_t proof[GW_MERKLE_MAX_PROOF][32],
				size_t *len, struct gw_err *err)
{
	uint64_t begin = 0, n = size, m = index, k;
	struct hasher h = { 0 };
	unsigned level;
	size_t cnt = 0;
	gw_rc rc;

	*len = 0;
	if (index >= size)
		return gw_err_set(err, GW_ERR_USAGE,
				  "cannot prove leaf %llu in a tree of size "
				  "%llu: index out of range",
				  (unsigned long long)index,
				  (unsigned long long)size);
	if ((rc = hasher_init(&h, err)))
		return rc;
	/* PATH(m, D[begin:begin+n]) of RFC 9162 2.1.3.1. */
	while (n > 1) {
		level = split_level(n);
		k = (uint64_t)1 << level;
		if (m < k) {
			rc = range_hash(&h, fn, arg, begin + k, begin + n,
					proof[cnt++], err);
			n = k;
		} else {
			rc = fn(arg, level, begin >> level, proof[cnt++], err);
			begin += k;
			m -= k;
			n -= k;
		}
		if (rc)
			goto out;
	}
	reverse(proof, cnt);
	*len = cnt;
out:
	hasher_release(&h);
	return rc;
}

gw_rc gw_merkle_consistency_proof(uint64_t size1, uint64_t size2,
				  gw_merkle_node_fn fn, void *arg,
				  uint8_t proof[GW_MERKLE_MAX_PROOF][32],
				  size_t *len, struct gw_err *err)
{
	uint64_t begin = 0, n = size2, m = size1, k;
	struct hasher h = { 0 };
	unsigned level;
	size_t cnt = 0;
	int whole = 1; /* the b of SUBPROOF: still on the left edge */
	gw_rc rc;

	*len = 0;
	if (size1 > size2)
		return gw_err_set(err, GW_ERR_USAGE,
				  "cannot prove consistency from size %llu to "
				  "the smaller size %llu",
				  (unsigned long long)size1,
				  (unsigned long long)size2);
	if (size1 == 0 || size1 == size2)
		return GW_OK;
	if ((rc = hasher_init(&h, err)))
		return rc;
	/* SUBPROOF(m, D[begin:begin+n], whole) of RFC 9162 2.1.4.1. */
	while (m != n) {
		level = split_level(n);
		k = (uint64_t)1 << level;
		if (m <= k) {
			rc = range_hash(&h, fn, arg, begin + k, begin + n,
					proof[cnt++], err);
			n = k;
		} else {
			rc = fn(arg, level, begin >> level, proof[cnt++], err);
			begin += k;
			m -= k;
			n -= k;
			whole = 0;
		}
		if (rc)
			goto out;
	}
	if (!whole &&
	    (rc = range_hash(&h, fn, arg, begin, begin + n, proof[cnt++], err)))
		goto out;
	reverse(proof, cnt);
	*len = cnt;
out:
	hasher_release(&h);
	return rc;
}

/* Hashes an inclusion proof of leaf index in a tree of size must have:
 * inner levels below where the paths to index and to the last leaf
 * part, plus one per left sibling on the right border above that. */
static size_t inclusion_len(uint64_t index, uint64_t size)
{
	unsigned inner = bit_len(index ^ (size - 1));
	unsigned border =
		inner < 64 ? (unsigned)__builtin_popcountll(index >> inner) : 0;

	return inner + border;
}

gw_rc gw_merkle_verify_inclusion(const uint8_t leaf_hash[32], uint64_t index,
				 uint64_t size, const uint8_t (*proof)[32],
				 size_t len, const uint8_t root[32],
				 struct gw_err *err)
{
	uint64_t fn = index, sn;
	struct hasher h = { 0 };
	uint8_t r[32];
	size_t i, want;
	gw_rc rc;

	if (index >= size)
		return gw_err_set(err, GW_ERR_REFUSED,
				  "inclusion proof refused: leaf index %llu is "
				  "out of range for tree size %llu",
				  (unsigned long long)index,
				  (unsigned long long)size);
	want = inclusion_len(index, size);
	if (len != want)
		return gw_err_set(err, GW_ERR_REFUSED,
				  "inclusion proof refused: %zu hashes where "
				  "leaf %llu of a tree of size %llu needs %zu",
				  len, (unsigned long long)index,
				  (unsigned long long)size, want);
	if ((rc = hasher_init(&h, err)))
		return rc;
	/* RFC 9162 2.1.3.2. */
	sn = size - 1;
	memcpy(r, leaf_hash, 32);
	for (i = 0; i < len; i++) {
		if (sn == 0) {
			rc = gw_err_set(err, GW_ERR_REFUSED,
					"inclusion proof refused: too long "
					"for tree size %llu",
					(unsigned long long)size);
			goto out;
		}
		if ((fn & 1) || fn == sn) {
			if ((rc = node(&h, proof[i], r, r, err)))
				goto out;
			if (!(fn & 1))
				while (!(fn & 1) && fn != 0) {
					fn >>= 1;
					sn >>= 1;
				}
		} else if ((rc = node(&h, r, proof[i], r, err))) {
			goto out;
		}
		fn >>= 1;
		sn >>= 1;
	}
	if (sn != 0) {
		rc = gw_err_set(err, GW_ERR_REFUSED,
				"inclusion proof refused: too short for tree "
				"size %llu",
				(unsigned long long)size);
		goto out;
	}
	if (CRYPTO_memcmp(r, root, 32)) {
		rc = gw_err_set(err, GW_ERR_REFUSED,
				"inclusion proof refused: leaf %llu does not "
				"lead to the expected root of the tree of size "
				"%llu (wrong leaf, proof or root)",
				(unsigned long long)index,
				(unsigned long long)size);
		goto out;
	}
out:
	hasher_release(&h);
	return rc;
}

/* The root of the tree of size 0: SHA-256 of the empty string (RFC 9162
 * 2.1.1). */
static const uint8_t empty_root[32] = {
	0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4,
	0xc8, 0x99, 0x6f, 0xb9, 0x24, 0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b,
	0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55
};

gw_rc gw_merkle_verify_consistency(uint64_t size1, uint64_t size2,
				   const uint8_t (*proof)[32], size_t len,
				   const uint8_t root1[32],
				   const uint8_t root2[32], struct gw_err *err)
{
	struct hasher h = { 0 };
	uint64_t fn, sn;
	uint8_t fr[32], sr[32];
	const uint8_t *seed;
	unsigned shift;
	size_t i, start, want;
	gw_rc rc;

	if (size1 > size2)
		return gw_err_set(err, GW_ERR_REFUSED,
				  "consistency proof refused: first size %llu "
				  "is larger than second size %llu",
				  (unsigned long long)size1,
				  (unsigned long long)size2);
	if (size1 == size2 || size1 == 0) {
		if (len)
			return gw_err_set(err, GW_ERR_REFUSED,
					  "consistency proof refused: %zu "
					  "hashes where sizes %llu and %llu "
					  "need none",
					  len, (unsigned long long)size1,
					  (unsigned long long)size2);
		if (size1 == size2 && CRYPTO_memcmp(root1, root2, 32))
			return gw_err_set(err, GW_ERR_REFUSED,
					  "consistency proof refused: the two "
					  "roots of the tree of size %llu "
					  "differ",
					  (unsigned long long)size1);
		/* the tree of no leaves has one root, SHA-256 of nothing */
		if (size1 == 0 && CRYPTO_memcmp(root1, empty_root, 32))
			return gw_err_set(err, GW_ERR_REFUSED,
					  "consistency proof refused: the "
					  "root of the tree of size 0 is not "
					  "SHA-256 of nothing (e3b0c442...)");
		return GW_OK;
	}
	/* Expected length: the inclusion proof of leaf size1 - 1 in the
	 * tree of size2, less the levels inside the perfect subtree size1
	 * ends with, plus that subtree's root unless it is all of size1. */
	shift = (unsigned)__builtin_ctzll(size1);
	start = size1 == (uint64_t)1 << shift ? 0 : 1;
	want = start + inclusion_len(size1 - 1, size2) - shift;
	if (len != want)
		return gw_err_set(err, GW_ERR_REFUSED,
				  "consistency proof refused: %zu hashes where "
				  "sizes %llu and %llu need %zu",
				  len, (unsigned long long)size1,
				  (unsigned long long)size2, want);
	if ((rc = hasher_init(&h, err)))
		return rc;
	/* RFC 9162 2.1.4.2, with root1 standing in front of the path when
	 * size1 is a power of two instead of being prepended. */
	i = 0;
	seed = start ? proof[i++] : root1;
	fn = size1 - 1;
	sn = size2 - 1;
	while (fn & 1) {
		fn >>= 1;
		sn >>= 1;
	}
	memcpy(fr, seed, 32);
	memcpy(sr, seed, 32);
	for (; i < len; i++) {
		if (sn == 0) {
			rc = gw_err_set(err, GW_ERR_REFUSED,
					"consistency proof refused: too long "
					"for sizes %llu and %llu",
					(unsigned long long)size1,
					(unsigned long long)size2);
			goto out;
		}
		if ((fn & 1) || fn == sn) {
			if ((rc = node(&h, proof[i], fr, fr, err)) ||
			    (rc = node(&h, proof[i], sr, sr, err)))
				goto out;
			if (!(fn & 1))
				while (!(fn & 1) && fn != 0) {
					fn >>= 1;
					sn >>= 1;
				}
		} else if ((rc = node(&h, sr, proof[i], sr, err))) {
			goto out;
		}
		fn >>= 1;
		sn >>= 1;
	}
	if (sn != 0) {
		rc = gw_err_set(err, GW_ERR_REFUSED,
				"consistency proof refused: too short for "
				"sizes %llu and %llu",
				(unsigned long long)size1,
				(unsigned long long)size2);
		goto out;
	}
	if (CRYPTO_memcmp(fr, root1, 32)) {
		rc = gw_err_set(err, GW_ERR_REFUSED,
				"consistency proof refused: it does not lead "
				"to the first root (size %llu); the tree was "
				"rewritten or the proof is wrong",
				(unsigned long long)size1);
		goto out;
	}
	if (CRYPTO_memcmp(sr, root2, 32)) {
		rc = gw_err_set(err, GW_ERR_REFUSED,
				"consistency proof refused: it does not lead "
				"to the second root (size %llu); the tree was "
				"rewritten or the proof is wrong",
				(unsigned long long)size2);
		goto out;
	}
out:
	hasher_release(&h);
	return rc;
}
