/* Text encodings used on the wire: lowercase hex, base64 (RFC 4648 s.4) and decimal money. */
#include <stdint.h>
#include <string.h>

#include "sdpp/enc.h"

static const char hexdig[] = "0123456789abcdef";
static const char b64dig[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void
sdpp_hex_encode(char *out, const uint8_t *in, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hexdig[in[i] >> 4];
		out[2 * i + 1] = hexdig[in[i] & 15];
	}
	out[2 * n] = '\0';
}

static int
hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

enum sdpp_err
sdpp_hex_decode(uint8_t *out, size_t n, const char *hex)
{
	size_t i;

	if (hex == NULL || strlen(hex) != 2 * n)
		return SDPP_E_BAD_MESSAGE;
	for (i = 0; i < n; i++) {
		int hi = hexval((unsigned char)hex[2 * i]);
		int lo = hexval((unsigned char)hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return SDPP_E_BAD_MESSAGE;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return SDPP_OK;
}

void
sdpp_b64_encode(char *out, const uint8_t *in, size_t n)
{
	size_t i, o = 0;

	for (i = 0; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];

		out[o++] = b64dig[v >> 18];
		out[o++] = b64dig[(v >> 12) & 63];
		out[o++] = b64dig[(v >> 6) & 63];
		out[o++] = b64dig[v & 63];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)in[i] << 16;

		out[o++] = b64dig[v >> 18];
		out[o++] = b64dig[(v >> 12) & 63];
		out[o++] = '=';
		out[o++] = '=';
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;

		out[o++] = b64dig[v >> 18];
		out[o++] = b64dig[(v >> 12) & 63];
		out[o++] = b64dig[(v >> 6) & 63];
		out[o++] = '=';
	}
	out[o] = '\0';
}

/* Value of each base64 digit; XX (high bit set) for every other byte, '='
 * included, so one OR over a quad tells whether any byte was not a digit. */
#define XX 0xff
/* clang-format off */
static const uint8_t b64val[256] = {
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, 62, XX, XX, XX, 63,
	52, 53, 54, 55, 56, 57, 58, 59, 60, 61, XX, XX, XX, XX, XX, XX,
	XX, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
	15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, XX, XX, XX, XX, XX,
	XX, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
	41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, XX, XX, XX, XX, XX,
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
};
/* clang-format on */
#undef XX

/*
 * Strict decode: every quad but the last is four digits; only the last may
 * end in "=" or "==", and the bits its padding drops must be zero, so each
 * byte string has exactly one accepted encoding. The output size is known
 * from the padding before anything is written, so cap is checked once.
 */
enum sdpp_err
sdpp_b64_decode(uint8_t *out, size_t cap, size_t *outlen, const char *in, size_t len)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t i, o = 0, full, pad = 0;
	uint32_t a, b, c, d;

	*outlen = 0;
	if (len % 4 != 0)
		return SDPP_E_BAD_MESSAGE;
	if (len == 0)
		return SDPP_OK;
	/* A '=' anywhere else is not a digit and fails below. */
	if (p[len - 1] == '=')
		pad = p[len - 2] == '=' ? 2 : 1;
	if (len / 4 * 3 - pad > cap)
		return SDPP_E_BAD_MESSAGE;
	full = pad != 0 ? len - 4 : len;
	for (i = 0; i < full; i += 4) {
		a = b64val[p[i]];
		b = b64val[p[i + 1]];
		c = b64val[p[i + 2]];
		d = b64val[p[i + 3]];
		if ((a | b | c | d) & 0x80)
			return SDPP_E_BAD_MESSAGE;
		a = a << 18 | b << 12 | c << 6 | d;
		out[o] = (uint8_t)(a >> 16);
		out[o + 1] = (uint8_t)(a >> 8);
		out[o + 2] = (uint8_t)a;
		o += 3;
	}
	if (pad != 0) {
		a = b64val[p[i]];
		b = b64val[p[i + 1]];
		c = pad == 1 ? b64val[p[i + 2]] : 0;
		if ((a | b | c) & 0x80)
			return SDPP_E_BAD_MESSAGE;
		/* Canonical form only: the bits dropped by padding are zero. */
		if ((pad == 2 && (b & 0x0f) != 0) || (pad == 1 && (c & 0x03) != 0))
			return SDPP_E_BAD_MESSAGE;
		out[o++] = (uint8_t)(a << 2 | b >> 4);
		if (pad == 1)
			out[o++] = (uint8_t)(b << 4 | c >> 2);
	}
	*outlen = o;
	return SDPP_OK;
}

enum sdpp_err
sdpp_money_parse(uint64_t *out, const char *s)
{
	uint64_t v = 0;
	size_t i, n;

	if (s == NULL)
		return SDPP_E_BAD_MESSAGE;
	n = strlen(s);
	if (n == 0 || n > SDPP_MONEY_MAX_DIGITS || (s[0] == '0' && n > 1))
		return SDPP_E_BAD_MESSAGE;
	for (i = 0; i < n; i++) {
		unsigned d;

		if (s[i] < '0' || s[i] > '9')
			return SDPP_E_BAD_MESSAGE;
		d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return SDPP_E_OVERFLOW;
		v = v * 10 + d;
	}
	*out = v;
	return SDPP_OK;
}

void
sdpp_money_format(char *out, uint64_t v)
{
	char tmp[SDPP_MONEY_LEN];
	size_t n = 0, i;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	for (i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	out[n] = '\0';
}

enum sdpp_err
sdpp_money_mul(uint64_t *out, uint64_t a, uint64_t b)
{
	if (a != 0 && b > UINT64_MAX / a)
		return SDPP_E_OVERFLOW;
	*out = a * b;
	return SDPP_OK;
}
