/* The latest signed tree head of the log, for the sdpp/2 closing statement (PROTOCOL.md 15.5). */
#include <string.h>

#include <sqlite3.h>

#include "ledger/ledger.h"
#include "ledger/ledger_int.h"
#include "sdpp/enc.h"

int
ledger_latest_tree_head(struct ledger *l, struct sdpp_tree_head *th)
{
	sqlite3_stmt *st = NULL;
	const char *root, *sig;
	size_t siglen;
	int rc = -1;

	memset(th, 0, sizeof(*th));
	if (sqlite3_prepare_v2(ledger_db(l),
	        "SELECT size, root, time, signature FROM tree_heads ORDER BY size DESC LIMIT 1", -1,
	        &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) != SQLITE_ROW)
		goto out;
	root = (const char *)sqlite3_column_text(st, 1);
	sig = (const char *)sqlite3_column_text(st, 3);
	if (sqlite3_column_int64(st, 0) <= 0 || sqlite3_column_int64(st, 2) < 0 || root == NULL ||
	    sig == NULL || sdpp_hex_decode(th->root, sizeof(th->root), root) != SDPP_OK ||
	    sdpp_b64_decode(th->signature, sizeof(th->signature), &siglen, sig, strlen(sig)) !=
	        SDPP_OK ||
	    siglen != SDPP_SIGN_BYTES)
		goto out;
	th->size = (uint64_t)sqlite3_column_int64(st, 0);
	th->time = sqlite3_column_int64(st, 2);
	rc = 0;
out:
	sqlite3_finalize(st);
	if (rc != 0)
		memset(th, 0, sizeof(*th));
	return rc;
}
