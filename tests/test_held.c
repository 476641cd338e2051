/* Held records: an open order's latest invoice, payment and receipts, checkpointed into the log. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ledger/ledger.h"
#include "ledger/ledger_int.h"
#include "tests/common/book_host.h"
#include "tests/common/conv.h"
#include "tests/common/ledger_fixture.h"

#define CHECKPOINT_MS 60000

struct fixture {
	char dir[64];
	char db[128];
	struct ledger_config cfg;
	struct ledger *l;
	struct conv c;
	struct book_host g;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char err[LEDGER_ERR_MAX];

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/sdpp-held-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->db, sizeof(f->db), "%s/ledger.db", f->dir);
	conv_setup(&f->c, 4, 1, 3);
	f->cfg.path = f->db;
	f->cfg.id = f->c.sid;
	f->cfg.checkpoint_ms = CHECKPOINT_MS;
	if (ledger_open(&f->l, &f->cfg, err, sizeof(err)) != 0)
		fail_msg("open: %s", err);
	book_host_attach(&f->g, &f->c, f->l);
	conv_start(&f->c);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	int rc;

	book_host_detach(&f->g);
	rc = test_ledger_remove(f->l, f->dir);
	conv_teardown(&f->c);
	free(f);
	return rc;
}

static long long
count_kind(const struct fixture *f, const char *kind)
{
	char sql[128];

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM records WHERE kind = '%s'", kind);
	return test_sql_int(f->db, sql);
}

static int
account_cb(void *ctx, const struct ledger_account *a)
{
	*(struct ledger_account *)ctx = *a;
	return 0;
}

static void
account(struct fixture *f, struct ledger_account *a)
{
	char err[LEDGER_ERR_MAX];

	memset(a, 0, sizeof(*a));
	if (ledger_accounts(f->l, NULL, NULL, account_cb, a, err, sizeof(err)) != 0)
		fail_msg("accounts: %s", err);
}

static void
verifies(struct fixture *f)
{
	struct ledger_verify_report rep;

	if (test_ledger_verify_file(f->db, NULL, &rep) != 0)
		fail_msg("verify: %s", rep.problem);
}

/* A whole purchase (12 items, K = 4): three invoices, three payments and
 * twelve ACKs reach the log as one record each, at the exit, and what they
 * prove is what the per-block records proved. */
static void
test_purchase(void **state)
{
	struct fixture *f = *state;
	struct ledger_account a;
	int i;

	conv_order(&f->c, "co2", 12);
	for (i = 1; i <= 12; i++)
		conv_sample(&f->c, i);
	assert_int_equal(f->c.statements, 1);
	assert_int_equal(count_kind(f, "order"), 1);
	assert_int_equal(count_kind(f, "invoice"), 1);
	assert_int_equal(count_kind(f, "payment"), 1);
	assert_int_equal(count_kind(f, "receipts"), 1);
	assert_int_equal(count_kind(f, "exit"), 1);
	assert_int_equal(test_sql_int(f->db, "SELECT count(*) FROM held"), 0);
	/* The invoices merged: 1..3, items 1..12, 36 nanos. */
	assert_int_equal(
	    test_sql_int(f->db, "SELECT json_extract(body, '$.detail.first_invoice') FROM records"
	                        " WHERE kind = 'invoice'"),
	    1);
	assert_int_equal(
	    test_sql_int(f->db, "SELECT invoice FROM records WHERE kind = 'invoice'"), 3);
	assert_int_equal(
	    test_sql_int(f->db, "SELECT json_extract(body, '$.detail.first_seq') FROM records"
	                        " WHERE kind = 'invoice'"),
	    1);
	assert_int_equal(test_sql_int(f->db,
	                     "SELECT CAST(amount AS INTEGER) FROM records WHERE kind = 'invoice'"),
	    36);
	/* The held records precede the exit. */
	assert_true(
	    test_sql_int(f->db, "SELECT max(id) FROM records WHERE kind IN ('invoice', 'payment',"
	                        " 'receipts')") <
	    test_sql_int(f->db, "SELECT id FROM records WHERE kind = 'exit'"));
	account(f, &a);
	assert_true(a.invoices == 3 && a.invoiced_items == 12 && a.invoiced == 36);
	assert_true(a.acknowledged == 12 && a.paid == 36 && a.owed == 0 && a.exited);
	verifies(f);
}

/* The gateway dies mid-order: what it held survives in the file, and the
 * next start puts it into the log before it closes the order as
 * interrupted, with the same totals the per-block records gave. */
