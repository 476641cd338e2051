/* Tables for util/text.c: UTF-8 boundaries and ill-formed classes, HOST:PORT, util_errf. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "util/text.h"

/* Bytes with an explicit length, so a case may hold NUL. */
#define B(lit) lit, sizeof(lit) - 1

struct utf8_case {
	const char *name;
	const char *s;
	size_t n;
	int valid;
	uint32_t cp; /* what util_utf8_decode() makes of the first sequence */
	size_t len;  /* its length; 0 if the first sequence is ill-formed */
};

static const struct utf8_case utf8_cases[] = {
	/* Well-formed, at every length boundary (RFC 3629 section 4). */
	{ "U+0000 (NUL is valid UTF-8)", B("\x00"), 1, 0x0000, 1 },
	{ "U+0041", B("A"), 1, 0x41, 1 },
	{ "U+007F last 1-byte", B("\x7f"), 1, 0x7f, 1 },
	{ "U+0080 first 2-byte", B("\xc2\x80"), 1, 0x80, 2 },
	{ "U+00E4", B("\xc3\xa4"), 1, 0xe4, 2 },
	{ "U+07FF last 2-byte", B("\xdf\xbf"), 1, 0x7ff, 2 },
	{ "U+0800 first 3-byte", B("\xe0\xa0\x80"), 1, 0x800, 3 },
	{ "U+D7FF before the surrogates", B("\xed\x9f\xbf"), 1, 0xd7ff, 3 },
	{ "U+E000 after the surrogates", B("\xee\x80\x80"), 1, 0xe000, 3 },
	{ "U+FFFD", B("\xef\xbf\xbd"), 1, 0xfffd, 3 },
	{ "U+FFFE noncharacter (well-formed)", B("\xef\xbf\xbe"), 1, 0xfffe, 3 },
	{ "U+FFFF last 3-byte", B("\xef\xbf\xbf"), 1, 0xffff, 3 },
	{ "U+10000 first 4-byte", B("\xf0\x90\x80\x80"), 1, 0x10000, 4 },
	{ "U+1F600", B("\xf0\x9f\x98\x80"), 1, 0x1f600, 4 },
	{ "U+FFFFF", B("\xf3\xbf\xbf\xbf"), 1, 0xfffff, 4 },
	{ "U+100000", B("\xf4\x80\x80\x80"), 1, 0x100000, 4 },
	{ "U+10FFFF last code point", B("\xf4\x8f\xbf\xbf"), 1, 0x10ffff, 4 },
	{ "mixed text", B("Z\xc3\xa4hler \xe2\x9c\x93 \xf0\x9f\x98\x80!"), 1, 'Z', 1 },
	{ "NUL inside text", B("a\x00z"), 1, 'a', 1 },
	{ "ASCII longer than a word", B("sensors/building-7/floor-3/temperature"), 1, 's', 1 },
	{ "2-byte after 8 ASCII", B("abcdefgh\xc3\xa4"), 1, 'a', 1 },
	{ "2-byte across a word edge", B("abcdefg\xc3\xa4xyz"), 1, 'a', 1 },
	/* Above U+10FFFF. */
	{ "U+110000", B("\xf4\x90\x80\x80"), 0, 0, 0 },
	{ "U+13FFFF", B("\xf4\xbf\xbf\xbf"), 0, 0, 0 },
	{ "F5 lead (U+140000)", B("\xf5\x80\x80\x80"), 0, 0, 0 },
	{ "F7 lead", B("\xf7\xbf\xbf\xbf"), 0, 0, 0 },
	{ "F8 5-byte lead", B("\xf8\x88\x80\x80\x80"), 0, 0, 0 },
	{ "FC 6-byte lead", B("\xfc\x84\x80\x80\x80\x80"), 0, 0, 0 },
	{ "FE", B("\xfe"), 0, 0, 0 },
	{ "FF", B("\xff"), 0, 0, 0 },
	{ "FE FF (UTF-16 BOM bytes)", B("\xfe\xff"), 0, 0, 0 },
	/* Overlong forms. */
	{ "C0 80 (overlong NUL)", B("\xc0\x80"), 0, 0, 0 },
	{ "C0 AF (overlong '/')", B("\xc0\xaf"), 0, 0, 0 },
	{ "C1 BF (overlong U+007F)", B("\xc1\xbf"), 0, 0, 0 },
	{ "E0 80 80 (overlong NUL)", B("\xe0\x80\x80"), 0, 0, 0 },
	{ "E0 80 AF (overlong '/')", B("\xe0\x80\xaf"), 0, 0, 0 },
	{ "E0 9F BF (overlong U+07FF)", B("\xe0\x9f\xbf"), 0, 0, 0 },
	{ "F0 80 80 80 (overlong NUL)", B("\xf0\x80\x80\x80"), 0, 0, 0 },
	{ "F0 8F BF BF (overlong U+FFFF)", B("\xf0\x8f\xbf\xbf"), 0, 0, 0 },
	{ "F8 80 80 80 80 (overlong NUL)", B("\xf8\x80\x80\x80\x80"), 0, 0, 0 },
	/* Encoded surrogates (CESU-8 style). */
	{ "ED A0 80 (U+D800)", B("\xed\xa0\x80"), 0, 0, 0 },
	{ "ED AF BF (U+DBFF)", B("\xed\xaf\xbf"), 0, 0, 0 },
	{ "ED B0 80 (U+DC00)", B("\xed\xb0\x80"), 0, 0, 0 },
	{ "ED BF BF (U+DFFF)", B("\xed\xbf\xbf"), 0, 0, 0 },
	{ "surrogate pair", B("\xed\xa0\xbd\xed\xb8\x80"), 0, 0, 0 },
	/* Lone continuation bytes. */
	{ "80", B("\x80"), 0, 0, 0 },
	{ "BF", B("\xbf"), 0, 0, 0 },
	{ "80 after ASCII", B("abc\x80"), 0, 'a', 1 },
	{ "one continuation too many", B("\xc3\xa4\xa4"), 0, 0xe4, 2 },
	/* Truncated: the input ends inside a sequence. */
	{ "C3 at the end", B("\xc3"), 0, 0, 0 },
	{ "E2 9C at the end", B("\xe2\x9c"), 0, 0, 0 },
	{ "E2 at the end", B("\xe2"), 0, 0, 0 },
	{ "F0 9F 98 at the end", B("\xf0\x9f\x98"), 0, 0, 0 },
	{ "F0 at the end", B("\xf0"), 0, 0, 0 },
	{ "truncated after 9 ASCII", B("abcdefghi\xf0\x9f"), 0, 'a', 1 },
	/* Cut short by a non-continuation byte. */
	{ "C3 then Z", B("\xc3Z"), 0, 0, 0 },
	{ "E2 9C then Z", B("\xe2\x9cZ"), 0, 0, 0 },
	{ "F0 9F 98 then Z", B("\xf0\x9f\x98Z"), 0, 0, 0 },
	{ "C3 then NUL", B("\xc3\x00"), 0, 0, 0 },
	{ "C3 then a lead byte", B("\xc3\xc3\xa4"), 0, 0, 0 },
};

