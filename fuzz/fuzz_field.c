/* libFuzzer target: mqtt/field.c pointers and selection (spans, composition, no over-read). */
#include "fuzz/fuzz.h"
#include "mqtt/field.h"
#include "util/text.h"

/* Pointer text read from the input: past the cap, so its check runs too. */
#define PTR_IN_MAX (MQTT_FIELD_POINTER_MAX + 8)

/* Selects from an exact-size copy of doc[0..n), so ASan sees any read at or
 * past n; the span comes back as offsets into doc. */
static int
select_at(const struct mqtt_field *f, const uint8_t *doc, size_t n, size_t *off, size_t *vlen)
{
	char *copy = malloc(n > 0 ? n : 1);
	const char *v;
	int rc;

	CHECK(copy != NULL);
	if (n > 0)
		memcpy(copy, doc, n);
	rc = mqtt_field_select(f, copy, n, &v, vlen);
	CHECK(rc == MQTT_FIELD_NOT_JSON || rc == MQTT_FIELD_SELECTED || rc == MQTT_FIELD_ABSENT);
	if (rc == MQTT_FIELD_SELECTED) {
		CHECK(v >= copy && *vlen > 0 && *vlen <= n && (size_t)(v - copy) <= n - *vlen);
		*off = (size_t)(v - copy);
	} else {
		CHECK(v == NULL && *vlen == 0);
		*off = 0;
	}
	free(copy);
	return rc;
}

static int
is_ws(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* A quoted value is safe in a log line: UTF-8 with no control byte. */
static void
check_quote(const uint8_t *s, size_t n)
{
	char q[4 * MQTT_FIELD_QUOTE_MAX + 4];
	size_t len;

	mqtt_field_quote(q, sizeof(q), (const char *)s, n);
	len = strlen(q);
	CHECK(len < sizeof(q));
	CHECK(util_text_printable(q, len));
	if (n <= MQTT_FIELD_QUOTE_MAX && memchr(s, '\\', n) == NULL && util_text_printable(s, n))
		CHECK(len == n && memcmp(q, s, n) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	struct mqtt_field f, whole, prefix, last;
	char ptr[PTR_IN_MAX + 1], err[512], small[8];
	const uint8_t *line, *doc;
	size_t plen, n, off, vlen, aoff, alen, poff, plen2, loff, llen, cut;
	int rc, rall, rp, rl;

	/* The first line is the pointer, the rest the document. */
	line = fuzz_in_line(&in, &plen);
	doc = in.p;
	n = in.n;
	plen = plen < PTR_IN_MAX ? plen : PTR_IN_MAX;
	memcpy(ptr, line, plen);
	ptr[plen] = '\0'; /* a NUL ends it early, as in a config value */
	check_quote(line, plen);
	check_quote(doc, n);

	CHECK(mqtt_field_parse(&whole, "", NULL, 0) == 0);
	rall = select_at(&whole, doc, n, &aoff, &alen);
	/* The whole document is itself, less the whitespace around it. */
	if (rall == MQTT_FIELD_SELECTED) {
		CHECK(aoff + alen == n || is_ws(doc[aoff + alen]));
		for (size_t i = 0; i < aoff; i++)
			CHECK(is_ws(doc[i]));
		for (size_t i = aoff + alen; i < n; i++)
			CHECK(is_ws(doc[i]));
		CHECK(!is_ws(doc[aoff]) && !is_ws(doc[aoff + alen - 1]));
	} else {
		CHECK(rall == MQTT_FIELD_NOT_JSON);
	}

	memset(err, 'x', sizeof(err));
	if (mqtt_field_parse(&f, ptr, err, sizeof(err)) != 0) {
		CHECK(err[0] == '`' && strstr(err, "': ") != NULL &&
		      util_text_printable(err, strlen(err)));
		/* A refused pointer selects nothing. */
		rc = select_at(&f, doc, n, &off, &vlen);
		CHECK(
		    rc == (rall == MQTT_FIELD_NOT_JSON ? MQTT_FIELD_NOT_JSON : MQTT_FIELD_ABSENT));
		cut = plen % sizeof(small) + 1;
		memset(small, 'x', sizeof(small));
		CHECK(mqtt_field_parse(&f, ptr, small, cut) == -1 &&
		      memchr(small, '\0', cut) != NULL);
		return 0;
	}
	CHECK(f.ntok <= MQTT_FIELD_TOKENS_MAX);
	rc = select_at(&f, doc, n, &off, &vlen);
	if (rall == MQTT_FIELD_NOT_JSON)
		CHECK(rc == MQTT_FIELD_NOT_JSON);
	if (rc == MQTT_FIELD_SELECTED) {
		size_t o2, l2;

		/* The span is a JSON text alone, and all of it. */
		CHECK(rall == MQTT_FIELD_SELECTED);
		CHECK(off >= aoff && off + vlen <= aoff + alen);
		CHECK(select_at(&whole, doc + off, vlen, &o2, &l2) == MQTT_FIELD_SELECTED);
		CHECK(o2 == 0 && l2 == vlen);
	}
	if (f.ntok == 0) {
		CHECK(rc == rall && off == aoff && vlen == alen);
		return 0;
	}

	/*
	 * Composition: "P/t" in the document is "/t" in what P selects. The
	 * text splits at its last '/', which always starts the last token
	 * (an escaped '/' is "~1").
	 */
	{
		char *slash = strrchr(ptr, '/');

		CHECK(slash != NULL);
		CHECK(mqtt_field_parse(&last, slash, NULL, 0) == 0 && last.ntok == 1);
		*slash = '\0';
		CHECK(mqtt_field_parse(&prefix, ptr, NULL, 0) == 0 && prefix.ntok == f.ntok - 1);
		*slash = '/';
	}
	rp = select_at(&prefix, doc, n, &poff, &plen2);
	if (rp == MQTT_FIELD_NOT_JSON) {
		CHECK(rc == MQTT_FIELD_NOT_JSON);
	} else if (rp == MQTT_FIELD_ABSENT) {
		CHECK(rc == MQTT_FIELD_ABSENT);
	} else {
		rl = select_at(&last, doc + poff, plen2, &loff, &llen);
		CHECK(rl == rc);
		if (rc == MQTT_FIELD_SELECTED)
			CHECK(poff + loff == off && llen == vlen);
	}
	return 0;
}
