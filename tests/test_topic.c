/* Tables for MQTT 3.1.1 topic filters: the §4.7 examples, $-topics, empty levels, validity. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "mqtt/mqtt.h"

struct match_case {
	const char *filter;
	const char *topic;
	int want;
};

static const struct match_case match_cases[] = {
	/* §4.7.1.2: multi-level wildcard, which also matches the parent. */
	{ "sport/tennis/player1/#", "sport/tennis/player1", 1 },
	{ "sport/tennis/player1/#", "sport/tennis/player1/ranking", 1 },
	{ "sport/tennis/player1/#", "sport/tennis/player1/score/wimbledon", 1 },
	{ "sport/tennis/player1/#", "sport/tennis/player2", 0 },
	{ "sport/tennis/player1/#", "sport/tennis", 0 },
	{ "sport/#", "sport", 1 },
	{ "sport/#", "sport/", 1 },
	{ "sport/#", "sports", 0 },
	{ "#", "sport/tennis/player1", 1 },
	{ "#", "/", 1 },
	{ "#", "a", 1 },
	/* §4.7.1.3: single-level wildcard. */
	{ "sport/tennis/+", "sport/tennis/player1", 1 },
	{ "sport/tennis/+", "sport/tennis/player2", 1 },
	{ "sport/tennis/+", "sport/tennis/player1/ranking", 0 },
	{ "sport/+", "sport", 0 },
	{ "sport/+", "sport/", 1 },
	{ "sport/+/player1", "sport/tennis/player1", 1 },
	{ "sport/+/player1", "sport/golf/player1", 1 },
	{ "sport/+/player1", "sport/tennis/player2", 0 },
	{ "sport/+/player1", "sport//player1", 1 },
	{ "+/+", "/finance", 1 },
	{ "/+", "/finance", 1 },
	{ "+", "/finance", 0 },
	{ "+", "finance", 1 },
	{ "+", "/", 0 },
	{ "+/+", "/", 1 },
	{ "+/tennis/#", "sport/tennis", 1 },
	{ "+/tennis/#", "sport/tennis/player1/score", 1 },
	{ "+/tennis/#", "sport/golf", 0 },
	/* §4.7.2: '$' topics are not matched by a leading wildcard. */
	{ "#", "$SYS/broker/uptime", 0 },
	{ "#", "$SYS", 0 },
	{ "+/monitor/Clients", "$SYS/monitor/Clients", 0 },
	{ "+", "$SYS", 0 },
	{ "$SYS/#", "$SYS/monitor/Clients", 1 },
	{ "$SYS/#", "$SYS", 1 },
	{ "$SYS/monitor/+", "$SYS/monitor/Clients", 1 },
	{ "$SYS/+/Clients", "$SYS/monitor/Clients", 1 },
	{ "a/$b/+", "a/$b/c", 1 },
	{ "+/$b", "a/$b", 1 }, /* only the first character of the topic counts */
	/* Empty levels are levels; exact matches are byte-exact. */
	{ "a//b", "a//b", 1 },
	{ "a/+/b", "a//b", 1 },
	{ "a/+/b", "a/b", 0 },
	{ "a/", "a", 0 },
	{ "a", "a/", 0 },
	{ "/", "/", 1 },
	{ "//", "//", 1 },
	{ "/a", "a", 0 },
	{ "ACCOUNTS", "Accounts", 0 },
	{ "sport/tennis player1", "sport/tennis player1", 1 },
	{ "building/3/floor2/co2", "building/3/floor2/co2", 1 },
	{ "building/3/floor2/co2", "building/3/floor2/co", 0 },
	{ "building/3/floor2/co", "building/3/floor2/co2", 0 },
	{ "caf\xc3\xa9/+", "caf\xc3\xa9/x", 1 },
	/* Topic names may not hold wildcards; invalid filters match nothing. */
	{ "#", "a/+", 0 },
	{ "#", "a/#", 0 },
	{ "+", "+", 0 },
	{ "a+", "a+", 0 },
	{ "sport/tennis#", "sport/tennis#", 0 },
	{ "sport/#/ranking", "sport/x/ranking", 0 },
	{ "", "", 0 },
	{ "a", "", 0 },
};

static void
test_match_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(match_cases) / sizeof(match_cases[0]); i++) {
		const struct match_case *c = &match_cases[i];
		int got = mqtt_topic_match(c->filter, c->topic);

		if (got != c->want)
			fail_msg("case %zu: filter '%s' topic '%s': got %d, want %d", i, c->filter,
			    c->topic, got, c->want);
	}
}

struct valid_case {
	const char *filter;
	int want;
};

/* clang-format off */
static const struct valid_case valid_cases[] = {
	{ "#", 1 },
	{ "+", 1 },
	{ "sport/tennis/#", 1 },
	{ "sport/tennis/player1/#", 1 },
	{ "sport/+/player1", 1 },
	{ "+/tennis/#", 1 },
	{ "+/+", 1 },
	{ "/+", 1 },
	{ "/#", 1 },
	{ "/", 1 },
	{ "//", 1 },
	{ "$SYS/#", 1 },
	{ "a b/c", 1 },
	{ "caf\xc3\xa9", 1 },
	{ "\xf0\x9f\x8c\xa1/temp", 1 }, /* U+1F321, four bytes */
	{ "sport/tennis#", 0 },
	{ "sport/tennis/#/ranking", 0 },
	{ "sport/#/ranking", 0 },
	{ "sport+", 0 },
	{ "a+", 0 },
	{ "+a", 0 },
	{ "a/+b/c", 0 },
	{ "++", 0 },
	{ "+#", 0 },
	{ "##", 0 },
	{ "#/", 0 },
	{ "a/#/", 0 },
	{ "", 0 },
	{ "\xff", 0 },          /* never valid in UTF-8 */
	{ "\xc0\xaf", 0 },      /* overlong '/' */
	{ "\xe0\x80\xaf", 0 },  /* overlong '/' */
	{ "\xed\xa0\x80", 0 },  /* a UTF-16 surrogate */
	{ "\xf4\x90\x80\x80", 0 }, /* above U+10FFFF */
	{ "caf\xc3", 0 },       /* truncated sequence */
};
/* clang-format on */

