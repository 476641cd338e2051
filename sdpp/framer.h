/* Line framer: splits a byte stream into newline-terminated frames with a hard size cap. */
#ifndef SDPP_FRAMER_H
#define SDPP_FRAMER_H

#include <stddef.h>

#include "err.h"

/* Frame caps of docs/PROTOCOL.md: before an order is accepted, and after. */
#define SDPP_FRAME_CAP_HANDSHAKE (16u * 1024)
#define SDPP_FRAME_CAP_SESSION (1024u * 1024)
/* Hard ceiling for any configured cap. */
#define SDPP_FRAME_CAP_MAX (16u * 1024 * 1024)

/*
 * A framer owns a buffer that grows on demand up to cap + 1 bytes (a frame
 * of cap bytes plus its '\n'), so an idle connection holds almost nothing.
 * Create with sdpp_framer_new(), free with sdpp_framer_free() (NULL-safe).
 */
struct sdpp_framer;

struct sdpp_framer *sdpp_framer_new(size_t cap);
void sdpp_framer_free(struct sdpp_framer *f);

/* Changes the cap (e.g. raised once an order is accepted); 1..SDPP_FRAME_CAP_MAX. */
enum sdpp_err sdpp_framer_set_cap(struct sdpp_framer *f, size_t cap) SDPP_WARN_UNUSED;

/*
 * Copies as many of len bytes as fit and returns how many were taken; the
 * caller drains frames with sdpp_framer_next() and feeds the rest again.
 * Returns 0 when full or when memory is short (*err set to SDPP_E_NOMEM).
 * Full means: the frames buffered so far come out of next() first; if the
 * buffer then holds one unfinished frame, next() reports
 * SDPP_E_FRAME_TOO_LARGE.
 */
size_t sdpp_framer_feed(struct sdpp_framer *f, const void *data, size_t len, enum sdpp_err *err);

/*
 * Returns the next complete frame without its '\n' in *frame and *len (valid
 * until the next call on f). Empty lines, and lines of just "\r", are skipped
 * (keepalives, CRLF ones too).
 * SDPP_E_AGAIN: no complete frame yet. SDPP_E_FRAME_TOO_LARGE: the current
 * frame exceeds the cap; the framer stays in that state (close the peer).
 */
enum sdpp_err sdpp_framer_next(
    struct sdpp_framer *f, const char **frame, size_t *len) SDPP_WARN_UNUSED;

/* Bytes buffered but not yet returned as frames. */
size_t sdpp_framer_pending(const struct sdpp_framer *f);

/* Frees the buffer if no bytes are pending, so an idle connection holds
 * none; the next feed allocates again. Frames returned before are invalid
 * afterwards. */
void sdpp_framer_trim(struct sdpp_framer *f);

#endif
