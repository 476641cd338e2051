/* Held records: the latest invoice, payment and receipts of each open order, until a checkpoint. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger_int.h"
#include "util/text.h"

/*
 * Why: an order's payments and receipts are cumulative (a voucher signs the
 * total paid so far, an ACK the receipt chain over every item so far), and
 * its invoices add up (total_due). The latest of each proves all that the
 * earlier ones did, so the log need not hold one record per invoice block:
 * the ledger keeps the latest of each kind per open order in the `held`
 * table (rewritten in place, in the same transaction as the log records of
 * that commit) and moves them into the log at a checkpoint: the order's
 * exit, its close, or `checkpoint` milliseconds after the first change.
 * Invoices held meanwhile merge into one record (first_invoice..invoice).
 *
 * Every change is tentative until the commit that carries it: the first
 * change in a batch keeps the durable state aside (dur), and a failed
 * commit puts it back, so a lost payment is never merged into what a later
 * checkpoint writes (fail closed).
 */

enum { SLOT_RECEIPTS, SLOT_INVOICE, SLOT_PAYMENT, SLOTS };
#define HELD_BUCKETS 1024

struct slot {
	int have;
	struct ledger_record rec; /* detail, evidence owned; rec.acks = &ack */
	struct ledger_ack ack;    /* receipts: its one ACK */
	uint64_t first_invoice;   /* invoices: the first held since the checkpoint */
	uint64_t first_seq;
	uint64_t amount_sum;
	int64_t since; /* when this slot was first held after a checkpoint */
};

struct entry {
	char order_id[SDPP_HEX_LEN(SDPP_ORDER_ID_BYTES)];
	struct slot cur[SLOTS];
	struct slot *dur;    /* while dirty: the durable state (SLOTS, malloc'd) */
	unsigned dirty;      /* slots changed in this batch (bit per slot) */
	struct entry *next;  /* hash chain */
	struct entry *dnext; /* dirty list */
};

struct held {
	struct entry *bucket[HELD_BUCKETS];
	struct entry *dirty;
	size_t n;
};

static int
slot_of(enum ledger_kind k)
{
	switch (k) {
	case LEDGER_RECEIPTS:
		return SLOT_RECEIPTS;
	case LEDGER_INVOICE:
		return SLOT_INVOICE;
	case LEDGER_PAYMENT:
		return SLOT_PAYMENT;
	default:
		return -1;
	}
}

int
ledger_held_kind(enum ledger_kind k)
{
	return slot_of(k) >= 0;
}

static void
slot_clear(struct slot *s)
{
	ledger_record_clear(&s->rec);
	ledger_ack_clear(&s->ack);
	memset(s, 0, sizeof(*s));
}

/* Deep copy of src into an empty dst. */
static int
slot_copy(struct slot *dst, const struct slot *src)
{
	*dst = *src;
	dst->rec.detail = NULL;
	dst->rec.evidence = NULL;
	dst->rec.acks = NULL;
	dst->ack.message = dst->ack.signature = NULL;
	dst->rec.nacks = 0;
	if (!src->have)
		return 0;
	dst->rec.detail = strdup(src->rec.detail);
	if (src->rec.evidence != NULL)
		dst->rec.evidence = strdup(src->rec.evidence);
	if (src->ack.message != NULL) {
		dst->ack.message = strdup(src->ack.message);
		dst->ack.signature = strdup(src->ack.signature);
		dst->rec.acks = &dst->ack;
		dst->rec.nacks = 1;
	}
	if (dst->rec.detail == NULL || (src->rec.evidence != NULL && dst->rec.evidence == NULL) ||
	    (src->ack.message != NULL &&
	        (dst->ack.message == NULL || dst->ack.signature == NULL))) {
		slot_clear(dst);
		return -1;
	}
	return 0;
}

static unsigned
bucket_of(const char *order_hex)
{
	uint32_t h = 2166136261u;

	while (*order_hex != '\0')
		h = (h ^ (uint8_t)*order_hex++) * 16777619u;
	return h % HELD_BUCKETS;
}

static struct entry *
find(struct held *h, const char *order_hex)
{
	struct entry *e;

	for (e = h->bucket[bucket_of(order_hex)]; e != NULL; e = e->next)
		if (strcmp(e->order_id, order_hex) == 0)
			return e;
	return NULL;
}

static struct entry *
get(struct held *h, const char *order_hex)
{
	struct entry *e = find(h, order_hex);
	unsigned b;

	if (e != NULL)
		return e;
	e = calloc(1, sizeof(*e));
	if (e == NULL)
		return NULL;
	snprintf(e->order_id, sizeof(e->order_id), "%s", order_hex);
	b = bucket_of(order_hex);
	e->next = h->bucket[b];
	h->bucket[b] = e;
	h->n++;
	return e;
}

