/* The records medium: an append-only, tamper-evident log on SQLite (an RFC 9162 tree). */
#ifndef LEDGER_LEDGER_H
#define LEDGER_LEDGER_H

#include <stddef.h>
#include <stdint.h>

#include "ledger/merkle.h"
#include "sdpp/crypto.h"
#include "sdpp/enc.h"
#include "sdpp/msg.h"
#include "sdpp/receipt.h"
#include "sdpp/session.h"

/* Size of err buffers the ledger fills. */
#define LEDGER_ERR_MAX 512
/* Largest record body (the leaf data). Orders and exits are small; this
 * leaves room for long verification strings. */
#define LEDGER_BODY_MAX (64u * 1024)
/* Prefix of record ids in `verification` fields: "ledger:42". */
#define LEDGER_ID_PREFIX "ledger:"
#define LEDGER_ID_LEN 32

enum ledger_kind {
	LEDGER_ORDER = 1, /* the buyer's signed order, before the session key */
	LEDGER_SESSION,   /* session key sent, streaming started */
	LEDGER_INVOICE,   /* an invoice, before it is sent */
	LEDGER_PAYMENT,   /* the buyer's signed voucher or remote transaction id */
	LEDGER_RECEIPTS,  /* per invoice block: latest signed ACK + digest of all ACKs */
	LEDGER_EXIT,      /* the buyer's signed exit (final voucher) */
	LEDGER_CLOSE,     /* final state of an order, however it ended */
	LEDGER_RESUME,    /* the buyer's signed resume (a receipt for 1..seq), sdpp/2 */
	LEDGER_KIND__COUNT
};

const char *ledger_kind_name(enum ledger_kind k);

/*
 * A record ready to append: body is the leaf data, the RFC 8785 JSON of
 * {"kind","index","time","order_id","buyer","detail",["evidence"]} where
 * evidence holds a buyer-signed message as {"message","signature"}
 * (message = the signature input without its 7-byte context). The
 * builders below fill it; free with ledger_record_clear().
 */
struct ledger_record {
	enum ledger_kind kind;
	int64_t time;
	char order_id[SDPP_HEX_LEN(SDPP_ORDER_ID_BYTES)];
	char buyer[SDPP_HEX_LEN(SDPP_SIGN_PUBLIC_BYTES)];
	uint64_t invoice;   /* invoice number, 0 if none */
	uint64_t amount;    /* amount of an invoice, total of a voucher */
	uint64_t first_seq; /* an invoice's first item (held invoices merge) */
	char *detail;       /* JCS object, malloc'd */
	char *evidence;     /* JCS object or NULL, malloc'd */
	/* Signed ACKs that this receipts record commits to (stored in the
	 * acks table in the same transaction). Borrowed. */
	const struct ledger_ack *acks;
	size_t nacks;
};

/* One signed ACK kept for disputes. */
struct ledger_ack {
	uint64_t seq;
	char *message;   /* signature input without context, JCS */
	char *signature; /* base64 */
};

void ledger_record_clear(struct ledger_record *r);

/* Builders: each fills r from verified protocol messages (0 or -1). */
int ledger_record_order(struct ledger_record *r, const struct sdpp_msg *order,
    const uint8_t order_id[SDPP_ORDER_ID_BYTES], const char *product, int64_t time);
int ledger_record_session(struct ledger_record *r, const uint8_t order_id[SDPP_ORDER_ID_BYTES],
    const uint8_t buyer[SDPP_SIGN_PUBLIC_BYTES], int64_t time);
int ledger_record_invoice(struct ledger_record *r, const struct sdpp_invoice *inv,
    const uint8_t buyer[SDPP_SIGN_PUBLIC_BYTES], int64_t time);
/* An invoice record that stands for invoices first_invoice..r->invoice
 * (items first_seq..its last_seq, amount their sum): the detail gains
 * `first_invoice` when it covers more than one. */
int ledger_record_invoice_merge(
    struct ledger_record *r, uint64_t first_invoice, uint64_t first_seq, uint64_t amount);
int ledger_record_payment(struct ledger_record *r, const struct sdpp_msg *payment,
    const uint8_t buyer[SDPP_SIGN_PUBLIC_BYTES], const char *method, int64_t time);
