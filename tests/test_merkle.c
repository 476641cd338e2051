/* RFC 9162 Merkle trees: published roots, and every proof of every tree size 1..64. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ledger/merkle.h"
#include "tests/common/testutil.h"

#define MAXN 64

static merkle_hash leaves[MAXN];

/* Leaf i of the synthetic trees: its index as four bytes. */
static void
make_leaves(void)
{
	uint8_t d[4];
	int i;

	for (i = 0; i < MAXN; i++) {
		d[0] = (uint8_t)i;
		d[1] = 0xa5;
		d[2] = (uint8_t)(i * 7);
		d[3] = 0x5a;
		assert_int_equal(merkle_leaf_hash(leaves[i], d, sizeof(d)), 0);
	}
}

/* The transparency-dev constants: leaf hashes and the root of sizes 0..8. */
static void
test_published_vectors(void **state)
{
	cJSON *j = test_vector_json("merkle-rfc6962.json"), *in, *lh, *roots;
	merkle_hash hs[16], h;
	size_t n, len, i;
	uint8_t *b;

	(void)state;
	if (j == NULL)
		TEST_SKIP(TEST_NO_VECTORS);
	in = cJSON_GetObjectItem(j, "leaf_inputs_hex");
	lh = cJSON_GetObjectItem(j, "leaf_hashes_hex");
	roots = cJSON_GetObjectItem(j, "root_by_tree_size_hex");
	n = (size_t)cJSON_GetArraySize(in);
	assert_true(n > 0 && n <= 16);
	assert_int_equal(cJSON_GetArraySize(roots), (int)n + 1);
	for (i = 0; i < n; i++) {
		b = test_unhex(cJSON_GetArrayItem(in, (int)i)->valuestring, &len);
		assert_int_equal(merkle_leaf_hash(hs[i], b, len), 0);
		free(b);
		b = test_unhex(cJSON_GetArrayItem(lh, (int)i)->valuestring, &len);
		assert_memory_equal(hs[i], b, 32);
		free(b);
	}
	for (i = 0; i <= n; i++) {
		b = test_unhex(cJSON_GetArrayItem(roots, (int)i)->valuestring, &len);
		assert_int_equal(merkle_root(h, hs, i), 0);
		assert_memory_equal(h, b, 32);
		free(b);
	}
	cJSON_Delete(j);
}

/* RFC 9162 2.1.5 example shapes: proof lengths for the 7-leaf tree. */
static void
test_rfc9162_example_proof_sizes(void **state)
{
	static const size_t want_incl[7] = { 3, 3, 3, 3, 3, 3, 2 };
	merkle_hash proof[MERKLE_PROOF_MAX];
	size_t len;
	uint64_t m;

	(void)state;
	make_leaves();
	for (m = 0; m < 7; m++) {
		assert_int_equal(merkle_inclusion_proof(proof, &len, leaves, 7, m), 0);
		assert_int_equal(len, want_incl[m]);
	}
	/* The RFC's examples: PROOF(3, D[7]) has 4 hashes [c, d, g, l]; PROOF(4,
	 * D[7]) has 1 [l]; PROOF(6, D[7]) has 3 [i, j, k]. */
	assert_int_equal(merkle_consistency_proof(proof, &len, leaves, 7, 3), 0);
	assert_int_equal(len, 4);
	assert_int_equal(merkle_consistency_proof(proof, &len, leaves, 7, 4), 0);
	assert_int_equal(len, 1);
	assert_int_equal(merkle_consistency_proof(proof, &len, leaves, 7, 6), 0);
	assert_int_equal(len, 3);
}

