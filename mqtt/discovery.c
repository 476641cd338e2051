/* Home Assistant MQTT discovery: recognises announcement topics and reads sensor announcements. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <openssl/sha.h>

#include "mqtt/discovery.h"
#include "mqtt/field.h"
#include "mqtt/hatemplate.h"
#include "mqtt/mqtt.h"
#include "util/text.h"

/* Bytes of a quoted value in a reason (mqtt_field_quote()'s worst case). */
#define QUOTE_CAP (4 * MQTT_FIELD_QUOTE_MAX + 4)
/* Bytes of sanitised unique_id kept before the hash suffix. */
#define ID_HEAD_MAX 31
/* Bytes of SHA-256 in the suffix (128 bits, as 32 hex digits). */
#define ID_HASH_BYTES 16
/* "." and the hex digits. */
#define ID_TAIL_LEN (1 + 2 * ID_HASH_BYTES)

/* The components we sell; Home Assistant knows many more (light, switch,
 * ...), which announce things to control rather than readings. */
static const char *const components[] = { "sensor", "binary_sensor" };
#define N_COMPONENTS (sizeof(components) / sizeof(components[0]))

/* 1 if c may appear in a node_id or object_id: the documented class
 * [a-zA-Z0-9_-]. */
static int
id_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-';
}

/* 1 if c may appear in a product id: the config's [A-Za-z0-9._-]. */
static int
product_byte(unsigned char c)
{
	return id_byte(c) || c == '.';
}

/* Length of the id at s up to the next '/' or the end, or 0 if it is empty,
 * too long or holds a byte outside the class. */
static size_t
id_len(const char *s)
{
	size_t n = 0;

	while (s[n] != '\0' && s[n] != '/') {
		if (!id_byte((unsigned char)s[n]) || n == MQTT_DISCOVERY_ID_MAX)
			return 0;
		n++;
	}
	return n;
}

int
mqtt_discovery_topic(const char *prefix, const char *topic, struct mqtt_discovery_key *k)
{
	const char *p, *ids[3];
	size_t plen, n = 0, lens[3], i, nids = 0;

	memset(k, 0, sizeof(*k));
	if (prefix == NULL)
		prefix = MQTT_DISCOVERY_PREFIX;
	if (topic == NULL || strnlen(topic, MQTT_TOPIC_MAX + 1) > MQTT_TOPIC_MAX)
		return 0;
	plen = strlen(prefix);
	if (plen == 0 || strpbrk(prefix, "+#") != NULL || strncmp(topic, prefix, plen) != 0 ||
	    topic[plen] != '/')
		return 0;
	p = topic + plen + 1;
	for (i = 0; i < N_COMPONENTS; i++) {
		n = strlen(components[i]);
		if (strncmp(p, components[i], n) == 0 && p[n] == '/')
			break;
	}
	if (i == N_COMPONENTS)
		return 0;
	memcpy(k->component, components[i], n + 1);
	p += n + 1;
	/* Then two or three levels: [node_id/]object_id/config. TOPIC_MATCHER
	 * reads them in that order, so "a/config/config" is node a, object
	 * config. */
	for (;;) {
		n = id_len(p);
		if (n == 0 || nids == 3)
			goto fail; /* an empty level (a trailing '/'), or a fourth */
		ids[nids] = p;
		lens[nids++] = n;
		p += n;
		if (*p == '\0')
			break;
		p++; /* the '/' */
	}
	if (nids < 2 || lens[nids - 1] != 6 || memcmp(ids[nids - 1], "config", 6) != 0)
		goto fail;
	if (nids == 3) {
		memcpy(k->node_id, ids[0], lens[0]);
		k->node_id[lens[0]] = '\0';
	}
	memcpy(k->object_id, ids[nids - 2], lens[nids - 2]);
	k->object_id[lens[nids - 2]] = '\0';
	return 1;
fail:
	memset(k, 0, sizeof(*k));
	return 0;
}

