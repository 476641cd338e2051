/* RFC 6901 JSON Pointer selection in a raw JSON payload: one value's exact bytes, no tree. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "mqtt/field.h"
#include "util/text.h"

/* Level of a value that is not on the pointer's path (above any ntok). */
#define OFF_PATH SIZE_MAX
/* Room for one quoted value in a message. */
#define QUOTEBUF (4 * MQTT_FIELD_QUOTE_MAX + 4)

/* One pass over a payload; the pointer's match is recorded on the way. */
struct scan {
	const unsigned char *p;
	size_t len;
	size_t pos;
	const struct mqtt_field *f;
	size_t vstart, vend; /* the selected value, when found */
	int found;
};

static int scan_value(struct scan *, unsigned depth, size_t level);

/* ---- Messages ---- */

const char *
mqtt_field_quote(char *dst, size_t cap, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t i = 0, o = 0;

	if (cap == 0)
		return dst;
	while (i < len) {
		unsigned char c = (unsigned char)s[i];
		uint32_t cp = c;
		size_t k = c < 0x80 ? 1 : util_utf8_decode(s + i, len - i, &cp);
		/* Printable ASCII but the backslash (our escape), or a whole
		 * sequence above the C1 controls, which terminals obey like C0. */
		int plain = k == 1 ? c >= 0x20 && c < 0x7f && c != '\\' : k > 1 && cp > 0x9f;
		size_t n = k > 0 ? k : 1; /* one unit: a sequence, or one bad byte */

		if (i + n > MQTT_FIELD_QUOTE_MAX || o + (plain ? n : 4 * n) >= cap)
			break;
		for (size_t j = i; j < i + n; j++) {
			unsigned char b = (unsigned char)s[j];

			if (plain) {
				dst[o++] = (char)b;
				continue;
			}
			dst[o++] = '\\';
			dst[o++] = 'x';
			dst[o++] = hex[b >> 4];
			dst[o++] = hex[b & 15];
		}
		i += n;
	}
	if (i < len && o + 3 < cap) {
		memcpy(dst + o, "...", 3);
		o += 3;
	}
	dst[o] = '\0';
	return dst;
}

/* ---- Compiling a pointer ---- */

/* The token as an array index: "0" or [1-9][0-9]*; too big to exist saturates. */
static size_t
token_index(const char *t, size_t n)
{
	size_t v = 0;

	if (n == 0 || (t[0] == '0' && n > 1))
		return MQTT_FIELD_NO_INDEX;
	for (size_t i = 0; i < n; i++) {
		if (t[i] < '0' || t[i] > '9')
			return MQTT_FIELD_NO_INDEX;
		if (v > (SIZE_MAX - 9) / 10)
			return MQTT_FIELD_NO_INDEX; /* more elements than memory holds */
		v = v * 10 + (size_t)(t[i] - '0');
	}
	return v;
}

