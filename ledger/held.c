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

/* A slot's strings, in this order in its text[]. */
enum { STR_DETAIL, STR_EVIDENCE, STR_MESSAGE, STR_SIGNATURE, STR_BUYER, STRS };
#define STR_NONE UINT32_MAX
/* More than any record can carry: detail and evidence share one body of
 * LEDGER_BODY_MAX, and a receipts record's ACK is inside its evidence. */
#define SLOT_TEXT_MAX (4 * LEDGER_BODY_MAX)

/*
 * One held record in one allocation sized to it (issue 17: an open order
 * costs its three records, not three fixed structs and a string each).
 * Its strings follow the numbers in text[]; str[] holds their offsets,
 * STR_NONE for one it does not have: the ACK unless receipts, the buyer
 * when it is the entry's. Receipts whose detail and evidence are what
 * ledger_record_receipts() makes of their ACK (all that the ledger's own
 * callers hold) keep only the ACK once the put is durable (slot_compact),
 * and the two are made again when taken; a slot is never changed once
 * built (a put replaces it).
 */
struct slot {
	int64_t since; /* when this slot was first held after a checkpoint */
	int64_t time;
	uint64_t invoice, amount, rec_first_seq; /* the record's */
	uint64_t first_invoice;                  /* invoices: the first held since the checkpoint */
	uint64_t first_seq;
	uint64_t amount_sum;
	uint64_t ack_seq;
	uint32_t str[STRS];
	uint32_t len; /* of text[] */
	char text[];
};

struct entry {
	struct entry *next;      /* hash chain */
	struct entry *dnext;     /* dirty list */
	struct slot *cur[SLOTS]; /* NULL: none held */
	struct slot *dur[SLOTS]; /* while dirty: the durable state of a changed slot */
	unsigned dirty;          /* slots changed in this batch (bit per slot) */
	char order_id[SDPP_HEX_LEN(SDPP_ORDER_ID_BYTES)];
	char buyer[SDPP_HEX_LEN(SDPP_SIGN_PUBLIC_BYTES)]; /* its first record's */
};

struct held {
	struct entry *bucket[HELD_BUCKETS];
	struct entry *dirty;
	size_t n;
	size_t bytes; /* entries and slots */
};

static const enum ledger_kind slot_kinds[SLOTS] = { LEDGER_RECEIPTS, LEDGER_INVOICE,
	LEDGER_PAYMENT };

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

static const char *
str(const struct slot *s, int k)
{
	return s->str[k] != STR_NONE ? s->text + s->str[k] : NULL;
}

/* A string for a field that is not const (ledger_record, ledger_ack) of a
 * struct that only borrows it: nothing writes through it or frees it. */
static char *
borrow(const char *p)
{
	return (char *)(uintptr_t)p;
}

static void
slot_free(struct held *h, struct slot *s)
{
	if (s == NULL)
		return;
	h->bytes -= sizeof(*s) + s->len;
	free(s);
}

/* The detail and evidence of a receipts record of one ACK, as the ledger
 * builds them (neither names the order or the buyer). */
static int
receipts_text(struct ledger_record *out, const struct ledger_ack *a)
{
	static const uint8_t none[SDPP_ORDER_ID_BYTES];

	return ledger_record_receipts(out, none, NULL, a, 1, 0);
}

/* 1 if r's detail and evidence can be made again from its ACK a. */
static int
receipts_derived(const struct ledger_record *r, const struct ledger_ack *a)
{
	struct ledger_record d;
	int same;

	if (r->evidence == NULL || receipts_text(&d, a) != 0)
		return 0;
	same = strcmp(d.detail, r->detail) == 0 && strcmp(d.evidence, r->evidence) == 0;
	ledger_record_clear(&d);
	return same;
}

/* A slot holding r (its numbers and copies of its strings, but for
 * derived receipts its detail and evidence), for entry e; the held-only
 * numbers (since, first_*, amount_sum) are left 0. NULL if out of memory
 * or too long (*toolong set). */
static struct slot *
slot_new(
    struct held *h, const struct entry *e, const struct ledger_record *r, int derived, int *toolong)
{
	const struct ledger_ack *a = NULL;
	const char *src[STRS];
	size_t len[STRS], total = 0;
	struct slot *s;
	int k;

