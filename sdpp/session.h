/* The SDPP state machines, seller and buyer: (state, input, time) -> (state, output). */
#ifndef SDPP_SESSION_H
#define SDPP_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "crypto.h"
#include "err.h"
#include "msg.h"

/*
 * Both machines do no I/O and keep no globals: the caller feeds them one
 * complete frame (from the framer), a sample, a timer tick or a completion
 * of a request they made, with the current time in milliseconds, and gets
 * back in a struct sdpp_out the frames to write (in order) and events to
 * act on. Every event and pointer in it stays valid until the next call on
 * the same session or sdpp_out_clear().
 *
 * Requests: some steps need the host to do slow work first -- record an
 * order or an invoice durably, confirm a payment, pay an invoice. The
 * machine emits an event with a request id and waits; the host calls
 * sdpp_seller_complete() / sdpp_buyer_complete() when done (in any later
 * loop turn), which lets the machine send the message that depended on it.
 * This is how "recorded before it is sent" holds without blocking anything.
 *
 * Errors: a protocol violation by the peer makes the machine send an
 * `error` frame, emit SDPP_EV_CLOSE and stop; the call returns the error.
 * The host writes out the frames, then closes the connection.
 */

enum sdpp_event_type {
	SDPP_EV_NONE = 0,
	/* seller */
	SDPP_EV_ORDER,   /* msg = verified order; record it, then complete(req, id) */
	SDPP_EV_INVOICE, /* invoice = to record; complete(req, id) sends it (and frees
	                  * the invoice: read it before completing) */
	SDPP_EV_PAYMENT, /* msg = verified payment_ack; confirm and record, then complete */
	SDPP_EV_RECEIPT, /* msg = verified ack (a signed receipt); record, no completion */
	SDPP_EV_EXIT,    /* msg = verified buyer exit; record, complete sends the statement
	                  * (sdpp/2: sdpp_seller_set_tree_head() before the complete) */
	SDPP_EV_PAUSED,  /* delivery paused: unpaid items reached max_unpaid */
	SDPP_EV_RESUMED,
	SDPP_EV_DROPPED,   /* count = samples dropped because the buyer's queue was full */
	SDPP_EV_SIGN_ITEM, /* defer_item_signatures: the data frame of item `count` is
	                    * out->buf[off .. off + len) with its signature's place held;
	                    * sdpp_data_frame_sign() it (any thread) before it is written */
	SDPP_EV_RESUME,    /* msg = a `resume` (parsed, not verified) as a new connection's
	                    * first frame: the host finds the order's session and calls
	                    * sdpp_seller_resume() on it, or sdpp_seller_fail() on this one */
	/* buyer */
	SDPP_EV_MENU,    /* msg = verified menu; call sdpp_buyer_order() */
	SDPP_EV_STARTED, /* session key received: data will follow */
	SDPP_EV_ITEM,    /* item = verified, decrypted sample */
	SDPP_EV_PAY,     /* invoice = verified invoice; pay it, then complete(req, verification) */
	SDPP_EV_STATEMENT, /* msg = seller's closing statement; sdpp/2: with its tree
	                    * head (u.statement.version 2), signature checked */
	SDPP_EV_ANCHOR,    /* msg = verified anchor: one of our records, anchored remotely */
	/* both */
	SDPP_EV_REJOINED,   /* seller: msg = the accepted resume (the caller's), record it;
	                     * buyer: msg = the seller's verified `resumed` */
	SDPP_EV_PEER_ERROR, /* msg = `error` received from the peer */
	SDPP_EV_CLOSE,      /* session over (err says why, SDPP_OK for a clean end) */
};

