/* A fresh ledger in a temporary folder for tests, copies to tamper with, verifying a file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "tests/common/ledger_fixture.h"

struct ledger *
test_ledger_open(char *dir, size_t dirlen, const char *tag, const struct sdpp_identity *id)
{
	struct ledger_config cfg;
	struct ledger *l = NULL;
	char path[160], err[LEDGER_ERR_MAX];

	snprintf(dir, dirlen, "/tmp/sdpp-%s-XXXXXX", tag);
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/ledger.db", dir);
	memset(&cfg, 0, sizeof(cfg));
	cfg.path = path;
	cfg.id = id;
	if (ledger_open(&l, &cfg, err, sizeof(err)) != 0)
		fail_msg("open: %s", err);
	return l;
}

int
test_ledger_remove(struct ledger *l, const char *dir)
{
	char cmd[192];

	ledger_close(l);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int
test_ledger_verify_file(const char *path, const uint8_t *key, struct ledger_verify_report *rep)
{
	struct ledger *l;
	char err[LEDGER_ERR_MAX];
	int rc;

	if (ledger_open_ro(&l, path, err, sizeof(err)) != 0) {
		snprintf(rep->problem, sizeof(rep->problem), "%s", err);
		return 2;
	}
	rc = ledger_verify(l, key, rep);
	ledger_close(l);
	return rc;
}

void
test_ledger_copy(const char *from, const char *to)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "rm -f %s && sqlite3 %s \".backup %s\"", to, from, to);
	assert_int_equal(system(cmd), 0);
}

long long
test_sql_int(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	long long v = -1;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

void
test_sql_exec(const char *path, const char *sql)
{
	sqlite3 *db;
	char *msg = NULL;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", sql, msg);
	sqlite3_close(db);
}