	*toolong = 0;
	if (r->kind == LEDGER_RECEIPTS && r->nacks == 1 && r->acks[0].message != NULL &&
	    r->acks[0].signature != NULL)
		a = &r->acks[0];
	src[STR_DETAIL] = r->detail;
	src[STR_EVIDENCE] = r->evidence;
	src[STR_MESSAGE] = a != NULL ? a->message : NULL;
	src[STR_SIGNATURE] = a != NULL ? a->signature : NULL;
	src[STR_BUYER] = strcmp(r->buyer, e->buyer) != 0 ? r->buyer : NULL;
	if (a != NULL && derived)
		src[STR_DETAIL] = src[STR_EVIDENCE] = NULL;
	for (k = 0; k < STRS; k++) {
		len[k] = src[k] != NULL ? strlen(src[k]) + 1 : 0;
		total += len[k];
		if (total > SLOT_TEXT_MAX) {
			*toolong = 1;
			return NULL;
		}
	}
	s = malloc(sizeof(*s) + total);
	if (s == NULL)
		return NULL;
	memset(s, 0, sizeof(*s));
	s->time = r->time;
	s->invoice = r->invoice;
	s->amount = r->amount;
	s->rec_first_seq = r->first_seq;
	s->ack_seq = a != NULL ? a->seq : 0;
	s->len = (uint32_t)total;
	total = 0;
	for (k = 0; k < STRS; k++) {
		s->str[k] = src[k] != NULL ? (uint32_t)total : STR_NONE;
		if (src[k] != NULL)
			memcpy(s->text + total, src[k], len[k]);
		total += len[k];
	}
	h->bytes += sizeof(*s) + s->len;
	return s;
}

/* s as a log record of slot i of e that borrows s's strings (*a its ACK). */
static void
slot_view(const struct entry *e, const struct slot *s, int i, struct ledger_record *r,
    struct ledger_ack *a)
{
	const char *buyer = str(s, STR_BUYER);

	memset(r, 0, sizeof(*r));
	r->kind = slot_kinds[i];
	r->time = s->time;
	snprintf(r->order_id, sizeof(r->order_id), "%s", e->order_id);
	snprintf(r->buyer, sizeof(r->buyer), "%s", buyer != NULL ? buyer : e->buyer);
	r->invoice = s->invoice;
	r->amount = s->amount;
	r->first_seq = s->rec_first_seq;
	r->detail = borrow(str(s, STR_DETAIL));
	r->evidence = borrow(str(s, STR_EVIDENCE));
	a->seq = s->ack_seq;
	a->message = borrow(str(s, STR_MESSAGE));
	a->signature = borrow(str(s, STR_SIGNATURE));
	if (a->message != NULL) {
		r->acks = a;
		r->nacks = 1;
	}
}

/*
 * Receipts put since the last commit, now durable as given, drop their
 * detail and evidence if ledger_record_receipts() makes them again from
 * their ACK: checked once per put, here, so that the commit wrote the
 * strings it was given without making them. Left as they are if not
 * (or out of memory).
 */
static void
slot_compact(struct held *h, struct entry *e, int i)
{
	struct slot *s = e->cur[i], *n;
	struct ledger_record r;
	struct ledger_ack a;
	int toolong;

	if (s == NULL || i != SLOT_RECEIPTS || str(s, STR_DETAIL) == NULL ||
	    str(s, STR_MESSAGE) == NULL)
		return;
	slot_view(e, s, i, &r, &a);
	if (!receipts_derived(&r, &a))
		return;
	n = slot_new(h, e, &r, 1, &toolong);
	if (n == NULL)
		return;
	n->since = s->since;
	n->first_invoice = s->first_invoice;
	n->first_seq = s->first_seq;
	n->amount_sum = s->amount_sum;
	slot_free(h, s);
	e->cur[i] = n;
}

/* s as a log record of slot i of e, the strings malloc'd (freed with
 * ledger_record_clear and ledger_ack_clear; out->acks is left NULL). */
static int
slot_record(const struct entry *e, const struct slot *s, int i, struct ledger_record *out,
    struct ledger_ack *ack)
{
	struct ledger_record d;
	struct ledger_ack a;

	slot_view(e, s, i, out, &a);
	out->acks = NULL;
	out->nacks = 0;
	memset(ack, 0, sizeof(*ack));
	memset(&d, 0, sizeof(d));
	if (out->detail == NULL) {
		if (receipts_text(&d, &a) != 0)
			goto fail;
	} else {
		d.detail = strdup(out->detail);
		d.evidence = out->evidence != NULL ? strdup(out->evidence) : NULL;
		if (d.detail == NULL || (out->evidence != NULL && d.evidence == NULL))
			goto fail;
	}
	if (a.message != NULL) {
		ack->seq = a.seq;
		ack->message = strdup(a.message);
		ack->signature = strdup(a.signature);
		if (ack->message == NULL || ack->signature == NULL)
			goto fail;
	}
	out->detail = d.detail;
	out->evidence = d.evidence;
	return 0;
fail:
	/* out's strings are still s's, not its own. */
	ledger_record_clear(&d);
	ledger_ack_clear(ack);
	memset(out, 0, sizeof(*out));
	return -1;
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
get(struct held *h, const char *order_hex, const char *buyer)
{
	struct entry *e = find(h, order_hex);
	unsigned b;

	if (e != NULL)
		return e;
	e = calloc(1, sizeof(*e));
	if (e == NULL)
		return NULL;
	snprintf(e->order_id, sizeof(e->order_id), "%s", order_hex);
	snprintf(e->buyer, sizeof(e->buyer), "%s", buyer);
	b = bucket_of(order_hex);
	e->next = h->bucket[b];
	h->bucket[b] = e;
	h->n++;
	h->bytes += sizeof(*e);
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
		slot_free(h, e->cur[i]);
		slot_free(h, e->dur[i]);
	}
	free(e);
	h->n--;
	h->bytes -= sizeof(*e);
}

