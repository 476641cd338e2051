/* libFuzzer target: the seller machine fed input-chosen messages, samples, timers, resumes. */
#include "fuzz/fuzz.h"
#include "sdpp/crypto.h"
#include "sdpp/framer.h"
#include "sdpp/msg.h"
#include "sdpp/session.h"

#define MAX_OPS 1000
#define MAX_ITEMS 8192 /* receipt chains the harness keeps, by seq */
#define MAX_PENDING 64
#define OUT_MAX (4u << 20)
#define NPRODUCTS 4
#define INT_MAX53 9007199254740991ULL

/* Generated once: the seller, the buyer, and a stranger whose signatures must fail. */
static struct sdpp_identity *sid, *bid, *other;
static struct sdpp_verifier *sver;
static uint8_t bpub[SDPP_SIGN_PUBLIC_BYTES], spub[SDPP_SIGN_PUBLIC_BYTES];
static uint8_t opub[SDPP_SIGN_PUBLIC_BYTES];
/* SDPP_FUZZ_TRACE=1 prints each step, to read a reproducer. */
static int trace;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	CHECK(sdpp_identity_generate(&sid) == SDPP_OK);
	CHECK(sdpp_identity_generate(&bid) == SDPP_OK);
	CHECK(sdpp_identity_generate(&other) == SDPP_OK);
	sdpp_identity_sign_public(sid, spub);
	sdpp_identity_sign_public(bid, bpub);
	sdpp_identity_sign_public(other, opub);
	CHECK(sdpp_verifier_new(&sver, spub) == SDPP_OK);
	trace = getenv("SDPP_FUZZ_TRACE") != NULL;
	return 0;
}

/* ---- The harness: the seller, what it told us, and the host's pending work. */

struct h {
	struct sdpp_seller *s;
	struct sdpp_seller_config cfg;
	struct sdpp_menu menu[2];
	struct sdpp_out out;
	uint64_t now;
	uint64_t window;                   /* effective window */
	int v2;                            /* the hello and order say sdpp/2 */
	const struct sdpp_identity *buyer; /* who ordered (bid, other), once ordered */
	/* The highest invoice a payment or an accepted resume named: the
	 * seller frees kept invoices up to it (the buyer showed it has them),
	 * so a later resume naming fewer gets only those above it again. A
	 * payment that names one the seller did not take ends the session. */
	uint64_t inv_named;

	/* Host. */
	uint64_t pending[MAX_PENDING];
	size_t npending;
	uint64_t last_req;
	uint64_t nrec;

	/* Session as observed. */
	int closed;
	int done;
	int menus;
	int paused;
	uint64_t dropped_events;
	struct sdpp_progress prev;

	/* The accepted order (from SDPP_EV_ORDER). */
	int ordered;
	uint64_t price, quantity, k, max_unpaid;
	int prepay, sign_items;
	int stopped; /* shutdown or exit: no new items from now on */
	uint8_t order_id[SDPP_ORDER_ID_BYTES];

	/* The stream, decrypted with the buyer's key. */
	int started;
	int can_open; /* the order named our encryption key */
	struct sdpp_aead *aead;
	uint8_t nonce_prefix[SDPP_NONCE_PREFIX_BYTES];
	uint64_t nseen;                      /* highest data seq seen */
	uint8_t (*chain)[SDPP_DIGEST_BYTES]; /* chain[seq], 0..nseen */

	/* Invoices and statement as sent. */
	uint64_t ninv, billed, total_due;
	uint64_t inv_due[64], inv_delivered[64];
	int statements;
	uint64_t exit_seq, exit_total;
	uint64_t exit_req; /* the exit's record request */
	int exit_kept;     /* recorded while detached: the statement waits */

	/* Resume (sdpp/2): the order detached, and resumes offered to it. */
	int detached;
	uint64_t detached_at;
	uint64_t last_attempt; /* of the last resume accepted */
	uint64_t dropped_away; /* samples dropped since the connection went */
	int resuming;          /* in sdpp_seller_resume(): resends are expected */
	uint64_t data_out;     /* data frames in the call's output */
};

/* ---- Checks on what one call produced. */

static int
code_known(const char *code)
{
	return sdpp_err_from_code(code) != SDPP_E_INTERNAL || strcmp(code, "internal") == 0;
}

static void
check_data(struct h *h, const struct sdpp_msg *m)
{
	const struct sdpp_data *d = &m->u.data;
	uint8_t nonce[SDPP_AEAD_NONCE_BYTES], aad[SDPP_DATA_AAD_BYTES], c[SDPP_DIGEST_BYTES];
	uint8_t *pt;
	struct sdpp_item it;
	size_t ptlen = d->ciphertext_len - SDPP_AEAD_TAG_BYTES;

	CHECK(h->started);
	CHECK(memcmp(d->order_id, h->order_id, SDPP_ORDER_ID_BYTES) == 0);
	CHECK(m->signed_ == h->sign_items);
	if (m->signed_)
		CHECK(sdpp_msg_verify(m, sver) == SDPP_OK);
	/* No gaps; a resend repeats the item exactly (same receipt chain). */
	CHECK(d->seq >= 1 && d->seq <= h->nseen + 1);
	CHECK(d->seq < MAX_ITEMS);
	memcpy(c, h->chain[d->seq - 1], sizeof(c));
	CHECK(sdpp_chain_next(c, d->seq, d->ciphertext, d->ciphertext_len) == SDPP_OK);
	if (d->seq <= h->nseen) {
		CHECK(memcmp(c, h->chain[d->seq], sizeof(c)) == 0);
		return;
	}
	CHECK(!h->stopped);
	memcpy(h->chain[d->seq], c, sizeof(c));
	h->nseen = d->seq;
	if (!h->can_open)
		return;
	/* Every item opens with the sealed key and parses as a buyer would. */
	pt = malloc(ptlen + 1);
	CHECK(pt != NULL);
	sdpp_data_nonce(nonce, h->nonce_prefix, d->seq);
	sdpp_data_aad(aad, h->order_id, d->seq);
	CHECK(sdpp_aead_open(h->aead, nonce, aad, sizeof(aad), d->ciphertext, d->ciphertext_len,
	          pt) == SDPP_OK);
	CHECK(sdpp_item_parse(&it, (const char *)pt, ptlen) == SDPP_OK);
	CHECK(it.seq == d->seq);
	sdpp_item_free(&it);
	free(pt);
}

