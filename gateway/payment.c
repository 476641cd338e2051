/* The embedded payment channel: buyer-signed cumulative vouchers (a one-way payment channel). */
#include <stdlib.h>

#include "gateway/payment.h"

struct voucher_done {
	payment_done_fn done;
	void *arg;
};

static void
voucher_fire(evutil_socket_t fd, short what, void *arg)
{
	struct voucher_done *v = arg;

	(void)fd;
	(void)what;
	v->done(v->arg, 1, "voucher");
	free(v);
}

/*
 * A voucher is the signed payment_ack itself: the session has verified the
 * buyer's signature, the order and that the total covers what is due, and
 * the gateway queues its record as it resumes delivery. Settling vouchers into
 * money happens outside SDPP (the latest voucher per order is what the
 * seller claims). Completion is still deferred to the next loop turn, so
 * the session code never sees a difference from a slow chain backend.
 */
static int
voucher_confirm(void *ctx, const struct payment_check *pc, payment_done_fn done, void *arg)
{
	struct event_base *base = ctx;
	struct voucher_done *v = malloc(sizeof(*v));
	struct timeval now = { 0, 0 };

	(void)pc;
	if (v == NULL)
		return -1;
	v->done = done;
	v->arg = arg;
	if (event_base_once(base, -1, EV_TIMEOUT, voucher_fire, v, &now) != 0) {
		free(v);
		return -1;
	}
	return 0;
}

void
payment_voucher_init(struct payment_backend *b, struct event_base *base)
{
	b->name = "voucher";
	b->ctx = base;
	b->confirm = voucher_confirm;
}
