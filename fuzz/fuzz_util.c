/* libFuzzer target: util/text.c UTF-8 against a reference decoder; HOST:PORT round trips. */
#include "fuzz/fuzz.h"
#include "util/text.h"

/* Longest HOST:PORT we try: past UTIL_HOST_MAX, so the length check runs. */
#define HP_IN_MAX 600

/*
 * The reference: the RFC 3629 definition taken literally, by a different
 * road from util/text.c (which checks the second byte's range): decode by
 * the bit pattern alone, then the sequence is well-formed only if the code
 * point is a scalar value and encoding it again gives the same bytes (so an
 * overlong form, which re-encodes shorter, fails). Returns the length, or 0.
 */
static size_t
ref_decode(const uint8_t *p, size_t n, uint32_t *cp)
{
	uint8_t enc[4];
	uint32_t v;
	size_t len, k, elen;

	if (n == 0)
		return 0;
	if (p[0] < 0x80)
		len = 1, v = p[0];
	else if ((p[0] & 0xe0) == 0xc0)
		len = 2, v = p[0] & 0x1fu;
	else if ((p[0] & 0xf0) == 0xe0)
		len = 3, v = p[0] & 0x0fu;
	else if ((p[0] & 0xf8) == 0xf0)
		len = 4, v = p[0] & 0x07u;
	else
		return 0;
	if (len > n)
		return 0;
	for (k = 1; k < len; k++) {
		if ((p[k] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (p[k] & 0x3fu);
	}
	if (v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	if (v < 0x80) {
		enc[0] = (uint8_t)v;
		elen = 1;
	} else if (v < 0x800) {
		enc[0] = (uint8_t)(0xc0 | v >> 6);
		enc[1] = (uint8_t)(0x80 | (v & 0x3f));
		elen = 2;
	} else if (v < 0x10000) {
		enc[0] = (uint8_t)(0xe0 | v >> 12);
		enc[1] = (uint8_t)(0x80 | (v >> 6 & 0x3f));
		enc[2] = (uint8_t)(0x80 | (v & 0x3f));
		elen = 3;
	} else {
		enc[0] = (uint8_t)(0xf0 | v >> 18);
		enc[1] = (uint8_t)(0x80 | (v >> 12 & 0x3f));
		enc[2] = (uint8_t)(0x80 | (v >> 6 & 0x3f));
		enc[3] = (uint8_t)(0x80 | (v & 0x3f));
		elen = 4;
	}
	if (elen != len || memcmp(enc, p, len) != 0)
		return 0;
	*cp = v;
	return len;
}

static int
ref_valid(const uint8_t *p, size_t n)
{
	uint32_t cp;
	size_t i = 0, k;

	while (i < n) {
		k = ref_decode(p + i, n - i, &cp);
		if (k == 0)
			return 0;
		i += k;
	}
	return 1;
}

/* Validator and decoder agree with the reference at every offset, so the
 * word-at-a-time ASCII path is tried at every alignment and after every
 * kind of sequence. */
static void
utf8(const uint8_t *data, size_t size)
{
	uint32_t a, b;
	size_t i, ka, kb;

	CHECK(util_utf8_valid(data, size) == ref_valid(data, size));
	for (i = 0; i < size; i++) {
		a = b = 0xffffffffu;
		ka = util_utf8_decode(data + i, size - i, &a);
		kb = ref_decode(data + i, size - i, &b);
		CHECK(ka == kb && a == b);
		/* Suffixes: cheap enough for the first few, which cover all alignments. */
		if (i < 16)
			CHECK(util_utf8_valid(data + i, size - i) == ref_valid(data + i, size - i));
	}
}

static int
host_ok(const char *h)
{
	for (; *h != '\0'; h++)
		if ((unsigned char)*h <= ' ' || (unsigned char)*h >= 0x7f || *h == '[' || *h == ']')
			return 0;
	return 1;
}

/* One split: what it accepts survives a round trip; what it refuses gets a
 * message that quotes the input; a short err buffer is cut, not overrun. */
static void
hostport(const char *in, unsigned flags)
{
	struct util_hostport hp, again;
	char err[2 * HP_IN_MAX], redo[HP_IN_MAX + 16], small[16], num[8];
	size_t cut;

	if (util_hostport_split(&hp, in, flags, err, sizeof(err)) != 0) {
		CHECK(err[0] == '`' && strstr(err, "': ") != NULL);
		CHECK(strncmp(err + 1, in, strlen(in)) == 0);
		CHECK(hp.host[0] == '\0' && hp.port[0] == '\0' && hp.portnum == 0);
		cut = strlen(in) % sizeof(small) + 1;
		memset(small, 'x', sizeof(small));
		CHECK(util_hostport_split(&hp, in, flags, small, cut) == -1);
		CHECK(memchr(small, '\0', cut) != NULL);
		return;
	}
	CHECK(strlen(hp.host) < UTIL_HOST_MAX && host_ok(hp.host));
	CHECK(hp.host[0] != '\0' || (flags & UTIL_HOSTPORT_PASSIVE) != 0);
	CHECK(hp.portnum >= 1);
	snprintf(num, sizeof(num), "%u", (unsigned)hp.portnum);
	CHECK(strcmp(num, hp.port) == 0);
	/* Only an address with colons comes back out of brackets. */
	snprintf(redo, sizeof(redo), strchr(hp.host, ':') != NULL ? "[%s]:%s" : "%s:%s", hp.host,
	    hp.port);
	CHECK(util_hostport_split(&again, redo, flags, err, sizeof(err)) == 0);
	CHECK(strcmp(again.host, hp.host) == 0 && again.portnum == hp.portnum);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct util_hostport a, b;
	char in[HP_IN_MAX + 1], err[8];
	size_t n;
	int ra, rb;

	utf8(data, size);
	n = size < HP_IN_MAX ? size : HP_IN_MAX;
	memcpy(in, data, n);
	in[n] = '\0'; /* a NUL in the input ends the string early, as in argv */
	hostport(in, 0);
	hostport(in, UTIL_HOSTPORT_PASSIVE);
	/* PASSIVE only widens: an address fine for connecting is fine for listening. */
	ra = util_hostport_split(&a, in, 0, err, sizeof(err));
	rb = util_hostport_split(&b, in, UTIL_HOSTPORT_PASSIVE, err, sizeof(err));
	CHECK(ra != 0 || (rb == 0 && memcmp(&a, &b, sizeof(a)) == 0));
	CHECK(rb == 0 || ra != 0);
	n = strlen(in);
	CHECK(util_errf(err, sizeof(err), "%s", in) == -1 &&
	      strlen(err) == (n < sizeof(err) ? n : sizeof(err) - 1));
	return 0;
}
