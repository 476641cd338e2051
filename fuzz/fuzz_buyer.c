/* libFuzzer target: the buyer state machine, against a harness playing the seller, with resumes. */
#include "fuzz/fuzz.h"
#include "sdpp/crypto.h"
#include "sdpp/framer.h"
#include "sdpp/msg.h"
#include "sdpp/session.h"

#define MAX_OPS 1000
#define MAX_ITEMS 4096 /* receipt chains the harness keeps, by seq */
#define RESEND_RING 16 /* data frames kept for resending */
#define OUT_MAX (1u << 20)
#define NPRODUCTS 4
#define INT_MAX53 9007199254740991ULL

/* Generated once: the seller (played by the harness), the buyer, and a stranger. */
static struct sdpp_identity *sid, *bid, *other;
static struct sdpp_verifier *bver;
static uint8_t spub[SDPP_SIGN_PUBLIC_BYTES], benc[SDPP_ENC_PUBLIC_BYTES];
static uint8_t oenc[SDPP_ENC_PUBLIC_BYTES];
/* SDPP_FUZZ_TRACE=1 prints each step, to read a reproducer. */
static int trace;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	uint8_t bpub[SDPP_SIGN_PUBLIC_BYTES];

	(void)argc;
	(void)argv;
	CHECK(sdpp_identity_generate(&sid) == SDPP_OK);
	CHECK(sdpp_identity_generate(&bid) == SDPP_OK);
	CHECK(sdpp_identity_generate(&other) == SDPP_OK);
	sdpp_identity_sign_public(sid, spub);
	sdpp_identity_sign_public(bid, bpub);
	sdpp_identity_enc_public(bid, benc);
	sdpp_identity_enc_public(other, oenc);
	CHECK(sdpp_verifier_new(&bver, bpub) == SDPP_OK);
	trace = getenv("SDPP_FUZZ_TRACE") != NULL;
	return 0;
}

/* ---- The harness: the buyer, and the seller's side of the conversation. */

struct sent_frame {
	uint64_t seq;
	char *frame;
	size_t len;
};

struct h {
	struct sdpp_buyer *b;
	struct sdpp_buyer_config cfg;
	struct sdpp_out out;
	uint64_t now;

	/* Observed. */
	int closed, done;
	int hellos, menus, orders, started_events, statements;
	struct sdpp_progress prev;
	uint64_t last_req, pay_req;
	uint64_t pay_invoice, pay_total; /* the invoice SDPP_EV_PAY asked us to pay */
	uint64_t acked_out;              /* highest ACK the buyer sent */
	uint64_t voucher;                /* highest total the buyer authorised */

	/* The order, from the buyer's own frame and menu. */
	int ordered;
	uint8_t order_id[SDPP_ORDER_ID_BYTES];
	uint64_t price, quantity, k, budget;
	int prepay, sign_items;
	char currency[SDPP_CURRENCY_MAX + 1];

	/* The seller side of the stream. */
	int keyed; /* a valid session key was sent */
	struct sdpp_aead *aead, *wrong;
	uint8_t prefix[SDPP_NONCE_PREFIX_BYTES];
	uint8_t (*chain)[SDPP_DIGEST_BYTES]; /* chain[seq] of items the buyer accepted */
	struct sent_frame ring[RESEND_RING];
	uint64_t ninv; /* invoices the buyer accepted */

	/* The item just sent, to compare with SDPP_EV_ITEM. */
	int expect_item;
	struct sdpp_item want;
	uint8_t want_payload[512];

	/* The topic the last sdpp_buyer_order_topic() asked for ("" none). */
	char want_topic[SDPP_TOPIC_MAX + 1];

	/* Resume (sdpp/2). */
	int resuming;          /* a resume sent, `resumed` not yet taken */
	int rejoining;         /* in the call that gives the buyer `resumed` */
	uint64_t attempt;      /* of the last resume sent */
	uint64_t resumed_paid; /* the `resumed` being given: its paid */
	uint64_t resent_total; /* the last payment sent again after it */
	uint64_t made[16];     /* totals of payments completed, a ring */
	size_t nmade;
	char *exit_frame; /* the buyer's exit as first sent */
	size_t exit_len;
};

static int
made_payment(const struct h *h, uint64_t total)
{
	size_t i;

	for (i = 0; i < h->nmade && i < 16; i++)
		if (h->made[i] == total)
			return 1;
	return 0;
}

static int
code_known(const char *code)
{
	return sdpp_err_from_code(code) != SDPP_E_INTERNAL || strcmp(code, "internal") == 0;
}

