/* SDPP message codec (sdpp/1, sdpp/2): the signed JSON envelope and the typed body of each type. */
#ifndef SDPP_MSG_H
#define SDPP_MSG_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "crypto.h"
#include "err.h"
#include "treehead.h"

/* The versions a hello may name. sdpp/2 is sdpp/1 with more members (the
 * menu product's topic, field, device class and rate tier, the order's
 * topic) and menus of up to SDPP_PRODUCTS_MAX products: docs/PROTOCOL.md,
 * "Version 2". Everything else, the signature context included, is shared. */
#define SDPP_VERSION "sdpp/1"
#define SDPP_VERSION_2 "sdpp/2"
/* Signature input = SDPP_SIG_CONTEXT (7 bytes, with its NUL) || JCS(envelope
 * without "signature"). The context keeps an SDPP signature from being valid
 * for any other protocol that signs JSON with the same key. */
#define SDPP_SIG_CONTEXT "sdpp/1"
#define SDPP_SIG_CONTEXT_LEN 7

/* Field limits (bytes of UTF-8, without NUL). */
#define SDPP_NAME_MAX 64 /* product id, gateway name */
#define SDPP_CURRENCY_MAX 16
#define SDPP_UNIT_MAX 32
#define SDPP_TEXT_MAX 256    /* descriptions, error messages */
#define SDPP_ADDRESS_MAX 128 /* payment addresses */
#define SDPP_VERIFICATION_MAX 256
#define SDPP_METHOD_MAX 16
#define SDPP_TOPIC_MAX 1024            /* MQTT topic in a data item */
#define SDPP_PRODUCTS_MAX 4096         /* menu products in sdpp/2 */
#define SDPP_PRODUCTS_MAX_V1 256       /* menu products in sdpp/1 */
#define SDPP_FIELD_MAX 256             /* product field: an RFC 6901 pointer */
#define SDPP_DEVICE_CLASS_MAX 64       /* product device_class */
#define SDPP_DEADBAND_MAX 32           /* product deadband: a decimal number as text */
#define SDPP_PAYLOAD_MAX (256u * 1024) /* decoded sample payload */

#define SDPP_ORDER_ID_BYTES 32 /* SHA-256 of the signed order */
#define SDPP_ORDER_NONCE_BYTES 16
#define SDPP_NONCE_PREFIX_BYTES 4
#define SDPP_DIGEST_BYTES 32

enum sdpp_type {
	SDPP_T_NONE = 0,
	SDPP_T_HELLO,
	SDPP_T_MENU,
	SDPP_T_ORDER,
	SDPP_T_SESSION_KEY,
	SDPP_T_DATA,
	SDPP_T_DATA_INVOICE,
	SDPP_T_ACK,
	SDPP_T_PAYMENT_ACK,
	SDPP_T_EXIT,
	SDPP_T_ERROR,
	SDPP_T_ANCHOR,
	SDPP_T_RESUME,  /* sdpp/2: buyer, first frame of a new connection */
	SDPP_T_RESUMED, /* sdpp/2: seller's answer to an accepted resume */
	SDPP_T__COUNT
};

/* Who sent a message: each side accepts only the other side's types. */
enum sdpp_role { SDPP_ROLE_BUYER, SDPP_ROLE_SELLER };

const char *sdpp_type_name(enum sdpp_type t);

struct sdpp_hello {
	char version[SDPP_NAME_MAX + 1];
};

