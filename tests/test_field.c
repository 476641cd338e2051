/* Tables for mqtt/field.c (RFC 6901 section 5, device payloads, non-JSON) and mqtt/hatemplate.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mqtt/field.h"
#include "mqtt/hatemplate.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
/* A literal with its length, so embedded NULs count. */
#define J(s) s, sizeof(s) - 1

enum { NOT_JSON = MQTT_FIELD_NOT_JSON, SELECTED = MQTT_FIELD_SELECTED, ABSENT = MQTT_FIELD_ABSENT };

/*
 * Selects from a copy of json in a buffer of exactly len bytes (no NUL
 * after it), so under ASan a read at or past len is a crash, not luck.
 * Returns the result; the span is checked against json's own bytes.
 */
static int
select_exact(const char *ptr, const char *json, size_t len, char *got, size_t gotcap)
{
	struct mqtt_field f;
	char err[512];
	char *copy = malloc(len > 0 ? len : 1);
	const char *v;
	size_t vlen;
	int rc;

	assert_non_null(copy);
	if (mqtt_field_parse(&f, ptr, err, sizeof(err)) != 0)
		fail_msg("pointer '%s' refused: %s", ptr, err);
	if (len > 0)
		memcpy(copy, json, len);
	rc = mqtt_field_select(&f, copy, len, &v, &vlen);
	got[0] = '\0';
	if (rc == SELECTED) {
		assert_true(v >= copy && vlen <= len && (size_t)(v - copy) <= len - vlen);
		assert_true(vlen < gotcap);
		memcpy(got, v, vlen);
		got[vlen] = '\0';
	} else {
		assert_null(v);
		assert_int_equal(vlen, 0);
	}
	free(copy);
	return rc;
}

/* ---- RFC 6901 section 5: the example document and its table ---- */

static const char rfc6901_doc[] = "{\n"
                                  "   \"foo\": [\"bar\", \"baz\"],\n"
                                  "   \"\": 0,\n"
                                  "   \"a/b\": 1,\n"
                                  "   \"c%d\": 2,\n"
                                  "   \"e^f\": 3,\n"
                                  "   \"g|h\": 4,\n"
                                  "   \"i\\\\j\": 5,\n"
                                  "   \"k\\\"l\": 6,\n"
                                  "   \" \": 7,\n"
                                  "   \"m~n\": 8\n"
                                  "}";

struct sel_case {
	const char *ptr;
	const char *want; /* the exact span; NULL: the whole document */
};

/* The RFC writes the pointers as JSON strings ("/i\\j"); these are the
 * strings themselves, as a config file holds them. */
static const struct sel_case rfc6901_cases[] = {
	{ "", NULL },
	{ "/foo", "[\"bar\", \"baz\"]" },
	{ "/foo/0", "\"bar\"" },
	{ "/", "0" },
	{ "/a~1b", "1" },
	{ "/c%d", "2" },
	{ "/e^f", "3" },
	{ "/g|h", "4" },
	{ "/i\\j", "5" },
	{ "/k\"l", "6" },
	{ "/ ", "7" },
	{ "/m~0n", "8" },
	/* Beyond the RFC's table. */
	{ "/foo/1", "\"baz\"" },
};

static void
test_rfc6901(void **state)
{
	char got[512];

	(void)state;
	for (size_t i = 0; i < N(rfc6901_cases); i++) {
		const struct sel_case *c = &rfc6901_cases[i];
		const char *want = c->want != NULL ? c->want : rfc6901_doc;
		int rc = select_exact(c->ptr, rfc6901_doc, strlen(rfc6901_doc), got, sizeof(got));

		if (rc != SELECTED || strcmp(got, want) != 0)
			fail_msg(
			    "case %zu '%s': rc %d got '%s' want '%s'", i, c->ptr, rc, got, want);
	}
	/* Absent from the same document: past the array, "-", a near miss. */
	assert_int_equal(select_exact("/foo/2", J(rfc6901_doc), got, sizeof(got)), ABSENT);
	assert_int_equal(select_exact("/foo/-", J(rfc6901_doc), got, sizeof(got)), ABSENT);
	assert_int_equal(select_exact("/a/b", J(rfc6901_doc), got, sizeof(got)), ABSENT);
	assert_int_equal(select_exact("/m~0", J(rfc6901_doc), got, sizeof(got)), ABSENT);
	assert_int_equal(select_exact("/m~1n", J(rfc6901_doc), got, sizeof(got)), ABSENT);
	assert_int_equal(select_exact("/foo/0/x", J(rfc6901_doc), got, sizeof(got)), ABSENT);
}

/* ---- Payloads: what building systems publish ---- */

struct doc_case {
	const char *ptr;
	const char *json;
	int want;
	const char *value; /* the exact span when SELECTED */
};

#define Z2M                                                                                        \
	"{\"battery\":97,\"humidity\":40.12,\"linkquality\":120,\"temperature\":21.30,"            \
	"\"voltage\":2995,\"update\":{\"state\":\"idle\"}}"
#define TASMOTA                                                                                    \
	"{\"Time\":\"2024-01-01T12:00:00\",\"AM2301\":{\"Temperature\":21.3,\"Humidity\":40.1,"    \
	"\"DewPoint\":7.4},\"ENERGY\":{\"Total\":12.345,\"Power\":[12,0]},\"TempUnit\":\"C\"}"