/* acks: the signed ACKs of one invoice block, in order; the last one
 * covers every item of the order up to its seq. */
int ledger_record_receipts(struct ledger_record *r, const uint8_t order_id[SDPP_ORDER_ID_BYTES],
    const uint8_t buyer[SDPP_SIGN_PUBLIC_BYTES], const struct ledger_ack *acks, size_t nacks,
    int64_t time);
int ledger_record_exit(struct ledger_record *r, const struct sdpp_msg *exit,
    const uint8_t buyer[SDPP_SIGN_PUBLIC_BYTES], int64_t time);
/* A resume the seller accepted: detail seq, digest, invoice and attempt as
 * the buyer signed them, the signed message as evidence. Never held: it
 * joins the log at once (a receipt for 1..seq, and rare). */
int ledger_record_resume(struct ledger_record *r, const struct sdpp_msg *resume,
    const uint8_t buyer[SDPP_SIGN_PUBLIC_BYTES], int64_t time);
int ledger_record_close(struct ledger_record *r, const uint8_t order_id[SDPP_ORDER_ID_BYTES],
    const uint8_t buyer[SDPP_SIGN_PUBLIC_BYTES], const char *product, const struct sdpp_progress *p,
    const char *reason, int64_t time);

/* Digest a receipts record commits to: SHA-256 over message "\n" signature
 * "\n" of each ACK in order. */
int ledger_acks_digest(uint8_t out[SDPP_SHA256_BYTES], const struct ledger_ack *acks, size_t n);

/* Copies a verified ACK into a ledger_ack (free with ledger_ack_clear()). */
int ledger_ack_from_msg(struct ledger_ack *a, const struct sdpp_msg *ack);
void ledger_ack_clear(struct ledger_ack *a);

struct ledger_config {
	const char *path;
	const struct sdpp_identity *id; /* signs tree heads; borrowed */
	/* A signed tree head is written with every commit that adds records
	 * (0), or once sth_every records have accumulated. Records after the
	 * last tree head are not yet covered by a signature. */
	uint64_t sth_every;
	/* Remote anchoring: record kinds (bit 1 << kind) queued in the outbox. */
	unsigned anchor_kinds;
	/* Queue signed tree heads for anchoring, once anchor_every records
	 * (0: 1) have been added since the last one queued. */
	int anchor_tree_heads;
	uint64_t anchor_every;
	/* Invoices, payments and receipts are held (the latest of each per
	 * open order, durable, outside the log) and join the log at the
	 * order's exit or close, or checkpoint_ms after the first was held;
	 * 0: each joins the log at once. */
	uint64_t checkpoint_ms;
};

struct ledger;

/*
 * Opens (creating if needed) the log at cfg->path: WAL journal,
 * synchronous=FULL so a commit is on disk before anything that depends
 * on it is sent, and the schema. Refuses a file whose log key differs from
 * cfg->id. Returns 0 or -1 with err.
 */
int ledger_open(struct ledger **out, const struct ledger_config *cfg, char *err, size_t errlen);
/*
 * A writer's open also checks the log against its latest signed tree head
 * before it will sign anything new (see load_state in ledger.c for what
 * that catches and what it cannot), and closes the orders a crash left
 * open with a `close' record of reason `interrupted' (ledger_interrupted()
 * says how many).
 */
uint64_t ledger_interrupted(const struct ledger *l);

/*
 * 0 if the ledger at path can be written: its directory exists and takes
 * new files (the WAL), and the file, if it exists, is writable and not
 * read-only by its mode (refused even for root). Creates nothing: the
 * daemon asks before it makes a key, and -t asks too.
 */
