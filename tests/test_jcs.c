/* RFC 8785 canonical output: the published JCS vectors, the RFC's own examples, caps and limits. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sdpp/json.h"
#include "tests/common/testutil.h"

#define CAP 65536

/* cyberphone/json-canonicalization testdata; intok: only integral numbers inside. */
/* Not const: cmocka hands the entry over as its void * state. */
static struct vector {
	const char *file;
	int intok;
} vectors[] = {
	{ "arrays.json", 1 },
	{ "french.json", 1 },
	{ "structures.json", 1 }, /* 56.0 is integral: the int variant accepts it as 56 */
	{ "unicode.json", 1 },
	{ "values.json", 0 },
	{ "weird.json", 1 },
};

static void
test_vector(void **state)
{
	const struct vector *v = *state;
	char rel[128], *in, *want, *out;
	size_t inlen, wantlen, outlen;
	cJSON *j;

	snprintf(rel, sizeof(rel), "jcs/input/%s", v->file);
	in = test_vector_read(rel, &inlen);
	if (in == NULL)
		TEST_SKIP(TEST_NO_VECTORS);
	snprintf(rel, sizeof(rel), "jcs/output/%s", v->file);
	want = test_vector_read(rel, &wantlen);
	assert_non_null(want);
	/* The files carry no newline today; tolerate one if they ever do. */
	if (wantlen > 0 && want[wantlen - 1] == '\n')
		want[--wantlen] = '\0';
	/* Lenient cJSON on purpose: some inputs have fractions and exponents. */
	j = cJSON_ParseWithLength(in, inlen);
	assert_non_null(j);

	assert_int_equal(sdpp_jcs_serialize(j, CAP, &out, &outlen), SDPP_OK);
	assert_int_equal(outlen, wantlen);
	assert_memory_equal(out, want, wantlen);
	assert_int_equal(out[outlen], '\0');
	free(out);

	out = (char *)&out;
	if (v->intok) {
		assert_int_equal(sdpp_jcs_serialize_int(j, CAP, &out, &outlen), SDPP_OK);
		assert_int_equal(outlen, wantlen);
		assert_memory_equal(out, want, wantlen);
		free(out);
	} else {
		assert_int_equal(sdpp_jcs_serialize_int(j, CAP, &out, &outlen), SDPP_E_BAD_NUMBER);
		assert_null(out);
	}
	/* One byte short of the canonical length is too large. */
	assert_int_equal(sdpp_jcs_serialize(j, wantlen - 1, &out, &outlen), SDPP_E_FRAME_TOO_LARGE);
	assert_null(out);
	cJSON_Delete(j);
	free(in);
	free(want);
}

/* Adds item to an array, or to an object under the name "k". */
static void
add(cJSON *to, cJSON *item)
{
	assert_non_null(item);
	if (cJSON_IsArray(to))
		cJSON_AddItemToArray(to, item);
	else
		cJSON_AddItemToObject(to, "k", item);
}

/* Parses text leniently and checks the canonical form. */
static void
check_canon(const char *in, const char *want)
{
	cJSON *j = cJSON_Parse(in);
	size_t outlen;
	char *out;

	if (j == NULL)
		fail_msg("cJSON refused %s", in);
	assert_int_equal(sdpp_jcs_serialize(j, CAP, &out, &outlen), SDPP_OK);
	assert_string_equal(out, want);
	assert_int_equal(outlen, strlen(want));
	free(out);
	cJSON_Delete(j);
}

