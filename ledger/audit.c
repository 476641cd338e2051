/* Auditing the log: full verification, inclusion and consistency proofs a third party can check. */
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "ledger/ledger.h"
#include "ledger/ledger_int.h"
#include "sdpp/enc.h"
#include "sdpp/json.h"

#define PROOF_VERSION "sdpp-ledger-proof/1"
#define CONSISTENCY_VERSION "sdpp-ledger-consistency/1"
/* Largest proof document we accept: a few KiB of hashes plus one body. */
#define PROOF_MAX (LEDGER_BODY_MAX + 16384)

struct sth {
	uint64_t size;
	merkle_hash root;
	int64_t time;
	uint8_t sig[SDPP_SIGN_BYTES];
	char roothex[SDPP_HEX_LEN(MERKLE_HASH_BYTES)];
	char sigb64[SDPP_B64_LEN(SDPP_SIGN_BYTES)];
};

static void report(struct ledger_verify_report *rep, uint64_t id, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
report(struct ledger_verify_report *rep, uint64_t id, const char *fmt, ...)
{
	va_list ap;

	if (rep->problem[0] != '\0')
		return; /* keep the first problem */
	rep->first_bad = id;
	va_start(ap, fmt);
	vsnprintf(rep->problem, sizeof(rep->problem), fmt, ap);
	va_end(ap);
}

int
ledger_sth_verify(const uint8_t key[SDPP_SIGN_PUBLIC_BYTES], uint64_t size, const merkle_hash root,
    int64_t time, const uint8_t sig[SDPP_SIGN_BYTES])
{
	char keyhex[SDPP_HEX_LEN(SDPP_SIGN_PUBLIC_BYTES)], *in = NULL;
	size_t inlen;
	int rc;

	sdpp_hex_encode(keyhex, key, SDPP_SIGN_PUBLIC_BYTES);
	if (ledger_sth_input(keyhex, size, root, time, &in, &inlen) != 0)
		return -1;
	rc = sdpp_verify_raw(key, in, inlen, sig, SDPP_SIGN_BYTES) == SDPP_OK ? 0 : -1;
	free(in);
	return rc;
}

/* Loads the signed tree heads in size order (*out malloc'd). */
static int
load_sths(struct ledger *l, struct sth **out, size_t *n)
{
	sqlite3_stmt *st = NULL;
	struct sth *v = NULL, *nv;
	size_t len = 0, alloc = 0, sl;
	int s, rc = -1;

	if (sqlite3_prepare_v2(ledger_db(l),
	        "SELECT size, root, time, signature FROM tree_heads"
	        " ORDER BY size",
	        -1, &st, NULL) != SQLITE_OK)
		return -1;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		const char *root = (const char *)sqlite3_column_text(st, 1);
		const char *sig = (const char *)sqlite3_column_text(st, 3);
		struct sth *h;

		if (len == alloc) {
			alloc = alloc == 0 ? 16 : alloc * 2;
			nv = realloc(v, alloc * sizeof(*v));
			if (nv == NULL)
				goto fail;
			v = nv;
		}
		h = &v[len++];
		memset(h, 0, sizeof(*h));
		h->size = (uint64_t)sqlite3_column_int64(st, 0);
		h->time = sqlite3_column_int64(st, 2);
		/* Unparsable heads keep zero root/signature and fail to verify. */
		if (root != NULL && strlen(root) < sizeof(h->roothex)) {
			memcpy(h->roothex, root, strlen(root) + 1);
			if (sdpp_hex_decode(h->root, MERKLE_HASH_BYTES, root) != SDPP_OK)
				memset(h->root, 0, MERKLE_HASH_BYTES);
		}
		if (sig != NULL && strlen(sig) < sizeof(h->sigb64)) {
			memcpy(h->sigb64, sig, strlen(sig) + 1);
			if (sdpp_b64_decode(h->sig, sizeof(h->sig), &sl, sig, strlen(sig)) !=
			    SDPP_OK)
				memset(h->sig, 0, sizeof(h->sig));
		}
	}
	if (s != SQLITE_DONE)
		goto fail;
	*out = v;
	*n = len;
	v = NULL;
	rc = 0;
fail:
	free(v);
	sqlite3_finalize(st);
	return rc;
}

static const cJSON *
jget(const cJSON *o, const char *k)
{
	return cJSON_GetObjectItemCaseSensitive(o, k);
}