#define SHELLY                                                                                     \
	"{\"id\":0,\"source\":\"timer\",\"output\":true,\"apower\":8.5,\"voltage\":231.2,"         \
	"\"aenergy\":{\"total\":1234.567,\"by_minute\":[0.000,0.000,12.5],\"minute_ts\":"          \
	"1700000000},\"temperature\":{\"tC\":41.2,\"tF\":106.2}}"

static const struct doc_case doc_cases[] = {
	/* zigbee2mqtt: one flat object per device. */
	{ "/temperature", Z2M, SELECTED, "21.30" },
	{ "/humidity", Z2M, SELECTED, "40.12" },
	{ "/battery", Z2M, SELECTED, "97" },
	{ "/update", Z2M, SELECTED, "{\"state\":\"idle\"}" },
	{ "/update/state", Z2M, SELECTED, "\"idle\"" },
	{ "/pressure", Z2M, ABSENT, NULL },
	{ "/Temperature", Z2M, ABSENT, NULL }, /* names are case-sensitive */
	{ "/temp", Z2M, ABSENT, NULL },        /* a prefix is not a match */
	{ "/temperature/0", Z2M, ABSENT, NULL },
	{ "", Z2M, SELECTED, Z2M },
	/* Tasmota tele/.../SENSOR: sensors nested by driver name. */
	{ "/AM2301/Temperature", TASMOTA, SELECTED, "21.3" },
	{ "/AM2301", TASMOTA, SELECTED,
	    "{\"Temperature\":21.3,\"Humidity\":40.1,\"DewPoint\":7.4}" },
	{ "/ENERGY/Power/1", TASMOTA, SELECTED, "0" },
	{ "/ENERGY/Power/2", TASMOTA, ABSENT, NULL },
	{ "/TempUnit", TASMOTA, SELECTED, "\"C\"" },
	{ "/AM2301/temperature", TASMOTA, ABSENT, NULL },
	/* Shelly Gen2 status. */
	{ "/temperature/tC", SHELLY, SELECTED, "41.2" },
	{ "/aenergy/by_minute/0", SHELLY, SELECTED, "0.000" },
	{ "/aenergy/by_minute/2", SHELLY, SELECTED, "12.5" },
	{ "/output", SHELLY, SELECTED, "true" },
	{ "/id", SHELLY, SELECTED, "0" },
	/* Shelly Gen1 and many others publish a bare value: a JSON text too. */
	{ "", "21.30", SELECTED, "21.30" },
	{ "", "\"ON\"", SELECTED, "\"ON\"" },
	{ "", "null", SELECTED, "null" },
	{ "/x", "21.30", ABSENT, NULL },
	{ "", " \t\r\n21.30\n", SELECTED, "21.30" },
	/* Number text kept exactly. */
	{ "/a", "{\"a\":-0.5e3}", SELECTED, "-0.5e3" },
	{ "/a", "{\"a\":12345678901234567890123}", SELECTED, "12345678901234567890123" },
	{ "/a", "{\"a\":9007199254740993}", SELECTED, "9007199254740993" },
	{ "/a", "{\"a\":1E+2}", SELECTED, "1E+2" },
	{ "/a", "{\"a\":1.0e-7}", SELECTED, "1.0e-7" },
	{ "/a", "{\"a\":-0}", SELECTED, "-0" },
	{ "/a", "{\"a\":0.0}", SELECTED, "0.0" },
	{ "/a", "{\"a\" : 21.30 , \"b\":1}", SELECTED, "21.30" },
	/* Strings keep their quotes and escapes. */
	{ "/s", "{\"s\":\"a\\\"b\\\\c\\u00e9\\n\\/\"}", SELECTED, "\"a\\\"b\\\\c\\u00e9\\n\\/\"" },
	{ "/s", "{\"s\":\"caf\xc3\xa9 \xf0\x9f\x98\x80\"}", SELECTED,
	    "\"caf\xc3\xa9 \xf0\x9f\x98\x80\"" },
	{ "/s", "{\"s\":\"\\ud83d\\ude00\"}", SELECTED, "\"\\ud83d\\ude00\"" },
	{ "/s", "{\"s\":\"\\u0000\"}", SELECTED, "\"\\u0000\"" },
	{ "/s", "{\"s\":\"\"}", SELECTED, "\"\"" },
	/* Names compared after their escapes are decoded. */
	{ "/temperature", "{\"\\u0074emperature\":21}", SELECTED, "21" },
	{ "/temperature", "{\"\\u0074emp\":21}", ABSENT, NULL },
	{ "/temperature", "{\"\\u0074emperatureX\":21}", ABSENT, NULL },
	{ "/a~1b", "{\"a\\/b\":1}", SELECTED, "1" },
	{ "/caf\xc3\xa9", "{\"caf\\u00e9\":1}", SELECTED, "1" },
	{ "/caf\xc3\xa9", "{\"caf\\u00E9\":1}", SELECTED, "1" },
	{ "/caf\xc3\xa9", "{\"caf\xc3\xa9\":1}", SELECTED, "1" },
	{ "/\xf0\x9f\x98\x80", "{\"\\ud83d\\ude00\":1}", SELECTED, "1" },
	{ "/\xe2\x82\xac", "{\"\\u20ac\":1}", SELECTED, "1" },
	{ "/tab\there", "{\"tab\\there\":1}", SELECTED, "1" },
	{ "/a", "{\"a\\u0000\":1}", ABSENT, NULL }, /* no pointer holds a NUL */
	{ "/", "{\"\":5}", SELECTED, "5" },
	/* Arrays: canonical decimal indexes only. */
	{ "/list/0", "{\"list\":[10,20,30]}", SELECTED, "10" },
	{ "/list/2", "{\"list\":[10,20,30]}", SELECTED, "30" },
	{ "/list/3", "{\"list\":[10,20,30]}", ABSENT, NULL },
	{ "/list/-", "{\"list\":[10,20,30]}", ABSENT, NULL },
	{ "/list/01", "{\"list\":[10,20,30]}", ABSENT, NULL },
	{ "/list/+1", "{\"list\":[10,20,30]}", ABSENT, NULL },
	{ "/list/", "{\"list\":[10,20,30]}", ABSENT, NULL },
	{ "/list/99999999999999999999999", "{\"list\":[10,20,30]}", ABSENT, NULL },
	{ "/1/0", "[[1],[2,[3]]]", SELECTED, "2" },
	{ "/1/1/0", "[[1],[2,[3]]]", SELECTED, "3" },
	{ "/0", "[]", ABSENT, NULL },
	/* The same token names a member of an object. */
	{ "/0", "{\"0\":\"zero\"}", SELECTED, "\"zero\"" },
	{ "/01", "{\"01\":1}", SELECTED, "1" },
	{ "/-", "{\"-\":1}", SELECTED, "1" },
	/* Through something that is not a container. */
	{ "/a/b", "{\"a\":1}", ABSENT, NULL },
	{ "/a/0", "{\"a\":\"str\"}", ABSENT, NULL },
	{ "/a/b", "{\"a\":null}", ABSENT, NULL },
	{ "/a", "{}", ABSENT, NULL },
	{ "", "{}", SELECTED, "{}" },
	{ "", "[]", SELECTED, "[]" },
	{ "", "  { \"a\" : [ 1 , 2 ] }\n", SELECTED, "{ \"a\" : [ 1 , 2 ] }" },
	{ "/a/1", "  { \"a\" : [ 1 , 2 ] }\n", SELECTED, "2" },
	/* Duplicate names: refused on the path only (field.h). */
	{ "/t", "{\"t\":1,\"t\":2}", NOT_JSON, NULL },
	{ "/t", "{\"t\":1,\"\\u0074\":2}", NOT_JSON, NULL },
	{ "/a/y", "{\"a\":{\"x\":1},\"a\":{\"y\":2}}", NOT_JSON, NULL },
	{ "/h", "{\"t\":1,\"t\":2}", ABSENT, NULL },
	{ "", "{\"t\":1,\"t\":2}", SELECTED, "{\"t\":1,\"t\":2}" },
	{ "/b", "{\"a\":{\"t\":1,\"t\":2},\"b\":3}", SELECTED, "3" },
	/* The whole document is checked, past the value too. */
	{ "/t", "{\"t\":1,\"h\":tru}", NOT_JSON, NULL },
	{ "/t", "{\"t\":1}x", NOT_JSON, NULL },
	{ "/t", "{\"t\":1,\"h\":\"\\ud800\"}", NOT_JSON, NULL },
	{ "/list/0", "{\"list\":[1,2,]}", NOT_JSON, NULL },
};

