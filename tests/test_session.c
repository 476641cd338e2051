/* Seller and buyer state machines driven against each other in memory, and against forged input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sdpp/enc.h"
#include "sdpp/framer.h"
#include "sdpp/session.h"
#include "tests/common/conv.h"

/* The issue's scenario: 10 items, K = 4, invoices after 4 and 8, rest at exit. */
static void
test_full_conversation(void **state)
{
	struct conv c;
	struct sdpp_progress p;
	int i;

	(void)state;
	conv_setup(&c, 4, 1, 3);
	conv_start(&c);
	conv_order(&c, "co2", 10);
	assert_int_equal(c.orders, 1);
	assert_int_equal(c.started, 1);
	assert_true(sdpp_seller_streaming(c.s));
	assert_memory_equal(
	    sdpp_seller_order_id(c.s), sdpp_buyer_order_id(c.b), SDPP_ORDER_ID_BYTES);
	for (i = 1; i <= 12; i++) /* two more than ordered: ignored */
		conv_sample(&c, i);
	assert_int_equal(c.items, 10);
	for (i = 0; i < 10; i++) {
		char want[32];

		snprintf(want, sizeof(want), "{\"v\":%d}", 401 + i);
		assert_true(c.item_seq[i] == (uint64_t)i + 1);
		assert_string_equal(c.item_payload[i], want);
	}
	assert_int_equal(c.invoices, 2);
	assert_true(c.invoice_first[0] == 1 && c.invoice_last[0] == 4 && c.invoice_total[0] == 12);
	assert_true(c.invoice_first[1] == 5 && c.invoice_last[1] == 8 && c.invoice_total[1] == 24);
	assert_int_equal(c.payments, 2);
	assert_int_equal(c.receipts, 10);
	assert_int_equal(c.exits, 1);
	assert_int_equal(c.statements, 1);
	assert_true(c.statement.delivered == 10);
	assert_true(c.statement.total_due == 30);
	assert_true(c.statement.total_paid == 30);
	assert_int_equal(c.statement.settled, 1);
	assert_int_equal(c.seller_closed, 1);
	assert_int_equal(c.seller_close_err, SDPP_OK);
	assert_int_equal(c.buyer_closed, 1);
	assert_int_equal(c.buyer_close_err, SDPP_OK);
	sdpp_seller_progress(c.s, &p);
	assert_true(p.sent == 10 && p.acked == 10 && p.invoiced == 8 && p.total_paid == 30);
	assert_int_equal(c.paused, 0);
	conv_teardown(&c);
}

/* Cumulative ACKs and per-item signatures: fewer receipts, same account. */
static void
test_cumulative_acks_signed_items(void **state)
{
	struct conv c;
	int i;

	(void)state;
	conv_setup(&c, 5, 5, 2);
	c.menu.sign_items = 1;
	conv_start(&c);
	conv_order(&c, "co2", 12);
	for (i = 1; i <= 12; i++)
		conv_sample(&c, i);
	assert_int_equal(c.items, 12);
	/* ACKs at 5, 10 and the last item. */
	assert_int_equal(c.receipts, 3);
	assert_int_equal(c.invoices, 2);
	assert_true(c.statement.total_due == 24 && c.statement.settled);
	conv_teardown(&c);
}

/* Open-ended order: runs until the buyer exits; then pays for what it got. */
static void
test_open_ended_exit(void **state)
{
	struct conv c;
	int i;

	(void)state;
	conv_setup(&c, 3, 1, 7);
	conv_start(&c);
	conv_order(&c, "co2", 0);
	for (i = 1; i <= 7; i++)
		conv_sample(&c, i);
	assert_int_equal(c.items, 7);
	assert_int_equal(c.invoices, 2);
	assert_int_equal(sdpp_buyer_exit(c.b, c.now, &c.bo), SDPP_OK);
	buyer_drain(&c);
	pump(&c);
	assert_int_equal(c.statements, 1);
	assert_true(c.statement.delivered == 7 && c.statement.total_due == 49);
	assert_true(c.statement.total_paid == 49 && c.statement.settled);
	assert_int_equal(c.seller_close_err, SDPP_OK);
	conv_teardown(&c);
}

/* Prepay: each block is invoiced and paid before its items flow. */
static void
test_prepay(void **state)
{
	struct conv c;
	int i;

	(void)state;
	conv_setup(&c, 4, 1, 3);
	conv_start(&c);
	c.hold_payments = 1;
	conv_order(&c, "occupancy", 6);
	assert_int_equal(c.invoices, 1); /* before any item */
	assert_true(c.invoice_first[0] == 1 && c.invoice_last[0] == 4 && c.invoice_total[0] == 20);
	assert_int_equal(c.paused, 1);
	conv_sample(&c, 1);
	assert_int_equal(c.items, 0); /* held until paid */
	c.hold_payments = 0;
	assert_int_equal(sdpp_buyer_complete(c.b, c.held_pay_req, 1, "", c.now, &c.bo), SDPP_OK);
	buyer_drain(&c);
	pump(&c);
	assert_int_equal(c.items, 1); /* the queued sample */
	for (i = 2; i <= 8; i++)
		conv_sample(&c, i);
	assert_int_equal(c.items, 6);
	assert_int_equal(c.invoices, 2);
	assert_true(c.invoice_first[1] == 5 && c.invoice_last[1] == 6 && c.invoice_total[1] == 30);
	assert_true(c.statement.total_due == 30 && c.statement.total_paid == 30);
	conv_teardown(&c);
}

/* An unpaid buyer is paused after max_unpaid items, then closed on timeout. */
static void
test_unpaid_pause_and_timeout(void **state)
{
	struct conv c;
	int i;

	(void)state;
	conv_setup(&c, 2, 1, 1);
	c.menu.max_unpaid = 4;
	c.scfg.queue_max = 3;
	c.scfg.payment_timeout_ms = 1000;
	conv_start(&c);
	c.hold_payments = 1;
	conv_order(&c, "co2", 0);
	for (i = 1; i <= 9; i++)
		conv_sample(&c, i);
	assert_int_equal(c.items, 4);
	assert_int_equal(c.paused, 1);
	assert_int_equal(c.dropped, 2); /* 5 held, queue of 3 */
	assert_true(sdpp_seller_deadline(c.s) == c.now + 1000);
	c.now += 999;
	assert_int_equal(sdpp_seller_tick(c.s, c.now, &c.so), SDPP_OK);
	seller_drain(&c);
	assert_int_equal(c.seller_closed, 0);
	c.now += 1;
	assert_int_equal(sdpp_seller_tick(c.s, c.now, &c.so), SDPP_E_PAYMENT_TIMEOUT);
	seller_drain(&c);
	pump(&c);
	assert_int_equal(c.seller_closed, 1);
	assert_string_equal(c.buyer_got_error, "payment_timeout");
	assert_int_equal(c.buyer_close_err, SDPP_E_REMOTE);
	conv_teardown(&c);
}

/* Paying unblocks a paused buyer and the freshest queued samples flow. */
static void
test_pause_resume(void **state)
{
	struct conv c;
	int i;

	(void)state;
	conv_setup(&c, 2, 1, 1);
	c.menu.max_unpaid = 2;
	conv_start(&c);
	c.hold_payments = 1;
	conv_order(&c, "co2", 0);
	for (i = 1; i <= 4; i++)
		conv_sample(&c, i);
	assert_int_equal(c.items, 2);
	assert_int_equal(c.paused, 1);
	c.hold_payments = 0;
	assert_int_equal(sdpp_buyer_complete(c.b, c.held_pay_req, 1, "", c.now, &c.bo), SDPP_OK);
	buyer_drain(&c);
	pump(&c);
	/* Paid -> resumed, items 3 and 4 -> invoice 2 -> paused, paid -> resumed. */
	assert_int_equal(c.paused, 2);
	assert_int_equal(c.resumed, 2);
	assert_int_equal(c.items, 4);
	conv_teardown(&c);
}

/* Without ACKs the seller resends (the very bytes first sent, made again
 * from what it kept: unsigned, signed, signed first by the host), then
 * gives up. */
static void
test_ack_timeout_resend(void **state)
{
	struct conv c;
	struct sdpp_progress p;
	char frame[MAXF];
	size_t len;
	int variant;

	(void)state;
	for (variant = 0; variant < 3; variant++) {
		conv_setup(&c, 4, 1, 1);
		c.scfg.ack_timeout_ms = 100;
		c.scfg.max_resends = 2;
		c.menu.sign_items = variant > 0;
		c.scfg.defer_item_signatures = variant == 2;
		conv_start(&c);
		conv_order(&c, "co2", 0);
		/* Send a sample, but lose the buyer's ACK. */
		(void)sdpp_seller_sample(c.s, "t", (const uint8_t *)"x", 1, 1, c.now, &c.so);
		seller_drain(&c);
		assert_true(pipe_next(&c.s2b, frame, sizeof(frame), &len));
		assert_int_equal(sdpp_buyer_input(c.b, frame, len, c.now, &c.bo), SDPP_OK);
		sdpp_out_clear(&c.bo); /* ACK lost */
		c.now += 100;
		assert_int_equal(sdpp_seller_tick(c.s, c.now, &c.so), SDPP_OK);
		assert_int_equal(c.so.len, len + 1);
		assert_memory_equal(c.so.buf, frame, len);
		assert_int_equal(c.so.nev, 0); /* a resend is never left to the host */
		seller_drain(&c);
		pump(&c); /* the resend reaches the buyer, which ACKs again */
		sdpp_seller_progress(c.s, &p);
		assert_true(p.resent == 1 && p.acked == 1);
		sdpp_buyer_progress(c.b, &p);
		assert_true(p.duplicates == 1 && p.sent == 1);
		assert_int_equal(
		    c.items, 0); /* the first copy bypassed buyer_drain(); no second delivery */
		/* Now lose everything: two resends, then ack_timeout. */
		(void)sdpp_seller_sample(c.s, "t", (const uint8_t *)"y", 1, 2, c.now, &c.so);
		sdpp_out_clear(&c.so);
		c.now += 100;
		assert_int_equal(sdpp_seller_tick(c.s, c.now, &c.so), SDPP_OK);
		sdpp_out_clear(&c.so);
		c.now += 100;
		assert_int_equal(sdpp_seller_tick(c.s, c.now, &c.so), SDPP_OK);
		sdpp_out_clear(&c.so);
		c.now += 100;
		assert_int_equal(sdpp_seller_tick(c.s, c.now, &c.so), SDPP_E_ACK_TIMEOUT);
		assert_true(sdpp_seller_done(c.s));
		conv_teardown(&c);
	}
}

