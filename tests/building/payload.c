/* tool_building: device names, zigbee2mqtt state JSON and Home Assistant discovery configs. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "tests/building/building.h"

#define DEGREE_C                                                                                   \
	"\xc2\xb0"                                                                                 \
	"C" /* "°C" in UTF-8; split, since C is a hex digit */
#define MANUFACTURER "sdpp-gateway"
#define MODEL "Simulated room sensor (temperature, humidity, CO2, light, occupancy)"
#define Z2M_VERSION "1.35.1"
/* Each device starts at its own row of the trace: i times a prime. */
#define ROW_STRIDE 7919UL

struct prop {
	const char *key;       /* in the state JSON and the discovery topic */
	const char *component; /* "sensor" or "binary_sensor" */
	const char *name, *unit, *unit_changed, *device_class;
	int diagnostic; /* entity_category "diagnostic", as zigbee2mqtt marks battery */
};

/* Indexed by enum building_prop; units as zigbee2mqtt announces them, and
 * for --change another spelling of the same unit. */
static const struct prop props[BUILDING_NPROPS] = {
	{ "battery", "sensor", "Battery", "%", "percent", "battery", 1 },
	{ "co2", "sensor", "CO2", "ppm", "ppmv", "carbon_dioxide", 0 },
	{ "humidity", "sensor", "Humidity", "%", "%RH", "humidity", 0 },
	{ "illuminance", "sensor", "Illuminance", "lx", "lux", "illuminance", 0 },
	{ "occupancy", "binary_sensor", "Occupancy", NULL, NULL, "occupancy", 0 },
	{ "temperature", "sensor", "Temperature", DEGREE_C, "C", "temperature", 0 },
};

/* A bounded output buffer: appends stop at the cap and mark it overflowed. */
struct out {
	char *p;
	size_t len, cap;
	int over;
};

static void out_add(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
out_add(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->over)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->p + o->len, o->cap - o->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->cap - o->len)
		o->over = 1;
	else
		o->len += (size_t)n;
}

const char *
building_prop_name(int prop)
{
	return prop >= 0 && prop < BUILDING_NPROPS ? props[prop].key : NULL;
}

int
building_props_parse(const char *list, unsigned *mask, char *err, size_t errlen)
{
	const char *p = list;

	*mask = 0;
	if (strcmp(list, "all") == 0) {
		*mask = (1u << BUILDING_NPROPS) - 1;
		return 0;
	}
	while (*p != '\0') {
		size_t n = strcspn(p, ",");
		int k;

		for (k = 0; k < BUILDING_NPROPS; k++)
			if (strlen(props[k].key) == n && memcmp(props[k].key, p, n) == 0)
				break;
		if (k == BUILDING_NPROPS) {
			snprintf(err, errlen,
			    "not a property (battery, co2, humidity, illuminance, occupancy, "
			    "temperature): `%.*s'",
			    (int)n, p);
			return -1;
		}
		*mask |= 1u << k;
		p += n;
		if (*p == ',')
			p++;
	}
	if (*mask == 0) {
		snprintf(err, errlen, "no property named: `%s'", list);
		return -1;
	}
	return 0;
}

void
building_device_name(unsigned long i, char *out, size_t outcap)
{
	snprintf(out, outcap, "Room %03lu TH", i);
}

void
building_device_ieee(unsigned long i, char *out, size_t outcap)
{
	/* Knuth's multiplier is odd, so this is a bijection of 32-bit numbers:
	 * every device has its own address, and neighbours look unrelated. */
	uint32_t x = (uint32_t)i * 2654435761u;

	snprintf(out, outcap, "0x00158d00%08lx", (unsigned long)x);
}

int
building_state(
    const struct building_trace *t, unsigned long i, unsigned long r, char *out, size_t outcap)
{
	const struct building_row *row = &t->rows[(i * ROW_STRIDE + r) % t->nrows];
	struct out o = { out, 0, outcap, 0 };
	/* Not in the trace: a battery that drains slowly, a radio that varies. */
	unsigned long battery = 60 + (i * 13) % 41, lq = 40 + (i * 37 + r * 11) % 216;

	battery = battery > r / 500 + 1 ? battery - r / 500 : 1;
	out_add(&o,
	    "{\"battery\":%lu,\"co2\":%s,\"humidity\":%s,\"illuminance\":%s,"
	    "\"linkquality\":%lu,\"occupancy\":%s,\"temperature\":%s}",
	    battery, row->co2, row->humidity, row->light, lq, row->occupancy ? "true" : "false",
	    row->temperature);
	return o.over ? -1 : (int)o.len;
}

