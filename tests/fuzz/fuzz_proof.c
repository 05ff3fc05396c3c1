/*
 * fuzz_proof.c - libFuzzer target for audit proofs and checkpoints
 * (audit/offline.c, audit/merkle.c). The first byte picks:
 *   0  an inclusion proof document (docs/AUDIT.md) with its embedded,
 *      unsigned checkpoint; after a NUL, a separate checkpoint;
 *   1  a consistency proof document; after NULs, the two checkpoints;
 *   2  differential, inclusion: a tree of 1..64 leaves made from the
 *      input, the proof of one leaf made by merkle.c must be the one of
 *      RFC 9162 2.1.3.1 as written (a straightforward recursive
 *      reference below), and after the input's changes to the proof, the
 *      size, the index or the root, merkle.c's verifier must accept
 *      exactly when nothing was changed;
 *   3  the same for consistency proofs (2.1.4), sizes 0..64.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "audit/audit.h"
#include "audit/merkle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAXN 64

static void sha(const void *a, size_t alen, const void *b, size_t blen,
		const void *c, size_t clen, uint8_t out[32])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) ||
	    !EVP_DigestUpdate(ctx, a, alen) ||
	    !EVP_DigestUpdate(ctx, b, blen) ||
	    !EVP_DigestUpdate(ctx, c, clen) ||
	    !EVP_DigestFinal_ex(ctx, out, NULL))
		abort();
	EVP_MD_CTX_free(ctx);
}

/* RFC 9162 2.1.1: the largest power of two smaller than n */
static size_t split(size_t n)
{
	size_t k = 1;

	while (k << 1 < n)
		k <<= 1;
	return k;
}

static void mth(uint8_t (*d)[32], size_t n, uint8_t out[32])
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
	k = split(n);
	mth(d, k, l);
	mth(d + k, n - k, r);
	sha("\x01", 1, l, 32, r, 32, out);
}

/* RFC 9162 2.1.3.1 PATH(m, D[n]) */
static void path(size_t m, uint8_t (*d)[32], size_t n, uint8_t (*p)[32],
		 size_t *len)
{
	size_t k;

	if (n == 1)
		return;
	k = split(n);
	if (m < k) {
		path(m, d, k, p, len);
		mth(d + k, n - k, p[(*len)++]);
	} else {
		path(m - k, d + k, n - k, p, len);
		mth(d, k, p[(*len)++]);
	}
}

/* RFC 9162 2.1.4.1 SUBPROOF(m, D[n], b) */
static void subproof(size_t m, uint8_t (*d)[32], size_t n, int b,
		     uint8_t (*p)[32], size_t *len)
{
	size_t k;

	if (m == n) {
		if (!b)
			mth(d, n, p[(*len)++]);
		return;
	}
	k = split(n);
	if (m <= k) {
		subproof(m, d, k, b, p, len);
		mth(d + k, n - k, p[(*len)++]);
	} else {
		subproof(m - k, d + k, n - k, 0, p, len);
		mth(d, k, p[(*len)++]);
	}
}

/* Apply the rest of the input as changes: each 3 bytes say what to do. */
static void mutate(const uint8_t *c, size_t clen, uint8_t (*p)[32], size_t *len,
		   uint64_t *size, uint64_t *m, uint8_t root[32])
{
	size_t i;

	for (i = 0; i + 3 <= clen; i += 3) {
		uint8_t what = c[i] % 6, at = c[i + 1], x = c[i + 2];

		switch (what) {
		case 0: /* flip bits of a proof hash */
			if (*len)
				p[at % *len][(at / 8) % 32] ^= x;
			break;
		case 1: /* drop the last hash */
			if (*len)
				(*len)--;
			break;
		case 2: /* add a hash */
			if (*len < GW_MERKLE_MAX_PROOF)
				memset(p[(*len)++], x, 32);
			break;
		case 3: *size = x % 128; break; /* another size */
		case 4: *m = x % 128; break; /* another index or first size */
		default: root[at % 32] ^= x; /* flip bits of the root */
		}
	}
}