static void
test_handshake_timeout(void **state)
{
	struct conv c;

	(void)state;
	conv_setup(&c, 4, 1, 1);
	c.scfg.handshake_timeout_ms = 500;
	assert_int_equal(sdpp_seller_new(&c.s, &c.scfg, c.now), SDPP_OK);
	assert_int_equal(sdpp_buyer_new(&c.b, &c.bcfg, c.now), SDPP_OK);
	assert_true(sdpp_seller_deadline(c.s) == c.now + 500);
	assert_int_equal(sdpp_seller_tick(c.s, c.now + 499, &c.so), SDPP_OK);
	assert_int_equal(sdpp_seller_tick(c.s, c.now + 500, &c.so), SDPP_E_HANDSHAKE_TIMEOUT);
	assert_non_null(strstr(c.so.buf, "\"handshake_timeout\""));
	conv_teardown(&c);
}

/* Shutdown invoices delivered-but-unbilled items before closing. */
static void
test_shutdown_final_invoice(void **state)
{
	struct conv c;
	int i;

	(void)state;
	conv_setup(&c, 4, 1, 2);
	conv_start(&c);
	conv_order(&c, "co2", 0);
	for (i = 1; i <= 6; i++)
		conv_sample(&c, i);
	assert_int_equal(c.invoices, 1);
	assert_int_equal(sdpp_seller_shutdown(c.s, c.now, &c.so), SDPP_OK);
	seller_drain(&c);
	pump(&c);
	assert_int_equal(c.invoices, 2);
	assert_true(c.invoice_first[1] == 5 && c.invoice_last[1] == 6 && c.invoice_total[1] == 12);
	assert_int_equal(c.seller_close_err, SDPP_E_SHUTDOWN);
	assert_string_equal(c.buyer_got_error, "shutting_down");
	conv_teardown(&c);
}

/* Six items at K = 4 and a grace of 300 ms, then the gateway stops: the
 * final invoice (items 5..6) goes out and the buyer, holding its payments,
 * has not paid it yet. */
static void
shutdown_owing(struct conv *c)
{
	int i;

	conv_setup(c, 4, 1, 2);
	c->scfg.shutdown_grace_ms = 300;
	conv_start(c);
	conv_order(c, "co2", 0);
	for (i = 1; i <= 6; i++)
		conv_sample(c, i);
	c->hold_payments = 1;
	assert_int_equal(sdpp_seller_shutdown(c->s, c->now, &c->so), SDPP_OK);
	seller_drain(c);
	pump(c);
	assert_int_equal(c->invoices, 2);
}

/* Shutting down: a buyer that does not pay the final invoice gets a grace
 * period, then shutting_down. */
static void
test_shutdown_grace(void **state)
{
	struct conv c;

	(void)state;
	shutdown_owing(&c);
	assert_int_equal(c.seller_closed, 0); /* waiting for the voucher */
	assert_true(sdpp_seller_deadline(c.s) == c.now + 300);
	/* Samples during shutdown are not sent. */
	conv_sample(&c, 7);
	assert_int_equal(c.items, 6);
	c.now += 300;
	assert_int_equal(sdpp_seller_tick(c.s, c.now, &c.so), SDPP_E_SHUTDOWN);
	seller_drain(&c);
	pump(&c);
	assert_string_equal(c.buyer_got_error, "shutting_down");
	conv_teardown(&c);
}

/* Shutting down: the grace bounds when the final payment may arrive, not
 * its confirmation; a payment still being confirmed is waited for and
 * credited (PROTOCOL 10.2.9). */
static void
test_shutdown_grace_waits_for_confirmation(void **state)
{
	struct conv c;
	struct sdpp_progress pr;

	(void)state;
	shutdown_owing(&c);
	/* The buyer pays the final invoice within the grace; the seller's
	 * backend is still confirming it when the grace ends. */
	c.hold_payments = 0;
	c.hold_confirm = 1;
	c.now += 100;
	assert_int_equal(sdpp_buyer_complete(c.b, c.held_pay_req, 1, "", c.now, &c.bo), SDPP_OK);
	buyer_drain(&c);
	pump(&c);
	assert_int_not_equal(c.held_confirm_req, 0);
	assert_true(sdpp_seller_deadline(c.s) > c.now + 200);
	c.now += 200;
	assert_int_equal(sdpp_seller_tick(c.s, c.now, &c.so), SDPP_OK);
	seller_drain(&c);
	assert_int_equal(c.seller_closed, 0);
	/* Confirmed late: credited, then shutting_down. */
	c.now += 1000;
	assert_int_equal(
	    sdpp_seller_complete(c.s, c.held_confirm_req, 1, "", c.now, &c.so), SDPP_E_SHUTDOWN);
	sdpp_seller_progress(c.s, &pr);
	assert_true(pr.total_paid == 12 && pr.total_due == 12);
	seller_drain(&c);
	pump(&c);
	assert_int_equal(c.seller_close_err, SDPP_E_SHUTDOWN);
	conv_teardown(&c);
}

/* A slow ledger delays the invoice; the payment clock starts when it is sent. */
static void
test_payment_clock_waits_for_invoice(void **state)
{
	struct conv c;
	int i;

	(void)state;
	conv_setup(&c, 2, 1, 1);
	c.menu.max_unpaid = 2;
	c.scfg.payment_timeout_ms = 1000;
	conv_start(&c);
	conv_order(&c, "co2", 0);
	c.hold_invoices = 1;
	c.hold_payments = 1;
	for (i = 1; i <= 3; i++)
		conv_sample(&c, i);
	assert_int_equal(c.items, 2);
	assert_int_equal(c.paused, 1);
	assert_true(sdpp_seller_deadline(c.s) == UINT64_MAX); /* invoice not sent yet */
	c.now += 5000;
	assert_int_equal(sdpp_seller_tick(c.s, c.now, &c.so), SDPP_OK);
	c.hold_invoices = 0;
	assert_int_equal(
	    sdpp_seller_complete(c.s, c.held_invoice_req, 1, "rec-9", c.now, &c.so), SDPP_OK);
	seller_drain(&c);
	pump(&c);
	assert_int_equal(c.invoices, 1);
	assert_true(sdpp_seller_deadline(c.s) == c.now + 1000);
	c.now += 999;
	assert_int_equal(sdpp_seller_tick(c.s, c.now, &c.so), SDPP_OK);
	c.now += 1;
	assert_int_equal(sdpp_seller_tick(c.s, c.now, &c.so), SDPP_E_PAYMENT_TIMEOUT);
	conv_teardown(&c);
}

/* A voucher beyond what is due (paying ahead) never pauses the buyer. */
static void
test_overpaid_not_blocked(void **state)
{
	struct conv c;
	struct sdpp_msg m;
	char *f;
	size_t len;
	int i;

	(void)state;
	conv_setup(&c, 2, 1, 5);
	c.menu.max_unpaid = 2;
	conv_start(&c);
	c.hold_payments = 1;
	conv_order(&c, "co2", 0);
	conv_sample(&c, 1);
	conv_sample(&c, 2);
	assert_int_equal(c.invoices, 1);
	memset(&m, 0, sizeof(m));
	m.type = SDPP_T_PAYMENT_ACK;
	m.from = SDPP_ROLE_BUYER;
	memcpy(m.u.payment.order_id, sdpp_buyer_order_id(c.b), 32);
	m.u.payment.invoice = 1;
	m.u.payment.total = 1000;
	assert_int_equal(sdpp_msg_encode(&m, c.bid, &f, &len), SDPP_OK);
	assert_int_equal(sdpp_seller_input(c.s, f, len - 1, c.now, &c.so), SDPP_OK);
	free(f);
	seller_drain(&c);
	pump(&c);
	for (i = 3; i <= 10; i++)
		conv_sample(&c, i);
	assert_int_equal(c.items, 10);
	conv_teardown(&c);
}

/* An order of whole blocks: every invoice is paid by its own payment_ack,
 * the buyer exits after paying the last; if that invoice never comes, the
 * exit's voucher settles after the response timeout. */
