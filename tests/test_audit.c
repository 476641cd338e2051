/* ledger verify as evidence: every field a record asserts is checked against its message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "ledger/ledger.h"
#include "tests/common/ledger_fixture.h"
#include "tests/common/book_host.h"
#include "tests/common/conv.h"

/*
 * The purchase of tests/test_ledger.c (10 items, K = 4, price 3):
 *   1 order  2 receipts 1..3  3 invoice 1 (1..4)  4 payment 12  5 receipts 4..7
 *   6 invoice 2 (5..8)  7 payment 24  8 receipts 8..10  9 exit 10 items, 30  10 close
 */
struct fixture {
	char dir[64];
	char db[128];
	struct conv c;
	struct book_host g;
	struct ledger *l;
	uint8_t key[SDPP_SIGN_PUBLIC_BYTES];
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct ledger_config cfg;
	char err[LEDGER_ERR_MAX];
	int i;

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/sdpp-audit-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->db, sizeof(f->db), "%s/ledger.db", f->dir);
	conv_setup(&f->c, 4, 1, 3);
	memset(&cfg, 0, sizeof(cfg));
	cfg.path = f->db;
	cfg.id = f->c.sid;
	if (ledger_open(&f->l, &cfg, err, sizeof(err)) != 0)
		fail_msg("open: %s", err);
	sdpp_identity_sign_public(f->c.sid, f->key);
	book_host_attach(&f->g, &f->c, f->l);
	conv_start(&f->c);
	conv_order(&f->c, "co2", 10);
	for (i = 1; i <= 10; i++)
		conv_sample(&f->c, i);
	assert_int_equal(f->c.statements, 1);
	assert_true(ledger_size(f->l) == 10);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[160];

	book_host_detach(&f->g);
	ledger_close(f->l);
	conv_teardown(&f->c);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

/* Replaces the first `from' in s by `to' (s has room). */
static void
replace(char *s, size_t cap, const char *from, const char *to)
{
	char *p = strstr(s, from), *rest;

	if (p == NULL)
		fail_msg("`%s' not in the body", from);
	rest = strdup(p + strlen(from));
	assert_non_null(rest);
	assert_true(strlen(s) - strlen(from) + strlen(to) < cap);
	snprintf(p, cap - (size_t)(p - s), "%s%s", to, rest);
	free(rest);
}

/*
 * A careful forger: rewrites record id's body (and the columns that copy
 * it, with set), recomputes its leaf hash, and deletes the signed tree
 * heads that cover it. Only the evidence checks are left to notice.
 */
static void
forge(const char *path, uint64_t id, const char *from, const char *to, const char *from2,
    const char *to2, const char *set)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	char body[LEDGER_BODY_MAX], sql[512];
	merkle_hash leaf;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(
	    sqlite3_prepare_v2(db, "SELECT body FROM records WHERE id = ?", -1, &st, NULL),
	    SQLITE_OK);
	sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	snprintf(body, sizeof(body), "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	replace(body, sizeof(body), from, to);
	if (from2 != NULL)
		replace(body, sizeof(body), from2, to2);
	assert_int_equal(merkle_leaf_hash(leaf, body, strlen(body)), 0);
	snprintf(sql, sizeof(sql), "UPDATE records SET body = ?, leaf_hash = ?%s%s WHERE id = ?",
	    set != NULL ? ", " : "", set != NULL ? set : "");
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_text(st, 1, body, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, leaf, sizeof(leaf), SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)id);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	snprintf(
	    sql, sizeof(sql), "DELETE FROM tree_heads WHERE size >= %llu", (unsigned long long)id);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static void
test_clean_verifies(void **state)
{
	struct fixture *f = *state;
	struct ledger_verify_report rep;

	assert_int_equal(test_ledger_verify_file(f->db, f->key, &rep), 0);
	/* One stored ACK per receipts record (the latest: it covers the rest). */
	assert_true(rep.records == 10 && rep.acks == 3 && rep.signatures == 10);
	assert_true(rep.first_bad == 0 && rep.problem[0] == '\0');
}

