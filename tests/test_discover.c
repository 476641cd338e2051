/* gateway/discover.c: announcements kept, replaced, removed and made products. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gateway/discover.h"
#include "util/text.h"

#define PREFIX "homeassistant"
#define PRICE 3

/* A zigbee2mqtt announcement, as it publishes it (retained). */
#define Z2M_TOPIC "homeassistant/sensor/0x00158d0001a2b3c4/temperature/config"
#define Z2M_CONFIG                                                                                 \
	"{\"device\":{\"identifiers\":[\"zigbee2mqtt_0x00158d0001a2b3c4\"],"                       \
	"\"manufacturer\":\"Xiaomi\",\"name\":\"Kitchen TH\"},\"device_class\":\"temperature\","   \
	"\"name\":\"Temperature\",\"state_class\":\"measurement\",\"state_topic\":"                \
	"\"zigbee2mqtt/Kitchen TH\",\"unique_id\":\"0x00158d0001a2b3c4_temperature_zigbee2mqtt\"," \
	"\"unit_of_measurement\":\"°C\",\"value_template\":\"{{ value_json.temperature }}\"}"
#define Z2M_ID "0x00158d0001a2b3c4_temperature_zigbee2mqtt"

#define REFUSED_CONFIG                                                                             \
	"{\"unique_id\":\"r1\",\"state_topic\":\"zigbee2mqtt/r\","                                 \
	"\"value_template\":\"{{ value_json.x | float }}\"}"

/* The config a [discovery] section makes: default price PRICE, price.temperature = 7. */
static struct gateway_config *
cfg_new(const char *allow, const char *deny)
{
	struct gateway_config *c = calloc(1, sizeof(*c));

	assert_non_null(c);
	c->discovery_enabled = 1;
	snprintf(c->discovery_prefix, sizeof(c->discovery_prefix), "%s", PREFIX);
	c->discovery_price = PRICE;
	snprintf(c->discovery_allow, sizeof(c->discovery_allow), "%s", allow);
	snprintf(c->discovery_deny, sizeof(c->discovery_deny), "%s", deny);
	c->nclass_prices = 1;
	snprintf(c->class_prices[0].device_class, sizeof(c->class_prices[0].device_class),
	    "temperature");
	c->class_prices[0].price = 7;
	return c;
}

static void
cfg_free(struct gateway_config *c)
{
	free(c->products);
	free(c);
}

/* One sensor's announcement: cls, name and dev are left out when NULL. */
static const char *
sensor(char *buf, size_t n, const char *uid, const char *stat_t, const char *cls, const char *name,
    const char *dev)
{
	int r;

	r = snprintf(buf, n,
	    "{\"unique_id\":\"%s\",\"state_topic\":\"%s\",\"value_template\":"
	    "\"{{ value_json.v }}\"%s%s%s%s%s%s%s%s%s}",
	    uid, stat_t, cls != NULL ? ",\"device_class\":\"" : "", cls != NULL ? cls : "",
	    cls != NULL ? "\"" : "", name != NULL ? ",\"name\":\"" : "", name != NULL ? name : "",
	    name != NULL ? "\"" : "", dev != NULL ? ",\"device\":{\"name\":\"" : "",
	    dev != NULL ? dev : "", dev != NULL ? "\"}" : "");
	assert_true(r > 0 && (size_t)r < n);
	return buf;
}

/* discover_message() on a C string; returns what it returned, *changed in ch. */
static int
msg(struct discover *d, const char *topic, const char *payload, int *ch)
{
	return discover_message(d, PREFIX, topic, payload, strlen(payload), ch);
}

/* Takes a message that must be a discovery message with the given change. */
static void
take(struct discover *d, const char *topic, const char *payload, int want_changed)
{
	int ch = -1;

	assert_int_equal(msg(d, topic, payload, &ch), 1);
	if (ch != want_changed)
		fail_msg("%s `%s': changed %d, want %d", topic, payload, ch, want_changed);
}

/* The ids of the products, comma-separated, into buf. */
static const char *
ids(struct discover *d, const struct gateway_config *c, char *buf, size_t n)
{
	struct product_config out[16];
	size_t i, k, len = 0;

	k = discover_products(d, c, out, 16);
	buf[0] = '\0';
	for (i = 0; i < k; i++)
		len += (size_t)snprintf(buf + len, n - len, "%s%s", i > 0 ? "," : "", out[i].id);
	assert_true(len < n);
	assert_int_equal(discover_stats(d)->products, k);
	return buf;
}