static void
test_exit_waits_for_last_invoice(void **state)
{
	struct conv c;
	int i;

	(void)state;
	conv_setup(&c, 4, 1, 3);
	conv_start(&c);
	conv_order(&c, "co2", 8);
	for (i = 1; i <= 8; i++)
		conv_sample(&c, i);
	assert_int_equal(c.invoices, 2);
	assert_int_equal(c.payments, 2);
	assert_true(c.statement.total_due == 24 && c.statement.total_paid == 24);
	conv_teardown(&c);

	conv_setup(&c, 4, 1, 3);
	c.bcfg.response_timeout_ms = 700;
	conv_start(&c);
	conv_order(&c, "co2", 8);
	for (i = 1; i <= 7; i++)
		conv_sample(&c, i);
	c.hold_invoices = 1; /* the ledger stalls on the last invoice */
	conv_sample(&c, 8);
	assert_int_equal(c.items, 8);
	assert_int_equal(c.exits, 0);
	assert_true(sdpp_buyer_deadline(c.b) == c.now + 700);
	c.now += 700;
	assert_int_equal(sdpp_buyer_tick(c.b, c.now, &c.bo), SDPP_OK);
	buyer_drain(&c);
	pump(&c);
	assert_int_equal(c.exits, 1);
	assert_true(c.statement.total_due == 24 && c.statement.total_paid == 24);
	conv_teardown(&c);
}

/* A slow ledger: every built invoice is sent to be recorded at once, and
 * they go out in order however the records complete. */
static void
test_invoices_recorded_together(void **state)
{
	struct conv c;
	int i;

	(void)state;
	conv_setup(&c, 2, 1, 1);
	c.menu.max_unpaid = 6;
	conv_start(&c);
	conv_order(&c, "co2", 0);
	c.hold_invoices = 1;
	for (i = 1; i <= 4; i++)
		conv_sample(&c, i);
	assert_int_equal(c.items, 4);
	assert_int_equal(c.nheld_invoices, 2); /* both requested, none recorded */
	assert_int_equal(c.invoices, 0);
	/* The second record completes first: nothing may be sent yet. */
	assert_int_equal(
	    sdpp_seller_complete(c.s, c.held_invoices[1], 1, "rec-2", c.now, &c.so), SDPP_OK);
	seller_drain(&c);
	pump(&c);
	assert_int_equal(c.invoices, 0);
	assert_int_equal(
	    sdpp_seller_complete(c.s, c.held_invoices[0], 1, "rec-1", c.now, &c.so), SDPP_OK);
	seller_drain(&c);
	pump(&c);
	assert_int_equal(c.invoices, 2);
	assert_true(c.invoice_first[0] == 1 && c.invoice_last[0] == 2);
	assert_true(c.invoice_first[1] == 3 && c.invoice_last[1] == 4);
	/* A request completed twice is not an invoice any more. */
	assert_int_equal(
	    sdpp_seller_complete(c.s, c.held_invoices[0], 1, "again", c.now, &c.so), SDPP_E_INVAL);
	conv_teardown(&c);
}

/* ---- forged and malformed input: every case expects an exact error code. */

/* Encodes a buyer message signed by id. */
static char *
forge(const struct sdpp_msg *m, const struct sdpp_identity *id, size_t *len)
{
	char *frame = NULL;

	assert_int_equal(sdpp_msg_encode(m, id, &frame, len), SDPP_OK);
	(*len)--; /* without '\n' */
	return frame;
}

/*
 * How seller_answer() hands a frame over: as sdpp_seller_input(), or checked
 * by the host first as the gateway's workers do (sdpp_seller_input_checked()
 * with the host's own verdict), or claimed checked whatever it is (a host
 * cannot vouch for an order: its key is the order's own).
 */
static enum { VIA_INPUT, VIA_HOST_CHECK, VIA_CLAIMED } via;

/* Feeds one frame to the seller and returns the error code it answered. */
static const char *
seller_answer(struct conv *c, const char *frame, size_t len, enum sdpp_err want)
{
	static char code[64];
	const struct sdpp_verifier *v = sdpp_seller_verifier(c->s);
	struct sdpp_msg m;
	char *p, *q;
	int ok = 1;

	if (via == VIA_INPUT) {
		assert_int_equal(sdpp_seller_input(c->s, frame, len, c->now, &c->so), want);
	} else {
		if (via == VIA_HOST_CHECK) {
			memset(&m, 0, sizeof(m));
			ok = v != NULL &&
			     sdpp_msg_parse(&m, frame, len, SDPP_ROLE_BUYER, NULL, 0) == SDPP_OK &&
			     sdpp_msg_verify(&m, v) == SDPP_OK;
			sdpp_msg_free(&m);
		}
		assert_int_equal(
		    sdpp_seller_input_checked(c->s, frame, len, ok, c->now, &c->so), want);
	}
	assert_true(sdpp_seller_done(c->s));
	assert_true(c->so.len > 0);
	p = strstr(c->so.buf, "\"code\":\"");
	assert_non_null(p);
	p += 8;
	q = strchr(p, '"');
	snprintf(code, sizeof(code), "%.*s", (int)(q - p), p);
	return code;
}

static void
test_seller_illegal_transitions(void **state)
{
	/* In the hello state: everything but hello (and error) is refused. */
	static const enum sdpp_type early[] = {
		SDPP_T_ORDER,
		SDPP_T_ACK,
		SDPP_T_PAYMENT_ACK,
		SDPP_T_EXIT,
	};
	struct conv c;
	struct sdpp_msg m;
	char *f;
	size_t len, i;

	(void)state;
	for (i = 0; i < sizeof(early) / sizeof(early[0]); i++) {
		conv_setup(&c, 4, 1, 1);
		assert_int_equal(sdpp_seller_new(&c.s, &c.scfg, c.now), SDPP_OK);
		memset(&m, 0, sizeof(m));
		m.type = early[i];
		m.from = SDPP_ROLE_BUYER;
		m.u.ack.seq = 1;
		m.u.payment.invoice = 1;
		snprintf(m.u.order.product, sizeof(m.u.order.product), "co2");
		snprintf(m.u.order.currency, sizeof(m.u.order.currency), "nanos");
		if (early[i] == SDPP_T_ACK) {
			memset(&m.u.ack, 0, sizeof(m.u.ack));
			m.u.ack.seq = 1;
		}
		if (early[i] == SDPP_T_PAYMENT_ACK) {
			memset(&m.u.payment, 0, sizeof(m.u.payment));
			m.u.payment.invoice = 1;
		}
		if (early[i] == SDPP_T_EXIT)
			memset(&m.u.exit, 0, sizeof(m.u.exit));
		f = forge(&m, c.bid, &len);
		assert_string_equal(
		    seller_answer(&c, f, len, SDPP_E_UNEXPECTED), "unexpected_message");
		free(f);
		conv_teardown(&c);
	}
	/* A second hello after the menu. */
	conv_setup(&c, 4, 1, 1);
	conv_start(&c);
	memset(&m, 0, sizeof(m));
	m.type = SDPP_T_HELLO;
	m.from = SDPP_ROLE_BUYER;
	f = forge(&m, NULL, &len);
	assert_string_equal(seller_answer(&c, f, len, SDPP_E_UNEXPECTED), "unexpected_message");
	free(f);
	conv_teardown(&c);
	/* Seller-only types from a buyer. */
	conv_setup(&c, 4, 1, 1);
	assert_int_equal(sdpp_seller_new(&c.s, &c.scfg, c.now), SDPP_OK);
	f = strdup("{\"data\":{\"code\":\"x\",\"message\":\"\"},\"message_type\":\"menu\","
	           "\"signature\":\"\",\"verification\":\"\"}");
	assert_string_equal(
	    seller_answer(&c, f, strlen(f), SDPP_E_UNEXPECTED), "unexpected_message");
	free(f);
	conv_teardown(&c);
	/* A second order while streaming. */
	conv_setup(&c, 4, 1, 1);
	conv_start(&c);
	conv_order(&c, "co2", 3);
	memset(&m, 0, sizeof(m));
	m.type = SDPP_T_ORDER;
	m.from = SDPP_ROLE_BUYER;
	snprintf(m.u.order.product, sizeof(m.u.order.product), "co2");
	snprintf(m.u.order.currency, sizeof(m.u.order.currency), "nanos");
	m.u.order.price = 1;
	sdpp_identity_sign_public(c.bid, m.u.order.buyer);
	sdpp_identity_enc_public(c.bid, m.u.order.enc_key);
	f = forge(&m, c.bid, &len);
	assert_string_equal(seller_answer(&c, f, len, SDPP_E_UNEXPECTED), "unexpected_message");
	free(f);
	conv_teardown(&c);
}