struct sdpp_product {
	char id[SDPP_NAME_MAX + 1];
	uint64_t price; /* per item, base units */
	char unit[SDPP_UNIT_MAX + 1];
	char description[SDPP_TEXT_MAX + 1];
	int64_t last_seen; /* ms since the epoch of the latest sample; 0 = never */
	int prepay;        /* 1: each block of K items is paid before it is sent */
	/* sdpp/2 only (an sdpp/1 menu neither sends nor reads them). */
	char topic[SDPP_TOPIC_MAX + 1]; /* MQTT filter the samples come from */
	char field[SDPP_FIELD_MAX + 1]; /* "" the whole payload, else the pointer sold */
	char device_class[SDPP_DEVICE_CLASS_MAX + 1]; /* "" or e.g. "temperature" */
	uint64_t min_interval; /* ms between items per source topic; 0 = every sample */
	int on_change;         /* 1: an item only when the value changed */
	char deadband[SDPP_DEADBAND_MAX + 1]; /* with on_change: "" exact, else by more than */
};

struct sdpp_menu {
	char version[SDPP_NAME_MAX + 1];
	uint8_t seller[SDPP_SIGN_PUBLIC_BYTES];
	char gateway[SDPP_NAME_MAX + 1];
	char currency[SDPP_CURRENCY_MAX + 1];
	char payment_method[SDPP_METHOD_MAX + 1]; /* "voucher" or "iota" */
	char payment_address[SDPP_ADDRESS_MAX + 1];
	uint64_t granularity; /* K: an invoice every K items, >= 1 */
	uint64_t ack_every;   /* the buyer ACKs at least every this many items */
	uint64_t max_unpaid;  /* items delivered beyond those paid before a pause */
	int sign_items;       /* 1: every data item carries a seller signature */
	uint64_t max_frame;   /* seller's frame cap once an order is accepted */
	size_t nproducts;
	struct sdpp_product *products; /* owned by the message */
};

struct sdpp_order {
	char product[SDPP_NAME_MAX + 1];
	uint64_t quantity; /* items; 0 = open-ended until exit */
	uint64_t price;    /* per item, as on the menu */
	char currency[SDPP_CURRENCY_MAX + 1];
	char payment_address[SDPP_ADDRESS_MAX + 1]; /* buyer's, may be "" */
	uint8_t buyer[SDPP_SIGN_PUBLIC_BYTES];  /* signs this order and all later buyer messages */
	uint8_t enc_key[SDPP_ENC_PUBLIC_BYTES]; /* receives the sealed session key */
	uint8_t nonce[SDPP_ORDER_NONCE_BYTES];
	int64_t time; /* buyer's clock, ms since the epoch */
	/* sdpp/2 only: "" the whole product, else an MQTT filter within the
	 * product's topic (up to SDPP_TOPIC_MAX bytes); version says which
	 * member set the order has. A pointer, as data's ciphertext: malloc'd
	 * by the parser (sdpp_msg_free()), read only by the encoder (NULL is
	 * ""), so that every struct sdpp_msg is not sized by a 1 KiB filter. */
	char *topic;
	int version; /* 1 or 2 */
};

struct sdpp_session_key {
	uint8_t order_id[SDPP_ORDER_ID_BYTES];
	uint8_t sealed[SDPP_SEALED_BYTES];
	uint8_t nonce_prefix[SDPP_NONCE_PREFIX_BYTES];
};

struct sdpp_data {
	uint8_t order_id[SDPP_ORDER_ID_BYTES];
	uint64_t seq;        /* 1, 2, ... */
	uint8_t *ciphertext; /* ciphertext || tag, owned by the message */
	size_t ciphertext_len;
};

struct sdpp_invoice {
	uint8_t order_id[SDPP_ORDER_ID_BYTES];
	uint64_t number;    /* 1, 2, ... */
	uint64_t first_seq; /* items covered: first_seq..last_seq */
	uint64_t last_seq;
	uint64_t unit_price;
	uint64_t amount;    /* (last_seq - first_seq + 1) * unit_price */
	uint64_t total_due; /* cumulative over the order, this invoice included */
	char currency[SDPP_CURRENCY_MAX + 1];
	char payment_address[SDPP_ADDRESS_MAX + 1];
	uint64_t delivered;                /* items sent when the invoice was issued */
	uint8_t digest[SDPP_DIGEST_BYTES]; /* receipt chain at `delivered` */
};

