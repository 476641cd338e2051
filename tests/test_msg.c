/* Tables for the SDPP/1 codec: round trips, bad frames, items, receipt chain, order id, errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sdpp/crypto.h"
#include "sdpp/enc.h"
#include "sdpp/framer.h"
#include "sdpp/json.h"
#include "sdpp/msg.h"
#include "tests/common/spec_identity.h"
#include "tests/common/testutil.h"

#define BUY SDPP_ROLE_BUYER
#define SEL SDPP_ROLE_SELLER
#define INT_MAX53 ((uint64_t)SDPP_JSON_INT_MAX) /* 9007199254740991 */

/* Two identities: [0] signs, [1] is "someone else". */
struct keys {
	struct sdpp_identity *id[2];
	struct sdpp_verifier *ver[2];
	uint8_t pub[2][SDPP_SIGN_PUBLIC_BYTES];
};

static int
keys_setup(void **state)
{
	struct keys *k = calloc(1, sizeof(*k));
	int i;

	if (k == NULL)
		return -1;
	for (i = 0; i < 2; i++) {
		if (sdpp_identity_generate(&k->id[i]) != SDPP_OK)
			return -1;
		sdpp_identity_sign_public(k->id[i], k->pub[i]);
		if (sdpp_verifier_new(&k->ver[i], k->pub[i]) != SDPP_OK)
			return -1;
	}
	*state = k;
	return 0;
}

static int
keys_teardown(void **state)
{
	struct keys *k = *state;
	int i;

	for (i = 0; i < 2; i++) {
		sdpp_verifier_free(k->ver[i]);
		sdpp_identity_free(k->id[i]);
	}
	free(k);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Round trips                                                         */

/* Exactly n bytes of text: whole copies of unit (UTF-8 stays valid), then '.'. */
static void
fill_text(char *dst, size_t n, const char *unit)
{
	size_t u = strlen(unit), off = 0;

	while (off + u <= n) {
		memcpy(dst + off, unit, u);
		off += u;
	}
	memset(dst + off, '.', n - off);
	dst[n] = '\0';
}

static void
fill_bytes(uint8_t *dst, size_t n, uint8_t start, uint8_t step)
{
	size_t i;

	for (i = 0; i < n; i++)
		dst[i] = (uint8_t)(start + i * step);
}

/* Storage the sample messages point into. */
struct store {
	struct sdpp_product products[SDPP_PRODUCTS_MAX_V1];
	char topic[SDPP_TOPIC_MAX + 1]; /* an order's */
	uint8_t ct[1000];
};

/* Product i of a menu: variant 0 has the longest fields and largest values. */
static void
fill_product(struct sdpp_product *p, size_t i)
{
	memset(p, 0, sizeof(*p));
	switch (i) {
	case 0:
		fill_text(p->id, SDPP_NAME_MAX, "Az09._-");
		p->price = UINT64_MAX;
		fill_text(p->unit, SDPP_UNIT_MAX, "m\xc2\xb3/h ");
		fill_text(p->description, SDPP_TEXT_MAX, "CO₂ — 2nd floor; ");
		p->last_seen = (int64_t)INT_MAX53;
		p->prepay = 1;
		break;
	case 1:
		snprintf(p->id, sizeof(p->id), "temp");
		break;
	case 2:
		snprintf(p->id, sizeof(p->id), "a");
		p->price = 1;
		snprintf(p->unit, sizeof(p->unit), "°C");
		snprintf(p->description, sizeof(p->description), "温度 🌡 CO₂ — 2nd floor");
		p->last_seen = 1700000000000;
		break;
	default:
		snprintf(p->id, sizeof(p->id), "p%03zu", i);
		p->price = i * 1000;
		snprintf(p->unit, sizeof(p->unit), "u%zu", i);
		p->last_seen = (int64_t)i;
		p->prepay = (int)(i & 1);
	}
}

/* The sdpp/2 members of product i: 0 the longest and largest, 1 the least. */
static void
fill_product_v2(struct sdpp_product *p, size_t i)
{
	switch (i) {
	case 0:
		fill_text(p->topic, SDPP_TOPIC_MAX, "ab/+/");   /* ends in "ab/+/...." */
		fill_text(p->field, SDPP_FIELD_MAX, "/a~0b~1"); /* ends in "~1...." */
		fill_text(p->device_class, SDPP_DEVICE_CLASS_MAX, "temperature_");
		p->min_interval = INT_MAX53;
		p->on_change = 1;
		snprintf(p->deadband, sizeof(p->deadband), "123456789012345678901.1234567890");
		break;
	case 1:
		snprintf(p->topic, sizeof(p->topic), "#");
		break;
	default:
		snprintf(p->topic, sizeof(p->topic), "building/7/+/p%zu/#", i);
		snprintf(p->field, sizeof(p->field), "/temperature");
		snprintf(p->device_class, sizeof(p->device_class), "temperature");
		p->min_interval = 60000;
		p->on_change = 1;
		snprintf(p->deadband, sizeof(p->deadband), "0.2");
	}
}

/*
 * Fills m with a representative message. Variant 0: longest strings and
 * largest numbers; 1: zeros, empty strings and smallest legal values;
 * 2 (menu only): SDPP_PRODUCTS_MAX_V1 products. sdpp/2 (menu, order and
 * hello): 3 is variant 0 in sdpp/2, 4 variant 1 in sdpp/2.
 */
static void
fill_sample(
    struct sdpp_msg *m, struct store *st, enum sdpp_type t, enum sdpp_role from, int variant)
{
	int big = variant != 1 && variant != 4, v2 = variant >= 3;
	size_t i;

	memset(m, 0, sizeof(*m));
	m->type = t;
	m->from = from;
	if (big)
		fill_text(m->verification, SDPP_VERIFICATION_MAX, "voucher CO₂ — 2nd floor ");
	switch (t) {
	case SDPP_T_HELLO:
		snprintf(m->u.hello.version, sizeof(m->u.hello.version), "%s",
		    v2 ? SDPP_VERSION_2 : SDPP_VERSION);
		break;
	case SDPP_T_MENU: {
		struct sdpp_menu *x = &m->u.menu;

		snprintf(x->version, sizeof(x->version), "%s", v2 ? SDPP_VERSION_2 : SDPP_VERSION);
		fill_bytes(x->seller, sizeof(x->seller), big ? 0xff : 0, big ? 0xff : 0);
		fill_text(x->gateway, big ? SDPP_NAME_MAX : 1, "gw-1.");
		fill_text(x->currency, big ? SDPP_CURRENCY_MAX : 1, "EUR");
		fill_text(x->payment_method, big ? SDPP_METHOD_MAX : 4, big ? "voucher" : "iota");
		fill_text(x->payment_address, big ? SDPP_ADDRESS_MAX : 0, "iota1qr😀 ");
		x->granularity = big ? INT_MAX53 : 1;
		x->ack_every = big ? INT_MAX53 : 1;
		x->max_unpaid = big ? INT_MAX53 : 0;
		x->sign_items = big;
		x->max_frame = big ? SDPP_FRAME_CAP_MAX : SDPP_FRAME_CAP_HANDSHAKE;
		x->nproducts = variant == 1 ? 0 : variant == 2 ? SDPP_PRODUCTS_MAX_V1 : 3;
		x->products = st->products;
		for (i = 0; i < x->nproducts; i++) {
			fill_product(&x->products[i], i);
			if (v2)
				fill_product_v2(&x->products[i], variant == 4 ? 1 : i);
		}
		break;
	}
	case SDPP_T_ORDER: {
		struct sdpp_order *o = &m->u.order;

		fill_text(o->product, big ? SDPP_NAME_MAX : 1, "Az09._-");
		o->quantity = big ? INT_MAX53 : 0;
		o->price = big ? UINT64_MAX : 0;
		fill_text(o->currency, big ? SDPP_CURRENCY_MAX : 1, "EUR");
		fill_text(o->payment_address, big ? SDPP_ADDRESS_MAX : 0, "CO₂ — 2nd floor ");
		fill_bytes(o->buyer, sizeof(o->buyer), big ? 0xff : 0, 0);
		fill_bytes(o->enc_key, sizeof(o->enc_key), 1, 7);
		fill_bytes(o->nonce, sizeof(o->nonce), 0x80, 1);
		o->time = big ? (int64_t)INT_MAX53 : 0;
		o->version = v2 ? 2 : 1;
		if (v2 && big) {
			fill_text(st->topic, SDPP_TOPIC_MAX - 2, "a/+/"); /* ends in "a/+/.." */
			memcpy(st->topic + SDPP_TOPIC_MAX - 2, "/#", 3);
			o->topic = st->topic;
		}
		break;
	}
	case SDPP_T_SESSION_KEY: {
		struct sdpp_session_key *k = &m->u.session_key;

		fill_bytes(k->order_id, sizeof(k->order_id), big ? 0xff : 0, big ? 0xff : 0);
		fill_bytes(k->sealed, sizeof(k->sealed), big ? 0 : 0xff, big ? 3 : 0);
		fill_bytes(k->nonce_prefix, sizeof(k->nonce_prefix), big ? 0xfe : 0, 0);
		break;
	}
	case SDPP_T_DATA: {
		struct sdpp_data *d = &m->u.data;

		fill_bytes(d->order_id, sizeof(d->order_id), 0x10, 1);
		d->seq = big ? INT_MAX53 : 1;
		d->ciphertext_len = big ? sizeof(st->ct) : SDPP_AEAD_TAG_BYTES;
		fill_bytes(st->ct, sizeof(st->ct), big ? 0 : 0xff, big ? 0x55 : 0);
		d->ciphertext = st->ct;
		break;
	}
	case SDPP_T_DATA_INVOICE: {
		struct sdpp_invoice *v = &m->u.invoice;

		fill_bytes(v->order_id, sizeof(v->order_id), 0x20, 3);
		v->number = big ? INT_MAX53 : 1;
		v->first_seq = 1;
		v->last_seq = big ? INT_MAX53 : 1;
		v->unit_price = big ? UINT64_MAX : 0;
		v->amount = big ? UINT64_MAX : 0;
		v->total_due = big ? UINT64_MAX : 0;
		fill_text(v->currency, big ? SDPP_CURRENCY_MAX : 1, "EUR");
		fill_text(v->payment_address, big ? SDPP_ADDRESS_MAX : 0, "addr/CO₂ ");
		v->delivered = big ? INT_MAX53 : 0;
		fill_bytes(v->digest, sizeof(v->digest), 0xd0, 1);
		break;
	}
	case SDPP_T_ACK:
		fill_bytes(m->u.ack.order_id, SDPP_ORDER_ID_BYTES, 0x30, 1);
		m->u.ack.seq = big ? INT_MAX53 : 1;
		fill_bytes(m->u.ack.digest, SDPP_DIGEST_BYTES, big ? 0xff : 0, 0);
		break;
	case SDPP_T_PAYMENT_ACK:
		fill_bytes(m->u.payment.order_id, SDPP_ORDER_ID_BYTES, 0x40, 1);
		m->u.payment.invoice = big ? INT_MAX53 : 1;
		m->u.payment.total = big ? UINT64_MAX : 0;
		break;
	case SDPP_T_EXIT:
		if (from == BUY) {
			struct sdpp_exit *x = &m->u.exit;

			fill_bytes(x->order_id, sizeof(x->order_id), 0x50, 1);
			x->seq = big ? INT_MAX53 : 0;
			fill_bytes(x->digest, sizeof(x->digest), 0x60, 5);
			x->total = big ? UINT64_MAX : 0;
		} else {
			struct sdpp_statement *s = &m->u.statement;

			fill_bytes(s->order_id, sizeof(s->order_id), 0x70, 1);
			s->delivered = big ? INT_MAX53 : 0;
			s->acked = big ? INT_MAX53 - 1 : 0;
			s->total_due = big ? UINT64_MAX : 0;
			s->total_paid = big ? UINT64_MAX : 0;
			s->settled = big;
			s->version = v2 ? 2 : 1;
			if (v2) {
				s->tree_head.size = big ? INT_MAX53 : 1;
				fill_bytes(s->tree_head.root, sizeof(s->tree_head.root),
				    big ? 0xff : 0, big ? 0xff : 0);
				s->tree_head.time = big ? (int64_t)INT_MAX53 : 0;
				fill_bytes(s->tree_head.signature, sizeof(s->tree_head.signature),
				    big ? 0x80 : 0, 1);
			}
		}
		break;
	case SDPP_T_ERROR:
		fill_text(m->u.error.code, big ? SDPP_NAME_MAX : 8, big ? "bad_json." : "bad_json");
		fill_text(m->u.error.message, big ? SDPP_TEXT_MAX : 0, "CO₂ — 2nd floor: ");
		break;
	case SDPP_T_RESUME: {
		struct sdpp_resume *x = &m->u.resume;

		fill_bytes(x->order_id, sizeof(x->order_id), big ? 0xff : 0, big ? 0xff : 0);
		x->seq = big ? INT_MAX53 : 0;
		fill_bytes(x->digest, sizeof(x->digest), 0x90, 3);
		x->invoice = big ? INT_MAX53 : 0;
		x->attempt = big ? INT_MAX53 : 1;
		break;
	}
	case SDPP_T_RESUMED: {
		struct sdpp_resumed *x = &m->u.resumed;

		fill_bytes(x->order_id, sizeof(x->order_id), 0xa0, 1);
		x->seq = big ? INT_MAX53 : 0;
		x->sent = big ? INT_MAX53 : 0;
		x->invoice = big ? INT_MAX53 : 0;
		x->paid = big ? UINT64_MAX : 0;
		x->dropped = big ? INT_MAX53 : 0;
		break;
	}
	default:
		fail_msg("no sample for type %d", t);
	}
}

/* Compares every field of the union member that matches the type. */
static void
assert_msg_equal(const struct sdpp_msg *a, const struct sdpp_msg *b)
{
	size_t i;

	assert_int_equal(a->type, b->type);
	assert_int_equal(a->from, b->from);
	assert_string_equal(a->verification, b->verification);
	switch (a->type) {
	case SDPP_T_HELLO:
		assert_string_equal(a->u.hello.version, b->u.hello.version);
		break;
	case SDPP_T_MENU: {
		const struct sdpp_menu *x = &a->u.menu, *y = &b->u.menu;

		assert_string_equal(x->version, y->version);
		assert_memory_equal(x->seller, y->seller, sizeof(x->seller));
		assert_string_equal(x->gateway, y->gateway);
		assert_string_equal(x->currency, y->currency);
		assert_string_equal(x->payment_method, y->payment_method);
		assert_string_equal(x->payment_address, y->payment_address);
		assert_int_equal(x->granularity, y->granularity);
		assert_int_equal(x->ack_every, y->ack_every);
		assert_int_equal(x->max_unpaid, y->max_unpaid);
		assert_int_equal(x->sign_items, y->sign_items);
		assert_int_equal(x->max_frame, y->max_frame);
		assert_int_equal(x->nproducts, y->nproducts);
		for (i = 0; i < x->nproducts; i++) {
			const struct sdpp_product *p = &x->products[i], *q = &y->products[i];

			assert_string_equal(p->id, q->id);
			assert_int_equal(p->price, q->price);
			assert_string_equal(p->unit, q->unit);
			assert_string_equal(p->description, q->description);
			assert_int_equal(p->last_seen, q->last_seen);
			assert_int_equal(p->prepay, q->prepay);
			if (strcmp(x->version, SDPP_VERSION_2) != 0)
				continue;
			assert_string_equal(p->topic, q->topic);
			assert_string_equal(p->field, q->field);
			assert_string_equal(p->device_class, q->device_class);
			assert_int_equal(p->min_interval, q->min_interval);
			assert_int_equal(p->on_change, q->on_change);
			assert_string_equal(p->deadband, q->deadband);
		}
		break;
	}
	case SDPP_T_ORDER: {
		const struct sdpp_order *x = &a->u.order, *y = &b->u.order;

		assert_string_equal(x->product, y->product);
		assert_int_equal(x->quantity, y->quantity);
		assert_int_equal(x->price, y->price);
		assert_string_equal(x->currency, y->currency);
		assert_string_equal(x->payment_address, y->payment_address);
		assert_memory_equal(x->buyer, y->buyer, sizeof(x->buyer));
		assert_memory_equal(x->enc_key, y->enc_key, sizeof(x->enc_key));
		assert_memory_equal(x->nonce, y->nonce, sizeof(x->nonce));
		assert_int_equal(x->time, y->time);
		assert_int_equal(x->version == 0 ? 1 : x->version, y->version);
		/* NULL (an sdpp/1 order, or none set) encodes and reads as "". */
		assert_string_equal(
		    x->topic != NULL ? x->topic : "", y->topic != NULL ? y->topic : "");
		break;
	}
	case SDPP_T_SESSION_KEY: {
		const struct sdpp_session_key *x = &a->u.session_key, *y = &b->u.session_key;

		assert_memory_equal(x->order_id, y->order_id, sizeof(x->order_id));
		assert_memory_equal(x->sealed, y->sealed, sizeof(x->sealed));
		assert_memory_equal(x->nonce_prefix, y->nonce_prefix, sizeof(x->nonce_prefix));
		break;
	}
	case SDPP_T_DATA: {
		const struct sdpp_data *x = &a->u.data, *y = &b->u.data;

		assert_memory_equal(x->order_id, y->order_id, sizeof(x->order_id));
		assert_int_equal(x->seq, y->seq);
		assert_int_equal(x->ciphertext_len, y->ciphertext_len);
		assert_memory_equal(x->ciphertext, y->ciphertext, x->ciphertext_len);
		break;
	}
	case SDPP_T_DATA_INVOICE: {
		const struct sdpp_invoice *x = &a->u.invoice, *y = &b->u.invoice;

		assert_memory_equal(x->order_id, y->order_id, sizeof(x->order_id));
		assert_int_equal(x->number, y->number);
		assert_int_equal(x->first_seq, y->first_seq);
		assert_int_equal(x->last_seq, y->last_seq);
		assert_int_equal(x->unit_price, y->unit_price);
		assert_int_equal(x->amount, y->amount);
		assert_int_equal(x->total_due, y->total_due);
		assert_string_equal(x->currency, y->currency);
		assert_string_equal(x->payment_address, y->payment_address);
		assert_int_equal(x->delivered, y->delivered);
		assert_memory_equal(x->digest, y->digest, sizeof(x->digest));
		break;
	}
	case SDPP_T_ACK:
		assert_memory_equal(a->u.ack.order_id, b->u.ack.order_id, SDPP_ORDER_ID_BYTES);
		assert_int_equal(a->u.ack.seq, b->u.ack.seq);
		assert_memory_equal(a->u.ack.digest, b->u.ack.digest, SDPP_DIGEST_BYTES);
		break;
	case SDPP_T_PAYMENT_ACK:
		assert_memory_equal(
		    a->u.payment.order_id, b->u.payment.order_id, SDPP_ORDER_ID_BYTES);
		assert_int_equal(a->u.payment.invoice, b->u.payment.invoice);
		assert_int_equal(a->u.payment.total, b->u.payment.total);
		break;
	case SDPP_T_EXIT:
		if (a->from == BUY) {
			const struct sdpp_exit *x = &a->u.exit, *y = &b->u.exit;

			assert_memory_equal(x->order_id, y->order_id, sizeof(x->order_id));
			assert_int_equal(x->seq, y->seq);
			assert_memory_equal(x->digest, y->digest, sizeof(x->digest));
			assert_int_equal(x->total, y->total);
		} else {
			const struct sdpp_statement *x = &a->u.statement, *y = &b->u.statement;

			assert_memory_equal(x->order_id, y->order_id, sizeof(x->order_id));
			assert_int_equal(x->delivered, y->delivered);
			assert_int_equal(x->acked, y->acked);
			assert_int_equal(x->total_due, y->total_due);
			assert_int_equal(x->total_paid, y->total_paid);
			assert_int_equal(x->settled, y->settled);
			assert_int_equal(x->version, y->version);
			if (x->version == 2) {
				assert_int_equal(x->tree_head.size, y->tree_head.size);
				assert_memory_equal(x->tree_head.root, y->tree_head.root,
				    sizeof(x->tree_head.root));
				assert_int_equal(x->tree_head.time, y->tree_head.time);
				assert_memory_equal(x->tree_head.signature, y->tree_head.signature,
				    SDPP_SIGN_BYTES);
			}
		}
		break;
	case SDPP_T_ERROR:
		assert_string_equal(a->u.error.code, b->u.error.code);
		assert_string_equal(a->u.error.message, b->u.error.message);
		break;
	case SDPP_T_RESUME: {
		const struct sdpp_resume *x = &a->u.resume, *y = &b->u.resume;

		assert_memory_equal(x->order_id, y->order_id, sizeof(x->order_id));
		assert_int_equal(x->seq, y->seq);
		assert_memory_equal(x->digest, y->digest, sizeof(x->digest));
		assert_int_equal(x->invoice, y->invoice);
		assert_int_equal(x->attempt, y->attempt);
		break;
	}
	case SDPP_T_RESUMED: {
		const struct sdpp_resumed *x = &a->u.resumed, *y = &b->u.resumed;

		assert_memory_equal(x->order_id, y->order_id, sizeof(x->order_id));
		assert_int_equal(x->seq, y->seq);
		assert_int_equal(x->sent, y->sent);
		assert_int_equal(x->invoice, y->invoice);
		assert_int_equal(x->paid, y->paid);
		assert_int_equal(x->dropped, y->dropped);
		break;
	}
	default:
		fail_msg("unexpected type %d", a->type);
	}
}

/* A frame is JCS plus exactly one '\n', at the end. */
static void
assert_one_line(const char *frame, size_t len)
{
	assert_true(len >= 3);
	assert_int_equal(frame[len - 1], '\n');
	assert_null(memchr(frame, '\n', len - 1));
	assert_int_equal(frame[0], '{');
	assert_int_equal(frame[len - 2], '}');
}

static void
test_roundtrip(void **state)
{
	static const struct {
		const char *name;
		enum sdpp_type type;
		enum sdpp_role from;
		int variant;
	} v[] = {
		{ "hello", SDPP_T_HELLO, BUY, 0 },
		{ "hello min", SDPP_T_HELLO, BUY, 1 },
		{ "menu", SDPP_T_MENU, SEL, 0 },
		{ "menu min", SDPP_T_MENU, SEL, 1 },
		{ "menu 256 products", SDPP_T_MENU, SEL, 2 },
		{ "hello sdpp/2", SDPP_T_HELLO, BUY, 3 },
		{ "menu sdpp/2", SDPP_T_MENU, SEL, 3 },
		{ "menu sdpp/2 min", SDPP_T_MENU, SEL, 4 },
		{ "order", SDPP_T_ORDER, BUY, 0 },
		{ "order min", SDPP_T_ORDER, BUY, 1 },
		{ "order sdpp/2", SDPP_T_ORDER, BUY, 3 },
		{ "order sdpp/2 whole product", SDPP_T_ORDER, BUY, 4 },
		{ "session_key", SDPP_T_SESSION_KEY, SEL, 0 },
		{ "session_key min", SDPP_T_SESSION_KEY, SEL, 1 },
		{ "data", SDPP_T_DATA, SEL, 0 },
		{ "data min", SDPP_T_DATA, SEL, 1 },
		{ "data_invoice", SDPP_T_DATA_INVOICE, SEL, 0 },
		{ "data_invoice min", SDPP_T_DATA_INVOICE, SEL, 1 },
		{ "ack", SDPP_T_ACK, BUY, 0 },
		{ "ack min", SDPP_T_ACK, BUY, 1 },
		{ "payment_ack", SDPP_T_PAYMENT_ACK, BUY, 0 },
		{ "payment_ack min", SDPP_T_PAYMENT_ACK, BUY, 1 },
		{ "exit (buyer)", SDPP_T_EXIT, BUY, 0 },
		{ "exit (buyer) min", SDPP_T_EXIT, BUY, 1 },
		{ "exit (seller statement)", SDPP_T_EXIT, SEL, 0 },
		{ "exit (seller statement) min", SDPP_T_EXIT, SEL, 1 },
		{ "exit (seller statement) sdpp/2", SDPP_T_EXIT, SEL, 3 },
		{ "exit (seller statement) sdpp/2 min", SDPP_T_EXIT, SEL, 4 },
		{ "error from buyer", SDPP_T_ERROR, BUY, 0 },
		{ "error from seller", SDPP_T_ERROR, SEL, 0 },
		{ "error min", SDPP_T_ERROR, SEL, 1 },
		{ "resume", SDPP_T_RESUME, BUY, 0 },
		{ "resume min", SDPP_T_RESUME, BUY, 1 },
		{ "resumed", SDPP_T_RESUMED, SEL, 0 },
		{ "resumed min", SDPP_T_RESUMED, SEL, 1 },
	};
	struct keys *k = *state;
	struct store *st;
	size_t i;
	int s;

	st = malloc(sizeof(*st));
	assert_non_null(st);
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		for (s = 0; s < 2; s++) {
			const struct sdpp_identity *signer = s ? k->id[0] : NULL;
			struct sdpp_msg m, p;
			char *out = NULL, *out2 = NULL, err[256];
			size_t len = 0, len2 = 0;
			enum sdpp_err e;

			fill_sample(&m, st, v[i].type, v[i].from, v[i].variant);
			assert_int_equal(sdpp_msg_encode(&m, signer, &out, &len), SDPP_OK);
			assert_one_line(out, len);
			/* The reference encoder writes the same bytes. */
			assert_int_equal(
			    sdpp_msg_encode_generic(&m, signer, &out2, &len2), SDPP_OK);
			assert_int_equal(len2, len);
			assert_memory_equal(out2, out, len);
			free(out2);
			out2 = NULL;
			e = sdpp_msg_parse(&p, out, len - 1, v[i].from, err, sizeof(err));
			if (e != SDPP_OK)
				fail_msg("%s (%s): parse %d: %s", v[i].name,
				    s ? "signed" : "unsigned", e, err);
			assert_msg_equal(&m, &p);
			assert_int_equal(p.signed_, s);
			/* The signature input is kept for signed messages only. */
			if (s) {
				assert_non_null(p.signed_bytes);
				assert_true(p.signed_len > SDPP_SIG_CONTEXT_LEN);
				assert_memory_equal(
				    p.signed_bytes, "sdpp/1\0", SDPP_SIG_CONTEXT_LEN);
			} else {
				assert_null(p.signed_bytes);
			}
			/* Signed by id[0]: only id[0]'s verifier accepts it. */
			assert_int_equal(
			    sdpp_msg_verify(&p, k->ver[0]), s ? SDPP_OK : SDPP_E_SIGNATURE);
			assert_int_equal(sdpp_msg_verify(&p, k->ver[1]), SDPP_E_SIGNATURE);
			/* Canonical: the parsed message encodes to the same bytes. */
			assert_int_equal(sdpp_msg_encode(&p, signer, &out2, &len2), SDPP_OK);
			assert_int_equal(len2, len);
			assert_memory_equal(out2, out, len);
			/* The trailing '\n' is whitespace after the value: also accepted. */
			sdpp_msg_free(&p);
			assert_int_equal(sdpp_msg_parse(&p, out, len, v[i].from, NULL, 0), SDPP_OK);
			sdpp_msg_free(&p);
			sdpp_msg_free(&p); /* idempotent */
			free(out);
			free(out2);
		}
	}
	free(st);
}