/* Orders that must be refused, with the code the seller answers. */
static void
test_seller_bad_orders(void **state)
{
	static const struct {
		const char *product, *currency;
		uint64_t price, quantity;
		int wrong_signer;
		const char *code;
		enum sdpp_err e;
	} t[] = {
		{ "co2", "nanos", 3, 10, 0, NULL, SDPP_OK },
		{ "gas", "nanos", 3, 10, 0, "unknown_product", SDPP_E_UNKNOWN_PRODUCT },
		{ "co2", "nanos", 2, 10, 0, "price_mismatch", SDPP_E_PRICE },
		{ "co2", "iota", 3, 10, 0, "bad_currency", SDPP_E_CURRENCY },
		{ "co2", "nanos", 3, 1001, 0, "bad_quantity", SDPP_E_QUANTITY },
		{ "co2", "nanos", 3, 10, 1, "bad_signature", SDPP_E_SIGNATURE },
		/* wrong_signer 2: a small-order (all-zero) encryption key */
		{ "co2", "nanos", 3, 10, 2, "bad_message", SDPP_E_BAD_MESSAGE },
	};
	struct conv c;
	struct sdpp_identity *other;
	struct sdpp_msg m;
	char *f;
	size_t len, i;

	(void)state;
	assert_int_equal(sdpp_identity_generate(&other), SDPP_OK);
	for (i = 0; i < 3 * sizeof(t) / sizeof(t[0]); i++) {
		via = i / (sizeof(t) / sizeof(t[0]));
		conv_setup(&c, 4, 1, 3);
		c.scfg.max_quantity = 1000;
		conv_start(&c);
		memset(&m, 0, sizeof(m));
		m.type = SDPP_T_ORDER;
		m.from = SDPP_ROLE_BUYER;
		snprintf(m.u.order.product, sizeof(m.u.order.product), "%s",
		    t[i % (sizeof(t) / sizeof(t[0]))].product);
		snprintf(m.u.order.currency, sizeof(m.u.order.currency), "%s",
		    t[i % (sizeof(t) / sizeof(t[0]))].currency);
		m.u.order.price = t[i % (sizeof(t) / sizeof(t[0]))].price;
		m.u.order.quantity = t[i % (sizeof(t) / sizeof(t[0]))].quantity;
		m.u.order.version = 2; /* the conversation's buyer said sdpp/2 */
		sdpp_identity_sign_public(c.bid, m.u.order.buyer);
		sdpp_identity_enc_public(c.bid, m.u.order.enc_key);
		if (t[i % (sizeof(t) / sizeof(t[0]))].wrong_signer == 2)
			memset(m.u.order.enc_key, 0, sizeof(m.u.order.enc_key));
		f = forge(
		    &m, t[i % (sizeof(t) / sizeof(t[0]))].wrong_signer == 1 ? other : c.bid, &len);
		if (t[i % (sizeof(t) / sizeof(t[0]))].code == NULL) {
			assert_int_equal(sdpp_seller_input(c.s, f, len, c.now, &c.so), SDPP_OK);
			assert_int_equal(c.so.nev, 1);
			assert_int_equal(c.so.ev[0].type, SDPP_EV_ORDER);
		} else {
			assert_string_equal(
			    seller_answer(&c, f, len, t[i % (sizeof(t) / sizeof(t[0]))].e),
			    t[i % (sizeof(t) / sizeof(t[0]))].code);
		}
		free(f);
		conv_teardown(&c);
	}
	via = VIA_INPUT;
	sdpp_identity_free(other);
}

/* Streaming-phase forgeries: each is answered with its code and closes. */
enum forgery {
	F_ACK_BEYOND,
	F_ACK_DIGEST,
	F_ACK_ORDER,
	F_ACK_SIGNER,
	F_PAY_SHORT,
	F_PAY_UNSENT,
	F_EXIT_SHORT,
	F_EXIT_DIGEST,
	F_EXIT_SEQ,
};

static void
test_seller_stream_forgeries(void **state)
{
	static const struct {
		enum forgery f;
		const char *code;
		enum sdpp_err e;
	} t[] = {
		{ F_ACK_BEYOND, "bad_sequence", SDPP_E_SEQUENCE },
		{ F_ACK_DIGEST, "bad_digest", SDPP_E_DIGEST },
		{ F_ACK_ORDER, "bad_order_id", SDPP_E_ORDER_ID },
		{ F_ACK_SIGNER, "bad_signature", SDPP_E_SIGNATURE },
		{ F_PAY_SHORT, "payment_insufficient", SDPP_E_PAYMENT },
		{ F_PAY_UNSENT, "bad_invoice", SDPP_E_INVOICE },
		{ F_EXIT_SHORT, "payment_insufficient", SDPP_E_PAYMENT },
		{ F_EXIT_DIGEST, "bad_digest", SDPP_E_DIGEST },
		{ F_EXIT_SEQ, "bad_sequence", SDPP_E_SEQUENCE },
	};
	struct sdpp_identity *other;
	struct conv c;
	struct sdpp_msg m;
	char *f;
	size_t len, i;
	int j;

	(void)state;
	assert_int_equal(sdpp_identity_generate(&other), SDPP_OK);
	/* As sdpp_seller_input(), then checked by the host first: the same answers. */
	for (i = 0; i < 2 * sizeof(t) / sizeof(t[0]); i++) {
		via = i / (sizeof(t) / sizeof(t[0]));
		conv_setup(&c, 4, 1, 3);
		conv_start(&c);
		c.hold_payments = 1;
		conv_order(&c, "co2", 0);
		for (j = 1; j <= 5; j++)
			conv_sample(&c, j); /* invoice 1 (12) sent, unpaid */
		assert_int_equal(c.invoices, 1);
		/* Item 6 leaves the seller but never reaches the buyer: sent 6, acked 5. */
		(void)sdpp_seller_sample(c.s, "t", (const uint8_t *)"z", 1, 6, c.now, &c.so);
		sdpp_out_clear(&c.so);
		memset(&m, 0, sizeof(m));
		m.from = SDPP_ROLE_BUYER;
		memcpy(m.u.ack.order_id, sdpp_buyer_order_id(c.b), SDPP_ORDER_ID_BYTES);
		switch (t[i % (sizeof(t) / sizeof(t[0]))].f) {
		case F_ACK_BEYOND:
		case F_ACK_DIGEST:
		case F_ACK_ORDER:
		case F_ACK_SIGNER:
			m.type = SDPP_T_ACK;
			m.u.ack.seq = t[i % (sizeof(t) / sizeof(t[0]))].f == F_ACK_BEYOND ? 7 : 6;
			if (t[i % (sizeof(t) / sizeof(t[0]))].f == F_ACK_ORDER)
				m.u.ack.order_id[0] ^= 1;
			break;
		case F_PAY_SHORT:
		case F_PAY_UNSENT:
			m.type = SDPP_T_PAYMENT_ACK;
			m.u.payment.invoice =
			    t[i % (sizeof(t) / sizeof(t[0]))].f == F_PAY_UNSENT ? 2 : 1;
			m.u.payment.total =
			    t[i % (sizeof(t) / sizeof(t[0]))].f == F_PAY_UNSENT ? 24 : 11;
			break;
		default:
			m.type = SDPP_T_EXIT;
			m.u.exit.seq = t[i % (sizeof(t) / sizeof(t[0]))].f == F_EXIT_SEQ ? 7 : 5;
			m.u.exit.total =
			    t[i % (sizeof(t) / sizeof(t[0]))].f == F_EXIT_SHORT ? 14 : 15;
			break;
		}
		if (t[i % (sizeof(t) / sizeof(t[0]))].f == F_EXIT_SHORT) {
			/* A correct digest, so only the amount is wrong: take
			 * it from the buyer's own exit. */
			struct sdpp_out o;
			struct sdpp_msg parsed;

			sdpp_out_init(&o, 1 << 16);
			assert_int_equal(sdpp_buyer_exit(c.b, c.now, &o), SDPP_OK);
			assert_int_equal(
			    sdpp_msg_parse(&parsed, o.buf, o.len - 1, SDPP_ROLE_BUYER, NULL, 0),
			    SDPP_OK);
			assert_int_equal(parsed.type, SDPP_T_EXIT);
			memcpy(m.u.exit.digest, parsed.u.exit.digest, SDPP_DIGEST_BYTES);
			sdpp_msg_free(&parsed);
			sdpp_out_free(&o);
		}
		f = forge(
		    &m, t[i % (sizeof(t) / sizeof(t[0]))].f == F_ACK_SIGNER ? other : c.bid, &len);
		assert_string_equal(seller_answer(&c, f, len, t[i % (sizeof(t) / sizeof(t[0]))].e),
		    t[i % (sizeof(t) / sizeof(t[0]))].code);
		free(f);
		conv_teardown(&c);
	}
	via = VIA_INPUT;
	sdpp_identity_free(other);
}

/*
 * A voucher for an older invoice than the latest sent must still cover
 * that invoice's total_due (the session works it out rather than keeping
 * every sent total): 11 for invoice 1 (due 12) is refused even though
 * invoice 2 (due 24) is out, 12 is taken.
 */
static void
test_seller_pays_older_invoice(void **state)
{
	static const struct {
		uint64_t total;
		const char *code;
	} t[] = { { 11, "payment_insufficient" }, { 12, NULL } };
	struct sdpp_progress pr;
	struct conv c;
	struct sdpp_msg m;
	char *f;
	size_t len, i;
	int j;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		conv_setup(&c, 4, 1, 3);
		c.menu.max_unpaid = 100; /* the buyer is not paused */
		conv_start(&c);
		c.hold_payments = 1;
		conv_order(&c, "co2", 0);
		for (j = 1; j <= 8; j++)
			conv_sample(&c, j);
		sdpp_seller_progress(c.s, &pr);
		assert_true(pr.invoiced == 8 && pr.total_due == 24); /* invoice 2 sent */
		memset(&m, 0, sizeof(m));
		m.type = SDPP_T_PAYMENT_ACK;
		m.from = SDPP_ROLE_BUYER;
		memcpy(m.u.payment.order_id, sdpp_buyer_order_id(c.b), SDPP_ORDER_ID_BYTES);
		m.u.payment.invoice = 1;
		m.u.payment.total = t[i].total;
		f = forge(&m, c.bid, &len);
		if (t[i].code != NULL) {
			assert_string_equal(seller_answer(&c, f, len, SDPP_E_PAYMENT), t[i].code);
			assert_non_null(strstr(c.so.buf, "less than 12 due by invoice 1"));
		} else {
			assert_int_equal(sdpp_seller_input(c.s, f, len, c.now, &c.so), SDPP_OK);
			assert_int_equal(c.so.nev, 1);
			assert_int_equal(c.so.ev[0].type, SDPP_EV_PAYMENT);
		}
		free(f);
		conv_teardown(&c);
	}
}

