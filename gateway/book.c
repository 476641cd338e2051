/* Seller bookkeeping: session events become ledger records (orders, invoices, payments, ...). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/book.h"
#include "sdpp/enc.h"

static int
append(const struct book_sink *k, struct ledger_record *r, uint64_t req)
{
	return k->append(k->ctx, r, req);
}

enum book_result
book_order(struct book *b, const struct book_sink *k, const struct sdpp_seller *s,
    const struct sdpp_event *ev, int64_t now, enum sdpp_err *code, const char **why)
{
	struct ledger_record r;
	const uint8_t *oid = sdpp_seller_order_id(s);
	char hex[SDPP_HEX_LEN(SDPP_ORDER_ID_BYTES)];

	sdpp_hex_encode(hex, oid, SDPP_ORDER_ID_BYTES);
	/* The session machine forgets across connections; the log does not.
	 * A replayed order would be sold (and billed) twice. */
	if (ledger_has_order(k->ledger, hex) != 0) {
		*code = SDPP_E_ORDER_ID;
		*why = "order already placed";
		return BOOK_REFUSED;
	}
	if (ledger_record_order(&r, ev->msg, oid, sdpp_seller_product(s), now) != 0 ||
	    append(k, &r, ev->req) != 0)
		return BOOK_FAILED;
	b->owns_order = 1;
	return BOOK_OK;
}

/* Room for an ACK's signed message as ack_message() spells it (~225). */
#define BOOK_ACK_MESSAGE_MAX 256

/* An ACK's signed message (its signature input without the context) as
 * the buyer library spells it: the JCS of its envelope without the
 * signature, keys sorted, nothing else in it (PROTOCOL, the ACK examples).
 * -1 if it does not fit. */
static int
ack_message(
    char *out, size_t cap, const uint8_t order_id[SDPP_ORDER_ID_BYTES], const struct book_ack *a)
{
	char digest[SDPP_HEX_LEN(SDPP_DIGEST_BYTES)], oid[SDPP_HEX_LEN(SDPP_ORDER_ID_BYTES)];
	int n;

	sdpp_hex_encode(digest, a->digest, sizeof(a->digest));
	sdpp_hex_encode(oid, order_id, SDPP_ORDER_ID_BYTES);
	n = snprintf(out, cap,
	    "{\"data\":{\"digest\":\"%s\",\"order_id\":\"%s\",\"seq\":%llu},"
	    "\"message_type\":\"ack\",\"verification\":\"\"}",
	    digest, oid, (unsigned long long)a->seq);
	return n > 0 && (size_t)n < cap ? 0 : -1;
}

void
book_flush_receipts(
    struct book *b, const struct book_sink *k, const struct sdpp_seller *s, int64_t now)
{
	struct ledger_record r;
	struct ledger_ack a;
	char msg[BOOK_ACK_MESSAGE_MAX], sig[SDPP_B64_LEN(SDPP_SIGN_BYTES)];
	const uint8_t *oid = sdpp_seller_order_id(s);

	if (b->nacks == 0 || oid == NULL || !b->owns_order)
		goto out;
	a.seq = b->ack->seq;
	a.message = b->ack->message;
	if (a.message == NULL) {
		if (ack_message(msg, sizeof(msg), oid, b->ack) != 0)
			goto out;
		a.message = msg;
	}
	sdpp_b64_encode(sig, b->ack->signature, SDPP_SIGN_BYTES);
	a.signature = sig;
	/* A receipts record that cannot be built or queued loses nothing the
	 * next one will not hold: that one's ACK covers these items too. The
	 * ledger copies the ACK it is given. */
	if (ledger_record_receipts(&r, oid, sdpp_seller_buyer(s), &a, 1, now) == 0)
		(void)append(k, &r, 0);
out:
	if (b->ack != NULL) {
		free(b->ack->message);
		b->ack->message = NULL;
	}
	b->nacks = 0;
}

void
book_receipt(struct book *b, const struct book_sink *k, const struct sdpp_seller *s,
    const struct sdpp_event *ev, int64_t now)
{
	const struct sdpp_msg *m = ev->msg;
	const uint8_t *oid = sdpp_seller_order_id(s);
	const char *received;
	char spelled[BOOK_ACK_MESSAGE_MAX], *text = NULL;
	struct book_ack n, *a = b->ack;

	if (m->type != SDPP_T_ACK || !m->signed_ || m->signed_bytes == NULL)
		return;
	if (a == NULL) {
		a = calloc(1, sizeof(*a));
		if (a == NULL)
			return;
		b->ack = a;
	}
	/* The latest replaces the one held: it covers every item that did.
	 * Kept as numbers when they spell its signed bytes again (the buyer
	 * library's ACKs: 112 bytes, reused for the next ACK, instead of ~300
	 * in two strings per ACK), else as text; either way the receipts
	 * record gets the very bytes signed. */
	received = m->signed_bytes + SDPP_SIG_CONTEXT_LEN;
	memset(&n, 0, sizeof(n));
	n.seq = m->u.ack.seq;
	memcpy(n.digest, m->u.ack.digest, sizeof(n.digest));
	memcpy(n.signature, m->signature, sizeof(n.signature));
	if (oid == NULL || ack_message(spelled, sizeof(spelled), oid, &n) != 0 ||
	    strcmp(spelled, received) != 0) {
		text = strdup(received);
		if (text == NULL)
			return;
	}
	free(a->message);
	*a = n;
	a->message = text;
	if (++b->nacks == BOOK_ACKS_MAX)
		book_flush_receipts(b, k, s, now);
}