static void
test_zigbee2mqtt(void **state)
{
	struct gateway_config *c = cfg_new("", "");
	struct discover *d = discover_new();
	struct product_config out[4];
	char buf[512];

	(void)state;
	take(d, Z2M_TOPIC, Z2M_CONFIG, 1);
	take(d, "homeassistant/sensor/0x00158d0001a2b3c4/humidity/config",
	    sensor(buf, sizeof(buf), "h1", "zigbee2mqtt/Kitchen TH", "humidity", "Humidity",
	        "Kitchen TH"),
	    1);
	assert_int_equal(discover_products(d, c, out, 4), 2);
	assert_string_equal(out[0].id, Z2M_ID);
	assert_string_equal(out[0].topic, "zigbee2mqtt/Kitchen TH");
	assert_string_equal(out[0].field, "/temperature");
	assert_string_equal(out[0].unit, "°C");
	assert_string_equal(out[0].device_class, "temperature");
	assert_string_equal(out[0].description, "Kitchen TH Temperature");
	assert_int_equal(out[0].price, 7); /* price.temperature */
	assert_int_equal(out[0].prepay, -1);
	assert_int_equal(out[0].line, 0);
	assert_string_equal(out[0].exclude, "");
	assert_string_equal(out[1].id, "h1");
	assert_string_equal(out[1].field, "/v");
	assert_string_equal(out[1].unit, "");
	assert_int_equal(out[1].price, PRICE); /* no price.humidity: the default */
	assert_int_equal(discover_stats(d)->configs, 2);
	assert_int_equal(discover_stats(d)->sensors, 2);
	assert_int_equal(discover_stats(d)->products, 2);
	discover_free(d);
	cfg_free(c);
}

/* Descriptions: device and name, either alone, else the unique_id. */
static void
test_description(void **state)
{
	static const struct {
		const char *name, *dev, *want;
	} t[] = {
		{ "Temperature", "Kitchen TH", "Kitchen TH Temperature" },
		{ "Temperature", NULL, "Temperature" },
		{ NULL, "Kitchen TH", "Kitchen TH" },
		{ NULL, NULL, "u1" },
	};
	struct gateway_config *c = cfg_new("", "");
	struct product_config out[1];
	struct discover *d;
	char buf[512];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		d = discover_new();
		take(d, "homeassistant/sensor/u1/config",
		    sensor(buf, sizeof(buf), "u1", "s/u1", NULL, t[i].name, t[i].dev), 1);
		assert_int_equal(discover_products(d, c, out, 1), 1);
		assert_string_equal(out[0].description, t[i].want);
		discover_free(d);
	}
	cfg_free(c);
}

static void
test_not_discovery(void **state)
{
	static const char *const topics[] = {
		"other/sensor/0x00158d0001a2b3c4/temperature/config",
		"homeassistant/light/0x00158d0001a2b3c4/light/config",
		"homeassistant/sensor/0x00158d0001a2b3c4/temperature/state",
		"homeassistant/sensor/config",
		"zigbee2mqtt/Kitchen TH",
	};
	struct gateway_config *c = cfg_new("", "");
	struct discover *d = discover_new();
	struct product_config out[1];
	size_t i;
	int ch;

	(void)state;
	for (i = 0; i < sizeof(topics) / sizeof(topics[0]); i++) {
		ch = -1;
		assert_int_equal(msg(d, topics[i], Z2M_CONFIG, &ch), 0);
		assert_int_equal(ch, 0);
	}
	/* Another prefix is a discovery topic only under that prefix. */
	assert_int_equal(
	    discover_message(d, "other", topics[0], Z2M_CONFIG, strlen(Z2M_CONFIG), &ch), 1);
	discover_clear(d);
	assert_int_equal(discover_products(d, c, out, 1), 0);
	assert_int_equal(discover_stats(d)->sensors, 0);
	discover_free(d);

	d = discover_new();
	for (i = 0; i < sizeof(topics) / sizeof(topics[0]); i++)
		assert_int_equal(msg(d, topics[i], Z2M_CONFIG, &ch), 0);
	assert_int_equal(discover_products(d, c, out, 1), 0);
	assert_int_equal(discover_stats(d)->configs, 0);
	assert_int_equal(discover_stats(d)->sensors, 0);
	discover_free(d);
	cfg_free(c);
}