/* Rewrites the base64 field `name` of a frame by flipping one decoded bit. */
static void
flip_b64_field(char *frame, const char *name)
{
	char key[64], *p, *q, *enc;
	uint8_t buf[MAXF];
	size_t n;

	snprintf(key, sizeof(key), "\"%s\":\"", name);
	p = strstr(frame, key);
	assert_non_null(p);
	p += strlen(key);
	q = strchr(p, '"');
	assert_int_equal(sdpp_b64_decode(buf, sizeof(buf), &n, p, (size_t)(q - p)), SDPP_OK);
	buf[n / 2] ^= 0x01;
	enc = malloc(SDPP_B64_LEN(n));
	sdpp_b64_encode(enc, buf, n);
	assert_int_equal(strlen(enc), (size_t)(q - p));
	memcpy(p, enc, (size_t)(q - p));
	free(enc);
}

/* What the buyer does with forged, replayed and reordered seller frames. */
enum bforgery {
	B_TAMPER_CT,
	B_TAMPER_SIGNED,
	B_BAD_ITEM_SIG,
	B_BAD_CHAIN,
	B_REPLAY,
	B_REORDER,
	B_WRONG_KEY,
	B_WRONG_SELLER
};

/* Changes the first hex digit of a string field. */
static void
flip_hex_field(char *frame, const char *name)
{
	char key[64], *p;

	snprintf(key, sizeof(key), "\"%s\":\"", name);
	p = strstr(frame, key);
	assert_non_null(p);
	p += strlen(key);
	*p = *p == '0' ? '1' : '0';
}

static void
test_buyer_forgeries(void **state)
{
	static const struct {
		enum bforgery f;
		int sign_items;
		enum sdpp_err e;
	} t[] = {
		{ B_TAMPER_CT, 0, SDPP_E_DECRYPT },
		/* A signed item's ciphertext: the AEAD catches it first. */
		{ B_TAMPER_SIGNED, 1, SDPP_E_DECRYPT },
		/* Its signature: checked before the ACK (every item here). */
		{ B_BAD_ITEM_SIG, 1, SDPP_E_SIGNATURE },
		/* The receipt chain it signs must be the buyer's own. */
		{ B_BAD_CHAIN, 1, SDPP_E_DIGEST },
		{ B_REPLAY, 0, SDPP_OK },
		{ B_REORDER, 0, SDPP_E_SEQUENCE },
		{ B_WRONG_KEY, 0, SDPP_E_DECRYPT },
		{ B_WRONG_SELLER, 0, SDPP_E_SIGNATURE },
	};
	char f1[MAXF], f2[MAXF];
	size_t l1, l2, i;
	struct conv c;
	struct sdpp_progress p;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		conv_setup(&c, 4, 1, 1);
		c.menu.sign_items = t[i].sign_items;
		if (t[i].f == B_WRONG_SELLER) {
			/* The buyer pinned someone else's key. */
			struct sdpp_identity *other;

			assert_int_equal(sdpp_identity_generate(&other), SDPP_OK);
			sdpp_identity_sign_public(other, c.bcfg.seller);
			sdpp_identity_free(other);
			assert_int_equal(sdpp_seller_new(&c.s, &c.scfg, c.now), SDPP_OK);
			assert_int_equal(sdpp_buyer_new(&c.b, &c.bcfg, c.now), SDPP_OK);
			assert_int_equal(sdpp_buyer_start(c.b, c.now, &c.bo), SDPP_OK);
			buyer_drain(&c);
			pump(&c);
			assert_int_equal(c.buyer_close_err, SDPP_E_SIGNATURE);
			assert_string_equal(c.seller_got_error, "bad_signature");
			conv_teardown(&c);
			continue;
		}
		conv_start(&c);
		if (t[i].f == B_WRONG_KEY) {
			/* Session key sealed to another buyer: seller-signed, but
			 * it cannot open. */
			struct sdpp_identity *other;
			struct sdpp_msg m;
			char *frame;
			size_t len;
			uint8_t key[32] = { 1 }, enc[32];

			assert_int_equal(sdpp_buyer_order(c.b, "co2", 3, c.now, &c.bo), SDPP_OK);
			sdpp_out_clear(&c.bo);
			assert_int_equal(sdpp_identity_generate(&other), SDPP_OK);
			sdpp_identity_enc_public(other, enc);
			memset(&m, 0, sizeof(m));
			m.type = SDPP_T_SESSION_KEY;
			m.from = SDPP_ROLE_SELLER;
			memcpy(m.u.session_key.order_id, sdpp_buyer_order_id(c.b), 32);
			assert_int_equal(sdpp_seal(m.u.session_key.sealed, enc, key,
			                     sdpp_buyer_order_id(c.b), 32),
			    SDPP_OK);
			frame = forge(&m, c.sid, &len);
			assert_int_equal(
			    sdpp_buyer_input(c.b, frame, len, c.now, &c.bo), SDPP_E_DECRYPT);
			free(frame);
			sdpp_identity_free(other);
			conv_teardown(&c);
			continue;
		}
		conv_order(&c, "co2", 5);
		(void)sdpp_seller_sample(c.s, "t", (const uint8_t *)"a", 1, 1, c.now, &c.so);
		(void)sdpp_seller_sample(c.s, "t", (const uint8_t *)"b", 1, 2, c.now, &c.so);
		pipe_put(&c.s2b, c.so.buf, c.so.len);
		sdpp_out_clear(&c.so);
		assert_true(pipe_next(&c.s2b, f1, sizeof(f1), &l1));
		assert_true(pipe_next(&c.s2b, f2, sizeof(f2), &l2));
		switch (t[i].f) {
		case B_TAMPER_CT:
		case B_TAMPER_SIGNED:
			flip_b64_field(f1, "ciphertext");
			assert_int_equal(sdpp_buyer_input(c.b, f1, l1, c.now, &c.bo), t[i].e);
			break;
		case B_BAD_ITEM_SIG:
			flip_b64_field(f1, "signature");
			assert_int_equal(sdpp_buyer_input(c.b, f1, l1, c.now, &c.bo), t[i].e);
			break;
		case B_BAD_CHAIN:
			flip_hex_field(f1, "verification");
			assert_int_equal(sdpp_buyer_input(c.b, f1, l1, c.now, &c.bo), t[i].e);
			break;
		case B_REPLAY:
			assert_int_equal(sdpp_buyer_input(c.b, f1, l1, c.now, &c.bo), SDPP_OK);
			assert_int_equal(sdpp_buyer_input(c.b, f1, l1, c.now, &c.bo), SDPP_OK);
			assert_int_equal(sdpp_buyer_input(c.b, f2, l2, c.now, &c.bo), SDPP_OK);
			sdpp_buyer_progress(c.b, &p);
			assert_true(p.sent == 2 && p.duplicates == 1);
			break;
		default:
			assert_int_equal(sdpp_buyer_input(c.b, f2, l2, c.now, &c.bo), t[i].e);
			break;
		}
		if (t[i].e != SDPP_OK) {
			assert_true(sdpp_buyer_done(c.b));
			assert_non_null(strstr(c.bo.buf, sdpp_err_code(t[i].e)));
		}
		conv_teardown(&c);
	}
}

/*
 * Signed items sign the receipt chain, and the buyer checks the newest
 * signature before each receipt it signs (ack_every = 4 here): a bad
 * signature on item 4 is caught at that ACK; one on item 2 is covered by
 * item 4's good signature, which commits to items 1..4 through the chain.
 */
static void
test_buyer_signed_batches(void **state)
{
	static const struct {
		size_t bad;       /* item whose signature is corrupted */
		enum sdpp_err e4; /* buyer's answer to item 4 */
	} t[] = { { 4, SDPP_E_SIGNATURE }, { 2, SDPP_OK } };
	char f[4][MAXF];
	size_t l[4], i, j;
	struct conv c;
	struct sdpp_progress p;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		conv_setup(&c, 4, 4, 1);
		c.menu.sign_items = 1;
		conv_start(&c);
		conv_order(&c, "co2", 8);
		for (j = 0; j < 4; j++)
			(void)sdpp_seller_sample(
			    c.s, "t", (const uint8_t *)"abcd" + j, 1, (int64_t)j + 1, c.now, &c.so);
		pipe_put(&c.s2b, c.so.buf, c.so.len);
		sdpp_out_clear(&c.so);
		for (j = 0; j < 4; j++)
			assert_true(pipe_next(&c.s2b, f[j], sizeof(f[j]), &l[j]));
		flip_b64_field(f[t[i].bad - 1], "signature");
		sdpp_out_clear(&c.bo);
		for (j = 0; j < 3; j++)
			assert_int_equal(sdpp_buyer_input(c.b, f[j], l[j], c.now, &c.bo), SDPP_OK);
		/* No receipt yet, so no signature checked yet. */
		assert_true(c.bo.len == 0);
		assert_int_equal(sdpp_buyer_input(c.b, f[3], l[3], c.now, &c.bo), t[i].e4);
		sdpp_buyer_progress(c.b, &p);
		if (t[i].e4 == SDPP_OK) {
			assert_true(p.acked == 4);
			assert_non_null(strstr(c.bo.buf, "\"message_type\":\"ack\""));
		} else {
			assert_true(sdpp_buyer_done(c.b));
			assert_true(p.acked == 0);
			assert_non_null(strstr(c.bo.buf, "bad_signature"));
		}
		conv_teardown(&c);
	}
}

