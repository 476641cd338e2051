/* Seller bookkeeping: session events become ledger records (orders, invoices, payments, ...). */
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

void
book_flush_receipts(
    struct book *b, const struct book_sink *k, const struct sdpp_seller *s, int64_t now)
{
	struct ledger_record r;
	const uint8_t *oid = sdpp_seller_order_id(s);

	if (b->nacks == 0 || oid == NULL || !b->owns_order)
		goto out;
	/* A receipts record that cannot be built or queued loses nothing the
	 * next one will not hold: that one's ACK covers these items too. */
	if (ledger_record_receipts(&r, oid, sdpp_seller_buyer(s), &b->ack, 1, now) == 0)
		(void)append(k, &r, 0);
out:
	ledger_ack_clear(&b->ack);
	b->nacks = 0;
}

void
book_receipt(struct book *b, const struct book_sink *k, const struct sdpp_seller *s,
    const struct sdpp_event *ev, int64_t now)
{
	struct ledger_ack a;

	/* The latest replaces the one held: it covers every item that did. */
	if (ledger_ack_from_msg(&a, ev->msg) != 0)
		return;
	ledger_ack_clear(&b->ack);
	b->ack = a;
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
	ledger_ack_clear(&b->ack);
	memset(b, 0, sizeof(*b));
}
