/*
 * merkle.h - RFC 9162 (Certificate Transparency v2) Merkle trees over
 * SHA-256, the core of the tamper-evident audit log.
 *
 * Every audit entry becomes a leaf; the log publishes the root of the tree
 * over its first n entries. An inclusion proof shows one entry is in the
 * tree of size n; a consistency proof shows the tree of size m is a prefix
 * of the tree of size n, i.e. nothing already logged was rewritten.
 *
 *   leaf hash = SHA-256(0x00 || entry)
 *   node hash = SHA-256(0x01 || left || right)
 *   empty tree = SHA-256("")
 *
 * Sizes and indexes are uint64_t. Proofs are arrays of 32-byte hashes of at
 * most GW_MERKLE_MAX_PROOF entries. Verification failures of any kind (bad
 * length, index out of range, wrong root) are GW_ERR_REFUSED with a message
 * that says which check failed; the caller's own misuse is GW_ERR_USAGE.
 */
#ifndef GW_MERKLE_H
#define GW_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#include "base/common.h"

#define GW_MERKLE_HASH_SIZE 32
/* Inclusion proofs have at most 64 hashes, consistency proofs 65. */
#define GW_MERKLE_MAX_PROOF 65

/* OpenSSL types, declared so this header need not include OpenSSL. */
struct evp_md_st;
struct evp_md_ctx_st;

/* Leaf hash of the entry data[0..len): SHA-256(0x00 || data). Returns
 * GW_ERR_NOMEM or GW_ERR_INTERNAL if OpenSSL fails. */
gw_rc gw_merkle_leaf_hash(const void *data, size_t len, uint8_t out[32],
			  struct gw_err *err);

/* Interior node hash SHA-256(0x01 || left || right). Errors as above. */
gw_rc gw_merkle_node_hash(const uint8_t left[32], const uint8_t right[32],
			  uint8_t out[32], struct gw_err *err);

/* Merkle tree hash (RFC 9162 2.1.1) of the n leaf hashes (borrowed) into
 * out; n = 0 gives SHA-256(""). O(n) hashes, O(log n) memory. Returns
 * GW_ERR_NOMEM or GW_ERR_INTERNAL if OpenSSL fails. */
gw_rc gw_merkle_root(const uint8_t (*leaf_hashes)[32], size_t n,
		     uint8_t out[32]);

/*
 * Append-only tree that keeps only its frontier (compact range): the roots
 * of the perfect subtrees its size decomposes into, one per set bit of the
 * size. Appending is O(1) hashes amortized (O(log n) worst), the root
 * O(log n). Enough to extend a log and publish its roots, not to make
 * proofs (those need the leaves, see gw_merkle_node_fn). Embed it, set it
 * up with gw_merkle_tree_init() and release it with
 * gw_merkle_tree_release(). Fields are private.
 */
struct gw_merkle_tree {
	uint64_t size;
	/* frontier[i] is the root of the perfect subtree of 2^i leaves that
	 * is part of the tree when bit i of size is set; stale otherwise. */
	uint8_t frontier[64][32];
	struct evp_md_st *md;
	struct evp_md_ctx_st *ctx;
};

/* Set up an empty tree. Returns GW_ERR_NOMEM or GW_ERR_INTERNAL if the
 * SHA-256 context cannot be made (t is then safe to release). */
gw_rc gw_merkle_tree_init(struct gw_merkle_tree *t, struct gw_err *err);

/* Free what t holds; t may be NULL or already released. */
void gw_merkle_tree_release(struct gw_merkle_tree *t);

/* Append one leaf hash (borrowed; see gw_merkle_leaf_hash). Refuses a
 * tree of 2^64 - 1 leaves with GW_ERR_USAGE. */
gw_rc gw_merkle_tree_append(struct gw_merkle_tree *t,
			    const uint8_t leaf_hash[32], struct gw_err *err);

/* Hash the entry data[0..len) (borrowed) as a leaf and append it, with the
 * tree's own SHA-256 context (cheaper than gw_merkle_leaf_hash() per
 * entry). The leaf hash goes into leaf_hash_out unless it is NULL. */
gw_rc gw_merkle_tree_append_entry(struct gw_merkle_tree *t, const void *data,
				  size_t len, uint8_t leaf_hash_out[32],
				  struct gw_err *err);