int
mqtt_field_parse(struct mqtt_field *f, const char *pointer, char *err, size_t errlen)
{
	char q[QUOTEBUF];
	size_t len, i, out = 0;

	memset(f, 0, sizeof(*f));
	if (pointer == NULL) {
		util_errf(err, errlen, "no pointer");
		goto fail;
	}
	len = strnlen(pointer, MQTT_FIELD_POINTER_MAX + 1);
	mqtt_field_quote(q, sizeof(q), pointer, len);
	if (len > MQTT_FIELD_POINTER_MAX) {
		util_errf(err, errlen, "`%s': longer than %d bytes", q, MQTT_FIELD_POINTER_MAX);
		goto fail;
	}
	if (len == 0)
		return 0; /* the whole document */
	if (pointer[0] != '/') {
		util_errf(err, errlen, "`%s': a pointer is empty or starts with '/'%s", q,
		    pointer[0] == '#' ? " (the URI fragment form is not read)" : "");
		goto fail;
	}
	/* Member names are UTF-8, so a token that is not could never match:
	 * that is a typo in the config, and the operator should hear of it. */
	if (!util_utf8_valid(pointer, len)) {
		util_errf(err, errlen, "`%s': not valid UTF-8", q);
		goto fail;
	}
	for (i = 0; i < len;) {
		struct mqtt_field_token *t;

		/* pointer[i] is the '/' that opens a token. */
		if (f->ntok == MQTT_FIELD_TOKENS_MAX) {
			util_errf(
			    err, errlen, "`%s': more than %d tokens", q, MQTT_FIELD_TOKENS_MAX);
			goto fail;
		}
		t = &f->tok[f->ntok++];
		t->off = (uint16_t)out;
		for (i++; i < len && pointer[i] != '/'; i++) {
			char c = pointer[i];

			if (c == '~') {
				char e = i + 1 < len ? pointer[i + 1] : '\0';

				if (e != '0' && e != '1') {
					util_errf(err, errlen,
					    "`%s': '~' at byte %zu is not ~0 ('~') or ~1 ('/')", q,
					    i);
					goto fail;
				}
				c = e == '0' ? '~' : '/';
				i++;
			}
			/* Unescaping only shortens, so out < i <= len fits names. */
			f->names[out++] = c;
		}
		t->len = (uint16_t)(out - t->off);
		t->index = token_index(f->names + t->off, t->len);
	}
	return 0;

fail:
	memset(f, 0, sizeof(*f));
	f->ntok = MQTT_FIELD_TOKENS_MAX + 1; /* selects nothing */
	return -1;
}

/* ---- Scanning a payload (RFC 8259) ---- */

static void
scan_ws(struct scan *s)
{
	while (s->pos < s->len) {
		unsigned char c = s->p[s->pos];

		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			break;
		s->pos++;
	}
}

/* The four hex digits at p[0..4) (the caller checked there are four) as a number, or -1. */
static long
hex4(const unsigned char *p)
{
	long v = 0;

	for (int i = 0; i < 4; i++) {
		unsigned char c = p[i];
		int d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return -1;
		v = v << 4 | d;
	}
	return v;
}

/*
 * The string at s->pos (its opening quote), checked and passed; *esc set if
 * it holds an escape. Raw bytes are checked as UTF-8 run by run: no byte of
 * a multi-byte sequence is a quote, a backslash or a control byte, so the
 * runs between those never split a sequence.
 */
static int
scan_string(struct scan *s, int *esc)
{
	const unsigned char *p = s->p;

	*esc = 0;
	s->pos++;
	for (;;) {
		size_t run = s->pos;
		unsigned char hi = 0;
		long u;

		while (s->pos < s->len) {
			unsigned char c = p[s->pos];

			if (c == '"' || c == '\\' || c < 0x20)
				break;
			hi |= c;
			s->pos++;
		}
		if ((hi & 0x80) && !util_utf8_valid(p + run, s->pos - run))
			return -1;
		if (s->pos >= s->len || p[s->pos] < 0x20)
			return -1;
		if (p[s->pos] == '"') {
			s->pos++;
			return 0;
		}
		*esc = 1;
		if (++s->pos >= s->len)
			return -1;
		switch (p[s->pos]) {
		case '"':
		case '\\':
		case '/':
		case 'b':
		case 'f':
		case 'n':
		case 'r':
		case 't':
			s->pos++;
			continue;
		case 'u':
			break;
		default:
			return -1;
		}
		if (s->len - s->pos < 5)
			return -1;
		u = hex4(p + s->pos + 1);
		if (u < 0 || (u >= 0xdc00 && u <= 0xdfff))
			return -1; /* not hex, or a low surrogate alone */
		s->pos += 5;
		if (u >= 0xd800 && u <= 0xdbff) {
			/* A high surrogate needs its low half right after it. */
			if (s->len - s->pos < 6 || p[s->pos] != '\\' || p[s->pos + 1] != 'u')
				return -1;
			u = hex4(p + s->pos + 2);
			if (u < 0xdc00 || u > 0xdfff)
				return -1;
			s->pos += 6;
		}
	}
}

