/* libFuzzer target: mqtt/discovery.c (topics, announcements; what it accepts is safe to sell). */
#include "fuzz/fuzz.h"
#include "mqtt/discovery.h"
#include "mqtt/field.h"
#include "util/text.h"

/* Payload bytes read from the input: past the cap, so its check runs too. */
#define PAYLOAD_IN_MAX (MQTT_DISCOVERY_PAYLOAD_MAX + 8)

static const char id_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-";

/* 1 if s is NUL-terminated within cap and printable. */
static int
text_ok(const char *s, size_t cap)
{
	size_t n = strnlen(s, cap);

	return n < cap && util_text_printable(s, n);
}

/* The first line is a topic for mqtt_discovery_topic(), the rest an
 * announcement; both are also tried whole. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	struct mqtt_discovery d, again;
	struct mqtt_discovery_key k;
	struct mqtt_field f;
	char topic[MQTT_TOPIC_MAX + 2], err[512], e2[512];
	const uint8_t *line;
	size_t tlen, n, idlen;
	char *payload;
	int rc;

	line = fuzz_in_line(&in, &tlen);
	tlen = tlen < sizeof(topic) - 1 ? tlen : sizeof(topic) - 1;
	memcpy(topic, line, tlen);
	topic[tlen] = '\0'; /* a NUL ends it early, as a C string does */
	if (mqtt_discovery_topic(NULL, topic, &k)) {
		CHECK(strcmp(k.component, "sensor") == 0 ||
		      strcmp(k.component, "binary_sensor") == 0);
		CHECK(strlen(k.object_id) >= 1);
		CHECK(strspn(k.object_id, id_alphabet) == strlen(k.object_id));
		CHECK(strspn(k.node_id, id_alphabet) == strlen(k.node_id));
		CHECK(strchr(k.object_id, '.') == NULL && strchr(k.node_id, '.') == NULL);
		CHECK(
		    strncmp(topic, MQTT_DISCOVERY_PREFIX "/", sizeof(MQTT_DISCOVERY_PREFIX)) == 0);
		CHECK(strcmp(topic + strlen(topic) - 7, "/config") == 0);
	} else {
		CHECK(k.component[0] == '\0' && k.node_id[0] == '\0' && k.object_id[0] == '\0');
	}

	/* An exact-size copy, so ASan sees a read past len. */
	n = in.n < PAYLOAD_IN_MAX ? in.n : PAYLOAD_IN_MAX;
	payload = malloc(n > 0 ? n : 1);
	CHECK(payload != NULL);
	if (n > 0)
		memcpy(payload, in.p, n);
	memset(err, 'x', sizeof(err));
	rc = mqtt_discovery_parse(payload, n, &d, err, sizeof(err));
	if (n == 0) {
		CHECK(rc == MQTT_DISCOVERY_REMOVED);
		CHECK(d.product_id[0] == '\0');
	} else if (rc == -1) {
		/* Refused: nothing kept, and one line safe to log. */
		CHECK(d.product_id[0] == '\0' && d.state_topic[0] == '\0');
		CHECK(err[0] != '\0' && text_ok(err, sizeof(err)));
	} else {
		CHECK(rc == MQTT_DISCOVERY_OK);
		CHECK(n <= MQTT_DISCOVERY_PAYLOAD_MAX);
		/* The product id: 1..64 bytes of the config's alphabet. */
		idlen = strnlen(d.product_id, sizeof(d.product_id));
		CHECK(idlen >= 1 && idlen <= MQTT_DISCOVERY_PRODUCT_ID_MAX);
		CHECK(strspn(d.product_id, id_alphabet) == idlen);
		CHECK(d.product_id[0] != '.' && d.product_id[0] != '-');
		/* The same unique_id kept as is, or cut and hashed. */
		CHECK(strcmp(d.product_id, d.unique_id) == 0 ||
		      (idlen > 33 && d.product_id[idlen - 33] == '.'));
		/* A topic name we can subscribe to. */
		CHECK(d.state_topic[0] != '\0' && strpbrk(d.state_topic, "+#") == NULL);
		CHECK(mqtt_filter_valid(d.state_topic));
		/* The field compiles. */
		CHECK(mqtt_field_parse(&f, d.field, e2, sizeof(e2)) == 0);
		CHECK(text_ok(d.unique_id, sizeof(d.unique_id)) && d.unique_id[0] != '\0');
		CHECK(text_ok(d.state_topic, sizeof(d.state_topic)));
		CHECK(text_ok(d.unit, sizeof(d.unit)));
		CHECK(text_ok(d.device_class, sizeof(d.device_class)));
		CHECK(text_ok(d.name, sizeof(d.name)));
		CHECK(text_ok(d.device_name, sizeof(d.device_name)));
		/* Deterministic: the same bytes, the same sensor. */
		CHECK(mqtt_discovery_parse(payload, n, &again, NULL, 0) == MQTT_DISCOVERY_OK);
		CHECK(memcmp(&d, &again, sizeof(d)) == 0);
	}
	free(payload);
	return 0;
}