static void
test_replay_replace_remove(void **state)
{
	struct gateway_config *c = cfg_new("", "");
	struct discover *d = discover_new();
	struct product_config out[2];
	char buf[512];

	(void)state;
	take(d, Z2M_TOPIC, Z2M_CONFIG, 1);
	take(d, Z2M_TOPIC, Z2M_CONFIG, 0); /* the broker replays retained configs */
	assert_int_equal(discover_products(d, c, out, 2), 1);
	assert_string_equal(out[0].id, Z2M_ID);

	/* A different announcement on the same topic replaces it. */
	take(d, Z2M_TOPIC, sensor(buf, sizeof(buf), "t2", "z/t2", "temperature", "T", "Hall"), 1);
	assert_int_equal(discover_products(d, c, out, 2), 1);
	assert_string_equal(out[0].id, "t2");
	assert_string_equal(out[0].topic, "z/t2");
	assert_string_equal(out[0].description, "Hall T");
	take(d, Z2M_TOPIC, buf, 0);

	/* An empty payload withdraws it; again, or for a topic never seen, is no change. */
	take(d, Z2M_TOPIC, "", 1);
	assert_int_equal(discover_stats(d)->removed, 1);
	assert_int_equal(discover_products(d, c, out, 2), 0);
	assert_int_equal(discover_stats(d)->sensors, 0);
	take(d, Z2M_TOPIC, "", 0);
	take(d, "homeassistant/sensor/never/config", "", 0);
	assert_int_equal(discover_stats(d)->removed, 1);
	assert_int_equal(discover_stats(d)->configs, 7); /* empty ones too */
	discover_free(d);
	cfg_free(c);
}

static void
test_refused(void **state)
{
	struct gateway_config *c = cfg_new("", "");
	struct discover *d = discover_new();
	struct product_config out[2];

	(void)state;
	take(d, "homeassistant/sensor/r1/config", REFUSED_CONFIG, 0);
	assert_int_equal(discover_stats(d)->refused, 1);
	assert_int_equal(discover_products(d, c, out, 2), 0);
	assert_int_equal(discover_stats(d)->sensors, 0);
	/* Replayed: neither logged nor counted again. */
	take(d, "homeassistant/sensor/r1/config", REFUSED_CONFIG, 0);
	assert_int_equal(discover_stats(d)->refused, 1);
	/* Not JSON at all, on another topic: refused too. */
	take(d, "homeassistant/sensor/r2/config", "{\"unique_id\":", 0);
	assert_int_equal(discover_stats(d)->refused, 2);
	/* Then a good one on the refused topic is read afresh. */
	take(d, "homeassistant/sensor/r1/config", Z2M_CONFIG, 1);
	assert_int_equal(discover_products(d, c, out, 2), 1);

	/* A refused config where a sensor was removes the sensor. */
	take(d, "homeassistant/sensor/r1/config", REFUSED_CONFIG, 1);
	assert_int_equal(discover_stats(d)->refused, 3);
	assert_int_equal(discover_products(d, c, out, 2), 0);
	assert_int_equal(discover_stats(d)->removed, 0); /* refused, not withdrawn */
	/* And withdrawing a refused one is no change. */
	take(d, "homeassistant/sensor/r1/config", "", 0);
	assert_int_equal(discover_stats(d)->removed, 0);
	discover_free(d);
	cfg_free(c);
}

/*
 * Four sensors: t1 temperature (z2m), h1 humidity (z2m), m1 binary_sensor
 * motion (z2m), n1 no class (Tasmota); the products each allow/deny pair
 * leaves.
 */
