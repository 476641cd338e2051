/* Seller bookkeeping: what one session's events become in the ledger, with no I/O of its own. */
#ifndef GATEWAY_BOOK_H
#define GATEWAY_BOOK_H

#include <stddef.h>
#include <stdint.h>

#include "ledger/ledger.h"
#include "sdpp/session.h"

/*
 * The rules live here once, for the daemon and the tests alike:
 *  - an order whose id is already recorded is a replay: refused, and
 *    nothing is ever recorded under an id the session does not own;
 *  - of the ACKs, only the latest is kept: an ACK covers every item up to
 *    its seq under the receipt chain it signs, so an earlier one proves
 *    nothing the latest does not (PROTOCOL 6.2, OPERATIONS "The ledger").
 *    It becomes a receipts record before every invoice, exit and close
 *    (the block an invoice bills is acknowledged in the log before the
 *    invoice), and every BOOK_ACKS_MAX ACKs, so a crash loses little;
 *  - a payment reference (a transaction digest) pays once;
 *  - a session's close is recorded once, with a reason from the error or
 *    the money (settled, exit_owes).
 * Records go to a sink: the daemon's appends them for the next group
 * commit and completes the session's request after it, a test's commits
 * at once. The ledger is only read here (orders and references seen).
 */

/* ACKs received between two receipts records at most: the latest then
 * becomes one, though no invoice, exit or close came. */
#define BOOK_ACKS_MAX 64

struct book_sink {
	/* Appends r (taking its contents: it is cleared either way). req != 0:
	 * the session's request req waits for the record to be durable, and
	 * the sink completes it. Returns 0, or -1 if the record could not be
	 * queued (the request has then not been completed). */
	int (*append)(void *ctx, struct ledger_record *r, uint64_t req);
	void *ctx;
	struct ledger *ledger;
};

/* An ACK as the book holds it until its receipts record: binary, with the
 * signed message spelled again when the record is built (book.c), or, for
 * an ACK whose signed bytes are not spelled that way, those bytes. */
struct book_ack {
	uint64_t seq;
	uint8_t digest[SDPP_DIGEST_BYTES];
	uint8_t signature[SDPP_SIGN_BYTES];
	char *message; /* NULL, or the signed message as received (malloc'd) */
};

/* One session's bookkeeping state. Zeroed to start; book_clear() frees. */
struct book {
	int owns_order; /* the order record is this session's */
	int closed;     /* the close is recorded (or was never ours to record) */
	/* The latest ACK not yet in a receipts record (when nacks > 0);
	 * allocated at the first ACK and kept for the next. */
	struct book_ack *ack;
	size_t nacks; /* ACKs received since the last receipts record */
};

enum book_result {
	BOOK_OK = 0,
	BOOK_REFUSED = 1, /* *code and *why say what to answer the buyer */
	BOOK_FAILED = -1, /* could not be recorded: fail the request */
};

/*
 * SDPP_EV_ORDER: a replay of an order id already recorded is refused with
 * bad_order_id ("order already placed"); otherwise the order is recorded
 * and ev->req waits for it.
 */
enum book_result book_order(struct book *b, const struct book_sink *k, const struct sdpp_seller *s,
    const struct sdpp_event *ev, int64_t now, enum sdpp_err *code, const char **why)
    __attribute__((warn_unused_result));
/* SDPP_EV_INVOICE: receipts first, then the invoice; ev->req waits for it. */
enum book_result book_invoice(struct book *b, const struct book_sink *k,
    const struct sdpp_seller *s, const struct sdpp_event *ev, int64_t now)
    __attribute__((warn_unused_result));
/* SDPP_EV_EXIT: receipts first, then the exit; ev->req waits for it. */
enum book_result book_exit(struct book *b, const struct book_sink *k, const struct sdpp_seller *s,
    const struct sdpp_event *ev, int64_t now) __attribute__((warn_unused_result));
/* SDPP_EV_RECEIPT: held as the latest; every BOOK_ACKS_MAX-th becomes a
 * receipts record. */
void book_receipt(struct book *b, const struct book_sink *k, const struct sdpp_seller *s,
    const struct sdpp_event *ev, int64_t now);

/* A buyer's accepted resume (SDPP_EV_REJOINED: its signed receipt for
 * 1..seq on a new connection) joins the log at once, after the receipts
 * held so far. */
enum book_result book_resume(struct book *b, const struct book_sink *k, const struct sdpp_seller *s,
    const struct sdpp_event *ev, int64_t now);
/* Writes the latest ACK held as a receipts record (nothing if none). */
void book_flush_receipts(
    struct book *b, const struct book_sink *k, const struct sdpp_seller *s, int64_t now);

/* 1 if a payment reference (transaction digest) has already paid, or is
 * queued to; 0 if fresh; -1 if it cannot be told (too long). */
int book_payment_ref_used(struct ledger *l, const char *ref);
/*
 * A payment the backend confirmed: recorded (method names the backend);
 * request req (0: none) waits for the record's commit, so the credit is
 * given only once the payment is durable. A reference that already paid
 * is refused (BOOK_REFUSED): one transfer never pays twice.
 */
enum book_result book_payment(struct book *b, const struct book_sink *k,
    const struct sdpp_seller *s, const struct sdpp_msg *payment, const char *method, uint64_t req,
    int64_t now) __attribute__((warn_unused_result));

/* Why the session ended: the error's code, or with none, settled (all
 * paid) or exit_owes (the buyer's signed exit promises the rest). */
const char *book_close_reason(enum sdpp_err err, const struct sdpp_progress *p);
/* Records the close once, receipts first; nothing for a session that never
 * owned an order (a refused replay must not relabel the real order). */
void book_close(struct book *b, const struct book_sink *k, const struct sdpp_seller *s,
    const char *reason, int64_t now);

/*
 * For hosts that confirm payments at once (tests, tools): dispatches one
 * seller event to the functions above. PAYMENT is recorded as confirmed by
 * method; events that are not the book's are ignored (BOOK_OK).
 */
enum book_result book_event(struct book *b, const struct book_sink *k, const struct sdpp_seller *s,
    const struct sdpp_event *ev, const char *method, int64_t now, enum sdpp_err *code,
    const char **why) __attribute__((warn_unused_result));

void book_clear(struct book *b);

#endif
