/* Seller state machine: menu, order, session key, data, invoices, payments, exit. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdpp/enc.h"
#include "sdpp/out.h"
#include "sdpp/session.h"

#define DEF_HANDSHAKE_MS 30000
#define DEF_ACK_MS 5000
#define DEF_RESENDS 3
#define DEF_PAYMENT_MS 60000
#define DEF_IDLE_MS 60000
#define DEF_QUEUE 64
#define DEF_SHUTDOWN_GRACE_MS 5000
#define MIN_WINDOW 8
/* Invoices recorded but not yet sent, and sent-invoice amounts kept for
 * checking payments; the menu keeps max_unpaid <= 32 K so both suffice. */
#define INVOICE_QUEUE_MAX 64
#define DUE_RING 64
/* Ledger payments waiting to be confirmed, per order. */
#define PAYQ_MAX 8

enum seller_state {
	SS_HELLO,        /* waiting for hello */
	SS_ORDER,        /* menu sent, waiting for an order */
	SS_RECORD_ORDER, /* order accepted, host recording it */
	SS_STREAM,       /* session key sent, items flowing */
	SS_EXITING,      /* buyer exit being recorded */
	SS_RESUME,       /* a new connection's resume, handed to the host */
	SS_DONE,
};

struct inflight {
	uint64_t seq;
	uint8_t chain[SDPP_DIGEST_BYTES]; /* receipt chain after this item */
	/* Its ciphertext, for resends: the frame is made again from it (the
	 * same bytes, Ed25519 being deterministic), a third of its size. */
	uint8_t *ct;
	size_t ctlen;
};

/* A built invoice: recorded by the host, then sent, strictly in order. */
struct invslot {
	struct sdpp_invoice inv;
	uint64_t req; /* its record request */
	int recorded;
	char *verification; /* record id, once recorded */
};

/* A sent invoice kept, until it is paid, for a resume to send again. */
struct keptinv {
	uint64_t number, delivered, total_due;
	char *frame;
	size_t len;
};

struct qsample {
	char *topic;
	uint8_t *payload;
	size_t len;
	int64_t received_at;
};

struct sdpp_seller {
	struct sdpp_seller_config cfg;
	enum seller_state st;
	uint64_t created;
	uint64_t last_rx;
	struct sdpp_msg in; /* last input, alive until the next call */
	uint64_t next_req;
	int version; /* the hello's: 1 (sdpp/1) or 2 (sdpp/2); 0 before */

	/* The accepted order and what it fixed. The message itself is kept
	 * only while it is recorded and its session key sealed. */
	struct sdpp_msg *order;
	char *topic; /* the order's topic filter, taken from it then; NULL: "" */
	uint8_t buyer_key[SDPP_SIGN_PUBLIC_BYTES];
	uint8_t order_id[SDPP_ORDER_ID_BYTES];
	struct sdpp_verifier *buyer;
	char product[SDPP_NAME_MAX + 1];
	char currency[SDPP_CURRENCY_MAX + 1];
	char payment_address[SDPP_ADDRESS_MAX + 1];
	char buyer_address[SDPP_ADDRESS_MAX + 1]; /* where the buyer pays from */
	uint64_t price, quantity, k, ack_every, max_unpaid;
	int prepay, sign_items;
	uint64_t req_order;

	/* Data. */
	struct sdpp_aead *aead;
	uint8_t nonce_prefix[SDPP_NONCE_PREFIX_BYTES];
	uint64_t sent, acked;
	uint8_t chain[SDPP_DIGEST_BYTES];       /* at sent */
	uint8_t acked_chain[SDPP_DIGEST_BYTES]; /* at acked */
	struct inflight *ring;                  /* window entries, by seq % window */
	uint64_t window;
	uint64_t ack_wait_since;
	uint32_t resends;
	uint64_t resent_items;
	struct qsample *queue;
	size_t qhead, qlen, qcap; /* qcap grows to queue_max as needed */
	uint64_t dropped;

	/* Billing. */
	/* Built, not yet sent: the ring is allocated with the order, each
	 * slot only while its invoice is queued (an event points into it),
	 * so a buyer whose invoices are recorded and sent holds none. */
	struct invslot **invq;
	size_t invq_cap;
	size_t invq_head, invq_len;
	uint64_t invoiced;  /* items covered by built invoices */
	uint64_t ninvoices; /* invoices built */
	uint64_t nsent_inv; /* invoices sent */
	uint64_t total_due; /* over built invoices */
	uint64_t last_due;  /* total_due of the latest invoice sent (due_of()) */
	uint64_t paid_total;
	int paused;
	uint64_t paused_since;
	/* Being confirmed, the latest waiting; NULL: none. Allocated while
	 * in use: a gateway holds thousands of sessions, few of them paying. */
	struct sdpp_msg *pay_cur, *pay_next;
	/* Ledger payments are transfers, not cumulative vouchers: each one
	 * waiting is confirmed in turn, none replaces another. */
	struct sdpp_msg *payq;
	size_t payq_head, payq_len;
	/* The menu's payment method moves money on a ledger: a payment counts
	 * once the host confirmed it, and the buyer's exit is no voucher. */
	int chain_payments;
	int exit_deferred; /* exit received while a payment was being confirmed */
	uint64_t req_payment;

	/* End. */
	struct sdpp_msg *exit_msg; /* the buyer's, once received */
	uint64_t req_exit;
	struct sdpp_tree_head tree_head; /* for the sdpp/2 statement */
	int have_tree_head;
	uint64_t complete_since; /* all delivered and acked, waiting for exit */
	int closing;             /* shutdown requested */
	uint64_t grace_until;    /* shutting down: last chance to pay, 0 if not waiting */
	uint64_t inv_sent_at;    /* when the latest invoice went out */

	/* Resume (sdpp/2): the order outlives its connection. */
	int detached;
	uint64_t detached_since;
	uint64_t last_attempt; /* of the last resume accepted */
	uint64_t dropped_away; /* samples dropped since the connection went */
	struct keptinv *kept;  /* ring of invq_cap, allocated with the order */
	uint64_t inv_seen;     /* the buyer named invoices up to this one */
	size_t kept_head, kept_len;
	/* The closing statement, when the exit was recorded while detached:
	 * it goes to the buyer's resume (there is nobody to send it to). */
	char *statement;
	size_t statement_len;
};

