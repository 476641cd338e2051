/* The SQLite ledger: a purchase verifies, tampering is caught, proofs check, outbox drains. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "ledger/ledger.h"
#include "ledger/ledger_int.h"
#include "sdpp/treehead.h"
#include "tests/common/ledger_fixture.h"
#include "tests/common/conv.h"
#include "tests/common/book_host.h"

struct fixture {
	char dir[64];
	char db[128];
	struct conv c;
	struct book_host g;
	struct ledger *l;
	uint8_t key[SDPP_SIGN_PUBLIC_BYTES];
	uint64_t records;
};

static void
open_ledger(struct fixture *f, const struct sdpp_identity *id)
{
	struct ledger_config cfg;
	char err[LEDGER_ERR_MAX];

	memset(&cfg, 0, sizeof(cfg));
	cfg.path = f->db;
	cfg.id = id;
	if (ledger_open(&f->l, &cfg, err, sizeof(err)) != 0)
		fail_msg("open: %s", err);
}

/* The purchase (10 items, K = 4, price 3) recorded in a fresh ledger. */
static int
setup_purchase(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	int i;

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/sdpp-ledger-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->db, sizeof(f->db), "%s/ledger.db", f->dir);
	conv_setup(&f->c, 4, 1, 3);
	open_ledger(f, f->c.sid);
	sdpp_identity_sign_public(f->c.sid, f->key);
	book_host_attach(&f->g, &f->c, f->l);
	conv_start(&f->c);
	conv_order(&f->c, "co2", 10);
	for (i = 1; i <= 10; i++)
		conv_sample(&f->c, i);
	assert_int_equal(f->c.statements, 1);
	f->records = ledger_size(f->l);
	*state = f;
	return 0;
}

static int
teardown_purchase(void **state)
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