static void
test_valid_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(valid_cases) / sizeof(valid_cases[0]); i++) {
		const struct valid_case *c = &valid_cases[i];
		int got = mqtt_filter_valid(c->filter);

		if (got != c->want)
			fail_msg(
			    "case %zu: filter '%s': got %d, want %d", i, c->filter, got, c->want);
	}
	assert_int_equal(mqtt_filter_valid(NULL), 0);
	assert_int_equal(mqtt_topic_match(NULL, "a"), 0);
	assert_int_equal(mqtt_topic_match("a", NULL), 0);
}

/* The length cap is MQTT_TOPIC_MAX bytes, counted exactly. */
static void
test_valid_length(void **state)
{
	static char buf[MQTT_TOPIC_MAX + 2];

	(void)state;
	memset(buf, 'a', MQTT_TOPIC_MAX);
	buf[MQTT_TOPIC_MAX] = '\0';
	assert_int_equal(mqtt_filter_valid(buf), 1);
	assert_int_equal(mqtt_topic_match(buf, buf), 1);
	buf[MQTT_TOPIC_MAX - 1] = '#';
	buf[MQTT_TOPIC_MAX - 2] = '/';
	assert_int_equal(mqtt_filter_valid(buf), 1);
	memset(buf, 'a', MQTT_TOPIC_MAX + 1);
	buf[MQTT_TOPIC_MAX + 1] = '\0';
	assert_int_equal(mqtt_filter_valid(buf), 0);
}

struct within_case {
	const char *inner, *outer;
	int want;
};

static const struct within_case within_cases[] = {
	{ "a/b", "a/b", 1 },
	{ "a/b", "a/+", 1 },
	{ "a/+", "a/+", 1 },
	{ "a/+", "a/b", 0 },
	{ "a/#", "a/+", 0 }, /* a/# also matches a and a/x/y */
	{ "a/+", "a/#", 1 },
	{ "a", "a/#", 1 }, /* '#' takes the parent level too */
	{ "a/#", "a/#", 1 },
	{ "a/#", "#", 1 },
	{ "a/+", "a/+/#", 1 },
	{ "a/#", "a/+/#", 0 },
	{ "a", "a/+", 0 },
	{ "a/b/c", "a/+", 0 },
	{ "a/", "a/#", 1 },
	{ "a/", "a/+", 1 },
	{ "+/b", "+/+", 1 },
	{ "+/b", "a/+", 0 },
	{ "#", "#", 1 },
	{ "#", "+", 0 },
	{ "+", "#", 1 },
	{ "$SYS/x", "#", 0 }, /* first-level wildcards skip $-topics */
	{ "$SYS/x", "+/x", 0 },
	{ "$SYS/x", "$SYS/#", 1 },
	{ "zigbee2mqtt/Kitchen TH", "zigbee2mqtt/+", 1 },
	{ "zigbee2mqtt/bridge/#", "zigbee2mqtt/+", 0 },
	{ "a/b#", "a/#", 0 }, /* invalid inner */
	{ "a/b", "a/b+", 0 }, /* invalid outer */
	{ "", "#", 0 },
};

static void
test_within_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(within_cases) / sizeof(within_cases[0]); i++) {
		const struct within_case *c = &within_cases[i];

		if (mqtt_filter_within(c->inner, c->outer) != c->want)
			fail_msg("within(\"%s\", \"%s\"): want %d", c->inner, c->outer, c->want);
	}
}

/* Within means: every topic the inner filter matches, the outer one does.
 * Checked over every pair of a set of filters against a set of topics: a
 * "yes" must have no counterexample. A "no" must have one too, but for
 * "#" in "+/#": the same topics, which the level-by-level rule (the one
 * docs/PROTOCOL.md gives) does not see; refusing it is safe. */
static void
test_within_matches(void **state)
{
	static const char *const filters[] = { "#", "+", "a", "a/#", "a/+", "a/b", "+/b", "a/+/#",
		"a/+/c", "+/+", "$s/#", "$s/+", "a/", "+/#" };
	static const char *const topics[] = { "a", "b", "a/b", "a/c", "b/b", "a/b/c", "a/x/c", "a/",
		"/b", "$s", "$s/b", "a/b/c/d", "/", "x/y/z" };
	size_t i, j, k;

	(void)state;
	for (i = 0; i < sizeof(filters) / sizeof(filters[0]); i++)
		for (j = 0; j < sizeof(filters) / sizeof(filters[0]); j++) {
			int within = mqtt_filter_within(filters[i], filters[j]), counter = 0;

			for (k = 0; k < sizeof(topics) / sizeof(topics[0]); k++)
				if (mqtt_topic_match(filters[i], topics[k]) &&
				    !mqtt_topic_match(filters[j], topics[k]))
					counter = 1;
			if (within == counter &&
			    !(strcmp(filters[i], "#") == 0 && strcmp(filters[j], "+/#") == 0))
				fail_msg("within(\"%s\", \"%s\") = %d, counterexample %s",
				    filters[i], filters[j], within,
				    counter ? "found" : "not found");
		}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_match_table),
		cmocka_unit_test(test_valid_table),
		cmocka_unit_test(test_valid_length),
		cmocka_unit_test(test_within_table),
		cmocka_unit_test(test_within_matches),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
