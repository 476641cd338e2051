/* Error codes of the SDPP library and their wire names (docs/PROTOCOL.md, "Error codes"). */
#ifndef SDPP_ERR_H
#define SDPP_ERR_H

#define SDPP_WARN_UNUSED __attribute__((warn_unused_result))

/*
 * Every fallible function of the library returns SDPP_OK (0) or one of these.
 * Codes that can travel in an `error` message have a wire name
 * (sdpp_err_code()); the others are local (out of memory, bad argument).
 * Append only: the numeric values appear in logs and tests.
 */
enum sdpp_err {
	SDPP_OK = 0,
	SDPP_E_AGAIN,             /* local: framer needs more bytes */
	SDPP_E_NOMEM,             /* local: allocation failed */
	SDPP_E_INVAL,             /* local: bad argument from the caller */
	SDPP_E_CRYPTO,            /* local: the crypto library failed */
	SDPP_E_KEY_FORMAT,        /* local: key file or PEM block unusable */
	SDPP_E_FRAME_TOO_LARGE,   /* frame_too_large */
	SDPP_E_BAD_JSON,          /* bad_json: not UTF-8, not JSON, duplicate key */
	SDPP_E_BAD_NUMBER,        /* bad_number: not an integer or outside +-(2^53-1) */
	SDPP_E_BAD_MESSAGE,       /* bad_message: missing field, wrong type, bad value */
	SDPP_E_UNKNOWN_TYPE,      /* unknown_type: message_type not in sdpp/1 */
	SDPP_E_UNEXPECTED,        /* unexpected_message: legal type, wrong state */
	SDPP_E_VERSION,           /* unsupported_version */
	SDPP_E_SIGNATURE,         /* bad_signature */
	SDPP_E_UNKNOWN_PRODUCT,   /* unknown_product */
	SDPP_E_PRICE,             /* price_mismatch: order price differs from menu */
	SDPP_E_CURRENCY,          /* bad_currency */
	SDPP_E_QUANTITY,          /* bad_quantity */
	SDPP_E_ORDER_ID,          /* bad_order_id: message names another order */
	SDPP_E_SEQUENCE,          /* bad_sequence: gap, reorder, ack beyond sent */
	SDPP_E_DECRYPT,           /* bad_ciphertext: AEAD authentication failed */
	SDPP_E_DIGEST,            /* bad_digest: receipt chain does not match */
	SDPP_E_INVOICE,           /* bad_invoice: amounts or range do not add up */
	SDPP_E_PAYMENT,           /* payment_insufficient: less than owed */
	SDPP_E_PAYMENT_REJECTED,  /* payment_rejected: payment backend refused */
	SDPP_E_OVERFLOW,          /* amount_overflow: money beyond 2^64-1 */
	SDPP_E_HANDSHAKE_TIMEOUT, /* handshake_timeout */
	SDPP_E_ACK_TIMEOUT,       /* ack_timeout */
	SDPP_E_PAYMENT_TIMEOUT,   /* payment_timeout */
	SDPP_E_IDLE_TIMEOUT,      /* idle_timeout */
	SDPP_E_BUSY,              /* busy: too many buyers, try later */
	SDPP_E_SHUTDOWN,          /* shutting_down */
	SDPP_E_INTERNAL,          /* internal: seller-side failure (e.g. ledger) */
	SDPP_E_BUDGET,            /* over_budget: buyer refuses to pay that much */
	SDPP_E_REMOTE,            /* local: the peer sent an `error` message */
	SDPP_E_TOPIC,             /* bad_topic: order topic not within the product's (sdpp/2) */
	SDPP_E_NOT_ALLOWED,       /* not_allowed: the buyer key may not buy here */
	SDPP_E_TOO_MANY_CONNS,    /* too_many_connections: from this address, at once */
	SDPP_E_RATE_LIMITED,      /* rate_limited: new connections from this address too fast */
	SDPP_E_UNKNOWN_ORDER,     /* unknown_order: no such order open for resume (sdpp/2) */
	SDPP_E_STALE_RESUME,      /* stale_resume: an older attempt or receipt than one seen */
	SDPP_E_RESUME_TIMEOUT,    /* local: a detached order was not resumed in time */
	SDPP_E__COUNT
};

/* Human-readable description; never NULL, static storage. */
const char *sdpp_strerror(enum sdpp_err e);

/* Wire name for the `code` field of an `error` message ("bad_json");
 * local-only codes map to "internal". Static storage. */
const char *sdpp_err_code(enum sdpp_err e);

/* Reverse of sdpp_err_code(); unknown names give SDPP_E_INTERNAL. */
enum sdpp_err sdpp_err_from_code(const char *code);

#endif
