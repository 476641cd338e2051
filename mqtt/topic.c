/* MQTT 3.1.1 topic filters (§4.7): which filters are valid and which topics they match. */
#include <stddef.h>
#include <string.h>

#include "mqtt/mqtt.h"
#include "util/text.h"

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
	/* MQTT 1.5.3: well-formed UTF-8; Paho refuses a subscription whose filter
	 * is not, so a filter we call valid must be. */
	if (!util_utf8_valid(filter, len))
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
	if (!mqtt_filter_valid(filter) || topic == NULL || *topic == '\0')
		return 0;
	/* Topic names may not hold wildcards (§4.7.1). */
	if (strpbrk(topic, "+#") != NULL)
		return 0;
	return mqtt_topic_match_checked(filter, topic);
}

int
mqtt_topic_match_checked(const char *filter, const char *topic)
{
	const char *f = filter, *t = topic;

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

int
mqtt_filter_within(const char *inner, const char *outer)
{
	const char *i = inner, *o = outer;

	if (!mqtt_filter_valid(inner) || !mqtt_filter_valid(outer))
		return 0;
	/* A first-level wildcard in outer skips the $-topics inner may name. */
	if (i[0] == '$' && (o[0] == '+' || o[0] == '#'))
		return 0;
	/* Both pointers stand at the start of a level on every pass. */
	for (;;) {
		size_t olen, ilen;

		if (o[0] == '#') /* the rest, and the parent level too */
			return 1;
		if (i[0] == '#') /* many levels (or none) where outer takes one */
			return 0;
		olen = strcspn(o, "/");
		ilen = strcspn(i, "/");
		if (olen == 1 && o[0] == '+')
			; /* any one level, '+' included */
		else if ((ilen == 1 && i[0] == '+') || olen != ilen || memcmp(o, i, olen) != 0)
			return 0;
		o += olen;
		i += ilen;
		if (*o == '\0')
			return *i == '\0';
		if (*i == '\0') /* inner ends: only "/#" left in outer matches the parent */
			return strcmp(o, "/#") == 0;
		o++;
		i++;
	}
}
