/* Tables for mqtt/discovery.c: topics, device announcements, refusals, product ids. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mqtt/discovery.h"
#include "mqtt/field.h"
#include "util/text.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
/* A literal with its length, so embedded NULs count. */
#define L(s) s, sizeof(s) - 1

/* Parses a copy of payload in a buffer of exactly len bytes (no NUL after
 * it), so under ASan a read at or past len is a crash, not luck. */
static int
parse_exact(const char *payload, size_t len, struct mqtt_discovery *d, char *err, size_t errlen)
{
	char *copy = malloc(len > 0 ? len : 1);
	int rc;

	assert_non_null(copy);
	if (len > 0)
		memcpy(copy, payload, len);
	rc = mqtt_discovery_parse(copy, len, d, err, errlen);
	free(copy);
	return rc;
}

/* 1 if id is 1..64 bytes of [A-Za-z0-9._-], not starting with '.' or '-'. */
static int
id_ok(const char *id)
{
	size_t n = strlen(id);

	if (n < 1 || n > MQTT_DISCOVERY_PRODUCT_ID_MAX || id[0] == '.' || id[0] == '-')
		return 0;
	return strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

/* ---- discovery topics ---- */

struct topic_case {
	const char *prefix; /* NULL: the default */
	const char *topic;
	int want;
	const char *component, *node_id, *object_id;
};

static const struct topic_case topic_cases[] = {
	/* zigbee2mqtt: node_id is the IEEE address, object_id the property. */
	{ NULL, "homeassistant/sensor/0x00158d0001a2b3c4/temperature/config", 1, "sensor",
	    "0x00158d0001a2b3c4", "temperature" },
	{ NULL, "homeassistant/binary_sensor/0x00158d00045b2740/occupancy/config", 1,
	    "binary_sensor", "0x00158d00045b2740", "occupancy" },
	/* Tasmota: no node_id. */
	{ NULL, "homeassistant/sensor/5C8BDB_AM2301_Temperature/config", 1, "sensor", "",
	    "5C8BDB_AM2301_Temperature" },
	/* ESPHome: node_id is the device name. */
	{ NULL, "homeassistant/sensor/esp-kitchen/kitchen_temperature/config", 1, "sensor",
	    "esp-kitchen", "kitchen_temperature" },
	{ "homeassistant", "homeassistant/sensor/a/config", 1, "sensor", "", "a" },
	{ "ha/discovery", "ha/discovery/sensor/n/o/config", 1, "sensor", "n", "o" },
	/* "config" is a valid id too. */
	{ NULL, "homeassistant/sensor/config/config", 1, "sensor", "", "config" },
	{ NULL, "homeassistant/sensor/config/config/config", 1, "sensor", "config", "config" },
	/* Other components are not ours. */
	{ NULL, "homeassistant/light/kitchen/config", 0, "", "", "" },
	{ NULL, "homeassistant/switch/n/o/config", 0, "", "", "" },
	{ NULL, "homeassistant/device/0x00158d0001a2b3c4/config", 0, "", "", "" },
	{ NULL, "homeassistant/sensors/a/config", 0, "", "", "" },
	{ NULL, "homeassistant/Sensor/a/config", 0, "", "", "" },
	/* Other prefixes. */
	{ NULL, "homeassistan/sensor/a/config", 0, "", "", "" },
	{ NULL, "homeassistantx/sensor/a/config", 0, "", "", "" },
	{ NULL, "x/homeassistant/sensor/a/config", 0, "", "", "" },
	{ "custom", "homeassistant/sensor/a/config", 0, "", "", "" },
	{ "custom", "custom/sensor/a/config", 1, "sensor", "", "a" },
	{ "", "/sensor/a/config", 0, "", "", "" },
	{ "+", "x/sensor/a/config", 0, "", "", "" },
	/* Levels missing, extra or empty; bytes outside [a-zA-Z0-9_-]. */
	{ NULL, "homeassistant/sensor/config", 0, "", "", "" },
	{ NULL, "homeassistant/sensor/a/state", 0, "", "", "" },
	{ NULL, "homeassistant/sensor/a/config/", 0, "", "", "" },
	{ NULL, "homeassistant/sensor/n/a/config/", 0, "", "", "" }, /* found by fuzz_discovery */
	{ NULL, "homeassistant/sensor/a/b/c/config", 0, "", "", "" },
	{ NULL, "homeassistant/sensor//a/config", 0, "", "", "" },
	{ NULL, "homeassistant/sensor/a//config", 0, "", "", "" },
	{ NULL, "homeassistant/sensor/a b/config", 0, "", "", "" },
	{ NULL, "homeassistant/sensor/a.b/config", 0, "", "", "" },
	{ NULL, "homeassistant/sensor/+/config", 0, "", "", "" },
	{ NULL, "homeassistant/sensor/#", 0, "", "", "" },
	{ NULL, "homeassistant/sensor/a/configx", 0, "", "", "" },
	{ NULL, "homeassistant", 0, "", "", "" },
	{ NULL, "", 0, "", "", "" },
};

static void
test_topic(void **state)
{
	struct mqtt_discovery_key k;

	(void)state;
	for (size_t i = 0; i < N(topic_cases); i++) {
		const struct topic_case *c = &topic_cases[i];
		int got = mqtt_discovery_topic(c->prefix, c->topic, &k);

		if (got != c->want)
			fail_msg("`%s': got %d, want %d", c->topic, got, c->want);
		assert_string_equal(k.component, c->want ? c->component : "");
		assert_string_equal(k.node_id, c->want ? c->node_id : "");
		assert_string_equal(k.object_id, c->want ? c->object_id : "");
	}
}

static void
test_topic_limits(void **state)
{
	char topic[MQTT_TOPIC_MAX + 64], id[MQTT_DISCOVERY_ID_MAX + 2];
	struct mqtt_discovery_key k;

	(void)state;
	memset(id, 'a', sizeof(id));
	id[MQTT_DISCOVERY_ID_MAX] = '\0';
	snprintf(topic, sizeof(topic), "homeassistant/sensor/%s/%s/config", id, id);
	assert_int_equal(mqtt_discovery_topic(NULL, topic, &k), 1);
	assert_int_equal(strlen(k.node_id), MQTT_DISCOVERY_ID_MAX);
	id[MQTT_DISCOVERY_ID_MAX] = 'a';
	id[MQTT_DISCOVERY_ID_MAX + 1] = '\0';
	snprintf(topic, sizeof(topic), "homeassistant/sensor/%s/config", id);
	assert_int_equal(mqtt_discovery_topic(NULL, topic, &k), 0);
	/* Over MQTT_TOPIC_MAX bytes in all. */
	memset(topic, 'a', sizeof(topic));
	memcpy(topic, "homeassistant/", 14);
	topic[sizeof(topic) - 1] = '\0';
	assert_int_equal(mqtt_discovery_topic(NULL, topic, &k), 0);
	assert_int_equal(mqtt_discovery_topic(NULL, NULL, &k), 0);
}

/* ---- announcements that parse ---- */

struct ok_case {
	const char *what, *payload;
	const char *unique_id, *product_id, *state_topic, *field, *unit, *device_class, *name,
	    *device_name;
};

static const struct ok_case ok_cases[] = {
	{ "zigbee2mqtt sensor",
	    "{\"availability\":[{\"topic\":\"zigbee2mqtt/bridge/state\","
	    "\"value_template\":\"{{ value_json.state }}\"}],"
	    "\"device\":{\"identifiers\":[\"zigbee2mqtt_0x00158d0001a2b3c4\"],"
	    "\"manufacturer\":\"Xiaomi\",\"model\":\"Aqara temperature, humidity and pressure "
	    "sensor (WSDCGQ11LM)\",\"name\":\"Kitchen TH\",\"sw_version\":\"3000-0001\","
	    "\"via_device\":\"zigbee2mqtt_bridge_0x00124b0022ace1b7\"},"
	    "\"device_class\":\"temperature\",\"enabled_by_default\":true,"
	    "\"name\":\"Kitchen temperature\",\"object_id\":\"kitchen_th_temperature\","
	    "\"origin\":{\"name\":\"Zigbee2MQTT\",\"sw\":\"1.35.1\","
	    "\"url\":\"https://www.zigbee2mqtt.io\"},\"state_class\":\"measurement\","
	    "\"state_topic\":\"zigbee2mqtt/Kitchen TH\","
	    "\"unique_id\":\"0x00158d0001a2b3c4_temperature_zigbee2mqtt\","
	    "\"unit_of_measurement\":\"\xc2\xb0"
	    "C\",\"value_template\":\"{{ value_json.temperature }}\"}",
	    "0x00158d0001a2b3c4_temperature_zigbee2mqtt",
	    "0x00158d0001a2b3c4_temperature_zigbee2mqtt", "zigbee2mqtt/Kitchen TH", "/temperature",
	    "\xc2\xb0"
	    "C",
	    "temperature", "Kitchen temperature", "Kitchen TH" },
	{ "zigbee2mqtt binary_sensor, name null",
	    "{\"device\":{\"identifiers\":[\"zigbee2mqtt_0x00158d00045b2740\"],\"name\":\"Hall "
	    "PIR\"},"
	    "\"device_class\":\"motion\",\"name\":null,\"payload_off\":false,\"payload_on\":true,"
	    "\"state_topic\":\"zigbee2mqtt/Hall PIR\","
	    "\"unique_id\":\"0x00158d00045b2740_occupancy_zigbee2mqtt\","
	    "\"value_template\":\"{{ value_json.occupancy }}\"}",
	    "0x00158d00045b2740_occupancy_zigbee2mqtt", "0x00158d00045b2740_occupancy_zigbee2mqtt",
	    "zigbee2mqtt/Hall PIR", "/occupancy", "", "motion", "", "Hall PIR" },
	{ "Tasmota, abbreviated",
	    "{\"name\":\"Kitchen AM2301 Temperature\",\"stat_t\":\"tele/kitchen/SENSOR\","
	    "\"avty_t\":\"tele/kitchen/LWT\",\"pl_avail\":\"Online\",\"pl_not_avail\":\"Offline\","
	    "\"uniq_id\":\"5C8BDB_AM2301_Temperature\",\"dev\":{\"ids\":[\"5C8BDB\"]},"
	    "\"unit_of_meas\":\"\xc2\xb0"
	    "C\",\"dev_cla\":\"temperature\",\"frc_upd\":true,"
	    "\"val_tpl\":\"{{value_json['AM2301'].Temperature}}\"}",
	    "5C8BDB_AM2301_Temperature", "5C8BDB_AM2301_Temperature", "tele/kitchen/SENSOR",
	    "/AM2301/Temperature",
	    "\xc2\xb0"
	    "C",
	    "temperature", "Kitchen AM2301 Temperature", "" },
	{ "Tasmota, ~ at the start",
	    "{\"name\":\"Kitchen DS18B20 Temperature\",\"~\":\"tele/kitchen/\","
	    "\"stat_t\":\"~SENSOR\",\"avty_t\":\"~LWT\",\"uniq_id\":\"5C8BDB_DS18B20_Temperature\","
	    "\"dev\":{\"ids\":[\"5C8BDB\"],\"name\":\"Kitchen\"},\"unit_of_meas\":\"\xc2\xb0"
	    "C\",\"dev_cla\":\"temperature\",\"val_tpl\":\"{{value_json['DS18B20'].Temperature}}"
	    "\"}",
	    "5C8BDB_DS18B20_Temperature", "5C8BDB_DS18B20_Temperature", "tele/kitchen/SENSOR",
	    "/DS18B20/Temperature",
	    "\xc2\xb0"
	    "C",
	    "temperature", "Kitchen DS18B20 Temperature", "Kitchen" },
	{ "ESPHome, no template: the whole payload",
	    "{\"dev_cla\":\"temperature\",\"unit_of_meas\":\"\xc2\xb0"
	    "C\",\"stat_cla\":\"measurement\",\"name\":\"Kitchen Temperature\","
	    "\"stat_t\":\"esp-kitchen/sensor/kitchen_temperature/state\","
	    "\"avty_t\":\"esp-kitchen/status\",\"uniq_id\":\"ESPsensorkitchen_temperature\","
	    "\"dev\":{\"ids\":\"a4cf12ab34cd\",\"name\":\"esp-kitchen\","
	    "\"sw\":\"esphome v2024.6.1 Jun 20 2024\",\"mdl\":\"esp32dev\",\"mf\":\"espressif\"}}",
	    "ESPsensorkitchen_temperature", "ESPsensorkitchen_temperature",
	    "esp-kitchen/sensor/kitchen_temperature/state", "",
	    "\xc2\xb0"
	    "C",
	    "temperature", "Kitchen Temperature", "esp-kitchen" },
	{ "~ at the end", "{\"~\":\"kitchen\",\"stat_t\":\"tele/~\",\"uniq_id\":\"k1\"}", "k1",
	    "k1", "tele/kitchen", "", "", "", "", "" },
	{ "~ alone", "{\"~\":\"a/b\",\"state_topic\":\"~\",\"unique_id\":\"k2\"}", "k2", "k2",
	    "a/b", "", "", "", "", "" },
	{ "~ at both ends: the end wins, as in Home Assistant",
	    "{\"~\":\"b\",\"stat_t\":\"~a~\",\"uniq_id\":\"k3\"}", "k3", "k3", "~ab", "", "", "",
	    "", "" },
	{ "~ unused", "{\"~\":\"base/\",\"stat_t\":\"x/y\",\"uniq_id\":\"k4\"}", "k4", "k4", "x/y",
	    "", "", "", "", "" },
	{ "~ in the middle is literal", "{\"~\":\"b\",\"stat_t\":\"x/~/y\",\"uniq_id\":\"k5\"}",
	    "k5", "k5", "x/~/y", "", "", "", "", "" },
	{ "{{ value }} reads the whole payload",
	    "{\"uniq_id\":\"k6\",\"stat_t\":\"t\",\"val_tpl\":\"{{ value }}\"}", "k6", "k6", "t",
	    "", "", "", "", "" },
	{ "whitespace and a UTF-8 name",
	    " {\n \"unique_id\" : \"k7\" ,\n \"state_topic\" : \"haus/k\xc3\xbc"
	    "che\", \"name\": \"K\xc3\xbc"
	    "che\", \"device\": {} }\n",
	    "k7", "k7",
	    "haus/k\xc3\xbc"
	    "che",
	    "", "", "",
	    "K\xc3\xbc"
	    "che",
	    "" },
	{ "unique_id that needs sanitising",
	    "{\"uniq_id\":\"a b\",\"stat_t\":\"t\",\"dev_cla\":null}", "a b",
	    "a_b.c8687a08aa5d6ed2044328fa6a697ab8", "t", "", "", "", "", "" },
};

static void
test_ok(void **state)
{
	struct mqtt_discovery d;
	char err[512];

	(void)state;
	for (size_t i = 0; i < N(ok_cases); i++) {
		const struct ok_case *c = &ok_cases[i];
		int rc = parse_exact(c->payload, strlen(c->payload), &d, err, sizeof(err));

		if (rc != MQTT_DISCOVERY_OK)
			fail_msg("%s: refused: %s", c->what, err);
		assert_string_equal(d.unique_id, c->unique_id);
		assert_string_equal(d.product_id, c->product_id);
		assert_string_equal(d.state_topic, c->state_topic);
		assert_string_equal(d.field, c->field);
		assert_string_equal(d.unit, c->unit);
		assert_string_equal(d.device_class, c->device_class);
		assert_string_equal(d.name, c->name);
		assert_string_equal(d.device_name, c->device_name);
		assert_true(id_ok(d.product_id));
	}
}

/* The field an announcement names selects the value from what the sensor
 * publishes. */
static void
test_field_end_to_end(void **state)
{
	static const char ann[] = "{\"uniq_id\":\"5C8BDB_AM2301_Temperature\","
	                          "\"stat_t\":\"tele/kitchen/SENSOR\","
	                          "\"val_tpl\":\"{{value_json['AM2301'].Temperature}}\"}";
	static const char sample[] = "{\"Time\":\"2024-05-01T10:00:00\",\"AM2301\":"
	                             "{\"Temperature\":21.30,\"Humidity\":40.1,\"DewPoint\":7.2},"
	                             "\"TempUnit\":\"C\"}";
	struct mqtt_discovery d;
	struct mqtt_field f;
	const char *v;
	size_t vlen;
	char err[512];

	(void)state;
	assert_int_equal(parse_exact(ann, sizeof(ann) - 1, &d, err, sizeof(err)), 0);
	assert_int_equal(mqtt_field_parse(&f, d.field, err, sizeof(err)), 0);
	assert_int_equal(
	    mqtt_field_select(&f, sample, sizeof(sample) - 1, &v, &vlen), MQTT_FIELD_SELECTED);
	assert_int_equal(vlen, 5);
	assert_memory_equal(v, "21.30", 5);
}

static void
test_removed(void **state)
{
	struct mqtt_discovery d;
	char err[64] = "untouched";

	(void)state;
	memset(&d, 'x', sizeof(d));
	assert_int_equal(mqtt_discovery_parse("", 0, &d, err, sizeof(err)), MQTT_DISCOVERY_REMOVED);
	assert_string_equal(d.unique_id, "");
	assert_string_equal(d.product_id, "");
	assert_int_equal(
	    mqtt_discovery_parse(NULL, 0, &d, err, sizeof(err)), MQTT_DISCOVERY_REMOVED);
}

/* ---- refusals ---- */

struct bad_case {
	const char *payload;
	size_t len;         /* 0: strlen */
	const char *reason; /* a part of the reason */
};

static const struct bad_case bad_cases[] = {
	/* Not JSON, or not an object. */
	{ "not json", 0, "not JSON" },
	{ "{\"uniq_id\":\"a\",\"stat_t\":\"t\"", 0, "not JSON" },
	{ "{\"uniq_id\":\"a\",\"stat_t\":\"t\",}", 0, "not JSON" },
	{ "{\"uniq_id\":\"a\",\"stat_t\":\"t\"} x", 0, "not JSON" },
	{ "{'uniq_id':'a'}", 0, "not JSON" },
	{ "{\"uniq_id\":\"a\xff\",\"stat_t\":\"t\"}", 0, "not JSON" },
	{ L("{\"uniq_id\":\"a\",\"stat_t\":\"t\"}\0junk"), "not JSON" },
	{ "[{\"uniq_id\":\"a\",\"stat_t\":\"t\"}]", 0, "not a JSON object" },
	{ "\"uniq_id\"", 0, "not a JSON object" },
	{ "null", 0, "not a JSON object" },
	{ "{\"uniq_id\":\"a\\u0000b\",\"stat_t\":\"t\"}", 0, "\\u0000" },
	{ "{\"uniq_id\\u0000x\":\"a\",\"stat_t\":\"t\"}", 0, "\\u0000" },
	/* Duplicates, and a name in both forms. */
	{ "{\"uniq_id\":\"a\",\"uniq_id\":\"b\",\"stat_t\":\"t\"}", 0, "`uniq_id' twice" },
	{ "{\"uniq_id\":\"a\",\"stat_t\":\"t\",\"stat_t\":\"u\"}", 0, "`stat_t' twice" },
	{ "{\"uniq_id\":\"a\",\"stat_t\":\"t\",\"dev\":{\"name\":\"x\",\"name\":\"y\"}}", 0,
	    "device has the name `name' twice" },
	{ "{\"uniq_id\":\"a\",\"unique_id\":\"b\",\"stat_t\":\"t\"}", 0,
	    "both `unique_id' and `uniq_id'" },
	{ "{\"uniq_id\":\"a\",\"state_topic\":\"t\",\"stat_t\":\"u\"}", 0,
	    "both `state_topic' and `stat_t'" },
	{ "{\"uniq_id\":\"a\",\"stat_t\":\"t\",\"val_tpl\":\"{{ value }}\","
	  "\"value_template\":\"{{ value }}\"}",
	    0, "both `value_template' and `val_tpl'" },
	{ "{\"uniq_id\":\"a\",\"stat_t\":\"t\",\"dev\":{},\"device\":{}}", 0,
	    "both `device' and `dev'" },
	/* unique_id. */
	{ "{\"stat_t\":\"t\",\"name\":\"x\"}", 0, "no unique_id" },
	{ "{\"uniq_id\":\"\",\"stat_t\":\"t\"}", 0, "no unique_id" },
	{ "{\"uniq_id\":42,\"stat_t\":\"t\"}", 0, "unique_id is not a string" },
	{ "{\"uniq_id\":null,\"stat_t\":\"t\"}", 0, "unique_id is not a string" },
	{ "{\"uniq_id\":\"a\\nb\",\"stat_t\":\"t\"}", 0, "unique_id `a\\x0ab' is not printable" },
	/* state_topic. */
	{ "{\"uniq_id\":\"a\",\"name\":\"x\"}", 0, "no state_topic" },
	{ "{\"uniq_id\":\"a\",\"stat_t\":\"\"}", 0, "no state_topic" },
	{ "{\"uniq_id\":\"a\",\"stat_t\":[\"t\"]}", 0, "state_topic is not a string" },
	{ "{\"uniq_id\":\"a\",\"stat_t\":\"zigbee2mqtt/+\"}", 0,
	    "state_topic `zigbee2mqtt/+' is not a topic name" },
	{ "{\"uniq_id\":\"a\",\"stat_t\":\"tele/#\"}", 0,
	    "state_topic `tele/#' is not a topic name" },
	{ "{\"uniq_id\":\"a\",\"stat_t\":\"te+le\"}", 0, "is not a topic name" },
	{ "{\"uniq_id\":\"a\",\"~\":\"tele/+/\",\"stat_t\":\"~SENSOR\"}", 0,
	    "state_topic `tele/+/SENSOR' is not a topic name" },
	{ "{\"uniq_id\":\"a\",\"~\":\"\",\"stat_t\":\"~\"}", 0, "is not a topic name" },
	{ "{\"uniq_id\":\"a\",\"~\":1,\"stat_t\":\"~x\"}", 0, "`~' is not a string" },
	{ "{\"uniq_id\":\"a\",\"stat_t\":\"t\\u001b[31m\"}", 0, "is not printable" },
	/* value_template: the translator's reason. */
	{ "{\"uniq_id\":\"a\",\"stat_t\":\"t\",\"val_tpl\":\"{{ value_json.temperature | float "
	  "}}\"}",
	    0, "value_template `{{ value_json.temperature | float }}': " },
	{ "{\"uniq_id\":\"a\",\"stat_t\":\"t\","
	  "\"value_template\":\"{{ value_json.temperature | round(1) }}\"}",
	    0, "value_template `" },
	{ "{\"uniq_id\":\"a\",\"stat_t\":\"t\",\"val_tpl\":\"{% if value_json.a %}1{% endif %}\"}",
	    0, "value_template `" },
	{ "{\"uniq_id\":\"a\",\"stat_t\":\"t\",\"val_tpl\":\"{{ value_json.a * 10 }}\"}", 0,
	    "value_template `" },
	{ "{\"uniq_id\":\"a\",\"stat_t\":\"t\",\"val_tpl\":\"\"}", 0, "value_template `" },
	{ "{\"uniq_id\":\"a\",\"stat_t\":\"t\",\"val_tpl\":null}", 0,
	    "value_template is not a string" },
	/* The other texts. */
	{ "{\"uniq_id\":\"a\",\"stat_t\":\"t\",\"name\":\"bell\\u0007\"}", 0,
	    "name `bell\\x07' is not printable" },
	{ "{\"uniq_id\":\"a\",\"stat_t\":\"t\",\"name\":\"c1\\u0085\"}", 0, "is not printable" },
	{ "{\"uniq_id\":\"a\",\"stat_t\":\"t\",\"name\":7}", 0, "name is not a string" },
	{ "{\"uniq_id\":\"a\",\"stat_t\":\"t\",\"unit_of_meas\":\"\\t\"}", 0,
	    "unit_of_measurement `\\x09' is not printable" },
	{ "{\"uniq_id\":\"a\",\"stat_t\":\"t\",\"dev_cla\":true}", 0,
	    "device_class is not a string" },
	{ "{\"uniq_id\":\"a\",\"stat_t\":\"t\",\"dev\":[\"x\"]}", 0, "device is not an object" },
	{ "{\"uniq_id\":\"a\",\"stat_t\":\"t\",\"dev\":{\"name\":\"\\r\"}}", 0,
	    "device name `\\x0d' is not printable" },
	{ "{\"uniq_id\":\"a\",\"stat_t\":\"t\",\"dev\":{\"name\":{}}}", 0,
	    "device name is not a string" },
	{ "{\"uniq_id\":\"a\",\"stat_t\":\"t\",\"unit_of_meas\":"
	  "\"0123456789012345678901234567890123456789\"}",
	    0, "unit_of_measurement is over 32 bytes (40)" },
};

static void
test_refused(void **state)
{
	struct mqtt_discovery d;
	char err[512];

	(void)state;
	for (size_t i = 0; i < N(bad_cases); i++) {
		const struct bad_case *c = &bad_cases[i];
		size_t len = c->len != 0 ? c->len : strlen(c->payload);
		int rc = parse_exact(c->payload, len, &d, err, sizeof(err));

		if (rc != -1)
			fail_msg("case %zu `%s': accepted", i, c->payload);
		if (strstr(err, c->reason) == NULL)
			fail_msg(
			    "case %zu `%s': reason `%s', want `%s'", i, c->payload, err, c->reason);
		/* One line, safe to log as is. */
		assert_true(util_text_printable(err, strlen(err)));
		assert_string_equal(d.product_id, "");
		assert_string_equal(d.state_topic, "");
	}
}

/* Caps: the payload size, the members, every text. */
static void
test_caps(void **state)
{
	struct mqtt_discovery d;
	size_t cap = MQTT_DISCOVERY_PAYLOAD_MAX + 64, n;
	char *p = malloc(cap), err[512], small[16];

	(void)state;
	assert_non_null(p);
	/* Exactly the cap parses (whitespace fills it); one byte more does not. */
	n = (size_t)snprintf(p, cap, "{\"uniq_id\":\"a\",\"stat_t\":\"t\"}");
	memset(p + n, ' ', MQTT_DISCOVERY_PAYLOAD_MAX - n);
	assert_int_equal(parse_exact(p, MQTT_DISCOVERY_PAYLOAD_MAX, &d, err, sizeof(err)), 0);
	p[MQTT_DISCOVERY_PAYLOAD_MAX] = ' ';
	assert_int_equal(parse_exact(p, MQTT_DISCOVERY_PAYLOAD_MAX + 1, &d, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "payload of 16385 bytes is over 16384"));

	/* MQTT_DISCOVERY_MEMBERS_MAX members pass, one more does not. */
	for (int extra = 0; extra < 2; extra++) {
		n = (size_t)snprintf(p, cap, "{\"uniq_id\":\"a\",\"stat_t\":\"t\"");
		for (int i = 2; i < MQTT_DISCOVERY_MEMBERS_MAX + extra; i++)
			n += (size_t)snprintf(p + n, cap - n, ",\"m%d\":%d", i, i);
		n += (size_t)snprintf(p + n, cap - n, "}");
		assert_int_equal(parse_exact(p, n, &d, err, sizeof(err)), extra ? -1 : 0);
	}
	assert_non_null(strstr(err, "payload has more than 128 members"));

	/* name: MQTT_DISCOVERY_NAME_MAX bytes pass, one more does not. */
	for (int extra = 0; extra < 2; extra++) {
		n = (size_t)snprintf(p, cap, "{\"uniq_id\":\"a\",\"stat_t\":\"t\",\"name\":\"");
		memset(p + n, 'n', MQTT_DISCOVERY_NAME_MAX + extra);
		n += MQTT_DISCOVERY_NAME_MAX + extra;
		n += (size_t)snprintf(p + n, cap - n, "\"}");
		assert_int_equal(parse_exact(p, n, &d, err, sizeof(err)), extra ? -1 : 0);
	}
	assert_non_null(strstr(err, "name is over 128 bytes (129)"));

	/* unique_id over its cap; the state topic over MQTT_TOPIC_MAX, also
	 * once "~" is expanded. */
	n = (size_t)snprintf(p, cap, "{\"stat_t\":\"t\",\"uniq_id\":\"");
	memset(p + n, 'u', MQTT_DISCOVERY_UNIQUE_ID_MAX + 1);
	n += MQTT_DISCOVERY_UNIQUE_ID_MAX + 1;
	n += (size_t)snprintf(p + n, cap - n, "\"}");
	assert_int_equal(parse_exact(p, n, &d, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "unique_id is over 256 bytes"));
	n = (size_t)snprintf(p, cap, "{\"uniq_id\":\"a\",\"stat_t\":\"");
	memset(p + n, 't', MQTT_TOPIC_MAX + 1);
	n += MQTT_TOPIC_MAX + 1;
	n += (size_t)snprintf(p + n, cap - n, "\"}");
	assert_int_equal(parse_exact(p, n, &d, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "state_topic is over 1024 bytes"));
	n = (size_t)snprintf(p, cap, "{\"uniq_id\":\"a\",\"stat_t\":\"~x\",\"~\":\"");
	memset(p + n, 'b', MQTT_TOPIC_MAX);
	n += MQTT_TOPIC_MAX;
	n += (size_t)snprintf(p + n, cap - n, "\"}");
	assert_int_equal(parse_exact(p, n, &d, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "with `~' expanded is over 1024 bytes"));
	/* Exactly MQTT_TOPIC_MAX after expansion passes. */
	n = (size_t)snprintf(p, cap, "{\"uniq_id\":\"a\",\"stat_t\":\"~x\",\"~\":\"");
	memset(p + n, 'b', MQTT_TOPIC_MAX - 1);
	n += MQTT_TOPIC_MAX - 1;
	n += (size_t)snprintf(p + n, cap - n, "\"}");
	assert_int_equal(parse_exact(p, n, &d, err, sizeof(err)), 0);
	assert_int_equal(strlen(d.state_topic), MQTT_TOPIC_MAX);

	/* A short err buffer is cut, still NUL-terminated. */
	assert_int_equal(mqtt_discovery_parse("{}", 2, &d, small, sizeof(small)), -1);
	assert_non_null(memchr(small, '\0', sizeof(small)));
	assert_int_equal(mqtt_discovery_parse("{}", 2, &d, NULL, 0), -1);
	free(p);
}

/* ---- product ids ---- */

struct id_case {
	const char *unique_id, *product_id;
};

#define X31 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
#define Y40 "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy"
#define C64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static const struct id_case id_cases[] = {
	/* Already an id: kept as is. */
	{ "abc", "abc" },
	{ "a", "a" },
	{ "0x00158d0001a2b3c4_temperature_zigbee2mqtt",
	    "0x00158d0001a2b3c4_temperature_zigbee2mqtt" },
	{ "A.b-c_D", "A.b-c_D" },
	{ C64, C64 },
	/* Other bytes become '_' and a hash of the whole unique_id follows. */
	{ "a b", "a_b.c8687a08aa5d6ed2044328fa6a697ab8" },
	{ "a/b", "a_b.c14cddc033f64b9dea80ea675cf280a0" },
	{ "a:b", "a_b.6783a31eabf68ccc0660f935c0826282" },
	{ "K\xc3\xbc"
	  "che",
	    "K__che.a9ec872e661915b53a7b5e6e116d8d40" },
	/* No leading '.' or '-' (no "..", no option). */
	{ "..", "_..5ec1f7e700f37c3d0b2981d04855fc34" },
	{ "-x", "_x.a420962426d711880258b007d6767792" },
	/* Over 64 bytes: cut to 31 and hashed; bytes past the cut still count. */
	{ X31 "A" Y40, X31 ".351995b75995b86dc171da51e3bff593" },
	{ X31 "B" Y40, X31 ".2a38b0f0950dd2e19d1ebd3794a918b8" },
};