/* Every frame is a buyer message the seller would parse, signed by the buyer. */
static void
check_frames(struct h *h, int *errors)
{
	const char *p, *end, *nl;
	struct sdpp_msg m;
	char err[SDPP_TEXT_MAX + 1];
	uint8_t id[SDPP_ORDER_ID_BYTES];
	struct sdpp_progress pr;
	uint64_t owed;
	enum sdpp_err e;

	if (h->out.len == 0)
		return; /* buf may still be NULL */
	sdpp_buyer_progress(h->b, &pr);
	p = h->out.buf;
	end = p + h->out.len;
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		CHECK(nl != NULL);
		CHECK((size_t)(nl - p) <= SDPP_FRAME_CAP_HANDSHAKE);
		e = sdpp_msg_parse(&m, p, (size_t)(nl - p), SDPP_ROLE_BUYER, err, sizeof(err));
		if (e != SDPP_OK)
			fprintf(stderr, "buyer frame does not parse: %s\n%.*s\n", err,
			    (int)(nl - p), p);
		CHECK(e == SDPP_OK);
		if (m.type == SDPP_T_HELLO) {
			CHECK(h->hellos++ == 0);
			/* The version the config chose (0: sdpp/2). */
			CHECK(strcmp(m.u.hello.version,
			          h->cfg.version == 1 ? SDPP_VERSION : SDPP_VERSION_2) == 0);
		} else {
			CHECK(m.signed_);
			CHECK(sdpp_msg_verify(&m, bver) == SDPP_OK);
		}
		switch (m.type) {
		case SDPP_T_HELLO:
			break;
		case SDPP_T_ORDER:
			CHECK(h->orders++ == 0);
			/* In the session's member set, with the topic asked for. */
			CHECK(m.u.order.version == sdpp_buyer_version(h->b));
			CHECK(strcmp(m.u.order.topic != NULL ? m.u.order.topic : "",
			          h->want_topic) == 0);
			CHECK(sdpp_order_id(&m, id) == SDPP_OK);
			CHECK(sdpp_buyer_order_id(h->b) != NULL);
			CHECK(memcmp(sdpp_buyer_order_id(h->b), id, sizeof(id)) == 0);
			CHECK(memcmp(m.u.order.enc_key, benc, sizeof(benc)) == 0);
			memcpy(h->order_id, id, sizeof(id));
			h->ordered = 1;
			h->price = m.u.order.price;
			h->quantity = m.u.order.quantity;
			snprintf(h->currency, sizeof(h->currency), "%s", m.u.order.currency);
			break;
		case SDPP_T_ACK:
			/* Cumulative receipts over exactly what was delivered. */
			CHECK(h->ordered && memcmp(m.u.ack.order_id, h->order_id, sizeof(id)) == 0);
			CHECK(m.u.ack.seq == pr.sent && m.u.ack.seq >= h->acked_out);
			CHECK(m.u.ack.seq < MAX_ITEMS);
			CHECK(
			    memcmp(m.u.ack.digest, h->chain[m.u.ack.seq], SDPP_DIGEST_BYTES) == 0);
			h->acked_out = m.u.ack.seq;
			break;
		case SDPP_T_PAYMENT_ACK:
			CHECK(!h->resuming || h->rejoining);
			CHECK(memcmp(m.u.payment.order_id, h->order_id, sizeof(id)) == 0);
			if (h->rejoining) {
				/* Sent again: one it made, above what the seller
				 * holds, in order. */
				CHECK(m.u.payment.total > h->resumed_paid);
				CHECK(m.u.payment.total > h->resent_total);
				CHECK(made_payment(h, m.u.payment.total));
				h->resent_total = m.u.payment.total;
				break;
			}
			/* Pays exactly the invoice it was asked to, within budget. */
			CHECK(m.u.payment.invoice == h->pay_invoice);
			CHECK(m.u.payment.total == h->pay_total);
			CHECK(m.u.payment.total >= h->voucher);
			CHECK(h->budget == 0 || m.u.payment.total <= h->budget);
			h->voucher = m.u.payment.total;
			break;
		case SDPP_T_EXIT:
			CHECK(!h->resuming || h->rejoining);
			if (h->exit_frame != NULL) {
				/* Only after `resumed`, the same exit again. */
				CHECK(h->rejoining && h->exit_len == (size_t)(nl - p) + 1);
				CHECK(memcmp(h->exit_frame, p, h->exit_len) == 0);
			} else {
				h->exit_frame = malloc((size_t)(nl - p) + 1);
				CHECK(h->exit_frame != NULL);
				memcpy(h->exit_frame, p, (size_t)(nl - p) + 1);
				h->exit_len = (size_t)(nl - p) + 1;
			}
			CHECK(
			    h->ordered && memcmp(m.u.exit.order_id, h->order_id, sizeof(id)) == 0);
			CHECK(m.u.exit.seq == pr.sent);
			CHECK(m.u.exit.seq < MAX_ITEMS);
			CHECK(memcmp(m.u.exit.digest, h->chain[m.u.exit.seq], SDPP_DIGEST_BYTES) ==
			      0);
			CHECK(!__builtin_mul_overflow(m.u.exit.seq, h->price, &owed));
			CHECK(m.u.exit.total >= owed && m.u.exit.total >= h->voucher);
			h->voucher = m.u.exit.total;
			break;
		case SDPP_T_RESUME:
			/* A receipt for all it holds, the next attempt. */
			CHECK(!h->resuming || h->attempt > 0);
			CHECK(memcmp(m.u.resume.order_id, h->order_id, sizeof(id)) == 0);
			CHECK(m.u.resume.seq == pr.sent && m.u.resume.seq < MAX_ITEMS);
			CHECK(memcmp(m.u.resume.digest, h->chain[m.u.resume.seq],
			          SDPP_DIGEST_BYTES) == 0);
			CHECK(m.u.resume.invoice == h->ninv);
			CHECK(m.u.resume.attempt == h->attempt + 1);
			h->attempt = m.u.resume.attempt;
			h->acked_out = m.u.resume.seq;
			h->resuming = 1;
			break;
		case SDPP_T_ERROR:
			CHECK(code_known(m.u.error.code));
			(*errors)++;
			break;
		default:
			CHECK(!"unexpected message type from the buyer");
		}
		sdpp_msg_free(&m);
		p = nl + 1;
	}
}