static void differential(const uint8_t *data, size_t size, int consistency)
{
	static uint8_t leaves[MAXN][32];
	uint8_t p[GW_MERKLE_MAX_PROOF + 1][32], want[GW_MERKLE_MAX_PROOF][32];
	uint8_t p0[GW_MERKLE_MAX_PROOF + 1][32], root1[32], root2[32], r0[32];
	size_t n, m, i, len = 0, wlen = 0, len0;
	uint64_t vsize, vm;
	struct gw_merkle_leaves lv;
	struct gw_err err;
	int changed;
	gw_rc rc;

	if (size < 3)
		return;
	n = 1 + data[0] % MAXN;
	m = consistency ? data[1] % (n + 1) : data[1] % n;
	for (i = 0; i < n; i++)
		sha("\x00", 1, &i, sizeof(i), &data[2], 1, leaves[i]);
	lv.hashes = (const uint8_t(*)[32])leaves;
	lv.n = n;
	mth(leaves, consistency ? m : n, root1);
	mth(leaves, n, root2);
	if (!consistency) {
		path(m, leaves, n, want, &wlen);
		rc = gw_merkle_inclusion_proof(m, n, gw_merkle_leaves_node, &lv,
					       p, &len, &err);
	} else {
		if (m && m < n)
			subproof(m, leaves, n, 1, want, &wlen);
		rc = gw_merkle_consistency_proof(m, n, gw_merkle_leaves_node,
						 &lv, p, &len, &err);
	}
	/* merkle.c makes the proof of the RFC, hash for hash */
	if (rc || len != wlen || memcmp(p, want, len * 32))
		abort();
	vsize = n;
	vm = m;
	memcpy(p0, p, sizeof(p0));
	len0 = len;
	memcpy(r0, consistency ? root1 : root2, 32);
	mutate(data + 3, size - 3, p, &len, &vsize, &vm,
	       consistency ? root1 : root2);
	/* changed: compared with the original, as changes may undo others */
	changed = len != len0 || memcmp(p, p0, len * 32) ||
		  memcmp(r0, consistency ? root1 : root2, 32);
	if (!consistency)
		rc = gw_merkle_verify_inclusion(leaves[m], vm, vsize,
						(const uint8_t(*)[32])p, len,
						root2, &err);
	else
		rc = gw_merkle_verify_consistency(vm, vsize,
						  (const uint8_t(*)[32])p, len,
						  root1, root2, &err);
	/* out of range: always refused */
	if (!rc && (consistency ? vm > vsize : vm >= vsize))
		abort();
	/* Another size or index may hold for another tree with the same
	 * root (an inner node read as a leaf): only proofs and roots of the
	 * tree made above are compared with the reference. */
	if (vsize != n || vm != m)
		return;
	if ((rc == GW_OK) == changed)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data + 1, *a, *b;
	struct gw_audit_proof_info info;
	struct gw_err err;
	size_t la, lb, lc;

	if (size < 1)
		return 0;
	size--;
	switch (data[0] % 4) {
	case 0:
		a = memchr(buf, '\0', size);
		la = a ? (size_t)(a - buf) : size;
		gw_audit_verify_proof(NULL, NULL, buf, la, a ? a + 1 : NULL,
				      a ? size - la - 1 : 0, &info, &err);
		break;
	case 1:
		a = memchr(buf, '\0', size);
		la = a ? (size_t)(a - buf) : size;
		b = a ? memchr(a + 1, '\0', size - la - 1) : NULL;
		lb = b ? (size_t)(b - a - 1) : a ? size - la - 1 : 0;
		lc = b ? size - la - 1 - lb - 1 : 0;
		gw_audit_verify_consistency(NULL, NULL, buf, la,
					    a ? a + 1 : NULL, lb,
					    b ? b + 1 : NULL, lc, &info, &err);
		break;
	default: differential((const uint8_t *)buf, size, data[0] % 4 == 3);
	}
	return 0;
}