int ledger_check_writable(const char *path, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* Opens read-only for auditing (no key needed). */
int ledger_open_ro(struct ledger **out, const char *path, char *err, size_t errlen);
void ledger_close(struct ledger *l);

/*
 * Queues a record and returns its id (the leaf index + 1) in *id. Nothing
 * is durable until ledger_commit() succeeds: callers reply to buyers only
 * after that (group commit: many appends, one fsync).
 */
int ledger_append(
    struct ledger *l, const struct ledger_record *r, uint64_t *id, char *err, size_t errlen);

/* Changes checkpoint_ms (ledger_config) from now on. */
void ledger_set_checkpoint(struct ledger *l, uint64_t checkpoint_ms);
/* Queues the checkpoints due at now (records held checkpoint_ms or
 * longer) for the next ledger_commit; returns how many orders, or -1 with
 * err. The owner calls it on a timer (the gateway: once a second), not
 * per commit: it looks at every open order. */
int ledger_checkpoint(struct ledger *l, int64_t now, char *err, size_t errlen);

/* Records queued and not yet committed. */
size_t ledger_pending(const struct ledger *l);

/* Writes every queued record in one transaction, plus a signed tree head
 * when due. On failure nothing queued is kept and -1 is returned (the
 * caller fails the requests that waited for it). */
int ledger_commit(struct ledger *l, int64_t now, char *err, size_t errlen);

/* 1 if an order record with this id is committed or queued, 0 if not,
 * -1 on read errors. A replayed order must not be sold twice. */
int ledger_has_order(struct ledger *l, const char *order_hex);

/* 1 if a payment record (committed or queued) carries this verification
 * (e.g. a transaction digest), 0 if none, -1 on errors: one transfer must
 * not pay two invoices. */
#define LEDGER_REF_MAX 256
int ledger_has_payment_ref(struct ledger *l, const char *ref);

/* Number of records committed (the tree size). */
uint64_t ledger_size(const struct ledger *l);

/* The latest signed tree head in the log (the one the last commit that
 * signed wrote; with sth_every > 0 it may not cover the newest records):
 * the sdpp/2 closing statement carries it. 0, or -1 if the log has none
 * or it cannot be read. Not checked here: ledger_open() checked the log
 * against it, and the buyer checks its signature. */
int ledger_latest_tree_head(struct ledger *l, struct sdpp_tree_head *th)
    __attribute__((warn_unused_result));

/* Formats "ledger:ID" into buf (LEDGER_ID_LEN bytes). */
void ledger_id_format(char *buf, uint64_t id);

/* ---------------------------------------------------------------- remote */

/*
 * A remote records backend (e.g. IOTA). submit() starts anchoring one outbox
 * item and must not block; the backend later calls ledger_outbox_done() on
 * the same thread. The embedded ledger stays the source of truth: a remote
 * that is slow or down only delays anchoring.
 */
/* One outbox item as the ledger hands it to its remote (strings borrowed
 * for the call). */
struct ledger_outbox_item {
	uint64_t item;
	int tree_head;                   /* 0: a record */
	uint64_t number;                 /* the record's id, or the tree head's size */
	const char *kind;                /* the record's kind ("invoice"); "" for a tree head */
	uint8_t hash[SDPP_SHA256_BYTES]; /* the record's leaf hash, or the tree head's root */
	const char *order_id;            /* hex, the record's order; "" for a tree head */
	const char *log_key;             /* hex, the log's key */
	/* What the previous failed attempt left ("" if none): a backend whose
	 * transaction may have landed after all looks it up instead of paying
	 * for a second one. */
	const char *last_error;
	const char *proof;
};

struct ledger_remote {
	const char *name;
	/* Where the anchors go, e.g. "iota-testnet": kept in the log (meta
	 * `remote') so that an auditor need not guess the network. */
	const char *where;
	void *ctx;
	/* 0, or -1 if it could not even start (counted as a failed try). */
	int (*submit)(void *ctx, const struct ledger_outbox_item *it);
};

/* Sets the remote backend. A log whose anchors went to another place
 * (meta `remote') is refused: one log, one network. Returns 0 or -1 with
 * err. */
int ledger_set_remote(struct ledger *l, const struct ledger_remote *r, char *err, size_t errlen)
    __attribute__((warn_unused_result));
void ledger_clear_remote(struct ledger *l);
/* Where this log's anchors go (meta `remote'); -1 if it never said. */
int ledger_remote_where(struct ledger *l, char *buf, size_t len);

/* Submits due outbox items (not in flight, next attempt reached); returns
 * how many were submitted, or -1. */
int ledger_outbox_poll(struct ledger *l, int64_t now, char *err, size_t errlen);

/* Result of a submission: ok stores ref (e.g. "iota:" + transaction
 * digest) and proof (what lets an auditor check ref, e.g. the transaction
 * bytes; may be NULL) with the item; failure retries with exponential
 * backoff (1 s doubling to 10 min, with jitter), ref being the reason and
 * proof kept for the next attempt's submit(). */
int ledger_outbox_done(struct ledger *l, uint64_t item, int ok, const char *ref, const char *proof,
    int64_t now, char *err, size_t errlen);

/* Queues the latest signed tree head for anchoring if records were added
 * since the last one queued (the "every T seconds" half of batch
 * anchoring). Returns 1 if queued, 0 if there was nothing new, -1. */
int ledger_anchor_head(struct ledger *l, char *err, size_t errlen);

/* Earliest next attempt of a pending item, INT64_MAX if none. */
int64_t ledger_outbox_next(struct ledger *l);

/* Items waiting (pending or in flight). */
uint64_t ledger_outbox_pending(struct ledger *l);

/* ----------------------------------------------------------------- audit */

/* One outbox item, for auditing remote anchors (strings borrowed for the
 * callback). */
struct ledger_anchor {
	uint64_t item;
	uint64_t record;     /* 0 for a tree head */
	const char *kind;    /* "record" or "tree_head" */
	const char *payload; /* what was handed to the remote backend */
	int done;
	const char *ref;   /* e.g. "iota:DIGEST" ("" while pending) */
	const char *proof; /* e.g. base64 of the transaction ("" if none) */
	/* The hash the anchor must carry, from the log itself: the record's
	 * leaf hash or the tree head's root; have_expect = 0 if the payload
	 * names nothing the log holds. */
	int have_expect;
	uint8_t expect[32];
	char what[16]; /* "record" or "tree head" */
};

/* Calls fn for every outbox item in order; a non-zero return stops (and
 * is returned). -1 on read errors. */
typedef int (*ledger_anchor_fn)(void *ctx, const struct ledger_anchor *a);
int ledger_anchors_each(struct ledger *l, ledger_anchor_fn fn, void *ctx);

/* Called for each problem; return non-zero to stop. */
struct ledger_verify_report {
	uint64_t records, tree_heads, signatures, acks;
	uint64_t archived;  /* records whose body is in an archive (ledger_archive) */
	uint64_t first_bad; /* record id of the first bad record, 0 if none */
	char problem[LEDGER_ERR_MAX];
};

/*
 * Recomputes every leaf and the root at every signed tree head, checks each
 * tree head's signature with the log key (and that it equals expect_key if
 * given), every buyer signature inside records and stored ACKs, and that the
 * queryable columns match the bodies. Returns 0 if the log verifies, 1 if a
 * problem was found (described in rep), -1 on I/O errors.
 */
int ledger_verify(struct ledger *l, const uint8_t *expect_key, struct ledger_verify_report *rep);
/* The same, calling progress (if not NULL) now and then with the records
 * checked so far and the log's size. Every record is also checked against
 * the buyer-signed message it holds and against the order's earlier records
 * (docs/OPERATIONS.md, "Auditing and disputes"). Signatures are checked on
 * every core; the time is linear in the log's size. */
typedef void (*ledger_progress_fn)(void *ctx, uint64_t done, uint64_t total);
int ledger_verify_progress(struct ledger *l, const uint8_t *expect_key,
    struct ledger_verify_report *rep, ledger_progress_fn progress, void *ctx);

/*
 * Retention (archive.c): the bodies of the orders closed before `before'
 * (ms since the epoch) and under the newest signed tree head move from the
 * ledger file at live into a new file at path, a copy of the ledger at that
 * head (the signed hand-over) holding only their bodies, which must verify
 * before the live file changes. The live file keeps every row and leaf hash
 * with those bodies emptied. Runs beside a running gateway (short
 * transactions). 0 (rep says how many; 0 orders: nothing to do, no file),
 * or -1 with err: no file is left behind, unless some bodies had already
 * left the live file, whose only copy it then is (err says so).
 */
struct ledger_archive_report {
	uint64_t size;    /* the hand-over: the tree head's size */
	size_t orders;    /* orders archived */
	uint64_t records; /* live records emptied, or (check) covered */
};
int ledger_archive(const char *live, int64_t before, const char *path,
    struct ledger_archive_report *rep, char *err, size_t errlen);
/* Checks that every body the archive at path holds is this log's record
 * (same leaf hash); rep->records counts the emptied live records it
 * covers. 0 ok, 1 an archive of something else (err says), -1 errors. */
int ledger_archive_check(struct ledger *l, const char *path, struct ledger_archive_report *rep,
    char *err, size_t errlen);

/*
 * Inclusion proof of record id against the latest signed tree head, as a
 * JSON document (malloc'd, NUL-terminated) that ledger_proof_check() can
 * verify with the log's public key alone.
 */
int ledger_prove(struct ledger *l, uint64_t id, char **json, char *err, size_t errlen);
int ledger_proof_check(const char *json, size_t len, const uint8_t key[SDPP_SIGN_PUBLIC_BYTES],
    char *summary, size_t sumlen, char *err, size_t errlen);

/* 0 if sig is the log key's signature of the tree head (size, root, time). */
int ledger_sth_verify(const uint8_t key[SDPP_SIGN_PUBLIC_BYTES], uint64_t size,
    const merkle_hash root, int64_t time, const uint8_t sig[SDPP_SIGN_BYTES]);

/*
 * Checks a buyer's witness (a receipt, sdpp_receipt_parse()) against this
 * log: its tree head must be signed by the log key, the log must have at
 * least its size records, and its first `size` records must give its root
 * (a shorter log is reported as truncated, another root as forked); if the
 * head covers the receipt's exit record (ledger:ID), that record must be the
 * exit of the receipt's order. Returns 0 (summary filled), 1 (the problem
 * in err) or -1 on read errors. The leaf hashes are taken as stored:
 * ledger_verify() ties them to the bodies.
 */
int ledger_witness_check(struct ledger *l, const struct sdpp_receipt *w, char *summary,
    size_t sumlen, char *err, size_t errlen) __attribute__((warn_unused_result));

/* Consistency proof between the signed tree heads of sizes m and n (JSON);
 * ledger_proof_check() also checks these. */
int ledger_prove_consistency(
    struct ledger *l, uint64_t m, uint64_t n, char **json, char *err, size_t errlen);

/* What one order came to, from the records alone (for `sdpp ledger show`). */
struct ledger_account {
	char order_id[SDPP_HEX_LEN(SDPP_ORDER_ID_BYTES)];
	char buyer[SDPP_HEX_LEN(SDPP_SIGN_PUBLIC_BYTES)];
	char product[SDPP_NAME_MAX + 1];
	char currency[SDPP_CURRENCY_MAX + 1];
	uint64_t order_record;
	int64_t ordered_at, last_at;
	uint64_t quantity, price;
	uint64_t delivered;    /* items sent, from the close record */
	uint64_t acknowledged; /* highest item covered by a buyer-signed receipt or exit */
	uint64_t invoices, invoiced_items, invoiced; /* count, items, amount */
	/* Vouchers: the highest buyer-signed voucher (payment or exit). A
	 * ledger method (IOTA): the highest total confirmed on chain; the
	 * exit is then only the buyer's signed promise for the rest. */
	uint64_t paid;
	uint64_t owed;     /* max(acknowledged * price, invoiced) - paid, if positive */
	uint64_t promised; /* the exit's total (a voucher only with method voucher) */
	int chain;         /* paid by a ledger method */
	int exited, closed;
	char reason[SDPP_NAME_MAX + 1]; /* close reason ("" while open) */
	uint64_t archived;              /* records whose body is in an archive (ledger_archive) */
	uint64_t held; /* records held until the order's next checkpoint (counted) */
};

/*
 * Calls fn for each order (optionally only order_hex and/or buyer_hex), in
 * order of first record. Returns 0, or -1 on read errors.
 */
int ledger_accounts(struct ledger *l, const char *order_hex, const char *buyer_hex,
    int (*fn)(void *ctx, const struct ledger_account *a), void *ctx, char *err, size_t errlen);

/* Calls fn with each record as a JSON line {"id","leaf_hash","record"}. */
int ledger_export(struct ledger *l, int (*fn)(void *ctx, const char *line, size_t len), void *ctx,
    char *err, size_t errlen);

#endif