static void
check_invoice(struct h *h, const struct sdpp_invoice *v)
{
	uint64_t n = v->last_seq - v->first_seq + 1, amount;

	CHECK(h->started);
	CHECK(memcmp(v->order_id, h->order_id, SDPP_ORDER_ID_BYTES) == 0);
	/* Exactly what the buyer checks before paying. */
	CHECK(v->number == h->ninv + 1);
	CHECK(v->first_seq == h->billed + 1 && n <= h->k);
	CHECK(v->unit_price == h->price);
	CHECK(!__builtin_mul_overflow(n, h->price, &amount) && v->amount == amount);
	CHECK(v->total_due == h->total_due + amount);
	CHECK(strcmp(v->currency, h->menu[0].currency) == 0);
	CHECK(h->quantity == 0 || v->last_seq <= h->quantity);
	if (h->prepay)
		CHECK(v->delivered == v->first_seq - 1);
	else
		CHECK(v->delivered == v->last_seq);
	CHECK(v->delivered <= h->nseen);
	CHECK(memcmp(v->digest, h->chain[v->delivered], SDPP_DIGEST_BYTES) == 0);
	h->ninv = v->number;
	h->billed = v->last_seq;
	h->total_due = v->total_due;
	h->inv_due[v->number % 64] = v->total_due;
	h->inv_delivered[v->number % 64] = v->delivered;
}

static void
check_statement(struct h *h, const struct sdpp_statement *st)
{
	uint64_t due,
	    paid = h->prev.total_paid > h->exit_total ? h->prev.total_paid : h->exit_total;

	/* docs/PROTOCOL.md 5.10: delivered = items sent, acked = the seq of the
	 * buyer's exit (itself a receipt), total_due = acked x price, total_paid
	 * = max(highest confirmed payment, the exit's total). */
	CHECK(memcmp(st->order_id, h->order_id, SDPP_ORDER_ID_BYTES) == 0);
	/* The session's member set; an sdpp/2 tree head signed by the seller. */
	CHECK(st->version == sdpp_seller_version(h->s));
	CHECK(st->version != 2 || sdpp_tree_head_verify(&st->tree_head, spub) == SDPP_OK);
	CHECK(st->delivered == h->nseen);
	CHECK(st->acked == h->exit_seq && st->acked <= st->delivered);
	CHECK(!__builtin_mul_overflow(st->acked, h->price, &due) && st->total_due == due);
	CHECK(st->total_paid == paid);
	CHECK(st->settled == (st->total_paid >= st->total_due));
	CHECK(h->statements++ == 0);
}

/* Every frame parses as a seller message a buyer would accept. */
static void
check_frames(struct h *h, int *errors)
{
	const char *p, *end, *nl;
	struct sdpp_msg m;
	char err[SDPP_TEXT_MAX + 1];
	uint8_t key[SDPP_SESSION_KEY_BYTES];
	enum sdpp_err e;

	if (h->out.len == 0)
		return; /* buf may still be NULL */
	p = h->out.buf;
	end = p + h->out.len;
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		CHECK(nl != NULL);
		CHECK((size_t)(nl - p) <= SDPP_FRAME_CAP_SESSION);
		e = sdpp_msg_parse(&m, p, (size_t)(nl - p), SDPP_ROLE_SELLER, err, sizeof(err));
		if (e != SDPP_OK)
			fprintf(stderr, "seller frame does not parse: %s\n%.*s\n", err,
			    (int)(nl - p), p);
		CHECK(e == SDPP_OK);
		if (m.type != SDPP_T_DATA) {
			CHECK(m.signed_);
			CHECK(sdpp_msg_verify(&m, sver) == SDPP_OK);
		}
		switch (m.type) {
		case SDPP_T_MENU:
			CHECK(h->menus++ == 0);
			CHECK(memcmp(m.u.menu.seller, spub, sizeof(spub)) == 0);
			break;
		case SDPP_T_SESSION_KEY:
			CHECK(h->ordered && !h->started);
			CHECK(memcmp(m.u.session_key.order_id, h->order_id, SDPP_ORDER_ID_BYTES) ==
			      0);
			if (h->can_open) {
				CHECK(sdpp_unseal(key, bid, m.u.session_key.sealed, h->order_id,
				          SDPP_ORDER_ID_BYTES) == SDPP_OK);
				CHECK(sdpp_aead_new(&h->aead, key) == SDPP_OK);
			}
			memcpy(
			    h->nonce_prefix, m.u.session_key.nonce_prefix, SDPP_NONCE_PREFIX_BYTES);
			CHECK(sdpp_chain_init(h->chain[0], h->order_id) == SDPP_OK);
			h->started = 1;
			break;
		case SDPP_T_DATA:
			check_data(h, &m);
			h->data_out++;
			break;
		case SDPP_T_DATA_INVOICE:
			if (m.u.invoice.number <= h->ninv) {
				/* Sent again after a resume, as it was. */
				CHECK(h->resuming && h->ninv - m.u.invoice.number < 64);
				CHECK(m.u.invoice.total_due == h->inv_due[m.u.invoice.number % 64]);
				CHECK(m.u.invoice.delivered ==
				      h->inv_delivered[m.u.invoice.number % 64]);
			} else {
				check_invoice(h, &m.u.invoice);
			}
			break;
		case SDPP_T_RESUMED:
			CHECK(h->resuming); /* checked in op_resume() */
			break;
		case SDPP_T_EXIT:
			check_statement(h, &m.u.statement);
			break;
		case SDPP_T_ERROR:
			CHECK(code_known(m.u.error.code));
			(*errors)++;
			break;
		default:
			CHECK(!"unexpected message type from the seller");
		}
		sdpp_msg_free(&m);
		p = nl + 1;
	}
}

static void
pending_add(struct h *h, uint64_t req)
{
	CHECK(req > h->last_req); /* request ids are fresh */
	h->last_req = req;
	CHECK(h->npending < MAX_PENDING);
	h->pending[h->npending++] = req;
}

