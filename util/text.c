/* Text jobs every layer shares: strict UTF-8, HOST:PORT splitting, and err-buffer messages. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "util/text.h"

/* High bit of every byte in a 64-bit word: any set means a non-ASCII byte. */
#define ASCII_MASK 0x8080808080808080ull

/*
 * One sequence at p[0..n), n >= 1. The allowed second bytes follow the
 * Unicode table of well-formed sequences (Unicode 15, table 3-7), so
 * overlongs (E0 80..9F, F0 80..8F), surrogates (ED A0..BF) and values above
 * U+10FFFF (F4 90..BF) fail on the second byte, without a decode-then-check
 * that could be got wrong in one copy and right in another.
 */
static inline size_t
seq_decode(const unsigned char *p, size_t n, uint32_t *cp)
{
	unsigned c = p[0], lo = 0x80, hi = 0xbf;
	uint32_t v;
	size_t need, i;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c < 0xc2) /* a continuation byte, or C0/C1 (always overlong) */
		return 0;
	if (c < 0xe0) {
		need = 2;
		v = c & 0x1f;
	} else if (c < 0xf0) {
		need = 3;
		v = c & 0x0f;
		if (c == 0xe0)
			lo = 0xa0; /* below: overlong, under U+0800 */
		else if (c == 0xed)
			hi = 0x9f; /* above: surrogates U+D800..U+DFFF */
	} else if (c < 0xf5) {
		need = 4;
		v = c & 0x07;
		if (c == 0xf0)
			lo = 0x90; /* below: overlong, under U+10000 */
		else if (c == 0xf4)
			hi = 0x8f; /* above: beyond U+10FFFF */
	} else {
		return 0; /* F5..FF: beyond U+10FFFF, or never UTF-8 (FE, FF) */
	}
	if (n < need || p[1] < lo || p[1] > hi)
		return 0;
	v = v << 6 | (p[1] & 0x3fu);
	for (i = 2; i < need; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (p[i] & 0x3fu);
	}
	*cp = v;
	return need;
}

size_t
util_utf8_decode(const void *s, size_t n, uint32_t *cp)
{
	if (n == 0)
		return 0;
	return seq_decode(s, n, cp);
}

int
util_text_printable(const void *s, size_t n)
{
	const unsigned char *p = s;
	size_t i;

	if (!util_utf8_valid(s, n))
		return 0;
	/* Well-formed, so C1 can only be C2 80..C2 9F. */
	for (i = 0; i < n; i++)
		if (p[i] < 0x20 || p[i] == 0x7f || (p[i] == 0xc2 && i + 1 < n && p[i + 1] <= 0x9f))
			return 0;
	return 1;
}

int
util_utf8_valid(const void *s, size_t n)
{
	const unsigned char *p = s;
	uint64_t w;
	uint32_t cp;
	size_t i = 0, k;

	if (p == NULL)
		return n == 0;
	while (i < n) {
		/* Topics and most payloads are ASCII: skip it a word at a time. */
		while (n - i >= sizeof(w)) {
			memcpy(&w, p + i, sizeof(w));
			if ((w & ASCII_MASK) != 0)
				break;
			i += sizeof(w);
		}
		/* The last few bytes as one word too, overlapping ones already seen. */
		if (n >= sizeof(w) && n - i < sizeof(w)) {
			memcpy(&w, p + n - sizeof(w), sizeof(w));
			if ((w & ASCII_MASK) == 0)
				return 1;
		}
		while (i < n && p[i] < 0x80)
			i++;
		if (i == n)
			break;
		k = seq_decode(p + i, n - i, &cp);
		if (k == 0)
			return 0;
		i += k;
	}
	return 1;
}

int
util_hostport_split(
    struct util_hostport *hp, const char *in, unsigned flags, char *err, size_t errlen)
{
	const char *host, *port, *close, *colon;
	size_t hlen, plen, i;
	unsigned long v = 0;

	memset(hp, 0, sizeof(*hp));
	if (in == NULL)
		in = "";
	if (in[0] == '[') {
		host = in + 1;
		close = strchr(host, ']');
		if (close == NULL)
			return util_errf(err, errlen, "`%s': `[' without `]'", in);
		hlen = (size_t)(close - host);
		/* Brackets exist to hold an address's colons; a name never needs them. */
		if (memchr(host, ':', hlen) == NULL)
			return util_errf(err, errlen, "`%s': only an IPv6 address goes in [ ]", in);
		if (close[1] == '\0')
			return util_errf(err, errlen, "`%s': expected HOST:PORT", in);
		if (close[1] != ':')
			return util_errf(err, errlen, "`%s': expected `:PORT' after `]'", in);
		port = close + 2;
	} else {
		colon = strchr(in, ':');
		if (colon == NULL)
			return util_errf(err, errlen, "`%s': expected HOST:PORT", in);
		/* "::1:80" could be ::1 port 80 or ::1:80 with no port. */
		if (strchr(colon + 1, ':') != NULL)
			return util_errf(
			    err, errlen, "`%s': an IPv6 address needs brackets: [ADDR]:PORT", in);
		host = in;
		hlen = (size_t)(colon - in);
		if (hlen == 0 && (flags & UTIL_HOSTPORT_PASSIVE) == 0)
			return util_errf(err, errlen, "`%s': no host before the `:'", in);
		port = colon + 1;
	}
	if (hlen >= sizeof(hp->host))
		return util_errf(
		    err, errlen, "`%s': host is longer than %zu bytes", in, sizeof(hp->host) - 1);
	for (i = 0; i < hlen; i++) {
		unsigned char c = (unsigned char)host[i];

		/* No resolver name or address holds these; they only hide mistakes. */
		if (c <= ' ' || c >= 0x7f || c == '[' || c == ']')
			return util_errf(err, errlen,
			    "`%s': host has a space, control, non-ASCII or bracket byte", in);
	}
	plen = strlen(port);
	if (plen == 0 || plen >= sizeof(hp->port))
		goto badport;
	for (i = 0; i < plen; i++) {
		if (port[i] < '0' || port[i] > '9')
			goto badport;
		v = v * 10 + (unsigned long)(port[i] - '0');
	}
	if (v < 1 || v > 65535)
		goto badport;
	memcpy(hp->host, host, hlen);
	hp->host[hlen] = '\0';
	snprintf(hp->port, sizeof(hp->port), "%lu", v);
	hp->portnum = (uint16_t)v;
	return 0;
badport:
	return util_errf(err, errlen, "`%s': port is not 1-65535", in);
}

int
util_errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}