static void
test_rfc_examples(void **state)
{
	(void)state;
	/* RFC 8785 s3.2.2: the input and the UTF-8 output printed in hex there. */
	check_canon("{\n"
	            "  \"numbers\": [333333333.33333329, 1E30, 4.50, 2e-3, "
	            "0.000000000000000000000000001],\n"
	            "  \"string\": \"\\u20ac$\\u000F\\u000aA'\\u0042\\u0022\\u005c\\\\\\\"\\/\",\n"
	            "  \"literals\": [null, true, false]\n"
	            "}",
	    "{\"literals\":[null,true,false],\"numbers\":[333333333.3333333,1e+30,4.5,0.002,1e-27],"
	    "\"string\":\"\xe2\x82\xac$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}");
	/*
	 * RFC 8785 s3.2.3 sorting: by UTF-16 code units, so U+1F600 (D83D DE00)
	 * sorts before U+FB33 although its UTF-8 bytes (F0..) sort after (EF..).
	 */
	check_canon("{\n"
	            "  \"\\u20ac\": \"Euro Sign\",\n"
	            "  \"\\r\": \"Carriage Return\",\n"
	            "  \"\\ufb33\": \"Hebrew Letter Dalet With Dagesh\",\n"
	            "  \"1\": \"One\",\n"
	            "  \"\\ud83d\\ude00\": \"Emoji: Grinning Face\",\n"
	            "  \"\\u0080\": \"Control\",\n"
	            "  \"\\u00f6\": \"Latin Small Letter O With Diaeresis\"\n"
	            "}",
	    "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\xc2\x80\":\"Control\","
	    "\"\xc3\xb6\":\"Latin Small Letter O With Diaeresis\",\"\xe2\x82\xac\":\"Euro Sign\","
	    "\"\xf0\x9f\x98\x80\":\"Emoji: Grinning Face\","
	    "\"\xef\xac\xb3\":\"Hebrew Letter Dalet With Dagesh\"}");
}

