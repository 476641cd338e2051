/* Auditing the log: full verification, inclusion and consistency proofs a third party can check. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
static const char *
evidence_type(const char *kind)
{
	if (strcmp(kind, "order") == 0)
		return "order";
	if (strcmp(kind, "payment") == 0)
		return "payment_ack";
	if (strcmp(kind, "exit") == 0)
		return "exit";
	if (strcmp(kind, "receipts") == 0)
		return "ack";
	return NULL;
}

/* Verifies a buyer signature over context || message. */
static int
check_signed(const uint8_t buyer[SDPP_SIGN_PUBLIC_BYTES], const char *message, const char *sigb64)
{
	uint8_t sig[SDPP_SIGN_BYTES];
	size_t n = strlen(message), sl;
	char *in;
	int rc;

	if (sigb64 == NULL ||
	    sdpp_b64_decode(sig, sizeof(sig), &sl, sigb64, strlen(sigb64)) != SDPP_OK ||
	    sl != SDPP_SIGN_BYTES)
		return -1;
	in = malloc(SDPP_SIG_CONTEXT_LEN + n);
	if (in == NULL)
		return -1;
	memcpy(in, SDPP_SIG_CONTEXT, SDPP_SIG_CONTEXT_LEN);
	memcpy(in + SDPP_SIG_CONTEXT_LEN, message, n);
	rc = sdpp_verify_raw(buyer, in, SDPP_SIG_CONTEXT_LEN + n, sig, sl) == SDPP_OK ? 0 : -1;
	free(in);
	return rc;
}

/* The ACKs a receipts record commits to: signatures and digest. */
static int
check_acks(struct ledger *l, uint64_t id, const uint8_t buyer[SDPP_SIGN_PUBLIC_BYTES],
    const cJSON *detail, struct ledger_verify_report *rep)
{
	sqlite3_stmt *st = NULL;
	struct ledger_ack *acks = NULL, *na;
	size_t n = 0, alloc = 0, i;
	uint8_t digest[SDPP_SHA256_BYTES], want[SDPP_SHA256_BYTES];
	const char *wanthex = jstr(detail, "acks_digest");
	int s, rc = -1;

	if (sqlite3_prepare_v2(ledger_db(l),
	        "SELECT seq, message, signature FROM acks WHERE"
	        " record = ? ORDER BY seq",
	        -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == alloc) {
			alloc = alloc == 0 ? 16 : alloc * 2;
			na = realloc(acks, alloc * sizeof(*acks));
			if (na == NULL)
				goto fail;
			acks = na;
		}
		memset(&acks[n], 0, sizeof(acks[n]));
		acks[n].seq = (uint64_t)sqlite3_column_int64(st, 0);
		acks[n].message = strdup((const char *)sqlite3_column_text(st, 1));
		acks[n].signature = strdup((const char *)sqlite3_column_text(st, 2));
		n++;
		if (acks[n - 1].message == NULL || acks[n - 1].signature == NULL)
			goto fail;
	}
	if (s != SQLITE_DONE)
		goto fail;
	rc = 1;
	if (wanthex == NULL || sdpp_hex_decode(want, sizeof(want), wanthex) != SDPP_OK) {
		report(rep, id, "record %" PRIu64 " (receipts): no acks_digest", id);
		goto fail;
	}
	if (n == 0 || ledger_acks_digest(digest, acks, n) != 0 ||
	    memcmp(digest, want, sizeof(want)) != 0) {
		report(rep, id,
		    "record %" PRIu64 " (receipts): the stored ACKs (%zu) do not match "
		    "the digest in the record",
		    id, n);
		goto fail;
	}
	for (i = 0; i < n; i++) {
		if (check_signed(buyer, acks[i].message, acks[i].signature) != 0) {
			report(rep, id,
			    "record %" PRIu64 " (receipts): ACK of item %" PRIu64
			    " has a bad buyer signature",
			    id, acks[i].seq);
			goto fail;
		}
		rep->acks++;
		rep->signatures++;
	}
	rc = 0;
fail:
	for (i = 0; i < n; i++)
		ledger_ack_clear(&acks[i]);
	free(acks);
	sqlite3_finalize(st);
	return rc;
}

