/* Home Assistant MQTT discovery: which topics announce a sensor, and what the announcement says. */
#ifndef MQTT_DISCOVERY_H
#define MQTT_DISCOVERY_H

#include <stddef.h>

#include "mqtt/field.h"
#include "mqtt/mqtt.h"

/*
 * A building that runs zigbee2mqtt, Tasmota or ESPHome announces each
 * sensor as a retained message on
 *
 *   <prefix>/<component>/[<node_id>/]<object_id>/config
 *
 * whose payload is a JSON object (state_topic, value_template, unique_id,
 * ...); an empty retained payload removes it. The gateway turns each
 * announced sensor into a product. This file is the pure part: bytes in,
 * a plain struct out, no I/O, no allocation the caller sees, nothing to
 * free. Sources: the Home Assistant MQTT discovery documentation
 * (https://www.home-assistant.io/integrations/mqtt/#mqtt-discovery, the
 * topic format and the [a-zA-Z0-9_-] ids) and Home Assistant's own reader,
 * homeassistant/components/mqtt/discovery.py (TOPIC_MATCHER, the
 * abbreviation pass, _replace_topic_base) with abbreviations.py.
 */

/* The default discovery prefix (Home Assistant's discovery_prefix). */
#define MQTT_DISCOVERY_PREFIX "homeassistant"

/* Payload bytes we parse; a larger announcement is refused. Real ones are
 * under 2 KiB (zigbee2mqtt's biggest carry a device block and an origin). */
#define MQTT_DISCOVERY_PAYLOAD_MAX (16u * 1024)
/* Bytes of node_id and object_id in a discovery topic. */
#define MQTT_DISCOVERY_ID_MAX 128
/* Bytes of component: "binary_sensor" is the longest we accept. */
#define MQTT_DISCOVERY_COMPONENT_MAX 16
/* Bytes of unique_id (Home Assistant sets none; ours, so a log line and
 * the key of a product's table stay small). */
#define MQTT_DISCOVERY_UNIQUE_ID_MAX 256
/* Bytes of a product id: the config's and the menu's [A-Za-z0-9._-]{1,64}. */
#define MQTT_DISCOVERY_PRODUCT_ID_MAX 64
/* Bytes of name and device name (shown to buyers in the menu). */
#define MQTT_DISCOVERY_NAME_MAX 128
/* Bytes of unit_of_measurement and device_class ("°C", "temperature"). */
#define MQTT_DISCOVERY_UNIT_MAX 32
/* Members of the payload object, and of its device object; more is refused
 * (the duplicate-name check compares each pair). */
#define MQTT_DISCOVERY_MEMBERS_MAX 128

/* What a discovery topic names; plain arrays, NUL-terminated. */
struct mqtt_discovery_key {
	char component[MQTT_DISCOVERY_COMPONENT_MAX + 1]; /* "sensor" or "binary_sensor" */
	char node_id[MQTT_DISCOVERY_ID_MAX + 1];          /* "" when the topic has none */
	char object_id[MQTT_DISCOVERY_ID_MAX + 1];
};

/*
 * 1 if topic is prefix/sensor/[node_id/]object_id/config or the same with
 * binary_sensor, with node_id and object_id 1..MQTT_DISCOVERY_ID_MAX bytes
 * of [A-Za-z0-9_-] (what Home Assistant's TOPIC_MATCHER takes), and fills
 * *k; 0 for anything else, *k then zeroed: other components (light,
 * switch, Home Assistant's "device" bundles), other prefixes, levels
 * missing or extra. prefix is compared whole (NULL means
 * MQTT_DISCOVERY_PREFIX; it may hold '/', never a wildcard). The key
 * (component, node_id, object_id) names the announcement: a later message
 * on the same topic replaces or removes it.
 */
int mqtt_discovery_topic(const char *prefix, const char *topic, struct mqtt_discovery_key *k)
    __attribute__((warn_unused_result));

/* Results of mqtt_discovery_parse() besides -1 (refused). */
enum {
	MQTT_DISCOVERY_OK = 0,      /* *d holds a sensor */
	MQTT_DISCOVERY_REMOVED = 1, /* empty payload: the announcer withdrew it */
};

