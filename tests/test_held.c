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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_purchase, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crash, setup, teardown),
		cmocka_unit_test_setup_teardown(test_due, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_commit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_off, setup, teardown),
	};

	return cmocka_run_group_tests_name("held", tests, NULL, NULL);
}
