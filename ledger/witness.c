/* Witnesses: a buyer's receipt (a signed tree head) checked against the log. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "ledger/ledger.h"
#include "ledger/ledger_int.h"
#include "sdpp/enc.h"
#include "sdpp/json.h"

/* "ledger:ID" -> ID, or 0 if the record is named otherwise. */
static uint64_t
record_id(const char *verification)
{
	const char *p = verification + strlen(LEDGER_ID_PREFIX);
	char *end;
	unsigned long long v;

	if (strncmp(verification, LEDGER_ID_PREFIX, strlen(LEDGER_ID_PREFIX)) != 0 || *p < '1' ||
	    *p > '9')
		return 0;
	v = strtoull(p, &end, 10);
	if (*end != '\0' || v > (unsigned long long)SDPP_JSON_INT_MAX)
		return 0;
	return (uint64_t)v;
}

/* The root of the log's first n records, from their stored leaf hashes
 * (which ledger_verify() ties to the bodies). -1 if fewer than n. */
static int
root_at(struct ledger *l, uint64_t n, merkle_hash root)
{
	struct merkle_frontier f;
	sqlite3_stmt *st = NULL;
	uint64_t i = 0;
	int rc = -1;

	merkle_frontier_init(&f);
	if (sqlite3_prepare_v2(ledger_db(l),
	        "SELECT id, leaf_hash FROM records WHERE id <= ? ORDER BY id", -1, &st,
	        NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)n);
	while (i < n && sqlite3_step(st) == SQLITE_ROW) {
		if ((uint64_t)sqlite3_column_int64(st, 0) != i + 1 ||
		    sqlite3_column_bytes(st, 1) != MERKLE_HASH_BYTES ||
		    merkle_frontier_push(&f, sqlite3_column_blob(st, 1)) != 0)
			goto out;
		i++;
	}
	if (i == n && merkle_frontier_root(&f, root) == 0)
		rc = 0;
out:
	sqlite3_finalize(st);
	return rc;
}

/* 0 if record id is the exit record of order_hex and its body gives its
 * leaf hash; 1 (problem in err) if not; -1 on read errors. */
static int
check_exit_record(struct ledger *l, uint64_t id, const char *order_hex, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	merkle_hash leaf;
	const char *kind, *oid, *body;
	int rc = -1;

	if (sqlite3_prepare_v2(ledger_db(l),
	        "SELECT kind, order_id, body, leaf_hash FROM records WHERE id = ?", -1, &st,
	        NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
	if (sqlite3_step(st) != SQLITE_ROW) {
		snprintf(err, errlen, "record %" PRIu64 " (the exit) is missing", id);
		rc = 1;
		goto out;
	}
	kind = (const char *)sqlite3_column_text(st, 0);
	oid = (const char *)sqlite3_column_text(st, 1);
	body = (const char *)sqlite3_column_text(st, 2);
	if (kind == NULL || oid == NULL || body == NULL)
		goto out;
	rc = 1;
	if (merkle_leaf_hash(leaf, body, strlen(body)) != 0 ||
	    sqlite3_column_bytes(st, 3) != MERKLE_HASH_BYTES ||
	    memcmp(leaf, sqlite3_column_blob(st, 3), MERKLE_HASH_BYTES) != 0)
		snprintf(err, errlen,
		    "record %" PRIu64 " (the exit): body does not match its leaf hash", id);
	else if (strcmp(kind, ledger_kind_name(LEDGER_EXIT)) != 0 || strcmp(oid, order_hex) != 0)
		snprintf(err, errlen,
		    "record %" PRIu64 " is a %s record of order %.16s..., not the exit of order "
		    "%.16s...",
		    id, kind, oid, order_hex);
	else
		rc = 0;
out:
	sqlite3_finalize(st);
	return rc;
}

int
ledger_witness_check(struct ledger *l, const struct sdpp_receipt *w, char *summary, size_t sumlen,
    char *err, size_t errlen)
{
	const struct sdpp_tree_head *th = &w->statement.tree_head;
	char order_hex[SDPP_HEX_LEN(SDPP_ORDER_ID_BYTES)];
	merkle_hash root;
	uint64_t size = ledger_size(l), exit_id = record_id(w->record);
	int rc;

	/* The receipt's seller key signed the head (sdpp_receipt_parse()
	 * checked); it must be this log's key too. */
	if (memcmp(w->seller, ledger_key(l), SDPP_SIGN_PUBLIC_BYTES) != 0) {
		snprintf(err, errlen, "the witness is from another seller key than this log's (%s)",
		    ledger_keyhex(l));
		return 1;
	}
	if (sdpp_tree_head_verify(th, ledger_key(l)) != SDPP_OK) {
		snprintf(err, errlen, "the tree head's signature does not verify with the log key");
		return 1;
	}
	if (size < th->size) {
		snprintf(err, errlen,
		    "truncated: the seller signed a log of %" PRIu64 " records at time %" PRId64
		    ", this one has only %" PRIu64,
		    th->size, th->time, size);
		return 1;
	}
	if (root_at(l, th->size, root) != 0) {
		snprintf(err, errlen,
		    "truncated: the log lacks records among its first %" PRIu64
		    " (the witness's size)",
		    th->size);
		return 1;
	}
	if (memcmp(root, th->root, MERKLE_HASH_BYTES) != 0) {
		snprintf(err, errlen,
		    "forked: the log's first %" PRIu64 " records do not give the root the seller "
		    "signed at time %" PRId64 ": a record before %" PRIu64
		    " was changed, removed or replaced",
		    th->size, th->time, th->size + 1);
		return 1;
	}
	sdpp_hex_encode(order_hex, w->statement.order_id, SDPP_ORDER_ID_BYTES);
	if (exit_id != 0 && exit_id <= th->size) {
		rc = check_exit_record(l, exit_id, order_hex, err, errlen);
		if (rc != 0)
			return rc;
		snprintf(summary, sumlen,
		    "ok: the log extends the seller's tree head of %" PRIu64
		    " records (time %" PRId64 "), which holds exit record %" PRIu64
		    " of order %.16s...",
		    th->size, th->time, exit_id, order_hex);
	} else {
		snprintf(summary, sumlen,
		    "ok: the log extends the seller's tree head of %" PRIu64
		    " records (time %" PRId64
		    "); the exit record (%s) is not covered by it, so not checked",
		    th->size, th->time, w->record);
	}
	return 0;
}
