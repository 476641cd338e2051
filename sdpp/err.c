/* Error descriptions and the wire names of SDPP error codes. */
#include <string.h>

#include "sdpp/err.h"

static const struct {
	const char *code; /* wire name; NULL for local-only codes */
	const char *text;
} errtab[SDPP_E__COUNT] = {
	[SDPP_OK] = { NULL, "success" },
	[SDPP_E_AGAIN] = { NULL, "need more input" },
	[SDPP_E_NOMEM] = { NULL, "out of memory" },
	[SDPP_E_INVAL] = { NULL, "invalid argument" },
	[SDPP_E_CRYPTO] = { NULL, "cryptographic operation failed" },
	[SDPP_E_KEY_FORMAT] = { NULL, "unusable key data" },
	[SDPP_E_FRAME_TOO_LARGE] = { "frame_too_large", "frame exceeds the size limit" },
	[SDPP_E_BAD_JSON] = { "bad_json", "malformed JSON or UTF-8" },
	[SDPP_E_BAD_NUMBER] = { "bad_number", "number is not an integer within +-(2^53-1)" },
	[SDPP_E_BAD_MESSAGE] = { "bad_message", "message is missing a field or has a bad value" },
	[SDPP_E_UNKNOWN_TYPE] = { "unknown_type", "unknown message_type" },
	[SDPP_E_UNEXPECTED] = { "unexpected_message", "message not allowed in this state" },
	[SDPP_E_VERSION] = { "unsupported_version", "unsupported protocol version" },
	[SDPP_E_SIGNATURE] = { "bad_signature", "signature does not verify" },
	[SDPP_E_UNKNOWN_PRODUCT] = { "unknown_product", "no such product on the menu" },
	[SDPP_E_PRICE] = { "price_mismatch", "price differs from the menu" },
	[SDPP_E_CURRENCY] = { "bad_currency", "currency not accepted" },
	[SDPP_E_QUANTITY] = { "bad_quantity", "quantity out of range" },
	[SDPP_E_ORDER_ID] = { "bad_order_id", "message names another order" },
	[SDPP_E_SEQUENCE] = { "bad_sequence", "sequence number out of order" },
	[SDPP_E_DECRYPT] = { "bad_ciphertext", "decryption failed" },
	[SDPP_E_DIGEST] = { "bad_digest", "receipt digest does not match" },
	[SDPP_E_INVOICE] = { "bad_invoice", "invoice does not add up" },
	[SDPP_E_PAYMENT] = { "payment_insufficient", "payment is less than the amount due" },
	[SDPP_E_PAYMENT_REJECTED] = { "payment_rejected", "payment was not accepted" },
	[SDPP_E_OVERFLOW] = { "amount_overflow", "amount exceeds 2^64-1" },
	[SDPP_E_HANDSHAKE_TIMEOUT] = { "handshake_timeout", "no order in time" },
	[SDPP_E_ACK_TIMEOUT] = { "ack_timeout", "items not acknowledged in time" },
	[SDPP_E_PAYMENT_TIMEOUT] = { "payment_timeout", "invoice not paid in time" },
	[SDPP_E_IDLE_TIMEOUT] = { "idle_timeout", "peer silent for too long" },
	[SDPP_E_BUSY] = { "busy", "too many buyers, try later" },
	[SDPP_E_SHUTDOWN] = { "shutting_down", "seller is shutting down" },
	[SDPP_E_INTERNAL] = { "internal", "internal error" },
	[SDPP_E_BUDGET] = { "over_budget", "amount exceeds the buyer's budget" },
	[SDPP_E_REMOTE] = { NULL, "peer reported an error" },
	[SDPP_E_TOPIC] = { "bad_topic", "topic is not within the product's" },
	[SDPP_E_NOT_ALLOWED] = { "not_allowed", "this buyer key may not buy here" },
	[SDPP_E_TOO_MANY_CONNS] = { "too_many_connections",
	    "too many connections from this address" },
	[SDPP_E_RATE_LIMITED] = { "rate_limited", "new connections from this address too fast" },
	[SDPP_E_UNKNOWN_ORDER] = { "unknown_order", "no such order is open for resume" },
	[SDPP_E_STALE_RESUME] = { "stale_resume", "resume older than one already seen" },
	[SDPP_E_RESUME_TIMEOUT] = { NULL, "order not resumed in time" },
};

const char *
sdpp_strerror(enum sdpp_err e)
{
	if ((unsigned)e >= SDPP_E__COUNT || errtab[e].text == NULL)
		return "unknown error";
	return errtab[e].text;
}

const char *
sdpp_err_code(enum sdpp_err e)
{
	if ((unsigned)e >= SDPP_E__COUNT || errtab[e].code == NULL)
		return "internal";
	return errtab[e].code;
}

enum sdpp_err
sdpp_err_from_code(const char *code)
{
	int i;

	for (i = 0; i < SDPP_E__COUNT; i++)
		if (errtab[i].code != NULL && strcmp(errtab[i].code, code) == 0)
			return (enum sdpp_err)i;
	return SDPP_E_INTERNAL;
}