/* The one member of obj named full or abbr, in *out (NULL if neither).
 * -1 with err if both are there: Home Assistant lets the abbreviation win,
 * but another reader of the same payload may not. */
static int
member(const cJSON *obj, const char *full, const char *abbr, const cJSON **out, char *err,
    size_t errlen)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(obj, full);
	const cJSON *b = abbr != NULL ? cJSON_GetObjectItemCaseSensitive(obj, abbr) : NULL;

	*out = a != NULL ? a : b;
	if (a != NULL && b != NULL)
		return util_errf(err, errlen, "both `%s' and `%s'", full, abbr);
	return 0;
}

/* -1 with err if obj has more than MQTT_DISCOVERY_MEMBERS_MAX members or
 * a name twice: cJSON keeps both and answers with the first, Python's json
 * (Home Assistant) with the last, so the two would read different
 * sensors. */
static int
unique_names(const cJSON *obj, const char *what, char *err, size_t errlen)
{
	const cJSON *a, *b;
	char q[QUOTE_CAP];
	size_t n = 0;

	for (a = obj->child; a != NULL; a = a->next) {
		if (++n > MQTT_DISCOVERY_MEMBERS_MAX)
			return util_errf(err, errlen, "%s has more than %d members", what,
			    MQTT_DISCOVERY_MEMBERS_MAX);
		for (b = obj->child; b != a; b = b->next) {
			if (strcmp(a->string, b->string) == 0) {
				mqtt_field_quote(q, sizeof(q), a->string, strlen(a->string));
				return util_errf(
				    err, errlen, "%s has the name `%s' twice", what, q);
			}
		}
	}
	return 0;
}

/*
 * Copies the string v (named what) into dst[cap]: "" if v is NULL (absent)
 * or, with null_ok, JSON null; -1 with err if it is another type, over
 * cap - 1 bytes or not printable.
 */
static int
text(const cJSON *v, const char *what, int null_ok, char *dst, size_t cap, char *err, size_t errlen)
{
	char q[QUOTE_CAP];
	size_t n;

	dst[0] = '\0';
	if (v == NULL || (null_ok && cJSON_IsNull(v)))
		return 0;
	if (!cJSON_IsString(v) || v->valuestring == NULL)
		return util_errf(err, errlen, "%s is not a string", what);
	n = strlen(v->valuestring);
	if (n >= cap)
		return util_errf(err, errlen, "%s is over %zu bytes (%zu)", what, cap - 1, n);
	if (!util_text_printable(v->valuestring, n)) {
		mqtt_field_quote(q, sizeof(q), v->valuestring, n);
		return util_errf(err, errlen, "%s `%s' is not printable text", what, q);
	}
	memcpy(dst, v->valuestring, n + 1);
	return 0;
}

/* text() of the member named full or abbr (member()); *found says whether
 * there was one. */
static int
named_text(const cJSON *obj, const char *full, const char *abbr, int null_ok, char *dst, size_t cap,
    const cJSON **found, char *err, size_t errlen)
{
	const cJSON *v;

	if (member(obj, full, abbr, &v, err, errlen) != 0)
		return -1;
	if (found != NULL)
		*found = v;
	return text(v, full, null_ok, dst, cap, err, errlen);
}

/* The texts we only copy: a name, its abbreviation (abbreviations.py),
 * whether JSON null means none, and where it goes. name may be null since
 * Home Assistant 2023.8 ("no name of its own"). */
static const struct plain_text {
	const char *full, *abbr;
	int null_ok;
	size_t off, cap;
} plain_texts[] = {
	{ "unit_of_measurement", "unit_of_meas", 0, offsetof(struct mqtt_discovery, unit),
	    MQTT_DISCOVERY_UNIT_MAX + 1 },
	{ "device_class", "dev_cla", 1, offsetof(struct mqtt_discovery, device_class),
	    MQTT_DISCOVERY_UNIT_MAX + 1 },
	{ "name", NULL, 1, offsetof(struct mqtt_discovery, name), MQTT_DISCOVERY_NAME_MAX + 1 },
};