static void
test_inclusion_all_sizes(void **state)
{
	merkle_hash proof[MERKLE_PROOF_MAX], root, bad;
	size_t len, k;
	uint64_t n, m;

	(void)state;
	make_leaves();
	for (n = 1; n <= MAXN; n++) {
		assert_int_equal(merkle_root(root, leaves, n), 0);
		for (m = 0; m < n; m++) {
			assert_int_equal(merkle_inclusion_proof(proof, &len, leaves, n, m), 0);
			assert_int_equal(
			    merkle_inclusion_verify(leaves[m], m, n, proof, len, root), 0);
			/* Wrong index, wrong size, wrong leaf, each flipped hash,
			 * a truncated and an extended proof must all fail. */
			if (n > 1)
				assert_int_equal(merkle_inclusion_verify(
				                     leaves[m], (m + 1) % n, n, proof, len, root),
				    -1);
			/* The size is bound by the (signed) root, not by the proof
			 * shape: the same path can fit sizes 3 and 4 for leaf 0. */
			if (n < MAXN) {
				merkle_hash next;

				assert_int_equal(merkle_root(next, leaves, n + 1), 0);
				assert_int_equal(
				    merkle_inclusion_verify(leaves[m], m, n + 1, proof, len, next),
				    -1);
			}
			assert_int_equal(
			    merkle_inclusion_verify(leaves[(m + 1) % MAXN], m, n, proof, len, root),
			    -1);
			for (k = 0; k < len; k++) {
				memcpy(bad, proof[k], 32);
				proof[k][k % 32] ^= 1;
				assert_int_equal(
				    merkle_inclusion_verify(leaves[m], m, n, proof, len, root), -1);
				memcpy(proof[k], bad, 32);
			}
			if (len > 0)
				assert_int_equal(
				    merkle_inclusion_verify(leaves[m], m, n, proof, len - 1, root),
				    -1);
			memcpy(proof[len], root, 32);
			assert_int_equal(
			    merkle_inclusion_verify(leaves[m], m, n, proof, len + 1, root), -1);
		}
		assert_int_equal(merkle_inclusion_proof(proof, &len, leaves, n, n), -1);
	}
}

static void
test_consistency_all_sizes(void **state)
{
	merkle_hash proof[MERKLE_PROOF_MAX], r1, r2, bad;
	size_t len, k;
	uint64_t n, m;

	(void)state;
	make_leaves();
	for (n = 1; n <= MAXN; n++) {
		assert_int_equal(merkle_root(r2, leaves, n), 0);
		for (m = 1; m <= n; m++) {
			assert_int_equal(merkle_root(r1, leaves, m), 0);
			assert_int_equal(merkle_consistency_proof(proof, &len, leaves, n, m), 0);
			assert_int_equal(merkle_consistency_verify(m, n, r1, r2, proof, len), 0);
			if (m == n)
				continue;
			assert_int_equal(merkle_consistency_verify(m, n, r2, r2, proof, len), -1);
			assert_int_equal(merkle_consistency_verify(m, n, r1, r1, proof, len), -1);
			if (m + 1 < n)
				assert_int_equal(
				    merkle_consistency_verify(m + 1, n, r1, r2, proof, len), -1);
			for (k = 0; k < len; k++) {
				memcpy(bad, proof[k], 32);
				proof[k][0] ^= 0x80;
				assert_int_equal(
				    merkle_consistency_verify(m, n, r1, r2, proof, len), -1);
				memcpy(proof[k], bad, 32);
			}
			assert_int_equal(merkle_consistency_verify(m, n, r1, r2, proof, 0), -1);
		}
		assert_int_equal(merkle_consistency_proof(proof, &len, leaves, n, 0), -1);
		assert_int_equal(merkle_consistency_proof(proof, &len, leaves, n, n + 1), -1);
	}
}

static void
test_frontier_matches_root(void **state)
{
	struct merkle_frontier f;
	merkle_hash a, b;
	uint64_t n;

	(void)state;
	make_leaves();
	merkle_frontier_init(&f);
	assert_int_equal(merkle_frontier_root(&f, a), 0);
	assert_int_equal(merkle_root(b, leaves, 0), 0);
	assert_memory_equal(a, b, 32);
	for (n = 1; n <= MAXN; n++) {
		assert_int_equal(merkle_frontier_push(&f, leaves[n - 1]), 0);
		assert_int_equal(merkle_frontier_root(&f, a), 0);
		assert_int_equal(merkle_root(b, leaves, n), 0);
		assert_memory_equal(a, b, 32);
		assert_true(f.size == n);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_published_vectors),
		cmocka_unit_test(test_rfc9162_example_proof_sizes),
		cmocka_unit_test(test_inclusion_all_sizes),
		cmocka_unit_test(test_consistency_all_sizes),
		cmocka_unit_test(test_frontier_matches_root),
	};

	return cmocka_run_group_tests_name("merkle", tests, NULL, NULL);
}
