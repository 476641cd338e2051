/* The records medium: an append-only, tamper-evident log on SQLite (an RFC 9162 tree). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "ledger/ledger.h"
#include "ledger/ledger_int.h"
#include "sdpp/enc.h"
#include "sdpp/json.h"
#include "util/clock.h"
#include "util/text.h"

#define SCHEMA_VERSION "1"
/* Tree head signature input: this context, then JCS of the head. */
#define OUTBOX_BATCH 64
#define BACKOFF_FIRST_MS 1000
#define BACKOFF_MAX_MS 600000

/*
 * Tables: `records` is the log (id = leaf index + 1; body is the leaf data;
 * the other columns are copies for queries), `tree_heads` the signed heads,
 * `acks` every signed ACK (committed to by receipts records), `outbox` the
 * durable queue for remote anchoring, `meta` the log key and `head`: a copy
 * of the latest signed tree head with its frontier (check_log). The views
 * give auditors readable tables in the sqlite3 shell.
 */
static const char schema[] =
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS records("
    " id INTEGER PRIMARY KEY, kind TEXT NOT NULL, time INTEGER NOT NULL,"
    " order_id TEXT NOT NULL, buyer TEXT NOT NULL, invoice INTEGER NOT NULL,"
    " amount TEXT NOT NULL, body TEXT NOT NULL, leaf_hash BLOB NOT NULL);"
    "CREATE INDEX IF NOT EXISTS records_order ON records(order_id);"
    "CREATE INDEX IF NOT EXISTS records_buyer ON records(buyer);"
    "CREATE INDEX IF NOT EXISTS records_time ON records(time);"
    "CREATE TABLE IF NOT EXISTS payment_refs(ref TEXT PRIMARY KEY, record INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS tree_heads("
    " size INTEGER PRIMARY KEY, root TEXT NOT NULL, time INTEGER NOT NULL,"
    " signature TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS acks("
    " order_id TEXT NOT NULL, seq INTEGER NOT NULL, record INTEGER NOT NULL,"
    " message TEXT NOT NULL, signature TEXT NOT NULL, PRIMARY KEY(order_id, seq));"
    "CREATE TABLE IF NOT EXISTS outbox("
    " item INTEGER PRIMARY KEY, record INTEGER, kind TEXT NOT NULL, payload TEXT NOT NULL,"
    " state TEXT NOT NULL DEFAULT 'pending', attempts INTEGER NOT NULL DEFAULT 0,"
    " next_attempt INTEGER NOT NULL DEFAULT 0, ref TEXT, last_error TEXT);"
    "CREATE INDEX IF NOT EXISTS outbox_due ON outbox(state, next_attempt);"
    "CREATE TABLE IF NOT EXISTS held("
    " order_id TEXT NOT NULL, kind TEXT NOT NULL, since INTEGER NOT NULL, time INTEGER NOT NULL,"
    " buyer TEXT NOT NULL, invoice INTEGER NOT NULL, amount TEXT NOT NULL, detail TEXT NOT NULL,"
    " evidence TEXT, first_invoice INTEGER NOT NULL, first_seq INTEGER NOT NULL,"
    " amount_sum TEXT NOT NULL, record_first_seq INTEGER NOT NULL, ack_seq INTEGER,"
    " ack_message TEXT, ack_signature TEXT, PRIMARY KEY(order_id, kind));"
    "CREATE VIEW IF NOT EXISTS invoices AS SELECT id, time, order_id, buyer, invoice,"
    " amount, json_extract(body, '$.detail.total_due') AS total_due,"
    " json_extract(body, '$.detail.first_seq') AS first_seq,"
    " json_extract(body, '$.detail.last_seq') AS last_seq FROM records WHERE kind = 'invoice';"
    "CREATE VIEW IF NOT EXISTS payments AS SELECT id, time, order_id, buyer, invoice,"
    " amount AS total, json_extract(body, '$.detail.method') AS method"
    " FROM records WHERE kind = 'payment';"
    "CREATE VIEW IF NOT EXISTS orders AS SELECT id, time, order_id, buyer,"
    " json_extract(body, '$.detail.product') AS product,"
    " json_extract(body, '$.detail.quantity') AS quantity, amount AS price"
    " FROM records WHERE kind = 'order';";

struct pending {
	uint64_t id; /* 0: a held payment, queued for its reference only */
	int held;
	struct ledger_record rec; /* detail/evidence owned; acks copied below */
	struct ledger_ack *acks;
	size_t nacks;
	char *body;
	size_t bodylen;
	merkle_hash leaf;
};

struct inflight {
	uint64_t item;
};

struct ledger {
	sqlite3 *db;
	const struct sdpp_identity *id;
	uint8_t key[SDPP_SIGN_PUBLIC_BYTES];
	char keyhex[SDPP_HEX_LEN(SDPP_SIGN_PUBLIC_BYTES)];
	struct ledger_config cfg;
	uint64_t committed;              /* records on disk */
	uint64_t last_sth;               /* size of the latest signed tree head */
	uint64_t last_anchored;          /* size of the latest tree head queued for anchoring */
	struct merkle_frontier frontier; /* over committed records */
	struct pending *q;
	size_t qlen, qalloc;
	uint64_t qrecs;    /* log records in q (held payments are not) */
	struct held *held; /* open orders' latest invoice, payment, receipts */
	struct ledger_remote remote;
	int have_remote;
	struct inflight *fl;
	size_t nfl, flalloc;
	int force_sth;        /* the next commit signs a tree head whatever sth_every says */
	uint64_t interrupted; /* orders closed as interrupted by ledger_open */
};

/* A signed tree head as the start check reads it: from tree_heads, or the
 * copy in meta `head' with the frontier it was signed over. */
struct head {
	int have;
	uint64_t size;
	merkle_hash root;
	int64_t time;
	uint8_t sig[SDPP_SIGN_BYTES];
	int have_frontier;
	struct merkle_frontier frontier;
};

static void queue_drop(struct ledger *l);
static int checkpoint_due(struct ledger *l, int64_t cutoff, char *err, size_t errlen);

int
ledger_db_exec(sqlite3 *db, const char *sql, char *err, size_t errlen)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		util_errf(err, errlen, "%s: %s", sqlite3_db_filename(db, "main"),
		    msg != NULL ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

static int
exec(struct ledger *l, const char *sql, char *err, size_t errlen)
{
	return ledger_db_exec(l->db, sql, err, errlen);
}

static int
prepare(struct ledger *l, sqlite3_stmt **st, const char *sql, char *err, size_t errlen)
{
	if (sqlite3_prepare_v2(l->db, sql, -1, st, NULL) != SQLITE_OK) {
		util_errf(err, errlen, "%s: %s", sqlite3_db_filename(l->db, "main"),
		    sqlite3_errmsg(l->db));
		*st = NULL;
		return -1;
	}
	return 0;
}

void
ledger_id_format(char *buf, uint64_t id)
{
	snprintf(buf, LEDGER_ID_LEN, LEDGER_ID_PREFIX "%" PRIu64, id);
}

/* The newest row of tree_heads (h->have = 0 if none). */
static int
table_head(struct ledger *l, struct head *h, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	size_t len = 0;
	int rc = -1;

	memset(h, 0, sizeof(*h));
	if (prepare(l, &st,
	        "SELECT size, root, time, signature FROM tree_heads ORDER BY size DESC LIMIT 1",
	        err, errlen) != 0)
		return -1;
	if (sqlite3_step(st) != SQLITE_ROW) {
		rc = 0;
		goto out;
	}
	h->size = (uint64_t)sqlite3_column_int64(st, 0);
	h->time = sqlite3_column_int64(st, 2);
	if (sqlite3_column_type(st, 1) != SQLITE_TEXT ||
	    sqlite3_column_type(st, 3) != SQLITE_TEXT ||
	    sdpp_hex_decode(h->root, sizeof(h->root), (const char *)sqlite3_column_text(st, 1)) !=
	        SDPP_OK ||
	    sdpp_b64_decode(h->sig, sizeof(h->sig), &len, (const char *)sqlite3_column_text(st, 3),
	        (size_t)sqlite3_column_bytes(st, 3)) != SDPP_OK ||
	    len != sizeof(h->sig)) {
		util_errf(err, errlen, "tree head at size %" PRIu64 " is malformed", h->size);
		goto out;
	}
	h->have = 1;
	rc = 0;
out:
	sqlite3_finalize(st);
	return rc;
}

/* The copy of the latest signed tree head in meta `head', with its
 * frontier: {"frontier":[hex...],"root","signature","size","time"}. */
static int
meta_head(struct ledger *l, struct head *h, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	merkle_hash nodes[64];
	cJSON *o = NULL;
	const cJSON *v, *fr, *n;
	size_t len = 0;
	int rc = -1, count = 0;

	memset(h, 0, sizeof(*h));
	if (prepare(l, &st, "SELECT value FROM meta WHERE key = 'head'", err, errlen) != 0)
		return -1;
	if (sqlite3_step(st) != SQLITE_ROW) {
		rc = 0;
		goto out;
	}
	if (sdpp_json_parse(&o, (const char *)sqlite3_column_text(st, 0),
	        (size_t)sqlite3_column_bytes(st, 0), NULL, 0) != SDPP_OK)
		goto bad;
	v = cJSON_GetObjectItemCaseSensitive(o, "size");
	if (!cJSON_IsNumber(v) || v->valuedouble < 1 || v->valuedouble > (double)SDPP_JSON_INT_MAX)
		goto bad;
	h->size = (uint64_t)v->valuedouble;
	v = cJSON_GetObjectItemCaseSensitive(o, "time");
	if (!cJSON_IsNumber(v))
		goto bad;
	h->time = (int64_t)v->valuedouble;
	v = cJSON_GetObjectItemCaseSensitive(o, "root");
	if (!cJSON_IsString(v) ||
	    sdpp_hex_decode(h->root, sizeof(h->root), v->valuestring) != SDPP_OK)
		goto bad;
	v = cJSON_GetObjectItemCaseSensitive(o, "signature");
	if (!cJSON_IsString(v) ||
	    sdpp_b64_decode(h->sig, sizeof(h->sig), &len, v->valuestring, strlen(v->valuestring)) !=
	        SDPP_OK ||
	    len != sizeof(h->sig))
		goto bad;
	fr = cJSON_GetObjectItemCaseSensitive(o, "frontier");
	if (!cJSON_IsArray(fr))
		goto bad;
	cJSON_ArrayForEach(n, fr)
	{
		if (count == 64 || !cJSON_IsString(n) ||
		    sdpp_hex_decode(nodes[count], MERKLE_HASH_BYTES, n->valuestring) != SDPP_OK)
			goto bad;
		count++;
	}
	if (merkle_frontier_set(&h->frontier, h->size, (const merkle_hash *)nodes, count) != 0)
		goto bad;
	h->have = h->have_frontier = 1;
	rc = 0;
	goto out;
bad:
	util_errf(err, errlen, "the copy of the latest tree head (meta `head') is malformed");
out:
	cJSON_Delete(o);
	sqlite3_finalize(st);
	return rc;
}

/* The meta `head' value for a tree head signed over frontier f (malloc'd). */
static char *
meta_head_text(const struct merkle_frontier *f, const char *rhex, const char *sigb64, int64_t time)
{
	char hex[SDPP_HEX_LEN(MERKLE_HASH_BYTES)], *buf;
	size_t cap = 512 + (size_t)f->count * (sizeof(hex) + 3), off;
	int i, n;

	buf = malloc(cap);
	if (buf == NULL)
		return NULL;
	off = (size_t)snprintf(buf, cap, "{\"frontier\":[");
	for (i = 0; i < f->count; i++) {
		sdpp_hex_encode(hex, f->node[i], MERKLE_HASH_BYTES);
		off += (size_t)snprintf(buf + off, cap - off, "%s\"%s\"", i > 0 ? "," : "", hex);
	}
	n = snprintf(buf + off, cap - off,
	    "],\"root\":\"%s\",\"signature\":\"%s\",\"size\":%" PRIu64 ",\"time\":%" PRId64 "}",
	    rhex, sigb64, f->size, time);
	if (n < 0 || (size_t)n >= cap - off) {
		free(buf);
		return NULL;
	}
	return buf;
}

static int
head_signed(const struct ledger *l, const struct head *h)
{
	return ledger_sth_verify(l->key, h->size, h->root, h->time, h->sig) == 0;
}

/*
 * Records first..first+n-1 (1-based ids) hold the first leaf where the
 * stored leaves and the signed frontier part: names the narrowest range the
 * file allows (a rewritten leaf hash leaves no trace of the original).
 */
static void
mismatch(struct ledger *l, const struct head *h, const struct merkle_frontier *got, uint64_t lo,
    char *err, size_t errlen)
{
	uint64_t first = 0, n = h->size;
	int i;

	if (h->have_frontier && got->count == h->frontier.count)
		for (i = 0; i < got->count; i++)
			if (memcmp(got->node[i], h->frontier.node[i], MERKLE_HASH_BYTES) != 0) {
				merkle_frontier_span(&h->frontier, i, &first, &n);
				break;
			}
	if (first < lo && lo < first + n) {
		n -= lo - first;
		first = lo;
	}
	if (n == 1)
		util_errf(err, errlen,
		    "%s: record %" PRIu64 ": its leaf hash was changed: the log does not match "
		    "its signed tree head at size %" PRIu64 "; run `sdpp ledger verify`",
		    sqlite3_db_filename(l->db, "main"), first + 1, h->size);
	else
		util_errf(err, errlen,
		    "%s: the log does not match its signed tree head at size %" PRIu64
		    ": a leaf hash of records %" PRIu64 "-%" PRIu64
		    " was changed; run `sdpp ledger verify`",
		    sqlite3_db_filename(l->db, "main"), h->size, first + 1, first + n);
}

/*
 * The records after the newest signed tree head carry no signature yet:
 * each body must hash to its stored leaf before a new head signs it.
 */
static int
check_tail(struct ledger *l, uint64_t after, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	merkle_hash leaf;
	int rc = -1, s;

	if (prepare(l, &st, "SELECT id, body, leaf_hash FROM records WHERE id > ? ORDER BY id", err,
	        errlen) != 0)
		return -1;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)after);
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		const void *body = sqlite3_column_text(st, 1);

		if (body == NULL ||
		    merkle_leaf_hash(leaf, body, (size_t)sqlite3_column_bytes(st, 1)) != 0 ||
		    sqlite3_column_bytes(st, 2) != MERKLE_HASH_BYTES ||
		    memcmp(leaf, sqlite3_column_blob(st, 2), MERKLE_HASH_BYTES) != 0) {
			util_errf(err, errlen,
			    "%s: record %" PRIu64 ": its body does not hash to its leaf; run "
			    "`sdpp ledger verify`",
			    sqlite3_db_filename(l->db, "main"),
			    (uint64_t)sqlite3_column_int64(st, 0));
			goto out;
		}
	}
	if (s != SQLITE_DONE) {
		util_errf(err, errlen, "reading records: %s", sqlite3_errmsg(l->db));
		goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(st);
	return rc;
}