static void
test_crash(void **state)
{
	struct fixture *f = *state;
	struct ledger_account a;
	char err[LEDGER_ERR_MAX];
	int i;

	conv_order(&f->c, "co2", 10);
	for (i = 1; i <= 6; i++)
		conv_sample(&f->c, i);
	assert_int_equal(count_kind(f, "invoice"), 0);
	assert_int_equal(test_sql_int(f->db, "SELECT count(*) FROM held"), 3);
	book_host_detach(&f->g);
	ledger_close(f->l); /* died: no close, no checkpoint */
	f->l = NULL;
	/* An auditor's view meanwhile counts what is held. */
	if (ledger_open_ro(&f->l, f->db, err, sizeof(err)) != 0)
		fail_msg("open_ro: %s", err);
	account(f, &a);
	assert_true(a.held == 3 && a.invoiced == 12 && a.paid == 12 && a.acknowledged == 3);
	ledger_close(f->l);
	f->l = NULL;
	if (ledger_open(&f->l, &f->cfg, err, sizeof(err)) != 0)
		fail_msg("reopen: %s", err);
	book_host_attach(&f->g, &f->c, f->l);
	assert_true(ledger_interrupted(f->l) == 1);
	assert_int_equal(test_sql_int(f->db, "SELECT count(*) FROM held"), 0);
	assert_int_equal(count_kind(f, "invoice"), 1);
	account(f, &a);
	assert_string_equal(a.reason, "interrupted");
	/* Item 4's ACK came after the invoice: the receipts prove 1-3. */
	assert_true(a.acknowledged == 3 && a.invoiced_items == 4 && a.invoiced == 12);
	assert_true(a.paid == 12 && a.owed == 0);
	verifies(f);
}

/* checkpoint_ms after the first was held, an order's records join the
 * log while it runs; the next checkpoint's invoices follow on. */
static void
test_due(void **state)
{
	struct fixture *f = *state;
	char err[LEDGER_ERR_MAX];
	int i;

	conv_order(&f->c, "co2", 12);
	for (i = 1; i <= 6; i++)
		conv_sample(&f->c, i);
	assert_int_equal(ledger_checkpoint(f->l, (int64_t)f->c.now, err, sizeof(err)), 0);
	assert_int_equal(
	    ledger_checkpoint(f->l, (int64_t)f->c.now + CHECKPOINT_MS, err, sizeof(err)), 1);
	assert_int_equal(ledger_commit(f->l, 2, err, sizeof(err)), 0);
	assert_int_equal(count_kind(f, "invoice"), 1);
	assert_int_equal(count_kind(f, "payment"), 1);
	assert_int_equal(test_sql_int(f->db, "SELECT count(*) FROM held"), 0);
	assert_int_equal(
	    test_sql_int(f->db, "SELECT json_extract(body, '$.detail.first_invoice') FROM records"
	                        " WHERE kind = 'invoice'"),
	    -1);
	for (i = 7; i <= 12; i++)
		conv_sample(&f->c, i);
	assert_int_equal(f->c.statements, 1);
	/* Invoices 2 and 3 (items 5..12) follow invoice 1 (items 1..4). */
	assert_int_equal(count_kind(f, "invoice"), 2);
	assert_int_equal(
	    test_sql_int(f->db, "SELECT json_extract(body, '$.detail.first_invoice') FROM records"
	                        " WHERE kind = 'invoice' ORDER BY id DESC LIMIT 1"),
	    2);
	assert_int_equal(
	    test_sql_int(f->db, "SELECT json_extract(body, '$.detail.first_seq') FROM records"
	                        " WHERE kind = 'invoice' ORDER BY id DESC LIMIT 1"),
	    5);
	verifies(f);
}

/* Fail closed: a commit that cannot write the held table undoes what it
 * carried; the next checkpoint writes the durable state, not the lost one. */