struct sdpp_ack {
	uint8_t order_id[SDPP_ORDER_ID_BYTES];
	uint64_t seq;                      /* covers every item 1..seq */
	uint8_t digest[SDPP_DIGEST_BYTES]; /* receipt chain at seq */
};

struct sdpp_payment {
	uint8_t order_id[SDPP_ORDER_ID_BYTES];
	uint64_t invoice; /* number of the invoice being paid */
	uint64_t total;   /* cumulative amount authorised over the order */
};

/* exit from the buyer: the final voucher. */
struct sdpp_exit {
	uint8_t order_id[SDPP_ORDER_ID_BYTES];
	uint64_t seq;                      /* items received */
	uint8_t digest[SDPP_DIGEST_BYTES]; /* receipt chain at seq */
	uint64_t total;                    /* cumulative amount authorised */
};

/* exit from the seller: the closing statement. */
struct sdpp_statement {
	uint8_t order_id[SDPP_ORDER_ID_BYTES];
	uint64_t delivered;
	uint64_t acked;
	uint64_t total_due;
	uint64_t total_paid;
	int settled; /* total_paid >= total_due */
	/* sdpp/2 only: the seller's signed tree head of its records log, which
	 * covers the exit record `verification` names (docs/PROTOCOL.md 15.5).
	 * version says which member set the statement has: 2 with tree_head,
	 * 1 (or 0, when encoding) without. */
	struct sdpp_tree_head tree_head;
	int version;
};

/* anchor (seller): a record of this order now also stands on a remote
 * records medium, e.g. an invoice notarized on IOTA. */
#define SDPP_RECORD_MAX 64      /* a record id as verification names it */
#define SDPP_ANCHOR_REF_MAX 128 /* where it was anchored */
struct sdpp_anchor {
	uint8_t order_id[SDPP_ORDER_ID_BYTES];
	char record[SDPP_RECORD_MAX + 1];  /* e.g. "ledger:42" */
	char ref[SDPP_ANCHOR_REF_MAX + 1]; /* e.g. "iota:<transaction digest>" */
};

/* The buyer picks up its order on a new connection (PROTOCOL.md 15.6). */
struct sdpp_resume {
	uint8_t order_id[SDPP_ORDER_ID_BYTES];
	uint64_t seq;                      /* items held, 1..seq in order */
	uint8_t digest[SDPP_DIGEST_BYTES]; /* receipt chain at seq */
	uint64_t invoice;                  /* last invoice received, 0 none */
	uint64_t attempt;                  /* 1, 2, ... per order: replay guard */
};

/* The seller's answer: what follows and what it holds. */
struct sdpp_resumed {
	uint8_t order_id[SDPP_ORDER_ID_BYTES];
	uint64_t seq;     /* the resume's: items 1..seq acknowledged */
	uint64_t sent;    /* items seq+1..sent are sent again next */
	uint64_t invoice; /* invoices sent in all */
	uint64_t paid;    /* credited or being confirmed */
	uint64_t dropped; /* samples dropped while the order had no connection */
};

struct sdpp_error_body {
	char code[SDPP_NAME_MAX + 1];
	char message[SDPP_TEXT_MAX + 1];
};

/*
 * A decoded message. sdpp_msg_parse() fills it; sdpp_msg_free() releases
 * what it owns (NULL-safe). Only the union member matching `type` (and the
 * sender role) is valid.
 */
struct sdpp_msg {
	enum sdpp_type type;
	enum sdpp_role from;
	uint8_t signature[SDPP_SIGN_BYTES];
	int signed_; /* 1 if "signature" was non-empty */
	char verification[SDPP_VERIFICATION_MAX + 1];
	/* Signature input (context || JCS of the envelope without
	 * "signature"), kept for sdpp_msg_verify() and for the ledger; NULL
	 * when the message is unsigned. */
	char *signed_bytes;
	size_t signed_len;
	union {
		struct sdpp_hello hello;
		struct sdpp_menu menu;
		struct sdpp_order order;
		struct sdpp_session_key session_key;
		struct sdpp_data data;
		struct sdpp_invoice invoice;
		struct sdpp_ack ack;
		struct sdpp_payment payment;
		struct sdpp_exit exit;
		struct sdpp_statement statement;
		struct sdpp_error_body error;
		struct sdpp_anchor anchor;
		struct sdpp_resume resume;
		struct sdpp_resumed resumed;
	} u;
};

