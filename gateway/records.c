/* Records glue: session events become ledger records; one commit per loop turn completes them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "gateway/gateway.h"
#include "gateway/log.h"
#include "sdpp/enc.h"

int64_t
gw_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
schedule_commit(struct gw *gw)
{
	struct timeval tv;
	uint64_t ms = gw->cfg->ledger_commit_delay_ms;

	if (gw->commit_scheduled)
		return;
	gw->commit_scheduled = 1;
	/* Group commit: everything appended during this loop turn (and the
	 * optional delay) shares one transaction and one fsync. */
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	if (ms == 0)
		event_active(gw->commit_ev, EV_TIMEOUT, 0);
	else
		evtimer_add(gw->commit_ev, &tv);
}

int
gw_record(struct conn *c, struct ledger_record *r, uint64_t req)
{
	struct gw *gw = c->gw;
	char err[LEDGER_ERR_MAX];
	uint64_t id;

	if (ledger_append(gw->ledger, r, &id, err, sizeof(err)) != 0) {
		log_warnx("%llu event=record kind=%s error=\"%s\"", (unsigned long long)c->id,
		    ledger_kind_name(r->kind), err);
		ledger_record_clear(r);
		return -1;
	}
	ledger_record_clear(r);
	if (req != 0) {
		if (gw->nwaiters == gw->waiters_alloc) {
			size_t want = gw->waiters_alloc == 0 ? 64 : gw->waiters_alloc * 2;
			struct waiter *nw = realloc(gw->waiters, want * sizeof(*nw));

			if (nw == NULL)
				fatalx("out of memory");
			gw->waiters = nw;
			gw->waiters_alloc = want;
		}
		gw->waiters[gw->nwaiters++] = (struct waiter){ c, req, id };
		c->refs++;
	}
	schedule_commit(gw);
	return 0;
}

void
gw_record_receipts(struct conn *c)
{
	struct ledger_record r;
	const uint8_t *oid = sdpp_seller_order_id(c->s);
	size_t i;

	if (c->nacks == 0 || oid == NULL)
		return;
	if (ledger_record_receipts(&r, oid, sdpp_seller_buyer(c->s), c->acks, c->nacks,
		gw_now()) == 0)
		(void)gw_record(c, &r, 0);
	else
		log_warnx("%llu event=record kind=receipts error=\"cannot build\"",
		    (unsigned long long)c->id);
	for (i = 0; i < c->nacks; i++)
		ledger_ack_clear(&c->acks[i]);
	c->nacks = 0;
	/* Between invoices most buyers hold no ACK: give the memory back. */
	free(c->acks);
	c->acks = NULL;
}

void
gw_record_close(struct conn *c, const char *reason)
{
	struct ledger_record r;
	struct sdpp_progress p;
	const uint8_t *oid = sdpp_seller_order_id(c->s);

	/* A refused order (a replay, say) names an id this session does not
	 * own: a close under it would relabel someone else's order. */
	if (oid == NULL || !c->owns_order || c->recorded_close)
		return;
	c->recorded_close = 1;
	gw_record_receipts(c);
	sdpp_seller_progress(c->s, &p);
	if (ledger_record_close(&r, oid, sdpp_seller_buyer(c->s), sdpp_seller_product(c->s), &p,
		reason, gw_now()) == 0)
		(void)gw_record(c, &r, 0);
}

int
gw_order_seen(struct gw *gw, const uint8_t order_id[SDPP_ORDER_ID_BYTES])
{
	char hex[SDPP_HEX_LEN(SDPP_ORDER_ID_BYTES)];

	sdpp_hex_encode(hex, order_id, SDPP_ORDER_ID_BYTES);
	return ledger_has_order(gw->ledger, hex);
}

void
gw_commit_cb(evutil_socket_t fd, short what, void *arg)
{
	struct gw *gw = arg;
	struct waiter *w;
	char err[LEDGER_ERR_MAX], verif[LEDGER_ID_LEN];
	size_t n, i;
	int ok;

	(void)fd;
	(void)what;
	gw->commit_scheduled = 0;
	if (ledger_pending(gw->ledger) == 0 && gw->nwaiters == 0)
		return;
	n = ledger_pending(gw->ledger);
	ok = ledger_commit(gw->ledger, gw_now(), err, sizeof(err)) == 0;
	if (ok) {
		gw->stats.ledger_commits++;
		gw->stats.ledger_records += n;
		gw_iota_poll_soon(gw);
	} else {
		gw->stats.ledger_failures++;
		log_warnx("event=ledger_commit records=%zu error=\"%s\"", n, err);
	}
	/* Completing a request can append new records (and waiters): take
	 * this batch's waiters out first; new ones wait for the next commit. */
	w = gw->waiters;
	n = gw->nwaiters;
	gw->waiters = NULL;
	gw->nwaiters = gw->waiters_alloc = 0;
	for (i = 0; i < n; i++) {
		struct conn *c = w[i].c;

		if (!c->dead && !sdpp_seller_done(c->s)) {
			ledger_id_format(verif, w[i].record);
			(void)sdpp_seller_complete(
			    c->s, w[i].req, ok, verif, (uint64_t)gw_now(), c->out);
			gw_conn_process(c);
		}
		gw_conn_release(c);
	}
	free(w);
}
