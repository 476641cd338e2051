/* SDPP message codec, the reference: signed JSON envelopes and typed bodies via cJSON + JCS. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdpp/enc.h"
#include "sdpp/framer.h"
#include "sdpp/json.h"
#include "sdpp/msg.h"
#include "sdpp/msg_int.h"
#include "util/text.h"

#define RECEIPTS_LABEL "sdpp/1 receipts"

static const char *const type_names[SDPP_T__COUNT] = {
	[SDPP_T_NONE] = "none",
	[SDPP_T_HELLO] = "hello",
	[SDPP_T_MENU] = "menu",
	[SDPP_T_ORDER] = "order",
	[SDPP_T_SESSION_KEY] = "session_key",
	[SDPP_T_DATA] = "data",
	[SDPP_T_DATA_INVOICE] = "data_invoice",
	[SDPP_T_ACK] = "ack",
	[SDPP_T_PAYMENT_ACK] = "payment_ack",
	[SDPP_T_EXIT] = "exit",
	[SDPP_T_ERROR] = "error",
	[SDPP_T_ANCHOR] = "anchor",
	[SDPP_T_RESUME] = "resume",
	[SDPP_T_RESUMED] = "resumed",
};

/* Which role may send each type. */
static const unsigned char sent_by_buyer[SDPP_T__COUNT] = {
	[SDPP_T_HELLO] = 1,
	[SDPP_T_ORDER] = 1,
	[SDPP_T_ACK] = 1,
	[SDPP_T_PAYMENT_ACK] = 1,
	[SDPP_T_EXIT] = 1,
	[SDPP_T_ERROR] = 1,
	[SDPP_T_RESUME] = 1,
};
static const unsigned char sent_by_seller[SDPP_T__COUNT] = {
	[SDPP_T_MENU] = 1,
	[SDPP_T_SESSION_KEY] = 1,
	[SDPP_T_DATA] = 1,
	[SDPP_T_DATA_INVOICE] = 1,
	[SDPP_T_EXIT] = 1,
	[SDPP_T_ERROR] = 1,
	[SDPP_T_ANCHOR] = 1,
	[SDPP_T_RESUMED] = 1,
};

const char *
sdpp_type_name(enum sdpp_type t)
{
	if ((unsigned)t >= SDPP_T__COUNT)
		return "none";
	return type_names[t];
}

static enum sdpp_type
type_from_name(const char *s)
{
	int i;

	for (i = SDPP_T_HELLO; i < SDPP_T__COUNT; i++)
		if (strcmp(type_names[i], s) == 0)
			return (enum sdpp_type)i;
	return SDPP_T_NONE;
}

/*
 * Field reader: each rd_*() call reads one member of an object and counts
 * it; the first failure is kept and later calls do nothing, so a body
 * parser is a straight list of fields followed by rd_done(), which also
 * refuses members nobody asked for.
 */
struct rd {
	const cJSON *obj;
	const char *ctx; /* "order", for messages like "order.price: ..." */
	enum sdpp_err e;
	char *err;
	size_t errlen;
	int nread;
};

static void
rd_fail(struct rd *r, enum sdpp_err e, const char *key, const char *why)
{
	if (r->e != SDPP_OK)
		return;
	r->e = e;
	if (r->err != NULL && r->errlen > 0)
		snprintf(
		    r->err, r->errlen, "%s%s%s: %s", r->ctx, *key != '\0' ? "." : "", key, why);
}

static const cJSON *
rd_get(struct rd *r, const char *key)
{
	const cJSON *v;

	if (r->e != SDPP_OK)
		return NULL;
	v = cJSON_GetObjectItemCaseSensitive(r->obj, key);
	if (v == NULL) {
		rd_fail(r, SDPP_E_BAD_MESSAGE, key, "missing");
		return NULL;
	}
	r->nread++;
	return v;
}

enum text_class { TEXT_ANY, TEXT_NAME };

/* Text fields are printable (util_text_printable: no C0/C1 controls or
 * DEL), so they are safe in logs and terminals. Names are [A-Za-z0-9._-]. */
