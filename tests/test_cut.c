/* What a product sells (gateway/cut.c): exclusions, fields, rate tiers per topic, counts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "gateway/cut.h"

/* One sample and what the cut must answer. */
struct step {
	const char *topic;
	const char *payload;
	int64_t at;
	enum cut_result want;
	const char *value; /* when sold */
};

static void
run(struct cut *k, const struct step *s, size_t n)
{
	const uint8_t *v;
	size_t i, vlen;
	enum cut_result r;

	for (i = 0; i < n; i++) {
		r = cut_take(k, i, s[i].topic, (const uint8_t *)s[i].payload, strlen(s[i].payload),
		    s[i].at, &v, &vlen);
		if (r != s[i].want)
			fail_msg("step %zu (%s %s at %lld): %s, want %s", i, s[i].topic,
			    s[i].payload, (long long)s[i].at, cut_result_name(r),
			    cut_result_name(s[i].want));
		if (r == CUT_SOLD &&
		    (vlen != strlen(s[i].value) || memcmp(v, s[i].value, vlen) != 0))
			fail_msg("step %zu: sold `%.*s', want `%s'", i, (int)vlen, (const char *)v,
			    s[i].value);
	}
}

static void
product(struct product_config *pc, const char *field, const char *exclude, uint64_t interval,
    int on_change, const char *deadband)
{
	memset(pc, 0, sizeof(*pc));
	snprintf(pc->id, sizeof(pc->id), "p");
	snprintf(pc->topic, sizeof(pc->topic), "z/+");
	snprintf(pc->field, sizeof(pc->field), "%s", field);
	snprintf(pc->exclude, sizeof(pc->exclude), "%s", exclude);
	pc->min_interval_ms = interval;
	pc->on_change = on_change;
	snprintf(pc->deadband, sizeof(pc->deadband), "%s", deadband);
}

static void
test_no_cut(void **state)
{
	struct product_config pc;

	(void)state;
	product(&pc, "", "", 0, 0, "");
	assert_null(cut_new(&pc));
}

static void
test_field_and_exclude(void **state)
{
	static const struct step s[] = {
		{ "z/bridge", "{\"t\":1}", 0, CUT_EXCLUDED, NULL },
		{ "z/bridge/state", "{\"t\":1}", 0, CUT_SOLD,
		    "1" }, /* z/bridge is not z/bridge/# */
		{ "z/a", "{\"t\":21.30,\"battery\":97}", 0, CUT_SOLD, "21.30" },
		{ "z/a", "not json", 0, CUT_NOT_JSON, NULL },
		{ "z/a", "{\"h\":40}", 0, CUT_NO_FIELD, NULL },
		{ "z/a", "{\"t\":{\"v\":[1,2]}}", 0, CUT_SOLD, "{\"v\":[1,2]}" },
		{ "z/x/availability", "online", 0, CUT_EXCLUDED, NULL },
	};
	struct product_config pc;
	struct cut_stats st;
	struct cut *k;

	(void)state;
	memset(&st, 0, sizeof(st));
	product(&pc, "/t", "z/bridge, z/+/availability", 0, 0, "");
	k = cut_new(&pc);
	cut_set_stats(k, &st);
	assert_non_null(k);
	run(k, s, sizeof(s) / sizeof(s[0]));
	assert_true(st.n[CUT_SOLD] == 3 && st.n[CUT_EXCLUDED] == 2 && st.n[CUT_NOT_JSON] == 1 &&
	            st.n[CUT_NO_FIELD] == 1);
	assert_int_equal(cut_topics(k), 0); /* no tier: no state kept */
	cut_release(k);
}

/* The first sample at or after the interval is taken, per topic. */
static void
test_min_interval(void **state)
{
	static const struct step s[] = {
		{ "z/a", "1", 1000, CUT_SOLD, "1" },
		{ "z/b", "1", 1100, CUT_SOLD, "1" }, /* another topic: its own clock */
		{ "z/a", "2", 1500, CUT_RATE, NULL },
		{ "z/a", "3", 1999, CUT_RATE, NULL },
		{ "z/a", "4", 2000, CUT_SOLD, "4" }, /* exactly one interval later */
		{ "z/b", "2", 2050, CUT_RATE, NULL },
		{ "z/b", "3", 2100, CUT_SOLD, "3" },
		{ "z/a", "5", 2999, CUT_RATE, NULL },
		{ "z/a", "6", 9000, CUT_SOLD, "6" },
	};
	struct product_config pc;
	struct cut_stats st;
	struct cut *k;

	(void)state;
	memset(&st, 0, sizeof(st));
	product(&pc, "", "", 1000, 0, "");
	k = cut_new(&pc);
	cut_set_stats(k, &st);
	run(k, s, sizeof(s) / sizeof(s[0]));
	assert_true(st.n[CUT_SOLD] == 5 && st.n[CUT_RATE] == 4);
	assert_int_equal(cut_topics(k), 2);
	cut_release(k);
}

/* on_change: byte for byte; with a deadband, numbers against the last
 * value sold; text compares as text. */
