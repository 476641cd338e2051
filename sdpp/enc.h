/* Text encodings used on the wire: lowercase hex, base64 (RFC 4648 s.4) and decimal money. */
#ifndef SDPP_ENC_H
#define SDPP_ENC_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* Size of the hex text (with NUL) for n bytes. */
#define SDPP_HEX_LEN(n) ((n)*2 + 1)
/* Size of the base64 text (with NUL) for n bytes. */
#define SDPP_B64_LEN(n) ((((n) + 2) / 3) * 4 + 1)
/* Longest decimal money string: 2^64-1 has 20 digits. */
#define SDPP_MONEY_MAX_DIGITS 20
#define SDPP_MONEY_LEN (SDPP_MONEY_MAX_DIGITS + 1)

/* Writes 2*n lowercase hex digits and a NUL into out (SDPP_HEX_LEN(n) bytes). */
void sdpp_hex_encode(char *out, const uint8_t *in, size_t n);

/* Decodes exactly n bytes from a hex string of exactly 2*n characters
 * (either case). Anything else is SDPP_E_BAD_MESSAGE. */
enum sdpp_err sdpp_hex_decode(uint8_t *out, size_t n, const char *hex) SDPP_WARN_UNUSED;

/* Writes padded base64 and a NUL into out (SDPP_B64_LEN(n) bytes). */
void sdpp_b64_encode(char *out, const uint8_t *in, size_t n);

/* Strict padded base64 decode of the first len bytes of in: no whitespace,
 * canonical padding bits only. Decodes at most cap bytes; more is
 * SDPP_E_BAD_MESSAGE. *outlen receives the decoded length. */
enum sdpp_err sdpp_b64_decode(
    uint8_t *out, size_t cap, size_t *outlen, const char *in, size_t len) SDPP_WARN_UNUSED;

/* Parses a money amount: a decimal string of base units, "0" or
 * [1-9][0-9]* up to 2^64-1. No sign, spaces or leading zeros. */
enum sdpp_err sdpp_money_parse(uint64_t *out, const char *s) SDPP_WARN_UNUSED;

/* Formats v as decimal into out (SDPP_MONEY_LEN bytes). */
void sdpp_money_format(char *out, uint64_t v);

/* *out = a * b, or SDPP_E_OVERFLOW. */
enum sdpp_err sdpp_money_mul(uint64_t *out, uint64_t a, uint64_t b) SDPP_WARN_UNUSED;

#endif
