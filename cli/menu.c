/* Showing a verified menu: the aligned table, the JSON document, the --filter match. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/menu.h"
#include "sdpp/enc.h"

/* Column caps of the table, in characters; longer cells end in "…". */
#define ID_COLUMNS 32
#define PRICE_COLUMNS 24
#define UNIT_COLUMNS 10
#define CLASS_COLUMNS 16
#define SELLS_COLUMNS 24
#define RATE_COLUMNS 26
#define SEEN_COLUMNS 12
#define ELLIPSIS "\xe2\x80\xa6" /* U+2026, one column */
#define LE "\xe2\x89\xa4"       /* U+2264 "≤" */

static int
fold(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* 1 if needle occurs in hay, ASCII letters without case ("" always does). */
static int
contains(const char *hay, const char *needle)
{
	size_t n = strlen(needle), i;

	for (; *hay != '\0'; hay++) {
		for (i = 0; i < n && hay[i] != '\0'; i++)
			if (fold((unsigned char)hay[i]) != fold((unsigned char)needle[i]))
				break;
		if (i == n)
			return 1;
	}
	return n == 0;
}

int
menu_product_matches(const struct sdpp_product *p, const char *filter)
{
	if (filter == NULL || filter[0] == '\0')
		return 1;
	return contains(p->id, filter) || contains(p->topic, filter) || contains(p->unit, filter) ||
	       contains(p->device_class, filter) || contains(p->description, filter);
}

/* An interval in the largest unit that divides it: 250ms, 60s, 2min, 1h. */
static void
format_interval(char *buf, size_t cap, uint64_t ms)
{
	uint64_t s = ms / 1000;

	if (ms % 1000 != 0)
		snprintf(buf, cap, "%" PRIu64 "ms", ms);
	else if (s % 3600 == 0)
		snprintf(buf, cap, "%" PRIu64 "h", s / 3600);
	else if (s % 60 == 0 && s > 60)
		snprintf(buf, cap, "%" PRIu64 "min", s / 60);
	else
		snprintf(buf, cap, "%" PRIu64 "s", s);
}

void
menu_rate_tier(char *buf, size_t cap, const struct sdpp_product *p)
{
	char every[32] = "";

	if (p->min_interval == 0 && !p->on_change) {
		snprintf(buf, cap, "every sample");
		return;
	}
	if (p->min_interval != 0) {
		char iv[24];

		format_interval(iv, sizeof(iv), p->min_interval);
		snprintf(every, sizeof(every), LE "1/%s", iv);
	}
	if (!p->on_change)
		snprintf(buf, cap, "%s", every);
	else
		snprintf(buf, cap, "%s%son change%s%s", every, every[0] ? ", " : "",
		    p->deadband[0] ? " >" : "", p->deadband);
}

/* How long ago: never, now, 42s ago, 5m ago, 3h ago, 12d ago. */
static void
format_age(char *buf, size_t cap, int64_t last_seen, uint64_t now)
{
	uint64_t s;

	if (last_seen <= 0) {
		snprintf(buf, cap, "never");
		return;
	}
	if ((uint64_t)last_seen >= now) {
		snprintf(buf, cap, "now");
		return;
	}
	s = (now - (uint64_t)last_seen) / 1000;
	if (s < 120)
		snprintf(buf, cap, "%" PRIu64 "s ago", s);
	else if (s < 2 * 3600)
		snprintf(buf, cap, "%" PRIu64 "m ago", s / 60);
	else if (s < 2 * 86400)
		snprintf(buf, cap, "%" PRIu64 "h ago", s / 3600);
	else
		snprintf(buf, cap, "%" PRIu64 "d ago", s / 86400);
}

/* Characters (code points) of UTF-8 text: what a terminal gives a column
 * each for the scripts menus use; wide CJK would take two and misalign. */
static size_t
columns(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

/* One line of the table being written: spaces are held back until more
 * text follows, so that no line ends in blanks. */
struct line {
	FILE *f;
	size_t pending;
};

static void
put_text(struct line *l, const char *s, size_t n)
{
	if (n == 0)
		return;
	for (; l->pending > 0; l->pending--)
		fputc(' ', l->f);
	fwrite(s, 1, n, l->f);
}

/* Where the character numbered k (from 0) of UTF-8 text s starts. */
static const char *
skip_columns(const char *s, size_t k)
{
	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80 && k-- == 0)
			break;
	return s;
}

/* How a cell too long for its column is cut. */
enum cut { CUT_END, CUT_MIDDLE };

/* Writes s in a cell of width columns and the gap after it: cut with a "…"
 * if longer, at the end or, for topics whose last levels tell devices
 * apart, in the middle; right-aligned for numbers (right). */
static void
cell(struct line *l, const char *s, size_t width, int right, enum cut how)
{
	size_t n = columns(s), tail;
	const char *e;

	if (n > width) {
		/* Whole characters only: width - 1 of them and the ellipsis. */
		tail = how == CUT_MIDDLE ? (width - 1) / 2 : 0;
		e = skip_columns(s, width - 1 - tail);
		put_text(l, s, (size_t)(e - s));
		put_text(l, ELLIPSIS, strlen(ELLIPSIS));
		if (tail > 0) {
			e = skip_columns(s, n - tail);
			put_text(l, e, strlen(e));
		}
	} else {
		if (right)
			l->pending += width - n;
		put_text(l, s, strlen(s));
		if (!right)
			l->pending += width - n;
	}
	l->pending += 2;
}

enum col { C_ID, C_PRICE, C_UNIT, C_CLASS, C_SELLS, C_RATE, C_SEEN, C_TOPIC, C__COUNT };

struct row {
	char text[C__COUNT][SDPP_TOPIC_MAX + 32];
};

static void
fill_row(
    struct row *r, const struct sdpp_menu *m, const struct sdpp_product *p, uint64_t now, int v2)
{
	char price[SDPP_MONEY_LEN];

	sdpp_money_format(price, p->price);
	snprintf(r->text[C_ID], sizeof(r->text[C_ID]), "%s", p->id);
	snprintf(r->text[C_PRICE], sizeof(r->text[C_PRICE]), "%s %s%s", price, m->currency,
	    p->prepay ? ", prepaid" : "");
	snprintf(r->text[C_UNIT], sizeof(r->text[C_UNIT]), "%s", p->unit[0] ? p->unit : "-");
	format_age(r->text[C_SEEN], sizeof(r->text[C_SEEN]), p->last_seen, now);
	if (!v2) {
		/* sdpp/1 menus say nothing of topics or tiers: the description
		 * takes the place of the topic, and the rest stays empty. */
		snprintf(r->text[C_TOPIC], sizeof(r->text[C_TOPIC]), "%s", p->description);
		return;
	}
	snprintf(r->text[C_CLASS], sizeof(r->text[C_CLASS]), "%s",
	    p->device_class[0] ? p->device_class : "-");
	snprintf(r->text[C_SELLS], sizeof(r->text[C_SELLS]), "%s",
	    p->field[0] ? p->field : "whole payload");
	menu_rate_tier(r->text[C_RATE], sizeof(r->text[C_RATE]), p);
	snprintf(r->text[C_TOPIC], sizeof(r->text[C_TOPIC]), "%s", p->topic);
}

void
menu_print_table(FILE *f, const struct sdpp_menu *m, const char *filter, uint64_t now)
{
	static const char *const heads[C__COUNT] = { "PRODUCT", "PRICE", "UNIT", "CLASS", "SELLS",
		"RATE", "LAST SEEN", "TOPIC" };
	static const size_t caps[C__COUNT] = { ID_COLUMNS, PRICE_COLUMNS, UNIT_COLUMNS,
		CLASS_COLUMNS, SELLS_COLUMNS, RATE_COLUMNS, SEEN_COLUMNS, MENU_TOPIC_COLUMNS };
	char hex[SDPP_HEX_LEN(SDPP_SIGN_PUBLIC_BYTES)];
	size_t width[C__COUNT], shown = 0, i, c;
	int v2 = strcmp(m->version, SDPP_VERSION) != 0;
	struct row *r = malloc(sizeof(*r));
	struct line l = { f, 0 };

	if (r == NULL) {
		fprintf(stderr, "sdpp menu: out of memory\n");
		return;
	}
	for (i = 0; i < m->nproducts; i++)
		shown += menu_product_matches(&m->products[i], filter);
	fprintf(f, "%s: %zu product%s", m->gateway, m->nproducts, m->nproducts == 1 ? "" : "s");
	if (filter != NULL && filter[0] != '\0')
		fprintf(f, ", %zu shown (filter \"%s\")", shown, filter);
	fputc('\n', f);
	sdpp_hex_encode(hex, m->seller, sizeof(m->seller));
	fprintf(f, "seller %s, %s\n", hex, m->version);
	fprintf(f, "prices in %s, invoice every %" PRIu64 " items, pay by %s%s%s\n", m->currency,
	    m->granularity, m->payment_method, m->payment_address[0] ? " to " : "",
	    m->payment_address);
	fprintf(f, "items %s signed; ACK every %" PRIu64 "; at most %" PRIu64 " unpaid items\n",
	    m->sign_items ? "are" : "are not", m->ack_every, m->max_unpaid);
	if (shown == 0) {
		free(r);
		return;
	}
	fputc('\n', f);
	/* Two passes: the widths of what is shown (each within its cap), then
	 * the lines. Rows are made again rather than kept: 4096 of them
	 * would be 35 MB of cells for a few microseconds saved. */
	for (c = 0; c < C__COUNT; c++)
		width[c] = columns(heads[c]);
	if (!v2)
		width[C_TOPIC] = columns("DESCRIPTION");
	for (i = 0; i < m->nproducts; i++) {
		if (!menu_product_matches(&m->products[i], filter))
			continue;
		memset(r, 0, sizeof(*r));
		fill_row(r, m, &m->products[i], now, v2);
		for (c = 0; c < C__COUNT; c++) {
			size_t n = columns(r->text[c]);

			if (n > width[c])
				width[c] = n < caps[c] ? n : caps[c];
		}
	}
	for (c = 0; c < C__COUNT; c++) {
		if (!v2 && (c == C_CLASS || c == C_SELLS || c == C_RATE))
			continue;
		cell(&l, !v2 && c == C_TOPIC ? "DESCRIPTION" : heads[c], width[c], c == C_PRICE,
		    CUT_END);
	}
	fputc('\n', f);
	for (i = 0; i < m->nproducts; i++) {
		if (!menu_product_matches(&m->products[i], filter))
			continue;
		memset(r, 0, sizeof(*r));
		fill_row(r, m, &m->products[i], now, v2);
		l.pending = 0;
		for (c = 0; c < C__COUNT; c++) {
			if (!v2 && (c == C_CLASS || c == C_SELLS || c == C_RATE))
				continue;
			cell(&l, r->text[c], width[c], c == C_PRICE,
			    v2 && c == C_TOPIC ? CUT_MIDDLE : CUT_END);
		}
		fputc('\n', f);
	}
	free(r);
}

/* A JSON string: the text with '"', '\\' and controls escaped. The codec
 * lets only printable UTF-8 into a menu; this holds for any bytes. */
static void
json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20 || ch == 0x7f)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

