/* libFuzzer target: IOTA JSON-RPC responses, read by every result reader (iota/rpc.c). */
#include <cjson/cJSON.h>

#include "fuzz/fuzz.h"
#include "iota/rpc.h"

/* Texts a reader leaves behind are NUL-terminated and free of control
 * characters (they end up in log lines). */
static void
check_text(const char *t, size_t cap)
{
	size_t i;

	for (i = 0; i < cap && t[i] != '\0'; i++)
		CHECK((unsigned char)t[i] >= 0x20 && t[i] != 0x7f);
	CHECK(i < cap);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t owner[IOTA_ADDRESS_BYTES] = { 0x11, 0x22 };
	struct iota_coin_page *page;
	struct iota_tx_view v;
	struct iota_effects e;
	const cJSON *result = NULL;
	cJSON *root = NULL;
	char text[IOTA_RPC_TEXT_MAX], err[128];
	uint64_t got, total, coins, budget;
	long code;
	enum iota_rpc_status st;
	size_t i;

	st = iota_rpc_response((const char *)data, size, 1, &root, &result, &code, text);
	check_text(text, sizeof(text));
	if (st != IOTA_RPC_OK) {
		CHECK(root == NULL && result == NULL);
		return 0;
	}
	CHECK(root != NULL && result != NULL);
	page = malloc(sizeof(*page));
	CHECK(page != NULL);
	if (iota_rpc_coins(result, page, err, sizeof(err)) == 0) {
		CHECK(page->n <= IOTA_RPC_COINS_MAX);
		CHECK(!page->has_next || page->cursor[0] != '\0');
		for (i = 0; i < page->n; i++)
			CHECK(page->coins[i].ref.version <= UINT64_MAX);
	}
	if (iota_rpc_effects(
	        cJSON_GetObjectItemCaseSensitive(result, "effects"), &e, err, sizeof(err)) == 0) {
		check_text(e.error, sizeof(e.error));
		CHECK(e.success == 0 || e.error[0] == '\0');
		if (iota_gas_budget(&e.gas, 1000, &budget) == 0)
			CHECK(budget >= e.gas.computation);
	}
	if (iota_rpc_tx(result, &v, err, sizeof(err)) == 0)
		CHECK(memcmp(v.digest, v.effects.digest, IOTA_DIGEST_BYTES) == 0);
	(void)iota_rpc_received(result, owner, &got, err, sizeof(err));
	(void)iota_rpc_balance(result, &total, &coins, err, sizeof(err));
	(void)iota_rpc_u64(result, &got);
	free(page);
	cJSON_Delete(root);
	return 0;
}