static void
test_product_id(void **state)
{
	struct mqtt_discovery d;
	char p[1024], err[512];

	(void)state;
	for (size_t i = 0; i < N(id_cases); i++) {
		int n = snprintf(
		    p, sizeof(p), "{\"uniq_id\":\"%s\",\"stat_t\":\"t\"}", id_cases[i].unique_id);

		if (parse_exact(p, (size_t)n, &d, err, sizeof(err)) != 0)
			fail_msg("`%s': %s", id_cases[i].unique_id, err);
		assert_string_equal(d.product_id, id_cases[i].product_id);
		assert_true(id_ok(d.product_id));
	}
}

/* Unique_ids that sanitising would merge, or that look like a hashed id,
 * still get different product ids. */
static void
test_product_id_distinct(void **state)
{
	static const char *const groups[][4] = {
		{ "a b", "a_b", "a/b", "a:b" },
		{ "Kitchen Temperature", "Kitchen_Temperature", "Kitchen\xc2\xa0Temperature",
		    "Kitchen-Temperature" },
		{ X31 "A" Y40, X31 "B" Y40, X31, X31 "A" },
		/* A unique_id that is some other's product id. */
		{ "a b", "a_b.c8687a08aa5d6ed2044328fa6a697ab8",
		    "a_b.C8687A08AA5D6ED2044328FA6A697AB8", "a_b.c8687a08aa5d6ed2044328fa6a697ab" },
		{ ".x", "_x", "-x", "x" },
		{ C64, C64 "0", C64 "1", "0" C64 },
	};
	struct mqtt_discovery d;
	char p[1024], err[512], ids[4][MQTT_DISCOVERY_PRODUCT_ID_MAX + 1];

	(void)state;
	for (size_t g = 0; g < N(groups); g++) {
		for (size_t i = 0; i < 4; i++) {
			int n = snprintf(
			    p, sizeof(p), "{\"uniq_id\":\"%s\",\"stat_t\":\"t\"}", groups[g][i]);

			if (parse_exact(p, (size_t)n, &d, err, sizeof(err)) != 0)
				fail_msg("`%s': %s", groups[g][i], err);
			assert_true(id_ok(d.product_id));
			memcpy(ids[i], d.product_id, sizeof(ids[i]));
			for (size_t j = 0; j < i; j++) {
				if (strcmp(ids[i], ids[j]) == 0)
					fail_msg("`%s' and `%s' both map to `%s'", groups[g][i],
					    groups[g][j], ids[i]);
			}
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_topic),
		cmocka_unit_test(test_topic_limits),
		cmocka_unit_test(test_ok),
		cmocka_unit_test(test_field_end_to_end),
		cmocka_unit_test(test_removed),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_caps),
		cmocka_unit_test(test_product_id),
		cmocka_unit_test(test_product_id_distinct),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