/* ,"name": then the string value. */
static void
json_member(FILE *f, const char *name, const char *value)
{
	fprintf(f, ",\"%s\":", name);
	json_string(f, value);
}

void
menu_print_json(FILE *f, const struct sdpp_menu *m, const char *filter)
{
	char hex[SDPP_HEX_LEN(SDPP_SIGN_PUBLIC_BYTES)];
	size_t i, shown = 0;

	sdpp_hex_encode(hex, m->seller, sizeof(m->seller));
	fputs("{\"gateway\":", f);
	json_string(f, m->gateway);
	json_member(f, "seller", hex);
	json_member(f, "currency", m->currency);
	json_member(f, "payment_method", m->payment_method);
	json_member(f, "payment_address", m->payment_address);
	fprintf(f,
	    ",\"payment_granularity\":%" PRIu64 ",\"ack_every\":%" PRIu64 ",\"max_unpaid\":%" PRIu64
	    ",\"sign_items\":%s",
	    m->granularity, m->ack_every, m->max_unpaid, m->sign_items ? "true" : "false");
	json_member(f, "version", m->version);
	fprintf(f, ",\"max_frame\":%" PRIu64 ",\"products_total\":%zu", m->max_frame, m->nproducts);
	if (filter != NULL && filter[0] != '\0')
		json_member(f, "filter", filter);
	fputs(",\"products\":[", f);
	for (i = 0; i < m->nproducts; i++) {
		const struct sdpp_product *p = &m->products[i];
		char price[SDPP_MONEY_LEN];

		if (!menu_product_matches(p, filter))
			continue;
		sdpp_money_format(price, p->price);
		fputs(shown++ ? ",{\"id\":" : "{\"id\":", f);
		json_string(f, p->id);
		json_member(f, "price", price);
		json_member(f, "unit", p->unit);
		json_member(f, "description", p->description);
		fprintf(f, ",\"last_seen\":%" PRId64 ",\"prepay\":%s", p->last_seen,
		    p->prepay ? "true" : "false");
		json_member(f, "topic", p->topic);
		json_member(f, "field", p->field);
		json_member(f, "device_class", p->device_class);
		fprintf(f, ",\"min_interval\":%" PRIu64 ",\"on_change\":%s", p->min_interval,
		    p->on_change ? "true" : "false");
		json_member(f, "deadband", p->deadband);
		fputc('}', f);
	}
	fputs("]}\n", f);
}
