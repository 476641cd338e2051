/* The bookkeeping (gateway/book.c): replayed orders, payment references, ACK batches, closes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "gateway/book.h"
#include "tests/common/book_host.h"
#include "tests/common/conv.h"
#include "tests/common/ledger_fixture.h"

static const char HELLO[] =
    "{\"data\":{\"version\":\"sdpp/2\"},\"message_type\":\"hello\",\"signature\":\"\","
    "\"verification\":\"\"}";

struct fixture {
	char dir[64];
	struct conv c;
	struct book_host h;
	struct ledger *l;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	/* K = 100: the seller never invoices during these tests by itself. */
	conv_setup(&f->c, 100, 1, 3);
	f->c.menu.max_unpaid = 200;
	f->l = test_ledger_open(f->dir, sizeof(f->dir), "book", f->c.sid);
	book_host_attach(&f->h, &f->c, f->l);
	conv_start(&f->c);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	int rc;

	book_host_detach(&f->h);
	rc = test_ledger_remove(f->l, f->dir);
	conv_teardown(&f->c);
	free(f);
	return rc;
}

/* The first event of type t in o, or fail. */
static const struct sdpp_event *
event_of(const struct sdpp_out *o, enum sdpp_event_type t)
{
	size_t i;

	for (i = 0; i < o->nev; i++)
		if (o->ev[i].type == t)
			return &o->ev[i];
	fail_msg("no event %d", t);
	return NULL;
}

/* An order replayed on another connection is refused, and nothing is
 * recorded under the id it names: the real order keeps its one close. */
static void
test_replayed_order(void **state)
{
	struct fixture *f = *state;
	struct conv *c = &f->c;
	struct sdpp_seller *s2;
	struct sdpp_out o;
	struct book b2;
	char order[MAXF];
	size_t olen;
	enum sdpp_err code = SDPP_OK;
	const char *why = NULL;

	assert_int_equal(sdpp_buyer_order(c->b, "co2", 2, c->now, &c->bo), SDPP_OK);
	assert_true(c->bo.len > 1 && c->bo.len <= sizeof(order));
	olen = c->bo.len - 1; /* without the newline */
	memcpy(order, c->bo.buf, olen);
	buyer_drain(c);
	pump(c);
	assert_int_equal(f->h.appended[LEDGER_ORDER], 1);

	/* Another connection sends the captured frame. */
	sdpp_out_init(&o, 1 << 20);
	assert_int_equal(sdpp_seller_new(&s2, &c->scfg, c->now), SDPP_OK);
	assert_int_equal(sdpp_seller_input(s2, HELLO, strlen(HELLO), c->now, &o), SDPP_OK);
	sdpp_out_clear(&o);
	assert_int_equal(sdpp_seller_input(s2, order, olen, c->now, &o), SDPP_OK);
	memset(&b2, 0, sizeof(b2));
	assert_int_equal(
	    book_order(&b2, &f->h.sink, s2, event_of(&o, SDPP_EV_ORDER), 5, &code, &why),
	    BOOK_REFUSED);
	assert_int_equal(code, SDPP_E_ORDER_ID);
	assert_string_equal(why, "order already placed");
	book_close(&b2, &f->h.sink, s2, "bad_order_id", 6);
	assert_int_equal(f->h.appended[LEDGER_ORDER], 1);
	assert_int_equal(f->h.appended[LEDGER_CLOSE], 0);
	book_clear(&b2);
	sdpp_seller_free(s2);
	sdpp_out_free(&o);

	/* The real session's close is recorded, once. */
	book_close(&f->h.book, &f->h.sink, c->s, "disconnected", 7);
	book_close(&f->h.book, &f->h.sink, c->s, "disconnected", 8);
	assert_int_equal(f->h.appended[LEDGER_CLOSE], 1);
}

/* Only the latest ACK is kept: a receipts record every BOOK_ACKS_MAX ACKs
 * and before the invoice or the close, each holding one ACK, the latest,
 * which covers every item before it. */