static void
entry_free(struct held *h, struct entry *e)
{
	struct entry **pp = &h->bucket[bucket_of(e->order_id)];
	int i;

	while (*pp != e)
		pp = &(*pp)->next;
	*pp = e->next;
	for (i = 0; i < SLOTS; i++) {
		slot_clear(&e->cur[i]);
		if (e->dur != NULL)
			slot_clear(&e->dur[i]);
	}
	free(e->dur);
	free(e);
	h->n--;
}

static int
entry_empty(const struct entry *e)
{
	return !e->cur[0].have && !e->cur[1].have && !e->cur[2].have;
}

/* Keeps the durable state of slot i aside before its first change in a
 * batch (allocated only then: most orders are not in most batches). */
static int
touch(struct held *h, struct entry *e, int i)
{
	if (e->dirty & (1u << i))
		return 0;
	if (e->dur == NULL) {
		e->dur = calloc(SLOTS, sizeof(*e->dur));
		if (e->dur == NULL)
			return -1;
		e->dnext = h->dirty;
		h->dirty = e;
	}
	/* On the dirty list from here (dur set): the settle frees dur and
	 * undoes what a failed copy left. */
	if (slot_copy(&e->dur[i], &e->cur[i]) != 0)
		return -1;
	e->dirty |= 1u << i;
	return 0;
}

struct held *
ledger_held_new(void)
{
	return calloc(1, sizeof(struct held));
}

void
ledger_held_free(struct held *h)
{
	size_t b;

	if (h == NULL)
		return;
	for (b = 0; b < HELD_BUCKETS; b++)
		while (h->bucket[b] != NULL)
			entry_free(h, h->bucket[b]);
	free(h);
}

size_t
ledger_held_orders(const struct held *h)
{
	return h->n;
}

int
ledger_held_put(
    struct held *h, const struct ledger_record *r, int64_t now, char *err, size_t errlen)
{
	struct entry *e;
	struct slot n, *s;
	int i = slot_of(r->kind);

	memset(&n, 0, sizeof(n));
	if (i < 0) {
		util_errf(err, errlen, "a %s record is never held", ledger_kind_name(r->kind));
		return -1;
	}
	if (r->kind == LEDGER_RECEIPTS && r->nacks != 1) {
		util_errf(err, errlen, "held receipts carry one ACK, not %zu", r->nacks);
		return -1;
	}
	e = get(h, r->order_id);
	if (e == NULL || touch(h, e, i) != 0)
		goto nomem;
	s = &e->cur[i];
	n.have = 1;
	n.rec = *r;
	n.since = s->have ? s->since : now;
	if (r->kind == LEDGER_RECEIPTS)
		n.ack = r->acks[0];
	if (r->kind == LEDGER_INVOICE) {
		n.first_invoice = s->have ? s->first_invoice : r->invoice;
		n.first_seq = s->have ? s->first_seq : r->first_seq;
		n.amount_sum = s->have ? s->amount_sum : 0;
		if (r->amount > UINT64_MAX - n.amount_sum) {
			util_errf(err, errlen, "held invoices overflow");
			return -1;
		}
		n.amount_sum += r->amount;
	}
	/* n borrows r's strings: the slot gets copies of its own. */
	slot_clear(s);
	if (slot_copy(s, &n) != 0)
		goto nomem;
	return 0;
nomem:
	util_errf(err, errlen, "out of memory");
	return -1;
}

int
ledger_held_take(struct held *h, const char *order_hex, struct ledger_record out[HELD_MAX],
    struct ledger_ack acks[HELD_MAX], size_t *n, char *err, size_t errlen)
{
	struct entry *e = find(h, order_hex);
	int i;

	*n = 0;
	if (e == NULL)
		return 0;
	/* Log order: the receipts, then the invoices, then the payment that
	 * pays them (a payment names an invoice recorded before it). */
	for (i = 0; i < SLOTS; i++) {
		struct slot *s = &e->cur[i];
		struct slot c;

		if (!s->have)
			continue;
		if (touch(h, e, i) != 0 || slot_copy(&c, s) != 0)
			goto nomem;
		if (i == SLOT_INVOICE && ledger_record_invoice_merge(&c.rec, c.first_invoice,
		                             c.first_seq, c.amount_sum) != 0) {
			slot_clear(&c);
			util_errf(
			    err, errlen, "order %s: cannot merge its held invoices", order_hex);
			goto fail;
		}
		/* out and acks take the strings (the record borrows its ACK). */
		out[*n] = c.rec;
		acks[*n] = c.ack;
		out[*n].acks = c.ack.message != NULL ? &acks[*n] : NULL;
		out[*n].nacks = c.ack.message != NULL ? 1 : 0;
		(*n)++;
		memset(&c, 0, sizeof(c));
		slot_clear(s);
	}
	return 0;
nomem:
	util_errf(err, errlen, "out of memory");
fail:
	ledger_held_take_done(out, acks, *n);
	*n = 0;
	return -1;
}

