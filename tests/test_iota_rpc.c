/* IOTA JSON-RPC readers: the OpenRPC shapes accepted, and every malformed answer refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "iota/rpc.h"
#include "tests/common/testutil.h"

#define CORPUS "fuzz/corpus/iota_rpc/"
#define SELLER "0x258633e358eaaef644f84420bb85fb25f1a9c45a88237909c74c93a19737251a"
#define BUYER "0x99c859e54cddef658164e70c06b73356b2697082c6edce1c3be17e0bd63ccded"

static enum iota_rpc_status
parse(const char *body, cJSON **root, const cJSON **result, long *code, char *text)
{
	return iota_rpc_response(body, strlen(body), 1, root, result, code, text);
}

/* A committed corpus file: the reference shapes double as fuzz seeds. */
static cJSON *
load(const char *name, const cJSON **result)
{
	char path[256], text[IOTA_RPC_TEXT_MAX], *body;
	cJSON *root = NULL;
	long code;
	size_t len;

	snprintf(path, sizeof(path), CORPUS "%s", name);
	body = test_file_read(path, &len);
	assert_non_null(body);
	assert_int_equal(iota_rpc_response(body, len, 1, &root, result, &code, text), IOTA_RPC_OK);
	free(body);
	return root;
}

static void
test_envelope(void **state)
{
	const cJSON *result;
	cJSON *root;
	char text[IOTA_RPC_TEXT_MAX];
	long code;
	static const char *bad[] = {
		"",
		"[]",
		"{\"jsonrpc\":\"1.0\",\"id\":1,\"result\":1}",
		"{\"id\":1,\"result\":1}",
		"{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":1}",
		"{\"jsonrpc\":\"2.0\",\"id\":\"1\",\"result\":1}",
		"{\"jsonrpc\":\"2.0\",\"id\":1}",
		"{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":1,\"error\":{\"code\":1,\"message\":"
		"\"x\"}}",
		"{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":\"x\",\"message\":\"x\"}}",
		"{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":1",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(parse(bad[i], &root, &result, &code, text), IOTA_RPC_BAD);
		assert_null(root);
		assert_true(text[0] != '\0');
	}
	assert_int_equal(parse("{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32700,"
	                       "\"message\":\"Parse\\nerror\"}}",
	                     &root, &result, &code, text),
	    IOTA_RPC_ERROR);
	assert_int_equal(code, -32700);
	/* Control characters never reach a log line. */
	assert_string_equal(text, "Parse?error");
	assert_int_equal(parse("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":\"1000\"}", &root, &result,
	                     &code, text),
	    IOTA_RPC_OK);
	assert_non_null(result);
	cJSON_Delete(root);
	/* Over the cap: refused without parsing. */
	assert_int_equal(
	    iota_rpc_response("{}", IOTA_RPC_RESPONSE_MAX + 1, 1, &root, &result, &code, text),
	    IOTA_RPC_BAD);
}