static void
check_events(struct h *h, int *closes)
{
	const struct sdpp_event *ev;
	const uint8_t *oid;
	uint8_t want[SDPP_ORDER_ID_BYTES];
	struct sdpp_progress p;
	size_t i, j;

	for (i = 0; i < h->out.nev; i++) {
		ev = &h->out.ev[i];
		switch (ev->type) {
		case SDPP_EV_ORDER:
			CHECK(!h->ordered);
			CHECK(ev->msg != NULL && ev->msg->type == SDPP_T_ORDER);
			CHECK(sdpp_order_id(ev->msg, want) == SDPP_OK);
			oid = sdpp_seller_order_id(h->s);
			CHECK(oid != NULL && memcmp(oid, want, sizeof(want)) == 0);
			CHECK(sdpp_seller_buyer(h->s) != NULL);
			CHECK(memcmp(sdpp_seller_buyer(h->s), ev->msg->u.order.buyer, 32) == 0);
			/* Whose order it is: a stranger may order for its own key. */
			h->buyer = memcmp(ev->msg->u.order.buyer, bpub, 32) == 0   ? bid
			           : memcmp(ev->msg->u.order.buyer, opub, 32) == 0 ? other
			                                                           : NULL;
			CHECK(sdpp_seller_product(h->s) != NULL);
			CHECK(strcmp(sdpp_seller_product(h->s), ev->msg->u.order.product) == 0);
			memcpy(h->order_id, want, sizeof(want));
			h->ordered = 1;
			h->price = ev->msg->u.order.price;
			h->quantity = ev->msg->u.order.quantity;
			h->k = h->cfg.menu->granularity;
			h->max_unpaid = h->cfg.menu->max_unpaid;
			h->sign_items = h->cfg.menu->sign_items;
			sdpp_identity_enc_public(bid, want);
			h->can_open = memcmp(ev->msg->u.order.enc_key, want, sizeof(want)) == 0;
			for (j = 0; j < h->cfg.menu->nproducts; j++)
				if (strcmp(h->cfg.menu->products[j].id, ev->msg->u.order.product) ==
				    0)
					h->prepay = h->cfg.menu->products[j].prepay;
			pending_add(h, ev->req);
			break;
		case SDPP_EV_INVOICE:
			CHECK(ev->invoice != NULL && ev->invoice->number >= 1);
			CHECK(memcmp(ev->invoice->order_id, h->order_id, SDPP_ORDER_ID_BYTES) == 0);
			pending_add(h, ev->req);
			break;
		case SDPP_EV_PAYMENT:
			CHECK(ev->msg != NULL && ev->msg->type == SDPP_T_PAYMENT_ACK);
			CHECK(ev->msg->u.payment.invoice <= h->ninv);
			pending_add(h, ev->req);
			break;
		case SDPP_EV_EXIT:
			CHECK(ev->msg != NULL && ev->msg->type == SDPP_T_EXIT);
			h->stopped = 1;
			h->exit_seq = ev->msg->u.exit.seq;
			h->exit_total = ev->msg->u.exit.total;
			h->exit_req = ev->req;
			pending_add(h, ev->req);
			break;
		case SDPP_EV_RECEIPT:
			CHECK(ev->msg != NULL && ev->msg->type == SDPP_T_ACK);
			sdpp_seller_progress(h->s, &p);
			CHECK(ev->msg->u.ack.seq > h->prev.acked && ev->msg->u.ack.seq <= p.sent);
			break;
		case SDPP_EV_PAUSED:
			CHECK(!h->paused);
			h->paused = 1;
			break;
		case SDPP_EV_RESUMED:
			CHECK(h->paused);
			h->paused = 0;
			break;
		case SDPP_EV_DROPPED:
			CHECK(ev->count >= 1);
			h->dropped_events += ev->count;
			if (sdpp_seller_detached(h->s))
				h->dropped_away += ev->count;
			break;
		case SDPP_EV_RESUME:
			/* A resume as a connection's first frame: for the host. */
			CHECK(!h->ordered && h->menus == 0);
			CHECK(ev->msg != NULL && ev->msg->type == SDPP_T_RESUME);
			break;
		case SDPP_EV_REJOINED:
			CHECK(h->resuming);
			CHECK(ev->msg != NULL && ev->msg->type == SDPP_T_RESUME);
			break;
		case SDPP_EV_PEER_ERROR:
			CHECK(ev->msg != NULL && ev->msg->type == SDPP_T_ERROR);
			break;
		case SDPP_EV_CLOSE:
			(*closes)++;
			break;
		case SDPP_EV_SIGN_ITEM: /* signed in after() */
			break;
		default:
			CHECK(!"buyer event from the seller");
		}
	}
}

static void
check_progress(struct h *h)
{
	struct sdpp_progress p;
	uint64_t due;

	sdpp_seller_progress(h->s, &p);
	CHECK(p.sent >= h->prev.sent && p.acked >= h->prev.acked);
	CHECK(p.invoiced >= h->prev.invoiced && p.total_due >= h->prev.total_due);
	CHECK(p.total_paid >= h->prev.total_paid && p.dropped >= h->prev.dropped);
	CHECK(p.resent >= h->prev.resent);
	CHECK(p.acked <= p.sent);
	CHECK(p.dropped == h->dropped_events);
	if (h->ordered) {
		CHECK(p.price == h->price && p.quantity == h->quantity);
		CHECK(p.sent - p.acked <= h->window);
		CHECK(h->quantity == 0 || p.sent <= h->quantity);
		CHECK(h->quantity == 0 || p.invoiced <= h->quantity);
		CHECK(!__builtin_mul_overflow(p.invoiced, h->price, &due));
		/* Once the exit is settled, what it pays for counts as due too. */
		if ((h->statements > 0 || h->exit_kept) && h->exit_seq * h->price > due)
			due = h->exit_seq * h->price;
		CHECK(p.total_due == due);
		/* Credit limits (docs/PROTOCOL.md 10.2.5, 10.2.6): never more sent
		 * than paid for (prepay) or than paid plus max_unpaid (postpaid). */
		if (h->prepay && h->price != 0)
			CHECK(p.sent <= p.total_paid / h->price && p.sent <= p.invoiced);
		if (!h->prepay && h->price != 0 &&
		    !__builtin_add_overflow(p.total_paid / h->price, h->max_unpaid, &due))
			CHECK(p.sent <= due);
		if (h->prepay)
			CHECK(p.invoiced <= p.sent + h->k);
		else
			CHECK(p.invoiced <= p.sent);
		CHECK(p.invoiced >= h->billed);
	} else {
		CHECK(p.sent == 0 && p.invoiced == 0);
	}
	/* Everything sent went through the output we checked. */
	CHECK(p.sent == h->nseen);
	h->prev = p;
}

/*
 * Whether docs/PROTOCOL.md 10.2.5/10.2.6 say the buyer is paused now: paid
 * = floor(P / price); prepay: sent >= min(paid, invoiced); postpaid:
 * sent - paid >= max_unpaid, in integers (paying ahead never pauses).
 */
static int
spec_paused(const struct h *h, const struct sdpp_progress *p)
{
	uint64_t paid;

	if (h->price == 0 || (h->quantity != 0 && p->sent >= h->quantity))
		return 0;
	paid = p->total_paid / h->price;
	if (h->prepay)
		return p->sent >= (paid < p->invoiced ? paid : p->invoiced);
	return p->sent >= paid && p->sent - paid >= h->max_unpaid;
}