/* zigbee2mqtt's object_id: the friendly name in lower case, spaces as '_'. */
static void
object_id(const char *name, char *out, size_t outcap)
{
	size_t k;

	for (k = 0; name[k] != '\0' && k + 1 < outcap; k++)
		out[k] = name[k] == ' '                     ? '_'
		         : name[k] >= 'A' && name[k] <= 'Z' ? (char)(name[k] - 'A' + 'a')
		                                            : name[k];
	out[k] = '\0';
}

int
building_config(const char *prefix, const char *base, unsigned long i, int prop, int changed,
    char *topic, size_t topiccap, char *out, size_t outcap)
{
	const struct prop *p = &props[prop];
	char name[BUILDING_NAME_MAX], ieee[BUILDING_NAME_MAX], oid[BUILDING_NAME_MAX];
	char tpl[64], ename[64];
	const char *unit = changed ? p->unit_changed : p->unit;
	struct out o = { out, 0, outcap, 0 };
	int n;

	building_device_name(i, name, sizeof(name));
	building_device_ieee(i, ieee, sizeof(ieee));
	object_id(name, oid, sizeof(oid));
	n = snprintf(topic, topiccap, "%s/%s/%s/%s/config", prefix, p->component, ieee, p->key);
	if (n < 0 || (size_t)n >= topiccap)
		return -1;
	snprintf(ename, sizeof(ename), "%s%s", p->name, changed ? " (recalibrated)" : "");
	if (i % 10 == 5)
		snprintf(tpl, sizeof(tpl), "{{ value_json['%s'] }}", p->key);
	else
		snprintf(tpl, sizeof(tpl), "{{ value_json.%s }}", p->key);
	if (i % 10 == 0) {
		/* The abbreviated form with a base topic (Tasmota's habit). */
		out_add(&o,
		    "{\"~\":\"%s/%s\",\"avty\":[{\"t\":\"%s/bridge/state\","
		    "\"val_tpl\":\"{{ value_json.state }}\"}],"
		    "\"dev\":{\"ids\":[\"zigbee2mqtt_%s\"],\"mf\":\"%s\",\"mdl\":\"%s\","
		    "\"name\":\"%s\"},\"dev_cla\":\"%s\",",
		    base, name, base, ieee, MANUFACTURER, MODEL, name, p->device_class);
		if (p->diagnostic)
			out_add(&o, "\"ent_cat\":\"diagnostic\",");
		out_add(&o, "\"name\":\"%s\",", ename);
		if (unit == NULL)
			out_add(&o, "\"pl_off\":false,\"pl_on\":true,");
		else
			out_add(&o, "\"stat_cla\":\"measurement\",");
		out_add(&o, "\"stat_t\":\"~\",\"uniq_id\":\"%s_%s_zigbee2mqtt\",", ieee, p->key);
		if (unit != NULL)
			out_add(&o, "\"unit_of_meas\":\"%s\",", unit);
		out_add(&o, "\"val_tpl\":\"%s\"}", tpl);
		return o.over ? -1 : (int)o.len;
	}
	/* zigbee2mqtt 1.35's shape, members in its order. */
	out_add(&o,
	    "{\"availability\":[{\"topic\":\"%s/bridge/state\","
	    "\"value_template\":\"{{ value_json.state }}\"}],\"availability_mode\":\"all\","
	    "\"device\":{\"identifiers\":[\"zigbee2mqtt_%s\"],\"manufacturer\":\"%s\","
	    "\"model\":\"%s\",\"name\":\"%s\",\"via_device\":\"zigbee2mqtt_bridge_"
	    "0x00124b0000000001\"},"
	    "\"device_class\":\"%s\",\"enabled_by_default\":true,",
	    base, ieee, MANUFACTURER, MODEL, name, p->device_class);
	if (p->diagnostic)
		out_add(&o, "\"entity_category\":\"diagnostic\",");
	out_add(&o,
	    "\"name\":\"%s\",\"object_id\":\"%s_%s\",\"origin\":{\"name\":\"Zigbee2MQTT\","
	    "\"sw\":\"" Z2M_VERSION "\",\"url\":\"https://www.zigbee2mqtt.io\"},",
	    ename, oid, p->key);
	if (unit == NULL)
		out_add(&o, "\"payload_off\":false,\"payload_on\":true,");
	else
		out_add(&o, "\"state_class\":\"measurement\",");
	out_add(&o, "\"state_topic\":\"%s/%s\",\"unique_id\":\"%s_%s_zigbee2mqtt\",", base, name,
	    ieee, p->key);
	if (unit != NULL)
		out_add(&o, "\"unit_of_measurement\":\"%s\",", unit);
	out_add(&o, "\"value_template\":\"%s\"}", tpl);
	return o.over ? -1 : (int)o.len;
}
