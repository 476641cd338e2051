/* Record builders: turn verified SDPP messages into ledger records (canonical JSON bodies). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger.h"
#include "sdpp/enc.h"
#include "sdpp/json.h"

static const char *const kind_names[LEDGER_KIND__COUNT] = {
	[LEDGER_ORDER] = "order",
	[LEDGER_SESSION] = "session",
	[LEDGER_INVOICE] = "invoice",
	[LEDGER_PAYMENT] = "payment",
	[LEDGER_RECEIPTS] = "receipts",
	[LEDGER_EXIT] = "exit",
	[LEDGER_CLOSE] = "close",
	[LEDGER_RESUME] = "resume",
};

const char *
ledger_kind_name(enum ledger_kind k)
{
	if ((unsigned)k >= LEDGER_KIND__COUNT || kind_names[k] == NULL)
		return "unknown";
	return kind_names[k];
}

void
ledger_record_clear(struct ledger_record *r)
{
	if (r == NULL)
		return;
	free(r->detail);
	free(r->evidence);
	memset(r, 0, sizeof(*r));
}

void
ledger_ack_clear(struct ledger_ack *a)
{
	if (a == NULL)
		return;
	free(a->message);
	free(a->signature);
	memset(a, 0, sizeof(*a));
}

/* Serialises a detail/evidence object canonically, consuming it. */
static int
finish(char **out, cJSON *o)
{
	size_t len;
	int rc = -1;

	if (o != NULL && sdpp_jcs_serialize_int(o, LEDGER_BODY_MAX, out, &len) == SDPP_OK)
		rc = 0;
	cJSON_Delete(o);
	return rc;
}

static int
add_money(cJSON *o, const char *k, uint64_t v)
{
	char buf[SDPP_MONEY_LEN];

	sdpp_money_format(buf, v);
	return cJSON_AddStringToObject(o, k, buf) == NULL ? -1 : 0;
}

static int
add_uint(cJSON *o, const char *k, uint64_t v)
{
	if (v > (uint64_t)SDPP_JSON_INT_MAX)
		return -1;
	return cJSON_AddNumberToObject(o, k, (double)v) == NULL ? -1 : 0;
}

static int
add_hex(cJSON *o, const char *k, const uint8_t *b, size_t n)
{
	char buf[SDPP_HEX_LEN(64)];

	if (n > 64)
		return -1;
	sdpp_hex_encode(buf, b, n);
	return cJSON_AddStringToObject(o, k, buf) == NULL ? -1 : 0;
}

static int
add_str(cJSON *o, const char *k, const char *v)
{
	return cJSON_AddStringToObject(o, k, v) == NULL ? -1 : 0;
}

/* Evidence of a buyer-signed message: what was signed and the signature. */
static int
evidence(char **out, const struct sdpp_msg *m)
{
	char sig[SDPP_B64_LEN(SDPP_SIGN_BYTES)];
	cJSON *o;

	if (!m->signed_ || m->signed_bytes == NULL || m->signed_len < SDPP_SIG_CONTEXT_LEN)
		return -1;
	o = cJSON_CreateObject();
	if (o == NULL)
		return -1;
	sdpp_b64_encode(sig, m->signature, SDPP_SIGN_BYTES);
	/* signed_bytes is NUL-terminated after the context, JSON text. */
	if (add_str(o, "message", m->signed_bytes + SDPP_SIG_CONTEXT_LEN) != 0 ||
	    add_str(o, "signature", sig) != 0) {
		cJSON_Delete(o);
		return -1;
	}
	return finish(out, o);
}

static void
head(struct ledger_record *r, enum ledger_kind kind, const uint8_t *order_id, const uint8_t *buyer,
    int64_t time)
{
	memset(r, 0, sizeof(*r));
	r->kind = kind;
	r->time = time;
	sdpp_hex_encode(r->order_id, order_id, SDPP_ORDER_ID_BYTES);
	if (buyer != NULL)
		sdpp_hex_encode(r->buyer, buyer, SDPP_SIGN_PUBLIC_BYTES);
}

int
ledger_record_order(struct ledger_record *r, const struct sdpp_msg *order,
    const uint8_t order_id[SDPP_ORDER_ID_BYTES], const char *product, int64_t time)
{
	const struct sdpp_order *o = &order->u.order;
	cJSON *d = cJSON_CreateObject();

	head(r, LEDGER_ORDER, order_id, o->buyer, time);
	r->amount = o->price;
	if (d == NULL || add_str(d, "product", product) != 0 ||
	    add_uint(d, "quantity", o->quantity) != 0 || add_money(d, "price", o->price) != 0 ||
	    add_str(d, "currency", o->currency) != 0 ||
	    add_str(d, "payment_address", o->payment_address) != 0) {
		cJSON_Delete(d);
		return -1;
	}
	if (finish(&r->detail, d) != 0 || evidence(&r->evidence, order) != 0) {
		ledger_record_clear(r);
		return -1;
	}
	return 0;
}