static void
test_ack_batches(void **state)
{
	struct fixture *f = *state;
	struct conv *c = &f->c;
	int i;

	conv_order(c, "co2", 0);
	for (i = 1; i <= BOOK_ACKS_MAX - 1; i++)
		conv_sample(c, i);
	assert_int_equal(c->items, BOOK_ACKS_MAX - 1);
	assert_int_equal(f->h.appended[LEDGER_RECEIPTS], 0);
	conv_sample(c, BOOK_ACKS_MAX);
	assert_int_equal(f->h.appended[LEDGER_RECEIPTS], 1);
	assert_int_equal(f->h.book.nacks, 0);
	assert_null(f->h.book.ack->message); /* nothing held after a record */
	for (i = 1; i <= 3; i++)
		conv_sample(c, BOOK_ACKS_MAX + i);
	assert_int_equal(f->h.book.nacks, 3);
	assert_int_equal(f->h.book.ack->seq, 67); /* the latest */
	assert_null(f->h.book.ack->message);      /* held as numbers */
	book_close(&f->h.book, &f->h.sink, c->s, "disconnected", 9);
	assert_int_equal(f->h.appended[LEDGER_RECEIPTS], 2);
	assert_int_equal(f->h.appended[LEDGER_CLOSE], 1);
	/* One stored ACK per receipts record, not one per item. */
	{
		struct ledger_verify_report rep;

		memset(&rep, 0, sizeof(rep));
		assert_int_equal(ledger_verify(f->l, NULL, &rep), 0);
		assert_int_equal(rep.acks, 2);
	}
}

/* A payment_ack of the conversation's order, signed by its buyer, as the
 * seller would have parsed it (free with sdpp_msg_free). */
static void
signed_payment(struct conv *c, uint64_t total, const char *ref, struct sdpp_msg *out)
{
	struct sdpp_msg m;
	char *frame = NULL, err[128];
	size_t len = 0;

	memset(&m, 0, sizeof(m));
	m.type = SDPP_T_PAYMENT_ACK;
	m.from = SDPP_ROLE_BUYER;
	memcpy(m.u.payment.order_id, sdpp_seller_order_id(c->s), SDPP_ORDER_ID_BYTES);
	m.u.payment.invoice = 1;
	m.u.payment.total = total;
	snprintf(m.verification, sizeof(m.verification), "%s", ref);
	assert_int_equal(sdpp_msg_encode(&m, c->bid, &frame, &len), SDPP_OK);
	assert_int_equal(
	    sdpp_msg_parse(out, frame, len - 1, SDPP_ROLE_BUYER, err, sizeof(err)), SDPP_OK);
	free(frame);
}

/* A payment reference (a transaction digest) pays once; vouchers carry
 * none and are recorded each time. */
static void
test_payment_reference_once(void **state)
{
	static const char ref[] = "4wBqpZM9xaSheZzJSMawUKKwhdpChKbZ5eu5ky4Vigw";
	struct fixture *f = *state;
	struct conv *c = &f->c;
	struct sdpp_msg m;

	conv_order(c, "co2", 0);
	assert_int_equal(book_payment_ref_used(f->l, ref), 0);
	signed_payment(c, 3, ref, &m);
	assert_int_equal(book_payment(&f->h.book, &f->h.sink, c->s, &m, "iota", 0, 10), BOOK_OK);
	sdpp_msg_free(&m);
	assert_int_equal(book_payment_ref_used(f->l, ref), 1);
	/* The same transaction offered again, for a higher total. */
	signed_payment(c, 6, ref, &m);
	assert_int_equal(
	    book_payment(&f->h.book, &f->h.sink, c->s, &m, "iota", 0, 11), BOOK_REFUSED);
	sdpp_msg_free(&m);
	assert_int_equal(f->h.appended[LEDGER_PAYMENT], 1);
	signed_payment(c, 6, "", &m);
	assert_int_equal(book_payment(&f->h.book, &f->h.sink, c->s, &m, "voucher", 0, 12), BOOK_OK);
	assert_int_equal(book_payment(&f->h.book, &f->h.sink, c->s, &m, "voucher", 0, 13), BOOK_OK);
	sdpp_msg_free(&m);
	assert_int_equal(f->h.appended[LEDGER_PAYMENT], 3);
}

