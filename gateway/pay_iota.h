/* The `iota` payment backend: a buyer's transfer counts once the gateway finds it on chain. */
#ifndef GATEWAY_PAY_IOTA_H
#define GATEWAY_PAY_IOTA_H

#include <stdint.h>

#include <event2/event.h>

#include "gateway/iota.h"
#include "gateway/payment.h"
#include "ledger/ledger.h"

struct pay_iota;

/* Checks transfers to gi's address (borrowed), each for at most
 * confirm_timeout_ms; the ledger (borrowed) knows which digests already
 * paid. NULL if out of memory. */
struct pay_iota *pay_iota_new(
    struct event_base *base, struct gw_iota *gi, struct ledger *l, uint64_t confirm_timeout_ms);
/* Abandons the checks under way: their requests get done(-1). */
void pay_iota_free(struct pay_iota *p);
void pay_iota_set_timeout(struct pay_iota *p, uint64_t confirm_timeout_ms);
/* Fills b with this backend. */
void pay_iota_backend(struct pay_iota *p, struct payment_backend *b);

#endif
