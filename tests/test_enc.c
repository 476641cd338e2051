/* Tables for hex, strict base64 (RFC 4648 s.10 vectors) and decimal money. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sdpp/enc.h"

static void
test_b64_rfc4648(void **state)
{
	/* RFC 4648 section 10. */
	static const struct {
		const char *in, *out;
	} v[] = {
		{ "", "" },
		{ "f", "Zg==" },
		{ "fo", "Zm8=" },
		{ "foo", "Zm9v" },
		{ "foob", "Zm9vYg==" },
		{ "fooba", "Zm9vYmE=" },
		{ "foobar", "Zm9vYmFy" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		char enc[SDPP_B64_LEN(6)];
		uint8_t dec[8];
		size_t n;

		sdpp_b64_encode(enc, (const uint8_t *)v[i].in, strlen(v[i].in));
		assert_string_equal(enc, v[i].out);
		assert_int_equal(
		    sdpp_b64_decode(dec, sizeof(dec), &n, v[i].out, strlen(v[i].out)), SDPP_OK);
		assert_int_equal(n, strlen(v[i].in));
		assert_memory_equal(dec, v[i].in, n);
	}
}

static void
test_b64_strict(void **state)
{
	static const char *bad[] = {
		"Zg=",
		"Zg",
		"Zh==",
		"Zm9=",
		"Z===",
		"====",
		"Zm9v\n",
		" Zm9v",
		"Zm9v====",
		"Zg==Zm9v",
		"Zm-v",
		"Zm_v",
		"Z=g=",
	};
	uint8_t dec[16];
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(sdpp_b64_decode(dec, sizeof(dec), &n, bad[i], strlen(bad[i])),
		    SDPP_E_BAD_MESSAGE);
	/* Over the caller's cap. */
	assert_int_equal(sdpp_b64_decode(dec, 2, &n, "Zm9v", 4), SDPP_E_BAD_MESSAGE);
}

static void
test_hex(void **state)
{
	uint8_t b[3] = { 0x00, 0xab, 0xff }, d[3];
	char h[SDPP_HEX_LEN(3)];

	(void)state;
	sdpp_hex_encode(h, b, 3);
	assert_string_equal(h, "00abff");
	assert_int_equal(sdpp_hex_decode(d, 3, "00ABff"), SDPP_OK);
	assert_memory_equal(d, b, 3);
	assert_int_equal(sdpp_hex_decode(d, 3, "00abf"), SDPP_E_BAD_MESSAGE);
	assert_int_equal(sdpp_hex_decode(d, 3, "00abfff"), SDPP_E_BAD_MESSAGE);
	assert_int_equal(sdpp_hex_decode(d, 3, "00abfg"), SDPP_E_BAD_MESSAGE);
	assert_int_equal(sdpp_hex_decode(d, 3, NULL), SDPP_E_BAD_MESSAGE);
}

static void
test_money(void **state)
{
	static const struct {
		const char *s;
		enum sdpp_err e;
		uint64_t v;
	} v[] = {
		{ "0", SDPP_OK, 0 },
		{ "1", SDPP_OK, 1 },
		{ "18446744073709551615", SDPP_OK, UINT64_MAX },
		{ "18446744073709551616", SDPP_E_OVERFLOW, 0 },
		{ "99999999999999999999", SDPP_E_OVERFLOW, 0 },
		{ "100000000000000000000", SDPP_E_BAD_MESSAGE, 0 },
		{ "", SDPP_E_BAD_MESSAGE, 0 },
		{ "01", SDPP_E_BAD_MESSAGE, 0 },
		{ "-1", SDPP_E_BAD_MESSAGE, 0 },
		{ "+1", SDPP_E_BAD_MESSAGE, 0 },
		{ "1.5", SDPP_E_BAD_MESSAGE, 0 },
		{ " 1", SDPP_E_BAD_MESSAGE, 0 },
		{ "1e3", SDPP_E_BAD_MESSAGE, 0 },
	};
	char out[SDPP_MONEY_LEN];
	uint64_t x;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		x = 12345;
		assert_int_equal(sdpp_money_parse(&x, v[i].s), v[i].e);
		if (v[i].e == SDPP_OK) {
			assert_true(x == v[i].v);
			sdpp_money_format(out, x);
			assert_string_equal(out, v[i].s);
		}
	}
	assert_int_equal(sdpp_money_mul(&x, UINT64_MAX / 2, 2), SDPP_OK);
	assert_int_equal(sdpp_money_mul(&x, UINT64_MAX / 2 + 1, 2), SDPP_E_OVERFLOW);
	assert_int_equal(sdpp_money_mul(&x, 0, UINT64_MAX), SDPP_OK);
	assert_true(x == 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_b64_rfc4648),
		cmocka_unit_test(test_b64_strict),
		cmocka_unit_test(test_hex),
		cmocka_unit_test(test_money),
	};

	return cmocka_run_group_tests_name("enc", tests, NULL, NULL);
}