void
ledger_held_take_done(struct ledger_record *out, struct ledger_ack *acks, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		ledger_ack_clear(&acks[i]);
		ledger_record_clear(&out[i]);
	}
}

int
ledger_held_due(
    struct held *h, int64_t cutoff, int (*fn)(void *ctx, const char *order_hex), void *ctx)
{
	size_t b;
	int i, rc;

	for (b = 0; b < HELD_BUCKETS; b++) {
		struct entry *e, *next;

		for (e = h->bucket[b]; e != NULL; e = next) {
			next = e->next;
			for (i = 0; i < SLOTS; i++)
				if (e->cur[i].have && e->cur[i].since <= cutoff)
					break;
			if (i == SLOTS)
				continue;
			rc = fn(ctx, e->order_id);
			if (rc != 0)
				return rc;
		}
	}
	return 0;
}

int
ledger_held_dirty(const struct held *h)
{
	return h->dirty != NULL;
}

static int
bind_slot(sqlite3_stmt *st, const char *order_hex, const struct slot *s)
{
	char amount[SDPP_MONEY_LEN], sum[SDPP_MONEY_LEN];

	sqlite3_reset(st);
	sqlite3_bind_text(st, 1, order_hex, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, ledger_kind_name(s->rec.kind), -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, s->since);
	sqlite3_bind_int64(st, 4, s->rec.time);
	sqlite3_bind_text(st, 5, s->rec.buyer, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)s->rec.invoice);
	sdpp_money_format(amount, s->rec.amount);
	sqlite3_bind_text(st, 7, amount, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 8, s->rec.detail, -1, SQLITE_STATIC);
	if (s->rec.evidence != NULL)
		sqlite3_bind_text(st, 9, s->rec.evidence, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 9);
	sqlite3_bind_int64(st, 10, (sqlite3_int64)s->first_invoice);
	sqlite3_bind_int64(st, 11, (sqlite3_int64)s->first_seq);
	sdpp_money_format(sum, s->amount_sum);
	sqlite3_bind_text(st, 12, sum, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 13, (sqlite3_int64)s->rec.first_seq);
	if (s->ack.message != NULL) {
		sqlite3_bind_int64(st, 14, (sqlite3_int64)s->ack.seq);
		sqlite3_bind_text(st, 15, s->ack.message, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 16, s->ack.signature, -1, SQLITE_STATIC);
	} else {
		sqlite3_bind_null(st, 14);
		sqlite3_bind_null(st, 15);
		sqlite3_bind_null(st, 16);
	}
	return sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
}

int
ledger_held_write(struct held *h, sqlite3 *db, char *err, size_t errlen)
{
	sqlite3_stmt *up = NULL, *del = NULL;
	struct entry *e;
	int i, rc = -1;

	if (h->dirty == NULL)
		return 0;
	if (sqlite3_prepare_v2(db,
	        "INSERT OR REPLACE INTO held(order_id, kind, since, time, buyer, invoice,"
	        " amount, detail, evidence, first_invoice, first_seq, amount_sum, record_first_seq,"
	        " ack_seq, ack_message, ack_signature)"
	        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	        -1, &up, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "DELETE FROM held WHERE order_id = ? AND kind = ?", -1, &del,
	        NULL) != SQLITE_OK) {
		util_errf(err, errlen, "held: %s", sqlite3_errmsg(db));
		goto out;
	}
	for (e = h->dirty; e != NULL; e = e->dnext) {
		for (i = 0; i < SLOTS; i++) {
			static const enum ledger_kind kinds[SLOTS] = { LEDGER_RECEIPTS,
				LEDGER_INVOICE, LEDGER_PAYMENT };

			if (!(e->dirty & (1u << i)))
				continue;
			if (e->cur[i].have) {
				if (bind_slot(up, e->order_id, &e->cur[i]) != 0)
					goto sqlerr;
				continue;
			}
			sqlite3_reset(del);
			sqlite3_bind_text(del, 1, e->order_id, -1, SQLITE_STATIC);
			sqlite3_bind_text(del, 2, ledger_kind_name(kinds[i]), -1, SQLITE_STATIC);
			if (sqlite3_step(del) != SQLITE_DONE)
				goto sqlerr;
		}
	}
	rc = 0;
	goto out;
sqlerr:
	util_errf(err, errlen, "held: %s", sqlite3_errmsg(db));
out:
	sqlite3_finalize(up);
	sqlite3_finalize(del);
	return rc;
}

