/* A buyer's receipt: the signed sdpp/2 closing statement and its tree head, as a witness. */
#ifndef SDPP_RECEIPT_H
#define SDPP_RECEIPT_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "msg.h"

#define SDPP_RECEIPT_VERSION "sdpp-receipt/1"
/* Largest receipt accepted: the statement frame (under 1 KiB) and its fields. */
#define SDPP_RECEIPT_MAX 8192

/*
 * A receipt is one line of RFC 8785 JSON:
 *   {"frame": the statement frame exactly as received (without its '\n'),
 *    "order_id", "record" (the statement's `verification`, e.g. "ledger:7"),
 *    "seller": hex of the seller key, "statement": {acked, delivered, settled,
 *    total_due, total_paid}, "tree_head": {root, signature, size, time},
 *    "version": "sdpp-receipt/1"}
 * Everything but seller and frame is a readable copy of the signed frame;
 * a reader recomputes the receipt from those two and requires the same
 * bytes, so an edited copy is refused, never believed.
 */
struct sdpp_receipt {
	uint8_t seller[SDPP_SIGN_PUBLIC_BYTES];
	struct sdpp_statement statement; /* version 2, with its tree head */
	char record[SDPP_VERIFICATION_MAX + 1];
};

/*
 * Builds the receipt of the statement frame (len bytes, no '\n') that the
 * seller with key `seller' sent: the frame must parse as a seller's exit,
 * carry the seller's signature and a tree head it signed (an sdpp/2
 * statement). *out is malloc'd (free()), NUL-terminated, with no newline.
 */
enum sdpp_err sdpp_receipt_encode(const uint8_t seller[SDPP_SIGN_PUBLIC_BYTES], const char *frame,
    size_t len, char **out, size_t *outlen, char *err, size_t errlen) SDPP_WARN_UNUSED;

/*
 * Reads a receipt (untrusted: a file someone hands over), len bytes with
 * at most one trailing '\n': strict JSON, the statement frame verified with
 * the receipt's seller key, and every copy equal to the signed frame. On
 * error *r is zeroed and err says why.
 */
enum sdpp_err sdpp_receipt_parse(
    struct sdpp_receipt *r, const char *buf, size_t len, char *err, size_t errlen) SDPP_WARN_UNUSED;

#endif