enum book_result
book_invoice(struct book *b, const struct book_sink *k, const struct sdpp_seller *s,
    const struct sdpp_event *ev, int64_t now)
{
	struct ledger_record r;

	book_flush_receipts(b, k, s, now);
	if (ledger_record_invoice(&r, ev->invoice, sdpp_seller_buyer(s), now) != 0 ||
	    append(k, &r, ev->req) != 0)
		return BOOK_FAILED;
	return BOOK_OK;
}

enum book_result
book_resume(struct book *b, const struct book_sink *k, const struct sdpp_seller *s,
    const struct sdpp_event *ev, int64_t now)
{
	struct ledger_record r;

	book_flush_receipts(b, k, s, now);
	if (ledger_record_resume(&r, ev->msg, sdpp_seller_buyer(s), now) != 0 ||
	    append(k, &r, 0) != 0)
		return BOOK_FAILED;
	return BOOK_OK;
}

enum book_result
book_exit(struct book *b, const struct book_sink *k, const struct sdpp_seller *s,
    const struct sdpp_event *ev, int64_t now)
{
	struct ledger_record r;

	book_flush_receipts(b, k, s, now);
	if (ledger_record_exit(&r, ev->msg, sdpp_seller_buyer(s), now) != 0 ||
	    append(k, &r, ev->req) != 0)
		return BOOK_FAILED;
	return BOOK_OK;
}

int
book_payment_ref_used(struct ledger *l, const char *ref)
{
	return ledger_has_payment_ref(l, ref);
}

enum book_result
book_payment(struct book *b, const struct book_sink *k, const struct sdpp_seller *s,
    const struct sdpp_msg *payment, const char *method, uint64_t req, int64_t now)
{
	struct ledger_record r;

	(void)b;
	/* Vouchers carry no reference; a transfer's digest pays once. The
	 * backend checks first, this is the last word before the record. */
	if (payment->verification[0] != '\0' &&
	    book_payment_ref_used(k->ledger, payment->verification) != 0)
		return BOOK_REFUSED;
	if (ledger_record_payment(&r, payment, sdpp_seller_buyer(s), method, now) != 0 ||
	    append(k, &r, req) != 0)
		return BOOK_FAILED;
	return BOOK_OK;
}

const char *
book_close_reason(enum sdpp_err err, const struct sdpp_progress *p)
{
	/* Local: the order waited for its buyer to come back, in vain. */
	if (err == SDPP_E_RESUME_TIMEOUT)
		return "resume_timeout";
	if (err != SDPP_OK)
		return sdpp_err_code(err);
	/* A clean end with money still owed: the buyer's signed exit promises
	 * the rest (ledger payments cover whole invoices only). */
	return p->total_paid >= p->total_due ? "settled" : "exit_owes";
}

void
book_close(struct book *b, const struct book_sink *k, const struct sdpp_seller *s,
    const char *reason, int64_t now)
{
	struct ledger_record r;
	struct sdpp_progress p;
	const uint8_t *oid = sdpp_seller_order_id(s);

	if (b->closed)
		return;
	b->closed = 1;
	if (oid == NULL || !b->owns_order)
		return;
	book_flush_receipts(b, k, s, now);
	sdpp_seller_progress(s, &p);
	if (ledger_record_close(
	        &r, oid, sdpp_seller_buyer(s), sdpp_seller_product(s), &p, reason, now) == 0)
		(void)append(k, &r, 0);
}

enum book_result
book_event(struct book *b, const struct book_sink *k, const struct sdpp_seller *s,
    const struct sdpp_event *ev, const char *method, int64_t now, enum sdpp_err *code,
    const char **why)
{
	struct sdpp_progress p;

	switch (ev->type) {
	case SDPP_EV_ORDER:
		return book_order(b, k, s, ev, now, code, why);
	case SDPP_EV_INVOICE:
		return book_invoice(b, k, s, ev, now);
	case SDPP_EV_EXIT:
		return book_exit(b, k, s, ev, now);
	case SDPP_EV_RECEIPT:
		book_receipt(b, k, s, ev, now);
		return BOOK_OK;
	case SDPP_EV_PAYMENT:
		return book_payment(b, k, s, ev->msg, method, ev->req, now);
	case SDPP_EV_CLOSE:
		sdpp_seller_progress(s, &p);
		book_close(b, k, s, book_close_reason(ev->err, &p), now);
		return BOOK_OK;
	default:
		return BOOK_OK;
	}
}

void
book_clear(struct book *b)
{
	if (b->ack != NULL)
		free(b->ack->message);
	free(b->ack);
	memset(b, 0, sizeof(*b));
}