/* Runs after every call: ret is what the call returned. */
static void
after(struct h *h, enum sdpp_err ret, int was_done)
{
	int closes = 0, errors = 0;
	size_t i;

	if (trace) {
		fprintf(stderr, "  -> %s, %zu events:", sdpp_strerror(ret), h->out.nev);
		for (i = 0; i < h->out.nev; i++)
			fprintf(stderr, " %d", h->out.ev[i].type);
		fprintf(stderr, "\n%.*s", (int)(h->out.len > 2000 ? 2000 : h->out.len), h->out.buf);
	}
	if (was_done)
		CHECK(h->out.len == 0 && h->out.nev == 0);
	/* With defer_item_signatures the host signs each item's first copy
	 * (the gateway's workers) before anything reads the frames. */
	for (i = 0; i < h->out.nev; i++)
		if (h->out.ev[i].type == SDPP_EV_SIGN_ITEM) {
			CHECK(h->cfg.defer_item_signatures && h->sign_items);
			CHECK(h->out.ev[i].off + h->out.ev[i].len <= h->out.len);
			CHECK(sdpp_data_frame_sign(
			          h->out.buf + h->out.ev[i].off, h->out.ev[i].len, sid) == SDPP_OK);
		}
	h->data_out = 0;
	check_frames(h, &errors);
	/* Detached: no item goes out (nor a resend), until a resume. */
	if (h->detached && !h->resuming)
		CHECK(h->data_out == 0);
	check_events(h, &closes);
	h->done = sdpp_seller_done(h->s);
	CHECK(closes <= 1);
	if (closes) {
		CHECK(!h->closed);
		h->closed = 1;
		CHECK(h->done);
		h->npending = 0;
	}
	CHECK(h->done == h->closed);
	CHECK(errors <= 1 && (errors == 0 || closes == 1));
	if (h->done)
		CHECK(!sdpp_seller_streaming(h->s) && sdpp_seller_deadline(h->s) == UINT64_MAX);
	if (h->detached && !h->done)
		CHECK(sdpp_seller_deadline(h->s) <= h->detached_at + h->cfg.resume_timeout_ms);
	/* A failure the peer caused always ends the session. */
	if (ret != SDPP_OK && ret != SDPP_E_INVAL)
		CHECK(h->done);
	check_progress(h);
	if (sdpp_seller_streaming(h->s))
		CHECK(h->paused == spec_paused(h, &h->prev));
	sdpp_out_clear(&h->out);
}

/* ---- Operations. */

static void
feed(struct h *h, const char *frame, size_t len)
{
	const struct sdpp_verifier *v = sdpp_seller_verifier(h->s);
	int was = h->done, ok;
	struct sdpp_msg m;
	enum sdpp_err e;

	if (h->cfg.defer_item_signatures && v != NULL) {
		/* The host checks the buyer's signature, as the gateway's
		 * workers do: the session must answer exactly as it would. */
		memset(&m, 0, sizeof(m));
		ok = sdpp_msg_parse(&m, frame, len, SDPP_ROLE_BUYER, NULL, 0) == SDPP_OK &&
		     sdpp_msg_verify(&m, v) == SDPP_OK;
		sdpp_msg_free(&m);
		e = sdpp_seller_input_checked(h->s, frame, len, ok, h->now, &h->out);
	} else {
		e = sdpp_seller_input(h->s, frame, len, h->now, &h->out);
	}

	if (was)
		CHECK(e == SDPP_E_INVAL);
	after(h, e, was);
}

static void
send_msg(struct h *h, struct sdpp_msg *m, const struct sdpp_identity *id)
{
	char *f = NULL;
	size_t len = 0;

	m->from = SDPP_ROLE_BUYER;
	if (sdpp_msg_encode(m, id, &f, &len) != SDPP_OK)
		return; /* a field beyond what JSON carries */
	feed(h, f, len - 1);
	free(f);
}

static const struct sdpp_identity *
pick_signer(uint8_t flags)
{
	switch (flags & 0x30) {
	case 0x10:
		return other;
	case 0x20:
		return (flags & 0x40) ? NULL : bid;
	default:
		return bid;
	}
}

static void
put_order_id(struct h *h, uint8_t *dst, uint8_t flags)
{
	const uint8_t *oid = sdpp_seller_order_id(h->s);

	memset(dst, 0, SDPP_ORDER_ID_BYTES);
	if (oid != NULL)
		memcpy(dst, oid, SDPP_ORDER_ID_BYTES);
	if (flags & 0x80)
		dst[flags & 31] ^= 1;
}

/* A seq the seller may hold a chain for: the latest, or any from the input. */
static uint64_t
pick_seq(struct h *h, struct fuzz_in *in, uint8_t flags)
{
	if ((flags & 3) == 0)
		return h->nseen;
	if ((flags & 3) == 1)
		return h->prev.acked + fuzz_in_u8(in) % (h->nseen - h->prev.acked + 1);
	if ((flags & 3) == 2)
		return fuzz_in_u8(in) % (h->nseen + 3);
	return fuzz_in_u64(in, 7);
}

static void
pick_digest(struct h *h, struct fuzz_in *in, uint64_t seq, uint8_t flags, uint8_t *dst)
{
	if (seq <= h->nseen && seq < MAX_ITEMS && h->started && !(flags & 4)) {
		memcpy(dst, h->chain[seq], SDPP_DIGEST_BYTES);
		return;
	}
	fuzz_in_fill(in, dst, SDPP_DIGEST_BYTES);
}