static void
test_payloads(void **state)
{
	char got[512];

	(void)state;
	for (size_t i = 0; i < N(doc_cases); i++) {
		const struct doc_case *c = &doc_cases[i];
		int rc = select_exact(c->ptr, c->json, strlen(c->json), got, sizeof(got));

		if (rc != c->want)
			fail_msg(
			    "case %zu '%s' in %s: rc %d, want %d", i, c->ptr, c->json, rc, c->want);
		if (rc == SELECTED && strcmp(got, c->value) != 0)
			fail_msg("case %zu '%s': got '%s', want '%s'", i, c->ptr, got, c->value);
	}
}

/* ---- Not JSON: every pointer gets MQTT_FIELD_NOT_JSON ---- */

struct bad_doc {
	const char *json;
	size_t len;
};

static const struct bad_doc bad_docs[] = {
	{ J("") },
	{ J(" \n") },
	{ J("{") },
	{ J("{\"a\":1") },
	{ J("{\"a\":") },
	{ J("{\"a\"") },
	{ J("{\"a") },
	{ J("[1,2") },
	{ J("{\"a\":1}x") },
	{ J("{\"a\":1}}") },
	{ J("{\"a\":1} {}") },
	{ J("1 2") },
	{ J("{\"a\":1,}") },
	{ J("[1,]") },
	{ J("[,1]") },
	{ J("{,}") },
	{ J("{'a':1}") },
	{ J("{\"a\":'x'}") },
	{ J("{a:1}") },
	{ J("{\"a\" 1}") },
	{ J("{\"a\":1 \"b\":2}") },
	{ J("[1 2]") },
	{ J("{\"a\":[}") },
	{ J("{\"a\":1]") },
	{ J("[1}") },
	{ J("{1:1}") },
	{ J("/* c */{}") },
	{ J("{\"a\":1}//") },
	/* Numbers RFC 8259 does not have. */
	{ J("{\"a\":NaN}") },
	{ J("{\"a\":nan}") },
	{ J("{\"a\":Infinity}") },
	{ J("{\"a\":-Infinity}") },
	{ J("{\"a\":01}") },
	{ J("{\"a\":-01}") },
	{ J("{\"a\":1.}") },
	{ J("{\"a\":.5}") },
	{ J("{\"a\":1e}") },
	{ J("{\"a\":1e+}") },
	{ J("{\"a\":+1}") },
	{ J("{\"a\":-}") },
	{ J("{\"a\":0x1f}") },
	{ J("{\"a\":1_000}") },
	{ J("-") },
	{ J("01") },
	/* Literals. */
	{ J("{\"a\":tru}") },
	{ J("{\"a\":True}") },
	{ J("{\"a\":nul}") },
	{ J("{\"a\":undefined}") },
	{ J("t") },
	{ J("on") },
	/* Strings. */
	{ J("\"abc") },
	{ J("\"abc\\") },
	{ J("\"abc\\\"") },
	{ J("{\"a\":\"\\ud800\"}") },
	{ J("{\"a\":\"\\udc00\"}") },
	{ J("{\"a\":\"\\ud800\\u0041\"}") },
	{ J("{\"a\":\"\\ud800\\ud800\"}") },
	{ J("{\"a\":\"\\ud800x\"}") },
	{ J("{\"a\":\"\\ud800\\") },
	{ J("{\"\\ud800\":1}") },
	{ J("{\"a\":\"\\x41\"}") },
	{ J("{\"a\":\"\\u12\"}") },
	{ J("{\"a\":\"\\u12g4\"}") },
	{ J("{\"a\":\"\\U0041\"}") },
	{ J("{\"a\":\"\\'\"}") },
	{ J("{\"a\":\"a\tb\"}") },
	{ J("{\"a\":\"a\nb\"}") },
	{ J("{\"a\":\"a\0b\"}") },
	{ J("{\"a\":\"\x7f\x1f\"}") },
	/* Ill-formed UTF-8 in strings and names. */
	{ J("{\"a\":\"\xff\"}") },
	{ J("{\"a\":\"\xc0\xaf\"}") },
	{ J("{\"a\":\"\xed\xa0\x80\"}") },
	{ J("{\"a\":\"\xe2\x82\"}") },
	{ J("{\"a\":\"\xf4\x90\x80\x80\"}") },
	{ J("{\"a\":\"\x80\"}") },
	{ J("{\"a\xff\":1}") },
	{ J("\xef\xbb\xbf{}") }, /* a byte-order mark */
	{ J("{\"a\":1}\0") },
	{ J("\0") },
	{ J("{\"a\":1\0}") },
};

