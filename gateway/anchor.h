/* Anchoring: the ledger's outbox items become notarizations on IOTA, retried until they land. */
#ifndef GATEWAY_ANCHOR_H
#define GATEWAY_ANCHOR_H

#include <stdint.h>

#include <event2/event.h>

#include "gateway/iota.h"
#include "ledger/ledger.h"

struct anchor;

/* An anchor of record (of order order_hex) landed at ref ("iota:DIGEST"):
 * the host tells the buyer if its order is still being served. */
typedef void (*anchor_notify_fn)(
    void *arg, const char *order_hex, uint64_t record, const char *ref);

struct anchor_stats {
	uint64_t anchors, failures;
};

/*
 * Takes over l's outbox (ledger_set_remote, which refuses a log anchored
 * on another network): items go to gi's node as notarizations. With
 * tree_heads, the newest signed tree head is also queued every
 * interval_ms. Returns 0, or -1 with err.
 */
int anchor_new(struct anchor **out, struct event_base *base, struct gw_iota *gi, struct ledger *l,
    int tree_heads, uint64_t interval_ms, anchor_notify_fn notify, void *arg, char *err,
    size_t errlen) __attribute__((warn_unused_result));
/* Releases the outbox (items in flight stay pending in it). */
void anchor_free(struct anchor *a);
void anchor_set_interval(struct anchor *a, uint64_t interval_ms);
/* After a commit: hand new outbox items to the node on this turn. */
void anchor_poll_soon(struct anchor *a);
void anchor_get_stats(const struct anchor *a, struct anchor_stats *out);

#endif