struct sdpp_event {
	enum sdpp_event_type type;
	uint64_t req;                       /* request id for *_complete(), 0 if none */
	enum sdpp_err err;                  /* SDPP_EV_CLOSE */
	uint64_t count;                     /* SDPP_EV_DROPPED; SDPP_EV_SIGN_ITEM: seq */
	size_t off, len;                    /* SDPP_EV_SIGN_ITEM: the frame in out->buf */
	const struct sdpp_msg *msg;         /* borrowed */
	const struct sdpp_invoice *invoice; /* borrowed */
	const struct sdpp_item *item;       /* borrowed */
};

/* Frames and events produced by one call. Caps keep a confused peer from
 * making a session buffer without bound. */
#define SDPP_OUT_EVENTS_MAX 4096
struct sdpp_out {
	char *buf; /* frames, each ending in '\n' */
	size_t len;
	size_t alloc;
	size_t max; /* cap on buf, set by sdpp_out_init() */
	struct sdpp_event *ev;
	size_t nev;
	size_t evalloc;
};

void sdpp_out_init(struct sdpp_out *o, size_t max_bytes);
/* Forgets frames and events (keeps the memory). */
void sdpp_out_clear(struct sdpp_out *o);
void sdpp_out_free(struct sdpp_out *o);

/* Numbers both sides report, e.g. for logs and the ledger. */
struct sdpp_progress {
	uint64_t sent;       /* seller: items sent; buyer: items received */
	uint64_t acked;      /* highest item covered by an ACK */
	uint64_t invoiced;   /* items invoiced */
	uint64_t total_due;  /* invoiced so far, plus what the buyer's exit settled */
	uint64_t total_paid; /* cumulative amount paid (confirmed) */
	uint64_t dropped;    /* seller: samples dropped for this buyer */
	uint64_t resent;     /* seller: items sent again after an ACK timeout */
	uint64_t duplicates; /* buyer: resent items received and discarded */
	uint64_t price;      /* per item, fixed at order time */
	uint64_t quantity;   /* ordered, 0 = open-ended */
};

/* ---------------------------------------------------------------- seller */

struct sdpp_seller_config {
	const struct sdpp_identity *id; /* borrowed; outlives the session */
	/* Menu offered to this buyer; borrowed, must stay valid (and may be
	 * replaced with sdpp_seller_set_menu()) until the order is accepted,
	 * when the session copies the product and price it needs. Up to
	 * SDPP_PRODUCTS_MAX products with the sdpp/2 members filled in; its
	 * version is ignored: the session answers in the hello's version, an
	 * sdpp/1 hello with the first SDPP_PRODUCTS_MAX_V1 products. */
	const struct sdpp_menu *menu;
	uint64_t handshake_timeout_ms; /* connect -> order accepted (0: 30 s) */
	uint64_t ack_timeout_ms;       /* unacked items are resent after (0: 5 s) */
	uint32_t max_resends;          /* then ack_timeout (0: 3) */
	uint64_t payment_timeout_ms;   /* paused for payment this long -> close (0: 60 s) */
	uint64_t idle_timeout_ms;      /* order complete, no exit -> close (0: 60 s) */
	uint64_t window;               /* items sent but unacked (0: 2*ack_every, min 8) */
	size_t queue_max;              /* samples held while blocked (0: 64), oldest dropped */
	uint64_t max_quantity;         /* largest order accepted (0: 2^53-1) */
	uint64_t shutdown_grace_ms;    /* shutting down: time to pay the final invoice (0: 5 s) */
	/* An sdpp/2 order whose connection drops waits this long for its
	 * buyer's `resume` (sdpp_seller_detach()); 0: orders are not held. */
	uint64_t resume_timeout_ms;
	/* sign_items: the host signs each item's first copy off the session's
	 * thread (SDPP_EV_SIGN_ITEM), and writes nothing after it until then;
	 * 0: the session signs every item itself. */
	int defer_item_signatures;
};

struct sdpp_seller;

/* A session for one new buyer connection; free with sdpp_seller_free(). */
enum sdpp_err sdpp_seller_new(
    struct sdpp_seller **out, const struct sdpp_seller_config *cfg, uint64_t now) SDPP_WARN_UNUSED;