static void
test_strings(void **state)
{
	static const struct {
		const char *in, *want;
	} v[] = {
		{ "\"\"", "\"\"" }, { "\"\\b\\f\\n\\r\\t\"", "\"\\b\\f\\n\\r\\t\"" },
		{ "\"\\u0001\\u001F\\u000b\"", "\"\\u0001\\u001f\\u000b\"" },
		{ "\"\\/</script>\"", "\"/</script>\"" },
		{ "\"\\u007f\\u0080\\u2028\\uffff\"", "\"\x7f\xc2\x80\xe2\x80\xa8\xef\xbf\xbf\"" },
		{ "\"\\\"\\\\\"", "\"\\\"\\\\\"" },
		{ "[\"a\\u0000\"]", "[\"a\"]" }, /* cJSON stops at NUL; strict parse refuses it */
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		check_canon(v[i].in, v[i].want);
}

static void
test_sorting(void **state)
{
	(void)state;
	/* Prefixes first; byte order within ASCII (upper before lower). */
	check_canon("{\"b\":1,\"a\":2,\"ab\":3,\"\":4,\"B\":5,\"aa\":6}",
	    "{\"\":4,\"B\":5,\"a\":2,\"aa\":6,\"ab\":3,\"b\":1}");
	/* Two supplementary characters that share a high surrogate. */
	check_canon("{\"\\ud83d\\ude01\":1,\"\\ud83d\\ude00\":2,\"\\ud83c\\udfff\":3,\"\\uffff\":4,"
	            "\"\\ud7ff\":5}",
	    "{\"\xed\x9f\xbf\":5,\"\xf0\x9f\x8f\xbf\":3,\"\xf0\x9f\x98\x80\":2,"
	    "\"\xf0\x9f\x98\x81\":1,\"\xef\xbf\xbf\":4}");
	/* Nested objects sorted too, arrays keep their order. */
	check_canon(
	    "{\"z\":[3,{\"y\":1,\"x\":2},1],\"a\":{}}", "{\"a\":{},\"z\":[3,{\"x\":2,\"y\":1},1]}");
}

/* A number from its IEEE 754 bit pattern. */
static double
bits(uint64_t u)
{
	double d;

	memcpy(&d, &u, sizeof(d));
	return d;
}

static void
check_number(double d, const char *want)
{
	cJSON *j = cJSON_CreateNumber(d);
	size_t outlen;
	char *out;

	assert_non_null(j);
	assert_int_equal(sdpp_jcs_serialize(j, CAP, &out, &outlen), SDPP_OK);
	if (strcmp(out, want) != 0)
		fail_msg("%.17g: got %s want %s", d, out, want);
	free(out);
	cJSON_Delete(j);
}

static void
test_numbers(void **state)
{
	/* RFC 8785 Appendix B, plus the examples listed in the brief. */
	static const struct {
		uint64_t bits;
		const char *want;
	} v[] = {
		{ 0x0000000000000000ULL, "0" },
		{ 0x8000000000000000ULL, "0" },
		{ 0x0000000000000001ULL, "5e-324" },
		{ 0x8000000000000001ULL, "-5e-324" },
		{ 0x7fefffffffffffffULL, "1.7976931348623157e+308" },
		{ 0xffefffffffffffffULL, "-1.7976931348623157e+308" },
		{ 0x4340000000000000ULL, "9007199254740992" },
		{ 0xc340000000000000ULL, "-9007199254740992" },
		{ 0x4430000000000000ULL, "295147905179352830000" },
		{ 0x44b52d02c7e14af5ULL, "9.999999999999997e+22" },
		{ 0x44b52d02c7e14af6ULL, "1e+23" },
		{ 0x44b52d02c7e14af7ULL, "1.0000000000000001e+23" },
		{ 0x444b1ae4d6e2ef4eULL, "999999999999999700000" },
		{ 0x444b1ae4d6e2ef4fULL, "999999999999999900000" },
		{ 0x444b1ae4d6e2ef50ULL, "1e+21" },
		{ 0x3eb0c6f7a0b5ed8cULL, "9.999999999999997e-7" },
		{ 0x3eb0c6f7a0b5ed8dULL, "0.000001" },
		{ 0x41b3de4355555553ULL, "333333333.3333332" },
		{ 0x41b3de4355555554ULL, "333333333.33333325" },
		{ 0x41b3de4355555555ULL, "333333333.3333333" },
		{ 0x41b3de4355555556ULL, "333333333.3333334" },
		{ 0x41b3de4355555557ULL, "333333333.33333343" },
		{ 0xbecbf647612f3696ULL, "-0.0000033333333333333333" },
		{ 0x43143ff3c1cb0959ULL, "1424953923781206.2" },
		/*
		 * A power of two where the nearest 16-digit decimal does not
		 * round-trip but the one on the other side does (node agrees).
		 */
		{ 0x2910000000000000ULL, "6.653062250012736e-111" },
	};
	static const struct {
		double d;
		const char *want;
	} w[] = {
		{ 1e21, "1e+21" }, { 1e-7, "1e-7" }, { 1e20, "100000000000000000000" },
		{ 1.5e-6, "0.0000015" }, { 0.1, "0.1" }, { -1.5, "-1.5" }, { 123.456, "123.456" },
		{ 1e300, "1e+300" }, { 2.5e-300, "2.5e-300" },
		{ -9007199254740991.0, "-9007199254740991" },
		{ 2251799813685248.5, "2251799813685248.5" }, /* 2^51 + 0.5 */
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		check_number(bits(v[i].bits), v[i].want);
	for (i = 0; i < sizeof(w) / sizeof(w[0]); i++)
		check_number(w[i].d, w[i].want);
}

static void
test_bad_numbers(void **state)
{
	static const double bad[] = { NAN, -NAN, INFINITY, -INFINITY };
	char *out;
	size_t i, outlen;
	cJSON *j;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		j = cJSON_CreateArray();
		assert_non_null(j);
		cJSON_AddItemToArray(j, cJSON_CreateNumber(bad[i]));
		out = (char *)&out;
		assert_int_equal(sdpp_jcs_serialize(j, CAP, &out, &outlen), SDPP_E_BAD_NUMBER);
		assert_null(out);
		assert_int_equal(sdpp_jcs_serialize_int(j, CAP, &out, &outlen), SDPP_E_BAD_NUMBER);
		assert_null(out);
		cJSON_Delete(j);
	}
}

static void
test_int_only(void **state)
{
	static const struct {
		double d;
		enum sdpp_err e;
		const char *want;
	} v[] = {
		{ 0, SDPP_OK, "0" },
		{ -0.0, SDPP_OK, "0" },
		{ 42, SDPP_OK, "42" },
		{ 56.0, SDPP_OK, "56" },
		{ 9007199254740991.0, SDPP_OK, "9007199254740991" },
		{ -9007199254740991.0, SDPP_OK, "-9007199254740991" },
		{ 9007199254740992.0, SDPP_E_BAD_NUMBER, NULL },
		{ -9007199254740992.0, SDPP_E_BAD_NUMBER, NULL },
		{ 1e21, SDPP_E_BAD_NUMBER, NULL },
		{ 1e300, SDPP_E_BAD_NUMBER, NULL },
		{ 1.5, SDPP_E_BAD_NUMBER, NULL },
		{ -0.5, SDPP_E_BAD_NUMBER, NULL },
		{ 5e-324, SDPP_E_BAD_NUMBER, NULL },
	};
	char *out;
	size_t i, outlen;
	cJSON *j;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		j = cJSON_CreateObject();
		assert_non_null(j);
		cJSON_AddNumberToObject(j, "n", v[i].d);
		assert_int_equal(sdpp_jcs_serialize_int(j, CAP, &out, &outlen), v[i].e);
		if (v[i].e == SDPP_OK) {
			char want[64];

			snprintf(want, sizeof(want), "{\"n\":%s}", v[i].want);
			assert_string_equal(out, want);
			free(out);
		} else
			assert_null(out);
		cJSON_Delete(j);
	}
}

