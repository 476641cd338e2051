/* Text encodings used on the wire: lowercase hex, base64 (RFC 4648 s.4) and decimal money. */
#include <stdint.h>
#include <string.h>

#include "sdpp/enc.h"

static const char hexdig[] = "0123456789abcdef";
static const char b64dig[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

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

static int
b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

enum sdpp_err
sdpp_b64_decode(uint8_t *out, size_t cap, size_t *outlen, const char *in, size_t len)
{
	size_t i, o = 0;

	*outlen = 0;
	if (len % 4 != 0)
		return SDPP_E_BAD_MESSAGE;
	for (i = 0; i < len; i += 4) {
		int v[4], k, pad = 0;
		uint32_t w;

		for (k = 0; k < 4; k++) {
			unsigned char c = (unsigned char)in[i + k];

			if (c == '=' && i + 4 == len && k >= 2) {
				v[k] = 0;
				pad++;
				continue;
			}
			if (pad > 0)
				return SDPP_E_BAD_MESSAGE; /* data after '=' */
			v[k] = b64val(c);
			if (v[k] < 0)
				return SDPP_E_BAD_MESSAGE;
		}
		w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
		/* Canonical form only: the bits dropped by padding must be zero,
		 * so each byte string has exactly one encoding. */
		if ((pad == 1 && (w & 0xff) != 0) || (pad == 2 && (w & 0xffff) != 0))
			return SDPP_E_BAD_MESSAGE;
		if (o + (size_t)(3 - pad) > cap)
			return SDPP_E_BAD_MESSAGE;
		out[o++] = (uint8_t)(w >> 16);
		if (pad < 2)
			out[o++] = (uint8_t)(w >> 8);
		if (pad < 1)
			out[o++] = (uint8_t)w;
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
