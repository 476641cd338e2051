/* Resume (sdpp/2) in memory: orders survive cuts that lose frames each way. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sdpp/enc.h"
#include "sdpp/session.h"
#include "tests/common/conv.h"

#define RESUME_MS 60000

/* ---- The host's side of a dropped connection. */

static size_t
pipe_frames(const struct pipe *p)
{
	size_t i, n = 0;

	for (i = p->off; i < p->len; i++)
		n += p->buf[i] == '\n';
	return n;
}

/* One frame seller -> buyer; 0 if none was waiting. */
static int
to_buyer(struct conv *c)
{
	char frame[MAXF];
	size_t len;

	if (sdpp_buyer_done(c->b) || !pipe_next(&c->s2b, frame, sizeof(frame), &len))
		return 0;
	(void)sdpp_buyer_input(c->b, frame, len, c->now, &c->bo);
	buyer_drain(c);
	return 1;
}

/* One frame buyer -> seller; 0 if none was waiting. */
static int
to_seller(struct conv *c)
{
	char frame[MAXF];
	size_t len;

	if (sdpp_seller_done(c->s) || !pipe_next(&c->b2s, frame, sizeof(frame), &len))
		return 0;
	conv_seller_input(c, frame, len);
	return 1;
}

/* Sample i ({"v":400+i}) into the seller; its frames wait in the pipe. */
static void
sample_only(struct conv *c, int i)
{
	char payload[32];

	snprintf(payload, sizeof(payload), "{\"v\":%d}", 400 + i);
	(void)sdpp_seller_sample(c->s, "building/7/floor2/co2", (const uint8_t *)payload,
	    strlen(payload), 1764115200000 + i, c->now, &c->so);
	seller_drain(c);
}

/*
 * The connection drops. Of the frames in flight, the first keep_s2b toward
 * the buyer and keep_b2s toward the seller still arrive; the rest are lost,
 * and so is everything either side writes until the buyer resumes. detach:
 * the seller notices (else its connection looks alive: half-open TCP).
 */
static void
cut(struct conv *c, size_t keep_s2b, size_t keep_b2s, int detach)
{
	struct pipe s2b = c->s2b, b2s = c->b2s;
	char frame[MAXF];
	size_t len, i;

	memset(&c->s2b, 0, sizeof(c->s2b));
	memset(&c->b2s, 0, sizeof(c->b2s));
	c->cut = 1;
	for (i = 0;
	     i < keep_b2s && !sdpp_seller_done(c->s) && pipe_next(&b2s, frame, sizeof(frame), &len);
	     i++)
		conv_seller_input(c, frame, len);
	for (i = 0;
	     i < keep_s2b && !sdpp_buyer_done(c->b) && pipe_next(&s2b, frame, sizeof(frame), &len);
	     i++) {
		(void)sdpp_buyer_input(c->b, frame, len, c->now, &c->bo);
		buyer_drain(c);
	}
	free(s2b.buf);
	free(b2s.buf);
	if (detach) {
		assert_true(sdpp_seller_resumable(c->s));
		sdpp_seller_detach(c->s, c->now);
		assert_true(sdpp_seller_detached(c->s));
	}
}

/*
 * A new connection whose first frame is frame: a fresh seller session (same
 * config) hands it to the host as SDPP_EV_RESUME, and the host offers it to
 * the held order, c->s. Accepted: the answer waits in s2b. Refused: the
 * fresh session answers with the code (checked) and the held order must not
 * have changed in any way we can see.
 */
static enum sdpp_err
offer(struct conv *c, const char *frame, size_t len, char *why, size_t whylen)
{
	struct sdpp_seller *f;
	struct sdpp_out fo;
	struct sdpp_progress before, after;
	struct sdpp_msg m;
	uint64_t deadline = sdpp_seller_deadline(c->s);
	int detached = sdpp_seller_detached(c->s);
	enum sdpp_err e;

	sdpp_out_init(&fo, 1 << 16);
	assert_int_equal(sdpp_seller_new(&f, &c->scfg, c->now), SDPP_OK);
	assert_int_equal(sdpp_seller_input(f, frame, len, c->now, &fo), SDPP_OK);
	assert_int_equal(fo.len, 0);
	assert_int_equal(fo.nev, 1);
	assert_int_equal(fo.ev[0].type, SDPP_EV_RESUME);
	assert_int_equal(fo.ev[0].msg->type, SDPP_T_RESUME);
	sdpp_seller_progress(c->s, &before);
	e = sdpp_seller_resume(c->s, fo.ev[0].msg, c->now, &c->so, why, whylen);
	if (e == SDPP_OK) {
		c->cut = 0;
		seller_drain(c);
	} else {
		assert_int_equal(c->so.len, 0);
		assert_int_equal(c->so.nev, 0);
		assert_true(why[0] != '\0');
		sdpp_seller_progress(c->s, &after);
		assert_memory_equal(&before, &after, sizeof(before));
		assert_int_equal(sdpp_seller_detached(c->s), detached);
		assert_true(sdpp_seller_deadline(c->s) == deadline);
		assert_false(sdpp_seller_done(c->s));
		/* The new connection hears why, then closes. */
		sdpp_out_clear(&fo);
		assert_int_equal(sdpp_seller_fail(f, e, why, &fo), e);
		memset(&m, 0, sizeof(m));
		assert_true(fo.len > 0);
		assert_int_equal(
		    sdpp_msg_parse(&m, fo.buf, fo.len - 1, SDPP_ROLE_SELLER, NULL, 0), SDPP_OK);
		assert_int_equal(m.type, SDPP_T_ERROR);
		assert_string_equal(m.u.error.code, sdpp_err_code(e));
		sdpp_msg_free(&m);
	}
	sdpp_seller_free(f);
	sdpp_out_free(&fo);
	return e;
}

/* The buyer, on a new connection, resumes; the seller's answer and what
 * follows wait in s2b. *saved (if not NULL) gets the resume frame. */
static enum sdpp_err
rejoin_keep(struct conv *c, char **saved, size_t *savedlen)
{
	char frame[MAXF], why[SDPP_TEXT_MAX + 1];
	size_t len;
	enum sdpp_err e;

	assert_int_equal(pipe_frames(&c->b2s), 0);
	c->cut = 0;
	assert_true(sdpp_buyer_resumable(c->b));
	assert_int_equal(sdpp_buyer_resume(c->b, c->now, &c->bo), SDPP_OK);
	buyer_drain(c);
	/* Nothing but the resume until the seller answers. */
	assert_int_equal(pipe_frames(&c->b2s), 1);
	assert_true(pipe_next(&c->b2s, frame, sizeof(frame), &len));
	if (saved != NULL) {
		*saved = malloc(len);
		assert_non_null(*saved);
		memcpy(*saved, frame, len);
		*savedlen = len;
	}
	e = offer(c, frame, len, why, sizeof(why));
	if (e != SDPP_OK)
		print_message("resume refused: %s\n", why);
	return e;
}

static enum sdpp_err
rejoin(struct conv *c)
{
	return rejoin_keep(c, NULL, NULL);
}

