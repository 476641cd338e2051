/* Strict JSON input on top of cJSON, and RFC 8785 (JCS) canonical output. */
#ifndef SDPP_JSON_H
#define SDPP_JSON_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "err.h"

/* Largest integer magnitude allowed in a message: 2^53 - 1 (exact in a double). */
#define SDPP_JSON_INT_MAX 9007199254740991LL
/* Deepest nesting of arrays/objects accepted; messages need 4. */
#define SDPP_JSON_MAX_DEPTH 32

/*
 * Parses exactly len bytes of untrusted input as one JSON value, strictly:
 * the bytes must be well-formed UTF-8 (no overlongs, surrogates or
 * code points above U+10FFFF), no NUL byte, no duplicate member names in any
 * object, nesting at most SDPP_JSON_MAX_DEPTH, only whitespace after the
 * value, and every number an integer literal (-?(0|[1-9][0-9]*)) with
 * magnitude at most SDPP_JSON_INT_MAX. Escaped strings must decode to valid
 * UTF-8 too (a lone \uD800 is refused).
 *
 * Errors: SDPP_E_BAD_JSON for everything except numbers, which give
 * SDPP_E_BAD_NUMBER. On success *out owns a tree the caller frees with
 * cJSON_Delete(). On failure *out is NULL. err (may be NULL) receives a short
 * reason with the byte offset, for logs and the `message` of an error reply.
 * A full grammar pass runs before cJSON, which on its own accepts a BOM,
 * overlongs, raw tabs in strings, leading zeros, -0 and trailing data. There
 * is no size cap here: the framer caps len. SDPP_E_NOMEM if cJSON runs out
 * of memory, SDPP_E_INVAL for a NULL out.
 */
enum sdpp_err sdpp_json_parse(
    cJSON **out, const char *buf, size_t len, char *err, size_t errlen) SDPP_WARN_UNUSED;

/*
 * Serialises a cJSON tree as RFC 8785 canonical JSON into a new
 * NUL-terminated buffer the caller frees with free(); *outlen excludes the
 * NUL. Members are sorted by UTF-16 code units, strings use the minimal JCS
 * escaping, numbers follow ECMAScript Number.prototype.toString (so the
 * published JCS vectors with fractions and exponents also pass); NaN and
 * infinities are SDPP_E_BAD_NUMBER. Output larger than cap bytes is
 * SDPP_E_FRAME_TOO_LARGE. Invalid UTF-8 inside a string, a duplicate member
 * name (no canonical form exists, so signing it would be ambiguous) or a
 * raw-JSON node is SDPP_E_BAD_JSON; NULL arguments SDPP_E_INVAL.
 */
enum sdpp_err sdpp_jcs_serialize(
    const cJSON *v, size_t cap, char **out, size_t *outlen) SDPP_WARN_UNUSED;

/* Same, for integer-only trees: refuses any number that is not an integer
 * within +-SDPP_JSON_INT_MAX with SDPP_E_BAD_NUMBER. Used for signing. */
enum sdpp_err sdpp_jcs_serialize_int(
    const cJSON *v, size_t cap, char **out, size_t *outlen) SDPP_WARN_UNUSED;

/*
 * RFC 8785 form of one string, quotes included, for writers that lay out
 * canonical JSON without a tree (the data frame and item writers in msg.c).
 * Writes to dst when it is not NULL; with dst NULL it only measures, so a
 * caller can size its buffer exactly, then write. Returns the length, or 0
 * if s[0..n) is not well-formed UTF-8 (jcs_serialize's SDPP_E_BAD_JSON).
 * The result is at most 6 * n + 2 bytes.
 */
size_t sdpp_jcs_quote(char *dst, const char *s, size_t n);

#endif