static int
entry_empty(const struct entry *e)
{
	return e->cur[0] == NULL && e->cur[1] == NULL && e->cur[2] == NULL;
}

/* Takes slot i out of e for a change: before its first change in a batch
 * the durable state goes aside (dur), later a tentative one is dropped. */
static void
touch(struct held *h, struct entry *e, int i)
{
	if (e->dirty & (1u << i)) {
		slot_free(h, e->cur[i]);
	} else {
		if (e->dirty == 0) {
			e->dnext = h->dirty;
			h->dirty = e;
		}
		e->dur[i] = e->cur[i];
		e->dirty |= 1u << i;
	}
	e->cur[i] = NULL;
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

size_t
ledger_held_bytes(const struct held *h)
{
	return h->bytes;
}

int
ledger_held_put(
    struct held *h, const struct ledger_record *r, int64_t now, char *err, size_t errlen)
{
	struct entry *e;
	struct slot *s, *old;
	int i = slot_of(r->kind), toolong;

	if (i < 0) {
		util_errf(err, errlen, "a %s record is never held", ledger_kind_name(r->kind));
		return -1;
	}
	if (r->kind == LEDGER_RECEIPTS && r->nacks != 1) {
		util_errf(err, errlen, "held receipts carry one ACK, not %zu", r->nacks);
		return -1;
	}
	e = get(h, r->order_id, r->buyer);
	if (e == NULL) {
		util_errf(err, errlen, "out of memory");
		return -1;
	}
	old = e->cur[i];
	if (r->kind == LEDGER_INVOICE && old != NULL && r->amount > UINT64_MAX - old->amount_sum) {
		util_errf(err, errlen, "held invoices overflow");
		goto fail;
	}
	/* Kept as given until the commit has written it (slot_compact). */
	s = slot_new(h, e, r, 0, &toolong);
	if (s == NULL && toolong) {
		util_errf(err, errlen, "a held %s record is too long", ledger_kind_name(r->kind));
		goto fail;
	}
	if (s == NULL) {
		util_errf(err, errlen, "out of memory");
		goto fail;
	}
	s->since = old != NULL ? old->since : now;
	if (r->kind == LEDGER_INVOICE) {
		s->first_invoice = old != NULL ? old->first_invoice : r->invoice;
		s->first_seq = old != NULL ? old->first_seq : r->first_seq;
		s->amount_sum = (old != NULL ? old->amount_sum : 0) + r->amount;
	}
	touch(h, e, i);
	e->cur[i] = s;
	return 0;
fail:
	/* An entry made for this put alone holds nothing. */
	if (entry_empty(e) && e->dirty == 0)
		entry_free(h, e);
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
		const struct slot *s = e->cur[i];

		if (s == NULL)
			continue;
		if (slot_record(e, s, i, &out[*n], &acks[*n]) != 0) {
			util_errf(err, errlen, "out of memory");
			goto fail;
		}
		/* The record borrows its ACK. */
		out[*n].acks = acks[*n].message != NULL ? &acks[*n] : NULL;
		out[*n].nacks = acks[*n].message != NULL ? 1 : 0;
		(*n)++;
		if (i == SLOT_INVOICE && ledger_record_invoice_merge(&out[*n - 1], s->first_invoice,
		                             s->first_seq, s->amount_sum) != 0) {
			util_errf(
			    err, errlen, "order %s: cannot merge its held invoices", order_hex);
			goto fail;
		}
		touch(h, e, i);
	}
	return 0;
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
				if (e->cur[i] != NULL && e->cur[i]->since <= cutoff)
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

/* A dirty slot was put since the last commit: it still has the strings it
 * was given (slot_compact comes after the commit). */
static int
bind_slot(sqlite3_stmt *st, const struct entry *e, const struct slot *s, int i)
{
	char amount[SDPP_MONEY_LEN], sum[SDPP_MONEY_LEN];
	const char *buyer = str(s, STR_BUYER), *evidence = str(s, STR_EVIDENCE);

	sqlite3_reset(st);
	sqlite3_bind_text(st, 1, e->order_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, ledger_kind_name(slot_kinds[i]), -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, s->since);
	sqlite3_bind_int64(st, 4, s->time);
	sqlite3_bind_text(st, 5, buyer != NULL ? buyer : e->buyer, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)s->invoice);
	sdpp_money_format(amount, s->amount);
	sqlite3_bind_text(st, 7, amount, -1, SQLITE_TRANSIENT);
	/* NULL (never, see above) fails the NOT NULL column: the commit. */
	sqlite3_bind_text(st, 8, str(s, STR_DETAIL), -1, SQLITE_STATIC);
	if (evidence != NULL)
		sqlite3_bind_text(st, 9, evidence, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 9);
	sqlite3_bind_int64(st, 10, (sqlite3_int64)s->first_invoice);
	sqlite3_bind_int64(st, 11, (sqlite3_int64)s->first_seq);
	sdpp_money_format(sum, s->amount_sum);
	sqlite3_bind_text(st, 12, sum, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 13, (sqlite3_int64)s->rec_first_seq);
	if (str(s, STR_MESSAGE) != NULL) {
		sqlite3_bind_int64(st, 14, (sqlite3_int64)s->ack_seq);
		sqlite3_bind_text(st, 15, str(s, STR_MESSAGE), -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 16, str(s, STR_SIGNATURE), -1, SQLITE_STATIC);
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
			if (!(e->dirty & (1u << i)))
				continue;
			if (e->cur[i] != NULL) {
				if (bind_slot(up, e, e->cur[i], i) != 0)
					goto sqlerr;
				continue;
			}
			sqlite3_reset(del);
			sqlite3_bind_text(del, 1, e->order_id, -1, SQLITE_STATIC);
			sqlite3_bind_text(
			    del, 2, ledger_kind_name(slot_kinds[i]), -1, SQLITE_STATIC);
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
				slot_free(h, e->cur[i]);
				e->cur[i] = e->dur[i];
			} else {
				slot_free(h, e->dur[i]);
				slot_compact(h, e, i);
			}
			e->dur[i] = NULL;
		}
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
		uint64_t sum;
		int i, k, toolong;

		memset(&r, 0, sizeof(r));
		memset(&a, 0, sizeof(a));
		for (k = 1; k < LEDGER_KIND__COUNT; k++)
			if (kind != NULL && strcmp(kind, ledger_kind_name(k)) == 0)
				break;
		i = k < LEDGER_KIND__COUNT ? slot_of(k) : -1;
		if (oid == NULL || strlen(oid) != SDPP_HEX_LEN(SDPP_ORDER_ID_BYTES) - 1 ||
		    detail == NULL || i < 0 || col(st, 4) == NULL ||
		    strlen(col(st, 4)) >= sizeof(r.buyer) ||
		    sdpp_money_parse(&r.amount, col(st, 6)) != SDPP_OK ||
		    sdpp_money_parse(&sum, col(st, 11)) != SDPP_OK) {
			util_errf(err, errlen, "held: a malformed row (order %s, kind %s)",
			    oid != NULL ? oid : "?", kind != NULL ? kind : "?");
			goto out;
		}
		r.kind = (enum ledger_kind)k;
		r.time = sqlite3_column_int64(st, 3);
		snprintf(r.order_id, sizeof(r.order_id), "%s", oid);
		snprintf(r.buyer, sizeof(r.buyer), "%s", col(st, 4));
		r.invoice = (uint64_t)sqlite3_column_int64(st, 5);
		r.first_seq = (uint64_t)sqlite3_column_int64(st, 12);
		/* The row's strings, borrowed until the next step: the slot
		 * copies them. */
		r.detail = borrow(detail);
		r.evidence = borrow(col(st, 8));
		if (col(st, 14) != NULL && col(st, 15) != NULL) {
			a.seq = (uint64_t)sqlite3_column_int64(st, 13);
			a.message = borrow(col(st, 14));
			a.signature = borrow(col(st, 15));
			r.acks = &a;
			r.nacks = 1;
		}
		if (k == LEDGER_RECEIPTS && a.message == NULL) {
			util_errf(
			    err, errlen, "held: a malformed row (order %s, kind %s)", oid, kind);
			goto out;
		}
		e = get(h, oid, r.buyer);
		if (e == NULL)
			goto nomem;
		sl = slot_new(h, e, &r, r.nacks == 1 && receipts_derived(&r, &a), &toolong);
		if (sl == NULL) {
			if (!toolong)
				goto nomem;
			util_errf(
			    err, errlen, "held: a row too long (order %s, kind %s)", oid, kind);
			goto out;
		}
		sl->since = sqlite3_column_int64(st, 2);
		sl->first_invoice = (uint64_t)sqlite3_column_int64(st, 9);
		sl->first_seq = (uint64_t)sqlite3_column_int64(st, 10);
		sl->amount_sum = sum;
		slot_free(h, e->cur[i]);
		e->cur[i] = sl;
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