static void
test_not_json(void **state)
{
	static const char *const ptrs[] = { "", "/a", "/a/0", "/0" };
	char got[512];

	(void)state;
	for (size_t i = 0; i < N(bad_docs); i++) {
		for (size_t k = 0; k < N(ptrs); k++) {
			int rc = select_exact(
			    ptrs[k], bad_docs[i].json, bad_docs[i].len, got, sizeof(got));

			if (rc != NOT_JSON)
				fail_msg(
				    "bad doc %zu with '%s': rc %d, want NOT_JSON", i, ptrs[k], rc);
		}
	}
}

/* Every proper prefix of a device object is cut short, so not JSON; and
 * a buffer whose len stops early is read only up to len. */
static void
test_truncated(void **state)
{
	static const char *const docs[] = { Z2M, TASMOTA, SHELLY, rfc6901_doc };
	char got[512];

	(void)state;
	for (size_t d = 0; d < N(docs); d++) {
		size_t len = strlen(docs[d]);

		for (size_t k = 0; k < len; k++)
			if (select_exact("", docs[d], k, got, sizeof(got)) != NOT_JSON)
				fail_msg("doc %zu cut at %zu accepted", d, k);
		assert_int_equal(select_exact("", docs[d], len, got, sizeof(got)), SELECTED);
	}
	/* len, not the NUL, ends the input: a valid prefix of a longer buffer. */
	assert_int_equal(select_exact("/a", "{\"a\":1}garbage", 7, got, sizeof(got)), SELECTED);
	assert_string_equal(got, "1");
	assert_int_equal(select_exact("", "21.30", 4, got, sizeof(got)), SELECTED);
	assert_string_equal(got, "21.3");
}

static void
nest(char *buf, size_t depth, const char *open, const char *inner, const char *close)
{
	size_t o = 0;

	for (size_t i = 0; i < depth; i++)
		o += (size_t)snprintf(buf + o, 16, "%s", open);
	o += (size_t)snprintf(buf + o, 16, "%s", inner);
	for (size_t i = 0; i < depth; i++)
		o += (size_t)snprintf(buf + o, 16, "%s", close);
}

static void
test_depth(void **state)
{
	char doc[1024], ptr[128], got[1024];
	size_t o = 0;

	(void)state;
	nest(doc, MQTT_FIELD_DEPTH_MAX, "[", "7", "]");
	assert_int_equal(select_exact("", doc, strlen(doc), got, sizeof(got)), SELECTED);
	for (int i = 0; i < MQTT_FIELD_TOKENS_MAX; i++)
		o += (size_t)snprintf(ptr + o, sizeof(ptr) - o, "/0");
	assert_int_equal(select_exact(ptr, doc, strlen(doc), got, sizeof(got)), SELECTED);
	assert_int_equal(got[0], '[');
	nest(doc, MQTT_FIELD_DEPTH_MAX + 1, "[", "7", "]");
	assert_int_equal(select_exact("", doc, strlen(doc), got, sizeof(got)), NOT_JSON);
	nest(doc, MQTT_FIELD_DEPTH_MAX, "{\"a\":", "7", "}");
	assert_int_equal(select_exact("/a/a/a", doc, strlen(doc), got, sizeof(got)), SELECTED);
	nest(doc, MQTT_FIELD_DEPTH_MAX + 1, "{\"a\":", "7", "}");
	assert_int_equal(select_exact("/a", doc, strlen(doc), got, sizeof(got)), NOT_JSON);
	/* Scalars do not count: 32 containers and a string inside. */
	nest(doc, MQTT_FIELD_DEPTH_MAX, "[", "\"s\"", "]");
	assert_int_equal(select_exact("", doc, strlen(doc), got, sizeof(got)), SELECTED);
}

