/* RFC 9162 Merkle trees over SHA-256: roots, inclusion and consistency proofs, frontier. */
#include <string.h>

#include "ledger/merkle.h"
#include "sdpp/crypto.h"

int
merkle_leaf_hash(merkle_hash out, const void *data, size_t len)
{
	static const uint8_t zero = 0x00;
	struct sdpp_iov iov[2] = { { &zero, 1 }, { data, len } };

	return sdpp_sha256(out, iov, 2) == SDPP_OK ? 0 : -1;
}

int
merkle_node_hash(merkle_hash out, const merkle_hash left, const merkle_hash right)
{
	static const uint8_t one = 0x01;
	struct sdpp_iov iov[3] = {
		{ &one, 1 },
		{ left, MERKLE_HASH_BYTES },
		{ right, MERKLE_HASH_BYTES },
	};

	return sdpp_sha256(out, iov, 3) == SDPP_OK ? 0 : -1;
}

/* Largest power of two strictly less than n (n >= 2). */
static uint64_t
split_point(uint64_t n)
{
	uint64_t k = 1;

	while (k << 1 < n)
		k <<= 1;
	return k;
}

int
merkle_root(merkle_hash out, const merkle_hash *leaves, uint64_t n)
{
	merkle_hash l, r;
	uint64_t k;

	if (n == 0)
		return sdpp_sha256(out, NULL, 0) == SDPP_OK ? 0 : -1;
	if (n == 1) {
		memcpy(out, leaves[0], MERKLE_HASH_BYTES);
		return 0;
	}
	k = split_point(n);
	if (merkle_root(l, leaves, k) != 0 || merkle_root(r, leaves + k, n - k) != 0)
		return -1;
	return merkle_node_hash(out, l, r);
}

static int
path(merkle_hash proof[MERKLE_PROOF_MAX], size_t *len, const merkle_hash *d, uint64_t n, uint64_t m)
{
	uint64_t k;

	if (n <= 1)
		return 0;
	if (*len >= MERKLE_PROOF_MAX)
		return -1;
	k = split_point(n);
	/* Proof order is leaf to root: recurse first, then append the sibling. */
	if (m < k) {
		if (path(proof, len, d, k, m) != 0)
			return -1;
		return merkle_root(proof[(*len)++], d + k, n - k);
	}
	if (path(proof, len, d + k, n - k, m - k) != 0)
		return -1;
	return merkle_root(proof[(*len)++], d, k);
}

int
merkle_inclusion_proof(merkle_hash proof[MERKLE_PROOF_MAX], size_t *len, const merkle_hash *leaves,
    uint64_t n, uint64_t m)
{
	*len = 0;
	if (m >= n)
		return -1;
	return path(proof, len, leaves, n, m);
}

int
merkle_inclusion_verify(const merkle_hash leaf, uint64_t m, uint64_t n, const merkle_hash *proof,
    size_t len, const merkle_hash root)
{
	uint64_t fn = m, sn = n - 1;
	merkle_hash r;
	size_t i;

	if (m >= n)
		return -1;
	memcpy(r, leaf, MERKLE_HASH_BYTES);
	for (i = 0; i < len; i++) {
		if (sn == 0)
			return -1;
		if ((fn & 1) || fn == sn) {
			if (merkle_node_hash(r, proof[i], r) != 0)
				return -1;
			if (!(fn & 1))
				while (fn != 0 && !(fn & 1)) {
					fn >>= 1;
					sn >>= 1;
				}
		} else if (merkle_node_hash(r, r, proof[i]) != 0) {
			return -1;
		}
		fn >>= 1;
		sn >>= 1;
	}
	if (sn != 0)
		return -1;
	return sdpp_memcmp_ct(r, root, MERKLE_HASH_BYTES) == 0 ? 0 : -1;
}

static int
subproof(merkle_hash proof[MERKLE_PROOF_MAX], size_t *len, const merkle_hash *d, uint64_t n,
    uint64_t m, int b)
{
	uint64_t k;

	if (m == n) {
		if (b)
			return 0;
		if (*len >= MERKLE_PROOF_MAX)
			return -1;
		return merkle_root(proof[(*len)++], d, n);
	}
	if (*len >= MERKLE_PROOF_MAX)
		return -1;
	k = split_point(n);
	if (m <= k) {
		if (subproof(proof, len, d, k, m, b) != 0)
			return -1;
		return merkle_root(proof[(*len)++], d + k, n - k);
	}
	if (subproof(proof, len, d + k, n - k, m - k, 0) != 0)
		return -1;
	return merkle_root(proof[(*len)++], d, k);
}

