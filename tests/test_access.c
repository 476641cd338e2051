/* Who may buy (gateway/access.c): key list files, allow and deny, per-address limits. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "gateway/access.h"

#define K1 "0101010101010101010101010101010101010101010101010101010101010101"
#define K2 "abababababababababababababababababababababababababababababababab"
#define K3 "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff00"

/* The errors of one parse, as "LINE: MESSAGE" lines. */
struct errs {
	char text[4096];
	int n;
};

static void
collect(void *ctx, int line, const char *msg)
{
	struct errs *e = ctx;
	size_t len = strlen(e->text);

	snprintf(e->text + len, sizeof(e->text) - len, "%d: %s\n", line, msg);
	e->n++;
}

static void
key_of(uint8_t out[SDPP_SIGN_PUBLIC_BYTES], const char *hex)
{
	size_t i;
	unsigned v;

	for (i = 0; i < SDPP_SIGN_PUBLIC_BYTES; i++) {
		assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
}

static struct access_keys *
parse_ok(const char *text)
{
	struct access_keys *k = NULL;
	struct errs e = { "", 0 };

	if (access_keys_parse(&k, text, strlen(text), collect, &e) != 0)
		fail_msg("refused:\n%s", e.text);
	assert_non_null(k);
	return k;
}

/* Lists as the operator writes them: comments, blanks, CRLF, either case. */
static void
test_parse_good(void **state)
{
	static const char text[] =
	    "# buyers of building 7\n"
	    "\n" K1 "\n"
	    "   " K2 "   # alice\r\n"
	    "\t# " K3 " (left out)\n"
	    "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00";
	struct access_keys *k = parse_ok(text), *empty = parse_ok("# nobody\n\n");
	uint8_t a[SDPP_SIGN_PUBLIC_BYTES], b[SDPP_SIGN_PUBLIC_BYTES], c[SDPP_SIGN_PUBLIC_BYTES];

	(void)state;
	key_of(a, K1);
	key_of(b, K2);
	key_of(c, K3);
	assert_int_equal(access_keys_count(k), 3);
	assert_true(access_keys_has(k, a) && access_keys_has(k, b) && access_keys_has(k, c));
	c[0] = 0;
	assert_false(access_keys_has(k, c));
	assert_int_equal(access_keys_count(empty), 0);
	assert_false(access_keys_has(empty, a));
	assert_false(access_keys_has(NULL, a));
	assert_false(access_keys_equal(k, empty));
	assert_false(access_keys_equal(NULL, empty));
	assert_true(access_keys_equal(NULL, NULL));
	access_keys_free(empty);
	empty = parse_ok(K2 "\n" K1 "\n" K3 "\n");
	assert_true(access_keys_equal(k, empty)); /* the same keys in another order */
	access_keys_free(empty);
	access_keys_free(k);
	access_keys_free(NULL);
}

/* Every bad line is reported with its number, and the list is refused. */
static void
test_parse_bad(void **state)
{
	static const struct {
		const char *text;
		const char *want;
	} cases[] = {
		{ K1 "0\n",
		    "1: not a buyer key (64 hex digits, then at most a # comment): `" K1 "0'\n" },
		{ "\n\n" K1 "x\n", "3: not a buyer key" },
		{ K1 "# no blank\n", "1: not a buyer key" },
		{ K1 " trailing words\n", "1: not a buyer key" },
		{ "0x" K1 "\n", "1: not a buyer key" },
		{ K1 "\n" K2 "\n" K1 "\n", "3: duplicate key (first on line 1)\n" },
		{ K1 "\n" K1 "\n" K1 "\n", "2: duplicate key (first on line 1)\n"
		                           "3: duplicate key (first on line 1)\n" },
		{ "\x1b[31m\n",
		    "1: not a buyer key (64 hex digits, then at most a # comment): `?[31m'" },
	};
	struct access_keys *k;
	struct errs e;
	size_t i;
	int n;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&e, 0, sizeof(e));
		k = (struct access_keys *)&e; /* must be reset to NULL */
		n = access_keys_parse(&k, cases[i].text, strlen(cases[i].text), collect, &e);
		if (n == 0 || k != NULL || strstr(e.text, cases[i].want) == NULL)
			fail_msg(
			    "case %zu: %d errors, got:\n%swant:\n%s", i, n, e.text, cases[i].want);
		assert_int_equal(n, e.n);
	}
}

/* A long line and a NUL byte; a flood of bad lines is cut to a count. */
static void
test_parse_limits(void **state)
{
	char line[ACCESS_LINE_MAX + 8], *many;
	struct access_keys *k = NULL;
	struct errs e = { "", 0 };
	size_t i, len;

	(void)state;
	memset(line, ' ', sizeof(line));
	memcpy(line, K1, 64);
	line[sizeof(line) - 1] = '\n';
	assert_int_equal(access_keys_parse(&k, line, sizeof(line), collect, &e), 1);
	assert_non_null(strstr(e.text, "1: line too long (max 200 bytes)"));
	memset(&e, 0, sizeof(e));
	assert_int_equal(access_keys_parse(&k, K1 "\n\0\n", 67, collect, &e), 1);
	assert_non_null(strstr(e.text, "2: NUL byte in line"));
	assert_null(k);
	len = 3 * 100;
	many = malloc(len);
	assert_non_null(many);
	for (i = 0; i < 100; i++)
		memcpy(many + 3 * i, "xy\n", 3);
	memset(&e, 0, sizeof(e));
	assert_int_equal(access_keys_parse(&k, many, len, collect, &e), 100);
	assert_int_equal(e.n, ACCESS_ERRORS_MAX + 1);
	assert_non_null(strstr(e.text, "0: 80 more errors not shown"));
	free(many);
}

