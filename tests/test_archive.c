/* Retention: closed orders move to an archive that verifies alone; the live log stays whole. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ledger/ledger.h"
#include "sdpp/enc.h"
#include "tests/common/book_host.h"
#include "tests/common/conv.h"
#include "tests/common/ledger_fixture.h"

struct fixture {
	char dir[64];
	char db[128], a1[128], a2[128];
	struct ledger *l;
	struct conv c;
	struct book_host g;
	char order_a[SDPP_HEX_LEN(SDPP_ORDER_ID_BYTES)];
	uint64_t records_a;
};

/* A new session of the same buyer and seller, at time now. */
static void
next_session(struct fixture *f, uint64_t now)
{
	book_host_detach(&f->g);
	sdpp_seller_free(f->c.s);
	sdpp_buyer_free(f->c.b);
	f->c.s = NULL;
	f->c.b = NULL;
	f->c.now = now;
	book_host_attach(&f->g, &f->c, f->l);
	conv_start(&f->c);
}

/* Order A (closed at t=1000), order B (closed at t=2e12), order C open. */
static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct ledger_config cfg;
	char err[LEDGER_ERR_MAX];
	int i;

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/sdpp-archive-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->db, sizeof(f->db), "%s/ledger.db", f->dir);
	snprintf(f->a1, sizeof(f->a1), "%s/archive-1.db", f->dir);
	snprintf(f->a2, sizeof(f->a2), "%s/archive-2.db", f->dir);
	conv_setup(&f->c, 4, 1, 3);
	memset(&cfg, 0, sizeof(cfg));
	cfg.path = f->db;
	cfg.id = f->c.sid;
	cfg.checkpoint_ms = 60000;
	if (ledger_open(&f->l, &cfg, err, sizeof(err)) != 0)
		fail_msg("open: %s", err);
	book_host_attach(&f->g, &f->c, f->l);
	conv_start(&f->c);
	conv_order(&f->c, "co2", 8);
	sdpp_hex_encode(f->order_a, sdpp_seller_order_id(f->c.s), SDPP_ORDER_ID_BYTES);
	for (i = 1; i <= 8; i++)
		conv_sample(&f->c, i);
	assert_int_equal(f->c.statements, 1);
	f->records_a = ledger_size(f->l);
	next_session(f, 2000000000000);
	conv_order(&f->c, "co2", 4);
	for (i = 1; i <= 4; i++)
		conv_sample(&f->c, i);
	assert_int_equal(f->c.statements, 2);
	next_session(f, 2000000001000);
	conv_order(&f->c, "co2", 100);
	for (i = 1; i <= 6; i++)
		conv_sample(&f->c, i);
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

/* Order A (closed before the cutoff) moves; B (closed after) and C (open)
 * stay. Both files verify; the archive covers what the live file emptied. */
static void
test_archive(void **state)
{
	struct fixture *f = *state;
	struct ledger_archive_report ar;
	struct ledger_verify_report rep;
	char err[LEDGER_ERR_MAX], sql[256];
	uint64_t size = ledger_size(f->l);

	/* The gateway (f->l) keeps its connection open meanwhile. */
	assert_int_equal(ledger_archive(f->db, 5000, f->a1, &ar, err, sizeof(err)), 0);
	assert_true(ar.orders == 1 && ar.records == f->records_a && ar.size == size);
	snprintf(sql, sizeof(sql),
	    "SELECT count(*) FROM records WHERE body = '' AND order_id = '%s'", f->order_a);
	assert_int_equal(test_sql_int(f->db, sql), (long long)f->records_a);
	assert_int_equal(test_sql_int(f->db, "SELECT count(*) FROM records WHERE body = ''"),
	    (long long)f->records_a);
	/* The live file: whole tree, A's leaves only. */
	assert_int_equal(test_ledger_verify_file(f->db, NULL, &rep), 0);
	assert_true(rep.records == size && rep.archived == f->records_a);
	/* The archive: the same tree up to the hand-over, A's bodies only. */
	assert_int_equal(test_ledger_verify_file(f->a1, NULL, &rep), 0);
	assert_true(rep.records == size && rep.archived == size - f->records_a);
	assert_true(test_sql_int(f->a1, "SELECT count(*) FROM meta WHERE key = 'archive'") == 1);
	assert_int_equal(test_sql_int(f->a1, "SELECT count(*) FROM held"), 0);
	assert_int_equal(ledger_archive_check(f->l, f->a1, &ar, err, sizeof(err)), 0);
	assert_true(ar.records == f->records_a);
	/* A replayed order A is still known. */
	assert_int_equal(ledger_has_order(f->l, f->order_a), 1);
	/* An archive is written once. */
	assert_int_equal(ledger_archive(f->db, 5000, f->a1, &ar, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "already exists"));
	/* Nothing more before the cutoff: no file. */
	assert_int_equal(ledger_archive(f->db, 5000, f->a2, &ar, err, sizeof(err)), 0);
	assert_true(ar.orders == 0);
	assert_int_equal(access(f->a2, F_OK), -1);
}

/* The writer goes on after an archive: a new commit, a restart (the start
 * check reads leaf hashes, not bodies), and a later archive of order B. */