/* One row per cross-check: the record a forger rewrote, and what verify says. */
static void
test_contradictions(void **state)
{
	static const struct {
		const char *what;
		uint64_t id;
		const char *from, *to, *from2, *to2, *set;
		const char *says;
	} t[] = {
		/* order: the detail against the signed order */
		{ "order product", 1, "\"product\":\"co2\"", "\"product\":\"co3\"", NULL, NULL,
		    NULL, "product `co3' contradicts the buyer-signed message (`co2')" },
		{ "order quantity", 1, "\"quantity\":10", "\"quantity\":11", NULL, NULL, NULL,
		    "quantity `11' contradicts the buyer-signed message (`10')" },
		{ "order price", 1, "\"price\":\"3\"", "\"price\":\"4\"", NULL, NULL,
		    "amount = '4'", "price `4' contradicts the buyer-signed message (`3')" },
		{ "order currency", 1, "\"currency\":\"nanos\"", "\"currency\":\"euros\"", NULL,
		    NULL, NULL, "currency `euros' contradicts" },
		{ "order payment address", 1, "\"payment_address\":\"\"",
		    "\"payment_address\":\"0x1\"", NULL, NULL, NULL, "payment_address `0x1'" },
		/* payment: the case, a record saying 1 over a voucher of 12 */
		{ "payment total", 4, "\"total\":\"12\"", "\"total\":\"1\"", NULL, NULL,
		    "amount = '1'",
		    "record 4 (payment): total `1' contradicts the buyer-signed message (`12')" },
		{ "payment invoice", 4, "\"invoice\":1,", "\"invoice\":2,", NULL, NULL,
		    "invoice = 2", "invoice `2' contradicts the buyer-signed message (`1')" },
		{ "payment verification", 4, "\"verification\":\"\"", "\"verification\":\"tx\"",
		    NULL, NULL, NULL, "verification `tx' contradicts" },
		/* receipts: the detail against the signed last ACK and the stored ACKs */
		{ "receipts last_seq", 2, "\"last_seq\":3", "\"last_seq\":4", NULL, NULL, NULL,
		    "last_seq `4' contradicts the buyer-signed message (`3')" },
		{ "receipts first_seq", 5, "\"first_seq\":7", "\"first_seq\":6", NULL, NULL, NULL,
		    "says items 6..7 in 1 ACKs, the stored ACKs are items 7..7 in 1" },
		{ "receipts count", 5, "\"acks\":1", "\"acks\":2", NULL, NULL, NULL,
		    "says items 7..7 in 2 ACKs" },
		/* exit: the detail against the signed exit */
		{ "exit total", 9, "\"total\":\"30\"", "\"total\":\"3\"", NULL, NULL,
		    "amount = '3'", "total `3' contradicts the buyer-signed message (`30')" },
		{ "exit seq", 9, "\"seq\":10", "\"seq\":9", NULL, NULL, NULL,
		    "seq `9' contradicts the buyer-signed message (`10')" },
		{ "exit digest", 9, "\"digest\":\"", "\"digest\":\"0", NULL, NULL, NULL,
		    "record 9 (exit): digest `0" },
		/* invoice: the seller's own, against itself and the order */
		{ "invoice amount", 3, "\"amount\":\"12\"", "\"amount\":\"15\"", NULL, NULL,
		    "amount = '15'", "record 3 (invoice): amount 15 is not 4 items at 3" },
		{ "invoice number", 6, "\"invoice\":2", "\"invoice\":3", NULL, NULL, "invoice = 3",
		    "invoice `3' contradicts the order's previous invoice + 1 (`2')" },
		{ "invoice total_due", 6, "\"total_due\":\"24\"", "\"total_due\":\"20\"", NULL,
		    NULL, NULL,
		    "total_due `20' contradicts the previous invoice's total_due + amount" },
		{ "invoice items", 6, "\"first_seq\":5", "\"first_seq\":6", "\"amount\":\"12\"",
		    "\"amount\":\"9\"", "amount = '9'",
		    "first_seq `6' contradicts the previous invoice's last_seq + 1 (`5')" },
		{ "invoice price", 3, "\"unit_price\":\"3\"", "\"unit_price\":\"4\"",
		    "\"amount\":\"12\"", "\"amount\":\"16\"", "amount = '16'",
		    "unit_price `4' contradicts the order's price (`3')" },
		/* close: the seller's statement, against the order and the signatures */
		{ "close paid", 10, "\"total_paid\":\"30\"", "\"total_paid\":\"31\"", NULL, NULL,
		    "amount = '31'",
		    "record 10 (close): total_paid `31' contradicts the highest total" },
		{ "close acked", 10, "\"acked\":10", "\"acked\":11", "\"delivered\":10",
		    "\"delivered\":11", NULL, "acked `11' contradicts the highest item" },
		{ "close acked above delivered", 10, "\"delivered\":10", "\"delivered\":9", NULL,
		    NULL, NULL, "acked `10' contradicts delivered (`9')" },
		{ "close price", 10, "\"price\":\"3\"", "\"price\":\"5\"", NULL, NULL, NULL,
		    "price `5' contradicts the order (`3')" },
		{ "close quantity", 10, "\"quantity\":10", "\"quantity\":12", NULL, NULL, NULL,
		    "quantity `12' contradicts the order (`10')" },
		{ "close product", 10, "\"product\":\"co2\"", "\"product\":\"no2\"", NULL, NULL,
		    NULL, "product is not the order's" },
	};
	struct fixture *f = *state;
	struct ledger_verify_report rep;
	char copy[160];
	size_t i;

	snprintf(copy, sizeof(copy), "%s/forged.db", f->dir);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		test_ledger_copy(f->db, copy);
		forge(copy, t[i].id, t[i].from, t[i].to, t[i].from2, t[i].to2, t[i].set);
		if (test_ledger_verify_file(copy, f->key, &rep) != 1)
			fail_msg("%s: verify passed", t[i].what);
		if (rep.first_bad != t[i].id)
			fail_msg("%s: named record %llu, not %llu (%s)", t[i].what,
			    (unsigned long long)rep.first_bad, (unsigned long long)t[i].id,
			    rep.problem);
		if (strstr(rep.problem, t[i].says) == NULL)
			fail_msg("%s: message `%s' lacks `%s'", t[i].what, rep.problem, t[i].says);
	}
}

