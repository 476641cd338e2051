/* Internal to sdpp/: what the reference codec (msg.c) and its fast paths (msg_fast.c) share. */
#ifndef SDPP_MSG_INT_H
#define SDPP_MSG_INT_H

#include "sdpp/framer.h"

/* Largest canonical body we build or re-serialise for a signature. Both
 * encoders refuse the same sizes with the same error, so they share it. */
#define MSG_SERIAL_CAP (SDPP_FRAME_CAP_MAX + 1024)

#endif