static void
test_utf8_table(void **state)
{
	const struct utf8_case *c;
	uint32_t cp;
	size_t i, k;

	(void)state;
	for (i = 0; i < sizeof(utf8_cases) / sizeof(utf8_cases[0]); i++) {
		c = &utf8_cases[i];
		if (util_utf8_valid(c->s, c->n) != c->valid)
			fail_msg("%s: util_utf8_valid says %d", c->name, !c->valid);
		cp = 0xdeadbeef;
		k = util_utf8_decode(c->s, c->n, &cp);
		if (k != c->len || (k != 0 && cp != c->cp) || (k == 0 && cp != 0xdeadbeef))
			fail_msg("%s: decoded %zu bytes U+%04X", c->name, k, (unsigned)cp);
	}
}

/* The second byte after each lead byte: exactly the Unicode table 3-7 ranges pass. */
static void
test_utf8_second_byte(void **state)
{
	unsigned char b[4] = { 0, 0, 0x80, 0x80 };
	unsigned lead, second, lo, hi;
	size_t need;

	(void)state;
	for (lead = 0x80; lead <= 0xff; lead++) {
		need = lead >= 0xc2 && lead <= 0xdf   ? 2
		       : lead >= 0xe0 && lead <= 0xef ? 3
		       : lead >= 0xf0 && lead <= 0xf4 ? 4
		                                      : 0;
		lo = lead == 0xe0 ? 0xa0 : lead == 0xf0 ? 0x90 : 0x80;
		hi = lead == 0xed ? 0x9f : lead == 0xf4 ? 0x8f : 0xbf;
		for (second = 0; second <= 0xff; second++) {
			int want = need != 0 && second >= lo && second <= hi;

			b[0] = (unsigned char)lead;
			b[1] = (unsigned char)second;
			if (util_utf8_valid(b, need != 0 ? need : 2) != want)
				fail_msg("%02X %02X: valid should be %d", lead, second, want);
		}
	}
}

/* Empty input is valid; decode of nothing fails; NULL with length 0 is fine. */
static void
test_utf8_empty(void **state)
{
	uint32_t cp = 7;

	(void)state;
	assert_int_equal(util_utf8_valid("", 0), 1);
	assert_int_equal(util_utf8_valid(NULL, 0), 1);
	assert_int_equal(util_utf8_decode("A", 0, &cp), 0);
	assert_int_equal(cp, 7);
	/* A valid prefix does not excuse a bad byte past it. */
	assert_int_equal(util_utf8_valid("A\xc3\xa4\xff", 4), 0);
	assert_int_equal(util_utf8_valid("A\xc3\xa4\xff", 3), 1);
}