static void
op_order(struct h *h, struct fuzz_in *in)
{
	static const char *const names[] = { "co2", "free", "occupancy", "big", "nope" };
	uint8_t f = fuzz_in_u8(in), q = fuzz_in_u8(in);
	const struct sdpp_product *p;
	struct sdpp_msg m;

	memset(&m, 0, sizeof(m));
	m.type = SDPP_T_ORDER;
	snprintf(m.u.order.product, sizeof(m.u.order.product), "%s", names[f % 5]);
	m.u.order.quantity = (q & 0x80) ? fuzz_in_u64(in, 7) & INT_MAX53 : (q & 0x1f);
	p = NULL;
	for (size_t i = 0; i < h->cfg.menu->nproducts; i++)
		if (strcmp(h->cfg.menu->products[i].id, m.u.order.product) == 0)
			p = &h->cfg.menu->products[i];
	m.u.order.price = p != NULL ? p->price : 1;
	if (q & 0x40)
		m.u.order.price += 1; /* price_mismatch */
	snprintf(m.u.order.currency, sizeof(m.u.order.currency), "%s",
	    (q & 0x20) ? "euro" : h->cfg.menu->currency);
	snprintf(m.u.order.payment_address, sizeof(m.u.order.payment_address), "buyer-addr");
	if ((f & 0x38) == 0x38)
		sdpp_identity_sign_public(other, m.u.order.buyer); /* another buyer, consistent */
	else if ((f & 0x38) == 0x28)
		fuzz_in_fill(in, m.u.order.buyer, sizeof(m.u.order.buyer)); /* maybe not a key */
	else
		memcpy(m.u.order.buyer, bpub, sizeof(bpub));
	if ((f & 0xc0) == 0xc0)
		fuzz_in_fill(
		    in, m.u.order.enc_key, sizeof(m.u.order.enc_key)); /* maybe not a point */
	else
		sdpp_identity_enc_public(bid, m.u.order.enc_key);
	fuzz_in_fill(in, m.u.order.nonce, 4);
	m.u.order.time = (int64_t)h->now;
	m.u.order.version = h->v2 ? 2 : 1;
	/* A stranger signing for our key fails; signing for its own key
	 * succeeds, and then our later messages are the forgeries. */
	send_msg(h, &m, (f & 0x38) == 0x38 ? other : pick_signer(f));
}

static void
op_ack(struct h *h, struct fuzz_in *in)
{
	uint8_t f = fuzz_in_u8(in);
	struct sdpp_msg m;

	memset(&m, 0, sizeof(m));
	m.type = SDPP_T_ACK;
	put_order_id(h, m.u.ack.order_id, f);
	m.u.ack.seq = pick_seq(h, in, f);
	pick_digest(h, in, m.u.ack.seq, f, m.u.ack.digest);
	send_msg(h, &m, pick_signer(f));
}

static void
op_payment(struct h *h, struct fuzz_in *in)
{
	uint8_t f = fuzz_in_u8(in);
	struct sdpp_msg m;
	uint64_t due;

	memset(&m, 0, sizeof(m));
	m.type = SDPP_T_PAYMENT_ACK;
	put_order_id(h, m.u.payment.order_id, f);
	m.u.payment.invoice = (f & 1) ? 1 + fuzz_in_u8(in) % (h->ninv + 2) : h->ninv;
	due = h->inv_due[m.u.payment.invoice % 64];
	switch ((f >> 1) & 3) {
	case 0:
		m.u.payment.total = due;
		break;
	case 1:
		m.u.payment.total = due - 1;
		break;
	case 2:
		m.u.payment.total = due + fuzz_in_u8(in);
		break;
	default:
		m.u.payment.total = fuzz_in_u64(in, 8);
		break;
	}
	snprintf(m.verification, sizeof(m.verification), "tx-%u", (unsigned)fuzz_in_u8(in));
	if (m.u.payment.invoice <= h->ninv && m.u.payment.invoice > h->inv_named)
		h->inv_named = m.u.payment.invoice;
	send_msg(h, &m, pick_signer(f));
}

static void
op_exit(struct h *h, struct fuzz_in *in)
{
	uint8_t f = fuzz_in_u8(in), g = fuzz_in_u8(in);
	struct sdpp_msg m;
	uint64_t owed = 0;

	memset(&m, 0, sizeof(m));
	m.type = SDPP_T_EXIT;
	put_order_id(h, m.u.exit.order_id, f);
	m.u.exit.seq = pick_seq(h, in, f);
	pick_digest(h, in, m.u.exit.seq, f, m.u.exit.digest);
	if (__builtin_mul_overflow(m.u.exit.seq, h->price, &owed))
		owed = UINT64_MAX;
	switch (g & 3) {
	case 0:
		m.u.exit.total = owed > h->prev.total_paid ? owed : h->prev.total_paid;
		break;
	case 1:
		m.u.exit.total = owed - 1;
		break;
	case 2:
		m.u.exit.total = h->prev.total_paid;
		break;
	default:
		m.u.exit.total = fuzz_in_u64(in, 8);
		break;
	}
	send_msg(h, &m, pick_signer(f));
}

static void
op_error(struct h *h, struct fuzz_in *in)
{
	static const char *const codes[] = { "bad_json", "internal", "over_budget", "x" };
	uint8_t f = fuzz_in_u8(in);
	struct sdpp_msg m;

	memset(&m, 0, sizeof(m));
	m.type = SDPP_T_ERROR;
	snprintf(m.u.error.code, sizeof(m.u.error.code), "%s", codes[f & 3]);
	snprintf(m.u.error.message, sizeof(m.u.error.message), "buyer gives up");
	send_msg(h, &m, pick_signer(f));
}

static void
op_sample(struct h *h, struct fuzz_in *in)
{
	static uint8_t big[SDPP_PAYLOAD_MAX + 1];
	uint8_t f = fuzz_in_u8(in), tl = fuzz_in_u8(in), pl = fuzz_in_u8(in);
	char topic[SDPP_TOPIC_MAX + 2];
	uint8_t payload[512], *pp = payload;
	size_t tlen, plen, i, count = 1 + (f & 7);
	enum sdpp_err e;
	int was;

	/* Topics from the input, as a broker might deliver them (no NUL). */
	tlen = (f & 0x80) ? SDPP_TOPIC_MAX + 1 : tl % 48;
	if (f & 0x40) {
		fuzz_in_fill(in, topic, tlen);
		for (i = 0; i < tlen; i++)
			if (topic[i] == '\0')
				topic[i] = '/';
	} else {
		memset(topic, 't', tlen);
	}
	topic[tlen] = '\0';
	plen = (size_t)pl * 2;
	fuzz_in_fill(in, payload, plen);
	if ((f & 0x38) == 0x38 && tl >= 0xf0) {
		/* The largest payload (its frame must still fit 1 MiB), or one byte more. */
		memset(big, pl, sizeof(big));
		pp = big;
		plen = SDPP_PAYLOAD_MAX + (tl & 1);
		count = 1;
	}
	for (i = 0; i < count; i++) {
		was = h->done;
		e = sdpp_seller_sample(h->s, topic, pp, plen, (int64_t)h->now - 5, h->now, &h->out);
		after(h, e, was);
		pp[0]++;
	}
}