/*
 * Parses one frame (without its '\n') sent by `from`. Strict: the envelope
 * must be an object with exactly message_type, data, signature and
 * verification (strings, data an object); the body must have exactly the
 * fields of its type with the right types and ranges (docs/PROTOCOL.md).
 * A type the other side sends is SDPP_E_UNEXPECTED; an unknown one
 * SDPP_E_UNKNOWN_TYPE. Does not verify the signature (the state machine
 * knows which key to use). On error *msg is untouched; err gets a reason
 * (e.g. "order.quantity: not an integer") for the error reply.
 */
enum sdpp_err sdpp_msg_parse(struct sdpp_msg *msg, const char *frame, size_t len,
    enum sdpp_role from, char *err, size_t errlen) SDPP_WARN_UNUSED;

/* The reference parser behind sdpp_msg_parse(): strict JSON into a cJSON
 * tree, then the typed reader. sdpp_msg_parse() first tries a data frame
 * from the seller in exactly the canonical layout the seller writes and
 * leaves every other input to this one, so both accept the same frames
 * with the same results and errors (checked by the tests and fuzz_msg). */
enum sdpp_err sdpp_msg_parse_generic(struct sdpp_msg *msg, const char *frame, size_t len,
    enum sdpp_role from, char *err, size_t errlen) SDPP_WARN_UNUSED;

void sdpp_msg_free(struct sdpp_msg *msg);

/* SDPP_OK if the message carries a valid signature by v, else SDPP_E_SIGNATURE. */
enum sdpp_err sdpp_msg_verify(
    const struct sdpp_msg *msg, const struct sdpp_verifier *v) SDPP_WARN_UNUSED;

/*
 * Encodes one frame: JCS(envelope) followed by '\n', signed by `signer`
 * unless it is NULL (then "signature" is ""). The body is taken from the
 * union member of msg that matches msg->type, with msg->verification.
 * *out is malloc'd (free()), *len includes the '\n'.
 */
enum sdpp_err sdpp_msg_encode(const struct sdpp_msg *msg, const struct sdpp_identity *signer,
    char **out, size_t *len) SDPP_WARN_UNUSED;

/*
 * A data frame whose signature is left for later: the frame as
 * sdpp_msg_encode() signs it, but with the signature's place held by an
 * invalid one. sdpp_data_frame_sign() fills it in place, the same bytes as
 * sdpp_msg_encode() would write. It touches only frame and signer (read
 * only), so a host may call it on another thread: that is what it is for,
 * as per-item signatures are most of a seller's work (PROTOCOL.md 5.5).
 */
enum sdpp_err sdpp_msg_encode_data_unsigned(
    const struct sdpp_msg *msg, char **out, size_t *len) SDPP_WARN_UNUSED;
enum sdpp_err sdpp_data_frame_sign(
    char *frame, size_t len, const struct sdpp_identity *signer) SDPP_WARN_UNUSED;

/* The reference encoder behind sdpp_msg_encode(): a cJSON tree serialised
 * by sdpp_jcs_serialize_int(). sdpp_msg_encode() writes data frames
 * directly instead (most of the traffic); the two give the same bytes and
 * the same errors, which the tests and fuzz_msg check. Same ownership. */
enum sdpp_err sdpp_msg_encode_generic(const struct sdpp_msg *msg,
    const struct sdpp_identity *signer, char **out, size_t *len) SDPP_WARN_UNUSED;