static void
check_events(struct h *h, int *closes)
{
	const struct sdpp_event *ev;
	const struct sdpp_menu *mu;
	struct sdpp_progress p;
	size_t i;

	sdpp_buyer_progress(h->b, &p);
	for (i = 0; i < h->out.nev; i++) {
		ev = &h->out.ev[i];
		switch (ev->type) {
		case SDPP_EV_MENU:
			CHECK(h->menus++ == 0);
			CHECK(ev->msg != NULL && ev->msg->type == SDPP_T_MENU);
			mu = sdpp_buyer_menu(h->b);
			CHECK(mu == &ev->msg->u.menu);
			CHECK(memcmp(mu->seller, spub, sizeof(spub)) == 0);
			break;
		case SDPP_EV_STARTED:
			CHECK(h->started_events++ == 0);
			break;
		case SDPP_EV_ITEM:
			CHECK(ev->item != NULL && ev->item->seq == p.sent);
			if (h->expect_item) {
				CHECK(ev->item->seq == h->want.seq);
				CHECK(strcmp(ev->item->topic, h->want.topic) == 0);
				CHECK(ev->item->received_at == h->want.received_at);
				CHECK(ev->item->payload_len == h->want.payload_len);
				CHECK(ev->item->payload_len == 0 ||
				      memcmp(ev->item->payload, h->want_payload,
				          ev->item->payload_len) == 0);
			}
			break;
		case SDPP_EV_PAY:
			CHECK(ev->req > h->last_req && h->pay_req == 0);
			CHECK(ev->invoice != NULL);
			CHECK(ev->invoice->number <= h->ninv + 1);
			CHECK(ev->invoice->total_due > h->voucher);
			h->last_req = h->pay_req = ev->req;
			h->pay_invoice = ev->invoice->number;
			h->pay_total = ev->invoice->total_due;
			break;
		case SDPP_EV_STATEMENT:
			CHECK(ev->msg != NULL && ev->msg->type == SDPP_T_EXIT);
			/* Only the session's member set, with a head the seller signed. */
			CHECK(ev->msg->u.statement.version == sdpp_buyer_version(h->b));
			CHECK(ev->msg->u.statement.version != 2 ||
			      sdpp_tree_head_verify(&ev->msg->u.statement.tree_head, spub) ==
			          SDPP_OK);
			h->statements++;
			break;
		case SDPP_EV_REJOINED:
			CHECK(h->rejoining && h->resuming);
			CHECK(ev->msg != NULL && ev->msg->type == SDPP_T_RESUMED);
			CHECK(ev->msg->u.resumed.seq == p.sent);
			h->resuming = 0;
			break;
		case SDPP_EV_PEER_ERROR:
			CHECK(ev->msg != NULL && ev->msg->type == SDPP_T_ERROR);
			break;
		case SDPP_EV_CLOSE:
			(*closes)++;
			break;
		default:
			CHECK(!"seller event from the buyer");
		}
	}
}

static void
check_progress(struct h *h)
{
	struct sdpp_progress p;

	sdpp_buyer_progress(h->b, &p);
	CHECK(p.sent >= h->prev.sent && p.acked >= h->prev.acked);
	CHECK(p.invoiced >= h->prev.invoiced && p.total_due >= h->prev.total_due);
	CHECK(p.total_paid >= h->prev.total_paid && p.duplicates >= h->prev.duplicates);
	CHECK(p.acked <= p.sent);
	CHECK(p.sent <= h->prev.sent + 1); /* one frame, at most one item */
	CHECK(p.acked == h->acked_out);
	/* Resuming, a payment or the exit waits for `resumed` unsent, but
	 * counts (its frame is checked when it goes). */
	if (h->resuming && !h->done && p.total_paid > h->voucher)
		h->voucher = p.total_paid;
	CHECK(p.total_paid == h->voucher);
	if (h->ordered) {
		CHECK(p.price == h->price && p.quantity == h->quantity);
		CHECK(h->quantity == 0 || p.sent <= h->quantity);
		CHECK(h->quantity == 0 || p.invoiced <= h->quantity);
		if (!h->prepay)
			CHECK(p.invoiced <= p.sent);
		CHECK(h->budget == 0 || p.total_due <= h->budget);
	} else {
		CHECK(p.sent == 0 && p.invoiced == 0 && p.total_paid == 0);
	}
	if (p.invoiced > h->prev.invoiced)
		h->ninv++;
	h->prev = p;
}

static void
after(struct h *h, enum sdpp_err ret, int was_done)
{
	int closes = 0, errors = 0;
	size_t i;

	if (trace) {
		fprintf(stderr, "  -> %s, %zu events:", sdpp_strerror(ret), h->out.nev);
		for (i = 0; i < h->out.nev; i++)
			fprintf(stderr, " %d", h->out.ev[i].type);
		fprintf(stderr, "\n%.*s", (int)h->out.len, h->out.buf);
	}
	if (was_done)
		CHECK(h->out.len == 0 && h->out.nev == 0);
	check_frames(h, &errors);
	check_events(h, &closes);
	h->done = sdpp_buyer_done(h->b);
	CHECK(closes <= 1);
	if (closes) {
		CHECK(!h->closed);
		h->closed = 1;
		CHECK(h->done);
	}
	CHECK(h->done == h->closed);
	CHECK(errors <= 1 && (errors == 0 || closes == 1));
	if (h->done)
		CHECK(sdpp_buyer_deadline(h->b) == UINT64_MAX);
	if (ret != SDPP_OK && ret != SDPP_E_INVAL)
		CHECK(h->done);
	check_progress(h);
	h->expect_item = 0;
	sdpp_out_clear(&h->out);
}