/* ---- Compiling pointers ---- */

struct ptr_case {
	const char *ptr;
	const char *err; /* a part of the message; NULL: accepted */
};

static char long_ptr[MQTT_FIELD_POINTER_MAX + 2];
static char max_ptr[MQTT_FIELD_POINTER_MAX + 1];
static char deep_ptr[2 * MQTT_FIELD_TOKENS_MAX + 3];
static char max_deep_ptr[2 * MQTT_FIELD_TOKENS_MAX + 1];

static void
test_pointer_syntax(void **state)
{
	const struct ptr_case cases[] = {
		{ "", NULL },
		{ "/", NULL },
		{ "//", NULL },
		{ "/~0", NULL },
		{ "/~1", NULL },
		{ "/~01", NULL },
		{ "/caf\xc3\xa9", NULL },
		{ max_ptr, NULL },
		{ max_deep_ptr, NULL },
		{ "a", "`a': a pointer is empty or starts with '/'" },
		{ " /a", "starts with '/'" },
		{ "#/foo", "URI fragment form" },
		{ "/a~", "`/a~': '~' at byte 2 is not ~0" },
		{ "/a~2", "'~' at byte 2 is not ~0" },
		{ "/~x/b", "'~' at byte 1" },
		{ "/a~/b", "'~' at byte 2" },
		{ "/a/~", "'~' at byte 3" },
		{ "/~~0", "'~' at byte 1" },
		{ "/\xff", "`/\\xff': not valid UTF-8" },
		{ "/\xc0\xaf", "not valid UTF-8" },
		{ "/\xed\xa0\x80", "not valid UTF-8" },
		{ long_ptr, "longer than 256 bytes" },
		{ deep_ptr, "more than 16 tokens" },
		{ NULL, "no pointer" },
	};
	char err[512];

	(void)state;
	memset(long_ptr, 'a', sizeof(long_ptr) - 1);
	long_ptr[0] = '/';
	memset(max_ptr, 'a', sizeof(max_ptr) - 1);
	max_ptr[0] = '/';
	for (size_t i = 0; i + 1 < sizeof(deep_ptr); i++)
		deep_ptr[i] = i % 2 == 0 ? '/' : 'a';
	for (size_t i = 0; i + 1 < sizeof(max_deep_ptr); i++)
		max_deep_ptr[i] = i % 2 == 0 ? '/' : 'a';
	for (size_t i = 0; i < N(cases); i++) {
		struct mqtt_field f;
		const char *v;
		size_t vlen;
		int rc;

		err[0] = '\0';
		rc = mqtt_field_parse(&f, cases[i].ptr, err, sizeof(err));
		if (cases[i].err == NULL) {
			if (rc != 0)
				fail_msg("case %zu '%s' refused: %s", i, cases[i].ptr, err);
			continue;
		}
		if (rc != -1 || strstr(err, cases[i].err) == NULL)
			fail_msg("case %zu: rc %d err '%s', want '%s'", i, rc, err, cases[i].err);
		/* A refused pointer selects nothing, never the whole document. */
		assert_int_equal(mqtt_field_select(&f, J("{\"a\":1}"), &v, &vlen), ABSENT);
		assert_int_equal(mqtt_field_select(&f, J("{\"a\":1"), &v, &vlen), NOT_JSON);
		assert_int_equal(mqtt_field_select(&f, J("{\"\":{\"\":{}}}"), &v, &vlen), ABSENT);
	}
}

/* The compiled tokens: unescaping, indexes, and no NUL or pointer inside. */
static void
test_pointer_tokens(void **state)
{
	struct mqtt_field f, copy;
	char err[256];
	const char *v;
	size_t vlen;

	(void)state;
	assert_int_equal(mqtt_field_parse(&f, "/a~1b/~01/0/10/01/-/", err, sizeof(err)), 0);
	assert_int_equal(f.ntok, 7);
	assert_int_equal(f.tok[0].len, 3);
	assert_memory_equal(f.names + f.tok[0].off, "a/b", 3);
	assert_memory_equal(f.names + f.tok[1].off, "~1", 2);
	assert_int_equal(f.tok[2].index, 0);
	assert_int_equal(f.tok[3].index, 10);
	assert_int_equal(f.tok[4].index, MQTT_FIELD_NO_INDEX);
	assert_int_equal(f.tok[5].index, MQTT_FIELD_NO_INDEX);
	assert_int_equal(f.tok[6].len, 0);
	assert_int_equal(f.tok[6].index, MQTT_FIELD_NO_INDEX);
	/* Plain data: a copy outlives the pointer text and works alone. */
	assert_int_equal(mqtt_field_parse(&f, "/AM2301/Temperature", err, sizeof(err)), 0);
	memcpy(&copy, &f, sizeof(f));
	memset(&f, 0xa5, sizeof(f));
	assert_int_equal(mqtt_field_select(&copy, J(TASMOTA), &v, &vlen), SELECTED);
	assert_int_equal(vlen, 4);
	assert_memory_equal(v, "21.3", 4);
	/* A short err is cut, not overrun. */
	memset(err, 'x', sizeof(err));
	assert_int_equal(mqtt_field_parse(&f, "/a~2", err, 8), -1);
	assert_int_equal(strlen(err), 7);
	assert_int_equal(mqtt_field_parse(&f, "/a~2", NULL, 0), -1);
}

