/* IOTA JSON-RPC responses read into C structs: strict, capped, no I/O (tangle/ talks). */
#ifndef IOTA_RPC_H
#define IOTA_RPC_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "iota/iota.h"

/* Largest response body we accept from a node; a page of 50 coins or a
 * transaction with its effects is a few KiB. */
#define IOTA_RPC_RESPONSE_MAX (4u * 1024 * 1024)
/* Error texts copied out of responses are cut to this. */
#define IOTA_RPC_TEXT_MAX 256
/* Coins read per page (the node's own maximum is 50). */
#define IOTA_RPC_COINS_MAX 50
/* The cursor of a coin page is an object id. */
#define IOTA_RPC_CURSOR_MAX IOTA_ADDRESS_TEXT_LEN
/* The SDK adds this many units of gas price to a dry run's computation
 * cost when it sets a budget (GAS_SAFE_OVERHEAD). */
#define IOTA_GAS_SAFE_OVERHEAD 1000

/* The only coin we deal in. */
#define IOTA_COIN_TYPE "0x2::iota::IOTA"

/* How a JSON-RPC exchange ended, as far as the body tells. */
enum iota_rpc_status {
	IOTA_RPC_OK = 0, /* a result */
	IOTA_RPC_ERROR,  /* an error object from the node: code and message */
	IOTA_RPC_BAD,    /* not a JSON-RPC 2.0 response to our request */
};

/*
 * Reads a response body to request id. On IOTA_RPC_OK *root is the parsed
 * document (free with cJSON_Delete) and *result points into it. On
 * IOTA_RPC_ERROR code and text hold the node's error; on IOTA_RPC_BAD text
 * says what is wrong. Bodies over IOTA_RPC_RESPONSE_MAX are BAD.
 */
enum iota_rpc_status iota_rpc_response(const char *body, size_t len, uint64_t id, cJSON **root,
    const cJSON **result, long *code, char text[IOTA_RPC_TEXT_MAX]);

/* A u64 written as a JSON string of decimal digits (how the node sends
 * every u64). Returns 0 or -1. */
int iota_rpc_u64(const cJSON *v, uint64_t *out) __attribute__((warn_unused_result));

/* A coin as iotax_getCoins lists it. */
struct iota_coin {
	struct iota_object_ref ref;
	uint64_t balance;
};

struct iota_coin_page {
	struct iota_coin coins[IOTA_RPC_COINS_MAX];
	size_t n;
	int has_next;
	char cursor[IOTA_RPC_CURSOR_MAX]; /* "" if none */
};

/* PaginatedCoins; coins of another type than IOTA_COIN_TYPE are skipped.
 * Returns 0, or -1 with the reason in err. */
int iota_rpc_coins(const cJSON *result, struct iota_coin_page *page, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* GasCostSummary, in nanos. */
struct iota_gas_used {
	uint64_t computation;
	uint64_t storage;
	uint64_t rebate;
	uint64_t non_refundable;
};

/* TransactionEffects: what we look at. */
struct iota_effects {
	int success;
	char error[IOTA_RPC_TEXT_MAX]; /* the failure, "" on success */
	struct iota_gas_used gas;
	uint8_t digest[IOTA_DIGEST_BYTES];
	int have_gas_object;
	struct iota_object_ref gas_object; /* the gas coin after the transaction */
};

/* Reads an effects object (the "effects" member of a response). Returns 0,
 * or -1 with the reason in err. */
int iota_rpc_effects(const cJSON *effects, struct iota_effects *e, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/*
 * What a transaction did, from iota_getTransactionBlock or
 * iota_executeTransactionBlock with effects, balance changes and (for the
 * sender) input shown.
 */
struct iota_tx_view {
	uint8_t digest[IOTA_DIGEST_BYTES];
	struct iota_effects effects;
	int have_sender;
	uint8_t sender[IOTA_ADDRESS_BYTES];
};

int iota_rpc_tx(const cJSON *result, struct iota_tx_view *v, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/*
 * Net IOTA the transaction moved to owner (an address), from balanceChanges:
 * *received is the sum of its changes when that sum is positive, else 0.
 * Returns 0, or -1 if the changes are malformed or the sum overflows.
 */
int iota_rpc_received(const cJSON *result, const uint8_t owner[IOTA_ADDRESS_BYTES],
    uint64_t *received, char *err, size_t errlen) __attribute__((warn_unused_result));

/* iotax_getBalance: totalBalance. */
int iota_rpc_balance(const cJSON *result, uint64_t *total, uint64_t *coins, char *err,
    size_t errlen) __attribute__((warn_unused_result));

/*
 * The budget the official SDK sets from a dry run: computation plus
 * IOTA_GAS_SAFE_OVERHEAD x gas price, plus storage minus rebate when that
 * is positive. Returns 0, or -1 on overflow.
 */
int iota_gas_budget(const struct iota_gas_used *g, uint64_t gas_price, uint64_t *budget)
    __attribute__((warn_unused_result));

/* 1 if an error from the node means "no such transaction (yet)". */
int iota_rpc_not_found(long code, const char *text);

#endif
