/* The gateway's IOTA account: one client of the node, the key that signs, and where buyers pay. */
#ifndef GATEWAY_IOTA_H
#define GATEWAY_IOTA_H

#include <stdint.h>

#include <event2/event.h>

#include "gateway/config.h"
#include "iota/iota.h"
#include "sdpp/crypto.h"

struct gw_iota;
struct tangle;

/*
 * The account when [iota] is in use (payment_method = iota, or anchoring):
 * its key is [iota] key, or the seller's (borrowed, must outlive it).
 * *out stays NULL when IOTA is not configured. Returns 0, or -1 with err.
 */
int gw_iota_new(struct gw_iota **out, struct event_base *base, const struct gateway_config *cfg,
    const struct sdpp_identity *seller, char *err, size_t errlen)
    __attribute__((warn_unused_result));
/* Cancels the client's transactions still queued (their callbacks run). */
void gw_iota_free(struct gw_iota *gi);

struct tangle *gw_iota_tangle(struct gw_iota *gi);
enum iota_network gw_iota_network(const struct gw_iota *gi);
/* Where buyers pay: payment_address, or the account's own address. */
const uint8_t *gw_iota_pay_to(const struct gw_iota *gi);
/* The same as text (0x + 64 hex); "" when gi is NULL. */
void gw_iota_pay_to_text(const struct gw_iota *gi, char out[IOTA_ADDRESS_TEXT_LEN]);

/* The IOTA account of an Ed25519 key (0, or -1). */
int gw_iota_account_of(const uint8_t key[SDPP_SIGN_PUBLIC_BYTES], uint8_t addr[IOTA_ADDRESS_BYTES]);
/* 1 if address is the IOTA account of key: a buyer pays from its own
 * account, so that nobody can claim somebody else's transfer. */
int gw_iota_is_account_of(const uint8_t key[SDPP_SIGN_PUBLIC_BYTES], const char *address);

#endif