static void
test_failed_commit(void **state)
{
	struct fixture *f = *state;
	struct sdpp_invoice inv;
	struct ledger_record r;
	char err[LEDGER_ERR_MAX];
	uint64_t id;
	int i;

	conv_order(&f->c, "co2", 10);
	for (i = 1; i <= 4; i++)
		conv_sample(&f->c, i);
	assert_int_equal(test_sql_int(f->db, "SELECT invoice FROM held WHERE kind = 'invoice'"), 1);
	test_sql_exec(f->db,
	    "CREATE TRIGGER full BEFORE INSERT ON held BEGIN SELECT RAISE(ABORT, 'disk full');"
	    " END;");
	memset(&inv, 0, sizeof(inv));
	memcpy(inv.order_id, sdpp_seller_order_id(f->c.s), sizeof(inv.order_id));
	inv.number = 2;
	inv.first_seq = 5;
	inv.last_seq = 8;
	inv.unit_price = 3;
	inv.amount = 12;
	inv.total_due = 24;
	snprintf(inv.currency, sizeof(inv.currency), "nanos");
	assert_int_equal(ledger_record_invoice(&r, &inv, sdpp_seller_buyer(f->c.s), 5), 0);
	assert_int_equal(ledger_append(f->l, &r, &id, err, sizeof(err)), 0);
	ledger_record_clear(&r);
	assert_true(id == 0); /* held */
	assert_int_equal(ledger_commit(f->l, 5, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "disk full"));
	test_sql_exec(f->db, "DROP TRIGGER full");
	assert_int_equal(test_sql_int(f->db, "SELECT invoice FROM held WHERE kind = 'invoice'"), 1);
	assert_int_equal(ledger_checkpoint(f->l, INT64_MAX / 2, err, sizeof(err)), 1);
	assert_int_equal(ledger_commit(f->l, 6, err, sizeof(err)), 0);
	/* Invoice 1 alone: the lost invoice 2 is not merged in. */
	assert_int_equal(
	    test_sql_int(f->db, "SELECT invoice FROM records WHERE kind = 'invoice'"), 1);
	assert_int_equal(
	    test_sql_int(f->db, "SELECT json_extract(body, '$.detail.total_due') FROM records"
	                        " WHERE kind = 'invoice'"),
	    12);
	assert_int_equal(test_sql_int(f->db, "SELECT count(*) FROM held"), 0);
	verifies(f);
}

/* With checkpoint_ms = 0 nothing is held: one record per invoice block. */
static void
test_off(void **state)
{
	struct fixture *f = *state;
	int i;

	ledger_set_checkpoint(f->l, 0);
	conv_order(&f->c, "co2", 12);
	for (i = 1; i <= 12; i++)
		conv_sample(&f->c, i);
	assert_int_equal(count_kind(f, "invoice"), 3);
	assert_int_equal(count_kind(f, "payment"), 3);
	assert_int_equal(test_sql_int(f->db, "SELECT count(*) FROM held"), 0);
	verifies(f);
}

/* A copy of r with its own strings (r's ACK, if any, copied into *a). */
static void
record_copy(struct ledger_record *out, struct ledger_ack *a, const struct ledger_record *r)
{
	*out = *r;
	out->detail = strdup(r->detail);
	out->evidence = r->evidence != NULL ? strdup(r->evidence) : NULL;
	assert_non_null(out->detail);
	memset(a, 0, sizeof(*a));
	if (r->nacks == 1) {
		a->seq = r->acks[0].seq;
		a->message = strdup(r->acks[0].message);
		a->signature = strdup(r->acks[0].signature);
		out->acks = a;
	}
}

static void
same_record(const struct ledger_record *got, const struct ledger_record *want)
{
	assert_int_equal(got->kind, want->kind);
	assert_int_equal(got->time, want->time);
	assert_string_equal(got->order_id, want->order_id);
	assert_string_equal(got->buyer, want->buyer);
	assert_int_equal(got->invoice, want->invoice);
	assert_int_equal(got->amount, want->amount);
	assert_int_equal(got->first_seq, want->first_seq);
	assert_string_equal(got->detail, want->detail);
	if (want->evidence == NULL)
		assert_null(got->evidence);
	else
		assert_string_equal(got->evidence, want->evidence);
	assert_int_equal(got->nacks, want->nacks);
	if (want->nacks == 1) {
		assert_int_equal(got->acks[0].seq, want->acks[0].seq);
		assert_string_equal(got->acks[0].message, want->acks[0].message);
		assert_string_equal(got->acks[0].signature, want->acks[0].signature);
	}
}

/* The held row of r's order and kind has col = want (NULL: is NULL), byte
 * for byte. */
