/* What a product sells of each sample: excluded topics, one JSON field, the rate tier per topic. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/cut.h"
#include "gateway/log.h"
#include "mqtt/mqtt.h"

/* A number is compared against the deadband only if its text is this
 * short (a sensor value always is); longer ones compare as text. */
#define NUM_TEXT_MAX 64

/* Rate state of one source topic. */
struct topic_state {
	char *topic; /* owned; NULL: a free slot */
	int64_t last_ms;
	uint64_t hash; /* of the last value sold */
	size_t len;
	int isnum;
	double num;
};

struct cut {
	int refs;
	int has_field;
	struct mqtt_field field;
	size_t nexclude;
	char exclude[CONFIG_EXCLUDE_MAX + 1]; /* the filters, NUL-separated */
	uint64_t min_interval_ms;
	int on_change;
	int has_deadband;
	double deadband;
	struct cut_stats *stats;
	/* Open addressing, linear probing; grown to keep it half empty. */
	struct topic_state *slots;
	size_t nslots, ntopics;
	/* The answer for the sample being dispatched. */
	uint64_t seen;
	int valid;
	enum cut_result result;
	const uint8_t *value;
	size_t vlen;
};

static const char *const names[CUT__COUNT] = {
	[CUT_SOLD] = "sold",
	[CUT_EXCLUDED] = "excluded",
	[CUT_NOT_JSON] = "not_json",
	[CUT_NO_FIELD] = "no_field",
	[CUT_RATE] = "rate",
	[CUT_OVER_CAP] = "over_cap",
};

const char *
cut_result_name(enum cut_result r)
{
	return (size_t)r < CUT__COUNT ? names[r] : "unknown";
}

struct cut *
cut_new(const struct product_config *pc)
{
	char buf[CONFIG_EXCLUDE_MAX + 1], *tok, *save = NULL;
	struct cut *k;
	size_t o = 0, n;

	if (pc->field[0] == '\0' && pc->exclude[0] == '\0' && pc->min_interval_ms == 0 &&
	    !pc->on_change)
		return NULL;
	k = calloc(1, sizeof(*k));
	if (k == NULL)
		log_fatalx("out of memory");
	k->refs = 1;
	/* Both were checked when the file was read. */
	k->has_field = pc->field[0] != '\0' && mqtt_field_parse(&k->field, pc->field, NULL, 0) == 0;
	memcpy(buf, pc->exclude, sizeof(buf));
	for (tok = strtok_r(buf, ", \t", &save); tok != NULL; tok = strtok_r(NULL, ", \t", &save)) {
		n = strlen(tok) + 1;
		if (o + n > sizeof(k->exclude))
			break;
		memcpy(k->exclude + o, tok, n);
		o += n;
		k->nexclude++;
	}
	k->min_interval_ms = pc->min_interval_ms;
	k->on_change = pc->on_change;
	if (pc->deadband[0] != '\0') {
		k->has_deadband = 1;
		k->deadband = strtod(pc->deadband, NULL);
	}
	return k;
}

void
cut_set_stats(struct cut *k, struct cut_stats *stats)
{
	k->stats = stats;
}

void
cut_ref(struct cut *k)
{
	if (k != NULL)
		k->refs++;
}

void
cut_release(struct cut *k)
{
	size_t i;

	if (k == NULL || --k->refs > 0)
		return;
	for (i = 0; i < k->nslots; i++)
		free(k->slots[i].topic);
	free(k->slots);
	free(k);
}

size_t
cut_topics(const struct cut *k)
{
	return k->ntopics;
}

/* FNV-1a, 64 bits: the text of a value, to notice a change. */
static uint64_t
fnv1a(const void *p, size_t n, uint64_t h)
{
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ b[i]) * UINT64_C(0x100000001b3);
	return h;
}

static int
grow(struct cut *k)
{
	size_t want = k->nslots == 0 ? 64 : k->nslots * 2, i, j;
	struct topic_state *ns = calloc(want, sizeof(*ns));

	if (ns == NULL)
		return -1;
	for (i = 0; i < k->nslots; i++) {
		if (k->slots[i].topic == NULL)
			continue;
		j = fnv1a(k->slots[i].topic, strlen(k->slots[i].topic),
		        UINT64_C(0xcbf29ce484222325)) &
		    (want - 1);
		while (ns[j].topic != NULL)
			j = (j + 1) & (want - 1);
		ns[j] = k->slots[i];
	}
	free(k->slots);
	k->slots = ns;
	k->nslots = want;
	return 0;
}