static void
test_allow_deny(void **state)
{
	static const struct {
		const char *allow, *deny, *want;
		size_t denied;
	} t[] = {
		{ "", "", "t1,h1,m1,n1", 0 },
		{ "class:temperature", "", "t1", 3 },
		{ "class:temperature, class:humidity", "", "t1,h1", 2 },
		{ "class:none", "", "n1", 3 },
		{ "", "class:none", "t1,h1,m1", 1 },
		{ "component:binary_sensor", "", "m1", 3 },
		{ "", "component:binary_sensor", "t1,h1,n1", 1 },
		{ "component:sensor", "", "t1,h1,n1", 1 },
		{ "id:?1", "", "t1,h1,m1,n1", 0 },
		{ "id:[th]*", "", "t1,h1", 2 },
		{ "", "id:*", "", 4 },
		{ "topic:zigbee2mqtt/#", "", "t1,h1,m1", 1 },
		{ "topic:zigbee2mqtt/+", "topic:zigbee2mqtt/Hall PIR", "t1,h1", 2 },
		{ "topic:tele/+/SENSOR", "", "n1", 3 },
		/* deny wins over allow */
		{ "class:temperature", "class:temperature", "", 4 },
		{ "component:sensor", "id:h*", "t1,n1", 2 },
		{ "class:motion,class:humidity", "topic:zigbee2mqtt/#", "", 4 },
		/* rules that match nothing */
		{ "class:pressure", "", "", 4 },
		{ "", "id:nothing", "t1,h1,m1,n1", 0 },
	};
	struct discover *d = discover_new();
	struct gateway_config *c;
	char buf[512], got[256];
	size_t i;

	(void)state;
	take(d, "homeassistant/sensor/th/t1/config",
	    sensor(buf, sizeof(buf), "t1", "zigbee2mqtt/Kitchen TH", "temperature", NULL, NULL), 1);
	take(d, "homeassistant/sensor/th/h1/config",
	    sensor(buf, sizeof(buf), "h1", "zigbee2mqtt/Kitchen TH", "humidity", NULL, NULL), 1);
	take(d, "homeassistant/binary_sensor/pir/m1/config",
	    sensor(buf, sizeof(buf), "m1", "zigbee2mqtt/Hall PIR", "motion", NULL, NULL), 1);
	take(d, "homeassistant/sensor/n1/config",
	    sensor(buf, sizeof(buf), "n1", "tele/kitchen/SENSOR", NULL, NULL, NULL), 1);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		c = cfg_new(t[i].allow, t[i].deny);
		ids(d, c, got, sizeof(got));
		if (strcmp(got, t[i].want) != 0)
			fail_msg("allow `%s' deny `%s': `%s', want `%s'", t[i].allow, t[i].deny,
			    got, t[i].want);
		if (discover_stats(d)->denied != t[i].denied)
			fail_msg("allow `%s' deny `%s': denied %zu, want %zu", t[i].allow,
			    t[i].deny, discover_stats(d)->denied, t[i].denied);
		assert_int_equal(discover_stats(d)->sensors, 4);
		assert_int_equal(discover_stats(d)->duplicates, 0);
		cfg_free(c);
	}
	discover_free(d);
}

static void
test_duplicates(void **state)
{
	struct gateway_config *c = cfg_new("", "");
	struct discover *d = discover_new();
	char buf[512], got[256];

	(void)state;
	/* An explicit [product] t1 wins over the announced t1. */
	c->nproducts = 1;
	c->products = calloc(1, sizeof(*c->products));
	assert_non_null(c->products);
	snprintf(c->products[0].id, sizeof(c->products[0].id), "t1");
	snprintf(c->products[0].topic, sizeof(c->products[0].topic), "z/#");
	c->products[0].line = 12;
	take(d, "homeassistant/sensor/t1/config",
	    sensor(buf, sizeof(buf), "t1", "z/a", NULL, NULL, NULL), 1);
	take(d, "homeassistant/sensor/h1/config",
	    sensor(buf, sizeof(buf), "h1", "z/h", NULL, NULL, NULL), 1);
	assert_string_equal(ids(d, c, got, sizeof(got)), "h1");
	assert_int_equal(discover_stats(d)->duplicates, 1);
	assert_int_equal(discover_stats(d)->sensors, 2);

	/* Two announcements of one unique_id: the first announced wins. */
	take(d, "homeassistant/sensor/bridge2/h1/config",
	    sensor(buf, sizeof(buf), "h1", "z/other", NULL, NULL, NULL), 1);
	assert_string_equal(ids(d, c, got, sizeof(got)), "h1");
	assert_int_equal(discover_stats(d)->duplicates, 2);
	{
		struct product_config out[4];

		assert_int_equal(discover_products(d, c, out, 4), 1);
		assert_string_equal(out[0].topic, "z/h");
	}
	/* The first one withdrawn, the second is offered. */
	take(d, "homeassistant/sensor/h1/config", "", 1);
	{
		struct product_config out[4];

		assert_int_equal(discover_products(d, c, out, 4), 1);
		assert_string_equal(out[0].topic, "z/other");
	}
	assert_int_equal(discover_stats(d)->duplicates, 1);
	discover_free(d);
	cfg_free(c);
}

