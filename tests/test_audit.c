/* ledger verify as evidence: every field a record asserts is checked against its message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "ledger/ledger.h"
#include "sdpp/enc.h"
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

static int
account_one(void *ctx, const struct ledger_account *a)
{
	*(struct ledger_account *)ctx = *a;
	return 0;
}

/* ---------------------------------------------------------------- resume */

/*
 * A purchase that resumed (issue 15), held records on (checkpoint 1 h),
 * K = 4, price 3, 10 ordered, 6 sent and acknowledged:
 *   1 order  2 resume seq 6 (attempt 1)  3 resume seq 6 (attempt 2)
 *   4 receipts 3..3  5 invoice 1 (1..4)  6 payment 12  7 close resume_timeout, acked 6
 * The receipts the book held (the ACK it had at invoice 1) join the log
 * after the resumes, at the close: a receipts record below a resume's seq,
 * as a gateway writes it, and the resumes are the only signatures in the
 * log for items 4..6.
 */
static struct sdpp_msg *
resume_msg(const struct sdpp_identity *signer, const uint8_t *order_id, uint64_t seq,
    uint64_t invoice, uint64_t attempt)
{
	struct sdpp_msg m, *out = calloc(1, sizeof(*out));
	char *frame = NULL, err[128];
	size_t len;

	assert_non_null(out);
	memset(&m, 0, sizeof(m));
	m.type = SDPP_T_RESUME;
	m.from = SDPP_ROLE_BUYER;
	memcpy(m.u.resume.order_id, order_id, SDPP_ORDER_ID_BYTES);
	m.u.resume.seq = seq;
	memset(m.u.resume.digest, (int)seq, sizeof(m.u.resume.digest));
	m.u.resume.invoice = invoice;
	m.u.resume.attempt = attempt;
	assert_int_equal(sdpp_msg_encode(&m, signer, &frame, &len), SDPP_OK);
	if (sdpp_msg_parse(out, frame, len - 1, SDPP_ROLE_BUYER, err, sizeof(err)) != SDPP_OK)
		fail_msg("resume: %s", err);
	free(frame);
	return out;
}

/* Appends and commits the resume m (freed), filed under order (hex) if
 * given instead of the order it names. */
static uint64_t
add_resume(
    struct ledger *l, const uint8_t *buyer, struct sdpp_msg *m, const char *order, int64_t time)
{
	struct ledger_record r;
	char err[LEDGER_ERR_MAX];
	uint64_t id = 0;

	assert_int_equal(ledger_record_resume(&r, m, buyer, time), 0);
	if (order != NULL)
		snprintf(r.order_id, sizeof(r.order_id), "%s", order);
	if (ledger_append(l, &r, &id, err, sizeof(err)) != 0 ||
	    ledger_commit(l, time, err, sizeof(err)) != 0)
		fail_msg("resume: %s", err);
	ledger_record_clear(&r);
	sdpp_msg_free(m);
	free(m);
	return id;
}

static int
rbuild(void **state, int closed)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct ledger_config cfg;
	struct ledger_record r;
	struct sdpp_progress p;
	uint8_t buyer[SDPP_SIGN_PUBLIC_BYTES];
	char err[LEDGER_ERR_MAX];
	uint64_t id;
	int i;

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/sdpp-audit-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->db, sizeof(f->db), "%s/ledger.db", f->dir);
	conv_setup(&f->c, 4, 1, 3);
	memset(&cfg, 0, sizeof(cfg));
	cfg.path = f->db;
	cfg.id = f->c.sid;
	cfg.checkpoint_ms = 3600000;
	if (ledger_open(&f->l, &cfg, err, sizeof(err)) != 0)
		fail_msg("open: %s", err);
	sdpp_identity_sign_public(f->c.sid, f->key);
	sdpp_identity_sign_public(f->c.bid, buyer);
	book_host_attach(&f->g, &f->c, f->l);
	conv_start(&f->c);
	conv_order(&f->c, "co2", 10);
	for (i = 1; i <= 6; i++)
		conv_sample(&f->c, i);
	assert_true(ledger_size(f->l) == 1);
	/* Dropped twice; the seller took both resumes, then the buyer never
	 * came back. */
	add_resume(f->l, buyer, resume_msg(f->c.bid, sdpp_buyer_order_id(f->c.b), 6, 1, 1), NULL,
	    (int64_t)f->c.now);
	add_resume(f->l, buyer, resume_msg(f->c.bid, sdpp_buyer_order_id(f->c.b), 6, 1, 2), NULL,
	    (int64_t)f->c.now);
	*state = f;
	if (!closed)
		return 0;
	sdpp_seller_progress(f->c.s, &p);
	assert_true(p.sent == 6 && p.acked == 6);
	assert_int_equal(ledger_record_close(&r, sdpp_seller_order_id(f->c.s), buyer, "co2", &p,
	                     "resume_timeout", (int64_t)f->c.now),
	    0);
	if (ledger_append(f->l, &r, &id, err, sizeof(err)) != 0 ||
	    ledger_commit(f->l, (int64_t)f->c.now, err, sizeof(err)) != 0)
		fail_msg("close: %s", err);
	ledger_record_clear(&r);
	assert_true(ledger_size(f->l) == 7);
	return 0;
}

