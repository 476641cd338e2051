/* libFuzzer target: gateway/discover.c (announcement streams; what it offers is sellable). */
#include "fuzz/fuzz.h"
#include "gateway/discover.h"
#include "gateway/log.h"
#include "mqtt/discovery.h"
#include "util/text.h"

/* Explicit [product] whose id an announcement may take too. */
#define EXPLICIT_ID "kitchen_temperature"
/* Outputs of discover_products(): more than the topics below can announce,
 * and a small cap that some runs exceed. */
#define OUT_MAX 16
#define SMALL_MAX 2

/* What the first byte of a message picks (modulo): discovery topics, then
 * two that are not. 0xff forgets everything instead (a prefix change). */
static const char *const topics[] = {
	"homeassistant/sensor/0x00158d0001a2b3c4/temperature/config",
	"homeassistant/sensor/0x00158d0001a2b3c4/humidity/config",
	"homeassistant/binary_sensor/0x00158d00045b2740/occupancy/config",
	"homeassistant/sensor/5C8BDB_DS18B20_Temperature/config",
	"homeassistant/sensor/esp-kitchen/kitchen_temperature/config",
	"homeassistant/sensor/a/config",
	"homeassistant/light/0x00158d0001a2b3c4/light/config",
	"zigbee2mqtt/Kitchen TH",
};
#define NTOPICS (sizeof(topics) / sizeof(topics[0]))
#define NDISCOVERY 6 /* the first six are discovery topics */

static const char id_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-";

/*
 * The model discover.c must agree with: per discovery topic, what it last
 * announced (parsed here again), in order of first announcement; an empty
 * payload forgets the topic, a refused one keeps its place but no sensor.
 */
struct model {
	int kept, sensor;
	struct mqtt_discovery m;
};
static struct model model[NDISCOVERY];
static size_t order[NDISCOVERY], norder;

static struct gateway_config *cfg;
static struct product_config out[OUT_MAX], prev[OUT_MAX], small[SMALL_MAX];
/* discover.c logs every announcement at info: to /dev/null while it runs
 * (the FILE only; sanitizer reports and CHECK still reach fd 2). */
static FILE *quiet, *loud;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	cfg = calloc(1, sizeof(*cfg));
	CHECK(cfg != NULL);
	cfg->discovery_enabled = 1;
	snprintf(cfg->discovery_prefix, sizeof(cfg->discovery_prefix), "homeassistant");
	cfg->discovery_price = 3;
	snprintf(cfg->discovery_allow, sizeof(cfg->discovery_allow),
	    "class:temperature, class:humidity, class:none, class:motion");
	snprintf(cfg->discovery_deny, sizeof(cfg->discovery_deny), "topic:tele/#, id:*bad*");
	cfg->nclass_prices = 1;
	snprintf(cfg->class_prices[0].device_class, sizeof(cfg->class_prices[0].device_class),
	    "temperature");
	cfg->class_prices[0].price = 7;
	cfg->nproducts = 1;
	cfg->products = calloc(1, sizeof(*cfg->products));
	CHECK(cfg->products != NULL);
	snprintf(cfg->products[0].id, sizeof(cfg->products[0].id), EXPLICIT_ID);
	snprintf(cfg->products[0].topic, sizeof(cfg->products[0].topic), "kitchen/#");
	loud = stderr;
	quiet = fopen("/dev/null", "w");
	return 0;
}

static void
hush(int on)
{
#ifdef __GLIBC__
	/* glibc's stderr is a plain variable; elsewhere the logs stay on. */
	if (quiet != NULL)
		stderr = on ? quiet : loud;
#else
	(void)on;
#endif
}

/* The model's step for one message on discovery topic t; returns whether
 * the set of sensors changed. */
