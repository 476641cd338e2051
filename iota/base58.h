/* Base58 text (Bitcoin alphabet), as IOTA writes object and transaction digests. */
#ifndef IOTA_BASE58_H
#define IOTA_BASE58_H

#include <stddef.h>
#include <stdint.h>

/* Longest input base58_encode() takes, and the longest text base58_decode()
 * takes (enough for BASE58_MAX_BYTES). Digests are 32 bytes, 43 or 44 chars;
 * the caps keep the quadratic conversion and its stack buffer small. */
#define BASE58_MAX_BYTES 128
#define BASE58_MAX_CHARS 176
/* Text size, with NUL, that always holds the encoding of n bytes
 * (log(256)/log(58) < 1.38). */
#define BASE58_LEN(n) ((n)*138 / 100 + 2)

/*
 * Writes the base58 text of in[0..n) and a NUL into out. Each leading zero
 * byte becomes a '1'; zero bytes give "". Returns the text length, or -1 when
 * n > BASE58_MAX_BYTES or the text and its NUL do not fit in cap (out then
 * holds "" if cap > 0).
 */
int base58_encode(char *out, size_t cap, const uint8_t *in, size_t n)
    __attribute__((warn_unused_result));

/*
 * Decodes base58 text in[0..len) into out (at most cap bytes) and sets
 * *outlen. Each leading '1' becomes a zero byte; "" gives zero bytes. The
 * encoding is a bijection, so text that decodes re-encodes to itself.
 * Returns 0, or -1 for a character outside the alphabet (0, O, I, l, '+',
 * space, ...), text longer than BASE58_MAX_CHARS or a result longer than
 * cap. Callers that need an exact size (a 32-byte digest) check *outlen.
 */
int base58_decode(uint8_t *out, size_t cap, size_t *outlen, const char *in, size_t len)
    __attribute__((warn_unused_result));

#endif