int
merkle_consistency_proof(merkle_hash proof[MERKLE_PROOF_MAX], size_t *len,
    const merkle_hash *leaves, uint64_t n, uint64_t m)
{
	*len = 0;
	if (m == 0 || m > n)
		return -1;
	return subproof(proof, len, leaves, n, m, 1);
}

int
merkle_consistency_verify(uint64_t m, uint64_t n, const merkle_hash old_root,
    const merkle_hash new_root, const merkle_hash *proof, size_t len)
{
	merkle_hash fr, sr;
	uint64_t fn, sn;
	size_t i = 0;

	if (m == 0 || m > n)
		return -1;
	if (m == n)
		return len == 0 && sdpp_memcmp_ct(old_root, new_root, MERKLE_HASH_BYTES) == 0 ? 0
		                                                                              : -1;
	if (len == 0)
		return -1;
	fn = m - 1;
	sn = n - 1;
	/* If m is a power of two, the old root is the first node of the path. */
	if ((m & (m - 1)) == 0) {
		memcpy(fr, old_root, MERKLE_HASH_BYTES);
		memcpy(sr, old_root, MERKLE_HASH_BYTES);
	} else {
		memcpy(fr, proof[0], MERKLE_HASH_BYTES);
		memcpy(sr, proof[0], MERKLE_HASH_BYTES);
		i = 1;
	}
	while (fn & 1) {
		fn >>= 1;
		sn >>= 1;
	}
	for (; i < len; i++) {
		if (sn == 0)
			return -1;
		if ((fn & 1) || fn == sn) {
			if (merkle_node_hash(fr, proof[i], fr) != 0 ||
			    merkle_node_hash(sr, proof[i], sr) != 0)
				return -1;
			if (!(fn & 1))
				while (fn != 0 && !(fn & 1)) {
					fn >>= 1;
					sn >>= 1;
				}
		} else if (merkle_node_hash(sr, sr, proof[i]) != 0) {
			return -1;
		}
		fn >>= 1;
		sn >>= 1;
	}
	if (sn != 0)
		return -1;
	return sdpp_memcmp_ct(fr, old_root, MERKLE_HASH_BYTES) == 0 &&
	               sdpp_memcmp_ct(sr, new_root, MERKLE_HASH_BYTES) == 0
	           ? 0
	           : -1;
}

void
merkle_frontier_init(struct merkle_frontier *f)
{
	memset(f, 0, sizeof(*f));
}

int
merkle_frontier_push(struct merkle_frontier *f, const merkle_hash leaf)
{
	merkle_hash h;
	uint8_t level = 0;

	memcpy(h, leaf, MERKLE_HASH_BYTES);
	/* Merge equal-sized subtrees, like carrying in binary addition. */
	while (f->count > 0 && f->level[f->count - 1] == level) {
		if (merkle_node_hash(h, f->node[f->count - 1], h) != 0)
			return -1;
		f->count--;
		level++;
	}
	if (f->count == 64)
		return -1;
	memcpy(f->node[f->count], h, MERKLE_HASH_BYTES);
	f->level[f->count] = level;
	f->count++;
	f->size++;
	return 0;
}

int
merkle_frontier_root(const struct merkle_frontier *f, merkle_hash out)
{
	merkle_hash r;
	int i;

	if (f->count == 0)
		return sdpp_sha256(out, NULL, 0) == SDPP_OK ? 0 : -1;
	memcpy(r, f->node[f->count - 1], MERKLE_HASH_BYTES);
	for (i = f->count - 2; i >= 0; i--)
		if (merkle_node_hash(r, f->node[i], r) != 0)
			return -1;
	memcpy(out, r, MERKLE_HASH_BYTES);
	return 0;
}

int
merkle_frontier_set(struct merkle_frontier *f, uint64_t size, const merkle_hash *nodes, int count)
{
	int bit, i = 0;

	merkle_frontier_init(f);
	for (bit = 63; bit >= 0; bit--) {
		if (!(size >> bit & 1))
			continue;
		if (i >= count)
			return -1;
		memcpy(f->node[i], nodes[i], MERKLE_HASH_BYTES);
		f->level[i] = (uint8_t)bit;
		i++;
	}
	if (i != count)
		return -1;
	f->count = count;
	f->size = size;
	return 0;
}

void
merkle_frontier_span(const struct merkle_frontier *f, int i, uint64_t *first, uint64_t *n)
{
	int j;

	*first = 0;
	for (j = 0; j < i; j++)
		*first += (uint64_t)1 << f->level[j];
	*n = (uint64_t)1 << f->level[i];
}