/* order_id = SHA-256(signature input of the order), i.e. of the signed
 * canonical order envelope without its signature. */
enum sdpp_err sdpp_order_id(
    const struct sdpp_msg *order, uint8_t id[SDPP_ORDER_ID_BYTES]) SDPP_WARN_UNUSED;

/* The plaintext of one data item. */
struct sdpp_item {
	uint64_t seq;
	char topic[SDPP_TOPIC_MAX + 1];
	int64_t received_at;    /* gateway receive time, ms since the epoch */
	const uint8_t *payload; /* borrowed (encode) or owned (parse) */
	size_t payload_len;
};

/* JCS of {"payload","received_at","seq","topic"} into a malloc'd,
 * NUL-terminated buffer of exactly *len + 1 bytes (free()). Written
 * directly; sdpp_item_encode_generic() is the cJSON + JCS reference it
 * must match byte for byte. */
enum sdpp_err sdpp_item_encode(
    const struct sdpp_item *item, char **out, size_t *len) SDPP_WARN_UNUSED;
enum sdpp_err sdpp_item_encode_generic(
    const struct sdpp_item *item, char **out, size_t *len) SDPP_WARN_UNUSED;

/* 1 if topic can travel in an item, i.e. sdpp_item_parse() will accept it:
 * 1..SDPP_TOPIC_MAX bytes of well-formed UTF-8 without control characters
 * (C0, DEL, C1). MQTT allows some topics that fail this; drop those samples. */
int sdpp_item_topic_ok(const char *topic);

/* 1 if filter is an MQTT topic filter as sdpp/2 carries one in a product's
 * and an order's `topic` (docs/PROTOCOL.md 15.4): 1..SDPP_TOPIC_MAX bytes of
 * text (as sdpp_item_topic_ok()), levels split by '/', '+' and '#' only as
 * a whole level, '#' only as the last. Syntax only: whether an order's
 * filter is within its product's is the host's to check (it knows MQTT). */
int sdpp_topic_filter_ok(const char *filter);

/* Strict parse of a decrypted item; item->payload is malloc'd, free with
 * sdpp_item_free(). */
enum sdpp_err sdpp_item_parse(struct sdpp_item *item, const char *buf, size_t len) SDPP_WARN_UNUSED;
/* The reference (strict JSON + cJSON) parser; sdpp_item_parse() reads the
 * canonical layout directly and leaves anything else to this one. */
enum sdpp_err sdpp_item_parse_generic(
    struct sdpp_item *item, const char *buf, size_t len) SDPP_WARN_UNUSED;
void sdpp_item_free(struct sdpp_item *item);

/*
 * Receipt chain: chain_0 = SHA-256("sdpp/1 receipts" || order_id),
 * chain_n = SHA-256(chain_{n-1} || u64be(n) || ciphertext_n) where
 * ciphertext_n is the decoded ciphertext || tag of item n as sent.
 */
enum sdpp_err sdpp_chain_init(
    uint8_t chain[SDPP_DIGEST_BYTES], const uint8_t order_id[SDPP_ORDER_ID_BYTES]) SDPP_WARN_UNUSED;
enum sdpp_err sdpp_chain_next(uint8_t chain[SDPP_DIGEST_BYTES], uint64_t seq, const uint8_t *ct,
    size_t ctlen) SDPP_WARN_UNUSED;

/* Nonce = nonce_prefix || u64be(seq); AAD = order_id || u64be(seq). */
#define SDPP_DATA_AAD_BYTES (SDPP_ORDER_ID_BYTES + 8)
void sdpp_data_nonce(uint8_t nonce[SDPP_AEAD_NONCE_BYTES],
    const uint8_t prefix[SDPP_NONCE_PREFIX_BYTES], uint64_t seq);
void sdpp_data_aad(
    uint8_t aad[SDPP_DATA_AAD_BYTES], const uint8_t order_id[SDPP_ORDER_ID_BYTES], uint64_t seq);

#endif
