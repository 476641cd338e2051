/* RFC 9162 Merkle trees over SHA-256: roots, inclusion and consistency proofs, frontier. */
#ifndef LEDGER_MERKLE_H
#define LEDGER_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#define MERKLE_HASH_BYTES 32
/* A proof in a tree of at most 2^63 leaves has at most 63 (+1) hashes. */
#define MERKLE_PROOF_MAX 64

typedef uint8_t merkle_hash[MERKLE_HASH_BYTES];

/* Leaf hash SHA-256(0x00 || data). Returns 0 or -1. */
int merkle_leaf_hash(merkle_hash out, const void *data, size_t len);
/* Interior node hash SHA-256(0x01 || left || right). */
int merkle_node_hash(merkle_hash out, const merkle_hash left, const merkle_hash right);

/* MTH of n leaf hashes (n = 0: SHA-256 of the empty string). */
int merkle_root(merkle_hash out, const merkle_hash *leaves, uint64_t n);

/* PATH(m, D[n]) of RFC 9162 2.1.3.1 for leaf index m < n; *len hashes. */
int merkle_inclusion_proof(merkle_hash proof[MERKLE_PROOF_MAX], size_t *len,
    const merkle_hash *leaves, uint64_t n, uint64_t m);

/* RFC 9162 2.1.3.2: 0 if leaf (hash) at index m is in the tree of size n
 * with the given root, -1 otherwise (including malformed proofs). */
int merkle_inclusion_verify(const merkle_hash leaf, uint64_t m, uint64_t n,
    const merkle_hash *proof, size_t len, const merkle_hash root)
    __attribute__((warn_unused_result));

/* PROOF(m, D[n]) of RFC 9162 2.1.4.1 for 0 < m <= n. */
int merkle_consistency_proof(merkle_hash proof[MERKLE_PROOF_MAX], size_t *len,
    const merkle_hash *leaves, uint64_t n, uint64_t m);

/* RFC 9162 2.1.4.2: 0 if the tree of size n with new_root extends the tree
 * of size m with old_root, -1 otherwise. */
int merkle_consistency_verify(uint64_t m, uint64_t n, const merkle_hash old_root,
    const merkle_hash new_root, const merkle_hash *proof, size_t len)
    __attribute__((warn_unused_result));

/*
 * Incremental root: the roots of the perfect subtrees that make up the
 * tree so far (at most 64), so appending a leaf and reading the root cost
 * O(log n) hashes instead of rehashing every leaf.
 */
struct merkle_frontier {
	uint64_t size;
	merkle_hash node[64]; /* node[i] covers 2^level[i] leaves, largest first */
	uint8_t level[64];
	int count;
};

void merkle_frontier_init(struct merkle_frontier *f);
int merkle_frontier_push(struct merkle_frontier *f, const merkle_hash leaf);
int merkle_frontier_root(const struct merkle_frontier *f, merkle_hash out);
/* Sets f to the tree of size leaves whose frontier nodes (largest first,
 * one per set bit of size) are nodes[0..count). -1 if count does not match
 * size. The nodes are taken as they are: check the root against a signed
 * one before trusting them. */
int merkle_frontier_set(
    struct merkle_frontier *f, uint64_t size, const merkle_hash *nodes, int count);
/* Leaves covered by frontier node i: [*first, *first + *n). */
void merkle_frontier_span(const struct merkle_frontier *f, int i, uint64_t *first, uint64_t *n);

#endif