/*
 * Reads meta, counts records, rebuilds the frontier from stored leaf hashes.
 *
 * A writer (strict) first checks the log against its own latest signed
 * tree head, because its next tree head would sign whatever the file holds
 * now: the newest head in tree_heads and the copy in meta `head' (which a
 * forger deleting tree heads may overlook) must carry good signatures; the
 * stored leaf hashes must give their signed roots (the frontier in meta
 * names where they part); no head may cover more records than are present;
 * heads in meta may not be missing from tree_heads; and the records after
 * the newest head must hash to their stored leaves. Bodies under a signed
 * head are not re-hashed here (that is `sdpp ledger verify`): a body
 * changed under a head is not endorsed either, since new heads grow from
 * the signed frontier. An auditor (strict = 0) opens any log so that
 * verify can say what is wrong.
 */
static int
load_state(struct ledger *l, int strict, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	struct head ht, hm;
	struct merkle_frontier at_t, at_m;
	merkle_hash root;
	uint64_t newest;
	int rc = -1, s;

	memset(&ht, 0, sizeof(ht));
	memset(&hm, 0, sizeof(hm));
	merkle_frontier_init(&l->frontier);
	merkle_frontier_init(&at_t);
	merkle_frontier_init(&at_m);
	if (strict) {
		if (table_head(l, &ht, err, errlen) != 0 || meta_head(l, &hm, err, errlen) != 0)
			return -1;
		if (ht.have && !head_signed(l, &ht))
			return util_errf(err, errlen,
			    "%s: tree head at size %" PRIu64 " has a bad signature; run "
			    "`sdpp ledger verify`",
			    sqlite3_db_filename(l->db, "main"), ht.size);
		if (hm.have &&
		    (!head_signed(l, &hm) || merkle_frontier_root(&hm.frontier, root) != 0 ||
		        memcmp(root, hm.root, MERKLE_HASH_BYTES) != 0))
			return util_errf(err, errlen,
			    "%s: the copy of the tree head at size %" PRIu64
			    " (meta `head') has a bad signature or frontier",
			    sqlite3_db_filename(l->db, "main"), hm.size);
	}
	if (prepare(l, &st, "SELECT id, leaf_hash FROM records ORDER BY id", err, errlen) != 0)
		return -1;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		if ((uint64_t)sqlite3_column_int64(st, 0) != l->frontier.size + 1 ||
		    sqlite3_column_bytes(st, 1) != MERKLE_HASH_BYTES) {
			if (!strict)
				break;
			util_errf(err, errlen,
			    "%s: record %" PRIu64 " is missing or damaged; run "
			    "`sdpp ledger verify`",
			    sqlite3_db_filename(l->db, "main"), l->frontier.size + 1);
			goto fail;
		}
		if (merkle_frontier_push(&l->frontier, sqlite3_column_blob(st, 1)) != 0)
			goto fail;
		if (l->frontier.size == ht.size)
			at_t = l->frontier;
		if (l->frontier.size == hm.size)
			at_m = l->frontier;
	}
	if (s != SQLITE_DONE && (strict || s != SQLITE_ROW)) {
		util_errf(err, errlen, "reading records: %s", sqlite3_errmsg(l->db));
		goto fail;
	}
	l->committed = l->frontier.size;
	sqlite3_finalize(st);
	st = NULL;
	if (!strict) {
		if (prepare(l, &st, "SELECT COALESCE(MAX(size), 0) FROM tree_heads", err, errlen) !=
		    0)
			goto fail;
		if (sqlite3_step(st) == SQLITE_ROW)
			l->last_sth = (uint64_t)sqlite3_column_int64(st, 0);
		rc = 0;
		goto fail;
	}
	newest = ht.size > hm.size ? ht.size : hm.size;
	if (newest > l->committed) {
		util_errf(err, errlen,
		    "%s: the newest signed tree head covers %" PRIu64 " records but only %" PRIu64
		    " are present: records after %" PRIu64 " were deleted",
		    sqlite3_db_filename(l->db, "main"), newest, l->committed, l->committed);
		goto fail;
	}
	/* The smaller head first: it bounds the range the larger one names. */
	if (ht.have && ht.size <= hm.size) {
		if (merkle_frontier_root(&at_t, root) != 0 ||
		    memcmp(root, ht.root, MERKLE_HASH_BYTES) != 0) {
			if (ht.size == hm.size)
				ht = hm;
			mismatch(l, &ht, &at_t, 0, err, errlen);
			goto fail;
		}
	}
	if (hm.have && (merkle_frontier_root(&at_m, root) != 0 ||
	                   memcmp(root, hm.root, MERKLE_HASH_BYTES) != 0)) {
		mismatch(l, &hm, &at_m, ht.have && ht.size < hm.size ? ht.size : 0, err, errlen);
		goto fail;
	}
	if (ht.have && ht.size > hm.size) {
		if (merkle_frontier_root(&at_t, root) != 0 ||
		    memcmp(root, ht.root, MERKLE_HASH_BYTES) != 0) {
			mismatch(l, &ht, &at_t, hm.size, err, errlen);
			goto fail;
		}
	}
	if (hm.have && ht.size < hm.size) {
		util_errf(err, errlen,
		    "%s: signed tree heads after size %" PRIu64 " were deleted from tree_heads "
		    "(the newest, at size %" PRIu64 ", is kept in meta `head')",
		    sqlite3_db_filename(l->db, "main"), ht.size, hm.size);
		goto fail;
	}
	if (check_tail(l, newest, err, errlen) != 0)
		goto fail;
	l->last_sth = newest;
	rc = 0;