/* A resume as anyone may write it, signed by `by`. */
static char *
forge_resume(struct conv *c, const struct sdpp_identity *by, uint64_t seq, const uint8_t *digest,
    uint64_t invoice, uint64_t attempt, size_t *len)
{
	struct sdpp_msg m;
	char *frame = NULL;

	memset(&m, 0, sizeof(m));
	m.type = SDPP_T_RESUME;
	m.from = SDPP_ROLE_BUYER;
	memcpy(m.u.resume.order_id, sdpp_buyer_order_id(c->b), SDPP_ORDER_ID_BYTES);
	m.u.resume.seq = seq;
	memcpy(m.u.resume.digest, digest, SDPP_DIGEST_BYTES);
	m.u.resume.invoice = invoice;
	m.u.resume.attempt = attempt;
	assert_int_equal(sdpp_msg_encode(&m, by, &frame, len), SDPP_OK);
	*len -= 1; /* without '\n' */
	return frame;
}

static enum sdpp_err
offer_forged(struct conv *c, const struct sdpp_identity *by, uint64_t seq, const uint8_t *digest,
    uint64_t invoice, uint64_t attempt)
{
	char why[SDPP_TEXT_MAX + 1];
	size_t len;
	char *f = forge_resume(c, by, seq, digest, invoice, attempt, &len);
	enum sdpp_err e = offer(c, f, len, why, sizeof(why));

	free(f);
	return e;
}

/* The types of the frames waiting in p, in order (up to max). */
static size_t
pipe_types(const struct pipe *p, enum sdpp_type *types, uint64_t *seqs, size_t max)
{
	size_t off = p->off, n = 0;

	while (off < p->len && n < max) {
		const char *nl = memchr(p->buf + off, '\n', p->len - off);
		struct sdpp_msg m;

		assert_non_null(nl);
		memset(&m, 0, sizeof(m));
		assert_int_equal(sdpp_msg_parse(&m, p->buf + off, (size_t)(nl - (p->buf + off)),
		                     SDPP_ROLE_SELLER, NULL, 0),
		    SDPP_OK);
		types[n] = m.type;
		seqs[n] = m.type == SDPP_T_DATA           ? m.u.data.seq
		          : m.type == SDPP_T_DATA_INVOICE ? m.u.invoice.number
		                                          : 0;
		n++;
		sdpp_msg_free(&m);
		off = (size_t)(nl - p->buf) + 1;
	}
	return n;
}

/* Items 1..n delivered once each, in order, with their payloads. */
static void
assert_items(const struct conv *c, int n, int first_sample)
{
	char want[32];
	int i;

	assert_int_equal(c->items, n);
	for (i = 0; i < n; i++) {
		snprintf(want, sizeof(want), "{\"v\":%d}", 400 + first_sample + i);
		assert_true(c->item_seq[i] == (uint64_t)i + 1);
		assert_string_equal(c->item_payload[i], want);
	}
}

static void
resume_setup(struct conv *c, uint64_t k, uint64_t ack_every, uint64_t price)
{
	conv_setup(c, k, ack_every, price);
	c->scfg.resume_timeout_ms = RESUME_MS;
}

/* ---- Tests. */

/* Items and an invoice lost in flight come again after `resumed`, in their
 * places: each item reaches the buyer once, the bill adds up. */
static void
test_items_lost_resent(void **state)
{
	struct conv c;
	struct sdpp_progress p;
	enum sdpp_type t[16];
	uint64_t n[16];
	int i;

	(void)state;
	resume_setup(&c, 4, 1, 3);
	conv_start(&c);
	conv_order(&c, "co2", 10);
	for (i = 1; i <= 3; i++)
		conv_sample(&c, i);
	for (i = 4; i <= 6; i++)
		sample_only(&c, i);
	/* In flight: item 4, invoice 1, items 5 and 6. Item 4 arrives; its
	 * ACK and the rest are lost. */
	assert_int_equal(pipe_frames(&c.s2b), 4);
	cut(&c, 1, 0, 1);
	assert_int_equal(c.items, 4);
	sample_only(&c, 7); /* queued while detached */
	assert_int_equal(rejoin(&c), SDPP_OK);
	/* resumed, invoice 1 where it was (after item 4), 5, 6, then 7. */
	assert_int_equal(pipe_types(&c.s2b, t, n, 16), 5);
	assert_int_equal(t[0], SDPP_T_RESUMED);
	assert_true(t[1] == SDPP_T_DATA_INVOICE && n[1] == 1);
	assert_true(t[2] == SDPP_T_DATA && n[2] == 5);
	assert_true(t[3] == SDPP_T_DATA && n[3] == 6);
	assert_true(t[4] == SDPP_T_DATA && n[4] == 7);
	pump(&c);
	assert_int_equal(c.seller_rejoined, 1);
	assert_int_equal(c.buyer_rejoined, 1);
	assert_true(c.last_resumed.seq == 4 && c.last_resumed.sent == 6);
	assert_true(c.last_resumed.invoice == 1 && c.last_resumed.paid == 0);
	assert_true(c.last_resumed.dropped == 0);
	assert_memory_equal(c.last_resumed.order_id, sdpp_buyer_order_id(c.b), SDPP_ORDER_ID_BYTES);
	for (i = 8; i <= 10; i++)
		conv_sample(&c, i);
	assert_items(&c, 10, 1);
	assert_int_equal(c.invoices, 2);
	assert_true(c.invoice_first[0] == 1 && c.invoice_last[0] == 4 && c.invoice_total[0] == 12);
	assert_true(c.invoice_first[1] == 5 && c.invoice_last[1] == 8 && c.invoice_total[1] == 24);
	assert_int_equal(c.payments, 2);
	assert_int_equal(c.statements, 1);
	assert_true(c.statement.delivered == 10 && c.statement.acked == 10);
	assert_true(c.statement.total_due == 30 && c.statement.total_paid == 30);
	assert_true(c.statement.settled);
	assert_int_equal(c.seller_close_err, SDPP_OK);
	assert_int_equal(c.buyer_close_err, SDPP_OK);
	sdpp_seller_progress(c.s, &p);
	assert_true(p.resent == 2 && p.sent == 10 && p.total_paid == 30 && p.dropped == 0);
	sdpp_buyer_progress(c.b, &p);
	assert_true(p.duplicates == 0 && p.sent == 10);
	conv_teardown(&c);
}

/* A fixed order's last invoice lost: the buyer, waiting for it to exit,
 * gets it with the resume, pays, exits. */
static void
test_last_invoice_lost(void **state)
{
	struct conv c;
	enum sdpp_type t[16];
	uint64_t n[16];
	int i;

	(void)state;
	resume_setup(&c, 4, 1, 3);
	conv_start(&c);
	conv_order(&c, "co2", 8);
	for (i = 1; i <= 7; i++)
		conv_sample(&c, i);
	sample_only(&c, 8);
	assert_int_equal(pipe_frames(&c.s2b), 2); /* item 8, invoice 2 */
	cut(&c, 1, 0, 1);
	assert_int_equal(c.items, 8);
	assert_int_equal(c.exits, 0);
	assert_int_equal(rejoin(&c), SDPP_OK);
	assert_int_equal(pipe_types(&c.s2b, t, n, 16), 2);
	assert_true(t[0] == SDPP_T_RESUMED && t[1] == SDPP_T_DATA_INVOICE && n[1] == 2);
	pump(&c);
	assert_int_equal(c.invoices, 2);
	assert_int_equal(c.payments, 2);
	assert_int_equal(c.statements, 1);
	assert_true(c.statement.total_due == 24 && c.statement.total_paid == 24);
	assert_true(c.statement.settled);
	conv_teardown(&c);
}