static void
test_archive_then_write(void **state)
{
	struct fixture *f = *state;
	struct ledger_archive_report ar;
	struct ledger_verify_report rep;
	struct ledger_config cfg;
	char err[LEDGER_ERR_MAX];
	int i;

	assert_int_equal(ledger_archive(f->db, 5000, f->a1, &ar, err, sizeof(err)), 0);
	for (i = 7; i <= 12; i++)
		conv_sample(&f->c, i);
	assert_int_equal(ledger_checkpoint(f->l, INT64_MAX / 2, err, sizeof(err)), 1);
	assert_int_equal(ledger_commit(f->l, 3, err, sizeof(err)), 0);
	book_host_detach(&f->g);
	ledger_close(f->l);
	memset(&cfg, 0, sizeof(cfg));
	cfg.path = f->db;
	cfg.id = f->c.sid;
	cfg.checkpoint_ms = 60000;
	if (ledger_open(&f->l, &cfg, err, sizeof(err)) != 0)
		fail_msg("reopen after archive: %s", err);
	book_host_attach(&f->g, &f->c, f->l);
	assert_true(ledger_interrupted(f->l) == 1); /* order C */
	assert_int_equal(ledger_archive(f->db, 3000000000000, f->a2, &ar, err, sizeof(err)), 0);
	assert_true(ar.orders == 2); /* B, and C: closed as interrupted at the restart */
	assert_int_equal(test_ledger_verify_file(f->db, NULL, &rep), 0);
	assert_int_equal(test_ledger_verify_file(f->a2, NULL, &rep), 0);
}

/* What --archive catches: a body emptied in the live file that no archive
 * holds, and an archive whose body is not the log's. */
static void
test_archive_tamper(void **state)
{
	struct fixture *f = *state;
	struct ledger_archive_report ar;
	struct ledger_verify_report rep;
	char err[LEDGER_ERR_MAX];

	assert_int_equal(ledger_archive(f->db, 5000, f->a1, &ar, err, sizeof(err)), 0);
	/* One of order B's bodies emptied by hand: its payment now names an
	 * invoice the log does not show. */
	test_sql_exec(f->db,
	    "UPDATE records SET body = '' WHERE kind = 'invoice' AND order_id ="
	    " (SELECT order_id FROM records WHERE kind = 'order' ORDER BY id LIMIT 1 OFFSET 1)");
	assert_int_equal(test_ledger_verify_file(f->db, NULL, &rep), 1);
	/* All of B's: verify counts them archived; the archive does not cover
	 * them, which is what `verify --archive` reports. */
	test_sql_exec(f->db,
	    "UPDATE records SET body = '' WHERE order_id ="
	    " (SELECT order_id FROM records WHERE kind = 'order' ORDER BY id LIMIT 1 OFFSET 1);"
	    "DELETE FROM acks WHERE record NOT IN (SELECT id FROM records WHERE body <> '')");
	assert_int_equal(test_ledger_verify_file(f->db, NULL, &rep), 0);
	assert_true(rep.archived > f->records_a);
	assert_int_equal(ledger_archive_check(f->l, f->a1, &ar, err, sizeof(err)), 0);
	assert_true(ar.records == f->records_a);
	/* A body changed in the archive is not the log's record. */
	test_sql_exec(f->a1,
	    "UPDATE records SET body = replace(body, '\"total\":\"24\"', '\"total\":\"94\"')"
	    " WHERE kind = 'payment' AND body <> ''");
	assert_int_equal(ledger_archive_check(f->l, f->a1, &ar, err, sizeof(err)), 1);
	assert_non_null(strstr(err, "another leaf hash"));
}

/*
 * The live file empties its bodies a batch of 256 orders per transaction. A
 * batch that fails after an earlier one committed must leave the archive in
 * place: it is the only copy of the bodies that batch took out. A trigger
 * makes the second batch fail (the last order's first body update).
 */
static void
test_archive_partial(void **state)
{
	struct fixture *f = *state;
	struct ledger_archive_report ar;
	char err[LEDGER_ERR_MAX], sql[512], last[SDPP_HEX_LEN(SDPP_ORDER_ID_BYTES)];
	long long emptied;
	int i;

	for (i = 0; i < 257; i++) {
		next_session(f, 2000000002000 + (uint64_t)i * 1000);
		f->c.items = 0; /* conv keeps 256 items and 16 invoices */
		f->c.invoices = 0;
		conv_order(&f->c, "co2", 1);
		conv_sample(&f->c, 1);
	}
	assert_int_equal(f->c.statements, 2 + 257);
	sdpp_hex_encode(last, sdpp_seller_order_id(f->c.s), SDPP_ORDER_ID_BYTES);
	snprintf(sql, sizeof(sql),
	    "CREATE TRIGGER inject BEFORE UPDATE OF body ON records WHEN old.order_id = '%s'"
	    " BEGIN SELECT RAISE(ABORT, 'injected'); END",
	    last);
	test_sql_exec(f->db, sql);
	assert_int_equal(ledger_archive(f->db, 3000000000000, f->a1, &ar, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "injected"));
	assert_non_null(strstr(err, "after 256 of 259 orders"));
	emptied = test_sql_int(f->db, "SELECT count(*) FROM records WHERE body = ''");
	assert_true(emptied > 0);
	/* The archive stays, and holds every body the live file lost. */
	assert_int_equal(access(f->a1, F_OK), 0);
	assert_int_equal(ledger_archive_check(f->l, f->a1, &ar, err, sizeof(err)), 0);
	assert_true(ar.records == (uint64_t)emptied);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_archive, setup, teardown),
		cmocka_unit_test_setup_teardown(test_archive_then_write, setup, teardown),
		cmocka_unit_test_setup_teardown(test_archive_tamper, setup, teardown),
		cmocka_unit_test_setup_teardown(test_archive_partial, setup, teardown),
	};

	return cmocka_run_group_tests_name("archive", tests, NULL, NULL);
}
