/* Payment backends: how the daemon confirms the money behind a payment_ack, on the loop. */
#ifndef GATEWAY_PAYMENT_H
#define GATEWAY_PAYMENT_H

#include <stdint.h>

#include <event2/event.h>

#include "sdpp/msg.h"

/*
 * The session has already checked the buyer's signature and the amount; a
 * backend confirms the money (a voucher needs nothing more, a chain
 * transfer must be found on chain) and calls done() on a later loop turn,
 * never inside confirm().
 * ok: 1 confirmed, 0 refused (ref says why), -1 abandoned at shutdown (no
 * answer to the session: just release what the request holds). ref is the
 * payment's reference when confirmed.
 */
typedef void (*payment_done_fn)(void *arg, int ok, const char *ref);

/* What a backend knows about the payment (all borrowed until done()). */
struct payment_check {
	const struct sdpp_msg *payment; /* verified payment_ack */
	const uint8_t *buyer;           /* the buyer's signing key */
	const char *buyer_address;      /* the order's payment_address ("" if none) */
	uint64_t paid_before;           /* total confirmed before this payment */
	uint64_t conn;                  /* session id, for logs */
};

struct payment_backend {
	const char *name; /* recorded with each payment: "voucher", "iota" */
	void *ctx;
	/* 0, or -1 if it could not even start (done is then never called). */
	int (*confirm)(void *ctx, const struct payment_check *pc, payment_done_fn done, void *arg);
};

/* The embedded default: the buyer-signed voucher is the payment. */
void payment_voucher_init(struct payment_backend *b, struct event_base *base);

#endif