static void
op_tick(struct h *h, struct fuzz_in *in)
{
	uint64_t d = sdpp_seller_deadline(h->s);
	enum sdpp_err e;
	int was = h->done;

	h->now = fuzz_in_time(in, h->now, d);
	e = sdpp_seller_tick(h->s, h->now, &h->out);
	after(h, e, was);
	/* Whatever the tick did, nothing is left overdue. */
	if (!h->done)
		CHECK(sdpp_seller_deadline(h->s) > h->now);
	if (d != UINT64_MAX && h->now < d && !was)
		CHECK(e == SDPP_OK && !h->done); /* nothing happens before the deadline */
	/* Not resumed in time: closed (for that, or something due earlier). */
	if (h->detached && h->now >= h->detached_at + h->cfg.resume_timeout_ms)
		CHECK(h->done);
}

/* The connection drops: the host detaches the order, if it may be held. */
static void
op_detach(struct h *h)
{
	int could = sdpp_seller_resumable(h->s), was = sdpp_seller_detached(h->s);

	sdpp_seller_detach(h->s, h->now);
	CHECK(sdpp_seller_detached(h->s) == (was || could));
	/* Only a streaming or exiting sdpp/2 order, with resume on. */
	if (could)
		CHECK(h->cfg.resume_timeout_ms != 0 && sdpp_seller_version(h->s) == 2 &&
		      h->ordered && !h->done);
	if (!was && could) {
		h->detached = 1;
		h->detached_at = h->now;
	}
}

/*
 * Checks an accepted resume's output: `resumed` saying what the seller
 * holds, then items seq+1.. in order (resends, then new ones) and the
 * invoices after the resume's, each right after the item it was sent after
 * (its `delivered`, or at once if the buyer holds that item), none unpaid
 * left out.
 */
static void
check_resumed(struct h *h, const struct sdpp_resume *r, uint64_t claimed)
{
	const char *p = h->out.buf, *end = p + h->out.len, *nl;
	uint8_t resent[64];
	uint64_t last = r->seq, next_inv = r->invoice + 1, n;
	struct sdpp_msg m;
	int first = 1;

	memset(resent, 0, sizeof(resent));
	CHECK(h->out.len > 0);
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		CHECK(nl != NULL);
		CHECK(
		    sdpp_msg_parse(&m, p, (size_t)(nl - p), SDPP_ROLE_SELLER, NULL, 0) == SDPP_OK);
		if (first) {
			const struct sdpp_resumed *d = &m.u.resumed;

			CHECK(m.type == SDPP_T_RESUMED);
			CHECK(memcmp(d->order_id, h->order_id, SDPP_ORDER_ID_BYTES) == 0);
			CHECK(d->seq == r->seq && d->sent == h->prev.sent);
			CHECK(d->invoice == h->ninv && d->dropped == h->dropped_away);
			CHECK(d->paid == claimed);
			first = 0;
		} else if (m.type == SDPP_T_DATA) {
			CHECK(m.u.data.seq == last + 1);
			last = m.u.data.seq;
		} else if (m.type == SDPP_T_DATA_INVOICE && m.u.invoice.number <= h->ninv) {
			n = m.u.invoice.number;
			CHECK(n >= next_inv && n + 64 > h->ninv);
			CHECK(last ==
			      (m.u.invoice.delivered > r->seq ? m.u.invoice.delivered : r->seq));
			resent[n % 64] = 1;
			next_inv = n + 1;
		} else if (m.type == SDPP_T_EXIT) {
			/* An exit recorded while detached: only its statement,
			 * last (checked by check_statement()). */
			CHECK(h->stopped && nl + 1 == end);
			sdpp_msg_free(&m);
			return;
		} else {
			CHECK(m.type == SDPP_T_DATA_INVOICE);
		}
		sdpp_msg_free(&m);
		p = nl + 1;
	}
	/* What the buyer lacks and has not paid for comes again. */
	for (n = (r->invoice > h->inv_named ? r->invoice : h->inv_named) + 1; n <= h->ninv; n++)
		if (n + 64 > h->ninv && h->inv_due[n % 64] > h->prev.total_paid)
			CHECK(resent[n % 64]);
}

/*
 * A new connection whose first frame is a resume for the order, from the
 * input: a fresh session hands it over (SDPP_EV_RESUME) and the host offers
 * it to ours. Accepted exactly when PROTOCOL.md 15.6 says; a refusal leaves
 * the order as it was. (g & 0x80): the resume goes to our own session
 * instead, as if it were its first frame.
 */
