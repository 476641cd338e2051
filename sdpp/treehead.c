/* Signed tree heads: the signature input the ledger signs and the buyer checks. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "sdpp/enc.h"
#include "sdpp/json.h"
#include "sdpp/treehead.h"

enum sdpp_err
sdpp_tree_head_input(const uint8_t key[SDPP_SIGN_PUBLIC_BYTES], uint64_t size,
    const uint8_t root[SDPP_TREE_HEAD_ROOT_BYTES], int64_t time, char *out, size_t cap, size_t *len)
{
	char khex[SDPP_HEX_LEN(SDPP_SIGN_PUBLIC_BYTES)];
	char rhex[SDPP_HEX_LEN(SDPP_TREE_HEAD_ROOT_BYTES)];
	int n;

	*len = 0;
	/* JSON integers (RFC 8785 numbers that are exact): 0..2^53-1. */
	if (size > (uint64_t)SDPP_JSON_INT_MAX || time < 0 || time > SDPP_JSON_INT_MAX ||
	    cap < SDPP_TREE_HEAD_CONTEXT_LEN)
		return SDPP_E_INVAL;
	sdpp_hex_encode(khex, key, SDPP_SIGN_PUBLIC_BYTES);
	sdpp_hex_encode(rhex, root, SDPP_TREE_HEAD_ROOT_BYTES);
	memcpy(out, SDPP_TREE_HEAD_CONTEXT, SDPP_TREE_HEAD_CONTEXT_LEN); /* with its NUL */
	/* JCS by hand: the members sorted, no spaces, hex needs no escapes. */
	n = snprintf(out + SDPP_TREE_HEAD_CONTEXT_LEN, cap - SDPP_TREE_HEAD_CONTEXT_LEN,
	    "{\"key\":\"%s\",\"root\":\"%s\",\"size\":%" PRIu64 ",\"time\":%" PRId64 "}", khex,
	    rhex, size, time);
	if (n < 0 || (size_t)n >= cap - SDPP_TREE_HEAD_CONTEXT_LEN)
		return SDPP_E_INVAL;
	*len = SDPP_TREE_HEAD_CONTEXT_LEN + (size_t)n;
	return SDPP_OK;
}

enum sdpp_err
sdpp_tree_head_sign(struct sdpp_tree_head *th, const struct sdpp_identity *id)
{
	uint8_t key[SDPP_SIGN_PUBLIC_BYTES];
	char in[SDPP_TREE_HEAD_INPUT_MAX];
	size_t len;
	enum sdpp_err e;

	sdpp_identity_sign_public(id, key);
	e = sdpp_tree_head_input(key, th->size, th->root, th->time, in, sizeof(in), &len);
	if (e != SDPP_OK)
		return e;
	return sdpp_sign(id, in, len, th->signature);
}

enum sdpp_err
sdpp_tree_head_verify(const struct sdpp_tree_head *th, const uint8_t key[SDPP_SIGN_PUBLIC_BYTES])
{
	char in[SDPP_TREE_HEAD_INPUT_MAX];
	size_t len;
	enum sdpp_err e;

	e = sdpp_tree_head_input(key, th->size, th->root, th->time, in, sizeof(in), &len);
	if (e != SDPP_OK)
		return e;
	if (sdpp_verify_raw(key, in, len, th->signature, SDPP_SIGN_BYTES) != SDPP_OK)
		return SDPP_E_SIGNATURE;
	return SDPP_OK;
}