/* ---- Quoting values in messages ---- */

static void
test_quote(void **state)
{
	static const struct {
		const char *in;
		size_t len;
		const char *want;
	} cases[] = {
		{ J("/temperature"), "/temperature" },
		{ J("a\nb\tc\\d\x7f"), "a\\x0ab\\x09c\\x5cd\\x7f" },
		{ J("caf\xc3\xa9 \xe2\x82\xac"), "caf\xc3\xa9 \xe2\x82\xac" },
		{ J("\xc2\x9b"
		    "31m"),
		    "\\xc2\\x9b31m" }, /* C1 CSI */
		{ J("\xff\xc0\xaf"), "\\xff\\xc0\\xaf" },
		{ J("\xe2\x82"), "\\xe2\\x82" },
		{ J("a\0b"), "a\\x00b" },
		{ J("0123456789012345678901234567890123456789012345678901234567890123"),
		    "0123456789012345678901234567890123456789012345678901234567890123" },
		{ J("0123456789012345678901234567890123456789012345678901234567890123x"),
		    "0123456789012345678901234567890123456789012345678901234567890123..." },
		/* A sequence that would cross the cap is left whole for the "...". */
		{ J("012345678901234567890123456789012345678901234567890123456789012\xc3\xa9"),
		    "012345678901234567890123456789012345678901234567890123456789012..." },
	};
	char buf[4 * MQTT_FIELD_QUOTE_MAX + 4], all[4 * MQTT_FIELD_QUOTE_MAX + 1];

	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		mqtt_field_quote(buf, sizeof(buf), cases[i].in, cases[i].len);
		if (strcmp(buf, cases[i].want) != 0)
			fail_msg("case %zu: got '%s', want '%s'", i, buf, cases[i].want);
	}
	/* The worst case fits the documented size. */
	memset(all, 1, sizeof(all));
	mqtt_field_quote(buf, sizeof(buf), all, sizeof(all));
	assert_int_equal(strlen(buf), 4 * MQTT_FIELD_QUOTE_MAX + 3);
	/* A small buffer stays terminated. */
	mqtt_field_quote(buf, 5, "abcdefgh", 8);
	assert_string_equal(buf, "abcd");
	mqtt_field_quote(buf, 1, "abc", 3);
	assert_string_equal(buf, "");
	mqtt_field_quote(buf, 4, "\n", 1);
	assert_string_equal(buf, "...");
}

/* ---- Home Assistant value_template ---- */

struct tmpl_case {
	const char *tmpl;
	const char *want; /* the pointer, or a part of the reason */
};

static const struct tmpl_case tmpl_good[] = {
	{ "{{ value_json.temperature }}", "/temperature" },
	{ "{{value_json.temperature}}", "/temperature" },
	{ "{{ value_json.temperature}}", "/temperature" },
	{ "{{ value_json['temperature'] }}", "/temperature" },
	{ "{{ value_json[\"temperature\"] }}", "/temperature" },
	{ "{{ value_json.AM2301.Temperature }}", "/AM2301/Temperature" },
	{ "{{ value_json['a']['b'] }}", "/a/b" },
	{ "{{ value_json.a['b'].c }}", "/a/b/c" },
	{ "{{ value_json['a'].b[\"c\"] }}", "/a/b/c" },
	{ "{{ value_json.list[0] }}", "/list/0" },
	{ "{{ value_json.list[12] }}", "/list/12" },
	{ "{{ value_json.list.0 }}", "/list/0" },
	{ "{{ value_json.ENERGY.Power[1] }}", "/ENERGY/Power/1" },
	{ "{{ value_json[0] }}", "/0" },
	{ "{{ value }}", "" },
	{ "{{value}}", "" },
	{ "{{ value_json['a b'] }}", "/a b" },
	{ "{{ value_json['a/b'] }}", "/a~1b" },
	{ "{{ value_json['m~n'] }}", "/m~0n" },
	{ "{{ value_json['~/'] }}", "/~0~1" },
	{ "{{ value_json[''] }}", "/" },
	{ "{{ value_json['caf\xc3\xa9'] }}", "/caf\xc3\xa9" },
	{ "{{ value_json['it\"s'] }}", "/it\"s" },
	{ "{{ value_json[\"it's\"] }}", "/it's" },
	{ "{{ value_json['a}}b'] }}", "/a}}b" },
	{ "{{ value_json['items'] }}", "/items" },
	{ "  {{ value_json.t }}\n", "/t" },
	{ "{{- value_json.t -}}", "/t" },
	{ "{{\n  value_json.t\n}}", "/t" },
	{ "{{ value_json . t }}", "/t" },
	{ "{{ value_json [ 'a' ] [ 0 ] }}", "/a/0" },
	{ "{{ value_json._id }}", "/_id" },
	{ "{{ value_json.value }}", "/value" },
	{ "{{ value_json.if }}", "/if" },
	{ "{{ value_json.a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p }}", "/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p" },
};