/* Deny wins; without an allow list every key not denied may buy; with an
 * empty one, none. */
static void
test_key_check(void **state)
{
	struct access_keys *allow = parse_ok(K1 "\n" K2 "\n"), *deny = parse_ok(K2 "\n"),
	                   *none = parse_ok("");
	uint8_t a[SDPP_SIGN_PUBLIC_BYTES], b[SDPP_SIGN_PUBLIC_BYTES], c[SDPP_SIGN_PUBLIC_BYTES];

	(void)state;
	key_of(a, K1);
	key_of(b, K2);
	key_of(c, K3);
	assert_int_equal(access_key_check(NULL, NULL, c), ACCESS_OK);
	assert_int_equal(access_key_check(allow, NULL, a), ACCESS_OK);
	assert_int_equal(access_key_check(allow, NULL, c), ACCESS_ALLOW_LIST);
	assert_int_equal(access_key_check(allow, deny, b), ACCESS_DENY_LIST);
	assert_int_equal(access_key_check(NULL, deny, b), ACCESS_DENY_LIST);
	assert_int_equal(access_key_check(NULL, deny, c), ACCESS_OK);
	assert_int_equal(access_key_check(none, NULL, a), ACCESS_ALLOW_LIST);
	assert_string_equal(access_refusal_name(ACCESS_DENY_LIST), "deny_list");
	assert_string_equal(access_refusal_name(ACCESS_RATE), "rate_limited");
	access_keys_free(allow);
	access_keys_free(deny);
	access_keys_free(none);
}

/* The file: a missing one, one others may write, a good one. */
static void
test_load(void **state)
{
	char path[] = "/tmp/sdpp-test-access.XXXXXX";
	struct access_keys *k = NULL;
	struct errs e = { "", 0 };
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, K1 "\n", 65), 65);
	close(fd);
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(access_keys_load(&k, path, collect, &e), 0);
	assert_int_equal(access_keys_count(k), 1);
	access_keys_free(k);
	assert_int_equal(chmod(path, 0666), 0);
	assert_int_equal(access_keys_load(&k, path, collect, &e), 1);
	assert_non_null(strstr(e.text, "0: writable by others"));
	assert_null(k);
	unlink(path);
	memset(&e, 0, sizeof(e));
	assert_int_equal(access_keys_load(&k, path, collect, &e), 1);
	assert_non_null(strstr(e.text, "0: cannot open: No such file or directory"));
}

static struct sockaddr_storage
addr(const char *text)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	if (strchr(text, ':') != NULL) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

		in6->sin6_family = AF_INET6;
		assert_int_equal(inet_pton(AF_INET6, text, &in6->sin6_addr), 1);
	} else {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;

		in->sin_family = AF_INET;
		assert_int_equal(inet_pton(AF_INET, text, &in->sin_addr), 1);
	}
	return ss;
}

static enum access_refusal
admit(struct access_limit *l, const char *text, uint64_t now, uint64_t max, uint64_t rate,
    struct access_slot **slot)
{
	struct sockaddr_storage ss = addr(text);

	return access_limit_admit(
	    l, (const struct sockaddr *)&ss, sizeof(ss), now, max, rate, slot);
}

/* At most N at once per address; a release makes room; other addresses
 * are counted apart; IPv6 by /64, IPv4-mapped as IPv4. */
static void
test_limit_concurrent(void **state)
{
	struct access_limit *l = access_limit_new();
	struct access_slot *s[4], *t;

	(void)state;
	assert_non_null(l);
	assert_int_equal(admit(l, "192.0.2.1", 0, 3, 0, &s[0]), ACCESS_OK);
	assert_int_equal(admit(l, "192.0.2.1", 0, 3, 0, &s[1]), ACCESS_OK);
	assert_int_equal(admit(l, "::ffff:192.0.2.1", 0, 3, 0, &s[2]), ACCESS_OK);
	assert_int_equal(admit(l, "192.0.2.1", 0, 3, 0, &s[3]), ACCESS_TOO_MANY);
	assert_null(s[3]);
	assert_int_equal(admit(l, "192.0.2.2", 0, 3, 0, &t), ACCESS_OK);
	access_limit_release(l, t);
	access_limit_release(l, s[1]);
	assert_int_equal(admit(l, "192.0.2.1", 0, 3, 0, &s[1]), ACCESS_OK);
	assert_int_equal(admit(l, "192.0.2.1", 0, 3, 0, &s[3]), ACCESS_TOO_MANY);
	/* Max 0: no limit, nothing counted. */
	assert_int_equal(admit(l, "192.0.2.1", 0, 0, 0, &s[3]), ACCESS_OK);
	assert_null(s[3]);

	assert_int_equal(admit(l, "2001:db8:1:2::1", 0, 2, 0, &s[3]), ACCESS_OK);
	assert_int_equal(admit(l, "2001:db8:1:2:ffff::7", 0, 2, 0, &t), ACCESS_OK);
	assert_int_equal(admit(l, "2001:db8:1:2:abcd::9", 0, 2, 0, &t), ACCESS_TOO_MANY);
	assert_int_equal(admit(l, "2001:db8:1:3::1", 0, 2, 0, &t), ACCESS_OK);
	access_limit_free(l);
}

