/* Test tool iotanode: what the files of the loopback IOTA node stand-in share. */
#ifndef TESTS_IOTANODE_IOTANODE_H
#define TESTS_IOTANODE_IOTANODE_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "iota/iota.h"
#include "sdpp/enc.h"

/*
 * What this is: enough of an IOTA Rebased full node (JSON-RPC 2.0 on POST /)
 * and of its faucet (POST /v1/gas) for integration tests to pay and notarize
 * without a network. It decodes real BCS TransactionData V1, checks gas
 * coins and signatures as a node does, and executes exactly two shapes of
 * programmable transaction, the ones iota/tx.c builds: a payment out of the
 * gas coin and a locked notarization. Test controls (standin_*) fund
 * addresses, simulate outages and read back what was recorded.
 *
 * One thread, one event loop; every piece of state lives in struct node.
 * Bound to 127.0.0.1 only.
 *
 * The files: node.c holds the state and the JSON helpers, decode.c reads
 * the transaction bytes, exec.c is the gas model and execution, rpc.c the
 * JSON-RPC methods and the faucet, main.c the HTTP server and main().
 */

#define DEFAULT_PORT 9000
#define BODY_MAX (1024 * 1024) /* bigger bodies get HTTP 413 */
#define STALL_MAX 64           /* stalled requests held; more get 503 */
#define PAGE_MAX 50            /* iotax_getCoins page size, default and max */
#define FUND_COINS_MAX 1000    /* coins one standin_fund may create */
#define CALL_NAMES_MAX 256     /* distinct method names counted in stats */
#define TX_STORE_MAX 100000    /* executed transactions kept */
#define OBJECTS_MAX 1000000    /* objects the stand-in holds */
#define DELAY_MAX_MS 600000
#define FAIL_EXECUTE_MAX 1000000
#define CURRENT_EPOCH 0

#define FAUCET_AMOUNT 10000000000ULL /* 10 IOTA */
#define GAS_PRICE_DEFAULT 1000
#define GAS_PRICE_MAX 100000          /* the stand-in's ceiling on the tx's price */
#define GAS_BUDGET_MAX 50000000000ULL /* max_tx_gas: 50 IOTA */

/*
 * The gas model: the stand-in's approximation of IOTA's.
 *  - computationCost = COMPUTATION_UNITS * gasPrice: every transaction we
 *    run falls into the smallest computation bucket (1,000 units).
 *  - storageCost = STORAGE_PER_BYTE * (bytes of every object created or
 *    mutated), an object being OBJECT_OVERHEAD bytes plus its payload (a
 *    coin: 8 bytes of balance; a notarization: its data plus its
 *    description).
 *  - storageRebate = REBATE_PERCENT % of the storage cost paid for the
 *    previous versions of the gas coins (the mutated first one and those
 *    merged into it and deleted); nonRefundableStorageFee is the rest.
 *  - computationCostBurned = computationCost.
 *  - charged = computation + storage - rebate. If that exceeds the budget
 *    the transaction fails with InsufficientGas and the whole budget is
 *    charged. If the gas coins cannot pay amount + charged it fails with
 *    InsufficientCoinBalance and only gas is charged (storage then covers
 *    the gas coin alone, as nothing else is written).
 * A real node meters Move instructions and bucketizes; the amounts differ
 * but the shape (who pays what, rebates, failure charges) is the same.
 */
#define COMPUTATION_UNITS 1000ULL
#define STORAGE_PER_BYTE 7600ULL
#define OBJECT_OVERHEAD 100ULL
#define COIN_PAYLOAD 8ULL
#define REBATE_PERCENT 99ULL

/* The node's own limits (iota-protocol-config), written out here rather
 * than taken from iota/iota.h so that a wrong limit in the code under test
 * shows. The node checks both with a strict `<'. */
#define NODE_MAX_PURE_ARGUMENT_SIZE 16384
#define NODE_MAX_GAS_PAYMENT_OBJECTS 256