/* ---- Seller messages. */

static void
feed(struct h *h, const char *frame, size_t len)
{
	int was = h->done;
	enum sdpp_err e = sdpp_buyer_input(h->b, frame, len, h->now, &h->out);

	if (was)
		CHECK(e == SDPP_E_INVAL);
	after(h, e, was);
}

static const struct sdpp_identity *
pick_signer(uint8_t flags)
{
	switch (flags & 0x30) {
	case 0x10:
		return other;
	case 0x20:
		return (flags & 0x40) ? NULL : sid;
	default:
		return sid;
	}
}

/* Encodes m as the seller; the frame (without '\n') is returned for resends. */
static char *
encode(struct sdpp_msg *m, const struct sdpp_identity *id, size_t *len)
{
	char *f = NULL;

	m->from = SDPP_ROLE_SELLER;
	if (sdpp_msg_encode(m, id, &f, len) != SDPP_OK)
		return NULL; /* a field beyond what JSON carries */
	(*len)--;
	return f;
}

static void
send_msg(struct h *h, struct sdpp_msg *m, const struct sdpp_identity *id)
{
	size_t len = 0;
	char *f = encode(m, id, &len);

	if (f != NULL)
		feed(h, f, len);
	free(f);
}

static void
put_order_id(struct h *h, uint8_t *dst, uint8_t flags)
{
	memcpy(dst, h->order_id, SDPP_ORDER_ID_BYTES);
	if (flags & 0x80)
		dst[flags & 31] ^= 1;
}

static void
op_menu(struct h *h, struct fuzz_in *in)
{
	uint8_t f = fuzz_in_u8(in), g = fuzz_in_u8(in), pr = fuzz_in_u8(in);
	struct sdpp_product prod[NPRODUCTS];
	struct sdpp_msg m;
	size_t i;
	int v2;

	memset(&m, 0, sizeof(m));
	memset(prod, 0, sizeof(prod));
	m.type = SDPP_T_MENU;
	/* The hello's version, or (g & 0x80) the other one, which the buyer refuses. */
	v2 = (h->cfg.version != 1) != ((g & 0x80) != 0);
	snprintf(
	    m.u.menu.version, sizeof(m.u.menu.version), "%s", v2 ? SDPP_VERSION_2 : SDPP_VERSION);
	if (f & 0x80)
		fuzz_in_fill(in, m.u.menu.seller, sizeof(m.u.menu.seller)); /* names someone else */
	else
		memcpy(m.u.menu.seller, spub, sizeof(spub));
	snprintf(m.u.menu.gateway, sizeof(m.u.menu.gateway), "gw");
	snprintf(m.u.menu.currency, sizeof(m.u.menu.currency), "nanos");
	snprintf(m.u.menu.payment_method, sizeof(m.u.menu.payment_method), "voucher");
	m.u.menu.granularity = 1 + (g & 7);
	m.u.menu.ack_every = 1 + ((g >> 3) & 7) % m.u.menu.granularity;
	m.u.menu.max_unpaid = m.u.menu.granularity * 2;
	m.u.menu.sign_items = (g >> 6) & 1;
	m.u.menu.max_frame = SDPP_FRAME_CAP_SESSION;
	m.u.menu.nproducts = NPRODUCTS;
	m.u.menu.products = prod;
	for (i = 0; i < NPRODUCTS; i++) {
		snprintf(prod[i].id, sizeof(prod[i].id), "p%zu", i);
		prod[i].price = i == 3 ? UINT64_MAX / 2 : (pr >> (2 * i) & 3) * (i + 1);
		prod[i].prepay = (f >> i) & 1;
		prod[i].last_seen = (int64_t)h->now;
		snprintf(prod[i].topic, sizeof(prod[i].topic), i == 0 ? "#" : "b/%zu/+/t", i);
		snprintf(prod[i].field, sizeof(prod[i].field), i & 1 ? "/v" : "");
		snprintf(prod[i].device_class, sizeof(prod[i].device_class), "temperature");
		prod[i].min_interval = i * 1000;
		prod[i].on_change = i >= 2;
		snprintf(prod[i].deadband, sizeof(prod[i].deadband), i == 3 ? "0.5" : "");
	}
	send_msg(h, &m, pick_signer(f));
}