struct hp_case {
	const char *in;
	unsigned flags;
	const char *host; /* NULL: refused, with err */
	const char *port;
	uint16_t portnum;
	const char *err;
};

static const struct hp_case hp_cases[] = {
	{ "127.0.0.1:7878", 0, "127.0.0.1", "7878", 7878, NULL },
	{ "localhost:1", 0, "localhost", "1", 1, NULL },
	{ "gw.example.org:65535", 0, "gw.example.org", "65535", 65535, NULL },
	{ "0.0.0.0:7878", UTIL_HOSTPORT_PASSIVE, "0.0.0.0", "7878", 7878, NULL },
	{ "[::1]:7878", 0, "::1", "7878", 7878, NULL },
	{ "[::]:9100", UTIL_HOSTPORT_PASSIVE, "::", "9100", 9100, NULL },
	{ "[fe80::1%eth0]:80", 0, "fe80::1%eth0", "80", 80, NULL },
	{ "[2001:db8::42]:443", 0, "2001:db8::42", "443", 443, NULL },
	{ "h:080", 0, "h", "80", 80, NULL },
	{ "h:00001", 0, "h", "1", 1, NULL },
	{ ":7878", UTIL_HOSTPORT_PASSIVE, "", "7878", 7878, NULL },
	{ "", 0, NULL, NULL, 0, "`': expected HOST:PORT" },
	{ "localhost", 0, NULL, NULL, 0, "`localhost': expected HOST:PORT" },
	{ "[::1]", 0, NULL, NULL, 0, "`[::1]': expected HOST:PORT" },
	{ ":7878", 0, NULL, NULL, 0, "`:7878': no host before the `:'" },
	{ "h:", 0, NULL, NULL, 0, "`h:': port is not 1-65535" },
	{ "h:0", 0, NULL, NULL, 0, "`h:0': port is not 1-65535" },
	{ "h:00000", 0, NULL, NULL, 0, "`h:00000': port is not 1-65535" },
	{ "h:65536", 0, NULL, NULL, 0, "`h:65536': port is not 1-65535" },
	{ "h:99999", 0, NULL, NULL, 0, "`h:99999': port is not 1-65535" },
	{ "h:000080", 0, NULL, NULL, 0, "`h:000080': port is not 1-65535" },
	{ "h:18446744073709551617", 0, NULL, NULL, 0,
	    "`h:18446744073709551617': port is not 1-65535" },
	{ "h:+80", 0, NULL, NULL, 0, "`h:+80': port is not 1-65535" },
	{ "h:-1", 0, NULL, NULL, 0, "`h:-1': port is not 1-65535" },
	{ "h: 80", 0, NULL, NULL, 0, "`h: 80': port is not 1-65535" },
	{ "h:80 ", 0, NULL, NULL, 0, "`h:80 ': port is not 1-65535" },
	{ "h:0x50", 0, NULL, NULL, 0, "`h:0x50': port is not 1-65535" },
	{ "h:http", 0, NULL, NULL, 0, "`h:http': port is not 1-65535" },
	{ "[::1]:", 0, NULL, NULL, 0, "`[::1]:': port is not 1-65535" },
	{ "::1:7878", 0, NULL, NULL, 0, "`::1:7878': an IPv6 address needs brackets: [ADDR]:PORT" },
	{ "h:80:81", 0, NULL, NULL, 0, "`h:80:81': an IPv6 address needs brackets: [ADDR]:PORT" },
	{ "[::1:7878", 0, NULL, NULL, 0, "`[::1:7878': `[' without `]'" },
	{ "[::1]7878", 0, NULL, NULL, 0, "`[::1]7878': expected `:PORT' after `]'" },
	{ "[::1]x:80", 0, NULL, NULL, 0, "`[::1]x:80': expected `:PORT' after `]'" },
	{ "[]:80", 0, NULL, NULL, 0, "`[]:80': only an IPv6 address goes in [ ]" },
	{ "[localhost]:80", 0, NULL, NULL, 0,
	    "`[localhost]:80': only an IPv6 address goes in [ ]" },
	{ "[[::1]]:80", 0, NULL, NULL, 0, "`[[::1]]:80': expected `:PORT' after `]'" },
	{ "[:[:1]:80", 0, NULL, NULL, 0,
	    "`[:[:1]:80': host has a space, control, non-ASCII or bracket byte" },
	{ "a]b:80", 0, NULL, NULL, 0,
	    "`a]b:80': host has a space, control, non-ASCII or bracket byte" },
	{ "my host:80", 0, NULL, NULL, 0,
	    "`my host:80': host has a space, control, non-ASCII or bracket byte" },
	{ "h\t:80", 0, NULL, NULL, 0,
	    "`h\t:80': host has a space, control, non-ASCII or bracket byte" },
	{ "h\xc3\xa4:80", 0, NULL, NULL, 0,
	    "`h\xc3\xa4:80': host has a space, control, non-ASCII or bracket byte" },
};