/* The decoder's caps: looser than the node's limits where check_validity()
 * applies those, so that a too-large transaction decodes and is refused
 * with the node's own words. */
#define TX_GAS_MAX 512
#define TX_PURE_MAX (64 * 1024)
#define TX_INPUTS_MAX 256
#define TX_COMMANDS_MAX 256
#define TX_ARGS_MAX 256
#define TX_TYPE_ARGS_MAX 16
#define TYPE_TEXT_MAX 1024

#define COIN_TYPE "0x2::iota::IOTA"
#define COIN_TYPE_LONG                                                                             \
	"0x0000000000000000000000000000000000000000000000000000000000000002::iota::IOTA"
#define COIN_OBJECT_TYPE "0x2::coin::Coin<0x2::iota::IOTA>"

/* JSON-RPC error codes. */
#define RPC_PARSE_ERROR -32700
#define RPC_INVALID_REQUEST -32600
#define RPC_METHOD_NOT_FOUND -32601
#define RPC_INVALID_PARAMS -32602
#define RPC_INTERNAL -32603
#define RPC_TX_REJECTED -32002 /* the node's code for refused transaction inputs */

/* ------------------------------------------------------------------ state */

enum obj_kind {
	OBJ_COIN,
	OBJ_NOTARIZATION,
};

struct object {
	uint8_t id[IOTA_ADDRESS_BYTES];
	uint64_t version;
	uint8_t digest[IOTA_DIGEST_BYTES];
	uint8_t owner[IOTA_ADDRESS_BYTES];
	enum obj_kind kind;
	uint64_t balance;      /* coins */
	char *type;            /* notarizations: full Move type (owned) */
	char *data_hex;        /* notarizations: the state's bytes (owned) */
	char *description;     /* notarizations: NULL for none (owned) */
	uint64_t storage_cost; /* paid at its last write: the rebate base */
	uint8_t prev_tx[IOTA_DIGEST_BYTES];
	int deleted;
};

/* A coin as the lagging index still shows it: its state before the last
 * executed transaction, or absent (created by it). */
struct lag_coin {
	uint8_t id[IOTA_ADDRESS_BYTES];
	int created;
	uint64_t version, balance;
	uint8_t digest[IOTA_DIGEST_BYTES];
	uint8_t prev_tx[IOTA_DIGEST_BYTES];
	int deleted;
};

/* An executed transaction: the full response, filtered per request. */
struct txrec {
	uint8_t digest[IOTA_DIGEST_BYTES];
	cJSON *resp; /* owned */
};

struct pending; /* main.c */

struct node {
	struct event_base *base;
	struct evhttp *http;
	uint64_t gas_price;
	int quiet;
	int stopping;

	struct object *objs;
	size_t n_objs, cap_objs;
	struct txrec *txs;
	size_t n_txs, cap_txs;
	uint64_t supply; /* every coin's balance: sums never overflow */
	uint64_t checkpoint;
	uint64_t epoch; /* CURRENT_EPOCH: epochs never change here */

	cJSON *calls; /* {method: count} */
	size_t n_call_names;
	cJSON *notarizations; /* standin_stats */
	cJSON *payments;

	int down, stall;
	unsigned delay_ms;
	unsigned fail_execute;
	/* The next n executes are applied but their answers are lost (HTTP
	 * 503): the client cannot tell whether its transaction landed. */
	unsigned lose_execute;
	struct pending *pending; /* FIFO */
	size_t n_stalled;
	/* Index lag: a real node's coin index may trail execution, so the next
	 * index_lag iotax_getCoins answers after each execute show the coins
	 * as they were before it (lag: their state then; lag_left: answers
	 * still to give so). */
	unsigned index_lag, lag_left;
	struct lag_coin *lag;
	size_t n_lag;
};

struct rpc_err {
	int code;
	char msg[640];
};