/*
 * A data frame left for the host to sign (the gateway's workers) becomes,
 * once sdpp_data_frame_sign() fills it in, the very frame
 * sdpp_msg_encode() signs; unsigned it carries a signature no key accepts.
 * Frames that are not such a data frame are refused, never written past.
 */
static void
test_data_signed_later(void **state)
{
	static const char *const bad[] = {
		"",
		"\n",
		"{}\n",
		"{\"data\":{}}\n",
		"{\"data\":{\"ciphertext\":\"\",\"order_id\":\"\",\"seq\":1},"
		"\"message_type\":\"data\",\"signature\":\"\",\"verification\":\"\"}\n",
		"{\"data\":{\"ciphertext\":\"\",\"order_id\":\"\",\"seq\":1},"
		"\"message_type\":\"data\",\"signature\":\"AAAA\"",
	};
	struct keys *k = *state;
	struct store *st;
	int variant;
	size_t i;

	st = malloc(sizeof(*st));
	assert_non_null(st);
	for (variant = 0; variant < 2; variant++) {
		struct sdpp_msg m, p;
		char *want = NULL, *got = NULL;
		size_t wlen = 0, glen = 0;

		fill_sample(&m, st, SDPP_T_DATA, SEL, variant);
		assert_int_equal(sdpp_msg_encode(&m, k->id[0], &want, &wlen), SDPP_OK);
		assert_int_equal(sdpp_msg_encode_data_unsigned(&m, &got, &glen), SDPP_OK);
		assert_int_equal(glen, wlen);
		assert_memory_not_equal(got, want, wlen);
		/* Parses as signed, and fails the check until it is signed. */
		assert_int_equal(sdpp_msg_parse(&p, got, glen - 1, SEL, NULL, 0), SDPP_OK);
		assert_true(p.signed_);
		assert_int_equal(sdpp_msg_verify(&p, k->ver[0]), SDPP_E_SIGNATURE);
		sdpp_msg_free(&p);
		assert_int_equal(sdpp_data_frame_sign(got, glen, k->id[0]), SDPP_OK);
		assert_memory_equal(got, want, wlen);
		/* Signing again gives the same bytes (Ed25519 is deterministic). */
		assert_int_equal(sdpp_data_frame_sign(got, glen, k->id[0]), SDPP_OK);
		assert_memory_equal(got, want, wlen);
		/* Without its '\n' it is not a frame. */
		assert_int_equal(sdpp_data_frame_sign(got, glen - 1, k->id[0]), SDPP_E_INVAL);
		free(want);
		free(got);
	}
	/* Only data frames. */
	{
		struct sdpp_msg m;
		char *out = NULL;
		size_t len = 0;

		fill_sample(&m, st, SDPP_T_ACK, BUY, 0);
		assert_int_equal(sdpp_msg_encode_data_unsigned(&m, &out, &len), SDPP_E_INVAL);
		assert_null(out);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t n = strlen(bad[i]);
		char *f = malloc(n + 1);

		assert_non_null(f);
		memcpy(f, bad[i], n + 1);
		assert_int_equal(sdpp_data_frame_sign(f, n, k->id[0]), SDPP_E_INVAL);
		assert_string_equal(f, bad[i]);
		free(f);
	}
	assert_int_equal(sdpp_data_frame_sign(NULL, 0, k->id[0]), SDPP_E_INVAL);
	free(st);
}

/* hay (NUL-terminated) with the one occurrence of find replaced by repl; malloc'd. */
static char *
replace_once(const char *name, const char *hay, const char *find, const char *repl)
{
	size_t hl = strlen(hay), fl = strlen(find), rl = strlen(repl), pre;
	const char *at = strstr(hay, find);
	char *out;

	if (at == NULL || strstr(at + 1, find) != NULL)
		fail_msg("%s: `%s' must occur exactly once", name, find);
	pre = (size_t)(at - hay);
	out = malloc(hl - fl + rl + 1);
	assert_non_null(out);
	memcpy(out, hay, pre);
	memcpy(out + pre, repl, rl);
	memcpy(out + pre + rl, at + fl, hl - pre - fl + 1);
	return out;
}

/*
 * The signature covers the canonical (JCS) form of every envelope member but
 * the signature: changing a value breaks it, re-formatting does not.
 */
static void
test_signature_binding(void **state)
{
	/* Textual edits (one or two) to a signed order frame. */
	static const struct {
		const char *name;
		const char *find, *repl, *find2, *repl2;
		enum sdpp_err verify;
	} v[] = {
		{ "quantity", "\"quantity\":10", "\"quantity\":11", NULL, NULL, SDPP_E_SIGNATURE },
		{ "price", "\"price\":\"5\"", "\"price\":\"6\"", NULL, NULL, SDPP_E_SIGNATURE },
		{ "verification", "\"verification\":\"\"", "\"verification\":\"x\"", NULL, NULL,
		    SDPP_E_SIGNATURE },
		{ "payment_address", "\"payment_address\":\"\"", "\"payment_address\":\"a\"", NULL,
		    NULL, SDPP_E_SIGNATURE },
		{ "time", "\"time\":1700000000000", "\"time\":1700000000001", NULL, NULL,
		    SDPP_E_SIGNATURE },
		{ "nothing changed", "\"quantity\":10", "\"quantity\":10", NULL, NULL, SDPP_OK },
		{ "whitespace", "\"quantity\":10", "\"quantity\" :\t10 ", NULL, NULL, SDPP_OK },
		{ "escaped letter", "\"product\":\"temp\"", "\"product\":\"\\u0074emp\"", NULL,
		    NULL, SDPP_OK },
		{ "escaped digit", "\"price\":\"5\"", "\"price\":\"\\u0035\"", NULL, NULL,
		    SDPP_OK },
		{ "members reordered", "{\"data\":", "{\"verification\":\"\",\"data\":",
		    ",\"verification\":\"\"}", "}", SDPP_OK },
	};
	struct keys *k = *state;
	struct sdpp_msg m, p;
	char *out, *edit, *edit2;
	size_t len, i;

	memset(&m, 0, sizeof(m));
	m.type = SDPP_T_ORDER;
	m.from = BUY;
	snprintf(m.u.order.product, sizeof(m.u.order.product), "temp");
	m.u.order.quantity = 10;
	m.u.order.price = 5;
	snprintf(m.u.order.currency, sizeof(m.u.order.currency), "EUR");
	memcpy(m.u.order.buyer, k->pub[0], SDPP_SIGN_PUBLIC_BYTES);
	m.u.order.time = 1700000000000;
	assert_int_equal(sdpp_msg_encode(&m, k->id[0], &out, &len), SDPP_OK);
	out[len - 1] = '\0'; /* drop the '\n': a C string to edit */
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		edit = replace_once(v[i].name, out, v[i].find, v[i].repl);
		if (v[i].find2 != NULL) {
			edit2 = replace_once(v[i].name, edit, v[i].find2, v[i].repl2);
			free(edit);
			edit = edit2;
		}
		assert_int_equal(sdpp_msg_parse(&p, edit, strlen(edit), BUY, NULL, 0), SDPP_OK);
		assert_int_equal(p.signed_, 1);
		if (sdpp_msg_verify(&p, k->ver[0]) != v[i].verify)
			fail_msg("%s: verify gave the wrong answer", v[i].name);
		assert_int_equal(sdpp_msg_verify(&p, k->ver[1]), SDPP_E_SIGNATURE);
		sdpp_msg_free(&p);
		free(edit);
	}
	free(out);
}

/* Encoding refuses what the wire cannot carry. */
static void
test_encode_refuses(void **state)
{
	static const struct {
		const char *name;
		enum sdpp_type type;
		uint64_t value; /* put in the one integer field the case names */
		enum sdpp_err e;
	} v[] = {
		{ "type none", SDPP_T_NONE, 0, SDPP_E_INVAL },
		{ "type count", SDPP_T__COUNT, 0, SDPP_E_INVAL },
		{ "order quantity 2^53-1", SDPP_T_ORDER, INT_MAX53, SDPP_OK },
		{ "order quantity 2^53", SDPP_T_ORDER, INT_MAX53 + 1, SDPP_E_INVAL },
		{ "data seq 2^53", SDPP_T_DATA, INT_MAX53 + 1, SDPP_E_INVAL },
		{ "ack seq 2^64-1", SDPP_T_ACK, UINT64_MAX, SDPP_E_INVAL },
		/* value: the order's version */
		{ "order version 0 (sdpp/1)", SDPP_T_ORDER, 0, SDPP_OK },
		{ "order version 2", SDPP_T_ORDER, 2, SDPP_OK },
		{ "order version 3", SDPP_T_ORDER, 3, SDPP_E_INVAL },
		/* value: 0 the hello's version "sdpp/3", 1 "" (sdpp/1) */
		{ "hello version sdpp/3", SDPP_T_HELLO, 0, SDPP_E_INVAL },
		{ "hello version empty", SDPP_T_HELLO, 1, SDPP_OK },
		/* value: products of an sdpp/1 (< 10000) or sdpp/2 menu */
		{ "menu sdpp/1 256 products", SDPP_T_MENU, SDPP_PRODUCTS_MAX_V1, SDPP_OK },
		{ "menu sdpp/1 257 products", SDPP_T_MENU, SDPP_PRODUCTS_MAX_V1 + 1, SDPP_E_INVAL },
		{ "menu sdpp/2 4097 products", SDPP_T_MENU, 10000 + SDPP_PRODUCTS_MAX + 1,
		    SDPP_E_INVAL },
		{ "menu sdpp/3", SDPP_T_MENU, 20000, SDPP_E_INVAL },
	};
	static struct sdpp_product products[SDPP_PRODUCTS_MAX + 1];
	uint8_t ct[SDPP_AEAD_TAG_BYTES] = { 0 };
	struct sdpp_msg m;
	char *out;
	size_t i, len;
	enum sdpp_err e;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		memset(&m, 0, sizeof(m));
		m.type = v[i].type;
		m.from = v[i].type == SDPP_T_DATA ? SEL : BUY;
		snprintf(m.u.order.product, sizeof(m.u.order.product), "p");
		snprintf(m.u.order.currency, sizeof(m.u.order.currency), "EUR");
		if (v[i].type == SDPP_T_ORDER && strstr(v[i].name, "version") != NULL) {
			m.u.order.version = (int)v[i].value;
			m.u.order.topic = "a/#";
		} else if (v[i].type == SDPP_T_ORDER) {
			m.u.order.quantity = v[i].value;
		} else if (v[i].type == SDPP_T_HELLO) {
			memset(&m.u.hello, 0, sizeof(m.u.hello));
			if (v[i].value == 0)
				snprintf(m.u.hello.version, sizeof(m.u.hello.version), "sdpp/3");
		} else if (v[i].type == SDPP_T_MENU) {
			memset(&m.u.menu, 0, sizeof(m.u.menu));
			m.from = SEL;
			snprintf(m.u.menu.version, sizeof(m.u.menu.version), "%s",
			    v[i].value >= 20000   ? "sdpp/3"
			    : v[i].value >= 10000 ? SDPP_VERSION_2
			                          : SDPP_VERSION);
			m.u.menu.nproducts = (size_t)(v[i].value % 10000);
			m.u.menu.products = products;
			m.u.menu.granularity = m.u.menu.ack_every = 1;
		} else if (v[i].type == SDPP_T_DATA) {
			m.u.data.seq = v[i].value;
			m.u.data.ciphertext = ct;
			m.u.data.ciphertext_len = sizeof(ct);
		} else if (v[i].type == SDPP_T_ACK) {
			m.u.ack.seq = v[i].value;
		}
		out = NULL;
		e = sdpp_msg_encode(&m, NULL, &out, &len);
		if (e != v[i].e)
			fail_msg("%s: got %d want %d", v[i].name, e, v[i].e);
		if (e == SDPP_OK)
			assert_one_line(out, len);
		else
			assert_null(out);
		free(out);
	}
}

/* ------------------------------------------------------------------ */
/* Malformed frames                                                    */

/* Canonical valid frames, one per message type (keys in JCS order). */
#define T8 "abcdefgh"
#define T16 "abcdefghijklmnop"
#define T32 T16 T16
#define T64 T16 T16 T16 T16
#define T128 T64 T64
#define T256 T128 T128
#define BUYER_HEX "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define ENC_HEX "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
#define NONCE_HEX "00112233445566778899aabbccddeeff"
#define SELLER_HEX "c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00"
#define OID_HEX "0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d"
#define DIG_HEX "d1d2d3d4d1d2d3d4d1d2d3d4d1d2d3d4d1d2d3d4d1d2d3d4d1d2d3d4d1d2d3d4"
#define DIG_HEX_UPPER "D1D2D3D4D1D2D3D4D1D2D3D4D1D2D3D4D1D2D3D4D1D2D3D4D1D2D3D4D1D2D3D4"
/* base64 of bytes 0, 1, 2, ... n-1 */
#define B64_15 "AAECAwQFBgcICQoLDA0O"
#define B64_16 "AAECAwQFBgcICQoLDA0ODw=="
#define B64_63                                                                                     \
	"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+"
#define B64_64                                                                                     \
	"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+Pw=="
#define B64_65                                                                                     \
	"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+P0A="
#define B64_79                                                                                     \
	"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+"     \
	"P0BBQkNERUZHSElKS0xNTg=="
#define B64_80                                                                                     \
	"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+"     \
	"P0BBQkNERUZHSElKS0xNTk8="

#define ENV_TAIL(type) ",\"message_type\":\"" type "\",\"signature\":\"\",\"verification\":\"\"}"

#define HELLO_OK "{\"data\":{\"version\":\"sdpp/1\"}" ENV_TAIL("hello")
#define MENU_OK                                                                                    \
	"{\"data\":{\"ack_every\":2,\"currency\":\"EUR\",\"gateway\":\"gw1\","                     \
	"\"max_frame\":1048576,\"max_unpaid\":10,\"payment_address\":\"\","                        \
	"\"payment_granularity\":5,\"payment_method\":\"voucher\",\"products\":["                  \
	"{\"description\":\"CO₂ — 2nd floor\",\"id\":\"co2\",\"last_seen\":1700000000000,"     \
	"\"prepay\":false,\"price\":\"7\",\"unit\":\"ppm\"},"                                      \
	"{\"description\":\"\",\"id\":\"temp\",\"last_seen\":0,\"prepay\":true,\"price\":\"5\","   \
	"\"unit\":\"°C\"}],"                                                                      \
	"\"seller\":\"" SELLER_HEX                                                                 \
	"\",\"sign_items\":false,\"version\":\"sdpp/1\"}" ENV_TAIL("menu")
/* sdpp/2: the products carry topic, field, device_class and the rate tier. */
#define MENU2_OK                                                                                   \
	"{\"data\":{\"ack_every\":2,\"currency\":\"EUR\",\"gateway\":\"gw1\","                     \
	"\"max_frame\":1048576,\"max_unpaid\":10,\"payment_address\":\"\","                        \
	"\"payment_granularity\":5,\"payment_method\":\"voucher\",\"products\":["                  \
	"{\"deadband\":\"0.2\",\"description\":\"\",\"device_class\":\"temperature\","             \
	"\"field\":\"/temperature\",\"id\":\"temp\",\"last_seen\":0,\"min_interval\":60000,"       \
	"\"on_change\":true,\"prepay\":false,\"price\":\"5\",\"topic\":\"zigbee2mqtt/+\","         \
	"\"unit\":\"°C\"},"                                                                       \
	"{\"deadband\":\"\",\"description\":\"\",\"device_class\":\"\",\"field\":\"\","            \
	"\"id\":\"raw\",\"last_seen\":0,\"min_interval\":0,\"on_change\":false,"                   \
	"\"prepay\":true,\"price\":\"1\",\"topic\":\"building/7/#\",\"unit\":\"\"}],"              \
	"\"seller\":\"" SELLER_HEX                                                                 \
	"\",\"sign_items\":false,\"version\":\"sdpp/2\"}" ENV_TAIL("menu")
#define ORDER_DATA                                                                                 \
	"{\"buyer\":\"" BUYER_HEX "\",\"currency\":\"EUR\",\"enc_key\":\"" ENC_HEX "\","           \
	"\"nonce\":\"" NONCE_HEX                                                                   \
	"\",\"payment_address\":\"\",\"price\":\"5\",\"product\":\"temp\","                        \
	"\"quantity\":10,\"time\":1700000000000}"
#define ORDER_OK "{\"data\":" ORDER_DATA ENV_TAIL("order")
#define ORDER2_OK                                                                                  \
	"{\"data\":{\"buyer\":\"" BUYER_HEX "\",\"currency\":\"EUR\",\"enc_key\":\"" ENC_HEX "\"," \
	"\"nonce\":\"" NONCE_HEX                                                                   \
	"\",\"payment_address\":\"\",\"price\":\"5\",\"product\":\"temp\","                        \
	"\"quantity\":10,\"time\":1700000000000,\"topic\":\"zigbee2mqtt/kitchen\"}" ENV_TAIL(      \
	    "order")
#define SESSION_KEY_OK                                                                             \
	"{\"data\":{\"nonce_prefix\":\"01020304\",\"order_id\":\"" OID_HEX "\","                   \
	"\"sealed_key\":\"" B64_80 "\"}" ENV_TAIL("session_key")
#define DATA_OK                                                                                    \
	"{\"data\":{\"ciphertext\":\"" B64_16 "\",\"order_id\":\"" OID_HEX                         \
	"\",\"seq\":1}" ENV_TAIL("data")
#define INVOICE_OK                                                                                 \
	"{\"data\":{\"amount\":\"25\",\"currency\":\"EUR\",\"delivered\":5,\"digest\":\"" DIG_HEX  \
	"\",\"first_seq\":1,\"invoice\":1,\"last_seq\":5,\"order_id\":\"" OID_HEX "\","            \
	"\"payment_address\":\"\",\"total_due\":\"25\",\"unit_price\":\"5\"}" ENV_TAIL(            \
	    "data_invoice")
#define ACK_OK                                                                                     \
	"{\"data\":{\"digest\":\"" DIG_HEX "\",\"order_id\":\"" OID_HEX                            \
	"\",\"seq\":5}" ENV_TAIL("ack")
#define PAYMENT_OK                                                                                 \
	"{\"data\":{\"invoice\":1,\"order_id\":\"" OID_HEX                                         \
	"\",\"total\":\"25\"}" ENV_TAIL("payment_ack")
#define EXIT_BUYER_OK                                                                              \
	"{\"data\":{\"digest\":\"" DIG_HEX "\",\"order_id\":\"" OID_HEX "\",\"seq\":5,"            \
	"\"total\":\"25\"}" ENV_TAIL("exit")
#define EXIT_SELLER_OK                                                                             \
	"{\"data\":{\"acked\":5,\"delivered\":5,\"order_id\":\"" OID_HEX "\",\"settled\":true,"    \
	"\"total_due\":\"25\",\"total_paid\":\"25\"}" ENV_TAIL("exit")
/* sdpp/2: the statement carries the seller's signed tree head. */
#define TREE_HEAD_OK                                                                               \
	"\"tree_head\":{\"root\":\"" DIG_HEX "\",\"signature\":\"" B64_64 "\",\"size\":7,"         \
	"\"time\":1700000000000}"
#define EXIT_SELLER2_OK                                                                            \
	"{\"data\":{\"acked\":5,\"delivered\":5,\"order_id\":\"" OID_HEX "\",\"settled\":true,"    \
	"\"total_due\":\"25\",\"total_paid\":\"25\"," TREE_HEAD_OK "}" ENV_TAIL("exit")
#define ITEM_OK                                                                                    \
	"{\"payload\":\"AP8AYWJj/w==\",\"received_at\":1700000000000,\"seq\":1,"                   \
	"\"topic\":\"a/+/b\"}"
