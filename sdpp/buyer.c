/* Buyer state machine: hello, order, session key, verified items, receipts, payments, exit. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdpp/enc.h"
#include "sdpp/out.h"
#include "sdpp/session.h"

#define DEF_RESPONSE_MS 30000
/* Receipt chains kept at multiples of K until their invoice arrives; the
 * seller's max_unpaid <= 32 K bounds how far invoices can lag. */
#define BOUNDS_MAX 64
/* Payments kept for a resume to send again: the seller's PAYQ_MAX. */
#define PAID_KEPT 8

enum buyer_state {
	BS_START,   /* nothing sent */
	BS_MENU,    /* hello sent */
	BS_CHOOSE,  /* menu verified, host picks the order */
	BS_SESSION, /* order sent, waiting for the session key */
	BS_STREAM,
	BS_EXIT,   /* exit sent, waiting for the statement */
	BS_RESUME, /* resume sent on a new connection, waiting for resumed */
	BS_DONE,
};

/* A payment_ack frame, kept until a resume shows the seller has it. */
struct paidframe {
	uint64_t total;
	char *frame;
	size_t len;
};

struct bound {
	uint64_t seq;
	uint8_t chain[SDPP_DIGEST_BYTES];
};

struct sdpp_buyer {
	struct sdpp_buyer_config cfg;
	enum buyer_state st;
	uint64_t wait_since;
	uint64_t next_req;
	struct sdpp_verifier *seller;
	struct sdpp_msg in;    /* last input */
	struct sdpp_msg menu;  /* verified menu */
	struct sdpp_item item; /* last decrypted item */

	/* Order. */
	uint8_t order_id[SDPP_ORDER_ID_BYTES];
	char currency[SDPP_CURRENCY_MAX + 1];
	uint64_t price, quantity, k, ack_every, budget;
	int prepay, sign_items;

	/* Data. */
	struct sdpp_aead *aead;
	uint8_t nonce_prefix[SDPP_NONCE_PREFIX_BYTES];
	uint64_t received, acked;
	uint8_t chain[SDPP_DIGEST_BYTES];
	struct bound bounds[BOUNDS_MAX];
	size_t bhead, blen;
	uint64_t duplicates;
	/* sign_items: the newest signed item whose seller signature is still
	 * to be checked. Its signature covers the receipt chain (sent in its
	 * `verification`), so checking it before each ACK or exit vouches for
	 * every item before it as well (PROTOCOL.md s.5.5). */
	char *pend_input;
	size_t pend_len, pend_alloc;
	uint8_t pend_sig[SDPP_SIGN_BYTES];
	uint64_t pend_seq;

	/* Billing. */
	uint64_t ninvoices, billed, total_due;
	struct sdpp_invoice inv_latest, inv_paying;
	int paying;
	uint64_t req_pay;
	uint64_t paid_total; /* highest voucher sent */
	int exit_pending;    /* all items in; waiting for the last block's invoice */

	/* Resume (sdpp/2). */
	enum buyer_state resume_to; /* STREAM or EXIT, once resumed */
	uint64_t attempt;
	struct paidframe paid[PAID_KEPT]; /* ring, oldest at paid_head */
	size_t paid_head, paid_len;
	char *exit_frame; /* our exit, to send again after a resume */
	size_t exit_len;
};