/* Checks one record's body against its columns and its evidence. 0 ok, 1 bad. */
static int
check_record(struct ledger *l, sqlite3_stmt *st, uint64_t id, struct ledger_verify_report *rep)
{
	const char *body = (const char *)sqlite3_column_text(st, 7);
	size_t bodylen = (size_t)sqlite3_column_bytes(st, 7);
	const char *kind = (const char *)sqlite3_column_text(st, 1);
	cJSON *root = NULL, *ev_root = NULL;
	const cJSON *detail, *ev;
	const char *s, *ek;
	uint8_t buyer[SDPP_SIGN_PUBLIC_BYTES], oid[SDPP_ORDER_ID_BYTES];
	char *canon = NULL, amount[SDPP_MONEY_LEN], idhex[SDPP_HEX_LEN(SDPP_ORDER_ID_BYTES)];
	size_t clen;
	uint64_t v = 0;
	int bad = 1, have_buyer;

	if (body == NULL || kind == NULL ||
	    sdpp_json_parse(&root, body, bodylen, NULL, 0) != SDPP_OK) {
		report(rep, id, "record %" PRIu64 ": body is not valid JSON", id);
		goto out;
	}
	if (sdpp_jcs_serialize_int(root, LEDGER_BODY_MAX, &canon, &clen) != SDPP_OK ||
	    clen != bodylen || memcmp(canon, body, clen) != 0) {
		report(rep, id, "record %" PRIu64 ": body is not in canonical form", id);
		goto out;
	}
	if (jnum(root, "index", &v) != 0 || v != id - 1) {
		report(rep, id,
		    "record %" PRIu64 ": body says it is record %" PRIu64
		    " (rows reordered or replaced)",
		    id, v + 1);
		goto out;
	}
	s = jstr(root, "kind");
	if (s == NULL || strcmp(s, kind) != 0) {
		report(rep, id, "record %" PRIu64 ": kind column `%s' differs from the body", id,
		    kind);
		goto out;
	}
	if (jnum(root, "time", &v) != 0 || (int64_t)v != sqlite3_column_int64(st, 2) ||
	    (s = jstr(root, "order_id")) == NULL ||
	    strcmp(s, (const char *)sqlite3_column_text(st, 3)) != 0 ||
	    (s = jstr(root, "buyer")) == NULL ||
	    strcmp(s, (const char *)sqlite3_column_text(st, 4)) != 0) {
		report(rep, id,
		    "record %" PRIu64 " (%s): time, order_id or buyer column differs "
		    "from the body",
		    id, kind);
		goto out;
	}
	have_buyer = sdpp_hex_decode(buyer, sizeof(buyer), s) == SDPP_OK;
	detail = jget(root, "detail");
	if (!cJSON_IsObject(detail)) {
		report(rep, id, "record %" PRIu64 " (%s): no detail", id, kind);
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
		report(rep, id, "record %" PRIu64 " (%s): amount column `%s' differs from the body",
		    id, kind, amount);
		goto out;
	}
	v = 0;
	if ((strcmp(kind, "invoice") == 0 || strcmp(kind, "payment") == 0) &&
	    jnum(detail, "invoice", &v) != 0)
		v = UINT64_MAX;
	if ((uint64_t)sqlite3_column_int64(st, 5) != v) {
		report(rep, id, "record %" PRIu64 " (%s): invoice column differs from the body", id,
		    kind);
		goto out;
	}
	ek = evidence_type(kind);
	ev = jget(root, "evidence");
	if (ek != NULL) {
		const char *msg = jstr(ev, "message");
		const cJSON *evd;

		if (!have_buyer || msg == NULL ||
		    check_signed(buyer, msg, jstr(ev, "signature")) != 0) {
			report(rep, id, "record %" PRIu64 " (%s): buyer signature does not verify",
			    id, kind);
			goto out;
		}
		rep->signatures++;
		/* What the buyer signed must be what the record claims. */
		if (sdpp_json_parse(&ev_root, msg, strlen(msg), NULL, 0) != SDPP_OK ||
		    (s = jstr(ev_root, "message_type")) == NULL || strcmp(s, ek) != 0 ||
		    !cJSON_IsObject(evd = jget(ev_root, "data"))) {
			report(rep, id, "record %" PRIu64 " (%s): evidence is not a signed %s", id,
			    kind, ek);
			goto out;
		}
		if (strcmp(kind, "order") == 0) {
			struct sdpp_iov iov[2] = {
				{ SDPP_SIG_CONTEXT, SDPP_SIG_CONTEXT_LEN },
				{ msg, strlen(msg) },
			};

			if (sdpp_sha256(oid, iov, 2) != SDPP_OK)
				goto out;
			sdpp_hex_encode(idhex, oid, sizeof(oid));
			s = jstr(evd, "buyer");
		} else {
			snprintf(idhex, sizeof(idhex), "%s",
			    jstr(evd, "order_id") != NULL ? jstr(evd, "order_id") : "");
			s = jstr(root, "buyer");
		}
		if (strcmp(idhex, jstr(root, "order_id")) != 0 || s == NULL ||
		    strcmp(s, jstr(root, "buyer")) != 0) {
			report(rep, id,
			    "record %" PRIu64 " (%s): signed message is for another "
			    "order or buyer",
			    id, kind);
			goto out;
		}
	} else if (ev != NULL) {
		report(rep, id, "record %" PRIu64 " (%s): unexpected evidence", id, kind);
		goto out;
	}
	if (strcmp(kind, "receipts") == 0 && check_acks(l, id, buyer, detail, rep) != 0)
		goto out;
	bad = 0;
out:
	free(canon);
	cJSON_Delete(root);
	cJSON_Delete(ev_root);
	return bad;
}