static int
text_ok(const char *s, enum text_class cls)
{
	const unsigned char *p;

	if (cls == TEXT_ANY)
		return util_text_printable(s, strlen(s));
	for (p = (const unsigned char *)s; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		        (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' || *p == '-'))
			return 0;
	return 1;
}

static void
rd_str(struct rd *r, const char *key, char *out, size_t cap, enum text_class cls, int allow_empty)
{
	const cJSON *v = rd_get(r, key);
	size_t n;

	if (v == NULL)
		return;
	if (!cJSON_IsString(v) || v->valuestring == NULL) {
		rd_fail(r, SDPP_E_BAD_MESSAGE, key, "not a string");
		return;
	}
	n = strlen(v->valuestring);
	if (n + 1 > cap) {
		rd_fail(r, SDPP_E_BAD_MESSAGE, key, "too long");
		return;
	}
	if (n == 0 && !allow_empty) {
		rd_fail(r, SDPP_E_BAD_MESSAGE, key, "empty");
		return;
	}
	if (!text_ok(v->valuestring, cls)) {
		rd_fail(r, SDPP_E_BAD_MESSAGE, key, "bad characters");
		return;
	}
	memcpy(out, v->valuestring, n + 1);
}

/* The strict parser already refused non-integers and |n| > 2^53-1. */
static void
rd_uint(struct rd *r, const char *key, uint64_t *out, uint64_t min, uint64_t max)
{
	const cJSON *v = rd_get(r, key);
	double d;

	if (v == NULL)
		return;
	if (!cJSON_IsNumber(v)) {
		rd_fail(r, SDPP_E_BAD_MESSAGE, key, "not an integer");
		return;
	}
	d = v->valuedouble;
	if (d < (double)min || d > (double)max) {
		rd_fail(r, SDPP_E_BAD_MESSAGE, key, "out of range");
		return;
	}
	*out = (uint64_t)d;
}

static void
rd_time(struct rd *r, const char *key, int64_t *out)
{
	uint64_t u = 0;

	rd_uint(r, key, &u, 0, (uint64_t)SDPP_JSON_INT_MAX);
	*out = (int64_t)u;
}

static void
rd_bool(struct rd *r, const char *key, int *out)
{
	const cJSON *v = rd_get(r, key);

	if (v == NULL)
		return;
	if (!cJSON_IsBool(v)) {
		rd_fail(r, SDPP_E_BAD_MESSAGE, key, "not a boolean");
		return;
	}
	*out = cJSON_IsTrue(v) ? 1 : 0;
}

static void
rd_hex(struct rd *r, const char *key, uint8_t *out, size_t n)
{
	const cJSON *v = rd_get(r, key);
	const char *s;
	size_t i;

	if (v == NULL)
		return;
	if (!cJSON_IsString(v) || v->valuestring == NULL) {
		rd_fail(r, SDPP_E_BAD_MESSAGE, key, "not a string");
		return;
	}
	/* Lowercase only, so each value has one spelling on the wire. */
	for (s = v->valuestring, i = 0; s[i] != '\0'; i++)
		if (s[i] >= 'A' && s[i] <= 'F')
			break;
	if (s[i] != '\0' || sdpp_hex_decode(out, n, s) != SDPP_OK)
		rd_fail(r, SDPP_E_BAD_MESSAGE, key, "not lowercase hex of the right length");
}

static void
rd_money(struct rd *r, const char *key, uint64_t *out)
{
	const cJSON *v = rd_get(r, key);
	enum sdpp_err e;

	if (v == NULL)
		return;
	if (!cJSON_IsString(v) || v->valuestring == NULL) {
		rd_fail(r, SDPP_E_BAD_MESSAGE, key, "not a decimal string");
		return;
	}
	e = sdpp_money_parse(out, v->valuestring);
	if (e == SDPP_E_OVERFLOW)
		rd_fail(r, SDPP_E_OVERFLOW, key, "amount above 2^64-1");
	else if (e != SDPP_OK)
		rd_fail(r, SDPP_E_BAD_MESSAGE, key, "not a decimal string of base units");
}

/* Decodes base64 into a new buffer of at most cap bytes (*out, free()). */
static void
rd_b64(struct rd *r, const char *key, uint8_t **out, size_t *outlen, size_t cap)
{
	const cJSON *v = rd_get(r, key);
	uint8_t *buf;
	size_t n;

	if (v == NULL)
		return;
	if (!cJSON_IsString(v) || v->valuestring == NULL) {
		rd_fail(r, SDPP_E_BAD_MESSAGE, key, "not a string");
		return;
	}
	n = strlen(v->valuestring);
	if (n / 4 * 3 > cap + 2) {
		rd_fail(r, SDPP_E_BAD_MESSAGE, key, "too long");
		return;
	}
	buf = malloc(n / 4 * 3 + 1);
	if (buf == NULL) {
		rd_fail(r, SDPP_E_NOMEM, key, "out of memory");
		return;
	}
	if (sdpp_b64_decode(buf, cap, outlen, v->valuestring, n) != SDPP_OK) {
		free(buf);
		rd_fail(r, SDPP_E_BAD_MESSAGE, key, "not canonical base64 or too long");
		return;
	}
	*out = buf;
}

/* Fixed-size base64 field. */
static void
rd_b64_fixed(struct rd *r, const char *key, uint8_t *out, size_t n)
{
	uint8_t *buf = NULL;
	size_t len = 0;

	rd_b64(r, key, &buf, &len, n);
	if (r->e != SDPP_OK)
		return;
	if (len != n)
		rd_fail(r, SDPP_E_BAD_MESSAGE, key, "wrong length");
	else
		memcpy(out, buf, n);
	free(buf);
}

static void
rd_object(struct rd *r, const cJSON *obj, const char *ctx)
{
	if (r->e != SDPP_OK)
		return;
	r->ctx = ctx;
	r->nread = 0;
	if (!cJSON_IsObject(obj)) {
		rd_fail(r, SDPP_E_BAD_MESSAGE, "", "not an object");
		return;
	}
	r->obj = obj;
}

static void
rd_done(struct rd *r)
{
	const cJSON *c;
	int n = 0;

	if (r->e != SDPP_OK)
		return;
	for (c = r->obj->child; c != NULL; c = c->next)
		n++;
	if (n != r->nread) {
		r->e = SDPP_E_BAD_MESSAGE;
		if (r->err != NULL && r->errlen > 0)
			snprintf(r->err, r->errlen, "%s: unknown member", r->ctx);
	}
}

int
sdpp_topic_filter_ok(const char *s)
{
	size_t n = strlen(s), i;

	if (n == 0 || n > SDPP_TOPIC_MAX || !util_text_printable(s, n))
		return 0;
	for (i = 0; i < n; i++) {
		if (s[i] != '+' && s[i] != '#')
			continue;
		if (i > 0 && s[i - 1] != '/')
			return 0;
		if (s[i] == '+' && i + 1 < n && s[i + 1] != '/')
			return 0;
		if (s[i] == '#' && i + 1 != n)
			return 0;
	}
	return 1;
}

/* "" or an RFC 6901 JSON pointer: '/' first, '~' only as ~0 or ~1. */
static int
pointer_ok(const char *s)
{
	size_t i;

	if (s[0] == '\0')
		return 1;
	if (s[0] != '/')
		return 0;
	for (i = 0; s[i] != '\0'; i++)
		if (s[i] == '~' && s[i + 1] != '0' && s[i + 1] != '1')
			return 0;
	return 1;
}

/* "" or (0|[1-9][0-9]*)(\.[0-9]+)? (the length cap is rd_str's). */
static int
deadband_ok(const char *s)
{
	const char *p = s;

	if (*p == '\0')
		return 1;
	if (*p == '0')
		p++;
	else if (*p >= '1' && *p <= '9')
		while (*p >= '0' && *p <= '9')
			p++;
	else
		return 0;
	if (*p == '.') {
		p++;
		if (!(*p >= '0' && *p <= '9'))
			return 0;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	return *p == '\0';
}

static void
parse_product(struct rd *r, const cJSON *obj, struct sdpp_product *p, int v2)
{
	struct rd sub = *r;

	rd_object(&sub, obj, "menu.products[]");
	rd_str(&sub, "id", p->id, sizeof(p->id), TEXT_NAME, 0);
	rd_money(&sub, "price", &p->price);
	rd_str(&sub, "unit", p->unit, sizeof(p->unit), TEXT_ANY, 1);
	rd_str(&sub, "description", p->description, sizeof(p->description), TEXT_ANY, 1);
	rd_time(&sub, "last_seen", &p->last_seen);
	rd_bool(&sub, "prepay", &p->prepay);
	if (v2) {
		rd_str(&sub, "topic", p->topic, sizeof(p->topic), TEXT_ANY, 0);
		if (sub.e == SDPP_OK && !sdpp_topic_filter_ok(p->topic))
			rd_fail(&sub, SDPP_E_BAD_MESSAGE, "topic", "not an MQTT topic filter");
		rd_str(&sub, "field", p->field, sizeof(p->field), TEXT_ANY, 1);
		if (sub.e == SDPP_OK && !pointer_ok(p->field))
			rd_fail(&sub, SDPP_E_BAD_MESSAGE, "field", "not an RFC 6901 JSON pointer");
		rd_str(&sub, "device_class", p->device_class, sizeof(p->device_class), TEXT_ANY, 1);
		rd_uint(&sub, "min_interval", &p->min_interval, 0, SDPP_JSON_INT_MAX);
		rd_bool(&sub, "on_change", &p->on_change);
		rd_str(&sub, "deadband", p->deadband, sizeof(p->deadband), TEXT_ANY, 1);
		if (sub.e == SDPP_OK && !deadband_ok(p->deadband))
			rd_fail(&sub, SDPP_E_BAD_MESSAGE, "deadband", "not a non-negative decimal");
	}
	rd_done(&sub);
	if (sub.e == SDPP_OK && v2 && !p->on_change && p->deadband[0] != '\0')
		rd_fail(&sub, SDPP_E_BAD_MESSAGE, "deadband", "set without on_change");
	r->e = sub.e;
}

/* The statement's tree_head object: exactly root, signature, size, time. */
static void
parse_tree_head(struct rd *r, const cJSON *obj, struct sdpp_tree_head *th)
{
	struct rd sub = *r;

	if (obj == NULL)
		return;
	rd_object(&sub, obj, "exit.tree_head");
	rd_hex(&sub, "root", th->root, sizeof(th->root));
	rd_b64_fixed(&sub, "signature", th->signature, sizeof(th->signature));
	rd_uint(&sub, "size", &th->size, 1, SDPP_JSON_INT_MAX);
	rd_time(&sub, "time", &th->time);
	rd_done(&sub);
	r->e = sub.e;
}

static int
cmp_product_id(const void *a, const void *b)
{
	const struct sdpp_product *const *x = a, *const *y = b;

	return strcmp((*x)->id, (*y)->id);
}

/* Product ids are unique: sorted, so a menu of SDPP_PRODUCTS_MAX costs
 * n log n comparisons rather than n^2. */
static void
check_unique_ids(struct rd *r, const struct sdpp_menu *m)
{
	const struct sdpp_product **v;
	size_t i;

	if (r->e != SDPP_OK || m->nproducts < 2)
		return;
	v = malloc(m->nproducts * sizeof(*v));
	if (v == NULL) {
		rd_fail(r, SDPP_E_NOMEM, "products", "out of memory");
		return;
	}
	for (i = 0; i < m->nproducts; i++)
		v[i] = &m->products[i];
	qsort(v, m->nproducts, sizeof(*v), cmp_product_id);
	for (i = 1; i < m->nproducts; i++)
		if (strcmp(v[i - 1]->id, v[i]->id) == 0) {
			rd_fail(r, SDPP_E_BAD_MESSAGE, "products", "duplicate id");
			break;
		}
	free(v);
}

/* The member set and product cap follow the menu's own version: sdpp/2
 * when it says so, else sdpp/1 (another version is refused afterwards,
 * as unsupported_version, once the sdpp/1 body has been read). */
static void
parse_menu(struct rd *r, struct sdpp_menu *m)
{
	const cJSON *arr, *c;
	size_t i, cap;
	int v2;

	rd_str(r, "version", m->version, sizeof(m->version), TEXT_ANY, 0);
	v2 = r->e == SDPP_OK && strcmp(m->version, SDPP_VERSION_2) == 0;
	cap = v2 ? SDPP_PRODUCTS_MAX : SDPP_PRODUCTS_MAX_V1;
	rd_hex(r, "seller", m->seller, sizeof(m->seller));
	rd_str(r, "gateway", m->gateway, sizeof(m->gateway), TEXT_NAME, 0);
	rd_str(r, "currency", m->currency, sizeof(m->currency), TEXT_NAME, 0);
	rd_str(r, "payment_method", m->payment_method, sizeof(m->payment_method), TEXT_NAME, 0);
	rd_str(r, "payment_address", m->payment_address, sizeof(m->payment_address), TEXT_ANY, 1);
	rd_uint(r, "payment_granularity", &m->granularity, 1, SDPP_JSON_INT_MAX);
	rd_uint(r, "ack_every", &m->ack_every, 1, SDPP_JSON_INT_MAX);
	rd_uint(r, "max_unpaid", &m->max_unpaid, 0, SDPP_JSON_INT_MAX);
	rd_bool(r, "sign_items", &m->sign_items);
	rd_uint(r, "max_frame", &m->max_frame, SDPP_FRAME_CAP_HANDSHAKE, SDPP_FRAME_CAP_MAX);
	arr = rd_get(r, "products");
	if (r->e != SDPP_OK)
		return;
	if (!cJSON_IsArray(arr)) {
		rd_fail(r, SDPP_E_BAD_MESSAGE, "products", "not an array");
		return;
	}
	m->nproducts = (size_t)cJSON_GetArraySize(arr);
	if (m->nproducts > cap) {
		rd_fail(r, SDPP_E_BAD_MESSAGE, "products", "too many");
		return;
	}
	m->products = calloc(m->nproducts + 1, sizeof(*m->products));
	if (m->products == NULL) {
		rd_fail(r, SDPP_E_NOMEM, "products", "out of memory");
		return;
	}
	i = 0;
	cJSON_ArrayForEach(c, arr)
	{
		if (r->e != SDPP_OK)
			break;
		parse_product(r, c, &m->products[i], v2);
		i++;
	}
	check_unique_ids(r, m);
	if (r->e == SDPP_OK && m->ack_every > m->granularity)
		rd_fail(r, SDPP_E_BAD_MESSAGE, "ack_every", "greater than payment_granularity");
}

static void
parse_body(struct rd *r, struct sdpp_msg *m)
{
	switch (m->type) {
	case SDPP_T_HELLO:
		rd_str(r, "version", m->u.hello.version, sizeof(m->u.hello.version), TEXT_ANY, 0);
		break;
	case SDPP_T_MENU:
		parse_menu(r, &m->u.menu);
		break;
	case SDPP_T_ORDER: {
		struct sdpp_order *o = &m->u.order;

		rd_str(r, "product", o->product, sizeof(o->product), TEXT_NAME, 0);
		rd_uint(r, "quantity", &o->quantity, 0, SDPP_JSON_INT_MAX);
		rd_money(r, "price", &o->price);
		rd_str(r, "currency", o->currency, sizeof(o->currency), TEXT_NAME, 0);
		rd_str(r, "payment_address", o->payment_address, sizeof(o->payment_address),
		    TEXT_ANY, 1);
		rd_hex(r, "buyer", o->buyer, sizeof(o->buyer));
		rd_hex(r, "enc_key", o->enc_key, sizeof(o->enc_key));
		rd_hex(r, "nonce", o->nonce, sizeof(o->nonce));
		rd_time(r, "time", &o->time);
		/* One parser for both member sets: with `topic` it is an
		 * sdpp/2 order, without one sdpp/1; the seller compares the
		 * version with its session's. */
		o->version = 1;
		if (r->e == SDPP_OK && cJSON_GetObjectItemCaseSensitive(r->obj, "topic") != NULL) {
			char topic[SDPP_TOPIC_MAX + 1];

			o->version = 2;
			topic[0] = '\0';
			rd_str(r, "topic", topic, sizeof(topic), TEXT_ANY, 1);
			if (r->e == SDPP_OK && topic[0] != '\0' && !sdpp_topic_filter_ok(topic))
				rd_fail(r, SDPP_E_BAD_MESSAGE, "topic", "not an MQTT topic filter");
			if (r->e == SDPP_OK && (o->topic = strdup(topic)) == NULL)
				rd_fail(r, SDPP_E_NOMEM, "topic", "out of memory");
		}
		break;
	}
	case SDPP_T_SESSION_KEY: {
		struct sdpp_session_key *k = &m->u.session_key;

		rd_hex(r, "order_id", k->order_id, sizeof(k->order_id));
		rd_b64_fixed(r, "sealed_key", k->sealed, sizeof(k->sealed));
		rd_hex(r, "nonce_prefix", k->nonce_prefix, sizeof(k->nonce_prefix));
		break;
	}
	case SDPP_T_DATA: {
		struct sdpp_data *d = &m->u.data;

		rd_hex(r, "order_id", d->order_id, sizeof(d->order_id));
		rd_uint(r, "seq", &d->seq, 1, SDPP_JSON_INT_MAX);
		rd_b64(r, "ciphertext", &d->ciphertext, &d->ciphertext_len, SDPP_FRAME_CAP_MAX);
		if (r->e == SDPP_OK && d->ciphertext_len < SDPP_AEAD_TAG_BYTES)
			rd_fail(r, SDPP_E_BAD_MESSAGE, "ciphertext", "shorter than the tag");
		break;
	}
	case SDPP_T_DATA_INVOICE: {
		struct sdpp_invoice *v = &m->u.invoice;

		rd_hex(r, "order_id", v->order_id, sizeof(v->order_id));
		rd_uint(r, "invoice", &v->number, 1, SDPP_JSON_INT_MAX);
		rd_uint(r, "first_seq", &v->first_seq, 1, SDPP_JSON_INT_MAX);
		rd_uint(r, "last_seq", &v->last_seq, 1, SDPP_JSON_INT_MAX);
		rd_money(r, "unit_price", &v->unit_price);
		rd_money(r, "amount", &v->amount);
		rd_money(r, "total_due", &v->total_due);
		rd_str(r, "currency", v->currency, sizeof(v->currency), TEXT_NAME, 0);
		rd_str(r, "payment_address", v->payment_address, sizeof(v->payment_address),
		    TEXT_ANY, 1);
		rd_uint(r, "delivered", &v->delivered, 0, SDPP_JSON_INT_MAX);
		rd_hex(r, "digest", v->digest, sizeof(v->digest));
		if (r->e == SDPP_OK && v->first_seq > v->last_seq)
			rd_fail(r, SDPP_E_BAD_MESSAGE, "first_seq", "after last_seq");
		break;
	}
	case SDPP_T_ACK: {
		struct sdpp_ack *a = &m->u.ack;

		rd_hex(r, "order_id", a->order_id, sizeof(a->order_id));
		rd_uint(r, "seq", &a->seq, 1, SDPP_JSON_INT_MAX);
		rd_hex(r, "digest", a->digest, sizeof(a->digest));
		break;
	}
	case SDPP_T_PAYMENT_ACK: {
		struct sdpp_payment *p = &m->u.payment;

		rd_hex(r, "order_id", p->order_id, sizeof(p->order_id));
		rd_uint(r, "invoice", &p->invoice, 1, SDPP_JSON_INT_MAX);
		rd_money(r, "total", &p->total);
		break;
	}
	case SDPP_T_EXIT:
		if (m->from == SDPP_ROLE_BUYER) {
			struct sdpp_exit *x = &m->u.exit;

			rd_hex(r, "order_id", x->order_id, sizeof(x->order_id));
			rd_uint(r, "seq", &x->seq, 0, SDPP_JSON_INT_MAX);
			rd_hex(r, "digest", x->digest, sizeof(x->digest));
			rd_money(r, "total", &x->total);
		} else {
			struct sdpp_statement *s = &m->u.statement;

			rd_hex(r, "order_id", s->order_id, sizeof(s->order_id));
			rd_uint(r, "delivered", &s->delivered, 0, SDPP_JSON_INT_MAX);
			rd_uint(r, "acked", &s->acked, 0, SDPP_JSON_INT_MAX);
			rd_money(r, "total_due", &s->total_due);
			rd_money(r, "total_paid", &s->total_paid);
			rd_bool(r, "settled", &s->settled);
			/* As the order's topic: with `tree_head` it is an
			 * sdpp/2 statement, without one sdpp/1; the buyer
			 * compares the version with its session's. */
			s->version = 1;
			if (r->e == SDPP_OK &&
			    cJSON_GetObjectItemCaseSensitive(r->obj, "tree_head") != NULL) {
				s->version = 2;
				parse_tree_head(r, rd_get(r, "tree_head"), &s->tree_head);
			}
		}
		break;
	case SDPP_T_ERROR:
		rd_str(r, "code", m->u.error.code, sizeof(m->u.error.code), TEXT_NAME, 0);
		rd_str(r, "message", m->u.error.message, sizeof(m->u.error.message), TEXT_ANY, 1);
		break;
	case SDPP_T_ANCHOR:
		rd_hex(r, "order_id", m->u.anchor.order_id, sizeof(m->u.anchor.order_id));
		rd_str(r, "record", m->u.anchor.record, sizeof(m->u.anchor.record), TEXT_ANY, 0);
		rd_str(r, "ref", m->u.anchor.ref, sizeof(m->u.anchor.ref), TEXT_ANY, 0);
		break;
	case SDPP_T_RESUME: {
		struct sdpp_resume *x = &m->u.resume;

		rd_hex(r, "order_id", x->order_id, sizeof(x->order_id));
		rd_uint(r, "seq", &x->seq, 0, SDPP_JSON_INT_MAX);
		rd_hex(r, "digest", x->digest, sizeof(x->digest));
		rd_uint(r, "invoice", &x->invoice, 0, SDPP_JSON_INT_MAX);
		rd_uint(r, "attempt", &x->attempt, 1, SDPP_JSON_INT_MAX);
		break;
	}
	case SDPP_T_RESUMED: {
		struct sdpp_resumed *x = &m->u.resumed;

		rd_hex(r, "order_id", x->order_id, sizeof(x->order_id));
		rd_uint(r, "seq", &x->seq, 0, SDPP_JSON_INT_MAX);
		rd_uint(r, "sent", &x->sent, 0, SDPP_JSON_INT_MAX);
		rd_uint(r, "invoice", &x->invoice, 0, SDPP_JSON_INT_MAX);
		rd_money(r, "paid", &x->paid);
		rd_uint(r, "dropped", &x->dropped, 0, SDPP_JSON_INT_MAX);
		if (r->e == SDPP_OK && x->seq > x->sent)
			rd_fail(r, SDPP_E_BAD_MESSAGE, "seq", "beyond sent");
		break;
	}
	default:
		rd_fail(r, SDPP_E_UNKNOWN_TYPE, "message_type", "unknown");
		break;
	}
	rd_done(r);
}

/* Builds the signature input: context || JCS(envelope without "signature"). */
static enum sdpp_err
signed_input(cJSON *env_without_sig, char **out, size_t *outlen)
{
	char *jcs = NULL, *buf;
	size_t n;
	enum sdpp_err e;

	e = sdpp_jcs_serialize_int(env_without_sig, MSG_SERIAL_CAP, &jcs, &n);
	if (e != SDPP_OK)
		return e;
	buf = malloc(SDPP_SIG_CONTEXT_LEN + n + 1);
	if (buf == NULL) {
		free(jcs);
		return SDPP_E_NOMEM;
	}
	memcpy(buf, SDPP_SIG_CONTEXT, SDPP_SIG_CONTEXT_LEN);
	memcpy(buf + SDPP_SIG_CONTEXT_LEN, jcs, n + 1);
	free(jcs);
	*out = buf;
	*outlen = SDPP_SIG_CONTEXT_LEN + n;
	return SDPP_OK;
}

enum sdpp_err
sdpp_msg_parse_generic(struct sdpp_msg *msg, const char *frame, size_t len, enum sdpp_role from,
    char *err, size_t errlen)
{
	struct sdpp_msg m;
	struct rd r;
	cJSON *root = NULL, *sig = NULL;
	const cJSON *type, *ver, *data;
	enum sdpp_err e;
	size_t siglen;

	memset(&m, 0, sizeof(m));
	memset(&r, 0, sizeof(r));
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	r.err = err;
	r.errlen = errlen;
	r.ctx = "envelope";
	e = sdpp_json_parse(&root, frame, len, err, errlen);
	if (e != SDPP_OK)
		return e;
	m.from = from;
	rd_object(&r, root, "envelope");
	if (r.e != SDPP_OK)
		goto fail;
	type = rd_get(&r, "message_type");
	if (type != NULL && !cJSON_IsString(type))
		rd_fail(&r, SDPP_E_BAD_MESSAGE, "message_type", "not a string");
	if (r.e != SDPP_OK)
		goto fail;
	m.type = type_from_name(type->valuestring);
	if (m.type == SDPP_T_NONE) {
		rd_fail(&r, SDPP_E_UNKNOWN_TYPE, "message_type", "unknown type");
		goto fail;
	}
	if (!(from == SDPP_ROLE_BUYER ? sent_by_buyer : sent_by_seller)[m.type]) {
		rd_fail(&r, SDPP_E_UNEXPECTED, "message_type",
		    from == SDPP_ROLE_BUYER ? "not sent by a buyer" : "not sent by a seller");
		goto fail;
	}
	rd_str(&r, "verification", m.verification, sizeof(m.verification), TEXT_ANY, 1);
	data = rd_get(&r, "data");
	sig = cJSON_GetObjectItemCaseSensitive(root, "signature");
	if (sig == NULL)
		rd_fail(&r, SDPP_E_BAD_MESSAGE, "signature", "missing");
	else if (!cJSON_IsString(sig))
		rd_fail(&r, SDPP_E_BAD_MESSAGE, "signature", "not a string");
	r.nread++;
	rd_done(&r);
	if (r.e != SDPP_OK)
		goto fail;
	if (sig->valuestring[0] != '\0') {
		if (sdpp_b64_decode(m.signature, sizeof(m.signature), &siglen, sig->valuestring,
		        strlen(sig->valuestring)) != SDPP_OK ||
		    siglen != SDPP_SIGN_BYTES) {
			rd_fail(&r, SDPP_E_BAD_MESSAGE, "signature", "not 64 bytes of base64");
			goto fail;
		}
		m.signed_ = 1;
	}
	/* Parse the body into a fresh reader so its context names the type. */
	{
		struct rd b;

		memset(&b, 0, sizeof(b));
		b.err = err;
		b.errlen = errlen;
		rd_object(&b, data, type_names[m.type]);
		if (b.e == SDPP_OK)
			parse_body(&b, &m);
		if (b.e != SDPP_OK) {
			r.e = b.e;
			goto fail;
		}
	}
	ver = NULL;
	if (m.type == SDPP_T_HELLO)
		ver = cJSON_GetObjectItemCaseSensitive(data, "version");
	else if (m.type == SDPP_T_MENU)
		ver = cJSON_GetObjectItemCaseSensitive(data, "version");
	if (ver != NULL && strcmp(ver->valuestring, SDPP_VERSION) != 0 &&
	    strcmp(ver->valuestring, SDPP_VERSION_2) != 0) {
		r.e = SDPP_E_VERSION;
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "%s.version: only %s and %s are supported",
			    type_names[m.type], SDPP_VERSION, SDPP_VERSION_2);
		goto fail;
	}
	cJSON_DeleteItemFromObjectCaseSensitive(root, "signature");
	/* Only a signature needs the canonical re-serialisation: unsigned
	 * data items (most of the traffic) skip it. */
	e = m.signed_ ? signed_input(root, &m.signed_bytes, &m.signed_len) : SDPP_OK;
	if (e != SDPP_OK) {
		r.e = e;
		goto fail;
	}
	cJSON_Delete(root);
	*msg = m;
	return SDPP_OK;
fail:
	cJSON_Delete(root);
	sdpp_msg_free(&m);
	return r.e;
}

void
sdpp_msg_free(struct sdpp_msg *msg)
{
	if (msg == NULL)
		return;
	free(msg->signed_bytes);
	msg->signed_bytes = NULL;
	if (msg->type == SDPP_T_MENU) {
		free(msg->u.menu.products);
		msg->u.menu.products = NULL;
	} else if (msg->type == SDPP_T_DATA) {
		free(msg->u.data.ciphertext);
		msg->u.data.ciphertext = NULL;
	} else if (msg->type == SDPP_T_ORDER) {
		free(msg->u.order.topic);
		msg->u.order.topic = NULL;
	}
}

enum sdpp_err
sdpp_msg_verify(const struct sdpp_msg *msg, const struct sdpp_verifier *v)
{
	if (!msg->signed_ || msg->signed_bytes == NULL)
		return SDPP_E_SIGNATURE;
	return sdpp_verify(v, msg->signed_bytes, msg->signed_len, msg->signature, SDPP_SIGN_BYTES);
}

/* Encoding helpers: each returns 0 or -1 (out of memory). */
static int
put_str(cJSON *o, const char *k, const char *v)
{
	return cJSON_AddStringToObject(o, k, v) == NULL ? -1 : 0;
}

static int
put_uint(cJSON *o, const char *k, uint64_t v)
{
	if (v > (uint64_t)SDPP_JSON_INT_MAX)
		return -1;
	return cJSON_AddNumberToObject(o, k, (double)v) == NULL ? -1 : 0;
}

static int
put_bool(cJSON *o, const char *k, int v)
{
	return cJSON_AddBoolToObject(o, k, v) == NULL ? -1 : 0;
}

static int
put_money(cJSON *o, const char *k, uint64_t v)
{
	char buf[SDPP_MONEY_LEN];

	sdpp_money_format(buf, v);
	return put_str(o, k, buf);
}

static int
put_hex(cJSON *o, const char *k, const uint8_t *b, size_t n)
{
	char buf[SDPP_HEX_LEN(64)];

	if (n > 64)
		return -1;
	sdpp_hex_encode(buf, b, n);
	return put_str(o, k, buf);
}

static int
put_b64(cJSON *o, const char *k, const uint8_t *b, size_t n)
{
	char *buf = malloc(SDPP_B64_LEN(n));
	int rc;

	if (buf == NULL)
		return -1;
	sdpp_b64_encode(buf, b, n);
	rc = put_str(o, k, buf);
	free(buf);
	return rc;
}

static int
put_tree_head(cJSON *d, const struct sdpp_tree_head *th)
{
	cJSON *o = cJSON_AddObjectToObject(d, "tree_head");

	if (o == NULL || th->size == 0 || th->time < 0)
		return -1;
	return put_hex(o, "root", th->root, sizeof(th->root)) |
	       put_b64(o, "signature", th->signature, sizeof(th->signature)) |
	       put_uint(o, "size", th->size) | put_uint(o, "time", (uint64_t)th->time);
}

static int
build_product(cJSON *arr, const struct sdpp_product *p, int v2)
{
	cJSON *o = cJSON_CreateObject();
	int rc;

	if (o == NULL || !cJSON_AddItemToArray(arr, o)) {
		cJSON_Delete(o);
		return -1;
	}
	rc = put_str(o, "id", p->id) | put_money(o, "price", p->price) |
	     put_str(o, "unit", p->unit) | put_str(o, "description", p->description) |
	     put_uint(o, "last_seen", (uint64_t)(p->last_seen < 0 ? 0 : p->last_seen)) |
	     put_bool(o, "prepay", p->prepay);
	if (v2)
		rc |= put_str(o, "topic", p->topic) | put_str(o, "field", p->field) |
		      put_str(o, "device_class", p->device_class) |
		      put_uint(o, "min_interval", p->min_interval) |
		      put_bool(o, "on_change", p->on_change) | put_str(o, "deadband", p->deadband);
	return rc;
}

/* 1 for sdpp/2, 0 for sdpp/1 ("" too: the version the struct names
 * before the sdpp/2 members existed), -1 for anything else. */
static int
version_is_2(const char *v)
{
	if (v[0] == '\0' || strcmp(v, SDPP_VERSION) == 0)
		return 0;
	return strcmp(v, SDPP_VERSION_2) == 0 ? 1 : -1;
}

static int
build_body(cJSON *d, const struct sdpp_msg *m)
{
	int rc = 0, v2;
	size_t i;

	switch (m->type) {
	case SDPP_T_HELLO:
		v2 = version_is_2(m->u.hello.version);
		if (v2 < 0)
			return -1;
		rc = put_str(d, "version", v2 ? SDPP_VERSION_2 : SDPP_VERSION);
		break;
	case SDPP_T_MENU: {
		const struct sdpp_menu *x = &m->u.menu;
		cJSON *arr;

		v2 = version_is_2(x->version);
		if (v2 < 0 || x->nproducts > (v2 ? SDPP_PRODUCTS_MAX : SDPP_PRODUCTS_MAX_V1))
			return -1;
		rc = put_str(d, "version", v2 ? SDPP_VERSION_2 : SDPP_VERSION) |
		     put_hex(d, "seller", x->seller, 32) | put_str(d, "gateway", x->gateway) |
		     put_str(d, "currency", x->currency) |
		     put_str(d, "payment_method", x->payment_method) |
		     put_str(d, "payment_address", x->payment_address) |
		     put_uint(d, "payment_granularity", x->granularity) |
		     put_uint(d, "ack_every", x->ack_every) |
		     put_uint(d, "max_unpaid", x->max_unpaid) |
		     put_bool(d, "sign_items", x->sign_items) |
		     put_uint(d, "max_frame", x->max_frame);
		arr = cJSON_AddArrayToObject(d, "products");
		if (arr == NULL)
			return -1;
		for (i = 0; i < x->nproducts; i++)
			rc |= build_product(arr, &x->products[i], v2);
		break;
	}
	case SDPP_T_ORDER: {
		const struct sdpp_order *o = &m->u.order;

		rc = put_str(d, "product", o->product) | put_uint(d, "quantity", o->quantity) |
		     put_money(d, "price", o->price) | put_str(d, "currency", o->currency) |
		     put_str(d, "payment_address", o->payment_address) |
		     put_hex(d, "buyer", o->buyer, sizeof(o->buyer)) |
		     put_hex(d, "enc_key", o->enc_key, sizeof(o->enc_key)) |
		     put_hex(d, "nonce", o->nonce, sizeof(o->nonce)) |
		     put_uint(d, "time", (uint64_t)(o->time < 0 ? 0 : o->time));
		if (o->version == 2)
			rc |= put_str(d, "topic", o->topic != NULL ? o->topic : "");
		else if (o->version != 0 && o->version != 1)
			rc = -1;
		break;
	}
	case SDPP_T_SESSION_KEY: {
		const struct sdpp_session_key *k = &m->u.session_key;

		rc = put_hex(d, "order_id", k->order_id, sizeof(k->order_id)) |
		     put_b64(d, "sealed_key", k->sealed, sizeof(k->sealed)) |
		     put_hex(d, "nonce_prefix", k->nonce_prefix, sizeof(k->nonce_prefix));
		break;
	}
	case SDPP_T_DATA: {
		const struct sdpp_data *x = &m->u.data;

		rc = put_hex(d, "order_id", x->order_id, sizeof(x->order_id)) |
		     put_uint(d, "seq", x->seq) |
		     put_b64(d, "ciphertext", x->ciphertext, x->ciphertext_len);
		break;
	}
	case SDPP_T_DATA_INVOICE: {
		const struct sdpp_invoice *v = &m->u.invoice;

		rc = put_hex(d, "order_id", v->order_id, sizeof(v->order_id)) |
		     put_uint(d, "invoice", v->number) | put_uint(d, "first_seq", v->first_seq) |
		     put_uint(d, "last_seq", v->last_seq) |
		     put_money(d, "unit_price", v->unit_price) | put_money(d, "amount", v->amount) |
		     put_money(d, "total_due", v->total_due) | put_str(d, "currency", v->currency) |
		     put_str(d, "payment_address", v->payment_address) |
		     put_uint(d, "delivered", v->delivered) |
		     put_hex(d, "digest", v->digest, sizeof(v->digest));
		break;
	}
	case SDPP_T_ACK: {
		const struct sdpp_ack *a = &m->u.ack;

		rc = put_hex(d, "order_id", a->order_id, sizeof(a->order_id)) |
		     put_uint(d, "seq", a->seq) |
		     put_hex(d, "digest", a->digest, sizeof(a->digest));
		break;
	}
	case SDPP_T_PAYMENT_ACK: {
		const struct sdpp_payment *p = &m->u.payment;

		rc = put_hex(d, "order_id", p->order_id, sizeof(p->order_id)) |
		     put_uint(d, "invoice", p->invoice) | put_money(d, "total", p->total);
		break;
	}
	case SDPP_T_EXIT:
		if (m->from == SDPP_ROLE_BUYER) {
			const struct sdpp_exit *x = &m->u.exit;

			rc = put_hex(d, "order_id", x->order_id, sizeof(x->order_id)) |
			     put_uint(d, "seq", x->seq) |
			     put_hex(d, "digest", x->digest, sizeof(x->digest)) |
			     put_money(d, "total", x->total);
		} else {
			const struct sdpp_statement *s = &m->u.statement;

			rc = put_hex(d, "order_id", s->order_id, sizeof(s->order_id)) |
			     put_uint(d, "delivered", s->delivered) |
			     put_uint(d, "acked", s->acked) |
			     put_money(d, "total_due", s->total_due) |
			     put_money(d, "total_paid", s->total_paid) |
			     put_bool(d, "settled", s->settled);
			if (s->version == 2)
				rc |= put_tree_head(d, &s->tree_head);
			else if (s->version != 0 && s->version != 1)
				rc = -1;
		}
		break;
	case SDPP_T_ERROR:
		rc =
		    put_str(d, "code", m->u.error.code) | put_str(d, "message", m->u.error.message);
		break;
	case SDPP_T_ANCHOR:
		rc = put_hex(d, "order_id", m->u.anchor.order_id, sizeof(m->u.anchor.order_id)) |
		     put_str(d, "record", m->u.anchor.record) | put_str(d, "ref", m->u.anchor.ref);
		break;
	case SDPP_T_RESUME: {
		const struct sdpp_resume *x = &m->u.resume;

		rc = put_hex(d, "order_id", x->order_id, sizeof(x->order_id)) |
		     put_uint(d, "seq", x->seq) |
		     put_hex(d, "digest", x->digest, sizeof(x->digest)) |
		     put_uint(d, "invoice", x->invoice) | put_uint(d, "attempt", x->attempt);
		break;
	}
	case SDPP_T_RESUMED: {
		const struct sdpp_resumed *x = &m->u.resumed;

		rc = put_hex(d, "order_id", x->order_id, sizeof(x->order_id)) |
		     put_uint(d, "seq", x->seq) | put_uint(d, "sent", x->sent) |
		     put_uint(d, "invoice", x->invoice) | put_money(d, "paid", x->paid) |
		     put_uint(d, "dropped", x->dropped);
		break;
	}
	default:
		rc = -1;
		break;
	}
	return rc;
}

enum sdpp_err
sdpp_msg_encode_generic(
    const struct sdpp_msg *msg, const struct sdpp_identity *signer, char **out, size_t *len)
{
	cJSON *env = NULL, *data;
	char *sigin = NULL, *frame = NULL;
	size_t siglen = 0, flen;
	uint8_t sig[SDPP_SIGN_BYTES];
	char sigb64[SDPP_B64_LEN(SDPP_SIGN_BYTES)];
	enum sdpp_err e = SDPP_E_NOMEM;

	*out = NULL;
	if ((unsigned)msg->type >= SDPP_T__COUNT || msg->type == SDPP_T_NONE)
		return SDPP_E_INVAL;
	env = cJSON_CreateObject();
	if (env == NULL || put_str(env, "message_type", type_names[msg->type]) != 0 ||
	    put_str(env, "verification", msg->verification) != 0)
		goto fail;
	data = cJSON_AddObjectToObject(env, "data");
	if (data == NULL)
		goto fail;
	if (build_body(data, msg) != 0) {
		e = SDPP_E_INVAL;
		goto fail;
	}
	sigb64[0] = '\0';
	if (signer != NULL) {
		e = signed_input(env, &sigin, &siglen);
		if (e != SDPP_OK)
			goto fail;
		e = sdpp_sign(signer, sigin, siglen, sig);
		if (e != SDPP_OK)
			goto fail;
		sdpp_b64_encode(sigb64, sig, sizeof(sig));
	}
	e = SDPP_E_NOMEM;
	if (put_str(env, "signature", sigb64) != 0)
		goto fail;
	e = sdpp_jcs_serialize_int(env, MSG_SERIAL_CAP - 1, &frame, &flen);
	if (e != SDPP_OK)
		goto fail;
	/* The JCS buffer has room for its NUL; replace it by the newline. */
	frame[flen] = '\n';
	*out = frame;
	*len = flen + 1;
	e = SDPP_OK;
fail:
	free(sigin);
	cJSON_Delete(env);
	return e;
}

enum sdpp_err
sdpp_order_id(const struct sdpp_msg *order, uint8_t id[SDPP_ORDER_ID_BYTES])
{
	struct sdpp_iov iov = { order->signed_bytes, order->signed_len };

	if (order->type != SDPP_T_ORDER || order->signed_bytes == NULL)
		return SDPP_E_INVAL;
	return sdpp_sha256(id, &iov, 1);
}

enum sdpp_err
sdpp_item_encode_generic(const struct sdpp_item *item, char **out, size_t *len)
{
	cJSON *o = cJSON_CreateObject();
	enum sdpp_err e = SDPP_E_NOMEM;

	*out = NULL;
	if (item->seq > (uint64_t)SDPP_JSON_INT_MAX || item->received_at < 0 ||
	    item->received_at > SDPP_JSON_INT_MAX) {
		e = SDPP_E_INVAL;
		goto fail;
	}
	if (o == NULL)
		goto fail;
	if (put_b64(o, "payload", item->payload, item->payload_len) |
	    put_uint(o, "received_at", (uint64_t)(item->received_at < 0 ? 0 : item->received_at)) |
	    put_uint(o, "seq", item->seq) | put_str(o, "topic", item->topic))
		goto fail;
	e = sdpp_jcs_serialize_int(o, MSG_SERIAL_CAP, out, len);
fail:
	cJSON_Delete(o);
	return e;
}

int
sdpp_item_topic_ok(const char *topic)
{
	size_t n = strlen(topic);

	/* The same rules rd_str() applies to "topic" in sdpp_item_parse(). */
	return n > 0 && n <= SDPP_TOPIC_MAX && util_text_printable(topic, n);
}

enum sdpp_err
sdpp_item_parse_generic(struct sdpp_item *item, const char *buf, size_t len)
{
	cJSON *root = NULL;
	struct rd r;
	uint8_t *payload = NULL;
	enum sdpp_err e;

	memset(item, 0, sizeof(*item));
	memset(&r, 0, sizeof(r));
	e = sdpp_json_parse(&root, buf, len, NULL, 0);
	if (e != SDPP_OK)
		return e;
	rd_object(&r, root, "item");
	rd_b64(&r, "payload", &payload, &item->payload_len, SDPP_PAYLOAD_MAX);
	rd_time(&r, "received_at", &item->received_at);
	rd_uint(&r, "seq", &item->seq, 1, SDPP_JSON_INT_MAX);
	rd_str(&r, "topic", item->topic, sizeof(item->topic), TEXT_ANY, 0);
	rd_done(&r);
	cJSON_Delete(root);
	if (r.e != SDPP_OK) {
		free(payload);
		item->payload = NULL;
		return r.e;
	}
	item->payload = payload;
	return SDPP_OK;
}

void
sdpp_item_free(struct sdpp_item *item)
{
	if (item == NULL)
		return;
	free((void *)(uintptr_t)item->payload);
	item->payload = NULL;
}

static void
put_be64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

enum sdpp_err
sdpp_chain_init(uint8_t chain[SDPP_DIGEST_BYTES], const uint8_t order_id[SDPP_ORDER_ID_BYTES])
{
	struct sdpp_iov iov[2] = {
		{ RECEIPTS_LABEL, sizeof(RECEIPTS_LABEL) - 1 },
		{ order_id, SDPP_ORDER_ID_BYTES },
	};

	return sdpp_sha256(chain, iov, 2);
}

enum sdpp_err
sdpp_chain_next(uint8_t chain[SDPP_DIGEST_BYTES], uint64_t seq, const uint8_t *ct, size_t ctlen)
{
	uint8_t prev[SDPP_DIGEST_BYTES], be[8];
	struct sdpp_iov iov[3] = {
		{ prev, sizeof(prev) },
		{ be, sizeof(be) },
		{ ct, ctlen },
	};

	memcpy(prev, chain, sizeof(prev));
	put_be64(be, seq);
	return sdpp_sha256(chain, iov, 3);
}

void
sdpp_data_nonce(uint8_t nonce[SDPP_AEAD_NONCE_BYTES], const uint8_t prefix[SDPP_NONCE_PREFIX_BYTES],
    uint64_t seq)
{
	memcpy(nonce, prefix, SDPP_NONCE_PREFIX_BYTES);
	put_be64(nonce + SDPP_NONCE_PREFIX_BYTES, seq);
}

void
sdpp_data_aad(
    uint8_t aad[SDPP_DATA_AAD_BYTES], const uint8_t order_id[SDPP_ORDER_ID_BYTES], uint64_t seq)
{
	memcpy(aad, order_id, SDPP_ORDER_ID_BYTES);
	put_be64(aad + SDPP_ORDER_ID_BYTES, seq);
}