#define ERROR_OK "{\"data\":{\"code\":\"bad_json\",\"message\":\"line 1: nope\"}" ENV_TAIL("error")
/* sdpp/2: a new connection resumes an order, the seller answers. */
#define RESUME_OK                                                                                  \
	"{\"data\":{\"attempt\":2,\"digest\":\"" DIG_HEX                                           \
	"\",\"invoice\":1,\"order_id\":\"" OID_HEX "\",\"seq\":5}" ENV_TAIL("resume")
#define RESUMED_OK                                                                                 \
	"{\"data\":{\"dropped\":3,\"invoice\":1,\"order_id\":\"" OID_HEX "\",\"paid\":\"25\","     \
	"\"sent\":7,\"seq\":5}" ENV_TAIL("resumed")

static const struct {
	const char *name;
	enum sdpp_role from;
	const char *frame;
} baselines[] = {
	{ "hello", BUY, HELLO_OK },
	{ "menu", SEL, MENU_OK },
	{ "menu (sdpp/2)", SEL, MENU2_OK },
	{ "order", BUY, ORDER_OK },
	{ "order (sdpp/2)", BUY, ORDER2_OK },
	{ "session_key", SEL, SESSION_KEY_OK },
	{ "data", SEL, DATA_OK },
	{ "data_invoice", SEL, INVOICE_OK },
	{ "ack", BUY, ACK_OK },
	{ "payment_ack", BUY, PAYMENT_OK },
	{ "exit (buyer)", BUY, EXIT_BUYER_OK },
	{ "exit (seller)", SEL, EXIT_SELLER_OK },
	{ "error (buyer)", BUY, ERROR_OK },
	{ "error (seller)", SEL, ERROR_OK },
	{ "resume", BUY, RESUME_OK },
	{ "resumed", SEL, RESUMED_OK },
};

/* The baselines are valid and canonical, so each edit below tests one thing. */
static void
test_baselines(void **state)
{
	size_t i, n, len;
	struct sdpp_msg m;
	char *out, err[256];
	enum sdpp_err e;

	(void)state;
	for (i = 0; i < sizeof(baselines) / sizeof(baselines[0]); i++) {
		n = strlen(baselines[i].frame);
		e = sdpp_msg_parse(&m, baselines[i].frame, n, baselines[i].from, err, sizeof(err));
		if (e != SDPP_OK)
			fail_msg("%s: %d %s", baselines[i].name, e, err);
		assert_string_equal(err, "");
		assert_int_equal(m.signed_, 0);
		assert_int_equal(sdpp_msg_encode(&m, NULL, &out, &len), SDPP_OK);
		if (len != n + 1 || memcmp(out, baselines[i].frame, n) != 0)
			fail_msg("%s: not canonical:\n%.*s\n%s", baselines[i].name, (int)len, out,
			    baselines[i].frame);
		free(out);
		sdpp_msg_free(&m);
	}
}

/*
 * Frames come from the framer without a NUL: the parser reads exactly len
 * bytes (AddressSanitizer catches a read past them), and a frame cut short
 * by one byte is not JSON.
 */
static void
test_unterminated(void **state)
{
	size_t i, n;
	struct sdpp_msg m;
	char *exact;

	(void)state;
	for (i = 0; i < sizeof(baselines) / sizeof(baselines[0]); i++) {
		n = strlen(baselines[i].frame);
		exact = malloc(n);
		assert_non_null(exact);
		memcpy(exact, baselines[i].frame, n);
		assert_int_equal(sdpp_msg_parse(&m, exact, n, baselines[i].from, NULL, 0), SDPP_OK);
		sdpp_msg_free(&m);
		assert_int_equal(
		    sdpp_msg_parse(&m, exact, n - 1, baselines[i].from, NULL, 0), SDPP_E_BAD_JSON);
		free(exact);
	}
	n = strlen(ITEM_OK);
	exact = malloc(n);
	assert_non_null(exact);
	memcpy(exact, ITEM_OK, n);
	{
		struct sdpp_item it;

		assert_int_equal(sdpp_item_parse(&it, exact, n), SDPP_OK);
		sdpp_item_free(&it);
		assert_int_equal(sdpp_item_parse(&it, exact, n - 1), SDPP_E_BAD_JSON);
	}
	free(exact);
}

/*
 * Each case is `base` with the unique occurrence of `find` replaced by
 * `repl` (or `base` alone when find is NULL), parsed as sent by `from`.
 * `where`, when set, must appear in the error text (it names the field).
 */
struct bad {
	const char *name;
	enum sdpp_role from;
	const char *base, *find, *repl;
	enum sdpp_err want;
	const char *where;
};

static const struct bad bad_envelope[] = {
	/* Section 2.1: JSON whitespace is allowed, a line of only whitespace is not empty. */
	{ "frame ending in CR", BUY, HELLO_OK "\r", NULL, NULL, SDPP_OK, NULL },
	{ "spaces between tokens", BUY, HELLO_OK, "\"data\":{", " \"data\" :\t{ ", SDPP_OK, NULL },
	{ "members in another order", BUY,
	    "{\"verification\":\"\",\"signature\":\"\",\"message_type\":\"hello\","
	    "\"data\":{\"version\":\"sdpp/1\"}}",
	    NULL, NULL, SDPP_OK, NULL },
	{ "only CR", BUY, "\r", NULL, NULL, SDPP_E_BAD_JSON, NULL },
	{ "only spaces", BUY, "  ", NULL, NULL, SDPP_E_BAD_JSON, NULL },
	{ "byte-order mark", BUY, "\xef\xbb\xbf" HELLO_OK, NULL, NULL, SDPP_E_BAD_JSON, NULL },
	/* Not JSON at all. */
	{ "not JSON", BUY, "hello", NULL, NULL, SDPP_E_BAD_JSON, NULL },
	{ "empty frame", BUY, "", NULL, NULL, SDPP_E_BAD_JSON, NULL },
	{ "truncated", BUY, "{\"data\":{", NULL, NULL, SDPP_E_BAD_JSON, NULL },
	{ "trailing garbage", BUY, HELLO_OK, "\"verification\":\"\"}", "\"verification\":\"\"}x",
	    SDPP_E_BAD_JSON, NULL },
	{ "two objects", BUY, HELLO_OK HELLO_OK, NULL, NULL, SDPP_E_BAD_JSON, NULL },
	{ "invalid UTF-8", BUY, HELLO_OK, "\"verification\":\"\"", "\"verification\":\"\xc3\x28\"",
	    SDPP_E_BAD_JSON, NULL },
	{ "overlong UTF-8 in data", BUY, ORDER_OK, "\"payment_address\":\"\"",
	    "\"payment_address\":\"\xc0\xaf\"", SDPP_E_BAD_JSON, NULL },
	{ "surrogate escape alone", BUY, HELLO_OK, "\"verification\":\"\"",
	    "\"verification\":\"\\ud800\"", SDPP_E_BAD_JSON, NULL },
	{ "raw control char", BUY, HELLO_OK, "\"verification\":\"\"", "\"verification\":\"\x01\"",
	    SDPP_E_BAD_JSON, NULL },
	{ "\\u0000 escape", BUY, HELLO_OK, "\"verification\":\"\"",
	    "\"verification\":\"a\\u0000b\"", SDPP_E_BAD_JSON, NULL },
	{ "duplicate envelope key", BUY, HELLO_OK, "\"signature\":\"\",",
	    "\"signature\":\"\",\"signature\":\"\",", SDPP_E_BAD_JSON, NULL },
	{ "duplicate message_type", BUY, HELLO_OK, "\"message_type\":\"hello\"",
	    "\"message_type\":\"hello\",\"message_type\":\"order\"", SDPP_E_BAD_JSON, NULL },
	{ "duplicate key in data", BUY, ORDER_OK, "\"quantity\":10",
	    "\"quantity\":10,\"quantity\":10", SDPP_E_BAD_JSON, NULL },
	{ "duplicate key in product", SEL, MENU_OK, "\"id\":\"co2\"",
	    "\"id\":\"co2\",\"id\":\"co2\"", SDPP_E_BAD_JSON, NULL },
	/* Not an object with the four members. */
	{ "top-level array", BUY, "[" HELLO_OK "]", NULL, NULL, SDPP_E_BAD_MESSAGE, NULL },
	{ "top-level string", BUY, "\"hello\"", NULL, NULL, SDPP_E_BAD_MESSAGE, NULL },
	{ "top-level number", BUY, "1", NULL, NULL, SDPP_E_BAD_MESSAGE, NULL },
	{ "top-level null", BUY, "null", NULL, NULL, SDPP_E_BAD_MESSAGE, NULL },
	{ "empty object", BUY, "{}", NULL, NULL, SDPP_E_BAD_MESSAGE, NULL },
	{ "missing message_type", BUY,
	    "{\"data\":{\"version\":\"sdpp/1\"},\"signature\":\"\",\"verification\":\"\"}", NULL,
	    NULL, SDPP_E_BAD_MESSAGE, "message_type" },
	{ "missing data", BUY,
	    "{\"message_type\":\"hello\",\"signature\":\"\",\"verification\":\"\"}", NULL, NULL,
	    SDPP_E_BAD_MESSAGE, "data" },
	{ "missing signature", BUY,
	    "{\"data\":{\"version\":\"sdpp/1\"},\"message_type\":\"hello\",\"verification\":\"\"}",
	    NULL, NULL, SDPP_E_BAD_MESSAGE, "signature" },
	{ "missing verification", BUY,
	    "{\"data\":{\"version\":\"sdpp/1\"},\"message_type\":\"hello\",\"signature\":\"\"}",
	    NULL, NULL, SDPP_E_BAD_MESSAGE, "verification" },
	{ "extra envelope member", BUY, HELLO_OK, "\"verification\":\"\"}",
	    "\"verification\":\"\",\"x\":1}", SDPP_E_BAD_MESSAGE, NULL },
	{ "extra member, other case", BUY, HELLO_OK, "\"verification\":\"\"}",
	    "\"verification\":\"\",\"Data\":{}}", SDPP_E_BAD_MESSAGE, NULL },
	{ "message_type number", BUY, HELLO_OK, "\"message_type\":\"hello\"", "\"message_type\":1",
	    SDPP_E_BAD_MESSAGE, "message_type" },
	{ "message_type null", BUY, HELLO_OK, "\"message_type\":\"hello\"", "\"message_type\":null",
	    SDPP_E_BAD_MESSAGE, "message_type" },
	{ "message_type array", BUY, HELLO_OK, "\"message_type\":\"hello\"",
	    "\"message_type\":[\"hello\"]", SDPP_E_BAD_MESSAGE, "message_type" },
	/* Types. */
	{ "unknown type", BUY, HELLO_OK, "\"message_type\":\"hello\"",
	    "\"message_type\":\"goodbye\"", SDPP_E_UNKNOWN_TYPE, "message_type" },
	{ "type in upper case", BUY, HELLO_OK, "\"message_type\":\"hello\"",
	    "\"message_type\":\"HELLO\"", SDPP_E_UNKNOWN_TYPE, NULL },
	{ "type empty", BUY, HELLO_OK, "\"message_type\":\"hello\"", "\"message_type\":\"\"",
	    SDPP_E_UNKNOWN_TYPE, NULL },
	{ "type none", BUY, HELLO_OK, "\"message_type\":\"hello\"", "\"message_type\":\"none\"",
	    SDPP_E_UNKNOWN_TYPE, NULL },
	{ "type with trailing space", BUY, HELLO_OK, "\"message_type\":\"hello\"",
	    "\"message_type\":\"hello \"", SDPP_E_UNKNOWN_TYPE, NULL },
	{ "menu from a buyer", BUY, MENU_OK, NULL, NULL, SDPP_E_UNEXPECTED, NULL },
	{ "session_key from a buyer", BUY, SESSION_KEY_OK, NULL, NULL, SDPP_E_UNEXPECTED, NULL },
	{ "data from a buyer", BUY, DATA_OK, NULL, NULL, SDPP_E_UNEXPECTED, NULL },
	{ "data_invoice from a buyer", BUY, INVOICE_OK, NULL, NULL, SDPP_E_UNEXPECTED, NULL },
	{ "hello from a seller", SEL, HELLO_OK, NULL, NULL, SDPP_E_UNEXPECTED, NULL },
	{ "order from a seller", SEL, ORDER_OK, NULL, NULL, SDPP_E_UNEXPECTED, NULL },
	{ "ack from a seller", SEL, ACK_OK, NULL, NULL, SDPP_E_UNEXPECTED, NULL },
	{ "payment_ack from a seller", SEL, PAYMENT_OK, NULL, NULL, SDPP_E_UNEXPECTED, NULL },
	/* data */
	{ "data is an array", BUY, HELLO_OK, "\"data\":{\"version\":\"sdpp/1\"}", "\"data\":[]",
	    SDPP_E_BAD_MESSAGE, NULL },
	{ "data is a string", BUY, HELLO_OK, "\"data\":{\"version\":\"sdpp/1\"}", "\"data\":\"x\"",
	    SDPP_E_BAD_MESSAGE, NULL },
	{ "data is null", BUY, HELLO_OK, "\"data\":{\"version\":\"sdpp/1\"}", "\"data\":null",
	    SDPP_E_BAD_MESSAGE, NULL },
	/* signature */
	{ "signature not base64", BUY, HELLO_OK, "\"signature\":\"\"", "\"signature\":\"!!!!\"",
	    SDPP_E_BAD_MESSAGE, "signature" },
	{ "signature 63 bytes", BUY, HELLO_OK, "\"signature\":\"\"", "\"signature\":\"" B64_63 "\"",
	    SDPP_E_BAD_MESSAGE, "signature" },
	{ "signature 65 bytes", BUY, HELLO_OK, "\"signature\":\"\"", "\"signature\":\"" B64_65 "\"",
	    SDPP_E_BAD_MESSAGE, "signature" },
	{ "signature padding bits set", BUY, HELLO_OK, "\"signature\":\"\"",
	    "\"signature\":\""
	    "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEy"
	    "MzQ1Njc4OTo7PD0+Px==\"",
	    SDPP_E_BAD_MESSAGE, "signature" },
	{ "signature unpadded", BUY, HELLO_OK, "\"signature\":\"\"",
	    "\"signature\":\""
	    "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEy"
	    "MzQ1Njc4OTo7PD0+Pw\"",
	    SDPP_E_BAD_MESSAGE, "signature" },
	{ "signature number", BUY, HELLO_OK, "\"signature\":\"\"", "\"signature\":0",
	    SDPP_E_BAD_MESSAGE, "signature" },
	{ "signature null", BUY, HELLO_OK, "\"signature\":\"\"", "\"signature\":null",
	    SDPP_E_BAD_MESSAGE, "signature" },
	{ "signature 64 bytes (checked later)", BUY, HELLO_OK, "\"signature\":\"\"",
	    "\"signature\":\"" B64_64 "\"", SDPP_OK, NULL },
	/* verification */
	{ "verification number", BUY, HELLO_OK, "\"verification\":\"\"", "\"verification\":0",
	    SDPP_E_BAD_MESSAGE, "verification" },
	{ "verification 256 bytes", BUY, HELLO_OK, "\"verification\":\"\"",
	    "\"verification\":\"" T256 "\"", SDPP_OK, NULL },
	{ "verification 257 bytes", BUY, HELLO_OK, "\"verification\":\"\"",
	    "\"verification\":\"" T256 "x\"", SDPP_E_BAD_MESSAGE, "verification" },
	{ "verification \\u0007", BUY, HELLO_OK, "\"verification\":\"\"",
	    "\"verification\":\"a\\u0007\"", SDPP_E_BAD_MESSAGE, "verification" },
	/* version */
	{ "hello version sdpp/2", BUY, HELLO_OK, "sdpp/1", "sdpp/2", SDPP_OK, NULL },
	{ "hello version sdpp/3", BUY, HELLO_OK, "sdpp/1", "sdpp/3", SDPP_E_VERSION, "version" },
	{ "hello version sdpp/1.0", BUY, HELLO_OK, "sdpp/1", "sdpp/1.0", SDPP_E_VERSION, NULL },
	{ "menu version sdpp/3", SEL, MENU_OK, "sdpp/1", "sdpp/3", SDPP_E_VERSION, "version" },
	{ "menu version sdpp/2 with sdpp/1 products", SEL, MENU_OK, "\"version\":\"sdpp/1\"",
	    "\"version\":\"sdpp/2\"", SDPP_E_BAD_MESSAGE, "menu.products[].topic" },
	{ "hello version empty", BUY, HELLO_OK, "\"sdpp/1\"", "\"\"", SDPP_E_BAD_MESSAGE, NULL },
	{ "hello version number", BUY, HELLO_OK, "\"sdpp/1\"", "1", SDPP_E_BAD_MESSAGE, NULL },
	{ "hello without version", BUY, HELLO_OK, "{\"version\":\"sdpp/1\"}", "{}",
	    SDPP_E_BAD_MESSAGE, NULL },
	{ "hello extra member", BUY, HELLO_OK, "\"sdpp/1\"", "\"sdpp/1\",\"x\":1",
	    SDPP_E_BAD_MESSAGE, NULL },
};

/* The sdpp/2 members (PROTOCOL.md 15): each one missing, extra, of the
 * wrong type or out of range, and the forms of its value. */