/* The topic's state, created when new; NULL past CUT_TOPICS_MAX. */
static struct topic_state *
topic_state(struct cut *k, const char *topic, int *fresh)
{
	size_t n = strlen(topic), j;
	uint64_t h = fnv1a(topic, n, UINT64_C(0xcbf29ce484222325));

	*fresh = 0;
	if (k->nslots > 0)
		for (j = h & (k->nslots - 1); k->slots[j].topic != NULL;
		     j = (j + 1) & (k->nslots - 1))
			if (strcmp(k->slots[j].topic, topic) == 0)
				return &k->slots[j];
	if (k->ntopics >= CUT_TOPICS_MAX)
		return NULL;
	if (2 * (k->ntopics + 1) > k->nslots && grow(k) != 0)
		return NULL;
	for (j = h & (k->nslots - 1); k->slots[j].topic != NULL; j = (j + 1) & (k->nslots - 1))
		;
	k->slots[j].topic = strdup(topic);
	if (k->slots[j].topic == NULL)
		return NULL;
	k->ntopics++;
	*fresh = 1;
	return &k->slots[j];
}

/* A JSON number's value, if the text is one (strtod takes more: hex, inf,
 * a leading '+' or blanks, which a JSON text never has). */
static int
number_of(const uint8_t *v, size_t n, double *out)
{
	char buf[NUM_TEXT_MAX + 1], *end;
	size_t i;

	if (n == 0 || n > NUM_TEXT_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (strchr("0123456789-+.eE", v[i]) == NULL)
			return 0;
	memcpy(buf, v, n);
	buf[n] = '\0';
	*out = strtod(buf, &end);
	return *end == '\0' && isfinite(*out);
}

/* The rate tier: CUT_SOLD if the value may be sold on this topic now. */
static enum cut_result
rate(struct cut *k, const char *topic, const uint8_t *v, size_t n, int64_t now)
{
	struct topic_state *t;
	uint64_t h = 0;
	double num = 0;
	int fresh, isnum = 0;

	t = topic_state(k, topic, &fresh);
	if (t == NULL)
		return CUT_OVER_CAP;
	if (k->on_change) {
		h = fnv1a(v, n, UINT64_C(0xcbf29ce484222325));
		isnum = number_of(v, n, &num);
	}
	if (!fresh) {
		if (k->min_interval_ms > 0 && now - t->last_ms < (int64_t)k->min_interval_ms)
			return CUT_RATE;
		if (k->on_change) {
			if (k->has_deadband && isnum && t->isnum) {
				double d = num >= t->num ? num - t->num : t->num - num;

				if (d <= k->deadband)
					return CUT_RATE;
			} else if (h == t->hash && n == t->len) {
				return CUT_RATE;
			}
		}
	}
	t->last_ms = now;
	t->hash = h;
	t->len = n;
	t->isnum = isnum;
	t->num = num;
	return CUT_SOLD;
}

enum cut_result
cut_take(struct cut *k, uint64_t seq, const char *topic, const uint8_t *payload, size_t len,
    int64_t now_ms, const uint8_t **value, size_t *vlen)
{
	const char *f = k->exclude, *v;
	size_t i, n;
	int rc;

	if (k->valid && k->seen == seq)
		goto out;
	k->valid = 1;
	k->seen = seq;
	k->value = payload;
	k->vlen = len;
	for (i = 0; i < k->nexclude; i++, f += strlen(f) + 1)
		if (mqtt_topic_match(f, topic)) {
			k->result = CUT_EXCLUDED;
			goto count;
		}
	if (k->has_field) {
		rc = mqtt_field_select(&k->field, (const char *)payload, len, &v, &n);
		if (rc != MQTT_FIELD_SELECTED) {
			k->result = rc == MQTT_FIELD_NOT_JSON ? CUT_NOT_JSON : CUT_NO_FIELD;
			goto count;
		}
		k->value = (const uint8_t *)v;
		k->vlen = n;
	}
	k->result = k->min_interval_ms > 0 || k->on_change
	                ? rate(k, topic, k->value, k->vlen, now_ms)
	                : CUT_SOLD;
count:
	if (k->stats != NULL)
		k->stats->n[k->result]++;
out:
	*value = k->value;
	*vlen = k->vlen;
	return k->result;
}
