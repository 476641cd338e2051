/* Tables of malformed and well-formed input for the strict JSON parser (sdpp_json_parse). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "sdpp/json.h"

/* A literal with its exact length, so inputs may hold NUL bytes. */
#define B(s) s, sizeof(s) - 1

struct pcase {
	const char *name;
	const char *in;
	size_t len;
	enum sdpp_err e;
};

static void
run_cases(const struct pcase *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		cJSON *j = (cJSON *)&j; /* must come back NULL on failure */
		char err[128];
		enum sdpp_err e;

		memset(err, 'x', sizeof(err));
		e = sdpp_json_parse(&j, v[i].in, v[i].len, err, sizeof(err));
		if (e != v[i].e)
			fail_msg("%s: got %d (%s) want %d", v[i].name, e, err, v[i].e);
		assert_non_null(memchr(err, '\0', sizeof(err)));
		if (e == SDPP_OK) {
			assert_non_null(j);
		} else {
			assert_null(j);
			if (err[0] == '\0')
				fail_msg("%s: empty err text", v[i].name);
		}
		cJSON_Delete(j);
	}
}

static void
test_parse_bad(void **state)
{
	static const struct pcase v[] = {
		/* Duplicate member names, compared after decoding escapes. */
		{ "dup top", B("{\"a\":1,\"a\":2}"), SDPP_E_BAD_JSON },
		{ "dup nested", B("{\"x\":{\"b\":1,\"c\":2,\"b\":3}}"), SDPP_E_BAD_JSON },
		{ "dup in array", B("[{\"k\":1},{\"k\":1,\"k\":1}]"), SDPP_E_BAD_JSON },
		{ "dup via escape", B("{\"a\":1,\"\\u0061\":2}"), SDPP_E_BAD_JSON },
		{ "dup via \\/", B("{\"/\":1,\"\\/\":2}"), SDPP_E_BAD_JSON },
		{ "dup via pair", B("{\"\xf0\x9f\x98\x80\":1,\"\\ud83d\\ude00\":2}"),
		    SDPP_E_BAD_JSON },
		{ "dup empty name", B("{\"\":1,\"\":2}"), SDPP_E_BAD_JSON },
		/* UTF-8 per RFC 3629. */
		{ "overlong C0 80", B("\"\xc0\x80\""), SDPP_E_BAD_JSON },
		{ "overlong C1 BF", B("\"\xc1\xbf\""), SDPP_E_BAD_JSON },
		{ "overlong E0 80 80", B("\"\xe0\x80\x80\""), SDPP_E_BAD_JSON },
		{ "overlong E0 9F BF", B("\"\xe0\x9f\xbf\""), SDPP_E_BAD_JSON },
		{ "overlong F0 8F BF BF", B("\"\xf0\x8f\xbf\xbf\""), SDPP_E_BAD_JSON },
		{ "surrogate ED A0 80", B("\"\xed\xa0\x80\""), SDPP_E_BAD_JSON },
		{ "surrogate ED BF BF", B("\"\xed\xbf\xbf\""), SDPP_E_BAD_JSON },
		{ "above 10FFFF F4 90", B("\"\xf4\x90\x80\x80\""), SDPP_E_BAD_JSON },
		{ "F5 lead", B("\"\xf5\x80\x80\x80\""), SDPP_E_BAD_JSON },
		{ "truncated 2", B("\"\xc3\""), SDPP_E_BAD_JSON },
		{ "truncated 3", B("\"\xe2\x82\""), SDPP_E_BAD_JSON },
		{ "truncated 4", B("\"\xf0\x9f\x98\""), SDPP_E_BAD_JSON },
		{ "truncated at end", B("\"\xe2\x82"), SDPP_E_BAD_JSON },
		{ "lone continuation", B("\"\x80\""), SDPP_E_BAD_JSON },
		{ "byte FF", B("\"\xff\""), SDPP_E_BAD_JSON },
		{ "byte FE", B("\"\xfe\""), SDPP_E_BAD_JSON },
		{ "bad UTF-8 in name", B("{\"\xc0\x80\":1}"), SDPP_E_BAD_JSON },
		{ "UTF-8 outside string", B("[\xc3\xa9]"), SDPP_E_BAD_JSON },
		{ "BOM", B("\xef\xbb\xbf{}"), SDPP_E_BAD_JSON },
		/* NUL and control characters. */
		{ "NUL in string", B("\"a\0b\""), SDPP_E_BAD_JSON },
		{ "NUL after value", B("{}\0"), SDPP_E_BAD_JSON },
		{ "NUL in number", B("[1\0002]"), SDPP_E_BAD_JSON },
		{ "raw newline in string", B("\"a\nb\""), SDPP_E_BAD_JSON },
		{ "raw tab in string", B("\"a\tb\""), SDPP_E_BAD_JSON },
		{ "raw 0x1f in string", B("\"\x1f\""), SDPP_E_BAD_JSON },
		{ "control outside string", B("\x01{}"), SDPP_E_BAD_JSON },
		{ "vertical tab as space", B("[1,\v2]"), SDPP_E_BAD_JSON },
		/* Escapes. */
		{ "lone high surrogate", B("\"\\uD800\""), SDPP_E_BAD_JSON },
		{ "lone low surrogate", B("\"\\uDC00\""), SDPP_E_BAD_JSON },
		{ "high then text", B("\"\\ud800x\""), SDPP_E_BAD_JSON },
		{ "high then BMP", B("\"\\ud800\\u0041\""), SDPP_E_BAD_JSON },
		{ "high then high", B("\"\\ud800\\ud800\""), SDPP_E_BAD_JSON },
		{ "pair reversed", B("\"\\ude00\\ud83d\""), SDPP_E_BAD_JSON },
		{ "high at end", B("\"\\ud83d"), SDPP_E_BAD_JSON },
		{ "\\u0000", B("\"a\\u0000b\""), SDPP_E_BAD_JSON },
		{ "\\u0000 in name", B("{\"\\u0000\":1}"), SDPP_E_BAD_JSON },
		{ "short \\u", B("\"\\u12\""), SDPP_E_BAD_JSON },
		{ "bad hex", B("\"\\u12g4\""), SDPP_E_BAD_JSON },
		{ "unknown escape", B("\"\\x41\""), SDPP_E_BAD_JSON },
		{ "escaped quote unterminated", B("\"\\\""), SDPP_E_BAD_JSON },
		{ "backslash at end", B("\"\\"), SDPP_E_BAD_JSON },
		/* Numbers: integers within +-(2^53-1) only. */
		{ "fraction", B("1.5"), SDPP_E_BAD_NUMBER },
		{ "integral fraction", B("{\"a\":56.0}"), SDPP_E_BAD_NUMBER },
		{ "exponent", B("1e3"), SDPP_E_BAD_NUMBER },
		{ "exponent E", B("[1E3]"), SDPP_E_BAD_NUMBER },
		{ "negative zero", B("-0"), SDPP_E_BAD_NUMBER },
		{ "2^53", B("9007199254740992"), SDPP_E_BAD_NUMBER },
		{ "-2^53", B("-9007199254740992"), SDPP_E_BAD_NUMBER },
		{ "2^53+1", B("9007199254740993"), SDPP_E_BAD_NUMBER },
		{ "17 digits", B("10000000000000000"), SDPP_E_BAD_NUMBER },
		{ "huge", B("[123456789012345678901234567890]"), SDPP_E_BAD_NUMBER },
		{ "leading zero", B("01"), SDPP_E_BAD_NUMBER },
		{ "negative leading zero", B("-01"), SDPP_E_BAD_NUMBER },
		{ "double zero", B("00"), SDPP_E_BAD_NUMBER },
		{ "plus", B("+1"), SDPP_E_BAD_NUMBER },
		{ "lone minus", B("[-]"), SDPP_E_BAD_NUMBER },
		{ "double minus", B("--1"), SDPP_E_BAD_NUMBER },
		{ "leading dot", B(".5"), SDPP_E_BAD_NUMBER },
		{ "trailing dot", B("1."), SDPP_E_BAD_NUMBER },
		{ "minus inside", B("1-2"), SDPP_E_BAD_NUMBER },
		{ "number in member", B("{\"a\":{\"b\":[1,2,3.0]}}"), SDPP_E_BAD_NUMBER },
		{ "minus Infinity", B("-Infinity"), SDPP_E_BAD_NUMBER },
		{ "Infinity", B("Infinity"), SDPP_E_BAD_JSON },
		{ "NaN", B("NaN"), SDPP_E_BAD_JSON },
		{ "hex", B("0x10"), SDPP_E_BAD_JSON },
		/* Structure. */
		{ "trailing garbage", B("{} x"), SDPP_E_BAD_JSON },
		{ "two values", B("{}{}"), SDPP_E_BAD_JSON },
		{ "two numbers", B("1 2"), SDPP_E_BAD_JSON },
		{ "empty", B(""), SDPP_E_BAD_JSON },
		{ "whitespace only", B(" \t\r\n"), SDPP_E_BAD_JSON },
		{ "unterminated string", B("\"abc"), SDPP_E_BAD_JSON },
		{ "unterminated name", B("{\"abc"), SDPP_E_BAD_JSON },
		{ "truncated object", B("{\"a\":1"), SDPP_E_BAD_JSON },
		{ "truncated after colon", B("{\"a\":"), SDPP_E_BAD_JSON },
		{ "truncated array", B("[1,"), SDPP_E_BAD_JSON },
		{ "lone brace", B("{"), SDPP_E_BAD_JSON },
		{ "close only", B("]"), SDPP_E_BAD_JSON },
		{ "mismatched close", B("[}"), SDPP_E_BAD_JSON },
		{ "trailing comma array", B("[1,]"), SDPP_E_BAD_JSON },
		{ "trailing comma object", B("{\"a\":1,}"), SDPP_E_BAD_JSON },
		{ "leading comma", B("[,1]"), SDPP_E_BAD_JSON },
		{ "missing comma", B("[1 2]"), SDPP_E_BAD_JSON },
		{ "missing colon", B("{\"a\" 1}"), SDPP_E_BAD_JSON },
		{ "unquoted name", B("{a:1}"), SDPP_E_BAD_JSON },
		{ "number name", B("{1:1}"), SDPP_E_BAD_JSON },
		{ "single quotes", B("'a'"), SDPP_E_BAD_JSON },
		{ "truncated literal", B("tru"), SDPP_E_BAD_JSON },
		{ "literal tail", B("truex"), SDPP_E_BAD_JSON },
		{ "capital literal", B("True"), SDPP_E_BAD_JSON },
		{ "comment", B("[1]/*x*/"), SDPP_E_BAD_JSON },
	};

	(void)state;
	run_cases(v, sizeof(v) / sizeof(v[0]));
}

