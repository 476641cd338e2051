/* tool_building: what its files share (the trace, devices, payloads, the discovery check). */
#ifndef TESTS_BUILDING_H
#define TESTS_BUILDING_H

#include <stddef.h>

/* Bytes of one trace line we read; the office trace's are under 100. */
#define BUILDING_LINE_MAX 512
/* Rows of the trace we keep (it has 2,665). */
#define BUILDING_ROWS_MAX 100000
/* Bytes of one number's text as the trace writes it ("0.00476416302416414"). */
#define BUILDING_NUM_MAX 32
/* Devices one run may select (device numbers are 1..BUILDING_DEVICE_LAST). */
#define BUILDING_DEVICES_MAX 100000
#define BUILDING_DEVICE_LAST 999999
/* Bytes of a topic or text option (--base, --prefix), and of a built topic. */
#define BUILDING_TOPIC_MAX 256
/* Bytes of a device's friendly name ("Room 001 TH") and IEEE address. */
#define BUILDING_NAME_MAX 32
/* Bytes of a payload we build: a discovery config is under 1 KiB. */
#define BUILDING_PAYLOAD_MAX 2048

/* One row of the trace: each column's text exactly as the file has it. */
struct building_row {
	char temperature[BUILDING_NUM_MAX];
	char humidity[BUILDING_NUM_MAX];
	char light[BUILDING_NUM_MAX];
	char co2[BUILDING_NUM_MAX];
	int occupancy; /* 0 or 1 */
};

/* The whole trace, from building_trace_load(); free with building_trace_free(). */
struct building_trace {
	struct building_row *rows;
	size_t nrows;
};

/*
 * Reads the office trace (header "date","Temperature","Humidity","Light",
 * "CO2","HumidityRatio","Occupancy", then rows like
 * "140","2015-02-02 14:19:00",23.7,26.272,585.2,749.2,0.0047...,1) into *t,
 * keeping each number's text (it must be a JSON number). Returns 0; 1 if the
 * file does not exist (a skip, not an error); -1 with err set to one line
 * (path:line: reason) otherwise. The caller frees t->rows with
 * building_trace_free() (NULL-safe, also after a failure).
 */
int building_trace_load(const char *path, struct building_trace *t, char *err, size_t errlen)
    __attribute__((warn_unused_result));
void building_trace_free(struct building_trace *t);

/* The properties a device announces, in the state payload's key order. */
enum building_prop {
	BUILDING_BATTERY,
	BUILDING_CO2,
	BUILDING_HUMIDITY,
	BUILDING_ILLUMINANCE,
	BUILDING_OCCUPANCY,
	BUILDING_TEMPERATURE,
	BUILDING_NPROPS
};

/* The property's key in the state JSON and in topics ("co2"), or NULL. */
const char *building_prop_name(int prop);
/* Reads "temperature,co2" (or "all") into a bit mask of 1 << prop; -1 if a
 * name is unknown or the list is empty, with err naming it. */
int building_props_parse(const char *list, unsigned *mask, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* Device i's friendly name ("Room 001 TH") and IEEE address
 * ("0x00158d00" and 8 hex digits, a bijection of i: distinct for every i). */
void building_device_name(unsigned long i, char *out, size_t outcap);
void building_device_ieee(unsigned long i, char *out, size_t outcap);

/*
 * The state device i publishes in round r (zigbee2mqtt's JSON: battery,
 * co2, humidity, illuminance, linkquality, occupancy, temperature, in that
 * order), its measurements the text of row r' of the trace, where each
 * device starts at its own row and steps one row a round. Returns the
 * length, or -1 if it does not fit outcap.
 */
int building_state(
    const struct building_trace *t, unsigned long i, unsigned long r, char *out, size_t outcap);

/*
 * Device i's Home Assistant discovery config for prop: the topic
 * (prefix/sensor|binary_sensor/<ieee>/<prop>/config) and the payload
 * zigbee2mqtt writes. Every tenth device (i % 10 == 0) writes the
 * abbreviated form with a "~" base topic, as Tasmota does, and devices with
 * i % 10 == 5 read their value as value_json['prop']. changed gives another
 * name and an equivalent unit spelling ("°C" becomes "C"), for a consumer
 * to see a config change. Returns the payload length, or -1 if either does
 * not fit.
 */
int building_config(const char *prefix, const char *base, unsigned long i, int prop, int changed,
    char *topic, size_t topiccap, char *out, size_t outcap);

/*
 * --verify: reads "TOPIC<TAB>PAYLOAD" lines (mosquitto_sub -F '%t\t%p')
 * from stdin, checks each with mqtt_discovery_topic() under prefix and
 * mqtt_discovery_parse(), and writes what the parser understood, one
 * tab-separated line each: component, node_id, object_id, product_id,
 * state_topic, field, unit, device_class, name, device_name (or "removed").
 * Refusals go to stderr as "line N: reason". Returns 0 if every line
 * parsed, 1 otherwise.
 */
int building_verify(const char *prefix);

#endif