fail:
	sqlite3_finalize(st);
	return rc;
}

static int
meta_get(struct ledger *l, const char *key, char *val, size_t vallen)
{
	sqlite3_stmt *st = NULL;
	int rc = -1;

	if (prepare(l, &st, "SELECT value FROM meta WHERE key = ?", NULL, 0) != 0)
		return -1;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		snprintf(val, vallen, "%s", (const char *)sqlite3_column_text(st, 0));
		rc = 0;
	}
	sqlite3_finalize(st);
	return rc;
}

/* 1 if the database has no table at all (a new or zero-length file). */
static int
db_is_empty(struct ledger *l)
{
	sqlite3_stmt *st = NULL;
	int empty = 0;

	if (prepare(l, &st, "SELECT count(*) FROM sqlite_master", NULL, 0) != 0)
		return 0;
	if (sqlite3_step(st) == SQLITE_ROW)
		empty = sqlite3_column_int64(st, 0) == 0;
	sqlite3_finalize(st);
	return empty;
}

static int
open_db(struct ledger **out, const char *path, int flags, char *err, size_t errlen)
{
	struct ledger *l = calloc(1, sizeof(*l));

	*out = NULL;
	if (l == NULL) {
		util_errf(err, errlen, "out of memory");
		return -1;
	}
	if (sqlite3_open_v2(path, &l->db, flags, NULL) != SQLITE_OK) {
		util_errf(err, errlen, "%s: %s", path,
		    l->db != NULL ? sqlite3_errmsg(l->db) : "cannot open");
		ledger_close(l);
		return -1;
	}
	sqlite3_busy_timeout(l->db, 5000);
	*out = l;
	return 0;
}

int
ledger_outbox_has_proof(struct ledger *l)
{
	sqlite3_stmt *st = NULL;
	int have = 0;

	if (prepare(l, &st, "SELECT COUNT(*) FROM pragma_table_info('outbox') WHERE name = 'proof'",
	        NULL, 0) != 0)
		return 0;
	if (sqlite3_step(st) == SQLITE_ROW)
		have = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return have;
}

/* Ledgers written before the outbox kept proofs gain the column. */
static int
migrate(struct ledger *l, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;

	if (!ledger_outbox_has_proof(l) &&
	    exec(l, "ALTER TABLE outbox ADD COLUMN proof TEXT", err, errlen) != 0)
		return -1;
	if (prepare(l, &st,
	        "SELECT MAX(json_extract(payload, '$.size')) FROM outbox"
	        " WHERE kind = 'tree_head'",
	        err, errlen) != 0)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		l->last_anchored = (uint64_t)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return 0;
}

