/* Base58 (Bitcoin alphabet) by schoolbook base conversion over bounded inputs. */
#include <string.h>

#include "iota/base58.h"

static const char alphabet[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/* Working digits for the largest input: base58 for encoding, base256 for
 * decoding (log(58)/log(256) < 0.733). */
#define ENC_WORK BASE58_LEN(BASE58_MAX_BYTES)
#define DEC_WORK (BASE58_MAX_CHARS * 733 / 1000 + 1)

/* Value of a base58 character, or -1. */
static int
digit_value(unsigned char c)
{
	const char *p;

	if (c == '\0')
		return -1;
	p = strchr(alphabet, c);
	return p == NULL ? -1 : (int)(p - alphabet);
}

int
base58_encode(char *out, size_t cap, const uint8_t *in, size_t n)
{
	uint8_t digits[ENC_WORK];
	size_t zeros = 0, size, length = 0, i, j, k, skip;
	unsigned carry;

	if (cap > 0)
		out[0] = '\0';
	if (n > BASE58_MAX_BYTES)
		return -1;
	while (zeros < n && in[zeros] == 0)
		zeros++;
	size = (n - zeros) * 138 / 100 + 1;
	memset(digits, 0, size);
	/* digits[size - length .. size) holds the number so far, big-endian. */
	for (i = zeros; i < n; i++) {
		carry = in[i];
		for (k = 0, j = size; (carry != 0 || k < length) && j > 0; k++, j--) {
			carry += 256u * digits[j - 1];
			digits[j - 1] = (uint8_t)(carry % 58);
			carry /= 58;
		}
		length = k;
	}
	skip = size - length;
	if (zeros + length + 1 > cap)
		return -1;
	memset(out, '1', zeros);
	for (i = 0; i < length; i++)
		out[zeros + i] = alphabet[digits[skip + i]];
	out[zeros + length] = '\0';
	return (int)(zeros + length);
}

int
base58_decode(uint8_t *out, size_t cap, size_t *outlen, const char *in, size_t len)
{
	uint8_t bytes[DEC_WORK];
	size_t zeros = 0, size, length = 0, i, j, k;
	unsigned carry;
	int v;

	if (len > BASE58_MAX_CHARS)
		return -1;
	while (zeros < len && in[zeros] == '1')
		zeros++;
	size = (len - zeros) * 733 / 1000 + 1;
	memset(bytes, 0, size);
	for (i = zeros; i < len; i++) {
		v = digit_value((unsigned char)in[i]);
		if (v < 0)
			return -1;
		carry = (unsigned)v;
		for (k = 0, j = size; (carry != 0 || k < length) && j > 0; k++, j--) {
			carry += 58u * bytes[j - 1];
			bytes[j - 1] = (uint8_t)(carry & 0xff);
			carry >>= 8;
		}
		length = k;
	}
	if (zeros + length > cap)
		return -1;
	if (zeros + length > 0) {
		memset(out, 0, zeros);
		memcpy(out + zeros, bytes + size - length, length);
	}
	*outlen = zeros + length;
	return 0;
}
