/* Accounts per order from the records alone: ordered, received, invoiced, paid, owed. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "ledger/ledger.h"
#include "ledger/ledger_int.h"
#include "sdpp/enc.h"
#include "sdpp/json.h"

static const char *
jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static uint64_t
jnum(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsNumber(v) && v->valuedouble >= 0 ? (uint64_t)v->valuedouble : 0;
}

static uint64_t
jmoney(const cJSON *o, const char *k)
{
	uint64_t v = 0;
	const char *s = jstr(o, k);

	if (s == NULL || sdpp_money_parse(&v, s) != SDPP_OK)
		return 0;
	return v;
}

static uint64_t
max64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

/* Folds one record into its order's account. */
static void
fold(struct ledger_account *a, const char *kind, const cJSON *d, uint64_t id, int64_t time)
{
	a->last_at = time;
	if (strcmp(kind, "order") == 0) {
		a->order_record = id;
		a->ordered_at = time;
		snprintf(a->product, sizeof(a->product), "%s",
		    jstr(d, "product") != NULL ? jstr(d, "product") : "");
		snprintf(a->currency, sizeof(a->currency), "%s",
		    jstr(d, "currency") != NULL ? jstr(d, "currency") : "");
		a->quantity = jnum(d, "quantity");
		a->price = jmoney(d, "price");
	} else if (strcmp(kind, "invoice") == 0) {
		/* A merged record stands for invoices first_invoice..invoice. */
		a->invoices = max64(a->invoices, jnum(d, "invoice"));
		a->invoiced_items = max64(a->invoiced_items, jnum(d, "last_seq"));
		a->invoiced = max64(a->invoiced, jmoney(d, "total_due"));
	} else if (strcmp(kind, "payment") == 0) {
		a->paid = max64(a->paid, jmoney(d, "total"));
		if (jstr(d, "method") != NULL && strcmp(jstr(d, "method"), "voucher") != 0)
			a->chain = 1;
	} else if (strcmp(kind, "receipts") == 0) {
		a->acknowledged = max64(a->acknowledged, jnum(d, "last_seq"));
	} else if (strcmp(kind, "resume") == 0) {
		/* The buyer's signed resume is a receipt for 1..seq. */
		a->acknowledged = max64(a->acknowledged, jnum(d, "seq"));
	} else if (strcmp(kind, "exit") == 0) {
		a->exited = 1;
		a->acknowledged = max64(a->acknowledged, jnum(d, "seq"));
		a->promised = max64(a->promised, jmoney(d, "total"));
	} else if (strcmp(kind, "close") == 0) {
		a->closed = 1;
		a->delivered = jnum(d, "delivered");
		snprintf(a->reason, sizeof(a->reason), "%s",
		    jstr(d, "reason") != NULL ? jstr(d, "reason") : "");
		/* Only a ledger method leaves an exit owing (gateway/server.c). */
		if (strcmp(a->reason, "exit_owes") == 0)
			a->chain = 1;
	}
}

static void
settle(struct ledger_account *a)
{
	uint64_t due = a->invoiced, got;

	if (!a->chain)
		a->paid = max64(a->paid, a->promised);

	/* Overflow-safe: an absurd product is treated as "everything owed". */
	if (sdpp_money_mul(&got, a->acknowledged, a->price) == SDPP_OK)
		due = max64(due, got);
	else
		due = UINT64_MAX;
	a->owed = due > a->paid ? due - a->paid : 0;
	if (a->delivered < a->acknowledged)
		a->delivered = a->acknowledged;
}