/* A voucher the seller holds from this buyer, as if it had paid ahead. */
static void
pay_ahead(struct conv *c, uint64_t invoice, uint64_t total)
{
	struct sdpp_msg m;
	char *frame = NULL;
	size_t len = 0;

	memset(&m, 0, sizeof(m));
	m.type = SDPP_T_PAYMENT_ACK;
	m.from = SDPP_ROLE_BUYER;
	memcpy(m.u.payment.order_id, sdpp_buyer_order_id(c->b), SDPP_ORDER_ID_BYTES);
	m.u.payment.invoice = invoice;
	m.u.payment.total = total;
	assert_int_equal(sdpp_msg_encode(&m, c->bid, &frame, &len), SDPP_OK);
	assert_int_equal(sdpp_seller_input(c->s, frame, len - 1, c->now, &c->so), SDPP_OK);
	seller_drain(c);
	free(frame);
}

/* A buyer that paid ahead does not pay, or name, an invoice its credit
 * covers; lost in a drop, that invoice still comes again (the seller keeps
 * invoices until the buyer names them, not until they are paid). */
static void
test_paid_ahead_invoice_lost(void **state)
{
	struct conv c;
	enum sdpp_type t[16];
	uint64_t n[16];
	size_t k;
	int i;

	(void)state;
	resume_setup(&c, 4, 1, 3);
	conv_start(&c);
	conv_order(&c, "co2", 12);
	for (i = 1; i <= 4; i++)
		conv_sample(&c, i);
	assert_int_equal(c.payments, 1);
	pay_ahead(&c, 1, 36); /* all three blocks */
	for (i = 5; i <= 8; i++)
		sample_only(&c, i); /* items 5-8 and invoice 2, all to be lost */
	pay_ahead(&c, 1, 37);       /* a later credit: the seller prunes what it may */
	c.hold_payments = 1;
	cut(&c, 0, 0, 1);
	assert_int_equal(c.invoices, 1);
	assert_int_equal(rejoin(&c), SDPP_OK);
	k = pipe_types(&c.s2b, t, n, 16);
	assert_int_equal(k, 6);
	assert_true(t[0] == SDPP_T_RESUMED && t[5] == SDPP_T_DATA_INVOICE && n[5] == 2);
	pump(&c);
	assert_int_equal(c.invoices, 2);
	assert_int_equal(c.items, 8);
	assert_false(sdpp_buyer_done(c.b));
	conv_teardown(&c);
}

/* Everything arrives but the ACKs: the resume is the receipt, nothing is
 * sent again. */
static void
test_acks_lost(void **state)
{
	struct conv c;
	struct sdpp_progress p;
	int i;

	(void)state;
	resume_setup(&c, 4, 1, 3);
	conv_start(&c);
	conv_order(&c, "co2", 8);
	for (i = 1; i <= 3; i++)
		sample_only(&c, i);
	cut(&c, 3, 0, 1);
	sdpp_seller_progress(c.s, &p);
	assert_true(p.sent == 3 && p.acked == 0);
	assert_int_equal(rejoin(&c), SDPP_OK);
	assert_int_equal(pipe_frames(&c.s2b), 1); /* resumed */
	sdpp_seller_progress(c.s, &p);
	assert_true(p.acked == 3 && p.resent == 0);
	pump(&c);
	for (i = 4; i <= 8; i++)
		conv_sample(&c, i);
	assert_items(&c, 8, 1);
	assert_true(c.statement.total_due == 24 && c.statement.total_paid == 24);
	conv_teardown(&c);
}

/* A payment_ack lost in flight is sent again after `resumed` and credited
 * once; one that arrived is not sent again. */
static void
test_payment_lost_resent(void **state)
{
	struct conv c;
	struct sdpp_progress p;
	int i, lose;

	(void)state;
	for (lose = 0; lose <= 1; lose++) {
		resume_setup(&c, 4, 1, 3);
		conv_start(&c);
		conv_order(&c, "co2", 8);
		for (i = 1; i <= 3; i++)
			conv_sample(&c, i);
		sample_only(&c, 4);
		while (to_buyer(&c))
			;
		/* The buyer's answer: the ACK of item 4, the payment of invoice 1. */
		assert_int_equal(pipe_frames(&c.b2s), 2);
		cut(&c, 0, lose ? 1 : 2, 1);
		assert_int_equal(c.payments, lose ? 0 : 1);
		assert_int_equal(rejoin(&c), SDPP_OK);
		/* The buyer sends its payment on `resumed` if the seller lacks it. */
		assert_int_equal(to_buyer(&c), 1);
		assert_true(c.last_resumed.paid == (lose ? 0 : 12));
		assert_int_equal(pipe_frames(&c.b2s), lose ? 1 : 0);
		pump(&c);
		assert_int_equal(c.payments, 1);
		sdpp_seller_progress(c.s, &p);
		assert_true(p.total_paid == 12);
		for (i = 5; i <= 8; i++)
			conv_sample(&c, i);
		assert_items(&c, 8, 1);
		assert_int_equal(c.payments, 2);
		assert_true(c.statement.total_due == 24 && c.statement.total_paid == 24);
		assert_int_equal(c.seller_close_err, SDPP_OK);
		conv_teardown(&c);
	}
}

/* A payment the buyer completes while disconnected, or while its resume is
 * unanswered, goes to the seller after `resumed`. */
static void
test_payment_while_resuming(void **state)
{
	struct conv c;
	int i, when;

	(void)state;
	for (when = 0; when <= 1; when++) {
		resume_setup(&c, 4, 1, 3);
		conv_start(&c);
		conv_order(&c, "co2", 8);
		c.hold_payments = 1;
		for (i = 1; i <= 4; i++)
			conv_sample(&c, i);
		assert_int_equal(c.invoices, 1);
		cut(&c, 0, 0, 1);
		c.hold_payments = 0;
		if (when == 0) {
			/* Paid with no connection: written into the void. */
			assert_int_equal(
			    sdpp_buyer_complete(c.b, c.held_pay_req, 1, "", c.now, &c.bo), SDPP_OK);
			buyer_drain(&c);
			assert_int_equal(rejoin(&c), SDPP_OK);
		} else {
			char frame[MAXF], why[SDPP_TEXT_MAX + 1];
			size_t len;

			c.cut = 0;
			assert_int_equal(sdpp_buyer_resume(c.b, c.now, &c.bo), SDPP_OK);
			buyer_drain(&c);
			assert_int_equal(
			    sdpp_buyer_complete(c.b, c.held_pay_req, 1, "", c.now, &c.bo), SDPP_OK);
			buyer_drain(&c);
			/* Held for `resumed`. */
			assert_int_equal(pipe_frames(&c.b2s), 1);
			assert_true(pipe_next(&c.b2s, frame, sizeof(frame), &len));
			assert_int_equal(offer(&c, frame, len, why, sizeof(why)), SDPP_OK);
		}
		pump(&c);
		assert_int_equal(c.payments, 1);
		for (i = 5; i <= 8; i++)
			conv_sample(&c, i);
		assert_items(&c, 8, 1);
		assert_int_equal(c.payments, 2);
		assert_true(c.statement.total_due == 24 && c.statement.total_paid == 24);
		assert_true(c.statement.settled);
		conv_teardown(&c);
	}
}

