/* Strict JSON input (a validating pre-scan in front of cJSON) and RFC 8785 canonical output. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdpp/json.h"
#include "util/text.h"

/* 2^53: below it every integer is a double and prints as itself. */
#define TWO53 9007199254740992.0
/* Longest number text we produce: "-0.000000" plus 17 digits, or "-d.<16>e-324". */
#define NUMBUF 48
/* Bytes of a member name quoted in a duplicate-key message. */
#define KEYQUOTE 40

struct scan {
	const unsigned char *p;
	size_t len;
	size_t pos;
	int depth;
	char *err;
	size_t errlen;
};

/* Output buffer with a hard cap, in the manner of curl's dynbuf. */
struct dbuf {
	char *p;
	size_t len;  /* bytes used, without the NUL */
	size_t size; /* bytes allocated */
	size_t cap;  /* most bytes len may reach */
};

/* One object member while sorting: the item and its name's length. */
struct member {
	const cJSON *item;
	size_t namelen;
};

static enum sdpp_err scan_value(struct scan *);

/* ---- Pre-scan: a complete validating grammar, so cJSON's leniencies never matter. ---- */

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

static enum sdpp_err
scan_unexpected(struct scan *s)
{
	if (s->pos >= s->len)
		util_errf(s->err, s->errlen, "unexpected end of input at byte %zu", s->pos);
	else
		util_errf(
		    s->err, s->errlen, "unexpected byte 0x%02x at byte %zu", s->p[s->pos], s->pos);
	return SDPP_E_BAD_JSON;
}