static void
test_cap(void **state)
{
	cJSON *j = cJSON_Parse("{\"a\":1}");
	char *out;
	size_t outlen;
	cJSON *big;
	int i;

	(void)state;
	assert_non_null(j);
	assert_int_equal(sdpp_jcs_serialize(j, 7, &out, &outlen), SDPP_OK);
	assert_int_equal(outlen, 7);
	assert_string_equal(out, "{\"a\":1}");
	free(out);
	assert_int_equal(sdpp_jcs_serialize(j, 6, &out, &outlen), SDPP_E_FRAME_TOO_LARGE);
	assert_null(out);
	assert_int_equal(outlen, 0);
	assert_int_equal(sdpp_jcs_serialize_int(j, 0, &out, &outlen), SDPP_E_FRAME_TOO_LARGE);
	assert_null(out);
	assert_int_equal(sdpp_jcs_serialize(j, SIZE_MAX, &out, &outlen), SDPP_OK);
	free(out);
	cJSON_Delete(j);

	/* Growth past the first allocation, then the cap hit in the middle of a string. */
	big = cJSON_CreateArray();
	assert_non_null(big);
	for (i = 0; i < 1000; i++)
		cJSON_AddItemToArray(big, cJSON_CreateString("0123456789\n"));
	assert_int_equal(sdpp_jcs_serialize(big, CAP, &out, &outlen), SDPP_OK);
	assert_int_equal(outlen, 2 + 1000 * 15 - 1);
	free(out);
	assert_int_equal(sdpp_jcs_serialize(big, 14999, &out, &outlen), SDPP_E_FRAME_TOO_LARGE);
	assert_int_equal(sdpp_jcs_serialize(big, 15001, &out, &outlen), SDPP_OK);
	free(out);
	assert_int_equal(sdpp_jcs_serialize(big, 5000, &out, &outlen), SDPP_E_FRAME_TOO_LARGE);
	assert_null(out);
	cJSON_Delete(big);
}