#define P2 "\"deadband\":\"0.2\""
static const struct bad bad_v2[] = {
	/* The statement's tree head: exactly its four members, each in range. */
	{ "statement sdpp/2", SEL, EXIT_SELLER2_OK, NULL, NULL, SDPP_OK, NULL },
	{ "tree_head not an object", SEL, EXIT_SELLER2_OK, TREE_HEAD_OK, "\"tree_head\":[]",
	    SDPP_E_BAD_MESSAGE, "exit.tree_head" },
	{ "tree_head null", SEL, EXIT_SELLER2_OK, TREE_HEAD_OK, "\"tree_head\":null",
	    SDPP_E_BAD_MESSAGE, "exit.tree_head" },
	{ "tree_head empty", SEL, EXIT_SELLER2_OK, TREE_HEAD_OK, "\"tree_head\":{}",
	    SDPP_E_BAD_MESSAGE, "exit.tree_head.root" },
	{ "tree_head size 0", SEL, EXIT_SELLER2_OK, "\"size\":7", "\"size\":0", SDPP_E_BAD_MESSAGE,
	    "exit.tree_head.size" },
	{ "tree_head size -1", SEL, EXIT_SELLER2_OK, "\"size\":7", "\"size\":-1",
	    SDPP_E_BAD_MESSAGE, "exit.tree_head.size" },
	{ "tree_head size string", SEL, EXIT_SELLER2_OK, "\"size\":7", "\"size\":\"7\"",
	    SDPP_E_BAD_MESSAGE, "exit.tree_head.size" },
	{ "tree_head time negative", SEL, EXIT_SELLER2_OK, "\"time\":1700000000000", "\"time\":-1",
	    SDPP_E_BAD_MESSAGE, "exit.tree_head.time" },
	{ "tree_head root short", SEL, EXIT_SELLER2_OK, "\"root\":\"" DIG_HEX "\"",
	    "\"root\":\"00\"", SDPP_E_BAD_MESSAGE, "exit.tree_head.root" },
	{ "tree_head root uppercase", SEL, EXIT_SELLER2_OK, "\"root\":\"" DIG_HEX "\"",
	    "\"root\":\"" DIG_HEX_UPPER "\"", SDPP_E_BAD_MESSAGE, "exit.tree_head.root" },
	{ "tree_head signature 65 bytes", SEL, EXIT_SELLER2_OK, B64_64, B64_65, SDPP_E_BAD_MESSAGE,
	    "exit.tree_head.signature" },
	{ "tree_head signature empty", SEL, EXIT_SELLER2_OK, B64_64, "", SDPP_E_BAD_MESSAGE,
	    "exit.tree_head.signature" },
	{ "tree_head missing signature", SEL, EXIT_SELLER2_OK, "\"signature\":\"" B64_64 "\",", "",
	    SDPP_E_BAD_MESSAGE, "exit.tree_head.signature" },
	{ "tree_head extra member", SEL, EXIT_SELLER2_OK, "\"size\":7", "\"key\":\"\",\"size\":7",
	    SDPP_E_BAD_MESSAGE, "exit.tree_head: unknown member" },
	{ "statement extra member beside tree_head", SEL, EXIT_SELLER2_OK, "\"settled\":true",
	    "\"settled\":true,\"witness\":1", SDPP_E_BAD_MESSAGE, "exit: unknown member" },
	{ "tree_head in a buyer exit", BUY, EXIT_BUYER_OK, "\"total\":\"25\"",
	    "\"total\":\"25\"," TREE_HEAD_OK, SDPP_E_BAD_MESSAGE, "exit: unknown member" },
	/* A product member missing, or one from the other version. */
	{ "topic missing", SEL, MENU2_OK, ",\"topic\":\"zigbee2mqtt/+\"", "", SDPP_E_BAD_MESSAGE,
	    "menu.products[].topic" },
	{ "field missing", SEL, MENU2_OK, "\"field\":\"/temperature\",", "", SDPP_E_BAD_MESSAGE,
	    "menu.products[].field" },
	{ "device_class missing", SEL, MENU2_OK, "\"device_class\":\"temperature\",", "",
	    SDPP_E_BAD_MESSAGE, "menu.products[].device_class" },
	{ "min_interval missing", SEL, MENU2_OK, "\"min_interval\":60000,", "", SDPP_E_BAD_MESSAGE,
	    "menu.products[].min_interval" },
	{ "on_change missing", SEL, MENU2_OK, "\"on_change\":true,", "", SDPP_E_BAD_MESSAGE,
	    "menu.products[].on_change" },
	{ "deadband missing", SEL, MENU2_OK, P2 ",", "", SDPP_E_BAD_MESSAGE,
	    "menu.products[].deadband" },
	{ "extra product member", SEL, MENU2_OK, P2, P2 ",\"exclude\":\"\"", SDPP_E_BAD_MESSAGE,
	    "menu.products[]: unknown member" },
	{ "extra menu member", SEL, MENU2_OK, "\"gateway\":\"gw1\"",
	    "\"gateway\":\"gw1\",\"discovery\":true", SDPP_E_BAD_MESSAGE, "menu: unknown member" },
	{ "sdpp/1 menu with topic", SEL, MENU_OK, "\"unit\":\"ppm\"",
	    "\"topic\":\"a/b\",\"unit\":\"ppm\"", SDPP_E_BAD_MESSAGE,
	    "menu.products[]: unknown member" },
	{ "sdpp/1 menu with deadband", SEL, MENU_OK, "\"description\":\"\"",
	    "\"deadband\":\"\",\"description\":\"\"", SDPP_E_BAD_MESSAGE,
	    "menu.products[]: unknown member" },
	/* Wrong types. */
	{ "topic number", SEL, MENU2_OK, "\"zigbee2mqtt/+\"", "7", SDPP_E_BAD_MESSAGE,
	    "menu.products[].topic" },
	{ "field null", SEL, MENU2_OK, "\"/temperature\"", "null", SDPP_E_BAD_MESSAGE,
	    "menu.products[].field" },
	{ "device_class array", SEL, MENU2_OK, "\"temperature\"", "[]", SDPP_E_BAD_MESSAGE,
	    "menu.products[].device_class" },
	{ "min_interval string", SEL, MENU2_OK, "60000", "\"60000\"", SDPP_E_BAD_MESSAGE,
	    "menu.products[].min_interval" },
	{ "on_change 1", SEL, MENU2_OK, "\"on_change\":true", "\"on_change\":1", SDPP_E_BAD_MESSAGE,
	    "menu.products[].on_change" },
	{ "deadband number", SEL, MENU2_OK, P2, "\"deadband\":0.2", SDPP_E_BAD_NUMBER, NULL },
	{ "deadband integer", SEL, MENU2_OK, P2, "\"deadband\":2", SDPP_E_BAD_MESSAGE,
	    "menu.products[].deadband" },
	/* Ranges. */
	{ "topic empty", SEL, MENU2_OK, "\"zigbee2mqtt/+\"", "\"\"", SDPP_E_BAD_MESSAGE,
	    "menu.products[].topic" },
	{ "topic 1024 bytes", SEL, MENU2_OK, "\"zigbee2mqtt/+\"", "\"" T256 T256 T256 T256 "\"",
	    SDPP_OK, NULL },
	{ "topic 1025 bytes", SEL, MENU2_OK, "\"zigbee2mqtt/+\"", "\"" T256 T256 T256 T256 "x\"",
	    SDPP_E_BAD_MESSAGE, "menu.products[].topic" },
	{ "topic control", SEL, MENU2_OK, "\"zigbee2mqtt/+\"", "\"a/\\u0007\"", SDPP_E_BAD_MESSAGE,
	    "menu.products[].topic" },
	{ "field 256 bytes", SEL, MENU2_OK, "\"/temperature\"",
	    "\"/" T128 T64 T32 T16 T8 "abcdefg\"", SDPP_OK, NULL },
	{ "field 257 bytes", SEL, MENU2_OK, "\"/temperature\"", "\"/" T256 "\"", SDPP_E_BAD_MESSAGE,
	    "menu.products[].field" },
	{ "device_class 64 bytes", SEL, MENU2_OK, "\"temperature\"", "\"" T64 "\"", SDPP_OK, NULL },
	{ "device_class 65 bytes", SEL, MENU2_OK, "\"temperature\"", "\"" T64 "x\"",
	    SDPP_E_BAD_MESSAGE, "menu.products[].device_class" },
	{ "device_class control", SEL, MENU2_OK, "\"temperature\"", "\"a\\u009f\"",
	    SDPP_E_BAD_MESSAGE, "menu.products[].device_class" },
	{ "min_interval 2^53-1", SEL, MENU2_OK, "60000", "9007199254740991", SDPP_OK, NULL },
	{ "min_interval 2^53", SEL, MENU2_OK, "60000", "9007199254740992", SDPP_E_BAD_NUMBER,
	    NULL },
	{ "min_interval negative", SEL, MENU2_OK, "60000", "-1", SDPP_E_BAD_MESSAGE,
	    "menu.products[].min_interval" },
	{ "deadband 32 bytes", SEL, MENU2_OK, P2,
	    "\"deadband\":\"123456789012345678901.1234567890\"", SDPP_OK, NULL },
	{ "deadband 33 bytes", SEL, MENU2_OK, P2,
	    "\"deadband\":\"123456789012345678901.12345678901\"", SDPP_E_BAD_MESSAGE,
	    "menu.products[].deadband" },
	{ "deadband without on_change", SEL, MENU2_OK, "\"on_change\":true", "\"on_change\":false",
	    SDPP_E_BAD_MESSAGE, "menu.products[].deadband" },
	{ "deadband empty with on_change", SEL, MENU2_OK, P2, "\"deadband\":\"\"", SDPP_OK, NULL },
	/* Topic filters (15.4): '+' and '#' only as whole levels, '#' last. */
	{ "topic #", SEL, MENU2_OK, "zigbee2mqtt/+", "#", SDPP_OK, NULL },
	{ "topic +", SEL, MENU2_OK, "zigbee2mqtt/+", "+", SDPP_OK, NULL },
	{ "topic $SYS/#", SEL, MENU2_OK, "zigbee2mqtt/+", "$SYS/#", SDPP_OK, NULL },
	{ "topic empty levels", SEL, MENU2_OK, "zigbee2mqtt/+", "/a//b/", SDPP_OK, NULL },
	{ "topic +/+/#", SEL, MENU2_OK, "zigbee2mqtt/+", "+/+/#", SDPP_OK, NULL },
	{ "topic a+", SEL, MENU2_OK, "zigbee2mqtt/+", "zigbee2mqtt+", SDPP_E_BAD_MESSAGE,
	    "menu.products[].topic" },
	{ "topic +a", SEL, MENU2_OK, "zigbee2mqtt/+", "zigbee2mqtt/+a", SDPP_E_BAD_MESSAGE,
	    "menu.products[].topic" },
	{ "topic #/a", SEL, MENU2_OK, "zigbee2mqtt/+", "#/a", SDPP_E_BAD_MESSAGE,
	    "menu.products[].topic" },
	{ "topic a#", SEL, MENU2_OK, "zigbee2mqtt/+", "a#", SDPP_E_BAD_MESSAGE,
	    "menu.products[].topic" },
	{ "topic ##", SEL, MENU2_OK, "zigbee2mqtt/+", "a/##", SDPP_E_BAD_MESSAGE,
	    "menu.products[].topic" },
	/* Fields: "" or an RFC 6901 pointer. */
	{ "field /", SEL, MENU2_OK, "\"/temperature\"", "\"/\"", SDPP_OK, NULL },
	{ "field escapes", SEL, MENU2_OK, "/temperature", "/a~1b/~0/0", SDPP_OK, NULL },
	{ "field without /", SEL, MENU2_OK, "/temperature", "temperature", SDPP_E_BAD_MESSAGE,
	    "menu.products[].field" },
	{ "field ~2", SEL, MENU2_OK, "/temperature", "/a~2", SDPP_E_BAD_MESSAGE,
	    "menu.products[].field" },
	{ "field ~ last", SEL, MENU2_OK, "/temperature", "/a~", SDPP_E_BAD_MESSAGE,
	    "menu.products[].field" },
	/* Deadbands: (0|[1-9][0-9]*)(\.[0-9]+)? */
	{ "deadband 0", SEL, MENU2_OK, "\"0.2\"", "\"0\"", SDPP_OK, NULL },
	{ "deadband 15", SEL, MENU2_OK, "\"0.2\"", "\"15\"", SDPP_OK, NULL },
	{ "deadband 0.000", SEL, MENU2_OK, "\"0.2\"", "\"0.000\"", SDPP_OK, NULL },
	{ "deadband 10.25", SEL, MENU2_OK, "\"0.2\"", "\"10.25\"", SDPP_OK, NULL },
	{ "deadband .5", SEL, MENU2_OK, "\"0.2\"", "\".5\"", SDPP_E_BAD_MESSAGE,
	    "menu.products[].deadband" },
	{ "deadband 5.", SEL, MENU2_OK, "\"0.2\"", "\"5.\"", SDPP_E_BAD_MESSAGE,
	    "menu.products[].deadband" },
	{ "deadband 01", SEL, MENU2_OK, "\"0.2\"", "\"01\"", SDPP_E_BAD_MESSAGE,
	    "menu.products[].deadband" },
	{ "deadband -1", SEL, MENU2_OK, "\"0.2\"", "\"-1\"", SDPP_E_BAD_MESSAGE,
	    "menu.products[].deadband" },
	{ "deadband +1", SEL, MENU2_OK, "\"0.2\"", "\"+1\"", SDPP_E_BAD_MESSAGE,
	    "menu.products[].deadband" },
	{ "deadband 1e3", SEL, MENU2_OK, "\"0.2\"", "\"1e3\"", SDPP_E_BAD_MESSAGE,
	    "menu.products[].deadband" },
	{ "deadband 1.2.3", SEL, MENU2_OK, "\"0.2\"", "\"1.2.3\"", SDPP_E_BAD_MESSAGE,
	    "menu.products[].deadband" },
	{ "deadband space", SEL, MENU2_OK, "\"0.2\"", "\" 1\"", SDPP_E_BAD_MESSAGE,
	    "menu.products[].deadband" },
	/* The order's topic. */
	{ "order topic empty", BUY, ORDER2_OK, "\"zigbee2mqtt/kitchen\"", "\"\"", SDPP_OK, NULL },
	{ "order topic #", BUY, ORDER2_OK, "zigbee2mqtt/kitchen", "#", SDPP_OK, NULL },
	{ "order topic 1024 bytes", BUY, ORDER2_OK, "\"zigbee2mqtt/kitchen\"",
	    "\"" T256 T256 T256 T256 "\"", SDPP_OK, NULL },
	{ "order topic 1025 bytes", BUY, ORDER2_OK, "\"zigbee2mqtt/kitchen\"",
	    "\"" T256 T256 T256 T256 "x\"", SDPP_E_BAD_MESSAGE, "order.topic" },
	{ "order topic number", BUY, ORDER2_OK, "\"zigbee2mqtt/kitchen\"", "0", SDPP_E_BAD_MESSAGE,
	    "order.topic" },
	{ "order topic null", BUY, ORDER2_OK, "\"zigbee2mqtt/kitchen\"", "null", SDPP_E_BAD_MESSAGE,
	    "order.topic" },
	{ "order topic a/#/b", BUY, ORDER2_OK, "zigbee2mqtt/kitchen", "a/#/b", SDPP_E_BAD_MESSAGE,
	    "order.topic" },
	{ "order topic a+", BUY, ORDER2_OK, "zigbee2mqtt/kitchen", "a+", SDPP_E_BAD_MESSAGE,
	    "order.topic" },
	{ "order topic control", BUY, ORDER2_OK, "zigbee2mqtt/kitchen", "a\\u001b",
	    SDPP_E_BAD_MESSAGE, "order.topic" },
	{ "order extra member", BUY, ORDER2_OK, "\"time\"", "\"exclude\":\"\",\"time\"",
	    SDPP_E_BAD_MESSAGE, "order: unknown member" },
};

/* sdpp/2 resume and resumed (PROTOCOL.md 15.6.1): each member missing,
 * extra, of the wrong type or out of range; resumed's seq at most sent;
 * each from the wrong side. */
static const struct bad bad_resume[] = {
	/* resume */
	{ "resume without order_id", BUY, RESUME_OK, ",\"order_id\":\"" OID_HEX "\"", "",
	    SDPP_E_BAD_MESSAGE, "resume.order_id: missing" },
	{ "resume without seq", BUY, RESUME_OK, ",\"seq\":5", "", SDPP_E_BAD_MESSAGE,
	    "resume.seq: missing" },
	{ "resume without digest", BUY, RESUME_OK, "\"digest\":\"" DIG_HEX "\",", "",
	    SDPP_E_BAD_MESSAGE, "resume.digest: missing" },
	{ "resume without invoice", BUY, RESUME_OK, "\"invoice\":1,", "", SDPP_E_BAD_MESSAGE,
	    "resume.invoice: missing" },
	{ "resume without attempt", BUY, RESUME_OK, "\"attempt\":2,", "", SDPP_E_BAD_MESSAGE,
	    "resume.attempt: missing" },
	{ "resume extra member", BUY, RESUME_OK, "\"seq\":5", "\"seq\":5,\"sent\":7",
	    SDPP_E_BAD_MESSAGE, "resume: unknown member" },
	{ "resume with an exit's total", BUY, RESUME_OK, "\"seq\":5", "\"seq\":5,\"total\":\"25\"",
	    SDPP_E_BAD_MESSAGE, "resume: unknown member" },
	{ "resume empty data", BUY, RESUME_OK,
	    "\"attempt\":2,\"digest\":\"" DIG_HEX "\",\"invoice\":1,\"order_id\":\"" OID_HEX
	    "\",\"seq\":5",
	    "", SDPP_E_BAD_MESSAGE, "resume.order_id: missing" },
	{ "resume order_id as number", BUY, RESUME_OK, "\"order_id\":\"" OID_HEX "\"",
	    "\"order_id\":1", SDPP_E_BAD_MESSAGE, "resume.order_id" },
	{ "resume order_id 33 bytes", BUY, RESUME_OK, "\"order_id\":\"" OID_HEX "\"",
	    "\"order_id\":\"" OID_HEX "0d\"", SDPP_E_BAD_MESSAGE, "resume.order_id" },
	{ "resume seq as string", BUY, RESUME_OK, "\"seq\":5", "\"seq\":\"5\"", SDPP_E_BAD_MESSAGE,
	    "resume.seq" },
	{ "resume seq 0", BUY, RESUME_OK, "\"seq\":5", "\"seq\":0", SDPP_OK, NULL },
	{ "resume seq 2^53-1", BUY, RESUME_OK, "\"seq\":5", "\"seq\":9007199254740991", SDPP_OK,
	    NULL },
	{ "resume seq 2^53", BUY, RESUME_OK, "\"seq\":5", "\"seq\":9007199254740992",
	    SDPP_E_BAD_NUMBER, NULL },
	{ "resume seq -1", BUY, RESUME_OK, "\"seq\":5", "\"seq\":-1", SDPP_E_BAD_MESSAGE,
	    "resume.seq" },
	{ "resume seq 5.0", BUY, RESUME_OK, "\"seq\":5", "\"seq\":5.0", SDPP_E_BAD_NUMBER, NULL },
	{ "resume digest as null", BUY, RESUME_OK, "\"digest\":\"" DIG_HEX "\"", "\"digest\":null",
	    SDPP_E_BAD_MESSAGE, "resume.digest" },
	{ "resume digest upper case", BUY, RESUME_OK, "\"digest\":\"" DIG_HEX "\"",
	    "\"digest\":\"" DIG_HEX_UPPER "\"", SDPP_E_BAD_MESSAGE, "resume.digest" },
	{ "resume digest 30 bytes", BUY, RESUME_OK, "\"digest\":\"d1d2", "\"digest\":\"",
	    SDPP_E_BAD_MESSAGE, "resume.digest" },
	{ "resume invoice 0", BUY, RESUME_OK, "\"invoice\":1", "\"invoice\":0", SDPP_OK, NULL },
	{ "resume invoice -1", BUY, RESUME_OK, "\"invoice\":1", "\"invoice\":-1",
	    SDPP_E_BAD_MESSAGE, "resume.invoice" },
	{ "resume invoice as bool", BUY, RESUME_OK, "\"invoice\":1", "\"invoice\":true",
	    SDPP_E_BAD_MESSAGE, "resume.invoice" },
	{ "resume attempt 0", BUY, RESUME_OK, "\"attempt\":2", "\"attempt\":0", SDPP_E_BAD_MESSAGE,
	    "resume.attempt" },
	{ "resume attempt 1", BUY, RESUME_OK, "\"attempt\":2", "\"attempt\":1", SDPP_OK, NULL },
	{ "resume attempt 2^53-1", BUY, RESUME_OK, "\"attempt\":2", "\"attempt\":9007199254740991",
	    SDPP_OK, NULL },
	{ "resume attempt as string", BUY, RESUME_OK, "\"attempt\":2", "\"attempt\":\"2\"",
	    SDPP_E_BAD_MESSAGE, "resume.attempt" },
	{ "resume from a seller", SEL, RESUME_OK, NULL, NULL, SDPP_E_UNEXPECTED, NULL },
	/* resumed */
	{ "resumed without order_id", SEL, RESUMED_OK, "\"order_id\":\"" OID_HEX "\",", "",
	    SDPP_E_BAD_MESSAGE, "resumed.order_id: missing" },
	{ "resumed without seq", SEL, RESUMED_OK, ",\"seq\":5", "", SDPP_E_BAD_MESSAGE,
	    "resumed.seq: missing" },
	{ "resumed without sent", SEL, RESUMED_OK, "\"sent\":7,", "", SDPP_E_BAD_MESSAGE,
	    "resumed.sent: missing" },
	{ "resumed without invoice", SEL, RESUMED_OK, "\"invoice\":1,", "", SDPP_E_BAD_MESSAGE,
	    "resumed.invoice: missing" },
	{ "resumed without paid", SEL, RESUMED_OK, "\"paid\":\"25\",", "", SDPP_E_BAD_MESSAGE,
	    "resumed.paid: missing" },
	{ "resumed without dropped", SEL, RESUMED_OK, "\"dropped\":3,", "", SDPP_E_BAD_MESSAGE,
	    "resumed.dropped: missing" },
	{ "resumed extra member", SEL, RESUMED_OK, "\"seq\":5", "\"seq\":5,\"attempt\":2",
	    SDPP_E_BAD_MESSAGE, "resumed: unknown member" },
	{ "resumed order_id upper case", SEL, RESUMED_OK, "\"order_id\":\"" OID_HEX "\"",
	    "\"order_id\":\"0D0D0D0D0D0D0D0D0D0D0D0D0D0D0D0D0D0D0D0D0D0D0D0D0D0D0D0D0D0D0D0D\"",
	    SDPP_E_BAD_MESSAGE, "resumed.order_id" },
	{ "resumed seq -1", SEL, RESUMED_OK, "\"seq\":5", "\"seq\":-1", SDPP_E_BAD_MESSAGE,
	    "resumed.seq" },
	{ "resumed seq 0", SEL, RESUMED_OK, "\"seq\":5", "\"seq\":0", SDPP_OK, NULL },
	{ "resumed seq as string", SEL, RESUMED_OK, "\"seq\":5", "\"seq\":\"5\"",
	    SDPP_E_BAD_MESSAGE, "resumed.seq" },
	{ "resumed sent as string", SEL, RESUMED_OK, "\"sent\":7", "\"sent\":\"7\"",
	    SDPP_E_BAD_MESSAGE, "resumed.sent" },
	{ "resumed sent 2^53", SEL, RESUMED_OK, "\"sent\":7", "\"sent\":9007199254740992",
	    SDPP_E_BAD_NUMBER, NULL },
	{ "resumed sent 2^53-1", SEL, RESUMED_OK, "\"sent\":7", "\"sent\":9007199254740991",
	    SDPP_OK, NULL },
	{ "resumed invoice -1", SEL, RESUMED_OK, "\"invoice\":1", "\"invoice\":-1",
	    SDPP_E_BAD_MESSAGE, "resumed.invoice" },
	{ "resumed invoice 0", SEL, RESUMED_OK, "\"invoice\":1", "\"invoice\":0", SDPP_OK, NULL },
	{ "resumed paid as number", SEL, RESUMED_OK, "\"paid\":\"25\"", "\"paid\":25",
	    SDPP_E_BAD_MESSAGE, "resumed.paid" },
	{ "resumed paid 025", SEL, RESUMED_OK, "\"paid\":\"25\"", "\"paid\":\"025\"",
	    SDPP_E_BAD_MESSAGE, "resumed.paid" },
	{ "resumed paid 2^64-1", SEL, RESUMED_OK, "\"paid\":\"25\"",
	    "\"paid\":\"18446744073709551615\"", SDPP_OK, NULL },
	{ "resumed paid 2^64", SEL, RESUMED_OK, "\"paid\":\"25\"",
	    "\"paid\":\"18446744073709551616\"", SDPP_E_OVERFLOW, "resumed.paid" },
	{ "resumed paid 0", SEL, RESUMED_OK, "\"paid\":\"25\"", "\"paid\":\"0\"", SDPP_OK, NULL },
	{ "resumed dropped -1", SEL, RESUMED_OK, "\"dropped\":3", "\"dropped\":-1",
	    SDPP_E_BAD_MESSAGE, "resumed.dropped" },
	{ "resumed dropped null", SEL, RESUMED_OK, "\"dropped\":3", "\"dropped\":null",
	    SDPP_E_BAD_MESSAGE, "resumed.dropped" },
	/* The seller resends seq + 1..sent: it cannot hold more than it sent. */
	{ "resumed seq above sent", SEL, RESUMED_OK, "\"sent\":7", "\"sent\":4", SDPP_E_BAD_MESSAGE,
	    "resumed.seq: beyond sent" },
	{ "resumed seq = sent", SEL, RESUMED_OK, "\"sent\":7", "\"sent\":5", SDPP_OK, NULL },
	{ "resumed seq 2^53-1 sent 0", SEL, RESUMED_OK, "\"sent\":7,\"seq\":5",
	    "\"sent\":0,\"seq\":9007199254740991", SDPP_E_BAD_MESSAGE, "resumed.seq: beyond sent" },
	{ "resumed from a buyer", BUY, RESUMED_OK, NULL, NULL, SDPP_E_UNEXPECTED, NULL },
};