static void
row_has(const struct fixture *f, const struct ledger_record *r, const char *col, const char *want)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	char sql[256];

	snprintf(sql, sizeof(sql),
	    "SELECT count(*) FROM held WHERE order_id = '%s' AND kind = '%s' AND %s IS ?",
	    r->order_id, ledger_kind_name(r->kind), col);
	assert_int_equal(sqlite3_open_v2(f->db, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (want != NULL)
		sqlite3_bind_text(st, 1, want, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	if (sqlite3_column_int(st, 0) != 1)
		fail_msg("held %s of %s: not %s", col, ledger_kind_name(r->kind), want);
	sqlite3_finalize(st);
	sqlite3_close(db);
}

/* The held row of r's order and kind holds r's strings. */
static void
same_row(const struct fixture *f, const struct ledger_record *r)
{
	row_has(f, r, "buyer", r->buyer);
	row_has(f, r, "detail", r->detail);
	row_has(f, r, "evidence", r->evidence);
	row_has(f, r, "ack_message", r->nacks == 1 ? r->acks[0].message : NULL);
	row_has(f, r, "ack_signature", r->nacks == 1 ? r->acks[0].signature : NULL);
}

static int
count_due(void *ctx, const char *order_hex)
{
	(void)order_hex;
	++*(int *)ctx;
	return 0;
}

/* Orders of h with a record held since cutoff or earlier. */
static int
due(struct held *h, int64_t cutoff)
{
	int n = 0;

	assert_int_equal(ledger_held_due(h, cutoff, count_due, &n), 0);
	return n;
}

/* Takes order's records from h (one batch, settled ok) and compares them
 * with want[0..n). */
static void
takes(struct held *h, const char *order, const struct ledger_record *want, size_t n)
{
	struct ledger_record out[HELD_MAX];
	struct ledger_ack acks[HELD_MAX];
	char err[LEDGER_ERR_MAX];
	size_t i, got;

	if (ledger_held_take(h, order, out, acks, &got, err, sizeof(err)) != 0)
		fail_msg("take: %s", err);
	assert_int_equal(got, n);
	for (i = 0; i < n; i++)
		same_record(&out[i], &want[i]);
	ledger_held_take_done(out, acks, got);
}

/*
 * A held slot is one allocation with the record's strings, and receipts
 * whose detail and evidence are what ledger_record_receipts() makes of
 * their ACK keep only the ACK (issue 17). Whatever a slot keeps, the held
 * rows and the records taken are the records put, byte for byte: receipts
 * the ledger built (an ACK message with quotes, a backslash and UTF-8),
 * receipts built otherwise, merged invoices, a payment of another buyer;
 * in memory, after a failed commit, and loaded back from the table.
 */
static void
test_slots(void **state)
{
	static const char o1[] = "1111111111111111111111111111111111111111111111111111111111111111";
	static const char o2[] = "2222222222222222222222222222222222222222222222222222222222222222";
	static const char b1[] = "b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1";
	struct fixture *f = *state;
	struct ledger_ack ack = { 7, "{\"data\":{\"note\":\"a\\\"b\\\\c \xc3\xa9\"},\"seq\":7}",
		"c2lnbmF0dXJl/+==" };
	struct ledger_record rec[6], want[6], merged;
	struct ledger_ack wack[6];
	struct sdpp_invoice inv;
	uint8_t order_bin[SDPP_ORDER_ID_BYTES], buyer_bin[SDPP_SIGN_PUBLIC_BYTES];
	char err[LEDGER_ERR_MAX];
	struct held *h = ledger_held_new(), *h2 = ledger_held_new();
	size_t i, before;

	assert_non_null(h);
	assert_non_null(h2);
	assert_int_equal(sdpp_hex_decode(order_bin, sizeof(order_bin), o1), SDPP_OK);
	assert_int_equal(sdpp_hex_decode(buyer_bin, sizeof(buyer_bin), b1), SDPP_OK);
	/* 0: o1's receipts as the ledger builds them; 1: o2's, the same ACK
	 * but a detail of its own; 2, 3: o1's invoices 1 and 2; 4: o1's
	 * payment, of another buyer; 5: o2's later receipts (replace 1). */
	assert_int_equal(ledger_record_receipts(&rec[0], order_bin, buyer_bin, &ack, 1, 10), 0);
	record_copy(&rec[1], &wack[1], &rec[0]);
	snprintf(rec[1].order_id, sizeof(rec[1].order_id), "%s", o2);
	free(rec[1].detail);
	rec[1].detail = strdup("{\"acks\":1, \"by\":\"hand\"}");
	memset(&inv, 0, sizeof(inv));
	memcpy(inv.order_id, order_bin, sizeof(inv.order_id));
	inv.number = 1;
	inv.first_seq = 1;
	inv.last_seq = 4;
	inv.unit_price = 3;
	inv.amount = 12;
	inv.total_due = 12;
	snprintf(inv.currency, sizeof(inv.currency), "nanos");
	assert_int_equal(ledger_record_invoice(&rec[2], &inv, buyer_bin, 11), 0);
	inv.number = 2;
	inv.first_seq = 5;
	inv.last_seq = 8;
	inv.total_due = 24;
	assert_int_equal(ledger_record_invoice(&rec[3], &inv, buyer_bin, 12), 0);
	memset(&rec[4], 0, sizeof(rec[4]));
	rec[4].kind = LEDGER_PAYMENT;
	rec[4].time = 13;
	snprintf(rec[4].order_id, sizeof(rec[4].order_id), "%s", o1);
	snprintf(rec[4].buyer, sizeof(rec[4].buyer), "another");
	rec[4].invoice = 2;
	rec[4].amount = 24;
	rec[4].detail = strdup("{\"invoice\":2}");
	rec[4].evidence = strdup("{\"message\":\"{}\",\"signature\":\"\"}");
	record_copy(&rec[5], &wack[5], &rec[1]);
	rec[5].time = 14;
	wack[5].seq = 9;

	for (i = 0; i < 5; i++)
		if (ledger_held_put(h, &rec[i], rec[i].time, err, sizeof(err)) != 0)
			fail_msg("put %zu: %s", i, err);
	if (ledger_held_write(h, ledger_db(f->l), err, sizeof(err)) != 0)
		fail_msg("write: %s", err);
	/* Once written, the ledger's receipts keep only their ACK; o2's twin,
	 * whose detail ledger_record_receipts() would not make, keeps all. */
	before = ledger_held_bytes(h);
	ledger_held_settle(h, 1);
	assert_int_equal(
	    before - ledger_held_bytes(h), strlen(rec[0].detail) + 1 + strlen(rec[0].evidence) + 1);
	assert_int_equal(due(h, 9), 0); /* held since 10 */
	assert_int_equal(due(h, 10), 2);
	same_row(f, &rec[0]);
	same_row(f, &rec[1]);
	same_row(f, &rec[3]);
	same_row(f, &rec[4]);
	assert_int_equal(test_sql_int(f->db, "SELECT first_invoice * 100 + first_seq FROM held"
	                                     " WHERE kind = 'invoice'"),
	    101);

	/* A change that fails to commit leaves the durable slot. */
	assert_int_equal(ledger_held_put(h, &rec[5], 14, err, sizeof(err)), 0);
	ledger_held_settle(h, 0);

	/* What a checkpoint takes: o1's receipts, invoices 1..2 merged, the
	 * payment; o2's receipts. From memory and from the table alike. */
	record_copy(&want[0], &wack[0], &rec[0]);
	record_copy(&merged, &wack[2], &rec[3]);
	assert_int_equal(ledger_record_invoice_merge(&merged, 1, 1, 24), 0);
	want[1] = merged;
	want[2] = rec[4];
	want[3] = rec[1];
	if (ledger_held_load(h2, ledger_db(f->l), err, sizeof(err)) != 0)
		fail_msg("load: %s", err);
	assert_int_equal(ledger_held_orders(h2), 2);
	assert_int_equal(ledger_held_bytes(h2), ledger_held_bytes(h));
	takes(h, o1, want, 3);
	takes(h, o2, &want[3], 1);
	ledger_held_settle(h, 1);
	assert_int_equal(ledger_held_orders(h), 0);
	assert_int_equal(ledger_held_bytes(h), 0);
	takes(h2, o1, want, 3);
	takes(h2, o2, &want[3], 1);
	ledger_held_settle(h2, 1);
	assert_int_equal(ledger_held_bytes(h2), 0);

	ledger_held_free(h);
	ledger_held_free(h2);
	ledger_record_clear(&want[0]);
	ledger_ack_clear(&wack[0]);
	ledger_record_clear(&merged);
	ledger_ack_clear(&wack[2]);
	for (i = 0; i < 6; i++)
		ledger_record_clear(&rec[i]);
	ledger_ack_clear(&wack[1]);
	ledger_ack_clear(&wack[5]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_purchase, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crash, setup, teardown),
		cmocka_unit_test_setup_teardown(test_due, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_commit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_off, setup, teardown),
		cmocka_unit_test_setup_teardown(test_slots, setup, teardown),
	};

	return cmocka_run_group_tests_name("held", tests, NULL, NULL);
}