int
ledger_record_session(struct ledger_record *r, const uint8_t order_id[SDPP_ORDER_ID_BYTES],
    const uint8_t buyer[SDPP_SIGN_PUBLIC_BYTES], int64_t time)
{
	head(r, LEDGER_SESSION, order_id, buyer, time);
	r->detail = strdup("{}");
	return r->detail == NULL ? -1 : 0;
}

int
ledger_record_invoice(struct ledger_record *r, const struct sdpp_invoice *v,
    const uint8_t buyer[SDPP_SIGN_PUBLIC_BYTES], int64_t time)
{
	cJSON *d = cJSON_CreateObject();

	head(r, LEDGER_INVOICE, v->order_id, buyer, time);
	r->invoice = v->number;
	r->amount = v->amount;
	r->first_seq = v->first_seq;
	if (d == NULL || add_uint(d, "invoice", v->number) != 0 ||
	    add_uint(d, "first_seq", v->first_seq) != 0 ||
	    add_uint(d, "last_seq", v->last_seq) != 0 ||
	    add_money(d, "unit_price", v->unit_price) != 0 ||
	    add_money(d, "amount", v->amount) != 0 ||
	    add_money(d, "total_due", v->total_due) != 0 ||
	    add_str(d, "currency", v->currency) != 0 ||
	    add_uint(d, "delivered", v->delivered) != 0 ||
	    add_hex(d, "digest", v->digest, sizeof(v->digest)) != 0) {
		cJSON_Delete(d);
		return -1;
	}
	return finish(&r->detail, d);
}

int
ledger_record_invoice_merge(
    struct ledger_record *r, uint64_t first_invoice, uint64_t first_seq, uint64_t amount)
{
	cJSON *d;
	char *merged = NULL;
	char buf[SDPP_MONEY_LEN];

	if (r->kind != LEDGER_INVOICE || first_invoice == 0 || first_invoice > r->invoice)
		return -1;
	if (first_invoice == r->invoice)
		return 0;
	d = cJSON_Parse(r->detail);
	sdpp_money_format(buf, amount);
	if (d == NULL || !cJSON_IsObject(d) ||
	    cJSON_ReplaceItemInObject(d, "first_seq", cJSON_CreateNumber((double)first_seq)) == 0 ||
	    cJSON_ReplaceItemInObject(d, "amount", cJSON_CreateString(buf)) == 0 ||
	    add_uint(d, "first_invoice", first_invoice) != 0) {
		cJSON_Delete(d);
		return -1;
	}
	if (finish(&merged, d) != 0)
		return -1;
	free(r->detail);
	r->detail = merged;
	r->first_seq = first_seq;
	r->amount = amount;
	return 0;
}

int
ledger_record_payment(struct ledger_record *r, const struct sdpp_msg *payment,
    const uint8_t buyer[SDPP_SIGN_PUBLIC_BYTES], const char *method, int64_t time)
{
	const struct sdpp_payment *p = &payment->u.payment;
	cJSON *d = cJSON_CreateObject();

	head(r, LEDGER_PAYMENT, p->order_id, buyer, time);
	r->invoice = p->invoice;
	r->amount = p->total;
	if (d == NULL || add_uint(d, "invoice", p->invoice) != 0 ||
	    add_money(d, "total", p->total) != 0 || add_str(d, "method", method) != 0 ||
	    add_str(d, "verification", payment->verification) != 0) {
		cJSON_Delete(d);
		return -1;
	}
	if (finish(&r->detail, d) != 0 || evidence(&r->evidence, payment) != 0) {
		ledger_record_clear(r);
		return -1;
	}
	return 0;
}

/* SHA-256 over message "\n" signature "\n" of each ACK, in order: JCS text
 * has no raw newline, so the concatenation is unambiguous. */
int
ledger_acks_digest(uint8_t out[SDPP_SHA256_BYTES], const struct ledger_ack *acks, size_t n)
{
	struct sdpp_iov *iov;
	size_t i;
	int rc;

	iov = calloc(4 * n + 1, sizeof(*iov));
	if (iov == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		iov[4 * i] = (struct sdpp_iov){ acks[i].message, strlen(acks[i].message) };
		iov[4 * i + 1] = (struct sdpp_iov){ "\n", 1 };
		iov[4 * i + 2] = (struct sdpp_iov){ acks[i].signature, strlen(acks[i].signature) };
		iov[4 * i + 3] = (struct sdpp_iov){ "\n", 1 };
	}
	rc = sdpp_sha256(out, iov, 4 * n) == SDPP_OK ? 0 : -1;
	free(iov);
	return rc;
}

