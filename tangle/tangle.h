/* The IOTA client on a libevent loop: HTTP over libcurl multi, JSON-RPC, our transactions. */
#ifndef TANGLE_TANGLE_H
#define TANGLE_TANGLE_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <event2/event.h>

#include "iota/iota.h"
#include "iota/rpc.h"
#include "sdpp/crypto.h"

#define TANGLE_ERR_MAX 512

/* ------------------------------------------------------------------ http */

/*
 * Asynchronous HTTP POST driven by an event_base: curl's sockets and
 * timer become libevent events, so nothing ever blocks the loop. The
 * caller must have run curl_global_init() once.
 */
struct tangle_http;

/* ok: a response arrived (any status); else error says why (connect
 * refused, timeout, response over the cap, ...). body is NUL-terminated
 * and borrowed for the call. */
typedef void (*tangle_http_fn)(
    void *arg, int ok, long status, const char *body, size_t len, const char *error);

struct tangle_http *tangle_http_new(struct event_base *base);
/* Cancels every transfer (their callbacks are not called) and frees.
 * Never call it from a callback. */
void tangle_http_free(struct tangle_http *h);
/* POSTs body (copied) as application/json. Returns 0, or -1 if the
 * transfer could not even start (cb is then never called). */
int tangle_http_post(struct tangle_http *h, const char *url, const char *body, long timeout_ms,
    tangle_http_fn cb, void *arg);
/* Transfers in flight. */
size_t tangle_http_active(const struct tangle_http *h);

/* ---------------------------------------------------------------- client */

struct tangle_config {
	enum iota_network network;
	const char *url;        /* JSON-RPC endpoint; NULL: the network's public one */
	const char *faucet_url; /* NULL: the network's faucet (testnet, devnet) */
	long timeout_ms;        /* per HTTP attempt (0: 10 s) */
	unsigned retries;       /* extra attempts after a transport failure (0: none) */
	uint64_t max_budget;    /* refuse a transaction whose gas budget is higher (0: 0.05 IOTA) */
	/* Signs what submit_pay/submit_notarize send; its Ed25519 key is the
	 * IOTA account. Borrowed; NULL for a read-only client. */
	const struct sdpp_identity *signer;
};

/* The public endpoints (static strings). */
const char *tangle_default_url(enum iota_network net);
const char *tangle_default_faucet(enum iota_network net); /* NULL on mainnet */

enum tangle_status {
	TANGLE_OK = 0,
	TANGLE_E_NET,       /* transport: connect, timeout, HTTP status; worth retrying */
	TANGLE_E_RPC,       /* the node refused the request (code in the reply) */
	TANGLE_E_BAD,       /* the node's answer makes no sense to us */
	TANGLE_E_FAILED,    /* the transaction executed and failed on chain (gas was spent) */
	TANGLE_E_REFUSED,   /* we refused: not enough balance, budget over the cap, ... */
	TANGLE_E_CANCELLED, /* tangle_free() while it waited or ran */
};

struct tangle_reply {
	enum tangle_status status;
	long code;                  /* TANGLE_E_RPC: the JSON-RPC error code */
	const cJSON *result;        /* TANGLE_OK: the JSON-RPC result (borrowed) */
	char error[TANGLE_ERR_MAX]; /* why, for anything but TANGLE_OK */
};

typedef void (*tangle_call_fn)(void *arg, const struct tangle_reply *r);

struct tangle;

int tangle_new(struct tangle **out, struct event_base *base, const struct tangle_config *cfg,
    char *err, size_t errlen);
/* Frees the client. Transactions still queued or running are reported
 * to their callbacks as TANGLE_E_CANCELLED (a running one may still land
 * on chain; its digest is in the report if it was signed); plain calls in
 * flight are dropped without a callback. Never call it from a callback. */
void tangle_free(struct tangle *t);

/* The account: address of the signer's key. */
const uint8_t *tangle_address(const struct tangle *t);
const char *tangle_url(const struct tangle *t);

/* One JSON-RPC call; params is a JSON array text. Transport failures are
 * retried cfg->retries times with backoff (the same request body, so an
 * execute that did reach the node stays one transaction). */
int tangle_call(
    struct tangle *t, const char *method, const char *params, tangle_call_fn cb, void *arg);

/* Result of a transaction we built, signed and executed. */
struct tangle_sent {
	enum tangle_status status;
	char digest[IOTA_DIGEST_TEXT_LEN]; /* "" if it never reached the node */
	struct iota_gas_used gas;          /* as executed (or as dry-run if refused) */
	uint64_t budget;
	char error[TANGLE_ERR_MAX];
	/* The signed transaction's bytes (borrowed for the callback; NULL if
	 * it was never built): with the digest, an auditor's proof. */
	const uint8_t *tx;
	size_t txlen;
};

typedef void (*tangle_sent_fn)(void *arg, const struct tangle_sent *s);

/*
 * Transactions from the signer's account run one at a time in submission
 * order (each consumes the gas coin the next one needs): reference gas
 * price, coins, dry run for the budget (SDK formula, capped by
 * max_budget), sign, execute with effects. cb is called once.
 */
int tangle_pay(struct tangle *t, const uint8_t recipient[IOTA_ADDRESS_BYTES], uint64_t amount,
    tangle_sent_fn cb, void *arg);
/* A locked notarization of data (copied) with an optional description. */
int tangle_notarize(struct tangle *t, const uint8_t *data, size_t len, const char *description,
    tangle_sent_fn cb, void *arg);
/* Transactions waiting or running. */
size_t tangle_queued(const struct tangle *t);

/* iota_getTransactionBlock with input, effects and balance changes. */
int tangle_get_tx(struct tangle *t, const char *digest, tangle_call_fn cb, void *arg);

/* Asks the network's faucet for coins for addr. */
int tangle_faucet(
    struct tangle *t, const uint8_t addr[IOTA_ADDRESS_BYTES], tangle_call_fn cb, void *arg);

/* Runs base until *done becomes non-zero (for command-line tools). */
void tangle_wait(struct event_base *base, const int *done);

#endif