static void
sql(const char *path, const char *stmt)
{
	sqlite3 *db;
	char *msg = NULL;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	if (sqlite3_exec(db, stmt, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", stmt, msg);
	sqlite3_close(db);
}

static int
count_kind(const struct fixture *f, const char *kind)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	int n = -1;

	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	assert_int_equal(
	    sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM records WHERE kind = ?", -1, &st, NULL),
	    SQLITE_OK);
	sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

static void
test_purchase_verifies(void **state)
{
	struct fixture *f = *state;
	struct ledger_verify_report rep;

	assert_int_equal(count_kind(f, "order"), 1);
	assert_int_equal(count_kind(f, "invoice"), 2);
	assert_int_equal(count_kind(f, "payment"), 2);
	assert_int_equal(count_kind(f, "receipts"), 3); /* items 1-4, 5-8, 9-10 */
	assert_int_equal(count_kind(f, "exit"), 1);
	assert_int_equal(count_kind(f, "close"), 1);
	assert_int_equal(f->records, 10);
	assert_int_equal(test_ledger_verify_file(f->db, f->key, &rep), 0);
	assert_true(rep.records == 10 && rep.tree_heads == 10 && rep.acks == 3);
	/* 1 order + 2 payments + 3 receipts + 1 exit evidence, + 3 stored
	 * ACKs: one per receipts record, the latest, which covers the rest. */
	assert_true(rep.signatures == 10);
	/* Another key is refused. */
	{
		uint8_t other[SDPP_SIGN_PUBLIC_BYTES];

		memcpy(other, f->key, sizeof(other));
		other[0] ^= 1;
		assert_int_equal(test_ledger_verify_file(f->db, other, &rep), 1);
	}
}

/* Flip one byte in the body of every record, at several places: verify must
 * fail and name that record. */
/*
 * The tree head the ledger signs is the one the sdpp/2 statement carries:
 * ledger_sth_input() and sdpp_tree_head_input() give the same bytes, so a
 * buyer's check (sdpp/) and the log's (ledger/) can never diverge; and the
 * latest head read back verifies with the seller key.
 */
static void
test_tree_head_input(void **state)
{
	static const struct {
		uint64_t size;
		int64_t time;
		uint8_t fill;
	} t[] = {
		{ 1, 0, 0x00 },
		{ 6, 1764151208212, 0x40 },
		{ 1000000, 1764151208212, 0xff },
		{ 9007199254740991ULL, 9007199254740991LL, 0x5a },
	};
	struct fixture *f = *state;
	struct sdpp_tree_head th;
	char keyhex[SDPP_HEX_LEN(SDPP_SIGN_PUBLIC_BYTES)], mine[SDPP_TREE_HEAD_INPUT_MAX], *theirs;
	merkle_hash root;
	size_t i, mlen, tlen;

	sdpp_hex_encode(keyhex, f->key, sizeof(f->key));
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		memset(root, t[i].fill, sizeof(root));
		root[0] = (uint8_t)i;
		assert_int_equal(
		    ledger_sth_input(keyhex, t[i].size, root, t[i].time, &theirs, &tlen), 0);
		assert_int_equal(sdpp_tree_head_input(
		                     f->key, t[i].size, root, t[i].time, mine, sizeof(mine), &mlen),
		    SDPP_OK);
		assert_int_equal(mlen, tlen);
		assert_memory_equal(mine, theirs, tlen);
		free(theirs);
	}
	assert_int_equal(ledger_latest_tree_head(f->l, &th), 0);
	assert_true(th.size == f->records);
	assert_int_equal(sdpp_tree_head_verify(&th, f->key), SDPP_OK);
	assert_int_equal(ledger_sth_verify(f->key, th.size, th.root, th.time, th.signature), 0);
}

static void
test_tamper_every_record(void **state)
{
	struct fixture *f = *state;
	struct ledger_verify_report rep;
	char copy[160], stmt[512];
	uint64_t id;
	int pos;

	snprintf(copy, sizeof(copy), "%s/tamper.db", f->dir);
	for (id = 1; id <= f->records; id++) {
		for (pos = 2; pos < 400; pos += 97) {
			test_ledger_copy(f->db, copy);
			/* Replace the byte at pos with a different printable one. */
			snprintf(stmt, sizeof(stmt),
			    "UPDATE records SET body = substr(body, 1, %d) ||"
			    " CASE WHEN substr(body, %d, 1) = 'x' THEN 'y' ELSE 'x' END ||"
			    " substr(body, %d) WHERE id = %llu",
			    pos - 1, pos, pos + 1, (unsigned long long)id);
			sql(copy, stmt);
			assert_int_equal(test_ledger_verify_file(copy, f->key, &rep), 1);
			assert_true(rep.first_bad == id);
		}
	}
}

/* Tamperings beyond a plain byte flip, each with the record verify names. */
static void
test_tamper_table(void **state)
{
	static const struct {
		const char *what;
		const char *stmt;
		uint64_t first_bad; /* 0: any */
		const char *says;
	} t[] = {
		{ "amount column",
		    "UPDATE records SET amount = '1' WHERE kind = 'invoice' AND invoice = 2", 0,
		    "amount column" },
		{ "kind column", "UPDATE records SET kind = 'payment' WHERE id = 1", 1,
		    "kind column" },
		{ "delete a middle row", "DELETE FROM records WHERE id = 4", 4, "missing" },
		{ "delete the last row", "DELETE FROM records WHERE id = 10", 10, "deleted" },
		{ "swap two rows",
		    "UPDATE records SET body = (SELECT body FROM records WHERE id = 3),"
		    " leaf_hash = (SELECT leaf_hash FROM records WHERE id = 3),"
		    " kind = (SELECT kind FROM records WHERE id = 3) WHERE id = 2",
		    2, "body says it is record 3" },
		{ "forged tree head root",
		    "UPDATE tree_heads SET root = CASE WHEN root LIKE '00%' THEN '11' ELSE '00' END"
		    " || substr(root, 3) WHERE size = 7",
		    0, "tree head at size 7" },
		{ "forged tree head signature",
		    "UPDATE tree_heads SET signature = CASE WHEN signature LIKE 'A%' THEN 'B' ELSE "
		    "'A'"
		    " END || substr(signature, 2) WHERE size = 3",
		    3, "bad signature" },
		{ "tree head time changed", "UPDATE tree_heads SET time = time + 1 WHERE size = 5",
		    5, "bad signature" },
		{ "ACK changed",
		    "UPDATE acks SET signature = CASE WHEN signature LIKE 'A%' THEN 'B'"
		    " ELSE 'A' END || substr(signature, 2) WHERE seq = 7",
		    0, "ACK" },
		{ "ACK deleted", "DELETE FROM acks WHERE seq = 3", 0, "do not match" },
		{ "ACK inserted",
		    "INSERT INTO acks SELECT order_id, 99, record, message, signature FROM acks"
		    " WHERE seq = 3",
		    0, "do not match" },
	};
	struct fixture *f = *state;
	struct ledger_verify_report rep;
	char copy[160];
	size_t i;

	snprintf(copy, sizeof(copy), "%s/tamper.db", f->dir);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		test_ledger_copy(f->db, copy);
		sql(copy, t[i].stmt);
		if (test_ledger_verify_file(copy, f->key, &rep) != 1)
			fail_msg("%s: verify passed", t[i].what);
		if (t[i].first_bad != 0 && rep.first_bad != t[i].first_bad)
			fail_msg("%s: named record %llu, not %llu (%s)", t[i].what,
			    (unsigned long long)rep.first_bad, (unsigned long long)t[i].first_bad,
			    rep.problem);
		if (strstr(rep.problem, t[i].says) == NULL)
			fail_msg("%s: message `%s' lacks `%s'", t[i].what, rep.problem, t[i].says);
	}
}

/* A careful forger rewrites a body and its stored leaf hash together: the
 * signed tree heads still catch it. */