/* Ledger payments (chain_payments): a transfer lost in flight is claimed
 * again once; one under confirmation at the cut is not. */
static void
test_chain_payments_resume(void **state)
{
	struct conv c;
	struct sdpp_progress p;
	int i;

	(void)state;
	resume_setup(&c, 4, 4, 1);
	snprintf(c.menu.payment_method, sizeof(c.menu.payment_method), "iota");
	snprintf(c.bcfg.payment_address, sizeof(c.bcfg.payment_address), "0x%064x", 7);
	conv_start(&c);
	conv_order(&c, "co2", 12);
	/* Invoice 1's transfer lost. */
	for (i = 1; i <= 4; i++)
		sample_only(&c, i);
	while (to_buyer(&c))
		;
	assert_int_equal(pipe_frames(&c.b2s), 2); /* ACK 4, payment of invoice 1 */
	cut(&c, 0, 1, 1);
	assert_int_equal(rejoin(&c), SDPP_OK);
	pump(&c);
	assert_int_equal(c.payments, 1);
	assert_true(c.last_resumed.paid == 0);
	/* Invoice 2's transfer arrives but is still being confirmed at the cut. */
	c.hold_confirm = 1;
	for (i = 5; i <= 8; i++)
		conv_sample(&c, i);
	assert_int_equal(c.payments, 2);
	cut(&c, 0, 0, 1);
	assert_int_equal(rejoin(&c), SDPP_OK);
	assert_int_equal(to_buyer(&c), 1);
	assert_true(c.last_resumed.paid == 8);
	assert_int_equal(pipe_frames(&c.b2s), 0); /* nothing to claim again */
	c.hold_confirm = 0;
	assert_int_equal(
	    sdpp_seller_complete(c.s, c.held_confirm_req, 1, "", c.now, &c.so), SDPP_OK);
	seller_drain(&c);
	pump(&c);
	for (i = 9; i <= 12; i++)
		conv_sample(&c, i);
	assert_items(&c, 12, 1);
	assert_int_equal(c.payments, 3);
	sdpp_seller_progress(c.s, &p);
	assert_true(p.total_paid == 12);
	assert_true(c.statement.total_due == 12 && c.statement.total_paid == 12);
	assert_true(c.statement.settled);
	conv_teardown(&c);
}

/* Prepay: the invoice for the next block, lost with the items before it,
 * comes again after the last of them. */
static void
test_prepay_resume(void **state)
{
	struct conv c;
	enum sdpp_type t[16];
	uint64_t n[16];
	int i;

	(void)state;
	resume_setup(&c, 4, 1, 5);
	conv_start(&c);
	conv_order(&c, "occupancy", 6);
	assert_int_equal(c.invoices, 1);
	assert_int_equal(c.payments, 1);
	for (i = 1; i <= 4; i++)
		sample_only(&c, i);
	/* Items 1-4, then invoice 2 (for 5-6, delivered = 4). */
	assert_int_equal(pipe_frames(&c.s2b), 5);
	cut(&c, 2, 0, 1);
	assert_int_equal(rejoin(&c), SDPP_OK);
	assert_int_equal(pipe_types(&c.s2b, t, n, 16), 4);
	assert_int_equal(t[0], SDPP_T_RESUMED);
	assert_true(t[1] == SDPP_T_DATA && n[1] == 3);
	assert_true(t[2] == SDPP_T_DATA && n[2] == 4);
	assert_true(t[3] == SDPP_T_DATA_INVOICE && n[3] == 2);
	pump(&c);
	assert_int_equal(c.invoices, 2);
	assert_int_equal(c.payments, 2);
	for (i = 5; i <= 6; i++)
		conv_sample(&c, i);
	assert_items(&c, 6, 1);
	assert_true(c.statement.total_due == 30 && c.statement.total_paid == 30);
	assert_true(c.statement.settled);
	conv_teardown(&c);
}

/* The buyer's exit lost in flight: sent again after `resumed`; the
 * statement comes on the new connection. */
static void
test_exit_lost(void **state)
{
	struct conv c;
	int i;

	(void)state;
	resume_setup(&c, 4, 1, 3);
	conv_start(&c);
	conv_order(&c, "co2", 0);
	for (i = 1; i <= 5; i++)
		conv_sample(&c, i);
	assert_int_equal(sdpp_buyer_exit(c.b, c.now, &c.bo), SDPP_OK);
	buyer_drain(&c);
	cut(&c, 0, 0, 1);
	assert_int_equal(c.exits, 0);
	assert_true(sdpp_buyer_resumable(c.b));
	assert_int_equal(rejoin(&c), SDPP_OK);
	pump(&c);
	assert_int_equal(c.exits, 1);
	assert_int_equal(c.statements, 1);
	assert_true(c.statement.delivered == 5 && c.statement.acked == 5);
	assert_true(c.statement.total_due == 15 && c.statement.total_paid == 15);
	assert_true(c.statement.settled);
	assert_int_equal(c.seller_close_err, SDPP_OK);
	assert_int_equal(c.buyer_close_err, SDPP_OK);
	conv_teardown(&c);
}

/* A resume while the seller records the buyer's exit (EXITING): accepted;
 * the exit sent again is the same one and ignored; the statement goes to
 * the new connection. */
static void
test_resume_while_exiting(void **state)
{
	struct conv c;
	int i;

	(void)state;
	resume_setup(&c, 4, 1, 3);
	conv_start(&c);
	conv_order(&c, "co2", 0);
	c.hold_confirm = 1; /* the exit waits for this payment's confirmation */
	for (i = 1; i <= 5; i++)
		conv_sample(&c, i);
	assert_int_equal(c.payments, 1);
	assert_int_equal(sdpp_buyer_exit(c.b, c.now, &c.bo), SDPP_OK);
	buyer_drain(&c);
	pump(&c);
	assert_int_equal(c.exits, 0);
	assert_true(sdpp_seller_resumable(c.s)); /* EXITING */
	cut(&c, 0, 0, 1);
	assert_int_equal(rejoin(&c), SDPP_OK);
	pump(&c);
	assert_false(sdpp_seller_done(c.s));
	assert_int_equal(c.seller_got_error[0], '\0');
	c.hold_confirm = 0;
	assert_int_equal(
	    sdpp_seller_complete(c.s, c.held_confirm_req, 1, "", c.now, &c.so), SDPP_OK);
	seller_drain(&c);
	pump(&c);
	assert_int_equal(c.exits, 1);
	assert_int_equal(c.statements, 1);
	assert_true(c.statement.delivered == 5 && c.statement.total_due == 15);
	assert_true(c.statement.total_paid == 15 && c.statement.settled);
	assert_int_equal(c.seller_close_err, SDPP_OK);
	assert_int_equal(c.buyer_close_err, SDPP_OK);
	conv_teardown(&c);
}

/* The exit recorded while detached: the statement waits for the resume
 * (it went nowhere before, and the order was gone when the buyer came
 * back for it: unknown_order). */
