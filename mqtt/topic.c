/* MQTT 3.1.1 topic filters (§4.7): which filters are valid and which topics they match. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "mqtt/mqtt.h"

/*
 * Well-formed UTF-8 as MQTT §1.5.3 requires: no overlong forms, no
 * surrogates, nothing above U+10FFFF. Paho refuses a subscription whose
 * filter fails this, so a filter we call valid must pass it too.
 */
static int
utf8_valid(const unsigned char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned c = s[i];
		size_t need;
		uint32_t cp, min;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			need = 1, cp = c & 0x1f, min = 0x80;
		} else if (c >= 0xe0 && c <= 0xef) {
			need = 2, cp = c & 0x0f, min = 0x800;
		} else if (c >= 0xf0 && c <= 0xf4) {
			need = 3, cp = c & 0x07, min = 0x10000;
		} else {
			return 0;
		}
		if (len - i - 1 < need)
			return 0;
		for (size_t k = 1; k <= need; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += need + 1;
	}
	return 1;
}

int
mqtt_filter_valid(const char *filter)
{
	size_t len, i, level;

	if (filter == NULL)
		return 0;
	/* A C string holds no NUL, so only the length bounds remain. */
	len = strnlen(filter, MQTT_TOPIC_MAX + 1);
	if (len == 0 || len > MQTT_TOPIC_MAX)
		return 0;
	if (!utf8_valid((const unsigned char *)filter, len))
		return 0;
	/* A wildcard must fill its whole level; '#' must be the last level. */
	level = 0; /* index where the current level starts */
	for (i = 0; i <= len; i++) {
		if (i < len && filter[i] != '/')
			continue;
		for (size_t k = level; k < i; k++) {
			if (filter[k] != '+' && filter[k] != '#')
				continue;
			if (i - level != 1)
				return 0;
			if (filter[k] == '#' && i != len)
				return 0;
		}
		level = i + 1;
	}
	return 1;
}

int
mqtt_topic_match(const char *filter, const char *topic)
{
	const char *f = filter, *t = topic;

	if (!mqtt_filter_valid(filter) || topic == NULL || *topic == '\0')
		return 0;
	/* Topic names may not hold wildcards (§4.7.1). */
	if (strpbrk(topic, "+#") != NULL)
		return 0;
	/* Filters that start with a wildcard skip $SYS-like topics (§4.7.2). */
	if (t[0] == '$' && (f[0] == '+' || f[0] == '#'))
		return 0;
	/* Both pointers stand at the start of a level on every pass. */
	for (;;) {
		size_t flen, tlen;

		if (f[0] == '#') /* validated: the whole last level */
			return 1;
		flen = strcspn(f, "/");
		tlen = strcspn(t, "/");
		/* '+' takes exactly one level, which may be empty. */
		if (!(flen == 1 && f[0] == '+') && (flen != tlen || memcmp(f, t, flen) != 0))
			return 0;
		f += flen;
		t += tlen;
		if (*f == '\0')
			return *t == '\0';
		if (*t == '\0') /* "a/#" also matches its parent "a" */
			return strcmp(f, "/#") == 0;
		f++;
		t++;
	}
}