static void
test_max(void **state)
{
	struct gateway_config *c = cfg_new("", "");
	struct discover *d = discover_new();
	struct product_config out[3];
	char topic[64], uid[8], buf[512];
	size_t i;

	(void)state;
	for (i = 0; i < 5; i++) {
		snprintf(topic, sizeof(topic), "homeassistant/sensor/s%zu/config", i);
		snprintf(uid, sizeof(uid), "s%zu", i);
		take(d, topic, sensor(buf, sizeof(buf), uid, "z/s", NULL, NULL, NULL), 1);
	}
	memset(out, 0xa5, sizeof(out));
	assert_int_equal(discover_products(d, c, out, 2), 2);
	assert_string_equal(out[0].id, "s0");
	assert_string_equal(out[1].id, "s1");
	assert_int_equal(((unsigned char *)&out[2])[0], 0xa5); /* nothing past max */
	assert_int_equal(discover_stats(d)->products, 2);
	assert_int_equal(discover_stats(d)->sensors, 5);
	assert_int_equal(discover_products(d, c, out, 0), 0);
	assert_int_equal(discover_products(d, c, out, 3), 3);
	discover_free(d);
	cfg_free(c);
}

/* A string of n copies of s. */
static const char *
rep(char *buf, size_t len, const char *s, size_t n)
{
	size_t i, k = strlen(s);

	assert_true(n * k < len);
	for (i = 0; i < n; i++)
		memcpy(buf + i * k, s, k);
	buf[n * k] = '\0';
	return buf;
}

/* Device name and name of 128 bytes each: 257 bytes, cut to 256 or less at a character start. */
static void
test_description_utf8(void **state)
{
	static const struct {
		const char *tail; /* the name's last character */
		size_t want;      /* bytes of the description */
	} t[] = {
		{ "a", 256 },                /* ASCII: cut at 256 */
		{ "\xc3\xbc", 255 },         /* ü: cut before it */
		{ "\xe2\x82\xac", 254 },     /* €: cut before it */
		{ "\xf0\x9f\x8c\xa1", 253 }, /* 🌡: cut before it */
	};
	struct gateway_config *c = cfg_new("", "");
	struct product_config out[1];
	struct discover *d;
	char dev[160], name[160], a[160], buf[1024];
	size_t i, k, len;

	(void)state;
	rep(dev, sizeof(dev), "\xc3\xbc", 64); /* 128 bytes of ü */
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		k = strlen(t[i].tail);
		snprintf(name, sizeof(name), "%s%s", rep(a, sizeof(a), "a", 128 - k), t[i].tail);
		assert_int_equal(strlen(name), 128);
		d = discover_new();
		take(d, "homeassistant/sensor/u/config",
		    sensor(buf, sizeof(buf), "u", "z/u", NULL, name, dev), 1);
		assert_int_equal(discover_products(d, c, out, 1), 1);
		len = strnlen(out[0].description, sizeof(out[0].description));
		assert_true(len < sizeof(out[0].description));
		if (len != t[i].want)
			fail_msg(
			    "name ending in `%s': %zu bytes, want %zu", t[i].tail, len, t[i].want);
		assert_true(util_utf8_valid(out[0].description, len));
		assert_memory_equal(out[0].description, dev, 128);
		assert_int_equal(out[0].description[128], ' ');
		assert_memory_equal(out[0].description + 129, name, len - 129);
		discover_free(d);
	}
	cfg_free(c);
}