static void
test_statement_while_detached(void **state)
{
	struct conv c;
	enum sdpp_type t[16];
	uint64_t n[16];
	int i, late;

	(void)state;
	for (late = 0; late <= 2; late++) {
		resume_setup(&c, 4, 1, 3);
		conv_start(&c);
		conv_order(&c, "co2", 0);
		c.hold_confirm = 1;
		for (i = 1; i <= 5; i++)
			conv_sample(&c, i);
		assert_int_equal(sdpp_buyer_exit(c.b, c.now, &c.bo), SDPP_OK);
		buyer_drain(&c);
		pump(&c);
		cut(&c, 0, 0, 1);
		c.hold_confirm = 0;
		if (late == 2) {
			/* Shutting down: a resume would be refused; closed once
			 * the exit is recorded. */
			assert_int_equal(sdpp_seller_shutdown(c.s, c.now, &c.so), SDPP_OK);
			seller_drain(&c);
			assert_false(sdpp_seller_done(c.s));
			assert_int_equal(
			    sdpp_seller_complete(c.s, c.held_confirm_req, 1, "", c.now, &c.so),
			    SDPP_OK);
			seller_drain(&c);
			assert_int_equal(c.exits, 1);
			assert_int_equal(c.seller_closed, 1);
			assert_int_equal(c.seller_close_err, SDPP_OK);
			conv_teardown(&c);
			continue;
		}
		assert_int_equal(
		    sdpp_seller_complete(c.s, c.held_confirm_req, 1, "", c.now, &c.so), SDPP_OK);
		seller_drain(&c);
		assert_int_equal(c.exits, 1);
		assert_false(sdpp_seller_done(c.s));
		assert_true(sdpp_seller_resumable(c.s));
		if (late) {
			/* Nobody came back: closed at the resume timeout, as
			 * an order its buyer ended (the exit is recorded). */
			c.now += RESUME_MS;
			assert_int_equal(sdpp_seller_tick(c.s, c.now, &c.so), SDPP_OK);
			seller_drain(&c);
			assert_int_equal(c.seller_closed, 1);
			assert_int_equal(c.seller_close_err, SDPP_OK);
			conv_teardown(&c);
			continue;
		}
		assert_int_equal(rejoin(&c), SDPP_OK);
		assert_int_equal(pipe_types(&c.s2b, t, n, 16), 2);
		assert_true(t[0] == SDPP_T_RESUMED && t[1] == SDPP_T_EXIT);
		assert_int_equal(c.seller_closed, 1);
		assert_int_equal(c.seller_close_err, SDPP_OK);
		pump(&c);
		assert_int_equal(c.statements, 1);
		assert_true(c.statement.delivered == 5 && c.statement.acked == 5);
		assert_true(c.statement.total_due == 15 && c.statement.total_paid == 15);
		assert_int_equal(c.buyer_close_err, SDPP_OK);
		conv_teardown(&c);
	}
}

/* Samples while detached queue within queue_max; beyond it the oldest go,
 * and `resumed` says how many went while detached (not before). */
static void
test_dropped_while_detached(void **state)
{
	struct conv c;
	int i;

	(void)state;
	resume_setup(&c, 4, 1, 1);
	c.menu.max_unpaid = 4;
	c.scfg.queue_max = 4;
	conv_start(&c);
	c.hold_payments = 1;
	conv_order(&c, "co2", 0);
	/* Paused after 4 unpaid items: 5 and 6 are dropped while connected. */
	for (i = 1; i <= 10; i++)
		conv_sample(&c, i);
	assert_int_equal(c.items, 4);
	assert_int_equal(c.dropped, 2);
	cut(&c, 0, 0, 1);
	for (i = 11; i <= 13; i++)
		sample_only(&c, i);
	assert_int_equal(c.dropped, 5); /* 7, 8, 9 while detached */
	assert_int_equal(rejoin(&c), SDPP_OK);
	pump(&c);
	assert_true(c.last_resumed.dropped == 3);
	c.hold_payments = 0;
	assert_int_equal(sdpp_buyer_complete(c.b, c.held_pay_req, 1, "", c.now, &c.bo), SDPP_OK);
	buyer_drain(&c);
	pump(&c);
	assert_int_equal(c.items, 8);
	assert_string_equal(c.item_payload[4], "{\"v\":410}");
	assert_string_equal(c.item_payload[7], "{\"v\":413}");
	/* Counted once: a later resume reports only its own gap. */
	cut(&c, 0, 0, 1);
	assert_int_equal(rejoin(&c), SDPP_OK);
	pump(&c);
	assert_true(c.last_resumed.dropped == 0);
	conv_teardown(&c);
}

/* Refused resumes leave the held order as it was, and it resumes after. */
static void
test_refusals(void **state)
{
	struct conv c;
	struct sdpp_identity *other;
	struct sdpp_progress p;
	uint8_t digest[SDPP_DIGEST_BYTES], bad[SDPP_DIGEST_BYTES];
	char *replay = NULL;
	size_t replaylen = 0;
	int i;

	(void)state;
	assert_int_equal(sdpp_identity_generate(&other), SDPP_OK);
	resume_setup(&c, 4, 1, 3);
	conv_start(&c);
	conv_order(&c, "co2", 0);
	for (i = 1; i <= 6; i++)
		conv_sample(&c, i);
	sample_only(&c, 7);
	sample_only(&c, 8);
	cut(&c, 0, 0, 1);
	sdpp_seller_progress(c.s, &p);
	assert_true(p.sent == 8 && p.acked == 6);
	memcpy(digest, c.last_ack_digest, sizeof(digest)); /* the chain at 6 */
	memcpy(bad, digest, sizeof(bad));
	bad[0] ^= 1;
	/* Well formed, accepted below as it is: each refusal changes one thing. */
	assert_int_equal(offer_forged(&c, other, 6, digest, 1, 1), SDPP_E_SIGNATURE);
	assert_int_equal(offer_forged(&c, c.sid, 6, digest, 1, 1), SDPP_E_SIGNATURE);
	assert_int_equal(offer_forged(&c, c.bid, 5, digest, 1, 1), SDPP_E_STALE_RESUME);
	assert_int_equal(offer_forged(&c, c.bid, 9, digest, 1, 1), SDPP_E_SEQUENCE);
	assert_int_equal(offer_forged(&c, c.bid, 6, bad, 1, 1), SDPP_E_DIGEST);
	assert_int_equal(offer_forged(&c, c.bid, 7, digest, 1, 1), SDPP_E_DIGEST);
	assert_int_equal(offer_forged(&c, c.bid, 6, digest, 3, 1), SDPP_E_INVOICE);
	/* The buyer's own resume (attempt 1) is taken; its replay is stale. */
	assert_int_equal(rejoin_keep(&c, &replay, &replaylen), SDPP_OK);
	pump(&c);
	assert_int_equal(c.items, 8);
	cut(&c, 0, 0, 1);
	{
		char why[SDPP_TEXT_MAX + 1];

		assert_int_equal(
		    offer(&c, replay, replaylen, why, sizeof(why)), SDPP_E_STALE_RESUME);
	}
	free(replay);
	sdpp_seller_progress(c.s, &p);
	assert_int_equal(
	    offer_forged(&c, c.bid, p.acked, c.last_ack_digest, 1, 1), SDPP_E_STALE_RESUME);
	assert_int_equal(rejoin(&c), SDPP_OK); /* attempt 2 */
	pump(&c);
	conv_sample(&c, 9);
	assert_items(&c, 9, 1);
	/* Shutting down: refused; the order still settles in its grace. */
	cut(&c, 0, 0, 1);
	assert_int_equal(sdpp_seller_shutdown(c.s, c.now, &c.so), SDPP_OK);
	seller_drain(&c);
	assert_false(sdpp_seller_done(c.s));
	assert_false(sdpp_seller_resumable(c.s));
	{
		char why[SDPP_TEXT_MAX + 1];
		char *f;
		size_t len;

		sdpp_seller_progress(c.s, &p);
		f = forge_resume(&c, c.bid, p.acked, c.last_ack_digest, 2, 9, &len);
		assert_int_equal(offer(&c, f, len, why, sizeof(why)), SDPP_E_SHUTDOWN);
		free(f);
	}
	conv_teardown(&c);
	sdpp_identity_free(other);
}

