/* Home Assistant value_template to JSON Pointer: recognises Jinja's plain field reads, no more. */
#include <stddef.h>
#include <string.h>

#include "mqtt/field.h"
#include "mqtt/hatemplate.h"
#include "util/text.h"

/* One template being read, and the pointer being written. */
struct tp {
	const char *s;
	size_t len;
	size_t pos;
	char *out;
	size_t cap;
	size_t olen;
	size_t ntok;
	const char *why; /* the reason for a refusal, at byte pos */
};

/*
 * Dotted names Jinja resolves to a Python attribute of a dict before it
 * looks for the member (its getattr tries the attribute first), so
 * value_json.items is a method, not the member "items". Only dicts matter:
 * on a list or a string the pointer finds nothing either.
 */
/* clang-format off */
static const char *const dict_attrs[] = {
	"clear", "copy", "fromkeys", "get", "items", "keys", "pop", "popitem", "setdefault",
	"update", "values",
};
/* clang-format on */

static int
refuse(struct tp *t, const char *why)
{
	t->why = why;
	return -1;
}

static int
is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int
is_ident_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int
is_ident(char c)
{
	return is_ident_start(c) || (c >= '0' && c <= '9');
}

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static void
skip_ws(struct tp *t)
{
	while (t->pos < t->len && is_ws(t->s[t->pos]))
		t->pos++;
}

/* 1 if the text at pos starts with lit. */
static int
at(const struct tp *t, const char *lit)
{
	size_t n = strlen(lit);

	return t->len - t->pos >= n && memcmp(t->s + t->pos, lit, n) == 0;
}

/* The identifier at pos (ASCII, as Jinja's own reads it), passed; its length. */
static size_t
read_ident(struct tp *t)
{
	size_t start = t->pos;

	while (t->pos < t->len && is_ident(t->s[t->pos]))
		t->pos++;
	return t->pos - start;
}

static int
word_is(const struct tp *t, size_t start, size_t n, const char *w)
{
	return n == strlen(w) && memcmp(t->s + start, w, n) == 0;
}

/* Appends "/" and the token, escaped (RFC 6901: "~" as ~0, "/" as ~1). */
static int
emit(struct tp *t, const char *name, size_t n)
{
	size_t need = 1;

	if (t->ntok == MQTT_FIELD_TOKENS_MAX)
		return refuse(t, "more fields deep than a pointer may go");
	for (size_t i = 0; i < n; i++)
		need += name[i] == '~' || name[i] == '/' ? 2 : 1;
	if (t->olen + need > MQTT_FIELD_POINTER_MAX)
		return refuse(t, "the pointer would be too long");
	if (t->olen + need >= t->cap)
		return refuse(t, "the pointer does not fit the caller's buffer");
	t->out[t->olen++] = '/';
	for (size_t i = 0; i < n; i++) {
		if (name[i] == '~' || name[i] == '/') {
			t->out[t->olen++] = '~';
			t->out[t->olen++] = name[i] == '~' ? '0' : '1';
		} else {
			t->out[t->olen++] = name[i];
		}
	}
	t->out[t->olen] = '\0';
	t->ntok++;
	return 0;
}

/* A decimal index at pos, as the pointer writes it: Jinja would also read
 * 007, 1_000 and 0x1f, which name the same element under another spelling. */
static int
read_index(struct tp *t)
{
	size_t start = t->pos;

	while (t->pos < t->len && is_digit(t->s[t->pos]))
		t->pos++;
	if (t->pos - start > 1 && t->s[start] == '0') {
		t->pos = start;
		return refuse(t, "an index with a leading zero");
	}
	if (t->pos < t->len && is_ident(t->s[t->pos]))
		return refuse(t, "not a plain decimal index");
	return emit(t, t->s + start, t->pos - start);
}

/* A dotted name at pos: .name or .0 */
static int
read_dotted(struct tp *t)
{
	size_t start = t->pos, n;

	if (t->pos < t->len && is_digit(t->s[t->pos]))
		return read_index(t);
	if (t->pos >= t->len || !is_ident_start(t->s[t->pos]))
		return refuse(t, "'.' is not followed by a name or an index");
	n = read_ident(t);
	if (t->pos < t->len && (unsigned char)t->s[t->pos] >= 0x80)
		return refuse(t, "a non-ASCII name after '.' (write ['name'])");
	if (n >= 2 && t->s[start] == '_' && t->s[start + 1] == '_') {
		t->pos = start;
		return refuse(t, "a name starting with __ reads a Python attribute");
	}
	for (size_t i = 0; i < sizeof(dict_attrs) / sizeof(dict_attrs[0]); i++) {
		if (word_is(t, start, n, dict_attrs[i])) {
			t->pos = start;
			return refuse(t, "this dotted name is a Python dict attribute in Jinja, "
			                 "not the member (write ['name'])");
		}
	}
	return emit(t, t->s + start, n);
}

/* A quoted name at pos: 'name' or "name", no escapes. */
static int
read_quoted(struct tp *t)
{
	char q = t->s[t->pos];
	size_t start = ++t->pos;

	for (; t->pos < t->len && t->s[t->pos] != q; t->pos++) {
		/* Jinja decodes Python escapes here; the plain names need none. */
		if (t->s[t->pos] == '\\')
			return refuse(t, "an escape in a quoted name");
		if ((unsigned char)t->s[t->pos] < 0x20 || t->s[t->pos] == 0x7f)
			return refuse(t, "a control byte in a quoted name");
	}
	if (t->pos >= t->len)
		return refuse(t, "an unterminated quoted name");
	t->pos++;
	return emit(t, t->s + start, t->pos - 1 - start);
}