static void
test_parse_good(void **state)
{
	static const struct pcase v[] = {
		{ "empty object", B("{}"), SDPP_OK },
		{ "empty array", B("[]"), SDPP_OK },
		{ "spaced", B(" \t\r\n{ \"a\" : [ 1 , 2 ] }\n"), SDPP_OK },
		{ "scalar string", B("\"x\""), SDPP_OK },
		{ "scalar zero", B("0"), SDPP_OK },
		{ "literals", B("[true,false,null]"), SDPP_OK },
		{ "2^53-1", B("9007199254740991"), SDPP_OK },
		{ "-(2^53-1)", B("-9007199254740991"), SDPP_OK },
		{ "15 nines", B("999999999999999"), SDPP_OK },
		{ "distinct names", B("{\"a\":1,\"A\":2,\"aa\":3,\"\":4}"), SDPP_OK },
		{ "same name in siblings", B("[{\"a\":1},{\"a\":2}]"), SDPP_OK },
		{ "same name at two levels", B("{\"a\":{\"a\":1}}"), SDPP_OK },
		{ "2-byte UTF-8", B("\"\xc3\xa9\xc2\x80\xdf\xbf\""), SDPP_OK },
		{ "3-byte UTF-8",
		    B("\"\xe2\x82\xac\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80\xef\xbf\xbf\""),
		    SDPP_OK },
		{ "4-byte UTF-8", B("\"\xf0\x9f\x98\x80\xf0\x90\x80\x80\xf4\x8f\xbf\xbf\""),
		    SDPP_OK },
		{ "U+007F raw", B("\"\x7f\""), SDPP_OK },
		{ "escaped pair", B("\"\\ud83d\\ude00\""), SDPP_OK },
		{ "escaped pair upper", B("\"\\uD83D\\uDE00\""), SDPP_OK },
		{ "max pair", B("\"\\udbff\\udfff\""), SDPP_OK },
		{ "escapes", B("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u0001\\u001f\\u00e9\\uffff\""),
		    SDPP_OK },
		{ "message-like",
		    B("{\"message_type\":\"order\",\"version\":\"sdpp/1\",\"seq\":3,"
		      "\"items\":[{\"id\":\"p1\",\"qty\":2,\"price\":-5}]}"),
		    SDPP_OK },
	};

	(void)state;
	run_cases(v, sizeof(v) / sizeof(v[0]));
}