int
ledger_accounts(struct ledger *l, const char *order_hex, const char *buyer_hex,
    int (*fn)(void *ctx, const struct ledger_account *a), void *ctx, char *err, size_t errlen)
{
	sqlite3_stmt *orders = NULL, *recs = NULL, *held = NULL;
	struct ledger_account a;
	int rc = -1, s;

	/* One pass per order keeps memory flat however large the log is. */
	if (sqlite3_prepare_v2(ledger_db(l),
	        "SELECT order_id, MIN(id) AS first FROM records"
	        " WHERE (?1 IS NULL OR order_id = ?1) AND (?2 IS NULL OR buyer = ?2)"
	        " GROUP BY order_id ORDER BY first",
	        -1, &orders, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(ledger_db(l),
	        "SELECT id, kind, time, buyer, body FROM records"
	        " WHERE order_id = ? ORDER BY id",
	        -1, &recs, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s", sqlite3_errmsg(ledger_db(l)));
		goto out;
	}
	/* An open order's latest invoice, payment and receipts are held until
	 * its next checkpoint (held.c): they count too. A ledger older than
	 * held records has no such table. */
	if (sqlite3_prepare_v2(ledger_db(l),
	        "SELECT kind, time, detail FROM held WHERE order_id = ?", -1, &held,
	        NULL) != SQLITE_OK)
		held = NULL;
	if (order_hex != NULL)
		sqlite3_bind_text(orders, 1, order_hex, -1, SQLITE_STATIC);
	if (buyer_hex != NULL)
		sqlite3_bind_text(orders, 2, buyer_hex, -1, SQLITE_STATIC);
	while ((s = sqlite3_step(orders)) == SQLITE_ROW) {
		memset(&a, 0, sizeof(a));
		snprintf(a.order_id, sizeof(a.order_id), "%s",
		    (const char *)sqlite3_column_text(orders, 0));
		sqlite3_reset(recs);
		sqlite3_bind_text(recs, 1, a.order_id, -1, SQLITE_STATIC);
		while (sqlite3_step(recs) == SQLITE_ROW) {
			const char *body = (const char *)sqlite3_column_text(recs, 4);
			cJSON *root = NULL;

			snprintf(a.buyer, sizeof(a.buyer), "%s",
			    (const char *)sqlite3_column_text(recs, 3));
			if (sqlite3_column_bytes(recs, 4) == 0) {
				a.archived++; /* archive.c: the body is elsewhere */
				continue;
			}
			if (sdpp_json_parse(&root, body, (size_t)sqlite3_column_bytes(recs, 4),
			        NULL, 0) != SDPP_OK)
				continue; /* `verify` reports it; an account skips it */
			fold(&a, (const char *)sqlite3_column_text(recs, 1),
			    cJSON_GetObjectItemCaseSensitive(root, "detail"),
			    (uint64_t)sqlite3_column_int64(recs, 0), sqlite3_column_int64(recs, 2));
			cJSON_Delete(root);
		}
		if (held != NULL) {
			sqlite3_reset(held);
			sqlite3_bind_text(held, 1, a.order_id, -1, SQLITE_STATIC);
			while (sqlite3_step(held) == SQLITE_ROW) {
				cJSON *d = NULL;

				if (sdpp_json_parse(&d, (const char *)sqlite3_column_text(held, 2),
				        (size_t)sqlite3_column_bytes(held, 2), NULL, 0) != SDPP_OK)
					continue;
				fold(&a, (const char *)sqlite3_column_text(held, 0), d, 0,
				    sqlite3_column_int64(held, 1));
				a.held++;
				cJSON_Delete(d);
			}
		}
		settle(&a);
		if (fn(ctx, &a) != 0)
			break;
	}
	rc = 0;
out:
	sqlite3_finalize(orders);
	sqlite3_finalize(recs);
	sqlite3_finalize(held);
	return rc;
}

int
ledger_export(struct ledger *l, int (*fn)(void *ctx, const char *line, size_t len), void *ctx,
    char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	char hex[SDPP_HEX_LEN(MERKLE_HASH_BYTES)], *line;
	size_t cap, n;
	int rc = -1, s;

	if (sqlite3_prepare_v2(ledger_db(l), "SELECT id, leaf_hash, body FROM records ORDER BY id",
	        -1, &st, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s", sqlite3_errmsg(ledger_db(l)));
		return -1;
	}
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		const char *body = (const char *)sqlite3_column_text(st, 2);

		if (sqlite3_column_bytes(st, 1) == MERKLE_HASH_BYTES)
			sdpp_hex_encode(hex, sqlite3_column_blob(st, 1), MERKLE_HASH_BYTES);
		else
			hex[0] = '\0';
		cap = (size_t)sqlite3_column_bytes(st, 2) + 128;
		line = malloc(cap);
		if (line == NULL)
			goto out;
		/* Bodies are JSON objects already: embed, do not re-encode. */
		n = (size_t)snprintf(line, cap,
		    "{\"id\":%lld,\"leaf_hash\":\"%s\",\"record\":%s}\n",
		    (long long)sqlite3_column_int64(st, 0), hex, body != NULL ? body : "null");
		s = n < cap ? fn(ctx, line, n) : -1;
		free(line);
		if (s != 0)
			goto out;
	}
	rc = 0;
out:
	if (rc != 0)
		snprintf(err, errlen, "export stopped: %s", sqlite3_errmsg(ledger_db(l)));
	sqlite3_finalize(st);
	return rc;
}
