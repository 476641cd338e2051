/* In-memory seller <-> buyer conversations for tests: pipes, a host that completes requests. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sdpp/enc.h"
#include "tests/common/conv.h"

void
pipe_put(struct pipe *p, const char *buf, size_t len)
{
	p->buf = realloc(p->buf, p->len + len + 1);
	assert_non_null(p->buf);
	memcpy(p->buf + p->len, buf, len);
	p->len += len;
}

int
pipe_next(struct pipe *p, char *frame, size_t cap, size_t *len)
{
	char *nl;

	if (p->off >= p->len)
		return 0;
	nl = memchr(p->buf + p->off, '\n', p->len - p->off);
	assert_non_null(nl);
	*len = (size_t)(nl - (p->buf + p->off));
	assert_true(*len < cap);
	memcpy(frame, p->buf + p->off, *len);
	frame[*len] = '\0';
	p->off += *len + 1;
	if (p->off == p->len)
		p->off = p->len = 0;
	return 1;
}

static void
rec_id(struct conv *c, char *buf, size_t n)
{
	snprintf(buf, n, "rec-%llu", (unsigned long long)++c->record_no);
}

/* The host's part of an sdpp/2 exit: the log's tree head, signed by the
 * seller key, covering every record so far. */
static void
exit_tree_head(struct conv *c)
{
	struct sdpp_tree_head *th = &c->tree_head;
	size_t i;

	if (c->no_tree_head)
		return;
	memset(th, 0, sizeof(*th));
	th->size = c->record_no > 0 ? c->record_no : 1;
	for (i = 0; i < sizeof(th->root); i++)
		th->root[i] = (uint8_t)(th->size + i);
	th->time = (int64_t)c->now;
	assert_int_equal(sdpp_tree_head_sign(th, c->sid), SDPP_OK);
	assert_int_equal(sdpp_seller_set_tree_head(c->s, th), SDPP_OK);
}

void
conv_seller_input(struct conv *c, const char *frame, size_t len)
{
	const struct sdpp_verifier *v = sdpp_seller_verifier(c->s);
	struct sdpp_msg m;
	int ok;

	if (!c->check_in_host || v == NULL) {
		(void)sdpp_seller_input(c->s, frame, len, c->now, &c->so);
	} else {
		memset(&m, 0, sizeof(m));
		ok = sdpp_msg_parse(&m, frame, len, SDPP_ROLE_BUYER, NULL, 0) == SDPP_OK &&
		     sdpp_msg_verify(&m, v) == SDPP_OK;
		sdpp_msg_free(&m);
		c->checked_in_host += ok;
		(void)sdpp_seller_input_checked(c->s, frame, len, ok, c->now, &c->so);
	}
	seller_drain(c);
}