static const char *
jstr(const cJSON *o, const char *k)
{
	const cJSON *v = jget(o, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int
jnum(const cJSON *o, const char *k, uint64_t *out)
{
	const cJSON *v = jget(o, k);

	if (!cJSON_IsNumber(v) || v->valuedouble < 0)
		return -1;
	*out = (uint64_t)v->valuedouble;
	return 0;
}

/* Message type a buyer-signed evidence must have for each record kind. */
static enum sdpp_type
evidence_type(const char *kind)
{
	if (strcmp(kind, "order") == 0)
		return SDPP_T_ORDER;
	if (strcmp(kind, "payment") == 0)
		return SDPP_T_PAYMENT_ACK;
	if (strcmp(kind, "exit") == 0)
		return SDPP_T_EXIT;
	if (strcmp(kind, "receipts") == 0)
		return SDPP_T_ACK;
	if (strcmp(kind, "resume") == 0)
		return SDPP_T_RESUME;
	return SDPP_T_NONE;
}

/* ------------------------------------------------------------ signatures */

/* Ed25519 verification is most of an audit's time (about 100 us each on the
 * bench machine, two or three per invoice block): signatures are queued and
 * checked in batches on every core, and a failure is sorted back into
 * record order (struct verify's pos). */
#define SIG_BATCH 4096
#define SIG_THREADS_MAX 8

struct sigjob {
	uint64_t id;   /* the record that holds the signature */
	uint64_t item; /* a stored ACK's item; 0 for the record's evidence */
	char kind[16]; /* the record's */
	uint8_t buyer[SDPP_SIGN_PUBLIC_BYTES];
	uint8_t sig[SDPP_SIGN_BYTES];
	char *input; /* context || message, malloc'd */
	size_t len;
	int bad;
};

struct sigwork {
	struct sigjob *jobs;
	size_t n, start, step;
};

static void *
sig_worker(void *arg)
{
	struct sigwork *w = arg;
	struct sdpp_verifier *v = NULL;
	const uint8_t *vk = NULL;
	size_t i;

	for (i = w->start; i < w->n; i += w->step) {
		struct sigjob *j = &w->jobs[i];

		/* Jobs come in record order, mostly one buyer after another:
		 * keep the decoded key. */
		if (vk == NULL || memcmp(vk, j->buyer, SDPP_SIGN_PUBLIC_BYTES) != 0) {
			sdpp_verifier_free(v);
			vk = j->buyer;
			if (sdpp_verifier_new(&v, j->buyer) != SDPP_OK)
				v = NULL;
		}
		j->bad = v == NULL ||
		         sdpp_verify(v, j->input, j->len, j->sig, SDPP_SIGN_BYTES) != SDPP_OK;
	}
	sdpp_verifier_free(v);
	return NULL;
}

/* ---------------------------------------------------------- order states */

/* What earlier records said about one order, for checking the records that
 * carry no buyer signature (invoices, closes) against them. Strings are kept
 * as hashes: a collision can only hide a contradiction, never invent one. */
struct ostate {
	uint8_t id[SDPP_ORDER_ID_BYTES];
	uint8_t buyer[SDPP_SIGN_PUBLIC_BYTES];
	int used, have_order;
	uint64_t product, currency; /* FNV-1a of the order's strings */
	uint64_t quantity, price;
	uint64_t invoices, invoiced, total_due; /* the last invoice: number, last_seq, total */
	uint64_t paid;    /* highest total the buyer signed (payment or exit) */
	uint64_t acked;   /* highest item the buyer signed for (receipts, exit, resume) */
	uint64_t attempt; /* the last resume's attempt, 0 if none */
};

struct otab {
	struct ostate *v;
	size_t cap, n; /* cap a power of two, at most half full */
};

static uint64_t
fnv(const char *s)
{
	uint64_t h = 14695981039346656037ull;

	for (; s != NULL && *s != '\0'; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ull;
	return h;
}

static size_t
otab_slot(const struct ostate *v, size_t cap, const uint8_t id[SDPP_ORDER_ID_BYTES])
{
	uint64_t h;
	size_t i;

	/* Order ids are SHA-256 outputs: their first bytes are the hash. */
	memcpy(&h, id, sizeof(h));
	for (i = (size_t)h & (cap - 1); v[i].used && memcmp(v[i].id, id, SDPP_ORDER_ID_BYTES) != 0;
	     i = (i + 1) & (cap - 1))
		;
	return i;
}

/* The state of order `hex`, created empty if new; NULL if hex is not an
 * order id or memory ran out (*oom set). */
static struct ostate *
otab_get(struct otab *t, const char *hex, int *oom)
{
	uint8_t id[SDPP_ORDER_ID_BYTES];
	struct ostate *nv;
	size_t i, j;

	if (hex == NULL || strlen(hex) != 2 * SDPP_ORDER_ID_BYTES ||
	    sdpp_hex_decode(id, sizeof(id), hex) != SDPP_OK)
		return NULL;
	if (2 * (t->n + 1) > t->cap) {
		size_t cap = t->cap == 0 ? 1024 : 2 * t->cap;

		nv = calloc(cap, sizeof(*nv));
		if (nv == NULL) {
			*oom = 1;
			return NULL;
		}
		for (i = 0; i < t->cap; i++) {
			if (!t->v[i].used)
				continue;
			j = otab_slot(nv, cap, t->v[i].id);
			nv[j] = t->v[i];
		}
		free(t->v);
		t->v = nv;
		t->cap = cap;
	}
	i = otab_slot(t->v, t->cap, id);
	if (!t->v[i].used) {
		memset(&t->v[i], 0, sizeof(t->v[i]));
		memcpy(t->v[i].id, id, sizeof(id));
		t->v[i].used = 1;
		t->n++;
	}
	return &t->v[i];
}

/* ---------------------------------------------------------------- verify */

struct verify {
	struct ledger *l;
	struct ledger_verify_report *rep;
	/* Position of rep's problem in a record-by-record pass: the record
	 * being checked when it was met (UINT64_MAX: after the last record);
	 * head: it is a tree head's. */
	uint64_t pos;
	int head;
	/* The first record that contradicts its evidence or earlier records.
	 * Reported once the tree head covering it is checked: a record rewritten
	 * under a signed tree head is first of all a broken tree head. */
	uint64_t soft_id;
	char soft[LEDGER_ERR_MAX];
	struct sigjob *jobs, *busy; /* being queued; being checked */
	size_t njobs, nbusy;
	int threads, inflight;
	pthread_t th[SIG_THREADS_MAX];
	int started[SIG_THREADS_MAX];
	struct sigwork w[SIG_THREADS_MAX];
	/* Stored ACKs, read in one pass ordered by record alongside the
	 * records (a per-record query made verify quadratic). */
	sqlite3_stmt *acks;
	int acks_row; /* the statement is on a row */
	uint64_t orphans;
	struct otab orders;
	int oom;
};

static void problem(struct verify *vc, uint64_t id, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void soft(struct verify *vc, uint64_t id, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A problem met while checking record id (the first one is kept). */
static void
problem(struct verify *vc, uint64_t id, const char *fmt, ...)
{
	va_list ap;

	if (vc->rep->problem[0] != '\0')
		return;
	vc->rep->first_bad = id;
	vc->pos = id;
	vc->head = 0;
	va_start(ap, fmt);
	vsnprintf(vc->rep->problem, sizeof(vc->rep->problem), fmt, ap);
	va_end(ap);
}

static void
soft(struct verify *vc, uint64_t id, const char *fmt, ...)
{
	va_list ap;

	if (vc->soft_id != 0)
		return;
	vc->soft_id = id;
	va_start(ap, fmt);
	vsnprintf(vc->soft, sizeof(vc->soft), fmt, ap);
	va_end(ap);
}

/* Reads a checked batch: a bad signature replaces a problem met later in
 * record order. 0, or 1 if one was bad. */
static int
sig_results(struct verify *vc, struct sigjob *jobs, size_t n)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < n; i++) {
		const struct sigjob *j = &jobs[i];

		if (rc == 0 && j->bad && j->id <= vc->pos) {
			vc->rep->problem[0] = '\0';
			if (j->item == 0)
				problem(vc, j->id,
				    "record %" PRIu64 " (%s): buyer signature does not verify",
				    j->id, j->kind);
			else
				problem(vc, j->id,
				    "record %" PRIu64 " (receipts): ACK of item %" PRIu64
				    " has a bad buyer signature",
				    j->id, j->item);
			rc = 1;
		}
		free(jobs[i].input);
		jobs[i].input = NULL;
	}
	return rc;
}

/* Waits for the batch in flight and reads its results. */
static int
sig_wait(struct verify *vc)
{
	int t, rc;

	if (!vc->inflight)
		return 0;
	for (t = 0; t < vc->threads; t++)
		if (vc->started[t])
			pthread_join(vc->th[t], NULL);
	vc->inflight = 0;
	rc = sig_results(vc, vc->busy, vc->nbusy);
	vc->nbusy = 0;
	return rc;
}

/* Hands the queued signatures to the worker threads and returns at once:
 * the records after them are parsed meanwhile (after waiting for the batch
 * before, whose results come first in record order). */
static int
sig_flush(struct verify *vc)
{
	struct sigjob *swap;
	int t, rc = sig_wait(vc);

	swap = vc->busy;
	vc->busy = vc->jobs;
	vc->nbusy = vc->njobs;
	vc->jobs = swap;
	vc->njobs = 0;
	for (t = 0; t < vc->threads; t++) {
		vc->w[t] = (struct sigwork){ vc->busy, vc->nbusy, (size_t)t, (size_t)vc->threads };
		vc->started[t] = pthread_create(&vc->th[t], NULL, sig_worker, &vc->w[t]) == 0;
		if (!vc->started[t])
			sig_worker(&vc->w[t]);
	}
	vc->inflight = 1;
	return rc;
}

/* Checks everything still queued, in record order. */
static int
sig_finish(struct verify *vc)
{
	int a = sig_flush(vc), b = sig_wait(vc);

	return a != 0 ? a : b;
}

/* Queues buyer's signature sigb64 over context || message. 0, or 1 if it
 * cannot be a signature at all (reported), -1 on errors. */
static int
sig_queue(struct verify *vc, uint64_t id, const char *kind, uint64_t item, const uint8_t *buyer,
    const char *message, const char *sigb64)
{
	struct sigjob *j;
	size_t n = strlen(message), sl;

	if (vc->njobs == SIG_BATCH && sig_flush(vc) < 0)
		return -1;
	j = &vc->jobs[vc->njobs];
	memset(j, 0, sizeof(*j));
	if (buyer == NULL || sigb64 == NULL ||
	    sdpp_b64_decode(j->sig, sizeof(j->sig), &sl, sigb64, strlen(sigb64)) != SDPP_OK ||
	    sl != SDPP_SIGN_BYTES) {
		j->bad = 1;
		j->input = NULL;
	} else {
		j->input = malloc(SDPP_SIG_CONTEXT_LEN + n);
		if (j->input == NULL)
			return -1;
		memcpy(j->input, SDPP_SIG_CONTEXT, SDPP_SIG_CONTEXT_LEN);
		memcpy(j->input + SDPP_SIG_CONTEXT_LEN, message, n);
		j->len = SDPP_SIG_CONTEXT_LEN + n;
		memcpy(j->buyer, buyer, SDPP_SIGN_PUBLIC_BYTES);
	}
	j->id = id;
	j->item = item;
	snprintf(j->kind, sizeof(j->kind), "%s", kind);
	if (j->bad) {
		if (item == 0)
			problem(vc, id, "record %" PRIu64 " (%s): buyer signature does not verify",
			    id, kind);
		else
			problem(vc, id,
			    "record %" PRIu64 " (receipts): ACK of item %" PRIu64
			    " has a bad buyer signature",
			    id, item);
		return 1;
	}
	vc->njobs++;
	vc->rep->signatures++;
	return 0;
}

/* Parses a signed message (the signature input without its context) with
 * the protocol codec, as the buyer sent it. */
static int
parse_signed(struct sdpp_msg *m, const char *message)
{
	size_t n = strlen(message);
	char *frame;
	int rc;

	/* The evidence is the envelope without "signature": put an empty one
	 * back (member order does not matter to the parser). */
	if (n < 2 || message[0] != '{' || message[1] == '}')
		return -1;
	frame = malloc(n + 32);
	if (frame == NULL)
		return -1;
	memcpy(frame, "{\"signature\":\"\",", 16);
	memcpy(frame + 16, message + 1, n - 1);
	rc = sdpp_msg_parse(m, frame, n + 15, SDPP_ROLE_BUYER, NULL, 0) == SDPP_OK ? 0 : -1;
	free(frame);
	return rc;
}

static int
dnum(const cJSON *d, const char *k, uint64_t *v)
{
	return jnum(d, k, v);
}

static int
dmoney(const cJSON *d, const char *k, uint64_t *v)
{
	const char *s = jstr(d, k);

	return s != NULL && sdpp_money_parse(v, s) == SDPP_OK ? 0 : -1;
}

/* The stored ACKs of record id (ordered by record, then item): digest,
 * signatures, and that each is the buyer's ACK for this order and item. */
static int
check_acks(struct verify *vc, uint64_t id, const char *order_hex, const uint8_t *buyer,
    const cJSON *detail, const char *ev_msg, const char *ev_sig)
{
	struct ledger_ack *acks = NULL, *na;
	size_t n = 0, alloc = 0, i;
	uint8_t digest[SDPP_SHA256_BYTES], want[SDPP_SHA256_BYTES];
	const char *wanthex = jstr(detail, "acks_digest");
	uint64_t first = 0, last = 0, count = 0;
	int s, rc = -1;

	while (vc->acks_row && (uint64_t)sqlite3_column_int64(vc->acks, 0) == id) {
		const char *oid = (const char *)sqlite3_column_text(vc->acks, 4);

		if (n == alloc) {
			alloc = alloc == 0 ? 16 : alloc * 2;
			na = realloc(acks, alloc * sizeof(*acks));
			if (na == NULL)
				goto fail;
			acks = na;
		}
		memset(&acks[n], 0, sizeof(acks[n]));
		acks[n].seq = (uint64_t)sqlite3_column_int64(vc->acks, 1);
		acks[n].message = strdup((const char *)sqlite3_column_text(vc->acks, 2));
		acks[n].signature = strdup((const char *)sqlite3_column_text(vc->acks, 3));
		n++;
		if (acks[n - 1].message == NULL || acks[n - 1].signature == NULL)
			goto fail;
		if (oid == NULL || strcmp(oid, order_hex) != 0)
			soft(vc, id,
			    "record %" PRIu64 " (receipts): stored ACK of item %" PRIu64
			    " is filed under order %.16s..., not the record's",
			    id, acks[n - 1].seq, oid != NULL ? oid : "");
		s = sqlite3_step(vc->acks);
		if (s != SQLITE_ROW && s != SQLITE_DONE)
			goto fail;
		vc->acks_row = s == SQLITE_ROW;
	}
	rc = 1;
	if (wanthex == NULL || sdpp_hex_decode(want, sizeof(want), wanthex) != SDPP_OK) {
		problem(vc, id, "record %" PRIu64 " (receipts): no acks_digest", id);
		goto fail;
	}
	if (n == 0 || ledger_acks_digest(digest, acks, n) != 0 ||
	    memcmp(digest, want, sizeof(want)) != 0) {
		problem(vc, id,
		    "record %" PRIu64 " (receipts): the stored ACKs (%zu) do not match "
		    "the digest in the record",
		    id, n);
		goto fail;
	}
	/* The evidence is the block's last ACK: the same bytes need no second
	 * signature check. */
	if (strcmp(ev_msg, acks[n - 1].message) != 0 ||
	    strcmp(ev_sig, acks[n - 1].signature) != 0) {
		s = sig_queue(vc, id, "receipts", 0, buyer, ev_msg, ev_sig);
		if (s != 0) {
			rc = s;
			goto fail;
		}
		soft(vc, id,
		    "record %" PRIu64 " (receipts): the evidence is not the last stored ACK"
		    " (item %" PRIu64 ")",
		    id, acks[n - 1].seq);
	} else {
		vc->rep->signatures++; /* verified as that ACK, below */
	}
	for (i = 0; i < n; i++) {
		struct sdpp_msg m;

		s = sig_queue(
		    vc, id, "receipts", acks[i].seq, buyer, acks[i].message, acks[i].signature);
		if (s != 0) {
			rc = s;
			goto fail;
		}
		vc->rep->acks++;
		if (parse_signed(&m, acks[i].message) != 0 || m.type != SDPP_T_ACK) {
			soft(vc, id,
			    "record %" PRIu64 " (receipts): stored ACK of item %" PRIu64
			    " is not a buyer's ack",
			    id, acks[i].seq);
			continue;
		}
		if (m.u.ack.seq != acks[i].seq)
			soft(vc, id,
			    "record %" PRIu64 " (receipts): stored ACK filed as item %" PRIu64
			    " signs item %" PRIu64,
			    id, acks[i].seq, m.u.ack.seq);
		else {
			char h[SDPP_HEX_LEN(SDPP_ORDER_ID_BYTES)];

			sdpp_hex_encode(h, m.u.ack.order_id, sizeof(m.u.ack.order_id));
			if (strcmp(h, order_hex) != 0)
				soft(vc, id,
				    "record %" PRIu64 " (receipts): stored ACK of item %" PRIu64
				    " is for order %.16s..., not the record's",
				    id, acks[i].seq, h);
		}
		sdpp_msg_free(&m);
	}
	if (dnum(detail, "first_seq", &first) != 0 || dnum(detail, "last_seq", &last) != 0 ||
	    dnum(detail, "acks", &count) != 0 || first != acks[0].seq || last != acks[n - 1].seq ||
	    count != n)
		soft(vc, id,
		    "record %" PRIu64 " (receipts): says items %" PRIu64 "..%" PRIu64 " in %" PRIu64
		    " ACKs, the stored ACKs are items %" PRIu64 "..%" PRIu64 " in %zu",
		    id, first, last, count, acks[0].seq, acks[n - 1].seq, n);
	rc = 0;
fail:
	for (i = 0; i < n; i++)
		ledger_ack_clear(&acks[i]);
	free(acks);
	return rc;
}

/* A field the record asserts differs from what the buyer signed, or from
 * what earlier records of the order say. */
static void
differs(struct verify *vc, uint64_t id, const char *kind, const char *field, const char *says,
    const char *source, const char *want)
{
	soft(vc, id, "record %" PRIu64 " (%s): %s `%s' contradicts %s (`%s')", id, kind, field,
	    says != NULL ? says : "(none)", source, want);
}

static void
differs_u64(struct verify *vc, uint64_t id, const char *kind, const char *field, int have,
    uint64_t says, const char *source, uint64_t want)
{
	char a[24], b[24];

	if (have && says == want)
		return;
	snprintf(a, sizeof(a), "%" PRIu64, says);
	snprintf(b, sizeof(b), "%" PRIu64, want);
	differs(vc, id, kind, field, have ? a : NULL, source, b);
}

static void
same_str(struct verify *vc, uint64_t id, const char *kind, const cJSON *detail, const char *field,
    const char *source, const char *want)
{
	const char *s = jstr(detail, field);

	if (s == NULL || strcmp(s, want) != 0)
		differs(vc, id, kind, field, s, source, want);
}

static void
same_num(struct verify *vc, uint64_t id, const char *kind, const cJSON *detail, const char *field,
    const char *source, uint64_t want)
{
	uint64_t v = 0;
	int have = dnum(detail, field, &v) == 0;

	differs_u64(vc, id, kind, field, have, v, source, want);
}

static void
same_money(struct verify *vc, uint64_t id, const char *kind, const cJSON *detail, const char *field,
    const char *source, uint64_t want)
{
	uint64_t v = 0;
	int have = dmoney(detail, field, &v) == 0;

	differs_u64(vc, id, kind, field, have, v, source, want);
}

#define SIGNED "the buyer-signed message"

/* What the buyer signed must be what the record says (evidence kinds). */
static void
check_evidence(struct verify *vc, uint64_t id, const char *kind, const cJSON *detail,
    const struct sdpp_msg *m, struct ostate *o)
{
	char hex[SDPP_HEX_LEN(SDPP_DIGEST_BYTES)];

	switch (m->type) {
	case SDPP_T_ORDER:
		same_str(vc, id, kind, detail, "product", SIGNED, m->u.order.product);
		same_num(vc, id, kind, detail, "quantity", SIGNED, m->u.order.quantity);
		same_money(vc, id, kind, detail, "price", SIGNED, m->u.order.price);
		same_str(vc, id, kind, detail, "currency", SIGNED, m->u.order.currency);
		same_str(
		    vc, id, kind, detail, "payment_address", SIGNED, m->u.order.payment_address);
		break;
	case SDPP_T_PAYMENT_ACK:
		same_num(vc, id, kind, detail, "invoice", SIGNED, m->u.payment.invoice);
		same_money(vc, id, kind, detail, "total", SIGNED, m->u.payment.total);
		same_str(vc, id, kind, detail, "verification", SIGNED, m->verification);
		if (o != NULL && m->u.payment.invoice > o->invoices)
			differs_u64(vc, id, kind, "invoice", 1, m->u.payment.invoice,
			    "the invoices recorded before it for this order (the last one)",
			    o->invoices);
		break;
	case SDPP_T_ACK:
		same_num(vc, id, kind, detail, "last_seq", SIGNED, m->u.ack.seq);
		break;
	case SDPP_T_EXIT:
		same_num(vc, id, kind, detail, "seq", SIGNED, m->u.exit.seq);
		same_money(vc, id, kind, detail, "total", SIGNED, m->u.exit.total);
		sdpp_hex_encode(hex, m->u.exit.digest, sizeof(m->u.exit.digest));
		same_str(vc, id, kind, detail, "digest", SIGNED, hex);
		break;
	case SDPP_T_RESUME:
		same_num(vc, id, kind, detail, "seq", SIGNED, m->u.resume.seq);
		sdpp_hex_encode(hex, m->u.resume.digest, sizeof(m->u.resume.digest));
		same_str(vc, id, kind, detail, "digest", SIGNED, hex);
		same_num(vc, id, kind, detail, "invoice", SIGNED, m->u.resume.invoice);
		same_num(vc, id, kind, detail, "attempt", SIGNED, m->u.resume.attempt);
		break;
	default:
		break;
	}
}

/* An invoice is the seller's own: it must add up, follow the order's
 * previous invoice and bill at the order's price. */
static void
check_invoice(struct verify *vc, uint64_t id, const cJSON *detail, struct ostate *o)
{
	uint64_t num = 0, first = 0, last = 0, unit = 0, amount = 0, due = 0, want, from;
	const char *k = "invoice";

	if (dnum(detail, "invoice", &num) != 0 || dnum(detail, "first_seq", &first) != 0 ||
	    dnum(detail, "last_seq", &last) != 0 || dmoney(detail, "unit_price", &unit) != 0 ||
	    dmoney(detail, "amount", &amount) != 0 || dmoney(detail, "total_due", &due) != 0) {
		soft(
		    vc, id, "record %" PRIu64 " (invoice): detail lacks a number or an amount", id);
		return;
	}
	if (first == 0 || first > last) {
		soft(vc, id, "record %" PRIu64 " (invoice): items %" PRIu64 "..%" PRIu64, id, first,
		    last);
		return;
	}
	if (sdpp_money_mul(&want, last - first + 1, unit) != SDPP_OK || want != amount)
		soft(vc, id,
		    "record %" PRIu64 " (invoice): amount %" PRIu64 " is not %" PRIu64
		    " items at %" PRIu64,
		    id, amount, last - first + 1, unit);
	if (o == NULL)
		return;
	if (o->have_order) {
		differs_u64(vc, id, k, "unit_price", 1, unit, "the order's price", o->price);
		if (fnv(jstr(detail, "currency")) != o->currency)
			soft(vc, id, "record %" PRIu64 " (invoice): currency is not the order's",
			    id);
		if (o->quantity != 0 && last > o->quantity)
			differs_u64(
			    vc, id, k, "last_seq", 1, last, "the order's quantity", o->quantity);
	}
	/* Invoices held between checkpoints are logged as one record for
	 * first_invoice..invoice (OPERATIONS.md, "Held records"). */
	from = num;
	if (cJSON_GetObjectItemCaseSensitive(detail, "first_invoice") != NULL &&
	    (dnum(detail, "first_invoice", &from) != 0 || from == 0 || from >= num)) {
		soft(vc, id,
		    "record %" PRIu64 " (invoice): first_invoice is not a number below %" PRIu64,
		    id, num);
		return;
	}
	differs_u64(vc, id, k, from == num ? "invoice" : "first_invoice", 1, from,
	    "the order's previous invoice + 1", o->invoices + 1);
	differs_u64(vc, id, k, "first_seq", 1, first, "the previous invoice's last_seq + 1",
	    o->invoiced + 1);
	if (amount > UINT64_MAX - o->total_due || due != o->total_due + amount)
		differs_u64(vc, id, k, "total_due", 1, due,
		    "the previous invoice's total_due + amount", o->total_due + amount);
	o->invoices = num;
	o->invoiced = last;
	o->total_due = due;
}

/* A close is the seller's statement: it names the order's terms and claims
 * no more than the buyer's signatures in the log prove. */
static void
check_close(struct verify *vc, uint64_t id, const cJSON *detail, const struct ostate *o)
{
	uint64_t paid = 0, acked = 0, delivered = 0;
	const char *k = "close";

	if (dmoney(detail, "total_paid", &paid) != 0 || dnum(detail, "acked", &acked) != 0 ||
	    dnum(detail, "delivered", &delivered) != 0) {
		soft(vc, id, "record %" PRIu64 " (close): detail lacks a total", id);
		return;
	}
	if (acked > delivered)
		differs_u64(vc, id, k, "acked", 1, acked, "delivered", delivered);
	if (o == NULL)
		return;
	if (o->have_order) {
		if (fnv(jstr(detail, "product")) != o->product)
			soft(vc, id, "record %" PRIu64 " (close): product is not the order's", id);
		same_num(vc, id, k, detail, "quantity", "the order", o->quantity);
		same_money(vc, id, k, detail, "price", "the order", o->price);
	}
	if (paid > o->paid)
		differs_u64(vc, id, k, "total_paid", 1, paid,
		    "the highest total the buyer signed in this order's payments and exit",
		    o->paid);
	if (acked > o->acked)
		differs_u64(vc, id, k, "acked", 1, acked,
		    "the highest item the buyer signed for in this order's receipts, exit and "
		    "resumes",
		    o->acked);
}

/* Stored ACKs of records before id that no receipts record took. */
static int
skip_acks(struct verify *vc, uint64_t id)
{
	int s;

	while (vc->acks_row && (uint64_t)sqlite3_column_int64(vc->acks, 0) <= id) {
		vc->orphans++;
		s = sqlite3_step(vc->acks);
		if (s != SQLITE_ROW && s != SQLITE_DONE)
			return -1;
		vc->acks_row = s == SQLITE_ROW;
	}
	return 0;
}

/* Checks one record's body against its columns, its evidence and the
 * order's earlier records. 0 ok, 1 bad, -1 on errors. */
static int
check_record(struct verify *vc, sqlite3_stmt *st, uint64_t id)
{
	const char *body = (const char *)sqlite3_column_text(st, 7);
	size_t bodylen = (size_t)sqlite3_column_bytes(st, 7);
	const char *kind = (const char *)sqlite3_column_text(st, 1);
	cJSON *root = NULL;
	const cJSON *detail, *ev;
	const char *s, *order_hex = NULL, *msg = NULL, *sig = NULL;
	uint8_t buyer[SDPP_SIGN_PUBLIC_BYTES], oid[SDPP_ORDER_ID_BYTES];
	char *canon = NULL, amount[SDPP_MONEY_LEN], idhex[SDPP_HEX_LEN(SDPP_ORDER_ID_BYTES)];
	struct sdpp_msg m;
	struct ostate *o = NULL;
	enum sdpp_type ek;
	size_t clen;
	uint64_t v = 0;
	int bad = 1, have_buyer, have_msg = 0, r;

	memset(&m, 0, sizeof(m));
	if (vc->acks_row && (uint64_t)sqlite3_column_int64(vc->acks, 0) < id &&
	    skip_acks(vc, id - 1) != 0)
		return -1;
	if (body == NULL || kind == NULL ||
	    sdpp_json_parse(&root, body, bodylen, NULL, 0) != SDPP_OK) {
		problem(vc, id, "record %" PRIu64 ": body is not valid JSON", id);
		goto out;
	}
	if (sdpp_jcs_serialize_int(root, LEDGER_BODY_MAX, &canon, &clen) != SDPP_OK ||
	    clen != bodylen || memcmp(canon, body, clen) != 0) {
		problem(vc, id, "record %" PRIu64 ": body is not in canonical form", id);
		goto out;
	}
	if (jnum(root, "index", &v) != 0 || v != id - 1) {
		problem(vc, id,
		    "record %" PRIu64 ": body says it is record %" PRIu64
		    " (rows reordered or replaced)",
		    id, v + 1);
		goto out;
	}
	s = jstr(root, "kind");
	if (s == NULL || strcmp(s, kind) != 0) {
		problem(
		    vc, id, "record %" PRIu64 ": kind column `%s' differs from the body", id, kind);
		goto out;
	}
	if (jnum(root, "time", &v) != 0 || (int64_t)v != sqlite3_column_int64(st, 2) ||
	    (order_hex = jstr(root, "order_id")) == NULL ||
	    strcmp(order_hex, (const char *)sqlite3_column_text(st, 3)) != 0 ||
	    (s = jstr(root, "buyer")) == NULL ||
	    strcmp(s, (const char *)sqlite3_column_text(st, 4)) != 0) {
		problem(vc, id,
		    "record %" PRIu64 " (%s): time, order_id or buyer column differs "
		    "from the body",
		    id, kind);
		goto out;
	}
	have_buyer = sdpp_hex_decode(buyer, sizeof(buyer), s) == SDPP_OK;
	detail = jget(root, "detail");
	if (!cJSON_IsObject(detail)) {
		problem(vc, id, "record %" PRIu64 " (%s): no detail", id, kind);
		goto out;
	}
	/* The amount and invoice columns are query copies of the detail. */
	s = strcmp(kind, "invoice") == 0                                ? jstr(detail, "amount")
	    : strcmp(kind, "payment") == 0 || strcmp(kind, "exit") == 0 ? jstr(detail, "total")
	    : strcmp(kind, "order") == 0                                ? jstr(detail, "price")
	    : strcmp(kind, "close") == 0                                ? jstr(detail, "total_paid")
	                                                                : "0";
	snprintf(amount, sizeof(amount), "%s", (const char *)sqlite3_column_text(st, 6));
	if (s == NULL || strcmp(s, amount) != 0) {
		problem(vc, id, "record %" PRIu64 " (%s): amount column `%s' differs from the body",
		    id, kind, amount);
		goto out;
	}
	v = 0;
	if ((strcmp(kind, "invoice") == 0 || strcmp(kind, "payment") == 0) &&
	    jnum(detail, "invoice", &v) != 0)
		v = UINT64_MAX;
	if ((uint64_t)sqlite3_column_int64(st, 5) != v) {
		problem(vc, id, "record %" PRIu64 " (%s): invoice column differs from the body", id,
		    kind);
		goto out;
	}
	ek = evidence_type(kind);
	ev = jget(root, "evidence");
	if (ek != SDPP_T_NONE) {
		msg = jstr(ev, "message");
		sig = jstr(ev, "signature");
		if (!have_buyer || msg == NULL || sig == NULL) {
			problem(vc, id, "record %" PRIu64 " (%s): buyer signature does not verify",
			    id, kind);
			goto out;
		}
		/* A receipts record's evidence is its last stored ACK, checked
		 * with the others. */
		if (ek != SDPP_T_ACK) {
			r = sig_queue(vc, id, kind, 0, buyer, msg, sig);
			if (r != 0) {
				bad = r;
				goto out;
			}
		}
		/* What the buyer signed must be what the record claims. */
		if (parse_signed(&m, msg) != 0 || m.type != ek) {
			problem(vc, id, "record %" PRIu64 " (%s): evidence is not a signed %s", id,
			    kind, sdpp_type_name(ek));
			goto out;
		}
		have_msg = 1;
		if (ek == SDPP_T_ORDER) {
			struct sdpp_iov iov[2] = {
				{ SDPP_SIG_CONTEXT, SDPP_SIG_CONTEXT_LEN },
				{ msg, strlen(msg) },
			};

			if (sdpp_sha256(oid, iov, 2) != SDPP_OK)
				goto out;
			sdpp_hex_encode(idhex, oid, sizeof(oid));
			r = memcmp(m.u.order.buyer, buyer, sizeof(buyer)) == 0;
		} else {
			const uint8_t *x = ek == SDPP_T_PAYMENT_ACK ? m.u.payment.order_id
			                   : ek == SDPP_T_EXIT      ? m.u.exit.order_id
			                   : ek == SDPP_T_RESUME    ? m.u.resume.order_id
			                                            : m.u.ack.order_id;

			sdpp_hex_encode(idhex, x, SDPP_ORDER_ID_BYTES);
			r = 1;
		}
		if (strcmp(idhex, order_hex) != 0 || !r) {
			problem(vc, id,
			    "record %" PRIu64 " (%s): signed message is for another "
			    "order or buyer",
			    id, kind);
			goto out;
		}
	} else if (ev != NULL) {
		problem(vc, id, "record %" PRIu64 " (%s): unexpected evidence", id, kind);
		goto out;
	}
	o = otab_get(&vc->orders, order_hex, &vc->oom);
	if (vc->oom) {
		bad = -1;
		goto out;
	}
	if (o != NULL && o->have_order && ek != SDPP_T_ORDER &&
	    (!have_buyer || memcmp(o->buyer, buyer, sizeof(buyer)) != 0))
		soft(vc, id, "record %" PRIu64 " (%s): buyer is not the order's", id, kind);
	if (have_msg)
		check_evidence(vc, id, kind, detail, &m, o);
	if (ek == SDPP_T_ACK) {
		r = check_acks(vc, id, order_hex, buyer, detail, msg, sig);
		if (r != 0) {
			bad = r;
			goto out;
		}
	} else if (vc->acks_row && (uint64_t)sqlite3_column_int64(vc->acks, 0) == id &&
	           skip_acks(vc, id) != 0) {
		bad = -1;
		goto out;
	}
	if (strcmp(kind, "invoice") == 0)
		check_invoice(vc, id, detail, o);
	else if (strcmp(kind, "close") == 0)
		check_close(vc, id, detail, o);
	if (o != NULL) {
		uint64_t x = 0;

		switch (ek) {
		case SDPP_T_ORDER:
			if (o->have_order)
				soft(vc, id,
				    "record %" PRIu64 " (order): the order is recorded twice", id);
			o->have_order = 1;
			memcpy(o->buyer, buyer, sizeof(buyer));
			o->product = fnv(m.u.order.product);
			o->currency = fnv(m.u.order.currency);
			o->quantity = m.u.order.quantity;
			o->price = m.u.order.price;
			break;
		case SDPP_T_PAYMENT_ACK:
			if (m.u.payment.total > o->paid)
				o->paid = m.u.payment.total;
			break;
		case SDPP_T_EXIT:
			if (m.u.exit.total > o->paid)
				o->paid = m.u.exit.total;
			if (m.u.exit.seq > o->acked)
				o->acked = m.u.exit.seq;
			break;
		case SDPP_T_ACK:
			if (m.u.ack.seq > o->acked)
				o->acked = m.u.ack.seq;
			if (o->have_order && o->quantity != 0 &&
			    dnum(detail, "last_seq", &x) == 0 && x > o->quantity)
				differs_u64(vc, id, kind, "last_seq", 1, x, "the order's quantity",
				    o->quantity);
			break;
		case SDPP_T_RESUME:
			/* A receipt for 1..seq like an ACK. Receipts logged after
			 * it may stop below its seq (held receipts join at the
			 * next checkpoint, and no ACK may have come since): the
			 * highest item signed for counts, not the latest. */
			if (m.u.resume.seq > o->acked)
				o->acked = m.u.resume.seq;
			if (o->have_order && o->quantity != 0 && m.u.resume.seq > o->quantity)
				differs_u64(vc, id, kind, "seq", 1, m.u.resume.seq,
				    "the order's quantity", o->quantity);
			/* The seller takes a resume only with an attempt above the
			 * last one it took: the same signed resume twice is a
			 * replay it should have refused (stale_resume). */
			if (m.u.resume.attempt <= o->attempt)
				soft(vc, id,
				    "record %" PRIu64 " (resume): attempt %" PRIu64
				    " is not above the order's previous resume's (%" PRIu64
				    "): a replayed resume was taken",
				    id, m.u.resume.attempt, o->attempt);
			o->attempt = m.u.resume.attempt;
			break;
		default:
			break;
		}
	}
	bad = 0;
out:
	if (have_msg)
		sdpp_msg_free(&m);
	free(canon);
	cJSON_Delete(root);
	return bad;
}

static int
verify_threads(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > SIG_THREADS_MAX ? SIG_THREADS_MAX : (int)n;
}

int
ledger_verify(struct ledger *l, const uint8_t *expect_key, struct ledger_verify_report *rep)
{
	return ledger_verify_progress(l, expect_key, rep, NULL, NULL);
}

int
ledger_verify_progress(struct ledger *l, const uint8_t *expect_key,
    struct ledger_verify_report *rep, ledger_progress_fn progress, void *pctx)
{
	sqlite3_stmt *st = NULL;
	struct sth *sths = NULL;
	struct verify vc;
	size_t nsth = 0, next = 0;
	struct merkle_frontier f;
	merkle_hash leaf, root;
	uint64_t id, prev_sth = 0, total = 0;
	int s, r, rc = -1;

	memset(rep, 0, sizeof(*rep));
	memset(&vc, 0, sizeof(vc));
	vc.l = l;
	vc.rep = rep;
	vc.pos = UINT64_MAX;
	vc.threads = verify_threads();
	merkle_frontier_init(&f);
	if (expect_key != NULL && memcmp(expect_key, ledger_key(l), SDPP_SIGN_PUBLIC_BYTES) != 0) {
		report(rep, 0, "log key %s is not the expected key", ledger_keyhex(l));
		return 1;
	}
	vc.jobs = calloc(SIG_BATCH, sizeof(*vc.jobs));
	vc.busy = calloc(SIG_BATCH, sizeof(*vc.busy));
	if (vc.jobs == NULL || vc.busy == NULL || load_sths(l, &sths, &nsth) != 0)
		goto out;
	if (sqlite3_prepare_v2(ledger_db(l), "SELECT coalesce(max(id), 0) FROM records", -1, &st,
	        NULL) != SQLITE_OK)
		goto out;
	if (sqlite3_step(st) == SQLITE_ROW)
		total = (uint64_t)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	st = NULL;
	/* One pass over the ACKs in record order, merged with the records. A
	 * log without an index on acks(record) gets a sort here, once. */
	if (sqlite3_prepare_v2(ledger_db(l),
	        "SELECT record, seq, message, signature, order_id FROM acks"
	        " ORDER BY record, seq",
	        -1, &vc.acks, NULL) != SQLITE_OK)
		goto out;
	s = sqlite3_step(vc.acks);
	if (s != SQLITE_ROW && s != SQLITE_DONE)
		goto out;
	vc.acks_row = s == SQLITE_ROW;
	if (sqlite3_prepare_v2(ledger_db(l),
	        "SELECT id, kind, time, order_id, buyer, invoice,"
	        " amount, body, leaf_hash FROM records ORDER BY id",
	        -1, &st, NULL) != SQLITE_OK)
		goto out;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		id = (uint64_t)sqlite3_column_int64(st, 0);
		if (progress != NULL && id % 1024 == 0)
			progress(pctx, id, total);
		if (id != f.size + 1) {
			problem(&vc, f.size + 1,
			    "record %" PRIu64 " is missing (next present is %" PRIu64 ")",
			    f.size + 1, id);
			break;
		}
		if (sqlite3_column_bytes(st, 7) == 0 &&
		    sqlite3_column_bytes(st, 8) == MERKLE_HASH_BYTES) {
			/* Archived (archive.c): only the leaf is here; the
			 * body is checked against it with --archive. */
			memcpy(leaf, sqlite3_column_blob(st, 8), MERKLE_HASH_BYTES);
			rep->archived++;
		} else {
			if (merkle_leaf_hash(leaf, sqlite3_column_text(st, 7),
			        (size_t)sqlite3_column_bytes(st, 7)) != 0)
				goto out;
			if (sqlite3_column_bytes(st, 8) != MERKLE_HASH_BYTES ||
			    memcmp(leaf, sqlite3_column_blob(st, 8), MERKLE_HASH_BYTES) != 0) {
				problem(&vc, id,
				    "record %" PRIu64 ": body does not match its leaf hash", id);
				break;
			}
			r = check_record(&vc, st, id);
			if (r < 0)
				goto out;
			if (r != 0)
				break;
		}
		if (merkle_frontier_push(&f, leaf) != 0)
			goto out;
		rep->records++;
		while (next < nsth && sths[next].size <= f.size) {
			const struct sth *h = &sths[next];

			if (h->size < f.size || merkle_frontier_root(&f, root) != 0 ||
			    memcmp(root, h->root, MERKLE_HASH_BYTES) != 0) {
				problem(&vc, prev_sth + 1,
				    "tree head at size %" PRIu64 " does not match "
				    "records %" PRIu64 "..%" PRIu64 ": one of them was changed",
				    h->size, prev_sth + 1, h->size);
				vc.pos = id;
				vc.head = 1;
				break;
			}
			if (ledger_sth_verify(ledger_key(l), h->size, h->root, h->time, h->sig) !=
			    0) {
				problem(&vc, h->size,
				    "tree head at size %" PRIu64 " has a bad signature", h->size);
				vc.pos = id;
				vc.head = 1;
				break;
			}
			rep->tree_heads++;
			prev_sth = h->size;
			next++;
		}
		if (rep->problem[0] != '\0')
			break;
		/* A contradiction waits only for the tree head that covers it. */
		if (vc.soft_id != 0 && (prev_sth >= vc.soft_id || next >= nsth))
			break;
	}
	if (s != SQLITE_ROW && s != SQLITE_DONE)
		goto out;
	if (rep->problem[0] == '\0' && vc.soft_id == 0 && next < nsth) {
		problem(&vc, f.size + 1,
		    "tree head at size %" PRIu64 " but only %" PRIu64
		    " records: records were deleted",
		    sths[next].size, f.size);
		vc.pos = UINT64_MAX;
	}
	if (sig_finish(&vc) < 0)
		goto out;
	if (vc.soft_id != 0 && (rep->problem[0] == '\0' || (vc.pos > vc.soft_id && !vc.head))) {
		snprintf(rep->problem, sizeof(rep->problem), "%s", vc.soft);
		rep->first_bad = vc.soft_id;
	}
	if (rep->problem[0] == '\0') {
		if (skip_acks(&vc, UINT64_MAX) != 0)
			goto out;
		if (vc.orphans != 0)
			report(rep, 0,
			    "%" PRIu64 " ACKs are not committed to by any receipts record",
			    vc.orphans);
	}
	if (progress != NULL)
		progress(pctx, rep->records, total);
	rc = rep->problem[0] != '\0' ? 1 : 0;
out:
	(void)sig_wait(&vc);
	if (vc.jobs != NULL) {
		size_t i;

		for (i = 0; i < vc.njobs; i++)
			free(vc.jobs[i].input);
	}
	free(vc.jobs);
	free(vc.busy);
	free(vc.orders.v);
	sqlite3_finalize(vc.acks);
	sqlite3_finalize(st);
	free(sths);
	return rc;
}

/* Reads the stored leaf hashes of records 1..n (*out malloc'd). */
static int
load_leaves(struct ledger *l, uint64_t n, merkle_hash **out)
{
	sqlite3_stmt *st = NULL;
	merkle_hash *v;
	uint64_t i = 0;

	v = calloc(n == 0 ? 1 : n, sizeof(*v));
	if (v == NULL)
		return -1;
	if (sqlite3_prepare_v2(ledger_db(l),
	        "SELECT leaf_hash FROM records WHERE id <= ?"
	        " ORDER BY id",
	        -1, &st, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)n);
	while (i < n && sqlite3_step(st) == SQLITE_ROW) {
		if (sqlite3_column_bytes(st, 0) != MERKLE_HASH_BYTES)
			goto fail;
		memcpy(v[i++], sqlite3_column_blob(st, 0), MERKLE_HASH_BYTES);
	}
	if (i != n)
		goto fail;
	sqlite3_finalize(st);
	*out = v;
	return 0;
fail:
	sqlite3_finalize(st);
	free(v);
	return -1;
}

static int
sth_json(cJSON *parent, const char *name, const struct sth *h)
{
	cJSON *o = cJSON_AddObjectToObject(parent, name);

	if (o == NULL || cJSON_AddNumberToObject(o, "size", (double)h->size) == NULL ||
	    cJSON_AddStringToObject(o, "root", h->roothex) == NULL ||
	    cJSON_AddNumberToObject(o, "time", (double)h->time) == NULL ||
	    cJSON_AddStringToObject(o, "signature", h->sigb64) == NULL)
		return -1;
	return 0;
}

static int
path_json(cJSON *parent, const char *name, const merkle_hash *p, size_t n)
{
	cJSON *a = cJSON_AddArrayToObject(parent, name);
	char hex[SDPP_HEX_LEN(MERKLE_HASH_BYTES)];
	size_t i;

	if (a == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		sdpp_hex_encode(hex, p[i], MERKLE_HASH_BYTES);
		if (!cJSON_AddItemToArray(a, cJSON_CreateString(hex)))
			return -1;
	}
	return 0;
}

/* Pretty-printed JSON of o, consumed (*out malloc'd). */
static int
emit(cJSON *o, char **out)
{
	char *s = cJSON_Print(o);

	cJSON_Delete(o);
	if (s == NULL)
		return -1;
	*out = strdup(s);
	cJSON_free(s);
	return *out == NULL ? -1 : 0;
}

int
ledger_prove(struct ledger *l, uint64_t id, char **json, char *err, size_t errlen)
{
	struct sth *sths = NULL;
	size_t nsth = 0, plen;
	merkle_hash *leaves = NULL, proof[MERKLE_PROOF_MAX];
	sqlite3_stmt *st = NULL;
	cJSON *o = NULL, *rec;
	const struct sth *h;
	int rc = -1;

	*json = NULL;
	if (load_sths(l, &sths, &nsth) != 0 || nsth == 0) {
		snprintf(err, errlen, "no signed tree head in the log");
		goto out;
	}
	h = &sths[nsth - 1];
	if (id == 0 || id > h->size) {
		snprintf(err, errlen,
		    "record %" PRIu64 " is not covered by the latest tree head "
		    "(size %" PRIu64 ")",
		    id, h->size);
		goto out;
	}
	if (load_leaves(l, h->size, &leaves) != 0 ||
	    merkle_inclusion_proof(proof, &plen, (const merkle_hash *)leaves, h->size, id - 1) !=
	        0) {
		snprintf(err, errlen, "cannot read the records (run `sdpp ledger verify`)");
		goto out;
	}
	if (sqlite3_prepare_v2(
	        ledger_db(l), "SELECT body FROM records WHERE id = ?", -1, &st, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
	if (sqlite3_step(st) != SQLITE_ROW) {
		snprintf(err, errlen, "no record %" PRIu64, id);
		goto out;
	}
	o = cJSON_CreateObject();
	if (o == NULL || cJSON_AddStringToObject(o, "version", PROOF_VERSION) == NULL ||
	    cJSON_AddStringToObject(o, "log_key", ledger_keyhex(l)) == NULL ||
	    (rec = cJSON_AddObjectToObject(o, "record")) == NULL ||
	    cJSON_AddNumberToObject(rec, "id", (double)id) == NULL ||
	    cJSON_AddStringToObject(rec, "body", (const char *)sqlite3_column_text(st, 0)) ==
	        NULL ||
	    sth_json(o, "tree_head", h) != 0 || path_json(o, "inclusion", proof, plen) != 0) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	rc = emit(o, json);
	o = NULL;
out:
	cJSON_Delete(o);
	sqlite3_finalize(st);
	free(leaves);
	free(sths);
	return rc;
}

static int
parse_sth(const cJSON *o, struct sth *h)
{
	const char *root = jstr(o, "root"), *sig = jstr(o, "signature");
	uint64_t t;
	size_t sl;

	memset(h, 0, sizeof(*h));
	if (root == NULL || sig == NULL || jnum(o, "size", &h->size) != 0 ||
	    jnum(o, "time", &t) != 0 ||
	    sdpp_hex_decode(h->root, MERKLE_HASH_BYTES, root) != SDPP_OK ||
	    sdpp_b64_decode(h->sig, sizeof(h->sig), &sl, sig, strlen(sig)) != SDPP_OK ||
	    sl != SDPP_SIGN_BYTES)
		return -1;
	h->time = (int64_t)t;
	return 0;
}

static int
parse_path(const cJSON *a, merkle_hash proof[MERKLE_PROOF_MAX], size_t *n)
{
	const cJSON *c;

	*n = 0;
	if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) > MERKLE_PROOF_MAX)
		return -1;
	cJSON_ArrayForEach(c, a)
	{
		if (!cJSON_IsString(c) ||
		    sdpp_hex_decode(proof[*n], MERKLE_HASH_BYTES, c->valuestring) != SDPP_OK)
			return -1;
		(*n)++;
	}
	return 0;
}

int
ledger_proof_check(const char *json, size_t len, const uint8_t key[SDPP_SIGN_PUBLIC_BYTES],
    char *summary, size_t sumlen, char *err, size_t errlen)
{
	cJSON *o = NULL, *body = NULL;
	const cJSON *rec;
	const char *v, *b, *kh;
	struct sth h, h2;
	merkle_hash proof[MERKLE_PROOF_MAX], leaf;
	uint8_t logkey[SDPP_SIGN_PUBLIC_BYTES];
	uint64_t id;
	size_t plen;
	int rc = -1;

	if (len > PROOF_MAX || sdpp_json_parse(&o, json, len, err, errlen) != SDPP_OK) {
		if (len > PROOF_MAX)
			snprintf(err, errlen, "proof larger than %u bytes", (unsigned)PROOF_MAX);
		goto out;
	}
	v = jstr(o, "version");
	kh = jstr(o, "log_key");
	if (kh == NULL || sdpp_hex_decode(logkey, sizeof(logkey), kh) != SDPP_OK ||
	    memcmp(logkey, key, sizeof(logkey)) != 0) {
		snprintf(
		    err, errlen, "the proof is for another log key (%s)", kh != NULL ? kh : "none");
		goto out;
	}
	if (v != NULL && strcmp(v, CONSISTENCY_VERSION) == 0) {
		if (parse_sth(jget(o, "old"), &h) != 0 || parse_sth(jget(o, "new"), &h2) != 0 ||
		    parse_path(jget(o, "consistency"), proof, &plen) != 0) {
			snprintf(err, errlen, "malformed consistency proof");
			goto out;
		}
		if (ledger_sth_verify(key, h.size, h.root, h.time, h.sig) != 0 ||
		    ledger_sth_verify(key, h2.size, h2.root, h2.time, h2.sig) != 0) {
			snprintf(err, errlen, "a tree head signature does not verify");
			goto out;
		}
		if (merkle_consistency_verify(
		        h.size, h2.size, h.root, h2.root, (const merkle_hash *)proof, plen) != 0) {
			snprintf(err, errlen,
			    "the log at size %" PRIu64 " does not extend the log at "
			    "size %" PRIu64,
			    h2.size, h.size);
			goto out;
		}
		snprintf(summary, sumlen,
		    "consistent: the log at size %" PRIu64 " extends the log at "
		    "size %" PRIu64 " (both signed by %s)",
		    h2.size, h.size, kh);
		rc = 0;
		goto out;
	}
	if (v == NULL || strcmp(v, PROOF_VERSION) != 0) {
		snprintf(err, errlen, "not an sdpp ledger proof");
		goto out;
	}
	rec = jget(o, "record");
	b = jstr(rec, "body");
	if (b == NULL || jnum(rec, "id", &id) != 0 || id == 0 ||
	    parse_sth(jget(o, "tree_head"), &h) != 0 ||
	    parse_path(jget(o, "inclusion"), proof, &plen) != 0) {
		snprintf(err, errlen, "malformed proof");
		goto out;
	}
	if (ledger_sth_verify(key, h.size, h.root, h.time, h.sig) != 0) {
		snprintf(err, errlen, "the tree head signature does not verify with this key");
		goto out;
	}
	if (merkle_leaf_hash(leaf, b, strlen(b)) != 0 ||
	    merkle_inclusion_verify(
	        leaf, id - 1, h.size, (const merkle_hash *)proof, plen, h.root) != 0) {
		snprintf(err, errlen,
		    "record %" PRIu64 " is not in the signed log of size %" PRIu64, id, h.size);
		goto out;
	}
	if (sdpp_json_parse(&body, b, strlen(b), NULL, 0) != SDPP_OK) {
		snprintf(err, errlen, "record body is not JSON");
		goto out;
	}
	snprintf(summary, sumlen,
	    "ok: record %" PRIu64 " (%s, order %.16s...) is in the log of %s,"
	    " signed at size %" PRIu64 ", time %" PRId64,
	    id, jstr(body, "kind") != NULL ? jstr(body, "kind") : "?",
	    jstr(body, "order_id") != NULL ? jstr(body, "order_id") : "?", kh, h.size, h.time);
	rc = 0;
out:
	cJSON_Delete(o);
	cJSON_Delete(body);
	return rc;
}

int
ledger_prove_consistency(
    struct ledger *l, uint64_t m, uint64_t n, char **json, char *err, size_t errlen)
{
	struct sth *sths = NULL;
	const struct sth *a = NULL, *b = NULL;
	size_t nsth = 0, plen, i;
	merkle_hash *leaves = NULL, proof[MERKLE_PROOF_MAX];
	cJSON *o = NULL;
	int rc = -1;

	*json = NULL;
	if (load_sths(l, &sths, &nsth) != 0)
		goto out;
	for (i = 0; i < nsth; i++) {
		if (sths[i].size == m)
			a = &sths[i];
		if (sths[i].size == n)
			b = &sths[i];
	}
	if (a == NULL || b == NULL || m > n) {
		snprintf(err, errlen,
		    "need two signed tree heads with sizes %" PRIu64 " <= %" PRIu64, m, n);
		goto out;
	}
	if (load_leaves(l, n, &leaves) != 0 ||
	    merkle_consistency_proof(proof, &plen, (const merkle_hash *)leaves, n, m) != 0) {
		snprintf(err, errlen, "cannot read the records");
		goto out;
	}
	o = cJSON_CreateObject();
	if (o == NULL || cJSON_AddStringToObject(o, "version", CONSISTENCY_VERSION) == NULL ||
	    cJSON_AddStringToObject(o, "log_key", ledger_keyhex(l)) == NULL ||
	    sth_json(o, "old", a) != 0 || sth_json(o, "new", b) != 0 ||
	    path_json(o, "consistency", proof, plen) != 0) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	rc = emit(o, json);
	o = NULL;
out:
	cJSON_Delete(o);
	free(leaves);
	free(sths);
	return rc;
}

/* ---------------------------------------------------------------- anchors */

/* The hash an anchor must hold: the record's leaf hash, or the root of the
 * tree head it names, both read from the (verified) log. */
static int
anchor_expect(sqlite3 *db, const char *kind, const char *payload, uint8_t hash[32], char *what,
    size_t whatlen)
{
	sqlite3_stmt *st = NULL;
	const char *sql;
	int is_record = strcmp(kind, "record") == 0, rc = -1;

	sql = is_record ? "SELECT leaf_hash FROM records WHERE id = json_extract(?1, '$.record')"
	                  " AND lower(hex(leaf_hash)) = json_extract(?1, '$.leaf_hash')"
	                : "SELECT root FROM tree_heads WHERE size = json_extract(?1, '$.size')"
	                  " AND root = json_extract(?1, '$.root')";
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, payload, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		if (is_record && sqlite3_column_bytes(st, 0) == 32) {
			memcpy(hash, sqlite3_column_blob(st, 0), 32);
			rc = 0;
		} else if (!is_record && sqlite3_column_text(st, 0) != NULL &&
		           sdpp_hex_decode(hash, 32, (const char *)sqlite3_column_text(st, 0)) ==
		               SDPP_OK) {
			rc = 0;
		}
	}
	sqlite3_finalize(st);
	snprintf(what, whatlen, "%s", is_record ? "record" : "tree head");
	return rc;
}

int
ledger_anchors_each(struct ledger *l, ledger_anchor_fn fn, void *ctx)
{
	sqlite3_stmt *st = NULL;
	int s, rc = 0, have_proof = ledger_outbox_has_proof(l);

	/* A ledger from before proofs were kept, opened read-only, has no
	 * proof column. */
	if (sqlite3_prepare_v2(ledger_db(l),
	        have_proof ? "SELECT item, coalesce(record, 0), kind, payload, state,"
	                     " coalesce(ref, ''), coalesce(proof, '') FROM outbox ORDER BY item"
	                   : "SELECT item, coalesce(record, 0), kind, payload, state,"
	                     " coalesce(ref, ''), '' FROM outbox ORDER BY item",
	        -1, &st, NULL) != SQLITE_OK)
		return -1;
	while (rc == 0 && (s = sqlite3_step(st)) == SQLITE_ROW) {
		struct ledger_anchor a;

		memset(&a, 0, sizeof(a));
		a.item = (uint64_t)sqlite3_column_int64(st, 0);
		a.record = (uint64_t)sqlite3_column_int64(st, 1);
		a.kind = (const char *)sqlite3_column_text(st, 2);
		a.payload = (const char *)sqlite3_column_text(st, 3);
		a.done = strcmp((const char *)sqlite3_column_text(st, 4), "done") == 0;
		a.ref = (const char *)sqlite3_column_text(st, 5);
		a.proof = (const char *)sqlite3_column_text(st, 6);
		a.have_expect = anchor_expect(ledger_db(l), a.kind, a.payload, a.expect, a.what,
		                    sizeof(a.what)) == 0;
		rc = fn(ctx, &a);
	}
	if (rc == 0 && s != SQLITE_DONE)
		rc = -1;
	sqlite3_finalize(st);
	return rc;
}
