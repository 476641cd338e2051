/* libFuzzer target: mqtt/hatemplate.c (what it accepts parses as a pointer and round-trips). */
#include "fuzz/fuzz.h"
#include "mqtt/field.h"
#include "mqtt/hatemplate.h"
#include "util/text.h"

/* Template bytes read from the input: past the cap, so its check runs too. */
#define TMPL_IN_MAX (MQTT_HATEMPLATE_MAX + 8)

/*
 * The template that reads the same field the plainest way:
 * {{ value_json['a']['b'] }}, each token unescaped and quoted with
 * whichever quote it does not hold. 0 if it cannot be written.
 */
static int
canonical(const struct mqtt_field *f, char *out, size_t cap)
{
	size_t o = 0;

	if (f->ntok == 0)
		return snprintf(out, cap, "{{ value }}") < (int)cap;
	o += (size_t)snprintf(out, cap, "{{ value_json");
	for (size_t i = 0; i < f->ntok; i++) {
		const char *name = f->names + f->tok[i].off;
		size_t len = f->tok[i].len;
		char q = memchr(name, '\'', len) == NULL ? '\'' : '"';

		if (q == '"' && memchr(name, '"', len) != NULL)
			return 0;
		if (o + len + 5 >= cap)
			return 0;
		out[o++] = '[';
		out[o++] = q;
		memcpy(out + o, name, len);
		o += len;
		out[o++] = q;
		out[o++] = ']';
	}
	if (o + 4 >= cap)
		return 0;
	memcpy(out + o, " }}", 4);
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char tmpl[TMPL_IN_MAX + 1], ptr[MQTT_FIELD_POINTER_MAX + 1],
	    again[MQTT_FIELD_POINTER_MAX + 1];
	char err[512], small[8], canon[4 * MQTT_FIELD_POINTER_MAX + 64];
	struct mqtt_field f;
	size_t n = size < TMPL_IN_MAX ? size : TMPL_IN_MAX, plen, cut;

	memcpy(tmpl, data, n);
	tmpl[n] = '\0'; /* a NUL ends it early, as cJSON's strings do */
	memset(ptr, 'x', sizeof(ptr));
	memset(err, 'x', sizeof(err));
	if (mqtt_hatemplate_to_pointer(tmpl, ptr, sizeof(ptr), err, sizeof(err)) != 0) {
		/* Refused: no pointer, and a reason safe to log. */
		CHECK(ptr[0] == '\0');
		CHECK(err[0] == '`' && strstr(err, "': ") != NULL);
		CHECK(util_text_printable(err, strlen(err)));
		cut = n % sizeof(small) + 1;
		memset(small, 'x', sizeof(small));
		CHECK(mqtt_hatemplate_to_pointer(tmpl, ptr, sizeof(ptr), small, cut) == -1);
		CHECK(memchr(small, '\0', cut) != NULL);
		return 0;
	}
	plen = strlen(ptr);
	CHECK(plen <= MQTT_FIELD_POINTER_MAX);
	/* What it produces always compiles. */
	CHECK(mqtt_field_parse(&f, ptr, err, sizeof(err)) == 0);
	/* The output cap is exact: plen + 1 bytes do, plen do not. */
	CHECK(mqtt_hatemplate_to_pointer(tmpl, again, plen + 1, NULL, 0) == 0);
	CHECK(strcmp(again, ptr) == 0);
	if (plen > 0) {
		CHECK(mqtt_hatemplate_to_pointer(tmpl, again, plen, NULL, 0) == -1);
		CHECK(again[0] == '\0');
	}
	/* The same field written plainly translates to the same pointer. */
	if (canonical(&f, canon, sizeof(canon)) && strlen(canon) <= MQTT_HATEMPLATE_MAX) {
		CHECK(
		    mqtt_hatemplate_to_pointer(canon, again, sizeof(again), err, sizeof(err)) == 0);
		CHECK(strcmp(again, ptr) == 0);
	}
	return 0;
}