static const struct tmpl_case tmpl_bad[] = {
	{ "{{ value_json.temperature | float }}", "a filter ('|') at byte 26" },
	{ "{{ value_json.temperature | round(1) }}", "a filter" },
	{ "{{ value_json.temperature|float }}", "a filter" },
	{ "{{ value_json.t\n| float }}", "a filter" },
	{ "{{ value_json.temperature * 10 }}", "arithmetic" },
	{ "{{ value_json.t + 1 }}", "arithmetic" },
	{ "{{ value_json.t - 1 }}", "arithmetic" },
	{ "{{ value_json.t / 10 }}", "arithmetic" },
	{ "{{ value_json.t ~ 'C' }}", "concatenation" },
	{ "{{ value_json.t if value_json.t is defined else 0 }}", "a conditional" },
	{ "{{ value_json.t is defined }}", "a test" },
	{ "{{ value_json.t and 1 }}", "logic" },
	{ "{{ value_json.t or 0 }}", "logic" },
	{ "{{ value_json.t == 1 }}", "a comparison" },
	{ "{{ value_json.t() }}", "a call" },
	{ "{{ value_json.t, value_json.h }}", "a tuple" },
	{ "{{ value_json.get('t') }}", "Python dict attribute" },
	{ "{{ value_json.items }}", "Python dict attribute" },
	{ "{{ value_json['a'].keys }}", "Python dict attribute" },
	{ "{{ value_json.values }}", "Python dict attribute" },
	{ "{{ value_json.__class__ }}", "starting with __" },
	{ "{{ value_json.t }} \xc2\xb0"
	  "C",
	    "text outside the braces" },
	{ "T: {{ value_json.t }}", "text outside the braces at byte 0" },
	{ "value_json.t", "text outside the braces" },
	{ "{{ value_json.t }}}", "text outside the braces" },
	{ "{{ value_json.t }}{{ value_json.h }}", "several expressions" },
	{ "{% if value_json.t %}{{ value_json.t }}{% endif %}", "a statement" },
	{ "{{ value_json.t }}{% endif %}", "a statement" },
	{ "{# c #}{{ value }}", "a comment" },
	{ "", "no {{ expression }}" },
	{ "  \n", "no {{ expression }}" },
	{ "{{ value_json }}", "'value_json' alone" },
	{ "{{ value.t }}", "'value' is the payload as text" },
	{ "{{ value[0] }}", "'value' is the payload as text" },
	{ "{{ states('sensor.x') }}", "other than value_json or value" },
	{ "{{ (value_json.t) }}", "other than value_json or value" },
	{ "{{ value_jsonx.t }}", "other than value_json or value" },
	{ "{{ 21.3 }}", "other than value_json or value" },
	{ "{{ }}", "other than value_json or value" },
	{ "{{ value_json.list[-1] }}", "a negative index" },
	{ "{{ value_json.list[01] }}", "a leading zero" },
	{ "{{ value_json.list.01 }}", "a leading zero" },
	{ "{{ value_json.list[1_0] }}", "not a plain decimal index" },
	{ "{{ value_json.list[0x1] }}", "not a plain decimal index" },
	{ "{{ value_json.list.1e5 }}", "not a plain decimal index" },
	{ "{{ value_json.list[1.5] }}", "holds more than one" },
	{ "{{ value_json['a' 'b'] }}", "holds more than one" },
	{ "{{ value_json['a\\'b'] }}", "an escape in a quoted name" },
	{ "{{ value_json['a\\nb'] }}", "an escape in a quoted name" },
	{ "{{ value_json['a\tb'] }}", "a control byte" },
	{ "{{ value_json['a }}", "an unterminated quoted name" },
	{ "{{ value_json[a] }}", "'[' is not followed" },
	{ "{{ value_json[ }}", "'[' is not followed" },
	{ "{{ value_json[", "no closing ']'" },
	{ "{{ value_json. }}", "'.' is not followed" },
	{ "{{ value_json.t", "no closing '}}'" },
	{ "{{ value_json.t }", "unexpected text" },
	{ "{{ value_json.temp\xc3\xa9 }}", "a non-ASCII name" },
	{ "{{ value_json['\xff'] }}", "not valid UTF-8" },
	{ "{{ value_json.a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q }}", "more fields deep" },
	{ NULL, "no template" },
};

static void
check_pointer_selects(const char *ptr)
{
	struct mqtt_field f;
	char err[512];

	if (mqtt_field_parse(&f, ptr, err, sizeof(err)) != 0)
		fail_msg("template pointer '%s' does not parse: %s", ptr, err);
}

static void
test_hatemplate(void **state)
{
	char ptr[MQTT_FIELD_POINTER_MAX + 1], err[512];

	(void)state;
	for (size_t i = 0; i < N(tmpl_good); i++) {
		const struct tmpl_case *c = &tmpl_good[i];

		if (mqtt_hatemplate_to_pointer(c->tmpl, ptr, sizeof(ptr), err, sizeof(err)) != 0)
			fail_msg("good %zu '%s' refused: %s", i, c->tmpl, err);
		if (strcmp(ptr, c->want) != 0)
			fail_msg("good %zu '%s': got '%s', want '%s'", i, c->tmpl, ptr, c->want);
		check_pointer_selects(ptr);
	}
	for (size_t i = 0; i < N(tmpl_bad); i++) {
		const struct tmpl_case *c = &tmpl_bad[i];

		memcpy(ptr, "junk", 5);
		err[0] = '\0';
		if (mqtt_hatemplate_to_pointer(c->tmpl, ptr, sizeof(ptr), err, sizeof(err)) != -1)
			fail_msg("bad %zu '%s' accepted as '%s'", i, c->tmpl, ptr);
		if (strstr(err, c->want) == NULL)
			fail_msg("bad %zu '%s': err '%s', want '%s'", i, c->tmpl, err, c->want);
		assert_string_equal(ptr, "");
	}
}

