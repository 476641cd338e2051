/* Home Assistant discovery in the daemon: announced sensors kept by topic, turned into products. */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/discover.h"
#include "gateway/log.h"
#include "mqtt/discovery.h"
#include "mqtt/mqtt.h"

/*
 * One discovery topic and what it last said. Refused announcements are
 * kept as a hash of their payload, so that the broker replaying the same
 * retained config (on every resubscribe) is neither logged nor counted
 * again; a different payload on the same topic is read afresh.
 */
struct entry {
	char *topic;
	char component[MQTT_DISCOVERY_COMPONENT_MAX + 1];
	int refused;
	uint64_t hash; /* refused: FNV-1a of the payload */
	struct mqtt_discovery d;
};

struct discover {
	struct entry *e[DISCOVER_MAX]; /* in order of first announcement */
	size_t n;
	struct discover_stats st;
};

struct discover *
discover_new(void)
{
	struct discover *d = calloc(1, sizeof(*d));

	if (d == NULL)
		log_fatalx("out of memory");
	return d;
}

static void
entry_free(struct entry *e)
{
	if (e == NULL)
		return;
	free(e->topic);
	free(e);
}

void
discover_clear(struct discover *d)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		entry_free(d->e[i]);
	d->n = 0;
	d->st.sensors = d->st.products = d->st.denied = d->st.duplicates = 0;
}

void
discover_free(struct discover *d)
{
	if (d == NULL)
		return;
	discover_clear(d);
	free(d);
}

size_t
discover_filters(const char *prefix, char out[][CONFIG_TOPIC_MAX + 1])
{
	static const char *const tails[DISCOVER_FILTERS] = { "sensor/+/config", "sensor/+/+/config",
		"binary_sensor/+/config", "binary_sensor/+/+/config" };
	size_t i;

	for (i = 0; i < DISCOVER_FILTERS; i++)
		snprintf(out[i], CONFIG_TOPIC_MAX + 1, "%s/%s", prefix, tails[i]);
	return DISCOVER_FILTERS;
}

static uint64_t
fnv1a(const void *p, size_t len)
{
	const unsigned char *b = p;
	uint64_t h = UINT64_C(14695981039346656037);
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= b[i];
		h *= UINT64_C(1099511628211);
	}
	return h;
}

static size_t
entry_find(const struct discover *d, const char *topic)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		if (strcmp(d->e[i]->topic, topic) == 0)
			return i;
	return d->n;
}

static void
entry_remove(struct discover *d, size_t i)
{
	entry_free(d->e[i]);
	memmove(&d->e[i], &d->e[i + 1], (d->n - i - 1) * sizeof(d->e[0]));
	d->n--;
}

int
discover_message(struct discover *d, const char *prefix, const char *topic, const void *payload,
    size_t len, int *changed)
{
	struct mqtt_discovery_key key;
	struct mqtt_discovery m;
	struct entry *e;
	char err[256];
	size_t i;
	int r, was_sensor;

	*changed = 0;
	if (!mqtt_discovery_topic(prefix, topic, &key))
		return 0;
	d->st.configs++;
	i = entry_find(d, topic);
	e = i < d->n ? d->e[i] : NULL;
	was_sensor = e != NULL && !e->refused;
	r = mqtt_discovery_parse(payload, len, &m, err, sizeof(err));
	if (r == MQTT_DISCOVERY_REMOVED) {
		if (e != NULL) {
			if (was_sensor) {
				d->st.removed++;
				log_info("event=discovery_removed product=%s topic=%s",
				    e->d.product_id, topic);
			}
			entry_remove(d, i);
			*changed = was_sensor;
		}
		return 1;
	}
	if (r < 0 && e != NULL && e->refused && e->hash == fnv1a(payload, len))
		return 1; /* the same refused config, replayed */
	if (r == MQTT_DISCOVERY_OK && was_sensor && memcmp(&e->d, &m, sizeof(m)) == 0)
		return 1; /* the same sensor, replayed */
	if (e == NULL) {
		if (d->n == DISCOVER_MAX) {
			if (d->st.over_cap++ == 0)
				log_warnx("event=discovery_full topic=%s limit=%d "
				          "reason=\"announcement not kept\"",
				    topic, DISCOVER_MAX);
			return 1;
		}
		e = calloc(1, sizeof(*e));
		if (e == NULL || (e->topic = strdup(topic)) == NULL)
			log_fatalx("out of memory");
		snprintf(e->component, sizeof(e->component), "%s", key.component);
		d->e[d->n++] = e;
	}
	if (r < 0) {
		/* Never guessed: the sensor is not sold until it is announced in
		 * a form we read. */
		d->st.refused++;
		log_warnx("event=discovery_refused topic=%s reason=\"%s\"", topic, err);
		e->refused = 1;
		e->hash = fnv1a(payload, len);
		memset(&e->d, 0, sizeof(e->d));
		*changed = was_sensor;
		return 1;
	}
	log_info("event=discovery_%s product=%s topic=%s state_topic=\"%s\" field=\"%s\"",
	    was_sensor ? "changed" : "added", m.product_id, topic, m.state_topic, m.field);
	e->refused = 0;
	e->d = m;
	*changed = 1;
	return 1;
}