void sdpp_seller_free(struct sdpp_seller *s);

/* Replaces the menu for orders not yet accepted (config reload). */
void sdpp_seller_set_menu(struct sdpp_seller *s, const struct sdpp_menu *menu);

/* One frame from the buyer (without '\n'). */
enum sdpp_err sdpp_seller_input(
    struct sdpp_seller *s, const char *frame, size_t len, uint64_t now, struct sdpp_out *out);

/*
 * The buyer's signatures, checked off the session's thread: once the order
 * is accepted, sdpp_seller_verifier() is the buyer's key (NULL before; it
 * stays the same until the session is freed, and a check with it is safe on
 * any thread). A host that parsed a frame with sdpp_msg_parse() as the
 * buyer's and found sdpp_msg_verify() with that key passing hands the very
 * bytes to sdpp_seller_input_checked() with checked = 1, and the session
 * does not verify them again; with checked = 0 it verifies them itself, as
 * sdpp_seller_input() does (so a failure is reported the same way).
 */
const struct sdpp_verifier *sdpp_seller_verifier(const struct sdpp_seller *s);
enum sdpp_err sdpp_seller_input_checked(struct sdpp_seller *s, const char *frame, size_t len,
    int checked, uint64_t now, struct sdpp_out *out);

/* The framer refused a frame: answer frame_too_large and close. */
enum sdpp_err sdpp_seller_fail(
    struct sdpp_seller *s, enum sdpp_err why, const char *message, struct sdpp_out *out);

/* A live sample of this buyer's product; sent, queued or dropped. */
enum sdpp_err sdpp_seller_sample(struct sdpp_seller *s, const char *topic, const uint8_t *payload,
    size_t len, int64_t received_at, uint64_t now, struct sdpp_out *out);

/*
 * Completes request req. ok = 0 means the host could not do it (ledger
 * failure, payment not found on chain). verification is stored in the
 * `verification` field of the message that depended on it (record id or
 * transaction digest), at most SDPP_VERIFICATION_MAX bytes.
 */
enum sdpp_err sdpp_seller_complete(struct sdpp_seller *s, uint64_t req, int ok,
    const char *verification, uint64_t now, struct sdpp_out *out);

/*
 * The signed tree head of the seller's records log for the closing
 * statement of an sdpp/2 session (docs/PROTOCOL.md 15.5): set it once the
 * exit's record is durable, before sdpp_seller_complete() of the exit
 * request; it should cover that record. Copied. SDPP_E_INVAL if its size is
 * 0 or its signature is not the session key's (cfg->id). An sdpp/2 exit
 * completed (ok) without one returns SDPP_E_INVAL and changes nothing; an
 * sdpp/1 statement has no tree head and ignores it.
 */
enum sdpp_err sdpp_seller_set_tree_head(
    struct sdpp_seller *s, const struct sdpp_tree_head *th) SDPP_WARN_UNUSED;

/*
 * Tells the buyer that a record of its order (record, as an earlier
 * `verification` named it, e.g. "ledger:42") now also stands on a remote
 * records medium at ref (e.g. "iota:<digest>"): a signed `anchor`
 * message. Only while the order runs; SDPP_E_INVAL otherwise or when the
 * texts are too long.
 */
enum sdpp_err sdpp_seller_anchor(
    struct sdpp_seller *s, const char *record, const char *ref, struct sdpp_out *out);

/*
 * Resume (sdpp/2, PROTOCOL.md 15.6). sdpp_seller_resumable(): the order
 * could outlive its connection now (an sdpp/2 order streaming or exiting,
 * resume_timeout_ms set, not shutting down). sdpp_seller_detach(): its
 * connection is gone: nothing is sent, samples queue (the oldest dropped
 * and counted), the ACK timer stops, the other timers run on, and after
 * resume_timeout_ms tick() closes it with SDPP_E_RESUME_TIMEOUT (its
 * frames go nowhere: the host drops what a detached session writes). An
 * exit recorded while detached keeps its statement for the resume instead
 * of writing it; nobody resuming, tick() closes with SDPP_OK then (the
 * exit ended the order).
 */