static void
test_bad_trees(void **state)
{
	cJSON *j, *c, *inner;
	char *out;
	size_t outlen;
	int i;

	(void)state;
	/* Invalid UTF-8 in a value and in a name. */
	j = cJSON_CreateArray();
	cJSON_AddItemToArray(j, cJSON_CreateString("ok\xc0\x80"));
	assert_int_equal(sdpp_jcs_serialize(j, CAP, &out, &outlen), SDPP_E_BAD_JSON);
	assert_null(out);
	cJSON_Delete(j);
	j = cJSON_CreateObject();
	cJSON_AddNullToObject(j, "\xed\xa0\x80");
	assert_int_equal(sdpp_jcs_serialize(j, CAP, &out, &outlen), SDPP_E_BAD_JSON);
	cJSON_Delete(j);
	/* A name twice: no canonical form. */
	j = cJSON_CreateObject();
	cJSON_AddNullToObject(j, "a");
	cJSON_AddNullToObject(j, "b");
	cJSON_AddNullToObject(j, "a");
	assert_int_equal(sdpp_jcs_serialize(j, CAP, &out, &outlen), SDPP_E_BAD_JSON);
	cJSON_Delete(j);
	/* Raw JSON cannot be canonicalised. */
	j = cJSON_CreateRaw("1.0");
	assert_int_equal(sdpp_jcs_serialize(j, CAP, &out, &outlen), SDPP_E_BAD_JSON);
	cJSON_Delete(j);
	assert_int_equal(sdpp_jcs_serialize(NULL, CAP, &out, &outlen), SDPP_E_INVAL);

	/* Depth: 32 nested containers with a scalar inside are fine, 33 are not. */
	j = cJSON_CreateArray();
	inner = j;
	for (i = 1; i < SDPP_JSON_MAX_DEPTH; i++) {
		c = i % 2 ? cJSON_CreateObject() : cJSON_CreateArray();
		add(inner, c);
		inner = c;
	}
	add(inner, cJSON_CreateNumber(1));
	assert_int_equal(sdpp_jcs_serialize(j, CAP, &out, &outlen), SDPP_OK);
	free(out);
	add(inner, cJSON_CreateArray());
	assert_int_equal(sdpp_jcs_serialize(j, CAP, &out, &outlen), SDPP_E_BAD_JSON);
	assert_null(out);
	cJSON_Delete(j);
}

/* What the strict parser accepts, serialize_int writes back unchanged when already canonical. */
static void
test_roundtrip(void **state)
{
	static const char *canon[] = {
		"{\"a\":[1,-2,{\"b\":null}],\"c\":\"\xe2\x82\xac\\n\",\"d\":9007199254740991}",
		"[]", "\"\\u001f\"",
		"{\"\xf0\x9f\x98\x80\":2,\"\xef\xbf\xbf\":1}", /* D83D < FFFF */
	};
	char *out;
	size_t i, outlen;
	cJSON *j;

	(void)state;
	for (i = 0; i < sizeof(canon) / sizeof(canon[0]); i++) {
		assert_int_equal(sdpp_json_parse(&j, canon[i], strlen(canon[i]), NULL, 0), SDPP_OK);
		assert_int_equal(sdpp_jcs_serialize_int(j, CAP, &out, &outlen), SDPP_OK);
		assert_string_equal(out, canon[i]);
		free(out);
		cJSON_Delete(j);
	}
}

#define VECTOR_TEST(i, name)                                                                       \
	{                                                                                          \
		"jcs_vector_" name, test_vector, NULL, NULL, &vectors[i]                           \
	}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		VECTOR_TEST(0, "arrays"),
		VECTOR_TEST(1, "french"),
		VECTOR_TEST(2, "structures"),
		VECTOR_TEST(3, "unicode"),
		VECTOR_TEST(4, "values"),
		VECTOR_TEST(5, "weird"),
		cmocka_unit_test(test_rfc_examples),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_sorting),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_bad_numbers),
		cmocka_unit_test(test_int_only),
		cmocka_unit_test(test_cap),
		cmocka_unit_test(test_bad_trees),
		cmocka_unit_test(test_roundtrip),
	};

	return cmocka_run_group_tests_name("jcs", tests, NULL, NULL);
}