int rpc_fail(struct rpc_err *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ------------------------------------------------------------------ decoded transactions */

enum input_kind {
	IN_PURE,
	IN_OWNED,
	IN_SHARED,
	IN_RECEIVING,
};

struct dinput {
	enum input_kind kind;
	const uint8_t *pure; /* into dtx.bytes */
	size_t pure_len;
	struct iota_object_ref ref;    /* OWNED, RECEIVING */
	struct iota_shared_ref shared; /* SHARED */
	const char *value_type;        /* set once the shape is known, for showInput */
};

struct darg {
	enum iota_arg_kind kind;
	uint16_t index, sub;
};

struct dcmd {
	enum iota_command_kind kind;
	uint8_t package[IOTA_ADDRESS_BYTES];
	char module[IOTA_IDENT_MAX + 1];
	char function[IOTA_IDENT_MAX + 1];
	char *types[TX_TYPE_ARGS_MAX]; /* owned */
	size_t n_types;
	struct darg *args; /* owned */
	size_t n_args;
	struct darg target;
};

/* TransactionData::V1 with a ProgrammableTransaction: everything a node
 * needs from the bytes. */
struct dtx {
	uint8_t *bytes; /* owned; pure inputs point into it */
	size_t len;
	struct dinput inputs[TX_INPUTS_MAX];
	size_t n_inputs;
	struct dcmd cmds[TX_COMMANDS_MAX];
	size_t n_cmds;
	uint8_t sender[IOTA_ADDRESS_BYTES];
	struct iota_object_ref gas[TX_GAS_MAX];
	size_t n_gas;
	uint8_t gas_owner[IOTA_ADDRESS_BYTES];
	uint64_t price, budget;
	int has_expiration;
	uint64_t expiration;
	uint8_t digest[IOTA_DIGEST_BYTES];
};

/* ------------------------------------------------------------------ the two shapes */

enum shape_kind {
	SHAPE_PAYMENT,
	SHAPE_NOTARIZE,
};

struct shape {
	enum shape_kind kind;
	uint64_t amount;                       /* PAYMENT */
	uint8_t recipient[IOTA_ADDRESS_BYTES]; /* PAYMENT */
	const uint8_t *data;                   /* NOTARIZE, into dtx.bytes */
	size_t data_len;
	const uint8_t *desc; /* NOTARIZE: NULL for None */
	size_t desc_len;
	uint8_t package[IOTA_ADDRESS_BYTES];
};

/* What executing a checked transaction does, before it is applied. */
struct outcome {
	int success;
	char error[512];
	uint64_t computation, storage, rebate, nonrefundable;
	uint64_t charged; /* computation + storage - rebate, or the budget */
	uint64_t spent;   /* charged plus the amount paid on success */
	uint64_t lamport; /* version of everything written */
	uint64_t gas_total, gas_after;
	uint8_t gas_digest[IOTA_DIGEST_BYTES];
	uint8_t new_id[IOTA_ADDRESS_BYTES], new_digest[IOTA_DIGEST_BYTES];
	uint64_t new_bytes;
	uint64_t prev_versions[TX_GAS_MAX];
	uint8_t prev_txs[TX_GAS_MAX][IOTA_DIGEST_BYTES];
	uint64_t clock_version;
	uint8_t clock_digest[IOTA_DIGEST_BYTES];
	uint8_t events_digest[IOTA_DIGEST_BYTES];
};

/*
 * node.c: the state and the helpers every part uses. The JSON helpers add
 * to o or return a new item (the caller owns it); addresses and digests are
 * written as a node writes them.
 */
void u64_text(char out[SDPP_MONEY_LEN], uint64_t v);
cJSON *add_u64(cJSON *o, const char *key, uint64_t v);
cJSON *add_addr(cJSON *o, const char *key, const uint8_t a[IOTA_ADDRESS_BYTES]);
cJSON *add_digest(cJSON *o, const char *key, const uint8_t d[IOTA_DIGEST_BYTES]);
cJSON *digest_json(const uint8_t d[IOTA_DIGEST_BYTES]);
cJSON *owner_json(const uint8_t a[IOTA_ADDRESS_BYTES]);
cJSON *ref_json(const uint8_t id[IOTA_ADDRESS_BYTES], uint64_t version,
    const uint8_t digest[IOTA_DIGEST_BYTES]);
cJSON *owned_ref_json(const uint8_t owner[IOTA_ADDRESS_BYTES], const uint8_t id[IOTA_ADDRESS_BYTES],
    uint64_t version, const uint8_t digest[IOTA_DIGEST_BYTES]);
/* Random bytes, or exit(1): a test tool without randomness cannot run. */
void random_bytes(uint8_t *p, size_t n);
uint64_t now_ms(void);
/* 1 for the shared Clock object 0x6. */
int is_clock(const uint8_t id[IOTA_ADDRESS_BYTES]);
/* Objects by id (NULL if unknown); a new object has a fresh random id, NULL
 * when full, and pointers into n->objs move on the next obj_new(). */
struct object *obj_find(struct node *n, const uint8_t id[IOTA_ADDRESS_BYTES]);
struct object *obj_new(struct node *n);
/* count coins of `amount` nanos for owner, their ids added to ids; 0, or -1
 * with e set. */
int mint(struct node *n, const uint8_t owner[IOTA_ADDRESS_BYTES], uint64_t amount, size_t count,
    cJSON *ids, struct rpc_err *e);
/* An executed transaction by digest, NULL if none. */
struct txrec *tx_find(struct node *n, const uint8_t digest[IOTA_DIGEST_BYTES]);

/* decode.c: the transaction bytes (taken over by the result, freed with
 * dtx_free) to a struct dtx, or NULL with e set; which of the two shapes it
 * is (0, or -1 with e set); its TransactionBlockData JSON (caller owns). */
struct dtx *dtx_decode(uint8_t *bytes, size_t len, struct rpc_err *e);
void dtx_free(struct dtx *t);
int match_shape(struct dtx *t, struct shape *s, struct rpc_err *e);
cJSON *tx_data_json(const struct dtx *t);

/* exec.c: a node's checks (0, or -1 with e set), the gas model filling o
 * (see the gas model above; forced: a failure standin_setMode asked for),
 * the answer's parts from the outcome (caller owns), and apply(): the
 * outcome made real in n (0, or -1 with e set). lag_view() is an object as
 * the lagging coin index shows it: o itself, a copy in view, or NULL. */
int check_gas(struct node *n, const struct dtx *t, struct rpc_err *e);
int check_validity(const struct dtx *t, struct rpc_err *e);
void compute(
    struct node *n, const struct dtx *t, const struct shape *s, int forced, struct outcome *o);
cJSON *effects_json(const struct dtx *t, const struct shape *s, const struct outcome *o);
cJSON *balance_changes_json(const struct dtx *t, const struct shape *s, const struct outcome *o);
cJSON *object_changes_json(const struct dtx *t, const struct shape *s, const struct outcome *o);
cJSON *events_json(const struct dtx *t, const struct shape *s, const struct outcome *o);
int apply(struct node *n, const struct dtx *t, const struct shape *s, const struct outcome *o,
    cJSON *resp, struct rpc_err *e);
const struct object *lag_view(const struct node *n, const struct object *o, struct object *view);

/* rpc.c: a request body to its reply (malloc'd text, the caller frees it),
 * *label saying how it went for the log; the faucet also sets the HTTP
 * code. peek_method() copies the body's method name, or "-". */
char *handle_rpc(struct node *n, const char *body, size_t len, char *label, size_t cap);
char *handle_faucet(
    struct node *n, const char *body, size_t len, int *code, char *label, size_t cap);
void peek_method(const char *body, size_t len, char *out, size_t cap);

/* main.c: stall switched off, the held requests handled in arrival order. */
void release_stalled(struct node *n);

#endif