/* Orders that cannot be resumed: sdpp/1, and resume_timeout_ms 0. */
static void
test_not_resumable(void **state)
{
	struct conv c;
	uint8_t chain0[SDPP_DIGEST_BYTES];
	int v1;

	(void)state;
	for (v1 = 0; v1 <= 1; v1++) {
		if (v1) {
			resume_setup(&c, 4, 1, 3);
			c.bcfg.version = 1;
		} else {
			conv_setup(&c, 4, 1, 3); /* resume_timeout_ms 0 */
		}
		conv_start(&c);
		conv_order(&c, "co2", 0);
		conv_sample(&c, 1);
		assert_false(sdpp_seller_resumable(c.s));
		assert_int_equal(sdpp_buyer_resumable(c.b), !v1);
		if (v1)
			assert_int_equal(sdpp_buyer_resume(c.b, c.now, &c.bo), SDPP_E_INVAL);
		sdpp_seller_detach(c.s, c.now);
		assert_false(sdpp_seller_detached(c.s));
		memcpy(chain0, c.last_ack_digest, sizeof(chain0));
		assert_int_equal(offer_forged(&c, c.bid, 1, chain0, 0, 1), SDPP_E_UNKNOWN_ORDER);
		conv_teardown(&c);
	}
}

/* Detached past resume_timeout_ms: closed with resume_timeout. */
static void
test_resume_timeout(void **state)
{
	struct conv c;
	uint64_t t;

	(void)state;
	resume_setup(&c, 4, 1, 3);
	conv_start(&c);
	conv_order(&c, "co2", 0);
	conv_sample(&c, 1);
	sample_only(&c, 2); /* unacked: no ACK timer while detached */
	cut(&c, 0, 0, 1);
	t = c.now;
	assert_true(sdpp_seller_deadline(c.s) == t + RESUME_MS);
	c.now = t + RESUME_MS - 1;
	assert_int_equal(sdpp_seller_tick(c.s, c.now, &c.so), SDPP_OK);
	assert_int_equal(c.so.len, 0);
	seller_drain(&c);
	assert_false(sdpp_seller_done(c.s));
	c.now = t + RESUME_MS;
	assert_int_equal(sdpp_seller_tick(c.s, c.now, &c.so), SDPP_E_RESUME_TIMEOUT);
	seller_drain(&c);
	assert_true(sdpp_seller_done(c.s));
	assert_int_equal(c.seller_close_err, SDPP_E_RESUME_TIMEOUT);
	conv_teardown(&c);
}

/* The ACK timer stops while detached and starts again on resume: an item
 * resent then and not acknowledged is resent once more at ack_timeout. */
static void
test_ack_timer_across_resume(void **state)
{
	struct conv c;
	struct sdpp_progress p;
	int i;

	(void)state;
	resume_setup(&c, 4, 4, 1);
	c.scfg.ack_timeout_ms = 1000;
	c.scfg.max_resends = 1;
	conv_start(&c);
	conv_order(&c, "co2", 0);
	for (i = 1; i <= 2; i++)
		conv_sample(&c, i); /* not acknowledged: ack_every 4 */
	sample_only(&c, 3);
	cut(&c, 0, 0, 1);
	/* Five ACK timeouts pass: nothing sent, nothing closed. */
	assert_true(sdpp_seller_deadline(c.s) == c.now + RESUME_MS);
	for (i = 0; i < 5; i++) {
		c.now += 1000;
		assert_int_equal(sdpp_seller_tick(c.s, c.now, &c.so), SDPP_OK);
		assert_int_equal(c.so.len, 0);
		seller_drain(&c);
	}
	assert_false(sdpp_seller_done(c.s));
	assert_int_equal(rejoin(&c), SDPP_OK);
	pump(&c);
	assert_int_equal(c.items, 3);
	sdpp_seller_progress(c.s, &p);
	assert_true(p.acked == 2 && p.sent == 3 && p.resent == 1);
	assert_true(sdpp_seller_deadline(c.s) == c.now + 1000);
	c.now += 1000;
	assert_int_equal(sdpp_seller_tick(c.s, c.now, &c.so), SDPP_OK);
	seller_drain(&c);
	pump(&c); /* the buyer ACKs the duplicate */
	sdpp_seller_progress(c.s, &p);
	assert_true(p.acked == 3 && p.resent == 2);
	sdpp_buyer_progress(c.b, &p);
	assert_true(p.duplicates == 1);
	assert_int_equal(c.items, 3);
	assert_false(sdpp_seller_done(c.s));
	conv_teardown(&c);
}

/* The payment timer runs on while detached. */
static void
test_payment_timer_while_detached(void **state)
{
	struct conv c;
	int i;

	(void)state;
	resume_setup(&c, 2, 1, 1);
	c.menu.max_unpaid = 2;
	c.scfg.payment_timeout_ms = 10000;
	conv_start(&c);
	c.hold_payments = 1;
	conv_order(&c, "co2", 0);
	for (i = 1; i <= 3; i++)
		conv_sample(&c, i);
	assert_int_equal(c.paused, 1);
	assert_true(sdpp_seller_deadline(c.s) == c.now + 10000);
	c.now += 4000;
	cut(&c, 0, 0, 1);
	assert_true(sdpp_seller_deadline(c.s) == c.now + 6000);
	c.now += 6000;
	assert_int_equal(sdpp_seller_tick(c.s, c.now, &c.so), SDPP_E_PAYMENT_TIMEOUT);
	seller_drain(&c);
	assert_int_equal(c.seller_close_err, SDPP_E_PAYMENT_TIMEOUT);
	conv_teardown(&c);
}

