/* Retention: closed orders' record bodies move to an archive file that verifies on its own. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ledger/ledger_int.h"
#include "util/text.h"

/*
 * The log's tree needs only the leaf hashes: a record's body can leave the
 * live file once something else keeps it verifiably. An archive is a copy
 * of the ledger at its newest signed tree head S (the signed hand-over:
 * the seller's own signature over every leaf up to S), in which only the
 * archived orders keep their bodies. The live file keeps every row, leaf
 * hash and tree head, with those bodies emptied: its tree, its start check,
 * replay protection (order ids) and buyers' proofs are unchanged, and the
 * space the bodies took is reused by new records. An archive verifies with
 * `sdpp ledger verify` like any ledger (its empty bodies count as archived
 * elsewhere), and `verify --archive` proves the live file's empty bodies
 * are the archive's (same leaf hashes).
 *
 * Only whole orders whose close is under S and older than the cutoff are
 * archived, so no order is split between files.
 */

/* Orders archived per transaction on the live file: the gateway's commits
 * wait for each (busy timeout), so each stays short. */
#define ARCHIVE_BATCH 256

static int
sqlerr(sqlite3 *db, const char *what, char *err, size_t errlen)
{
	util_errf(err, errlen, "%s: %s", what, db != NULL ? sqlite3_errmsg(db) : "cannot open");
	return -1;
}

/* The ids of the orders to archive (closed at or below size, before the
 * cutoff, bodies still here), in *ids (malloc'd, 65-byte hex each). */
static int
candidates(sqlite3 *db, uint64_t size, int64_t before, char (**ids)[65], size_t *n, char *err,
    size_t errlen)
{
	sqlite3_stmt *st = NULL;
	size_t alloc = 0;
	int s, rc = -1;

	*ids = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(db,
	        "SELECT order_id FROM records WHERE kind = 'close' AND id <= ? AND time < ?"
	        " AND body <> '' ORDER BY id",
	        -1, &st, NULL) != SQLITE_OK)
		return sqlerr(db, "archive", err, errlen);
	sqlite3_bind_int64(st, 1, (sqlite3_int64)size);
	sqlite3_bind_int64(st, 2, before);
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(st, 0);

		if (id == NULL || strlen(id) != 64)
			continue;
		if (*n == alloc) {
			char(*more)[65];

			alloc = alloc == 0 ? 64 : alloc * 2;
			more = realloc(*ids, alloc * sizeof(**ids));
			if (more == NULL) {
				util_errf(err, errlen, "out of memory");
				goto out;
			}
			*ids = more;
		}
		memcpy((*ids)[(*n)++], id, 65);
	}
	if (s != SQLITE_DONE) {
		sqlerr(db, "archive", err, errlen);
		goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(st);
	if (rc != 0) {
		free(*ids);
		*ids = NULL;
		*n = 0;
	}
	return rc;
}

/* Fills the temporary table keep(order_id) of db with ids[0..n). */
static int
keep_fill(sqlite3 *db, char (*ids)[65], size_t n, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	size_t i;
	int rc = -1;

	if (ledger_db_exec(db,
	        "CREATE TEMP TABLE IF NOT EXISTS keep(order_id TEXT PRIMARY KEY);"
	        "DELETE FROM keep",
	        err, errlen) != 0)
		return -1;
	if (sqlite3_prepare_v2(
	        db, "INSERT OR IGNORE INTO keep(order_id) VALUES (?)", -1, &st, NULL) != SQLITE_OK)
		return sqlerr(db, "archive", err, errlen);
	for (i = 0; i < n; i++) {
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, ids[i], -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE) {
			sqlerr(db, "archive", err, errlen);
			goto out;
		}
	}
	rc = 0;
out:
	sqlite3_finalize(st);
	return rc;
}

/* Makes the copy at path into the archive: records and tree heads up to
 * size, bodies of the kept orders only, nothing a writer uses. */
static int
trim_copy(const char *path, uint64_t size, char (*ids)[65], size_t n, const char *handover,
    char *err, size_t errlen)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	char sql[256];
	int rc = -1;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
		sqlerr(db, path, err, errlen);
		goto out;
	}
	snprintf(sql, sizeof(sql),
	    "BEGIN; DELETE FROM records WHERE id > %" PRIu64 ";"
	    " DELETE FROM tree_heads WHERE size > %" PRIu64 ";",
	    size, size);
	if (ledger_db_exec(db, "PRAGMA journal_mode=DELETE", err, errlen) != 0 ||
	    ledger_db_exec(db, sql, err, errlen) != 0 || keep_fill(db, ids, n, err, errlen) != 0 ||
	    ledger_db_exec(db,
	        "UPDATE records SET body = '' WHERE order_id NOT IN (SELECT order_id FROM keep);"
	        "DELETE FROM acks WHERE order_id NOT IN (SELECT order_id FROM keep);"
	        "DELETE FROM held; DELETE FROM outbox; DELETE FROM payment_refs;"
	        "DELETE FROM meta WHERE key = 'head';",
	        err, errlen) != 0)
		goto out;
	if (sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO meta(key, value) VALUES ('archive', ?)",
	        -1, &st, NULL) != SQLITE_OK) {
		sqlerr(db, path, err, errlen);
		goto out;
	}
	sqlite3_bind_text(st, 1, handover, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE) {
		sqlerr(db, path, err, errlen);
		goto out;
	}
	if (ledger_db_exec(db, "COMMIT; VACUUM", err, errlen) != 0)
		goto out;
	rc = 0;