static int
model_message(size_t t, const char *payload, size_t len)
{
	struct model *mo = &model[t];
	struct mqtt_discovery m;
	size_t i;
	int r, was = mo->kept && mo->sensor;

	r = mqtt_discovery_parse(payload, len, &m, NULL, 0);
	if (r == MQTT_DISCOVERY_REMOVED) {
		if (mo->kept) {
			for (i = 0; order[i] != t; i++)
				;
			memmove(&order[i], &order[i + 1], (norder - i - 1) * sizeof(order[0]));
			norder--;
		}
		mo->kept = mo->sensor = 0;
		return was;
	}
	if (!mo->kept)
		order[norder++] = t;
	mo->kept = 1;
	if (r < 0) {
		mo->sensor = 0;
		return was;
	}
	mo->sensor = 1;
	r = !was || memcmp(&mo->m, &m, sizeof(m)) != 0;
	mo->m = m;
	return r;
}

/* 1 if the model's sensor passes allow and deny as configured above. */
static int
model_allowed(const struct mqtt_discovery *m)
{
	const char *c = m->device_class;

	if (strcmp(c, "temperature") != 0 && strcmp(c, "humidity") != 0 && c[0] != '\0' &&
	    strcmp(c, "motion") != 0)
		return 0;
	return strcmp(m->state_topic, "tele") != 0 && strncmp(m->state_topic, "tele/", 5) != 0 &&
	       strstr(m->unique_id, "bad") == NULL;
}

/* The menu the model makes must be the one discover.c made (out[0..n)). */
static void
model_check(size_t n)
{
	const struct mqtt_discovery *m;
	const struct product_config *pc;
	char text[2 * MQTT_DISCOVERY_NAME_MAX + 2];
	size_t i, j, k = 0, dlen;
	int dup;

	for (i = 0; i < norder; i++) {
		if (!model[order[i]].sensor)
			continue;
		m = &model[order[i]].m;
		if (!model_allowed(m))
			continue;
		dup = strcmp(m->product_id, EXPLICIT_ID) == 0;
		for (j = 0; j < k; j++)
			dup |= strcmp(out[j].id, m->product_id) == 0;
		if (dup)
			continue;
		CHECK(k < n);
		pc = &out[k++];
		CHECK(strcmp(pc->id, m->product_id) == 0);
		CHECK(strcmp(pc->topic, m->state_topic) == 0);
		CHECK(strcmp(pc->field, m->field) == 0);
		CHECK(strcmp(pc->unit, m->unit) == 0);
		CHECK(strcmp(pc->device_class, m->device_class) == 0);
		/* The description: device and name, or the unique_id, cut only
		 * at a character boundary near the cap. */
		snprintf(text, sizeof(text), "%s%s%s", m->device_name,
		    m->device_name[0] != '\0' && m->name[0] != '\0' ? " " : "", m->name);
		if (text[0] == '\0')
			snprintf(text, sizeof(text), "%s", m->unique_id);
		dlen = strlen(pc->description);
		CHECK(strncmp(text, pc->description, dlen) == 0);
		CHECK(dlen == strlen(text) || dlen + UTIL_UTF8_SEQ_MAX > SDPP_TEXT_MAX);
	}
	CHECK(k == n);
}

/* One product the menu may offer. */
static void
check_product(const struct product_config *pc)
{
	size_t idlen = strnlen(pc->id, sizeof(pc->id)), dlen;

	CHECK(idlen >= 1 && idlen <= SDPP_NAME_MAX);
	CHECK(strspn(pc->id, id_alphabet) == idlen);
	CHECK(strcmp(pc->id, EXPLICIT_ID) != 0);
	CHECK(strnlen(pc->topic, sizeof(pc->topic)) < sizeof(pc->topic));
	CHECK(pc->topic[0] != '\0' && strpbrk(pc->topic, "+#") == NULL);
	dlen = strnlen(pc->description, sizeof(pc->description));
	CHECK(dlen >= 1 && dlen <= SDPP_TEXT_MAX);
	CHECK(util_utf8_valid(pc->description, dlen));
	CHECK(strnlen(pc->unit, sizeof(pc->unit)) < sizeof(pc->unit));
	CHECK(strnlen(pc->field, sizeof(pc->field)) < sizeof(pc->field));
	CHECK(strnlen(pc->device_class, sizeof(pc->device_class)) < sizeof(pc->device_class));
	CHECK(util_utf8_valid(pc->unit, strlen(pc->unit)));
	/* [discovery] allow and deny as configured above. */
	CHECK(strcmp(pc->device_class, "temperature") == 0 ||
	      strcmp(pc->device_class, "humidity") == 0 || strcmp(pc->device_class, "") == 0 ||
	      strcmp(pc->device_class, "motion") == 0);
	CHECK(strncmp(pc->topic, "tele/", 5) != 0 && strcmp(pc->topic, "tele") != 0);
	CHECK(pc->price == (strcmp(pc->device_class, "temperature") == 0 ? 7u : 3u));
	CHECK(pc->prepay == -1 && pc->line == 0 && pc->exclude[0] == '\0');
}