static void
test_on_change(void **state)
{
	static const struct step exact[] = {
		{ "z/a", "{\"t\":21}", 0, CUT_SOLD, "21" },
		{ "z/a", "{\"t\":21}", 1, CUT_RATE, NULL },
		{ "z/b", "{\"t\":21}", 2, CUT_SOLD, "21" },
		{ "z/a", "{\"t\":21.0}", 3, CUT_SOLD, "21.0" }, /* other text: a change */
		{ "z/a", "{\"t\":21.0,\"x\":1}", 4, CUT_RATE, NULL },
		{ "z/a", "{\"t\":\"ON\"}", 5, CUT_SOLD, "\"ON\"" },
	};
	static const struct step band[] = {
		{ "z/a", "{\"t\":21.0}", 0, CUT_SOLD, "21.0" },
		{ "z/a", "{\"t\":21.3}", 1, CUT_RATE, NULL },
		{ "z/a", "{\"t\":21.5}", 2, CUT_RATE, NULL }, /* 0.5: not more than it */
		{ "z/a", "{\"t\":21.6}", 3, CUT_SOLD, "21.6" },
		{ "z/a", "{\"t\":21.2}", 4, CUT_RATE, NULL }, /* 0.4 from the last sold */
		{ "z/a", "{\"t\":2e1}", 5, CUT_SOLD, "2e1" },
		{ "z/a", "{\"t\":\"n/a\"}", 6, CUT_SOLD, "\"n/a\"" }, /* not a number */
		{ "z/a", "{\"t\":\"n/a\"}", 7, CUT_RATE, NULL },
	};
	struct product_config pc;
	struct cut *k;

	(void)state;
	product(&pc, "/t", "", 0, 1, "");
	k = cut_new(&pc);
	run(k, exact, sizeof(exact) / sizeof(exact[0]));
	cut_release(k);
	product(&pc, "/t", "", 0, 1, "0.5");
	k = cut_new(&pc);
	run(k, band, sizeof(band) / sizeof(band[0]));
	cut_release(k);
}

/* Both: a change, and the interval passed since the last one sold. */
static void
test_interval_and_change(void **state)
{
	static const struct step s[] = {
		{ "z/a", "1", 0, CUT_SOLD, "1" },
		{ "z/a", "2", 500, CUT_RATE, NULL },  /* changed, too soon */
		{ "z/a", "1", 1500, CUT_RATE, NULL }, /* in time, unchanged */
		{ "z/a", "3", 1600, CUT_SOLD, "3" },
	};
	struct product_config pc;
	struct cut *k;

	(void)state;
	product(&pc, "", "", 1000, 1, "");
	k = cut_new(&pc);
	run(k, s, sizeof(s) / sizeof(s[0]));
	cut_release(k);
}

/* Many buyers of one product ask about the same sample: one answer, one count. */
static void
test_same_sample_once(void **state)
{
	struct product_config pc;
	struct cut_stats st;
	struct cut *k;
	const uint8_t *v;
	size_t vlen;
	int i;

	(void)state;
	memset(&st, 0, sizeof(st));
	product(&pc, "/t", "", 1000, 0, "");
	k = cut_new(&pc);
	cut_set_stats(k, &st);
	cut_ref(k);
	for (i = 0; i < 3; i++)
		assert_int_equal(
		    cut_take(k, 7, "z/a", (const uint8_t *)"{\"t\":5}", 7, 0, &v, &vlen), CUT_SOLD);
	assert_true(vlen == 1 && v[0] == '5');
	for (i = 0; i < 3; i++)
		assert_int_equal(
		    cut_take(k, 8, "z/a", (const uint8_t *)"{\"t\":6}", 7, 10, &v, &vlen),
		    CUT_RATE);
	assert_true(st.n[CUT_SOLD] == 1 && st.n[CUT_RATE] == 1);
	cut_release(k);
	cut_release(k);
}

/* State is bounded: topics past the cap are not sold, the known ones are. */
static void
test_topic_cap(void **state)
{
	struct product_config pc;
	struct cut_stats st;
	struct cut *k;
	const uint8_t *v;
	size_t vlen;
	char topic[32];
	uint64_t i;

	(void)state;
	memset(&st, 0, sizeof(st));
	product(&pc, "", "", 1000, 0, "");
	k = cut_new(&pc);
	cut_set_stats(k, &st);
	for (i = 0; i < CUT_TOPICS_MAX; i++) {
		snprintf(topic, sizeof(topic), "z/%llu", (unsigned long long)i);
		assert_int_equal(
		    cut_take(k, i, topic, (const uint8_t *)"1", 1, 0, &v, &vlen), CUT_SOLD);
	}
	assert_int_equal(cut_topics(k), CUT_TOPICS_MAX);
	assert_int_equal(
	    cut_take(k, i++, "z/new", (const uint8_t *)"1", 1, 5000, &v, &vlen), CUT_OVER_CAP);
	assert_int_equal(
	    cut_take(k, i++, "z/17", (const uint8_t *)"1", 1, 5000, &v, &vlen), CUT_SOLD);
	assert_true(st.n[CUT_OVER_CAP] == 1);
	cut_release(k);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_cut),
		cmocka_unit_test(test_field_and_exclude),
		cmocka_unit_test(test_min_interval),
		cmocka_unit_test(test_on_change),
		cmocka_unit_test(test_interval_and_change),
		cmocka_unit_test(test_same_sample_once),
		cmocka_unit_test(test_topic_cap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
