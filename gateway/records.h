/* The daemon's records: appended as sessions go, made durable by one group commit per loop turn. */
#ifndef GATEWAY_RECORDS_H
#define GATEWAY_RECORDS_H

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "ledger/ledger.h"

struct records;

/* After the commit that made record (ok = 1), or after a failed commit
 * (ok = 0: record says nothing then). Runs on the loop. */
typedef void (*records_done_fn)(void *arg, int ok, uint64_t record);

struct records_stats {
	uint64_t commits, records, failures;
	int failing; /* the latest commit failed: the ledger cannot be written now */
};

/* delay_ms: how long a commit waits for more records (0: the end of this
 * loop turn). The ledger is borrowed. NULL if out of memory. */
struct records *records_new(struct event_base *base, struct ledger *l, uint64_t delay_ms);
void records_free(struct records *rc);
void records_set_delay(struct records *rc, uint64_t delay_ms);

/*
 * Appends r (its contents are taken: it is cleared either way) to the next
 * group commit. done (may be NULL) is called once that commit has ended.
 * Returns 0, or -1 if the record could not even be queued (done is then
 * never called; the reason is logged).
 */
int records_append(struct records *rc, struct ledger_record *r, records_done_fn done, void *arg);

/* Called after every successful commit (e.g. to hand new outbox items to
 * a remote at once). */
void records_on_commit(struct records *rc, void (*fn)(void *arg), void *arg);

/* Commits now, completing every waiter (at shutdown). */
void records_commit_now(struct records *rc);
/* 1 when nothing is pending or waited for. */
int records_idle(const struct records *rc);
void records_get_stats(const struct records *rc, struct records_stats *out);

#endif