static const struct bad bad_order[] = {
	{ "missing time", BUY, ORDER_OK, ",\"time\":1700000000000", "", SDPP_E_BAD_MESSAGE,
	    "order.time" },
	{ "missing buyer", BUY, ORDER_OK, "\"buyer\":\"" BUYER_HEX "\",", "", SDPP_E_BAD_MESSAGE,
	    "order.buyer" },
	{ "extra field", BUY, ORDER_OK, "\"quantity\":10", "\"quantity\":10,\"tip\":\"1\"",
	    SDPP_E_BAD_MESSAGE, "order" },
	{ "quantity as string", BUY, ORDER_OK, "\"quantity\":10", "\"quantity\":\"10\"",
	    SDPP_E_BAD_MESSAGE, "order.quantity" },
	{ "quantity 1.5", BUY, ORDER_OK, "\"quantity\":10", "\"quantity\":1.5", SDPP_E_BAD_NUMBER,
	    NULL },
	{ "quantity 1e1", BUY, ORDER_OK, "\"quantity\":10", "\"quantity\":1e1", SDPP_E_BAD_NUMBER,
	    NULL },
	{ "quantity 010", BUY, ORDER_OK, "\"quantity\":10", "\"quantity\":010", SDPP_E_BAD_NUMBER,
	    NULL },
	{ "quantity -0", BUY, ORDER_OK, "\"quantity\":10", "\"quantity\":-0", SDPP_E_BAD_NUMBER,
	    NULL },
	{ "quantity -1", BUY, ORDER_OK, "\"quantity\":10", "\"quantity\":-1", SDPP_E_BAD_MESSAGE,
	    "order.quantity" },
	{ "quantity 2^53", BUY, ORDER_OK, "\"quantity\":10", "\"quantity\":9007199254740992",
	    SDPP_E_BAD_NUMBER, NULL },
	{ "quantity 2^53-1", BUY, ORDER_OK, "\"quantity\":10", "\"quantity\":9007199254740991",
	    SDPP_OK, NULL },
	{ "quantity 0 (open-ended)", BUY, ORDER_OK, "\"quantity\":10", "\"quantity\":0", SDPP_OK,
	    NULL },
	{ "quantity true", BUY, ORDER_OK, "\"quantity\":10", "\"quantity\":true",
	    SDPP_E_BAD_MESSAGE, "order.quantity" },
	{ "quantity null", BUY, ORDER_OK, "\"quantity\":10", "\"quantity\":null",
	    SDPP_E_BAD_MESSAGE, "order.quantity" },
	{ "price as a number", BUY, ORDER_OK, "\"price\":\"5\"", "\"price\":5", SDPP_E_BAD_MESSAGE,
	    "order.price" },
	{ "price 01", BUY, ORDER_OK, "\"price\":\"5\"", "\"price\":\"01\"", SDPP_E_BAD_MESSAGE,
	    "order.price" },
	{ "price empty", BUY, ORDER_OK, "\"price\":\"5\"", "\"price\":\"\"", SDPP_E_BAD_MESSAGE,
	    "order.price" },
	{ "price -5", BUY, ORDER_OK, "\"price\":\"5\"", "\"price\":\"-5\"", SDPP_E_BAD_MESSAGE,
	    NULL },
	{ "price 5.0", BUY, ORDER_OK, "\"price\":\"5\"", "\"price\":\"5.0\"", SDPP_E_BAD_MESSAGE,
	    NULL },
	{ "price with a space", BUY, ORDER_OK, "\"price\":\"5\"", "\"price\":\" 5\"",
	    SDPP_E_BAD_MESSAGE, NULL },
	{ "price 2^64", BUY, ORDER_OK, "\"price\":\"5\"", "\"price\":\"18446744073709551616\"",
	    SDPP_E_OVERFLOW, "order.price" },
	{ "price 2^64-1", BUY, ORDER_OK, "\"price\":\"5\"", "\"price\":\"18446744073709551615\"",
	    SDPP_OK, NULL },
	{ "price 0", BUY, ORDER_OK, "\"price\":\"5\"", "\"price\":\"0\"", SDPP_OK, NULL },
	{ "buyer upper-case hex", BUY, ORDER_OK, "\"buyer\":\"0123456789abcdef",
	    "\"buyer\":\"0123456789ABCDEF", SDPP_E_BAD_MESSAGE, "order.buyer" },
	{ "buyer 63 hex digits", BUY, ORDER_OK, "\"buyer\":\"0", "\"buyer\":\"", SDPP_E_BAD_MESSAGE,
	    "order.buyer" },
	{ "buyer 65 hex digits", BUY, ORDER_OK, "\"buyer\":\"0", "\"buyer\":\"00",
	    SDPP_E_BAD_MESSAGE, "order.buyer" },
	{ "buyer not hex", BUY, ORDER_OK, "\"buyer\":\"0", "\"buyer\":\"g", SDPP_E_BAD_MESSAGE,
	    "order.buyer" },
	{ "buyer as a number", BUY, ORDER_OK, "\"buyer\":\"" BUYER_HEX "\"", "\"buyer\":1",
	    SDPP_E_BAD_MESSAGE, "order.buyer" },
	{ "enc_key 62 hex digits", BUY, ORDER_OK, "\"enc_key\":\"fe", "\"enc_key\":\"",
	    SDPP_E_BAD_MESSAGE, "order.enc_key" },
	{ "nonce 30 hex digits", BUY, ORDER_OK, "\"nonce\":\"00", "\"nonce\":\"",
	    SDPP_E_BAD_MESSAGE, "order.nonce" },
	{ "product with a space", BUY, ORDER_OK, "\"product\":\"temp\"", "\"product\":\"te mp\"",
	    SDPP_E_BAD_MESSAGE, "order.product" },
	{ "product with a slash", BUY, ORDER_OK, "\"product\":\"temp\"", "\"product\":\"te/mp\"",
	    SDPP_E_BAD_MESSAGE, "order.product" },
	{ "product not ASCII", BUY, ORDER_OK, "\"product\":\"temp\"", "\"product\":\"t\xc3\xa9mp\"",
	    SDPP_E_BAD_MESSAGE, "order.product" },
	{ "product empty", BUY, ORDER_OK, "\"product\":\"temp\"", "\"product\":\"\"",
	    SDPP_E_BAD_MESSAGE, "order.product" },
	{ "product 64 chars", BUY, ORDER_OK, "\"product\":\"temp\"", "\"product\":\"" T64 "\"",
	    SDPP_OK, NULL },
	{ "product 65 chars", BUY, ORDER_OK, "\"product\":\"temp\"", "\"product\":\"" T64 "a\"",
	    SDPP_E_BAD_MESSAGE, "order.product" },
	{ "currency \\u0001", BUY, ORDER_OK, "\"currency\":\"EUR\"", "\"currency\":\"E\\u0001R\"",
	    SDPP_E_BAD_MESSAGE, "order.currency" },
	{ "currency \\t", BUY, ORDER_OK, "\"currency\":\"EUR\"", "\"currency\":\"EUR\\t\"",
	    SDPP_E_BAD_MESSAGE, "order.currency" },
	{ "currency raw control", BUY, ORDER_OK, "\"currency\":\"EUR\"", "\"currency\":\"E\x01R\"",
	    SDPP_E_BAD_JSON, NULL },
	{ "currency 16 chars", BUY, ORDER_OK, "\"currency\":\"EUR\"", "\"currency\":\"" T16 "\"",
	    SDPP_OK, NULL },
	{ "currency 17 chars", BUY, ORDER_OK, "\"currency\":\"EUR\"", "\"currency\":\"" T16 "q\"",
	    SDPP_E_BAD_MESSAGE, "order.currency" },
	{ "payment_address 128 bytes", BUY, ORDER_OK, "\"payment_address\":\"\"",
	    "\"payment_address\":\"" T128 "\"", SDPP_OK, NULL },
	{ "payment_address 129 bytes", BUY, ORDER_OK, "\"payment_address\":\"\"",
	    "\"payment_address\":\"" T128 "x\"", SDPP_E_BAD_MESSAGE, "order.payment_address" },
	{ "payment_address 128 bytes of UTF-8", BUY, ORDER_OK, "\"payment_address\":\"\"",
	    "\"payment_address\":\"" T64 T16 T16 T16 "\xe2\x82\xac\xe2\x82\xac"
	    "\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac"
	    "a\"",
	    SDPP_OK, NULL },
	{ "payment_address 129 bytes of UTF-8", BUY, ORDER_OK, "\"payment_address\":\"\"",
	    "\"payment_address\":\"" T64 T16 T16 T16 "\xe2\x82\xac\xe2\x82\xac"
	    "\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac"
	    "ab\"",
	    SDPP_E_BAD_MESSAGE, NULL },
	{ "payment_address \\u0007", BUY, ORDER_OK, "\"payment_address\":\"\"",
	    "\"payment_address\":\"a\\u0007\"", SDPP_E_BAD_MESSAGE, "order.payment_address" },
	{ "payment_address \\u007f", BUY, ORDER_OK, "\"payment_address\":\"\"",
	    "\"payment_address\":\"a\\u007f\"", SDPP_E_BAD_MESSAGE, "order.payment_address" },
	{ "payment_address raw U+0085", BUY, ORDER_OK, "\"payment_address\":\"\"",
	    "\"payment_address\":\"a\xc2\x85\"", SDPP_E_BAD_MESSAGE, "order.payment_address" },
	{ "payment_address \\u0085", BUY, ORDER_OK, "\"payment_address\":\"\"",
	    "\"payment_address\":\"a\\u0085\"", SDPP_E_BAD_MESSAGE, "order.payment_address" },
	{ "payment_address raw U+009F", BUY, ORDER_OK, "\"payment_address\":\"\"",
	    "\"payment_address\":\"\xc2\x9f\"", SDPP_E_BAD_MESSAGE, "order.payment_address" },
	{ "payment_address U+00A0", BUY, ORDER_OK, "\"payment_address\":\"\"",
	    "\"payment_address\":\"\xc2\xa0\"", SDPP_OK, NULL },
	{ "payment_address unicode", BUY, ORDER_OK, "\"payment_address\":\"\"",
	    "\"payment_address\":\"CO₂ — 2nd floor 🌡\"", SDPP_OK, NULL },
	{ "time -1", BUY, ORDER_OK, "\"time\":1700000000000", "\"time\":-1", SDPP_E_BAD_MESSAGE,
	    "order.time" },
	{ "time as string", BUY, ORDER_OK, "\"time\":1700000000000", "\"time\":\"1\"",
	    SDPP_E_BAD_MESSAGE, "order.time" },
};

static const struct bad bad_body[] = {
	/* data */
	{ "data seq 0", SEL, DATA_OK, "\"seq\":1", "\"seq\":0", SDPP_E_BAD_MESSAGE, "data.seq" },
	{ "data seq -1", SEL, DATA_OK, "\"seq\":1", "\"seq\":-1", SDPP_E_BAD_MESSAGE, "data.seq" },
	{ "data seq 2^53-1", SEL, DATA_OK, "\"seq\":1", "\"seq\":9007199254740991", SDPP_OK, NULL },
	{ "data ciphertext 15 bytes", SEL, DATA_OK, B64_16, B64_15, SDPP_E_BAD_MESSAGE,
	    "data.ciphertext" },
	{ "data ciphertext empty", SEL, DATA_OK, B64_16, "", SDPP_E_BAD_MESSAGE,
	    "data.ciphertext" },
	{ "data ciphertext padding bits set", SEL, DATA_OK, B64_16,
	    "AAECAwQFBgcICQoLDA0ODx==", SDPP_E_BAD_MESSAGE, "data.ciphertext" },
	{ "data ciphertext unpadded", SEL, DATA_OK, B64_16, "AAECAwQFBgcICQoLDA0ODw",
	    SDPP_E_BAD_MESSAGE, "data.ciphertext" },
	{ "data ciphertext base64url", SEL, DATA_OK, B64_16,
	    "AAECAwQFBgcICQoLDA0-_w==", SDPP_E_BAD_MESSAGE, "data.ciphertext" },
	{ "data ciphertext with \\n", SEL, DATA_OK, B64_16,
	    "AAECAwQFBgcI\\nCQoLDA0ODw==", SDPP_E_BAD_MESSAGE, "data.ciphertext" },
	{ "data order_id upper case", SEL, DATA_OK, "\"order_id\":\"0d", "\"order_id\":\"0D",
	    SDPP_E_BAD_MESSAGE, "data.order_id" },
	{ "data order_id 62 digits", SEL, DATA_OK, "\"order_id\":\"0d", "\"order_id\":\"",
	    SDPP_E_BAD_MESSAGE, "data.order_id" },
	/* data_invoice */
	{ "invoice first_seq > last_seq", SEL, INVOICE_OK, "\"first_seq\":1", "\"first_seq\":6",
	    SDPP_E_BAD_MESSAGE, "data_invoice.first_seq" },
	{ "invoice first_seq = last_seq", SEL, INVOICE_OK, "\"first_seq\":1", "\"first_seq\":5",
	    SDPP_OK, NULL },
	{ "invoice first_seq 0", SEL, INVOICE_OK, "\"first_seq\":1", "\"first_seq\":0",
	    SDPP_E_BAD_MESSAGE, "data_invoice.first_seq" },
	{ "invoice number 0", SEL, INVOICE_OK, "\"invoice\":1", "\"invoice\":0", SDPP_E_BAD_MESSAGE,
	    "data_invoice.invoice" },
	{ "invoice amount 2^64", SEL, INVOICE_OK, "\"amount\":\"25\"",
	    "\"amount\":\"18446744073709551616\"", SDPP_E_OVERFLOW, "data_invoice.amount" },
	{ "invoice total_due 025", SEL, INVOICE_OK, "\"total_due\":\"25\"", "\"total_due\":\"025\"",
	    SDPP_E_BAD_MESSAGE, "data_invoice.total_due" },
	{ "invoice without delivered", SEL, INVOICE_OK, "\"delivered\":5,", "", SDPP_E_BAD_MESSAGE,
	    "data_invoice.delivered" },
	/* menu */
	{ "menu products null", SEL,
	    "{\"data\":{\"ack_every\":2,\"currency\":\"EUR\",\"gateway\":\"gw1\","
	    "\"max_frame\":1048576,\"max_unpaid\":10,\"payment_address\":\"\","
	    "\"payment_granularity\":5,\"payment_method\":\"voucher\",\"products\":null,"
	    "\"seller\":\"" SELLER_HEX
	    "\",\"sign_items\":false,\"version\":\"sdpp/1\"}" ENV_TAIL("menu"),
	    NULL, NULL, SDPP_E_BAD_MESSAGE, "menu.products" },
	{ "menu products {}", SEL,
	    "{\"data\":{\"ack_every\":2,\"currency\":\"EUR\",\"gateway\":\"gw1\","
	    "\"max_frame\":1048576,\"max_unpaid\":10,\"payment_address\":\"\","
	    "\"payment_granularity\":5,\"payment_method\":\"voucher\",\"products\":{},"
	    "\"seller\":\"" SELLER_HEX
	    "\",\"sign_items\":false,\"version\":\"sdpp/1\"}" ENV_TAIL("menu"),
	    NULL, NULL, SDPP_E_BAD_MESSAGE, "menu.products" },
	{ "menu products []", SEL,
	    "{\"data\":{\"ack_every\":2,\"currency\":\"EUR\",\"gateway\":\"gw1\","
	    "\"max_frame\":1048576,\"max_unpaid\":10,\"payment_address\":\"\","
	    "\"payment_granularity\":5,\"payment_method\":\"voucher\",\"products\":[],"
	    "\"seller\":\"" SELLER_HEX
	    "\",\"sign_items\":false,\"version\":\"sdpp/1\"}" ENV_TAIL("menu"),
	    NULL, NULL, SDPP_OK, NULL },
	{ "menu product not an object", SEL, MENU_OK, "\"products\":[", "\"products\":[1,",
	    SDPP_E_BAD_MESSAGE, "menu.products[]" },
	{ "menu duplicate product id", SEL, MENU_OK, "\"id\":\"temp\"", "\"id\":\"co2\"",
	    SDPP_E_BAD_MESSAGE, "menu.products" },
	{ "menu product extra field", SEL, MENU_OK, "\"unit\":\"ppm\"", "\"unit\":\"ppm\",\"x\":1",
	    SDPP_E_BAD_MESSAGE, "menu.products[]" },
	{ "menu product without prepay", SEL, MENU_OK, "\"prepay\":false,", "", SDPP_E_BAD_MESSAGE,
	    "menu.products[].prepay" },
	{ "menu product prepay as string", SEL, MENU_OK, "\"prepay\":false", "\"prepay\":\"false\"",
	    SDPP_E_BAD_MESSAGE, "menu.products[].prepay" },
	{ "menu product price as number", SEL, MENU_OK, "\"price\":\"7\"", "\"price\":7",
	    SDPP_E_BAD_MESSAGE, "menu.products[].price" },
	{ "menu product price 2^64", SEL, MENU_OK, "\"price\":\"7\"",
	    "\"price\":\"18446744073709551616\"", SDPP_E_OVERFLOW, "menu.products[].price" },
	{ "menu product id with a space", SEL, MENU_OK, "\"id\":\"co2\"", "\"id\":\"co 2\"",
	    SDPP_E_BAD_MESSAGE, "menu.products[].id" },
	{ "menu product description 257 bytes", SEL, MENU_OK, "\"description\":\"CO₂ — 2nd floor\"",
	    "\"description\":\"" T256 "x\"", SDPP_E_BAD_MESSAGE, "menu.products[].description" },
	{ "menu product description \\u0085", SEL, MENU_OK, "\"description\":\"\"",
	    "\"description\":\"\\u0085\"", SDPP_E_BAD_MESSAGE, "menu.products[].description" },
	{ "menu ack_every > payment_granularity", SEL, MENU_OK, "\"ack_every\":2",
	    "\"ack_every\":6", SDPP_E_BAD_MESSAGE, "menu.ack_every" },
	{ "menu ack_every = payment_granularity", SEL, MENU_OK, "\"ack_every\":2",
	    "\"ack_every\":5", SDPP_OK, NULL },
	{ "menu ack_every 0", SEL, MENU_OK, "\"ack_every\":2", "\"ack_every\":0",
	    SDPP_E_BAD_MESSAGE, "menu.ack_every" },
	{ "menu payment_granularity 0", SEL, MENU_OK, "\"payment_granularity\":5",
	    "\"payment_granularity\":0", SDPP_E_BAD_MESSAGE, "menu.payment_granularity" },
	{ "menu max_frame 16383", SEL, MENU_OK, "\"max_frame\":1048576", "\"max_frame\":16383",
	    SDPP_E_BAD_MESSAGE, "menu.max_frame" },
	{ "menu max_frame 16384", SEL, MENU_OK, "\"max_frame\":1048576", "\"max_frame\":16384",
	    SDPP_OK, NULL },
	{ "menu max_frame 16777216", SEL, MENU_OK, "\"max_frame\":1048576",
	    "\"max_frame\":16777216", SDPP_OK, NULL },
	{ "menu max_frame 16777217", SEL, MENU_OK, "\"max_frame\":1048576",
	    "\"max_frame\":16777217", SDPP_E_BAD_MESSAGE, "menu.max_frame" },
	{ "menu sign_items as number", SEL, MENU_OK, "\"sign_items\":false", "\"sign_items\":0",
	    SDPP_E_BAD_MESSAGE, "menu.sign_items" },
	{ "menu seller upper case", SEL, MENU_OK, "\"seller\":\"c0ffee", "\"seller\":\"C0FFEE",
	    SDPP_E_BAD_MESSAGE, "menu.seller" },
	{ "menu gateway with a space", SEL, MENU_OK, "\"gateway\":\"gw1\"", "\"gateway\":\"gw 1\"",
	    SDPP_E_BAD_MESSAGE, "menu.gateway" },
	/* session_key */
	{ "session_key sealed 79 bytes", SEL, SESSION_KEY_OK, B64_80, B64_79, SDPP_E_BAD_MESSAGE,
	    "session_key.sealed_key" },
	{ "session_key sealed 64 bytes", SEL, SESSION_KEY_OK, B64_80, B64_64, SDPP_E_BAD_MESSAGE,
	    "session_key.sealed_key" },
	{ "session_key nonce_prefix 3 bytes", SEL, SESSION_KEY_OK, "\"01020304\"", "\"010203\"",
	    SDPP_E_BAD_MESSAGE, "session_key.nonce_prefix" },
	{ "session_key nonce_prefix 5 bytes", SEL, SESSION_KEY_OK, "\"01020304\"", "\"0102030405\"",
	    SDPP_E_BAD_MESSAGE, "session_key.nonce_prefix" },
	/* ack, payment_ack */
	{ "ack seq 0", BUY, ACK_OK, "\"seq\":5", "\"seq\":0", SDPP_E_BAD_MESSAGE, "ack.seq" },
	{ "ack digest 30 bytes", BUY, ACK_OK, "\"digest\":\"d1d2", "\"digest\":\"",
	    SDPP_E_BAD_MESSAGE, "ack.digest" },
	{ "payment_ack total as number", BUY, PAYMENT_OK, "\"total\":\"25\"", "\"total\":25",
	    SDPP_E_BAD_MESSAGE, "payment_ack.total" },
	{ "payment_ack invoice 0", BUY, PAYMENT_OK, "\"invoice\":1", "\"invoice\":0",
	    SDPP_E_BAD_MESSAGE, "payment_ack.invoice" },
	{ "payment_ack total 2^64", BUY, PAYMENT_OK, "\"total\":\"25\"",
	    "\"total\":\"18446744073709551616\"", SDPP_E_OVERFLOW, "payment_ack.total" },
	/* exit: the shape depends on the sender */
	{ "buyer exit seq 0", BUY, EXIT_BUYER_OK, "\"seq\":5", "\"seq\":0", SDPP_OK, NULL },
	{ "buyer exit without total", BUY, EXIT_BUYER_OK, ",\"total\":\"25\"", "",
	    SDPP_E_BAD_MESSAGE, "exit.total" },
	{ "buyer exit shape from a seller", SEL, EXIT_BUYER_OK, NULL, NULL, SDPP_E_BAD_MESSAGE,
	    "exit" },
	{ "statement shape from a buyer", BUY, EXIT_SELLER_OK, NULL, NULL, SDPP_E_BAD_MESSAGE,
	    "exit" },
	{ "statement settled as string", SEL, EXIT_SELLER_OK, "\"settled\":true",
	    "\"settled\":\"yes\"", SDPP_E_BAD_MESSAGE, "exit.settled" },
	{ "statement total_paid 2^64", SEL, EXIT_SELLER_OK, "\"total_paid\":\"25\"",
	    "\"total_paid\":\"18446744073709551616\"", SDPP_E_OVERFLOW, "exit.total_paid" },
	/* error */
	{ "error code with spaces", BUY, ERROR_OK, "\"bad_json\"", "\"bad json\"",
	    SDPP_E_BAD_MESSAGE, "error.code" },
	{ "error code empty", BUY, ERROR_OK, "\"bad_json\"", "\"\"", SDPP_E_BAD_MESSAGE,
	    "error.code" },
	{ "error code 65 chars", BUY, ERROR_OK, "\"bad_json\"", "\"" T64 "a\"", SDPP_E_BAD_MESSAGE,
	    "error.code" },
	{ "error code unknown but well formed", SEL, ERROR_OK, "\"bad_json\"", "\"teapot\"",
	    SDPP_OK, NULL },
	{ "error message \\u0007", BUY, ERROR_OK, "line 1: nope", "bell\\u0007", SDPP_E_BAD_MESSAGE,
	    "error.message" },
	{ "error message \\n", BUY, ERROR_OK, "line 1: nope", "two\\nlines", SDPP_E_BAD_MESSAGE,
	    "error.message" },
	{ "error message raw U+0085", SEL, ERROR_OK, "line 1: nope", "next\xc2\x85line",
	    SDPP_E_BAD_MESSAGE, "error.message" },
	{ "error message \\u0085", SEL, ERROR_OK, "line 1: nope", "next\\u0085line",
	    SDPP_E_BAD_MESSAGE, "error.message" },
	{ "error message empty", SEL, ERROR_OK, "line 1: nope", "", SDPP_OK, NULL },
	{ "error message 256 bytes", SEL, ERROR_OK, "line 1: nope", T256, SDPP_OK, NULL },
	{ "error message 257 bytes", SEL, ERROR_OK, "line 1: nope", T256 "x", SDPP_E_BAD_MESSAGE,
	    "error.message" },
	{ "error message unicode", SEL, ERROR_OK, "line 1: nope", "CO₂ — 2nd floor", SDPP_OK,
	    NULL },
	{ "error without message", SEL, ERROR_OK, ",\"message\":\"line 1: nope\"", "",
	    SDPP_E_BAD_MESSAGE, "error.message" },
};

/* base, or base with its one occurrence of find replaced by repl; malloc'd. */
static char *
edit_frame(const char *name, const char *base, const char *find, const char *repl, size_t *len)
{
	char *out;

	if (find != NULL) {
		out = replace_once(name, base, find, repl);
	} else {
		out = malloc(strlen(base) + 1);
		assert_non_null(out);
		memcpy(out, base, strlen(base) + 1);
	}
	*len = strlen(out);
	return out;
}

/* Parses one frame and checks the result, the err text and that *msg is untouched on error. */
static void
check_bad(const char *name, enum sdpp_role from, const char *frame, size_t len, enum sdpp_err want,
    const char *where)
{
	struct sdpp_msg m, untouched;
	char err[256];
	enum sdpp_err e;

	memset(&m, 0xa5, sizeof(m));
	memset(&untouched, 0xa5, sizeof(untouched));
	memset(err, 'x', sizeof(err));
	e = sdpp_msg_parse(&m, frame, len, from, err, sizeof(err));
	assert_non_null(memchr(err, '\0', sizeof(err)));
	if (e != want)
		fail_msg("%s: got %d (%s), want %d (%s); err \"%s\"", name, e, sdpp_err_code(e),
		    want, sdpp_err_code(want), err);
	if (e == SDPP_OK) {
		assert_string_equal(err, "");
		sdpp_msg_free(&m);
		return;
	}
	if (err[0] == '\0')
		fail_msg("%s: empty err text", name);
	if (where != NULL && strstr(err, where) == NULL)
		fail_msg("%s: err \"%s\" does not name %s", name, err, where);
	/* On error *msg is untouched. */
	if (memcmp(&m, &untouched, sizeof(m)) != 0)
		fail_msg("%s: *msg written on error", name);
	/* Same result without an err buffer, or with a 1-byte one. */
	assert_int_equal(sdpp_msg_parse(&m, frame, len, from, NULL, 0), e);
	assert_int_equal(sdpp_msg_parse(&m, frame, len, from, err, 1), e);
	assert_int_equal(err[0], '\0');
}

static void
run_bad(const struct bad *v, size_t n)
{
	size_t i, len;
	char *frame;

	for (i = 0; i < n; i++) {
		frame = edit_frame(v[i].name, v[i].base, v[i].find, v[i].repl, &len);
		check_bad(v[i].name, v[i].from, frame, len, v[i].want, v[i].where);
		free(frame);
	}
}