out:
	sqlite3_finalize(st);
	sqlite3_close(db);
	return rc;
}

/* Empties the bodies of the archived orders in the live file, a batch of
 * orders per transaction, and notes the archive in meta. *done counts the
 * orders whose batch committed, also when a later batch fails. */
static int
empty_live(sqlite3 *db, uint64_t size, char (*ids)[65], size_t n, const char *note_key,
    const char *handover, uint64_t *records, size_t *done, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	size_t i, m;
	int rc = -1;

	for (i = 0; i < n; i += m) {
		m = n - i < ARCHIVE_BATCH ? n - i : ARCHIVE_BATCH;
		if (ledger_db_exec(db, "BEGIN IMMEDIATE", err, errlen) != 0)
			return -1;
		if (keep_fill(db, ids + i, m, err, errlen) != 0 ||
		    sqlite3_prepare_v2(db,
		        "UPDATE records SET body = '' WHERE id <= ? AND order_id IN"
		        " (SELECT order_id FROM keep)",
		        -1, &st, NULL) != SQLITE_OK)
			goto fail;
		sqlite3_bind_int64(st, 1, (sqlite3_int64)size);
		if (sqlite3_step(st) != SQLITE_DONE)
			goto fail;
		*records += (uint64_t)sqlite3_changes(db);
		sqlite3_finalize(st);
		st = NULL;
		if (ledger_db_exec(db,
		        "DELETE FROM acks WHERE order_id IN (SELECT order_id FROM keep)", err,
		        errlen) != 0)
			goto fail_quiet;
		if (i + m == n) {
			if (sqlite3_prepare_v2(db,
			        "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", -1, &st,
			        NULL) != SQLITE_OK)
				goto fail;
			sqlite3_bind_text(st, 1, note_key, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 2, handover, -1, SQLITE_STATIC);
			if (sqlite3_step(st) != SQLITE_DONE)
				goto fail;
			sqlite3_finalize(st);
			st = NULL;
		}
		if (ledger_db_exec(db, "COMMIT", err, errlen) != 0)
			goto fail_quiet;
		*done = i + m;
	}
	rc = 0;
	goto out;
fail:
	sqlerr(db, "archive", err, errlen);
fail_quiet:
	(void)sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
out:
	sqlite3_finalize(st);
	return rc;
}