/* The menu now: sane products, counts that add up, a cap that holds. */
static size_t
check_products(struct discover *d)
{
	const struct discover_stats *st;
	size_t i, j, n, k;

	n = discover_products(d, cfg, out, OUT_MAX);
	st = discover_stats(d);
	CHECK(n <= OUT_MAX && st->products == n);
	CHECK(st->sensors <= NDISCOVERY);
	CHECK(st->sensors == n + st->denied + st->duplicates);
	for (i = 0; i < n; i++) {
		check_product(&out[i]);
		for (j = 0; j < i; j++)
			CHECK(strcmp(out[i].id, out[j].id) != 0);
	}
	/* A smaller cap: the first SMALL_MAX of the same list, nothing more. */
	k = discover_products(d, cfg, small, SMALL_MAX);
	CHECK(k == (n < SMALL_MAX ? n : SMALL_MAX) && st->products == k);
	CHECK(k == 0 || memcmp(small, out, k * sizeof(out[0])) == 0);
	CHECK(st->sensors >= k + st->denied + st->duplicates);
	return n;
}

/*
 * Messages until the input runs out: one byte picks the topic, two
 * (big-endian) the payload's length, then the payload.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	struct discover *d = discover_new();
	uint64_t configs = 0, refused = 0, removed = 0;
	size_t len, n, nprev = 0;
	uint8_t op;
	char *payload;
	int r, changed, want = 0;

	memset(model, 0, sizeof(model));
	norder = 0;
	while (in.n > 0) {
		op = fuzz_in_u8(&in);
		if (op == 0xff) {
			memset(model, 0, sizeof(model));
			norder = 0;
			discover_clear(d);
			CHECK(discover_stats(d)->sensors == 0);
			nprev = check_products(d);
			CHECK(nprev == 0);
			continue;
		}
		len = (size_t)fuzz_in_u64(&in, 2);
		len = len < in.n ? len : in.n;
		/* An exact-size copy, so ASan sees a read past len. */
		payload = malloc(len > 0 ? len : 1);
		CHECK(payload != NULL);
		fuzz_in_fill(&in, payload, len);
		changed = -1;
		hush(1);
		r = discover_message(
		    d, "homeassistant", topics[op % NTOPICS], payload, len, &changed);
		hush(0);
		if (op % NTOPICS < NDISCOVERY)
			want = model_message(op % NTOPICS, payload, len);
		free(payload);
		CHECK(r == (op % NTOPICS < NDISCOVERY));
		CHECK(changed == (r == 1 && want));
		configs += (uint64_t)r;
		CHECK(discover_stats(d)->configs == configs);
		/* Counters only grow, by at most one a message. */
		CHECK(discover_stats(d)->refused - refused <= 1);
		CHECK(discover_stats(d)->removed - removed <= 1);
		refused = discover_stats(d)->refused;
		removed = discover_stats(d)->removed;
		n = check_products(d);
		model_check(n);
		/* No change reported: the same menu, byte for byte. */
		if (!changed)
			CHECK(n == nprev && (n == 0 || memcmp(out, prev, n * sizeof(out[0])) == 0));
		memcpy(prev, out, n * sizeof(out[0]));
		nprev = n;
	}
	discover_free(d);
	return 0;
}