/* Under an intact signed tree head the tree head is what verify names: the
 * record was changed after it was signed for. */
static void
test_tree_head_first(void **state)
{
	struct fixture *f = *state;
	struct ledger_verify_report rep;
	char copy[160];
	sqlite3 *db;

	snprintf(copy, sizeof(copy), "%s/forged.db", f->dir);
	test_ledger_copy(f->db, copy);
	assert_int_equal(sqlite3_open(copy, &db), SQLITE_OK);
	assert_int_equal(
	    sqlite3_exec(db, "CREATE TABLE keep AS SELECT * FROM tree_heads", NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);
	forge(copy, 4, "\"total\":\"12\"", "\"total\":\"1\"", NULL, NULL, "amount = '1'");
	assert_int_equal(sqlite3_open(copy, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db,
	                     "INSERT INTO tree_heads SELECT * FROM keep WHERE size >= 4;"
	                     " DROP TABLE keep",
	                     NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(test_ledger_verify_file(copy, f->key, &rep), 1);
	assert_non_null(strstr(rep.problem, "tree head at size 4 does not match"));
	assert_true(rep.first_bad == 4);
}

/* ACKs are read in one pass beside the records: ACKs filed under a record
 * that is not a receipts record, or beyond the last record, are counted. */
static void
test_stray_acks(void **state)
{
	struct fixture *f = *state;
	struct ledger_verify_report rep;
	char copy[160];
	sqlite3 *db;

	snprintf(copy, sizeof(copy), "%s/forged.db", f->dir);
	test_ledger_copy(f->db, copy);
	assert_int_equal(sqlite3_open(copy, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db,
	                     "INSERT INTO acks SELECT order_id, 100, 3, message, signature"
	                     " FROM acks WHERE seq = 3;"
	                     "INSERT INTO acks SELECT order_id, 101, 99, message, signature"
	                     " FROM acks WHERE seq = 3;"
	                     "INSERT INTO acks SELECT order_id, 102, 0, message, signature"
	                     " FROM acks WHERE seq = 3",
	                     NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(test_ledger_verify_file(copy, f->key, &rep), 1);
	assert_non_null(strstr(rep.problem, "3 ACKs are not committed to by any receipts record"));
}

/* A signature that fails is named even when a later record also lies: the
 * record-by-record order is kept although signatures are checked in batches. */
static void
test_signature_before_contradiction(void **state)
{
	struct fixture *f = *state;
	struct ledger_verify_report rep;
	char copy[160];

	snprintf(copy, sizeof(copy), "%s/forged.db", f->dir);
	test_ledger_copy(f->db, copy);
	/* Record 4's signed payment says 13 (its signature no longer holds);
	 * record 9's exit detail says 3. */
	forge(copy, 9, "\"total\":\"30\"", "\"total\":\"3\"", NULL, NULL, "amount = '3'");
	forge(copy, 4, "\\\"total\\\":\\\"12\\\"", "\\\"total\\\":\\\"13\\\"", NULL, NULL, NULL);
	assert_int_equal(test_ledger_verify_file(copy, f->key, &rep), 1);
	assert_true(rep.first_bad == 4);
	assert_non_null(strstr(rep.problem, "record 4 (payment): buyer signature does not verify"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_clean_verifies, setup, teardown),
		cmocka_unit_test_setup_teardown(test_contradictions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tree_head_first, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stray_acks, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_signature_before_contradiction, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