int sdpp_seller_resumable(const struct sdpp_seller *s);
void sdpp_seller_detach(struct sdpp_seller *s, uint64_t now);
/* 1 while detached. */
int sdpp_seller_detached(const struct sdpp_seller *s);

/*
 * The buyer's resume (from SDPP_EV_RESUME of another session) for this
 * order, detached or not (a connection the seller still believes alive is
 * taken over: the host closes it without a word). Checked; if refused, the
 * code is returned with a reason in why and this session is unchanged (the
 * host answers on the new connection with sdpp_seller_fail()). If
 * accepted, out gets `resumed`, the unacknowledged items and the unpaid
 * invoices again in their order, then queued samples, and an
 * SDPP_EV_REJOINED event (msg = resume, to record): the host moves the new
 * connection to this session. That msg is the caller's resume, borrowed
 * from the session that parsed it: keep that one until the events are
 * handled. With an exit recorded while detached, out gets `resumed`, the
 * statement and SDPP_EV_CLOSE (SDPP_OK) instead.
 */
enum sdpp_err sdpp_seller_resume(struct sdpp_seller *s, const struct sdpp_msg *resume, uint64_t now,
    struct sdpp_out *out, char *why, size_t whylen);

/* Timers: resends, timeouts. Call at sdpp_seller_deadline() or later. */
enum sdpp_err sdpp_seller_tick(struct sdpp_seller *s, uint64_t now, struct sdpp_out *out);

/* Earliest time at which tick() has something to do; UINT64_MAX if none. */
uint64_t sdpp_seller_deadline(const struct sdpp_seller *s);

/* Graceful stop: invoice what was delivered and not yet invoiced; once
 * that invoice is recorded and sent, the buyer has shutdown_grace_ms to pay
 * it (or exit), then shutting_down and close. */
enum sdpp_err sdpp_seller_shutdown(struct sdpp_seller *s, uint64_t now, struct sdpp_out *out);

/* The accepted order's topic filter (sdpp/2): "" for the whole product (and
 * in every sdpp/1 session), NULL before the order. The library does not know
 * MQTT: on SDPP_EV_ORDER the host checks that the filter is within the
 * product's topic and, if not, ends the session with
 * sdpp_seller_fail(s, SDPP_E_TOPIC, message, out) (PROTOCOL.md 15.4).
 * Owned by the session. */
const char *sdpp_seller_topic(const struct sdpp_seller *s);
/* The version the buyer's hello named: 1 or 2; 0 before the hello. */
int sdpp_seller_version(const struct sdpp_seller *s);
/* Product id of the accepted order, or NULL before. */
const char *sdpp_seller_product(const struct sdpp_seller *s);
/* Order id once accepted (else NULL). */
const uint8_t *sdpp_seller_order_id(const struct sdpp_seller *s);
/* The address the buyer pays from, as its order declared ("" if none). */
const char *sdpp_seller_buyer_address(const struct sdpp_seller *s);
/* Buyer's signing key once an order is accepted (else NULL). */
const uint8_t *sdpp_seller_buyer(const struct sdpp_seller *s);
void sdpp_seller_progress(const struct sdpp_seller *s, struct sdpp_progress *p);
/* 1 once the session has ended. */
int sdpp_seller_done(const struct sdpp_seller *s);
/* 1 while an order is streaming and can take samples. */
int sdpp_seller_streaming(const struct sdpp_seller *s);

/* ----------------------------------------------------------------- buyer */