/* n nested arrays, optionally around a 0. */
static char *
nest(int n, int inner)
{
	char *s = malloc((size_t)n * 2 + 2);
	int i, o = 0;

	assert_non_null(s);
	for (i = 0; i < n; i++)
		s[o++] = '[';
	if (inner)
		s[o++] = '0';
	for (i = 0; i < n; i++)
		s[o++] = ']';
	s[o] = '\0';
	return s;
}

static void
test_parse_depth(void **state)
{
	char err[128], *s;
	cJSON *j;

	(void)state;
	s = nest(SDPP_JSON_MAX_DEPTH, 1);
	assert_int_equal(sdpp_json_parse(&j, s, strlen(s), err, sizeof(err)), SDPP_OK);
	cJSON_Delete(j);
	free(s);
	s = nest(SDPP_JSON_MAX_DEPTH + 1, 0);
	assert_int_equal(sdpp_json_parse(&j, s, strlen(s), err, sizeof(err)), SDPP_E_BAD_JSON);
	assert_null(j);
	assert_non_null(strstr(err, "nesting"));
	free(s);
	/* Far deeper than cJSON's own limit of 1000: refused before cJSON sees it. */
	s = nest(100000, 0);
	assert_int_equal(sdpp_json_parse(&j, s, strlen(s), err, sizeof(err)), SDPP_E_BAD_JSON);
	free(s);
	/* Objects count too: 32 levels of {"a":...} is fine, 33 is not. */
	{
		char b[400];
		size_t o = 0;
		int i;

		for (i = 0; i < SDPP_JSON_MAX_DEPTH + 1; i++) {
			memcpy(b + o, "{\"a\":", 5);
			o += 5;
		}
		b[o++] = '1';
		for (i = 0; i < SDPP_JSON_MAX_DEPTH + 1; i++)
			b[o++] = '}';
		assert_int_equal(sdpp_json_parse(&j, b, o, NULL, 0), SDPP_E_BAD_JSON);
		/* Drop the outermost level. */
		assert_int_equal(sdpp_json_parse(&j, b + 5, o - 6, NULL, 0), SDPP_OK);
		cJSON_Delete(j);
	}
}