/* 1 if s[0..n) ends like a hashed product id: "." and 32 lowercase hex. */
static int
hashed_tail(const char *s, size_t n)
{
	size_t i;

	if (n < ID_TAIL_LEN || s[n - ID_TAIL_LEN] != '.')
		return 0;
	for (i = n - ID_TAIL_LEN + 1; i < n; i++) {
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	}
	return 1;
}

/* The product id of unique_id (the mapping is in discovery.h). */
static void
product_id(const char *uid, char out[MQTT_DISCOVERY_PRODUCT_ID_MAX + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[SHA256_DIGEST_LENGTH];
	size_t n = strlen(uid), i, o;
	int clean = n >= 1 && n <= MQTT_DISCOVERY_PRODUCT_ID_MAX && uid[0] != '.' &&
	            uid[0] != '-' && !hashed_tail(uid, n);

	for (i = 0; clean && i < n; i++)
		clean = product_byte((unsigned char)uid[i]);
	if (clean) {
		memcpy(out, uid, n + 1);
		return;
	}
	/* A leading '.' would make "." and ".." (paths) and hidden files; a
	 * leading '-' an option to a tool. */
	for (o = 0; o < n && o < ID_HEAD_MAX; o++) {
		unsigned char c = (unsigned char)uid[o];

		out[o] = product_byte(c) && !(o == 0 && (c == '.' || c == '-')) ? (char)c : '_';
	}
	SHA256((const unsigned char *)uid, n, md);
	out[o++] = '.';
	for (i = 0; i < ID_HASH_BYTES; i++) {
		out[o++] = hex[md[i] >> 4];
		out[o++] = hex[md[i] & 15];
	}
	out[o] = '\0';
}

/* Expands "~" in the state topic t[cap] the way _replace_topic_base does. */
static int
expand_base(char *t, size_t cap, const char *base, char *err, size_t errlen)
{
	char tmp[MQTT_TOPIC_MAX + 1];
	size_t tl = strlen(t), bl = strlen(base);

	if (tl == 0 || (t[0] != '~' && t[tl - 1] != '~'))
		return 0;
	if (tl - 1 + bl >= cap || tl - 1 + bl >= sizeof(tmp))
		return util_errf(
		    err, errlen, "state_topic with `~' expanded is over %d bytes", MQTT_TOPIC_MAX);
	/* Both tests read the topic as announced; the second overwrites the
	 * first, as in Home Assistant. */
	if (t[tl - 1] == '~') {
		memcpy(tmp, t, tl - 1);
		memcpy(tmp + tl - 1, base, bl + 1);
	} else {
		memcpy(tmp, base, bl);
		memcpy(tmp + bl, t + 1, tl);
	}
	memcpy(t, tmp, tl - 1 + bl + 1);
	return 0;
}

int
mqtt_discovery_parse(
    const char *payload, size_t len, struct mqtt_discovery *d, char *err, size_t errlen)
{
	struct mqtt_field whole;
	cJSON *root = NULL;
	const cJSON *v, *dev;
	const char *span;
	size_t slen, tl;
	char e[512], base[MQTT_TOPIC_MAX + 1], tmpl[MQTT_HATEMPLATE_MAX + 1];
	char q[QUOTE_CAP];

	memset(d, 0, sizeof(*d));
	if (len == 0)
		return MQTT_DISCOVERY_REMOVED;
	if (payload == NULL) {
		util_errf(err, errlen, "no payload");
		goto fail;
	}
	if (len > MQTT_DISCOVERY_PAYLOAD_MAX) {
		util_errf(err, errlen, "payload of %zu bytes is over %u", len,
		    MQTT_DISCOVERY_PAYLOAD_MAX);
		goto fail;
	}
	/* Strict RFC 8259 first (UTF-8, depth, no trailing bytes): cJSON alone
	 * takes things JSON does not, such as a NUL ending the text early. */
	if (mqtt_field_parse(&whole, "", e, sizeof(e)) != 0 ||
	    mqtt_field_select(&whole, payload, len, &span, &slen) != MQTT_FIELD_SELECTED) {
		util_errf(err, errlen, "payload is not JSON");
		goto fail;
	}
	/* cJSON decodes \u0000 into a NUL that ends its C string, so
	 * "uniq_id\u0000x" would read as uniq_id. No sensor needs one; any
	 * "\u0000" text (even one escaped as "\\u0000") is refused. */
	for (size_t i = 0; i + 6 <= len; i++) {
		if (payload[i] == '\\' && payload[i + 1] == 'u' &&
		    memcmp(payload + i + 2, "0000", 4) == 0) {
			util_errf(err, errlen, "payload holds \\u0000");
			goto fail;
		}
	}
	root = cJSON_ParseWithLength(payload, len);
	if (root == NULL || !cJSON_IsObject(root)) {
		util_errf(err, errlen, "payload is not a JSON object");
		goto fail;
	}
	if (unique_names(root, "payload", err, errlen) != 0)
		goto fail;

	if (named_text(root, "unique_id", "uniq_id", 0, d->unique_id, sizeof(d->unique_id), NULL,
	        err, errlen) != 0)
		goto fail;
	if (d->unique_id[0] == '\0') {
		util_errf(err, errlen, "no unique_id: the sensor has no stable product id");
		goto fail;
	}
	product_id(d->unique_id, d->product_id);

	if (named_text(root, "state_topic", "stat_t", 0, d->state_topic, sizeof(d->state_topic),
	        NULL, err, errlen) != 0)
		goto fail;
	if (d->state_topic[0] == '\0') {
		util_errf(err, errlen, "no state_topic");
		goto fail;
	}
	/* Home Assistant expands "~" in every member whose name ends in
	 * "topic"; state_topic is the one we read. */
	v = cJSON_GetObjectItemCaseSensitive(root, "~");
	if (v != NULL) {
		if (text(v, "`~'", 0, base, sizeof(base), err, errlen) != 0 ||
		    expand_base(d->state_topic, sizeof(d->state_topic), base, err, errlen) != 0)
			goto fail;
	}
	tl = strlen(d->state_topic);
	if (!mqtt_filter_valid(d->state_topic) || strpbrk(d->state_topic, "+#") != NULL) {
		mqtt_field_quote(q, sizeof(q), d->state_topic, tl);
		util_errf(
		    err, errlen, "state_topic `%s' is not a topic name (empty, a wildcard?)", q);
		goto fail;
	}

	if (named_text(root, "value_template", "val_tpl", 0, tmpl, sizeof(tmpl), &v, err, errlen) !=
	    0)
		goto fail;
	if (v != NULL &&
	    mqtt_hatemplate_to_pointer(tmpl, d->field, sizeof(d->field), e, sizeof(e)) != 0) {
		util_errf(err, errlen, "value_template %s", e);
		goto fail;
	}

	for (size_t i = 0; i < sizeof(plain_texts) / sizeof(plain_texts[0]); i++) {
		const struct plain_text *t = &plain_texts[i];

		if (named_text(root, t->full, t->abbr, t->null_ok, (char *)d + t->off, t->cap, NULL,
		        err, errlen) != 0)
			goto fail;
	}
	if (member(root, "device", "dev", &dev, err, errlen) != 0)
		goto fail;
	if (dev != NULL) {
		if (!cJSON_IsObject(dev)) {
			util_errf(err, errlen, "device is not an object");
			goto fail;
		}
		if (unique_names(dev, "device", err, errlen) != 0 ||
		    text(cJSON_GetObjectItemCaseSensitive(dev, "name"), "device name", 1,
		        d->device_name, sizeof(d->device_name), err, errlen) != 0)
			goto fail;
	}
	cJSON_Delete(root);
	return MQTT_DISCOVERY_OK;
fail:
	cJSON_Delete(root);
	memset(d, 0, sizeof(*d));
	return -1;
}