int
ledger_check_writable(const char *path, char *err, size_t errlen)
{
	static const char *const sidecars[] = { "-wal", "-shm" };
	char dir[4096], side[4096 + 8];
	const char *slash = strrchr(path, '/');
	struct stat st;
	size_t i;
	int fd;

	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else if ((size_t)(slash - path) < sizeof(dir))
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	else
		return util_errf(err, errlen, "%s: path too long", path);
	if (stat(dir, &st) != 0)
		return util_errf(err, errlen, "%s: the directory %s %s", path, dir,
		    errno == ENOENT ? "does not exist" : strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return util_errf(err, errlen, "%s: %s is not a directory", path, dir);
	/* The WAL and its index are created beside the file. */
	if (access(dir, W_OK | X_OK) != 0)
		return util_errf(
		    err, errlen, "%s: cannot write in %s: %s", path, dir, strerror(errno));
	if (stat(path, &st) != 0) {
		if (errno == ENOENT)
			return 0; /* created at the first open */
		return util_errf(err, errlen, "%s: %s", path, strerror(errno));
	}
	/* A file made read-only was meant to stay so, even for root (who
	 * could write it all the same). */
	if (!S_ISREG(st.st_mode))
		return util_errf(err, errlen, "%s: not a regular file", path);
	if (!(st.st_mode & S_IWUSR))
		return util_errf(err, errlen,
		    "%s: read-only (mode %04o): the gateway records every sale in it", path,
		    (unsigned)(st.st_mode & 07777));
	for (i = 0; i <= sizeof(sidecars) / sizeof(sidecars[0]); i++) {
		const char *p = path;

		if (i > 0) {
			snprintf(side, sizeof(side), "%s%s", path, sidecars[i - 1]);
			p = side;
			if (access(p, F_OK) != 0)
				continue;
		}
		/* Immutable files (chattr +i) and read-only mounts refuse here. */
		fd = open(p, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			return util_errf(err, errlen, "%s: cannot be opened for writing: %s", p,
			    strerror(errno));
		close(fd);
	}
	return 0;
}

static int
account_cb(void *ctx, const struct ledger_account *a)
{
	*(struct ledger_account *)ctx = *a;
	return 0;
}

/*
 * Orders with an order record and no close record were cut short by a
 * crash: each gets a close record with reason `interrupted' and what the
 * ledger itself proves (the buyer's acknowledged high-water mark as
 * delivered, its invoices, its payments), in one commit with a signed
 * tree head.
 */
static int
close_interrupted(struct ledger *l, int64_t now, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	char(*ids)[SDPP_HEX_LEN(SDPP_ORDER_ID_BYTES)] = NULL,
	(*nids)[SDPP_HEX_LEN(SDPP_ORDER_ID_BYTES)];
	size_t n = 0, alloc = 0, i;
	int rc = -1, s;

	/* First what the crash left held: into the log, so that the closes
	 * below count it (and no order keeps held records without an end). */
	if (ledger_held_orders(l->held) > 0 && (checkpoint_due(l, INT64_MAX, err, errlen) < 0 ||
	                                           ledger_commit(l, now, err, errlen) != 0))
		goto out;
	if (prepare(l, &st,
	        "SELECT o.order_id FROM records o WHERE o.kind = 'order' AND NOT EXISTS"
	        " (SELECT 1 FROM records c WHERE c.order_id = o.order_id AND c.kind = 'close')"
	        " ORDER BY o.id",
	        err, errlen) != 0)
		return -1;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == alloc) {
			alloc = alloc == 0 ? 16 : alloc * 2;
			nids = realloc(ids, alloc * sizeof(*ids));
			if (nids == NULL) {
				util_errf(err, errlen, "out of memory");
				goto out;
			}
			ids = nids;
		}
		snprintf(ids[n++], sizeof(ids[0]), "%s", (const char *)sqlite3_column_text(st, 0));
	}
	if (s != SQLITE_DONE) {
		util_errf(err, errlen, "reading orders: %s", sqlite3_errmsg(l->db));
		goto out;
	}
	for (i = 0; i < n; i++) {
		struct ledger_account a;
		struct ledger_record r;
		struct sdpp_progress p;
		uint8_t oid[SDPP_ORDER_ID_BYTES], buyer[SDPP_SIGN_PUBLIC_BYTES];
		uint64_t id;

		memset(&a, 0, sizeof(a));
		if (ledger_accounts(l, ids[i], NULL, account_cb, &a, err, errlen) != 0)
			goto out;
		if (sdpp_hex_decode(oid, sizeof(oid), a.order_id) != SDPP_OK ||
		    sdpp_hex_decode(buyer, sizeof(buyer), a.buyer) != SDPP_OK) {
			util_errf(err, errlen, "order %s: malformed order id or buyer", ids[i]);
			goto out;
		}
		memset(&p, 0, sizeof(p));
		p.quantity = a.quantity;
		p.price = a.price;
		p.sent = p.acked = a.acknowledged;
		p.invoiced = a.invoiced_items;
		p.total_due = a.invoiced > a.promised ? a.invoiced : a.promised;
		p.total_paid = a.paid;
		if (ledger_record_close(&r, oid, buyer, a.product, &p, "interrupted", now) != 0) {
			util_errf(err, errlen, "order %s: cannot build its close record", ids[i]);
			goto out;
		}
		s = ledger_append(l, &r, &id, err, errlen);
		ledger_record_clear(&r);
		if (s != 0)
			goto out;
	}
	if (n > 0) {
		l->force_sth = 1;
		if (ledger_commit(l, now, err, errlen) != 0)
			goto out;
	}
	l->interrupted = n;
	rc = 0;
out:
	queue_drop(l);
	free(ids);
	sqlite3_finalize(st);
	return rc;
}

uint64_t
ledger_interrupted(const struct ledger *l)
{
	return l->interrupted;
}

