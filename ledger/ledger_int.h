/* Internal to ledger/: what the audit code needs from the log object. */
#ifndef LEDGER_LEDGER_INT_H
#define LEDGER_LEDGER_INT_H

#include <sqlite3.h>

#include "ledger/ledger.h"

sqlite3 *ledger_db(struct ledger *l);
/* sqlite3_exec with the file's name and SQLite's message in err. */
int ledger_db_exec(sqlite3 *db, const char *sql, char *err, size_t errlen);
/* 1 if the outbox has its proof column (only a writer adds it to an
 * older ledger). */
int ledger_outbox_has_proof(struct ledger *l);
const uint8_t *ledger_key(const struct ledger *l);
const char *ledger_keyhex(const struct ledger *l);

/* Signature input of a tree head: "sdpp-sth/1\0" || JCS of
 * {"key","root","size","time"} (*out malloc'd). */
int ledger_sth_input(const char *keyhex, uint64_t size, const merkle_hash root, int64_t time,
    char **out, size_t *outlen);

/* Held records (held.c): each open order's latest invoice, payment and
 * receipts between checkpoints. Changes are tentative until held_settle. */
#define HELD_MAX 3
struct held;
struct held *ledger_held_new(void);
void ledger_held_free(struct held *h);
/* 1 if records of kind k are held (invoice, payment, receipts). */
int ledger_held_kind(enum ledger_kind k);
/* Number of orders with held records. */
size_t ledger_held_orders(const struct held *h);
/* Heap bytes of the held records and their orders (malloc's own overhead
 * not counted). */
size_t ledger_held_bytes(const struct held *h);
/* Replaces the order's held record of r's kind with a copy of r (invoices
 * merge with those held before). */
int ledger_held_put(
    struct held *h, const struct ledger_record *r, int64_t now, char *err, size_t errlen);
/* The order's held records as log records in log order (*n of them, to be
 * freed with held_take_done); the order then holds none. */
int ledger_held_take(struct held *h, const char *order_hex, struct ledger_record out[HELD_MAX],
    struct ledger_ack acks[HELD_MAX], size_t *n, char *err, size_t errlen);
void ledger_held_take_done(struct ledger_record *out, struct ledger_ack *acks, size_t n);
/* Calls fn for each order with a record held since cutoff or earlier. */
int ledger_held_due(
    struct held *h, int64_t cutoff, int (*fn)(void *ctx, const char *order_hex), void *ctx);
/* 1 if anything changed since the last held_settle. */
int ledger_held_dirty(const struct held *h);
/* Writes the changes into the `held` table (inside the caller's
 * transaction); ledger_held_settle(ok) then keeps or undoes them in memory. */
int ledger_held_write(struct held *h, sqlite3 *db, char *err, size_t errlen);
void ledger_held_settle(struct held *h, int ok);
/* Reads the `held` table (at open). */
int ledger_held_load(struct held *h, sqlite3 *db, char *err, size_t errlen);

#endif