/* Printable text: well-formed, and no C0, DEL or C1 control. */
static void
test_text_printable(void **state)
{
	static const struct {
		const char *s;
		int ok;
	} t[] = {
		{ "", 1 }, { "CO2, floor 2", 1 }, { "caf\xc3\xa9 \xe2\x9c\x93", 1 },
		{ "\xc2\xa0 no-break space", 1 }, /* U+00A0: first after C1 */
		{ "tab\there", 0 }, { "line\n", 0 }, { "del\x7f", 0 },
		{ "c1 \xc2\x80", 0 },       /* U+0080 */
		{ "c1 \xc2\x9f", 0 },       /* U+009F */
		{ "bad \xc3\x28", 0 },      /* not UTF-8 */
		{ "overlong \xc0\x8a", 0 }, /* an overlong newline */
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (util_text_printable(t[i].s, strlen(t[i].s)) != t[i].ok)
			fail_msg("case %zu `%s': want %d", i, t[i].s, t[i].ok);
}

static void
test_hostport_table(void **state)
{
	const struct hp_case *c;
	struct util_hostport hp;
	char err[256];
	size_t i;
	int rc;

	(void)state;
	for (i = 0; i < sizeof(hp_cases) / sizeof(hp_cases[0]); i++) {
		c = &hp_cases[i];
		memset(&hp, 0x5a, sizeof(hp));
		snprintf(err, sizeof(err), "untouched");
		rc = util_hostport_split(&hp, c->in, c->flags, err, sizeof(err));
		if (c->host != NULL) {
			if (rc != 0)
				fail_msg("`%s': refused: %s", c->in, err);
			assert_string_equal(hp.host, c->host);
			assert_string_equal(hp.port, c->port);
			assert_int_equal(hp.portnum, c->portnum);
			assert_string_equal(err, "untouched");
		} else {
			if (rc != -1)
				fail_msg("`%s': accepted as `%s' `%s'", c->in, hp.host, hp.port);
			assert_string_equal(err, c->err);
			assert_int_equal(hp.host[0], '\0');
			assert_int_equal(hp.portnum, 0);
		}
	}
}

/* Host length: 255 bytes fit (DNS allows 253), 256 do not; err is cut, not overrun. */
static void
test_hostport_lengths(void **state)
{
	struct util_hostport hp;
	char in[UTIL_HOST_MAX + 16], err[2 * UTIL_HOST_MAX], tiny[8];

	(void)state;
	memset(in, 'a', UTIL_HOST_MAX - 1);
	snprintf(in + UTIL_HOST_MAX - 1, sizeof(in) - (UTIL_HOST_MAX - 1), ":80");
	assert_int_equal(util_hostport_split(&hp, in, 0, err, sizeof(err)), 0);
	assert_int_equal(strlen(hp.host), UTIL_HOST_MAX - 1);
	memset(in, 'a', UTIL_HOST_MAX);
	snprintf(in + UTIL_HOST_MAX, sizeof(in) - UTIL_HOST_MAX, ":80");
	assert_int_equal(util_hostport_split(&hp, in, 0, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "': host is longer than 255 bytes"));
	assert_int_equal(util_hostport_split(&hp, "h:0", 0, tiny, sizeof(tiny)), -1);
	assert_string_equal(tiny, "`h:0': ");
	assert_int_equal(util_hostport_split(&hp, "h:0", 0, NULL, 0), -1);
	assert_int_equal(util_hostport_split(&hp, NULL, 0, err, sizeof(err)), -1);
	assert_string_equal(err, "`': expected HOST:PORT");
}

static void
test_errf(void **state)
{
	char err[8];

	(void)state;
	assert_int_equal(util_errf(err, sizeof(err), "%s %d", "abc", 42), -1);
	assert_string_equal(err, "abc 42");
	assert_int_equal(util_errf(err, sizeof(err), "%s", "0123456789"), -1);
	assert_string_equal(err, "0123456");
	assert_int_equal(util_errf(NULL, 0, "x"), -1);
	err[0] = 'z';
	assert_int_equal(util_errf(err, 0, "x"), -1);
	assert_int_equal(err[0], 'z');
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_utf8_table),
		cmocka_unit_test(test_utf8_second_byte),
		cmocka_unit_test(test_utf8_empty),
		cmocka_unit_test(test_text_printable),
		cmocka_unit_test(test_hostport_table),
		cmocka_unit_test(test_hostport_lengths),
		cmocka_unit_test(test_errf),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