/* An ACK whose signed bytes are not spelled as the buyer library spells
 * them (here a verification note, which the library never writes) is held
 * as those bytes, and its receipts record carries them: its signature
 * still verifies. */
static void
test_ack_other_spelling(void **state)
{
	struct fixture *f = *state;
	struct conv *c = &f->c;
	struct sdpp_event ev;
	struct sdpp_msg m, in;
	struct ledger_verify_report rep;
	char *frame = NULL, err[128], db[96];
	size_t len = 0;

	conv_order(c, "co2", 0);
	conv_sample(c, 1);
	assert_int_equal(f->h.book.nacks, 1);
	memset(&m, 0, sizeof(m));
	m.type = SDPP_T_ACK;
	m.from = SDPP_ROLE_BUYER;
	memcpy(m.u.ack.order_id, sdpp_seller_order_id(c->s), SDPP_ORDER_ID_BYTES);
	m.u.ack.seq = f->h.book.ack->seq;
	memcpy(m.u.ack.digest, f->h.book.ack->digest, SDPP_DIGEST_BYTES);
	snprintf(m.verification, sizeof(m.verification), "note");
	assert_int_equal(sdpp_msg_encode(&m, c->bid, &frame, &len), SDPP_OK);
	assert_int_equal(
	    sdpp_msg_parse(&in, frame, len - 1, SDPP_ROLE_BUYER, err, sizeof(err)), SDPP_OK);
	free(frame);
	memset(&ev, 0, sizeof(ev));
	ev.type = SDPP_EV_RECEIPT;
	ev.msg = &in;
	book_receipt(&f->h.book, &f->h.sink, c->s, &ev, 8);
	assert_int_equal(f->h.book.nacks, 2);
	assert_non_null(f->h.book.ack->message);
	assert_string_equal(f->h.book.ack->message, in.signed_bytes + SDPP_SIG_CONTEXT_LEN);
	sdpp_msg_free(&in);
	book_close(&f->h.book, &f->h.sink, c->s, "disconnected", 9);
	assert_int_equal(f->h.appended[LEDGER_RECEIPTS], 1);
	snprintf(db, sizeof(db), "%s/ledger.db", f->dir);
	assert_int_equal(test_sql_int(db, "SELECT count(*) FROM acks WHERE message LIKE"
	                                  " '%\"verification\":\"note\"}'"),
	    1);
	memset(&rep, 0, sizeof(rep));
	assert_int_equal(ledger_verify(f->l, NULL, &rep), 0);
	assert_int_equal(rep.acks, 1);
}

static void
test_close_reasons(void **state)
{
	static const struct {
		enum sdpp_err err;
		uint64_t due, paid;
		const char *want;
	} t[] = {
		{ SDPP_OK, 12, 12, "settled" },
		{ SDPP_OK, 12, 20, "settled" },
		{ SDPP_OK, 12, 8, "exit_owes" },
		{ SDPP_OK, 0, 0, "settled" },
		{ SDPP_E_PAYMENT_TIMEOUT, 12, 0, "payment_timeout" },
		{ SDPP_E_SHUTDOWN, 12, 12, "shutting_down" },
		{ SDPP_E_ORDER_ID, 0, 0, "bad_order_id" },
	};
	struct sdpp_progress p;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		memset(&p, 0, sizeof(p));
		p.total_due = t[i].due;
		p.total_paid = t[i].paid;
		assert_string_equal(book_close_reason(t[i].err, &p), t[i].want);
	}
}

/* A session that ends before its order is recorded writes no close. */
static void
test_no_close_without_order(void **state)
{
	struct fixture *f = *state;

	book_close(&f->h.book, &f->h.sink, f->c.s, "handshake_timeout", 5);
	assert_int_equal(f->h.appended[LEDGER_CLOSE], 0);
	assert_int_equal(f->h.commits, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_replayed_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ack_batches, setup, teardown),
		cmocka_unit_test_setup_teardown(test_payment_reference_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ack_other_spelling, setup, teardown),
		cmocka_unit_test(test_close_reasons),
		cmocka_unit_test_setup_teardown(test_no_close_without_order, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
