/* Internal to ledger/: what the audit code needs from the log object. */
#ifndef LEDGER_LEDGER_INT_H
#define LEDGER_LEDGER_INT_H

#include <sqlite3.h>

#include "ledger/ledger.h"

sqlite3 *ledger_db(struct ledger *l);
/* 1 if the outbox has its proof column (only a writer adds it to an
 * older ledger). */
int ledger_outbox_has_proof(struct ledger *l);
const uint8_t *ledger_key(const struct ledger *l);
const char *ledger_keyhex(const struct ledger *l);

/* Signature input of a tree head: "sdpp-sth/1\0" || JCS of
 * {"key","root","size","time"} (*out malloc'd). */
int ledger_sth_input(const char *keyhex, uint64_t size, const merkle_hash root, int64_t time,
    char **out, size_t *outlen);

#endif