static void
test_clear_filters(void **state)
{
	struct gateway_config *c = cfg_new("", "");
	struct discover *d = discover_new();
	struct product_config out[2];
	char f[DISCOVER_FILTERS + 1][CONFIG_TOPIC_MAX + 1];

	(void)state;
	take(d, Z2M_TOPIC, Z2M_CONFIG, 1);
	take(d, "homeassistant/sensor/r1/config", REFUSED_CONFIG, 0);
	assert_int_equal(discover_products(d, c, out, 2), 1);
	discover_clear(d);
	assert_int_equal(discover_stats(d)->sensors, 0);
	assert_int_equal(discover_stats(d)->products, 0);
	assert_int_equal(discover_products(d, c, out, 2), 0);
	/* Forgotten: the same configs again are news, the refused one logged again. */
	take(d, Z2M_TOPIC, Z2M_CONFIG, 1);
	take(d, "homeassistant/sensor/r1/config", REFUSED_CONFIG, 0);
	assert_int_equal(discover_stats(d)->refused, 2);
	assert_int_equal(discover_products(d, c, out, 2), 1);
	discover_free(d);
	discover_free(NULL);

	memset(f, 0, sizeof(f));
	assert_int_equal(discover_filters("homeassistant", f), DISCOVER_FILTERS);
	assert_string_equal(f[0], "homeassistant/sensor/+/config");
	assert_string_equal(f[1], "homeassistant/sensor/+/+/config");
	assert_string_equal(f[2], "homeassistant/binary_sensor/+/config");
	assert_string_equal(f[3], "homeassistant/binary_sensor/+/+/config");
	assert_string_equal(f[4], "");
	assert_int_equal(discover_filters("site/ha", f), DISCOVER_FILTERS);
	assert_string_equal(f[0], "site/ha/sensor/+/config");
	assert_string_equal(f[3], "site/ha/binary_sensor/+/+/config");
	cfg_free(c);
}

/* Products come in order of first announcement; a replacement keeps its place. */
static void
test_order(void **state)
{
	struct gateway_config *c = cfg_new("", "");
	struct discover *d = discover_new();
	char buf[512], got[256];

	(void)state;
	take(d, "homeassistant/sensor/a/config",
	    sensor(buf, sizeof(buf), "a", "z/a", NULL, NULL, NULL), 1);
	take(d, "homeassistant/sensor/b/config",
	    sensor(buf, sizeof(buf), "b", "z/b", NULL, NULL, NULL), 1);
	take(d, "homeassistant/sensor/c/config",
	    sensor(buf, sizeof(buf), "c", "z/c", NULL, NULL, NULL), 1);
	assert_string_equal(ids(d, c, got, sizeof(got)), "a,b,c");
	/* a replaced (another id, on its topic): still first */
	take(d, "homeassistant/sensor/a/config",
	    sensor(buf, sizeof(buf), "a2", "z/a", NULL, NULL, NULL), 1);
	assert_string_equal(ids(d, c, got, sizeof(got)), "a2,b,c");
	/* b refused, then announced again: its place kept, as the topic was */
	take(d, "homeassistant/sensor/b/config", REFUSED_CONFIG, 1);
	assert_string_equal(ids(d, c, got, sizeof(got)), "a2,c");
	take(d, "homeassistant/sensor/b/config",
	    sensor(buf, sizeof(buf), "b", "z/b", NULL, NULL, NULL), 1);
	assert_string_equal(ids(d, c, got, sizeof(got)), "a2,b,c");
	/* a withdrawn and announced again: now last */
	take(d, "homeassistant/sensor/a/config", "", 1);
	take(d, "homeassistant/sensor/a/config",
	    sensor(buf, sizeof(buf), "a", "z/a", NULL, NULL, NULL), 1);
	assert_string_equal(ids(d, c, got, sizeof(got)), "b,c,a");
	/* Replays change nothing. */
	take(d, "homeassistant/sensor/b/config",
	    sensor(buf, sizeof(buf), "b", "z/b", NULL, NULL, NULL), 0);
	assert_string_equal(ids(d, c, got, sizeof(got)), "b,c,a");
	discover_free(d);
	cfg_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_zigbee2mqtt),
		cmocka_unit_test(test_description),
		cmocka_unit_test(test_not_discovery),
		cmocka_unit_test(test_replay_replace_remove),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_allow_deny),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_max),
		cmocka_unit_test(test_description_utf8),
		cmocka_unit_test(test_clear_filters),
		cmocka_unit_test(test_order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