static void
test_bad_envelope(void **state)
{
	(void)state;
	run_bad(bad_envelope, sizeof(bad_envelope) / sizeof(bad_envelope[0]));
}

static void
test_bad_v2(void **state)
{
	(void)state;
	run_bad(bad_v2, sizeof(bad_v2) / sizeof(bad_v2[0]));
}

static void
test_bad_resume(void **state)
{
	(void)state;
	run_bad(bad_resume, sizeof(bad_resume) / sizeof(bad_resume[0]));
}

static void
test_bad_order(void **state)
{
	(void)state;
	run_bad(bad_order, sizeof(bad_order) / sizeof(bad_order[0]));
}

static void
test_bad_body(void **state)
{
	(void)state;
	run_bad(bad_body, sizeof(bad_body) / sizeof(bad_body[0]));
}

/*
 * Frames with two faults: the one docs/PROTOCOL.md section 4.4 checks first
 * decides the code, so two implementations report the same error.
 */
static void
test_order_of_checks(void **state)
{
	static const struct {
		const char *name;
		enum sdpp_role from;
		const char *base, *find, *repl;
		enum sdpp_err want;
		const char *where;
		const char *find2, *repl2; /* optional second edit */
	} v[] = {
		/* Order of checks (section 4.4): type, then role, then members. */
		{ "unknown type before missing members", BUY, "{\"message_type\":\"goodbye\"}",
		    NULL, NULL, SDPP_E_UNKNOWN_TYPE, NULL, NULL, NULL },
		{ "role before missing members", BUY, "{\"message_type\":\"menu\"}", NULL, NULL,
		    SDPP_E_UNEXPECTED, NULL, NULL, NULL },
		{ "role before a bad body", BUY, MENU_OK, "\"ack_every\":2", "\"ack_every\":\"2\"",
		    SDPP_E_UNEXPECTED, NULL, NULL, NULL },
		/* ... the signature format before the body ... */
		{ "signature format before body", BUY, ORDER_OK, "\"signature\":\"\"",
		    "\"signature\":\"!!\"", SDPP_E_BAD_MESSAGE, "signature", "\"price\":\"5\"",
		    "\"price\":\"18446744073709551616\"" },
		/* ... body fields in the order of the section 5 tables ... */
		{ "product before price", BUY, ORDER_OK, "\"price\":\"5\",\"product\":\"temp\"",
		    "\"price\":\"18446744073709551616\",\"product\":\"te mp\"", SDPP_E_BAD_MESSAGE,
		    "order.product", NULL, NULL },
		{ "quantity before price", BUY, ORDER_OK, "\"price\":\"5\"",
		    "\"price\":\"18446744073709551616\"", SDPP_E_BAD_MESSAGE, "order.quantity",
		    "\"quantity\":10", "\"quantity\":-1" },
		{ "price before payment_address", BUY, ORDER_OK,
		    "\"payment_address\":\"\",\"price\":\"5\"",
		    "\"payment_address\":\"" T128 "x\",\"price\":\"18446744073709551616\"",
		    SDPP_E_OVERFLOW, "order.price", NULL, NULL },
		/* ... and the version last. */
		{ "hello body before version", BUY, HELLO_OK, "\"sdpp/1\"", "\"sdpp/3\",\"x\":1",
		    SDPP_E_BAD_MESSAGE, NULL, NULL, NULL },
		{ "menu body before version", SEL, MENU_OK,
		    "\"sign_items\":false,\"version\":\"sdpp/1\"",
		    "\"sign_items\":0,\"version\":\"sdpp/3\"", SDPP_E_BAD_MESSAGE,
		    "menu.sign_items", NULL, NULL },
		/* resume and resumed: members in the order of the section 15.6.1
		 * tables, then resumed's seq <= sent. */
		{ "resume order_id before seq", BUY, RESUME_OK, "\"seq\":5", "\"seq\":-1",
		    SDPP_E_BAD_MESSAGE, "resume.order_id", "\"order_id\":\"" OID_HEX "\"",
		    "\"order_id\":\"\"" },
		{ "resume seq before digest", BUY, RESUME_OK, "\"seq\":5", "\"seq\":-1",
		    SDPP_E_BAD_MESSAGE, "resume.seq", "\"digest\":\"" DIG_HEX "\"",
		    "\"digest\":1" },
		{ "resume invoice before attempt", BUY, RESUME_OK, "\"attempt\":2", "\"attempt\":0",
		    SDPP_E_BAD_MESSAGE, "resume.invoice", "\"invoice\":1", "\"invoice\":-1" },
		{ "resumed sent before paid", SEL, RESUMED_OK, "\"paid\":\"25\"",
		    "\"paid\":\"18446744073709551616\"", SDPP_E_BAD_MESSAGE, "resumed.sent",
		    "\"sent\":7", "\"sent\":-7" },
		{ "resumed members before seq <= sent", SEL, RESUMED_OK, "\"sent\":7", "\"sent\":4",
		    SDPP_E_BAD_MESSAGE, "resumed.dropped", "\"dropped\":3", "\"dropped\":-1" },
		{ "resumed role before body", BUY, RESUMED_OK, "\"sent\":7", "\"sent\":4",
		    SDPP_E_UNEXPECTED, NULL, NULL, NULL },
	};
	size_t i, len;
	char *frame, *f2;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		frame = edit_frame(v[i].name, v[i].base, v[i].find, v[i].repl, &len);
		if (v[i].find2 != NULL) {
			f2 = replace_once(v[i].name, frame, v[i].find2, v[i].repl2);
			free(frame);
			frame = f2;
			len = strlen(frame);
		}
		check_bad(v[i].name, v[i].from, frame, len, v[i].want, v[i].where);
		free(frame);
	}
}

/* Inputs a literal cannot hold: NUL bytes, a cap + 1 products of each version. */
static void
test_bad_generated(void **state)
{
	static const char nul_frame[] = "{\"data\":{\"version\":\"sdpp/1\"},\"message_type\":"
	                                "\"hello\",\"signature\":\"\",\"verification\":\"\0\"}";
	/* The encoder refuses a menu above its version's cap, so a frame of
	 * cap + 1 products is the frame of cap products with its first
	 * product written once more: "too many" is checked before the ids. */
	static const struct {
		const char *version;
		size_t nproducts;
		int extra;
		enum sdpp_err e;
	} v[] = {
		{ SDPP_VERSION, SDPP_PRODUCTS_MAX_V1, 0, SDPP_OK },
		{ SDPP_VERSION, SDPP_PRODUCTS_MAX_V1, 1, SDPP_E_BAD_MESSAGE },
		{ SDPP_VERSION_2, SDPP_PRODUCTS_MAX_V1 + 1, 0, SDPP_OK },
		{ SDPP_VERSION_2, SDPP_PRODUCTS_MAX, 0, SDPP_OK },
		{ SDPP_VERSION_2, SDPP_PRODUCTS_MAX, 1, SDPP_E_BAD_MESSAGE },
	};
	struct sdpp_product *products;
	struct sdpp_msg m, p;
	char *out, *frame, *first, *end, err[256];
	size_t i, j, len, flen;

	(void)state;
	assert_int_equal(
	    sdpp_msg_parse(&p, nul_frame, sizeof(nul_frame) - 1, BUY, err, sizeof(err)),
	    SDPP_E_BAD_JSON);
	products = calloc(SDPP_PRODUCTS_MAX, sizeof(*products));
	assert_non_null(products);
	for (j = 0; j < SDPP_PRODUCTS_MAX; j++) {
		fill_product(&products[j], j + 3);
		snprintf(products[j].id, sizeof(products[j].id), "p%zu", j);
		fill_product_v2(&products[j], j + 3);
	}
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		memset(&m, 0, sizeof(m));
		m.type = SDPP_T_MENU;
		m.from = SEL;
		snprintf(m.u.menu.version, sizeof(m.u.menu.version), "%s", v[i].version);
		snprintf(m.u.menu.gateway, sizeof(m.u.menu.gateway), "gw");
		snprintf(m.u.menu.currency, sizeof(m.u.menu.currency), "EUR");
		snprintf(m.u.menu.payment_method, sizeof(m.u.menu.payment_method), "voucher");
		m.u.menu.granularity = m.u.menu.ack_every = 1;
		m.u.menu.max_frame = SDPP_FRAME_CAP_SESSION;
		m.u.menu.nproducts = v[i].nproducts;
		m.u.menu.products = products;
		assert_int_equal(sdpp_msg_encode(&m, NULL, &out, &len), SDPP_OK);
		frame = out;
		flen = len - 1;
		if (v[i].extra) {
			first = strstr(out, "\"products\":[{") + strlen("\"products\":[");
			end = strchr(first, '}') + 1;
			frame = malloc(len + (size_t)(end - first) + 1);
			assert_non_null(frame);
			memcpy(frame, out, (size_t)(first - out));
			memcpy(frame + (first - out), first, (size_t)(end - first));
			frame[(first - out) + (end - first)] = ',';
			memcpy(frame + (first - out) + (end - first) + 1, first,
			    len - (size_t)(first - out));
			flen = len + (size_t)(end - first);
		}
		assert_int_equal(sdpp_msg_parse(&p, frame, flen, SEL, err, sizeof(err)), v[i].e);
		if (v[i].e == SDPP_OK) {
			assert_int_equal(p.u.menu.nproducts, v[i].nproducts + (size_t)v[i].extra);
			sdpp_msg_free(&p);
		} else {
			assert_string_equal(err, "menu.products: too many");
		}
		if (frame != out)
			free(frame);
		free(out);
	}
	free(products);
}

/* ------------------------------------------------------------------ */
/* Items                                                               */

static void
test_item_roundtrip(void **state)
{
	static const struct {
		const char *name;
		const char *topic;
		int64_t received_at;
		uint64_t seq;
		const char *payload;
		size_t payload_len;
		const char *jcs; /* exact encoding, or NULL */
	} v[] = {
		{ "binary payload", "a/+/b", 1700000000000, 1, "\0\xff\0abc\xff", 7,
		    "{\"payload\":\"AP8AYWJj/w==\",\"received_at\":1700000000000,\"seq\":1,"
		    "\"topic\":\"a/+/b\"}" },
		{ "empty payload", "a", 0, 1, "", 0,
		    "{\"payload\":\"\",\"received_at\":0,\"seq\":1,\"topic\":\"a\"}" },
		{ "largest numbers", "sensors/+/temp/#", (int64_t)INT_MAX53, INT_MAX53, "x", 1,
		    "{\"payload\":\"eA==\",\"received_at\":9007199254740991,"
		    "\"seq\":9007199254740991,\"topic\":\"sensors/+/temp/#\"}" },
		{ "unicode topic", "building/CO₂ — 2nd floor", 5, 2, "{\"ppm\":412}", 11,
		    "{\"payload\":\"eyJwcG0iOjQxMn0=\",\"received_at\":5,\"seq\":2,"
		    "\"topic\":\"building/CO₂ — 2nd floor\"}" },
		{ "quote and backslash", "a\"b\\c", 5, 3, "\n", 1,
		    "{\"payload\":\"Cg==\",\"received_at\":5,\"seq\":3,\"topic\":"
		    "\"a\\\"b\\\\c\"}" },
	};
	struct sdpp_item in, out;
	char *buf;
	size_t i, len;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		memset(&in, 0, sizeof(in));
		snprintf(in.topic, sizeof(in.topic), "%s", v[i].topic);
		in.received_at = v[i].received_at;
		in.seq = v[i].seq;
		in.payload = (const uint8_t *)v[i].payload;
		in.payload_len = v[i].payload_len;
		assert_int_equal(sdpp_item_encode(&in, &buf, &len), SDPP_OK);
		if (v[i].jcs != NULL &&
		    (len != strlen(v[i].jcs) || memcmp(buf, v[i].jcs, len) != 0))
			fail_msg("%s: encoded %.*s", v[i].name, (int)len, buf);
		assert_int_equal(sdpp_item_parse(&out, buf, len), SDPP_OK);
		assert_string_equal(out.topic, v[i].topic);
		assert_int_equal(out.received_at, v[i].received_at);
		assert_int_equal(out.seq, v[i].seq);
		assert_int_equal(out.payload_len, v[i].payload_len);
		assert_non_null(out.payload);
		if (v[i].payload_len > 0)
			assert_memory_equal(out.payload, v[i].payload, v[i].payload_len);
		sdpp_item_free(&out);
		assert_null(out.payload);
		free(buf);
	}
	sdpp_item_free(NULL);
}

/*
 * The direct writers (sdpp_item_encode, and sdpp_msg_encode for data)
 * against the cJSON + JCS reference: the same bytes and the same errors over
 * many random items and frames, signed and unsigned, with extreme numbers,
 * binary payloads and text that needs escapes, is non-ASCII or is not
 * UTF-8 at all. A fixed seed keeps failures reproducible.
 */
static uint64_t
rnd(uint64_t *x)
{
	/* xorshift64* */
	*x ^= *x >> 12;
	*x ^= *x << 25;
	*x ^= *x >> 27;
	return *x * 2685821657736338717ULL;
}

/* Random text of at most max bytes from units that exercise every JCS
 * string path; with bad != 0 an ill-formed sequence now and then. */
static void
rnd_text(uint64_t *x, char *dst, size_t max, int bad)
{
	static const char *const ok[] = { "a", "Z", "0", "/", "+", "#", " ", ".", "\"", "\\",
		"\x01", "\b", "\t", "\n", "\f", "\r", "\x1f", "\x7f", "\xc3\xa9", "\xc2\x80",
		"\xe2\x82\xac", "\xef\xbf\xbf", "\xf0\x9f\x8c\xa1", "\xf4\x8f\xbf\xbf", "sensors/",
		"CO\xe2\x82\x82", "u" };
	static const char *const ill[] = { "\xff", "\xc0\xaf", "\x80", "\xe2\x82", "\xed\xa0\x80",
		"\xf4\x90\x80\x80", "\xc2" };
	size_t n = 0, want = (size_t)(rnd(x) % (max + 1)), u;
	const char *unit;

	while (n < want) {
		if (bad && rnd(x) % 64 == 0)
			unit = ill[rnd(x) % (sizeof(ill) / sizeof(ill[0]))];
		else
			unit = ok[rnd(x) % (sizeof(ok) / sizeof(ok[0]))];
		u = strlen(unit);
		if (n + u > want)
			break;
		memcpy(dst + n, unit, u);
		n += u;
	}
	dst[n] = '\0';
}

static uint64_t
rnd_u64(uint64_t *x)
{
	static const uint64_t edge[] = { 0, 1, 2, 9, 10, 99, 100, 4294967295ULL, 4294967296ULL,
		INT_MAX53 - 1, INT_MAX53, INT_MAX53 + 1, UINT64_MAX };

	switch (rnd(x) % 4) {
	case 0:
		return edge[rnd(x) % (sizeof(edge) / sizeof(edge[0]))];
	case 1:
		return rnd(x) % 1000;
	case 2:
		return rnd(x) % (INT_MAX53 + 1);
	default:
		return rnd(x) >> (rnd(x) % 64);
	}
}

static void
test_direct_writers(void **state)
{
	struct keys *k = *state;
	uint64_t x = 0x5d9f3c2a7e41b086ULL;
	uint8_t payload[600];
	struct sdpp_item it;
	struct sdpp_msg m, parsed;
	char *a, *b;
	size_t alen, blen, i, j, n;
	enum sdpp_err ea, eb;
	int signed_ok = 0, refused = 0;

	for (i = 0; i < 4000; i++) {
		memset(&it, 0, sizeof(it));
		it.seq = rnd_u64(&x);
		it.received_at = (int64_t)rnd_u64(&x);
		if (rnd(&x) % 16 == 0)
			it.received_at = -(int64_t)(rnd(&x) % 3) - 1;
		rnd_text(&x, it.topic, rnd(&x) % 8 == 0 ? SDPP_TOPIC_MAX : 40, 1);
		for (j = 0; j < sizeof(payload); j++)
			payload[j] = (uint8_t)rnd(&x);
		n = (size_t)(rnd(&x) % (rnd(&x) % 4 == 0 ? sizeof(payload) + 1 : 8));
		it.payload = n > 0 || rnd(&x) % 2 ? payload : NULL;
		it.payload_len = n;
		ea = sdpp_item_encode(&it, &a, &alen);
		eb = sdpp_item_encode_generic(&it, &b, &blen);
		if (ea != eb)
			fail_msg("item %zu: direct %s, generic %s", i, sdpp_strerror(ea),
			    sdpp_strerror(eb));
		if (ea == SDPP_OK) {
			if (alen != blen || memcmp(a, b, alen) != 0)
				fail_msg("item %zu: direct %.*s\ngeneric %.*s", i, (int)alen, a,
				    (int)blen, b);
			assert_int_equal(a[alen], '\0');
		} else {
			assert_null(a);
			refused++;
		}
		free(a);
		free(b);

		/* A data frame carrying those bytes (or random ones) as ciphertext. */
		memset(&m, 0, sizeof(m));
		m.type = SDPP_T_DATA;
		m.from = SEL;
		for (j = 0; j < SDPP_ORDER_ID_BYTES; j++)
			m.u.data.order_id[j] = (uint8_t)rnd(&x);
		m.u.data.seq = rnd_u64(&x);
		m.u.data.ciphertext = payload;
		m.u.data.ciphertext_len = (size_t)(rnd(&x) % (sizeof(payload) + 1));
		if (rnd(&x) % 2)
			rnd_text(
			    &x, m.verification, rnd(&x) % 4 == 0 ? SDPP_VERIFICATION_MAX : 24, 1);
		{
			const struct sdpp_identity *signer = rnd(&x) % 2 ? k->id[0] : NULL;

			ea = sdpp_msg_encode(&m, signer, &a, &alen);
			eb = sdpp_msg_encode_generic(&m, signer, &b, &blen);
			if (ea != eb)
				fail_msg("data %zu: direct %s, generic %s", i, sdpp_strerror(ea),
				    sdpp_strerror(eb));
			if (ea != SDPP_OK) {
				assert_null(a);
				refused++;
				free(b);
				continue;
			}
			if (alen != blen || memcmp(a, b, alen) != 0)
				fail_msg("data %zu: direct %.*s\ngeneric %.*s", i, (int)alen, a,
				    (int)blen, b);
			/* Signed frames verify: the signature input is right. */
			if (signer != NULL && m.u.data.seq >= 1 &&
			    m.u.data.ciphertext_len >= SDPP_AEAD_TAG_BYTES &&
			    sdpp_msg_parse(&parsed, a, alen - 1, SEL, NULL, 0) == SDPP_OK) {
				assert_int_equal(sdpp_msg_verify(&parsed, k->ver[0]), SDPP_OK);
				sdpp_msg_free(&parsed);
				signed_ok++;
			}
			free(a);
			free(b);
		}
	}
	/* The generator reached every path. */
	assert_true(signed_ok > 100);
	assert_true(refused > 100);
}

/* Replaces, deletes or inserts one byte, or cuts the tail: mostly bytes
 * that matter to JSON, so the fast parsers meet near misses. */
static size_t
mutate(uint64_t *x, char *buf, size_t len, size_t cap)
{
	static const char bytes[] = "\"\\ \t019aAf=+/}{,:[]-.e\x01\x7f\xc3\xff";
	size_t at = len > 0 ? (size_t)(rnd(x) % len) : 0;
	char c = bytes[rnd(x) % (sizeof(bytes) - 1)];

	switch (rnd(x) % 4) {
	case 0:
		if (len > 0)
			buf[at] = c;
		return len;
	case 1:
		if (len == 0)
			return 0;
		memmove(buf + at, buf + at + 1, len - at - 1);
		return len - 1;
	case 2:
		if (len == cap)
			return len;
		memmove(buf + at + 1, buf + at, len - at);
		buf[at] = c;
		return len + 1;
	default:
		return at;
	}
}

static void
msg_same(const struct sdpp_msg *a, const struct sdpp_msg *b, size_t i)
{
	if (a->type != b->type || a->from != b->from || a->signed_ != b->signed_ ||
	    strcmp(a->verification, b->verification) != 0 || a->signed_len != b->signed_len)
		fail_msg("frame %zu: parsers disagree on the envelope", i);
	if (a->signed_ && (memcmp(a->signature, b->signature, SDPP_SIGN_BYTES) != 0 ||
	                      memcmp(a->signed_bytes, b->signed_bytes, a->signed_len + 1) != 0))
		fail_msg("frame %zu: parsers disagree on the signature input", i);
	if (!a->signed_ && (a->signed_bytes != NULL || b->signed_bytes != NULL))
		fail_msg("frame %zu: signature input without a signature", i);
	if (a->type == SDPP_T_DATA &&
	    (memcmp(a->u.data.order_id, b->u.data.order_id, SDPP_ORDER_ID_BYTES) != 0 ||
	        a->u.data.seq != b->u.data.seq ||
	        a->u.data.ciphertext_len != b->u.data.ciphertext_len ||
	        memcmp(a->u.data.ciphertext, b->u.data.ciphertext, a->u.data.ciphertext_len) != 0))
		fail_msg("frame %zu: parsers disagree on the data body", i);
}

/*
 * sdpp_msg_parse() and sdpp_item_parse() read the canonical data frame and
 * item directly and leave the rest to the generic parsers: over valid
 * frames and one-byte near misses, both must give the same result, the
 * same fields and the same error text.
 */