static void
op_order(struct h *h, struct fuzz_in *in, const char *topic)
{
	uint8_t f = fuzz_in_u8(in);
	const struct sdpp_menu *mu = sdpp_buyer_menu(h->b);
	char product[SDPP_NAME_MAX + 1];
	uint64_t q = (f & 0x80) ? fuzz_in_u64(in, 7) & INT_MAX53 : (f >> 2) & 0x1f;
	enum sdpp_err e;
	int was = h->done, ordered = h->ordered;

	snprintf(product, sizeof(product), "p%d", f & 3);
	if ((f & 0x60) == 0x60)
		snprintf(product, sizeof(product), "nope");
	if (topic == NULL) {
		e = sdpp_buyer_order(h->b, product, q, h->now, &h->out);
	} else {
		e = sdpp_buyer_order_topic(h->b, product, topic, q, h->now, &h->out);
		/* A topic is for sdpp/2 sessions, and must be a filter. */
		if (topic[0] != '\0' &&
		    (sdpp_buyer_version(h->b) != 2 || !sdpp_topic_filter_ok(topic)))
			CHECK(e == SDPP_E_INVAL);
	}
	if (e == SDPP_OK)
		snprintf(h->want_topic, sizeof(h->want_topic), "%s", topic == NULL ? "" : topic);
	if (e != SDPP_OK) {
		/* Refusals are local: nothing sent, the session goes on. */
		CHECK(h->out.len == 0 && h->out.nev == 0);
		CHECK(sdpp_buyer_done(h->b) == was);
	} else {
		CHECK(mu != NULL && !ordered);
	}
	after(h, SDPP_OK, was);
	if (h->ordered && !ordered) {
		size_t i;

		for (i = 0; i < mu->nproducts; i++)
			if (strcmp(mu->products[i].id, product) == 0)
				h->prepay = mu->products[i].prepay;
		h->k = mu->granularity;
		h->sign_items = mu->sign_items;
		h->budget = h->cfg.budget;
		if (h->budget == 0 && h->quantity != 0)
			CHECK(!__builtin_mul_overflow(h->quantity, h->price, &h->budget));
	}
}

static void
op_session_key(struct h *h, struct fuzz_in *in)
{
	uint8_t f = fuzz_in_u8(in);
	uint8_t key[SDPP_SESSION_KEY_BYTES], info[SDPP_ORDER_ID_BYTES];
	struct sdpp_msg m;
	int valid, started;

	memset(&m, 0, sizeof(m));
	m.type = SDPP_T_SESSION_KEY;
	put_order_id(h, m.u.session_key.order_id, f);
	fuzz_in_fill(in, key, sizeof(key));
	fuzz_in_fill(in, m.u.session_key.nonce_prefix, SDPP_NONCE_PREFIX_BYTES);
	memcpy(info, h->order_id, sizeof(info));
	if (f & 0x08)
		info[0] ^= 1; /* sealed for another order */
	CHECK(sdpp_seal(m.u.session_key.sealed, (f & 0x04) ? oenc : benc, key, info,
	          sizeof(info)) == SDPP_OK);
	valid = !(f & 0x8c) && pick_signer(f) == sid;
	started = h->started_events;
	send_msg(h, &m, pick_signer(f));
	if (h->started_events > started) {
		/* Only a key sealed to us, for this order, by the seller opens. */
		CHECK(valid && !h->keyed);
		h->keyed = 1;
		CHECK(sdpp_aead_new(&h->aead, key) == SDPP_OK);
		memcpy(h->prefix, m.u.session_key.nonce_prefix, sizeof(h->prefix));
		CHECK(sdpp_chain_init(h->chain[0], h->order_id) == SDPP_OK);
	}
	sdpp_wipe(key, sizeof(key));
}

static void
op_data(struct h *h, struct fuzz_in *in)
{
	uint8_t f = fuzz_in_u8(in), g = fuzz_in_u8(in), tl = fuzz_in_u8(in), pl = fuzz_in_u8(in);
	uint8_t nonce[SDPP_AEAD_NONCE_BYTES], aad[SDPP_DATA_AAD_BYTES], c[SDPP_DIGEST_BYTES];
	struct sdpp_item it;
	struct sdpp_msg m;
	char *pt = NULL, *frame;
	uint8_t *ct = NULL;
	size_t ptlen = 0, flen = 0, i;
	uint64_t before = h->prev.sent;
	int sign;
	struct sent_frame *slot;

	memset(&it, 0, sizeof(it));
	memset(&m, 0, sizeof(m));
	/* The next item, or one from the input (a gap, a replay, seq 0). */
	m.u.data.seq = (g & 1) ? fuzz_in_u64(in, 1) : h->prev.sent + 1;
	it.seq = (g & 2) ? m.u.data.seq + 1 : m.u.data.seq;
	it.received_at = (int64_t)h->now - 3;
	if (g & 4) {
		fuzz_in_fill(in, it.topic, tl % 48);
		for (i = 0; i < tl % 48; i++)
			if (it.topic[i] == '\0')
				it.topic[i] = '/';
	} else {
		snprintf(it.topic, sizeof(it.topic), "t/%u", tl);
	}
	it.payload_len = (size_t)pl * 2;
	fuzz_in_fill(in, h->want_payload, it.payload_len);
	it.payload = h->want_payload;
	if ((g & 8) || sdpp_item_encode(&it, &pt, &ptlen) != SDPP_OK) {
		/* A plaintext that is not an item: the buyer's item parser decides. */
		free(pt);
		ptlen = pl;
		pt = malloc(ptlen + 1);
		CHECK(pt != NULL);
		fuzz_in_fill(in, pt, ptlen);
	} else {
		h->expect_item = 1;
		h->want = it;
	}
	ct = malloc(ptlen + SDPP_AEAD_TAG_BYTES);
	CHECK(ct != NULL);
	sdpp_data_nonce(nonce, h->prefix, m.u.data.seq);
	sdpp_data_aad(aad, h->order_id, m.u.data.seq);
	CHECK(sdpp_aead_seal(h->keyed && !(g & 0x10) ? h->aead : h->wrong, nonce, aad, sizeof(aad),
	          (const uint8_t *)pt, ptlen, ct) == SDPP_OK);
	if (g & 0x20)
		ct[pl % (ptlen + SDPP_AEAD_TAG_BYTES)] ^= 0x80;
	m.type = SDPP_T_DATA;
	put_order_id(h, m.u.data.order_id, f);
	m.u.data.ciphertext = ct;
	m.u.data.ciphertext_len = ptlen + SDPP_AEAD_TAG_BYTES;
	/* Signed when the menu says so, unless the input flips it. */
	sign = (h->sign_items != 0) != ((g & 0x40) != 0);
	frame = encode(&m, sign ? pick_signer(f) : NULL, &flen);
	/* The chain the buyer reaches if it takes this as the next item; its
	 * ACK or exit in the same call must carry it. */
	if (m.u.data.seq == before + 1 && before + 1 < MAX_ITEMS) {
		memcpy(c, h->chain[before], sizeof(c));
		CHECK(sdpp_chain_next(c, m.u.data.seq, ct, ptlen + SDPP_AEAD_TAG_BYTES) == SDPP_OK);
		memcpy(h->chain[before + 1], c, sizeof(c));
	}
	if (frame != NULL) {
		feed(h, frame, flen);
		if (h->prev.sent == before + 1) {
			CHECK(m.u.data.seq == before + 1);
			slot = &h->ring[m.u.data.seq % RESEND_RING];
			free(slot->frame);
			slot->seq = m.u.data.seq;
			slot->frame = frame;
			slot->len = flen;
			frame = NULL;
		}
	}
	free(frame);
	free(ct);
	free(pt);
}