static enum sdpp_err buyer_fail(struct sdpp_buyer *b, struct sdpp_out *out, enum sdpp_err e,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static enum sdpp_err
buyer_fail(struct sdpp_buyer *b, struct sdpp_out *out, enum sdpp_err e, const char *fmt, ...)
{
	char text[SDPP_TEXT_MAX + 1];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	(void)sdpp_out_add_error(out, e, text, b->cfg.id, SDPP_ROLE_BUYER);
	b->st = BS_DONE;
	sdpp_out_add_close(out, e);
	return e;
}

enum sdpp_err
sdpp_buyer_new(struct sdpp_buyer **out, const struct sdpp_buyer_config *cfg, uint64_t now)
{
	struct sdpp_buyer *b;
	enum sdpp_err e;

	*out = NULL;
	if (cfg->id == NULL)
		return SDPP_E_INVAL;
	if (cfg->version != 0 && cfg->version != 1 && cfg->version != 2)
		return SDPP_E_INVAL;
	b = calloc(1, sizeof(*b));
	if (b == NULL)
		return SDPP_E_NOMEM;
	b->cfg = *cfg;
	if (b->cfg.version == 0)
		b->cfg.version = 2;
	if (b->cfg.response_timeout_ms == 0)
		b->cfg.response_timeout_ms = DEF_RESPONSE_MS;
	e = sdpp_verifier_new(&b->seller, cfg->seller);
	if (e != SDPP_OK) {
		free(b);
		return SDPP_E_KEY_FORMAT;
	}
	b->st = BS_START;
	b->wait_since = now;
	b->next_req = 1;
	*out = b;
	return SDPP_OK;
}

void
sdpp_buyer_free(struct sdpp_buyer *b)
{
	if (b == NULL)
		return;
	sdpp_verifier_free(b->seller);
	sdpp_aead_free(b->aead);
	sdpp_msg_free(&b->in);
	sdpp_msg_free(&b->menu);
	sdpp_item_free(&b->item);
	free(b->pend_input);
	for (; b->paid_len > 0; b->paid_len--) {
		free(b->paid[b->paid_head].frame);
		b->paid_head = (b->paid_head + 1) % PAID_KEPT;
	}
	free(b->exit_frame);
	sdpp_wipe(b, sizeof(*b));
	free(b);
}

const struct sdpp_menu *
sdpp_buyer_menu(const struct sdpp_buyer *b)
{
	return b->menu.type == SDPP_T_MENU ? &b->menu.u.menu : NULL;
}

const uint8_t *
sdpp_buyer_order_id(const struct sdpp_buyer *b)
{
	return b->st >= BS_SESSION ? b->order_id : NULL;
}

int
sdpp_buyer_version(const struct sdpp_buyer *b)
{
	return b->cfg.version;
}

int
sdpp_buyer_done(const struct sdpp_buyer *b)
{
	return b->st == BS_DONE;
}

void
sdpp_buyer_progress(const struct sdpp_buyer *b, struct sdpp_progress *p)
{
	memset(p, 0, sizeof(*p));
	p->sent = b->received;
	p->acked = b->acked;
	p->invoiced = b->billed;
	p->total_due = b->total_due;
	p->total_paid = b->paid_total;
	p->duplicates = b->duplicates;
	p->price = b->price;
	p->quantity = b->quantity;
}

enum sdpp_err
sdpp_buyer_start(struct sdpp_buyer *b, uint64_t now, struct sdpp_out *out)
{
	struct sdpp_msg m;
	enum sdpp_err e;

	if (b->st != BS_START)
		return SDPP_E_INVAL;
	memset(&m, 0, sizeof(m));
	m.type = SDPP_T_HELLO;
	m.from = SDPP_ROLE_BUYER;
	snprintf(m.u.hello.version, sizeof(m.u.hello.version), "%s",
	    b->cfg.version == 2 ? SDPP_VERSION_2 : SDPP_VERSION);
	e = sdpp_out_add_msg(out, &m, NULL);
	if (e != SDPP_OK)
		return e;
	b->st = BS_MENU;
	b->wait_since = now;
	return SDPP_OK;
}

enum sdpp_err
sdpp_buyer_order(struct sdpp_buyer *b, const char *product, uint64_t quantity, uint64_t now,
    struct sdpp_out *out)
{
	return sdpp_buyer_order_topic(b, product, NULL, quantity, now, out);
}

enum sdpp_err
sdpp_buyer_order_topic(struct sdpp_buyer *b, const char *product, const char *topic,
    uint64_t quantity, uint64_t now, struct sdpp_out *out)
{
	const struct sdpp_menu *menu = &b->menu.u.menu;
	const struct sdpp_product *p = NULL;
	struct sdpp_msg m, parsed;
	char *frame = NULL;
	size_t flen = 0, i;
	enum sdpp_err e;

	if (b->st != BS_CHOOSE)
		return SDPP_E_INVAL;
	if (topic == NULL)
		topic = "";
	if (topic[0] != '\0' && (b->cfg.version != 2 || !sdpp_topic_filter_ok(topic)))
		return SDPP_E_INVAL;
	for (i = 0; i < menu->nproducts; i++)
		if (strcmp(menu->products[i].id, product) == 0)
			p = &menu->products[i];
	if (p == NULL)
		return SDPP_E_UNKNOWN_PRODUCT;
	if (b->cfg.max_price != 0 && p->price > b->cfg.max_price)
		return SDPP_E_BUDGET;
	b->budget = b->cfg.budget;
	if (b->budget == 0 && quantity != 0 &&
	    sdpp_money_mul(&b->budget, quantity, p->price) != SDPP_OK)
		return SDPP_E_OVERFLOW;
	memset(&m, 0, sizeof(m));
	memset(&parsed, 0, sizeof(parsed));
	m.type = SDPP_T_ORDER;
	m.from = SDPP_ROLE_BUYER;
	snprintf(m.u.order.product, sizeof(m.u.order.product), "%s", p->id);
	m.u.order.quantity = quantity;
	m.u.order.price = p->price;
	memcpy(m.u.order.currency, menu->currency, sizeof(m.u.order.currency));
	memcpy(
	    m.u.order.payment_address, b->cfg.payment_address, sizeof(m.u.order.payment_address));
	sdpp_identity_sign_public(b->cfg.id, m.u.order.buyer);
	sdpp_identity_enc_public(b->cfg.id, m.u.order.enc_key);
	m.u.order.time = (int64_t)now;
	m.u.order.version = b->cfg.version;
	m.u.order.topic = strdup(topic); /* m's: sdpp_msg_free() below */
	e = m.u.order.topic == NULL ? SDPP_E_NOMEM
	                            : sdpp_random(m.u.order.nonce, sizeof(m.u.order.nonce));
	if (e != SDPP_OK)
		goto fail;
	e = sdpp_msg_encode(&m, b->cfg.id, &frame, &flen);
	if (e != SDPP_OK)
		goto fail;
	/* The order id is the hash of the signature input exactly as the
	 * seller will rebuild it from the wire, so derive it the same way. */
	e = sdpp_msg_parse(&parsed, frame, flen - 1, SDPP_ROLE_BUYER, NULL, 0);
	if (e == SDPP_OK)
		e = sdpp_order_id(&parsed, b->order_id);
	if (e != SDPP_OK)
		goto fail;
	e = sdpp_out_add_bytes(out, frame, flen);
	if (e != SDPP_OK)
		goto fail;
	memcpy(b->currency, menu->currency, sizeof(b->currency));
	b->price = p->price;
	b->quantity = quantity;
	b->k = menu->granularity;
	b->ack_every = menu->ack_every;
	b->prepay = p->prepay;
	b->sign_items = menu->sign_items;
	b->st = BS_SESSION;
	b->wait_since = now;
fail:
	sdpp_msg_free(&m);
	sdpp_msg_free(&parsed);
	free(frame);
	return e;
}

/* Checks the held item signature, if any (SDPP_E_SIGNATURE if it fails). */
static enum sdpp_err
pending_verify(struct sdpp_buyer *b)
{
	if (b->pend_len == 0)
		return SDPP_OK;
	if (sdpp_verify(b->seller, b->pend_input, b->pend_len, b->pend_sig, SDPP_SIGN_BYTES) !=
	    SDPP_OK)
		return SDPP_E_SIGNATURE;
	b->pend_len = 0;
	return SDPP_OK;
}

/* Holds a signed item's signature input and signature for pending_verify(). */
static enum sdpp_err
pending_hold(struct sdpp_buyer *b, const struct sdpp_msg *m)
{
	if (m->signed_len > b->pend_alloc) {
		char *n = realloc(b->pend_input, m->signed_len);

		if (n == NULL)
			return SDPP_E_NOMEM;
		b->pend_input = n;
		b->pend_alloc = m->signed_len;
	}
	memcpy(b->pend_input, m->signed_bytes, m->signed_len);
	b->pend_len = m->signed_len;
	memcpy(b->pend_sig, m->signature, SDPP_SIGN_BYTES);
	b->pend_seq = m->u.data.seq;
	return SDPP_OK;
}

/* What a failed ACK or exit tells the seller. */
static enum sdpp_err
receipt_failed(struct sdpp_buyer *b, struct sdpp_out *out, enum sdpp_err e, const char *what)
{
	if (e == SDPP_E_SIGNATURE)
		return buyer_fail(b, out, SDPP_E_SIGNATURE,
		    "data: seller signature of item %llu does not verify",
		    (unsigned long long)b->pend_seq);
	return buyer_fail(b, out, SDPP_E_INTERNAL, "cannot send %s", what);
}

static enum sdpp_err
send_ack(struct sdpp_buyer *b, struct sdpp_out *out)
{
	struct sdpp_msg m;
	enum sdpp_err e;

	if (b->received == 0)
		return SDPP_OK;
	/* Never sign a receipt for items the seller has not signed for. */
	if (pending_verify(b) != SDPP_OK)
		return SDPP_E_SIGNATURE;
	memset(&m, 0, sizeof(m));
	m.type = SDPP_T_ACK;
	m.from = SDPP_ROLE_BUYER;
	memcpy(m.u.ack.order_id, b->order_id, sizeof(b->order_id));
	m.u.ack.seq = b->received;
	memcpy(m.u.ack.digest, b->chain, sizeof(b->chain));
	e = sdpp_out_add_msg(out, &m, b->cfg.id);
	if (e == SDPP_OK)
		b->acked = b->received;
	return e;
}

static enum sdpp_err
send_exit(struct sdpp_buyer *b, uint64_t now, struct sdpp_out *out)
{
	struct sdpp_msg m;
	uint64_t owed;
	enum sdpp_err e;

	if (pending_verify(b) != SDPP_OK)
		return SDPP_E_SIGNATURE;
	e = sdpp_money_mul(&owed, b->received, b->price);
	if (e != SDPP_OK)
		return e;
	memset(&m, 0, sizeof(m));
	m.type = SDPP_T_EXIT;
	m.from = SDPP_ROLE_BUYER;
	memcpy(m.u.exit.order_id, b->order_id, sizeof(b->order_id));
	m.u.exit.seq = b->received;
	memcpy(m.u.exit.digest, b->chain, sizeof(b->chain));
	/* The final voucher: everything received, never less than already
	 * authorised (vouchers only grow). */
	m.u.exit.total = owed > b->paid_total ? owed : b->paid_total;
	free(b->exit_frame);
	b->exit_frame = NULL;
	e = sdpp_msg_encode(&m, b->cfg.id, &b->exit_frame, &b->exit_len);
	/* While resuming it waits for `resumed` (on_resumed()). */
	if (e == SDPP_OK && b->st != BS_RESUME)
		e = sdpp_out_add_bytes(out, b->exit_frame, b->exit_len);
	if (e != SDPP_OK)
		return e;
	b->paid_total = m.u.exit.total;
	if (b->st == BS_RESUME)
		b->resume_to = BS_EXIT;
	else
		b->st = BS_EXIT;
	b->wait_since = now;
	return SDPP_OK;
}

/*
 * Every complete block of K items gets an invoice, and each invoice its
 * payment_ack, so the ledger pairs them one to one; only a last partial
 * block is settled by the exit's voucher. So at the end of an order wait
 * for the invoices still due (a bounded wait: the response timeout), pay
 * them, then exit.
 */
static enum sdpp_err
exit_when_billed(struct sdpp_buyer *b, uint64_t now, struct sdpp_out *out)
{
	uint64_t due_blocks = b->prepay || b->price == 0 ? b->billed : b->received / b->k * b->k;

	if (!b->exit_pending || b->st != BS_STREAM)
		return SDPP_OK;
	if (b->billed < due_blocks || b->paying)
		return SDPP_OK;
	b->exit_pending = 0;
	return send_exit(b, now, out);
}

static enum sdpp_err
on_menu(struct sdpp_buyer *b, struct sdpp_out *out)
{
	struct sdpp_event *ev;

	if (memcmp(b->in.u.menu.seller, b->cfg.seller, SDPP_SIGN_PUBLIC_BYTES) != 0)
		return buyer_fail(b, out, SDPP_E_SIGNATURE, "menu names another seller key");
	/* No negotiation: the menu is in the hello's version (PROTOCOL.md 15.2). */
	if (strcmp(b->in.u.menu.version, b->cfg.version == 2 ? SDPP_VERSION_2 : SDPP_VERSION) != 0)
		return buyer_fail(b, out, SDPP_E_VERSION, "menu.version: %s, but the hello said %s",
		    b->in.u.menu.version, b->cfg.version == 2 ? SDPP_VERSION_2 : SDPP_VERSION);
	b->menu = b->in;
	memset(&b->in, 0, sizeof(b->in));
	b->st = BS_CHOOSE;
	ev = sdpp_out_add_event(out, SDPP_EV_MENU);
	if (ev != NULL)
		ev->msg = &b->menu;
	return SDPP_OK;
}

static enum sdpp_err
on_session_key(struct sdpp_buyer *b, struct sdpp_out *out)
{
	const struct sdpp_session_key *k = &b->in.u.session_key;
	uint8_t key[SDPP_SESSION_KEY_BYTES];
	enum sdpp_err e;

	if (memcmp(k->order_id, b->order_id, SDPP_ORDER_ID_BYTES) != 0)
		return buyer_fail(b, out, SDPP_E_ORDER_ID, "session_key names another order");
	e = sdpp_unseal(key, b->cfg.id, k->sealed, b->order_id, sizeof(b->order_id));
	if (e == SDPP_OK)
		e = sdpp_aead_new(&b->aead, key);
	sdpp_wipe(key, sizeof(key));
	if (e != SDPP_OK)
		return buyer_fail(b, out, SDPP_E_DECRYPT, "session key does not open");
	memcpy(b->nonce_prefix, k->nonce_prefix, sizeof(b->nonce_prefix));
	if (sdpp_chain_init(b->chain, b->order_id) != SDPP_OK)
		return buyer_fail(b, out, SDPP_E_INTERNAL, "hash failed");
	b->st = BS_STREAM;
	if (sdpp_out_add_event(out, SDPP_EV_STARTED) == NULL)
		return buyer_fail(b, out, SDPP_E_INTERNAL, "out of memory");
	return SDPP_OK;
}

/* Decrypts item seq into a new buffer (*pt, free()). */
static enum sdpp_err
open_item(struct sdpp_buyer *b, const struct sdpp_data *d, uint8_t **pt, size_t *ptlen)
{
	uint8_t nonce[SDPP_AEAD_NONCE_BYTES], aad[SDPP_DATA_AAD_BYTES];
	uint8_t *buf;
	size_t n = d->ciphertext_len - SDPP_AEAD_TAG_BYTES;
	enum sdpp_err e;

	buf = malloc(n + 1);
	if (buf == NULL)
		return SDPP_E_NOMEM;
	sdpp_data_nonce(nonce, b->nonce_prefix, d->seq);
	sdpp_data_aad(aad, b->order_id, d->seq);
	e = sdpp_aead_open(b->aead, nonce, aad, sizeof(aad), d->ciphertext, d->ciphertext_len, buf);
	if (e != SDPP_OK) {
		free(buf);
		return SDPP_E_DECRYPT;
	}
	*pt = buf;
	*ptlen = n;
	return SDPP_OK;
}

static enum sdpp_err
on_data(struct sdpp_buyer *b, uint64_t now, struct sdpp_out *out)
{
	const struct sdpp_data *d = &b->in.u.data;
	struct sdpp_event *ev;
	uint8_t *pt = NULL;
	size_t ptlen = 0;
	enum sdpp_err e;

	if (memcmp(d->order_id, b->order_id, SDPP_ORDER_ID_BYTES) != 0)
		return buyer_fail(b, out, SDPP_E_ORDER_ID, "data names another order");
	if (b->st == BS_EXIT)
		return SDPP_OK; /* in flight when we sent exit: neither delivered nor billed */
	if (d->seq > b->received + 1 || (b->quantity != 0 && d->seq > b->quantity))
		return buyer_fail(b, out, SDPP_E_SEQUENCE, "item %llu after item %llu",
		    (unsigned long long)d->seq, (unsigned long long)b->received);
	if (b->sign_items && !b->in.signed_)
		return buyer_fail(b, out, SDPP_E_SIGNATURE, "item %llu is not signed",
		    (unsigned long long)d->seq);
	e = open_item(b, d, &pt, &ptlen);
	if (e != SDPP_OK)
		return buyer_fail(
		    b, out, e, "item %llu does not decrypt", (unsigned long long)d->seq);
	if (d->seq <= b->received) {
		/* An authentic resend: the seller asks for an ACK. Deliver
		 * nothing twice; ACK everything received so far. */
		free(pt);
		b->duplicates++;
		e = send_ack(b, out);
		if (e != SDPP_OK)
			return receipt_failed(b, out, e, "ack");
		return SDPP_OK;
	}
	sdpp_item_free(&b->item);
	e = sdpp_item_parse(&b->item, (const char *)pt, ptlen);
	sdpp_wipe(pt, ptlen);
	free(pt);
	if (e != SDPP_OK)
		return buyer_fail(b, out, SDPP_E_BAD_MESSAGE, "item %llu: bad plaintext",
		    (unsigned long long)d->seq);
	if (b->item.seq != d->seq)
		return buyer_fail(b, out, SDPP_E_SEQUENCE, "item %llu carries seq %llu inside",
		    (unsigned long long)d->seq, (unsigned long long)b->item.seq);
	if (b->sign_items) {
		uint8_t next[SDPP_DIGEST_BYTES];
		char hex[SDPP_HEX_LEN(SDPP_DIGEST_BYTES)];

		/* The seller signs the receipt chain after this item; the
		 * signature is checked before the next receipt we sign. */
		memcpy(next, b->chain, sizeof(next));
		if (sdpp_chain_next(next, d->seq, d->ciphertext, d->ciphertext_len) != SDPP_OK)
			return buyer_fail(b, out, SDPP_E_INTERNAL, "hash failed");
		sdpp_hex_encode(hex, next, sizeof(next));
		if (strcmp(hex, b->in.verification) != 0)
			return buyer_fail(b, out, SDPP_E_DIGEST,
			    "item %llu: verification is not the receipt chain",
			    (unsigned long long)d->seq);
		if (pending_hold(b, &b->in) != SDPP_OK)
			return buyer_fail(b, out, SDPP_E_INTERNAL, "out of memory");
		memcpy(b->chain, next, sizeof(next));
	} else if (sdpp_chain_next(b->chain, d->seq, d->ciphertext, d->ciphertext_len) != SDPP_OK) {
		return buyer_fail(b, out, SDPP_E_INTERNAL, "hash failed");
	}
	b->received = d->seq;
	if (b->received % b->k == 0) {
		struct bound *bd;

		if (b->blen == BOUNDS_MAX) {
			b->bhead = (b->bhead + 1) % BOUNDS_MAX;
			b->blen--;
		}
		bd = &b->bounds[(b->bhead + b->blen) % BOUNDS_MAX];
		bd->seq = b->received;
		memcpy(bd->chain, b->chain, sizeof(bd->chain));
		b->blen++;
	}
	ev = sdpp_out_add_event(out, SDPP_EV_ITEM);
	if (ev == NULL)
		return buyer_fail(b, out, SDPP_E_INTERNAL, "out of memory");
	ev->item = &b->item;
	if (b->received % b->ack_every == 0 || b->received == b->quantity) {
		e = send_ack(b, out);
		if (e != SDPP_OK)
			return receipt_failed(b, out, e, "ack");
	}
	if (b->quantity != 0 && b->received == b->quantity) {
		b->exit_pending = 1;
		b->wait_since = now;
		e = exit_when_billed(b, now, out);
		if (e != SDPP_OK)
			return receipt_failed(b, out, e, "exit");
	}
	return SDPP_OK;
}

/* Receipt chain at seq if still held. */
static const uint8_t *
buyer_chain_at(struct sdpp_buyer *b, uint64_t seq)
{
	size_t i;

	if (seq == b->received)
		return b->chain;
	for (i = 0; i < b->blen; i++) {
		const struct bound *bd = &b->bounds[(b->bhead + i) % BOUNDS_MAX];

		if (bd->seq == seq)
			return bd->chain;
	}
	return NULL;
}

static enum sdpp_err
pay_start(struct sdpp_buyer *b, struct sdpp_out *out)
{
	struct sdpp_event *ev;

	if (b->paying || b->inv_latest.number == 0 || b->inv_latest.total_due <= b->paid_total)
		return SDPP_OK;
	b->inv_paying = b->inv_latest;
	b->paying = 1;
	b->req_pay = b->next_req++;
	ev = sdpp_out_add_event(out, SDPP_EV_PAY);
	if (ev == NULL)
		return SDPP_E_NOMEM;
	ev->req = b->req_pay;
	ev->invoice = &b->inv_paying;
	return SDPP_OK;
}

static enum sdpp_err
on_invoice(struct sdpp_buyer *b, struct sdpp_out *out)
{
	const struct sdpp_invoice *v = &b->in.u.invoice;
	const uint8_t *c;
	uint64_t n, amount;

	if (memcmp(v->order_id, b->order_id, SDPP_ORDER_ID_BYTES) != 0)
		return buyer_fail(b, out, SDPP_E_ORDER_ID, "invoice names another order");
	if (b->st == BS_EXIT)
		return SDPP_OK; /* crossed our exit, whose voucher settles everything */
	n = v->last_seq - v->first_seq + 1;
	if (v->number != b->ninvoices + 1 || v->first_seq != b->billed + 1 || n > b->k ||
	    v->unit_price != b->price || strcmp(v->currency, b->currency) != 0 ||
	    sdpp_money_mul(&amount, n, b->price) != SDPP_OK || v->amount != amount ||
	    amount > UINT64_MAX - b->total_due || v->total_due != b->total_due + amount)
		return buyer_fail(b, out, SDPP_E_INVOICE,
		    "invoice %llu does not add up (items %llu..%llu, amount %llu)",
		    (unsigned long long)v->number, (unsigned long long)v->first_seq,
		    (unsigned long long)v->last_seq, (unsigned long long)v->amount);
	if (b->prepay) {
		if ((b->quantity != 0 && v->last_seq > b->quantity) ||
		    v->delivered != v->first_seq - 1)
			return buyer_fail(b, out, SDPP_E_INVOICE,
			    "prepaid invoice %llu out of range", (unsigned long long)v->number);
	} else if (v->last_seq > b->received || v->delivered != v->last_seq) {
		return buyer_fail(b, out, SDPP_E_INVOICE, "invoice %llu bills items not received",
		    (unsigned long long)v->number);
	}
	c = buyer_chain_at(b, v->delivered);
	if (c == NULL || sdpp_memcmp_ct(c, v->digest, SDPP_DIGEST_BYTES) != 0)
		return buyer_fail(b, out, SDPP_E_DIGEST, "invoice %llu digest does not match",
		    (unsigned long long)v->number);
	if (b->budget != 0 && v->total_due > b->budget)
		return buyer_fail(b, out, SDPP_E_BUDGET, "invoice total %llu exceeds budget %llu",
		    (unsigned long long)v->total_due, (unsigned long long)b->budget);
	/* Chains before this invoice's point are no longer needed. */
	while (b->blen > 0 && b->bounds[b->bhead].seq <= v->delivered) {
		b->bhead = (b->bhead + 1) % BOUNDS_MAX;
		b->blen--;
	}
	b->ninvoices = v->number;
	b->billed = v->last_seq;
	b->total_due = v->total_due;
	b->inv_latest = *v;
	if (pay_start(b, out) != SDPP_OK)
		return buyer_fail(b, out, SDPP_E_INTERNAL, "out of memory");
	return SDPP_OK;
}

/* A record of the order anchored remotely: news for the host, no state. */
static enum sdpp_err
on_anchor(struct sdpp_buyer *b, struct sdpp_out *out)
{
	struct sdpp_event *ev;

	if (memcmp(b->in.u.anchor.order_id, b->order_id, SDPP_ORDER_ID_BYTES) != 0)
		return buyer_fail(b, out, SDPP_E_ORDER_ID, "anchor names another order");
	ev = sdpp_out_add_event(out, SDPP_EV_ANCHOR);
	if (ev != NULL)
		ev->msg = &b->in;
	return SDPP_OK;
}

static enum sdpp_err
on_statement(struct sdpp_buyer *b, struct sdpp_out *out)
{
	const struct sdpp_statement *st = &b->in.u.statement;
	struct sdpp_event *ev;

	/* The statement's member set is its session's (PROTOCOL.md 15.5). */
	if (st->version != b->cfg.version)
		return buyer_fail(b, out, SDPP_E_BAD_MESSAGE, "exit.tree_head: %s",
		    b->cfg.version == 2 ? "missing (the hello said sdpp/2)"
		                        : "unknown member (the hello said sdpp/1)");
	if (memcmp(st->order_id, b->order_id, SDPP_ORDER_ID_BYTES) != 0)
		return buyer_fail(b, out, SDPP_E_ORDER_ID, "statement names another order");
	if (st->version == 2 && sdpp_tree_head_verify(&st->tree_head, b->cfg.seller) != SDPP_OK)
		return buyer_fail(b, out, SDPP_E_SIGNATURE,
		    "exit.tree_head: signature by the seller key does not verify");
	ev = sdpp_out_add_event(out, SDPP_EV_STATEMENT);
	if (ev != NULL)
		ev->msg = &b->in;
	b->st = BS_DONE;
	sdpp_out_add_close(out, SDPP_OK);
	return SDPP_OK;
}

/* The seller took the order back: send what it lacks, then carry on. */
static enum sdpp_err
on_resumed(struct sdpp_buyer *b, uint64_t now, struct sdpp_out *out)
{
	const struct sdpp_resumed *r = &b->in.u.resumed;
	struct sdpp_event *ev;
	size_t i;
	enum sdpp_err e;

	if (memcmp(r->order_id, b->order_id, SDPP_ORDER_ID_BYTES) != 0)
		return buyer_fail(b, out, SDPP_E_ORDER_ID, "resumed names another order");
	if (r->seq != b->received || r->invoice < b->ninvoices)
		return buyer_fail(b, out, SDPP_E_SEQUENCE,
		    "resumed at item %llu, invoice %llu; we hold %llu and %llu",
		    (unsigned long long)r->seq, (unsigned long long)r->invoice,
		    (unsigned long long)b->received, (unsigned long long)b->ninvoices);
	b->st = b->resume_to;
	ev = sdpp_out_add_event(out, SDPP_EV_REJOINED);
	if (ev != NULL)
		ev->msg = &b->in;
	for (i = 0; i < b->paid_len; i++) {
		const struct paidframe *p = &b->paid[(b->paid_head + i) % PAID_KEPT];

		if (p->total > r->paid && sdpp_out_add_bytes(out, p->frame, p->len) != SDPP_OK)
			return buyer_fail(b, out, SDPP_E_INTERNAL, "cannot send payment");
	}
	if (b->st == BS_EXIT) {
		if (sdpp_out_add_bytes(out, b->exit_frame, b->exit_len) != SDPP_OK)
			return buyer_fail(b, out, SDPP_E_INTERNAL, "cannot send exit");
		b->wait_since = now;
		return SDPP_OK;
	}
	if (pay_start(b, out) != SDPP_OK)
		return buyer_fail(b, out, SDPP_E_INTERNAL, "cannot pay");
	e = exit_when_billed(b, now, out);
	if (e != SDPP_OK)
		return receipt_failed(b, out, e, "exit");
	return SDPP_OK;
}

enum sdpp_err
sdpp_buyer_input(
    struct sdpp_buyer *b, const char *frame, size_t len, uint64_t now, struct sdpp_out *out)
{
	char err[SDPP_TEXT_MAX + 1];
	enum sdpp_err e;

	if (b->st == BS_DONE)
		return SDPP_E_INVAL;
	sdpp_msg_free(&b->in);
	memset(&b->in, 0, sizeof(b->in));
	e = sdpp_msg_parse(&b->in, frame, len, SDPP_ROLE_SELLER, err, sizeof(err));
	if (e != SDPP_OK)
		return buyer_fail(b, out, e, "%s", err);
	/* Every seller message is signed, except data items when the menu
	 * says so (then the AEAD under the sealed key authenticates them). */
	if (b->in.type != SDPP_T_DATA || (b->in.signed_ && !b->sign_items)) {
		if (sdpp_msg_verify(&b->in, b->seller) != SDPP_OK)
			return buyer_fail(b, out, SDPP_E_SIGNATURE,
			    "%s: seller signature does not verify", sdpp_type_name(b->in.type));
	}
	if (b->in.type == SDPP_T_ERROR) {
		b->st = BS_DONE;
		sdpp_out_add_peer_error(out, &b->in);
		return SDPP_E_REMOTE;
	}
	switch (b->st) {
	case BS_MENU:
		if (b->in.type == SDPP_T_MENU)
			return on_menu(b, out);
		break;
	case BS_SESSION:
		if (b->in.type == SDPP_T_SESSION_KEY)
			return on_session_key(b, out);
		break;
	case BS_STREAM:
		if (b->in.type == SDPP_T_DATA)
			return on_data(b, now, out);
		if (b->in.type == SDPP_T_DATA_INVOICE)
			return on_invoice(b, out);
		if (b->in.type == SDPP_T_ANCHOR)
			return on_anchor(b, out);
		break;
	case BS_RESUME:
		if (b->in.type == SDPP_T_RESUMED)
			return on_resumed(b, now, out);
		break;
	case BS_EXIT:
		if (b->in.type == SDPP_T_ANCHOR)
			return on_anchor(b, out);
		/* Items and invoices already in flight when we sent exit. */
		if (b->in.type == SDPP_T_DATA)
			return on_data(b, now, out);
		if (b->in.type == SDPP_T_DATA_INVOICE)
			return on_invoice(b, out);
		if (b->in.type == SDPP_T_EXIT)
			return on_statement(b, out);
		break;
	default:
		break;
	}
	return buyer_fail(
	    b, out, SDPP_E_UNEXPECTED, "%s not expected now", sdpp_type_name(b->in.type));
}

/*
 * Sends a payment_ack (not while resuming: after `resumed`, with the
 * others the seller lacks) and, in an sdpp/2 session, keeps its frame for
 * a resume.
 */
static enum sdpp_err
payment_send(struct sdpp_buyer *b, const struct sdpp_msg *m, struct sdpp_out *out)
{
	struct paidframe *p;
	char *frame = NULL;
	size_t len = 0;
	enum sdpp_err e;

	if (b->cfg.version != 2)
		return sdpp_out_add_msg(out, m, b->cfg.id);
	e = sdpp_msg_encode(m, b->cfg.id, &frame, &len);
	if (e == SDPP_OK && b->st == BS_STREAM)
		e = sdpp_out_add_bytes(out, frame, len);
	if (e != SDPP_OK) {
		free(frame);
		return e;
	}
	if (b->paid_len == PAID_KEPT) {
		free(b->paid[b->paid_head].frame);
		b->paid_head = (b->paid_head + 1) % PAID_KEPT;
		b->paid_len--;
	}
	p = &b->paid[(b->paid_head + b->paid_len) % PAID_KEPT];
	p->total = m->u.payment.total;
	p->frame = frame;
	p->len = len;
	b->paid_len++;
	return SDPP_OK;
}

enum sdpp_err
sdpp_buyer_complete(struct sdpp_buyer *b, uint64_t req, int ok, const char *verification,
    uint64_t now, struct sdpp_out *out)
{
	struct sdpp_msg m;
	enum sdpp_err e;

	if (b->st == BS_DONE || req == 0)
		return SDPP_OK;
	if (req != b->req_pay || !b->paying)
		return SDPP_E_INVAL;
	if (verification == NULL)
		verification = "";
	if (strlen(verification) > SDPP_VERIFICATION_MAX)
		return SDPP_E_INVAL;
	b->paying = 0;
	b->req_pay = 0;
	if (!ok)
		return buyer_fail(b, out, SDPP_E_PAYMENT_REJECTED, "payment of invoice %llu failed",
		    (unsigned long long)b->inv_paying.number);
	if (b->st != BS_STREAM && !(b->st == BS_RESUME && b->resume_to == BS_STREAM))
		return SDPP_OK; /* exit already carried the final voucher */
	/* Receipts first, so the seller sees what this payment is for (a
	 * resume is one). */
	if (b->st == BS_STREAM && b->acked < b->received && (e = send_ack(b, out)) != SDPP_OK)
		return receipt_failed(b, out, e, "ack");
	memset(&m, 0, sizeof(m));
	m.type = SDPP_T_PAYMENT_ACK;
	m.from = SDPP_ROLE_BUYER;
	memcpy(m.u.payment.order_id, b->order_id, sizeof(b->order_id));
	m.u.payment.invoice = b->inv_paying.number;
	m.u.payment.total = b->inv_paying.total_due;
	snprintf(m.verification, sizeof(m.verification), "%s", verification);
	if (payment_send(b, &m, out) != SDPP_OK)
		return buyer_fail(b, out, SDPP_E_INTERNAL, "cannot send payment");
	if (m.u.payment.total > b->paid_total)
		b->paid_total = m.u.payment.total;
	if (pay_start(b, out) != SDPP_OK)
		return buyer_fail(b, out, SDPP_E_INTERNAL, "cannot pay");
	if (b->st == BS_RESUME)
		return SDPP_OK; /* the rest once resumed */
	e = exit_when_billed(b, now, out);
	if (e != SDPP_OK)
		return receipt_failed(b, out, e, "exit");
	return SDPP_OK;
}

enum sdpp_err
sdpp_buyer_exit(struct sdpp_buyer *b, uint64_t now, struct sdpp_out *out)
{
	enum sdpp_err e;

	if (b->st == BS_STREAM) {
		if (b->acked < b->received && (e = send_ack(b, out)) != SDPP_OK)
			return receipt_failed(b, out, e, "ack");
		e = send_exit(b, now, out);
		if (e != SDPP_OK)
			return receipt_failed(b, out, e, "exit");
		return SDPP_OK;
	}
	if (b->st == BS_RESUME && b->resume_to == BS_STREAM) {
		/* Sent once the seller has taken the order back. */
		e = send_exit(b, now, out);
		if (e != SDPP_OK)
			return receipt_failed(b, out, e, "exit");
		return SDPP_OK;
	}
	if (b->st == BS_DONE || b->st == BS_EXIT || b->st == BS_RESUME)
		return SDPP_OK;
	/* No order running: nothing to settle, just leave. */
	b->st = BS_DONE;
	sdpp_out_add_close(out, SDPP_OK);
	return SDPP_OK;
}

uint64_t
sdpp_buyer_deadline(const struct sdpp_buyer *b)
{
	switch (b->st) {
	case BS_MENU:
	case BS_SESSION:
	case BS_EXIT:
	case BS_RESUME:
		return b->wait_since + b->cfg.response_timeout_ms;
	case BS_STREAM:
		return b->exit_pending ? b->wait_since + b->cfg.response_timeout_ms : UINT64_MAX;
	default:
		return UINT64_MAX;
	}
}

enum sdpp_err
sdpp_buyer_tick(struct sdpp_buyer *b, uint64_t now, struct sdpp_out *out)
{
	uint64_t d = sdpp_buyer_deadline(b);
	enum sdpp_err e;

	if (d == UINT64_MAX || now < d)
		return SDPP_OK;
	if (b->st == BS_STREAM && b->exit_pending) {
		/* The last invoice did not come: the exit's voucher settles. */
		b->exit_pending = 0;
		e = send_exit(b, now, out);
		if (e != SDPP_OK)
			return receipt_failed(b, out, e, "exit");
		return SDPP_OK;
	}
	return buyer_fail(b, out, SDPP_E_IDLE_TIMEOUT, "no %s from the seller within %llu ms",
	    b->st == BS_MENU      ? "menu"
	    : b->st == BS_SESSION ? "session key"
	    : b->st == BS_RESUME  ? "answer to our resume"
	                          : "statement",
	    (unsigned long long)b->cfg.response_timeout_ms);
}

/* ---------------------------------------------------------------- resume */

int
sdpp_buyer_resumable(const struct sdpp_buyer *b)
{
	return b->cfg.version == 2 && b->aead != NULL &&
	       (b->st == BS_STREAM || b->st == BS_EXIT || b->st == BS_RESUME);
}

enum sdpp_err
sdpp_buyer_resume(struct sdpp_buyer *b, uint64_t now, struct sdpp_out *out)
{
	struct sdpp_msg m;
	enum sdpp_err e;

	if (!sdpp_buyer_resumable(b))
		return SDPP_E_INVAL;
	/* The resume is a receipt for every item held: as for an ACK, never
	 * before the seller's signature over them is checked. */
	if (pending_verify(b) != SDPP_OK)
		return receipt_failed(b, out, SDPP_E_SIGNATURE, "resume");
	if (b->st != BS_RESUME)
		b->resume_to = b->st;
	memset(&m, 0, sizeof(m));
	m.type = SDPP_T_RESUME;
	m.from = SDPP_ROLE_BUYER;
	memcpy(m.u.resume.order_id, b->order_id, sizeof(b->order_id));
	m.u.resume.seq = b->received;
	memcpy(m.u.resume.digest, b->chain, sizeof(b->chain));
	m.u.resume.invoice = b->ninvoices;
	m.u.resume.attempt = b->attempt + 1;
	e = sdpp_out_add_msg(out, &m, b->cfg.id);
	if (e != SDPP_OK)
		return e;
	b->attempt++;
	b->acked = b->received;
	b->st = BS_RESUME;
	b->wait_since = now;
	return SDPP_OK;
}