static void
test_fast_parsers(void **state)
{
	struct keys *k = *state;
	uint64_t x = 0x0123456789abcdefULL;
	uint8_t bytes[400];
	char buf[2048], ea_txt[SDPP_TEXT_MAX + 1], eb_txt[SDPP_TEXT_MAX + 1];
	struct sdpp_msg m, a, b;
	struct sdpp_item it, ia, ib;
	char *enc;
	size_t len, i, j, agree_ok = 0, agree_err = 0;
	enum sdpp_err ea, eb;
	int r;

	for (i = 0; i < 6000; i++) {
		for (j = 0; j < sizeof(bytes); j++)
			bytes[j] = (uint8_t)rnd(&x);
		memset(&m, 0, sizeof(m));
		m.type = SDPP_T_DATA;
		m.from = SEL;
		memcpy(m.u.data.order_id, bytes, SDPP_ORDER_ID_BYTES);
		m.u.data.seq =
		    rnd(&x) % 8 == 0 ? rnd_u64(&x) % (INT_MAX53 + 1) : 1 + rnd(&x) % 5000;
		m.u.data.ciphertext = bytes;
		m.u.data.ciphertext_len =
		    (size_t)(rnd(&x) % 8 == 0 ? rnd(&x) % 20 : 16 + rnd(&x) % 300);
		if (rnd(&x) % 3 == 0)
			rnd_text(&x, m.verification, 40, 0);
		else if (rnd(&x) % 2)
			snprintf(m.verification, sizeof(m.verification), "%llu",
			    (unsigned long long)(rnd(&x) % 100000));
		if (sdpp_msg_encode(&m, rnd(&x) % 2 ? k->id[0] : NULL, &enc, &len) != SDPP_OK)
			continue;
		assert_true(len - 1 <= sizeof(buf));
		memcpy(buf, enc, len - 1);
		free(enc);
		len--;
		for (r = 0; r < 3; r++) {
			if (r > 0)
				len = mutate(&x, buf, len, sizeof(buf));
			ea = sdpp_msg_parse(&a, buf, len, SEL, ea_txt, sizeof(ea_txt));
			eb = sdpp_msg_parse_generic(&b, buf, len, SEL, eb_txt, sizeof(eb_txt));
			if (ea != eb || strcmp(ea_txt, eb_txt) != 0)
				fail_msg("frame %zu: fast %s (%s), generic %s (%s): %.*s", i,
				    sdpp_strerror(ea), ea_txt, sdpp_strerror(eb), eb_txt, (int)len,
				    buf);
			if (ea == SDPP_OK) {
				msg_same(&a, &b, i);
				sdpp_msg_free(&a);
				sdpp_msg_free(&b);
				agree_ok++;
			} else {
				agree_err++;
			}
			/* From the buyer a data frame is always unexpected. */
			ea = sdpp_msg_parse(&a, buf, len, BUY, ea_txt, sizeof(ea_txt));
			eb = sdpp_msg_parse_generic(&b, buf, len, BUY, eb_txt, sizeof(eb_txt));
			assert_int_equal(ea, eb);
			assert_string_equal(ea_txt, eb_txt);
			if (ea == SDPP_OK) {
				sdpp_msg_free(&a);
				sdpp_msg_free(&b);
			}
		}

		/* An item, and near misses of it. */
		memset(&it, 0, sizeof(it));
		it.seq = rnd(&x) % 8 == 0 ? rnd_u64(&x) % (INT_MAX53 + 1) : 1 + rnd(&x) % 5000;
		it.received_at = (int64_t)(rnd(&x) % 4 == 0 ? rnd_u64(&x) % (INT_MAX53 + 1)
		                                            : 1700000000000 + rnd(&x) % 1000000);
		if (rnd(&x) % 2)
			rnd_text(&x, it.topic, 60, rnd(&x) % 2);
		else
			snprintf(it.topic, sizeof(it.topic), "building/%llu/%s",
			    (unsigned long long)(rnd(&x) % 1000),
			    rnd(&x) % 2 ? "CO\xe2\x82\x82 \xe2\x80\x94 2nd floor" : "temp");
		it.payload = bytes + 50;
		it.payload_len = (size_t)(rnd(&x) % 200);
		if (sdpp_item_encode(&it, &enc, &len) != SDPP_OK)
			continue;
		assert_true(len <= sizeof(buf));
		memcpy(buf, enc, len);
		free(enc);
		for (r = 0; r < 3; r++) {
			if (r > 0)
				len = mutate(&x, buf, len, sizeof(buf));
			ea = sdpp_item_parse(&ia, buf, len);
			eb = sdpp_item_parse_generic(&ib, buf, len);
			if (ea != eb)
				fail_msg("item %zu: fast %s, generic %s: %.*s", i,
				    sdpp_strerror(ea), sdpp_strerror(eb), (int)len, buf);
			if (ea != SDPP_OK) {
				assert_null(ia.payload);
				agree_err++;
				continue;
			}
			if (ia.seq != ib.seq || ia.received_at != ib.received_at ||
			    strcmp(ia.topic, ib.topic) != 0 || ia.payload_len != ib.payload_len ||
			    memcmp(ia.payload, ib.payload, ia.payload_len) != 0)
				fail_msg("item %zu: parsers disagree: %.*s", i, (int)len, buf);
			sdpp_item_free(&ia);
			sdpp_item_free(&ib);
			agree_ok++;
		}
	}
	assert_true(agree_ok > 5000);
	assert_true(agree_err > 5000);
}

/* Largest topic and payload, and one byte more of each. */
static void
test_item_limits(void **state)
{
	static const struct {
		size_t topic_len, payload_len;
		enum sdpp_err e;
	} v[] = {
		{ SDPP_TOPIC_MAX, 1, SDPP_OK },
		{ SDPP_TOPIC_MAX + 1, 1, SDPP_E_BAD_MESSAGE },
		{ 1, SDPP_PAYLOAD_MAX, SDPP_OK },
		{ 1, SDPP_PAYLOAD_MAX + 1, SDPP_E_BAD_MESSAGE },
		{ 1, SDPP_PAYLOAD_MAX + 3, SDPP_E_BAD_MESSAGE },
		{ 1, SDPP_PAYLOAD_MAX * 2, SDPP_E_BAD_MESSAGE },
	};
	char *topic, *json, *buf, *b64;
	uint8_t *payload;
	struct sdpp_item out;
	size_t i, len, n;

	(void)state;
	topic = malloc(SDPP_TOPIC_MAX + 2);
	payload = malloc(SDPP_PAYLOAD_MAX * 2);
	b64 = malloc(SDPP_B64_LEN(SDPP_PAYLOAD_MAX * 2));
	json = malloc(SDPP_B64_LEN(SDPP_PAYLOAD_MAX * 2) + SDPP_TOPIC_MAX + 128);
	assert_non_null(topic);
	assert_non_null(payload);
	assert_non_null(b64);
	assert_non_null(json);
	fill_bytes(payload, SDPP_PAYLOAD_MAX * 2, 0, 1);
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		/* Written by hand: the encoder's item struct cannot hold a long topic. */
		memset(topic, 't', v[i].topic_len);
		topic[v[i].topic_len] = '\0';
		sdpp_b64_encode(b64, payload, v[i].payload_len);
		n = (size_t)snprintf(json,
		    SDPP_B64_LEN(SDPP_PAYLOAD_MAX * 2) + SDPP_TOPIC_MAX + 128,
		    "{\"payload\":\"%s\",\"received_at\":1,\"seq\":1,\"topic\":\"%s\"}", b64,
		    topic);
		if (sdpp_item_parse(&out, json, n) != v[i].e)
			fail_msg("case %zu: want %d", i, v[i].e);
		if (v[i].e == SDPP_OK) {
			assert_int_equal(out.payload_len, v[i].payload_len);
			assert_memory_equal(out.payload, payload, v[i].payload_len);
			assert_int_equal(strlen(out.topic), v[i].topic_len);
			/* And the encoder gives the same bytes back. */
			assert_int_equal(sdpp_item_encode(&out, &buf, &len), SDPP_OK);
			assert_int_equal(len, n);
			assert_memory_equal(buf, json, n);
			free(buf);
		} else {
			assert_null(out.payload);
		}
		sdpp_item_free(&out);
	}
	free(topic);
	free(payload);
	free(b64);
	free(json);
}

/* Numbers the wire cannot carry are the caller's mistake (SDPP_E_INVAL), as in sdpp_msg_encode. */
static void
test_item_encode_refuses(void **state)
{
	static const struct {
		const char *name;
		uint64_t seq;
		int64_t received_at;
		enum sdpp_err e;
	} v[] = {
		{ "largest", INT_MAX53, (int64_t)INT_MAX53, SDPP_OK },
		{ "seq 2^53", INT_MAX53 + 1, 0, SDPP_E_INVAL },
		{ "seq 2^64-1", UINT64_MAX, 0, SDPP_E_INVAL },
		{ "received_at 2^53", 1, (int64_t)INT_MAX53 + 1, SDPP_E_INVAL },
	};
	struct sdpp_item it;
	char *out;
	size_t i, len;
	enum sdpp_err e;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		memset(&it, 0, sizeof(it));
		snprintf(it.topic, sizeof(it.topic), "a/b");
		it.seq = v[i].seq;
		it.received_at = v[i].received_at;
		it.payload = (const uint8_t *)"x";
		it.payload_len = 1;
		out = NULL;
		e = sdpp_item_encode(&it, &out, &len);
		if (e != v[i].e)
			fail_msg("%s: got %d (%s), want %d (%s)", v[i].name, e, sdpp_strerror(e),
			    v[i].e, sdpp_strerror(v[i].e));
		if (e != SDPP_OK)
			assert_null(out);
		free(out);
	}
}

static void
test_item_bad(void **state)
{
	static const struct {
		const char *name, *find, *repl;
		enum sdpp_err e;
	} v[] = {
		{ "valid", NULL, NULL, SDPP_OK },
		{ "not JSON", ITEM_OK, "nope", SDPP_E_BAD_JSON },
		{ "array", ITEM_OK, "[" ITEM_OK "]", SDPP_E_BAD_MESSAGE },
		{ "duplicate key", "\"seq\":1", "\"seq\":1,\"seq\":1", SDPP_E_BAD_JSON },
		{ "missing payload", "\"payload\":\"AP8AYWJj/w==\",", "", SDPP_E_BAD_MESSAGE },
		{ "missing topic", ",\"topic\":\"a/+/b\"", "", SDPP_E_BAD_MESSAGE },
		{ "extra member", "\"seq\":1", "\"seq\":1,\"qos\":1", SDPP_E_BAD_MESSAGE },
		{ "seq 0", "\"seq\":1", "\"seq\":0", SDPP_E_BAD_MESSAGE },
		{ "seq as string", "\"seq\":1", "\"seq\":\"1\"", SDPP_E_BAD_MESSAGE },
		{ "seq 1.5", "\"seq\":1", "\"seq\":1.5", SDPP_E_BAD_NUMBER },
		{ "seq 2^53", "\"seq\":1", "\"seq\":9007199254740992", SDPP_E_BAD_NUMBER },
		{ "received_at -1", "\"received_at\":1700000000000", "\"received_at\":-1",
		    SDPP_E_BAD_MESSAGE },
		{ "topic empty", "\"topic\":\"a/+/b\"", "\"topic\":\"\"", SDPP_E_BAD_MESSAGE },
		{ "topic number", "\"topic\":\"a/+/b\"", "\"topic\":1", SDPP_E_BAD_MESSAGE },
		{ "topic \\u0007", "\"topic\":\"a/+/b\"", "\"topic\":\"a\\u0007\"",
		    SDPP_E_BAD_MESSAGE },
		{ "topic U+0085", "\"topic\":\"a/+/b\"", "\"topic\":\"a\xc2\x85\"",
		    SDPP_E_BAD_MESSAGE },
		{ "topic \\u0000", "\"topic\":\"a/+/b\"", "\"topic\":\"a\\u0000b\"",
		    SDPP_E_BAD_JSON },
		{ "payload padding bits set", "AP8AYWJj/w==", "AP8AYWJj/x==", SDPP_E_BAD_MESSAGE },
		{ "payload unpadded", "AP8AYWJj/w==", "AP8AYWJj/w", SDPP_E_BAD_MESSAGE },
		{ "payload with \\n", "AP8AYWJj/w==", "AP8A\\nYWJj/w==", SDPP_E_BAD_MESSAGE },
		{ "payload number", "\"payload\":\"AP8AYWJj/w==\"", "\"payload\":1",
		    SDPP_E_BAD_MESSAGE },
		{ "payload null", "\"payload\":\"AP8AYWJj/w==\"", "\"payload\":null",
		    SDPP_E_BAD_MESSAGE },
	};
	struct sdpp_item it;
	size_t i, len;
	char *buf;
	enum sdpp_err e;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		buf = edit_frame(v[i].name, ITEM_OK, v[i].find, v[i].repl, &len);
		memset(&it, 0xa5, sizeof(it));
		e = sdpp_item_parse(&it, buf, len);
		if (e != v[i].e)
			fail_msg("%s: got %d want %d", v[i].name, e, v[i].e);
		if (e != SDPP_OK)
			assert_null(it.payload);
		sdpp_item_free(&it);
		free(buf);
	}
}

/* sdpp_item_topic_ok() says yes exactly when an item with that topic survives encode and parse. */
static void
test_item_topic_ok(void **state)
{
	static const struct {
		const char *name, *topic;
		int ok;
	} v[] = {
		{ "plain", "a", 1 },
		{ "slashes and wildcards", "sensors/+/temp/#", 1 },
		{ "unicode", "building/CO₂ — 2nd floor", 1 },
		{ "U+00A0",
		    "a\xc2\xa0"
		    "b",
		    1 },
		{ "4-byte UTF-8", "\xf0\x9f\x8c\xa1", 1 },
		{ "empty", "", 0 },
		{ "tab", "a\tb", 0 },
		{ "BEL", "a\x07", 0 },
		{ "DEL", "a\x7f", 0 },
		{ "U+0085", "a\xc2\x85", 0 },
		{ "U+009F", "a\xc2\x9f", 0 },
		{ "not UTF-8", "\xc3\x28", 0 },
		{ "overlong", "\xc0\xaf", 0 },
		{ "surrogate", "\xed\xa0\x80", 0 },
		{ "above U+10FFFF", "\xf4\x90\x80\x80", 0 },
		{ "truncated", "a\xe2\x82", 0 },
	};
	static const size_t lens[] = { SDPP_TOPIC_MAX, SDPP_TOPIC_MAX + 1 };
	struct sdpp_item it, back;
	char *out, *big;
	size_t i, len;
	int parsed;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		if (sdpp_item_topic_ok(v[i].topic) != v[i].ok)
			fail_msg("%s: sdpp_item_topic_ok says %d", v[i].name, !v[i].ok);
		memset(&it, 0, sizeof(it));
		snprintf(it.topic, sizeof(it.topic), "%s", v[i].topic);
		it.seq = 1;
		parsed = 0;
		if (sdpp_item_encode(&it, &out, &len) == SDPP_OK) {
			parsed = sdpp_item_parse(&back, out, len) == SDPP_OK;
			sdpp_item_free(&back);
			free(out);
		}
		if (parsed != v[i].ok)
			fail_msg(
			    "%s: encode and parse %s", v[i].name, parsed ? "accept" : "refuse");
	}
	big = malloc(SDPP_TOPIC_MAX + 2);
	assert_non_null(big);
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		memset(big, 't', lens[i]);
		big[lens[i]] = '\0';
		assert_int_equal(sdpp_item_topic_ok(big), lens[i] <= SDPP_TOPIC_MAX);
	}
	free(big);
}

/* ------------------------------------------------------------------ */
/* Receipt chain, nonce and AAD                                        */

static void
test_chain_vectors(void **state)
{
	/* Computed independently (Python hashlib) from the formula in msg.h. */
	static const struct {
		uint64_t seq;
		const char *ct;
		const char *chain;
	} v[] = {
		{ 0, NULL, "e463ccb08caa64b75af6b7b7c1a3a253b4c30989a697f05b64223ae109165ce1" },
		{ 1, "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf",
		    "9e778819397eb2600200074d1262f67f6c0844fb3233f3d5fa87bbcd99e2cd98" },
		{ 2, "0000000000000000000000000000000000ff",
		    "6927efbcb0eb67959f06d358205f0b593ea500de22f0db8e2887907af1ff77a1" },
		{ 0x0102030405060708ULL, "",
		    "3e79d8b857dc279354addd3089c7eb224408f1a76f9d1dae60797e6e9d72726b" },
	};
	uint8_t oid[SDPP_ORDER_ID_BYTES], chain[SDPP_DIGEST_BYTES], *ct, *want;
	size_t i, ctlen, wlen;

	(void)state;
	fill_bytes(oid, sizeof(oid), 0, 1);
	assert_int_equal(sdpp_chain_init(chain, oid), SDPP_OK);
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		if (v[i].ct != NULL) {
			ct = test_unhex(v[i].ct, &ctlen);
			assert_int_equal(sdpp_chain_next(chain, v[i].seq, ct, ctlen), SDPP_OK);
			free(ct);
		}
		want = test_unhex(v[i].chain, &wlen);
		assert_int_equal(wlen, SDPP_DIGEST_BYTES);
		if (memcmp(chain, want, wlen) != 0)
			fail_msg("chain step %zu differs", i);
		free(want);
	}
}

/* Chain over 3 items; `what` perturbs one input. */
static void
chain3(uint8_t out[SDPP_DIGEST_BYTES], int what)
{
	uint8_t oid[SDPP_ORDER_ID_BYTES], ct[40];
	uint64_t seq;

	fill_bytes(oid, sizeof(oid), 0x42, 1);
	if (what == 1)
		oid[31] ^= 1;
	assert_int_equal(sdpp_chain_init(out, oid), SDPP_OK);
	for (seq = 1; seq <= 3; seq++) {
		fill_bytes(ct, sizeof(ct), (uint8_t)seq, 1);
		if (what == 2 && seq == 2)
			ct[17] ^= 0x80;
		assert_int_equal(sdpp_chain_next(out, what == 3 && seq == 3 ? 4 : seq, ct,
		                     what == 4 && seq == 1 ? sizeof(ct) - 1 : sizeof(ct)),
		    SDPP_OK);
	}
}

static void
test_chain_sensitivity(void **state)
{
	static const struct {
		const char *what;
		int perturb;
		int equal;
	} v[] = {
		{ "same inputs", 0, 1 },
		{ "order id changed", 1, 0 },
		{ "one ciphertext byte changed", 2, 0 },
		{ "seq changed", 3, 0 },
		{ "ciphertext one byte shorter", 4, 0 },
	};
	uint8_t base[SDPP_DIGEST_BYTES], other[SDPP_DIGEST_BYTES];
	size_t i;

	(void)state;
	chain3(base, 0);
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		chain3(other, v[i].perturb);
		if ((memcmp(base, other, sizeof(base)) == 0) != v[i].equal)
			fail_msg("%s: digests %s", v[i].what, v[i].equal ? "differ" : "equal");
	}
}

static void
test_nonce_aad(void **state)
{
	static const struct {
		uint64_t seq;
		const char *nonce, *aad;
	} v[] = {
		{ 0, "deadbeef0000000000000000",
		    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
		    "0000000000000000" },
		{ 1, "deadbeef0000000000000001",
		    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
		    "0000000000000001" },
		{ 0x0102030405060708ULL, "deadbeef0102030405060708",
		    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
		    "0102030405060708" },
		{ INT_MAX53, "deadbeef001fffffffffffff",
		    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
		    "001fffffffffffff" },
		{ UINT64_MAX, "deadbeefffffffffffffffff",
		    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
		    "ffffffffffffffff" },
	};
	static const uint8_t prefix[SDPP_NONCE_PREFIX_BYTES] = { 0xde, 0xad, 0xbe, 0xef };
	uint8_t oid[SDPP_ORDER_ID_BYTES], nonce[SDPP_AEAD_NONCE_BYTES + 1];
	uint8_t aad[SDPP_DATA_AAD_BYTES + 1], *want;
	size_t i, n;

	(void)state;
	assert_int_equal(SDPP_DATA_AAD_BYTES, 40);
	fill_bytes(oid, sizeof(oid), 0, 1);
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		/* A guard byte after each output catches overruns. */
		memset(nonce, 0x5a, sizeof(nonce));
		memset(aad, 0x5a, sizeof(aad));
		sdpp_data_nonce(nonce, prefix, v[i].seq);
		sdpp_data_aad(aad, oid, v[i].seq);
		want = test_unhex(v[i].nonce, &n);
		assert_int_equal(n, SDPP_AEAD_NONCE_BYTES);
		assert_memory_equal(nonce, want, n);
		assert_int_equal(nonce[SDPP_AEAD_NONCE_BYTES], 0x5a);
		free(want);
		want = test_unhex(v[i].aad, &n);
		assert_int_equal(n, SDPP_DATA_AAD_BYTES);
		assert_memory_equal(aad, want, n);
		assert_int_equal(aad[SDPP_DATA_AAD_BYTES], 0x5a);
		free(want);
	}
}

/* ------------------------------------------------------------------ */
/* Order id                                                            */

/* The signature input of ORDER_OK: context with its NUL, then the envelope without "signature". */
static const char order_signed_input[] =
    "sdpp/1\0{\"data\":" ORDER_DATA ",\"message_type\":\"order\",\"verification\":\"\"}";
/* SHA-256 of order_signed_input, computed independently (Python hashlib). */
#define ORDER_ID_HEX "2a32876a4ef01aa0a31e2e0a9f655b9317d55aefd03a005ebfecd2ccb3289a5e"

static void
test_order_id(void **state)
{
	struct keys *k = *state;
	struct sdpp_msg m, p;
	uint8_t id[SDPP_ORDER_ID_BYTES], id2[SDPP_ORDER_ID_BYTES], sha[SDPP_SHA256_BYTES];
	uint8_t *want;
	struct sdpp_iov iov;
	char *out;
	size_t len, n;
	int s;

	assert_int_equal(sdpp_msg_parse(&m, ORDER_OK, strlen(ORDER_OK), BUY, NULL, 0), SDPP_OK);
	want = test_unhex(ORDER_ID_HEX, &n);
	/* An unsigned order has no id: the id hashes the signature input. */
	assert_int_equal(sdpp_msg_encode(&m, NULL, &out, &len), SDPP_OK);
	assert_int_equal(sdpp_msg_parse(&p, out, len - 1, BUY, NULL, 0), SDPP_OK);
	assert_int_equal(sdpp_order_id(&p, id), SDPP_E_INVAL);
	sdpp_msg_free(&p);
	free(out);
	for (s = 1; s < 2; s++) {
		/* Signing twice gives one id (Ed25519 is deterministic). */
		assert_int_equal(sdpp_msg_encode(&m, k->id[0], &out, &len), SDPP_OK);
		assert_int_equal(sdpp_msg_parse(&p, out, len - 1, BUY, NULL, 0), SDPP_OK);
		assert_int_equal(p.signed_len, sizeof(order_signed_input) - 1);
		assert_memory_equal(p.signed_bytes, order_signed_input, p.signed_len);
		assert_int_equal(sdpp_order_id(&p, id), SDPP_OK);
		iov.base = p.signed_bytes;
		iov.len = p.signed_len;
		assert_int_equal(sdpp_sha256(sha, &iov, 1), SDPP_OK);
		assert_memory_equal(id, sha, sizeof(id));
		assert_memory_equal(id, want, n);
		sdpp_msg_free(&p);
		free(out);
	}
	free(want);
	/* Any signed field changes it, here the verification text. */
	snprintf(m.verification, sizeof(m.verification), "v");
	assert_int_equal(sdpp_msg_encode(&m, k->id[0], &out, &len), SDPP_OK);
	assert_int_equal(sdpp_msg_parse(&p, out, len - 1, BUY, NULL, 0), SDPP_OK);
	assert_int_equal(sdpp_order_id(&p, id2), SDPP_OK);
	assert_memory_not_equal(id, id2, sizeof(id));
	sdpp_msg_free(&p);
	free(out);
	sdpp_msg_free(&m);
	/* Only an order has an order id. */
	assert_int_equal(sdpp_msg_parse(&p, HELLO_OK, strlen(HELLO_OK), BUY, NULL, 0), SDPP_OK);
	assert_int_equal(sdpp_order_id(&p, id2), SDPP_E_INVAL);
	sdpp_msg_free(&p);
}