static void
op_resume(struct h *h, struct fuzz_in *in)
{
	uint8_t f = fuzz_in_u8(in), g = fuzz_in_u8(in);
	struct sdpp_msg m;
	struct sdpp_resume *r = &m.u.resume;
	struct sdpp_seller *fs = NULL;
	struct sdpp_out fo;
	struct sdpp_progress before;
	const struct sdpp_identity *signer = pick_signer(f);
	char *frame = NULL, why[SDPP_TEXT_MAX + 1];
	size_t len = 0;
	uint64_t deadline, claimed;
	int ok, was = h->done, detached;
	enum sdpp_err e;

	memset(&m, 0, sizeof(m));
	m.type = SDPP_T_RESUME;
	put_order_id(h, r->order_id, f);
	r->seq = pick_seq(h, in, f);
	pick_digest(h, in, r->seq, f, r->digest);
	r->invoice = (g & 1) ? fuzz_in_u8(in) % (h->ninv + 2) : h->ninv;
	r->attempt = (g & 2) ? fuzz_in_u8(in) : h->last_attempt + 1;
	if (g & 0x80) {
		send_msg(h, &m, signer);
		return;
	}
	m.from = SDPP_ROLE_BUYER;
	if (sdpp_msg_encode(&m, signer, &frame, &len) != SDPP_OK)
		return;
	sdpp_out_init(&fo, 1 << 16);
	CHECK(sdpp_seller_new(&fs, &h->cfg, h->now) == SDPP_OK);
	e = sdpp_seller_input(fs, frame, len - 1, h->now, &fo);
	free(frame);
	if (e != SDPP_OK) {
		/* Not a resume the parser takes (attempt 0, no signature). */
		CHECK(sdpp_seller_done(fs));
		goto out;
	}
	CHECK(fo.nev == 1 && fo.ev[0].type == SDPP_EV_RESUME && fo.len == 0);
	ok = h->ordered && !h->done && sdpp_seller_resumable(h->s) &&
	     memcmp(r->order_id, h->order_id, SDPP_ORDER_ID_BYTES) == 0 && signer == h->buyer &&
	     r->attempt > h->last_attempt && r->seq >= h->prev.acked && r->seq <= h->prev.sent &&
	     r->seq < MAX_ITEMS && memcmp(r->digest, h->chain[r->seq], SDPP_DIGEST_BYTES) == 0 &&
	     r->invoice <= h->ninv;
	sdpp_seller_progress(h->s, &before);
	deadline = sdpp_seller_deadline(h->s);
	detached = sdpp_seller_detached(h->s);
	claimed = h->prev.total_paid;
	h->resuming = 1;
	e = sdpp_seller_resume(h->s, fo.ev[0].msg, h->now, &h->out, why, sizeof(why));
	if (trace)
		fprintf(stderr, "  resume seq %llu attempt %llu: %s (%s)\n",
		    (unsigned long long)r->seq, (unsigned long long)r->attempt, sdpp_strerror(e),
		    why);
	CHECK((e == SDPP_OK) == ok);
	if (e == SDPP_OK) {
		struct sdpp_msg d;
		const char *nl = memchr(h->out.buf, '\n', h->out.len);

		/* paid: at least what is credited (more if being confirmed). */
		CHECK(nl != NULL);
		CHECK(sdpp_msg_parse(&d, h->out.buf, (size_t)(nl - h->out.buf), SDPP_ROLE_SELLER,
		          NULL, 0) == SDPP_OK);
		CHECK(d.type == SDPP_T_RESUMED && d.u.resumed.paid >= claimed);
		claimed = d.u.resumed.paid;
		sdpp_msg_free(&d);
		check_resumed(h, r, claimed);
		if (r->invoice > h->inv_named)
			h->inv_named = r->invoice;
		h->detached = 0;
		h->dropped_away = 0;
		h->last_attempt = r->attempt;
		after(h, SDPP_OK, was);
		CHECK(!sdpp_seller_detached(h->s));
	} else {
		struct sdpp_progress now;

		/* Refused: nothing said here, nothing changed. */
		CHECK(h->out.len == 0 && h->out.nev == 0);
		CHECK(e == SDPP_E_INVAL || why[0] != '\0');
		sdpp_seller_progress(h->s, &now);
		CHECK(memcmp(&now, &before, sizeof(now)) == 0);
		CHECK(sdpp_seller_deadline(h->s) == deadline);
		CHECK(sdpp_seller_detached(h->s) == detached);
		CHECK(sdpp_seller_done(h->s) == was);
		if (e != SDPP_E_INVAL) {
			sdpp_out_clear(&fo);
			CHECK(sdpp_seller_fail(fs, e, why, &fo) == e && fo.len > 0);
		}
	}
	h->resuming = 0;
out:
	sdpp_seller_free(fs);
	sdpp_out_free(&fo);
}

static void
complete(struct h *h, size_t idx, int ok, const char *verification)
{
	uint64_t req = h->pending[idx];
	enum sdpp_err e;
	int was = h->done;

	memmove(h->pending + idx, h->pending + idx + 1, (h->npending - idx - 1) * sizeof(req));
	h->npending--;
	if (sdpp_seller_version(h->s) == 2) {
		/* An sdpp/2 exit needs the log's tree head (set before any
		 * completion: only the exit's uses it). */
		struct sdpp_tree_head th;

		memset(&th, 0, sizeof(th));
		th.size = h->nrec + 1;
		th.time = (int64_t)(h->now & INT64_C(0x1fffffffffffff));
		CHECK(sdpp_tree_head_sign(&th, sid) == SDPP_OK);
		CHECK(sdpp_seller_set_tree_head(h->s, &th) == SDPP_OK);
	}
	e = sdpp_seller_complete(h->s, req, ok, verification, h->now, &h->out);
	if (e == SDPP_OK && ok && req == h->exit_req && h->detached && !was)
		h->exit_kept = 1;
	after(h, e, was);
}

static void
op_complete(struct h *h, struct fuzz_in *in)
{
	uint8_t f = fuzz_in_u8(in);
	char ver[SDPP_VERIFICATION_MAX + 2];
	enum sdpp_err e;
	int was;

	if (h->npending == 0 || (f & 0xc0) == 0xc0) {
		/* A request id the seller never issued, or one already done. */
		was = h->done;
		e = sdpp_seller_complete(h->s, fuzz_in_u64(in, 2), 1, "", h->now, &h->out);
		after(h, e, was);
		return;
	}
	if ((f & 0x30) == 0x30) {
		memset(ver, 'v', sizeof(ver) - 1); /* too long: refused, nothing happens */
		ver[sizeof(ver) - 1] = '\0';
		was = h->done;
		e = sdpp_seller_complete(h->s, h->pending[0], 1, ver, h->now, &h->out);
		CHECK(e == SDPP_E_INVAL || h->done);
		after(h, e, was);
		return;
	}
	snprintf(ver, sizeof(ver), "rec-%llu", (unsigned long long)++h->nrec);
	complete(h, (f & 0x3f) % h->npending, (f & 0x0f) != 0x0f, (f & 0x10) ? NULL : ver);
}

static void
op_complete_all(struct h *h)
{
	char ver[32];
	int rounds = 0;

	/* Oldest first, as a host with a FIFO ledger would. */
	while (h->npending > 0 && rounds++ < 256) {
		snprintf(ver, sizeof(ver), "rec-%llu", (unsigned long long)++h->nrec);
		complete(h, 0, 1, ver);
	}
}

