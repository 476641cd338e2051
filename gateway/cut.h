/* What a product sells of each sample: one JSON field, not excluded topics, its rate tier. */
#ifndef GATEWAY_CUT_H
#define GATEWAY_CUT_H

#include <stddef.h>
#include <stdint.h>

#include "gateway/config.h"
#include "mqtt/field.h"

/*
 * A product's cut, in the order applied to each sample:
 *  1. exclude: a topic matching one of its filters is not sold;
 *  2. field: the value at an RFC 6901 pointer of the JSON payload is what
 *     is sold (its exact text); no JSON, or no such value, is not sold;
 *  3. rate tier, per source topic:
 *     - on_change: sold only when the value differs from the last one sold
 *       on that topic (byte for byte; with a deadband, numbers must move
 *       by more than it, other values must differ);
 *     - min_interval: sold only when that long has passed since the last
 *       one sold on that topic: the first sample at or after the interval
 *       is taken (a leading edge, not an average);
 *     both may combine. The first sample of a topic is always sold.
 * Rate state is kept for at most CUT_TOPICS_MAX topics per product; a
 * sample of a further topic is not sold (CUT_OVER_CAP): selling it with no
 * tier would break the promised rate, and a buyer would pay for it.
 * A product without any of these has no cut (NULL) and costs nothing.
 */

/* Topics a product with a rate tier keeps state for. */
#define CUT_TOPICS_MAX 10000

enum cut_result {
	CUT_SOLD = 0,
	CUT_EXCLUDED,
	CUT_NOT_JSON,
	CUT_NO_FIELD,
	CUT_RATE,     /* held back by the rate tier */
	CUT_OVER_CAP, /* a topic beyond CUT_TOPICS_MAX */
	CUT__COUNT
};

/* Samples not sold, by result (index = enum cut_result; [CUT_SOLD] counts
 * the sold ones). */
struct cut_stats {
	uint64_t n[CUT__COUNT];
};

struct cut;

/* The cut of a configured product (already checked by config_load), or
 * NULL when it sells whole payloads of every topic at full rate. The new
 * cut has one reference. */
struct cut *cut_new(const struct product_config *pc);
/* Counts each sample's result once into stats (borrowed; the host keeps it
 * across reloads). Without it nothing is counted. */
void cut_set_stats(struct cut *k, struct cut_stats *stats);
void cut_ref(struct cut *k);
void cut_release(struct cut *k);

/*
 * Decides sample number seq (any key that changes per sample) on topic,
 * received at now_ms: CUT_SOLD with *value and *vlen set to the bytes to
 * sell (into payload), or why not. Asked again with the same seq (another
 * buyer of the same product), it answers the same without counting again.
 */
enum cut_result cut_take(struct cut *k, uint64_t seq, const char *topic, const uint8_t *payload,
    size_t len, int64_t now_ms, const uint8_t **value, size_t *vlen);

/* Topics with rate state now. */
size_t cut_topics(const struct cut *k);

/* The name of a result for logs and metrics: "sold", "excluded",
 * "not_json", "no_field", "rate", "over_cap". */
const char *cut_result_name(enum cut_result r);

#endif