static void
test_parse_err_text(void **state)
{
	static const struct {
		const char *in;
		const char *want;
	} v[] = {
		{ "{\"a\":1,\"a\":2}", "duplicate key \"a\"" },
		{ "[1,\"\xc0\x80\"]", "invalid UTF-8 at byte 4" },
		{ "[1,9007199254740992]", "number out of range at byte 3" },
		{ "[1.5]", "number with fraction or exponent at byte 1" },
		{ "{} x", "trailing data at byte 3" },
		{ "", "empty input" },
	};
	char err[128], small[8];
	cJSON *j;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		assert_int_not_equal(
		    sdpp_json_parse(&j, v[i].in, strlen(v[i].in), err, sizeof(err)), SDPP_OK);
		assert_string_equal(err, v[i].want);
	}
	/* Control bytes in a duplicate name are not copied into the log text. */
	assert_int_equal(sdpp_json_parse(&j, B("{\"\\n\\\"\":1,\"\\n\\\"\":2}"), err, sizeof(err)),
	    SDPP_E_BAD_JSON);
	assert_string_equal(err, "duplicate key \"??\"");
	/* A short err buffer is truncated, still terminated; NULL err is allowed. */
	assert_int_equal(
	    sdpp_json_parse(&j, B("{\"a\":1,\"a\":2}"), small, sizeof(small)), SDPP_E_BAD_JSON);
	assert_int_equal(strlen(small), sizeof(small) - 1);
	assert_int_equal(sdpp_json_parse(&j, B("{\"a\":1,\"a\":2}"), NULL, 0), SDPP_E_BAD_JSON);
	/* Success clears err. */
	err[0] = 'x';
	assert_int_equal(sdpp_json_parse(&j, B("{}"), err, sizeof(err)), SDPP_OK);
	assert_string_equal(err, "");
	cJSON_Delete(j);
	assert_int_equal(sdpp_json_parse(NULL, B("{}"), err, sizeof(err)), SDPP_E_INVAL);
}