static void kept_prune(struct sdpp_seller *s);
static enum sdpp_err seller_fail(struct sdpp_seller *s, struct sdpp_out *out, enum sdpp_err e,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static enum sdpp_err
seller_fail(struct sdpp_seller *s, struct sdpp_out *out, enum sdpp_err e, const char *fmt, ...)
{
	char text[SDPP_TEXT_MAX + 1];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	/* Best effort: if even the error frame cannot be built, the host
	 * still gets SDPP_EV_CLOSE and drops the connection. */
	(void)sdpp_out_add_error(out, e, text, s->cfg.id, SDPP_ROLE_SELLER);
	s->st = SS_DONE;
	sdpp_out_add_close(out, e);
	return e;
}

static void
seller_close_ok(struct sdpp_seller *s, struct sdpp_out *out)
{

	s->st = SS_DONE;
	sdpp_out_add_close(out, SDPP_OK);
}

/* Moves *m into a new heap copy, leaving *m empty; NULL if out of memory
 * (then *m is unchanged). */
static struct sdpp_msg *
msg_take(struct sdpp_msg *m)
{
	struct sdpp_msg *c = malloc(sizeof(*c));

	if (c == NULL)
		return NULL;
	*c = *m;
	memset(m, 0, sizeof(*m));
	return c;
}

static void
msg_drop(struct sdpp_msg **m)
{
	if (*m == NULL)
		return;
	sdpp_msg_free(*m);
	free(*m);
	*m = NULL;
}

enum sdpp_err
sdpp_seller_new(struct sdpp_seller **out, const struct sdpp_seller_config *cfg, uint64_t now)
{
	struct sdpp_seller *s;

	*out = NULL;
	if (cfg->id == NULL || cfg->menu == NULL)
		return SDPP_E_INVAL;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return SDPP_E_NOMEM;
	s->cfg = *cfg;
	if (s->cfg.handshake_timeout_ms == 0)
		s->cfg.handshake_timeout_ms = DEF_HANDSHAKE_MS;
	if (s->cfg.ack_timeout_ms == 0)
		s->cfg.ack_timeout_ms = DEF_ACK_MS;
	if (s->cfg.max_resends == 0)
		s->cfg.max_resends = DEF_RESENDS;
	if (s->cfg.payment_timeout_ms == 0)
		s->cfg.payment_timeout_ms = DEF_PAYMENT_MS;
	if (s->cfg.idle_timeout_ms == 0)
		s->cfg.idle_timeout_ms = DEF_IDLE_MS;
	if (s->cfg.queue_max == 0)
		s->cfg.queue_max = DEF_QUEUE;
	if (s->cfg.max_quantity == 0)
		s->cfg.max_quantity = 9007199254740991ULL;
	if (s->cfg.shutdown_grace_ms == 0)
		s->cfg.shutdown_grace_ms = DEF_SHUTDOWN_GRACE_MS;
	s->created = now;
	s->last_rx = now;
	s->next_req = 1;
	s->st = SS_HELLO;
	*out = s;
	return SDPP_OK;
}

static void
seller_free_stream(struct sdpp_seller *s)
{
	uint64_t i;
	size_t q;

	if (s->ring != NULL)
		for (i = 0; i < s->window; i++)
			free(s->ring[i].ct);
	free(s->ring);
	s->ring = NULL;
	if (s->queue != NULL)
		for (q = 0; q < s->qlen; q++) {
			struct qsample *x = &s->queue[(s->qhead + q) % s->qcap];

			free(x->topic);
			free(x->payload);
		}
	free(s->queue);
	s->queue = NULL;
	s->qhead = s->qlen = s->qcap = 0;
}

void
sdpp_seller_free(struct sdpp_seller *s)
{
	size_t q;

	if (s == NULL)
		return;
	seller_free_stream(s);
	for (q = 0; s->invq != NULL && q < s->invq_len; q++) {
		struct invslot *v = s->invq[(s->invq_head + q) % s->invq_cap];

		free(v->verification);
		free(v);
	}
	free(s->invq);
	for (q = 0; s->kept != NULL && q < s->kept_len; q++)
		free(s->kept[(s->kept_head + q) % s->invq_cap].frame);
	free(s->kept);
	free(s->statement);
	sdpp_aead_free(s->aead);
	sdpp_verifier_free(s->buyer);
	sdpp_msg_free(&s->in);
	msg_drop(&s->order);
	free(s->topic);
	msg_drop(&s->pay_cur);
	msg_drop(&s->pay_next);
	for (; s->payq != NULL && s->payq_len > 0; s->payq_len--) {
		sdpp_msg_free(&s->payq[s->payq_head]);
		s->payq_head = (s->payq_head + 1) % PAYQ_MAX;
	}
	free(s->payq);
	msg_drop(&s->exit_msg);
	sdpp_wipe(s, sizeof(*s));
	free(s);
}

void
sdpp_seller_set_menu(struct sdpp_seller *s, const struct sdpp_menu *menu)
{
	s->cfg.menu = menu;
}

enum sdpp_err
sdpp_seller_anchor(struct sdpp_seller *s, const char *record, const char *ref, struct sdpp_out *out)
{
	struct sdpp_msg m;

	if ((s->st != SS_STREAM && s->st != SS_EXITING) || strlen(record) == 0 ||
	    strlen(record) > SDPP_RECORD_MAX || strlen(ref) == 0 ||
	    strlen(ref) > SDPP_ANCHOR_REF_MAX)
		return SDPP_E_INVAL;
	memset(&m, 0, sizeof(m));
	m.type = SDPP_T_ANCHOR;
	m.from = SDPP_ROLE_SELLER;
	memcpy(m.u.anchor.order_id, s->order_id, sizeof(s->order_id));
	memcpy(m.u.anchor.record, record, strlen(record) + 1);
	memcpy(m.u.anchor.ref, ref, strlen(ref) + 1);
	return sdpp_out_add_msg(out, &m, s->cfg.id);
}

const char *
sdpp_seller_buyer_address(const struct sdpp_seller *s)
{
	return s->buyer_address;
}

const char *
sdpp_seller_product(const struct sdpp_seller *s)
{
	return s->st >= SS_RECORD_ORDER && s->product[0] != '\0' ? s->product : NULL;
}

const char *
sdpp_seller_topic(const struct sdpp_seller *s)
{
	const char *t = s->order != NULL ? s->order->u.order.topic : s->topic;

	if (s->buyer == NULL)
		return NULL;
	return t != NULL ? t : "";
}

int
sdpp_seller_version(const struct sdpp_seller *s)
{
	return s->version;
}

const uint8_t *
sdpp_seller_order_id(const struct sdpp_seller *s)
{
	return s->buyer != NULL ? s->order_id : NULL;
}

const uint8_t *
sdpp_seller_buyer(const struct sdpp_seller *s)
{
	return s->buyer != NULL ? s->buyer_key : NULL;
}

int
sdpp_seller_done(const struct sdpp_seller *s)
{
	return s->st == SS_DONE;
}

int
sdpp_seller_streaming(const struct sdpp_seller *s)
{
	return s->st == SS_STREAM && !s->closing;
}

void
sdpp_seller_progress(const struct sdpp_seller *s, struct sdpp_progress *p)
{
	memset(p, 0, sizeof(*p));
	p->sent = s->sent;
	p->acked = s->acked;
	p->invoiced = s->invoiced;
	p->total_due = s->total_due;
	p->total_paid = s->paid_total;
	p->dropped = s->dropped;
	p->resent = s->resent_items;
	p->price = s->price;
	p->quantity = s->quantity;
}

/* Items the buyer has paid for; in prepay mode never beyond what was invoiced. */
static uint64_t
paid_items(const struct sdpp_seller *s)
{
	uint64_t n = s->paid_total / s->price;

	if (s->prepay && n > s->invoiced)
		n = s->invoiced;
	return n;
}

static int
unpaid_blocked(const struct sdpp_seller *s)
{
	uint64_t paid;

	if (s->price == 0)
		return 0;
	paid = paid_items(s);
	if (s->prepay)
		return s->sent >= paid;
	/* sent - paid is negative when the buyer has paid ahead (a voucher may
	 * authorise more than is due): never blocked then. The unsigned
	 * difference would wrap and pause, then time out, a buyer in credit. */
	return s->sent >= paid && s->sent - paid >= s->max_unpaid;
}

static int
order_full(const struct sdpp_seller *s)
{
	return s->quantity != 0 && s->sent >= s->quantity;
}

static int
can_send(const struct sdpp_seller *s)
{
	return s->st == SS_STREAM && !s->closing && !s->detached && !order_full(s) &&
	       s->sent - s->acked < s->window && !unpaid_blocked(s);
}

/*
 * Asks the host to record every built invoice that has no request yet, all
 * at once: a slow records medium then records them together (one group
 * commit) instead of one per round trip. They are sent in order as the
 * head of the queue is recorded (invoices_send()).
 */
static enum sdpp_err
invoice_request(struct sdpp_seller *s, struct sdpp_out *out)
{
	struct sdpp_event *ev;
	struct invslot *v;
	size_t i;

	for (i = 0; i < s->invq_len; i++) {
		v = s->invq[(s->invq_head + i) % s->invq_cap];
		if (v->req != 0)
			continue;
		v->req = s->next_req++;
		ev = sdpp_out_add_event(out, SDPP_EV_INVOICE);
		if (ev == NULL)
			return SDPP_E_NOMEM;
		ev->req = v->req;
		ev->invoice = &v->inv;
	}
	return SDPP_OK;
}

/* Builds invoices that are due now and queues them for recording. */
static enum sdpp_err
invoice_build(struct sdpp_seller *s, struct sdpp_out *out)
{
	uint64_t first, last, n, amount, total;
	struct invslot *slot;
	struct sdpp_invoice *v;
	enum sdpp_err e;

	for (;;) {
		if (s->price == 0 || s->st != SS_STREAM)
			break;
		first = s->invoiced + 1;
		if (s->prepay) {
			/* Bill the next block once the billed ones are delivered. */
			if (s->closing || s->sent != s->invoiced ||
			    (s->quantity != 0 && s->invoiced >= s->quantity))
				break;
			last = s->invoiced + s->k;
			if (s->quantity != 0 && last > s->quantity)
				last = s->quantity;
		} else if (s->sent - s->invoiced >= s->k) {
			last = s->invoiced + s->k;
		} else if (s->closing && s->sent > s->invoiced) {
			last = s->sent; /* final partial block on shutdown */
		} else {
			break;
		}
		if (s->invq_len == s->invq_cap)
			return SDPP_E_INTERNAL;
		n = last - first + 1;
		e = sdpp_money_mul(&amount, n, s->price);
		if (e != SDPP_OK)
			return e;
		if (amount > UINT64_MAX - s->total_due)
			return SDPP_E_OVERFLOW;
		total = s->total_due + amount;
		slot = calloc(1, sizeof(*slot));
		if (slot == NULL)
			return SDPP_E_NOMEM;
		s->invq[(s->invq_head + s->invq_len) % s->invq_cap] = slot;
		v = &slot->inv;
		memcpy(v->order_id, s->order_id, sizeof(v->order_id));
		v->number = ++s->ninvoices;
		v->first_seq = first;
		v->last_seq = last;
		v->unit_price = s->price;
		v->amount = amount;
		v->total_due = total;
		memcpy(v->currency, s->currency, sizeof(v->currency));
		memcpy(v->payment_address, s->payment_address, sizeof(v->payment_address));
		v->delivered = s->sent;
		memcpy(v->digest, s->chain, sizeof(v->digest));
		s->invq_len++;
		s->invoiced = last;
		s->total_due = total;
		if (s->prepay)
			break;
	}
	return invoice_request(s, out);
}

static enum sdpp_err
pause_check(struct sdpp_seller *s, uint64_t now, struct sdpp_out *out)
{
	int blocked = s->st == SS_STREAM && !order_full(s) && unpaid_blocked(s);

	if (blocked && !s->paused) {
		s->paused = 1;
		s->paused_since = now;
		if (sdpp_out_add_event(out, SDPP_EV_PAUSED) == NULL)
			return SDPP_E_NOMEM;
	} else if (!blocked && s->paused) {
		s->paused = 0;
		if (sdpp_out_add_event(out, SDPP_EV_RESUMED) == NULL)
			return SDPP_E_NOMEM;
	}
	return SDPP_OK;
}

/*
 * The data frame of item seq from its ciphertext and the receipt chain
 * after it: a signed item signs that chain (in `verification`), so one
 * checked signature vouches for every item up to it and the buyer need not
 * verify each one (PROTOCOL.md s.5.5). defer: the signature's place held
 * for the host. The first copy and every resend are made here, the same
 * bytes.
 */
static enum sdpp_err
data_frame(const struct sdpp_seller *s, uint64_t seq, uint8_t *ct, size_t ctlen,
    const uint8_t chain[SDPP_DIGEST_BYTES], int defer, char **frame, size_t *flen)
{
	struct sdpp_msg m;

	memset(&m, 0, sizeof(m));
	m.type = SDPP_T_DATA;
	m.from = SDPP_ROLE_SELLER;
	memcpy(m.u.data.order_id, s->order_id, sizeof(s->order_id));
	m.u.data.seq = seq;
	m.u.data.ciphertext = ct; /* borrowed: m is never freed */
	m.u.data.ciphertext_len = ctlen;
	if (s->sign_items)
		sdpp_hex_encode(m.verification, chain, SDPP_DIGEST_BYTES);
	if (defer)
		return sdpp_msg_encode_data_unsigned(&m, frame, flen);
	return sdpp_msg_encode(&m, s->sign_items ? s->cfg.id : NULL, frame, flen);
}

/* Sends the item of slot again: its frame made again from the ciphertext
 * kept, signed here even when the host signed its first copy. */
static enum sdpp_err
slot_resend(const struct sdpp_seller *s, const struct inflight *slot, struct sdpp_out *out)
{
	char *frame = NULL;
	size_t flen;
	enum sdpp_err e;

	if (slot->ct == NULL)
		return SDPP_E_INTERNAL;
	e = data_frame(s, slot->seq, slot->ct, slot->ctlen, slot->chain, 0, &frame, &flen);
	if (e == SDPP_OK)
		e = sdpp_out_add_bytes(out, frame, flen);
	free(frame);
	return e;
}

static enum sdpp_err
send_item(struct sdpp_seller *s, const char *topic, const uint8_t *payload, size_t len,
    int64_t received_at, uint64_t now, struct sdpp_out *out)
{
	struct sdpp_item item;
	struct inflight *slot;
	struct sdpp_event *ev = NULL;
	uint8_t nonce[SDPP_AEAD_NONCE_BYTES], aad[SDPP_DATA_AAD_BYTES];
	uint8_t *ct = NULL;
	char *pt = NULL, *frame = NULL;
	size_t ptlen = 0, flen = 0;
	uint64_t seq = s->sent + 1;
	int defer;
	enum sdpp_err e;

	memset(&item, 0, sizeof(item));
	item.seq = seq;
	if (strlen(topic) > SDPP_TOPIC_MAX || len > SDPP_PAYLOAD_MAX)
		return SDPP_E_INVAL;
	memcpy(item.topic, topic, strlen(topic) + 1);
	item.received_at = received_at;
	item.payload = payload;
	item.payload_len = len;
	e = sdpp_item_encode(&item, &pt, &ptlen);
	if (e != SDPP_OK)
		goto fail;
	ct = malloc(ptlen + SDPP_AEAD_TAG_BYTES);
	e = SDPP_E_NOMEM;
	if (ct == NULL)
		goto fail;
	sdpp_data_nonce(nonce, s->nonce_prefix, seq);
	sdpp_data_aad(aad, s->order_id, seq);
	e = sdpp_aead_seal(s->aead, nonce, aad, sizeof(aad), (const uint8_t *)pt, ptlen, ct);
	if (e != SDPP_OK)
		goto fail;
	e = sdpp_chain_next(s->chain, seq, ct, ptlen + SDPP_AEAD_TAG_BYTES);
	if (e != SDPP_OK)
		goto fail;
	defer = s->sign_items && s->cfg.defer_item_signatures;
	e = data_frame(s, seq, ct, ptlen + SDPP_AEAD_TAG_BYTES, s->chain, defer, &frame, &flen);
	if (e != SDPP_OK)
		goto fail;
	if (defer) {
		/* The event first: without it the frame would go out unsigned. */
		ev = sdpp_out_add_event(out, SDPP_EV_SIGN_ITEM);
		e = SDPP_E_NOMEM;
		if (ev == NULL)
			goto fail;
		ev->count = seq;
		ev->off = out->len;
		ev->len = flen;
	}
	e = sdpp_out_add_bytes(out, frame, flen);
	if (e != SDPP_OK) {
		if (ev != NULL)
			ev->type = SDPP_EV_NONE;
		goto fail;
	}
	slot = &s->ring[seq % s->window];
	free(slot->ct);
	slot->seq = seq;
	memcpy(slot->chain, s->chain, sizeof(slot->chain));
	slot->ct = ct;
	slot->ctlen = ptlen + SDPP_AEAD_TAG_BYTES;
	ct = NULL;
	if (s->sent == s->acked)
		s->ack_wait_since = now;
	s->sent = seq;
	e = invoice_build(s, out);
	if (e == SDPP_OK)
		e = pause_check(s, now, out);
fail:
	free(frame);
	free(ct);
	if (pt != NULL)
		sdpp_wipe(pt, ptlen);
	free(pt);
	return e;
}

/* Sends queued samples while the buyer may receive them. */
static enum sdpp_err
queue_flush(struct sdpp_seller *s, uint64_t now, struct sdpp_out *out)
{
	enum sdpp_err e;

	while (s->qlen > 0 && can_send(s)) {
		struct qsample *x = &s->queue[s->qhead];

		e = send_item(s, x->topic, x->payload, x->len, x->received_at, now, out);
		free(x->topic);
		free(x->payload);
		x->topic = NULL;
		x->payload = NULL;
		s->qhead = (s->qhead + 1) % s->qcap;
		s->qlen--;
		if (e != SDPP_OK)
			return e;
	}
	return SDPP_OK;
}

/*
 * Doubles the sample queue, up to queue_max: most buyers keep up and never
 * queue a sample, and a gateway holds thousands of them (queue_max slots up
 * front were 2 KB each).
 */
static enum sdpp_err
queue_grow(struct sdpp_seller *s)
{
	size_t cap = s->qcap == 0 ? 4 : 2 * s->qcap, i;
	struct qsample *q;

	if (cap > s->cfg.queue_max)
		cap = s->cfg.queue_max;
	q = calloc(cap, sizeof(*q));
	if (q == NULL)
		return SDPP_E_NOMEM;
	for (i = 0; i < s->qlen; i++)
		q[i] = s->queue[(s->qhead + i) % s->qcap];
	free(s->queue);
	s->queue = q;
	s->qhead = 0;
	s->qcap = cap;
	return SDPP_OK;
}

enum sdpp_err
sdpp_seller_sample(struct sdpp_seller *s, const char *topic, const uint8_t *payload, size_t len,
    int64_t received_at, uint64_t now, struct sdpp_out *out)
{
	struct qsample *x;
	struct sdpp_event *ev;
	enum sdpp_err e;

	if (s->st != SS_STREAM || s->closing || order_full(s))
		return SDPP_OK;
	/* Refuse here what the buyer's item parser refuses: MQTT lets any
	 * publisher use a topic with control characters, and sending it in an
	 * item would make every buyer of the product close its session with
	 * bad_message (invalid UTF-8 would even close ours). The host drops
	 * the sample and keeps the session. */
	if (!sdpp_item_topic_ok(topic) || len > SDPP_PAYLOAD_MAX)
		return SDPP_E_INVAL;
	if (s->qlen == 0 && can_send(s)) {
		e = send_item(s, topic, payload, len, received_at, now, out);
		if (e != SDPP_OK)
			return seller_fail(
			    s, out, SDPP_E_INTERNAL, "cannot send item: %s", sdpp_strerror(e));
		return SDPP_OK;
	}
	/* Live data: when the buyer's queue is full the oldest sample goes,
	 * so a slow or unpaid buyer gets the freshest values when it resumes. */
	if (s->qlen == s->cfg.queue_max) {
		x = &s->queue[s->qhead];
		free(x->topic);
		free(x->payload);
		s->qhead = (s->qhead + 1) % s->qcap;
		s->qlen--;
		s->dropped++;
		if (s->detached)
			s->dropped_away++;
		ev = sdpp_out_add_event(out, SDPP_EV_DROPPED);
		if (ev != NULL)
			ev->count = 1;
	}
	if (s->qlen == s->qcap && queue_grow(s) != SDPP_OK)
		return SDPP_E_NOMEM;
	x = &s->queue[(s->qhead + s->qlen) % s->qcap];
	x->topic = strdup(topic);
	x->payload = malloc(len == 0 ? 1 : len);
	if (x->topic == NULL || x->payload == NULL) {
		free(x->topic);
		free(x->payload);
		x->topic = NULL;
		x->payload = NULL;
		return SDPP_E_NOMEM;
	}
	memcpy(x->payload, payload, len);
	x->len = len;
	x->received_at = received_at;
	s->qlen++;
	return SDPP_OK;
}

static const struct sdpp_product *
menu_product(const struct sdpp_menu *m, const char *id)
{
	size_t i;

	for (i = 0; i < m->nproducts; i++)
		if (strcmp(m->products[i].id, id) == 0)
			return &m->products[i];
	return NULL;
}

/*
 * The menu in the version the hello named (PROTOCOL.md 15.2): an sdpp/1
 * buyer gets the first SDPP_PRODUCTS_MAX_V1 products with the sdpp/1
 * members only, which the encoder writes for an sdpp/1 menu, so the
 * shallow copy just names fewer products.
 */
static enum sdpp_err
on_hello(struct sdpp_seller *s, struct sdpp_out *out)
{
	struct sdpp_msg m;
	enum sdpp_err e;

	s->version = strcmp(s->in.u.hello.version, SDPP_VERSION_2) == 0 ? 2 : 1;
	memset(&m, 0, sizeof(m));
	m.type = SDPP_T_MENU;
	m.from = SDPP_ROLE_SELLER;
	m.u.menu = *s->cfg.menu; /* shallow: products stay borrowed */
	snprintf(m.u.menu.version, sizeof(m.u.menu.version), "%s",
	    s->version == 2 ? SDPP_VERSION_2 : SDPP_VERSION);
	if (s->version == 1 && m.u.menu.nproducts > SDPP_PRODUCTS_MAX_V1)
		m.u.menu.nproducts = SDPP_PRODUCTS_MAX_V1;
	sdpp_identity_sign_public(s->cfg.id, m.u.menu.seller);
	e = sdpp_out_add_msg(out, &m, s->cfg.id);
	if (e != SDPP_OK)
		return seller_fail(s, out, SDPP_E_INTERNAL, "cannot build menu");
	s->st = SS_ORDER;
	return SDPP_OK;
}

static enum sdpp_err
on_order(struct sdpp_seller *s, uint64_t now, struct sdpp_out *out)
{
	const struct sdpp_order *o = &s->in.u.order;
	const struct sdpp_menu *menu = s->cfg.menu;
	const struct sdpp_product *p;
	struct sdpp_event *ev;
	enum sdpp_err e;
	uint64_t max_total;

	(void)now;
	/* The order's member set is its session's (PROTOCOL.md 15.4). */
	if (o->version != s->version)
		return seller_fail(s, out, SDPP_E_BAD_MESSAGE, "order.topic: %s",
		    s->version == 2 ? "missing (the hello said sdpp/2)"
		                    : "unknown member (the hello said sdpp/1)");
	e = sdpp_verifier_new(&s->buyer, o->buyer);
	if (e != SDPP_OK)
		return seller_fail(s, out, SDPP_E_BAD_MESSAGE, "order.buyer: not an Ed25519 key");
	if (sdpp_msg_verify(&s->in, s->buyer) != SDPP_OK)
		return seller_fail(
		    s, out, SDPP_E_SIGNATURE, "order: signature by order.buyer does not verify");
	p = menu_product(menu, o->product);
	if (p == NULL)
		return seller_fail(
		    s, out, SDPP_E_UNKNOWN_PRODUCT, "no product `%s' on the menu", o->product);
	if (strcmp(o->currency, menu->currency) != 0)
		return seller_fail(s, out, SDPP_E_CURRENCY, "currency `%s' not accepted, use `%s'",
		    o->currency, menu->currency);
	if (o->price != p->price)
		return seller_fail(s, out, SDPP_E_PRICE, "price of `%s' is %llu, not %llu", p->id,
		    (unsigned long long)p->price, (unsigned long long)o->price);
	if (o->quantity > s->cfg.max_quantity)
		return seller_fail(s, out, SDPP_E_QUANTITY, "quantity above %llu",
		    (unsigned long long)s->cfg.max_quantity);
	if (o->quantity != 0 && sdpp_money_mul(&max_total, o->quantity, p->price) != SDPP_OK)
		return seller_fail(s, out, SDPP_E_OVERFLOW, "quantity * price exceeds 2^64-1");
	{
		/* A small-order enc_key cannot receive a session key: refuse
		 * the order now rather than after it is recorded. */
		static const uint8_t probe[SDPP_X25519_BYTES] = { 0x48, 1, 2, 3, 4, 5, 6, 7, 8 };
		uint8_t shared[SDPP_X25519_BYTES];

		if (sdpp_x25519(shared, probe, o->enc_key) != SDPP_OK)
			return seller_fail(
			    s, out, SDPP_E_BAD_MESSAGE, "order.enc_key: not a usable X25519 key");
		sdpp_wipe(shared, sizeof(shared));
	}
	/* A ledger payment is checked against its sender: the order must say
	 * which account the buyer pays from. */
	if (strcmp(menu->payment_method, "voucher") != 0 && o->payment_address[0] == '\0')
		return seller_fail(s, out, SDPP_E_BAD_MESSAGE,
		    "order.payment_address: payment_method `%s' needs the address you pay from",
		    menu->payment_method);
	if (sdpp_order_id(&s->in, s->order_id) != SDPP_OK)
		return seller_fail(s, out, SDPP_E_INTERNAL, "cannot hash order");
	/* Fix everything the order depends on now: a reload may replace the menu. */
	memcpy(s->product, p->id, sizeof(s->product));
	memcpy(s->currency, menu->currency, sizeof(s->currency));
	memcpy(s->payment_address, menu->payment_address, sizeof(s->payment_address));
	memcpy(s->buyer_address, o->payment_address, sizeof(s->buyer_address));
	s->chain_payments = strcmp(menu->payment_method, "voucher") != 0;
	s->price = p->price;
	s->quantity = o->quantity;
	s->k = menu->granularity;
	s->ack_every = menu->ack_every;
	s->max_unpaid = menu->max_unpaid;
	s->prepay = p->prepay;
	s->sign_items = menu->sign_items;
	s->window = s->cfg.window;
	if (s->window == 0)
		s->window = 2 * s->ack_every > MIN_WINDOW ? 2 * s->ack_every : MIN_WINDOW;
	if (s->window < s->ack_every || s->k == 0 || s->ack_every == 0 ||
	    (!s->prepay && s->max_unpaid < s->k) || s->max_unpaid > 32 * s->k)
		return seller_fail(s, out, SDPP_E_INTERNAL, "inconsistent seller configuration");
	/*
	 * Invoices waiting to be recorded: sending pauses at max_unpaid items
	 * beyond those paid, so at most max_unpaid / K + 1 blocks are built
	 * and unsent, plus a final one on shutdown. Sized per order, not per
	 * connection, so a buyer that never orders costs nothing here.
	 */
	s->invq_cap = (size_t)(s->prepay ? 1 : s->max_unpaid / s->k + 1) + 2;
	if (s->invq_cap > INVOICE_QUEUE_MAX)
		s->invq_cap = INVOICE_QUEUE_MAX;
	s->invq = calloc(s->invq_cap, sizeof(*s->invq));
	if (s->invq == NULL)
		return seller_fail(s, out, SDPP_E_INTERNAL, "out of memory");
	/* A resumable order keeps what it sends unpaid (as many as it may
	 * have built unsent: the same pause bounds both). */
	if (s->version == 2 && s->cfg.resume_timeout_ms != 0) {
		s->kept = calloc(s->invq_cap, sizeof(*s->kept));
		if (s->kept == NULL)
			return seller_fail(s, out, SDPP_E_INTERNAL, "out of memory");
	}
	memcpy(s->buyer_key, s->in.u.order.buyer, sizeof(s->buyer_key));
	s->order = msg_take(&s->in);
	if (s->order == NULL)
		return seller_fail(s, out, SDPP_E_INTERNAL, "out of memory");
	s->req_order = s->next_req++;
	s->st = SS_RECORD_ORDER;
	ev = sdpp_out_add_event(out, SDPP_EV_ORDER);
	if (ev == NULL)
		return seller_fail(s, out, SDPP_E_INTERNAL, "out of memory");
	ev->req = s->req_order;
	ev->msg = s->order;
	return SDPP_OK;
}

static enum sdpp_err
start_stream(struct sdpp_seller *s, const char *verification, uint64_t now, struct sdpp_out *out)
{
	uint8_t key[SDPP_SESSION_KEY_BYTES];
	struct sdpp_msg m;
	enum sdpp_err e;

	memset(&m, 0, sizeof(m));
	e = sdpp_random(key, sizeof(key));
	if (e == SDPP_OK)
		e = sdpp_random(s->nonce_prefix, sizeof(s->nonce_prefix));
	if (e == SDPP_OK)
		e = sdpp_aead_new(&s->aead, key);
	if (e == SDPP_OK)
		e = sdpp_seal(m.u.session_key.sealed, s->order->u.order.enc_key, key, s->order_id,
		    sizeof(s->order_id));
	sdpp_wipe(key, sizeof(key));
	if (e != SDPP_OK)
		return seller_fail(s, out,
		    e == SDPP_E_CRYPTO ? SDPP_E_BAD_MESSAGE : SDPP_E_INTERNAL,
		    "cannot seal the session key to order.enc_key");
	s->ring = calloc(s->window, sizeof(*s->ring));
	if (s->ring == NULL)
		return seller_fail(s, out, SDPP_E_INTERNAL, "out of memory");
	if (sdpp_chain_init(s->chain, s->order_id) != SDPP_OK)
		return seller_fail(s, out, SDPP_E_INTERNAL, "hash failed");
	memcpy(s->acked_chain, s->chain, sizeof(s->chain));
	/* Recorded and sealed to: only its topic is needed from here on. */
	s->topic = s->order->u.order.topic;
	s->order->u.order.topic = NULL;
	msg_drop(&s->order);
	m.type = SDPP_T_SESSION_KEY;
	m.from = SDPP_ROLE_SELLER;
	memcpy(m.u.session_key.order_id, s->order_id, sizeof(s->order_id));
	memcpy(m.u.session_key.nonce_prefix, s->nonce_prefix, sizeof(s->nonce_prefix));
	snprintf(m.verification, sizeof(m.verification), "%s", verification);
	if (sdpp_out_add_msg(out, &m, s->cfg.id) != SDPP_OK)
		return seller_fail(s, out, SDPP_E_INTERNAL, "cannot build session_key");
	s->st = SS_STREAM;
	e = invoice_build(s, out);
	if (e == SDPP_OK)
		e = pause_check(s, now, out);
	if (e != SDPP_OK)
		return seller_fail(s, out, SDPP_E_INTERNAL, "%s", sdpp_strerror(e));
	return SDPP_OK;
}

/* Receipt chain at seq, for acked <= seq <= sent; NULL if not held. */
static const uint8_t *
chain_at(const struct sdpp_seller *s, uint64_t seq)
{
	const struct inflight *slot;

	if (seq == s->acked)
		return s->acked_chain;
	if (seq == s->sent)
		return s->chain;
	if (seq < s->acked || seq > s->sent)
		return NULL;
	slot = &s->ring[seq % s->window];
	return slot->seq == seq ? slot->chain : NULL;
}

static enum sdpp_err
check_order_id(struct sdpp_seller *s, const uint8_t *id, struct sdpp_out *out)
{
	if (memcmp(id, s->order_id, SDPP_ORDER_ID_BYTES) != 0)
		return seller_fail(
		    s, out, SDPP_E_ORDER_ID, "%s names another order", sdpp_type_name(s->in.type));
	return SDPP_OK;
}

/*
 * The buyer has signed for items 1..seq, whose chain is c (an ACK's or a
 * resume's receipt, checked): the ACK timer starts again.
 */
static void
ack_advance(struct sdpp_seller *s, uint64_t seq, const uint8_t *c, uint64_t now)
{
	uint64_t i;

	memmove(s->acked_chain, c, SDPP_DIGEST_BYTES); /* c may be acked_chain */
	/* Acknowledged items are never resent: free their frames now rather
	 * than when the ring comes round, so a buyer holds only its unacked
	 * frames (most of a streaming buyer's memory otherwise). */
	for (i = s->acked + 1; i <= seq; i++) {
		struct inflight *slot = &s->ring[i % s->window];

		free(slot->ct);
		slot->ct = NULL;
	}
	s->acked = seq;
	s->resends = 0;
	s->ack_wait_since = now;
	if (s->acked == s->sent && order_full(s))
		s->complete_since = now;
}

static enum sdpp_err
on_ack(struct sdpp_seller *s, uint64_t now, struct sdpp_out *out)
{
	const struct sdpp_ack *a = &s->in.u.ack;
	const uint8_t *c;
	struct sdpp_event *ev;

	if (check_order_id(s, a->order_id, out) != SDPP_OK)
		return SDPP_E_ORDER_ID;
	if (a->seq > s->sent)
		return seller_fail(s, out, SDPP_E_SEQUENCE, "ack for item %llu, only %llu sent",
		    (unsigned long long)a->seq, (unsigned long long)s->sent);
	if (a->seq <= s->acked)
		return SDPP_OK; /* crossed with a resend: already covered */
	c = chain_at(s, a->seq);
	if (c == NULL || sdpp_memcmp_ct(c, a->digest, SDPP_DIGEST_BYTES) != 0)
		return seller_fail(s, out, SDPP_E_DIGEST, "ack digest for item %llu does not match",
		    (unsigned long long)a->seq);
	ack_advance(s, a->seq, c, now);
	ev = sdpp_out_add_event(out, SDPP_EV_RECEIPT);
	if (ev != NULL)
		ev->msg = &s->in;
	if (queue_flush(s, now, out) != SDPP_OK)
		return seller_fail(s, out, SDPP_E_INTERNAL, "cannot send item");
	return SDPP_OK;
}

static enum sdpp_err
payment_start(struct sdpp_seller *s, struct sdpp_out *out)
{
	struct sdpp_event *ev;

	if (s->pay_cur != NULL)
		return SDPP_OK;
	if (s->payq_len > 0) {
		s->pay_cur = msg_take(&s->payq[s->payq_head]);
		if (s->pay_cur == NULL)
			return SDPP_E_NOMEM;
		s->payq_head = (s->payq_head + 1) % PAYQ_MAX;
		s->payq_len--;
	} else if (s->pay_next != NULL) {
		s->pay_cur = s->pay_next;
		s->pay_next = NULL;
	} else {
		return SDPP_OK;
	}
	s->req_payment = s->next_req++;
	ev = sdpp_out_add_event(out, SDPP_EV_PAYMENT);
	if (ev == NULL)
		return SDPP_E_NOMEM;
	ev->req = s->req_payment;
	ev->msg = s->pay_cur;
	return SDPP_OK;
}

/* What the buyer has paid or asked us to confirm: its payments above it
 * did not arrive and are to be sent again. */
static uint64_t
claimed_total(const struct sdpp_seller *s)
{
	uint64_t c = s->paid_total;
	size_t i;

	if (s->pay_cur != NULL && s->pay_cur->u.payment.total > c)
		c = s->pay_cur->u.payment.total;
	if (s->pay_next != NULL && s->pay_next->u.payment.total > c)
		c = s->pay_next->u.payment.total;
	for (i = 0; i < s->payq_len; i++)
		if (s->payq[(s->payq_head + i) % PAYQ_MAX].u.payment.total > c)
			c = s->payq[(s->payq_head + i) % PAYQ_MAX].u.payment.total;
	return c;
}

/*
 * total_due of sent invoice j (1..nsent_inv). Every invoice but the last
 * bills exactly K items: only a shutdown's final partial block and a
 * prepaid order's last block capped at its quantity bill fewer, and no
 * invoice follows either (PROTOCOL.md 10.2.4, 10.2.6). So j x K x price,
 * and the latest one's is kept: a session need not keep the 64 totals a
 * payment may name.
 */
static uint64_t
due_of(const struct sdpp_seller *s, uint64_t j)
{
	uint64_t items, due;

	if (j >= s->nsent_inv)
		return s->last_due;
	/* Never overflows: invoice j's total was computed without. */
	if (sdpp_money_mul(&items, j, s->k) != SDPP_OK ||
	    sdpp_money_mul(&due, items, s->price) != SDPP_OK)
		return UINT64_MAX;
	return due;
}

/*
 * A transfer on a ledger: it must add to what the buyer has paid (and to
 * what it already asked us to confirm), and it waits its turn; the host
 * checks the money itself.
 */
static enum sdpp_err
chain_payment(struct sdpp_seller *s, struct sdpp_out *out)
{
	const struct sdpp_payment *p = &s->in.u.payment;
	uint64_t claimed = claimed_total(s);

	if (p->total <= claimed)
		return seller_fail(s, out, SDPP_E_PAYMENT,
		    "payment total %llu adds nothing to the %llu already paid or claimed",
		    (unsigned long long)p->total, (unsigned long long)claimed);
	if (p->invoice + DUE_RING > s->nsent_inv && p->total < due_of(s, p->invoice))
		return seller_fail(s, out, SDPP_E_PAYMENT,
		    "payment total %llu is less than %llu due by invoice %llu",
		    (unsigned long long)p->total, (unsigned long long)due_of(s, p->invoice),
		    (unsigned long long)p->invoice);
	if (s->payq == NULL) {
		s->payq = calloc(PAYQ_MAX, sizeof(*s->payq));
		if (s->payq == NULL)
			return seller_fail(s, out, SDPP_E_INTERNAL, "out of memory");
	}
	if (s->payq_len == PAYQ_MAX)
		return seller_fail(
		    s, out, SDPP_E_PAYMENT, "more than %d payments waiting", PAYQ_MAX);
	s->payq[(s->payq_head + s->payq_len) % PAYQ_MAX] = s->in;
	s->payq_len++;
	memset(&s->in, 0, sizeof(s->in));
	if (payment_start(s, out) != SDPP_OK)
		return seller_fail(s, out, SDPP_E_INTERNAL, "out of memory");
	return SDPP_OK;
}

static enum sdpp_err
on_payment(struct sdpp_seller *s, struct sdpp_out *out)
{
	const struct sdpp_payment *p = &s->in.u.payment;
	uint64_t due;

	if (check_order_id(s, p->order_id, out) != SDPP_OK)
		return SDPP_E_ORDER_ID;
	if (p->invoice > s->nsent_inv)
		return seller_fail(s, out, SDPP_E_INVOICE, "invoice %llu was not sent",
		    (unsigned long long)p->invoice);
	if (p->invoice > s->inv_seen) {
		s->inv_seen = p->invoice;
		kept_prune(s);
	}
	if (s->chain_payments)
		return chain_payment(s, out);
	if (p->invoice + DUE_RING <= s->nsent_inv)
		return SDPP_OK; /* superseded by later invoices */
	due = due_of(s, p->invoice);
	if (p->total < due || p->total < s->paid_total)
		return seller_fail(s, out, SDPP_E_PAYMENT,
		    "payment total %llu is less than %llu due by invoice %llu",
		    (unsigned long long)p->total,
		    (unsigned long long)(due > s->paid_total ? due : s->paid_total),
		    (unsigned long long)p->invoice);
	/* Vouchers are cumulative: a newer one replaces one still waiting. */
	msg_drop(&s->pay_next);
	s->pay_next = msg_take(&s->in);
	if (s->pay_next == NULL || payment_start(s, out) != SDPP_OK)
		return seller_fail(s, out, SDPP_E_INTERNAL, "out of memory");
	return SDPP_OK;
}

/* Asks the host to record the buyer's exit. */
static enum sdpp_err
exit_request(struct sdpp_seller *s, struct sdpp_out *out)
{
	struct sdpp_event *ev;

	s->exit_deferred = 0;
	s->req_exit = s->next_req++;
	ev = sdpp_out_add_event(out, SDPP_EV_EXIT);
	if (ev == NULL)
		return seller_fail(s, out, SDPP_E_INTERNAL, "out of memory");
	ev->req = s->req_exit;
	ev->msg = s->exit_msg;
	return SDPP_OK;
}

static enum sdpp_err
on_exit_msg(struct sdpp_seller *s, struct sdpp_out *out)
{
	const struct sdpp_exit *x = &s->in.u.exit;
	const uint8_t *c;
	uint64_t owed;

	if (check_order_id(s, x->order_id, out) != SDPP_OK)
		return SDPP_E_ORDER_ID;
	if (x->seq < s->acked || x->seq > s->sent)
		return seller_fail(s, out, SDPP_E_SEQUENCE,
		    "exit claims %llu items; %llu acknowledged, %llu sent",
		    (unsigned long long)x->seq, (unsigned long long)s->acked,
		    (unsigned long long)s->sent);
	c = chain_at(s, x->seq);
	if (c == NULL || sdpp_memcmp_ct(c, x->digest, SDPP_DIGEST_BYTES) != 0)
		return seller_fail(s, out, SDPP_E_DIGEST, "exit digest does not match item %llu",
		    (unsigned long long)x->seq);
	if (sdpp_money_mul(&owed, x->seq, s->price) != SDPP_OK)
		return seller_fail(s, out, SDPP_E_OVERFLOW, "amount owed exceeds 2^64-1");
	if (x->total < owed || x->total < s->paid_total)
		return seller_fail(s, out, SDPP_E_PAYMENT, "exit total %llu is less than %llu owed",
		    (unsigned long long)x->total,
		    (unsigned long long)(owed > s->paid_total ? owed : s->paid_total));
	s->exit_msg = msg_take(&s->in);
	if (s->exit_msg == NULL)
		return seller_fail(s, out, SDPP_E_INTERNAL, "out of memory");
	s->st = SS_EXITING;
	/* A payment still being confirmed decides what the statement says:
	 * record the exit once it is (complete_payment()). */
	if (s->pay_cur != NULL || s->pay_next != NULL || s->payq_len > 0) {
		s->exit_deferred = 1;
		return SDPP_OK;
	}
	return exit_request(s, out);
}

/* A new connection's first frame resumes an order: the host knows where
 * that order lives (the signature is checked there, with its buyer key). */
static enum sdpp_err
on_resume_request(struct sdpp_seller *s, struct sdpp_out *out)
{
	struct sdpp_event *ev;

	s->st = SS_RESUME;
	ev = sdpp_out_add_event(out, SDPP_EV_RESUME);
	if (ev == NULL)
		return seller_fail(s, out, SDPP_E_INTERNAL, "out of memory");
	ev->msg = &s->in;
	return SDPP_OK;
}

/* checked: the host verified the buyer's signature on these very bytes
 * (sdpp_seller_input_checked()); 0: the session verifies it here. */
static enum sdpp_err
seller_input(struct sdpp_seller *s, const char *frame, size_t len, int checked, uint64_t now,
    struct sdpp_out *out)
{
	char err[SDPP_TEXT_MAX + 1];
	enum sdpp_err e;

	if (s->st == SS_DONE)
		return SDPP_E_INVAL;
	sdpp_msg_free(&s->in);
	memset(&s->in, 0, sizeof(s->in));
	s->last_rx = now;
	e = sdpp_msg_parse(&s->in, frame, len, SDPP_ROLE_BUYER, err, sizeof(err));
	if (e != SDPP_OK)
		return seller_fail(s, out, e, "%s", err);
	if (s->in.type == SDPP_T_ERROR) {
		/* The buyer's key is known once ordered: then the error must
		 * be its own, or anyone could end the session by forging one. */
		if (s->buyer != NULL && !checked && sdpp_msg_verify(&s->in, s->buyer) != SDPP_OK)
			return seller_fail(s, out, SDPP_E_SIGNATURE, "error: bad signature");
		s->st = SS_DONE;
		sdpp_out_add_peer_error(out, &s->in);
		return SDPP_E_REMOTE;
	}
	if (s->buyer != NULL && s->in.type != SDPP_T_ORDER && !checked &&
	    sdpp_msg_verify(&s->in, s->buyer) != SDPP_OK)
		return seller_fail(s, out, SDPP_E_SIGNATURE, "%s: signature does not verify",
		    sdpp_type_name(s->in.type));
	switch (s->st) {
	case SS_HELLO:
		if (s->in.type == SDPP_T_HELLO)
			return on_hello(s, out);
		if (s->in.type == SDPP_T_RESUME)
			return on_resume_request(s, out);
		break;
	case SS_ORDER:
		if (s->in.type == SDPP_T_ORDER)
			return on_order(s, now, out);
		break;
	case SS_STREAM:
		if (s->in.type == SDPP_T_ACK)
			return on_ack(s, now, out);
		if (s->in.type == SDPP_T_PAYMENT_ACK)
			return on_payment(s, out);
		if (s->in.type == SDPP_T_EXIT)
			return on_exit_msg(s, out);
		break;
	case SS_EXITING:
		/* A buyer that resumed sends its exit again: the same one is
		 * already being recorded. */
		if (s->in.type == SDPP_T_EXIT && s->in.u.exit.seq == s->exit_msg->u.exit.seq &&
		    s->in.u.exit.total == s->exit_msg->u.exit.total &&
		    memcmp(s->in.u.exit.digest, s->exit_msg->u.exit.digest, SDPP_DIGEST_BYTES) == 0)
			return SDPP_OK;
		break;
	default:
		break;
	}
	return seller_fail(
	    s, out, SDPP_E_UNEXPECTED, "%s not expected now", sdpp_type_name(s->in.type));
}

enum sdpp_err
sdpp_seller_input(
    struct sdpp_seller *s, const char *frame, size_t len, uint64_t now, struct sdpp_out *out)
{
	return seller_input(s, frame, len, 0, now, out);
}

enum sdpp_err
sdpp_seller_input_checked(struct sdpp_seller *s, const char *frame, size_t len, int checked,
    uint64_t now, struct sdpp_out *out)
{
	return seller_input(s, frame, len, checked && s->buyer != NULL, now, out);
}

const struct sdpp_verifier *
sdpp_seller_verifier(const struct sdpp_seller *s)
{
	return s->buyer;
}

enum sdpp_err
sdpp_seller_fail(
    struct sdpp_seller *s, enum sdpp_err why, const char *message, struct sdpp_out *out)
{
	if (s->st == SS_DONE)
		return why;
	return seller_fail(s, out, why, "%s", message != NULL ? message : sdpp_strerror(why));
}

/*
 * Shutting down with everything invoiced: a buyer that still owes gets a
 * short grace to pay the final invoice (or exit), so the seller does not
 * walk away from a voucher it could have had; then shutting_down.
 */
static enum sdpp_err
shutdown_settle(struct sdpp_seller *s, uint64_t now, struct sdpp_out *out)
{
	if (s->price == 0 || s->paid_total >= s->total_due)
		return seller_fail(s, out, SDPP_E_SHUTDOWN, "seller is shutting down");
	if (s->grace_until == 0)
		s->grace_until = now + s->cfg.shutdown_grace_ms;
	return SDPP_OK;
}

/*
 * Frees the kept invoices the buyer has shown it holds: those up to the
 * number a payment_ack or a resume of its named. Not those that payments
 * cover: a buyer that paid ahead does not pay (or name) an invoice its
 * credit covers, and may still have lost it in a drop.
 */
static void
kept_prune(struct sdpp_seller *s)
{
	struct keptinv *k;

	while (s->kept_len > 0) {
		k = &s->kept[s->kept_head];
		if (k->number > s->inv_seen)
			break;
		free(k->frame);
		memset(k, 0, sizeof(*k));
		s->kept_head = (s->kept_head + 1) % s->invq_cap;
		s->kept_len--;
	}
}

/* Sends an invoice; a resumable order keeps its frame until it is paid. */
static enum sdpp_err
invoice_emit(struct sdpp_seller *s, const struct sdpp_msg *m, struct sdpp_out *out)
{
	struct keptinv *k;
	char *frame = NULL;
	size_t len = 0;
	enum sdpp_err e;

	if (s->kept == NULL)
		return sdpp_out_add_msg(out, m, s->cfg.id);
	e = sdpp_msg_encode(m, s->cfg.id, &frame, &len);
	if (e == SDPP_OK)
		e = sdpp_out_add_bytes(out, frame, len);
	if (e != SDPP_OK) {
		free(frame);
		return e;
	}
	kept_prune(s);
	/* Full only if the buyer pays out of order: the oldest goes (a later
	 * invoice's total covers it). */
	if (s->kept_len == s->invq_cap) {
		free(s->kept[s->kept_head].frame);
		s->kept_head = (s->kept_head + 1) % s->invq_cap;
		s->kept_len--;
	}
	k = &s->kept[(s->kept_head + s->kept_len) % s->invq_cap];
	k->number = m->u.invoice.number;
	k->delivered = m->u.invoice.delivered;
	k->total_due = m->u.invoice.total_due;
	k->frame = frame;
	k->len = len;
	s->kept_len++;
	return SDPP_OK;
}

/* Sends the recorded invoices at the head of the queue, in order. */
static enum sdpp_err
invoices_send(struct sdpp_seller *s, uint64_t now, struct sdpp_out *out)
{
	struct invslot *v;
	struct sdpp_msg m;

	while (s->invq_len > 0 && s->invq[s->invq_head]->recorded) {
		v = s->invq[s->invq_head];
		memset(&m, 0, sizeof(m));
		m.type = SDPP_T_DATA_INVOICE;
		m.from = SDPP_ROLE_SELLER;
		m.u.invoice = v->inv;
		snprintf(m.verification, sizeof(m.verification), "%s", v->verification);
		if (invoice_emit(s, &m, out) != SDPP_OK)
			return seller_fail(s, out, SDPP_E_INTERNAL, "cannot build invoice");
		s->nsent_inv = v->inv.number;
		s->last_due = v->inv.total_due;
		free(v->verification);
		free(v);
		s->invq[s->invq_head] = NULL;
		s->invq_head = (s->invq_head + 1) % s->invq_cap;
		s->invq_len--;
		s->inv_sent_at = now;
	}
	if (s->closing && s->st == SS_STREAM && s->invq_len == 0)
		return shutdown_settle(s, now, out);
	if (queue_flush(s, now, out) != SDPP_OK || pause_check(s, now, out) != SDPP_OK)
		return seller_fail(s, out, SDPP_E_INTERNAL, "cannot send item");
	return SDPP_OK;
}

/* Request req recorded an invoice (or failed to); NULL if req is not one. */
static struct invslot *
invoice_by_req(struct sdpp_seller *s, uint64_t req)
{
	size_t i;

	for (i = 0; i < s->invq_len; i++)
		if (s->invq[(s->invq_head + i) % s->invq_cap]->req == req)
			return s->invq[(s->invq_head + i) % s->invq_cap];
	return NULL;
}

static enum sdpp_err
complete_invoice(struct sdpp_seller *s, struct invslot *v, int ok, const char *verification,
    uint64_t now, struct sdpp_out *out)
{
	if (!ok)
		return seller_fail(s, out, SDPP_E_INTERNAL, "invoice %llu could not be recorded",
		    (unsigned long long)v->inv.number);
	v->verification = strdup(verification);
	if (v->verification == NULL)
		return seller_fail(s, out, SDPP_E_INTERNAL, "out of memory");
	v->recorded = 1;
	return invoices_send(s, now, out);
}

static enum sdpp_err
complete_payment(struct sdpp_seller *s, int ok, uint64_t now, struct sdpp_out *out)
{
	uint64_t total = s->pay_cur->u.payment.total;

	if (!ok)
		return seller_fail(s, out, SDPP_E_PAYMENT_REJECTED,
		    "payment for invoice %llu was not confirmed",
		    (unsigned long long)s->pay_cur->u.payment.invoice);
	if (total > s->paid_total)
		s->paid_total = total;
	kept_prune(s);
	msg_drop(&s->pay_cur);
	s->req_payment = 0;
	if (s->exit_deferred) {
		if (payment_start(s, out) != SDPP_OK)
			return seller_fail(s, out, SDPP_E_INTERNAL, "cannot confirm payment");
		return s->pay_cur != NULL ? SDPP_OK : exit_request(s, out);
	}
	if (payment_start(s, out) != SDPP_OK || pause_check(s, now, out) != SDPP_OK ||
	    queue_flush(s, now, out) != SDPP_OK || invoice_build(s, out) != SDPP_OK ||
	    pause_check(s, now, out) != SDPP_OK)
		return seller_fail(s, out, SDPP_E_INTERNAL, "cannot resume");
	if (s->closing && s->st == SS_STREAM && s->invq_len == 0 && s->pay_cur == NULL)
		return shutdown_settle(s, now, out);
	return SDPP_OK;
}

static enum sdpp_err
complete_exit(struct sdpp_seller *s, int ok, const char *verification, struct sdpp_out *out)
{
	const struct sdpp_exit *x = &s->exit_msg->u.exit;
	struct sdpp_msg m;
	uint64_t invoiced;

	if (!ok)
		return seller_fail(s, out, SDPP_E_INTERNAL, "exit could not be recorded");
	/* An sdpp/2 statement carries the log's signed tree head: the host
	 * sets it first (sdpp_seller_set_tree_head()); completing without one
	 * is the host's bug, and the session waits for a proper completion. */
	if (s->version == 2 && !s->have_tree_head)
		return SDPP_E_INVAL;
	invoiced = s->total_due;
	/* A voucher exit pays the rest; with a ledger method it is the
	 * buyer's signed promise for the items after the last invoice. */
	if (!s->chain_payments && x->total > s->paid_total)
		s->paid_total = x->total;
	if (x->seq > s->acked) {
		/* The chain too: a resume (while the statement waits) names it. */
		const uint8_t *c = chain_at(s, x->seq);

		if (c != NULL)
			memmove(s->acked_chain, c, SDPP_DIGEST_BYTES);
		s->acked = x->seq;
	}
	/* The exit settles the items after the last invoice: count them as
	 * due, so progress (and the close record) shows the whole bill. */
	if (x->seq * s->price > s->total_due)
		s->total_due = x->seq * s->price;
	memset(&m, 0, sizeof(m));
	m.type = SDPP_T_EXIT;
	m.from = SDPP_ROLE_SELLER;
	memcpy(m.u.statement.order_id, s->order_id, sizeof(s->order_id));
	m.u.statement.delivered = s->sent;
	m.u.statement.acked = s->acked;
	m.u.statement.total_due = x->seq * s->price; /* checked in on_exit_msg() */
	m.u.statement.total_paid = s->paid_total;
	m.u.statement.settled =
	    s->paid_total >= (s->chain_payments ? invoiced : m.u.statement.total_due);
	m.u.statement.version = s->version == 2 ? 2 : 1;
	if (s->version == 2)
		m.u.statement.tree_head = s->tree_head;
	snprintf(m.verification, sizeof(m.verification), "%s", verification);
	if (s->detached) {
		/* Written now it would be lost with the connection, and the
		 * buyer that resumes for it would find the order gone: keep it
		 * for the resume (or close at the resume timeout). */
		s->req_exit = 0;
		if (s->closing) {
			seller_close_ok(s, out); /* shutting down: no resume */
			return SDPP_OK;
		}
		if (sdpp_msg_encode(&m, s->cfg.id, &s->statement, &s->statement_len) != SDPP_OK)
			return seller_fail(s, out, SDPP_E_INTERNAL, "cannot build statement");
		return SDPP_OK;
	}
	if (sdpp_out_add_msg(out, &m, s->cfg.id) != SDPP_OK)
		return seller_fail(s, out, SDPP_E_INTERNAL, "cannot build statement");
	seller_close_ok(s, out);
	return SDPP_OK;
}

enum sdpp_err
sdpp_seller_set_tree_head(struct sdpp_seller *s, const struct sdpp_tree_head *th)
{
	uint8_t key[SDPP_SIGN_PUBLIC_BYTES];

	if (th == NULL || th->size == 0)
		return SDPP_E_INVAL;
	/* The buyer checks it with the seller key: a head the log key did not
	 * sign (another ledger, a stale copy) is the host's mistake, caught
	 * here rather than as the buyer's bad_signature. */
	sdpp_identity_sign_public(s->cfg.id, key);
	if (sdpp_tree_head_verify(th, key) != SDPP_OK)
		return SDPP_E_INVAL;
	s->tree_head = *th;
	s->have_tree_head = 1;
	return SDPP_OK;
}

enum sdpp_err
sdpp_seller_complete(struct sdpp_seller *s, uint64_t req, int ok, const char *verification,
    uint64_t now, struct sdpp_out *out)
{
	if (s->st == SS_DONE || req == 0)
		return SDPP_OK; /* the session ended while the host worked */
	if (verification == NULL)
		verification = "";
	if (strlen(verification) > SDPP_VERIFICATION_MAX)
		return SDPP_E_INVAL;
	if (req == s->req_order && s->st == SS_RECORD_ORDER) {
		s->req_order = 0;
		if (!ok)
			return seller_fail(s, out, SDPP_E_INTERNAL, "order could not be recorded");
		if (s->closing)
			return seller_fail(s, out, SDPP_E_SHUTDOWN, "seller is shutting down");
		return start_stream(s, verification, now, out);
	}
	if (s->invq != NULL) {
		struct invslot *v = invoice_by_req(s, req);

		if (v != NULL && !v->recorded)
			return complete_invoice(s, v, ok, verification, now, out);
	}
	if (req == s->req_payment && s->pay_cur != NULL)
		return complete_payment(s, ok, now, out);
	if (req == s->req_exit && s->st == SS_EXITING)
		return complete_exit(s, ok, verification, out);
	return SDPP_E_INVAL;
}

static uint64_t
min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/*
 * The payment timeout runs from the later of the pause and the last invoice
 * sent: a slow ledger delays the invoice, and the buyer cannot pay what it
 * has not seen (a slow records medium must never cost a buyer).
 */
static uint64_t
pay_clock(const struct sdpp_seller *s)
{
	return s->inv_sent_at > s->paused_since ? s->inv_sent_at : s->paused_since;
}

uint64_t
sdpp_seller_deadline(const struct sdpp_seller *s)
{
	uint64_t d = UINT64_MAX;

	if (s->detached && s->st != SS_DONE)
		d = s->detached_since + s->cfg.resume_timeout_ms;
	switch (s->st) {
	case SS_HELLO:
	case SS_ORDER:
	case SS_RESUME:
		d = s->created + s->cfg.handshake_timeout_ms;
		break;
	case SS_STREAM:
		/* Nobody to resend to while detached. */
		if (s->sent > s->acked && !s->detached)
			d = min_u64(d, s->ack_wait_since + s->cfg.ack_timeout_ms);
		/* A payment under confirmation is the backend's to time out. */
		if (s->paused && s->invq_len == 0 && s->pay_cur == NULL)
			d = min_u64(d, pay_clock(s) + s->cfg.payment_timeout_ms);
		/* The grace bounds when a payment may arrive, not its
		 * confirmation: a transfer already on chain must be credited. */
		if (s->grace_until != 0 && s->pay_cur == NULL)
			d = min_u64(d, s->grace_until);
		if (order_full(s) && s->acked == s->sent)
			d = min_u64(d, s->complete_since + s->cfg.idle_timeout_ms);
		break;
	default:
		break;
	}
	return d;
}

enum sdpp_err
sdpp_seller_tick(struct sdpp_seller *s, uint64_t now, struct sdpp_out *out)
{
	uint64_t seq;
	enum sdpp_err e;

	if (s->detached && s->st != SS_DONE &&
	    now >= s->detached_since + s->cfg.resume_timeout_ms) {
		/* The buyer's exit ended the order; only its statement is
		 * undelivered. */
		if (s->statement != NULL) {
			seller_close_ok(s, out);
			return SDPP_OK;
		}
		return seller_fail(s, out, SDPP_E_RESUME_TIMEOUT,
		    "order not resumed within %llu ms",
		    (unsigned long long)s->cfg.resume_timeout_ms);
	}
	switch (s->st) {
	case SS_HELLO:
	case SS_ORDER:
	case SS_RESUME:
		if (now >= s->created + s->cfg.handshake_timeout_ms)
			return seller_fail(s, out, SDPP_E_HANDSHAKE_TIMEOUT,
			    "no order within %llu ms",
			    (unsigned long long)s->cfg.handshake_timeout_ms);
		break;
	case SS_STREAM:
		if (s->grace_until != 0 && now >= s->grace_until && s->pay_cur == NULL)
			return seller_fail(s, out, SDPP_E_SHUTDOWN, "seller is shutting down");
		if (s->paused && s->invq_len == 0 && s->pay_cur == NULL &&
		    now >= pay_clock(s) + s->cfg.payment_timeout_ms)
			return seller_fail(s, out, SDPP_E_PAYMENT_TIMEOUT,
			    "invoice %llu not paid within %llu ms",
			    (unsigned long long)s->nsent_inv,
			    (unsigned long long)s->cfg.payment_timeout_ms);
		if (order_full(s) && s->acked == s->sent &&
		    now >= s->complete_since + s->cfg.idle_timeout_ms)
			return seller_fail(s, out, SDPP_E_IDLE_TIMEOUT,
			    "order complete, no exit within %llu ms",
			    (unsigned long long)s->cfg.idle_timeout_ms);
		if (s->sent > s->acked && !s->detached &&
		    now >= s->ack_wait_since + s->cfg.ack_timeout_ms) {
			if (s->resends >= s->cfg.max_resends)
				return seller_fail(s, out, SDPP_E_ACK_TIMEOUT,
				    "items %llu..%llu not acknowledged after %u resends",
				    (unsigned long long)s->acked + 1, (unsigned long long)s->sent,
				    s->resends);
			/* Resending is also how the seller asks for an ACK of a
			 * partial ack_every block: the buyer re-ACKs duplicates. */
			for (seq = s->acked + 1; seq <= s->sent; seq++) {
				e = slot_resend(s, &s->ring[seq % s->window], out);
				if (e != SDPP_OK)
					return seller_fail(
					    s, out, SDPP_E_INTERNAL, "resend failed");
				s->resent_items++;
			}
			s->resends++;
			s->ack_wait_since = now;
		}
		break;
	default:
		break;
	}
	return SDPP_OK;
}

enum sdpp_err
sdpp_seller_shutdown(struct sdpp_seller *s, uint64_t now, struct sdpp_out *out)
{
	enum sdpp_err e;

	if (s->st == SS_DONE)
		return SDPP_OK;
	s->closing = 1;
	if (s->statement != NULL) {
		seller_close_ok(s, out); /* ended by the exit; no resume now */
		return SDPP_OK;
	}
	if (s->st == SS_RECORD_ORDER || s->st == SS_EXITING)
		return SDPP_OK; /* finish when the pending record completes */
	if (s->st != SS_STREAM)
		return seller_fail(s, out, SDPP_E_SHUTDOWN, "seller is shutting down");
	e = invoice_build(s, out);
	if (e != SDPP_OK)
		return seller_fail(s, out, SDPP_E_INTERNAL, "%s", sdpp_strerror(e));
	if (s->invq_len == 0)
		return shutdown_settle(s, now, out);
	return SDPP_OK;
}

/* ---------------------------------------------------------------- resume */

int
sdpp_seller_resumable(const struct sdpp_seller *s)
{
	return s->version == 2 && s->cfg.resume_timeout_ms != 0 && !s->closing &&
	       (s->st == SS_STREAM || s->st == SS_EXITING);
}

void
sdpp_seller_detach(struct sdpp_seller *s, uint64_t now)
{
	if (!sdpp_seller_resumable(s) || s->detached)
		return;
	s->detached = 1;
	s->detached_since = now;
}

int
sdpp_seller_detached(const struct sdpp_seller *s)
{
	return s->detached;
}

static enum sdpp_err resume_refuse(enum sdpp_err e, char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static enum sdpp_err
resume_refuse(enum sdpp_err e, char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (why != NULL && whylen > 0)
		vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	return e;
}

/*
 * Sends again, after `resumed`, what the buyer may not have: items after
 * its receipt and the invoices after its last one, each invoice where it
 * first went (after the item it covers up to: its `delivered`), so the
 * buyer checks them exactly as the first time.
 */
static enum sdpp_err
resume_resend(struct sdpp_seller *s, const struct sdpp_resume *r, struct sdpp_out *out)
{
	size_t k = 0;
	uint64_t p;
	enum sdpp_err e;

	for (p = r->seq;; p++) {
		for (; k < s->kept_len; k++) {
			const struct keptinv *v = &s->kept[(s->kept_head + k) % s->invq_cap];

			if (v->delivered > p)
				break;
			if (v->number <= r->invoice)
				continue;
			e = sdpp_out_add_bytes(out, v->frame, v->len);
			if (e != SDPP_OK)
				return e;
		}
		if (p >= s->sent)
			break;
		{
			const struct inflight *slot = &s->ring[(p + 1) % s->window];

			if (slot->seq != p + 1)
				return SDPP_E_INTERNAL;
			e = slot_resend(s, slot, out);
			if (e != SDPP_OK)
				return e;
			s->resent_items++;
		}
	}
	return SDPP_OK;
}

enum sdpp_err
sdpp_seller_resume(struct sdpp_seller *s, const struct sdpp_msg *msg, uint64_t now,
    struct sdpp_out *out, char *why, size_t whylen)
{
	const struct sdpp_resume *r = &msg->u.resume;
	char hex[SDPP_HEX_LEN(SDPP_ORDER_ID_BYTES)];
	const uint8_t *c;
	struct sdpp_event *ev;
	struct sdpp_msg m;
	enum sdpp_err e;

	if (why != NULL && whylen > 0)
		why[0] = '\0';
	if (msg->type != SDPP_T_RESUME || s->buyer == NULL ||
	    memcmp(r->order_id, s->order_id, SDPP_ORDER_ID_BYTES) != 0)
		return SDPP_E_INVAL;
	if (s->closing)
		return resume_refuse(SDPP_E_SHUTDOWN, why, whylen, "seller is shutting down");
	if (!sdpp_seller_resumable(s)) {
		sdpp_hex_encode(hex, s->order_id, sizeof(s->order_id));
		return resume_refuse(
		    SDPP_E_UNKNOWN_ORDER, why, whylen, "order %.16s... cannot be resumed", hex);
	}
	/* Only the order's buyer may move it: anyone can name an order id. */
	if (sdpp_msg_verify(msg, s->buyer) != SDPP_OK)
		return resume_refuse(SDPP_E_SIGNATURE, why, whylen,
		    "resume: signature by the order's buyer does not verify");
	if (r->attempt <= s->last_attempt)
		return resume_refuse(SDPP_E_STALE_RESUME, why, whylen,
		    "resume attempt %llu is not above %llu, already accepted",
		    (unsigned long long)r->attempt, (unsigned long long)s->last_attempt);
	if (r->seq > s->sent)
		return resume_refuse(SDPP_E_SEQUENCE, why, whylen,
		    "resume claims %llu items, only %llu sent", (unsigned long long)r->seq,
		    (unsigned long long)s->sent);
	if (r->seq < s->acked)
		return resume_refuse(SDPP_E_STALE_RESUME, why, whylen,
		    "resume names item %llu, %llu already acknowledged", (unsigned long long)r->seq,
		    (unsigned long long)s->acked);
	c = chain_at(s, r->seq);
	if (c == NULL || sdpp_memcmp_ct(c, r->digest, SDPP_DIGEST_BYTES) != 0)
		return resume_refuse(SDPP_E_DIGEST, why, whylen,
		    "resume digest does not match item %llu", (unsigned long long)r->seq);
	if (r->invoice > s->nsent_inv)
		return resume_refuse(SDPP_E_INVOICE, why, whylen,
		    "resume names invoice %llu, %llu sent", (unsigned long long)r->invoice,
		    (unsigned long long)s->nsent_inv);

	/* Accepted: what the buyer lacks goes out first, so that a failure
	 * (out of memory) still leaves the order as it was. */
	memset(&m, 0, sizeof(m));
	m.type = SDPP_T_RESUMED;
	m.from = SDPP_ROLE_SELLER;
	memcpy(m.u.resumed.order_id, s->order_id, sizeof(s->order_id));
	m.u.resumed.seq = r->seq;
	m.u.resumed.sent = s->sent;
	m.u.resumed.invoice = s->nsent_inv;
	m.u.resumed.paid = claimed_total(s);
	m.u.resumed.dropped = s->dropped_away;
	e = sdpp_out_add_msg(out, &m, s->cfg.id);
	/* With the exit recorded, only its statement is left to say. */
	if (e == SDPP_OK && s->statement == NULL)
		e = resume_resend(s, r, out);
	if (e == SDPP_OK && s->statement != NULL)
		e = sdpp_out_add_bytes(out, s->statement, s->statement_len);
	if (e != SDPP_OK)
		return resume_refuse(
		    SDPP_E_INTERNAL, why, whylen, "cannot resend: %s", sdpp_strerror(e));
	ev = sdpp_out_add_event(out, SDPP_EV_REJOINED);
	if (ev != NULL)
		ev->msg = msg;
	/* The resume is the buyer's receipt for 1..seq (the resend above
	 * starts after seq, so the frames freed here are not needed). */
	s->last_attempt = r->attempt;
	if (r->seq > s->acked)
		ack_advance(s, r->seq, c, now);
	if (r->invoice > s->inv_seen) {
		s->inv_seen = r->invoice;
		kept_prune(s);
	}
	if (s->statement != NULL) {
		s->detached = 0;
		seller_close_ok(s, out);
		return SDPP_OK;
	}
	s->detached = 0;
	s->dropped_away = 0;
	s->resends = 0;
	s->ack_wait_since = now; /* what was resent gets a full ACK timer */
	if (queue_flush(s, now, out) != SDPP_OK || pause_check(s, now, out) != SDPP_OK)
		return seller_fail(s, out, SDPP_E_INTERNAL, "cannot send item");
	return SDPP_OK;
}
