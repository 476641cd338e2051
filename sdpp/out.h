/* Internal to sdpp/: appending frames and events to a struct sdpp_out. */
#ifndef SDPP_OUT_H
#define SDPP_OUT_H

#include "session.h"

/* sdpp_out_add_*: a static library exports every non-static name, so these
 * carry the library's prefix although only buyer.c and seller.c call them. */

/* Encodes msg (signed by signer unless NULL) and appends the frame. */
enum sdpp_err sdpp_out_add_msg(struct sdpp_out *o, const struct sdpp_msg *msg,
    const struct sdpp_identity *signer) SDPP_WARN_UNUSED;
/* Appends raw frame bytes (already ending in '\n'). */
enum sdpp_err sdpp_out_add_bytes(struct sdpp_out *o, const char *buf, size_t len) SDPP_WARN_UNUSED;
/* Appends an event; NULL when the event cap or memory is exhausted. */
struct sdpp_event *sdpp_out_add_event(struct sdpp_out *o, enum sdpp_event_type type);
/* Appends an `error` frame (code from why, text message). */
enum sdpp_err sdpp_out_add_error(struct sdpp_out *o, enum sdpp_err why, const char *message,
    const struct sdpp_identity *signer, enum sdpp_role from);

/* Appends SDPP_EV_CLOSE with why (SDPP_OK for a clean end). */
void sdpp_out_add_close(struct sdpp_out *o, enum sdpp_err why);
/* The peer sent `error` (msg): SDPP_EV_PEER_ERROR, then SDPP_EV_CLOSE. */
void sdpp_out_add_peer_error(struct sdpp_out *o, const struct sdpp_msg *msg);

#endif
