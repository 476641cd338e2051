/* The daemon's key files: the seller identity, and the IOTA account's own key if it has one. */
#ifndef GATEWAY_KEYS_H
#define GATEWAY_KEYS_H

#include "sdpp/crypto.h"

/*
 * Loads the key at path, creating it (0600, with a .pub beside it) if it is
 * missing, so that a fresh install works without a keygen step. role names
 * it in messages and logs ("seller", "iota"). check_only: report what is
 * there (on stdout, for -t) and create nothing; *id may then stay NULL.
 * Returns 0 with *id set (the caller frees it), or -1 after saying why.
 */
int gw_key_load(const char *path, const char *role, int check_only, struct sdpp_identity **id)
    __attribute__((warn_unused_result));

#endif