/*
 * One announced sensor. Every string is NUL-terminated, checked printable
 * (util_text_printable) and within its cap; nothing to free, safe to copy.
 */
struct mqtt_discovery {
	/* unique_id (uniq_id) as announced: 1..MQTT_DISCOVERY_UNIQUE_ID_MAX bytes. */
	char unique_id[MQTT_DISCOVERY_UNIQUE_ID_MAX + 1];
	/*
	 * The product id made from unique_id: 1..MQTT_DISCOVERY_PRODUCT_ID_MAX
	 * bytes of [A-Za-z0-9._-], not starting with '.' or '-'. A unique_id
	 * that already is such an id (and does not end like a hashed one,
	 * below) is its own product id. Any other becomes
	 *
	 *   S "." H
	 *
	 * where S is unique_id with every byte outside [A-Za-z0-9._-] (and a
	 * leading '.' or '-') replaced by '_', cut to 31 bytes, and H is the
	 * first 16 bytes of SHA-256(unique_id) in lowercase hex (32 digits).
	 * Unique_ids that differ only in replaced bytes, or only past the cut,
	 * so get different ids: a kept id never ends in "." and 32 lowercase
	 * hex digits, a hashed one always does, and two hashed ids meet only
	 * if SHA-256 collides in 128 bits. Ids compare byte for byte (case
	 * matters).
	 */
	char product_id[MQTT_DISCOVERY_PRODUCT_ID_MAX + 1];
	/* state_topic (stat_t) with "~" expanded: a topic name (1..MQTT_TOPIC_MAX
	 * bytes, no '+' or '#'). */
	char state_topic[MQTT_TOPIC_MAX + 1];
	/* The RFC 6901 pointer value_template (val_tpl) reads, for
	 * mqtt_field_parse(); "" (the whole payload) without a template. */
	char field[MQTT_FIELD_POINTER_MAX + 1];
	char unit[MQTT_DISCOVERY_UNIT_MAX + 1];         /* unit_of_measurement; "" if none */
	char device_class[MQTT_DISCOVERY_UNIT_MAX + 1]; /* device_class; "" if none */
	char name[MQTT_DISCOVERY_NAME_MAX + 1];         /* name; "" if none or null */
	char device_name[MQTT_DISCOVERY_NAME_MAX + 1];  /* device.name; "" if none */
};

/*
 * Reads one discovery payload[0..len) (a retained message on a topic
 * mqtt_discovery_topic() accepted; payload need not be NUL-terminated).
 * len 0 returns MQTT_DISCOVERY_REMOVED with *d zeroed. Otherwise the payload
 * must be one JSON object (RFC 8259 exactly, as mqtt_field_select() checks
 * it, at most MQTT_DISCOVERY_PAYLOAD_MAX bytes), and returns MQTT_DISCOVERY_OK
 * with *d filled, or -1 with *d zeroed and err set to one line the daemon
 * may log as is (values from the network are quoted by mqtt_field_quote()).
 *
 * Names are read in full and abbreviated form (abbreviations.py):
 * unique_id/uniq_id, state_topic/stat_t, value_template/val_tpl,
 * unit_of_measurement/unit_of_meas, device_class/dev_cla, device/dev, and
 * inside the device object name. Other members are ignored. If "~" is a
 * string, a state_topic that starts with '~' has it replaced by that base
 * topic, and one that ends with '~' likewise (_replace_topic_base: when
 * both, the end wins, "~a~" with base b giving "~ab").
 *
 * Refused, never guessed: an empty or non-JSON payload or one that is not
 * an object; a payload over the cap; a member name twice in the payload or
 * in its device object, or a name in both forms (stat_t and state_topic:
 * parsers disagree which wins); more than MQTT_DISCOVERY_MEMBERS_MAX
 * members; the escape \u0000 anywhere (cJSON would cut the string there);
 * no unique_id or an empty one (no stable product id); no state_topic, or
 * one with a wildcard or otherwise not a topic name; a value_template that
 * mqtt_hatemplate_to_pointer() does not translate (its reason); a "~" that
 * is not a string; any text we keep that is not a string (name may be
 * null), is over its cap or is not printable.
 */
int mqtt_discovery_parse(const char *payload, size_t len, struct mqtt_discovery *d, char *err,
    size_t errlen) __attribute__((warn_unused_result));

#endif