/* Reads the four hex digits of a \u escape at s->p[at]; -1 if absent or not hex. */
static long
scan_hex4(const struct scan *s, size_t at)
{
	long v = 0;
	size_t i;

	if (at > s->len || s->len - at < 4)
		return -1;
	for (i = 0; i < 4; i++) {
		unsigned char c = s->p[at + i];
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
 * Checks one escape at s->pos (the backslash). \u escapes must decode to
 * something a C string can hold as valid UTF-8: no \u0000, and surrogates
 * only as a high-low pair (cJSON would otherwise decide for us).
 */
static enum sdpp_err
scan_escape(struct scan *s)
{
	size_t at = s->pos;
	long u, lo;

	if (s->len - at < 2) {
		util_errf(s->err, s->errlen, "unterminated escape at byte %zu", at);
		return SDPP_E_BAD_JSON;
	}
	switch (s->p[at + 1]) {
	case '"':
	case '\\':
	case '/':
	case 'b':
	case 'f':
	case 'n':
	case 'r':
	case 't':
		s->pos += 2;
		return SDPP_OK;
	case 'u':
		break;
	default:
		util_errf(s->err, s->errlen, "invalid escape at byte %zu", at);
		return SDPP_E_BAD_JSON;
	}
	u = scan_hex4(s, at + 2);
	if (u < 0) {
		util_errf(s->err, s->errlen, "invalid \\u escape at byte %zu", at);
		return SDPP_E_BAD_JSON;
	}
	if (u == 0) {
		util_errf(s->err, s->errlen, "\\u0000 in string at byte %zu", at);
		return SDPP_E_BAD_JSON;
	}
	if (u >= 0xdc00 && u <= 0xdfff) {
		util_errf(s->err, s->errlen, "lone low surrogate at byte %zu", at);
		return SDPP_E_BAD_JSON;
	}
	if (u >= 0xd800 && u <= 0xdbff) {
		lo = -1;
		if (s->len - at >= 8 && s->p[at + 6] == '\\' && s->p[at + 7] == 'u')
			lo = scan_hex4(s, at + 8);
		if (lo < 0xdc00 || lo > 0xdfff) {
			util_errf(s->err, s->errlen, "unpaired high surrogate at byte %zu", at);
			return SDPP_E_BAD_JSON;
		}
		s->pos += 12;
		return SDPP_OK;
	}
	s->pos += 6;
	return SDPP_OK;
}

static enum sdpp_err
scan_string(struct scan *s)
{
	size_t start = s->pos;
	enum sdpp_err e;
	uint32_t cp;
	size_t k;

	s->pos++; /* opening quote */
	while (s->pos < s->len) {
		unsigned char c = s->p[s->pos];

		if (c == '"') {
			s->pos++;
			return SDPP_OK;
		}
		if (c == '\\') {
			e = scan_escape(s);
			if (e != SDPP_OK)
				return e;
		} else if (c < 0x20) {
			util_errf(s->err, s->errlen,
			    "control character 0x%02x in string at byte %zu", c, s->pos);
			return SDPP_E_BAD_JSON;
		} else if (c < 0x80)
			s->pos++;
		else {
			k = util_utf8_decode(s->p + s->pos, s->len - s->pos, &cp);
			if (k == 0) {
				util_errf(s->err, s->errlen, "invalid UTF-8 at byte %zu", s->pos);
				return SDPP_E_BAD_JSON;
			}
			s->pos += k;
		}
	}
	util_errf(s->err, s->errlen, "unterminated string at byte %zu", start);
	return SDPP_E_BAD_JSON;
}

/*
 * Takes the longest run of number-like bytes and requires an integer literal
 * -?(0|[1-9][0-9]*) of magnitude at most 2^53-1, compared as digit strings so
 * no double rounding can let 9007199254740993 through. "-0" is refused: JCS
 * prints it as "0", so a signed message carrying it could not be re-serialised
 * to the same bytes, and no SDPP field needs it.
 */
static enum sdpp_err
scan_number(struct scan *s)
{
	static const char maxdig[] = "9007199254740991";
	const char *t = (const char *)s->p + s->pos;
	size_t start = s->pos, n = 0, i = 0, nd;

	while (s->pos + n < s->len && t[n] != '\0' && strchr("0123456789+-.eE", t[n]) != NULL)
		n++;
	s->pos += n;
	if (t[0] == '-')
		i = 1;
	if (memchr(t, '.', n) != NULL || memchr(t, 'e', n) != NULL || memchr(t, 'E', n) != NULL) {
		util_errf(s->err, s->errlen, "number with fraction or exponent at byte %zu", start);
		return SDPP_E_BAD_NUMBER;
	}
	for (nd = 0; i + nd < n; nd++)
		if (t[i + nd] < '0' || t[i + nd] > '9')
			break;
	if (nd == 0 || i + nd != n || (t[i] == '0' && nd > 1)) {
		util_errf(s->err, s->errlen, "malformed number at byte %zu", start);
		return SDPP_E_BAD_NUMBER;
	}
	if (i == 1 && t[1] == '0') {
		util_errf(s->err, s->errlen, "negative zero at byte %zu", start);
		return SDPP_E_BAD_NUMBER;
	}
	if (nd > sizeof(maxdig) - 1 ||
	    (nd == sizeof(maxdig) - 1 && memcmp(t + i, maxdig, nd) > 0)) {
		util_errf(s->err, s->errlen, "number out of range at byte %zu", start);
		return SDPP_E_BAD_NUMBER;
	}
	return SDPP_OK;
}

static enum sdpp_err
scan_literal(struct scan *s)
{
	static const char *const lit[] = { "true", "false", "null" };
	size_t i, n;

	for (i = 0; i < sizeof(lit) / sizeof(lit[0]); i++) {
		n = strlen(lit[i]);
		if (s->len - s->pos >= n && memcmp(s->p + s->pos, lit[i], n) == 0) {
			s->pos += n;
			return SDPP_OK;
		}
	}
	util_errf(s->err, s->errlen, "invalid literal at byte %zu", s->pos);
	return SDPP_E_BAD_JSON;
}

/* Array or object at s->pos; recursion is bounded by SDPP_JSON_MAX_DEPTH. */
static enum sdpp_err
scan_container(struct scan *s)
{
	int isobj = s->p[s->pos] == '{';
	char close = isobj ? '}' : ']';
	enum sdpp_err e;

	if (++s->depth > SDPP_JSON_MAX_DEPTH) {
		util_errf(s->err, s->errlen, "nesting deeper than %d at byte %zu",
		    SDPP_JSON_MAX_DEPTH, s->pos);
		return SDPP_E_BAD_JSON;
	}
	s->pos++;
	scan_ws(s);
	if (s->pos < s->len && s->p[s->pos] == close) {
		s->pos++;
		s->depth--;
		return SDPP_OK;
	}
	for (;;) {
		if (isobj) {
			if (s->pos >= s->len || s->p[s->pos] != '"')
				return scan_unexpected(s);
			e = scan_string(s);
			if (e != SDPP_OK)
				return e;
			scan_ws(s);
			if (s->pos >= s->len || s->p[s->pos] != ':')
				return scan_unexpected(s);
			s->pos++;
			scan_ws(s);
		}
		e = scan_value(s);
		if (e != SDPP_OK)
			return e;
		scan_ws(s);
		if (s->pos >= s->len)
			return scan_unexpected(s);
		if (s->p[s->pos] == close) {
			s->pos++;
			s->depth--;
			return SDPP_OK;
		}
		if (s->p[s->pos] != ',')
			return scan_unexpected(s);
		s->pos++;
		scan_ws(s);
	}
}

static enum sdpp_err
scan_value(struct scan *s)
{
	unsigned char c;

	if (s->pos >= s->len)
		return scan_unexpected(s);
	c = s->p[s->pos];
	if (c == '{' || c == '[')
		return scan_container(s);
	if (c == '"')
		return scan_string(s);
	if (c == 't' || c == 'f' || c == 'n')
		return scan_literal(s);
	/* '+' and '.' start a (bad) number so they report BAD_NUMBER, not BAD_JSON. */
	if (c == '-' || c == '+' || c == '.' || (c >= '0' && c <= '9'))
		return scan_number(s);
	return scan_unexpected(s);
}

/* ---- Tree checks after cJSON has built the value. ---- */

static int
name_cmp(const void *a, const void *b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;

	return strcmp(x, y);
}

/* Quotes a member name for a log line: printable ASCII only, capped. */
static void
quote_name(char *dst, size_t dstlen, const char *name)
{
	size_t i, o = 0;

	for (i = 0; name[i] != '\0' && o + 4 < dstlen; i++) {
		unsigned char c = (unsigned char)name[i];

		dst[o++] = c >= 0x20 && c < 0x7f && c != '"' && c != '\\' ? (char)c : '?';
	}
	if (name[i] != '\0' && o + 3 < dstlen) {
		memcpy(dst + o, "...", 3);
		o += 3;
	}
	dst[o] = '\0';
}

/*
 * depth counts the arrays and objects enclosing v.
 * Refuses duplicate member names (compared decoded, byte-wise) and strings
 * that did not decode to valid UTF-8. Names are sorted, not compared
 * pairwise, so an object with thousands of members stays cheap.
 */
static enum sdpp_err
tree_check(const cJSON *v, int depth, char *err, size_t errlen)
{
	const char **names = NULL;
	char q[KEYQUOTE + 4];
	const cJSON *c;
	enum sdpp_err e = SDPP_OK;
	size_t n = 0, i;

	if (cJSON_IsString(v) &&
	    (v->valuestring == NULL || !util_utf8_valid(v->valuestring, strlen(v->valuestring)))) {
		util_errf(err, errlen, "string is not valid UTF-8 after unescaping");
		return SDPP_E_BAD_JSON;
	}
	if (!cJSON_IsArray(v) && !cJSON_IsObject(v))
		return SDPP_OK;
	if (depth + 1 > SDPP_JSON_MAX_DEPTH) {
		util_errf(err, errlen, "nesting deeper than %d", SDPP_JSON_MAX_DEPTH);
		return SDPP_E_BAD_JSON;
	}
	for (c = v->child; c != NULL; c = c->next) {
		e = tree_check(c, depth + 1, err, errlen);
		if (e != SDPP_OK)
			return e;
		n++;
	}
	if (!cJSON_IsObject(v) || n < 2)
		return SDPP_OK;
	names = calloc(n, sizeof(*names));
	if (names == NULL) {
		util_errf(err, errlen, "out of memory");
		e = SDPP_E_NOMEM;
		goto fail;
	}
	for (i = 0, c = v->child; c != NULL; c = c->next) {
		if (c->string == NULL || !util_utf8_valid(c->string, strlen(c->string))) {
			util_errf(err, errlen, "member name is not valid UTF-8 after unescaping");
			e = SDPP_E_BAD_JSON;
			goto fail;
		}
		names[i++] = c->string;
	}
	qsort(names, n, sizeof(*names), name_cmp);
	for (i = 1; i < n; i++) {
		if (strcmp(names[i - 1], names[i]) == 0) {
			quote_name(q, sizeof(q), names[i]);
			util_errf(err, errlen, "duplicate key \"%s\"", q);
			e = SDPP_E_BAD_JSON;
			goto fail;
		}
	}
fail:
	free(names);
	return e;
}

enum sdpp_err
sdpp_json_parse(cJSON **out, const char *buf, size_t len, char *err, size_t errlen)
{
	struct scan s;
	const char *end = NULL, *nul;
	cJSON *root = NULL;
	enum sdpp_err e;
	size_t i;

	if (out == NULL)
		return SDPP_E_INVAL;
	*out = NULL;
	util_errf(err, errlen, "%s", "");
	if (buf == NULL || len == 0) {
		util_errf(err, errlen, "empty input");
		return SDPP_E_BAD_JSON;
	}
	nul = memchr(buf, '\0', len);
	if (nul != NULL) {
		util_errf(err, errlen, "NUL byte at byte %zu", (size_t)(nul - buf));
		return SDPP_E_BAD_JSON;
	}
	memset(&s, 0, sizeof(s));
	s.p = (const unsigned char *)buf;
	s.len = len;
	s.err = err;
	s.errlen = errlen;
	scan_ws(&s);
	if (s.pos == len) {
		util_errf(err, errlen, "no JSON value, only whitespace");
		return SDPP_E_BAD_JSON;
	}
	e = scan_value(&s);
	if (e != SDPP_OK)
		return e;
	scan_ws(&s);
	if (s.pos != len) {
		util_errf(err, errlen, "trailing data at byte %zu", s.pos);
		return SDPP_E_BAD_JSON;
	}

	/*
	 * The scan accepted the whole buffer, so cJSON can only fail for lack
	 * of memory. Its end pointer is still checked in case the two grammars
	 * ever disagree (cJSON skips any byte <= 0x20 as whitespace, and a BOM).
	 */
	root = cJSON_ParseWithLengthOpts(buf, len, &end, 0);
	if (root == NULL) {
		util_errf(err, errlen, "out of memory building the JSON tree");
		e = SDPP_E_NOMEM;
		goto fail;
	}
	if (end == NULL || end < buf || (size_t)(end - buf) > len) {
		util_errf(err, errlen, "parser stopped outside the input");
		e = SDPP_E_BAD_JSON;
		goto fail;
	}
	for (i = (size_t)(end - buf); i < len; i++) {
		if (buf[i] != ' ' && buf[i] != '\t' && buf[i] != '\n' && buf[i] != '\r') {
			util_errf(err, errlen, "trailing data at byte %zu", i);
			e = SDPP_E_BAD_JSON;
			goto fail;
		}
	}
	e = tree_check(root, 0, err, errlen);
	if (e != SDPP_OK)
		goto fail;
	*out = root;
	return SDPP_OK;
fail:
	cJSON_Delete(root);
	return e;
}

/* ---- RFC 8785 output. ---- */

static enum sdpp_err
dbuf_add(struct dbuf *b, const char *s, size_t n)
{
	size_t need, nsize;
	char *np;

	if (n > b->cap - b->len)
		return SDPP_E_FRAME_TOO_LARGE;
	need = b->len + n + 1; /* cannot wrap: len + n <= cap < SIZE_MAX */
	if (need > b->size) {
		nsize = b->size != 0 ? b->size : 256;
		while (nsize < need)
			nsize = nsize > SIZE_MAX / 2 ? SIZE_MAX : nsize * 2;
		/* Never allocate beyond what the cap allows. */
		if (nsize > b->cap + 1)
			nsize = b->cap + 1;
		np = realloc(b->p, nsize);
		if (np == NULL)
			return SDPP_E_NOMEM;
		b->p = np;
		b->size = nsize;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
	return SDPP_OK;
}

static enum sdpp_err
dbuf_str(struct dbuf *b, const char *s)
{
	return dbuf_add(b, s, strlen(s));
}

/*
 * How jcs_string() treats each byte: 0 = copied as is (printable ASCII and
 * DEL), 1 = escaped ('"', '\\' and C0 controls), 2 = starts a multi-byte
 * sequence that must be validated. Long runs of class 0 (base64, hex,
 * names) are then copied with one memcpy instead of a decode per byte.
 */
#define JCS_LIT 0
#define JCS_ESC 1
#define JCS_UTF8 2
static const unsigned char jcs_class[256] = {
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 00 */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 10 */
	0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 20 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 30 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 40 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, /* 50 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 60 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 70 */
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, /* 80 */
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, /* 90 */
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, /* a0 */
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, /* b0 */
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, /* c0 */
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, /* d0 */
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, /* e0 */
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, /* f0 */
};

/* The escape for a class-1 byte: 2 or 6 bytes into esc (no NUL). */
static size_t
jcs_escape(unsigned char c, char esc[6])
{
	static const char hexdig[] = "0123456789abcdef";
	char short_esc = 0;

	switch (c) {
	case '"':
		short_esc = '"';
		break;
	case '\\':
		short_esc = '\\';
		break;
	case '\b':
		short_esc = 'b';
		break;
	case '\f':
		short_esc = 'f';
		break;
	case '\n':
		short_esc = 'n';
		break;
	case '\r':
		short_esc = 'r';
		break;
	case '\t':
		short_esc = 't';
		break;
	default:
		break;
	}
	esc[0] = '\\';
	if (short_esc != 0) {
		esc[1] = short_esc;
		return 2;
	}
	memcpy(esc + 1, "u00", 3);
	esc[4] = hexdig[c >> 4];
	esc[5] = hexdig[c & 15];
	return 6;
}

/*
 * Length of the literal run at p[0..n): bytes copied unchanged, stopping at
 * the first byte that needs an escape. 0 with *bad = 1 if a multi-byte
 * sequence in the run is not well-formed UTF-8.
 */
static size_t
jcs_run_len(const unsigned char *p, size_t n, int *bad)
{
	size_t i = 0, k;
	uint32_t cp;

	*bad = 0;
	while (i < n) {
		while (i < n && jcs_class[p[i]] == JCS_LIT)
			i++;
		if (i == n || jcs_class[p[i]] == JCS_ESC)
			break;
		k = util_utf8_decode(p + i, n - i, &cp);
		if (k == 0) {
			*bad = 1;
			return 0;
		}
		i += k;
	}
	return i;
}

/* RFC 8785 s3.2.2.2: minimal escapes, \u00xx in lowercase, all else literal UTF-8. */
static enum sdpp_err
jcs_string(struct dbuf *b, const char *str, size_t n)
{
	const unsigned char *p = (const unsigned char *)str;
	enum sdpp_err e;
	size_t i = 0, run, k;
	char esc[6];
	int bad;

	e = dbuf_add(b, "\"", 1);
	while (e == SDPP_OK && i < n) {
		run = jcs_run_len(p + i, n - i, &bad);
		if (bad)
			return SDPP_E_BAD_JSON;
		e = dbuf_add(b, str + i, run);
		i += run;
		if (e != SDPP_OK || i == n)
			break;
		k = jcs_escape(p[i], esc);
		e = dbuf_add(b, esc, k);
		i++;
	}
	if (e == SDPP_OK)
		e = dbuf_add(b, "\"", 1);
	return e;
}

size_t
sdpp_jcs_quote(char *dst, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, o = 1, run, k;
	char esc[6];
	int bad;

	if (dst != NULL)
		dst[0] = '"';
	while (i < n) {
		run = jcs_run_len(p + i, n - i, &bad);
		if (bad)
			return 0;
		if (dst != NULL)
			memcpy(dst + o, s + i, run);
		o += run;
		i += run;
		if (i == n)
			break;
		k = jcs_escape(p[i], esc);
		if (dst != NULL)
			memcpy(dst + o, esc, k);
		o += k;
		i++;
	}
	if (dst != NULL)
		dst[o] = '"';
	return o + 1;
}

/* Parses the exponent after 'e' in printf's %e output ("+21", "-324"). */
static int
exp_parse(const char *s)
{
	int neg = 0, v = 0;

	if (*s == '+' || *s == '-')
		neg = *s++ == '-';
	while (*s >= '0' && *s <= '9' && v < 10000)
		v = v * 10 + (*s++ - '0');
	return neg ? -v : v;
}

/*
 * Value of the decimal digits[0..k) * 10^e10. Written without a decimal
 * point so strtod's answer does not depend on the locale.
 */
static double
digits_value(const char *digits, int e10)
{
	char t[NUMBUF];

	snprintf(t, sizeof(t), "%se%d", digits, e10);
	return strtod(t, NULL);
}

/* Moves the k-digit decimal digits * 10^(*x) one unit up or down, keeping k digits. */
static void
digits_step(char *digits, size_t k, int *x, int up)
{
	size_t i;

	if (up) {
		for (i = k; i-- > 0;) {
			if (digits[i] != '9') {
				digits[i]++;
				return;
			}
			digits[i] = '0';
		}
		/* 99..9 + 1 = 100..0 one decade up. */
		digits[0] = '1';
		(*x)++;
		return;
	}
	for (i = k; i-- > 0;) {
		if (digits[i] != '0') {
			digits[i]--;
			break;
		}
		digits[i] = '9';
	}
	if (digits[0] == '0') {
		/* 10..0 - 1 = 99..9 one decade down. */
		memset(digits, '9', k);
		(*x)--;
	}
}

/*
 * Shortest digits s (k of them) and exponent n with s * 10^(n-k) == d, as
 * ECMAScript Number::toString picks them, for finite d > 0. printf's %.*e is
 * correctly rounded in glibc, so the first precision that round-trips gives
 * the shortest length; its nearest candidate can miss where d is a power of
 * two (the gap below is half the gap above), so the other neighbour is tried
 * too before going longer.
 */
static void
es_digits(double d, char *digits, size_t *kout, int *nout)
{
	char t[NUMBUF];
	size_t k, i, j;
	int prec, x, nx;
	const char *ep;

	for (prec = 0; prec <= 16; prec++) {
		snprintf(t, sizeof(t), "%.*e", prec, d);
		ep = strchr(t, 'e');
		if (ep == NULL)
			break;
		/* Skip the decimal point, whatever the locale makes it. */
		for (i = 0, j = 0; t + i < ep && j < 17; i++)
			if (t[i] >= '0' && t[i] <= '9')
				digits[j++] = t[i];
		digits[j] = '\0';
		k = j;
		x = exp_parse(ep + 1) - (int)(k - 1); /* d ~ digits * 10^x */
		if (digits_value(digits, x) == d)
			goto found;
		if (prec == 16)
			break;
		nx = x;
		digits_step(digits, k, &nx, digits_value(digits, x) < d);
		if (digits_value(digits, nx) == d) {
			x = nx;
			goto found;
		}
	}
	/* Unreachable: 17 significant digits always round-trip a double. */
	snprintf(t, sizeof(t), "%.16e", d);
	ep = strchr(t, 'e');
	for (i = 0, j = 0; ep != NULL && t + i < ep && j < 17; i++)
		if (t[i] >= '0' && t[i] <= '9')
			digits[j++] = t[i];
	digits[j] = '\0';
	k = j;
	x = (ep != NULL ? exp_parse(ep + 1) : 0) - (int)(k - 1);
found:
	while (k > 1 && digits[k - 1] == '0') {
		digits[--k] = '\0';
		x++;
	}
	*kout = k;
	*nout = x + (int)k;
}

/* Lays out digits s[0..k) and exponent n per ECMAScript Number::toString (RFC 8785 s3.2.2.3). */
static void
es_layout(char *out, size_t outlen, int neg, const char *s, size_t k, int n)
{
	size_t o = 0, i;
	int ik = (int)k, z;

	/* Worst case "-0.00000" plus 17 digits, or "-d." 16 digits "e-324": NUMBUF holds it. */
	if (outlen < NUMBUF)
		return;
	if (neg)
		out[o++] = '-';
	if (ik <= n && n <= 21) {
		memcpy(out + o, s, k);
		o += k;
		for (z = 0; z < n - ik; z++)
			out[o++] = '0';
		out[o] = '\0';
	} else if (0 < n && n <= 21) {
		memcpy(out + o, s, (size_t)n);
		o += (size_t)n;
		out[o++] = '.';
		memcpy(out + o, s + n, k - (size_t)n);
		o += k - (size_t)n;
		out[o] = '\0';
	} else if (-6 < n && n <= 0) {
		out[o++] = '0';
		out[o++] = '.';
		for (z = 0; z < -n; z++)
			out[o++] = '0';
		memcpy(out + o, s, k);
		o += k;
		out[o] = '\0';
	} else {
		out[o++] = s[0];
		if (k > 1) {
			out[o++] = '.';
			for (i = 1; i < k; i++)
				out[o++] = s[i];
		}
		snprintf(out + o, outlen - o, "e%c%d", n - 1 >= 0 ? '+' : '-',
		    n - 1 >= 0 ? n - 1 : 1 - n);
	}
}

static enum sdpp_err
jcs_number(struct dbuf *b, double d, int intonly)
{
	char t[NUMBUF], digits[18];
	size_t k;
	int n;

	if (isnan(d) || isinf(d))
		return SDPP_E_BAD_NUMBER;
	if (intonly && (!(d >= -(double)SDPP_JSON_INT_MAX && d <= (double)SDPP_JSON_INT_MAX) ||
	                   d != (double)(long long)d))
		return SDPP_E_BAD_NUMBER;
	if (d == 0) /* also -0, which ECMAScript prints as "0" */
		return dbuf_add(b, "0", 1);
	if (d > -TWO53 && d < TWO53 && d == (double)(long long)d) {
		snprintf(t, sizeof(t), "%lld", (long long)d);
		return dbuf_str(b, t);
	}
	es_digits(d < 0 ? -d : d, digits, &k, &n);
	es_layout(t, sizeof(t), d < 0, digits, k, n);
	return dbuf_str(b, t);
}

/*
 * Orders member names by UTF-16 code units (RFC 8785 s3.2.3): the same as
 * UTF-8 byte order except that supplementary characters (surrogates
 * D800-DFFF) sort before U+E000-U+FFFF. Names were validated beforehand.
 */
static int
member_cmp(const void *a, const void *b)
{
	const struct member *ma = a, *mb = b;
	const unsigned char *x = (const unsigned char *)ma->item->string;
	const unsigned char *y = (const unsigned char *)mb->item->string;
	size_t nx = ma->namelen, ny = mb->namelen, i = 0, j = 0, kx, ky;
	uint32_t cx, cy, ux, uy;

	while (i < nx && j < ny) {
		kx = util_utf8_decode(x + i, nx - i, &cx);
		ky = util_utf8_decode(y + j, ny - j, &cy);
		if (kx == 0 || ky == 0) /* not reached: names are validated */
			return kx == 0 ? (ky == 0 ? 0 : -1) : 1;
		if (cx != cy) {
			/* First UTF-16 unit decides unless both are equal high surrogates. */
			ux = cx >= 0x10000 ? 0xd800 + ((cx - 0x10000) >> 10) : cx;
			uy = cy >= 0x10000 ? 0xd800 + ((cy - 0x10000) >> 10) : cy;
			if (ux == uy) {
				ux = 0xdc00 + ((cx - 0x10000) & 0x3ff);
				uy = 0xdc00 + ((cy - 0x10000) & 0x3ff);
			}
			return ux < uy ? -1 : 1;
		}
		i += kx;
		j += ky;
	}
	if (i < nx)
		return 1;
	return j < ny ? -1 : 0;
}

static enum sdpp_err jcs_value(struct dbuf *, const cJSON *, int, int);

static enum sdpp_err
jcs_object(struct dbuf *b, const cJSON *v, int depth, int intonly)
{
	struct member *m = NULL;
	const cJSON *c;
	enum sdpp_err e = SDPP_OK;
	size_t n = 0, i;

	for (c = v->child; c != NULL; c = c->next)
		n++;
	if (n > 0) {
		m = calloc(n, sizeof(*m));
		if (m == NULL) {
			e = SDPP_E_NOMEM;
			goto fail;
		}
	}
	for (i = 0, c = v->child; c != NULL; c = c->next, i++) {
		if (c->string == NULL) {
			e = SDPP_E_BAD_JSON;
			goto fail;
		}
		m[i].item = c;
		m[i].namelen = strlen(c->string);
		if (!util_utf8_valid(c->string, m[i].namelen)) {
			e = SDPP_E_BAD_JSON;
			goto fail;
		}
	}
	if (n > 1)
		qsort(m, n, sizeof(*m), member_cmp);
	/* A tree built in code can hold a name twice; its canonical form is undefined. */
	for (i = 1; i < n; i++) {
		if (member_cmp(&m[i - 1], &m[i]) == 0) {
			e = SDPP_E_BAD_JSON;
			goto fail;
		}
	}
	e = dbuf_add(b, "{", 1);
	for (i = 0; e == SDPP_OK && i < n; i++) {
		if (i > 0)
			e = dbuf_add(b, ",", 1);
		if (e == SDPP_OK)
			e = jcs_string(b, m[i].item->string, m[i].namelen);
		if (e == SDPP_OK)
			e = dbuf_add(b, ":", 1);
		if (e == SDPP_OK)
			e = jcs_value(b, m[i].item, depth + 1, intonly);
	}
	if (e == SDPP_OK)
		e = dbuf_add(b, "}", 1);
fail:
	free(m);
	return e;
}

/* depth counts the arrays and objects enclosing v. */
static enum sdpp_err
jcs_value(struct dbuf *b, const cJSON *v, int depth, int intonly)
{
	const cJSON *c;
	enum sdpp_err e;

	switch (v->type & 0xff) {
	case cJSON_False:
		return dbuf_add(b, "false", 5);
	case cJSON_True:
		return dbuf_add(b, "true", 4);
	case cJSON_NULL:
		return dbuf_add(b, "null", 4);
	case cJSON_Number:
		return jcs_number(b, v->valuedouble, intonly);
	case cJSON_String:
		if (v->valuestring == NULL)
			return SDPP_E_BAD_JSON;
		return jcs_string(b, v->valuestring, strlen(v->valuestring));
	case cJSON_Array:
		if (depth + 1 > SDPP_JSON_MAX_DEPTH)
			return SDPP_E_BAD_JSON;
		e = dbuf_add(b, "[", 1);
		for (c = v->child; e == SDPP_OK && c != NULL; c = c->next) {
			if (c != v->child)
				e = dbuf_add(b, ",", 1);
			if (e == SDPP_OK)
				e = jcs_value(b, c, depth + 1, intonly);
		}
		if (e == SDPP_OK)
			e = dbuf_add(b, "]", 1);
		return e;
	case cJSON_Object:
		if (depth + 1 > SDPP_JSON_MAX_DEPTH)
			return SDPP_E_BAD_JSON;
		return jcs_object(b, v, depth, intonly);
	default: /* cJSON_Raw has no canonical form; cJSON_Invalid is a broken tree */
		return SDPP_E_BAD_JSON;
	}
}

static enum sdpp_err
jcs_run(const cJSON *v, size_t cap, char **out, size_t *outlen, int intonly)
{
	struct dbuf b;
	enum sdpp_err e;

	if (out != NULL)
		*out = NULL;
	if (outlen != NULL)
		*outlen = 0;
	if (v == NULL || out == NULL || outlen == NULL)
		return SDPP_E_INVAL;
	memset(&b, 0, sizeof(b));
	/* Leave room for the NUL so cap + 1 never wraps. */
	b.cap = cap < SIZE_MAX ? cap : SIZE_MAX - 1;
	e = jcs_value(&b, v, 0, intonly);
	if (e == SDPP_OK && b.p == NULL)
		e = SDPP_E_FRAME_TOO_LARGE; /* not reached: every value is at least 1 byte */
	if (e != SDPP_OK)
		goto fail;
	*out = b.p;
	*outlen = b.len;
	return SDPP_OK;
fail:
	free(b.p);
	return e;
}

enum sdpp_err
sdpp_jcs_serialize(const cJSON *v, size_t cap, char **out, size_t *outlen)
{
	return jcs_run(v, cap, out, outlen, 0);
}

enum sdpp_err
sdpp_jcs_serialize_int(const cJSON *v, size_t cap, char **out, size_t *outlen)
{
	return jcs_run(v, cap, out, outlen, 1);
}