int
ledger_archive(const char *live, int64_t before, const char *path,
    struct ledger_archive_report *rep, char *err, size_t errlen)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	struct ledger *check = NULL;
	struct ledger_verify_report vr;
	char(*ids)[65] = NULL;
	char handover[512], note_key[64];
	const char *root, *sig;
	struct stat sb;
	size_t n = 0, done = 0, elen;
	uint64_t size;
	int64_t time;
	int rc = -1, made = 0, hlen, fd;

	memset(rep, 0, sizeof(*rep));
	if (stat(path, &sb) == 0 || errno != ENOENT) {
		util_errf(err, errlen, "%s: already exists (an archive is written once)", path);
		return -1;
	}
	if (sqlite3_open_v2(live, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
		sqlerr(db, live, err, errlen);
		goto out;
	}
	sqlite3_busy_timeout(db, 5000);
	/* The hand-over: the newest signed tree head. Everything archived is
	 * under it, and it signs every leaf the archive holds. */
	if (sqlite3_prepare_v2(db,
	        "SELECT size, root, time, signature FROM tree_heads ORDER BY size DESC LIMIT 1", -1,
	        &st, NULL) != SQLITE_OK) {
		sqlerr(db, live, err, errlen);
		goto out;
	}
	if (sqlite3_step(st) != SQLITE_ROW) {
		util_errf(
		    err, errlen, "%s: no signed tree head yet: nothing can be archived", live);
		goto out;
	}
	size = (uint64_t)sqlite3_column_int64(st, 0);
	time = sqlite3_column_int64(st, 2);
	root = (const char *)sqlite3_column_text(st, 1);
	sig = (const char *)sqlite3_column_text(st, 3);
	if (root == NULL || sig == NULL) {
		util_errf(err, errlen, "%s: unreadable tree head", live);
		goto out;
	}
	if (candidates(db, size, before, &ids, &n, err, errlen) != 0)
		goto out;
	/* A cut note would be JSON that no longer names the hand-over. */
	hlen = snprintf(handover, sizeof(handover),
	    "{\"before\":%" PRId64 ",\"orders\":%zu,\"root\":\"%s\",\"signature\":\"%s\","
	    "\"size\":%" PRIu64 ",\"time\":%" PRId64 "}",
	    before, n, root, sig, size, time);
	if (hlen < 0 || (size_t)hlen >= sizeof(handover)) {
		util_errf(
		    err, errlen, "%s: unreadable tree head (root or signature too long)", live);
		goto out;
	}
	sqlite3_finalize(st);
	st = NULL;
	rep->size = size;
	rep->orders = n;
	if (n == 0) {
		rc = 0;
		goto out;
	}
	/* A consistent copy (a read transaction: the gateway goes on). */
	if (sqlite3_prepare_v2(db, "VACUUM INTO ?", -1, &st, NULL) != SQLITE_OK) {
		sqlerr(db, live, err, errlen);
		goto out;
	}
	sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
	/* Claimed first (VACUUM INTO takes an empty file): a file that
	 * appeared since the check above is someone else's, never removed. */
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		util_errf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	(void)close(fd);
	made = 1;
	if (sqlite3_step(st) != SQLITE_DONE) {
		sqlerr(db, path, err, errlen);
		goto out;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (trim_copy(path, size, ids, n, handover, err, errlen) != 0)
		goto out;
	/* The archive must verify before anything leaves the live file. */
	if (ledger_open_ro(&check, path, err, errlen) != 0)
		goto out;
	memset(&vr, 0, sizeof(vr));
	if (ledger_verify(check, NULL, &vr) != 0) {
		util_errf(err, errlen, "%s: the archive does not verify: %s", path,
		    vr.problem[0] != '\0' ? vr.problem : "read error");
		goto out;
	}
	snprintf(note_key, sizeof(note_key), "archive:%" PRIu64, size);
	if (empty_live(db, size, ids, n, note_key, handover, &rep->records, &done, err, errlen) !=
	    0) {
		/* Committed batches took their bodies out of the live file: the
		 * archive is now their only copy, and must stay. */
		if (done > 0) {
			made = 0;
			elen = errlen > 0 ? strlen(err) : 0;
			util_errf(err + elen, errlen - elen,
			    " (after %zu of %zu orders: keep %s, it holds their bodies; "
			    "archive the rest into another file)",
			    done, n, path);
		}
		goto out;
	}
	made = 0;
	rc = 0;
out:
	ledger_close(check);
	if (made)
		(void)unlink(path);
	sqlite3_finalize(st);
	sqlite3_close(db);
	free(ids);
	return rc;
}

int
ledger_archive_check(
    struct ledger *l, const char *path, struct ledger_archive_report *rep, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL, *live = NULL;
	struct ledger *a = NULL;
	merkle_hash leaf;
	int s, rc = -1;

	memset(rep, 0, sizeof(*rep));
	if (ledger_open_ro(&a, path, err, errlen) != 0)
		return -1;
	if (memcmp(ledger_key(a), ledger_key(l), SDPP_SIGN_PUBLIC_BYTES) != 0) {
		util_errf(
		    err, errlen, "%s: an archive of another log (key %s)", path, ledger_keyhex(a));
		goto out;
	}
	if (sqlite3_prepare_v2(ledger_db(a),
	        "SELECT id, body, leaf_hash FROM records WHERE body <> '' ORDER BY id", -1, &st,
	        NULL) != SQLITE_OK) {
		util_errf(err, errlen, "%s: %s", path, sqlite3_errmsg(ledger_db(a)));
		goto out;
	}
	/* The live file's own message: the archive's would not say what failed. */
	if (sqlite3_prepare_v2(ledger_db(l), "SELECT body, leaf_hash FROM records WHERE id = ?", -1,
	        &live, NULL) != SQLITE_OK) {
		util_errf(err, errlen, "the live ledger: %s", sqlite3_errmsg(ledger_db(l)));
		goto out;
	}
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		uint64_t id = (uint64_t)sqlite3_column_int64(st, 0);

		if (merkle_leaf_hash(leaf, sqlite3_column_text(st, 1),
		        (size_t)sqlite3_column_bytes(st, 1)) != 0) {
			util_errf(err, errlen, "%s: record %" PRIu64 ": cannot hash it", path, id);
			goto out;
		}
		sqlite3_reset(live);
		sqlite3_bind_int64(live, 1, (sqlite3_int64)id);
		if (sqlite3_step(live) != SQLITE_ROW ||
		    sqlite3_column_bytes(live, 1) != MERKLE_HASH_BYTES ||
		    memcmp(sqlite3_column_blob(live, 1), leaf, MERKLE_HASH_BYTES) != 0) {
			util_errf(err, errlen,
			    "%s: record %" PRIu64 " is not the log's record %" PRIu64
			    " (another leaf hash)",
			    path, id, id);
			rc = 1;
			goto out;
		}
		if (sqlite3_column_bytes(live, 0) == 0)
			rep->records++;
	}
	if (s != SQLITE_DONE) {
		util_errf(err, errlen, "%s: %s", path, sqlite3_errmsg(ledger_db(a)));
		goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(st);
	sqlite3_finalize(live);
	ledger_close(a);
	return rc;
}