/* The buyer waits response_timeout_ms for `resumed`, then gives up. */
static void
test_buyer_resume_timeout(void **state)
{
	struct conv c;

	(void)state;
	resume_setup(&c, 4, 1, 3);
	c.bcfg.response_timeout_ms = 2000;
	conv_start(&c);
	conv_order(&c, "co2", 0);
	conv_sample(&c, 1);
	cut(&c, 0, 0, 1);
	c.cut = 0;
	assert_int_equal(sdpp_buyer_resume(c.b, c.now, &c.bo), SDPP_OK);
	buyer_drain(&c);
	assert_true(sdpp_buyer_deadline(c.b) == c.now + 2000);
	c.now += 1999;
	assert_int_equal(sdpp_buyer_tick(c.b, c.now, &c.bo), SDPP_OK);
	c.now += 1;
	assert_int_equal(sdpp_buyer_tick(c.b, c.now, &c.bo), SDPP_E_IDLE_TIMEOUT);
	buyer_drain(&c);
	assert_int_equal(c.buyer_close_err, SDPP_E_IDLE_TIMEOUT);
	conv_teardown(&c);
}

/* The seller's `resumed` lost in its turn: the buyer resumes again (a
 * higher attempt) and what it paid meanwhile still arrives once. */
static void
test_resumed_lost(void **state)
{
	struct conv c;
	int i;

	(void)state;
	resume_setup(&c, 4, 1, 3);
	conv_start(&c);
	conv_order(&c, "co2", 8);
	c.hold_payments = 1;
	for (i = 1; i <= 4; i++)
		conv_sample(&c, i);
	sample_only(&c, 5);
	cut(&c, 0, 0, 1);
	assert_int_equal(rejoin(&c), SDPP_OK);
	/* Paid while resuming; then `resumed` and item 5 are lost. */
	c.hold_payments = 0;
	assert_int_equal(sdpp_buyer_complete(c.b, c.held_pay_req, 1, "", c.now, &c.bo), SDPP_OK);
	buyer_drain(&c);
	assert_int_equal(pipe_frames(&c.b2s), 0);
	assert_int_equal(pipe_frames(&c.s2b), 2);
	cut(&c, 0, 0, 1);
	assert_int_equal(c.buyer_rejoined, 0);
	assert_int_equal(rejoin(&c), SDPP_OK);
	pump(&c);
	assert_int_equal(c.seller_rejoined, 2);
	assert_int_equal(c.buyer_rejoined, 1);
	assert_int_equal(c.payments, 1);
	for (i = 6; i <= 8; i++)
		conv_sample(&c, i);
	assert_items(&c, 8, 1);
	assert_int_equal(c.payments, 2);
	assert_true(c.statement.total_due == 24 && c.statement.total_paid == 24);
	conv_teardown(&c);
}

/* An invoice recorded while the order is detached goes out with the
 * resume, in its place. */
static void
test_invoice_recorded_while_detached(void **state)
{
	struct conv c;
	enum sdpp_type t[16];
	uint64_t n[16];
	int i;

	(void)state;
	resume_setup(&c, 4, 1, 3);
	conv_start(&c);
	conv_order(&c, "co2", 8);
	c.hold_invoices = 1;
	for (i = 1; i <= 5; i++)
		conv_sample(&c, i);
	assert_int_equal(c.invoices, 0);
	cut(&c, 0, 0, 1);
	c.hold_invoices = 0;
	assert_int_equal(
	    sdpp_seller_complete(c.s, c.held_invoice_req, 1, "rec-x", c.now, &c.so), SDPP_OK);
	seller_drain(&c);
	assert_int_equal(rejoin(&c), SDPP_OK);
	assert_int_equal(pipe_types(&c.s2b, t, n, 16), 2);
	assert_true(t[0] == SDPP_T_RESUMED && c.last_resumed.invoice == 0);
	assert_true(t[1] == SDPP_T_DATA_INVOICE && n[1] == 1);
	pump(&c);
	assert_true(c.last_resumed.invoice == 1);
	assert_int_equal(c.invoices, 1);
	assert_int_equal(c.payments, 1);
	for (i = 6; i <= 8; i++)
		conv_sample(&c, i);
	assert_items(&c, 8, 1);
	assert_true(c.statement.total_due == 24 && c.statement.total_paid == 24);
	conv_teardown(&c);
}

/* The buyer decides to exit while its resume is unanswered: the exit goes
 * after `resumed`, and items sent again are not taken. */
static void
test_exit_while_resuming(void **state)
{
	struct conv c;
	char frame[MAXF], why[SDPP_TEXT_MAX + 1];
	size_t len;
	int i;

	(void)state;
	resume_setup(&c, 4, 1, 3);
	conv_start(&c);
	conv_order(&c, "co2", 0);
	for (i = 1; i <= 5; i++)
		conv_sample(&c, i);
	sample_only(&c, 6);
	cut(&c, 0, 0, 1);
	c.cut = 0;
	assert_int_equal(sdpp_buyer_resume(c.b, c.now, &c.bo), SDPP_OK);
	buyer_drain(&c);
	assert_int_equal(sdpp_buyer_exit(c.b, c.now, &c.bo), SDPP_OK);
	buyer_drain(&c);
	assert_int_equal(pipe_frames(&c.b2s), 1);
	assert_true(pipe_next(&c.b2s, frame, sizeof(frame), &len));
	assert_int_equal(offer(&c, frame, len, why, sizeof(why)), SDPP_OK);
	pump(&c);
	assert_int_equal(c.items, 5);
	assert_int_equal(c.statements, 1);
	assert_true(c.statement.delivered == 6 && c.statement.acked == 5);
	assert_true(c.statement.total_due == 15 && c.statement.total_paid == 15);
	assert_true(c.statement.settled);
	conv_teardown(&c);
}

/* The idle timer (order complete, no exit) runs on while detached. */
static void
test_idle_timer_while_detached(void **state)
{
	struct conv c;
	int i;

	(void)state;
	resume_setup(&c, 4, 1, 3);
	c.scfg.idle_timeout_ms = 5000;
	conv_start(&c);
	conv_order(&c, "co2", 4);
	for (i = 1; i <= 3; i++)
		conv_sample(&c, i);
	sample_only(&c, 4);
	while (to_buyer(&c))
		;
	/* The ACK of item 4 arrives, the payment and the exit do not. */
	assert_int_equal(pipe_frames(&c.b2s), 3);
	cut(&c, 0, 1, 1);
	assert_true(sdpp_seller_deadline(c.s) == c.now + 5000);
	c.now += 5000;
	assert_int_equal(sdpp_seller_tick(c.s, c.now, &c.so), SDPP_E_IDLE_TIMEOUT);
	seller_drain(&c);
	assert_int_equal(c.seller_close_err, SDPP_E_IDLE_TIMEOUT);
	conv_teardown(&c);
}

/* Half-open: the seller never saw the old connection drop; the resume
 * takes the order over all the same. */
static void
test_takeover(void **state)
{
	struct conv c;
	int i;

	(void)state;
	resume_setup(&c, 4, 1, 3);
	conv_start(&c);
	conv_order(&c, "co2", 8);
	for (i = 1; i <= 2; i++)
		conv_sample(&c, i);
	for (i = 3; i <= 5; i++)
		sample_only(&c, i);
	cut(&c, 1, 0, 0);
	assert_false(sdpp_seller_detached(c.s));
	assert_int_equal(rejoin(&c), SDPP_OK);
	pump(&c);
	assert_true(c.last_resumed.seq == 3 && c.last_resumed.sent == 5);
	for (i = 6; i <= 8; i++)
		conv_sample(&c, i);
	assert_items(&c, 8, 1);
	assert_true(c.statement.total_due == 24 && c.statement.total_paid == 24);
	conv_teardown(&c);
}