/* A resend of an item already delivered: a duplicate, answered with an ACK. */
static void
op_resend(struct h *h, struct fuzz_in *in)
{
	uint64_t seq = h->prev.sent - fuzz_in_u8(in) % RESEND_RING;
	struct sent_frame *slot = &h->ring[seq % RESEND_RING];
	uint64_t dups = h->prev.duplicates, sent = h->prev.sent;
	int was = h->done;

	if (seq == 0 || slot->seq != seq || slot->frame == NULL)
		return;
	feed(h, slot->frame, slot->len);
	CHECK(h->prev.sent == sent);
	/* Streaming: counted and ACKed again. After our exit: ignored. */
	if (!was && !h->done && sdpp_buyer_deadline(h->b) == UINT64_MAX)
		CHECK(h->prev.duplicates == dups + 1 && h->acked_out == sent);
}

static void
op_invoice(struct h *h, struct fuzz_in *in)
{
	uint8_t f = fuzz_in_u8(in), g = fuzz_in_u8(in);
	struct sdpp_msg m;
	struct sdpp_invoice *v = &m.u.invoice;
	uint64_t got = h->prev.sent, billed = h->prev.invoiced;

	memset(&m, 0, sizeof(m));
	m.type = SDPP_T_DATA_INVOICE;
	put_order_id(h, v->order_id, f);
	v->number = h->ninv + 1 + ((g & 1) ? 1 : 0);
	v->first_seq = billed + 1 + ((g & 2) ? 1 : 0);
	if (h->prepay) {
		v->last_seq = billed + h->k;
		if (h->quantity != 0 && v->last_seq > h->quantity)
			v->last_seq = h->quantity;
		v->delivered = billed;
	} else {
		v->last_seq = billed + h->k < got ? billed + h->k : got;
		v->delivered = v->last_seq;
	}
	if (g & 4)
		v->last_seq = v->first_seq + fuzz_in_u8(in) % 16;
	if (g & 8)
		v->delivered = fuzz_in_u8(in) % (got + 2);
	if (v->last_seq < v->first_seq)
		v->last_seq = v->first_seq;
	v->unit_price = h->price + ((g & 0x10) ? 1 : 0);
	if (__builtin_mul_overflow(v->last_seq - v->first_seq + 1, h->price, &v->amount))
		v->amount = UINT64_MAX;
	if (g & 0x20)
		v->amount++;
	v->total_due = h->prev.total_due + v->amount;
	if (g & 0x40)
		v->total_due = fuzz_in_u64(in, 8);
	snprintf(v->currency, sizeof(v->currency), "%s", (g & 0x80) ? "euro" : h->currency);
	if (v->delivered < MAX_ITEMS && v->delivered <= got && !(f & 0x40))
		memcpy(v->digest, h->chain[v->delivered], SDPP_DIGEST_BYTES);
	else
		fuzz_in_fill(in, v->digest, sizeof(v->digest));
	send_msg(h, &m, pick_signer(f));
}