/*
 * A ledger payment method (iota): the order must say where the buyer pays
 * from; transfers are confirmed one by one and each must add to the total;
 * the exit promises the rest but pays nothing.
 */
static void
test_chain_payments(void **state)
{
	struct conv c;
	struct sdpp_msg m;
	char *f;
	size_t len;
	int i;

	(void)state;
	/* No payment address in the order: refused before it is recorded. */
	conv_setup(&c, 4, 4, 1);
	snprintf(c.menu.payment_method, sizeof(c.menu.payment_method), "iota");
	conv_start(&c);
	assert_int_equal(sdpp_buyer_order(c.b, "co2", 6, c.now, &c.bo), SDPP_OK);
	buyer_drain(&c);
	pump(&c);
	assert_int_equal(c.orders, 0);
	assert_int_equal(c.seller_close_err, SDPP_E_BAD_MESSAGE);
	conv_teardown(&c);

	/* 6 items, K = 4: invoice 1 paid by a transfer, 2 items promised. */
	conv_setup(&c, 4, 4, 1);
	snprintf(c.menu.payment_method, sizeof(c.menu.payment_method), "iota");
	snprintf(c.bcfg.payment_address, sizeof(c.bcfg.payment_address), "0x%064x", 7);
	conv_start(&c);
	conv_order(&c, "co2", 6);
	for (i = 0; i < 4; i++)
		conv_sample(&c, i);
	assert_int_equal(c.payments, 1);
	/* The same transfer claimed again adds nothing: refused. */
	memset(&m, 0, sizeof(m));
	m.type = SDPP_T_PAYMENT_ACK;
	m.from = SDPP_ROLE_BUYER;
	memcpy(m.u.payment.order_id, sdpp_buyer_order_id(c.b), SDPP_ORDER_ID_BYTES);
	m.u.payment.invoice = 1;
	m.u.payment.total = c.invoice_total[0];
	snprintf(m.verification, sizeof(m.verification), "same-digest");
	f = forge(&m, c.bid, &len);
	assert_string_equal(seller_answer(&c, f, len, SDPP_E_PAYMENT), "payment_insufficient");
	free(f);
	conv_teardown(&c);

	conv_setup(&c, 4, 4, 1);
	snprintf(c.menu.payment_method, sizeof(c.menu.payment_method), "iota");
	snprintf(c.bcfg.payment_address, sizeof(c.bcfg.payment_address), "0x%064x", 7);
	conv_start(&c);
	conv_order(&c, "co2", 6);
	for (i = 0; i < 6; i++)
		conv_sample(&c, i);
	pump(&c);
	assert_int_equal(c.statements, 1);
	/* Paid on chain: the invoice; the exit only promises items 5 and 6. */
	assert_true(c.statement.total_due == 6 && c.statement.total_paid == 4);
	assert_true(c.statement.settled);
	conv_teardown(&c);
}

/* A buyer refuses invoices that do not add up or exceed its budget. */
static void
test_buyer_bad_invoices(void **state)
{
	static const struct {
		uint64_t number, first, last, amount, total;
		uint64_t budget;
		enum sdpp_err e;
	} t[] = {
		{ 1, 1, 4, 12, 12, 0, SDPP_OK },
		{ 2, 1, 4, 12, 12, 0, SDPP_E_INVOICE }, /* skips invoice 1 */
		{ 1, 2, 5, 12, 12, 0, SDPP_E_INVOICE }, /* gap */
		{ 1, 1, 4, 13, 13, 0, SDPP_E_INVOICE }, /* wrong amount */
		{ 1, 1, 4, 12, 11, 0, SDPP_E_INVOICE }, /* wrong total */
		{ 1, 1, 5, 15, 15, 0, SDPP_E_INVOICE }, /* more than K / not received */
		{ 1, 1, 4, 12, 12, 10, SDPP_E_BUDGET }, /* over budget */
	};
	struct conv c;
	struct sdpp_msg m;
	char *f;
	size_t len, i;
	int j;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		conv_setup(&c, 4, 1, 3);
		c.menu.granularity = 100; /* the seller never invoices by itself */
		c.menu.max_unpaid = 200;
		c.bcfg.budget = t[i].budget;
		conv_start(&c);
		conv_order(&c, "co2", 0);
		for (j = 1; j <= 4; j++)
			conv_sample(&c, j);
		assert_int_equal(c.items, 4);
		/* Forge invoices with the seller's own key: only the
		 * buyer's arithmetic stands in the way. */
		memset(&m, 0, sizeof(m));
		m.type = SDPP_T_DATA_INVOICE;
		m.from = SDPP_ROLE_SELLER;
		memcpy(m.u.invoice.order_id, sdpp_buyer_order_id(c.b), 32);
		m.u.invoice.number = t[i].number;
		m.u.invoice.first_seq = t[i].first;
		m.u.invoice.last_seq = t[i].last;
		m.u.invoice.unit_price = 3;
		m.u.invoice.amount = t[i].amount;
		m.u.invoice.total_due = t[i].total;
		m.u.invoice.delivered = t[i].last;
		snprintf(m.u.invoice.currency, sizeof(m.u.invoice.currency), "nanos");
		/* The right digest at item 4: the one the buyer ACKed. */
		memcpy(m.u.invoice.digest, c.last_ack_digest, 32);
		f = forge(&m, c.sid, &len);
		assert_int_equal(sdpp_buyer_input(c.b, f, len, c.now, &c.bo), t[i].e);
		if (t[i].e == SDPP_OK) {
			assert_int_equal(c.bo.nev, 1);
			assert_int_equal(c.bo.ev[0].type, SDPP_EV_PAY);
		} else {
			assert_true(sdpp_buyer_done(c.b));
		}
		free(f);
		conv_teardown(&c);
	}
}

/* ---- sdpp/2 (PROTOCOL.md 15): versions, the menu cap, the order's topic. */

/* The seller's first frame after a raw hello of version v, parsed. */
static void
hello_menu(struct conv *c, const char *v, struct sdpp_msg *menu, char **frame)
{
	char hello[128];
	char *nl;

	snprintf(hello, sizeof(hello),
	    "{\"data\":{\"version\":\"%s\"},\"message_type\":\"hello\",\"signature\":\"\","
	    "\"verification\":\"\"}",
	    v);
	assert_int_equal(sdpp_seller_new(&c->s, &c->scfg, c->now), SDPP_OK);
	assert_int_equal(sdpp_seller_input(c->s, hello, strlen(hello), c->now, &c->so), SDPP_OK);
	nl = memchr(c->so.buf, '\n', c->so.len);
	assert_non_null(nl);
	assert_true(nl == c->so.buf + c->so.len - 1);
	*frame = strndup(c->so.buf, (size_t)(nl - c->so.buf));
	assert_non_null(*frame);
	sdpp_out_clear(&c->so);
	assert_int_equal(
	    sdpp_msg_parse(menu, *frame, strlen(*frame), SDPP_ROLE_SELLER, NULL, 0), SDPP_OK);
	assert_int_equal(menu->type, SDPP_T_MENU);
}

/* Each hello is answered in its own version; there is no negotiation. */
static void
test_versions_answered_in_kind(void **state)
{
	static const struct {
		int cfg;         /* the buyer's config.version */
		const char *v;   /* what its hello says */
		int topics_sent; /* the menu carries the sdpp/2 members */
	} t[] = {
		{ 0, "sdpp/2", 1 },
		{ 1, "sdpp/1", 0 },
		{ 2, "sdpp/2", 1 },
	};
	struct conv c;
	const struct sdpp_menu *m;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		conv_setup(&c, 4, 1, 3);
		c.products[1].on_change = 1;
		snprintf(c.products[1].deadband, sizeof(c.products[1].deadband), "0.5");
		snprintf(c.products[1].field, sizeof(c.products[1].field), "/temperature");
		c.bcfg.version = t[i].cfg;
		conv_start(&c);
		assert_int_equal(sdpp_seller_version(c.s), t[i].cfg == 1 ? 1 : 2);
		assert_int_equal(sdpp_buyer_version(c.b), t[i].cfg == 1 ? 1 : 2);
		m = sdpp_buyer_menu(c.b);
		assert_non_null(m);
		assert_string_equal(m->version, t[i].v);
		assert_int_equal(m->nproducts, 3);
		assert_string_equal(
		    m->products[1].topic, t[i].topics_sent ? "building/7/+/temp" : "");
		assert_string_equal(m->products[1].field, t[i].topics_sent ? "/temperature" : "");
		assert_string_equal(m->products[1].deadband, t[i].topics_sent ? "0.5" : "");
		assert_int_equal(m->products[1].on_change, t[i].topics_sent);
		/* The order is in the session's version too, and streams. */
		conv_order(&c, "temp", 2);
		assert_int_equal(c.orders, 1);
		assert_string_equal(sdpp_seller_topic(c.s), "");
		conv_sample(&c, 1);
		conv_sample(&c, 2);
		assert_int_equal(c.items, 2);
		conv_teardown(&c);
	}
	/* A buyer config names no other version. */
	conv_setup(&c, 4, 1, 3);
	c.bcfg.version = 3;
	assert_int_equal(sdpp_buyer_new(&c.b, &c.bcfg, c.now), SDPP_E_INVAL);
	conv_teardown(&c);
}

/* A seller with more than 256 products: an sdpp/1 hello gets the first
 * 256 and no sdpp/2 member, an sdpp/2 hello all of them; an sdpp/1
 * buyer may still order one of the others. */