/* A subscript at pos, after '[': ['name'], ["name"] or [0], then ']'. */
static int
read_bracket(struct tp *t)
{
	int rc;

	skip_ws(t);
	if (t->pos >= t->len)
		return refuse(t, "no closing ']'");
	if (t->s[t->pos] == '\'' || t->s[t->pos] == '"')
		rc = read_quoted(t);
	else if (is_digit(t->s[t->pos]))
		rc = read_index(t);
	else if (t->s[t->pos] == '-')
		rc = refuse(t, "a negative index (from the end) has no pointer");
	else
		rc = refuse(t, "'[' is not followed by a quoted name or an index");
	if (rc != 0)
		return rc;
	skip_ws(t);
	if (t->pos >= t->len || t->s[t->pos] != ']')
		return refuse(t, "'[...]' holds more than one quoted name or index");
	t->pos++;
	return 0;
}

/* Why the expression does not end at pos: the common shapes named. */
static int
refuse_tail(struct tp *t)
{
	size_t start = t->pos, n;
	char c;

	if (t->pos >= t->len)
		return refuse(t, "no closing '}}'");
	c = t->s[t->pos];
	if (c == '|')
		return refuse(t, "a filter ('|')");
	if (strchr("+-*/%~", c) != NULL)
		return refuse(t, "arithmetic or concatenation");
	if (strchr("=!<>", c) != NULL)
		return refuse(t, "a comparison");
	if (c == '(')
		return refuse(t, "a call");
	if (c == ',')
		return refuse(t, "a tuple");
	if (!is_ident_start(c))
		return refuse(t, "unexpected text");
	n = read_ident(t);
	t->pos = start;
	if (word_is(t, start, n, "if") || word_is(t, start, n, "else"))
		return refuse(t, "a conditional (if/else)");
	if (word_is(t, start, n, "is"))
		return refuse(t, "a test ('is ...')");
	if (word_is(t, start, n, "and") || word_is(t, start, n, "or") ||
	    word_is(t, start, n, "not") || word_is(t, start, n, "in"))
		return refuse(t, "logic (and, or, not, in)");
	return refuse(t, "unexpected text");
}

/* The whole template: {{ expression }} and nothing else but whitespace. */
static int
read_template(struct tp *t)
{
	size_t start, n;

	skip_ws(t);
	if (t->pos == t->len)
		return refuse(t, "no {{ expression }}");
	if (at(t, "{%"))
		return refuse(t, "a statement ({% %}), not a field read");
	if (at(t, "{#"))
		return refuse(t, "a comment ({# #}), not a field read");
	if (!at(t, "{{"))
		return refuse(t, "text outside the braces");
	t->pos += 2;
	if (at(t, "-"))
		t->pos++; /* {{- strips whitespace before, which Home Assistant strips anyway */
	skip_ws(t);
	start = t->pos;
	n = read_ident(t);
	if (word_is(t, start, n, "value")) {
		skip_ws(t);
		if (at(t, ".") || at(t, "["))
			return refuse(
			    t, "'value' is the payload as text: only value_json has fields");
	} else if (word_is(t, start, n, "value_json")) {
		for (;;) {
			int rc = 0;

			skip_ws(t);
			if (at(t, ".")) {
				t->pos++;
				skip_ws(t);
				rc = read_dotted(t);
			} else if (at(t, "[")) {
				t->pos++;
				rc = read_bracket(t);
			} else {
				break;
			}
			if (rc != 0)
				return rc;
		}
		if (t->ntok == 0) {
			t->pos = start;
			return refuse(t, "'value_json' alone renders the parsed payload as Python, "
			                 "not the payload");
		}
	} else {
		t->pos = start;
		return refuse(t, "reads something other than value_json or value");
	}
	skip_ws(t);
	if (at(t, "-}}"))
		t->pos += 3;
	else if (at(t, "}}"))
		t->pos += 2;
	else
		return refuse_tail(t);
	skip_ws(t);
	if (t->pos == t->len)
		return 0;
	if (at(t, "{{"))
		return refuse(t, "several expressions");
	if (at(t, "{%"))
		return refuse(t, "a statement ({% %}), not a field read");
	return refuse(t, "text outside the braces");
}

int
mqtt_hatemplate_to_pointer(const char *tmpl, char *pointer, size_t cap, char *err, size_t errlen)
{
	char q[4 * MQTT_FIELD_QUOTE_MAX + 4];
	struct tp t;
	size_t len;

	if (cap > 0)
		pointer[0] = '\0';
	if (tmpl == NULL)
		return util_errf(err, errlen, "no template");
	len = strnlen(tmpl, MQTT_HATEMPLATE_MAX + 1);
	mqtt_field_quote(q, sizeof(q), tmpl, len);
	if (len > MQTT_HATEMPLATE_MAX)
		return util_errf(err, errlen, "`%s': longer than %d bytes", q, MQTT_HATEMPLATE_MAX);
	if (!util_utf8_valid(tmpl, len))
		return util_errf(err, errlen, "`%s': not valid UTF-8", q);
	if (cap == 0)
		return util_errf(err, errlen, "`%s': no room for the pointer", q);
	memset(&t, 0, sizeof(t));
	t.s = tmpl;
	t.len = len;
	t.out = pointer;
	t.cap = cap;
	if (read_template(&t) != 0)
		goto fail;
	return 0;

fail:
	pointer[0] = '\0';
	return util_errf(err, errlen, "`%s': %s at byte %zu", q, t.why, t.pos);
}