/* Whether one announced sensor matches one rule of allow or deny. */
static int
rule_match(const struct entry *e, enum config_rule_kind kind, const char *val)
{
	switch (kind) {
	case CONFIG_RULE_CLASS:
		return strcmp(val, "none") == 0 ? e->d.device_class[0] == '\0'
		                                : strcmp(val, e->d.device_class) == 0;
	case CONFIG_RULE_COMPONENT:
		return strcmp(val, e->component) == 0;
	case CONFIG_RULE_ID:
		return fnmatch(val, e->d.unique_id, 0) == 0;
	case CONFIG_RULE_TOPIC:
		return mqtt_topic_match(val, e->d.state_topic);
	}
	return 0;
}

/* 1 if any rule of the list matches; empty is -1 (no rules). */
static int
rules_match(const struct entry *e, const char *rules)
{
	enum config_rule_kind kind;
	char val[CONFIG_RULES_MAX];
	int r, any = 0;

	/* config.c checked every rule: a malformed one cannot be here. */
	while ((r = config_rule_next(&rules, &kind, val, sizeof(val))) != 0) {
		if (r < 0)
			continue;
		any = 1;
		if (rule_match(e, kind, val))
			return 1;
	}
	return any ? 0 : -1;
}

/* Copies src into dst (of size n) whole or cut at a UTF-8 character
 * boundary, so that the menu text stays valid. */
static void
copy_utf8(char *dst, size_t n, const char *src)
{
	size_t len = strlen(src);

	if (len >= n) {
		len = n - 1;
		while (len > 0 && ((unsigned char)src[len] & 0xc0) == 0x80)
			len--;
	}
	memcpy(dst, src, len);
	dst[len] = '\0';
}

static int
id_taken(
    const struct gateway_config *cfg, const struct product_config *out, size_t n, const char *id)
{
	size_t i;

	for (i = 0; i < cfg->nproducts; i++)
		if (strcmp(cfg->products[i].id, id) == 0)
			return 1;
	for (i = 0; i < n; i++)
		if (strcmp(out[i].id, id) == 0)
			return 1;
	return 0;
}

static uint64_t
class_price(const struct gateway_config *cfg, const char *device_class)
{
	size_t i;

	for (i = 0; i < cfg->nclass_prices; i++)
		if (strcmp(cfg->class_prices[i].device_class, device_class) == 0)
			return cfg->class_prices[i].price;
	return cfg->discovery_price;
}

size_t
discover_products(
    struct discover *d, const struct gateway_config *cfg, struct product_config *out, size_t max)
{
	char text[2 * MQTT_DISCOVERY_NAME_MAX + 2];
	size_t i, n = 0;

	d->st.sensors = d->st.products = d->st.denied = d->st.duplicates = 0;
	for (i = 0; i < d->n; i++) {
		const struct entry *e = d->e[i];
		struct product_config *pc;

		if (e->refused)
			continue;
		d->st.sensors++;
		if (rules_match(e, cfg->discovery_allow) == 0 ||
		    rules_match(e, cfg->discovery_deny) == 1) {
			d->st.denied++;
			continue;
		}
		if (id_taken(cfg, out, n, e->d.product_id)) {
			d->st.duplicates++;
			continue;
		}
		if (n == max)
			continue; /* counted by the caller against the product cap */
		pc = &out[n++];
		memset(pc, 0, sizeof(*pc));
		snprintf(pc->id, sizeof(pc->id), "%s", e->d.product_id);
		snprintf(pc->topic, sizeof(pc->topic), "%s", e->d.state_topic);
		snprintf(pc->field, sizeof(pc->field), "%s", e->d.field);
		snprintf(pc->unit, sizeof(pc->unit), "%s", e->d.unit);
		snprintf(pc->device_class, sizeof(pc->device_class), "%s", e->d.device_class);
		pc->price = class_price(cfg, e->d.device_class);
		pc->prepay = -1;
		/* "Room 001 TH Temperature": what a buyer reads in the menu. */
		snprintf(text, sizeof(text), "%s%s%s", e->d.device_name,
		    e->d.device_name[0] != '\0' && e->d.name[0] != '\0' ? " " : "", e->d.name);
		copy_utf8(pc->description, sizeof(pc->description),
		    text[0] != '\0' ? text : e->d.unique_id);
	}
	d->st.products = n;
	return n;
}

const struct discover_stats *
discover_stats(const struct discover *d)
{
	return &d->st;
}

size_t
discover_announced(const struct discover *d)
{
	return d->n;
}