static void
test_v1_menu_capped(void **state)
{
	static struct sdpp_product many[SDPP_PRODUCTS_MAX];
	static const size_t counts[] = { 300, SDPP_PRODUCTS_MAX };
	struct conv c;
	struct sdpp_msg menu, m;
	char *frame, *f;
	size_t i, j, len;

	(void)state;
	for (j = 0; j < sizeof(counts) / sizeof(counts[0]); j++) {
		for (i = 0; i < counts[j]; i++) {
			memset(&many[i], 0, sizeof(many[i]));
			snprintf(many[i].id, sizeof(many[i].id), "p%zu", i);
			many[i].price = 3;
			snprintf(many[i].topic, sizeof(many[i].topic), "building/7/%zu/#", i);
			snprintf(many[i].device_class, sizeof(many[i].device_class), "temperature");
		}
		/* sdpp/1 */
		conv_setup(&c, 4, 1, 3);
		c.menu.nproducts = counts[j];
		c.menu.products = many;
		hello_menu(&c, "sdpp/1", &menu, &frame);
		assert_string_equal(menu.u.menu.version, "sdpp/1");
		assert_int_equal(menu.u.menu.nproducts, SDPP_PRODUCTS_MAX_V1);
		assert_string_equal(menu.u.menu.products[255].id, "p255");
		assert_null(strstr(frame, "\"topic\""));
		assert_null(strstr(frame, "\"device_class\""));
		sdpp_msg_free(&menu);
		free(frame);
		/* ... and an order for product 299, not on its menu, is served. */
		memset(&m, 0, sizeof(m));
		m.type = SDPP_T_ORDER;
		m.from = SDPP_ROLE_BUYER;
		snprintf(m.u.order.product, sizeof(m.u.order.product), "p299");
		snprintf(m.u.order.currency, sizeof(m.u.order.currency), "nanos");
		m.u.order.price = 3;
		m.u.order.quantity = 1;
		sdpp_identity_sign_public(c.bid, m.u.order.buyer);
		sdpp_identity_enc_public(c.bid, m.u.order.enc_key);
		f = forge(&m, c.bid, &len);
		assert_int_equal(sdpp_seller_input(c.s, f, len, c.now, &c.so), SDPP_OK);
		assert_int_equal(c.so.ev[0].type, SDPP_EV_ORDER);
		assert_string_equal(sdpp_seller_topic(c.s), "");
		free(f);
		conv_teardown(&c);
		/* sdpp/2 */
		conv_setup(&c, 4, 1, 3);
		c.menu.nproducts = counts[j];
		c.menu.products = many;
		sdpp_out_free(&c.so);
		sdpp_out_init(&c.so, SDPP_FRAME_CAP_MAX);
		hello_menu(&c, "sdpp/2", &menu, &frame);
		assert_string_equal(menu.u.menu.version, "sdpp/2");
		assert_int_equal(menu.u.menu.nproducts, counts[j]);
		assert_string_equal(menu.u.menu.products[299].topic, "building/7/299/#");
		sdpp_msg_free(&menu);
		free(frame);
		conv_teardown(&c);
	}
}

/* An order of the other version's member set is bad_message; a topic
 * filter that is not one is bad_message too. */
static void
test_order_version_mismatch(void **state)
{
	static const struct {
		int session; /* the buyer's config.version */
		int order;   /* the forged order's member set */
		const char *topic;
		const char *code;
		const char *why;
	} t[] = {
		{ 2, 1, "", "bad_message", "order.topic: missing" },
		{ 1, 2, "", "bad_message", "order.topic: unknown member" },
		{ 1, 2, "building/7/+/temp", "bad_message", "order.topic: unknown member" },
		{ 2, 2, "a/#/b", "bad_message", "order.topic: not an MQTT topic filter" },
		{ 2, 2, "building/7/kitchen/temp", NULL, NULL },
		{ 1, 1, "", NULL, NULL },
	};
	struct conv c;
	struct sdpp_msg m;
	char *f, topic[SDPP_TOPIC_MAX + 1];
	size_t i, len;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		conv_setup(&c, 4, 1, 3);
		c.bcfg.version = t[i].session;
		conv_start(&c);
		memset(&m, 0, sizeof(m));
		m.type = SDPP_T_ORDER;
		m.from = SDPP_ROLE_BUYER;
		snprintf(m.u.order.product, sizeof(m.u.order.product), "temp");
		snprintf(m.u.order.currency, sizeof(m.u.order.currency), "nanos");
		m.u.order.price = 1;
		m.u.order.quantity = 2;
		m.u.order.version = t[i].order;
		snprintf(topic, sizeof(topic), "%s", t[i].topic);
		m.u.order.topic = topic;
		sdpp_identity_sign_public(c.bid, m.u.order.buyer);
		sdpp_identity_enc_public(c.bid, m.u.order.enc_key);
		f = forge(&m, c.bid, &len);
		if (t[i].code == NULL) {
			assert_null(sdpp_seller_topic(c.s));
			assert_int_equal(sdpp_seller_input(c.s, f, len, c.now, &c.so), SDPP_OK);
			assert_int_equal(c.so.ev[0].type, SDPP_EV_ORDER);
			assert_string_equal(sdpp_seller_topic(c.s), t[i].topic);
		} else {
			assert_string_equal(
			    seller_answer(&c, f, len, SDPP_E_BAD_MESSAGE), t[i].code);
			assert_non_null(strstr(c.so.buf, t[i].why));
			assert_null(sdpp_seller_topic(c.s));
		}
		free(f);
		conv_teardown(&c);
	}
}

/* The buyer orders a topic; the host checks it and may refuse with
 * bad_topic, after every check of the library. */
static void
test_order_topic(void **state)
{
	static const struct {
		const char *topic; /* given to sdpp_buyer_order_topic() */
		int version;
		enum sdpp_err e; /* its result */
		int host_refuses;
	} t[] = {
		{ NULL, 2, SDPP_OK, 0 },
		{ "", 2, SDPP_OK, 0 },
		{ "building/7/kitchen/temp", 2, SDPP_OK, 0 },
		{ "building/7/+/temp", 2, SDPP_OK, 0 },
		{ "building/8/kitchen/temp", 2, SDPP_OK, 1 },
		{ "building/7/+", 2, SDPP_OK, 1 },
		{ "building/7/a+", 2, SDPP_E_INVAL, 0 },
		{ "building/7/#/temp", 2, SDPP_E_INVAL, 0 },
		{ "building/7/kitchen/temp", 1, SDPP_E_INVAL, 0 },
		{ NULL, 1, SDPP_OK, 0 },
		{ "", 1, SDPP_OK, 0 },
	};
	struct conv c;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		conv_setup(&c, 4, 1, 3);
		c.bcfg.version = t[i].version;
		conv_start(&c);
		assert_int_equal(
		    sdpp_buyer_order_topic(c.b, "temp", t[i].topic, 2, c.now, &c.bo), t[i].e);
		if (t[i].e != SDPP_OK) {
			assert_int_equal(c.bo.len, 0);
			/* Nothing was sent: the buyer may still order. */
			assert_int_equal(sdpp_buyer_order(c.b, "temp", 2, c.now, &c.bo), SDPP_OK);
			conv_teardown(&c);
			continue;
		}
		/* The host's check: here, is the topic on building 7? */
		{
			char *nl = memchr(c.bo.buf, '\n', c.bo.len);
			struct sdpp_out o;

			assert_non_null(nl);
			sdpp_out_init(&o, 1 << 20);
			assert_int_equal(
			    sdpp_seller_input(c.s, c.bo.buf, (size_t)(nl - c.bo.buf), c.now, &o),
			    SDPP_OK);
			sdpp_out_clear(&c.bo);
			assert_int_equal(o.ev[0].type, SDPP_EV_ORDER);
			assert_string_equal(
			    sdpp_seller_topic(c.s), t[i].topic == NULL ? "" : t[i].topic);
			if (t[i].host_refuses) {
				assert_int_equal(
				    sdpp_seller_fail(c.s, SDPP_E_TOPIC,
				        "order.topic: not within building/7/+/temp", &o),
				    SDPP_E_TOPIC);
				assert_true(sdpp_seller_done(c.s));
				assert_non_null(strstr(o.buf, "\"code\":\"bad_topic\""));
				pipe_put(&c.s2b, o.buf, o.len);
				pump(&c);
				assert_true(sdpp_buyer_done(c.b));
				assert_string_equal(c.buyer_got_error, "bad_topic");
			} else {
				assert_int_equal(sdpp_seller_complete(
				                     c.s, o.ev[0].req, 1, "rec-1", c.now, &c.so),
				    SDPP_OK);
				seller_drain(&c);
				pump(&c);
				assert_int_equal(c.started, 1);
			}
			sdpp_out_free(&o);
		}
		conv_teardown(&c);
	}
}