static void
test_type_names(void **state)
{
	static const struct {
		enum sdpp_type t;
		const char *name;
	} v[] = {
		{ SDPP_T_NONE, "none" },
		{ SDPP_T_HELLO, "hello" },
		{ SDPP_T_MENU, "menu" },
		{ SDPP_T_ORDER, "order" },
		{ SDPP_T_SESSION_KEY, "session_key" },
		{ SDPP_T_DATA, "data" },
		{ SDPP_T_DATA_INVOICE, "data_invoice" },
		{ SDPP_T_ACK, "ack" },
		{ SDPP_T_PAYMENT_ACK, "payment_ack" },
		{ SDPP_T_EXIT, "exit" },
		{ SDPP_T_ERROR, "error" },
		{ SDPP_T_ANCHOR, "anchor" },
		{ SDPP_T_RESUME, "resume" },
		{ SDPP_T_RESUMED, "resumed" },
		{ SDPP_T__COUNT, "none" },
		{ (enum sdpp_type) - 1, "none" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		assert_string_equal(sdpp_type_name(v[i].t), v[i].name);
}

/* ------------------------------------------------------------------ */
/* The examples of docs/PROTOCOL.md section 5 (published vectors)     */

enum spec_signer { NONE, SELLER, BUYER };

/*
 * Each example in its wire form (JCS, one line). The test identities: the
 * seller's Ed25519 seed is bytes 0x10..0x2f, the buyer's 0x90..0xaf (the
 * buyer's key file is printed in section 7.3); X25519 scalars are the
 * Ed25519 seed + 0x40 in each byte.
 */
static const struct {
	const char *name;
	enum sdpp_role from;
	enum spec_signer signer;
	const char *type, *verification, *signature, *data;
} spec_examples[] = {
	{ "hello", BUY, NONE, "hello", "", "", "{\"version\":\"sdpp/1\"}" },
	{ "menu", SEL, SELLER, "menu", "",
	    "Do+tNFKtFe8yPlY8nimbqvWDF2f3cUd6+vu3/"
	    "0T9YU0HAO12dBxHbpVnDU3YxpZChh3CTJCYnyK+w+HYTJw3AA==",
	    "{\"ack_every\":2,\"currency\":\"nanos\",\"gateway\":\"building-7\","
	    "\"max_frame\":1048576,\"max_unpaid\":8,\"payment_address\":\"\","
	    "\"payment_granularity\":4,\"payment_method\":\"voucher\","
	    "\"products\":[{\"description\":\"CO2 concentration, building 7, floor 2\","
	    "\"id\":\"co2-floor2\",\"last_seen\":1764151187345,\"prepay\":false,"
	    "\"price\":\"250\",\"unit\":\"ppm\"},{\"description\":\"People counted per room,"
	    " every minute\",\"id\":\"occupancy\",\"last_seen\":1764151140012,\"prepay\":true,"
	    "\"price\":\"1000\",\"unit\":\"persons\"}],"
	    "\"seller\":\"7776e870b93354f2a0b24c23f2a36cc4e80e223218c1b97926fdd018396a2b9b\","
	    "\"sign_items\":false,\"version\":\"sdpp/1\"}" },
	{ "order", BUY, BUYER, "order", "",
	    "aHgvWu+rRO9prwg3p9aJ/oIkuElj84/"
	    "+fFffRgmBSPCXVjmMzhajEMbmB+WVeB3DwAWbfLJ2gu3hqsF7XbewDg==",
	    "{\"buyer\":\"d2eb993b63143528e70dcdc7eb9ca21010dd769be95250c2c5babfad15d458e2\","
	    "\"currency\":\"nanos\","
	    "\"enc_key\":\"6b3ee67463583cbe3dc08fe9d0765c2666ff5210dd527c9d8705e44927c80d55\","
	    "\"nonce\":\"7c14a6ccb56bf053bbc298c7c7c03898\",\"payment_address\":\"\","
	    "\"price\":\"250\",\"product\":\"co2-floor2\",\"quantity\":6,\"time\":1764151201213}" },
	{ "session_key", SEL, SELLER, "session_key", "rec-42",
	    "GY0nnGb7p4tE+fVbs0oHGFP55uHOmO6f3Ja004rwUfdBuFycWH/av94EqLbVDuamLYPcQOEU/"
	    "npVjORDKTAVDQ==",
	    "{\"nonce_prefix\":\"6d9c1b03\","
	    "\"order_id\":\"5952d23cee89ee559d84c3fe5ea49d5a21b39ebfed45ff16a9653f2622c941be\","
	    "\"sealed_key\":\"6lDRfDik/B/NA6kXIO6r0zEajXQb4JNN5+alcD+hM2IrEu"
	    "QCCiTb0JinRoDIb8JLh7e+CCV/CwgfMAu6aJw5Sv4zhKDIWilR9H42PRTh9JM=\"}" },
	{ "data", SEL, NONE, "data", "", "",
	    "{\"ciphertext\":\"F+pwuRcR4zmtPHTlzEml208HoAM7b/G4KdZEEzoNFdO8X"
	    "RIEy/rp2f0QMkfQeEwuIZJl9i38TMZTUPVWyvOdc+Vv41olgesUvlEOEgL5i"
	    "qg0pFejWC3lWNaDdewPPDTyWPEGEjut2s7lc2R4X2OcsApQqCoyAE+yaTEu+VR+b+I6WA==\","
	    "\"order_id\":\"5952d23cee89ee559d84c3fe5ea49d5a21b39ebfed45ff16a9653f2622c941be\","
	    "\"seq\":1}" },
	/* Item 1 of Appendix A's conversation, verification = its chain_1. */
	{ "data (sign_items)", SEL, SELLER, "data",
	    "8277728d18329e248dc4f47764a6dff5b3e40ece6098be7b2d1a76c4acb509a1",
	    "ir7KCNG5XDqWRq3ZKDDCnF1D2AVu0KYbmhoTCgwHGxIbmFtKu8S24HMO/"
	    "naj4BhbQu/VAPfDv/dxl2l8uPv8CQ==",
	    "{\"ciphertext\":\"XycilPMq7377FT5sfboSbAzLjU4F4/uwh/wZWXEXwCsxu"
	    "bKGI9EYWO6yi92TizMSaJClg/zrOOkwYk+VM4gdQBLA5k3aWLZOm3eM8trpF"
	    "re7FH4Vs+Wr/10U5em92JRvejsXYfr4VvcYJ+4rPhtvkUPVBQo7kdWlzTyELHvJCZ2Gng==\","
	    "\"order_id\":\"4aadacedc45f542d63d433035faec30bee02a95f20b236aae0b6ee3682c9fc12\","
	    "\"seq\":1}" },
	{ "data_invoice", SEL, SELLER, "data_invoice", "rec-43",
	    "/neCIbiBseecCLOhs2wgjbFiaLNxAhCesfJN75VDCwv3fchW/kg6Fx+0kEYFIWFtORxj/"
	    "km5zblCC8TIPIFBDA==",
	    "{\"amount\":\"1000\",\"currency\":\"nanos\",\"delivered\":4,"
	    "\"digest\":\"ac3c2e32e35088990122a50e13a705be919c1c62d803a12f69de9fe311be92d7\","
	    "\"first_seq\":1,\"invoice\":1,\"last_seq\":4,"
	    "\"order_id\":\"5952d23cee89ee559d84c3fe5ea49d5a21b39ebfed45ff16a9653f2622c941be\","
	    "\"payment_address\":\"\",\"total_due\":\"1000\",\"unit_price\":\"250\"}" },
	{ "ack", BUY, BUYER, "ack", "",
	    "qa8mmNk82UNgWGrX8X8OyK2kCa475GPURbz14nVrVCG8eOAiqJtMTv+"
	    "SA4IXFrOodzgqWEx8iQ4Fdkn5qGa9AQ==",
	    "{\"digest\":\"4956b12ddcfeb970e57b53e1c849d4d208cc5b38e70bff2fe9458c1c82348a94\","
	    "\"order_id\":\"5952d23cee89ee559d84c3fe5ea49d5a21b39ebfed45ff16a9653f2622c941be\","
	    "\"seq\":2}" },
	{ "payment_ack", BUY, BUYER, "payment_ack", "",
	    "IR+MrNL1yUXC5dr/X/"
	    "DF42Op31iT3R8jHkehm5hqQza57UKJskcmg9G6rSf4FKKeqMjabYmFIlDtdcMAQDifCw==",
	    "{\"invoice\":1,"
	    "\"order_id\":\"5952d23cee89ee559d84c3fe5ea49d5a21b39ebfed45ff16a9653f2622c941be\","
	    "\"total\":\"1000\"}" },
	{ "exit (buyer)", BUY, BUYER, "exit", "",
	    "i/"
	    "Yb552rfgkpLJ7AOHvS5Rfbh7X0s7OGXjC1e4AOOIhyu2jQhsH0G908sWIdMaKo7IWO7qMY2M9sKq2Ddp60Aw="
	    "=",
	    "{\"digest\":\"b5dc1cccc35d723133a25d4d96b0d6a93d10374cfcfe4f315b2a05ed2da3dc78\","
	    "\"order_id\":\"5952d23cee89ee559d84c3fe5ea49d5a21b39ebfed45ff16a9653f2622c941be\","
	    "\"seq\":6,\"total\":\"1500\"}" },
	{ "exit (seller)", SEL, SELLER, "exit", "rec-45",
	    "h1a22e+MuHVdHuVB460Mw495OuKpeWM2W2g05gHT1d2ZVQE46YlhvvsnN/"
	    "OquiICJTn8gTQ2xgfqhVbiGE1KCA==",
	    "{\"acked\":6,\"delivered\":6,"
	    "\"order_id\":\"5952d23cee89ee559d84c3fe5ea49d5a21b39ebfed45ff16a9653f2622c941be\","
	    "\"settled\":true,\"total_due\":\"1500\",\"total_paid\":\"1500\"}" },
	{ "error (seller)", SEL, SELLER, "error", "",
	    "OkyGTiaWCH8kD7M01aIqz4fURuWSGMSAMloEwS3A9SSRhys65zbiIVcReZO277zwKYVaYh+"
	    "ZnQzrmiX3Zj4wBw==",
	    "{\"code\":\"price_mismatch\",\"message\":\"price of `co2-floor2' is 300, not 250\"}" },
	/* Appendix A's order; the digest in ref is made up (bytes 0x01..0x20). */
	{ "anchor", SEL, SELLER, "anchor", "",
	    "FlmeUc/YEhPAjtY3KoP4oQ+TFovRH2r5khlX+"
	    "SNEVajvVWqrmIK6tII3MZC18blquS6YOU1qzns0MHltuZqABg==",
	    "{\"order_id\":\"4aadacedc45f542d63d433035faec30bee02a95f20b236aae0b6ee3682c9fc12\","
	    "\"record\":\"ledger:3\",\"ref\":\"iota:"
	    "4wBqpZM9xaSheZzJSMawUKKwhdpChKbZ5eu5ky4Vigw\"}" },
};

#define SPEC_SELLER "7776e870b93354f2a0b24c23f2a36cc4e80e223218c1b97926fdd018396a2b9b"
#define SPEC_BUYER "d2eb993b63143528e70dcdc7eb9ca21010dd769be95250c2c5babfad15d458e2"
#define SPEC_ORDER_ID "5952d23cee89ee559d84c3fe5ea49d5a21b39ebfed45ff16a9653f2622c941be"
#define SPEC_BUYER_PEM                                                                             \
	"-----BEGIN PRIVATE KEY-----\n"                                                            \
	"MC4CAQAwBQYDK2VwBCIEIJCRkpOUlZaXmJmam5ydnp+goaKjpKWmp6ipqqusra6v\n"                       \
	"-----END PRIVATE KEY-----\n"                                                              \
	"-----BEGIN PRIVATE KEY-----\n"                                                            \
	"MC4CAQAwBQYDK2VuBCIEINDR0tPU1dbX2Nna29zd3t/g4eLj5OXm5+jp6uvs7e7v\n"                       \
	"-----END PRIVATE KEY-----\n"

static void
test_spec_examples(void **state)
{
	struct sdpp_identity *ids[3] = { NULL, NULL, NULL }, *pem_buyer = NULL;
	struct sdpp_verifier *ver[3] = { NULL, NULL, NULL };
	uint8_t pub[SDPP_SIGN_PUBLIC_BYTES], seed[32], sig[SDPP_SIGN_BYTES], id[32], *want;
	char frame[2048], unsigned_frame[2048], sigb64[SDPP_B64_LEN(SDPP_SIGN_BYTES)];
	char hex[SDPP_HEX_LEN(32)];
	struct sdpp_msg p;
	size_t i, n, len;
	char *out;
	int s, fl, ul;

	(void)state;
	/* The identities give the public keys the examples carry. */
	ids[SELLER] = spec_identity(0x10);
	ids[BUYER] = spec_identity(0x90);
	sdpp_identity_sign_public(ids[SELLER], pub);
	sdpp_hex_encode(hex, pub, sizeof(pub));
	assert_string_equal(hex, SPEC_SELLER);
	assert_int_equal(sdpp_verifier_new(&ver[SELLER], pub), SDPP_OK);
	sdpp_identity_sign_public(ids[BUYER], pub);
	sdpp_hex_encode(hex, pub, sizeof(pub));
	assert_string_equal(hex, SPEC_BUYER);
	assert_int_equal(sdpp_verifier_new(&ver[BUYER], pub), SDPP_OK);
	/* The buyer's key file as printed in section 7.3 is the same identity. */
	assert_int_equal(
	    sdpp_identity_from_pem(&pem_buyer, SPEC_BUYER_PEM, strlen(SPEC_BUYER_PEM)), SDPP_OK);
	sdpp_identity_sign_public(pem_buyer, pub);
	sdpp_hex_encode(hex, pub, sizeof(pub));
	assert_string_equal(hex, SPEC_BUYER);
	sdpp_identity_free(pem_buyer);

	for (i = 0; i < sizeof(spec_examples) / sizeof(spec_examples[0]); i++) {
		const char *name = spec_examples[i].name;
		enum spec_signer who = spec_examples[i].signer;

		fl = snprintf(frame, sizeof(frame),
		    "{\"data\":%s,\"message_type\":\"%s\",\"signature\":\"%s\",\"verification\":\"%"
		    "s\"}",
		    spec_examples[i].data, spec_examples[i].type, spec_examples[i].signature,
		    spec_examples[i].verification);
		ul = snprintf(unsigned_frame, sizeof(unsigned_frame),
		    "{\"data\":%s,\"message_type\":\"%s\",\"signature\":\"\",\"verification\":\"%"
		    "s\"}\n",
		    spec_examples[i].data, spec_examples[i].type, spec_examples[i].verification);
		assert_true(fl > 0 && (size_t)fl < sizeof(frame));
		assert_true(ul > 0 && (size_t)ul < sizeof(unsigned_frame));
		if (sdpp_msg_parse(&p, frame, (size_t)fl, spec_examples[i].from, NULL, 0) !=
		    SDPP_OK)
			fail_msg("%s: does not parse", name);
		assert_int_equal(p.signed_, who != NONE);
		/* Signed by the right party only. */
		for (s = SELLER; s <= BUYER; s++)
			if (sdpp_msg_verify(&p, ver[s]) !=
			    (s == (int)who ? SDPP_OK : SDPP_E_SIGNATURE))
				fail_msg("%s: verify with key %d gave the wrong answer", name, s);
		/* Canonical: unsigned re-encoding, and signing with the test identity,
		 * give the published bytes (Ed25519 is deterministic). */
		assert_int_equal(sdpp_msg_encode(&p, NULL, &out, &len), SDPP_OK);
		if (len != (size_t)ul || memcmp(out, unsigned_frame, len) != 0)
			fail_msg("%s: re-encoded differently:\n%.*s", name, (int)len, out);
		free(out);
		if (who != NONE) {
			assert_int_equal(sdpp_msg_encode(&p, ids[who], &out, &len), SDPP_OK);
			assert_int_equal(len, (size_t)fl + 1);
			assert_memory_equal(out, frame, (size_t)fl);
			free(out);
			/* And the raw seed signs the same signature input. */
			fill_bytes(seed, sizeof(seed), who == SELLER ? 0x10 : 0x90, 1);
			assert_int_equal(
			    sdpp_ed25519_sign_seed(sig, seed, p.signed_bytes, p.signed_len),
			    SDPP_OK);
			sdpp_b64_encode(sigb64, sig, sizeof(sig));
			assert_string_equal(sigb64, spec_examples[i].signature);
		}
		if (p.type == SDPP_T_ORDER) {
			/* Section 5.3 prints the order id. */
			assert_int_equal(sdpp_order_id(&p, id), SDPP_OK);
			want = test_unhex(SPEC_ORDER_ID, &n);
			assert_memory_equal(id, want, n);
			free(want);
		}
		sdpp_msg_free(&p);
	}
	/* "the hello is sent as these 86 bytes (85 bytes of JSON and the line feed)" */
	memset(&p, 0, sizeof(p));
	p.type = SDPP_T_HELLO;
	assert_int_equal(sdpp_msg_encode(&p, NULL, &out, &len), SDPP_OK);
	assert_int_equal(len, 86);
	free(out);
	for (s = SELLER; s <= BUYER; s++) {
		sdpp_verifier_free(ver[s]);
		sdpp_identity_free(ids[s]);
	}
}

/* The item plaintext of section 5.5. */
static void
test_spec_item(void **state)
{
	static const char plain[] = "{\"payload\":\"eyJjbzIiOjYxNSwidW5pdCI6InBwbSJ9\","
	                            "\"received_at\":1764151202212,\"seq\":1,"
	                            "\"topic\":\"building/7/floor2/co2\"}";
	struct sdpp_item it;
	char *out;
	size_t len;

	(void)state;
	assert_int_equal(sdpp_item_parse(&it, plain, sizeof(plain) - 1), SDPP_OK);
	assert_int_equal(it.payload_len, 24);
	assert_memory_equal(it.payload, "{\"co2\":615,\"unit\":\"ppm\"}", 24);
	assert_int_equal(it.received_at, 1764151202212);
	assert_int_equal(it.seq, 1);
	assert_string_equal(it.topic, "building/7/floor2/co2");
	assert_int_equal(sdpp_item_encode(&it, &out, &len), SDPP_OK);
	assert_int_equal(len, sizeof(plain) - 1);
	assert_memory_equal(out, plain, len);
	free(out);
	sdpp_item_free(&it);
}

/* ------------------------------------------------------------------ */
/* Error codes                                                         */

static void
test_err_table(void **state)
{
	/* Every enum value with its wire name (NULL: local, sent as "internal"). */
	static const struct {
		enum sdpp_err e;
		const char *code;
	} v[] = {
		{ SDPP_OK, NULL },
		{ SDPP_E_AGAIN, NULL },
		{ SDPP_E_NOMEM, NULL },
		{ SDPP_E_INVAL, NULL },
		{ SDPP_E_CRYPTO, NULL },
		{ SDPP_E_KEY_FORMAT, NULL },
		{ SDPP_E_FRAME_TOO_LARGE, "frame_too_large" },
		{ SDPP_E_BAD_JSON, "bad_json" },
		{ SDPP_E_BAD_NUMBER, "bad_number" },
		{ SDPP_E_BAD_MESSAGE, "bad_message" },
		{ SDPP_E_UNKNOWN_TYPE, "unknown_type" },
		{ SDPP_E_UNEXPECTED, "unexpected_message" },
		{ SDPP_E_VERSION, "unsupported_version" },
		{ SDPP_E_SIGNATURE, "bad_signature" },
		{ SDPP_E_UNKNOWN_PRODUCT, "unknown_product" },
		{ SDPP_E_PRICE, "price_mismatch" },
		{ SDPP_E_CURRENCY, "bad_currency" },
		{ SDPP_E_QUANTITY, "bad_quantity" },
		{ SDPP_E_ORDER_ID, "bad_order_id" },
		{ SDPP_E_SEQUENCE, "bad_sequence" },
		{ SDPP_E_DECRYPT, "bad_ciphertext" },
		{ SDPP_E_DIGEST, "bad_digest" },
		{ SDPP_E_INVOICE, "bad_invoice" },
		{ SDPP_E_PAYMENT, "payment_insufficient" },
		{ SDPP_E_PAYMENT_REJECTED, "payment_rejected" },
		{ SDPP_E_OVERFLOW, "amount_overflow" },
		{ SDPP_E_HANDSHAKE_TIMEOUT, "handshake_timeout" },
		{ SDPP_E_ACK_TIMEOUT, "ack_timeout" },
		{ SDPP_E_PAYMENT_TIMEOUT, "payment_timeout" },
		{ SDPP_E_IDLE_TIMEOUT, "idle_timeout" },
		{ SDPP_E_BUSY, "busy" },
		{ SDPP_E_SHUTDOWN, "shutting_down" },
		{ SDPP_E_INTERNAL, "internal" },
		{ SDPP_E_BUDGET, "over_budget" },
		{ SDPP_E_REMOTE, NULL },
		{ SDPP_E_TOPIC, "bad_topic" },
		{ SDPP_E_NOT_ALLOWED, "not_allowed" },
		{ SDPP_E_TOO_MANY_CONNS, "too_many_connections" },
		{ SDPP_E_RATE_LIMITED, "rate_limited" },
		{ SDPP_E_UNKNOWN_ORDER, "unknown_order" },
		{ SDPP_E_STALE_RESUME, "stale_resume" },
		{ SDPP_E_RESUME_TIMEOUT, NULL },
	};
	size_t i, j;
	const char *a, *b;

	(void)state;
	_Static_assert(sizeof(v) / sizeof(v[0]) == SDPP_E__COUNT, "one row per enum sdpp_err");
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		assert_int_equal(v[i].e, i); /* rows in enum order, none skipped */
		a = sdpp_strerror(v[i].e);
		assert_non_null(a);
		if (a[0] == '\0' || strcmp(a, "unknown error") == 0)
			fail_msg("no description for %zu", i);
		assert_string_equal(sdpp_err_code(v[i].e), v[i].code ? v[i].code : "internal");
		if (v[i].code != NULL) {
			assert_int_equal(sdpp_err_from_code(v[i].code), v[i].e);
			/* Wire names are [a-z_] and unique. */
			assert_int_equal(
			    strspn(v[i].code, "abcdefghijklmnopqrstuvwxyz_"), strlen(v[i].code));
			for (j = 0; j < i; j++)
				if (v[j].code != NULL && strcmp(v[i].code, v[j].code) == 0)
					fail_msg("wire code %s used twice", v[i].code);
		}
		/* Descriptions are distinct too. */
		for (j = 0; j < i; j++) {
			b = sdpp_strerror(v[j].e);
			if (strcmp(a, b) == 0)
				fail_msg("%zu and %zu share the description \"%s\"", i, j, a);
		}
	}
	/* Out of range and unknown names. */
	assert_string_equal(sdpp_strerror(SDPP_E__COUNT), "unknown error");
	assert_string_equal(sdpp_strerror((enum sdpp_err) - 1), "unknown error");
	assert_string_equal(sdpp_err_code(SDPP_E__COUNT), "internal");
	assert_int_equal(sdpp_err_from_code("no_such_code"), SDPP_E_INTERNAL);
	assert_int_equal(sdpp_err_from_code(""), SDPP_E_INTERNAL);
	assert_int_equal(sdpp_err_from_code("BAD_JSON"), SDPP_E_INTERNAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_data_signed_later),
		cmocka_unit_test(test_signature_binding),
		cmocka_unit_test(test_encode_refuses),
		cmocka_unit_test(test_baselines),
		cmocka_unit_test(test_unterminated),
		cmocka_unit_test(test_bad_envelope),
		cmocka_unit_test(test_bad_order),
		cmocka_unit_test(test_bad_v2),
		cmocka_unit_test(test_bad_resume),
		cmocka_unit_test(test_bad_body),
		cmocka_unit_test(test_order_of_checks),
		cmocka_unit_test(test_bad_generated),
		cmocka_unit_test(test_item_roundtrip),
		cmocka_unit_test(test_direct_writers),
		cmocka_unit_test(test_fast_parsers),
		cmocka_unit_test(test_item_limits),
		cmocka_unit_test(test_item_encode_refuses),
		cmocka_unit_test(test_item_bad),
		cmocka_unit_test(test_item_topic_ok),
		cmocka_unit_test(test_chain_vectors),
		cmocka_unit_test(test_chain_sensitivity),
		cmocka_unit_test(test_nonce_aad),
		cmocka_unit_test(test_order_id),
		cmocka_unit_test(test_spec_examples),
		cmocka_unit_test(test_spec_item),
		cmocka_unit_test(test_type_names),
		cmocka_unit_test(test_err_table),
	};

	return cmocka_run_group_tests_name("msg", tests, keys_setup, keys_teardown);
}