int
ledger_verify(struct ledger *l, const uint8_t *expect_key, struct ledger_verify_report *rep)
{
	sqlite3_stmt *st = NULL;
	struct sth *sths = NULL;
	size_t nsth = 0, next = 0;
	struct merkle_frontier f;
	merkle_hash leaf, root;
	uint64_t id, prev_sth = 0;
	int s, rc = -1;

	memset(rep, 0, sizeof(*rep));
	merkle_frontier_init(&f);
	if (expect_key != NULL && memcmp(expect_key, ledger_key(l), SDPP_SIGN_PUBLIC_BYTES) != 0) {
		report(rep, 0, "log key %s is not the expected key", ledger_keyhex(l));
		return 1;
	}
	if (load_sths(l, &sths, &nsth) != 0)
		return -1;
	if (sqlite3_prepare_v2(ledger_db(l),
	        "SELECT id, kind, time, order_id, buyer, invoice,"
	        " amount, body, leaf_hash FROM records ORDER BY id",
	        -1, &st, NULL) != SQLITE_OK)
		goto out;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		id = (uint64_t)sqlite3_column_int64(st, 0);
		if (id != f.size + 1) {
			report(rep, f.size + 1,
			    "record %" PRIu64 " is missing (next present is %" PRIu64 ")",
			    f.size + 1, id);
			break;
		}
		if (merkle_leaf_hash(
		        leaf, sqlite3_column_text(st, 7), (size_t)sqlite3_column_bytes(st, 7)) != 0)
			goto out;
		if (sqlite3_column_bytes(st, 8) != MERKLE_HASH_BYTES ||
		    memcmp(leaf, sqlite3_column_blob(st, 8), MERKLE_HASH_BYTES) != 0) {
			report(
			    rep, id, "record %" PRIu64 ": body does not match its leaf hash", id);
			break;
		}
		if (check_record(l, st, id, rep) != 0)
			break;
		if (merkle_frontier_push(&f, leaf) != 0)
			goto out;
		rep->records++;
		while (next < nsth && sths[next].size <= f.size) {
			const struct sth *h = &sths[next];

			if (h->size < f.size || merkle_frontier_root(&f, root) != 0 ||
			    memcmp(root, h->root, MERKLE_HASH_BYTES) != 0) {
				report(rep, prev_sth + 1,
				    "tree head at size %" PRIu64 " does not match "
				    "records %" PRIu64 "..%" PRIu64 ": one of them was changed",
				    h->size, prev_sth + 1, h->size);
				break;
			}
			if (ledger_sth_verify(ledger_key(l), h->size, h->root, h->time, h->sig) !=
			    0) {
				report(rep, h->size,
				    "tree head at size %" PRIu64 " has a bad signature", h->size);
				break;
			}
			rep->tree_heads++;
			prev_sth = h->size;
			next++;
		}
		if (rep->problem[0] != '\0')
			break;
	}
	if (rep->problem[0] == '\0' && next < nsth)
		report(rep, f.size + 1,
		    "tree head at size %" PRIu64 " but only %" PRIu64
		    " records: records were deleted",
		    sths[next].size, f.size);
	if (rep->problem[0] == '\0') {
		sqlite3_stmt *o = NULL;

		if (sqlite3_prepare_v2(ledger_db(l),
		        "SELECT COUNT(*) FROM acks WHERE record NOT IN"
		        " (SELECT id FROM records WHERE kind = 'receipts')",
		        -1, &o, NULL) == SQLITE_OK &&
		    sqlite3_step(o) == SQLITE_ROW && sqlite3_column_int64(o, 0) != 0)
			report(rep, 0, "%lld ACKs are not committed to by any receipts record",
			    (long long)sqlite3_column_int64(o, 0));
		sqlite3_finalize(o);
	}
	rc = rep->problem[0] != '\0' ? 1 : 0;
out:
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