int
ledger_open(struct ledger **out, const struct ledger_config *cfg, char *err, size_t errlen)
{
	struct ledger *l;
	char stored[SDPP_HEX_LEN(SDPP_SIGN_PUBLIC_BYTES) + 8];
	sqlite3_stmt *st = NULL;

	if (cfg->id == NULL || cfg->path == NULL) {
		util_errf(err, errlen, "ledger: no path or key");
		return -1;
	}
	if (ledger_check_writable(cfg->path, err, errlen) != 0)
		return -1;
	if (open_db(&l, cfg->path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, err, errlen) != 0)
		return -1;
	/* SQLite quietly opens a file it cannot write read-only: the first
	 * commit would fail, after a buyer was told the order is on. */
	if (sqlite3_db_readonly(l->db, "main") != 0) {
		util_errf(err, errlen, "%s: cannot be opened for writing", cfg->path);
		goto fail;
	}
	l->cfg = *cfg;
	l->id = cfg->id;
	sdpp_identity_sign_public(cfg->id, l->key);
	sdpp_hex_encode(l->keyhex, l->key, sizeof(l->key));
	/*
	 * WAL lets auditors read while the gateway writes. synchronous=FULL
	 * fsyncs the WAL at every commit: with NORMAL a power cut can lose the
	 * last commits, and we have already told buyers those records exist.
	 * Group commit (many records per ledger_commit) keeps the cost of that
	 * one fsync per batch, not per record.
	 */
	if (exec(l, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", err, errlen) != 0 ||
	    exec(l, "BEGIN IMMEDIATE", err, errlen) != 0 || exec(l, schema, err, errlen) != 0 ||
	    migrate(l, err, errlen) != 0)
		goto fail;
	if (meta_get(l, "log_key", stored, sizeof(stored)) == 0) {
		if (strcmp(stored, l->keyhex) != 0) {
			util_errf(err, errlen, "%s: log belongs to key %s, not %s", cfg->path,
			    stored, l->keyhex);
			goto fail;
		}
	} else {
		if (prepare(l, &st,
		        "INSERT INTO meta(key, value) VALUES ('log_key', ?),"
		        "('schema', '" SCHEMA_VERSION "')",
		        err, errlen) != 0)
			goto fail;
		sqlite3_bind_text(st, 1, l->keyhex, -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE) {
			util_errf(err, errlen, "%s: %s", cfg->path, sqlite3_errmsg(l->db));
			goto fail;
		}
		sqlite3_finalize(st);
		st = NULL;
	}
	l->held = ledger_held_new();
	if (l->held == NULL) {
		util_errf(err, errlen, "out of memory");
		goto fail;
	}
	if (exec(l, "COMMIT", err, errlen) != 0 || load_state(l, 1, err, errlen) != 0 ||
	    ledger_held_load(l->held, l->db, err, errlen) != 0 ||
	    close_interrupted(l, util_now_ms(), err, errlen) != 0)
		goto fail;
	*out = l;
	return 0;
fail:
	sqlite3_finalize(st);
	ledger_close(l);
	return -1;
}

int
ledger_open_ro(struct ledger **out, const char *path, char *err, size_t errlen)
{
	struct ledger *l;
	char stored[SDPP_HEX_LEN(SDPP_SIGN_PUBLIC_BYTES) + 8];

	if (open_db(&l, path, SQLITE_OPEN_READONLY, err, errlen) != 0)
		return -1;
	if (meta_get(l, "log_key", stored, sizeof(stored)) != 0 ||
	    sdpp_hex_decode(l->key, sizeof(l->key), stored) != SDPP_OK) {
		/* A gateway creates the schema and the key in one transaction,
		 * so a file without any table was never a ledger: one stopped
		 * before its first start completed, or made by hand. */
		if (db_is_empty(l))
			util_errf(
			    err, errlen, "%s: empty: no ledger has been written to it yet", path);
		else
			util_errf(err, errlen, "%s: not an sdpp ledger (no log key)", path);
		ledger_close(l);
		return -1;
	}
	sdpp_hex_encode(l->keyhex, l->key, sizeof(l->key));
	if (load_state(l, 0, err, errlen) != 0) {
		ledger_close(l);
		return -1;
	}
	*out = l;
	return 0;
}

static void
pending_clear(struct pending *p)
{
	size_t i;

	ledger_record_clear(&p->rec);
	for (i = 0; i < p->nacks; i++)
		ledger_ack_clear(&p->acks[i]);
	free(p->acks);
	free(p->body);
	memset(p, 0, sizeof(*p));
}

static void
queue_drop(struct ledger *l)
{
	size_t i;

	for (i = 0; i < l->qlen; i++)
		pending_clear(&l->q[i]);
	l->qlen = 0;
	l->qrecs = 0;
}

void
ledger_close(struct ledger *l)
{
	if (l == NULL)
		return;
	queue_drop(l);
	free(l->q);
	free(l->fl);
	ledger_held_free(l->held);
	sqlite3_close(l->db);
	free(l);
}

/* 1 if the one-parameter query finds a row, 0 if not, -1 on errors. */
static int
row_exists(struct ledger *l, const char *sql, const char *arg)
{
	sqlite3_stmt *st = NULL;
	int rc = -1, s;

	if (prepare(l, &st, sql, NULL, 0) != 0)
		return -1;
	sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
	s = sqlite3_step(st);
	if (s == SQLITE_ROW)
		rc = 1;
	else if (s == SQLITE_DONE)
		rc = 0;
	sqlite3_finalize(st);
	return rc;
}

int
ledger_has_order(struct ledger *l, const char *order_hex)
{
	size_t i;

	for (i = 0; i < l->qlen; i++)
		if (l->q[i].rec.kind == LEDGER_ORDER &&
		    strcmp(l->q[i].rec.order_id, order_hex) == 0)
			return 1;
	return row_exists(
	    l, "SELECT 1 FROM records WHERE order_id = ? AND kind = 'order' LIMIT 1", order_hex);
}

int
ledger_has_payment_ref(struct ledger *l, const char *ref)
{
	char needle[LEDGER_REF_MAX + 32];
	size_t i;

	if ((size_t)snprintf(needle, sizeof(needle), "\"verification\":\"%s\"", ref) >=
	    sizeof(needle))
		return -1;
	/* Queued details are JCS: the member reads exactly so when ref needs
	 * no escaping, which record references (base58, hex) never do. */
	for (i = 0; i < l->qlen; i++)
		if (l->q[i].rec.kind == LEDGER_PAYMENT &&
		    strstr(l->q[i].rec.detail, needle) != NULL)
			return 1;
	return row_exists(l, "SELECT 1 FROM payment_refs WHERE ref = ?", ref);
}

sqlite3 *
ledger_db(struct ledger *l)
{
	return l->db;
}

const uint8_t *
ledger_key(const struct ledger *l)
{
	return l->key;
}

const char *
ledger_keyhex(const struct ledger *l)
{
	return l->keyhex;
}

uint64_t
ledger_size(const struct ledger *l)
{
	return l->committed;
}

size_t
ledger_pending(const struct ledger *l)
{
	return l->qlen + (l->held != NULL && ledger_held_dirty(l->held) ? 1 : 0);
}

/* The body is JCS by construction: its keys are written in sorted order and
 * detail/evidence are already canonical objects. */
static int
build_body(struct pending *p, char *err, size_t errlen)
{
	const struct ledger_record *r = &p->rec;
	size_t cap;
	int n;

	cap = 256 + strlen(r->detail) + (r->evidence != NULL ? strlen(r->evidence) : 0);
	if (cap > LEDGER_BODY_MAX) {
		util_errf(err, errlen, "record too large (%zu bytes)", cap);
		return -1;
	}
	p->body = malloc(cap);
	if (p->body == NULL) {
		util_errf(err, errlen, "out of memory");
		return -1;
	}
	n = snprintf(p->body, cap,
	    "{\"buyer\":\"%s\",\"detail\":%s%s%s,\"index\":%" PRIu64 ",\"kind\":\"%s\","
	    "\"order_id\":\"%s\",\"time\":%" PRId64 "}",
	    r->buyer, r->detail, r->evidence != NULL ? ",\"evidence\":" : "",
	    r->evidence != NULL ? r->evidence : "", p->id - 1, ledger_kind_name(r->kind),
	    r->order_id, r->time);
	if (n < 0 || (size_t)n >= cap) {
		util_errf(err, errlen, "record body overflow");
		return -1;
	}
	p->bodylen = (size_t)n;
	return merkle_leaf_hash(p->leaf, p->body, p->bodylen);
}

/* Queues r: a log record (held = 0, its id in *id) or a held payment,
 * queued so that its reference is indexed and found by
 * ledger_has_payment_ref within the batch. */
static int
queue_add(struct ledger *l, const struct ledger_record *r, int held, uint64_t *id, char *err,
    size_t errlen)
{
	struct pending *p;
	size_t i;

	if (l->qlen == l->qalloc) {
		size_t want = l->qalloc == 0 ? 16 : l->qalloc * 2;
		struct pending *nq = realloc(l->q, want * sizeof(*nq));

		if (nq == NULL) {
			util_errf(err, errlen, "out of memory");
			return -1;
		}
		l->q = nq;
		l->qalloc = want;
	}
	p = &l->q[l->qlen];
	memset(p, 0, sizeof(*p));
	p->held = held;
	p->id = held ? 0 : l->committed + l->qrecs + 1;
	p->rec = *r;
	p->rec.detail = strdup(r->detail);
	p->rec.evidence = r->evidence != NULL ? strdup(r->evidence) : NULL;
	p->rec.acks = NULL;
	p->rec.nacks = 0;
	if (p->rec.detail == NULL || (r->evidence != NULL && p->rec.evidence == NULL))
		goto nomem;
	if (r->nacks > 0) {
		p->acks = calloc(r->nacks, sizeof(*p->acks));
		if (p->acks == NULL)
			goto nomem;
		p->nacks = r->nacks;
		for (i = 0; i < r->nacks; i++) {
			p->acks[i].seq = r->acks[i].seq;
			p->acks[i].message = strdup(r->acks[i].message);
			p->acks[i].signature = strdup(r->acks[i].signature);
			if (p->acks[i].message == NULL || p->acks[i].signature == NULL)
				goto nomem;
		}
	}
	if (!held && build_body(p, err, errlen) != 0) {
		pending_clear(p);
		return -1;
	}
	l->qlen++;
	l->qrecs += held ? 0 : 1;
	*id = p->id;
	/* The commit that makes an exit durable signs a tree head whatever
	 * sth_every says: the seller's closing statement hands that head to
	 * the buyer as its witness, and it must cover the exit (PROTOCOL 15.5). */
	if (r->kind == LEDGER_EXIT)
		l->force_sth = 1;
	return 0;
nomem:
	pending_clear(p);
	util_errf(err, errlen, "out of memory");
	return -1;
}

/* A checkpoint of one order: its held records join the log, now. */
static int
checkpoint(struct ledger *l, const char *order_hex, char *err, size_t errlen)
{
	struct ledger_record out[HELD_MAX];
	struct ledger_ack acks[HELD_MAX];
	size_t n, i;
	uint64_t id;
	int rc = 0;

	if (ledger_held_take(l->held, order_hex, out, acks, &n, err, errlen) != 0)
		return -1;
	for (i = 0; i < n && rc == 0; i++)
		rc = queue_add(l, &out[i], 0, &id, err, errlen);
	ledger_held_take_done(out, acks, n);
	return rc;
}

struct due {
	struct ledger *l;
	char *err;
	size_t errlen;
	int n;
};

static int
checkpoint_cb(void *ctx, const char *order_hex)
{
	struct due *d = ctx;

	d->n++;
	return checkpoint(d->l, order_hex, d->err, d->errlen);
}

/* Checkpoints every order with a record held since cutoff or earlier;
 * returns how many, or -1. */
static int
checkpoint_due(struct ledger *l, int64_t cutoff, char *err, size_t errlen)
{
	struct due d = { l, err, errlen, 0 };

	if (l->held == NULL || ledger_held_orders(l->held) == 0)
		return 0;
	return ledger_held_due(l->held, cutoff, checkpoint_cb, &d) != 0 ? -1 : d.n;
}

void
ledger_set_checkpoint(struct ledger *l, uint64_t checkpoint_ms)
{
	l->cfg.checkpoint_ms = checkpoint_ms;
}

int
ledger_checkpoint(struct ledger *l, int64_t now, char *err, size_t errlen)
{
	if (l->cfg.checkpoint_ms == 0)
		return checkpoint_due(l, INT64_MAX, err, errlen);
	return checkpoint_due(l, now - (int64_t)l->cfg.checkpoint_ms, err, errlen);
}

int
ledger_append(
    struct ledger *l, const struct ledger_record *r, uint64_t *id, char *err, size_t errlen)
{
	*id = 0;
	if (r->detail == NULL || (unsigned)r->kind >= LEDGER_KIND__COUNT || r->kind == 0 ||
	    r->time < 0 || (uint64_t)r->time > (uint64_t)SDPP_JSON_INT_MAX) {
		util_errf(err, errlen, "ledger_append: incomplete record");
		return -1;
	}
	if (l->held != NULL && l->cfg.checkpoint_ms > 0 && ledger_held_kind(r->kind)) {
		if (ledger_held_put(l->held, r, r->time, err, errlen) != 0)
			return -1;
		/* A payment is also queued, for its reference. A failure here
		 * leaves the put tentative: the commit fails the batch. */
		return r->kind == LEDGER_PAYMENT ? queue_add(l, r, 1, id, err, errlen) : 0;
	}
	/* The order's held records precede its exit or close in the log:
	 * what they prove is in the log before the order's last word. */
	if (l->held != NULL && (r->kind == LEDGER_EXIT || r->kind == LEDGER_CLOSE) &&
	    checkpoint(l, r->order_id, err, errlen) != 0)
		return -1;
	return queue_add(l, r, 0, id, err, errlen);
}

int
ledger_sth_input(const char *keyhex, uint64_t size, const merkle_hash root, int64_t time,
    char **out, size_t *outlen)
{
	uint8_t key[SDPP_SIGN_PUBLIC_BYTES];
	char *buf;

	/* One spelling of the signed bytes, the protocol's (PROTOCOL 15.5):
	 * a buyer checks the very tree heads this log signs. */
	if (sdpp_hex_decode(key, sizeof(key), keyhex) != SDPP_OK)
		return -1;
	buf = malloc(SDPP_TREE_HEAD_INPUT_MAX);
	if (buf == NULL)
		return -1;
	if (sdpp_tree_head_input(key, size, root, time, buf, SDPP_TREE_HEAD_INPUT_MAX, outlen) !=
	    SDPP_OK) {
		free(buf);
		return -1;
	}
	*out = buf;
	return 0;
}

/* Outbox payload of a record: what a remote ledger anchors. */
static int
outbox_add(
    struct ledger *l, sqlite3_stmt *ob, uint64_t record, const char *kind, const char *payload)
{
	sqlite3_reset(ob);
	if (record != 0)
		sqlite3_bind_int64(ob, 1, (sqlite3_int64)record);
	else
		sqlite3_bind_null(ob, 1);
	sqlite3_bind_text(ob, 2, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(ob, 3, payload, -1, SQLITE_TRANSIENT);
	(void)l;
	return sqlite3_step(ob) == SQLITE_DONE ? 0 : -1;
}

int
ledger_commit(struct ledger *l, int64_t now, char *err, size_t errlen)
{
	sqlite3_stmt *ins = NULL, *ack = NULL, *sth = NULL, *ob = NULL, *pref = NULL, *mst = NULL;
	struct merkle_frontier f = l->frontier;
	merkle_hash root;
	char amount[SDPP_MONEY_LEN], *sin = NULL, *mh = NULL;
	char sigb64[SDPP_B64_LEN(SDPP_SIGN_BYTES)], rhex[SDPP_HEX_LEN(MERKLE_HASH_BYTES)];
	char payload[512];
	uint8_t sig[SDPP_SIGN_BYTES];
	size_t i, j, sinlen;
	uint64_t size, anchored = 0;
	int in_tx = 0, rc = -1;

	if (l->qlen == 0 && (l->held == NULL || !ledger_held_dirty(l->held)))
		return 0;
	if (exec(l, "BEGIN IMMEDIATE", err, errlen) != 0)
		goto fail;
	in_tx = 1;
	if (prepare(l, &ins,
	        "INSERT INTO records(id, kind, time, order_id, buyer, invoice,"
	        " amount, body, leaf_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
	        err, errlen) != 0 ||
	    prepare(l, &ack,
	        "INSERT OR REPLACE INTO acks(order_id, seq, record, message,"
	        " signature) VALUES (?, ?, ?, ?, ?)",
	        err, errlen) != 0 ||
	    prepare(l, &ob, "INSERT INTO outbox(record, kind, payload) VALUES (?, ?, ?)", err,
	        errlen) != 0 ||
	    prepare(l, &pref,
	        "INSERT OR IGNORE INTO payment_refs(ref, record)"
	        " SELECT json_extract(?1, '$.verification'), ?2"
	        " WHERE json_extract(?1, '$.verification') <> ''",
	        err, errlen) != 0)
		goto fail;
	for (i = 0; i < l->qlen; i++) {
		const struct pending *p = &l->q[i];

		if (p->held)
			goto payment_ref;
		sqlite3_reset(ins);
		sqlite3_bind_int64(ins, 1, (sqlite3_int64)p->id);
		sqlite3_bind_text(ins, 2, ledger_kind_name(p->rec.kind), -1, SQLITE_STATIC);
		sqlite3_bind_int64(ins, 3, p->rec.time);
		sqlite3_bind_text(ins, 4, p->rec.order_id, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 5, p->rec.buyer, -1, SQLITE_STATIC);
		sqlite3_bind_int64(ins, 6, (sqlite3_int64)p->rec.invoice);
		sdpp_money_format(amount, p->rec.amount);
		sqlite3_bind_text(ins, 7, amount, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(ins, 8, p->body, (int)p->bodylen, SQLITE_STATIC);
		sqlite3_bind_blob(ins, 9, p->leaf, MERKLE_HASH_BYTES, SQLITE_STATIC);
		if (sqlite3_step(ins) != SQLITE_DONE) {
			util_errf(err, errlen, "append record %" PRIu64 ": %s", p->id,
			    sqlite3_errmsg(l->db));
			goto fail;
		}
		for (j = 0; j < p->nacks; j++) {
			sqlite3_reset(ack);
			sqlite3_bind_text(ack, 1, p->rec.order_id, -1, SQLITE_STATIC);
			sqlite3_bind_int64(ack, 2, (sqlite3_int64)p->acks[j].seq);
			sqlite3_bind_int64(ack, 3, (sqlite3_int64)p->id);
			sqlite3_bind_text(ack, 4, p->acks[j].message, -1, SQLITE_STATIC);
			sqlite3_bind_text(ack, 5, p->acks[j].signature, -1, SQLITE_STATIC);
			if (sqlite3_step(ack) != SQLITE_DONE) {
				util_errf(err, errlen, "store ack: %s", sqlite3_errmsg(l->db));
				goto fail;
			}
		}
		/* An index of payment proofs, so that one transfer never pays
		 * twice (ledger_has_payment_ref). A held payment's row names
		 * record 0: its record is the order's next checkpoint. */
	payment_ref:
		if (p->rec.kind == LEDGER_PAYMENT) {
			sqlite3_reset(pref);
			sqlite3_bind_text(pref, 1, p->rec.detail, -1, SQLITE_STATIC);
			sqlite3_bind_int64(pref, 2, (sqlite3_int64)p->id);
			if (sqlite3_step(pref) != SQLITE_DONE) {
				util_errf(err, errlen, "payment index: %s", sqlite3_errmsg(l->db));
				goto fail;
			}
		}
		if (p->held)
			continue;
		if (merkle_frontier_push(&f, p->leaf) != 0)
			goto fail;
		if (l->cfg.anchor_kinds & (1u << p->rec.kind)) {
			sdpp_hex_encode(rhex, p->leaf, MERKLE_HASH_BYTES);
			snprintf(payload, sizeof(payload),
			    "{\"kind\":\"%s\",\"leaf_hash\":\"%s\",\"log_key\":\"%s\",\"order_id\":"
			    "\"%s\","
			    "\"record\":%" PRIu64 "}",
			    ledger_kind_name(p->rec.kind), rhex, l->keyhex, p->rec.order_id, p->id);
			if (outbox_add(l, ob, p->id, "record", payload) != 0) {
				util_errf(err, errlen, "outbox: %s", sqlite3_errmsg(l->db));
				goto fail;
			}
		}
	}
	if (l->held != NULL && ledger_held_write(l->held, l->db, err, errlen) != 0)
		goto fail;
	size = f.size;
	/* A commit of held records alone adds nothing to sign. */
	if (size > l->last_sth &&
	    (l->cfg.sth_every == 0 || l->force_sth || size - l->last_sth >= l->cfg.sth_every)) {
		if (merkle_frontier_root(&f, root) != 0 ||
		    ledger_sth_input(l->keyhex, size, root, now, &sin, &sinlen) != 0 ||
		    sdpp_sign(l->id, sin, sinlen, sig) != SDPP_OK) {
			util_errf(err, errlen, "cannot sign tree head");
			goto fail;
		}
		sdpp_b64_encode(sigb64, sig, sizeof(sig));
		sdpp_hex_encode(rhex, root, sizeof(root));
		if (prepare(l, &sth,
		        "INSERT INTO tree_heads(size, root, time, signature)"
		        " VALUES (?, ?, ?, ?)",
		        err, errlen) != 0)
			goto fail;
		sqlite3_bind_int64(sth, 1, (sqlite3_int64)size);
		sqlite3_bind_text(sth, 2, rhex, -1, SQLITE_STATIC);
		sqlite3_bind_int64(sth, 3, now);
		sqlite3_bind_text(sth, 4, sigb64, -1, SQLITE_STATIC);
		if (sqlite3_step(sth) != SQLITE_DONE) {
			util_errf(err, errlen, "tree head: %s", sqlite3_errmsg(l->db));
			goto fail;
		}
		/* The frontier the head signs, beside it in the same transaction:
		 * the next start checks the log against it (load_state). */
		mh = meta_head_text(&f, rhex, sigb64, now);
		if (mh == NULL ||
		    prepare(l, &mst, "INSERT OR REPLACE INTO meta(key, value) VALUES ('head', ?)",
		        err, errlen) != 0)
			goto fail;
		sqlite3_bind_text(mst, 1, mh, -1, SQLITE_STATIC);
		if (sqlite3_step(mst) != SQLITE_DONE) {
			util_errf(err, errlen, "tree head: %s", sqlite3_errmsg(l->db));
			goto fail;
		}
		if (l->cfg.anchor_tree_heads &&
		    size - l->last_anchored >=
		        (l->cfg.anchor_every > 0 ? l->cfg.anchor_every : 1)) {
			anchored = size;
			snprintf(payload, sizeof(payload),
			    "{\"log_key\":\"%s\",\"root\":\"%s\",\"signature\":\"%s\",\"size\":"
			    "%" PRIu64 ",\"time\":%" PRId64 "}",
			    l->keyhex, rhex, sigb64, size, now);
			if (outbox_add(l, ob, 0, "tree_head", payload) != 0) {
				util_errf(err, errlen, "outbox: %s", sqlite3_errmsg(l->db));
				goto fail;
			}
		}
	}
	if (exec(l, "COMMIT", err, errlen) != 0)
		goto fail;
	in_tx = 0;
	l->frontier = f;
	l->committed = size;
	if (sth != NULL) {
		l->last_sth = size;
		l->force_sth = 0;
	}
	if (anchored != 0)
		l->last_anchored = anchored;
	rc = 0;
fail:
	/* On failure nothing of the batch is on disk: forget it all the same,
	 * so ids are reused and the callers fail the requests that waited. */
	if (rc != 0 && in_tx)
		(void)exec(l, "ROLLBACK", NULL, 0);
	if (l->held != NULL)
		ledger_held_settle(l->held, rc == 0);
	queue_drop(l);
	sqlite3_finalize(ins);
	sqlite3_finalize(ack);
	sqlite3_finalize(sth);
	sqlite3_finalize(ob);
	sqlite3_finalize(pref);
	sqlite3_finalize(mst);
	free(sin);
	free(mh);
	return rc;
}

/* ---------------------------------------------------------------- outbox */

int
ledger_set_remote(struct ledger *l, const struct ledger_remote *r, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	char stored[LEDGER_REF_MAX];
	int rc = -1;

	l->have_remote = 0;
	if (meta_get(l, "remote", stored, sizeof(stored)) == 0) {
		if (strcmp(stored, r->where) != 0)
			return util_errf(err, errlen,
			    "this ledger's anchors are on %s, not %s: keep "
			    "that network, or start a new ledger file for the other",
			    stored, r->where);
	} else {
		if (prepare(l, &st, "INSERT INTO meta(key, value) VALUES ('remote', ?)", err,
		        errlen) != 0)
			goto out;
		sqlite3_bind_text(st, 1, r->where, -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE) {
			util_errf(
			    err, errlen, "cannot note where anchors go: %s", sqlite3_errmsg(l->db));
			goto out;
		}
	}
	l->remote = *r;
	l->have_remote = 1;
	rc = 0;
out:
	sqlite3_finalize(st);
	return rc;
}

void
ledger_clear_remote(struct ledger *l)
{
	l->have_remote = 0;
}

int
ledger_remote_where(struct ledger *l, char *buf, size_t len)
{
	return meta_get(l, "remote", buf, len);
}

static int
in_flight(const struct ledger *l, uint64_t item)
{
	size_t i;

	for (i = 0; i < l->nfl; i++)
		if (l->fl[i].item == item)
			return 1;
	return 0;
}

/* Column text, "" for NULL: every string an item borrows. */
static const char *
col_text(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t != NULL ? (const char *)t : "";
}

int
ledger_outbox_poll(struct ledger *l, int64_t now, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	struct ledger_outbox_item it;
	int n = 0, s;

	if (!l->have_remote)
		return 0;
	/* The payload is the ledger's own JSON (outbox_add): SQLite reads it
	 * back exactly, integers included, and the remote gets a struct. */
	if (prepare(l, &st,
	        "SELECT item, kind = 'tree_head',"
	        " coalesce(record, json_extract(payload, '$.size')),"
	        " coalesce(json_extract(payload, '$.kind'), ''),"
	        " coalesce(json_extract(payload, '$.leaf_hash'), json_extract(payload, '$.root')),"
	        " coalesce(json_extract(payload, '$.order_id'), ''),"
	        " coalesce(json_extract(payload, '$.log_key'), ''),"
	        " coalesce(last_error, ''), coalesce(proof, '') FROM outbox"
	        " WHERE state = 'pending' AND next_attempt <= ? ORDER BY item LIMIT 64",
	        err, errlen) != 0)
		return -1;
	sqlite3_bind_int64(st, 1, now);
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&it, 0, sizeof(it));
		it.item = (uint64_t)sqlite3_column_int64(st, 0);
		if (in_flight(l, it.item))
			continue;
		if (l->nfl == l->flalloc) {
			size_t want = l->flalloc == 0 ? OUTBOX_BATCH : l->flalloc * 2;
			struct inflight *nf = realloc(l->fl, want * sizeof(*nf));

			if (nf == NULL) {
				util_errf(err, errlen, "out of memory");
				n = -1;
				break;
			}
			l->fl = nf;
			l->flalloc = want;
		}
		l->fl[l->nfl++].item = it.item;
		it.tree_head = sqlite3_column_int(st, 1);
		it.number = (uint64_t)sqlite3_column_int64(st, 2);
		it.kind = col_text(st, 3);
		it.order_id = col_text(st, 5);
		it.log_key = col_text(st, 6);
		it.last_error = col_text(st, 7);
		it.proof = col_text(st, 8);
		/* A payload that does not hold its hash, or a backend that fails
		 * to even start, counts as a failed try. */
		if (sdpp_hex_decode(it.hash, sizeof(it.hash), col_text(st, 4)) != SDPP_OK)
			(void)ledger_outbox_done(
			    l, it.item, 0, "outbox payload without its hash", NULL, now, NULL, 0);
		else if (l->remote.submit(l->remote.ctx, &it) != 0)
			(void)ledger_outbox_done(
			    l, it.item, 0, "submit failed", NULL, now, NULL, 0);
		n++;
	}
	sqlite3_finalize(st);
	return n;
}

int
ledger_outbox_done(struct ledger *l, uint64_t item, int ok, const char *ref, const char *proof,
    int64_t now, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	size_t i;
	int rc = -1;

	for (i = 0; i < l->nfl; i++)
		if (l->fl[i].item == item) {
			l->fl[i] = l->fl[--l->nfl];
			break;
		}
	if (ok) {
		if (prepare(l, &st,
		        "UPDATE outbox SET state = 'done', ref = ?, proof = ?,"
		        " attempts = attempts + 1 WHERE item = ?",
		        err, errlen) != 0)
			return -1;
		sqlite3_bind_text(st, 1, ref != NULL ? ref : "", -1, SQLITE_STATIC);
		if (proof != NULL)
			sqlite3_bind_text(st, 2, proof, -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(st, 2);
		sqlite3_bind_int64(st, 3, (sqlite3_int64)item);
	} else {
		uint32_t jitter = 0;
		int64_t delay;

		if (prepare(l, &st,
		        "UPDATE outbox SET attempts = attempts + 1, last_error = ?,"
		        " next_attempt = ? + MIN(?, ? << MIN(attempts, 20)), proof = ?6"
		        " WHERE item = ?5",
		        err, errlen) != 0)
			return -1;
		if (proof != NULL)
			sqlite3_bind_text(st, 6, proof, -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(st, 6);
		/* Jitter spreads retries of many items after an outage. */
		if (sdpp_random(&jitter, sizeof(jitter)) != SDPP_OK)
			jitter = 0;
		delay = BACKOFF_FIRST_MS + (int64_t)(jitter % (BACKOFF_FIRST_MS / 4));
		sqlite3_bind_text(st, 1, ref != NULL ? ref : "failed", -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, now);
		sqlite3_bind_int64(st, 3, BACKOFF_MAX_MS);
		sqlite3_bind_int64(st, 4, delay);
		sqlite3_bind_int64(st, 5, (sqlite3_int64)item);
	}
	if (sqlite3_step(st) == SQLITE_DONE)
		rc = 0;
	else
		util_errf(err, errlen, "outbox: %s", sqlite3_errmsg(l->db));
	sqlite3_finalize(st);
	return rc;
}

int
ledger_anchor_head(struct ledger *l, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL, *ob = NULL;
	char payload[512];
	int rc = -1;

	if (!l->cfg.anchor_tree_heads || l->last_sth <= l->last_anchored)
		return 0;
	if (prepare(l, &st, "SELECT root, time, signature FROM tree_heads WHERE size = ?", err,
	        errlen) != 0)
		return -1;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)l->last_sth);
	if (sqlite3_step(st) != SQLITE_ROW) {
		util_errf(err, errlen, "tree head %" PRIu64 " is missing", l->last_sth);
		goto out;
	}
	snprintf(payload, sizeof(payload),
	    "{\"log_key\":\"%s\",\"root\":\"%s\",\"signature\":\"%s\",\"size\":%" PRIu64
	    ",\"time\":%" PRId64 "}",
	    l->keyhex, (const char *)sqlite3_column_text(st, 0),
	    (const char *)sqlite3_column_text(st, 2), l->last_sth,
	    (int64_t)sqlite3_column_int64(st, 1));
	if (prepare(l, &ob, "INSERT INTO outbox(record, kind, payload) VALUES (?, ?, ?)", err,
	        errlen) != 0)
		goto out;
	if (outbox_add(l, ob, 0, "tree_head", payload) != 0) {
		util_errf(err, errlen, "outbox: %s", sqlite3_errmsg(l->db));
		goto out;
	}
	l->last_anchored = l->last_sth;
	rc = 1;
out:
	sqlite3_finalize(st);
	sqlite3_finalize(ob);
	return rc;
}

int64_t
ledger_outbox_next(struct ledger *l)
{
	sqlite3_stmt *st = NULL;
	int64_t t = INT64_MAX;

	if (prepare(l, &st, "SELECT MIN(next_attempt) FROM outbox WHERE state = 'pending'", NULL,
	        0) != 0)
		return t;
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		t = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return t;
}

uint64_t
ledger_outbox_pending(struct ledger *l)
{
	sqlite3_stmt *st = NULL;
	uint64_t n = 0;

	if (prepare(l, &st, "SELECT COUNT(*) FROM outbox WHERE state = 'pending'", NULL, 0) != 0)
		return 0;
	if (sqlite3_step(st) == SQLITE_ROW)
		n = (uint64_t)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}