void
seller_drain(struct conv *c)
{
	uint64_t reqs[64], exit_req = 0;
	char verif[64][SDPP_VERIFICATION_MAX + 1];
	size_t nreq = 0, i;
	enum sdpp_err e;

	/* With defer_item_signatures this host signs each item's first copy
	 * as the gateway's workers do; a cut loses it unsigned. */
	for (i = 0; i < c->so.nev && !c->cut; i++)
		if (c->so.ev[i].type == SDPP_EV_SIGN_ITEM)
			assert_int_equal(sdpp_data_frame_sign(
			                     c->so.buf + c->so.ev[i].off, c->so.ev[i].len, c->sid),
			    SDPP_OK);
	if (!c->cut)
		pipe_put(&c->s2b, c->so.buf, c->so.len);
	for (i = 0; i < c->so.nev; i++) {
		const struct sdpp_event *ev = &c->so.ev[i];

		assert_true(nreq < 64);
		verif[nreq][0] = '\0';
		if (c->seller_hook != NULL)
			c->seller_hook(c, ev, verif[nreq], sizeof(verif[nreq]));
		else if (ev->req != 0)
			rec_id(c, verif[nreq], sizeof(verif[nreq]));
		switch (ev->type) {
		case SDPP_EV_ORDER:
			c->orders++;
			reqs[nreq++] = ev->req;
			break;
		case SDPP_EV_INVOICE:
			if (c->hold_invoices) {
				c->held_invoice_req = ev->req;
				if (c->nheld_invoices < 8)
					c->held_invoices[c->nheld_invoices++] = ev->req;
			} else
				reqs[nreq++] = ev->req;
			break;
		case SDPP_EV_PAYMENT:
			c->payments++;
			if (c->hold_confirm)
				c->held_confirm_req = ev->req;
			else
				reqs[nreq++] = ev->req;
			break;
		case SDPP_EV_EXIT:
			c->exits++;
			exit_req = ev->req;
			c->exit_req = ev->req;
			reqs[nreq++] = ev->req;
			break;
		case SDPP_EV_RECEIPT:
			c->receipts++;
			assert_int_equal(ev->msg->type, SDPP_T_ACK);
			memcpy(c->last_ack_digest, ev->msg->u.ack.digest, SDPP_DIGEST_BYTES);
			break;
		case SDPP_EV_PAUSED:
			c->paused++;
			break;
		case SDPP_EV_RESUMED:
			c->resumed++;
			break;
		case SDPP_EV_DROPPED:
			c->dropped += (int)ev->count;
			break;
		case SDPP_EV_SIGN_ITEM:
			assert_true(c->scfg.defer_item_signatures);
			c->signed_later++;
			break;
		case SDPP_EV_REJOINED:
			c->seller_rejoined++;
			assert_int_equal(ev->msg->type, SDPP_T_RESUME);
			break;
		case SDPP_EV_PEER_ERROR:
			snprintf(c->seller_got_error, sizeof(c->seller_got_error), "%s",
			    ev->msg->u.error.code);
			break;
		case SDPP_EV_CLOSE:
			c->seller_closed = 1;
			c->seller_close_err = ev->err;
			break;
		default:
			fail_msg("unexpected seller event %d", ev->type);
		}
	}
	sdpp_out_clear(&c->so);
	for (i = 0; i < nreq; i++) {
		int ok = 1;

		if (c->reject_payment && c->payments > 0 && i == nreq - 1)
			ok = 0;
		if (reqs[i] == exit_req)
			exit_tree_head(c);
		e = sdpp_seller_complete(c->s, reqs[i], ok, verif[i], c->now, &c->so);
		if (reqs[i] == exit_req)
			c->exit_complete_err = e;
		seller_drain(c);
	}
}

void
buyer_drain(struct conv *c)
{
	uint64_t reqs[64];
	size_t nreq = 0, i;

	if (!c->cut)
		pipe_put(&c->b2s, c->bo.buf, c->bo.len);
	for (i = 0; i < c->bo.nev; i++) {
		const struct sdpp_event *ev = &c->bo.ev[i];

		switch (ev->type) {
		case SDPP_EV_MENU:
			break;
		case SDPP_EV_STARTED:
			c->started++;
			break;
		case SDPP_EV_ITEM:
			assert_true(c->items < CONV_ITEMS_MAX);
			c->item_seq[c->items] = ev->item->seq;
			assert_true(ev->item->payload_len < 32);
			memcpy(c->item_payload[c->items], ev->item->payload, ev->item->payload_len);
			c->item_payload[c->items][ev->item->payload_len] = '\0';
			c->items++;
			break;
		case SDPP_EV_PAY:
			assert_true(c->invoices < CONV_INVOICES_MAX);
			c->invoice_first[c->invoices] = ev->invoice->first_seq;
			c->invoice_last[c->invoices] = ev->invoice->last_seq;
			c->invoice_total[c->invoices] = ev->invoice->total_due;
			c->invoices++;
			if (c->hold_payments)
				c->held_pay_req = ev->req;
			else
				reqs[nreq++] = ev->req;
			break;
		case SDPP_EV_STATEMENT:
			c->statements++;
			c->statement = ev->msg->u.statement;
			break;
		case SDPP_EV_REJOINED:
			c->buyer_rejoined++;
			assert_int_equal(ev->msg->type, SDPP_T_RESUMED);
			c->last_resumed = ev->msg->u.resumed;
			break;
		case SDPP_EV_PEER_ERROR:
			snprintf(c->buyer_got_error, sizeof(c->buyer_got_error), "%s",
			    ev->msg->u.error.code);
			break;
		case SDPP_EV_CLOSE:
			c->buyer_closed = 1;
			c->buyer_close_err = ev->err;
			break;
		default:
			fail_msg("unexpected buyer event %d", ev->type);
		}
	}
	sdpp_out_clear(&c->bo);
	for (i = 0; i < nreq; i++) {
		(void)sdpp_buyer_complete(c->b, reqs[i], 1, "", c->now, &c->bo);
		buyer_drain(c);
	}
}