/* A small deterministic generator (xorshift64*), so a failure repeats. */
static uint64_t
rnd(uint64_t *x)
{
	*x ^= *x >> 12;
	*x ^= *x << 25;
	*x ^= *x >> 27;
	return *x * 2685821657736338717ULL;
}

/* One run of test_many_cuts(): what the order sells and how. */
struct cuts_case {
	const char *product;
	uint64_t price, ack_every;
	int sign_items, chain;
	uint64_t seed;
	uint64_t tick_ms; /* the clock moves up to this between ticks */
	int defer;        /* the host signs items (defer_item_signatures) */
};

/*
 * 300 items, K = 4, cut 100 times at pseudo-random points with random
 * parts of the frames in flight lost each way, some cuts half-open, some
 * while an earlier resume is unanswered, samples arriving while detached:
 * every sample reaches the buyer once, in order, and the bill is right.
 */
static void
many_cuts(const struct cuts_case *k)
{
	struct conv c;
	struct sdpp_progress p;
	uint64_t x = k->seed;
	int i, step, cuts = 0, takeovers = 0;

	resume_setup(&c, 4, k->ack_every, k->price);
	c.menu.sign_items = k->sign_items;
	c.scfg.defer_item_signatures = k->defer;
	c.check_in_host = k->defer;
	c.products[2].price = k->price;
	if (k->chain) {
		snprintf(c.menu.payment_method, sizeof(c.menu.payment_method), "iota");
		snprintf(c.bcfg.payment_address, sizeof(c.bcfg.payment_address), "0x%064x", 7);
	}
	conv_start(&c);
	conv_order(&c, k->product, 300);
	for (i = 1; i <= 300; i++) {
		sdpp_buyer_progress(c.b, &p);
		/* Never more waiting than the seller's queue holds. */
		while ((uint64_t)i - p.sent > 40) {
			if (!to_buyer(&c) && !to_seller(&c))
				fail_msg("stuck at sample %d", i);
			sdpp_buyer_progress(c.b, &p);
		}
		if (i % 3 == 0) {
			int detach = rnd(&x) % 5 != 0;

			cut(&c, rnd(&x) % 4, rnd(&x) % 4, detach);
			takeovers += !detach;
			cuts++;
			if (rnd(&x) % 3 == 0) {
				/* A sample while the order has no connection. */
				c.now += rnd(&x) % 3000;
				sample_only(&c, i);
				assert_int_equal(rejoin(&c), SDPP_OK);
			} else {
				assert_int_equal(rejoin(&c), SDPP_OK);
				sample_only(&c, i);
			}
		} else {
			sample_only(&c, i);
		}
		for (step = (int)(rnd(&x) % 6); step > 0; step--)
			if (rnd(&x) % 2 ? !to_buyer(&c) : !to_seller(&c))
				(void)(to_buyer(&c) || to_seller(&c));
		if (rnd(&x) % 4 == 0) {
			c.now += rnd(&x) % k->tick_ms;
			(void)sdpp_seller_tick(c.s, c.now, &c.so);
			seller_drain(&c);
		}
	}
	pump(&c);
	assert_int_equal(cuts, 100);
	assert_true(takeovers > 5);
	assert_int_equal(c.dropped, 0);
	assert_items(&c, 300, 1);
	assert_int_equal(c.invoices, 75);
	for (i = 0; i < 75; i++)
		assert_true(c.invoice_first[i] == (uint64_t)i * 4 + 1 &&
		            c.invoice_last[i] == (uint64_t)i * 4 + 4 &&
		            c.invoice_total[i] == (uint64_t)(i + 1) * 4 * k->price);
	assert_int_equal(c.payments, 75);
	assert_int_equal(c.statements, 1);
	assert_true(c.statement.delivered == 300 && c.statement.acked == 300);
	assert_true(c.statement.total_due == 300 * k->price);
	assert_true(c.statement.total_paid == 300 * k->price);
	assert_true(c.statement.settled);
	assert_int_equal(c.seller_close_err, SDPP_OK);
	assert_int_equal(c.buyer_close_err, SDPP_OK);
	sdpp_seller_progress(c.s, &p);
	assert_true(p.sent == 300 && p.total_paid == 300 * k->price);
	assert_true(p.total_due == 300 * k->price);
	/* The cuts did lose items (sent again), and long gaps between ticks
	 * made the ACK timer resend some the buyer had (duplicates). */
	assert_true(p.resent > 0);
	assert_int_equal(c.seller_rejoined, 100);
	sdpp_buyer_progress(c.b, &p);
	assert_true(k->tick_ms < 5000 || p.duplicates > 0);
	/* Deferred: the host signed the first copies it sent; the items a
	 * cut lost were signed by the session when it sent them again. */
	assert_true(k->defer ? c.signed_later >= 300 : c.signed_later == 0);
	/* and checked the buyer's ACKs and payments (75 each at least) */
	assert_true(k->defer ? c.checked_in_host >= 150 : c.checked_in_host == 0);
	conv_teardown(&c);
}

static void
test_many_cuts(void **state)
{
	static const struct cuts_case cases[] = {
		{ "co2", 3, 2, 0, 0, 0x5d1f00d15ea5eULL, 1500, 0 },
		{ "co2", 3, 2, 0, 0, 0x77ULL, 9000, 0 },         /* ACK timeouts: resends */
		{ "co2", 3, 1, 1, 0, 0x1234567ULL, 1500, 0 },    /* signed items */
		{ "occupancy", 5, 2, 0, 0, 0xfeedULL, 1500, 0 }, /* prepay */
		{ "co2", 2, 4, 0, 1, 0xc0ffeeULL, 1500, 0 },     /* ledger payments */
		/* signed by the host (the gateway's workers) */
		{ "co2", 3, 1, 1, 0, 0xabcdefULL, 1500, 1 },
		{ "co2", 3, 2, 1, 0, 0x99ULL, 9000, 1 }, /* and resent on ACK timeouts */
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		many_cuts(&cases[i]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_items_lost_resent),
		cmocka_unit_test(test_acks_lost),
		cmocka_unit_test(test_last_invoice_lost),
		cmocka_unit_test(test_paid_ahead_invoice_lost),
		cmocka_unit_test(test_payment_lost_resent),
		cmocka_unit_test(test_payment_while_resuming),
		cmocka_unit_test(test_chain_payments_resume),
		cmocka_unit_test(test_prepay_resume),
		cmocka_unit_test(test_exit_lost),
		cmocka_unit_test(test_resume_while_exiting),
		cmocka_unit_test(test_statement_while_detached),
		cmocka_unit_test(test_dropped_while_detached),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_not_resumable),
		cmocka_unit_test(test_resume_timeout),
		cmocka_unit_test(test_ack_timer_across_resume),
		cmocka_unit_test(test_payment_timer_while_detached),
		cmocka_unit_test(test_buyer_resume_timeout),
		cmocka_unit_test(test_resumed_lost),
		cmocka_unit_test(test_invoice_recorded_while_detached),
		cmocka_unit_test(test_exit_while_resuming),
		cmocka_unit_test(test_idle_timer_while_detached),
		cmocka_unit_test(test_takeover),
		cmocka_unit_test(test_many_cuts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