void
ledger_held_settle(struct held *h, int ok)
{
	struct entry *e, *next;
	int i;

	for (e = h->dirty; e != NULL; e = next) {
		next = e->dnext;
		for (i = 0; i < SLOTS; i++) {
			if (!(e->dirty & (1u << i)))
				continue;
			if (!ok) {
				slot_clear(&e->cur[i]);
				e->cur[i] = e->dur[i];
				if (e->cur[i].ack.message != NULL)
					e->cur[i].rec.acks = &e->cur[i].ack;
				memset(&e->dur[i], 0, sizeof(e->dur[i]));
			} else {
				slot_clear(&e->dur[i]);
			}
		}
		free(e->dur);
		e->dur = NULL;
		e->dirty = 0;
		e->dnext = NULL;
		if (entry_empty(e))
			entry_free(h, e);
	}
	h->dirty = NULL;
}

static const char *
col(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t != NULL ? (const char *)t : NULL;
}

int
ledger_held_load(struct held *h, sqlite3 *db, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	int s, rc = -1;

	if (sqlite3_prepare_v2(db,
	        "SELECT order_id, kind, since, time, buyer, invoice, amount, detail, evidence,"
	        " first_invoice, first_seq, amount_sum, record_first_seq, ack_seq, ack_message,"
	        " ack_signature FROM held",
	        -1, &st, NULL) != SQLITE_OK) {
		util_errf(err, errlen, "held: %s", sqlite3_errmsg(db));
		return -1;
	}
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		const char *oid = col(st, 0), *kind = col(st, 1), *detail = col(st, 7);
		struct ledger_record r;
		struct ledger_ack a;
		struct entry *e;
		struct slot *sl;
		int i, k;

		memset(&r, 0, sizeof(r));
		for (k = 1; k < LEDGER_KIND__COUNT; k++)
			if (kind != NULL && strcmp(kind, ledger_kind_name(k)) == 0)
				break;
		i = k < LEDGER_KIND__COUNT ? slot_of(k) : -1;
		if (oid == NULL || strlen(oid) != SDPP_HEX_LEN(SDPP_ORDER_ID_BYTES) - 1 ||
		    detail == NULL || i < 0 || col(st, 4) == NULL ||
		    strlen(col(st, 4)) >= sizeof(r.buyer) ||
		    sdpp_money_parse(&r.amount, col(st, 6)) != SDPP_OK) {
			util_errf(err, errlen, "held: a malformed row (order %s, kind %s)",
			    oid != NULL ? oid : "?", kind != NULL ? kind : "?");
			goto out;
		}
		e = get(h, oid);
		if (e == NULL)
			goto nomem;
		sl = &e->cur[i];
		slot_clear(sl);
		r.kind = (enum ledger_kind)k;
		r.time = sqlite3_column_int64(st, 3);
		snprintf(r.order_id, sizeof(r.order_id), "%s", oid);
		snprintf(r.buyer, sizeof(r.buyer), "%s", col(st, 4));
		r.invoice = (uint64_t)sqlite3_column_int64(st, 5);
		r.first_seq = (uint64_t)sqlite3_column_int64(st, 12);
		memset(&a, 0, sizeof(a));
		r.detail = strdup(detail);
		r.evidence = col(st, 8) != NULL ? strdup(col(st, 8)) : NULL;
		if (col(st, 14) != NULL && col(st, 15) != NULL) {
			a.seq = (uint64_t)sqlite3_column_int64(st, 13);
			a.message = strdup(col(st, 14));
			a.signature = strdup(col(st, 15));
		}
		sl->have = 1;
		sl->rec = r;
		sl->ack = a;
		if (a.message != NULL) {
			sl->rec.acks = &sl->ack;
			sl->rec.nacks = 1;
		}
		if (r.detail == NULL || (col(st, 8) != NULL && r.evidence == NULL) ||
		    (col(st, 14) != NULL && col(st, 15) != NULL &&
		        (a.message == NULL || a.signature == NULL)))
			goto nomem;
		sl->since = sqlite3_column_int64(st, 2);
		sl->first_invoice = (uint64_t)sqlite3_column_int64(st, 9);
		sl->first_seq = (uint64_t)sqlite3_column_int64(st, 10);
		if (sdpp_money_parse(&sl->amount_sum, col(st, 11)) != SDPP_OK ||
		    (k == LEDGER_RECEIPTS && a.message == NULL)) {
			util_errf(
			    err, errlen, "held: a malformed row (order %s, kind %s)", oid, kind);
			goto out;
		}
	}
	if (s != SQLITE_DONE) {
		util_errf(err, errlen, "held: %s", sqlite3_errmsg(db));
		goto out;
	}
	rc = 0;
	goto out;
nomem:
	util_errf(err, errlen, "out of memory");
out:
	sqlite3_finalize(st);
	return rc;
}