void
pump(struct conv *c)
{
	char *frame = malloc(MAXF);
	size_t len;
	int moved;

	assert_non_null(frame);
	do {
		moved = 0;
		while (!sdpp_buyer_done(c->b) && pipe_next(&c->s2b, frame, MAXF, &len)) {
			(void)sdpp_buyer_input(c->b, frame, len, c->now, &c->bo);
			buyer_drain(c);
			moved = 1;
		}
		while (!sdpp_seller_done(c->s) && pipe_next(&c->b2s, frame, MAXF, &len)) {
			conv_seller_input(c, frame, len);
			moved = 1;
		}
	} while (moved);
	free(frame);
}

void
conv_setup(struct conv *c, uint64_t k, uint64_t ack_every, uint64_t price)
{
	memset(c, 0, sizeof(*c));
	assert_int_equal(sdpp_identity_generate(&c->sid), SDPP_OK);
	assert_int_equal(sdpp_identity_generate(&c->bid), SDPP_OK);
	snprintf(c->products[0].id, sizeof(c->products[0].id), "co2");
	c->products[0].price = price;
	snprintf(c->products[0].unit, sizeof(c->products[0].unit), "ppm");
	snprintf(c->products[0].description, sizeof(c->products[0].description), "CO2, floor 2");
	c->products[0].last_seen = 1764115200000;
	snprintf(c->products[1].id, sizeof(c->products[1].id), "temp");
	c->products[1].price = 1;
	snprintf(c->products[2].id, sizeof(c->products[2].id), "occupancy");
	c->products[2].price = 5;
	c->products[2].prepay = 1;
	/* sdpp/2 (the buyer's default) offers each product's topic filter. */
	snprintf(c->products[0].topic, sizeof(c->products[0].topic), "building/7/floor2/co2");
	snprintf(c->products[1].topic, sizeof(c->products[1].topic), "building/7/+/temp");
	snprintf(c->products[2].topic, sizeof(c->products[2].topic), "building/7/occupancy/#");
	c->menu.nproducts = 3;
	c->menu.products = c->products;
	snprintf(c->menu.gateway, sizeof(c->menu.gateway), "building-7");
	snprintf(c->menu.currency, sizeof(c->menu.currency), "nanos");
	snprintf(c->menu.payment_method, sizeof(c->menu.payment_method), "voucher");
	c->menu.granularity = k;
	c->menu.ack_every = ack_every;
	c->menu.max_unpaid = 2 * k;
	c->menu.max_frame = 1024 * 1024;
	c->scfg.id = c->sid;
	c->scfg.menu = &c->menu;
	c->bcfg.id = c->bid;
	sdpp_identity_sign_public(c->sid, c->bcfg.seller);
	sdpp_out_init(&c->so, 1 << 20);
	sdpp_out_init(&c->bo, 1 << 20);
	c->now = 1000;
}

void
conv_start(struct conv *c)
{
	assert_int_equal(sdpp_seller_new(&c->s, &c->scfg, c->now), SDPP_OK);
	assert_int_equal(sdpp_buyer_new(&c->b, &c->bcfg, c->now), SDPP_OK);
	assert_int_equal(sdpp_buyer_start(c->b, c->now, &c->bo), SDPP_OK);
	buyer_drain(c);
	pump(c);
	assert_non_null(sdpp_buyer_menu(c->b));
}

void
conv_order(struct conv *c, const char *product, uint64_t quantity)
{
	assert_int_equal(sdpp_buyer_order(c->b, product, quantity, c->now, &c->bo), SDPP_OK);
	buyer_drain(c);
	pump(c);
}

void
conv_sample(struct conv *c, int i)
{
	char payload[32];

	snprintf(payload, sizeof(payload), "{\"v\":%d}", 400 + i);
	(void)sdpp_seller_sample(c->s, "building/7/floor2/co2", (const uint8_t *)payload,
	    strlen(payload), 1764115200000 + i, c->now, &c->so);
	seller_drain(c);
	pump(c);
}

void
conv_teardown(struct conv *c)
{
	sdpp_seller_free(c->s);
	sdpp_buyer_free(c->b);
	sdpp_identity_free(c->sid);
	sdpp_identity_free(c->bid);
	sdpp_out_free(&c->so);
	sdpp_out_free(&c->bo);
	free(c->s2b.buf);
	free(c->b2s.buf);
}