/* The buyer takes only a menu in its hello's version. */
static void
test_buyer_refuses_other_version(void **state)
{
	static const struct {
		int buyer;
		const char *menu;
	} t[] = {
		{ 2, "sdpp/1" },
		{ 1, "sdpp/2" },
	};
	struct conv c;
	struct sdpp_msg m;
	char *f = NULL;
	size_t i, len = 0;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		conv_setup(&c, 4, 1, 3);
		c.bcfg.version = t[i].buyer;
		assert_int_equal(sdpp_buyer_new(&c.b, &c.bcfg, c.now), SDPP_OK);
		assert_int_equal(sdpp_buyer_start(c.b, c.now, &c.bo), SDPP_OK);
		assert_non_null(strstr(c.bo.buf, t[i].buyer == 2 ? "sdpp/2" : "sdpp/1"));
		sdpp_out_clear(&c.bo);
		memset(&m, 0, sizeof(m));
		m.type = SDPP_T_MENU;
		m.from = SDPP_ROLE_SELLER;
		m.u.menu = c.menu;
		snprintf(m.u.menu.version, sizeof(m.u.menu.version), "%s", t[i].menu);
		sdpp_identity_sign_public(c.sid, m.u.menu.seller);
		assert_int_equal(sdpp_msg_encode(&m, c.sid, &f, &len), SDPP_OK);
		assert_int_equal(sdpp_buyer_input(c.b, f, len - 1, c.now, &c.bo), SDPP_E_VERSION);
		assert_true(sdpp_buyer_done(c.b));
		assert_null(sdpp_buyer_menu(c.b));
		assert_non_null(strstr(c.bo.buf, "\"code\":\"unsupported_version\""));
		free(f);
		conv_teardown(&c);
	}
}

/* Runs an order of 2 items to the buyer's exit; the exit frame waits in b2s. */
static void
run_to_exit(struct conv *c, int version)
{
	conv_setup(c, 4, 1, 3);
	c->bcfg.version = version;
	conv_start(c);
	conv_order(c, "co2", 0);
	conv_sample(c, 1);
	conv_sample(c, 2);
	assert_int_equal(c->items, 2);
	assert_int_equal(sdpp_buyer_exit(c->b, c->now, &c->bo), SDPP_OK);
	buyer_drain(c);
}

/* The sdpp/2 statement carries the host's signed tree head, which the
 * buyer checks and hands over; an sdpp/1 statement has none. */
static void
test_statement_tree_head(void **state)
{
	struct conv c;
	struct sdpp_tree_head th;
	struct sdpp_identity *other;
	uint8_t key[SDPP_SIGN_PUBLIC_BYTES];
	enum sdpp_err e;

	(void)state;
	/* sdpp/2: the buyer gets exactly the head the host set. */
	run_to_exit(&c, 2);
	pump(&c);
	assert_int_equal(c.exit_complete_err, SDPP_OK);
	assert_int_equal(c.statements, 1);
	assert_int_equal(c.statement.version, 2);
	assert_true(c.statement.tree_head.size == c.tree_head.size);
	assert_memory_equal(&c.statement.tree_head, &c.tree_head, sizeof(c.tree_head));
	sdpp_identity_sign_public(c.sid, key);
	assert_int_equal(sdpp_tree_head_verify(&c.statement.tree_head, key), SDPP_OK);
	assert_int_equal(c.buyer_close_err, SDPP_OK);
	conv_teardown(&c);

	/* sdpp/1: no tree head on the wire, whatever the host sets. */
	run_to_exit(&c, 1);
	pump(&c);
	assert_int_equal(c.statements, 1);
	assert_int_equal(c.statement.version, 1);
	assert_int_equal(c.buyer_close_err, SDPP_OK);
	conv_teardown(&c);

	/* sdpp/2 without a tree head: the host's bug, refused; the session
	 * waits for a proper completion. */
	run_to_exit(&c, 2);
	c.no_tree_head = 1;
	pump(&c);
	assert_int_equal(c.exit_complete_err, SDPP_E_INVAL);
	assert_int_equal(c.statements, 0);
	assert_false(sdpp_seller_done(c.s));
	/* Heads the seller key did not sign, or of an empty log, are refused. */
	assert_int_equal(sdpp_identity_generate(&other), SDPP_OK);
	memset(&th, 0, sizeof(th));
	th.size = 3;
	th.time = 1764115200000;
	assert_int_equal(sdpp_tree_head_sign(&th, other), SDPP_OK);
	assert_int_equal(sdpp_seller_set_tree_head(c.s, &th), SDPP_E_INVAL);
	th.size = 0;
	assert_int_equal(sdpp_seller_set_tree_head(c.s, &th), SDPP_E_INVAL);
	th.size = 3;
	assert_int_equal(sdpp_tree_head_sign(&th, c.sid), SDPP_OK);
	th.root[0] ^= 1; /* signed over another root */
	assert_int_equal(sdpp_seller_set_tree_head(c.s, &th), SDPP_E_INVAL);
	th.root[0] ^= 1;
	assert_int_equal(sdpp_seller_set_tree_head(c.s, &th), SDPP_OK);
	e = sdpp_seller_complete(c.s, c.exit_req, 1, "rec-9", c.now, &c.so);
	assert_int_equal(e, SDPP_OK);
	seller_drain(&c);
	pump(&c);
	assert_int_equal(c.statements, 1);
	assert_int_equal(c.statement.version, 2);
	assert_memory_equal(&c.statement.tree_head, &th, sizeof(th));
	sdpp_identity_free(other);
	conv_teardown(&c);
}

/* The buyer refuses a statement whose member set is not its session's, or
 * whose tree head the pinned seller key did not sign. */
static void
test_buyer_statement_forgeries(void **state)
{
	enum forgery { GOOD, OTHER_KEY, OTHER_ROOT, NO_HEAD };
	static const struct {
		int version;
		enum forgery f;
		enum sdpp_err e;
	} t[] = {
		{ 2, GOOD, SDPP_OK },
		{ 2, OTHER_KEY, SDPP_E_SIGNATURE },
		{ 2, OTHER_ROOT, SDPP_E_SIGNATURE },
		{ 2, NO_HEAD, SDPP_E_BAD_MESSAGE },
		{ 1, NO_HEAD, SDPP_OK },
		{ 1, GOOD, SDPP_E_BAD_MESSAGE },
	};
	struct sdpp_identity *other;
	struct sdpp_msg m;
	struct conv c;
	char *frame;
	size_t i, len;

	(void)state;
	assert_int_equal(sdpp_identity_generate(&other), SDPP_OK);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		run_to_exit(&c, t[i].version);
		memset(&m, 0, sizeof(m));
		m.type = SDPP_T_EXIT;
		m.from = SDPP_ROLE_SELLER;
		snprintf(m.verification, sizeof(m.verification), "ledger:5");
		memcpy(m.u.statement.order_id, sdpp_buyer_order_id(c.b), SDPP_ORDER_ID_BYTES);
		m.u.statement.delivered = m.u.statement.acked = 2;
		m.u.statement.total_due = m.u.statement.total_paid = 6;
		m.u.statement.settled = 1;
		m.u.statement.version = t[i].f == NO_HEAD ? 1 : 2;
		m.u.statement.tree_head.size = 5;
		m.u.statement.tree_head.time = 1764115200000;
		memset(m.u.statement.tree_head.root, 0x5a, SDPP_TREE_HEAD_ROOT_BYTES);
		assert_int_equal(sdpp_tree_head_sign(
		                     &m.u.statement.tree_head, t[i].f == OTHER_KEY ? other : c.sid),
		    SDPP_OK);
		if (t[i].f == OTHER_ROOT)
			m.u.statement.tree_head.root[31] ^= 0x80;
		frame = forge(&m, c.sid, &len);
		sdpp_out_clear(&c.bo);
		assert_int_equal(sdpp_buyer_input(c.b, frame, len, c.now, &c.bo), t[i].e);
		assert_true(sdpp_buyer_done(c.b));
		if (t[i].e != SDPP_OK)
			assert_non_null(strstr(c.bo.buf, sdpp_err_code(t[i].e)));
		else
			assert_int_equal(c.bo.ev[0].type, SDPP_EV_STATEMENT);
		free(frame);
		conv_teardown(&c);
	}
	sdpp_identity_free(other);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_conversation),
		cmocka_unit_test(test_cumulative_acks_signed_items),
		cmocka_unit_test(test_open_ended_exit),
		cmocka_unit_test(test_prepay),
		cmocka_unit_test(test_unpaid_pause_and_timeout),
		cmocka_unit_test(test_pause_resume),
		cmocka_unit_test(test_ack_timeout_resend),
		cmocka_unit_test(test_handshake_timeout),
		cmocka_unit_test(test_shutdown_final_invoice),
		cmocka_unit_test(test_shutdown_grace),
		cmocka_unit_test(test_shutdown_grace_waits_for_confirmation),
		cmocka_unit_test(test_payment_clock_waits_for_invoice),
		cmocka_unit_test(test_overpaid_not_blocked),
		cmocka_unit_test(test_exit_waits_for_last_invoice),
		cmocka_unit_test(test_invoices_recorded_together),
		cmocka_unit_test(test_seller_illegal_transitions),
		cmocka_unit_test(test_seller_bad_orders),
		cmocka_unit_test(test_seller_stream_forgeries),
		cmocka_unit_test(test_seller_pays_older_invoice),
		cmocka_unit_test(test_buyer_forgeries),
		cmocka_unit_test(test_buyer_bad_invoices),
		cmocka_unit_test(test_buyer_signed_batches),
		cmocka_unit_test(test_chain_payments),
		cmocka_unit_test(test_versions_answered_in_kind),
		cmocka_unit_test(test_v1_menu_capped),
		cmocka_unit_test(test_order_version_mismatch),
		cmocka_unit_test(test_order_topic),
		cmocka_unit_test(test_buyer_refuses_other_version),
		cmocka_unit_test(test_statement_tree_head),
		cmocka_unit_test(test_buyer_statement_forgeries),
	};

	return cmocka_run_group_tests_name("session", tests, NULL, NULL);
}
