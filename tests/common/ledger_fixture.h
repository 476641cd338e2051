/* A fresh ledger in a temporary folder for tests, and its removal. */
#ifndef TESTS_LEDGER_FIXTURE_H
#define TESTS_LEDGER_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "ledger/ledger.h"

/* Makes /tmp/sdpp-TAG-XXXXXX into dir (at least 64 bytes) and opens
 * dir/ledger.db signed by id; fails the running test on any error. */
struct ledger *test_ledger_open(
    char *dir, size_t dirlen, const char *tag, const struct sdpp_identity *id);
/* Closes l and removes dir; -1 if the folder could not be removed. */
int test_ledger_remove(struct ledger *l, const char *dir);
/* ledger_verify() of the file at path, opened read-only: 0 verifies, 1 a
 * problem (in rep), 2 it could not be opened (the reason in rep). */
int test_ledger_verify_file(const char *path, const uint8_t *key, struct ledger_verify_report *rep);
/* A consistent copy of the ledger file from (sqlite3 .backup) at to, to
 * tamper with; fails the running test on any error. */
void test_ledger_copy(const char *from, const char *to);

/* The single integer a query on the SQLite file at path gives (-1 if it
 * gives none), and a statement run on it; both fail the running test on
 * SQL errors. */
long long test_sql_int(const char *path, const char *sql);
void test_sql_exec(const char *path, const char *sql);

#endif