static void
test_u64(void **state)
{
	static const struct {
		const char *json;
		int ok;
		uint64_t v;
	} cases[] = {
		{ "\"0\"", 1, 0 },
		{ "\"1000\"", 1, 1000 },
		{ "\"18446744073709551615\"", 1, UINT64_MAX },
		{ "\"18446744073709551616\"", 0, 0 },
		{ "\"01\"", 0, 0 },
		{ "\"\"", 0, 0 },
		{ "\"-1\"", 0, 0 },
		{ "\"1e3\"", 0, 0 },
		{ "\" 1\"", 0, 0 },
		{ "1000", 0, 0 },
		{ "null", 0, 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cJSON *v = cJSON_Parse(cases[i].json);
		uint64_t got = 7;

		assert_non_null(v);
		assert_int_equal(iota_rpc_u64(v, &got) == 0, cases[i].ok);
		if (cases[i].ok)
			assert_true(got == cases[i].v);
		cJSON_Delete(v);
	}
}

static void
test_coins(void **state)
{
	struct iota_coin_page *page = malloc(sizeof(*page));
	const cJSON *result;
	cJSON *root = load("coins.json", &result), *bad;
	char err[128];

	(void)state;
	assert_non_null(page);
	assert_int_equal(iota_rpc_coins(result, page, err, sizeof(err)), 0);
	assert_int_equal(page->n, 1);
	assert_true(page->coins[0].balance == UINT64_C(5000000000));
	assert_true(page->coins[0].ref.version == 3);
	assert_int_equal(page->has_next, 0);
	/* Another coin type is skipped, not counted. */
	cJSON_ReplaceItemInObject(cJSON_GetArrayItem(cJSON_GetObjectItem(result, "data"), 0),
	    "coinType", cJSON_CreateString("0x2::other::COIN"));
	assert_int_equal(iota_rpc_coins(result, page, err, sizeof(err)), 0);
	assert_int_equal(page->n, 0);
	cJSON_Delete(root);
	/* hasNextPage without a cursor, a coin without a version. */
	bad = cJSON_Parse("{\"data\":[],\"hasNextPage\":true,\"nextCursor\":null}");
	assert_int_equal(iota_rpc_coins(bad, page, err, sizeof(err)), -1);
	cJSON_Delete(bad);
	bad = cJSON_Parse(
	    "{\"data\":[{\"coinType\":\"0x2::iota::IOTA\",\"balance\":\"1\","
	    "\"coinObjectId\":\"" SELLER "\",\"digest\":"
	    "\"8HXvQw52Jcr35c8XRfoxBQUmm91ebV9wJmR6Ca7BGUWq\"}],\"hasNextPage\":false}");
	assert_int_equal(iota_rpc_coins(bad, page, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "malformed coin"));
	cJSON_Delete(bad);
	free(page);
}

static void
test_tx(void **state)
{
	const cJSON *result;
	cJSON *root = load("tx.json", &result), *eff, *st;
	struct iota_tx_view v;
	uint8_t seller[IOTA_ADDRESS_BYTES], buyer[IOTA_ADDRESS_BYTES];
	char err[128];
	uint64_t got;

	(void)state;
	assert_int_equal(iota_address_parse(seller, SELLER), 0);
	assert_int_equal(iota_address_parse(buyer, BUYER), 0);
	assert_int_equal(iota_rpc_tx(result, &v, err, sizeof(err)), 0);
	assert_true(v.effects.success);
	assert_true(v.have_sender);
	assert_memory_equal(v.sender, buyer, IOTA_ADDRESS_BYTES);
	assert_true(v.effects.gas.computation == 1000000 && v.effects.gas.rebate == 812592);
	assert_int_equal(iota_rpc_received(result, seller, &got, err, sizeof(err)), 0);
	assert_true(got == 4000);
	/* The payer received nothing: its change is negative. */
	assert_int_equal(iota_rpc_received(result, buyer, &got, err, sizeof(err)), 0);
	assert_true(got == 0);
	/* A failed transaction reads as failed, with its reason. */
	eff = cJSON_GetObjectItem(result, "effects");
	st = cJSON_GetObjectItem(eff, "status");
	cJSON_ReplaceItemInObject(st, "status", cJSON_CreateString("failure"));
	cJSON_AddStringToObject(st, "error", "InsufficientCoinBalance in command 0");
	assert_int_equal(iota_rpc_tx(result, &v, err, sizeof(err)), 0);
	assert_false(v.effects.success);
	assert_string_equal(v.effects.error, "InsufficientCoinBalance in command 0");
	/* Effects of another transaction than the one asked for. */
	cJSON_ReplaceItemInObject(eff, "transactionDigest",
	    cJSON_CreateString("D2NQ4j1et5yTzu9Af27wf4ZzVhS8tmxsyGuctUTcP9cZ"));
	assert_int_equal(iota_rpc_tx(result, &v, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "another transaction"));
	cJSON_Delete(root);
}

static void
test_received(void **state)
{
	uint8_t seller[IOTA_ADDRESS_BYTES];
	char err[128];
	uint64_t got;
	cJSON *r;

	(void)state;
	assert_int_equal(iota_address_parse(seller, SELLER), 0);
	/* Two changes to the seller add up; another coin type does not count. */
	r = cJSON_Parse(
	    "{\"balanceChanges\":["
	    "{\"owner\":{\"AddressOwner\":\"" SELLER "\"},\"coinType\":\"0x2::iota::IOTA\","
	    "\"amount\":\"1500\"},"
	    "{\"owner\":{\"AddressOwner\":\"" SELLER "\"},\"coinType\":"
	    "\"0x0000000000000000000000000000000000000000000000000000000000000002::iota::IOTA\","
	    "\"amount\":\"500\"},"
	    "{\"owner\":{\"AddressOwner\":\"" SELLER "\"},\"coinType\":\"0x9::fake::IOTA\","
	    "\"amount\":\"99999\"},"
	    "{\"owner\":{\"ObjectOwner\":\"" SELLER "\"},\"coinType\":\"0x2::iota::IOTA\","
	    "\"amount\":\"77777\"}]}");
	assert_int_equal(iota_rpc_received(r, seller, &got, err, sizeof(err)), 0);
	assert_true(got == 2000);
	cJSON_Delete(r);
	/* Sums beyond 2^64 are refused, not wrapped. */
	r = cJSON_Parse(
	    "{\"balanceChanges\":["
	    "{\"owner\":{\"AddressOwner\":\"" SELLER "\"},\"coinType\":\"0x2::iota::IOTA\","
	    "\"amount\":\"18446744073709551615\"},"
	    "{\"owner\":{\"AddressOwner\":\"" SELLER "\"},\"coinType\":\"0x2::iota::IOTA\","
	    "\"amount\":\"1\"}]}");
	assert_int_equal(iota_rpc_received(r, seller, &got, err, sizeof(err)), -1);
	cJSON_Delete(r);
	r = cJSON_Parse("{\"balanceChanges\":[{\"owner\":{\"AddressOwner\":\"0x6\"},"
	                "\"coinType\":\"0x2::iota::IOTA\",\"amount\":\"1\"}]}");
	assert_int_equal(iota_rpc_received(r, seller, &got, err, sizeof(err)), -1);
	cJSON_Delete(r);
	r = cJSON_Parse("{}");
	assert_int_equal(iota_rpc_received(r, seller, &got, err, sizeof(err)), -1);
	cJSON_Delete(r);
}

static void
test_budget(void **state)
{
	struct iota_gas_used g = { 1000000, 2150800, 812592, 8208 };
	uint64_t b;

	(void)state;
	/* The SDK's formula: computation + 1000 x price + storage - rebate. */
	assert_int_equal(iota_gas_budget(&g, 1000, &b), 0);
	assert_true(b == 1000000 + 1000000 + 2150800 - 812592);
	/* A rebate larger than the storage never lowers the base. */
	g.storage = 10;
	assert_int_equal(iota_gas_budget(&g, 1000, &b), 0);
	assert_true(b == 2000000);
	g.computation = UINT64_MAX;
	assert_int_equal(iota_gas_budget(&g, 1000, &b), -1);
	g.computation = 0;
	assert_int_equal(iota_gas_budget(&g, UINT64_MAX / 10, &b), -1);
}

static void
test_balance_and_not_found(void **state)
{
	const cJSON *result;
	cJSON *root = load("balance.json", &result);
	uint64_t total, coins;
	char err[64];

	(void)state;
	assert_int_equal(iota_rpc_balance(result, &total, &coins, err, sizeof(err)), 0);
	assert_true(total == UINT64_C(10000000000) && coins == 2);
	cJSON_Delete(root);
	assert_true(iota_rpc_not_found(
	    -32602, "Could not find the referenced transaction [TransactionDigest(abc)]."));
	assert_false(iota_rpc_not_found(-32602, "Invalid params"));
}

int
main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_envelope),
		cmocka_unit_test(test_u64),
		cmocka_unit_test(test_coins),
		cmocka_unit_test(test_tx),
		cmocka_unit_test(test_received),
		cmocka_unit_test(test_budget),
		cmocka_unit_test(test_balance_and_not_found),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