int
ledger_record_receipts(struct ledger_record *r, const uint8_t order_id[SDPP_ORDER_ID_BYTES],
    const uint8_t buyer[SDPP_SIGN_PUBLIC_BYTES], const struct ledger_ack *acks, size_t nacks,
    int64_t time)
{
	uint8_t digest[SDPP_SHA256_BYTES];
	cJSON *d, *ev;

	if (nacks == 0)
		return -1;
	head(r, LEDGER_RECEIPTS, order_id, buyer, time);
	if (ledger_acks_digest(digest, acks, nacks) != 0)
		return -1;
	d = cJSON_CreateObject();
	if (d == NULL || add_uint(d, "first_seq", acks[0].seq) != 0 ||
	    add_uint(d, "last_seq", acks[nacks - 1].seq) != 0 || add_uint(d, "acks", nacks) != 0 ||
	    add_hex(d, "acks_digest", digest, sizeof(digest)) != 0) {
		cJSON_Delete(d);
		return -1;
	}
	if (finish(&r->detail, d) != 0)
		return -1;
	/* The last ACK is the receipt for the whole block (its digest chains
	 * every item before it); the others stay retrievable in `acks`. */
	ev = cJSON_CreateObject();
	if (ev == NULL || add_str(ev, "message", acks[nacks - 1].message) != 0 ||
	    add_str(ev, "signature", acks[nacks - 1].signature) != 0) {
		cJSON_Delete(ev);
		ledger_record_clear(r);
		return -1;
	}
	if (finish(&r->evidence, ev) != 0) {
		ledger_record_clear(r);
		return -1;
	}
	r->acks = acks;
	r->nacks = nacks;
	return 0;
}

int
ledger_record_exit(struct ledger_record *r, const struct sdpp_msg *exit,
    const uint8_t buyer[SDPP_SIGN_PUBLIC_BYTES], int64_t time)
{
	const struct sdpp_exit *x = &exit->u.exit;
	cJSON *d = cJSON_CreateObject();

	head(r, LEDGER_EXIT, x->order_id, buyer, time);
	r->amount = x->total;
	if (d == NULL || add_uint(d, "seq", x->seq) != 0 || add_money(d, "total", x->total) != 0 ||
	    add_hex(d, "digest", x->digest, sizeof(x->digest)) != 0) {
		cJSON_Delete(d);
		return -1;
	}
	if (finish(&r->detail, d) != 0 || evidence(&r->evidence, exit) != 0) {
		ledger_record_clear(r);
		return -1;
	}
	return 0;
}

int
ledger_record_resume(struct ledger_record *r, const struct sdpp_msg *resume,
    const uint8_t buyer[SDPP_SIGN_PUBLIC_BYTES], int64_t time)
{
	const struct sdpp_resume *x = &resume->u.resume;
	cJSON *d;

	head(r, LEDGER_RESUME, x->order_id, buyer, time);
	if (resume->type != SDPP_T_RESUME)
		return -1;
	d = cJSON_CreateObject();
	/* The invoice column stays 0: the resume names the last invoice the
	 * buyer received, it neither bills nor pays one. */
	if (d == NULL || add_uint(d, "seq", x->seq) != 0 ||
	    add_hex(d, "digest", x->digest, sizeof(x->digest)) != 0 ||
	    add_uint(d, "invoice", x->invoice) != 0 || add_uint(d, "attempt", x->attempt) != 0) {
		cJSON_Delete(d);
		return -1;
	}
	if (finish(&r->detail, d) != 0 || evidence(&r->evidence, resume) != 0) {
		ledger_record_clear(r);
		return -1;
	}
	return 0;
}

int
ledger_record_close(struct ledger_record *r, const uint8_t order_id[SDPP_ORDER_ID_BYTES],
    const uint8_t buyer[SDPP_SIGN_PUBLIC_BYTES], const char *product, const struct sdpp_progress *p,
    const char *reason, int64_t time)
{
	cJSON *d = cJSON_CreateObject();

	head(r, LEDGER_CLOSE, order_id, buyer, time);
	r->amount = p->total_paid;
	if (d == NULL || add_str(d, "product", product != NULL ? product : "") != 0 ||
	    add_uint(d, "quantity", p->quantity) != 0 || add_money(d, "price", p->price) != 0 ||
	    add_uint(d, "delivered", p->sent) != 0 || add_uint(d, "acked", p->acked) != 0 ||
	    add_uint(d, "invoiced", p->invoiced) != 0 ||
	    add_money(d, "total_due", p->total_due) != 0 ||
	    add_money(d, "total_paid", p->total_paid) != 0 ||
	    add_uint(d, "dropped", p->dropped) != 0 || add_uint(d, "resent", p->resent) != 0 ||
	    add_str(d, "reason", reason) != 0) {
		cJSON_Delete(d);
		return -1;
	}
	return finish(&r->detail, d);
}

int
ledger_ack_from_msg(struct ledger_ack *a, const struct sdpp_msg *ack)
{
	char sig[SDPP_B64_LEN(SDPP_SIGN_BYTES)];

	memset(a, 0, sizeof(*a));
	if (ack->type != SDPP_T_ACK || !ack->signed_ || ack->signed_bytes == NULL)
		return -1;
	sdpp_b64_encode(sig, ack->signature, SDPP_SIGN_BYTES);
	a->seq = ack->u.ack.seq;
	a->message = strdup(ack->signed_bytes + SDPP_SIG_CONTEXT_LEN);
	a->signature = strdup(sig);
	if (a->message == NULL || a->signature == NULL) {
		ledger_ack_clear(a);
		return -1;
	}
	return 0;
}