/* Next byte of a checked string's decoded text at p[*i] (which is before
 * the closing quote); an escape may give up to 4 bytes into buf. */
static size_t
decode_next(const unsigned char *p, size_t *i, unsigned char buf[UTIL_UTF8_SEQ_MAX])
{
	uint32_t cp;
	size_t at = *i;

	if (p[at] != '\\') {
		buf[0] = p[at];
		*i = at + 1;
		return 1;
	}
	if (p[at + 1] != 'u') {
		static const char from[] = "bfnrt", to[] = "\b\f\n\r\t";
		const char *e = memchr(from, p[at + 1], sizeof(from) - 1);

		/* \" \\ and \/ stand for themselves. */
		buf[0] = e != NULL ? (unsigned char)to[e - from] : p[at + 1];
		*i = at + 2;
		return 1;
	}
	/* scan_string() checked the digits and the pairing already. */
	cp = (uint32_t)hex4(p + at + 2);
	*i = at + 6;
	if (cp >= 0xd800 && cp <= 0xdbff) {
		cp = 0x10000 + ((cp - 0xd800) << 10) + ((uint32_t)hex4(p + at + 8) - 0xdc00);
		*i = at + 12;
	}
	if (cp < 0x80) {
		buf[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		buf[0] = (unsigned char)(0xc0 | cp >> 6);
		buf[1] = (unsigned char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		buf[0] = (unsigned char)(0xe0 | cp >> 12);
		buf[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
		buf[2] = (unsigned char)(0x80 | (cp & 0x3f));
		return 3;
	}
	buf[0] = (unsigned char)(0xf0 | cp >> 18);
	buf[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3f));
	buf[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
	buf[3] = (unsigned char)(0x80 | (cp & 0x3f));
	return 4;
}

/* 1 if the checked string between its quotes p[a..b) decodes to token t. */
static int
name_equals(const struct scan *s, size_t a, size_t b, int esc, const struct mqtt_field_token *t)
{
	const unsigned char *want = (const unsigned char *)s->f->names + t->off;
	unsigned char buf[UTIL_UTF8_SEQ_MAX];
	size_t i = a, o = 0;

	if (!esc) /* the common case: compare the raw bytes */
		return b - a == t->len && memcmp(s->p + a, want, t->len) == 0;
	while (i < b) {
		size_t k = decode_next(s->p, &i, buf);

		if (k > (size_t)t->len - o || memcmp(buf, want + o, k) != 0)
			return 0;
		o += k;
	}
	return o == t->len;
}

static int
scan_digits(struct scan *s)
{
	size_t start = s->pos;

	while (s->pos < s->len && s->p[s->pos] >= '0' && s->p[s->pos] <= '9')
		s->pos++;
	return s->pos > start ? 0 : -1;
}

/* RFC 8259 section 6: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static int
scan_number(struct scan *s)
{
	if (s->p[s->pos] == '-')
		s->pos++;
	if (s->pos >= s->len)
		return -1;
	if (s->p[s->pos] == '0')
		s->pos++; /* a digit after it is refused by whoever reads on */
	else if (scan_digits(s) != 0)
		return -1;
	if (s->pos < s->len && s->p[s->pos] == '.') {
		s->pos++;
		if (scan_digits(s) != 0)
			return -1;
	}
	if (s->pos < s->len && (s->p[s->pos] == 'e' || s->p[s->pos] == 'E')) {
		s->pos++;
		if (s->pos < s->len && (s->p[s->pos] == '+' || s->p[s->pos] == '-'))
			s->pos++;
		if (scan_digits(s) != 0)
			return -1;
	}
	return 0;
}

static int
scan_literal(struct scan *s, const char *word, size_t n)
{
	if (s->len - s->pos < n || memcmp(s->p + s->pos, word, n) != 0)
		return -1;
	s->pos += n;
	return 0;
}

/* Passes whitespace, then c if it comes next; 1 if it did. */
static int
scan_byte(struct scan *s, unsigned char c)
{
	scan_ws(s);
	if (s->pos >= s->len || s->p[s->pos] != c)
		return 0;
	s->pos++;
	return 1;
}

/* The object after its '{'; members whose name is the level's token are on the path. */
static int
scan_object(struct scan *s, unsigned depth, size_t level)
{
	int matched = 0;

	if (scan_byte(s, '}'))
		return 0;
	do {
		size_t name, child = OFF_PATH;
		int esc;

		scan_ws(s);
		if (s->pos >= s->len || s->p[s->pos] != '"')
			return -1;
		name = s->pos;
		if (scan_string(s, &esc) != 0)
			return -1;
		if (level < s->f->ntok &&
		    name_equals(s, name + 1, s->pos - 1, esc, &s->f->tok[level])) {
			if (matched)
				return -1; /* a duplicate on the path: see field.h */
			matched = 1;
			child = level + 1;
		}
		if (!scan_byte(s, ':') || scan_value(s, depth, child) != 0)
			return -1;
	} while (scan_byte(s, ','));
	return scan_byte(s, '}') ? 0 : -1;
}

/* The array after its '['; the element at the level's index is on the path. */
static int
scan_array(struct scan *s, unsigned depth, size_t level)
{
	size_t want = level < s->f->ntok ? s->f->tok[level].index : MQTT_FIELD_NO_INDEX;
	size_t i = 0;

	if (scan_byte(s, ']'))
		return 0;
	do {
		if (scan_value(s, depth, i++ == want ? level + 1 : OFF_PATH) != 0)
			return -1;
	} while (scan_byte(s, ','));
	return scan_byte(s, ']') ? 0 : -1;
}

/* The value at s->pos (after whitespace), inside depth containers; level is
 * how many tokens matched on the way here, or OFF_PATH. */
static int
scan_value(struct scan *s, unsigned depth, size_t level)
{
	size_t start;
	int rc, esc;

	scan_ws(s);
	if (s->pos >= s->len)
		return -1;
	start = s->pos;
	switch (s->p[s->pos]) {
	case '{':
	case '[':
		/* The one place depth grows, so the recursion is bounded here. */
		if (depth == MQTT_FIELD_DEPTH_MAX)
			return -1;
		s->pos++;
		rc = s->p[start] == '{' ? scan_object(s, depth + 1, level)
		                        : scan_array(s, depth + 1, level);
		break;
	case '"':
		rc = scan_string(s, &esc);
		break;
	case 't':
		rc = scan_literal(s, "true", 4);
		break;
	case 'f':
		rc = scan_literal(s, "false", 5);
		break;
	case 'n':
		rc = scan_literal(s, "null", 4);
		break;
	case '-':
	case '0':
	case '1':
	case '2':
	case '3':
	case '4':
	case '5':
	case '6':
	case '7':
	case '8':
	case '9':
		rc = scan_number(s);
		break;
	default:
		return -1;
	}
	if (rc != 0)
		return -1;
	if (level == s->f->ntok) {
		s->found = 1;
		s->vstart = start;
		s->vend = s->pos;
	}
	return 0;
}

int
mqtt_field_select(
    const struct mqtt_field *f, const char *json, size_t len, const char **value, size_t *vlen)
{
	struct scan s;

	*value = NULL;
	*vlen = 0;
	if (json == NULL)
		return MQTT_FIELD_NOT_JSON;
	memset(&s, 0, sizeof(s));
	s.p = (const unsigned char *)json;
	s.len = len;
	s.f = f;
	/* A failed parse has ntok above the cap: nothing is on its path. */
	if (scan_value(&s, 0, f->ntok <= MQTT_FIELD_TOKENS_MAX ? 0 : OFF_PATH) != 0)
		return MQTT_FIELD_NOT_JSON;
	scan_ws(&s);
	if (s.pos != s.len)
		return MQTT_FIELD_NOT_JSON;
	if (!s.found)
		return MQTT_FIELD_ABSENT;
	*value = json + s.vstart;
	*vlen = s.vend - s.vstart;
	return MQTT_FIELD_SELECTED;
}