/* A bucket of R a second: R at once, then one per 1/R s; refused
 * attempts cost nothing; a quiet address is forgotten. */
static void
test_limit_rate(void **state)
{
	struct access_limit *l = access_limit_new();
	struct access_slot *s;
	int i;

	(void)state;
	assert_non_null(l);
	for (i = 0; i < 4; i++) {
		assert_int_equal(admit(l, "198.51.100.7", 1000, 0, 4, &s), ACCESS_OK);
		access_limit_release(l, s);
	}
	assert_int_equal(admit(l, "198.51.100.7", 1000, 0, 4, &s), ACCESS_RATE);
	assert_int_equal(admit(l, "198.51.100.7", 1249, 0, 4, &s), ACCESS_RATE);
	assert_int_equal(admit(l, "198.51.100.8", 1249, 0, 4, &s), ACCESS_OK);
	access_limit_release(l, s);
	assert_int_equal(admit(l, "198.51.100.7", 1250, 0, 4, &s), ACCESS_OK);
	access_limit_release(l, s);
	assert_int_equal(admit(l, "198.51.100.7", 1251, 0, 4, &s), ACCESS_RATE);
	assert_int_equal(access_limit_tracked(l), 2);
	/* A second later both buckets are full again, and whichever chain is
	 * walked next drops what it no longer needs. */
	for (i = 0; i < 4; i++) {
		assert_int_equal(admit(l, "198.51.100.7", 2300, 0, 4, &s), ACCESS_OK);
		access_limit_release(l, s);
	}
	/* Both limits: the connection count first, with no token spent. */
	assert_int_equal(admit(l, "203.0.113.1", 5000, 1, 4, &s), ACCESS_OK);
	assert_int_equal(admit(l, "203.0.113.1", 5000, 1, 4, &s), ACCESS_TOO_MANY);
	access_limit_free(l);
}

/* Past ACCESS_ADDRS_MAX addresses connected at once, new ones are
 * admitted uncounted; once the old ones are gone and refilled, the table
 * makes room again. */
static void
test_limit_table_cap(void **state)
{
	struct access_limit *l = access_limit_new();
	struct access_slot **held = calloc(ACCESS_ADDRS_MAX, sizeof(*held)), *s;
	struct sockaddr_in in;
	uint32_t i;

	(void)state;
	assert_non_null(l);
	assert_non_null(held);
	memset(&in, 0, sizeof(in));
	in.sin_family = AF_INET;
	for (i = 0; i < ACCESS_ADDRS_MAX; i++) {
		in.sin_addr.s_addr = htonl(0x0a000000u + i);
		assert_int_equal(
		    access_limit_admit(l, (struct sockaddr *)&in, sizeof(in), 0, 1, 2, &held[i]),
		    ACCESS_OK);
		assert_non_null(held[i]);
	}
	assert_int_equal(access_limit_tracked(l), ACCESS_ADDRS_MAX);
	/* Every entry holds a connection: even a sweep frees none. */
	in.sin_addr.s_addr = htonl(0x0b000000u);
	assert_int_equal(
	    access_limit_admit(l, (struct sockaddr *)&in, sizeof(in), 2000, 1, 2, &s), ACCESS_OK);
	assert_null(s);
	assert_int_equal(
	    access_limit_admit(l, (struct sockaddr *)&in, sizeof(in), 2001, 1, 2, &s), ACCESS_OK);
	assert_null(s);
	for (i = 0; i < ACCESS_ADDRS_MAX; i++)
		access_limit_release(l, held[i]);
	/* Gone and refilled: the newcomer is counted again. */
	assert_int_equal(
	    access_limit_admit(l, (struct sockaddr *)&in, sizeof(in), 4000, 1, 2, &s), ACCESS_OK);
	assert_non_null(s);
	assert_true(access_limit_tracked(l) < ACCESS_ADDRS_MAX);
	assert_int_equal(access_limit_admit(l, (struct sockaddr *)&in, sizeof(in), 4000, 1, 2, &s),
	    ACCESS_TOO_MANY);
	free(held);
	access_limit_free(l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_parse_limits),
		cmocka_unit_test(test_key_check),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_limit_concurrent),
		cmocka_unit_test(test_limit_rate),
		cmocka_unit_test(test_limit_table_cap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