struct sdpp_buyer_config {
	const struct sdpp_identity *id;             /* borrowed */
	uint8_t seller[SDPP_SIGN_PUBLIC_BYTES];     /* pinned seller key */
	char payment_address[SDPP_ADDRESS_MAX + 1]; /* ours, for the order ("" if none) */
	uint64_t max_price;           /* refuse to order above this unit price (0: no limit) */
	uint64_t budget;              /* refuse invoices beyond this total (0: price * quantity) */
	uint64_t response_timeout_ms; /* menu, session key, statement (0: 30 s) */
	int version; /* the hello's: 0 or 2 sdpp/2, 1 sdpp/1; the menu must match */
};

struct sdpp_buyer;

enum sdpp_err sdpp_buyer_new(
    struct sdpp_buyer **out, const struct sdpp_buyer_config *cfg, uint64_t now) SDPP_WARN_UNUSED;
void sdpp_buyer_free(struct sdpp_buyer *b);

/* Sends hello. */
enum sdpp_err sdpp_buyer_start(struct sdpp_buyer *b, uint64_t now, struct sdpp_out *out);

/* After SDPP_EV_MENU: orders quantity (0 = open-ended) items of product. */
enum sdpp_err sdpp_buyer_order(struct sdpp_buyer *b, const char *product, uint64_t quantity,
    uint64_t now, struct sdpp_out *out);

/* The same, narrowed to the samples whose topic also matches the MQTT
 * filter topic (sdpp/2): NULL or "" orders the whole product. A topic in
 * an sdpp/1 session, or one that is not a filter (sdpp_topic_filter_ok()),
 * is SDPP_E_INVAL; the seller answers bad_topic if it is not within the
 * product's `topic`. */
enum sdpp_err sdpp_buyer_order_topic(struct sdpp_buyer *b, const char *product, const char *topic,
    uint64_t quantity, uint64_t now, struct sdpp_out *out);

enum sdpp_err sdpp_buyer_input(
    struct sdpp_buyer *b, const char *frame, size_t len, uint64_t now, struct sdpp_out *out);

/* Payment of request req done (ok) with verification (e.g. tx digest, "" for vouchers). */
enum sdpp_err sdpp_buyer_complete(struct sdpp_buyer *b, uint64_t req, int ok,
    const char *verification, uint64_t now, struct sdpp_out *out);

/* Stop now: send exit with the final voucher and wait for the statement. */
enum sdpp_err sdpp_buyer_exit(struct sdpp_buyer *b, uint64_t now, struct sdpp_out *out);

/*
 * Resume (sdpp/2, PROTOCOL.md 15.6): the connection dropped; on a new one,
 * before anything else, sdpp_buyer_resume() writes a signed `resume` for
 * the running order. On the seller's `resumed` (SDPP_EV_REJOINED) the
 * session sends the payments and the exit the seller lacks and goes on;
 * items held are discarded as duplicates when sent again. A payment
 * completed while disconnected or resuming is kept for then. The host
 * drops what the session writes while it has no connection.
 * sdpp_buyer_resumable(): an sdpp/2 order is streaming or exiting.
 */
int sdpp_buyer_resumable(const struct sdpp_buyer *b);
enum sdpp_err sdpp_buyer_resume(struct sdpp_buyer *b, uint64_t now, struct sdpp_out *out);

enum sdpp_err sdpp_buyer_tick(struct sdpp_buyer *b, uint64_t now, struct sdpp_out *out);
uint64_t sdpp_buyer_deadline(const struct sdpp_buyer *b);

/* The verified menu after SDPP_EV_MENU (else NULL); owned by the session. */
const struct sdpp_menu *sdpp_buyer_menu(const struct sdpp_buyer *b);
const uint8_t *sdpp_buyer_order_id(const struct sdpp_buyer *b);
/* The session's version: 1 (sdpp/1) or 2 (sdpp/2), as the config chose. */
int sdpp_buyer_version(const struct sdpp_buyer *b);
void sdpp_buyer_progress(const struct sdpp_buyer *b, struct sdpp_progress *p);
int sdpp_buyer_done(const struct sdpp_buyer *b);

#endif