/* Number of leaves appended so far. */
uint64_t gw_merkle_tree_size(const struct gw_merkle_tree *t);

/* Root of the tree at its current size into out. */
gw_rc gw_merkle_tree_root(struct gw_merkle_tree *t, uint8_t out[32],
			  struct gw_err *err);

/* The frontier, largest (leftmost) subtree first, into out; returns the
 * count (the number of set bits of the size). With the size this is all
 * a log must persist to resume appending. */
size_t gw_merkle_tree_frontier(const struct gw_merkle_tree *t,
			       uint8_t out[64][32]);

/* Replace t's contents by a tree of the given size and its frontier (as
 * gw_merkle_tree_frontier() gives it, borrowed). Refuses a count that
 * does not match the size with GW_ERR_USAGE. */
gw_rc gw_merkle_tree_restore(struct gw_merkle_tree *t, uint64_t size,
			     const uint8_t (*frontier)[32], size_t count,
			     struct gw_err *err);

/*
 * Source of subtree hashes for making proofs: put into out the root of the
 * perfect subtree of 2^level leaves that starts at leaf index << level. A
 * log can answer from stored interior nodes; gw_merkle_leaves_node()
 * answers from an array of leaf hashes. A failure is passed on unchanged.
 */
typedef gw_rc (*gw_merkle_node_fn)(void *arg, unsigned level, uint64_t index,
				   uint8_t out[32], struct gw_err *err);

/* Leaf hashes in memory, for gw_merkle_leaves_node(). */
struct gw_merkle_leaves {
	const uint8_t (*hashes)[32]; /* borrowed */
	uint64_t n;
};

/* gw_merkle_node_fn over a struct gw_merkle_leaves (arg): hashes the
 * 2^level leaves, so a proof costs O(size) hashes in all. Refuses a
 * subtree past the last leaf with GW_ERR_USAGE. */
gw_rc gw_merkle_leaves_node(void *arg, unsigned level, uint64_t index,
			    uint8_t out[32], struct gw_err *err);

/* Inclusion proof (RFC 9162 2.1.3.1) of leaf index in the tree of size
 * leaves into proof, its length into *len. Needs index < size (else
 * GW_ERR_USAGE); errors of node are passed on. */
gw_rc gw_merkle_inclusion_proof(uint64_t index, uint64_t size,
				gw_merkle_node_fn node, void *arg,
				uint8_t proof[GW_MERKLE_MAX_PROOF][32],
				size_t *len, struct gw_err *err);

/* Consistency proof (RFC 9162 2.1.4.1) between the trees of size1 and
 * size2 leaves (size1 <= size2, else GW_ERR_USAGE). Empty when size1 is 0
 * or equal to size2. */
gw_rc gw_merkle_consistency_proof(uint64_t size1, uint64_t size2,
				  gw_merkle_node_fn node, void *arg,
				  uint8_t proof[GW_MERKLE_MAX_PROOF][32],
				  size_t *len, struct gw_err *err);

/* Verify that leaf_hash is leaf index of the tree of size leaves whose
 * root is root, given the proof (len hashes, all borrowed), by the RFC
 * 9162 2.1.3.2 algorithm. GW_OK when it holds; GW_ERR_REFUSED when the
 * index is out of range, the proof has the wrong length for (index,
 * size) or the computed root differs. */
gw_rc gw_merkle_verify_inclusion(const uint8_t leaf_hash[32], uint64_t index,
				 uint64_t size, const uint8_t (*proof)[32],
				 size_t len, const uint8_t root[32],
				 struct gw_err *err);

/* Verify that the tree of size1 leaves with root1 is a prefix of the tree
 * of size2 leaves with root2 (RFC 9162 2.1.4.2). A tree of size 0 is a
 * prefix of every tree (the proof must then be empty, and root1 the root
 * of the empty tree, SHA-256 of nothing); equal sizes need an empty proof
 * and equal roots. GW_ERR_REFUSED when size1 > size2, the
 * proof has the wrong length, or either computed root differs. */
gw_rc gw_merkle_verify_consistency(uint64_t size1, uint64_t size2,
				   const uint8_t (*proof)[32], size_t len,
				   const uint8_t root1[32],
				   const uint8_t root2[32], struct gw_err *err);

#endif