static void
test_tamper_with_leaf_hash(void **state)
{
	struct fixture *f = *state;
	struct ledger_verify_report rep;
	sqlite3 *db;
	sqlite3_stmt *st;
	char copy[160], *body, *p;
	merkle_hash leaf;

	snprintf(copy, sizeof(copy), "%s/tamper.db", f->dir);
	test_ledger_copy(f->db, copy);
	assert_int_equal(sqlite3_open(copy, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db,
	                     "SELECT body FROM records WHERE kind = 'invoice'"
	                     " AND invoice = 2",
	                     -1, &st, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	body = strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	p = strstr(body, "\"amount\":\"12\"");
	assert_non_null(p);
	p[10] = '9'; /* "12" -> "92": the buyer was billed 92 */
	assert_int_equal(merkle_leaf_hash(leaf, body, strlen(body)), 0);
	assert_int_equal(sqlite3_prepare_v2(db,
	                     "UPDATE records SET body = ?, leaf_hash = ?,"
	                     " amount = '92' WHERE kind = 'invoice' AND invoice = 2",
	                     -1, &st, NULL),
	    SQLITE_OK);
	sqlite3_bind_text(st, 1, body, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, leaf, sizeof(leaf), SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	sqlite3_close(db);
	free(body);
	assert_int_equal(test_ledger_verify_file(copy, f->key, &rep), 1);
	assert_non_null(strstr(rep.problem, "does not match records"));
}

/* Every record proves against the latest head with the public key alone. */
static void
test_prove_and_check(void **state)
{
	struct fixture *f = *state;
	struct ledger *l;
	char err[LEDGER_ERR_MAX], sum[LEDGER_ERR_MAX], *json, *p;
	uint8_t other[SDPP_SIGN_PUBLIC_BYTES];
	uint64_t id;

	assert_int_equal(ledger_open_ro(&l, f->db, err, sizeof(err)), 0);
	memcpy(other, f->key, sizeof(other));
	other[31] ^= 0x40;
	for (id = 1; id <= f->records; id++) {
		assert_int_equal(ledger_prove(l, id, &json, err, sizeof(err)), 0);
		assert_int_equal(ledger_proof_check(json, strlen(json), f->key, sum, sizeof(sum),
		                     err, sizeof(err)),
		    0);
		assert_non_null(strstr(sum, "ok: record"));
		assert_int_equal(ledger_proof_check(
		                     json, strlen(json), other, sum, sizeof(sum), err, sizeof(err)),
		    -1);
		/* Change the body inside the proof: no longer included. */
		p = strstr(json, "\\\"time\\\":");
		assert_non_null(p);
		p[9] = p[9] == '1' ? '2' : '1';
		assert_int_equal(ledger_proof_check(json, strlen(json), f->key, sum, sizeof(sum),
		                     err, sizeof(err)),
		    -1);
		free(json);
	}
	assert_int_equal(ledger_prove(l, 0, &json, err, sizeof(err)), -1);
	assert_int_equal(ledger_prove(l, f->records + 1, &json, err, sizeof(err)), -1);
	/* Consistency between two heads, and a refusal for a forged one. */
	assert_int_equal(ledger_prove_consistency(l, 3, 10, &json, err, sizeof(err)), 0);
	assert_int_equal(
	    ledger_proof_check(json, strlen(json), f->key, sum, sizeof(sum), err, sizeof(err)), 0);
	assert_non_null(strstr(sum, "consistent"));
	p = strstr(json, "\"consistency\"");
	assert_non_null(p);
	p = strchr(p, '[');
	p = strchr(p, '"') + 1;
	*p = *p == 'a' ? 'b' : 'a';
	assert_int_equal(
	    ledger_proof_check(json, strlen(json), f->key, sum, sizeof(sum), err, sizeof(err)), -1);
	free(json);
	ledger_close(l);
}

/* From the ledger alone: what the buyer acknowledged and paid. */
static int
account_cb(void *ctx, const struct ledger_account *a)
{
	*(struct ledger_account *)ctx = *a;
	return 0;
}

static void
test_dispute_from_ledger(void **state)
{
	struct fixture *f = *state;
	struct ledger_account a;
	struct ledger *l;
	char err[LEDGER_ERR_MAX], bhex[SDPP_HEX_LEN(32)];
	uint8_t buyer[32];

	assert_int_equal(ledger_open_ro(&l, f->db, err, sizeof(err)), 0);
	memset(&a, 0, sizeof(a));
	sdpp_identity_sign_public(f->c.bid, buyer);
	sdpp_hex_encode(bhex, buyer, sizeof(buyer));
	assert_int_equal(ledger_accounts(l, NULL, bhex, account_cb, &a, err, sizeof(err)), 0);
	assert_string_equal(a.buyer, bhex);
	assert_string_equal(a.product, "co2");
	assert_true(a.quantity == 10 && a.price == 3);
	assert_true(a.acknowledged == 10); /* buyer-signed receipts and exit */
	assert_true(a.invoices == 2 && a.invoiced == 24 && a.invoiced_items == 8);
	assert_true(a.paid == 30 && a.owed == 0);
	assert_true(a.exited && a.closed);
	assert_string_equal(a.reason, "settled");
	/* Another buyer has no orders. */
	memset(&a, 0, sizeof(a));
	assert_int_equal(ledger_accounts(l, NULL, "00", account_cb, &a, err, sizeof(err)), 0);
	assert_string_equal(a.order_id, "");
	ledger_close(l);
}

/* A remote that fails twice then succeeds; items survive a restart. */
struct loop_remote {
	uint64_t items[64];
	int n, calls, fail_first, proofs;
};

static int
loop_submit(void *ctx, const struct ledger_outbox_item *it)
{
	struct loop_remote *r = ctx;
	static const uint8_t zero[SDPP_SHA256_BYTES];

	/* A record of this test's kind, or a tree head, with its hash. */
	if (it->tree_head)
		assert_true(it->number >= 1 && it->kind[0] == '\0' && it->order_id[0] == '\0');
	else
		assert_true(it->number >= 1 && strcmp(it->kind, "session") == 0 &&
		            strlen(it->order_id) == 64);
	assert_memory_not_equal(it->hash, zero, sizeof(zero));
	assert_int_equal(strlen(it->log_key), 64);
	/* A failed attempt's proof comes back to the next one. */
	if (strcmp(it->last_error, "timeout") == 0)
		assert_string_equal(it->proof, "maybe-sent");
	r->calls++;
	r->items[r->n++] = it->item;
	return 0;
}

/* Counts outbox items, and those that kept a proof, for ledger_anchors_each(). */
static int
count_anchor(void *ctx, const struct ledger_anchor *a)
{
	struct loop_remote *r = ctx;

	assert_true(a->done);
	assert_true(a->have_expect);
	r->n++;
	if (a->proof[0] != '\0')
		r->proofs++;
	return 0;
}

static void
test_outbox(void **state)
{
	struct fixture *f = *state;
	struct ledger_config cfg;
	struct ledger *l;
	struct ledger_record r;
	struct loop_remote rem;
	struct ledger_remote ops = { "loopback", "loopback-1", &rem, loop_submit };
	char err[LEDGER_ERR_MAX], path[160];
	uint8_t oid[32] = { 7 }, buyer[32] = { 9 };
	uint64_t id;
	int64_t now = 1000000;
	int i;

	memset(&rem, 0, sizeof(rem));
	snprintf(path, sizeof(path), "%s/outbox.db", f->dir);
	memset(&cfg, 0, sizeof(cfg));
	cfg.path = path;
	cfg.id = f->c.sid;
	cfg.anchor_kinds = 1u << LEDGER_SESSION;
	cfg.anchor_tree_heads = 1;
	assert_int_equal(ledger_open(&l, &cfg, err, sizeof(err)), 0);
	for (i = 0; i < 3; i++) {
		assert_int_equal(ledger_record_session(&r, oid, buyer, now), 0);
		assert_int_equal(ledger_append(l, &r, &id, err, sizeof(err)), 0);
		ledger_record_clear(&r);
	}
	assert_int_equal(ledger_commit(l, now, err, sizeof(err)), 0);
	/* Three records and one tree head queued durably. */
	assert_true(ledger_outbox_pending(l) == 4);
	ledger_close(l); /* restart before anything was sent */
	assert_int_equal(ledger_open(&l, &cfg, err, sizeof(err)), 0);
	assert_true(ledger_outbox_pending(l) == 4);
	assert_int_equal(ledger_set_remote(l, &ops, err, sizeof(err)), 0);
	assert_int_equal(ledger_outbox_poll(l, now, err, sizeof(err)), 4);
	/* In flight: not submitted twice. */
	assert_int_equal(ledger_outbox_poll(l, now, err, sizeof(err)), 0);
	/* The remote is down: every item fails, and is retried after backoff. */
	for (i = 0; i < 4; i++)
		assert_int_equal(ledger_outbox_done(l, rem.items[i], 0, "timeout", "maybe-sent",
		                     now, err, sizeof(err)),
		    0);
	assert_int_equal(ledger_outbox_poll(l, now, err, sizeof(err)), 0);
	assert_true(ledger_outbox_next(l) >= now + 1000 && ledger_outbox_next(l) < now + 1250);
	now += 1250;
	rem.n = 0;
	assert_int_equal(ledger_outbox_poll(l, now, err, sizeof(err)), 4);
	for (i = 0; i < 2; i++)
		assert_int_equal(ledger_outbox_done(l, rem.items[i], 0, "timeout", "maybe-sent",
		                     now, err, sizeof(err)),
		    0);
	for (i = 2; i < 4; i++)
		assert_int_equal(ledger_outbox_done(l, rem.items[i], 1, "0xdigest", "proof", now,
		                     err, sizeof(err)),
		    0);
	/* Second failure doubles the delay. */
	assert_true(ledger_outbox_next(l) >= now + 2000 && ledger_outbox_next(l) < now + 2500);
	assert_true(ledger_outbox_pending(l) == 2);
	now += 60000;
	rem.n = 0;
	assert_int_equal(ledger_outbox_poll(l, now, err, sizeof(err)), 2);
	for (i = 0; i < 2; i++)
		assert_int_equal(ledger_outbox_done(l, rem.items[i], 1, "0xdigest", "proof", now,
		                     err, sizeof(err)),
		    0);
	assert_true(ledger_outbox_pending(l) == 0);
	assert_true(ledger_outbox_next(l) == INT64_MAX);
	assert_int_equal(rem.calls, 10);
	ledger_close(l);

	/* The log notes where its anchors went, and keeps to one place. */
	assert_int_equal(ledger_open(&l, &cfg, err, sizeof(err)), 0);
	{
		struct ledger_remote other = ops;
		char where[LEDGER_REF_MAX];

		other.where = "loopback-2";
		assert_int_equal(ledger_set_remote(l, &other, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "anchors are on loopback-1, not loopback-2"));
		assert_int_equal(ledger_set_remote(l, &ops, err, sizeof(err)), 0);
		assert_int_equal(ledger_remote_where(l, where, sizeof(where)), 0);
		assert_string_equal(where, "loopback-1");
	}
	ledger_close(l);

	/* Each anchored item kept its proof. */
	assert_int_equal(ledger_open_ro(&l, path, err, sizeof(err)), 0);
	rem.n = 0;
	assert_int_equal(ledger_anchors_each(l, count_anchor, &rem), 0);
	assert_int_equal(rem.n, 4);
	assert_int_equal(rem.proofs, 4);
	ledger_close(l);
	/* A ledger from before proofs were kept: an auditor reads it as it
	 * is, and the gateway adds the column when it opens it. */
	sql(path, "ALTER TABLE outbox DROP COLUMN proof");
	assert_int_equal(ledger_open_ro(&l, path, err, sizeof(err)), 0);
	rem.n = 0;
	assert_int_equal(ledger_anchors_each(l, count_anchor, &rem), 0);
	assert_int_equal(rem.n, 4);
	ledger_close(l);
	assert_int_equal(ledger_open(&l, &cfg, err, sizeof(err)), 0);
	ledger_close(l);
	assert_int_equal(ledger_open_ro(&l, path, err, sizeof(err)), 0);
	rem.n = 0;
	rem.proofs = 0;
	assert_int_equal(ledger_anchors_each(l, count_anchor, &rem), 0);
	assert_int_equal(rem.n, 4);
	assert_int_equal(rem.proofs, 0); /* the migrated column starts empty */
	ledger_close(l);
}

/* Group commit: many appends, one transaction, one tree head. */
static void
test_group_commit(void **state)
{
	struct fixture *f = *state;
	struct ledger_config cfg;
	struct ledger *l;
	struct ledger_record r;
	struct ledger_verify_report rep;
	char err[LEDGER_ERR_MAX], path[160];
	uint8_t oid[32] = { 1 }, buyer[32] = { 2 };
	uint64_t id, i;

	snprintf(path, sizeof(path), "%s/group.db", f->dir);
	memset(&cfg, 0, sizeof(cfg));
	cfg.path = path;
	cfg.id = f->c.sid;
	assert_int_equal(ledger_open(&l, &cfg, err, sizeof(err)), 0);
	for (i = 1; i <= 100; i++) {
		assert_int_equal(ledger_record_session(&r, oid, buyer, 5), 0);
		assert_int_equal(ledger_append(l, &r, &id, err, sizeof(err)), 0);
		assert_true(id == i);
		ledger_record_clear(&r);
	}
	assert_true(ledger_pending(l) == 100 && ledger_size(l) == 0);
	assert_int_equal(ledger_commit(l, 6, err, sizeof(err)), 0);
	assert_true(ledger_pending(l) == 0 && ledger_size(l) == 100);
	ledger_close(l);
	assert_int_equal(test_ledger_verify_file(path, NULL, &rep), 0);
	assert_true(rep.records == 100 && rep.tree_heads == 1);
	/* A log written with one key refuses to open with another. */
	cfg.id = f->c.bid;
	assert_int_equal(ledger_open(&l, &cfg, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "belongs to key"));
}

/*
 * Kill a writer at random points: the log always verifies, no half record.
 * Each writer says when its first batch is committed, and is killed at a
 * random time after that: before it, on a loaded machine, the first round
 * could find no ledger at all (that case is tested on its own below).
 */
static void
test_crash_writer(void **state)
{
	struct fixture *f = *state;
	struct ledger_verify_report rep;
	struct ledger *l;
	char path[160], err[LEDGER_ERR_MAX];
	uint64_t last = 0;
	unsigned seed = 12345;
	int round, fd;

	/* A file no gateway finished creating is called empty, not foreign. */
	snprintf(path, sizeof(path), "%s/empty.db", f->dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(ledger_open_ro(&l, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "empty: no ledger has been written to it yet"));

	snprintf(path, sizeof(path), "%s/crash.db", f->dir);
	for (round = 0; round < 12; round++) {
		int sync[2];
		char c;
		pid_t pid;

		assert_int_equal(pipe(sync), 0);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			struct ledger_config cfg;
			struct ledger_record r;
			uint8_t oid[32] = { 3 }, buyer[32] = { 4 };
			uint64_t id;
			int k;

			close(sync[0]);
			memset(&cfg, 0, sizeof(cfg));
			cfg.path = path;
			cfg.id = f->c.sid;
			if (ledger_open(&l, &cfg, err, sizeof(err)) != 0)
				_exit(2);
			for (;;) {
				for (k = 0; k < 5; k++) {
					if (ledger_record_session(&r, oid, buyer, k) != 0 ||
					    ledger_append(l, &r, &id, err, sizeof(err)) != 0)
						_exit(3);
					ledger_record_clear(&r);
				}
				if (ledger_commit(l, 1, err, sizeof(err)) != 0)
					_exit(4);
				if (sync[1] >= 0) {
					(void)write(sync[1], "c", 1);
					close(sync[1]);
					sync[1] = -1;
				}
			}
		}
		close(sync[1]);
		/* EOF instead means the writer died on its own: caught below. */
		(void)read(sync[0], &c, 1);
		close(sync[0]);
		seed = seed * 1103515245u + 12345u;
		{
			struct timespec ts = { 0, (long)((seed >> 8) % 60000) * 1000 };

			nanosleep(&ts, NULL);
		}
		kill(pid, SIGKILL);
		{
			int st = 0;

			assert_int_equal(waitpid(pid, &st, 0), pid);
			if (WIFEXITED(st))
				fail_msg("round %d: the writer failed (exit %d)", round,
				    WEXITSTATUS(st));
		}
		if (test_ledger_verify_file(path, f->key, &rep) != 0)
			fail_msg("round %d: %s", round, rep.problem);
		/* Whole batches only, and never fewer than before. */
		assert_true(rep.records % 5 == 0);
		assert_true(rep.records >= last);
		last = rep.records;
	}
	assert_true(last > 0);
}

/* The id of the purchase's record of this kind and invoice number. */
static uint64_t
record_id(const char *path, const char *where)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	char q[256];
	uint64_t id = 0;

	snprintf(q, sizeof(q), "SELECT id FROM records WHERE %s", where);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, q, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		id = (uint64_t)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	assert_true(id > 0);
	return id;
}

/* A careful forger's edit: the body's amount and its leaf hash, together. */
static void
forge_with_leaf(const char *path, uint64_t id)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	char *body, *p;
	merkle_hash leaf;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(
	    sqlite3_prepare_v2(db, "SELECT body FROM records WHERE id = ?", -1, &st, NULL),
	    SQLITE_OK);
	sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	body = strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	p = strstr(body, "\"total\":\"");
	assert_non_null(p);
	p[9] = p[9] == '9' ? '8' : '9';
	assert_int_equal(merkle_leaf_hash(leaf, body, strlen(body)), 0);
	assert_int_equal(
	    sqlite3_prepare_v2(
	        db, "UPDATE records SET body = ?, leaf_hash = ? WHERE id = ?", -1, &st, NULL),
	    SQLITE_OK);
	sqlite3_bind_text(st, 1, body, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, leaf, sizeof(leaf), SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)id);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	sqlite3_close(db);
	free(body);
}