/* Messages quote the template safely; caps on the template and the output. */
static void
test_hatemplate_limits(void **state)
{
	char ptr[MQTT_FIELD_POINTER_MAX + 1], err[512], big[MQTT_HATEMPLATE_MAX + 64];
	size_t o;

	(void)state;
	assert_int_equal(mqtt_hatemplate_to_pointer(
	                     "{{ value_json.t | float }}", ptr, sizeof(ptr), err, sizeof(err)),
	    -1);
	assert_string_equal(err, "`{{ value_json.t | float }}': a filter ('|') at byte 16");
	assert_int_equal(
	    mqtt_hatemplate_to_pointer("{{ value_json.t\n}} x", ptr, sizeof(ptr), err, sizeof(err)),
	    -1);
	assert_string_equal(err, "`{{ value_json.t\\x0a}} x': text outside the braces at byte 19");
	/* The output buffer: exactly enough, one short, none. */
	assert_int_equal(
	    mqtt_hatemplate_to_pointer("{{ value_json.ab }}", ptr, 4, err, sizeof(err)), 0);
	assert_string_equal(ptr, "/ab");
	assert_int_equal(
	    mqtt_hatemplate_to_pointer("{{ value_json.ab }}", ptr, 3, err, sizeof(err)), -1);
	assert_string_equal(ptr, "");
	assert_non_null(strstr(err, "does not fit"));
	assert_int_equal(mqtt_hatemplate_to_pointer("{{ value }}", ptr, 0, err, sizeof(err)), -1);
	/* A name as long as a pointer may be, and one byte more. */
	o = (size_t)snprintf(big, sizeof(big), "{{ value_json['");
	memset(big + o, 'n', MQTT_FIELD_POINTER_MAX - 1);
	memcpy(big + o + MQTT_FIELD_POINTER_MAX - 1, "'] }}", 6);
	assert_int_equal(mqtt_hatemplate_to_pointer(big, ptr, sizeof(ptr), err, sizeof(err)), 0);
	assert_int_equal(strlen(ptr), MQTT_FIELD_POINTER_MAX);
	check_pointer_selects(ptr);
	memset(big + o, '/', MQTT_FIELD_POINTER_MAX / 2);
	memcpy(big + o + MQTT_FIELD_POINTER_MAX / 2, "'] }}", 6);
	assert_int_equal(mqtt_hatemplate_to_pointer(big, ptr, sizeof(ptr), err, sizeof(err)), -1);
	assert_non_null(strstr(err, "the pointer would be too long"));
	assert_non_null(strstr(err, "..."));
	/* The template's own cap. */
	o = (size_t)snprintf(big, sizeof(big), "{{ value_json['");
	memset(big + o, 'n', MQTT_HATEMPLATE_MAX);
	memcpy(big + MQTT_HATEMPLATE_MAX - 5, "'] }}", 6);
	assert_int_equal(strlen(big), MQTT_HATEMPLATE_MAX);
	assert_int_equal(mqtt_hatemplate_to_pointer(big, ptr, sizeof(ptr), err, sizeof(err)), -1);
	assert_non_null(strstr(err, "the pointer would be too long"));
	memcpy(big + MQTT_HATEMPLATE_MAX - 5, "n'] }}", 7);
	assert_int_equal(mqtt_hatemplate_to_pointer(big, ptr, sizeof(ptr), err, sizeof(err)), -1);
	assert_non_null(strstr(err, "longer than 1024 bytes"));
}

/* A template's pointer reads the payload the way the device meant. */
static void
test_hatemplate_end_to_end(void **state)
{
	static const struct {
		const char *tmpl, *json, *value;
	} cases[] = {
		{ "{{ value_json.temperature }}", Z2M, "21.30" },
		{ "{{ value_json.AM2301.Temperature }}", TASMOTA, "21.3" },
		{ "{{ value_json['ENERGY']['Power'][1] }}", TASMOTA, "0" },
		{ "{{ value_json.temperature.tC }}", SHELLY, "41.2" },
		{ "{{ value }}", "21.30", "21.30" },
		{ "{{ value_json['a/b'] }}", rfc6901_doc, "1" },
		{ "{{ value_json['m~n'] }}", rfc6901_doc, "8" },
	};
	char ptr[MQTT_FIELD_POINTER_MAX + 1], err[256], got[512];

	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		assert_int_equal(
		    mqtt_hatemplate_to_pointer(cases[i].tmpl, ptr, sizeof(ptr), err, sizeof(err)),
		    0);
		assert_int_equal(
		    select_exact(ptr, cases[i].json, strlen(cases[i].json), got, sizeof(got)),
		    SELECTED);
		assert_string_equal(got, cases[i].value);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc6901),
		cmocka_unit_test(test_payloads),
		cmocka_unit_test(test_not_json),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_pointer_syntax),
		cmocka_unit_test(test_pointer_tokens),
		cmocka_unit_test(test_quote),
		cmocka_unit_test(test_hatemplate),
		cmocka_unit_test(test_hatemplate_limits),
		cmocka_unit_test(test_hatemplate_end_to_end),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