static int
rsetup(void **state)
{
	return rbuild(state, 1);
}

/* The same order cut short by a crash before its close. */
static int
rsetup_open(void **state)
{
	return rbuild(state, 0);
}

static void
test_resume_verifies(void **state)
{
	struct fixture *f = *state;
	struct ledger_verify_report rep;
	struct ledger_account a;

	assert_int_equal(test_sql_int(f->db,
	                     "SELECT count(*) FROM records WHERE kind = 'resume' AND id IN (2, 3)"),
	    2);
	assert_int_equal(test_sql_int(f->db,
	                     "SELECT count(*) FROM records WHERE kind = 'receipts' AND id = 4 AND"
	                     " json_extract(body, '$.detail.last_seq') = 3"),
	    1);
	if (test_ledger_verify_file(f->db, f->key, &rep) != 0)
		fail_msg("verify: %s", rep.problem);
	/* order, two resumes, payment, receipts (evidence and stored ACK) */
	assert_true(rep.records == 7 && rep.signatures == 6 && rep.acks == 1);
	/* The account counts the resume's receipt (an interrupted order's
	 * close takes the same figure). */
	memset(&a, 0, sizeof(a));
	assert_int_equal(ledger_accounts(f->l, NULL, NULL, account_one, &a, NULL, 0), 0);
	assert_true(a.acknowledged == 6 && a.delivered == 6 && a.closed);
	assert_string_equal(a.reason, "resume_timeout");
}

