/* Signed tree heads of the seller's records log, as the sdpp/2 closing statement carries them. */
#ifndef SDPP_TREEHEAD_H
#define SDPP_TREEHEAD_H

#include <stddef.h>
#include <stdint.h>

#include "crypto.h"
#include "err.h"

/*
 * A tree head of an RFC 9162 log of SHA-256 leaves, signed by the log key
 * (in sdpp-gateway the seller's key): the log of `size` records had this
 * root at `time` (docs/PROTOCOL.md 15.5). Its signature input is
 *   SDPP_TREE_HEAD_CONTEXT (11 bytes, with its NUL) ||
 *   JCS({"key": hex(log key), "root": hex(root), "size": size, "time": time})
 * which the ledger (ledger/ledger.c) signs and this module checks.
 */
#define SDPP_TREE_HEAD_CONTEXT "sdpp-sth/1"
#define SDPP_TREE_HEAD_CONTEXT_LEN 11
#define SDPP_TREE_HEAD_ROOT_BYTES 32
/* Longest signature input: the context and a JCS object of two 64-digit
 * hex strings and two integers of at most 16 digits (206 bytes). */
#define SDPP_TREE_HEAD_INPUT_MAX 256

struct sdpp_tree_head {
	uint64_t size; /* records covered, 1..2^53-1 on the wire */
	uint8_t root[SDPP_TREE_HEAD_ROOT_BYTES];
	int64_t time; /* ms since the epoch, the log's clock */
	uint8_t signature[SDPP_SIGN_BYTES];
};

/*
 * Writes the signature input of the tree head (size, root, time) of the log
 * whose key is key into out (cap bytes, SDPP_TREE_HEAD_INPUT_MAX suffice;
 * not NUL-terminated: it starts with the context's NUL-ended text) and its
 * length into *len. SDPP_E_INVAL if size or time is outside 0..2^53-1 or
 * cap is too small.
 */
enum sdpp_err sdpp_tree_head_input(const uint8_t key[SDPP_SIGN_PUBLIC_BYTES], uint64_t size,
    const uint8_t root[SDPP_TREE_HEAD_ROOT_BYTES], int64_t time, char *out, size_t cap,
    size_t *len) SDPP_WARN_UNUSED;

/* Signs th (size, root, time) with id as the log key: fills th->signature. */
enum sdpp_err sdpp_tree_head_sign(
    struct sdpp_tree_head *th, const struct sdpp_identity *id) SDPP_WARN_UNUSED;

/* SDPP_OK if th->signature is key's signature of th, else SDPP_E_SIGNATURE
 * (SDPP_E_INVAL for a size or time no signed head can have). */
enum sdpp_err sdpp_tree_head_verify(
    const struct sdpp_tree_head *th, const uint8_t key[SDPP_SIGN_PUBLIC_BYTES]) SDPP_WARN_UNUSED;

#endif