/* ledger_open with the purchase's key on path: 0, or -1 with err. */
static int
open_rw(const struct fixture *f, const char *path, char *err, size_t errlen)
{
	struct ledger_config cfg;
	struct ledger *l;

	memset(&cfg, 0, sizeof(cfg));
	cfg.path = path;
	cfg.id = f->c.sid;
	if (ledger_open(&l, &cfg, err, errlen) != 0)
		return -1;
	ledger_close(l);
	return 0;
}

/*
 * A writer checks the log against its latest signed tree head before it
 * signs anything new: each forgery is refused at open, naming the first
 * bad record (or the narrowest range the file allows).
 */
static void
test_open_refuses_forgeries(void **state)
{
	struct fixture *f = *state;
	char copy[160], stmt[256], want[128], err[LEDGER_ERR_MAX];
	uint64_t pay, inv;

	snprintf(copy, sizeof(copy), "%s/forged.db", f->dir);
	pay = record_id(f->db, "kind = 'payment' AND invoice = 2");
	inv = record_id(f->db, "kind = 'invoice' AND invoice = 2");
	assert_true(pay < 8);

	/* A clean copy opens, and has nothing to close. */
	test_ledger_copy(f->db, copy);
	assert_int_equal(open_rw(f, copy, err, sizeof(err)), 0);

	/* The forgery: a payment's body and amount changed, its leaf
	 * recomputed, every tree head that covers it deleted. The copy of the
	 * newest head kept outside tree_heads remains and gives it away. */
	test_ledger_copy(f->db, copy);
	forge_with_leaf(copy, pay);
	snprintf(stmt, sizeof(stmt), "DELETE FROM tree_heads WHERE size >= %llu",
	    (unsigned long long)pay);
	sql(copy, stmt);
	assert_int_equal(open_rw(f, copy, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "records %llu-8 was changed", (unsigned long long)pay);
	if (strstr(err, "signed tree head at size 10") == NULL || strstr(err, want) == NULL)
		fail_msg("recomputed leaf, heads deleted: `%s'", err);

	/* The same with the newest head left in tree_heads too. */
	test_ledger_copy(f->db, copy);
	forge_with_leaf(copy, pay);
	snprintf(stmt, sizeof(stmt), "DELETE FROM tree_heads WHERE size >= %llu AND size < 10",
	    (unsigned long long)pay);
	sql(copy, stmt);
	assert_int_equal(open_rw(f, copy, err, sizeof(err)), -1);
	if (strstr(err, "signed tree head at size 10") == NULL)
		fail_msg("recomputed leaf, newer head left: `%s'", err);

	/* Every head deleted, the meta copy too: the log now reads as an older
	 * log plus unsigned records; a body that does not hash to its leaf is
	 * still named. */
	test_ledger_copy(f->db, copy);
	snprintf(stmt, sizeof(stmt),
	    "UPDATE records SET body = replace(body, '\"amount\":\"12\"', '\"amount\":\"92\"')"
	    " WHERE id = %llu; DELETE FROM tree_heads WHERE size >= %llu;"
	    " DELETE FROM meta WHERE key = 'head'",
	    (unsigned long long)inv, (unsigned long long)inv);
	sql(copy, stmt);
	assert_int_equal(open_rw(f, copy, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "record %llu: its body does not hash to its leaf",
	    (unsigned long long)inv);
	if (strstr(err, want) == NULL)
		fail_msg("body changed, no heads: `%s'", err);

	/* A changed body after the newest head (unsigned records). */
	test_ledger_copy(f->db, copy);
	sql(copy, "UPDATE records SET body = replace(body, '\"kind\"', '\"kind\" ') WHERE id = 10;"
	          " DELETE FROM tree_heads WHERE size = 10;"
	          " DELETE FROM meta WHERE key = 'head'");
	assert_int_equal(open_rw(f, copy, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "record 10: its body does not hash to its leaf"));

	/* Tail truncation with the heads left, and with only the meta copy. */
	test_ledger_copy(f->db, copy);
	sql(copy, "DELETE FROM records WHERE id > 8");
	assert_int_equal(open_rw(f, copy, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "covers 10 records but only 8 are present"));
	test_ledger_copy(f->db, copy);
	sql(copy, "DELETE FROM records WHERE id > 8; DELETE FROM tree_heads WHERE size > 8");
	assert_int_equal(open_rw(f, copy, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "covers 10 records but only 8 are present"));

	/* Tree heads deleted and nothing else changed. */
	test_ledger_copy(f->db, copy);
	sql(copy, "DELETE FROM tree_heads WHERE size > 6");
	assert_int_equal(open_rw(f, copy, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "tree heads after size 6 were deleted"));

	/* A forged signature on the newest head. */
	test_ledger_copy(f->db, copy);
	sql(copy, "UPDATE tree_heads SET time = time + 1 WHERE size = 10");
	assert_int_equal(open_rw(f, copy, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "tree head at size 10 has a bad signature"));

	/* What the start check does not catch: a body changed under a signed
	 * head, its leaf left alone (that is `sdpp ledger verify`'s job).
	 * The new tree head grows from the signed frontier, so it does not
	 * endorse the change: verify still names the record. */
	{
		struct ledger_config cfg;
		struct ledger_verify_report rep;
		struct ledger_record r;
		struct ledger *l;
		uint8_t oid[32] = { 9 }, buyer[32] = { 8 };
		uint64_t id;

		test_ledger_copy(f->db, copy);
		snprintf(stmt, sizeof(stmt),
		    "UPDATE records SET body = replace(body, '\"amount\":\"12\"',"
		    " '\"amount\":\"92\"') WHERE id = %llu",
		    (unsigned long long)inv);
		sql(copy, stmt);
		memset(&cfg, 0, sizeof(cfg));
		cfg.path = copy;
		cfg.id = f->c.sid;
		assert_int_equal(ledger_open(&l, &cfg, err, sizeof(err)), 0);
		assert_int_equal(ledger_record_session(&r, oid, buyer, 5), 0);
		assert_int_equal(ledger_append(l, &r, &id, err, sizeof(err)), 0);
		ledger_record_clear(&r);
		assert_int_equal(ledger_commit(l, 6, err, sizeof(err)), 0);
		ledger_close(l);
		assert_int_equal(test_ledger_verify_file(copy, f->key, &rep), 1);
		assert_true(rep.first_bad == inv);
	}
}

/* A ledger the daemon cannot write is refused at open, not at the first
 * commit; so is one in a directory that does not exist. */
static void
test_open_refuses_unwritable(void **state)
{
	struct fixture *f = *state;
	char copy[160], err[LEDGER_ERR_MAX];

	snprintf(copy, sizeof(copy), "%s/ro.db", f->dir);
	test_ledger_copy(f->db, copy);
	assert_int_equal(chmod(copy, 0444), 0);
	assert_int_equal(open_rw(f, copy, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "read-only (mode 0444)"));
	assert_int_equal(ledger_check_writable(copy, err, sizeof(err)), -1);
	assert_int_equal(chmod(copy, 0644), 0);
	assert_int_equal(ledger_check_writable(copy, err, sizeof(err)), 0);

	snprintf(copy, sizeof(copy), "%s/no/such/dir/ledger.db", f->dir);
	assert_int_equal(open_rw(f, copy, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "does not exist"));
	assert_int_equal(access(copy, F_OK), -1);
}

/*
 * A writer that died mid-order left an order without a close record: the
 * next open closes it as `interrupted' with what the ledger proves, in one
 * commit with a signed tree head; the log verifies and the next open has
 * nothing more to close.
 */
static void
test_open_closes_interrupted(void **state)
{
	struct fixture *f = *state;
	struct ledger_config cfg;
	struct ledger_verify_report rep;
	struct ledger_account a;
	struct ledger *l;
	struct conv c;
	struct book_host g;
	char path[160], err[LEDGER_ERR_MAX];
	uint64_t before;
	int i;

	snprintf(path, sizeof(path), "%s/cut.db", f->dir);
	conv_setup(&c, 4, 1, 3);
	memset(&cfg, 0, sizeof(cfg));
	cfg.path = path;
	cfg.id = c.sid;
	cfg.sth_every = 1000; /* the cut leaves unsigned records too */
	assert_int_equal(ledger_open(&l, &cfg, err, sizeof(err)), 0);
	book_host_attach(&g, &c, l);
	conv_start(&c);
	conv_order(&c, "co2", 10);
	for (i = 1; i <= 6; i++)
		conv_sample(&c, i);
	book_host_detach(&g);
	before = ledger_size(l);
	ledger_close(l); /* the daemon "died": no close record */

	cfg.sth_every = 0;
	assert_int_equal(ledger_open(&l, &cfg, err, sizeof(err)), 0);
	assert_true(ledger_interrupted(l) == 1);
	assert_true(ledger_size(l) == before + 1);
	memset(&a, 0, sizeof(a));
	assert_int_equal(ledger_accounts(l, NULL, NULL, account_cb, &a, err, sizeof(err)), 0);
	assert_true(a.closed);
	assert_string_equal(a.reason, "interrupted");
	/* Item 4's ACK came after the invoice: the receipts prove 1-3. */
	assert_true(a.acknowledged == 3 && a.delivered == 3);
	assert_true(a.invoiced_items == 4 && a.invoiced == 12 && a.paid == 12 && a.owed == 0);
	ledger_close(l);
	assert_int_equal(test_ledger_verify_file(path, NULL, &rep), 0);
	assert_true(rep.tree_heads >= 1);
	assert_int_equal(ledger_open(&l, &cfg, err, sizeof(err)), 0);
	assert_true(ledger_interrupted(l) == 0 && ledger_size(l) == before + 1);
	ledger_close(l);
	conv_teardown(&c);
}

/* With sth_every far above the order's records, the commit that records
 * the buyer's exit still signs a tree head, and it covers the exit: the
 * closing statement hands it to the buyer as its witness. */
static void
test_exit_signs_tree_head(void **state)
{
	struct fixture *f = *state;
	struct ledger_config cfg;
	struct ledger_verify_report rep;
	struct sdpp_tree_head th;
	struct ledger *l;
	struct conv c;
	struct book_host g;
	char path[160], err[LEDGER_ERR_MAX];
	int i;

	snprintf(path, sizeof(path), "%s/sparse.db", f->dir);
	conv_setup(&c, 4, 1, 3);
	memset(&cfg, 0, sizeof(cfg));
	cfg.path = path;
	cfg.id = c.sid;
	cfg.sth_every = 1000;
	assert_int_equal(ledger_open(&l, &cfg, err, sizeof(err)), 0);
	book_host_attach(&g, &c, l);
	conv_start(&c);
	conv_order(&c, "co2", 10);
	for (i = 1; i <= 10; i++)
		conv_sample(&c, i);
	assert_int_equal(c.statements, 1);
	book_host_detach(&g);
	assert_int_equal(g.appended[LEDGER_EXIT], 1);
	assert_int_equal(ledger_latest_tree_head(l, &th), 0);
	/* The close came after the exit, in a commit of its own, unsigned. */
	assert_true(th.size == ledger_size(l) - 1);
	ledger_close(l);
	assert_int_equal(test_ledger_verify_file(path, NULL, &rep), 0);
	assert_true(rep.tree_heads == 1);
	conv_teardown(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_purchase_verifies, setup_purchase, teardown_purchase),
		cmocka_unit_test_setup_teardown(
		    test_tamper_every_record, setup_purchase, teardown_purchase),
		cmocka_unit_test_setup_teardown(
		    test_exit_signs_tree_head, setup_purchase, teardown_purchase),
		cmocka_unit_test_setup_teardown(
		    test_tamper_table, setup_purchase, teardown_purchase),
		cmocka_unit_test_setup_teardown(
		    test_tamper_with_leaf_hash, setup_purchase, teardown_purchase),
		cmocka_unit_test_setup_teardown(
		    test_prove_and_check, setup_purchase, teardown_purchase),
		cmocka_unit_test_setup_teardown(
		    test_dispute_from_ledger, setup_purchase, teardown_purchase),
		cmocka_unit_test_setup_teardown(test_outbox, setup_purchase, teardown_purchase),
		cmocka_unit_test_setup_teardown(
		    test_tree_head_input, setup_purchase, teardown_purchase),
		cmocka_unit_test_setup_teardown(
		    test_group_commit, setup_purchase, teardown_purchase),
		cmocka_unit_test_setup_teardown(
		    test_crash_writer, setup_purchase, teardown_purchase),
		cmocka_unit_test_setup_teardown(
		    test_open_refuses_forgeries, setup_purchase, teardown_purchase),
		cmocka_unit_test_setup_teardown(
		    test_open_refuses_unwritable, setup_purchase, teardown_purchase),
		cmocka_unit_test_setup_teardown(
		    test_open_closes_interrupted, setup_purchase, teardown_purchase),
	};

	return cmocka_run_group_tests_name("ledger", tests, NULL, NULL);
}