/* A forger's rewrites of a resume, and a close that claims beyond it. */
static void
test_resume_contradictions(void **state)
{
	static const struct {
		const char *what;
		uint64_t id;
		const char *from, *to, *from2, *to2;
		const char *says;
	} t[] = {
		{ "resume seq", 2, "\"seq\":6", "\"seq\":5", NULL, NULL,
		    "record 2 (resume): seq `5' contradicts the buyer-signed message (`6')" },
		{ "resume digest", 2, "\"digest\":\"06", "\"digest\":\"07", NULL, NULL,
		    "record 2 (resume): digest `07" },
		{ "resume invoice", 3, "\"invoice\":1", "\"invoice\":2", NULL, NULL,
		    "record 3 (resume): invoice `2' contradicts the buyer-signed message (`1')" },
		{ "resume attempt", 3, "\"attempt\":2", "\"attempt\":3", NULL, NULL,
		    "record 3 (resume): attempt `3' contradicts the buyer-signed message (`2')" },
		{ "close acked beyond the resume", 7, "\"acked\":6", "\"acked\":7",
		    "\"delivered\":6", "\"delivered\":7",
		    "record 7 (close): acked `7' contradicts the highest item the buyer signed for "
		    "in this order's receipts, exit and resumes (`6')" },
	};
	struct fixture *f = *state;
	struct ledger_verify_report rep;
	char copy[160];
	size_t i;

	snprintf(copy, sizeof(copy), "%s/forged.db", f->dir);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		test_ledger_copy(f->db, copy);
		forge(copy, t[i].id, t[i].from, t[i].to, t[i].from2, t[i].to2, NULL);
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

/* Resume records the seller should never have written: each is appended to
 * a copy of the log (record 8) by a writer, and verify names it. */
static void
test_resume_bad_records(void **state)
{
	struct fixture *f = *state;
	struct ledger_verify_report rep;
	struct ledger_config cfg;
	struct ledger *w;
	uint8_t buyer[SDPP_SIGN_PUBLIC_BYTES], other[SDPP_ORDER_ID_BYTES];
	const uint8_t *oid = sdpp_buyer_order_id(f->c.b);
	char copy[160], err[LEDGER_ERR_MAX], hex[SDPP_HEX_LEN(SDPP_ORDER_ID_BYTES)];
	const char *says;
	int i;

	sdpp_identity_sign_public(f->c.bid, buyer);
	sdpp_hex_encode(hex, oid, SDPP_ORDER_ID_BYTES);
	memset(other, 0x5a, sizeof(other));
	snprintf(copy, sizeof(copy), "%s/bad.db", f->dir);
	memset(&cfg, 0, sizeof(cfg));
	cfg.path = copy;
	cfg.id = f->c.sid;
	for (i = 0; i < 5; i++) {
		struct sdpp_msg *m;
		const char *under = NULL;

		unlink(copy);
		test_ledger_copy(f->db, copy);
		if (ledger_open(&w, &cfg, err, sizeof(err)) != 0)
			fail_msg("open: %s", err);
		switch (i) {
		case 0: /* signed by another key (the seller's) */
			m = resume_msg(f->c.sid, oid, 6, 1, 3);
			says = "record 8 (resume): buyer signature does not verify";
			break;
		case 1: /* the buyer's resume of another order, filed under this one */
			m = resume_msg(f->c.bid, other, 6, 1, 3);
			under = hex;
			says = "record 8 (resume): signed message is for another order or buyer";
			break;
		case 2: /* the second resume taken again (a replay) */
			m = resume_msg(f->c.bid, oid, 6, 1, 2);
			says = "record 8 (resume): attempt 2 is not above the order's previous "
			       "resume's (2)";
			break;
		case 3: /* an older attempt */
			m = resume_msg(f->c.bid, oid, 6, 1, 1);
			says = "attempt 1 is not above the order's previous resume's (2)";
			break;
		default: /* beyond the order */
			m = resume_msg(f->c.bid, oid, 11, 1, 3);
			says =
			    "record 8 (resume): seq `11' contradicts the order's quantity (`10')";
			break;
		}
		assert_true(add_resume(w, buyer, m, under, (int64_t)f->c.now) == 8);
		ledger_close(w);
		if (test_ledger_verify_file(copy, f->key, &rep) != 1)
			fail_msg("case %d: verify passed", i);
		if (rep.first_bad != 8 || strstr(rep.problem, says) == NULL)
			fail_msg("case %d: record %llu, `%s' lacks `%s'", i,
			    (unsigned long long)rep.first_bad, rep.problem, says);
	}
	/* A third resume, attempt 3: the log still verifies. */
	unlink(copy);
	test_ledger_copy(f->db, copy);
	if (ledger_open(&w, &cfg, err, sizeof(err)) != 0)
		fail_msg("open: %s", err);
	add_resume(w, buyer, resume_msg(f->c.bid, oid, 6, 1, 3), NULL, (int64_t)f->c.now);
	ledger_close(w);
	if (test_ledger_verify_file(copy, f->key, &rep) != 0)
		fail_msg("attempt 3: %s", rep.problem);
}

/* The close a restart writes for an interrupted order counts the resume's
 * receipt as delivered and acknowledged. */
static void
test_resume_interrupted(void **state)
{
	struct fixture *f = *state;
	struct ledger_verify_report rep;
	struct ledger_config cfg;
	char err[LEDGER_ERR_MAX];

	book_host_detach(&f->g);
	ledger_close(f->l);
	memset(&cfg, 0, sizeof(cfg));
	cfg.path = f->db;
	cfg.id = f->c.sid;
	cfg.checkpoint_ms = 3600000;
	if (ledger_open(&f->l, &cfg, err, sizeof(err)) != 0)
		fail_msg("reopen: %s", err);
	book_host_attach(&f->g, &f->c, f->l);
	assert_true(ledger_interrupted(f->l) == 1);
	/* order, two resumes, the held receipts, invoice and payment, close */
	assert_true(ledger_size(f->l) == 7);
	assert_int_equal(
	    test_sql_int(f->db, "SELECT count(*) FROM records WHERE id = 7 AND kind = 'close' AND"
	                        " json_extract(body, '$.detail.reason') = 'interrupted' AND"
	                        " json_extract(body, '$.detail.acked') = 6 AND"
	                        " json_extract(body, '$.detail.delivered') = 6"),
	    1);
	if (test_ledger_verify_file(f->db, f->key, &rep) != 0)
		fail_msg("verify: %s", rep.problem);
}

/* Retention moves resume records with their order, and both files verify. */
static void
test_resume_archive(void **state)
{
	struct fixture *f = *state;
	struct ledger_archive_report ar;
	struct ledger_verify_report rep;
	char path[160], err[LEDGER_ERR_MAX];

	snprintf(path, sizeof(path), "%s/archive.db", f->dir);
	if (ledger_archive(f->db, 5000, path, &ar, err, sizeof(err)) != 0)
		fail_msg("archive: %s", err);
	assert_true(ar.orders == 1 && ar.records == 7);
	assert_int_equal(
	    test_sql_int(path, "SELECT count(*) FROM records WHERE kind = 'resume' AND body != ''"),
	    2);
	if (test_ledger_verify_file(path, f->key, &rep) != 0)
		fail_msg("archive verify: %s", rep.problem);
	assert_true(rep.records == 7 && rep.signatures == 6);
	if (test_ledger_verify_file(f->db, f->key, &rep) != 0)
		fail_msg("live verify: %s", rep.problem);
	assert_true(rep.archived == 7);
	assert_int_equal(ledger_archive_check(f->l, path, &ar, err, sizeof(err)), 0);
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
		cmocka_unit_test_setup_teardown(test_resume_verifies, rsetup, teardown),
		cmocka_unit_test_setup_teardown(test_resume_contradictions, rsetup, teardown),
		cmocka_unit_test_setup_teardown(test_resume_bad_records, rsetup, teardown),
		cmocka_unit_test_setup_teardown(test_resume_archive, rsetup, teardown),
		cmocka_unit_test_setup_teardown(test_resume_interrupted, rsetup_open, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