static void
setup(struct h *h, struct fuzz_in *in, struct sdpp_product *prod)
{
	uint8_t b0 = fuzz_in_u8(in), b1 = fuzz_in_u8(in), b2 = fuzz_in_u8(in), b3 = fuzz_in_u8(in),
	        b4 = fuzz_in_u8(in);
	uint64_t k = 1 + b0 % 8, ack_every = 1 + b1 % k;
	int m;

	memset(prod, 0, 2 * NPRODUCTS * sizeof(*prod));
	snprintf(prod[0].id, sizeof(prod[0].id), "co2");
	prod[0].price = 3;
	snprintf(prod[0].unit, sizeof(prod[0].unit), "ppm");
	snprintf(prod[1].id, sizeof(prod[1].id), "free");
	snprintf(prod[2].id, sizeof(prod[2].id), "occupancy");
	prod[2].price = 5;
	prod[2].prepay = 1;
	snprintf(prod[3].id, sizeof(prod[3].id), "big");
	prod[3].price = 1ULL << 62; /* two items overflow 2^64 */
	/* An sdpp/2 menu names each product's topic filter; a buyer refuses
	 * one without (found by fuzz-smoke: the sdpp/2 hello's menu). */
	for (m = 0; m < NPRODUCTS; m++)
		snprintf(prod[m].topic, sizeof(prod[m].topic), "building/%s/#", prod[m].id);
	/* The second menu (after a reload) changes prices. */
	memcpy(prod + NPRODUCTS, prod, NPRODUCTS * sizeof(*prod));
	prod[NPRODUCTS].price = 4;
	prod[NPRODUCTS + 2].prepay = 0;
	for (m = 0; m < 2; m++) {
		struct sdpp_menu *mu = &h->menu[m];

		snprintf(mu->gateway, sizeof(mu->gateway), "fuzz-gw");
		snprintf(mu->currency, sizeof(mu->currency), "nanos");
		snprintf(mu->payment_method, sizeof(mu->payment_method), "voucher");
		snprintf(mu->payment_address, sizeof(mu->payment_address), "seller-addr");
		mu->granularity = k;
		mu->ack_every = ack_every;
		/* Mostly valid; sometimes what the seller refuses as misconfigured. */
		mu->max_unpaid = (b2 & 0x80) ? (b2 & 0x7f) : k * (1 + b2 % 4);
		mu->sign_items = b3 & 1;
		mu->max_frame = SDPP_FRAME_CAP_SESSION;
		mu->nproducts = NPRODUCTS;
		mu->products = prod + m * NPRODUCTS;
	}
	h->cfg.id = sid;
	h->cfg.menu = &h->menu[0];
	h->cfg.window = (b3 >> 1) & 3 ? ack_every * ((b3 >> 1) & 3) : 0;
	h->cfg.queue_max = (b3 >> 3) & 7;
	h->cfg.max_resends = b3 >> 6;
	h->cfg.max_quantity = (b4 & 0x80) ? 1 + (b4 & 31) : 0;
	/* The host signs items and checks the buyer's signatures itself. */
	h->cfg.defer_item_signatures = (b4 & 0x20) != 0;
	/* sdpp/2 (b0 & 0x40), whose orders are held for a resume unless
	 * (b0 & 0x80); an sdpp/1 order never is. */
	h->v2 = (b0 & 0x40) != 0;
	h->cfg.resume_timeout_ms = (b0 & 0x80) ? 0 : 4000;
	if (b4 & 0x40) {
		h->cfg.handshake_timeout_ms = 1000;
		h->cfg.ack_timeout_ms = 100;
		h->cfg.payment_timeout_ms = 2000;
		h->cfg.idle_timeout_ms = 3000;
	}
	h->window = h->cfg.window;
	if (h->window == 0)
		h->window = 2 * ack_every > 8 ? 2 * ack_every : 8;
}

enum op {
	OP_RAW,
	OP_HELLO,
	OP_ORDER,
	OP_ACK,
	OP_PAYMENT,
	OP_EXIT,
	OP_ERROR,
	OP_SAMPLE,
	OP_TICK,
	OP_COMPLETE,
	OP_COMPLETE_ALL,
	OP_SHUTDOWN,
	OP_FAIL,
	OP_SET_MENU,
	OP_DETACH, /* the connection drops */
	OP_RESUME, /* a new connection resumes the order */
	OP__COUNT
};

/*
 * Input: five configuration bytes (granularity/sdpp/2/resume, ack_every,
 * max_unpaid, sign_items/window/queue/resends, max_quantity/timeouts), then operations,
 * one byte each (mod OP__COUNT) followed by that operation's arguments.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	struct sdpp_product prod[2 * NPRODUCTS];
	struct sdpp_msg m;
	const uint8_t *line;
	size_t len;
	struct h h;
	int ops = 0, was;
	enum sdpp_err e;

	memset(&h, 0, sizeof(h));
	setup(&h, &in, prod);
	h.now = 1700000000000ULL;
	h.chain = calloc(MAX_ITEMS, sizeof(*h.chain));
	CHECK(h.chain != NULL);
	sdpp_out_init(&h.out, OUT_MAX);
	CHECK(sdpp_seller_new(&h.s, &h.cfg, h.now) == SDPP_OK);
	CHECK(sdpp_seller_deadline(h.s) ==
	      h.now + (h.cfg.handshake_timeout_ms ? h.cfg.handshake_timeout_ms : 30000));
	while (in.n > 0 && ops++ < MAX_OPS && h.nseen + 8 < MAX_ITEMS) {
		uint8_t op = fuzz_in_u8(&in) % OP__COUNT;

		if (trace)
			fprintf(stderr, "op %d at %llu\n", op, (unsigned long long)h.now);
		switch (op) {
		case OP_RAW:
			line = fuzz_in_line(&in, &len);
			feed(&h, (const char *)line, len);
			break;
		case OP_HELLO:
			memset(&m, 0, sizeof(m));
			m.type = SDPP_T_HELLO;
			if (h.v2)
				snprintf(m.u.hello.version, sizeof(m.u.hello.version), "%s",
				    SDPP_VERSION_2);
			send_msg(&h, &m, NULL);
			break;
		case OP_ORDER:
			op_order(&h, &in);
			break;
		case OP_ACK:
			op_ack(&h, &in);
			break;
		case OP_PAYMENT:
			op_payment(&h, &in);
			break;
		case OP_EXIT:
			op_exit(&h, &in);
			break;
		case OP_ERROR:
			op_error(&h, &in);
			break;
		case OP_SAMPLE:
			op_sample(&h, &in);
			break;
		case OP_TICK:
			op_tick(&h, &in);
			break;
		case OP_COMPLETE:
			op_complete(&h, &in);
			break;
		case OP_COMPLETE_ALL:
			op_complete_all(&h);
			break;
		case OP_SHUTDOWN:
			was = h.done;
			h.stopped = 1;
			e = sdpp_seller_shutdown(h.s, h.now, &h.out);
			after(&h, e, was);
			break;
		case OP_FAIL:
			was = h.done;
			e = sdpp_seller_fail(h.s, SDPP_E_FRAME_TOO_LARGE, NULL, &h.out);
			CHECK(e == SDPP_E_FRAME_TOO_LARGE);
			after(&h, e, was);
			CHECK(h.done);
			break;
		case OP_SET_MENU:
			h.cfg.menu = &h.menu[h.cfg.menu == &h.menu[0]];
			sdpp_seller_set_menu(h.s, h.cfg.menu);
			break;
		case OP_DETACH:
			op_detach(&h);
			break;
		case OP_RESUME:
			op_resume(&h, &in);
			break;
		}
	}
	/* Whatever state it is in, the session frees cleanly (leaks fail the run). */
	sdpp_seller_free(h.s);
	sdpp_aead_free(h.aead);
	sdpp_out_free(&h.out);
	free(h.chain);
	return 0;
}
