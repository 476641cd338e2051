/* The deterministic identities of PROTOCOL.md Appendix A, built through the key file text. */
#ifndef TESTS_SPEC_IDENTITY_H
#define TESTS_SPEC_IDENTITY_H

#include <stdint.h>

#include "sdpp/crypto.h"

/* The X25519 scalar of each identity starts this far above its Ed25519 seed. */
#define SPEC_X25519_OFFSET 0x40

/*
 * The identity whose Ed25519 seed is the bytes start, start+1, ... (32) and
 * whose X25519 scalar starts at start + SPEC_X25519_OFFSET (0x10: the
 * appendix's seller, 0x90: its buyer), read from the PKCS#8 key file text
 * as section 7.3 writes it. Fails the running test on error; the caller
 * frees it.
 */
struct sdpp_identity *spec_identity(uint8_t start);

#endif