static void
op_statement(struct h *h, struct fuzz_in *in)
{
	uint8_t f = fuzz_in_u8(in);
	struct sdpp_msg m;

	memset(&m, 0, sizeof(m));
	m.type = SDPP_T_EXIT;
	put_order_id(h, m.u.statement.order_id, f);
	m.u.statement.delivered = h->prev.sent;
	m.u.statement.acked = h->prev.acked;
	m.u.statement.total_due = fuzz_in_u64(in, 2);
	m.u.statement.total_paid = h->prev.total_paid;
	m.u.statement.settled = f & 1;
	/* The session's member set, or (f & 0x80) the other one, which the
	 * buyer refuses; the tree head signed by the seller or (f & 0x08) by
	 * a stranger (bad_signature). */
	m.u.statement.version = (sdpp_buyer_version(h->b) == 2) != ((f & 0x80) != 0) ? 2 : 1;
	m.u.statement.tree_head.size = fuzz_in_u64(in, 2) + 1;
	m.u.statement.tree_head.time = (int64_t)h->now;
	fuzz_in_fill(in, m.u.statement.tree_head.root, SDPP_TREE_HEAD_ROOT_BYTES);
	CHECK(sdpp_tree_head_sign(&m.u.statement.tree_head, (f & 0x08) ? other : sid) == SDPP_OK);
	send_msg(h, &m, pick_signer(f));
}

static void
op_error(struct h *h, struct fuzz_in *in)
{
	static const char *const codes[] = { "payment_timeout", "shutting_down", "internal", "zz" };
	uint8_t f = fuzz_in_u8(in);
	struct sdpp_msg m;

	memset(&m, 0, sizeof(m));
	m.type = SDPP_T_ERROR;
	snprintf(m.u.error.code, sizeof(m.u.error.code), "%s", codes[f & 3]);
	snprintf(m.u.error.message, sizeof(m.u.error.message), "seller says no");
	send_msg(h, &m, pick_signer(f));
}

static void
op_pay(struct h *h, struct fuzz_in *in)
{
	uint8_t f = fuzz_in_u8(in);
	char ver[SDPP_VERIFICATION_MAX + 2];
	const char *v;
	uint64_t req = h->pay_req;
	enum sdpp_err e;
	int was = h->done;

	if ((f & 3) == 3 || req == 0)
		req = fuzz_in_u64(in, 2); /* a request the buyer never made, or an old one */
	if ((f & 0x0c) == 0x0c) {
		memset(ver, 'v', sizeof(ver) - 1); /* too long: refused, nothing happens */
		ver[sizeof(ver) - 1] = '\0';
	} else {
		snprintf(ver, sizeof(ver), "tx-%u", (unsigned)fuzz_in_u8(in));
	}
	v = (f & 0x40) ? NULL : ver;
	if (req == h->pay_req && (v == NULL || strlen(v) <= SDPP_VERIFICATION_MAX))
		h->pay_req = 0; /* consumed, whatever the outcome */
	if (req == h->pay_req || (h->pay_req == 0 && req == h->last_req))
		h->made[h->nmade++ % 16] = h->pay_total;
	e = sdpp_buyer_complete(h->b, req, (f & 0x30) != 0x30, v, h->now, &h->out);
	after(h, e, was);
}

/* A new connection: the buyer's resume, if it has an order to resume. */
static void
op_resume(struct h *h)
{
	int could = sdpp_buyer_resumable(h->b), was = h->done;
	uint64_t attempt = h->attempt;
	enum sdpp_err e = sdpp_buyer_resume(h->b, h->now, &h->out);

	/* An sdpp/2 order streaming, exiting or already resuming. */
	if (could)
		CHECK(h->ordered && h->keyed && sdpp_buyer_version(h->b) == 2 && !was);
	if (!could)
		CHECK(e == SDPP_E_INVAL && h->out.len == 0 && h->out.nev == 0);
	after(h, e, was);
	if (could && !h->done)
		CHECK(
		    h->resuming && h->attempt == attempt + 1 &&
		    sdpp_buyer_deadline(h->b) ==
		        h->now + (h->cfg.response_timeout_ms ? h->cfg.response_timeout_ms : 30000));
}

/* The seller's answer to a resume, from the input: taken exactly when it
 * is the order's, signed by the seller, at what the buyer holds. */
static void
op_resumed(struct h *h, struct fuzz_in *in)
{
	uint8_t f = fuzz_in_u8(in), g = fuzz_in_u8(in);
	struct sdpp_msg m;
	struct sdpp_resumed *d = &m.u.resumed;
	int ok, rejoined;

	memset(&m, 0, sizeof(m));
	m.type = SDPP_T_RESUMED;
	put_order_id(h, d->order_id, f);
	d->seq = (g & 1) ? fuzz_in_u8(in) : h->prev.sent;
	d->sent = d->seq + fuzz_in_u8(in) % 4;
	d->invoice = (g & 2) ? fuzz_in_u8(in) % (h->ninv + 2) : h->ninv;
	switch ((g >> 2) & 3) {
	case 0:
		d->paid = 0;
		break;
	case 1:
		d->paid = h->voucher;
		break;
	case 2:
		d->paid = h->made[fuzz_in_u8(in) % 16];
		break;
	default:
		d->paid = fuzz_in_u64(in, 3);
		break;
	}
	d->dropped = fuzz_in_u8(in);
	ok = h->resuming && !h->done && !(f & 0x80) && pick_signer(f) == sid &&
	     d->seq == h->prev.sent && d->invoice >= h->ninv;
	h->rejoining = 1;
	h->resumed_paid = d->paid;
	h->resent_total = 0;
	send_msg(h, &m, pick_signer(f));
	h->rejoining = 0;
	rejoined = !h->resuming && ok;
	CHECK(rejoined == ok);
	if (!ok)
		CHECK(h->done); /* refused: the buyer gives up */
}