/* The input need not be NUL-terminated: only len bytes are read. */
static void
test_parse_len(void **state)
{
	const char buf[] = { '[', '1', ',', '2', ']', '9', '9' };
	char *heap;
	cJSON *j;

	(void)state;
	assert_int_equal(sdpp_json_parse(&j, buf, 5, NULL, 0), SDPP_OK);
	assert_int_equal(cJSON_GetArraySize(j), 2);
	cJSON_Delete(j);
	assert_int_equal(sdpp_json_parse(&j, buf, 4, NULL, 0), SDPP_E_BAD_JSON);
	/* Exactly sized heap copy, so ASan sees any read past len. */
	heap = malloc(9);
	assert_non_null(heap);
	memcpy(heap, "{\"a\":123}", 9);
	assert_int_equal(sdpp_json_parse(&j, heap, 9, NULL, 0), SDPP_OK);
	cJSON_Delete(j);
	assert_int_equal(sdpp_json_parse(&j, heap, 8, NULL, 0), SDPP_E_BAD_JSON);
	memcpy(heap, "\"\\ud83d\\u", 9);
	assert_int_equal(sdpp_json_parse(&j, heap, 9, NULL, 0), SDPP_E_BAD_JSON);
	memcpy(heap, "123456789", 9);
	assert_int_equal(sdpp_json_parse(&j, heap, 9, NULL, 0), SDPP_OK);
	assert_true(cJSON_GetNumberValue(j) == 123456789.0);
	cJSON_Delete(j);
	free(heap);
}

/* Values come through decoded; the tree is what cJSON would build. */
static void
test_parse_values(void **state)
{
	cJSON *j;

	(void)state;
	assert_int_equal(
	    sdpp_json_parse(
	        &j, B("{\"s\":\"\\u00e9\\ud83d\\ude00\",\"n\":-9007199254740991}"), NULL, 0),
	    SDPP_OK);
	assert_string_equal(
	    cJSON_GetObjectItemCaseSensitive(j, "s")->valuestring, "\xc3\xa9\xf0\x9f\x98\x80");
	assert_true(cJSON_GetObjectItemCaseSensitive(j, "n")->valuedouble == -9007199254740991.0);
	cJSON_Delete(j);
}

/*
 * Thousands of members, as a fuzzer sends: duplicate detection sorts, so
 * this stays well under a second even under ASan.
 */
static void
test_parse_many_keys(void **state)
{
	enum { N = 50000 };
	size_t cap = (size_t)N * 16 + 16, o = 0;
	char *b = malloc(cap);
	clock_t t0;
	cJSON *j;
	int i;

	(void)state;
	assert_non_null(b);
	b[o++] = '{';
	for (i = 0; i < N; i++)
		o += (size_t)snprintf(b + o, cap - o, "%s\"k%d\":%d", i ? "," : "", i, i);
	b[o++] = '}';
	t0 = clock();
	assert_int_equal(sdpp_json_parse(&j, b, o, NULL, 0), SDPP_OK);
	assert_int_equal(cJSON_GetArraySize(j), N);
	cJSON_Delete(j);
	/* Same object with the first name repeated last. */
	o--;
	o += (size_t)snprintf(b + o, cap - o, ",\"k0\":0}");
	assert_int_equal(sdpp_json_parse(&j, b, o, NULL, 0), SDPP_E_BAD_JSON);
	assert_true((double)(clock() - t0) / CLOCKS_PER_SEC < 5.0);
	free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_parse_depth),
		cmocka_unit_test(test_parse_err_text),
		cmocka_unit_test(test_parse_len),
		cmocka_unit_test(test_parse_values),
		cmocka_unit_test(test_parse_many_keys),
	};

	return cmocka_run_group_tests_name("json", tests, NULL, NULL);
}
