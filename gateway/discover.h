/* Home Assistant discovery in the daemon: announced sensors and the products they make. */
#ifndef GATEWAY_DISCOVER_H
#define GATEWAY_DISCOVER_H

#include <stddef.h>
#include <stdint.h>

#include "gateway/config.h"

/* Announcements kept (sensors, and refused ones so that a replay of the
 * same retained config is not logged again). Past it, new ones are
 * refused with a log line: a building of 2,000 products needs under half. */
#define DISCOVER_MAX 8192
/* Subscription filters one prefix needs (sensor and binary_sensor, with
 * and without node_id). */
#define DISCOVER_FILTERS 4

struct discover;

/* What discovery saw since start, for the metrics. */
struct discover_stats {
	uint64_t configs;  /* discovery messages taken (retained replays included) */
	uint64_t refused;  /* announcements not made a product: template, topic, ... */
	uint64_t removed;  /* sensors withdrawn by an empty config */
	uint64_t over_cap; /* announcements past DISCOVER_MAX */
	size_t sensors;    /* sensors announced now (offered or not) */
	size_t products;   /* of them, offered in the current menu */
	size_t denied;     /* of them, left out by [discovery] allow / deny */
	size_t duplicates; /* of them, whose product id another product has */
};

struct discover *discover_new(void);
void discover_free(struct discover *d);

/* The filters to subscribe for prefix, into out (each CONFIG_TOPIC_MAX + 1
 * bytes); returns how many. */
size_t discover_filters(const char *prefix, char out[][CONFIG_TOPIC_MAX + 1]);

/*
 * A message on topic. Returns 0 if topic is not a discovery topic of a
 * sensor or binary_sensor under prefix (the caller treats it as a sample),
 * 1 if it was taken; *changed is then 1 if the set of announced sensors
 * changed (added, removed, replaced by a different one), so the menu must
 * be rebuilt. A refused announcement is logged once and removes the
 * sensor the topic announced before.
 */
int discover_message(struct discover *d, const char *prefix, const char *topic, const void *payload,
    size_t len, int *changed);

/* Forgets every announcement (the prefix changed: the broker replays the
 * new prefix's retained configs on subscribe). */
void discover_clear(struct discover *d);

/*
 * The products the announced sensors make under cfg's [discovery] rules
 * and prices, in order of announcement, into out (at most max); a sensor
 * whose product id one of cfg's [product] sections (or an earlier sensor)
 * has is left out. Returns how many were written; counts what was left
 * out in the stats.
 */
size_t discover_products(
    struct discover *d, const struct gateway_config *cfg, struct product_config *out, size_t max);

const struct discover_stats *discover_stats(const struct discover *d);
/* Announcements kept now (refused ones included): the most products
 * discover_products() can write. */
size_t discover_announced(const struct discover *d);

#endif