static void
op_tick(struct h *h, struct fuzz_in *in)
{
	uint64_t d = sdpp_buyer_deadline(h->b);
	enum sdpp_err e;
	int was = h->done;

	h->now = fuzz_in_time(in, h->now, d);
	e = sdpp_buyer_tick(h->b, h->now, &h->out);
	after(h, e, was);
	if (!h->done)
		CHECK(sdpp_buyer_deadline(h->b) > h->now);
	if (d != UINT64_MAX && h->now < d && !was)
		CHECK(e == SDPP_OK && !h->done);
}

enum op {
	OP_RAW,
	OP_MENU,
	OP_ORDER,
	OP_SESSION_KEY,
	OP_DATA,
	OP_RESEND,
	OP_INVOICE,
	OP_STATEMENT,
	OP_ERROR,
	OP_PAY,
	OP_EXIT,
	OP_TICK,
	OP_START,
	OP_ORDER_TOPIC, /* an order narrowed to a topic: a length byte, then the topic */
	OP_RESUME,      /* the connection dropped: resume on a new one */
	OP_RESUMED,     /* the seller's answer */
	OP__COUNT
};

/*
 * Input: three configuration bytes (max_price, budget, timeout), then
 * operations, one byte each (mod OP__COUNT) followed by its arguments.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t zero[SDPP_AEAD_KEY_BYTES];
	struct fuzz_in in = { data, size };
	uint8_t b0 = fuzz_in_u8(&in), b1 = fuzz_in_u8(&in), b2 = fuzz_in_u8(&in);
	const uint8_t *line;
	size_t len, i;
	struct h h;
	int ops = 0, was;
	enum sdpp_err e;

	memset(&h, 0, sizeof(h));
	h.now = 1700000000000ULL;
	h.cfg.id = bid;
	memcpy(h.cfg.seller, spub, sizeof(spub));
	snprintf(h.cfg.payment_address, sizeof(h.cfg.payment_address), "buyer-wallet");
	h.cfg.max_price = (b0 & 0x80) ? b0 & 0x7f : 0;
	h.cfg.budget = (b1 & 0x80) ? b1 & 0x7f : 0;
	h.cfg.response_timeout_ms = (b2 & 1) ? 1000 : 0;
	h.cfg.version = (b2 >> 1) & 3; /* 0 and 2: sdpp/2; 1: sdpp/1; 3: refused */
	if (h.cfg.version == 3) {
		CHECK(sdpp_buyer_new(&h.b, &h.cfg, h.now) == SDPP_E_INVAL && h.b == NULL);
		h.cfg.version = 2;
	}
	h.chain = calloc(MAX_ITEMS, sizeof(*h.chain));
	CHECK(h.chain != NULL);
	CHECK(sdpp_aead_new(&h.wrong, zero) == SDPP_OK);
	sdpp_out_init(&h.out, OUT_MAX);
	CHECK(sdpp_buyer_new(&h.b, &h.cfg, h.now) == SDPP_OK);
	CHECK(sdpp_buyer_deadline(h.b) == UINT64_MAX);
	e = sdpp_buyer_start(h.b, h.now, &h.out);
	CHECK(e == SDPP_OK);
	after(&h, e, 0);
	CHECK(h.hellos == 1);
	while (in.n > 0 && ops++ < MAX_OPS && h.prev.sent + 2 < MAX_ITEMS) {
		uint8_t op = fuzz_in_u8(&in) % OP__COUNT;

		if (trace)
			fprintf(stderr, "op %d at %llu\n", op, (unsigned long long)h.now);
		switch (op) {
		case OP_RAW:
			line = fuzz_in_line(&in, &len);
			feed(&h, (const char *)line, len);
			break;
		case OP_MENU:
			op_menu(&h, &in);
			break;
		case OP_ORDER:
			op_order(&h, &in, NULL);
			break;
		case OP_ORDER_TOPIC: {
			char topic[40];
			size_t tl = fuzz_in_u8(&in) % sizeof(topic);

			fuzz_in_fill(&in, topic, tl);
			topic[tl] = '\0';
			op_order(&h, &in, topic);
			break;
		}
		case OP_SESSION_KEY:
			op_session_key(&h, &in);
			break;
		case OP_DATA:
			op_data(&h, &in);
			break;
		case OP_RESEND:
			op_resend(&h, &in);
			break;
		case OP_INVOICE:
			op_invoice(&h, &in);
			break;
		case OP_STATEMENT:
			op_statement(&h, &in);
			break;
		case OP_ERROR:
			op_error(&h, &in);
			break;
		case OP_PAY:
			op_pay(&h, &in);
			break;
		case OP_EXIT:
			was = h.done;
			e = sdpp_buyer_exit(h.b, h.now, &h.out);
			after(&h, e, was);
			break;
		case OP_TICK:
			op_tick(&h, &in);
			break;
		case OP_START:
			was = h.done;
			e = sdpp_buyer_start(h.b, h.now, &h.out);
			CHECK(e == SDPP_E_INVAL);
			after(&h, e, was);
			break;
		case OP_RESUME:
			op_resume(&h);
			break;
		case OP_RESUMED:
			op_resumed(&h, &in);
			break;
		}
	}
	sdpp_buyer_free(h.b);
	sdpp_aead_free(h.aead);
	sdpp_aead_free(h.wrong);
	sdpp_out_free(&h.out);
	for (i = 0; i < RESEND_RING; i++)
		free(h.ring[i].frame);
	free(h.chain);
	free(h.exit_frame);
	return 0;
}
